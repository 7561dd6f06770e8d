"""Regression snapshots: every shipped scenario still gives the outcomes stored in tests/snapshots/.

One test per scenario (its summary at its own seed and its outcomes over 20 seeds); the logic is
scripts/snapshots.py's, which also rewrites the snapshots (`--update`). Then the checker's own
rules: floats within the stated tolerance, everything else exact, and a missing snapshot is a
failure that names the update command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import snapshots
from sim.model.results import run_scenario
from sim.scenario.loader import load_scenario

SCENARIOS = snapshots.scenario_paths()


def test_the_shipped_scenarios_are_found() -> None:
    assert len(SCENARIOS) >= 13, [path.name for path in SCENARIOS]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_scenario_gives_its_stored_snapshot(scenario: Path) -> None:
    problem = snapshots.check(scenario)
    if problem:
        pytest.fail(problem, pytrace=False)


def test_every_snapshot_belongs_to_a_scenario() -> None:
    assert not snapshots.orphans(), f"snapshots without a scenario; remove them with `{snapshots.UPDATE_COMMAND}`"


@pytest.mark.parametrize(
    "name", ["ceasefire_2016_03_us_no_embargo", "stalemate_2016_09_us_or_else", "deal_saudi_russia_oil_cap"]
)
def test_the_batch_digest_equals_the_single_runs(name: str) -> None:
    """The digest's runs, computed as one batch, are what the single Mesa runs with those seeds report."""
    loaded = load_scenario(snapshots.SCENARIOS / f"{name}.yaml")
    seeds = (1, 2, 3)
    batch = snapshots._plain(snapshots.batch_digests(loaded, seeds))
    single = snapshots._plain({seed: snapshots.run_digest(run_scenario(loaded, seed=seed).summary) for seed in seeds})
    assert snapshots.differences(single, batch) == []


# ---------------------------------------------------------------------------- the checker's rules


def test_floats_are_compared_within_the_tolerance_and_the_rest_exactly() -> None:
    stored = {"a": {"x": 0.5, "n": 3, "ok": True, "s": "text", "none": None}}
    assert (
        snapshots.differences(stored, {"a": {"x": 0.5 * (1 + 1e-12), "n": 3, "ok": True, "s": "text", "none": None}})
        == []
    )
    assert snapshots.differences({"x": 0.0}, {"x": 1e-13}) == []
    assert snapshots.differences({"x": 0.0}, {"x": 1e-9}) == ["x: stored 0.0, now 1e-09 (difference +1e-09)"]
    assert snapshots.differences({"x": 0.5}, {"x": 0.5001})[0].startswith("x: stored 0.5, now 0.5001")
    assert snapshots.differences({"n": 3}, {"n": 4}) == ["n: stored 3, now 4"]
    assert snapshots.differences({"n": 3}, {"n": 3.0}) == ["n: stored 3, now 3.0"]
    assert snapshots.differences({"ok": True}, {"ok": 1}) == ["ok: stored True, now 1"]
    assert snapshots.differences({"v": None}, {"v": 0.0}) == ["v: stored None, now 0.0"]
    assert snapshots.differences({"a": 1}, {"b": 1}) == ["a: stored 1, now missing", "b: not stored, now 1"]
    assert snapshots.differences({"l": [1, 2]}, {"l": [1, 3]}) == ["l[1]: stored 2, now 3"]


def test_a_difference_names_the_scenario_the_field_both_values_and_the_update_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = snapshots.SCENARIOS / "deal_saudi_russia_oil_cap.yaml"
    fresh = snapshots.take_snapshot(scenario)
    stored = snapshots._plain(fresh)
    stored["summary"]["actors"]["russia"]["batna"] += 0.01
    stored["digest"]["runs"]["seed_03"]["deal_step"] = 99
    monkeypatch.setattr(snapshots, "snapshot_path", lambda path: tmp_path / f"{path.stem}.json")
    monkeypatch.setattr(snapshots, "_relative", lambda path: path.name)
    (tmp_path / f"{scenario.stem}.json").write_text(snapshots.render(stored), encoding="utf-8")

    message = snapshots.check(scenario, new=fresh)
    assert message is not None
    assert message.startswith("deal_saudi_russia_oil_cap: 2 field(s) differ")
    batna = fresh["summary"]["actors"]["russia"]["batna"]
    assert f"summary.actors.russia.batna: stored {batna + 0.01!r}, now {batna!r}" in message
    step = fresh["digest"]["runs"]["seed_03"]["deal_step"]
    assert f"digest.runs.seed_03.deal_step: stored 99, now {step!r}" in message
    assert snapshots.UPDATE_COMMAND in message
    (tmp_path / f"{scenario.stem}.json").write_text(snapshots.render(fresh), encoding="utf-8")
    assert snapshots.check(scenario, new=fresh) is None


def test_a_missing_snapshot_fails_and_is_not_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = snapshots.SCENARIOS / "deal_saudi_russia_oil_cap.yaml"
    monkeypatch.setattr(snapshots, "snapshot_path", lambda path: tmp_path / f"{path.stem}.json")
    monkeypatch.setattr(snapshots, "_relative", lambda path: path.name)
    message = snapshots.check(scenario, new={})
    assert message is not None
    assert "no snapshot for deal_saudi_russia_oil_cap.yaml" in message
    assert snapshots.UPDATE_COMMAND in message
    assert list(tmp_path.iterdir()) == []
