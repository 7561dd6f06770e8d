"""Global sensitivity of the outcomes to the `uncertain:` inputs, with SALib (Sobol or Morris).

The inputs are sampled on the unit cube (SALib's design) and mapped to each
field's distribution by its inverse CDF (`sim.scenario.uncertainty.ppf`); a normal
distribution is explored between its 0.1% and 99.9% quantiles so that Morris's
grid ends stay finite.

The seed is one more input of the design, `seed` ("chance"): its unit-cube coordinate picks the run's
seed (`design_seeds`), so the runs do not share one seed and the indices say how much of each output is
luck. Runs that take the seed coordinate from the same design row share their seed: in Saltelli's design
A and every AB_j but the seed's own have A's seed, so each difference f(AB_j) - f(A) moves input j alone
with the same random draws (common random numbers), and the seed's own indices measure chance. In a
Morris trajectory the seed changes only at the seed's own step.

D counts the design's inputs, the uncertain fields and the seed.

- Sobol (Saltelli 2002; Jansen 1999 estimators, as in SALib): `--samples N`
  base samples give N (D + 2) runs; first-order S_1 and total-order S_T indices
  with 95% bootstrap intervals. An estimate of S_1 below zero is noise around zero.
- Morris (1991) elementary effects with Campolongo's mu* (2007): N trajectories
  give N (D + 1) runs; mu*, mu and sigma, mu* with a 95% bootstrap interval.
  Effects are per unit of the input's quantile range, so they compare across inputs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sim import __version__
from sim.runs.batch import Batch, field_value_problem, run_seeds, run_to_parquet
from sim.runs.labels import SEED_INPUT, SEED_LABEL, field_labels, issue_words
from sim.scenario.limits import check_runs, design_runs
from sim.scenario.schema import Distribution
from sim.scenario.uncertainty import ppf

METHODS = ("sobol", "morris")
UNBOUNDED_TAIL = 0.001
MORRIS_LEVELS = 4
BOOTSTRAP_RESAMPLES = 200


class SensitivityError(ValueError):
    """A sensitivity analysis that cannot be set up (no uncertain inputs, bad method or sample size)."""


def unit_to_values(spec: Distribution, unit: np.ndarray) -> np.ndarray:
    """Field values for unit-cube coordinates: the distribution's inverse CDF (tails cut for a normal)."""
    if spec.dist == "normal":
        unit = UNBOUNDED_TAIL + (1.0 - 2.0 * UNBOUNDED_TAIL) * unit
    return ppf(spec, np.clip(unit, 0.0, 1.0))


def output_names(scenario: Any) -> dict[str, str]:
    """The outputs analysed: name -> what it measures."""
    names = {
        "deal": "deal reached (1) or not (0)",
        "time_to_deal": f"{scenario.time.step}s until the deal (the horizon when none)",
    }
    names.update(
        {f"position_{k}": f"deal on {issue_words(scenario, k)} (the last offer when no deal)" for k in scenario.issues}
    )
    names["ceasefire_held_steps"] = f"{scenario.time.step}s the ceasefire held"
    if scenario.battlefield is not None:
        names["control_end"] = "government-side control at the end"
    return names


@dataclass
class SensitivityPlan:
    """The design of a sensitivity analysis: unit-cube samples and the runs they make."""

    loaded: Any  # sim.scenario.loader.LoadedScenario
    method: str
    samples: int
    seed: int
    problem: dict[str, Any]  # its names: the uncertain fields, then SEED_INPUT
    unit: np.ndarray  # (runs, D + 1) in [0, 1]; the last column is the seed's
    inputs: dict[str, np.ndarray]
    seeds: np.ndarray  # (runs,) each run's seed, from the seed column (`design_seeds`)

    @property
    def runs(self) -> int:
        return self.unit.shape[0]


def design_inputs(scenario: Any) -> int:
    """The inputs of a scenario's design, D + 1: its uncertain fields and the seed."""
    return len(scenario.uncertain) + 1


def design_seeds(seed: int, unit_seed: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each run's seed from the design's seed column: one seed (of `run_seeds(seed, ...)`) per distinct
    (group, coordinate) pair, numbered in sorted order.

    Rows with the same coordinate in the same group share a seed; any other two rows get different seeds.
    Sobol's groups are all one (a scrambled Sobol' coordinate does not repeat by chance); a Morris trajectory
    is a group of its own, as its coordinates lie on a grid of `MORRIS_LEVELS` values that every trajectory
    shares.
    """
    keys = np.stack([np.asarray(groups, dtype=np.float64), np.asarray(unit_seed, dtype=np.float64)], axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return run_seeds(seed, first.size)[inverse.reshape(-1)]


def plan_sensitivity(loaded: Any, method: str, samples: int, seed: int | None = None) -> SensitivityPlan:
    """SALib's design for the scenario's uncertain block, mapped to field values and range-checked."""
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    scenario = loaded.scenario
    if method not in METHODS:
        raise SensitivityError(f"--method {method}: choose sobol or morris")
    if not scenario.uncertain:
        raise SensitivityError(
            f"{loaded.path}: the scenario has no uncertain: block. Hint: add one, e.g. "
            "uncertain: {actors.us.war_cost: {dist: uniform, low: 0.005, high: 0.03}}"
        )
    if samples < 2:
        raise SensitivityError("--samples must be at least 2")
    # Before SALib allocates the design: N (D + 3) or N (D + 2) rows of D + 1 values (the seed is an input),
    # exact in Python ints.
    check_runs(
        design_runs(method, samples, design_inputs(scenario)),
        f"the {method} design's runs (--samples {samples:,} with {len(scenario.uncertain)} uncertain inputs "
        "and the seed)",
    )
    seed = scenario.seed if seed is None else seed
    paths = list(scenario.uncertain)
    names = [*paths, SEED_INPUT]
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib warns when N is not a power of two; the README says why to use one
        if method == "sobol":
            unit = sobol_sample.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
        else:
            unit = morris_sample.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
    inputs = {path: unit_to_values(scenario.uncertain[path], unit[:, j]) for j, path in enumerate(paths)}
    for path, values in inputs.items():
        for end in (float(values.min()), float(values.max())):
            problem_text = field_value_problem(scenario, path, end)
            if problem_text is not None:
                raise SensitivityError(
                    f"uncertain.{path}: the distribution reaches {end:g}, which the field refuses: {problem_text}"
                )
    rows = np.arange(unit.shape[0])
    groups = np.zeros_like(rows) if method == "sobol" else rows // (len(names) + 1)  # Morris: one per trajectory
    return SensitivityPlan(
        loaded=loaded,
        method=method,
        samples=samples,
        seed=seed,
        problem=problem,
        unit=unit,
        inputs=inputs,
        seeds=design_seeds(seed, unit[:, -1], groups),
    )


def outputs_of(scenario: Any, outcomes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The analysed outputs from the runs' outcome columns."""
    steps = scenario.time.steps
    values = {
        "deal": outcomes["deal"].astype(np.float64),
        "time_to_deal": np.where(outcomes["deal_step"] >= 0, outcomes["deal_step"], steps).astype(np.float64),
    }
    values.update({f"position_{k}": outcomes[f"proposal_{k}"] for k in scenario.issues})
    values["ceasefire_held_steps"] = outcomes["ceasefire_held_steps"].astype(np.float64)
    if scenario.battlefield is not None:
        values["control_end"] = outcomes["control_end"]
    return values


def _number(value: Any) -> float | None:
    number = float(value)
    return round(number, 6) if math.isfinite(number) else None


def varies(values: np.ndarray) -> bool:
    """Whether an output varies by more than floating-point noise (relative 1e-9) across the runs."""
    if not np.all(np.isfinite(values)):
        return False
    return float(np.std(values)) > 1e-9 * (1.0 + float(np.abs(values).max()))


def analyse(plan: SensitivityPlan, outputs: dict[str, np.ndarray]) -> dict[str, dict[str, dict[str, float | None]]]:
    """Indices per output and input: S1, S1_conf, ST, ST_conf (Sobol) or mu, mu_star, mu_star_conf, sigma (Morris).

    An output that does not vary (beyond rounding noise, see `varies`) has every index 0: there is
    nothing to apportion.
    """
    from SALib.analyze import morris as morris_analyse
    from SALib.analyze import sobol as sobol_analyse

    keys = ("S1", "S1_conf", "ST", "ST_conf") if plan.method == "sobol" else ("mu", "mu_star", "mu_star_conf", "sigma")
    indices: dict[str, dict[str, dict[str, float | None]]] = {}
    for name, y in outputs.items():
        if not varies(y):
            indices[name] = {path: dict.fromkeys(keys, 0.0) for path in plan.problem["names"]}
            continue
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")
            if plan.method == "sobol":
                result = sobol_analyse.analyze(
                    plan.problem,
                    y,
                    calc_second_order=False,
                    num_resamples=BOOTSTRAP_RESAMPLES,
                    conf_level=0.95,
                    seed=plan.seed,
                )
            else:
                result = morris_analyse.analyze(
                    plan.problem,
                    plan.unit,
                    y,
                    num_resamples=BOOTSTRAP_RESAMPLES,
                    conf_level=0.95,
                    num_levels=MORRIS_LEVELS,
                    seed=plan.seed,
                )
        indices[name] = {
            path: {key: _number(result[key][j]) for key in keys} for j, path in enumerate(plan.problem["names"])
        }
    return indices


def sensitivity_sentence(
    indices: dict[str, dict[str, dict[str, float | None]]], method: str, labels: dict[str, str] | None = None
) -> str:
    """The leading input for the deal and for the deal's timing, in one sentence (with chance's share when
    another input leads).

    Args:
        indices: `analyse`'s indices per output and input.
        method: "sobol" or "morris".
        labels: input -> label in the scenario's names (`sim.runs.labels.field_labels`); the input otherwise.
    """
    key, word = ("ST", "S_T") if method == "sobol" else ("mu_star", "mu*")
    labels = labels or {}
    parts = []
    for output, label in (("deal", "whether a deal is reached"), ("time_to_deal", "when it comes")):
        table = indices.get(output, {})
        ranked = sorted(table.items(), key=lambda item: -(item[1][key] or 0.0))
        if ranked and (ranked[0][1][key] or 0.0) > 0:
            leader, values = ranked[0]
            text = f"{label} depends most on {labels.get(leader, leader)} ({word} {values[key]:.2f}"
            chance = table.get(SEED_INPUT, {}).get(key)
            if leader != SEED_INPUT and chance:
                text += f"; chance {chance:.2f}"
            parts.append(text + ")")
        elif table:
            parts.append(f"{label} does not vary over the uncertain ranges and seeds")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:] if parts else "No output varied."


def seeding_sentence(plan: SensitivityPlan) -> str:
    """How the runs' seeds were chosen, in words (the report states it: chance is never silently fixed)."""
    distinct = int(np.unique(plan.seeds).size)
    text = (
        f"The seed is one more input of the design, {SEED_LABEL}: {distinct:,} different seeds over "
        f"{plan.runs:,} runs, drawn from seed {plan.seed}. "
    )
    if plan.method == "sobol":
        text += (
            "Runs that differ in one named input only share their seed, so each index compares runs with the "
            "same random draws; "
        )
    else:
        text += (
            "Along a trajectory the seed changes only at chance's own step, so each other step compares runs "
            "with the same random draws; "
        )
    return text + "chance's own index is how much of each output is luck."


def simulate_sensitivity(
    plan: SensitivityPlan, path: Path, executor: Any, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Run the design, streaming inputs and outputs per run into the Parquet file `path`; return the summary."""
    scenario, loaded = plan.loaded.scenario, plan.loaded
    batch = Batch(scenario, plan.seeds, plan.inputs)
    keep = ["deal", "deal_step", "ceasefire_held_steps", "control_end"] + [f"proposal_{k}" for k in scenario.issues]
    extra = {f"unit.{name}": (pa.float64(), plan.unit[:, j]) for j, name in enumerate(plan.problem["names"])}
    outcomes = run_to_parquet(batch, executor, path, keep, extra=extra, progress=progress)
    outputs = outputs_of(scenario, outcomes)
    indices = analyse(plan, outputs)
    labels = field_labels(scenario, plan.problem["names"])
    return {
        "kind": "sensitivity",
        "method": plan.method,
        "scenario": {"name": scenario.name, **loaded.provenance()},
        "seed": plan.seed,
        "seeds": {
            "input": SEED_INPUT,
            "distinct": int(np.unique(plan.seeds).size),
            "in_words": seeding_sentence(plan),
        },
        "samples": plan.samples,
        "evaluations": plan.runs,
        "uncertain": {name: spec.model_dump(exclude_none=True) for name, spec in scenario.uncertain.items()},
        "labels": labels,
        "outputs": output_names(scenario),
        "constant_outputs": [name for name, values in outputs.items() if not varies(values)],
        "indices": indices,
        "outcome": sensitivity_sentence(indices, plan.method, labels),
        "version": __version__,
    }
