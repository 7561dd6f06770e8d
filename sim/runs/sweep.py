"""Grid sweeps: the outcomes over a grid of values of one or more numeric fields.

`--set PATH=START:STOP:N` gives N evenly spaced values from START to STOP
(`--set PATH=V1,V2,...` lists them); several `--set` make the Cartesian grid.
Every grid point runs the same R seeds (common random numbers), so differences
between points come from the fields, not from luck; the rest of the scenario,
including any `uncertain:` field, stays at its value in the file.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sim import __version__
from sim.runs.batch import Batch, field_value_problem, run_seeds, run_to_parquet
from sim.runs.labels import field_labels
from sim.runs.statistics import mean_interval, wilson_interval
from sim.scenario.limits import MAX_GRID_POINTS, check, check_runs, product
from sim.scenario.params import field_target, params_from_scenario

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


class SweepError(ValueError):
    """A --set specification that cannot be used."""


@dataclass
class SweepPlan:
    """A grid of field values and the runs at each grid point."""

    loaded: Any  # sim.scenario.loader.LoadedScenario
    grid: dict[str, list[float]]
    runs_per_point: int
    seed: int

    @property
    def points(self) -> list[tuple[float, ...]]:
        return list(itertools.product(*self.grid.values()))

    def batch(self) -> tuple[Batch, np.ndarray]:
        """The runs of every point (point-major) and each run's point index."""
        points = np.array(self.points, dtype=np.float64).reshape(-1, len(self.grid))
        per_point = self.runs_per_point
        inputs = {path: np.repeat(points[:, j], per_point) for j, path in enumerate(self.grid)}
        seeds = np.tile(run_seeds(self.seed, per_point), len(points))
        point_index = np.repeat(np.arange(len(points), dtype=np.int64), per_point)
        return Batch(self.loaded.scenario, seeds, inputs), point_index


def parse_set(text: str) -> tuple[str, list[float]]:
    """'PATH=START:STOP:N' or 'PATH=V1,V2,...' -> (path, values)."""
    if "=" not in text:
        raise SweepError(
            f"--set {text}: expected PATH=START:STOP:N or PATH=V1,V2,... (e.g. actors.us.war_cost=0.005:0.03:6)"
        )
    path, _, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    range_match = re.fullmatch(rf"({_NUMBER}):({_NUMBER}):(\d+)", spec)
    if range_match:
        start, stop, count = float(range_match[1]), float(range_match[2]), int(range_match[3])
        if count < 1:
            raise SweepError(f"--set {text}: N must be at least 1")
        if count > MAX_GRID_POINTS:  # before linspace allocates N values
            raise SweepError(
                f"--set {text}: N would be {count:,}, more than the limit of {MAX_GRID_POINTS:,} grid points"
            )
        values = [start] if count == 1 else np.linspace(start, stop, count).tolist()
    elif re.fullmatch(rf"{_NUMBER}(?:\s*,\s*{_NUMBER})*", spec):
        values = [float(v) for v in spec.split(",")]
    else:
        raise SweepError(
            f"--set {text}: '{spec}' is neither START:STOP:N nor a list of numbers "
            "(e.g. actors.us.war_cost=0.005:0.03:6 or battlefield.kappa=0.1,0.2,0.3)"
        )
    values = [round(v, 12) for v in values]
    if len(set(values)) != len(values):  # after rounding: 0.1:0.1000000000001:3 gives three equal values
        raise SweepError(f"--set {text}: the values repeat; give distinct values (at most 12 decimals count)")
    return path, values


def plan_sweep(loaded: Any, sets: list[str], runs_per_point: int, seed: int | None = None) -> SweepPlan:
    """Check every --set against the scenario: a numeric field, values inside its allowed range."""
    if not sets:
        raise SweepError("give at least one --set PATH=START:STOP:N")
    check_runs(runs_per_point, "--runs (runs at each grid point)")
    scenario = loaded.scenario
    params = params_from_scenario(scenario)
    grid: dict[str, list[float]] = {}
    for text in sets:
        path, values = parse_set(text)
        if path in grid:
            raise SweepError(f"--set {text}: '{path}' is set twice")
        if field_target(params, path) is None:
            raise SweepError(
                f"--set {text}: '{path}' is not a numeric field of this scenario. Hint: use a dotted "
                "path such as actors.us.war_cost, actors.russia.position.assad_role or battlefield.kappa."
            )
        for value in (min(values), max(values)):
            problem = field_value_problem(scenario, path, value)
            if problem is not None:
                raise SweepError(f"--set {text}: {value:g} is outside the field's range: {problem}")
        fraction = next((value for value in values if not float(value).is_integer()), None)
        if fraction is not None and field_value_problem(scenario, path, fraction) is not None:
            raise SweepError(
                f"--set {text}: {fraction:g} is not a whole number, and '{path}' takes whole numbers "
                "(a row could not be replayed with `run`). Hint: give whole values, e.g. 6,12,18."
            )
        grid[path] = values
    points = product(len(values) for values in grid.values())  # Python ints: four ranges of 65,536 do not wrap to 0
    check("the grid's points", points, MAX_GRID_POINTS, "use fewer values.")
    check_runs(points * runs_per_point, "the sweep's runs (grid points times --runs)")
    return SweepPlan(
        loaded=loaded, grid=grid, runs_per_point=runs_per_point, seed=scenario.seed if seed is None else seed
    )


KEPT = ["deal", "deal_step", "ceasefire_collapsed_step", "control_end"]


def point_summaries(plan: SweepPlan, outcomes: dict[str, np.ndarray], point_index: np.ndarray) -> list[dict[str, Any]]:
    """Per grid point: deal and collapse probabilities (each with its Wilson 95% interval), the mean step of the
    deal (with its 95% interval), control at the end and the mean deal on each issue."""
    scenario = plan.loaded.scenario
    issues = list(scenario.issues)
    has_war = scenario.battlefield is not None
    summaries = []
    for index, values in enumerate(plan.points):
        rows = point_index == index
        deal = outcomes["deal"][rows]
        runs, deals = int(rows.sum()), int(deal.sum())
        steps = outcomes["deal_step"][rows][deal]
        low, high = wilson_interval(deals, runs)
        collapses = int((outcomes["ceasefire_collapsed_step"][rows] >= 0).sum())
        collapse_low, collapse_high = wilson_interval(collapses, runs)

        def mean(array: np.ndarray) -> float | None:
            finite = array[np.isfinite(array)]
            return round(float(finite.mean()), 6) if finite.size else None

        summaries.append(
            {
                "values": dict(zip(plan.grid, values, strict=True)),
                "runs": runs,
                "deals": deals,
                "deal_probability": round(deals / runs, 6),
                "deal_ci95": [round(low, 6), round(high, 6)],
                "time_to_deal_mean": mean(steps.astype(np.float64)),
                "time_to_deal_ci95": mean_interval(steps.astype(np.float64)),
                "time_to_deal_median": float(np.median(steps)) if steps.size else None,
                "collapses": collapses,
                "collapse_probability": round(collapses / runs, 6),
                "collapse_ci95": [round(collapse_low, 6), round(collapse_high, 6)],
                "control_end_mean": mean(outcomes["control_end"][rows]) if has_war else None,
                "deal_position_mean": {k: mean(outcomes[f"deal_{k}"][rows]) for k in issues},
            }
        )
    return summaries


def sweep_sentence(
    points: list[dict[str, Any]], grid: dict[str, list[float]], labels: dict[str, str] | None = None
) -> str:
    """The sweep's outcome in one sentence: the range of the probability of a deal over the grid (fields named
    by `labels`, path -> label, where given)."""
    labels = labels or {}

    def where(point: dict[str, Any]) -> str:
        return ", ".join(f"{labels.get(path, path)} = {value:g}" for path, value in point["values"].items())

    lowest = min(points, key=lambda p: p["deal_probability"])
    highest = max(points, key=lambda p: p["deal_probability"])
    if lowest["deal_probability"] == highest["deal_probability"]:
        return (
            f"The probability of a deal is {lowest['deal_probability']:.0%} at every one of the {len(points)} "
            "grid points."
        )
    return (
        f"Over {len(points)} grid points the probability of a deal ranges from {lowest['deal_probability']:.0%} "
        f"({where(lowest)}) to {highest['deal_probability']:.0%} ({where(highest)})."
    )


def seeding_sentence(plan: SweepPlan) -> str:
    """How the runs' seeds were chosen, in words."""
    points = len(plan.points)
    return (
        f"Every grid point runs the same {plan.runs_per_point:,} seeds (drawn from seed {plan.seed}): a difference "
        "between two points comes from the fields, not from luck, while the runs at one point differ by chance "
        f"alone; the 95% intervals are over the {plan.runs_per_point:,} runs of a point"
        + (f" ({points:,} points)." if points > 1 else ".")
    )


def simulate_sweep(
    plan: SweepPlan, path: Path, executor: Any, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Run the sweep, streaming one row per run into the Parquet file `path`; return its summary."""
    scenario, loaded = plan.loaded.scenario, plan.loaded
    batch, point_index = plan.batch()
    keep = KEPT + [f"deal_{k}" for k in scenario.issues]
    outcomes = run_to_parquet(
        batch, executor, path, keep, extra={"point": (pa.int64(), point_index)}, progress=progress
    )
    points = point_summaries(plan, outcomes, point_index)
    labels = field_labels(scenario, plan.grid)
    return {
        "kind": "sweep",
        "scenario": {"name": scenario.name, **loaded.provenance()},
        "seed": plan.seed,
        "runs_per_point": plan.runs_per_point,
        "runs": batch.runs,
        "steps": scenario.time.steps,
        "step_length": scenario.time.step,
        "seeds": {"in_words": seeding_sentence(plan)},
        "grid": plan.grid,
        "labels": labels,
        "points": points,
        "outcome": sweep_sentence(points, plan.grid, labels),
        "version": __version__,
    }
