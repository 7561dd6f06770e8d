"""The HTML report and the reports index, checked as text (tests/test_browser.py renders them)."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from sim.model.results import run_scenario
from sim.reports.figures import ACTOR_COLOURS, PALETTE, Timeline, colour_of, esc, rounded
from sim.reports.index import collect, refresh_index, render_index, reports_root
from sim.reports.page import Section, plotly_js, render_page
from sim.reports.run import run_marks, run_report, run_sections
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
MAX_REPORT_BYTES = 5_000_000
HOSTILE = {
    "name": "<script>alert(1)</script>",
    "description": "<img src=x onerror=alert(2)> & \"quoted\" 'single' %{x}",
    "actor": "</script><script>alert(3)</script>",
    "event": '"><svg onload=alert(4)>',
    "source": "<b>source</b>.txt",
    "level": "<i onmouseover=alert(5)>low</i>",
}
JSON_BLOCK = re.compile(r'<script type="application/json" id="([^"]+)">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def march():
    return run_scenario(load_scenario(ROOT / "scenarios" / "ceasefire_2016_03.yaml"))


@pytest.fixture(scope="module")
def march_html(march) -> str:
    return run_report(march)


@pytest.fixture(scope="module")
def september_html() -> str:
    return run_report(run_scenario(load_scenario(ROOT / "scenarios" / "stalemate_2016_09.yaml")))


def write_hostile_scenario(folder: Path) -> Path:
    """The March scenario with every displayed string replaced by markup that would run if not escaped."""
    base = folder / "base.yaml"
    base.write_text((ROOT / "scenarios" / "ceasefire_2016_03.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / "hostile.yaml"
    path.write_text(
        "extends: base.yaml\n"
        f"name: {json.dumps(HOSTILE['name'])}\n"
        f"description: {json.dumps(HOSTILE['description'])}\n"
        f"sources: [{json.dumps(HOSTILE['source'])}]\n"
        f"actors:\n  us:\n    name: {json.dumps(HOSTILE['actor'])}\n"
        f"events:\n  russia_withdraws:\n    label: {json.dumps(HOSTILE['event'])}\n"
        f"issues:\n  sanctions:\n    low: {json.dumps(HOSTILE['level'])}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory) -> str:
    path = write_hostile_scenario(tmp_path_factory.mktemp("hostile"))
    return run_report(run_scenario(load_scenario(path)))


def payloads(page: str) -> dict[str, dict]:
    """Every JSON block of a page, parsed."""
    return {name: json.loads(text) for name, text in JSON_BLOCK.findall(page)}


def figure_payloads(page: str) -> dict[str, dict]:
    return {name: data for name, data in payloads(page).items() if name != "plot-templates"}


# --- the page ----------------------------------------------------------------------------------------


def test_header_names_the_scenario_its_sources_seed_period_hash_and_outcome(march, march_html):
    summary = march.summary
    header = march_html.split("</header>")[0]
    assert f"<h1>{esc(march.scenario.name)}</h1>" in header
    assert esc(march.scenario.description) in header
    for source in march.scenario.sources:
        assert esc(source) in header
    assert f"<dd>{summary['seed']}</dd>" in header
    assert f"{summary['start']} to {summary['end']} ({summary['steps']} weeks)" in header
    assert summary["scenario"]["sha256"] in header
    assert f'<span id="outcome">{esc(summary["outcome"])}</span>' in header


def test_plotly_js_is_embedded_once_and_nothing_is_fetched(march_html):
    assert march_html.count(plotly_js()) == 1
    assert march_html.count("* plotly.js v") == 1
    assert not re.search(r"<script[^>]+src=", march_html)
    assert not re.search(r"<link[^>]+href=", march_html)


def test_every_figure_section_has_a_plot_and_the_page_draws_each_once(march, march_html):
    sections = run_sections(march)
    with_figures = [s for s in sections if s.figure is not None]
    assert len(with_figures) >= 5
    assert march_html.count('class="plot"') == len(with_figures)
    assert len(figure_payloads(march_html)) == len(with_figures)
    assert march_html.count("Plotly.newPlot(") == 1  # one loop draws them all


def test_the_deal_against_alternative_views_come_first_and_are_framed_as_the_centre(march):
    sections = run_sections(march)
    assert [s.anchor for s in sections[:2]] == ["deal-against-alternative", "deal-value"]
    assert all(s.centre for s in sections[:2]) and not any(s.centre for s in sections[2:])


def test_every_figure_has_a_title_axis_titles_and_a_caption(march):
    for section in run_sections(march):
        assert len(section.caption) > 40, section.title
        if section.figure is None:
            continue
        layout = section.figure.layout
        assert layout.title.text, section.title
        axes = [name for name in layout.to_plotly_json() if re.fullmatch(r"[xy]axis\d*", name)]
        titled = {name for name in axes if layout[name].title.text}
        assert any(name.startswith("x") for name in titled), section.title
        assert all(name in titled for name in axes if name.startswith("y")), section.title


def test_time_axes_mark_every_event_the_deal_and_number_them_as_the_key_does(march):
    marks = run_marks(march)
    settlement = march.summary["agreements"]["settlement"]
    # At the scenario's seed Iran breaks the first deal and a new one follows (self-enforcement, docs/ODD.md).
    assert settlement["collapsed_step"] is not None and settlement["broken_by"] == "iran"
    assert [m.kind for m in marks] == ["event", "deal", "collapse", "deal"]
    steps = [2, settlement["step"], settlement["collapsed_step"], march.summary["deal"]["step"]]
    assert [m.step for m in marks] == steps
    assert marks[2].label == "Iran breaks the deal"
    assert marks[0].number == 1 and marks[0].label == march.scenario.events["russia_withdraws"].label
    time_sections = [
        s
        for s in run_sections(march)
        if s.figure is not None
        and any(
            getattr(s.figure.layout[a], "type", None) == "date"
            for a in s.figure.layout.to_plotly_json()
            if a.startswith("xaxis")
        )
    ]
    assert len(time_sections) == 7  # deal value, weights and stake, control, arms, leverage (two), proposals
    for section in time_sections:
        lines = {shape.x0 for shape in section.figure.layout.shapes if shape.type == "line"}
        assert {m.date for m in marks} <= lines, section.title
        badges = {a.text for a in section.figure.layout.annotations if a.hovertext}
        assert {"<b>1</b>", "<b>deal</b>"} <= badges
        assert "week 2 (" in section.key_html and esc(marks[0].label) in section.key_html


def test_actors_keep_their_colour_in_every_figure(march):
    assert colour_of("russia") == ACTOR_COLOURS["russia"]
    assert colour_of("hezbollah") == colour_of("hezbollah") and colour_of("hezbollah") in PALETTE
    sections = {s.anchor: s for s in run_sections(march)}
    ids = list(march.scenario.actors)
    gain = sections["deal-against-alternative"].figure
    dots = next(t for t in gain.data if t.name == "value of the deal")
    assert list(dots.marker.color) == [colour_of(a) for a in ids]
    offers = [
        t for t in sections["deal-value"].figure.data if t.name and t.name.startswith("value of the deal on offer")
    ]
    assert [t.line.color for t in offers] == [colour_of(a) for a in ids]
    ideal = next(t for t in sections["issue-space"].figure.data if t.name == "ideal point of each actor")
    assert list(ideal.marker.color) == [colour_of(a) for a in ids]


def test_hover_text_names_the_actor(march):
    deal_value = {s.anchor: s for s in run_sections(march)}["deal-value"].figure
    templates = [t.hovertemplate for t in deal_value.data if t.hovertemplate]
    for actor in march.scenario.actors.values():
        assert any(template.startswith(esc(actor.name) + ":") for template in templates), actor.name


def test_inputs_table_shows_each_actors_assumptions(march, march_html):
    inputs = march_html.split('id="inputs"')[1]
    for actor in march.scenario.actors.values():
        assert esc(actor.name) in inputs
        total = sum(actor.salience.values())
        for issue, value in actor.position.items():
            assert f"{value:.2f} ({actor.salience[issue] / total:.2f})" in inputs
    assert "enforce embargo" in inputs and "Scheduled events" in inputs


@pytest.mark.parametrize("page", ["march_html", "september_html"])
def test_reports_stay_under_5_mb_with_compact_figures(page, request):
    text = request.getfixturevalue(page)
    assert len(text.encode("utf-8")) < MAX_REPORT_BYTES
    own = len(text.encode("utf-8")) - len(plotly_js().encode("utf-8"))
    assert own < 120_000, f"{own} bytes besides plotly.js"
    blocks = "".join(t for _, t in JSON_BLOCK.findall(text))
    assert not re.search(r"\d\.\d{6,}", blocks), "unrounded numbers in the figure data"
    templates = payloads(text)["plot-templates"]
    assert len(templates) == 1
    assert {data["template"] for data in figure_payloads(text).values()} == {0}


def test_figure_json_cannot_close_its_script_element(march_html):
    for name, text in JSON_BLOCK.findall(march_html):
        assert "<" not in text and ">" not in text, name


# --- hostile strings ---------------------------------------------------------------------------------


def test_every_scenario_string_is_escaped(hostile_html):
    for value in HOSTILE.values():
        assert value not in hostile_html, value
    assert "alert(1)" in hostile_html  # shown, as text
    assert f"<h1>{esc(HOSTILE['name'])}</h1>" in hostile_html
    assert f"<title>{esc(HOSTILE['name'])}</title>" in hostile_html
    assert esc(HOSTILE["actor"]) in hostile_html and esc(HOSTILE["event"]) in hostile_html
    # Only our own script elements: templates, plotly.js, the drawing script and one block per figure.
    assert hostile_html.count("<script") == hostile_html.count("</script>") == 3 + len(figure_payloads(hostile_html))
    for data in figure_payloads(hostile_html).values():
        text = json.dumps(data)
        for value in HOSTILE.values():
            assert value not in text


def test_esc_is_safe_for_html_and_plotly():
    assert esc('<a href="x">%{y}</a> & \'') == "&lt;a href=&#34;x&#34;&gt;&#37;{y}&lt;/a&gt; &amp; &#39;"
    assert html.unescape(esc('<a href="x">%{y}</a> & \'')) == '<a href="x">%{y}</a> & \''


# --- render_page, the shared page other reports use ----------------------------------------------------


def test_render_page_draws_any_figure_and_escapes_titles_and_captions():
    figure = go.Figure(go.Scatter(x=np.arange(3), y=np.array([0.5, np.nan, 0.25]), name="series"))
    figure.update_layout(title="a figure", template="plotly_white", height=300)
    page = render_page(
        "<T>",
        "<header>h</header>",
        [
            Section("<one>", "caption & more", figure, anchor="one"),
            Section("two", "the same template again", go.Figure(figure), anchor="two"),
            Section("three", "a table", html_body="<table><tr><td>1</td></tr></table>"),
        ],
    )
    assert "<title>&lt;T&gt;</title>" in page and "<h2>&lt;one&gt;</h2>" in page
    assert "caption &amp; more" in page and "<table><tr><td>1</td></tr></table>" in page
    figures = figure_payloads(page)
    assert set(figures) == {"figure-one-data", "figure-two-data"}
    assert len(payloads(page)["plot-templates"]) == 1  # plotly_white carried once for both figures
    assert 'style="height:300px"' in page


def test_render_page_without_figures_carries_no_plotly():
    page = render_page("t", "", [Section("a", "b", html_body="<p>x</p>")])
    assert "plotly" not in page.lower().replace("negotiation-sim", "")
    assert len(page) < 20_000


def test_rounded_and_timeline_keep_figures_small():
    assert rounded([0.123456, np.nan, np.inf], 3) == [0.123, None, None]
    assert Timeline(("2016-01-02", "2016-01-09", "2016-01-16")).x() == {"x0": "2016-01-02", "dx": 7 * 86_400_000}
    assert Timeline(("2016-01-02", "2016-01-09", "2016-01-17")).x() == {"x": ["2016-01-02", "2016-01-09", "2016-01-17"]}


# --- reports/index.html --------------------------------------------------------------------------------


def make_report(folder: Path, outcome: str, name: str, mtime: float, **extra) -> None:
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    (folder / "summary.json").write_text(
        json.dumps({"scenario": {"name": name}, "outcome": outcome, **extra}), encoding="utf-8"
    )
    os.utime(folder / "report.html", (mtime, mtime))


def test_index_lists_reports_newest_first_with_outcomes_escaped(tmp_path):
    root = tmp_path / "reports"
    make_report(root / "old", "No deal was reached.", "Old", 1_000_000, deal={})
    make_report(root / "new", "A deal <b>was</b> reached.", "<New>", 2_000_000, deal={})
    make_report(root / "batch" / "nested", "90% of runs reach a deal.", "Ensemble", 1_500_000, kind="ensemble")
    (root / "broken").mkdir()
    (root / "broken" / "report.html").write_text("x", encoding="utf-8")
    (root / "broken" / "summary.json").write_text("{not json", encoding="utf-8")
    os.utime(root / "broken" / "report.html", (500_000, 500_000))
    (root / "empty").mkdir()
    entries = collect(root)
    assert [e.folder.as_posix() for e in entries] == ["new", "batch/nested", "old", "broken"]
    assert entries[1].kind == "ensemble" and entries[0].kind == "run"
    page = render_index(entries)
    assert page.index("new/report.html") < page.index("batch/nested/report.html") < page.index("old/report.html")
    assert "A deal &lt;b&gt;was&lt;/b&gt; reached." in page and "&lt;New&gt;" in page
    assert "<b>was</b>" not in page and "<script" not in page
    assert "90&#37; of runs reach a deal." in page and "summary.json is missing or unreadable" in page


def test_index_links_are_url_quoted(tmp_path):
    root = tmp_path / "reports"
    make_report(root / "a b#c", "ok", "x", 1_000_000)
    assert 'href="a%20b%23c/report.html"' in render_index(collect(root))


def test_refresh_index_writes_only_inside_a_reports_folder(tmp_path):
    make_report(tmp_path / "elsewhere" / "x", "o", "n", 1_000_000)
    assert refresh_index(tmp_path / "elsewhere" / "x") is None
    assert not (tmp_path / "elsewhere" / "index.html").exists()
    make_report(tmp_path / "reports" / "deep" / "run", "o", "n", 1_000_000)
    assert reports_root(tmp_path / "reports" / "deep" / "run") == tmp_path / "reports"
    index = refresh_index(tmp_path / "reports" / "deep" / "run")
    assert index == tmp_path / "reports" / "index.html"
    assert "deep/run/report.html" in index.read_text(encoding="utf-8")
    assert [p.name for p in (tmp_path / "reports").iterdir() if p.name.startswith(".")] == []


def test_cli_run_into_reports_rebuilds_the_index(tmp_path):
    folder = tmp_path / "reports" / "march"
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "run", "--out", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    index = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    outcome = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["outcome"]
    assert 'href="march/report.html"' in index and esc(outcome) in index
    assert "index:" in done.stdout


# --- the outcome sentence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deal_step", "collapsed", "held", "expected"),
    [
        (
            6,
            None,
            30,
            "A deal was reached in week 6 (2016-04-09) and the ceasefire held throughout: Assad keeps a "
            "ceremonial role as head of state; arms flow cut off; sanctions unchanged.",
        ),
        (
            0,
            None,
            12,
            "A deal was reached in the first week (2016-02-27) and the ceasefire held for all 12 weeks it "
            "was in force: ",
        ),
        (6, 3, 3, "The ceasefire collapsed in week 3 (2016-03-19), yet a deal was reached in week 6 (2016-04-09): "),
        (6, 9, 9, "; the ceasefire collapsed in week 9 (2016-04-30)."),
        (None, 2, 2, "No deal was reached in 30 weeks, and the ceasefire collapsed in week 2 (2016-03-12)."),
        (None, None, 0, "No deal was reached in 30 weeks, and there was no ceasefire."),
        (None, None, 30, "No deal was reached in 30 weeks, but the ceasefire held throughout."),
    ],
)
def test_outcome_sentence_reads_as_one_sentence_in_the_order_things_happened(
    march, deal_step, collapsed, held, expected
):
    from sim.model.results import outcome_sentence

    scenario = march.scenario
    date = scenario.time.date_of
    summary = {
        "steps": 30,
        "deal": {
            "reached": deal_step is not None,
            "step": deal_step,
            "date": date(deal_step).isoformat() if deal_step is not None else None,
            "position": {"assad_role": 0.45, "arms_flow": 0.0, "sanctions": 0.0},
        },
        "ceasefire": {
            "held_steps": held,
            "collapsed_step": collapsed,
            "collapsed_date": date(collapsed).isoformat() if collapsed is not None else None,
        },
    }
    sentence = outcome_sentence(summary, scenario)
    assert expected in sentence
    assert sentence.count(". ") == 0 and sentence.endswith(".")


def test_inducement_counts_only_while_no_settlement_is_in_force(march) -> None:
    """Once a settlement is signed there is no offer left to sweeten: every inducement column is 0 on those
    steps, and positive for some pair while the talks are on."""
    rows = march.timeseries
    inducement = rows[[c for c in rows.columns if c.startswith("inducement_on_")]].to_numpy(dtype=float)
    # `deal` is recorded at the end of a step; leverage is measured at its start, under the previous step's deal.
    in_force_at_end = rows.drop_duplicates("step").set_index("step")["deal"].astype(str) == "True"
    settled = rows["step"].map(in_force_at_end.shift(1, fill_value=False)).astype(bool)
    assert settled.any() and (~settled).any()
    assert np.all(inducement[settled.to_numpy()] == 0.0)
    assert np.any(inducement[~settled.to_numpy()] > 0.0)


def test_the_leverage_caption_names_the_largest_of_each_kind_and_its_instrument(march) -> None:
    """The coercive panel shows each pair's strongest instrument; the caption names the largest coercive
    leverage with the instrument that carries it, and the largest inducement, and never adds the two."""
    section = next(s for s in run_sections(march) if s.anchor == "leverage")
    rows = march.timeseries
    instruments = ("forces", "strikes", "safe_zones", "arms_supply", "embargo", "escalation")
    columns = [c for c in rows.columns if any(c.startswith(f"coercive_{m}_on_") for m in instruments)]
    top = rows[columns].to_numpy(dtype=float).max()
    where = np.argwhere(rows[columns].to_numpy(dtype=float) == top)[0]
    holder = march.scenario.actors[rows.iloc[where[0]]["actor"]].name
    instrument = next(m for m in instruments if columns[where[1]].startswith(f"coercive_{m}_on_"))
    assert f"The largest coercive leverage is {holder} over" in section.caption
    assert f"({top:.3f} in week" in section.caption
    assert f"through its {instrument.replace('_', ' ')}" in section.caption
    assert "The largest inducement is" in section.caption
    assert "never added" in section.caption


def test_the_time_series_records_each_agreement_signed_violated_and_collapsed(march) -> None:
    """Per step and agreement: signed and collapsed where the summary says, violated only while in force."""
    steps = march.timeseries.drop_duplicates("step").set_index("step")
    for name in ("ceasefire", "settlement"):
        agreement = march.summary["agreements"][name]
        signed = steps.index[steps[f"{name}_signed"].astype(bool)].tolist()
        collapsed = steps.index[steps[f"{name}_collapsed"].astype(bool)].tolist()
        assert signed[0] == agreement["step"]
        assert collapsed[0] == agreement["collapsed_step"]
        assert len(signed) == len(collapsed) + int(agreement["held"])  # each collapse ends one signing
    assert signed[-1] == march.summary["deal"]["step"]
    in_force_before = steps["ceasefire"].astype(bool).shift(1, fill_value=False)
    violated = steps["ceasefire_violated"].astype(bool)
    assert not (violated & ~in_force_before).any()
    assert violated.loc[march.summary["agreements"]["ceasefire"]["collapsed_step"]]


def test_who_was_winning_draws_the_odds_the_alternatives_rest_on(march) -> None:
    """Issue 14: the control figure's dashed line is the projected odds the actors use (the median over actors
    of `projected_win_probability`, withdrawn aircraft counted by their return), not the odds with only the
    forces present, which it draws apart (dotted); the caption gives both at the end. In March, after the
    withdrawal, the two differ (the aircraft can return within a day, so the projection keeps them)."""
    from sim.reports.figures import control_figure

    series = march.timeseries
    figure = control_figure(series, [])
    names = [trace.name for trace in figure.data]
    projected = figure.data[names.index(next(n for n in names if "as the actors project it" in n))]
    present = figure.data[names.index(next(n for n in names if "only the forces present" in n))]
    expected = series.groupby("step")["projected_win_probability"].median().sort_index().to_numpy()
    np.testing.assert_allclose(projected.y, np.round(expected, 4), atol=1e-12)
    now = series.drop_duplicates("step").sort_values("step")["win_probability"].to_numpy()
    np.testing.assert_allclose(present.y, np.round(now, 4), atol=1e-12)
    assert projected.line.dash == "dash" and present.line.dash == "dot"
    after = series.drop_duplicates("step")["date"] >= "2016-03-14"
    assert np.all(expected[after.to_numpy()] > now[after.to_numpy()])
    caption = next(section.caption for section in run_sections(march) if section.title == "Who was winning the war?")
    assert f"was {expected[-1]:.0%} (dashed)" in caption and f"it was {now[-1]:.0%}" in caption


def test_the_deal_value_axis_explains_values_below_zero(march) -> None:
    """Issue 14: the axis said "0 = worst" while alternatives below 0 were drawn on it; it now says what a value
    below 0 is when there is one, and does not mention it when there is none."""
    from sim.reports.figures import deal_comparison_at, deal_gain_figure

    params_ids = tuple(march.scenario.actors)
    names = {a: actor.name for a, actor in march.scenario.actors.items()}
    required = {a: actor.consent_required for a, actor in march.scenario.actors.items()}
    for step in sorted(march.timeseries["step"].unique()):
        comparisons = deal_comparison_at(march.timeseries, int(step), params_ids, names, required)
        values = [v for c in comparisons for v in (c.deal_value, c.alternative, c.reservation) if v is not None]
        title = deal_gain_figure(comparisons, "now").layout.xaxis.title.text
        assert "worst" not in title
        assert ("below 0" in title) == (min(values) < 0)


def test_the_inputs_that_time_and_bound_the_deal_are_on_the_page(march_html: str) -> None:
    """Issue 14: the date talks open (which times the March deal), the agreements (what each settles, who
    signs, from when talks can conclude it) and the threats a government would not allow are on the page."""
    assert '<dd id="talks-open">2016-04-16 (week 7): no deal is concluded before</dd>' in march_html
    assert '<td id="talks-settlement">2016-04-16 (week 7)</td>' in march_html
    assert '<td id="talks-ceasefire">-</td>' in march_html
    assert "Threats held but not allowed by their government: United States: safe zones, strikes." in march_html


def test_a_threat_object_is_listed_and_not_called_ruled_out() -> None:
    """The ultimatum's two threats appear with their demand and deadline; the US's options are on through
    them, so nothing is listed as not allowed."""
    page = run_report(run_scenario(load_scenario(ROOT / "scenarios" / "stalemate_2016_09_us_ultimatum.yaml")))
    text = re.sub(r"\|+", "|", html.unescape(re.sub(r"<[^>]+>", "|", page)))
    assert "|strikes|0.6|0.6|no|0.004|0.05|agreement ceasefire in force|2016-10-07|" in text
    assert "|safe zones|0.3|0.6|no|0.002|0.05|agreement ceasefire in force|2016-10-07|" in text
    assert "not allowed by their government" not in text


def test_figure_downloads_carry_the_scenarios_name(march_html: str) -> None:
    """Issue 14: every report's figure downloads used to share one file name; the page now names them after
    its title (ASCII, hyphens), and the drawing code prefixes each figure's id with it."""
    from sim.reports.page import download_name

    assert 'data-download="cessation-of-hostilities-march-2016"' in march_html
    assert "prefix + '-' + div.id" in march_html
    assert download_name("Über die Waffenruhe: März 2016!") == "uber-die-waffenruhe-marz-2016"
    assert download_name("¿¡") == "report"
    assert len(download_name("x" * 200)) == 60


# --- why the deal landed where it did (issue 14, item 3) ------------------------------------------------------


def _moment(result, kind: str, step: int | None = None) -> dict:
    return next(
        m for m in reversed(result.summary["why"]["moments"]) if m["kind"] == kind and step in (None, m["step"])
    )


def test_why_gives_the_bargain_in_the_engines_numbers(march) -> None:
    """The last deal's moment: its terms are the deal signed, and each party's weight, alternative, reservation
    value and value of the offer are the numbers the time series recorded that week; the weight is capability
    over impatience, split into patience and the negotiator's stake; the reservation is alternative + demand -
    stake."""
    deal = march.summary["deal"]
    moment = _moment(march, "deal", deal["step"])
    assert moment["terms"] == deal["position"]
    rows = march.timeseries[march.timeseries["step"] == deal["step"]].set_index("actor")
    for actor_id, bargain in moment["bargain"].items():
        assert bargain["weight"] == pytest.approx(float(rows.at[actor_id, "weight"]), rel=1e-12)
        assert bargain["reservation"] == pytest.approx(float(rows.at[actor_id, "reservation"]), rel=1e-12)
        assert bargain["alternative"] == pytest.approx(float(rows.at[actor_id, "batna"]), abs=1e-12)
        assert bargain["offer_value"] == pytest.approx(march.summary["actors"][actor_id]["utility_of_deal"], abs=1e-12)
        actor = march.scenario.actors[actor_id]
        assert bargain["stake"] == pytest.approx(actor.stake_growth * deal["step"], abs=1e-12)
        assert bargain["impatience"] == pytest.approx(-np.log(actor.patience) + bargain["stake"], rel=1e-12)
        assert bargain["weight"] == pytest.approx(actor.capability / bargain["impatience"], rel=1e-12)
        assert bargain["reservation"] == pytest.approx(
            bargain["alternative"] + bargain["demand"] - bargain["stake"], abs=1e-12
        )
        assert bargain["slack"] > 0 and bargain["accepts"]
    assert sum(b["weight_share"] for b in moment["bargain"].values()) == pytest.approx(1.0)
    # The more patient Russia holds most of the weight; the US negotiator's stake is why its share falls.
    assert moment["bargain"]["russia"]["weight_share"] > 0.75 > moment["bargain"]["us"]["weight_share"]


def test_why_says_why_the_deal_is_not_at_russias_ideal(march, march_html) -> None:
    """Issue 14: "why did the deal land at 0.34 and not at Russia's 0.25?" The zone of agreement along Assad's
    role starts where the US's value falls to its reservation value: at Russia's ideal the US would get less
    than its reservation and would not sign, which the model's own utility function confirms, and the page
    says so in numbers."""
    from sim.scenario.params import params_from_scenario

    moment = _moment(march, "deal", march.summary["deal"]["step"])
    issue = moment["issues"]["assad_role"]
    russia_ideal = march.scenario.actors["russia"].position["assad_role"]
    assert issue["offer"] > russia_ideal
    assert issue["zone"]["low_set_by"] == ["us"] and issue["zone"]["high_set_by"] == ["russia"]
    assert issue["zone"]["low"] <= issue["offer"] <= issue["zone"]["high"]
    outside = next(o for o in issue["outside"] if o["party"] == "russia")
    refusal = outside["refused_by"][0]
    assert outside["ideal"] == russia_ideal and refusal["actor"] == "us"
    params = params_from_scenario(march.scenario)
    us = list(march.scenario.actors).index("us")
    at_ideal = np.array([[*[moment["terms"][k] for k in params.issue_ids]]])
    at_ideal[0, 0] = russia_ideal
    assert float(params.utilities_at(at_ideal)[0, us]) == pytest.approx(refusal["value"], abs=1e-12)
    assert refusal["value"] < refusal["reservation"] == moment["bargain"]["us"]["reservation"]
    # The zone's edge is where the US's value meets its reservation value (to the grid's 0.0005).
    edge = at_ideal.copy()
    for x, inside in ((issue["zone"]["low"], True), (issue["zone"]["low"] - 0.001, False)):
        edge[0, 0] = x
        assert (float(params.utilities_at(edge)[0, us]) >= refusal["reservation"]) is inside
    why = march_html.split('<section class="figure" id="why">')[1].split("</section>")[0]
    expected = (
        f"Not at Russia's ideal, {russia_ideal:.2f}: there United States would get {refusal['value']:.3f}, below "
        f"its reservation value {refusal['reservation']:.3f}, and would not sign."
    )
    assert expected in why
    assert "What decided it." in why and "asymmetric Nash solution" in why


def test_why_breaks_each_alternative_into_the_engines_parts(march) -> None:
    """Each actor's alternative is the war lottery on the projected odds less the cost of fighting, to the last
    bit the engine computed; what withdrawn aircraft that can return add (week 16, Russia's are away) has the
    sign of each side and is less than they would add if present; the instruments that lower it are the
    recorded per-instrument leverage."""
    moment = _moment(march, "deal", march.summary["agreements"]["settlement"]["step"])
    rows = march.timeseries[march.timeseries["step"] == moment["step"]].set_index("actor")
    for actor_id, parts in moment["alternatives"].items():
        war = parts["odds"] * parts["if_government_wins"] + (1 - parts["odds"]) * parts["if_opposition_wins"]
        assert parts["alternative"] == pytest.approx(war - parts["fighting_cost"], abs=1e-12)
        assert parts["odds"] == pytest.approx(float(rows.at[actor_id, "projected_win_probability"]), rel=1e-12)
        side = march.scenario.actors[actor_id].side
        withdrawn = parts["withdrawn"]
        assert withdrawn["by"][0]["actor"] == "russia" and withdrawn["by"][0]["weight"] > 0.9
        assert (withdrawn["effect"] > 0) == (side == "government")
        assert abs(withdrawn["effect"]) < abs(withdrawn["effect_if_present"])
        for item in parts["lowered_by"]:
            recorded = float(rows.at[item["by"], f"coercive_{item['instrument']}_on_{actor_id}"])
            assert item["amount"] == pytest.approx(recorded, rel=1e-12)
    assert moment["alternatives"]["opposition"]["lowered_by"][0] == {
        "by": "russia",
        "instrument": "forces",
        "amount": pytest.approx(float(rows.at["russia", "coercive_forces_on_opposition"])),
    }


def test_why_explains_each_collapse_by_who_gained_from_breaking(march) -> None:
    """Week 21, Iran breaks the deal: the war it would restart was worth more to it than keeping the deal, and
    its chance of breaking it is the self-enforcement rule's, which the time series recorded."""
    from sim.mechanisms import agreements

    settlement = march.summary["agreements"]["settlement"]
    moment = _moment(march, "collapse", settlement["collapsed_step"])
    assert moment["broken_by"] == "iran" and moment["binding"] == {"kind": "breaking", "actors": ["iran"]}
    iran = moment["keeping"]["iran"]
    assert iran["gain"] == pytest.approx(iran["break"] - iran["defection_cost"] - iran["keep"]) and iran["gain"] > 0
    actor = march.scenario.actors["iran"]
    expected = agreements.defection_probability(
        np.array(iran["gain"]), np.array(actor.capability), np.array(actor.spoil_sensitivity), np.array(0.0)
    )
    assert iran["probability"] == pytest.approx(float(expected), rel=1e-12)
    rows = march.timeseries[march.timeseries["step"] == moment["step"]].set_index("actor")
    assert iran["probability"] == pytest.approx(float(rows.at["iran", "spoil_probability"]), rel=1e-12)
    sentence = why_sentence(march, moment, "iran")
    assert f"a gain of {iran['gain']:.3f}" in sentence and "It broke it." in sentence


def why_sentence(result, moment, actor_id: str) -> str:
    from sim.reports.why import _Context, actor_sentence

    return actor_sentence(_Context(result.scenario, {}), moment, actor_id)


def test_why_names_who_is_short_when_there_is_no_deal() -> None:
    """September with sanctions on the table: no deal, because no offer gives every party at the table its
    reservation value; the parties named short are those whose value of the best compromise is below it."""
    result = run_scenario(load_scenario(ROOT / "scenarios" / "stalemate_2016_09_sanctions_linkage.yaml"))
    moment = _moment(result, "no deal")
    assert not result.summary["deal"]["reached"] and not moment["zone"]
    short = moment["binding"]["actors"]
    assert moment["binding"]["kind"] == "no zone" and short
    assert all(moment["bargain"][a]["offer_value"] < moment["bargain"][a]["reservation"] for a in short)
    assert all(
        moment["bargain"][a]["offer_value"] >= moment["bargain"][a]["reservation"]
        for a in moment["bargain"]
        if a not in short
    )
    page = run_report(result)
    assert "<h2>Why was there no deal?</h2>" in page and "There is no zone of agreement" in page


SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_every_shipped_scenario_has_a_why_section_with_a_sentence_per_actor(path: Path) -> None:
    result = run_scenario(load_scenario(path))
    sections = {s.anchor: s for s in run_sections(result)}
    body = sections["why"].html_body
    moments = result.summary["why"]["moments"]
    assert moments and body.count('<details class="why"') == len(moments)
    assert body.count(" open>") == 1
    assert body.count('<p class="binding"><strong>What decided it.</strong> ') == len(moments)
    for block in body.split('<details class="why"')[1:]:
        sentences = block.split('<ul class="why-actors">')[1].split("</ul>")[0]
        assert sentences.count("<li>") == len(result.scenario.actors)
        assert "Its alternative, " in sentences
    if result.summary["deal"]["reached"]:
        assert any(m["kind"] == "deal" for m in moments)


def test_why_does_not_change_the_run() -> None:
    """Recording the explanation draws nothing and changes nothing: the single run's summary (without `why`)
    equals the batch member's with the same seed, which never records it."""
    from sim.runs.batch import Batch, execute
    from sim.runs.distributed import InProcess

    loaded = load_scenario(ROOT / "scenarios" / "ceasefire_2016_03.yaml")
    result = run_scenario(loaded, seed=5)
    chunk = next(iter(execute(Batch(loaded.scenario, np.array([5])), InProcess()))).outcomes
    assert int(chunk["deal_step"][0]) == result.summary["deal"]["step"]
    for actor_id, values in result.summary["actors"].items():
        assert float(chunk[f"batna_{actor_id}"][0]) == values["batna"]


# --- figures that say what they draw (issue 14, item 4) --------------------------------------------------------


def test_the_leverage_heatmap_keeps_small_leverage_visible_and_skips_what_cannot_matter(march) -> None:
    """The colour scale is logarithmic (0.001 to 1), so Russia's leverage over the US (about 0.07 to 0.18) sits
    in the upper half of the scale, where on a linear scale shared with inducement of 0.8 it was nearly white;
    inducement is not drawn (a gap) in the weeks when every agreement is signed, and only the parties at the
    table have rows in that panel."""
    figure = {s.anchor: s for s in run_sections(march)}["leverage"].figure
    coercive, inducement = figure.data
    assert (coercive.zmin, coercive.zmax) == (-3, 0)
    labels = list(coercive.y)
    row = next(k for k, label in enumerate(labels) if label.startswith("Russia →<br>United States"))
    assert "(forces)" in labels[row]
    positions = (np.array(coercive.z[row], dtype=float) + 3) / 3
    assert np.median(positions) > 0.5
    values = march.timeseries[march.timeseries["actor"] == "russia"].sort_values("step")["coercive_forces_on_us"]
    np.testing.assert_allclose(np.array(coercive.customdata[row], dtype=float), np.round(values, 3), atol=1e-12)
    talks = march.details.drop_duplicates("step").sort_values("step")["talks_on"].to_numpy()
    assert talks.any() and not talks.all()
    for cells in inducement.z:
        assert all((cell is None) == (not on) for cell, on in zip(cells, talks, strict=True))
    holders = {label.split(" →")[0] for label in inducement.y}
    assert holders == {"United States", "Russia"}


def test_the_leverage_caption_says_what_each_actor_can_do(march) -> None:
    """Issue 14: the caption said Turkey "can only sweeten its offer" though it is not at the table. Turkey's
    arms deliveries lower Russia's and Iran's alternatives, and only the parties at the table can concede."""
    caption = {s.anchor: s for s in run_sections(march)}["leverage"].caption
    worsen = caption.split("Can worsen another's alternative: ")[1].split(".")[0]
    sweeten = caption.split("Can sweeten the deal: ")[1].split(".")[0]
    assert "Turkey" in worsen and "Turkey" not in sweeten
    assert sweeten == "United States and Russia"
    oil = run_sections(run_scenario(load_scenario(ROOT / "scenarios" / "deal_saudi_russia_oil_cap.yaml")))
    oil_caption = {s.anchor: s for s in oil}["leverage"].caption
    assert "Can worsen" not in oil_caption and "Can sweeten the deal: Saudi Arabia and Russia" in oil_caption


def test_leverage_between_the_parties_at_the_table_has_a_panel_and_a_scale_per_pair(march) -> None:
    """One panel for the US over Russia and one for Russia over the US, each on its own scale, one line per
    instrument the holder has over that target (the recorded values), inducement dashed and drawn only while
    an agreement is bargained over."""
    figure = {s.anchor: s for s in run_sections(march)}["leverage-at-the-table"].figure
    titles = [a.text for a in figure.layout.annotations if not a.hovertext]
    assert titles == ["<b>United States</b> over <b>Russia</b>", "<b>Russia</b> over <b>United States</b>"]
    rows = march.timeseries
    russia = rows[rows["actor"] == "russia"].sort_values("step")
    forces = next(t for t in figure.data if t.yaxis == "y2" and t.name.startswith("its forces"))
    np.testing.assert_allclose(np.array(forces.y, dtype=float), np.round(russia["coercive_forces_on_us"], 4))
    top = float(russia["coercive_forces_on_us"].max())
    assert top <= figure.layout.yaxis2.range[1] <= 1.2 * top + 0.01
    us_panel = [t for t in figure.data if t.yaxis == "y"]
    assert not any(t.name.startswith("its forces") for t in us_panel)  # the US has no "or else" over Russia
    us_top = max(float(np.nanmax(np.array(t.y, dtype=float))) for t in us_panel)
    assert figure.layout.yaxis.range[1] <= 1.2 * us_top + 0.01 < 0.2
    induce = next(t for t in us_panel if t.line.dash == "dash")
    talks = march.details.drop_duplicates("step").sort_values("step")["talks_on"].to_numpy()
    assert all((v is None) == (not on) for v, on in zip(induce.y, talks, strict=True))


def test_the_arms_figure_draws_the_stock_the_deliveries_and_the_embargo(march) -> None:
    """Issue 14: the US pledge to stop the arms flow had no figure. The stock is the recorded arms_stock; the
    bars of each week add up to the arms that reached the opposition (arms_inflow) and, held back, Turkey's
    deliveries while the US embargo stood, the weeks of which are shaded."""
    section = {s.anchor: s for s in run_sections(march)}["arms"]
    figure = section.figure
    steps = march.timeseries.drop_duplicates("step").sort_values("step")
    stock = next(t for t in figure.data if t.name == "arms stock")
    np.testing.assert_allclose(np.array(stock.y, dtype=float), np.round(steps["arms_stock"], 4))
    delivered = [t for t in figure.data if t.type == "bar" and t.name.startswith("delivered by")]
    held = next(t for t in figure.data if t.type == "bar" and t.name.startswith("held back from Turkey"))
    total = np.sum([np.array(t.y, dtype=float) for t in delivered], axis=0)
    np.testing.assert_allclose(total, np.round(steps["arms_inflow"], 4), atol=1e-9)
    embargo = march.details[march.details["actor"] == "us"].sort_values("step")["embargo"].to_numpy()
    supply = march.scenario.actors["turkey"].arms_supply
    np.testing.assert_allclose(np.array(held.y, dtype=float), np.where(embargo, supply, 0.0))
    assert any(t.name == "embargo enforced by United States" for t in figure.data)
    shaded = [s for s in figure.layout.shapes if s.type == "rect"]
    runs = int(np.sum(np.diff(np.concatenate([[0], embargo.astype(int)])) == 1))
    assert len(shaded) == runs >= 1
    assert "what its patron's embargo held back" in section.caption


def test_the_negotiators_growing_stake_is_a_visible_line(march) -> None:
    """Issue 14: Kerry's growing stake was a faint dotted line inside the reservation. It is now a thick line of
    its own, sigma t, beside each party's share of the bargaining weight, which it lowers."""
    figure = {s.anchor: s for s in run_sections(march)}["weights-and-stake"].figure
    stake = next(t for t in figure.data if t.name == "United States: negotiator's stake")
    steps = np.arange(len(stake.y))
    np.testing.assert_allclose(np.array(stake.y, dtype=float), np.round(0.002 * steps, 4), atol=1e-12)
    assert stake.line.width >= 4 and stake.line.dash is None
    assert not any("Russia: negotiator" in (t.name or "") for t in figure.data)
    shares = [np.array(t.y, dtype=float) for t in figure.data if t.name.endswith("share of the weight")]
    np.testing.assert_allclose(np.sum(shares, axis=0), 1.0, atol=2e-4)
    assert shares[0][-1] < shares[0][0]  # the US's share falls as its negotiator's stake grows


def test_the_utility_axes_match_the_values_drawn(march) -> None:
    """No axis says 0-1 or "worst" while values below 0 are drawn on it: the axis names its scale by the ideal,
    its range holds every value, and the caption says what a value below 0 is."""
    sections = {s.anchor: s for s in run_sections(march)}
    figure = sections["deal-value"].figure
    values = march.timeseries[["utility_of_offer", "batna", "reservation"]].to_numpy(dtype=float)
    assert np.nanmin(values) < 0
    for name in figure.layout.to_plotly_json():
        if name.startswith("yaxis"):
            axis = figure.layout[name]
            assert "0-1" not in axis.title.text and "worst" not in axis.title.text
            assert axis.range[0] <= np.nanmin(values[:, :2]) and axis.range[1] >= np.nanmax(values[:, :2])
    assert "a value below 0 (here down to" in sections["deal-value"].caption


def test_a_line_another_issue_covers_is_drawn_wider_beneath_it(march) -> None:
    """Issue 14: two issue lines on 0 hid each other. Arms flow and sanctions both stay at 0: the first is drawn
    wider and translucent beneath the second, and its legend says so."""
    figure = {s.anchor: s for s in run_sections(march)}["proposals"].figure
    arms, sanctions = (next(t for t in figure.data if t.name.startswith(k)) for k in ("arms flow", "sanctions"))
    assert "mostly under sanctions" in arms.name and "mostly under" not in sanctions.name
    assert arms.line.width > sanctions.line.width + 3


def test_result_figures_are_the_reports_figures() -> None:
    """Issue 14, item 6: `result.figures()` gives the report's figures as plotly Figures, keyed by their section,
    in the page's order, for a notebook to show inline."""
    import sim

    result = sim.run_scenario(sim.load_scenario(ROOT / "scenarios" / "ceasefire_2016_03.yaml"))
    figures = result.figures()
    sections = [s for s in run_sections(result) if s.figure is not None]
    assert list(figures) == [s.anchor for s in sections]
    assert {"deal-value", "why"} & set(figures) == {"deal-value"}
    for section in sections:
        assert isinstance(figures[section.anchor], go.Figure)
        assert figures[section.anchor].to_plotly_json() == section.figure.to_plotly_json()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "result.figures()" in readme


# --- citations (issue 14, item 7) ------------------------------------------------------------------------


def test_sources_are_cited_by_author_title_and_date(march_html: str) -> None:
    """The header cites Porter by author, title and date, with the file name beside it; a source the table does
    not know shows as its (escaped) name; the many-run reports' header does the same."""
    from sim.reports.page import many_runs_header
    from sim.reports.sources import sources_html

    header = march_html.split("</header>")[0]
    assert "Gareth Porter, “<cite>How Putin&#39;s Leverage Shaped the Syrian Ceasefire</cite>”" in header
    assert "Global Research, 30 March 2016" in header and "000_d8a24bc0456570a9.txt" in header
    assert sources_html(["<b>x</b>.txt"]) == '<ul class="sources"><li class="source">&lt;b&gt;x&lt;/b&gt;.txt</li></ul>'
    assert sources_html([]) == "none given"
    september = load_scenario(ROOT / "scenarios" / "stalemate_2016_09.yaml")
    many = many_runs_header("k", september.scenario, "f.yaml", "0" * 64, "o", [])
    assert "Michael Singh" in many and "9 September 2016" in many and "Gareth Porter" in many
