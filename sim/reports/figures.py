"""The report's figures (plotly), each answering one question about a run.

Conventions every figure here follows (and other reports can reuse):

- Every string that comes from a scenario goes through `esc` before it reaches a
  figure: plotly renders a subset of HTML in titles, labels and hover text, and
  reads `%{...}` in hover templates.
- Each actor has one colour everywhere (`colour_of`), in every figure and report.
- Time axes are dates; the scenario's events, the deal and a ceasefire collapse
  are marked on them (`mark_layout`), numbered to match the key under the figure.
- Numbers are rounded (`rounded`) and steps are given as a start and a stride
  (`Timeline`), so a report carries little besides plotly.js itself.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# The default cast, and actors scenarios are likely to add, keep these colours in every figure and report.
ACTOR_COLOURS = {
    "us": "#1f5fa8",
    "russia": "#c0392b",
    "iran": "#2e8b57",
    "turkey": "#e67e22",
    "opposition": "#7d3c98",
    "assad": "#5d4037",
    "regime": "#5d4037",
    "government": "#5d4037",
    "saudi_arabia": "#b8860b",
    "israel": "#17becf",
    "jordan": "#e377c2",
}
# Other actors get one of these by a hash of their id: stable across runs, reports and machines.
PALETTE = ["#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#34495e", "#b8860b", "#556b2f"]
ZONE_FILL = "rgba(241, 196, 15, 0.16)"
CEASEFIRE_FILL = "rgba(31, 95, 168, 0.08)"
GAIN_FILL = "rgba(46, 160, 67, 0.35)"
LOSS_FILL = "rgba(192, 57, 43, 0.25)"
GAIN_LINE = "#2e8b57"
LOSS_LINE = "#c0392b"
INK = "#1d2327"
BAND_50 = "rgba(31, 95, 168, 0.28)"  # many runs: the middle half, or an interval
MEDIAN = "#1f5fa8"
MUTED = "#5f6b73"
FONT = dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=13, color=INK)
DAY_MS = 86_400_000
DATE_HOVER = "%Y-%m-%d"
SUBPLOT_TITLE_ROOM = 24  # pixels that lift the event badges above a subplot title

# Both axes of every figure: light grid, ticks outside, room for the labels.
AXIS_STYLE = dict(
    gridcolor="#e8ecf0",
    linecolor="#9aa5ad",
    zerolinecolor="#c9d1d8",
    ticks="outside",
    tickcolor="#9aa5ad",
    automargin=True,
    title=dict(standoff=8),
)
# A small template shared by every figure (plotly's own templates add ~8 kB to each figure).
TEMPLATE = go.layout.Template(
    layout=dict(
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=dict(AXIS_STYLE),
        yaxis=dict(AXIS_STYLE),
        hoverlabel=dict(namelength=-1, font=dict(size=12)),
        colorway=PALETTE,
    )
)


def colour_of(actor_id: str) -> str:
    """A fixed colour per actor id: the default cast's own, else one chosen by a hash of the id."""
    if actor_id in ACTOR_COLOURS:
        return ACTOR_COLOURS[actor_id]
    digest = int(hashlib.sha256(actor_id.encode("utf-8")).hexdigest(), 16)
    return PALETTE[digest % len(PALETTE)]


def rgba(hex_colour: str, alpha: float) -> str:
    """`#rrggbb` with an opacity, as CSS rgba()."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def esc(text: object) -> str:
    """Escape text for HTML and for plotly labels alike.

    Quotes and `%` become numeric character references: HTML reads them, plotly converts them
    back for display (it knows `&#NN;` but not `&quot;`), and a `%{...}` in a scenario's name can
    no longer be read as a hover-template field.
    """
    escaped = html.escape(str(text), quote=False)
    return escaped.replace('"', "&#34;").replace("'", "&#39;").replace("%", "&#37;")


def rounded(values: Iterable[float] | np.ndarray | pd.Series, digits: int = 3) -> list[float | None]:
    """Values rounded to `digits` decimals as a plain list, with NaN and infinities as None (a gap)."""
    array = np.asarray(values, dtype=float)
    out = np.round(array, digits).tolist()
    if np.all(np.isfinite(array)):
        return out
    return [v if np.isfinite(v) else None for v in out]


@dataclass(frozen=True)
class Timeline:
    """The dates of a run's steps; plotted as a start and a stride when the steps are regular."""

    dates: tuple[str, ...]

    @classmethod
    def of(cls, timeseries: pd.DataFrame) -> Timeline:
        return cls(tuple(str(d) for d in timeseries.drop_duplicates("step").sort_values("step")["date"]))

    @property
    def stride_ms(self) -> int | None:
        """The step length in milliseconds if every step has the same length, else None."""
        if len(self.dates) < 2:
            return 7 * DAY_MS
        stamps = pd.to_datetime(list(self.dates)).as_unit("ms").asi8
        gaps = np.diff(stamps)
        return int(gaps[0]) if np.all(gaps == gaps[0]) else None

    def x(self) -> dict[str, Any]:
        """Keyword arguments placing one value per step on a date axis."""
        stride = self.stride_ms
        return {"x0": self.dates[0], "dx": stride} if stride is not None else {"x": list(self.dates)}

    def half_step(self) -> pd.Timedelta:
        return pd.Timedelta(milliseconds=(self.stride_ms or 7 * DAY_MS) / 2)


@dataclass(frozen=True)
class TimeMark:
    """Something to mark on a time axis: a scenario event, the deal, a ceasefire collapse, or what became of
    a threat (carried out, bluff called, lapsed).

    `number` is shown on the axis and repeats in the key under the figure; `kind` sets the style.
    """

    step: int
    date: str
    label: str
    kind: str = "event"  # "event", "deal", "collapse" or "threat"
    number: int | None = None

    @property
    def badge(self) -> str:
        if self.kind == "deal":
            return "deal"
        if self.kind == "collapse":
            return "collapse"
        if self.kind == "threat":
            return "threat"
        return str(self.number) if self.number is not None else "•"


MARK_STYLE = {
    "event": dict(color="#555", dash="dot", width=1.2),
    "deal": dict(color=GAIN_LINE, dash="solid", width=2),
    "collapse": dict(color=LOSS_LINE, dash="solid", width=2),
    "threat": dict(color=LOSS_LINE, dash="dash", width=1.6),
}


def as_marks(marks: Sequence[TimeMark | tuple[int, str, str]]) -> list[TimeMark]:
    """Marks given as `TimeMark`s or as (step, date, label) tuples, the latter numbered in order."""
    out: list[TimeMark] = []
    number = 0
    for mark in marks:
        if isinstance(mark, TimeMark):
            out.append(mark)
            continue
        step, date, label = mark
        number += 1
        out.append(TimeMark(int(step), str(date), str(label), "event", number))
    return out


def mark_layout(
    marks: Sequence[TimeMark | tuple[int, str, str]], xref: str = "x", above: int = 2
) -> tuple[list[dict], list[dict]]:
    """Shapes and annotations marking each event on a date axis: a vertical line across the whole figure
    and a numbered badge on top whose hover text is the mark's full label.

    `above` lifts the badges (pixels) clear of subplot titles.
    """
    shapes, annotations = [], []
    placed: list[pd.Timestamp] = []
    for mark in as_marks(marks):
        style = MARK_STYLE.get(mark.kind, MARK_STYLE["event"])
        when = pd.Timestamp(mark.date)
        shapes.append(
            dict(
                type="line", xref=xref, yref="paper", x0=mark.date, x1=mark.date, y0=0, y1=1, line=style, layer="above"
            )
        )
        # Badges of marks within a fortnight of each other are staggered so both stay readable.
        crowded = sum(1 for other in placed if abs((when - other).days) < 14)
        placed.append(when)
        annotations.append(
            mark_badge(
                mark.date,
                xref,
                above + 18 * crowded,
                mark.badge,
                style["color"],
                f"{esc(mark.date)}: {esc(mark.label)}",
            )
        )
    return shapes, annotations


def mark_badge(x: Any, xref: str, lift: int, badge: str, colour: str, hovertext: str) -> dict:
    """A mark's badge over the top of the figure at `x`, lifted `lift` pixels (the badge escaped here; the
    hover text given escaped)."""
    return dict(
        x=x,
        xref=xref,
        y=1,
        yref="paper",
        yanchor="bottom",
        yshift=lift,
        text=f"<b>{esc(badge)}</b>",
        showarrow=False,
        font=dict(size=11, color="white"),
        bgcolor=colour,
        borderpad=2,
        hovertext=hovertext,
    )


def shade_layout(dates: Sequence[str], flags: Sequence[bool], colour: str) -> list[dict]:
    """Rectangles across the whole figure over the dates where `flags` holds (half a step either side)."""
    timeline = Timeline(tuple(dates))
    half = timeline.half_step()
    return [
        dict(
            type="rect",
            xref="x",
            yref="paper",
            x0=(pd.Timestamp(dates[start]) - half).isoformat(),
            x1=(pd.Timestamp(dates[end]) + half).isoformat(),
            y0=0,
            y1=1,
            fillcolor=colour,
            line_width=0,
            layer="below",
        )
        for start, end in _runs_of(list(flags))
    ]


def legend_swatch(label: str, colour: str) -> dict:
    """A legend entry (a square) for something drawn as a shape, which has none of its own."""
    return dict(
        type="scatter",
        x=[None],
        y=[None],
        mode="markers",
        name=label,
        hoverinfo="skip",
        marker=dict(size=13, symbol="square", color=_opaque(colour)),
    )


def _opaque(rgba: str) -> str:
    """A legend swatch for a translucent fill: the same colour, more opaque."""
    if not rgba.startswith("rgba("):
        return rgba
    r, g, b, a = (part.strip() for part in rgba[5:-1].split(","))
    return f"rgba({r}, {g}, {b}, {min(1.0, float(a) * 3):.2f})"


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


def row_gap(height: int, rows: int, gap_px: int = 52, chrome_px: int = 230) -> float:
    """make_subplots' vertical_spacing (a share of the plotting height) that leaves `gap_px` pixels between
    rows, room for a subplot title; `chrome_px` is what the title, margins and legend take."""
    if rows < 2:
        return 0.0
    return min(0.3, gap_px / max(height - chrome_px, 1), 0.9 / (rows - 1))


def layout_of(title: str, height: int, legend: bool = True, top: int = 64) -> dict[str, Any]:
    """The common layout: title at the top left, legend under the plot, our template, a fixed height
    (the width follows the page)."""
    return dict(
        title=dict(text=title, x=0.01, xanchor="left", y=0.995, yref="container", yanchor="top", font=dict(size=15)),
        height=height,
        template=TEMPLATE,
        autosize=True,
        margin=dict(l=64, r=24, t=top, b=40, autoexpand=True),
        showlegend=legend,
        legend=dict(
            orientation="h",
            yref="container",
            y=0.005,
            yanchor="bottom",
            x=0,
            xanchor="left",
            font=dict(size=12),
            itemclick="toggle",
            traceorder="normal",
        ),
    )


def apply_layout(fig: go.Figure, title: str, height: int, legend: bool = True, **extra: Any) -> go.Figure:
    """Apply `layout_of` to a figure built with plotly's figure API (every report's one layout), then `extra`."""
    fig.update_layout(**layout_of(title, height, legend))
    return fig.update_layout(**extra) if extra else fig


def date_axis(**kwargs: Any) -> dict[str, Any]:
    return dict(type="date", hoverformat=DATE_HOVER, **kwargs)


def stacked_panels(rows: int, height: int, titles: Sequence[str]) -> dict[str, Any]:
    """Layout for `rows` panels stacked over one shared date axis: y axes y, y2, ... from the top down,
    the x axis under the last, and each panel's title above it."""
    gap = row_gap(height, rows)
    size = (1.0 - gap * (rows - 1)) / rows
    layout: dict[str, Any] = {"xaxis": date_axis(anchor=f"y{rows if rows > 1 else ''}", domain=[0, 1])}
    annotations = []
    for row in range(1, rows + 1):
        top = 1.0 - (row - 1) * (size + gap)
        layout[f"yaxis{row if row > 1 else ''}"] = dict(
            domain=[round(max(top - size, 0.0), 4), round(top, 4)], anchor="x"
        )
        annotations.append(
            dict(
                text=titles[row - 1],
                x=0.5,
                xref="paper",
                xanchor="center",
                y=round(top, 4),
                yref="paper",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=14),
            )
        )
    layout["annotations"] = annotations
    return layout


def axis_ref(row: int) -> str:
    """The y axis of stacked panel `row` (1 is the top) as traces name it: y, y2, ..."""
    return f"y{row if row > 1 else ''}"


def figure_of(data: list[dict], layout: dict[str, Any]) -> go.Figure:
    """One plotly Figure from plain trace and layout dictionaries: validated once, far faster than
    adding traces and shapes one by one."""
    return go.Figure(data=data, layout=layout)


def _actor_steps(timeseries: pd.DataFrame, actor_id: str) -> pd.DataFrame:
    return timeseries[timeseries["actor"] == actor_id].sort_values("step")


def _step_rows(timeseries: pd.DataFrame) -> pd.DataFrame:
    return timeseries.drop_duplicates("step").sort_values("step")


# --- the deal against the alternative (Singh's comparison) -----------------------------------------


@dataclass(frozen=True)
class DealComparison:
    """One actor's deal value against its alternative at one moment (a row of the comparison chart)."""

    actor_id: str
    name: str
    deal_value: float
    alternative: float
    reservation: float | None  # what a party whose consent is required insisted on; None for others
    consent_required: bool

    @property
    def gain(self) -> float:
        return self.deal_value - self.alternative


def deal_comparison_at(
    timeseries: pd.DataFrame, step: int, actor_ids: Sequence[str], names: dict[str, str], required: dict[str, bool]
) -> list[DealComparison]:
    """Each actor's value of the deal on offer and of its alternative at `step`, from the time series."""
    rows = timeseries[timeseries["step"] == step].set_index("actor")
    return [
        DealComparison(
            a,
            names[a],
            float(rows.at[a, "utility_of_offer"]),
            float(rows.at[a, "batna"]),
            float(rows.at[a, "reservation"]) if required[a] else None,
            bool(required[a]),
        )
        for a in actor_ids
    ]


def deal_gain_figure(comparisons: Sequence[DealComparison], moment: str) -> go.Figure:
    """Each actor's deal value (filled dot) against its alternative (ring), joined green or red.

    `moment` names when the comparison is made (e.g. "when the deal was reached, 2016-04-09").
    """
    names = [f"{esc(c.name)}{' *' if c.consent_required else ''}" for c in comparisons]
    data: list[dict] = []
    for sign, colour, label in (
        (1, GAIN_LINE, "deal worth more than the alternative"),
        (-1, LOSS_LINE, "deal worth less than the alternative"),
    ):
        xs: list[float | None] = []
        ys: list[str | None] = []
        for name, c in zip(names, comparisons, strict=True):
            if (c.gain >= 0) == (sign > 0):
                xs += [round(c.alternative, 3), round(c.deal_value, 3), None]
                ys += [name, name, None]
        if xs:
            data.append(
                dict(
                    type="scatter",
                    x=xs,
                    y=ys,
                    mode="lines",
                    line=dict(color=colour, width=5),
                    name=label,
                    hoverinfo="skip",
                    opacity=0.55,
                )
            )
    data.append(
        dict(
            type="scatter",
            x=[round(c.alternative, 3) for c in comparisons],
            y=names,
            mode="markers",
            name="alternative to a deal",
            marker=dict(symbol="circle-open", size=14, color=INK, line=dict(width=2.5)),
            text=[f"{esc(c.name)}<br>alternative to a deal: {c.alternative:.3f}" for c in comparisons],
            hovertemplate="%{text}<extra></extra>",
        )
    )
    required = [(c, n) for c, n in zip(comparisons, names, strict=True) if c.reservation is not None]
    if required:
        data.append(
            dict(
                type="scatter",
                x=[round(c.reservation, 3) for c, _ in required],
                y=[n for _, n in required],
                mode="markers",
                name="what it insisted on (reservation)",
                marker=dict(symbol="line-ns", size=18, color=MUTED, line=dict(width=2.5, color=MUTED)),
                text=[
                    f"{esc(c.name)}<br>reservation (alternative + demand - stake): {c.reservation:.3f}"
                    for c, _ in required
                ],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    data.append(
        dict(
            type="scatter",
            x=[round(c.deal_value, 3) for c in comparisons],
            y=names,
            mode="markers",
            name="value of the deal",
            marker=dict(size=15, color=[colour_of(c.actor_id) for c in comparisons], line=dict(color="white", width=1)),
            customdata=[[round(c.alternative, 3), round(c.gain, 3)] for c in comparisons],
            hovertext=[esc(c.name) for c in comparisons],
            hovertemplate="%{hovertext}<br>value of the deal: %{x:.3f}<br>alternative: %{customdata[0]:.3f}"
            "<br>gain from the deal: %{customdata[1]:+.3f}<extra></extra>",
        )
    )
    # The gain, written just right of the pair.
    data.append(
        dict(
            type="scatter",
            x=[round(max(c.deal_value, c.alternative, c.reservation or 0.0), 3) for c in comparisons],
            y=names,
            mode="text",
            text=[f"  {c.gain:+.2f}" for c in comparisons],
            textposition="middle right",
            showlegend=False,
            hoverinfo="skip",
            textfont=dict(size=12, color=[GAIN_LINE if c.gain >= 0 else LOSS_LINE for c in comparisons]),
        )
    )
    values = [v for c in comparisons for v in (c.deal_value, c.alternative, c.reservation) if v is not None]
    low, high = min(values), max(values)
    layout = layout_of(f"Deal value against the alternative, {esc(moment)}", max(300, 170 + 50 * len(comparisons)))
    layout["yaxis"] = dict(
        categoryorder="array",
        categoryarray=names,
        autorange="reversed",
        title=dict(text="actor (* consent required)"),
        showgrid=False,
    )
    layout["xaxis"] = dict(
        title=dict(
            text="utility of the outcome to the actor<br>(1 = its ideal, 0 = the farthest outcome"
            + ("; below 0: a war that costs more than it can win)" if low < 0 else ")")
        ),
        zeroline=True,
        # Room on the right for the gain written beside each pair, on a phone too.
        range=[round(low - 0.04 - 0.05 * (high - low), 3), round(high + 0.1 + 0.2 * (high - low), 3)],
    )
    return figure_of(data, layout)


def deal_value_figure(
    timeseries: pd.DataFrame,
    actor_ids: tuple[str, ...],
    names: dict[str, str],
    required: dict[str, bool],
    marks: Sequence[TimeMark | tuple[int, str, str]],
) -> go.Figure:
    """Each actor's value of the deal on offer against its alternative to a deal (Singh's comparison), by week.

    One panel per actor, sharing the date axis and the utility scale. Between the two lines the area is
    green where the deal is worth more than the alternative and red where it is worth less; a yellow
    band behind every panel marks the weeks in which a zone of possible agreement existed (a deal that
    every party whose consent is required values at least at its reservation).
    """
    rows = len(actor_ids)
    height = 170 + 175 * rows
    titles = [
        f"<b style='color:{colour_of(a)}'>{esc(names[a])}</b>{' (consent required)' if required[a] else ''}"
        for a in actor_ids
    ]
    layout = layout_of(
        "Deal on offer against each actor's alternative, week by week", height, top=64 + SUBPLOT_TITLE_ROOM
    )
    layout.update(stacked_panels(rows, height, titles))
    timeline = Timeline.of(timeseries)
    x = timeline.x()
    zone = _step_rows(timeseries)["zone_exists"].astype(bool).tolist()
    data: list[dict] = [legend_swatch("zone of possible agreement exists", ZONE_FILL)] if any(zone) else []
    low, high = 1.0, 0.0
    first_required = next((a for a in actor_ids if required[a]), None)
    for row, actor_id in enumerate(actor_ids, start=1):
        series = _actor_steps(timeseries, actor_id)
        name = esc(names[actor_id])
        offer = series["utility_of_offer"].to_numpy(dtype=float)
        alternative = series["batna"].to_numpy(dtype=float)
        low = min(low, float(np.nanmin([offer.min(), alternative.min()])))
        high = max(high, float(np.nanmax([offer.max(), alternative.max()])))
        on = dict(xaxis="x", yaxis=axis_ref(row), **x)
        first = row == 1
        # Fills: min(offer, alt) -> alt in red, then alt -> max(offer, alt) in green.
        data.append(
            dict(
                type="scatter",
                y=rounded(np.minimum(offer, alternative)),
                mode="lines",
                line=dict(width=0),
                showlegend=False,
                hoverinfo="skip",
                **on,
            )
        )
        data.append(
            dict(
                type="scatter",
                y=rounded(alternative),
                mode="lines",
                name="alternative to a deal (BATNA)",
                line=dict(color=INK, width=2, dash="dash"),
                fill="tonexty",
                fillcolor=LOSS_FILL,
                legendgroup="batna",
                showlegend=first,
                hovertemplate=f"{name}: alternative %{{y:.3f}}<extra></extra>",
                **on,
            )
        )
        data.append(
            dict(
                type="scatter",
                y=rounded(np.maximum(offer, alternative)),
                mode="lines",
                line=dict(width=0),
                fill="tonexty",
                fillcolor=GAIN_FILL,
                name="deal worth more than the alternative",
                legendgroup="gain",
                showlegend=first,
                hoverinfo="skip",
                **on,
            )
        )
        if first:
            data.append(legend_swatch("deal worth less than the alternative", LOSS_FILL))
        data.append(
            dict(
                type="scatter",
                y=rounded(offer),
                mode="lines",
                name="value of the deal on offer (actor's colour)",
                line=dict(color=colour_of(actor_id), width=3),
                legendgroup="offer",
                showlegend=first,
                hovertemplate=f"{name}: deal on offer %{{y:.3f}}<extra></extra>",
                **on,
            )
        )
        if required[actor_id] and "reservation" in series:
            data.append(
                dict(
                    type="scatter",
                    y=rounded(series["reservation"]),
                    mode="lines",
                    name="reservation: alternative + demand - stake (consent required)",
                    legendgroup="reservation",
                    showlegend=actor_id == first_required,
                    line=dict(color=MUTED, width=1.5, dash="dot"),
                    hovertemplate=f"{name}: reservation %{{y:.3f}}<extra></extra>",
                    **on,
                )
            )
    pad = 0.05 * max(high - low, 0.1)
    # The axis names its scale by the ideal, not by a 0-1 range that alternatives below 0 would contradict.
    for row in range(1, rows + 1):
        layout[f"yaxis{row if row > 1 else ''}"].update(
            title=dict(text="utility<br>(1 = ideal)"), range=[round(low - pad, 3), round(high + pad, 3)]
        )
    shapes, badges = mark_layout(marks, above=SUBPLOT_TITLE_ROOM)
    layout["shapes"] = shade_layout(timeline.dates, zone, ZONE_FILL) + shapes
    layout["annotations"] += badges
    layout["xaxis"]["title"] = dict(text="date (one point per week)" if timeline.stride_ms == 7 * DAY_MS else "date")
    layout["hovermode"] = "x unified"
    layout.update(legend_above(height, rows))
    return figure_of(data, layout)


# --- the battlefield ---------------------------------------------------------------------------------


def projected_odds(timeseries: pd.DataFrame) -> pd.Series:
    """Per step, the median over actors of the projected chance that the government side prevails
    (`projected_win_probability`): the odds every alternative to a deal rests on, over each actor's horizon,
    with withdrawn aircraft counted by the weight of their return. Actors differ only by their horizon."""
    return timeseries.groupby("step")["projected_win_probability"].median().sort_index().reset_index(drop=True)


def control_figure(timeseries: pd.DataFrame, marks: Sequence[TimeMark | tuple[int, str, str]]) -> go.Figure:
    """Control of territory and the war lottery over time, with events and ceasefire periods."""
    steps = _step_rows(timeseries)
    timeline = Timeline.of(timeseries)
    ceasefire = steps["ceasefire"].astype(bool).tolist()
    data = [legend_swatch("ceasefire in force", CEASEFIRE_FILL)] if any(ceasefire) else []
    data.append(
        dict(
            type="scatter",
            **timeline.x(),
            y=rounded(steps["control"], 4),
            name="territory held by the government side",
            mode="lines",
            line=dict(color=INK, width=3),
            hovertemplate="government side holds %{y:.1%} of the territory<extra></extra>",
        )
    )
    data.append(
        dict(
            type="scatter",
            **timeline.x(),
            y=rounded(projected_odds(timeseries), 4),
            name="chance the government side prevails, as the actors project it (their alternatives rest on it)",
            mode="lines",
            line=dict(color=LOSS_LINE, width=2.5, dash="dash"),
            hovertemplate="projected chance the government side prevails: %{y:.1%}<extra></extra>",
        )
    )
    data.append(
        dict(
            type="scatter",
            **timeline.x(),
            y=rounded(steps["win_probability"], 4),
            name="the same with only the forces present this week (withdrawn aircraft not counted)",
            mode="lines",
            line=dict(color=MUTED, width=1.2, dash="dot"),
            hovertemplate="with the forces present: %{y:.1%}<extra></extra>",
        )
    )
    layout = layout_of("Control of territory and the odds of the war", 400)
    shapes, badges = mark_layout(marks)
    layout.update(
        shapes=shade_layout(timeline.dates, ceasefire, CEASEFIRE_FILL) + shapes,
        annotations=badges,
        hovermode="x unified",
        xaxis=date_axis(title=dict(text="date")),
        yaxis=dict(title=dict(text="share of territory / probability (%)"), range=[0, 1], tickformat=".0%"),
    )
    return figure_of(data, layout)


def _by_actor(details: pd.DataFrame, column: str, actor_ids: Sequence[str]) -> np.ndarray:
    """(steps, A) one column of a run's per-step, per-actor details (`RunResult.details`)."""
    table = details.pivot(index="step", columns="actor", values=column).sort_index()
    return table[list(actor_ids)].to_numpy(dtype=float)


EMBARGO_FILL = "rgba(52, 73, 94, 0.10)"
HELD_BACK = "#b8c2c9"


def arms_figure(
    timeseries: pd.DataFrame,
    details: pd.DataFrame,
    actor_ids: Sequence[str],
    names: dict[str, str],
    marks: Sequence[TimeMark | tuple[int, str, str]],
) -> go.Figure:
    """The opposition's arms: the stock (upper panel) and, each week, what each supplier delivered and what
    its patron's embargo held back (lower panel, stacked), with the weeks of an embargo shaded."""
    steps = _step_rows(timeseries)
    timeline = Timeline.of(timeseries)
    delivered = _by_actor(details, "arms_delivered", actor_ids)
    held = _by_actor(details, "arms_held_back", actor_ids)
    embargo = _by_actor(details, "embargo", actor_ids) > 0
    suppliers = [k for k in range(len(actor_ids)) if delivered[:, k].max() > 0 or held[:, k].max() > 0]
    patrons = [k for k in range(len(actor_ids)) if embargo[:, k].any()]
    height = 560
    layout = layout_of("The opposition's arms: stock, deliveries and the embargo", height, top=64 + SUBPLOT_TITLE_ROOM)
    layout.update(
        stacked_panels(
            2,
            height,
            ["<b>arms stock</b> (what the opposition fights with)", "<b>arms reaching it each week</b>, by supplier"],
        )
    )
    enforced = embargo.any(axis=1).tolist()
    who = _names_list([esc(names[actor_ids[k]]) for k in patrons])
    data: list[dict] = [legend_swatch(f"embargo enforced by {who}", EMBARGO_FILL)] if any(enforced) else []
    data.append(
        dict(
            type="scatter",
            xaxis="x",
            yaxis="y",
            **timeline.x(),
            y=rounded(steps["arms_stock"], 4),
            mode="lines",
            name="arms stock",
            line=dict(color=INK, width=3),
            hovertemplate="arms stock: %{y:.3f}<extra></extra>",
        )
    )
    for k in suppliers:
        name = esc(names[actor_ids[k]])
        data.append(
            dict(
                type="bar",
                xaxis="x",
                yaxis="y2",
                **timeline.x(),
                y=rounded(delivered[:, k], 4),
                name=f"delivered by {name}",
                marker=dict(color=colour_of(actor_ids[k])),
                hovertemplate=f"delivered by {name}: %{{y:.3f}}<extra></extra>",
            )
        )
        if held[:, k].max() > 0:
            data.append(
                dict(
                    type="bar",
                    xaxis="x",
                    yaxis="y2",
                    **timeline.x(),
                    y=rounded(held[:, k], 4),
                    name=f"held back from {name} by the embargo",
                    marker=dict(color=HELD_BACK, opacity=0.8, line=dict(color=INK, width=0.6)),
                    hovertemplate=f"held back from {name}: %{{y:.3f}}<extra></extra>",
                )
            )
    if not suppliers:
        data.append(
            dict(
                type="scatter",
                xaxis="x",
                yaxis="y2",
                **timeline.x(),
                y=rounded(steps["arms_inflow"], 4),
                mode="lines",
                name="arms reaching the opposition",
                line=dict(color=INK, width=2),
            )
        )
    layout["barmode"] = "stack"
    layout["bargap"] = 0.15
    layout["yaxis"].update(title=dict(text="stock units"), rangemode="tozero")
    layout["yaxis2"].update(title=dict(text="stock units a week"), rangemode="tozero")
    shapes, badges = mark_layout(marks, above=SUBPLOT_TITLE_ROOM)
    layout["shapes"] = shade_layout(timeline.dates, enforced, EMBARGO_FILL) + shapes
    layout["annotations"] += badges
    layout["xaxis"]["title"] = dict(text="date")
    layout["hovermode"] = "x unified"
    layout.update(legend_above(height, 2))
    return figure_of(data, layout)


def _names_list(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c' ('a patron' for none)."""
    items = list(items)
    if not items:
        return "a patron"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def weights_and_stake_figure(
    timeseries: pd.DataFrame,
    details: pd.DataFrame,
    parties: Sequence[str],
    actor_ids: Sequence[str],
    names: dict[str, str],
    marks: Sequence[TimeMark | tuple[int, str, str]],
) -> go.Figure:
    """Each signatory's share of the bargaining weight (upper panel) and, in utility, each negotiator's personal
    stake in any deal, sigma t (thick), beside the demand it still insists on (dashed; lower panel)."""
    timeline = Timeline.of(timeseries)
    weight = np.column_stack([_actor_steps(timeseries, a)["weight"].to_numpy(dtype=float) for a in parties])
    share = weight / np.where(weight.sum(axis=1, keepdims=True) > 0, weight.sum(axis=1, keepdims=True), 1.0)
    stake = _by_actor(details, "stake", actor_ids)
    staked = [k for k, a in enumerate(actor_ids) if stake[:, k].max() > 0]
    height = 600
    layout = layout_of("Bargaining weights and the negotiator's growing stake", height, top=64 + SUBPLOT_TITLE_ROOM)
    layout.update(
        stacked_panels(
            2,
            height,
            [
                "<b>share of the bargaining weight</b> at the table",
                "<b>personal stake</b> in any deal (thick) and <b>demand</b> still insisted on (dashed)",
            ],
        )
    )
    data: list[dict] = []
    for column, actor_id in enumerate(parties):
        name = esc(names[actor_id])
        data.append(
            dict(
                type="scatter",
                xaxis="x",
                yaxis="y",
                **timeline.x(),
                y=rounded(share[:, column], 4),
                mode="lines",
                name=f"{name}: share of the weight",
                line=dict(color=colour_of(actor_id), width=3),
                hovertemplate=f"{name}: %{{y:.1%}} of the weight<extra></extra>",
            )
        )
    for k in staked:
        actor_id = actor_ids[k]
        name = esc(names[actor_id])
        data.append(
            dict(
                type="scatter",
                xaxis="x",
                yaxis="y2",
                **timeline.x(),
                y=rounded(stake[:, k], 4),
                mode="lines",
                name=f"{name}: negotiator's stake",
                line=dict(color=colour_of(actor_id), width=5),
                hovertemplate=f"{name}: stake %{{y:.3f}}<extra></extra>",
            )
        )
    for actor_id in parties:
        demand = _actor_steps(timeseries, actor_id)["demand"].to_numpy(dtype=float)
        name = esc(names[actor_id])
        data.append(
            dict(
                type="scatter",
                xaxis="x",
                yaxis="y2",
                **timeline.x(),
                y=rounded(demand, 4),
                mode="lines",
                name=f"{name}: demand",
                line=dict(color=colour_of(actor_id), width=2, dash="dash"),
                hovertemplate=f"{name}: demand %{{y:.3f}}<extra></extra>",
            )
        )
    layout["yaxis"].update(title=dict(text="share (%)"), range=[0, 1], tickformat=".0%")
    layout["yaxis2"].update(title=dict(text="utility"), rangemode="tozero")
    shapes, badges = mark_layout(marks, above=SUBPLOT_TITLE_ROOM)
    layout["shapes"] = shapes
    layout["annotations"] += badges
    layout["xaxis"]["title"] = dict(text="date")
    layout["hovermode"] = "x unified"
    layout.update(legend_above(height, 2))
    return figure_of(data, layout)


# --- leverage ----------------------------------------------------------------------------------------


def leverage_pairs(
    coercive: np.ndarray, inducement: np.ndarray, actor_ids: Sequence[str], names: dict[str, str]
) -> list[tuple[int, int, str]]:
    """The (i, j, label) pairs with any leverage at any step, in the cast's order."""
    pairs = []
    for i, a in enumerate(actor_ids):
        for j, b in enumerate(actor_ids):
            if i != j and (np.any(coercive[:, i, j] > 5e-5) or np.any(inducement[:, i, j] > 5e-5)):
                pairs.append((i, j, f"{esc(names[a])} → {esc(names[b])}"))
    return pairs


# Leverage is drawn on a log colour scale from LEVERAGE_FLOOR to 1 (utility on the target's 0-1 scale), so that a
# pair with 0.02 stays visible beside one with 0.5; less than the floor reads as none.
LEVERAGE_FLOOR = 1e-3
NOT_MEASURED = "#dfe4e8"  # the background a heatmap shows where a value was not measured (it could not matter)
ROW_PX = (38, 28)  # heatmap rows of three label lines and of two


def _log_leverage(values: np.ndarray) -> list[float | None]:
    """log10 of leverage values clipped to [LEVERAGE_FLOOR, 1] (two decimals: enough for a colour); NaN (not
    measured) stays a gap."""
    array = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.log10(np.clip(array, LEVERAGE_FLOOR, 1.0))
    return rounded(np.where(np.isfinite(array), logged, np.nan), 2)


def _carried_by(by_instrument: np.ndarray | None, instruments: Sequence[str], i: int, j: int) -> str:
    """' (forces)': the instrument that carries i's coercive leverage over j in most of the steps it has any."""
    if by_instrument is None:
        return ""
    values = by_instrument[:, i, j, :]
    active = values.max(axis=-1) > 5e-5
    if not active.any():
        return ""
    counts = np.bincount(values[active].argmax(axis=-1), minlength=len(instruments))
    return f"<br>({esc(instruments[int(np.argmax(counts))].replace('_', ' '))})"


def leverage_over_time_figure(
    coercive: np.ndarray,
    inducement: np.ndarray,
    actor_ids: Sequence[str],
    names: dict[str, str],
    timeline: Timeline,
    marks: Sequence[TimeMark | tuple[int, str, str]],
    *,
    by_instrument: np.ndarray | None = None,
    instruments: Sequence[str] = (),
    talks_on: Sequence[bool] | None = None,
) -> go.Figure:
    """Leverage of i over j by week, in Singh's two kinds: worsening j's alternative, sweetening j's deal.

    `coercive` and `inducement` are (steps, A, A) arrays: entry [t, i, j] is how far i's options can lower
    j's alternative, or raise j's value of the deal, at step t (utility units). With `by_instrument`
    (steps, A, A, M, named by `instruments`) the coercive panel draws each pair's strongest instrument and its
    label names the instrument that is strongest in most of the steps it has any. With `talks_on` (steps,)
    inducement is drawn only in the steps when some agreement was still being bargained over (there is nothing
    to sweeten once all are signed); other steps are grey.
    The colour scale is logarithmic (`LEVERAGE_FLOOR` to 1), the same in both panels and every report.
    Pairs with no leverage at any step are left out.
    """
    if by_instrument is not None:
        coercive = by_instrument.max(axis=-1)
    first = [
        (i, j, f"{esc(names[a])} → {esc(names[b])}")
        for i, a in enumerate(actor_ids)
        for j, b in enumerate(actor_ids)
        if i != j
    ][:1]
    zero = np.zeros_like(coercive)
    # Each panel lists only the pairs with leverage of its kind (only parties at the table can concede).
    panels = [
        leverage_pairs(coercive, zero, actor_ids, names) or first,
        leverage_pairs(zero, inducement, actor_ids, names) or first,
    ]
    measured = np.ones(coercive.shape[0], dtype=bool) if talks_on is None else np.asarray(talks_on, dtype=bool)
    induce = np.where(measured[:, None, None], inducement, np.nan)
    # Rows of three lines (holder, target, instrument) in the coercive panel, two in the other.
    rows = [ROW_PX[0] * len(panels[0]) if by_instrument is not None else ROW_PX[1] * len(panels[0])]
    rows.append(ROW_PX[1] * len(panels[1]))
    height = 250 + sum(rows)
    layout = layout_of(
        "Leverage of each actor over each other, week by week (utility, log scale)",
        height,
        legend=False,
        top=64 + SUBPLOT_TITLE_ROOM,
    )
    layout.update(
        stacked_panels(
            2,
            height,
            ["<b>coercive</b>: can worsen the other's alternative", "<b>inducement</b>: can sweeten the other's deal"],
        )
    )
    # The panels' heights follow their rows (stacked_panels makes them equal).
    top_axis, bottom_axis = layout["yaxis"]["domain"], layout["yaxis2"]["domain"]
    span = top_axis[1] - bottom_axis[0] - (top_axis[0] - bottom_axis[1])
    split = round(bottom_axis[0] + span * rows[1] / sum(rows), 4)
    layout["yaxis2"]["domain"] = [bottom_axis[0], split]
    layout["yaxis"]["domain"] = [round(split + top_axis[0] - bottom_axis[1], 4), top_axis[1]]
    layout["annotations"][1]["y"] = split
    data = []
    for row, (matrix, kind, pairs) in enumerate(
        ((coercive, "can worsen the alternative by", panels[0]), (induce, "can sweeten the deal by", panels[1])),
        start=1,
    ):
        # A line each for the holder, the target and the instrument keeps the labels narrow on a phone.
        labels = [
            f"{esc(names[actor_ids[i]])} →<br>{esc(names[actor_ids[j]])}"
            f"{_carried_by(by_instrument, instruments, i, j) if row == 1 else ''}"
            for i, j, _ in pairs
        ]
        trace = dict(
            type="heatmap",
            xaxis="x",
            yaxis=axis_ref(row),
            **timeline.x(),
            y=labels,
            z=[_log_leverage(matrix[:, i, j]) for i, j, _ in pairs],
            customdata=[rounded(matrix[:, i, j], 3) for i, j, _ in pairs],
            zmin=round(np.log10(LEVERAGE_FLOOR), 3),
            zmax=0,
            colorscale="Blues",
            showscale=row == 1,
            name=kind,
            xgap=1,
            ygap=1,
            colorbar=dict(
                title=dict(text="utility", side="right"),
                tickvals=[-3, -2, -1, 0],
                ticktext=["≤0.001", "0.01", "0.1", "1"],
                len=0.9,
                thickness=12,
            ),
            hovertemplate=f"%{{y}}<br>%{{x}}<br>{kind}: %{{customdata:.3f}}<extra></extra>",
        )
        data.append(trace)
        layout[f"yaxis{row if row > 1 else ''}"].update(
            autorange="reversed", title=dict(text="who → whom"), tickfont=dict(size=11), showgrid=False
        )
    shapes, badges = mark_layout(marks, above=SUBPLOT_TITLE_ROOM)
    # Grey behind the inducement panel where it was not measured (its cells there are gaps).
    not_measured = [
        {**shape, "yref": "y2 domain"} for shape in shade_layout(timeline.dates, list(~measured), NOT_MEASURED)
    ]
    layout["shapes"] = not_measured + shapes
    layout["annotations"] += badges
    layout["xaxis"]["title"] = dict(text="date")
    layout["xaxis"]["showgrid"] = False
    return figure_of(data, layout)


# Each instrument of leverage keeps one colour in every figure; inducement (conceding) is dashed.
INSTRUMENT_COLOURS = {
    "forces": "#c0392b",
    "strikes": "#8e44ad",
    "safe_zones": "#16a085",
    "arms_supply": "#d35400",
    "embargo": "#34495e",
    "escalation": "#e74c3c",
    "support": "#7f8c8d",
    "inducement": "#1f5fa8",
}
INSTRUMENT_WORDS = {
    "forces": "its forces (withdrawn ones by their return)",
    "strikes": "its strike threat",
    "safe_zones": "its safe zones",
    "arms_supply": "the arms it supplies",
    "embargo": "the arms its embargo holds back",
    "escalation": "one more escalation",
    "support": "its support (which it can withdraw)",
    "inducement": "sweetening the offer (inducement)",
}


def table_leverage_figure(
    by_instrument: np.ndarray,
    inducement: np.ndarray,
    instruments: Sequence[str],
    parties: Sequence[int],
    actor_ids: Sequence[str],
    names: dict[str, str],
    timeline: Timeline,
    marks: Sequence[TimeMark | tuple[int, str, str]],
    talks_on: Sequence[bool] | None = None,
) -> go.Figure:
    """Leverage between the parties at the table, one panel per ordered pair, one line per instrument.

    Each panel has its own scale, so a small leverage (the US over Russia) is as readable as a large one.
    Coercive instruments are solid lines, inducement dashed and drawn only while some agreement is still being
    bargained over (`talks_on`); an instrument with no leverage in any pair is left out.
    """
    pairs = [(i, j) for i in parties for j in parties if i != j]
    measured = np.ones(by_instrument.shape[0], dtype=bool) if talks_on is None else np.asarray(talks_on, dtype=bool)
    series = {"inducement": np.where(measured[:, None, None], inducement, np.nan)}
    series.update({m: by_instrument[..., k] for k, m in enumerate(instruments)})

    def held(m: str, i: int, j: int) -> bool:
        return bool(np.nanmax(series[m][:, i, j], initial=0.0) > 5e-5)

    legend_shown: set[str] = set()
    rows = max(len(pairs), 1)
    height = 200 + 185 * rows
    titles = [f"<b>{esc(names[actor_ids[i]])}</b> over <b>{esc(names[actor_ids[j]])}</b>" for i, j in pairs]
    layout = layout_of(
        "Leverage between the parties at the table, by instrument (utility on the target's 0-1 scale)",
        height,
        top=64 + SUBPLOT_TITLE_ROOM,
    )
    layout.update(stacked_panels(rows, height, titles or ["no pair at the table"]))
    data: list[dict] = []
    x = timeline.x()
    for row, (i, j) in enumerate(pairs, start=1):
        top = 0.0
        for m in [m for m in (*instruments, "inducement") if held(m, i, j)]:
            values = series[m][:, i, j]
            top = max(top, float(np.nanmax(values, initial=0.0)))
            data.append(
                dict(
                    type="scatter",
                    xaxis="x",
                    yaxis=axis_ref(row),
                    **x,
                    y=rounded(values, 4),
                    mode="lines",
                    name=INSTRUMENT_WORDS[m],
                    legendgroup=m,
                    showlegend=m not in legend_shown,
                    line=dict(color=INSTRUMENT_COLOURS[m], width=2.5, dash="dash" if m == "inducement" else "solid"),
                    hovertemplate=f"{INSTRUMENT_WORDS[m]}: %{{y:.3f}}<extra></extra>",
                )
            )
            legend_shown.add(m)
        if top == 0.0:
            data.append(
                dict(
                    type="scatter",
                    xaxis="x",
                    yaxis=axis_ref(row),
                    **x,
                    y=[0.0] * by_instrument.shape[0],
                    mode="lines",
                    name="no leverage of either kind",
                    showlegend=False,
                    line=dict(color=MUTED, width=1.5, dash="dot"),
                    hovertemplate="no leverage<extra></extra>",
                )
            )
        layout[f"yaxis{row if row > 1 else ''}"].update(
            title=dict(text="utility"), range=[0, round(max(top * 1.15, 0.01), 4)], rangemode="tozero"
        )
    shapes, badges = mark_layout(marks, above=SUBPLOT_TITLE_ROOM)
    layout["shapes"] = shapes
    layout["annotations"] += badges
    layout["xaxis"]["title"] = dict(text="date")
    layout["hovermode"] = "x unified"
    layout.update(legend_above(height, rows))
    return figure_of(data, layout)


def legend_above(height: int, rows: int) -> dict[str, Any]:
    """A legend over the top panel of a stacked figure, above the event badges, instead of under the last panel
    (which can be a thousand pixels below the first): plotly widens the top margin to make room for it."""
    plot_height = max(height - 200, 100)
    return {
        "legend": dict(
            orientation="h",
            yref="paper",
            y=round(1 + (SUBPLOT_TITLE_ROOM + 44) / plot_height, 4),
            yanchor="bottom",
            x=0,
            xanchor="left",
            font=dict(size=12),
            itemclick="toggle",
            traceorder="normal",
        )
    }


def legend_over_first_panel(height: int, rows: int) -> dict[str, Any]:
    """`legend_above` for a figure without event badges of its own, with a top margin that keeps a legend of up
    to three rows clear of the figure's title (a taller one pushes the margin out itself; on a phone the page
    drops the title)."""
    return {**legend_above(height, rows), "margin_t": SUBPLOT_TITLE_ROOM + 134}


def leverage_arrays(timeseries: pd.DataFrame, actor_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(steps, A, A) coercive and inducement leverage from the time series' `coercive_on_<j>` columns."""
    steps = int(timeseries["step"].max()) + 1
    coercive = np.zeros((steps, len(actor_ids), len(actor_ids)))
    inducement = np.zeros_like(coercive)
    for i, a in enumerate(actor_ids):
        series = _actor_steps(timeseries, a)
        for j, b in enumerate(actor_ids):
            if f"coercive_on_{b}" in series:
                coercive[series["step"].to_numpy(), i, j] = series[f"coercive_on_{b}"].to_numpy(dtype=float)
            if f"inducement_on_{b}" in series:
                inducement[series["step"].to_numpy(), i, j] = series[f"inducement_on_{b}"].to_numpy(dtype=float)
    return coercive, inducement


def coercive_by_instrument_arrays(
    timeseries: pd.DataFrame, actor_ids: Sequence[str], instruments: Sequence[str]
) -> np.ndarray:
    """(steps, A, A, M) coercive leverage per instrument from the `coercive_<instrument>_on_<j>` columns
    (zeros where a column is absent, as in time series written before instruments were recorded)."""
    steps = int(timeseries["step"].max()) + 1
    by_instrument = np.zeros((steps, len(actor_ids), len(actor_ids), len(instruments)))
    for i, a in enumerate(actor_ids):
        series = _actor_steps(timeseries, a)
        for j, b in enumerate(actor_ids):
            for m, instrument in enumerate(instruments):
                column = f"coercive_{instrument}_on_{b}"
                if column in series:
                    by_instrument[series["step"].to_numpy(), i, j, m] = series[column].to_numpy(dtype=float)
    return by_instrument


# --- the issue space ---------------------------------------------------------------------------------


def _issue_title(issue_id: str, issue: Any, lines: int = 2) -> str:
    """An issue's axis title: its name, then what 0 and 1 mean (on one line, or two for a vertical axis)."""
    joint = "<br>" if lines > 2 else ", "
    return (
        f"{esc(issue_id.replace('_', ' '))}<br><span style='font-size:11px'>0 = {esc(issue.low)}{joint}"
        f"1 = {esc(issue.high)}</span>"
    )


def _label_positions(points: Sequence[tuple[float, float]]) -> list[str]:
    """Text positions that keep the labels of (nearly) coinciding points apart, and that run inward from points
    near an edge, so that no label is cut off there (on a phone the plot is narrow)."""
    positions = []
    for index, (x, y) in enumerate(points):
        side = "left" if x > 0.7 else "right" if x < 0.3 else "center"
        rows = ["bottom", "middle", "top"] if y > 0.8 else ["top", "middle", "bottom"] if y < 0.2 else ["top", "bottom"]
        choices = [f"{row} {side}" for row in rows]
        if side == "center":
            choices += ["middle left", "middle right"]
        near = sum(1 for (u, v) in points[:index] if abs(u - x) < 0.06 and abs(v - y) < 0.06)
        positions.append(choices[near % len(choices)])
    return positions


def issue_space_figure(
    timeseries: pd.DataFrame, scenario: Any, ideal: np.ndarray, salience: np.ndarray, free: np.ndarray
) -> go.Figure:
    """Ideal points, the war's two outcomes and the path of the proposals, in the plane of the two
    most salient issues (issues a side refuses to link count half)."""
    issue_ids = list(scenario.issues)
    actor_ids = list(scenario.actors)
    weight = salience.sum(axis=0) * np.where(free, 1.0, 0.5)
    order = list(np.argsort(-weight, kind="stable"))
    first, second = issue_ids[order[0]], issue_ids[order[1] if len(order) > 1 else order[0]]
    f, s = issue_ids.index(first), issue_ids.index(second)
    steps = _step_rows(timeseries)
    data: list[dict] = []
    battlefield = getattr(scenario, "battlefield", None)
    if battlefield is not None:
        for outcome, label in (
            (battlefield.government_victory, "if the government side wins the war"),
            (battlefield.opposition_victory, "if the opposition side wins the war"),
        ):
            data.append(
                dict(
                    type="scatter",
                    x=[outcome.get(first, 0.5)],
                    y=[outcome.get(second, 0.5)],
                    mode="markers",
                    name=label,
                    marker=dict(symbol="diamond-open", size=13, color=MUTED, line=dict(width=2)),
                    hovertemplate=f"{label}<br>%{{x:.2f}}, %{{y:.2f}}<extra></extra>",
                )
            )
    data.append(
        dict(
            type="scatter",
            x=[scenario.issues[first].status_quo],
            y=[scenario.issues[second].status_quo],
            mode="markers",
            name="status quo (no deal)",
            marker=dict(symbol="square-open", size=12, color=INK, line=dict(width=2)),
            hovertemplate="status quo<br>%{x:.2f}, %{y:.2f}<extra></extra>",
        )
    )
    data.append(
        dict(
            type="scatter",
            x=rounded(steps[f"proposal_{first}"]),
            y=rounded(steps[f"proposal_{second}"]),
            mode="lines+markers",
            name="proposal on the table, week by week",
            line=dict(color="#444", width=1.5),
            marker=dict(
                size=6, color=list(range(len(steps))), colorscale=[[0, "#d5dbe0"], [1, "#222"]], showscale=False
            ),
            customdata=steps["date"].tolist(),
            hovertemplate="proposal on %{customdata}<br>%{x:.2f}, %{y:.2f}<extra></extra>",
        )
    )
    deal_rows = steps[steps["deal"].astype(bool)]
    if len(deal_rows):
        data.append(
            dict(
                type="scatter",
                x=[round(float(deal_rows[f"proposal_{first}"].iloc[0]), 3)],
                y=[round(float(deal_rows[f"proposal_{second}"].iloc[0]), 3)],
                mode="markers",
                name="the deal",
                marker=dict(symbol="star", size=20, color="#f1c40f", line=dict(color="#333", width=1)),
                customdata=[str(deal_rows["date"].iloc[0])],
                hovertemplate="deal of %{customdata}<br>%{x:.2f}, %{y:.2f}<extra></extra>",
            )
        )
    names = [esc(scenario.actors[a].name) for a in actor_ids]
    points = [(round(float(ideal[a, f]), 3), round(float(ideal[a, s]), 3)) for a in range(len(actor_ids))]
    data.append(
        dict(
            type="scatter",
            x=[x for x, _ in points],
            y=[y for _, y in points],
            mode="markers+text",
            text=names,
            textposition=_label_positions(points),
            name="ideal point of each actor",
            textfont=dict(size=12, color=[colour_of(a) for a in actor_ids]),
            marker=dict(size=15, color=[colour_of(a) for a in actor_ids], line=dict(color="white", width=1)),
            hovertemplate="%{text}: ideal point<br>%{x:.2f}, %{y:.2f}<extra></extra>",
        )
    )
    layout = layout_of(
        f"Where each actor wants {esc(first.replace('_', ' '))} and "
        f"{esc(second.replace('_', ' '))}, and where the proposals went",
        560,
    )
    layout["xaxis"] = dict(
        title=dict(text=_issue_title(first, scenario.issues[first])), range=[-0.08, 1.08], zeroline=False
    )
    layout["yaxis"] = dict(
        title=dict(text=_issue_title(second, scenario.issues[second], lines=3)), range=[-0.08, 1.12], zeroline=False
    )
    return figure_of(data, layout)


ISSUE_DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
ISSUE_COLOURS = ["#222222", "#6c5b7b", "#c06c84", "#355c7d", "#99b898", "#f8b195"]


def proposals_figure(
    timeseries: pd.DataFrame, scenario: Any, marks: Sequence[TimeMark | tuple[int, str, str]]
) -> go.Figure:
    """The proposal on each issue over time (0 and 1 are the issue's two ends)."""
    steps = _step_rows(timeseries)
    timeline = Timeline.of(timeseries)
    data = []
    issue_ids = list(scenario.issues)
    series = {issue_id: np.round(steps[f"proposal_{issue_id}"].to_numpy(dtype=float), 3) for issue_id in issue_ids}
    for k, (issue_id, issue) in enumerate(scenario.issues.items()):
        label = esc(issue_id.replace("_", " "))
        # A line that another issue's line covers for most of the run is drawn wider beneath it, and says so.
        under = [
            other
            for other in issue_ids[k + 1 :]
            if np.mean(np.isclose(series[issue_id], series[other], atol=0.01, equal_nan=True)) >= 0.5
        ]
        note = f"; mostly under {esc(under[0].replace('_', ' '))}" if under else ""
        data.append(
            dict(
                type="scatter",
                **timeline.x(),
                y=rounded(steps[f"proposal_{issue_id}"]),
                mode="lines",
                name=f"{label} (0 = {esc(issue.low)}, 1 = {esc(issue.high)}){note}",
                line=dict(
                    color=ISSUE_COLOURS[k % len(ISSUE_COLOURS)],
                    dash="solid" if under else ISSUE_DASHES[k % len(ISSUE_DASHES)],
                    width=2.5 + 4.0 * len(under),
                ),
                opacity=0.55 if under else 1.0,
                hovertemplate=f"{label}: %{{y:.2f}}<extra></extra>",
            )
        )
    layout = layout_of("The proposal on each issue, week by week", 380 + 22 * len(scenario.issues))
    shapes, badges = mark_layout(marks)
    layout.update(
        shapes=shapes,
        annotations=badges,
        hovermode="x unified",
        xaxis=date_axis(title=dict(text="date")),
        yaxis=dict(title=dict(text="position on the issue (0 to 1)"), range=[-0.05, 1.05]),
    )
    return figure_of(data, layout)
