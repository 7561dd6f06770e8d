"""The actors as Mesa agents: thin views on the model's arrays that take their own decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import engine

if TYPE_CHECKING:
    from sim.model import NegotiationModel


class NegotiationActor(mesa.Agent):
    """A government or armed group at the table (or able to wreck it).

    Its parameters live in the model's `Params` (column `index`); each step it
    decides with the rules of `sim.decisions`, and exposes what it sees as plain
    attributes for the DataCollector.
    """

    model: NegotiationModel

    def __init__(self, model: NegotiationModel, index: int, actor_id: str, name: str) -> None:
        super().__init__(model)
        self.index = index
        self.actor_id = actor_id
        self.name = name
        self.observe_nothing()

    def observe_nothing(self) -> None:
        for column in self.model.actor_columns:
            setattr(self, column, np.nan)

    def decide(self) -> None:
        """Take this actor's decisions from what it sees this step."""
        model = self.model
        mine = engine.decide(model.params, model.state, model.seen, actors=[self.index])
        for key, value in mine.items():
            model.intents[key][:, self.index] = value[:, 0]

    def observe(self) -> None:
        """Copy this step's values of this actor into attributes the DataCollector reads."""
        for column, value in self.model.actor_values_of(self.index).items():
            setattr(self, column, value)
