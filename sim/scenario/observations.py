"""The observed series of a scenario (its `observations:` section) as arrays.

The loader reads and checks each CSV file when the scenario is loaded (`sim.scenario.loader.
read_observations`, plain Python) and keeps the rows on the `LoadedScenario`; this module turns them into
`ObservedSeries`: the dates and counts as numpy arrays with the observation model's parameters, for the
code that compares runs with the data (`sim.mechanisms.observation` holds the mathematics).

    loaded = load_scenario("scenarios/syria_2016.yaml")
    for series in load_observations(loaded).values():
        intensity = aggregate(step_dates(loaded.scenario.time), runs_intensity, series.dates, series.resolution,
                              loaded.scenario.time.step_days)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from sim.mechanisms.observation import period_weeks
from sim.scenario.loader import LoadedScenario, read_observations
from sim.scenario.params import Params
from sim.scenario.schema import TimeSpec

Array = NDArray[np.float64]


@dataclass(frozen=True)
class ObservedSeries:
    """One observed series: P periods of counts, and the observation model that links them to the model.

    The arrays are read-only. `scale`, `dispersion` and `baseline` are the file's values; an `uncertain:`
    entry (`observations.<id>.model.scale`) varies them per run in `Params.observation_values`, which
    `parameters` reads.
    """

    id: str
    label: str  # the scenario's label, or the id
    path: Path  # the CSV file as opened (relative to the scenario file that names it)
    sha256: str  # of the CSV file's bytes
    date_column: str
    column: str
    resolution: Literal["week", "month"]
    dates: NDArray[np.datetime64]  # (P,) datetime64[D]: the first day of each week or month, increasing
    counts: NDArray[np.int64]  # (P,) the observed counts, >= 0
    dist: Literal["negative_binomial"]
    scale: float  # expected count per week at full-war intensity
    dispersion: float  # r of the NB2: variance = mean + mean^2 / r
    baseline: float  # expected count per week at zero intensity
    exposure_actor: str | None = None  # the actor whose acts the series counts (its force scales the counts)
    exposure_force: Literal["air", "ground"] = "air"

    @property
    def periods(self) -> int:
        return int(self.counts.shape[0])

    @property
    def weeks(self) -> Array:
        """(P,) each period's length in weeks (1 for a weekly series)."""
        return period_weeks(self.dates, self.resolution)

    def activity_spec(self, actor_ids: list[str] | tuple[str, ...]) -> tuple[str, int, str]:
        """What `sim.runs.batch.ChunkSpec.activity` needs to record this series' activity per step."""
        actor = actor_ids.index(self.exposure_actor) if self.exposure_actor is not None else -1
        return self.id, actor, self.exposure_force

    def parameters(self, params: Params) -> tuple[Array, Array, Array]:
        """(scale, dispersion, baseline), each (N,), for the runs of `params`."""
        values = params.observation_values
        return values[f"{self.id}.scale"], values[f"{self.id}.dispersion"], values[f"{self.id}.baseline"]


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def load_observations(loaded: LoadedScenario) -> dict[str, ObservedSeries]:
    """The scenario's observed series by id, in the order of its `observations:` section.

    Built from the rows the loader read and checked (`LoadedScenario.observed`); a `LoadedScenario` made
    without them (by hand, in tests) has its files read and checked now, with the same errors.
    """
    scenario = loaded.scenario
    if not scenario.observations:
        return {}
    rows = loaded.observed
    if set(rows) != set(scenario.observations):
        rows = read_observations(scenario, loaded.locations, str(loaded.path))
    series = {}
    for observation_id, observation in scenario.observations.items():
        read = rows[observation_id]
        series[observation_id] = ObservedSeries(
            id=observation_id,
            label=observation.label or observation_id.replace("_", " "),
            path=read.path,
            sha256=read.sha256,
            date_column=observation.date_key,
            column=observation.column,
            resolution=observation.resolution,
            dates=_frozen(np.array(read.dates, dtype="datetime64[D]")),
            counts=_frozen(np.array(read.counts, dtype=np.int64)),
            dist=observation.model.dist,
            scale=observation.model.scale,
            dispersion=observation.model.dispersion,
            baseline=observation.model.baseline,
            exposure_actor=observation.model.exposure.actor if observation.model.exposure else None,
            exposure_force=observation.model.exposure.force if observation.model.exposure else "air",
        )
    return series


def step_dates(time: TimeSpec) -> NDArray[np.datetime64]:
    """(S,) datetime64[D]: the first day of each step of the scenario."""
    start = np.datetime64(time.start, "D")
    return start + np.arange(time.steps, dtype=np.int64) * time.step_days
