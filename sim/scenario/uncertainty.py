"""The `uncertain:` block: distributions over numeric scenario fields, checked and sampled.

Each entry maps a dotted field path (e.g. `actors.us.war_cost`) to a
distribution. Samples come from numpy/scipy distributions driven by a seeded
generator.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from sim.scenario.params import field_target, params_from_scenario
from sim.scenario.schema import Distribution, Scenario

REQUIRED = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "truncnormal": ("mean", "sd", "low", "high"),
    "triangular": ("low", "mode", "high"),
    "beta": ("a", "b"),
    "choice": ("values",),
}


def distribution_problem(spec: Distribution) -> tuple[str, str] | None:
    """(field, message) describing what is wrong with a distribution, or None."""
    given = {
        name for name in ("low", "high", "mean", "sd", "mode", "a", "b", "values") if getattr(spec, name) is not None
    }
    needed = set(REQUIRED[spec.dist])
    for name in sorted(needed - given):
        return name, f"'{spec.dist}' needs '{name}' (it takes {', '.join(REQUIRED[spec.dist])})"
    for name in sorted(given - needed):
        if not (spec.dist == "beta" and name in ("low", "high")):
            return name, f"'{spec.dist}' does not take '{name}' (it takes {', '.join(REQUIRED[spec.dist])})"
    if spec.low is not None and spec.high is not None and not spec.low < spec.high:
        return "high", f"high ({spec.high}) must be above low ({spec.low})"
    if spec.dist == "triangular" and not spec.low <= spec.mode <= spec.high:
        return "mode", f"mode ({spec.mode}) must lie between low and high"
    if spec.dist == "choice" and not spec.values:
        return "values", "needs at least one value"
    return None


def check_uncertain(scenario: Scenario, locations: dict, file: str, error_at: Callable[..., Exception]) -> None:
    """Refuse paths that are not numeric fields and distributions with wrong parameters."""
    if not scenario.uncertain:
        return
    params = params_from_scenario(scenario)
    for path, spec in scenario.uncertain.items():
        base = ("uncertain", path)
        if field_target(params, path) is None:
            raise error_at(
                locations,
                base,
                file,
                f"'{path}' is not a numeric field of this scenario",
                "use a dotted path such as actors.us.war_cost, actors.russia.position.assad_role or battlefield.kappa.",
            )
        problem = distribution_problem(spec)
        if problem is not None:
            raise error_at(locations, (*base, problem[0]), file, problem[1])


def sample(spec: Distribution, size: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """`size` draws from one distribution."""
    # Imported here, not at the top: scipy.stats costs most of a second to import, and every scenario
    # load imports this module to check its uncertain: block.
    from scipy import stats

    if spec.dist == "uniform":
        return rng.uniform(spec.low, spec.high, size)
    if spec.dist == "normal":
        return rng.normal(spec.mean, spec.sd, size)
    if spec.dist == "truncnormal":
        a, b = (spec.low - spec.mean) / spec.sd, (spec.high - spec.mean) / spec.sd
        return stats.truncnorm.rvs(a, b, loc=spec.mean, scale=spec.sd, size=size, random_state=rng)
    if spec.dist == "triangular":
        return rng.triangular(spec.low, spec.mode, spec.high, size)
    if spec.dist == "beta":
        low = spec.low if spec.low is not None else 0.0
        high = spec.high if spec.high is not None else 1.0
        return low + (high - low) * rng.beta(spec.a, spec.b, size)
    return rng.choice(np.asarray(spec.values, dtype=np.float64), size)


def ppf(spec: Distribution, quantiles: NDArray[np.float64]) -> NDArray[np.float64]:
    """Inverse CDF: maps unit-cube samples (SALib) to field values."""
    from scipy import stats

    if spec.dist == "uniform":
        return spec.low + (spec.high - spec.low) * quantiles
    if spec.dist == "normal":
        return stats.norm.ppf(quantiles, loc=spec.mean, scale=spec.sd)
    if spec.dist == "truncnormal":
        a, b = (spec.low - spec.mean) / spec.sd, (spec.high - spec.mean) / spec.sd
        return stats.truncnorm.ppf(quantiles, a, b, loc=spec.mean, scale=spec.sd)
    if spec.dist == "triangular":
        c = (spec.mode - spec.low) / (spec.high - spec.low)
        return stats.triang.ppf(quantiles, c, loc=spec.low, scale=spec.high - spec.low)
    if spec.dist == "beta":
        low = spec.low if spec.low is not None else 0.0
        high = spec.high if spec.high is not None else 1.0
        return low + (high - low) * stats.beta.ppf(quantiles, spec.a, spec.b)
    values = np.asarray(spec.values, dtype=np.float64)
    return values[np.minimum((quantiles * len(values)).astype(int), len(values) - 1)]
