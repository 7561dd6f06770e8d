"""Actors' utility over the issue space.

u_i(x) = 1 - sum_k s_ik |x_k - p_ik|^r_i  (DESIGN.md, "A reference formulation"),
with ideal point p_i, salience s_i normalised to sum to 1 and risk exponent
r_i >= 1. For x, p in [0, 1]^K the value lies in [0, 1]; r_i > 1 makes the
actor risk-averse (concave in distance), as in spatial models of bargaining.
All functions broadcast over leading axes (a batch of runs).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def normalise_salience(salience: Array) -> Array:
    """s_ik / sum_k s_ik along the last axis (issues)."""
    return salience / salience.sum(axis=-1, keepdims=True)


def utility(outcome: Array, ideal: Array, salience: Array, risk_exponent: Array) -> Array:
    """u_i(x) for every actor i.

    Args:
        outcome: x, shape (..., K).
        ideal: p, shape (..., A, K).
        salience: s (normalised), shape (..., A, K).
        risk_exponent: r, shape (..., A).

    Returns:
        Utilities, shape (..., A), each in [0, 1].
    """
    distance = np.abs(outcome[..., None, :] - ideal)
    return 1.0 - np.sum(salience * distance ** risk_exponent[..., None], axis=-1)


def utility_gradient(outcome: Array, ideal: Array, salience: Array, risk_exponent: Array) -> Array:
    """d u_i / d x_k = -s_ik r_i |x_k - p_ik|^(r_i - 1) sign(x_k - p_ik); shape (..., A, K).

    At an ideal point with r_i = 1 the (super)gradient 0 is used.
    """
    difference = outcome[..., None, :] - ideal
    exponent = risk_exponent[..., None]
    magnitude = np.abs(difference) ** (exponent - 1.0)
    return -salience * exponent * magnitude * np.sign(difference)


def distance_from_ideal(outcome: Array, ideal: Array, salience: Array) -> Array:
    """Salience-weighted distance sum_k s_ik |x_k - p_ik| in [0, 1]; shape (..., A)."""
    return np.sum(salience * np.abs(outcome[..., None, :] - ideal), axis=-1)
