"""Who weighs how much in an EU legislative decision, and whose consent a law needs.

The Council of the EU decides by unanimity or by a qualified majority of its members' weighted votes; the
weights and the majority changed with the treaties and enlargements. For each DEU III proposal the rule
used here is the one in force when the proposal was made, for the member states the data show taking part:

- before the 2004 enlargement, the weighted votes of the EU of fifteen (Treaty establishing the European
  Community, Art. 205(2), as amended by the 1994 Act of Accession): 87 votes, a qualified majority 62;
- from the 2004 enlargement, the weighted votes of the Treaty of Nice (Protocol on the enlargement of the
  European Union, Art. 3, and the Acts of Accession of 2003, 2005 and 2011): 321 votes and a majority of
  232 for 25 members, 345 and 255 for 27 (from 2007), 352 and 260 for 28 (from July 2013), each with a
  majority of the member states as well (the optional check of 62% of the population is not applied);
- for proposals made in 2014 or later, the double majority of the Treaty of Lisbon (TEU Art. 16(4), in
  force for Council votes from 1 November 2014): 55% of the member states (16 of 28) representing 65% of
  the population, each state weighing its share of the population, the figures the Council set for 2016
  (Council Decision (EU, Euratom) 2015/2393, Annex III of its Rules of Procedure). The blocking-minority
  clause (at least four states) is not applied.

A proposal's date is the year in its Commission document number (COM(YYYY) NNN, the digits after the
letter in DEU III's `prnr`), because the dataset's own date columns are partly damaged. A proposal is
given at least the membership that its data show: a state that joined later but took a position (the
decision came after its accession) raises the proposal to the rule of the enlarged Union.

Conventions for the two other institutions (assumptions of this benchmark, not treaty figures): the
Commission, which makes the proposal and can be overruled only unanimously, weighs as much as the
largest member state; the European Parliament weighs as much as the largest member state under the
co-decision procedure (COD), where it is a co-legislator with a veto, and nothing under consultation
(CNS), where its opinion does not bind the Council.

Whose consent a law needs: under unanimity every member state with a position; under qualified majority
a qualifying coalition of member states (below) and, under consultation, the Commission too (the
Council can amend its proposal only unanimously: Art. 250 TEC, now Art. 293 TFEU; under co-decision the
conciliation committee can agree without it); under co-decision also the Parliament. Member states
without a position are taken to be indifferent: they do not constrain a deal and their votes count for
any qualified majority.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.validation.solutions import weighted_median

# DEU III's actor codes (the suffix of its p<actor> and s<actor> columns), in the file's order.
INSTITUTIONS = ("com", "ep")
STATES = (
    "at",
    "be",
    "bu",
    "cr",
    "cy",
    "cz",
    "dk",
    "ee",
    "fi",
    "fr",
    "de",
    "el",
    "hu",
    "ie",
    "it",
    "lv",
    "lt",
    "lu",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "si",
    "sk",
    "es",
    "se",
    "uk",
)
ACTORS = INSTITUTIONS + STATES
ACTOR_NAMES = {
    "com": "European Commission",
    "ep": "European Parliament",
    "at": "Austria",
    "be": "Belgium",
    "bu": "Bulgaria",
    "cr": "Croatia",
    "cy": "Cyprus",
    "cz": "Czech Republic",
    "dk": "Denmark",
    "ee": "Estonia",
    "fi": "Finland",
    "fr": "France",
    "de": "Germany",
    "el": "Greece",
    "hu": "Hungary",
    "ie": "Ireland",
    "it": "Italy",
    "lv": "Latvia",
    "lt": "Lithuania",
    "lu": "Luxembourg",
    "mt": "Malta",
    "nl": "Netherlands",
    "pl": "Poland",
    "pt": "Portugal",
    "ro": "Romania",
    "si": "Slovenia",
    "sk": "Slovakia",
    "es": "Spain",
    "se": "Sweden",
    "uk": "United Kingdom",
}
EU15 = ("at", "be", "dk", "fi", "fr", "de", "el", "ie", "it", "lu", "nl", "pt", "es", "se", "uk")
JOINED_2004 = ("cy", "cz", "ee", "hu", "lv", "lt", "mt", "pl", "si", "sk")
JOINED_2007 = ("bu", "ro")
JOINED_2013 = ("cr",)

# Weighted votes of the EU of fifteen (TEC Art. 205(2), 1995 to October 2004).
VOTES_1995 = {
    "de": 10, "fr": 10, "it": 10, "uk": 10, "es": 8, "be": 5, "el": 5, "nl": 5, "pt": 5,
    "at": 4, "se": 4, "dk": 3, "ie": 3, "fi": 3, "lu": 2,
}  # fmt: skip
# Weighted votes under the Treaty of Nice (November 2004 to October 2014).
VOTES_NICE = {
    "de": 29, "fr": 29, "it": 29, "uk": 29, "es": 27, "pl": 27, "ro": 14, "nl": 13, "be": 12, "cz": 12,
    "el": 12, "hu": 12, "pt": 12, "at": 10, "bu": 10, "se": 10, "dk": 7, "ie": 7, "lt": 7, "sk": 7,
    "fi": 7, "cr": 7, "cy": 4, "ee": 4, "lv": 4, "lu": 4, "si": 4, "mt": 3,
}  # fmt: skip
# Each state's share of the Union's population (%) for 2016, as the Council set it for the double majority.
POPULATION_2016 = {
    "de": 15.93, "fr": 13.04, "uk": 12.73, "it": 12.07, "es": 9.12, "pl": 7.47, "ro": 3.90, "nl": 3.37,
    "be": 2.21, "el": 2.13, "cz": 2.05, "pt": 2.04, "hu": 1.94, "se": 1.92, "at": 1.69, "bu": 1.42,
    "dk": 1.11, "fi": 1.08, "sk": 1.06, "ie": 0.91, "cr": 0.83, "lt": 0.57, "si": 0.41, "lv": 0.39,
    "ee": 0.26, "cy": 0.17, "lu": 0.11, "mt": 0.08,
}  # fmt: skip
LISBON_FROM_YEAR = 2014


@dataclass(frozen=True)
class CouncilRule:
    """The Council's qualified-majority rule for one proposal: each member's weight as a share of the
    whole Council, the share a qualified majority needs, and the fewest members it needs."""

    name: str
    members: tuple[str, ...]
    weights: dict[str, float]  # member -> share of all weights (they sum to 1)
    threshold: float  # share of the weights a qualified majority needs
    min_members: int  # member states a qualified majority needs
    source: str

    @property
    def largest(self) -> float:
        """The largest member's share: the weight this benchmark gives the Commission and the Parliament."""
        return max(self.weights.values())


def _rule(
    name: str, members: tuple[str, ...], table: dict[str, float], needed: float, min_members: int, source: str
) -> CouncilRule:
    total = float(sum(table[m] for m in members))
    return CouncilRule(name, members, {m: table[m] / total for m in members}, needed / total, min_members, source)


NICE_SOURCE = "Treaty of Nice, Protocol on the enlargement of the EU, Art. 3, with the Acts of Accession"
RULES = {
    "eu15": _rule("EU-15 weighted votes (62 of 87)", EU15, VOTES_1995, 62, 1, "TEC Art. 205(2), 1994 Act of Accession"),
    "nice25": _rule("Nice weighted votes, EU-25 (232 of 321)", EU15 + JOINED_2004, VOTES_NICE, 232, 13, NICE_SOURCE),
    "nice27": _rule(
        "Nice weighted votes, EU-27 (255 of 345)", EU15 + JOINED_2004 + JOINED_2007, VOTES_NICE, 255, 14, NICE_SOURCE
    ),
    "nice28": _rule(
        "Nice weighted votes, EU-28 (260 of 352)",
        EU15 + JOINED_2004 + JOINED_2007 + JOINED_2013,
        VOTES_NICE,
        260,
        15,
        NICE_SOURCE,
    ),
    "lisbon28": _rule(
        "Lisbon double majority, EU-28 (55% of states, 65% of population)",
        EU15 + JOINED_2004 + JOINED_2007 + JOINED_2013,
        POPULATION_2016,
        65.0,
        16,
        "TEU Art. 16(4); population shares for 2016, Council Decision (EU, Euratom) 2015/2393",
    ),
}
_ORDER = ("eu15", "nice25", "nice27", "nice28")


def proposal_year(proposal: str) -> int:
    """The year of a proposal from its DEU III number: the two digits after the leading letters, as in
    COM(1998) 123 -> 'd98123' -> 1998 (years from 50 on are 19xx).

    Raises:
        ValueError: the number does not start with letters and two digits.
    """
    match = re.match(r"[A-Za-z]+(\d\d)", proposal.strip())
    if match is None:
        raise ValueError(f"not a DEU proposal number: {proposal!r}")
    two = int(match.group(1))
    return 1900 + two if two >= 50 else 2000 + two


def council_rule(year: int, states_taking_part: Iterable[str]) -> CouncilRule:
    """The Council's rule for a proposal of `year` whose data show `states_taking_part` (see the module's
    docstring): the double majority from 2014, else the weighted votes of the smallest Union that holds
    both the members of that year and every state taking part."""
    if year >= LISBON_FROM_YEAR:
        return RULES["lisbon28"]
    by_year = "eu15" if year < 2004 else "nice25" if year < 2007 else "nice27" if year < 2013 else "nice28"
    taking_part = set(states_taking_part)
    by_data = next(key for key in _ORDER if taking_part <= set(RULES[key].members))
    return RULES[max(by_year, by_data, key=_ORDER.index)]


def qualifying_coalition(
    position: NDArray[np.float64],
    weight: NDArray[np.float64],
    member: NDArray[np.bool_],
    threshold: float,
    min_members: int,
) -> NDArray[np.bool_]:
    """The member states of one issue whose consent a qualified majority needs (a mask over the actors).

    The coalition is built outward from the weighted median of the member states' positions (weights:
    their votes): states are added nearest the median first (ties: the larger weight first, then the order
    of the actors) until, with the indifferent members (those without a position, who count for any
    majority), it holds `threshold` of the weights and `min_members` states. The median's coalition is
    the one that asks least of the proposal's supporters and opponents alike; it holds at least one
    state. If no coalition reaches the majority, every state with a position must consent.

    Args:
        position: (A,) ideal points, NaN where the actor took no part.
        weight: (A,) each member's share of the Council's weights (0 for non-members and institutions).
        member: (A,) the actors that are member states of the Council for this proposal.
    """
    positioned = member & np.isfinite(position)
    indifferent = member & ~np.isfinite(position)
    coalition = np.zeros(position.shape, dtype=bool)
    if not positioned.any():
        return coalition
    centre = weighted_median(np.where(positioned, position, np.nan)[None, :], np.where(positioned, weight, 0.0)[None])
    centre_value = float(centre[0]) if np.isfinite(centre[0]) else float(np.nanmedian(position[positioned]))
    candidates = np.flatnonzero(positioned)
    distance = np.abs(position[candidates] - centre_value)
    order = candidates[np.lexsort((candidates, -weight[candidates], distance))]
    held = float(weight[indifferent].sum())
    count = int(indifferent.sum())
    for taken, actor in enumerate(order, start=1):
        coalition[actor] = True
        held += float(weight[actor])
        count += 1
        if held >= threshold - 1e-12 and count >= min_members:
            return coalition
        if taken == len(order):
            break
    return positioned
