"""How long agreement takes: aspirations that fall with the cost of delay (DESIGN.md, "Concessions and timing").

The offer on the table is the asymmetric Nash solution (`sim.mechanisms.bargaining`), the limit of
Rubinstein's alternating offers. Whether it is accepted now depends on what each party still hopes
to get by holding out. Following Cross (1965, "The Economics of Bargaining"), each party opens the
talks aspiring to its ideal point (utility 1) and lowers its aspiration each step by its cost of
delay, so that a party that loses more by waiting gives way sooner:

    a_i(t) = 1 - C_i(t),   C_i(t+1) = C_i(t) + rho_i(t) + c_i f_t g_i(t)

with rho_i(t) = -ln(delta_i) + sigma_i t its impatience (as in the bargaining weights: discounting and
the negotiator's growing personal stake), c_i its war cost per step at full involvement, g_i its
involvement and f_t the fighting intensity (delay costs more while the war is fought). Party i accepts
an offer x when u_i(x) >= max(r_i, a_i(t)), r_i its reservation value. The time to agreement is
therefore the time the slowest required party needs to bring its aspiration down to the offer, which
falls as war costs rise and grows with patience. Concessions run only while talks are open and no
agreement is in force, separately for each agreement; when one falls the parties start its talks again
from their ideal points.
The opening aspiration (the ideal point) is an assumption of this model.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def concession_rate(impatience: Array, war_cost: Array, involvement: Array, intensity: Array) -> Array:
    """rho_i + c_i f g_i: utility a party gives up per step of talks without agreement.

    Args:
        impatience: (N, A) rho_i(t) = -ln(delta_i) + sigma_i t.
        war_cost: (N, A) c_i per step of war at full involvement.
        involvement: (N, A) g_i.
        intensity: (N,) f_t, the fighting this step.
    """
    return impatience + war_cost * involvement * np.reshape(intensity, (-1, 1))


def aspiration(conceded: Array) -> Array:
    """a_i = 1 - C_i, never below 0: what a party still hopes to get by holding out."""
    return np.maximum(1.0 - conceded, 0.0)


def acceptance_threshold(reservation: Array, conceded: Array) -> Array:
    """max(r_i, a_i): the least an offer must be worth to party i for it to sign now."""
    return np.maximum(reservation, aspiration(conceded))


def conceded_after(conceded: Array, rate: Array, talking: NDArray[np.bool_], restart: NDArray[np.bool_]) -> Array:
    """C_i(t+1): C_i + rate where talks are open without the agreement in force, unchanged elsewhere,
    and back to 0 where the agreement fell this step (the talks start again).

    Args:
        conceded, rate: (..., A), e.g. (N, A) or (N, G, A) per agreement.
        talking: broadcastable to conceded: talks open and the agreement not in force.
        restart: conceded's shape without the actor axis, or broadcastable to conceded: it fell this step.
    """
    moved = np.where(talking, conceded + rate, conceded)
    restart = np.asarray(restart)
    if restart.ndim == np.ndim(conceded) - 1:
        restart = restart[..., None]
    return np.where(restart, 0.0, moved)
