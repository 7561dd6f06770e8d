"""Leverage (sim/mechanisms/leverage.py) against values worked out by hand, closed forms and a plain evaluation.

Coercive leverage: L^c_ij = max(0, d_j(i absent) - min(d_j(now), d_j(i escalates))), diagonal 0.
Inducement leverage: L^in_ij = u_j(x + lam* (p_j - x)) - u_j(x), lam* the largest lam in [0, 1]
keeping u_i >= r_i, and 0 when u_i(x) < r_i already or i cannot concede.

The closed forms use one issue, where u(y) = 1 - |y - p|^r: the set of points an actor with
reservation R accepts is the interval |y - p_i| <= (1 - R)^(1 / r_i), and the concession stops
where the segment from x toward p_j leaves it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.mechanisms.leverage import coercive_leverage, inducement_leverage
from sim.mechanisms.utility import normalise_salience, utility
from sim.model import engine
from sim.scenario.loader import scenario_from_mapping
from sim.scenario.params import params_from_scenario
from tests.strategies import SHIPPED, shipped_document

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
value = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# Coercive leverage


def test_coercive_leverage_shape_is_runs_by_actor_by_actor() -> None:
    rng = np.random.default_rng(0)
    now = rng.uniform(size=(4, 3))
    result = coercive_leverage(now, rng.uniform(size=(4, 3, 3)), rng.uniform(size=(4, 3, 3)))
    assert result.shape == (4, 3, 3)


def test_coercive_leverage_counts_an_escalation_that_lowers_the_alternative() -> None:
    """Actor 0 over actor 1: d_1 now 0.4, without actor 0 0.6, after actor 0 escalates 0.3 -> 0.6 - 0.3."""
    now = np.array([[0.5, 0.4]])
    without = np.array([[[0.5, 0.6], [0.5, 0.4]]])
    escalated = np.array([[[0.5, 0.3], [0.5, 0.4]]])
    result = coercive_leverage(now, without, escalated)
    assert result[0, 0, 1] == pytest.approx(0.3, abs=1e-15)


def test_coercive_leverage_ignores_an_escalation_that_would_raise_the_alternative() -> None:
    """An escalation that would leave d_1 at 0.45 > 0.4 now is not used: the leverage is 0.6 - 0.4."""
    now = np.array([[0.5, 0.4]])
    without = np.array([[[0.5, 0.6], [0.5, 0.4]]])
    escalated = np.array([[[0.5, 0.45], [0.5, 0.4]]])
    result = coercive_leverage(now, without, escalated)
    assert result[0, 0, 1] == pytest.approx(0.2, abs=1e-15)


def test_coercive_leverage_without_an_escalation_is_the_presence_term() -> None:
    """Escalated = now (the actor cannot escalate): leverage is d_j(absent) - d_j(now)."""
    now = np.array([[0.2, 0.1, 0.7]])
    without = np.array([[[0.2, 0.35, 0.8], [0.25, 0.1, 0.7], [0.2, 0.1, 0.7]]])
    escalated = np.broadcast_to(now[:, None, :], (1, 3, 3)).copy()
    expected = np.array([[[0.0, 0.25, 0.1], [0.05, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    np.testing.assert_allclose(coercive_leverage(now, without, escalated), expected, rtol=0, atol=1e-15)


def test_coercive_leverage_is_floored_at_zero() -> None:
    """An actor whose presence helps j (d_j lower without it) has no coercive leverage over j, not a negative one."""
    now = np.array([[0.5, 0.4]])
    without = np.array([[[0.5, 0.1], [0.2, 0.4]]])
    result = coercive_leverage(now, without, np.broadcast_to(now[:, None, :], (1, 2, 2)))
    np.testing.assert_array_equal(result, 0.0)


def test_coercive_leverage_has_a_zero_diagonal() -> None:
    """The inputs' diagonal would give 0.9 - 0.1 = 0.8 on every actor's own cell; it is masked to 0."""
    n, a = 2, 3
    now = np.full((n, a), 0.1)
    without = np.full((n, a, a), 0.9)
    result = coercive_leverage(now, without, np.full((n, a, a), 0.1))
    for run in range(n):
        np.testing.assert_array_equal(np.diagonal(result[run]), 0.0)
    off_diagonal = ~np.eye(a, dtype=bool)
    np.testing.assert_allclose(result[:, off_diagonal], 0.8, atol=1e-15)


@st.composite
def coercive_inputs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 3))
    a = draw(st.integers(1, 5))
    now = draw(arrays(np.float64, (n, a), elements=value))
    without = draw(arrays(np.float64, (n, a, a), elements=value))
    escalated = draw(arrays(np.float64, (n, a, a), elements=value))
    return now, without, escalated


@settings(max_examples=200, deadline=None)
@given(inputs=coercive_inputs())
def test_coercive_leverage_matches_its_definition_cell_by_cell(
    inputs: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    now, without, escalated = inputs
    result = coercive_leverage(now, without, escalated)
    n, a = now.shape
    assert result.shape == (n, a, a)
    for run in range(n):
        for i in range(a):
            for j in range(a):
                expected = 0.0 if i == j else max(0.0, without[run, i, j] - min(now[run, j], escalated[run, i, j]))
                assert result[run, i, j] == pytest.approx(expected, abs=1e-15)


# ---------------------------------------------------------------------------------------------
# Inducement leverage: closed forms


def one_issue(
    proposal: float,
    ideals: list[float],
    reservations: list[float],
    risks: list[float] | None = None,
    can_concede: list[bool] | None = None,
) -> np.ndarray:
    """Inducement leverage of one run with one issue (salience 1): the (A, A) matrix."""
    a = len(ideals)
    return inducement_leverage(
        np.array([[proposal]]),
        np.array([ideals], dtype=float)[..., None],
        np.ones((1, a, 1)),
        np.array([risks if risks is not None else [1.0] * a]),
        np.array([reservations], dtype=float),
        np.array(can_concede if can_concede is not None else [True] * a),
        np.array([True]),
    )[0]


def test_inducement_two_linear_actors_closed_form() -> None:
    """p_0 = 1, p_1 = 0, x = 0.6, linear: u_0(y) = y, u_1(y) = 1 - y.

    Actor 0 concedes down to u_0 = r_0 = 0.25, i.e. y = 0.25: u_1 rises by 0.6 - 0.25 = 0.35.
    Actor 1 concedes up to u_1 = r_1 = 0.1, i.e. y = 0.9: u_0 rises by 0.9 - 0.6 = 0.3.
    """
    result = one_issue(0.6, [1.0, 0.0], [0.25, 0.1])
    assert result.shape == (2, 2)
    assert result[0, 1] == pytest.approx(0.35, abs=1e-8)
    assert result[1, 0] == pytest.approx(0.3, abs=1e-8)
    np.testing.assert_array_equal(np.diagonal(result), 0.0)


def test_inducement_is_measured_in_the_target_utility() -> None:
    """Actor 1 risk-averse: u_1(y) = 1 - y^2. Actor 0 (r_0 = 0.25) concedes from 0.6 to 0.25: 0.36 - 0.0625."""
    result = one_issue(0.6, [1.0, 0.0], [0.25, 0.1], risks=[1.0, 2.0])
    assert result[0, 1] == pytest.approx(0.36 - 0.0625, abs=1e-8)


def test_inducement_stops_where_a_curved_own_utility_meets_the_reservation() -> None:
    """Actor 0 risk-averse: u_0(y) = 1 - (1 - y)^2 >= 0.75 iff y >= 0.5. From x = 0.8 to 0.5, linear u_1 gains 0.3."""
    result = one_issue(0.8, [1.0, 0.0], [0.75, 0.5], risks=[2.0, 1.0])
    assert result[0, 1] == pytest.approx(0.3, abs=1e-8)


def test_inducement_goes_all_the_way_when_the_target_ideal_stays_acceptable() -> None:
    """r_0 = 0 = u_0(p_1): the whole move to p_1 = 0 is acceptable, lam = 1 exactly, gain u_1(0) - u_1(0.6) = 0.6.

    Bisection alone would stop at lam = 1 - 2^-30, about 6e-10 short: the tolerance below tells them apart.
    """
    result = one_issue(0.6, [1.0, 0.0], [0.0, 0.1])
    assert result[0, 1] == pytest.approx(0.6, abs=1e-12)
    below = one_issue(0.6, [1.0, 0.0], [-0.5, 0.1])
    assert below[0, 1] == pytest.approx(0.6, abs=1e-12)


def test_inducement_is_zero_when_the_offer_is_already_below_the_own_reservation() -> None:
    """p_0 = 0.5, p_1 = 0, x = 1: u_0(1) = 0.5 < r_0 = 0.6, so actor 0 has no inducement to give.

    The segment toward p_1 passes through p_0, where u_0 = 1, so points on it are acceptable
    (|y - 0.5| <= 0.4, down to y = 0.1): without the guard the bisection would report u_1(0.1) - u_1(1) = 0.9.
    """
    result = one_issue(1.0, [0.5, 0.0], [0.6, 0.0])
    assert result[0, 1] == 0.0
    # With r_0 = 0.4 <= u_0(1) the offer is acceptable, and the whole way to p_1 = 0 (u_0(0) = 0.5) as well.
    acceptable = one_issue(1.0, [0.5, 0.0], [0.4, 0.0])
    assert acceptable[0, 1] == pytest.approx(1.0, abs=1e-12)


def test_inducement_at_the_own_reservation_exactly_concedes_nothing() -> None:
    """r_0 = u_0(x) = 0.6 and u_0 falls toward p_1: acceptable now, but any move breaks the reservation."""
    result = one_issue(0.6, [1.0, 0.0], [0.6, 0.0])
    assert result[0, 1] == pytest.approx(0.0, abs=1e-8)
    assert result[0, 1] >= 0.0


def test_an_offer_exactly_at_the_own_reservation_is_acceptable() -> None:
    """u_i(x) = r_i counts as acceptable (u_i >= r_i). p_0 = 0.5, p_1 = 0, x = 1, r_0 = 0.5 = u_0(1) = u_0(0):
    every point between is at least as good for actor 0, so it concedes all the way, u_1 rising from 0 to 1."""
    result = one_issue(1.0, [0.5, 0.0], [0.5, 0.0])
    assert result[0, 1] == 1.0


def test_an_actor_who_cannot_concede_has_a_zero_row() -> None:
    """Same problem as the closed form: actor 0 may not concede, actor 1's row keeps its 0.3."""
    result = one_issue(0.6, [1.0, 0.0], [0.25, 0.1], can_concede=[False, True])
    np.testing.assert_array_equal(result[0], 0.0)
    assert result[1, 0] == pytest.approx(0.3, abs=1e-8)
    nobody = one_issue(0.6, [1.0, 0.0], [0.25, 0.1], can_concede=[False, False])
    np.testing.assert_array_equal(nobody, 0.0)


def two_issue_case(free: np.ndarray) -> np.ndarray:
    """x = (0.6, 0.6), p_0 = (1, 1), p_1 = (0.6, 0), saliences (0.5, 0.5), linear, r_0 = 0.5, r_1 = 0.

    u_0(x) = 0.6. Actor 1 already has its ideal on issue 0; all its gain is on issue 1.
    If issue 1 is free, actor 0 moves it down to y_1 with 1 - 0.5 * 0.4 - 0.5 * (1 - y_1) = 0.5, i.e.
    y_1 = 0.4, and u_1 rises by 0.5 * (0.6 - 0.4) = 0.1.
    """
    return inducement_leverage(
        np.array([[0.6, 0.6]]),
        np.array([[[1.0, 1.0], [0.6, 0.0]]]),
        np.full((1, 2, 2), 0.5),
        np.ones((1, 2)),
        np.array([[0.5, 0.0]]),
        np.array([True, True]),
        free,
    )


def test_an_issue_not_open_to_bargaining_does_not_move() -> None:
    assert two_issue_case(np.array([True, True]))[0, 0, 1] == pytest.approx(0.1, abs=1e-8)
    assert two_issue_case(np.array([True, False]))[0, 0, 1] == 0.0
    # The per-run form (N, K) of `free` means the same.
    assert two_issue_case(np.array([[True, False]]))[0, 0, 1] == 0.0
    assert two_issue_case(np.array([[True, True]]))[0, 0, 1] == pytest.approx(0.1, abs=1e-8)


def test_inducement_has_a_zero_diagonal() -> None:
    """Moving toward one's own ideal is always acceptable and would give u_i(p_i) - u_i(x) > 0: it is masked."""
    result = one_issue(0.6, [1.0, 0.0, 0.3], [0.2, 0.2, 0.2])
    np.testing.assert_array_equal(np.diagonal(result), 0.0)
    assert np.all(result[~np.eye(3, dtype=bool)] > 0.0)


def test_inducement_runs_are_independent() -> None:
    """Two runs in one batch give the values each gives alone (here the two closed forms above)."""
    result = inducement_leverage(
        np.array([[0.6], [0.8]]),
        np.array([[[1.0], [0.0]], [[1.0], [0.0]]]),
        np.ones((2, 2, 1)),
        np.array([[1.0, 1.0], [2.0, 1.0]]),
        np.array([[0.25, 0.1], [0.75, 0.5]]),
        np.array([True, True]),
        np.array([True]),
    )
    assert result.shape == (2, 2, 2)
    assert result[0, 0, 1] == pytest.approx(0.35, abs=1e-8)
    assert result[1, 0, 1] == pytest.approx(0.3, abs=1e-8)


# ---------------------------------------------------------------------------------------------
# Inducement leverage: properties


def closed_form_one_issue(x: float, p_i: float, p_j: float, r_i: float, risk_i: float, risk_j: float) -> float:
    """Inducement of i on j with one issue, worked out from the acceptable interval |y - p_i| <= w."""
    if r_i > 1.0:
        return 0.0
    width = (1.0 - r_i) ** (1.0 / risk_i)
    if abs(x - p_i) > width:
        return 0.0  # the offer is already below i's reservation
    if abs(p_j - p_i) <= width:
        return abs(x - p_j) ** risk_j  # all the way: u_j(p_j) = 1
    stop = p_i + width if p_j > x else p_i - width
    return abs(x - p_j) ** risk_j - abs(stop - p_j) ** risk_j


@settings(max_examples=300, deadline=None)
@given(
    x=unit,
    p_i=unit,
    p_j=unit,
    # r_i within 1e-6 of 1 leaves an acceptable interval of width (1 - r_i)^(1/r) where 1 - |d|^r rounds in
    # double precision (|d|^r near 1e-16): the closed form and the code then differ by more than 1e-7.
    r_i=st.floats(min_value=-0.3, max_value=1.0 - 1e-6),
    risk_i=st.floats(min_value=1.0, max_value=3.0),
    risk_j=st.floats(min_value=1.0, max_value=3.0),
)
def test_inducement_matches_the_one_issue_closed_form(
    x: float, p_i: float, p_j: float, r_i: float, risk_i: float, risk_j: float
) -> None:
    width = (1.0 - r_i) ** (1.0 / risk_i)
    # Keep off the knife edge where the offer sits on the boundary of i's acceptable interval.
    assume(abs(abs(x - p_i) - width) > 1e-9)
    result = one_issue(x, [p_i, p_j], [r_i, 0.0], risks=[risk_i, risk_j])
    expected = closed_form_one_issue(x, p_i, p_j, r_i, risk_i, risk_j)
    assert result[0, 1] == pytest.approx(expected, abs=1e-7)


@st.composite
def concession_problems(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Two actors, K issues, all free; j (actor 1) linear, i (actor 0) with any risk exponent."""
    k = draw(st.integers(1, 4))
    proposal = draw(arrays(np.float64, (1, k), elements=unit))
    ideal = draw(arrays(np.float64, (1, 2, k), elements=unit))
    raw = draw(arrays(np.float64, (1, 2, k), elements=st.floats(0.05, 1.0)))
    risk = np.array([[draw(st.floats(1.0, 3.0)), 1.0]])
    return proposal, ideal, normalise_salience(raw), risk


@settings(max_examples=200, deadline=None)
@given(problem=concession_problems(), share=st.floats(min_value=0.01, max_value=0.99))
def test_the_concession_ends_on_the_reservation_when_it_binds(problem: tuple[np.ndarray, ...], share: float) -> None:
    """With a linear target and every issue free, u_j(x + lam d) = u_j(x) + lam D (D = sum_k s_jk |d_k|), so
    lam* = L / D. When u_i(p_j) < r_i <= u_i(x) the constraint binds, and u_i at the conceded point is r_i."""
    proposal, ideal, salience, risk = problem
    u_i = lambda y: utility(y, ideal[0, :1], salience[0, :1], risk[0, :1])[0]  # noqa: E731
    if u_i(proposal[0]) < u_i(ideal[0, 1]):  # swap the offer and j's ideal: i must prefer the offer
        offer, target = proposal[0].copy(), ideal[0, 1].copy()
        proposal, ideal = target[None, :], ideal.copy()
        ideal[0, 1] = offer
    x = proposal[0]
    at_offer, at_target = u_i(x), u_i(ideal[0, 1])
    assume(at_offer - at_target > 1e-3)
    distance = float(np.sum(salience[0, 1] * np.abs(ideal[0, 1] - x)))
    assume(distance > 1e-3)
    reservation = at_target + share * (at_offer - at_target)
    result = inducement_leverage(
        proposal,
        ideal,
        salience,
        risk,
        np.array([[reservation, 0.0]]),
        np.array([True, True]),
        np.array([True] * len(x)),
    )
    lam = result[0, 0, 1] / distance
    assert 0.0 <= lam < 1.0
    conceded = x + lam * (ideal[0, 1] - x)
    assert u_i(conceded) == pytest.approx(reservation, abs=1e-6)


@st.composite
def inducement_problems(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """A batch of runs, actors and issues (up to 9, past np.sum's pairwise threshold), any risk, any free set."""
    n = draw(st.integers(1, 3))
    a = draw(st.integers(2, 4))
    k = draw(st.sampled_from([1, 2, 3, 9]))
    proposal = draw(arrays(np.float64, (n, k), elements=unit))
    ideal = draw(arrays(np.float64, (n, a, k), elements=unit))
    raw = draw(arrays(np.float64, (n, a, k), elements=st.floats(0.05, 1.0)))
    linear = draw(st.booleans())
    risk = np.ones((n, a)) if linear else draw(arrays(np.float64, (n, a), elements=st.floats(1.0, 3.0)))
    reservation = draw(arrays(np.float64, (n, a), elements=st.floats(-0.2, 1.0)))
    can_concede = draw(arrays(np.bool_, (a,)))
    free = draw(arrays(np.bool_, (k,)))
    return proposal, ideal, normalise_salience(raw), risk, reservation, can_concede, free


@settings(max_examples=150, deadline=None)
@given(problem=inducement_problems(), drop=st.floats(min_value=0.0, max_value=0.5))
def test_a_lower_reservation_never_gives_less_inducement(problem: tuple[np.ndarray, ...], drop: float) -> None:
    proposal, ideal, salience, risk, reservation, can_concede, free = problem
    higher = inducement_leverage(proposal, ideal, salience, risk, reservation, can_concede, free)
    lower = inducement_leverage(proposal, ideal, salience, risk, reservation - drop, can_concede, free)
    assert np.all(lower >= higher - 1e-9)
    assert np.all(higher >= 0.0)


def plain_inducement(
    proposal: np.ndarray,
    ideal: np.ndarray,
    salience: np.ndarray,
    risk: np.ndarray,
    reservation: np.ndarray,
    can_concede: np.ndarray,
    free: np.ndarray,
) -> np.ndarray:
    """The definition evaluated one run and one pair at a time with `utility`, the same 30-step bisection."""
    n, a = reservation.shape
    result = np.zeros((n, a, a))
    free_runs = np.broadcast_to(free, proposal.shape)

    def u(y: np.ndarray, run: int, actor: int) -> float:
        pick = slice(actor, actor + 1)
        return utility(y, ideal[run, pick], salience[run, pick], risk[run, pick])[0]

    for run in range(n):
        x = proposal[run]
        for i in np.flatnonzero(can_concede):
            floor = reservation[run, i]
            if not u(x, run, i) >= floor:
                continue
            for j in range(a):
                if i == j:
                    continue
                direction = (ideal[run, j] - x) * free_runs[run]
                low, high = 0.0, 1.0
                for _ in range(30):
                    middle = 0.5 * (low + high)
                    if u(middle * direction + x, run, i) >= floor:
                        low = middle
                    else:
                        high = middle
                lam = 1.0 if u(direction + x, run, i) >= floor else low
                result[run, i, j] = max(u(lam * direction + x, run, j) - u(0.0 * direction + x, run, j), 0.0)
    return result


@settings(max_examples=100, deadline=None)
@given(problem=inducement_problems())
def test_inducement_equals_the_plain_evaluation_bit_for_bit(problem: tuple[np.ndarray, ...]) -> None:
    """The docstring's promise: the runs-last, conceders-only layout gives the plain evaluation's numbers exactly."""
    fast = inducement_leverage(*problem)
    np.testing.assert_array_equal(fast, plain_inducement(*problem))


# ---------------------------------------------------------------------------------------------
# Through the engine


def first_assessment(document: dict) -> tuple[engine.Assessment, tuple[str, ...]]:
    params = params_from_scenario(scenario_from_mapping(document))
    state = engine.initial_state(params)
    draws = engine.draw_noise(np.random.default_rng(0), params)
    seen, _ = engine.observe(params, state, 0, draws[0][None, :])
    return seen, params.actor_ids


def september_document(**us_options: bool) -> dict:
    """The September 2016 scenario with the US's coercive options set as given (the US has no forces or arms)."""
    (path,) = [path for path in SHIPPED if path.name == "stalemate_2016_09.yaml"]
    document = shipped_document(path)
    us = document["actors"]["us"]
    assert "forces" not in us and "arms_supply" not in us
    options = {"strike_regime": False, "safe_zones": False, "escalate": False, "enforce_embargo": False}
    options.update(us_options)
    us["options"] = {**us.get("options", {}), **options}
    document.pop("uncertain", None)
    return document


def test_an_actor_with_every_coercive_option_off_has_no_coercive_leverage() -> None:
    """Singh: without an "or else" the US cannot worsen anyone's alternative. The US has no forces
    and no arms; with strikes, safe zones, escalation and the embargo all off, its row is exactly 0."""
    seen, actors = first_assessment(september_document())
    us = actors.index("us")
    np.testing.assert_array_equal(seen.coercive[0, us], 0.0)
    # Control: the same scenario with strikes on gives the US leverage over Russia (a credible threat to
    # its side), so the zero above is the options' doing, not a blind spot of the measurement.
    seen, actors = first_assessment(september_document(strike_regime=True))
    assert seen.coercive[0, us, actors.index("russia")] > 1e-6


def test_an_actor_with_forces_keeps_coercive_leverage_without_options() -> None:
    """The zero needs no forces as well: Iran (ground forces, no coercive options) still weighs on its enemies."""
    seen, actors = first_assessment(september_document())
    iran = actors.index("iran")
    assert seen.coercive[0, iran, actors.index("opposition")] > 1e-6
    assert math.isclose(seen.coercive[0, iran, iran], 0.0)
