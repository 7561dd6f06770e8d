"""Regression snapshots of every shipped scenario: any change of the model's behaviour shows as a diff.

    .venv/bin/python scripts/snapshots.py            # check every scenario against tests/snapshots/
    .venv/bin/python scripts/snapshots.py --update   # rewrite the snapshots (then review and commit the diff)

For each scenarios/NAME.yaml, tests/snapshots/NAME.json holds:

- `summary`: the run's summary.json at the scenario's own seed, without the fields listed in
  `VARYING_FIELDS` (the package version). The scenario file's sha256 stays, so an edited
  scenario shows too.
- `digest`: the outcomes of the runs with the seeds `DIGEST_SEEDS` (1..20): per seed, the deal
  (reached, step, position per issue), the step the ceasefire collapsed, control at the end and
  each actor's alternative (BATNA) at the end; then the share of seeds with a deal, their mean
  deal step and the share with a collapse. The 20 runs are computed as one vectorised batch
  (`batch_digests`), whose members equal the single runs with the same seeds.

Integers, booleans, strings and nulls must be equal; floats equal within `REL_TOL` and `ABS_TOL`
(see there why). tests/test_snapshots.py runs the same check, one test per scenario.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.model.results import run_scenario  # noqa: E402
from sim.runs.batch import Batch, execute  # noqa: E402
from sim.runs.distributed import InProcess  # noqa: E402
from sim.scenario.loader import LoadedScenario, load_scenario  # noqa: E402

SCENARIOS = ROOT / "scenarios"
SNAPSHOTS = ROOT / "tests" / "snapshots"
UPDATE_COMMAND = ".venv/bin/python scripts/snapshots.py --update"

DIGEST_SEEDS = tuple(range(1, 21))
# Fields of the summary that differ between versions of the package without any change of behaviour.
VARYING_FIELDS = ("version",)
# The same code gives the same floats on one machine, but another build of numpy or of its BLAS and
# libm (other SIMD paths, fused multiply-add, other summation order) may change the last bits. The
# tolerance admits that and nothing a change of the model would plausibly produce.
REL_TOL = 1e-9
ABS_TOL = 1e-12
MAX_LISTED = 30  # differences listed in one failure message


def scenario_paths() -> list[Path]:
    """Every shipped scenario, in name order."""
    return sorted(SCENARIOS.glob("*.yaml"))


def snapshot_path(scenario: Path) -> Path:
    return SNAPSHOTS / f"{scenario.stem}.json"


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ---------------------------------------------------------------------------- what is stored


def _plain(data: Any) -> Any:
    """The data as JSON reads it back (what a stored snapshot is compared as)."""
    return json.loads(json.dumps(data, allow_nan=False))


def run_digest(summary: dict[str, Any]) -> dict[str, Any]:
    """What the digest keeps of one run, read from its summary."""
    deal = summary["deal"]
    return {
        "deal_reached": deal["reached"],
        "deal_step": deal["step"],
        "deal_position": deal["position"],
        "ceasefire_collapsed_step": summary["ceasefire"]["collapsed_step"],
        "control_end": summary["control"],
        "batna_end": {actor: values["batna"] for actor, values in summary["actors"].items()},
    }


def batch_digests(loaded: LoadedScenario, seeds: tuple[int, ...]) -> dict[int, dict[str, Any]]:
    """`run_digest` of the single run with each seed, all computed at once as one vectorised batch.

    The batch is 30 times faster than the Mesa runs one by one, and the suite checks that a batch
    member equals the single run with its seed (tests/test_ensemble.py, and here
    tests/test_snapshots.py for the digest itself).
    """
    scenario = loaded.scenario
    parts = [chunk.outcomes for chunk in execute(Batch(scenario, np.asarray(seeds, dtype=np.int64)), InProcess())]
    columns = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    digests = {}
    for i, seed in enumerate(seeds):
        reached = bool(columns["deal"][i])
        collapsed = int(columns["ceasefire_collapsed_step"][i])
        control = float(columns["control_end"][i])
        digests[seed] = {
            "deal_reached": reached,
            "deal_step": int(columns["deal_step"][i]) if reached else None,
            "deal_position": {k: float(columns[f"deal_{k}"][i]) for k in scenario.issues} if reached else None,
            "ceasefire_collapsed_step": collapsed if collapsed >= 0 else None,
            "control_end": control if math.isfinite(control) else None,
            "batna_end": {actor: float(columns[f"batna_{actor}"][i]) for actor in scenario.actors},
        }
    return digests


def take_snapshot(scenario: Path) -> dict[str, Any]:
    """The snapshot of one scenario: its summary at its own seed and the digest over `DIGEST_SEEDS`."""
    loaded = load_scenario(scenario)
    summary = {key: value for key, value in run_scenario(loaded).summary.items() if key not in VARYING_FIELDS}
    runs = batch_digests(loaded, DIGEST_SEEDS)
    deal_steps = [run["deal_step"] for run in runs.values() if run["deal_reached"]]
    collapses = [run for run in runs.values() if run["ceasefire_collapsed_step"] is not None]
    digest = {
        "seeds": list(DIGEST_SEEDS),
        # Keyed by seed, zero-padded so that the keys sort in seed order.
        "runs": {f"seed_{seed:02d}": run for seed, run in runs.items()},
        "deal_share": len(deal_steps) / len(runs),
        "mean_deal_step": sum(deal_steps) / len(deal_steps) if deal_steps else None,
        "collapse_share": len(collapses) / len(runs),
    }
    return _plain({"scenario": scenario.name, "summary": summary, "digest": digest})


def render(snapshot: dict[str, Any]) -> str:
    """A snapshot as stored: sorted keys and indented, so that a diff shows what moved."""
    return json.dumps(snapshot, indent=2, sort_keys=True, allow_nan=False) + "\n"


# ---------------------------------------------------------------------------- comparison


def differences(stored: Any, new: Any, path: str = "") -> list[str]:
    """Every place where `new` differs from `stored`, as 'path: stored X, now Y' lines."""
    where = path or "(top)"
    if isinstance(stored, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(stored) | set(new)):
            inner = f"{path}.{key}" if path else str(key)
            if key not in new:
                found.append(f"{inner}: stored {stored[key]!r}, now missing")
            elif key not in stored:
                found.append(f"{inner}: not stored, now {new[key]!r}")
            else:
                found += differences(stored[key], new[key], inner)
        return found
    if isinstance(stored, list) and isinstance(new, list):
        if len(stored) != len(new):
            return [f"{where}: stored {len(stored)} items {stored!r}, now {len(new)} items {new!r}"]
        found = []
        for index, (left, right) in enumerate(zip(stored, new, strict=True)):
            found += differences(left, right, f"{path}[{index}]")
        return found
    if type(stored) is float and type(new) is float:
        same = math.isclose(stored, new, rel_tol=REL_TOL, abs_tol=ABS_TOL)
        return [] if same else [f"{where}: stored {stored!r}, now {new!r} (difference {new - stored:+.3g})"]
    # Integers, booleans, strings, None and any change of type: exact.
    if type(stored) is not type(new) or stored != new:
        return [f"{where}: stored {stored!r}, now {new!r}"]
    return []


def _how_to_update() -> str:
    return (
        f"If the change is intended, rewrite the snapshots with `{UPDATE_COMMAND}` and commit "
        f"{_relative(SNAPSHOTS)}/ with the change (its diff is the record of what moved)."
    )


def check(scenario: Path, new: dict[str, Any] | None = None) -> str | None:
    """None if the scenario still gives its stored snapshot, else a message saying what moved.

    `new` is the fresh snapshot, taken here unless given.
    """
    stored_path = snapshot_path(scenario)
    if not stored_path.is_file():
        return (
            f"{scenario.stem}: no snapshot for {_relative(scenario)} (expected {_relative(stored_path)}). "
            f"Create it with `{UPDATE_COMMAND}`, review it and commit it."
        )
    try:
        stored = json.loads(stored_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return f"{scenario.stem}: cannot read {_relative(stored_path)} ({error}). Rewrite it with `{UPDATE_COMMAND}`."
    found = differences(stored, take_snapshot(scenario) if new is None else new)
    if not found:
        return None
    # The summary first (the outcome in words is in it), then the digest: its aggregates, then seed by seed.
    found.sort(key=lambda line: 0 if line.startswith(("scenario", "summary")) else 1)
    listed = found[:MAX_LISTED]
    more = [f"... and {len(found) - MAX_LISTED} more"] if len(found) > MAX_LISTED else []
    return "\n".join(
        [
            f"{scenario.stem}: {len(found)} field(s) differ from {_relative(stored_path)} "
            f"(floats compared with rel {REL_TOL:g}, abs {ABS_TOL:g}):",
            *(f"  {line}" for line in listed + more),
            _how_to_update(),
        ]
    )


def orphans() -> list[Path]:
    """Stored snapshots whose scenario no longer exists."""
    stems = {path.stem for path in scenario_paths()}
    return sorted(path for path in SNAPSHOTS.glob("*.json") if path.stem not in stems)


# ---------------------------------------------------------------------------- command line


def update() -> int:
    """Rewrite every scenario's snapshot and remove those of scenarios that are gone."""
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for scenario in scenario_paths():
        target = snapshot_path(scenario)
        text = render(take_snapshot(scenario))
        old = target.read_text(encoding="utf-8") if target.is_file() else None
        if old != text:
            target.write_text(text, encoding="utf-8", newline="\n")
        print(f"{'unchanged' if old == text else 'written' if old is None else 'rewritten'}: {_relative(target)}")
    for path in orphans():
        path.unlink()
        print(f"removed (no such scenario): {_relative(path)}")
    print(f"Review the changes with `git diff {_relative(SNAPSHOTS)}` before committing them.")
    return 0


def check_all() -> int:
    """Check every scenario; print what moved; 0 if nothing did."""
    failed = 0
    for scenario in scenario_paths():
        problem = check(scenario)
        print(problem if problem else f"ok: {scenario.stem}")
        failed += problem is not None
    for path in orphans():
        where = _relative(SCENARIOS)
        print(f"{_relative(path)}: no scenario {path.stem}.yaml in {where}/; remove it with `{UPDATE_COMMAND}`.")
        failed += 1
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite tests/snapshots/ from the current model")
    args = parser.parse_args(argv)
    return update() if args.update else check_all()


if __name__ == "__main__":
    sys.exit(main())
