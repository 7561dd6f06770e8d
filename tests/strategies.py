"""Hypothesis strategies and helpers for property tests: scenario documents, mutated and relabelled.

Documents are plain data read from the shipped scenarios (never written back):
`mutated_documents()` breaks them the ways a hand-edited file breaks, and
`relabel_actors` / `reorder_actors` change them in ways that must not matter.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml
from hypothesis import strategies as st

if TYPE_CHECKING:
    from sim.model.model import NegotiationModel

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = tuple(
    sorted(
        path
        for path in (ROOT / "scenarios").glob("*.yaml")
        if not path.read_text(encoding="utf-8").lstrip().startswith("extends:")
        and "\nextends:" not in path.read_text(encoding="utf-8")
    )
)  # self-contained ones

Doc = dict[str, Any]
PathT = tuple[Any, ...]


@functools.cache
def _parsed(path: Path) -> Doc:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def shipped_document(path: Path) -> Doc:
    """A shipped scenario as plain data (a fresh copy each call)."""
    return copy.deepcopy(_parsed(path))


def dump(document: Any) -> str:
    """YAML text of a document (NaN and infinities come out as .nan / .inf)."""
    return yaml.dump(
        document,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )


def paths_of(node: Any, prefix: PathT = ()) -> Iterator[PathT]:
    """Every path to a value inside `node` (mapping keys and list indexes), parents first."""
    items: Any = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from paths_of(value, (*prefix, key))


def get_at(document: Any, path: PathT) -> Any:
    for part in path:
        document = document[part]
    return document


def set_at(document: Any, path: PathT, value: Any) -> None:
    get_at(document, path[:-1])[path[-1]] = value


def delete_at(document: Any, path: PathT) -> None:
    parent = get_at(document, path[:-1])
    del parent[path[-1]]


def references(document: Doc) -> list[tuple[PathT, bool]]:
    """Places naming an actor or an issue: (path, is_key). A key names by its key, a value by its text."""
    actors = set(document.get("actors") or {}) if isinstance(document.get("actors"), dict) else set()
    issues = set(document.get("issues") or {}) if isinstance(document.get("issues"), dict) else set()
    names = actors | issues
    found = []
    for path in paths_of(document):
        key = path[-1]
        if isinstance(key, str) and key in names and path[0] in ("actors", "issues", "battlefield"):
            found.append((path, True))
        value = get_at(document, path)
        if isinstance(value, str) and value in names:
            found.append((path, False))
    return found


def rename_key(mapping: dict[str, Any], old: str, new: str) -> None:
    """Rename a key in place, keeping the order of the keys."""
    items = [(new if key == old else key, value) for key, value in mapping.items()]
    mapping.clear()
    mapping.update(items)


def relabel_actors(document: Doc, mapping: dict[str, str]) -> Doc:
    """The same scenario with actor ids renamed consistently (keys, patrons, events, the agreements' consent
    and bound lists, the threats' by and against, uncertain paths)."""
    document = copy.deepcopy(document)
    document["actors"] = {mapping.get(key, key): value for key, value in document["actors"].items()}
    for actor in document["actors"].values():
        if actor.get("patron") in mapping:
            actor["patron"] = mapping[actor["patron"]]
    for agreement in (document.get("agreements") or {}).values():
        for key in ("consent", "bound"):
            if agreement.get(key) is not None:
                agreement[key] = [mapping.get(actor_id, actor_id) for actor_id in agreement[key]]
    for threat in (document.get("threats") or {}).values():
        for key in ("by", "against"):
            threat[key] = mapping.get(threat[key], threat[key])
    events = document.get("events") or {}
    for event in events.values() if isinstance(events, dict) else events:
        if event.get("actor") in mapping:
            event["actor"] = mapping[event["actor"]]
    uncertain = document.get("uncertain") or {}
    renamed = {}
    for dotted, spec in uncertain.items():
        parts = dotted.split(".")
        if parts[0] == "actors" and len(parts) > 1 and parts[1] in mapping:
            parts[1] = mapping[parts[1]]
        renamed[".".join(parts)] = spec
    if uncertain:
        document["uncertain"] = renamed
    return document


def reorder_actors(document: Doc, order: list[str]) -> Doc:
    """The same scenario with its actors listed in `order`."""
    document = copy.deepcopy(document)
    document["actors"] = {key: document["actors"][key] for key in order}
    return document


NOT_APPLICABLE_WITHOUT_WAR = {"win_probability", "projected_win_probability"}
UNIT_COLUMNS = {
    "control",
    "win_probability",
    "projected_win_probability",
    "collapse_probability",
    "spoil_probability",
    "utility_of_offer",
    "credibility",
}


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def numeric_frame_problems(model: NegotiationModel) -> list[str]:
    """Columns of the collected data with NaN or infinities, or probabilities/utilities out of [0, 1]."""
    frames = [model.datacollector.get_model_vars_dataframe(), model.datacollector.get_agent_vars_dataframe()]
    problems = []
    for frame in frames:
        for column in frame.columns:
            values = frame[column]
            if pd.api.types.is_bool_dtype(values) or (pd.api.types.is_string_dtype(values) and values.dtype != object):
                continue
            if values.dtype == object:
                values = values[values.map(is_number)]
                if values.empty:
                    continue
            values = values.astype(float).to_numpy()
            if column in NOT_APPLICABLE_WITHOUT_WAR and not model.params.has_battlefield:
                continue  # documented: no war, no war probabilities
            if not np.all(np.isfinite(values)):
                problems.append(f"{column} not finite: {values}")
            elif (column in UNIT_COLUMNS or column.startswith("proposal_")) and not (
                np.all(values >= -1e-12) and np.all(values <= 1 + 1e-12)
            ):
                problems.append(f"{column} outside [0, 1]: {values}")
    return problems


# Values a hand edit (or a hostile file) may put anywhere.
ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    7,
    1.5,
    -0.2,
    10**30,
    "text",
    "",
    "2016-01-01",
    [],
    {},
    [1, 2],
    {"x": 1},
    [None],
    {"nested": {"deeper": [1]}},
    "<script>alert(1)</script>",
    "a\nb",
    "\x1b[31m",
)


def perturbed_numbers(value: float) -> list[Any]:
    """Numbers near and far from `value`, including the ones that break arithmetic."""
    rounded = [int(value)] if math.isfinite(value) and abs(value) < 1e18 else []
    return [
        math.nan,
        math.inf,
        -math.inf,
        1e308,
        -1e308,
        1e-308,
        0,
        0.0,
        -value,
        value * 10,
        value * 1e6,
        value + 1,
        value - 1,
        *rounded,
        10**40,
        -1,
        1.0,
        0.5,
        value * (1 + 1e-12),
    ]


@st.composite
def mutation(draw: st.DrawFn, document: Doc) -> Callable[[Doc], None] | None:
    """One change to `document` (applied in place by the returned function), or None if none applies."""
    paths = list(paths_of(document))
    if not paths:
        return None
    kind = draw(st.sampled_from(["drop", "retype", "perturb", "rename", "unknown_key", "relabel"]))
    if kind == "perturb":
        numeric = [
            p
            for p in paths
            if isinstance(get_at(document, p), (int, float)) and not isinstance(get_at(document, p), bool)
        ]
        if numeric:
            path = draw(st.sampled_from(numeric))
            value = draw(st.sampled_from(perturbed_numbers(float(get_at(document, path)))))
            return lambda doc: set_at(doc, path, value)
        kind = "retype"
    if kind == "rename":
        found = references(document)
        if found:
            path, is_key = draw(st.sampled_from(found))
            suffix = draw(st.sampled_from(["_x", "X", " ", ""]))

            def rename(doc: Doc) -> None:
                if is_key:
                    rename_key(get_at(doc, path[:-1]), path[-1], f"{path[-1]}{suffix}")
                else:
                    set_at(doc, path, f"{get_at(doc, path)}{suffix}")

            return rename
        kind = "drop"
    if kind == "relabel":
        actors = list(document.get("actors") or {}) if isinstance(document.get("actors"), dict) else []
        if actors:
            old = draw(st.sampled_from(actors))
            new = draw(st.sampled_from(["zz_" + old, "a", "actor 1", "über"]))
            if new not in actors:

                def relabel(doc: Doc) -> None:
                    relabelled = relabel_actors(doc, {old: new})
                    doc.clear()
                    doc.update(relabelled)

                return relabel
        kind = "drop"
    if kind == "unknown_key":
        mappings = [()] + [p for p in paths if isinstance(get_at(document, p), dict)]
        path = draw(st.sampled_from(mappings))
        key = draw(st.sampled_from(["unknown_field", "warcost", "Name", "1", "extends_"]))
        value = draw(st.sampled_from(ODD_VALUES))
        return lambda doc: get_at(doc, path).__setitem__(key, copy.deepcopy(value))
    path = draw(st.sampled_from(paths))
    if kind == "drop":
        return lambda doc: delete_at(doc, path)
    value = draw(st.sampled_from(ODD_VALUES))
    return lambda doc: set_at(doc, path, copy.deepcopy(value))


@st.composite
def mutated_documents(draw: st.DrawFn, max_mutations: int = 4) -> Doc:
    """A shipped scenario with one to `max_mutations` random changes."""
    document = shipped_document(draw(st.sampled_from(SHIPPED)))
    for _ in range(draw(st.integers(1, max_mutations))):
        change = draw(mutation(document))
        if change is None:
            break
        try:
            change(document)
        except (KeyError, IndexError, TypeError, AttributeError):
            break  # an earlier change removed what this one targets
    return document


@st.composite
def mangled_texts(draw: st.DrawFn) -> bytes:
    """A shipped scenario's text broken at the character level: lines lost or doubled, tabs,
    stray quotes, brackets and bytes, a cut-off end."""
    text = draw(st.sampled_from(SHIPPED)).read_bytes()
    lines = text.split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "double", "tab", "quote", "bracket", "bytes", "indent", "anchor"]))
        line = lines[index]
        if kind == "delete":
            del lines[index]
        elif kind == "double":
            lines.insert(index, line)
        elif kind == "tab":
            lines[index] = b"\t" + line
        elif kind == "quote":
            lines[index] = line.replace(b": ", b': "', 1)
        elif kind == "bracket":
            lines[index] = line.replace(b": ", b": [", 1)
        elif kind == "bytes":
            lines[index] = line + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf", b"\x1b[2J"]))
        elif kind == "indent":
            lines[index] = b" " * draw(st.integers(1, 3)) + line
        else:
            lines[index] = line.replace(b": ", b": *nowhere ", 1)
        if not lines:
            break
    joined = b"\n".join(lines)
    return joined[: draw(st.integers(0, len(joined)))] if draw(st.booleans()) else joined
