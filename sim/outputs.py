"""Writing output folders safely: all files or none, and never over someone else's files.

Files are written into a temporary folder next to the destination and then
renamed into place, so an interrupted run leaves nothing half-written. A folder
is ours when it holds a manifest (`.negotiation-sim.json`) listing the files we
wrote; re-running into it replaces them. A folder with other files is refused
unless `force` is given.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

MANIFEST = ".negotiation-sim.json"


class OutputError(Exception):
    """An output folder that cannot or must not be written."""


def foreign_files(folder: Path) -> list[str]:
    """Files in `folder` that an earlier run of this tool did not write."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        return [folder.name]
    ours: set[str] = set()
    manifest = folder / MANIFEST
    if manifest.is_file():
        try:
            ours = set(json.loads(manifest.read_text(encoding="utf-8")).get("files", []))
        except (ValueError, OSError, AttributeError):
            ours = set()
    return sorted(entry.name for entry in folder.iterdir() if entry.name != MANIFEST and entry.name not in ours)


def write_outputs(folder: Path, writers: dict[str, Callable[[Path], None]], force: bool = False) -> list[Path]:
    """Write every file of `writers` (name -> function writing that path) into `folder` atomically."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder. Hint: choose another --out.")
    foreign = foreign_files(folder)
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise OutputError(f"{folder}: holds files this tool did not write ({shown}). "
                          "Hint: choose another --out, or pass --force to write there anyway.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    except OSError as error:
        raise OutputError(f"{folder}: cannot write here ({error.strerror}). Hint: choose another --out.") from None
    try:
        for name, writer in writers.items():
            writer(staging / name)
        manifest = {"files": sorted(set(writers) | _previous(folder))}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        written = []
        for name in [*writers, MANIFEST]:
            os.replace(staging / name, folder / name)
            written.append(folder / name)
        return written
    except OSError as error:
        raise OutputError(f"{folder}: writing failed ({error.strerror}).") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _previous(folder: Path) -> set[str]:
    manifest = folder / MANIFEST
    try:
        return {name for name in json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
                if (folder / name).exists()}
    except (ValueError, OSError, AttributeError):
        return set()


def write_text(text: str) -> Callable[[Path], None]:
    def writer(path: Path) -> None:
        path.write_text(text, encoding="utf-8", newline="\n")
    return writer


def write_json(data: object) -> Callable[[Path], None]:
    return write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")
