"""Why a run's deal landed where it did, and why each agreement fell: summary.json's `why`.

For the moments that decide a run (each signing of the settlement, each step an agreement fell, and the
last step when no settlement is in force at the end), the numbers the engine used that step
(`sim.model.engine.Assessment` and `Explanation`, kept in `NegotiationModel.history`), nothing computed
another way:

- the bargain: each signatory's bargaining weight w_i = capability / rho_i(t) with its impatience
  rho_i = -ln(delta_i) + sigma_i t split into its patience and its negotiator's stake, its alternative, its
  demand, its reservation value r_i = d_i + m_i - sigma_i t, the offer's value to it and its aspiration;
- the terms issue by issue: where the offer sits, the zone of agreement along that issue (the others held
  at the offer), which party's reservation bounds each end, and who would refuse each party's own ideal;
- each actor's alternative in its parts: the war's projected odds, its value if either side wins, the cost
  of fighting, what withdrawn forces that can return add to it, and how far each other actor's instruments
  lower it (`coercive_by_instrument`);
- for a fall: each bound party's value of keeping the agreement against breaking it, and its chance of
  breaking it that step;
- which constraint binds (`binding`).

The zone along an issue is read on a grid of `GRID` points with the model's utility function
(`sim.mechanisms.utility.utility`); everything else is the engine's own arrays, run 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.mechanisms.leverage import INSTRUMENTS, REMOVED_INSTRUMENTS
from sim.mechanisms.utility import utility

GRID = 2001  # points on [0, 1] along which the zone of agreement is read: steps of 0.0005
MAX_MOMENTS = 6  # the first moment and the last MAX_MOMENTS - 1 are kept
TINY = 5e-5  # leverage and effects below this are left out (as in the report's leverage figure)
ON_EDGE = 2e-3  # an offer this close to a zone's edge or an ideal point sits on it


def _number(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _step_table(timeseries: pd.DataFrame) -> pd.DataFrame:
    return timeseries.drop_duplicates("step").sort_values("step").set_index("step")


def moments(params: Any, timeseries: pd.DataFrame) -> tuple[list[dict[str, Any]], int]:
    """The steps to explain, in order: (step, kind, agreements) with kind "deal" (the settlement signed by its
    parties), "collapse" (agreements fell), "no deal" (the last step, no settlement in force) or "in force"
    (step 0, for a settlement in force from the start that never fell); and how many were left out (beyond
    `MAX_MOMENTS`)."""
    agreements = params.agreements
    steps = _step_table(timeseries)
    settlement = agreements.ids[agreements.settlement]
    reported = [agreements.ids[g] for g in agreements.reported(params.has_battlefield)]
    found: list[dict[str, Any]] = []
    for step, row in steps.iterrows():
        fell = [g for g in reported if bool(row[f"{g}_collapsed"])]
        if fell:
            found.append({"step": int(step), "kind": "collapse", "agreements": fell})
        signed_at_start = int(step) == 0 and bool(agreements.in_force_at_start[agreements.settlement])
        if bool(row[f"{settlement}_signed"]) and not signed_at_start:
            found.append({"step": int(step), "kind": "deal", "agreements": [settlement]})
    last = int(steps.index.max())
    # No settlement at the end, and it did not just fall in the last step (that fall is explained already).
    if not bool(steps.loc[last, f"{settlement}_in_force"]) and not bool(steps.loc[last, f"{settlement}_collapsed"]):
        found.append({"step": last, "kind": "no deal", "agreements": [settlement]})
    elif not any(m["kind"] == "deal" for m in found):  # in force from the start and never fell
        found.insert(0, {"step": 0, "kind": "in force", "agreements": [settlement]})
    omitted = max(len(found) - MAX_MOMENTS, 0)
    if omitted:
        found = found[:1] + found[-(MAX_MOMENTS - 1) :]
    return found, omitted


def _alternatives(params: Any, seen: Any, explained: Any, g: int) -> dict[str, Any]:
    """Each actor's alternative to a deal in its parts, and what agreement g's terms on offer are worth to it."""
    ids = params.actor_ids
    withdrawn = explained.air_withdrawn[0]
    withdrawing = [
        {"actor": ids[i], "force": float(withdrawn[i]), "days": float(explained.redeploy_days[0, i])}
        for i in np.flatnonzero(withdrawn > 0)
    ]
    for item in withdrawing:
        item["weight"] = float(seen.credibility[0, ids.index(item["actor"])])
    result = {}
    for j, actor_id in enumerate(ids):
        lowered = [
            {"by": ids[i], "instrument": instrument, "amount": float(seen.coercive_by_instrument[0, i, j, m])}
            for i in range(len(ids))
            for m, instrument in enumerate(INSTRUMENTS)
            if i != j and instrument in REMOVED_INSTRUMENTS and seen.coercive_by_instrument[0, i, j, m] > TINY
        ]
        escalation, support = INSTRUMENTS.index("escalation"), INSTRUMENTS.index("support")
        result[actor_id] = {
            "terms_value": float(seen.utility_by_agreement[0, g, j]),
            "alternative": float(seen.batna[0, j]),
            "odds": _number(seen.projected_win_probability[0, j]),
            "if_government_wins": float(explained.utility_if_government_wins[0, j]),
            "if_opposition_wins": float(explained.utility_if_opposition_wins[0, j]),
            "status_quo_value": float(explained.status_quo_value[0, j]),
            "war_cost": float(params.actor("war_cost")[0, j]),
            "involvement": float(seen.involvement[0, j]),
            "fighting_cost": float(seen.fighting_cost[0, j]),
            "withdrawn": {
                "by": withdrawing,
                "effect": float(seen.batna[0, j] - explained.batna_without_withdrawn[0, j]),
                "effect_if_present": float(
                    explained.batna_withdrawn_present[0, j] - explained.batna_without_withdrawn[0, j]
                ),
                "odds_without": _number(explained.win_probability_without_withdrawn[0, j]),
            }
            if withdrawing
            else None,
            "lowered_by": sorted(lowered, key=lambda item: -item["amount"]),
            "escalation_by": [
                {"by": ids[i], "amount": float(seen.coercive_by_instrument[0, i, j, escalation])}
                for i in range(len(ids))
                if i != j and seen.coercive_by_instrument[0, i, j, escalation] > TINY
            ],
            "supported_by": [
                {"by": ids[i], "amount": float(seen.coercive_by_instrument[0, i, j, support])}
                for i in range(len(ids))
                if i != j and seen.coercive_by_instrument[0, i, j, support] > TINY
            ],
        }
    return result


def _bargain(params: Any, seen: Any, explained: Any, before: Any, g: int) -> dict[str, Any]:
    """Each party whose consent agreement g needs: its weight, reservation and the offer's value to it."""
    ids = params.actor_ids
    parties = np.flatnonzero(params.agreements.consent[g])
    weights = seen.weights[0]
    total = float(weights[parties].sum())
    patience = params.actor("patience")[0]
    result = {}
    for i in parties:
        reservation = float(seen.reservation_by_agreement[0, g, i])
        value = float(seen.utility_by_agreement[0, g, i])
        result[ids[i]] = {
            "weight": float(weights[i]),
            "weight_share": float(weights[i]) / total if total > 0 else None,
            "capability": float(params.actor("capability")[0, i]),
            "patience": float(patience[i]),
            "impatience": float(explained.impatience[0, i]),
            "impatience_from_patience": float(-np.log(patience[i])),
            "stake": float(explained.stake[0, i]),
            # The reservation's base: the war for an agreement that stops it, else the outcome without the agreement.
            "alternative": reservation - float(explained.demand[0, i]) + float(explained.stake[0, i]),
            "demand": float(explained.demand[0, i]),
            "reservation": reservation,
            "offer_value": value,
            "slack": value - reservation,
            "aspiration": float(explained.aspiration[0, g, i]),
            "accepts": bool(explained.accept[0, g, i]),
            "accepted_before": bool(before.accept[0, g, i]) if before is not None else None,
        }
    return result


def _issues(scenario: Any, params: Any, seen: Any, g: int) -> dict[str, Any]:
    """Agreement g's terms issue by issue: the offer, the zone along the issue (the other issues held at the
    offer) and which party bounds each end, and who would refuse each party's ideal."""
    ids, agreements = params.actor_ids, params.agreements
    parties = np.flatnonzero(agreements.consent[g])
    ideal, salience, risk = params.ideal[0][parties], params.salience[0][parties], params.actor("risk")[0][parties]
    reservation = seen.reservation_by_agreement[0, g, parties]
    offer = seen.proposal_by_agreement[0, g]
    grid = np.linspace(0.0, 1.0, GRID)
    result = {}
    for k, issue_id in enumerate(params.issue_ids):
        if not agreements.issues[g, k]:
            continue
        refusing = [ids[i] for i in parties if issue_id in scenario.actors[ids[i]].linkage_refused]
        entry: dict[str, Any] = {
            "offer": float(offer[k]),
            "free": bool(agreements.free[g, k]),
            "refused_by": refusing,
            "ideals": {ids[i]: float(params.ideal[0, i, k]) for i in parties},
            "zone": None,
            "outside": [],
        }
        if entry["free"]:
            line = np.repeat(offer[None, :], GRID, axis=0)
            line[:, k] = grid
            ok = utility(line, ideal, salience, risk) >= reservation  # (GRID, parties)
            everyone = ok.all(axis=1)
            if everyone.any():
                low, high = grid[everyone][0], grid[everyone][-1]
                own_low = [grid[ok[:, p]][0] if ok[:, p].any() else 1.0 for p in range(len(parties))]
                own_high = [grid[ok[:, p]][-1] if ok[:, p].any() else 0.0 for p in range(len(parties))]
                entry["zone"] = {
                    "low": float(low),
                    "high": float(high),
                    "low_set_by": [ids[parties[p]] for p in range(len(parties)) if low > 0 and own_low[p] == low],
                    "high_set_by": [ids[parties[p]] for p in range(len(parties)) if high < 1 and own_high[p] == high],
                }
            for p, i in enumerate(parties):
                point = offer.copy()
                point[k] = params.ideal[0, i, k]
                values = utility(point, ideal, salience, risk)
                refuse = [
                    {"actor": ids[parties[q]], "value": float(values[q]), "reservation": float(reservation[q])}
                    for q in range(len(parties))
                    if q != p and values[q] < reservation[q]
                ]
                if refuse:
                    entry["outside"].append(
                        {"party": ids[i], "ideal": float(params.ideal[0, i, k]), "refused_by": refuse}
                    )
        entry["decided"] = _decided(entry)
        result[issue_id] = entry
    return result


def _decided(entry: dict[str, Any]) -> dict[str, Any]:
    """What sets the offer on one issue: held off the table, a party's ideal, a zone's edge (a party's
    reservation), or the weighted balance inside the zone (or, with no zone, the best compromise)."""
    x = entry["offer"]
    if not entry["free"]:
        return {"by": "held", "actors": entry["refused_by"]}
    at_ideal = [a for a, p in entry["ideals"].items() if abs(p - x) <= ON_EDGE]
    zone = entry["zone"]
    if zone is None:
        return {"by": "compromise", "actors": at_ideal}
    if abs(x - zone["low"]) <= ON_EDGE and zone["low_set_by"]:
        return {"by": "reservation", "actors": zone["low_set_by"]}
    if abs(x - zone["high"]) <= ON_EDGE and zone["high_set_by"]:
        return {"by": "reservation", "actors": zone["high_set_by"]}
    if at_ideal:
        return {"by": "ideal", "actors": at_ideal}
    return {"by": "balance", "actors": []}


def _keeping(params: Any, seen: Any, explained: Any, fell: list[int]) -> dict[str, Any]:
    """Each party bound by the agreements that fell: keeping them against breaking them, that step."""
    ids, agreements = params.actor_ids, params.agreements
    bound = agreements.bound[fell].any(axis=0)
    stops = bool(agreements.stops_fighting[fell].any())
    cost = params.actor("defection_cost")[0]
    result = {}
    for i in np.flatnonzero(bound):
        if stops:
            keep, breaking = float(explained.keep_value[0, i]), float(seen.break_value[0, i])
            probability = float(explained.breaking_probability[0, i])
        else:
            keep = float(seen.utility_of_offer[0, i])
            breaking = max(float(seen.breaking_value[0, g, i]) for g in fell)
            probability = max(float(explained.break_probability[0, g, i]) for g in fell)
        result[ids[i]] = {
            "keep": keep,
            "break": breaking,
            "defection_cost": float(cost[i]),
            "gain": max(breaking - float(cost[i]) - keep, 0.0),
            "probability": probability,
            "restraint": float(explained.restraint[0, i]) if stops else 0.0,
        }
    return result


def _binding(kind: str, moment: dict[str, Any], step: int, talks_step: int) -> dict[str, Any]:
    """Which constraint decided the moment, as {"kind", "actors"}."""
    if kind == "collapse":
        keeping = moment["keeping"]
        tempted = sorted(
            (a for a, v in keeping.items() if v["probability"] > 0), key=lambda a: -keeping[a]["probability"]
        )
        return {"kind": "breaking", "actors": tempted}
    bargain = moment["bargain"]
    if kind == "in force":
        return {"kind": "in force", "actors": []}
    if kind == "deal":
        on_reservation = [a for a, v in bargain.items() if v["slack"] <= ON_EDGE]
        last = [a for a, v in bargain.items() if v["accepts"] and v["accepted_before"] is False]
        if on_reservation:
            return {"kind": "reservation", "actors": on_reservation, "last_to_accept": last}
        return {"kind": "balance", "actors": [], "last_to_accept": last}
    if step < talks_step:
        return {"kind": "talks closed", "actors": []}
    if not moment["zone"]:
        return {"kind": "no zone", "actors": [a for a, v in bargain.items() if v["slack"] < 0]}
    return {"kind": "aspiration", "actors": [a for a, v in bargain.items() if not v["accepts"]]}


def why_summary(scenario: Any, params: Any, history: list[tuple[Any, Any]], timeseries: pd.DataFrame) -> dict[str, Any]:
    """summary.json `why`: the moments that decide the run (`moments`), each explained with the engine's numbers."""
    agreements = params.agreements
    chosen, omitted = moments(params, timeseries)
    steps = _step_table(timeseries)
    explained_moments = []
    for chosen_moment in chosen:
        step, kind = chosen_moment["step"], chosen_moment["kind"]
        seen, explained = history[step]
        before = history[step - 1][1] if step > 0 else None
        g = agreements.ids.index(chosen_moment["agreements"][0])
        broken_by = steps.loc[step, "broken_by"] if "broken_by" in steps else ""
        moment: dict[str, Any] = {
            "step": step,
            "date": scenario.time.date_of(step).isoformat(),
            "kind": kind,
            "agreements": chosen_moment["agreements"],
            "broken_by": (broken_by or None) if kind == "collapse" else None,
            "terms": {
                issue: float(seen.proposal_by_agreement[0, g, k])
                for k, issue in enumerate(params.issue_ids)
                if agreements.issues[g, k]
            },
            "zone": bool(seen.zone_by_agreement[0, g]),
            "talks_open_step": int(agreements.talks_start_step[g]),
            "bargain": _bargain(params, seen, explained, before, g),
            "issues": _issues(scenario, params, seen, g),
            "alternatives": _alternatives(params, seen, explained, g),
        }
        if kind == "collapse":
            fell = [agreements.ids.index(name) for name in chosen_moment["agreements"]]
            moment["keeping"] = _keeping(params, seen, explained, fell)
        moment["binding"] = _binding(kind, moment, step, int(agreements.talks_start_step[g]))
        explained_moments.append(moment)
    return {"moments": explained_moments, "omitted": omitted}


def details_table(params: Any, history: list[tuple[Any, Any]]) -> pd.DataFrame:
    """One row per step and actor with the parts of the engine's state the time series does not carry: whether
    some agreement was still being bargained over (`talks_on`), the negotiator's stake and impatience, the cost
    of fighting, the alternative without and with withdrawn forces, keeping the ceasefire against breaking it,
    and the arms each supplier delivers or is held back from delivering by its patron's embargo (which each
    patron enforces)."""
    ids = params.actor_ids
    columns: dict[str, list[Any]] = {}

    def add(name: str, values: Any) -> None:
        columns.setdefault(name, []).extend(np.asarray(values).tolist())

    negotiable = params.agreements.negotiable
    for step, (seen, explained) in enumerate(history):
        add("step", [step] * len(ids))
        add("actor", list(ids))
        # Some agreement is still being bargained over: inducement is measured only then.
        add("talks_on", [bool((~explained.in_force[0] & negotiable).any())] * len(ids))
        add("stake", explained.stake[0])
        add("impatience", explained.impatience[0])
        add("fighting_cost", seen.fighting_cost[0])
        add("batna_without_withdrawn", explained.batna_without_withdrawn[0])
        add("batna_withdrawn_present", explained.batna_withdrawn_present[0])
        add("keep_value", explained.keep_value[0])
        add("break_value", seen.break_value[0])
        add("breaking_probability", explained.breaking_probability[0])
        add("embargo", explained.embargo[0])
        add("arms_delivered", explained.arms_delivered[0])
        add("arms_held_back", explained.arms_held_back[0])
    return pd.DataFrame(columns)
