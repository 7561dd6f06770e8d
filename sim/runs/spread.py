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


def start_seed_spread(scenario: Any, seed: int) -> Any:
    """Start `sim.runs.spread.seed_spread(scenario, seed)` in a forked process and return its `Future`, so that
    the run's report does not wait for it: the other seeds run on the second core while this process loads the
    Mesa model and runs the one path (about half a second saved of the 3 s budget of `run`). Where fork is
    not available the spread is computed here, at once."""
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        done: Future = Future()
        done.set_result(seed_spread(scenario, seed))
        return done
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    future = pool.submit(seed_spread, scenario, seed)
    pool.shutdown(wait=False)  # the pool ends once the spread is done
    return future
