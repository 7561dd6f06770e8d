"""A run report says what its one path means: how often its outcomes come over other seeds.

`sim.runs.spread.seed_spread` runs the same scenario with `SPREAD_RUNS` other seeds in one vectorised
chunk; these tests check its counts against the single Mesa runs with the same seeds, and that `run`
writes them into summary.json (`across_seeds`) and the report's header.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

import sim
from sim.model.model import NegotiationModel
from sim.runs.batch import run_seeds
from sim.runs.spread import SPREAD_RUNS, seed_spread

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"


def test_the_spread_counts_what_the_single_runs_with_those_seeds_do() -> None:
    """Settlement, fighting restarted and each agreement's fate, over 24 seeds, equal the counts of the 24
    single Mesa runs with the same seeds; the shares carry Wilson intervals around them."""
    scenario = sim.load_scenario(MARCH).scenario
    runs = 24
    spread = seed_spread(scenario, 7, runs=runs)
    models = [NegotiationModel(scenario, seed=int(seed)).run() for seed in run_seeds(7, runs)]
    settled = sum(bool(m.state.settlement_reached[0]) for m in models)
    restarted = sum(int(m.state.collapsed_step[0]) >= 0 for m in models)
    assert spread["runs"] == runs and spread["seeds_from"] == 7
    assert spread["settlement"]["probability"] == round(settled / runs, 6)
    assert spread["ceasefire_collapsed"]["probability"] == round(restarted / runs, 6)
    first = [int(m.state.settlement_first_step[0]) for m in models if m.state.settlement_reached[0]]
    assert spread["settlement"]["first_step"]["p50"] == float(np.quantile(first, 0.5))
    for g, agreement in enumerate(models[0].params.agreements.ids):
        held = sum(bool(m.state.in_force[0, g]) for m in models)
        assert spread["agreements"][agreement]["held_to_end"]["probability"] == round(held / runs, 6)
    for entry in (spread["settlement"], spread["ceasefire_collapsed"]):
        low, high = entry["ci95"]
        assert low <= entry["probability"] <= high


def test_the_same_seed_gives_the_same_spread_and_another_seed_other_runs() -> None:
    scenario = sim.load_scenario(MARCH).scenario
    assert seed_spread(scenario, 3, runs=40) == seed_spread(scenario, 3, runs=40)
    assert seed_spread(scenario, 3, runs=40) != seed_spread(scenario, 4, runs=40)


def test_run_writes_the_spread_into_the_summary_and_the_report_header(tmp_path: Path) -> None:
    """The header's sentence gives the settlement share of summary.json's `across_seeds`, and says the page
    follows one path drawn by the run's seed."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "run", str(MARCH), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    spread = summary["across_seeds"]
    assert spread["runs"] == SPREAD_RUNS and spread["seeds_from"] == summary["seed"]
    page = (out / "report.html").read_text(encoding="utf-8")
    sentence = re.search(r'<p class="spread" id="across-seeds">([^<]*)</p>', page).group(1).replace("&#37;", "%")
    assert f"drawn by seed {summary['seed']}" in sentence
    assert f"a settlement in {spread['settlement']['probability']:.0%}" in sentence
    assert f"after a ceasefire in {spread['ceasefire_collapsed']['probability']:.0%}" in sentence


def test_a_spread_that_cannot_come_from_its_process_is_computed_here() -> None:
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from sim.runs.spread import PendingSpread, seed_spread, start_seed_spread
    from sim.scenario.loader import load_scenario

    scenario = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "ceasefire_2016_03.yaml").scenario
    expected = seed_spread(scenario, 3)
    broken: Future = Future()
    broken.set_exception(BrokenProcessPool("the child died"))
    assert PendingSpread(scenario, 3, broken).result() == expected  # computed here instead
    assert PendingSpread(scenario, 3).result() == expected  # no process was started
    assert start_seed_spread(scenario, 3).result() == expected  # the forked process gives the same
