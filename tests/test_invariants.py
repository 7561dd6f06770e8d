"""Model invariants, property-tested.

1. Ranges: utilities, probabilities, control, proposals and credibility stay in [0, 1];
   leverage is never negative; demands stay between min_demand and the initial demand;
   nothing collected is NaN or infinite (the war probabilities of a scenario without a
   battlefield are the one documented exception: there is no war to have odds).
2. Labels and order: relabelling the actors and listing them in another order does not
   change the outcome (deal, its step and position, the ceasefire's fate).
3. The cost of fighting. What the model guarantees, and what it does not:

   (a) At any state, raising any actors' war_cost lowers (weakly) every alternative to a
       deal, d_i = p u_i(x^G) + (1 - p) u_i(x^O) - c_i e_i (1 - delta^H)/(1 - delta),
       leaves coercive leverage unchanged (every variant of d_j carries the same cost
       term, which cancels in the differences), leaves the bargaining weights unchanged,
       and so lowers every reservation value r_i = d_i + m_i - sigma_i t. The zone of
       agreement {x : u_i(x) > r_i} can only grow: if it exists at the lower costs, it
       exists at the higher ones. Tested at every step of a run, on the same state.
   (b) Raising war costs makes every party concede at least as fast: at the same state its cost of
       delay rho_i + c_i f g_i (`sim.mechanisms.concessions`) is weakly higher. It does not follow
       that the deal comes sooner, and since the time to agree comes from the concessions it need
       not: the lower alternatives also move the offer (away from the parties whose alternative fell
       most), so the party whose concessions decide the timing can have further to go; under a
       ceasefire war costs bite only at its residual intensity (the "hurting stalemate" a ceasefire
       removes, Zartman 1989), and that effect can dominate. (Before concessions timed the deal,
       (a) implied that higher costs never delayed it, and that was tested.)
   (c) Outside those conditions monotonicity can fail, and does: a spoiler's chance of
       breaking the ceasefire depends on the offer on the table, which moves with the
       reservations, so higher costs can change whether and when the ceasefire collapses,
       and the war that follows changes everything after; before talks open, a zone that
       exists only at the higher costs stops the actors from softening and escalating,
       so the runs diverge before a deal may be struck.
"""

from __future__ import annotations

import copy
import math
import random
from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.mechanisms import agreements, battlefield, decisions
from sim.mechanisms import alternatives as batna
from sim.mechanisms.utility import distance_from_ideal, normalise_salience, utility
from sim.model.model import NegotiationModel
from sim.scenario.loader import ScenarioError, scenario_from_mapping
from tests.strategies import (
    SHIPPED,
    get_at,
    numeric_frame_problems,
    paths_of,
    relabel_actors,
    reorder_actors,
    set_at,
    shipped_document,
)

Doc = dict[str, Any]
STEPS = 12  # steps run per example: enough for deals, collapses and softening; fast
TOLERANCE = 1e-12
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


def run(document: Doc, seed: int, steps: int = STEPS) -> NegotiationModel:
    model = NegotiationModel(scenario_from_mapping(document), seed=seed)
    for _ in range(min(steps, model.params.steps)):
        model.step()
    return model


# ---------------------------------------------------------------------------------------------
# Perturbed but valid scenarios


@st.composite
def perturbed_documents(draw: st.DrawFn) -> Doc:
    """A self-contained shipped scenario with some numbers moved within their ranges."""
    document = shipped_document(draw(st.sampled_from(SHIPPED)))
    numeric = [
        path
        for path in paths_of(document)
        if path[0] in ("actors", "battlefield")
        and isinstance(get_at(document, path), (int, float))
        and not isinstance(get_at(document, path), bool)
    ]
    for path in draw(st.lists(st.sampled_from(numeric), max_size=8, unique=True)):
        value = get_at(document, path)
        if isinstance(value, int) and value > 1:
            set_at(document, path, max(1, round(value * draw(st.floats(0.25, 2.0)))))
        elif 0.0 < value <= 1.0:
            set_at(document, path, value ** draw(st.floats(0.25, 4.0)))  # stays in (0, 1]
        elif value == 0.0:
            set_at(document, path, draw(st.sampled_from([0.0, 0.01, 0.1])))
        else:
            set_at(document, path, value * draw(st.floats(0.25, 2.0)))
    try:
        scenario_from_mapping(document)
    except ScenarioError:
        assume(False)
    return document


seeds = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------------------------------------
# 1. Ranges

unit = st.floats(0.0, 1.0)


@given(data=st.data(), actors=st.integers(1, 5), issues=st.integers(1, 4))
@settings(max_examples=200, deadline=None)
def test_utility_and_distance_lie_in_the_unit_interval(data: st.DataObject, actors: int, issues: int) -> None:
    outcome = data.draw(hnp.arrays(np.float64, (issues,), elements=unit))
    ideal = data.draw(hnp.arrays(np.float64, (actors, issues), elements=unit))
    raw = data.draw(hnp.arrays(np.float64, (actors, issues), elements=st.floats(0.0, 1000.0)))
    assume(np.all(raw.sum(axis=-1) > 0))
    salience = normalise_salience(raw)
    risk = data.draw(hnp.arrays(np.float64, (actors,), elements=st.floats(1.0, 4.0)))
    values = utility(outcome, ideal, salience, risk)
    assert np.all(values >= -TOLERANCE) and np.all(values <= 1 + TOLERANCE)
    distance = distance_from_ideal(outcome, ideal, salience)
    assert np.all(distance >= 0) and np.all(distance <= 1 + TOLERANCE)
    at_ideal = utility(ideal[0], ideal[:1], salience[:1], risk[:1])
    assert np.allclose(at_ideal, 1.0)


strength = st.floats(0.0, 1e6)


@given(
    government=strength,
    opposition=strength,
    control=st.floats(1e-4, 1 - 1e-4),
    exponent=st.floats(0.01, 10.0),
    territory=st.floats(0.0, 5.0),
)
@settings(max_examples=300, deadline=None)
def test_war_probability_is_a_probability(
    government: float, opposition: float, control: float, exponent: float, territory: float
) -> None:
    p = battlefield.war_probability(
        np.array(government), np.array(opposition), np.array(control), np.array(exponent), np.array(territory)
    )
    assert 0.0 <= float(p) <= 1.0 and math.isfinite(float(p))


@given(
    gaps=hnp.arrays(np.float64, (4,), elements=st.floats(-2.0, 2.0)),
    capability=hnp.arrays(np.float64, (4,), elements=st.floats(1e-6, 100.0)),
    sensitivity=hnp.arrays(np.float64, (4,), elements=st.floats(0.0, 1000.0)),
)
@settings(max_examples=300, deadline=None)
def test_spoil_and_collapse_probabilities_are_probabilities(
    gaps: np.ndarray, capability: np.ndarray, sensitivity: np.ndarray
) -> None:
    spoil = agreements.defection_probability(np.maximum(gaps, 0.0), capability, sensitivity, 0.0)
    assert np.all(spoil >= 0) and np.all(spoil <= 1)
    collapse = decisions.ceasefire_collapse_probability(spoil)
    assert 0.0 <= float(collapse) <= 1.0
    assert float(collapse) >= float(spoil.max()) - TOLERANCE  # any one spoiler suffices


@given(days=st.floats(0.0, 3650.0), tau=st.floats(1e-3, 3650.0))
def test_credibility_weight_is_a_weight(days: float, tau: float) -> None:
    weight = float(battlefield.credibility_weight(np.array(days), np.array(tau)))
    assert 0.0 <= weight <= 1.0


@given(document=perturbed_documents(), seed=seeds)
@SETTINGS
def test_runs_stay_finite_and_in_range(document: Doc, seed: int) -> None:
    model = run(document, seed)
    assert not numeric_frame_problems(model)
    agents = model.datacollector.get_agent_vars_dataframe()
    for column in (c for c in agents.columns if c.startswith(("coercive", "inducement", "leverage"))):
        assert (agents[column].astype(float) >= -TOLERANCE).all(), column
    demand, params = agents["demand"].astype(float).unstack().to_numpy(), model.params
    assert np.all(demand >= np.minimum(params.actor("min_demand"), params.actor("demand")) - TOLERANCE)
    assert np.all(demand <= params.actor("demand") + TOLERANCE)
    assert np.all(np.isfinite(model.params.actor("war_cost")))


# ---------------------------------------------------------------------------------------------
# 2. Labels and order do not matter


def outcome(model: NegotiationModel) -> tuple[bool, int, np.ndarray, int, int, bool]:
    state = model.state
    return (
        bool(state.deal[0]),
        int(state.deal_step[0]),
        state.deal_outcome[0].copy(),
        int(state.held_steps[0]),
        int(state.collapsed_step[0]),
        bool(state.ceasefire[0]),
    )


@given(
    document=perturbed_documents(),
    seed=seeds,
    shuffle=st.randoms(use_true_random=False),
    labels=st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True), min_size=12, max_size=12, unique=True),
)
@SETTINGS
def test_relabelling_and_reordering_the_actors_does_not_change_the_outcome(
    document: Doc, seed: int, shuffle: random.Random, labels: list[str]
) -> None:
    ids = list(document["actors"])
    order = ids[:]
    shuffle.shuffle(order)
    mapping = dict(zip(ids, labels, strict=False))
    other = relabel_actors(reorder_actors(document, order), mapping)
    first, second = outcome(run(document, seed)), outcome(run(other, seed))
    assert first[0] == second[0] and first[1] == second[1]
    if first[0]:
        assert np.max(np.abs(first[2] - second[2])) < 1e-9
    assert first[3:] == second[3:]


# ---------------------------------------------------------------------------------------------
# 3. Raising the cost of fighting


def with_costs_raised(document: Doc, factor: float, added: float) -> Doc:
    raised = copy.deepcopy(document)
    for actor in raised["actors"].values():
        actor["war_cost"] = min(1.0, actor.get("war_cost", 0.0) * factor + added)
    return raised


@st.composite
def cost_changes(draw: st.DrawFn) -> tuple[float, float]:
    """(factor, added): new war_cost = min(1, factor * war_cost + added), never the identity."""
    factor, added = draw(st.floats(1.0, 5.0)), draw(st.floats(0.0, 0.03))
    return (factor, added) if (factor, added) != (1.0, 0.0) else (1.0, 0.01)


@st.composite
def contested_documents(draw: st.DrawFn) -> Doc:
    """Perturbed scenarios whose zone of agreement is in doubt: demands and costs drawn anew."""
    document = draw(perturbed_documents())
    for actor in document["actors"].values():
        demand = draw(st.floats(0.0, 0.8))
        actor["demand"], actor["min_demand"] = demand, min(actor.get("min_demand", 0.0), demand)
        actor["soften_rate"] = draw(st.floats(0.0, 0.1))
        actor["war_cost"] = draw(st.floats(0.0, 0.03))
    return document


@given(
    cost=st.floats(0.0, 1.0),
    extra=st.floats(0.0, 1.0),
    involvement=st.floats(0.0, 100.0),
    patience=st.floats(1e-6, 1.0, exclude_max=True),
    horizon=st.integers(1, 520),
    p=unit,
    u_government=unit,
    u_opposition=unit,
)
def test_the_alternative_falls_as_the_cost_of_fighting_rises(
    cost: float,
    extra: float,
    involvement: float,
    patience: float,
    horizon: int,
    p: float,
    u_government: float,
    u_opposition: float,
) -> None:
    """The core of claim (a): C = c e (1 - delta^H) / (1 - delta) is non-decreasing in c, and d = W - C."""
    low = batna.fighting_cost(np.array(cost), np.array(involvement), np.array(patience), np.array(horizon))
    high = batna.fighting_cost(np.array(cost + extra), np.array(involvement), np.array(patience), np.array(horizon))
    assert 0.0 <= low <= high
    value = lambda c: batna.war_lottery_value(np.array(p), np.array(u_government), np.array(u_opposition), c)  # noqa: E731
    assert value(high) <= value(low)


@given(document=contested_documents(), seed=seeds, change=cost_changes(), step=st.integers(0, STEPS - 1))
@settings(SETTINGS, max_examples=40)
def test_higher_costs_lower_alternatives_and_never_close_the_zone(
    document: Doc, seed: int, change: tuple[float, float], step: int
) -> None:
    """Claim (a): at the same state, higher costs give lower alternatives and reservations,
    the same coercive leverage and weights, and a zone at least as wide."""
    document["time"]["talks_start"] = document["time"].get("steps", 40) - 1  # no deal yet: the zone is the solver's
    low = run(document, seed, steps=step)  # the state reached at the lower costs
    high = NegotiationModel(scenario_from_mapping(with_costs_raised(document, *change)), seed=seed)
    high.state, high.steps = copy.deepcopy(low.state), low.steps
    low.step()
    high.step()
    a, b = low.seen, high.seen
    assert np.all(b.batna <= a.batna + TOLERANCE)
    assert np.all(b.reservation <= a.reservation + TOLERANCE)
    assert np.allclose(b.coercive, a.coercive, atol=1e-9)
    assert np.allclose(b.weights, a.weights)
    event(f"zone at the lower costs: {bool(a.zone_exists[0])}; at the higher: {bool(b.zone_exists[0])}")
    if a.zone_exists[0]:
        assert b.zone_exists[0]
    if low.state.deal_step[0] == step:  # a deal struck now at the lower costs is struck at the higher
        assert high.state.deal_step[0] == step


def no_spoilers_talks_open(document: Doc) -> Doc:
    """The conditions of claim (b): no actor may spoil, and talks are open from step 0."""
    document = copy.deepcopy(document)
    for actor in document["actors"].values():
        actor.setdefault("options", {})["spoil"] = False
    document["time"].pop("talks_start", None)
    return document


@given(document=contested_documents(), seed=seeds, change=cost_changes(), step=st.integers(0, STEPS - 1))
@settings(SETTINGS, max_examples=40)
def test_higher_costs_make_every_party_concede_at_least_as_fast(
    document: Doc, seed: int, change: tuple[float, float], step: int
) -> None:
    """Claim (b): at the same state, every party's concession this step is at least as large at the higher
    costs, and strictly larger for a party that is conceding, involved in a war being fought, and whose
    war cost rose."""
    document = no_spoilers_talks_open(document)
    low = run(document, seed, steps=step)
    high = NegotiationModel(scenario_from_mapping(with_costs_raised(document, *change)), seed=seed)
    high.state, high.steps = copy.deepcopy(low.state), low.steps
    low.step()
    high.step()
    slow, fast = low.intents["concession"], high.intents["concession"]
    assert np.all(fast >= slow - 1e-15)
    cost_rose = high.params.actor("war_cost") > low.params.actor("war_cost") + 1e-9  # not lost in rounding
    biting = (slow > 0) & (low.seen.involvement > 0) & (low.seen.intensity[:, None] > 0) & cost_rose
    event(f"a conceding party bears more cost: {bool(biting.any())}")
    assert np.all(fast[biting] > slow[biting])
