"""The shipped scenario library: every file loads, says which question it answers, runs, and matches the
JSON Schema that editors use (docs/scenario.schema.json, as `python cli.py schema` prints it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.model import engine
from sim.scenario.catalog import first_sentence, scenario_entries
from sim.scenario.loader import load_scenario
from sim.scenario.params import params_from_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SCHEMA = ROOT / "docs" / "scenario.schema.json"
FILES = sorted(SCENARIOS.glob("*.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema=../docs/scenario.schema.json"
# The counterfactuals the issue asks for, each extending a shipped scenario.
COUNTERFACTUALS = {
    "stalemate_2016_09_us_or_else.yaml": "stalemate_2016_09.yaml",
    "ceasefire_2016_03_turkey_resumes_arms.yaml": "ceasefire_2016_03.yaml",
    "ceasefire_2016_03_no_withdrawal.yaml": "ceasefire_2016_03.yaml",
    "ceasefire_2016_03_slow_return.yaml": "ceasefire_2016_03.yaml",
    "ceasefire_2016_03_iran_presses.yaml": "ceasefire_2016_03.yaml",
    "stalemate_2016_09_sanctions_linkage.yaml": "stalemate_2016_09.yaml",
    "ceasefire_2016_03_us_no_embargo.yaml": "ceasefire_2016_03.yaml",
}


def test_the_library_holds_the_counterfactuals_and_the_limited_deals() -> None:
    names = {path.name for path in FILES}
    assert set(COUNTERFACTUALS) <= names
    assert {
        "deal_israel_russia_deconfliction.yaml",
        "deal_saudi_russia_oil_cap.yaml",
        "deal_turkey_russia_reconciliation.yaml",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_loads_asks_a_question_and_points_editors_to_the_schema(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SCHEMA_LINE
    scenario = load_scenario(path).scenario
    assert first_sentence(scenario.description).endswith("?"), "the description should open with its question"
    assert scenario.sources, "name the article(s) the scenario encodes"
    parent = COUNTERFACTUALS.get(path.name)
    if parent is not None:
        assert yaml.safe_load(text)["extends"] == parent


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_runs(path: Path) -> None:
    params = params_from_scenario(load_scenario(path).scenario)
    state = engine.initial_state(params)
    draws = engine.draw_noise(np.random.default_rng(0), params)[None]
    for step in range(params.steps):
        engine.advance(params, state, step, draws[:, step])
    assert np.isfinite(state.control).all()


def test_schema_file_is_what_the_cli_prints() -> None:
    printed = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "schema"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert json.loads(printed) == json.loads(SCHEMA.read_text(encoding="utf-8")), (
        "docs/scenario.schema.json is stale: regenerate it with `python cli.py schema > docs/scenario.schema.json`"
    )


def test_every_shipped_file_satisfies_the_schema_and_typos_do_not() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    for path in FILES:
        document = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
        problems = [error.message for error in validator.iter_errors(document)]
        assert not problems, f"{path.name}: {problems[:2]}"
    # A file that extends another may leave out any field, but not misspell one or break a range.
    assert list(validator.iter_errors({"extends": "a.yaml", "actors": {"russia": {"redeploy_dayz": 3}}}))
    assert list(validator.iter_errors({"extends": "a.yaml", "actors": {"russia": {"patience": 3}}}))
    assert not list(validator.iter_errors({"extends": "a.yaml", "events": {"russia_withdraws": None}}))
    # A file that stands alone must give the required fields.
    assert list(validator.iter_errors({"name": "x"}))


def test_list_shows_every_scenario_with_its_question() -> None:
    entries = {entry.file: entry for entry in scenario_entries(SCENARIOS)}
    assert set(entries) == {path.name for path in FILES}
    for entry in entries.values():
        assert entry.summary.endswith("?") and "(invalid" not in entry.summary
