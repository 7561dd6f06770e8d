"""The documented limits on what one command may use, checked before anything is allocated.

Every figure is computed with Python integers (exact at any size, unlike numpy's int64, which a
product of four sweep ranges of 65,536 values wraps to 0), from the command line and the loaded
scenario alone, and compared with its limit before any array, process or file is made. A refusal
is a `LimitError`: the command exits with code 2 and names the figure and the limit.

The README's "Errors" section lists these limits; the scenario loader keeps its own (file size,
actors, issues, and `MAX_RUN_SIZE` below, which it checks at load time).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

MAX_RUNS = 1_000_000  # model runs of one command (ensemble, sweep, sensitivity); 100,000 take ~30 s, 640 MiB
MAX_GRID_POINTS = 100_000  # grid points of a sweep (the product of the --set sizes)
MAX_WORKERS = 64  # --workers: local processes (each ~100 MB) or Dask workers
# Size of one run: steps x actors x (actors + issues). The time series holds steps x actors rows of about
# ten columns per other actor, and the leverage of every actor over every other is measured each step;
# at this size one run takes ~30 s and ~700 MB. A shipped scenario is under 2,000.
MAX_RUN_SIZE = 1_000_000


class LimitError(ValueError):
    """A command that would use more than a documented limit (exit code 2)."""


def run_size(steps: int, actors: int, issues: int) -> int:
    """The size of one run, in the units of `MAX_RUN_SIZE` (exact integers)."""
    return int(steps) * int(actors) * (int(actors) + int(issues))


def check(what: str, figure: int, limit: int, hint: str = "") -> int:
    """Refuse `figure` (a Python int) above `limit` with a message naming both; return it otherwise."""
    figure = int(figure)
    if figure > limit:
        message = f"{what} would be {figure:,}, more than the limit of {limit:,}"
        raise LimitError(message + (f". Hint: {hint}" if hint else ""))
    return figure


def product(sizes: Iterable[int]) -> int:
    """The exact product of sizes (Python integers: it cannot overflow)."""
    return math.prod(int(size) for size in sizes)


def check_runs(runs: int, what: str = "the number of runs") -> int:
    return check(what, runs, MAX_RUNS, "use fewer runs, or split the work into several commands with other seeds.")


def check_workers(workers: int | None) -> int | None:
    if workers is None:
        return None
    return check("--workers", workers, MAX_WORKERS, "one worker per core is the fastest on one machine.")


def design_runs(method: str, samples: int, inputs: int) -> int:
    """Model runs of a sensitivity design: Sobol (Saltelli, first and total order) N (D + 2), Morris N (D + 1)."""
    return int(samples) * (int(inputs) + (2 if method == "sobol" else 1))


def check_sweep(sets: list[str], runs_per_point: int) -> int:
    """The points and runs a sweep's --set options ask for, refused above the limits before anything is
    parsed into arrays (`sim.runs.sweep` checks the same again, and the values); returns the runs."""
    sizes = []
    for text in sets:
        spec = text.partition("=")[2].strip()
        count = re.fullmatch(r".*:(\d+)", spec)
        size = int(count[1]) if count else spec.count(",") + 1
        sizes.append(check(f"--set {text}: the number of values", size, MAX_GRID_POINTS, "use fewer values."))
    points = check("the grid's points", product(sizes), MAX_GRID_POINTS, "use fewer values.")
    return check_runs(points * int(runs_per_point), "the sweep's runs (grid points times --runs)")
