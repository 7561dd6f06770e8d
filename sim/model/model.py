"""The Mesa model: one run of a scenario, step by step (DESIGN.md, "The model").

The dynamics are those of `sim.model.engine`, run as a batch of one, so that a single run and
every member of an ensemble are computed by the same code. What is Mesa's here is the run itself:
`steps` and `running`, the agents, which take their own decisions each step, and the DataCollector.
"""

from __future__ import annotations

import numpy as np
from mesa import DataCollector, Model

from sim.mechanisms import concessions, decisions
from sim.mechanisms.leverage import INSTRUMENTS
from sim.model import engine
from sim.model.agents import DECISIONS, NegotiationActor
from sim.scenario.names import ACTOR_SCALARS, STEP_SCALARS
from sim.scenario.params import Params, params_from_scenario
from sim.scenario.schema import Scenario


class NegotiationModel(Model):
    """The negotiation and the war behind it, for one scenario and one seed.

    Randomness comes only from `self.rng`, seeded with `seed` (the scenario's
    seed by default): the same scenario and seed give the same run.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, params: Params | None = None) -> None:
        seed = scenario.seed if seed is None else seed
        super().__init__(rng=seed)
        self.seed = seed
        self.spec = scenario  # Mesa 3.5 reserves `Model.scenario`
        self.params = params if params is not None else params_from_scenario(scenario)
        self.draws = engine.draw_noise(self.rng, self.params)
        self.state = engine.initial_state(self.params)
        self.seen: engine.Assessment | None = None
        self.intents: dict[str, np.ndarray] = {}
        self.outcome: dict[str, np.ndarray] = {}
        self.fired: list[str] = []
        # What each step's decisions were taken on, kept for the run's "why" (`sim.model.why.why_summary`).
        self.history: list[tuple[engine.Assessment, engine.Explanation]] = []
        ids = self.params.actor_ids
        self.actor_columns = (
            list(ACTOR_SCALARS)
            + [f"coercive_{instrument}_on_{j}" for instrument in INSTRUMENTS for j in ids]
            + [f"{kind}_on_{j}" for kind in ("coercive", "inducement", "leverage") for j in ids]
        )
        for i, actor_id in enumerate(ids):
            NegotiationActor(self, i, actor_id, scenario.actors[actor_id].name)
        model_reporters = {name: name for name in ("step_index", "date", *STEP_SCALARS)}
        model_reporters.update({f"proposal_{k}": f"proposal_{k}" for k in self.params.issue_ids})
        for agreement_id in self.params.agreements.ids:
            for suffix in ("in_force", "breach_probability"):
                model_reporters[f"{agreement_id}_{suffix}"] = f"{agreement_id}_{suffix}"
        self.datacollector = DataCollector(
            model_reporters=model_reporters,
            agent_reporters={"actor": "actor_id", **{column: column for column in self.actor_columns}},
        )

    @property
    def step_index(self) -> int:
        """The step being taken, from 0 (Mesa's `steps` counts the steps begun, from 1)."""
        return self.steps - 1

    def step(self) -> None:
        """One step: the model observes (events, battlefield, alternatives, bargaining, leverage), every
        agent decides, the model keeps what the decisions were taken on (`history`), carries them out
        together, and the step is recorded."""
        t = self.step_index
        draws = self.draws[t][None, :]
        self.seen, self.fired = engine.observe(self.params, self.state, t, draws)
        self.agents.do("decide")
        ordered = sorted(self.agents, key=lambda agent: agent.index)
        self.intents = {
            decision: np.stack([getattr(agent, decision) for agent in ordered], axis=-1) for decision in DECISIONS
        }
        self.history.append((self.seen, engine.explain(self.params, self.state, self.seen, self.intents)))
        self.outcome = engine.apply_decisions(self.params, self.state, self.seen, self.intents, draws[:, 1:], t)
        self._publish()
        self.agents.do("record")
        self.datacollector.collect(self)
        self.running = self.steps < self.params.steps

    def run(self) -> NegotiationModel:
        """Run every step of the scenario (Mesa's `run_model`) and return the model."""
        self.run_model()
        return self

    def _publish(self) -> None:
        seen, state = self.seen, self.state
        self.date = self.spec.time.date_of(self.step_index).isoformat()
        self.control = float(state.control[0])
        self.win_probability = float(seen.win_probability[0])
        self.government_strength = float(seen.government_strength[0])
        self.opposition_strength = float(seen.opposition_strength[0])
        self.arms_stock = float(state.arms_stock[0])
        self.arms_inflow = float(seen.arms_inflow[0])
        self.ceasefire = bool(state.ceasefire[0])
        self.deal = bool(state.deal[0])
        self.zone_exists = bool(seen.zone_exists[0])
        self.intensity = float(seen.intensity[0])
        self.collapse_probability = float(self.outcome["collapse_probability"][0])
        # Per agreement: the probability it falls this step (the fighting restarting, for those that stop
        # it; its own bound parties breaking it, for the others).
        own = decisions.ceasefire_collapse_probability(self.intents["break_probability"][0])
        breach = np.where(self.params.agreements.stops_fighting, self.collapse_probability, own)
        for g, agreement_id in enumerate(self.params.agreements.ids):
            setattr(self, f"{agreement_id}_in_force", bool(state.in_force[0, g]))
            setattr(self, f"{agreement_id}_breach_probability", float(breach[g]))
        breaker = int(self.outcome["broken_by"][0])
        self.broken_by = self.params.actor_ids[breaker] if breaker >= 0 else ""
        self.events = "; ".join(self.fired)
        for k, issue in enumerate(self.params.issue_ids):
            setattr(self, f"proposal_{issue}", float(seen.proposal[0, k]))

    def actor_values_of(self, i: int) -> dict[str, float]:
        """What actor i saw and decided this step, as plain numbers."""
        seen, state, intents = self.seen, self.state, self.intents
        settlement = self.params.agreements.settlement
        values = {
            "batna": seen.batna[0, i],
            "utility_of_offer": seen.utility_of_offer[0, i],
            "reservation": seen.reservation[0, i],
            "demand": state.demand[0, i],
            "weight": seen.weights[0, i],
            "accepts": bool(intents["accept"][0, settlement, i]),
            "aspiration": concessions.aspiration(state.conceded[0, settlement, i]),
            "spoil_probability": intents["spoil_probability"][0, i],
            "restrains": bool(intents["restrain"][0, i]),
            "softened": bool(intents["soften"][0, i]),
            "escalated": bool(intents["escalate"][0, i]),
            "withdrew": bool(intents["withdraw"][0, i]),
            "involvement": seen.involvement[0, i],
            "projected_win_probability": seen.projected_win_probability[0, i],
            "ground": state.ground[0, i],
            "air_present": state.air_present[0, i],
            "air_withdrawn": state.air_withdrawn[0, i],
            "credibility": seen.credibility[0, i],
            "coercive_total": seen.coercive[0, i].sum(),
            "inducement_total": seen.inducement[0, i].sum(),
        }
        for j, other in enumerate(self.params.actor_ids):
            values[f"coercive_on_{other}"] = seen.coercive[0, i, j]
            values[f"inducement_on_{other}"] = seen.inducement[0, i, j]
            values[f"leverage_on_{other}"] = seen.coercive[0, i, j] + seen.inducement[0, i, j]
            for m, instrument in enumerate(INSTRUMENTS):
                values[f"coercive_{instrument}_on_{other}"] = seen.coercive_by_instrument[0, i, j, m]
        return {key: (float(value) if not isinstance(value, bool) else value) for key, value in values.items()}
