"""Calibration: approximate Bayesian computation of a scenario's `uncertain:` fields against its observed series.

The method is ABC by sequential Monte Carlo with an adaptive distance (Prangle 2017, "Adapting the ABC
distance function", Bayesian Analysis 12(1): 289-309, algorithm 5), as ELFI implements it
(`elfi.AdaptiveDistanceSMC`; Lintusaari et al. 2018, "ELFI: Engine for Likelihood-Free Inference", JMLR 19(16)).
ELFI, not pyabc, because ELFI calls the simulator with a whole batch of parameter sets, which is how the
engine runs (every array has a leading run axis): one call advances thousands of runs together, where a
simulator called once per parameter set would pay the engine's per-step overhead for each run.

1. The priors are the `uncertain:` block (each field's distribution as a scipy distribution).
2. A batch of parameter sets runs through the engine, in chunks, on the executor of `sim.runs.distributed`
   (this process, local processes, or a Dask cluster): the chunks come back in order whoever computes
   them, and ELFI runs its batches one after the other, so the posterior is the same for any executor.
3. Each run's activity per step (`sim.mechanisms.observation.activity`) is averaged over each observed
   period, turned into an expected count, and a count is drawn from the observation model's negative
   binomial: the simulated data are counts, like the observed ones.
4. Summary statistics (`block_summaries`): the mean of the variance-stabilised counts per block of weeks,
   and the mean spread within blocks; the distance is the Euclidean distance between summaries, each
   divided by its spread over the last generation's simulations (the adaptive part: no summary dominates
   by its units).
5. Each generation keeps the `population` closest of population / quantile simulations drawn from the
   previous generation's weighted particles (a Gaussian mixture proposal), weighted by prior over proposal.

Only the runs' first `steps` steps are simulated: the ones the observed periods cover.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.mechanisms.observation import (
    aggregate,
    block_summaries,
    expected_counts,
    period_bounds,
    period_weeks,
    sample_counts,
)
from sim.runs.batch import Batch, execute, run_seeds
from sim.runs.labels import field_labels
from sim.scenario.observations import ObservedSeries, load_observations, step_dates
from sim.scenario.params import Params, params_from_scenario, set_field
from sim.scenario.schema import Distribution, Scenario
from sim.scenario.uncertainty import scipy_law

Array = NDArray[np.float64]

OBSERVATION_PREFIX = "observations."
BLOCK_WEEKS = 4  # summary statistics: one mean per four weeks (about a month), see `block_summaries`
PPC_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
MAX_BATCH_RUNS = 2500
PREDICTIVE_STREAM = 0x50_50_43  # tags the entropy of the predictive runs' count noise
MAX_POSTERIOR_BYTES = 50_000_000  # a posterior file: the shipped one is 278 kB
MAX_POSTERIOR_ROWS = 1_000_000


class CalibrationError(Exception):
    """A scenario that cannot be calibrated (no observations, a prior ABC cannot use)."""


@dataclass(frozen=True)
class Settings:
    """The ABC settings. Each generation simulates until population / quantile of its runs fall within the
    previous generation's tolerance, and keeps the closest `population` (the first generation simulates exactly
    population / quantile runs from the priors). Generations follow one another until the runs simulated reach
    `runs` or there are `generations` of them, whichever comes first: a budget in runs, because a generation's
    cost grows as the tolerance shrinks. The defaults simulate at least 100,000 runs."""

    population: int = 2000  # accepted particles per generation (the posterior sample's size)
    quantile: float = 0.5  # each generation keeps this share of its simulations
    generations: int = 20  # at most this many
    runs: int = 100_000  # no new generation once this many runs are simulated
    batch_runs: int | None = None  # parameter sets per simulator call (one ELFI batch); None: `runs_per_batch`
    seed: int = 2016

    @property
    def runs_per_batch(self) -> int:
        """The batch size: as given, or population / quantile up to MAX_BATCH_RUNS (a generation in few calls,
        each large enough for the engine's per-step overhead to be small)."""
        return self.batch_runs or min(MAX_BATCH_RUNS, math.ceil(self.population / self.quantile))

    @property
    def least_per_generation(self) -> int:
        """population / quantile, rounded up to whole batches (ELFI simulates whole batches)."""
        wanted = math.ceil(self.population / self.quantile)
        return math.ceil(wanted / self.runs_per_batch) * self.runs_per_batch

    @property
    def least_simulations(self) -> int:
        """The fewest runs the calibration can take: `runs`, or `generations` of `least_per_generation` if fewer."""
        return min(self.runs, self.least_per_generation * self.generations)


# ---------------------------------------------------------------------------- priors


def scipy_prior(spec: Distribution) -> tuple[str, tuple[float, ...]]:
    """The scipy.stats name and arguments of an `uncertain:` distribution (the same law `uncertainty.sample`
    draws from), for `elfi.Prior`."""
    law = scipy_law(spec)
    if law is None:
        raise CalibrationError(
            f"a '{spec.dist}' distribution has no density for ABC to weigh particles by; use uniform, normal, "
            "truncnormal, triangular or beta"
        )
    return law


# ---------------------------------------------------------------------------- the simulator


@dataclass
class CountSimulator:
    """Simulated counts of every observed series for a batch of parameter sets (ELFI's simulator).

    Called as simulator(*values, batch_size=N, random_state=RandomState): values[j] is the (N,) values of
    parameter j (the `uncertain:` fields, in order); returns (N, P) counts, the observed series side by side.
    """

    scenario: Scenario
    series: list[ObservedSeries]
    paths: list[str]  # the uncertain fields, in ELFI's parameter order
    executor: Any
    steps: int | None = None  # simulate only this many steps (None: the whole scenario)
    progress: Callable[[int], None] | None = None
    runs_done: int = 0

    def activity(self, seeds: NDArray[np.int64], inputs: dict[str, Array]) -> dict[str, Array]:
        """(N, steps) activity of each observed series for runs with these seeds and field values."""
        engine_inputs = {path: values for path, values in inputs.items() if not path.startswith(OBSERVATION_PREFIX)}
        batch = Batch(scenario=self.scenario, seeds=seeds, inputs=engine_inputs)
        activity = tuple(item.activity_spec(list(self.scenario.actors)) for item in self.series)
        parts: dict[str, list[Array]] = {item.id: [] for item in self.series}
        for result in execute(batch, self.executor, activity=activity, steps=self.steps, progress=self.progress):
            for name, values in (result.activity or {}).items():
                parts[name].append(values)
        self.runs_done += len(seeds)
        return {name: np.concatenate(values, axis=0) for name, values in parts.items()}

    def expected(self, activity: dict[str, Array], params: Params) -> list[Array]:
        """Per series, (N, P) expected counts of its observed periods (`params`: `observation_params`)."""
        dates = step_dates(self.scenario.time)
        means = []
        for item in self.series:
            values = activity[item.id]
            level = aggregate(
                dates[: values.shape[1]], values, item.dates, item.resolution, self.scenario.time.step_days
            )
            scale, _, baseline = item.parameters(params)
            means.append(expected_counts(level, scale, baseline, item.weeks))
        return means

    def __call__(self, *values: Array, batch_size: int = 1, random_state: np.random.RandomState | None = None) -> Any:
        state = random_state if random_state is not None else np.random.RandomState()
        entropy = int(state.randint(0, 2**62, dtype=np.int64))
        inputs = {
            path: np.asarray(value, dtype=np.float64).reshape(-1)
            for path, value in zip(self.paths, values, strict=True)
        }
        seeds = run_seeds(entropy, batch_size)
        activity = self.activity(seeds, inputs)
        rng = np.random.default_rng(np.random.SeedSequence(entropy).spawn(2)[1])
        params = observation_params(self.scenario, inputs, batch_size)
        counts = []
        for item, mean in zip(self.series, self.expected(activity, params), strict=True):
            _, dispersion, _ = item.parameters(params)
            counts.append(sample_counts(rng, mean, dispersion))
        return np.concatenate(counts, axis=1)


def observation_params(scenario: Scenario, inputs: dict[str, Array], runs: int) -> Params:
    """The parameters of `runs` runs with the observation model's fields of `inputs` set (`set_field`), so that
    `ObservedSeries.parameters` reads each run's scale, dispersion and baseline, as the engine's chunks do."""
    params = params_from_scenario(scenario, runs)
    for path, values in inputs.items():
        if path.startswith(OBSERVATION_PREFIX):
            set_field(params, path, values)
    return params


def summaries(counts: Array, lengths: list[int]) -> Array:
    """(N, M) summary statistics of N simulated (or 1 observed) sets of series side by side (`block_summaries`
    of each series, concatenated)."""
    counts = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    parts, start = [], 0
    for length in lengths:
        parts.append(block_summaries(counts[:, start : start + length], BLOCK_WEEKS))
        start += length
    return np.concatenate(parts, axis=1)


# ---------------------------------------------------------------------------- ABC-SMC


@dataclass
class Generation:
    """One generation of the SMC: its tolerance, how many simulations it took and what share it kept."""

    index: int
    tolerance: float  # the largest distance accepted
    simulations: int  # runs this generation took
    acceptance_rate: float  # population / simulations
    summary_scales: list[float]  # each summary's spread, dividing it in this generation's distance


@dataclass
class Posterior:
    """The final generation's particles: values (N, J) of the fields `paths`, normalised weights (N,)."""

    paths: list[str]
    values: Array
    weights: Array
    distances: Array
    generations: list[Generation] = field(default_factory=list)
    runs_simulated: int = 0  # runs the calibration took in all
    source: dict[str, Any] | None = None  # read from a file: its name and sha256 (`read_posterior`)

    def column(self, path: str) -> Array:
        return self.values[:, self.paths.index(path)]

    def mean(self) -> Array:
        return self.weights @ self.values

    def quantiles(self, levels: tuple[float, ...]) -> Array:
        """(len(levels), J) weighted quantiles of each field."""
        return np.stack([weighted_quantile(self.values[:, j], self.weights, levels) for j in range(len(self.paths))], 1)

    def resample(self, draws: int, rng: np.random.Generator) -> dict[str, Array]:
        """`draws` parameter sets drawn with replacement by weight (multinomial resampling)."""
        rows = rng.choice(len(self.weights), size=draws, replace=True, p=self.weights)
        return {path: self.values[rows, j].copy() for j, path in enumerate(self.paths)}


def weighted_quantile(values: Array, weights: Array, levels: tuple[float, ...]) -> Array:
    """Quantiles of a weighted sample: the inverse of its weighted empirical distribution function, with
    each point's mass centred on it (the 'midpoint' rule: a point of weight w_i at cumulative weight
    W_i - w_i / 2), linear between points."""
    carried = weights > 0  # a particle without weight is not part of the sample
    values, weights = values[carried], weights[carried]
    order = np.argsort(values, kind="stable")
    ordered, mass = values[order], weights[order] / weights.sum()
    centres = np.cumsum(mass) - mass / 2
    return np.interp(levels, centres, ordered)


def weighted_correlation(values: Array, weights: Array) -> Array:
    """(J, J) correlation matrix of weighted particles."""
    w = weights / weights.sum()
    centred = values - w @ values
    cov = (centred * w[:, None]).T @ centred
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.outer(sd, sd) > 0, cov / np.outer(sd, sd), 0.0)


def abc_smc(
    scenario: Scenario,
    series: list[ObservedSeries],
    executor: Any,
    settings: Settings,
    *,
    steps: int | None = None,
    observed: Array | None = None,
    progress: Callable[[int], None] | None = None,
) -> Posterior:
    """Run ABC-SMC with an adaptive distance (ELFI) over the scenario's uncertain fields.

    `observed` replaces the series' own counts (the recovery test calibrates to simulated data).
    """
    import elfi

    paths = list(scenario.uncertain)
    if not paths:
        raise CalibrationError("the scenario has no uncertain: fields to calibrate")
    priors = [scipy_prior(scenario.uncertain[path]) for path in paths]
    data = observed if observed is not None else np.concatenate([item.counts for item in series])
    lengths = [item.periods for item in series]
    simulator = CountSimulator(scenario, series, paths, executor, steps=steps, progress=progress)

    # ELFI warns on its logger when the Gaussian-mixture proposals often fall outside bounded priors; that is
    # expected with uniform priors (the proposals outside are redrawn) and says nothing to the user.
    logging.getLogger("elfi").setLevel(logging.ERROR)
    elfi.set_client("native")  # ELFI's batches one after the other: the executor spreads each batch's runs
    model = elfi.ElfiModel(name="calibration")
    nodes = [elfi.Prior(law, *args, model=model, name=f"theta{j}") for j, (law, args) in enumerate(priors)]
    counts = elfi.Simulator(simulator, *nodes, observed=np.asarray(data)[None, :], name="counts")
    statistics = elfi.Summary(lambda simulated: summaries(simulated, lengths), counts, name="summaries")
    distance = elfi.AdaptiveDistance(statistics, name="distance")
    sampler = elfi.AdaptiveDistanceSMC(
        distance, batch_size=settings.runs_per_batch, seed=settings.seed, max_parallel_batches=1
    )
    # One generation per call (ELFI continues from the populations it holds), so that the budget in runs is
    # checked between generations: the same seed gives the same generations whatever the executor.
    result = sampler.sample(settings.population, 1, quantile=settings.quantile, bar=False)
    while len(result.populations) < settings.generations and simulator.runs_done < settings.runs:
        result = sampler.sample(settings.population, 1, quantile=settings.quantile, bar=False)

    generations = []
    for index, population in enumerate(result.populations):
        scales = population.meta.get("adaptive_distance_w")
        generations.append(
            Generation(
                index=index,
                tolerance=float(population.threshold),
                simulations=int(population.meta["n_sim"]),
                acceptance_rate=float(population.meta["accept_rate"]),
                summary_scales=[float(1.0 / w) if w else math.inf for w in np.ravel(scales)]
                if scales is not None
                else [],
            )
        )
    values = np.column_stack([np.asarray(result.samples[f"theta{j}"], dtype=np.float64) for j in range(len(paths))])
    weights = np.asarray(result.weights, dtype=np.float64)
    return Posterior(
        paths=paths,
        values=values,
        weights=weights / weights.sum(),
        distances=np.asarray(result.discrepancies, dtype=np.float64),
        generations=generations,
        runs_simulated=simulator.runs_done,
    )


# ---------------------------------------------------------------------------- posterior predictive


@dataclass
class Predictive:
    """Bands of simulated counts per period of a series, over the observed window and the forecast after it."""

    series: ObservedSeries
    dates: NDArray[np.datetime64]  # (P',) every period: the observed ones, then the forecast's
    observed_periods: int  # the first this many are the observed periods
    bands: dict[float, Array]  # level -> (P',) quantile of the simulated counts
    draws: int

    @property
    def coverage_90(self) -> float:
        """Share of observed periods whose count lies inside the 90% band (p05 to p95, inclusive)."""
        n = self.observed_periods
        inside = (self.series.counts >= self.bands[0.05][:n]) & (self.series.counts <= self.bands[0.95][:n])
        return float(inside.mean())


def forecast_periods(item: ObservedSeries, end: np.datetime64) -> NDArray[np.datetime64]:
    """The observed periods, then the periods of the same resolution that start before `end` (the day after
    the scenario's last step)."""
    week, month = np.timedelta64(7, "D"), np.timedelta64(1, "M")
    if item.resolution == "week":
        later = np.arange(item.dates[-1] + week, end, week)
    else:
        first = item.dates[-1].astype("datetime64[M]") + month
        later = np.arange(first, end.astype("datetime64[M]") + month, month).astype("datetime64[D]")
        later = later[later < end]
    return np.concatenate([item.dates, later.astype("datetime64[D]")])


def posterior_predictive(
    scenario: Scenario,
    series: list[ObservedSeries],
    posterior: Posterior | None,
    executor: Any,
    draws: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> list[Predictive]:
    """Simulated counts of each series over the whole scenario, from `draws` parameter sets of the posterior
    (resampled by weight) or, without one, of the priors; quantile bands per period."""
    from sim.runs.batch import sample_uncertain

    # A stream of its own: SeedSequence(seed)'s children feed the runs' seeds and the prior samples.
    rng = np.random.default_rng(np.random.SeedSequence([PREDICTIVE_STREAM, seed]))
    inputs = (
        posterior.resample(draws, rng) if posterior is not None else sample_uncertain(scenario.uncertain, draws, seed)
    )
    simulator = CountSimulator(scenario, series, list(inputs), executor, progress=progress)
    activity = simulator.activity(run_seeds(seed, draws), inputs)
    dates = step_dates(scenario.time)
    end = dates[-1] + np.timedelta64(scenario.time.step_days, "D")
    params = observation_params(scenario, inputs, draws)
    predictive = []
    for item in series:
        periods = forecast_periods(item, end)
        level = aggregate(dates, activity[item.id], periods, item.resolution, scenario.time.step_days)
        scale, dispersion, baseline = item.parameters(params)
        mean = expected_counts(level, scale, baseline, period_weeks(periods, item.resolution))
        counts = sample_counts(rng, np.nan_to_num(mean), dispersion).astype(np.float64)
        bands = {level_: np.quantile(counts, level_, axis=0) for level_ in PPC_LEVELS}
        predictive.append(Predictive(item, periods, item.periods, bands, draws))
    return predictive


def observed_series(loaded: Any) -> list[ObservedSeries]:
    """The scenario's observed series, refusing a scenario without any."""
    series = list(load_observations(loaded).values())
    if not series:
        raise CalibrationError("the scenario has no observations: section to calibrate against")
    return series


def observed_steps(scenario: Scenario, series: list[ObservedSeries]) -> int:
    """The steps the observed periods need: up to the one that contains the last observed day."""
    start = np.datetime64(scenario.time.start, "D")
    last_day = max(period_bounds(item.dates[-1:], item.resolution)[1][0] - 1 for item in series)
    last_day = np.datetime64(int(last_day), "D")
    return min(scenario.time.steps, int((last_day - start).astype(np.int64) // scenario.time.step_days) + 1)


def elapsed_since(started: float) -> float:
    return round(time.perf_counter() - started, 1)


# ---------------------------------------------------------------------------- checks on the predictive bands

# Windows of the posterior predictive check (issue: "the band medians reproduce the March drop and the rise
# from late May"). Their edges are dates of public events, inputs of the scenario: the weeks of 2016 before
# the cessation of 27 February; the four weeks after Russia's withdrawal order of 14 March; June to August.
CHECK_WINDOWS = {
    "before_cessation": ("2016-01-04", "2016-02-21"),
    "after_withdrawal": ("2016-03-14", "2016-04-10"),
    "june_to_august": ("2016-06-01", "2016-08-28"),
}
DROP_RATIO = 0.5  # the March drop: the weeks after the withdrawal below half the weeks before the cessation
RISE_RATIO = 2.0  # the rise from late May: June to August above twice the weeks after the withdrawal


def window_mean(dates: NDArray[np.datetime64], values: Array, window: tuple[str, str]) -> float | None:
    """Mean of `values` over the periods that start inside the window (inclusive); None if none does."""
    first, last = np.datetime64(window[0], "D"), np.datetime64(window[1], "D")
    inside = (dates >= first) & (dates <= last)
    return float(np.mean(values[inside])) if inside.any() else None


def _ratio(top: float | None, bottom: float | None) -> float | None:
    """top / bottom, None where either is missing or the bottom is 0 (no ratio to judge)."""
    if top is None or bottom is None or bottom == 0:
        return None
    return top / bottom


def band_checks(predictive: Predictive) -> dict[str, Any]:
    """The posterior predictive check of one weekly series: 90% coverage, the March drop, the rise from
    late May; each with the model's band medians and the same figure for the observed counts.

    The two shape checks are the 2016 ones (their windows are the dates of `CHECK_WINDOWS`): for a series
    that has no period in a window, or a zero to divide by, the check is `None` ("applies": false), never a
    number made up."""
    n = predictive.observed_periods
    dates, median = predictive.dates[:n], predictive.bands[0.5][:n]
    observed = predictive.series.counts.astype(np.float64)
    model = {name: window_mean(dates, median, window) for name, window in CHECK_WINDOWS.items()}
    data = {name: window_mean(dates, observed, window) for name, window in CHECK_WINDOWS.items()}

    def rounded(value: float | None, digits: int) -> float | None:
        return None if value is None else round(value, digits)

    def check(rule: str, top: str, bottom: str, passes: Callable[[float], bool]) -> dict[str, Any]:
        ratio = _ratio(model[top], model[bottom])
        return {
            "rule": rule,
            "applies": ratio is not None,
            "model": rounded(ratio, 4),
            "observed": rounded(_ratio(data[top], data[bottom]), 4),
            "passes": None if ratio is None else bool(passes(ratio)),
        }

    coverage = predictive.coverage_90
    return {
        "coverage_90": round(coverage, 4),
        "coverage_90_passes": bool(coverage >= 0.8),
        "windows": {name: list(window) for name, window in CHECK_WINDOWS.items()},
        "median_means": {name: rounded(value, 3) for name, value in model.items()},
        "observed_means": {name: rounded(value, 3) for name, value in data.items()},
        "march_drop": check(
            f"after_withdrawal / before_cessation < {DROP_RATIO}",
            "after_withdrawal",
            "before_cessation",
            lambda ratio: ratio < DROP_RATIO,
        ),
        "rise_from_late_may": check(
            f"june_to_august / after_withdrawal > {RISE_RATIO}",
            "june_to_august",
            "after_withdrawal",
            lambda ratio: ratio > RISE_RATIO,
        ),
    }


def forecast_by_month(predictive: Predictive) -> list[dict[str, Any]]:
    """Per calendar month after the last observed period: the mean over its periods of each band level."""
    n = predictive.observed_periods
    dates = predictive.dates[n:]
    months = dates.astype("datetime64[M]")
    rows = []
    for month in np.unique(months):
        inside = months == month
        rows.append(
            {
                "month": str(month),
                "periods": int(inside.sum()),
                **{
                    f"p{round(level * 100):02d}": round(float(predictive.bands[level][n:][inside].mean()), 2)
                    for level in PPC_LEVELS
                },
            }
        )
    return rows


# ---------------------------------------------------------------------------- the posterior file

POSTERIOR_COLUMNS = ("particle", "weight", "distance")


def posterior_table(posterior: Posterior, metadata: dict[str, str]) -> Any:
    """The posterior as an Arrow table: particle, weight (summing to 1), distance, then one column per field
    path. `metadata` (the scenario's hash, the seed) goes into the file's key-value metadata."""
    import pyarrow as pa

    columns = {
        "particle": pa.array(np.arange(len(posterior.weights), dtype=np.int64)),
        "weight": pa.array(posterior.weights),
        "distance": pa.array(posterior.distances),
    }
    columns.update({path: pa.array(posterior.values[:, j]) for j, path in enumerate(posterior.paths)})
    table = pa.table(columns)
    return table.replace_schema_metadata(
        {f"negotiation_sim.{k}".encode(): str(v).encode() for k, v in metadata.items()}
    )


def write_posterior(posterior: Posterior, path: Path, metadata: dict[str, str]) -> None:
    """posterior.parquet: the same bytes for the same posterior (no timestamps; fixed writer settings)."""
    import pyarrow.parquet as pq

    pq.write_table(posterior_table(posterior, metadata), str(path), compression="zstd", write_statistics=True)


class PosteriorFileError(Exception):
    """A posterior file that cannot be used with a scenario."""


def read_posterior(path: Path, scenario: Scenario) -> Posterior:
    """A posterior file written by `calibrate`, checked against the scenario: at most MAX_POSTERIOR_BYTES and
    MAX_POSTERIOR_ROWS; every field column numeric (floats or integers) and a numeric field of the scenario
    holding values the field accepts; the weights finite, non-negative, not all 0, with a finite sum."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.scenario.params import field_target, params_from_scenario
    from sim.scenario.uncertainty import field_value_problem

    hint = "Hint: give the posterior.parquet that calibrate wrote."
    try:
        size = Path(path).stat().st_size
        if size > MAX_POSTERIOR_BYTES:
            raise PosteriorFileError(
                f"{path}: the file has {size:,} bytes, over the {MAX_POSTERIOR_BYTES:,} allowed. {hint}"
            )
        rows = pq.ParquetFile(str(path)).metadata.num_rows
        if rows > MAX_POSTERIOR_ROWS:
            raise PosteriorFileError(f"{path}: {rows:,} particles, over the {MAX_POSTERIOR_ROWS:,} allowed. {hint}")
        data = Path(path).read_bytes()
        table = pq.read_table(pa.BufferReader(data))
    except FileNotFoundError:
        raise PosteriorFileError(
            f"{path}: no such file. Hint: give the posterior.parquet that calibrate wrote."
        ) from None
    except (OSError, pa.ArrowException) as error:
        raise PosteriorFileError(
            f"{path}: not a Parquet file this tool can read ({str(error).splitlines()[0][:200]}). "
            "Hint: give the posterior.parquet that calibrate wrote."
        ) from None
    names = table.column_names
    missing = [name for name in ("weight",) if name not in names]
    if missing:
        raise PosteriorFileError(
            f"{path}: no column '{missing[0]}'. Hint: give the posterior.parquet that calibrate wrote."
        )
    paths = [name for name in names if name not in POSTERIOR_COLUMNS]
    if not paths:
        raise PosteriorFileError(f"{path}: no parameter columns besides {', '.join(POSTERIOR_COLUMNS)}.")
    params = params_from_scenario(scenario)
    for name in paths:
        if field_target(params, name) is None:
            raise PosteriorFileError(
                f"{path}: column '{name}' is not a numeric field of the scenario. Hint: use the posterior of this "
                "scenario or of the one it extends."
            )
    for name in [*paths, "weight", *(["distance"] if "distance" in names else [])]:
        kind = table.schema.field(name).type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
            raise PosteriorFileError(f"{path}: column '{name}' holds {kind}, not numbers. {hint}")
        if table.column(name).null_count:
            raise PosteriorFileError(f"{path}: column '{name}' has missing values. {hint}")
    values = np.column_stack([np.asarray(table.column(name).to_numpy(), dtype=np.float64) for name in paths])
    weights = np.asarray(table.column("weight").to_numpy(), dtype=np.float64)
    if values.shape[0] == 0:
        raise PosteriorFileError(f"{path}: the file has no particles.")
    with np.errstate(over="ignore"):
        total = float(weights.sum())
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or not 0 < total < np.inf:
        raise PosteriorFileError(f"{path}: the weights must be finite, 0 or more, not all 0, with a finite sum.")
    for j, name in enumerate(paths):
        column = values[:, j]
        bad = ~np.isfinite(column)
        if bad.any():
            raise PosteriorFileError(f"{path}: column '{name}', particle {int(np.argmax(bad))}: not a finite number.")
        for end in (float(column.min()), float(column.max())):
            problem = field_value_problem(scenario, name, end)
            if problem is not None:
                raise PosteriorFileError(f"{path}: column '{name}' holds {end:g}, which the field refuses: {problem}.")
    distances = (
        np.asarray(table.column("distance").to_numpy(), dtype=np.float64)
        if "distance" in names
        else np.full(len(weights), np.nan)
    )
    source = {"file": Path(path).name, "sha256": hashlib.sha256(data).hexdigest(), "particles": len(weights)}
    return Posterior(paths=paths, values=values, weights=weights / total, distances=distances, source=source)


# ---------------------------------------------------------------------------- the summary


def _prior_text(spec: Distribution) -> dict[str, Any]:
    return {k: v for k, v in spec.model_dump().items() if v is not None}


def calibration_summary(
    loaded: Any,
    series: list[ObservedSeries],
    posterior: Posterior,
    predictive: list[Predictive],
    settings: Settings,
    prior_predictive: list[Predictive] | None = None,
) -> dict[str, Any]:
    """summary.json of a calibration: the posterior, the ABC settings and diagnostics, the checks, the
    forecast, and the hashes of every input."""
    import elfi

    scenario = loaded.scenario
    means = posterior.mean()
    quantiles = posterior.quantiles((0.05, 0.5, 0.95))
    fields = {}
    for j, path in enumerate(posterior.paths):
        spec = scenario.uncertain[path]
        fields[path] = {
            "mean": round(float(means[j]), 6),
            "p05": round(float(quantiles[0, j]), 6),
            "p50": round(float(quantiles[1, j]), 6),
            "p95": round(float(quantiles[2, j]), 6),
            "prior": _prior_text(spec),
        }
    correlation = weighted_correlation(posterior.values, posterior.weights)
    pairs = sorted(
        (
            (abs(float(correlation[a, b])), posterior.paths[a], posterior.paths[b], float(correlation[a, b]))
            for a in range(len(posterior.paths))
            for b in range(a + 1, len(posterior.paths))
        ),
        reverse=True,
    )
    generations = [
        {
            "generation": generation.index,
            "tolerance": round(generation.tolerance, 6),
            "simulations": generation.simulations,
            "acceptance_rate": round(generation.acceptance_rate, 6),
        }
        for generation in posterior.generations
    ]
    checks = {item.series.id: band_checks(item) for item in predictive}
    data = [
        {
            "id": item.id,
            "label": item.label,
            "file": item.path.name,
            "sha256": item.sha256,
            "column": item.column,
            "resolution": item.resolution,
            "periods": item.periods,
            "first": str(item.dates[0]),
            "last": str(item.dates[-1]),
            "exposure": {"actor": item.exposure_actor, "force": item.exposure_force} if item.exposure_actor else None,
        }
        for item in series
    ]
    coverage = min(check["coverage_90"] for check in checks.values())
    summary = {
        "kind": "calibration",
        "scenario": {"name": scenario.name, **loaded.provenance()},
        "seed": settings.seed,
        "method": {
            "algorithm": "ABC-SMC with an adaptive distance (Prangle 2017, algorithm 5)",
            "library": f"elfi {elfi.__version__} (AdaptiveDistanceSMC)",
            "population": settings.population,
            "quantile": settings.quantile,
            "generations": len(posterior.generations),
            "generations_at_most": settings.generations,
            "runs_budget": settings.runs,
            "batch_runs": settings.runs_per_batch,
            "runs_simulated": posterior.runs_simulated,
            "steps_simulated": observed_steps(scenario, series),
        },
        "summary_statistics": (
            f"per observed series: the mean of 2 sqrt(count + 3/8) over each block of {BLOCK_WEEKS} periods, "
            "then the mean over blocks of the standard deviation within a block"
        ),
        "distance": (
            "Euclidean distance between the summary statistics, each divided by its standard deviation over the "
            "generation's simulations (adaptive, Prangle 2017)"
        ),
        "data": data,
        "labels": field_labels(scenario, posterior.paths),
        "generations": generations,
        "posterior": fields,
        "correlations": [{"a": a, "b": b, "r": round(r, 4)} for _, a, b, r in pairs[:6]],
        "predictive": {
            item.series.id: {
                "draws": item.draws,
                "checks": checks[item.series.id],
                "forecast_by_month": forecast_by_month(item),
                "label": item.series.label,
                "observed": item.series.counts.tolist(),
                "bands": {
                    "dates": [str(d) for d in item.dates],
                    **{
                        f"p{round(level * 100):02d}": [round(float(v), 3) for v in item.bands[level]]
                        for level in PPC_LEVELS
                    },
                },
            }
            for item in predictive
        },
    }
    for item in prior_predictive or []:
        bands = summary["predictive"][item.series.id]["bands"]
        bands["prior_p50"] = [round(float(v), 3) for v in item.bands[0.5]]
    summary["outcome"] = (
        f"Posterior of {len(posterior.paths)} fields from {posterior.runs_simulated:,} runs in "
        f"{len(generations)} generations; "
        f"the observed series lies inside the model's 90% band in {coverage:.0%} of observed periods."
    )
    return summary
