"""Self-contained HTML reports: one file, plotly.js inlined once, readable offline and in print."""

from __future__ import annotations

import html
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from sim import __version__
from sim.figures import colour_of, control_figure, deal_value_figure, esc, issue_space_figure, leverage_figure
from sim.params import params_from_scenario
from sim.results import RunResult

STYLE = """
:root { --ink:#1d2327; --muted:#5f6b73; --line:#dde3e8; --accent:#1f5fa8; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0;
       line-height: 1.45; background: #f6f8fa; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2rem; }
header { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.3rem; }
h1 { margin: 0 0 .3rem 0; font-size: 1.6rem; }
h2 { font-size: 1.2rem; margin: 0 0 .3rem 0; }
.outcome { font-size: 1.15rem; font-weight: 600; border-left: 4px solid var(--accent); padding: .4rem .8rem;
           background: #eef4fb; margin: .8rem 0; }
.meta { color: var(--muted); font-size: .9rem; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; }
.meta code { word-break: break-all; }
section.figure { background: white; border: 1px solid var(--line); border-radius: 8px; margin: 1rem 0;
                 padding: .8rem; break-inside: avoid; page-break-inside: avoid; }
p.caption { color: var(--muted); margin: .2rem .4rem .4rem; font-size: .95rem; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #f0f3f6; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .35rem;
          vertical-align: middle; }
.table-wrap { overflow-x: auto; }
footer { color: var(--muted); font-size: .8rem; margin: 1.5rem 0; }
@media (max-width: 700px) { main { padding: .4rem; } h1 { font-size: 1.25rem; } }
@media print { body { background: white; } section.figure, header { border: none; } .modebar { display: none; } }
"""


@dataclass
class Section:
    """One figure (or HTML block) of a report, with its caption."""

    title: str
    caption: str
    figure: go.Figure | None = None
    html_body: str = ""
    anchor: str = ""


def figure_html(figure: go.Figure, div_id: str) -> str:
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                          config={"displaylogo": False, "responsive": True})


def render_page(title: str, header_html: str, sections: list[Section]) -> str:
    """A whole report page: header, then each section with its figure and caption."""
    blocks = []
    for index, section in enumerate(sections):
        anchor = section.anchor or f"section-{index + 1}"
        body = figure_html(section.figure, f"figure-{anchor}") if section.figure is not None else section.html_body
        blocks.append(
            f'<section class="figure" id="{esc(anchor)}"><h2>{esc(section.title)}</h2>'
            f'<p class="caption">{esc(section.caption)}</p>{body}</section>'
        )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{STYLE}</style>"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head>"
        f"<body><main>{header_html}{''.join(blocks)}"
        f"<footer>Written by negotiation-sim {esc(__version__)}. Utilities are on a 0 to 1 scale; "
        "one step is one week unless the header says otherwise.</footer></main></body></html>\n"
    )


def run_header(result: RunResult) -> str:
    scenario = result.scenario
    summary = result.summary
    sources = ", ".join(esc(s) for s in scenario.sources) or "none given"
    return (
        f"<header><h1>{esc(scenario.name)}</h1>"
        f"<p>{esc(scenario.description)}</p>"
        f"<p class=\"outcome\" id=\"outcome\">{esc(summary['outcome'])}</p>"
        "<div class=\"meta\">"
        f"<span>Sources: {sources}</span>"
        f"<span>Seed: {summary['seed']}</span>"
        f"<span>Dates: {esc(summary['start'])} to {esc(summary['end'])} ({summary['steps']} {esc(scenario.time.step)}s)</span>"
        f"<span>Scenario file: {esc(summary['scenario']['file'])}, sha256 <code>{esc(summary['scenario']['sha256'])}</code></span>"
        "</div></header>"
    )


def inputs_table(result: RunResult) -> str:
    """What the scenario assumed about each actor."""
    scenario = result.scenario
    issues = list(scenario.issues)
    head = "".join(f"<th>{esc(i)}: ideal (salience)</th>" for i in issues)
    rows = []
    for actor_id, actor in scenario.actors.items():
        total = sum(actor.salience.values())
        cells = "".join(
            f"<td>{actor.position.get(i, 0.5):.2f} ({actor.salience.get(i, 0.0) / total:.2f})</td>" for i in issues)
        options = ", ".join(name.replace("_", " ") for name, on in actor.options.model_dump().items() if on) or "none"
        forces = f"ground {actor.forces.ground:g}, air {actor.forces.air:g}"
        rows.append(
            f"<tr><td><span class=\"swatch\" style=\"background:{colour_of(actor_id)}\"></span>{esc(actor.name)}"
            f"{' <em>(consent required)</em>' if actor.consent_required else ''}</td><td>{esc(actor.side)}</td>{cells}"
            f"<td>{actor.capability:g}</td><td>{actor.patience:g}</td><td>{actor.war_cost:g}</td><td>{esc(forces)}</td>"
            f"<td>{esc(options)}</td></tr>")
    return (f"<div class=\"table-wrap\"><table><thead><tr><th>actor</th><th>side</th>{head}<th>capability</th>"
            f"<th>patience / step</th><th>war cost / step</th><th>forces</th><th>options on</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def run_sections(result: RunResult) -> list[Section]:
    """The figures of a single run's report, the deal-against-alternative view first."""
    scenario = result.scenario
    params = params_from_scenario(scenario)
    names = {a: actor.name for a, actor in scenario.actors.items()}
    required = {a: actor.consent_required for a, actor in scenario.actors.items()}
    series = result.timeseries
    dates = series.drop_duplicates("step").sort_values("step")["date"].tolist()
    sections = [
        Section("Deal on offer against the alternative to a deal",
                "Read each panel as Singh's comparison: where the solid line (the deal on offer) rises above the dashed "
                "line (the actor's alternative to a deal), the actor gains from the deal (green); green background marks "
                "weeks when a deal acceptable to every party whose consent is required existed.",
                deal_value_figure(series, params.actor_ids, names, required, result.event_marks), anchor="deal-value"),
    ]
    if scenario.battlefield is not None:
        sections.append(Section(
            "Control of territory",
            "Shows who gains ground when: the solid line is the government side's share of territory, the dashed line its "
            "chance of prevailing if the war goes on; blue background marks the ceasefire, dotted lines the events.",
            control_figure(series, result.event_marks), anchor="control"))
    sections.append(Section(
        "Leverage matrix",
        "Each cell is how far the row actor can worsen the column actor's alternative or sweeten its deal (utility units); "
        "drag the slider to see any week.",
        leverage_figure(result.leverage_history, params.actor_ids, names, dates), anchor="leverage"))
    sections.append(Section(
        "Issue space",
        "Shows where the proposals moved relative to each actor's ideal point; the star marks the deal, if one was reached.",
        issue_space_figure(series, scenario, params.ideal[0], params.salience[0], params.free_issues), anchor="issues"))
    sections.append(Section("Inputs", "What the scenario assumed about each actor: ideal points with salience in "
                            "brackets, capability, patience, costs, forces and the options its government allows.",
                            html_body=inputs_table(result), anchor="inputs"))
    return sections


def run_report(result: RunResult) -> str:
    """The HTML report of one run."""
    return render_page(result.scenario.name, run_header(result), run_sections(result))


def escape(text: str) -> str:
    return html.escape(text, quote=True)
