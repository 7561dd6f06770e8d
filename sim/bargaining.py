"""Bargaining over the issue space: weights, the zone of possible agreement, and the deal.

The deal is the asymmetric Nash bargaining solution
    x* = argmax_x sum_i w_i log(u_i(x) - r_i)  subject to u_i(x) > r_i,
over the actors whose consent is required, with reservation values r_i (each
actor's alternative to a deal, its demand margin and its negotiator's stake)
as disagreement points (Nash 1950; Kalai 1977 for the asymmetric form). The
weights w_i = capability_i / rho_i use the actor's rate of impatience
rho_i = -ln(delta_i) + stake growth: as the interval between offers shrinks,
Rubinstein's (1982) alternating-offers equilibrium converges to this solution
with weights 1/rho_i (Binmore, Rubinstein and Wolinsky 1986).

The zone of possible agreement {x : u_i(x) > r_i for all required i} is empty
when the best maximin point has no slack; then the offer on the table is that
maximin point, the compromise closest to acceptable for everyone.

Both problems are concave (utilities are concave for r >= 1) and solved by
projected, normalised gradient ascent with a per-run adaptive step and a
fixed number of iterations, on arrays with a leading run axis, so that one run
and a batch of runs follow the same arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp, softmax

from sim.utility import utility, utility_gradient

Array = NDArray[np.float64]

SOFTMIN_SHARPNESS = 400.0
MAXIMIN_ITERATIONS = 60
NASH_ITERATIONS = 60
INITIAL_STEP = 0.2


class BargainingOutcome(NamedTuple):
    proposal: Array       # (N, K): the deal if the zone is non-empty, else the maximin compromise
    zone_exists: Array    # (N,) bool
    min_slack: Array      # (N,) min_i u_i(proposal) - r_i


def rubinstein_share(patience_first: float, patience_second: float) -> float:
    """Share of the first proposer in Rubinstein's alternating offers: (1 - d2) / (1 - d1 d2)."""
    return (1.0 - patience_second) / (1.0 - patience_first * patience_second)


def impatience(patience: Array, stake_growth: Array, elapsed_steps: Array) -> Array:
    """rho_i(t) = -ln(delta_i) + stake_growth_i * t.

    Porter (March 2016): "the longer the negotiations continue, the greater John
    Kerry's personal stake" in a compromise; a growing stake in any deal acts as
    a growing cost of delay, i.e. falling patience.
    """
    return -np.log(patience) + stake_growth * elapsed_steps


def bargaining_weights(capability: Array, patience: Array, stake_growth: Array, elapsed_steps: Array) -> Array:
    """w_i = capability_i / rho_i(t): more capable and more patient sides get more."""
    return capability / impatience(patience, stake_growth, elapsed_steps)


def reservation_values(batna: Array, demand: Array, stake_growth: Array, elapsed_steps: Array) -> Array:
    """r_i = d_i + m_i - sigma_i t: the alternative, plus the margin insisted on, minus the
    negotiator's personal stake in having any deal."""
    return batna + demand - stake_growth * elapsed_steps


def _slacks(x: Array, ideal: Array, salience: Array, risk: Array, reservation: Array) -> Array:
    return utility(x, ideal, salience, risk) - reservation


def _ascend(objective: Callable[[Array], tuple[Array, Array]], start: Array, free: Array,
            iterations: int) -> tuple[Array, Array]:
    """Projected normalised gradient ascent on [0,1]^K with a per-run step that grows on
    success (x1.5) and halves on failure; coordinates where `free` is False stay put."""
    x = start
    value, gradient = objective(x)
    step = np.full(x.shape[:-1], INITIAL_STEP)
    for _ in range(iterations):
        direction = gradient * free
        norm = np.sqrt(np.sum(direction * direction, axis=-1, keepdims=True))
        direction = np.where(norm > 0, direction / np.where(norm > 0, norm, 1.0), 0.0)
        candidate = np.clip(x + step[..., None] * direction, 0.0, 1.0)
        candidate_value, candidate_gradient = objective(candidate)
        better = candidate_value > value
        x = np.where(better[..., None], candidate, x)
        value = np.where(better, candidate_value, value)
        gradient = np.where(better[..., None], candidate_gradient, gradient)
        step = np.where(better, step * 1.5, step * 0.5)
    return x, value


def compromise_start(ideal: Array, salience: Array, weights: Array, status_quo: Array, free: Array) -> Array:
    """Weighted mean of ideal points, weights w_i s_ik; fixed or unwanted issues at the status quo."""
    mass = weights[..., None] * salience
    total = mass.sum(axis=-2)
    mean = np.sum(mass * ideal, axis=-2) / np.where(total > 0, total, 1.0)
    return np.where(free & (total > 0), mean, status_quo)


def solve_bargaining(ideal: Array, salience: Array, risk: Array, reservation: Array, weights: Array,
                     status_quo: Array, free: Array) -> BargainingOutcome:
    """The zone of possible agreement and the asymmetric Nash solution for the required actors.

    Args:
        ideal, salience: (N, R, K) for the R actors whose consent is required.
        risk, reservation, weights: (N, R).
        status_quo: (N, K); issues not free to bargain over stay here.
        free: (N, K) or (K,) bool, issues open to bargaining.
    """
    free = np.broadcast_to(free, status_quo.shape)

    def maximin(x: Array) -> tuple[Array, Array]:
        slack = _slacks(x, ideal, salience, risk, reservation)
        value = -logsumexp(-SOFTMIN_SHARPNESS * slack, axis=-1) / SOFTMIN_SHARPNESS
        pull = softmax(-SOFTMIN_SHARPNESS * slack, axis=-1)
        gradient = np.sum(pull[..., None] * utility_gradient(x, ideal, salience, risk), axis=-2)
        return value, gradient

    start = compromise_start(ideal, salience, weights, status_quo, free)
    compromise, _ = _ascend(maximin, start, free, MAXIMIN_ITERATIONS)
    compromise_slack = _slacks(compromise, ideal, salience, risk, reservation).min(axis=-1)
    zone_exists = compromise_slack > 0.0

    def nash_product(x: Array) -> tuple[Array, Array]:
        slack = _slacks(x, ideal, salience, risk, reservation)
        feasible = np.all(slack > 0.0, axis=-1)
        safe = np.where(slack > 0.0, slack, 1.0)
        value = np.where(feasible, np.sum(weights * np.log(safe), axis=-1), -np.inf)
        gradient = np.sum((weights / safe)[..., None] * utility_gradient(x, ideal, salience, risk), axis=-2)
        return value, gradient

    deal, _ = _ascend(nash_product, compromise, free & zone_exists[..., None], NASH_ITERATIONS)
    proposal = np.where(zone_exists[..., None], deal, compromise)
    min_slack = _slacks(proposal, ideal, salience, risk, reservation).min(axis=-1)
    return BargainingOutcome(proposal=proposal, zone_exists=zone_exists, min_slack=min_slack)
