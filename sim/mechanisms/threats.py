"""Threats as the threatener's choices: when a threat lapses, and when it is carried out (DESIGN.md, step 5).

A compellent threat ("strikes unless the siege is lifted by date T", Schelling 1966, *Arms and Influence*)
works through the target's alternative while it is pending: the others count its instrument at its
credibility (`sim.model.engine`). What happens to it is the threatener's decision, from its own values:

- it drops the threat once its demand is met (carrying it out then would only cost it);
- once the deadline has passed with the demand unmet, it carries the threat out when

      d_i(carried out) - k_i >= d_i(dropped) - a_i,

  d_i its alternative with the instrument used in full or dropped, k_i the discounted cost of carrying it
  out over its horizon (its war cost for the added involvement plus the threat's own cost per step), and
  a_i the audience cost of backing down from a threat made in public (Fearon 1994, "Domestic political
  audiences and the escalation of international disputes"); otherwise the bluff is called and the threat
  lapses. The rule's form and the one-time choice at the deadline are assumptions of this model.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def demand_met(
    outcome: Array,
    in_force: NDArray[np.bool_],
    issue: NDArray[np.int64],
    level: Array,
    at_most: NDArray[np.bool_],
    agreement: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """(N, T) whether each threat's demand is met by the agreements in force.

    Args:
        outcome: (N, K) the outcome the agreements in force set (the status quo elsewhere).
        in_force: (N, G) each agreement in force.
        issue, level, at_most: (T,) a demand that issue `issue` be at least (or at most) `level`; -1: none.
        agreement: (T,) a demand that agreement `agreement` be in force; -1: none.
    A threat without a demand is never met.
    """
    value = outcome[:, np.maximum(issue, 0)]
    by_issue = np.where(at_most, value <= level, value >= level) & (issue >= 0)
    by_agreement = in_force[:, np.maximum(agreement, 0)] & (agreement >= 0)
    return by_issue | by_agreement


def carrying_out_pays(carried_out: Array, dropped: Array, cost: Array, audience_cost: Array) -> NDArray[np.bool_]:
    """d_i(carried out) - k_i >= d_i(dropped) - a_i, elementwise."""
    return carried_out - cost >= dropped - audience_cost
