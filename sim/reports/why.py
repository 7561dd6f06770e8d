"""The run report's "why" section: why the deal landed where it did (or why there was none), and why each
agreement fell, in the engine's own numbers (summary.json `why`, built by `sim.model.why`).

For each moment that decided the run: which constraint binds, the terms issue by issue (the zone of agreement
along each issue and who would refuse each party's ideal), the bargain (weights, alternatives, demands,
stakes, reservation values), each actor's alternative to a deal in its parts (the war's projected odds, its
value if either side wins, the cost of fighting, withdrawn forces that can return, the others' instruments),
keeping an agreement against breaking it for a fall, and one sentence per actor. Every string that comes
from the scenario is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.reports.figures import colour_of, esc

# An instrument after "Russia's ...": what of the holder's lowers another's alternative.
SHORT_WORDS = {
    "forces": "forces",
    "strikes": "strike threat",
    "safe_zones": "safe zones",
    "arms_supply": "arms deliveries",
    "embargo": "embargo (the arms it holds back)",
}


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _names(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class _Context:
    """What every sentence needs: the scenario's names, the step word, the agreements' names."""

    def __init__(self, scenario: Any, agreement_names: dict[str, str]) -> None:
        self.scenario = scenario
        self.word = "day" if scenario.time.step == "day" else "week"
        self.agreement_names = agreement_names
        self.battlefield = scenario.battlefield is not None

    def name(self, actor_id: str) -> str:
        """An actor's name, escaped."""
        actor = self.scenario.actors.get(actor_id)
        return esc(actor.name if actor is not None else actor_id)

    def names(self, actor_ids: Sequence[str]) -> str:
        return _names([self.name(a) for a in actor_ids])

    def owner(self, actor_id: str) -> str:
        """An actor's name in the possessive, escaped: "Russia's", "United States'"."""
        name = self.name(actor_id)
        return f"{name}'" if name.endswith("s") else f"{name}'s"

    def issue(self, issue_id: str) -> str:
        return esc(issue_id.replace("_", " "))

    def agreement(self, agreement_id: str) -> str:
        return esc(self.agreement_names.get(agreement_id, agreement_id).replace("_", " "))

    def when(self, moment: dict[str, Any]) -> str:
        step = moment["step"]
        return (
            f"first {self.word} ({esc(moment['date'])})" if step == 0 else f"{self.word} {step} ({esc(moment['date'])})"
        )


def _heading(context: _Context, moment: dict[str, Any]) -> str:
    when = context.when(moment)
    agreements = _names([context.agreement(g) for g in moment["agreements"]])
    kind = moment["kind"]
    if kind == "deal":
        return f"{when[0].upper()}{when[1:]}: the {agreements} is signed"
    if kind == "in force":
        return f"The {agreements}, in force from the start"
    if kind == "collapse":
        verb = "falls" if len(moment["agreements"]) == 1 else "fall"
        tempted = any(v["probability"] > 0 for v in moment.get("keeping", {}).values())
        if moment["broken_by"]:
            by = f", broken by {context.name(moment['broken_by'])}"
        else:
            by = ", broken by one of its parties" if tempted else ", ended by an event of the scenario"
        return f"{when[0].upper()}{when[1:]}: the {agreements} {verb}{by}"
    return f"{when[0].upper()}{when[1:]}, the last {context.word}: no {agreements} in force"


def binding_sentence(context: _Context, moment: dict[str, Any]) -> str:
    """Which constraint decided the moment, in one or two sentences (HTML, escaped)."""
    binding = moment["binding"]
    kind = binding["kind"]
    bargain = moment["bargain"]
    if kind == "in force":
        return "It was in force from the first step, on the status quo, and no party broke it."
    if kind == "breaking":
        keeping = moment.get("keeping", {})
        breaker = moment["broken_by"]
        if breaker and breaker in keeping:
            v = keeping[breaker]
            return (
                f"{context.name(breaker)} broke it: restarting the war was worth {_f(v['break'])} to it, less "
                f"{_f(v['defection_cost'])} for being seen to defect, against {_f(v['keep'])} for keeping it, a gain "
                f"of {_f(v['gain'])}, which made it break it with probability {v['probability']:.1%} this "
                f"{context.word}; the step's random draw fell inside that chance."
            )
        tempted = binding["actors"]
        if tempted:
            return (
                f"Some bound party gained by breaking it ({context.names(tempted)}); the step's random draw fell "
                "inside the chance that one would."
            )
        return "No bound party gained by breaking it: it ended by an event of the scenario."
    if kind == "talks closed":
        return (
            f"Talks had not opened: no deal can be concluded before {context.word} {moment['talks_open_step']}, "
            "whatever the zone of agreement."
        )
    if kind == "no zone":
        short = binding["actors"]
        gaps = "; ".join(
            f"{context.name(a)} gets {_f(bargain[a]['offer_value'])} against its reservation value "
            f"{_f(bargain[a]['reservation'])}"
            for a in short
        )
        return (
            "There is no zone of agreement: no offer gives every party at the table at least its reservation "
            f"value. The best compromise leaves {context.names(short)} short ({gaps})."
        )
    if kind == "aspiration":
        holding = binding["actors"]
        detail = "; ".join(
            f"{context.name(a)} still hopes for {_f(bargain[a]['aspiration'])} and is offered "
            f"{_f(bargain[a]['offer_value'])}"
            for a in holding
        )
        return (
            "A zone of agreement exists, but not every party has brought its hopes down to the offer yet: "
            f"{detail}. Each {context.word} of delay costs it its impatience and its share of the fighting."
        )
    text = ""
    if kind == "reservation":
        text = (
            f"The terms sit on the reservation value of {context.names(binding['actors'])}: any further from it "
            "and it would not sign. "
        )
    else:
        shares = "; ".join(
            f"{context.name(a)} {_f(v['slack'])} with {v['weight_share']:.0%} of the weight"
            for a, v in bargain.items()
            if v["weight_share"] is not None
        )
        text = (
            "The terms sit inside the zone of agreement, on no party's reservation value: they are where each "
            "party's gain over its reservation, weighted by its bargaining weight, balances the others' (the "
            f"asymmetric Nash solution). Gains over the reservation values: {shares}. "
        )
    last = binding.get("last_to_accept") or []
    if last:
        text += (
            f"It was signed this {context.word} because {context.names(last)} accepted: "
            + "; ".join(
                f"{context.owner(a)} hopes had come down to {_f(bargain[a]['aspiration'])}, at most the offer's "
                f"{_f(bargain[a]['offer_value'])}"
                for a in last
            )
            + "."
        )
    return text.strip()


def issue_sentence(context: _Context, issue_id: str, entry: dict[str, Any]) -> str:
    """Why the offer on one issue sits where it does (HTML, escaped)."""
    name = context.issue(issue_id)
    x = entry["offer"]
    decided = entry["decided"]
    if decided["by"] == "held":
        if not decided["actors"]:
            return f"<strong>{name}</strong> stays at {x:.2f}: it is not bargained over in these talks."
        verb = "refuses" if len(decided["actors"]) == 1 else "refuse"
        who = context.names(decided["actors"])
        return f"<strong>{name}</strong> stays at {x:.2f}: {who} {verb} to link it to these talks."
    zone = entry["zone"]
    text = f"<strong>{name}</strong> at {x:.2f}"
    if zone is None:
        text += ": there is no zone of agreement along it, and this is the best compromise."
    else:
        low, high = zone["low"], zone["high"]
        text += f", inside the zone of agreement along it, {low:.2f} to {high:.2f}"
        ends = []
        if zone["low_set_by"]:
            ends.append(f"below {low:.2f} {context.names(zone['low_set_by'])} would not sign")
        if zone["high_set_by"]:
            ends.append(f"above {high:.2f} {context.names(zone['high_set_by'])} would not sign")
        text += f" ({'; '.join(ends)})." if ends else "."
        if decided["by"] == "reservation":
            text += f" It sits on the edge {context.names(decided['actors'])} allows."
        elif decided["by"] == "ideal":
            text += (
                f" It sits at the ideal of {context.names(decided['actors'])}, whose weight and salience on it "
                "outweigh the other side's: no move away from it raises the weighted product of the gains."
            )
        else:
            text += " Inside the zone the weighted gains set it (see the bargain below)."
    for outside in entry["outside"]:
        refusals = "; ".join(
            f"{context.name(r['actor'])} would get {_f(r['value'])}, below its reservation value "
            f"{_f(r['reservation'])}, and would not sign"
            for r in outside["refused_by"]
        )
        text += f" Not at {context.owner(outside['party'])} ideal, {outside['ideal']:.2f}: there {refusals}."
    return text


def _alternative_sentence(context: _Context, actor_id: str, parts: dict[str, Any]) -> str:
    """The actor's alternative to a deal, in one sentence with its parts (HTML, escaped)."""
    if parts["odds"] is not None:
        text = (
            f"Its alternative, {_f(parts['alternative'])}, is a war the government side wins with a projected "
            f"{parts['odds']:.0%}: {_f(parts['if_government_wins'])} to it if it does, "
            f"{_f(parts['if_opposition_wins'])} if not, less {_f(parts['fighting_cost'])} of fighting."
        )
    else:
        text = (
            f"Its alternative, {_f(parts['alternative'])}, is the status quo ({_f(parts['status_quo_value'])} to it) "
            f"less {_f(parts['fighting_cost'])} of costs."
        )
    withdrawn = parts.get("withdrawn")
    if withdrawn and abs(withdrawn["effect"]) > 5e-5:
        who = _names(
            [
                f"{context.owner(w['actor'])}, back within {w['days']:g} day{'s' if w['days'] != 1 else ''}, at "
                f"{w['weight']:.0%}"
                for w in withdrawn["by"]
            ]
        )
        direction = "lower" if withdrawn["effect"] < 0 else "raise"
        text += (
            f" Withdrawn forces that can return ({who}) {direction} it by {_f(abs(withdrawn['effect']))} "
            f"({_f(abs(withdrawn['effect_if_present']))} were they present)."
        )
    lowered = parts["lowered_by"][:2]
    if lowered:
        items = [
            f"{context.owner(item['by'])} {SHORT_WORDS[item['instrument']]} ({_f(item['amount'])})" for item in lowered
        ]
        text += f" Lowered most by {_names(items)}."
    return text


def actor_sentence(context: _Context, moment: dict[str, Any], actor_id: str) -> str:
    """A few plain sentences per actor for a moment: where it stands, then its alternative (HTML, escaped)."""
    kind = moment["kind"]
    parts = moment["alternatives"][actor_id]
    bargain = moment["bargain"].get(actor_id)
    if kind == "collapse" and actor_id in moment.get("keeping", {}):
        v = moment["keeping"][actor_id]
        text = (
            f"Keeping it: {_f(v['keep'])}; breaking it: {_f(v['break'])}, less {_f(v['defection_cost'])} for defecting"
        )
        if v["gain"] > 0:
            text += f", a gain of {_f(v['gain'])}: a {v['probability']:.1%} chance it breaks it this {context.word}"
            if v["restraint"] > 0:
                text += f" (its patron holds back {v['restraint']:.0%} of that will)"
        else:
            text += ": nothing to gain, so it keeps it"
        text += ". It broke it. " if moment["broken_by"] == actor_id else ". "
    elif bargain is not None:
        stake_part = bargain["impatience"] - bargain["impatience_from_patience"]
        weight = (
            f"It holds {bargain['weight_share']:.0%} of the bargaining weight (capability {bargain['capability']:g} "
            f"over impatience {bargain['impatience']:.3f} a {context.word}"
            + (f", {stake_part:.3f} of it its negotiator's growing stake" if stake_part > 1e-9 else "")
            + ")."
        )
        reservation = (
            f"its reservation value {_f(bargain['reservation'])} (alternative {_f(bargain['alternative'])} + demand "
            f"{_f(bargain['demand'])} − stake {_f(bargain['stake'])})"
        )
        if kind in ("deal", "in force"):
            value = _f(bargain["offer_value"])
            text = f"It signs: the terms give it {value}, {bargain['slack']:+.3f} over {reservation}. "
        else:
            if bargain["accepts"]:
                verdict = "it would sign"
            elif bargain["slack"] >= 0:
                verdict = f"it holds out, still hoping for {_f(bargain['aspiration'])}"
            else:
                verdict = "it cannot sign"
            value = _f(bargain["offer_value"])
            text = f"The offer gives it {value}, {bargain['slack']:+.3f} against {reservation}: {verdict}. "
        text += weight + " "
    else:
        gain = parts["terms_value"] - parts["alternative"]
        subject = "the terms give" if kind in ("deal", "in force") else "the offer gives"
        text = f"Not at the table: {subject} it {_f(parts['terms_value'])}, {gain:+.3f} against its alternative: "
        if gain >= 0:
            text += "it is better off with the deal. "
        else:
            can_break = context.scenario.actors[actor_id].options.spoil
            text += "it would rather fight on" + (", and can break a ceasefire. " if can_break else ". ")
    return text + _alternative_sentence(context, actor_id, parts)


def _bargain_table(context: _Context, moment: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td>{context.name(a)}</td><td class="num">{v["weight"]:.1f}</td>'
        f'<td class="num">{v["weight_share"]:.0%}</td><td class="num">{v["impatience_from_patience"]:.3f}</td>'
        f'<td class="num">{v["impatience"] - v["impatience_from_patience"]:.3f}</td>'
        f'<td class="num">{_f(v["alternative"])}</td><td class="num">{_f(v["demand"])}</td>'
        f'<td class="num">{_f(v["stake"])}</td><td class="num">{_f(v["reservation"])}</td>'
        f'<td class="num">{_f(v["offer_value"])}</td><td class="num">{v["slack"]:+.3f}</td>'
        f'<td class="num">{_f(v["aspiration"])}</td><td>{"yes" if v["accepts"] else "no"}</td></tr>'
        for a, v in moment["bargain"].items()
    )
    return (
        '<div class="table-wrap"><table><thead><tr><th>party</th><th>bargaining weight</th><th>share</th>'
        f"<th>impatience from patience</th><th>impatience from the stake</th><th>alternative</th><th>demand</th>"
        "<th>stake</th><th>reservation value = alternative + demand − stake</th><th>value of the offer</th>"
        "<th>over the reservation</th><th>hopes for (aspiration)</th><th>accepts</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def _issues_table(context: _Context, moment: dict[str, Any]) -> str:
    parties = list(moment["bargain"])
    head = "".join(f"<th>ideal of {context.name(a)}</th>" for a in parties)
    rows = []
    for issue_id, entry in moment["issues"].items():
        zone = entry["zone"]
        span = f"{zone['low']:.2f} to {zone['high']:.2f}" if zone else ("held" if not entry["free"] else "none")
        ideals = "".join(f'<td class="num">{entry["ideals"].get(a, float("nan")):.2f}</td>' for a in parties)
        rows.append(
            f'<tr><td>{context.issue(issue_id)}</td><td class="num">{entry["offer"]:.3f}</td>'
            f'<td class="num">{span}</td>{ideals}<td>{esc(_decided_words(context, entry))}</td></tr>'
        )
    return (
        '<div class="table-wrap"><table><thead><tr><th>issue</th><th>offer</th>'
        f"<th>zone of agreement along it</th>{head}<th>what sets it</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _decided_words(context: _Context, entry: dict[str, Any]) -> str:
    decided = entry["decided"]
    names = _names([context.scenario.actors[a].name for a in decided["actors"] if a in context.scenario.actors])
    return {
        "held": f"off the table: {names or 'a party'} refuses to link it",
        "reservation": f"the reservation value of {names}",
        "ideal": f"the ideal of {names}",
        "balance": "the weighted balance of the gains",
        "compromise": "no zone: the best compromise",
    }[decided["by"]]


def _alternatives_table(context: _Context, moment: dict[str, Any]) -> str:
    rows = []
    for a, v in moment["alternatives"].items():
        lowered = "; ".join(
            f"{context.name(item['by'])}: {esc(item['instrument'].replace('_', ' '))} {_f(item['amount'])}"
            for item in v["lowered_by"]
        )
        supported = "; ".join(f"{context.name(item['by'])} {_f(item['amount'])}" for item in v["supported_by"])
        withdrawn = v.get("withdrawn")
        returning = f"{withdrawn['effect']:+.3f}" if withdrawn else "-"
        if v["odds"] is not None:
            war = (
                f'<td class="num">{v["odds"]:.1%}</td><td class="num">{_f(v["if_government_wins"])}</td>'
                f'<td class="num">{_f(v["if_opposition_wins"])}</td>'
            )
        else:
            war = f'<td class="num">-</td><td class="num" colspan="2">status quo {_f(v["status_quo_value"])}</td>'
        rows.append(
            f"<tr><td>{context.name(a)}</td>{war}"
            f'<td class="num">{_f(v["fighting_cost"])}</td><td class="num"><strong>{_f(v["alternative"])}</strong></td>'
            f'<td class="num">{returning}</td><td>{lowered or "-"}</td><td>{supported or "-"}</td>'
            f'<td class="num">{_f(v["terms_value"])}</td></tr>'
        )
    return (
        '<div class="table-wrap"><table><thead><tr><th>actor</th><th>government side prevails (projected)</th>'
        "<th>value if it does</th><th>value if the opposition side does</th><th>cost of fighting</th>"
        "<th>alternative</th><th>of which withdrawn forces that can return</th>"
        "<th>lowered by (instrument, utility)</th><th>raised by others' presence</th><th>value of the terms</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _keeping_table(context: _Context, moment: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td>{context.name(a)}</td><td class="num">{_f(v["keep"])}</td>'
        f'<td class="num">{_f(v["break"])}</td><td class="num">{_f(v["defection_cost"])}</td>'
        f'<td class="num">{_f(v["gain"])}</td><td class="num">{v["restraint"]:.0%}</td>'
        f'<td class="num">{v["probability"]:.1%}</td><td>{"yes" if moment["broken_by"] == a else ""}</td></tr>'
        for a, v in moment["keeping"].items()
    )
    return (
        '<div class="table-wrap"><table><thead><tr><th>bound party</th><th>keeping it</th>'
        "<th>breaking it (the war it would restart)</th><th>cost of being seen to defect</th>"
        "<th>gain from breaking</th>"
        f"<th>held back by its patron</th><th>chance it breaks it this {context.word}</th><th>broke it</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></div>"
    )


def _swatch(actor_id: str) -> str:
    return f'<span class="swatch" style="background:{colour_of(actor_id)}"></span>'


def moment_html(context: _Context, moment: dict[str, Any], open_: bool) -> str:
    """One moment as a <details> block: what binds, then the terms, the bargain, the alternatives, and a
    sentence per actor."""
    parts = [f'<p class="binding"><strong>What decided it.</strong> {binding_sentence(context, moment)}</p>']
    if moment["kind"] == "collapse":
        parts.append(f"<h3>Keeping the {context.agreement(moment['agreements'][0])} against breaking it</h3>")
        parts.append(_keeping_table(context, moment))
    else:
        terms = "".join(f"<li>{issue_sentence(context, k, v)}</li>" for k, v in moment["issues"].items())
        parts.append(f'<h3>The terms, issue by issue</h3><ul class="why-issues">{terms}</ul>')
        parts.append(_issues_table(context, moment))
        parts.append("<h3>The bargain: weights and reservation values</h3>")
        parts.append(_bargain_table(context, moment))
    parts.append("<h3>Each actor's alternative to a deal, in its parts</h3>")
    parts.append(_alternatives_table(context, moment))
    actors = "".join(
        f"<li>{_swatch(a)}<strong>{context.name(a)}</strong>. {actor_sentence(context, moment, a)}</li>"
        for a in moment["alternatives"]
    )
    parts.append(f'<h3>Each actor in a sentence</h3><ul class="why-actors">{actors}</ul>')
    return (
        f'<details class="why" id="why-{moment["kind"].replace(" ", "-")}-{moment["step"]}"{" open" if open_ else ""}>'
        f"<summary>{_heading(context, moment)}</summary>{''.join(parts)}</details>"
    )


def why_title(why: dict[str, Any]) -> str:
    kinds = [m["kind"] for m in why["moments"]]
    if "deal" in kinds or "in force" in kinds:
        return "Why did the deal land where it did?" + (" And why did it fall?" if "collapse" in kinds else "")
    return "Why was there no deal?"


def why_html(scenario: Any, why: dict[str, Any], agreement_names: dict[str, str]) -> str:
    """The body of the "why" section: every moment of summary.json's `why`, the deciding one open."""
    context = _Context(scenario, agreement_names)
    moments = why["moments"]
    if not moments:
        return "<p>Nothing was signed or broken in this run.</p>"
    deals = [index for index, m in enumerate(moments) if m["kind"] in ("deal", "in force")]
    opened = deals[-1] if deals else len(moments) - 1
    note = (
        f"<p>{why['omitted']} earlier moment{'s' if why['omitted'] != 1 else ''} left out; summary.json lists the "
        "same moments.</p>"
        if why.get("omitted")
        else ""
    )
    return (
        '<div class="why-moments">'
        + note
        + "".join(moment_html(context, m, index == opened) for index, m in enumerate(moments))
        + "</div>"
    )
