"""Utilities over the issue space (sim/utility.py): u_i(x) = 1 - sum_k s_ik |x_k - p_ik|^r_i."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.mechanisms.utility import distance_from_ideal, normalise_salience, utility, utility_gradient

unit = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def issue_space(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(outcome (K,), ideal (A, K), normalised salience (A, K), risk (A,)) for up to 5 actors and 4 issues."""
    actors = draw(st.integers(1, 5))
    issues = draw(st.integers(1, 4))
    outcome = draw(arrays(np.float64, (issues,), elements=unit))
    ideal = draw(arrays(np.float64, (actors, issues), elements=unit))
    raw = draw(arrays(np.float64, (actors, issues), elements=st.floats(0.0, 100.0)))
    raw[:, 0] += 1e-3  # at least one positive salience per actor, as the schema requires
    risk = draw(arrays(np.float64, (actors,), elements=st.floats(1.0, 4.0)))
    return outcome, ideal, normalise_salience(raw), risk


@settings(max_examples=150, deadline=None)
@given(space=issue_space())
def test_utilities_lie_in_the_unit_interval(space: tuple[np.ndarray, ...]) -> None:
    outcome, ideal, salience, risk = space
    values = utility(outcome, ideal, salience, risk)
    assert values.shape == (ideal.shape[0],)
    assert np.all(values >= -1e-12)
    assert np.all(values <= 1.0 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(space=issue_space())
def test_the_ideal_point_is_worth_one_and_the_best_outcome(space: tuple[np.ndarray, ...]) -> None:
    outcome, ideal, salience, risk = space
    for actor in range(ideal.shape[0]):
        at_ideal = utility(ideal[actor], ideal, salience, risk)[actor]
        assert at_ideal == pytest.approx(1.0)
        assert utility(outcome, ideal, salience, risk)[actor] <= at_ideal + 1e-12


@settings(max_examples=100, deadline=None)
@given(space=issue_space())
def test_linear_utility_is_one_minus_the_weighted_distance(space: tuple[np.ndarray, ...]) -> None:
    outcome, ideal, salience, _ = space
    linear = utility(outcome, ideal, salience, np.ones(ideal.shape[0]))
    np.testing.assert_allclose(linear, 1.0 - distance_from_ideal(outcome, ideal, salience), atol=1e-12)
    assert np.all(distance_from_ideal(outcome, ideal, salience) <= 1.0 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(space=issue_space())
def test_risk_aversion_values_a_compromise_more(space: tuple[np.ndarray, ...]) -> None:
    """|d|^r <= |d| for |d| <= 1: a risk-averse actor (r > 1) values any outcome at least as much."""
    outcome, ideal, salience, risk = space
    assert np.all(
        utility(outcome, ideal, salience, risk) >= utility(outcome, ideal, salience, np.ones_like(risk)) - 1e-12
    )


def test_a_known_value() -> None:
    ideal = np.array([[0.9, 0.4, 0.0]])
    salience = np.array([[0.5, 0.2, 0.3]])
    outcome = np.array([0.4, 0.0, 0.0])
    assert utility(outcome, ideal, salience, np.array([1.0]))[0] == pytest.approx(1 - 0.5 * 0.5 - 0.2 * 0.4)
    assert utility(outcome, ideal, salience, np.array([2.0]))[0] == pytest.approx(1 - 0.5 * 0.25 - 0.2 * 0.16)


def test_utilities_broadcast_over_runs() -> None:
    rng = np.random.default_rng(3)
    outcome = rng.uniform(size=(6, 3))
    ideal = rng.uniform(size=(6, 4, 3))
    salience = normalise_salience(rng.uniform(0.1, 1.0, size=(6, 4, 3)))
    risk = rng.uniform(1.0, 3.0, size=(6, 4))
    batch = utility(outcome, ideal, salience, risk)
    assert batch.shape == (6, 4)
    for run in range(6):
        np.testing.assert_allclose(batch[run], utility(outcome[run], ideal[run], salience[run], risk[run]))


def test_normalised_salience_sums_to_one_and_keeps_ratios() -> None:
    raw = np.array([[2.0, 1.0, 1.0], [0.0, 3.0, 1.0]])
    normalised = normalise_salience(raw)
    np.testing.assert_allclose(normalised.sum(axis=-1), 1.0)
    np.testing.assert_allclose(normalised[0], [0.5, 0.25, 0.25])
    np.testing.assert_allclose(normalised[1], [0.0, 0.75, 0.25])


@settings(max_examples=100, deadline=None)
@given(space=issue_space())
def test_gradient_matches_finite_differences(space: tuple[np.ndarray, ...]) -> None:
    outcome, ideal, salience, risk = space
    # Keep away from the kink at the ideal point and from the edges of [0, 1].
    outcome = np.clip(outcome, 0.01, 0.99)
    kinked = np.abs(outcome[None, :] - ideal) < 1e-3
    step = 1e-6
    gradient = utility_gradient(outcome, ideal, salience, risk)
    assert gradient.shape == ideal.shape
    for issue in range(outcome.shape[0]):
        up, down = outcome.copy(), outcome.copy()
        up[issue] += step
        down[issue] -= step
        numeric = (utility(up, ideal, salience, risk) - utility(down, ideal, salience, risk)) / (2 * step)
        smooth = ~kinked[:, issue]
        np.testing.assert_allclose(gradient[smooth, issue], numeric[smooth], rtol=1e-4, atol=1e-6)


def test_gradient_points_towards_the_ideal() -> None:
    ideal = np.array([[0.8, 0.2]])
    salience = np.array([[0.5, 0.5]])
    gradient = utility_gradient(np.array([0.5, 0.5]), ideal, salience, np.array([1.0]))
    assert gradient[0, 0] > 0 > gradient[0, 1]
    at_ideal = utility_gradient(ideal[0], ideal, salience, np.array([1.0]))
    np.testing.assert_array_equal(at_ideal, 0.0)
