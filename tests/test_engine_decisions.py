"""Decisions carried out by the engine, and step records, that the event tests do not reach (survivors of
the mutation run in docs/MUTATION.md): a decided withdrawal, a partial return of forces, and `broken_by`."""

from __future__ import annotations

import math

import pytest

from sim.api import run_scenario
from sim.mechanisms.battlefield import credibility_weight
from sim.scenario.loader import LoadedScenario, scenario_from_mapping
from tests.test_engine_events import actor, document, regime_russia_rebels, run_engine


def test_a_decided_withdrawal_moves_the_actors_fraction_of_present_air_and_keeps_its_own_lag() -> None:
    """Russia may withdraw, a ceasefire holds and a one-day return keeps w = exp(-1/21) >= 0.9: on step 0 it
    withdraws 0.4 of its 2 air (0.8), once; the withdrawn air's lag is its own redeploy_days."""
    assert credibility_weight(1.0, 21.0) >= 0.9
    parties = regime_russia_rebels(options={"withdraw": True}, withdraw_fraction=0.4, redeploy_days=1.0)
    trace = run_engine(document(parties, {}, ceasefire=True))
    assert trace.of("air_present", "russia") == [pytest.approx(1.2)] * 8
    assert trace.of("air_withdrawn", "russia") == [pytest.approx(0.8)] * 8
    assert trace.of("withdrawn_redeploy_days", "russia")[0] == 1.0


def test_no_withdrawal_when_the_return_is_too_slow_to_stay_a_threat() -> None:
    """With a 3-day return w = exp(-3/21) < 0.9: Russia keeps its air although it may withdraw."""
    assert credibility_weight(3.0, 21.0) < 0.9
    parties = regime_russia_rebels(options={"withdraw": True}, redeploy_days=3.0)
    trace = run_engine(document(parties, {}, ceasefire=True))
    assert trace.of("air_present", "russia") == [2.0] * 8


@pytest.mark.parametrize("fraction", [0.25, 1.0])
def test_return_forces_brings_back_its_fraction_of_the_withdrawn_air(fraction: float) -> None:
    events = {
        "out": {"at": 1, "actor": "russia", "action": "withdraw_air", "fraction": 0.5},
        "back": {"at": 3, "actor": "russia", "action": "return_forces", "fraction": fraction},
    }
    trace = run_engine(document(regime_russia_rebels(), events, ceasefire=True))
    assert trace.of("air_withdrawn", "russia")[3] == pytest.approx(1.0 * (1.0 - fraction))
    assert trace.of("air_present", "russia")[3] == pytest.approx(1.0 + fraction)


def test_broken_by_names_the_breaker_on_the_collapse_step_only(tmp_path) -> None:
    """A party that gains by breaking the ceasefire (the rebels' alternative beats any offer the regime,
    whose consent is needed and which demands everything, will sign) breaks it; `broken_by` is empty on
    every other step and names it on the collapse step."""
    parties = {
        "regime": actor("government", required=True, forces={"ground": 0.5}),
        "rebels": actor(
            "opposition", forces={"ground": 3.0}, spoil_sensitivity=50.0, options={"spoil": True}, war_cost=0.0
        ),
    }
    scenario = scenario_from_mapping(document(parties, {}, ceasefire=True))
    result = run_scenario(LoadedScenario(path=tmp_path / "x.yaml", scenario=scenario, raw={}, sha256="0" * 64))
    steps = result.timeseries.drop_duplicates("step").set_index("step")
    collapsed = result.summary["ceasefire"]["collapsed_step"]
    assert collapsed is not None
    assert steps.loc[collapsed, "broken_by"] == "rebels"
    assert (steps.drop(index=collapsed)["broken_by"].fillna("") == "").all()
    assert result.summary["agreements"]["ceasefire"]["broken_by"] == "rebels"
    assert not math.isnan(steps.loc[collapsed, "collapse_probability"])
