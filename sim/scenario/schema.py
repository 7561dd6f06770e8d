"""The scenario format: pydantic models for every field of a scenario file.

Ranges and units are stated in each field's description; `python cli.py schema`
prints these models as JSON Schema for editors. Cross-references between fields
(actors named by events, issues named by positions) are checked in
`sim.scenario.loader`, which knows where in the file each value came from.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
# Dates: YAML gives date objects, and an in-memory document (tests, the Python API, JSON) may give ISO text;
# both are read as dates. Only here is the model lax: `true` is still not a number anywhere.
Date = Annotated[dt.date, Field(strict=False)]
NonNegative = Annotated[float, Field(ge=0.0)]


class StrictModel(BaseModel):
    """Refuses unknown keys, NaN and infinities: a typo must never pass silently.

    Strict types: `true` is not a number, "0.5" (in quotes) is not a number, 5 is not text and 12.0 is not
    a whole number; a whole number is accepted where a number is.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=False, strict=True)


class Issue(StrictModel):
    """One dimension of the issue space, scaled to [0, 1]."""

    low: str = Field(description="What an outcome of 0 on this issue means.")
    high: str = Field(description="What an outcome of 1 on this issue means.")
    status_quo: Unit = Field(0.0, description="Where the issue stands with no deal (0..1).")
    levels: dict[str, Unit] = Field(
        default_factory=dict,
        description="Named points on the issue, used to describe a deal in words "
        "(e.g. {'Assad keeps a ceremonial role': 0.35}).",
    )


class Forces(StrictModel):
    """Force an actor contributes to its side of the battlefield (strength units)."""

    ground: NonNegative = Field(0.0, le=1000.0, description="Ground forces (strength units).")
    air: NonNegative = Field(
        0.0, le=1000.0, description="Airpower (aircraft, in strength units before air effectiveness)."
    )


class Threats(StrictModel):
    """Coercive options beyond the actor's own forces, used only where switched on in `options`."""

    strike_power: NonNegative = Field(
        0.0,
        le=1000.0,
        description="Government-side strength that strikes on the regime would destroy (strength units).",
    )
    safe_zone_power: NonNegative = Field(
        0.0, le=1000.0, description="Opposition strength that safe zones would protect (strength units)."
    )
    credibility: Unit = Field(
        0.5, description="Probability the other side assigns to the threat being carried out (0..1)."
    )


class Options(StrictModel):
    """What the actor's government allows it to do. Switching an option on is a counterfactual."""

    strike_regime: bool = Field(False, description="May strike the regime's forces.")
    safe_zones: bool = Field(False, description="May impose safe zones for the opposition.")
    enforce_embargo: bool = Field(False, description="May stop the arms flow of the suppliers it is patron of.")
    escalate: bool = Field(False, description="May add force while there is no zone of agreement.")
    withdraw: bool = Field(False, description="May withdraw force under a ceasefire when the threat stays credible.")
    soften: bool = Field(True, description="May lower its demands when it has no coercive option.")
    spoil: bool = Field(
        False,
        description="Bound by the ceasefire (and a settlement) and able to break it when breaking it is "
        "worth more than keeping it.",
    )


class Actor(StrictModel):
    """A party to the negotiation: its interests, its alternative to a deal and what it may do."""

    name: str = Field(description="Display name.")
    description: str = ""
    side: Literal["government", "opposition", "neutral"] = Field(
        "neutral", description="Which side of the war the actor's forces, threats and arms support."
    )
    consent_required: bool = Field(False, description="A deal needs this actor's consent.")
    position: dict[str, Unit] = Field(description="Ideal point on each issue (0..1).")
    salience: dict[str, Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(
        description="How much each issue matters; normalised to sum to 1, so only ratios count."
    )
    risk_exponent: float = Field(
        1.0, ge=1.0, le=4.0, description="r in u = 1 - sum s|x-p|^r; 1 is risk-neutral, larger is risk-averse."
    )
    capability: float = Field(1.0, gt=0.0, le=100.0, description="Bargaining power and spoiling capacity.")
    patience: float = Field(0.97, gt=0.0, lt=1.0, description="Discount factor per step (0..1, exclusive).")
    war_cost: NonNegative = Field(0.0, le=1.0, description="Utility lost per step of war at full involvement.")
    horizon: int = Field(12, ge=1, le=520, description="Steps over which the actor projects the war.")
    stake_growth: NonNegative = Field(
        0.0, le=0.1, description="Growth per step of the negotiator's personal stake in any deal."
    )
    demand: float = Field(
        0.0, ge=-1.0, le=1.0, description="Initial margin (utility) above its alternative it insists on."
    )
    min_demand: float = Field(0.0, ge=-1.0, le=1.0, description="The lowest margin softening can reach.")
    soften_rate: NonNegative = Field(0.01, le=1.0, description="Demand given up per step when softening.")
    spoil_sensitivity: NonNegative = Field(
        0.0, le=1000.0, description="k in P(spoil) = 1 - exp(-k * capability * gap), gap = alternative - deal value."
    )
    defection_cost: NonNegative = Field(
        0.0,
        le=1.0,
        description="Utility the actor loses by being seen to break an agreement it is bound by "
        "(reputation, a patron's displeasure); a larger cost keeps it to agreements worth less than war.",
    )
    restrains_clients: Unit = Field(
        0.0,
        description="Share of its clients' will to break an agreement that the actor holds back while it "
        "prefers to keep the agreement itself (its clients are the actors whose `patron` it is; 0..1).",
    )
    forces: Forces = Field(default_factory=Forces)
    redeploy_days: NonNegative = Field(1.0, le=3650.0, description="Days withdrawn forces need to return.")
    escalate_step: NonNegative = Field(
        0.1, le=10.0, description="Force added per escalation, as a share of initial force."
    )
    max_involvement: float = Field(2.0, ge=0.0, le=100.0, description="Cap on force as a multiple of initial force.")
    withdraw_fraction: Unit = Field(0.7, description="Share of present force withdrawn by a withdraw decision.")
    arms_supply: NonNegative = Field(
        0.0, le=1000.0, description="Arms delivered to the opposition per step (stock units)."
    )
    patron: str | None = Field(None, description="Actor who can embargo this actor's arms supply.")
    threats: Threats = Field(default_factory=Threats)
    linkage_refused: list[str] = Field(
        default_factory=list, description="Issues this actor refuses to bargain over; held at the status quo."
    )
    options: Options = Field(default_factory=Options)

    @field_validator("salience")
    @classmethod
    def _salience_positive(cls, value: dict[str, float]) -> dict[str, float]:
        if sum(value.values()) <= 0.0:
            raise ValueError("salience must have at least one positive value (it is normalised to sum to 1)")
        return value


class TimeSpec(StrictModel):
    start: Date = Field(description="Date of step 0 (ISO, e.g. 2016-02-27).")
    step: Literal["week", "day"] = Field("week", description="Length of one step.")
    steps: int = Field(40, ge=1, le=1040, description="Number of steps to simulate.")
    talks_start: Date | int | None = Field(
        None, description="Date (or step) from which a deal can be concluded; before it, offers are only discussed."
    )

    @property
    def step_days(self) -> int:
        return 7 if self.step == "week" else 1

    def date_of(self, step: int) -> dt.date:
        return self.start + dt.timedelta(days=self.step_days * step)

    def step_containing(self, at: dt.date | int) -> int:
        """The step whose week (or day) contains a date; events happen in that step."""
        return at if isinstance(at, int) else (at - self.start).days // self.step_days

    def first_step_from(self, at: dt.date | int) -> int:
        """The first step starting on or after a date: talks opening mid-week conclude nothing before they open."""
        return at if isinstance(at, int) else -(-(at - self.start).days // self.step_days)

    @property
    def end(self) -> dt.date:
        return self.date_of(self.steps)


class Battlefield(StrictModel):
    """The war whose expected outcome is every actor's alternative to a deal."""

    control: float = Field(0.5, gt=0.0, lt=1.0, description="Government side's share of territory at step 0.")
    kappa: NonNegative = Field(0.15, le=5.0, description="Speed at which the force balance moves control per step.")
    noise: NonNegative = Field(
        0.01, le=1.0, description="Standard deviation of control's random change per step of war."
    )
    air_effectiveness: NonNegative = Field(
        1.0, le=100.0, description="Ground-strength equivalent of one unit of airpower."
    )
    contest_exponent: float = Field(
        1.0, gt=0.0, le=10.0, description="a in the contest success function G^a/(G^a+O^a)."
    )
    territory_weight: NonNegative = Field(
        1.0, le=5.0, description="lambda: effective strength is strength times (territory held)^lambda."
    )
    other_government_strength: NonNegative = Field(1.0, le=1000.0, description="Regime forces not modelled as actors.")
    other_opposition_strength: NonNegative = Field(
        0.2, le=1000.0, description="Opposition strength independent of arms."
    )
    arms_stock: NonNegative = Field(1.0, le=1000.0, description="Opposition arms stock at step 0.")
    arms_burn: Unit = Field(0.1, description="Share of the arms stock used per step of full-intensity war.")
    arms_effectiveness: NonNegative = Field(1.0, le=100.0, description="Opposition strength per unit of arms stock.")
    ceasefire_intensity: Unit = Field(
        0.1,
        description="Residual fighting of the parties under a ceasefire that holds (war = 1); their violations, "
        "which grow with their temptation to break it, come on top.",
    )
    credibility_tau_days: float = Field(
        21.0, gt=0.0, le=3650.0, description="tau: withdrawn force counts with weight exp(-redeploy_days/tau)."
    )
    ceasefire: bool = Field(False, description="A ceasefire is in force at step 0.")
    excluded_fighting: Unit = Field(
        0.0,
        description="Fighting by groups no agreement binds (in 2016, IS and al-Nusra), as a share of full-war "
        "intensity: it goes on under a ceasefire, costs every party, and so wears on the ceasefire (0..1).",
    )
    government_victory: dict[str, Unit] = Field(description="Outcome on each issue if the government side wins.")
    opposition_victory: dict[str, Unit] = Field(description="Outcome on each issue if the opposition side wins.")


# The agreements of a scenario without an `agreements:` section (`sim.scenario.params.default_agreements`).
DEFAULT_AGREEMENT_IDS = ("ceasefire", "settlement")


class Agreement(StrictModel):
    """An agreement over part of the issue space: who must sign it, who it binds, what it settles."""

    name: str = Field("", description="Display name (the id, with spaces, if empty).")
    issues: list[str] = Field(
        default_factory=list,
        description="Issues whose terms it sets. An agreement without issues (a bare ceasefire) cannot be "
        "negotiated: it is in force at the start or begun by a start_ceasefire event. An issue belongs to "
        "at most one agreement.",
    )
    consent: list[str] | None = Field(
        None, description="Actors who must sign it; by default the actors with consent_required: true."
    )
    bound: list[str] | None = Field(
        None,
        description="Actors it binds, who may break it (only those whose `spoil` option is on can); by "
        "default every actor.",
    )
    stops_fighting: bool = Field(
        False,
        description="While in force the parties do not fight (intensity falls to ceasefire_intensity, plus "
        "excluded fighting and violations); "
        "breaking it restarts the war, and every agreement that stops the fighting falls with it.",
    )
    in_force_at_start: bool = Field(False, description="Signed before step 0.")
    includes: list[str] = Field(
        default_factory=list,
        description="Agreements signed together with this one (a settlement includes a ceasefire); this one "
        "falls when any of them falls.",
    )
    talks_start: Date | int | None = Field(
        None, description="Date (or step) from which it can be concluded; by default time.talks_start."
    )


Action = Literal[
    "withdraw_air",
    "return_forces",
    "escalate",
    "start_ceasefire",
    "spoil",
    "resume_arms",
    "stop_arms",
    "enforce_embargo",
    "lift_embargo",
    "enable_option",
    "disable_option",
]


class Event(StrictModel):
    """Something the scenario makes happen at a date or step, whatever the actors decide."""

    at: Date | int = Field(description="ISO date within the scenario, or a step number.")
    actor: str | None = Field(None, description="Actor who acts (not needed for start_ceasefire).")
    action: Action
    fraction: Unit = Field(1.0, description="Share of force concerned (withdraw_air, return_forces, escalate).")
    redeploy_days: NonNegative | None = Field(None, le=3650.0, description="withdraw_air: days to return.")
    option: str | None = Field(None, description="enable_option/disable_option: which option.")
    agreement: str | None = Field(
        None,
        description="start_ceasefire: which agreement begins (by default the first agreement that stops the "
        "fighting and has no issues).",
    )
    label: str = Field("", description="Text shown on time axes of the report.")


class Distribution(StrictModel):
    """A distribution for one numeric field, for ensembles and sensitivity analysis."""

    dist: Literal["uniform", "normal", "truncnormal", "triangular", "beta", "choice"]
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0.0)
    mode: float | None = None
    a: float | None = Field(None, gt=0.0)
    b: float | None = Field(None, gt=0.0)
    values: list[float] | None = None


class ThreatDemand(StrictModel):
    """What the threatener demands: an issue brought to a level by the agreements in force, or an agreement
    in force. The threat lapses once the demand is met."""

    issue: str | None = Field(None, description="The issue the demand is about (with `level`).")
    level: Unit | None = Field(None, description="The level that satisfies the demand (0..1).")
    direction: Literal["at_least", "at_most"] = Field(
        "at_least", description="Whether the issue must reach at least `level` or at most `level`."
    )
    agreement: str | None = Field(None, description="An agreement that must be in force (instead of an issue).")


class Threat(StrictModel):
    """A threat by one actor against another: an instrument held over the target, with a size, a credibility,
    a cost of carrying it out, and optionally a demand and a deadline ("strikes unless ... by date T")."""

    by: str = Field(description="The actor who threatens.")
    against: str = Field(description="The actor whose alternative the threat is meant to worsen.")
    instrument: Literal["strikes", "safe_zones"] = Field(
        description="strikes: on the government side's forces (or the opposition's, by a government-side actor); "
        "safe_zones: protection of the opposition side."
    )
    size: NonNegative = Field(
        le=1000.0, description="Strength destroyed (strikes) or protected (safe zones), in strength units."
    )
    credibility: Unit = Field(
        0.5, description="Probability the others give to its being carried out, before the redeploy lag (0..1)."
    )
    redeploy_days: NonNegative = Field(
        0.0,
        le=3650.0,
        description="Days the threatener needs to bring the means into place; the credibility is weighted by "
        "exp(-redeploy_days / battlefield.credibility_tau_days).",
    )
    ruled_out: bool = Field(
        False,
        description="The threatener's government has ruled it out: it carries no weight and is never carried out.",
    )
    cost: NonNegative = Field(
        0.0,
        le=1.0,
        description="Utility per step the threatener loses while carrying it out, beyond its war cost (material "
        "and political).",
    )
    audience_cost: NonNegative = Field(
        0.0,
        le=1.0,
        description="Utility the threatener loses if the deadline passes, the demand is unmet and it does not "
        "carry the threat out (a bluff called).",
    )
    demand: ThreatDemand | None = Field(None, description="What would make the threatener drop the threat.")
    deadline: Date | int | None = Field(
        None, description="Date (or step) from which the threatener decides whether to carry the threat out."
    )


class Exposure(StrictModel):
    """The actor whose acts an observed series counts: the expected count scales with its force present over
    its force at the start (`sim.mechanisms.observation.activity`)."""

    actor: str = Field(min_length=1, description="The actor whose acts the series counts (e.g. russia).")
    force: Literal["air", "ground"] = Field(
        "air", description="Which of its forces the counts follow: air (strikes) or ground."
    )


class ObservationModel(StrictModel):
    """How the model's fighting intensity gives the expected count of an observed series, and the spread of
    the counts around it (`sim.mechanisms.observation`)."""

    dist: Literal["negative_binomial"] = Field(
        "negative_binomial",
        description="The count distribution: negative_binomial (NB2: variance = mean + mean^2 / dispersion).",
    )
    scale: float = Field(
        gt=0.0,
        le=1e6,
        description="Expected count per week at full-war intensity (intensity 1), above the baseline "
        "(above 0, up to 1e6).",
    )
    dispersion: float = Field(
        gt=0.0,
        le=1e6,
        description="Dispersion of the negative binomial (above 0, up to 1e6): small values spread the counts "
        "widely; large ones approach a Poisson.",
    )
    baseline: NonNegative = Field(0.0, le=1e6, description="Expected count per week at zero intensity (0 to 1e6).")
    exposure: Exposure | None = Field(
        None,
        description="For a series of one actor's acts (strikes): the counts follow the fighting times that "
        "actor's force present over its force at the start. Without it they follow the fighting alone.",
    )


class Observation(StrictModel):
    """An observed series a scenario is compared with: a CSV file of counts per week or month, and the
    observation model that links the model's fighting intensity to them."""

    file: str = Field(
        min_length=1,
        description="The CSV file (UTF-8, comma-separated, a header line), relative to the scenario file "
        "that names it.",
    )
    resolution: Literal["week", "month"] = Field(
        description="week: each date opens a period of 7 days; month: each date (YYYY-MM) is a calendar month."
    )
    date_column: str | None = Field(
        None,
        min_length=1,
        description="The column of the dates (ISO YYYY-MM-DD for weeks, YYYY-MM for months), increasing; by "
        "default week_start for weeks and month for months.",
    )
    column: str = Field(min_length=1, description="The column of the counts (whole numbers, 0 or more).")
    model: ObservationModel = Field(description="The observation model (negative_binomial).")
    since: Date | None = Field(
        None, description="Use only the periods that start on or after this date (the rest of the file is skipped)."
    )
    until: Date | None = Field(
        None,
        description="Use only the periods that end on or before this date: a week or month running past it is "
        "skipped (e.g. a week that runs into a month the calibration must not see).",
    )
    label: str = Field("", description="Text naming the series in reports (the id if empty).")

    @property
    def date_key(self) -> str:
        """The date column, or its default for the resolution."""
        if self.date_column is not None:
            return self.date_column
        return "week_start" if self.resolution == "week" else "month"


class Scenario(StrictModel):
    """A whole scenario file, after `extends:` has been merged."""

    name: str
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    seed: int = Field(42, ge=0, le=2**63 - 1)
    time: TimeSpec
    issues: dict[str, Issue] = Field(min_length=1)
    actors: dict[str, Actor] = Field(min_length=2)
    battlefield: Battlefield | None = None
    agreements: dict[str, Agreement] = Field(
        default_factory=dict,
        description="The agreements that can be reached. Without this section there are two: `ceasefire` "
        "(no issues, stops the fighting, in force at the start when battlefield.ceasefire is true) and "
        "`settlement` (every issue, stops the fighting, includes the ceasefire).",
    )
    threats: dict[str, Threat] = Field(
        default_factory=dict,
        description="Threats as objects: who threatens whom with what, at what cost, demanding what, by when. "
        "A threat switches its instrument's option on for the threatener and sets its size and credibility.",
    )
    events: dict[str, Event] = Field(default_factory=dict)
    uncertain: dict[str, Distribution] = Field(default_factory=dict)
    observations: dict[str, Observation] = Field(
        default_factory=dict,
        description="Observed series (counts per week or month from a CSV file) and the observation model "
        "that links the model's fighting intensity to them.",
    )

    @field_validator("events", mode="before")
    @classmethod
    def _events_as_mapping(cls, value: object) -> object:
        # A plain list is accepted too; its items get ids by position.
        if isinstance(value, list):
            return {f"event_{index + 1}": item for index, item in enumerate(value)}
        return value
