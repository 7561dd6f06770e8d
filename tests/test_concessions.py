"""The timing of agreement (`sim/mechanisms/concessions.py`) and its wiring into the engine.

The module's formulas, checked as closed forms:

    rate_i    = rho_i(t) + c_i g_i f_t,  rho_i(t) = -ln(delta_i) + sigma_i t
    a_i       = max(0, 1 - C_i)
    threshold = max(r_i, a_i)            (= max(r_i, 1 - C_i) while C_i <= 1)
    C_i(t+1)  = C_i(t) + rate_i where talks are open and no settlement is in force, else C_i(t);
                0 where a settlement fell this step

In the engine a settlement is signed at the first step t >= talks_start at which a zone of agreement
exists and every required party i accepts: u_i(offer) >= max(r_i(t), a_i), with a_i the aspiration it
carries into step t. The timeseries records, like `demand`, the state at the end of each step: the
`aspiration` of row t is the one carried into step t + 1, while `accepts`, `reservation` and
`utility_of_offer` are those of step t. So the acceptance of row t is read against the aspiration of
row t - 1 (1, the ideal point, before the first step).

The engine tests use one issue and a noiseless battlefield whose two sides are equally strong unless
a test says otherwise, so that the offer and the reservation values stay put while the aspirations
fall, and the time to agreement has a closed form.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.api import load_scenario, run_scenario
from sim.mechanisms import concessions
from sim.model.results import RunResult
from tests.strategies import dump
from tests.test_engine_events import actor, document

Doc = dict[str, Any]

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
small = st.floats(min_value=0.0, max_value=0.5, allow_nan=False)

# ---------------------------------------------------------------------------------------------
# The functions


def test_concession_rate_on_hand_values_with_one_intensity_per_run() -> None:
    impatience = np.array([[0.03, 0.05], [0.03, 0.05]])
    war_cost = np.array([[0.02, 0.0], [0.02, 0.04]])
    involvement = np.array([[1.5, 2.0], [1.0, 0.5]])
    intensity = np.array([0.55, 1.0])
    expected = np.array([[0.03 + 0.02 * 1.5 * 0.55, 0.05], [0.03 + 0.02, 0.05 + 0.04 * 0.5]])
    got = concessions.concession_rate(impatience, war_cost, involvement, intensity)
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)


@settings(max_examples=200, deadline=None)
@given(
    rho=st.lists(small, min_size=6, max_size=6),
    cost=st.lists(small, min_size=6, max_size=6),
    involvement=st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=6, max_size=6),
    intensity=st.lists(unit, min_size=2, max_size=2),
)
def test_concession_rate_is_impatience_plus_war_cost_times_involvement_times_intensity(
    rho: list[float], cost: list[float], involvement: list[float], intensity: list[float]
) -> None:
    shape = (2, 3)
    r, c, g = (np.reshape(values, shape) for values in (rho, cost, involvement))
    f = np.array(intensity)
    got = concessions.concession_rate(r, c, g, f)
    expected = [[r[n, i] + c[n, i] * g[n, i] * f[n] for i in range(3)] for n in range(2)]
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-300)
    assert np.all(got >= r)


def test_aspiration_is_one_less_the_concessions_and_never_below_zero() -> None:
    conceded = np.array([[0.0, 0.25, 0.999, 1.0, 1.5, 40.0]])
    np.testing.assert_allclose(concessions.aspiration(conceded), [[1.0, 0.75, 0.001, 0.0, 0.0, 0.0]], atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(conceded=st.floats(min_value=0.0, max_value=5.0))
def test_aspiration_closed_form(conceded: float) -> None:
    a = concessions.aspiration(np.array([[conceded]]))[0, 0]
    assert a == pytest.approx(max(0.0, 1.0 - conceded), abs=1e-15)
    assert 0.0 <= a <= 1.0


@settings(max_examples=200, deadline=None)
@given(reservation=st.floats(min_value=-1.5, max_value=1.5), conceded=unit)
def test_acceptance_threshold_is_the_larger_of_reservation_and_aspiration(reservation: float, conceded: float) -> None:
    threshold = concessions.acceptance_threshold(np.array([[reservation]]), np.array([[conceded]]))[0, 0]
    assert threshold == pytest.approx(max(reservation, 1.0 - conceded), abs=1e-15)


def test_acceptance_threshold_on_hand_values() -> None:
    reservation = np.array([[0.3, 0.3, 0.8, -0.2, 0.1]])
    conceded = np.array([[0.2, 0.9, 0.9, 1.4, 1.4]])
    # Past C = 1 the aspiration is 0 and the reservation value alone binds, or 0 if it is negative.
    np.testing.assert_allclose(
        concessions.acceptance_threshold(reservation, conceded), [[0.8, 0.3, 0.8, 0.0, 0.1]], atol=1e-15
    )


def test_conceded_after_adds_the_rate_only_where_talking_and_resets_where_a_settlement_fell() -> None:
    conceded = np.array([[0.1, 0.2], [0.1, 0.2], [0.1, 0.2], [0.1, 0.2]])
    rate = np.array([[0.05, 0.07], [0.05, 0.07], [0.05, 0.07], [0.05, 0.07]])
    talking = np.array([[True], [False], [True], [False]])
    restart = np.array([False, False, True, True])
    got = concessions.conceded_after(conceded, rate, talking, restart)
    np.testing.assert_allclose(got, [[0.15, 0.27], [0.1, 0.2], [0.0, 0.0], [0.0, 0.0]], atol=1e-15)
    # Per actor too, and with the restart given as a column.
    per_actor = concessions.conceded_after(conceded[:1], rate[:1], np.array([[True, False]]), np.array([[False]]))
    np.testing.assert_allclose(per_actor, [[0.15, 0.2]], atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(
    conceded=st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=3, max_size=3),
    rate=st.lists(small, min_size=3, max_size=3),
    talking=st.lists(st.booleans(), min_size=3, max_size=3),
    restart=st.booleans(),
)
def test_conceded_after_closed_form(
    conceded: list[float], rate: list[float], talking: list[bool], restart: bool
) -> None:
    got = concessions.conceded_after(np.array([conceded]), np.array([rate]), np.array([talking]), np.array([restart]))
    expected = [0.0 if restart else (c + r if t else c) for c, r, t in zip(conceded, rate, talking, strict=True)]
    np.testing.assert_allclose(got, [expected], rtol=1e-15, atol=0)
    assert np.all(got[0] >= 0.0)


# ---------------------------------------------------------------------------------------------
# The engine: when a settlement comes


def two_parties(
    *, war_cost: float = 0.02, patience: float = 0.97, talks_start: int | None = None, steps: int = 40, **fields: Any
) -> Doc:
    """Regime and rebels, equally strong and alike: the offer is the even split (u = 0.5 for both). Each would
    settle for 0.05 less than its alternative, so that a zone of agreement exists even when war costs nothing."""
    party = {
        "consent_required": True,
        "forces": {"ground": 1.0},
        "war_cost": war_cost,
        "patience": patience,
        "demand": -0.05,
        "min_demand": -0.05,
    }
    doc = document(
        {"regime": actor("government", **party, **fields), "rebels": actor("opposition", **party, **fields)},
        {},
        steps=steps,
    )
    if talks_start is not None:
        doc["time"]["talks_start"] = talks_start
    return doc


def run_document(tmp_path: Path, doc: Doc, seed: int = 0) -> RunResult:
    path = tmp_path / f"scenario_{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(dump(doc), encoding="utf-8")
    return run_scenario(load_scenario(path), seed=seed)


def deal_step(result: RunResult) -> int:
    deal = result.summary["deal"]
    assert deal["reached"], result.summary["outcome"]
    assert deal["step"] == result.summary["agreements"]["settlement"]["step"]
    return int(deal["step"])


def expected_steps(result: RunResult, war_cost: float, patience: float) -> int:
    """Steps of talks until every required party's aspiration is down to its utility of the offer: the first
    n with n (-ln delta + c) >= 1 - u_i for all i, at war (f = g = 1), the offer and r constant."""
    table = result.timeseries
    rate = -math.log(patience) + war_cost
    steps = 0
    for actor_id in ("regime", "rebels"):
        utility = table.loc[table["actor"] == actor_id, "utility_of_offer"].to_numpy()
        assert np.allclose(utility, utility[0], atol=1e-12)
        conceded = np.cumsum(np.full(200, rate))
        steps = max(steps, int(np.argmax(conceded >= 1.0 - utility[0] - 1e-12)) + 1)
    return steps


def test_the_time_to_agreement_falls_as_war_costs_rise(tmp_path: Path) -> None:
    steps = {}
    for war_cost in (0.0, 0.02, 0.05):
        result = run_document(tmp_path, two_parties(war_cost=war_cost))
        steps[war_cost] = deal_step(result)
        assert steps[war_cost] == expected_steps(result, war_cost, 0.97)
    assert steps[0.0] >= steps[0.02] >= steps[0.05]
    assert steps[0.0] > steps[0.05]


def test_the_time_to_agreement_grows_with_patience(tmp_path: Path) -> None:
    steps = {}
    for patience in (0.9, 0.97, 0.99):
        result = run_document(tmp_path, two_parties(patience=patience))
        steps[patience] = deal_step(result)
        assert steps[patience] == expected_steps(result, 0.02, patience)
    assert steps[0.9] <= steps[0.97] <= steps[0.99]
    assert steps[0.9] < steps[0.99]


def test_no_deal_comes_before_the_talks_open_and_no_aspiration_falls_before(tmp_path: Path) -> None:
    """With the talks opening at step s the parties start conceding at s: the deal comes s steps later
    than with talks open from the start, and every aspiration recorded before s is the ideal point."""
    first = None
    for talks_start in (0, 6, 15):
        result = run_document(tmp_path, two_parties(talks_start=talks_start))
        step = deal_step(result)
        assert step >= talks_start
        if first is None:
            first = step
        assert step == first + talks_start
        table = result.timeseries
        assert (table.loc[table["step"] < talks_start, "aspiration"] == 1.0).all()
        assert (table.loc[table["step"] >= talks_start, "aspiration"] < 1.0).all()


def test_parties_that_accept_at_once_still_wait_for_the_talks_to_open(tmp_path: Path) -> None:
    """Both parties' ideal is the middle: the offer is worth 1 to each, they accept from step 0, and only
    the opening of the talks holds the settlement back."""
    for talks_start in (0, 5):
        doc = two_parties(talks_start=talks_start, position={"x": 0.5})
        result = run_document(tmp_path, doc)
        table = result.timeseries
        assert table.loc[table["step"] == 0, "accepts"].all()
        assert table.loc[table["step"] == 0, "zone_exists"].all()
        assert deal_step(result) == talks_start
        assert not table.loc[table["step"] < talks_start, "deal"].any()


def acceptance_table(result: RunResult) -> pd.DataFrame:
    """Per step and actor: accepts as recorded, and u >= max(r, a) with a the aspiration carried into the step."""
    table = result.timeseries.sort_values(["actor", "step"]).copy()
    carried = table.groupby("actor")["aspiration"].shift(1, fill_value=1.0)
    table["carried_aspiration"] = carried
    table["threshold"] = np.maximum(table["reservation"], carried)
    table["should_accept"] = table["utility_of_offer"] >= table["threshold"]
    return table


def asymmetric(talks_start: int = 4, **battlefield: Any) -> Doc:
    """Unequal sides, noise, a negotiator whose stake grows and a third party: offers and reservation values
    move from step to step, so acceptance is read off the timeseries rather than a closed form."""
    doc = document(
        {
            "regime": actor(
                "government",
                consent_required=True,
                forces={"ground": 1.2},
                capability=2.0,
                war_cost=0.01,
                patience=0.98,
                stake_growth=0.002,
            ),
            "rebels": actor("opposition", consent_required=True, forces={"ground": 1.0}, war_cost=0.03, patience=0.95),
            "iran": actor("government", forces={"ground": 0.2}, war_cost=0.01),
        },
        {},
        steps=30,
        kappa=0.1,
        noise=0.02,
        **battlefield,
    )
    doc["time"]["talks_start"] = talks_start
    return doc


@pytest.mark.parametrize("seed", [1, 2])
def test_the_deal_comes_exactly_when_every_required_threshold_is_met(tmp_path: Path, seed: int) -> None:
    result = run_document(tmp_path, asymmetric(), seed=seed)
    step = deal_step(result)
    assert step > 4
    table = acceptance_table(result)
    # Every recorded decision to accept is u >= max(r, a), up to and including the deal step.
    upto = table[table["step"] <= step]
    assert (upto["accepts"] == upto["should_accept"]).all()
    required = table[table["actor"].isin(["regime", "rebels"])]
    everyone = required.groupby("step")["should_accept"].all()
    zone = result.timeseries.groupby("step")["zone_exists"].all()
    # The deal step is the first open step at which every required threshold is met (and a zone exists).
    ready = everyone & zone & (everyone.index >= 4)
    assert ready.idxmax() == step and ready[step]
    before = required[required["step"] == step - 1]
    assert not before["should_accept"].all()
    assert (before["utility_of_offer"] < before["threshold"]).any()
    at = required[required["step"] == step]
    assert (at["utility_of_offer"] >= np.maximum(at["reservation"], at["carried_aspiration"])).all()


@pytest.mark.parametrize(
    "battlefield", [{}, {"ceasefire": True, "excluded_fighting": 0.5}], ids=["at war", "under a ceasefire"]
)
def test_recorded_aspirations_follow_the_concession_rate_step_by_step(tmp_path: Path, battlefield: Doc) -> None:
    """a_i(row t) = max(0, 1 - sum over s = talks_start..t of (-ln delta_i + sigma_i s + c_i g_i(s) f_s)) until the
    deal, and it stays where it was from the deal on. Under a ceasefire f_s = 0.1 + 0.9 * 0.5: delay costs less."""
    doc = asymmetric(**battlefield)
    result = run_document(tmp_path, doc, seed=1)
    step = deal_step(result)
    table = result.timeseries
    expected_intensity = 0.55 if battlefield else 1.0
    np.testing.assert_allclose(table.loc[table["step"] <= step, "intensity"], expected_intensity, atol=1e-15)
    for actor_id, fields in doc["actors"].items():
        rows = table[table["actor"] == actor_id].set_index("step")
        patience, stake = fields.get("patience", 0.97), fields.get("stake_growth", 0.0)
        steps = rows.index.to_numpy()
        rate = -math.log(patience) + stake * steps + fields["war_cost"] * rows["involvement"] * rows["intensity"]
        rate = np.where(steps >= 4, rate, 0.0)
        expected = np.maximum(1.0 - np.cumsum(rate), 0.0)
        recorded = rows["aspiration"].to_numpy()
        np.testing.assert_allclose(recorded[: step + 1], expected[: step + 1], rtol=0, atol=1e-12)
        assert np.all(recorded[step:] == recorded[step])
