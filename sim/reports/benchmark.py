"""The report of the DEU III benchmark: each method's error on the test half, its paired difference against
the compromise model, the tuning of the model's free parameters on the training half, and the table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.reports.figures import INK, MEDIAN, MUTED, apply_layout, esc, rounded
from sim.reports.page import Section, render_page

BASELINE = "compromise"
HIGHLIGHT = "model"
JITTER_SEED = 0  # the vertical scatter of the issues' dots: fixed, so the same data give the same page
RULE_NAMES = {"qmv": "qualified majority", "unanimity": "unanimity"}


def _colour(method: str) -> str:
    return MEDIAN if method == HIGHLIGHT else INK if method == BASELINE else MUTED


def _ci(values: list[float] | None, digits: int = 1, signed: bool = False) -> str:
    if not values:
        return "&ndash;"
    spec = f"+.{digits}f" if signed else f".{digits}f"
    return f"{format(values[0], spec)} to {format(values[1], spec)}"


def test_errors(predictions: pd.DataFrame) -> dict[str, np.ndarray]:
    """method -> the absolute error of each test issue (0-100 scale), from predictions.csv's table."""
    test = predictions[predictions["half"] == "test"]
    return {
        str(method): np.abs(group["prediction"].to_numpy(float) - group["outcome"].to_numpy(float))
        for method, group in test.groupby("method", sort=False)
    }


def error_dot_figure(summary: dict[str, Any], errors: dict[str, np.ndarray]) -> go.Figure:
    """Every test issue's absolute error per method (small dots), and each method's mean absolute error
    with its 95% bootstrap interval (large dot and bar)."""
    methods = list(summary["methods"])
    labels = [esc(summary["methods"][m]["label"]) for m in methods]
    rng = np.random.default_rng(JITTER_SEED)
    fig = go.Figure()
    for index, method in enumerate(methods):
        values = errors.get(method, np.array([]))
        fig.add_trace(
            go.Scatter(
                x=rounded(values, 2),
                y=rounded(index + rng.uniform(-0.28, 0.28, size=len(values)), 3),
                mode="markers",
                marker=dict(size=4, color=_colour(method), opacity=0.22),
                name="one test issue",
                legendgroup="issues",
                showlegend=index == 0,
                hovertemplate=f"{labels[index]}<br>absolute error %{{x:.1f}}<extra></extra>",
            )
        )
    scores = [summary["methods"][m]["test"] for m in methods]
    fig.add_trace(
        go.Scatter(
            x=[s["mae"] for s in scores],
            y=list(range(len(methods))),
            mode="markers",
            marker=dict(
                size=13, color=[_colour(m) for m in methods], symbol="diamond", line=dict(width=1, color="white")
            ),
            error_x=dict(
                type="data",
                symmetric=False,
                array=[round(s["ci95"][1] - s["mae"], 3) for s in scores],
                arrayminus=[round(s["mae"] - s["ci95"][0], 3) for s in scores],
                thickness=2.5,
                width=8,
                color=INK,
            ),
            name="mean absolute error, 95% interval",
            customdata=[[s["ci95"][0], s["ci95"][1]] for s in scores],
            text=labels,
            hovertemplate="%{text}<br>MAE %{x:.1f} (95% interval %{customdata[0]:.1f} to %{customdata[1]:.1f})"
            "<extra></extra>",
        )
    )
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(methods))), ticktext=labels, autorange="reversed")
    fig.update_xaxes(title_text="absolute error on the 0-100 scale (test half)", range=[0, 101])
    return apply_layout(fig, "Errors of each method on the test half", 470)


def difference_figure(summary: dict[str, Any]) -> go.Figure:
    """Each method's paired difference in absolute error against the compromise model (below zero: better),
    over all test issues and by the Council's voting rule, with 95% bootstrap intervals."""
    methods = [m for m in summary["methods"] if m != BASELINE]
    labels = [esc(summary["methods"][m]["label"]) for m in methods]
    groups: list[tuple[str, dict[str, Any] | None, str, float]] = [
        ("all test issues", {m: summary["methods"][m]["test"] for m in methods}, "circle", 0.0)
    ]
    for offset, (rule, block) in zip((0.22, -0.22), summary["by_voting_rule"].items(), strict=False):
        name = f"{RULE_NAMES.get(rule, rule)} ({block['issues']} issues)"
        groups.append((name, block["methods"], "square" if rule == "qmv" else "triangle-up", offset))
    fig = go.Figure()
    for name, scores, symbol, offset in groups:
        if not scores:
            continue
        differences = [scores[m]["difference_vs_compromise"] for m in methods]
        fig.add_trace(
            go.Scatter(
                x=[d["mean"] for d in differences],
                y=[index + offset for index in range(len(methods))],
                mode="markers",
                marker=dict(size=10 if offset == 0 else 7, symbol=symbol, color=[_colour(m) for m in methods]),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=[round(d["ci95"][1] - d["mean"], 3) for d in differences],
                    arrayminus=[round(d["mean"] - d["ci95"][0], 3) for d in differences],
                    thickness=1.8 if offset else 2.5,
                    width=5,
                    color=INK if offset == 0 else MUTED,
                ),
                name=esc(name),
                customdata=[[d["ci95"][0], d["ci95"][1]] for d in differences],
                text=labels,
                hovertemplate=f"%{{text}}, {esc(name)}<br>difference %{{x:+.1f}} (95% interval "
                "%{customdata[0]:+.1f} to %{customdata[1]:+.1f})<extra></extra>",
            )
        )
    fig.add_vline(x=0, line=dict(color=INK, width=1, dash="dot"))
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(methods))), ticktext=labels, autorange="reversed")
    fig.update_xaxes(title_text="difference in absolute error against the compromise model (0-100 scale)")
    return apply_layout(fig, "Paired difference against the compromise model (below 0: better)", 440)


def tuning_figure(summary: dict[str, Any]) -> go.Figure:
    """The model's mean absolute error on the training half over its grid of free parameters."""
    model = summary["model"]
    risks = model["grid"]["risk_exponent"]
    costs = model["grid"]["war_cost"]
    z = np.full((len(risks), len(costs)), np.nan)
    for row in model["train_mae_by_setting"]:
        z[risks.index(row["risk_exponent"]), costs.index(row["war_cost"])] = row["train_mae"]
    chosen = model["chosen"]
    fig = go.Figure(
        go.Heatmap(
            z=[rounded(line, 2) for line in z],
            x=[str(c) for c in costs],
            y=[str(r) for r in risks],
            colorscale="Blues",
            reversescale=True,
            colorbar=dict(title=dict(text="MAE")),
            texttemplate="%{z:.1f}",
            hovertemplate="risk exponent %{y}<br>war cost %{x}<br>training MAE %{z:.2f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[str(chosen["war_cost"])],
            y=[str(chosen["risk_exponent"])],
            mode="markers",
            marker=dict(size=26, symbol="square-open", color=MEDIAN, line=dict(width=3)),
            name="chosen on the training half",
            hoverinfo="skip",
        )
    )
    fig.update_xaxes(title_text="cost of no deal per step (war_cost)", type="category")
    fig.update_yaxes(title_text="risk exponent r", type="category")
    return apply_layout(fig, "The model's error on the training half, by its free parameters", 420)


def results_table(summary: dict[str, Any]) -> str:
    rules = summary["by_voting_rule"]
    rule_heads = "".join(
        f"<th>{esc(RULE_NAMES.get(rule, rule))} ({block['issues']} issues)</th>" for rule, block in rules.items()
    )
    rows = []
    for method, block in summary["methods"].items():
        test = block["test"]
        difference = test["difference_vs_compromise"]
        cells = [
            f"<td>{esc(block['label'])} <code>{esc(method)}</code></td>",
            f'<td class="num">{test["mae"]:.1f}</td>',
            f'<td class="num">{_ci(test["ci95"])}</td>',
            f'<td class="num">{difference["mean"]:+.1f}</td>' if method != BASELINE else "<td>&ndash;</td>",
            f'<td class="num">{_ci(difference["ci95"], signed=True)}</td>'
            if method != BASELINE
            else "<td>&ndash;</td>",
        ]
        for block_rule in rules.values():
            scores = block_rule["methods"]
            if scores is None:
                cells.append("<td>&ndash;</td>")
            else:
                score = scores[method]
                cells.append(f'<td class="num">{score["mae"]:.1f} ({_ci(score["ci95"])})</td>')
        cells.append(f'<td class="num">{block["train_mae"]:.1f}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = (
        "<th>method</th><th>MAE, test</th><th>95% interval</th><th>difference vs compromise</th>"
        f"<th>95% interval</th>{rule_heads}<th>MAE, training half</th>"
    )
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def conventions_html(summary: dict[str, Any]) -> str:
    data = summary["data"]
    capabilities = summary["capabilities"]
    model = summary["model"]
    diagnostic = model["diagnostic_every_actor_consenting"]
    rules = "".join(f"<li>{esc(name)}: {count} issues</li>" for name, count in capabilities["council_rules"].items())
    bargainers = capabilities["bargainers_per_issue"]
    return (
        f"<p><strong>Data.</strong> {esc(data['citation'])}. File <code>{esc(data['file'])}</code>, sha256 "
        f"<code>{esc(data['sha256'])}</code>: {data['rows']} rows, {data['issues_with_outcome']} issues with an "
        f"outcome from {data['proposals']} proposals, {data['issues_with_reference_point']} with a reference point; "
        f"{data['positions_without_salience']} positions given without a salience took the issue's mean salience.</p>"
        "<p><strong>Capabilities.</strong> Member states weigh their votes in the Council under the rule in force "
        "when the proposal was made (the year of its COM number), for the states the data show taking part:</p>"
        f"<ul>{rules}</ul>"
        f"<p>The Commission weighs {esc(capabilities['commission'])}; the Parliament "
        f"{esc(capabilities['parliament'])}. Weights are capability times salience.</p>"
        "<p><strong>Who must consent.</strong> Unanimity: every member state with a position. Qualified majority: "
        "the qualifying coalition built outward from the vote-weighted median state, with the indifferent "
        "members' votes; under consultation the Commission as well. Under co-decision the Parliament. Actors "
        f"with salience 0 are indifferent and accept anything. Bargainers per issue: {bargainers['min']} to "
        f"{bargainers['max']}, median {bargainers['median']:g}.</p>"
        "<p><strong>The model.</strong> This model's bargaining functions as the engine calls them without a "
        "battlefield: the alternative to a deal is the reference point's utility less the discounted cost of no "
        f"deal; no zone of agreement, no deal, and the reference point stands. Tuned on the training half over "
        f"the grid shown: risk exponent {model['chosen']['risk_exponent']:g}, war cost "
        f"{model['chosen']['war_cost']:g} (training MAE {model['train_mae']:.1f}); a deal on "
        f"{model['test_issues_with_a_deal']} of the {summary['split']['test']} test issues.</p>"
        f"<p><strong>Diagnostic.</strong> {esc(diagnostic['what'].capitalize())}: risk exponent "
        f"{diagnostic['chosen']['risk_exponent']:g}, war cost {diagnostic['chosen']['war_cost']:g}, test MAE "
        f"{diagnostic['test_mae']:.1f}.</p>"
    )


def benchmark_header(summary: dict[str, Any]) -> str:
    data = summary["data"]
    split = summary["split"]
    boot = summary["bootstrap"]
    facts = [
        ("Data", f"DEU III, {data['issues_with_outcome']} issues with an outcome"),
        ("Split", f"{split['train']} training and {split['test']} test issues, seed {summary['seed']}"),
        ("Intervals", f"95%, {boot['draws']:,} bootstrap draws of {boot['resampled']}"),
        ("Scale", summary["scale"]),
    ]
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts)
    return (
        '<header class="report"><p class="kicker">Negotiation simulation: benchmark</p>'
        f"<h1>{esc(summary['title'])}</h1>"
        f'<p class="outcome"><span class="label">Outcome</span><span id="outcome">{esc(summary["outcome"])}</span></p>'
        '<p class="description">Six ways of predicting where a European Union law lands on each disputed issue, '
        "from the positions, saliences and voting weights of the Commission, the Parliament and the member "
        "states, scored against what was decided. Every figure below is on the test half; the model's free "
        "parameters were tuned on the other half.</p>"
        f'<dl class="meta">{items}<div><dt>Data file</dt><dd>{esc(data["file"])}<br><code>sha256 '
        f"{esc(data['sha256'])}</code></dd></div></dl></header>"
    )


def benchmark_report(summary: dict[str, Any], predictions: pd.DataFrame) -> str:
    """The HTML page of the benchmark."""
    sections = [
        Section(
            "Errors on the test half",
            "Each small dot is one test issue's absolute error; the diamond is the method's mean absolute error "
            "and the bar its 95% bootstrap interval (resampling proposals). Further left is better.",
            error_dot_figure(summary, test_errors(predictions)),
            anchor="errors",
            centre=True,
        ),
        Section(
            "Against the compromise model",
            "The mean over test issues of each method's absolute error minus the compromise model's on the same "
            "issue, with 95% intervals; an interval wholly left of the dotted line means the method beats the "
            "compromise model, wholly right that it does worse.",
            difference_figure(summary),
            anchor="differences",
        ),
        Section(
            "Every method",
            "Mean absolute errors (0-100 scale) on the test half with 95% bootstrap intervals, the paired "
            "difference against the compromise model, the same by the Council's voting rule, and the training "
            "half's error for reference.",
            html_body=results_table(summary),
            anchor="table",
        ),
        Section(
            "Tuning the model",
            "The model's mean absolute error on the training half for each setting of its two free parameters; "
            "the framed cell is the setting used on the test half. The test half played no part in the choice.",
            tuning_figure(summary),
            anchor="tuning",
        ),
        Section(
            "Data and conventions",
            "Where the numbers come from, and the choices the data leave open.",
            html_body=conventions_html(summary),
            anchor="conventions",
        ),
    ]
    return render_page(summary["title"], benchmark_header(summary), sections)
