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
    assert len(time_sections) == 4
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
