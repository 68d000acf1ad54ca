"""Eligibility: the fund round's area test, one verdict per area with value, threshold, margin and reason.

Each rule is `metric(area, crime types) operator threshold`. The threshold is absolute, a
multiple of the force-wide figure, a rank among the force's areas or a top percentile of
them. Rules combine with all/any. Where the areas span several forces (a national table) each
area is held to its own force, as its commissioner would hold it: the force-wide figure, the
peers ranked and the rates the shrunk estimator pools are those of the area's own force (or
district), never the whole table's. The Home Office prospectuses' numeric benchmarks were not
published in a form we could retrieve, so the shipped thresholds are assumptions modelled on
the rounds' stated principle ("areas with the highest concentration of specific crime types").
"""

from __future__ import annotations

import operator as op
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .arrays import Labelled
from .demand import Demand, expected_records
from .errors import ConfigError, InternalError, RuleError
from .schema import CRIME_TYPES, FundRound, Rule

MANY_AREAS = 40
"""Above this many areas there are too many to show one by one: the terminal, the report's tables and the charts
show the funded (or eligible) ones, at most MANY_AREAS of them, and say how many more there are; every area
stays in the CSVs."""


def too_many_to_list(count: int) -> bool:
    """True when `count` areas are too many to show one by one (MANY_AREAS)."""
    return count > MANY_AREAS


COMPARE = {">=": op.ge, ">": op.gt, "<=": op.le, "<": op.lt}
SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
PEER_NOUN = "district"
OWN_FORCE = "its own force"
"""The force a rule names where the areas span several forces: each area's own."""
RELATIVE_KINDS = ("force_mean", "rank", "percentile")
UNITS = {
    "rate_per_1000": "records per 1,000 residents per year",
    "count": "records per year",
    "harm_days": "harm days over the horizon",
    "harm_per_1000": "harm days per 1,000 residents",
    "share_of_force": "% of the force's records",
}

RATE_ESTIMATORS = {
    "observed": "Rates per 1,000 residents are as observed: each area's records ÷ its residents.",
    "shrunk": (
        "Rates per 1,000 residents are empirical-Bayes estimates: each area's observed rate is pulled toward {toward} "
        "(a Poisson-gamma model whose strength is fitted to how much more the areas' rates differ than count noise explains), "
        "so an area with few residents moves most and a large one hardly at all."
    ),
}
"""How rates for the rules are estimated (the schema's `demand.rate_estimator`), each in one sentence for the report."""

PER_POPULATION = ("rate_per_1000", "harm_per_1000")
"""The metrics measured per 1,000 residents: the ones a rate estimator changes."""


@dataclass(frozen=True)
class RuleOutcome:
    """One rule applied to every area."""

    rule_id: str
    rule: Rule
    values: np.ndarray
    thresholds: np.ndarray
    passed: np.ndarray
    margins: np.ndarray
    peer_names: tuple[str, ...] = ()
    measured: str = ""
    no_records: np.ndarray | None = None
    """Areas whose peer group has no records of the rule's crime types: a relative test cannot rank them, so they fail."""
    margin_records: np.ndarray | None = None
    """The margin in records over the data period: how many of the rule's records an area could lose (or, under a `<`
    rule, gain) and still pass, negative when it fails by that many. A force_mean threshold moves with the area's own
    records (they are part of its peers' figure), a rank, percentile or absolute threshold and the shrunk estimator's
    prior are held as they are; NaN where the metric is not counted in records (harm, share) or cannot move."""

    @property
    def unit(self) -> str:
        """The unit of the rule's metric."""
        return UNITS[self.measured or self.rule.metric]

    def label(self) -> str:
        """A short name for the rule: its description, or its id."""
        label = self.rule.description or self.rule_id.replace("_", " ")
        return (
            label
            if not self.measured or self.measured == self.rule.metric
            else f"{label} (as {self.measured.replace('_', ' ')}: no population)"
        )

    def describe(self, force_name: str) -> str:
        """The rule itself in words, e.g. 'ASB per 1,000: rate per 1,000 of Anti-social behaviour, ≥ 1 × the figure of Kent
        Police as a whole'; the one wording of a rule that reports and the terminal show. Over several forces
        `force_name` is OWN_FORCE ('≥ 1 × the figure of its own force as a whole')."""
        rule = self.rule
        peers = f"of the areas of its {PEER_NOUN}" if rule.within == "parent" else f"of the areas of {force_name}"
        symbol = SYMBOL[rule.operator]
        if rule.threshold_kind == "absolute":
            test = f"{symbol} {rule.threshold:g}"
        elif rule.threshold_kind == "force_mean":
            test = f"{symbol} {rule.threshold:g} × the figure " + (
                "of its district" if rule.within == "parent" else f"of {force_name} as a whole"
            )
        elif rule.threshold_kind == "rank":
            test = f"among the top {rule.threshold:g} {peers}"
        else:
            test = f"among the top {rule.threshold:g} % {peers}"
        measured = self.measured or rule.metric
        return f"{self.label()}: {UNITS[measured]} of {', '.join(rule.crime_types)}, {test}"

    def explain(self, position: int, force_name: str) -> str:
        """The rule's result for one area, in words; `force_name` is the area's own force."""
        return self.explain_all([force_name], [position])[0]

    def explain_all(self, force_names: Sequence[str], positions: Sequence[int] | None = None) -> list[str]:
        """`explain` for many areas at once (every area, or those at `positions`, each with its own force's name)."""
        rule = self.rule
        label = self.label()
        positions = range(len(self.passed)) if positions is None else positions
        symbol = SYMBOL[rule.operator] if rule.threshold_kind in ("absolute", "force_mean") else "≥"
        values, thresholds, passed = self.values.tolist(), self.thresholds.tolist(), self.passed.tolist()
        no_records = self.no_records.tolist() if self.no_records is not None else [False] * len(passed)
        bases: dict[str, str] = {}
        found = []
        for position, force_name in zip(positions, force_names):
            force_name = self.peer_names[position] if self.peer_names else force_name
            if no_records[position]:
                found.append(f"{label}: no records of these crime types in {force_name}, so no area stands out: fails")
                continue
            basis = bases.get(force_name) or bases.setdefault(force_name, self._basis(force_name))
            verdict = "passes" if passed[position] else "fails"
            found.append(f"{label} {_fmt(values[position])} {symbol} {_fmt(thresholds[position])} ({basis}): {verdict}")
        return found

    def _basis(self, force_name: str) -> str:
        """What the threshold is measured against, for one force."""
        rule = self.rule
        if rule.threshold_kind == "force_mean":
            return f"{rule.threshold:g} × {force_name} average"
        if rule.threshold_kind == "rank":
            return f"top {rule.threshold:g} in {force_name}"
        if rule.threshold_kind == "percentile":
            return f"top {rule.threshold:g} % in {force_name}"
        return "fixed"


@dataclass(frozen=True)
class ParentTally:
    """One district's small areas under the round's test (and, after a run, the allocation)."""

    parent_name: str
    areas: int
    eligible: int
    funded: int | None = None
    amount_gbp: float | None = None


@dataclass(frozen=True)
class Eligibility:
    """Every area's verdict under one fund round."""

    round_id: str
    fund_round: FundRound
    codes: tuple[str, ...]
    names: tuple[str, ...]
    outcomes: tuple[RuleOutcome, ...]
    eligible: Labelled
    reasons: tuple[str, ...]
    force_name: str = ""
    parents: tuple[str, ...] = ()
    parent_names: tuple[str, ...] = ()
    rate_estimator: str = "observed"
    """How the rules' rates per 1,000 were estimated: a key of RATE_ESTIMATORS."""
    forces: tuple[str, ...] = ()
    """Each area's police force where the areas span several (`inputs.Areas.forces`); empty when all are in `force_name`."""

    @property
    def force_words(self) -> str:
        """The force the rules name: `force_name`, or OWN_FORCE where the areas span several forces."""
        return OWN_FORCE if len(set(self.forces)) > 1 else (self.forces[0] if self.forces else self.force_name)

    def force_of(self, position: int) -> str:
        """The police force of the area at `position`."""
        return self.forces[position] if self.forces else self.force_name

    def describe_rate_estimator(self) -> str:
        """The rate estimator in one sentence for the report, naming what shrunk rates are pulled toward."""
        whole_force = pools_whole_force(self.codes, self.parents, self.forces)
        toward = f"the rate of {self.force_words or 'the force'} as a whole" if whole_force else f"the rate of its {PEER_NOUN}"
        return RATE_ESTIMATORS[self.rate_estimator].format(toward=toward)

    @property
    def many_areas(self) -> bool:
        """True when there are too many areas to list every verdict (MANY_AREAS)."""
        return too_many_to_list(len(self.codes))

    @property
    def combine_words(self) -> str:
        """How the rules combine, for every label: 'every rule' or 'at least one rule' (an area must pass …)."""
        return "every rule" if self.fund_round.combine == "all" else "at least one rule"

    def rule_descriptions(self) -> tuple[str, ...]:
        """Each enabled rule in words, as eligibility states it."""
        return tuple(outcome.describe(self.force_words) for outcome in self.outcomes)

    def by_parent(self, amounts: np.ndarray | None = None, funded: np.ndarray | None = None) -> tuple[ParentTally, ...]:
        """Per district (the areas' parent), how many areas there are and pass, and where an allocation is given how
        many are funded and with how much; districts in name order."""
        names = dict(zip(self.parents, self.parent_names or self.parents))
        eligible = np.asarray(self.eligible.values, dtype=bool)
        parents = np.array(self.parents)
        tallies = []
        for parent in sorted(set(self.parents), key=lambda code: names[code]):
            members = parents == parent
            tallies.append(
                ParentTally(
                    names[parent],
                    int(members.sum()),
                    int((members & eligible).sum()),
                    None if funded is None else int((members & funded).sum()),
                    None if amounts is None else float(amounts[members].sum()),
                )
            )
        return tuple(tallies)

    def short_reason(self, position: int) -> str:
        """The verdict in a few words: which rules decided it."""
        if not self.outcomes:
            return "no area test"
        passed = [outcome.label() for outcome in self.outcomes if outcome.passed[position]]
        if self.eligible.values[position]:
            return "passes " + ", ".join(passed)
        failed = [outcome.label() for outcome in self.outcomes if not outcome.passed[position]]
        if self.fund_round.combine == "any" or len(failed) == len(self.outcomes):
            return "fails " + ("every rule" if len(failed) > 1 else failed[0])
        return "fails " + ", ".join(failed)

    def deciding_margin(self, position: int) -> tuple[RuleOutcome | None, float]:
        """The rule that decides an area's verdict and its margin as a share of that rule's threshold (+0.25: 25 % above
        what passes; negative: short of it). Under "any" it is the rule with the widest relative margin (the area is
        eligible while it stays above 0); under "all", the narrowest. (None, inf) with no area test."""
        if not self.outcomes:
            return None, float("inf")
        relative = [_relative(outcome.margins[position], outcome.thresholds[position]) for outcome in self.outcomes]
        pick = int(np.argmax(relative) if self.fund_round.combine == "any" else np.argmin(relative))
        return self.outcomes[pick], relative[pick]

    @property
    def eligible_codes(self) -> tuple[str, ...]:
        """Codes of the eligible areas, in area order."""
        return tuple(code for code, ok in zip(self.codes, self.eligible.values) if ok)


def assess(demand: Demand, round_id: str, fund_round: FundRound, rate_estimator: str = "observed") -> Eligibility:
    """Apply the round's enabled rules to every area and combine them into verdicts.

    `rate_estimator` ("observed" or "shrunk", RATE_ESTIMATORS) says how the rules' rates per 1,000 are estimated.
    The verdicts are the Monte Carlo's computed for one draw holding the demand's own records, so the two cannot disagree.
    """
    areas = demand.areas
    tests = _rules_in_draws(demand, fund_round, demand.records.values[None], demand.weights.weights.values[None], rate_estimator, round_id)
    outcomes = tuple(_outcome(demand, rule_id, rule, test) for (rule_id, rule), test in zip(enabled_rules(fund_round).items(), tests))
    eligible = _combine(np.array([test.passed[0] for test in tests]).reshape(1, len(tests), len(areas.codes)), fund_round)[0]
    reasons = _reasons(eligible, outcomes, fund_round, [areas.force_of(position) for position in range(len(areas.codes))])
    return Eligibility(
        round_id=round_id,
        fund_round=fund_round,
        codes=areas.codes,
        names=areas.names,
        outcomes=outcomes,
        eligible=Labelled(eligible, ("area",), (areas.codes,), "eligible", "true/false"),
        reasons=reasons,
        force_name=areas.force_name,
        parents=areas.parents,
        parent_names=tuple(areas.parent_name(a) for a in range(len(areas.codes))),
        rate_estimator=rate_estimator,
        forces=areas.forces,
    )


def eligible_in_draws(
    demand: Demand,
    fund_round: FundRound,
    period_records: np.ndarray,
    harm_weights: np.ndarray | None = None,
    rate_estimator: str = "observed",
    *,
    round_id: str = "",
) -> np.ndarray:
    """Every area's verdict in every draw, bool (draws, area): the round's rules applied to each draw's records, as `assess` applies them.

    `period_records` (draws, area, crime type) are the data period's records as they might have been; `harm_weights`
    (draws, crime type) are each draw's harm weights (the demand's own when None). Thresholds relative to peers are
    recomputed in each draw.
    """
    passed = rules_passed_in_draws(demand, fund_round, period_records, harm_weights, rate_estimator, round_id=round_id)
    return _combine(passed, fund_round)


def rules_passed_in_draws(
    demand: Demand,
    fund_round: FundRound,
    period_records: np.ndarray,
    harm_weights: np.ndarray | None = None,
    rate_estimator: str = "observed",
    *,
    round_id: str = "",
) -> np.ndarray:
    """Each enabled rule's pass or fail per draw and area, bool (draws, rule, area), rules in the order of `enabled_rules`
    (and of `Eligibility.outcomes`): which rule flips an area's verdict in which draws."""
    records = np.asarray(period_records, dtype=float)
    area_count = len(demand.areas.codes)
    if records.ndim != 3 or records.shape[1:] != (area_count, len(CRIME_TYPES)):
        raise InternalError(f"period records must be (draws, {area_count} areas, {len(CRIME_TYPES)} crime types), got {records.shape}")
    if harm_weights is None:
        weights = np.broadcast_to(demand.weights.weights.values, (records.shape[0], len(CRIME_TYPES)))
    else:
        weights = np.asarray(harm_weights, dtype=float)
        if weights.shape != (records.shape[0], len(CRIME_TYPES)):
            raise InternalError(f"harm weights must be (draws, {len(CRIME_TYPES)} crime types) like the records, got {weights.shape}")
    tests = _rules_in_draws(demand, fund_round, records, weights, rate_estimator, round_id)
    passed = np.array([test.passed for test in tests], dtype=bool).reshape(len(tests), records.shape[0], area_count)
    return passed.transpose(1, 0, 2)


def enabled_rules(fund_round: FundRound) -> dict[str, Rule]:
    """The round's rules that apply, by id, in the round's order."""
    return {rule_id: rule for rule_id, rule in fund_round.rules.items() if rule.enabled}


def per_population_fallback(metric: str, population_known: bool) -> str:
    """The metric actually measured: without a population, rates per 1,000 fall back to counts (and harm per 1,000 to harm)."""
    if population_known:
        return metric
    return {"rate_per_1000": "count", "harm_per_1000": "harm_days"}.get(metric, metric)


def peer_groups(areas, within: str) -> list[np.ndarray]:
    """The areas a rule compares each area with, as positions in area order: the area's force, or its parent (its
    district) within its force. Groups never span two forces."""
    forces = areas.forces or (areas.force_name,) * len(areas.codes)
    keys = forces if within == "force" else tuple(zip(forces, areas.parents))
    return _groups(keys)


def _groups(keys: tuple) -> list[np.ndarray]:
    """Positions sharing each key, in area order within a group; groups in sorted key order."""
    known = {key: number for number, key in enumerate(sorted(set(keys)))}
    labels = np.fromiter((known[key] for key in keys), dtype=np.int64, count=len(keys))
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(len(known) + 1))
    return [order[bounds[g] : bounds[g + 1]] for g in range(len(known))]


def pooling_groups(areas) -> list[np.ndarray]:
    """The areas whose rates the shrunk estimator pools: those of one parent, or the whole force (pools_whole_force);
    never areas of two forces."""
    if pools_whole_force(areas.codes, areas.parents, areas.forces):
        return peer_groups(areas, "force")
    return peer_groups(areas, "parent")


def pools_whole_force(codes: tuple[str, ...], parents: tuple[str, ...], forces: tuple[str, ...] = ()) -> bool:
    """True when the shrunk estimator pools every area of a force together: every area is its own parent, or all the
    areas of each force (`forces`, one per area; empty for one force) share one (Kent's districts, whose parent is the force).

    A district that is its own parent holds no other area to learn a prior from, and shrinking it toward itself would
    change nothing; pooling toward the force keeps the estimator's meaning (pull toward the level above) at every level.
    Kent's district rates move by up to 6 % for burglary alone and 1 % for neighbourhood crime (tests/test_eligibility.py).
    """
    if all(parent == code for parent, code in zip(parents, codes)):
        return True
    forces = forces or ("",) * len(parents)
    return len(set(zip(forces, parents))) == len(set(forces))


@dataclass(frozen=True)
class RuleInDraws:
    """One rule applied in every draw; each array is (draws, area)."""

    values: np.ndarray
    thresholds: np.ndarray
    passed: np.ndarray
    margins: np.ndarray
    margin_records: np.ndarray
    no_records: np.ndarray


@dataclass(frozen=True)
class _Measure:
    """A rule's metric per draw and area, the figure of the area's peers, and how far one more record over the data
    period moves each (NaN where the metric is not counted in records)."""

    values: np.ndarray
    figure: np.ndarray
    value_per_record: np.ndarray
    figure_per_record: np.ndarray


def _rules_in_draws(
    demand: Demand, fund_round: FundRound, period_records: np.ndarray, weights: np.ndarray, rate_estimator: str, round_id: str
) -> tuple[RuleInDraws, ...]:
    if rate_estimator not in RATE_ESTIMATORS:
        raise ConfigError("is not a rate estimator", key="demand.rate_estimator", got=rate_estimator, expected=", ".join(RATE_ESTIMATORS))
    prefix = f"rounds.{round_id}.rules" if round_id else "rules"
    baskets: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
    tests = []
    for rule_id, rule in enabled_rules(fund_round).items():
        if rule.crime_types not in baskets:
            records_by_type = np.take(period_records, [CRIME_TYPES.index(crime_type) for crime_type in rule.crime_types], axis=2)
            baskets[rule.crime_types] = records_by_type, records_by_type.sum(axis=-1)
        tests.append(_rule_in_draws(demand, rule, f"{prefix}.{rule_id}.threshold", *baskets[rule.crime_types], weights, rate_estimator))
    return tuple(tests)


def _rule_in_draws(
    demand: Demand, rule: Rule, key: str, records_by_type: np.ndarray, basket: np.ndarray, weights: np.ndarray, rate_estimator: str
) -> RuleInDraws:
    """The rule's test in every draw: its metric, each draw's threshold among the draw's peers, pass or fail and margins.

    `records_by_type` are the data period's records of the rule's crime types (draws, area, type), `basket` their sum.
    """
    columns = [CRIME_TYPES.index(crime_type) for crime_type in rule.crime_types]
    groups = peer_groups(demand.areas, rule.within)
    measure = _measure(demand, rule, basket, records_by_type, weights[:, columns], columns, groups, rate_estimator)
    values = measure.values
    thresholds = _thresholds(rule, key, values, measure.figure, groups)
    compare = COMPARE[rule.operator] if rule.threshold_kind in ("absolute", "force_mean") else op.ge
    passed = compare(values, thresholds)
    no_records = np.zeros(values.shape, dtype=bool)
    if rule.threshold_kind in RELATIVE_KINDS:
        for members in groups:
            no_records[:, members] = (basket[:, members].sum(axis=1) <= 0)[:, None]
        passed = passed & ~no_records
    lower_is_better = rule.operator in ("<=", "<") and rule.threshold_kind in ("absolute", "force_mean")
    margins = thresholds - values if lower_is_better else values - thresholds
    threshold_per_record = rule.threshold * measure.figure_per_record if rule.threshold_kind == "force_mean" else 0.0
    step = measure.value_per_record - threshold_per_record
    with np.errstate(divide="ignore", invalid="ignore"):
        margin_records = np.where((step > 0) & ~no_records, margins / np.where(step > 0, step, 1.0), np.nan)
    return RuleInDraws(values, thresholds, np.asarray(passed, dtype=bool), margins, margin_records, no_records)


def _measure(
    demand: Demand,
    rule: Rule,
    basket: np.ndarray,
    records_by_type: np.ndarray,
    weights: np.ndarray,
    columns: list[int],
    groups: list[np.ndarray],
    rate_estimator: str,
) -> _Measure:
    """The rule's metric per draw and area from the data period's records of its crime types: their sum (draws, area)
    and, for harm, each type's (draws, area, type).

    Records per year are the period's sum × 12 ÷ months (summed before annualising, the order that is cheap over
    many draws; with whole counts and a period that divides the year it is exactly the demand's annual records).
    """
    areas = demand.areas
    population = areas.population.values
    metric = per_population_fallback(rule.metric, areas.population_known)
    records = basket * 12.0 / areas.period_months
    per_record = 12.0 / areas.period_months
    shape = records.shape
    value_per_record = np.full(shape, np.nan)
    figure_per_record = np.full(shape, np.nan)
    figure = np.zeros(shape)
    shrunk = rate_estimator == "shrunk" and metric in PER_POPULATION
    exposure = population / 1000.0 * areas.period_months / 12.0
    if metric in ("harm_days", "harm_per_1000"):
        annual_by_type = records_by_type * 12.0 / areas.period_months
        harm_days = _harm_over_horizon(demand, annual_by_type, columns, weights).sum(axis=-1)
    if metric == "rate_per_1000":
        values = records / population * 1000.0
        value_per_record[:] = per_record / population * 1000.0
        if shrunk:
            values, value_per_record = _shrunk(basket, exposure, values, pooling_groups(areas))
    elif metric == "count":
        values = records
        value_per_record[:] = per_record
    elif metric == "harm_days":
        values = harm_days
    elif metric == "harm_per_1000":
        values = harm_days / population * 1000.0
        if shrunk:
            rates = np.stack(
                [
                    _shrunk(records_by_type[..., c], exposure, annual_by_type[..., c] / population * 1000.0, pooling_groups(areas))[0]
                    for c in range(len(columns))
                ],
                axis=-1,
            )
            values = _harm_over_horizon(demand, rates, columns, weights).sum(axis=-1)
    else:
        values = np.zeros(shape)
    for members in groups:
        if metric == "rate_per_1000":
            figure[:, members] = (records[:, members].sum(axis=1) / population[members].sum() * 1000.0)[:, None]
            figure_per_record[:, members] = per_record / population[members].sum() * 1000.0
        elif metric == "harm_per_1000":
            figure[:, members] = (harm_days[:, members].sum(axis=1) / population[members].sum() * 1000.0)[:, None]
        elif metric == "share_of_force":
            total = records[:, members].sum(axis=1)[:, None]
            values[:, members] = np.where(total > 0, records[:, members] / np.where(total > 0, total, 1.0) * 100.0, 0.0)
            figure[:, members] = 100.0 / len(members)
        else:
            figure[:, members] = values[:, members].mean(axis=1)[:, None]
            figure_per_record[:, members] = per_record / len(members) if metric == "count" else np.nan
    return _Measure(values, figure, value_per_record, figure_per_record)


def _harm_over_horizon(demand: Demand, annual: np.ndarray, columns: list[int], weights: np.ndarray) -> np.ndarray:
    """Harm days over the horizon from annual records (or annual rates) per crime type, (draws, area, type).

    The records over the horizon are `demand.expected_records`, as `build_demand` forecasts them, weighed as `harm.harm`
    weighs them, so the demand's own records give `demand.harm` to the last bit (a test holds the two together).
    """
    factors = demand.forecast.factors[columns] if demand.forecast is not None else np.ones(len(columns))
    return expected_records(annual, demand.horizon_months, factors) * weights[:, None, :]


def _shrunk(counts: np.ndarray, exposure: np.ndarray, observed: np.ndarray, groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Empirical-Bayes rates (draws, area) and how far one more count moves each, pooling the areas of each group.

    Model: an area's count is Poisson(rate × exposure) and its rate gamma with mean m, the group's pooled rate (its
    counts ÷ its exposure), and shape α. α comes from the method of moments (Marshall 1991): the exposure-weighted
    variance of the areas' rates about m, less the m ÷ mean exposure that Poisson noise alone would give, is the
    variance of the true rates, m² ÷ α. The posterior mean rate is (count + α) ÷ (exposure + α ÷ m).
    Where the rates vary no more than count noise explains, the moments cannot size the prior (strictly they call
    for pooling every area to m, which would tie every rank), so the observed rates stand: α = 0, no pooling.
    Units follow `exposure` (thousand resident-years give rates per 1,000 per year); `observed` are the rates
    kept where nothing is pooled.
    """
    values = np.array(observed, dtype=float)
    per_count = np.broadcast_to(1.0 / exposure, counts.shape).copy()
    for members in groups:
        group_counts, group_exposure = counts[:, members], exposure[members]
        pooled = group_counts.sum(axis=1) / group_exposure.sum()
        rates = group_counts / group_exposure
        spread = (group_exposure * (rates - pooled[:, None]) ** 2).sum(axis=1) / group_exposure.sum()
        between = spread - pooled / group_exposure.mean()
        pools = (between > 0) & (pooled > 0)
        strength = np.where(pools, pooled**2 / np.where(pools, between, 1.0), 0.0)[:, None]
        prior_exposure = np.where(pools, strength[:, 0] / np.where(pools, pooled, 1.0), 0.0)[:, None]
        posterior_exposure = group_exposure + prior_exposure
        values[:, members] = np.where(pools[:, None], (group_counts + strength) / posterior_exposure, values[:, members])
        per_count[:, members] = 1.0 / posterior_exposure
    return values, per_count


def _thresholds(rule: Rule, key: str, values: np.ndarray, figure: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Each draw's threshold per area: the rule's number, a multiple of the peers' figure, or a rank or percentile among the peers."""
    thresholds = np.zeros(values.shape)
    if rule.threshold_kind == "absolute":
        thresholds[:] = rule.threshold
    elif rule.threshold_kind == "force_mean":
        thresholds = rule.threshold * figure
    elif rule.threshold_kind == "rank":
        if rule.threshold < 1 or rule.threshold != int(rule.threshold):
            raise RuleError("a rank threshold must be a whole number of areas, 1 or more", key=key, got=rule.threshold)
        for members in groups:
            ranked = np.sort(values[:, members], axis=1)
            thresholds[:, members] = ranked[:, ranked.shape[1] - min(int(rule.threshold), ranked.shape[1])][:, None]
    else:
        if not 0 < rule.threshold <= 100:
            raise RuleError(
                "a percentile threshold must be above 0 and at most 100",
                key=key,
                got=rule.threshold,
                hint="e.g. 20 for the top 20 % of areas",
            )
        for members in groups:
            thresholds[:, members] = np.quantile(values[:, members], 1.0 - rule.threshold / 100.0, axis=1)[:, None]
    return thresholds


def _combine(passed: np.ndarray, fund_round: FundRound) -> np.ndarray:
    """Verdicts (draws, area) from each rule's passes (draws, rule, area): every rule or at least one; no rule passes every area."""
    if passed.shape[1] == 0:
        return np.ones((passed.shape[0], passed.shape[2]), dtype=bool)
    return passed.all(axis=1) if fund_round.combine == "all" else passed.any(axis=1)


def _outcome(demand: Demand, rule_id: str, rule: Rule, test: RuleInDraws) -> RuleOutcome:
    """The rule's outcome in the one draw `assess` makes (the demand's own records)."""
    areas = demand.areas
    peers = tuple(areas.parent_name(a) for a in range(len(areas.codes))) if rule.within == "parent" else ()
    return RuleOutcome(
        rule_id,
        rule,
        test.values[0],
        test.thresholds[0],
        test.passed[0],
        test.margins[0],
        peers,
        per_population_fallback(rule.metric, areas.population_known),
        test.no_records[0] if test.no_records[0].any() else None,
        test.margin_records[0],
    )


def _reasons(eligible: np.ndarray, outcomes: tuple[RuleOutcome, ...], fund_round: FundRound, force_names: list[str]) -> tuple[str, ...]:
    """Each area's verdict with the rules behind it: under "any" an eligible area's passing rules, under "all" a failing
    area's failing rules, else every rule."""
    if not outcomes:
        return ("eligible: the round sets no area test",) * len(eligible)
    words = [outcome.explain_all(force_names) for outcome in outcomes]
    reasons = []
    for position, passes in enumerate(eligible.tolist()):
        if passes:
            shown = [w[position] for w, o in zip(words, outcomes) if fund_round.combine != "any" or o.passed[position]]
            reasons.append("eligible: " + "; ".join(shown))
        else:
            shown = [w[position] for w, o in zip(words, outcomes) if fund_round.combine != "all" or not o.passed[position]]
            reasons.append("not eligible: " + "; ".join(shown))
    return tuple(reasons)


def _relative(margin: float, threshold: float) -> float:
    """A margin as a share of its threshold; the margin itself where the threshold is 0."""
    return float(margin / abs(threshold)) if threshold else float(margin)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.1f}"
