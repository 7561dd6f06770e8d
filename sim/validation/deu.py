"""The DEU III benchmark: how well each method predicts the outcomes of 353 real EU legislative decisions.

Data: the DEU III dataset (Arregui and Perarnaud 2021, "A new dataset on legislative decision-making in
the European Union: the DEU III dataset", doi 10.34810/data53, CC BY 4.0), the successor of the DEU data
of Thomson, Stokman, Achen and Koenig (eds., 2006, "The European Union Decides"): for each controversial
issue of a Commission proposal, the position (0 to 100) and salience (0 to 100) of the Commission, the
Parliament and each member state, the reference point (what happens without a new law) and the outcome.

For each issue with an outcome the benchmark predicts the outcome with six methods (positions and
outcomes rescaled to [0, 1]; errors reported back on the 0 to 100 scale):

- `compromise`: the capability-times-salience weighted mean of every position;
- `median`: the weighted median of every position, with the same weights;
- `nash_rp`: the symmetric Nash bargaining solution among the actors whose consent is needed, with the
  reference point as the disagreement point (where there is none, each actor's worst outcome);
- `nash_asymmetric`: the same with bargaining weights capability times salience;
- `kalai_smorodinsky`: the Kalai-Smorodinsky solution among the same actors, from the same point;
- `model`: this model's own bargaining (`sim.mechanisms.bargaining.solve_bargaining`, with
  `bargaining_weights`, `reservation_values`, `sim.mechanisms.alternatives.fighting_cost` and
  `sim.mechanisms.utility.utility`, the functions the simulation's engine calls), as the engine sets it
  up for a scenario without a battlefield: each actor's alternative to a deal is the utility of the
  status quo (the reference point) minus its discounted cost of having no deal, the parties whose consent
  is needed bargain, and where the zone of agreement is empty there is no deal and the reference point
  stands. Each issue is a one-issue negotiation, so an actor's DEU salience enters as the share of its
  capability it brings to the issue (capability x salience, as in the compromise model), the model's
  salience across issues being 1. Its two free parameters, the actors' risk exponent r and the cost of
  no deal per step (the `war_cost` of a scenario), are tuned on the training half only.

Capabilities, the Council's voting rule and whose consent a law needs are in `sim.validation.council`;
the solution concepts and the bootstrap in `sim.validation.solutions`. Issues are split at random into a
training half and a test half (seed `SPLIT_SEED`); every figure the benchmark quotes is on the test half.
"""

from __future__ import annotations

import hashlib
import io
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.mechanisms.alternatives import fighting_cost
from sim.mechanisms.bargaining import bargaining_weights, reservation_values, solve_bargaining
from sim.mechanisms.utility import utility
from sim.validation.council import (
    ACTOR_NAMES,
    ACTORS,
    INSTITUTIONS,
    STATES,
    council_rule,
    proposal_year,
    qualifying_coalition,
)
from sim.validation.solutions import (
    cluster_bootstrap_means,
    kalai_smorodinsky_solution,
    nash_solution,
    percentile_interval,
    present,
    reach_from,
    weighted_mean,
    weighted_median,
)

Array = NDArray[np.float64]

METHODS = ("compromise", "median", "nash_rp", "nash_asymmetric", "kalai_smorodinsky", "model")
METHOD_LABELS = {
    "compromise": "compromise model (weighted mean)",
    "median": "weighted median",
    "nash_rp": "Nash bargaining, reference point",
    "nash_asymmetric": "asymmetric Nash, capability weights",
    "kalai_smorodinsky": "Kalai-Smorodinsky",
    "model": "this model's bargaining solver",
}
BASELINE = "compromise"
SPLIT_SEED = 13  # the issue's number: the split of the issues into halves, and the bootstrap's draws
BOOTSTRAP_DRAWS = 10_000
# The model's free parameters and the values tried on the training half (the schema's ranges: r in [1, 4],
# war_cost in [0, 1]); the first best in this order wins a tie, so the simplest setting is kept.
MODEL_GRID = {
    "risk_exponent": (1.0, 1.5, 2.0, 3.0, 4.0),
    "war_cost": (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
}
# Fixed at the scenario schema's defaults: they scale the cost of no deal (patience, horizon) or do not
# matter when every actor shares them (patience in the bargaining weights).
MODEL_PATIENCE = 0.97
MODEL_HORIZON = 12
VOTING_RULES = {"QMV": "qmv", "QMV(10)": "qmv", "Unan": "unanimity"}
RULE_LABELS = {"qmv": "qualified majority", "unanimity": "unanimity"}
CITATION = (
    "Arregui, J. and Perarnaud, C. (2021), A new dataset on legislative decision-making in the European Union: "
    "the DEU III dataset, doi 10.34810/data53, CC BY 4.0 (after Thomson et al. 2006, The European Union Decides)"
)
REQUIRED_COLUMNS = ("prnr", "isnr", "proc", "counvte", "rp", "out")
MAX_DATA_BYTES = 20_000_000


class BenchmarkDataError(ValueError):
    """The benchmark's data file cannot be used (missing, unreadable, or without the DEU III columns)."""


@dataclass
class DeuIssues:
    """The issues with an outcome, as arrays over the actors of `sim.validation.council.ACTORS`.

    Positions, saliences, reference points and outcomes are on [0, 1]; capability is each actor's weight
    for the proposal (a share of the Council's weights; see `sim.validation.council`); `consent` marks the
    actors whose consent the law needs.
    """

    isnr: list[str]
    proposal: list[str]
    voting_rule: list[str]  # "qmv" or "unanimity"
    procedure: list[str]  # "COD" or "CNS"
    council: list[str]  # the name of the Council's rule used for the proposal
    position: Array  # (I, A), NaN where the actor took no part
    salience: Array  # (I, A)
    capability: Array  # (I, A)
    consent: NDArray[np.bool_]  # (I, A)
    reference: Array  # (I,), NaN where the data give no reference point
    outcome: Array  # (I,)
    salience_filled: int = 0  # positions given without a salience, filled with the issue's mean salience

    @property
    def bargainers(self) -> NDArray[np.bool_]:
        """(I, A) the actors whose consent is needed and who care about the issue (salience > 0): an actor
        with salience 0 is indifferent to the outcome and accepts any."""
        return self.consent & present(self.position) & (self.salience > 0)

    @property
    def weight(self) -> Array:
        """(I, A) capability x salience: the compromise model's weights and the bargaining powers."""
        return np.where(present(self.position), self.capability * self.salience, 0.0)


@dataclass
class DeuBenchmark:
    """Everything the benchmark writes: the predictions (one row per issue and method) and the summary."""

    predictions: pd.DataFrame
    summary: dict[str, Any]


def file_sha256(data: bytes) -> str:
    """The sha256 of a file's bytes, as summary.json records it."""
    return hashlib.sha256(data).hexdigest()


def read_deu(path: Path) -> tuple[pd.DataFrame, str]:
    """The DEU III table (tab-separated) and the sha256 of the file's bytes.

    Raises:
        BenchmarkDataError: the file is missing, unreadable, not tab-separated text, or lacks a column.
    """

    def unreadable(error: Exception) -> BenchmarkDataError:
        reason = getattr(error, "strerror", None) or error
        return BenchmarkDataError(f"{path}: cannot read the DEU III data ({reason}).")

    try:
        info = Path(path).stat()
    except (OSError, ValueError) as error:
        raise unreadable(error) from None
    if not stat.S_ISREG(info.st_mode):
        raise BenchmarkDataError(f"{path}: not a regular file. Hint: give the DEU III table (a .tsv file).")
    if info.st_size > MAX_DATA_BYTES:
        raise BenchmarkDataError(
            f"{path}: larger than the {MAX_DATA_BYTES:,} bytes the table may have (DEU III is under 100 kB)."
        )
    try:
        data = Path(path).read_bytes()
    except (OSError, ValueError) as error:
        raise unreadable(error) from None
    try:
        frame = pd.read_csv(io.BytesIO(data), sep="\t", dtype={"prnr": str, "isnr": str})
    except (ValueError, UnicodeDecodeError) as error:
        raise BenchmarkDataError(f"{path}: not a tab-separated DEU III table ({error}).") from None
    wanted = [*REQUIRED_COLUMNS, *(f"p{a}" for a in ACTORS), *(f"s{a}" for a in ACTORS)]
    missing = [column for column in wanted if column not in frame.columns]
    if missing:
        raise BenchmarkDataError(
            f"{path}: the DEU III table lacks the column(s) {', '.join(missing[:6])}. "
            "Hint: use the file shipped in data/deu3/."
        )
    numeric = ["rp", "out", *(f"p{a}" for a in ACTORS), *(f"s{a}" for a in ACTORS)]
    for column in numeric:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise BenchmarkDataError(f"{path}: column {column} holds text where numbers 0 to 100 belong.")
        values = frame[column].to_numpy(dtype=float)
        if np.any((values < 0) | (values > 100)):
            raise BenchmarkDataError(f"{path}: column {column} holds a value outside 0 to 100.")
    decided = frame[frame["out"].notna()]
    for column, known in (("counvte", set(VOTING_RULES)), ("proc", {"COD", "CNS"})):
        unknown = set(decided[column].astype(str).str.strip()) - known
        if unknown:
            raise BenchmarkDataError(
                f"{path}: column {column} holds {sorted(unknown)[:3]} on issues with an outcome; "
                f"it must be one of {sorted(known)}."
            )
    for proposal in decided["prnr"].astype(str):
        try:
            proposal_year(proposal)
        except ValueError:
            raise BenchmarkDataError(
                f"{path}: proposal number {proposal!r} in column prnr is not a letter and a year (e.g. d98134)."
            ) from None
    return frame, file_sha256(data)


def deu_issues(frame: pd.DataFrame) -> DeuIssues:
    """The issues of the table that have an outcome, as arrays, with capabilities and consent."""
    rows = frame[frame["out"].notna()].reset_index(drop=True)
    position = rows[[f"p{a}" for a in ACTORS]].to_numpy(dtype=float) / 100.0
    salience = rows[[f"s{a}" for a in ACTORS]].to_numpy(dtype=float) / 100.0
    taking_part = np.isfinite(position)
    # A position without a salience: the mean salience of the issue's other actors (0.5 if none has one).
    gap = taking_part & ~np.isfinite(salience)
    known = taking_part & np.isfinite(salience)
    count = known.sum(axis=1)
    issue_mean = np.where(count > 0, np.where(known, salience, 0.0).sum(axis=1) / np.maximum(count, 1), 0.5)
    salience = np.where(gap, issue_mean[:, None], np.nan_to_num(salience))
    salience = np.where(taking_part, salience, 0.0)

    state_index = {state: ACTORS.index(state) for state in STATES}
    proposals = rows["prnr"].astype(str).str.strip().tolist()
    by_proposal: dict[str, set[str]] = {}
    for i, proposal in enumerate(proposals):
        by_proposal.setdefault(proposal, set()).update(s for s, j in state_index.items() if taking_part[i, j])

    n_issues, n_actors = position.shape
    capability = np.zeros((n_issues, n_actors))
    consent = np.zeros((n_issues, n_actors), dtype=bool)
    voting_rule, procedure, council = [], [], []
    com, ep = ACTORS.index("com"), ACTORS.index("ep")
    for i, row in enumerate(rows.itertuples(index=False)):
        rule = council_rule(proposal_year(proposals[i]), by_proposal[proposals[i]])
        member = np.array([a in rule.weights for a in ACTORS])
        weights = np.array([rule.weights.get(a, 0.0) for a in ACTORS])
        co_decision = str(row.proc).strip().upper() == "COD"
        capability[i] = weights
        capability[i, com] = rule.largest
        capability[i, ep] = rule.largest if co_decision else 0.0
        kind = VOTING_RULES[str(row.counvte).strip()]
        positioned = member & taking_part[i]
        if kind == "unanimity":
            consent[i] = positioned
        else:
            min_members = 10 if str(row.counvte).strip() == "QMV(10)" else rule.min_members
            consent[i] = qualifying_coalition(position[i], weights, member, rule.threshold, min_members)
            consent[i, com] = not co_decision and bool(taking_part[i, com])
        consent[i, ep] = co_decision and bool(taking_part[i, ep])
        voting_rule.append(kind)
        procedure.append("COD" if co_decision else "CNS")
        council.append(rule.name)
    return DeuIssues(
        isnr=rows["isnr"].astype(str).str.strip().tolist(),
        proposal=proposals,
        voting_rule=voting_rule,
        procedure=procedure,
        council=council,
        position=position,
        salience=salience,
        capability=capability,
        consent=consent,
        reference=rows["rp"].to_numpy(dtype=float) / 100.0,
        outcome=rows["out"].to_numpy(dtype=float) / 100.0,
        salience_filled=int(gap.sum()),
    )


def classic_predictions(issues: DeuIssues) -> dict[str, Array]:
    """The five classic methods' predictions (I,) on [0, 1]. Where the zone of agreement of a bargaining
    solution is empty, no one can gain and the reference point stands (with no reference point the zone
    always has room)."""
    weight = issues.weight
    bargainers = issues.bargainers
    reach = reach_from(issues.position, issues.reference)
    ideal = np.where(bargainers, issues.position, 0.0)
    fallback = np.where(np.isfinite(issues.reference), issues.reference, weighted_mean(issues.position, weight))
    nash, _ = nash_solution(ideal, reach, np.ones_like(weight), bargainers)
    asymmetric, _ = nash_solution(ideal, reach, weight, bargainers)
    kalai, _ = kalai_smorodinsky_solution(ideal, reach, bargainers)
    return {
        "compromise": weighted_mean(issues.position, weight),
        "median": weighted_median(issues.position, weight),
        "nash_rp": np.where(np.isfinite(nash), nash, fallback),
        "nash_asymmetric": np.where(np.isfinite(asymmetric), asymmetric, fallback),
        "kalai_smorodinsky": np.where(np.isfinite(kalai), kalai, fallback),
    }


def model_predictions(issues: DeuIssues, risk_exponent: Array, war_cost: Array) -> tuple[Array, NDArray[np.bool_]]:
    """This model's bargaining on every issue, for each setting g of its free parameters: (G, I) outcomes on
    [0, 1] and (G, I) whether a zone of agreement existed (a deal); without one the reference point stands.

    The set-up is the engine's for a scenario without a battlefield (`sim.model.engine`): actor i's
    alternative is d_i = u_i(status quo) - C_i with C_i = war_cost x (1 - delta^H) / (1 - delta), its
    reservation r_i = d_i + demand (0 at the start, as in a scenario's default), its bargaining weight
    w_i = capability_i / rho_i (`bargaining_weights`); `solve_bargaining` finds the zone of agreement of
    the actors whose consent is needed and the asymmetric Nash solution inside it. Without a reference
    point an actor's status quo is its worst outcome on the scale. Issues are solved in groups with the same
    number of bargainers, every setting of the parameters at once (a run axis, as for an ensemble).
    """
    risk_exponent = np.atleast_1d(np.asarray(risk_exponent, dtype=float))
    war_cost = np.atleast_1d(np.asarray(war_cost, dtype=float))
    settings = len(risk_exponent)
    n_issues = len(issues.isnr)
    bargainers = issues.bargainers
    effective = issues.capability * issues.salience
    counts = bargainers.sum(axis=1)
    prediction = np.full((settings, n_issues), np.nan)
    zone = np.zeros((settings, n_issues), dtype=bool)
    reference = issues.reference
    for size in np.unique(counts):
        rows = np.flatnonzero(counts == size)
        if size == 0:  # no one whose consent is needed cares: the compromise stands in for a deal
            mean = weighted_mean(issues.position[rows], issues.weight[rows])
            prediction[:, rows] = np.where(np.isfinite(reference[rows]), reference[rows], mean)
            continue
        columns = np.argsort(~bargainers[rows], axis=1, kind="stable")[:, :size]
        ideal = np.take_along_axis(issues.position[rows], columns, axis=1)
        capability = np.take_along_axis(effective[rows], columns, axis=1)
        n = len(rows)
        runs = settings * n
        ideal_runs = np.broadcast_to(ideal, (settings, n, size)).reshape(runs, size, 1)
        capability_runs = np.broadcast_to(capability, (settings, n, size)).reshape(runs, size)
        risk = np.broadcast_to(np.repeat(risk_exponent, n)[:, None], (runs, size))
        cost_rate = np.broadcast_to(np.repeat(war_cost, n)[:, None], (runs, size))
        ref = np.tile(reference[rows], settings)
        status_quo = np.where(np.isfinite(ref), ref, 0.5)[:, None]
        salience = np.ones((runs, size, 1))  # one issue: the model's saliences sum to 1
        at_status_quo = utility(status_quo, ideal_runs, salience, risk)
        worst = 1.0 - np.maximum(ideal_runs[..., 0], 1.0 - ideal_runs[..., 0]) ** risk
        patience = np.full((runs, size), MODEL_PATIENCE)
        cost = fighting_cost(cost_rate, np.ones((runs, size)), patience, np.full((runs, size), MODEL_HORIZON))
        batna = np.where(np.isfinite(ref)[:, None], at_status_quo, worst) - cost
        none = np.zeros((runs, size))
        reservation = reservation_values(batna, none, none, np.zeros((runs, 1)))
        weights = bargaining_weights(capability_runs, patience, none, np.zeros((runs, 1)))
        outcome = solve_bargaining(ideal_runs, salience, risk, reservation, weights, status_quo, np.array([True]))
        deal = outcome.zone_exists
        x = np.where(deal | ~np.isfinite(ref), outcome.proposal[:, 0], ref)
        prediction[:, rows] = x.reshape(settings, n)
        zone[:, rows] = deal.reshape(settings, n)
    return prediction, zone


def model_grid() -> list[tuple[float, float]]:
    """Every (risk exponent, war cost) of `MODEL_GRID`, in the order ties are broken."""
    return [(r, c) for r in MODEL_GRID["risk_exponent"] for c in MODEL_GRID["war_cost"]]


def tune_model(
    issues: DeuIssues, train: NDArray[np.bool_]
) -> tuple[list[tuple[float, float]], Array, NDArray[np.bool_], Array, int]:
    """The model on every setting of `MODEL_GRID`; the setting with the lowest mean absolute error on the
    training issues (the first such in grid order). Returns (grid, predictions (G, I), deals (G, I),
    training MAE per setting on the 0-100 scale, index of the chosen setting)."""
    grid = model_grid()
    predictions, deals = model_predictions(issues, np.array([g[0] for g in grid]), np.array([g[1] for g in grid]))
    train_mae = np.mean(np.abs(predictions[:, train] - issues.outcome[train]), axis=1) * 100.0
    return grid, predictions, deals, train_mae, int(np.argmin(train_mae))


def every_actor_consenting(issues: DeuIssues) -> DeuIssues:
    """The same issues with every actor that has a position and a weight among those whose consent is needed."""
    return replace(issues, consent=present(issues.position) & (issues.capability > 0))


def split_halves(n: int, seed: int) -> NDArray[np.bool_]:
    """True for the issues of the test half: a random half of the `n` issues (rounded down), fixed by `seed`."""
    rng = np.random.default_rng(seed)
    test = np.zeros(n, dtype=bool)
    test[rng.permutation(n)[: n // 2]] = True
    return test


def _interval(values: Array) -> list[float]:
    return [round(float(values[0]), 4), round(float(values[1]), 4)]


def _scores(
    errors: Array, clusters: NDArray[np.int64], draws: int, rng: np.random.Generator
) -> dict[str, dict[str, Any]]:
    """MAE per method with its bootstrap interval, and the paired difference against the baseline."""
    baseline = METHODS.index(BASELINE)
    differences = errors - errors[:, [baseline]]
    replicates = cluster_bootstrap_means(np.hstack([errors, differences]), clusters, draws, rng)
    bounds = percentile_interval(replicates)
    m = len(METHODS)
    scores = {}
    for j, method in enumerate(METHODS):
        scores[method] = {
            "mae": round(float(errors[:, j].mean()), 4),
            "ci95": _interval(bounds[:, j]),
            "difference_vs_compromise": {
                "mean": round(float(differences[:, j].mean()), 4),
                "ci95": _interval(bounds[:, m + j]),
            },
        }
    return scores


def _outcome_sentence(test: dict[str, dict[str, Any]], issues: int) -> str:
    model, baseline = test["model"], test[BASELINE]
    difference = model["difference_vs_compromise"]
    low, high = difference["ci95"]
    if high < 0:
        verdict = "beats"
    elif low > 0:
        verdict = "does worse than"
    else:
        verdict = "cannot be told apart from"
    best = min(METHODS, key=lambda method: test[method]["mae"])
    return (
        f"On the test half ({issues} issues) this model's bargaining solver {verdict} the compromise model: "
        f"mean absolute error {model['mae']:.1f} against {baseline['mae']:.1f} on the 0-100 scale (paired "
        f"difference {difference['mean']:+.1f}, 95% interval {low:+.1f} to {high:+.1f}). Lowest error of the six: "
        f"{METHOD_LABELS[best]}, {test[best]['mae']:.1f}."
    )


def run_deu_benchmark(
    path: Path, seed: int = SPLIT_SEED, draws: int = BOOTSTRAP_DRAWS, shown_path: str | None = None
) -> DeuBenchmark:
    """Run the whole benchmark on the DEU III file at `path`: predictions, tuning, scores, summary.

    Args:
        path: the tab-separated DEU III table.
        seed: the split of the issues into halves and the bootstrap's draws.
        draws: bootstrap replicates.
        shown_path: how the summary names the file (default: `path` as given).
    """
    frame, sha256 = read_deu(path)
    issues = deu_issues(frame)
    if len(issues.isnr) < 4:
        raise BenchmarkDataError(f"{path}: fewer than 4 issues with an outcome; nothing to split and score.")
    test = split_halves(len(issues.isnr), seed)
    train = ~test

    grid, grid_predictions, grid_zones, train_mae, chosen = tune_model(issues, train)
    predictions = classic_predictions(issues)
    predictions["model"] = grid_predictions[chosen]
    model_deals = grid_zones[chosen]
    # Diagnostic, not one of the six methods: the same solver when every actor with a position and a say
    # must consent (a consensus norm instead of the formal voting rule), tuned the same way.
    consensus = every_actor_consenting(issues)
    _, consensus_predictions, _, consensus_train, consensus_chosen = tune_model(consensus, train)
    consensus_test = np.mean(np.abs(consensus_predictions[consensus_chosen, test] - issues.outcome[test])) * 100.0

    errors = np.column_stack([np.abs(predictions[m] - issues.outcome) * 100.0 for m in METHODS])
    _, clusters = np.unique(np.array(issues.proposal), return_inverse=True)
    rng = np.random.default_rng(seed)
    rules = np.array(issues.voting_rule)
    scores_test = _scores(errors[test], clusters[test], draws, rng)
    by_rule = {}
    for rule in ("qmv", "unanimity"):
        subset = test & (rules == rule)
        if subset.sum() >= 2:
            by_rule[rule] = {
                "issues": int(subset.sum()),
                "methods": _scores(errors[subset], clusters[subset], draws, rng),
            }
        else:
            by_rule[rule] = {"issues": int(subset.sum()), "methods": None}
    with_reference = np.isfinite(issues.reference)
    by_reference = {}
    for key, subset in (("with_reference_point", test & with_reference), ("without", test & ~with_reference)):
        by_reference[key] = {
            "issues": int(subset.sum()),
            "mae": {
                m: round(float(errors[subset, j].mean()), 4) if subset.any() else None for j, m in enumerate(METHODS)
            },
        }

    council_counts: dict[str, int] = {}
    for name in issues.council:
        council_counts[name] = council_counts.get(name, 0) + 1
    consenting = issues.bargainers.sum(axis=1)
    summary: dict[str, Any] = {
        "kind": "benchmark",
        "title": "DEU III benchmark: EU legislative outcomes",
        "outcome": _outcome_sentence(scores_test, int(test.sum())),
        "data": {
            "file": shown_path if shown_path is not None else str(path),
            "sha256": sha256,
            "rows": len(frame),
            "issues_with_outcome": len(issues.isnr),
            "issues_with_reference_point": int(with_reference.sum()),
            "proposals": len(set(issues.proposal)),
            "positions_without_salience": issues.salience_filled,
            "citation": CITATION,
        },
        "seed": seed,
        "split": {
            "unit": "issue",
            "train": int(train.sum()),
            "test": int(test.sum()),
            "rule": "a random half of the issues (numpy default_rng(seed).permutation), the rest for training",
        },
        "bootstrap": {"draws": draws, "level": 0.95, "resampled": "proposals (clusters of issues)"},
        "scale": "mean absolute error on the 0-100 scale of the DEU positions",
        "methods": {
            m: {
                "label": METHOD_LABELS[m],
                "test": scores_test[m],
                "train_mae": round(float(errors[train, j].mean()), 4),
            }
            for j, m in enumerate(METHODS)
        },
        "by_voting_rule": by_rule,
        "by_reference_point": by_reference,
        "model": {
            "tuned_on": "train",
            "grid": {name: list(values) for name, values in MODEL_GRID.items()},
            "chosen": {"risk_exponent": grid[chosen][0], "war_cost": grid[chosen][1]},
            "train_mae": round(float(train_mae[chosen]), 4),
            "train_mae_by_setting": [
                {"risk_exponent": r, "war_cost": c, "train_mae": round(float(v), 4)}
                for (r, c), v in zip(grid, train_mae, strict=True)
            ],
            "fixed": {"patience": MODEL_PATIENCE, "horizon": MODEL_HORIZON, "demand": 0.0, "stake_growth": 0.0},
            "test_issues_with_a_deal": int(model_deals[test].sum()),
            "diagnostic_every_actor_consenting": {
                "what": "the same solver and tuning when every actor with a position and a weight must consent",
                "chosen": {
                    "risk_exponent": grid[consensus_chosen][0],
                    "war_cost": grid[consensus_chosen][1],
                },
                "train_mae": round(float(consensus_train[consensus_chosen]), 4),
                "test_mae": round(float(consensus_test), 4),
            },
        },
        "capabilities": {
            "council_rules": dict(sorted(council_counts.items())),
            "commission": "the largest member state's weight",
            "parliament": "the largest member state's weight under co-decision (COD), none under consultation (CNS)",
            "bargainers_per_issue": {
                "min": int(consenting.min()),
                "median": float(np.median(consenting)),
                "max": int(consenting.max()),
            },
        },
        "actors": {a: ACTOR_NAMES[a] for a in (*INSTITUTIONS, *STATES)},
    }
    halves = np.where(test, "test", "train")
    table = pd.DataFrame(
        {
            "isnr": np.repeat(np.array(issues.isnr, dtype=object), len(METHODS)),
            "method": np.tile(np.array(METHODS, dtype=object), len(issues.isnr)),
            "prediction": np.column_stack([predictions[m] for m in METHODS]).ravel() * 100.0,
            "outcome": np.repeat(issues.outcome * 100.0, len(METHODS)),
            "half": np.repeat(halves.astype(object), len(METHODS)),
        }
    )
    return DeuBenchmark(predictions=table, summary=summary)
