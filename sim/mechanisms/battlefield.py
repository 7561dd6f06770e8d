"""The war: force balance, control of territory and the war lottery.

Pure functions over numpy arrays; leading axes are runs of an ensemble.
Forms follow DESIGN.md ("A reference formulation"); where a form is our own
choice it says so.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, logit

Array = NDArray[np.float64]

MIN_STRENGTH = 1e-6
CONTROL_FLOOR = 1e-4


def credibility_weight(redeploy_days: Array, tau_days: Array) -> Array:
    """Weight exp(-L / tau) with which withdrawn force still counts as a threat.

    Encodes Porter (March 2016): aircraft that "could be returned to Syria within
    24 hours" keep almost all of their coercive weight (L = 1 day, tau = 21
    days gives 0.95); force that needs months to return keeps almost none.
    """
    return np.exp(-np.asarray(redeploy_days) / np.asarray(tau_days))


def side_strength(base: Array, ground: Array, air: Array, on_side: Array, air_effectiveness: Array) -> Array:
    """S = base + sum_i [i on side] (ground_i + air_effectiveness * air_i); shape (...,).

    Args:
        base: strength of forces not modelled as actors, shape (...,).
        ground, air: each actor's force, shape (..., A).
        on_side: 1.0 where the actor fights on this side, shape (A,) or (..., A).
        air_effectiveness: ground-equivalent of one unit of air, shape (...,).
    """
    contribution = on_side * (ground + air_effectiveness[..., None] * air)
    return base + contribution.sum(axis=-1)


def war_probability(
    government: Array, opposition: Array, control: Array, exponent: Array, territory_weight: Array
) -> Array:
    """P(government side prevails) by a contest success function.

    p = (G g^lam)^a / ((G g^lam)^a + (O (1-g)^lam)^a)   (Tullock/Hirshleifer
    contest; DESIGN.md's p = G^a/(G^a+O^a) when lam = 0). Weighting strength by
    territory held (lam > 0) is our assumption: ground held is recruits, revenue
    and position, so gaining ground raises the odds of prevailing.
    Computed as a logistic of the log-odds for numerical stability.
    """
    log_odds = exponent * (
        np.log(np.maximum(government, MIN_STRENGTH))
        - np.log(np.maximum(opposition, MIN_STRENGTH))
        + territory_weight * (np.log(control) - np.log1p(-control))
    )
    return expit(log_odds)


def force_balance(government: Array, opposition: Array) -> Array:
    """b = (G - O) / (G + O) in [-1, 1]."""
    total = np.maximum(government + opposition, MIN_STRENGTH)
    return (government - opposition) / total


def step_control(
    control: Array, balance: Array, kappa: Array, intensity: Array, noise_sd: Array, shock: Array
) -> Array:
    """g' = g + kappa f b g (1 - g) + f sigma eps, kept inside (floor, 1 - floor).

    DESIGN.md's battlefield update; f is the fighting intensity (1 at war,
    small under a ceasefire), eps a standard normal draw from the run's seeded
    generator.
    """
    moved = control + kappa * intensity * balance * control * (1.0 - control) + intensity * noise_sd * shock
    return np.clip(moved, CONTROL_FLOOR, 1.0 - CONTROL_FLOOR)


def project_control(control: Array, balance: Array, kappa: Array, horizon: Array) -> Array:
    """Control after h steps of war at a constant balance: logit(g_h) = logit(g) + kappa b h.

    The exact solution of dg/dt = kappa b g (1 - g), the continuous form of
    `step_control` at full intensity without noise.
    """
    return expit(logit(control) + kappa * balance * horizon)


def next_arms_stock(stock: Array, inflow: Array, burn: Array, intensity: Array) -> Array:
    """A' = A (1 - burn f) + inflow: arms burn while fighting and are refilled by outside flow."""
    return stock * (1.0 - burn * intensity) + inflow


def project_arms_stock(stock: Array, inflow: Array, burn: Array, horizon: Array) -> Array:
    """Stock after h steps of full war: A_h = A (1-b)^h + inflow (1 - (1-b)^h) / b.

    The closed form of iterating `next_arms_stock` at f = 1 (inflow h when b = 0).
    Without resupply the opposition's stock, and with it its alternative to a
    deal, decays geometrically (Porter: the arms cut-off left the opposition
    "little choice" but the ceasefire).
    """
    remaining = (1.0 - burn) ** horizon
    # (1 - (1-b)^h) / b as -expm1(h log1p(-b)) / b: the direct form cancels to 0 for a tiny burn
    # (1 - 1e-17 rounds to 1), dropping the whole inflow; b = 0 and b = 1 take their exact limits.
    partial = (burn > 0) & (burn < 1)
    safe_burn = np.where(partial, burn, 0.5)
    steps_refilled = np.where(
        partial,
        -np.expm1(horizon * np.log1p(-safe_burn)) / safe_burn,
        np.where(burn > 0, np.where(horizon > 0, 1.0, 0.0), horizon),
    )
    return stock * remaining + inflow * steps_refilled
