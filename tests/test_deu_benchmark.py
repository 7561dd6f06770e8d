"""The DEU III benchmark: the solution concepts against their closed forms, the Council's weights, the
bootstrap, and `python cli.py benchmark deu` end to end (three files, the right columns, under a minute)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.outputs import MANIFEST
from sim.reports.figures import esc
from sim.scenario import importers
from sim.validation import council, deu
from sim.validation.solutions import (
    agreement_interval,
    cluster_bootstrap_means,
    kalai_smorodinsky_solution,
    nash_solution,
    percentile_interval,
    reach_from,
    weighted_mean,
    weighted_median,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "deu3" / "deu3.tsv"
SHARED = ROOT.parent / "shared" / "data" / "deu3" / "deu3.tsv"
COLUMNS = ["isnr", "method", "prediction", "outcome", "half"]
UNIT = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)
WEIGHT = st.floats(0.01, 100.0, allow_nan=False, allow_infinity=False)


def row(*values: float) -> np.ndarray:
    return np.array([values], dtype=float)


# --------------------------------------------------------------------------- compromise and median


@given(st.lists(st.tuples(UNIT, WEIGHT), min_size=1, max_size=30))
def test_the_compromise_model_is_the_weighted_mean(actors: list[tuple[float, float]]) -> None:
    positions, weights = (np.array(column)[None, :] for column in zip(*actors, strict=True))
    assert weighted_mean(positions, weights)[0] == pytest.approx(np.average(positions[0], weights=weights[0]))


def test_the_compromise_model_leaves_out_absent_and_weightless_actors() -> None:
    positions = row(0.2, np.nan, 0.9, 0.5)
    weights = row(1.0, 5.0, 0.0, 3.0)
    assert weighted_mean(positions, weights)[0] == pytest.approx((0.2 * 1 + 0.5 * 3) / 4)
    assert np.isnan(weighted_mean(row(np.nan, 0.3), row(1.0, 0.0))[0])


@pytest.mark.parametrize(
    ("positions", "weights", "median"),
    [
        ((0.0, 0.5, 1.0), (1, 1, 1), 0.5),
        ((1.0, 0.0, 0.5), (1, 1, 1), 0.5),  # order does not matter
        ((0.0, 0.5, 1.0), (3, 1, 1), 0.0),  # a majority of the weight at 0
        ((0.0, 0.5, 1.0), (1, 1, 3), 1.0),
        ((0.0, 1.0), (1, 1), 0.5),  # exactly half at or below 0: every point to 1 is a median, the midpoint
        ((0.2, 0.4, 0.6, 0.8), (1, 1, 1, 1), 0.5),
        ((0.2, 0.4, 0.6, 0.8), (1, 2, 1, 1), 0.4),
        ((0.3, np.nan, 0.9), (1, 10, 2), 0.9),  # an actor without a position does not count
        ((0.3, 0.6, 0.9), (1, 0, 1), 0.6),  # weight 0 does not count: 0.3 and 0.9 split, midpoint
    ],
)
def test_weighted_median_cases(positions: tuple, weights: tuple, median: float) -> None:
    assert weighted_median(row(*positions), row(*weights))[0] == pytest.approx(median)


@given(st.lists(st.tuples(UNIT, WEIGHT), min_size=1, max_size=25))
def test_the_weighted_median_minimises_the_weighted_distance(actors: list[tuple[float, float]]) -> None:
    """The defining property: no point is closer, in weighted absolute distance, to the positions."""
    positions, weights = (np.array(column) for column in zip(*actors, strict=True))
    median = weighted_median(positions[None, :], weights[None, :])[0]

    def cost(x: float) -> float:
        return float(np.sum(weights * np.abs(positions - x)))

    assert all(cost(median) <= cost(x) + 1e-9 * (1 + cost(x)) for x in [*positions, 0.0, 1.0])


# --------------------------------------------------------------------------- bargaining solutions


def test_nash_with_symmetric_actors_gives_the_midpoint() -> None:
    ideal = row(0.2, 0.8)
    reach = reach_from(ideal, np.array([np.nan]))  # worst outcomes: 0.8 and 0.8
    x, zone = nash_solution(ideal, reach, np.ones_like(ideal), np.ones_like(ideal, dtype=bool))
    assert zone[0] and x[0] == pytest.approx(0.5, abs=1e-9)
    # Symmetric about 0.5 from a reference point at 0.5 shifted out of the way: equal reach, equal weights.
    ideal = row(0.1, 0.9)
    x, zone = nash_solution(ideal, row(0.6, 0.6), row(1, 1), row(1, 1) > 0)
    assert zone[0] and x[0] == pytest.approx(0.5, abs=1e-9)


@settings(max_examples=200)
@given(UNIT, UNIT, UNIT, UNIT, WEIGHT, WEIGHT)
def test_two_party_nash_has_its_closed_form(a: float, b: float, da: float, db: float, wa: float, wb: float) -> None:
    """Between ideals a < b the gains g_a = d_a - (x - a) and g_b = d_b - (b - x) add up to a constant S,
    so the asymmetric Nash product g_a^wa g_b^wb peaks at g_a = wa S / (wa + wb), clipped to [a, b] and to
    the zone of agreement (Nash 1950; Kalai 1977)."""
    a, b = min(a, b), max(a, b)
    ideal, reach, weight = row(a, b), row(da, db), row(wa, wb)
    mask = np.ones_like(ideal, dtype=bool)
    low, high = agreement_interval(ideal, reach, mask)
    x, zone = nash_solution(ideal, reach, weight, mask)
    if high[0] - low[0] <= 1e-6:
        return
    assert zone[0]
    total = da + db - (b - a)
    closed = a + da - wa * total / (wa + wb)
    expected = np.clip(closed, max(a, low[0]), min(b, high[0]))
    assert x[0] == pytest.approx(expected, abs=1e-7)


def test_no_zone_of_agreement_means_no_solution() -> None:
    """Two actors on either side of the reference point: any move hurts one of them."""
    ideal = row(0.2, 0.8)
    reach = reach_from(ideal, np.array([0.5]))
    x, zone = nash_solution(ideal, reach, row(1, 1), row(1, 1) > 0)
    assert not zone[0] and np.isnan(x[0])
    x, zone = kalai_smorodinsky_solution(ideal, reach, row(1, 1) > 0)
    assert not zone[0] and np.isnan(x[0])


def test_kalai_smorodinsky_on_a_known_case() -> None:
    """Ideals 0.3 and 0.9, status quo 0: the zone is [0, 0.6]; actor 1 can get its ideal (gain 0.3 at most),
    actor 2 at most 0.6 of gain at x = 0.6. Equal shares: (0.6 - x) / 0.3 = x / 0.6, so x = 0.4 (Nash: 0.3)."""
    ideal = row(0.3, 0.9)
    reach = reach_from(ideal, np.array([0.0]))
    mask = row(1, 1) > 0
    x, zone = kalai_smorodinsky_solution(ideal, reach, mask)
    assert zone[0] and x[0] == pytest.approx(0.4, abs=1e-9)
    nash, _ = nash_solution(ideal, reach, row(1, 1), mask)
    assert nash[0] == pytest.approx(0.3, abs=1e-9)
    symmetric, _ = kalai_smorodinsky_solution(row(0.2, 0.8), reach_from(row(0.2, 0.8), np.array([np.nan])), mask)
    assert symmetric[0] == pytest.approx(0.5, abs=1e-9)


def test_an_actor_outside_the_bargainers_does_not_constrain() -> None:
    ideal = row(0.6, 0.9, 0.0)
    reach = reach_from(ideal, np.array([0.3]))
    _, zone_with = nash_solution(ideal, reach, row(1, 1, 1), row(1, 1, 1) > 0)
    without, zone_without = nash_solution(ideal, reach, row(1, 1, 1), row(1, 1, 0) > 0)
    assert not zone_with[0] and zone_without[0]
    assert without[0] == pytest.approx(0.6, abs=1e-9)  # equal gains 0.9 - x = x - 0.3


# --------------------------------------------------------------------------- the model's own solver


def small_issues(position: np.ndarray, capability: np.ndarray, reference: float) -> deu.DeuIssues:
    """One issue with the given actors (all consenting, salience 1)."""
    n = position.shape[1]
    return deu.DeuIssues(
        isnr=["x"],
        proposal=["p"],
        voting_rule=["unanimity"],
        procedure=["CNS"],
        council=["test"],
        position=position,
        salience=np.ones((1, n)),
        capability=capability,
        consent=np.ones((1, n), dtype=bool),
        reference=np.array([reference]),
        outcome=np.array([0.5]),
    )


@pytest.mark.parametrize(("ideal", "weights", "reference"), [((0.4, 0.8), (1, 1), 0.0), ((0.3, 0.9), (2, 1), 0.1)])
def test_the_model_solver_finds_the_asymmetric_nash_solution(ideal: tuple, weights: tuple, reference: float) -> None:
    """Risk-neutral, no cost of delay: the engine's bargaining is the asymmetric Nash solution from the
    reference point with capability weights, so it agrees with the closed-form search."""
    issues = small_issues(row(*ideal), row(*weights), reference)
    prediction, deal = deu.model_predictions(issues, np.array([1.0]), np.array([0.0]))
    classic = deu.classic_predictions(issues)["nash_asymmetric"]
    assert deal[0, 0]
    assert prediction[0, 0] == pytest.approx(classic[0], abs=1e-4)


def test_without_a_zone_the_model_predicts_the_reference_point_and_a_cost_of_delay_opens_one() -> None:
    issues = small_issues(row(0.2, 0.8), row(1, 1), 0.5)
    prediction, deal = deu.model_predictions(issues, np.array([1.0, 1.0]), np.array([0.0, 0.05]))
    assert not deal[0, 0] and prediction[0, 0] == 0.5
    assert deal[1, 0] and prediction[1, 0] == pytest.approx(0.5, abs=1e-3)  # symmetric: split in the middle


# --------------------------------------------------------------------------- Council weights and consent


@pytest.mark.parametrize(
    ("number", "year"), [("d98134", 1998), ("d160280", 2016), ("a04163", 2004), ("d95341", 1995), ("n0062B", 2000)]
)
def test_proposal_year_reads_the_com_number(number: str, year: int) -> None:
    assert council.proposal_year(number) == year


def test_the_council_weights_add_up_to_the_treaty_totals() -> None:
    assert sum(council.VOTES_1995.values()) == 87
    nice = council.VOTES_NICE
    assert sum(nice[s] for s in council.RULES["nice25"].members) == 321
    assert sum(nice[s] for s in council.RULES["nice27"].members) == 345
    assert sum(nice.values()) == 352
    assert sum(council.POPULATION_2016.values()) == pytest.approx(100.0, abs=0.05)
    for rule in council.RULES.values():
        assert sum(rule.weights.values()) == pytest.approx(1.0)
    assert council.RULES["nice27"].threshold == pytest.approx(255 / 345)


@pytest.mark.parametrize(
    ("year", "states", "rule"),
    [
        (1999, {"de", "fr"}, "eu15"),
        (2003, {"de", "pl"}, "nice25"),  # a state that joined in 2004 took part: the decision came after
        (2004, {"de"}, "nice25"),
        (2005, {"bu"}, "nice27"),
        (2008, {"de"}, "nice27"),
        (2012, {"cr"}, "nice28"),
        (2016, set(), "lisbon28"),
    ],
)
def test_the_council_rule_follows_the_date_and_the_states_taking_part(year: int, states: set, rule: str) -> None:
    assert council.council_rule(year, states) is council.RULES[rule]


def test_a_qualifying_coalition_holds_a_qualified_majority_and_no_more_than_it_needs() -> None:
    rule = council.RULES["eu15"]
    actors = council.ACTORS
    rng = np.random.default_rng(3)
    position = np.where([a in rule.members for a in actors], rng.uniform(0, 1, len(actors)), np.nan)
    weight = np.array([rule.weights.get(a, 0.0) for a in actors])
    member = np.array([a in rule.members for a in actors])
    coalition = council.qualifying_coalition(position, weight, member, rule.threshold, rule.min_members)
    assert weight[coalition].sum() >= rule.threshold - 1e-12
    assert not coalition[~member].any()
    # Built outward from the median: dropping the member farthest from it loses the majority.
    centre = weighted_median(np.where(member, position, np.nan)[None], weight[None])[0]
    farthest = max(np.flatnonzero(coalition), key=lambda i: abs(position[i] - centre))
    assert weight[coalition].sum() - weight[farthest] < rule.threshold


def test_unanimity_needs_every_state_with_a_position_and_co_decision_the_parliament() -> None:
    frame, _ = deu.read_deu(DATA)
    issues = deu.deu_issues(frame)
    taking_part = np.isfinite(issues.position)
    states = np.array([a in council.STATES for a in council.ACTORS])
    ep = council.ACTORS.index("ep")
    for i, rule in enumerate(issues.voting_rule):
        if rule == "unanimity":
            assert np.array_equal(issues.consent[i] & states, taking_part[i] & states)
        assert issues.consent[i, ep] == (issues.procedure[i] == "COD" and taking_part[i, ep])
        assert issues.capability[i, ep] == (0.0 if issues.procedure[i] == "CNS" else issues.capability[i].max())


# --------------------------------------------------------------------------- bootstrap


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=2, max_size=60), st.integers(0, 2**32 - 1))
def test_the_bootstrap_interval_contains_the_mean(values: list[float], seed: int) -> None:
    data = np.array(values)[:, None]
    clusters = np.arange(len(values)) // 2
    replicates = cluster_bootstrap_means(data, clusters, 2000, np.random.default_rng(seed))
    low, high = percentile_interval(replicates)[:, 0]
    assert low - 1e-9 <= data.mean() <= high + 1e-9


def test_the_bootstrap_resamples_whole_clusters() -> None:
    """Two clusters of constant values: every replicate's mean is a mix of the two constants weighted by how
    often each cluster was drawn, so only three values can occur."""
    values = np.array([[1.0], [1.0], [1.0], [5.0]])
    replicates = cluster_bootstrap_means(values, np.array([0, 0, 0, 1]), 500, np.random.default_rng(1))
    assert set(np.round(replicates[:, 0], 9)) <= {1.0, 5.0, 2.0}


# --------------------------------------------------------------------------- the shipped data


def test_the_shipped_table_is_listed_in_the_data_readme_with_its_hash_and_licence() -> None:
    digest = hashlib.sha256(DATA.read_bytes()).hexdigest()
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert f"`deu3/deu3.tsv` | `{digest}`" in readme
    assert "CC BY 4.0" in readme and "10.34810/data53" in readme


@pytest.mark.skipif(not SHARED.is_file(), reason="the shared data folder is not next to the project")
def test_the_shipped_table_is_a_byte_for_byte_copy_of_the_shared_data() -> None:
    assert DATA.read_bytes() == SHARED.read_bytes()


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def benchmark_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess, float]:
    folder = tmp_path_factory.mktemp("deu") / "out"
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "cli.py", "benchmark", "deu", "--out", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return folder, process, time.monotonic() - started


@pytest.mark.slow
def test_the_benchmark_writes_three_files_in_under_a_minute(benchmark_run: tuple) -> None:
    folder, process, seconds = benchmark_run
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr
    assert {p.name for p in folder.iterdir()} == {"report.html", "summary.json", "predictions.csv", MANIFEST}
    assert seconds < 60, f"the benchmark took {seconds:.0f} s"
    assert "compromise model" in process.stdout and "report:" in process.stdout


@pytest.mark.slow
def test_predictions_have_one_row_per_issue_and_method(benchmark_run: tuple) -> None:
    folder, _, _ = benchmark_run
    table = pd.read_csv(folder / "predictions.csv")
    assert list(table.columns) == COLUMNS
    assert set(table["method"]) == set(deu.METHODS)
    assert set(table["half"]) == {"train", "test"}
    assert len(table) == 353 * len(deu.METHODS)
    assert table.groupby("isnr")["method"].nunique().eq(len(deu.METHODS)).all()
    assert table.groupby("isnr")["half"].nunique().eq(1).all()  # an issue is in one half for every method
    assert table["prediction"].between(0, 100).all() and table["outcome"].between(0, 100).all()


@pytest.mark.slow
def test_the_summary_scores_every_method_on_the_test_half_with_intervals(benchmark_run: tuple) -> None:
    folder, _, _ = benchmark_run
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    table = pd.read_csv(folder / "predictions.csv")
    test = table[table["half"] == "test"]
    assert summary["seed"] == deu.SPLIT_SEED
    assert summary["data"]["sha256"] == hashlib.sha256(DATA.read_bytes()).hexdigest()
    assert summary["split"]["test"] == test["isnr"].nunique()
    for method in deu.METHODS:
        rows = test[test["method"] == method]
        mae = float((rows["prediction"] - rows["outcome"]).abs().mean())
        scores = summary["methods"][method]["test"]
        assert scores["mae"] == pytest.approx(mae, abs=1e-3)
        low, high = scores["ci95"]
        assert low <= scores["mae"] <= high
        difference = scores["difference_vs_compromise"]
        assert difference["ci95"][0] <= difference["mean"] <= difference["ci95"][1]
    assert summary["methods"]["compromise"]["test"]["difference_vs_compromise"]["mean"] == 0
    assert set(summary["by_voting_rule"]) == {"qmv", "unanimity"}
    assert sum(block["issues"] for block in summary["by_voting_rule"].values()) == summary["split"]["test"]
    chosen = summary["model"]["chosen"]
    assert chosen["risk_exponent"] in deu.MODEL_GRID["risk_exponent"]
    assert chosen["war_cost"] in deu.MODEL_GRID["war_cost"]
    best = min(summary["model"]["train_mae_by_setting"], key=lambda s: s["train_mae"])
    assert best["train_mae"] == summary["model"]["train_mae"]  # chosen on the training half alone


@pytest.mark.slow
def test_the_imported_scenarios_start_from_the_benchmarks_tuned_parameters(benchmark_run: tuple) -> None:
    folder, _, _ = benchmark_run
    chosen = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["model"]["chosen"]
    tuned = (chosen["risk_exponent"], chosen["war_cost"])
    assert tuned == (importers.BENCHMARK_RISK_EXPONENT, importers.BENCHMARK_WAR_COST)


@pytest.mark.slow
def test_the_report_is_one_page_with_the_table_and_every_method(benchmark_run: tuple) -> None:
    folder, _, _ = benchmark_run
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Plotly" in page
    for label in deu.METHOD_LABELS.values():
        assert esc(label) in page
    assert "Errors on the test half" in page and "MAE, test" in page


def test_a_table_without_the_deu_columns_exits_2_with_one_paragraph(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("isnr\tout\nx\t50\n", encoding="utf-8")
    process = subprocess.run(
        [sys.executable, "cli.py", "benchmark", "deu", "--data", str(bad), "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert "lacks the column" in process.stderr and str(bad) in " ".join(process.stderr.split())
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.browser
def test_the_report_draws_in_chromium_offline(benchmark_run: tuple) -> None:
    """Opened as a person would (headless Chromium, the local file): no error, nothing fetched from the
    network, every figure drawn, the outcome sentence in the header."""
    from scripts.browser import Chromium, find_chromium

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (CI installs Debian's chromium in .ci/run)")
    folder, _, _ = benchmark_run
    with Chromium(chromium) as browser:
        page = browser.open(folder / "report.html", width=1280, height=900)
        state = page.wait_for("document.documentElement.getAttribute('data-rendered')", timeout=60)
        assert state == "3" and page.errors == [], (state, page.errors)
        assert [url for url in page.requests if not url.startswith(("file:", "data:", "blob:", "about:"))] == []
        drawn = page.evaluate("document.querySelectorAll('div.plot.js-plotly-plot .main-svg').length")
        assert drawn >= 3
        header = page.evaluate("document.querySelector('header').innerText")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert " ".join(summary["outcome"].split()) in " ".join(header.split())
