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

Array = NDArray[np.float64]

SOFTMIN_SHARPNESS = 400.0
MAXIMIN_ITERATIONS = 60
# 60 left the two-actor linear split up to 2e-5 from its closed form (the step shrinks by 0.75 per two
# steps around the optimum); 100 reaches 1e-8. No shipped scenario's output changes.
NASH_ITERATIONS = 100
# Risk-averse utilities (r > 1) curve the frontier and the ascent needs longer: with 100 steps the deal
# was up to 5e-3 off a 1,500-step reference (r = 2), with 200 steps 4e-4. Runs whose required actors
# are all linear keep 100, whatever else shares their batch.
NASH_ITERATIONS_CURVED = 200
INITIAL_STEP = 0.2
STEP_GROWTH, STEP_SHRINK = 1.5, 0.5


class BargainingOutcome(NamedTuple):
    proposal: Array  # (N, K): the deal if the zone is non-empty, else the maximin compromise
    zone_exists: Array  # (N,) bool
    min_slack: Array  # (N,) min_i u_i(proposal) - r_i


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


# The solver works in a runs-last layout, (R, K, N) instead of (N, R, K): numpy is
# fast along a long contiguous last axis and slow along a short one (3 issues,
# 2 actors). Sums are taken term by term in the order np.sum uses on the
# runs-first arrays of `sim.mechanisms.utility`, so the results are the same bit for bit.


def total(terms: Array, axis: int, as_last_axis: bool) -> Array:
    """Sum along `axis` in np.sum's order: left to right, except that np.sum along a
    contiguous last axis of 8 or more terms sums pairwise (`as_last_axis` says which
    axis the runs-first formula reduces)."""
    count = terms.shape[axis]
    if as_last_axis and count >= 8:
        return np.ascontiguousarray(np.moveaxis(terms, axis, -1)).sum(axis=-1)
    lead = (slice(None),) * axis
    if count == 1:
        return terms[(*lead, 0)].copy()
    result = terms[(*lead, 0)] + terms[(*lead, 1)]
    for index in range(2, count):
        result += terms[(*lead, index)]
    return result


class _Utilities:
    """u_i(x) and du_i/dx for fixed actors, runs last: ideal and salience (R, K, N), x (K, N).

    The arithmetic of `utility` and `utility_gradient` operation for operation,
    sharing x - p_i between them, and skipping the powers when every risk
    exponent is 1 (|d|^1 = |d| and |d|^0 = 1 exactly in IEEE arithmetic).
    """

    def __init__(self, ideal: Array, salience: Array, risk: Array) -> None:
        self.ideal = ideal
        self.salience = salience
        self.exponent = risk[:, None, :]
        self.linear = bool(np.all(self.exponent == 1.0))
        self.gradient_power = self.exponent - 1.0
        # utility_gradient evaluates ((-s r) |d|^(r-1)) sign(d); with r = 1 that is (-s) sign(d).
        self.gradient_scale = -salience if self.linear else -salience * self.exponent

    @classmethod
    def runs_first(cls, ideal: Array, salience: Array, risk: Array) -> _Utilities:
        """From the model's (N, R, K) and (N, R) arrays."""
        return cls(
            np.ascontiguousarray(np.moveaxis(ideal, 0, -1)),
            np.ascontiguousarray(np.moveaxis(salience, 0, -1)),
            np.ascontiguousarray(risk.T),
        )

    def columns(self, runs: NDArray[np.int64]) -> _Utilities:
        """The same actors for a subset of the runs."""
        return _Utilities(self.ideal[..., runs], self.salience[..., runs], self.exponent[:, 0, runs])

    def at(self, x: Array) -> tuple[Array, Array]:
        """(u (R, N), du/dx (2, R, K, N)) at outcomes x (K, N).

        The derivative is one-sided: [0] as x_k rises, [1] as it falls. They differ only at a kink of
        a risk-neutral actor, x_k = p_ik, where u_i falls whichever way x_k moves (slope -s_ik rising,
        +s_ik falling); elsewhere both are the gradient. An ascent that took the kink's slope as 0
        (sign(0)) would push an actor off its ideal point for free and stall there.
        """
        difference = x - self.ideal
        distance = np.abs(difference)
        rising = np.where(difference >= 0.0, 1.0, -1.0)
        falling = np.where(difference > 0.0, 1.0, -1.0)
        if self.linear:
            slope = self.gradient_scale
        else:
            slope = self.gradient_scale * distance**self.gradient_power
            distance = distance**self.exponent
        gradient = np.stack([slope * rising, slope * falling])
        distance *= self.salience
        return 1.0 - total(distance, 1, as_last_axis=True), gradient


def softmin(slack: Array) -> tuple[Array, Array]:
    """Smooth minimum of the slacks over actors (axis 0, runs last) and its weights, sharpness beta:

        value = -logsumexp(-beta s) / beta,  weights = softmax(-beta s).

    The log-sum-exp takes the accurate form of Blanchard, Higham and Higham (2021),
    a_max + log(m) + log1p(sum of the other terms / m) with m the count of maxima,
    which is scipy.special.logsumexp's arithmetic, without its per-call overhead.
    """
    scaled = -SOFTMIN_SHARPNESS * slack
    top = np.max(scaled, axis=0)
    is_top = scaled == top
    others = np.exp(np.where(is_top, -np.inf, scaled) - top)
    rest = total(others, 0, as_last_axis=True)
    if np.count_nonzero(is_top) == top.size:  # one maximum per run: m = 1, log(m) = 0
        log_sum = np.log1p(rest)
    else:
        count = np.sum(is_top, axis=0, dtype=np.float64)
        log_sum = np.log1p(np.where(rest == 0, rest, rest / count)) + np.log(count)
    log_sum += top
    if not np.all(np.isfinite(log_sum)):  # overflow or NaN: the direct formula, as scipy does
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            direct = np.log(total(np.exp(scaled), 0, as_last_axis=True))
        log_sum = np.where(np.isfinite(log_sum), log_sum, direct)
    others += is_top  # exp(a - a_max) is exactly 1 at the maxima
    weights = others / total(others, 0, as_last_axis=True)
    return -log_sum / SOFTMIN_SHARPNESS, weights


def _ascent_direction(gradient: Array) -> Array:
    """The steepest feasible ascent per coordinate from a gradient (K, N), or from one-sided
    derivatives (2, K, N) [rising, falling]: rise where rising gains, fall where falling gains
    (a negative falling slope), else stay."""
    if gradient.ndim == 2:
        return gradient.copy()
    rising, falling = gradient[0], gradient[1]
    return np.where(rising > 0.0, rising, np.where(falling < 0.0, falling, 0.0))


def _ascend(
    objective: Callable[[Array], tuple[Array, Array]], start: Array, free: Array, iterations: int | NDArray[np.int64]
) -> tuple[Array, Array]:
    """Projected normalised gradient ascent on [0,1]^K with a per-run step that grows on
    success (x1.5) and halves on failure; coordinates where `free` is False stay put.
    Runs last: start and free are (K, N); `iterations` is one count or one per run (a run
    stops moving after its own count, so its result does not depend on its batch)."""
    x = np.array(start, dtype=np.float64)
    value, gradient = objective(x)
    step = np.full(x.shape[1:], INITIAL_STEP)
    per_run = np.ndim(iterations) > 0
    for iteration in range(int(np.max(iterations))):
        direction = _ascent_direction(gradient) * free
        # Project the direction onto the box before normalising it: a component that points out of
        # [0,1] at a bound would be clipped away after the step and, with the norm it took, shrink the
        # move along the others until the step halves to nothing (a run could stall on a bound, e.g. an
        # actor's ideal at 0, short of the maximum).
        direction[((x <= 0.0) & (direction < 0.0)) | ((x >= 1.0) & (direction > 0.0))] = 0.0
        norm = np.sqrt(total(direction * direction, 0, as_last_axis=True))
        moving = norm > 0
        if moving.all():
            direction /= norm
        else:
            direction = np.where(moving, direction / np.where(moving, norm, 1.0), 0.0)
        direction *= step
        direction += x
        candidate = np.clip(direction, 0.0, 1.0, out=direction)
        candidate_value, candidate_gradient = objective(candidate)
        better = candidate_value > value
        if per_run:
            better &= iteration < iterations
        np.copyto(x, candidate, where=better)
        np.copyto(value, candidate_value, where=better)
        np.copyto(gradient, candidate_gradient, where=better)
        step *= np.where(better, STEP_GROWTH, STEP_SHRINK)
    return x, value


def compromise_start(ideal: Array, salience: Array, weights: Array, status_quo: Array, free: Array) -> Array:
    """Weighted mean of ideal points, weights w_i s_ik; fixed or unwanted issues at the status quo."""
    mass = weights[..., None] * salience
    total_mass = mass.sum(axis=-2)
    mean = np.sum(mass * ideal, axis=-2) / np.where(total_mass > 0, total_mass, 1.0)
    return np.where(free & (total_mass > 0), mean, status_quo)


def solve_bargaining(
    ideal: Array, salience: Array, risk: Array, reservation: Array, weights: Array, status_quo: Array, free: Array
) -> BargainingOutcome:
    """The zone of possible agreement and the asymmetric Nash solution for the required actors.

    Args:
        ideal, salience: (N, R, K) for the R actors whose consent is required.
        risk, reservation, weights: (N, R).
        status_quo: (N, K); issues not free to bargain over stay here.
        free: (N, K) or (K,) bool, issues open to bargaining.
    """
    free = np.broadcast_to(free, status_quo.shape)
    start = compromise_start(ideal, salience, weights, status_quo, free)
    actors = _Utilities.runs_first(ideal, salience, risk)
    floor = np.ascontiguousarray(reservation.T)  # (R, N)
    free_t = np.ascontiguousarray(free.T)  # (K, N)

    def maximin(x: Array) -> tuple[Array, Array]:
        utilities, gradients = actors.at(x)
        value, pull = softmin(utilities - floor)
        return value, total(pull[None, :, None, :] * gradients, 1, as_last_axis=False)

    compromise, _ = _ascend(maximin, start.T, free_t, MAXIMIN_ITERATIONS)
    zone_exists = np.min(actors.at(compromise)[0] - floor, axis=0) > 0.0

    # The Nash product is only needed where the zone exists; elsewhere the compromise stands.
    proposal = compromise.copy()
    runs = np.flatnonzero(zone_exists)
    if runs.size:
        everyone = runs.size == zone_exists.size
        inside = actors if everyone else actors.columns(runs)
        inside_floor = floor if everyone else floor[:, runs]
        inside_weights = np.ascontiguousarray(weights.T if everyone else weights[runs].T)

        def nash_product(x: Array) -> tuple[Array, Array]:
            utilities, gradients = inside.at(x)
            slack = utilities - inside_floor
            positive = slack > 0.0
            safe = np.where(positive, slack, 1.0)
            value = np.where(
                np.all(positive, axis=0), total(inside_weights * np.log(safe), 0, as_last_axis=True), -np.inf
            )
            return value, total((inside_weights / safe)[None, :, None, :] * gradients, 1, as_last_axis=False)

        curved = np.any(risk[runs] != 1.0, axis=-1)
        iterations = np.where(curved, NASH_ITERATIONS_CURVED, NASH_ITERATIONS) if curved.any() else NASH_ITERATIONS
        deal, _ = _ascend(nash_product, compromise[:, runs], free_t[:, runs], iterations)
        proposal[:, runs] = deal
    min_slack = np.min(actors.at(proposal)[0] - floor, axis=0)
    return BargainingOutcome(proposal=np.ascontiguousarray(proposal.T), zone_exists=zone_exists, min_slack=min_slack)
