"""Scenarios from other tools' data files: KTAB's spatial-model CSV and XML, and BDM-style CSV.

Analysts of spatial models of politics keep their actors in two common forms:

- KTAB (the KAPSARC Toolkit for Behavioral Analysis), spatial model of politics. CSV: line 1 holds the
  scenario's name, its description, the number of actors and the number of dimensions; line 2 the header
  `Actor,Description,Power,` (the third column's name varies, e.g. `Influence`) then a position and a
  salience column per dimension; then one row per actor, positions on 0 to 100 and saliences 0 to 100
  summing to at most 100 per actor. XML: a `Scenario` element with `name`, `desc`, optional `Dimensions`
  of `dName`s, and `Actors`, each `Actor` with `name`, `description`, `capability`, `Position` (a
  `dCoord` per dimension) and `Salience` (a `dSal` per dimension).
- Bueno de Mesquita's expected-utility model and its replications: one issue, a CSV with the header
  `Actor,Capability,Position,Salience` or `Stakeholder,Resources,Position,Salience`, positions and
  saliences 0 to 100.

`import_ktab` and `import_bdm` read such a file into an `Imported` (every number with the line and column
it came from) and `scenario_yaml` writes it as a scenario without a battlefield, rescaled to 0 to 1, each
number commented with its origin and every other choice marked as an assumption.

How the numbers map: a position p (0-100) becomes p / 100; a salience s becomes s / 100 (the model
normalises an actor's saliences to sum to 1, so only their ratios count within an actor); the absolute
level of an actor's saliences, the share of its power it brings to these issues, goes into its
capability: capability = power x (sum of its saliences / 100), rescaled so that the largest is 1 (only
ratios of capabilities enter the bargaining weights). An actor with no power or no salience takes no part
and is left out (a comment says so).

A file is the user's and may be anything: it is read only if it is a regular file of at most
`MAX_IMPORT_BYTES`, as UTF-8 text; XML is parsed with expat, refusing any document type declaration and
entity declaration (no external entity, no entity expansion can be triggered), and nesting deeper than
`MAX_XML_DEPTH`. Every problem is a `ScenarioError` naming the file, line, column and field.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from sim.scenario.loader import MAX_ACTORS, MAX_ISSUES, ScenarioError, decode_utf8, printable, shown
from sim.scenario.names import MAX_ID_CHARS, collisions, id_problem

MAX_IMPORT_BYTES = 1_000_000  # a file of 50 actors is a few kB
MAX_XML_DEPTH = 16  # a KTAB scenario nests 4 deep
_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
SALIENCE_TOTAL = 100.0
SCALE = 100.0
START_DATE = "2000-01-03"  # a Monday; the files carry no dates
STEPS = 40  # the schema's default
# The model's two free parameters as the DEU III benchmark tuned them on its training half (docs/BENCHMARK.md;
# tests/test_deu_benchmark.py checks that they still agree): the assumption an imported scenario starts from.
BENCHMARK_RISK_EXPONENT = 4.0
BENCHMARK_WAR_COST = 0.1
LOW_TEXT = "0 on the file's scale"
HIGH_TEXT = "100 on the file's scale"


@dataclass
class Cell:
    """A number read from a file and where it was."""

    value: float
    line: int
    column: int
    field: str  # the column's header, or the XML element's path

    def where(self) -> str:
        return f"line {self.line}, column {self.column} ({printable(self.field)})"


@dataclass
class ImportedActor:
    name: str
    description: str
    power: Cell
    positions: list[Cell]
    saliences: list[Cell]
    line: int


@dataclass
class Imported:
    """An imported file: its actors on 0-100 scales, with where each number was."""

    kind: str  # "KTAB CSV", "KTAB XML", "BDM CSV"
    path: str  # as given, for messages
    file_name: str
    sha256: str
    name: str
    description: str
    dimensions: list[str]
    actors: list[ImportedActor]
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- reading


def _read(path: Path) -> tuple[bytes, str]:
    """The bytes of a regular file of at most MAX_IMPORT_BYTES and its text (UTF-8, byte-order mark dropped)."""
    file = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(file, "file not found", hint="check the path.") from None
    except (OSError, ValueError) as error:
        raise ScenarioError(
            printable(file), f"cannot read the file: {getattr(error, 'strerror', None) or error}"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(file, "is a folder, not a data file", hint="give the path of the file to import.")
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(file, "is not a regular file (a device, pipe or socket)", hint="give a data file.")
    too_big = ScenarioError(
        file, f"the file is larger than the {MAX_IMPORT_BYTES:,} bytes an imported file may have",
        hint="a file of actors is a few kilobytes; check that this is the file you meant.",
    )  # fmt: skip
    if info.st_size > MAX_IMPORT_BYTES:
        raise too_big
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_IMPORT_BYTES + 1)
    except OSError as error:
        raise ScenarioError(file, f"cannot read the file: {error.strerror or error}") from None
    if len(data) > MAX_IMPORT_BYTES:
        raise too_big
    return data, decode_utf8(data, file, hint="save it as UTF-8 (in a spreadsheet: CSV UTF-8).")


def _lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def _starts(line: str) -> list[int]:
    """The column (1-based) where each comma-separated value of a line starts, quotes respected."""
    starts, quoted = [1], False
    for position, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            starts.append(position + 2)
    return starts


def _record(lines: list[str], index: int, file: str) -> tuple[list[str], list[int]]:
    """Line `index` (0-based) as CSV values, stripped, without the empty values a trailing comma leaves;
    and the column each value starts at."""
    try:
        values = next(csv.reader([lines[index]], strict=True), [])
    except csv.Error as error:
        raise ScenarioError(
            file,
            f"not a CSV line: {error}",
            line=index + 1,
            column=1,
            hint="give comma-separated values, one record per line; close every quote on the line it opens.",
        ) from None
    starts = _starts(lines[index])[: len(values)]
    # Point at a value's first character, past the blanks before it.
    starts = [start + len(value) - len(value.lstrip()) for start, value in zip(starts, values, strict=False)]
    values = [value.strip() for value in values]
    while values and values[-1] == "":
        values.pop()
    return values, starts[: len(values)]


def _number(
    text: str, file: str, line: int, column: int, field_name: str, low: float | None, high: float | None, what: str
) -> Cell:
    """A number from a cell, within [low, high]."""
    value = text.strip()
    if not _NUMBER.fullmatch(value):
        raise ScenarioError(
            file,
            f"{what} must be a number, not {shown(value)}" if value else f"{what} is missing",
            line=line,
            column=column,
            field_path=field_name,
            hint="write plain numbers with a decimal point, e.g. 42.5.",
        )
    number = float(value)
    if not math.isfinite(number) or (low is not None and number < low) or (high is not None and number > high):
        span = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
        raise ScenarioError(
            file,
            f"{what} must be {span}, not {value}",
            line=line,
            column=column,
            field_path=field_name,
            hint="positions and saliences are on a 0 to 100 scale.",
        )
    return Cell(number, line, column, field_name)


def _check_saliences(actor: ImportedActor, file: str) -> None:
    total = sum(cell.value for cell in actor.saliences)
    if total > SALIENCE_TOTAL + 1e-6:
        first = actor.saliences[0]
        raise ScenarioError(
            file,
            f"the saliences of {shown(actor.name)} add up to {total:g}, more than {SALIENCE_TOTAL:g}",
            line=first.line,
            column=first.column,
            field_path=first.field,
            hint="each actor's saliences are shares of its attention, 0 to 100 in all.",
        )


def _check_actor_count(actors: list[ImportedActor], file: str, line: int, column: int | None = None) -> None:
    if len(actors) < 2:
        raise ScenarioError(
            file, f"the file has {len(actors)} actor(s); a negotiation needs at least 2", line=line,
            column=column, hint="one actor per row (per <Actor> in XML).",
        )  # fmt: skip
    if len(actors) > MAX_ACTORS:
        extra = actors[MAX_ACTORS]
        raise ScenarioError(
            file,
            f"the file has {len(actors)} actors, more than the {MAX_ACTORS} a scenario may have",
            line=extra.line,
            column=1,
            hint="keep the most capable actors, or merge small ones.",
        )
    seen: dict[str, int] = {}
    for actor in actors:
        key = actor.name.casefold()
        if key in seen:
            raise ScenarioError(
                file,
                f"actor {shown(actor.name)} appears twice (first on line {seen[key]})",
                line=actor.line,
                column=1,
                hint="give each actor one row.",
            )
        seen[key] = actor.line


def _row_length(
    file: str, line: int, values: list[str], columns: list[int], header: list[str], wanted: int
) -> ScenarioError:
    """The error for a row with more or fewer values than the header has columns."""
    if len(values) < wanted:
        return ScenarioError(
            file,
            f"this row has {len(values)} values; the header has {wanted} columns, so {header[len(values)]} is missing",
            line=line,
            column=columns[-1] if columns else 1,
            field_path=header[len(values)],
            hint="one value under each header column; a missing number cannot be guessed.",
        )
    return ScenarioError(
        file,
        f"this row has {len(values)} values; the header has only {wanted} columns",
        line=line,
        column=columns[wanted],
        hint="one value under each header column; quote a value that holds a comma.",
    )


def _actor_name(text: str, file: str, line: int, column: int, field_name: str) -> str:
    if not text.strip():
        raise ScenarioError(file, "the actor's name is empty", line=line, column=column, field_path=field_name)
    return text.strip()


def import_ktab(path: str | Path) -> Imported:
    """Read a KTAB spatial-model file, CSV or XML (told apart by its first character)."""
    path = Path(path)
    data, text = _read(path)
    if text.lstrip().startswith("<"):
        return _ktab_xml(path, data)
    return _ktab_csv(path, data, text)


def _ktab_csv(path: Path, data: bytes, text: str) -> Imported:
    file = str(path)
    lines = _lines(text)
    first, starts = _record(lines, 0, file)
    if len(first) < 4:
        raise ScenarioError(
            file,
            f"line 1 must give the scenario's name, its description, the number of actors and of dimensions; it has "
            f"{len(first)} value(s)",
            line=1,
            column=1,
            hint="e.g. My scenario,What it is about,7,3",
        )
    counts = []
    for index, what in ((2, "the number of actors"), (3, "the number of dimensions")):
        cell = _number(first[index], file, 1, starts[index], f"line 1 value {index + 1}", 1, None, what)
        if cell.value != int(cell.value):
            raise ScenarioError(
                file, f"{what} must be a whole number, not {first[index]}", line=1, column=starts[index]
            )
        counts.append(int(cell.value))
    n_actors, n_dimensions = counts
    if n_dimensions > MAX_ISSUES:
        raise ScenarioError(
            file,
            f"{n_dimensions} dimensions, more than the {MAX_ISSUES} issues a scenario may have",
            line=1,
            column=starts[3],
        )
    if len(lines) < 2:
        raise ScenarioError(file, "line 2 must be the header (Actor,Description,Power,...)", line=2, column=1)
    header, header_starts = _record(lines, 1, file)
    wanted = 3 + 2 * n_dimensions
    for index, name in ((0, "Actor"), (1, "Description")):
        if len(header) <= index or header[index].casefold() != name.casefold():
            found = header[index] if len(header) > index else ""
            raise ScenarioError(
                file,
                f"header column {index + 1} must be {name}, not {shown(found)}",
                line=2,
                column=header_starts[index] if index < len(header_starts) else 1,
                hint="line 2 is Actor,Description,Power, then a position and a salience column per dimension.",
            )
    blank = next((i for i, name in enumerate(header) if not name), None)
    if blank is not None:
        raise ScenarioError(
            file, f"header column {blank + 1} has no name", line=2, column=header_starts[blank],
            hint="name every column: a position and a salience column per dimension.",
        )  # fmt: skip
    if len(header) != wanted:
        column = header_starts[min(len(header), wanted) - 1] if header_starts else 1
        raise ScenarioError(
            file,
            f"the header has {len(header)} columns; line 1 gives {n_dimensions} dimension(s), so it needs "
            f"{wanted}: Actor, Description, Power, then a position and a salience column per dimension",
            line=2,
            column=column,
        )
    dimensions = [_dimension_name(header[3 + 2 * k], k) for k in range(n_dimensions)]
    actors: list[ImportedActor] = []
    for index in range(2, len(lines)):
        values, columns = _record(lines, index, file)
        if not values:
            continue
        line = index + 1
        if len(values) != wanted:
            raise _row_length(file, line, values, columns, header, wanted)
        name = _actor_name(values[0], file, line, columns[0], header[0])
        power = _number(values[2], file, line, columns[2], header[2], 0.0, None, f"{header[2]} (power)")
        positions, saliences = [], []
        for k in range(n_dimensions):
            p, s = 3 + 2 * k, 4 + 2 * k
            positions.append(_number(values[p], file, line, columns[p], header[p], 0.0, SCALE, "a position"))
            saliences.append(_number(values[s], file, line, columns[s], header[s], 0.0, SCALE, "a salience"))
        actor = ImportedActor(name, values[1], power, positions, saliences, line)
        _check_saliences(actor, file)
        actors.append(actor)
    _check_actor_count(actors, file, 3)
    if len(actors) != n_actors:
        raise ScenarioError(
            file,
            f"line 1 says {n_actors} actors, the file has {len(actors)} actor rows",
            line=1,
            column=starts[2],
            hint="correct the count on line 1, or add the missing rows.",
        )
    digest = hashlib.sha256(data).hexdigest()
    return Imported("KTAB CSV", file, path.name, digest, first[0] or path.stem, first[1], dimensions, actors)


def _dimension_name(header: str, index: int) -> str:
    """A dimension's name from its position column's header: 'Policy Position' -> 'Policy'; 'Pstn1' ->
    'dimension 1'."""
    name = re.sub(r"(?i)\b(?:position|pstn|pos)\b|pstn\d*$", "", header).strip(" _-:")
    return name if name and not name.isdigit() else f"dimension {index + 1}"


# --------------------------------------------------------------------------------------------- KTAB XML


@dataclass
class _Element:
    tag: str
    line: int
    column: int
    path: str
    children: list[_Element] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    def all(self, tag: str) -> list[_Element]:
        return [child for child in self.children if child.tag == tag]

    def one(self, tag: str, file: str, required: bool = True) -> _Element | None:
        found = self.all(tag)
        if not found and required:
            raise ScenarioError(
                file,
                f"<{self.tag}> has no <{tag}> element",
                line=self.line,
                column=self.column,
                field_path=f"{self.path}/{tag}",
                hint="see KTAB's smpSchema.xsd for the elements a scenario needs.",
            )
        if len(found) > 1:
            second = found[1]
            raise ScenarioError(
                file, f"<{self.tag}> has more than one <{tag}>", line=second.line, column=second.column,
                field_path=second.path,
            )  # fmt: skip
        return found[0] if found else None


class _RefusedError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def _parse_xml(data: bytes, file: str) -> _Element:
    """The element tree of an XML document, each element with its line and column, by expat.

    A document type declaration (and so any entity declaration, external entity or entity expansion) is
    refused, as is nesting deeper than MAX_XML_DEPTH.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Element] = []
    roots: list[_Element] = []

    def here() -> tuple[int, int]:
        return parser.CurrentLineNumber, parser.CurrentColumnNumber + 1

    def refuse(what: str) -> Callable[..., None]:
        def handler(*_args: object) -> None:
            raise _RefusedError(what, *here())

        return handler

    parser.StartDoctypeDeclHandler = refuse("a document type declaration (<!DOCTYPE>) is not accepted")
    parser.EntityDeclHandler = refuse("entity declarations are not accepted")
    parser.UnparsedEntityDeclHandler = refuse("entity declarations are not accepted")
    parser.NotationDeclHandler = refuse("notation declarations are not accepted")
    parser.ExternalEntityRefHandler = refuse("external entities are not accepted")

    def start(tag: str, _attributes: dict[str, str]) -> None:
        line, column = here()
        if len(stack) >= MAX_XML_DEPTH:
            raise _RefusedError(f"elements nest more than {MAX_XML_DEPTH} deep", line, column)
        if stack:
            siblings = sum(1 for child in stack[-1].children if child.tag == tag)
            path = f"{stack[-1].path}/{tag}[{siblings + 1}]"
        else:
            path = f"/{tag}"
        element = _Element(tag, line, column, path)
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def characters(text: str) -> None:
        if stack:
            stack[-1].parts.append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except _RefusedError as refused:
        raise ScenarioError(
            file,
            refused.message,
            line=refused.line,
            column=refused.column,
            hint="a KTAB scenario is plain XML elements; remove the declaration.",
        ) from None
    except expat.ExpatError as error:
        raise ScenarioError(
            file,
            f"not well-formed XML: {expat.ErrorString(error.code)}",
            line=error.lineno,
            column=error.offset + 1,
            hint="check that every element is closed and that & is written &amp;.",
        ) from None
    return roots[0]


def _ktab_xml(path: Path, data: bytes) -> Imported:
    file = str(path)
    root = _parse_xml(data, file)
    if root.tag != "Scenario":
        raise ScenarioError(
            file, f"the root element is <{root.tag}>, not <Scenario>", line=root.line, column=root.column,
            hint="a KTAB spatial-model scenario starts with <Scenario>.",
        )  # fmt: skip
    name = root.one("name", file)
    description = root.one("desc", file, required=False)
    dimension_block = root.one("Dimensions", file, required=False)
    actors_block = root.one("Actors", file)
    assert name is not None and actors_block is not None
    declared = [d.text for d in dimension_block.all("dName")] if dimension_block is not None else None
    actors: list[ImportedActor] = []
    count = None
    for element in actors_block.all("Actor"):
        actor_name = element.one("name", file)
        actor_description = element.one("description", file, required=False)
        capability = element.one("capability", file)
        position = element.one("Position", file)
        salience = element.one("Salience", file)
        assert actor_name is not None and capability is not None and position is not None and salience is not None
        coords, sals = position.all("dCoord"), salience.all("dSal")
        expected = len(declared) if declared is not None else count if count is not None else len(coords)
        for block, items, tag in ((position, coords, "dCoord"), (salience, sals, "dSal")):
            if len(items) != expected:
                raise ScenarioError(
                    file,
                    f"<{block.tag}> has {len(items)} <{tag}> element(s); the scenario has {expected} dimension(s)",
                    line=block.line,
                    column=block.column,
                    field_path=block.path,
                    hint="one value per dimension, in the order of <Dimensions>.",
                )
        count = expected
        if expected == 0:
            raise ScenarioError(
                file, "<Position> has no <dCoord>: the scenario has no dimension", line=position.line,
                column=position.column, field_path=position.path, hint="give one <dCoord> per dimension.",
            )  # fmt: skip
        if expected > MAX_ISSUES:
            raise ScenarioError(
                file, f"{expected} dimensions, more than the {MAX_ISSUES} issues a scenario may have",
                line=position.line, column=position.column, field_path=position.path,
            )  # fmt: skip

        def cell(item: _Element, low: float, high: float | None, what: str) -> Cell:
            return _number(item.text, file, item.line, item.column, item.path, low, high, what)

        actor = ImportedActor(
            _actor_name(actor_name.text, file, actor_name.line, actor_name.column, actor_name.path),
            actor_description.text if actor_description is not None else "",
            cell(capability, 0.0, None, "capability"),
            [cell(item, 0.0, SCALE, "a position (dCoord)") for item in coords],
            [cell(item, 0.0, SCALE, "a salience (dSal)") for item in sals],
            element.line,
        )
        _check_saliences(actor, file)
        actors.append(actor)
    _check_actor_count(actors, file, actors_block.line, actors_block.column)
    dimensions = declared if declared is not None else [f"dimension {k + 1}" for k in range(count or 0)]
    dimensions = [d or f"dimension {k + 1}" for k, d in enumerate(dimensions)]
    notes = []
    if root.one("IdealAdjustment", file, required=False) is not None:
        notes.append("The file's IdealAdjustment pairs (KTAB's ideal-point updating) have no counterpart here.")
    if root.one("ModelParameters", file, required=False) is not None:
        notes.append("The file's ModelParameters (KTAB's own model options) have no counterpart here.")
    return Imported(
        "KTAB XML",
        file,
        path.name,
        hashlib.sha256(data).hexdigest(),
        name.text or path.stem,
        description.text if description is not None else "",
        dimensions,
        actors,
        notes,
    )


# --------------------------------------------------------------------------------------------- BDM CSV

BDM_HEADERS = (("actor", "capability", "position", "salience"), ("stakeholder", "resources", "position", "salience"))


def import_bdm(path: str | Path) -> Imported:
    """Read a BDM-style CSV: one issue, a row per actor (name, capability, position 0-100, salience 0-100)."""
    path = Path(path)
    data, text = _read(path)
    file = str(path)
    lines = _lines(text)
    header, starts = _record(lines, 0, file)
    folded = tuple(h.casefold() for h in header)
    if folded not in BDM_HEADERS:
        column = next(
            (starts[i] for i, h in enumerate(folded) if i >= 4 or h not in (BDM_HEADERS[0][i], BDM_HEADERS[1][i])),
            starts[-1] if starts else 1,
        )
        raise ScenarioError(
            file,
            f"line 1 must be the header Actor,Capability,Position,Salience (or Stakeholder,Resources,Position,"
            f"Salience), not {shown(','.join(header))}",
            line=1,
            column=column,
            hint="comma-separated, four columns, in that order.",
        )
    actors = []
    for index in range(1, len(lines)):
        values, columns = _record(lines, index, file)
        if not values:
            continue
        line = index + 1
        if len(values) != 4:
            raise _row_length(file, line, values, columns, header, 4)
        name = _actor_name(values[0], file, line, columns[0], header[0])
        power = _number(values[1], file, line, columns[1], header[1], 0.0, None, header[1])
        position = _number(values[2], file, line, columns[2], header[2], 0.0, SCALE, "the position")
        salience = _number(values[3], file, line, columns[3], header[3], 0.0, SCALE, "the salience")
        actors.append(ImportedActor(name, "", power, [position], [salience], line))
    _check_actor_count(actors, file, 2)
    return Imported("BDM CSV", file, path.name, hashlib.sha256(data).hexdigest(), path.stem, "", [path.stem], actors)


# --------------------------------------------------------------------------------------------- writing


# Plain words YAML 1.1 reads as booleans or null: an id never is one.
YAML_WORDS = frozenset({"y", "yes", "n", "no", "true", "false", "on", "off", "null"})


def slug(text: str, fallback: str) -> str:
    """An id from a name: ASCII letters, digits and underscores, starting with a letter (`fallback` if
    nothing is left, or its prefix if the name starts with a digit), at most MAX_ID_CHARS characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if not stem:
        stem = fallback
    elif not stem[0].isalpha():
        stem = f"{fallback}_{stem}"
    elif stem in YAML_WORDS:  # `no:` as a key would be read as false
        stem = f"{stem}_{fallback}"
    return stem[:MAX_ID_CHARS].rstrip("_")


def _unique(names: list[str], fallback: str) -> list[str]:
    ids: list[str] = []
    for name in names:
        base = slug(name, fallback)
        candidate, number = base, 2
        while candidate in ids:
            suffix = f"_{number}"
            candidate = base[: MAX_ID_CHARS - len(suffix)] + suffix
            number += 1
        ids.append(candidate)
    return ids


def _ids(imported: Imported, taking_part: list[ImportedActor]) -> tuple[list[str], list[str]]:
    """Actor and issue ids, renamed until no column name the outputs build from them is made twice."""
    actors = _unique([a.name for a in taking_part], "actor")
    issues = _unique(imported.dimensions, "issue")
    for _ in range(len(actors) + len(issues) + 1):
        clash = collisions(actors, issues, [])
        if clash is None:
            break
        _, _, source, _ = clash
        kind, _, name = source.partition(" ")
        name = name.strip("'")
        group = actors if kind == "actor" else issues
        if name not in group:
            break
        group[group.index(name)] = (name + "_" + kind)[:MAX_ID_CHARS]
    for identifier in (*actors, *issues):
        assert id_problem(identifier) is None, identifier
    return actors, issues


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar that reads back exactly: JSON's escapes, plus \\u escapes for every
    control, format, separator and other invisible character (YAML treats some as line breaks)."""
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    escaped = "".join(
        char if char == " " or unicodedata.category(char)[0] not in "CZ" else _escape(char) for char in body
    )
    return f'"{escaped}"'


def _comment(text: str) -> str:
    """Text safe on one comment line: control and invisible characters shown as escapes."""
    return printable(text)


def _fixed(value: float, digits: int = 6) -> str:
    """A number in plain fixed-point form (YAML reads 1e-06 as text), trailing zeros dropped."""
    text = f"{value:.{digits}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def effective_power(actor: ImportedActor) -> float:
    """power x (sum of the actor's saliences / 100): the share of its power it brings to these issues."""
    return actor.power.value * sum(s.value for s in actor.saliences) / SALIENCE_TOTAL


def split_taking_part(imported: Imported) -> tuple[list[ImportedActor], list[ImportedActor]]:
    """The actors that take part (power and salience above 0) and those left out."""
    taking_part = [actor for actor in imported.actors if effective_power(actor) > 0]
    return taking_part, [actor for actor in imported.actors if effective_power(actor) <= 0]


def _places(cells: list[Cell]) -> str:
    """Where some numbers were: 'line 3, columns 4, 6' when on one line, else 'line 16 column 17, line 17 ...'."""
    if len({cell.line for cell in cells}) == 1:
        label = "column" if len(cells) == 1 else "columns"
        return f"line {cells[0].line}, {label} " + ", ".join(str(cell.column) for cell in cells)
    return ", ".join(f"line {cell.line} column {cell.column}" for cell in cells)


def scenario_yaml(imported: Imported) -> str:
    """The scenario file for an imported file: a scenario without a battlefield, every number commented
    with the line and column it came from, or marked as an assumption."""
    taking_part, left_out = split_taking_part(imported)
    effective = {id(actor): effective_power(actor) for actor in taking_part}
    if len(taking_part) < 2:
        raise ScenarioError(
            imported.path,
            f"only {len(taking_part)} actor(s) have both power and salience above 0; a negotiation needs 2",
            hint="an actor with no power or no salience takes no part.",
        )
    largest = max(effective[id(actor)] for actor in taking_part)
    actor_ids, issue_ids = _ids(imported, taking_part)
    source = imported.file_name
    lines = [
        "# A scenario imported from another tool's file; check it with `python cli.py validate`.",
        f"# Imported from {_comment(source)} ({imported.kind}), sha256 {imported.sha256},",
        "# by `negotiation-sim import`. Every number comes from that file (line and column given) or is marked",
        "# as an assumption. Positions and saliences are rescaled from the file's 0-100 scale to 0-1; an actor's",
        "# capability is its power times the sum of its saliences / 100 (the share of its power it brings to",
        "# these issues), divided by the largest such product. There is no battlefield: without a deal each",
        "# actor lives with the status quo. Edit the assumptions before drawing conclusions.",
    ]
    for note in imported.notes:
        lines.append(f"# Note: {_comment(note)}")
    for actor in left_out:
        lines.append(
            f"# Left out: {_comment(actor.name)} (line {actor.line}): power or salience 0, so it takes no part."
        )
    lines += [
        f"name: {quoted(imported.name)}",
        f"description: {quoted(imported.description or f'Imported from {source} ({imported.kind}).')}",
        f"sources: [{quoted(source)}]",
        "seed: 42  # Assumption: the model's default seed",
        "time:",
        f"  start: {START_DATE}  # Assumption: the file gives no dates; steps are counted from here",
        "  step: week",
        f"  steps: {STEPS}  # Assumption: the model's default length",
        "",
        "issues:",
    ]
    for k, (issue_id, dimension) in enumerate(zip(issue_ids, imported.dimensions, strict=True)):
        lines += [
            f"  {issue_id}:  # {_comment(dimension)}, dimension {k + 1} of the file",
            f"    low: {quoted(LOW_TEXT)}",
            f"    high: {quoted(HIGH_TEXT)}",
            "    status_quo: 0.5  # Assumption: the file gives no status quo; the middle of the scale",
        ]
    lines += ["", "actors:"]
    for actor_id, actor in zip(actor_ids, taking_part, strict=True):
        total = sum(s.value for s in actor.saliences)
        capability = max(effective[id(actor)] / largest, 1e-6)
        positions = ", ".join(
            f"{i}: {_fixed(c.value / SCALE)}" for i, c in zip(issue_ids, actor.positions, strict=True)
        )
        saliences = ", ".join(
            f"{i}: {_fixed(c.value / SCALE)}" for i, c in zip(issue_ids, actor.saliences, strict=True)
        )
        lines += [
            f"  {actor_id}:  # line {actor.line}",
            f"    name: {quoted(actor.name)}",
        ]
        if actor.description:
            lines.append(f"    description: {quoted(actor.description)}")
        lines += [
            "    consent_required: true  # Assumption: the file does not say who can block a deal; here everyone can",
            f"    position: {{{positions}}}  # {_places(actor.positions)}, / 100",
            f"    salience: {{{saliences}}}  # {_places(actor.saliences)}, / 100",
            f"    risk_exponent: {_fixed(BENCHMARK_RISK_EXPONENT)}  # Assumption: as tuned on the DEU III benchmark "
            "(docs/BENCHMARK.md)",
            f"    war_cost: {_fixed(BENCHMARK_WAR_COST)}  # Assumption: the weekly cost of no deal tuned on the same "
            "benchmark",
            f"    capability: {_fixed(capability)}  # line {actor.power.line}, column {actor.power.column}: power "
            f"{actor.power.value:g} x saliences {total:g} / 100, / the largest ({largest:g})",
        ]
    return "\n".join(lines) + "\n"
