"""The report of a grid sweep: the outcomes along one field (lines) or over two (heatmaps), and a table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.reports.figures import BAND_50, MEDIAN, MUTED, apply_layout, esc, rounded
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


def sweep_line_figure(points: list[dict[str, Any]], path: str, issues: Sequence[str]) -> go.Figure:
    """Outcomes against one swept field."""
    x = [p["values"][path] for p in points]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=[
            "probability of a deal (95% interval) and of a ceasefire collapse",
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
            name="95% interval",
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
            hovertemplate="%{x}<br>deal in %{y:.1%} of runs<extra></extra>",
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
            hovertemplate="%{x}<br>collapse in %{y:.1%} of runs<extra></extra>",
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
                name=f"deal on {esc(issue)}",
                hovertemplate=f"{esc(issue)}<br>%{{x}}<br>%{{y:.3f}}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text="share of runs", range=[0, 1.02], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text="position (0 to 1)", range=[0, 1], row=2, col=1)
    fig.update_xaxes(title_text=esc(path), row=2, col=1)
    return apply_layout(fig, f"Outcomes as {esc(path)} varies", 640)


def sweep_heatmap_figure(
    points: list[dict[str, Any]], paths: Sequence[str], grids: dict[str, list[float]], metric: str
) -> go.Figure:
    """One outcome over a two-field grid."""
    first, second = paths
    label, number_format = SWEEP_METRICS[metric]
    z = np.full((len(grids[second]), len(grids[first])), np.nan)
    for point in points:
        i = grids[second].index(point["values"][second])
        j = grids[first].index(point["values"][first])
        value = point[metric]
        z[i, j] = np.nan if value is None else value
    is_share = number_format.endswith("%")
    fig = go.Figure(
        go.Heatmap(
            z=[rounded(row, 4) for row in z],
            x=grids[first],
            y=grids[second],
            colorscale="Blues",
            zmin=0 if is_share else None,
            zmax=1 if is_share else None,
            colorbar=dict(title=dict(text="share" if is_share else "value"), tickformat=".0%" if is_share else None),
            hovertemplate=f"{esc(first)} %{{x}}<br>{esc(second)} %{{y}}<br>{label} "
            f"%{{z:{number_format}}}<extra></extra>",
            texttemplate=f"%{{z:{number_format}}}",
        )
    )
    fig.update_xaxes(title_text=esc(first))
    fig.update_yaxes(title_text=esc(second))
    return apply_layout(fig, f"{label.capitalize()} over the grid", 480)


def sweep_table(points: list[dict[str, Any]], paths: Sequence[str], issues: Sequence[str]) -> str:
    def fmt(value: Any, spec: str) -> str:
        return "&ndash;" if value is None else format(value, spec)

    head = (
        "".join(f"<th><code>{esc(p)}</code></th>" for p in paths)
        + "<th>runs</th><th>deal</th><th>95% interval</th><th>mean step of deal</th><th>collapse</th>"
        "<th>control at end</th>" + "".join(f"<th>deal on {esc(k)}</th>" for k in issues)
    )
    rows = []
    for point in points:
        cells = "".join(f"<td>{point['values'][p]:g}</td>" for p in paths)
        cells += (
            f"<td>{point['runs']}</td><td>{fmt(point['deal_probability'], '.1%')}</td>"
            f"<td>{fmt(point['deal_ci95'][0], '.1%')} to {fmt(point['deal_ci95'][1], '.1%')}</td>"
            f"<td>{fmt(point['time_to_deal_mean'], '.1f')}</td>"
            f"<td>{fmt(point['collapse_probability'], '.1%')}</td>"
            f"<td>{fmt(point['control_end_mean'], '.3f')}</td>"
        )
        cells += "".join(f"<td>{fmt(point['deal_position_mean'][k], '.3f')}</td>" for k in issues)
        rows.append(f"<tr>{cells}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def sweep_report(summary: dict[str, Any], scenario: Scenario) -> str:
    """The HTML report of a grid sweep: lines for one field, heatmaps for two, lines per field beyond."""
    paths = list(summary["grid"])
    grids = summary["grid"]
    points = summary["points"]
    issues = list(scenario.issues)
    facts = [
        ("Grid", esc(" × ".join(f"{p} ({len(v)} values)" for p, v in grids.items()))),
        ("Runs per point", f"{summary['runs_per_point']:,}"),
        ("Seed", esc(summary["seed"])),
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
                    f"Each cell is the {label} over the runs at that pair of "
                    "values; read along a row or a column to see one field's effect with the other "
                    "held fixed.",
                    sweep_heatmap_figure(points, paths, grids, metric),
                    anchor=metric.replace("_", "-"),
                )
            )
    else:
        for path in paths:
            marginal = _marginal(points, path, issues) if len(paths) > 1 else points
            caption = "How the outcomes move with this field" + (
                ", averaged over the other fields' values."
                if len(paths) > 1
                else "; the band is the 95% interval of the probability of a deal."
            )
            sections.append(
                Section(
                    f"Outcomes against {path}",
                    caption,
                    sweep_line_figure(marginal, path, issues),
                    anchor=f"line-{len(sections) + 1}",
                )
            )
    sections.append(
        Section(
            "Every grid point",
            "The outcomes at each point of the grid, over its runs.",
            html_body=sweep_table(points, paths, issues),
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
                "deal_position_mean": position,
            }
        )
    return merged
