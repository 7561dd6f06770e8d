"""Two scenarios side by side: run both, and pair their outcomes with the differences B - A.

`compare_scenarios(path_a, path_b)` runs both (each with its own seed unless one is given) and returns a
`Comparison`; `comparison_data` is what `comparison.json` holds. The page is
`sim.reports.comparison.comparison_report`; `sim.api.write_comparison` writes both into a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.model.results import RunResult, run_scenario
from sim.scenario.loader import load_scenario

TINY = 5e-5  # leverage below this counts as none in the difference table


@dataclass
class Comparison:
    """Two finished runs, A and B."""

    a: RunResult
    b: RunResult

    @property
    def runs(self) -> tuple[RunResult, RunResult]:
        return self.a, self.b


def compare_scenarios(path_a: str | Path, path_b: str | Path, seed: int | None = None) -> Comparison:
    """Load and run two scenario files (each with its own seed unless `seed` is given)."""
    return Comparison(run_scenario(load_scenario(path_a), seed=seed), run_scenario(load_scenario(path_b), seed=seed))


# --- the numbers ---------------------------------------------------------------------------------------


def same_run(comparison: Comparison) -> bool:
    """Whether B's run is A's, week by week: the same time series in every column but the dates (two scenarios
    that differ only in their start date, or a file compared with itself)."""
    a, b = (result.timeseries.drop(columns=["date"], errors="ignore") for result in comparison.runs)
    return list(a.columns) == list(b.columns) and a.reset_index(drop=True).equals(b.reset_index(drop=True))


def paired(value_a: Any, value_b: Any) -> dict[str, Any]:
    """{"a", "b", "difference"}: the difference B - A when both are numbers, else None."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (value_a, value_b))
    return {"a": value_a, "b": value_b, "difference": (value_b - value_a) if numbers else None}


def _scenario_entry(result: RunResult) -> dict[str, Any]:
    summary = result.summary
    return {
        "file": summary["scenario"]["file"],
        "name": summary["scenario"]["name"],
        "sha256": summary["scenario"]["sha256"],
        "seed": summary["seed"],
        "outcome": summary["outcome"],
    }


def comparison_data(comparison: Comparison) -> dict[str, Any]:
    """What comparison.json holds: both scenarios, the outcome differences (B - A) and both summaries.

    Each compared quantity is {"a", "b", "difference"}, the difference B - A where both are numbers.
    """
    a, b = comparison.a.summary, comparison.b.summary
    issues = list(dict.fromkeys([*(a["deal"]["position"] or {}), *(b["deal"]["position"] or {})]))
    issues = issues or list(dict.fromkeys([*comparison.a.scenario.issues, *comparison.b.scenario.issues]))
    actors = list(dict.fromkeys([*a["actors"], *b["actors"]]))

    def position(summary: dict[str, Any], issue: str) -> float | None:
        return (summary["deal"]["position"] or {}).get(issue)

    def actor_value(summary: dict[str, Any], actor: str, key: str) -> float | None:
        return summary["actors"].get(actor, {}).get(key)

    def war_value(result: RunResult, part: str, key: str) -> Any:
        """A ceasefire quantity, or None for a scenario without a war (a ceasefire means nothing there)."""
        return result.summary[part][key] if result.scenario.battlefield is not None else None

    def leverage(summary: dict[str, Any], kind: str, i: str, j: str) -> float | None:
        return summary[kind].get(i, {}).get(j)

    def by_instrument(summary: dict[str, Any], i: str, j: str) -> dict[str, float]:
        return summary.get("leverage_by_instrument", {}).get("coercive", {}).get(i, {}).get(j, {})

    pairs = [
        (i, j)
        for i in actors
        for j in actors
        if i != j
        and any(
            (leverage(s, "leverage", i, j) or 0.0) > TINY or max(by_instrument(s, i, j).values(), default=0.0) > TINY
            for s in (a, b)
        )
    ]
    data = {
        "kind": "compare",
        "a": _scenario_entry(comparison.a),
        "b": _scenario_entry(comparison.b),
        "deal": {
            "reached": paired(a["deal"]["reached"], b["deal"]["reached"]),
            "step": paired(a["deal"]["step"], b["deal"]["step"]),
            "date": paired(a["deal"]["date"], b["deal"]["date"]),
            "in_words": paired(a["deal"]["in_words"], b["deal"]["in_words"]),
            "position": {issue: paired(position(a, issue), position(b, issue)) for issue in issues},
        },
        "ceasefire": {
            key: paired(war_value(comparison.a, "ceasefire", key), war_value(comparison.b, "ceasefire", key))
            for key in ("held_steps", "collapsed_step", "in_force_at_end")
        },
        "control": paired(a["control"], b["control"]),
        "actors": {
            actor: {
                key: paired(actor_value(a, actor, key), actor_value(b, actor, key))
                for key in ("utility_of_deal", "batna", "distance_from_ideal")
            }
            for actor in actors
        },
        "leverage": {
            f"{i}->{j}": {
                kind: paired(leverage(a, f"leverage{suffix}", i, j), leverage(b, f"leverage{suffix}", i, j))
                for kind, suffix in (("total", ""), ("coercive", "_coercive"), ("inducement", "_inducement"))
            }
            | {
                "coercive_by_instrument": {
                    instrument: paired(by_instrument(a, i, j).get(instrument), by_instrument(b, i, j).get(instrument))
                    for instrument in dict.fromkeys([*by_instrument(a, i, j), *by_instrument(b, i, j)])
                }
            }
            for i, j in pairs
        },
        "same_run": same_run(comparison),
        "summaries": {"a": a, "b": b},
    }
    data["outcome"] = comparison_outcome(data)
    return data


def moved_issues(data: dict[str, Any]) -> list[str]:
    """'assad role +0.11' for each issue on which B's deal differs from A's by at least 0.01."""
    return [
        f"{issue.replace('_', ' ')} {pair['difference']:+.2f}"
        for issue, pair in data["deal"]["position"].items()
        if pair["difference"] is not None and abs(pair["difference"]) >= 0.01
    ]


def comparison_outcome(data: dict[str, Any]) -> str:
    """The comparison in one sentence: each side's deal and ceasefire, and how B's deal differs."""
    parts = []
    for label in ("a", "b"):
        step = data["deal"]["step"][label]
        collapsed = data["ceasefire"]["collapsed_step"][label]
        text = f"{label.upper()}: " + (f"deal in week {step}" if step is not None else "no deal")
        if collapsed is not None:
            text += f", ceasefire collapsed in week {collapsed}"
        parts.append(text)
    moved = moved_issues(data)
    sentence = "; ".join(parts) + "."
    if moved:
        sentence += " B's deal against A's: " + ", ".join(moved) + "."
    if data.get("same_run"):
        sentence += " The two runs are identical, week by week: every B line lies on its A line."
    return sentence


def index_summary(comparison: Comparison, data: dict[str, Any]) -> dict[str, Any]:
    """The summary.json of a comparison folder: what the reports index lists (kind, title, outcome)."""
    return {
        "kind": "compare",
        "title": f"{comparison.a.scenario.name} against {comparison.b.scenario.name}",
        "scenarios": [{"name": data[x]["name"], "file": data[x]["file"]} for x in ("a", "b")],
        "outcome": comparison_outcome(data),
    }


def json_ready(value: Any) -> Any:
    """NaN and infinities as null, numpy scalars as numbers."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
