"""A batch of runs: many runs of one scenario advanced together, in chunks, streamed to disk.

A `Batch` is N runs of one scenario, each with its own seed and its own values
of some numeric fields (the `uncertain:` block's samples, a sweep's grid, a
sensitivity design). `execute` cuts it into chunks of runs; each chunk is one
call of `simulate_chunk`, which advances all its runs at once through
`sim.model.engine` (every array has a leading run axis and nothing mixes runs), so
run i of a chunk equals the single Mesa run with seed s_i and the same fields.
Chunks run here, in local processes or on a Dask cluster (`sim.runs.distributed`)
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

from sim.mechanisms.observation import DAYS_PER_WEEK, activity, expected_counts, sample_counts
from sim.model import engine
from sim.runs.statistics import QUANTILES, histogram_counts
from sim.scenario.params import Params, params_from_scenario, set_field
from sim.scenario.schema import DEFAULT_AGREEMENT_IDS, Distribution, Scenario
from sim.scenario.uncertainty import sample

Array = NDArray[np.float64]

# A chunk costs about 0.3 s of CPU whatever its size (numpy's per-call overhead over 30 steps, most of
# it in the bargaining of the few runs still without a deal) plus about 0.45 ms per run: chunks are
# large, and an ensemble is cut into at least CHUNKS_WANTED of them so that two workers share it.
MAX_CHUNK_RUNS = 5000  # about 100 MB of arrays per worker with up to 10 actors
MIN_CHUNK_RUNS = 250
# The engine's largest arrays hold every actor's leverage over every other, per instrument (runs x actors^2
# x instruments): a chunk holds at most this many runs x actors^2, so a chunk of 50 actors has 200 runs
# (about 300 MB) instead of 5,000 (several GB). Up to 10 actors the chunks are as before.
MAX_CHUNK_ACTOR_PAIRS = MAX_CHUNK_RUNS * 10 * 10
CHUNKS_WANTED = 4
# Fixed histogram ranges for the fan charts: resolution (high - low) / bins.
CONTROL_RANGE = (0.0, 1.0, 1000)
INTENSITY_RANGE = (0.0, 1.0, 1000)
UTILITY_RANGE = (-2.0, 1.0, 3000)
# Simulated counts of an observed series per step: one bin per count up to 10,000 (a count above goes into the
# last bin, so a band's quantile above 10,000 reads 10,000: far above the weekly series shipped, whose counts
# are under 100, and above a month of the UCDP deaths in a week).
COUNT_RANGE = (0.0, 10_000.0, 10_000)
COUNT_NOISE_STREAM = 0x0B5  # tags the entropy of the bands' count noise, apart from each run's own stream
OBSERVED_BAND_PREFIX = "observed_"


# ---------------------------------------------------------------------------- seeds and samples


def run_seeds(seed: int, runs: int) -> NDArray[np.int64]:
    """Per-run seeds, reproducible from the ensemble seed: 63-bit words of SeedSequence(seed)."""
    stream = np.random.SeedSequence(seed).spawn(1)[0]
    return (stream.generate_state(runs, dtype=np.uint64) >> np.uint64(1)).astype(np.int64)


def sample_uncertain(uncertain: dict[str, Distribution], runs: int, seed: int) -> dict[str, Array]:
    """`runs` draws of every uncertain field, each field from its own stream of the ensemble seed."""
    streams = np.random.SeedSequence(seed).spawn(1 + len(uncertain))[1:]
    return {
        path: sample(spec, runs, np.random.default_rng(stream))
        for (path, spec), stream in zip(uncertain.items(), streams, strict=True)
    }


def chunk_size(runs: int, actors: int = 0) -> int:
    """Runs per chunk: depends on N and the number of actors only (never on the workers), so outputs do not
    either."""
    cap = max(1, MAX_CHUNK_ACTOR_PAIRS // max(int(actors) ** 2, 1))
    return int(min(MAX_CHUNK_RUNS, cap, max(MIN_CHUNK_RUNS, math.ceil(runs / CHUNKS_WANTED))))


# ---------------------------------------------------------------------------- one chunk


@dataclass(frozen=True)
class ChunkSpec:
    """What every chunk of a batch shares: the scenario and what to record."""

    scenario: Scenario
    bands: bool = False
    # Per-step activity of observed series to return whole (calibration): (series id, actor index or -1,
    # force "air" or "ground"); the activity is the intensity, times the actor's force present over its
    # force at the start when an actor is named (`sim.mechanisms.observation.activity`).
    activity: tuple[tuple[str, int, str], ...] = ()
    steps: int | None = None  # stop after this many steps (calibration needs only the observed ones)


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
        return cls(int(used[0]), counts[:, used[0] : used[-1] + 1].astype(np.int32))

    def full(self, bins: int) -> NDArray[np.int64]:
        counts = np.zeros((self.counts.shape[0], bins), dtype=np.int64)
        counts[:, self.offset : self.offset + self.counts.shape[1]] = self.counts
        return counts


@dataclass
class ChunkResult:
    """The outcomes of one chunk of runs: columns of equal length, and optional band histograms."""

    first_run: int
    outcomes: dict[str, np.ndarray]
    bands: dict[str, BandCounts] | None = None  # series -> its histogram counts per step
    activity: dict[str, NDArray[np.float64]] | None = None  # observed series id -> (runs, steps) activity


def outcome_columns(scenario: Scenario) -> list[tuple[str, pa.DataType]]:
    """The per-run outcome columns (name, Arrow type), in file order."""
    issues, actors = list(scenario.issues), list(scenario.actors)
    columns: list[tuple[str, pa.DataType]] = [("deal", pa.bool_()), ("deal_step", pa.int64())]
    columns += [(f"deal_{k}", pa.float64()) for k in issues]
    columns += [(f"utility_of_deal_{a}", pa.float64()) for a in actors]
    columns += [(f"proposal_{k}", pa.float64()) for k in issues]
    columns += [(f"batna_{a}", pa.float64()) for a in actors]
    columns += [
        ("ceasefire_held_steps", pa.int64()),
        ("ceasefire_collapsed_step", pa.int64()),
        ("ceasefire_at_end", pa.bool_()),
        ("control_end", pa.float64()),
    ]
    for threat in scenario.threats:
        columns += [
            (f"threat_{threat}_status", pa.int64()),
            (f"threat_{threat}_resolved_step", pa.int64()),
            (f"threat_{threat}_carried_out_step", pa.int64()),
        ]
    for agreement in agreement_ids(scenario):
        columns += [
            (f"agreement_{agreement}_first_step", pa.int64()),
            (f"agreement_{agreement}_at_end", pa.bool_()),
            (f"agreement_{agreement}_collapsed_step", pa.int64()),
        ]
    return columns


def agreement_ids(scenario: Scenario) -> list[str]:
    """The ids of the scenario's agreements (its own, or the default ceasefire and settlement)."""
    return list(scenario.agreements) or list(DEFAULT_AGREEMENT_IDS)


def band_series(scenario: Scenario) -> dict[str, tuple[float, float, int]]:
    """Time series summarised as fan charts, with their histogram ranges (low, high, bins)."""
    series = {"control": CONTROL_RANGE, "intensity": INTENSITY_RANGE}
    for observation_id in scenario.observations or {}:
        series[f"{OBSERVED_BAND_PREFIX}{observation_id}"] = COUNT_RANGE
    for actor in scenario.actors:
        series[f"batna_{actor}"] = UTILITY_RANGE
        series[f"deal_value_{actor}"] = UTILITY_RANGE
    return series


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
    steps = params.steps if spec.steps is None else min(spec.steps, params.steps)
    # Each run's random numbers come from its own generator, exactly as in the Mesa model.
    draws = np.stack([engine.draw_noise(np.random.default_rng(int(seed)), params) for seed in seeds], axis=1)
    series: dict[str, list[Array]] = {}
    # The count noise of the observed series' bands: its own stream, so the runs' own draws are unchanged.
    count_rng = (
        np.random.default_rng(np.random.SeedSequence([COUNT_NOISE_STREAM, *(int(seed) for seed in seeds)]))
        if spec.bands
        else None
    )
    activities: dict[str, list[Array]] = {name: [] for name, _, _ in spec.activity}
    seen = None
    for step in range(steps):
        # Inducement leverage is not among the recorded outcomes and no decision reads it.
        seen, _, _, _ = engine.advance(params, state, step, draws[step], measure_inducement=False)
        if spec.bands:
            _record_step(series, params, state, seen)
            _record_counts(series, scenario, params, state, seen, count_rng)
        for name, actor, force in spec.activity:
            activities[name].append(_activity(params, state, seen, actor, force))
    outcomes = _outcomes(params, state, seen)
    bands = None
    if spec.bands:
        ranges = band_series(scenario)
        bands = {
            name: BandCounts.trimmed(histogram_counts(np.array(values), *ranges[name]))
            for name, values in series.items()
        }
    kept = {name: np.stack(values, axis=1) for name, values in activities.items()} if spec.activity else None
    return ChunkResult(first_run=first_run, outcomes=outcomes, bands=bands, activity=kept)


def _activity(params: Params, state: engine.State, seen: engine.Assessment, actor: int, force: str) -> Array:
    """(N,) one step's activity of an observed series: the intensity, scaled by the named actor's force."""
    if actor < 0:
        return activity(seen.intensity)
    present = state.air_present if force == "air" else state.ground
    return activity(seen.intensity, present[:, actor], params.actor(force)[:, actor])


def _record_counts(
    series: dict[str, list[Array]],
    scenario: Scenario,
    params: Params,
    state: engine.State,
    seen: engine.Assessment,
    rng: np.random.Generator,
) -> None:
    """One step's simulated count of each observed series (`sim.mechanisms.observation`): the expected count
    of a step, (b + c * activity) * step_days / 7, and a negative binomial draw around it."""
    for observation_id, observation in (scenario.observations or {}).items():
        exposure = observation.model.exposure
        actor = params.actor_ids.index(exposure.actor) if exposure is not None else -1
        level = _activity(params, state, seen, actor, exposure.force if exposure is not None else "air")
        values = params.observation_values
        mean = expected_counts(
            level,
            values[f"{observation_id}.scale"],
            values[f"{observation_id}.baseline"],
            params.step_days / DAYS_PER_WEEK,
        )
        drawn = sample_counts(rng, mean, values[f"{observation_id}.dispersion"])
        series.setdefault(f"{OBSERVED_BAND_PREFIX}{observation_id}", []).append(drawn.astype(np.float64))


def _record_step(series: dict[str, list[Array]], params: Params, state: engine.State, seen: engine.Assessment) -> None:
    series.setdefault("control", []).append(
        state.control.copy() if params.has_battlefield else np.full(params.runs, np.nan)
    )
    series.setdefault("intensity", []).append(seen.intensity.copy())
    for i, actor in enumerate(params.actor_ids):
        series.setdefault(f"batna_{actor}", []).append(seen.batna[:, i].copy())
        series.setdefault(f"deal_value_{actor}", []).append(seen.utility_of_offer[:, i].copy())


def _outcomes(params: Params, state: engine.State, last: engine.Assessment | None) -> dict[str, np.ndarray]:
    """Per-run outcomes at the end of the runs (NaN / -1 mark 'none'; they become nulls in Parquet)."""
    deal = state.settlement_reached.copy()  # a settlement was reached (it may have fallen since)
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
    for t, threat in enumerate(params.threats.ids):
        columns[f"threat_{threat}_status"] = state.threat_status[:, t].copy()
        columns[f"threat_{threat}_resolved_step"] = state.threat_resolved_step[:, t].copy()
        columns[f"threat_{threat}_carried_out_step"] = state.threat_carried_step[:, t].copy()
    for g, agreement in enumerate(params.agreements.ids):
        columns[f"agreement_{agreement}_first_step"] = state.signed_first[:, g].copy()
        columns[f"agreement_{agreement}_at_end"] = state.in_force[:, g].copy()
        columns[f"agreement_{agreement}_collapsed_step"] = state.fell_first[:, g].copy()
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


def execute(
    batch: Batch,
    executor: Any,
    *,
    bands: bool = False,
    chunk_runs: int | None = None,
    progress: Callable[[int], None] | None = None,
    activity: tuple[tuple[str, int, str], ...] = (),
    steps: int | None = None,
) -> Iterator[ChunkResult]:
    """Run a batch through an executor (`sim.runs.distributed`); yields chunk results in run order.

    `progress(n)` is called with the number of runs each finished chunk adds. `activity` and `steps` are
    `ChunkSpec`'s: observed series whose per-step activity comes back whole, and where to stop.
    """
    spec = executor.share(ChunkSpec(batch.scenario, bands=bands, activity=activity, steps=steps))
    size = chunk_runs or chunk_size(batch.runs, len(batch.scenario.actors))
    tasks = ((spec, start, seeds, inputs) for start, seeds, inputs in batch.chunks(size))
    for result in executor.map_in_order(simulate_chunk, tasks):
        if progress is not None:
            progress(len(next(iter(result.outcomes.values()))))
        yield result


# ---------------------------------------------------------------------------- sinks: Parquet and bands


def runs_schema(
    scenario: Scenario, input_paths: list[str], extra: list[tuple[str, pa.DataType]] | None = None
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


def chunk_table(
    schema: pa.Schema, batch: Batch, result: ChunkResult, extra: dict[str, np.ndarray] | None = None
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
        arrays.append(
            pa.array(column, type=item.type) if item.name in ("run", "seed") else _arrow_column(column, item.type)
        )
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
            index = np.array(
                [
                    np.searchsorted(cumulative[t], target[t], side="left") if totals[t] else 0
                    for t in range(counts.shape[0])
                ]
            )
            index = np.minimum(index, bins - 1)
            below = np.where(index > 0, cumulative[np.arange(len(index)), index - 1], 0)
            inside = counts[np.arange(len(index)), index]
            fraction = np.where(inside > 0, (target - below) / np.where(inside > 0, inside, 1), 0.0)
            value = low + (index + np.clip(fraction, 0.0, 1.0)) * width
            result[level] = [round(float(v), 6) if n else None for v, n in zip(value, totals, strict=True)]
        return result


def run_to_parquet(
    batch: Batch,
    executor: Any,
    path: Path,
    keep: list[str],
    extra: dict[str, tuple[pa.DataType, np.ndarray]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
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


# ---------------------------------------------------------------------------- field ranges


def field_value_problem(scenario: Scenario, path: str, value: float) -> str | None:
    """Why the scenario would refuse `value` at `path` (its schema's range and type), or None if it accepts it."""
    from sim.scenario.uncertainty import field_value_problem as problem

    return problem(scenario, path, value)


def support_ends(spec: Distribution, samples: Array) -> tuple[float, float]:
    """The smallest and largest value a distribution can give (its samples' range if unbounded)."""
    if spec.dist == "choice":
        return float(min(spec.values)), float(max(spec.values))
    if spec.dist == "normal":
        return float(samples.min()), float(samples.max())
    if spec.dist == "beta":
        return (spec.low if spec.low is not None else 0.0), (spec.high if spec.high is not None else 1.0)
    return float(spec.low), float(spec.high)
