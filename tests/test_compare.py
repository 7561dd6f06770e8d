"""`compare`: two scenarios run and written side by side, from the API and from the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.api import write_comparison
from sim.reports.comparison import comparison_report
from sim.runs.comparison import compare_scenarios, comparison_data, paired

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
OIL = SCENARIOS / "deal_saudi_russia_oil_cap.yaml"
TURKEY = SCENARIOS / "deal_turkey_russia_reconciliation.yaml"
MARCH = SCENARIOS / "ceasefire_2016_03.yaml"
SLOW = SCENARIOS / "ceasefire_2016_03_slow_return.yaml"


def test_paired_takes_b_minus_a_only_for_numbers() -> None:
    assert paired(0.25, 0.75) == {"a": 0.25, "b": 0.75, "difference": 0.5}
    assert paired(3, 1)["difference"] == -2
    assert paired(None, 0.5)["difference"] is None
    assert paired(True, False)["difference"] is None


@pytest.fixture(scope="module")
def march_against_slow_return():
    return compare_scenarios(MARCH, SLOW)


def test_differences_are_those_of_the_two_summaries(march_against_slow_return) -> None:
    comparison = march_against_slow_return
    data = comparison_data(comparison)
    a, b = comparison.a.summary, comparison.b.summary
    assert data["a"]["file"] == MARCH.name and data["b"]["file"] == SLOW.name
    for issue, pair in data["deal"]["position"].items():
        assert pair["a"] == a["deal"]["position"][issue]
        assert pair["difference"] == pytest.approx(b["deal"]["position"][issue] - a["deal"]["position"][issue])
    us = data["actors"]["us"]["utility_of_deal"]
    expected = b["actors"]["us"]["utility_of_deal"] - a["actors"]["us"]["utility_of_deal"]
    assert us["difference"] == pytest.approx(expected)
    russia_over_us = data["leverage"]["russia->us"]["total"]
    assert russia_over_us["a"] == a["leverage"]["russia"]["us"]
    assert data["summaries"]["a"] == a
    # Porter's claim, read off the comparison: with a slow return the first settlement lands nearer the US.
    # (Leverage at the last step no longer shows it: by then both runs have had a collapse, which brings the
    # aircraft back; tests/test_stylised_facts.py checks the leverage over the weeks of the withdrawal.)
    first = [summary["agreements"]["settlement"]["terms"]["assad_role"] for summary in (a, b)]
    assert first[1] > first[0]


def test_report_pairs_both_scenarios_on_one_page(march_against_slow_return) -> None:
    comparison = march_against_slow_return
    page = comparison_report(comparison)
    assert page.count("<script>") == 2  # plotly.js once, the drawing script once
    for result in comparison.runs:
        assert result.summary["outcome"].split(":")[0] in page
    for anchor in (
        "differences",
        "actors",
        "leverage-table",
        "deal-value",
        "control",
        "proposals",
        "leverage-a",
        "leverage-b",
        "issues-a",
        "issues-b",
    ):
        assert f'id="{anchor}"' in page
    assert "https://" not in page.split("<script>")[0]  # nothing fetched before the scripts


def test_scenarios_without_a_war_have_no_ceasefire_to_compare() -> None:
    data = comparison_data(compare_scenarios(OIL, TURKEY))
    assert data["deal"]["reached"] == {"a": True, "b": True, "difference": None}
    assert data["ceasefire"]["held_steps"] == {"a": None, "b": None, "difference": None}
    assert data["control"]["a"] is None
    assert set(data["deal"]["position"]) == {
        "production_cap",
        "burden_on_saudi",
        "assad_role",
        "measures_lifted",
        "apology",
    }


def test_written_folder_holds_the_report_and_the_json(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    written = write_comparison(compare_scenarios(OIL, TURKEY), folder)
    assert {p.name for p in written} >= {"report.html", "comparison.json", "summary.json"}
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "compare" and len(summary["scenarios"]) == 2


def test_cli_compare_writes_a_report(tmp_path: Path) -> None:
    folder = tmp_path / "cmp"
    command = [sys.executable, str(ROOT / "cli.py"), "compare", str(OIL), str(TURKEY), "--out", str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "A: deal in week 11; B: deal in week 11." in done.stdout
    data = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
    assert data["b"]["name"].startswith("Turkish-Russian reconciliation")
    assert (folder / "report.html").stat().st_size > 100_000


def test_cli_compare_refuses_a_bad_scenario_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "cmp"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "compare",
            str(OIL),
            str(tmp_path / "missing.yaml"),
            "--out",
            str(folder),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2
    assert "missing.yaml" in done.stderr and "Traceback" not in done.stderr
    assert not folder.exists()


def test_the_comparison_shows_leverage_by_instrument_never_added() -> None:
    """Singh's "or else", read off a comparison: the US's strike threat over Russia is 0 in A and positive in
    B, a row of its own in the leverage table, which has no row adding the kinds."""
    from sim.reports.comparison import leverage_table

    comparison = compare_scenarios(
        ROOT / "scenarios" / "stalemate_2016_09.yaml", ROOT / "scenarios" / "stalemate_2016_09_us_or_else.yaml"
    )
    data = comparison_data(comparison)
    strikes = data["leverage"]["us->russia"]["coercive_by_instrument"]["strikes"]
    assert strikes["a"] == 0.0 and strikes["b"] > 0.0 and strikes["difference"] == strikes["b"]
    table = leverage_table(comparison, data)
    assert "<td>United States over Russia</td><td>coercive, strikes</td>" in table
    assert "total" not in table


# ---------------------------------------------------------------------------- event marks and identical lines


def test_overlaid_figures_carry_the_marks_of_both_runs(march_against_slow_return) -> None:
    from sim.reports.comparison import (
        comparison_marks,
        control_overlay_figure,
        deal_value_overlay_figure,
        proposals_overlay_figure,
    )
    from sim.reports.run import run_marks

    comparison = march_against_slow_return
    marks = comparison_marks(comparison)
    # Every mark of each run is there once, for the scenarios that have it; a shared one is drawn once.
    for label, result in zip(("A", "B"), comparison.runs, strict=True):
        own = {(m.step, m.kind, m.label) for m in run_marks(result)}
        listed = {(m.mark.step, m.mark.kind, m.mark.label) for m in marks if label in m.scenarios}
        assert own == listed, label
    by_scenarios = {m.scenarios for m in marks}
    assert {("A",), ("B",), ("A", "B")} <= by_scenarios  # the withdrawals differ, the later deal is shared
    withdrawal = [m for m in marks if m.mark.kind == "event"]
    assert [m.badge for m in withdrawal] == ["A 1", "B 2"] and {m.dash for m in withdrawal} == {"solid", "dash"}
    for figure in (
        control_overlay_figure(comparison, marks),
        deal_value_overlay_figure(comparison, marks),
        proposals_overlay_figure(comparison, marks),
    ):
        lines = [shape for shape in figure.layout.shapes if shape.type == "line" and shape.yref == "paper"]
        assert sorted(shape.x0 for shape in lines) == sorted(m.mark.step for m in marks)
        badges = [a.text for a in figure.layout.annotations if a.yref == "paper" and a.text.startswith("<b>")]
        assert sorted(badges) == sorted(f"<b>{m.badge}</b>" for m in marks)
    page = comparison_report(comparison)
    for m in marks:
        assert m.mark.label in page


def test_a_line_identical_to_another_is_drawn_apart_and_named() -> None:
    from sim.reports.comparison import proposals_overlay_figure
    from sim.reports.overlap import identical_note

    same = compare_scenarios(MARCH, MARCH)
    figure = proposals_overlay_figure(same)
    traces = {trace.meta: trace for trace in figure.data}
    for issue in ("assad role", "arms flow", "sanctions"):
        b = traces[f"B's proposal on {issue}"]
        assert b.mode == "lines+markers" and b.marker.symbol == "circle-open", issue
        assert b.name.endswith(f"(identical to A's proposal on {issue})"), b.name
    assert traces["A's proposal on assad role"].mode == "lines"  # the first of a kind is drawn as it is
    note = identical_note(figure)
    assert "B's proposal on assad role is identical to A's proposal on assad role" in note
    page = comparison_report(same)
    assert 'class="caption identical"' in page
    data = comparison_data(same)
    assert data["same_run"] is True and "The two runs are identical" in data["outcome"]


def test_lines_that_differ_are_left_alone(march_against_slow_return) -> None:
    from sim.reports.comparison import proposals_overlay_figure
    from sim.reports.overlap import identical_note, identical_pairs

    figure = proposals_overlay_figure(march_against_slow_return)
    assad = {trace.meta: trace for trace in figure.data if "assad role" in (trace.meta or "")}
    assert all(trace.mode == "lines" for trace in assad.values())
    assert all("assad role" not in trace.meta for pair in identical_pairs(figure) for trace in pair)
    assert "assad role" not in identical_note(figure)
    data = comparison_data(march_against_slow_return)
    assert data["same_run"] is False and "identical" not in data["outcome"]


def test_marks_and_identical_notes_escape_the_scenarios_text(tmp_path: Path) -> None:
    hostile = "<img src=x onerror=alert(1)>%{y}"
    path = tmp_path / "hostile.yaml"
    path.write_text(
        f"extends: {MARCH}\n"
        "actors:\n"
        f"  russia: {{name: '{hostile}'}}\n"
        "events:\n"
        f"  russia_withdraws: {{label: '{hostile} withdraws'}}\n",
        encoding="utf-8",
    )
    comparison = compare_scenarios(MARCH, path)
    page = comparison_report(comparison)
    assert "<img src=x" not in page and "%{y} withdraws" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;&#37;{y} withdraws" in page  # in the key under the overlaid figures
