"""Calibration speed: the default `calibrate` of syria_2016.yaml, runs per second against mesa.batch_run.

Run on demand from the project folder (not part of the test suite):

    python bench/calibration_bench.py                    # the default calibration, batch_run on 100 runs
    python bench/calibration_bench.py --keep reports/syria_2016_calibration   # keep its outputs

Measured in the same invocation:

1. `mesa.batch_run` of the Mesa model on `--batch-runs` runs of the scenario (prior draws of its uncertain
   fields, the same seeds as an ensemble), on `--workers` processes, all 66 weeks: runs per second.
2. `python cli.py calibrate SCENARIO --workers W` with the default settings, from the shell: wall time, the
   runs it simulated (from its summary.json; each of the first 48 weeks only, plus the predictive runs of all
   66), runs per second, CPU time and peak resident memory of the process tree.

Targets (issue 12): at least 100,000 runs in at most 10 minutes on 2 cores, under 2 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ensemble_bench import measure_command, time_batch_run  # noqa: E402

DEFAULT_SCENARIO = ROOT / "scenarios" / "syria_2016.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="?", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--batch-runs", type=int, default=100, help="runs given to mesa.batch_run (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="copy the calibration's outputs to this folder")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores, load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    batch_rate = None
    if args.batch_runs:
        elapsed, _ = time_batch_run(args.scenario, args.batch_runs, args.batch_runs, args.workers)
        batch_rate = args.batch_runs / elapsed
        print(
            f"mesa.batch_run: {args.batch_runs} runs on {args.workers} processes in {elapsed:.2f} s "
            f"({batch_rate:.1f} runs/s)"
        )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "calibration"
        command = [
            sys.executable,
            str(ROOT / "cli.py"),
            "calibrate",
            str(args.scenario),
            "--workers",
            str(args.workers),
            "--out",
            str(folder),
        ]
        measured = measure_command(command)
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        if args.keep is not None:
            shutil.copytree(folder, args.keep, dirs_exist_ok=True)
    runs = summary["method"]["runs_simulated"]
    predictive = 2 * summary["predictive"][next(iter(summary["predictive"]))]["draws"]
    rate = (runs + predictive) / measured["wall"]
    print(
        f"calibrate: {runs:,} runs of {summary['method']['steps_simulated']} steps + {predictive:,} predictive runs in "
        f"{measured['wall']:.1f} s ({rate:.0f} runs/s), CPU {measured['cpu']:.1f} s, peak memory "
        f"{measured['peak_mib']:.0f} MiB"
    )
    if batch_rate:
        print(f"runs per second against mesa.batch_run: {rate / batch_rate:.1f}x")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(summary["outcome"])


if __name__ == "__main__":
    main()
