"""Monte Carlo over a scenario's `uncertain:` block: plan the runs, then summarise them.

The runs themselves are a `sim.runs.batch.Batch`; this module samples its
inputs, refuses samples a field would not accept, and turns the runs file into
the ensemble's summary (deal probability with its interval, quantiles, survival).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from sim.runs.batch import (
    Bands,
    Batch,
    ParquetSink,
    chunk_table,
    execute,
    field_value_problem,
    outcome_columns,
    run_seeds,
    runs_schema,
    sample_uncertain,
    support_ends,
)
from sim.runs.labels import field_labels
from sim.runs.statistics import describe_values, proportion, survival_curve
from sim.scenario.limits import check_runs
from sim.scenario.params import compile_agreements, field_target, params_from_scenario
from sim.scenario.schema import Scenario

Array = NDArray[np.float64]


# ---------------------------------------------------------------------------- Monte Carlo


@dataclass
class MonteCarlo:
    """A Monte Carlo ensemble of a loaded scenario: plan it, run it into a Parquet file, summarise it."""

    loaded: Any  # sim.scenario.loader.LoadedScenario
    runs: int
    seed: int
    batch: Batch
    bands: Bands
    parquet_path: Path | None = None
    notes: list[str] = field(default_factory=list)  # things worth telling the user before the runs
    posterior: dict[str, Any] | None = None  # where the calibrated fields came from (file, hash, fields)

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


def plan_monte_carlo(loaded: Any, runs: int, seed: int | None = None, posterior: Any = None) -> MonteCarlo:
    """Seeds and samples of every run; refuses samples outside a field's allowed range.

    With a `posterior` (`sim.runs.calibration.Posterior`, read from a calibration's posterior.parquet) the fields
    it holds are drawn from it, whole parameter sets at a time, by weight; the other uncertain fields from their
    priors.
    """
    from sim.scenario.loader import ScenarioError, locate

    scenario = loaded.scenario
    check_runs(runs, "--runs")  # before the seeds and samples are allocated
    seed = scenario.seed if seed is None else seed
    inputs = sample_uncertain(scenario.uncertain, runs, seed)
    notes: list[str] = []
    calibrated: list[str] = []
    if posterior is not None:
        # Only the fields the scenario still leaves uncertain: a counterfactual that sets one to null keeps its
        # own value, as it would without a posterior.
        calibrated = [path for path in posterior.paths if path in scenario.uncertain]
        ignored = [path for path in posterior.paths if path not in scenario.uncertain]
        # Its own stream (the last child of the seed's), so the prior draws of the other fields are unchanged.
        stream = np.random.SeedSequence(seed).spawn(2 + len(scenario.uncertain))[-1]
        drawn = posterior.resample(runs, np.random.default_rng(stream))
        inputs.update({path: drawn[path] for path in calibrated})
        if ignored:
            notes.append(
                f"in the posterior but not uncertain in this scenario, kept at its values: {', '.join(ignored)}"
            )
        prior_only = [path for path in scenario.uncertain if path not in posterior.paths]
        if prior_only:
            notes.append(f"not in the posterior, drawn from the priors: {', '.join(prior_only)}")
    file = str(loaded.path)
    for path, spec in scenario.uncertain.items():
        if path in calibrated:
            continue
        for end in support_ends(spec, inputs[path]):
            problem = field_value_problem(scenario, path, end)
            if problem is not None:
                where = locate(loaded.locations, ("uncertain", path), file)
                raise ScenarioError(
                    where[0],
                    f"the distribution reaches {end:g}, which the field refuses: {problem}",
                    line=where[1],
                    column=where[2],
                    field_path=f"uncertain.{path}",
                    hint="narrow the distribution, or use truncnormal with low and high inside the field's range.",
                )
    batch = Batch(scenario=scenario, seeds=run_seeds(seed, runs), inputs=inputs)
    notes += overridden_values(scenario, skip=calibrated)
    source = None
    if posterior is not None:
        source = {**(posterior.source or {}), "fields": calibrated}
    return MonteCarlo(
        loaded=loaded, runs=runs, seed=seed, batch=batch, bands=Bands(scenario), notes=notes, posterior=source
    )


def overridden_values(scenario: Scenario, skip: list[str] | None = None) -> list[str]:
    """Fields whose value in the file lies outside their uncertain: distribution's range.

    The ensemble samples such a field and never uses the file's value: usually a counterfactual
    (`extends:`) that changed a field its parent's uncertain: block still samples.
    """
    params = params_from_scenario(scenario)
    notes = []
    for path, spec in scenario.uncertain.items():
        if spec.dist == "normal" or path in (skip or []):  # a calibrated field is drawn from its posterior
            continue
        low, high = support_ends(spec, np.zeros(1))
        array, index = field_target(params, path)
        value = float(array[index][0])
        if not low <= value <= high:
            notes.append(
                f"{path} is {value:g} in the scenario, but its uncertain: entry samples {low:g} to "
                f"{high:g}; the ensemble uses the samples (set the entry to null in the file to keep "
                "the value)"
            )
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
    has_war = scenario.battlefield is not None
    agreements = compile_agreements(scenario)
    collapse = proportion(collapses, runs)
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
        "posterior": plan.posterior,
        "labels": field_labels(scenario, scenario.uncertain),
        "deal": {
            **proportion(deals, runs),
            "runs_with_deal": deals,
            "cumulative_by_step": [round(float(v), 6) for v in np.cumsum(by_step) / max(runs, 1)],
        },
        "deal_position": {k: describe_values(_column(table, f"deal_{k}")) for k in scenario.issues},
        "time_to_deal": {"unit": scenario.time.step, **describe_values(deal_step)},
        "ceasefire": {
            "in_force_at_start": has_war and bool(np.any(agreements.in_force_at_start & agreements.stops_fighting)),
            "collapse_probability": collapse["probability"],
            "ci95": collapse["ci95"],
            "survival": survival,
            "median_collapse_step": median_collapse,
            "held_steps": describe_values(_column(table, "ceasefire_held_steps")),
            "in_force_at_end": round(float(table.column("ceasefire_at_end").to_numpy(zero_copy_only=False).mean()), 6)
            if runs
            else None,
        },
        "agreements": agreements_summary(table, scenario, runs),
        "threats": threats_summary(table, scenario, runs),
        "control_end": describe_values(_column(table, "control_end")) if has_war else None,
        "actors": {
            actor: {
                "name": scenario.actors[actor].name,
                "batna_end": describe_values(_column(table, f"batna_{actor}")),
                "utility_of_deal": describe_values(_column(table, f"utility_of_deal_{actor}")),
            }
            for actor in scenario.actors
        },
        "bands": intensity_bands(
            loaded,
            {
                name: {f"p{round(level * 100):02d}": values for level, values in plan.bands.quantiles(name).items()}
                for name in plan.bands.ranges
            },
        ),
    }
    from sim import __version__

    summary["version"] = __version__
    summary["outcome"] = ensemble_sentence(summary)
    return summary


def intensity_bands(loaded: Any, bands: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The bands, with `intensity` in the units of the scenario's first observed series (simulated counts per
    step, `observed_<id>`) when it has one, and the fighting intensity (0 to 1) as `fighting_intensity`.

    When that series' periods are the scenario's steps (weekly counts of weekly steps that start on the same
    days), `intensity.observed` gives the observed count per step (None where there is none), so that a report
    can draw the data over the bands."""
    from sim.runs.batch import OBSERVED_BAND_PREFIX

    scenario = loaded.scenario
    bands = dict(bands)
    fighting = bands.pop("intensity")
    bands["fighting_intensity"] = {**fighting, "units": "share of full war (0 to 1)"}
    observations = list(scenario.observations or {})
    if observations:
        first = observations[0]
        label = scenario.observations[first].label or first
        bands["intensity"] = {
            **bands[f"{OBSERVED_BAND_PREFIX}{first}"],
            "units": f"simulated count per {scenario.time.step}: {label}",
            "observed": observed_per_step(loaded, first),
        }
    else:
        bands["intensity"] = bands["fighting_intensity"]
    return bands


def observed_per_step(loaded: Any, observation_id: str) -> list[int | None] | None:
    """The observed count of each step, where the series' periods are the steps (else None)."""
    from sim.scenario.observations import load_observations, step_dates

    scenario = loaded.scenario
    series = load_observations(loaded)[observation_id]
    if series.resolution != "week" or scenario.time.step_days != 7:
        return None
    starts = step_dates(scenario.time).tolist()
    by_date = dict(zip(series.dates.tolist(), series.counts.tolist(), strict=True))
    if not set(by_date) <= set(starts):
        return None
    return [by_date.get(day) for day in starts]


def agreements_summary(table: pa.Table, scenario: Scenario, runs: int) -> dict[str, Any]:
    """Per agreement: reached, held to the end and collapsed within 4 weeks of its signing, each with a
    Wilson 95% interval, and the weeks from signing to collapse over the runs where it collapsed."""
    weeks_per_step = scenario.time.step_days / 7.0
    agreements = compile_agreements(scenario)
    result = {}
    for g in agreements.reported(scenario.battlefield is not None):
        name = agreements.ids[g]
        signed = np.nan_to_num(_column(table, f"agreement_{name}_first_step"), nan=-1.0)
        collapsed = np.nan_to_num(_column(table, f"agreement_{name}_collapsed_step"), nan=-1.0)
        at_end = table.column(f"agreement_{name}_at_end").to_numpy(zero_copy_only=False).astype(bool)
        reached = signed >= 0
        fell = reached & (collapsed >= signed) & (collapsed >= 0)
        weeks = np.where(fell, (collapsed - signed) * weeks_per_step, np.nan)
        result[name] = {
            "reached": proportion(int(reached.sum()), runs),
            "held_to_end": proportion(int((reached & at_end).sum()), runs),
            "collapsed_within_4_weeks": proportion(int((fell & (weeks < 4.0)).sum()), runs),
            "weeks_to_collapse": describe_values(weeks),
        }
    return result


def threats_summary(table: pa.Table, scenario: Scenario, runs: int) -> dict[str, Any]:
    """Per threat object: the share of runs in which it was ever carried out (`carried_out`), and its status
    at the end (`at_end`: pending, lapsed once its demand was met, still being carried out, bluff called at
    its deadline), each with a Wilson 95% interval."""
    from sim.model.engine import THREAT_STATUS

    result = {}
    for threat in scenario.threats:
        status = table.column(f"threat_{threat}_status").to_numpy(zero_copy_only=False)
        carried = np.nan_to_num(_column(table, f"threat_{threat}_carried_out_step"), nan=-1.0) >= 0
        result[threat] = {
            "carried_out": proportion(int(carried.sum()), runs),
            "at_end": {
                name.replace(" ", "_"): proportion(int((status == code).sum()), runs)
                for code, name in enumerate(THREAT_STATUS)
            },
        }
    return result


def ensemble_sentence(summary: dict[str, Any]) -> str:
    """The ensemble's outcome in one sentence."""
    deal, runs = summary["deal"], summary["runs"]
    unit = summary["step_length"]
    text = (
        f"A deal in {deal['probability']:.1%} of {runs:,} runs (95% interval {deal['ci95'][0]:.1%} to "
        f"{deal['ci95'][1]:.1%})"
    )
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
