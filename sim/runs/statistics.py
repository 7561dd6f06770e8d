"""Statistics of many runs: proportions with their intervals, quantiles, survival, histograms.

The summaries of ensembles and sweeps and the many-run reports read these; they
depend on numpy alone.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Z_95 = 1.959963984540054

Array = NDArray[np.float64]


def histogram_counts(values: Array, low: float, high: float, bins: int) -> NDArray[np.int64]:
    """Counts per (step, bin) of values (steps, N); values outside [low, high] land in the end bins, NaN nowhere."""
    steps = values.shape[0]
    finite = np.isfinite(values)
    index = np.clip(np.floor((np.where(finite, values, low) - low) / (high - low) * bins), 0, bins - 1).astype(np.int64)
    flat = (index + bins * np.arange(steps)[:, None])[finite]
    return np.bincount(flat, minlength=steps * bins).reshape(steps, bins)


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927): good at small n and near 0 or 1.

    centre = (p + z^2 / 2n) / (1 + z^2 / n),  half-width = z sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n).
    """
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(count: int, runs: int) -> dict[str, Any]:
    """{`probability`: count / runs, `ci95`: its Wilson interval}, rounded to 6 places (None without runs)."""
    low, high = wilson_interval(count, runs)
    return {"probability": round(count / runs, 6) if runs else None, "ci95": [round(low, 6), round(high, 6)]}


def mean_interval(values: np.ndarray, z: float = Z_95) -> list[float] | None:
    """The 95% interval of the mean of the finite values, mean -+ z s / sqrt(n) (normal approximation, s the
    sample standard deviation): [mean, mean] for one value, None for none."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    mean = float(finite.mean())
    half = z * float(finite.std(ddof=1)) / math.sqrt(finite.size) if finite.size > 1 else 0.0
    return [round(mean - half, 6), round(mean + half, 6)]


def describe_values(values: np.ndarray, levels: tuple[float, ...] = QUANTILES) -> dict[str, float | int | None]:
    """count, mean and quantiles of the finite values (None when there are none)."""
    finite = values[np.isfinite(values)]
    summary: dict[str, float | int | None] = {"count": int(finite.size)}
    summary["mean"] = round(float(finite.mean()), 6) if finite.size else None
    for level in levels:
        summary[f"p{round(level * 100):02d}"] = round(float(np.quantile(finite, level)), 6) if finite.size else None
    return summary


def survival_curve(collapsed_step: np.ndarray, steps: int) -> list[float]:
    """S(t): share of runs whose ceasefire has not collapsed by the end of step t (-1 = never collapsed)."""
    collapsed = collapsed_step[collapsed_step >= 0]
    counts = np.bincount(collapsed, minlength=steps)[:steps]
    return [round(float(v), 6) for v in 1.0 - np.cumsum(counts) / max(len(collapsed_step), 1)]
