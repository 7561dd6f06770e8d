"""Hostile input, round 2 (issue 15, parts 1, 2, 3, 5 and 7).

- Resources: every count a command is given (runs, grid points, design runs, workers) and the size of
  one run are checked in exact integer arithmetic against a documented limit before anything is
  allocated; a refusal exits 2 naming the figure and the limit, in under a second and 200 MB.
- Ids: identifiers of one documented form; none may make a generated column that another id or a
  fixed column already makes. The reports draw at the actor limit.
- Strict scalars: `true` is not a number, "0.5" is not a number, 5 is not text; YAML 1.1 number forms
  are refused with a hint.
- `extends:` errors of every kind are refusals; `list` shows a bad file as invalid and goes on.
- `uncertain:` and sweeps: samples finite, inside the field's range, whole where the field is whole.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from typer.testing import CliRunner

import cli
from sim.model.results import run_scenario
from sim.scenario.limits import MAX_GRID_POINTS, MAX_RUN_SIZE, MAX_RUNS, MAX_WORKERS, LimitError, check_sweep
from sim.scenario.loader import MAX_ACTORS, MAX_ISSUES, ScenarioError, load_scenario
from sim.scenario.names import MAX_ID_CHARS, collisions, generated_columns
from tests.strategies import dump

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"
START = dt.date(2016, 2, 27)
Doc = dict[str, Any]


def base(actors: int = 2, issues: int = 2, steps: int = 4) -> Doc:
    """A small valid scenario (no battlefield) with `actors` actors and `issues` issues."""
    issue_ids = ["assad_role", "arms_flow"] + [f"extra_issue_{k}" for k in range(issues - 2)]
    document: Doc = {
        "name": "Round two",
        "seed": 3,
        "time": {"start": START, "step": "week", "steps": steps},
        "issues": {k: {"low": f"no {k}", "high": f"all {k}"} for k in issue_ids},
        "actors": {},
    }
    for index in range(actors):
        actor_id = ["us", "russia"][index] if index < 2 else f"extra_{index}"
        document["actors"][actor_id] = {
            "name": f"Actor {index}",
            "consent_required": index < 2,
            "position": {k: round((index * 0.37 + j * 0.11) % 1.0, 3) for j, k in enumerate(issue_ids)},
            "salience": {k: 1.0 for k in issue_ids},
            "demand": 0.1,
            "min_demand": 0.0,
        }
    return document


def write(folder: Path, name: str, document: Doc | str) -> Path:
    path = folder / name
    path.write_text(document if isinstance(document, str) else dump(document), encoding="utf-8")
    return path


def refused(path: Path) -> ScenarioError:
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert time.perf_counter() - started < 1.0
    return caught.value


def command(*args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run `python cli.py ARGS`; return the result, its seconds and its peak resident memory in MB
    (sampled every 10 ms with psutil, the process and its children)."""
    env = {**os.environ, "COLUMNS": "200"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            rss = watched.memory_info().rss + sum(c.memory_info().rss for c in watched.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        if time.perf_counter() - started > timeout:
            process.kill()
            break
        time.sleep(0.01)
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), elapsed, peak / 1e6


# ---------------------------------------------------------------------------------------------
# 1. Resources: refused before anything is allocated


SIXTY_FIVE_K = [
    "actors.us.war_cost=0.005:0.03:65536",
    "battlefield.kappa=0.1:0.2:65536",
    "actors.us.demand=0:0.1:65536",
    "actors.russia.demand=0:0.1:65536",
]

RESOURCE_CASES = {
    "ensemble_runs": (["ensemble", "--runs", "1000000000"], "1,000,000,000", f"{MAX_RUNS:,}"),
    "ensemble_runs_one_over": (["ensemble", "--runs", str(MAX_RUNS + 1)], f"{MAX_RUNS + 1:,}", f"{MAX_RUNS:,}"),
    "sweep_range": (
        ["sweep", "--set", "actors.us.war_cost=0.005:0.03:1000000000"],
        "1,000,000,000",
        f"{MAX_GRID_POINTS:,}",
    ),
    # 65,536^4 = 2^64: numpy's int64 product wraps to 0 and passed the old check
    "sweep_points_overflow": (
        ["sweep", *[arg for text in SIXTY_FIVE_K for arg in ("--set", text)]],
        f"{65536**4:,}",
        f"{MAX_GRID_POINTS:,}",
    ),
    "sweep_runs": (
        ["sweep", "--set", "actors.us.war_cost=0.005:0.03:3", "--runs", "1000000000"],
        "1,000,000,000",
        f"{MAX_RUNS:,}",
    ),
    "sweep_points_times_runs": (
        ["sweep", "--set", "actors.us.war_cost=0.005:0.03:1000", "--runs", "1001"],
        "1,001,000",
        f"{MAX_RUNS:,}",
    ),
    "sensitivity_samples": (["sensitivity", "--samples", "1000000000"], "1,000,000,000", f"{MAX_RUNS:,}"),
    # 10 uncertain fields and the seed: N (D + 2) = 100,000 x 13, Morris N (D + 1) = 100,000 x 12
    "sensitivity_design": (["sensitivity", "--samples", "100000"], "1,300,000", f"{MAX_RUNS:,}"),
    "morris_design": (
        ["sensitivity", "--method", "morris", "--samples", "100000"],
        "1,200,000",
        f"{MAX_RUNS:,}",
    ),
    "workers": (["ensemble", "--runs", "10", "--workers", "100000"], "100,000", f"{MAX_WORKERS:,}"),
}


@pytest.mark.parametrize("case", sorted(RESOURCE_CASES))
def test_a_resource_over_its_limit_is_refused_fast_and_small(case: str, tmp_path: Path) -> None:
    args, figure, limit = RESOURCE_CASES[case]
    result, seconds, megabytes = command(*args, "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert message.startswith("error: ") and figure in message and limit in message, message
    assert "Traceback" not in result.stderr
    assert seconds < 1.5 and megabytes < 200, (seconds, megabytes)  # < 1 s of our own; interpreter start-up
    assert not (tmp_path / "out").exists()


def test_the_counts_are_exact_python_integers() -> None:
    with pytest.raises(LimitError, match="18,446,744,073,709,551,616"):
        check_sweep(SIXTY_FIVE_K, 1)
    assert check_sweep(["a=0:1:1000", "b=1,2,3"], 100) == 300_000
    with pytest.raises(LimitError):
        check_sweep(["a=0:1:1000", "b=1,2,3"], 334)


def test_the_run_size_limit_is_checked_at_load_time(tmp_path: Path) -> None:
    # steps x actors x (actors + issues): 40 x 50 x 70 = 140,000 loads; 1,040 days x 50 x 70 does not
    inside = base(actors=MAX_ACTORS, issues=MAX_ISSUES, steps=40)
    load_scenario(write(tmp_path, "inside.yaml", inside))
    outside = copy.deepcopy(inside)
    outside["time"].update(step="day", steps=1040)
    error = refused(write(tmp_path, "outside.yaml", outside))
    assert error.field_path == "time.steps"
    assert f"{1040 * 50 * 70:,}" in error.message and f"{MAX_RUN_SIZE:,}" in error.message


def test_chunks_shrink_with_many_actors() -> None:
    from sim.runs.batch import MAX_CHUNK_RUNS, chunk_size

    assert chunk_size(100_000, 5) == MAX_CHUNK_RUNS  # the shipped scenarios' chunks are unchanged
    assert chunk_size(100_000, 10) == MAX_CHUNK_RUNS
    assert chunk_size(100_000, MAX_ACTORS) * MAX_ACTORS**2 <= MAX_CHUNK_RUNS * 100


# ---------------------------------------------------------------------------------------------
# 2 and 3. Ids: one documented form, and no generated column made twice


BAD_IDS = {
    "empty": "",
    "space": "united states",
    "dot": "u.s",
    "leading_digit": "1st",
    "leading_underscore": "_us",
    "dash": "us-army",
    "formula": "=cmd",
    "unicode": "russië",
    "too_long": "a" * (MAX_ID_CHARS + 1),
}


@pytest.mark.parametrize("section", ["actors", "issues", "events", "agreements"])
@pytest.mark.parametrize("kind", sorted(BAD_IDS))
def test_an_id_of_the_wrong_form_is_refused_where_it_is_written(section: str, kind: str, tmp_path: Path) -> None:
    document = base()
    bad = BAD_IDS[kind]
    if section == "actors":
        document["actors"][bad] = document["actors"].pop("russia")
    elif section == "issues":
        document["issues"][bad] = document["issues"].pop("arms_flow")
        for actor in document["actors"].values():
            actor["position"][bad] = actor["position"].pop("arms_flow")
            actor["salience"][bad] = actor["salience"].pop("arms_flow")
    elif section == "events":
        document["events"] = {bad: {"at": 1, "actor": "us", "action": "enable_option", "option": "escalate"}}
    else:
        document["agreements"] = {bad: {"issues": ["assad_role", "arms_flow"]}}
    path = write(tmp_path, "bad.yaml", document)
    error = refused(path)
    assert error.field_path.startswith(section)
    assert error.line is not None and error.column is not None
    assert "letter followed by letters, digits and underscores" in error.hint
    assert error.file == str(path)


def test_an_uncertain_path_must_be_made_of_ids(tmp_path: Path) -> None:
    document = base()
    document["uncertain"] = {"actors..war_cost": {"dist": "uniform", "low": 0.0, "high": 0.1}}
    error = refused(write(tmp_path, "bad.yaml", document))
    assert error.field_path == "uncertain.actors..war_cost" and "empty" in error.message


def test_the_longest_id_loads(tmp_path: Path) -> None:
    document = base()
    long_id = "a" * MAX_ID_CHARS
    document["actors"][long_id] = document["actors"].pop("russia")
    assert long_id in load_scenario(write(tmp_path, "long.yaml", document)).scenario.actors


def rename_issue(document: Doc, old: str, new: str) -> None:
    document["issues"][new] = document["issues"].pop(old)
    for actor in document["actors"].values():
        actor["position"][new] = actor["position"].pop(old)
        actor["salience"][new] = actor["salience"].pop(old)


def test_an_issue_named_step_is_refused_with_a_hint(tmp_path: Path) -> None:
    document = base()
    rename_issue(document, "arms_flow", "step")
    error = refused(write(tmp_path, "step.yaml", document))
    assert error.field_path == "issues.step"
    assert "deal_step" in error.message and "rename it" in error.hint


def test_two_ids_that_make_the_same_column_are_refused(tmp_path: Path) -> None:
    # agreement `proposal` makes the time series column proposal_signed; so does issue `signed`
    assert collisions(["us"], ["signed"], ["proposal"]) == (
        "time series",
        "proposal_signed",
        "agreement 'proposal'",
        "issue 'signed'",
    )
    document = base()
    rename_issue(document, "arms_flow", "signed")
    document["agreements"] = {"proposal": {"issues": ["assad_role", "signed"]}}
    error = refused(write(tmp_path, "clash.yaml", document))
    assert error.field_path == "agreements.proposal" and "proposal_signed" in error.message
    assert "issue 'signed'" in error.message


def test_ids_that_only_look_alike_load(tmp_path: Path) -> None:
    document = base()
    document["agreements"] = {"deal": {"issues": ["assad_role"]}, "deal_at": {"issues": ["arms_flow"]}}
    document["actors"]["coercive"] = copy.deepcopy(document["actors"]["russia"])
    document["actors"]["coercive"]["consent_required"] = False
    loaded = load_scenario(write(tmp_path, "fine.yaml", document))
    assert set(loaded.scenario.agreements) == {"deal", "deal_at"}


def test_the_generated_names_are_the_real_columns(tmp_path: Path) -> None:
    """names.generated_columns lists exactly the columns the outputs have (so the collision check cannot
    drift from them): the time series of a run, the outcome columns of the runs files and the bands."""
    import pyarrow as pa

    from sim.runs.batch import agreement_ids, band_series, outcome_columns, runs_schema

    loaded = load_scenario(MARCH)
    scenario = loaded.scenario
    listed: dict[str, set[str]] = {}
    for table, column, _ in generated_columns(list(scenario.actors), list(scenario.issues), list(scenario.agreements)):
        listed.setdefault(table, set()).add(column)
    result = run_scenario(loaded)
    # <id>_breach_probability is a column of the model's step table, dropped once the events are derived
    dropped = {f"{g}_breach_probability" for g in agreement_ids(scenario)}
    assert set(result.timeseries.columns) == listed["time series"] - dropped
    schema = runs_schema(scenario, [], [("point", pa.int64())])
    assert set(schema.names) == listed["runs file"]
    assert {name for name, _ in outcome_columns(scenario)} <= listed["runs file"]
    assert set(band_series(scenario)) == listed["fan-chart series"]


# ---------------------------------------------------------------------------------------------
# 2. Every command works at the actor limit


@pytest.fixture(scope="module")
def at_the_limit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("limit")
    document = base(actors=MAX_ACTORS, issues=3, steps=6)
    document["uncertain"] = {"actors.us.war_cost": {"dist": "uniform", "low": 0.0, "high": 0.02}}
    other = copy.deepcopy(document)
    other["actors"]["us"]["demand"] = 0.05
    return write(folder, "a.yaml", document), write(folder, "b.yaml", other)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli.app, list(args), catch_exceptions=False)


def test_ensemble_report_draws_at_the_actor_limit(at_the_limit: tuple[Path, Path], tmp_path: Path) -> None:
    result = invoke("ensemble", str(at_the_limit[0]), "--runs", "8", "--workers", "1", "--out", str(tmp_path / "e"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "e" / "report.html").stat().st_size > 0


def test_compare_draws_at_the_actor_limit(at_the_limit: tuple[Path, Path], tmp_path: Path) -> None:
    result = invoke("compare", *map(str, at_the_limit), "--out", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c" / "report.html").stat().st_size > 0


def test_sensitivity_report_draws_at_the_issue_limit(tmp_path: Path) -> None:
    document = base(actors=2, issues=MAX_ISSUES, steps=3)
    document["uncertain"] = {"actors.us.war_cost": {"dist": "uniform", "low": 0.0, "high": 0.02}}
    path = write(tmp_path, "issues.yaml", document)
    result = invoke("sensitivity", str(path), "--samples", "4", "--workers", "1", "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------------------------------------
# 5. Strict scalars


def scenario_text_with(tmp_path: Path, field: str, written: str) -> Path:
    """The small scenario with `actors.us.<field>` written as `written` (raw YAML)."""
    document = base()
    document["actors"]["us"][field] = "PLACEHOLDER"
    return write(tmp_path, "s.yaml", dump(document).replace("PLACEHOLDER", written))


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("1:30", "YAML 1.1"),  # sexagesimal: 90
        ("017", "YAML 1.1"),  # octal: 15
        ("0x10", "YAML 1.1"),  # hex: 16
        ("0b11", "YAML 1.1"),  # binary: 3
        ("1_0", "YAML 1.1"),  # underscores: 10
        ("1_000.5", "YAML 1.1"),
        ("1:30.5", "YAML 1.1"),
        ("true", "true and false are not numbers"),
        ('"12"', "valid integer"),
        ("12.0", "valid integer"),
    ],
)
def test_a_number_written_another_way_is_refused(written: str, words: str, tmp_path: Path) -> None:
    error = refused(scenario_text_with(tmp_path, "horizon", written))
    assert error.field_path == "actors.us.horizon" and error.line is not None
    assert words in error.message, error.render()
    if words == "YAML 1.1":
        assert "plain decimal number" in error.hint


@pytest.mark.parametrize("written", ["true", '"0.5"', "'0.5'"])
def test_a_boolean_or_quoted_number_is_not_a_number(written: str, tmp_path: Path) -> None:
    error = refused(scenario_text_with(tmp_path, "war_cost", written))
    assert error.field_path == "actors.us.war_cost"


@pytest.mark.parametrize("written", ["5", "2016-01-01", "1.5"])
def test_a_number_or_date_is_not_text(written: str, tmp_path: Path) -> None:
    document = base()
    document["actors"]["us"]["name"] = "PLACEHOLDER"
    error = refused(write(tmp_path, "s.yaml", dump(document).replace("PLACEHOLDER", written)))
    assert error.field_path == "actors.us.name"


@pytest.mark.parametrize(("written", "value"), [("1e-3", 0.001), ("1.5E-2", 0.015), ("0.01", 0.01), ("0", 0.0)])
def test_plain_numbers_and_exponents_are_read(written: str, value: float, tmp_path: Path) -> None:
    loaded = load_scenario(scenario_text_with(tmp_path, "war_cost", written))
    assert loaded.scenario.actors["us"].war_cost == value


def test_a_key_that_looks_like_a_number_stays_its_text(tmp_path: Path) -> None:
    document = base()
    document["issues"]["assad_role"]["levels"] = {"PLACEHOLDER": 0.5}
    loaded = load_scenario(write(tmp_path, "s.yaml", dump(document).replace("PLACEHOLDER", "017")))
    assert loaded.scenario.issues["assad_role"].levels == {"017": 0.5}


# ---------------------------------------------------------------------------------------------
# 7. extends: of every kind; list goes on past a bad file


def extends_file(folder: Path, parent: str, name: str = "child.yaml") -> Path:
    return write(folder, name, f"extends: {parent}\nname: child\n")


def test_extends_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "loop_a.yaml").symlink_to(tmp_path / "loop_b.yaml")
    (tmp_path / "loop_b.yaml").symlink_to(tmp_path / "loop_a.yaml")
    error = refused(extends_file(tmp_path, "loop_a.yaml"))
    assert error.field_path == "extends" and error.line == 1
    assert "loop" in error.hint


def test_extends_a_very_long_name_is_refused(tmp_path: Path) -> None:
    error = refused(extends_file(tmp_path, "x" * 5000 + ".yaml"))
    assert error.field_path == "extends" and len(error.render()) < 600


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads any file")
def test_extends_an_unreadable_parent_is_refused(tmp_path: Path) -> None:
    parent = write(tmp_path, "parent.yaml", dump(base()))
    parent.chmod(0)
    try:
        error = refused(extends_file(tmp_path, "parent.yaml"))
    finally:
        parent.chmod(0o644)
    assert "Permission denied" in error.message


def test_extends_a_parent_in_a_folder_without_permission_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    write(locked, "parent.yaml", dump(base()))
    locked.chmod(0)
    try:
        if os.access(locked / "parent.yaml", os.R_OK):
            pytest.skip("this user reads any file (root)")
        error = refused(extends_file(tmp_path, "locked/parent.yaml"))
    finally:
        locked.chmod(0o755)
    assert error.field_path == "extends"


@pytest.mark.parametrize("kind", ["loop", "long", "missing"])
def test_list_shows_a_bad_file_as_invalid_and_goes_on(kind: str, tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", dump(base()))
    if kind == "loop":
        (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
        extends_file(tmp_path, "loop.yaml")
    elif kind == "long":
        extends_file(tmp_path, "y" * 5000)
    else:
        extends_file(tmp_path, "nowhere.yaml")
    result, seconds, _ = command("list", "--folder", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "good.yaml" in result.stdout and "child.yaml" in result.stdout and "invalid" in result.stdout
    assert "Traceback" not in result.stderr and seconds < 5


# ---------------------------------------------------------------------------------------------
# 7. uncertain: and sweeps: samples the field would accept


def with_uncertain(tmp_path: Path, uncertain: Doc, **us: Any) -> Path:
    document = base()
    document["actors"]["us"].update(us)
    document["uncertain"] = uncertain
    return write(tmp_path, "u.yaml", document)


@pytest.mark.parametrize(
    ("uncertain", "words"),
    [
        ({"actors.us.war_cost": {"dist": "uniform", "low": -1e308, "high": 1e308}}, "finite"),
        ({"actors.us.war_cost": {"dist": "uniform", "low": 0.0, "high": 1e308}}, "reaches"),
        ({"actors.us.war_cost": {"dist": "truncnormal", "mean": 0.5, "sd": 1e-320, "low": 0.0, "high": 1.0}}, "finite"),
        ({"actors.us.war_cost": {"dist": "normal", "mean": 0.01, "sd": 0.005}}, "reaches"),
        ({"actors.us.horizon": {"dist": "uniform", "low": 6, "high": 18}}, "whole numbers"),
        ({"actors.us.horizon": {"dist": "choice", "values": [6, 12.5]}}, "whole numbers"),
        ({"actors.us.horizon": {"dist": "choice", "values": [6, 600]}}, "reaches"),
        ({"actors.us.min_demand": {"dist": "uniform", "low": 0.0, "high": 0.2}}, "min_demand can reach"),
        (
            {
                "actors.us.min_demand": {"dist": "uniform", "low": 0.0, "high": 0.1},
                "actors.us.demand": {"dist": "uniform", "low": 0.05, "high": 0.3},
            },
            "min_demand can reach",
        ),
    ],
)
def test_an_uncertain_distribution_the_field_would_refuse_is_refused_at_load_time(
    uncertain: Doc, words: str, tmp_path: Path
) -> None:
    error = refused(with_uncertain(tmp_path, uncertain))
    assert error.field_path.startswith("uncertain.") and error.line is not None
    assert words in error.message, error.render()


@pytest.mark.parametrize(
    "uncertain",
    [
        {"actors.us.horizon": {"dist": "choice", "values": [6, 12, 18]}},
        {"actors.us.war_cost": {"dist": "normal", "mean": 0.5, "sd": 0.05}},
        {
            "actors.us.min_demand": {"dist": "uniform", "low": 0.0, "high": 0.1},
            "actors.us.demand": {"dist": "uniform", "low": 0.1, "high": 0.3},
        },
    ],
)
def test_an_uncertain_distribution_inside_the_field_loads(uncertain: Doc, tmp_path: Path) -> None:
    load_scenario(with_uncertain(tmp_path, uncertain))


def test_validate_checks_the_uncertain_block(tmp_path: Path) -> None:
    path = with_uncertain(tmp_path, {"actors.us.war_cost": {"dist": "uniform", "low": -1e308, "high": 1e308}})
    result = invoke("validate", str(path))
    assert result.exit_code == 2 and "invalid:" in result.output


@pytest.mark.parametrize(
    ("sets", "words"),
    [
        (["actors.us.horizon=1:2:3"], "whole number"),
        (["actors.us.horizon=6,12.5"], "whole number"),
        (["actors.us.war_cost=0.1:0.1000000000001:3"], "repeat"),
        (["actors.us.war_cost=0.1,0.1000000000000001"], "repeat"),
    ],
)
def test_a_sweep_of_values_a_file_would_refuse_is_refused(sets: list[str], words: str, tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", base())
    args = [arg for text in sets for arg in ("--set", text)]
    result = invoke("sweep", str(path), *args, "--runs", "1", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split())
    assert not (tmp_path / "o").exists()


def test_a_sweep_of_whole_values_of_a_whole_field_runs(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", base())
    result = invoke(
        "sweep",
        str(path),
        "--set",
        "actors.us.horizon=6:18:3",
        "--runs",
        "2",
        "--workers",
        "1",
        "--out",
        str(tmp_path / "o"),
    )
    assert result.exit_code == 0, result.output
