"""Writing output folders safely: all files or none, and never over someone else's files.

Each file is written into a staging folder inside the destination (same file
system) and then renamed into place with `os.replace`, which is atomic: a
reader sees the old file or the new one, never half of one. The renames run
with Ctrl-C (and SIGTERM, SIGHUP) held back until the last one is done, so an
interrupted run leaves either the previous outputs or the new ones, and no
staging folder.

A folder is ours when it holds a manifest (`.negotiation-sim.json`) listing the
files we wrote; re-running into it replaces them. A folder holding anything
else is refused unless `force` is given (and then only our own file names are
written; nothing is deleted).

Files read back from such folders (the manifest here, other reports' summaries
in `sim.reports.index`) go through `read_json_file`: the folder is the user's,
so what sits under our file name may be a pipe, a device or a huge file.
CSV text goes through `csv_text`, so no cell of ours is a spreadsheet formula.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

MANIFEST = ".negotiation-sim.json"
STAGING_PREFIX = ".staging-"
STALE_STAGING_SECONDS = 3600.0  # a staging folder lives for seconds; an older one was left by a killed run
MAX_MANIFEST_BYTES = 1_000_000  # a manifest lists a handful of file names: under 1 kB
MAX_JSON_DEPTH = 64  # nesting of lists and objects in a file read back; our summaries need 5
# Signals that stop a command the way Ctrl-C does (the CLI turns SIGTERM and SIGHUP into KeyboardInterrupt).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
# A text cell starting with one of these is read as a formula by spreadsheets (OWASP, "CSV injection").
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


class OutputError(Exception):
    """An output folder that cannot or must not be written."""


class SkippedFile(UserWarning):
    """A file read back from a folder this tool writes into was not usable and was skipped (see `read_json_file`)."""


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
    """The names the manifest lists; none when it is missing, broken or unusable (the folder is then foreign)."""
    manifest = read_json_file(folder / MANIFEST, MAX_MANIFEST_BYTES)
    files = manifest.get("files", []) if isinstance(manifest, dict) else []
    return {name for name in files if isinstance(name, str)} if isinstance(files, list) else set()


class _UnusableFileError(Exception):
    """Why a file read back from an output folder was skipped."""


def read_json_file(path: Path, max_bytes: int) -> Any:
    """The JSON value in `path`, a file this tool (probably) wrote into a folder it writes into; None if not usable.

    Such a folder belongs to the user, and anything may sit under our file name: a pipe would block the
    read forever, a link to /dev/zero would fill memory, a deeply nested file would exhaust the stack. So
    the file is opened only if it is a regular file (a link is followed) of at most `max_bytes`, its nesting
    is checked before it is parsed, and a bad one is skipped with a `SkippedFile` warning: it never stops a
    command. A missing file is None without a warning (a folder without one is normal).
    """
    try:
        text = _read_regular_file(Path(path), max_bytes).decode("utf-8")
        if _nesting(text) > MAX_JSON_DEPTH:
            raise _UnusableFileError(f"it is nested more than {MAX_JSON_DEPTH} levels deep")
        return json.loads(text)
    except FileNotFoundError:
        return None
    except _UnusableFileError as reason:
        problem = str(reason)
    except OSError as error:
        problem = f"it cannot be read ({error.strerror or error})"
    except (UnicodeDecodeError, ValueError):  # ValueError: not JSON, or a NUL in the path
        problem = "it is not JSON text"
    warnings.warn(f"{path}: skipped, {problem}.", SkippedFile, stacklevel=2)
    return None


def _read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of `path` if it is a regular file of at most `max_bytes`; a pipe or device is never read.

    The type is checked before opening (opening some devices has effects) and again on the open file (the
    name may have been swapped in between); O_NONBLOCK keeps the open of a pipe swapped in from blocking.
    """
    too_large = _UnusableFileError(f"it is larger than the {max_bytes:,} bytes such a file may have")
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise _UnusableFileError("it is not a regular file (a pipe, device, socket or folder)")
    if info.st_size > max_bytes:
        raise too_large
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise _UnusableFileError("it is not a regular file (a pipe, device, socket or folder)")
        data = handle.read(max_bytes + 1)  # the file may have grown since stat()
    if len(data) > max_bytes:
        raise too_large
    return data


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _nesting(text: str) -> int:
    """How deep lists and objects nest in JSON `text`, counted without parsing it (so without recursion).

    Brackets inside strings do not count; the walk over the brackets runs in C (`accumulate`), so even a
    file of millions of brackets is measured in well under a second.
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT), SIGTERM and SIGHUP inside the block and deliver the first when it ends.

    A signal that arrived is then handled as it would have been without the block: the CLI's handlers
    raise KeyboardInterrupt, a default action ends the process. Only the main thread can handle signals;
    elsewhere the block runs unprotected.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {
        signum: signal.signal(signum, lambda number, _frame: received.append(number)) for signum in STOP_SIGNALS
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        if received:
            _deliver(received[0], previous[received[0]])


def _deliver(signum: int, handler: Any) -> None:
    """Act on a held-back signal as `handler` (what was installed before the block) would have."""
    if handler is signal.default_int_handler:
        raise KeyboardInterrupt
    if callable(handler):
        handler(signum, None)
    elif handler in (signal.SIG_DFL, None):
        signal.raise_signal(signum)


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


def spreadsheet_cell(value: Any) -> Any:
    """`value` as a CSV text cell that a spreadsheet shows as text: a leading single quote if it would be
    read as a formula, and carriage returns written as newlines.

    A CSV opened in a spreadsheet turns `=HYPERLINK(...)` or `@SUM(...)` into a live formula; an actor id or
    event label is text from a scenario file, so it must not become one (the OWASP rule for CSV injection).
    Python's CSV writer quotes a cell holding a newline but not one holding a lone carriage return, which a
    reader takes for the end of the row: "x\r=HYPERLINK(...)" would start a row with a formula. Numbers are
    not text and stay numbers, negative ones included.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_LEADS):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def csv_text(frame: Any, float_format: str | None = "%.10g") -> str:
    """A pandas DataFrame as CSV text in which no text cell, header included, is a spreadsheet formula.

    Only columns that hold text are touched (numeric, boolean and date columns are left as they are), so
    the same frame gives the same bytes as before for any text that is not formula-like. `float_format`
    None writes each float in its shortest form that reads back to the same number.
    """
    safe = frame.rename(columns=lambda name: spreadsheet_cell(str(name)))
    for position, dtype in enumerate(safe.dtypes):
        if dtype.kind not in "biufcmM":  # by position: a repeated column name is still one column here
            safe.isetitem(position, safe.iloc[:, position].map(spreadsheet_cell))
    return safe.to_csv(index=False, lineterminator="\n", float_format=float_format)


def parquet_csv(source: Path) -> Callable[[Path], None]:
    """A writer of the Parquet file `source` as CSV (`csv_text`): the same columns and rows, a row group at a
    time (memory stays that of one chunk of runs), floats in their shortest exact form (a row's inputs and
    seed replay the run), an empty cell for a null, whole numbers without a decimal point."""

    def writer(path: Path) -> None:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        def whole(kind: pa.DataType) -> Any:  # nullable integers stay integers (a null is not NaN, 7 not 7.0)
            return pd.Int64Dtype() if pa.types.is_integer(kind) else None

        file = pq.ParquetFile(source)
        with path.open("w", encoding="utf-8", newline="") as handle:
            if file.metadata.num_row_groups == 0:
                handle.write(csv_text(file.schema_arrow.empty_table().to_pandas(), float_format=None))
            for group in range(file.metadata.num_row_groups):
                frame = file.read_row_group(group).to_pandas(types_mapper=whole)
                text = csv_text(frame, float_format=None)
                handle.write(text if group == 0 else text.partition("\n")[2])

    return writer


def write_json(data: object) -> Callable[[Path], None]:
    """A writer of `data` as indented JSON; NaN and infinities are refused (they are not JSON)."""
    return write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")


def write_new_file(path: Path, text: str, force: bool = False) -> Path:
    """Write `text` (UTF-8, newline line ends) to the single file `path` atomically: into a temporary file
    beside it, then renamed into place (Ctrl-C held back for the rename), so a reader never sees half of it.

    An existing file is never replaced unless `force` is given, and a folder never is.

    Raises:
        OutputError: `path` exists (without `force`) or is a folder, or its folder cannot be written.
    """
    path = Path(path)
    try:
        exists = path.exists() or path.is_symlink()
        is_folder = path.is_dir()
    except OSError as error:
        raise OutputError(
            f"{path}: cannot use this path ({error.strerror or error}). Hint: choose another --out."
        ) from None
    if is_folder:
        raise OutputError(f"{path}: is a folder, where the file must go. Hint: give a file name with --out.")
    if exists and not force:
        raise OutputError(f"{path}: exists. Hint: choose another --out, or pass --force to replace it.")
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"{path}: its folder {folder} does not exist. Hint: create it or choose another --out.")
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=".negotiation-sim-", suffix=".tmp", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        with interrupts_deferred():
            os.replace(temporary, path)
            temporary = None
    except OSError as error:
        raise OutputError(
            f"{path}: writing failed ({error.strerror or error}). Hint: check permissions, or choose another --out."
        ) from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    return path
