"""Self-enforcement of agreements (`sim/mechanisms/agreements.py`) and its wiring into the engine.

The module's formulas, checked as closed forms:

    keep_i = u_i(terms) - e c_i
    g_i    = max(0, d^s_i - k_i - keep_i)
    q_i    = (1 - rho_i) (1 - exp(-s_i a_i g_i))
    P      = 1 - prod_i (1 - q_i); the draw u breaks the agreement iff u < P, and the party whose
             slice of [0, P) (in proportion to q_i, in actor order) holds u broke it
    rho_i  = r_p if i's patron p restrains this step, else 0
    f      = 1 at war, f_0 + (1 - f_0) e under a ceasefire

The engine tests use one small scenario (one issue, a noiseless battlefield whose two sides are equally
strong, so control never moves): the regime and the rebels must both sign; the rebels pay for the war
(war_cost 0.02), the regime does not, so the offer leans to the regime. The hardliners, an opposition
group with no forces that no deal needs, would do better by fighting on than under those terms: they
are the spoiler. A neutral sponsor that likes any compromise can be made their patron.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.api import load_scenario, run_scenario
from sim.mechanisms import agreements
from sim.model import engine
from sim.model.results import RunResult
from sim.scenario.loader import scenario_from_mapping
from sim.scenario.params import Params, params_from_scenario
from tests.strategies import dump
from tests.test_engine_events import actor, document

Doc = dict[str, Any]

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
value = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False)
positive = st.floats(min_value=1e-3, max_value=100.0, allow_nan=False)
probability = st.floats(min_value=0.0, max_value=0.999, allow_nan=False)


def one(x: float) -> np.ndarray:
    """A scalar as a (1, 1) array: one run, one actor."""
    return np.array([[x]])


def q_of(gain: float, capability: float, sensitivity: float, held_back: float = 0.0) -> float:
    return float(agreements.defection_probability(one(gain), one(capability), one(sensitivity), held_back)[0, 0])


# ---------------------------------------------------------------------------------------------
# keep_value, breaking_gain, defection_probability


def test_keep_value_subtracts_each_runs_excluded_share_of_the_fighting_cost() -> None:
    terms = np.array([[0.6, 0.4, 0.9], [0.6, 0.4, 0.9]])
    cost = np.array([[0.2, 0.1, 0.0], [0.2, 0.1, 0.0]])
    expected = np.array([[0.6, 0.4, 0.9], [0.5, 0.35, 0.9]])
    for excluded in (np.array([0.0, 0.5]), np.array([[0.0], [0.5]])):
        np.testing.assert_allclose(agreements.keep_value(terms, excluded, cost), expected, rtol=0, atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(terms=unit, excluded=unit, cost=st.floats(min_value=0.0, max_value=20.0, allow_nan=False))
def test_keep_value_is_the_terms_less_e_times_c(terms: float, excluded: float, cost: float) -> None:
    kept = agreements.keep_value(one(terms), np.array([excluded]), one(cost))
    assert kept[0, 0] == pytest.approx(terms - excluded * cost, abs=1e-12)


def test_breaking_gain_subtracts_the_defection_cost_and_floors_at_zero() -> None:
    breaking = np.array([[0.5, 0.5, 0.5, 0.2]])
    keep = np.array([[0.3, 0.3, 0.3, 0.3]])
    cost = np.array([[0.0, 0.15, 0.25, 0.0]])
    np.testing.assert_allclose(agreements.breaking_gain(breaking, keep, cost), [[0.2, 0.05, 0.0, 0.0]], atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(breaking=value, keep=value, cost=unit)
def test_breaking_gain_is_max_of_zero_and_break_less_cost_less_keep(breaking: float, keep: float, cost: float) -> None:
    gain = agreements.breaking_gain(one(breaking), one(keep), one(cost))[0, 0]
    assert gain >= 0.0
    assert gain == pytest.approx(max(0.0, breaking - cost - keep), abs=1e-12)
    if breaking - cost - keep > 1e-9:
        # A higher defection cost lowers a positive gain one for one.
        lower = agreements.breaking_gain(one(breaking), one(keep), one(cost + 1e-9))[0, 0]
        assert lower == pytest.approx(gain - 1e-9, abs=1e-12)


def test_defection_probability_closed_form_on_hand_values() -> None:
    # s a g = 5 * 2 * 0.1 = 1.
    assert q_of(0.1, 2.0, 5.0) == pytest.approx(1.0 - math.exp(-1.0), rel=1e-14)
    assert q_of(0.1, 2.0, 5.0, 0.25) == pytest.approx(0.75 * (1.0 - math.exp(-1.0)), rel=1e-14)
    # Per actor and per run, elementwise.
    gain = np.array([[0.0, 0.2], [0.05, 0.2]])
    capability = np.array([[1.0, 3.0], [2.0, 1.0]])
    sensitivity = np.array([[4.0, 0.5], [10.0, 2.5]])
    held_back = np.array([[0.0, 0.5], [0.9, 0.0]])
    expected = (1.0 - held_back) * (1.0 - np.exp(-sensitivity * capability * gain))
    got = agreements.defection_probability(gain, capability, sensitivity, held_back)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)


@settings(max_examples=200, deadline=None)
@given(
    gain=st.floats(min_value=0.0, max_value=2.0, allow_nan=False),
    capability=positive,
    sensitivity=st.floats(min_value=0.0, max_value=1000.0, allow_nan=False),
    held_back=unit,
)
def test_defection_probability_matches_the_formula(
    gain: float, capability: float, sensitivity: float, held_back: float
) -> None:
    q = q_of(gain, capability, sensitivity, held_back)
    assert 0.0 <= q <= 1.0
    assert q == pytest.approx((1.0 - held_back) * -math.expm1(-sensitivity * capability * gain), rel=1e-12, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(capability=positive, sensitivity=st.floats(min_value=0.0, max_value=1000.0), held_back=unit)
def test_no_gain_means_no_defection(capability: float, sensitivity: float, held_back: float) -> None:
    assert q_of(0.0, capability, sensitivity, held_back) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    low=st.floats(min_value=0.0, max_value=1.0),
    step=st.floats(min_value=1e-4, max_value=1.0),
    capability=st.floats(min_value=0.05, max_value=10.0),
    sensitivity=st.floats(min_value=0.05, max_value=10.0),
    held_back=st.floats(min_value=0.0, max_value=0.95),
)
def test_defection_probability_rises_strictly_with_the_gap(
    low: float, step: float, capability: float, sensitivity: float, held_back: float
) -> None:
    high = low + step
    assume(sensitivity * capability * high <= 30.0)  # beyond it both round to 1 - rho
    assert q_of(high, capability, sensitivity, held_back) > q_of(low, capability, sensitivity, held_back)


@settings(max_examples=200, deadline=None)
@given(
    gain=st.floats(min_value=1e-3, max_value=1.0),
    low=st.floats(min_value=0.05, max_value=10.0),
    factor=st.floats(min_value=1.01, max_value=5.0),
    sensitivity=st.floats(min_value=0.05, max_value=10.0),
    held_back=st.floats(min_value=0.0, max_value=0.95),
)
def test_defection_probability_rises_strictly_with_capability(
    gain: float, low: float, factor: float, sensitivity: float, held_back: float
) -> None:
    high = low * factor
    assume(sensitivity * high * gain <= 30.0)
    assert q_of(gain, high, sensitivity, held_back) > q_of(gain, low, sensitivity, held_back)


@settings(max_examples=200, deadline=None)
@given(gain=st.floats(min_value=0.0, max_value=2.0), capability=positive, sensitivity=positive, rho=unit)
def test_restraint_scales_the_defection_probability_by_one_minus_rho(
    gain: float, capability: float, sensitivity: float, rho: float
) -> None:
    free = q_of(gain, capability, sensitivity, 0.0)
    assert q_of(gain, capability, sensitivity, rho) == pytest.approx((1.0 - rho) * free, rel=1e-13, abs=1e-300)


# ---------------------------------------------------------------------------------------------
# breaker: one draw decides whether the agreement falls and who broke it


def falls_probability(q: np.ndarray) -> float:
    return 1.0 - float(np.prod(1.0 - q))


def test_breaker_slices_on_a_three_party_example() -> None:
    """q = (0.1, 0, 0.3): P = 1 - 0.9 * 0.7 = 0.37; party 0 holds [0, P/4), party 2 [P/4, P)."""
    q = np.array([0.1, 0.0, 0.3])
    p = 0.37
    cut = p * 0.1 / 0.4
    draws = np.array([0.0, 0.5 * cut, cut - 1e-9, cut + 1e-9, 0.2, p - 1e-9, p + 1e-9, 0.5, 0.999999])
    expected = [0, 0, 0, 2, 2, 2, -1, -1, -1]
    got = agreements.breaker(draws, np.tile(q, (len(draws), 1)))
    assert got.tolist() == expected
    assert got.dtype == np.int64


def test_breaker_returns_minus_one_when_the_draw_is_at_or_above_p() -> None:
    q = np.array([[0.2, 0.5]])
    p = -math.expm1(math.log1p(-0.2) + math.log1p(-0.5))  # 0.6, as the module computes it
    assert agreements.breaker(np.array([p]), q).tolist() == [-1]
    assert agreements.breaker(np.array([np.nextafter(p, 0.0)]), q).tolist() == [1]
    # Nobody with anything to gain: the agreement holds whatever the draw.
    assert agreements.breaker(np.array([0.0]), np.zeros((1, 3))).tolist() == [-1]


def test_breaker_reads_each_run_with_its_own_draw_and_probabilities() -> None:
    q = np.array([[0.5, 0.0], [0.0, 0.5], [0.0, 0.0]])
    assert agreements.breaker(np.array([0.1, 0.1, 0.1]), q).tolist() == [0, 1, -1]


probabilities = st.lists(probability, min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(q=probabilities)
def test_breaker_falls_in_a_share_p_of_a_grid_of_draws_and_each_party_in_its_slice(q: list[float]) -> None:
    """Over M evenly spaced draws the agreement falls in P M of them (up to one) and party i is the
    breaker in P M q_i / sum q of them (up to one: its slice is an interval)."""
    q_array = np.array(q)
    m = 2000
    draws = (np.arange(m) + 0.5) / m
    who = agreements.breaker(draws, np.tile(q_array, (m, 1)))
    p = falls_probability(q_array)
    assert abs(np.sum(who >= 0) - p * m) <= 1.0
    assert set(np.unique(who).tolist()) <= {-1, *range(len(q))}
    total = q_array.sum()
    for i, q_i in enumerate(q):
        share = p * q_i / total if total > 0 else 0.0
        assert abs(np.sum(who == i) - share * m) <= 1.0
    # The slices are in actor order: a later party never holds a draw below an earlier one's.
    breakers = who[who >= 0]
    assert np.all(np.diff(breakers) >= 0)


@settings(max_examples=200, deadline=None)
@given(
    q=st.lists(st.one_of(st.just(0.0), probability), min_size=2, max_size=6),
    draws=st.lists(st.floats(min_value=0.0, max_value=1.0, exclude_max=True), min_size=1, max_size=40),
)
def test_a_party_with_q_zero_never_breaks(q: list[float], draws: list[float]) -> None:
    q_array = np.array(q)
    assume(np.any(q_array == 0.0))
    who = agreements.breaker(np.array(draws), np.tile(q_array, (len(draws), 1)))
    assert np.all(who < len(q))
    for breaker in who[who >= 0]:
        assert q_array[breaker] > 0.0


def test_a_draw_just_below_p_goes_to_the_last_party_that_can_break_it() -> None:
    """The cumulative shares can sum to a hair under 1 (here 0.4851684480190843 against P = 0.4851684480190844):
    a draw in that gap is still under P, so the agreement falls, and it must go to a party that can break it,
    not to party 0 by default (its q is 0)."""
    q = np.array([[0.0, 0.20099411116835508, 0.2834643703141567, 0.018991862886242192, 0.08334739955872669]])
    p = -np.expm1(np.sum(np.log1p(-q), axis=-1))
    draw = np.nextafter(p, 0.0)
    who = agreements.breaker(draw, q)
    assert who[0] == 4  # the last party with a positive q holds the top of [0, P)


@settings(max_examples=200, deadline=None)
@given(q=st.lists(st.one_of(st.just(0.0), probability), min_size=2, max_size=6), below=st.integers(1, 4))
def test_the_draws_at_the_top_of_the_falling_range_go_to_a_party_that_can_break(q: list[float], below: int) -> None:
    q_array = np.array([q])
    p = -np.expm1(np.sum(np.log1p(-np.minimum(q_array, 1.0 - 1e-15)), axis=-1))
    assume(p[0] > 0.0)
    draw = p
    for _ in range(below):
        draw = np.nextafter(draw, 0.0)
    who = agreements.breaker(draw, q_array)
    assert who[0] >= 0
    assert q[who[0]] > 0.0


# ---------------------------------------------------------------------------------------------
# restraint and fighting_intensity


def test_restraint_is_the_patrons_strength_when_it_restrains_else_zero() -> None:
    # Actor 0 has no patron; 1 and 3 are clients of 0; 2 is a client of 3.
    patron = np.array([-1, 0, 3, 0])
    restrains = np.array([[True, False, False, False], [False, False, False, True]])
    strength = np.array([[0.8, 0.5, 0.3, 0.6], [0.7, 0.5, 0.3, 0.6]])
    held_back = agreements.restraint(patron, restrains, strength)
    np.testing.assert_array_equal(held_back, [[0.0, 0.8, 0.0, 0.8], [0.0, 0.0, 0.6, 0.0]])


def test_restraint_of_a_patron_with_no_strength_is_zero() -> None:
    held_back = agreements.restraint(np.array([1, -1]), np.array([[False, True]]), np.array([[0.9, 0.0]]))
    np.testing.assert_array_equal(held_back, [[0.0, 0.0]])


def test_fighting_intensity_on_hand_values() -> None:
    in_force = np.array([False, False, True, True, True, True, True])
    f0 = np.array([0.1, 0.3, 0.1, 0.3, 0.0, 0.2, 0.2])
    excluded = np.array([0.5, 0.0, 0.0, 0.5, 1.0, 0.5, 0.0])
    pressure = np.array([0.9, 0.0, 0.0, 0.0, 0.0, 0.2, 1.0])
    got = agreements.fighting_intensity(in_force, f0, excluded, pressure)
    # 0.2 + 0.8 (0.5 + 0.5 * 0.2) = 0.68; a ceasefire certain to fall is fought in full.
    np.testing.assert_allclose(got, [1.0, 1.0, 0.1, 0.65, 1.0, 0.68, 1.0], rtol=0, atol=1e-15)


def test_fighting_intensity_reads_each_runs_own_column_shapes() -> None:
    """The battlefield's values come as (N, 1) columns or (N,) vectors; both give the same (N,) result."""
    in_force = np.array([True, True])
    flat = agreements.fighting_intensity(in_force, np.array([0.1, 0.2]), np.array([0.0, 0.5]), np.array([0.5, 0.0]))
    column = agreements.fighting_intensity(
        in_force, np.array([[0.1], [0.2]]), np.array([[0.0], [0.5]]), np.array([0.5, 0.0])
    )
    np.testing.assert_allclose(flat, [0.55, 0.6], atol=1e-15)
    np.testing.assert_array_equal(flat, column)


@settings(max_examples=200, deadline=None)
@given(f0=unit, low=unit, high=unit, pressure=unit)
def test_fighting_intensity_is_one_at_war_and_rises_with_the_excluded_share(
    f0: float, low: float, high: float, pressure: float
) -> None:
    low, high = min(low, high), max(low, high)
    f = agreements.fighting_intensity(
        np.array([False, True, True]), np.full(3, f0), np.array([low, low, high]), np.full(3, pressure)
    )
    assert f[0] == 1.0
    assert f[1] == pytest.approx(f0 + (1.0 - f0) * (low + (1.0 - low) * pressure), abs=1e-14)
    assert f0 - 1e-15 <= f[1] <= f[2] <= 1.0 + 1e-15
    if (1.0 - f0) * (high - low) * (1.0 - pressure) > 1e-12:  # a difference that survives rounding
        assert f[2] > f[1]


@settings(max_examples=200, deadline=None)
@given(f0=unit, excluded=unit, low=unit, high=unit)
def test_violations_raise_the_fighting_from_the_ceasefires_floor_to_full_war(
    f0: float, excluded: float, low: float, high: float
) -> None:
    """No pressure gives the old floor f_0 + (1 - f_0) e; more pressure never lowers the fighting; a
    ceasefire certain to fall (P = 1) is fought as a war."""
    low, high = min(low, high), max(low, high)
    pressure = np.array([0.0, low, high, 1.0])
    f = agreements.fighting_intensity(np.full(4, True), np.full(4, f0), np.full(4, excluded), pressure)
    assert f[0] == pytest.approx(f0 + (1.0 - f0) * excluded, abs=1e-15)
    assert f[0] - 1e-15 <= f[1] <= f[2] + 1e-15 <= f[3] + 2e-15
    assert f[3] == pytest.approx(1.0, abs=1e-15)
    if (1.0 - f0) * (1.0 - excluded) * (high - low) > 1e-12:
        assert f[2] > f[1]


# ---------------------------------------------------------------------------------------------
# The engine: a small scenario with a spoiler


def spoiler_scenario(
    *, steps: int = 30, excluded: float = 0.0, ceasefire: bool = True, sponsor: Doc | None = None, **hardliners: Any
) -> Doc:
    """Regime and rebels must sign; the hardliners (no forces, spoil option) gain by breaking the terms."""
    actors = {
        "regime": actor("government", consent_required=True, forces={"ground": 1.0}),
        "rebels": actor("opposition", consent_required=True, forces={"ground": 1.0}, war_cost=0.02),
        "hardliners": actor(
            "opposition", **{"war_cost": 0.005, "spoil_sensitivity": 5.0, "options": {"spoil": True}, **hardliners}
        ),
    }
    if sponsor is not None:
        actors["sponsor"] = actor("neutral", **sponsor)
    return document(actors, {}, steps=steps, ceasefire=ceasefire, excluded_fighting=excluded)


@dataclass
class Step:
    seen: engine.Assessment
    intents: dict[str, np.ndarray]
    outcome: dict[str, np.ndarray]
    ceasefire_before: bool  # in force when the actors decided (after the step's events)
    conceded_after: np.ndarray


def engine_steps(doc: Doc, draws: list[float] | None = None) -> tuple[Params, list[Step]]:
    """Drive the engine step by step; `draws` are the uniforms that decide collapses (1.0, none, by default)."""
    params = params_from_scenario(scenario_from_mapping(doc))
    state = engine.initial_state(params)
    steps = []
    for t in range(params.steps):
        uniform = 1.0 if draws is None else draws[t]
        seen, _ = engine.observe(params, state, t, np.array([[0.0, uniform]]))
        in_force = bool(state.ceasefire[0])
        intents = engine.decide(params, state, seen)
        outcome = engine.apply_decisions(params, state, seen, intents, np.array([uniform]), t)
        settlement = params.agreements.settlement
        steps.append(Step(seen, intents, outcome, in_force, state.conceded[0, settlement].copy()))
    return params, steps


def run_document(tmp_path: Path, doc: Doc, seed: int = 0) -> RunResult:
    path = tmp_path / f"scenario_{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(dump(doc), encoding="utf-8")
    return run_scenario(load_scenario(path), seed=seed)


def spoiler_q(params: Params, step: Step, actor_id: str, defection_cost: float = 0.0) -> float:
    """q_i written out from what the engine saw: 1 - exp(-s a max(0, d^s - k - (u - e c)))."""
    i = params.actor_ids.index(actor_id)
    seen = step.seen
    e = float(params.battle("excluded_fighting")[0])
    keep = seen.utility_of_offer[0, i] - e * seen.fighting_cost[0, i]
    gain = max(0.0, seen.spoil_alternative[0, i] - defection_cost - keep)
    s = float(params.actor("spoil_sensitivity")[0, i])
    a = float(params.actor("capability")[0, i])
    return -math.expm1(-s * a * gain)


def test_the_scenarios_spoiler_gains_by_breaking_and_nobody_else_does() -> None:
    params, steps = engine_steps(spoiler_scenario(steps=3))
    hardliners = params.actor_ids.index("hardliners")
    seen = steps[0].seen
    gap = seen.spoil_alternative[0, hardliners] - seen.utility_of_offer[0, hardliners]
    assert 0.02 < gap < 0.1
    spoil = steps[0].intents["spoil_probability"][0]
    assert spoil[hardliners] > 0.0
    assert np.all(np.delete(spoil, hardliners) == 0.0)


def test_excluded_fighting_raises_the_collapse_probability_and_the_intensity_in_the_engine() -> None:
    """Same scenario, e = 0 and e = 0.5, no collapse drawn: every step, P and f are higher with e = 0.5,
    and each is its closed form: P_t = q of the only spoiler; f_t = 0.1 + 0.9 (e + (1 - e) P_{t-1}), the
    violations of step t being the pressure of the step before (none at the first step)."""
    runs = {e: engine_steps(spoiler_scenario(steps=20, excluded=e)) for e in (0.0, 0.5)}
    for e, (params, steps) in runs.items():
        before = 0.0
        for step in steps:
            assert step.ceasefire_before
            assert float(step.seen.intensity[0]) == pytest.approx(0.1 + 0.9 * (e + (1.0 - e) * before), abs=1e-15)
            p = float(step.outcome["collapse_probability"][0])
            assert p == pytest.approx(spoiler_q(params, step, "hardliners"), rel=1e-12)
            assert p > 0.0
            before = p
    for without, with_excluded in zip(runs[0.0][1], runs[0.5][1], strict=True):
        assert with_excluded.outcome["collapse_probability"][0] > without.outcome["collapse_probability"][0]
        assert with_excluded.seen.intensity[0] > without.seen.intensity[0]


def test_excluded_fighting_raises_the_collapse_probability_and_intensity_in_the_timeseries(tmp_path: Path) -> None:
    """Through `run_scenario`: compared on the steps whose ceasefire was in force in both runs."""
    series = {}
    for e in (0.0, 0.5):
        result = run_document(tmp_path, spoiler_scenario(steps=20, excluded=e, spoil_sensitivity=1.0), seed=3)
        table = result.timeseries.drop_duplicates("step").set_index("step")
        series[e] = table
    held = np.ones(len(series[0.0]), dtype=bool)
    for table in series.values():
        # In force at step t: from the start (t = 0), or still in force at the end of step t - 1.
        held &= np.concatenate([[True], table["ceasefire"].to_numpy()[:-1]])
    assert held.sum() >= 3
    low, high = series[0.0][held], series[0.5][held]
    assert np.all(high["collapse_probability"].to_numpy() > low["collapse_probability"].to_numpy())
    assert np.all(low["collapse_probability"].to_numpy() > 0.0)
    # The violations of each step held from the step before are that step's collapse probability.
    for e, table in ((0.0, low), (0.5, high)):
        pressure = series[e]["collapse_probability"].shift(1, fill_value=0.0)[held]
        np.testing.assert_allclose(table["intensity"], 0.1 + 0.9 * (e + (1.0 - e) * pressure), atol=1e-15)


def test_a_patron_that_keeps_the_agreement_holds_its_client_back_by_its_share(tmp_path: Path) -> None:
    """The hardliners' patron (a sponsor whose own gain is 0) restrains with 0.8: the step's collapse
    probability is exactly (1 - 0.8) times the hardliners' own, the only party with a gain."""
    sponsor = {"position": {"x": 0.5}}
    collapse = {}
    for share in (0.0, 0.8):
        doc = spoiler_scenario(steps=6, sponsor={**sponsor, "restrains_clients": share}, patron="sponsor")
        params, steps = engine_steps(doc)
        i = params.actor_ids.index("sponsor")
        for step in steps:
            assert bool(step.intents["restrain"][0, i]) == (share > 0.0)
            spoil = step.intents["spoil_probability"][0]
            assert np.count_nonzero(spoil) == 1
            assert spoil[params.actor_ids.index("hardliners")] == pytest.approx(spoiler_q(params, step, "hardliners"))
        collapse[share] = np.array([step.outcome["collapse_probability"][0] for step in steps])
    assert np.all(collapse[0.0] > 0.0)
    np.testing.assert_allclose(collapse[0.8], (1.0 - 0.8) * collapse[0.0], rtol=1e-12)
    # The same through a single run's timeseries, and the sponsor is recorded as restraining.
    result = run_document(
        tmp_path, spoiler_scenario(steps=2, sponsor={**sponsor, "restrains_clients": 0.8}, patron="sponsor")
    )
    first = result.timeseries[result.timeseries["step"] == 0].set_index("actor")
    assert first.loc["sponsor", "restrains"]
    assert first.loc["hardliners", "collapse_probability"] == pytest.approx(0.2 * collapse[0.0][0], rel=1e-12)


def test_only_a_restraining_patron_holds_back_its_own_clients() -> None:
    """No patron, a patron with no restraint, and a patron that itself gains by breaking (it wants the
    opposition's victory and pays nothing for the war) leave the client's probability as it is."""
    baseline = engine_steps(spoiler_scenario(steps=2))[1][0].outcome["collapse_probability"][0]
    variants = {  # label: (scenario, whether the sponsor restrains its clients, if it has any)
        "restraint 0": (spoiler_scenario(steps=2, sponsor={"position": {"x": 0.5}}, patron="sponsor"), False),
        "not the patron": (
            spoiler_scenario(steps=2, sponsor={"position": {"x": 0.5}, "restrains_clients": 0.8}),
            True,
        ),
        "a patron that gains": (
            spoiler_scenario(steps=2, sponsor={"position": {"x": 1.0}, "restrains_clients": 0.8}, patron="sponsor"),
            False,
        ),
    }
    for label, (doc, restrains) in variants.items():
        params, steps = engine_steps(doc)
        assert bool(steps[0].intents["restrain"][0, params.actor_ids.index("sponsor")]) == restrains, label
        assert steps[0].outcome["collapse_probability"][0] == pytest.approx(baseline, rel=1e-12), label


def test_a_collapse_restarts_the_bargaining_and_a_new_settlement_follows(tmp_path: Path) -> None:
    """No ceasefire at first. The regime and the rebels settle; the hardliners, now bound and all but certain
    to break it (s a = 10000), break it the next step; the war and the talks start again from the ideal
    points, and the same settlement is signed as many steps after the collapse as the first took; the
    hardliners are co-opted (lose their spoil option) at step 25, so the second one holds."""
    doc = spoiler_scenario(steps=50, ceasefire=False, spoil_sensitivity=1000.0, capability=10.0)
    doc["events"] = {"coopted": {"at": 25, "actor": "hardliners", "action": "disable_option", "option": "spoil"}}
    result = run_document(tmp_path, doc, seed=11)
    settlement = result.summary["agreements"]["settlement"]
    first = settlement["step"]
    assert settlement["reached"] and first is not None and first > 0
    assert settlement["collapsed_step"] == first + 1
    assert settlement["broken_by"] == "hardliners"
    assert settlement["held"] is True
    assert result.summary["agreements"]["ceasefire"]["broken_by"] == "hardliners"
    deal = result.summary["deal"]
    assert deal["reached"] and deal["step"] > first
    # Aspirations start again from 1 after the collapse: the second settlement takes as long as the first.
    assert deal["step"] == settlement["collapsed_step"] + 1 + first
    assert deal["position"] == pytest.approx(settlement["terms"], abs=1e-9)

    table = result.timeseries
    # Nobody is bound before the first settlement (there is no ceasefire): no collapse risk at war.
    assert (table.loc[table["step"] <= first, "collapse_probability"] == 0.0).all()
    at_collapse = table[table["step"] == first + 1]
    assert (at_collapse["aspiration"] == 1.0).all()
    assert (at_collapse["broken_by"] == "hardliners").all()
    assert not at_collapse["deal"].any() and not at_collapse["ceasefire"].any()
    before = table[table["step"] == first]
    assert (before["aspiration"] < 1.0).all() and before["deal"].all()


def test_a_collapse_resets_every_concession_in_the_engine_state() -> None:
    """The same story step by step, with the collapse drawn on one chosen step only."""
    doc = spoiler_scenario(steps=40, ceasefire=False)
    params, calm = engine_steps(doc)
    signed = next(t for t, step in enumerate(calm) if step.outcome["new_deal"][0])
    draws = [1.0] * 40
    draws[signed + 3] = 0.0
    params, steps = engine_steps(doc, draws)
    broken = signed + 3
    assert steps[broken].outcome["collapses"][0]
    assert params.actor_ids[int(steps[broken].outcome["broken_by"][0])] == "hardliners"
    assert np.all(steps[broken - 1].conceded_after > 0.0)
    np.testing.assert_array_equal(steps[broken].conceded_after, 0.0)
    # Talks run again from the next step, and sign again after as many steps as the first time.
    assert np.all(steps[broken + 1].conceded_after > 0.0)
    again = next(t for t in range(broken + 1, 40) if steps[t].outcome["new_deal"][0])
    assert again - (broken + 1) == signed


def test_the_collapse_of_a_ceasefire_without_a_settlement_does_not_restart_the_concessions() -> None:
    """Aspirations start again only when a settlement falls: a bare ceasefire broken at step 3 leaves the
    parties conceding where they were, at war (f = 1) from then on."""
    draws = [1.0] * 8
    draws[3] = 0.0
    _, steps = engine_steps(spoiler_scenario(steps=8), draws)
    assert [bool(step.outcome["collapses"][0]) for step in steps] == [False] * 3 + [True] + [False] * 4
    assert not any(step.outcome["new_deal"][0] for step in steps)
    conceded = np.array([step.conceded_after for step in steps])
    assert np.all(np.diff(conceded, axis=0) > 0.0)
    pressure = [0.0] + [float(step.outcome["collapse_probability"][0]) for step in steps[:3]]
    assert [float(step.seen.intensity[0]) for step in steps[:4]] == pytest.approx(
        [0.1 + 0.9 * p for p in pressure], abs=1e-15
    )
    assert [float(step.seen.intensity[0]) for step in steps[4:]] == [1.0] * 4


def test_a_settlement_signed_under_a_ceasefire_is_not_broken_on_its_own_step() -> None:
    """The decisions of a step are a settlement or else a collapse: a draw that would break the ceasefire on
    the step the settlement is signed does not; the settlement can fall from the next step on."""
    doc = spoiler_scenario(steps=30)
    _, calm = engine_steps(doc)
    signed = next(t for t, step in enumerate(calm) if step.outcome["new_deal"][0])
    assert calm[signed].outcome["collapse_probability"][0] > 0.0
    draws = [1.0] * 30
    draws[signed] = 0.0
    _, steps = engine_steps(doc, draws)
    assert steps[signed].outcome["new_deal"][0]
    assert not steps[signed].outcome["collapses"][0]
    assert int(steps[signed].outcome["broken_by"][0]) == -1
    draws[signed + 1] = 0.0
    _, steps = engine_steps(doc, draws)
    assert steps[signed + 1].outcome["collapses"][0]


def test_a_large_enough_defection_cost_keeps_a_party_from_ever_breaking(tmp_path: Path) -> None:
    """k above the gain: q = 0 every step, with or without excluded fighting; k below it: q is the closed
    form with the gain less k."""
    for excluded in (0.0, 0.5):
        params, steps = engine_steps(spoiler_scenario(steps=30, excluded=excluded, defection_cost=0.2))
        assert all(step.outcome["collapse_probability"][0] == 0.0 for step in steps)
        result = run_document(tmp_path, spoiler_scenario(steps=30, excluded=excluded, defection_cost=0.2), seed=5)
        assert (result.timeseries["collapse_probability"] == 0.0).all()
        assert result.summary["agreements"]["ceasefire"]["collapsed_step"] is None
        assert result.summary["agreements"]["ceasefire"]["held"] is True

    params, free = engine_steps(spoiler_scenario(steps=2))
    params, costly = engine_steps(spoiler_scenario(steps=2, defection_cost=0.03))
    p_free, p_costly = free[0].outcome["collapse_probability"][0], costly[0].outcome["collapse_probability"][0]
    assert 0.0 < p_costly < p_free
    assert p_costly == pytest.approx(spoiler_q(params, costly[0], "hardliners", defection_cost=0.03), rel=1e-12)


def test_air_withdrawn_on_the_step_the_ceasefire_collapses_starts_back_at_once() -> None:
    """The sponsor decides to withdraw under the ceasefire on the very step the hardliners break it: its aircraft
    leave with the war restarted, and their return starts then (before, they stayed away for good)."""
    sponsor = {"forces": {"air": 1.0}, "redeploy_days": 1.0, "options": {"withdraw": True}}
    doc = spoiler_scenario(steps=6, sponsor=sponsor)
    draws = [0.0] + [1.0] * 5  # the ceasefire falls at step 0
    params = params_from_scenario(scenario_from_mapping(doc))
    state = engine.initial_state(params)
    sponsor_column = params.actor_ids.index("sponsor")
    present, returning = [], []
    for t in range(params.steps):
        seen, _ = engine.observe(params, state, t, np.array([[0.0, draws[t]]]))
        intents = engine.decide(params, state, seen)
        if t == 0:
            assert intents["withdraw"][0, sponsor_column] and intents["spoil_probability"][0].max() > 0.0
        outcome = engine.apply_decisions(params, state, seen, intents, np.array([draws[t]]), t)
        if t == 0:
            assert outcome["collapses"][0]
        present.append(float(state.air_present[0, sponsor_column]))
        returning.append(int(state.return_in[0, sponsor_column]))
    # 1 day: 1 weekly step, counted from the end of step 0; back for the battlefield of step 2.
    assert returning == [1, 0, -1, -1, -1, -1]
    assert present == pytest.approx([0.3, 0.3, 1.0, 1.0, 1.0, 1.0])  # 70% withdrawn (the default fraction)
    assert state.breach_pressure[0] == 0.0


def test_a_ceasefire_restarted_by_event_on_the_step_of_a_scripted_collapse_carries_no_old_pressure() -> None:
    """The hardliners are tempted all along (P > 0 each step); at step 3 an event breaks the ceasefire and
    another starts a new one: step 3 is fought at the new ceasefire's floor, not with the old one's
    violations, and the pressure builds again from the new ceasefire's own decisions."""
    doc = spoiler_scenario(steps=6)
    doc["events"] = {
        "break": {"at": 3, "actor": "hardliners", "action": "spoil"},
        "truce_again": {"at": 3, "action": "start_ceasefire"},
    }
    _, steps = engine_steps(doc)
    pressure = [float(step.outcome["collapse_probability"][0]) for step in steps]
    intensity = [float(step.seen.intensity[0]) for step in steps]
    assert all(p > 0.0 for p in pressure)
    assert intensity[2] == pytest.approx(0.1 + 0.9 * pressure[1], abs=1e-15) and intensity[2] > 0.1
    assert intensity[3] == 0.1
    assert intensity[4] == pytest.approx(0.1 + 0.9 * pressure[3], abs=1e-15)
