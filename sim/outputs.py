"""Writing output folders safely: all files or none, and never over someone else's files.

Each file is written into a staging folder inside the destination (same file
system) and then renamed into place with `os.replace`, which is atomic: a
reader sees the old file or the new one, never half of one. The renames run
with Ctrl-C held back until the last one is done, so an interrupted run leaves
either the previous outputs or the new ones, and no staging folder.

A folder is ours when it holds a manifest (`.negotiation-sim.json`) listing the
files we wrote; re-running into it replaces them. A folder holding anything
else is refused unless `force` is given (and then only our own file names are
written; nothing is deleted).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

MANIFEST = ".negotiation-sim.json"
STAGING_PREFIX = ".staging-"
STALE_STAGING_SECONDS = 3600.0  # a staging folder lives for seconds; an older one was left by a killed run


class OutputError(Exception):
    """An output folder that cannot or must not be written."""


def _is_staging(entry: Path) -> bool:
    return entry.name.startswith(STAGING_PREFIX) and entry.is_dir()


def foreign_files(folder: Path) -> list[str]:
    """Files in `folder` that an earlier run of this tool did not write (staging folders count as ours)."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        return [folder.name]
    ours = _manifest_files(folder)
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name != MANIFEST and entry.name not in ours and not _is_staging(entry)
    )


def _manifest_files(folder: Path) -> set[str]:
    try:
        files = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("files", [])
    except (ValueError, OSError, AttributeError):
        return set()
    return {name for name in files if isinstance(name, str)} if isinstance(files, list) else set()


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) inside the block and deliver it when the block ends.

    Only the main thread can handle signals; elsewhere the block runs unprotected.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            if previous is signal.default_int_handler:
                raise KeyboardInterrupt
            if callable(previous):
                previous(signal.SIGINT, None)


def _missing_folders(folder: Path) -> list[Path]:
    """`folder` and its ancestors that do not exist yet, deepest first."""
    return [path for path in (folder, *folder.parents) if not path.exists()]


def _remove_if_empty(folders: list[Path]) -> None:
    for path in folders:  # deepest first
        try:
            path.rmdir()
        except OSError:
            return


def _remove_stale_staging(folder: Path) -> None:
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if _is_staging(entry) and now - entry.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(entry, ignore_errors=True)


def check_output_folder(folder: Path, force: bool = False) -> None:
    """Fail early, before a long run, if `write_outputs` would refuse `folder`.

    Raises:
        OutputError: `folder` is a file, holds files this tool did not write (without
            `force`), or its nearest existing ancestor is not a writable folder.
    """
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder}: exists and is not a folder. Hint: choose another --out.")
        foreign = foreign_files(folder)
        existing = next((path for path in (folder, *folder.parents) if path.exists()), Path("."))
    except OSError as error:
        raise OutputError(
            f"{folder}: cannot use this folder ({error.strerror or error}). Hint: choose another --out."
        ) from None
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise OutputError(
            f"{folder}: holds files this tool did not write ({shown}). "
            "Hint: choose another --out, or pass --force to write there anyway."
        )
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(
            f"{folder}: cannot write here ({existing} is not a writable folder). Hint: choose another --out."
        )


def write_outputs(folder: Path, writers: dict[str, Callable[[Path], None]], force: bool = False) -> list[Path]:
    """Write every file of `writers` (name -> function writing that path) into `folder` atomically.

    Raises:
        OutputError: the folder holds files this tool did not write (without `force`),
            is not a folder, or cannot be written.
    """
    folder = Path(folder)
    check_output_folder(folder, force)
    try:
        created = _missing_folders(folder)
        in_the_way = [name for name in writers if (folder / name).is_dir()]
    except OSError as error:
        raise OutputError(
            f"{folder}: cannot use this folder ({error.strerror or error}). Hint: choose another --out."
        ) from None
    if in_the_way:
        raise OutputError(
            f"{folder}: '{in_the_way[0]}' is a folder, where an output file must go. Hint: choose another --out."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    except OSError as error:
        _remove_if_empty(created)
        raise OutputError(
            f"{folder}: cannot write here ({error.strerror or error}). Hint: choose another --out."
        ) from None
    committed = False
    try:
        for name, writer in writers.items():
            writer(staging / name)
        manifest = {"files": sorted(set(writers) | _previous(folder))}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        written = []
        with interrupts_deferred():
            for name in [*writers, MANIFEST]:
                os.replace(staging / name, folder / name)
                written.append(folder / name)
            committed = True
        _remove_stale_staging(folder)
        return written
    except OSError as error:
        raise OutputError(
            f"{folder}: writing failed ({error.strerror or error}). "
            "Hint: check free space and permissions, or choose another --out."
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not committed:
            _remove_if_empty(created)


def _previous(folder: Path) -> set[str]:
    """Files of the manifest that are still there: they stay ours after this run."""
    return {name for name in _manifest_files(folder) if (folder / name).exists()}


def write_text(text: str) -> Callable[[Path], None]:
    """A writer of `text` as UTF-8 with newline line ends."""

    def writer(path: Path) -> None:
        path.write_text(text, encoding="utf-8", newline="\n")

    return writer


def write_json(data: object) -> Callable[[Path], None]:
    """A writer of `data` as indented JSON; NaN and infinities are refused (they are not JSON)."""
    return write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")
