"""What a run produced: the summary (the output contract), the time series and the outcome in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim import __version__
from sim.mechanisms.leverage import INSTRUMENTS
from sim.model.model import NegotiationModel
from sim.model.why import details_table, why_summary
from sim.scenario.loader import LoadedScenario


@dataclass
class RunResult:
    """One finished run: its summary, its time series, and what the report needs besides."""

    loaded: LoadedScenario
    seed: int
    summary: dict[str, Any]
    timeseries: pd.DataFrame
    event_marks: list[tuple[int, str, str]]  # (step, date, label)
    # One row per step and actor: what the engine computed beside the time series (`why.details_table`).
    details: pd.DataFrame | None = None

    @property
    def scenario(self):
        return self.loaded.scenario


def describe_position(scenario, position: dict[str, float]) -> str:
    """A deal in words: each issue's nearest named level (or its value and the scale's ends)."""
    parts = []
    for issue_id, value in position.items():
        issue = scenario.issues[issue_id]
        if issue.levels:
            label, _ = min(issue.levels.items(), key=lambda item: (abs(item[1] - value), item[1]))
            parts.append(label)
        else:
            parts.append(f"{issue_id.replace('_', ' ')} at {value:.2f} (0 = {issue.low}, 1 = {issue.high})")
    return "; ".join(parts)


def outcome_sentence(summary: dict[str, Any], scenario) -> str:
    """The outcome in one sentence, for report headers and indexes: when a deal came and what it says,
    and what became of the ceasefire, in the order they happened."""
    unit = "day" if scenario.time.step == "day" else "week"

    def when(step: int, date: str) -> str:
        return f"in the first {unit} ({date})" if step == 0 else f"in {unit} {step} ({date})"

    def span(count: int) -> str:
        return f"all {count} {unit}s" if count != 1 else f"the one {unit}"

    deal, ceasefire, steps = summary["deal"], summary["ceasefire"], summary["steps"]
    settlement = summary.get("agreements", {}).get(deal.get("agreement", "settlement"), {})
    if deal["reached"] and settlement.get("collapsed_step") is not None:
        first = when(settlement["step"], settlement["date"])
        broken = when(settlement["collapsed_step"], settlement["collapsed_date"])
        who = settlement["broken_by"] or "a party"
        names = {actor_id: scenario.actors[actor_id].name for actor_id in scenario.actors}
        text = f"A deal was reached {first}; {names.get(who, who)} broke it {broken}"
        if settlement["held"]:
            return (
                text
                + f", and a new one was reached {when(deal['step'], deal['date'])}: "
                + (describe_position(scenario, deal["position"]) + ".")
            )
        return text + ", and the war went on."
    collapsed, held = ceasefire["collapsed_step"], ceasefire["held_steps"]
    has_ceasefire = scenario.battlefield is not None
    if deal["reached"]:
        terms = describe_position(scenario, deal["position"])
        reached = when(deal["step"], deal["date"])
        if not has_ceasefire or (collapsed is None and held == 0):
            return f"A deal was reached {reached}: {terms}."
        if collapsed is None:
            kept = "throughout" if held >= steps else f"for {span(held)} it was in force"
            return f"A deal was reached {reached} and the ceasefire held {kept}: {terms}."
        fell = when(collapsed, ceasefire["collapsed_date"])
        if collapsed <= deal["step"]:
            return f"The ceasefire collapsed {fell}, yet a deal was reached {reached}: {terms}."
        return f"A deal was reached {reached}: {terms}; the ceasefire collapsed {fell}."
    text = f"No deal was reached in {steps} {unit}{'s' if steps != 1 else ''}"
    if not has_ceasefire:
        return text + "."
    if collapsed is not None:
        return text + f", and the ceasefire collapsed {when(collapsed, ceasefire['collapsed_date'])}."
    if held > 0:
        return text + (
            ", but the ceasefire held throughout."
            if held >= steps
            else f", but the ceasefire held for {span(held)} it was in force."
        )
    return text + ", and there was no ceasefire."


def agreements_summary(scenario, params, state) -> dict[str, Any]:
    """summary.json `agreements`: the fate of each agreement in run 0 of `state` (a bare ceasefire only
    where there is a war to cease). `terms` are the last terms signed, on the agreement's own issues."""
    ids = params.actor_ids
    agreements = params.agreements

    def date(step: int) -> str | None:
        return scenario.time.date_of(step).isoformat() if step >= 0 else None

    result = {}
    for g in agreements.reported(params.has_battlefield):
        agreement_id = agreements.ids[g]
        first, collapsed, breaker = (int(a[0, g]) for a in (state.signed_first, state.fell_first, state.fell_by))
        terms = {
            issue: float(state.terms[0, g, k]) for k, issue in enumerate(params.issue_ids) if agreements.issues[g, k]
        }
        result[agreement_id] = {
            "name": agreements.names[g],
            "reached": first >= 0,
            "step": first if first >= 0 else None,
            "date": date(first),
            "last_signed_step": int(state.signed_last[0, g]) if first >= 0 else None,
            "terms": terms if first >= 0 else None,
            "held": bool(state.in_force[0, g]),
            "collapsed_step": collapsed if collapsed >= 0 else None,
            "collapsed_date": date(collapsed),
            "broken_by": ids[breaker] if breaker >= 0 else None,
        }
    return result


def threats_summary(scenario, params, state) -> dict[str, Any]:
    """summary.json `threats`: each threat object's fate in run 0 of `state`: its status at the end
    (pending, lapsed: dropped once its demand was met, carried out, bluff called), when it last changed, and
    when it was carried out if it was."""
    from sim.model.engine import THREAT_STATUS

    threats, ids = params.threats, params.actor_ids
    result = {}
    for t, threat_id in enumerate(threats.ids):
        step = int(state.threat_resolved_step[0, t])
        result[threat_id] = {
            "by": ids[threats.by[t]],
            "against": ids[threats.against[t]],
            "instrument": scenario.threats[threat_id].instrument,
            "status": THREAT_STATUS[int(state.threat_status[0, t])],
            "step": step if step >= 0 else None,
            "date": scenario.time.date_of(step).isoformat() if step >= 0 else None,
            "carried_out_step": carried if (carried := int(state.threat_carried_step[0, t])) >= 0 else None,
        }
    return result


def _clean(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def build_result(loaded: LoadedScenario, model: NegotiationModel) -> RunResult:
    """Collect a finished model into the output contract."""
    params, state = model.params, model.state
    scenario = loaded.scenario
    ids, issues = params.actor_ids, params.issue_ids
    last = model.seen
    deal_reached = bool(state.settlement_reached[0])
    deal_step = int(state.deal_step[0]) if deal_reached else None
    position = {k: float(state.deal_outcome[0, j]) for j, k in enumerate(issues)} if deal_reached else None
    utilities = params.utilities_at(state.deal_outcome)[0] if deal_reached else None
    from sim.model.engine import final_distances

    distances = final_distances(params, state)[0] if deal_reached else None
    collapsed = int(state.collapsed_step[0]) if state.collapsed_step[0] >= 0 else None
    leverage_final = last.coercive[0] + last.inducement[0]
    summary: dict[str, Any] = {
        "scenario": {
            "name": scenario.name,
            **loaded.provenance(),
            "description": scenario.description,
            "sources": list(scenario.sources),
        },
        "seed": model.seed,
        "steps": params.steps,
        "step_length": scenario.time.step,
        "start": scenario.time.start.isoformat(),
        "end": scenario.time.date_of(params.steps - 1).isoformat(),
        "deal": {
            "agreement": params.agreements.ids[params.agreements.settlement],
            "reached": deal_reached,
            "step": deal_step,
            "date": scenario.time.date_of(deal_step).isoformat() if deal_reached else None,
            "position": position,
            "in_words": describe_position(scenario, position) if position else None,
        },
        "actors": {
            actor_id: {
                "name": scenario.actors[actor_id].name,
                "batna": float(last.batna[0, i]),
                "utility_of_deal": float(utilities[i]) if deal_reached else None,
                "distance_from_ideal": float(distances[i]) if deal_reached else None,
                "consent_required": bool(params.required[i]),
            }
            for i, actor_id in enumerate(ids)
        },
        "ceasefire": {
            "held_steps": int(state.held_steps[0]),
            "collapsed_step": collapsed,
            "collapsed_date": scenario.time.date_of(collapsed).isoformat() if collapsed is not None else None,
            "in_force_at_end": bool(state.ceasefire[0]),
        },
        "leverage": {
            i_id: {j_id: float(leverage_final[i, j]) for j, j_id in enumerate(ids)} for i, i_id in enumerate(ids)
        },
        "leverage_coercive": {
            i_id: {j_id: float(last.coercive[0, i, j]) for j, j_id in enumerate(ids)} for i, i_id in enumerate(ids)
        },
        "leverage_inducement": {
            i_id: {j_id: float(last.inducement[0, i, j]) for j, j_id in enumerate(ids)} for i, i_id in enumerate(ids)
        },
        "control": _clean(float(state.control[0])) if params.has_battlefield else None,
        "version": __version__,
    }
    summary["leverage_by_instrument"] = {
        "coercive": {
            i_id: {
                j_id: {
                    instrument: float(last.coercive_by_instrument[0, i, j, m])
                    for m, instrument in enumerate(INSTRUMENTS)
                }
                for j, j_id in enumerate(ids)
                if j != i
            }
            for i, i_id in enumerate(ids)
        },
        "inducement": {
            i_id: {j_id: {"concession": float(last.inducement[0, i, j])} for j, j_id in enumerate(ids) if j != i}
            for i, i_id in enumerate(ids)
        },
    }
    summary["agreements"] = agreements_summary(scenario, params, state)
    summary["threats"] = threats_summary(scenario, params, state)
    summary["outcome"] = outcome_sentence(summary, scenario)
    timeseries = _timeseries(model)
    summary["why"] = why_summary(scenario, params, model.history, timeseries)
    marks = [(event.step, scenario.time.date_of(event.step).isoformat(), event.label) for event in params.events]
    if deal_reached:
        marks.append((deal_step, scenario.time.date_of(deal_step).isoformat(), "deal reached"))
    if collapsed is not None:
        marks.append((collapsed, scenario.time.date_of(collapsed).isoformat(), "ceasefire collapses"))
    return RunResult(
        loaded=loaded,
        seed=model.seed,
        summary=summary,
        timeseries=timeseries,
        event_marks=sorted(marks),
        details=details_table(params, model.history),
    )


def agreement_events(in_force: pd.DataFrame, breach_probability: pd.DataFrame) -> pd.DataFrame:
    """Per step and agreement: in force (at the end of the step); signed (in force at the end of the
    step, not at the end of the one before); violated (in force at the end of the step before, and some
    bound party would gain by breaking it: a positive probability that it falls); collapsed (in force at
    the end of the step before, not at the end of this one). Both frames have one column per agreement
    id; an agreement in force from the start counts as signed in step 0, and one that falls and is
    signed again within one step shows neither."""
    frame = {}
    for name in in_force.columns:
        now = in_force[name].astype(bool)
        before = now.shift(1, fill_value=False)
        frame[f"{name}_in_force"] = now
        frame[f"{name}_signed"] = now & ~before
        frame[f"{name}_collapsed"] = before & ~now
        frame[f"{name}_violated"] = before & (breach_probability[name] > 0)
    return pd.DataFrame(frame, index=in_force.index)


def _timeseries(model: NegotiationModel) -> pd.DataFrame:
    """One row per step and actor: the actor's variables, then the step's (model) variables."""
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    steps = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    steps = steps.rename(columns={"step_index": "step"})
    ids = model.params.agreements.ids
    in_force = pd.DataFrame({g: steps.pop(f"{g}_in_force") for g in ids})
    breach = pd.DataFrame({g: steps.pop(f"{g}_breach_probability") for g in ids})
    steps = steps.join(agreement_events(in_force, breach))
    agents["step"] = agents["Step"].astype(int) - 1
    agents = agents.drop(columns=["Step", "AgentID"])
    table = agents.merge(steps, on="step", how="left")
    leading = ["step", "date", "actor"]
    return table[leading + [c for c in table.columns if c not in leading]]


def run_scenario(loaded: LoadedScenario, seed: int | None = None) -> RunResult:
    """Run a loaded scenario once (its own seed unless `seed` is given)."""
    model = NegotiationModel(loaded.scenario, seed=seed).run()
    return build_result(loaded, model)
