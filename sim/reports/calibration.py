"""The report of a calibration: the observed series over the model's predictive bands (with the forecast after
the data apart), each field's prior against its posterior, the most correlated pairs, and the ABC's progress."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from sim.reports.figures import BAND_50, MEDIAN, MUTED, apply_layout, esc, legend_over_first_panel, rgba, row_gap
from sim.reports.page import Section, many_runs_header, render_page, table_html
from sim.scenario.schema import Scenario
from sim.scenario.uncertainty import scipy_law

Particles = dict[str, np.ndarray]  # field path -> (N,) the posterior particles' values

BAND_90 = "rgba(31, 95, 168, 0.13)"
PRIOR_LINE = "#b8860b"
FORECAST_FILL = "rgba(120, 120, 120, 0.10)"
OBSERVED = "#c0392b"
HISTOGRAM_BINS = 30
PAIRS_SHOWN = 3


def predictive_figure(predictive: dict[str, Any]) -> go.Figure:
    """The observed counts over the model's 50% and 90% bands per period; the forecast after the data shaded."""
    bands = predictive["bands"]
    dates = bands["dates"]
    observed = predictive["observed"]
    n = len(observed)
    fig = go.Figure()
    for low, high, colour, name in (("p05", "p95", BAND_90, "90% band"), ("p25", "p75", BAND_50, "50% band")):
        fig.add_trace(
            go.Scatter(x=dates, y=bands[low], mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip")
        )
        fig.add_trace(
            go.Scatter(
                x=dates, y=bands[high], mode="lines", line=dict(width=0), fill="tonexty", fillcolor=colour, name=name
            )
        )
    fig.add_trace(
        go.Scatter(x=dates, y=bands["p50"], mode="lines", line=dict(color=MEDIAN, width=2), name="median (posterior)")
    )
    if "prior_p50" in bands:
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=bands["prior_p50"],
                mode="lines",
                line=dict(color=PRIOR_LINE, width=1.5, dash="dot"),
                name="median (prior)",
            )
        )
    fig.add_trace(
        go.Scatter(x=dates[:n], y=observed, mode="markers", marker=dict(color=OBSERVED, size=6), name="observed")
    )
    shapes, annotations = [], []
    if len(dates) > n:
        shapes.append(
            dict(
                type="rect",
                xref="x",
                yref="paper",
                x0=dates[n],
                x1=dates[-1],
                y0=0,
                y1=1,
                fillcolor=FORECAST_FILL,
                line=dict(width=0),
                layer="below",
            )
        )
        annotations.append(
            dict(
                x=dates[n],
                y=1,
                xref="x",
                yref="paper",
                text="forecast (no data fitted)",
                showarrow=False,
                xanchor="left",
                yanchor="bottom",
                font=dict(size=11, color=MUTED),
            )
        )
    apply_layout(
        fig, f"{esc(predictive['label'])}: observed and simulated", 430, shapes=shapes, annotations=annotations
    )
    fig.update_yaxes(title_text="count per period", rangemode="tozero")
    return fig


def _weighted_histogram(
    values: np.ndarray, weights: np.ndarray, low: float, high: float
) -> tuple[np.ndarray, np.ndarray]:
    density, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(low, high), weights=weights, density=True)
    return (edges[:-1] + edges[1:]) / 2, density


def marginals_figure(
    scenario: Scenario, labels: dict[str, str], particles: Particles, weights: np.ndarray
) -> go.Figure:
    """Each field's posterior (bars, weighted) against its prior density (line)."""
    count = len(particles)
    cols = 2
    rows = math.ceil(count / cols)
    height = 220 * rows + 120
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[esc(labels.get(path, path)) for path in particles],
        vertical_spacing=row_gap(height, rows, gap_px=60, chrome_px=140),
        horizontal_spacing=0.12,
    )
    for j, (path, column) in enumerate(particles.items()):
        row, col = j // cols + 1, j % cols + 1
        law, args = scipy_law(scenario.uncertain[path])
        distribution = getattr(stats, law)(*args)
        low, high = (float(v) for v in distribution.ppf([0.001, 0.999]))
        low, high = min(low, float(column.min())), max(high, float(column.max()))
        centres, density = _weighted_histogram(column, weights, low, high)
        fig.add_trace(
            go.Bar(
                x=centres,
                y=density,
                marker_color=rgba(MEDIAN, 0.55),
                name="posterior",
                showlegend=j == 0,
                legendgroup="posterior",
            ),
            row=row,
            col=col,
        )
        grid = np.linspace(low, high, 120)
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=distribution.pdf(grid),
                mode="lines",
                line=dict(color=PRIOR_LINE, width=2),
                name="prior",
                showlegend=j == 0,
                legendgroup="prior",
            ),
            row=row,
            col=col,
        )
    apply_layout(fig, "Prior (line) and posterior (bars) of each field", height, bargap=0.02)
    fig.update_annotations(font_size=12)
    # Over the first row of panels, not under the last, which on a phone is far below.
    return fig.update_layout(**legend_over_first_panel(height, rows))


def _axis_title(labels: dict[str, str], path: str) -> str:
    """A field's label for an axis, escaped, on two lines (whose the field is, then what it is) so that a
    long label is not cut."""
    owner, _, what = labels.get(path, path).rpartition(": ")
    return f"{esc(owner)}:<br>{esc(what)}" if owner else esc(what)


def pairs_figure(
    labels: dict[str, str], particles: Particles, weights: np.ndarray, pairs: list[dict[str, Any]]
) -> go.Figure:
    """The particles of the most correlated pairs of fields (darker = more weight)."""
    shown = pairs[:PAIRS_SHOWN]
    fig = make_subplots(
        rows=1,
        cols=max(len(shown), 1),
        subplot_titles=[f"r = {pair['r']:+.2f}" for pair in shown],
        horizontal_spacing=0.1,
    )
    opacity = 0.15 + 0.85 * weights / weights.max()
    for k, pair in enumerate(shown):
        fig.add_trace(
            go.Scatter(
                x=particles[pair["a"]],
                y=particles[pair["b"]],
                mode="markers",
                marker=dict(size=4, color=MEDIAN, opacity=float(np.median(opacity))),
                showlegend=False,
                hoverinfo="skip",
            ),
            row=1,
            col=k + 1,
        )
        fig.update_xaxes(title_text=_axis_title(labels, pair["a"]), row=1, col=k + 1)
        fig.update_yaxes(title_text=_axis_title(labels, pair["b"]), row=1, col=k + 1)
    apply_layout(fig, "The most correlated pairs of fields in the posterior", 380, legend=False)
    return fig


def generations_figure(generations: list[dict[str, Any]]) -> go.Figure:
    """The tolerance (largest accepted distance) and the acceptance rate per generation."""
    index = [g["generation"] for g in generations]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=index,
            y=[g["tolerance"] for g in generations],
            mode="lines+markers",
            name="tolerance",
            line=dict(color=MEDIAN),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=index,
            y=[g["acceptance_rate"] for g in generations],
            mode="lines+markers",
            name="acceptance rate",
            line=dict(color=PRIOR_LINE, dash="dash"),
        ),
        secondary_y=True,
    )
    apply_layout(fig, "Tolerance and acceptance rate per generation", 360)
    fig.update_xaxes(title_text="generation", dtick=1)
    fig.update_yaxes(title_text="tolerance (adaptive distance)", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text="acceptance rate", secondary_y=True, tickformat=".0%", rangemode="tozero")
    return fig


def _table(head: list[str], rows: list[list[str]]) -> str:
    """`table_html` of rows given as their cells' inner HTML."""
    return table_html(head, [[f"<td>{cell}</td>" for cell in row] for row in rows])


def _number(value: float) -> str:
    return esc(f"{value:.4g}")


def posterior_table_html(summary: dict[str, Any]) -> str:
    rows = []
    for path, row in summary["posterior"].items():
        prior = ", ".join(f"{k} {v}" for k, v in row["prior"].items())
        rows.append(
            [
                esc(summary["labels"].get(path, path)) + f"<br><code>{esc(path)}</code>",
                _number(row["mean"]),
                f"{_number(row['p05'])} to {_number(row['p95'])}",
                esc(prior),
            ]
        )
    return _table(["field", "posterior mean", "90% interval", "prior"], rows)


def checks_html(summary: dict[str, Any]) -> str:
    rows = []
    for series_id, predictive in summary["predictive"].items():
        checks = predictive["checks"]
        rows.append(
            [
                esc(series_id),
                "observed inside the 90% band",
                esc(f"{checks['coverage_90']:.0%} of observed periods (at least 80% wanted)"),
                "passes" if checks["coverage_90_passes"] else "<strong>fails</strong>",
            ]
        )
        for name, words in (("march_drop", "the March drop"), ("rise_from_late_may", "the rise from late May")):
            check = checks[name]
            rows.append(
                [
                    esc(series_id),
                    esc(f"{words}: {check['rule']}"),
                    esc(f"model medians {check['model']:.3g}; observed {check['observed']:.3g}"),
                    "passes" if check["passes"] else "<strong>fails</strong>",
                ]
            )
    return _table(["series", "check", "measured", "result"], rows)


def forecast_html(summary: dict[str, Any]) -> str:
    rows = []
    for series_id, predictive in summary["predictive"].items():
        for month in predictive["forecast_by_month"]:
            rows.append(
                [
                    esc(series_id),
                    esc(month["month"]),
                    _number(month["p50"]),
                    f"{_number(month['p25'])} to {_number(month['p75'])}",
                    f"{_number(month['p05'])} to {_number(month['p95'])}",
                ]
            )
    return _table(["series", "month", "median per period", "50% band", "90% band"], rows)


def calibration_report(summary: dict[str, Any], particles: Particles, weights: np.ndarray, scenario: Scenario) -> str:
    """The HTML report of a calibration: its summary (`sim.runs.calibration.calibration_summary`) and the final
    generation's particles (field path -> values) with their weights."""
    method = summary["method"]
    facts = [
        ("Method", esc(f"{method['algorithm']}; {method['library']}")),
        (
            "Settings",
            esc(
                f"{method['generations']} generations of {method['population']:,} particles (quantile "
                f"{method['quantile']}); {method['runs_simulated']:,} runs of {method['steps_simulated']} steps; seed "
                f"{summary['seed']}"
            ),
        ),
        ("Summary statistics", esc(summary["summary_statistics"])),
        ("Distance", esc(summary["distance"])),
        (
            "Data",
            "<br>".join(
                esc(
                    f"{d['label']}: {d['file']}, column {d['column']}, {d['periods']} {d['resolution']}s "
                    f"from {d['first']} to {d['last']}"
                )
                + f"<br><code>sha256 {esc(d['sha256'])}</code>"
                for d in summary["data"]
            ),
        ),
    ]
    header = many_runs_header(
        "Calibration", scenario, summary["scenario"]["file"], summary["scenario"]["sha256"], summary["outcome"], facts
    )
    sections = []
    for series_id, predictive in summary["predictive"].items():
        sections.append(
            Section(
                title="Posterior predictive check and forecast",
                caption=(
                    f"Red dots: the observed counts. Blue: the counts {predictive['draws']:,} runs give with "
                    "parameters drawn from the posterior (median, middle half, 90%), each with its own random path "
                    "and count noise. "
                    "Dotted: the median with parameters drawn from the priors. The shaded part after the last "
                    "observed period is a forecast: no data of it was fitted."
                ),
                figure=predictive_figure(predictive),
                anchor=f"predictive-{series_id}",
                centre=True,
            )
        )
    sections.append(
        Section(
            title="Checks",
            caption="The posterior predictive check on the observed window, as the calibration issue states it.",
            html_body=checks_html(summary),
            anchor="checks",
        )
    )
    sections.append(
        Section(
            title="Forecast by month",
            caption="The simulated counts per period after the data, averaged per month: a forecast to check "
            "against the later record, never fitted to it.",
            html_body=forecast_html(summary),
            anchor="forecast",
        )
    )
    sections.append(
        Section(
            title="Prior and posterior",
            caption="How far the data moved each field: a posterior as wide as its prior means the data say "
            "little about that field (the observed series does not depend on it, or other fields can stand in for it).",
            figure=marginals_figure(scenario, summary["labels"], particles, weights),
            html_body=posterior_table_html(summary),
            anchor="marginals",
        )
    )
    if summary["correlations"]:
        sections.append(
            Section(
                title="Correlated fields",
                caption="Pairs of fields the data constrain together: along such a ridge one field can make up "
                "for the other.",
                figure=pairs_figure(summary["labels"], particles, weights, summary["correlations"]),
                anchor="pairs",
            )
        )
    sections.append(
        Section(
            title="How the ABC went",
            caption="Each generation's tolerance (the largest distance it accepted, on that generation's adaptive "
            "scale, so not always falling) and the share of its simulations it kept.",
            figure=generations_figure(summary["generations"]),
            anchor="generations",
        )
    )
    return render_page(f"Calibration: {scenario.name}", header, sections)
