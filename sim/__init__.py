"""Negotiation-leverage simulation of the 2016 Syria ceasefire talks.

The public API, for a notebook or a script::

    import sim
    result = sim.run_scenario(sim.load_scenario("scenarios/ceasefire_2016_03.yaml"))
    result.figures()["leverage"]          # the report's figures as plotly Figures (inline in Jupyter)
    sim.write_run_outputs(result, "reports/mine")

Many runs: `plan_monte_carlo` / `write_monte_carlo`, `plan_sweep` / `write_sweep`,
`plan_sensitivity` / `write_sensitivity`; two scenarios: `compare_scenarios` /
`write_comparison`; the DEU III benchmark: `run_deu_benchmark` / `write_deu_benchmark`; a scenario from a
KTAB or BDM file: `import_scenario`. The layers, in the order data flows through them:

- `sim.scenario`: the scenario format, safe YAML reading, parameters as arrays, uncertainty;
- `sim.mechanisms`: the mathematics (utility, battlefield, alternatives, bargaining, leverage,
  decisions) as small pure functions over numpy arrays;
- `sim.model`: the vectorised engine (one step for a batch of runs), the Mesa model and agents,
  and a run's results;
- `sim.runs`: batches of runs and their seeds, ensembles, sweeps, sensitivity, comparisons,
  local and Dask execution, statistics;
- `sim.reports`: the HTML pages and their figures, and the reports index;
- `sim.validation`: checks against real negotiations (the DEU III benchmark);
- `sim.api`: the front door that joins them; `sim.outputs`: atomic writing of output folders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The API is imported on first use (PEP 562), so that `import sim.scenario.loader`, which the CLI
# does for every command, does not pay for the model, pandas and the many-run machinery.
_API = (
    "Comparison",
    "LoadedScenario",
    "MonteCarlo",
    "RunResult",
    "ScenarioError",
    "SensitivityPlan",
    "SweepPlan",
    "compare_scenarios",
    "import_scenario",
    "load_scenario",
    "plan_monte_carlo",
    "plan_sensitivity",
    "plan_sweep",
    "run_deu_benchmark",
    "run_scenario",
    "timeseries_csv",
    "write_comparison",
    "write_deu_benchmark",
    "write_monte_carlo",
    "write_run_outputs",
    "write_sensitivity",
    "write_sweep",
)
__all__ = ["__version__", *_API]

if TYPE_CHECKING:
    from sim.api import (  # noqa: F401
        Comparison,
        LoadedScenario,
        MonteCarlo,
        RunResult,
        ScenarioError,
        SensitivityPlan,
        SweepPlan,
        compare_scenarios,
        import_scenario,
        load_scenario,
        plan_monte_carlo,
        plan_sensitivity,
        plan_sweep,
        run_deu_benchmark,
        run_scenario,
        timeseries_csv,
        write_comparison,
        write_deu_benchmark,
        write_monte_carlo,
        write_run_outputs,
        write_sensitivity,
        write_sweep,
    )


def __getattr__(name: str) -> Any:
    if name in _API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
