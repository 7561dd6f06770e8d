"""Negotiation-leverage simulation of the 2016 Syria ceasefire talks.

The public API: `load_scenario` reads a scenario file, `run_scenario` runs it
(a Mesa model) and returns a `RunResult`, `write_run_outputs` writes the
report, summary and time series.
"""

from __future__ import annotations

__version__ = "0.1.0"
