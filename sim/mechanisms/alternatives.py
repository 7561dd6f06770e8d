"""Alternatives to a deal (BATNA): the value of going on fighting.

d_i = p_i u_i(x^G) + (1 - p_i) u_i(x^O) - C_i  (Fearon 1995, "Rationalist
explanations for war"; Singh, September 2016: "the value of the most likely
alternative to a deal"), with p_i the government side's projected chance of
prevailing over actor i's horizon and C_i its discounted cost of fighting.
Threats count in p_i in proportion to their credibility (see
`battlefield.credibility_weight`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.mechanisms import battlefield

Array = NDArray[np.float64]


def war_lottery_value(
    win_probability: Array, utility_if_government_wins: Array, utility_if_opposition_wins: Array, cost: Array
) -> Array:
    """W = p u(x^G) + (1 - p) u(x^O) - c: the expected value of settling the issues by war."""
    return win_probability * utility_if_government_wins + (1.0 - win_probability) * utility_if_opposition_wins - cost


def fearon_bargaining_range(win_probability: float, cost_a: float, cost_b: float) -> tuple[float, float]:
    """Fearon's bargaining range (p - c_A, p + c_B) for one issue in [0, 1].

    A (who prevails with probability p and values x) prefers any x >= p - c_A
    to war; B (valuing 1 - x) prefers any x <= p + c_B. With positive costs the
    range is never empty: war is inefficient.
    """
    return win_probability - cost_a, win_probability + cost_b


def discounted_steps(patience: Array, horizon: Array) -> Array:
    """sum_{h=0}^{H-1} delta^h = (1 - delta^H) / (1 - delta): the weight of H steps of a flow."""
    return (1.0 - patience**horizon) / (1.0 - patience)


def fighting_cost(war_cost: Array, involvement: Array, patience: Array, horizon: Array) -> Array:
    """C_i = c_i e_i (1 - delta_i^H) / (1 - delta_i): per-step cost c_i, scaled by involvement e_i
    (force committed relative to the start), discounted over the horizon H_i."""
    return war_cost * involvement * discounted_steps(patience, horizon)


def involvement(ground: Array, air_present: Array, initial_force: Array, coercing: Array) -> Array:
    """e_i = force present / force at the start (1 for actors without forces), plus 1 while
    carrying out a coercive threat (strikes, safe zones): fighting costs grow with involvement."""
    present = ground + air_present
    ratio = np.where(initial_force > 0, present / np.where(initial_force > 0, initial_force, 1.0), 1.0)
    return ratio + coercing


def projected_win_probability(
    *,
    government: Array,
    opposition_base: Array,
    arms_stock: Array,
    arms_inflow: Array,
    control: Array,
    horizon: Array,
    arms_burn: Array,
    arms_effectiveness: Array,
    kappa: Array,
    contest_exponent: Array,
    territory_weight: Array,
) -> Array:
    """p_i: the government side's chance of prevailing, projected over each actor's horizon.

    The opposition's arms stock is projected with `project_arms_stock` under the
    current inflow; control moves at the balance of mid-horizon strengths
    (`project_control`); the contest at the horizon gives p. Shapes: scenario
    quantities (N, X) (X perturbations, 1 for the plain projection), per-actor
    horizon (N, 1, A) or broadcastable; result (N, X, A).
    """
    per_actor = (
        government[..., None],
        opposition_base[..., None],
        arms_stock[..., None],
        arms_inflow[..., None],
        control[..., None],
    )
    government, opposition_base, arms_stock, arms_inflow, control = per_actor
    stock_end = battlefield.project_arms_stock(arms_stock, arms_inflow, arms_burn, horizon)
    stock_mid = battlefield.project_arms_stock(arms_stock, arms_inflow, arms_burn, horizon / 2.0)
    opposition_end = opposition_base + arms_effectiveness * stock_end
    opposition_mid = opposition_base + arms_effectiveness * stock_mid
    balance = battlefield.force_balance(government, opposition_mid)
    control_end = battlefield.project_control(control, balance, kappa, horizon)
    control_end = np.clip(control_end, battlefield.CONTROL_FLOOR, 1.0 - battlefield.CONTROL_FLOOR)
    return battlefield.war_probability(government, opposition_end, control_end, contest_exponent, territory_weight)
