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

from sim.mechanisms.bargaining import total

Array = NDArray[np.float64]

BISECTION_STEPS = 30

# The instruments of coercion whose leverage is measured one by one (Singh: "worsen the other side's
# alternatives"; Porter: forces that can return). The first five are removed to see what each is worth to
# the target's alternative; escalation is added; support is what i's whole presence is worth to j, which i
# can threaten to withdraw (Porter: Russia's "leverage on the Assad regime").
REMOVED_INSTRUMENTS = ("forces", "strikes", "safe_zones", "arms_supply", "embargo")
INSTRUMENTS = (*REMOVED_INSTRUMENTS, "escalation", "support")


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


def coercive_leverage_by_instrument(
    batna_now: Array, batna_without: Array, batna_escalated: Array, batna_absent: Array
) -> Array:
    """L^c_ijm for each instrument m, in utility on j's 0-1 scale, never added across instruments:

        m removed (forces, strikes, safe zones, arms supplied, an embargo held): max(0, d_j(i without m) - d_j(now))
        escalation:                                                         max(0, d_j(now) - d_j(i escalates))
        support:                                                            max(0, d_j(now) - d_j(i absent))

    How far each instrument of i, as it stands (threats at their credibility, withdrawn forces at the
    weight of their return), lowers j's alternative, how far one more escalation would, and how far i
    leaving the war altogether would (the threat of abandoning an ally or client). An instrument i does
    not hold leaves d_j unchanged and measures 0. Diagonal 0.

    Args:
        batna_now: (N, A) alternatives as they stand.
        batna_without: (N, M, A_i, A_j) alternatives with instrument m of actor i removed, M = len(REMOVED_INSTRUMENTS).
        batna_escalated: (N, A_i, A_j) alternatives after i escalates (= now where it cannot).
        batna_absent: (N, A_i, A_j) alternatives with actor i absent.
    Returns:
        (N, A_i, A_j, len(INSTRUMENTS)).
    """
    removed = np.maximum(batna_without - batna_now[:, None, None, :], 0.0)  # (N, M, A, A)
    escalation = np.maximum(batna_now[:, None, :] - batna_escalated, 0.0)[:, None]  # (N, 1, A, A)
    support = np.maximum(batna_now[:, None, :] - batna_absent, 0.0)[:, None]  # (N, 1, A, A)
    leverage = np.moveaxis(np.concatenate([removed, escalation, support], axis=1), 1, -1)
    actors = leverage.shape[1]
    return leverage * (1.0 - np.eye(actors))[None, :, :, None]


def inducement_leverage(
    proposal: Array, ideal: Array, salience: Array, risk: Array, reservation: Array, can_concede: Array, free: Array
) -> Array:
    """L^i_ij = u_j(x + lam* (p_j - x)) - u_j(x), lam* the largest lam in [0,1] with u_i >= r_i there.

    The segment toward j's ideal raises u_j monotonically (u_j is concave with its
    maximum at p_j) and u_i is concave along it, so its acceptable part is an
    interval starting at 0, found by bisection. Issues not free to bargain over
    do not move. Shapes: proposal (N, K); ideal, salience (N, A, K); risk,
    reservation (N, A); can_concede (A,) bool; free (N, K) or (K,); result (N, A_i, A_j).

    Only the rows of actors who can concede are computed (the others are 0), in a
    runs-last layout, with the arithmetic of `sim.mechanisms.utility.utility` term by term, so the
    result is the plain evaluation's bit for bit at a fraction of its cost.
    """
    n_runs, n_actors = proposal.shape[0], ideal.shape[1]
    leverage = np.zeros((n_runs, n_actors, n_actors))
    conceders = np.flatnonzero(can_concede)
    if conceders.size == 0:
        return leverage
    runs_last = lambda array: np.ascontiguousarray(np.moveaxis(array, 0, -1))  # noqa: E731
    x_now = runs_last(proposal)  # (K, N)
    ideal_t, salience_t, risk_t = runs_last(ideal), runs_last(salience), runs_last(risk)  # (A, K, N), (A, N)
    direction = (ideal_t - x_now) * runs_last(np.broadcast_to(free, proposal.shape))  # (A_j, K, N)
    own_ideal, own_salience = ideal_t[conceders, None], salience_t[conceders, None]  # (C, 1, K, N)
    own_risk = risk_t[conceders, None, None]  # (C, 1, 1, N)
    own_linear = bool(np.all(own_risk == 1.0))

    def point(lam: Array) -> Array:  # lam (C, A_j, N) -> outcomes (C, A_j, K, N)
        moved = lam[:, :, None, :] * direction
        moved += x_now
        return moved

    def own_utility(x: Array) -> Array:  # u_i at x[i, j], (C, A_j, N)
        gap = np.abs(x - own_ideal)
        if not own_linear:
            gap = gap**own_risk
        gap *= own_salience
        return 1.0 - total(gap, 2, as_last_axis=True)

    def target_utility(x: Array) -> Array:  # u_j at x[i, j], (C, A_j, N)
        gap = np.abs(x - ideal_t) ** risk_t[:, None, :]
        return 1.0 - total(salience_t * gap, 2, as_last_axis=True)

    shape = (conceders.size, n_actors, n_runs)
    zero, one = np.zeros(shape), np.ones(shape)
    floor = runs_last(reservation)[conceders, None, :]
    acceptable_now = own_utility(point(zero)) >= floor
    all_the_way = own_utility(point(one)) >= floor
    low, high = zero, one
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        ok = own_utility(point(middle)) >= floor
        low = np.where(ok, middle, low)
        high = np.where(ok, high, middle)
    lam = np.where(all_the_way, 1.0, low)
    gain = target_utility(point(lam)) - target_utility(point(zero))
    leverage[:, conceders, :] = np.moveaxis(np.where(acceptable_now, np.maximum(gain, 0.0), 0.0), -1, 0)
    return leverage * (1.0 - np.eye(n_actors))
