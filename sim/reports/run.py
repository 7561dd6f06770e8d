"""The report of a single run: what happened, and why, week by week.

The page (`sim.reports.page.render_page`) holds the outcome in one sentence, Singh's test (each
actor's deal value against its alternative), control of territory, leverage, the issue space and the
proposals, and the table of the scenario's inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from sim.mechanisms.leverage import INSTRUMENTS
from sim.reports.figures import (
    DealComparison,
    Timeline,
    TimeMark,
    arms_figure,
    coercive_by_instrument_arrays,
    colour_of,
    control_figure,
    deal_comparison_at,
    deal_gain_figure,
    deal_value_figure,
    esc,
    issue_space_figure,
    leverage_arrays,
    leverage_over_time_figure,
    projected_odds,
    proposals_figure,
    table_leverage_figure,
    weights_and_stake_figure,
)
from sim.reports.page import Section, render_page
from sim.reports.sources import sources_html
from sim.reports.why import why_html, why_title
from sim.scenario.params import THREAT_INSTRUMENTS, THREAT_OPTIONS, THREAT_POWERS, params_from_scenario

if TYPE_CHECKING:  # annotations only: the report module need not load the Mesa model
    from sim.model.results import RunResult


def _step_word(result: RunResult) -> str:
    return "week" if result.scenario.time.step == "week" else "day"


def run_marks(result: RunResult) -> list[TimeMark]:
    """The scenario's events (numbered), the deal, a ceasefire collapse and the fate of each threat, in date
    order."""
    scenario = result.scenario
    summary = result.summary
    params = params_from_scenario(scenario)
    marks = [
        TimeMark(event.step, scenario.time.date_of(event.step).isoformat(), event.label, "event", number)
        for number, event in enumerate(sorted(params.events, key=lambda e: e.step), start=1)
        if 0 <= event.step < params.steps
    ]
    settlement = summary.get("agreements", {}).get(summary["deal"].get("agreement", "settlement"), {})
    if summary["deal"]["reached"]:
        first_step, first_date = settlement.get("step", summary["deal"]["step"]), settlement.get("date")
        marks.append(TimeMark(first_step, first_date or summary["deal"]["date"], "deal reached", "deal"))
        if settlement.get("collapsed_step") is not None:
            breaker = settlement["broken_by"]
            broken = f"{scenario.actors[breaker].name} breaks the deal" if breaker else "the deal falls"
            marks.append(TimeMark(settlement["collapsed_step"], settlement["collapsed_date"], broken, "collapse"))
        if summary["deal"]["step"] != first_step:
            marks.append(TimeMark(summary["deal"]["step"], summary["deal"]["date"], "a new deal reached", "deal"))
    if summary["ceasefire"]["collapsed_step"] is not None and summary["ceasefire"]["collapsed_step"] != settlement.get(
        "collapsed_step"
    ):
        marks.append(
            TimeMark(
                summary["ceasefire"]["collapsed_step"],
                summary["ceasefire"]["collapsed_date"],
                "the ceasefire collapses",
                "collapse",
            )
        )
    for threat in summary.get("threats", {}).values():
        by = scenario.actors[threat["by"]].name
        what = threat["instrument"].replace("_", " ")
        carried = threat["carried_out_step"]
        if carried is not None:
            date = scenario.time.date_of(carried).isoformat()
            marks.append(TimeMark(carried, date, f"{by} carries out its threat ({what})", "threat"))
        if threat["status"] in ("bluff called", "lapsed") and threat["step"] is not None:
            outcome = "backs down from" if threat["status"] == "bluff called" else "drops, its demand met,"
            marks.append(TimeMark(threat["step"], threat["date"], f"{by} {outcome} its threat ({what})", "threat"))
    return sorted(marks, key=lambda m: (m.step, m.kind != "event"))


def when(step: int, date: str, step_word: str = "week") -> str:
    """'week 6 (2016-04-09)', or 'first week (...)' for step 0, as the outcome sentence says it."""
    return f"first {step_word} ({date})" if step == 0 else f"{step_word} {step} ({date})"


def marks_key(marks: Sequence[TimeMark], step_word: str = "week") -> str:
    """The key to the marks on the time axes, as an HTML list."""
    if not marks:
        return ""
    items = "".join(
        f'<li><span class="badge {esc(m.kind)}">{esc(m.badge)}</span>{esc(when(m.step, m.date, step_word))}: '
        f"{esc(m.label)}</li>"
        for m in marks
    )
    return f'<ol class="key" aria-label="marks on the time axes">{items}</ol>'


def spread_sentence(result: RunResult, spread: dict[str, Any]) -> str:
    """How often the outcomes of this one path come over other seeds (`sim.runs.spread.seed_spread`)."""

    def share(entry: dict[str, Any]) -> str:
        low, high = entry["ci95"]
        return f"{entry['probability']:.0%} (95% interval {low:.0%} to {high:.0%})"

    word = _step_word(result)
    settlement = spread["settlement"]
    text = (
        f"This page follows one path of the war, drawn by seed {result.seed}. Over {spread['runs']} runs of the "
        f"same scenario with other seeds: a settlement in {share(settlement)}"
    )
    if settlement["first_step"]["count"]:
        text += f", first signed typically in {word} {settlement['first_step']['p50']:.0f}"
    if result.scenario.battlefield is not None:
        text += f"; the fighting restarted after a ceasefire in {share(spread['ceasefire_collapsed'])}"
    return text + "."


def _talks_open(result: RunResult) -> str:
    """When a deal can first be concluded: an input of the scenario that times the deal, so it is on the page."""
    time = result.scenario.time
    if time.talks_start is None:
        return "from the first " + _step_word(result)
    step = time.first_step_from(time.talks_start)
    return f"{time.date_of(step).isoformat()} ({_step_word(result)} {step}): no deal is concluded before"


def run_header(result: RunResult, spread: dict[str, Any] | None = None) -> str:
    """Scenario name, outcome sentence, how often it comes over other seeds, description, sources, seed,
    period, file hash and the cast's colours."""
    scenario = result.scenario
    summary = result.summary
    sources = sources_html(scenario.sources)
    steps = summary["steps"]
    cast = "".join(
        f'<li><span class="swatch" style="background:{colour_of(a)}"></span>{esc(actor.name)}</li>'
        for a, actor in scenario.actors.items()
    )
    return (
        '<header class="report"><p class="kicker">Negotiation simulation: one run</p>'
        f"<h1>{esc(scenario.name)}</h1>"
        f'<p class="outcome"><span class="label">Outcome</span><span id="outcome">{esc(summary["outcome"])}</span></p>'
        + (f'<p class="spread" id="across-seeds">{esc(spread_sentence(result, spread))}</p>' if spread else "")
        + f'<p class="description">{esc(scenario.description)}</p>'
        '<dl class="meta">'
        f"<div><dt>Sources</dt><dd>{sources}</dd></div>"
        f"<div><dt>Seed</dt><dd>{esc(summary['seed'])}</dd></div>"
        f"<div><dt>Period</dt><dd>{esc(summary['start'])} to {esc(summary['end'])} "
        f"({steps} {esc(_step_word(result))}{'s' if steps != 1 else ''})</dd></div>"
        f'<div><dt>Talks open</dt><dd id="talks-open">{esc(_talks_open(result))}</dd></div>'
        f"<div><dt>Scenario file</dt><dd>{esc(summary['scenario']['file'])}<br>"
        f'<code title="sha256 of the scenario file">sha256 {esc(summary["scenario"]["sha256"])}</code></dd></div>'
        "</dl>"
        f'<ul class="cast" aria-label="actor colours">{cast}</ul>'
        "</header>"
    )


def inputs_table(result: RunResult) -> str:
    """What the scenario assumed about each actor, each issue and each scheduled event."""
    scenario = result.scenario
    issues = list(scenario.issues)
    head = "".join(f"<th>{esc(i.replace('_', ' '))}: ideal (salience)</th>" for i in issues)
    rows = []
    for actor_id, actor in scenario.actors.items():
        total = sum(actor.salience.values())
        cells = "".join(
            f'<td class="num">{actor.position.get(i, 0.5):.2f} ({actor.salience.get(i, 0.0) / total:.2f})</td>'
            for i in issues
        )
        options = ", ".join(name.replace("_", " ") for name, on in actor.options.model_dump().items() if on) or "none"
        refused = ", ".join(esc(i.replace("_", " ")) for i in actor.linkage_refused) or "none"
        forces = f"ground {actor.forces.ground:g}, air {actor.forces.air:g}"
        rows.append(
            f'<tr><td><span class="swatch" style="background:{colour_of(actor_id)}"></span>{esc(actor.name)}</td>'
            f"<td>{esc(actor.side)}</td><td>{'yes' if actor.consent_required else 'no'}</td>{cells}"
            f'<td class="num">{actor.capability:g}</td><td class="num">{actor.patience:g}</td>'
            f'<td class="num">{actor.war_cost:g}</td><td class="num">{actor.horizon}</td><td>{esc(forces)}</td>'
            f"<td>{esc(options)}</td><td>{refused}</td></tr>"
        )
    actors = (
        f'<h3>Actors</h3><div class="table-wrap"><table><thead><tr><th>actor</th><th>side</th>'
        f"<th>consent required</th>{head}<th>capability</th><th>patience per step</th><th>war cost per step</th>"
        f"<th>horizon (steps)</th><th>forces (strength units)</th><th>options allowed</th>"
        f"<th>refuses to link</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    issue_rows = "".join(
        f"<tr><td>{esc(i.replace('_', ' '))}</td><td>{esc(issue.low)}</td><td>{esc(issue.high)}</td>"
        f'<td class="num">{issue.status_quo:.2f}</td>'
        f"<td>{esc('; '.join(f'{label} = {value:g}' for label, value in issue.levels.items())) or '-'}</td></tr>"
        for i, issue in scenario.issues.items()
    )
    issues_html = (
        f'<h3>Issues (each from 0 to 1)</h3><div class="table-wrap"><table><thead><tr><th>issue</th>'
        f"<th>0 means</th><th>1 means</th><th>status quo</th><th>named points</th></tr></thead>"
        f"<tbody>{issue_rows}</tbody></table></div>"
    )
    events_html = ""
    if scenario.events:
        event_rows = "".join(
            f"<tr><td>{esc(event.at)}</td><td>{esc(scenario.actors[event.actor].name) if event.actor else '-'}</td>"
            f"<td>{esc(event.action.replace('_', ' '))}</td><td>{esc(_event_details(event))}</td>"
            f"<td>{esc(event.label or event_id.replace('_', ' '))}</td></tr>"
            for event_id, event in scenario.events.items()
        )
        events_html = (
            f'<h3>Scheduled events</h3><div class="table-wrap"><table><thead><tr><th>at</th><th>actor</th>'
            f"<th>action</th><th>details</th><th>label</th></tr></thead><tbody>{event_rows}</tbody></table>"
            "</div>"
        )
    return actors + issues_html + _agreements_table(result) + _threats_table(result) + events_html


def _actor_names(result: RunResult, actor_ids: list[str]) -> str:
    return ", ".join(result.scenario.actors[a].name for a in actor_ids) or "nobody"


def _agreements_table(result: RunResult) -> str:
    """The agreements that can be reached: what each settles, who signs it, who it binds, when talks on it
    can conclude (an input that times the deal), and whether it stops the fighting."""
    from sim.scenario.params import compile_agreements

    scenario = result.scenario
    compiled = compile_agreements(scenario)
    defined = scenario.agreements or None
    rows = []
    for g, agreement_id in enumerate(compiled.ids):
        issues = [k.replace("_", " ") for k, on in zip(scenario.issues, compiled.issues[g], strict=True) if on]
        consent = [a for a, on in zip(scenario.actors, compiled.consent[g], strict=True) if on]
        bound = [a for a, on in zip(scenario.actors, compiled.bound[g], strict=True) if on]
        talks = int(compiled.talks_start_step[g])
        own = defined[agreement_id] if defined else None
        at = own.talks_start if own is not None and own.talks_start is not None else scenario.time.talks_start
        opens = "-"
        if compiled.negotiable[g]:
            date = scenario.time.date_of(talks).isoformat()
            opens = f"{date} ({_step_word(result)} {talks})" if at is not None else "from the start"
        rows.append(
            f"<tr><td>{esc(compiled.names[g])}</td><td>{esc(', '.join(issues) or 'none (begun by an event)')}</td>"
            f"<td>{esc(_actor_names(result, consent))}</td><td>{esc(_actor_names(result, bound))}</td>"
            f"<td>{'yes' if compiled.stops_fighting[g] else 'no'}</td>"
            f"<td>{'yes' if compiled.at_start[g] else 'no'}</td>"
            f'<td id="talks-{esc(agreement_id)}">{esc(opens)}</td></tr>'
        )
    return (
        '<h3>Agreements</h3><div class="table-wrap"><table><thead><tr><th>agreement</th><th>issues it settles</th>'
        "<th>must sign it</th><th>binds</th><th>stops the fighting</th><th>in force at the start</th>"
        f"<th>talks can conclude it from</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _threats_table(result: RunResult) -> str:
    """The scenario's threats, and the coercive options each government ruled out."""
    scenario = result.scenario
    # An instrument an actor holds (a size given, in its `threats` or a threat object) that its government
    # does not allow (the option off, or the threat object ruled out): Porter's "Obama refused to do so".
    ruled_out = []
    for actor_id, actor in scenario.actors.items():
        objects = {t.instrument: t for t in scenario.threats.values() if t.by == actor_id}
        refused = []
        for instrument in sorted(THREAT_INSTRUMENTS):
            option, power = THREAT_OPTIONS[instrument], THREAT_POWERS[instrument]
            threat = objects.get(instrument)
            size = threat.size if threat is not None else getattr(actor.threats, power)
            allowed = (not threat.ruled_out) if threat is not None else getattr(actor.options, option)
            if size > 0 and not allowed:
                refused.append(instrument.replace("_", " "))
        if refused:
            ruled_out.append(f"{actor.name}: {', '.join(refused)}")
    rows = []
    for threat in scenario.threats.values():
        demand = "-"
        if threat.demand is not None:
            if threat.demand.agreement is not None:
                demand = f"agreement {threat.demand.agreement.replace('_', ' ')} in force"
            else:
                sign = ">=" if threat.demand.direction == "at_least" else "<="
                demand = f"{(threat.demand.issue or '').replace('_', ' ')} {sign} {threat.demand.level:g}"
        rows.append(
            f"<tr><td>{esc(scenario.actors[threat.by].name)}</td><td>{esc(scenario.actors[threat.against].name)}</td>"
            f'<td>{esc(threat.instrument.replace("_", " "))}</td><td class="num">{threat.size:g}</td>'
            f'<td class="num">{threat.credibility:g}</td><td>{"yes" if threat.ruled_out else "no"}</td>'
            f'<td class="num">{threat.cost:g}</td><td class="num">{threat.audience_cost:g}</td>'
            f"<td>{esc(demand)}</td><td>{esc(threat.deadline if threat.deadline is not None else '-')}</td></tr>"
        )
    table = (
        '<div class="table-wrap"><table><thead><tr><th>by</th><th>against</th><th>instrument</th><th>size</th>'
        "<th>credibility</th><th>ruled out</th><th>cost per step</th><th>audience cost</th><th>demand</th>"
        f"<th>deadline</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        if rows
        else "<p>The scenario defines no threat objects.</p>"
    )
    ruled = (
        f"<p>Threats held but not allowed by their government: {esc('; '.join(ruled_out))}.</p>" if ruled_out else ""
    )
    return f"<h3>Threats</h3>{table}{ruled}"


def _event_details(event: Any) -> str:
    parts = []
    if event.action in ("withdraw_air", "return_forces", "escalate"):
        parts.append(f"{event.fraction:.0%} of force")
    if event.redeploy_days is not None:
        parts.append(f"back within {event.redeploy_days:g} day{'' if event.redeploy_days == 1 else 's'}")
    if event.option:
        parts.append(event.option.replace("_", " "))
    return ", ".join(parts) or "-"


def _names(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _comparison_caption(comparisons: Sequence[DealComparison], deal_reached: bool) -> str:
    better = [c.name for c in comparisons if c.gain >= 0]
    worse = [f"{c.name} ({c.gain:+.2f})" for c in comparisons if c.gain < 0]
    subject = "the deal" if deal_reached else "the offer on the table"
    text = f"Read each row as Singh's test: is {subject} worth more than the actor's alternative to a deal? "
    if better:
        text += f"It is for {_names(better)}"
        text += f"; it is not for {_names(worse)}, a side that would rather fight on and may spoil. " if worse else ". "
    elif worse:
        text += f"It is for no one: {_names(worse)} would rather fight on. "
    text += (
        "A deal needs every party marked * to stand right of its reservation mark (its alternative plus what "
        "it still demands, less its negotiator's stake)."
    )
    short = [c.name for c in comparisons if c.reservation is not None and c.deal_value < c.reservation]
    if short and not deal_reached:
        text += f" Here the offer falls short of what {_names(short)} insisted on: hence no deal."
    return text


def _leverage_caption(
    by_instrument: np.ndarray,
    inducement: np.ndarray,
    talks_on: np.ndarray,
    actor_ids: Sequence[str],
    names: dict[str, str],
    step_word: str = "week",
) -> str:
    """What to read from the leverage heatmap: the scale, the largest leverage of each kind and what carries it,
    and what each actor can do (worsen another's alternative, sweeten the deal, only lend support, nothing)."""
    text = (
        "Each cell is how far one actor could move another, in utility on the target's 0-1 scale, on a log "
        "colour scale (palest: 0.001 or less, darkest: 1) so that small leverage stays visible. Upper panel: the "
        "power to worsen the other's alternative, by the strongest of the holder's instruments (the label names "
        "the one strongest most often), support it could withdraw included. Lower panel: the power to sweeten "
        "its deal by conceding, which only parties at the table have and which counts only while some agreement "
        f"is still being bargained over: grey {step_word}s are those with every agreement signed, when there is "
        f"nothing to sweeten; a pale {step_word} is one in which no party at the table had room to concede (the "
        "offer was already at its reservation value). The two kinds are never added. "
    )
    support = INSTRUMENTS.index("support")
    coercive = np.delete(by_instrument, support, axis=-1)
    strongest = coercive.max(axis=-1)
    induce = np.where(np.asarray(talks_on, dtype=bool)[:, None, None], inducement, 0.0)
    if strongest.max() > 5e-5:
        t, i, j = np.unravel_index(int(np.argmax(strongest)), strongest.shape)
        kept = [m for m in INSTRUMENTS if m != "support"]
        instrument = kept[int(np.argmax(coercive[t, i, j]))].replace("_", " ")
        text += (
            f"The largest coercive leverage is {names[actor_ids[i]]} over {names[actor_ids[j]]} "
            f"({strongest[t, i, j]:.3f} in {step_word} {t}), through its {instrument}. "
        )
    if induce.max() > 5e-5:
        t, i, j = np.unravel_index(int(np.argmax(induce)), induce.shape)
        text += (
            f"The largest inducement is {names[actor_ids[i]]} to {names[actor_ids[j]]} "
            f"({induce[t, i, j]:.3f} in {step_word} {t}). "
        )
    kinds = {
        "Can worsen another's alternative": [bool(np.any(strongest[:, i, :] > 5e-5)) for i in range(len(actor_ids))],
        "Can sweeten the deal": [bool(np.any(induce[:, i, :] > 5e-5)) for i in range(len(actor_ids))],
    }
    lends = [bool(np.any(by_instrument[:, i, :, support] > 5e-5)) for i in range(len(actor_ids))]
    for label, holds in kinds.items():
        holders = [names[a] for i, a in enumerate(actor_ids) if holds[i]]
        if holders:
            text += f"{label}: {_names(holders)}. "
    only_support = [
        names[a] for i, a in enumerate(actor_ids) if lends[i] and not any(holds[i] for holds in kinds.values())
    ]
    if only_support:
        text += f"Holds others only through the support it could withdraw: {_names(only_support)}. "
    neither = [
        names[a] for i, a in enumerate(actor_ids) if not lends[i] and not any(holds[i] for holds in kinds.values())
    ]
    if neither:
        text += f"Can neither worsen an alternative nor sweeten the deal: {_names(neither)}."
    return text.rstrip()


def _below_zero_note(series: Any) -> str:
    """The utility scale runs from the farthest outcome (0) to the ideal (1); an alternative below 0 is a war
    that costs more than it can win, which the caption says where one is drawn."""
    lowest = float(np.nanmin(series[["utility_of_offer", "batna"]].to_numpy(dtype=float)))
    if lowest >= 0:
        return " Utility: 1 is the actor's ideal outcome, 0 the farthest from it."
    return (
        " Utility: 1 is the actor's ideal outcome, 0 the farthest from it; a value below 0 (here down to "
        f"{lowest:.2f}) is an alternative whose war costs more than it can win."
    )


def _arms_caption(result: RunResult, details: Any) -> str:
    """What to read from the arms figure: the stock at the start and the end, what the embargo held back."""
    steps = result.timeseries.drop_duplicates("step").sort_values("step")
    start, end = float(steps["arms_stock"].iloc[0]), float(steps["arms_stock"].iloc[-1])
    held = float(details["arms_held_back"].sum())
    delivered = float(details["arms_delivered"].sum())
    word = _step_word(result)
    return (
        f"The opposition fights with its arms stock ({start:.2f} at the start, {end:.2f} at the end, in stock units), "
        f"which burns while it fights and is refilled by outside deliveries. The bars are what reached it each {word}, "
        f"by supplier ({delivered:.2f} in all), and, in grey, what its patron's embargo held back ({held:.2f}); "
        "the shaded weeks are those with an embargo enforced, which a patron allowed to enforce one does while a "
        "ceasefire or a deal holds (Porter: the US pledge to stop its allies' arms flow). A deal's arms-flow term is "
        "not enforced by itself: arms stop only through the embargo."
    )


def _table_leverage_caption(
    by_instrument: np.ndarray,
    inducement: np.ndarray,
    talks_on: np.ndarray,
    parties: Sequence[str],
    actor_ids: Sequence[str],
    names: dict[str, str],
) -> str:
    """What to read from the leverage between the parties at the table: the largest of each pair, by instrument."""
    induce = np.where(np.asarray(talks_on, dtype=bool)[:, None, None], inducement, 0.0)
    text = (
        "One panel for each party at the table over each other, each on its own scale so that a small leverage "
        "is as readable as a large one (the colour scale of the heatmap above is shared by every pair). Solid "
        "lines: how far each instrument of the holder lowers the other's alternative (Singh's 'or else'), support "
        "it could withdraw included; dashed: how far it could sweeten the other's deal by conceding, drawn only "
        "while an agreement is still bargained over. "
    )
    for a in parties:
        for b in parties:
            if a == b:
                continue
            i, j = actor_ids.index(a), actor_ids.index(b)
            peak = by_instrument[:, i, j, :].max(axis=0)
            best = int(np.argmax(peak))
            parts = []
            if peak[best] > 5e-5:
                parts.append(f"at most {peak[best]:.3f} through {INSTRUMENTS[best].replace('_', ' ')}")
            if induce[:, i, j].max() > 5e-5:
                parts.append(f"at most {induce[:, i, j].max():.3f} by conceding")
            what = "; ".join(parts) if parts else "none of either kind"
            text += f"{names[a]} over {names[b]}: {what}. "
    return text.rstrip()


def _control_caption(result: RunResult) -> str:
    steps = result.timeseries.drop_duplicates("step").sort_values("step")
    start, end = float(steps["control"].iloc[0]), float(steps["control"].iloc[-1])
    odds = float(projected_odds(result.timeseries).iloc[-1])
    present = float(steps["win_probability"].iloc[-1])
    return (
        f"Shows who gains ground when: the government side held {start:.0%} of the territory at the start and "
        f"{end:.0%} at the end. Its chance of prevailing if the war went on, as the actors projected it at the "
        f"end, was {odds:.0%} (dashed): these odds, with withdrawn aircraft counted by how fast they can return, "
        f"set every side's alternative to a deal. Counting only the forces present that week it was {present:.0%} "
        "(dotted). Blue background: a ceasefire in force."
    )


def run_sections(result: RunResult) -> list[Section]:
    """The sections of a single run's report, the deal-against-alternative views first."""
    scenario = result.scenario
    summary = result.summary
    params = params_from_scenario(scenario)
    actor_ids = params.actor_ids
    names = {a: actor.name for a, actor in scenario.actors.items()}
    required = {a: actor.consent_required for a, actor in scenario.actors.items()}
    series = result.timeseries
    marks = run_marks(result)
    key = marks_key(marks, _step_word(result))
    deal = summary["deal"]
    last_step = int(series["step"].max())
    moment_step = deal["step"] if deal["reached"] else last_step
    moment_date = scenario.time.date_of(moment_step).isoformat()
    moment = (
        f"when the deal was reached, {when(moment_step, moment_date, _step_word(result))}"
        if deal["reached"]
        else f"in the last {_step_word(result)} ({moment_date}), with no deal reached"
    )
    comparisons = deal_comparison_at(series, moment_step, actor_ids, names, required)
    sections = [
        Section(
            "Was the deal worth more than each side's alternative?",
            _comparison_caption(comparisons, deal["reached"]),
            deal_gain_figure(comparisons, moment),
            anchor="deal-against-alternative",
            centre=True,
        ),
        Section(
            "The deal on offer against the alternative, week by week",
            "Solid line: what the deal on offer is worth to the actor; dashed: its alternative to a deal. Green "
            "between them: the deal is worth more; red: less. The yellow band behind the panels marks the weeks "
            "in which a zone of possible agreement existed (a deal every party whose consent is required "
            "accepts). Numbered marks are the events listed under the figure; hover a mark for its label."
            + _below_zero_note(series),
            deal_value_figure(series, actor_ids, names, required, marks),
            anchor="deal-value",
            key_html=key,
            centre=True,
        ),
    ]
    why = summary.get("why")
    if why is not None:
        sections.append(
            Section(
                why_title(why),
                "For each moment that decided this run (each time the settlement was signed, each time an agreement "
                f"fell, and the last {_step_word(result)} if no settlement was in force), the model's own numbers "
                "then: what "
                "bound, where the terms sit and who would refuse anything else, each party's bargaining weight and "
                "reservation value, each actor's alternative to a deal in its parts, and a sentence per actor. The "
                "same numbers are in summary.json under why.",
                html_body=why_html(
                    scenario, why, dict(zip(params.agreements.ids, params.agreements.names, strict=True))
                ),
                anchor="why",
            )
        )
    details = result.details
    parties = [actor_ids[i] for i in np.flatnonzero(params.agreements.consent[params.agreements.settlement])]
    if details is not None:
        staked = [names[a] for a in actor_ids if scenario.actors[a].stake_growth > 0]
        stake_text = (
            f"The lower panel draws the personal stake in having any deal of the negotiator of {_names(staked)}, which "
            "grows each week (Porter on Kerry): it lowers that side's reservation value and, as impatience, its "
            "bargaining weight, so its share of the weight above falls as the talks go on."
            if staked
            else "No negotiator's stake grows in this scenario; the lower panel draws the demand each party still "
            "insists on."
        )
        sections.append(
            Section(
                "Who held the bargaining power, and how did it move?",
                "Upper panel: each party's share of the bargaining weight at the table (capability over impatience: "
                "the more patient side gets more, as in alternating offers), the weight that sets where inside the "
                f"zone of agreement the terms land. {stake_text} Dashed: the demand over its alternative each party "
                "still insists on (it falls when a side with no 'or else' softens).",
                weights_and_stake_figure(series, details, parties, actor_ids, names, marks),
                anchor="weights-and-stake",
                key_html=key,
            )
        )
    if scenario.battlefield is not None:
        sections.append(
            Section(
                "Who was winning the war?",
                _control_caption(result),
                control_figure(series, marks),
                anchor="control",
                key_html=key,
            )
        )
    if scenario.battlefield is not None and details is not None:
        sections.append(
            Section(
                "Did the arms reach the opposition?",
                _arms_caption(result, details),
                arms_figure(series, details, actor_ids, names, marks),
                anchor="arms",
                key_html=key,
            )
        )
    _, inducement = leverage_arrays(series, actor_ids)
    by_instrument = coercive_by_instrument_arrays(series, actor_ids, INSTRUMENTS)
    talks_on = (
        details.drop_duplicates("step").sort_values("step")["talks_on"].to_numpy(dtype=bool)
        if details is not None
        else np.ones(by_instrument.shape[0], dtype=bool)
    )
    timeline = Timeline.of(series)
    sections.append(
        Section(
            "Who could move whom?",
            _leverage_caption(by_instrument, inducement, talks_on, actor_ids, names, _step_word(result)),
            leverage_over_time_figure(
                by_instrument.max(axis=-1),
                inducement,
                actor_ids,
                names,
                timeline,
                marks,
                by_instrument=by_instrument,
                instruments=INSTRUMENTS,
                talks_on=talks_on,
            ),
            anchor="leverage",
            key_html=key,
        )
    )
    if len(parties) >= 2:
        sections.append(
            Section(
                "Leverage between the parties at the table",
                _table_leverage_caption(by_instrument, inducement, talks_on, parties, actor_ids, names),
                table_leverage_figure(
                    by_instrument,
                    inducement,
                    INSTRUMENTS,
                    [actor_ids.index(a) for a in parties],
                    actor_ids,
                    names,
                    timeline,
                    marks,
                    talks_on,
                ),
                anchor="leverage-at-the-table",
                key_html=key,
            )
        )
    if len(scenario.issues) >= 2:
        sections.append(
            Section(
                "Where did the proposals go?",
                "Each actor's ideal point on the two issues that matter most, the status quo and the war's two "
                "possible outcomes; the grey path is the proposal on the table week by week (darker is later), the "
                "star the deal. A proposal moving toward an actor's dot is that actor gaining.",
                issue_space_figure(series, scenario, params.ideal[0], params.salience[0], params.free_issues),
                anchor="issue-space",
            )
        )
    sections.append(
        Section(
            "How did the proposal on each issue move?",
            "The proposal on every issue over time, on the issue's own 0 to 1 scale; flat after the deal.",
            proposals_figure(series, scenario, marks),
            anchor="proposals",
            key_html=key,
        )
    )
    sections.append(
        Section(
            "What did the scenario assume?",
            "The inputs behind every figure above: each actor's ideal point with its salience in "
            "brackets (saliences sum to 1), capability, patience, costs, forces and the options its "
            "government allows; the issues' scales; the scheduled events.",
            html_body=inputs_table(result),
            anchor="inputs",
        )
    )
    return sections


def run_figures(result: RunResult) -> dict[str, go.Figure]:
    """The report's figures as plotly Figure objects, keyed by their section's anchor (`deal-against-alternative`,
    `deal-value`, `weights-and-stake`, `control`, `arms`, `leverage`, `leverage-at-the-table`, `issue-space`,
    `proposals`; those a scenario has), in the page's order, for a notebook to show inline."""
    return {section.anchor: section.figure for section in run_sections(result) if isinstance(section.figure, go.Figure)}


def run_report(result: RunResult, spread: dict[str, Any] | None = None) -> str:
    """The HTML report of one run; with `spread`, its header says how often its outcomes come over other seeds."""
    return render_page(
        result.scenario.name,
        run_header(result, spread),
        run_sections(result),
        footer_note="Utilities are on a 0 to 1 scale (1 = the actor's ideal outcome); "
        f"one step is one {esc(_step_word(result))}.",
    )
