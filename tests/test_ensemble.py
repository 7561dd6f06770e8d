"""Monte Carlo ensembles (sim/ensemble.py and the `ensemble` command).

The central check: member i of a vectorised batch equals the single Mesa run
with the same seed and the same sampled fields, for every variable the Mesa
model collects, at every step (to 1e-12). Then the ensemble's own outputs:
reproducible seeds, histogram bands against exact quantiles, the Wilson
interval, byte-identical files for any number of workers, refusal of bad
`uncertain:` entries with the standard error (exit code 2), and a clean
Ctrl-C.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats
from typer.testing import CliRunner

import cli
from sim.api import write_monte_carlo
from sim.model import engine
from sim.model.model import NegotiationModel
from sim.runs.batch import BandCounts, Bands, ChunkSpec, band_series, run_seeds, sample_uncertain, simulate_chunk
from sim.runs.distributed import open_executor
from sim.runs.ensemble import plan_monte_carlo
from sim.runs.statistics import histogram_counts, survival_curve, wilson_interval
from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.params import params_from_scenario, set_field

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"
SEPTEMBER = ROOT / "scenarios" / "stalemate_2016_09.yaml"
TOLERANCE = 1e-12


# ---------------------------------------------------------------------------- batch member == single Mesa run


def _member(value: object, i: int) -> object:
    """Row i of a batch array, kept as a batch of one."""
    return value[i : i + 1] if isinstance(value, np.ndarray) and value.ndim >= 1 else value


def _assert_same(label: str, single: object, batch_row: object) -> None:
    if isinstance(single, str) or isinstance(batch_row, str):
        assert single == batch_row, label
        return
    single, batch_row = np.asarray(single), np.asarray(batch_row)
    assert single.shape == batch_row.shape, label
    if single.dtype.kind in "fc":
        np.testing.assert_allclose(single, batch_row, rtol=0, atol=TOLERANCE, equal_nan=True, err_msg=label)
    else:
        np.testing.assert_array_equal(single, batch_row, err_msg=label)


def _collected_rows(model: NegotiationModel, step: int) -> tuple[dict, dict[str, dict]]:
    """What the model's DataCollector recorded at `step`: model variables and each actor's variables."""
    model_vars = model.datacollector.get_model_vars_dataframe().iloc[step].to_dict()
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    rows = agents[agents["Step"] == step + 1]
    return model_vars, {row["actor"]: row for row in rows.to_dict("records")}


OIL_CAP = ROOT / "scenarios" / "deal_saudi_russia_oil_cap.yaml"  # no battlefield, no uncertain: block


@pytest.mark.parametrize(
    ("path", "runs"), [(MARCH, 5), (SEPTEMBER, 3), (OIL_CAP, 2)], ids=["march", "september", "no-battlefield"]
)
def test_batch_member_equals_the_single_mesa_run_with_its_seed(path: Path, runs: int) -> None:
    loaded = load_scenario(path)
    scenario = loaded.scenario
    assert bool(scenario.uncertain) == (path != OIL_CAP), "the 2016 scenarios should vary some fields"
    plan = plan_monte_carlo(loaded, runs, seed=20160227)
    seeds, inputs = plan.batch.seeds, plan.batch.inputs

    params = params_from_scenario(scenario, runs=runs)
    for field_path, values in inputs.items():
        set_field(params, field_path, values)
    state = engine.initial_state(params)
    draws = np.stack([engine.draw_noise(np.random.default_rng(int(s)), params) for s in seeds], axis=1)

    models = []
    for i in range(runs):
        single = params_from_scenario(scenario)
        for field_path, values in inputs.items():
            set_field(single, field_path, values[i : i + 1])
        models.append(NegotiationModel(scenario, seed=int(seeds[i]), params=single))

    compared = 0
    for step in range(params.steps):
        seen, intents, outcome, fired = engine.advance(params, state, step, draws[step])
        for i, model in enumerate(models):
            model.step()
            assert model.fired == fired
            for name, value in vars(seen).items():
                _assert_same(f"step {step} run {i} seen.{name}", getattr(model.seen, name), _member(value, i))
            for name, value in intents.items():
                _assert_same(f"step {step} run {i} intent {name}", model.intents[name], _member(value, i))
            for name, value in outcome.items():
                _assert_same(f"step {step} run {i} outcome {name}", model.outcome[name], _member(value, i))
            for item in dataclasses.fields(state):
                if not item.metadata.get(engine.PER_RUN, True):
                    assert np.array_equal(getattr(model.state, item.name), getattr(state, item.name)), item.name
                    continue
                _assert_same(
                    f"step {step} run {i} state.{item.name}",
                    getattr(model.state, item.name),
                    _member(getattr(state, item.name), i),
                )
            # Every variable the DataCollector holds, against the same view of the batch's row i.
            model_vars, actor_rows = _collected_rows(model, step)
            # The model's own publishing code, run on row i of the batch, says what it should have collected.
            row = types.SimpleNamespace(
                seen=engine.Assessment(**{k: _member(v, i) for k, v in vars(seen).items()}),
                state=engine.State(
                    **{
                        f.name: _member(getattr(state, f.name), i)
                        if f.metadata.get(engine.PER_RUN, True)
                        else getattr(state, f.name)
                        for f in dataclasses.fields(state)
                    }
                ),
                intents={k: _member(v, i) for k, v in intents.items()},
                outcome={k: _member(v, i) for k, v in outcome.items()},
                fired=fired,
                params=model.params,
                spec=scenario,
                step_index=step,
            )
            NegotiationModel._publish(row)
            assert set(model_vars) == set(model.datacollector.model_reporters)
            for column, value in model_vars.items():
                expected = step if column == "step_index" else getattr(row, column)
                _assert_same(f"step {step} run {i} model.{column}", value, expected)
                compared += 1
            for a, actor_id in enumerate(params.actor_ids):
                expected = NegotiationModel.actor_values_of(row, a)
                assert set(expected) == set(model.actor_columns)
                for column, value in expected.items():
                    _assert_same(f"step {step} run {i} {actor_id}.{column}", actor_rows[actor_id][column], value)
                    compared += 1
    assert compared > 1000

    # The ensemble's chunk function reports the same outcomes as the single runs.
    chunk = simulate_chunk(ChunkSpec(scenario), 0, seeds, inputs)
    for i, model in enumerate(models):
        assert chunk.outcomes["deal"][i] == bool(model.state.deal[0])
        assert chunk.outcomes["deal_step"][i] == int(model.state.deal_step[0])
        assert chunk.outcomes["ceasefire_collapsed_step"][i] == int(model.state.collapsed_step[0])
        assert chunk.outcomes["ceasefire_held_steps"][i] == int(model.state.held_steps[0])
        for k, issue in enumerate(params.issue_ids):
            np.testing.assert_allclose(
                chunk.outcomes[f"proposal_{issue}"][i], model.seen.proposal[0, k], atol=TOLERANCE
            )


def test_a_run_does_not_depend_on_the_chunk_it_is_in() -> None:
    """Splitting a batch differently gives the same numbers for each run (nothing mixes runs)."""
    loaded = load_scenario(MARCH)
    plan = plan_monte_carlo(loaded, 12, seed=3)
    seeds, inputs = plan.batch.seeds, plan.batch.inputs
    whole = simulate_chunk(ChunkSpec(loaded.scenario, bands=True), 0, seeds, inputs)
    parts = [
        simulate_chunk(
            ChunkSpec(loaded.scenario, bands=True),
            start,
            seeds[start:stop],
            {k: v[start:stop] for k, v in inputs.items()},
        )
        for start, stop in ((0, 5), (5, 6), (6, 12))
    ]
    for name, column in whole.outcomes.items():
        np.testing.assert_array_equal(column, np.concatenate([p.outcomes[name] for p in parts]), err_msg=name)
    bins = band_series(loaded.scenario)
    for name, counts in whole.bands.items():
        np.testing.assert_array_equal(
            counts.full(bins[name][2]), sum(p.bands[name].full(bins[name][2]) for p in parts), err_msg=name
        )


# ---------------------------------------------------------------------------- seeds, samples, statistics


def test_run_seeds_are_reproducible_distinct_and_valid_scenario_seeds() -> None:
    seeds = run_seeds(42, 10_000)
    assert np.array_equal(seeds, run_seeds(42, 10_000))
    assert np.array_equal(seeds[:100], run_seeds(42, 100))  # a larger ensemble extends a smaller one
    assert len(np.unique(seeds)) == len(seeds)
    assert seeds.min() >= 0 and seeds.max() <= 2**63 - 1
    assert not np.array_equal(seeds, run_seeds(43, 10_000))


def test_uncertain_samples_follow_their_distributions() -> None:
    scenario = load_scenario(MARCH).scenario
    samples = sample_uncertain(scenario.uncertain, 20_000, seed=1)
    assert list(samples) == list(scenario.uncertain)
    for path, spec in scenario.uncertain.items():
        values = samples[path]
        if spec.dist == "uniform":
            assert values.min() >= spec.low and values.max() <= spec.high
            assert stats.kstest(values, "uniform", args=(spec.low, spec.high - spec.low)).pvalue > 1e-4
        if spec.dist == "truncnormal":
            assert values.min() >= spec.low and values.max() <= spec.high
    # Streams are independent per field: two fields with the same distribution are not equal.
    assert not np.allclose(samples["actors.us.war_cost"], samples["actors.russia.war_cost"])


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_matches_published_values(successes: int, trials: int, low: float, high: float) -> None:
    # Reference values: Newcombe (1998), Table I, method 3 (Wilson score, no continuity correction).
    lo, hi = wilson_interval(successes, trials)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_histogram_bands_agree_with_exact_quantiles() -> None:
    rng = np.random.default_rng(0)
    values = np.stack([rng.normal(0.4 + 0.01 * t, 0.1, 5000) for t in range(6)])
    bands = Bands.__new__(Bands)
    bands.ranges = {"x": (-2.0, 1.0, 3000)}
    bands.counts = {}
    bands.add({"x": histogram_counts(values[:, :2000], -2.0, 1.0, 3000)})  # two chunks, summed
    bands.add({"x": histogram_counts(values[:, 2000:], -2.0, 1.0, 3000)})
    got = bands.quantiles("x")
    for level, series in got.items():
        exact = np.quantile(values, level, axis=1)
        np.testing.assert_allclose(series, exact, atol=2e-3)  # a bin is 1e-3 wide


def test_trimmed_band_counts_keep_every_count() -> None:
    counts = histogram_counts(np.array([[0.31, 0.35, 0.52], [0.33, 0.34, 0.36]]), 0.0, 1.0, 100)
    trimmed = BandCounts.trimmed(counts)
    assert trimmed.offset == 31 and trimmed.counts.shape == (2, 22)
    np.testing.assert_array_equal(trimmed.full(100), counts)
    empty = BandCounts.trimmed(np.zeros((3, 10), dtype=np.int64))
    np.testing.assert_array_equal(empty.full(10), np.zeros((3, 10)))


def test_histogram_puts_outliers_in_the_end_bins_and_ignores_nan() -> None:
    counts = histogram_counts(np.array([[-5.0, 0.5, 7.0, np.nan]]), 0.0, 1.0, 10)
    assert counts.sum() == 3 and counts[0, 0] == 1 and counts[0, 9] == 1 and counts[0, 5] == 1


def test_survival_curve_counts_collapses_by_step() -> None:
    assert survival_curve(np.array([-1, 0, 2, 2]), 4) == [0.75, 0.75, 0.25, 0.25]


# ---------------------------------------------------------------------------- outputs


def test_ensemble_outputs_hold_every_run_and_a_consistent_summary(tmp_path: Path) -> None:
    loaded = load_scenario(MARCH)
    plan = plan_monte_carlo(loaded, 40, seed=11)
    with open_executor(workers=1) as executor:
        write_monte_carlo(plan, tmp_path / "out", executor)
    table = pq.read_table(tmp_path / "out" / "ensemble.parquet")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert table.num_rows == 40
    assert table.column("run").to_pylist() == list(range(40))
    assert table.column("seed").to_pylist() == run_seeds(11, 40).tolist()
    for path, values in plan.batch.inputs.items():
        np.testing.assert_array_equal(table.column(path).to_numpy(), values)
    deals = sum(table.column("deal").to_pylist())
    assert summary["kind"] == "ensemble" and summary["runs"] == 40
    assert summary["deal"]["runs_with_deal"] == deals
    assert summary["deal"]["probability"] == pytest.approx(deals / 40)
    low, high = summary["deal"]["ci95"]
    assert low <= deals / 40 <= high
    # A run without a deal has nulls, not numbers, for the deal's position.
    no_deal = [i for i, d in enumerate(table.column("deal").to_pylist()) if not d]
    for i in no_deal:
        assert table.column("deal_step")[i].as_py() is None
    assert summary["deal_position"]["assad_role"]["count"] == deals
    assert len(summary["ceasefire"]["survival"]) == loaded.scenario.time.steps
    assert set(summary["bands"]) >= {"control", "batna_us", "deal_value_russia"}
    for band in summary["bands"].values():
        assert all(lo <= mid <= hi for lo, mid, hi in zip(band["p05"], band["p50"], band["p95"], strict=True))
    html = (tmp_path / "out" / "report.html").read_text()
    for title in ("Deal on offer against the alternative, across runs", "Survival of the ceasefire", "Outcomes"):
        assert title in html


def _run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_ensemble_files_are_byte_identical_for_any_number_of_workers(tmp_path: Path) -> None:
    folders = {}
    for workers in (1, 2):
        folder = tmp_path / f"w{workers}"
        done = _run_cli(
            "ensemble", str(MARCH), "--runs", "600", "--seed", "5", "--workers", str(workers), "--out", str(folder)
        )
        assert done.returncode == 0, done.stderr
        assert "A deal in" in done.stdout
        folders[workers] = folder
    for name in ("ensemble.parquet", "summary.json", "report.html"):
        assert (folders[1] / name).read_bytes() == (folders[2] / name).read_bytes(), name
    assert pq.ParquetFile(folders[1] / "ensemble.parquet").num_row_groups >= 2  # really cut into chunks


# ---------------------------------------------------------------------------- bad uncertain blocks

BAD_UNCERTAIN = {
    "unknown field": (
        "actors.us.nonsense: {dist: uniform, low: 0, high: 1}",
        "uncertain.actors.us.nonsense",
        "not a numeric field",
    ),
    "unknown actor": (
        "actors.saudi.war_cost: {dist: uniform, low: 0, high: 1}",
        "uncertain.actors.saudi.war_cost",
        "not a numeric field",
    ),
    "text field": (
        "actors.us.name: {dist: uniform, low: 0, high: 1}",
        "uncertain.actors.us.name",
        "not a numeric field",
    ),
    "low above high": (
        "actors.us.war_cost: {dist: uniform, low: 0.05, high: 0.01}",
        "uncertain.actors.us.war_cost.high",
        "must be above low",
    ),
    "missing sd": ("battlefield.kappa: {dist: normal, mean: 0.2}", "uncertain.battlefield.kappa.sd", "needs 'sd'"),
    "negative sd": (
        "battlefield.kappa: {dist: normal, mean: 0.2, sd: -1}",
        "uncertain.battlefield.kappa.sd",
        "greater than 0",
    ),
    "mode outside": (
        "battlefield.kappa: {dist: triangular, low: 0.1, mode: 0.5, high: 0.3}",
        "uncertain.battlefield.kappa.mode",
        "between low and high",
    ),
    "unknown distribution": (
        "battlefield.kappa: {dist: lognormal, mean: 0.2, sd: 0.1}",
        "uncertain.battlefield.kappa.dist",
        "Input should be",
    ),
    "outside the field's range": (
        "actors.us.patience: {dist: uniform, low: 0.9, high: 1.2}",
        "uncertain.actors.us.patience",
        "which the field refuses",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_UNCERTAIN))
def test_bad_uncertain_entries_are_refused_with_file_line_and_field(case: str, tmp_path: Path) -> None:
    entry, field, words = BAD_UNCERTAIN[case]
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(
        textwrap.dedent(f"""\
        extends: {MARCH}
        uncertain:
          {entry}
        """),
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli.app, ["ensemble", str(scenario), "--runs", "10", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"{scenario}:3:" in message  # file and line of the entry
    assert f"field '{field}'" in message
    assert words in message
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_file_value_the_ensemble_would_overwrite_is_pointed_out(tmp_path: Path) -> None:
    scenario = tmp_path / "more_air.yaml"
    scenario.write_text(
        textwrap.dedent(f"""\
        extends: {MARCH}
        actors: {{russia: {{forces: {{air: 2.0}}}}}}
        """),
        encoding="utf-8",
    )
    notes = plan_monte_carlo(load_scenario(scenario), 10, seed=1).notes
    assert len(notes) == 1 and notes[0].startswith("actors.russia.forces.air is 2 in the scenario")
    assert plan_monte_carlo(load_scenario(MARCH), 10, seed=1).notes == []
    result = CliRunner().invoke(cli.app, ["ensemble", str(scenario), "--runs", "10", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0 and "note: actors.russia.forces.air" in result.output


def test_a_refused_sample_range_is_a_scenario_error_in_the_library() -> None:
    loaded = load_scenario(MARCH)
    loaded.scenario.uncertain["actors.us.patience"] = type(next(iter(loaded.scenario.uncertain.values())))(
        dist="normal", mean=0.97, sd=0.2
    )
    with pytest.raises(ScenarioError, match="which the field refuses"):
        plan_monte_carlo(loaded, 200, seed=1)


# ---------------------------------------------------------------------------- Ctrl-C


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_leaves_no_half_written_output(workers: int, tmp_path: Path) -> None:
    """Ctrl-C in a terminal signals the whole process group: the command and its workers."""
    folder = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "ensemble",
            str(MARCH),
            "--runs",
            "200000",
            "--workers",
            str(workers),
            "--out",
            str(folder),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(folder.glob(".staging-*/ensemble.parquet")):
            time.sleep(0.2)
        assert any(folder.glob(".staging-*/ensemble.parquet")), "the ensemble never started writing"
        time.sleep(1.0)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    assert "nothing was written" in stderr
    assert "Traceback" not in stderr
    assert not folder.exists() or not any(folder.iterdir())


def test_skipping_the_inducement_measure_changes_nothing_else() -> None:
    """Ensembles skip the inducement leverage (unrecorded, read by no decision): every other number stays."""
    loaded = load_scenario(SEPTEMBER)
    plan = plan_monte_carlo(loaded, 20, seed=12)
    runs = []
    for measure in (True, False):
        params = params_from_scenario(loaded.scenario, runs=20)
        for field_path, values in plan.batch.inputs.items():
            set_field(params, field_path, values)
        state = engine.initial_state(params)
        draws = np.stack([engine.draw_noise(np.random.default_rng(int(s)), params) for s in plan.batch.seeds], axis=1)
        steps = [engine.advance(params, state, t, draws[t], measure_inducement=measure) for t in range(params.steps)]
        runs.append((steps, state))
    (full, full_state), (lean, lean_state) = runs
    for (seen, intents, outcome, _), (seen_lean, intents_lean, outcome_lean, _) in zip(full, lean, strict=True):
        for name, value in vars(seen).items():
            if name != "inducement":
                np.testing.assert_array_equal(value, getattr(seen_lean, name), err_msg=name)
        assert not seen_lean.inducement.any()
        for name in intents:
            np.testing.assert_array_equal(intents[name], intents_lean[name], err_msg=name)
        for name in outcome:
            np.testing.assert_array_equal(outcome[name], outcome_lean[name], err_msg=name)
    assert any(seen.inducement.any() for seen, *_ in full)  # the full measure is not trivially zero
    for item in dataclasses.fields(full_state):
        np.testing.assert_array_equal(getattr(full_state, item.name), getattr(lean_state, item.name))


def test_time_to_deal_counts_only_runs_with_a_deal(tmp_path: Path) -> None:
    """Runs without a settlement have no deal step (null in the runs file) and are not counted in
    `time_to_deal`, whatever the engine keeps for them internally."""
    import pyarrow.parquet as pq

    loaded = load_scenario(ROOT / "scenarios" / "stalemate_2016_09_sanctions_linkage.yaml")
    with open_executor(1) as executor:
        write_monte_carlo(plan_monte_carlo(loaded, 60, seed=5), tmp_path / "out", executor)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    table = pq.read_table(tmp_path / "out" / "ensemble.parquet", columns=["deal", "deal_step"]).to_pydict()
    without = [step for deal, step in zip(table["deal"], table["deal_step"], strict=True) if not deal]
    assert without and all(step is None for step in without)
    assert summary["time_to_deal"]["count"] == sum(table["deal"])


@pytest.mark.parametrize(
    ("name", "in_force"),
    [
        ("ceasefire_2016_03.yaml", True),
        ("ceasefire_2016_03_separate_tracks.yaml", True),
        ("stalemate_2016_09.yaml", False),
    ],
)
def test_the_summary_knows_whether_a_ceasefire_is_in_force_at_the_start(
    tmp_path: Path, name: str, in_force: bool
) -> None:
    """With an `agreements:` section the ceasefire in force at the start is an agreement's `in_force_at_start`
    (battlefield.ceasefire is refused beside it): the summary read battlefield.ceasefire only, and said False
    for the separate-tracks scenario, whose cessation is in force from the first week."""
    plan = plan_monte_carlo(load_scenario(ROOT / "scenarios" / name), 8, seed=1)
    with open_executor(workers=1) as executor:
        write_monte_carlo(plan, tmp_path / "out", executor)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["ceasefire"]["in_force_at_start"] is in_force
