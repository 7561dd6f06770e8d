"""SIGTERM (what `timeout`, systemd and CI send) and SIGHUP (a closed terminal) stop a command as Ctrl-C
does: nothing partial left in the output folder, no staging folder, no worker process left running, no
leaked-semaphore warning, and exit code 128 + the signal's number (143 and 129; Ctrl-C gives 130).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.outputs import MANIFEST, STAGING_PREFIX, interrupts_deferred, write_outputs, write_text

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"
OUTPUTS = ("report.html", "summary.json", "timeseries.csv")

pytestmark = pytest.mark.skipif(os.name != "posix" or not hasattr(signal, "SIGHUP"), reason="POSIX signals")


def live_processes_in_group(group: int) -> list[str]:
    """Processes of process group `group` that are not zombies (from /proc; empty where there is none)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            found.append(stat.parent.name)
    return found


def staging_folders(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.name.startswith(STAGING_PREFIX)] if folder.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "whole_group"),
    [(signal.SIGTERM, False), (signal.SIGTERM, True), (signal.SIGHUP, True)],
    ids=["sigterm", "sigterm-to-the-group", "sighup-to-the-group"],
)
def test_a_signal_during_an_ensemble_leaves_nothing_behind(signum: int, whole_group: bool, tmp_path: Path) -> None:
    """An ensemble on two local worker processes, stopped while it streams its Parquet file. `timeout` and a
    closing terminal signal the whole process group (workers, fork server, resource tracker) as well."""
    out = tmp_path / "out"
    command = ["ensemble", str(MARCH), "--runs", "100000", "--workers", "2", "--out", str(out)]
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, which this test alone signals
    )
    try:
        deadline = time.monotonic() + 120
        while not staging_folders(out):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the ensemble never started writing"
            time.sleep(0.05)
        time.sleep(1.0)  # well into the runs: workers busy, part of the Parquet file written
        assert process.poll() is None, "the ensemble ended before it could be stopped; give it more runs"
        (os.killpg if whole_group else os.kill)(process.pid, signum)
        _, stderr = process.communicate(timeout=60)
        deadline = time.monotonic() + 10
        while live_processes_in_group(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = live_processes_in_group(process.pid)
    finally:
        if process.poll() is None or live_processes_in_group(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 128 + signum, stderr
    assert f"interrupted by {signal.Signals(signum).name}: nothing was written." in stderr
    assert "Traceback" not in stderr and "leaked" not in stderr and "resource_tracker" not in stderr, stderr
    assert not out.exists()  # no staging folder, no partial Parquet file, not even the folder it made
    assert left == [], f"processes of the ensemble still running: {left}"


def test_sigterm_during_the_renames_is_delivered_after_the_last_one(tmp_path: Path) -> None:
    """Held back like Ctrl-C: the previous outputs or the new ones, never a mixture."""
    import cli

    folder = tmp_path / "out"
    replaced: list[str] = []
    real_replace = os.replace

    def replace_then_terminate(source: Path, target: Path) -> None:
        real_replace(source, target)
        replaced.append(Path(target).name)
        if len(replaced) == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.MonkeyPatch.context() as patch, cli._terminations_as_interrupts():
        patch.setattr("sim.outputs.os.replace", replace_then_terminate)
        with pytest.raises(cli.Terminated):
            write_outputs(folder, {name: write_text("new") for name in OUTPUTS})
    assert replaced == [*OUTPUTS, MANIFEST]
    assert sorted(os.listdir(folder)) == sorted([*OUTPUTS, MANIFEST])


def test_the_handlers_are_put_back() -> None:
    import cli

    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    with cli._terminations_as_interrupts():
        assert signal.getsignal(signal.SIGTERM) is cli._raise_terminated
        with interrupts_deferred():
            assert all(signal.getsignal(signum) is not before[signum] for signum in before)
        assert signal.getsignal(signal.SIGHUP) is cli._raise_terminated
    assert {signum: signal.getsignal(signum) for signum in before} == before


def test_a_terminated_command_exits_with_128_plus_the_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import cli

    def terminated(path: object) -> None:
        raise cli.Terminated(signal.SIGTERM)

    monkeypatch.setattr("sim.scenario.loader.load_scenario", terminated)
    result = CliRunner().invoke(cli.app, ["run", str(MARCH), "--out", "unused"])
    assert result.exit_code == 143 and "interrupted by SIGTERM: nothing was written." in result.output
