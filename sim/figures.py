"""The report's figures (plotly), each answering one question about a run.

Every string that comes from a scenario is HTML-escaped before it reaches a
figure: plotly renders a subset of HTML in titles, labels and hover text.
"""

from __future__ import annotations

import hashlib
import html
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# The default cast keeps the same colour in every figure and every report.
ACTOR_COLOURS = {
    "us": "#1f5fa8",
    "russia": "#c0392b",
    "iran": "#2e8b57",
    "turkey": "#e67e22",
    "opposition": "#7d3c98",
}
PALETTE = ["#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#1abc9c", "#34495e", "#d35400"]
ZONE_FILL = "rgba(46, 160, 67, 0.13)"
CEASEFIRE_FILL = "rgba(31, 95, 168, 0.08)"
FONT = dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=13)


def colour_of(actor_id: str) -> str:
    """A fixed colour per actor id: the default cast's own, else one chosen by a hash of the id."""
    if actor_id in ACTOR_COLOURS:
        return ACTOR_COLOURS[actor_id]
    digest = int(hashlib.sha256(actor_id.encode("utf-8")).hexdigest(), 16)
    return PALETTE[digest % len(PALETTE)]


def esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left"), height=height, font=FONT,
                      margin=dict(l=60, r=20, t=60, b=50), template="plotly_white",
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
                      hoverlabel=dict(namelength=-1))
    return fig


def _runs_of(flags: list[bool]) -> list[tuple[int, int]]:
    """Contiguous runs [start, end] of True in a list of step flags."""
    runs, start = [], None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index - 1))
            start = None
    return runs


def shade_steps(fig: go.Figure, dates: list[str], flags: list[bool], colour: str, label: str,
                row: int | None = None, col: int | None = None) -> None:
    """Shade the date ranges where `flags` holds (half a step either side of each step)."""
    for start, end in _runs_of(flags):
        x0 = pd.Timestamp(dates[start]) - pd.Timedelta(days=3)
        x1 = pd.Timestamp(dates[end]) + pd.Timedelta(days=3)
        kwargs: dict[str, Any] = dict(x0=x0, x1=x1, fillcolor=colour, line_width=0, layer="below")
        if row is not None:
            kwargs.update(row=row, col=col)
        fig.add_vrect(**kwargs)
    if any(flags):  # a legend entry for the shading
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=label,
                                 marker=dict(size=12, symbol="square", color=colour.replace("0.13", "0.4")
                                             .replace("0.08", "0.3"))),
                      **({"row": row, "col": col} if row is not None else {}))


def mark_events(fig: go.Figure, marks: list[tuple[int, str, str]], rows: int = 1) -> None:
    """Dashed vertical lines with labels at the scenario's events, deal and collapse."""
    for index, (_, date, label) in enumerate(marks):
        for row in range(1, rows + 1):
            kwargs: dict[str, Any] = dict(x=pd.Timestamp(date).timestamp() * 1000, line_dash="dot",
                                          line_color="#555", line_width=1)
            if rows > 1:
                kwargs.update(row=row, col=1)
            fig.add_vline(**kwargs)
        fig.add_annotation(x=pd.Timestamp(date), y=1.0 - 0.07 * (index % 3), yref="paper", text=esc(label),
                           showarrow=False, xanchor="left", font=dict(size=11, color="#333"),
                           bgcolor="rgba(255,255,255,0.8)")


def control_figure(timeseries: pd.DataFrame, marks: list[tuple[int, str, str]]) -> go.Figure:
    """Control of territory and the war lottery over time, with events and ceasefire periods."""
    steps = timeseries.drop_duplicates("step").sort_values("step")
    dates = steps["date"].tolist()
    fig = go.Figure()
    shade_steps(fig, dates, steps["ceasefire"].astype(bool).tolist(), CEASEFIRE_FILL, "ceasefire in force")
    fig.add_trace(go.Scatter(x=dates, y=steps["control"].round(4), name="territory held by the government side",
                             mode="lines", line=dict(color="#444", width=3),
                             hovertemplate="%{x}<br>government side holds %{y:.1%}<extra></extra>"))
    fig.add_trace(go.Scatter(x=dates, y=steps["win_probability"].round(4),
                             name="chance the government side prevails if war goes on", mode="lines",
                             line=dict(color="#c0392b", width=2, dash="dash"),
                             hovertemplate="%{x}<br>P(government side prevails) %{y:.1%}<extra></extra>"))
    mark_events(fig, marks)
    fig.update_yaxes(title_text="share (0 to 1)", range=[0, 1], tickformat=".0%")
    fig.update_xaxes(title_text="date")
    return _layout(fig, "Control of territory and the odds of war", 420)


def deal_value_figure(timeseries: pd.DataFrame, actor_ids: tuple[str, ...], names: dict[str, str],
                      required: dict[str, bool], marks: list[tuple[int, str, str]]) -> go.Figure:
    """Each actor's value of the deal on offer against its alternative to a deal (Singh's comparison)."""
    rows = len(actor_ids)
    titles = [f"{esc(names[a])}{' (consent required)' if required[a] else ''}" for a in actor_ids]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.045)
    steps = timeseries.drop_duplicates("step").sort_values("step")
    dates = steps["date"].tolist()
    zone = steps["zone_exists"].astype(bool).tolist()
    for row, actor_id in enumerate(actor_ids, start=1):
        data = timeseries[timeseries["actor"] == actor_id].sort_values("step")
        name = esc(names[actor_id])
        offer = data["utility_of_offer"].to_numpy()
        alternative = data["batna"].to_numpy()
        colour = colour_of(actor_id)
        shade_steps(fig, dates, zone, ZONE_FILL, "zone of possible agreement (all required parties)", row, 1) \
            if row == 1 else shade_steps(fig, dates, zone, ZONE_FILL, "", row, 1)
        fig.add_trace(go.Scatter(x=dates, y=alternative.round(4), mode="lines", name="alternative to a deal (BATNA)",
                                 line=dict(color="#222", width=2, dash="dash"), legendgroup="batna",
                                 showlegend=row == 1,
                                 hovertemplate=f"{name}<br>%{{x}}<br>alternative to a deal %{{y:.3f}}<extra></extra>"),
                      row=row, col=1)
        fig.add_trace(go.Scatter(x=dates, y=np.maximum(offer, alternative).round(4), mode="lines",
                                 line=dict(width=0), fill="tonexty", fillcolor="rgba(46,160,67,0.35)",
                                 name="deal worth more than the alternative", legendgroup="gain",
                                 showlegend=row == 1, hoverinfo="skip"), row=row, col=1)
        fig.add_trace(go.Scatter(x=dates, y=alternative.round(4), mode="lines", line=dict(width=0),
                                 showlegend=False, hoverinfo="skip"), row=row, col=1)
        fig.add_trace(go.Scatter(x=dates, y=np.minimum(offer, alternative).round(4), mode="lines",
                                 line=dict(width=0), fill="tonexty", fillcolor="rgba(192,57,43,0.25)",
                                 name="deal worth less than the alternative", legendgroup="loss",
                                 showlegend=row == 1, hoverinfo="skip"), row=row, col=1)
        fig.add_trace(go.Scatter(x=dates, y=offer.round(4), mode="lines", name=f"{name}: value of the deal on offer",
                                 line=dict(color=colour, width=3),
                                 hovertemplate=f"{name}<br>%{{x}}<br>value of the deal on offer %{{y:.3f}}<extra></extra>"),
                      row=row, col=1)
        if required[actor_id]:
            fig.add_trace(go.Scatter(x=dates, y=data["reservation"].round(4), mode="lines",
                                     name="reservation (alternative + demand - stake)", legendgroup="reservation",
                                     showlegend=row == 1, line=dict(color="#888", width=1.5, dash="dot"),
                                     hovertemplate=f"{name}<br>%{{x}}<br>reservation value %{{y:.3f}}<extra></extra>"),
                          row=row, col=1)
        fig.update_yaxes(title_text="utility (0 to 1)", row=row, col=1)
    mark_events(fig, marks, rows=rows)
    fig.update_xaxes(title_text="date", row=rows, col=1)
    return _layout(fig, "Value of the deal on offer against each actor's alternative to a deal", 230 * rows + 120)


def leverage_figure(history: np.ndarray, actor_ids: tuple[str, ...], names: dict[str, str],
                    dates: list[str]) -> go.Figure:
    """The leverage matrix as a heatmap, with a slider to see it at any step."""
    labels = [esc(names[a]) for a in actor_ids]
    rounded = np.round(history, 4)
    top = float(max(rounded.max(), 1e-6))

    def heatmap(step: int) -> go.Heatmap:
        return go.Heatmap(z=rounded[step], x=labels, y=labels, zmin=0, zmax=top, colorscale="Blues",
                          colorbar=dict(title=dict(text="utility")),
                          hovertemplate="%{y} over %{x}: %{z:.3f}<extra></extra>",
                          text=np.vectorize(lambda v: f"{v:.2f}")(rounded[step]), texttemplate="%{text}")

    last = len(history) - 1
    fig = go.Figure(heatmap(last))
    slider_steps = [dict(method="restyle", label=dates[t],
                         args=[{"z": [rounded[t]], "text": [np.vectorize(lambda v: f"{v:.2f}")(rounded[t])]}])
                    for t in range(len(history))]
    fig.update_layout(sliders=[dict(active=last, steps=slider_steps, currentvalue=dict(prefix="step date: "),
                                    pad=dict(t=40))])
    fig.update_xaxes(title_text="actor whose alternative or deal value is moved (j)", side="bottom")
    fig.update_yaxes(title_text="actor with the leverage (i)", autorange="reversed")
    return _layout(fig, "Leverage of each actor (row) over each other (column)", 520)


def issue_space_figure(timeseries: pd.DataFrame, scenario, ideal: np.ndarray,  # noqa: ANN001
                       salience: np.ndarray, free: np.ndarray) -> go.Figure:
    """Ideal points and the path of the proposals, in the plane of the two most salient issues,
    and each issue's proposal over time."""
    issue_ids = list(scenario.issues)
    actor_ids = list(scenario.actors)
    weight = salience.sum(axis=0) * np.where(free, 1.0, 0.5)
    order = list(np.argsort(-weight, kind="stable"))
    first, second = issue_ids[order[0]], issue_ids[order[1] if len(order) > 1 else order[0]]
    steps = timeseries.drop_duplicates("step").sort_values("step")
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.12,
                        subplot_titles=[f"{esc(first)} against {esc(second)}", "proposal on each issue over time"])
    for a, actor_id in enumerate(actor_ids):
        name = esc(scenario.actors[actor_id].name)
        fig.add_trace(go.Scatter(x=[ideal[a, issue_ids.index(first)]], y=[ideal[a, issue_ids.index(second)]],
                                 mode="markers+text", text=[name], textposition="top center",
                                 marker=dict(size=14, color=colour_of(actor_id), line=dict(color="white", width=1)),
                                 name=f"{name} ideal point", legendgroup=actor_id,
                                 hovertemplate=f"{name} ideal point<br>{esc(first)} %{{x:.2f}}<br>{esc(second)} %{{y:.2f}}<extra></extra>"),
                      row=1, col=1)
    fig.add_trace(go.Scatter(x=steps[f"proposal_{first}"].round(4), y=steps[f"proposal_{second}"].round(4),
                             mode="lines+markers", name="proposal on the table", line=dict(color="#444", width=1.5),
                             marker=dict(size=6, color=steps["step"], colorscale="Greys", showscale=False),
                             customdata=steps["date"],
                             hovertemplate="proposal on %{customdata}<br>%{x:.3f}, %{y:.3f}<extra></extra>"),
                  row=1, col=1)
    deal_rows = steps[steps["deal"].astype(bool)]
    if len(deal_rows):
        fig.add_trace(go.Scatter(x=[deal_rows[f"proposal_{first}"].iloc[0]], y=[deal_rows[f"proposal_{second}"].iloc[0]],
                                 mode="markers", name="deal", marker=dict(symbol="star", size=18, color="#f1c40f",
                                                                          line=dict(color="#333", width=1)),
                                 hovertemplate="deal<br>%{x:.3f}, %{y:.3f}<extra></extra>"), row=1, col=1)
    dash = ["solid", "dash", "dot", "dashdot", "longdash"]
    for k, issue_id in enumerate(issue_ids):
        fig.add_trace(go.Scatter(x=steps["date"], y=steps[f"proposal_{issue_id}"].round(4), mode="lines",
                                 name=f"proposal: {esc(issue_id)}", line=dict(color="#444", dash=dash[k % len(dash)]),
                                 hovertemplate=f"{esc(issue_id)}<br>%{{x}}<br>%{{y:.3f}}<extra></extra>"), row=1, col=2)
    issue = scenario.issues
    fig.update_xaxes(title_text=f"{esc(first)}: 0 = {esc(issue[first].low)}, 1 = {esc(issue[first].high)}",
                     range=[-0.05, 1.05], row=1, col=1)
    fig.update_yaxes(title_text=f"{esc(second)}: 0 = {esc(issue[second].low)}, 1 = {esc(issue[second].high)}",
                     range=[-0.05, 1.05], row=1, col=1)
    fig.update_xaxes(title_text="date", row=1, col=2)
    fig.update_yaxes(title_text="position on the issue (0 to 1)", range=[-0.05, 1.05], row=1, col=2)
    return _layout(fig, "The issue space: ideal points and the path of the proposals", 520)
