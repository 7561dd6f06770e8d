"""Seeds across the chunks of many runs, replay of a single run, and reproducible sensitivity designs.

An ensemble is cut into chunks (`sim.runs.batch.execute`). Every run must keep its own seed whatever
chunk it lands in, so that a row of `ensemble.parquet` -- its seed and its sampled fields, written
into a short `extends:` scenario -- replays exactly with `python cli.py run --seed S`. The rows
checked here come from the last chunk: a bug that gave every chunk the first chunk's seeds would
leave the first chunk right and the others wrong.

Sensitivity: the same design written twice gives the same bytes, and a design whose second input
is the only one that matters ranks that input first, by Sobol's S_T and by Morris's mu*. The seed is
one more input of the design ("chance"): runs do not share one seed, runs that Saltelli's and Morris's
estimators compare share theirs, and a row of `sensitivity.parquet` replays with its own seed.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.api import plan_sensitivity, write_monte_carlo, write_sensitivity
from sim.runs.batch import Batch, chunk_size, execute, run_seeds
from sim.runs.distributed import InProcess
from sim.runs.ensemble import plan_monte_carlo
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"
SEPTEMBER = ROOT / "scenarios" / "stalemate_2016_09.yaml"
TOLERANCE = 1e-12
ENSEMBLE_SEED = 20160314
# Above MIN_CHUNK_RUNS * CHUNKS_WANTED, so the ensemble is cut into four chunks of 251, 251, 251, 248 runs.
ENSEMBLE_RUNS = 1001


# ---------------------------------------------------------------------------- helpers


class RecordingExecutor(InProcess):
    """Runs the chunks here, and keeps each chunk's (first run, seeds, inputs) as `execute` sent them."""

    def __init__(self) -> None:
        self.chunks: list[tuple[int, np.ndarray, dict[str, np.ndarray]]] = []

    def map_in_order(self, function: Any, tasks: Any) -> Any:
        for spec, first_run, seeds, inputs in tasks:
            self.chunks.append((first_run, np.array(seeds), {k: np.array(v) for k, v in inputs.items()}))
            yield function(spec, first_run, seeds, inputs)


def yaml_number(value: float) -> str:
    """A float as YAML reads it back to the same double: positional, always with a decimal point
    (YAML 1.1 reads `1e-05` as text)."""
    return np.format_float_positional(value, unique=True, trim="0")


def replay_scenario(folder: Path, parent: Path, row: dict[str, Any], paths: list[str]) -> Path:
    """A few-line `extends:` file that sets each sampled field of `row` to the value the run used."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = row[path]

    def lines(node: dict[str, Any], indent: int) -> list[str]:
        out = []
        for key, value in node.items():
            if isinstance(value, dict):
                out.append(" " * indent + f"{key}:")
                out += lines(value, indent + 2)
            else:
                out.append(" " * indent + f"{key}: {yaml_number(value)}")
        return out

    path = folder / f"replay_run_{row['run']}.yaml"
    path.write_text("\n".join([f"extends: {parent}", *lines(tree, 0)]) + "\n", encoding="utf-8")
    return path


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def same_number(got: float | None, expected: float | None, label: str) -> None:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        assert got is None or (isinstance(got, float) and math.isnan(got)), f"{label}: {got!r} should be none"
        return
    assert got is not None, f"{label}: none, expected {expected!r}"
    assert abs(got - expected) <= TOLERANCE, f"{label}: {got!r} != {expected!r}"


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, RecordingExecutor]:
    """An ensemble of the March scenario over four chunks, written to disk (about 4 s)."""
    folder = tmp_path_factory.mktemp("ensemble") / "out"
    plan = plan_monte_carlo(load_scenario(MARCH), ENSEMBLE_RUNS, seed=ENSEMBLE_SEED)
    executor = RecordingExecutor()
    write_monte_carlo(plan, folder, executor)
    return folder, plan, executor


# ---------------------------------------------------------------------------- chunks and seeds


def test_the_ensemble_really_spans_several_chunks(ensemble) -> None:
    folder, _, executor = ensemble
    size = chunk_size(ENSEMBLE_RUNS)
    assert size < ENSEMBLE_RUNS
    assert [first for first, _, _ in executor.chunks] == list(range(0, ENSEMBLE_RUNS, size))
    parquet = pq.ParquetFile(folder / "ensemble.parquet")
    assert parquet.num_row_groups == len(executor.chunks) >= 3  # one row group per chunk
    assert parquet.metadata.num_rows == ENSEMBLE_RUNS


def test_each_chunk_gets_its_own_slice_of_the_run_seeds(ensemble) -> None:
    folder, plan, executor = ensemble
    expected = run_seeds(ENSEMBLE_SEED, ENSEMBLE_RUNS)
    seen: set[int] = set()
    for first, seeds, inputs in executor.chunks:
        np.testing.assert_array_equal(seeds, expected[first : first + len(seeds)], err_msg=f"chunk at run {first}")
        for path, values in inputs.items():
            np.testing.assert_array_equal(values, plan.batch.inputs[path][first : first + len(seeds)], err_msg=path)
        assert len(set(seeds.tolist())) == len(seeds), f"a seed repeats inside the chunk at run {first}"
        assert seen.isdisjoint(seeds.tolist()), f"the chunk at run {first} reuses an earlier chunk's seed"
        seen.update(seeds.tolist())
    assert len(seen) == ENSEMBLE_RUNS
    table = pq.read_table(folder / "ensemble.parquet", columns=["run", "seed"])
    assert table.column("run").to_pylist() == list(range(ENSEMBLE_RUNS))
    np.testing.assert_array_equal(table.column("seed").to_numpy(), expected)


def test_a_smaller_chunk_size_sends_the_same_seeds() -> None:
    """`execute` with an explicit chunk size: seven chunks, each the matching slice of `run_seeds`."""
    loaded = load_scenario(SEPTEMBER)
    seeds = run_seeds(7, 20)
    batch = Batch(scenario=loaded.scenario, seeds=seeds)
    executor = RecordingExecutor()
    results = list(execute(batch, executor, chunk_runs=3))
    assert [first for first, _, _ in executor.chunks] == list(range(0, 20, 3))
    assert [r.first_run for r in results] == list(range(0, 20, 3))
    np.testing.assert_array_equal(np.concatenate([s for _, s, _ in executor.chunks]), seeds)
    # The same runs in one chunk give the same outcomes: nothing depends on the chunk a run is in.
    whole = next(iter(execute(batch, InProcess(), chunk_runs=20)))
    for name, column in whole.outcomes.items():
        np.testing.assert_array_equal(column, np.concatenate([r.outcomes[name] for r in results]), err_msg=name)


# ---------------------------------------------------------------------------- replay of a run from the last chunk


def _rows_to_replay(folder: Path) -> list[dict[str, Any]]:
    """From the last chunk (row group): the first run with a deal and a collapse, and the first without a deal."""
    parquet = pq.ParquetFile(folder / "ensemble.parquet")
    rows = parquet.read_row_group(parquet.num_row_groups - 1).to_pylist()
    wanted = [
        next(r for r in rows if r["deal"] and r["ceasefire_collapsed_step"] is not None),
        next(r for r in rows if not r["deal"]),
    ]
    assert all(
        r["run"] >= ENSEMBLE_RUNS - parquet.metadata.row_group(parquet.num_row_groups - 1).num_rows for r in wanted
    )
    return wanted


def test_a_run_from_the_last_chunk_replays_exactly_through_the_cli(ensemble, tmp_path: Path) -> None:
    folder, plan, _ = ensemble
    paths = list(plan.scenario.uncertain)
    issues = list(plan.scenario.issues)
    actors = list(plan.scenario.actors)
    for row in _rows_to_replay(folder):
        scenario = replay_scenario(tmp_path, MARCH, row, paths)
        # The replay file really sets the sampled values (read back to the same doubles).
        replayed = load_scenario(scenario)
        for path in paths:
            node: Any = replayed.scenario
            for part in path.split("."):
                node = node[part] if isinstance(node, dict) else getattr(node, part)
            assert node == row[path], path
        out = tmp_path / f"run_{row['run']}"
        done = cli("run", str(scenario), "--seed", str(row["seed"]), "--out", str(out))
        assert done.returncode == 0, done.stderr
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        label = f"run {row['run']} (seed {row['seed']})"
        assert summary["seed"] == row["seed"]
        assert summary["deal"]["reached"] is row["deal"], label
        assert summary["deal"]["step"] == row["deal_step"], label
        for issue in issues:
            position = (summary["deal"].get("position") or {}).get(issue) if row["deal"] else None
            same_number(position, row[f"deal_{issue}"], f"{label} deal on {issue}")
        assert summary["ceasefire"]["collapsed_step"] == row["ceasefire_collapsed_step"], label
        assert summary["ceasefire"]["held_steps"] == row["ceasefire_held_steps"], label
        same_number(summary["control"], row["control_end"], f"{label} control at the end")
        for actor in actors:
            same_number(summary["actors"][actor]["batna"], row[f"batna_{actor}"], f"{label} batna of {actor}")
            if row["deal"]:
                same_number(
                    summary["actors"][actor]["utility_of_deal"],
                    row[f"utility_of_deal_{actor}"],
                    f"{label} utility of the deal for {actor}",
                )


# ---------------------------------------------------------------------------- sensitivity: reproducible files


@pytest.mark.parametrize(("method", "samples"), [("sobol", 8), ("morris", 4)])
def test_sensitivity_written_twice_gives_the_same_bytes(method: str, samples: int, tmp_path: Path) -> None:
    loaded = load_scenario(SEPTEMBER)
    folders = []
    for attempt in ("first", "second"):
        plan = plan_sensitivity(loaded, method, samples, seed=11)
        folder = tmp_path / attempt
        write_sensitivity(plan, folder, InProcess())
        folders.append(folder)
    for name in ("sensitivity.parquet", "summary.json"):
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name
    summary = json.loads((folders[0] / "summary.json").read_text(encoding="utf-8"))
    assert (
        summary["method"] == method
        and summary["evaluations"] == pq.read_metadata(folders[0] / "sensitivity.parquet").num_rows
    )


# ---------------------------------------------------------------------------- sensitivity: the driver ranks first

# The first input barely moves (a millionth of a day in how long a return may take and still count as a
# threat); the second moves the front's speed over most of its range, which drives control at the end.
NEUTRAL_INPUT = "battlefield.credibility_tau_days"
DRIVING_INPUT = "battlefield.kappa"


@pytest.fixture(scope="module")
def two_input_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("two_inputs")
    parent = load_scenario(MARCH).scenario
    dropped = [f"  {path}: null" for path in parent.uncertain if path not in (NEUTRAL_INPUT, DRIVING_INPUT)]
    text = "\n".join(
        [
            f"extends: {MARCH}",
            "uncertain:",
            *dropped,  # null removes the parent's entry: only these two remain, in the parent's order
            f"  {NEUTRAL_INPUT}: {{low: 21.0, high: 21.000001}}",  # merged into the parent's truncnormal
            f"  {DRIVING_INPUT}: {{low: 0.02, high: 1.5}}",  # merged into the parent's uniform
        ]
    )
    path = folder / "two_inputs.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("method", "samples", "key"), [("sobol", 64, "ST"), ("morris", 12, "mu_star")])
def test_the_second_input_that_drives_the_output_ranks_first(
    two_input_scenario: Path, method: str, samples: int, key: str, tmp_path: Path
) -> None:
    loaded = load_scenario(two_input_scenario)
    assert list(loaded.scenario.uncertain) == [NEUTRAL_INPUT, DRIVING_INPUT]
    neutral, driving = (loaded.scenario.uncertain[p] for p in (NEUTRAL_INPUT, DRIVING_INPUT))
    assert (neutral.dist, neutral.low, neutral.high) == ("truncnormal", 21.0, 21.000001)
    assert (driving.dist, driving.low, driving.high) == ("uniform", 0.02, 1.5)
    plan = plan_sensitivity(loaded, method, samples, seed=5)
    assert plan.problem["names"] == [NEUTRAL_INPUT, DRIVING_INPUT, "seed"]  # the seed is the last input
    write_sensitivity(plan, tmp_path / method, InProcess())
    summary = json.loads((tmp_path / method / "summary.json").read_text(encoding="utf-8"))
    control = summary["indices"]["control_end"]
    assert "control_end" not in summary["constant_outputs"]
    # Chance (the seed, one more input) takes a large share of control's variance, the battle being noisy: the
    # driver's share is clearly above zero, not above a half.
    assert control[DRIVING_INPUT][key] > 0.2 if method == "sobol" else control[DRIVING_INPUT][key] > 0.01
    assert control[DRIVING_INPUT][key] > 10 * abs(control[NEUTRAL_INPUT][key] or 0.0), control
    assert control["seed"][key] > 0.05, control  # luck is measured, not fixed
    # Over every output that varies, the driver is never ranked below the neutral input. (The neutral input
    # is not exactly without effect on the deal's position: the bargaining ascent can stop at a slightly
    # different point when an input moves by a millionth, so its index there is small, not zero.)
    for output, entries in summary["indices"].items():
        if output in summary["constant_outputs"]:
            continue
        assert (entries[DRIVING_INPUT][key] or 0.0) >= (entries[NEUTRAL_INPUT][key] or 0.0), (output, entries)


# ---------------------------------------------------------------------------- sensitivity: the seed is an input


def _unit_rows(plan: Any) -> tuple[int, int]:
    """The design's inputs (D + 1, the seed last) and the index of the seed's column."""
    names = plan.problem["names"]
    assert names[-1] == "seed" and len(set(names)) == len(names)
    return len(names), len(names) - 1


def test_sobol_runs_do_not_share_one_seed_but_each_saltelli_block_pairs_its_runs() -> None:
    """SALib's rows come in blocks of D + 2 per base sample: A, AB_1 ... AB_D, B (no second order). Every AB_j
    but the seed's own takes A's seed coordinate, so it must run with A's seed; AB_seed and B take B's."""
    loaded = load_scenario(SEPTEMBER)
    plan = plan_sensitivity(loaded, "sobol", 16, seed=7)
    inputs, seed_column = _unit_rows(plan)
    block = inputs + 2
    assert plan.runs == 16 * block
    seeds = plan.seeds.reshape(16, block)
    a_seeds, b_seeds = seeds[:, 0], seeds[:, -1]
    for j in range(inputs):
        expected = b_seeds if j == seed_column else a_seeds
        np.testing.assert_array_equal(seeds[:, 1 + j], expected, err_msg=f"AB_{j}")
    assert len(set(a_seeds) | set(b_seeds)) == 32  # a seed per A and per B row: chance is sampled
    assert np.unique(plan.seeds).size == 32 and plan.seed not in set(plan.seeds.tolist())


def test_morris_trajectories_change_their_seed_only_at_the_seeds_step() -> None:
    loaded = load_scenario(SEPTEMBER)
    plan = plan_sensitivity(loaded, "morris", 6, seed=3)
    inputs, seed_column = _unit_rows(plan)
    length = inputs + 1
    unit = plan.unit.reshape(6, length, inputs)
    seeds = plan.seeds.reshape(6, length)
    first_seeds = set()
    for trajectory in range(6):
        moved = np.diff(unit[trajectory, :, seed_column]) != 0
        changed = np.diff(seeds[trajectory]) != 0
        assert moved.sum() == 1, "a Morris trajectory moves each input once"
        np.testing.assert_array_equal(changed, moved)
        first_seeds.add(int(seeds[trajectory, 0]))
    assert len(first_seeds) == 6  # trajectories on the same grid of levels still draw their own seeds


def test_a_sensitivity_row_replays_with_its_own_seed(tmp_path: Path) -> None:
    from sim.model.results import run_scenario

    loaded = load_scenario(MARCH)
    plan = plan_sensitivity(loaded, "sobol", 2, seed=9)
    write_sensitivity(plan, tmp_path / "s", InProcess())
    rows = pq.read_table(tmp_path / "s" / "sensitivity.parquet").to_pylist()
    assert len({row["seed"] for row in rows}) > 1
    paths = list(loaded.scenario.uncertain)
    for row in (rows[-1], next(r for r in rows if r["seed"] != rows[-1]["seed"])):
        replayed = run_scenario(load_scenario(replay_scenario(tmp_path, MARCH, row, paths)), seed=row["seed"])
        label = f"run {row['run']} (seed {row['seed']})"
        assert replayed.summary["deal"]["reached"] is row["deal"], label
        assert replayed.summary["deal"]["step"] == row["deal_step"], label
        assert replayed.summary["ceasefire"]["held_steps"] == row["ceasefire_held_steps"], label
        same_number(replayed.summary["control"], row["control_end"], f"{label} control at the end")
