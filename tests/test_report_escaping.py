"""Hostile text from a scenario shows as text in every report, never as markup.

A scenario's name, description, sources, actor names, issue labels (ends and named levels) and event
labels are free text. Here each carries markup meant to run script (`<script>`, an `onerror=`
attribute, a `</script>` that would close a script block early), a `javascript:` URL and an
ampersand. Every kind of report is written from it -- one run, a comparison, an ensemble, a sweep,
a sensitivity analysis -- and the reports index, and so is the same scenario with harmless text of
the same shape. Each hostile page is parsed as a browser would tokenise it:

- it has exactly the tags (by name, with their count) of the harmless page, so nothing was injected
  and no script block was cut short;
- no tag has an event-handler attribute or a `javascript:` URL the harmless page lacks;
- the hostile strings are in the page's text, decoded, i.e. shown as text (the escaped form is in
  the source), and never raw in the source;
- every figure's JSON block parses, and no string inside it carries the markup raw (plotly reads a
  few tags in labels, so labels must arrive escaped too).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from sim.api import (
    compare_scenarios,
    plan_monte_carlo,
    plan_sensitivity,
    plan_sweep,
    run_scenario,
    write_comparison,
    write_monte_carlo,
    write_run_outputs,
    write_sensitivity,
    write_sweep,
)
from sim.reports.index import write_index
from sim.runs.distributed import InProcess
from sim.scenario.loader import load_scenario
from tests.strategies import dump, shipped_document

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
CLOSER = "</script><script>x()</script>"
URL = "javascript:alert(document.cookie)"
AMPERSAND = "Tom & Jerry &amp; co"
HOSTILE = (SCRIPT, IMAGE, CLOSER, URL, AMPERSAND)
HARMLESS = ("plain text one", "plain text two", "plain text three", "plain text four", "plain text five")
MARKUP = (SCRIPT, IMAGE, CLOSER)  # the ones that are markup if left raw
KINDS = ("run", "compare", "ensemble", "sweep", "sensitivity")
FIGURES_WITH_NAMES = ("run", "compare", "ensemble")  # sweep and sensitivity figures plot field paths only


def scenario_text(texts: tuple[str, ...]) -> str:
    """The March 2016 scenario with every free-text field replaced by one of `texts`."""
    document = shipped_document(MARCH)

    def pick(index: int) -> str:
        return texts[index % len(texts)]

    document["name"] = f"{pick(0)} {pick(4)}"
    document["description"] = " ".join(texts)
    document["sources"] = list(texts)
    for index, actor in enumerate(document["actors"].values()):
        actor["name"] = f"{pick(index)} ({index})"  # distinct names, each with one of the texts
    for index, issue in enumerate(document["issues"].values()):
        issue["low"] = f"{pick(index)} low"
        issue["high"] = f"{pick(index + 1)} high"
        issue["levels"] = {
            f"{pick(index + level)} level {level}": value for level, value in enumerate(issue["levels"].values())
        }
    for index, event in enumerate(document["events"].values()):
        event["label"] = f"{pick(index + 2)} #{index}"
    return dump(document)


def write_reports(folder: Path, texts: tuple[str, ...]) -> dict[str, Path]:
    """Every kind of report of the scenario with `texts`, under folder/reports/, and the reports index."""
    path = folder / "scenario.yaml"
    path.write_text(scenario_text(texts), encoding="utf-8")
    other = folder / "counterfactual.yaml"  # B of the comparison: the same text, Russia slower to return
    other.write_text(f"extends: {path.name}\nactors:\n  russia:\n    redeploy_days: 60\n", encoding="utf-8")
    loaded = load_scenario(path)
    reports = folder / "reports"
    executor = InProcess()
    write_run_outputs(run_scenario(loaded), reports / "run")
    write_comparison(compare_scenarios(path, other), reports / "compare")
    write_monte_carlo(plan_monte_carlo(loaded, 30, seed=1), reports / "ensemble", executor)
    write_sweep(plan_sweep(loaded, ["battlefield.kappa=0.15:0.35:2"], 10, seed=1), reports / "sweep", executor)
    write_sensitivity(plan_sensitivity(loaded, "morris", 2, seed=1), reports / "sensitivity", executor)
    pages = {kind: reports / kind / "report.html" for kind in KINDS}
    pages["index"] = write_index(reports)
    return pages


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """{kind: {"hostile": page text, "harmless": page text}} (about 15 s for the ten reports)."""
    hostile = write_reports(tmp_path_factory.mktemp("hostile"), HOSTILE)
    harmless = write_reports(tmp_path_factory.mktemp("harmless"), HARMLESS)
    return {
        kind: {
            "hostile": hostile[kind].read_text(encoding="utf-8"),
            "harmless": harmless[kind].read_text(encoding="utf-8"),
        }
        for kind in hostile
    }


class Page(HTMLParser):
    """A page as a browser tokenises it: tags with attributes, text outside scripts, script contents."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open_script: dict[str, str | None] | None = None
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag == "script":
            self._open_script = dict(attrs)
            self.scripts.append((self._open_script, ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open_script = None

    def handle_data(self, data: str) -> None:
        if self._open_script is not None:
            attrs, content = self.scripts[-1]
            self.scripts[-1] = (attrs, content + data)
        else:
            self.text.append(data)

    @property
    def tag_counts(self) -> Counter[str]:
        return Counter(tag for tag, _ in self.tags)

    def risky_attributes(self) -> list[tuple[str, str, str | None]]:
        """Event-handler attributes, and attribute values that are javascript: URLs."""
        found = []
        for tag, attrs in self.tags:
            for name, value in attrs:
                if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                    found.append((tag, name, value))
        return found

    def json_strings(self) -> list[str]:
        """Every string inside the page's JSON blocks (figures and their templates)."""
        strings: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, str):
                strings.append(node)
            elif isinstance(node, dict):
                for key, value in node.items():
                    walk(key)
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        for attrs, content in self.scripts:
            if attrs.get("type") == "application/json":
                walk(json.loads(content))  # a block cut short by a stray </script> would not parse
        return strings


@pytest.mark.parametrize("kind", [*KINDS, "index"])
def test_hostile_text_adds_no_tag_and_no_script(pages, kind: str) -> None:
    hostile, harmless = Page(pages[kind]["hostile"]), Page(pages[kind]["harmless"])
    assert hostile.tag_counts == harmless.tag_counts, kind
    assert hostile.tag_counts["script"] == harmless.tag_counts["script"]
    assert "img" not in hostile.tag_counts or hostile.tag_counts["img"] == harmless.tag_counts["img"]
    assert hostile.risky_attributes() == harmless.risky_attributes() == []
    # The raw source, as a regular expression sees it: no script opening, no attribute, no closing from the file.
    source = pages[kind]["hostile"]
    for raw in MARKUP:
        assert raw not in source, (kind, raw)
    assert not re.search(r"<script>\s*alert", source, re.IGNORECASE)
    assert not re.search(r"<[a-z][^<>]*\sonerror\s*=[^<>]*>", source, re.IGNORECASE)  # a whole tag
    assert source.count("</script>") == pages[kind]["harmless"].count("</script>")
    assert not re.search(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", source, re.IGNORECASE)


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_text_is_shown_as_text(pages, kind: str) -> None:
    source = pages[kind]["hostile"]
    text = " ".join(Page(source).text)
    # The scenario's name heads every report: shown as the characters it is made of, escaped in the source.
    assert SCRIPT in text, kind
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source, kind
    # The description (every hostile string, in the header of each report) likewise.
    for raw in HOSTILE:
        assert raw in text, (kind, raw)
    assert "&lt;img src=x onerror=alert(1)&gt;" in source
    assert "&lt;/script&gt;&lt;script&gt;x()&lt;/script&gt;" in source
    assert "Tom &amp; Jerry &amp;amp; co" in source


def test_the_run_report_shows_every_field_as_text(pages) -> None:
    """Actor names, issue ends and event labels reach the run report's tables and keys as text."""
    text = " ".join(Page(pages["run"]["hostile"]).text)
    for index, raw in enumerate(HOSTILE):
        assert f"{raw} ({index})" in text, raw  # the actor named with it
    assert f"{SCRIPT} low" in text and f"{IMAGE} high" in text  # issue ends, in the inputs table
    assert f"{CLOSER} #0" in text  # the first event's label, in a key under a figure


def test_the_index_lists_the_hostile_names_as_text(pages) -> None:
    text = " ".join(Page(pages["index"]["hostile"]).text)
    assert f"{SCRIPT} {AMPERSAND}" in text


@pytest.mark.parametrize("kind", KINDS)
def test_figure_labels_carry_no_raw_markup(pages, kind: str) -> None:
    hostile = Page(pages[kind]["hostile"])
    strings = hostile.json_strings()
    assert strings, kind
    for raw in MARKUP:
        assert not any(raw in s for s in strings), (kind, raw)
    assert not any(re.search(r"<(?:img|script|a)\b", s, re.IGNORECASE) for s in strings if "&lt;" in s or "alert" in s)
    if kind in FIGURES_WITH_NAMES:
        # These figures do show the actors' names: escaped once for plotly, which decodes them when drawing.
        assert any("&lt;script&gt;alert(1)&lt;/script&gt; (0)" in s for s in strings), kind
        assert any("&#34;&gt;&lt;img src=x onerror=alert(1)&gt; (1)" in s for s in strings), kind
