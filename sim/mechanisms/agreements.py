"""Agreements that can fail: each bound party weighs keeping an agreement against breaking it now.

An agreement between parties at war binds only as long as it is self-enforcing: no party bound by it
gains enough by breaking it to run the risk (Fearon 1995 on the commitment problem; Walter 1997 on
why civil-war settlements fail in their implementation). Each step every party bound by an agreement
in force compares

    keep_i  = u_i(terms) - e * c_i          the agreement's value to it, less the cost of the fighting
                                            that groups the agreement excludes keep up (share e of full
                                            war, c_i its cost of fighting over its horizon);
    break_i = d^s_i - k_i                   its alternative if it broke the agreement now (the war it
                                            would restart, with whatever it holds back flowing again:
                                            a supplier whose deliveries a patron's embargo holds back
                                            counts them; Porter: Russia's withdrawal told the
                                            opposition's "external patrons that it was in their
                                            interests not to restart the war"), less the cost k_i of
                                            being seen to defect;

and breaks it with probability q_i = (1 - rho_i) (1 - exp(-s_i a_i max(0, break_i - keep_i))), which
grows with the gap and with its capability a_i (s_i its sensitivity). rho_i is the restraint of its
patron: a patron that itself prefers to keep the agreement holds its client back by the share it can
(Stedman 1997: "custodians" of a peace process restrain spoilers; the share is an assumption of each
scenario). The functional form and the exclusion term are assumptions of this model, stated in
`docs/ODD.md`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def keep_value(terms_value: Array, excluded_fighting: Array, fighting_cost: Array) -> Array:
    """keep_i = u_i(terms) - e c_i: the agreement's worth to a party while excluded groups fight on.

    Args:
        terms_value: (N, A) u_i of the agreement's terms.
        excluded_fighting: (N, 1) or (N,) e in [0, 1], fighting the agreement does not stop.
        fighting_cost: (N, A) c_i, the party's cost of fighting over its horizon.
    """
    return terms_value - np.reshape(excluded_fighting, (-1, 1)) * fighting_cost


def breaking_gain(break_value: Array, keep: Array, defection_cost: Array) -> Array:
    """g_i = max(0, break_i - k_i - keep_i): what a party gains by breaking the agreement now."""
    return np.maximum(break_value - defection_cost - keep, 0.0)


def restraint(patron: NDArray[np.int64], patron_restrains: NDArray[np.bool_], strength: Array) -> Array:
    """rho_i = r_p if party i's patron p restrains its clients this step, else 0.

    Args:
        patron: (A,) index of each party's patron, -1 for none.
        patron_restrains: (N, A) whether each party, as a patron, holds its clients to the agreement.
        strength: (N, A) r_p, the share of a client's will to defect its patron can hold back.
    """
    has_patron = patron >= 0
    column = np.where(has_patron, patron, 0)
    return np.where(has_patron, patron_restrains[:, column] * strength[:, column], 0.0)


def client_break_value(break_value: Array, without_patron: Array, patron_keeps: NDArray[np.bool_]) -> Array:
    """break_i for a client whose patron keeps the agreement and holds its clients to it:
    min(d^s_i, d_i(patron absent)). A client that restarts a war its patron wants stopped fights it
    without the patron's forces, threats and arms (Porter: Russia's moves "added to Russian leverage on
    the Assad regime"). The minimum stands in for the war with both the client's own means restored and
    the patron gone, which the model does not compute (an approximation, stated in `docs/ODD.md`).

    Args:
        break_value: (N, A) d^s_i, the war the party would restart with all its means.
        without_patron: (N, A) d_i with its patron absent (= d_i for a party without one).
        patron_keeps: (N, A) the party's patron restrains its clients and would gain nothing by breaking.
    """
    return np.where(patron_keeps, np.minimum(break_value, without_patron), break_value)


def defection_probability(gain: Array, capability: Array, sensitivity: Array, held_back: Array) -> Array:
    """q_i = (1 - rho_i) (1 - exp(-s_i a_i g_i)), in [0, 1]; 0 with no gain."""
    return (1.0 - held_back) * -np.expm1(-sensitivity * capability * gain)


def breaker(uniform: Array, probabilities: Array) -> NDArray[np.int64]:
    """Which party breaks the agreement when the step's draw says it falls: -1 if it holds.

    The agreement falls when u < P = 1 - prod(1 - q_i). [0, P) is cut into one slice per party in
    proportion to q_i, in actor order, and the party whose slice holds u broke it: one draw decides
    both whether and who, and a party with q_i = 0 never breaks it.

    Args:
        uniform: (N,) the step's uniform draw.
        probabilities: (N, A) q_i.
    """
    q = np.minimum(probabilities, 1.0 - 1e-15)
    falls = -np.expm1(np.sum(np.log1p(-q), axis=-1))
    total = np.sum(q, axis=-1)
    share = np.where(total[:, None] > 0, q / np.where(total > 0, total, 1.0)[:, None], 0.0)
    edges = np.cumsum(share, axis=-1) * falls[:, None]
    # The shares can sum to a hair under 1: the last party that can break it owns the rest of [0, P).
    last = q.shape[-1] - 1 - np.argmax((q > 0)[:, ::-1], axis=-1)
    inside = uniform[:, None] < edges
    who = np.where(inside.any(axis=-1), np.argmax(inside, axis=-1), last)
    return np.where(uniform < falls, who, -1).astype(np.int64)


def fighting_intensity(
    in_force: NDArray[np.bool_], ceasefire_intensity: Array, excluded_fighting: Array, breach_pressure: Array
) -> Array:
    """f = 1 at war; under a ceasefire f = f_0 + (1 - f_0) (e + (1 - e) v).

    f_0 is the parties' residual fighting, e the share of full war the groups the ceasefire excludes keep
    up, and v the violations of the parties it binds: the share of the war they are not fighting on which
    they fight anyway, v = P_{t-1} = 1 - prod_i (1 - q_i), the probability, after restraint, that some
    party broke the ceasefire at the step before (`breaker`). Ceasefires are violated without collapsing
    (Fortna 2004, *Peace Time*, studies which survive their violations). That the parties' violations grow
    with their temptation to break it, and equal P, is this model's assumption (no new parameter; stated
    in `docs/ODD.md`): a ceasefire certain to fall is fought in full, one that no party is tempted to break
    only at f_0 + (1 - f_0) e, as before. P is per step, as the q_i are.

    Args:
        in_force: (N,) some agreement that stops the fighting is in force.
        ceasefire_intensity: (N,) or (N, 1) f_0 in [0, 1].
        excluded_fighting: (N,) or (N, 1) e in [0, 1].
        breach_pressure: (N,) or (N, 1) v in [0, 1].
    """
    f0, e, v = np.ravel(ceasefire_intensity), np.ravel(excluded_fighting), np.ravel(breach_pressure)
    outside_the_parties = e + (1.0 - e) * np.clip(v, 0.0, 1.0)
    return np.where(in_force, f0 + (1.0 - f0) * outside_the_parties, 1.0)
