"""Bad scenario files are refused through the CLI: exit code 2, the field path and the line, no traceback.

The exhaustive list of hostile inputs is in tests/test_hostile_*.py; these are
the common mistakes of someone writing a scenario, and `extends:` working.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.scenario.loader import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"

# A small valid scenario; each bad case below replaces one line of it (lines are 1-based).
GOOD = """\
name: Two patrons over one issue
seed: 3
time: {start: 2016-02-27, step: week, steps: 4}
issues:
  assad_role: {low: Assad keeps power, high: Assad leaves}
actors:
  us:
    name: United States
    consent_required: true
    position: {assad_role: 0.9}
    salience: {assad_role: 1.0}
    patience: 0.97
  russia:
    name: Russia
    consent_required: true
    position: {assad_role: 0.1}
    salience: {assad_role: 1.0}
events:
  us_may_strike: {at: 1, actor: us, action: enable_option, option: strike_regime}
"""

# (case, line replaced, its new text, field path the error must name)
BAD_CASES = [
    ("unknown_key", 12, "    pateince: 0.97", "actors.us.pateince"),
    ("wrong_type", 12, "    patience: very", "actors.us.patience"),
    ("out_of_range", 12, "    patience: 1.5", "actors.us.patience"),
    (
        "undefined_actor",
        19,
        "  us_may_strike: {at: 1, actor: china, action: enable_option, option: strike_regime}",
        "events.us_may_strike.actor",
    ),
    ("undefined_issue", 10, "    position: {assad_role: 0.9, sanctions: 0.5}", "actors.us.position.sanctions"),
]


def with_line(text: str, line: int, replacement: str) -> str:
    lines = text.splitlines()
    lines[line - 1] = replacement
    return "\n".join(lines) + "\n"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def flat(text: str) -> str:
    """Console output with line wrapping undone."""
    return " ".join(text.split())


def test_the_base_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    result = cli("validate", str(path))
    assert result.returncode == 0, result.stderr
    assert "ok:" in result.stdout


@pytest.mark.parametrize(("case", "line", "replacement", "field"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_file_is_refused_in_process_with_its_location(
    tmp_path: Path, case: str, line: int, replacement: str, field: str
) -> None:
    path = tmp_path / f"{case}.yaml"
    path.write_text(with_line(GOOD, line, replacement), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    assert error.field_path == field
    assert error.line == line
    assert Path(error.file).name == path.name
    assert error.column is not None and error.column >= 1


@pytest.mark.parametrize(("case", "line", "replacement", "field"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_file_through_the_cli(tmp_path: Path, case: str, line: int, replacement: str, field: str) -> None:
    path = tmp_path / f"{case}.yaml"
    path.write_text(with_line(GOOD, line, replacement), encoding="utf-8")
    out = tmp_path / "out"
    # `run` for most cases (it must refuse before writing anything); `validate` for the rest, to cover both.
    command = (
        ["validate", str(path)] if case in {"wrong_type", "undefined_issue"} else ["run", str(path), "--out", str(out)]
    )
    result = cli(*command)
    message = flat(result.stderr)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert field in message
    assert f"{path.name}:{line}:" in message
    assert not out.exists()


def _counterfactual(tmp_path: Path, body: str) -> Path:
    """A counterfactual next to a copy of the shipped March scenario, which it extends."""
    shutil.copy(MARCH, tmp_path / MARCH.name)
    path = tmp_path / "counterfactual.yaml"
    path.write_text(f"extends: {MARCH.name}\n{body}", encoding="utf-8")
    return path


def test_extends_overrides_a_value_and_keeps_the_rest(tmp_path: Path) -> None:
    path = _counterfactual(
        tmp_path, "name: Russia needs three months to return\nactors:\n  russia:\n    redeploy_days: 90\n"
    )
    result = cli("validate", str(path))
    assert result.returncode == 0, result.stderr
    child, parent = load_scenario(path).scenario, load_scenario(MARCH).scenario
    assert child.name == "Russia needs three months to return"
    assert child.actors["russia"].redeploy_days == 90
    assert parent.actors["russia"].redeploy_days != 90
    # Everything not overridden comes from the parent.
    assert (
        child.actors["russia"].model_copy(update={"redeploy_days": parent.actors["russia"].redeploy_days})
        == parent.actors["russia"]
    )
    assert child.actors["us"] == parent.actors["us"]
    assert child.events == parent.events
    assert child.battlefield == parent.battlefield
    assert child.time == parent.time


def test_the_hashes_name_every_file_a_counterfactual_is_made_of(tmp_path: Path) -> None:
    """The summary's hashes let a reader verify the counterfactual and the parent it extends."""
    import hashlib

    from sim.model.results import run_scenario

    path = _counterfactual(tmp_path, "actors:\n  russia:\n    redeploy_days: 90\n")
    summary = run_scenario(load_scenario(path)).summary["scenario"]
    assert summary["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    parent = tmp_path / MARCH.name
    assert summary["extends"] == [{"file": MARCH.name, "sha256": hashlib.sha256(parent.read_bytes()).hexdigest()}]
    assert run_scenario(load_scenario(parent)).summary["scenario"]["extends"] == []


def test_a_bad_override_is_located_in_the_counterfactual(tmp_path: Path) -> None:
    path = _counterfactual(tmp_path, "actors:\n  russia:\n    redeploy_days: -3\n")
    result = cli("validate", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = flat(result.stderr)
    assert "actors.russia.redeploy_days" in message
    assert f"{path.name}:4:" in message


@pytest.mark.parametrize(
    ("override", "line", "column", "field"),
    [
        ("actors:\n  russia:\n    restrains_clients: 1.5\n", 4, 5, "actors.russia.restrains_clients"),
        ("actors:\n  iran:\n    defection_cost: -0.2\n", 4, 5, "actors.iran.defection_cost"),
        ("actors:\n  iran:\n    defection_cost: .nan\n", 4, 5, "actors.iran.defection_cost"),
        ("battlefield:\n  excluded_fighting: 1.01\n", 3, 3, "battlefield.excluded_fighting"),
    ],
)
def test_bad_agreement_fields_are_refused_with_their_place(
    tmp_path: Path, override: str, line: int, column: int, field: str
) -> None:
    """The fields of self-enforcing agreements are checked like every other: file, line, column, field, exit 2."""
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {MARCH.as_posix()}\n{override}", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "validate", str(child)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert f"child.yaml:{line}:{column}: field '{field}'" in done.stderr
    assert "Traceback" not in done.stderr


def test_every_wrong_field_is_listed_numbered_in_one_paragraph(tmp_path: Path) -> None:
    """Issue 14: validate listed the first problem and counted the rest (saying "1 more problem" for a value
    that failed both members of a union). Now each wrong field is given in full, numbered, at its own place;
    a value that fits no member of a union (talks_start: a date or a step) is one problem."""
    parent = (ROOT / "scenarios" / "ceasefire_2016_03.yaml").as_posix()
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"extends: {parent}\nactors:\n  us:\n    capability: -1\n    patience: 2\n"
        "time:\n  steps: true\n  talks_start: soon\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "validate", str(path)], capture_output=True, text=True, timeout=120
    )
    message = " ".join(done.stderr.split())
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert message.count(f"{path.name}:") == 4
    for number, where, field in (
        (1, "7:3", "time.steps"),
        (2, "8:3", "time.talks_start"),
        (3, "4:5", "actors.us.capability"),
        (4, "5:5", "actors.us.patience"),
    ):
        assert f"({number}) {path.as_posix()}:{where}: field '{field}'" in message.replace(str(path), path.as_posix())
    assert "(5)" not in message and "more problem" not in message
