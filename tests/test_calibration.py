"""Calibration (issue 12): ABC-SMC of the uncertain fields against the observed series, its outputs, the
posterior's use by `ensemble --posterior`, a simulation-based recovery check, and determinism."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats
from typer.testing import CliRunner

import cli
from sim.mechanisms.observation import activity, anscombe, block_summaries
from sim.runs import calibration
from sim.runs.batch import sample_uncertain
from sim.runs.distributed import open_executor
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Distribution
from sim.scenario.uncertainty import sample

ROOT = Path(__file__).resolve().parent.parent
SYRIA = ROOT / "scenarios" / "syria_2016.yaml"
SERIES = "russian_strike_incidents"
RECOVERED = [
    "battlefield.ceasefire_intensity",
    f"observations.{SERIES}.model.scale",
    f"observations.{SERIES}.model.dispersion",
]
runner = CliRunner()


def few_fields(tmp_path: Path, keep: list[str]) -> Path:
    """A scenario that extends syria_2016.yaml and keeps only `keep` uncertain (the others set to null)."""
    loaded = load_scenario(SYRIA)
    nulls = "\n".join(f"  {path}: null" for path in loaded.scenario.uncertain if path not in keep)
    file = tmp_path / "few.yaml"
    file.write_text(f"extends: {SYRIA.as_posix()}\nuncertain:\n{nulls}\n", encoding="utf-8")
    return file


# ---------------------------------------------------------------------------- small pure functions


@pytest.mark.parametrize(
    "spec",
    [
        Distribution(dist="uniform", low=0.2, high=4.0),
        Distribution(dist="normal", mean=1.0, sd=0.3),
        Distribution(dist="truncnormal", mean=0.5, sd=0.4, low=0.0, high=1.0),
        Distribution(dist="triangular", low=0.0, mode=0.2, high=1.0),
        Distribution(dist="beta", a=2.0, b=5.0),
        Distribution(dist="beta", a=2.0, b=5.0, low=1.0, high=3.0),
    ],
)
def test_the_prior_abc_weighs_by_is_the_law_the_ensemble_samples(spec: Distribution) -> None:
    law, args = calibration.scipy_prior(spec)
    drawn = sample(spec, 4000, np.random.default_rng(7))
    result = stats.kstest(drawn, getattr(stats, law)(*args).cdf)
    assert result.pvalue > 0.01, (spec, result)


def test_a_choice_prior_is_refused_with_the_reason() -> None:
    with pytest.raises(calibration.CalibrationError, match="no density"):
        calibration.scipy_prior(Distribution(dist="choice", values=[1.0, 2.0]))


def test_activity_follows_the_named_force_and_only_then() -> None:
    intensity = np.array([[1.0, 1.0, 0.2]])
    present = np.array([[1.0, 0.3, 0.3]])
    assert np.allclose(activity(intensity), intensity)
    assert np.allclose(activity(intensity, present, np.array([1.0])), [[1.0, 0.3, 0.06]])
    # twice the force at the start: half the share present
    assert np.allclose(activity(intensity, present, 2.0), [[0.5, 0.15, 0.03]])


def test_block_summaries_are_block_means_and_the_mean_spread_within_blocks() -> None:
    counts = np.array([0, 0, 6, 6, 10])
    z = anscombe(counts)
    expected = [z[:2].mean(), z[2:4].mean(), z[4:].mean(), np.mean([0.0, 0.0, 0.0])]
    assert np.allclose(block_summaries(counts, 2), expected)
    noisy = np.array([0, 8, 6, 6])
    assert block_summaries(noisy, 2)[-1] == pytest.approx(np.std(anscombe([0, 8])) / 2)
    batch = block_summaries(np.vstack([counts, counts[::-1]]), 2)
    assert batch.shape == (2, 4) and np.allclose(batch[0], expected)


def test_weighted_quantiles_ignore_weightless_particles_and_match_equal_weights() -> None:
    values = np.arange(1.0, 101.0)
    equal = calibration.weighted_quantile(values, np.ones(100), (0.05, 0.5, 0.95))
    assert np.allclose(equal, np.quantile(values, (0.05, 0.5, 0.95)), atol=0.6)
    weights = np.where(values > 50, 1.0, 0.0)
    low, high = calibration.weighted_quantile(values, weights, (0.0, 1.0))
    assert low >= 51 and high <= 100


def test_the_steps_simulated_end_with_the_last_observed_week() -> None:
    loaded = load_scenario(SYRIA)
    series = calibration.observed_series(loaded)
    # the last observed week starts 2016-08-22 (the week of 29 August runs into September and is left out);
    # the scenario starts on Monday 2015-09-28, so that week is step 47
    assert str(series[0].dates[-1]) == "2016-08-22"
    assert calibration.observed_steps(loaded.scenario, series) == 48


# ---------------------------------------------------------------------------- recovery (simulation-based check)


def test_calibration_recovers_known_parameters_from_data_it_simulated(tmp_path: Path) -> None:
    """Data simulated from parameters drawn from the prior; the 90% posterior intervals must cover the truth for
    at least 80% of (replication, field) pairs, and the data must narrow the observation scale (a posterior as
    wide as its prior would cover the truth whatever the code did)."""
    loaded = load_scenario(few_fields(tmp_path, RECOVERED))
    series = calibration.observed_series(loaded)
    steps = calibration.observed_steps(loaded.scenario, series)
    covered, narrowing = [], []
    scale_spec = loaded.scenario.uncertain[RECOVERED[1]]
    prior_width = 0.9 * (scale_spec.high - scale_spec.low)
    with open_executor(1) as executor:
        for replication in range(5):
            truth = sample_uncertain(loaded.scenario.uncertain, 1, 100 + replication)
            simulator = calibration.CountSimulator(loaded.scenario, series, list(truth), executor, steps=steps)
            data = simulator(*truth.values(), batch_size=1, random_state=np.random.RandomState(replication))[0]
            posterior = calibration.abc_smc(
                loaded.scenario,
                series,
                executor,
                calibration.Settings(population=150, generations=3, seed=replication),
                steps=steps,
                observed=data,
            )
            low, high = posterior.quantiles((0.05, 0.95))
            for j, path in enumerate(posterior.paths):
                covered.append(bool(low[j] <= truth[path][0] <= high[j]))
            j = posterior.paths.index(RECOVERED[1])
            narrowing.append((high[j] - low[j]) / prior_width)
    assert np.mean(covered) >= 0.8, covered
    assert np.mean(narrowing) < 0.6, narrowing


# ---------------------------------------------------------------------------- determinism and executors


def _posterior_bytes(tmp_path: Path, name: str, workers: int, scheduler: str | None = None) -> bytes:
    loaded = load_scenario(few_fields(tmp_path, RECOVERED))
    # batches of 600 runs: three chunks of 250 or fewer (`chunk_size`), so two workers share each batch
    settings = calibration.Settings(population=60, generations=2, batch_runs=600, seed=11)
    series = calibration.observed_series(loaded)
    steps = calibration.observed_steps(loaded.scenario, series)
    with open_executor(workers, scheduler) as executor:
        posterior = calibration.abc_smc(loaded.scenario, series, executor, settings, steps=steps)
    path = tmp_path / f"{name}.parquet"
    calibration.write_posterior(posterior, path, {"seed": "11"})
    return path.read_bytes()


def test_same_seed_same_posterior_bytes_in_process_and_on_local_workers(tmp_path: Path) -> None:
    first = _posterior_bytes(tmp_path, "a", 1)
    assert first == _posterior_bytes(tmp_path, "b", 1)
    assert first == _posterior_bytes(tmp_path, "c", 2)


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_posterior(tmp_path: Path) -> None:
    assert _posterior_bytes(tmp_path, "a", 1) == _posterior_bytes(tmp_path, "d", 2, scheduler="local")


# ---------------------------------------------------------------------------- the command, end to end


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("calibration") / "out"
    result = runner.invoke(
        cli.app,
        [
            "calibrate",
            str(SYRIA),
            "--population",
            "60",
            "--generations",
            "2",
            "--draws",
            "100",
            "--workers",
            "1",
            "--out",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    return folder


def test_calibrate_writes_the_posterior_its_summary_and_report(calibrated: Path) -> None:
    names = {path.name for path in calibrated.iterdir()}
    assert {"posterior.parquet", "posterior.csv", "summary.json", "report.html"} <= names
    table = pq.read_table(calibrated / "posterior.parquet")
    summary = json.loads((calibrated / "summary.json").read_text(encoding="utf-8"))
    assert table.num_rows == 60
    assert set(summary["posterior"]) == set(table.column_names) - {"particle", "weight", "distance"}
    assert table.column("weight").to_numpy().sum() == pytest.approx(1.0)
    for path, row in summary["posterior"].items():
        assert row["p05"] <= row["p50"] <= row["p95"], path
        prior = row["prior"]
        assert prior["low"] <= row["p05"] and row["p95"] <= prior["high"], path
    assert [g["generation"] for g in summary["generations"]] == [0, 1]
    assert summary["method"]["runs_simulated"] >= 2 * 120
    assert summary["seed"] == 2016
    data_file = ROOT / "data" / "syria_2016" / summary["data"][0]["file"]
    assert summary["data"][0]["sha256"] == hashlib.sha256(data_file.read_bytes()).hexdigest()
    predictive = summary["predictive"][SERIES]
    bands = predictive["bands"]
    assert bands["dates"][47] == "2016-08-22" and bands["dates"][-1] >= "2016-12-26"
    assert all(a <= b for a, b in zip(bands["p05"], bands["p95"], strict=True))
    assert [row["month"] for row in predictive["forecast_by_month"]] == [
        "2016-08",
        "2016-09",
        "2016-10",
        "2016-11",
        "2016-12",
    ]
    checks = predictive["checks"]
    assert 0.0 <= checks["coverage_90"] <= 1.0
    # the observed series itself shows the March drop and the rise from late May
    assert checks["march_drop"]["observed"] < 0.5 and checks["rise_from_late_may"]["observed"] > 2.0
    html = (calibrated / "report.html").read_text(encoding="utf-8")
    for anchor in ('id="predictive-russian_strike_incidents"', 'id="marginals"', 'id="generations"', 'id="forecast"'):
        assert anchor in html
    assert "forecast (no data fitted)" in html


def test_ensemble_draws_the_calibrated_fields_from_the_posterior(calibrated: Path, tmp_path: Path) -> None:
    out = tmp_path / "ensemble"
    result = runner.invoke(
        cli.app,
        [
            "ensemble",
            str(SYRIA),
            "--posterior",
            str(calibrated / "posterior.parquet"),
            "--runs",
            "300",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["posterior"]["particles"] == 60
    runs = pq.read_table(out / "ensemble.parquet")
    particles = pq.read_table(calibrated / "posterior.parquet")
    # every run's value of a calibrated field is one of the particles' values
    for path in summary["posterior"]["fields"][:3]:
        assert set(np.unique(runs.column(path).to_numpy())) <= set(particles.column(path).to_numpy())
    intensity = summary["bands"]["intensity"]
    assert "Airwars" in intensity["units"]
    assert max(v for v in intensity["p95"] if v is not None) > 5  # counts, not a share of 0 to 1
    assert summary["bands"]["fighting_intensity"]["units"].startswith("share")
    assert set(summary["agreements"]) == {"cessation_2016_02", "cessation_2016_09", "settlement"}


def _broken(tmp_path: Path, table: pa.Table) -> Path:
    path = tmp_path / "posterior.parquet"
    pq.write_table(table, str(path))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.parquet", "no such file"),
        (lambda tmp: (tmp / "x.parquet").write_text("not parquet") and tmp / "x.parquet", "not a Parquet file"),
        (lambda tmp: _broken(tmp, pa.table({"battlefield.kappa": [0.2]})), "no column 'weight'"),
        (
            lambda tmp: _broken(tmp, pa.table({"weight": [1.0], "actors.nobody.war_cost": [0.1]})),
            "not a numeric field",
        ),
        (lambda tmp: _broken(tmp, pa.table({"weight": [-1.0], "battlefield.kappa": [0.2]})), "weights must be"),
        (lambda tmp: _broken(tmp, pa.table({"weight": [1.0], "battlefield.kappa": [-5.0]})), "refuses"),
        (lambda tmp: _broken(tmp, pa.table({"weight": [1.0], "battlefield.kappa": ["0.2"]})), "not numbers"),
        (
            lambda tmp: _broken(tmp, pa.table({"weight": [1.0], "distance": ["far"], "battlefield.kappa": [0.2]})),
            "not numbers",
        ),
        (lambda tmp: _broken(tmp, pa.table({"weight": [float("nan")], "battlefield.kappa": [0.2]})), "weights must"),
        (lambda tmp: _broken(tmp, pa.table({"weight": [1e308, 1e308], "battlefield.kappa": [0.2, 0.3]})), "finite sum"),
        (lambda tmp: _broken(tmp, pa.table({"weight": [1.0, None], "battlefield.kappa": [0.2, 0.3]})), "missing"),
        (
            lambda tmp: _broken(
                tmp, pa.table({"weight": pa.array([], pa.float64()), "battlefield.kappa": pa.array([], pa.float64())})
            ),
            "no particles",
        ),
    ],
)
def test_a_bad_posterior_file_is_refused_with_exit_2(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path)
    result = runner.invoke(
        cli.app, ["ensemble", str(SYRIA), "--posterior", str(path), "--runs", "10", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_calibrate_refuses_a_scenario_without_observations(tmp_path: Path) -> None:
    result = runner.invoke(
        cli.app, ["calibrate", str(ROOT / "scenarios" / "ceasefire_2016_03.yaml"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "no observations" in result.output
    assert not (tmp_path / "o").exists()


def test_calibrate_refuses_a_choice_prior_naming_the_field(tmp_path: Path) -> None:
    file = tmp_path / "choice.yaml"
    file.write_text(
        f"extends: {SYRIA.as_posix()}\nuncertain:\n"
        "  battlefield.kappa: {dist: choice, values: [0.1, 0.2], low: null, high: null}\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli.app, ["calibrate", str(file), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "uncertain.battlefield.kappa" in result.output and "no density" in result.output


def test_an_exposure_must_name_an_actor_with_that_force(tmp_path: Path) -> None:
    file = tmp_path / "exposure.yaml"
    file.write_text(
        f"extends: {SYRIA.as_posix()}\nobservations:\n  {SERIES}:\n    model:\n"
        "      exposure: {actor: turkey, force: air}\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli.app, ["validate", str(file)])
    assert result.exit_code == 2
    assert "has no air force" in result.output and "exposure.force" in result.output


def test_generations_stop_once_the_runs_budget_is_spent(tmp_path: Path) -> None:
    loaded = load_scenario(few_fields(tmp_path, RECOVERED))
    series = calibration.observed_series(loaded)
    settings = calibration.Settings(population=60, generations=10, runs=500, seed=5)
    with open_executor(1) as executor:
        posterior = calibration.abc_smc(
            loaded.scenario, series, executor, settings, steps=calibration.observed_steps(loaded.scenario, series)
        )
    runs = [generation.simulations for generation in posterior.generations]
    assert sum(runs) == posterior.runs_simulated >= 500
    assert sum(runs[:-1]) < 500  # the last generation was started below the budget
    assert len(runs) < 10


def test_scenario_text_reaches_the_calibration_report_escaped(tmp_path: Path) -> None:
    file = tmp_path / "hostile.yaml"
    file.write_text(
        f"extends: {SYRIA.as_posix()}\n"
        "actors:\n  russia:\n    name: '<img src=x onerror=alert(1)>'\n"
        f"observations:\n  {SERIES}:\n    label: '<script>alert(2)</script>'\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    arguments = ["calibrate", str(file), "--population", "50", "--generations", "1", "--draws", "100"]
    result = runner.invoke(cli.app, [*arguments, "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(2)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)" in html or "\\u003cscript\\u003ealert(2)" in html


def test_a_counterfactual_that_sets_a_calibrated_field_to_null_keeps_its_own_value(
    calibrated: Path, tmp_path: Path
) -> None:
    file = tmp_path / "fast_return.yaml"
    file.write_text(
        f"extends: {SYRIA.as_posix()}\nactors:\n  russia:\n    redeploy_days: 1.0\n"
        "uncertain:\n  actors.russia.redeploy_days: null\n",
        encoding="utf-8",
    )
    out = tmp_path / "ensemble"
    arguments = ["ensemble", str(file), "--posterior", str(calibrated / "posterior.parquet"), "--runs", "50"]
    result = runner.invoke(cli.app, [*arguments, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "kept at its values: actors.russia.redeploy_days" in " ".join(result.output.split())
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "actors.russia.redeploy_days" not in summary["posterior"]["fields"]
    assert "actors.russia.redeploy_days" not in pq.read_schema(out / "ensemble.parquet").names


def test_the_2016_checks_do_not_apply_to_a_series_outside_their_windows() -> None:
    loaded = load_scenario(SYRIA)
    series = calibration.observed_series(loaded)[0]
    late = series.dates >= np.datetime64("2016-05-02")
    clipped = calibration.ObservedSeries(
        **{**series.__dict__, "dates": series.dates[late], "counts": series.counts[late]}
    )
    bands = {level: np.full(late.sum(), 5.0) for level in calibration.PPC_LEVELS}
    checks = calibration.band_checks(calibration.Predictive(clipped, clipped.dates, int(late.sum()), bands, 10))
    assert checks["march_drop"] == {**checks["march_drop"], "applies": False, "model": None, "passes": None}
    assert checks["median_means"]["before_cessation"] is None
    json.dumps(checks, allow_nan=False)  # no NaN or infinity reaches summary.json
