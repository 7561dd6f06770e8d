"""Start-up and single-run time: `python cli.py run` from the shell, report included, and its imports.

Run on demand from the project folder (not part of the test suite):

    python bench/startup_bench.py              # 5 repetitions of each command
    python bench/startup_bench.py --repeat 9

Prints the median wall time of `python cli.py run` of the default scenario (model, summary,
time series and the HTML report, written to a temporary folder), of `python cli.py --help`
(the CLI alone), and of `python -c "import M"` for the heavy modules the run loads, each in a
fresh interpreter, so that what start-up costs is visible. Target: `run` in at most 3 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = (
    "numpy",
    "scipy.special",
    "pandas",
    "pydantic",
    "mesa",
    "plotly.graph_objects",
    "pyarrow.parquet",
    "typer",
    "sim.scenario.loader",
    "sim.model.results",
    "sim.reports.run",
    "sim.runs.ensemble",
)


def median_wall(command: list[str], repeat: int) -> float:
    """Median wall time of `command` over `repeat` runs (it must succeed)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    print(f"machine: {os.cpu_count()} cores, load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as scratch:
        run = median_wall([python, "cli.py", "run", "--out", str(Path(scratch) / "run")], args.repeat)
    print(f"python cli.py run (default scenario, report included): {run:.2f} s (median of {args.repeat})")
    print(f"python cli.py --help: {median_wall([python, 'cli.py', '--help'], args.repeat):.2f} s")
    bare = median_wall([python, "-c", "pass"], args.repeat)
    print(f"python -c pass: {bare:.2f} s")
    for module in IMPORTS:
        seconds = median_wall([python, "-c", f"import {module}"], args.repeat)
        print(f"  import {module:<22} {seconds:.2f} s ({seconds - bare:+.2f} s over a bare interpreter)")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
