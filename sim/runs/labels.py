"""Labels in the scenario's own words for the fields that many runs vary, and the outputs they measure.

A field path such as `actors.russia.demand` is what a user types after `--set` or under `uncertain:`; a
reader of a report wants "Russia: demand". `field_label` turns a path into such a label from the names
the scenario gives (an actor's `name`; an issue's id with spaces); `field_labels` does so for several
paths at once, and the summaries of ensembles, sweeps and sensitivity analyses carry the result as
`labels`, so that a report draws its axes and tables from the summary alone.

The labels are plain text made from the scenario file: whoever shows them must escape them (`esc` in
the reports, `safe` on the terminal).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# The pseudo-input of a sensitivity design that sets each run's seed (`sim.runs.sensitivity`).
SEED_INPUT = "seed"
SEED_LABEL = "chance (the run's seed)"

# Actor fields whose words are not simply the field's name with spaces.
ACTOR_WORDS = {
    "forces.ground": "ground force",
    "forces.air": "air force",
    "threats.strike_power": "strike power",
    "threats.safe_zone_power": "safe-zone power",
    "threats.credibility": "credibility of its threats",
    "redeploy_days": "days to bring forces back",
    "risk_exponent": "risk attitude",
}
BATTLEFIELD_WORDS = {
    "control": "government-side control at the start",
    "kappa": "speed of the front (kappa)",
    "noise": "noise of control per step",
    "credibility_tau_days": "days a return still counts (tau)",
}


def words(name: str) -> str:
    """An id or dotted field name as words: `war_cost` -> 'war cost', `forces.air` -> 'forces air'."""
    return name.replace("_", " ").replace(".", " ")


def issue_words(scenario: Any, issue: str) -> str:
    """An issue's name: its id with spaces (issues have no display name of their own)."""
    return words(issue)


def _actor_name(scenario: Any, actor: str) -> str:
    spec = scenario.actors.get(actor)
    return spec.name if spec is not None and spec.name else words(actor)


def field_label(scenario: Any, path: str) -> str:
    """The label of a numeric field path (or of the seed input) in the scenario's own names.

    Args:
        scenario: the `sim.scenario.schema.Scenario` the path belongs to.
        path: a dotted field path as `--set` and `uncertain:` take it, or `SEED_INPUT`.

    Returns:
        e.g. "Russia: demand", "United States: position on assad role", "battlefield: speed of the front
        (kappa)", "assad role: status quo"; the path itself when it has no known form.
    """
    if path == SEED_INPUT:
        return SEED_LABEL
    parts = path.split(".")
    if parts[0] == "actors" and len(parts) >= 3:
        name, rest = _actor_name(scenario, parts[1]), ".".join(parts[2:])
        if len(parts) == 4 and parts[2] == "position":
            return f"{name}: position on {issue_words(scenario, parts[3])}"
        if len(parts) == 4 and parts[2] == "salience":
            return f"{name}: salience of {issue_words(scenario, parts[3])}"
        return f"{name}: {ACTOR_WORDS.get(rest, words(rest))}"
    if parts[0] == "battlefield" and len(parts) == 3 and parts[1] in ("government_victory", "opposition_victory"):
        return f"{words(parts[1])}: {issue_words(scenario, parts[2])}"
    if parts[0] == "battlefield" and len(parts) == 2:
        return f"battlefield: {BATTLEFIELD_WORDS.get(parts[1], words(parts[1]))}"
    if parts[0] == "issues" and len(parts) == 3:
        return f"{issue_words(scenario, parts[1])}: {words(parts[2])}"
    if parts[0] == "observations" and len(parts) == 4:
        observation = (getattr(scenario, "observations", None) or {}).get(parts[1])
        series = observation.label if observation is not None and observation.label else words(parts[1])
        return f"{series}: {words(parts[3])}"
    return path


def field_labels(scenario: Any, paths: Iterable[str]) -> dict[str, str]:
    """{path: label} for each path; two paths that would read the same keep their path in brackets."""
    paths = list(dict.fromkeys(paths))
    labels = {path: field_label(scenario, path) for path in paths}
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {path: (f"{label} [{path}]" if seen[label] > 1 else label) for path, label in labels.items()}
