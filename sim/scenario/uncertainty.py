"""The `uncertain:` block: distributions over numeric scenario fields, checked and sampled.

Each entry maps a dotted field path (e.g. `actors.us.war_cost`) to a
distribution. Samples come from numpy/scipy distributions driven by a seeded
generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

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
    """Refuse paths that are not numeric fields, distributions with wrong parameters, and distributions whose
    samples the field would refuse (`check_reach`)."""
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
    check_reach(scenario, locations, file, error_at)


# A normal distribution is unbounded: at load time it is checked over mean +- 5 sd (its 0.00003% tails are
# left out; an ensemble of up to a million runs falls outside with a probability of about a quarter).
NORMAL_REACH_SD = 5.0
_HINT_NARROW = "narrow the distribution, or use truncnormal with low and high inside the field's range."


def reach(spec: Distribution) -> tuple[float, float]:
    """The smallest and largest value a distribution gives (a normal's: mean -+ NORMAL_REACH_SD sd).

    Not finite when its bounds are too far apart for floating point (uniform over -1e308 to 1e308) or a
    truncated normal's window, in sd from its mean, is not (sd 1e-300 over a window of 1).
    """
    if spec.dist == "choice":
        return float(min(spec.values)), float(max(spec.values))
    if spec.dist == "normal":
        return spec.mean - NORMAL_REACH_SD * spec.sd, spec.mean + NORMAL_REACH_SD * spec.sd
    low = spec.low if spec.low is not None else 0.0
    high = spec.high if spec.high is not None else 1.0
    if not math.isfinite(high - low):
        return -math.inf, math.inf
    if spec.dist == "truncnormal":
        # scipy standardises the window as (low - mean) / sd and (high - mean) / sd: both must be finite
        # (no scipy here: it costs most of a second to import, and every scenario load passes here).
        with np.errstate(all="ignore"):
            window = (np.float64(low) - spec.mean) / np.float64(spec.sd), (np.float64(high) - spec.mean) / spec.sd
        if not all(math.isfinite(float(end)) for end in window):
            return -math.inf, math.inf
    return float(low), float(high)


def field_value_problem(scenario: Scenario, path: str, value: float) -> str | None:
    """Why the scenario would refuse `value` at `path` (its schema's range and type), or None if it accepts it.

    A whole-number field (horizon) accepts only whole values, given as floats or ints."""
    from pydantic import ValidationError

    number = float(value)
    if not math.isfinite(number):
        return f"{number} is not a finite number"
    document = scenario.model_dump(mode="python")
    node: Any = document
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node
    if not isinstance(node, dict):  # e.g. battlefield.kappa in a scenario without a battlefield
        return f"the scenario has no {'.'.join(parts[:-1])} section for this field"
    current = node.get(parts[-1])
    if isinstance(current, int) and not isinstance(current, bool):
        if not number.is_integer():
            return f"the field takes whole numbers, not {number:g}"
        node[parts[-1]] = int(number)
    else:
        node[parts[-1]] = number
    try:
        Scenario.model_validate(document)
    except ValidationError as error:
        return error.errors()[0]["msg"]
    return None


def is_whole_number_field(scenario: Scenario, path: str) -> bool:
    """Whether the field at `path` holds whole numbers (an int in the scenario, such as a horizon)."""
    node: Any = scenario.model_dump(mode="python")
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return isinstance(node, int) and not isinstance(node, bool)


def check_reach(scenario: Scenario, locations: dict, file: str, error_at: Callable[..., Exception]) -> None:
    """Every sample of every distribution is finite and one its field accepts: inside the field's range,
    a whole number for a whole-number field, and min_demand never above demand."""
    ranges: dict[str, tuple[float, float]] = {}
    for path, spec in scenario.uncertain.items():
        base = ("uncertain", path)
        if is_whole_number_field(scenario, path):
            whole = spec.dist == "choice" and all(float(v).is_integer() for v in spec.values)
            if not whole:
                raise error_at(
                    locations,
                    base,
                    file,
                    f"'{path}' takes whole numbers, and a '{spec.dist}' distribution gives fractions"
                    if spec.dist != "choice"
                    else f"'{path}' takes whole numbers, and the choice holds a fraction",
                    "use `dist: choice` with whole values, e.g. values: [8, 12, 16].",
                )
        low, high = reach(spec)
        if not (math.isfinite(low) and math.isfinite(high)):
            raise error_at(
                locations,
                base,
                file,
                "the distribution's samples would not be finite numbers (its bounds are too far apart, or a "
                "truncated normal's window lies too far from its mean)",
                _HINT_NARROW,
            )
        for end in (low, high):
            problem = field_value_problem(scenario, path, end)
            if problem is not None:
                raise error_at(
                    locations,
                    base,
                    file,
                    f"the distribution reaches {end:g}, which the field refuses: {problem}",
                    _HINT_NARROW,
                )
        ranges[path] = (low, high)
    for actor_id, actor in scenario.actors.items():
        floor_path, demand_path = f"actors.{actor_id}.min_demand", f"actors.{actor_id}.demand"
        if floor_path not in ranges and demand_path not in ranges:
            continue
        floor_high = ranges.get(floor_path, (actor.min_demand, actor.min_demand))[1]
        demand_low = ranges.get(demand_path, (actor.demand, actor.demand))[0]
        if floor_high > demand_low:
            path = floor_path if floor_path in ranges else demand_path
            raise error_at(
                locations,
                ("uncertain", path),
                file,
                f"min_demand can reach {floor_high:g} while demand can be as low as {demand_low:g}; a run "
                "would have min_demand above demand, which a scenario file refuses",
                "keep every min_demand sample at or below every demand sample.",
            )


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


def scipy_law(spec: Distribution) -> tuple[str, tuple[float, ...]] | None:
    """The scipy.stats name and arguments of the law `sample` draws `spec` from (for a density: calibration's
    priors, the prior curves of its report); None for `choice`, which has no density."""
    if spec.dist == "uniform":
        return "uniform", (spec.low, spec.high - spec.low)
    if spec.dist == "normal":
        return "norm", (spec.mean, spec.sd)
    if spec.dist == "truncnormal":
        return "truncnorm", ((spec.low - spec.mean) / spec.sd, (spec.high - spec.mean) / spec.sd, spec.mean, spec.sd)
    if spec.dist == "triangular":
        return "triang", ((spec.mode - spec.low) / (spec.high - spec.low), spec.low, spec.high - spec.low)
    if spec.dist == "beta":
        low = spec.low if spec.low is not None else 0.0
        high = spec.high if spec.high is not None else 1.0
        return "beta", (spec.a, spec.b, low, high - low)
    return None
