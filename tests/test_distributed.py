"""Running chunks elsewhere (sim/distributed.py): local processes and a real Dask cluster on loopback.

A `distributed.LocalCluster` is started here, on 127.0.0.1 with two worker
processes; the ensemble is sent to it by address, exactly as to a remote
scheduler, and its results must equal the in-process ones number for number,
and its files byte for byte.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from sim.api import write_monte_carlo
from sim.runs.batch import execute
from sim.runs.distributed import DaskCluster, InProcess, LocalProcesses, SchedulerError, _ordered, open_executor
from sim.runs.ensemble import plan_monte_carlo
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"
RUNS = 600  # three chunks of at least 250 runs: more than one worker gets work


def _square(x: int) -> int:
    return x * x


def _results(executor: object, runs: int = RUNS, seed: int = 9) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """All outcome columns and summed band counts of an ensemble run through `executor`."""
    plan = plan_monte_carlo(load_scenario(MARCH), runs, seed=seed)
    outcomes: dict[str, list[np.ndarray]] = {}
    bands: dict[str, np.ndarray] = {}
    starts = []
    for chunk in execute(plan.batch, executor, bands=True):
        starts.append(chunk.first_run)
        for name, column in chunk.outcomes.items():
            outcomes.setdefault(name, []).append(column)
        for name, counts in chunk.bands.items():
            full = counts.full(10_000)  # wider than any series' bins: the same for every executor
            bands[name] = bands[name] + full if name in bands else full
    assert starts == sorted(starts), "chunks must come back in run order"
    return {k: np.concatenate(v) for k, v in outcomes.items()}, bands


@pytest.fixture(scope="module")
def local_results() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return _results(InProcess())


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        host="127.0.0.1", dashboard_address=None, n_workers=2, processes=True, threads_per_worker=1
    ) as local_cluster:
        yield local_cluster


def _assert_equal(left: tuple[dict, dict], right: tuple[dict, dict]) -> None:
    for side_left, side_right in zip(left, right, strict=True):
        assert side_left.keys() == side_right.keys()
        for name in side_left:
            np.testing.assert_array_equal(side_left[name], side_right[name], err_msg=name)


def test_dask_cluster_gives_the_local_results(cluster: object, local_results: tuple[dict, dict]) -> None:
    with open_executor(scheduler=cluster.scheduler_address) as executor:
        assert isinstance(executor, DaskCluster)
        assert executor.workers == 2
        remote = _results(executor)
    _assert_equal(remote, local_results)


def test_dask_cluster_writes_the_same_files(cluster: object, tmp_path: Path) -> None:
    loaded = load_scenario(MARCH)
    for name, options in (("local", {}), ("dask", {"scheduler": cluster.scheduler_address})):
        with open_executor(**options) as executor:
            write_monte_carlo(plan_monte_carlo(loaded, 300, seed=4), tmp_path / name, executor)
    for file in ("ensemble.parquet", "summary.json", "report.html"):
        assert (tmp_path / "local" / file).read_bytes() == (tmp_path / "dask" / file).read_bytes(), file


def test_local_processes_give_the_local_results(local_results: tuple[dict, dict]) -> None:
    with open_executor(workers=2) as executor:
        assert isinstance(executor, LocalProcesses)
        pooled = _results(executor)
    _assert_equal(pooled, local_results)


def test_a_dask_local_cluster_can_be_started_by_name(local_results: tuple[dict, dict]) -> None:
    pytest.importorskip("distributed")
    with open_executor(workers=2, scheduler="local") as executor:
        assert executor.workers == 2
        _assert_equal(_results(executor), local_results)


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    pytest.importorskip("distributed")
    started = time.monotonic()
    with pytest.raises(SchedulerError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        DaskCluster("tcp://127.0.0.1:9", connect_timeout="1s")
    assert time.monotonic() - started < 30


def test_a_malformed_scheduler_address_is_a_clear_error() -> None:
    pytest.importorskip("distributed")
    with pytest.raises(SchedulerError, match="missing port"):
        DaskCluster("bogus", connect_timeout="1s")


def test_results_come_back_in_task_order_with_bounded_work_in_flight() -> None:
    """_ordered yields in submission order however the tasks finish, never holding more than its limit."""
    in_flight, most = 0, 0
    lock = threading.Lock()
    futures: list[Future] = []

    def submit(task: tuple[int]) -> Future:
        nonlocal in_flight, most
        future: Future = Future()
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        futures.append(future)
        # Finish tasks out of order: odd ones at once, even ones when they are asked for.
        if task[0] % 2:
            future.set_result(task[0] * 10)
        return future

    def result(future: Future) -> int:
        nonlocal in_flight
        if not future.done():
            future.set_result(futures.index(future) * 10)
        with lock:
            in_flight -= 1
        return future.result()

    got = list(_ordered(submit, ((i,) for i in range(20)), 3, result, lambda pending: None))
    assert got == [i * 10 for i in range(20)]
    assert most <= 3


def test_local_processes_map_in_order() -> None:
    with open_executor(workers=2) as executor:
        assert list(executor.map_in_order(_square, ((i,) for i in range(25)))) == [i * i for i in range(25)]


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        open_executor(workers=0)


def test_the_cli_sends_an_ensemble_to_a_scheduler_by_address(cluster: object, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import cli

    for name, extra in (("local", []), ("dask", ["--scheduler", cluster.scheduler_address])):
        result = CliRunner().invoke(
            cli.app, ["ensemble", str(MARCH), "--runs", "300", "--seed", "6", "--out", str(tmp_path / name), *extra]
        )
        assert result.exit_code == 0, result.output
    for file in ("ensemble.parquet", "summary.json", "report.html"):
        assert (tmp_path / "local" / file).read_bytes() == (tmp_path / "dask" / file).read_bytes(), file


def test_the_cli_reports_an_unreachable_scheduler_with_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import cli
    from sim.runs import distributed

    monkeypatch.setattr(distributed.DaskCluster.__init__, "__defaults__", (2, "1s"))
    result = CliRunner().invoke(
        cli.app,
        ["ensemble", str(MARCH), "--runs", "10", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler" in " ".join(result.output.split())
    assert not (tmp_path / "o").exists()
