"""The observation model: from the model's fighting intensity to the counts a real series records.

A scenario's `observations:` section names a series of counts per week or month (civilian-harm incidents
attributed to Russian strikes, conflict deaths). The model does not produce incidents; it produces the
intensity of the fighting each step, `I_t` in [0, 1] (war = 1; a ceasefire that holds brings it down to
`ceasefire_intensity`, plus the fighting no agreement binds and the parties' violations, which grow with
their temptation to break it: `agreements.fighting_intensity`). Three steps link the two:

1. **Aggregate** the per-step intensity over each observed period (`aggregate`): the mean over the
   period's days, each step weighted by the days it shares with the period.
2. **Expected count** of the period (`expected_counts`): mu_p = (b + c * I_p) * w_p, with c the count per
   week at full-war intensity (`scale`), b the count per week at zero intensity (`baseline`: reports that
   do not depend on the fighting the model simulates), and w_p the period's length in weeks (1 for a
   weekly series, 28/7 to 31/7 for a calendar month). The count is linear in intensity: the simplest link
   with a zero point and a slope, both of which the data can inform (an assumption of this model).
3. **Counts** around that mean follow a negative binomial in the NB2 parameterisation
   (`negative_binomial_logpmf`, `sample_counts`): mean mu and variance mu + mu^2 / r, r the `dispersion`.
   Counts of conflict events are overdispersed: incidents come in clusters (an offensive, a siege), so a
   Poisson (variance = mean) understates the spread; NB2 adds a quadratic term and tends to the Poisson
   as r -> infinity (Cameron and Trivedi, *Regression Analysis of Count Data*, 2nd ed. 2013, chapter 3,
   the NB2 model with alpha = 1 / r; Hilbe, *Negative Binomial Regression*, 2nd ed. 2011).

Every function is vectorised over a leading run axis: intensities and means are (N, P) for N runs and P
periods (or (P,) for one run), and a per-run parameter is a scalar or an (N,) array, which broadcasts
along the leading axis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, xlogy

Array = NDArray[np.float64]
Resolution = Literal["week", "month"]
DAYS_PER_WEEK = 7


def _days(dates: Sequence[dt.date] | ArrayLike) -> NDArray[np.int64]:
    """Dates (date objects, ISO text or datetime64) as whole days since 1970-01-01."""
    return np.asarray(dates, dtype="datetime64[D]").astype(np.int64)


def period_bounds(
    period_starts: Sequence[dt.date] | ArrayLike, resolution: Resolution
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """First day and the day after the last of each observed period, in days since 1970-01-01.

    A week is the 7 days from its date; a month is the calendar month that contains its date.
    """
    if resolution == "week":
        first = _days(period_starts)
        return first, first + DAYS_PER_WEEK
    if resolution == "month":
        month = np.asarray(period_starts, dtype="datetime64[D]").astype("datetime64[M]")
        return month.astype("datetime64[D]").astype(np.int64), (month + np.timedelta64(1, "M")).astype(
            "datetime64[D]"
        ).astype(np.int64)
    raise ValueError(f"unknown resolution {resolution!r} (week or month)")


def period_weeks(period_starts: Sequence[dt.date] | ArrayLike, resolution: Resolution) -> Array:
    """w_p: the length of each period in weeks (1 for a week; 31/7 for January)."""
    first, after = period_bounds(period_starts, resolution)
    return (after - first).astype(np.float64) / DAYS_PER_WEEK


def overlap_days(
    step_dates: Sequence[dt.date] | ArrayLike,
    period_starts: Sequence[dt.date] | ArrayLike,
    resolution: Resolution,
    step_days: int = DAYS_PER_WEEK,
) -> NDArray[np.int64]:
    """(S, P) the number of days step s shares with period p.

    Step s covers [d_s, d_s + step_days); period p covers [a_p, e_p) (`period_bounds`); they share
    max(0, min(d_s + step_days, e_p) - max(d_s, a_p)) days.
    """
    step_first = _days(step_dates)[:, None]
    first, after = period_bounds(period_starts, resolution)
    shared = np.minimum(step_first + step_days, after[None, :]) - np.maximum(step_first, first[None, :])
    return np.maximum(shared, 0)


def aggregate(
    step_dates: Sequence[dt.date] | ArrayLike,
    values: ArrayLike,
    period_starts: Sequence[dt.date] | ArrayLike,
    resolution: Resolution,
    step_days: int = DAYS_PER_WEEK,
) -> Array:
    """I_p = sum_s n_sp I_s / sum_s n_sp: the per-step values averaged over each observed period, each step
    weighted by the days n_sp it shares with the period (`overlap_days`).

    An average, not a sum. The intensity is a rate (the share of full war fought during a step), so its
    value over a period is its time-weighted mean, in the same units whatever the step: a model in days and
    one in weeks give the same I_p for the same fighting, and a weekly series whose weeks start on Mondays
    is matched by weekly steps starting on Saturdays (each week takes 5/7 of one step and 2/7 of the
    next). The period's length enters once, in `expected_counts`. A period the steps cover only in part
    (at the ends of the run) gets the mean over the covered days, that is, the covered days stand for the
    whole period; a period they do not touch is NaN.

    Args:
        step_dates: (S,) the first day of each step.
        values: (..., S) per-step values, e.g. (N, S) intensities of N runs.
        period_starts: (P,) the date of each observed period (a week's first day; any day of a month).
        resolution: "week" or "month".
        step_days: the length of a step in days (7 for weeks, 1 for days).

    Returns:
        (..., P) the mean over each period.
    """
    weights = overlap_days(step_dates, period_starts, resolution, step_days).astype(np.float64)
    covered = weights.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(covered > 0, (np.asarray(values, dtype=np.float64) @ weights) / covered, np.nan)


def _along_runs(parameter: ArrayLike, like: Array) -> Array:
    """A per-run parameter (a scalar, or (N,) for an (N, ...) array) shaped to broadcast against `like`."""
    value = np.asarray(parameter, dtype=np.float64)
    if value.ndim == 1 and like.ndim > 1:
        return value.reshape((value.shape[0],) + (1,) * (like.ndim - 1))
    return value


def expected_counts(intensity: ArrayLike, scale: ArrayLike, baseline: ArrayLike = 0.0, weeks: ArrayLike = 1.0) -> Array:
    """mu_p = (b + c * I_p) * w_p: the expected count of each period.

    Args:
        intensity: (N, P) or (P,) the aggregated intensity I_p (`aggregate`), in [0, 1].
        scale: c, the expected count per week at full-war intensity (> 0); a scalar or (N,).
        baseline: b, the expected count per week at zero intensity (>= 0); a scalar or (N,).
        weeks: (P,) or a scalar, w_p, each period's length in weeks (`period_weeks`: 1 for a weekly series).
    """
    level = np.asarray(intensity, dtype=np.float64)
    return (_along_runs(baseline, level) + _along_runs(scale, level) * level) * np.asarray(weeks, dtype=np.float64)


def negative_binomial_logpmf(counts: ArrayLike, mean: ArrayLike, dispersion: ArrayLike) -> Array:
    """log P(Y = y) for Y ~ NB2(mu, r): E[Y] = mu, Var[Y] = mu + mu^2 / r.

        log P(y) = lgamma(y + r) - lgamma(r) - lgamma(y + 1) + r log(r / (r + mu)) + y log(mu / (r + mu))

    (Cameron and Trivedi 2013, chapter 3, with alpha = 1 / r.) Written stably: r log(r / (r + mu)) as
    -r log1p(mu / r), and y log mu with y log 0 = 0, so a mean of 0 gives log P(0) = 0 and log P(y > 0)
    = -inf. As r -> infinity it tends to the Poisson log P(y) = y log mu - mu - lgamma(y + 1); the
    difference of the two lgamma terms loses about lgamma(r) * 1e-16 of precision, under 1e-8 for the
    dispersions a scenario allows (up to 1e6).

    Args:
        counts: (P,) or (N, P) observed counts y >= 0.
        mean: (N, P) or (P,) mu >= 0 (`expected_counts`).
        dispersion: r > 0, a scalar or (N,).

    Returns:
        the elementwise log-probabilities, broadcast to the shape of counts and mean; sum over the last
        axis for a run's log-likelihood.
    """
    mu = np.asarray(mean, dtype=np.float64)
    y = np.asarray(counts, dtype=np.float64)
    r = _along_runs(dispersion, mu)
    return gammaln(y + r) - gammaln(r) - gammaln(y + 1.0) - r * np.log1p(mu / r) + xlogy(y, mu) - y * np.log(r + mu)


def sample_counts(rng: np.random.Generator, mean: ArrayLike, dispersion: ArrayLike) -> NDArray[np.int64]:
    """Draws of Y ~ NB2(mu, r), one per element of `mean`.

    numpy's `negative_binomial(n, p)` counts the failures before the n-th success with success probability
    p, with mean n (1 - p) / p and variance n (1 - p) / p^2. With n = r and p = r / (r + mu) these are mu
    and mu + mu^2 / r: the NB2 above (a non-whole n is allowed; a mean of 0 gives p = 1 and a count of 0).

    Args:
        rng: the run's generator.
        mean: (N, P) or (P,) mu >= 0.
        dispersion: r > 0, a scalar or (N,).
    """
    mu = np.asarray(mean, dtype=np.float64)
    r = _along_runs(dispersion, mu)
    return rng.negative_binomial(r, r / (r + mu)).astype(np.int64)


def activity(intensity: ArrayLike, present: ArrayLike | None = None, initial: ArrayLike | None = None) -> Array:
    """A_s = I_s * F_s / F_0: the fighting an observed series counts, per step.

    A series that counts all the fighting (conflict deaths) follows the intensity I_s alone. A series that
    counts one actor's acts (incidents attributed to Russian strikes) follows that actor's share of it
    too: its force present F_s over its force at the start F_0 (the observation model's `exposure`). So
    the series falls when the actor withdraws aircraft while the war goes on, and rises when it escalates.
    Proportionality is an assumption of this model: the counts scale with the sorties flown, and the
    sorties with the aircraft in the country.

    Args:
        intensity: (N,) or (N, S) the fighting intensity I in [0, 1].
        present: F_s, the actor's force present, same shape; None for a series of all the fighting.
        initial: F_0 > 0, the actor's force at the start, scalar or (N,).
    """
    level = np.asarray(intensity, dtype=np.float64)
    if present is None:
        return level.copy()
    start = _along_runs(np.asarray(initial, dtype=np.float64), level)
    return level * np.asarray(present, dtype=np.float64) / start


# ---------------------------------------------------------------------------- summary statistics for ABC


def anscombe(counts: ArrayLike) -> Array:
    """2 sqrt(y + 3/8): the variance-stabilising transform of counts (Anscombe 1948, Biometrika 35(3/4)).

    A Poisson count's transform has variance close to 1 whatever its mean, so weeks of 3 incidents and
    weeks of 45 weigh alike in a distance between series, instead of the large counts dominating it.
    """
    return 2.0 * np.sqrt(np.asarray(counts, dtype=np.float64) + 0.375)


def block_summaries(counts: ArrayLike, block: int) -> Array:
    """Summary statistics of count series for ABC: per block of `block` consecutive periods, the mean of the
    transformed counts (`anscombe`); then the mean over blocks of their standard deviation within the block.

    The block means follow the level of the series through the year (the cessation, the withdrawal, the
    return of the war) with the period-to-period noise averaged out; the within-block spread is what the
    dispersion of the observation model changes. A last block shorter than `block` is averaged over the
    periods it has.

    Args:
        counts: (N, P) or (P,) counts of N series of P periods.
        block: periods per block (>= 1).

    Returns:
        (N, B + 1) or (B + 1,) with B = ceil(P / block): B block means, then the mean within-block spread.
    """
    values = anscombe(counts)
    single = values.ndim == 1
    values = np.atleast_2d(values)
    periods = values.shape[1]
    edges = np.arange(0, periods, block)
    means = np.stack([values[:, start : start + block].mean(axis=1) for start in edges], axis=1)
    spreads = np.stack([values[:, start : start + block].std(axis=1) for start in edges], axis=1)
    result = np.concatenate([means, spreads.mean(axis=1, keepdims=True)], axis=1)
    return result[0] if single else result
