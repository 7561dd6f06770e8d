"""A patron's hold over its client: the support it can withdraw, as leverage and as a brake on defection.

Porter (March 2016): Putin's moves "added to Russian leverage on the Assad regime"; Singh (September 2016)
quotes Obama: without the Russians the regime "would not be able to sustain its offensive". Two measures
follow from the model's own alternatives, with the regime an actor of its own
(`scenarios/*_regime.yaml`):
- the `support` instrument of coercive leverage: d_j(now) - d_j(i absent), what i's presence is worth to j;
- the client's value of breaking an agreement its restraining patron keeps: the war without that patron
  (`agreements.client_break_value`).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import sim
from sim.mechanisms import agreements
from sim.mechanisms.leverage import INSTRUMENTS
from sim.model.model import NegotiationModel
from sim.scenario.loader import scenario_from_mapping

ROOT = Path(__file__).resolve().parent.parent
MARCH_REGIME = ROOT / "scenarios" / "ceasefire_2016_03_regime.yaml"
SEPTEMBER_REGIME = ROOT / "scenarios" / "stalemate_2016_09_regime.yaml"
SUPPORT = INSTRUMENTS.index("support")


@settings(max_examples=200, deadline=None)
@given(
    values=arrays(np.float64, (3, 4), elements=st.floats(-1.0, 1.0)),
    keeps=arrays(np.bool_, (4,)),
)
def test_a_client_never_values_defying_a_keeping_patron_above_its_own_war(values: np.ndarray, keeps) -> None:
    """break_i = min(d^s_i, d_i(patron absent)) where the patron keeps the agreement, d^s_i elsewhere."""
    break_value, without_patron = values[0], values[1]
    got = agreements.client_break_value(break_value[None], without_patron[None], keeps[None])[0]
    assert np.all(got <= break_value)
    np.testing.assert_array_equal(got[~keeps], break_value[~keeps])
    np.testing.assert_array_equal(got[keeps], np.minimum(break_value, without_patron)[keeps])


def model_for(path: Path, seed: int, **russia: float) -> NegotiationModel:
    document = copy.deepcopy(sim.load_scenario(path).raw)
    document["actors"]["russia"].update(russia)
    return NegotiationModel(scenario_from_mapping(document), seed=seed)


def test_russias_support_is_leverage_over_the_regime_in_every_week() -> None:
    """Russia's support leverage over the regime is positive at every step and equals what the regime's
    alternative loses without Russia; the regime's support leverage over the US is 0 (its presence
    only lowers the US's alternative)."""
    model = model_for(MARCH_REGIME, seed=3)
    ids = model.params.actor_ids
    russia, regime, us = ids.index("russia"), ids.index("regime"), ids.index("us")
    for _ in range(model.params.steps):
        model.step()
        seen = model.seen
        support = seen.coercive_by_instrument[0, russia, regime, SUPPORT]
        assert support > 0.05
        assert support == max(0.0, seen.batna[0, regime] - seen.batna_without[0, russia, regime])
        assert seen.coercive_by_instrument[0, regime, us, SUPPORT] == 0.0


def test_a_restraining_patron_lowers_its_clients_will_to_break_the_ceasefire() -> None:
    """In the March scenario with the regime, while the ceasefire holds and Russia keeps it, the regime's
    own probability of breaking it (before any share held back) is lower when Russia restrains its
    clients: breaking would mean fighting without Russia. Where Russia does not keep it (it would gain by
    breaking) nothing changes."""
    compared = lower = 0
    for seed in range(1, 6):
        held = model_for(MARCH_REGIME, seed=seed, restrains_clients=0.5)
        free = model_for(MARCH_REGIME, seed=seed, restrains_clients=0.0)
        regime = held.params.actor_ids.index("regime")
        russia = held.params.actor_ids.index("russia")
        for _ in range(held.params.steps):
            held.step()
            free.step()
            if not (held.state.ceasefire[0] and free.state.ceasefire[0]):
                break
            if held.intents["restrain"][0, russia]:
                kept, defied = (
                    held.intents["spoil_probability"][0, regime],
                    free.intents["spoil_probability"][0, regime],
                )
                assert kept <= defied
                compared += 1
                lower += bool(kept < defied)
    assert compared > 10 and lower > 5


def test_without_a_patron_or_restraint_the_break_value_is_the_war_with_all_means() -> None:
    """Turkey's patron (the US) does not restrain its clients in the shipped scenarios: Turkey's probability
    of breaking is the same whether or not the regime's patron restrains (the rule is the client's own)."""
    for path in (MARCH_REGIME, SEPTEMBER_REGIME):
        held = model_for(path, seed=2, restrains_clients=0.5)
        free = model_for(path, seed=2, restrains_clients=0.0)
        turkey = held.params.actor_ids.index("turkey")
        held.step()
        free.step()
        assert held.intents["spoil_probability"][0, turkey] == free.intents["spoil_probability"][0, turkey]
