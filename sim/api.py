"""The library's front door: load a scenario, run it (once or many times), write its outputs.

This is the one layer that joins the others (scenario -> runs -> reports -> files), so that no
lower layer imports a higher one. Every command of `cli.py` is one call here; `import sim`
re-exports these names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from sim.model import results
from sim.outputs import csv_text, parquet_csv, write_json, write_outputs, write_text
from sim.runs.comparison import Comparison, compare_scenarios, comparison_data, index_summary, json_ready
from sim.runs.ensemble import MonteCarlo, ensemble_summary, plan_monte_carlo, read_outcomes
from sim.runs.sensitivity import SensitivityPlan, plan_sensitivity, simulate_sensitivity
from sim.runs.sweep import SweepPlan, plan_sweep, simulate_sweep
from sim.scenario.loader import LoadedScenario, ScenarioError, load_scenario

__all__ = [
    "Comparison",
    "LoadedScenario",
    "MonteCarlo",
    "RunResult",
    "ScenarioError",
    "SensitivityPlan",
    "SweepPlan",
    "compare_scenarios",
    "import_scenario",
    "load_scenario",
    "plan_monte_carlo",
    "plan_sensitivity",
    "plan_sweep",
    "run_deu_benchmark",
    "run_scenario",
    "timeseries_csv",
    "write_calibration",
    "write_comparison",
    "write_deu_benchmark",
    "write_monte_carlo",
    "write_run_outputs",
    "write_sensitivity",
    "write_sweep",
]

Progress = Callable[[int], None] | None


class RunResult(results.RunResult):
    """One finished run (`sim.model.results.RunResult`: summary, time series, details) that can also give its
    report's figures, for a notebook: `result.figures()`."""

    @classmethod
    def of(cls, result: results.RunResult) -> RunResult:
        """The same run, with the figures method."""
        return cls(**{field.name: getattr(result, field.name) for field in fields(result)})

    def figures(self) -> dict[str, Any]:
        """The run report's figures as plotly `Figure` objects, keyed by the anchor of their section in the report
        (`deal-against-alternative`, `deal-value`, `weights-and-stake`, `control`, `arms`, `leverage`,
        `leverage-at-the-table`, `issue-space`, `proposals`: those the scenario has), in the page's order. In
        Jupyter, a Figure shows itself inline: `result.figures()["leverage"]`."""
        from sim.reports.run import run_figures  # plotly loads only when figures are asked for

        return run_figures(self)


def run_scenario(loaded: LoadedScenario, seed: int | None = None) -> RunResult:
    """Run a loaded scenario once (its own seed unless `seed` is given): `sim.model.results.run_scenario`, whose
    result can also draw its figures (`RunResult.figures`)."""
    return RunResult.of(results.run_scenario(loaded, seed))


def timeseries_csv(result: RunResult) -> str:
    """The time series as CSV text: fixed float format, so the same run gives the same bytes; text from the
    scenario (actor ids, event labels) never becomes a spreadsheet formula (`sim.outputs.csv_text`)."""
    return csv_text(result.timeseries, float_format="%.10g")


def write_run_outputs(
    result: RunResult, folder: Path, force: bool = False, spread: dict[str, Any] | None = None
) -> list[Path]:
    """Write report.html, summary.json and timeseries.csv of a run into `folder`, atomically. The summary and
    the report also say how often the run's outcomes come over `SPREAD_RUNS` other seeds (`across_seeds`):
    `spread` if given (`start_seed_spread`), else computed now."""
    from sim.reports.run import run_report  # plotly loads only when a report is written
    from sim.runs.spread import seed_spread

    if spread is None:
        spread = seed_spread(result.scenario, result.seed)
    return write_outputs(
        Path(folder),
        {
            "summary.json": write_json({**result.summary, "across_seeds": spread}),
            "timeseries.csv": write_text(timeseries_csv(result)),
            "report.html": write_text(run_report(result, spread)),
        },
        force=force,
    )


def write_comparison(comparison: Comparison, folder: Path, force: bool = False) -> list[Path]:
    """Write report.html, comparison.json and a short summary.json (for the reports index) into `folder`."""
    from sim.reports.comparison import comparison_report

    data = comparison_data(comparison)
    return write_outputs(
        Path(folder),
        {
            "comparison.json": write_json(json_ready(data)),
            "summary.json": write_json(index_summary(comparison, data)),
            "report.html": write_text(comparison_report(comparison, data)),
        },
        force=force,
    )


def _write_runs(
    folder: Path,
    runs_name: str,
    simulate: Callable[[Path], dict[str, Any]],
    render: Callable[[dict[str, Any]], str],
    force: bool,
) -> list[Path]:
    """Write a many-run folder atomically: `runs_name` (the Parquet file `simulate(path)` streams while the
    runs go, returning the summary and whatever the page needs), the same rows as CSV beside it (`.csv`, for
    a spreadsheet: `sim.outputs.parquet_csv`), then summary.json and report.html from what it returned. An
    interrupted run leaves nothing behind (`sim.outputs.write_outputs`)."""
    computed: dict[str, Any] = {}

    def runs_file(path: Path) -> None:
        computed.update(simulate(path))

    def report_file(path: Path) -> None:
        path.write_text(render(computed), encoding="utf-8", newline="\n")

    return write_outputs(
        Path(folder),
        {
            runs_name: runs_file,
            Path(runs_name).with_suffix(".csv").name: lambda path: parquet_csv(path.with_name(runs_name))(path),
            "summary.json": lambda path: write_json(computed["summary"])(path),
            "report.html": report_file,
        },
        force=force,
    )


def write_monte_carlo(
    plan: MonteCarlo, folder: Path, executor: Any, force: bool = False, progress: Progress = None
) -> list[Path]:
    """Run the ensemble and write ensemble.parquet (and .csv), summary.json and report.html into `folder`, atomically.

    The summary and the report are computed from the Parquet file and the bands once the runs are done.
    """

    def simulate(path: Path) -> dict[str, Any]:
        plan.simulate_to(path, executor, progress)
        table = read_outcomes(path, plan.scenario)
        return {"table": table, "summary": ensemble_summary(plan, table)}

    def render(computed: dict[str, Any]) -> str:
        from sim.reports.ensemble import ensemble_report  # plotly loads only once the runs are done

        return ensemble_report(computed["summary"], computed["table"], plan.scenario)

    return _write_runs(folder, "ensemble.parquet", simulate, render, force)


def write_sweep(
    plan: SweepPlan, folder: Path, executor: Any, force: bool = False, progress: Progress = None
) -> list[Path]:
    """Run the sweep; write sweep.parquet and sweep.csv (one row per run), summary.json and report.html atomically."""

    def render(computed: dict[str, Any]) -> str:
        from sim.reports.sweep import sweep_report

        return sweep_report(computed["summary"], plan.loaded.scenario)

    return _write_runs(
        folder, "sweep.parquet", lambda path: {"summary": simulate_sweep(plan, path, executor, progress)}, render, force
    )


def write_sensitivity(
    plan: SensitivityPlan, folder: Path, executor: Any, force: bool = False, progress: Progress = None
) -> list[Path]:
    """Run the design; write sensitivity.parquet and .csv (inputs and outputs per run), summary.json, report.html."""

    def render(computed: dict[str, Any]) -> str:
        from sim.reports.sensitivity import sensitivity_report

        return sensitivity_report(computed["summary"], plan.loaded.scenario)

    def simulate(path: Path) -> dict[str, Any]:
        return {"summary": simulate_sensitivity(plan, path, executor, progress)}

    return _write_runs(folder, "sensitivity.parquet", simulate, render, force)


def write_calibration(
    loaded: LoadedScenario,
    folder: Path,
    executor: Any,
    settings: Any,
    force: bool = False,
    progress: Progress = None,
    predictive_draws: int = 2000,
) -> list[Path]:
    """Calibrate the scenario's uncertain fields to its observed series (`sim.runs.calibration`) and write
    posterior.parquet (particles and weights), posterior.csv (the same rows), summary.json and report.html into
    `folder`, atomically. `settings` is a `sim.runs.calibration.Settings`."""
    from sim.runs import calibration

    series = calibration.observed_series(loaded)
    steps = calibration.observed_steps(loaded.scenario, series)
    computed: dict[str, Any] = {}

    def posterior_file(path: Path) -> None:
        posterior = calibration.abc_smc(loaded.scenario, series, executor, settings, steps=steps, progress=progress)
        predictive = calibration.posterior_predictive(
            loaded.scenario, series, posterior, executor, predictive_draws, settings.seed, progress=progress
        )
        prior = calibration.posterior_predictive(
            loaded.scenario, series, None, executor, predictive_draws, settings.seed, progress=progress
        )
        computed["posterior"] = posterior
        computed["summary"] = calibration.calibration_summary(loaded, series, posterior, predictive, settings, prior)
        metadata = {"scenario_sha256": loaded.sha256, "seed": str(settings.seed)}
        calibration.write_posterior(posterior, path, metadata)

    def report_file(path: Path) -> None:
        from sim.reports.calibration import calibration_report

        posterior = computed["posterior"]
        particles = {name: posterior.values[:, j] for j, name in enumerate(posterior.paths)}
        text = calibration_report(computed["summary"], particles, posterior.weights, loaded.scenario)
        path.write_text(text, encoding="utf-8", newline="\n")

    return write_outputs(
        Path(folder),
        {
            "posterior.parquet": posterior_file,
            # written from the Parquet file just staged beside it: the same rows, spreadsheet-safe
            "posterior.csv": lambda path: parquet_csv(path.parent / "posterior.parquet")(path),
            "summary.json": lambda path: write_json(computed["summary"])(path),
            "report.html": report_file,
        },
        force=force,
    )


# --- validation: the DEU III benchmark, and scenarios from other tools' files ---------------------


def run_deu_benchmark(path: Path, seed: int | None = None, shown_path: str | None = None) -> Any:
    """Score every method on the DEU III file at `path` (`sim.validation.deu.run_deu_benchmark`); `seed` the
    split into halves and the bootstrap (default `SPLIT_SEED`). Returns a `DeuBenchmark`."""
    from sim.validation import deu

    return deu.run_deu_benchmark(Path(path), deu.SPLIT_SEED if seed is None else seed, shown_path=shown_path)


def write_deu_benchmark(benchmark: Any, folder: Path, force: bool = False) -> list[Path]:
    """Write report.html, summary.json and predictions.csv (one row per issue and method: isnr, method,
    prediction, outcome, half) of a `DeuBenchmark` into `folder`, atomically."""
    from sim.reports.benchmark import benchmark_report

    return write_outputs(
        Path(folder),
        {
            "summary.json": write_json(benchmark.summary),
            "predictions.csv": write_text(csv_text(benchmark.predictions, float_format="%.6g")),
            "report.html": write_text(benchmark_report(benchmark.summary, benchmark.predictions)),
        },
        force=force,
    )


def import_scenario(kind: str, source: Path, target: Path, force: bool = False) -> tuple[Path, Any]:
    """Read a KTAB (`kind` "ktab", CSV or XML) or BDM (`kind` "bdm") file and write it to `target` as a
    scenario YAML without a battlefield (`sim.scenario.importers`), checked by the loader before it is put
    in place; an existing `target` is replaced only with `force`. Returns (the path written, the `Imported`).

    Raises:
        ScenarioError: the file cannot be read as that kind (file, line, column and field named).
        OutputError: `target` exists (without `force`), is a folder, or cannot be written.
    """
    import tempfile

    from sim.outputs import OutputError, write_new_file
    from sim.scenario.importers import import_bdm, import_ktab, scenario_yaml

    source, target = Path(source), Path(target)
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        raise OutputError(f"{target}: is the file being imported. Hint: choose another --out.")
    imported = import_ktab(source) if kind == "ktab" else import_bdm(source)
    text = scenario_yaml(imported)
    with tempfile.TemporaryDirectory(prefix="negotiation-sim-import-") as staging:
        check = Path(staging) / "scenario.yaml"
        check.write_text(text, encoding="utf-8")
        try:
            load_scenario(check)  # what `validate` will say of the file
        except ScenarioError as error:  # the importer wrote something the loader refuses: a bug
            raise RuntimeError(f"the imported scenario does not validate: {error.message}") from None
    return write_new_file(target, text, force=force), imported
