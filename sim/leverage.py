"""Leverage, measured rather than asserted (DESIGN.md, step 6).

For each ordered pair (i, j):
- coercive leverage: how far the actions open to i can lower j's alternative
  to a deal: d_j(i absent) - min(d_j(now), d_j(i escalates)), floored at 0.
  "i absent" removes i's credibility-weighted forces and threats, and the arms
  flow i supplies or blocks. Singh (September 2016): one breaks a stalemate by
  worsening the other side's alternatives; an actor whose coercive options are
  switched off (the US without strikes or safe zones) has none.
- inducement leverage: how far i can raise j's utility of the offer by moving
  it toward j's ideal point while staying within its own acceptable range
  (u_i >= r_i): the other road Singh names, "sweeten their offer".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

BISECTION_STEPS = 30


def coercive_leverage(batna_now: Array, batna_without: Array, batna_escalated: Array) -> Array:
    """L^c_ij = max(0, d_j(i absent) - min(d_j(now), d_j(i escalates))); diagonal 0.

    Args:
        batna_now: (N, A) alternatives as they stand.
        batna_without: (N, A_i, A_j) alternatives with actor i absent.
        batna_escalated: (N, A_i, A_j) alternatives after i escalates (= now where it cannot).
    """
    worst = np.minimum(batna_now[:, None, :], batna_escalated)
    leverage = np.maximum(batna_without - worst, 0.0)
    actors = leverage.shape[-1]
    return leverage * (1.0 - np.eye(actors))


def inducement_leverage(proposal: Array, ideal: Array, salience: Array, risk: Array, reservation: Array,
                        can_concede: Array, free: Array) -> Array:
    """L^i_ij = u_j(x + lam* (p_j - x)) - u_j(x), lam* the largest lam in [0,1] with u_i >= r_i there.

    The segment toward j's ideal raises u_j monotonically (u_j is concave with its
    maximum at p_j) and u_i is concave along it, so its acceptable part is an
    interval starting at 0, found by bisection. Issues not free to bargain over
    do not move. Shapes: proposal (N, K); ideal, salience (N, A, K); risk,
    reservation (N, A); can_concede (A,) bool; free (N, K) or (K,); result (N, A_i, A_j).
    """
    direction = (ideal - proposal[:, None, :]) * free  # (N, A_j, K)

    def point(lam: Array) -> Array:  # lam (N, A_i, A_j) -> (N, A_i, A_j, K)
        return proposal[:, None, None, :] + lam[..., None] * direction[:, None, :, :]

    def own_utility(x: Array) -> Array:  # utility of i at x[:, i, j]
        gap = np.abs(x - ideal[:, :, None, :]) ** risk[:, :, None, None]
        return 1.0 - np.sum(salience[:, :, None, :] * gap, axis=-1)

    def target_utility(x: Array) -> Array:  # utility of j at x[:, i, j]
        gap = np.abs(x - ideal[:, None, :, :]) ** risk[:, None, :, None]
        return 1.0 - np.sum(salience[:, None, :, :] * gap, axis=-1)

    shape = (proposal.shape[0], ideal.shape[1], ideal.shape[1])
    zero = np.zeros(shape)
    floor = reservation[:, :, None]
    acceptable_now = own_utility(point(zero)) >= floor
    all_the_way = own_utility(point(np.ones(shape))) >= floor
    low, high = zero, np.ones(shape)
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        ok = own_utility(point(middle)) >= floor
        low = np.where(ok, middle, low)
        high = np.where(ok, high, middle)
    lam = np.where(all_the_way, 1.0, low)
    gain = target_utility(point(lam)) - target_utility(point(zero))
    valid = acceptable_now & can_concede[None, :, None]
    leverage = np.where(valid, np.maximum(gain, 0.0), 0.0)
    return leverage * (1.0 - np.eye(shape[-1]))
