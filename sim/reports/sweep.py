"""The report of a grid sweep: the outcomes along one field (lines) or over two (heatmaps), and a table.

Fields are named as the scenario names them (the summary's `labels`, `sim.runs.labels`); every share and
mean carries its 95% interval over the runs at its grid point, in the figures as in the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.reports.figures import BAND_50, MEDIAN, MUTED, apply_layout, esc, legend_over_first_panel, rounded
from sim.reports.overlap import distinguish_identical, identical_note
from sim.reports.page import Section, many_runs_header, render_page
from sim.runs.statistics import wilson_interval
from sim.scenario.schema import Scenario

NEUTRAL = MUTED
HISTOGRAM_BINS = 40


SWEEP_METRICS = {
    "deal_probability": ("probability of a deal", ".0%"),
    "time_to_deal_mean": ("mean step of the deal", ".1f"),
    "collapse_probability": ("probability the ceasefire collapses", ".0%"),
    "control_end_mean": ("mean control at the end", ".2f"),
}
# The 95% interval of each metric in a point's summary (`sim.runs.sweep.point_summaries`).
INTERVALS = {
    "deal_probability": "deal_ci95",
    "time_to_deal_mean": "time_to_deal_ci95",
    "collapse_probability": "collapse_ci95",
}


def _label(labels: dict[str, str] | None, path: str) -> str:
    return (labels or {}).get(path, path)


def _fmt(value: Any, spec: str) -> str:
    return "&ndash;" if value is None else format(value, spec)


def _interval_text(point: dict[str, Any], metric: str, spec: str) -> str:
    """'48% to 74%' for a point's metric, '' when the summary has no interval for it."""
    interval = point.get(INTERVALS.get(metric, ""))
    return f"{_fmt(interval[0], spec)} to {_fmt(interval[1], spec)}" if interval else ""


def sweep_line_figure(
    points: list[dict[str, Any]], path: str, issues: Sequence[str], label: str | None = None
) -> go.Figure:
    """Outcomes against one swept field (`label` names it; its path otherwise), each share with its 95% band."""
    label = label or path
    x = [p["values"][path] for p in points]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=[
            "probability of a deal and of a ceasefire collapse (bands: 95% intervals)",
            "where the deal lands on each issue (mean over runs with a deal)",
        ],
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p["deal_ci95"][0] for p in points],
            mode="lines",
            line=dict(width=0),
            showlegend=False,
            hoverinfo="skip",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p["deal_ci95"][1] for p in points],
            mode="lines",
            line=dict(width=0),
            fill="tonexty",
            fillcolor=BAND_50,
            name="95% interval of a deal",
            hoverinfo="skip",
        ),
        row=1,
        col=1,
    )
    if all(p.get("collapse_ci95") for p in points):
        for index, end in enumerate((0, 1)):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[p["collapse_ci95"][end] for p in points],
                    mode="lines",
                    line=dict(width=0),
                    fill="tonexty" if index else None,
                    fillcolor="rgba(192, 57, 43, 0.15)",
                    name="95% interval of a collapse",
                    showlegend=bool(index),
                    hoverinfo="skip",
                ),
                row=1,
                col=1,
            )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p["deal_probability"] for p in points],
            mode="lines+markers",
            line=dict(color=MEDIAN, width=2.5),
            name="probability of a deal",
            meta="the probability of a deal",
            customdata=[_interval_text(p, "deal_probability", ".1%") for p in points],
            hovertemplate="%{x}<br>deal in %{y:.1%} of runs (95% interval %{customdata})<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p["collapse_probability"] for p in points],
            mode="lines+markers",
            line=dict(color="#c0392b", width=2, dash="dash"),
            name="probability of a collapse",
            meta="the probability of a collapse",
            customdata=[_interval_text(p, "collapse_probability", ".1%") or "not given" for p in points],
            hovertemplate="%{x}<br>collapse in %{y:.1%} of runs (95% interval %{customdata})<extra></extra>",
        ),
        row=1,
        col=1,
    )
    for index, issue in enumerate(issues):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[p["deal_position_mean"][issue] for p in points],
                mode="lines+markers",
                line=dict(dash=["solid", "dot", "dashdot", "longdash"][index % 4], color=NEUTRAL),
                name=f"deal on {esc(issue.replace('_', ' '))}",
                meta=f"the deal on {esc(issue.replace('_', ' '))}",
                hovertemplate=f"{esc(issue.replace('_', ' '))}<br>%{{x}}<br>%{{y:.3f}}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text="share of runs", range=[0, 1.02], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text="position (0 to 1)", range=[0, 1], row=2, col=1)
    fig.update_xaxes(title_text=esc(label), row=2, col=1)
    distinguish_identical(fig)  # e.g. two issues whose deal stays at 0
    apply_layout(fig, f"Outcomes as {esc(label)} varies", 640)
    # Over the first panel, not under the second.
    return fig.update_layout(**legend_over_first_panel(640, 2))


def sweep_heatmap_figure(
    points: list[dict[str, Any]],
    paths: Sequence[str],
    grids: dict[str, list[float]],
    metric: str,
    labels: dict[str, str] | None = None,
) -> go.Figure:
    """One outcome over a two-field grid; each cell shows its value and, under it, its 95% interval."""
    first, second = paths
    label, number_format = SWEEP_METRICS[metric]
    z = np.full((len(grids[second]), len(grids[first])), np.nan)
    text = [[""] * len(grids[first]) for _ in grids[second]]
    for point in points:
        i = grids[second].index(point["values"][second])
        j = grids[first].index(point["values"][first])
        value = point[metric]
        z[i, j] = np.nan if value is None else value
        interval = _interval_text(point, metric, number_format)
        text[i][j] = _fmt(value, number_format) + (
            f"<br><span style='font-size:10px'>{interval}</span>" if interval and value is not None else ""
        )
    is_share = number_format.endswith("%")
    first_label, second_label = esc(_label(labels, first)), esc(_label(labels, second))
    fig = go.Figure(
        go.Heatmap(
            z=[rounded(row, 4) for row in z],
            x=grids[first],
            y=grids[second],
            colorscale="Blues",
            zmin=0 if is_share else None,
            zmax=1 if is_share else None,
            colorbar=dict(title=dict(text="share" if is_share else "value"), tickformat=".0%" if is_share else None),
            text=text,
            hovertemplate=f"{first_label} %{{x}}<br>{second_label} %{{y}}<br>{label} %{{text}}<extra></extra>",
            texttemplate="%{text}",
            textfont=dict(size=13),
        )
    )
    fig.update_xaxes(title_text=first_label)
    fig.update_yaxes(title_text=second_label)
    return apply_layout(fig, f"{label.capitalize()} over the grid", 480)


def sweep_table(
    points: list[dict[str, Any]], paths: Sequence[str], issues: Sequence[str], labels: dict[str, str] | None = None
) -> str:
    """Every grid point: its values, runs, and each outcome with its 95% interval."""

    def with_interval(point: dict[str, Any], metric: str, spec: str) -> str:
        interval = _interval_text(point, metric, spec)
        return _fmt(point.get(metric), spec) + (f" ({interval})" if interval and point.get(metric) is not None else "")

    head = (
        "".join(f"<th>{esc(_label(labels, p))}<br><code>{esc(p)}</code></th>" for p in paths)
        + "<th>runs</th><th>deal (95% interval)</th><th>mean step of deal (95% interval)</th>"
        "<th>collapse (95% interval)</th><th>control at end</th>"
        + "".join(f"<th>deal on {esc(k.replace('_', ' '))}</th>" for k in issues)
    )
    rows = []
    for point in points:
        cells = "".join(f'<td class="num">{point["values"][p]:g}</td>' for p in paths)
        cells += (
            f'<td class="num">{point["runs"]}</td>'
            f'<td class="num">{with_interval(point, "deal_probability", ".1%")}</td>'
            f'<td class="num">{with_interval(point, "time_to_deal_mean", ".1f")}</td>'
            f'<td class="num">{with_interval(point, "collapse_probability", ".1%")}</td>'
            f'<td class="num">{_fmt(point["control_end_mean"], ".3f")}</td>'
        )
        cells += "".join(f'<td class="num">{_fmt(point["deal_position_mean"][k], ".3f")}</td>' for k in issues)
        rows.append(f"<tr>{cells}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def seeding_text(summary: dict[str, Any]) -> str:
    """How the runs' seeds were chosen, in words (for a summary without it, from its seed and runs)."""
    seeds = summary.get("seeds")
    if seeds and seeds.get("in_words"):
        return str(seeds["in_words"])
    return f"Every grid point runs the same {summary['runs_per_point']:,} seeds (drawn from seed {summary['seed']})."


def sweep_report(summary: dict[str, Any], scenario: Scenario) -> str:
    """The HTML report of a grid sweep: lines for one field, heatmaps for two, lines per field beyond."""
    paths = list(summary["grid"])
    grids = summary["grid"]
    points = summary["points"]
    issues = list(scenario.issues)
    labels = summary.get("labels") or {}
    facts = [
        ("Grid", esc(" × ".join(f"{_label(labels, p)} ({len(v)} values)" for p, v in grids.items()))),
        ("Runs per point", f"{summary['runs_per_point']:,}"),
        (
            "Seeds",
            f"the same {summary['runs_per_point']:,} at every grid point (from seed {esc(summary['seed'])}): a "
            "difference between points is not luck",
        ),
    ]
    header = many_runs_header(
        "Negotiation simulation: parameter sweep",
        scenario,
        summary["scenario"]["file"],
        summary["scenario"]["sha256"],
        summary["outcome"],
        facts,
    )
    sections: list[Section] = []
    if len(paths) == 2:
        for metric in ("deal_probability", "time_to_deal_mean", "collapse_probability"):
            label = SWEEP_METRICS[metric][0]
            sections.append(
                Section(
                    label.capitalize(),
                    f"Each cell is the {label} over the {summary['runs_per_point']:,} runs at that pair of "
                    "values, with its 95% interval under it; read along a row or a column to see one field's "
                    "effect with the other held fixed. Two cells whose intervals overlap may not differ.",
                    sweep_heatmap_figure(points, paths, grids, metric, labels),
                    anchor=metric.replace("_", "-"),
                )
            )
    else:
        for path in paths:
            marginal = _marginal(points, path, issues) if len(paths) > 1 else points
            caption = "How the outcomes move with this field" + (
                ", averaged over the other fields' values."
                if len(paths) > 1
                else "; the bands are the 95% intervals of the probabilities of a deal and of a collapse."
            )
            figure = sweep_line_figure(marginal, path, issues, _label(labels, path))
            sections.append(
                Section(
                    f"Outcomes against {_label(labels, path)}",
                    caption,
                    figure,
                    anchor=f"line-{len(sections) + 1}",
                    key_html=identical_note(figure),
                )
            )
    sections.append(
        Section(
            "Every grid point",
            "The outcomes at each point of the grid, over its runs, with 95% intervals: Wilson's for the shares, "
            "the normal approximation for the mean step of the deal. " + seeding_text(summary),
            html_body=sweep_table(points, paths, issues, labels),
            anchor="points",
        )
    )
    return render_page(f"{scenario.name}: sweep", header, sections)


def _marginal(points: list[dict[str, Any]], path: str, issues: Sequence[str]) -> list[dict[str, Any]]:
    """Points averaged over every field but `path` (weighted by runs)."""

    groups: dict[float, list[dict[str, Any]]] = {}
    for point in points:
        groups.setdefault(point["values"][path], []).append(point)
    merged = []
    for value, members in sorted(groups.items()):
        runs = sum(p["runs"] for p in members)
        deals = sum(p["deals"] for p in members)
        collapses = [p.get("collapses") for p in members]

        def mean(key: str, weight: str = "runs", members: list[dict[str, Any]] = members) -> float | None:
            known = [(p[key], p[weight]) for p in members if p[key] is not None and p[weight]]
            total = sum(w for _, w in known)
            return sum(v * w for v, w in known) / total if total else None

        position = {}
        for issue in issues:
            known = [
                (p["deal_position_mean"][issue], p["deals"])
                for p in members
                if p["deal_position_mean"][issue] is not None
            ]
            total = sum(w for _, w in known)
            position[issue] = sum(v * w for v, w in known) / total if total else None
        merged.append(
            {
                "values": {path: value},
                "runs": runs,
                "deals": deals,
                "deal_probability": deals / runs if runs else None,
                "deal_ci95": list(wilson_interval(deals, runs)),
                "collapse_probability": mean("collapse_probability"),
                "collapse_ci95": list(wilson_interval(sum(collapses), runs)) if None not in collapses else None,
                "deal_position_mean": position,
            }
        )
    return merged
