"""What one run means: the same scenario over other seeds (issue: a single path is not the answer).

A run report follows one path of the war, drawn by one seed. Beside it, `seed_spread` runs the same
scenario (the same inputs, no `uncertain:` sampling) with `SPREAD_RUNS` other seeds, all in one vectorised
chunk, and counts how often each outcome came: a settlement, each agreement reached and still in force at
the end, the fighting restarted after a ceasefire. The seeds are the ensemble's (`batch.run_seeds`) from
the run's own seed, so the figures are reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.runs.batch import ChunkSpec, run_seeds, simulate_chunk
from sim.runs.statistics import describe_values, proportion
from sim.scenario.params import compile_agreements
from sim.scenario.schema import Scenario

SPREAD_RUNS = 200


def seed_spread(scenario: Scenario, seed: int, runs: int = SPREAD_RUNS) -> dict[str, Any]:
    """The outcomes of `runs` runs of `scenario` with other seeds: {`runs`, `seeds_from`, `settlement`
    (share with a settlement signed at some step, and the first week's quantiles), `ceasefire_collapsed`
    (share in which the fighting restarted after a ceasefire), `agreements` {id: {`reached`,
    `held_to_end`}}}, each share with a Wilson 95% interval."""
    outcomes = simulate_chunk(ChunkSpec(scenario), 0, run_seeds(seed, runs), {}).outcomes
    agreements = compile_agreements(scenario)
    first = outcomes[f"agreement_{agreements.ids[agreements.settlement]}_first_step"]
    result: dict[str, Any] = {
        "runs": runs,
        "seeds_from": seed,
        "settlement": {
            **proportion(int(np.sum(outcomes["deal"])), runs),
            "first_step": describe_values(first[first >= 0].astype(np.float64)),
        },
        "ceasefire_collapsed": proportion(int(np.sum(outcomes["ceasefire_collapsed_step"] >= 0)), runs),
        "agreements": {},
    }
    for agreement in agreements.ids:
        first = outcomes[f"agreement_{agreement}_first_step"]
        at_end = outcomes[f"agreement_{agreement}_at_end"]
        result["agreements"][agreement] = {
            "reached": proportion(int(np.sum(first >= 0)), runs),
            "held_to_end": proportion(int(np.sum(at_end)), runs),
        }
    return result


SPREAD_WAIT_SECONDS = 60.0  # a forked spread that takes longer is given up and computed here instead


class PendingSpread:
    """A seed spread under way: `result()` gives it, from the forked process, or computed here if there was
    none, it failed, or it did not finish within SPREAD_WAIT_SECONDS."""

    def __init__(self, scenario: Scenario, seed: int, future: Any = None) -> None:
        self.scenario, self.seed, self.future = scenario, seed, future

    def result(self) -> dict[str, Any]:
        if self.future is not None:
            from concurrent.futures import TimeoutError as FutureTimeout
            from concurrent.futures.process import BrokenProcessPool

            try:
                return self.future.result(timeout=SPREAD_WAIT_SECONDS)
            except (BrokenProcessPool, FutureTimeout, OSError):
                self.future.cancel()
        return seed_spread(self.scenario, self.seed)


def start_seed_spread(scenario: Scenario, seed: int) -> PendingSpread:
    """Start `seed_spread(scenario, seed)` in a forked process, so that the run's report does not wait for it:
    the other seeds run on the second core while this process loads the Mesa model and runs the one path
    (about half a second of the 3 s budget of `run`). Forking is safe only on Linux and from a process with a
    single thread (a forked copy of a multi-threaded process, or macOS's system libraries, can hang); anywhere
    else, or if the fork fails, the spread is computed when `result()` asks for it."""
    import multiprocessing
    import sys
    import threading

    if sys.platform != "linux" or threading.active_count() != 1:
        return PendingSpread(scenario, seed)
    try:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        future = pool.submit(seed_spread, scenario, seed)
        pool.shutdown(wait=False)  # the pool ends once the spread is done
    except OSError:
        return PendingSpread(scenario, seed)
    return PendingSpread(scenario, seed, future)
