"""The actors' decision rules (sim/mechanisms/decisions.py): values worked out by hand, truth tables, boundaries."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.mechanisms import decisions
from sim.mechanisms.battlefield import credibility_weight

probability = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
utility_value = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)
positive = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)


def below(value: float) -> float:
    return math.nextafter(value, -math.inf)


def above(value: float) -> float:
    return math.nextafter(value, math.inf)


# ---------------------------------------------------------------------------------------------
# Accepting


def test_accepts_at_equality_and_not_just_below() -> None:
    reservation = np.full(3, 0.4)
    offers = np.array([0.4, below(0.4), above(0.4)])
    np.testing.assert_array_equal(decisions.accepts(offers, reservation), [True, False, True])


def test_accepts_elementwise_over_runs_and_actors() -> None:
    offers = np.array([[0.5, 0.2], [0.1, -0.3]])
    reservation = np.array([[0.6, 0.2], [-0.1, -0.2]])
    np.testing.assert_array_equal(decisions.accepts(offers, reservation), [[False, True], [True, False]])


# ---------------------------------------------------------------------------------------------
# Spoiling: the probability that a party breaks an agreement is tested in tests/test_agreements.py.


def test_ceasefire_collapse_closed_form() -> None:
    """1 - (1 - 0.1)(1 - 0.2)(1 - 0.5) = 1 - 0.36 = 0.64, along the last axis, run by run."""
    q = np.array([[0.1, 0.2, 0.5], [0.0, 0.0, 0.0], [0.0, 0.3, 0.0]])
    result = decisions.ceasefire_collapse_probability(q)
    assert result.shape == (3,)
    assert result[0] == pytest.approx(0.64, abs=1e-14)
    assert result[1] == 0.0
    assert result[2] == pytest.approx(0.3, abs=1e-14)


def test_ceasefire_collapse_with_a_certain_spoiler_is_certain() -> None:
    result = decisions.ceasefire_collapse_probability(np.array([[0.2, 1.0, 0.0]]))
    assert result[0] == pytest.approx(1.0, abs=1e-12)
    assert result[0] <= 1.0


@settings(max_examples=300, deadline=None)
@given(q=arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 6)), elements=probability))
def test_ceasefire_collapse_is_one_minus_the_product_of_survivals(q: np.ndarray) -> None:
    result = decisions.ceasefire_collapse_probability(q)
    assert result.shape == q.shape[:1]
    np.testing.assert_allclose(result, 1.0 - np.prod(1.0 - q, axis=-1), rtol=0, atol=1e-12)
    assert np.all((result >= 0.0) & (result <= 1.0))
    assert np.all(result >= q.max(axis=-1) - 1e-12)  # at least as likely as the likeliest spoiler
    np.testing.assert_allclose(decisions.ceasefire_collapse_probability(q[:, ::-1]), result, rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# Softening


def test_softened_demand_steps_down_by_the_rate() -> None:
    result = decisions.softened_demand(np.array([0.3]), np.array([0.1]), np.array([0.05]), np.array([True]))
    assert result[0] == pytest.approx(0.25, abs=1e-15)


def test_softened_demand_stops_at_min_demand() -> None:
    demand, minimum, rate = np.array([0.12, 0.1, 0.0]), np.array([0.1, 0.1, -0.2]), np.array([0.05, 0.05, 0.5])
    result = decisions.softened_demand(demand, minimum, rate, np.ones(3, dtype=bool))
    np.testing.assert_array_equal(result, [0.1, 0.1, -0.2])


def test_softened_demand_does_not_move_unless_the_actor_softens() -> None:
    demand = np.array([0.3, 0.12, 0.5])
    result = decisions.softened_demand(demand, np.full(3, 0.1), np.full(3, 0.05), np.zeros(3, dtype=bool))
    np.testing.assert_array_equal(result, demand)
    mixed = decisions.softened_demand(demand, np.full(3, 0.1), np.full(3, 0.05), np.array([True, False, True]))
    np.testing.assert_allclose(mixed, [0.25, 0.12, 0.45], rtol=0, atol=1e-15)


@settings(max_examples=300, deadline=None)
@given(
    minimum=st.floats(-1.0, 1.0),
    above_minimum=st.floats(0.0, 1.0),
    rate=st.floats(0.0, 1.0),
    soften=st.booleans(),
)
def test_softened_demand_stays_between_the_floor_and_the_demand(
    minimum: float, above_minimum: float, rate: float, soften: bool
) -> None:
    """The scenario loader keeps min_demand <= demand; softening never crosses the floor nor raises a demand."""
    demand = minimum + above_minimum
    result = decisions.softened_demand(np.array([demand]), np.array([minimum]), np.array([rate]), np.array([soften]))[0]
    assert minimum <= result <= demand
    if soften:
        assert result == max(minimum, demand - rate)
    else:
        assert result == demand


SOFTEN_BASE = {"may_soften": True, "required": True, "zone_exists": False, "coercive": 0.0, "deal": False}
SOFTEN_FLIPS = {"may_soften": False, "required": False, "zone_exists": True, "coercive": 0.05, "deal": True}


def soften(**overrides: float | bool) -> bool:
    args = {**SOFTEN_BASE, **overrides}
    return bool(
        decisions.wants_to_soften(
            np.array([args["may_soften"]]),
            np.array([args["required"]]),
            np.array([args["zone_exists"]]),
            np.array([args["coercive"]], dtype=float),
            np.array([args["deal"]]),
        )[0]
    )


def test_wants_to_soften_when_every_condition_holds() -> None:
    """Singh: a required negotiator without a zone, a deal or an "or else" softens."""
    assert soften()


@pytest.mark.parametrize("condition", sorted(SOFTEN_FLIPS))
def test_wants_to_soften_fails_when_any_one_condition_fails(condition: str) -> None:
    assert not soften(**{condition: SOFTEN_FLIPS[condition]})


def test_wants_to_soften_full_truth_table() -> None:
    """Soften iff may soften, required, no zone, no deal and no coercive leverage, over all 32 combinations."""
    for may, required, zone, has_leverage, deal in itertools.product([False, True], repeat=5):
        got = soften(
            may_soften=may, required=required, zone_exists=zone, coercive=0.3 if has_leverage else 0.0, deal=deal
        )
        assert got == (may and required and not zone and not has_leverage and not deal)


def test_wants_to_soften_treats_negligible_coercive_leverage_as_none() -> None:
    """The threshold is NO_LEVERAGE = 1e-9: at or below it the actor has no "or else"; just above it has one."""
    assert decisions.NO_LEVERAGE == 1e-9
    assert soften(coercive=1e-9)
    assert soften(coercive=1e-12)
    assert not soften(coercive=above(1e-9))
    assert not soften(coercive=1e-6)


ESCALATE_BASE = {
    "may_escalate": True,
    "zone_exists": False,
    "ceasefire": False,
    "deal": False,
    "involvement": 1.0,
    "max_involvement": 1.5,
}
ESCALATE_FLIPS = {"may_escalate": False, "zone_exists": True, "ceasefire": True, "deal": True, "involvement": 1.5}


def escalate(**overrides: float | bool) -> bool:
    args = {**ESCALATE_BASE, **overrides}
    return bool(
        decisions.wants_to_escalate(
            np.array([args["may_escalate"]]),
            np.array([args["zone_exists"]]),
            np.array([args["ceasefire"]]),
            np.array([args["deal"]]),
            np.array([args["involvement"]], dtype=float),
            np.array([args["max_involvement"]], dtype=float),
        )[0]
    )


def test_wants_to_escalate_when_fighting_goes_on_without_a_zone_below_the_cap() -> None:
    assert escalate()


@pytest.mark.parametrize("condition", sorted(ESCALATE_FLIPS))
def test_wants_to_escalate_fails_when_any_one_condition_fails(condition: str) -> None:
    assert not escalate(**{condition: ESCALATE_FLIPS[condition]})


def test_wants_to_escalate_full_truth_table() -> None:
    for may, zone, ceasefire, deal, at_cap in itertools.product([False, True], repeat=5):
        got = escalate(
            may_escalate=may, zone_exists=zone, ceasefire=ceasefire, deal=deal, involvement=1.5 if at_cap else 1.2
        )
        assert got == (may and not zone and not ceasefire and not deal and not at_cap)


def test_wants_to_escalate_involvement_cap_is_strict() -> None:
    """Below the cap (even by one ulp) the actor may add force; at or above it, not."""
    assert escalate(involvement=below(1.5))
    assert not escalate(involvement=1.5)
    assert not escalate(involvement=2.0)
    assert not escalate(involvement=0.0, max_involvement=0.0)


def test_escalated_force_adds_one_step_of_the_initial_force() -> None:
    """F' = min(F + step F0, cap F0): 1 + 0.1 * 1 = 1.1 under a cap of 1.5; 2 + 0.25 * 2 = 2.5 under 3."""
    result = decisions.escalated_force(
        np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([0.1, 0.25]), np.array([1.5, 1.5])
    )
    np.testing.assert_allclose(result, [1.1, 2.5], rtol=0, atol=1e-15)


def test_escalated_force_stops_at_the_cap() -> None:
    """1.45 + 0.1 would pass the cap 1.5 * 1: capped at 1.5. An actor that starts with no force gains none."""
    result = decisions.escalated_force(
        np.array([1.45, 1.5, 0.0]), np.array([1.0, 1.0, 0.0]), np.array([0.1, 0.1, 0.1]), np.array([1.5, 1.5, 1.5])
    )
    np.testing.assert_allclose(result, [1.5, 1.5, 0.0], rtol=0, atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(initial=st.floats(0.0, 5.0), times=st.floats(0.0, 3.0), step=st.floats(0.0, 1.0), cap=st.floats(1.0, 3.0))
def test_escalated_force_never_passes_the_cap(initial: float, times: float, step: float, cap: float) -> None:
    force = min(times, cap) * initial
    result = float(
        decisions.escalated_force(np.array([force]), np.array([initial]), np.array([step]), np.array([cap]))[0]
    )
    assert result <= cap * initial + 1e-12
    assert result >= force - 1e-12
    assert result == pytest.approx(min(force + step * initial, cap * initial), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Withdrawing, the embargo, redeployment


def withdraw(
    may: bool = True, ceasefire: bool = True, present: float = 1.0, withdrawn: float = 0.0, credibility: float = 0.95
) -> bool:
    return bool(
        decisions.wants_to_withdraw(
            np.array([may]),
            np.array([ceasefire]),
            np.array([present]),
            np.array([withdrawn]),
            np.array([credibility]),
        )[0]
    )


def test_wants_to_withdraw_at_and_around_the_credibility_threshold() -> None:
    assert decisions.WITHDRAW_MIN_CREDIBILITY == 0.9
    assert withdraw(credibility=0.9)
    assert withdraw(credibility=above(0.9))
    assert withdraw(credibility=1.0)
    assert not withdraw(credibility=below(0.9))
    assert not withdraw(credibility=0.5)


def test_wants_to_withdraw_needs_every_condition() -> None:
    assert withdraw()
    assert not withdraw(may=False)
    assert not withdraw(ceasefire=False)
    assert not withdraw(present=0.0)
    assert not withdraw(withdrawn=0.3)  # already withdrawn: no second withdrawal
    assert withdraw(present=1e-6, withdrawn=0.0)


def test_withdrawal_follows_the_redeploy_lag_through_the_credibility_weight() -> None:
    """w(L) = exp(-L / tau) >= 0.9 iff L <= tau ln(1/0.9): with tau = 21 days, about 2.2 days.
    Porter's 24-hour return keeps the threat (w = 0.953); a three-day return does not (w = 0.867)."""
    tau = np.array([21.0])
    one_day = float(credibility_weight(np.array([1.0]), tau)[0])
    three_days = float(credibility_weight(np.array([3.0]), tau)[0])
    assert one_day == pytest.approx(math.exp(-1 / 21))
    assert withdraw(credibility=one_day)
    assert not withdraw(credibility=three_days)
    limit = 21.0 * math.log(1 / 0.9)
    assert withdraw(credibility=float(credibility_weight(np.array([limit * (1 - 1e-9)]), tau)[0]))
    assert not withdraw(credibility=float(credibility_weight(np.array([limit * (1 + 1e-9)]), tau)[0]))


def test_enforces_embargo_truth_table() -> None:
    for may, ceasefire, deal in itertools.product([False, True], repeat=3):
        got = bool(decisions.enforces_embargo(np.array([may]), np.array([ceasefire]), np.array([deal]))[0])
        assert got == (may and (ceasefire or deal)), (may, ceasefire, deal)


def test_enforces_embargo_broadcasts_run_flags_over_actors() -> None:
    """As the engine calls it: options (N, A), ceasefire and deal (N, 1)."""
    may = np.array([[True, False], [True, True]])
    result = decisions.enforces_embargo(may, np.array([[True], [False]]), np.array([[False], [False]]))
    np.testing.assert_array_equal(result, [[True, False], [False, False]])


def test_redeploy_steps_rounds_up_to_whole_steps() -> None:
    """ceil(days / step): with weekly steps 0 days -> 0, 1 -> 1, 7 -> 1, 8 -> 2, 14 -> 2, 15 -> 3."""
    days = np.array([0.0, 1.0, 6.999, 7.0, 7.001, 8.0, 14.0, 15.0])
    result = decisions.redeploy_steps(days, 7)
    np.testing.assert_array_equal(result, [0, 1, 1, 1, 2, 2, 2, 3])
    assert result.dtype == np.int64


def test_redeploy_steps_with_daily_steps() -> None:
    """With one-day steps a day is one step and a part of a day is a whole step."""
    result = decisions.redeploy_steps(np.array([0.0, 0.5, 1.0, 1.5, 30.0]), 1)
    np.testing.assert_array_equal(result, [0, 1, 1, 2, 30])


def test_redeploy_steps_accepts_lists_and_keeps_the_shape() -> None:
    result = decisions.redeploy_steps([[1, 7], [8, 0]], 7)
    np.testing.assert_array_equal(result, [[1, 1], [2, 0]])


@settings(max_examples=200, deadline=None)
@given(days=st.floats(0.0, 400.0, allow_subnormal=False), step_days=st.sampled_from([1, 7]))
def test_redeploy_steps_is_the_smallest_number_of_steps_covering_the_lag(days: float, step_days: int) -> None:
    steps = int(decisions.redeploy_steps(np.array([days]), step_days)[0])
    assert steps * step_days >= days
    assert (steps - 1) * step_days < days or steps == 0


def test_softening_never_raises_a_demand_already_below_its_floor() -> None:
    """A sweep or an ensemble can set `demand` under `min_demand` (the loader refuses it only in a file):
    softening then leaves the demand where it is instead of lifting it to the floor."""
    demand = np.array([[-0.005, 0.3, -0.2]])
    floor = np.array([[0.0, 0.0, -0.1]])
    softened = decisions.softened_demand(demand, floor, np.full((1, 3), 0.05), np.ones((1, 3), dtype=bool))
    assert softened.tolist() == [[-0.005, 0.25, -0.2]]
