"""HTML reports of many runs: a Monte Carlo ensemble, a grid sweep, a sensitivity analysis.

Each report is one `sim.report.render_page` page: a header with the headline
numbers, then figures whose captions say what to read from them. Figures are
drawn from summaries (quantile bands, binned counts, per-point aggregates,
indices), never from every run, so a report of 100,000 runs is as small as a
report of 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
from plotly.subplots import make_subplots

from sim.figures import colour_of, esc, rounded
from sim.report import Section, render_page
from sim.schema import Scenario

BAND_90 = "rgba(31, 95, 168, 0.13)"
BAND_50 = "rgba(31, 95, 168, 0.28)"
MEDIAN = "#1f5fa8"
NEUTRAL = "#5f6b73"
HISTOGRAM_BINS = 40


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left", font=dict(size=15)), height=height,
                      template="plotly_white", margin=dict(l=64, r=24, t=64, b=48), autosize=True,
                      legend=dict(orientation="h", yanchor="top", y=-0.12, x=0, xanchor="left"),
                      font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=13))
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def step_dates(scenario: Scenario, steps: int) -> list[str]:
    return [scenario.time.date_of(t).isoformat() for t in range(steps)]


def _fan(fig: go.Figure, dates: list[str], band: dict[str, list[float | None]], name: str, colour: str,
         row: int | None = None, dash: str = "solid", legend: bool = True) -> None:
    """Median line with the 50% and 90% bands (p25-p75, p05-p95) of a quantity over time."""
    where = {"row": row, "col": 1} if row is not None else {}
    for low, high, alpha, label in (("p05", "p95", 0.13, "90% of runs"), ("p25", "p75", 0.3, "50% of runs")):
        fig.add_trace(go.Scatter(x=dates, y=band[low], mode="lines", line=dict(width=0), showlegend=False,
                                 hoverinfo="skip", legendgroup=name), **where)
        fig.add_trace(go.Scatter(x=dates, y=band[high], mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor=_rgba(colour, alpha), name=f"{name}: {label}", legendgroup=name,
                                 showlegend=legend, hoverinfo="skip"), **where)
    fig.add_trace(go.Scatter(x=dates, y=band["p50"], mode="lines", line=dict(color=colour, width=2.5, dash=dash),
                             name=f"{name}: median", legendgroup=name, showlegend=legend,
                             hovertemplate=f"{name}<br>%{{x}}<br>median %{{y:.3f}}<extra></extra>"), **where)


# ---------------------------------------------------------------------------- the Monte Carlo report

def control_fan_figure(summary: dict[str, Any], scenario: Scenario) -> go.Figure:
    dates = step_dates(scenario, summary["steps"])
    fig = go.Figure()
    _fan(fig, dates, summary["bands"]["control"], "government-side control", MEDIAN)
    fig.update_yaxes(title_text="share of territory (0 to 1)", range=[0, 1], tickformat=".0%")
    fig.update_xaxes(title_text="date", type="date")
    return _layout(fig, "Control of territory across runs", 420)


def actor_fan_figure(summary: dict[str, Any], scenario: Scenario) -> go.Figure:
    dates = step_dates(scenario, summary["steps"])
    actors = list(scenario.actors)
    titles = [esc(scenario.actors[a].name) + (" (consent required)" if scenario.actors[a].consent_required else "")
              for a in actors]
    fig = make_subplots(rows=len(actors), cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.05)
    for row, actor in enumerate(actors, start=1):
        _fan(fig, dates, summary["bands"][f"batna_{actor}"], "alternative to a deal", NEUTRAL, row=row, dash="dash",
             legend=row == 1)
        _fan(fig, dates, summary["bands"][f"deal_value_{actor}"], "deal on offer (in the actor's colour)",
             colour_of(actor), row=row, legend=row == 1)
        fig.update_yaxes(title_text="utility", row=row, col=1)
    fig.update_xaxes(title_text="date", type="date", row=len(actors), col=1)
    return _layout(fig, "Each actor's deal on offer against its alternative, across runs", 210 * len(actors) + 140)


def _binned(values: np.ndarray, low: float, high: float, bins: int = HISTOGRAM_BINS) -> tuple[list[float], list[int]]:
    finite = values[np.isfinite(values)]
    counts, edges = np.histogram(finite, bins=bins, range=(low, high))
    return rounded((edges[:-1] + edges[1:]) / 2, 4), counts.tolist()


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def outcome_histograms_figure(table: pa.Table, scenario: Scenario) -> go.Figure:
    """Where the deals land on each issue, when they come, and how the war stands at the end."""
    issues = list(scenario.issues)
    panels = [f"deal on {esc(k)}" for k in issues] + ["week of the deal" if scenario.time.step == "week"
                                                        else "step of the deal"]
    has_war = scenario.battlefield is not None
    if has_war:
        panels.append("control at the end")
    columns = 2
    rows = (len(panels) + 1) // columns
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=panels, vertical_spacing=0.5 / rows,
                        horizontal_spacing=0.1)
    runs = max(table.num_rows, 1)

    def add(index: int, centres: list[float], counts: list[int], colour: str, label: str, width: float) -> None:
        fig.add_trace(go.Bar(x=centres, y=rounded(np.array(counts) / runs, 5), marker_color=colour, width=width,
                             showlegend=False, hovertemplate=f"{label} %{{x}}<br>%{{y:.1%}} of runs<extra></extra>"),
                      row=index // columns + 1, col=index % columns + 1)
        fig.update_yaxes(title_text="share of runs", tickformat=".0%", row=index // columns + 1,
                         col=index % columns + 1)

    for index, issue in enumerate(issues):
        centres, counts = _binned(_column(table, f"deal_{issue}"), 0.0, 1.0)
        add(index, centres, counts, MEDIAN, esc(issue), 1.0 / HISTOGRAM_BINS)
        fig.update_xaxes(title_text=f"0 = {esc(scenario.issues[issue].low)}<br>1 = {esc(scenario.issues[issue].high)}",
                         title_font_size=12, range=[0, 1], row=index // columns + 1, col=index % columns + 1)
    steps = scenario.time.steps
    deal_step = _column(table, "deal_step")
    counts = np.bincount(deal_step[np.isfinite(deal_step)].astype(np.int64), minlength=steps)[:steps]
    index = len(issues)
    add(index, list(range(steps)), counts.tolist(), "#2e8b57", "step", 0.9)
    fig.update_xaxes(title_text=f"{scenario.time.step} of the run (0 = {scenario.time.start.isoformat()})",
                     row=index // columns + 1, col=index % columns + 1)
    if has_war:
        index += 1
        centres, counts = _binned(_column(table, "control_end"), 0.0, 1.0)
        add(index, centres, counts, NEUTRAL, "control", 1.0 / HISTOGRAM_BINS)
        fig.update_xaxes(title_text="government-side share of territory", range=[0, 1],
                         row=index // columns + 1, col=index % columns + 1)
    return _layout(fig, "Outcomes across runs", 330 * rows + 80)


def survival_figure(summary: dict[str, Any], scenario: Scenario) -> go.Figure:
    dates = step_dates(scenario, summary["steps"])
    fig = go.Figure()
    if summary["ceasefire"]["in_force_at_start"] or summary["ceasefire"]["collapse_probability"]:
        fig.add_trace(go.Scatter(x=dates, y=summary["ceasefire"]["survival"], mode="lines", line_shape="hv",
                                 line=dict(color=MEDIAN, width=3), name="ceasefire not yet collapsed",
                                 hovertemplate="%{x}<br>%{y:.1%} of runs without a collapse so far<extra></extra>"))
    fig.add_trace(go.Scatter(x=dates, y=summary["deal"]["cumulative_by_step"], mode="lines", line_shape="hv",
                             line=dict(color="#2e8b57", width=2, dash="dash"), name="deal reached by then",
                             hovertemplate="%{x}<br>%{y:.1%} of runs have a deal<extra></extra>"))
    fig.update_yaxes(title_text="share of runs", range=[0, 1.02], tickformat=".0%")
    fig.update_xaxes(title_text="date", type="date")
    return _layout(fig, "Survival of the ceasefire, and deals reached, over time", 400)


def _quantile_row(label: str, values: dict[str, Any], digits: int = 3) -> str:
    def cell(key: str) -> str:
        value = values.get(key)
        return "&ndash;" if value is None else f"{value:.{digits}f}"
    return (f"<tr><td>{label}</td><td>{values.get('count', 0):,}</td>" +
            "".join(f"<td>{cell(k)}</td>" for k in ("p05", "p25", "p50", "p75", "p95", "mean")) + "</tr>")


def numbers_table(summary: dict[str, Any], scenario: Scenario) -> str:
    """Quantiles of the outcomes: deal position per issue, time to deal, end control, each actor's values."""
    head = ("<tr><th>quantity</th><th>runs</th><th>5%</th><th>25%</th><th>median</th><th>75%</th><th>95%</th>"
            "<th>mean</th></tr>")
    rows = [_quantile_row(f"deal on {esc(k)}", summary["deal_position"][k]) for k in scenario.issues]
    rows.append(_quantile_row(f"{esc(summary['time_to_deal']['unit'])} of the deal", summary["time_to_deal"], 1))
    if summary.get("control_end"):
        rows.append(_quantile_row("control at the end", summary["control_end"]))
    rows.append(_quantile_row(f"{esc(scenario.time.step)}s the ceasefire held", summary["ceasefire"]["held_steps"], 1))
    for values in summary["actors"].values():
        rows.append(_quantile_row(f"{esc(values['name'])}: alternative at the end", values["batna_end"]))
        rows.append(_quantile_row(f"{esc(values['name'])}: utility of the deal", values["utility_of_deal"]))
    return f'<div class="table-wrap"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'


def uncertain_table(summary: dict[str, Any]) -> str:
    if not summary["uncertain"]:
        return "<p>The scenario has no <code>uncertain:</code> block: runs differ only in their random draws.</p>"
    rows = []
    for path, spec in summary["uncertain"].items():
        parameters = ", ".join(f"{esc(k)} {esc(v)}" for k, v in spec.items() if k != "dist")
        rows.append(f"<tr><td><code>{esc(path)}</code></td><td>{esc(spec['dist'])}</td><td>{parameters}</td></tr>")
    return ('<div class="table-wrap"><table><thead><tr><th>field</th><th>distribution</th><th>parameters</th></tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>')


def _header(kicker: str, scenario: Scenario, loaded_file: str, sha256: str, outcome: str,
            facts: Sequence[tuple[str, str]]) -> str:
    sources = ", ".join(esc(s) for s in scenario.sources) or "none given"
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in facts)
    return (f'<header class="report"><p class="kicker">{esc(kicker)}</p><h1>{esc(scenario.name)}</h1>'
            f'<p class="outcome"><span class="label">Outcome</span><span id="outcome">{esc(outcome)}</span></p>'
            f'<p class="description">{esc(scenario.description)}</p><dl class="meta">'
            f"<div><dt>Sources</dt><dd>{sources}</dd></div>{items}"
            f"<div><dt>Scenario file</dt><dd>{esc(loaded_file)}<br><code>sha256 {esc(sha256)}</code></dd></div>"
            "</dl></header>")


def ensemble_report(summary: dict[str, Any], table: pa.Table, scenario: Scenario) -> str:
    """The HTML report of a Monte Carlo ensemble (its summary and its runs table)."""
    facts = [("Runs", f"{summary['runs']:,}"), ("Ensemble seed", esc(summary["seed"])),
             ("Period", f"{esc(summary['start'])} to {esc(summary['end'])} ({summary['steps']} "
                        f"{esc(summary['step_length'])}s)")]
    header = _header("Negotiation simulation: Monte Carlo ensemble", scenario, summary["scenario"]["file"],
                     summary["scenario"]["sha256"], summary["outcome"], facts)
    sections = [
        Section("Deal on offer against the alternative, across runs",
                "For each actor, the coloured band is where the value of the deal on offer lay in the middle half "
                "(darker) and in 90% (lighter) of runs, the grey dashed band its alternative to a deal; where the "
                "coloured band sits above the grey one, the actor gains from a deal in most runs.",
                actor_fan_figure(summary, scenario), anchor="deal-value", centre=True),
        Section("Survival of the ceasefire",
                "The solid line is the share of runs whose ceasefire has not collapsed by each date; the dashed line "
                "the share that have reached a deal by then.", survival_figure(summary, scenario), anchor="survival"),
    ]
    if scenario.battlefield is not None:
        sections.append(Section("Control of territory",
                                "The median share of territory held by the government side, with the middle half "
                                "(dark) and 90% (light) of runs around it.",
                                control_fan_figure(summary, scenario), anchor="control"))
    sections += [
        Section("Outcomes", "Where the deals landed on each issue, in which week they came, and who held the ground "
                "at the end; bars are shares of all runs.", outcome_histograms_figure(table, scenario),
                anchor="outcomes"),
        Section("Outcomes in numbers", "Quantiles over runs (a deal's position and utility only over runs that "
                "reached one).", html_body=numbers_table(summary, scenario), anchor="numbers"),
        Section("What was uncertain", "The distributions sampled for each run (the scenario's uncertain: block).",
                html_body=uncertain_table(summary), anchor="inputs"),
    ]
    return render_page(f"{scenario.name}: {summary['runs']:,} runs", header, sections)


# ---------------------------------------------------------------------------- the sweep report

SWEEP_METRICS = {
    "deal_probability": ("probability of a deal", ".0%"),
    "time_to_deal_mean": ("mean step of the deal", ".1f"),
    "collapse_probability": ("probability the ceasefire collapses", ".0%"),
    "control_end_mean": ("mean control at the end", ".2f"),
}


def sweep_line_figure(points: list[dict[str, Any]], path: str, issues: Sequence[str]) -> go.Figure:
    """Outcomes against one swept field."""
    x = [p["values"][path] for p in points]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=["probability of a deal (95% interval) and of a ceasefire collapse",
                                        "where the deal lands on each issue (mean over runs with a deal)"])
    fig.add_trace(go.Scatter(x=x, y=[p["deal_ci95"][0] for p in points], mode="lines", line=dict(width=0),
                             showlegend=False, hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=[p["deal_ci95"][1] for p in points], mode="lines", line=dict(width=0),
                             fill="tonexty", fillcolor=BAND_50, name="95% interval", hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=[p["deal_probability"] for p in points], mode="lines+markers",
                             line=dict(color=MEDIAN, width=2.5), name="probability of a deal",
                             hovertemplate="%{x}<br>deal in %{y:.1%} of runs<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=[p["collapse_probability"] for p in points], mode="lines+markers",
                             line=dict(color="#c0392b", width=2, dash="dash"), name="probability of a collapse",
                             hovertemplate="%{x}<br>collapse in %{y:.1%} of runs<extra></extra>"), row=1, col=1)
    for index, issue in enumerate(issues):
        fig.add_trace(go.Scatter(x=x, y=[p["deal_position_mean"][issue] for p in points], mode="lines+markers",
                                 line=dict(dash=["solid", "dot", "dashdot", "longdash"][index % 4], color=NEUTRAL),
                                 name=f"deal on {esc(issue)}",
                                 hovertemplate=f"{esc(issue)}<br>%{{x}}<br>%{{y:.3f}}<extra></extra>"), row=2, col=1)
    fig.update_yaxes(title_text="share of runs", range=[0, 1.02], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text="position (0 to 1)", range=[0, 1], row=2, col=1)
    fig.update_xaxes(title_text=esc(path), row=2, col=1)
    return _layout(fig, f"Outcomes as {esc(path)} varies", 640)


def sweep_heatmap_figure(points: list[dict[str, Any]], paths: Sequence[str], grids: dict[str, list[float]],
                         metric: str) -> go.Figure:
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
    fig = go.Figure(go.Heatmap(z=[rounded(row, 4) for row in z], x=grids[first], y=grids[second],
                               colorscale="Blues", zmin=0 if is_share else None, zmax=1 if is_share else None,
                               colorbar=dict(title=dict(text="share" if is_share else "value"),
                                             tickformat=".0%" if is_share else None),
                               hovertemplate=f"{esc(first)} %{{x}}<br>{esc(second)} %{{y}}<br>{label} "
                               f"%{{z:{number_format}}}<extra></extra>",
                               texttemplate=f"%{{z:{number_format}}}"))
    fig.update_xaxes(title_text=esc(first))
    fig.update_yaxes(title_text=esc(second))
    return _layout(fig, f"{label.capitalize()} over the grid", 480)


def sweep_table(points: list[dict[str, Any]], paths: Sequence[str], issues: Sequence[str]) -> str:
    def fmt(value: Any, spec: str) -> str:
        return "&ndash;" if value is None else format(value, spec)

    head = ("".join(f"<th><code>{esc(p)}</code></th>" for p in paths) +
            "<th>runs</th><th>deal</th><th>95% interval</th><th>mean step of deal</th><th>collapse</th>"
            "<th>control at end</th>" +
            "".join(f"<th>deal on {esc(k)}</th>" for k in issues))
    rows = []
    for point in points:
        cells = "".join(f"<td>{point['values'][p]:g}</td>" for p in paths)
        cells += (f"<td>{point['runs']}</td><td>{fmt(point['deal_probability'], '.1%')}</td>"
                  f"<td>{fmt(point['deal_ci95'][0], '.1%')} to {fmt(point['deal_ci95'][1], '.1%')}</td>"
                  f"<td>{fmt(point['time_to_deal_mean'], '.1f')}</td>"
                  f"<td>{fmt(point['collapse_probability'], '.1%')}</td>"
                  f"<td>{fmt(point['control_end_mean'], '.3f')}</td>")
        cells += "".join(f"<td>{fmt(point['deal_position_mean'][k], '.3f')}</td>" for k in issues)
        rows.append(f"<tr>{cells}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def sweep_report(summary: dict[str, Any], scenario: Scenario) -> str:
    """The HTML report of a grid sweep: lines for one field, heatmaps for two, lines per field beyond."""
    paths = list(summary["grid"])
    grids = summary["grid"]
    points = summary["points"]
    issues = list(scenario.issues)
    facts = [("Grid", esc(" × ".join(f"{p} ({len(v)} values)" for p, v in grids.items()))),
             ("Runs per point", f"{summary['runs_per_point']:,}"), ("Seed", esc(summary["seed"]))]
    header = _header("Negotiation simulation: parameter sweep", scenario, summary["scenario"]["file"],
                     summary["scenario"]["sha256"], summary["outcome"], facts)
    sections: list[Section] = []
    if len(paths) == 2:
        for metric in ("deal_probability", "time_to_deal_mean", "collapse_probability"):
            label = SWEEP_METRICS[metric][0]
            sections.append(Section(label.capitalize(), f"Each cell is the {label} over the runs at that pair of "
                                    "values; read along a row or a column to see one field's effect with the other "
                                    "held fixed.", sweep_heatmap_figure(points, paths, grids, metric),
                                    anchor=metric.replace("_", "-")))
    else:
        for path in paths:
            marginal = _marginal(points, path, issues) if len(paths) > 1 else points
            caption = ("How the outcomes move with this field" +
                       (", averaged over the other fields' values." if len(paths) > 1 else "; the band is the 95% "
                        "interval of the probability of a deal."))
            sections.append(Section(f"Outcomes against {path}", caption, sweep_line_figure(marginal, path, issues),
                                    anchor=f"line-{len(sections) + 1}"))
    sections.append(Section("Every grid point", "The outcomes at each point of the grid, over its runs.",
                            html_body=sweep_table(points, paths, issues), anchor="points"))
    return render_page(f"{scenario.name}: sweep", header, sections)


def _marginal(points: list[dict[str, Any]], path: str, issues: Sequence[str]) -> list[dict[str, Any]]:
    """Points averaged over every field but `path` (weighted by runs)."""
    from sim.ensemble import wilson_interval

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
            known = [(p["deal_position_mean"][issue], p["deals"]) for p in members
                     if p["deal_position_mean"][issue] is not None]
            total = sum(w for _, w in known)
            position[issue] = sum(v * w for v, w in known) / total if total else None
        merged.append({"values": {path: value}, "runs": runs, "deals": deals,
                       "deal_probability": deals / runs if runs else None,
                       "deal_ci95": list(wilson_interval(deals, runs)),
                       "collapse_probability": mean("collapse_probability"),
                       "deal_position_mean": position})
    return merged


# ---------------------------------------------------------------------------- the sensitivity report

def tornado_figure(indices: dict[str, dict[str, dict[str, float | None]]], outputs: dict[str, str], method: str
                   ) -> go.Figure:
    """Per output, the inputs ranked by their total-order index (Sobol) or mu* (Morris), with 95% intervals."""
    names = list(outputs)
    fig = make_subplots(rows=len(names), cols=1, subplot_titles=[esc(outputs[n]) for n in names],
                        vertical_spacing=0.22 / max(len(names), 1) + 0.04)
    main, main_conf, second, second_conf = (("ST", "ST_conf", "S1", "S1_conf") if method == "sobol"
                                            else ("mu_star", "mu_star_conf", "sigma", None))
    for row, output in enumerate(names, start=1):
        table = indices[output]
        order = sorted(table, key=lambda p: (table[p][main] or 0.0))
        labels = [esc(p) for p in order]
        fig.add_trace(go.Bar(y=labels, x=[table[p][main] for p in order], orientation="h", marker_color=MEDIAN,
                             error_x=dict(type="data", array=[table[p][main_conf] or 0.0 for p in order],
                                          color="#333", thickness=1),
                             name="total-order index S_T" if method == "sobol" else "mean |elementary effect| μ*",
                             showlegend=row == 1, hovertemplate="%{y}<br>%{x:.3f}<extra></extra>"), row=row, col=1)
        fig.add_trace(go.Bar(y=labels, x=[table[p][second] for p in order], orientation="h",
                             marker_color="rgba(46, 139, 87, 0.75)",
                             error_x=dict(type="data", array=[table[p][second_conf] or 0.0 for p in order],
                                          color="#333", thickness=1) if second_conf else None,
                             name="first-order index S_1" if method == "sobol" else "spread of the effects σ",
                             showlegend=row == 1, hovertemplate="%{y}<br>%{x:.3f}<extra></extra>"), row=row, col=1)
        fig.update_xaxes(title_text="share of the output's variance" if method == "sobol" else "effect on the output",
                         row=row, col=1)
    fig.update_layout(barmode="group")
    height = (90 + 36 * len(indices[names[0]])) * len(names) + 80
    return _layout(fig, "Which uncertain inputs drive the outcomes", height)


def indices_table(indices: dict[str, dict[str, dict[str, float | None]]], outputs: dict[str, str], method: str) -> str:
    columns = (("S1", "S1_conf", "first-order S_1"), ("ST", "ST_conf", "total S_T")) if method == "sobol" else \
        (("mu_star", "mu_star_conf", "μ*"), ("mu", None, "μ"), ("sigma", None, "σ"))
    head = "<th>output</th><th>input</th>" + "".join(f"<th>{label}</th>" for _, _, label in columns)
    rows = []
    for output, table in indices.items():
        for path, values in sorted(table.items(), key=lambda item: -(item[1][columns[-1][0] if method == "sobol"
                                                                             else "mu_star"] or 0.0)):
            cells = ""
            for key, conf, _ in columns:
                value = values.get(key)
                text = "&ndash;" if value is None else f"{value:.3f}"
                if conf and values.get(conf) is not None:
                    text += f" ± {values[conf]:.3f}"
                cells += f"<td>{text}</td>"
            rows.append(f"<tr><td>{esc(outputs[output])}</td><td><code>{esc(path)}</code></td>{cells}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def sensitivity_report(summary: dict[str, Any], scenario: Scenario) -> str:
    """The HTML report of a global sensitivity analysis: tornado charts and the table of indices."""
    method = summary["method"]
    constant = set(summary.get("constant_outputs", []))
    outputs = {name: label for name, label in summary["outputs"].items() if name not in constant}
    facts = [("Method", "Sobol (Saltelli sampling)" if method == "sobol" else "Morris elementary effects"),
             ("Model runs", f"{summary['evaluations']:,} ({summary['samples']:,} base samples)"),
             ("Seed", esc(summary["seed"]))]
    header = _header("Negotiation simulation: global sensitivity", scenario, summary["scenario"]["file"],
                     summary["scenario"]["sha256"], summary["outcome"], facts)
    caption = ("Bars rank the uncertain inputs by their total-order Sobol index S_T (the share of the output's "
               "variance the input accounts for, alone and with others; blue) with the first-order index S_1 (alone; "
               "green); whiskers are 95% bootstrap intervals." if method == "sobol" else
               "Bars rank the uncertain inputs by μ*, the mean absolute elementary effect of moving the input across "
               "its range (blue, with its 95% interval), with σ, the spread of those effects (green): a large σ "
               "means interactions or curvature.")
    if constant:
        caption += " Not shown, as they did not vary over the uncertain ranges: " + \
            ", ".join(summary["outputs"][name] for name in summary["outputs"] if name in constant) + "."
    varying = {name: summary["indices"][name] for name in outputs}
    tornado = Section("Tornado: what drives the outcomes", caption, tornado_figure(varying, outputs, method),
                      anchor="tornado", centre=True) if outputs else \
        Section("Tornado: what drives the outcomes", caption, html_body="<p>No output varied.</p>", anchor="tornado")
    sections = [
        tornado,
        Section("Indices", "Every index with its 95% interval, for the outputs that varied.",
                html_body=indices_table(varying, outputs, method), anchor="indices"),
        Section("What was uncertain", "The distributions of the inputs (the scenario's uncertain: block).",
                html_body=uncertain_table(summary), anchor="inputs"),
    ]
    return render_page(f"{scenario.name}: sensitivity", header, sections)
