"""The report of a global sensitivity analysis: a tornado chart of the indices per output, and a table."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.reports.figures import MEDIAN, MUTED, apply_layout, esc
from sim.reports.page import Section, many_runs_header, render_page, uncertain_table
from sim.scenario.schema import Scenario

NEUTRAL = MUTED
HISTOGRAM_BINS = 40


def tornado_figure(
    indices: dict[str, dict[str, dict[str, float | None]]], outputs: dict[str, str], method: str
) -> go.Figure:
    """Per output, the inputs ranked by their total-order index (Sobol) or mu* (Morris), with 95% intervals."""
    names = list(outputs)
    fig = make_subplots(
        rows=len(names),
        cols=1,
        subplot_titles=[esc(outputs[n]) for n in names],
        # at most plotly's 1 / (rows - 1): 0.22 / rows + 0.04 exceeded it with 20 issues (24 outputs)
        vertical_spacing=min(0.22 / max(len(names), 1) + 0.04, 0.9 / max(len(names) - 1, 1)),
    )
    main, main_conf, second, second_conf = (
        ("ST", "ST_conf", "S1", "S1_conf") if method == "sobol" else ("mu_star", "mu_star_conf", "sigma", None)
    )
    for row, output in enumerate(names, start=1):
        table = indices[output]
        order = sorted(table, key=lambda p: table[p][main] or 0.0)
        labels = [esc(p) for p in order]
        fig.add_trace(
            go.Bar(
                y=labels,
                x=[table[p][main] for p in order],
                orientation="h",
                marker_color=MEDIAN,
                error_x=dict(type="data", array=[table[p][main_conf] or 0.0 for p in order], color="#333", thickness=1),
                name="total-order index S_T" if method == "sobol" else "mean |elementary effect| μ*",
                showlegend=row == 1,
                hovertemplate="%{y}<br>%{x:.3f}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                y=labels,
                x=[table[p][second] for p in order],
                orientation="h",
                marker_color="rgba(46, 139, 87, 0.75)",
                error_x=dict(
                    type="data", array=[table[p][second_conf] or 0.0 for p in order], color="#333", thickness=1
                )
                if second_conf
                else None,
                name="first-order index S_1" if method == "sobol" else "spread of the effects σ",
                showlegend=row == 1,
                hovertemplate="%{y}<br>%{x:.3f}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_xaxes(
            title_text="share of the output's variance" if method == "sobol" else "effect on the output", row=row, col=1
        )
    fig.update_layout(barmode="group")
    height = (90 + 36 * len(indices[names[0]])) * len(names) + 80
    return apply_layout(fig, "Which uncertain inputs drive the outcomes", height)


def indices_table(indices: dict[str, dict[str, dict[str, float | None]]], outputs: dict[str, str], method: str) -> str:
    columns = (
        (("S1", "S1_conf", "first-order S_1"), ("ST", "ST_conf", "total S_T"))
        if method == "sobol"
        else (("mu_star", "mu_star_conf", "μ*"), ("mu", None, "μ"), ("sigma", None, "σ"))
    )
    head = "<th>output</th><th>input</th>" + "".join(f"<th>{label}</th>" for _, _, label in columns)
    rows = []
    for output, table in indices.items():
        for path, values in sorted(
            table.items(), key=lambda item: -(item[1][columns[-1][0] if method == "sobol" else "mu_star"] or 0.0)
        ):
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
    facts = [
        ("Method", "Sobol (Saltelli sampling)" if method == "sobol" else "Morris elementary effects"),
        ("Model runs", f"{summary['evaluations']:,} ({summary['samples']:,} base samples)"),
        ("Seed", esc(summary["seed"])),
    ]
    header = many_runs_header(
        "Negotiation simulation: global sensitivity",
        scenario,
        summary["scenario"]["file"],
        summary["scenario"]["sha256"],
        summary["outcome"],
        facts,
    )
    caption = (
        "Bars rank the uncertain inputs by their total-order Sobol index S_T (the share of the output's "
        "variance the input accounts for, alone and with others; blue) with the first-order index S_1 (alone; "
        "green); whiskers are 95% bootstrap intervals."
        if method == "sobol"
        else "Bars rank the uncertain inputs by μ*, the mean absolute elementary effect of moving the input across "
        "its range (blue, with its 95% interval), with σ, the spread of those effects (green): a large σ "
        "means interactions or curvature."
    )
    if constant:
        caption += (
            " Not shown, as they did not vary over the uncertain ranges: "
            + ", ".join(summary["outputs"][name] for name in summary["outputs"] if name in constant)
            + "."
        )
    varying = {name: summary["indices"][name] for name in outputs}
    tornado = (
        Section(
            "Tornado: what drives the outcomes",
            caption,
            tornado_figure(varying, outputs, method),
            anchor="tornado",
            centre=True,
        )
        if outputs
        else Section(
            "Tornado: what drives the outcomes", caption, html_body="<p>No output varied.</p>", anchor="tornado"
        )
    )
    sections = [
        tornado,
        Section(
            "Indices",
            "Every index with its 95% interval, for the outputs that varied.",
            html_body=indices_table(varying, outputs, method),
            anchor="indices",
        ),
        Section(
            "What was uncertain",
            "The distributions of the inputs (the scenario's uncertain: block).",
            html_body=uncertain_table(summary),
            anchor="inputs",
        ),
    ]
    return render_page(f"{scenario.name}: sensitivity", header, sections)
