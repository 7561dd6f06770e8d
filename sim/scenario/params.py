"""A scenario as arrays: every numeric input with a leading run axis.

`params_from_scenario` turns a validated scenario into `Params` for N runs (all
equal); `set_field` overrides one field by its dotted scenario path with a value
per run (ensembles, sweeps, sensitivity). The model and the ensemble engine read
only `Params`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sim.mechanisms.utility import normalise_salience, utility
from sim.scenario.schema import DEFAULT_AGREEMENT_IDS, Agreement, Options, Scenario

Array = NDArray[np.float64]

OPTION_NAMES: tuple[str, ...] = tuple(Options.model_fields)

# Per-actor scalar fields: scenario path below actors.<id>. -> Params attribute.
ACTOR_FIELDS = {
    "risk_exponent": "risk",
    "capability": "capability",
    "patience": "patience",
    "war_cost": "war_cost",
    "horizon": "horizon",
    "stake_growth": "stake_growth",
    "demand": "demand",
    "min_demand": "min_demand",
    "soften_rate": "soften_rate",
    "spoil_sensitivity": "spoil_sensitivity",
    "defection_cost": "defection_cost",
    "restrains_clients": "restrains_clients",
    "forces.ground": "ground",
    "forces.air": "air",
    "redeploy_days": "redeploy_days",
    "escalate_step": "escalate_step",
    "max_involvement": "max_involvement",
    "withdraw_fraction": "withdraw_fraction",
    "arms_supply": "arms_supply",
    "threats.strike_power": "strike_power",
    "threats.safe_zone_power": "safe_zone_power",
    "threats.credibility": "threat_credibility",
}

BATTLEFIELD_FIELDS = {
    "control": "control",
    "kappa": "kappa",
    "noise": "noise",
    "air_effectiveness": "air_effectiveness",
    "contest_exponent": "contest_exponent",
    "territory_weight": "territory_weight",
    "other_government_strength": "other_government_strength",
    "other_opposition_strength": "other_opposition_strength",
    "arms_stock": "arms_stock",
    "arms_burn": "arms_burn",
    "arms_effectiveness": "arms_effectiveness",
    "ceasefire_intensity": "ceasefire_intensity",
    "excluded_fighting": "excluded_fighting",
    "credibility_tau_days": "credibility_tau_days",
}


@dataclass(frozen=True)
class CompiledEvent:
    step: int
    actor: int  # -1 when the event has no actor
    action: str
    fraction: float
    redeploy_days: float | None
    option: int  # index into OPTION_NAMES, -1 if none
    label: str
    agreement: int = -1  # start_ceasefire: index of the agreement it begins


@dataclass(frozen=True)
class Agreements:
    """The scenario's agreements as arrays (G agreements, K issues, A actors); see `schema.Agreement`."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    issues: NDArray[np.bool_]  # (G, K) issues each sets
    free: NDArray[np.bool_]  # (G, K) issues each can bargain over: its issues no consenting party refuses to link
    consent: NDArray[np.bool_]  # (G, A) who must sign it
    bound: NDArray[np.bool_]  # (G, A) who it binds
    stops_fighting: NDArray[np.bool_]  # (G,)
    at_start: NDArray[np.bool_]  # (G,) in force before step 0
    includes: NDArray[np.bool_]  # (G, G) row g signs column h with it, directly or through others (diagonal
    # true); g falls when h falls
    talks_start_step: NDArray[np.int64]  # (G,)
    settlement: int  # the agreement that summary.json's `deal` describes
    default_ceasefire: int  # the agreement a start_ceasefire event without `agreement:` begins, -1 if none

    @property
    def negotiable(self) -> NDArray[np.bool_]:
        """(G,) agreements with something to bargain over."""
        return self.free.any(axis=-1)

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def in_force_at_start(self) -> NDArray[np.bool_]:
        """(G,) in force before step 0: those said to be, and all they include."""
        return (self.at_start.astype(np.int64) @ self.includes.astype(np.int64)) > 0

    def reported(self, has_battlefield: bool) -> list[int]:
        """The agreements the outputs report: all, but a bare ceasefire only where there is a war to cease."""
        bare = self.stops_fighting & ~self.issues.any(axis=-1)
        return [g for g in range(self.count) if has_battlefield or not bare[g]]


def default_agreements(scenario: Scenario) -> dict[str, Agreement]:
    """The two agreements of a scenario without an `agreements:` section (the model before agreements
    could be defined): a bare ceasefire, in force at the start if `battlefield.ceasefire`, and a settlement
    over every issue that includes it."""
    at_start = bool(scenario.battlefield.ceasefire) if scenario.battlefield else False
    ceasefire, settlement = DEFAULT_AGREEMENT_IDS
    return {
        ceasefire: Agreement(name=ceasefire, stops_fighting=True, in_force_at_start=at_start),
        settlement: Agreement(name=settlement, issues=list(scenario.issues), stops_fighting=True, includes=[ceasefire]),
    }


def compile_agreements(scenario: Scenario) -> Agreements:
    """The agreements of a validated scenario (its own, or the default two) as arrays."""
    defined = scenario.agreements or default_agreements(scenario)
    ids = tuple(defined)
    actor_ids, issue_ids = tuple(scenario.actors), tuple(scenario.issues)
    actors = [scenario.actors[a] for a in actor_ids]
    everyone = [a.consent_required for a in actors]

    def mask(names: list[str] | None, universe: tuple[str, ...], default: list[bool]) -> list[bool]:
        return default if names is None else [name in names for name in universe]

    consent = np.array([mask(g.consent, actor_ids, everyone) for g in defined.values()], dtype=bool)
    bound = np.array([mask(g.bound, actor_ids, [True] * len(actors)) for g in defined.values()], dtype=bool)
    issues = np.array([mask(g.issues, issue_ids, []) for g in defined.values()], dtype=bool).reshape(
        len(ids), len(issue_ids)
    )
    refused = np.array([[k in a.linkage_refused for k in issue_ids] for a in actors], dtype=bool)
    # An issue is off the table for an agreement when any party whose consent it needs refuses to link it.
    free = issues & ~((consent.astype(np.int64) @ refused.astype(np.int64)) > 0)
    includes = np.eye(len(ids), dtype=bool)
    for g, agreement in enumerate(defined.values()):
        for other in agreement.includes:
            includes[g, ids.index(other)] = True
    # The whole chain: a includes b includes c means signing a signs c, and a falls when c falls.
    for _ in range(len(ids)):
        includes = (includes.astype(np.int64) @ includes.astype(np.int64)) > 0
    stops = np.array([g.stops_fighting for g in defined.values()], dtype=bool)
    talks = [scenario.time.talks_start if g.talks_start is None else g.talks_start for g in defined.values()]
    bare_ceasefires = [g for g in range(len(ids)) if stops[g] and not issues[g].any()]
    negotiable = [g for g in range(len(ids)) if free[g].any()]
    settlement = (
        ids.index("settlement")
        if "settlement" in ids
        else max(negotiable or range(len(ids)), key=lambda g: (issues[g].sum(), -g))
    )
    return Agreements(
        ids=ids,
        names=tuple(g.name or agreement_id.replace("_", " ") for agreement_id, g in defined.items()),
        issues=issues,
        free=free,
        consent=consent,
        bound=bound,
        stops_fighting=stops,
        at_start=np.array([g.in_force_at_start for g in defined.values()], dtype=bool),
        includes=includes,
        talks_start_step=np.array(
            [0 if at is None else scenario.time.first_step_from(at) for at in talks], dtype=np.int64
        ),
        settlement=settlement,
        default_ceasefire=bare_ceasefires[0] if bare_ceasefires else -1,
    )


THREAT_INSTRUMENTS = ("strikes", "safe_zones")  # index in `Threats.instrument`
THREAT_OPTIONS = {"strikes": "strike_regime", "safe_zones": "safe_zones"}
THREAT_POWERS = {"strikes": "strike_power", "safe_zones": "safe_zone_power"}


@dataclass(frozen=True)
class Threats:
    """The scenario's threat objects as arrays (T threats); see `schema.Threat`."""

    ids: tuple[str, ...]
    by: NDArray[np.int64]  # (T,) the threatener
    against: NDArray[np.int64]  # (T,) the target
    instrument: NDArray[np.int64]  # (T,) index into THREAT_INSTRUMENTS
    option: NDArray[np.int64]  # (T,) index into OPTION_NAMES of the option the instrument needs
    ruled_out: NDArray[np.bool_]  # (T,)
    cost: Array  # (T,) utility per step while carried out, beyond the war cost
    audience_cost: Array  # (T,)
    demand_issue: NDArray[np.int64]  # (T,) issue index, -1 if the demand is not an issue level
    demand_level: Array  # (T,)
    demand_at_most: NDArray[np.bool_]  # (T,) the issue must be at most the level (else at least)
    demand_agreement: NDArray[np.int64]  # (T,) agreement index, -1 if the demand is not an agreement
    deadline_step: NDArray[np.int64]  # (T,) -1 without a deadline

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def has_demand(self) -> NDArray[np.bool_]:
        return (self.demand_issue >= 0) | (self.demand_agreement >= 0)


def compile_threats(scenario: Scenario, agreements: Agreements) -> Threats:
    """The threat objects of a validated scenario as arrays."""
    actor_ids, issue_ids = tuple(scenario.actors), tuple(scenario.issues)
    threats = list(scenario.threats.values())

    def column(values: list, dtype: type) -> np.ndarray:
        return np.array(values, dtype=dtype).reshape(len(threats))

    return Threats(
        ids=tuple(scenario.threats),
        by=column([actor_ids.index(t.by) for t in threats], np.int64),
        against=column([actor_ids.index(t.against) for t in threats], np.int64),
        instrument=column([THREAT_INSTRUMENTS.index(t.instrument) for t in threats], np.int64),
        option=column([OPTION_NAMES.index(THREAT_OPTIONS[t.instrument]) for t in threats], np.int64),
        ruled_out=column([t.ruled_out for t in threats], bool),
        cost=column([t.cost for t in threats], np.float64),
        audience_cost=column([t.audience_cost for t in threats], np.float64),
        demand_issue=column(
            [issue_ids.index(t.demand.issue) if t.demand and t.demand.issue else -1 for t in threats], np.int64
        ),
        demand_level=column(
            [t.demand.level if t.demand and t.demand.level is not None else 0.0 for t in threats], float
        ),
        demand_at_most=column([bool(t.demand and t.demand.direction == "at_most") for t in threats], bool),
        demand_agreement=column(
            [agreements.ids.index(t.demand.agreement) if t.demand and t.demand.agreement else -1 for t in threats],
            np.int64,
        ),
        deadline_step=column(
            [-1 if t.deadline is None else scenario.time.step_containing(t.deadline) for t in threats], np.int64
        ),
    )


def apply_threats(scenario: Scenario, options: NDArray[np.bool_], actor_values: dict[str, Array]) -> None:
    """A threat object switches its instrument's option on for the threatener (off if ruled out) and sets the
    instrument's size and the threatener's credibility, weighted by the time to bring the means into place."""
    actor_ids = tuple(scenario.actors)
    tau = scenario.battlefield.credibility_tau_days if scenario.battlefield else 21.0
    for threat in scenario.threats.values():
        i = actor_ids.index(threat.by)
        options[:, i, OPTION_NAMES.index(THREAT_OPTIONS[threat.instrument])] = not threat.ruled_out
        actor_values[THREAT_POWERS[threat.instrument]][:, i] = threat.size
        actor_values["threat_credibility"][:, i] = threat.credibility * np.exp(-threat.redeploy_days / tau)


@dataclass
class Params:
    """Inputs of N runs. Per-actor arrays are (N, A), issue arrays (N, K) or (N, A, K)."""

    actor_ids: tuple[str, ...]
    issue_ids: tuple[str, ...]
    steps: int
    step_days: int
    talks_start_step: int
    start: dt.date
    has_battlefield: bool
    agreements: Agreements
    threats: Threats
    government_side: Array  # (A,) 1.0 where the actor fights for the government side
    opposition_side: Array  # (A,)
    required: NDArray[np.bool_]  # (A,) must consent to some agreement
    patron: NDArray[np.int64]  # (A,) index of the patron who can embargo the actor, -1 if none
    free_issues: NDArray[np.bool_]  # (K,) issues some agreement can bargain over
    options: NDArray[np.bool_]  # (N, A, O)
    events: tuple[CompiledEvent, ...]
    ideal: Array
    salience_raw: Array
    status_quo: Array
    government_victory: Array
    opposition_victory: Array
    actor_values: dict[str, Array] = field(default_factory=dict)  # name -> (N, A)
    battlefield_values: dict[str, Array] = field(default_factory=dict)  # name -> (N,)
    observation_values: dict[str, Array] = field(default_factory=dict)  # "<observation id>.<parameter>" -> (N,)

    @property
    def runs(self) -> int:
        return self.ideal.shape[0]

    def actor(self, name: str) -> Array:
        return self.actor_values[name]

    def battle(self, name: str) -> Array:
        return self.battlefield_values[name]

    @property
    def salience(self) -> Array:
        return normalise_salience(self.salience_raw)

    def utilities_at(self, outcome: Array) -> Array:
        """u_i at an outcome (N, K) for every actor: (N, A)."""
        return utility(outcome, self.ideal, self.salience, self.actor("risk"))


def _get_path(model: object, dotted: str) -> object:
    value = model
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def params_from_scenario(scenario: Scenario, runs: int = 1) -> Params:
    """Arrays for `runs` identical runs of a validated scenario."""
    actor_ids = tuple(scenario.actors)
    issue_ids = tuple(scenario.issues)
    actors = [scenario.actors[a] for a in actor_ids]
    n_actors = len(actor_ids)

    def per_run(row: list[float] | np.ndarray) -> Array:
        return np.broadcast_to(np.asarray(row, dtype=np.float64), (runs, *np.shape(row))).copy()

    ideal = per_run([[a.position.get(k, 0.5) for k in issue_ids] for a in actors])
    salience = per_run([[a.salience.get(k, 0.0) for k in issue_ids] for a in actors])
    status_quo = per_run([scenario.issues[k].status_quo for k in issue_ids])
    battle = scenario.battlefield
    government_victory = per_run(
        [battle.government_victory[k] if battle else scenario.issues[k].status_quo for k in issue_ids]
    )
    opposition_victory = per_run(
        [battle.opposition_victory[k] if battle else scenario.issues[k].status_quo for k in issue_ids]
    )
    agreements = compile_agreements(scenario)
    threats = compile_threats(scenario, agreements)
    options = np.broadcast_to(
        np.array([[getattr(a.options, name) for name in OPTION_NAMES] for a in actors]),
        (runs, n_actors, len(OPTION_NAMES)),
    ).copy()
    actor_values = {name: per_run([float(_get_path(a, path)) for a in actors]) for path, name in ACTOR_FIELDS.items()}
    apply_threats(scenario, options, actor_values)
    battlefield_values = {
        name: np.full(runs, float(getattr(battle, path)) if battle else 0.0)
        for path, name in BATTLEFIELD_FIELDS.items()
    }
    if battle is None:
        battlefield_values["credibility_tau_days"] = np.full(runs, 21.0)
        battlefield_values["control"] = np.full(runs, 0.5)
    index = {a: i for i, a in enumerate(actor_ids)}
    events = tuple(
        CompiledEvent(
            step=scenario.time.step_containing(event.at),
            actor=index[event.actor] if event.actor else -1,
            action=event.action,
            fraction=event.fraction,
            redeploy_days=event.redeploy_days,
            option=OPTION_NAMES.index(event.option) if event.option in OPTION_NAMES else -1,
            label=event.label or event_id.replace("_", " "),
            agreement=(
                agreements.ids.index(event.agreement)
                if event.agreement is not None
                else (agreements.default_ceasefire if event.action == "start_ceasefire" else -1)
            ),
        )
        for event_id, event in sorted(
            scenario.events.items(), key=lambda item: (scenario.time.step_containing(item[1].at), item[0])
        )
    )
    return Params(
        actor_ids=actor_ids,
        issue_ids=issue_ids,
        steps=scenario.time.steps,
        talks_start_step=(
            scenario.time.first_step_from(scenario.time.talks_start) if scenario.time.talks_start is not None else 0
        ),
        step_days=scenario.time.step_days,
        start=scenario.time.start,
        has_battlefield=battle is not None,
        agreements=agreements,
        threats=threats,
        government_side=np.array([1.0 if a.side == "government" else 0.0 for a in actors]),
        opposition_side=np.array([1.0 if a.side == "opposition" else 0.0 for a in actors]),
        required=agreements.consent.any(axis=0),
        patron=np.array([index[a.patron] if a.patron else -1 for a in actors], dtype=np.int64),
        free_issues=agreements.free.any(axis=0),
        options=options,
        events=events,
        ideal=ideal,
        salience_raw=salience,
        status_quo=status_quo,
        government_victory=government_victory,
        opposition_victory=opposition_victory,
        actor_values=actor_values,
        battlefield_values=battlefield_values,
        observation_values=compile_observation_values(scenario, runs),
    )


# The numeric parameters of an observation model (`schema.ObservationModel`), uncertain as
# observations.<id>.model.<parameter>.
OBSERVATION_FIELDS = ("scale", "dispersion", "baseline")


def compile_observation_values(scenario: Scenario, runs: int) -> dict[str, Array]:
    """The observation models' parameters for `runs` runs: "<observation id>.<parameter>" -> (N,)."""
    return {
        f"{observation_id}.{name}": np.full(runs, float(getattr(observation.model, name)))
        for observation_id, observation in (getattr(scenario, "observations", None) or {}).items()
        for name in OBSERVATION_FIELDS
    }


def field_target(params: Params, dotted: str) -> tuple[Array, tuple[slice | int, ...]] | None:
    """The array and index that a scenario field path maps to, or None if it is not numeric input."""
    parts = dotted.split(".")
    if parts[0] == "actors" and len(parts) >= 3 and parts[1] in params.actor_ids:
        actor = params.actor_ids.index(parts[1])
        rest = ".".join(parts[2:])
        if rest in ACTOR_FIELDS:
            return params.actor_values[ACTOR_FIELDS[rest]], (slice(None), actor)
        if len(parts) == 4 and parts[2] in ("position", "salience") and parts[3] in params.issue_ids:
            array = params.ideal if parts[2] == "position" else params.salience_raw
            return array, (slice(None), actor, params.issue_ids.index(parts[3]))
    if parts[0] == "battlefield" and len(parts) == 2 and parts[1] in BATTLEFIELD_FIELDS:
        return params.battlefield_values[BATTLEFIELD_FIELDS[parts[1]]], (slice(None),)
    victory = parts[1] if len(parts) == 3 and parts[0] == "battlefield" else None
    if victory in ("government_victory", "opposition_victory") and parts[2] in params.issue_ids:
        array = params.government_victory if victory == "government_victory" else params.opposition_victory
        return array, (slice(None), params.issue_ids.index(parts[2]))
    if parts[0] == "issues" and len(parts) == 3 and parts[1] in params.issue_ids and parts[2] == "status_quo":
        return params.status_quo, (slice(None), params.issue_ids.index(parts[1]))
    if parts[0] == "observations" and len(parts) == 4 and parts[2] == "model":
        key = f"{parts[1]}.{parts[3]}"
        if key in params.observation_values:
            return params.observation_values[key], (slice(None),)
    return None


def set_field(params: Params, dotted: str, values: Array) -> None:
    """Override one numeric field for every run: values has shape (N,)."""
    target = field_target(params, dotted)
    if target is None:
        raise KeyError(dotted)
    array, index = target
    array[index] = values
