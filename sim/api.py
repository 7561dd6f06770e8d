"""The library's front door for single runs: load a scenario, run it, write its outputs.

Many runs live in `sim.ensemble`, `sim.sweep` and `sim.sensitivity`; comparisons in `sim.compare`.
"""

from __future__ import annotations

from pathlib import Path

from sim.loader import LoadedScenario, load_scenario
from sim.outputs import write_json, write_outputs, write_text
from sim.report import run_report
from sim.results import RunResult, run_scenario

__all__ = ["LoadedScenario", "RunResult", "load_scenario", "run_scenario", "write_run_outputs"]


def timeseries_csv(result: RunResult) -> str:
    """The time series as CSV text: fixed float format, so the same run gives the same bytes."""
    return result.timeseries.to_csv(index=False, lineterminator="\n", float_format="%.10g")


def write_run_outputs(result: RunResult, folder: Path, force: bool = False) -> list[Path]:
    """Write report.html, summary.json and timeseries.csv of a run into `folder`, atomically."""
    return write_outputs(
        Path(folder),
        {
            "summary.json": write_json(result.summary),
            "timeseries.csv": write_text(timeseries_csv(result)),
            "report.html": write_text(run_report(result)),
        },
        force=force,
    )
