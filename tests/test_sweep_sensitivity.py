"""Grid sweeps (sim/sweep.py) and global sensitivity (sim/sensitivity.py), in the library and end to end."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import cli
from sim.reports.figures import esc
from sim.runs.batch import run_seeds
from sim.runs.sensitivity import (
    SensitivityError,
    analyse,
    output_names,
    plan_sensitivity,
    unit_to_values,
)
from sim.runs.sweep import SweepError, parse_set, plan_sweep
from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.schema import Distribution

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"
SEPTEMBER = ROOT / "scenarios" / "stalemate_2016_09.yaml"


def invoke(*args: str):  # returns a click Result
    return CliRunner().invoke(cli.app, list(args))


# ---------------------------------------------------------------------------- sweep: parsing and checks


@pytest.mark.parametrize(
    ("text", "path", "values"),
    [
        ("actors.us.war_cost=0.01:0.03:3", "actors.us.war_cost", [0.01, 0.02, 0.03]),
        ("battlefield.kappa=0.3:0.1:2", "battlefield.kappa", [0.3, 0.1]),
        ("battlefield.kappa = 0.2:0.9:1", "battlefield.kappa", [0.2]),
        ("actors.russia.position.assad_role=0,0.25,.5", "actors.russia.position.assad_role", [0.0, 0.25, 0.5]),
        ("battlefield.credibility_tau_days=1e1:3e1:3", "battlefield.credibility_tau_days", [10.0, 20.0, 30.0]),
    ],
)
def test_set_specifications_parse(text: str, path: str, values: list[float]) -> None:
    got_path, got_values = parse_set(text)
    assert got_path == path
    assert got_values == pytest.approx(values)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("actors.us.war_cost", "expected PATH=START:STOP:N"),
        ("actors.us.war_cost=0.01:0.03", "neither START:STOP:N nor a list"),
        ("actors.us.war_cost=0.01:0.03:0", "N must be at least 1"),
        ("actors.us.war_cost=low:high:3", "neither START:STOP:N nor a list"),
        ("actors.us.war_cost=0.1,0.1", "the values repeat"),
    ],
)
def test_bad_set_specifications_are_refused(text: str, words: str) -> None:
    with pytest.raises(SweepError, match=words):
        parse_set(text)


@pytest.mark.parametrize(
    ("sets", "words"),
    [
        (["actors.us.nonsense=0:1:3"], "not a numeric field"),
        (["actors.us.name=0:1:3"], "not a numeric field"),
        (["actors.us.patience=0.9:1.2:4"], "outside the field's range"),
        (["actors.us.war_cost=-0.1:0.1:3"], "outside the field's range"),
        (["battlefield.kappa=0.1:0.2:2", "battlefield.kappa=0.3:0.4:2"], "set twice"),
        ([], "at least one --set"),
    ],
)
def test_sweeps_over_fields_that_cannot_take_the_values_are_refused(sets: list[str], words: str) -> None:
    with pytest.raises(SweepError, match=words):
        plan_sweep(load_scenario(MARCH), sets, runs_per_point=2)


def test_a_refused_sweep_exits_2_with_one_message(tmp_path: Path) -> None:
    result = invoke("sweep", str(MARCH), "--set", "actors.us.patience=0.5:1.5:3", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "error:" in result.output and "actors.us.patience" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_every_grid_point_runs_the_same_seeds() -> None:
    plan = plan_sweep(load_scenario(MARCH), ["battlefield.kappa=0.1:0.3:3", "actors.us.demand=0.1,0.3"], 4, seed=8)
    batch, point_index = plan.batch()
    assert len(plan.points) == 6 and batch.runs == 24
    seeds = run_seeds(8, 4)
    for point in range(6):
        rows = point_index == point
        np.testing.assert_array_equal(batch.seeds[rows], seeds)
        for path, value in zip(plan.grid, plan.points[point], strict=True):
            assert np.all(batch.inputs[path][rows] == value)


# ---------------------------------------------------------------------------- sweep: end to end


def test_sweep_end_to_end_over_two_fields(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    result = invoke(
        "sweep",
        str(SEPTEMBER),
        "--set",
        "actors.us.demand=0:0.4:3",
        "--set",
        "actors.russia.demand=0.1,0.4",
        "--runs",
        "6",
        "--seed",
        "3",
        "--out",
        str(folder),
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((folder / "summary.json").read_text())
    table = pq.read_table(folder / "sweep.parquet")
    assert summary["kind"] == "sweep"
    assert summary["grid"] == {"actors.us.demand": [0.0, 0.2, 0.4], "actors.russia.demand": [0.1, 0.4]}
    assert len(summary["points"]) == 6 and table.num_rows == 36
    # Each point's numbers are what its rows in the Parquet file say.
    points = table.column("point").to_numpy()
    deal = np.array(table.column("deal").to_pylist())
    for index, point in enumerate(summary["points"]):
        rows = points == index
        assert point["runs"] == 6 and point["deals"] == int(deal[rows].sum())
        assert point["deal_probability"] == pytest.approx(deal[rows].mean())
        for path, value in point["values"].items():
            assert np.all(table.column(path).to_numpy()[rows] == value)
        assert point["deal_ci95"][0] <= point["deal_probability"] <= point["deal_ci95"][1]
    # Asking for less raises the chance of a deal (a US demand of 0 against 0.4, Russia's held).
    by_values = {tuple(p["values"].values()): p["deal_probability"] for p in summary["points"]}
    assert by_values[(0.0, 0.1)] >= by_values[(0.4, 0.1)]
    page = (folder / "report.html").read_text()
    assert 'id="deal-probability"' in page and 'id="line-1"' not in page  # heatmaps for two fields
    assert summary["outcome"] in " ".join(result.output.split())


def test_sweep_of_one_field_draws_lines(tmp_path: Path) -> None:
    folder = tmp_path / "line"
    result = invoke(
        "sweep", str(MARCH), "--set", "actors.us.war_cost=0.005:0.03:3", "--runs", "3", "--out", str(folder)
    )
    assert result.exit_code == 0, result.output
    page = (folder / "report.html").read_text()
    assert "Outcomes against United States: war cost" in page and 'id="line-1"' in page
    assert "Outcomes against actors.us.war_cost" not in page  # the scenario's names, not the field path
    assert 'id="deal-probability"' not in page
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["labels"] == {"actors.us.war_cost": "United States: war cost"}
    assert "United States: war cost = " in summary["outcome"] or "every one of the 3" in summary["outcome"]
    assert "same 3 seeds" in summary["seeds"]["in_words"] and esc(summary["seeds"]["in_words"]) in page


# ---------------------------------------------------------------------------- sensitivity


def test_unit_cube_maps_through_each_distribution() -> None:
    unit = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(unit_to_values(Distribution(dist="uniform", low=2.0, high=4.0), unit), [2.0, 3.0, 4.0])
    normal = unit_to_values(Distribution(dist="normal", mean=1.0, sd=0.5), unit)
    assert np.all(np.isfinite(normal)) and normal[1] == pytest.approx(1.0)
    assert normal[2] == pytest.approx(1.0 + 0.5 * 3.0902, abs=1e-3)  # the 99.9% quantile, not infinity
    choice = unit_to_values(Distribution(dist="choice", values=[1.0, 2.0, 3.0]), np.array([0.1, 0.5, 0.99, 1.0]))
    assert choice.tolist() == [1.0, 2.0, 3.0, 3.0]


def test_sobol_indices_find_the_input_that_drives_a_known_output() -> None:
    """Plumbing check with a known function: y = x_2 (unit scale) must put all variance on input 2."""
    plan = plan_sensitivity(load_scenario(MARCH), "sobol", 256, seed=1)
    names = plan.problem["names"]
    driver = names[2]
    y = plan.unit[:, 2] + 0.05 * plan.unit[:, 0]
    indices = analyse(plan, {"y": y})["y"]
    assert indices[driver]["ST"] > 0.9 and indices[driver]["S1"] > 0.9
    assert indices[names[0]]["ST"] < 0.05
    for path in names[3:]:
        assert abs(indices[path]["ST"]) < 0.02 and abs(indices[path]["S1"]) < 0.05
    assert indices[driver]["ST_conf"] is not None and indices[driver]["ST_conf"] >= 0


def test_morris_ranks_a_linear_driver_first() -> None:
    plan = plan_sensitivity(load_scenario(MARCH), "morris", 20, seed=2)
    names = plan.problem["names"]
    y = 3.0 * plan.unit[:, 1] + 1.0 * plan.unit[:, 4]
    indices = analyse(plan, {"y": y})["y"]
    assert indices[names[1]]["mu_star"] == pytest.approx(3.0, rel=1e-6)
    assert indices[names[4]]["mu_star"] == pytest.approx(1.0, rel=1e-6)
    assert indices[names[0]]["mu_star"] == pytest.approx(0.0, abs=1e-9)
    assert indices[names[1]]["sigma"] == pytest.approx(0.0, abs=1e-9)  # linear: every effect the same


def test_an_output_that_never_varies_gets_zero_indices() -> None:
    plan = plan_sensitivity(load_scenario(MARCH), "sobol", 8, seed=1)
    indices = analyse(plan, {"flat": np.ones(plan.runs)})["flat"]
    assert all(value == 0.0 for entry in indices.values() for value in entry.values())


def test_sensitivity_design_sizes_follow_salib() -> None:
    loaded = load_scenario(MARCH)
    dimensions = len(loaded.scenario.uncertain) + 1  # the uncertain fields and the seed
    assert plan_sensitivity(loaded, "sobol", 16, seed=1).runs == 16 * (dimensions + 2)
    assert plan_sensitivity(loaded, "morris", 5, seed=1).runs == 5 * (dimensions + 1)


def test_sobol_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "sobol"
    result = invoke(
        "sensitivity", str(SEPTEMBER), "--method", "sobol", "--samples", "8", "--seed", "4", "--out", str(folder)
    )
    assert result.exit_code == 0, result.output
    loaded = load_scenario(SEPTEMBER)
    paths = list(loaded.scenario.uncertain)
    summary = json.loads((folder / "summary.json").read_text())
    table = pq.read_table(folder / "sensitivity.parquet")
    assert summary["method"] == "sobol" and summary["evaluations"] == 8 * (len(paths) + 3) == table.num_rows
    assert set(summary["outputs"]) == set(output_names(loaded.scenario))
    for output, entries in summary["indices"].items():
        assert list(entries) == [*paths, "seed"], output  # the seed is one more input: chance
        for values in entries.values():
            assert set(values) == {"S1", "S1_conf", "ST", "ST_conf"}
    # The runs do not share one seed: one per A and per B row of the design, 2 N in all, as the summary says.
    seeds = set(table.column("seed").to_pylist())
    assert len(seeds) == 16 == summary["seeds"]["distinct"] and 4 not in seeds
    assert summary["labels"]["seed"] == "chance (the run's seed)"
    for path in paths:
        values = table.column(path).to_numpy()
        spec = loaded.scenario.uncertain[path]
        if spec.dist == "uniform":
            assert values.min() >= spec.low and values.max() <= spec.high
    page = (folder / "report.html").read_text()
    assert "Tornado" in page and "first-order" in page
    assert esc(summary["seeds"]["in_words"]) in page
    assert "16 different seeds" in page and "chance (the run&#39;s seed)" in page
    assert "unit.seed" in table.column_names


def test_morris_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "morris"
    result = invoke("sensitivity", str(MARCH), "--method", "morris", "--samples", "4", "--out", str(folder))
    assert result.exit_code == 0, result.output
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["method"] == "morris"
    entry = next(iter(next(iter(summary["indices"].values())).values()))
    assert set(entry) == {"mu", "mu_star", "mu_star_conf", "sigma"}


def test_sensitivity_needs_an_uncertain_block(tmp_path: Path) -> None:
    scenario = tmp_path / "plain.yaml"
    text = (ROOT / "scenarios" / "ceasefire_2016_03.yaml").read_text(encoding="utf-8")
    scenario.write_text(text[: text.index("\nuncertain:")] + "\n", encoding="utf-8")
    with pytest.raises(SensitivityError, match="no uncertain"):
        plan_sensitivity(load_scenario(scenario), "sobol", 8)
    result = invoke("sensitivity", str(scenario), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "no uncertain: block" in result.output


def test_unknown_method_is_refused(tmp_path: Path) -> None:
    result = invoke("sensitivity", str(MARCH), "--method", "fast", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "choose sobol or morris" in result.output


def test_a_normal_distribution_that_leaves_the_field_range_is_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "wide.yaml"
    scenario.write_text(
        textwrap.dedent(f"""\
        extends: {MARCH}
        uncertain:
          actors.iran.war_cost: {{dist: normal, mean: 0.006, sd: 0.02}}
        """),
        encoding="utf-8",
    )
    # refused when the file is read (mean -+ 5 sd), before any design is drawn
    with pytest.raises(ScenarioError, match="which the field refuses"):
        plan_sensitivity(load_scenario(scenario), "morris", 4)


# ---------------------------------------------------------------------------- labels in the scenario's names


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("actors.russia.demand", "Russia: demand"),
        ("actors.us.war_cost", "United States: war cost"),
        ("actors.russia.forces.air", "Russia: air force"),
        ("actors.russia.position.assad_role", "Russia: position on assad role"),
        ("actors.us.salience.arms_flow", "United States: salience of arms flow"),
        ("battlefield.kappa", "battlefield: speed of the front (kappa)"),
        ("battlefield.arms_burn", "battlefield: arms burn"),
        ("battlefield.government_victory.assad_role", "government victory: assad role"),
        ("issues.sanctions.status_quo", "sanctions: status quo"),
        ("seed", "chance (the run's seed)"),
        ("no.such.path", "no.such.path"),
    ],
)
def test_fields_are_labelled_with_the_scenarios_own_names(path: str, label: str) -> None:
    from sim.runs.labels import field_label

    assert field_label(load_scenario(MARCH).scenario, path) == label


def test_two_fields_that_would_read_the_same_keep_their_paths() -> None:
    from sim.runs.labels import field_labels

    scenario = load_scenario(MARCH).scenario.model_copy(deep=True)
    scenario.actors["iran"].name = scenario.actors["russia"].name
    labels = field_labels(scenario, ["actors.russia.demand", "actors.iran.demand", "actors.us.demand"])
    assert labels == {
        "actors.russia.demand": "Russia: demand [actors.russia.demand]",
        "actors.iran.demand": "Russia: demand [actors.iran.demand]",
        "actors.us.demand": "United States: demand",
    }


def test_the_sensitivity_sentence_names_inputs_and_chance_in_words() -> None:
    from sim.runs.sensitivity import sensitivity_sentence

    entry = {"S1": 0.1, "S1_conf": 0.1, "ST": 0.0, "ST_conf": 0.0}
    indices = {
        "deal": {"actors.russia.demand": {**entry, "ST": 0.6}, "seed": {**entry, "ST": 0.3}},
        "time_to_deal": {"actors.russia.demand": {**entry, "ST": 0.2}, "seed": {**entry, "ST": 0.7}},
    }
    labels = {"actors.russia.demand": "Russia: demand", "seed": "chance (the run's seed)"}
    assert sensitivity_sentence(indices, "sobol", labels) == (
        "Whether a deal is reached depends most on Russia: demand (S_T 0.60; chance 0.30); "
        "when it comes depends most on chance (the run's seed) (S_T 0.70)."
    )


# ---------------------------------------------------------------------------- intervals on sweep cells


def test_every_sweep_point_carries_intervals_that_match_its_runs() -> None:
    from sim.runs.statistics import wilson_interval
    from sim.runs.sweep import point_summaries

    plan = plan_sweep(load_scenario(MARCH), ["battlefield.kappa=0.1,0.3"], 5, seed=1)
    point_index = np.repeat([0, 1], 5)
    outcomes = {
        "deal": np.array([1, 1, 0, 1, 0, 1, 1, 1, 1, 1], dtype=bool),
        "deal_step": np.array([4, 6, -1, 8, -1, 3, 3, 5, 7, 7]),
        "ceasefire_collapsed_step": np.array([-1, 2, 3, -1, -1, -1, -1, -1, -1, 9]),
        "control_end": np.linspace(0.4, 0.6, 10),
        **{f"deal_{k}": np.full(10, 0.5) for k in load_scenario(MARCH).scenario.issues},
    }
    first, second = point_summaries(plan, outcomes, point_index)
    assert first["collapses"] == 2 and first["collapse_ci95"] == pytest.approx(wilson_interval(2, 5), abs=1e-6)
    assert second["collapses"] == 1 and second["collapse_ci95"] == pytest.approx(wilson_interval(1, 5), abs=1e-6)
    steps = np.array([4.0, 6.0, 8.0])  # the first point's deals
    half = 1.959963984540054 * steps.std(ddof=1) / np.sqrt(3)
    assert first["time_to_deal_ci95"] == pytest.approx([6.0 - half, 6.0 + half], abs=1e-6)
    assert first["deal_ci95"] == pytest.approx(wilson_interval(3, 5), abs=1e-6)


def test_heatmap_cells_and_the_table_show_each_interval() -> None:
    from sim.reports.sweep import sweep_heatmap_figure, sweep_table

    grids = {"actors.us.demand": [0.1, 0.2], "actors.russia.demand": [0.05]}
    points = [
        {
            "values": {"actors.us.demand": value, "actors.russia.demand": 0.05},
            "runs": 50,
            "deals": deals,
            "deal_probability": deals / 50,
            "deal_ci95": [low, high],
            "time_to_deal_mean": 7.5,
            "time_to_deal_ci95": [6.25, 8.75],
            "collapses": 10,
            "collapse_probability": 0.2,
            "collapse_ci95": [0.11, 0.33],
            "control_end_mean": 0.5,
            "deal_position_mean": {"assad_role": 0.3},
        }
        for value, deals, low, high in ((0.1, 40, 0.67, 0.89), (0.2, 25, 0.37, 0.63))
    ]
    labels = {"actors.us.demand": "United States: demand", "actors.russia.demand": "Russia: demand"}
    figure = sweep_heatmap_figure(points, list(grids), grids, "deal_probability", labels)
    cells = figure.data[0].text
    assert "80%" in cells[0][0] and "67% to 89%" in cells[0][0]
    assert "50%" in cells[0][1] and "37% to 63%" in cells[0][1]
    assert figure.layout.xaxis.title.text == "United States: demand"
    timing = sweep_heatmap_figure(points, list(grids), grids, "time_to_deal_mean", labels).data[0].text
    assert "6.2 to 8.8" in timing[0][0]
    table = sweep_table(points, list(grids), ["assad_role"], labels)
    assert "80.0% (67.0% to 89.0%)" in table and "20.0% (11.0% to 33.0%)" in table and "7.5 (6.2 to 8.8)" in table
    assert "United States: demand<br><code>actors.us.demand</code>" in table


# ---------------------------------------------------------------------------- the sensitivity page explains itself


def test_a_negative_first_order_index_is_explained_with_its_interval() -> None:
    from sim.reports.sensitivity import negative_first_order_note, sensitivity_report, tornado_figure

    indices = {
        "deal": {
            "actors.us.demand": {"S1": -0.12, "S1_conf": 0.2, "ST": 0.1, "ST_conf": 0.1},
            "actors.russia.demand": {"S1": 0.5, "S1_conf": 0.1, "ST": 0.6, "ST_conf": 0.1},
            "seed": {"S1": 0.2, "S1_conf": 0.1, "ST": 0.3, "ST_conf": 0.1},
        }
    }
    outputs = {"deal": "deal reached (1) or not (0)"}
    labels = {"actors.us.demand": "United States: demand", "actors.russia.demand": "Russia: demand", "seed": "chance"}
    note = negative_first_order_note(indices, outputs, labels)
    assert "estimation noise around zero" in note and "-0.320 to 0.080" in note and "United States: demand" in note
    positive = {"deal": {k: {**v, "S1": abs(v["S1"])} for k, v in indices["deal"].items()}}
    assert negative_first_order_note(positive, outputs, labels) == ""
    figure = tornado_figure(indices, outputs, "sobol", labels)
    assert "United States: demand" in figure.data[0].y and "actors.us.demand" not in figure.data[0].y
    assert figure.data[0].marker.color[list(figure.data[0].y).index("chance")] != figure.data[0].marker.color[0]
    summary = {
        "method": "sobol",
        "samples": 4,
        "evaluations": 24,
        "seed": 5,
        "scenario": {"file": "x.yaml", "sha256": "0" * 64},
        "outcome": "o",
        "outputs": outputs,
        "constant_outputs": [],
        "indices": indices,
        "labels": labels,
        "uncertain": {},
    }
    page = sensitivity_report(summary, load_scenario(MARCH).scenario)
    assert 'id="negative-s1"' in page and "estimation noise around zero" in page
    # A summary that does not say how its seeds were chosen (written before the seed was an input) is
    # reported as what it was: one seed for every run.
    assert "All runs share one seed (5)" in page


def test_two_issues_whose_deal_stays_at_zero_are_both_visible_in_the_line_figure() -> None:
    from sim.reports.overlap import identical_note
    from sim.reports.sweep import sweep_line_figure

    points = [
        {
            "values": {"battlefield.kappa": value},
            "deal_probability": 0.5,
            "deal_ci95": [0.3, 0.7],
            "collapse_probability": 0.1,
            "collapse_ci95": [0.02, 0.3],
            "deal_position_mean": {"assad_role": 0.2 + value, "arms_flow": 0.0, "sanctions": 0.0},
        }
        for value in (0.1, 0.2, 0.3)
    ]
    figure = sweep_line_figure(points, "battlefield.kappa", ["assad_role", "arms_flow", "sanctions"], "kappa")
    lines = {trace.meta: trace for trace in figure.data if trace.meta}
    assert lines["the deal on sanctions"].marker.symbol == "circle-open"
    assert lines["the deal on sanctions"].name.endswith("(identical to the deal on arms flow)")
    assert lines["the deal on arms flow"].marker.symbol != "circle-open"
    assert lines["the deal on assad role"].marker.symbol != "circle-open"
    assert "the deal on sanctions is identical to the deal on arms flow" in identical_note(figure)
    # both probabilities carry their 95% band: four band edges besides the two lines
    assert len([trace for trace in figure.data if trace.line.width == 0]) == 4
