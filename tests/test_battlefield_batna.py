"""The war and the alternatives to a deal (sim/battlefield.py, sim/batna.py) against closed forms.

Fearon (1995): with a war lottery, the deals both sides prefer to war are
exactly the bargaining range (p - c_A, p + c_B). The battlefield's closed-form
projections must agree with iterating their one-step updates.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.mechanisms import battlefield
from sim.mechanisms.alternatives import discounted_steps, fearon_bargaining_range, fighting_cost, war_lottery_value
from sim.mechanisms.bargaining import solve_bargaining
from sim.mechanisms.utility import utility

probability = st.floats(min_value=0.02, max_value=0.98)
cost = st.floats(min_value=0.005, max_value=0.4)

# A values x (ideal 1), B values 1 - x (ideal 0); the government side, A, wins the war with probability p
# and then sets x = 1, while B's victory sets x = 0.
IDEAL = np.array([[[1.0], [0.0]]])
SALIENCE = np.ones((1, 2, 1))
LINEAR = np.ones((1, 2))


def war_values(p: float, cost_a: float, cost_b: float) -> np.ndarray:
    """(W_A, W_B) from the model's war lottery with the model's utilities."""
    if_government_wins = utility(np.array([1.0]), IDEAL[0], SALIENCE[0], LINEAR[0])
    if_opposition_wins = utility(np.array([0.0]), IDEAL[0], SALIENCE[0], LINEAR[0])
    return war_lottery_value(np.full(2, p), if_government_wins, if_opposition_wins, np.array([cost_a, cost_b]))


@settings(max_examples=100, deadline=None)
@given(p=probability, cost_a=cost, cost_b=cost)
def test_deals_both_prefer_to_war_are_exactly_the_fearon_range(p: float, cost_a: float, cost_b: float) -> None:
    low, high = fearon_bargaining_range(p, cost_a, cost_b)
    assert (low, high) == pytest.approx((p - cost_a, p + cost_b))
    war = war_values(p, cost_a, cost_b)
    grid = np.linspace(0.0, 1.0, 2001)
    grid = grid[(np.abs(grid - low) > 1e-9) & (np.abs(grid - high) > 1e-9)]
    utilities = utility(grid[:, None], IDEAL[0], SALIENCE[0], LINEAR[0])  # (points, 2)
    both_prefer = np.all(utilities > war, axis=-1)
    np.testing.assert_array_equal(both_prefer, (grid > low) & (grid < high))


@settings(max_examples=60, deadline=None)
@given(p=probability, cost_a=cost, cost_b=cost, w1=st.floats(0.1, 10.0), w2=st.floats(0.1, 10.0))
def test_bargaining_with_war_lottery_alternatives_lands_in_the_fearon_range(
    p: float, cost_a: float, cost_b: float, w1: float, w2: float
) -> None:
    low, high = fearon_bargaining_range(p, cost_a, cost_b)
    war = war_values(p, cost_a, cost_b)
    outcome = solve_bargaining(
        IDEAL, SALIENCE, LINEAR, war[None], np.array([[w1, w2]]), status_quo=np.zeros((1, 1)), free=np.array([True])
    )
    assert outcome.zone_exists[0]
    deal = outcome.proposal[0, 0]
    assert low < deal < high
    assert 0.0 <= deal <= 1.0
    # Inside the range the deal is the asymmetric Nash split of the surplus c_A + c_B.
    expected = float(np.clip(low + w1 / (w1 + w2) * (cost_a + cost_b), 0.0, 1.0))
    assert deal == pytest.approx(expected, abs=1e-5)


@settings(max_examples=40, deadline=None)
@given(p=probability)
def test_costless_war_leaves_no_zone_of_agreement(p: float) -> None:
    war = war_values(p, 0.0, 0.0)
    assert fearon_bargaining_range(p, 0.0, 0.0) == (p, p)
    outcome = solve_bargaining(
        IDEAL, SALIENCE, LINEAR, war[None], np.ones((1, 2)), status_quo=np.zeros((1, 1)), free=np.array([True])
    )
    assert not outcome.zone_exists[0]


def test_discounted_steps_is_the_geometric_sum() -> None:
    for patience, horizon in [(0.97, 12), (0.5, 1), (0.99, 52)]:
        assert discounted_steps(np.array(patience), np.array(horizon)) == pytest.approx(
            sum(patience**h for h in range(horizon))
        )
    cost = fighting_cost(np.array(0.01), np.array(2.0), np.array(0.9), np.array(3))
    assert cost == pytest.approx(0.01 * 2.0 * (1 + 0.9 + 0.81))


@settings(max_examples=100, deadline=None)
@given(
    stock=st.floats(0.0, 5.0),
    inflow=st.floats(0.0, 1.0),
    burn=st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)),
    horizon=st.integers(0, 60),
)
def test_projected_arms_stock_is_iterated_next_arms_stock(
    stock: float, inflow: float, burn: float, horizon: int
) -> None:
    iterated = np.array(stock)
    for _ in range(horizon):
        iterated = battlefield.next_arms_stock(iterated, np.array(inflow), np.array(burn), np.array(1.0))
    projected = battlefield.project_arms_stock(np.array(stock), np.array(inflow), np.array(burn), np.array(horizon))
    assert projected == pytest.approx(float(iterated), rel=1e-9, abs=1e-12)


def test_arms_stock_decays_without_resupply_and_burns_less_under_ceasefire() -> None:
    stock, burn = np.array(1.0), np.array(0.1)
    assert battlefield.project_arms_stock(stock, np.array(0.0), burn, np.array(10)) == pytest.approx(0.9**10)
    at_war = battlefield.next_arms_stock(stock, np.array(0.0), burn, np.array(1.0))
    in_ceasefire = battlefield.next_arms_stock(stock, np.array(0.0), burn, np.array(0.1))
    assert at_war < in_ceasefire < stock


@settings(max_examples=100, deadline=None)
@given(
    control=st.floats(0.05, 0.95), balance=st.floats(-1.0, 1.0), kappa=st.floats(0.0, 0.5), horizon=st.floats(0.0, 20.0)
)
def test_project_control_is_the_logistic_solution(control: float, balance: float, kappa: float, horizon: float) -> None:
    growth = np.exp(kappa * balance * horizon)
    logistic = control * growth / (1.0 - control + control * growth)
    projected = battlefield.project_control(np.array(control), np.array(balance), np.array(kappa), np.array(horizon))
    assert projected == pytest.approx(logistic, rel=1e-12, abs=1e-15)


def test_project_control_solves_the_battlefield_ode() -> None:
    """d g / d h = kappa b g (1 - g), checked by a central difference."""
    control, balance, kappa = np.array(0.4), np.array(0.6), np.array(0.15)
    for horizon in (0.0, 3.0, 10.0):
        g = battlefield.project_control(control, balance, kappa, np.array(horizon))
        h = 1e-5
        slope = battlefield.project_control(
            control, balance, kappa, np.array(horizon + h)
        ) - battlefield.project_control(control, balance, kappa, np.array(max(horizon - h, 0.0)))
        slope /= h + min(h, horizon)
        assert slope == pytest.approx(kappa * balance * g * (1 - g), rel=1e-6)


def _euler(control: float, balance: float, kappa: float, horizon: float, dt: float) -> float:
    g = np.array(control)
    for _ in range(round(horizon / dt)):
        g = battlefield.step_control(
            g, np.array(balance), np.array(kappa * dt), np.array(1.0), np.array(0.0), np.array(0.0)
        )
    return float(g)


@pytest.mark.parametrize(("control", "balance"), [(0.3, 0.8), (0.7, -0.5), (0.55, 0.2)])
def test_many_small_noiseless_steps_approach_project_control(control: float, balance: float) -> None:
    kappa, horizon = 0.3, 10.0
    exact = float(battlefield.project_control(np.array(control), np.array(balance), np.array(kappa), np.array(horizon)))
    errors = [abs(_euler(control, balance, kappa, horizon, dt) - exact) for dt in (1.0, 0.1, 0.01)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3 * abs(exact - control)  # the Euler error is a tiny part of the change
    assert errors[1] < errors[0] / 5  # first order: ten times smaller steps, about ten times smaller error


def test_step_control_noise_scales_with_fighting_intensity() -> None:
    args = (np.array(0.5), np.array(0.0), np.array(0.15))
    at_war = battlefield.step_control(*args, np.array(1.0), np.array(0.02), np.array(1.0))
    in_ceasefire = battlefield.step_control(*args, np.array(0.1), np.array(0.02), np.array(1.0))
    assert at_war == pytest.approx(0.52)
    assert in_ceasefire == pytest.approx(0.502)
    clipped = battlefield.step_control(
        np.array(0.999), np.array(1.0), np.array(5.0), np.array(1.0), np.array(1.0), np.array(10.0)
    )
    assert clipped == 1.0 - battlefield.CONTROL_FLOOR


def test_credibility_of_a_one_day_return_against_three_months() -> None:
    assert battlefield.credibility_weight(np.array(1.0), np.array(21.0)) > 0.95
    assert battlefield.credibility_weight(np.array(90.0), np.array(21.0)) < 0.02
    weights = battlefield.credibility_weight(np.array([0.0, 1.0, 7.0, 30.0, 365.0]), np.array(21.0))
    assert weights[0] == 1.0
    assert np.all(np.diff(weights) < 0)


strength = st.floats(0.01, 10.0)


@settings(max_examples=150, deadline=None)
@given(
    government=strength,
    opposition=strength,
    extra=st.floats(0.01, 5.0),
    control=st.floats(0.01, 0.99),
    exponent=st.floats(0.2, 5.0),
    territory=st.floats(0.0, 2.0),
)
def test_war_probability_is_monotone_in_strengths(
    government: float, opposition: float, extra: float, control: float, exponent: float, territory: float
) -> None:
    def p(g_strength: float, o_strength: float) -> float:
        return float(
            battlefield.war_probability(
                np.array(g_strength), np.array(o_strength), np.array(control), np.array(exponent), np.array(territory)
            )
        )

    base = p(government, opposition)
    assert 0.0 <= base <= 1.0
    assert p(government + extra, opposition) >= base
    assert p(government, opposition + extra) <= base
    # Strictly, wherever the probability is not saturated in floating point.
    if 1e-12 < base < 1.0 - 1e-12:
        assert p(government * 2, opposition) > base > p(government, opposition * 2)


@settings(max_examples=100, deadline=None)
@given(government=strength, opposition=strength, exponent=st.floats(0.2, 5.0))
def test_war_probability_is_the_contest_success_function(government: float, opposition: float, exponent: float) -> None:
    p = battlefield.war_probability(
        np.array(government), np.array(opposition), np.array(0.3), np.array(exponent), np.array(0.0)
    )
    expected = government**exponent / (government**exponent + opposition**exponent)
    assert p == pytest.approx(expected, rel=1e-9, abs=1e-12)
    mirrored = battlefield.war_probability(
        np.array(opposition), np.array(government), np.array(0.7), np.array(exponent), np.array(0.0)
    )
    assert p + mirrored == pytest.approx(1.0)


def test_holding_more_territory_raises_the_odds() -> None:
    def p(control: float) -> float:
        return float(
            battlefield.war_probability(np.array(1.0), np.array(1.0), np.array(control), np.array(1.0), np.array(1.0))
        )

    assert p(0.5) == pytest.approx(0.5)
    assert p(0.3) < p(0.5) < p(0.7)


def test_force_balance_and_side_strength() -> None:
    assert battlefield.force_balance(np.array(3.0), np.array(1.0)) == pytest.approx(0.5)
    assert battlefield.force_balance(np.array(1.0), np.array(3.0)) == pytest.approx(-0.5)
    ground = np.array([[0.5, 0.0, 0.3]])
    air = np.array([[0.0, 1.0, 0.0]])
    on_side = np.array([1.0, 1.0, 0.0])
    total = battlefield.side_strength(np.array([0.6]), ground, air, on_side, np.array([2.0]))
    assert total == pytest.approx([0.6 + 0.5 + 2.0])
