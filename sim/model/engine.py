"""One step of the model for a batch of runs (leading axis N), in the order of DESIGN.md.

1. events, 2. battlefield, 3. alternatives to a deal, 4. bargaining,
6. leverage (measured before decisions, which use it), 5. decisions, 7. records.

This module is the one implementation of the model's dynamics. Batches (`sim.runs.batch`) call
`advance` for N runs at once. The Mesa model (`sim.model.model`) is a batch of one that takes the
same step in its three stages: `observe`, then each agent's own `decide` (the same rules, on its own
column), then `apply_decisions`. So a batch member equals the single run with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sim.mechanisms import agreements as agreements_math
from sim.mechanisms import alternatives as batna_math
from sim.mechanisms import battlefield as war
from sim.mechanisms import concessions, decisions
from sim.mechanisms import threats as threat_math
from sim.mechanisms.bargaining import bargaining_weights, impatience, reservation_values, solve_bargaining
from sim.mechanisms.leverage import (
    REMOVED_INSTRUMENTS,
    coercive_leverage,
    coercive_leverage_by_instrument,
    inducement_leverage,
)
from sim.mechanisms.utility import distance_from_ideal
from sim.scenario.params import OPTION_NAMES, THREAT_INSTRUMENTS, Params

Array = NDArray[np.float64]
OPTION = {name: index for index, name in enumerate(OPTION_NAMES)}
# A threat object's status (`State.threat_status`).
THREAT_PENDING, THREAT_LAPSED, THREAT_CARRIED_OUT, THREAT_BLUFF_CALLED = 0, 1, 2, 3
THREAT_STATUS = ("pending", "lapsed", "carried out", "bluff called")
PER_RUN = "per_run"  # State field metadata: False for the fields that hold one value for all runs


def draw_noise(rng: np.random.Generator, params: Params) -> Array:
    """All random numbers a run of `params` needs, drawn at once from its own generator:
    (steps, 2 + extra), extra = `agreement_draws(params)`.

    Column 0 is a standard normal (battlefield), column 1 a uniform (whether the fighting restarts),
    and, for a scenario with agreements that do not stop the fighting, column 2 + g a uniform for
    whether agreement g is broken. Drawing them up front keeps a run's stream independent of what the
    run does; the extra columns are drawn last, so columns 0 and 1 do not depend on them.
    """
    steps, extra = params.steps, agreement_draws(params)
    shocks = rng.standard_normal(steps)
    uniforms = rng.random(steps)
    others = rng.random((steps, extra)) if extra else np.empty((steps, 0))
    return np.column_stack([shocks, uniforms, others])


def agreement_draws(params: Params) -> int:
    """How many extra uniform columns `draw_noise` needs: one per agreement when some agreement can be
    broken without restarting the war, none otherwise (so older scenarios keep their random streams)."""
    agreements = params.agreements
    return agreements.count if not agreements.stops_fighting.all() else 0


@dataclass
class State:
    """What changes during a run; arrays with a leading run axis (G agreements, K issues, A actors)."""

    control: Array  # (N,)
    arms_stock: Array  # (N,)
    ground: Array  # (N, A)
    air_present: Array  # (N, A)
    air_withdrawn: Array  # (N, A)
    withdrawn_redeploy_days: Array  # (N, A)
    return_in: NDArray[np.int64]  # (N, A) steps until withdrawn air is back, -1 if not returning
    demand: Array  # (N, A)
    conceded: Array  # (N, G, A) C_i: aspiration given up since talks on each agreement (re)opened
    options: NDArray[np.bool_]  # (N, A, O)
    embargo: NDArray[np.bool_]  # (N, A) patron enforcing an embargo on its suppliers
    supplying: NDArray[np.bool_]  # (N, A) supplier delivering arms when not embargoed
    defying: NDArray[np.bool_]  # (N, A) supplier delivering despite its patron's embargo
    coercing: NDArray[np.bool_]  # (N, A) carrying out a threat (strikes, safe zones)
    in_force: NDArray[np.bool_]  # (N, G) each agreement in force
    terms: Array  # (N, G, K) the whole outcome when each agreement was last signed (NaN before)
    signed_first: NDArray[np.int64]  # (N, G) step each was first signed, -1 if never (0 if in force at start)
    signed_last: NDArray[np.int64]  # (N, G) step each was last signed, -1 if never
    fell_first: NDArray[np.int64]  # (N, G) first step each fell, -1 if never
    fell_by: NDArray[np.int64]  # (N, G) actor who broke it that time, -1 if none (or an event)
    collapsed_step: NDArray[np.int64]  # (N,) first step the fighting restarted after a ceasefire, -1 if never
    held_steps: NDArray[np.int64]  # (N,) steps ended with the fighting stopped
    ceasefire_signed_step: NDArray[np.int64]  # (N,) first step the fighting was stopped, -1 if never
    broken_by: NDArray[np.int64]  # (N,) actor who first restarted the fighting, -1 if none
    breach_pressure: Array  # (N,) P at the last step: the chance the fighting restarted then (0 if not stopped)
    threat_status: NDArray[np.int64]  # (N, T) THREAT_PENDING, _LAPSED, _CARRIED_OUT or _BLUFF_CALLED
    threat_resolved_step: NDArray[np.int64]  # (N, T) step the status last changed, -1 while pending
    threat_carried_step: NDArray[np.int64]  # (N, T) step each threat was carried out, -1 if never
    # From the scenario, the same in every run (not per run: `PER_RUN` is False).
    stops_fighting: NDArray[np.bool_] = field(metadata={PER_RUN: False})  # (G,) which agreements stop the fighting
    settlement: int = field(default=0, metadata={PER_RUN: False})  # the agreement `deal` describes

    @property
    def ceasefire(self) -> NDArray[np.bool_]:
        """(N,) the fighting is stopped: some agreement that stops it is in force."""
        return np.any(self.in_force & self.stops_fighting, axis=-1)

    @property
    def deal(self) -> NDArray[np.bool_]:
        """(N,) the settlement is in force."""
        return self.in_force[:, self.settlement]

    @property
    def deal_step(self) -> NDArray[np.int64]:
        """(N,) the step the settlement was last signed, -1 if never."""
        return self.signed_last[:, self.settlement]

    @property
    def deal_outcome(self) -> Array:
        """(N, K) the outcome the settlement last set, NaN if never signed."""
        return self.terms[:, self.settlement]

    @property
    def settlement_first_step(self) -> NDArray[np.int64]:
        """(N,) the step the first settlement was signed, -1 if none."""
        return self.signed_first[:, self.settlement]

    @property
    def settlement_collapsed_step(self) -> NDArray[np.int64]:
        """(N,) the first step a settlement fell, -1 if never."""
        return self.fell_first[:, self.settlement]

    @property
    def settlement_broken_by(self) -> NDArray[np.int64]:
        """(N,) who broke the settlement that first fell, -1 if none."""
        return self.fell_by[:, self.settlement]

    @property
    def settlement_reached(self) -> NDArray[np.bool_]:
        """(N,) a settlement was signed at some step (it may have fallen since)."""
        return self.settlement_first_step >= 0


def _embargo(state: State) -> NDArray[np.bool_]:
    """The embargo each patron enforces given its option and the agreements in force now."""
    return decisions.enforces_embargo(
        state.options[:, :, OPTION["enforce_embargo"]], state.ceasefire[:, None], state.deal[:, None]
    )


def _note_ceasefire_signed(state: State, step: int) -> None:
    """Record `step` as the first step of a ceasefire where one is in force and none was before."""
    ceasefire = state.ceasefire
    state.ceasefire_signed_step = np.where(
        ceasefire & (state.ceasefire_signed_step < 0), step, state.ceasefire_signed_step
    )


def agreed_outcome(params: Params, state: State) -> Array:
    """(N, K) the outcome as agreements in force set it: each agreement's terms on its own issues, the
    status quo elsewhere."""
    covered = state.in_force[:, :, None] & params.agreements.issues[None]
    # An issue belongs to at most one agreement (the loader checks), so at most one term applies.
    terms = np.where(covered, np.nan_to_num(state.terms), 0.0).sum(axis=1)
    return np.where(covered.any(axis=1), terms, params.status_quo)


def _sign(params: Params, state: State, signing: NDArray[np.bool_], outcome: Array, step: int) -> None:
    """Put the agreements `signing` (N, G) in force, with those they include, at the whole outcome
    `outcome` (N, G, K) each was signed at. An included agreement already in force keeps its terms; one
    that was not takes the outcome as it stands on its issues."""
    agreements = params.agreements
    newly = ((signing.astype(np.int64) @ agreements.includes.astype(np.int64)) > 0) & ~state.in_force
    standing = agreed_outcome(params, state)[:, None, :]
    state.terms = np.where(signing[:, :, None], outcome, np.where(newly[:, :, None], standing, state.terms))
    state.in_force = state.in_force | newly
    state.signed_first = np.where(newly & (state.signed_first < 0), step, state.signed_first)
    state.signed_last = np.where(newly, step, state.signed_last)


def _fall(
    params: Params, state: State, falling: NDArray[np.bool_], who: NDArray[np.int64], step: int
) -> NDArray[np.bool_]:
    """End the agreements `falling` (N, G) and every agreement in force that includes one of them; the
    talks on each restart from the parties' ideal points. `who` (N,) broke them (-1: an event).
    Returns the agreements that fell (N, G)."""
    includes = params.agreements.includes.astype(np.int64)
    fallen = falling & state.in_force
    for _ in range(params.agreements.count):
        fallen = fallen | (state.in_force & ((fallen.astype(np.int64) @ includes.T) > 0))
    first = fallen & (state.fell_first < 0)
    state.fell_first = np.where(first, step, state.fell_first)
    state.fell_by = np.where(first, who[:, None], state.fell_by)
    state.in_force = state.in_force & ~fallen
    state.conceded = concessions.conceded_after(state.conceded, 0.0, False, fallen)
    return fallen


def initial_state(params: Params) -> State:
    n, a = params.runs, len(params.actor_ids)
    agreements = params.agreements
    g = agreements.count
    in_force = np.broadcast_to(agreements.in_force_at_start, (n, g)).copy()
    options = params.options.copy()
    state = State(
        control=params.battle("control").copy(),
        arms_stock=params.battle("arms_stock").copy(),
        ground=params.actor("ground").copy(),
        air_present=params.actor("air").copy(),
        air_withdrawn=np.zeros((n, a)),
        withdrawn_redeploy_days=params.actor("redeploy_days").copy(),
        return_in=np.full((n, a), -1, dtype=np.int64),
        demand=params.actor("demand").copy(),
        conceded=np.zeros((n, g, a)),
        options=options,
        embargo=np.zeros((n, a), dtype=bool),
        supplying=params.actor("arms_supply") > 0,
        defying=np.zeros((n, a), dtype=bool),
        coercing=np.zeros((n, a), dtype=bool),
        # Agreements in force at the start were signed on the status quo.
        in_force=in_force,
        terms=np.where(in_force[:, :, None], params.status_quo[:, None, :], np.nan),
        signed_first=np.where(in_force, 0, -1).astype(np.int64),
        signed_last=np.where(in_force, 0, -1).astype(np.int64),
        fell_first=np.full((n, g), -1, dtype=np.int64),
        fell_by=np.full((n, g), -1, dtype=np.int64),
        collapsed_step=np.full(n, -1, dtype=np.int64),
        held_steps=np.zeros(n, dtype=np.int64),
        ceasefire_signed_step=np.full(n, -1, dtype=np.int64),
        broken_by=np.full(n, -1, dtype=np.int64),
        breach_pressure=np.zeros(n),
        threat_status=np.full((n, params.threats.count), THREAT_PENDING, dtype=np.int64),
        threat_resolved_step=np.full((n, params.threats.count), -1, dtype=np.int64),
        threat_carried_step=np.full((n, params.threats.count), -1, dtype=np.int64),
        stops_fighting=agreements.stops_fighting.copy(),
        settlement=agreements.settlement,
    )
    state.embargo = _embargo(state)
    _note_ceasefire_signed(state, 0)
    return state


@dataclass
class Assessment:
    """What every actor sees at a step, before deciding: the inputs of the decision rules."""

    step: int
    government_strength: Array  # (N,)
    opposition_strength: Array  # (N,)
    win_probability: Array  # (N,) current contest odds of the government side
    projected_win_probability: Array  # (N, A)
    arms_inflow: Array  # (N,)
    involvement: Array  # (N, A)
    batna: Array  # (N, A)
    spoil_alternative: Array  # (N, A) alternative if the actor breaks the ceasefire with all its means
    batna_without: Array  # (N, A, A) d_j with actor i absent (row i, column j)
    break_value: Array  # (N, A) what restarting the war is worth to each party (`_break_values`)
    weights: Array  # (N, A)
    reservation: Array  # (N, A) for the settlement
    proposal: Array  # (N, K) the prospect: terms in force, the offers on the table for the rest
    zone_exists: NDArray[np.bool_]  # (N,) every agreement still open has a zone of agreement
    utility_of_offer: Array  # (N, A) u_i of the prospect
    reservation_by_agreement: Array  # (N, G, A)
    proposal_by_agreement: Array  # (N, G, K) the whole outcome each agreement would set if signed now
    zone_by_agreement: NDArray[np.bool_]  # (N, G) in force, or a zone of agreement exists for it
    utility_by_agreement: Array  # (N, G, A) u_i of proposal_by_agreement
    breaking_value: Array  # (N, G, A) u_i of the prospect with agreement g's issues back at the status quo
    coercive: Array  # (N, A, A) i's presence as a whole, with escalation (read by the softening rule)
    coercive_by_instrument: Array  # (N, A, A, M) per instrument (`leverage.INSTRUMENTS`), never summed
    inducement: Array  # (N, A, A)
    credibility: Array  # (N, A) weight of withdrawn air as a threat
    fighting_cost: Array  # (N, A) c_i, each actor's cost of fighting over its horizon
    threat_values: Array  # (N, T, 2) the threatener's alternative with threat t carried out (0), dropped (1)
    intensity: Array  # (N,) fighting intensity this step: 1 at war, lower under a ceasefire


def apply_events(params: Params, state: State, step: int) -> list[str]:
    """Fire the scenario's events scheduled for this step; returns their labels."""
    fired = []
    for event in params.events:
        if event.step != step:
            continue
        fired.append(event.label)
        i = event.actor
        if event.action == "withdraw_air":
            moved = event.fraction * state.air_present[:, i]
            state.air_present[:, i] -= moved
            state.air_withdrawn[:, i] += moved
            if event.redeploy_days is not None:
                state.withdrawn_redeploy_days[:, i] = event.redeploy_days
            state.return_in[:, i] = -1
        elif event.action == "return_forces":
            back = event.fraction * state.air_withdrawn[:, i]
            state.air_present[:, i] += back
            state.air_withdrawn[:, i] -= back
        elif event.action == "escalate":
            state.ground[:, i] += event.fraction * params.actor("ground")[:, i]
            state.air_present[:, i] += event.fraction * params.actor("air")[:, i]
            state.coercing[:, i] |= (
                state.options[:, i, OPTION["strike_regime"]] | state.options[:, i, OPTION["safe_zones"]]
            )
        elif event.action == "start_ceasefire":
            signing = np.zeros_like(state.in_force)
            signing[:, event.agreement] = ~state.in_force[:, event.agreement]
            current = np.broadcast_to(agreed_outcome(params, state)[:, None, :], state.terms.shape)
            _sign(params, state, signing, current, step)
        elif event.action == "spoil":
            # A settlement that stops the fighting holds against a scripted spoiler; any other does not.
            breaking = state.ceasefire & ~(state.deal & state.stops_fighting[state.settlement])
            _collapse(params, state, breaking, np.full(params.runs, -1, dtype=np.int64), step)
        elif event.action == "resume_arms":
            state.supplying[:, i] = True
            state.defying[:, i] = True
        elif event.action == "stop_arms":
            state.supplying[:, i] = False
            state.defying[:, i] = False
        elif event.action in ("enforce_embargo", "lift_embargo"):
            state.options[:, i, OPTION["enforce_embargo"]] = event.action == "enforce_embargo"
            if event.action == "enforce_embargo":
                state.defying[:, params.patron == i] = False
        elif event.action in ("enable_option", "disable_option"):
            state.options[:, i, event.option] = event.action == "enable_option"
    _note_ceasefire_signed(state, step)
    if fired:
        # Air withdrawn by an event while the war is on starts back at once, as after a scripted spoiling.
        _start_returns(params, state)
        # Events act at the start of their step, before the battlefield moves: an embargo enforced or
        # lifted, or a ceasefire started or broken, changes the arms that reach the front this step.
        state.embargo = _embargo(state)
    return fired


def _collapse(
    params: Params, state: State, breaking: NDArray[np.bool_], who: NDArray[np.int64], step: int
) -> NDArray[np.bool_]:
    """Restart the war where `breaking` (N,): every agreement that stops the fighting falls (and those that
    include one); withdrawn air starts back after its redeploy lag (`_start_returns`). `who` (N,) broke it,
    -1 for an event. Returns the agreements that fell (N, G)."""
    fallen = _fall(params, state, breaking[:, None] & state.stops_fighting[None, :], who, step)
    state.collapsed_step = np.where(breaking & (state.collapsed_step < 0), step, state.collapsed_step)
    state.broken_by = np.where(breaking & (state.broken_by < 0), who, state.broken_by)
    state.breach_pressure = np.where(breaking, 0.0, state.breach_pressure)
    _start_returns(params, state)
    return fallen


def _start_returns(params: Params, state: State) -> None:
    """Withdrawn air starts back after its redeploy lag wherever the war is on and it is not already coming.

    Called on a collapse (`_collapse`), after a step's events and after its decisions: force withdrawn while
    the war is on, by an event that fires after the run's ceasefire has fallen or by a withdrawal decided on
    the step the ceasefire collapses, would otherwise stay away for good. The withdrawal's point is that the
    force comes back if the war restarts (Porter: the planes "could be returned to Syria within 24 hours"),
    and no rule withdraws force at war."""
    lag = decisions.redeploy_steps(state.withdrawn_redeploy_days, params.step_days)
    starting = ~state.ceasefire[:, None] & (state.air_withdrawn > 0) & (state.return_in < 0)
    state.return_in = np.where(starting, lag, state.return_in)


def _deliveries(params: Params, state: State) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(delivering, embargoed) per supplier: embargoed when its patron enforces an embargo;
    delivering when supplying and either not embargoed or defying the embargo."""
    has_patron = params.patron >= 0
    embargoed = state.embargo[:, np.where(has_patron, params.patron, 0)] & has_patron
    return state.supplying & (~embargoed | state.defying), embargoed


def _patron_matrix(params: Params) -> Array:
    """(A, A) one-hot: row supplier, column its patron."""
    actors = len(params.actor_ids)
    matrix = np.zeros((actors, actors))
    for supplier, patron in enumerate(params.patron):
        if patron >= 0:
            matrix[supplier, patron] = 1.0
    return matrix


def arms_inflow(params: Params, state: State) -> Array:
    """Arms reaching the opposition per step: suppliers delivering and not stopped by their patron."""
    delivering, _ = _deliveries(params, state)
    return np.sum(params.actor("arms_supply") * delivering, axis=-1)


def _carrying_out(params: Params, state: State) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(N, A) each, whether each actor is carrying out its strikes and its safe zones: by escalating (all its
    threat options at once) or because it carried out a threat object with that instrument."""
    threats = params.threats
    strikes, safe = state.coercing.copy(), state.coercing.copy()
    carried = state.threat_status == THREAT_CARRIED_OUT
    for t in range(threats.count):
        target = strikes if threats.instrument[t] == 0 else safe
        target[:, threats.by[t]] |= carried[:, t]
    return strikes, safe


def _threat_weights(params: Params, state: State, credible: bool) -> tuple[Array, Array]:
    """(N, A) each, the weight of each actor's strike and safe-zone instruments: 1 while carried out; with
    `credible`, the threat's credibility otherwise (0 without)."""
    strikes, safe = _carrying_out(params, state)
    credibility = params.actor("threat_credibility") if credible else 0.0
    return np.maximum(strikes, credibility), np.maximum(safe, credibility)


def _threat_strengths(params: Params, state: State, credible: bool) -> tuple[Array, Array]:
    """(damage to the government side, protection of the opposition side) from strikes and safe zones.

    With `credible`, a threat counts at its credibility even when not carried out;
    otherwise only threats being carried out count.
    """
    strike = state.options[:, :, OPTION["strike_regime"]]
    safe = state.options[:, :, OPTION["safe_zones"]]
    strike_weight, safe_weight = _threat_weights(params, state, credible)
    damage = np.sum(strike * strike_weight * params.actor("strike_power") * params.opposition_side, axis=-1)
    protection = np.sum(safe * safe_weight * params.actor("safe_zone_power") * params.opposition_side, axis=-1)
    damage_to_opposition = np.sum(
        strike * strike_weight * params.actor("strike_power") * params.government_side, axis=-1
    )
    return damage, protection - damage_to_opposition


def advance_battlefield(params: Params, state: State, shock: Array) -> tuple[Array, Array, Array, Array]:
    """Step 2: move control and the arms stock; returns (G, O, inflow, intensity) as fought this step."""
    arrived = state.return_in == 0
    state.air_present = np.where(arrived, state.air_present + state.air_withdrawn, state.air_present)
    state.air_withdrawn = np.where(arrived, 0.0, state.air_withdrawn)
    state.return_in = np.where(state.return_in >= 0, state.return_in - 1, state.return_in)
    inflow = arms_inflow(params, state)
    damage, protection = _threat_strengths(params, state, credible=False)
    air_effectiveness = params.battle("air_effectiveness")
    government = np.maximum(
        war.side_strength(
            params.battle("other_government_strength"),
            state.ground,
            state.air_present,
            params.government_side,
            air_effectiveness,
        )
        - damage,
        war.MIN_STRENGTH,
    )
    opposition = np.maximum(
        war.side_strength(
            params.battle("other_opposition_strength"),
            state.ground,
            0.0 * state.ground,
            params.opposition_side,
            air_effectiveness,
        )
        + params.battle("arms_effectiveness") * state.arms_stock
        + protection,
        war.MIN_STRENGTH,
    )
    intensity = agreements_math.fighting_intensity(
        state.ceasefire,
        params.battle("ceasefire_intensity"),
        params.battle("excluded_fighting"),
        state.breach_pressure,
    )
    if params.has_battlefield:
        state.control = war.step_control(
            state.control,
            war.force_balance(government, opposition),
            params.battle("kappa"),
            intensity,
            params.battle("noise"),
            shock,
        )
        state.arms_stock = war.next_arms_stock(state.arms_stock, inflow, params.battle("arms_burn"), intensity)
    return government, opposition, inflow, intensity


def _credible_strengths(params: Params, state: State, credibility: Array) -> tuple[Array, Array, Array]:
    """Per-actor contributions to the credibility-weighted projection: (G total, O base, air counted)."""
    air_counted = state.air_present + state.air_withdrawn * credibility
    damage, protection = _threat_strengths(params, state, credible=True)
    government = (
        war.side_strength(
            params.battle("other_government_strength"),
            state.ground,
            air_counted,
            params.government_side,
            params.battle("air_effectiveness"),
        )
        - damage
    )
    opposition_base = (
        war.side_strength(
            params.battle("other_opposition_strength"),
            state.ground,
            0.0 * state.ground,
            params.opposition_side,
            params.battle("air_effectiveness"),
        )
        + protection
    )
    return government, opposition_base, air_counted


def _alternatives(
    params: Params, state: State, government: Array, opposition_base: Array, inflow: Array, cost: Array
) -> tuple[Array, Array]:
    """Step 3 for X variants of the battlefield: G, O_base, inflow (N, X) -> (batna, p) of shape (N, X, A)."""
    n_runs = params.runs
    if not params.has_battlefield:
        value = params.utilities_at(params.status_quo)[:, None, :] - cost[:, None, :]
        shape = (n_runs, government.shape[1], value.shape[-1])
        return np.broadcast_to(value, shape), np.full(shape, np.nan)
    expand = lambda name: params.battle(name)[:, None, None]  # noqa: E731 - (N,) -> (N, 1, 1)
    probability = batna_math.projected_win_probability(
        government=np.maximum(government, war.MIN_STRENGTH),
        opposition_base=opposition_base,
        arms_stock=np.broadcast_to(state.arms_stock[:, None], government.shape),
        arms_inflow=inflow,
        control=np.broadcast_to(state.control[:, None], government.shape),
        horizon=params.actor("horizon")[:, None, :],
        arms_burn=expand("arms_burn"),
        arms_effectiveness=expand("arms_effectiveness"),
        kappa=expand("kappa"),
        contest_exponent=expand("contest_exponent"),
        territory_weight=expand("territory_weight"),
    )
    u_government = params.utilities_at(params.government_victory)[:, None, :]
    u_opposition = params.utilities_at(params.opposition_victory)[:, None, :]
    value = batna_math.war_lottery_value(probability, u_government, u_opposition, cost[:, None, :])
    return value, probability


def _locked_pairs(params: Params, state: State) -> NDArray[np.bool_]:
    """(N, A, A) pairs (i, j) both bound by an agreement in force that stops the fighting, neither of which
    can break it (neither has the `spoil` option): their alternatives cannot come into play."""
    peace = (state.in_force & params.agreements.stops_fighting).astype(np.int64)
    bound = (peace @ params.agreements.bound.astype(np.int64)) > 0  # (N, A)
    fixed = bound & ~state.options[:, :, OPTION["spoil"]]
    return fixed[:, :, None] & fixed[:, None, :]


def _arms_flows(params: Params, state: State) -> tuple[Array, Array, Array]:
    """(N, A) each: the arms each supplier delivers now; the deliveries its patron's embargo holds back from
    it; and, per patron, the arms its embargo holds back (what its suppliers would deliver without it)."""
    delivering, embargoed = _deliveries(params, state)
    supply = params.actor("arms_supply")
    held_back = supply * (embargoed & state.supplying & ~state.defying)
    return supply * delivering, held_back, held_back @ _patron_matrix(params)


def _escalation(params: Params, state: State, involvement: Array) -> tuple[Array, Array]:
    """(N, A) each: the strength one more escalation by each actor would add to the government side and to
    the opposition side: nothing at the actor's cap (as in the decision rule); only ground force counts on
    the opposition side, whose strength has no air term."""
    cap = params.actor("max_involvement")
    can_escalate = state.options[:, :, OPTION["escalate"]] & (involvement < cap)
    step = params.actor("escalate_step")
    added_ground = decisions.escalated_force(state.ground, params.actor("ground"), step, cap) - state.ground
    added_air = decisions.escalated_force(state.air_present, params.actor("air"), step, cap) - state.air_present
    air_effectiveness = params.battle("air_effectiveness")[:, None]
    government = can_escalate * params.government_side * (added_ground + air_effectiveness * added_air)
    return government, can_escalate * params.opposition_side * added_ground


def _leverage_variants(
    params: Params,
    state: State,
    government: Array,
    opposition_base: Array,
    inflow: Array,
    force: Array,
    strike_threat: Array,
    safe_threat: Array,
    involvement: Array,
) -> tuple[tuple[Array, Array, Array], ...]:
    """The battlefields leverage is measured on, as (G, O_base, inflow) with a variant axis after the run axis:
    as things stand (1); each actor i absent, its forces, threats and arms flows gone (A); each actor
    escalating once (A); then one instrument of each actor removed at a time (`leverage.REMOVED_INSTRUMENTS`:
    its forces, withdrawn air at its credibility; its strike threat; its safe zones; the arms it delivers;
    the arms its embargo holds back; A each). Read back by `_coercive_from`."""
    gov_side, opp_side = params.government_side, params.opposition_side
    shape = (params.runs, len(params.actor_ids))
    same_government = np.broadcast_to(government[:, None], shape)
    same_opposition = np.broadcast_to(opposition_base[:, None], shape)
    same_inflow = np.broadcast_to(inflow[:, None], shape)
    delivered_by, _, blocked_by = _arms_flows(params, state)
    government_added, opposition_added = _escalation(params, state, involvement)
    return (
        (government[:, None], opposition_base[:, None], inflow[:, None]),
        (
            government[:, None] - gov_side * force + opp_side * strike_threat,
            opposition_base[:, None] - opp_side * (state.ground + safe_threat) + gov_side * strike_threat,
            inflow[:, None] - delivered_by + blocked_by,
        ),
        (government[:, None] + government_added, opposition_base[:, None] + opposition_added, same_inflow),
        (government[:, None] - gov_side * force, opposition_base[:, None] - opp_side * state.ground, same_inflow),
        (
            government[:, None] + opp_side * strike_threat,
            opposition_base[:, None] + gov_side * strike_threat,
            same_inflow,
        ),
        (same_government, opposition_base[:, None] - opp_side * safe_threat, same_inflow),
        (same_government, same_opposition, inflow[:, None] - delivered_by),
        (same_government, same_opposition, inflow[:, None] + blocked_by),
    )


def _coercive_from(values: Array, n_actors: int) -> tuple[Array, Array, Array]:
    """Whole-presence (N, A, A) and per-instrument (N, A, A, M) coercive leverage, and the alternatives with
    each instrument removed (N, M_removed, A, A), from the alternatives on `_leverage_variants`' battlefields
    (the first columns of `values`, (N, X, A))."""
    batna = values[:, 0, :]
    absent = values[:, 1 : 1 + n_actors, :]
    escalated = values[:, 1 + n_actors : 1 + 2 * n_actors, :]
    end = 1 + (2 + len(REMOVED_INSTRUMENTS)) * n_actors
    without = values[:, 1 + 2 * n_actors : end, :].reshape(
        values.shape[0], len(REMOVED_INSTRUMENTS), n_actors, n_actors
    )
    whole = coercive_leverage(batna, absent, escalated)
    return whole, coercive_leverage_by_instrument(batna, without, escalated, absent), without


def _leverage_over_without_own_threats(
    params: Params,
    state: State,
    holder: int,
    government: Array,
    opposition_base: Array,
    inflow: Array,
    force: Array,
    strike_threat: Array,
    safe_threat: Array,
    involvement: Array,
    cost: Array,
) -> tuple[Array, Array]:
    """(N, A_i) whole-presence and (N, A_i, M) per-instrument coercive leverage of every actor over `holder`,
    in the world without `holder`'s own strike and safe-zone instruments (as they count now): the same
    variants as `assess` measures leverage on, built on that world; only the holder's column is read."""
    h = holder
    gov_side, opp_side = params.government_side, params.opposition_side
    strikes = strike_threat.copy()
    strikes[:, h] = 0.0
    safe = safe_threat.copy()
    safe[:, h] = 0.0
    variants = _leverage_variants(
        params,
        state,
        government + opp_side[h] * strike_threat[:, h],
        opposition_base + gov_side[h] * strike_threat[:, h] - opp_side[h] * safe_threat[:, h],
        inflow,
        force,
        strikes,
        safe,
        involvement,
    )
    values, _ = _distinct_alternatives(
        params, state, *(np.concatenate([variant[part] for variant in variants], axis=1) for part in range(3)), cost
    )
    whole, by_instrument, _ = _coercive_from(values, len(params.actor_ids))
    return whole[:, :, h], by_instrument[:, :, h]


def _threat_costs(params: Params, state: State) -> Array:
    """(N, A) utility per step each actor loses to the threats it is carrying out, beyond its war cost."""
    threats = params.threats
    carried = (state.threat_status == THREAT_CARRIED_OUT) * threats.cost
    by = np.zeros((threats.count, len(params.actor_ids)))
    by[np.arange(threats.count), threats.by] = 1.0
    return carried @ by


def _threats_carried_out(
    params: Params, government: Array, opposition_base: Array, strike_weighted: Array, safe_weighted: Array
) -> tuple[Array, Array]:
    """(G, O_base), each (N, T): the battlefield with threat t carried out in full. `strike_weighted` and
    `safe_weighted` (N, A) are each actor's instruments as they count now (option times weight)."""
    threats = params.threats
    government_t = np.repeat(government[:, None], threats.count, axis=1)
    opposition_t = np.repeat(opposition_base[:, None], threats.count, axis=1)
    for t in range(threats.count):
        i = threats.by[t]
        if threats.instrument[t] == 0:  # strikes: the rest of the strike's power, on the other side
            rest = np.maximum(1.0 - strike_weighted[:, i], 0.0) * params.actor("strike_power")[:, i]
            government_t[:, t] -= params.opposition_side[i] * rest
            opposition_t[:, t] -= params.government_side[i] * rest
        else:  # safe zones protect the opposition side
            rest = np.maximum(1.0 - safe_weighted[:, i], 0.0) * params.actor("safe_zone_power")[:, i]
            opposition_t[:, t] += params.opposition_side[i] * rest
    return government_t, opposition_t


def _threat_choice_values(params: Params, state: State, carried: Array, without_instrument: Array) -> Array:
    """(N, T, 2): for each threat, its threatener's alternative with the threat carried out in full (0) and
    with its instrument dropped (1), from the battlefield variants of `assess`."""
    threats = params.threats
    removed = np.array([REMOVED_INSTRUMENTS.index(THREAT_INSTRUMENTS[m]) for m in threats.instrument], dtype=np.int64)
    by = threats.by
    runs = np.arange(params.runs)[:, None]
    execute = carried[runs, np.arange(threats.count)[None, :], by[None, :]]
    back_down = without_instrument[runs, removed[None, :], by[None, :], by[None, :]]
    return np.stack([execute, back_down], axis=-1).reshape(params.runs, threats.count, 2)


def _distinct_alternatives(
    params: Params, state: State, government: Array, opposition_base: Array, inflow: Array, cost: Array
) -> tuple[Array, Array]:
    """`_alternatives` for X variants, computed once for the variants that equal variant 0 in every run.

    Many variants change nothing (an actor that cannot escalate, a supplier nobody holds back, an
    absent actor with no force, arms or threat); their values are copied from variant 0's. Equal
    inputs give equal outputs element by element, so the numbers are the same, at about half the cost.
    """
    unchanged = np.all(
        (government == government[:, :1]) & (opposition_base == opposition_base[:, :1]) & (inflow == inflow[:, :1]),
        axis=0,
    )
    unchanged[0] = False
    if not unchanged.any():
        return _alternatives(params, state, government, opposition_base, inflow, cost)
    computed = np.flatnonzero(~unchanged)
    values, probability = _alternatives(
        params, state, government[:, computed], opposition_base[:, computed], inflow[:, computed], cost
    )
    # Variant x reads computed column source[x]: its own, or variant 0's (column 0) when unchanged.
    source = np.zeros(len(unchanged), dtype=np.int64)
    source[computed] = np.arange(len(computed))
    return values[:, source, :], probability[:, source, :]


def _offers_on_the_table(
    params: Params, state: State, salience: Array, reservation: Array, weights: Array, agreed: Array
) -> tuple[Array, NDArray[np.bool_]]:
    """Step 4 for each agreement: the whole outcome (N, G, K) it would set if signed now, and whether a
    zone of agreement exists for it (N, G).

    Agreement g is bargained over its own free issues by the parties whose consent it needs, every other
    issue held where the agreements in force put it (`agreed`). An agreement in force keeps its terms;
    one with nothing to bargain over keeps the outcome as it stands. The problem is solved only for the
    runs where the agreement is open (each run's solution depends on that run alone).
    """
    agreements = params.agreements
    proposals = np.where(state.in_force[:, :, None], state.terms, agreed[:, None, :])
    zones = state.in_force.copy()
    for g in np.flatnonzero(agreements.negotiable):
        open_runs = np.flatnonzero(~state.in_force[:, g])
        if not open_runs.size:
            continue
        runs = slice(None) if open_runs.size == params.runs else open_runs
        consent = agreements.consent[g]
        outcome = solve_bargaining(
            params.ideal[runs][:, consent],
            salience[runs][:, consent],
            params.actor("risk")[runs][:, consent],
            reservation[runs][:, g][:, consent],
            weights[runs][:, consent],
            agreed[runs],
            agreements.free[g],
        )
        proposals[runs, g] = outcome.proposal
        zones[runs, g] = outcome.zone_exists
    return proposals, zones


def _prospect(params: Params, state: State, agreed: Array, proposals: Array) -> Array:
    """(N, K) the outcome the parties look to: the terms in force, and on the issues of each agreement
    still open the offer on the table (a ceasefire is worth the settlement it leads to)."""
    open_issues = ~state.in_force[:, :, None] & params.agreements.free[None]
    offered = np.where(open_issues, proposals, 0.0).sum(axis=1)
    return np.where(open_issues.any(axis=1), offered, agreed)


def assess(
    params: Params,
    state: State,
    step: int,
    government_now: Array,
    opposition_now: Array,
    inflow: Array,
    intensity: Array,
    *,
    measure_inducement: bool = True,
) -> Assessment:
    """Steps 3, 4 and 6: alternatives, bargaining and leverage, as every actor sees them.

    With `measure_inducement=False` the inducement leverage is left at 0: no decision reads it, so
    an ensemble that does not record it skips its cost (a fifth of a step) and nothing else changes.
    """
    n_runs, n_actors = params.runs, len(params.actor_ids)
    credibility = war.credibility_weight(state.withdrawn_redeploy_days, params.battle("credibility_tau_days")[:, None])
    striking, protecting = _carrying_out(params, state)
    involvement = batna_math.involvement(
        state.ground, state.air_present, params.actor("ground") + params.actor("air"), striking | protecting
    )
    horizon_weight = batna_math.discounted_steps(params.actor("patience"), params.actor("horizon"))
    cost = (
        batna_math.fighting_cost(
            params.actor("war_cost"), involvement, params.actor("patience"), params.actor("horizon")
        )
        + _threat_costs(params, state) * horizon_weight
    )
    government, opposition_base, air_counted = _credible_strengths(params, state, credibility)

    air_effectiveness = params.battle("air_effectiveness")[:, None]
    force = state.ground + air_effectiveness * air_counted
    strike = state.options[:, :, OPTION["strike_regime"]]
    safe = state.options[:, :, OPTION["safe_zones"]]
    strike_weight, safe_weight = _threat_weights(params, state, credible=True)
    strike_threat = strike * strike_weight * params.actor("strike_power")
    safe_threat = safe * safe_weight * params.actor("safe_zone_power")
    _, held_back, _ = _arms_flows(params, state)
    # Each threat object carried out in full (weight 1 instead of its credibility): what its threatener weighs
    # against backing down (the variant with that instrument removed) when its deadline comes.
    carried = _threats_carried_out(params, government, opposition_base, strike * strike_weight, safe * safe_weight)
    # After the leverage variants (`_leverage_variants`): each actor i resuming the deliveries its patron's
    # embargo holds back (what it can do to restart the war), then each threat object carried out.
    variants = (
        *_leverage_variants(
            params, state, government, opposition_base, inflow, force, strike_threat, safe_threat, involvement
        ),
        (
            np.broadcast_to(government[:, None], (n_runs, n_actors)),
            np.broadcast_to(opposition_base[:, None], (n_runs, n_actors)),
            inflow[:, None] + held_back,
        ),
        (carried[0], carried[1], np.broadcast_to(inflow[:, None], carried[0].shape)),
    )
    values, probability = _distinct_alternatives(
        params, state, *(np.concatenate([variant[part] for variant in variants], axis=1) for part in range(3)), cost
    )
    batna = values[:, 0, :]
    coercive, coercive_by_instrument, without_instrument = _coercive_from(values, n_actors)
    leverage_end = 1 + (2 + len(REMOVED_INSTRUMENTS)) * n_actors
    # Each actor's own view of the war it would restart: d_i with its held-back deliveries flowing (= d_i if none).
    spoil_alternative = np.diagonal(values[:, leverage_end : leverage_end + n_actors, :], axis1=1, axis2=2)
    threat_values = _threat_choice_values(params, state, values[:, leverage_end + n_actors :, :], without_instrument)
    # Leverage over an actor that holds strike or safe-zone instruments is measured with those held out: in
    # the contest each side's force counts for more as the balance tightens, so another's leverage over it
    # would otherwise grow with its own threat, crediting the other with what the target's instrument did.
    for holder in np.flatnonzero(np.any((strike_threat > 0) | (safe_threat > 0), axis=0)):
        coercive[:, :, holder], coercive_by_instrument[:, :, holder] = _leverage_over_without_own_threats(
            params,
            state,
            holder,
            government,
            opposition_base,
            inflow,
            force,
            strike_threat,
            safe_threat,
            involvement,
            cost,
        )

    # Nothing is measured for a pair that an agreement in force binds and that neither side can still break.
    locked = _locked_pairs(params, state)
    coercive = np.where(locked, 0.0, coercive)
    coercive_by_instrument = np.where(locked[..., None], 0.0, coercive_by_instrument)

    elapsed = np.full((n_runs, 1), float(step))
    weights = bargaining_weights(
        params.actor("capability"), params.actor("patience"), params.actor("stake_growth"), elapsed
    )
    agreements = params.agreements
    agreed = agreed_outcome(params, state)
    # An agreement that stops the fighting is weighed against the war; any other against the outcome
    # as it stands without it (the fighting it does not end goes on either way).
    standing = params.utilities_at(agreed)
    alternative = np.where(agreements.stops_fighting[None, :, None], batna[:, None, :], standing[:, None, :])
    reservation_by_agreement = reservation_values(
        alternative, state.demand[:, None, :], params.actor("stake_growth")[:, None, :], elapsed[:, :, None]
    )
    salience = params.salience
    proposals, zones = _offers_on_the_table(params, state, salience, reservation_by_agreement, weights, agreed)
    proposal = _prospect(params, state, agreed, proposals)
    utility_of_offer = params.utilities_at(proposal)
    utility_by_agreement = np.stack([params.utilities_at(proposals[:, g]) for g in range(agreements.count)], axis=1)
    reverted = np.stack(
        [
            params.utilities_at(np.where(agreements.issues[g], params.status_quo, proposal))
            for g in range(agreements.count)
        ],
        axis=1,
    )
    open_agreements = ~state.in_force & agreements.negotiable
    zone_exists = np.all(zones | ~agreements.negotiable, axis=-1)
    settled = ~open_agreements.any(axis=-1)
    reservation = reservation_by_agreement[:, agreements.settlement]
    inducement = (
        inducement_leverage(
            proposal, params.ideal, salience, params.actor("risk"), reservation, params.required, params.free_issues
        )
        if measure_inducement
        else np.zeros((n_runs, n_actors, n_actors))
    )
    # With every agreement signed there is no offer to sweeten: inducement counts only while talks are on.
    inducement = np.where(settled[:, None, None], 0.0, inducement)
    return Assessment(
        step=step,
        government_strength=government_now,
        opposition_strength=opposition_now,
        win_probability=war.war_probability(
            government_now,
            opposition_now,
            state.control,
            params.battle("contest_exponent"),
            params.battle("territory_weight"),
        )
        if params.has_battlefield
        else np.full(n_runs, np.nan),
        projected_win_probability=probability[:, 0, :],
        arms_inflow=inflow,
        involvement=involvement,
        batna=batna,
        spoil_alternative=spoil_alternative,
        batna_without=values[:, 1 : 1 + n_actors, :],
        break_value=_break_values(
            params, state, utility_of_offer, cost, spoil_alternative, values[:, 1 : 1 + n_actors, :]
        ),
        weights=weights,
        reservation=reservation,
        proposal=proposal,
        zone_exists=zone_exists,
        utility_of_offer=utility_of_offer,
        reservation_by_agreement=reservation_by_agreement,
        proposal_by_agreement=proposals,
        zone_by_agreement=zones,
        utility_by_agreement=utility_by_agreement,
        breaking_value=reverted,
        coercive=coercive,
        coercive_by_instrument=coercive_by_instrument,
        inducement=inducement,
        credibility=credibility,
        fighting_cost=cost,
        threat_values=threat_values,
        intensity=intensity,
    )


def decide(
    params: Params, state: State, seen: Assessment, actors: slice | list[int] | int = slice(None)
) -> dict[str, Array]:
    """Step 5 for some actors (all by default): the decision rules on their columns.

    Every decision has the actor on its last axis: (N, A) for the actor's own choices, (N, G, A) for
    choices about each agreement (`accept`, `concession`, `break_probability`)."""
    pick = lambda array: array[..., actors]  # noqa: E731
    option = lambda name: state.options[:, actors, OPTION[name]]  # noqa: E731
    agreements = params.agreements
    required = params.required[actors]
    coercive_over_counterparts = np.sum(seen.coercive[:, actors, :] * params.required, axis=-1)
    initial_force = params.actor("ground") + params.actor("air")
    may_break = option("spoil")
    # Self-enforcement (`sim.mechanisms.agreements`). While the fighting is stopped, a party bound by an
    # agreement that stops it weighs the prospect (the terms in force and the offers on the table) against
    # restarting the war now.
    peace = state.in_force & agreements.stops_fighting
    bound_to_peace = ((peace.astype(np.int64) @ agreements.bound.astype(np.int64)) > 0)[..., actors]
    keep = agreements_math.keep_value(
        pick(seen.utility_of_offer), params.battle("excluded_fighting"), pick(seen.fighting_cost)
    )
    defection_cost = pick(params.actor("defection_cost"))
    capability, sensitivity = pick(params.actor("capability")), pick(params.actor("spoil_sensitivity"))
    gain = agreements_math.breaking_gain(pick(seen.break_value), keep, defection_cost)
    defection = agreements_math.defection_probability(gain, capability, sensitivity, 0.0)
    # An agreement that leaves the fighting as it is is weighed against the outcome without it.
    other_gain = agreements_math.breaking_gain(
        pick(seen.breaking_value), pick(seen.utility_of_offer)[:, None, :], defection_cost[:, None, :]
    )
    breakable = (state.in_force & ~agreements.stops_fighting)[:, :, None] & agreements.bound[:, actors][None]
    break_probability = np.where(
        breakable & may_break[:, None, :],
        agreements_math.defection_probability(other_gain, capability[:, None, :], sensitivity[:, None, :], 0.0),
        0.0,
    )
    talking = ((seen.step >= agreements.talks_start_step) & ~state.in_force & agreements.negotiable)[:, :, None]
    elapsed = np.full((params.runs, 1), float(seen.step))
    rate = concessions.concession_rate(
        impatience(pick(params.actor("patience")), pick(params.actor("stake_growth")), elapsed),
        pick(params.actor("war_cost")),
        pick(seen.involvement),
        seen.intensity,
    )
    settled = ~np.any(~state.in_force & agreements.negotiable, axis=-1)[:, None]
    carry_out, back_down, drop = _threat_decisions(params, state, seen)
    return {
        "accept": decisions.accepts(
            pick(seen.utility_by_agreement),
            concessions.acceptance_threshold(pick(seen.reservation_by_agreement), pick(state.conceded)),
        ),
        "concession": np.where(talking, rate[:, None, :], 0.0),
        "spoil_probability": np.where(may_break & bound_to_peace, defection, 0.0),
        "break_probability": break_probability,
        "restrain": (pick(params.actor("restrains_clients")) > 0.0) & state.ceasefire[:, None] & (gain <= 0.0),
        "soften": decisions.wants_to_soften(
            option("soften"), required, seen.zone_exists[:, None], coercive_over_counterparts, settled
        ),
        "escalate": decisions.wants_to_escalate(
            option("escalate"),
            seen.zone_exists[:, None],
            state.ceasefire[:, None],
            settled,
            pick(seen.involvement),
            pick(params.actor("max_involvement")),
        )
        & (pick(initial_force) > 0),
        "carry_out_threat": pick(carry_out),
        "back_down_threat": pick(back_down),
        "drop_threat": pick(drop),
        "withdraw": decisions.wants_to_withdraw(
            option("withdraw"),
            state.ceasefire[:, None],
            pick(state.air_present),
            pick(state.air_withdrawn),
            decisions_credibility(params, actors),
        ),
    }


def _threat_decisions(
    params: Params, state: State, seen: Assessment
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """(N, T, A) each: whether the threatener (column `by`) carries threat t out now, backs down from it at its
    deadline, or drops it because its demand is met.

    Both are the threatener's choices from its own values (`sim.mechanisms.threats`): it drops a threat whose
    demand the agreements in force meet (carrying it out would only cost it), and once the deadline has
    passed with the demand unmet it carries out a pending threat when that is worth more to it than backing
    down and paying the audience cost.
    """
    threats = params.threats
    n_actors = len(params.actor_ids)
    shape = (params.runs, threats.count, n_actors)
    if not threats.count:
        return np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    met = threat_math.demand_met(
        agreed_outcome(params, state),
        state.in_force,
        threats.demand_issue,
        threats.demand_level,
        threats.demand_at_most,
        threats.demand_agreement,
    )
    options = state.options[:, threats.by, threats.option]  # (N, T): each threat's option still on
    pending = state.threat_status == THREAT_PENDING
    due = pending & options & ~met & (threats.deadline_step >= 0) & (seen.step >= threats.deadline_step)
    by = threats.by
    per_step = params.actor("war_cost")[:, by] + threats.cost
    horizon_weight = batna_math.discounted_steps(params.actor("patience")[:, by], params.actor("horizon")[:, by])
    worth = threat_math.carrying_out_pays(
        seen.threat_values[..., 0], seen.threat_values[..., 1], per_step * horizon_weight, threats.audience_cost
    )
    mine = by[None, :, None] == np.arange(n_actors)[None, None, :]
    active = pending | (state.threat_status == THREAT_CARRIED_OUT)
    return (due & worth)[:, :, None] & mine, (due & ~worth)[:, :, None] & mine, (active & met)[:, :, None] & mine


def _break_values(
    params: Params,
    state: State,
    utility_of_offer: Array,
    fighting_cost: Array,
    spoil_alternative: Array,
    batna_without: Array,
) -> Array:
    """(N, A) what restarting the war is worth to each party: d^s_i, or for a client whose patron keeps
    the ceasefire and restrains its clients, the war without that patron (`agreements.client_break_value`).
    Whether the patron keeps it is read from what every party sees, as the patron's own rule decides it."""
    keep = agreements_math.keep_value(utility_of_offer, params.battle("excluded_fighting"), fighting_cost)
    own_gain = agreements_math.breaking_gain(spoil_alternative, keep, params.actor("defection_cost"))
    patron = params.patron
    has_patron = patron >= 0
    column = np.where(has_patron, patron, 0)
    patron_keeps = (
        has_patron
        & (params.actor("restrains_clients")[:, column] > 0.0)
        & (own_gain[:, column] <= 0.0)
        & state.ceasefire[:, None]
    )
    without_patron = batna_without[:, column, np.arange(len(patron))]
    return agreements_math.client_break_value(spoil_alternative, without_patron, patron_keeps)


def decisions_credibility(params: Params, actors: slice | list[int] | int) -> Array:
    """Credibility of withdrawing with the actor's own redeploy lag (used to decide to withdraw)."""
    return war.credibility_weight(
        params.actor("redeploy_days")[:, actors], params.battle("credibility_tau_days")[:, None]
    )


def apply_decisions(
    params: Params, state: State, seen: Assessment, intents: dict[str, Array], draws: Array, step: int
) -> dict[str, Array]:
    """Carry out the decisions; they shape the next step. Returns per-run outcomes of the step.

    `draws` is (N, 1 + extra): column 0 the uniform that decides whether the fighting restarts, column
    1 + g the one for agreement g when it does not stop the fighting (`draw_noise`)."""
    agreements = params.agreements
    draws = np.reshape(draws, (params.runs, -1))
    consent = agreements.consent[None]
    all_accept = np.all(intents["accept"] | ~consent, axis=-1)
    signing = (
        agreements.negotiable
        & ~state.in_force
        & seen.zone_by_agreement
        & all_accept
        & (step >= agreements.talks_start_step)
    )
    # A step's decisions are a new truce or else a collapse: signing an agreement that stops the fighting
    # keeps the war from restarting that step.
    truce_signed = (signing & agreements.stops_fighting).any(axis=-1)
    # A patron that prefers the agreement holds its clients back by the share it can.
    held_back = agreements_math.restraint(params.patron, intents["restrain"], params.actor("restrains_clients"))
    defection = intents["spoil_probability"] * (1.0 - held_back)
    collapse_probability = decisions.ceasefire_collapse_probability(defection)
    who = agreements_math.breaker(draws[:, 0], defection)
    collapses = state.ceasefire & ~truce_signed & (who >= 0)
    # The war and the bargaining start again: every agreement that stops the fighting falls with it.
    _collapse(params, state, collapses, who, step)
    broken = np.zeros_like(state.in_force)
    for g in np.flatnonzero(~agreements.stops_fighting):
        breaker_g = agreements_math.breaker(draws[:, 1 + g], intents["break_probability"][:, g])
        breaking = state.in_force[:, g] & ~signing[:, g] & (breaker_g >= 0)
        only_g = np.zeros_like(state.in_force)
        only_g[:, g] = breaking
        fallen = _fall(params, state, only_g, breaker_g, step)
        broken[:, g] = breaking
        # An agreement that stops the fighting and includes this one fell with it: the war restarts, as
        # when the truce itself is broken.
        restarts = (fallen & agreements.stops_fighting).any(axis=-1)
        if restarts.any():
            _collapse(params, state, restarts, breaker_g, step)
            collapses = collapses | restarts
            who = np.where(restarts & (who < 0), breaker_g, who)
    state.conceded = concessions.conceded_after(
        state.conceded, intents["concession"], ~state.in_force[:, :, None], False
    )
    _sign(params, state, signing, seen.proposal_by_agreement, step)
    _note_ceasefire_signed(state, step)

    state.demand = decisions.softened_demand(
        state.demand, params.actor("min_demand"), params.actor("soften_rate"), intents["soften"]
    )
    escalate = intents["escalate"]
    state.ground = np.where(
        escalate,
        decisions.escalated_force(
            state.ground, params.actor("ground"), params.actor("escalate_step"), params.actor("max_involvement")
        ),
        state.ground,
    )
    state.air_present = np.where(
        escalate,
        decisions.escalated_force(
            state.air_present, params.actor("air"), params.actor("escalate_step"), params.actor("max_involvement")
        ),
        state.air_present,
    )
    threat_options = state.options[:, :, OPTION["strike_regime"]] | state.options[:, :, OPTION["safe_zones"]]
    state.coercing = state.coercing | (escalate & threat_options)
    withdraw = intents["withdraw"]
    moved = np.where(withdraw, params.actor("withdraw_fraction") * state.air_present, 0.0)
    state.air_present = state.air_present - moved
    state.air_withdrawn = state.air_withdrawn + moved
    state.withdrawn_redeploy_days = np.where(withdraw, params.actor("redeploy_days"), state.withdrawn_redeploy_days)
    _resolve_threats(params, state, intents, step)
    _start_returns(params, state)
    state.embargo = _embargo(state)
    state.held_steps = state.held_steps + state.ceasefire
    # The violations of the next step's fighting (`agreements.fighting_intensity`): the pressure on a
    # ceasefire that held through this step. None on one signed this step, whether the fighting was on
    # (nobody was bound, so collapse_probability is 0) or an old ceasefire fell with an agreement it
    # included while a new one was signed (its pressure was the old one's).
    state.breach_pressure = np.where(state.ceasefire & ~collapses, collapse_probability, 0.0)
    return {
        "new_deal": signing[:, agreements.settlement],
        "signed": signing,
        "broken": broken,
        "collapses": collapses,
        "collapse_probability": collapse_probability,
        "broken_by": np.where(collapses, who, -1),
    }


def _resolve_threats(params: Params, state: State, intents: dict[str, Array], step: int) -> None:
    """Carry out the threatener's choices about its threats: a threat carried out counts in full from the
    next step on; one dropped (its demand met) or backed down from (its bluff called) stops counting, its
    instrument's option off."""
    threats = params.threats
    if not threats.count:
        return
    carry = intents["carry_out_threat"].any(axis=-1)
    back_down = intents["back_down_threat"].any(axis=-1)
    drop = intents["drop_threat"].any(axis=-1)
    status = state.threat_status
    new_status = np.where(carry, THREAT_CARRIED_OUT, np.where(back_down, THREAT_BLUFF_CALLED, status))
    new_status = np.where(drop, THREAT_LAPSED, new_status)
    state.threat_resolved_step = np.where(new_status != status, step, state.threat_resolved_step)
    state.threat_carried_step = np.where(carry & (state.threat_carried_step < 0), step, state.threat_carried_step)
    state.threat_status = new_status
    for t in range(threats.count):
        ended = drop[:, t] | back_down[:, t]
        state.options[:, threats.by[t], threats.option[t]] &= ~ended


def observe(
    params: Params, state: State, step: int, draws: Array, *, measure_inducement: bool = True
) -> tuple[Assessment, list[str]]:
    """Steps 1-4 and 6 for every run: events fire, the battlefield moves, and every actor's alternative,
    the offer on the table and the leverage matrix are assessed. Returns what the actors see and the
    labels of the events that fired. `draws` is (N, 2) for this step (column 0 is the battlefield's)."""
    fired = apply_events(params, state, step)
    government, opposition, inflow, intensity = advance_battlefield(params, state, draws[:, 0])
    seen = assess(params, state, step, government, opposition, inflow, intensity, measure_inducement=measure_inducement)
    return seen, fired


def advance(
    params: Params, state: State, step: int, draws: Array, *, measure_inducement: bool = True
) -> tuple[Assessment, dict[str, Array], dict[str, Array], list[str]]:
    """One whole step for every run: `observe`, every actor's `decide`, then `apply_decisions` together.

    The Mesa model takes the same three stages itself, its agents deciding in the middle one."""
    seen, fired = observe(params, state, step, draws, measure_inducement=measure_inducement)
    intents = decide(params, state, seen)
    outcome = apply_decisions(params, state, seen, intents, draws[:, 1:], step)
    return seen, intents, outcome, fired


def final_distances(params: Params, state: State) -> Array:
    """Each actor's salience-weighted distance from its ideal to the deal (NaN without a deal)."""
    return distance_from_ideal(state.deal_outcome, params.ideal, params.salience)


@dataclass
class Explanation:
    """What lies behind one step's alternatives, offers and agreements, as the engine computed them: recorded
    for a run's "why" (`sim.model.why.why_summary`) and never read by the dynamics.

    Taken after every actor has decided and before the decisions are carried out (`explain`), so that it
    describes the state the decisions were taken in. Arrays have the run axis first.
    """

    utility_if_government_wins: Array  # (N, A) u_i(x^G)
    utility_if_opposition_wins: Array  # (N, A) u_i(x^O)
    status_quo_value: Array  # (N, A) u_i(status quo): the no-deal outcome without a battlefield
    batna_without_withdrawn: Array  # (N, A) d_i with withdrawn forces not counted at all
    batna_withdrawn_present: Array  # (N, A) d_i with withdrawn forces counted as if present
    win_probability_without_withdrawn: Array  # (N, A) projected odds with withdrawn forces not counted
    air_withdrawn: Array  # (N, A) force withdrawn that can return
    redeploy_days: Array  # (N, A) the days it needs to return
    stake: Array  # (N, A) sigma_i t, the negotiator's personal stake in any deal
    impatience: Array  # (N, A) rho_i(t) = -ln(delta_i) + sigma_i t
    demand: Array  # (N, A) m_i, the margin still insisted on
    keep_value: Array  # (N, A) keeping the agreements that stop the fighting (the prospect less excluded fighting)
    breaking_gain: Array  # (N, A) max(0, break - defection cost - keep)
    restraint: Array  # (N, A) the share of its will to break that a patron holds back
    breaking_probability: Array  # (N, A) the chance it restarts the war this step, after restraint
    accept: NDArray[np.bool_]  # (N, G, A) accepts each agreement's offer now
    aspiration: Array  # (N, G, A) what it still hopes to get from each agreement
    break_probability: Array  # (N, G, A) the chance it breaks each agreement that leaves the fighting alone
    in_force: NDArray[np.bool_]  # (N, G) in force when the step's decisions were taken
    embargo: NDArray[np.bool_]  # (N, A) a patron enforcing an embargo on its suppliers
    arms_delivered: Array  # (N, A) arms each supplier delivers this step
    arms_held_back: Array  # (N, A) deliveries a patron's embargo holds back from each supplier


def explain(params: Params, state: State, seen: Assessment, intents: dict[str, Array]) -> Explanation:
    """The parts of what every actor saw at this step that the dynamics use without keeping: call it after
    `decide` and before `apply_decisions`. It draws no random number and changes nothing in `state`.

    The alternatives with withdrawn forces left out, or counted as present, are computed on the same
    battlefield as `assess` (`_credible_strengths`, `_alternatives`) with the return weight set to 0 or 1.
    """
    outcome_values = [
        params.utilities_at(outcome) for outcome in (params.government_victory, params.opposition_victory)
    ]
    variants = [_credible_strengths(params, state, np.full_like(seen.credibility, weight)) for weight in (0.0, 1.0)]
    values, probability = _alternatives(
        params,
        state,
        np.stack([government for government, _, _ in variants], axis=1),
        np.stack([opposition for _, opposition, _ in variants], axis=1),
        np.stack([seen.arms_inflow, seen.arms_inflow], axis=1),
        seen.fighting_cost,
    )
    elapsed = np.full((params.runs, 1), float(seen.step))
    stake = params.actor("stake_growth") * elapsed
    keep = agreements_math.keep_value(seen.utility_of_offer, params.battle("excluded_fighting"), seen.fighting_cost)
    held_back = agreements_math.restraint(params.patron, intents["restrain"], params.actor("restrains_clients"))
    delivered, withheld, _ = _arms_flows(params, state)
    return Explanation(
        utility_if_government_wins=outcome_values[0],
        utility_if_opposition_wins=outcome_values[1],
        status_quo_value=params.utilities_at(params.status_quo),
        batna_without_withdrawn=values[:, 0, :],
        batna_withdrawn_present=values[:, 1, :],
        win_probability_without_withdrawn=probability[:, 0, :],
        air_withdrawn=state.air_withdrawn.copy(),
        redeploy_days=state.withdrawn_redeploy_days.copy(),
        stake=stake,
        impatience=impatience(params.actor("patience"), params.actor("stake_growth"), elapsed),
        demand=state.demand.copy(),
        keep_value=keep,
        breaking_gain=agreements_math.breaking_gain(seen.break_value, keep, params.actor("defection_cost")),
        restraint=held_back,
        breaking_probability=intents["spoil_probability"] * (1.0 - held_back),
        accept=np.asarray(intents["accept"], dtype=bool).copy(),
        aspiration=concessions.aspiration(state.conceded),
        break_probability=np.asarray(intents["break_probability"], dtype=float).copy(),
        in_force=state.in_force.copy(),
        embargo=state.embargo.copy(),
        arms_delivered=delivered,
        arms_held_back=withheld,
    )
