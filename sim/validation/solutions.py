"""Classic predictions of a collective decision on one issue, and the bootstrap that compares them.

Each function takes a batch of issues at once: arrays of shape (I, A), one row per issue and one column
per actor, with NaN where an actor took no part. Positions and outcomes lie on [0, 1]. The utilities are
the model's risk-neutral ones on a single issue, u_i(x) = 1 - |x - p_i| (`sim.mechanisms.utility` with
one issue and r = 1), so an actor whose alternative to a deal is worth d_i accepts exactly the outcomes
within its *reach* delta_i = 1 - d_i of its ideal point: u_i(x) - d_i = delta_i - |x - p_i|.

Sources: the compromise model is the capability-and-salience weighted mean of positions (van den Bos
1991; Achen 2006 in Thomson et al., "The European Union Decides"); the weighted median is the position
of the median voter when votes are weighted (Black 1948); the Nash bargaining solution maximises the
product of the gains over the disagreement point (Nash 1950), its asymmetric form the product of gains
raised to the bargaining weights (Kalai 1977; Roth 1979); the Kalai-Smorodinsky solution gives every
party the same share of the most it could get in the zone of agreement (Kalai and Smorodinsky 1975);
with more than two parties on one issue that is the point that maximises the smallest such share. The
bootstrap resamples whole clusters (proposals, whose issues share their actors), percentile intervals
(Efron and Tibshirani 1993, ch. 13).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
SEARCH_ITERATIONS = 90  # golden-section steps: the bracket shrinks by 0.618^90, about 1e-19 of its width
ZONE_TOLERANCE = 1e-9  # a zone of agreement narrower than this is a point: no one gains, no deal


def present(position: Array, weight: Array | None = None) -> Mask:
    """Actors with a position (and, if `weight` is given, a positive weight)."""
    mask = np.isfinite(position)
    if weight is not None:
        mask &= np.nan_to_num(weight) > 0.0
    return mask


def weighted_mean(position: Array, weight: Array) -> Array:
    """The compromise model: x = sum_i w_i p_i / sum_i w_i over the actors with a position and w_i > 0,
    w_i = capability_i * salience_i. NaN for an issue where no actor has weight."""
    mask = present(position, weight)
    w = np.where(mask, weight, 0.0)
    total = w.sum(axis=-1)
    mean = np.sum(w * np.where(mask, position, 0.0), axis=-1) / np.where(total > 0, total, 1.0)
    return np.where(total > 0, mean, np.nan)


def weighted_median(position: Array, weight: Array) -> Array:
    """The weighted median: the position p_k at which the weight of the actors at or below it first
    reaches half the total, W(p_k) >= W/2 (Black's median voter with weighted votes).

    When the weight at or below p_k is exactly half, every point between p_k and the next position is a
    median; the midpoint of the two is returned. NaN for an issue where no actor has weight.
    """
    mask = present(position, weight)
    keyed = np.where(mask, position, np.inf)
    order = np.argsort(keyed, axis=-1, kind="stable")
    sorted_position = np.take_along_axis(keyed, order, axis=-1)
    sorted_weight = np.take_along_axis(np.where(mask, weight, 0.0), order, axis=-1)
    cumulative = np.cumsum(sorted_weight, axis=-1)
    total = cumulative[..., -1:]
    half = total / 2.0
    # First index where the cumulative weight reaches half, with a little room for rounding.
    reached = cumulative >= half * (1.0 - 1e-12)
    first = np.argmax(reached, axis=-1)
    median = np.take_along_axis(sorted_position, first[..., None], axis=-1)[..., 0]
    exact = np.isclose(np.take_along_axis(cumulative, first[..., None], axis=-1)[..., 0], half[..., 0], rtol=1e-12)
    following = np.minimum(first + 1, position.shape[-1] - 1)
    upper = np.take_along_axis(sorted_position, following[..., None], axis=-1)[..., 0]
    median = np.where(exact & np.isfinite(upper) & (following > first), (median + upper) / 2.0, median)
    return np.where(total[..., 0] > 0, median, np.nan)


def reach_from(ideal: Array, disagreement: Array) -> Array:
    """delta_i = |d - p_i|: how far from its ideal an actor accepts an outcome when the disagreement
    point (the reference point, what happens without a deal) is d; shape (I, A), d of shape (I,).

    Where d is NaN (no reference point) the disagreement is the worst outcome on the scale for the actor,
    delta_i = max(p_i, 1 - p_i): any outcome but the far end is a gain.
    """
    point = np.asarray(disagreement, dtype=float)[..., None]
    worst = np.maximum(ideal, 1.0 - ideal)
    return np.where(np.isfinite(point), np.abs(point - ideal), worst)


def agreement_interval(ideal: Array, reach: Array, mask: Mask) -> tuple[Array, Array]:
    """The zone of possible agreement on one issue, [max_i (p_i - delta_i), min_i (p_i + delta_i)] within
    [0, 1], over the actors of `mask`: the outcomes that leave none of them worse off than disagreement.
    Its width is at most 0 when the actors who must agree pull the reference point in opposite directions."""
    low = np.max(np.where(mask, ideal - reach, -np.inf), axis=-1)
    high = np.min(np.where(mask, ideal + reach, np.inf), axis=-1)
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def maximise_unimodal(objective: Callable[[Array], Array], low: Array, high: Array) -> Array:
    """argmax of a concave (unimodal) function on [low, high], per issue, by golden-section search
    (Kiefer 1953). Only interior points are evaluated, so an objective that is -inf at the ends is fine."""
    a, b = np.array(low, dtype=float), np.array(high, dtype=float)
    for _ in range(SEARCH_ITERATIONS):
        c = b - GOLDEN * (b - a)
        d = a + GOLDEN * (b - a)
        left = objective(c) >= objective(d)  # the maximum lies in [a, d], else in [c, b]
        a, b = np.where(left, a, c), np.where(left, d, b)
    return (a + b) / 2.0


def nash_solution(ideal: Array, reach: Array, weight: Array, mask: Mask) -> tuple[Array, Mask]:
    """The (asymmetric) Nash bargaining solution on one issue among the actors of `mask`:

        x* = argmax_x sum_i w_i log(delta_i - |x - p_i|)  over the zone of agreement,

    with equal weights the symmetric solution (Nash 1950), with w_i the bargaining powers the asymmetric one
    (Kalai 1977). Returns (x*, zone) where zone says the zone of agreement has room (NaN where it has none:
    no one can gain and the disagreement point stands).
    """
    low, high = agreement_interval(ideal, reach, mask)
    zone = high - low > ZONE_TOLERANCE
    w = np.where(mask, weight, 0.0)

    def slope(x: Array) -> Array:
        """The right derivative of the log Nash product: sum_i w_i s_i / gain_i, s_i = +1 below p_i, -1 from
        p_i on. The product is concave, so the maximum lies left of x exactly when it is negative."""
        gain = np.where(mask, reach - np.abs(x[..., None] - ideal), 1.0)
        direction = np.where(x[..., None] < ideal, 1.0, -1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(w > 0, w * direction / np.maximum(gain, 1e-300), 0.0)
        return terms.sum(axis=-1)

    x = bisect_slope(slope, low, np.where(zone, high, low))
    return np.where(zone, x, np.nan), zone


def bisect_slope(slope: Callable[[Array], Array], low: Array, high: Array) -> Array:
    """argmax of a concave function on [low, high], per issue, by bisection on the sign of its right
    derivative `slope`: to machine precision, where a search on the values stops near sqrt(eps)."""
    a, b = np.array(low, dtype=float), np.array(high, dtype=float)
    for _ in range(SEARCH_ITERATIONS):
        middle = (a + b) / 2.0
        falling = slope(middle) < 0.0
        a, b = np.where(falling, a, middle), np.where(falling, middle, b)
    return (a + b) / 2.0


def kalai_smorodinsky_solution(ideal: Array, reach: Array, mask: Mask) -> tuple[Array, Mask]:
    """The Kalai-Smorodinsky solution on one issue among the actors of `mask`:

        x* = argmax_x min_i (delta_i - |x - p_i|) / (delta_i - dist(p_i, Z))  over the zone of agreement Z,

    each actor's gain as a share of its utopia gain, the most it could get anywhere in Z (Kalai and
    Smorodinsky 1975; with two actors the shares are equal). Returns (x*, zone) as `nash_solution` does.
    """
    low, high = agreement_interval(ideal, reach, mask)
    zone = high - low > ZONE_TOLERANCE
    nearest = np.clip(ideal, low[..., None], high[..., None])
    utopia = reach - np.abs(nearest - ideal)
    scale = np.where(mask & (utopia > 0), utopia, np.inf)

    def smallest_share(x: Array) -> Array:
        share = (reach - np.abs(x[..., None] - ideal)) / scale
        return np.min(np.where(mask & np.isfinite(scale), share, np.inf), axis=-1)

    x = maximise_unimodal(smallest_share, low, np.where(zone, high, low))
    return np.where(zone, x, np.nan), zone


def cluster_bootstrap_means(values: Array, clusters: NDArray[np.int64], draws: int, rng: np.random.Generator) -> Array:
    """Bootstrap replicates of the column means of `values` (n, M), resampling whole clusters.

    Each replicate draws as many clusters as there are, with replacement, and takes the mean over every
    row of the clusters drawn (a cluster drawn twice counts twice). Rows of one cluster (the issues of
    one proposal, which share their actors and experts) are not independent, so resampling rows alone
    would make the intervals too narrow. Returns (draws, M).
    """
    labels, index = np.unique(clusters, return_inverse=True)
    count = len(labels)
    sums = np.zeros((count, values.shape[1]))
    np.add.at(sums, index, values)
    sizes = np.bincount(index, minlength=count).astype(float)
    picks = rng.multinomial(count, np.full(count, 1.0 / count), size=draws).astype(float)
    return (picks @ sums) / (picks @ sizes)[:, None]


def percentile_interval(replicates: Array, level: float = 0.95) -> Array:
    """The percentile interval of bootstrap replicates along the first axis: (2, M), low and high."""
    tail = (1.0 - level) / 2.0
    return np.quantile(replicates, [tail, 1.0 - tail], axis=0)
