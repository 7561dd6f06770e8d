"""The library's front door: load a scenario, run it (once or many times), write its outputs.

This is the one layer that joins the others (scenario -> runs -> reports -> files), so that no
lower layer imports a higher one. Every command of `cli.py` is one call here; `import sim`
re-exports these names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.model.results import RunResult, run_scenario
from sim.outputs import csv_text, write_json, write_outputs, write_text
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
    "load_scenario",
    "plan_monte_carlo",
    "plan_sensitivity",
    "plan_sweep",
    "run_scenario",
    "timeseries_csv",
    "write_comparison",
    "write_monte_carlo",
    "write_run_outputs",
    "write_sensitivity",
    "write_sweep",
]

Progress = Callable[[int], None] | None


def timeseries_csv(result: RunResult) -> str:
    """The time series as CSV text: fixed float format, so the same run gives the same bytes; text from the
    scenario (actor ids, event labels) never becomes a spreadsheet formula (`sim.outputs.csv_text`)."""
    return csv_text(result.timeseries, float_format="%.10g")


def write_run_outputs(result: RunResult, folder: Path, force: bool = False) -> list[Path]:
    """Write report.html, summary.json and timeseries.csv of a run into `folder`, atomically. The summary and
    the report also say how often the run's outcomes come over `SPREAD_RUNS` other seeds (`across_seeds`)."""
    from sim.reports.run import run_report  # plotly loads only when a report is written
    from sim.runs.spread import seed_spread

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
    runs go, returning the summary and whatever the page needs), then summary.json and report.html from
    what it returned. An interrupted run leaves nothing behind (`sim.outputs.write_outputs`)."""
    computed: dict[str, Any] = {}

    def runs_file(path: Path) -> None:
        computed.update(simulate(path))

    def report_file(path: Path) -> None:
        path.write_text(render(computed), encoding="utf-8", newline="\n")

    return write_outputs(
        Path(folder),
        {
            runs_name: runs_file,
            "summary.json": lambda path: write_json(computed["summary"])(path),
            "report.html": report_file,
        },
        force=force,
    )


def write_monte_carlo(
    plan: MonteCarlo, folder: Path, executor: Any, force: bool = False, progress: Progress = None
) -> list[Path]:
    """Run the ensemble and write ensemble.parquet, summary.json and report.html into `folder`, atomically.

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
    """Run the sweep; write sweep.parquet (one row per run), summary.json and report.html atomically."""

    def render(computed: dict[str, Any]) -> str:
        from sim.reports.sweep import sweep_report

        return sweep_report(computed["summary"], plan.loaded.scenario)

    return _write_runs(
        folder, "sweep.parquet", lambda path: {"summary": simulate_sweep(plan, path, executor, progress)}, render, force
    )


def write_sensitivity(
    plan: SensitivityPlan, folder: Path, executor: Any, force: bool = False, progress: Progress = None
) -> list[Path]:
    """Run the design; write sensitivity.parquet (inputs and outputs per run), summary.json and report.html."""

    def render(computed: dict[str, Any]) -> str:
        from sim.reports.sensitivity import sensitivity_report

        return sensitivity_report(computed["summary"], plan.loaded.scenario)

    def simulate(path: Path) -> dict[str, Any]:
        return {"summary": simulate_sensitivity(plan, path, executor, progress)}

    return _write_runs(folder, "sensitivity.parquet", simulate, render, force)
