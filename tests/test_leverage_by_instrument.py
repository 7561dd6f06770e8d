"""Coercive leverage measured per instrument (`sim.mechanisms.leverage.coercive_leverage_by_instrument`).

Singh (September 2016): an "or else" is what would worsen Russia's alternative. Measured as a whole
(i's presence with everything it does), the US's coercive leverage over Russia was 0 even with strikes on
the regime allowed, because the same presence holds Turkey's arms back, which helps Russia. Measured per
instrument, the strike threat's own leverage shows.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.mechanisms.leverage import INSTRUMENTS, REMOVED_INSTRUMENTS, coercive_leverage_by_instrument
from sim.model.model import NegotiationModel
from sim.scenario.loader import scenario_from_mapping

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"
SEPTEMBER = ROOT / "scenarios" / "stalemate_2016_09.yaml"
STRIKES = INSTRUMENTS.index("strikes")


def test_each_instrument_is_what_removing_it_adds_to_the_target_and_escalation_what_it_takes() -> None:
    """Removed instruments count what their removal adds to j's alternative; escalation what one more step
    takes from it; support what i's leaving altogether would take from it (0 when i's presence hurts j)."""
    now = np.array([[0.5, 0.4]])
    without = np.zeros((1, len(REMOVED_INSTRUMENTS), 2, 2))
    without[0, :, 0, 1] = [0.6, 0.45, 0.4, 0.3, 0.55]  # actor 0's instruments, seen by actor 1 (d_1 = 0.4)
    without[0, :, 1, 0] = 0.5  # actor 1's instruments change nothing for actor 0
    escalated = np.array([[[0.5, 0.25], [0.5, 0.4]]])
    absent = np.array([[[0.5, 0.7], [0.2, 0.4]]])  # 0 gone: 1 better off; 1 gone: 0 loses 0.3
    leverage = coercive_leverage_by_instrument(now, without, escalated, absent)
    assert leverage.shape == (1, 2, 2, len(INSTRUMENTS))
    assert INSTRUMENTS[-1] == "support"
    np.testing.assert_allclose(leverage[0, 0, 1], [0.2, 0.05, 0.0, 0.0, 0.15, 0.15, 0.0], atol=1e-15)
    np.testing.assert_allclose(leverage[0, 1, 0], [0.0] * 6 + [0.3], atol=1e-15)
    assert np.all(leverage[0, 0, 0] == 0.0) and np.all(leverage[0, 1, 1] == 0.0)  # the diagonal


def strike_counterfactual(path: Path) -> dict:
    document = copy.deepcopy(sim.load_scenario(path).raw)
    document["actors"]["us"]["options"]["strike_regime"] = True
    return document


@pytest.mark.parametrize("path", [MARCH, SEPTEMBER], ids=["march", "september"])
def test_an_or_else_gives_the_us_strike_leverage_over_russia_every_week(path: Path) -> None:
    """With strikes on the regime allowed, the threat's own leverage over Russia is positive in every week
    of every seed while it is credible; without it, it is 0."""
    ids = sim.load_scenario(path).scenario.actors
    us, russia = list(ids).index("us"), list(ids).index("russia")
    with_threat = scenario_from_mapping(strike_counterfactual(path))
    for seed in range(1, 6):
        model = NegotiationModel(with_threat, seed=seed)
        base = NegotiationModel(sim.load_scenario(path).scenario, seed=seed)
        for _ in range(model.params.steps):
            model.step()
            base.step()
            assert model.seen.coercive_by_instrument[0, us, russia, STRIKES] > 0.0
            assert base.seen.coercive_by_instrument[0, us, russia, STRIKES] == 0.0


@settings(max_examples=200, deadline=None)
@given(
    power=st.floats(0.05, 2.0),
    credibility=st.floats(0.05, 1.0),
    base=st.sampled_from([MARCH, SEPTEMBER]),
    seed=st.integers(0, 2**31 - 1),
)
def test_a_credible_or_else_lowers_the_targets_alternative_and_carries_leverage(
    power: float, credibility: float, base: Path, seed: int
) -> None:
    """Singh as a property: adding a credible strike threat by the US (a) never raises Russia's alternative,
    (c) gives the US strike leverage over Russia, and gives Russia no leverage over the US through the
    US's own threat (Russia has no strike instrument)."""
    plain = sim.load_scenario(base).raw
    threatening = strike_counterfactual(base)
    threatening["actors"]["us"]["threats"] = {"strike_power": power, "safe_zone_power": 0.0, "credibility": credibility}
    ids = list(plain["actors"])
    us, russia = ids.index("us"), ids.index("russia")
    without = NegotiationModel(scenario_from_mapping(copy.deepcopy(plain)), seed=seed)
    with_threat = NegotiationModel(scenario_from_mapping(threatening), seed=seed)
    without.step()
    with_threat.step()
    assert with_threat.seen.batna[0, russia] <= without.seen.batna[0, russia] + 1e-12
    assert with_threat.seen.coercive_by_instrument[0, us, russia, STRIKES] > 0.0
    assert with_threat.seen.coercive_by_instrument[0, russia, us, STRIKES] == 0.0


def test_no_leverage_is_measured_between_parties_an_agreement_binds_and_neither_can_break() -> None:
    """Issue 11: under the March ceasefire, with no party able to break it (every `spoil` option off), no
    alternative can come into play and no coercive leverage is measured between any two parties; with the
    shipped options, Russia (which can break it) has leverage over Turkey, and only pairs of parties that
    cannot break it measure none."""
    document = copy.deepcopy(sim.load_scenario(MARCH).raw)
    shipped = NegotiationModel(scenario_from_mapping(copy.deepcopy(document)), seed=1)
    for actor in document["actors"].values():
        actor.setdefault("options", {})["spoil"] = False
    unbreakable = NegotiationModel(scenario_from_mapping(document), seed=1)
    shipped.step()
    unbreakable.step()
    assert unbreakable.state.ceasefire[0] and shipped.state.ceasefire[0]
    assert np.all(unbreakable.seen.coercive == 0.0) and np.all(unbreakable.seen.coercive_by_instrument == 0.0)
    ids = shipped.params.actor_ids
    assert shipped.seen.coercive[0, ids.index("russia"), ids.index("turkey")] > 0.0
    can_break = shipped.state.options[0, :, list(sim.scenario.params.OPTION_NAMES).index("spoil")]
    for i in range(len(ids)):
        for j in range(len(ids)):
            if not can_break[i] and not can_break[j]:
                assert np.all(shipped.seen.coercive_by_instrument[0, i, j] == 0.0)
