"""The report of a Monte Carlo ensemble: fan charts, survival, outcome histograms and their numbers.

Figures are drawn from summaries (quantile bands, binned counts), never from every run, so a report
of 100,000 runs is as small as a report of 100.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
from plotly.subplots import make_subplots

from sim.reports.figures import (
    MEDIAN,
    MUTED,
    apply_layout,
    colour_of,
    esc,
    legend_over_first_panel,
    rgba,
    rounded,
    row_gap,
)
from sim.reports.page import Section, many_runs_header, render_page, uncertain_table
from sim.scenario.schema import Scenario

NEUTRAL = MUTED
HISTOGRAM_BINS = 40


def step_dates(scenario: Scenario, steps: int) -> list[str]:
    return [scenario.time.date_of(t).isoformat() for t in range(steps)]


def _fan(
    fig: go.Figure,
    dates: list[str],
    band: dict[str, list[float | None]],
    name: str,
    colour: str,
    row: int | None = None,
    dash: str = "solid",
    legend: bool = True,
) -> None:
    """Median line with the 50% and 90% bands (p25-p75, p05-p95) of a quantity over time."""
    where = {"row": row, "col": 1} if row is not None else {}
    for low, high, alpha, label in (("p05", "p95", 0.13, "90% of runs"), ("p25", "p75", 0.3, "50% of runs")):
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=band[low],
                mode="lines",
                line=dict(width=0),
                showlegend=False,
                hoverinfo="skip",
                legendgroup=name,
            ),
            **where,
        )
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=band[high],
                mode="lines",
                line=dict(width=0),
                fill="tonexty",
                fillcolor=rgba(colour, alpha),
                name=f"{name}: {label}",
                legendgroup=name,
                showlegend=legend,
                hoverinfo="skip",
            ),
            **where,
        )
    fig.add_trace(
        go.Scatter(
            x=dates,
            y=band["p50"],
            mode="lines",
            line=dict(color=colour, width=2.5, dash=dash),
            name=f"{name}: median",
            legendgroup=name,
            showlegend=legend,
            hovertemplate=f"{name}<br>%{{x}}<br>median %{{y:.3f}}<extra></extra>",
        ),
        **where,
    )


# ---------------------------------------------------------------------------- the Monte Carlo report


def control_fan_figure(summary: dict[str, Any], scenario: Scenario) -> go.Figure:
    dates = step_dates(scenario, summary["steps"])
    fig = go.Figure()
    _fan(fig, dates, summary["bands"]["control"], "government-side control", MEDIAN)
    fig.update_yaxes(title_text="share of territory (0 to 1)", range=[0, 1], tickformat=".0%")
    fig.update_xaxes(title_text="date", type="date")
    return apply_layout(fig, "Control of territory across runs", 420)


def observed_fan_figure(summary: dict[str, Any], scenario: Scenario) -> go.Figure:
    """The simulated counts of the scenario's first observed series across runs, with the observed counts
    (where its weeks are the steps); the steps after the last observation shaded as a forecast."""
    dates = step_dates(scenario, summary["steps"])
    band = summary["bands"]["intensity"]
    fig = go.Figure()
    _fan(fig, dates, band, "simulated count", MEDIAN)
    observed = band.get("observed") or []
    seen = [i for i, value in enumerate(observed) if value is not None]
    if seen:
        fig.add_trace(
            go.Scatter(
                x=[dates[i] for i in seen],
                y=[observed[i] for i in seen],
                mode="markers",
                marker=dict(color="#c0392b", size=6),
                name="observed",
            )
        )
        if seen[-1] + 1 < len(dates):
            fig.add_vrect(
                x0=dates[seen[-1] + 1],
                x1=dates[-1],
                fillcolor="rgba(120, 120, 120, 0.10)",
                line_width=0,
                layer="below",
                annotation_text="after the data",
                annotation_position="top left",
            )
    fig.update_yaxes(title_text=f"count per {scenario.time.step}", rangemode="tozero")
    fig.update_xaxes(title_text="date", type="date")
    return apply_layout(fig, "The observed series and the runs' simulated counts", 420)


def actor_fan_figure(summary: dict[str, Any], scenario: Scenario) -> go.Figure:
    dates = step_dates(scenario, summary["steps"])
    actors = list(scenario.actors)
    titles = [
        esc(scenario.actors[a].name) + (" (consent required)" if scenario.actors[a].consent_required else "")
        for a in actors
    ]
    height = 210 * len(actors) + 140
    # The gap between rows as a share of the height: a fixed 0.05 exceeds plotly's 1 / (rows - 1) from 22 actors.
    fig = make_subplots(
        rows=len(actors),
        cols=1,
        shared_xaxes=True,
        subplot_titles=titles,
        vertical_spacing=row_gap(height, len(actors), gap_px=40),
    )
    for row, actor in enumerate(actors, start=1):
        _fan(
            fig,
            dates,
            summary["bands"][f"batna_{actor}"],
            "alternative to a deal",
            NEUTRAL,
            row=row,
            dash="dash",
            legend=row == 1,
        )
        _fan(
            fig,
            dates,
            summary["bands"][f"deal_value_{actor}"],
            "deal on offer (in the actor's colour)",
            colour_of(actor),
            row=row,
            legend=row == 1,
        )
        fig.update_yaxes(title_text="utility", row=row, col=1)
    fig.update_xaxes(title_text="date", type="date", row=len(actors), col=1)
    # Over the first panel, not under the last one, which on a phone is a thousand pixels further down.
    apply_layout(fig, "Each actor's deal on offer against its alternative, across runs", height)
    return fig.update_layout(**legend_over_first_panel(height, len(actors)))


def _binned(values: np.ndarray, low: float, high: float, bins: int = HISTOGRAM_BINS) -> tuple[list[float], list[int]]:
    finite = values[np.isfinite(values)]
    counts, edges = np.histogram(finite, bins=bins, range=(low, high))
    return rounded((edges[:-1] + edges[1:]) / 2, 4), counts.tolist()


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def outcome_histograms_figure(table: pa.Table, scenario: Scenario) -> go.Figure:
    """Where the deals land on each issue, when they come, and how the war stands at the end."""
    issues = list(scenario.issues)
    panels = [f"deal on {esc(k.replace('_', ' '))}" for k in issues] + [
        "week of the deal" if scenario.time.step == "week" else "step of the deal"
    ]
    has_war = scenario.battlefield is not None
    if has_war:
        panels.append("control at the end")
    columns = 2
    rows = (len(panels) + 1) // columns
    fig = make_subplots(
        rows=rows, cols=columns, subplot_titles=panels, vertical_spacing=0.5 / rows, horizontal_spacing=0.1
    )
    runs = max(table.num_rows, 1)

    def add(index: int, centres: list[float], counts: list[int], colour: str, label: str, width: float) -> None:
        fig.add_trace(
            go.Bar(
                x=centres,
                y=rounded(np.array(counts) / runs, 5),
                marker_color=colour,
                width=width,
                showlegend=False,
                hovertemplate=f"{label} %{{x}}<br>%{{y:.1%}} of runs<extra></extra>",
            ),
            row=index // columns + 1,
            col=index % columns + 1,
        )
        fig.update_yaxes(
            title_text="share of runs", tickformat=".0%", row=index // columns + 1, col=index % columns + 1
        )

    for index, issue in enumerate(issues):
        centres, counts = _binned(_column(table, f"deal_{issue}"), 0.0, 1.0)
        add(index, centres, counts, MEDIAN, esc(issue.replace("_", " ")), 1.0 / HISTOGRAM_BINS)
        fig.update_xaxes(
            title_text=f"0 = {esc(scenario.issues[issue].low)}<br>1 = {esc(scenario.issues[issue].high)}",
            title_font_size=12,
            range=[0, 1],
            row=index // columns + 1,
            col=index % columns + 1,
        )
    steps = scenario.time.steps
    deal_step = _column(table, "deal_step")
    counts = np.bincount(deal_step[np.isfinite(deal_step)].astype(np.int64), minlength=steps)[:steps]
    index = len(issues)
    add(index, list(range(steps)), counts.tolist(), "#2e8b57", "step", 0.9)
    fig.update_xaxes(
        title_text=f"{scenario.time.step} of the run (0 = {scenario.time.start.isoformat()})",
        row=index // columns + 1,
        col=index % columns + 1,
    )
    if has_war:
        index += 1
        centres, counts = _binned(_column(table, "control_end"), 0.0, 1.0)
        add(index, centres, counts, NEUTRAL, "control", 1.0 / HISTOGRAM_BINS)
        fig.update_xaxes(
            title_text="government-side share of territory",
            range=[0, 1],
            row=index // columns + 1,
            col=index % columns + 1,
        )
    return apply_layout(fig, "Outcomes across runs", 330 * rows + 80)


def survival_figure(summary: dict[str, Any], scenario: Scenario) -> go.Figure:
    dates = step_dates(scenario, summary["steps"])
    fig = go.Figure()
    if summary["ceasefire"]["in_force_at_start"] or summary["ceasefire"]["collapse_probability"]:
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=summary["ceasefire"]["survival"],
                mode="lines",
                line_shape="hv",
                line=dict(color=MEDIAN, width=3),
                name="ceasefire not yet collapsed",
                hovertemplate="%{x}<br>%{y:.1%} of runs without a collapse so far<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=dates,
            y=summary["deal"]["cumulative_by_step"],
            mode="lines",
            line_shape="hv",
            line=dict(color="#2e8b57", width=2, dash="dash"),
            name="deal reached by then",
            hovertemplate="%{x}<br>%{y:.1%} of runs have a deal<extra></extra>",
        )
    )
    fig.update_yaxes(title_text="share of runs", range=[0, 1.02], tickformat=".0%")
    fig.update_xaxes(title_text="date", type="date")
    return apply_layout(fig, "Survival of the ceasefire, and deals reached, over time", 400)


def _quantile_row(label: str, values: dict[str, Any], digits: int = 3) -> str:
    def cell(key: str) -> str:
        value = values.get(key)
        return "&ndash;" if value is None else f"{value:.{digits}f}"

    return (
        f"<tr><td>{label}</td><td>{values.get('count', 0):,}</td>"
        + "".join(f"<td>{cell(k)}</td>" for k in ("p05", "p25", "p50", "p75", "p95", "mean"))
        + "</tr>"
    )


def numbers_table(summary: dict[str, Any], scenario: Scenario) -> str:
    """Quantiles of the outcomes: deal position per issue, time to deal, end control, each actor's values."""
    head = (
        "<tr><th>quantity</th><th>runs</th><th>5%</th><th>25%</th><th>median</th><th>75%</th><th>95%</th>"
        "<th>mean</th></tr>"
    )
    rows = [_quantile_row(f"deal on {esc(k.replace('_', ' '))}", summary["deal_position"][k]) for k in scenario.issues]
    rows.append(_quantile_row(f"{esc(summary['time_to_deal']['unit'])} of the deal", summary["time_to_deal"], 1))
    if summary.get("control_end"):
        rows.append(_quantile_row("control at the end", summary["control_end"]))
    rows.append(_quantile_row(f"{esc(scenario.time.step)}s the ceasefire held", summary["ceasefire"]["held_steps"], 1))
    for values in summary["actors"].values():
        rows.append(_quantile_row(f"{esc(values['name'])}: alternative at the end", values["batna_end"]))
        rows.append(_quantile_row(f"{esc(values['name'])}: utility of the deal", values["utility_of_deal"]))
    return f'<div class="table-wrap"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'


def seeding_text(summary: dict[str, Any]) -> str:
    """How the runs' seeds were chosen, in words."""
    if summary.get("uncertain"):
        return (
            f"Each run has its own seed and its own draw of the uncertain inputs, all from the ensemble seed "
            f"{summary['seed']}: the spread across runs is chance and the uncertain inputs together."
        )
    return f"Each run has its own seed, from the ensemble seed {summary['seed']}: the spread across runs is chance."


def ensemble_report(summary: dict[str, Any], table: pa.Table, scenario: Scenario) -> str:
    """The HTML report of a Monte Carlo ensemble (its summary and its runs table)."""
    facts = [
        ("Runs", f"{summary['runs']:,}"),
        ("Seeds", esc(seeding_text(summary))),
        (
            "Period",
            f"{esc(summary['start'])} to {esc(summary['end'])} ({summary['steps']} {esc(summary['step_length'])}s)",
        ),
    ]
    header = many_runs_header(
        "Negotiation simulation: Monte Carlo ensemble",
        scenario,
        summary["scenario"]["file"],
        summary["scenario"]["sha256"],
        summary["outcome"],
        facts,
    )
    sections = [
        Section(
            "Deal on offer against the alternative, across runs",
            "For each actor, the coloured band is where the value of the deal on offer lay in the middle half "
            "(darker) and in 90% (lighter) of runs, the grey dashed band its alternative to a deal; where the "
            "coloured band sits above the grey one, the actor gains from a deal in most runs.",
            actor_fan_figure(summary, scenario),
            anchor="deal-value",
            centre=True,
        ),
        Section(
            "Survival of the ceasefire",
            "The solid line is the share of runs whose ceasefire has not collapsed by each date; the dashed line "
            "the share that have reached a deal by then.",
            survival_figure(summary, scenario),
            anchor="survival",
        ),
    ]
    if "units" in summary["bands"].get("intensity", {}) and "observed" in summary["bands"]["intensity"]:
        sections.append(
            Section(
                "The observed series",
                "Blue: the counts the runs give (median, middle half, 90%), in the units of the scenario's "
                f"observed series ({summary['bands']['intensity']['units']}): the fighting of each run through "
                "its observation model, with the count noise. Red: the observed counts. After the last one, the "
                "runs are a forecast."
                + (" The calibrated fields come from a posterior." if summary.get("posterior") else ""),
                observed_fan_figure(summary, scenario),
                anchor="observed",
            )
        )
    if scenario.battlefield is not None:
        sections.append(
            Section(
                "Control of territory",
                "The median share of territory held by the government side, with the middle half "
                "(dark) and 90% (light) of runs around it.",
                control_fan_figure(summary, scenario),
                anchor="control",
            )
        )
    sections += [
        Section(
            "Outcomes",
            "Where the deals landed on each issue, in which week they came, and who held the ground "
            "at the end; bars are shares of all runs.",
            outcome_histograms_figure(table, scenario),
            anchor="outcomes",
        ),
        Section(
            "Outcomes in numbers",
            "Quantiles over runs (a deal's position and utility only over runs that reached one).",
            html_body=numbers_table(summary, scenario),
            anchor="numbers",
        ),
        Section(
            "What was uncertain",
            "The distributions sampled for each run (the scenario's uncertain: block).",
            html_body=uncertain_table(summary),
            anchor="inputs",
        ),
    ]
    return render_page(f"{scenario.name}: {summary['runs']:,} runs", header, sections)
