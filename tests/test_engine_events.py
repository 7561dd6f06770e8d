"""Scheduled events (scenario `events:`), one action at a time, each in a scenario of its own.

Every scenario here is as small as the schema allows: one issue, the actors the action needs, a
battlefield without noise (so each run is deterministic and values are compared exactly). Unless a
test says otherwise the two required parties demand a margin of 1 (utility) and cannot lower it, so
no deal is ever reached and only the events and the battlefield move the state.

The engine is driven step by step (`engine.advance`) and the state is copied after every step; the
strengths and the arms inflow "as fought" are those of the battlefield stage of that step, which
comes after the step's events. One test runs a YAML file through `sim.api` to read the time series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.api import load_scenario, run_scenario
from sim.model import engine
from sim.scenario.loader import scenario_from_mapping
from sim.scenario.params import OPTION_NAMES, Params, params_from_scenario

Doc = dict[str, Any]
OPTION = {name: index for index, name in enumerate(OPTION_NAMES)}


# ---------------------------------------------------------------------------------------------
# Scenario documents


def actor(side: str, *, required: bool = False, **fields: Any) -> Doc:
    """An actor on one side; its ideal point is its side's victory on the single issue `x`."""
    document: Doc = {
        "name": side,
        "side": side,
        "position": {"x": 0.0 if side == "government" else 1.0},
        "salience": {"x": 1.0},
    }
    if required:
        # Insists on a margin of 1 above its alternative and cannot lower it: no zone of agreement, no deal.
        document.update(consent_required=True, demand=1.0, min_demand=1.0)
    document.update(fields)
    return document


def document(actors: Doc, events: Doc, *, steps: int = 8, step: str = "week", **battlefield: Any) -> Doc:
    """A scenario with one issue and a noiseless battlefield: G = 1 + the government side's force,
    O = 1 + arms stock (0 unless given) + the opposition side's ground."""
    return {
        "name": "event test",
        "time": {"start": "2016-01-01", "step": step, "steps": steps},
        "issues": {"x": {"low": "government wins", "high": "opposition wins"}},
        "actors": actors,
        "battlefield": {
            "noise": 0.0,
            "kappa": 0.5,
            "arms_stock": 0.0,
            "other_opposition_strength": 1.0,
            "government_victory": {"x": 0.0},
            "opposition_victory": {"x": 1.0},
            **battlefield,
        },
        "events": events,
    }


def regime_russia_rebels(**russia: Any) -> Doc:
    """The regime's ground (2), Russia's air (2), and rebels with air of their own (1) that the
    government side's strength never counts: an event applied to the wrong actor shows."""
    return {
        "regime": actor("government", required=True, forces={"ground": 2.0}),
        "russia": actor("government", forces={"air": 2.0}, **russia),
        "rebels": actor("opposition", required=True, forces={"air": 1.0}),
    }


# ---------------------------------------------------------------------------------------------
# Running the engine


@dataclass
class Trace:
    """Copies of the state after each step, and what each step fought with and fired."""

    params: Params
    states: list[engine.State]
    seen: list[engine.Assessment]
    fired: list[list[str]]

    def index(self, actor_id: str) -> int:
        return self.params.actor_ids.index(actor_id)

    def of(self, name: str, actor_id: str | None = None) -> list[Any]:
        """A state variable at the end of every step (one actor's column if `actor_id` is given)."""
        values = [getattr(state, name)[0] for state in self.states]
        if actor_id is not None:
            values = [value[self.index(actor_id)] for value in values]
        return [value.item() if isinstance(value, np.generic) else value for value in values]

    def fought(self, name: str) -> list[float]:
        """A quantity of the battlefield stage of every step (government_strength, arms_inflow, ...)."""
        return [float(getattr(seen, name)[0]) for seen in self.seen]

    def option(self, actor_id: str, option: str) -> list[bool]:
        return [bool(state.options[0, self.index(actor_id), OPTION[option]]) for state in self.states]


def run_engine(doc: Doc) -> Trace:
    params = params_from_scenario(scenario_from_mapping(doc))
    state = engine.initial_state(params)
    trace = Trace(params, [], [], [])
    for t in range(params.steps):
        seen, _, _, fired = engine.advance(params, state, t, np.zeros((1, 2)))
        trace.states.append(engine.State(**{name: np.copy(value) for name, value in vars(state).items()}))
        trace.seen.append(seen)
        trace.fired.append(fired)
    return trace


def next_control(control: float, balance: float, kappa: float, intensity: float) -> float:
    """The battlefield's noiseless update, written out in the order the model computes it."""
    return control + kappa * intensity * balance * control * (1.0 - control)


# ---------------------------------------------------------------------------------------------
# withdraw_air and return_forces


def test_withdraw_air_moves_the_fraction_of_present_air_on_its_step_and_records_its_own_redeploy_days() -> None:
    events = {"pull_out": {"at": 2, "actor": "russia", "action": "withdraw_air", "fraction": 0.25, "redeploy_days": 15}}
    trace = run_engine(document(regime_russia_rebels(redeploy_days=1.0), events, ceasefire=True))

    assert trace.of("air_present", "russia") == [2.0, 2.0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5]
    assert trace.of("air_withdrawn", "russia") == [0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    # Nobody else's aircraft move.
    assert trace.of("air_present", "rebels") == [1.0] * 8
    assert trace.of("air_withdrawn", "rebels") == [0.0] * 8
    assert trace.of("air_withdrawn", "regime") == [0.0] * 8
    # Events come before the battlefield: the step of the withdrawal already fights without those aircraft.
    assert trace.fought("government_strength") == [5.0, 5.0, 4.5, 4.5, 4.5, 4.5, 4.5, 4.5]
    # The event's redeploy_days (15), not the actor's (1), from the event's step: in the lag and the threat's weight.
    assert trace.of("withdrawn_redeploy_days", "russia") == [1.0, 1.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0]
    russia = trace.index("russia")
    assert [float(seen.credibility[0, russia]) for seen in trace.seen[1:3]] == [
        math.exp(-1.0 / 21.0),
        math.exp(-15.0 / 21.0),
    ]
    # While the ceasefire holds the aircraft stay out: no countdown runs.
    assert trace.of("return_in", "russia") == [-1] * 8


# (event's redeploy_days, step of arrival): withdrawn at step 1 under a ceasefire that an event breaks at step 3;
# back after ceil(days / 7) weekly steps, counted from the collapse. The actor's own redeploy_days is 20 (3 steps).
@pytest.mark.parametrize(
    ("redeploy_days", "arrival"),
    [(None, 6), (0, 3), (1, 4), (7, 4), (8, 5), (14, 5), (15, 6), (21, 6), (22, 7)],
)
def test_withdrawn_air_returns_redeploy_days_after_the_collapse_rounded_up_to_whole_steps(
    redeploy_days: float | None, arrival: int
) -> None:
    withdraw: Doc = {"at": 1, "actor": "russia", "action": "withdraw_air", "fraction": 0.5}
    if redeploy_days is not None:
        withdraw["redeploy_days"] = redeploy_days
    events = {"pull_out": withdraw, "break": {"at": 3, "actor": "rebels", "action": "spoil"}}
    trace = run_engine(document(regime_russia_rebels(redeploy_days=20.0), events, steps=9, ceasefire=True))

    assert trace.of("air_present", "russia") == [2.0] + [1.0] * (arrival - 1) + [2.0] * (9 - arrival)
    assert trace.of("air_withdrawn", "russia") == [0.0] + [1.0] * (arrival - 1) + [0.0] * (9 - arrival)
    assert trace.fought("government_strength") == [5.0] + [4.0] * (arrival - 1) + [5.0] * (9 - arrival)
    # The countdown starts at the collapse (step 3) and counts the steps still to wait at the end of each step.
    assert trace.of("return_in", "russia") == [arrival - 1 - t if 3 <= t < arrival else -1 for t in range(9)]
    assert trace.of("air_present", "rebels") == [1.0] * 9


def test_withdrawn_air_returns_redeploy_days_after_the_collapse_with_daily_steps() -> None:
    events = {
        "pull_out": {"at": 1, "actor": "russia", "action": "withdraw_air", "fraction": 0.5, "redeploy_days": 3},
        "break": {"at": 2, "actor": "rebels", "action": "spoil"},
    }
    trace = run_engine(document(regime_russia_rebels(), events, steps=7, step="day", ceasefire=True))
    assert trace.of("air_present", "russia") == [2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]


def test_a_different_redeploy_days_in_the_event_gives_a_different_arrival() -> None:
    def arrival(days: float) -> int:
        events = {
            "pull_out": {"at": 0, "actor": "russia", "action": "withdraw_air", "redeploy_days": days},
            "break": {"at": 1, "actor": "rebels", "action": "spoil"},
        }
        trace = run_engine(document(regime_russia_rebels(), events, steps=12, ceasefire=True))
        return trace.of("air_present", "russia").index(2.0, 1)

    # Collapse at step 1; back after ceil(1 / 7) = 1, ceil(30 / 7) = 5 and ceil(60 / 7) = 9 steps.
    assert (arrival(1), arrival(30), arrival(60)) == (2, 6, 10)


def test_return_forces_brings_back_its_fraction_of_withdrawn_air_at_once_on_its_step() -> None:
    events = {
        "pull_out": {"at": 1, "actor": "russia", "action": "withdraw_air", "redeploy_days": 90},
        "bring_back": {"at": 3, "actor": "russia", "action": "return_forces", "fraction": 0.5},
    }
    trace = run_engine(document(regime_russia_rebels(), events, steps=16))

    # Step 3 with weekly steps: half the aircraft are present on step 3 itself, long before their lag ends.
    assert trace.of("air_present", "russia")[:4] == [2.0, 0.0, 0.0, 1.0]
    assert trace.of("air_withdrawn", "russia")[:4] == [0.0, 2.0, 2.0, 1.0]
    assert trace.fought("government_strength")[:4] == [5.0, 3.0, 3.0, 4.0]
    # Withdrawn at war, the rest starts back at once and arrives ceil(90 / 7) = 13 steps after step 1.
    assert trace.of("air_present", "russia")[4:] == [1.0] * 10 + [2.0] * 2
    assert trace.of("air_present", "rebels") == [1.0] * 16


@pytest.mark.parametrize(("redeploy_days", "arrival"), [(0, 2), (1, 3), (7, 3), (8, 4), (30, 7)])
def test_air_withdrawn_by_an_event_while_the_war_is_on_returns_after_its_lag(
    redeploy_days: float, arrival: int
) -> None:
    """Without a ceasefire there is no collapse to wait for: the countdown starts on the withdrawal's own step,
    as it does on the step of a scripted spoiling (above), and the aircraft are back ceil(days / 7) steps later."""
    events = {"pull_out": {"at": 2, "actor": "russia", "action": "withdraw_air", "redeploy_days": redeploy_days}}
    trace = run_engine(document(regime_russia_rebels(), events, steps=9))
    assert trace.of("air_present", "russia") == [2.0, 2.0] + [0.0] * (arrival - 2) + [2.0] * (9 - arrival)
    assert trace.of("return_in", "russia") == [arrival - 1 - t if 2 <= t < arrival else -1 for t in range(9)]


def test_air_withdrawn_under_a_ceasefire_that_holds_stays_out() -> None:
    events = {"pull_out": {"at": 2, "actor": "russia", "action": "withdraw_air", "redeploy_days": 1}}
    trace = run_engine(document(regime_russia_rebels(), events, steps=9, ceasefire=True))
    assert trace.of("ceasefire") == [True] * 9
    assert trace.of("air_present", "russia") == [2.0, 2.0] + [0.0] * 7
    assert trace.of("return_in", "russia") == [-1] * 9


# ---------------------------------------------------------------------------------------------
# escalate


def test_escalate_adds_its_fraction_of_the_initial_ground_and_air_on_its_step() -> None:
    actors = {
        "regime": actor("government", required=True, forces={"ground": 2.0}),
        "russia": actor("government", forces={"ground": 1.0, "air": 2.0}),
        "rebels": actor("opposition", required=True, forces={"ground": 1.0}),
    }
    events = {
        "surge": {"at": 2, "actor": "russia", "action": "escalate", "fraction": 0.5},
        "surge_again": {"at": 4, "actor": "russia", "action": "escalate", "fraction": 0.5},
    }
    trace = run_engine(document(actors, events))

    # Each time half the *initial* force (0.5 ground, 1 air), not half the present one.
    assert trace.of("ground", "russia") == [1.0, 1.0, 1.5, 1.5, 2.0, 2.0, 2.0, 2.0]
    assert trace.of("air_present", "russia") == [2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0]
    assert trace.of("ground", "regime") == [2.0] * 8
    assert trace.of("ground", "rebels") == [1.0] * 8
    assert trace.fought("government_strength") == [6.0, 6.0, 7.5, 7.5, 9.0, 9.0, 9.0, 9.0]
    assert trace.fought("opposition_strength") == [2.0] * 8
    # No threat option, so nothing is being carried out.
    assert not any(trace.of("coercing", "russia"))


def test_escalate_event_is_not_held_to_max_involvement() -> None:
    """Pins the current rule: the event adds its fraction whatever the actor's cap (decisions respect the cap)."""
    actors = regime_russia_rebels(max_involvement=1.0)
    events = {"surge": {"at": 1, "actor": "russia", "action": "escalate", "fraction": 1.0}}
    trace = run_engine(document(actors, events, steps=3))
    assert trace.of("air_present", "russia") == [2.0, 4.0, 4.0]


# ---------------------------------------------------------------------------------------------
# start_ceasefire and spoil


def test_start_ceasefire_holds_from_its_step_and_lowers_the_fighting_intensity() -> None:
    actors = {
        "regime": actor("government", required=True, forces={"ground": 2.0}),
        "rebels": actor("opposition", required=True),
    }
    events = {"truce": {"at": 2, "action": "start_ceasefire"}}
    trace = run_engine(document(actors, events, ceasefire_intensity=0.5))

    assert trace.of("ceasefire") == [False, False, True, True, True, True, True, True]
    assert trace.of("held_steps") == [0, 0, 1, 2, 3, 4, 5, 6]
    assert trace.of("collapsed_step") == [-1] * 8
    # G = 3, O = 1: balance 1/2. Full intensity on steps 0 and 1, half from step 2.
    control = [0.5]
    for t in range(8):
        control.append(next_control(control[-1], 0.5, 0.5, 1.0 if t < 2 else 0.5))
    assert control[1] == 0.5625
    assert trace.of("control") == control[1:]
    war_gain = next_control(control[2], 0.5, 0.5, 1.0) - control[2]
    assert 0.0 < control[3] - control[2] < war_gain


def test_spoil_ends_a_ceasefire_on_its_step_and_records_the_first_collapse() -> None:
    actors = {
        "regime": actor("government", required=True, forces={"ground": 2.0}),
        "rebels": actor("opposition", required=True),
    }
    events = {
        "break": {"at": 3, "actor": "rebels", "action": "spoil"},
        "truce_again": {"at": 4, "action": "start_ceasefire"},
        "break_again": {"at": 6, "actor": "regime", "action": "spoil"},
    }
    trace = run_engine(document(actors, events, ceasefire=True, ceasefire_intensity=0.5))

    assert trace.of("ceasefire") == [True, True, True, False, True, True, False, False]
    assert trace.of("collapsed_step") == [-1, -1, -1, 3, 3, 3, 3, 3]  # the first collapse only
    assert trace.of("held_steps") == [1, 2, 3, 3, 4, 5, 5, 5]
    # The step of the collapse is fought at full intensity.
    control = [0.5]
    for t in range(8):
        control.append(next_control(control[-1], 0.5, 0.5, 0.5 if trace.of("ceasefire")[t] else 1.0))
    assert trace.of("control") == control[1:]


def test_spoil_without_a_ceasefire_changes_nothing() -> None:
    events = {
        "pull_out": {"at": 0, "actor": "russia", "action": "withdraw_air"},
        "break": {"at": 2, "actor": "rebels", "action": "spoil"},
    }
    trace = run_engine(document(regime_russia_rebels(), events, steps=5))
    assert trace.of("ceasefire") == [False] * 5
    assert trace.of("collapsed_step") == [-1] * 5
    # The aircraft withdrawn at war (step 0) are back after the actor's lag (1 day: 1 step), spoiling or not.
    assert trace.of("air_present", "russia") == [0.0, 2.0, 2.0, 2.0, 2.0]


def test_spoil_after_a_deal_is_a_no_op() -> None:
    """A scripted spoil event breaks a ceasefire, not a settlement in force: a settlement falls only when
    a bound party chooses to break it (docs/ODD.md, self-enforcement).

    The same events without a deal collapse the ceasefire, so the test shows the deal is what stops them.
    The parties are impatient (patience 0.5: each step they give up -ln 0.5 + 0.01 of aspiration, see
    `sim.mechanisms.concessions`), so the deal comes at step 2, before the spoil event at step 3."""

    def with_parties(demand: float) -> Doc:
        parties = regime_russia_rebels()
        for party in ("regime", "rebels"):
            parties[party].update(demand=demand, min_demand=demand, war_cost=0.01, patience=0.5)
        events = {
            "pull_out": {"at": 1, "actor": "russia", "action": "withdraw_air", "fraction": 0.5},
            "break": {"at": 3, "actor": "rebels", "action": "spoil"},
        }
        return document(parties, events, ceasefire=True)

    dealt = run_engine(with_parties(0.0))
    assert dealt.of("deal") == [False, False] + [True] * 6
    assert dealt.of("deal_step")[-1] == 2
    assert dealt.of("ceasefire") == [True] * 8
    assert dealt.of("collapsed_step") == [-1] * 8
    assert dealt.of("return_in", "russia") == [-1] * 8
    assert dealt.of("air_present", "russia") == [2.0] + [1.0] * 7

    no_deal = run_engine(with_parties(1.0))
    assert no_deal.of("deal") == [False] * 8
    assert no_deal.of("ceasefire") == [True, True, True, False, False, False, False, False]
    assert no_deal.of("collapsed_step") == [-1, -1, -1, 3, 3, 3, 3, 3]
    assert no_deal.of("air_present", "russia") == [2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]


# ---------------------------------------------------------------------------------------------
# Arms: resume_arms / stop_arms, enforce_embargo / lift_embargo


def suppliers(*, us_enforces: bool = False) -> Doc:
    """Turkey (0.5 a step, patron the US) and Qatar (0.25 a step, no patron) arm the rebels."""
    return {
        "regime": actor("government", required=True, forces={"ground": 2.0}),
        "rebels": actor("opposition", required=True),
        "us": actor("opposition", options={"enforce_embargo": us_enforces}),
        "turkey": actor("opposition", arms_supply=0.5, patron="us"),
        "qatar": actor("opposition", arms_supply=0.25),
    }


def test_stop_arms_and_resume_arms_change_the_inflow_on_their_steps() -> None:
    events = {
        "turkey_stops": {"at": 2, "actor": "turkey", "action": "stop_arms"},
        "turkey_resumes": {"at": 4, "actor": "turkey", "action": "resume_arms"},
    }
    trace = run_engine(document(suppliers(), events, arms_burn=0.0))

    assert trace.fought("arms_inflow") == [0.75, 0.75, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75]
    assert trace.of("supplying", "turkey") == [True, True, False, False, True, True, True, True]
    assert trace.of("supplying", "qatar") == [True] * 8
    # Nothing burns: the stock is the sum of the inflows, and the opposition fights with the stock it had.
    assert trace.of("arms_stock") == [0.75, 1.5, 1.75, 2.0, 2.75, 3.5, 4.25, 5.0]
    assert trace.fought("opposition_strength") == [1.0, 1.75, 2.5, 2.75, 3.0, 3.75, 4.5, 5.25]


def test_resume_arms_defies_an_embargo_at_once_and_enforce_embargo_ends_the_defiance() -> None:
    events = {
        "turkey_defies": {"at": 2, "actor": "turkey", "action": "resume_arms"},
        "us_insists": {"at": 4, "actor": "us", "action": "enforce_embargo"},
    }
    trace = run_engine(document(suppliers(us_enforces=True), events, ceasefire=True))

    assert trace.of("embargo", "us") == [True] * 8
    assert trace.of("defying", "turkey") == [False, False, True, True, False, False, False, False]
    assert trace.fought("arms_inflow") == [0.25, 0.25, 0.75, 0.75, 0.25, 0.25, 0.25, 0.25]


def test_enforce_embargo_then_lift_embargo_switch_the_option_and_the_inflow_on_their_steps() -> None:
    """Events act at the start of their step: the option flips and the client's inflow stops (and restarts)
    on the event's own step. Qatar, whose deliveries nobody can stop, keeps delivering."""
    events = {
        "us_enforces": {"at": 2, "actor": "us", "action": "enforce_embargo"},
        "us_lifts": {"at": 5, "actor": "us", "action": "lift_embargo"},
    }
    trace = run_engine(document(suppliers(), events, ceasefire=True))

    assert trace.option("us", "enforce_embargo") == [False, False, True, True, True, False, False, False]
    assert trace.of("embargo", "us") == [False, False, True, True, True, False, False, False]
    assert trace.fought("arms_inflow") == [0.75, 0.75, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75]
    for other in ("regime", "rebels", "turkey", "qatar"):
        assert trace.option(other, "enforce_embargo") == [False] * 8


def test_an_embargo_allowed_from_the_start_follows_a_ceasefire_started_by_event_on_its_step() -> None:
    """With `battlefield.ceasefire: true` the embargo holds from step 0; a ceasefire started by an event at
    step 2 brings the embargo on step 2."""
    at_start = run_engine(document(suppliers(us_enforces=True), {}, steps=4, ceasefire=True))
    assert at_start.fought("arms_inflow") == [0.25] * 4

    by_event = run_engine(document(suppliers(us_enforces=True), {"truce": {"at": 2, "action": "start_ceasefire"}}))
    assert by_event.of("ceasefire")[:4] == [False, False, True, True]
    assert by_event.fought("arms_inflow")[:4] == [0.75, 0.75, 0.25, 0.25]


# ---------------------------------------------------------------------------------------------
# enable_option / disable_option


def test_enable_option_and_disable_option_flip_the_option_on_their_steps() -> None:
    """The regime may escalate from step 2 to step 3: its decision rule adds a tenth of its initial ground on each."""
    actors = {
        "regime": actor("government", required=True, forces={"ground": 2.0}),
        "rebels": actor("opposition", required=True, forces={"ground": 1.0}),
    }
    events = {
        "allowed": {"at": 2, "actor": "regime", "action": "enable_option", "option": "escalate"},
        "forbidden": {"at": 4, "actor": "regime", "action": "disable_option", "option": "escalate"},
    }
    trace = run_engine(document(actors, events))

    assert trace.option("regime", "escalate") == [False, False, True, True, False, False, False, False]
    assert trace.option("rebels", "escalate") == [False] * 8
    for name in OPTION_NAMES:
        if name != "escalate":
            assert trace.option("regime", name) == [name == "soften"] * 8
    ground = [2.0, 2.0, 2.0 + 0.1 * 2.0]
    ground += [ground[-1] + 0.1 * 2.0] * 5
    assert trace.of("ground", "regime") == ground
    assert trace.of("ground", "rebels") == [1.0] * 8


# ---------------------------------------------------------------------------------------------
# Threats carried out


def threatening_us(**us: Any) -> Doc:
    """The regime (ground 2) against rebels with no arms; the US (opposition side) may strike the regime
    (power 0.5) and impose safe zones (power 0.25) unless `us` says otherwise."""
    fields: Doc = {
        "options": {"strike_regime": True, "safe_zones": True},
        "threats": {"strike_power": 0.5, "safe_zone_power": 0.25, "credibility": 0.5},
        **us,
    }
    return {
        "regime": actor("government", required=True, forces={"ground": 2.0}),
        "rebels": actor("opposition", required=True),
        "us": actor("opposition", **fields),
    }


def test_a_threat_is_carried_out_from_the_step_its_actor_escalates_by_event() -> None:
    """Before the escalation the strike and the safe zones count only in the actors' projections (at their
    credibility), not in the strengths fought with; from the escalation's step the whole strike power comes off
    the government side and the whole safe-zone power is added to the opposition. Disabling the strike option
    ends the strikes while the safe zones go on."""
    events = {
        "us_acts": {"at": 3, "actor": "us", "action": "escalate"},
        "strikes_end": {"at": 5, "actor": "us", "action": "disable_option", "option": "strike_regime"},
    }
    trace = run_engine(document(threatening_us(), events))

    assert trace.of("coercing", "us") == [False, False, False, True, True, True, True, True]
    assert trace.of("coercing", "regime") == [False] * 8
    assert trace.fought("government_strength") == [3.0, 3.0, 3.0, 2.5, 2.5, 3.0, 3.0, 3.0]
    assert trace.fought("opposition_strength") == [1.0, 1.0, 1.0, 1.25, 1.25, 1.25, 1.25, 1.25]


def test_a_threat_is_carried_out_from_the_step_after_its_actor_decides_to_escalate() -> None:
    """The other path: an actor allowed to escalate does so at war with no zone of agreement (step 0's
    decisions), and its threats are carried out from step 1. The ground it adds fights on the opposition side.
    (Carrying out a threat adds 1 to its involvement, hence a cap of 10 here so that it goes on escalating.)"""
    us = threatening_us(forces={"ground": 1.0}, max_involvement=10.0, options={"strike_regime": True, "escalate": True})
    trace = run_engine(document(us, {}, steps=3))
    ground = [1.0 + 0.1 * 1.0]
    ground += [ground[-1] + 0.1 * 1.0]
    ground += [ground[-1] + 0.1 * 1.0]
    assert trace.of("ground", "us") == ground
    assert trace.of("coercing", "us") == [True, True, True]
    assert trace.fought("government_strength") == [3.0, 2.5, 2.5]
    assert trace.fought("opposition_strength") == [2.0, 1.0 + ground[0], 1.0 + ground[1]]


def test_an_escalation_without_a_threat_option_carries_no_threat_out() -> None:
    events = {"us_acts": {"at": 1, "actor": "us", "action": "escalate"}}
    trace = run_engine(document(threatening_us(options={}), events, steps=3))
    assert trace.of("coercing", "us") == [False] * 3
    assert trace.fought("government_strength") == [3.0] * 3
    assert trace.fought("opposition_strength") == [1.0] * 3


# ---------------------------------------------------------------------------------------------
# Each event fires once, on its step, and labels that step of the time series


SCENARIO_YAML = """\
name: labels
time: {start: 2016-01-01, steps: 6}
issues:
  x: {low: government wins, high: opposition wins}
actors:
  regime: {name: Regime, side: government, consent_required: true, demand: 1, min_demand: 1,
           position: {x: 0}, salience: {x: 1}, forces: {ground: 2}}
  rebels: {name: Rebels, side: opposition, consent_required: true, demand: 1, min_demand: 1,
           position: {x: 1}, salience: {x: 1}}
battlefield: {noise: 0, government_victory: {x: 0}, opposition_victory: {x: 1}}
events:
  truce: {at: 2016-01-10, action: start_ceasefire, label: Truce begins}
  surge: {at: 3, actor: regime, action: escalate, fraction: 0.5}
  b_break: {at: 4, actor: rebels, action: spoil, label: Rebels break the truce}
  a_push: {at: 4, actor: regime, action: escalate, fraction: 0.25}
"""


def test_events_fire_once_on_their_step_and_label_that_step_of_the_timeseries(tmp_path: Path) -> None:
    path = tmp_path / "labels.yaml"
    path.write_text(SCENARIO_YAML, encoding="utf-8")
    result = run_scenario(load_scenario(path))
    table = result.timeseries

    # A date fires in the step whose week holds it (10 January is in step 1); a step's events in order of id;
    # without a label, the id with spaces.
    labels = {1: "Truce begins", 3: "surge", 4: "a push; Rebels break the truce"}
    for step in range(6):
        rows = table[table["step"] == step]
        assert list(rows["actor"]) == ["regime", "rebels"]
        assert list(rows["events"]) == [labels.get(step, "")] * 2
    marks = [(step, label) for step, _, label in result.event_marks if label != "ceasefire collapses"]
    assert sorted(marks) == sorted([(1, "Truce begins"), (3, "surge"), (4, "a push"), (4, "Rebels break the truce")])

    regime = table[table["actor"] == "regime"]
    # Each escalation added its share once: 2, then +1 at step 3, then +0.5 at step 4, and no more.
    assert list(regime["ground"]) == [2.0, 2.0, 2.0, 3.0, 3.5, 3.5]
    assert list(regime["ceasefire"]) == [False, True, True, True, False, False]
    assert result.summary["ceasefire"]["collapsed_step"] == 4


def test_apply_events_returns_the_labels_of_the_steps_events_only_and_fires_nothing_elsewhere() -> None:
    events = {
        "surge": {"at": 2, "actor": "russia", "action": "escalate", "fraction": 0.5, "label": "Russia surges"},
        "pull_out": {"at": 5, "actor": "russia", "action": "withdraw_air", "fraction": 0.5},
    }
    trace = run_engine(document(regime_russia_rebels(), events))
    assert trace.fired == [[], [], ["Russia surges"], [], [], ["pull out"], [], []]
    # Withdrawn at war at step 5, the aircraft are back after the actor's lag (1 day: 1 step).
    assert trace.of("air_present", "russia") == [2.0, 2.0, 3.0, 3.0, 3.0, 1.5, 3.0, 3.0]
