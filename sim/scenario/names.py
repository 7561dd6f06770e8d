"""Ids and the column names made from them.

An id (of an actor, issue, event or agreement, and each part of an `uncertain:` path) is an ASCII
identifier: a letter, then letters, digits and underscores, at most `MAX_ID_CHARS` characters. Ids
become parts of column names in the outputs (`deal_<issue>`, `batna_<actor>`, `<agreement>_in_force`,
...), of Parquet files, and of dotted field paths, so they must not hold dots, spaces or characters a
spreadsheet or a terminal reads differently.

`generated_columns` lists every column and series name the outputs make from a scenario's ids, with the
id each came from; `collisions` finds two that come out the same (an issue named `step` makes `deal_step`,
which is also the step of the deal). `tests/test_ids_and_columns.py` checks these lists against the
columns the model, the runs files and the bands really have, so they cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sim.mechanisms.leverage import INSTRUMENTS
from sim.scenario.schema import DEFAULT_AGREEMENT_IDS

MAX_ID_CHARS = 64
ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
ID_FORM = "an id is a letter followed by letters, digits and underscores (ASCII, at most 64 characters)"

# The per-run outcome columns (`sim.runs.batch.outcome_columns`) and other columns of the runs files.
RUNS_FIXED = (
    "run",
    "seed",
    "point",
    "deal",
    "deal_step",
    "ceasefire_held_steps",
    "ceasefire_collapsed_step",
    "ceasefire_at_end",
    "control_end",
)
# The time series (`sim.model.model`, `sim.model.results._timeseries`): the actor's columns and the step's.
# The model collects exactly these (it imports them from here).
ACTOR_SCALARS = (
    "batna",
    "utility_of_offer",
    "reservation",
    "demand",
    "weight",
    "accepts",
    "aspiration",
    "spoil_probability",
    "restrains",
    "softened",
    "escalated",
    "withdrew",
    "involvement",
    "projected_win_probability",
    "ground",
    "air_present",
    "air_withdrawn",
    "credibility",
    "coercive_total",
    "inducement_total",
)
STEP_SCALARS = (
    "control",
    "win_probability",
    "government_strength",
    "opposition_strength",
    "arms_stock",
    "arms_inflow",
    "ceasefire",
    "deal",
    "zone_exists",
    "intensity",
    "collapse_probability",
    "broken_by",
    "events",
)
TIMESERIES_ACTOR_FIXED = ("step", "date", "actor", *ACTOR_SCALARS)
TIMESERIES_STEP_FIXED = STEP_SCALARS
AGREEMENT_SERIES = ("in_force", "signed", "collapsed", "violated", "breach_probability")
SENSITIVITY_FIXED = ("deal", "time_to_deal", "ceasefire_held_steps", "control_end")


def id_problem(name: object) -> str | None:
    """Why `name` is not a usable id, or None."""
    if not isinstance(name, str) or name == "":
        return "an id cannot be empty"
    if len(name) > MAX_ID_CHARS:
        return f"the id is {len(name):,} characters long, more than {MAX_ID_CHARS}"
    if not ID_PATTERN.fullmatch(name):
        return f"{name!r} is not a usable id"
    return None


def _default_agreements(agreements: list[str]) -> list[str]:
    return agreements or list(DEFAULT_AGREEMENT_IDS)


def generated_columns(
    actors: list[str], issues: list[str], agreements: list[str], threats: list[str] = ()
) -> Iterator[tuple[str, str, str]]:
    """(table, column, what it was made from: "issue 'x'", or '' for a fixed name) for every generated name."""
    agreements = _default_agreements(agreements)
    actor = {a: f"actor '{a}'" for a in actors}
    issue = {k: f"issue '{k}'" for k in issues}
    agreement = {g: f"agreement '{g}'" for g in agreements}
    runs = "runs file"
    yield from ((runs, name, "") for name in RUNS_FIXED)
    yield from ((runs, f"deal_{k}", issue[k]) for k in issues)
    yield from ((runs, f"utility_of_deal_{a}", actor[a]) for a in actors)
    yield from ((runs, f"proposal_{k}", issue[k]) for k in issues)
    yield from ((runs, f"batna_{a}", actor[a]) for a in actors)
    for g in agreements:
        suffixes = ("first_step", "at_end", "collapsed_step")
        yield from ((runs, f"agreement_{g}_{suffix}", agreement[g]) for suffix in suffixes)
    for t in threats:
        suffixes = ("status", "resolved_step", "carried_out_step")
        yield from ((runs, f"threat_{t}_{suffix}", f"threat '{t}'") for suffix in suffixes)
    series = "time series"
    yield from ((series, name, "") for name in (*TIMESERIES_ACTOR_FIXED, *TIMESERIES_STEP_FIXED))
    yield from ((series, f"coercive_{instrument}_on_{a}", actor[a]) for instrument in INSTRUMENTS for a in actors)
    kinds = ("coercive", "inducement", "leverage")
    yield from ((series, f"{kind}_on_{a}", actor[a]) for kind in kinds for a in actors)
    yield from ((series, f"proposal_{k}", issue[k]) for k in issues)
    yield from ((series, f"{g}_{suffix}", agreement[g]) for g in agreements for suffix in AGREEMENT_SERIES)
    bands = "fan-chart series"
    yield from ((bands, name, "") for name in ("control", "intensity"))
    yield from ((bands, f"{prefix}_{a}", actor[a]) for a in actors for prefix in ("batna", "deal_value"))
    outputs = "sensitivity outputs"
    yield from ((outputs, name, "") for name in SENSITIVITY_FIXED)
    yield from ((outputs, f"position_{k}", issue[k]) for k in issues)


def collisions(
    actors: list[str], issues: list[str], agreements: list[str], threats: list[str] = ()
) -> tuple[str, str, str, str] | None:
    """The first generated name made twice: (table, column, one id, the other id or '' for a fixed name)."""
    seen: dict[tuple[str, str], str] = {}
    for table, column, source in generated_columns(actors, issues, agreements, threats):
        key = (table, column)
        if key in seen and seen[key] != source:
            first = seen[key]
            return (table, column, source, first) if source else (table, column, first, source)
        seen[key] = source
    return None
