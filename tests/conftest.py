"""Shared fixtures: paths to the project and its shipped scenarios."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same generated cases every time (a red build must be reproducible);
# locally hypothesis keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCENARIOS = ROOT / "scenarios"


@pytest.fixture
def march_path() -> Path:
    return SCENARIOS / "ceasefire_2016_03.yaml"


@pytest.fixture
def september_path() -> Path:
    return SCENARIOS / "stalemate_2016_09.yaml"
