"""Ensemble speed: the vectorised engine against mesa.batch_run, runs per second, peak memory.

Run on demand from the project folder (not part of the test suite):

    python bench/ensemble_bench.py                       # batch_run on 200 runs; ensembles of 1k, 10k, 100k
    python bench/ensemble_bench.py --batch-runs 100 --sizes 1000 10000

Every figure is measured in the same invocation:

1. `mesa.batch_run` of `sim.model.NegotiationModel` (the Mesa model, DataCollector
   included) on the first `--batch-runs` runs of the ensemble, with the same seeds and the same
   sampled uncertain fields, on `--workers` processes; its per-run time is scaled to each N.
   The deal outcome of every batch_run run is checked against the ensemble's Parquet rows:
   they are the same runs.
2. `python cli.py ensemble --runs N --workers W` from the shell for each N (start-up, report
   and all): wall time, runs per second, CPU time and peak resident memory of the whole
   process tree (sampled every 20 ms with psutil).
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SCENARIO = ROOT / "scenarios" / "ceasefire_2016_03.yaml"
ENSEMBLE_SEED = 2016


@functools.cache
def _plan(scenario_path: str, runs: int, seed: int):  # returns a MonteCarlo plan
    from sim.runs.ensemble import plan_monte_carlo
    from sim.scenario.loader import load_scenario

    return plan_monte_carlo(load_scenario(scenario_path), runs, seed)


def sampled_model(run: int, scenario_path: str, runs: int, ensemble_seed: int):  # returns a Mesa model
    """Run `run` of the ensemble as a Mesa model: its seed and its sampled fields (for batch_run)."""
    from sim.model.model import NegotiationModel
    from sim.scenario.params import params_from_scenario, set_field

    plan = _plan(scenario_path, runs, ensemble_seed)
    params = params_from_scenario(plan.scenario)
    for path, values in plan.batch.inputs.items():
        set_field(params, path, values[run : run + 1])
    return NegotiationModel(plan.scenario, seed=int(plan.batch.seeds[run]), params=params)


class SampledNegotiationModel:
    """What batch_run instantiates: a factory with keyword parameters, returning the Mesa model."""

    # batch_run adds its own `rng` (None here): the run's seed is the ensemble's seed for that run.
    def __new__(cls, run: int, scenario_path: str, runs: int, ensemble_seed: int, rng: object = None):
        return sampled_model(run, scenario_path, runs, ensemble_seed)


def time_batch_run(scenario: Path, runs: int, total: int, workers: int) -> tuple[float, list[bool]]:
    """Wall time of mesa.batch_run over the first `runs` runs of a `total`-run ensemble; whether each ended
    with a settlement in force."""
    import mesa

    started = time.perf_counter()
    rows = mesa.batch_run(
        SampledNegotiationModel,
        parameters={
            "run": list(range(runs)),
            "scenario_path": str(scenario),
            "runs": total,
            "ensemble_seed": ENSEMBLE_SEED,
        },
        number_processes=workers,
        data_collection_period=-1,
        max_steps=_plan(str(scenario), total, ENSEMBLE_SEED).scenario.time.steps,
        display_progress=False,
    )
    elapsed = time.perf_counter() - started
    model_rows = {}
    for row in rows:
        model_rows.setdefault(row["run"], row)
    return elapsed, [bool(model_rows[i]["deal"]) for i in range(runs)]


def measure_command(command: list[str]) -> dict[str, float]:
    """Wall time, CPU time and peak resident memory (sum over the process tree) of a command."""
    import psutil

    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(process.pid)
    peak, cpu = 0, {}
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            rss = 0
            for member in tree:
                with_info = member.as_dict(attrs=["memory_info", "cpu_times"])
                if with_info["memory_info"] is not None:
                    rss += with_info["memory_info"].rss
                if with_info["cpu_times"] is not None:
                    cpu[member.pid] = with_info["cpu_times"].user + with_info["cpu_times"].system
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - started
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stdout}\n{stderr}")
    return {"wall": wall, "cpu": sum(cpu.values()), "peak_mib": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="?", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--batch-runs", type=int, default=200, help="runs given to mesa.batch_run (0: skip)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores, load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    largest = max(args.sizes)
    per_run_batch = None
    if args.batch_runs:
        elapsed, batch_deals = time_batch_run(args.scenario, args.batch_runs, largest, args.workers)
        per_run_batch = elapsed / args.batch_runs
        print(
            f"mesa.batch_run: {args.batch_runs} runs on {args.workers} processes in {elapsed:.2f} s "
            f"({per_run_batch * 1000:.1f} ms per run, {1 / per_run_batch:.1f} runs/s)"
        )

    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            folder = Path(scratch) / f"n{size}"
            command = [
                sys.executable,
                str(ROOT / "cli.py"),
                "ensemble",
                str(args.scenario),
                "--runs",
                str(size),
                "--seed",
                str(ENSEMBLE_SEED),
                "--workers",
                str(args.workers),
                "--out",
                str(folder),
            ]
            results[size] = measure_command(command)
            figures = results[size]
            line = (
                f"ensemble N={size:>7,}: {figures['wall']:7.2f} s wall, {size / figures['wall']:8.0f} runs/s, "
                f"CPU {figures['cpu']:7.1f} s, peak memory {figures['peak_mib']:7.0f} MiB"
            )
            if per_run_batch is not None:
                line += f", {per_run_batch * size / figures['wall']:6.0f}x faster than batch_run (scaled)"
            print(line, flush=True)
            if args.batch_runs and size == largest:
                import pyarrow.parquet as pq

                # The Mesa model's `deal` is the settlement in force at the end (agreement_settlement_at_end).
                column = "agreement_settlement_at_end"
                deals = pq.read_table(folder / "ensemble.parquet", columns=[column]).column(column).to_pylist()
                same = deals[: args.batch_runs] == batch_deals
                print(
                    f"same runs: batch_run's deal outcomes {'equal' if same else 'DIFFER FROM'} the ensemble's "
                    f"first {args.batch_runs} rows"
                )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
