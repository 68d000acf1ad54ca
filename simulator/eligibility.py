"""Eligibility: the fund round's area test, one verdict per area with value, threshold, margin and reason.

Each rule is `metric(area, crime types) operator threshold`. The threshold is absolute, a
multiple of the force-wide figure, a rank among the force's areas or a top percentile of
them. Rules combine with all/any. The Home Office prospectuses' numeric benchmarks were not
published in a form we could retrieve, so the shipped thresholds are assumptions modelled on
the rounds' stated principle ("areas with the highest concentration of specific crime types").
"""

from __future__ import annotations

import operator as op
from dataclasses import dataclass

import numpy as np

from .arrays import Labelled
from .demand import Demand
from .errors import RuleError
from .schema import FundRound, Rule

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
RELATIVE_KINDS = ("force_mean", "rank", "percentile")
UNITS = {
    "rate_per_1000": "records per 1,000 residents per year",
    "count": "records per year",
    "harm_days": "harm days over the horizon",
    "harm_per_1000": "harm days per 1,000 residents",
    "share_of_force": "% of the force's records",
}


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
        """The rule itself in words, e.g. 'ASB per 1,000: rate per 1,000 of Anti-social behaviour, ≥ 1 × the average of the
        force (Kent)'; the one wording of a rule that reports and the terminal show."""
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
        """The rule's result for one area, in words."""
        rule = self.rule
        force_name = self.peer_names[position] if self.peer_names else force_name
        if self.no_records is not None and self.no_records[position]:
            return f"{self.label()}: no records of these crime types in {force_name}, so no area stands out: fails"
        value, threshold = self.values[position], self.thresholds[position]
        symbol = SYMBOL[rule.operator] if rule.threshold_kind in ("absolute", "force_mean") else "≥"
        if rule.threshold_kind == "force_mean":
            basis = f"{rule.threshold:g} × {force_name} average"
        elif rule.threshold_kind == "rank":
            basis = f"top {rule.threshold:g} in {force_name}"
        elif rule.threshold_kind == "percentile":
            basis = f"top {rule.threshold:g} % in {force_name}"
        else:
            basis = "fixed"
        verdict = "passes" if self.passed[position] else "fails"
        return f"{self.label()} {_fmt(value)} {symbol} {_fmt(threshold)} ({basis}): {verdict}"


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
        return tuple(outcome.describe(self.force_name) for outcome in self.outcomes)

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

    @property
    def eligible_codes(self) -> tuple[str, ...]:
        """Codes of the eligible areas, in area order."""
        return tuple(code for code, ok in zip(self.codes, self.eligible.values) if ok)


def assess(demand: Demand, round_id: str, fund_round: FundRound) -> Eligibility:
    """Apply the round's enabled rules to every area and combine them into verdicts."""
    areas = demand.areas
    rules = {key: rule for key, rule in fund_round.rules.items() if rule.enabled}
    outcomes = tuple(_apply(demand, round_id, key, rule) for key, rule in rules.items())
    if outcomes:
        stack = np.array([outcome.passed for outcome in outcomes])
        eligible = stack.all(axis=0) if fund_round.combine == "all" else stack.any(axis=0)
    else:
        eligible = np.ones(len(areas.codes), dtype=bool)
    reasons = tuple(
        _reason(position, bool(eligible[position]), outcomes, fund_round, areas.force_name) for position in range(len(areas.codes))
    )
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
    )


def metric_values(demand: Demand, rule: Rule, groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The rule's metric per area, and the figure of its peer group (`groups`) each area is compared with."""
    areas = demand.areas
    records = demand.basket_records(rule.crime_types)
    population = areas.population.values
    harm_days = demand.harm.take("crime_type", rule.crime_types).values.sum(axis=1)
    force = np.zeros(len(records))
    metric = per_population_fallback(rule.metric, areas.population_known)
    if metric == "rate_per_1000":
        values = records / population * 1000.0
    elif metric == "count":
        values = records
    elif metric == "harm_days":
        values = harm_days
    elif metric == "harm_per_1000":
        values = harm_days / population * 1000.0
    else:
        values = np.zeros(len(records))
    for members in groups:
        if metric == "rate_per_1000":
            force[members] = records[members].sum() / population[members].sum() * 1000.0
        elif metric == "harm_per_1000":
            force[members] = harm_days[members].sum() / population[members].sum() * 1000.0
        elif metric == "share_of_force":
            total = records[members].sum()
            values[members] = records[members] / total * 100.0 if total > 0 else 0.0
            force[members] = 100.0 / members.sum()
        else:
            force[members] = values[members].mean()
    return values, force


def per_population_fallback(metric: str, population_known: bool) -> str:
    """The metric actually measured: without a population, rates per 1,000 fall back to counts (and harm per 1,000 to harm)."""
    if population_known:
        return metric
    return {"rate_per_1000": "count", "harm_per_1000": "harm_days"}.get(metric, metric)


def peer_groups(areas, within: str) -> list[np.ndarray]:
    """The areas a rule compares each area with: the whole force, or the area's parent (its district)."""
    if within == "force":
        return [np.ones(len(areas.codes), dtype=bool)]
    parents = np.array(areas.parents)
    return [parents == parent for parent in sorted(set(areas.parents))]


def _apply(demand: Demand, round_id: str, rule_id: str, rule: Rule) -> RuleOutcome:
    key = f"rounds.{round_id}.rules.{rule_id}.threshold"
    groups = peer_groups(demand.areas, rule.within)
    values, force = metric_values(demand, rule, groups)
    thresholds = np.zeros(len(values))
    if rule.threshold_kind == "absolute":
        thresholds[:] = rule.threshold
    elif rule.threshold_kind == "force_mean":
        thresholds = rule.threshold * force
    elif rule.threshold_kind == "rank":
        if rule.threshold < 1 or rule.threshold != int(rule.threshold):
            raise RuleError("a rank threshold must be a whole number of areas, 1 or more", key=key, got=rule.threshold)
        for members in groups:
            ranked = np.sort(values[members])[::-1]
            thresholds[members] = ranked[min(int(rule.threshold), len(ranked)) - 1]
    else:
        if not 0 < rule.threshold <= 100:
            raise RuleError(
                "a percentile threshold must be above 0 and at most 100",
                key=key,
                got=rule.threshold,
                hint="e.g. 20 for the top 20 % of areas",
            )
        for members in groups:
            thresholds[members] = np.quantile(values[members], 1.0 - rule.threshold / 100.0)
    compare = COMPARE[rule.operator] if rule.threshold_kind in ("absolute", "force_mean") else op.ge
    passed = compare(values, thresholds)
    no_records = np.zeros(len(values), dtype=bool)
    if rule.threshold_kind in RELATIVE_KINDS:
        records = demand.basket_records(rule.crime_types)
        for members in groups:
            if records[members].sum() <= 0:
                no_records[members] = True
        passed = passed & ~no_records
    lower_is_better = rule.operator in ("<=", "<") and rule.threshold_kind in ("absolute", "force_mean")
    margins = thresholds - values if lower_is_better else values - thresholds
    areas = demand.areas
    peers = tuple(areas.parent_name(a) for a in range(len(areas.codes))) if rule.within == "parent" else ()
    measured = per_population_fallback(rule.metric, areas.population_known)
    return RuleOutcome(
        rule_id,
        rule,
        values,
        thresholds,
        np.asarray(passed, dtype=bool),
        margins,
        peers,
        measured,
        no_records if no_records.any() else None,
    )


def _reason(position: int, eligible: bool, outcomes: tuple[RuleOutcome, ...], fund_round: FundRound, force_name: str) -> str:
    if not outcomes:
        return "eligible: the round sets no area test"
    passing = [outcome for outcome in outcomes if outcome.passed[position]]
    failing = [outcome for outcome in outcomes if not outcome.passed[position]]
    if eligible:
        shown = passing if fund_round.combine == "any" else outcomes
        return "eligible: " + "; ".join(outcome.explain(position, force_name) for outcome in shown)
    shown = failing if fund_round.combine == "all" else outcomes
    return "not eligible: " + "; ".join(outcome.explain(position, force_name) for outcome in shown)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.1f}"
