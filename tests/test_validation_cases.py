"""The historical validation cases (docs/VALIDATION.md, scenarios/validation/): the criteria evaluator on small
hand-made tables, the expectations file against the committed text, and `validate-cases` end to end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sim.runs.statistics import wilson_interval
from sim.validation.cases import (
    MIN_MEDIAN_RUNS,
    Case,
    CaseResult,
    CasesError,
    Criterion,
    columns_named,
    evaluate,
    evaluate_case,
    load_expectations,
    single_runs_table,
)

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "scenarios" / "validation"
EXPECTATIONS = FOLDER / "expectations.yaml"
VALIDATION_MD = ROOT / "docs" / "VALIDATION.md"


def criterion(**fields) -> Criterion:
    return Criterion.model_validate({"id": "x", "text": "a criterion", **fields})


# ---------------------------------------------------------------------------- shares


def test_a_share_counts_the_runs_where_any_of_its_conditions_holds_with_its_wilson_interval() -> None:
    table = {"first": [None, 3, 6, 10, None]}  # no deal, before step 6, at 6, after, no deal: 4 of 5
    before = criterion(
        statistic="share",
        where={"any": [{"column": "first", "is_null": True}, {"column": "first", "at_least": 6}]},
        at_least=0.8,
    )
    measured = evaluate(before, table)
    assert (measured.count, measured.total, measured.value) == (4, 5, 0.8)
    assert measured.ci95 == wilson_interval(4, 5)
    assert measured.passed is True
    assert evaluate(before.model_copy(update={"at_least": 0.81}), table).passed is False


def test_a_test_on_a_null_value_is_false_and_all_needs_every_condition() -> None:
    table = {"collapsed": [None, 5, 11, 10, None, 0]}
    by_ten = criterion(statistic="share", where={"column": "collapsed", "at_most": 10}, at_least=0.5)
    assert evaluate(by_ten, table).count == 3  # 5, 10 and 0; the nulls are not "at most 10"
    both = criterion(
        statistic="share",
        where={"all": [{"column": "collapsed", "is_null": False}, {"column": "collapsed", "at_least": 5}]},
        at_least=0.5,
    )
    assert evaluate(both, table).count == 3  # 5, 11 and 10
    never = criterion(statistic="share", where={"column": "collapsed", "is_null": True}, at_least=0.5)
    assert evaluate(never, table).count == 2


def test_among_restricts_the_runs_a_share_counts() -> None:
    # In force at the end among the runs with a settlement: 2 of the 3 with one, not 2 of 4 nor 3 of 4.
    table = {"first": [1, None, 3, 4], "at_end": [True, False, False, True]}
    held = criterion(
        statistic="share",
        where={"column": "at_end", "equals": True},
        among={"column": "first", "is_null": False},
        at_least=0.66,
    )
    measured = evaluate(held, table)
    assert (measured.count, measured.total) == (2, 3)
    assert measured.value == pytest.approx(2 / 3)
    assert measured.passed is True
    assert evaluate(held.model_copy(update={"at_least": 0.67}), table).passed is False


def test_a_share_over_no_runs_has_no_estimate_and_fails() -> None:
    table = {"collapsed": [None, 20, 30], "by": [None, "ukraine", "russia"]}
    early = criterion(
        statistic="share",
        where={"column": "by", "one_of": ["separatists", "russia"]},
        among={"column": "collapsed", "at_most": 10},
        at_least=0.0,
    )
    measured = evaluate(early, table)
    assert measured.value is None and measured.total == 0
    assert measured.passed is False
    assert "no runs" in measured.measured_text()


def test_at_most_takes_the_threshold_itself_and_nothing_above() -> None:
    in_force = criterion(statistic="share", where={"column": "end", "equals": True}, at_most=0.3)
    assert evaluate(in_force, {"end": [True] * 3 + [False] * 7}).passed is True
    assert evaluate(in_force, {"end": [True] * 4 + [False] * 6}).passed is False


def test_equals_and_one_of_keep_booleans_numbers_and_text_apart() -> None:
    table = {
        "status": [0, 1, 2, 3, 1],
        "flag": [True, False, True, False, True],
        "by": ["russia", None, "ukraine", "x", "russia"],
    }

    def count(where: dict) -> int:
        return evaluate(criterion(statistic="share", where=where, scored=False), table).count

    assert count({"column": "status", "equals": 1}) == 2
    assert count({"column": "flag", "equals": 1}) == 0  # True is not the number 1
    assert count({"column": "status", "equals": True}) == 0
    assert count({"column": "flag", "equals": True}) == 3
    assert count({"column": "by", "one_of": ["separatists", "russia"]}) == 2
    assert count({"column": "by", "equals": "ukraine"}) == 1


# ---------------------------------------------------------------------------- medians


def test_a_median_is_taken_over_the_runs_with_a_value_only() -> None:
    values = [13, None, 14, 15, None, 16, 17, 18, 19, 20, 21, 22, None]  # ten values: median 17.5, nulls not zeros
    measured = evaluate(criterion(statistic="median", column="first", between=[13, 19]), {"first": values})
    assert measured.value == 17.5
    assert (measured.count, measured.total) == (10, 13)
    assert measured.passed is True


def test_between_includes_its_ends_and_nothing_outside() -> None:
    exactly_low = {"first": [13] * 10}
    just_below = {"first": [12] * 5 + [13] * 5}  # median 12.5
    window = criterion(statistic="median", column="first", between=[13, 19])
    assert evaluate(window, exactly_low).passed is True
    assert evaluate(window, just_below).passed is False
    assert evaluate(window, {"first": [19] * 10}).passed is True
    assert evaluate(window, {"first": [20] * 10}).passed is False


def test_a_median_of_fewer_than_ten_runs_fails_whatever_its_value() -> None:
    table = {"first": [16] * (MIN_MEDIAN_RUNS - 1) + [None] * 5}
    measured = evaluate(criterion(statistic="median", column="first", between=[13, 19]), table)
    assert measured.value is None and measured.passed is False
    assert evaluate(criterion(statistic="median", column="first", between=[13, 19]), {"first": [16] * 10}).passed


def test_among_restricts_the_runs_a_median_is_taken_over() -> None:
    # The median of x over the runs where y is set: 0.8, not the 0.1 of every run.
    table = {"x": [0.8] * 10 + [0.1] * 15, "y": [1] * 10 + [None] * 15}
    fry_forces = criterion(statistic="median", column="x", among={"column": "y", "is_null": False}, at_least=0.7)
    assert evaluate(fry_forces, table).value == pytest.approx(0.8)
    assert evaluate(fry_forces, table).passed is True
    assert evaluate(fry_forces.model_copy(update={"among": None}), table).passed is False


def test_at_least_and_at_most_on_a_median() -> None:
    table = {"v": [0.2] * 10}
    assert evaluate(criterion(statistic="median", column="v", at_most=0.2), table).passed is True
    assert evaluate(criterion(statistic="median", column="v", at_least=0.3), table).passed is False


# ---------------------------------------------------------------------------- a case


def test_a_case_passes_only_if_every_scored_criterion_does_and_reported_items_never_decide() -> None:
    case = Case.model_validate(
        {
            "id": "Z1",
            "name": "made up",
            "file": "none.yaml",
            "single_runs": {"first_seed": 1, "last_seed": 3},
            "criteria": [
                {
                    "id": "a",
                    "text": "deal",
                    "statistic": "share",
                    "where": {"column": "d", "equals": True},
                    "at_least": 0.5,
                },
                {
                    "id": "b",
                    "text": "who",
                    "statistic": "share",
                    "source": "single_runs",
                    "where": {"column": "by", "equals": "r"},
                    "at_least": 0.5,
                },
                {
                    "id": "r",
                    "text": "reported",
                    "statistic": "share",
                    "where": {"column": "d", "equals": False},
                    "scored": False,
                },
            ],
        }
    )
    ensemble = {"d": [True, True, False]}
    measurements = evaluate_case(case, ensemble, {"by": ["r", "r", None]})
    assert [m.verdict for m in measurements] == ["pass", "pass", "reported"]
    assert CaseResult(case, 3, 42, [1, 2, 3], measurements).passed
    failing = evaluate_case(case, ensemble, {"by": ["q", None, None]})
    assert [m.passed for m in failing] == [True, False, None]
    assert not CaseResult(case, 3, 42, [1, 2, 3], failing).passed
    assert CaseResult(case, 3, 42, [1, 2, 3], failing).failed_items == ["b"]
    # The reported item "fails" its (absent) threshold in every table; it still never decides the case.
    only_reported_off = evaluate_case(case, {"d": [True, True, True]}, {"by": ["r", "r", "r"]})
    assert only_reported_off[2].value == 0.0 and CaseResult(case, 3, 42, [1, 2, 3], only_reported_off).passed
    with pytest.raises(CasesError):
        evaluate_case(case, {"other": [1, 2]}, {"by": ["r"]})  # a column the runs table does not have


@pytest.mark.parametrize(
    "fields",
    [
        {"statistic": "share", "where": {"column": "a", "is_null": True}},  # no threshold
        {"statistic": "share", "where": {"column": "a", "is_null": True}, "at_least": 0.5, "at_most": 0.6},
        {"statistic": "share", "column": "a", "at_least": 0.5},  # a share needs where
        {"statistic": "median", "where": {"column": "a", "is_null": True}, "at_least": 0.5},
        {"statistic": "median", "column": "a", "between": [3, 1]},
        {"statistic": "median", "column": "a", "at_least": 0.5, "scored": False},
        {"statistic": "share", "where": {"column": "a", "is_null": True, "at_most": 3}, "at_least": 0.5},
        {"statistic": "share", "where": {"column": "a"}, "at_least": 0.5},
        {"statistic": "share", "where": {"column": "a", "is_null": True}, "at_least": "0.5"},
        {"statistic": "mean", "column": "a", "at_least": 0.5},
    ],
)
def test_a_malformed_criterion_is_refused(fields: dict) -> None:
    with pytest.raises(ValueError):
        criterion(**fields)


# ---------------------------------------------------------------------------- the expectations file


def _expectation_text(case_id: str) -> str:
    text = VALIDATION_MD.read_text(encoding="utf-8")
    start = text.index(f"**[{case_id}] expectation.**")
    return text[start : text.index("**Mechanisms tested.**", start)]


def test_the_expectations_file_restates_every_case_of_validation_md_with_its_thresholds() -> None:
    """Each criterion's columns, thresholds and condition values appear in its case's committed expectation."""
    loaded = load_expectations(EXPECTATIONS)
    record = VALIDATION_MD.read_text(encoding="utf-8")
    ids = [case.id for case in loaded.expectations.cases]
    assert ids == re.findall(r"^\| ([A-Z]\d) \|", record, flags=re.M)
    assert (loaded.expectations.runs, loaded.expectations.seed) == (100, 42)
    for case in loaded.expectations.cases:
        expected = _expectation_text(case.id)
        assert f"`scenarios/validation/{case.file}`" in record
        for item in case.criteria:
            if not item.scored:
                continue
            bounds = [b for b in (item.at_least, item.at_most) if b is not None] + list(item.between or [])
            shown = [f"{b:.0%}" if item.statistic == "share" else f"{b:g}" for b in bounds]
            shown += [f"{v:g}" for v in _condition_values(item.where) + _condition_values(item.among)]
            for text in shown:
                assert text in expected, f"{case.id} ({item.id}): {text} not in its expectation"
            for column in columns_named(item):
                written = re.sub(r"^agreement_(\w+)_broken_by$", r"agreements.\1.broken_by", column)
                assert written in expected, f"{case.id} ({item.id}): {written} not in its expectation"


def _condition_values(condition) -> list[float]:
    """The numbers a condition compares with (at_least, at_most), at any depth."""
    if condition is None:
        return []
    parts = getattr(condition, "any", None) or getattr(condition, "all", None)
    if parts:
        return [value for part in parts for value in _condition_values(part)]
    return [v for v in (condition.at_least, condition.at_most) if v is not None]


def test_every_case_file_follows_the_scenario_conventions() -> None:
    from sim.scenario.catalog import first_sentence
    from sim.scenario.loader import load_scenario

    jsonschema = pytest.importorskip("jsonschema")
    schema = jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "scenario.schema.json").read_text("utf-8")))
    for case in load_expectations(EXPECTATIONS).expectations.cases:
        path = FOLDER / case.file
        assert path.read_text(encoding="utf-8").splitlines()[0] == (
            "# yaml-language-server: $schema=../../docs/scenario.schema.json"
        )
        scenario = load_scenario(path).scenario
        assert first_sentence(scenario.description).endswith("?")
        assert scenario.sources and scenario.uncertain
        document = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
        assert not [error.message for error in schema.iter_errors(document)], case.file


def _write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "expectations.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _invoke(*args: str):
    from cli import app

    return CliRunner().invoke(app, ["validate-cases", *args])


def test_malformed_expectations_exit_2_with_the_file_and_the_field(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text((FOLDER / "cuba_1962.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    good = {
        "id": "a",
        "text": "t",
        "statistic": "share",
        "where": {"column": "deal", "is_null": False},
        "at_least": 0.5,
    }
    case = {"id": "C9", "name": "n", "file": "case.yaml", "criteria": [good]}
    bad_threshold = _write(tmp_path, {"cases": [{**case, "criteria": [{**good, "at_least": "half"}]}]})
    result = _invoke("--expectations", str(bad_threshold), "--runs", "2")
    assert result.exit_code == 2 and "expectations.yaml" in result.output and "at_least" in result.output
    unknown_key = _write(tmp_path, {"cases": [{**case, "criterion": [good]}]})
    assert _invoke("--expectations", str(unknown_key)).exit_code == 2
    missing_file = _write(tmp_path, {"cases": [{**case, "file": "nowhere.yaml"}]})
    result = _invoke("--expectations", str(missing_file))
    assert result.exit_code == 2 and "nowhere.yaml" in result.output
    (tmp_path / "stray.yaml").write_text("name: x\n", encoding="utf-8")
    stray = _write(tmp_path, {"cases": [case]})
    result = _invoke("--expectations", str(stray))
    assert result.exit_code == 2 and "stray.yaml" in result.output
    (tmp_path / "stray.yaml").unlink()
    (tmp_path / "expectations.yaml").write_text("cases: [unclosed\n", encoding="utf-8")
    assert _invoke("--expectations", str(tmp_path / "expectations.yaml")).exit_code == 2
    unknown_column = _write(
        tmp_path, {"cases": [{**case, "criteria": [{**good, "where": {"column": "nope", "is_null": True}}]}]}
    )
    result = _invoke("--expectations", str(unknown_column), "--runs", "2")
    assert result.exit_code == 2 and "nope" in result.output


def test_the_single_runs_are_the_runs_run_makes_with_those_seeds() -> None:
    """Who broke an agreement, read from one batch, equals summary.json's `broken_by` of `run --seed s`."""
    import sim

    loaded = sim.load_scenario(ROOT / "scenarios" / "ceasefire_2016_03.yaml")
    seeds = [42, 7]
    table = single_runs_table(loaded.scenario, seeds)
    for row, seed in enumerate(seeds):
        agreements = sim.run_scenario(loaded, seed=seed).summary["agreements"]
        for agreement, fate in agreements.items():
            assert table[f"agreement_{agreement}_first_step"][row] == fate["step"]
            assert table[f"agreement_{agreement}_collapsed_step"][row] == fate["collapsed_step"]
            assert table[f"agreement_{agreement}_broken_by"][row] == fate["broken_by"]
            assert table[f"agreement_{agreement}_at_end"][row] == fate["held"]
    assert "iran" in table["agreement_settlement_broken_by"]  # seed 42: Iran breaks it in week 21


def test_validate_cases_runs_every_case_and_prints_every_criterion() -> None:
    done = subprocess.run(
        [sys.executable, "cli.py", "validate-cases", "--runs", "10", "--seed", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr  # a report: failing cases do not fail the command
    loaded = load_expectations(EXPECTATIONS)
    assert "10 runs each, seed 3" in done.stdout
    for case in loaded.expectations.cases:
        assert f"{case.id} {case.name}" in done.stdout
        assert re.search(rf"^{case.id} {re.escape(case.name)}: (pass|fail)", done.stdout, flags=re.M)
        for item in case.criteria:
            assert item.text in done.stdout
    rows = [line for line in done.stdout.splitlines() if re.search(r"│ (pass|fail|reported)\s+│$", line)]
    assert len(rows) == sum(len(case.criteria) for case in loaded.expectations.cases)
