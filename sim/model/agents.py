"""The actors as Mesa agents: each takes its own decisions from what it sees each step."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model import engine

if TYPE_CHECKING:
    from sim.model.model import NegotiationModel

DECISIONS = (
    "accept",
    "concession",
    "spoil_probability",
    "break_probability",
    "restrain",
    "soften",
    "escalate",
    "withdraw",
    "carry_out_threat",
    "back_down_threat",
    "drop_threat",
)


class NegotiationActor(mesa.Agent):
    """A government or armed group at the table (or able to wreck it).

    Its parameters live in the model's `Params` (column `index`), as the engine that batches runs
    needs them. Each step, in Mesa's way, the model asks every agent to `decide`: the agent applies
    the rules of `sim.mechanisms.decisions`, `concessions` and `agreements` to its own column of what
    the model observed, and keeps its decisions as its own attributes (`accept`, `concession`,
    `spoil_probability`, `break_probability`, `restrain`, `soften`, `escalate`, `withdraw` and its
    choices about its threats); the model
    then carries them out together (decisions are simultaneous, so the order of agents does not matter). `record`
    copies what the agent saw and did into the attributes the DataCollector reads.
    """

    model: NegotiationModel

    def __init__(self, model: NegotiationModel, index: int, actor_id: str, name: str) -> None:
        super().__init__(model)
        self.index = index
        self.actor_id = actor_id
        self.name = name
        for decision in DECISIONS:
            setattr(self, decision, None)
        for column in model.actor_columns:
            setattr(self, column, np.nan)

    def decide(self) -> None:
        """Take this actor's decisions from what it sees this step."""
        model = self.model
        mine = engine.decide(model.params, model.state, model.seen, actors=[self.index])
        for decision in DECISIONS:
            setattr(self, decision, mine[decision][..., 0])

    def record(self) -> None:
        """Copy this step's values of this actor into attributes the DataCollector reads."""
        for column, value in self.model.actor_values_of(self.index).items():
            setattr(self, column, value)
