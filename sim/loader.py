"""Reading scenario files: safe YAML, `extends:`, validation, and errors that say where.

Every error is a `ScenarioError` naming the file, line, column and field path,
with a hint. Nothing here executes what a file contains: YAML is read with the
safe loader, and documents that expand into huge trees (alias "bombs") are
refused before they are built.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.schema import Scenario

MAX_FILE_BYTES = 2_000_000
MAX_NODES = 200_000
MAX_EXTENDS_DEPTH = 16

Location = tuple[str, int, int]  # file, line (1-based), column (1-based)
FieldPath = tuple[Any, ...]


class ScenarioError(Exception):
    """A scenario file that cannot be used, with where and why."""

    def __init__(self, file: str, message: str, *, line: int | None = None, column: int | None = None,
                 field_path: str = "", hint: str = "") -> None:
        self.file = file
        self.line = line
        self.column = column
        self.field_path = field_path
        self.message = message
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: "
        if self.field_path:
            text += f"field '{self.field_path}': "
        text += self.message
        if self.hint:
            text += f" Hint: {self.hint}"
        return text


@dataclass
class LoadedScenario:
    """A validated scenario, where it came from, and the hash of its file."""

    scenario: Scenario
    path: Path
    sha256: str
    locations: dict[FieldPath, Location] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that keeps YAML 1.2 booleans sane: only true/false, not yes/no/on/off."""


# PyYAML resolves yes/no/on/off to booleans (YAML 1.1); for a scenario that is a trap.
_UniqueKeyLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _walk(node: yaml.Node, file: str, path: FieldPath, locations: dict[FieldPath, Location],
          budget: list[int]) -> Any:
    """Build plain Python data from a YAML node, recording each value's location."""
    budget[0] -= 1
    if budget[0] < 0:
        line, column = _mark(node)
        raise ScenarioError(file, f"the document expands to more than {MAX_NODES} values", line=line,
                            column=column, hint="remove deeply nested aliases (&anchor / *alias).")
    line, column = _mark(node)
    locations[path] = (file, line, column)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        key_lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ScenarioError(file, "merge keys (<<) are not supported", line=_mark(key_node)[0],
                                    column=_mark(key_node)[1], field_path=_dotted(path),
                                    hint="write the values out, or use `extends:` to reuse another scenario.")
            key = _construct_scalar(key_node, file, path)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise ScenarioError(file, "keys must be plain names", line=_mark(key_node)[0],
                                    column=_mark(key_node)[1], field_path=_dotted(path))
            key = str(key)
            if key in result:
                raise ScenarioError(file, f"duplicate key '{key}' (first given on line {key_lines[key]})",
                                    line=_mark(key_node)[0], column=_mark(key_node)[1],
                                    field_path=_dotted(path + (key,)), hint="give each key once.")
            key_lines[key] = _mark(key_node)[0]
            result[key] = _walk(value_node, file, path + (key,), locations, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, file, path + (index,), locations, budget) for index, item in enumerate(node.value)]
    return _construct_scalar(node, file, path)


def _construct_scalar(node: yaml.Node, file: str, path: FieldPath) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        line, column = _mark(node)
        raise ScenarioError(file, "a key must be a plain name, not a list or mapping", line=line, column=column,
                            field_path=_dotted(path))
    loader = _UniqueKeyLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as error:
        line, column = _mark(node)
        raise ScenarioError(file, f"cannot read value: {_problem(error)}", line=line, column=column,
                            field_path=_dotted(path),
                            hint="only plain YAML values are allowed (no !!python tags or other custom tags).") from None
    finally:
        loader.dispose()


def _problem(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    return f"{context}, {problem}" if context else str(problem)


def _dotted(path: FieldPath) -> str:
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[FieldPath, Location]]:
    """Read one YAML file into plain data and a map from field path to location."""
    file = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ScenarioError(file, "file not found", hint="check the path; `python cli.py list` shows the shipped scenarios.") from None
    except OSError as error:
        raise ScenarioError(file, f"cannot read the file: {error.strerror}") from None
    if path.is_dir():
        raise ScenarioError(file, "is a folder, not a scenario file")
    if size > MAX_FILE_BYTES:
        raise ScenarioError(file, f"file is {size} bytes, more than the {MAX_FILE_BYTES} a scenario may have",
                            hint="a scenario is a short text file; check that this is the file you meant.")
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ScenarioError(file, "the file is not valid UTF-8 text", line=line, column=column,
                            hint="save the file as UTF-8.") from None
    except OSError as error:
        raise ScenarioError(file, f"cannot read the file: {error.strerror}") from None
    try:
        loader = _UniqueKeyLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        hint = "indent with spaces, not tabs." if "\t" in text and "tab" in _problem(error).lower() else (
            "check indentation, colons and closing quotes around this place.")
        raise ScenarioError(file, f"not valid YAML: {_problem(error)}", line=line, column=column, hint=hint) from None
    except yaml.YAMLError as error:
        raise ScenarioError(file, f"not valid YAML: {error}") from None
    if root is None:
        raise ScenarioError(file, "the file is empty", line=1, column=1,
                            hint="a scenario needs at least name, time, issues and actors.")
    locations: dict[FieldPath, Location] = {}
    document = _walk(root, file, (), locations, [MAX_NODES])
    if not isinstance(document, dict):
        line, column = _mark(root)
        raise ScenarioError(file, f"the top level must be a mapping of fields, not a {type(document).__name__}",
                            line=line, column=column, hint="start with `name: ...` on the first line.")
    return document, locations


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge `override` into `base`: mappings merge key by key, `null` deletes a key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[FieldPath, Location]]:
    document, locations = read_yaml(path)
    parent_name = document.pop("extends", None)
    if parent_name is None:
        return document, locations
    file = str(path)
    line, column = locations[("extends",)][1:]
    if not isinstance(parent_name, str) or not parent_name.strip():
        raise ScenarioError(file, "must name another scenario file", line=line, column=column, field_path="extends")
    parent = (path.parent / parent_name).resolve()
    if parent in chain or parent == path.resolve():
        cycle = " -> ".join(p.name for p in (*chain, path.resolve(), parent))
        raise ScenarioError(file, f"`extends:` makes a cycle ({cycle})", line=line, column=column,
                            field_path="extends", hint="a scenario cannot extend itself, directly or not.")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(file, f"`extends:` chain deeper than {MAX_EXTENDS_DEPTH}", line=line, column=column,
                            field_path="extends")
    if not parent.is_file():
        raise ScenarioError(file, f"parent scenario '{parent_name}' not found", line=line, column=column,
                            field_path="extends", hint="the path is relative to this file's folder.")
    parent_document, parent_locations = _resolve(parent, (*chain, path.resolve()))
    merged_locations = {**parent_locations, **locations}
    return deep_merge(parent_document, document), merged_locations


def locate(locations: dict[FieldPath, Location], path: FieldPath, default_file: str) -> Location:
    """The location of the nearest enclosing field that the file names."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in locations:
            return locations[path[:cut]]
    return (default_file, 1, 1)


def _error_at(locations: dict[FieldPath, Location], path: FieldPath, file: str, message: str,
              hint: str = "") -> ScenarioError:
    where = locate(locations, path, file)
    return ScenarioError(where[0], message, line=where[1], column=where[2], field_path=_dotted(path), hint=hint)


_HINTS = {
    "extra_forbidden": "remove it, or check its spelling against `python cli.py schema`.",
    "missing": "add this field.",
    "finite_number": "use an ordinary number (no .nan or .inf).",
    "literal_error": "",
    "date_from_datetime_parsing": "write dates as YYYY-MM-DD.",
    "date_parsing": "write dates as YYYY-MM-DD.",
    "date_type": "write dates as YYYY-MM-DD.",
}


def _from_validation_error(error: ValidationError, locations: dict[FieldPath, Location], file: str) -> ScenarioError:
    first = error.errors()[0]
    path = _clean_loc(first["loc"])
    message = first["msg"]
    if "input" in first and first["type"] not in {"missing", "extra_forbidden"} and not isinstance(first["input"], (dict, list)):
        message += f" (got {first['input']!r})"
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    hint = _HINTS.get(first["type"], "")
    others = len(error.errors()) - 1
    if others:
        hint = (hint + " " if hint else "") + f"({others} more problem{'s' if others > 1 else ''} after this one.)"
    return _error_at(locations, path, file, message, hint)


def _clean_loc(loc: tuple[Any, ...]) -> FieldPath:
    # pydantic adds the union member or validator name to a location; a user only wants the field path.
    cleaned = []
    for part in loc:
        if isinstance(part, str) and (part in {"date", "int", "str", "float", "none"} or "[" in part or "(" in part):
            continue
        cleaned.append(part)
    return tuple(cleaned)


def check_references(scenario: Scenario, locations: dict[FieldPath, Location], file: str) -> None:
    """Refuse references to actors and issues that do not exist, and dates outside the scenario."""
    issues = set(scenario.issues)
    actors = set(scenario.actors)

    def need_issue(name: str, path: FieldPath) -> None:
        if name not in issues:
            raise _error_at(locations, path, file, f"unknown issue '{name}'",
                            f"issues defined: {', '.join(sorted(issues))}.")

    for actor_id, actor in scenario.actors.items():
        for key in actor.position:
            need_issue(key, ("actors", actor_id, "position", key))
        for key in actor.salience:
            need_issue(key, ("actors", actor_id, "salience", key))
        for index, key in enumerate(actor.linkage_refused):
            need_issue(key, ("actors", actor_id, "linkage_refused", index))
        for key, weight in actor.salience.items():
            if weight > 0 and key not in actor.position:
                raise _error_at(locations, ("actors", actor_id, "position"), file,
                                f"no ideal point for issue '{key}', which has positive salience",
                                f"add `{key}: <0..1>` to the position.")
        if actor.patron is not None and actor.patron not in actors:
            raise _error_at(locations, ("actors", actor_id, "patron"), file, f"unknown actor '{actor.patron}'",
                            f"actors defined: {', '.join(sorted(actors))}.")
        if actor.patron == actor_id:
            raise _error_at(locations, ("actors", actor_id, "patron"), file, "an actor cannot be its own patron")
        if actor.min_demand > actor.demand:
            raise _error_at(locations, ("actors", actor_id, "min_demand"), file,
                            f"min_demand ({actor.min_demand}) is above demand ({actor.demand})",
                            "softening lowers demand down to min_demand.")
    if not any(actor.consent_required for actor in scenario.actors.values()):
        raise _error_at(locations, ("actors",), file, "no actor has consent_required: true",
                        "mark the parties whose consent a deal needs (at least one).")
    if scenario.battlefield is not None:
        for key in ("government_victory", "opposition_victory"):
            outcome = getattr(scenario.battlefield, key)
            for issue in outcome:
                need_issue(issue, ("battlefield", key, issue))
            for issue in issues - set(outcome):
                raise _error_at(locations, ("battlefield", key), file, f"no outcome given for issue '{issue}'",
                                f"add `{issue}: <0..1>`.")
    option_names = set(type(next(iter(scenario.actors.values())).options).model_fields)
    for event_id, event in scenario.events.items():
        base = ("events", event_id)
        if event.actor is None and event.action != "start_ceasefire":
            raise _error_at(locations, base, file, f"action '{event.action}' needs an actor",
                            "add `actor: <id>`.")
        if event.actor is not None and event.actor not in actors:
            raise _error_at(locations, base + ("actor",), file, f"unknown actor '{event.actor}'",
                            f"actors defined: {', '.join(sorted(actors))}.")
        if event.action in {"enable_option", "disable_option"} and event.option not in option_names:
            raise _error_at(locations, base + ("option",), file, f"unknown or missing option '{event.option}'",
                            f"options: {', '.join(sorted(option_names))}.")
        if isinstance(event.at, dt.date):
            if not scenario.time.start <= event.at < scenario.time.end:
                raise _error_at(locations, base + ("at",), file,
                                f"date {event.at} is outside the scenario ({scenario.time.start} to "
                                f"{scenario.time.end}, exclusive)", "move the event or change time.steps.")
        elif not 0 <= event.at < scenario.time.steps:
            raise _error_at(locations, base + ("at",), file,
                            f"step {event.at} is outside the scenario (0 to {scenario.time.steps - 1})")
    talks = scenario.time.talks_start
    if talks is not None:
        talks_step = (talks - scenario.time.start).days // scenario.time.step_days if isinstance(talks, dt.date) else talks
        if not 0 <= talks_step < scenario.time.steps:
            raise _error_at(locations, ("time", "talks_start"), file,
                            f"talks_start {talks} is outside the scenario ({scenario.time.start} to {scenario.time.end})")
    if scenario.battlefield is None and any(
        event.action in {"withdraw_air", "return_forces", "escalate", "spoil", "start_ceasefire"}
        for event in scenario.events.values()
    ):
        raise _error_at(locations, ("events",), file, "battlefield events need a `battlefield:` section")


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read, merge, validate and cross-check a scenario file."""
    path = Path(path)
    file = str(path)
    document, locations = _resolve(path, ())
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as error:
        raise _from_validation_error(error, locations, file) from None
    check_references(scenario, locations, file)
    from sim.uncertainty import check_uncertain  # late import: uncertainty needs the schema only

    check_uncertain(scenario, locations, file, _error_at)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedScenario(scenario=scenario, path=path, sha256=digest, locations=locations, raw=document)


def scenario_from_mapping(document: dict[str, Any], name: str = "<mapping>") -> Scenario:
    """Validate an in-memory document (tests, sweeps); errors carry field paths but no lines."""
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as error:
        raise _from_validation_error(error, {}, name) from None
    check_references(scenario, {}, name)
    return scenario
