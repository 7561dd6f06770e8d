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
from sim.scenario.schema import Options, Scenario

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
    ceasefire_at_start: bool
    government_side: Array  # (A,) 1.0 where the actor fights for the government side
    opposition_side: Array  # (A,)
    required: NDArray[np.bool_]  # (A,)
    patron: NDArray[np.int64]  # (A,) index of the patron who can embargo the actor, -1 if none
    free_issues: NDArray[np.bool_]  # (K,) issues every required actor agrees to bargain over
    options: NDArray[np.bool_]  # (N, A, O)
    events: tuple[CompiledEvent, ...]
    ideal: Array
    salience_raw: Array
    status_quo: Array
    government_victory: Array
    opposition_victory: Array
    actor_values: dict[str, Array] = field(default_factory=dict)  # name -> (N, A)
    battlefield_values: dict[str, Array] = field(default_factory=dict)  # name -> (N,)

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
    required = np.array([a.consent_required for a in actors])
    refused = {issue for a in actors if a.consent_required for issue in a.linkage_refused}
    free_issues = np.array([k not in refused for k in issue_ids])
    options = np.broadcast_to(
        np.array([[getattr(a.options, name) for name in OPTION_NAMES] for a in actors]),
        (runs, n_actors, len(OPTION_NAMES)),
    ).copy()
    actor_values = {name: per_run([float(_get_path(a, path)) for a in actors]) for path, name in ACTOR_FIELDS.items()}
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
        ceasefire_at_start=bool(battle.ceasefire) if battle else False,
        government_side=np.array([1.0 if a.side == "government" else 0.0 for a in actors]),
        opposition_side=np.array([1.0 if a.side == "opposition" else 0.0 for a in actors]),
        required=required,
        patron=np.array([index[a.patron] if a.patron else -1 for a in actors], dtype=np.int64),
        free_issues=free_issues,
        options=options,
        events=events,
        ideal=ideal,
        salience_raw=salience,
        status_quo=status_quo,
        government_victory=government_victory,
        opposition_victory=opposition_victory,
        actor_values=actor_values,
        battlefield_values=battlefield_values,
    )


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
    return None


def set_field(params: Params, dotted: str, values: Array) -> None:
    """Override one numeric field for every run: values has shape (N,)."""
    target = field_target(params, dotted)
    if target is None:
        raise KeyError(dotted)
    array, index = target
    array[index] = values
