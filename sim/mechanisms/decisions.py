"""The actors' decision rules (DESIGN.md, step 5), as small pure functions.

Each returns what an actor does given what it sees; the model applies the
result. They are elementwise, so one actor (a Mesa agent) and every actor of
every run in a batch use the same arithmetic.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

# Withdrawing is worth it only while withdrawn force keeps most of its weight as a threat.
WITHDRAW_MIN_CREDIBILITY = 0.9
# Below this an actor's coercive leverage over its counterparts counts as none.
NO_LEVERAGE = 1e-9


def accepts(utility_of_offer: Array, reservation: Array) -> Array:
    """Accept iff the offer is worth at least the reservation value: u_i(x) >= r_i."""
    return utility_of_offer >= reservation


def ceasefire_collapse_probability(spoil_probabilities: Array) -> Array:
    """P(any client spoils) = 1 - prod_i (1 - q_i), along the last (actor) axis.

    One draw per step decides it, so the outcome does not depend on the order of actors.
    """
    return 0.0 - np.expm1(np.sum(np.log1p(-np.minimum(spoil_probabilities, 1.0 - 1e-15)), axis=-1))  # 0, not -0


def softened_demand(demand: Array, min_demand: Array, soften_rate: Array, wants_to_soften: Array) -> Array:
    """m' = min(m, max(min_demand, m - rate)) for an actor that softens, else m.

    Softening never raises a demand, even one already below the floor (a sweep or an ensemble can set
    `demand` under `min_demand`, which the loader refuses only in a file)."""
    return np.where(wants_to_soften, np.minimum(demand, np.maximum(min_demand, demand - soften_rate)), demand)


def wants_to_soften(
    may_soften: Array, required: Array, zone_exists: Array, coercive_over_counterparts: Array, deal: Array
) -> Array:
    """Soften when there is no zone of agreement and no coercive option to worsen the
    counterpart's alternative instead (Singh: with no "or else", Kerry "had little choice
    but to soften the U.S. position")."""
    return may_soften & required & ~zone_exists & ~deal & (coercive_over_counterparts <= NO_LEVERAGE)


def wants_to_escalate(
    may_escalate: Array, zone_exists: Array, ceasefire: Array, deal: Array, involvement: Array, max_involvement: Array
) -> Array:
    """Add force when fighting goes on with no zone of agreement, below the actor's cap
    (Singh: Russia backed its diplomacy "with limited force to worsen U.S. options")."""
    return may_escalate & ~zone_exists & ~ceasefire & ~deal & (involvement < max_involvement)


def escalated_force(force: Array, initial_force: Array, escalate_step: Array, max_involvement: Array) -> Array:
    """F' = min(F + step * F0, cap * F0)."""
    return np.minimum(force + escalate_step * initial_force, max_involvement * initial_force)


def wants_to_withdraw(
    may_withdraw: Array, ceasefire: Array, air_present: Array, air_withdrawn: Array, credibility: Array
) -> Array:
    """Withdraw air under a ceasefire when withdrawn aircraft stay a credible threat: the
    leverage is kept at a lower cost of involvement (Porter on Putin's 14 March withdrawal)."""
    return (
        may_withdraw & ceasefire & (air_present > 0) & (air_withdrawn <= 0) & (credibility >= WITHDRAW_MIN_CREDIBILITY)
    )


def enforces_embargo(may_enforce: Array, ceasefire: Array, deal: Array) -> Array:
    """A patron that may do so stops its suppliers' arms flow while a ceasefire or deal holds
    (Porter: the US pledge to "enforce on its regional Middle Eastern allies the cessation
    of the flow of weapons")."""
    return may_enforce & (ceasefire | deal)


def redeploy_steps(redeploy_days: Array, step_days: int) -> Array:
    """Steps before withdrawn force is back: ceil(days / step length)."""
    return np.ceil(np.asarray(redeploy_days) / step_days).astype(np.int64)
