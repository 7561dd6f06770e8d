"""The scenarios shipped in a folder, each with one line saying what it asks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.scenario.loader import ScenarioError, load_scenario


@dataclass
class CatalogEntry:
    file: str
    name: str
    summary: str


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    ends = [text.index(end) for end in (". ", "? ", "! ") if end in text]
    return text[: min(ends) + 1] if ends else text


def scenario_entries(folder: Path) -> list[CatalogEntry]:
    """Every scenario file in `folder`, sorted by name; files that do not load say why."""
    entries = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            scenario = load_scenario(path).scenario
        except ScenarioError as error:
            entries.append(CatalogEntry(path.name, "?", f"(invalid: {error.message})"))
            continue
        entries.append(
            CatalogEntry(path.name, scenario.name, f"{scenario.name}: {first_sentence(scenario.description)}")
        )
    return entries
