"""The historical validation cases (docs/VALIDATION.md): run each one and score it against its expectation.

Each case is a scenario in `scenarios/validation/` whose expected outcome was written, and committed, before
the case was encoded or run. The expectations are data (`scenarios/validation/expectations.yaml`): per case
a list of criteria, each a statistic over the runs (the share of runs where a condition holds, or the median
of a column), optionally over a subset of the runs, with the threshold its point estimate must meet. This
module reads that file, runs the cases as the protocol says, and evaluates the criteria:

- a case is run as an ensemble over its `uncertain:` block, with the same seeds, samples and per-run
  outcomes as `python cli.py ensemble FILE --runs N --seed S` writes into ensemble.parquet (`ensemble_table`);
- a case may also need single runs (M1: who broke the ceasefire, which is not a runs-file column): the runs
  `python cli.py run FILE --seed s` makes, without `uncertain:` sampling, advanced together through the
  engine (`single_runs_table`; a batch member and a single run with the same seed are the same numbers);
- a share is the count of runs meeting the condition over the runs counted, with its 95% Wilson interval; a
  median is taken over the runs where the column is not null, and fails when fewer than `MIN_MEDIAN_RUNS`
  runs have a value (protocol, item 5); a share over no runs at all has no point estimate and fails too;
- a criterion passes when its point estimate meets its threshold, and a case passes when all of its scored
  criteria pass. Criteria marked `scored: false` are reported beside the case and never decide it.

A table is a mapping from column name to a list of values, one per run, None for null (as Arrow's
`to_pydict` gives it), so that the evaluator can be checked on small hand-made tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

import numpy as np
import yaml
from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError, model_validator

from sim.runs.statistics import wilson_interval
from sim.scenario.schema import StrictModel

Table = Mapping[str, Sequence[Any]]
Value = Union[StrictBool, StrictInt, StrictFloat, StrictStr]  # noqa: UP007 (pydantic reads the union)

MIN_MEDIAN_RUNS = 10  # docs/VALIDATION.md, protocol 5: a median of fewer runs fails every criterion using it
EXPECTATIONS_NAME = "expectations.yaml"


class CasesError(Exception):
    """The expectations or the cases cannot be used as written (the command exits 2)."""


# ---------------------------------------------------------------------------- the expectations file


class ColumnTest(StrictModel):
    """One test on one column: exactly one of `is_null`, `at_least`, `at_most`, `equals`, `one_of`."""

    column: str = Field(min_length=1)
    is_null: bool | None = None
    at_least: float | None = None
    at_most: float | None = None
    equals: Value | None = None
    one_of: list[Value] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_test(self) -> ColumnTest:
        given = [
            name for name in ("is_null", "at_least", "at_most", "equals", "one_of") if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                f"a test on column '{self.column}' needs exactly one of is_null, at_least, at_most, "
                f"equals, one_of (it has {', '.join(given) or 'none'})"
            )
        return self


class AnyOf(StrictModel):
    """Holds where at least one of its conditions holds."""

    any: list[Condition] = Field(min_length=1)


class AllOf(StrictModel):
    """Holds where every one of its conditions holds."""

    all: list[Condition] = Field(min_length=1)


Condition = Union[ColumnTest, AnyOf, AllOf]  # noqa: UP007
AnyOf.model_rebuild()
AllOf.model_rebuild()


class Criterion(StrictModel):
    """One item of a case's expectation: a statistic over the runs and the threshold it must meet."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    statistic: Literal["share", "median"]
    where: Condition | None = None  # share: the runs that meet it
    column: str | None = Field(None, min_length=1)  # median: the column
    among: Condition | None = None  # only these runs count
    source: Literal["ensemble", "single_runs"] = "ensemble"
    at_least: float | None = None
    at_most: float | None = None
    between: list[float] | None = Field(None, min_length=2, max_length=2)
    scored: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Criterion:
        if self.statistic == "share" and (self.where is None or self.column is not None):
            raise ValueError(f"criterion '{self.text}': a share needs `where` and no `column`")
        if self.statistic == "median" and (self.column is None or self.where is not None):
            raise ValueError(f"criterion '{self.text}': a median needs `column` and no `where`")
        thresholds = [name for name in ("at_least", "at_most", "between") if getattr(self, name) is not None]
        if self.scored and len(thresholds) != 1:
            raise ValueError(f"criterion '{self.text}': give exactly one of at_least, at_most, between")
        if not self.scored and thresholds:
            raise ValueError(f"criterion '{self.text}': a criterion with scored: false has no threshold")
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError(f"criterion '{self.text}': between's low is above its high")
        return self


class SingleRuns(StrictModel):
    """The seeds of a case's single runs, first to last inclusive."""

    first_seed: int = Field(ge=0)
    last_seed: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> SingleRuns:
        if self.last_seed < self.first_seed:
            raise ValueError("single_runs: last_seed is below first_seed")
        return self

    @property
    def seeds(self) -> list[int]:
        return list(range(self.first_seed, self.last_seed + 1))


class Case(StrictModel):
    """A validation case: its id, its scenario file (relative to the expectations file) and its criteria."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    file: str = Field(min_length=1)
    single_runs: SingleRuns | None = None
    criteria: list[Criterion] = Field(min_length=1)

    @model_validator(mode="after")
    def _single_runs_given(self) -> Case:
        if any(c.source == "single_runs" for c in self.criteria) and self.single_runs is None:
            raise ValueError(f"case {self.id}: a criterion reads single runs but the case gives no single_runs")
        return self


class Expectations(StrictModel):
    """The whole file: the protocol's ensemble size and seed, and the cases."""

    runs: int = Field(100, ge=1)
    seed: int = Field(42, ge=0)
    cases: list[Case] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Expectations:
        ids = [case.id for case in self.cases]
        if len(set(ids)) != len(ids):
            raise ValueError("two cases share an id")
        return self


@dataclass(frozen=True)
class LoadedExpectations:
    path: Path
    expectations: Expectations

    def scenario_path(self, case: Case) -> Path:
        return self.path.parent / case.file


def load_expectations(path: Path) -> LoadedExpectations:
    """Read and check the expectations file; every case's scenario must exist, and every scenario in the
    folder must be a case (a case without its expectation would drop out of the table unseen)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CasesError(f"{path}: cannot read the expectations ({error})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CasesError(f"{path}: not valid YAML ({error})") from None
    try:
        expectations = Expectations.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '(top level)'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise CasesError(f"{path}: {problems}") from None
    loaded = LoadedExpectations(path, expectations)
    named = set()
    for case in expectations.cases:
        scenario = loaded.scenario_path(case)
        if not scenario.is_file():
            raise CasesError(f"{path}: case {case.id} names {case.file}, which is not a file in {path.parent}")
        named.add(scenario.resolve())
    strays = sorted(
        p.name for p in path.parent.glob("*.yaml") if p.resolve() != path.resolve() and p.resolve() not in named
    )
    if strays:
        raise CasesError(f"{path}: no expectation for {', '.join(strays)}; every case in the folder needs one")
    return loaded


# ---------------------------------------------------------------------------- evaluating a criterion


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _same(value: Any, expected: Any) -> bool:
    """Equality that keeps booleans, numbers and text apart (True is not 1)."""
    if value is None:
        return False
    if isinstance(expected, bool):
        return isinstance(value, (bool, np.bool_)) and bool(value) == expected
    if _is_number(expected):
        return _is_number(value) and float(value) == float(expected)
    return isinstance(value, str) and value == expected


def _column(table: Table, name: str) -> list[Any]:
    if name not in table:
        raise CasesError(f"no column '{name}' in the runs table")
    return [None if isinstance(v, float) and math.isnan(v) else v for v in table[name]]


def holds(condition: Condition, table: Table) -> np.ndarray:
    """(runs,) whether `condition` holds in each run of `table`; a test on a null value is false."""
    if isinstance(condition, AnyOf):
        return np.logical_or.reduce([holds(part, table) for part in condition.any])
    if isinstance(condition, AllOf):
        return np.logical_and.reduce([holds(part, table) for part in condition.all])
    values = _column(table, condition.column)
    if condition.is_null is not None:
        return np.array([(v is None) == condition.is_null for v in values], dtype=bool)
    if condition.at_least is not None:
        return np.array([_is_number(v) and float(v) >= condition.at_least for v in values], dtype=bool)
    if condition.at_most is not None:
        return np.array([_is_number(v) and float(v) <= condition.at_most for v in values], dtype=bool)
    if condition.equals is not None:
        return np.array([_same(v, condition.equals) for v in values], dtype=bool)
    return np.array([any(_same(v, option) for option in condition.one_of or ()) for v in values], dtype=bool)


def columns_named(criterion: Criterion) -> set[str]:
    """Every column a criterion reads."""

    def walk(condition: Condition | None) -> set[str]:
        if condition is None:
            return set()
        if isinstance(condition, AnyOf):
            return set().union(*(walk(part) for part in condition.any))
        if isinstance(condition, AllOf):
            return set().union(*(walk(part) for part in condition.all))
        return {condition.column}

    return walk(criterion.where) | walk(criterion.among) | ({criterion.column} if criterion.column else set())


@dataclass(frozen=True)
class Measurement:
    """A criterion measured on a table: the point estimate and what it rests on, and whether it passes
    (None for a criterion that is reported, not scored)."""

    criterion: Criterion
    value: float | None  # the share (0..1) or the median; None when there is no estimate
    count: int  # share: runs meeting the condition; median: runs with a value
    total: int  # share: runs counted; median: runs counted (before dropping nulls)
    ci95: tuple[float, float] | None  # share: Wilson interval
    quartiles: tuple[float, float] | None  # median: the 25th and 75th percentiles
    passed: bool | None

    def measured_text(self) -> str:
        if self.criterion.statistic == "share":
            if self.value is None:
                return "no runs to count (0 of 0)"
            low, high = self.ci95 or (0.0, 1.0)
            return f"{self.value:.1%} ({self.count}/{self.total}; 95% CI {low:.1%} to {high:.1%})"
        if self.value is None:
            return f"no median: {self.count} of {self.total} runs have a value (fewer than {MIN_MEDIAN_RUNS})"
        low, high = self.quartiles or (self.value, self.value)
        return f"{self.value:.3g} (n = {self.count}; middle half {low:.3g} to {high:.3g})"

    def threshold_text(self) -> str:
        c = self.criterion
        fmt = (lambda x: f"{x:.0%}") if c.statistic == "share" else (lambda x: f"{x:g}")
        if c.at_least is not None:
            return f">= {fmt(c.at_least)}"
        if c.at_most is not None:
            return f"<= {fmt(c.at_most)}"
        if c.between is not None:
            return f"in [{fmt(c.between[0])}, {fmt(c.between[1])}]"
        return "reported, not scored"

    @property
    def verdict(self) -> str:
        return "reported" if self.passed is None else ("pass" if self.passed else "fail")


def meets(criterion: Criterion, value: float | None) -> bool:
    """Whether a point estimate meets the criterion's threshold (False without an estimate)."""
    if value is None:
        return False
    if criterion.at_least is not None:
        return value >= criterion.at_least
    if criterion.at_most is not None:
        return value <= criterion.at_most
    if criterion.between is not None:
        return criterion.between[0] <= value <= criterion.between[1]
    return False


def evaluate(criterion: Criterion, table: Table) -> Measurement:
    """Measure one criterion on a runs table (one row per run)."""
    missing = sorted(name for name in columns_named(criterion) if name not in table)
    if missing:
        raise CasesError(f"criterion '{criterion.text}' reads {', '.join(missing)}, not a column of the runs table")
    runs = len(next(iter(table.values()))) if table else 0
    counted = holds(criterion.among, table) if criterion.among is not None else np.ones(runs, dtype=bool)
    total = int(counted.sum())
    if criterion.statistic == "share":
        hits = int((holds(criterion.where, table) & counted).sum())
        value = hits / total if total else None
        ci = wilson_interval(hits, total) if total else None
        return Measurement(
            criterion, value, hits, total, ci, None, meets(criterion, value) if criterion.scored else None
        )
    values = [v for v, keep in zip(_column(table, criterion.column), counted, strict=True) if keep and v is not None]
    numbers = np.array([float(v) for v in values], dtype=np.float64)
    if numbers.size < MIN_MEDIAN_RUNS:
        return Measurement(criterion, None, int(numbers.size), total, None, None, False if criterion.scored else None)
    value = float(np.median(numbers))
    quartiles = (float(np.quantile(numbers, 0.25)), float(np.quantile(numbers, 0.75)))
    return Measurement(
        criterion,
        value,
        int(numbers.size),
        total,
        None,
        quartiles,
        meets(criterion, value) if criterion.scored else None,
    )


@dataclass(frozen=True)
class CaseResult:
    case: Case
    runs: int
    seed: int
    single_seeds: list[int]
    measurements: list[Measurement]

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.measurements if m.passed is not None)

    @property
    def failed_items(self) -> list[str]:
        return sorted({m.criterion.id for m in self.measurements if m.passed is False})


def evaluate_case(case: Case, ensemble: Table, single: Table | None = None) -> list[Measurement]:
    """Every criterion of a case, each on the table its `source` names."""
    measurements = []
    for criterion in case.criteria:
        table = single if criterion.source == "single_runs" else ensemble
        if table is None:
            raise CasesError(f"case {case.id}: criterion '{criterion.text}' needs the single runs")
        measurements.append(evaluate(criterion, table))
    return measurements


# ---------------------------------------------------------------------------- running the cases


def ensemble_table(loaded: Any, runs: int, seed: int) -> dict[str, list[Any]]:
    """The rows `ensemble --runs runs --seed seed` writes into ensemble.parquet, in memory: the same plan
    (seeds and samples of `uncertain:`), the same chunks and the same conversion of 'none' to null."""
    import pyarrow as pa

    from sim.runs.batch import chunk_table, execute, runs_schema
    from sim.runs.distributed import InProcess
    from sim.runs.ensemble import plan_monte_carlo

    plan = plan_monte_carlo(loaded, runs, seed)
    schema = runs_schema(plan.scenario, list(plan.batch.inputs))
    tables = [chunk_table(schema, plan.batch, result) for result in execute(plan.batch, InProcess())]
    return pa.concat_tables(tables).to_pydict()


def single_runs_table(scenario: Any, seeds: Sequence[int]) -> dict[str, list[Any]]:
    """What `run --seed s` gives for each seed s, per agreement: first step, collapse step, in force at the
    end and who broke it (`summary.json`'s `agreements.<id>.broken_by`), as columns
    `agreement_<id>_first_step`, `_collapsed_step`, `_at_end`, `_broken_by`, with None for none. The runs
    use the scenario's own values (no `uncertain:` sampling), advanced together through the engine."""
    from sim.model import engine
    from sim.scenario.params import params_from_scenario

    params = params_from_scenario(scenario, runs=len(seeds))
    state = engine.initial_state(params)
    draws = np.stack([engine.draw_noise(np.random.default_rng(int(seed)), params) for seed in seeds], axis=1)
    for step in range(params.steps):
        engine.advance(params, state, step, draws[step], measure_inducement=False)
    ids = params.actor_ids
    table: dict[str, list[Any]] = {"seed": [int(seed) for seed in seeds]}
    for g, agreement in enumerate(params.agreements.ids):
        first, fell, by = state.signed_first[:, g], state.fell_first[:, g], state.fell_by[:, g]
        table[f"agreement_{agreement}_first_step"] = [int(v) if v >= 0 else None for v in first]
        table[f"agreement_{agreement}_collapsed_step"] = [int(v) if v >= 0 else None for v in fell]
        table[f"agreement_{agreement}_at_end"] = [bool(v) for v in state.in_force[:, g]]
        table[f"agreement_{agreement}_broken_by"] = [ids[int(v)] if v >= 0 else None for v in by]
    return table


def run_case(loaded_expectations: LoadedExpectations, case: Case, runs: int, seed: int) -> CaseResult:
    """Load a case's scenario (a bad one raises the loader's ScenarioError), run it and evaluate it."""
    from sim.scenario.loader import load_scenario

    loaded = load_scenario(loaded_expectations.scenario_path(case))
    ensemble = ensemble_table(loaded, runs, seed)
    seeds = case.single_runs.seeds if case.single_runs is not None else []
    single = single_runs_table(loaded.scenario, seeds) if seeds else None
    return CaseResult(case, runs, seed, seeds, evaluate_case(case, ensemble, single))
