"""Reading scenario files: safe YAML, `extends:`, validation, and errors that say where.

Every error is a `ScenarioError` naming the file, line, column and field path,
with a hint. Nothing here executes what a file contains, and nothing a file
contains can make reading it slow or crash the interpreter:

- the file must be a regular file of at most `MAX_FILE_BYTES`, in UTF-8;
- YAML is read event by event (libyaml when available) and composed here,
  without recursion: nesting deeper than `MAX_DEPTH` is refused before it
  can exhaust a stack (deep flow nesting crashes the C composer outright);
- only plain YAML values are built (strings, numbers, booleans, null, dates,
  lists, mappings); any other tag (`!!python/object`, `!!binary`, `!custom`)
  is refused;
- an alias counts as many values as the value it repeats, and a document that
  expands to more than `MAX_NODES` values (an alias "bomb") is refused before
  anything is expanded; aliased values are shared, never copied;
- duplicate keys and merge keys (`<<`) are refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.scenario.limits import MAX_RUN_SIZE, run_size
from sim.scenario.names import ID_FORM, collisions, id_problem
from sim.scenario.schema import DEFAULT_AGREEMENT_IDS, Scenario

MAX_FILE_BYTES = 1_000_000  # a shipped scenario is under 10 kB
MAX_NODES = 20_000  # values after alias expansion; a shipped scenario has a few hundred
MAX_DEPTH = 32  # nesting of lists and mappings; a scenario needs 5
MAX_EXTENDS_DEPTH = 16
MAX_ACTORS = 50  # the model's cost grows with actors squared; the design's cast is five to nine
MAX_ISSUES = 20
MAX_SHOWN_CHARS = 80  # longest piece of a file's text quoted in a message

Location = tuple[str, int, int]  # file, line (1-based), column (1-based)
FieldPath = tuple[Any, ...]
MAX_LISTED_PROBLEMS = 20  # further problems listed in one message; the rest are counted


class ScenarioError(Exception):
    """A scenario file that cannot be used, with where and why.

    `render()` gives the one-paragraph message the CLI prints:
    ``FILE[:LINE[:COLUMN]]: [field 'PATH': ]MESSAGE[ Hint: HINT]``.
    """

    def __init__(
        self,
        file: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field_path: str = "",
        hint: str = "",
        others: tuple[ScenarioError, ...] = (),
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.field_path = field_path
        self.message = message
        self.hint = hint
        self.others = others  # further problems found in the same check, each in full
        super().__init__(self.render())

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: "
        if self.field_path:
            path = self.field_path
            if len(path) > 2 * MAX_SHOWN_CHARS:
                path = path[:MAX_SHOWN_CHARS] + "..." + path[-MAX_SHOWN_CHARS:]
            text += f"field '{path}': "
        text += self.message
        if self.hint:
            text += f" Hint: {self.hint}"
        if self.others:
            shown_others = self.others[:MAX_LISTED_PROBLEMS]
            listed = " ".join(f"({number}) {other.render()}" for number, other in enumerate(shown_others, start=2))
            rest = len(self.others) - len(shown_others)
            text = f"(1) {text} {listed}" + (f" (and {rest} more)" if rest else "")
        return printable(text)


def printable(text: str) -> str:
    """`text` on one line, with control and other invisible characters shown as escapes.

    A scenario's keys and values end up in messages; a newline or a terminal
    escape sequence hidden in a file must not break the one-paragraph message
    or reach the terminal as a command.
    """
    return "".join(
        char
        if char == " " or unicodedata.category(char)[0] not in "CZ"
        else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def shown(value: Any) -> str:
    """A value from a file as it appears in a message: its repr, shortened."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 3] + "..."


@dataclass
class LoadedScenario:
    """A validated scenario, where it came from, and the hash of its file."""

    scenario: Scenario
    path: Path
    sha256: str
    locations: dict[FieldPath, Location] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    parents: list[tuple[Path, str]] = field(default_factory=list)  # (file, sha256) of each `extends:` ancestor
    observed: dict[str, ObservationRows] = field(default_factory=dict)  # the `observations:` series, as read

    def provenance(self) -> dict[str, Any]:
        """The files this scenario is made of, with their hashes, so a reader can verify which produced a result."""
        return {
            "file": self.path.name,
            "sha256": self.sha256,
            "extends": [{"file": parent.name, "sha256": digest} for parent, digest in self.parents],
        }


_Parser: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 30x faster


class _ScenarioYaml(_Parser):  # type: ignore[misc, valid-type]
    """The YAML parser and tag resolver for scenarios: YAML 1.2 booleans only (true/false).

    PyYAML resolves yes/no/on/off to booleans (YAML 1.1); in a scenario that is a trap.
    """


class _ScenarioYamlPure(yaml.SafeLoader):
    """The same, in pure Python: the second reading of a file libyaml refused (see `_Composer.compose`)."""


for _loader in (_ScenarioYaml, _ScenarioYamlPure):
    _loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
    }
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    # `1e-3` and `1.5e3` are numbers in YAML 1.2 and JSON; PyYAML's 1.1 rules read them as text.
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"),
        list("-+.0123456789"),
    )

_YAML = "tag:yaml.org,2002:"
_SCALAR_CONSTRUCTORS = {
    _YAML + "null": yaml.SafeLoader.construct_yaml_null,
    _YAML + "bool": yaml.SafeLoader.construct_yaml_bool,
    _YAML + "int": yaml.SafeLoader.construct_yaml_int,
    _YAML + "float": yaml.SafeLoader.construct_yaml_float,
    _YAML + "str": yaml.SafeLoader.construct_yaml_str,
    _YAML + "timestamp": yaml.SafeLoader.construct_yaml_timestamp,
}
_NO_TAGS_HINT = "only plain YAML values are allowed: no !!python, !!binary, !!set or custom (!name) tags."


def _at(mark: Any) -> tuple[int | None, int | None]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


@dataclass
class _Open:
    """A list or mapping being composed."""

    value: list[Any] | dict[str, Any]
    path: FieldPath
    anchor: str | None
    size: int = 1  # values inside, counting what aliases repeat
    key: str | None = None  # mapping: the key whose value comes next
    key_mark: Any = None  # where that key is written
    key_lines: dict[str, int] = field(default_factory=dict)


class _Composer:
    """Plain Python data from a YAML event stream, with each value's location.

    Iterative, so that no document can exhaust the interpreter's stack; see the
    module docstring for what is refused.
    """

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.locations: dict[FieldPath, Location] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, size)
        self.total = 0
        self.aliases_used = False

    def fail(self, message: str, mark: Any, path: FieldPath = (), hint: str = "") -> ScenarioError:
        line, column = _at(mark)
        return ScenarioError(self.file, message, line=line, column=column, field_path=dotted(path), hint=hint)

    def compose(self) -> Any:
        try:
            return self._compose_with(_ScenarioYaml)
        except yaml.YAMLError as error:
            if _ScenarioYaml is not _ScenarioYamlPure:
                # libyaml reads ahead and has limits of its own (PyYAML 6.0.4's refuses flow nesting past
                # 1,000 levels while scanning), so it can refuse a file before this composer's own checks
                # see the place and field they would name. The pure-Python parser reads the same grammar
                # without those limits: if one of our checks fires first there, that is the error to give.
                self._reset()
                try:
                    self._compose_with(_ScenarioYamlPure)
                except ScenarioError:
                    raise
                except yaml.YAMLError:
                    pass
            raise self._yaml_error(error) from None

    def _reset(self) -> None:
        self.locations.clear()
        self.anchors.clear()
        self.total = 0
        self.aliases_used = False

    def _compose_with(self, loader: type) -> Any:
        parser = self.parser = loader(self.text)
        try:
            return self._events(parser)
        finally:
            parser.dispose()

    def _yaml_error(self, error: yaml.YAMLError) -> ScenarioError:
        if isinstance(error, yaml.MarkedYAMLError):
            return self._syntax_error(error)
        if isinstance(error, yaml.reader.ReaderError):
            return self._character_error(error)
        return ScenarioError(self.file, f"not valid YAML: {_problem(error)}")

    def _events(self, parser: Any) -> Any:
        stack: list[_Open] = []
        root: Any = None
        documents = 0
        while True:
            event = parser.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                return root
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self.fail(
                        "the file holds more than one YAML document (a second `---`)",
                        event.start_mark,
                        hint="keep one scenario per file.",
                    )
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentEndEvent)):
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done = stack.pop()
                if done.anchor is not None:
                    self.anchors[done.anchor] = (done.value, done.size)
                if stack:
                    self._place(stack, done.value, done.size)
                else:
                    root = done.value
                continue
            # A node: a key of the open mapping, or a value.
            top = stack[-1] if stack else None
            if isinstance(top, _Open) and isinstance(top.value, dict) and top.key is None:
                self._take_key(top, event)
                continue
            path = self._child_path(top)
            self._count(1, event.start_mark, path)
            # A mapping entry is located at its key (where an unknown or misspelt field is written,
            # and on the field's line even when its value starts on the next one); a list item at itself.
            mark = top.key_mark if top is not None and isinstance(top.value, dict) else event.start_mark
            self.locations[path] = (self.file, *_at(mark))
            if isinstance(event, yaml.ScalarEvent):
                value = self._scalar(event, path)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1)
                if top is None:
                    root = value
                else:
                    self._place(stack, value, 1)
            elif isinstance(event, yaml.AliasEvent):
                value, size = self._alias(event, stack, path)
                self._count(size - 1, event.start_mark, path)
                if top is None:
                    root = value
                else:
                    self._place(stack, value, size)
            else:  # start of a list or mapping
                is_mapping = isinstance(event, yaml.MappingStartEvent)
                self._check_collection_tag(event, path, is_mapping)
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(
                        f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
                        event.start_mark,
                        path,
                        "a scenario needs only a few levels; check the brackets.",
                    )
                stack.append(_Open({} if is_mapping else [], path, event.anchor))

    def _child_path(self, top: _Open | None) -> FieldPath:
        if top is None:
            return ()
        if isinstance(top.value, dict):
            return (*top.path, top.key)
        return (*top.path, len(top.value))

    def _place(self, stack: list[_Open], value: Any, size: int) -> None:
        top = stack[-1]
        top.size += size
        if isinstance(top.value, dict):
            top.value[top.key] = value
            top.key = None
        else:
            top.value.append(value)

    def _count(self, values: int, mark: Any, path: FieldPath) -> None:
        self.total += values
        if self.total > MAX_NODES:
            if self.aliases_used:
                raise self.fail(
                    f"the document expands to more than {MAX_NODES} values",
                    mark,
                    path,
                    "remove repeated or nested aliases (&anchor / *alias); a scenario is small.",
                )
            raise self.fail(
                f"the document has more than {MAX_NODES} values",
                mark,
                path,
                "a scenario has a few hundred; check that this is the file you meant.",
            )

    def _take_key(self, top: _Open, event: Any) -> None:
        path = top.path
        if not isinstance(event, yaml.ScalarEvent):
            raise self.fail("keys must be plain names, not lists, mappings or aliases", event.start_mark, path)
        self._count(1, event.start_mark, path)
        if event.tag is None and event.implicit[0] and event.value == "<<":
            raise self.fail(
                "merge keys (<<) are not supported",
                event.start_mark,
                path,
                "write the values out, or use `extends:` to reuse another scenario.",
            )
        key = self._scalar(event, path, key=True)
        if isinstance(key, int) and not isinstance(key, bool):
            key = event.value  # a key is a name: `2016` stays the text written, never a reading of it
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            raise self.fail(
                f"keys must be plain names, not {shown(key)}",
                event.start_mark,
                path,
                "put a key that looks like a number, date or true/false in quotes.",
            )
        key = str(key)
        if key in top.value:
            raise self.fail(
                f"duplicate key {shown(key)} (first given on line {top.key_lines[key]})",
                event.start_mark,
                (*path, key),
                "give each key once.",
            )
        top.key_lines[key] = event.start_mark.line + 1
        top.key = key
        top.key_mark = event.start_mark

    def _scalar(self, event: Any, path: FieldPath, key: bool = False) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.parser.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag not in _SCALAR_CONSTRUCTORS:  # plain text that YAML 1.1 gives an odd type (`=`)
                tag = _YAML + "str"
        constructor = _SCALAR_CONSTRUCTORS.get(tag)
        if constructor is None:
            raise self.fail(f"the tag {shown(tag)} is not allowed", event.start_mark, path, _NO_TAGS_HINT)
        if not key:  # a key is a name, kept as written (`_take_key`)
            _check_number_form(self, tag, event, path)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return constructor(_CONSTRUCTOR, node)
        except Exception:  # e.g. 2016-02-30, `!!int 1.5`: any failure is a bad value
            kind = {"timestamp": "date", "int": "whole number", "float": "number"}.get(
                tag.removeprefix(_YAML), tag.removeprefix(_YAML)
            )
            raise self.fail(
                f"cannot read {shown(event.value)} as a {kind}",
                event.start_mark,
                path,
                "write dates as YYYY-MM-DD (a real date) and numbers as plain numbers.",
            ) from None

    def _check_collection_tag(self, event: Any, path: FieldPath, is_mapping: bool) -> None:
        expected = _YAML + ("map" if is_mapping else "seq")
        if event.tag not in (None, "!", expected):
            raise self.fail(f"the tag {shown(event.tag)} is not allowed", event.start_mark, path, _NO_TAGS_HINT)

    def _alias(self, event: Any, stack: list[_Open], path: FieldPath) -> tuple[Any, int]:
        self.aliases_used = True
        if event.anchor in self.anchors:
            return self.anchors[event.anchor]
        if any(frame.anchor == event.anchor for frame in stack):
            raise self.fail(
                f"the alias *{printable(event.anchor)} is used inside the value it names",
                event.start_mark,
                path,
                "an alias cannot contain itself.",
            )
        raise self.fail(
            f"unknown alias *{printable(event.anchor)}",
            event.start_mark,
            path,
            "define the anchor (&name) before using it.",
        )

    def _syntax_error(self, error: yaml.MarkedYAMLError) -> ScenarioError:
        mark = error.problem_mark or error.context_mark
        line, column = _at(mark)
        hint = "check indentation, colons and closing quotes around this place."
        if mark is not None and self._tab_near(mark):
            hint = "the file uses a tab character here; indent with spaces only."
        return ScenarioError(self.file, f"not valid YAML: {_problem(error)}", line=line, column=column, hint=hint)

    def _character_error(self, error: yaml.reader.ReaderError) -> ScenarioError:
        """A character YAML does not allow (control characters other than tab and newline)."""
        index = next((i for i, char in enumerate(self.text) if ord(char) == error.character), None)
        line = column = None
        if index is not None:
            line = self.text.count("\n", 0, index) + 1
            column = index - (self.text.rfind("\n", 0, index) + 1) + 1
        return ScenarioError(
            self.file,
            f"not valid YAML: the character U+{error.character:04X} is not allowed ({error.reason})",
            line=line,
            column=column,
            hint="remove it; a scenario is plain text.",
        )

    def _tab_near(self, mark: Any) -> bool:
        lines = self.text.split("\n", mark.line + 1)
        return mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]


_CONSTRUCTOR = yaml.SafeLoader("")  # a constructor for plain scalars; it never reads a stream

# Numbers as YAML 1.2 and JSON write them. PyYAML reads YAML 1.1, where `1:30` is 90 (base 60), `017` is 15
# (octal), `0x10` is 16, `0b11` is 3 and `1_0` is 10: a value that means something else than it shows.
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(
    r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"  # 0.5, 5., .5, 1e-3, 1.5E+3
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"  # refused later, with their own hint
)


def _check_number_form(composer: _Composer, tag: str, event: Any, path: FieldPath) -> None:
    """Refuse the YAML 1.1 number forms (base 60, octal, hex, binary, underscores) with a hint."""
    if tag == _YAML + "int":
        plain = _PLAIN_INT.fullmatch(event.value)
    elif tag == _YAML + "float":
        plain = _PLAIN_FLOAT.fullmatch(event.value)
    else:
        return
    if plain is None:
        raise composer.fail(
            f"the number {shown(event.value)} is written in a YAML 1.1 form (base 60 like 1:30, a leading 0 like "
            "017, hex like 0x10, binary like 0b11, or digits split by _), which reads as another value",
            event.start_mark,
            path,
            "write the plain decimal number (90, 17, 16, 3, 10), or put the text in quotes if it is a name.",
        )


def _problem(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    return f"{context}, {problem}" if context else str(problem)


def dotted(path: FieldPath) -> str:
    """A field path as written in messages: `actors.us.salience.assad_role`, `sources[2]`."""
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def read_bytes(path: Path) -> bytes:
    """The bytes of a scenario file: a regular file of at most MAX_FILE_BYTES."""
    file = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(
            file, "file not found", hint="check the path; `python cli.py list` shows the shipped scenarios."
        ) from None
    except OSError as error:
        raise ScenarioError(file, f"cannot read the file: {error.strerror or error}") from None
    except ValueError:  # e.g. a NUL character in the path
        raise ScenarioError(printable(file), "is not a usable file name") from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(file, "is a folder, not a scenario file")
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(
            file, "is not a regular file (a device, pipe or socket)", hint="give the path of a .yaml file."
        )
    too_big = ScenarioError(
        file,
        f"file is larger than the {MAX_FILE_BYTES} bytes a scenario may have",
        hint="a scenario is a short text file; check that this is the file you meant.",
    )
    if info.st_size > MAX_FILE_BYTES:
        raise too_big
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    except OSError as error:
        raise ScenarioError(file, f"cannot read the file: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise too_big
    return data


def decode_utf8(data: bytes, file: str, hint: str = "save the file as UTF-8.") -> str:
    """`data` as UTF-8 text without a byte-order mark; a byte that is not UTF-8 is a `ScenarioError` at its
    line and column (counted in characters)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8", errors="replace")) + 1
        raise ScenarioError(
            file,
            f"the file is not valid UTF-8 text (byte 0x{data[error.start]:02x})",
            line=line,
            column=column,
            hint=hint,
        ) from None
    return text.removeprefix("\ufeff")


def read_text(path: Path) -> str:
    """The text of a scenario file (see `read_bytes`), decoded as UTF-8 without a byte-order mark."""
    return decode_utf8(read_bytes(path), str(path))


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[FieldPath, Location]]:
    """Read one YAML file into plain data and a map from field path to location."""
    file = str(path)
    text = read_text(path)
    composer = _Composer(text, file)
    document = composer.compose()
    if document is None:
        raise ScenarioError(
            file, "the file is empty", line=1, column=1, hint="a scenario needs at least name, time, issues and actors."
        )
    if not isinstance(document, dict):
        line, column = composer.locations.get((), (file, 1, 1))[1:]
        kind = "list" if isinstance(document, list) else "single value"
        raise ScenarioError(
            file,
            f"the top level must be a mapping of fields, not a {kind}",
            line=line,
            column=column,
            hint="start with `name: ...` on the first line.",
        )
    return document, composer.locations


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


def _resolve(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[FieldPath, Location], list[Path]]:
    """The merged document of `path` and its `extends:` ancestors, where each value came from, and the
    ancestors' paths, nearest first."""
    document, locations = read_yaml(path)
    parent_name = document.pop("extends", None)
    if parent_name is None:
        return document, locations, []
    file = str(path)
    line, column = locations[("extends",)][1:]
    if not isinstance(parent_name, str) or not parent_name.strip() or "\x00" in parent_name:
        raise ScenarioError(file, "must name another scenario file", line=line, column=column, field_path="extends")
    parent = _parent_path(path, parent_name, line, column)
    if parent in chain or parent == path.resolve():
        cycle = " -> ".join(p.name for p in (*chain, path.resolve(), parent))
        raise ScenarioError(
            file,
            f"`extends:` makes a cycle ({cycle})",
            line=line,
            column=column,
            field_path="extends",
            hint="a scenario cannot extend itself, directly or not.",
        )
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            file, f"`extends:` chain deeper than {MAX_EXTENDS_DEPTH}", line=line, column=column, field_path="extends"
        )
    if not _exists(parent, path, parent_name, line, column):
        raise ScenarioError(
            file,
            f"parent scenario {shown(parent_name)} not found",
            line=line,
            column=column,
            field_path="extends",
            hint="the path is relative to this file's folder.",
        )
    if not parent.is_file():
        raise ScenarioError(
            file,
            f"parent scenario {shown(parent_name)} is not a regular file",
            line=line,
            column=column,
            field_path="extends",
            hint="name a .yaml scenario file.",
        )
    parent_document, parent_locations, ancestors = _resolve(parent, (*chain, path.resolve()))
    merged_locations = {**parent_locations, **locations}
    return deep_merge(parent_document, document), merged_locations, [parent, *ancestors]


def _parent_trouble(path: Path, parent_name: str, line: int, column: int, error: BaseException) -> ScenarioError:
    """A parent that cannot be looked at (a link loop, a name too long, no permission), as a refusal."""
    reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return ScenarioError(
        str(path),
        f"cannot use parent scenario {shown(parent_name)}: {reason}",
        line=line,
        column=column,
        field_path="extends",
        hint="name a readable .yaml file, relative to this file's folder (links must not loop).",
    )


def _parent_path(path: Path, parent_name: str, line: int, column: int) -> Path:
    """The absolute path `extends:` names; a link loop or an unusable name is a refusal, not a traceback."""
    try:
        return (path.parent / parent_name).resolve()
    except (OSError, RuntimeError, ValueError) as error:  # RuntimeError: a symlink loop before Python 3.13
        raise _parent_trouble(path, parent_name, line, column, error) from None


def _exists(parent: Path, path: Path, parent_name: str, line: int, column: int) -> bool:
    """Whether the parent exists; errors other than "no such file" (too long a name, permission) refuse."""
    try:
        parent.stat()
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as error:
        raise _parent_trouble(path, parent_name, line, column, error) from None
    return True


def locate(locations: dict[FieldPath, Location], path: FieldPath, default_file: str) -> Location:
    """The location of the nearest enclosing field that the file names."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in locations:
            return locations[path[:cut]]
    return (default_file, 1, 1)


def _error_at(
    locations: dict[FieldPath, Location], path: FieldPath, file: str, message: str, hint: str = ""
) -> ScenarioError:
    where = locate(locations, path, file)
    return ScenarioError(where[0], message, line=where[1], column=where[2], field_path=dotted(path), hint=hint)


_HINTS = {
    "extra_forbidden": "remove it, or check its spelling against `python cli.py schema`.",
    "missing": "add this field.",
    "finite_number": "use an ordinary number (no .nan or .inf).",
    "literal_error": "use one of the values the message lists.",
    "less_than_equal": "use a value within the field's range (`python cli.py schema` gives every range).",
    "greater_than_equal": "use a value within the field's range (`python cli.py schema` gives every range).",
    "less_than": "use a value within the field's range (`python cli.py schema` gives every range).",
    "greater_than": "use a value within the field's range (`python cli.py schema` gives every range).",
    "date_from_datetime_parsing": "write dates as YYYY-MM-DD.",
    "date_parsing": "write dates as YYYY-MM-DD.",
    "date_type": "write dates as YYYY-MM-DD.",
    "date_from_datetime_inexact": "write dates as YYYY-MM-DD, without a time.",
    "string_type": "write text; put it in quotes if it looks like a number, date or true/false.",
    "bool_type": "write true or false.",
    "bool_parsing": "write true or false.",
    "int_type": "write a whole number.",
    "int_parsing": "write a whole number.",
    "int_from_float": "write a whole number.",
    "float_type": "write a number.",
    "float_parsing": "write a number.",
    "dict_type": "write a mapping: one `name: value` per line, indented under this field.",
    "list_type": "write a list: [a, b] or one `- item` per line.",
    "model_type": "write a mapping: one `name: value` per line, indented under this field.",
}


_NUMBER_TYPES = {"int_type", "float_type", "int_parsing", "float_parsing"}


def _from_validation_error(error: ValidationError, locations: dict[FieldPath, Location], file: str) -> ScenarioError:
    """Every problem pydantic found, numbered in one paragraph: one per field (a value that fits no member of
    a union, e.g. a date or a step, is one problem, not one per member)."""
    problems: dict[FieldPath, Any] = {}
    for item in error.errors():
        problems.setdefault(_clean_loc(item["loc"]), item)
    first, *rest = [_validation_problem(item, locations, file) for item in problems.values()]
    if not rest:
        return first
    return ScenarioError(
        first.file,
        first.message,
        line=first.line,
        column=first.column,
        field_path=first.field_path,
        hint=first.hint,
        others=tuple(rest),
    )


def _validation_problem(first: Any, locations: dict[FieldPath, Location], file: str) -> ScenarioError:
    """One pydantic error as a ScenarioError at its place, with its hint."""
    path = _clean_loc(first["loc"])
    message = first["msg"]
    if isinstance(first.get("input"), bool) and first["type"] in _NUMBER_TYPES:
        message = "true and false are not numbers"  # strict: YAML's true is never read as 1
    quotable = "input" in first and not isinstance(first["input"], (dict, list))
    if quotable and first["type"] not in {"missing", "extra_forbidden"}:
        message += f" (got {shown(first['input'])})"
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    hint = _HINTS.get(first["type"], "")
    if isinstance(first.get("input"), str) and first["type"] in _NUMBER_TYPES:
        hint = "write the number without quotes."
    return _error_at(locations, path, file, message, hint)


def _clean_loc(loc: tuple[Any, ...]) -> FieldPath:
    # pydantic adds the union member or validator name to a location; a user only wants the field path.
    cleaned = []
    for part in loc:
        if isinstance(part, str) and (part in {"date", "int", "str", "float", "none"} or "[" in part or "(" in part):
            continue
        cleaned.append(part)
    return tuple(cleaned)


def listing(names: set[str], limit: int = 12) -> str:
    """Names for a hint, sorted and shortened: `a, b, c` or `a, b, ... (40 in all)`."""
    ordered = sorted(names)
    shown_names = [name if len(name) <= 40 else name[:37] + "..." for name in ordered[:limit]]
    return ", ".join(shown_names) + (f", ... ({len(ordered)} in all)" if len(ordered) > limit else "")


def check_ids(scenario: Scenario, locations: dict[FieldPath, Location], file: str) -> None:
    """Ids of actors, issues, events and agreements, and the parts of `uncertain:` paths, are identifiers
    (`sim.scenario.names`): an empty or odd id would be silently confused with another in the outputs."""
    for section in ("actors", "issues", "events", "agreements", "threats"):
        for name in getattr(scenario, section, None) or {}:
            problem = id_problem(name)
            if problem is not None:
                raise _error_at(
                    locations,
                    (section, name),
                    file,
                    f"{problem} ({section[:-1]} id {shown(name)})",
                    f"{ID_FORM}; e.g. russia, assad_role, withdrawal_2016.",
                )
    for path in scenario.uncertain:
        for part in path.split("."):
            problem = id_problem(part)
            if problem is not None:
                raise _error_at(
                    locations,
                    ("uncertain", path),
                    file,
                    f"'{printable(path)}' is not a dotted path of ids: {problem}",
                    f"{ID_FORM}; write the path as actors.us.war_cost.",
                )


def check_size_and_names(scenario: Scenario, locations: dict[FieldPath, Location], file: str) -> None:
    """The size of one run within `MAX_RUN_SIZE`; no two generated column names alike."""
    size = run_size(scenario.time.steps, len(scenario.actors), len(scenario.issues))
    if size > MAX_RUN_SIZE:
        raise _error_at(
            locations,
            ("time", "steps"),
            file,
            f"one run would have size {size:,} (steps x actors x (actors + issues): {scenario.time.steps} x "
            f"{len(scenario.actors)} x {len(scenario.actors) + len(scenario.issues)}), more than the limit of "
            f"{MAX_RUN_SIZE:,}",
            "use fewer steps (weeks instead of days) or fewer actors.",
        )
    threats = list(getattr(scenario, "threats", None) or {})
    clash = collisions(list(scenario.actors), list(scenario.issues), list(scenario.agreements), threats)
    if clash is not None:
        table, column, source, other = clash
        kind, _, name = source.partition(" ")
        section = {"actor": "actors", "issue": "issues", "agreement": "agreements", "threat": "threats"}[kind]
        name = name.strip("'")
        made = f"also made from {other}" if other else "a column the tool writes anyway"
        raise _error_at(
            locations,
            (section, name) if name in (getattr(scenario, section, None) or {}) else (section,),
            file,
            f"{source} would make the {table} column '{column}', {made}",
            "rename it: ids such as step, at_end or on_<actor> build names the outputs already use.",
        )


def check_references(scenario: Scenario, locations: dict[FieldPath, Location], file: str) -> None:
    """Refuse references to actors and issues that do not exist, and dates outside the scenario."""
    issues = set(scenario.issues)
    actors = set(scenario.actors)
    for key, names, limit in (("actors", actors, MAX_ACTORS), ("issues", issues, MAX_ISSUES)):
        if len(names) > limit:
            raise _error_at(
                locations,
                (key,),
                file,
                f"{len(names)} {key}, more than the {limit} a scenario may have",
                "the model's cost grows with their number; split the question into smaller scenarios.",
            )
    try:
        scenario.time.end  # noqa: B018 - a date past year 9999 cannot be represented
    except OverflowError:
        raise _error_at(
            locations,
            ("time", "start"),
            file,
            f"the scenario would end after the year 9999 ({scenario.time.steps} {scenario.time.step}s "
            f"from {scenario.time.start})",
            "check time.start and time.steps.",
        ) from None

    def need_issue(name: str, path: FieldPath) -> None:
        if name not in issues:
            raise _error_at(
                locations, path, file, f"unknown issue {shown(name)}", f"issues defined: {listing(issues)}."
            )

    for actor_id, actor in scenario.actors.items():
        for key in actor.position:
            need_issue(key, ("actors", actor_id, "position", key))
        for key in actor.salience:
            need_issue(key, ("actors", actor_id, "salience", key))
        for index, key in enumerate(actor.linkage_refused):
            need_issue(key, ("actors", actor_id, "linkage_refused", index))
        for key, weight in actor.salience.items():
            if weight > 0 and key not in actor.position:
                raise _error_at(
                    locations,
                    ("actors", actor_id, "position"),
                    file,
                    f"no ideal point for issue {shown(key)}, which has positive salience",
                    f"add `{key}: <0..1>` to the position.",
                )
        if actor.patron is not None and actor.patron not in actors:
            raise _error_at(
                locations,
                ("actors", actor_id, "patron"),
                file,
                f"unknown actor {shown(actor.patron)}",
                f"actors defined: {listing(actors)}.",
            )
        if actor.patron == actor_id:
            raise _error_at(locations, ("actors", actor_id, "patron"), file, "an actor cannot be its own patron")
        if actor.min_demand > actor.demand:
            raise _error_at(
                locations,
                ("actors", actor_id, "min_demand"),
                file,
                f"min_demand ({actor.min_demand}) is above demand ({actor.demand})",
                "softening lowers demand down to min_demand.",
            )
    _check_agreements(scenario, locations, file, need_issue)
    _check_threats(scenario, locations, file, need_issue)
    if not scenario.agreements and not any(actor.consent_required for actor in scenario.actors.values()):
        raise _error_at(
            locations,
            ("actors",),
            file,
            "no actor has consent_required: true",
            "mark the parties whose consent a deal needs (at least one).",
        )
    if scenario.battlefield is not None:
        for key in ("government_victory", "opposition_victory"):
            outcome = getattr(scenario.battlefield, key)
            for issue in outcome:
                need_issue(issue, ("battlefield", key, issue))
            for issue in issues - set(outcome):
                raise _error_at(
                    locations,
                    ("battlefield", key),
                    file,
                    f"no outcome given for issue {shown(issue)}",
                    f"add `{issue}: <0..1>`.",
                )
    option_names = set(type(next(iter(scenario.actors.values())).options).model_fields)
    for event_id, event in scenario.events.items():
        base = ("events", event_id)
        if event.agreement is not None and event.action != "start_ceasefire":
            raise _error_at(
                locations,
                (*base, "agreement"),
                file,
                f"`agreement` is only read by start_ceasefire, not by '{event.action}'",
                "remove it.",
            )
        if event.action == "start_ceasefire":
            _check_started_agreement(scenario, event.agreement, (*base, "agreement"), locations, file)
        if event.actor is None and event.action != "start_ceasefire":
            raise _error_at(locations, base, file, f"action '{event.action}' needs an actor", "add `actor: <id>`.")
        if event.actor is not None and event.actor not in actors:
            raise _error_at(
                locations,
                (*base, "actor"),
                file,
                f"unknown actor {shown(event.actor)}",
                f"actors defined: {listing(actors)}.",
            )
        if event.action in {"enable_option", "disable_option"} and event.option not in option_names:
            raise _error_at(
                locations,
                (*base, "option"),
                file,
                f"unknown or missing option {shown(event.option)}",
                f"options: {', '.join(sorted(option_names))}.",
            )
        if isinstance(event.at, dt.date):
            if not scenario.time.start <= event.at < scenario.time.end:
                raise _error_at(
                    locations,
                    (*base, "at"),
                    file,
                    f"date {event.at} is outside the scenario ({scenario.time.start} to "
                    f"{scenario.time.end}, exclusive)",
                    "move the event or change time.steps.",
                )
        elif not 0 <= event.at < scenario.time.steps:
            raise _error_at(
                locations,
                (*base, "at"),
                file,
                f"step {event.at} is outside the scenario (0 to {scenario.time.steps - 1})",
            )
    talks = scenario.time.talks_start
    if talks is not None:
        talks_step = scenario.time.first_step_from(talks)
        if not 0 <= talks_step < scenario.time.steps:
            last_step = scenario.time.date_of(scenario.time.steps - 1)
            if isinstance(talks, int):
                message = f"talks_start step {talks} is outside the scenario (0 to {scenario.time.steps - 1})"
            elif scenario.time.start <= talks < scenario.time.end:
                message = (
                    f"talks_start {talks} leaves no step for talks: they open at the first step that starts on "
                    f"or after it, and the last step starts on {last_step}"
                )
            else:
                message = f"talks_start {talks} is outside the scenario ({scenario.time.start} to {scenario.time.end})"
            raise _error_at(locations, ("time", "talks_start"), file, message)
    if scenario.battlefield is None and any(
        event.action in {"withdraw_air", "return_forces", "escalate", "spoil", "start_ceasefire"}
        for event in scenario.events.values()
    ):
        raise _error_at(locations, ("events",), file, "battlefield events need a `battlefield:` section")


def _check_agreements(scenario: Scenario, locations: dict[FieldPath, Location], file: str, need_issue: Any) -> None:
    """The `agreements:` section: known issues (each in one agreement at most), actors and agreements;
    someone to sign each; talks that open inside the scenario."""
    if not scenario.agreements:
        return
    actors, ids = set(scenario.actors), set(scenario.agreements)
    if scenario.battlefield is not None and scenario.battlefield.ceasefire:
        raise _error_at(
            locations,
            ("battlefield", "ceasefire"),
            file,
            "battlefield.ceasefire is set while the scenario defines its own agreements",
            "remove it and write `in_force_at_start: true` on the agreement in force at the start.",
        )
    owner: dict[str, str] = {}
    for agreement_id, agreement in scenario.agreements.items():
        base = ("agreements", agreement_id)
        for index, issue in enumerate(agreement.issues):
            need_issue(issue, (*base, "issues", index))
            if issue in owner:
                raise _error_at(
                    locations,
                    (*base, "issues", index),
                    file,
                    f"issue {shown(issue)} is already covered by agreement {shown(owner[issue])}",
                    "an issue belongs to one agreement at most; move it or merge the agreements.",
                )
            owner[issue] = agreement_id
        for key in ("consent", "bound"):
            for index, actor_id in enumerate(getattr(agreement, key) or []):
                if actor_id not in actors:
                    raise _error_at(
                        locations,
                        (*base, key, index),
                        file,
                        f"unknown actor {shown(actor_id)}",
                        f"actors defined: {listing(actors)}.",
                    )
        signers = agreement.consent
        if signers is None and not any(actor.consent_required for actor in scenario.actors.values()):
            raise _error_at(
                locations,
                base,
                file,
                f"nobody must sign agreement {shown(agreement_id)}: it has no `consent` list and no actor has "
                "consent_required: true",
                "add `consent: [<actor ids>]`.",
            )
        if signers is not None and not signers:
            raise _error_at(
                locations,
                (*base, "consent"),
                file,
                "an agreement needs at least one party to sign it",
                "list the actors who must sign it, or remove `consent` to use those with consent_required: true.",
            )
        for index, other in enumerate(agreement.includes):
            if other not in ids or other == agreement_id:
                raise _error_at(
                    locations,
                    (*base, "includes", index),
                    file,
                    f"unknown agreement {shown(other)}" if other not in ids else "an agreement cannot include itself",
                    f"agreements defined: {listing(ids)}.",
                )
        talks = agreement.talks_start
        if talks is not None and not 0 <= scenario.time.first_step_from(talks) < scenario.time.steps:
            raise _error_at(
                locations,
                (*base, "talks_start"),
                file,
                f"talks_start {talks} is outside the scenario ({scenario.time.start} to {scenario.time.end}, "
                f"steps 0 to {scenario.time.steps - 1})",
                "move it inside the scenario, or remove it to use time.talks_start.",
            )


def _check_threats(scenario: Scenario, locations: dict[FieldPath, Location], file: str, need_issue: Any) -> None:
    """The `threats:` section: known actors on a side, one threat per threatener and instrument, one
    credibility per threatener, a demand of one kind on a known issue or agreement, a deadline inside the
    scenario."""
    actors = set(scenario.actors)
    agreements = set(scenario.agreements) or set(DEFAULT_AGREEMENT_IDS)
    seen: dict[tuple[str, str], str] = {}
    credibility: dict[str, tuple[str, float]] = {}
    for threat_id, threat in scenario.threats.items():
        base = ("threats", threat_id)
        for key in ("by", "against"):
            if getattr(threat, key) not in actors:
                raise _error_at(
                    locations,
                    (*base, key),
                    file,
                    f"unknown actor {shown(getattr(threat, key))}",
                    f"actors defined: {listing(actors)}.",
                )
        if threat.by == threat.against:
            raise _error_at(
                locations, (*base, "against"), file, "an actor cannot threaten itself", "name the target in `against`."
            )
        if scenario.actors[threat.by].side == "neutral":
            raise _error_at(
                locations,
                (*base, "by"),
                file,
                f"actor {shown(threat.by)} is neutral: strikes and safe zones act for one side of the war",
                "give the threatener a `side` (government or opposition).",
            )
        if scenario.battlefield is None:
            raise _error_at(
                locations,
                base,
                file,
                "threats act on the battlefield: the scenario has no `battlefield:`",
                "add a `battlefield:` section, or remove the threat.",
            )
        key = (threat.by, threat.instrument)
        if key in seen:
            raise _error_at(
                locations,
                (*base, "instrument"),
                file,
                f"{shown(threat.by)} already threatens {threat.instrument} in threat {shown(seen[key])}",
                "one threat per threatener and instrument; merge them.",
            )
        seen[key] = threat_id
        weight = threat.credibility * math.exp(-threat.redeploy_days / scenario.battlefield.credibility_tau_days)
        if threat.by in credibility and not math.isclose(credibility[threat.by][1], weight, abs_tol=1e-12):
            raise _error_at(
                locations,
                (*base, "credibility"),
                file,
                f"the credibility of {shown(threat.by)}'s threats differs from that of threat "
                f"{shown(credibility[threat.by][0])}",
                "the model keeps one credibility per threatener: give its threats the same credibility and "
                "redeploy_days.",
            )
        credibility.setdefault(threat.by, (threat_id, weight))
        demand = threat.demand
        if demand is not None:
            by_issue = demand.issue is not None or demand.level is not None
            if by_issue == (demand.agreement is not None) or (
                by_issue and (demand.issue is None or demand.level is None)
            ):
                raise _error_at(
                    locations,
                    (*base, "demand"),
                    file,
                    "a demand is either an issue with a level or an agreement",
                    "write `demand: {issue: <id>, level: <0..1>}` or `demand: {agreement: <id>}`.",
                )
            if demand.issue is not None:
                need_issue(demand.issue, (*base, "demand", "issue"))
            if demand.agreement is not None and demand.agreement not in agreements:
                raise _error_at(
                    locations,
                    (*base, "demand", "agreement"),
                    file,
                    f"unknown agreement {shown(demand.agreement)}",
                    f"agreements defined: {listing(agreements)}.",
                )
        deadline = threat.deadline
        if deadline is not None and not 0 <= scenario.time.step_containing(deadline) < scenario.time.steps:
            raise _error_at(
                locations,
                (*base, "deadline"),
                file,
                f"deadline {deadline} is outside the scenario ({scenario.time.start} to {scenario.time.end}, "
                f"steps 0 to {scenario.time.steps - 1})",
                "move the deadline or change time.steps.",
            )


def _check_started_agreement(
    scenario: Scenario, agreement: str | None, path: FieldPath, locations: dict[FieldPath, Location], file: str
) -> None:
    """A start_ceasefire event begins a known agreement, by default the first bare ceasefire."""
    if not scenario.agreements:
        if agreement is not None and agreement != "ceasefire":
            raise _error_at(
                locations,
                path,
                file,
                f"unknown agreement {shown(agreement)}",
                "without an `agreements:` section the only agreement an event can begin is `ceasefire`.",
            )
        return
    if agreement is None:
        if not any(g.stops_fighting and not g.issues for g in scenario.agreements.values()):
            raise _error_at(
                locations,
                path[:-1],
                file,
                "start_ceasefire names no agreement and the scenario has no bare ceasefire (an agreement "
                "that stops the fighting and has no issues)",
                f"add `agreement: <id>`; agreements defined: {listing(set(scenario.agreements))}.",
            )
        return
    if agreement not in scenario.agreements:
        raise _error_at(
            locations,
            path,
            file,
            f"unknown agreement {shown(agreement)}",
            f"agreements defined: {listing(set(scenario.agreements))}.",
        )


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read, merge, validate and cross-check a scenario file."""
    path = Path(path)
    file = str(path)
    document, locations, ancestors = _resolve(path, ())
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as error:
        raise _from_validation_error(error, locations, file) from None
    check_ids(scenario, locations, file)
    check_references(scenario, locations, file)
    check_size_and_names(scenario, locations, file)
    if scenario.uncertain:
        from sim.scenario.uncertainty import check_uncertain  # late: it loads scipy.stats, a second of start-up

        check_uncertain(scenario, locations, file, _error_at)
    observed = read_observations(scenario, locations, file) if scenario.observations else {}
    digest = hashlib.sha256(read_bytes(path)).hexdigest()
    parents = [(parent, hashlib.sha256(read_bytes(parent)).hexdigest()) for parent in ancestors]
    return LoadedScenario(
        scenario=scenario,
        path=path,
        sha256=digest,
        locations=locations,
        raw=document,
        parents=parents,
        observed=observed,
    )


def scenario_from_mapping(document: dict[str, Any], name: str = "<mapping>") -> Scenario:
    """Validate an in-memory document (tests, sweeps); errors carry field paths but no lines."""
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as error:
        raise _from_validation_error(error, {}, name) from None
    check_ids(scenario, {}, name)
    check_references(scenario, {}, name)
    check_size_and_names(scenario, {}, name)
    return scenario


# ---------------------------------------------------------------------------- observed series (CSV)

MAX_DATA_BYTES = 10_000_000  # an observed series; the shipped ones are under 3 kB
MAX_COUNT = 2**63 - 1  # counts are int64
_WEEK_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH_DATE = re.compile(r"([0-9]{4})-([0-9]{2})")
_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # tab and line breaks are allowed


@dataclass(frozen=True)
class ObservationRows:
    """One observed series as read from its CSV file: the start of each period and its count, in file order.

    Plain Python (no numpy): `sim.scenario.observations` turns it into arrays.
    """

    path: Path  # the CSV file, relative to the scenario file that names it (as opened)
    sha256: str
    dates: tuple[dt.date, ...]  # first day of each week or month
    counts: tuple[int, ...]
    lines: tuple[int, ...]  # the line of each row in the file (1-based)


def read_observations(
    scenario: Scenario, locations: dict[FieldPath, Location], file: str
) -> dict[str, ObservationRows]:
    """Read and check every series of the `observations:` section.

    Each `file:` is relative to the folder of the scenario file that wrote it (with `extends:`, a parent's
    series stays relative to the parent). A problem is a `ScenarioError` naming the CSV file, its line and
    column, and the scenario field; a file that cannot be opened is reported where the scenario names it.
    """
    series: dict[str, ObservationRows] = {}
    for observation_id in scenario.observations:
        problem = id_problem(observation_id)
        if problem is not None:
            raise _error_at(
                locations,
                ("observations", observation_id),
                file,
                f"{problem} (observation id {shown(observation_id)})",
                f"{ID_FORM}; e.g. ru_incidents, ucdp_deaths.",
            )
        _check_exposure(scenario, observation_id, locations, file)
        series[observation_id] = _read_observation(scenario, observation_id, locations, file)
    return series


def _check_exposure(scenario: Scenario, observation_id: str, locations: dict[FieldPath, Location], file: str) -> None:
    """An exposure names an actor of the scenario that has that force at the start (the counts are scaled
    by its force over its force at the start, which must not be 0)."""
    exposure = scenario.observations[observation_id].model.exposure
    if exposure is None:
        return
    base = ("observations", observation_id, "model", "exposure")
    if exposure.actor not in scenario.actors:
        raise _error_at(
            locations,
            (*base, "actor"),
            file,
            f"unknown actor {shown(exposure.actor)}",
            f"use one of: {', '.join(shown(actor) for actor in scenario.actors)}.",
        )
    if getattr(scenario.actors[exposure.actor].forces, exposure.force, 0.0) <= 0.0:
        raise _error_at(
            locations,
            (*base, "force"),
            file,
            f"{shown(exposure.actor)} has no {exposure.force} force at the start, so the counts cannot follow it",
            f"give the actor forces: {{{exposure.force}: ...}}, or name another actor or force.",
        )


class _DataFile:
    """Where an observed series comes from, to make errors that name its file, line and column."""

    def __init__(self, observation_id: str, path: Path, named_at: Location) -> None:
        self.base = ("observations", observation_id)
        self.path = path
        self.named = f"observations.{observation_id}.file in {named_at[0]}:{named_at[1]}:{named_at[2]}"

    def error(self, message: str, line: int | None, column: int | None, key: str, hint: str = "") -> ScenarioError:
        hint = (hint + " " if hint else "") + f"(The file is named by {self.named}.)"
        return ScenarioError(
            str(self.path), message, line=line, column=column, field_path=dotted((*self.base, key)), hint=hint
        )


def _read_observation(
    scenario: Scenario, observation_id: str, locations: dict[FieldPath, Location], file: str
) -> ObservationRows:
    observation = scenario.observations[observation_id]
    file_field = ("observations", observation_id, "file")
    named_at = locate(locations, file_field, file)
    path = Path(named_at[0]).parent / observation.file
    data = _read_data_bytes(
        path, observation.file, lambda message, hint="": _error_at(locations, file_field, file, message, hint)
    )
    source = _DataFile(observation_id, path, named_at)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        line_start = data.rfind(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8", errors="replace")) + 1
        raise source.error(
            f"the data file is not UTF-8 text (byte 0x{data[error.start]:02x}), so not a CSV file",
            line,
            column,
            "file",
            "save it as UTF-8 CSV (comma-separated values with a header line).",
        ) from None
    text = text.removeprefix("\ufeff")
    lines = _LINE_BREAK.split(text)
    control = _CONTROL.search(text)
    if control is not None:
        before = text[: control.start()]
        line = len(_LINE_BREAK.findall(before)) + 1
        column = len(_LINE_BREAK.split(before)[-1]) + 1
        raise source.error(
            f"the data file holds the control character U+{ord(control.group()):04X}, so it is not a CSV text file",
            line,
            column,
            "file",
            "give a CSV file of plain text (comma-separated values with a header line).",
        )
    if lines and lines[-1] == "":
        lines.pop()  # the line break that ends the last line
    if not any(line.strip() for line in lines):
        raise source.error(
            "the data file is empty",
            1,
            1,
            "file",
            "a series is a CSV file with a header line (the column names) and a row per week or month.",
        )
    if not lines[0].strip():
        raise source.error(
            "the first line of the data file is blank",
            1,
            1,
            "file",
            "the first line is the header: the column names, separated by commas.",
        )
    header = _csv_row(lines, 0, source)
    date_key, count_key = observation.date_key, observation.column
    date_index = _header_index(header, date_key, lines[0], source, "date_column", observation.resolution)
    count_index = _header_index(header, count_key, lines[0], source, "column", observation.resolution)
    end_of = _month_end if observation.resolution == "month" else _week_end
    start, end = scenario.time.start, scenario.time.end
    dates: list[dt.date] = []
    counts: list[int] = []
    row_lines: list[int] = []
    first_line: dict[dt.date, int] = {}
    for index in range(1, len(lines)):
        if not lines[index].strip():
            continue  # a blank line holds no row
        line = index + 1
        row = _csv_row(lines, index, source)
        if len(row) != len(header):
            starts = _field_starts(lines[index])
            column = starts[len(header)] if len(row) > len(header) else len(lines[index]) + 1
            raise source.error(
                f"the row has {len(row)} values and the header {len(header)}",
                line,
                column,
                "file",
                "give every row one value per column of the header (an empty value is written as nothing "
                "between two commas).",
            )
        starts = _field_starts(lines[index])
        when = _period_start(row[date_index], observation.resolution, source, line, starts[date_index])
        where = (line, starts[date_index], "date_column")
        if when in first_line:
            raise source.error(
                f"the {observation.resolution} {when:%Y-%m-%d} is given twice (first on line {first_line[when]})",
                *where,
                "give each period once.",
            )
        if dates and when < dates[-1]:
            raise source.error(
                f"the dates are not in order: {shown(row[date_index])} comes after {dates[-1]:%Y-%m-%d} (line "
                f"{row_lines[-1]})",
                *where,
                "sort the rows by date, earliest first.",
            )
        if dates and observation.resolution == "week" and when < _week_end(dates[-1]):
            raise source.error(
                f"the week of {when} overlaps the week of {dates[-1]} (line {row_lines[-1]}): a week is 7 days",
                *where,
                "give one row per week, each 7 days (or more) after the one before.",
            )
        # The window: periods not wholly inside [since, until] are left out, whatever the scenario's span.
        if (observation.since is not None and when < observation.since) or (
            observation.until is not None and end_of(when) - dt.timedelta(days=1) > observation.until
        ):
            continue
        if not (when < end and end_of(when) > start):
            raise source.error(
                f"the {observation.resolution} of {shown(row[date_index])} is outside the scenario ({start} to "
                f"{end}, exclusive)",
                *where,
                "keep only the rows of periods that overlap the scenario's time span, or change time.start "
                "or time.steps.",
            )
        counts.append(_count(row[count_index], count_key, source, line, starts[count_index]))
        first_line[when] = line
        dates.append(when)
        row_lines.append(line)
    if not dates:
        raise source.error(
            "the data file has no rows"
            + (" inside the window (since, until)" if observation.since or observation.until else ""),
            1,
            1,
            "file",
            "add a row per week or month, or widen the window.",
        )
    return ObservationRows(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        dates=tuple(dates),
        counts=tuple(counts),
        lines=tuple(row_lines),
    )


def _read_data_bytes(path: Path, written: str, fail: Any) -> bytes:
    """The bytes of a data file: a regular file of at most MAX_DATA_BYTES (as `read_bytes` for scenarios).

    `written` is the name as the scenario gives it; `fail(message, hint)` makes the error, placed where the
    scenario names the file."""
    name = f"{shown(written)} ({path})"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise fail(
            f"data file {name} not found", "the path is relative to the folder of the scenario file that names it."
        ) from None
    except (OSError, ValueError) as error:  # a link loop, a name too long, no permission, a NUL character
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise fail(f"cannot read data file {name}: {reason}", "name a readable CSV file.") from None
    if stat.S_ISDIR(info.st_mode):
        raise fail(f"data file {name} is a folder", "name a CSV file.")
    if not stat.S_ISREG(info.st_mode):
        raise fail(f"data file {name} is not a regular file (a device, pipe or socket)", "name a CSV file.")
    too_big = fail(
        f"data file {name} is larger than the {MAX_DATA_BYTES} bytes a series may have",
        "a series is a short CSV file (a row per week or month); check that this is the file you meant.",
    )
    if info.st_size > MAX_DATA_BYTES:
        raise too_big
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_DATA_BYTES + 1)  # the file may have grown since stat()
    except OSError as error:
        raise fail(f"cannot read data file {name}: {error.strerror or error}", "name a readable CSV file.") from None
    if len(data) > MAX_DATA_BYTES:
        raise too_big
    return data


def _csv_row(lines: list[str], index: int, source: _DataFile) -> list[str]:
    """One line read as a CSV record (a quoted value may not run onto the next line)."""
    import csv

    try:
        return next(csv.reader([lines[index]], strict=True))
    except csv.Error as error:
        raise source.error(
            f"not a CSV file: {error}",
            index + 1,
            1,
            "file",
            "give comma-separated values, one record per line; close every quote on the line it opens.",
        ) from None


def _field_starts(line: str) -> list[int]:
    """The column (1-based) where each comma-separated value of a line starts, quotes respected."""
    starts = [1]
    quoted = False
    for position, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            starts.append(position + 2)
    return starts


def _header_index(header: list[str], key: str, line: str, source: _DataFile, field_name: str, resolution: str) -> int:
    places = [index for index, name in enumerate(header) if name == key]
    if len(places) > 1:
        starts = _field_starts(line)
        raise source.error(
            f"the header names the column {shown(key)} more than once (columns {places[0] + 1} and {places[1] + 1})",
            1,
            starts[places[1]],
            field_name,
            "give each column a name of its own.",
        )
    if places:
        return places[0]
    default = field_name == "date_column" and key in {"week_start", "month"}
    if default:
        what = f"the default date column of a {resolution}ly series"
    else:
        what = "the date column named by `date_column:`" if field_name == "date_column" else "the count column"
    near = [name for name in header if name.strip().lower() == key.strip().lower()]
    hint = f"columns in the file: {listing(set(header))}."
    if near:
        hint = f"did you mean {shown(near[0])}? The " + hint
    elif len(header) == 1 and any(mark in header[0] for mark in ";\t|"):
        hint = "the file must be comma-separated (it seems to use another separator); " + hint
    if default:
        hint += " Name the date column with `date_column:`."
    raise source.error(f"the data file has no column {shown(key)} ({what})", 1, 1, field_name, hint)


def _period_start(cell: str, resolution: str, source: _DataFile, line: int, column: int) -> dt.date:
    """The first day of the week (YYYY-MM-DD) or month (YYYY-MM) a date cell names."""
    text = cell.strip()
    try:
        if resolution == "week" and _WEEK_DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
        month = _MONTH_DATE.fullmatch(text)
        if resolution == "month" and month:
            return dt.date(int(month.group(1)), int(month.group(2)), 1)
    except ValueError:
        pass
    form = "YYYY-MM-DD, the first day of the week (a real date)" if resolution == "week" else "YYYY-MM (month 01 to 12)"
    raise source.error(
        f"cannot read {shown(cell)} as a {resolution}", line, column, "date_column", f"write each date as {form}."
    )


def _week_end(start: dt.date) -> dt.date:
    """The day after a week that opens on `start` (a date past 9999 counts as the last representable day)."""
    return start + dt.timedelta(days=7) if start <= dt.date.max - dt.timedelta(days=7) else dt.date.max


def _month_end(start: dt.date) -> dt.date:
    """The first day of the next month."""
    if start.month < 12:
        return start.replace(month=start.month + 1)
    return start.replace(year=start.year + 1, month=1) if start.year < dt.MAXYEAR else dt.date.max


def _count(cell: str, key: str, source: _DataFile, line: int, column: int) -> int:
    """A count: a whole number of 0 or more, written as digits."""
    text = cell.strip()
    problem = None
    if _WHOLE.fullmatch(text):
        if len(text) <= 19 and int(text) <= MAX_COUNT:
            return int(text)
        problem = f"the count {shown(cell)} in column {shown(key)} is too large (more than {MAX_COUNT})"
    elif not text:
        problem = f"no count in column {shown(key)}"
    elif _DECIMAL.fullmatch(text) and text.startswith("-"):
        problem = f"the count {shown(cell)} in column {shown(key)} is negative"
    elif _DECIMAL.fullmatch(text) and float(text).is_integer():
        problem = f"the count {shown(cell)} in column {shown(key)} is written with a decimal point or an exponent"
    elif _DECIMAL.fullmatch(text):
        problem = f"the count {shown(cell)} in column {shown(key)} is not a whole number"
    else:
        problem = f"the count {shown(cell)} in column {shown(key)} is not a number"
    raise source.error(
        problem,
        line,
        column,
        "column",
        "a count is a whole number of 0 or more, written with digits only (no sign, decimal point or "
        "exponent); a missing period is a row left out, not an empty value.",
    )
