"""The report page: one file, plotly.js inlined once, readable offline, in print and on a phone.

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
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from sim import __version__
from sim.reports.figures import esc
from sim.reports.sources import sources_html

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

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
ul.sources { margin: 0; padding-left: 1.1rem; } ul.sources .file { color: var(--muted); font-size: .8rem; }
details.why { border-top: 1px solid var(--line); padding: .5rem 0; }
details.why > summary { cursor: pointer; font-weight: 600; font-size: 1.02rem; }
details.why p.binding { background: #f3f7fb; border-left: 4px solid var(--accent); padding: .45rem .7rem;
                        max-width: 90ch; }
ul.why-issues, ul.why-actors { padding-left: 1.1rem; max-width: 90ch; }
ul.why-issues li, ul.why-actors li { margin: .3rem 0; }
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
    var small = div.clientWidth < 600;
    if (small) { narrow(layout, figure.data || [], div.clientWidth); }
    var prefix = document.body.getAttribute('data-download') || 'report';
    var options = Object.assign({}, config, {toImageButtonOptions: {filename: prefix + '-' + div.id, scale: 2}});
    // On a phone the tool bar would cover the legend at the top of a figure.
    if (small) { options.displayModeBar = false; }
    drawn.push(Plotly.newPlot(div, figure.data, layout, options).then(function () {
      return small ? settle(div) : null;
    }));
  }
  // On a phone, once drawn: lift each event badge clear of the panel titles and of the badges before it, then
  // a legend above the panels clear of the badges, and give the top margin whatever these need.
  function settle(div) {
    var notes = (div.layout.annotations || []);
    function box(index) {
      var element = div.querySelector('g.annotation[data-index="' + index + '"]');
      return element ? element.getBoundingClientRect() : null;
    }
    function meets(a, b) { return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; }
    function lifted(b, px) { return {left: b.left - 2, right: b.right + 2, top: b.top - px, bottom: b.bottom - px}; }
    var fixed = [], badges = [];
    notes.forEach(function (note, index) {
      var b = box(index);
      if (b && b.width) { (note.hovertext ? badges : fixed).push({index: index, box: b}); }
    });
    badges.sort(function (a, b) { return a.box.left - b.box.left; });
    var update = {}, top = Infinity;
    badges.forEach(function (badge) {
      var raise = 0;
      while (raise < 400 && fixed.some(function (other) { return meets(lifted(badge.box, raise), other.box); })) {
        raise += 6;
      }
      var placed = lifted(badge.box, raise);
      fixed.push({index: badge.index, box: placed});
      top = Math.min(top, placed.top);
      if (raise) { update['annotations[' + badge.index + '].yshift'] = (notes[badge.index].yshift || 0) + raise; }
    });
    return Plotly.relayout(div, update).then(function () {
      var legend = div.querySelector('.legend');
      if (!legend || !div.layout.legend || !(div.layout.legend.y > 1) || top === Infinity) { return null; }
      var l = legend.getBoundingClientRect();
      if (l.bottom <= top - 2) { return null; }
      return Plotly.relayout(div, {'legend.y': div.layout.legend.y + (l.bottom - top + 4) / div._fullLayout._size.h});
    }).then(function () {
      // Whatever now stands above the figure's top edge (a lifted badge, a wrapped title) gets room.
      var frame = div.getBoundingClientRect();
      var tops = Array.prototype.map.call(div.querySelectorAll('g.annotation, .legend'), function (element) {
        return element.getBoundingClientRect().top;
      });
      var highest = Math.min.apply(null, tops.concat([Infinity]));
      if (highest >= frame.top + 1) { return null; }
      return Plotly.relayout(div, {'margin.t': div._fullLayout.margin.t + (frame.top + 3 - highest)});
    });
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
  // On a phone the section heading above each figure stands in for its title; fonts and margins shrink, and
  // long labels (panel titles, axis titles, legend entries) are wrapped so that none is cut at the edge.
  function narrow(layout, data, width) {
    var limit = Math.max(Math.floor((width - 24) / 6.2), 24);
    var short = Math.max(Math.floor(limit * 0.62), 20);
    layout.title = {text: ''};
    layout.font = Object.assign({}, layout.font, {size: 10});
    var top = Math.max(((layout.margin || {}).t || 64) - 24, 32);
    layout.margin = Object.assign({}, layout.margin, {l: 44, r: 8, t: top});
    layout.legend = Object.assign({}, layout.legend, {font: {size: 10}});
    // A title is centred on its axis, narrower than the figure (and than a column of a grid of panels).
    var domains = Object.keys(layout).filter(function (key) { return /^xaxis\d*$/.test(key); }).map(function (key) {
      return layout[key].domain || [0, 1];
    });
    function room(x) {
      var fits = domains.filter(function (d) { return x === undefined || (x >= d[0] - 0.01 && x <= d[1] + 0.01); });
      var share = fits.length ? Math.min.apply(null, fits.map(function (d) { return d[1] - d[0]; })) : 1;
      return Math.max(Math.min(Math.floor(short * share), short), 12);
    }
    Object.keys(layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        var axis = Object.assign({}, layout[key], {tickfont: {size: 9}});
        if (axis.title && axis.title.text) {
          var span = key[0] === 'x' ? room(((axis.domain || [0, 1])[0] + (axis.domain || [0, 1])[1]) / 2) : 30;
          axis.title = Object.assign({}, axis.title, {text: wrap(axis.title.text, span)});
        }
        layout[key] = axis;
      }
    });
    (layout.annotations || []).forEach(function (note) {
      if (!note.hovertext) {
        note.text = wrap(note.text, note.xref === 'paper' || note.xref === undefined ? room(note.x) : short);
        note.font = Object.assign({}, note.font, {size: 11});
      }
    });
    data.forEach(function (trace) {
      if (typeof trace.name === 'string') { trace.name = wrap(trace.name, limit - 6); }
      if (trace.type === 'heatmap') {
        // The colour bar goes under the plot, across it, so the cells keep the width.
        trace.colorbar = Object.assign({}, trace.colorbar, {orientation: 'h', x: 0, xanchor: 'left', y: 0.005,
          yanchor: 'bottom', yref: 'container', len: 1, lenmode: 'fraction', thickness: 10,
          title: {text: 'utility (log scale)', side: 'top'}});
        layout.margin.b = Math.max(layout.margin.b || 40, 40) + 56;
      }
    });
    if (data.some(function (trace) { return trace.type === 'heatmap'; })) {
      Object.keys(layout).forEach(function (key) {
        if (/^yaxis\d*$/.test(key)) { layout[key].title = {text: ''}; }
      });
    }
  }
  // Break a label at spaces outside HTML tags so that no line holds more than `limit` visible characters.
  function wrap(text, limit) {
    if (typeof text !== 'string' || text.length <= limit) { return text; }
    var pieces = [], line = 0, since = 0, space = -1, i = 0;
    while (i < text.length) {
      var c = text.charAt(i);
      if (c === '<') {
        var end = text.indexOf('>', i);
        var tag = text.slice(i, end < 0 ? text.length : end + 1);
        pieces.push(tag);
        if (/^<br\s*\/?>$/i.test(tag)) { line = 0; since = 0; space = -1; }
        i += tag.length;
        continue;
      }
      var token = c;
      if (c === '&') {
        var semi = text.indexOf(';', i);
        if (semi > i && semi - i < 10) { token = text.slice(i, semi + 1); }
      }
      if (c === ' ') { space = pieces.length; since = 0; } else { since += 1; }
      pieces.push(token);
      line += 1;
      i += token.length;
      if (line > limit && space >= 0) { pieces[space] = '<br>'; line = since; space = -1; }
    }
    return pieces.join('');
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
    return _json_for_script(
        {"data": _clean(list(document.get("data", []))), "layout": _clean(layout), "template": template}
    )


def figure_html(figure: go.Figure | dict, div_id: str, templates: _Templates | None = None) -> str:
    """A figure's placeholder <div> and its JSON block; the page's script draws it."""
    templates = templates if templates is not None else _Templates()
    height = _figure_dict(figure).get("layout", {}).get("height") if isinstance(figure, dict) else figure.layout.height
    style = f' style="height:{int(height)}px"' if height else ""
    return (
        f'<div class="plot" id="{esc(div_id)}" data-figure="{esc(div_id)}-data"{style}></div>'
        f'<script type="application/json" id="{esc(div_id)}-data">{figure_payload(figure, templates)}</script>'
    )


def download_name(title: str) -> str:
    """The stem of a figure's download name, from the page's title: lower-case ASCII letters and digits joined
    by hyphens, at most 60 characters ('report' if none are left), so that the images saved from two reports
    do not share a name."""
    stem = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower())
    return stem.strip("-")[:60].strip("-") or "report"


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
        scripts = (
            f'<script type="application/json" id="plot-templates">[{",".join(templates.texts)}]</script>'
            f"<script>{plotly_js()}</script><script>{BOOT}</script>"
        )
    nav = f'<nav class="toc" aria-label="contents">{"".join(toc)}</nav>' if len(sections) > 2 else ""
    noscript = (
        (
            "<noscript><p>The figures of this report are drawn by JavaScript (plotly.js, inside this file); "
            "the tables below work without it.</p></noscript>"
        )
        if has_figures
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="negotiation-sim {esc(__version__)}">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>"
        f'<body data-download="{esc(download_name(title))}"><main>{header_html}{nav}{noscript}{"".join(blocks)}'
        f"<footer>Written by negotiation-sim {esc(__version__)}. {footer_note}</footer></main>{scripts}</body></html>\n"
    )


def many_runs_header(
    kicker: str, scenario: Scenario, loaded_file: str, sha256: str, outcome: str, facts: Sequence[tuple[str, str]]
) -> str:
    """The header of an ensemble, sweep or sensitivity page: scenario, outcome, facts, file and hash."""
    sources = sources_html(scenario.sources)
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in facts)
    return (
        f'<header class="report"><p class="kicker">{esc(kicker)}</p><h1>{esc(scenario.name)}</h1>'
        f'<p class="outcome"><span class="label">Outcome</span><span id="outcome">{esc(outcome)}</span></p>'
        f'<p class="description">{esc(scenario.description)}</p><dl class="meta">'
        f"<div><dt>Sources</dt><dd>{sources}</dd></div>{items}"
        f"<div><dt>Scenario file</dt><dd>{esc(loaded_file)}<br><code>sha256 {esc(sha256)}</code></dd></div>"
        "</dl></header>"
    )


def table_html(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A scrollable table: `head` as text (escaped here), each row as its cells' HTML, `<td>` included (already
    safe: escape any scenario text in them with `esc`)."""
    cells = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    return f'<div class="table-wrap"><table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table></div>'


def uncertain_table(summary: dict[str, Any]) -> str:
    if not summary["uncertain"]:
        return "<p>The scenario has no <code>uncertain:</code> block: runs differ only in their random draws.</p>"
    rows = []
    labels = summary.get("labels") or {}  # path -> the field in the scenario's names (`sim.runs.labels`)
    for path, spec in summary["uncertain"].items():
        parameters = ", ".join(f"{esc(k)} {esc(v)}" for k, v in spec.items() if k != "dist")
        name = f"{esc(labels[path])}<br><code>{esc(path)}</code>" if path in labels else f"<code>{esc(path)}</code>"
        rows.append(f"<tr><td>{name}</td><td>{esc(spec['dist'])}</td><td>{parameters}</td></tr>")
    return (
        '<div class="table-wrap"><table><thead><tr><th>field</th><th>distribution</th><th>parameters</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
