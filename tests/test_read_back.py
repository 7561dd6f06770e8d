"""Files read back from folders the tool writes into: other reports' summary.json (the reports index)
and an output folder's manifest. Such a folder is the user's, so what sits under our file name may be a
pipe, a link to a device, a huge file or a deeply nested one: each is skipped with a warning, promptly,
and never stops a command, least of all after its own outputs were written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sim.outputs import (
    MANIFEST,
    MAX_JSON_DEPTH,
    MAX_MANIFEST_BYTES,
    SkippedFile,
    _nesting,
    foreign_files,
    read_json_file,
    write_outputs,
    write_text,
)
from sim.reports.index import MAX_SUMMARY_BYTES, IndexEntry, collect, render_index

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "deal_saudi_russia_oil_cap.yaml"
PROMPTLY = 20.0  # seconds; each case takes milliseconds, a hang takes forever

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")


def fifo(path: Path) -> str:
    os.mkfifo(path)
    return "not a regular file"


def link_to_dev_zero(path: Path) -> str:
    path.symlink_to("/dev/zero")
    return "not a regular file"


def oversized(limit: int) -> Callable[[Path], str]:
    def make(path: Path) -> str:
        with path.open("w", encoding="utf-8") as handle:  # valid JSON, one byte too many
            handle.write('{"outcome": "' + "x" * (limit - 14) + '"}')
        assert path.stat().st_size == limit + 1
        return "larger than"

    return make


def deeply_nested(path: Path) -> str:
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    return "nested more than"


def not_json(path: Path) -> str:
    path.write_text("{not json", encoding="utf-8")
    return "not JSON"


def summary_cases() -> list[Callable[[Path], str]]:
    return [fifo, link_to_dev_zero, oversized(MAX_SUMMARY_BYTES), deeply_nested, not_json]


CASE_IDS = ["fifo", "link_to_dev_zero", "oversized", "deeply_nested", "not_json"]


def promptly(action: Callable[[], Any]) -> Any:
    """`action()`, failing the test if it does not return within PROMPTLY seconds (a daemon thread: a
    read blocked on a FIFO cannot keep the test run from ending)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = action()
        except BaseException as error:  # handed to the test below
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(PROMPTLY)
    assert not thread.is_alive(), f"still reading after {PROMPTLY} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def skipped(action: Callable[[], Any]) -> tuple[Any, list[str]]:
    """`action()` run promptly, with the SkippedFile warnings it gave."""

    def run() -> tuple[Any, list[str]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = action()
        return value, [str(w.message) for w in caught if issubclass(w.category, SkippedFile)]

    return promptly(run)


# --- the reader ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", summary_cases(), ids=CASE_IDS)
def test_a_bad_file_is_skipped_with_a_warning(make: Callable[[Path], str], tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    words = make(path)
    value, messages = skipped(lambda: read_json_file(path, MAX_SUMMARY_BYTES))
    assert value is None
    assert len(messages) == 1 and str(path) in messages[0] and words in messages[0], messages


def test_a_missing_file_is_none_without_a_warning(tmp_path: Path) -> None:
    assert skipped(lambda: read_json_file(tmp_path / "summary.json", MAX_SUMMARY_BYTES)) == (None, [])


def test_a_good_file_at_the_limits_is_read(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    nested: Any = "deepest [{ brackets in a string do not count"
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    document = {"outcome": nested}  # exactly MAX_JSON_DEPTH deep
    path.write_text(json.dumps(document), encoding="utf-8")
    assert skipped(lambda: read_json_file(path, MAX_SUMMARY_BYTES)) == (document, [])
    (tmp_path / "link.json").symlink_to(path)  # a link to a regular file is followed
    assert skipped(lambda: read_json_file(tmp_path / "link.json", MAX_SUMMARY_BYTES)) == (document, [])


def test_nesting_is_counted_without_recursion_and_ignores_brackets_in_strings() -> None:
    assert _nesting('{"a": [1, {"b": "[[[[\\"]]"}], "c": "}}}"}') == 3
    assert _nesting("[" * 1_000_000) == 1_000_000
    assert _nesting('"just a string"') == 0


# --- the reports index ----------------------------------------------------------------------------------


def make_report(folder: Path, outcome: str) -> None:
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({"scenario": {"name": "Good"}, "outcome": outcome}))


@pytest.mark.parametrize("make", summary_cases(), ids=CASE_IDS)
def test_the_index_lists_a_report_with_a_bad_summary_and_the_others(make: Callable[[Path], str], tmp_path: Path):
    root = tmp_path / "reports"
    make_report(root / "good", "A deal was reached.")
    (root / "bad").mkdir()
    (root / "bad" / "report.html").write_text("<html></html>", encoding="utf-8")
    make(root / "bad" / "summary.json")
    entries, messages = skipped(lambda: collect(root))
    assert sorted(entry.folder.as_posix() for entry in entries) == ["bad", "good"]
    assert len(messages) == 1 and "bad" in messages[0]
    page = render_index(entries)
    assert "A deal was reached." in page and "summary.json is missing or unreadable" in page


def test_a_report_time_no_calendar_holds_does_not_stop_the_index() -> None:
    """A modification time set by hand to year 31 million (ext4 caps it; other file systems do not)."""
    entry = IndexEntry(Path("future"), "report.html", "Future", "ok", "run", 1e15)
    assert "written at an unknown time" in render_index([entry])


# --- the manifest ---------------------------------------------------------------------------------------


def manifest_cases() -> list[Callable[[Path], str]]:
    return [fifo, link_to_dev_zero, oversized(MAX_MANIFEST_BYTES), deeply_nested, not_json]


@pytest.mark.parametrize("make", manifest_cases(), ids=CASE_IDS)
def test_a_bad_manifest_is_skipped_and_the_folder_counts_as_someone_elses(make: Callable[[Path], str], tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    make(folder / MANIFEST)
    (folder / "summary.json").write_text("someone's", encoding="utf-8")
    foreign, messages = skipped(lambda: foreign_files(folder))
    assert foreign == ["summary.json"] and messages and MANIFEST in messages[0]


@pytest.mark.parametrize("make", manifest_cases(), ids=CASE_IDS)
def test_a_folder_holding_only_a_bad_manifest_is_written_and_the_manifest_replaced(
    make: Callable[[Path], str], tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    make(folder / MANIFEST)
    written, messages = skipped(lambda: write_outputs(folder, {"summary.json": write_text("{}")}))
    assert messages and [path.name for path in written] == ["summary.json", MANIFEST]
    assert json.loads((folder / MANIFEST).read_text(encoding="utf-8")) == {"files": ["summary.json"]}


# --- the command line: a subprocess with a timeout, as a user would meet it --------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "300"},
        timeout=60,
        check=False,
    )


def test_a_run_into_reports_beside_every_kind_of_bad_summary_succeeds_with_warnings(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    make_report(root / "good", "A deal was reached.")
    for make, name in zip(summary_cases(), CASE_IDS, strict=True):
        (root / name).mkdir()
        (root / name / "report.html").write_text("<html></html>", encoding="utf-8")
        make(root / name / "summary.json")
    result = cli("run", str(SCENARIO), "--out", str(root / "new"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warned) == len(CASE_IDS), result.stderr
    assert all(f"/{name}/summary.json: skipped" in line for name, line in zip(sorted(CASE_IDS), warned, strict=True))
    index = (root / "index.html").read_text(encoding="utf-8")
    assert all(f"{name}/report.html" in index for name in [*CASE_IDS, "good", "new"])
    assert {"report.html", "summary.json", "timeseries.csv"} <= set(os.listdir(root / "new"))


def test_a_run_into_a_folder_whose_manifest_is_a_fifo_succeeds_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    os.mkfifo(folder / MANIFEST)
    result = cli("run", str(SCENARIO), "--out", str(folder))
    assert result.returncode == 0, result.stderr
    assert f"warning: {folder / MANIFEST}: skipped, it is not a regular file" in result.stderr
    assert (folder / MANIFEST).is_file() and (folder / "report.html").is_file()
