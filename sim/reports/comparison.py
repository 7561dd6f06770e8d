"""The comparison page: the figures of two runs overlaid or paired, and tables of the differences.

Time figures are drawn against the step ("week since the start"), so two scenarios that start on
different dates still line up. Each overlaid figure carries both runs' marks (events, deals, collapses,
threats; `comparison_marks`), and a line that would hide under an identical one is drawn with open
circles and named as identical (`sim.reports.overlap`). The numbers come from
`sim.runs.comparison.comparison_data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.model.results import RunResult
from sim.reports.figures import (
    INK,
    ISSUE_COLOURS,
    MARK_STYLE,
    MUTED,
    SUBPLOT_TITLE_ROOM,
    Timeline,
    TimeMark,
    apply_layout,
    colour_of,
    esc,
    issue_space_figure,
    legend_over_first_panel,
    leverage_arrays,
    leverage_over_time_figure,
    mark_badge,
    rounded,
    row_gap,
)
from sim.reports.overlap import distinguish_identical, identical_note
from sim.reports.page import table_html
from sim.reports.run import Section, marks_key, render_page, run_marks, when
from sim.runs.comparison import TINY, Comparison, comparison_data, moved_issues
from sim.scenario.params import params_from_scenario

LABELS = ("A", "B")
DASHES = ("solid", "dash")  # scenario A is drawn solid, B dashed, in every overlaid figure
SCENARIO_INK = (INK, "#b8860b")


def _cell(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return esc(value)


def _difference_cell(value: Any) -> str:
    if value is None:
        return '<td class="num"></td>'
    if isinstance(value, float):
        return f'<td class="num">{value:+.3f}</td>'
    return f'<td class="num">{value:+d}</td>'


def _names(comparison: Comparison) -> dict[str, str]:
    names = {a: actor.name for a, actor in comparison.b.scenario.actors.items()}
    names.update({a: actor.name for a, actor in comparison.a.scenario.actors.items()})
    return names


def _pair_cells(pair: dict[str, Any]) -> list[str]:
    return [
        f'<td class="num">{_cell(pair["a"])}</td>',
        f'<td class="num">{_cell(pair["b"])}</td>',
        _difference_cell(pair["difference"]),
    ]


def outcome_table(data: dict[str, Any]) -> str:
    """The deal, the ceasefire and the war at the end: quantity, A, B, B - A."""
    rows: list[tuple[str, dict[str, Any]]] = [
        ("deal reached", data["deal"]["reached"]),
        ("week of the deal", data["deal"]["step"]),
    ]
    rows += [(f"deal on {issue.replace('_', ' ')} (0 to 1)", pair) for issue, pair in data["deal"]["position"].items()]
    rows += [
        ("weeks the ceasefire held", data["ceasefire"]["held_steps"]),
        ("week the ceasefire collapsed", data["ceasefire"]["collapsed_step"]),
        ("territory held by the government side at the end", data["control"]),
    ]
    return table_html(
        ["quantity", "A", "B", "B - A"], [[f"<td>{esc(label)}</td>", *_pair_cells(pair)] for label, pair in rows]
    )


def actors_table(comparison: Comparison, data: dict[str, Any]) -> str:
    """Each actor's value of the deal and its alternative at the end, in A and B."""
    names = _names(comparison)
    rows = [
        [
            f'<td><span class="swatch" style="background:{colour_of(actor)}"></span>{esc(names.get(actor, actor))}'
            "</td>",
            *_pair_cells(values["utility_of_deal"]),
            *_pair_cells(values["batna"]),
        ]
        for actor, values in data["actors"].items()
    ]
    return table_html(["actor", "value of the deal: A", "B", "B - A", "alternative at the end: A", "B", "B - A"], rows)


def leverage_table(comparison: Comparison, data: dict[str, Any]) -> str:
    """Leverage of each pair at the end, in A and B, by kind and coercive instrument, never added: every
    instrument or kind that either scenario gives, the largest change first."""
    names = _names(comparison)
    rows = []
    for pair, values in data["leverage"].items():
        i, j = pair.split("->")
        kinds = {f"coercive, {m.replace('_', ' ')}": v for m, v in values.get("coercive_by_instrument", {}).items()}
        kinds["inducement"] = values["inducement"]
        for kind, value in kinds.items():
            if max(abs(value["a"] or 0.0), abs(value["b"] or 0.0)) > TINY:
                rows.append((abs(value["difference"] or 0.0), names.get(i, i), names.get(j, j), kind, value))
    rows.sort(key=lambda row: -row[0])
    cells = [
        [f"<td>{esc(i)} over {esc(j)}</td>", f"<td>{esc(kind)}</td>", *_pair_cells(value)]
        for _, i, j, kind, value in rows
    ]
    header = ["who over whom", "kind", "A", "B", "B - A"]
    return table_html(header, cells) if cells else "<p>No leverage in either scenario.</p>"


def comparison_header(comparison: Comparison, outcome: str = "") -> str:
    """The comparison's outcome sentence (as the reports index shows it), then both scenarios: name,
    outcome sentence, description, seed, file and hash."""
    blocks = []
    for label, result in zip(LABELS, comparison.runs, strict=True):
        summary = result.summary
        blocks.append(
            f"<div><h2>{label}: {esc(result.scenario.name)}</h2>"
            f'<p class="outcome"><span class="label">Outcome of {label}</span>'
            f'<span id="outcome-{label.lower()}">{esc(summary["outcome"])}</span></p>'
            f'<p class="description">{esc(result.scenario.description)}</p>'
            '<dl class="meta">'
            f"<div><dt>Seed</dt><dd>{esc(summary['seed'])}</dd></div>"
            f"<div><dt>Period</dt><dd>{esc(summary['start'])} to {esc(summary['end'])}</dd></div>"
            f"<div><dt>Scenario file</dt><dd>{esc(summary['scenario']['file'])}<br>"
            f'<code title="sha256 of the scenario file">sha256 {esc(summary["scenario"]["sha256"])}</code></dd></div>'
            "</dl></div>"
        )
    return (
        '<header class="report"><p class="kicker">Negotiation simulation: two scenarios compared</p>'
        f"<h1>{esc(comparison.a.scenario.name)} against {esc(comparison.b.scenario.name)}</h1>"
        + (
            f'<p class="outcome"><span class="label">Outcome</span><span id="outcome">{esc(outcome)}</span></p>'
            if outcome
            else ""
        )
        + f"{''.join(blocks)}"
        '<p class="description">In every overlaid figure A is drawn with solid lines and B with dashed ones; '
        "time runs in weeks since each scenario's start.</p></header>"
    )


def _steps(result: RunResult) -> pd.DataFrame:
    return result.timeseries.drop_duplicates("step").sort_values("step")


@dataclass(frozen=True)
class SharedMark:
    """A mark on the step axis of an overlaid figure, in A, in B or in both (`scenarios`)."""

    mark: TimeMark
    scenarios: tuple[str, ...]  # ("A",), ("B",) or ("A", "B")
    number: int | None = None  # the event's number in the comparison's key

    @property
    def badge(self) -> str:
        core = str(self.number) if self.mark.kind == "event" and self.number is not None else self.mark.badge
        return core if len(self.scenarios) == 2 else f"{self.scenarios[0]} {core}"

    @property
    def dash(self) -> str:
        """Solid for A alone, dashed for B alone (as their lines), dotted for a mark both share."""
        return "dot" if len(self.scenarios) == 2 else DASHES[LABELS.index(self.scenarios[0])]


def comparison_marks(comparison: Comparison) -> list[SharedMark]:
    """Both runs' marks (`run_marks`: events, the deal, collapses, threats) in step order; a mark that A and B
    share (same step, kind and label) appears once, for both. Events are numbered anew across the two."""
    found: dict[tuple[int, str, str], list[Any]] = {}
    for label, result in zip(LABELS, comparison.runs, strict=True):
        for mark in run_marks(result):
            entry = found.setdefault((mark.step, mark.kind, mark.label), [mark, []])
            entry[1].append(label)
    ordered = sorted(found.values(), key=lambda entry: (entry[0].step, entry[0].kind != "event", entry[1]))
    marks, number = [], 0
    for mark, scenarios in ordered:
        if mark.kind == "event":
            number += 1
        marks.append(SharedMark(mark, tuple(scenarios), number if mark.kind == "event" else None))
    return marks


def _mark_steps(fig: go.Figure, marks: list[SharedMark], above: int = 2) -> None:
    """A vertical line at each mark's step across the figure, and its badge on top (hover: the full label)."""
    placed: list[int] = []
    for shared in marks:
        mark = shared.mark
        style = MARK_STYLE.get(mark.kind, MARK_STYLE["event"])
        fig.add_shape(
            type="line",
            xref="x",
            yref="paper",
            x0=mark.step,
            x1=mark.step,
            y0=0,
            y1=1,
            line=dict(color=style["color"], width=style["width"], dash=shared.dash),
            layer="above",
        )
        crowded = sum(1 for step in placed if abs(step - mark.step) < 2)  # stagger badges of nearby marks
        placed.append(mark.step)
        fig.add_annotation(
            **mark_badge(
                mark.step,
                "x",
                above + 18 * crowded,
                shared.badge,
                style["color"],
                f"{' and '.join(shared.scenarios)}, {esc(when(mark.step, mark.date))}: {esc(mark.label)}",
            )
        )


def comparison_marks_key(marks: list[SharedMark]) -> str:
    """The key to the marks of the overlaid figures, as an HTML list: which scenario, when, what."""
    if not marks:
        return ""
    items = "".join(
        f'<li><span class="badge {esc(m.mark.kind)}">{esc(m.badge)}</span>{" and ".join(m.scenarios)}, '
        f"{esc(when(m.mark.step, m.mark.date))}: {esc(m.mark.label)}</li>"
        for m in marks
    )
    return (
        '<ol class="key" aria-label="marks on the time axes">'
        f"{items}</ol>"
        '<p class="caption">A mark of A alone is drawn solid, of B alone dashed, of both dotted; the date is '
        "each scenario's own.</p>"
    )


def control_overlay_figure(comparison: Comparison, marks: list[SharedMark] | None = None) -> go.Figure:
    """Control of territory (and the chance the government side prevails) in A and B, week by week, with both
    runs' marks (`comparison_marks` unless given)."""
    fig = go.Figure()
    for label, dash, ink, result in zip(LABELS, DASHES, SCENARIO_INK, comparison.runs, strict=True):
        if result.scenario.battlefield is None:
            continue
        steps = _steps(result)
        fig.add_trace(
            go.Scatter(
                x=steps["step"].tolist(),
                y=rounded(steps["control"], 4),
                mode="lines",
                name=f"{label}: territory held by the government side",
                meta=f"{label}'s territory held by the government side",
                line=dict(color=ink, width=3, dash=dash),
                customdata=steps["date"].tolist(),
                hovertemplate=f"{label} (%{{customdata}}): government side holds %{{y:.1%}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=steps["step"].tolist(),
                y=rounded(steps["win_probability"], 4),
                mode="lines",
                name=f"{label}: chance the government side prevails if the war goes on",
                meta=f"{label}'s chance the government side prevails",
                line=dict(color="#c0392b", width=1.5, dash=dash),
                hovertemplate=f"{label}: chance it prevails %{{y:.1%}}<extra></extra>",
            )
        )
    _mark_steps(fig, comparison_marks(comparison) if marks is None else marks)
    fig.update_yaxes(title_text="share of territory / probability (%)", range=[0, 1], tickformat=".0%")
    fig.update_xaxes(title_text="week since the start of the scenario")
    distinguish_identical(fig)
    return apply_layout(fig, "Control of territory: A solid, B dashed", 420, hovermode="x unified")


def _shared(first: list[str], second: list[str]) -> list[str]:
    return [item for item in first if item in second]


def deal_value_overlay_figure(comparison: Comparison, marks: list[SharedMark] | None = None) -> go.Figure:
    """Each actor present in both: the value of the deal on offer and its alternative, A solid, B dashed, with
    both runs' marks (`comparison_marks` unless given)."""
    a, b = comparison.runs
    actors = _shared(list(a.scenario.actors), list(b.scenario.actors))
    names = _names(comparison)
    rows = max(len(actors), 1)
    height = 170 + 170 * rows
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=row_gap(height, rows, gap_px=40),  # a fixed 0.06 exceeds 1 / (rows - 1) from 18 actors
        subplot_titles=[esc(names[actor]) for actor in actors] or ["no actor in common"],
    )
    for row, actor in enumerate(actors, start=1):
        for label, dash, result in zip(LABELS, DASHES, comparison.runs, strict=True):
            data = result.timeseries[result.timeseries["actor"] == actor].sort_values("step")
            steps = data["step"].tolist()
            first = row == 1
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=rounded(data["utility_of_offer"]),
                    mode="lines",
                    name=f"{label}: value of the deal on offer (actor's colour)",
                    meta=f"{label}'s deal on offer to {esc(names[actor])}",
                    legendgroup=f"offer{label}",
                    showlegend=first,
                    line=dict(color=colour_of(actor), width=2.5, dash=dash),
                    hovertemplate=f"{label} {esc(names[actor])}: deal on offer %{{y:.3f}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=rounded(data["batna"]),
                    mode="lines",
                    name=f"{label}: alternative to a deal",
                    meta=f"{label}'s alternative of {esc(names[actor])}",
                    legendgroup=f"batna{label}",
                    showlegend=first,
                    line=dict(color=MUTED, width=1.5, dash=dash),
                    hovertemplate=f"{label} {esc(names[actor])}: alternative %{{y:.3f}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text="utility (0-1)", row=row, col=1)
    _mark_steps(fig, comparison_marks(comparison) if marks is None else marks, above=SUBPLOT_TITLE_ROOM)
    fig.update_xaxes(title_text="week since the start of the scenario", row=max(len(actors), 1), col=1)
    distinguish_identical(fig)
    apply_layout(
        fig,
        "Deal on offer against each actor's alternative: A solid, B dashed",
        height,
        hovermode="x unified",
    )
    # The legend over the first panel and its marks, not under the last panel, far below on a phone.
    return fig.update_layout(**legend_over_first_panel(height, rows))


def proposals_overlay_figure(comparison: Comparison, marks: list[SharedMark] | None = None) -> go.Figure:
    """The proposal on each issue the two scenarios share, week by week: A solid, B dashed, with both runs'
    marks (`comparison_marks` unless given)."""
    a, b = comparison.runs
    issues = _shared(list(a.scenario.issues), list(b.scenario.issues))
    fig = go.Figure()
    for k, issue in enumerate(issues):
        spec = a.scenario.issues[issue]
        for label, dash, result in zip(LABELS, DASHES, comparison.runs, strict=True):
            steps = _steps(result)
            fig.add_trace(
                go.Scatter(
                    x=steps["step"].tolist(),
                    y=rounded(steps[f"proposal_{issue}"]),
                    mode="lines",
                    name=f"{label}: {esc(issue.replace('_', ' '))} (0 = {esc(spec.low)}, 1 = {esc(spec.high)})",
                    meta=f"{label}'s proposal on {esc(issue.replace('_', ' '))}",
                    line=dict(color=ISSUE_COLOURS[k % len(ISSUE_COLOURS)], dash=dash, width=2.5),
                    hovertemplate=f"{label} {esc(issue.replace('_', ' '))}: %{{y:.2f}}<extra></extra>",
                )
            )
    _mark_steps(fig, comparison_marks(comparison) if marks is None else marks)
    fig.update_yaxes(title_text="position on the issue (0 to 1)", range=[-0.05, 1.05])
    fig.update_xaxes(title_text="week since the start of the scenario")
    distinguish_identical(fig)
    return apply_layout(
        fig, "The proposal on each issue: A solid, B dashed", 400 + 22 * len(issues), hovermode="x unified"
    )


def _caption_of_differences(data: dict[str, Any]) -> str:
    reached = data["deal"]["reached"]
    if reached["a"] and reached["b"]:
        moved = moved_issues(data)
        text = (
            "Both reach a deal; B's deal differs from A's by "
            + (", ".join(moved) if moved else "less than 0.01 on every issue")
            + ". "
        )
    elif reached["a"] or reached["b"]:
        text = f"Only {'A' if reached['a'] else 'B'} reaches a deal. "
    else:
        text = "Neither reaches a deal. "
    return text + "Differences are B minus A; utilities are on a 0 to 1 scale, leverage in utility units."


def comparison_sections(comparison: Comparison, data: dict[str, Any]) -> list[Section]:
    """The comparison's page: the difference table, then the overlaid figures (with both runs' marks, and
    identical lines drawn apart), then paired ones."""
    names = _names(comparison)
    marks = comparison_marks(comparison)
    key = comparison_marks_key(marks)
    deal_value = deal_value_overlay_figure(comparison, marks)
    proposals = proposals_overlay_figure(comparison, marks)
    sections = [
        Section(
            "What differs",
            _caption_of_differences(data),
            html_body=outcome_table(data),
            anchor="differences",
            centre=True,
        ),
        Section(
            "Each actor: the deal against its alternative, A and B",
            "Singh's comparison for each side: the value of the deal reached (blank without one) and of the "
            "alternative to a deal in the last week; B - A shows who gains or loses from the change.",
            html_body=actors_table(comparison, data),
            anchor="actors",
        ),
        Section(
            "Leverage at the end, A and B",
            "How far each actor could worsen the other's alternative, instrument by instrument, or sweeten its "
            "deal, in the last week (utility on the target's 0-1 scale; the kinds are never added), the largest "
            "changes first.",
            html_body=leverage_table(comparison, data),
            anchor="leverage-table",
        ),
        Section(
            "Deal on offer against the alternative, A and B",
            "Where an actor's coloured line (the deal on offer) runs above its grey line (its alternative), the "
            "deal pays for it; compare the solid pair (A) with the dashed pair (B) to see whose sums changed.",
            deal_value,
            anchor="deal-value",
            key_html=key + identical_note(deal_value),
        ),
    ]
    if any(result.scenario.battlefield is not None for result in comparison.runs):
        control = control_overlay_figure(comparison, marks)
        sections.append(
            Section(
                "Control of territory, A and B",
                "Shows whether one scenario lets the government side gain more ground, and whether "
                "the war's odds (red) move apart.",
                control,
                anchor="control",
                key_html=key + identical_note(control),
            )
        )
    sections.append(
        Section(
            "Proposals, A and B",
            "Where the offer on each issue moved in each scenario; a gap between solid and dashed "
            "lines of one colour is a different deal on that issue.",
            proposals,
            anchor="proposals",
            key_html=key + identical_note(proposals),
        )
    )
    for label, result in zip(LABELS, comparison.runs, strict=True):
        ids = tuple(result.scenario.actors)
        coercive, inducement = leverage_arrays(result.timeseries, ids)
        own_marks = run_marks(result)
        sections.append(
            Section(
                f"Leverage in {label}: {result.scenario.name}",
                "Who could worsen whose alternative (upper panel) or sweeten whose deal (lower panel), week by week; "
                "compare the two panels of A and B for the same pair.",
                leverage_over_time_figure(
                    coercive, inducement, ids, {a: names[a] for a in ids}, Timeline.of(result.timeseries), own_marks
                ),
                key_html=marks_key(own_marks),
                anchor=f"leverage-{label.lower()}",
            )
        )
    for label, result in zip(LABELS, comparison.runs, strict=True):
        params = params_from_scenario(result.scenario)
        sections.append(
            Section(
                f"Issue space in {label}: {result.scenario.name}",
                "Ideal points and the path of the proposals; the star is the deal.",
                issue_space_figure(
                    result.timeseries, result.scenario, params.ideal[0], params.salience[0], params.free_issues
                ),
                anchor=f"issues-{label.lower()}",
            )
        )
    return sections


def comparison_report(comparison: Comparison, data: dict[str, Any] | None = None) -> str:
    """The comparison as one self-contained HTML page."""
    data = data if data is not None else comparison_data(comparison)
    title = f"{comparison.a.scenario.name} against {comparison.b.scenario.name}"
    return render_page(
        title,
        comparison_header(comparison, data["outcome"]),
        comparison_sections(comparison, data),
        footer_note="A is drawn solid, B dashed; differences are B minus A.",
    )
