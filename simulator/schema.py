"""What a scenario may say: frozen dataclasses, one docstring per field, with the checks on each field.

A scenario file (TOML) is merged from its `extends` chain by `scenario.py` and then built into
these classes by `validation.build`, which refuses unknown keys, checks types, ranges and choices
from each field's `spec`, and names the file and dotted key of every problem. Every number must
be finite and within bounds; each field's metadata says why its upper bound is where it is
(`why_maximum`). Checks across fields live on their table as `check_table`: a rule's threshold
against its kind (`THRESHOLD_RANGES`), and the scenario's round, catalogue and summed effects.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from .validation import COMMAND_LINE, Origin, blame, build, problem, range_text, spec

__all__ = ["COMMAND_LINE", "CRIME_TYPES", "THRESHOLD_RANGES", "UNCERTAIN_SOURCES", "build", "spec"]

CRIME_TYPES: tuple[str, ...] = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
"""The 14 police.uk street-level categories, in police.uk's alphabetical order."""

INTERVENTION_ID = re.compile(r"^[a-z][a-z0-9_]*$")
ROUND_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

"""The origin of a value given on the command line, as errors name it in place of a file."""

MOST_GBP = 1_000_000_000.0
MOST_GBP_WHY = "£1,000,000,000 is more than any Safer Streets pot; check the number of zeros"
MOST_SEED = 2**32 - 1
MOST_SEED_WHY = "seeds up to 2**32 - 1 are accepted by every numpy generator, the legacy RandomState included"
MOST_AREAS = 100_000
MOST_AREAS_WHY = "100,000 is more than England and Wales have LSOAs (about 35,700)"


@dataclass(frozen=True)
class ThresholdRange:
    """What a rule's threshold may be for one threshold kind, and why."""

    meaning: str
    minimum: float
    maximum: float
    why_maximum: str
    example: str
    exclusive_minimum: bool = False
    whole: bool = False


THRESHOLD_RANGES: dict[str, ThresholdRange] = {
    "absolute": ThresholdRange(
        "a value of the metric",
        0.0,
        1e10,
        "10,000,000,000 is above any area's yearly records, rate or harm",
        "e.g. 25 for 25 records per 1,000 residents",
    ),
    "force_mean": ThresholdRange(
        "a multiple of the force-wide figure",
        0.0,
        1_000.0,
        "no area reaches 1,000 times the force-wide figure",
        "e.g. 1.5 for 50 % above the force-wide figure",
    ),
    "rank": ThresholdRange("a number of top areas", 1.0, float(MOST_AREAS), MOST_AREAS_WHY, "e.g. 3 for the top three areas", whole=True),
    "percentile": ThresholdRange(
        "a top share of areas, in %",
        0.0,
        100.0,
        "a share of areas is at most 100 %",
        "e.g. 20 for the top 20 % of areas",
        exclusive_minimum=True,
    ),
}
"""The allowed threshold of a rule for each threshold kind; its keys are the kinds `Rule.threshold_kind` allows."""


@dataclass(frozen=True, kw_only=True)
class DataSource:
    """Where the area table and the crime counts come from, and which months to use."""

    areas: str = spec(
        "embedded:kent_districts.csv",
        "CSV of areas: code, name, parent, population; `embedded:` names a shipped file; empty (LSOA level only) takes the areas from the counts with a nominal population",
    )
    crime_counts: str = spec(
        "embedded:kent_crime_by_type.csv",
        "CSV of counts: area code, crime type, count, period, or with a `force` column one row per area, force and crime type "
        "(area `unlocated` for records with no area); `embedded:` names a shipped file; a file named .gz is unzipped as it is read",
    )
    period_start: str = spec("2025-06", "first month of the data period, YYYY-MM", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    period_end: str = spec("2026-05", "last month of the data period, YYYY-MM", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    force_name: str = spec("Kent", "name of the force area the areas belong to, for labels")
    description: str = spec("police.uk street-level records (crimes and ASB), Kent Police", "what the counts are, for reports")
    level: Literal["district", "lsoa"] = spec(
        "district", "what one area is: `district`, or `lsoa` (small areas, with their districts as parents)"
    )
    other_areas: Literal["error", "count"] = spec(
        "error",
        "counts for areas not in the area table: `error`, or `count` them in the manifest and leave them out (police.uk files include a force's border areas)",
    )
    parent_from_name: bool = spec(
        False,
        "take each area's parent (its local authority) from its name by dropping the LSOA suffix, 'Medway 015A' → 'Medway', "
        "for an area table without a parent column such as ONS's LSOA population tables; a parent column is then not read",
    )
    forces: str = spec(
        "",
        "CSV naming the police forces of a counts file with a `force` column (one row per area, force and crime type): force "
        "(as in the counts), name, territorial (yes/no: a force that is not, such as British Transport Police, is never an "
        "area's force, though its records count in the area), status (included/excluded), and for an excluded force whose "
        "records are missing, its reason and local_authorities (separated by ';'), left out and reported; `embedded:` names a "
        "shipped file; empty names each force by its code and takes every force as territorial",
    )
    coverage_floor_per_1000: float = spec(
        5.0,
        "with a counts file with a `force` column: a parent (local authority) whose areas hold fewer records a year per 1,000 "
        "residents from the territorial forces in the data is left out as not covered, its zeros being missing data, not "
        "safety (in the 2021-22 national data a covered local authority holds 20 or more, one whose force is missing at most 1.1)",
        minimum=0.0,
        maximum=1_000.0,
        why_maximum="a floor of 1,000 records a year per 1,000 residents would leave out every local authority but the City of London",
    )
    tile_layout: str = spec(
        "",
        "CSV placing each area on a hexagon grid (area code, row, column) for the tile map; `embedded:` names a shipped layout; empty for none",
    )
    boundaries: str = spec(
        "",
        "GeoJSON of area boundaries for a real map, features matched to areas by a property holding the area code; replaces the tile map; empty for none",
    )
    history: str = spec(
        "",
        "CSV of monthly counts (area code, crime type, month, count) the forecast is fitted to, gaps allowed; "
        "`embedded:` names a shipped file; empty fits the data period's own months",
    )
    awards: str = spec(
        "",
        "CSV of what the fund awarded (round, announced, district, area, amount_gbp, source_url, note) that "
        "`safer-streets backtest` compares the model with; `embedded:` names a shipped file; empty for none",
    )


@dataclass(frozen=True, kw_only=True)
class HarmSettings:
    """How records become harm."""

    weight_set: Literal["cchi", "count"] = spec(
        "cchi", "harm weight set: `cchi` (Cambridge Crime Harm Index, derived per police.uk category) or `count` (every record weighs 1)"
    )
    overrides: dict[str, float] = spec(
        {},
        "days of harm per record for named crime types, replacing the weight set's value",
        minimum=0.0,
        maximum=36_500.0,
        why_maximum="36,500 days (100 years) per record is above any CCHI weight",
        key_choices=CRIME_TYPES,
    )


@dataclass(frozen=True, kw_only=True)
class DemandSettings:
    """The forecast of records over the funding period."""

    horizon_months: int = spec(
        12,
        "length of the funding period the forecast covers, in months",
        minimum=1,
        maximum=60,
        why_maximum="Safer Streets funding periods are one or two years; five years is the longest forecast offered",
    )
    interval: float = spec(
        0.9,
        "coverage of the forecast interval (0.9 = 5th to 95th percentile)",
        minimum=0.5,
        maximum=0.999,
        why_maximum="a coverage of 1 would need an infinite interval",
    )
    draws: int = spec(
        1000,
        "Monte Carlo draws: each samples every uncertain input and re-runs eligibility and the allocation",
        minimum=10,
        maximum=100_000,
        why_maximum="more than 100,000 draws adds no precision worth the memory (draws × areas × crime types numbers)",
    )
    rate_estimator: Literal["observed", "shrunk"] = spec(
        "observed",
        "rates the eligibility rules compare: `observed` (records ÷ residents) or `shrunk` "
        "(empirical-Bayes Poisson-gamma, pulled toward the parent district's rate; for small areas)",
    )


@dataclass(frozen=True, kw_only=True)
class Shock:
    """A what-if change in demand: scale some areas' records of some crime types."""

    areas: tuple[str, ...] = spec(doc="area names or codes the shock applies to", nonempty=True)
    multiplier: float = spec(
        doc="factor applied to the records (1.3 = 30 % more)",
        minimum=0.0,
        maximum=1_000.0,
        why_maximum="a thousandfold change is beyond any what-if; 1.3 means 30 % more",
    )
    crime_types: tuple[str, ...] = spec((), "crime types affected; empty means all", choices=CRIME_TYPES)
    enabled: bool = spec(True, "false switches the shock off without deleting it")
    note: str = spec("", "why the shock is modelled, for reports")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One eligibility test: `metric(area, crime types) operator threshold`."""

    metric: Literal["rate_per_1000", "count", "harm_days", "harm_per_1000", "share_of_force"] = spec(
        doc="what is measured per area over the data period (rates and counts annualised)"
    )
    crime_types: tuple[str, ...] = spec(doc="the crime types the metric sums over", choices=CRIME_TYPES, nonempty=True)
    threshold_kind: Literal["absolute", "force_mean", "rank", "percentile"] = spec(
        doc="`absolute`: the value itself; `force_mean`: value × the force-wide figure; `rank`: within the top N areas of the force; `percentile`: within the top value % of areas"
    )
    threshold: float = spec(
        doc="the number the threshold kind uses; its range depends on the kind (THRESHOLD_RANGES)",
        minimum=0.0,
        maximum=THRESHOLD_RANGES["absolute"].maximum,
        why_maximum="no threshold kind allows more",
    )
    operator: Literal[">=", ">", "<=", "<"] = spec(">=", "how the metric is compared with the threshold (rank and percentile use >=)")
    within: Literal["force", "parent"] = spec(
        "force",
        "the peers an area is compared with for `force_mean`, `rank` and `percentile`: every area of the force, or those of its parent (the district, at LSOA level)",
    )
    description: str = spec("", "the rule in words, for reports")
    enabled: bool = spec(True, "false switches the rule off without deleting it")

    def check_table(self, prefix: str, origin: Origin, problems: list) -> None:
        """The threshold suits its kind: a rank is a whole number of areas, a percentile is in (0, 100], and so on."""
        allowed = THRESHOLD_RANGES[self.threshold_kind]
        value = self.threshold
        too_low = value <= allowed.minimum if allowed.exclusive_minimum else value < allowed.minimum
        not_whole = allowed.whole and not float(value).is_integer()
        if not (too_low or not_whole or value > allowed.maximum):
            return
        key, kind_key = prefix + "threshold", prefix + "threshold_kind"
        noun = "a whole number" if allowed.whole else "a number"
        hint = allowed.why_maximum if value > allowed.maximum else allowed.example
        if origin(kind_key) and origin(kind_key) != origin(key):
            hint += f"; threshold_kind '{self.threshold_kind}' comes from {origin(kind_key)}, the threshold from {origin(key)}"
        problem(
            problems,
            origin,
            key,
            f"does not suit threshold_kind '{self.threshold_kind}'",
            file=blame(origin, [key, kind_key]),
            got=value,
            expected=f"{allowed.meaning}: {range_text(noun, allowed.minimum, allowed.maximum, allowed.exclusive_minimum)}",
            hint=hint,
        )


@dataclass(frozen=True, kw_only=True)
class FundRound:
    """A Safer Streets round: its money, its limits and its area test."""

    name: str = spec(doc="the round's name")
    period: str = spec(doc="the financial years it covered")
    pot_gbp: float = spec(doc="the national pot, £", minimum=0.0, maximum=MOST_GBP, why_maximum=MOST_GBP_WHY)
    max_grant_gbp: float = spec(
        doc="the most one bid (one area here) may receive, £",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=MOST_GBP,
        why_maximum=MOST_GBP_WHY,
    )
    max_grant_applies_to: str = spec("per bid", "what the grant cap is counted over, in the round's words")
    force_cap_gbp: float = spec(
        0.0,
        "the most one force area (one commissioner) may receive across all its bids, £ (0 = no such cap); nested over the per-bid cap",
        minimum=0.0,
        maximum=MOST_GBP,
        why_maximum=MOST_GBP_WHY,
    )
    bids_per_commissioner: int = spec(
        0,
        "the most bids one commissioner may make (0 = no limit stated)",
        minimum=0,
        maximum=MOST_AREAS,
        why_maximum=MOST_AREAS_WHY + ", so no more bids can be made",
    )
    match_funding_rate: float = spec(
        0.0,
        "match funding required per £ of grant (0.2 = 20 %)",
        minimum=0.0,
        maximum=1.0,
        why_maximum="a rate is a fraction of the grant: 0.5 means 50 %",
    )
    focus: str = spec("", "the crime the round targets, in its words")
    crime_basket: tuple[str, ...] = spec(doc="the police.uk categories standing for the round's focus", choices=CRIME_TYPES, nonempty=True)
    combine: Literal["all", "any"] = spec("all", "`all`: an area must pass every rule; `any`: one is enough")
    interventions: tuple[str, ...] = spec((), "interventions the round funds (ids); empty means every enabled one")
    rules: dict[str, Rule] = spec({}, "the area test, one table per rule")
    source: str = spec(doc="where the round's terms were published")
    assumptions: str = spec("", "what this file models that the round's published terms do not state")


@dataclass(frozen=True, kw_only=True)
class Intervention:
    """A crime-prevention measure with a diminishing-returns response curve.

    It averts at most `max_reduction` of the harm it can reach (`reach` of each targeted crime type), in every year
    of its effect: one for a recurring measure, `lifetime_years` for a capital one (discounted; `interventions.py`).
    """

    name: str = spec(doc="the intervention's name, for tables and charts")
    crime_types: tuple[str, ...] = spec(doc="the crime types it reduces", choices=CRIME_TYPES, nonempty=True)
    max_reduction: float = spec(
        doc="the largest fraction of the targeted harm it can avert in an area",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
        why_maximum="a fraction: 0.2 means 20 % of the targeted harm",
    )
    cost_scale_gbp_per_1000_residents: float = spec(
        doc="spend per 1,000 residents at which it reaches 63 % (1 − 1/e) of its maximum effect",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=MOST_GBP,
        why_maximum="above £1,000,000,000 per 1,000 residents no budget allowed could buy any effect",
    )
    evidence: str = spec(doc="the evidence for the effect, in a sentence")
    source: str = spec(doc="where the effect size comes from")
    confidence: Literal["high", "medium", "low", "assumption"] = spec(doc="how far the effect size can be trusted")
    cost_source: str = spec("planning assumption: no current unit costs found", "where the cost scale comes from")
    reach: dict[str, float] = spec(
        {},
        "the share of each targeted crime type's harm the measure can touch (e.g. residential burglary within police.uk "
        "Burglary for alley gating, public-space violence for patrols); a crime type not listed is reached in full",
        key_choices=CRIME_TYPES,
        minimum=0.0,
        exclusive_minimum=True,
        maximum=1.0,
        why_maximum="a share of the crime type's harm: 0.6 means 60 %",
    )
    reach_source: str = spec("", "where each reach share comes from, or 'assumption' and why")
    kind: Literal["capital", "recurring"] = spec(
        "recurring",
        "`capital` (gates, lights, cameras: bought once, effective for `lifetime_years`) or `recurring` (patrols, "
        "programmes: effective for the year they are funded)",
    )
    lifetime_years: float = spec(
        1.0,
        "years a capital measure keeps its effect; its harm averted is counted over them, discounted at "
        "appraisal.discount_rate (1 for a recurring measure)",
        minimum=1.0,
        maximum=50.0,
        why_maximum="no street measure keeps its effect for more than 50 years without renewal",
    )
    lifetime_source: str = spec("", "where the lifetime comes from, or 'assumption' and why")
    enabled: bool = spec(True, "false removes it from the catalogue for this scenario")


@dataclass(frozen=True, kw_only=True)
class AppraisalSettings:
    """How harm averted in later years counts against harm averted now."""

    discount_rate: float = spec(
        0.035,
        "the annual rate at which harm averted in later years is discounted (0.035 = 3.5 %)",
        minimum=0.0,
        maximum=0.2,
        why_maximum="above 20 % a year nothing after the first few years would count",
    )
    source: str = spec(
        "HM Treasury, The Green Book (2022): social time preference rate of 3.5 % a year for the first 30 years",
        "where the rate comes from",
    )


@dataclass(frozen=True, kw_only=True)
class ShareBounds:
    """Bounds on one intervention's share of the money allocated (e.g. at least a quarter on VAWG prevention)."""

    minimum: float = spec(
        0.0, "the least share (0.25 = a quarter)", minimum=0.0, maximum=1.0, why_maximum="a share of the money: 1 is all of it"
    )
    maximum: float = spec(1.0, "the greatest share", minimum=0.0, maximum=1.0, why_maximum="a share of the money: 1 is all of it")

    def check_table(self, prefix: str, origin: Origin, problems: list) -> None:
        """The least share is not above the greatest."""
        if self.minimum > self.maximum:
            problem(
                problems,
                origin,
                prefix + "minimum",
                "is above maximum",
                file=blame(origin, [prefix + "minimum", prefix + "maximum"]),
                got=self.minimum,
                expected=f"a share at most maximum ({self.maximum:g})",
            )


@dataclass(frozen=True, kw_only=True)
class AllocatorSettings:
    """How the linear program is built and solved."""

    solver: Literal["highs", "cbc", "greedy"] = spec(
        "highs", "`highs` (default), `cbc` (cross-check) or `greedy` (exact for budget and grant caps only)"
    )
    objective: Literal["point", "expected", "cvar", "maxmin", "blend", "least_cost"] = spec(
        "point",
        "what the plan achieves: `point` (most harm averted at the point estimates), `expected` (most on average over the "
        "Monte Carlo draws), `cvar` (the best mean over the worst draws, uncertainty.tail_share of them), `maxmin` (raise "
        "the worst-served eligible area's harm averted per day of its basket harm), `blend` (harm averted and the max-min "
        "term, weighted by blend_weight) or `least_cost` (the least money that averts target_harm_days)",
    )
    blend_weight: float = spec(
        0.5,
        "with objective `blend`: the weight on the max-min term (0 = harm averted only, 1 = max-min only)",
        minimum=0.0,
        maximum=1.0,
        why_maximum="a weight between the two terms: 1 puts all of it on max-min",
    )
    target_harm_days: float = spec(
        0.0,
        "with objective `least_cost`: the harm averted (days) the plan must reach",
        minimum=0.0,
        maximum=1e12,
        why_maximum="more harm days than every force records in a century",
    )
    gap_target: float = spec(
        0.0005,
        "the optimality gap (fraction of the objective) below which a solution counts as exact; breakpoints are refined until it is met",
        minimum=1e-9,
        maximum=0.1,
        why_maximum="a gap above 10 % is no longer an optimum worth the name",
    )
    segments: int = spec(
        48,
        "chords per response curve in the linear program (breakpoints placed where each curve bends; doubled while the gap is above gap_target)",
        minimum=2,
        maximum=400,
        why_maximum="beyond 400 segments the curve is no closer but the linear program grows with every one",
    )
    minimum_grant_gbp: float = spec(
        0.0, "the least a funded area may receive, £ (0 = none)", minimum=0.0, maximum=MOST_GBP, why_maximum=MOST_GBP_WHY
    )
    bid_unit: Literal["area", "parent"] = spec(
        "area",
        "what one bid is: each `area` on its own, or each `parent` (a district's cluster of LSOAs); the round's grant cap and bid limit apply per bid",
    )
    match_funding_available_gbp: float | None = spec(
        None,
        "match funding the commissioner can put up, £; limits grant to this ÷ the round's match rate",
        minimum=0.0,
        maximum=MOST_GBP,
        why_maximum=MOST_GBP_WHY,
    )
    local_match_gbp: dict[str, float] = spec(
        {},
        "match funding each district (a bid, or the parent of a bid's areas) can find, £, keyed by its code or name: a funded "
        "bid's grant × the round's match rate must fit within it; a district not listed is not limited",
        minimum=0.0,
        maximum=MOST_GBP,
        why_maximum=MOST_GBP_WHY,
    )
    intervention_shares: dict[str, ShareBounds] = spec(
        {}, "bounds on each intervention's share of the money allocated, keyed by intervention id", key_pattern=INTERVENTION_ID.pattern
    )
    intervention_caps_gbp: dict[str, float] = spec(
        {},
        "the most each intervention may receive in total, £, keyed by intervention id",
        key_pattern=INTERVENTION_ID.pattern,
        minimum=0.0,
        maximum=MOST_GBP,
        why_maximum=MOST_GBP_WHY,
    )
    equity_floor: float = spec(
        0.0,
        "each eligible bid receives at least this fraction of its fair share of the budget (0 = no floor): its share "
        "of eligible basket harm, or an equal share (equity_basis)",
        minimum=0.0,
        maximum=1.0,
        why_maximum="a fraction of the fair share: 1 means the whole of it",
    )
    equity_basis: Literal["harm", "equal"] = spec(
        "harm", "what a bid's fair share follows: `harm` (its share of the eligible bids' basket harm) or `equal` (an equal share)"
    )
    budget_curve_points: int = spec(
        21,
        "points of the budget-response curve V(B), from £0 to twice the budget",
        minimum=3,
        maximum=401,
        why_maximum="401 points resolve the curve far finer than any chart shows",
    )


UNCERTAIN_SOURCES: tuple[str, ...] = ("counts", "forecast", "effects", "cost_scales", "harm_weights")
"""The inputs a Monte Carlo draw may vary; `uncertainty.SOURCE_DESCRIPTIONS` words each one."""

MOST_MULTIPLE = 10.0
MOST_MULTIPLE_WHY = "a multiple of 10 on an effect or a cost is beyond any range an evaluation or a costing supports"
MOST_DAYS = 36_500.0
MOST_DAYS_WHY = "36,500 days (100 years) per record is above any CCHI weight"
FRACTION_WHY = "a fraction: 0.35 means 35 %"
LEVEL_WHY = "a coverage of 1 would need an infinite interval"


@dataclass(frozen=True, kw_only=True)
class EffectRange:
    """The range of an effect without a published interval, as multiples of its max_reduction: triangular(low × r, r, high × r)."""

    low: float = spec(
        doc="the least effect, as a multiple of max_reduction (0 = no effect)",
        minimum=0.0,
        maximum=1.0,
        why_maximum="the range must hold the stated effect (1)",
    )
    high: float = spec(
        doc="the greatest effect, as a multiple of max_reduction (draws are cut at a 100 % reduction)",
        minimum=1.0,
        maximum=MOST_MULTIPLE,
        why_maximum=MOST_MULTIPLE_WHY,
    )


@dataclass(frozen=True, kw_only=True)
class EffectRanges:
    """The effect range that follows each confidence label, for interventions with no published interval."""

    high: EffectRange = spec(EffectRange(low=0.75, high=1.25), "range for effects labelled `high`")
    medium: EffectRange = spec(EffectRange(low=0.5, high=1.5), "range for effects labelled `medium`")
    low: EffectRange = spec(EffectRange(low=0.25, high=1.75), "range for effects labelled `low`")
    assumption: EffectRange = spec(EffectRange(low=0.0, high=2.0), "range for effects labelled `assumption`")
    source: str = spec("assumption: the range widens as the confidence label falls", "why the ranges are as wide as they are")

    def of(self, confidence: str) -> EffectRange:
        """The range for one confidence label."""
        return getattr(self, confidence)


@dataclass(frozen=True, kw_only=True)
class PublishedEffect:
    """A published interval for one intervention's effect, drawn from a two-piece normal with its mode at max_reduction."""

    low: float = spec(doc="the interval's lower end, as a fractional reduction", minimum=0.0, maximum=1.0, why_maximum=FRACTION_WHY)
    high: float = spec(doc="the interval's upper end, as a fractional reduction", minimum=0.0, maximum=1.0, why_maximum=FRACTION_WHY)
    level: float = spec(
        0.95,
        "the interval's coverage (0.95 for a 95 % confidence interval)",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=0.999,
        why_maximum=LEVEL_WHY,
    )
    source: str = spec(doc="the publication, and how its figure was turned into a reduction (e.g. reduction = 1 − 1/OR)")

    def check_table(self, prefix: str, origin: Origin, problems: list) -> None:
        """The interval's ends are in order."""
        if self.low >= self.high:
            keys = [prefix + "low", prefix + "high"]
            problem(
                problems,
                origin,
                prefix + "low",
                "is not below high",
                file=blame(origin, keys),
                got=self.low,
                expected=f"a lower end below high ({self.high:g})",
                hint="give the interval as low = smaller reduction, high = larger reduction",
            )


@dataclass(frozen=True, kw_only=True)
class CostScaleSettings:
    """The spread of the multiplier on every cost scale: lognormal with a median and a central range, drawn per intervention."""

    median: float = spec(
        1.0,
        "the multiplier's median (1 = the catalogue's cost scales)",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=MOST_MULTIPLE,
        why_maximum=MOST_MULTIPLE_WHY,
    )
    low: float = spec(
        0.5,
        "the multiplier's lower percentile at `level` (0.5 = half the cost)",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=MOST_MULTIPLE,
        why_maximum=MOST_MULTIPLE_WHY,
    )
    high: float = spec(
        2.0,
        "the multiplier's upper percentile at `level` (2 = twice the cost)",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=MOST_MULTIPLE,
        why_maximum=MOST_MULTIPLE_WHY,
    )
    level: float = spec(
        0.9,
        "the coverage of low to high (0.9 = 5th to 95th percentile)",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=0.999,
        why_maximum=LEVEL_WHY,
    )
    source: str = spec("planning assumption: no current unit costs were found", "where the spread comes from")

    def check_table(self, prefix: str, origin: Origin, problems: list) -> None:
        """The median lies strictly between the range's ends."""
        if self.low < self.median < self.high:
            return
        keys = [prefix + "low", prefix + "median", prefix + "high"]
        if self.low >= self.high:
            key, what, got = prefix + "low", "is not below high", self.low
        else:
            key, what, got = prefix + "median", "is not between low and high", self.median
        problem(
            problems,
            origin,
            key,
            what,
            file=blame(origin, keys),
            got=got,
            expected=f"low ({self.low:g}) < median ({self.median:g}) < high ({self.high:g})",
        )


@dataclass(frozen=True, kw_only=True)
class HarmSplit:
    """An assumed share behind a derived harm weight: weight = set value + (share drawn − share) × of_records × (weight_with − weight_without)."""

    crime_type: Literal[CRIME_TYPES] = spec(doc="the police.uk category whose weight rests on the share")
    share: float = spec(doc="the share the shipped weight assumes", minimum=0.0, maximum=1.0, why_maximum=FRACTION_WHY)
    low: float = spec(doc="the least plausible share", minimum=0.0, maximum=1.0, why_maximum=FRACTION_WHY)
    high: float = spec(doc="the greatest plausible share", minimum=0.0, maximum=1.0, why_maximum=FRACTION_WHY)
    weight_with: float = spec(
        doc="days per record of the part the share measures (e.g. rape, 2,555)", minimum=0.0, maximum=MOST_DAYS, why_maximum=MOST_DAYS_WHY
    )
    weight_without: float = spec(
        doc="days per record of the rest (e.g. other sexual offences, 182.25)", minimum=0.0, maximum=MOST_DAYS, why_maximum=MOST_DAYS_WHY
    )
    of_records: float = spec(
        1.0,
        "the fraction of the category's records the share divides (0.09: sexual offences within violence and sexual offences)",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=1.0,
        why_maximum=FRACTION_WHY,
    )
    distribution: Literal["triangular", "uniform"] = spec(
        "triangular", "`triangular` (low, share, high) or `uniform` (low to high, every share alike)"
    )
    label: str = spec("", "the share in words, for charts (e.g. 'rape share of sexual offences')")
    source: str = spec(doc="where the share and its range come from, or 'assumption' and why")

    def check_table(self, prefix: str, origin: Origin, problems: list) -> None:
        """The range holds the share: low < high, and low <= share <= high."""
        if self.low >= self.high:
            problem(
                problems,
                origin,
                prefix + "low",
                "is not below high",
                file=blame(origin, [prefix + "low", prefix + "high"]),
                got=self.low,
                expected=f"a share below high ({self.high:g})",
            )
        elif not self.low <= self.share <= self.high:
            problem(
                problems,
                origin,
                prefix + "share",
                "is not inside [low, high]",
                file=blame(origin, [prefix + "share", prefix + "low", prefix + "high"]),
                got=self.share,
                expected=f"low ({self.low:g}) <= share <= high ({self.high:g})",
            )


@dataclass(frozen=True, kw_only=True)
class UncertaintySettings:
    """What varies in the Monte Carlo draws and how: each uncertain input a distribution with its source."""

    sources: tuple[str, ...] = spec(
        UNCERTAIN_SOURCES,
        "the inputs that vary between draws, a subset of: " + ", ".join(UNCERTAIN_SOURCES) + "; the others stay at their point values",
        choices=UNCERTAIN_SOURCES,
        noun="source of uncertainty",
    )
    marginal_share: float = spec(
        0.10,
        "a verdict (eligible, funded) that flips in more than this share of draws is called marginal",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=0.5,
        why_maximum="above 0.5 the verdict itself flips in most draws",
    )
    tail_share: float = spec(
        0.10,
        "the worst share of draws that the `cvar` objective and the worst-decile figure average",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=1.0,
        why_maximum="a share of the draws: 1 means all of them (the mean)",
    )
    effect_ranges: EffectRanges = spec(EffectRanges(), "the range of an effect with no published interval, by its confidence label")
    effects: dict[str, PublishedEffect] = spec(
        {}, "published intervals for interventions' effects, keyed by intervention id", key_pattern=INTERVENTION_ID.pattern
    )
    cost_scales: CostScaleSettings = spec(CostScaleSettings(), "the spread of the cost-scale multiplier")
    harm_splits: dict[str, HarmSplit] = spec(
        {}, "assumed shares behind derived harm weights, keyed by id", key_pattern=INTERVENTION_ID.pattern
    )

    def varies(self, source: str) -> bool:
        """Whether one source varies between draws."""
        return source in self.sources


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A fully resolved scenario: everything one run needs besides the data files."""

    name: str = spec(doc="short name; the run folder is reports/<name>", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str = spec(doc="one line for the report")
    question: str = spec("", "the what-if question this scenario asks")
    budget_gbp: float = spec(
        doc="the money to allocate, £", minimum=0.0, exclusive_minimum=True, maximum=MOST_GBP, why_maximum=MOST_GBP_WHY
    )
    fund_round: str = spec(doc="the id of the round whose rules apply (a key of `rounds`)")
    seed: int = spec(20260601, "seed for the Monte Carlo draws", minimum=0, maximum=MOST_SEED, why_maximum=MOST_SEED_WHY)
    data: DataSource = spec(DataSource(), "input data")
    harm: HarmSettings = spec(HarmSettings(), "harm weights")
    demand: DemandSettings = spec(DemandSettings(), "forecast settings")
    allocation: AllocatorSettings = spec(AllocatorSettings(), "allocator settings")
    rounds: dict[str, FundRound] = spec({}, "the fund rounds, keyed by id", key_pattern=ROUND_ID.pattern)
    interventions: dict[str, Intervention] = spec({}, "the intervention catalogue, keyed by id", key_pattern=INTERVENTION_ID.pattern)
    shocks: dict[str, Shock] = spec({}, "what-if changes to demand, keyed by id")
    uncertainty: UncertaintySettings = spec(UncertaintySettings(), "what varies in the Monte Carlo draws, each with its source")
    appraisal: AppraisalSettings = spec(AppraisalSettings(), "how harm averted in later years is discounted")

    @property
    def round(self) -> FundRound:
        """The round this scenario is run under."""
        return self.rounds[self.fund_round]

    def active_interventions(self) -> dict[str, Intervention]:
        """Enabled interventions the round allows, in catalogue order."""
        allowed = set(self.round.interventions) or set(self.interventions)
        return {key: item for key, item in self.interventions.items() if item.enabled and key in allowed}

    def check_table(self, prefix: str, origin: Origin, problems: list) -> None:
        """Cross-field checks, once every table is sound: the round exists, named interventions exist, each intervention's
        reach and lifetime fit what it targets and its kind, and effects on a crime type do not exceed 100 %.

        The 100 % is checked on the plain sum of max_reduction, not on the reached parts: two measures may reach the
        same residential burglaries, and with Σ r_i ≤ 1 each year's harm averted on a crime type, at most
        Σ r_i · reach_i · harm ≤ harm, never exceeds its harm whatever the reaches are.
        """
        if problems:
            return
        scenario = self
        if scenario.fund_round not in scenario.rounds:
            close = difflib.get_close_matches(scenario.fund_round, list(scenario.rounds), n=1)
            problem(
                problems,
                origin,
                "fund_round",
                "names no known round",
                file=blame(origin, ["fund_round", "rounds"]),
                got=scenario.fund_round,
                expected=", ".join(scenario.rounds) or "a [rounds.<id>] table",
                hint=f"did you mean '{close[0]}'?" if close else "add the round's file under configs/rounds/",
            )
            return
        for round_id, fund_round in scenario.rounds.items():
            for intervention in fund_round.interventions:
                if intervention not in scenario.interventions:
                    key = f"rounds.{round_id}.interventions"
                    problem(
                        problems,
                        origin,
                        key,
                        "names an unknown intervention",
                        file=blame(origin, [key, "interventions"]),
                        got=intervention,
                        expected=", ".join(scenario.interventions),
                    )
        round_keys = ["fund_round", f"rounds.{scenario.fund_round}.interventions"]
        if not scenario.active_interventions():
            keys = [f"interventions.{item}.enabled" for item in scenario.interventions] + round_keys
            problem(
                problems,
                origin,
                "interventions",
                "no enabled intervention is allowed by the round",
                file=blame(origin, keys),
                hint=f"enable one of: {', '.join(scenario.round.interventions or scenario.interventions)}",
            )
        for item_id, intervention in scenario.interventions.items():
            for crime_type in intervention.reach:
                if crime_type not in intervention.crime_types:
                    key = f"interventions.{item_id}.reach"
                    problem(
                        problems,
                        origin,
                        key,
                        "gives a share for a crime type the intervention does not target",
                        file=blame(origin, [key, f"interventions.{item_id}.crime_types"]),
                        got=crime_type,
                        expected=", ".join(intervention.crime_types),
                        hint="add the crime type to crime_types or drop its share",
                    )
            if intervention.kind == "recurring" and intervention.lifetime_years != 1.0:
                key = f"interventions.{item_id}.lifetime_years"
                problem(
                    problems,
                    origin,
                    key,
                    "is more than one year for a recurring intervention",
                    file=blame(origin, [key, f"interventions.{item_id}.kind"]),
                    got=intervention.lifetime_years,
                    expected="1 (a recurring measure works for the year it is funded)",
                    hint='set kind = "capital" for a measure bought once that keeps working, or lifetime_years = 1',
                )
        totals: dict[str, list[tuple[str, float]]] = {}
        for item_id, intervention in scenario.active_interventions().items():
            for crime_type in intervention.crime_types:
                totals.setdefault(crime_type, []).append((item_id, intervention.max_reduction))
        for crime_type, parts in totals.items():
            total = sum(reduction for _, reduction in parts)
            if total > 1.0 + 1e-9:
                keys = [f"interventions.{item_id}.{name}" for item_id, _ in parts for name in ("max_reduction", "crime_types", "enabled")]
                named = ", ".join(f"{item_id} {reduction:g}" for item_id, reduction in parts)
                problem(
                    problems,
                    origin,
                    "interventions",
                    f"maximum reductions for {crime_type} add up to more than 100 %",
                    file=blame(origin, keys + round_keys),
                    got=round(total, 3),
                    expected="a sum <= 1",
                    hint=f"effects are modelled as additive and checked before reach ({named}): lower max_reduction or disable an intervention",
                )
        self._check_published_effects(origin, problems)
        self._check_allocation_rules(origin, problems)

    def _check_allocation_rules(self, origin: Origin, problems: list) -> None:
        """Shares and caps name interventions of the catalogue, the least shares add up to at most all the money, and
        the least-cost objective has a target."""
        settings = self.allocation
        for table in ("intervention_shares", "intervention_caps_gbp"):
            for item_id in getattr(settings, table):
                if item_id not in self.interventions:
                    self._unknown_intervention(
                        origin, problems, f"allocation.{table}.{item_id}", item_id, "key the entry by an id under [interventions]"
                    )
        least = sum(bounds.minimum for bounds in settings.intervention_shares.values())
        if least > 1.0 + 1e-9:
            keys = [f"allocation.intervention_shares.{item_id}.minimum" for item_id in settings.intervention_shares]
            problem(
                problems,
                origin,
                "allocation.intervention_shares",
                "asks for least shares that add up to more than all the money",
                file=blame(origin, keys),
                got=round(least, 3),
                expected="least shares adding up to at most 1",
            )
        if settings.objective == "least_cost" and settings.target_harm_days <= 0:
            problem(
                problems,
                origin,
                "allocation.target_harm_days",
                "must be set for the least_cost objective",
                file=blame(origin, ["allocation.target_harm_days", "allocation.objective"]),
                got=settings.target_harm_days,
                expected="a number of harm days above 0",
                hint="e.g. --set allocation.target_harm_days=50000",
            )

    def _unknown_intervention(self, origin: Origin, problems: list, key: str, item_id: str, fallback_hint: str) -> None:
        """A table entry keyed by an id that is not in the catalogue: named, with the closest id as a hint."""
        close = difflib.get_close_matches(item_id, list(self.interventions), n=1)
        problem(
            problems,
            origin,
            key,
            "names an unknown intervention",
            file=blame(origin, [key, "interventions"]),
            got=item_id,
            expected=", ".join(self.interventions),
            hint=f"did you mean '{close[0]}'?" if close else fallback_hint,
        )

    def _check_published_effects(self, origin: Origin, problems: list) -> None:
        """Each published interval names an intervention of the catalogue and holds its max_reduction strictly inside."""
        for item_id, effect in self.uncertainty.effects.items():
            key = f"uncertainty.effects.{item_id}"
            if item_id not in self.interventions:
                self._unknown_intervention(origin, problems, key, item_id, "key the interval by an id under [interventions]")
                continue
            reduction = self.interventions[item_id].max_reduction
            if not effect.low < reduction < effect.high:
                reduction_key = f"interventions.{item_id}.max_reduction"
                problem(
                    problems,
                    origin,
                    key,
                    f"does not hold {reduction_key}",
                    file=blame(origin, [key + ".low", key + ".high", reduction_key]),
                    got=reduction,
                    expected=f"low ({effect.low:g}) < max_reduction < high ({effect.high:g})",
                    hint="the interval's two-piece normal has its mode at max_reduction: set max_reduction to the published point estimate",
                )
