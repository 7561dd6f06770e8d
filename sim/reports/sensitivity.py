"""The report of a global sensitivity analysis: a tornado chart of the indices per output, and a table.

Inputs are named as the scenario names them (`labels` of the summary, `sim.runs.labels`), the seed among
them as "chance"; the header says in words how the runs' seeds were chosen, and a note explains any
first-order index below zero.
"""

from __future__ import annotations

import textwrap
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.reports.figures import MEDIAN, MUTED, apply_layout, esc, legend_over_first_panel, row_gap
from sim.reports.page import Section, many_runs_header, render_page, uncertain_table
from sim.scenario.schema import Scenario

NEUTRAL = MUTED
HISTOGRAM_BINS = 40
CHANCE = "seed"  # the input that sets each run's seed (the summary's seeds.input)
CHANCE_COLOUR = "#9aa5ad"  # the seed's bar: luck, not a field of the scenario
LABEL_CHARS = 26  # an input's label is broken into lines of about this many characters on the chart's axis
NEGATIVE_LISTED = 8  # negative first-order indices named in the note under the chart

Indices = dict[str, dict[str, dict[str, float | None]]]


def _labels(summary: dict[str, Any]) -> dict[str, str]:
    return summary.get("labels") or {}


def _axis_label(label: str) -> str:
    """A label escaped and broken into short lines, so that a phone's narrow chart keeps room for the bars."""
    return "<br>".join(esc(line) for line in textwrap.wrap(label, LABEL_CHARS) or [""])


def _interval(value: float, conf: float) -> str:
    return f"{value - conf:.3f} to {value + conf:.3f}"


def tornado_figure(
    indices: Indices, outputs: dict[str, str], method: str, labels: dict[str, str] | None = None, chance: str = CHANCE
) -> go.Figure:
    """Per output, the inputs ranked by their total-order index (Sobol) or mu* (Morris), with 95% intervals.

    Args:
        indices: output -> input -> index -> value (`sim.runs.sensitivity.analyse`).
        outputs: output -> what it measures (the subplot titles).
        method: "sobol" or "morris".
        labels: input -> its name in the scenario's words; the input's path otherwise.
        chance: the input that is the run's seed (drawn grey).
    """
    labels = labels or {}
    names = list(outputs)
    inputs = list(indices[names[0]]) if names else []
    lines = max((_axis_label(labels.get(p, p)).count("<br>") + 1 for p in inputs), default=1)
    panel = 30 + (12 + 14 * lines) * len(inputs)  # each input's pair of bars beside its label's lines
    gap = 96  # between panels: the x-axis title of one and the subplot title of the next
    height = (panel + gap) * len(names) + 120
    fig = make_subplots(
        rows=len(names),
        cols=1,
        subplot_titles=["<br>".join(esc(line) for line in textwrap.wrap(outputs[n], 44)) for n in names],
        vertical_spacing=row_gap(height, len(names), gap_px=gap, chrome_px=120),
    )
    main, main_conf, second, second_conf = (
        ("ST", "ST_conf", "S1", "S1_conf") if method == "sobol" else ("mu_star", "mu_star_conf", "sigma", None)
    )
    for row, output in enumerate(names, start=1):
        table = indices[output]
        order = sorted(table, key=lambda p: table[p][main] or 0.0)
        ticks = [_axis_label(labels.get(p, p)) for p in order]
        paths = [esc(p) for p in order]
        fig.add_trace(
            go.Bar(
                y=ticks,
                x=[table[p][main] for p in order],
                orientation="h",
                marker_color=[CHANCE_COLOUR if p == chance else MEDIAN for p in order],
                error_x=dict(type="data", array=[table[p][main_conf] or 0.0 for p in order], color="#333", thickness=1),
                name="total-order index S_T" if method == "sobol" else "mean |elementary effect| μ*",
                showlegend=row == 1,
                customdata=paths,
                hovertemplate="%{y}<br>%{customdata}<br>%{x:.3f}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        second_values = [table[p][second] for p in order]
        notes = [
            "below 0: estimation noise around 0" if method == "sobol" and (value or 0.0) < 0 else ""
            for value in second_values
        ]
        fig.add_trace(
            go.Bar(
                y=ticks,
                x=second_values,
                orientation="h",
                marker_color="rgba(46, 139, 87, 0.75)",
                error_x=dict(
                    type="data", array=[table[p][second_conf] or 0.0 for p in order], color="#333", thickness=1
                )
                if second_conf
                else None,
                name="first-order index S_1" if method == "sobol" else "spread of the effects σ",
                showlegend=row == 1,
                customdata=list(zip(paths, notes, strict=True)),
                hovertemplate="%{y}<br>%{customdata[0]}<br>%{x:.3f} %{customdata[1]}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_xaxes(
            title_text="share of the output's variance" if method == "sobol" else "effect on the output", row=row, col=1
        )
    fig.update_layout(barmode="group")
    apply_layout(fig, "Which uncertain inputs drive the outcomes", height)
    # Over the first output's panel, not under the last one, which can be thousands of pixels below.
    return fig.update_layout(**legend_over_first_panel(height, len(names)))


def negative_first_order(indices: Indices) -> list[tuple[str, str, float, float]]:
    """(output, input, S_1, its 95% half-width) of every first-order index estimated below zero, the most
    negative first."""
    found = [
        (output, path, values["S1"], values.get("S1_conf") or 0.0)
        for output, table in indices.items()
        for path, values in table.items()
        if values.get("S1") is not None and values["S1"] < 0
    ]
    return sorted(found, key=lambda item: item[2])


def negative_first_order_note(indices: Indices, outputs: dict[str, str], labels: dict[str, str]) -> str:
    """A paragraph on the first-order indices below zero (HTML, escaped), or '' when there are none."""
    negative = negative_first_order(indices)
    if not negative:
        return ""
    missing = [item for item in negative if item[2] + item[3] < 0]
    listed = "; ".join(
        f"S_1 of {esc(labels.get(path, path))} for {esc(outputs.get(output, output))} = {value:.3f} "
        f"(95% interval {_interval(value, conf)})"
        for output, path, value, conf in negative[:NEGATIVE_LISTED]
    )
    more = f"; and {len(negative) - NEGATIVE_LISTED} more in the table" if len(negative) > NEGATIVE_LISTED else ""
    text = (
        f'<p class="caption" id="negative-s1"><strong>First-order indices below zero ({len(negative)}).</strong> '
        "S_1 is a share of variance and cannot be negative: an estimate below zero is estimation noise around "
        "zero (the estimator subtracts two averages over the same few runs). Read it as no detectable effect of "
        f"the input alone. {listed}{more}."
    )
    if missing:
        text += (
            f" For {len(missing)} of them the bootstrap interval stays below zero: an interval from so few "
            "samples understates the noise. More base samples (--samples) narrow both."
        )
    return text + "</p>"


def indices_table(indices: Indices, outputs: dict[str, str], method: str, labels: dict[str, str] | None = None) -> str:
    """Every index with its 95% interval, per output and input (labelled, with the field's path)."""
    labels = labels or {}
    columns = (
        (("S1", "S1_conf", "first-order S_1"), ("ST", "ST_conf", "total S_T"))
        if method == "sobol"
        else (("mu_star", "mu_star_conf", "μ*"), ("mu", None, "μ"), ("sigma", None, "σ"))
    )
    head = "<th>output</th><th>input</th>" + "".join(f"<th>{label} (95% interval)</th>" for _, _, label in columns)
    rows = []
    for output, table in indices.items():
        for path, values in sorted(
            table.items(), key=lambda item: -(item[1][columns[-1][0] if method == "sobol" else "mu_star"] or 0.0)
        ):
            cells = ""
            for key, conf, _ in columns:
                value = values.get(key)
                text = "&ndash;" if value is None else f"{value:.3f}"
                if conf and value is not None and values.get(conf) is not None:
                    text += f" ({_interval(value, values[conf])})"
                if key == "S1" and value is not None and value < 0:
                    text += ' <a href="#negative-s1" title="estimation noise around zero">below 0</a>'
                cells += f'<td class="num">{text}</td>'
            label = labels.get(path, path)
            name = esc(label) + (f"<br><code>{esc(path)}</code>" if label != path else "")
            rows.append(f"<tr><td>{esc(outputs[output])}</td><td>{name}</td>{cells}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def seeding_text(summary: dict[str, Any]) -> str:
    """How the runs' seeds were chosen (a summary written before the seed was an input says all shared one)."""
    seeds = summary.get("seeds")
    if seeds and seeds.get("in_words"):
        return str(seeds["in_words"])
    return (
        f"All runs share one seed ({summary['seed']}): the indices show how the outputs move with the inputs "
        "for that one set of random draws, and say nothing of chance."
    )


def seeding_fact(summary: dict[str, Any]) -> str:
    """The header's short form of `seeding_text`."""
    seeds = summary.get("seeds")
    if seeds and seeds.get("distinct"):
        return (
            f"{seeds['distinct']:,} different seeds, drawn from seed {summary['seed']} as one more input of the "
            "design: chance (see the tornado's caption)"
        )
    return f"one seed, {summary['seed']}, for every run: chance is not measured"


def sensitivity_report(summary: dict[str, Any], scenario: Scenario) -> str:
    """The HTML report of a global sensitivity analysis: tornado charts and the table of indices."""
    method = summary["method"]
    labels = _labels(summary)
    constant = set(summary.get("constant_outputs", []))
    outputs = {name: label for name, label in summary["outputs"].items() if name not in constant}
    facts = [
        ("Method", "Sobol (Saltelli sampling)" if method == "sobol" else "Morris elementary effects"),
        ("Model runs", f"{summary['evaluations']:,} ({summary['samples']:,} base samples)"),
        ("Seeds", esc(seeding_fact(summary))),
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
    chance = (summary.get("seeds") or {}).get("input")
    if chance:
        caption += f" The grey bar is {labels.get(chance, chance)}."
    caption += " " + seeding_text(summary)
    if constant:
        caption += (
            " Not shown, as they did not vary over the uncertain ranges: "
            + ", ".join(summary["outputs"][name] for name in summary["outputs"] if name in constant)
            + "."
        )
    varying = {name: summary["indices"][name] for name in outputs}
    note = negative_first_order_note(varying, outputs, labels) if method == "sobol" else ""
    tornado = (
        Section(
            "Tornado: what drives the outcomes",
            caption,
            tornado_figure(varying, outputs, method, labels, chance or CHANCE),
            anchor="tornado",
            key_html=note,
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
            html_body=indices_table(varying, outputs, method, labels),
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
