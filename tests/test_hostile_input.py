"""Hostile and broken scenario files: each refused fast, with file, line, column and field, never a crash.

Every case is written to a temporary folder (the shipped scenarios are read, never
edited). In-process cases check the `ScenarioError` itself; the CLI cases check
exit codes, the one-paragraph message and `--debug`. A property test mutates the
shipped scenarios thousands of ways: each result is refused with `ScenarioError`
or loads into a model that runs without NaN, infinities or exceptions.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from sim.api import timeseries_csv
from sim.model.model import NegotiationModel
from sim.model.results import build_result
from sim.scenario.loader import (
    MAX_ACTORS,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_ISSUES,
    MAX_NODES,
    ScenarioError,
    dotted,
    load_scenario,
    printable,
)
from tests.strategies import (
    SHIPPED,
    dump,
    get_at,
    mangled_texts,
    mutated_documents,
    numeric_frame_problems,
    paths_of,
    set_at,
    shipped_document,
)

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"
SECONDS = 1.0  # every refusal must take less than this

Doc = dict[str, Any]


def march() -> Doc:
    return shipped_document(MARCH)


def position_of(text: str, needle: str, after: str | tuple[str, ...] = ()) -> tuple[int, int]:
    """1-based (line, column) where `needle` starts in `text`, after each of `after` in turn."""
    start = 0
    for anchor in (after,) if isinstance(after, str) else after:
        start = text.index(anchor, start)
    index = text.index(needle, start)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def refuse(path: Path) -> tuple[ScenarioError, float]:
    """Load `path`, expecting a refusal; returns the error and the seconds it took."""
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    elapsed = time.perf_counter() - started
    return caught.value, elapsed


def check_message(error: ScenarioError, file: Path, line: int | None, column: int | None, field: str) -> None:
    """The message names file, line, column and field, in one paragraph."""
    message = error.render()
    assert "\n" not in message and "\r" not in message
    assert not any(ord(char) < 32 or ord(char) == 127 for char in message), message
    assert error.file == str(file)
    assert error.field_path == field, message
    if line is not None:
        assert (error.line, error.column) == (line, column), message
        assert message.startswith(f"{file}:{line}:{column}: "), message
    if field:
        assert f"field '{printable(field)}'" in message


# ---------------------------------------------------------------------------------------------
# Cases. Each writes a file into `folder` and returns (path, line, column, field path).
# `None` for line means the case checks only that a line and column are given.

Case = Callable[[Path], tuple[Path, int | None, int | None, str]]


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def scenario_with(
    folder: Path, name: str, change: Callable[[Doc], None], needle: str, field: str, after: str | tuple[str, ...] = ()
) -> tuple[Path, int, int, str]:
    """March 2016 with `change` applied; the error must point at `needle` (after `after`)."""
    document = march()
    change(document)
    text = dump(document)
    line, column = position_of(text, needle, after)
    return write(folder, name, text), line, column, field


def case_tab(folder: Path):
    return write(folder, "tab.yaml", "name: x\ntime:\n\tstart: 2016-01-01\n"), 3, 1, ""


def case_bad_indentation(folder: Path):
    return write(folder, "indent.yaml", "name: x\ntime:\n  start: 2016-01-01\n   step: week\n"), 4, 8, ""


def case_unclosed_quote(folder: Path):
    return write(folder, "quote.yaml", 'name: "Cessation\ntime: {start: 2016-01-01}\n'), None, None, ""


def case_unclosed_bracket(folder: Path):
    return write(folder, "bracket.yaml", "name: x\nsources: [a, b\ntime: 1\n"), None, None, ""


def case_duplicate_key(folder: Path):
    text = dump(march())
    line, column = position_of(text, "war_cost:", after="  us:")
    lines = text.split("\n")
    lines.insert(line, lines[line - 1])  # the same key again on the next line
    return write(folder, "duplicate.yaml", "\n".join(lines)), line + 1, column, "actors.us.war_cost"


def case_duplicate_actor(folder: Path):
    text = "name: x\nactors:\n  us: {name: A}\n  russia: {name: B}\n  us: {name: C}\n"
    return write(folder, "duplicate_actor.yaml", text), 5, 3, "actors.us"


def case_empty(folder: Path):
    return write(folder, "empty.yaml", ""), 1, 1, ""


def case_only_comments(folder: Path):
    return write(folder, "comments.yaml", "# a scenario\n\n   \n# nothing here\n"), 1, 1, ""


def case_top_level_list(folder: Path):
    return write(folder, "list.yaml", "- name: x\n- name: y\n"), 1, 1, ""


def case_top_level_scalar(folder: Path):
    return write(folder, "scalar.yaml", "just some text\n"), 1, 1, ""


def case_latin1(folder: Path):
    text = dump(march()).encode("utf-8")
    broken = text.replace(b"name: Cessation", b"name: C\xe9ssation", 1)
    return write(folder, "latin1.yaml", broken), 1, 8, ""


def case_nul_byte(folder: Path):
    return write(folder, "nul.yaml", b"name: x\x00y\n"), 1, 8, ""


def case_too_large(folder: Path):
    text = dump(march()) + "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    return write(folder, "large.yaml", text), None, None, ""


def case_many_values(folder: Path):
    # Under the size limit, but more values than a scenario could need.
    text = "name: x\nsources:\n" + "".join(f"  - {i}\n" for i in range(MAX_NODES + 10))
    return write(folder, "many.yaml", text), None, None, None


def case_too_many_actors(folder: Path):
    def change(document: Doc) -> None:
        template = next(iter(document["actors"].values()))
        for index in range(MAX_ACTORS):
            document["actors"][f"extra_{index}"] = copy.deepcopy(template)

    return scenario_with(folder, "crowd.yaml", change, "actors:", "actors", after="\nactors:")


def case_too_many_issues(folder: Path):
    def change(document: Doc) -> None:
        for index in range(MAX_ISSUES):
            document["issues"][f"extra_{index}"] = {"low": "a", "high": "b"}

    return scenario_with(folder, "issues.yaml", change, "issues:", "issues", after="\nissues:")


def case_alias_bomb(folder: Path):
    rows = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        rows.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return write(folder, "billion_laughs.yaml", "\n".join(rows) + "\n"), None, None, None


def case_alias_to_itself(folder: Path):
    return write(folder, "self_alias.yaml", "name: x\nsources: &s [a, *s]\n"), 2, 17, "sources[1]"


def case_unknown_alias(folder: Path):
    return write(folder, "unknown_alias.yaml", "name: x\nseed: *nowhere\n"), 2, 7, "seed"


def case_deep_nesting(folder: Path):
    depth = 200_000  # crashes libyaml's recursive composer; refused here before composing
    return write(folder, "deep.yaml", "name: " + "[" * depth + "]" * depth + "\n"), 1, 6 + MAX_DEPTH, None


def case_merge_key(folder: Path):
    return write(folder, "merge.yaml", "base: &b {name: x}\nother:\n  <<: *b\n"), 3, 3, "other"


def case_two_documents(folder: Path):
    return write(folder, "two_docs.yaml", "name: a\n---\nname: b\n"), 2, 1, ""


def case_python_object(folder: Path):
    marker = folder / "executed"
    text = f"name: !!python/object/apply:os.system ['touch {marker}']\n"
    return write(folder, "python_object.yaml", text), 1, 7, "name"


def case_python_name(folder: Path):
    return write(folder, "python_name.yaml", "name: !!python/name:os.system ''\n"), 1, 7, "name"


def case_python_new(folder: Path):
    text = "actors: !!python/object/new:subprocess.Popen [['true']]\n"
    return write(folder, "python_new.yaml", text), 1, 9, "actors"


def case_custom_tag(folder: Path):
    return write(folder, "custom_tag.yaml", "name: x\nactors: !Actors {us: {name: A}}\n"), 2, 9, "actors"


def case_binary_tag(folder: Path):
    return write(folder, "binary.yaml", "name: !!binary aGVsbG8=\n"), 1, 7, "name"


def case_set_tag(folder: Path):
    return write(folder, "set.yaml", "name: x\nsources: !!set {a, b}\n"), 2, 10, "sources"


def case_nan(folder: Path):
    return scenario_with(
        folder,
        "nan.yaml",
        lambda d: d["actors"]["us"].update(war_cost=math.nan),
        "war_cost: .nan",
        "actors.us.war_cost",
        after="  us:",
    )


def case_infinity(folder: Path):
    return scenario_with(
        folder,
        "inf.yaml",
        lambda d: d["battlefield"].update(kappa=math.inf),
        "kappa: .inf",
        "battlefield.kappa",
        after="battlefield:",
    )


def case_negative_infinity_position(folder: Path):
    return scenario_with(
        folder,
        "neg_inf.yaml",
        lambda d: d["actors"]["russia"]["position"].update(arms_flow=-math.inf),
        "arms_flow: -.inf",
        "actors.russia.position.arms_flow",
        after="  russia:",
    )


def case_negative_capability(folder: Path):
    return scenario_with(
        folder,
        "negative.yaml",
        lambda d: d["actors"]["iran"].update(capability=-0.6),
        "capability: -0.6",
        "actors.iran.capability",
        after="  iran:",
    )


def case_patience_one(folder: Path):
    return scenario_with(
        folder,
        "patience.yaml",
        lambda d: d["actors"]["russia"].update(patience=1.0),
        "patience: 1.0",
        "actors.russia.patience",
        after="  russia:",
    )  # located at the key


def case_position_above_one(folder: Path):
    return scenario_with(
        folder,
        "position.yaml",
        lambda d: d["actors"]["us"]["position"].update(assad_role=1.5),
        "assad_role: 1.5",
        "actors.us.position.assad_role",
        after="  us:",
    )


def case_negative_salience(folder: Path):
    return scenario_with(
        folder,
        "salience_negative.yaml",
        lambda d: d["actors"]["us"]["salience"].update(assad_role=-0.2),
        "assad_role: -0.2",
        "actors.us.salience.assad_role",
        after="  us:",
    )


def case_huge_integer(folder: Path):
    return scenario_with(
        folder,
        "huge.yaml",
        lambda d: d["actors"]["us"].update(horizon=10**40),
        f"horizon: {10**40}",
        "actors.us.horizon",
        after="  us:",
    )


def case_too_many_steps(folder: Path):
    return scenario_with(folder, "steps.yaml", lambda d: d["time"].update(steps=10**6), "steps: 1000000", "time.steps")


def case_salience_zero(folder: Path):
    def change(document: Doc) -> None:
        document["actors"]["iran"]["salience"] = dict.fromkeys(document["actors"]["iran"]["salience"], 0.0)

    return scenario_with(folder, "salience_zero.yaml", change, "salience:", "actors.iran.salience", after="  iran:")


def case_unknown_actor_in_event(folder: Path):
    def change(document: Doc) -> None:
        document["events"]["ghost"] = {"at": dt.date(2016, 3, 20), "actor": "rusia", "action": "withdraw_air"}

    return scenario_with(
        folder, "event_actor.yaml", change, "actor:", "events.ghost.actor", after=("\nevents:", "\n  ghost:")
    )


def case_unknown_option_in_event(folder: Path):
    def change(document: Doc) -> None:
        document["events"]["ghost"] = {
            "at": dt.date(2016, 3, 20),
            "actor": "us",
            "action": "enable_option",
            "option": "nuke",
        }

    return scenario_with(
        folder, "event_option.yaml", change, "option:", "events.ghost.option", after=("\nevents:", "\n  ghost:")
    )


def case_unknown_option_key(folder: Path):
    return scenario_with(
        folder,
        "option_key.yaml",
        lambda d: d["actors"]["russia"]["options"].update(escalte=True),
        "escalte",
        "actors.russia.options.escalte",
        after="  russia:",
    )


def case_unknown_issue_in_position(folder: Path):
    return scenario_with(
        folder,
        "position_issue.yaml",
        lambda d: d["actors"]["iran"]["position"].update(assad_rol=0.0),
        "assad_rol:",
        "actors.iran.position.assad_rol",
        after="  iran:",
    )


def case_unknown_issue_in_linkage(folder: Path):
    return scenario_with(
        folder,
        "linkage.yaml",
        lambda d: d["actors"]["us"].update(linkage_refused=["sanctionz"]),
        "sanctionz",
        "actors.us.linkage_refused[0]",
        after=("  us:", "linkage_refused:"),
    )


def case_unknown_patron(folder: Path):
    return scenario_with(
        folder,
        "patron.yaml",
        lambda d: d["actors"]["turkey"].update(patron="usa"),
        "patron: usa",
        "actors.turkey.patron",
        after="  turkey:",
    )


def case_unknown_issue_in_victory(folder: Path):
    return scenario_with(
        folder,
        "victory.yaml",
        lambda d: d["battlefield"]["government_victory"].update(oil=1.0),
        "oil:",
        "battlefield.government_victory.oil",
        after="battlefield:",
    )


def case_event_after_end(folder: Path):
    def change(document: Doc) -> None:
        document["events"]["late"] = {"at": dt.date(2019, 3, 14), "actor": "russia", "action": "return_forces"}

    return scenario_with(folder, "late.yaml", change, "at:", "events.late.at", after=("\nevents:", "\n  late:"))


def case_event_before_start(folder: Path):
    def change(document: Doc) -> None:
        document["events"]["early"] = {"at": dt.date(2015, 12, 31), "actor": "russia", "action": "return_forces"}

    return scenario_with(folder, "early.yaml", change, "at:", "events.early.at", after=("\nevents:", "\n  early:"))


def case_event_step_negative(folder: Path):
    def change(document: Doc) -> None:
        document["events"]["minus"] = {"at": -3, "actor": "russia", "action": "return_forces"}

    return scenario_with(folder, "minus.yaml", change, "at:", "events.minus.at", after=("\nevents:", "\n  minus:"))


def case_talks_after_end(folder: Path):
    return scenario_with(
        folder,
        "talks.yaml",
        lambda d: d["time"].update(talks_start=dt.date(2030, 1, 1)),
        "talks_start:",
        "time.talks_start",
    )


def case_impossible_date(folder: Path):
    text = dump(march())
    start = str(march()["time"]["start"])
    text = text.replace(f"start: {start}", "start: 2016-02-30", 1)
    line, column = position_of(text, "2016-02-30")  # a value YAML cannot read is located at itself
    return write(folder, "impossible_date.yaml", text), line, column, "time.start"


def case_end_after_year_9999(folder: Path):
    def change(document: Doc) -> None:
        document["time"].update(start=dt.date(9999, 12, 1), talks_start=None)
        document["events"] = {}

    return scenario_with(folder, "y9999.yaml", change, "start:", "time.start")


def case_extends_cycle(folder: Path):
    write(folder, "cycle_b.yaml", "extends: cycle_a.yaml\nseed: 2\n")
    return write(folder, "cycle_a.yaml", "extends: cycle_b.yaml\nseed: 1\n"), None, None, "extends"


def case_extends_itself(folder: Path):
    return write(folder, "itself.yaml", "extends: itself.yaml\nseed: 1\n"), 1, 1, "extends"


def case_extends_missing_parent(folder: Path):
    return write(folder, "orphan.yaml", "name: x\nextends: no_such_parent.yaml\n"), 2, 1, "extends"


def case_extends_device(folder: Path):
    return write(folder, "device.yaml", "extends: /dev/zero\n"), 1, 1, "extends"


def case_extends_nul(folder: Path):
    return write(folder, "nul_parent.yaml", 'extends: "a\\0b.yaml"\n'), 1, 1, "extends"


def case_control_characters_in_key(folder: Path):
    return write(folder, "control.yaml", '"x\\e[2J\\ny": 1\n"x\\e[2J\\ny": 2\n'), 2, 1, None


CASES: list[Case] = [value for name, value in sorted(globals().items()) if name.startswith("case_")]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__.removeprefix("case_"))
def test_refused_fast_with_file_line_column_and_field(case: Case, tmp_path: Path) -> None:
    path, line, column, field = case(tmp_path)
    error, elapsed = refuse(path)
    assert elapsed < SECONDS, f"took {elapsed:.3f} s"
    if field is None:  # deep paths: check only that one is given
        assert error.field_path, error.render()
        field = error.field_path
    if line is None and error.line is not None:
        line, column = error.line, error.column
    check_message(error, path if "cycle" not in path.name else Path(error.file), line, column, field)
    assert not (tmp_path / "executed").exists()


def test_the_error_names_the_parent_file_when_the_parent_is_wrong(tmp_path: Path) -> None:
    parent = march()
    parent["actors"]["us"]["war_cost"] = -1
    text = dump(parent)
    write(tmp_path, "parent.yaml", text)
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\nseed: 3\n")
    error, _ = refuse(child)
    line, column = position_of(text, "war_cost: -1", after="  us:")
    check_message(error, tmp_path / "parent.yaml", line, column, "actors.us.war_cost")


def test_the_error_names_the_child_file_when_the_child_is_wrong(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", dump(march()))
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\nactors:\n  us:\n    war_cost: .nan\n")
    error, _ = refuse(child)
    check_message(error, child, 4, 5, "actors.us.war_cost")


def test_a_counterfactual_in_five_lines_loads(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", dump(march()))
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\nactors:\n  us:\n    options: {strike_regime: true}\n")
    loaded = load_scenario(child)
    assert loaded.scenario.actors["us"].options.strike_regime is True
    assert loaded.scenario.name == march()["name"]


def test_yes_and_no_stay_text(tmp_path: Path) -> None:
    document = march()
    document["description"] = "placeholder"
    text = dump(document).replace("description: placeholder", "description: no")
    loaded = load_scenario(write(tmp_path, "no.yaml", text))
    assert loaded.scenario.description == "no"


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    loaded = load_scenario(write(tmp_path, "bom.yaml", b"\xef\xbb\xbf" + dump(march()).encode()))
    assert loaded.scenario.name == march()["name"]


def test_a_folder_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    for path, words in ((tmp_path, "folder"), (tmp_path / "missing.yaml", "not found")):
        error, _ = refuse(path)
        assert words in error.render()


# ---------------------------------------------------------------------------------------------
# The command line: exit code 2, one paragraph each, no traceback unless --debug.


def cli(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80", "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_cli_validate_refuses_every_case_with_one_line_each(tmp_path: Path) -> None:
    paths = []
    for index, case in enumerate(CASES):
        folder = tmp_path / f"{index:02d}"
        folder.mkdir()
        paths.append(case(folder)[0])
    started = time.perf_counter()
    result = cli("validate", *map(str, paths))
    elapsed = time.perf_counter() - started
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == len(paths), result.stderr
    assert all(line.startswith("invalid: ") for line in lines)
    # Start-up (imports) included, every case in one process: well under a second a case.
    assert elapsed < SECONDS * len(paths) / 4, f"{elapsed:.2f} s for {len(paths)} files"


@pytest.mark.parametrize(
    "case",
    [case_alias_bomb, case_python_object, case_nan, case_extends_cycle, case_latin1],
    ids=lambda case: case.__name__.removeprefix("case_"),
)
def test_cli_run_refuses_with_exit_2_and_one_paragraph(case: Case, tmp_path: Path) -> None:
    path = case(tmp_path)[0]
    result = cli("run", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, message
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "executed").exists()


def test_cli_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path: Path) -> None:
    path = case_duplicate_key(tmp_path)[0]
    result = cli("run", str(path), "--out", str(tmp_path / "out"), "--debug")
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "ScenarioError" in result.stderr
    result = cli("validate", str(path), "--debug")
    assert result.returncode == 2 and "Traceback (most recent call last)" in result.stderr


def test_every_command_has_debug() -> None:
    from typer.main import get_command
    from typer.testing import CliRunner

    import cli

    commands = get_command(cli.app).commands
    assert {"run", "validate", "list", "schema", "calibrate", "benchmark", "import"} <= set(commands)
    # a group of commands (benchmark deu, import ktab) is checked command by command
    paths = [
        [name, sub] if hasattr(command, "commands") else [name]
        for name, command in commands.items()
        for sub in (getattr(command, "commands", None) or {None: None})
    ]
    assert ["benchmark", "deu"] in paths and ["import", "ktab"] in paths
    for path in paths:
        result = CliRunner().invoke(cli.app, [*path, "--help"])
        assert result.exit_code == 0 and "--debug" in result.output, path


def test_an_unexpected_error_is_one_line_exit_1_and_debug_shows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import cli

    def broken(path: object) -> None:
        raise ValueError("something the code did not expect")

    monkeypatch.setattr("sim.scenario.loader.load_scenario", broken)
    result = CliRunner().invoke(cli.app, ["run", str(MARCH), "--out", "unused"])
    assert result.exit_code == 1
    assert "internal error (ValueError: something the code did not expect)" in result.output
    assert "--debug" in result.output and "Traceback" not in result.output
    debug = CliRunner().invoke(cli.app, ["run", str(MARCH), "--out", "unused", "--debug"])
    assert isinstance(debug.exception, ValueError)  # re-raised: Python prints the traceback


# ---------------------------------------------------------------------------------------------
# Property: mutated scenarios are refused with ScenarioError, or load and run cleanly.

STEPS_RUN = 2


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mutations")


def load_or_refuse(path: Path) -> Any:
    """The loaded scenario, or None when refused; anything else but ScenarioError fails the test."""
    try:
        return load_scenario(path)
    except ScenarioError as error:
        message = error.render()
        assert message and "\n" not in message
        assert error.line is None or (error.line >= 1 and error.column >= 1)
        return None


def run_briefly(loaded: Any) -> None:
    """A few steps of the model and its outputs: finite, in range, serialisable."""
    model = NegotiationModel(loaded.scenario)
    for _ in range(min(STEPS_RUN, model.params.steps)):
        model.step()
    problems = numeric_frame_problems(model)
    assert not problems, problems
    result = build_result(loaded, model)
    json.dumps(result.summary, allow_nan=False)
    timeseries_csv(result)


@pytest.mark.slow
@settings(
    max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(document=mutated_documents())
def test_mutated_scenarios_are_refused_or_run_cleanly(document: Doc, scratch: Path) -> None:
    path = scratch / "mutated.yaml"
    path.write_text(dump(document), encoding="utf-8")
    loaded = load_or_refuse(path)
    if loaded is not None:
        run_briefly(loaded)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=mangled_texts())
def test_mangled_texts_are_refused_or_run_cleanly(content: bytes, scratch: Path) -> None:
    path = scratch / "mangled.yaml"
    path.write_bytes(content)
    loaded = load_or_refuse(path)
    if loaded is not None:
        run_briefly(loaded)


def test_the_shipped_scenarios_pass_the_same_checks() -> None:
    for path in SHIPPED:
        loaded = load_scenario(path)
        run_briefly(loaded)


def test_a_scenario_without_a_battlefield_runs(scratch: Path) -> None:
    """Optional sections left out: no battlefield (so no battlefield events), no uncertain block."""
    document = march()
    for key in ("battlefield", "events", "uncertain"):
        document.pop(key, None)
    path = scratch / "no_battlefield.yaml"
    path.write_text(dump(document), encoding="utf-8")
    run_briefly(load_scenario(path))


def test_strategies_produce_both_outcomes(scratch: Path) -> None:
    """The property tests above exercise both branches: some mutations load, most are refused."""
    outcomes = {"loaded": 0, "refused": 0}

    @settings(max_examples=200, deadline=None, database=None)
    @given(document=mutated_documents(max_mutations=1))
    def sample(document: Doc) -> None:
        path = scratch / "sample.yaml"
        path.write_text(dump(document), encoding="utf-8")
        outcomes["loaded" if load_or_refuse(path) is not None else "refused"] += 1

    sample()
    assert outcomes["loaded"] >= 10 and outcomes["refused"] >= 10, outcomes


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e308, -1e308], ids=str)
def test_no_numeric_field_accepts_nan_infinity_or_overflow(value: float, scratch: Path) -> None:
    """Every number in the two Syria scenarios, set to NaN, an infinity or +-1e308, is refused.

    The bounds of `uncertain:` distributions are the exception for finite numbers: they are
    checked against the field's range when an ensemble samples them, not when a file is read.
    """
    for shipped in (path for path in SHIPPED if path.name.startswith(("ceasefire", "stalemate"))):
        base = shipped_document(shipped)
        numeric = [
            p
            for p in paths_of(base)
            if isinstance(get_at(base, p), (int, float))
            and not isinstance(get_at(base, p), bool)
            and not (p[0] == "uncertain" and math.isfinite(value))
        ]
        for field in numeric:
            document = copy.deepcopy(base)
            set_at(document, field, value)
            path = scratch / "number.yaml"
            path.write_text(dump(document), encoding="utf-8")
            with pytest.raises(ScenarioError) as caught:
                load_scenario(path)
            named = dotted(field[:2]) if field[0] == "uncertain" else dotted(field)  # low/high: either may be named
            assert caught.value.field_path.startswith(named), (shipped.name, field)
