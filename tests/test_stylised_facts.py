"""The eight stylised facts of the two source articles, each a test that runs the model.

Sources (in the design's `shared/seeds/`): Porter, March 2016 (`000_d8a24bc0456570a9.txt`) and
Singh, September 2016 (`002_29a60924520c6287.txt`). Each test states its fact, names the passage,
and checks quantities that `summary.json` or the time series hold (deal position, utilities,
alternatives, leverage, collapse probability), over the same 20 seeds for every scenario, so that
one lucky or unlucky path of the war can neither pass nor fail it.

Runs go through the vectorised engine (`sim.model.engine.advance` on a batch with one run per seed):
member i of the batch is the single run with seed i, which `test_batch_reproduces_the_single_run`
checks against `sim.model.results.run_scenario`. Nothing here names an actor in the model's code: the
facts come out of the mechanisms and the scenario files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from sim.model import engine
from sim.model.results import run_scenario
from sim.scenario.loader import deep_merge, load_scenario, scenario_from_mapping
from sim.scenario.params import Params, params_from_scenario
from sim.scenario.schema import Scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SEEDS = tuple(range(20))
MAJORITY = len(SEEDS) // 2 + 1  # more than half of the seeds
MARCH = "ceasefire_2016_03.yaml"
SEPTEMBER = "stalemate_2016_09.yaml"
RECORDED = (
    "batna",
    "utility_of_offer",
    "spoil_probability",
    "soften",
    "escalate",
    "coercive",
    "inducement",
    "collapse_probability",
    "control",
    "proposal",
    "arms_inflow",
)

Array = NDArray[np.float64]


@dataclass
class Runs:
    """One scenario run once per seed: inputs, final state and every recorded step as (steps, N, ...) arrays."""

    params: Params
    final: engine.State
    series: dict[str, Array]

    def actor(self, actor_id: str) -> int:
        return self.params.actor_ids.index(actor_id)

    def of(self, name: str, actor_id: str) -> Array:
        """A per-actor series, (steps, N)."""
        return self.series[name][:, :, self.actor(actor_id)]

    def hazard(self, before_settlement: bool = False) -> Array:
        """Probability that the ceasefire collapses at some step: 1 - prod_t (1 - q_t), per run; with
        `before_settlement`, over the steps before the first settlement is signed."""
        q = self.series["collapse_probability"]
        if before_settlement:
            first = self.final.settlement_first_step
            steps = np.arange(q.shape[0])[:, None]
            q = np.where((first < 0) | (steps < first), q, 0.0)
        return 1.0 - np.prod(1.0 - q, axis=0)

    def deal_utility(self, actor_id: str) -> Array:
        """u_i of the deal reached (NaN without a deal), per run."""
        return self.params.utilities_at(self.final.deal_outcome)[:, self.actor(actor_id)]

    def bargained_distance(self, actor_id: str) -> Array:
        """Salience-weighted distance from the actor's ideal to the deal over the issues bargained over
        (salience renormalised over them): how much of what it wanted at the table it gave up."""
        free = self.params.free_issues
        i = self.actor(actor_id)
        weight = self.params.salience[:, i, :] * free
        weight = weight / weight.sum(axis=-1, keepdims=True)
        return np.sum(weight * np.abs(self.final.deal_outcome - self.params.ideal[:, i, :]), axis=-1)


def run_seeds(scenario: Scenario) -> Runs:
    """Every seed of SEEDS as one batch; draws as the Mesa model makes them (one generator per seed)."""
    params = params_from_scenario(scenario, runs=len(SEEDS))
    state = engine.initial_state(params)
    draws = np.stack([engine.draw_noise(np.random.default_rng(seed), params) for seed in SEEDS])
    records: dict[str, list[Array]] = {name: [] for name in RECORDED}
    for step in range(params.steps):
        seen, intents, outcome, _ = engine.advance(params, state, step, draws[:, step])
        values = {
            "batna": seen.batna,
            "utility_of_offer": seen.utility_of_offer,
            "coercive": seen.coercive,
            "inducement": seen.inducement,
            "spoil_probability": intents["spoil_probability"],
            "soften": intents["soften"],
            "escalate": intents["escalate"],
            "collapse_probability": outcome["collapse_probability"],
            "control": state.control,
            "proposal": seen.proposal,
            "arms_inflow": seen.arms_inflow,
        }
        for name in RECORDED:
            records[name].append(np.array(values[name], dtype=np.float64))
    return Runs(params=params, final=state, series={name: np.stack(rows) for name, rows in records.items()})


@cache
def shipped(file: str) -> Runs:
    """A shipped scenario file, run over SEEDS (cached: several facts read the same runs)."""
    return run_seeds(load_scenario(SCENARIOS / file).scenario)


def variant(file: str, override: dict) -> Runs:
    """A shipped scenario with a few fields overridden, as an `extends:` file would (null deletes a key)."""
    document = deep_merge(load_scenario(SCENARIOS / file).raw, override)
    return run_seeds(scenario_from_mapping(document, name=f"{file} (variant)"))


def test_batch_reproduces_the_single_run() -> None:
    """The helper's batch member for a seed gives the summary.json numbers of `run_scenario` with that seed."""
    loaded = load_scenario(SCENARIOS / MARCH)
    runs = shipped(MARCH)
    for seed in (0, 7):
        summary = run_scenario(loaded, seed=seed).summary
        member = SEEDS.index(seed)
        assert summary["deal"]["reached"] == bool(runs.final.settlement_reached[member])
        assert summary["deal"]["step"] == int(runs.final.deal_step[member])
        position = [summary["deal"]["position"][k] for k in runs.params.issue_ids]
        np.testing.assert_allclose(position, runs.final.deal_outcome[member], atol=1e-12)
        collapsed = runs.final.collapsed_step[member]
        assert summary["ceasefire"]["collapsed_step"] == (int(collapsed) if collapsed >= 0 else None)
        assert summary["control"] == pytest.approx(runs.final.control[member], abs=1e-12)


def test_fact_1_march_ceasefire_holds_with_the_embargo_and_survives_the_withdrawal() -> None:
    """Fact 1. With the US pledge to stop its allies' arms flow enforced, the March 2016 ceasefire holds
    far more often than without it, and Russia's partial withdrawal does not collapse it.

    Restated when agreements became self-enforcing and their timing endogenous (docs/ODD.md): Porter's
    claims are causal (the embargo left the opposition "little choice"; the withdrawal kept the threat),
    so the fact compares the ceasefire with and without the embargo, and with and without the
    withdrawal. How often it holds in absolute terms is for the calibration against the 2016 record
    (it eroded from late April); it is reported, not asserted here. A settlement can now fall later (in
    the shipped scenario Iran, whose alternative improves while fighting, breaks it in some seeds), so
    the fact counts collapses before any settlement, and the arms flow until the first collapse.

    Porter: no weapons crossed from Turkey or Jordan once the ceasefire took effect, leaving the armed
    opposition "little choice but to go along with the ceasefire"; the ceasefire proved "far more effective
    than anyone had expected"; Putin withdrew "the bulk" of his aircraft on 14 March.
    Checked: summary.json `ceasefire.collapsed_step` is null in most seeds, no arms reach the opposition
    while it holds (time series `arms_inflow`), and the withdrawal does not raise the probability of
    collapse (time series `collapse_probability`) above that of the same ceasefire without it.
    """
    march = shipped(MARCH)
    no_withdrawal = shipped("ceasefire_2016_03_no_withdrawal.yaml")
    no_embargo = shipped("ceasefire_2016_03_us_no_embargo.yaml")

    def held_until_settled(runs: Runs) -> np.ndarray:
        first = runs.final.collapsed_step
        return (first < 0) | (first == runs.final.settlement_collapsed_step)

    held, held_without = held_until_settled(march), held_until_settled(no_embargo)
    assert held.sum() >= held_without.sum() + 10, f"held in {held.sum()} seeds, {held_without.sum()} without"
    first_collapse = march.final.collapsed_step
    steps = np.arange(march.series["arms_inflow"].shape[0])[:, None]
    before_collapse = (first_collapse < 0) | (steps < first_collapse)
    assert np.all(march.series["arms_inflow"][before_collapse & held] == 0.0), "arms reached the opposition"
    hazard = march.hazard(before_settlement=True)
    safer_or_equal = hazard <= no_withdrawal.hazard(before_settlement=True) + 1e-12
    assert safer_or_equal.sum() >= 15, f"withdrawal raised the collapse risk in {(~safer_or_equal).sum()} seeds"
    assert hazard.mean() < 0.5


def test_fact_2_a_credible_return_keeps_russias_leverage_a_slow_one_loses_it() -> None:
    """Fact 2. Russia's withdrawal with return possible within a day leaves its leverage over the
    opposition's patrons nearly intact; the same withdrawal with a slow return (months) lowers it, and
    the ceasefire becomes less stable. Credibility of the threat is what matters.

    Porter: the planes "could be returned to Syria within 24 hours", so by withdrawing Putin was
    "actually enhancing his leverage"; the withdrawal told the opposition's "external patrons" that
    restarting the war was not in their interest.
    Checked: Russia's coercive leverage over the US, Turkey and the opposition (time series
    `coercive_on_<j>`) in the four weeks after the withdrawal, against the same weeks with no withdrawal;
    and the probability that the ceasefire collapses (from `collapse_probability`).
    """
    fast = shipped(MARCH)
    slow = shipped("ceasefire_2016_03_slow_return.yaml")
    stays = shipped("ceasefire_2016_03_no_withdrawal.yaml")
    russia = fast.actor("russia")
    after_withdrawal = slice(2, 6)  # 14 March is step 2; the talks open in step 6
    for target in ("us", "turkey", "opposition"):
        j = fast.actor(target)

        def leverage(runs: Runs, j: int = j) -> Array:
            return runs.series["coercive"][after_withdrawal, :, russia, j].mean(axis=0)

        kept = leverage(fast) / leverage(stays)
        lost = leverage(slow) / leverage(stays)
        assert (kept >= 0.9).sum() >= 15, f"one-day return kept {np.round(kept, 2)} of leverage over {target}"
        assert (lost <= 0.75).sum() >= 15, f"slow return kept {np.round(lost, 2)} of leverage over {target}"
    less_stable = slow.hazard() > fast.hazard()
    assert less_stable.sum() >= MAJORITY, f"slow return less stable in {less_stable.sum()} seeds"
    assert (slow.final.collapsed_step >= 0).sum() > (fast.final.collapsed_step >= 0).sum()


def test_fact_3_iran_expects_more_from_a_later_ceasefire() -> None:
    """Fact 3. Iran values a ceasefire that starts later more than one that starts now: it expects to gain
    ground in between.

    Porter: Iran's sources thought the ceasefire came "at least a month too soon", just as Iranian forces
    could "gain significantly more territory".
    Checked: when the ceasefire starts (March scenario), Iran's alternative (continued war) is worth more to
    it than the terms on offer (time series `batna` > `utility_of_offer`); in the counterfactual where the
    war goes on four more weeks, the value to Iran of the offer on the table rises while fighting, because
    its side gains ground (`control`); and the deal it finally gets is worth more to it than the March one
    (summary `actors.iran.utility_of_deal`), seed by seed.
    """
    march = shipped(MARCH)
    later = shipped("ceasefire_2016_03_month_later.yaml")
    too_soon = march.of("batna", "iran")[0] > march.of("utility_of_offer", "iran")[0]
    assert too_soon.all(), "Iran preferred the ceasefire to war at its start in some seeds"
    last_week_of_war = 3  # the ceasefire takes effect in step 4
    offer = later.of("utility_of_offer", "iran")
    rises = offer[last_week_of_war] > offer[0]
    gains_ground = later.series["control"][last_week_of_war] > later.series["control"][0]
    assert rises.sum() >= MAJORITY, f"Iran's offer value rose while fighting in {rises.sum()} seeds"
    assert gains_ground.sum() >= MAJORITY
    assert (offer[last_week_of_war] - offer[0]).mean() > 0.0
    better_deal = later.deal_utility("iran") > march.deal_utility("iran")
    assert better_deal.sum() >= MAJORITY, f"the later ceasefire's deal was better for Iran in {better_deal.sum()} seeds"


def test_fact_4_without_resupply_the_opposition_accepts_what_it_would_refuse_when_supplied() -> None:
    """Fact 4. Without arms resupply the opposition's alternative to a deal collapses over time, so it
    accepts a ceasefire it would refuse when supplied.

    Porter: with the flow of weapons stopped, the opposition had "little choice but to go along with the
    ceasefire"; the talks could fail if the US will not compel its allies to keep the suspension.
    Checked (time series `batna`, `spoil_probability`; summary `deal.position`): under the embargo the
    opposition's alternative falls and stays below the value to it of the March deal, and it never tries
    to spoil; with the same ceasefire but the arms flowing (the US does not enforce), its alternative rises
    above the value of those same terms, so it would refuse them.
    """
    embargoed = shipped(MARCH)
    supplied = variant(MARCH, {"actors": {"us": {"options": {"enforce_embargo": False}}}})
    terms = embargoed.deal_utility("opposition")  # what the March deal is worth to the opposition
    alternative = embargoed.of("batna", "opposition")
    assert (alternative[-1] < alternative[0]).sum() >= 15
    assert (alternative.max(axis=0) < terms).sum() >= 15
    assert (embargoed.of("spoil_probability", "opposition").max(axis=0) == 0.0).sum() >= 15
    armed_alternative = supplied.of("batna", "opposition")
    assert (armed_alternative[-1] > armed_alternative[0]).sum() >= 15
    refuses = armed_alternative[-1] > terms
    assert refuses.sum() >= 15, f"supplied opposition would refuse the March terms in {refuses.sum()} seeds"


def test_fact_5_september_gives_no_deal_or_one_closer_to_russia() -> None:
    """Fact 5. In September 2016, with the US unwilling to worsen Russia's alternatives, the outcome is
    either no deal or a deal closer to Russia's ideal than the March one.

    Singh: Obama would neither institute "safe zones" nor target the regime, so Kerry could only "soften
    the U.S. position"; Russia used "limited force to worsen U.S. options"; the likely outcomes are a deal
    that "further compromises the U.S. position" or none.
    Checked: summary `deal.position` on Assad's role against Russia's ideal, seed by seed against March;
    the US has no coercive leverage over Russia (`coercive_on_russia` of the US is 0) and softens, and
    Russia escalates (time series `softened`, `escalated`).
    """
    march = shipped(MARCH)
    september = shipped(SEPTEMBER)
    assad = september.params.issue_ids.index("assad_role")
    russian_ideal = september.params.ideal[:, september.actor("russia"), assad]
    closer = np.abs(september.final.deal_outcome[:, assad] - russian_ideal) < np.abs(
        march.final.deal_outcome[:, assad] - russian_ideal
    )
    outcome_as_predicted = ~september.final.deal | closer
    assert outcome_as_predicted.sum() >= 15, f"as predicted in {outcome_as_predicted.sum()} seeds"
    us, russia = september.actor("us"), september.actor("russia")
    assert np.all(september.series["coercive"][:, :, us, russia] == 0.0)
    assert september.of("soften", "us").any(axis=0).sum() >= MAJORITY
    assert september.of("escalate", "russia").any(axis=0).sum() >= MAJORITY


def test_fact_6_an_or_else_worsens_russias_alternative_and_moves_the_deal_to_the_us() -> None:
    """Fact 6. Giving the US an "or else" (strikes on the regime or safe zones switched on) worsens Russia's
    alternative and moves the deal toward the US position, or makes a deal possible where there was none.

    Singh: to break a stalemate a side must sweeten its offer or "worsen the other side's alternatives";
    Kerry "needs an 'or else' to deliver to Moscow".
    Checked: Russia's alternative in the first week (time series `batna`), the US's coercive leverage over
    Russia, and Assad's role in the deal (summary `deal.position`), seed by seed against September.
    """
    september = shipped(SEPTEMBER)
    or_else = shipped("stalemate_2016_09_us_or_else.yaml")
    russia, us = september.actor("russia"), september.actor("us")
    worse = or_else.series["batna"][0, :, russia] < september.series["batna"][0, :, russia]
    assert worse.all()
    assert np.all(or_else.series["coercive"][0, :, us, russia] > 0.0)
    assad = september.params.issue_ids.index("assad_role")
    # A settlement may fall later (self-enforcement): compare the terms signed, whether or not they held.
    signed, signed_before = or_else.final.settlement_reached, september.final.settlement_reached
    toward_us = signed & (
        ~signed_before | (or_else.final.deal_outcome[:, assad] > september.final.deal_outcome[:, assad])
    )
    assert toward_us.sum() >= 15, f"deal moved toward the US in {toward_us.sum()} seeds"


def test_fact_7_a_negotiator_whose_stake_grows_concedes_more_the_longer_talks_last() -> None:
    """Fact 7. The longer talks go on, the more the US concedes when its negotiator's personal stake grows
    with time; with no such growth, it concedes less.

    Porter: "the longer the negotiations continue", the greater Kerry's personal stake in a compromise.
    Checked: the US's utility of the deal (summary `actors.us.utility_of_deal`) in the March scenario with
    `stake_growth` as shipped and at 0, for talks that open in week 6 (as in March) and in week 20:
    the stake costs the US something, and costs it more when the talks open later. Both runs last 50
    weeks, so that talks opening in week 20 have as long to conclude as those opening in week 6 once
    the time to agree comes from the concessions (with the shipped 30 weeks they often had too little).
    """
    concession = {}
    for talks_start in (6, 20):

        def us_utility(stake_growth: float, talks_start: int = talks_start) -> Array:
            runs = variant(
                MARCH,
                {
                    "time": {"talks_start": talks_start, "steps": 50},
                    "actors": {"us": {"stake_growth": stake_growth}},
                },
            )
            return runs.deal_utility("us")

        concession[talks_start] = us_utility(0.0) - us_utility(0.002)
    assert (concession[6] > 0).sum() >= 15
    assert (concession[20] > concession[6]).sum() >= 15
    # Once deals came at the talks' opening the stake had grown 20/6 times as long, and the median concession
    # was asserted to double; deals now come when the concessions meet (weeks later), which narrows the ratio
    # of the stakes at signing, so only the direction is asserted.
    assert np.median(concession[20]) > np.median(concession[6])


LIMITED_DEALS = (
    "deal_israel_russia_deconfliction.yaml",
    "deal_saudi_russia_oil_cap.yaml",
    "deal_turkey_russia_reconciliation.yaml",
)


@pytest.mark.parametrize("file", LIMITED_DEALS)
def test_fact_8_limited_deals_where_both_sides_need_something(file: str) -> None:
    """Fact 8 (the deals that happened). Where both sides need something from the other, a limited deal is
    reached.

    Singh: Israel and Russia on military deconfliction, Saudi Arabia and Russia on capping oil production,
    Turkey and Russia on reversing the measures after the jet incident; in each case "both sides needed
    something" and put their differences aside.
    Checked: a deal (summary `deal.reached`) in every seed; each side has leverage over the other (summary
    `leverage`), and neither gives up much more of what it wanted at the table than the other.
    """
    runs = shipped(file)
    first, second = (a for a, required in zip(runs.params.actor_ids, runs.params.required, strict=True) if required)
    assert runs.final.deal.all()
    deal_step = int(runs.final.deal_step[0])
    leverage = runs.series["coercive"][deal_step] + runs.series["inducement"][deal_step]
    assert np.all(leverage[:, runs.actor(first), runs.actor(second)] > 0.02)
    assert np.all(leverage[:, runs.actor(second), runs.actor(first)] > 0.02)
    lopsidedness = np.abs(runs.bargained_distance(first) - runs.bargained_distance(second))
    assert np.all(lopsidedness < 0.2), f"lopsidedness {lopsidedness.max():.2f}"


def test_fact_8_the_us_russia_case_gives_no_deal_or_a_lopsided_one() -> None:
    """Fact 8 (the contrast). In September 2016 the US and Russia reach no deal or a lopsided one: Russia
    needs nothing the US will give, and the US cannot worsen Russia's alternative.

    Singh: what Russia wants from the US "is less obvious"; Kerry should ask why the US and Russia, unlike
    the others, have not reached an accommodation.
    Checked: summary `deal` and the same lopsidedness as for the limited deals, and the leverage matrix at
    the week of the deal: Russia has leverage over the US, the US next to none over Russia.
    """
    september = shipped(SEPTEMBER)
    lopsided = np.abs(september.bargained_distance("us") - september.bargained_distance("russia")) > 0.4
    assert (~september.final.deal | lopsided).sum() >= 15
    us, russia = september.actor("us"), september.actor("russia")
    step = np.where(september.final.deal, september.final.deal_step, september.params.steps - 1)
    members = np.arange(len(SEEDS))
    total = september.series["coercive"] + september.series["inducement"]
    us_over_russia = total[step, members, us, russia]
    russia_over_us = total[step, members, russia, us]
    assert (us_over_russia < 0.01).sum() >= 15
    assert (russia_over_us > 5 * us_over_russia).sum() >= 15
