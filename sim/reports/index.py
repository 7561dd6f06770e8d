"""`reports/index.html`: every report in a reports folder, newest first, each with its outcome in one sentence.

Commands that write into a folder inside a `reports/` folder call `refresh_index(folder)` after
writing; the index is rebuilt from what is on disk (each report folder's `summary.json`), so it is
always complete and a report deleted by hand simply drops out. Outside a `reports/` folder nothing
is written.

The index is rebuilt after a command's own outputs are in place, from folders anyone may have written
into; so nothing found there can stop it: a summary that is not a regular file of at most
`MAX_SUMMARY_BYTES`, or is nested too deeply, or a folder that cannot be read, is skipped with a
`sim.outputs.SkippedFile` warning (`sim.outputs.read_json_file`).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sim import __version__
from sim.outputs import OutputError, SkippedFile, read_json_file
from sim.reports.figures import esc

INDEX_NAME = "index.html"
REPORTS_DIR_NAME = "reports"
MAX_DEPTH = 4  # report folders are looked for this many levels below reports/
MAX_SUMMARY_BYTES = 10_000_000  # a run's summary is ~10 kB, an ensemble's ~40 kB, a sweep's ~0.5 kB a grid point
KIND_WORDS = {
    "run": "run",
    "compare": "comparison",
    "ensemble": "ensemble",
    "sweep": "sweep",
    "sensitivity": "sensitivity",
}


@dataclass(frozen=True)
class IndexEntry:
    """One report folder as the index shows it."""

    folder: Path  # relative to the reports folder
    page: str  # the report's HTML file name
    title: str
    outcome: str
    kind: str
    written: float  # modification time of the report page (seconds since the epoch)


def reports_root(folder: Path) -> Path | None:
    """The nearest folder named `reports` that holds `folder` (or is it), else None."""
    folder = Path(os.path.abspath(folder))
    for candidate in (folder, *folder.parents):
        if candidate.name == REPORTS_DIR_NAME:
            return candidate
    return None


def _summary_of(folder: Path) -> dict[str, Any]:
    """The report's summary.json, or {} when it is missing or unusable (then skipped with a warning)."""
    data = read_json_file(folder / "summary.json", MAX_SUMMARY_BYTES)
    return data if isinstance(data, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def describe(folder: Path, root: Path) -> IndexEntry | None:
    """The index entry of a report folder, or None if `folder` holds no report page."""
    pages = sorted(p.name for p in folder.glob("*.html") if p.is_file() and p.name != INDEX_NAME)
    if not pages:
        return None
    page = "report.html" if "report.html" in pages else pages[0]
    summary = _summary_of(folder)
    scenario = summary.get("scenario")
    scenario_name = _text(scenario.get("name")) if isinstance(scenario, dict) else _text(scenario)
    scenarios = summary.get("scenarios")
    if not scenario_name and isinstance(scenarios, list):
        scenario_name = " vs ".join(_text(s.get("name")) if isinstance(s, dict) else _text(s) for s in scenarios)
    title = _text(summary.get("title")) or scenario_name or folder.name
    kind = _text(summary.get("kind")) or ("run" if "deal" in summary else "")
    outcome = _text(summary.get("outcome")) or _text(summary.get("outcome_sentence"))
    if not summary:
        outcome = outcome or "(its summary.json is missing or unreadable)"
    return IndexEntry(folder.relative_to(root), page, title, outcome, kind, (folder / page).stat().st_mtime)


def collect(root: Path) -> list[IndexEntry]:
    """Every report folder under `root`, newest first (ties by path, for a stable order)."""
    entries: list[IndexEntry] = []
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            continue
        for child in children:
            entry = _described(child, root)
            if entry is not None:
                entries.append(entry)
            if depth + 1 < MAX_DEPTH:
                stack.append((child, depth + 1))
    return sorted(entries, key=lambda e: (-e.written, e.folder.as_posix()))


def _described(folder: Path, root: Path) -> IndexEntry | None:
    """`describe(folder)`, or None (with a warning) when the folder cannot be read: one report folder
    someone broke must not stop the index of all the others."""
    try:
        return describe(folder, root)
    except OSError as error:
        warnings.warn(f"{folder}: skipped in the reports index ({error.strerror or error}).", SkippedFile, stacklevel=2)
        return None


def _written_at(seconds: float) -> str:
    """The report's modification time as text; a time no calendar holds (set by hand) is shown as unknown."""
    try:
        return dt.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")
    except (ValueError, OverflowError, OSError):
        return "at an unknown time"


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2327; margin: 0;
       background: #f6f8fa; line-height: 1.45; }
main { max-width: 980px; margin: 0 auto; padding: 1.2rem; }
h1 { font-size: 1.5rem; margin: 0 0 .3rem; }
p.lead { color: #5f6b73; margin: 0 0 1rem; }
ol.reports { list-style: none; padding: 0; margin: 0; }
ol.reports li { background: white; border: 1px solid #dde3e8; border-radius: 8px; padding: .7rem 1rem;
                margin: .6rem 0; }
ol.reports a { font-weight: 600; font-size: 1.05rem; color: #1f5fa8; text-decoration: none; }
ol.reports a:hover { text-decoration: underline; }
.outcome { margin: .25rem 0; }
.meta { color: #5f6b73; font-size: .85rem; }
.kind { display: inline-block; font-size: .72rem; text-transform: uppercase; letter-spacing: .05em; background: #eef4fb;
        color: #1f5fa8; border-radius: 3px; padding: 0 .35rem; margin-left: .4rem; vertical-align: .1rem; }
footer { color: #5f6b73; font-size: .8rem; margin: 1.5rem 0; }
@media (max-width: 700px) { main { padding: .5rem; } h1 { font-size: 1.25rem; } }
@media print { body { background: white; } ol.reports li { border: none; border-bottom: 1px solid #dde3e8; } }
"""


def render_index(entries: list[IndexEntry]) -> str:
    """The index page: a self-contained list of links with each report's outcome (no scripts)."""
    items = []
    for entry in entries:
        link = quote("/".join((*entry.folder.parts, entry.page)))
        written = _written_at(entry.written)
        kind = KIND_WORDS.get(entry.kind, entry.kind)
        badge = f'<span class="kind">{esc(kind)}</span>' if kind else ""
        items.append(
            f'<li><a href="{html.escape(link)}">{esc(entry.title)}</a>{badge}'
            f'<p class="outcome">{esc(entry.outcome)}</p>'
            f'<div class="meta">{esc(entry.folder.as_posix())}/ · written {esc(written)}</div></li>'
        )
    body = (
        f'<ol class="reports">{"".join(items)}</ol>'
        if items
        else "<p>No reports yet: run <code>python cli.py run</code> to write one.</p>"
    )
    count = f"{len(entries)} report{'s' if len(entries) != 1 else ''}, newest first."
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Reports</title><style>{STYLE}</style></head><body><main>"
        f'<h1>Reports</h1><p class="lead">{count} Each line is the outcome in one sentence; open a report for why.</p>'
        f"{body}<footer>Written by negotiation-sim {esc(__version__)}; rebuilt after every command that writes "
        "here.</footer></main></body></html>\n"
    )


def write_index(root: Path) -> Path:
    """Rebuild `root/index.html` from the report folders under `root`, atomically."""
    root = Path(root)
    target = root / INDEX_NAME
    text = render_index(collect(root))
    try:
        handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=root)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except OSError as error:
        raise OutputError(f"{target}: cannot write the reports index ({error.strerror}).") from None
    return target


def refresh_index(folder: Path) -> Path | None:
    """After writing a report into `folder`: rebuild the index of the `reports/` folder holding it.

    Returns the index's path, or None when `folder` is not inside a folder named `reports`.
    """
    root = reports_root(Path(folder))
    if root is None or not root.is_dir():
        return None
    return write_index(root)
