"""Threat objects (the scenario's `threats:` section, issue 11) and the threatener's choices about them.

What is checked, and why:

1. `sim.mechanisms.threats` as closed forms: a demand is met by an issue at least / at most a level or by an
   agreement in force, and a threat without a demand never is; carrying out pays when
   d_i(carried out) - k_i >= d_i(dropped) - a_i.
2. A threat object is nothing but the legacy options plus size and credibility: the same run, to the last
   bit, as `options.strike_regime` (or `safe_zones`) with `threats: {strike_power, credibility}`; a threat
   ruled out is no threat at all; the redeploy lag weighs the credibility by exp(-d / tau), so a longer
   lag leaves the target a better alternative and the threatener less leverage (Porter).
3. At the deadline with the demand unmet the threatener decides, from its own values: a cheap threat is
   carried out (the battlefield and the threatener's costs change from the next step), an expensive one
   is backed down from (its option switched off, the target's alternative as without the threat).
4. A demand met makes the threat lapse, before the deadline or after the threat was carried out.
5. The shipped counterfactual (the September 2016 "or else") carries the strikes out in some runs and
   backs down in others, and a run's summary.json describes each threat.
6. Bad threat definitions are refused through `cli.py validate`: exit 2, file:line:column, field path, hint.
7. Singh and Porter as properties over random small scenarios and seeds (hypothesis): a credible strike
   threat by i against j (a) never raises j's alternative, (c) gives i strikes leverage over j and j
   none over i, and (b) moves the offer toward i or makes a zone of agreement exist, except when i's
   alternative with the threat beats every point of the zone without it. (b) as stated does not hold
   in this model (see its xfail reason and `test_b_counterexample_...`).

The engine tests use one small war over one issue `x` (0: the government side wins, 1: the opposition
does), with a noiseless battlefield, so every run is deterministic and values are compared exactly: the
regime (ground 2) and Russia (air 2) on the government side, the rebels (ground 1) and the US (no forces,
war cost 0.01) on the opposition side. The regime and the rebels must sign and insist on a margin of 1
that they cannot lower, so no deal ever comes unless a test says so (the demand `settlement` stays
unmet). The government side's strength is 1 + 2 + 2 = 5 whatever control does, so a strike of size s
carried out shows as exactly 5 - s.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import math
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.api import load_scenario, run_scenario, write_run_outputs
from sim.mechanisms import threats as threat_math
from sim.mechanisms.leverage import INSTRUMENTS
from sim.model import engine
from sim.runs.distributed import InProcess
from sim.runs.ensemble import plan_monte_carlo
from sim.scenario.loader import scenario_from_mapping
from sim.scenario.params import OPTION_NAMES, Params, params_from_scenario

ROOT = Path(__file__).resolve().parent.parent
# The September 2016 "or else": threats that stand for the whole run, and the same threats as an ultimatum (a
# demand and a deadline at which the US decides).
OR_ELSE = ROOT / "scenarios" / "stalemate_2016_09_us_or_else.yaml"
ULTIMATUM = ROOT / "scenarios" / "stalemate_2016_09_us_ultimatum.yaml"
Doc = dict[str, Any]
OPTION = {name: index for index, name in enumerate(OPTION_NAMES)}
STRIKES = INSTRUMENTS.index("strikes")
START = dt.date(2016, 1, 1)
REGIME, RUSSIA, REBELS, US = 0, 1, 2, 3  # actor order of `war()`
GOVERNMENT_STRENGTH = 5.0  # other government strength 1 + regime ground 2 + Russian air 2
US_WAR_COST = 0.01
DEADLINE = 3

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# 1. The threatener's rules as closed forms


def test_demand_met_on_hand_values() -> None:
    """Four threats over two runs: issue 0 at least 0.5, issue 1 at most 0.3, agreement 1 in force, and
    no demand. A level reached exactly meets the demand either way; a threat without a demand is never
    met, although its (unused) level 0 would be reached and agreement 0 is in force."""
    outcome = np.array([[0.5, 0.3], [0.49, 0.31]])
    in_force = np.array([[True, True], [True, False]])
    issue = np.array([0, 1, -1, -1])
    level = np.array([0.5, 0.3, 0.0, 0.0])
    at_most = np.array([False, True, False, False])
    agreement = np.array([-1, -1, 1, -1])
    met = threat_math.demand_met(outcome, in_force, issue, level, at_most, agreement)
    np.testing.assert_array_equal(met, [[True, True, True, False], [False, False, False, False]])
    # The direction matters: the same levels read the other way round.
    flipped = threat_math.demand_met(outcome, in_force, issue, level, ~at_most, agreement)
    np.testing.assert_array_equal(flipped, [[True, True, True, False], [True, True, False, False]])


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    runs=st.integers(min_value=1, max_value=3),
    issues=st.integers(min_value=1, max_value=3),
    agreements=st.integers(min_value=1, max_value=3),
    threats=st.integers(min_value=1, max_value=4),
)
def test_demand_met_is_the_scalar_rule(
    data: st.DataObject, runs: int, issues: int, agreements: int, threats: int
) -> None:
    """Element by element: issue k at least (at most) level, or agreement g in force, or never."""
    outcome = np.array(data.draw(st.lists(unit, min_size=runs * issues, max_size=runs * issues))).reshape(runs, -1)
    in_force = np.array(
        data.draw(st.lists(st.booleans(), min_size=runs * agreements, max_size=runs * agreements))
    ).reshape(runs, -1)
    kinds = data.draw(st.lists(st.sampled_from(["issue", "agreement", "none"]), min_size=threats, max_size=threats))
    issue = np.array([data.draw(st.integers(0, issues - 1)) if kind == "issue" else -1 for kind in kinds])
    agreement = np.array([data.draw(st.integers(0, agreements - 1)) if kind == "agreement" else -1 for kind in kinds])
    level = np.array(data.draw(st.lists(unit, min_size=threats, max_size=threats)))
    at_most = np.array(data.draw(st.lists(st.booleans(), min_size=threats, max_size=threats)))
    met = threat_math.demand_met(outcome, in_force, issue, level, at_most, agreement)
    assert met.shape == (runs, threats)
    for n in range(runs):
        for t, kind in enumerate(kinds):
            if kind == "issue":
                value = outcome[n, issue[t]]
                expected = value <= level[t] if at_most[t] else value >= level[t]
            elif kind == "agreement":
                expected = bool(in_force[n, agreement[t]])
            else:
                expected = False
            assert bool(met[n, t]) == expected, (n, t, kind)


def test_carrying_out_pays_on_hand_values() -> None:
    """Worth it when d(carried out) - k >= d(dropped) - a; a tie carries the threat out (the rule is >=)."""
    carried = np.array([0.5, 0.5, 0.5, 0.4, 0.75])
    dropped = np.array([0.5, 0.5, 0.5, 0.5, 0.5])
    cost = np.array([0.25, 0.25, 0.0, 0.0, 0.5])
    audience = np.array([0.25, 0.2, 0.0, 0.05, 0.25])
    # 0.25 >= 0.25; 0.25 < 0.3; 0.5 >= 0.5; 0.4 < 0.45; 0.25 >= 0.25
    np.testing.assert_array_equal(
        threat_math.carrying_out_pays(carried, dropped, cost, audience), [True, False, True, False, True]
    )


@settings(max_examples=200, deadline=None)
@given(carried=unit, dropped=unit, cost=unit, audience=unit)
def test_carrying_out_pays_is_the_inequality(carried: float, dropped: float, cost: float, audience: float) -> None:
    pays = threat_math.carrying_out_pays(
        np.array([carried]), np.array([dropped]), np.array([cost]), np.array([audience])
    )
    assert bool(pays[0]) == (carried - cost >= dropped - audience)


# ---------------------------------------------------------------------------------------------
# Scenario documents and driving the engine


def actor(side: str, **fields: Any) -> Doc:
    """An actor whose ideal point is its side's victory on `x`."""
    position = {"government": 0.0, "opposition": 1.0}.get(side, 0.5)
    return {"name": side, "side": side, "position": {"x": position}, "salience": {"x": 1.0}, **fields}


def war(
    threats: Doc | None = None,
    *,
    us: Doc | None = None,
    deal_possible: bool = False,
    steps: int = 8,
    events: Doc | None = None,
    status_quo: float = 0.0,
    **battlefield: Any,
) -> Doc:
    """The regime, Russia, the rebels and the US on a noiseless battlefield (see the module docstring)."""
    margin = {} if deal_possible else {"demand": 1.0, "min_demand": 1.0}
    doc: Doc = {
        "name": "threat test",
        "time": {"start": START, "step": "week", "steps": steps},
        "issues": {"x": {"low": "government wins", "high": "opposition wins", "status_quo": status_quo}},
        "actors": {
            "regime": actor("government", consent_required=True, forces={"ground": 2.0}, **margin),
            "russia": actor("government", forces={"air": 2.0}),
            "rebels": actor("opposition", consent_required=True, forces={"ground": 1.0}, war_cost=0.02, **margin),
            "us": actor("opposition", war_cost=US_WAR_COST, **(us or {})),
        },
        "battlefield": {
            "noise": 0.0,
            "kappa": 0.5,
            "arms_stock": 0.0,
            "other_opposition_strength": 1.0,
            "government_victory": {"x": 0.0},
            "opposition_victory": {"x": 1.0},
            **battlefield,
        },
        "events": events or {},
    }
    if threats is not None:
        doc["threats"] = threats
    return doc


def threat(instrument: str = "strikes", **fields: Any) -> Doc:
    """The US's threat against Russia; `fields` add or override size, credibility, cost, demand, ..."""
    return {"t": {"by": "us", "against": "russia", "instrument": instrument, "size": 1.0, "credibility": 0.5, **fields}}


def cheap(**fields: Any) -> Doc:
    """Strikes unless a settlement is signed (never, in `war()`), by step 3: no cost of its own, and backing
    down would cost the US a whole unit of utility."""
    return threat(
        **{"cost": 0.0, "audience_cost": 1.0, "demand": {"agreement": "settlement"}, "deadline": DEADLINE, **fields}
    )


def expensive(**fields: Any) -> Doc:
    """The same threat at the largest cost per step and no audience cost."""
    return threat(
        **{"cost": 1.0, "audience_cost": 0.0, "demand": {"agreement": "settlement"}, "deadline": DEADLINE, **fields}
    )


@dataclass
class Trace:
    """What the engine saw and decided at every step, and a copy of the state after each."""

    params: Params
    seen: list[engine.Assessment] = field(default_factory=list)
    intents: list[dict[str, np.ndarray]] = field(default_factory=list)
    states: list[engine.State] = field(default_factory=list)

    def status(self) -> list[int]:
        """The first threat's status at the end of every step."""
        return [int(state.threat_status[0, 0]) for state in self.states]

    def fought(self, name: str) -> list[float]:
        """A battlefield quantity as fought at every step (government_strength, ...)."""
        return [float(getattr(seen, name)[0]) for seen in self.seen]

    def of(self, name: str, i: int) -> list[float]:
        """One actor's column of an assessment (batna, fighting_cost, ...) at every step."""
        return [float(getattr(seen, name)[0, i]) for seen in self.seen]

    def option(self, i: int, option: str) -> list[bool]:
        return [bool(state.options[0, i, OPTION[option]]) for state in self.states]


def run(doc: Doc) -> Trace:
    """Every step of one run (`engine.advance`): no battlefield shock, no uniform that breaks anything."""
    params = params_from_scenario(scenario_from_mapping(doc))
    state = engine.initial_state(params)
    trace = Trace(params)
    for t in range(params.steps):
        draws = np.ones((1, 2 + engine.agreement_draws(params)))
        draws[:, 0] = 0.0
        seen, intents, _, _ = engine.advance(params, state, t, draws)
        trace.seen.append(seen)
        trace.intents.append(intents)
        trace.states.append(copy.deepcopy(state))
    return trace


def assert_same_run(one: Trace, other: Trace) -> None:
    """Bit for bit the same state after every step and the same assessment at every step, apart from the
    threat objects' own bookkeeping (which only one of the two runs has)."""
    assert len(one.states) == len(other.states)
    for step, (a, b) in enumerate(zip(one.states, other.states, strict=True)):
        for item in dataclasses.fields(engine.State):
            if not item.name.startswith("threat_"):
                np.testing.assert_array_equal(
                    getattr(a, item.name), getattr(b, item.name), err_msg=f"state.{item.name} at step {step}"
                )
    for step, (a, b) in enumerate(zip(one.seen, other.seen, strict=True)):
        np.testing.assert_array_equal(a.batna, b.batna, err_msg=f"seen.batna at step {step}")
        for item in dataclasses.fields(engine.Assessment):
            if item.name != "threat_values":
                np.testing.assert_array_equal(
                    getattr(a, item.name), getattr(b, item.name), err_msg=f"seen.{item.name} at step {step}"
                )


def horizon_weight(params: Params, i: int) -> float:
    """(1 - patience^horizon) / (1 - patience) of actor i."""
    patience, horizon = params.actor("patience")[0, i], params.actor("horizon")[0, i]
    return float((1.0 - patience**horizon) / (1.0 - patience))


# ---------------------------------------------------------------------------------------------
# 2. A threat object is the legacy options plus size and credibility


LEGACY = {"strikes": ("strike_regime", "strike_power"), "safe_zones": ("safe_zones", "safe_zone_power")}


@pytest.mark.parametrize("deal_possible", [False, True], ids=["no deal", "deal possible"])
@pytest.mark.parametrize("instrument", ["strikes", "safe_zones"])
def test_a_threat_without_demand_or_deadline_is_the_legacy_option(instrument: str, deal_possible: bool) -> None:
    """`threats: {t: {by: us, instrument, size: s, credibility: c}}` = `options.<option>: true` with
    `threats: {<power>: s, credibility: c}` for the US: the same run, every state array and every
    assessment (seen.batna included) at every step. With a deal possible the threat also shapes the terms."""
    size, credibility = 0.8, 0.6
    option, power = LEGACY[instrument]
    new = run(war(threat(instrument, size=size, credibility=credibility), deal_possible=deal_possible))
    legacy = run(
        war(
            us={"options": {option: True}, "threats": {power: size, "credibility": credibility}},
            deal_possible=deal_possible,
        )
    )
    assert_same_run(new, legacy)
    # Not vacuous: the threat lowers Russia's alternative compared with no threat at all.
    plain = run(war(deal_possible=deal_possible))
    assert new.of("batna", RUSSIA)[0] < plain.of("batna", RUSSIA)[0]
    # Never resolved: no demand to meet, no deadline to pass.
    assert new.status() == [engine.THREAT_PENDING] * len(new.states)


def test_a_threat_ruled_out_is_no_threat() -> None:
    """`ruled_out: true` gives exactly the run without any threat, even with a demand left unmet and a
    deadline at which carrying it out would pay: it is never carried out."""
    ruled_out = run(war(cheap(ruled_out=True, size=0.9, credibility=0.9)))
    plain = run(war())
    assert_same_run(ruled_out, plain)
    assert all(int(state.threat_carried_step[0, 0]) == -1 for state in ruled_out.states)
    assert engine.THREAT_CARRIED_OUT not in ruled_out.status()
    # The same threat not ruled out is carried out: the refusal above is the ruling-out's doing.
    assert run(war(cheap(size=0.9, credibility=0.9))).status()[-1] == engine.THREAT_CARRIED_OUT


def test_the_redeploy_lag_weighs_the_credibility_and_keeps_less_leverage() -> None:
    """Credibility c exp(-d / tau) (Porter: a force that can return quickly keeps its coercive weight):
    with a longer lag Russia's alternative is higher and the US's strikes leverage over it lower, at
    every step."""
    tau, credibility = 14.0, 0.8
    traces = {
        days: run(war(threat(credibility=credibility, redeploy_days=days), credibility_tau_days=tau))
        for days in (0.0, 7.0, 30.0)
    }
    for days, trace in traces.items():
        assert trace.params.actor("threat_credibility")[0, US] == pytest.approx(
            credibility * math.exp(-days / tau), rel=1e-14
        )
    for step in range(len(traces[0.0].seen)):
        batna = [traces[days].seen[step].batna[0, RUSSIA] for days in (0.0, 7.0, 30.0)]
        leverage = [traces[days].seen[step].coercive_by_instrument[0, US, RUSSIA, STRIKES] for days in (0.0, 7.0, 30.0)]
        assert batna[0] < batna[1] < batna[2], (step, batna)
        assert leverage[0] > leverage[1] > leverage[2] > 0.0, (step, leverage)
    # The lag is the same as the legacy credibility weighted by hand.
    weighted = credibility * math.exp(-7.0 / tau)
    legacy = run(
        war(
            us={"options": {"strike_regime": True}, "threats": {"strike_power": 1.0, "credibility": weighted}},
            credibility_tau_days=tau,
        )
    )
    for a, b in zip(traces[7.0].seen, legacy.seen, strict=True):
        np.testing.assert_allclose(a.batna, b.batna, rtol=0, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# 3. The deadline passes with the demand unmet: the threatener decides


@pytest.mark.parametrize("cost", [0.0, 0.002])
def test_a_cheap_threat_is_carried_out_at_the_deadline(cost: float) -> None:
    """Carried out at the deadline step (not before); from the next step its strikes count in full on the
    battlefield as fought (the government side loses exactly the strike's size compared with the same run
    backed down) and the US's fighting cost rises by (war_cost + cost) (1 - patience^H) / (1 - patience)."""
    size = 1.0
    carried = run(war(cheap(cost=cost, size=size)))
    backed = run(war(expensive(size=size)))
    steps = len(carried.states)
    assert carried.status() == [engine.THREAT_PENDING] * DEADLINE + [engine.THREAT_CARRIED_OUT] * (steps - DEADLINE)
    last = carried.states[-1]
    assert int(last.threat_carried_step[0, 0]) == DEADLINE
    assert int(last.threat_resolved_step[0, 0]) == DEADLINE
    assert carried.option(US, "strike_regime") == [True] * steps  # the option stays on while carried out
    # The battlefield as fought: the same up to the deadline, then lower by the strike's size.
    strength, without = carried.fought("government_strength"), backed.fought("government_strength")
    assert strength[: DEADLINE + 1] == without[: DEADLINE + 1] == [GOVERNMENT_STRENGTH] * (DEADLINE + 1)
    for step in range(DEADLINE + 1, steps):
        assert strength[step] == pytest.approx(without[step] - size, abs=1e-12)
    # The US's costs: involvement + 1 at its war cost, plus the threat's own cost, over its horizon.
    rise = (US_WAR_COST + cost) * horizon_weight(carried.params, US)
    costs = carried.of("fighting_cost", US)
    assert costs[: DEADLINE + 1] == [costs[0]] * (DEADLINE + 1)
    for step in range(DEADLINE + 1, steps):
        assert costs[step] - costs[DEADLINE] == pytest.approx(rise, rel=1e-12)
        assert backed.of("fighting_cost", US)[step] == costs[0]


def test_an_expensive_threat_is_backed_down_from_and_then_counts_for_nothing() -> None:
    """Bluff called at the deadline step: the option is switched off and from the next step Russia's
    alternative (and every actor's) is what it is in the same war without the threat."""
    backed = run(war(expensive()))
    plain = run(war())
    steps = len(backed.states)
    assert backed.status() == [engine.THREAT_PENDING] * DEADLINE + [engine.THREAT_BLUFF_CALLED] * (steps - DEADLINE)
    assert int(backed.states[-1].threat_resolved_step[0, 0]) == DEADLINE
    assert int(backed.states[-1].threat_carried_step[0, 0]) == -1
    assert backed.option(US, "strike_regime") == [True] * DEADLINE + [False] * (steps - DEADLINE)
    for step in range(steps):
        if step <= DEADLINE:  # pending: the threat lowers Russia's alternative
            assert backed.seen[step].batna[0, RUSSIA] < plain.seen[step].batna[0, RUSSIA]
        else:
            np.testing.assert_array_equal(backed.seen[step].batna, plain.seen[step].batna)
    assert backed.fought("government_strength") == plain.fought("government_strength")


def test_the_choice_at_the_deadline_is_the_threateners_rule_on_its_own_values() -> None:
    """At the deadline step the intents equal `carrying_out_pays` on seen.threat_values, with k = (war cost
    + cost) over the US's horizon and a its audience cost; nobody else decides about the US's threat, and
    nothing is decided before the deadline. threat_values are the US's alternative with its strikes in full
    (as with credibility 1) and without them (as in the war without the threat)."""
    cost = 0.002
    trace = run(war(cheap(cost=cost)))
    k = (US_WAR_COST + cost) * horizon_weight(trace.params, US)
    for step, (seen, intents) in enumerate(zip(trace.seen, trace.intents, strict=True)):
        carry, back_down = intents["carry_out_threat"][0, 0], intents["back_down_threat"][0, 0]
        assert not carry[[REGIME, RUSSIA, REBELS]].any() and not back_down[[REGIME, RUSSIA, REBELS]].any()
        if step < DEADLINE:
            assert not carry[US] and not back_down[US], step
        elif step == DEADLINE:
            values = seen.threat_values[0, 0]
            pays = threat_math.carrying_out_pays(values[0], values[1], k, 1.0)
            assert bool(carry[US]) == bool(pays) is True
            assert not back_down[US]
    values = trace.seen[DEADLINE].threat_values[0, 0]
    in_full = run(war(us={"options": {"strike_regime": True}, "threats": {"strike_power": 1.0, "credibility": 1.0}}))
    assert values[0] == pytest.approx(in_full.seen[DEADLINE].batna[0, US], rel=1e-12)
    assert values[1] == pytest.approx(run(war()).seen[DEADLINE].batna[0, US], rel=1e-12)
    # The threshold: an audience cost just above d(dropped) - d(carried out) + k carries the threat out,
    # just below backs down (the rule weighs the threat's own cost and the audience cost one for one).
    threshold = float(values[1] - values[0] + k)
    assert threshold > 0.01
    for audience, status in (
        (threshold + 0.005, engine.THREAT_CARRIED_OUT),
        (threshold - 0.005, engine.THREAT_BLUFF_CALLED),
    ):
        decided = run(
            war(threat(cost=cost, audience_cost=audience, demand={"agreement": "settlement"}, deadline=DEADLINE))
        )
        np.testing.assert_array_equal(decided.seen[DEADLINE].threat_values, trace.seen[DEADLINE].threat_values)
        assert decided.status()[DEADLINE] == status, audience


def test_a_deadline_given_as_a_date_is_the_step_that_contains_it() -> None:
    """2016-01-25 falls in week 3 (2016-01-22 to 2016-01-28): the same run as `deadline: 3`."""
    by_date = run(
        war(threat(cost=0.0, audience_cost=1.0, demand={"agreement": "settlement"}, deadline=dt.date(2016, 1, 25)))
    )
    assert by_date.status() == run(war(cheap())).status()


# ---------------------------------------------------------------------------------------------
# 4. A demand met makes the threat lapse


def test_a_demand_met_before_the_deadline_makes_the_threat_lapse() -> None:
    """A ceasefire starts at step 2; the US demanded one by step 4: it drops the threat at step 2 (option
    off) and never carries it out, although carrying it out at the deadline would have paid."""
    truce = {"truce": {"at": 2, "action": "start_ceasefire"}}
    trace = run(war(cheap(demand={"agreement": "ceasefire"}, deadline=4), events=truce))
    steps = len(trace.states)
    assert trace.status() == [engine.THREAT_PENDING] * 2 + [engine.THREAT_LAPSED] * (steps - 2)
    assert int(trace.states[-1].threat_resolved_step[0, 0]) == 2
    assert int(trace.states[-1].threat_carried_step[0, 0]) == -1
    assert trace.option(US, "strike_regime") == [True] * 2 + [False] * (steps - 2)
    assert not any(intents["carry_out_threat"].any() for intents in trace.intents)
    assert trace.fought("government_strength") == [GOVERNMENT_STRENGTH] * steps
    # Without the ceasefire the same threat is carried out at its deadline.
    assert run(war(cheap(demand={"agreement": "ceasefire"}, deadline=4))).status()[-1] == engine.THREAT_CARRIED_OUT


@pytest.mark.parametrize(
    ("direction", "level", "lapses"),
    [("at_least", 0.6, True), ("at_least", 0.8, False), ("at_most", 0.8, True), ("at_most", 0.6, False)],
)
def test_an_issue_demand_is_read_in_its_direction(direction: str, level: float, lapses: bool) -> None:
    """x stands at 0.7 (its status quo, no agreement in force): a demand that x be at least 0.6 or at most
    0.8 is met from the start and the threat lapses at step 0; at least 0.8 or at most 0.6 is not, and the
    threat is carried out at its deadline."""
    demand = {"issue": "x", "level": level, "direction": direction}
    trace = run(war(threat(cost=0.0, audience_cost=1.0, demand=demand, deadline=DEADLINE), status_quo=0.7))
    if lapses:
        assert trace.status() == [engine.THREAT_LAPSED] * len(trace.states)
        assert int(trace.states[-1].threat_resolved_step[0, 0]) == 0
    else:
        assert trace.status()[DEADLINE - 1 : DEADLINE + 1] == [engine.THREAT_PENDING, engine.THREAT_CARRIED_OUT]


def test_a_threat_carried_out_stops_when_its_demand_is_met_later() -> None:
    """Carried out at step 1 (deadline 1); the ceasefire it demanded starts at step 4: the US stops (status
    lapsed at step 4, option off), the government side's strength and the US's costs are back to those of
    the war without the threat from step 5, and the record of when it was carried out stays."""
    truce = {"truce": {"at": 4, "action": "start_ceasefire"}}
    trace = run(war(cheap(demand={"agreement": "ceasefire"}, deadline=1), events=truce))
    plain = run(war(events=truce))
    steps = len(trace.states)
    assert trace.status() == (
        [engine.THREAT_PENDING] + [engine.THREAT_CARRIED_OUT] * 3 + [engine.THREAT_LAPSED] * (steps - 4)
    )
    last = trace.states[-1]
    assert int(last.threat_carried_step[0, 0]) == 1
    assert int(last.threat_resolved_step[0, 0]) == 4
    assert trace.option(US, "strike_regime") == [True] * 4 + [False] * (steps - 4)
    strength, without = trace.fought("government_strength"), plain.fought("government_strength")
    assert strength[:2] == without[:2]
    assert all(strength[step] == pytest.approx(without[step] - 1.0, abs=1e-12) for step in (2, 3, 4))
    assert strength[5:] == without[5:]
    assert trace.of("fighting_cost", US)[5:] == plain.of("fighting_cost", US)[5:]
    assert trace.of("fighting_cost", US)[2] > plain.of("fighting_cost", US)[2]


# ---------------------------------------------------------------------------------------------
# 5. The shipped counterfactual exercises the decision both ways


@pytest.fixture(scope="module")
def ultimatum_ensemble(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    """400 runs of the September "or else" as an ultimatum, in process; the runs table and the summary."""
    plan = plan_monte_carlo(load_scenario(ULTIMATUM), 400, seed=20160909)
    path = tmp_path_factory.mktemp("ultimatum") / "ensemble.parquet"
    plan.simulate_to(path, InProcess())
    return pq.read_table(path), plan.summary()


def test_the_ultimatum_strikes_are_carried_out_in_some_runs_and_backed_down_from_in_others(
    ultimatum_ensemble: tuple[Any, dict[str, Any]],
) -> None:
    """Uncertain inputs change the US's values at the deadline: both decisions occur (issue 11, point 6:
    a shipped counterfactual exercises the threat carried out in some runs)."""
    table, summary = ultimatum_ensemble
    carried_step = table.column("threat_us_strikes_carried_out_step").to_numpy(zero_copy_only=False)
    status = table.column("threat_us_strikes_status").to_numpy(zero_copy_only=False)
    carried = np.isfinite(carried_step.astype(float))
    assert carried.sum() > 0
    assert (status == engine.THREAT_BLUFF_CALLED).sum() > 0
    # Carried out at or after the deadline (2016-10-07), never before.
    loaded = load_scenario(ULTIMATUM)
    deadline = loaded.scenario.time.step_containing(loaded.scenario.threats["us_strikes"].deadline)
    assert (carried_step[carried].astype(int) >= deadline).all()
    strikes = summary["threats"]["us_strikes"]
    assert strikes["carried_out"]["probability"] == pytest.approx(carried.mean())
    assert strikes["carried_out"]["probability"] > 0
    assert strikes["at_end"]["bluff_called"]["probability"] > 0


@pytest.mark.parametrize("path", [OR_ELSE, ULTIMATUM], ids=lambda path: path.stem)
def test_a_runs_summary_json_describes_each_threat(tmp_path: Path, path: Path) -> None:
    """summary.json `threats`: who threatens whom with what, and its fate in the run."""
    loaded = load_scenario(path)
    write_run_outputs(run_scenario(loaded), tmp_path / "run")
    threats = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))["threats"]
    assert set(threats) == {"us_strikes", "us_safe_zones"}
    for threat_id, instrument in (("us_strikes", "strikes"), ("us_safe_zones", "safe_zones")):
        described = threats[threat_id]
        assert (described["by"], described["against"], described["instrument"]) == ("us", "russia", instrument)
        assert described["status"] in engine.THREAT_STATUS
        if described["status"] != "pending":
            assert described["date"] == loaded.scenario.time.date_of(described["step"]).isoformat()


# ---------------------------------------------------------------------------------------------
# 6. Bad threat definitions are refused with their place

# A valid scenario whose last section is one threat; each bad case changes or adds one line.
GOOD = """\
name: Threat refusals
seed: 3
time: {start: 2016-01-01, step: week, steps: 6}
issues:
  x: {low: regime wins, high: rebels win}
actors:
  regime:
    name: Regime
    side: government
    consent_required: true
    position: {x: 0.0}
    salience: {x: 1.0}
    forces: {ground: 2.0}
  rebels:
    name: Rebels
    side: opposition
    consent_required: true
    position: {x: 1.0}
    salience: {x: 1.0}
    forces: {ground: 1.0}
  us:
    name: United States
    side: opposition
    position: {x: 1.0}
    salience: {x: 1.0}
  un:
    name: United Nations
    position: {x: 0.5}
    salience: {x: 1.0}
battlefield:
  government_victory: {x: 0.0}
  opposition_victory: {x: 1.0}
threats:
  strikes:
    by: us
    against: regime
    instrument: strikes
    size: 0.5
    credibility: 0.6
    demand: {issue: x, level: 0.6}
    deadline: 2016-01-22
"""
SECOND = "  again: {by: us, against: regime, instrument: strikes, size: 0.2, credibility: 0.6}"
OTHER_CREDIBILITY = "  zones: {by: us, against: regime, instrument: safe_zones, size: 0.2, credibility: 0.3}"


def replaced(line: int, text: str) -> str:
    lines = GOOD.splitlines()
    lines[line - 1] = text
    return "\n".join(lines) + "\n"


def without_lines(first: int, last: int) -> str:
    lines = GOOD.splitlines()
    del lines[first - 1 : last]
    return "\n".join(lines) + "\n"


# (case, file text, "line:column", field path, words the message must contain)
REFUSALS = [
    ("unknown_by", replaced(35, "    by: china"), "35:5", "threats.strikes.by", "unknown actor 'china'"),
    ("unknown_against", replaced(36, "    against: china"), "36:5", "threats.strikes.against", "unknown actor"),
    ("against_itself", replaced(36, "    against: us"), "36:5", "threats.strikes.against", "threaten itself"),
    ("neutral_threatener", replaced(35, "    by: un"), "35:5", "threats.strikes.by", "neutral"),
    ("no_battlefield", without_lines(30, 32), "31:3", "threats.strikes", "battlefield"),
    ("same_instrument_twice", GOOD + SECOND + "\n", "42:36", "threats.again.instrument", "already threatens"),
    ("two_credibilities", GOOD + OTHER_CREDIBILITY + "\n", "42:71", "threats.zones.credibility", "credibility"),
    (
        "demand_issue_and_agreement",
        replaced(40, "    demand: {issue: x, level: 0.6, agreement: settlement}"),
        "40:5",
        "threats.strikes.demand",
        "either an issue with a level or an agreement",
    ),
    (
        "demand_of_neither_kind",
        replaced(40, "    demand: {direction: at_most}"),
        "40:5",
        "threats.strikes.demand",
        "either",
    ),
    ("issue_without_level", replaced(40, "    demand: {issue: x}"), "40:5", "threats.strikes.demand", "either"),
    (
        "unknown_issue",
        replaced(40, "    demand: {issue: y, level: 0.6}"),
        "40:14",
        "threats.strikes.demand.issue",
        "unknown issue",
    ),
    (
        "unknown_agreement",
        replaced(40, "    demand: {agreement: peace}"),
        "40:14",
        "threats.strikes.demand.agreement",
        "unknown agreement 'peace'",
    ),
    ("deadline_after_the_end", replaced(41, "    deadline: 2017-01-01"), "41:5", "threats.strikes.deadline", "outside"),
    (
        "deadline_before_the_start",
        replaced(41, "    deadline: 2015-12-01"),
        "41:5",
        "threats.strikes.deadline",
        "outside",
    ),
    ("deadline_step_past_the_end", replaced(41, "    deadline: 6"), "41:5", "threats.strikes.deadline", "outside"),
    (
        "level_above_one",
        replaced(40, "    demand: {issue: x, level: 1.5}"),
        "40:24",
        "threats.strikes.demand.level",
        "1.5",
    ),
    ("unknown_instrument", replaced(37, "    instrument: nukes"), "37:5", "threats.strikes.instrument", "nukes"),
]


# Refusals whose message carries no `Hint:` (issue 11 asks for one on every bad threat definition).
def validate(tmp_path: Path, case: str, text: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "validate", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return path, done


def test_the_base_file_of_the_refusals_is_valid(tmp_path: Path) -> None:
    _, done = validate(tmp_path, "good", GOOD)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("case", "text", "place", "field_path", "words"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_bad_threat_is_refused_with_its_place(
    tmp_path: Path, case: str, text: str, place: str, field_path: str, words: str
) -> None:
    """Exit 2, no traceback, `file:line:column: field 'path': message`."""
    path, done = validate(tmp_path, case, text)
    message = " ".join(done.stderr.split())
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert f"{path.name}:{place}: field '{field_path}'" in message
    assert words in message


@pytest.mark.parametrize(("case", "text"), [(case, text) for case, text, *_ in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_a_bad_threat_is_refused_with_a_hint(tmp_path: Path, case: str, text: str) -> None:
    """Issue 11: every bad threat definition is refused with a hint saying what to write instead."""
    _, done = validate(tmp_path, case, text)
    assert done.returncode == 2
    hint = " ".join(done.stderr.split()).partition(" Hint: ")[2]
    assert hint.strip(), done.stderr


# ---------------------------------------------------------------------------------------------
# 7. Singh and Porter as properties (point 4 of issue 11)

SIDES = ("government", "opposition")


@st.composite
def threat_cases(draw: st.DrawFn, *, max_actors: int = 3, max_issues: int = 2) -> tuple[Doc, Doc, int]:
    """A random small war (2-3 actors, 1-2 issues) and a strike threat by actor `i` against actor `j`.

    i and j fight on opposite sides; each leans to its own side's victory (its ideal point lies at most
    0.45 of the way from its side's victory to the other's, on every issue), so j prefers the victory that
    i's strikes make less likely: a threat against an adversary. A third actor `k`, if any, is anywhere
    (either side or neutral, any ideal point). Issue `i0` is what the war is about (0: the government side
    wins, 1: the opposition); a second issue has random victory outcomes. Returns (document without the
    threat, the `threats:` section, seed).
    """
    issues = [f"i{k}" for k in range(draw(st.integers(1, max_issues)))]
    government = {"i0": 0.0, **{k: draw(unit) for k in issues[1:]}}
    opposition = {"i0": 1.0, **{k: draw(unit) for k in issues[1:]}}
    victory = {"government": government, "opposition": opposition}
    i_side = draw(st.sampled_from(SIDES))
    j_side = SIDES[1 - SIDES.index(i_side)]

    def leaning(side: str) -> Doc:
        own, other = victory[side], victory[SIDES[1 - SIDES.index(side)]]
        return {k: own[k] + draw(st.floats(0.0, 0.45)) * (other[k] - own[k]) for k in issues}

    def party(side: str, position: Doc, force: str) -> Doc:
        demand = draw(st.floats(-0.1, 0.2))
        return {
            "name": side,
            "side": side,
            "position": position,
            "salience": {k: draw(st.floats(0.1, 1.0)) for k in issues},
            "consent_required": draw(st.booleans()),
            "patience": draw(st.floats(0.5, 0.99)),
            "war_cost": draw(st.floats(0.0, 0.05)),
            "horizon": draw(st.integers(1, 24)),
            "capability": draw(st.floats(0.5, 3.0)),
            "demand": demand,
            "min_demand": demand,
            "forces": {force: draw(st.floats(0.0 if force == "ground" else 0.2, 3.0))},
        }

    actors = {
        "i": party(i_side, leaning(i_side), "ground"),
        "j": party(j_side, leaning(j_side), draw(st.sampled_from(["ground", "air"]))),
    }
    if max_actors > 2 and draw(st.booleans()):
        side = draw(st.sampled_from([*SIDES, "neutral"]))
        actors["k"] = party(side, {k: draw(unit) for k in issues}, "ground")
    if not any(a["consent_required"] for a in actors.values()):
        actors[draw(st.sampled_from(sorted(actors)))]["consent_required"] = True
    doc = {
        "name": "property",
        "time": {"start": START, "step": "week", "steps": 2},
        "issues": {k: {"low": "low", "high": "high", "status_quo": draw(unit)} for k in issues},
        "actors": actors,
        "battlefield": {
            "noise": draw(st.floats(0.0, 0.2)),
            "kappa": draw(st.floats(0.05, 1.0)),
            "arms_stock": draw(st.floats(0.0, 2.0)),
            "control": draw(st.floats(0.1, 0.9)),
            "other_government_strength": draw(st.floats(0.5, 3.0)),
            "other_opposition_strength": draw(st.floats(0.5, 3.0)),
            "government_victory": government,
            "opposition_victory": opposition,
        },
    }
    threats = {
        "or_else": {
            "by": "i",
            "against": "j",
            "instrument": "strikes",
            "size": draw(st.one_of(st.just(0.0), st.floats(0.05, 3.0))),
            "credibility": draw(st.one_of(st.just(0.0), st.floats(0.05, 1.0))),
            "redeploy_days": draw(st.floats(0.0, 30.0)),
        }
    }
    return doc, threats, draw(st.integers(0, 2**31 - 1))


def step_zero(doc: Doc, seed: int) -> tuple[Params, engine.Assessment]:
    """What every actor sees at step 0 of a run with the given seed."""
    params = params_from_scenario(scenario_from_mapping(doc))
    draws = engine.draw_noise(np.random.default_rng(seed), params)
    seen, _ = engine.observe(params, engine.initial_state(params), 0, draws[:1])
    return params, seen


def with_and_without(case: tuple[Doc, Doc, int]) -> tuple[Params, engine.Assessment, engine.Assessment]:
    doc, threats, seed = case
    params, without = step_zero(doc, seed)
    _, with_threat = step_zero({**doc, "threats": threats}, seed)
    return params, without, with_threat


THREATENER, TARGET = 0, 1  # actor order of `threat_cases`


@settings(max_examples=200, deadline=None)
@given(case=threat_cases())
def test_a_never_raises_the_targets_alternative(case: tuple[Doc, Doc, int]) -> None:
    """(a) Singh: the "or else" works through the target's alternative, and only ever lowers it."""
    _, without, with_threat = with_and_without(case)
    assert with_threat.batna[0, TARGET] <= without.batna[0, TARGET] + 1e-12


@settings(max_examples=200, deadline=None)
@given(case=threat_cases())
def test_c_gives_the_threatener_strikes_leverage_and_the_target_none(case: tuple[Doc, Doc, int]) -> None:
    """(c) i's strikes leverage over j is positive when size x credibility > 0 (0 otherwise), and i's own
    threat gives j no strikes leverage over i, nor raises j's coercive leverage over i by any instrument or
    as a whole (leverage over i is measured with i's own threats held out)."""
    _, threats, _ = case
    _, without, with_threat = with_and_without(case)
    threat_def = threats["or_else"]
    leverage = with_threat.coercive_by_instrument[0, THREATENER, TARGET, STRIKES]
    if threat_def["size"] * threat_def["credibility"] > 0:
        assert leverage > 0.0
    else:
        assert leverage == 0.0
    assert with_threat.coercive_by_instrument[0, TARGET, THREATENER, STRIKES] == 0.0
    assert without.coercive_by_instrument[0, THREATENER, TARGET, STRIKES] == 0.0
    rise = (
        with_threat.coercive_by_instrument[0, TARGET, THREATENER]
        - without.coercive_by_instrument[0, TARGET, THREATENER]
    )
    assert (rise <= 1e-12).all(), dict(zip(INSTRUMENTS, rise, strict=True))
    assert with_threat.coercive[0, TARGET, THREATENER] <= without.coercive[0, TARGET, THREATENER] + 1e-12


def best_in_zone(params: Params, seen: engine.Assessment, who: int) -> float:
    """max u_who(x) over the zone of agreement of the settlement (u_k(x) > r_k for every actor whose
    consent it needs), on a fine grid of its free issues; -inf if the zone is empty."""
    agreements = params.agreements
    free = agreements.free[agreements.settlement]
    grid = np.linspace(0.0, 1.0, 20001 if len(params.issue_ids) == 1 else 401)
    points = np.stack(np.meshgrid(*([grid] * len(params.issue_ids)), indexing="ij"), axis=-1)
    points = np.where(free, points.reshape(-1, len(params.issue_ids)), params.status_quo[0])
    risk = params.actor("risk")[0][None, :, None]
    utility = 1.0 - np.sum(
        params.salience[0][None] * np.abs(points[:, None, :] - params.ideal[0][None]) ** risk, axis=-1
    )
    consent = agreements.consent[agreements.settlement]
    inside = np.all(utility[:, consent] > seen.reservation[0][consent], axis=-1)
    return float(utility[inside, who].max()) if inside.any() else -math.inf


class PropertyBError(AssertionError):
    """Raised (instead of a plain assertion error) where (b) fails, so that an xfail for (b) cannot hide any
    other failure."""


def deal_moves_toward_the_threatener(
    params: Params, without: engine.Assessment, with_threat: engine.Assessment
) -> bool:
    """(b) as stated: i's utility of the offer does not fall, or a zone of agreement now exists that did
    not, or else i's alternative with the threat is at least its utility of every point of the zone
    without it (the condition of point 3, under which the threat may make a deal impossible)."""
    toward = with_threat.utility_of_offer[0, THREATENER] >= without.utility_of_offer[0, THREATENER] - 1e-6
    made_possible = bool(with_threat.zone_exists[0]) and not bool(without.zone_exists[0])
    excepted = with_threat.batna[0, THREATENER] >= best_in_zone(params, without, THREATENER)
    return bool(toward or made_possible or excepted)


def check_b(params: Params, without: engine.Assessment, with_threat: engine.Assessment) -> None:
    if not deal_moves_toward_the_threatener(params, without, with_threat):
        i = THREATENER
        raise PropertyBError(
            f"u_i(offer) {without.utility_of_offer[0, i]:.6f} -> {with_threat.utility_of_offer[0, i]:.6f}, "
            f"offer {without.proposal[0]} -> {with_threat.proposal[0]}, zone {without.zone_exists[0]} -> "
            f"{with_threat.zone_exists[0]}, d_i with the threat {with_threat.batna[0, i]:.6f}, best u_i in the "
            f"zone without it {best_in_zone(params, without, i):.6f}"
        )


@pytest.mark.xfail(
    strict=True,
    raises=PropertyBError,
    reason="(b) does not hold in this model. (1) A third party: the threat lowers j's alternative (and raises "
    "that of a third actor on i's side), so the Nash point moves toward the third actor's ideal, past i's own "
    "(see test_b_counterexample_the_deal_overshoots_the_threatener). (2) Two issues: the bargaining solver "
    "(solve_bargaining, 100 ascent steps) can stop far from the asymmetric Nash solution on piecewise-linear "
    "utilities (log Nash product up to 0.35 below a grid point's), so i's utility of the offer falls (by 1e-3 "
    "to 3e-2 in the cases found) where the exact solution does not move or moves toward i.",
)
@settings(max_examples=200, deadline=None)
@given(case=threat_cases())
def test_b_moves_the_deal_toward_the_threatener_or_makes_one_possible(case: tuple[Doc, Doc, int]) -> None:
    """(b) Singh: an "or else" moves the deal toward i or makes one possible, except under point 3's
    condition. Tested as stated, over 2-3 actors and 1-2 issues."""
    check_b(*with_and_without(case))


@settings(max_examples=200, deadline=None)
@given(case=threat_cases(max_actors=2, max_issues=1))
def test_b_holds_between_two_parties_over_one_issue(case: tuple[Doc, Doc, int]) -> None:
    """(b) where the theory behind it applies as is: i and j alone over one issue (Nash's solution is
    monotone in each party's disagreement point and the solver is exact in one dimension). This is a
    restriction of the test above, kept apart so that it is never mistaken for it."""
    check_b(*with_and_without(case))


@pytest.mark.xfail(
    strict=True,
    raises=PropertyBError,
    reason="(b) counterexample: the US's threat moves the regime-rebel deal from x = 0.6225 to 0.7378, past "
    "the US's ideal 0.55 (u_US 0.9275 -> 0.8122, a zone with and without, d_US with the threat 0.5238 < 1)",
)
def test_b_counterexample_the_deal_overshoots_the_threatener() -> None:
    """One issue, three actors: the US (opposition side, ideal 0.55, no consent needed) threatens strikes
    (size 1, credibility 0.5) against the regime (ideal 0, ground 1), whose deal with the rebels (ideal 1,
    ground 1) must be signed by both. The threat lowers the regime's alternative and raises the rebels':
    the Nash point moves toward the rebels, beyond the US's ideal, and the US's utility of it falls."""

    def side(name: str, ideal: float, consent: bool) -> Doc:
        return {
            "name": name,
            "side": name,
            "position": {"x": ideal},
            "salience": {"x": 1.0},
            "consent_required": consent,
            "forces": {"ground": 1.0},
            "war_cost": 0.01,
        }

    doc = {
        "name": "overshoot",
        "time": {"start": START, "step": "week", "steps": 2},
        "issues": {"x": {"low": "low", "high": "high", "status_quo": 0.5}},
        "actors": {
            "i": {**side("opposition", 0.55, False), "war_cost": 0.0},
            "j": side("government", 0.0, True),
            "k": side("opposition", 1.0, True),
        },
        "battlefield": {"noise": 0.0, "government_victory": {"x": 0.0}, "opposition_victory": {"x": 1.0}},
    }
    threats = {"or_else": {"by": "i", "against": "j", "instrument": "strikes", "size": 1.0, "credibility": 0.5}}
    params, without, with_threat = with_and_without((doc, threats, 0))
    assert without.proposal[0, 0] == pytest.approx(0.6225, abs=1e-4)
    assert with_threat.proposal[0, 0] == pytest.approx(0.7378, abs=1e-4)
    assert without.utility_of_offer[0, 0] == pytest.approx(0.9275, abs=1e-4)
    assert with_threat.utility_of_offer[0, 0] == pytest.approx(0.8122, abs=1e-4)
    assert without.zone_exists[0] and with_threat.zone_exists[0]
    assert with_threat.batna[0, 0] == pytest.approx(0.5238, abs=1e-4)
    check_b(params, without, with_threat)


def test_the_run_report_marks_what_became_of_each_threat() -> None:
    """The report's time axes mark a threat carried out, backed down from or dropped, in the threatener's
    name, at the step the summary gives (the ultimatum at its own seed: the US backs down at the deadline)."""
    from sim.reports.run import run_marks

    loaded = load_scenario(ROOT / "scenarios" / "stalemate_2016_09_us_ultimatum.yaml")
    result = run_scenario(loaded)
    threats = result.summary["threats"]
    marks = [mark for mark in run_marks(result) if mark.kind == "threat"]
    assert {mark.label for mark in marks} == {
        "United States backs down from its threat (strikes)",
        "United States backs down from its threat (safe zones)",
    }
    assert {mark.step for mark in marks} == {threat["step"] for threat in threats.values()}
    assert all(threat["status"] == "bluff called" for threat in threats.values())
