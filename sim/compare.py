"""Two scenarios side by side: the same figures overlaid or paired, and a table of the outcome differences.

`compare_scenarios(path_a, path_b)` runs both (each with its own seed unless one is given) and returns a
`Comparison`; `comparison_data` is what `comparison.json` holds, `comparison_report` the HTML page, and
`write_comparison` writes both into a folder atomically. Time figures are drawn against the step
("week since the start"), so two scenarios that start on different dates still line up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.figures import (
    FONT,
    INK,
    ISSUE_COLOURS,
    MUTED,
    TEMPLATE,
    Timeline,
    colour_of,
    esc,
    issue_space_figure,
    leverage_arrays,
    leverage_over_time_figure,
    rounded,
)
from sim.loader import load_scenario
from sim.outputs import write_json, write_outputs, write_text
from sim.params import params_from_scenario
from sim.report import Section, marks_key, render_page, run_marks
from sim.results import RunResult, run_scenario

LABELS = ("A", "B")
DASHES = ("solid", "dash")  # scenario A is drawn solid, B dashed, in every overlaid figure
SCENARIO_INK = (INK, "#b8860b")
TINY = 5e-5  # leverage below this counts as none in the difference table


@dataclass
class Comparison:
    """Two finished runs, A and B."""

    a: RunResult
    b: RunResult

    @property
    def runs(self) -> tuple[RunResult, RunResult]:
        return self.a, self.b


def compare_scenarios(path_a: str | Path, path_b: str | Path, seed: int | None = None) -> Comparison:
    """Load and run two scenario files (each with its own seed unless `seed` is given)."""
    return Comparison(run_scenario(load_scenario(path_a), seed=seed), run_scenario(load_scenario(path_b), seed=seed))


# --- the numbers ---------------------------------------------------------------------------------------


def paired(value_a: Any, value_b: Any) -> dict[str, Any]:
    """{"a", "b", "difference"}: the difference B - A when both are numbers, else None."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (value_a, value_b))
    return {"a": value_a, "b": value_b, "difference": (value_b - value_a) if numbers else None}


def _scenario_entry(result: RunResult) -> dict[str, Any]:
    summary = result.summary
    return {"file": summary["scenario"]["file"], "name": summary["scenario"]["name"],
            "sha256": summary["scenario"]["sha256"], "seed": summary["seed"], "outcome": summary["outcome"]}


def comparison_data(comparison: Comparison) -> dict[str, Any]:
    """What comparison.json holds: both scenarios, the outcome differences (B - A) and both summaries.

    Each compared quantity is {"a", "b", "difference"}, the difference B - A where both are numbers.
    """
    a, b = comparison.a.summary, comparison.b.summary
    issues = list(dict.fromkeys([*(a["deal"]["position"] or {}), *(b["deal"]["position"] or {})]))
    issues = issues or list(dict.fromkeys([*comparison.a.scenario.issues, *comparison.b.scenario.issues]))
    actors = list(dict.fromkeys([*a["actors"], *b["actors"]]))

    def position(summary: dict[str, Any], issue: str) -> float | None:
        return (summary["deal"]["position"] or {}).get(issue)

    def actor_value(summary: dict[str, Any], actor: str, key: str) -> float | None:
        return summary["actors"].get(actor, {}).get(key)

    def war_value(result: RunResult, part: str, key: str) -> Any:
        """A ceasefire quantity, or None for a scenario without a war (a ceasefire means nothing there)."""
        return result.summary[part][key] if result.scenario.battlefield is not None else None

    def leverage(summary: dict[str, Any], kind: str, i: str, j: str) -> float | None:
        return summary[kind].get(i, {}).get(j)

    pairs = [(i, j) for i in actors for j in actors if i != j and any(
        (leverage(s, "leverage", i, j) or 0.0) > TINY for s in (a, b))]
    data = {
        "kind": "compare",
        "a": _scenario_entry(comparison.a),
        "b": _scenario_entry(comparison.b),
        "deal": {
            "reached": paired(a["deal"]["reached"], b["deal"]["reached"]),
            "step": paired(a["deal"]["step"], b["deal"]["step"]),
            "date": paired(a["deal"]["date"], b["deal"]["date"]),
            "in_words": paired(a["deal"]["in_words"], b["deal"]["in_words"]),
            "position": {issue: paired(position(a, issue), position(b, issue)) for issue in issues},
        },
        "ceasefire": {key: paired(war_value(comparison.a, "ceasefire", key),
                                  war_value(comparison.b, "ceasefire", key))
                      for key in ("held_steps", "collapsed_step", "in_force_at_end")},
        "control": paired(a["control"], b["control"]),
        "actors": {actor: {key: paired(actor_value(a, actor, key), actor_value(b, actor, key))
                           for key in ("utility_of_deal", "batna", "distance_from_ideal")} for actor in actors},
        "leverage": {f"{i}->{j}": {kind: paired(leverage(a, f"leverage{suffix}", i, j),
                                                leverage(b, f"leverage{suffix}", i, j))
                                   for kind, suffix in (("total", ""), ("coercive", "_coercive"),
                                                        ("inducement", "_inducement"))}
                     for i, j in pairs},
        "summaries": {"a": a, "b": b},
    }
    data["outcome"] = comparison_outcome(data)
    return data


# --- the page ------------------------------------------------------------------------------------------


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
        return "<td class=\"num\"></td>"
    if isinstance(value, float):
        return f'<td class="num">{value:+.3f}</td>'
    return f'<td class="num">{value:+d}</td>'


def _names(comparison: Comparison) -> dict[str, str]:
    names = {a: actor.name for a, actor in comparison.b.scenario.actors.items()}
    names.update({a: actor.name for a, actor in comparison.a.scenario.actors.items()})
    return names


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    return f'<div class="table-wrap"><table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table></div>'


def _pair_cells(pair: dict[str, Any]) -> list[str]:
    return [f'<td class="num">{_cell(pair["a"])}</td>', f'<td class="num">{_cell(pair["b"])}</td>',
            _difference_cell(pair["difference"])]


def outcome_table(data: dict[str, Any]) -> str:
    """The deal, the ceasefire and the war at the end: quantity, A, B, B - A."""
    rows: list[tuple[str, dict[str, Any]]] = [("deal reached", data["deal"]["reached"]),
                                              ("week of the deal", data["deal"]["step"])]
    rows += [(f"deal on {issue.replace('_', ' ')} (0 to 1)", pair) for issue, pair in data["deal"]["position"].items()]
    rows += [("weeks the ceasefire held", data["ceasefire"]["held_steps"]),
             ("week the ceasefire collapsed", data["ceasefire"]["collapsed_step"]),
             ("territory held by the government side at the end", data["control"])]
    return _table(["quantity", "A", "B", "B - A"], [[f"<td>{esc(label)}</td>", *_pair_cells(pair)]
                                                    for label, pair in rows])


def actors_table(comparison: Comparison, data: dict[str, Any]) -> str:
    """Each actor's value of the deal and its alternative at the end, in A and B."""
    names = _names(comparison)
    rows = [[f'<td><span class="swatch" style="background:{colour_of(actor)}"></span>{esc(names.get(actor, actor))}'
             "</td>", *_pair_cells(values["utility_of_deal"]), *_pair_cells(values["batna"])]
            for actor, values in data["actors"].items()]
    return _table(["actor", "value of the deal: A", "B", "B - A", "alternative at the end: A", "B", "B - A"], rows)


def leverage_table(comparison: Comparison, data: dict[str, Any]) -> str:
    """Leverage (coercive + inducement) of each pair at the end, in A and B, largest change first."""
    names = _names(comparison)
    pairs = sorted(data["leverage"].items(), key=lambda item: -abs(item[1]["total"]["difference"] or 0.0))
    rows = []
    for pair, values in pairs:
        i, j = pair.split("->")
        rows.append([f"<td>{esc(names.get(i, i))} over {esc(names.get(j, j))}</td>", *_pair_cells(values["total"])])
    return _table(["who over whom", "A", "B", "B - A"], rows) if rows else "<p>No leverage in either scenario.</p>"


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
            f"<code title=\"sha256 of the scenario file\">sha256 {esc(summary['scenario']['sha256'])}</code></dd></div>"
            "</dl></div>")
    return ('<header class="report"><p class="kicker">Negotiation simulation: two scenarios compared</p>'
            f"<h1>{esc(comparison.a.scenario.name)} against {esc(comparison.b.scenario.name)}</h1>"
            + (f'<p class="outcome"><span class="label">Outcome</span><span id="outcome">{esc(outcome)}</span></p>'
               if outcome else "")
            + f"{''.join(blocks)}"
            '<p class="description">In every overlaid figure A is drawn with solid lines and B with dashed ones; '
            "time runs in weeks since each scenario's start.</p></header>")


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left", y=0.995, yref="container", yanchor="top",
                                 font=dict(size=15)),
                      height=height, template=TEMPLATE, font=FONT, autosize=True,
                      margin=dict(l=64, r=24, t=64, b=40, autoexpand=True),
                      legend=dict(orientation="h", yref="container", y=0.005, yanchor="bottom", x=0, xanchor="left",
                                  font=dict(size=12)),
                      hovermode="x unified")
    return fig


def _steps(result: RunResult) -> pd.DataFrame:
    return result.timeseries.drop_duplicates("step").sort_values("step")


def _mark_deals(fig: go.Figure, comparison: Comparison) -> None:
    """A vertical line at each scenario's deal (solid for A, dashed for B)."""
    for label, dash, result in zip(LABELS, DASHES, comparison.runs, strict=True):
        step = result.summary["deal"]["step"]
        if step is not None:
            fig.add_vline(x=step, line=dict(color="#2e8b57", dash=dash, width=1.5))
            fig.add_annotation(x=step, y=1, yref="paper", yanchor="bottom", text=f"deal {label}", showarrow=False,
                               font=dict(size=11, color="#2e8b57"), xshift=4 if label == "A" else -4,
                               xanchor="left" if label == "A" else "right")


def control_overlay_figure(comparison: Comparison) -> go.Figure:
    """Control of territory (and the chance the government side prevails) in A and B, week by week."""
    fig = go.Figure()
    for label, dash, ink, result in zip(LABELS, DASHES, SCENARIO_INK, comparison.runs, strict=True):
        if result.scenario.battlefield is None:
            continue
        steps = _steps(result)
        fig.add_trace(go.Scatter(x=steps["step"].tolist(), y=rounded(steps["control"], 4), mode="lines",
                                 name=f"{label}: territory held by the government side",
                                 line=dict(color=ink, width=3, dash=dash), customdata=steps["date"].tolist(),
                                 hovertemplate=f"{label} (%{{customdata}}): government side holds %{{y:.1%}}"
                                               "<extra></extra>"))
        fig.add_trace(go.Scatter(x=steps["step"].tolist(), y=rounded(steps["win_probability"], 4), mode="lines",
                                 name=f"{label}: chance the government side prevails if the war goes on",
                                 line=dict(color="#c0392b", width=1.5, dash=dash),
                                 hovertemplate=f"{label}: chance it prevails %{{y:.1%}}<extra></extra>"))
    _mark_deals(fig, comparison)
    fig.update_yaxes(title_text="share of territory / probability (%)", range=[0, 1], tickformat=".0%")
    fig.update_xaxes(title_text="week since the start of the scenario")
    return _layout(fig, "Control of territory: A solid, B dashed", 420)


def _shared(first: list[str], second: list[str]) -> list[str]:
    return [item for item in first if item in second]


def deal_value_overlay_figure(comparison: Comparison) -> go.Figure:
    """Each actor present in both: the value of the deal on offer and its alternative, A solid, B dashed."""
    a, b = comparison.runs
    actors = _shared(list(a.scenario.actors), list(b.scenario.actors))
    names = _names(comparison)
    fig = make_subplots(rows=max(len(actors), 1), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[esc(names[actor]) for actor in actors] or ["no actor in common"])
    for row, actor in enumerate(actors, start=1):
        for label, dash, result in zip(LABELS, DASHES, comparison.runs, strict=True):
            data = result.timeseries[result.timeseries["actor"] == actor].sort_values("step")
            steps = data["step"].tolist()
            first = row == 1
            fig.add_trace(go.Scatter(x=steps, y=rounded(data["utility_of_offer"]), mode="lines",
                                     name=f"{label}: value of the deal on offer (actor's colour)",
                                     legendgroup=f"offer{label}", showlegend=first,
                                     line=dict(color=colour_of(actor), width=2.5, dash=dash),
                                     hovertemplate=f"{label} {esc(names[actor])}: deal on offer %{{y:.3f}}"
                                                   "<extra></extra>"), row=row, col=1)
            fig.add_trace(go.Scatter(x=steps, y=rounded(data["batna"]), mode="lines",
                                     name=f"{label}: alternative to a deal", legendgroup=f"batna{label}",
                                     showlegend=first, line=dict(color=MUTED, width=1.5, dash=dash),
                                     hovertemplate=f"{label} {esc(names[actor])}: alternative %{{y:.3f}}"
                                                   "<extra></extra>"), row=row, col=1)
        fig.update_yaxes(title_text="utility (0-1)", row=row, col=1)
    _mark_deals(fig, comparison)
    fig.update_xaxes(title_text="week since the start of the scenario", row=max(len(actors), 1), col=1)
    _layout(fig, "Deal on offer against each actor's alternative: A solid, B dashed", 170 + 170 * max(len(actors), 1))
    return fig.update_layout(margin_t=88)


def proposals_overlay_figure(comparison: Comparison) -> go.Figure:
    """The proposal on each issue the two scenarios share, week by week: A solid, B dashed."""
    a, b = comparison.runs
    issues = _shared(list(a.scenario.issues), list(b.scenario.issues))
    fig = go.Figure()
    for k, issue in enumerate(issues):
        spec = a.scenario.issues[issue]
        for label, dash, result in zip(LABELS, DASHES, comparison.runs, strict=True):
            steps = _steps(result)
            fig.add_trace(go.Scatter(x=steps["step"].tolist(), y=rounded(steps[f"proposal_{issue}"]), mode="lines",
                                     name=f"{label}: {esc(issue.replace('_', ' '))} (0 = {esc(spec.low)}, "
                                          f"1 = {esc(spec.high)})",
                                     line=dict(color=ISSUE_COLOURS[k % len(ISSUE_COLOURS)], dash=dash, width=2.5),
                                     hovertemplate=f"{label} {esc(issue.replace('_', ' '))}: %{{y:.2f}}"
                                                   "<extra></extra>"))
    _mark_deals(fig, comparison)
    fig.update_yaxes(title_text="position on the issue (0 to 1)", range=[-0.05, 1.05])
    fig.update_xaxes(title_text="week since the start of the scenario")
    return _layout(fig, "The proposal on each issue: A solid, B dashed", 400 + 22 * len(issues))


def _moved_issues(data: dict[str, Any]) -> list[str]:
    """'assad role +0.11' for each issue on which B's deal differs from A's by at least 0.01."""
    return [f"{issue.replace('_', ' ')} {pair['difference']:+.2f}" for issue, pair in data["deal"]["position"].items()
            if pair["difference"] is not None and abs(pair["difference"]) >= 0.01]


def _caption_of_differences(data: dict[str, Any]) -> str:
    reached = data["deal"]["reached"]
    if reached["a"] and reached["b"]:
        moved = _moved_issues(data)
        text = ("Both reach a deal; B's deal differs from A's by "
                + (", ".join(moved) if moved else "less than 0.01 on every issue") + ". ")
    elif reached["a"] or reached["b"]:
        text = f"Only {'A' if reached['a'] else 'B'} reaches a deal. "
    else:
        text = "Neither reaches a deal. "
    return text + "Differences are B minus A; utilities are on a 0 to 1 scale, leverage in utility units."


def comparison_sections(comparison: Comparison, data: dict[str, Any]) -> list[Section]:
    """The comparison's page: the difference table, then the overlaid figures, then paired ones."""
    names = _names(comparison)
    sections = [
        Section("What differs", _caption_of_differences(data), html_body=outcome_table(data),
                anchor="differences", centre=True),
        Section("Each actor: the deal against its alternative, A and B",
                "Singh's comparison for each side: the value of the deal reached (blank without one) and of the "
                "alternative to a deal in the last week; B - A shows who gains or loses from the change.",
                html_body=actors_table(comparison, data), anchor="actors"),
        Section("Leverage at the end, A and B",
                "How far each actor could worsen the other's alternative or sweeten its deal in the last week "
                "(utility units), the pairs whose leverage changed most first.",
                html_body=leverage_table(comparison, data), anchor="leverage-table"),
        Section("Deal on offer against the alternative, A and B",
                "Where an actor's coloured line (the deal on offer) runs above its grey line (its alternative), the "
                "deal pays for it; compare the solid pair (A) with the dashed pair (B) to see whose sums changed.",
                deal_value_overlay_figure(comparison), anchor="deal-value"),
    ]
    if any(result.scenario.battlefield is not None for result in comparison.runs):
        sections.append(Section("Control of territory, A and B",
                                "Shows whether one scenario lets the government side gain more ground, and whether "
                                "the war's odds (red) move apart.", control_overlay_figure(comparison),
                                anchor="control"))
    sections.append(Section("Proposals, A and B",
                            "Where the offer on each issue moved in each scenario; a gap between solid and dashed "
                            "lines of one colour is a different deal on that issue.",
                            proposals_overlay_figure(comparison), anchor="proposals"))
    for label, result in zip(LABELS, comparison.runs, strict=True):
        ids = tuple(result.scenario.actors)
        coercive, inducement = leverage_arrays(result.timeseries, ids)
        marks = run_marks(result)
        sections.append(Section(
            f"Leverage in {label}: {result.scenario.name}",
            "Who could worsen whose alternative (upper panel) or sweeten whose deal (lower panel), week by week; "
            "compare the two panels of A and B for the same pair.",
            leverage_over_time_figure(coercive, inducement, ids, {a: names[a] for a in ids},
                                      Timeline.of(result.timeseries), marks),
            key_html=marks_key(marks), anchor=f"leverage-{label.lower()}"))
    for label, result in zip(LABELS, comparison.runs, strict=True):
        params = params_from_scenario(result.scenario)
        sections.append(Section(
            f"Issue space in {label}: {result.scenario.name}",
            "Ideal points and the path of the proposals; the star is the deal.",
            issue_space_figure(result.timeseries, result.scenario, params.ideal[0], params.salience[0],
                               params.free_issues), anchor=f"issues-{label.lower()}"))
    return sections


def comparison_report(comparison: Comparison, data: dict[str, Any] | None = None) -> str:
    """The comparison as one self-contained HTML page."""
    data = data if data is not None else comparison_data(comparison)
    title = f"{comparison.a.scenario.name} against {comparison.b.scenario.name}"
    return render_page(title, comparison_header(comparison, data["outcome"]), comparison_sections(comparison, data),
                       footer_note="A is drawn solid, B dashed; differences are B minus A.")


def comparison_outcome(data: dict[str, Any]) -> str:
    """The comparison in one sentence: each side's deal and ceasefire, and how B's deal differs."""
    parts = []
    for label in ("a", "b"):
        step = data["deal"]["step"][label]
        collapsed = data["ceasefire"]["collapsed_step"][label]
        text = f"{label.upper()}: " + (f"deal in week {step}" if step is not None else "no deal")
        if collapsed is not None:
            text += f", ceasefire collapsed in week {collapsed}"
        parts.append(text)
    moved = _moved_issues(data)
    sentence = "; ".join(parts) + "."
    if moved:
        sentence += " B's deal against A's: " + ", ".join(moved) + "."
    return sentence


def index_summary(comparison: Comparison, data: dict[str, Any]) -> dict[str, Any]:
    """The summary.json of a comparison folder: what the reports index lists (kind, title, outcome)."""
    return {"kind": "compare",
            "title": f"{comparison.a.scenario.name} against {comparison.b.scenario.name}",
            "scenarios": [{"name": data[x]["name"], "file": data[x]["file"]} for x in ("a", "b")],
            "outcome": comparison_outcome(data)}


def write_comparison(comparison: Comparison, folder: Path, force: bool = False) -> list[Path]:
    """Write report.html, comparison.json and a short summary.json (for the reports index) into `folder`,
    atomically."""
    data = comparison_data(comparison)
    return write_outputs(Path(folder), {"comparison.json": write_json(_json_ready(data)),
                                        "summary.json": write_json(index_summary(comparison, data)),
                                        "report.html": write_text(comparison_report(comparison, data))},
                         force=force)


def _json_ready(value: Any) -> Any:
    """NaN and infinities as null, numpy scalars as numbers."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
