"""Monte Carlo over a scenario: many runs advanced together, in chunks, streamed to disk.

A `Batch` is N runs of one scenario, each with its own seed and its own values
of some numeric fields (the `uncertain:` block's samples, a sweep's grid, a
sensitivity design). `execute` cuts it into chunks of runs; each chunk is one
call of `simulate_chunk`, which advances all its runs at once through
`sim.engine` (every array has a leading run axis and nothing mixes runs), so
run i of a chunk equals the single Mesa run with seed s_i and the same fields.
Chunks run here, in local processes or on a Dask cluster (`sim.distributed`)
and come back in order; their per-run outcomes are appended to a Parquet file
and their time series are folded into fixed-bin histograms, so memory does not
grow with N.

Seeds: run i's seed is word i of `SeedSequence(seed)`'s first child state (63
bits, so `python cli.py run --seed s_i` replays that run); each uncertain field
is sampled from its own child stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from sim import engine
from sim.params import Params, field_target, params_from_scenario, set_field
from sim.schema import Distribution, Scenario
from sim.uncertainty import sample

Array = NDArray[np.float64]

# A chunk costs about 0.3 s of CPU whatever its size (numpy's per-call overhead over 30 steps, most of
# it in the bargaining of the few runs still without a deal) plus about 0.45 ms per run: chunks are
# large, and an ensemble is cut into at least CHUNKS_WANTED of them so that two workers share it.
MAX_CHUNK_RUNS = 5000  # about 100 MB of arrays per worker
MIN_CHUNK_RUNS = 250
CHUNKS_WANTED = 4
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Z_95 = 1.959963984540054
# Fixed histogram ranges for the fan charts: resolution (high - low) / bins.
CONTROL_RANGE = (0.0, 1.0, 1000)
UTILITY_RANGE = (-2.0, 1.0, 3000)


# ---------------------------------------------------------------------------- seeds and samples

def run_seeds(seed: int, runs: int) -> NDArray[np.int64]:
    """Per-run seeds, reproducible from the ensemble seed: 63-bit words of SeedSequence(seed)."""
    stream = np.random.SeedSequence(seed).spawn(1)[0]
    return (stream.generate_state(runs, dtype=np.uint64) >> np.uint64(1)).astype(np.int64)


def sample_uncertain(uncertain: dict[str, Distribution], runs: int, seed: int) -> dict[str, Array]:
    """`runs` draws of every uncertain field, each field from its own stream of the ensemble seed."""
    streams = np.random.SeedSequence(seed).spawn(1 + len(uncertain))[1:]
    return {path: sample(spec, runs, np.random.default_rng(stream))
            for (path, spec), stream in zip(uncertain.items(), streams, strict=True)}


def chunk_size(runs: int) -> int:
    """Runs per chunk: depends on N only (never on the workers), so outputs do not either."""
    return int(min(MAX_CHUNK_RUNS, max(MIN_CHUNK_RUNS, math.ceil(runs / CHUNKS_WANTED))))


# ---------------------------------------------------------------------------- one chunk

@dataclass(frozen=True)
class ChunkSpec:
    """What every chunk of a batch shares: the scenario and what to record."""

    scenario: Scenario
    bands: bool = False


@dataclass(frozen=True)
class BandCounts:
    """Histogram counts per (step, bin) of one series, kept only from the first to the last bin
    used (a chunk's values span a few hundred of the thousands of bins): bins offset..offset+width-1."""

    offset: int
    counts: NDArray[np.int32]  # (steps, width)

    @classmethod
    def trimmed(cls, counts: NDArray[np.int64]) -> BandCounts:
        used = np.flatnonzero(counts.any(axis=0))
        if used.size == 0:
            return cls(0, np.zeros((counts.shape[0], 0), dtype=np.int32))
        return cls(int(used[0]), counts[:, used[0]:used[-1] + 1].astype(np.int32))

    def full(self, bins: int) -> NDArray[np.int64]:
        counts = np.zeros((self.counts.shape[0], bins), dtype=np.int64)
        counts[:, self.offset:self.offset + self.counts.shape[1]] = self.counts
        return counts


@dataclass
class ChunkResult:
    """The outcomes of one chunk of runs: columns of equal length, and optional band histograms."""

    first_run: int
    outcomes: dict[str, np.ndarray]
    bands: dict[str, BandCounts] | None = None  # series -> its histogram counts per step


def outcome_columns(scenario: Scenario) -> list[tuple[str, pa.DataType]]:
    """The per-run outcome columns (name, Arrow type), in file order."""
    issues, actors = list(scenario.issues), list(scenario.actors)
    columns: list[tuple[str, pa.DataType]] = [("deal", pa.bool_()), ("deal_step", pa.int64())]
    columns += [(f"deal_{k}", pa.float64()) for k in issues]
    columns += [(f"utility_of_deal_{a}", pa.float64()) for a in actors]
    columns += [(f"proposal_{k}", pa.float64()) for k in issues]
    columns += [(f"batna_{a}", pa.float64()) for a in actors]
    columns += [("ceasefire_held_steps", pa.int64()), ("ceasefire_collapsed_step", pa.int64()),
                ("ceasefire_at_end", pa.bool_()), ("control_end", pa.float64())]
    return columns


def band_series(scenario: Scenario) -> dict[str, tuple[float, float, int]]:
    """Time series summarised as fan charts, with their histogram ranges (low, high, bins)."""
    series = {"control": CONTROL_RANGE}
    for actor in scenario.actors:
        series[f"batna_{actor}"] = UTILITY_RANGE
        series[f"deal_value_{actor}"] = UTILITY_RANGE
    return series


def histogram_counts(values: Array, low: float, high: float, bins: int) -> NDArray[np.int64]:
    """Counts per (step, bin) of values (steps, N); values outside [low, high] land in the end bins, NaN nowhere."""
    steps = values.shape[0]
    finite = np.isfinite(values)
    index = np.clip(np.floor((np.where(finite, values, low) - low) / (high - low) * bins), 0, bins - 1).astype(np.int64)
    flat = (index + bins * np.arange(steps)[:, None])[finite]
    return np.bincount(flat, minlength=steps * bins).reshape(steps, bins)


def simulate_chunk(spec: ChunkSpec, first_run: int, seeds: NDArray[np.int64], inputs: dict[str, Array]) -> ChunkResult:
    """Advance len(seeds) runs of the scenario together; run i uses seeds[i] and inputs[path][i].

    Pure and top-level (picklable), so that any executor can run it.
    """
    scenario = spec.scenario
    n_runs = len(seeds)
    params = params_from_scenario(scenario, runs=n_runs)
    for path, values in inputs.items():
        set_field(params, path, np.asarray(values, dtype=np.float64))
    state = engine.initial_state(params)
    steps = params.steps
    # Each run's random numbers come from its own generator, exactly as in the Mesa model.
    draws = np.stack([engine.draw_noise(np.random.default_rng(int(seed)), steps) for seed in seeds], axis=1)
    series: dict[str, list[Array]] = {}
    seen = None
    for step in range(steps):
        # Inducement leverage is not among the recorded outcomes and no decision reads it.
        seen, _, _, _ = engine.advance(params, state, step, draws[step], measure_inducement=False)
        if spec.bands:
            _record_step(series, params, state, seen)
    outcomes = _outcomes(params, state, seen)
    bands = None
    if spec.bands:
        ranges = band_series(scenario)
        bands = {name: BandCounts.trimmed(histogram_counts(np.array(values), *ranges[name]))
                 for name, values in series.items()}
    return ChunkResult(first_run=first_run, outcomes=outcomes, bands=bands)


def _record_step(series: dict[str, list[Array]], params: Params, state: engine.State, seen: engine.Assessment) -> None:
    series.setdefault("control", []).append(state.control.copy() if params.has_battlefield
                                            else np.full(params.runs, np.nan))
    for i, actor in enumerate(params.actor_ids):
        series.setdefault(f"batna_{actor}", []).append(seen.batna[:, i].copy())
        series.setdefault(f"deal_value_{actor}", []).append(seen.utility_of_offer[:, i].copy())


def _outcomes(params: Params, state: engine.State, last: engine.Assessment | None) -> dict[str, np.ndarray]:
    """Per-run outcomes at the end of the runs (NaN / -1 mark 'none'; they become nulls in Parquet)."""
    deal = state.deal.copy()
    utilities = np.where(deal[:, None], params.utilities_at(np.where(deal[:, None], state.deal_outcome, 0.0)), np.nan)
    columns: dict[str, np.ndarray] = {"deal": deal, "deal_step": state.deal_step.copy()}
    for k, issue in enumerate(params.issue_ids):
        columns[f"deal_{issue}"] = np.where(deal, state.deal_outcome[:, k], np.nan)
    for i, actor in enumerate(params.actor_ids):
        columns[f"utility_of_deal_{actor}"] = utilities[:, i]
    for k, issue in enumerate(params.issue_ids):
        columns[f"proposal_{issue}"] = last.proposal[:, k].copy() if last is not None else np.full(params.runs, np.nan)
    for i, actor in enumerate(params.actor_ids):
        columns[f"batna_{actor}"] = last.batna[:, i].copy() if last is not None else np.full(params.runs, np.nan)
    columns["ceasefire_held_steps"] = state.held_steps.copy()
    columns["ceasefire_collapsed_step"] = state.collapsed_step.copy()
    columns["ceasefire_at_end"] = state.ceasefire.copy()
    columns["control_end"] = state.control.copy() if params.has_battlefield else np.full(params.runs, np.nan)
    return columns


# ---------------------------------------------------------------------------- a batch of runs

@dataclass
class Batch:
    """N runs of one scenario: per-run seeds and per-run values of some fields."""

    scenario: Scenario
    seeds: NDArray[np.int64]
    inputs: dict[str, Array] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.seeds)

    def chunks(self, size: int) -> Iterator[tuple[int, NDArray[np.int64], dict[str, Array]]]:
        for start in range(0, self.runs, size):
            stop = min(start + size, self.runs)
            yield start, self.seeds[start:stop], {path: values[start:stop] for path, values in self.inputs.items()}


def execute(batch: Batch, executor: Any, *, bands: bool = False, chunk_runs: int | None = None,
            progress: Callable[[int], None] | None = None) -> Iterator[ChunkResult]:
    """Run a batch through an executor (`sim.distributed`); yields chunk results in run order.

    `progress(n)` is called with the number of runs each finished chunk adds.
    """
    spec = executor.share(ChunkSpec(batch.scenario, bands=bands))
    size = chunk_runs or chunk_size(batch.runs)
    tasks = ((spec, start, seeds, inputs) for start, seeds, inputs in batch.chunks(size))
    for result in executor.map_in_order(simulate_chunk, tasks):
        if progress is not None:
            progress(len(next(iter(result.outcomes.values()))))
        yield result


# ---------------------------------------------------------------------------- sinks: Parquet and bands

def runs_schema(scenario: Scenario, input_paths: list[str], extra: list[tuple[str, pa.DataType]] | None = None
                ) -> pa.Schema:
    """Columns of a runs table: run, seed, any extra columns, the inputs by field path, the outcomes."""
    fields = [pa.field("run", pa.int64()), pa.field("seed", pa.int64())]
    fields += [pa.field(name, kind) for name, kind in (extra or [])]
    fields += [pa.field(path, pa.float64()) for path in input_paths]
    fields += [pa.field(name, kind) for name, kind in outcome_columns(scenario)]
    return pa.schema(fields)


def _arrow_column(values: np.ndarray, kind: pa.DataType) -> pa.Array:
    """NaN (floats) and -1 (step numbers) mean 'none': stored as nulls."""
    if pa.types.is_floating(kind):
        return pa.array(values, type=kind, mask=np.isnan(values))
    if pa.types.is_integer(kind):
        return pa.array(values, type=kind, mask=values < 0)
    return pa.array(values, type=kind)


def chunk_table(schema: pa.Schema, batch: Batch, result: ChunkResult, extra: dict[str, np.ndarray] | None = None
                ) -> pa.Table:
    """The rows of one chunk as an Arrow table of `schema`."""
    n_rows = len(result.outcomes["deal"])
    rows = slice(result.first_run, result.first_run + n_rows)
    values: dict[str, np.ndarray] = {"run": np.arange(rows.start, rows.stop, dtype=np.int64), "seed": batch.seeds[rows]}
    values.update({name: column[rows] for name, column in (extra or {}).items()})
    values.update({path: column[rows] for path, column in batch.inputs.items()})
    values.update(result.outcomes)
    arrays = []
    for item in schema:
        column = np.asarray(values[item.name])
        arrays.append(pa.array(column, type=item.type) if item.name in ("run", "seed")
                      else _arrow_column(column, item.type))
    return pa.Table.from_arrays(arrays, schema=schema)


class ParquetSink:
    """Appends chunks of runs to a Parquet file as they arrive (one row group per chunk)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self.writer = pq.ParquetWriter(str(path), schema, compression="zstd", write_statistics=True)

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table)

    def close(self) -> None:
        self.writer.close()


class Bands:
    """Fan-chart bands of time series, from histograms summed over chunks (order-free, exact counts)."""

    def __init__(self, scenario: Scenario) -> None:
        self.ranges = band_series(scenario)
        self.counts: dict[str, NDArray[np.int64]] = {}

    def add(self, counts: dict[str, BandCounts | NDArray[np.int64]]) -> None:
        """Fold in one chunk's counts (full (steps, bins) arrays or trimmed `BandCounts`)."""
        for name, table in counts.items():
            full = table.full(self.ranges[name][2]) if isinstance(table, BandCounts) else table
            self.counts[name] = self.counts[name] + full if name in self.counts else full.copy()

    def quantiles(self, name: str, levels: tuple[float, ...] = QUANTILES) -> dict[float, list[float | None]]:
        """Per step, each quantile level, interpolated inside its histogram bin (None where no values)."""
        low, high, bins = self.ranges[name]
        counts = self.counts[name]
        totals = counts.sum(axis=1)
        cumulative = np.cumsum(counts, axis=1)
        width = (high - low) / bins
        result: dict[float, list[float | None]] = {}
        for level in levels:
            target = level * totals
            index = np.array([np.searchsorted(cumulative[t], target[t], side="left") if totals[t] else 0
                              for t in range(counts.shape[0])])
            index = np.minimum(index, bins - 1)
            below = np.where(index > 0, cumulative[np.arange(len(index)), index - 1], 0)
            inside = counts[np.arange(len(index)), index]
            fraction = np.where(inside > 0, (target - below) / np.where(inside > 0, inside, 1), 0.0)
            value = low + (index + np.clip(fraction, 0.0, 1.0)) * width
            result[level] = [round(float(v), 6) if n else None for v, n in zip(value, totals, strict=True)]
        return result


def run_to_parquet(batch: Batch, executor: Any, path: Path, keep: list[str],
                   extra: dict[str, tuple[pa.DataType, np.ndarray]] | None = None,
                   progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """Run a batch, streaming every run's row into a Parquet file at `path`; return the outcome
    columns named in `keep` for all runs (for sweeps and sensitivity, whose per-run outputs are small).

    `extra` adds per-run columns (name -> (Arrow type, values)) before the inputs.
    """
    extra = extra or {}
    schema = runs_schema(batch.scenario, list(batch.inputs), [(name, kind) for name, (kind, _) in extra.items()])
    extra_values = {name: values for name, (_, values) in extra.items()}
    kept: dict[str, list[np.ndarray]] = {name: [] for name in keep}
    sink = ParquetSink(path, schema)
    try:
        for result in execute(batch, executor, progress=progress):
            sink.write(chunk_table(schema, batch, result, extra_values))
            for name in keep:
                kept[name].append(result.outcomes[name])
    finally:
        sink.close()
    return {name: np.concatenate(parts) if parts else np.array([]) for name, parts in kept.items()}


# ---------------------------------------------------------------------------- statistics

def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927): good at small n and near 0 or 1.

    centre = (p + z^2 / 2n) / (1 + z^2 / n),  half-width = z sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n).
    """
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def describe_values(values: np.ndarray, levels: tuple[float, ...] = QUANTILES) -> dict[str, float | int | None]:
    """count, mean and quantiles of the finite values (None when there are none)."""
    finite = values[np.isfinite(values)]
    summary: dict[str, float | int | None] = {"count": int(finite.size)}
    summary["mean"] = round(float(finite.mean()), 6) if finite.size else None
    for level in levels:
        summary[f"p{round(level * 100):02d}"] = round(float(np.quantile(finite, level)), 6) if finite.size else None
    return summary


def survival_curve(collapsed_step: np.ndarray, steps: int) -> list[float]:
    """S(t): share of runs whose ceasefire has not collapsed by the end of step t (-1 = never collapsed)."""
    collapsed = collapsed_step[collapsed_step >= 0]
    counts = np.bincount(collapsed, minlength=steps)[:steps]
    return [round(float(v), 6) for v in 1.0 - np.cumsum(counts) / max(len(collapsed_step), 1)]


# ---------------------------------------------------------------------------- field ranges

def field_value_problem(scenario: Scenario, path: str, value: float) -> str | None:
    """Why the scenario would refuse `value` at `path` (its schema's range), or None if it accepts it."""
    from pydantic import ValidationError

    document = scenario.model_dump(mode="python")
    node: Any = document
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node
    node[parts[-1]] = float(value)
    try:
        Scenario.model_validate(document)
    except ValidationError as error:
        return error.errors()[0]["msg"]
    return None


def support_ends(spec: Distribution, samples: Array) -> tuple[float, float]:
    """The smallest and largest value a distribution can give (its samples' range if unbounded)."""
    if spec.dist == "choice":
        return float(min(spec.values)), float(max(spec.values))
    if spec.dist == "normal":
        return float(samples.min()), float(samples.max())
    if spec.dist == "beta":
        return (spec.low if spec.low is not None else 0.0), (spec.high if spec.high is not None else 1.0)
    return float(spec.low), float(spec.high)


# ---------------------------------------------------------------------------- Monte Carlo

@dataclass
class MonteCarlo:
    """A Monte Carlo ensemble of a loaded scenario: plan it, run it into a Parquet file, summarise it."""

    loaded: Any  # sim.loader.LoadedScenario
    runs: int
    seed: int
    batch: Batch
    bands: Bands
    parquet_path: Path | None = None
    notes: list[str] = field(default_factory=list)  # things worth telling the user before the runs

    @property
    def scenario(self) -> Scenario:
        return self.loaded.scenario

    def simulate_to(self, path: Path, executor: Any, progress: Callable[[int], None] | None = None) -> None:
        """Run every chunk and stream its rows into `path`; fold the time series into the bands."""
        schema = runs_schema(self.scenario, list(self.batch.inputs))
        sink = ParquetSink(path, schema)
        try:
            for result in execute(self.batch, executor, bands=True, progress=progress):
                sink.write(chunk_table(schema, self.batch, result))
                self.bands.add(result.bands or {})
        finally:
            sink.close()
        self.parquet_path = Path(path)

    def summary(self) -> dict[str, Any]:
        """The ensemble's summary.json (needs `simulate_to` first)."""
        if self.parquet_path is None:
            raise RuntimeError("simulate_to must run first")
        return ensemble_summary(self, read_outcomes(self.parquet_path, self.scenario))


def read_outcomes(path: Path, scenario: Scenario) -> pa.Table:
    """The outcome columns of a runs file that the summary and the report use (not the inputs)."""
    wanted = [name for name, _ in outcome_columns(scenario) if not name.startswith("proposal_")]
    return pq.read_table(path, columns=wanted)


def plan_monte_carlo(loaded: Any, runs: int, seed: int | None = None) -> MonteCarlo:
    """Seeds and samples of every run; refuses samples outside a field's allowed range."""
    from sim.loader import ScenarioError, locate

    scenario = loaded.scenario
    seed = scenario.seed if seed is None else seed
    inputs = sample_uncertain(scenario.uncertain, runs, seed)
    file = str(loaded.path)
    for path, spec in scenario.uncertain.items():
        for end in support_ends(spec, inputs[path]):
            problem = field_value_problem(scenario, path, end)
            if problem is not None:
                where = locate(loaded.locations, ("uncertain", path), file)
                raise ScenarioError(where[0], f"the distribution reaches {end:g}, which the field refuses: {problem}",
                                    line=where[1], column=where[2], field_path=f"uncertain.{path}",
                                    hint="narrow the distribution, or use truncnormal with low and high inside "
                                    "the field's range.")
    batch = Batch(scenario=scenario, seeds=run_seeds(seed, runs), inputs=inputs)
    return MonteCarlo(loaded=loaded, runs=runs, seed=seed, batch=batch, bands=Bands(scenario),
                      notes=overridden_values(scenario))


def overridden_values(scenario: Scenario) -> list[str]:
    """Fields whose value in the file lies outside their uncertain: distribution's range.

    The ensemble samples such a field and never uses the file's value: usually a counterfactual
    (`extends:`) that changed a field its parent's uncertain: block still samples.
    """
    params = params_from_scenario(scenario)
    notes = []
    for path, spec in scenario.uncertain.items():
        if spec.dist == "normal":
            continue
        low, high = support_ends(spec, np.zeros(1))
        array, index = field_target(params, path)
        value = float(array[index][0])
        if not low <= value <= high:
            notes.append(f"{path} is {value:g} in the scenario, but its uncertain: entry samples {low:g} to "
                         f"{high:g}; the ensemble uses the samples (set the entry to null in the file to keep "
                         "the value)")
    return notes


def _column(table: pa.Table, name: str) -> Array:
    """A column as floats, nulls as NaN."""
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def ensemble_summary(plan: MonteCarlo, table: pa.Table) -> dict[str, Any]:
    """Deal probability (Wilson 95% interval), deal position and time to deal, ceasefire survival, bands."""
    scenario, loaded = plan.scenario, plan.loaded
    steps = scenario.time.steps
    runs = table.num_rows
    deal = table.column("deal").to_numpy(zero_copy_only=False)
    deals = int(deal.sum())
    deal_step = _column(table, "deal_step")
    by_step = np.bincount(deal_step[np.isfinite(deal_step)].astype(np.int64), minlength=steps)[:steps]
    collapsed = np.nan_to_num(_column(table, "ceasefire_collapsed_step"), nan=-1.0).astype(np.int64)
    collapses = int((collapsed >= 0).sum())
    survival = survival_curve(collapsed, steps)
    median_collapse = next((t for t, s in enumerate(survival) if s <= 0.5), None)
    low, high = wilson_interval(deals, runs)
    c_low, c_high = wilson_interval(collapses, runs)
    has_war = scenario.battlefield is not None
    summary: dict[str, Any] = {
        "kind": "ensemble",
        "scenario": {"name": scenario.name, **loaded.provenance()},
        "seed": plan.seed,
        "runs": runs,
        "steps": steps,
        "step_length": scenario.time.step,
        "start": scenario.time.start.isoformat(),
        "end": scenario.time.date_of(steps - 1).isoformat(),
        "dates": [scenario.time.date_of(t).isoformat() for t in range(steps)],
        "uncertain": {path: spec.model_dump(exclude_none=True) for path, spec in scenario.uncertain.items()},
        "deal": {
            "probability": round(deals / runs, 6) if runs else None,
            "ci95": [round(low, 6), round(high, 6)],
            "runs_with_deal": deals,
            "cumulative_by_step": [round(float(v), 6) for v in np.cumsum(by_step) / max(runs, 1)],
        },
        "deal_position": {k: describe_values(_column(table, f"deal_{k}")) for k in scenario.issues},
        "time_to_deal": {"unit": scenario.time.step, **describe_values(deal_step)},
        "ceasefire": {
            "in_force_at_start": bool(scenario.battlefield.ceasefire) if has_war else False,
            "collapse_probability": round(collapses / runs, 6) if runs else None,
            "ci95": [round(c_low, 6), round(c_high, 6)],
            "survival": survival,
            "median_collapse_step": median_collapse,
            "held_steps": describe_values(_column(table, "ceasefire_held_steps")),
            "in_force_at_end": round(float(table.column("ceasefire_at_end").to_numpy(zero_copy_only=False).mean()), 6)
            if runs else None,
        },
        "control_end": describe_values(_column(table, "control_end")) if has_war else None,
        "actors": {
            actor: {"name": scenario.actors[actor].name,
                    "batna_end": describe_values(_column(table, f"batna_{actor}")),
                    "utility_of_deal": describe_values(_column(table, f"utility_of_deal_{actor}"))}
            for actor in scenario.actors
        },
        "bands": {name: {f"p{round(level * 100):02d}": values for level, values in plan.bands.quantiles(name).items()}
                  for name in plan.bands.ranges},
    }
    from sim import __version__

    summary["version"] = __version__
    summary["outcome"] = ensemble_sentence(summary)
    return summary


def ensemble_sentence(summary: dict[str, Any]) -> str:
    """The ensemble's outcome in one sentence."""
    deal, runs = summary["deal"], summary["runs"]
    unit = summary["step_length"]
    text = (f"A deal in {deal['probability']:.1%} of {runs:,} runs (95% interval {deal['ci95'][0]:.1%} to "
            f"{deal['ci95'][1]:.1%})")
    timing = summary["time_to_deal"]
    if timing["count"]:
        text += f", typically in {unit} {timing['p50']:.0f} (middle half {timing['p25']:.0f} to {timing['p75']:.0f})"
    text += "."
    ceasefire = summary["ceasefire"]
    if ceasefire["collapse_probability"]:
        text += f" The ceasefire collapsed in {ceasefire['collapse_probability']:.1%} of runs."
    elif ceasefire["in_force_at_start"]:
        text += " The ceasefire held in every run."
    return text


def write_monte_carlo(plan: MonteCarlo, folder: Path, executor: Any, force: bool = False,
                      progress: Callable[[int], None] | None = None) -> list[Path]:
    """Run the ensemble and write ensemble.parquet, summary.json and report.html into `folder`, atomically.

    The Parquet file is streamed while the runs go (into the staging folder of
    `sim.outputs.write_outputs`); the summary and the report are then computed
    from it and from the bands, so an interrupted ensemble leaves nothing behind.
    """
    from sim.outputs import write_json, write_outputs

    computed: dict[str, Any] = {}

    def runs_file(path: Path) -> None:
        plan.simulate_to(path, executor, progress)
        computed["table"] = read_outcomes(path, plan.scenario)
        computed["summary"] = ensemble_summary(plan, computed["table"])

    def summary_file(path: Path) -> None:
        write_json(computed["summary"])(path)

    def report_file(path: Path) -> None:
        from sim.ensemble_report import ensemble_report  # plotly and pandas load only once the runs are done

        path.write_text(ensemble_report(computed["summary"], computed["table"], plan.scenario), encoding="utf-8",
                        newline="\n")

    return write_outputs(Path(folder), {"ensemble.parquet": runs_file, "summary.json": summary_file,
                                        "report.html": report_file}, force=force)
