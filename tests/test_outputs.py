"""Output folders: atomic, never over someone else's files, clean after Ctrl-C; reports escape
scenario text; the summary's hash names the file; the same scenario and seed give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from sim.outputs import (
    MANIFEST,
    STAGING_PREFIX,
    OutputError,
    check_output_folder,
    interrupts_deferred,
    write_outputs,
    write_text,
)
from sim.scenario.loader import load_scenario
from tests.strategies import dump, shipped_document

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"
OUTPUTS = ("report.html", "summary.json", "timeseries.csv")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every entry of `folder` (recursively) with its bytes; folders map to b'<dir>'."""
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): (b"<dir>" if path.is_dir() else path.read_bytes())
        for path in sorted(folder.rglob("*"))
    }


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "80", **(env or {})},
        timeout=timeout,
        check=False,
    )


# ---------------------------------------------------------------------------------------------
# Staging and renaming


def test_files_are_written_in_a_staging_folder_and_renamed_into_place(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    seen: list[Path] = []

    def writer(path: Path) -> None:
        seen.append(path)
        assert not (folder / path.name).exists()  # nothing appears in place while writing
        path.write_text("new", encoding="utf-8")

    written = write_outputs(folder, {"a.txt": writer, "b.txt": writer})
    assert [path.parent.name[: len(STAGING_PREFIX)] for path in seen] == [STAGING_PREFIX] * 2
    assert all(path.parent.parent == folder for path in seen)  # same file system: rename is atomic
    assert sorted(p.name for p in written) == sorted(["a.txt", "b.txt", MANIFEST])
    assert sorted(os.listdir(folder)) == sorted(["a.txt", "b.txt", MANIFEST])  # staging folder gone
    assert json.loads((folder / MANIFEST).read_text())["files"] == ["a.txt", "b.txt"]


def test_rerunning_into_our_own_folder_replaces_the_files(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    write_outputs(folder, {"summary.json": write_text("first")})
    write_outputs(folder, {"summary.json": write_text("second"), "extra.csv": write_text("x")})
    assert (folder / "summary.json").read_text() == "second"
    # Files of earlier runs stay ours, so a third run into the folder is still allowed.
    write_outputs(folder, {"summary.json": write_text("third")})
    assert set(json.loads((folder / MANIFEST).read_text())["files"]) == {"summary.json", "extra.csv"}


def test_a_folder_with_other_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.docx").write_bytes(b"years of work")
    before = snapshot(folder)
    with pytest.raises(OutputError, match=r"chapter1\.docx.*--force"):
        write_outputs(folder, {"summary.json": write_text("x")})
    with pytest.raises(OutputError):
        check_output_folder(folder)
    assert snapshot(folder) == before


def test_force_writes_our_files_and_keeps_the_others(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    write_outputs(folder, {"summary.json": write_text("x")}, force=True)
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / "summary.json").read_text() == "x"
    assert "notes.txt" not in json.loads((folder / MANIFEST).read_text())["files"]


@pytest.mark.parametrize("manifest", ["not json", '{"files": "summary.json"}', '{"files": [1, null]}', "[]"])
def test_a_broken_manifest_makes_the_folder_foreign(tmp_path: Path, manifest: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "summary.json").write_text("someone's")
    (folder / MANIFEST).write_text(manifest)
    with pytest.raises(OutputError, match="did not write"):
        write_outputs(folder, {"summary.json": write_text("x")})
    assert (folder / "summary.json").read_text() == "someone's"


def test_an_output_name_taken_by_a_folder_is_refused_before_anything_is_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    write_outputs(folder, {"a.txt": write_text("old"), "b.txt": write_text("old")})
    (folder / "b.txt").unlink()
    (folder / "b.txt").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_outputs(folder, {"a.txt": write_text("new"), "b.txt": write_text("new")})
    assert (folder / "a.txt").read_text() == "old"


def test_a_staging_folder_left_by_a_killed_run_is_ours_and_cleaned_when_stale(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    write_outputs(folder, {"a.txt": write_text("old")})
    stale = folder / f"{STAGING_PREFIX}killed"
    stale.mkdir()
    (stale / "a.txt").write_text("half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    write_outputs(folder, {"a.txt": write_text("new")})  # not refused as foreign
    assert not stale.exists()
    assert (folder / "a.txt").read_text() == "new"


# ---------------------------------------------------------------------------------------------
# Paths that cannot be written


def test_a_path_below_a_file_gives_an_output_error_and_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    for folder in (tmp_path / "file.txt", tmp_path / "file.txt" / "out"):
        with pytest.raises(OutputError, match="choose another --out"):
            write_outputs(folder, {"a.txt": write_text("x")})
    assert sorted(os.listdir(tmp_path)) == ["file.txt"]


def test_permission_denied_gives_an_output_error_and_removes_the_folders_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("sim.outputs.tempfile.mkdtemp", denied)
    with pytest.raises(OutputError, match="Permission denied"):
        write_outputs(tmp_path / "new" / "deeper", {"a.txt": write_text("x")})
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_gives_an_output_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="cannot write here"):
            write_outputs(locked / "out", {"a.txt": write_text("x")})
    finally:
        locked.chmod(0o700)


def test_cli_refuses_an_unwritable_output_path_with_exit_1_before_running(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    started = time.perf_counter()
    result = cli("run", str(MARCH), "--out", str(tmp_path / "file.txt" / "out"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message and "--out" in message
    assert time.perf_counter() - started < 30  # refused up front, not after the run


def test_cli_refuses_a_folder_of_other_files_with_exit_1(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = cli("run", str(MARCH), "--out", str(tmp_path))
    assert result.returncode == 1 and "--force" in result.stderr and "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == ["notes.txt"]


# ---------------------------------------------------------------------------------------------
# Interruptions


def test_ctrl_c_inside_a_writer_leaves_the_previous_outputs_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    write_outputs(folder, {name: write_text(f"old {name}") for name in OUTPUTS})
    before = snapshot(folder)

    def interrupted(path: Path) -> None:
        path.write_text("half of a new fi", encoding="utf-8")
        raise KeyboardInterrupt

    writers = {"report.html": write_text("new"), "summary.json": interrupted, "timeseries.csv": write_text("new")}
    with pytest.raises(KeyboardInterrupt):
        write_outputs(folder, writers)
    assert snapshot(folder) == before


def test_ctrl_c_inside_a_writer_leaves_no_new_folder(tmp_path: Path) -> None:
    def interrupted(path: Path) -> None:
        path.write_text("half", encoding="utf-8")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_outputs(tmp_path / "a" / "b", {"summary.json": interrupted})
    assert os.listdir(tmp_path) == []


def test_ctrl_c_during_the_renames_is_delivered_after_the_last_one(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    replaced: list[str] = []
    real_replace = os.replace

    def replace_then_interrupt(source: Path, target: Path) -> None:
        real_replace(source, target)
        replaced.append(Path(target).name)
        if len(replaced) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C after the first file is in place

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sim.outputs.os.replace", replace_then_interrupt)
        with pytest.raises(KeyboardInterrupt):
            write_outputs(folder, {name: write_text("new") for name in OUTPUTS})
    assert replaced == [*OUTPUTS, MANIFEST]  # all renames done before the interrupt was raised
    assert sorted(os.listdir(folder)) == sorted([*OUTPUTS, MANIFEST])


def test_interrupts_deferred_restores_the_handler() -> None:
    before = signal.getsignal(signal.SIGINT)
    with interrupts_deferred():
        assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGINT) is before


SLOW_WRITER_RUN = textwrap.dedent("""
    import pathlib, sys, time
    sys.path.insert(0, {root!r})
    marker = pathlib.Path({marker!r})
    real_write_text = pathlib.Path.write_text

    def slow_write_text(self, text, *args, **kwargs):
        real_write_text(self, text[: len(text) // 2], *args, **kwargs)  # half a file on disk
        marker.touch()
        time.sleep(60)

    pathlib.Path.write_text = slow_write_text
    sys.argv = ["cli.py", "run", {scenario!r}, "--out", {out!r}]
    import cli
    cli.app()
""")


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_sigint_to_a_cli_run_while_writing_leaves_no_partial_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    marker = tmp_path / "writing"
    script = SLOW_WRITER_RUN.format(root=str(ROOT), marker=str(marker), scenario=str(MARCH), out=str(out))
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run never started writing"
            time.sleep(0.05)
        assert any(path.name.startswith(STAGING_PREFIX) for path in out.iterdir())  # mid-write
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "interrupted: nothing was written" in stderr and "Traceback" not in stderr
    assert not out.exists()  # the folder the run created is gone too


# ---------------------------------------------------------------------------------------------
# Reports, hashes, determinism

PAYLOAD = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


def hostile_scenario(folder: Path) -> Path:
    """March 2016 with a script in every string a report may show."""
    document = shipped_document(MARCH)
    document["name"] = f"Name {PAYLOAD}"
    document["description"] = f"Description {PAYLOAD}"
    document["sources"] = [f"source {PAYLOAD}"]
    for actor in document["actors"].values():
        actor["name"] = f"{actor['name']} {PAYLOAD}"
    for issue in document["issues"].values():
        issue["low"] = f"low {PAYLOAD}"
        issue["high"] = f"high {PAYLOAD}"
        levels = issue.get("levels", {}).values()
        issue["levels"] = {f"level {index} {PAYLOAD}": value for index, value in enumerate(levels)}
    for event in document.get("events", {}).values():
        event["label"] = f"event {PAYLOAD}"
    path = folder / "hostile.yaml"
    path.write_text(dump(document), encoding="utf-8")
    return path


def test_the_report_escapes_every_string_from_the_scenario(tmp_path: Path) -> None:
    from sim.api import write_run_outputs
    from sim.model.results import run_scenario

    loaded = load_scenario(hostile_scenario(tmp_path))
    write_run_outputs(run_scenario(loaded), tmp_path / "out")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script>window.pwned" not in page
    assert "<img" not in page  # the report draws no images; this one could only come from the scenario
    assert page.count("</script>") == page.count("<script")  # no script block closed early by a string
    assert "window.pwned" in page  # the text is shown, escaped, not dropped
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert PAYLOAD in summary["scenario"]["name"]  # data files keep the text as it was written


def test_the_summary_hash_identifies_the_file(tmp_path: Path) -> None:
    from sim.model.results import run_scenario

    path = tmp_path / "scenario.yaml"
    path.write_bytes(MARCH.read_bytes())
    first = run_scenario(load_scenario(path)).summary["scenario"]["sha256"]
    assert first == hashlib.sha256(MARCH.read_bytes()).hexdigest()
    path.write_bytes(MARCH.read_bytes() + b"# one more comment\n")
    assert load_scenario(path).sha256 != first


@pytest.mark.skipif(os.name != "posix", reason="parallel subprocesses")
def test_same_scenario_and_seed_give_identical_bytes_across_processes_and_reruns_just_work(tmp_path: Path) -> None:
    scenario = tmp_path / "march.yaml"
    scenario.write_bytes(MARCH.read_bytes())
    runs = [("a", "0"), ("b", "12345")]  # different hash seeds: no dict or set order may leak
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda run: cli(
                    "run", str(scenario), "--out", str(tmp_path / run[0]), "--seed", "7", env={"PYTHONHASHSEED": run[1]}
                ),
                runs,
            )
        )
    for result in results:
        assert result.returncode == 0, result.stderr
    for name in ("summary.json", "timeseries.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

    # Edit the scenario and run again into the same folder: it just works, and the outputs change.
    document = yaml.safe_load(scenario.read_text())
    document["name"] = "March 2016, edited"
    scenario.write_text(dump(document), encoding="utf-8")
    again = cli("run", str(scenario), "--out", str(tmp_path / "a"), "--seed", "7")
    assert again.returncode == 0, again.stderr
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["scenario"]["name"] == "March 2016, edited"
    assert summary["scenario"]["sha256"] == hashlib.sha256(scenario.read_bytes()).hexdigest()
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(STAGING_PREFIX)]
