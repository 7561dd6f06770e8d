"""Self-contained HTML reports: one file, plotly.js inlined once, readable offline, in print and on a phone.

`render_page(title, header_html, sections)` is the page every report uses (a run, a comparison,
an ensemble, a sweep, a sensitivity analysis). Each `Section` holds one figure (or an HTML block)
with its title and a caption that says what to read from it. Figures travel as inert JSON blocks
drawn by one small script after plotly.js, which the page carries once; their shared template is
carried once too.

Every string from a scenario must be escaped (`esc`) before it enters `header_html`, a section's
`html_body` or `key_html`, or a figure; `render_page` escapes titles and captions itself.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from sim import __version__
from sim.figures import (
    DealComparison,
    Timeline,
    TimeMark,
    colour_of,
    control_figure,
    deal_comparison_at,
    deal_gain_figure,
    deal_value_figure,
    esc,
    issue_space_figure,
    leverage_arrays,
    leverage_over_time_figure,
    proposals_figure,
)
from sim.params import params_from_scenario

if TYPE_CHECKING:  # annotations only: ensemble reports need not load the Mesa model
    from sim.results import RunResult

STYLE = """
:root { --ink:#1d2327; --muted:#5f6b73; --line:#dde3e8; --accent:#1f5fa8; --paper:#f6f8fa; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0;
       line-height: 1.45; background: var(--paper); overflow-wrap: break-word; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2rem; }
header.report { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.3rem; }
.kicker { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; margin: 0; }
h1 { margin: .1rem 0 .4rem 0; font-size: 1.65rem; line-height: 1.2; }
h2 { font-size: 1.2rem; margin: 0 0 .25rem 0; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem 0; }
.outcome { font-size: 1.18rem; font-weight: 600; border-left: 5px solid var(--accent); padding: .5rem .9rem;
           background: #eef4fb; margin: .7rem 0; }
.outcome .label { display: block; font-size: .75rem; font-weight: 600; color: var(--muted);
                  text-transform: uppercase; letter-spacing: .06em; }
.description { margin: .4rem 0 .8rem; max-width: 75ch; }
dl.meta { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: .4rem 1.2rem;
          margin: 0; font-size: .9rem; }
dl.meta dt { color: var(--muted); font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; }
dl.meta dd { margin: 0; }
code { font-size: .82rem; word-break: break-all; }
ul.cast { list-style: none; padding: 0; margin: .8rem 0 0; display: flex; flex-wrap: wrap; gap: .2rem 1rem;
          font-size: .9rem; }
.swatch { display: inline-block; width: .85rem; height: .85rem; border-radius: 2px; margin-right: .35rem;
          vertical-align: -.1rem; }
nav.toc { margin: .8rem 0 0; font-size: .88rem; display: flex; flex-wrap: wrap; gap: .2rem .9rem; }
nav.toc a { color: var(--accent); text-decoration: none; }
section.figure { background: white; border: 1px solid var(--line); border-radius: 8px; margin: 1rem 0;
                 padding: .9rem 1rem; break-inside: avoid; page-break-inside: avoid; }
section.figure.centre { border: 2px solid var(--accent); }
p.caption { color: var(--muted); margin: .1rem 0 .5rem; max-width: 90ch; }
.plot { width: 100%; min-height: 200px; }
ol.key { margin: .4rem 0 0; padding-left: 0; list-style: none; font-size: .88rem; color: var(--muted);
         display: flex; flex-wrap: wrap; gap: .2rem 1.2rem; }
ol.key .badge { display: inline-block; min-width: 1.3rem; padding: 0 .3rem; margin-right: .3rem; border-radius: 3px;
                color: white; background: #555; font-weight: 700; font-size: .78rem; text-align: center; }
ol.key .badge.deal { background: #2e8b57; } ol.key .badge.collapse { background: #c0392b; }
table { border-collapse: collapse; width: 100%; font-size: .86rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .45rem; text-align: left; vertical-align: top;
         overflow-wrap: normal; hyphens: manual; }
th { background: #f0f3f6; font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.table-wrap { overflow-x: auto; max-width: 100%; }
footer { color: var(--muted); font-size: .8rem; margin: 1.5rem 0; }
noscript p { background: #fff4e5; padding: .6rem; border-radius: 6px; }
@media (max-width: 700px) {
  main { padding: .45rem; } header.report, section.figure { padding: .7rem .6rem; }
  h1 { font-size: 1.3rem; } .outcome { font-size: 1.05rem; } dl.meta { grid-template-columns: 1fr; }
}
@media print {
  @page { margin: 12mm; }
  body { background: white; font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  header.report, section.figure, section.figure.centre { border: none; padding: .3rem 0; }
  nav.toc, .modebar-container { display: none !important; }
  .outcome { background: none; }
  .table-wrap { overflow: visible; }
  table { font-size: 7.5pt; } th, td { padding: .15rem .25rem; overflow-wrap: anywhere; }
}
"""

# Draws every figure from its JSON block once plotly.js is loaded; reports how long drawing took
# (data-rendered on <html>, window.reportRenderMs) and fits the figures to the paper when printing.
BOOT = r"""
(function () {
  var templates = JSON.parse(document.getElementById('plot-templates').textContent);
  var config = {displaylogo: false, responsive: true,
                modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d']};
  var started = performance.now();
  var plots = Array.prototype.slice.call(document.querySelectorAll('div.plot[data-figure]'));
  var waiting = plots.slice();
  var drawn = [];
  function draw(div) {
    var figure = JSON.parse(document.getElementById(div.getAttribute('data-figure')).textContent);
    var layout = figure.layout || {};
    if (figure.template !== null && figure.template !== undefined) { layout.template = templates[figure.template]; }
    if (div.clientWidth < 600) { narrow(layout); }
    var options = Object.assign({}, config, {toImageButtonOptions: {filename: div.id, scale: 2}});
    drawn.push(Plotly.newPlot(div, figure.data, layout, options));
  }
  // One figure per task, top first, so the browser paints each as soon as it is drawn.
  function drawNext() {
    if (waiting.length) {
      try { draw(waiting.shift()); } catch (error) { failed(error); return; }
      setTimeout(drawNext, 0);
      return;
    }
    Promise.all(drawn).then(function () {
      window.reportRenderMs = performance.now() - started;
      document.documentElement.setAttribute('data-rendered', String(plots.length));
    }, failed);
  }
  function failed(error) {
    document.documentElement.setAttribute('data-rendered', 'error');
    console.error(error);
  }
  drawNext();
  // On a phone the section heading above each figure stands in for its title; fonts and margins shrink.
  function narrow(layout) {
    layout.title = {text: ''};
    layout.font = Object.assign({}, layout.font, {size: 10});
    var top = Math.max(((layout.margin || {}).t || 64) - 24, 32);
    layout.margin = Object.assign({}, layout.margin, {l: 44, r: 8, t: top});
    layout.legend = Object.assign({}, layout.legend, {font: {size: 10}});
    Object.keys(layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        layout[key] = Object.assign({}, layout[key], {tickfont: {size: 9}});
      }
    });
  }
  var printWidth = 690;
  window.addEventListener('beforeprint', function () {
    while (waiting.length) { draw(waiting.shift()); }
    plots.forEach(function (div) { Plotly.relayout(div, {width: printWidth}); });
  });
  window.addEventListener('afterprint', function () {
    plots.forEach(function (div) { Plotly.relayout(div, {width: null, autosize: true}); });
  });
})();
"""


@dataclass
class Section:
    """One figure (or HTML block) of a report, with its title and a caption saying what to read from it.

    `html_body` and `key_html` are inserted as they are: escape any scenario text in them with `esc`.
    `key_html` goes under the figure (e.g. the key to the numbered event marks); `centre` frames the
    section as the page's main view.
    """

    title: str
    caption: str
    figure: go.Figure | dict | None = None
    html_body: str = ""
    anchor: str = ""
    key_html: str = ""
    centre: bool = False


@functools.cache
def plotly_js() -> str:
    """plotly.js, as installed with the plotly package (no network)."""
    return get_plotlyjs()


def _json_for_script(data: Any) -> str:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' can close it or open a comment."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_jsonable)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, np.generic):
        return _finite(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} into a report figure")


def _finite(value: Any) -> Any:
    """NaN and infinities as None (plotly draws a gap), at any depth."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _figure_dict(figure: go.Figure | dict) -> dict:
    if isinstance(figure, go.Figure):
        return figure.to_plotly_json()
    return dict(figure)


def _clean(value: Any) -> Any:
    """Floats to 6 significant digits (below 1e6, so millisecond dates stay exact), NaN and infinities to
    None (JSON has none; plotly draws a gap); nested containers are walked."""
    if isinstance(value, float):
        if not np.isfinite(value):
            return None
        return float(f"{value:.6g}") if abs(value) < 1e6 else value
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


class _Templates:
    """Figure templates, each carried once per page however many figures use it."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def index_of(self, template: Any) -> int | None:
        if template is None:
            return None
        text = _json_for_script(_clean(template))
        if text not in self.texts:
            self.texts.append(text)
        return self.texts.index(text)


def figure_payload(figure: go.Figure | dict, templates: _Templates) -> str:
    """A figure as compact JSON {data, layout, template}: its template replaced by an index into the page's."""
    document = _figure_dict(figure)
    layout = dict(document.get("layout", {}))
    template = templates.index_of(layout.pop("template", None))
    return _json_for_script({"data": _clean(list(document.get("data", []))), "layout": _clean(layout),
                             "template": template})


def figure_html(figure: go.Figure | dict, div_id: str, templates: _Templates | None = None) -> str:
    """A figure's placeholder <div> and its JSON block; the page's script draws it."""
    templates = templates if templates is not None else _Templates()
    height = _figure_dict(figure).get("layout", {}).get("height") if isinstance(figure, dict) else figure.layout.height
    style = f' style="height:{int(height)}px"' if height else ""
    return (f'<div class="plot" id="{esc(div_id)}" data-figure="{esc(div_id)}-data"{style}></div>'
            f'<script type="application/json" id="{esc(div_id)}-data">{figure_payload(figure, templates)}</script>')


def render_page(title: str, header_html: str, sections: list[Section], footer_note: str = "") -> str:
    """A whole report page: header, a table of contents, then each section with its figure and caption.

    plotly.js is embedded once, and only when some section has a figure. `title` and each section's
    title and caption are escaped here; `header_html` and HTML bodies must already be safe.
    """
    templates = _Templates()
    blocks = []
    toc = []
    for index, section in enumerate(sections):
        anchor = section.anchor or f"section-{index + 1}"
        if section.figure is not None:
            body = figure_html(section.figure, f"figure-{anchor}", templates) + section.html_body
        else:
            body = section.html_body
        classes = "figure centre" if section.centre else "figure"
        blocks.append(
            f'<section class="{classes}" id="{esc(anchor)}"><h2>{esc(section.title)}</h2>'
            f'<p class="caption">{esc(section.caption)}</p>{body}{section.key_html}</section>'
        )
        toc.append(f'<a href="#{esc(anchor)}">{esc(section.title)}</a>')
    has_figures = any(section.figure is not None for section in sections)
    scripts = ""
    if has_figures:
        scripts = (f'<script type="application/json" id="plot-templates">[{",".join(templates.texts)}]</script>'
                   f'<script>{plotly_js()}</script><script>{BOOT}</script>')
    nav = f'<nav class="toc" aria-label="contents">{"".join(toc)}</nav>' if len(sections) > 2 else ""
    noscript = ("<noscript><p>The figures of this report are drawn by JavaScript (plotly.js, inside this file); "
                "the tables below work without it.</p></noscript>") if has_figures else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<meta name=\"generator\" content=\"negotiation-sim {esc(__version__)}\">"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{header_html}{nav}{noscript}{''.join(blocks)}"
        f"<footer>Written by negotiation-sim {esc(__version__)}. {footer_note}</footer></main>{scripts}</body></html>\n"
    )


# --- a single run's report ---------------------------------------------------------------------------


def _step_word(result: RunResult) -> str:
    return "week" if result.scenario.time.step == "week" else "day"


def run_marks(result: RunResult) -> list[TimeMark]:
    """The scenario's events (numbered), the deal and a ceasefire collapse, in date order."""
    scenario = result.scenario
    summary = result.summary
    params = params_from_scenario(scenario)
    marks = [TimeMark(event.step, scenario.time.date_of(event.step).isoformat(), event.label, "event", number)
             for number, event in enumerate(sorted(params.events, key=lambda e: e.step), start=1)
             if 0 <= event.step < params.steps]
    if summary["deal"]["reached"]:
        marks.append(TimeMark(summary["deal"]["step"], summary["deal"]["date"], "deal reached", "deal"))
    if summary["ceasefire"]["collapsed_step"] is not None:
        marks.append(TimeMark(summary["ceasefire"]["collapsed_step"], summary["ceasefire"]["collapsed_date"],
                              "the ceasefire collapses", "collapse"))
    return sorted(marks, key=lambda m: (m.step, m.kind != "event"))


def when(step: int, date: str, step_word: str = "week") -> str:
    """'week 6 (2016-04-09)', or 'first week (...)' for step 0, as the outcome sentence says it."""
    return f"first {step_word} ({date})" if step == 0 else f"{step_word} {step} ({date})"


def marks_key(marks: Sequence[TimeMark], step_word: str = "week") -> str:
    """The key to the marks on the time axes, as an HTML list."""
    if not marks:
        return ""
    items = "".join(
        f'<li><span class="badge {esc(m.kind)}">{esc(m.badge)}</span>{esc(when(m.step, m.date, step_word))}: '
        f"{esc(m.label)}</li>" for m in marks)
    return f'<ol class="key" aria-label="marks on the time axes">{items}</ol>'


def run_header(result: RunResult) -> str:
    """Scenario name, outcome sentence, description, sources, seed, period, file hash and the cast's colours."""
    scenario = result.scenario
    summary = result.summary
    sources = ", ".join(esc(s) for s in scenario.sources) or "none given"
    steps = summary["steps"]
    cast = "".join(f'<li><span class="swatch" style="background:{colour_of(a)}"></span>{esc(actor.name)}</li>'
                   for a, actor in scenario.actors.items())
    return (
        '<header class="report"><p class="kicker">Negotiation simulation: one run</p>'
        f"<h1>{esc(scenario.name)}</h1>"
        f'<p class="outcome"><span class="label">Outcome</span><span id="outcome">{esc(summary["outcome"])}</span></p>'
        f'<p class="description">{esc(scenario.description)}</p>'
        '<dl class="meta">'
        f"<div><dt>Sources</dt><dd>{sources}</dd></div>"
        f"<div><dt>Seed</dt><dd>{esc(summary['seed'])}</dd></div>"
        f"<div><dt>Period</dt><dd>{esc(summary['start'])} to {esc(summary['end'])} "
        f"({steps} {esc(_step_word(result))}{'s' if steps != 1 else ''})</dd></div>"
        f"<div><dt>Scenario file</dt><dd>{esc(summary['scenario']['file'])}<br>"
        f"<code title=\"sha256 of the scenario file\">sha256 {esc(summary['scenario']['sha256'])}</code></dd></div>"
        "</dl>"
        f'<ul class="cast" aria-label="actor colours">{cast}</ul>'
        "</header>"
    )


def inputs_table(result: RunResult) -> str:
    """What the scenario assumed about each actor, each issue and each scheduled event."""
    scenario = result.scenario
    issues = list(scenario.issues)
    head = "".join(f"<th>{esc(i.replace('_', ' '))}: ideal (salience)</th>" for i in issues)
    rows = []
    for actor_id, actor in scenario.actors.items():
        total = sum(actor.salience.values())
        cells = "".join(
            f'<td class="num">{actor.position.get(i, 0.5):.2f} ({actor.salience.get(i, 0.0) / total:.2f})</td>'
            for i in issues)
        options = ", ".join(name.replace("_", " ") for name, on in actor.options.model_dump().items() if on) or "none"
        refused = ", ".join(esc(i.replace("_", " ")) for i in actor.linkage_refused) or "none"
        forces = f"ground {actor.forces.ground:g}, air {actor.forces.air:g}"
        rows.append(
            f'<tr><td><span class="swatch" style="background:{colour_of(actor_id)}"></span>{esc(actor.name)}</td>'
            f"<td>{esc(actor.side)}</td><td>{'yes' if actor.consent_required else 'no'}</td>{cells}"
            f'<td class="num">{actor.capability:g}</td><td class="num">{actor.patience:g}</td>'
            f'<td class="num">{actor.war_cost:g}</td><td class="num">{actor.horizon}</td><td>{esc(forces)}</td>'
            f"<td>{esc(options)}</td><td>{refused}</td></tr>")
    actors = (f'<h3>Actors</h3><div class="table-wrap"><table><thead><tr><th>actor</th><th>side</th>'
              f"<th>consent required</th>{head}<th>capability</th><th>patience per step</th><th>war cost per step</th>"
              f"<th>horizon (steps)</th><th>forces (strength units)</th><th>options allowed</th>"
              f"<th>refuses to link</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
    issue_rows = "".join(
        f"<tr><td>{esc(i.replace('_', ' '))}</td><td>{esc(issue.low)}</td><td>{esc(issue.high)}</td>"
        f'<td class="num">{issue.status_quo:.2f}</td>'
        f"<td>{esc('; '.join(f'{label} = {value:g}' for label, value in issue.levels.items())) or '-'}</td></tr>"
        for i, issue in scenario.issues.items())
    issues_html = (f'<h3>Issues (each from 0 to 1)</h3><div class="table-wrap"><table><thead><tr><th>issue</th>'
                   f"<th>0 means</th><th>1 means</th><th>status quo</th><th>named points</th></tr></thead>"
                   f"<tbody>{issue_rows}</tbody></table></div>")
    events_html = ""
    if scenario.events:
        event_rows = "".join(
            f"<tr><td>{esc(event.at)}</td><td>{esc(scenario.actors[event.actor].name) if event.actor else '-'}</td>"
            f"<td>{esc(event.action.replace('_', ' '))}</td><td>{esc(_event_details(event))}</td>"
            f"<td>{esc(event.label or event_id.replace('_', ' '))}</td></tr>"
            for event_id, event in scenario.events.items())
        events_html = (f'<h3>Scheduled events</h3><div class="table-wrap"><table><thead><tr><th>at</th><th>actor</th>'
                       f"<th>action</th><th>details</th><th>label</th></tr></thead><tbody>{event_rows}</tbody></table>"
                       "</div>")
    return actors + issues_html + events_html


def _event_details(event: Any) -> str:
    parts = []
    if event.action in ("withdraw_air", "return_forces", "escalate"):
        parts.append(f"{event.fraction:.0%} of force")
    if event.redeploy_days is not None:
        parts.append(f"back within {event.redeploy_days:g} day{'' if event.redeploy_days == 1 else 's'}")
    if event.option:
        parts.append(event.option.replace("_", " "))
    return ", ".join(parts) or "-"


def _names(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _comparison_caption(comparisons: Sequence[DealComparison], deal_reached: bool) -> str:
    better = [c.name for c in comparisons if c.gain >= 0]
    worse = [f"{c.name} ({c.gain:+.2f})" for c in comparisons if c.gain < 0]
    subject = "the deal" if deal_reached else "the offer on the table"
    text = f"Read each row as Singh's test: is {subject} worth more than the actor's alternative to a deal? "
    if better:
        text += f"It is for {_names(better)}"
        text += f"; it is not for {_names(worse)}, a side that would rather fight on and may spoil. " if worse else ". "
    elif worse:
        text += f"It is for no one: {_names(worse)} would rather fight on. "
    text += ("A deal needs every party marked * to stand right of its reservation mark (its alternative plus what "
             "it still demands, less its negotiator's stake).")
    short = [c.name for c in comparisons if c.reservation is not None and c.deal_value < c.reservation]
    if short and not deal_reached:
        text += f" Here the offer falls short of what {_names(short)} insisted on: hence no deal."
    return text


def _leverage_caption(coercive: np.ndarray, inducement: np.ndarray, actor_ids: Sequence[str],
                      names: dict[str, str], step_word: str = "week") -> str:
    text = ("Dark cells are strong leverage: the upper panel is the power to worsen the other side's alternative "
            "(an 'or else'), the lower the power to sweeten its deal. ")
    without = [names[a] for i, a in enumerate(actor_ids) if not np.any(coercive[:, i, :] > 5e-5)]
    if without:
        text += (f"No coercive leverage at any time: {_names(without)}; a side without it can only sweeten its "
                 "offer. ")
    total = coercive[-1] + inducement[-1]
    if total.max() > 0:
        i, j = np.unravel_index(int(np.argmax(total)), total.shape)
        text += (f"In the last {step_word}, the most leverage is {names[actor_ids[i]]} over "
                 f"{names[actor_ids[j]]} ({total[i, j]:.3f}).")
    return text


def _control_caption(result: RunResult) -> str:
    steps = result.timeseries.drop_duplicates("step").sort_values("step")
    start, end = float(steps["control"].iloc[0]), float(steps["control"].iloc[-1])
    odds = float(steps["win_probability"].iloc[-1])
    return (f"Shows who gains ground when: the government side held {start:.0%} of the territory at the start and "
            f"{end:.0%} at the end, when its chance of prevailing if the war went on was {odds:.0%}. Blue background: "
            "a ceasefire in force; the odds of war set every side's alternative to a deal.")


def run_sections(result: RunResult) -> list[Section]:
    """The sections of a single run's report, the deal-against-alternative views first."""
    scenario = result.scenario
    summary = result.summary
    params = params_from_scenario(scenario)
    actor_ids = params.actor_ids
    names = {a: actor.name for a, actor in scenario.actors.items()}
    required = {a: actor.consent_required for a, actor in scenario.actors.items()}
    series = result.timeseries
    marks = run_marks(result)
    key = marks_key(marks, _step_word(result))
    deal = summary["deal"]
    last_step = int(series["step"].max())
    moment_step = deal["step"] if deal["reached"] else last_step
    moment_date = scenario.time.date_of(moment_step).isoformat()
    moment = (f"when the deal was reached, {when(moment_step, moment_date, _step_word(result))}" if deal["reached"]
              else f"in the last {_step_word(result)} ({moment_date}), with no deal reached")
    comparisons = deal_comparison_at(series, moment_step, actor_ids, names, required)
    sections = [
        Section("Was the deal worth more than each side's alternative?",
                _comparison_caption(comparisons, deal["reached"]),
                deal_gain_figure(comparisons, moment), anchor="deal-against-alternative", centre=True),
        Section("The deal on offer against the alternative, week by week",
                "Solid line: what the deal on offer is worth to the actor; dashed: its alternative to a deal. Green "
                "between them: the deal is worth more; red: less. The yellow band behind the panels marks the weeks "
                "in which a zone of possible agreement existed (a deal every party whose consent is required "
                "accepts). Numbered marks are the events listed under the figure; hover a mark for its label.",
                deal_value_figure(series, actor_ids, names, required, marks), anchor="deal-value", key_html=key,
                centre=True),
    ]
    if scenario.battlefield is not None:
        sections.append(Section("Who was winning the war?", _control_caption(result),
                                control_figure(series, marks), anchor="control", key_html=key))
    coercive, inducement = leverage_arrays(series, actor_ids)
    sections.append(Section("Who could move whom?", _leverage_caption(coercive, inducement, actor_ids, names, _step_word(result)),
                            leverage_over_time_figure(coercive, inducement, actor_ids, names, Timeline.of(series),
                                                      marks),
                            anchor="leverage", key_html=key))
    if len(scenario.issues) >= 2:
        sections.append(Section(
            "Where did the proposals go?",
            "Each actor's ideal point on the two issues that matter most, the status quo and the war's two possible "
            "outcomes; the grey path is the proposal on the table week by week (darker is later), the star the "
            "deal. A proposal moving toward an actor's dot is that actor gaining.",
            issue_space_figure(series, scenario, params.ideal[0], params.salience[0], params.free_issues),
            anchor="issue-space"))
    sections.append(Section(
        "How did the proposal on each issue move?",
        "The proposal on every issue over time, on the issue's own 0 to 1 scale; flat after the deal.",
        proposals_figure(series, scenario, marks), anchor="proposals", key_html=key))
    sections.append(Section("What did the scenario assume?",
                            "The inputs behind every figure above: each actor's ideal point with its salience in "
                            "brackets (saliences sum to 1), capability, patience, costs, forces and the options its "
                            "government allows; the issues' scales; the scheduled events.",
                            html_body=inputs_table(result), anchor="inputs"))
    return sections


def run_report(result: RunResult) -> str:
    """The HTML report of one run."""
    return render_page(result.scenario.name, run_header(result), run_sections(result),
                       footer_note="Utilities are on a 0 to 1 scale (1 = the actor's ideal outcome); "
                                   f"one step is one {esc(_step_word(result))}.")
