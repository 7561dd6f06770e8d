"""The edges of the refusals in the README's Errors table: the last value accepted, the first refused.

Each case writes a pair of files that differ only at the boundary: one just inside it, which must
load, and one just outside, which must be refused with a `ScenarioError` naming the field (and with
exit code 2 and an `invalid:` line from `python cli.py validate`). An off-by-one in a check shows up
as the inside file refused or the outside one accepted.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.scenario.loader import (
    MAX_ACTORS,
    MAX_DEPTH,
    MAX_EXTENDS_DEPTH,
    MAX_FILE_BYTES,
    MAX_ISSUES,
    ScenarioError,
    load_scenario,
    read_yaml,
)
from tests.strategies import dump

ROOT = Path(__file__).resolve().parent.parent
START = dt.date(2016, 2, 27)
WEEKS = 4  # a span of 2016-02-27 to 2016-03-25 inclusive; 2016-03-26 is the first day after it
LAST_DAY = START + dt.timedelta(days=7 * WEEKS - 1)
DAY_AFTER = LAST_DAY + dt.timedelta(days=1)

Doc = dict[str, Any]


def base() -> Doc:
    """A small valid scenario: two required actors, two issues, four weeks, no battlefield."""
    return {
        "name": "Boundary cases",
        "seed": 3,
        "time": {"start": START, "step": "week", "steps": WEEKS},
        "issues": {
            "assad_role": {"low": "Assad keeps power", "high": "Assad leaves"},
            "arms_flow": {"low": "no arms to the opposition", "high": "unrestricted arms"},
        },
        "actors": {
            "us": {
                "name": "United States",
                "consent_required": True,
                "position": {"assad_role": 0.9, "arms_flow": 0.4},
                "salience": {"assad_role": 0.6, "arms_flow": 0.4},
                "demand": 0.2,
                "min_demand": 0.05,
            },
            "russia": {
                "name": "Russia",
                "consent_required": True,
                "position": {"assad_role": 0.2, "arms_flow": 0.0},
                "salience": {"assad_role": 0.5, "arms_flow": 0.5},
            },
        },
        "events": {},
    }


def write(path: Path, document: Doc | str) -> Path:
    path.write_text(document if isinstance(document, str) else dump(document), encoding="utf-8")
    return path


def event_at(at: dt.date | int) -> Callable[[Doc], None]:
    def change(document: Doc) -> None:
        document["events"]["edge"] = {"at": at, "actor": "us", "action": "enable_option", "option": "strike_regime"}

    return change


def talks_at(at: dt.date | int, step: str = "week") -> Callable[[Doc], None]:
    def change(document: Doc) -> None:
        steps = WEEKS if step == "week" else 7 * WEEKS  # the same span of days either way
        document["time"].update(step=step, steps=steps, talks_start=at)

    return change


def min_demand(value: float) -> Callable[[Doc], None]:
    def change(document: Doc) -> None:
        document["actors"]["us"].update(demand=0.2, min_demand=value)

    return change


def salience_without_ideal(weight: float) -> Callable[[Doc], None]:
    def change(document: Doc) -> None:
        us = document["actors"]["us"]
        del us["position"]["arms_flow"]  # no ideal point on arms_flow
        us["salience"]["arms_flow"] = weight

    return change


def actors(count: int) -> Callable[[Doc], None]:
    def change(document: Doc) -> None:
        template = document["actors"]["russia"]
        for index in range(count - len(document["actors"])):
            extra = copy.deepcopy(template)
            extra["name"] = f"Extra actor {index}"
            extra["consent_required"] = False
            document["actors"][f"extra_{index}"] = extra

    return change


def issues(count: int) -> Callable[[Doc], None]:
    def change(document: Doc) -> None:
        for index in range(count - len(document["issues"])):
            document["issues"][f"extra_{index}"] = {"low": f"none of {index}", "high": f"all of {index}"}

    return change


# (id, change inside the boundary, change just outside it, field the refusal names, words in its message)
PAIRS: list[tuple[str, Callable[[Doc], None], Callable[[Doc], None], str, str]] = [
    ("event_on_the_last_day", event_at(LAST_DAY), event_at(DAY_AFTER), "events.edge.at", "outside the scenario"),
    (
        "event_on_the_first_day",
        event_at(START),
        event_at(START - dt.timedelta(days=1)),
        "events.edge.at",
        "outside the scenario",
    ),
    ("event_at_the_last_step", event_at(WEEKS - 1), event_at(WEEKS), "events.edge.at", "outside the scenario"),
    ("event_at_step_zero", event_at(0), event_at(-1), "events.edge.at", "outside the scenario"),
    (
        "talks_on_the_last_day_of_a_daily_span",
        talks_at(LAST_DAY, "day"),
        talks_at(DAY_AFTER, "day"),
        "time.talks_start",
        "outside the scenario",
    ),
    (
        # Weekly: talks open in the first step that starts on or after their date, so the last date with
        # a step left to conclude a deal is the first day of the last week.
        "talks_on_the_first_day_of_the_last_week",
        talks_at(START + dt.timedelta(days=7 * (WEEKS - 1))),
        talks_at(START + dt.timedelta(days=7 * (WEEKS - 1) + 1)),
        "time.talks_start",
        "talks_start",
    ),
    ("talks_at_the_last_step", talks_at(WEEKS - 1), talks_at(WEEKS), "time.talks_start", "outside the scenario"),
    (
        "min_demand_equal_to_demand",
        min_demand(0.2),
        min_demand(float(np.nextafter(0.2, 1.0))),
        "actors.us.min_demand",
        "is above demand",
    ),
    (
        "salience_without_an_ideal_point",
        salience_without_ideal(0.0),
        salience_without_ideal(float(np.nextafter(0.0, 1.0))),  # the smallest positive number
        "actors.us.position",
        "no ideal point for issue 'arms_flow'",
    ),
    ("max_actors", actors(MAX_ACTORS), actors(MAX_ACTORS + 1), "actors", f"more than the {MAX_ACTORS}"),
    ("max_issues", issues(MAX_ISSUES), issues(MAX_ISSUES + 1), "issues", f"more than the {MAX_ISSUES}"),
]


def pair_files(
    folder: Path, case: str, inside: Callable[[Doc], None], outside: Callable[[Doc], None]
) -> tuple[Path, Path]:
    documents = []
    for change in (inside, outside):
        document = base()
        change(document)
        documents.append(document)
    return write(folder / f"{case}_inside.yaml", documents[0]), write(folder / f"{case}_outside.yaml", documents[1])


def padded_to(size: int) -> str:
    """The base scenario, padded with a comment to exactly `size` bytes."""
    text = dump(base())
    room = size - len(text.encode("utf-8")) - len("# \n")
    assert room >= 0
    return text + "# " + "x" * room + "\n"


def file_size_pair(folder: Path) -> tuple[Path, Path]:
    inside = write(folder / "size_inside.yaml", padded_to(MAX_FILE_BYTES))
    outside = write(folder / "size_outside.yaml", padded_to(MAX_FILE_BYTES + 1))
    assert inside.stat().st_size == MAX_FILE_BYTES and outside.stat().st_size == MAX_FILE_BYTES + 1
    return inside, outside


def extends_chain(folder: Path, links: int) -> Path:
    """A chain of `links` files each extending the next; the last extends the base scenario. Returns the first."""
    folder.mkdir(parents=True, exist_ok=True)
    write(folder / "root.yaml", base())
    parent = "root.yaml"
    for index in range(links, 0, -1):  # link_1 extends link_2 ... link_n extends root
        path = folder / f"link_{index}.yaml"
        path.write_text(f"extends: {parent}\nseed: {index}\n", encoding="utf-8")
        parent = path.name
    return folder / "link_1.yaml"


def refused(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value


# ---------------------------------------------------------------------------- in process


@pytest.mark.parametrize(("case", "inside", "outside", "field", "words"), PAIRS, ids=[p[0] for p in PAIRS])
def test_just_inside_is_accepted_and_just_outside_is_refused(
    tmp_path: Path, case: str, inside: Callable, outside: Callable, field: str, words: str
) -> None:
    accepted, rejected = pair_files(tmp_path, case, inside, outside)
    load_scenario(accepted)
    error = refused(rejected)
    assert error.field_path == field, error.render()
    assert words in error.message, error.render()
    assert error.line is not None and error.column is not None, error.render()


def test_the_accepted_edges_are_the_values_read() -> None:
    """The inside cases really sit on the boundary (not somewhere safely inside it)."""
    document = base()
    talks_at(LAST_DAY, "day")(document)
    assert document["time"]["start"] + dt.timedelta(days=document["time"]["steps"] - 1) == LAST_DAY
    min_demand(0.2)(document)
    assert document["actors"]["us"]["min_demand"] == document["actors"]["us"]["demand"]
    assert np.nextafter(0.2, 1.0) > 0.2 and np.nextafter(0.0, 1.0) > 0.0


def test_a_file_of_exactly_the_maximum_size_loads_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    inside, outside = file_size_pair(tmp_path)
    assert load_scenario(inside).scenario.name == "Boundary cases"
    error = refused(outside)
    assert f"larger than the {MAX_FILE_BYTES} bytes" in error.message
    assert error.field_path == "" and error.line is None  # a problem of the file as a whole


def test_an_extends_chain_of_exactly_the_maximum_depth_loads_and_one_more_is_refused(tmp_path: Path) -> None:
    longest = extends_chain(tmp_path / "inside", MAX_EXTENDS_DEPTH)
    loaded = load_scenario(longest)
    assert len(loaded.parents) == MAX_EXTENDS_DEPTH  # every link and the root, nearest first
    assert loaded.scenario.seed == 1  # the nearest file wins
    error = refused(extends_chain(tmp_path / "outside", MAX_EXTENDS_DEPTH + 1))
    assert error.field_path == "extends"
    assert f"deeper than {MAX_EXTENDS_DEPTH}" in error.message
    assert Path(error.file).name == f"link_{MAX_EXTENDS_DEPTH + 1}.yaml"  # the link that would go too deep


def nested(levels: int) -> str:
    """A scenario whose `sources` holds lists nested so that the file has `levels` levels in all
    (the top-level mapping is the first, `sources` the second)."""
    return dump(base()) + "sources: " + "[" * (levels - 1) + "]" * (levels - 1) + "\n"


def test_nesting_of_exactly_the_maximum_depth_is_read_and_one_more_is_refused(tmp_path: Path) -> None:
    inside = write(tmp_path / "deep_inside.yaml", nested(MAX_DEPTH))
    outside = write(tmp_path / "deep_outside.yaml", nested(MAX_DEPTH + 1))
    document, _ = read_yaml(inside)  # the reader builds it: MAX_DEPTH levels are allowed
    depth, node = 1, document["sources"]
    while isinstance(node, list):
        depth += 1
        node = node[0] if node else None
    assert depth == MAX_DEPTH
    # No scenario field holds lists of lists, so the schema then refuses it, for its type, not its depth.
    error = refused(inside)
    assert "nested more than" not in error.message
    assert error.field_path.startswith("sources[0]"), error.render()
    error = refused(outside)
    assert f"nested more than {MAX_DEPTH} levels deep" in error.message
    assert error.field_path == "sources" + "[0]" * (MAX_DEPTH - 1), error.render()
    assert (error.line, error.column) == (len(dump(base()).splitlines()) + 1, len("sources: ") + MAX_DEPTH)


# ---------------------------------------------------------------------------- a gap in the messages


def test_a_refused_talks_start_inside_the_span_is_not_called_outside_it(tmp_path: Path) -> None:
    """A weekly scenario refuses talks_start on a day of its last week after that week's first day (no
    step is left to conclude a deal); the message says so instead of calling the date outside the span."""
    document = base()
    talks_at(LAST_DAY)(document)
    path = write(tmp_path / "talks_last_day.yaml", document)
    with pytest.raises(ScenarioError) as refused:
        load_scenario(path)
    assert "is outside the scenario" not in refused.value.message
    assert "leaves no step for talks" in refused.value.message
    assert refused.value.field_path == "time.talks_start"


# ---------------------------------------------------------------------------- through the command line


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "cli.py", "validate", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def all_pairs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path, str]]:
    """Every boundary pair as files: (inside, outside, field the refusal names; '' for the file as a whole)."""
    folder = tmp_path_factory.mktemp("pairs")
    pairs = [(*pair_files(folder, case, inside, outside), field) for case, inside, outside, field, _ in PAIRS]
    pairs.append((*file_size_pair(folder), ""))
    pairs.append(
        (
            extends_chain(folder / "chain_inside", MAX_EXTENDS_DEPTH),
            extends_chain(folder / "chain_outside", MAX_EXTENDS_DEPTH + 1),
            "extends",
        )
    )
    return pairs


def test_cli_validate_accepts_every_file_just_inside(all_pairs) -> None:
    result = validate(*(inside for inside, _, _ in all_pairs))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == len(all_pairs), result.stdout


def test_cli_validate_refuses_every_file_just_outside_with_exit_2(all_pairs) -> None:
    result = validate(*(outside for _, outside, _ in all_pairs))
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == len(all_pairs), result.stderr
    for line, (_, outside, field) in zip(lines, all_pairs, strict=True):
        assert line.startswith("invalid: "), line
        if field:
            assert f"field '{field}'" in line, line
        if field == "extends":
            assert f"link_{MAX_EXTENDS_DEPTH + 1}.yaml" in line, line
        else:
            assert outside.name in line, line


@pytest.mark.parametrize("which", ["event_on_the_last_day", "max_actors"])
def test_cli_validate_exits_2_for_one_file_just_outside(tmp_path: Path, which: str) -> None:
    case = next(p for p in PAIRS if p[0] == which)
    inside, outside = pair_files(tmp_path, *case[:3])
    assert validate(inside).returncode == 0
    result = validate(outside)
    assert result.returncode == 2
    assert result.stderr.startswith("invalid: ") and f"field '{case[3]}'" in result.stderr
