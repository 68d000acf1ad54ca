"""What a scenario may say: frozen dataclasses, one docstring per field, and their checker.

A scenario file (TOML) is merged from its `extends` chain by `scenario.py` and then built
into these classes by `build`, which refuses unknown keys (suggesting the closest known one),
checks types, ranges and choices, and names the file and dotted key of every problem.
Every number must be finite and within bounds; each field's metadata says why its upper bound
is where it is (`why_maximum`), and a rule's threshold is checked against its kind here
(`THRESHOLD_RANGES`) rather than when the rule is applied. A problem that several keys cause
together is blamed on `--set` if the command line set any of them.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ConfigError

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

COMMAND_LINE = "--set"
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


def spec(default: Any = dataclasses.MISSING, doc: str = "", **checks: Any) -> Any:
    """A dataclass field with its documentation and range/choice checks in metadata."""
    metadata = {"doc": doc, **checks}
    if isinstance(default, (dict, list)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata=metadata)
    if default is dataclasses.MISSING:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, kw_only=True)
class DataSource:
    """Where the area table and the crime counts come from, and which months to use."""

    areas: str = spec(
        "embedded:kent_districts.csv",
        "CSV of areas: code, name, parent, population; `embedded:` names a shipped file; empty (LSOA level only) takes the areas from the counts with a nominal population",
    )
    crime_counts: str = spec(
        "embedded:kent_crime_by_type.csv", "CSV of counts: area code, crime type, count, period; `embedded:` names a shipped file"
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
    tile_layout: str = spec(
        "",
        "CSV placing each area on a hexagon grid (area code, row, column) for the tile map; `embedded:` names a shipped layout; empty for none",
    )
    boundaries: str = spec(
        "",
        "GeoJSON of area boundaries for a real map, features matched to areas by a property holding the area code; replaces the tile map; empty for none",
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
        "Monte Carlo draws of demand used to put an interval on harm averted",
        minimum=10,
        maximum=100_000,
        why_maximum="more than 100,000 draws adds no precision worth the memory (draws × areas × crime types numbers)",
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
    """A crime-prevention measure with a diminishing-returns response curve."""

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
    enabled: bool = spec(True, "false removes it from the catalogue for this scenario")


@dataclass(frozen=True, kw_only=True)
class AllocatorSettings:
    """How the linear program is built and solved."""

    solver: Literal["highs", "cbc", "greedy"] = spec(
        "highs", "`highs` (default), `cbc` (cross-check) or `greedy` (exact for budget and grant caps only)"
    )
    segments: int = spec(
        48,
        "linear segments approximating each response curve",
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

    @property
    def round(self) -> FundRound:
        """The round this scenario is run under."""
        return self.rounds[self.fund_round]

    def active_interventions(self) -> dict[str, Intervention]:
        """Enabled interventions the round allows, in catalogue order."""
        allowed = set(self.round.interventions) or set(self.interventions)
        return {key: item for key, item in self.interventions.items() if item.enabled and key in allowed}


# ---------------------------------------------------------------- the checker


Origin = Callable[[str], str | None]


def build(cls: type, data: dict, origin: Origin = lambda key: None) -> Any:
    """Build `cls` from a parsed mapping, raising one ConfigError that carries every problem."""
    problems: list[ConfigError] = []
    value = _build_dataclass(cls, data, "", origin, problems)
    if not problems and cls is Scenario:
        _check_scenario(value, origin, problems)
    if problems:
        raise ConfigError.collected(problems)
    return value


def _problem(problems: list, origin: Origin, key: str, what: str, *, file: str | None = None, **parts: Any) -> None:
    shown = key if key.isprintable() else key.encode("unicode_escape").decode("ascii")  # the message stays one line
    problems.append(ConfigError(what, file=file or origin(key), key=shown, **parts))


def _blame(origin: Origin, keys: list[str]) -> str | None:
    """The origin to name for a problem that several keys cause together: the command line if it set any of them."""
    origins = [origin(key) for key in keys]
    if COMMAND_LINE in origins:
        return COMMAND_LINE
    return next((found for found in origins if found), None)


def _build_dataclass(cls: type, data: Any, prefix: str, origin: Origin, problems: list) -> Any:
    if not isinstance(data, dict):
        _problem(problems, origin, prefix.rstrip(".") or "(top level)", "must be a table", got=data, expected="a TOML table")
        return None
    hints = typing.get_type_hints(cls)
    fields = {item.name: item for item in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(fields)}"
            _problem(problems, origin, prefix + str(key), "unknown key", hint=hint)
    values = {}
    for name, item in fields.items():
        key = prefix + name
        if name in data:
            values[name] = _convert(hints[name], data[name], item.metadata, key, origin, problems)
        elif item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
            _problem(problems, origin, key, "is required", expected=_describe(hints[name]), hint=item.metadata.get("doc") or None)
    if any(
        name not in values and fields[name].default is dataclasses.MISSING and fields[name].default_factory is dataclasses.MISSING
        for name in fields
    ):
        return None
    try:
        built = cls(**{name: value for name, value in values.items() if value is not _INVALID})
    except TypeError:
        return None
    check = _CHECKS.get(cls)
    if check is not None:
        check(built, prefix, origin, problems)
    return built


_INVALID = object()
NUMBER_CHECKS = ("minimum", "maximum", "exclusive_minimum", "why_maximum")
"""The metadata keys that bound a number; a table of numbers passes them on to each value."""


def _convert(hint: Any, value: Any, meta: dict, key: str, origin: Origin, problems: list) -> Any:
    kind = typing.get_origin(hint)
    if kind in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)][0]
        return _convert(inner, value, meta, key, origin, problems)
    if dataclasses.is_dataclass(hint):
        built = _build_dataclass(hint, value, key + ".", origin, problems)
        return _INVALID if built is None else built
    if kind is Literal:
        choices = typing.get_args(hint)
        if isinstance(value, (dict, list)) or value not in choices:
            close = difflib.get_close_matches(str(value), [str(choice) for choice in choices], n=1)
            _problem(
                problems,
                origin,
                key,
                "is not one of the allowed values",
                got=value,
                expected=" or ".join(map(repr, choices)),
                hint=f"did you mean '{close[0]}'?" if close else None,
            )
            return _INVALID
        return value
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            _problem(problems, origin, key, "must be a list of strings", got=value, expected='e.g. ["Burglary", "Robbery"]')
            return _INVALID
        if meta.get("nonempty") and not value:
            _problem(problems, origin, key, "must not be empty", expected="at least one entry")
            return _INVALID
        choices = meta.get("choices")
        for item in value if choices else ():
            if item not in choices:
                _unknown_choice(problems, origin, key, item, choices, "crime type")
                return _INVALID
        if len(set(value)) != len(value):
            _problem(problems, origin, key, "lists an entry twice", got=value)
            return _INVALID
        return tuple(value)
    if kind is dict:
        if not isinstance(value, dict):
            _problem(problems, origin, key, "must be a table", got=value, expected="a TOML table")
            return _INVALID
        value_type = typing.get_args(hint)[1]
        result = {}
        for sub_key, sub_value in value.items():
            dotted = f"{key}.{sub_key}"
            if meta.get("key_pattern") and not re.fullmatch(meta["key_pattern"], sub_key):
                _problem(
                    problems,
                    origin,
                    dotted,
                    "is not a valid id",
                    got=sub_key,
                    expected=f"lower-case letters, digits, '_' (pattern {meta['key_pattern']})",
                )
                continue
            if meta.get("key_choices") and sub_key not in meta["key_choices"]:
                _unknown_choice(problems, origin, dotted, sub_key, meta["key_choices"], "crime type")
                continue
            converted = _convert(value_type, sub_value, {k: v for k, v in meta.items() if k in NUMBER_CHECKS}, dotted, origin, problems)
            if converted is not _INVALID:
                result[sub_key] = converted
        return result
    return _convert_scalar(hint, value, meta, key, origin, problems)


def _convert_scalar(hint: Any, value: Any, meta: dict, key: str, origin: Origin, problems: list) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            _problem(problems, origin, key, "must be true or false", got=value)
            return _INVALID
        return value
    if hint in (int, float):
        return _convert_number(hint, value, meta, key, origin, problems)
    if hint is str:
        if not isinstance(value, str):
            _problem(problems, origin, key, "must be a string", got=value, expected="text in quotes")
            return _INVALID
        if meta.get("pattern") and not re.fullmatch(meta["pattern"], value):
            _problem(problems, origin, key, "is not in the expected form", got=value, expected=f"pattern {meta['pattern']}")
            return _INVALID
        return value
    raise TypeError(f"schema type {hint!r} is not supported")


def _convert_number(hint: type, value: Any, meta: dict, key: str, origin: Origin, problems: list) -> Any:
    """A finite number within the field's bounds; a whole one for `int` fields (never a float, however round)."""
    noun = "a whole number" if hint is int else "a number"
    expected = _range_text(noun, meta.get("minimum"), meta.get("maximum"), meta.get("exclusive_minimum", False))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _problem(
            problems,
            origin,
            key,
            f"must be {noun}",
            got=value,
            expected=expected,
            hint="write numbers without quotes or £ signs, e.g. 1_500_000" if isinstance(value, str) else None,
        )
        return _INVALID
    if isinstance(value, float) and not math.isfinite(value):
        _problem(
            problems,
            origin,
            key,
            "must be a finite number",
            got=value,
            expected=expected,
            hint="inf and nan are not allowed (a number too large to store, such as 1e400, reads as inf)",
        )
        return _INVALID
    if hint is int and isinstance(value, float):
        _problem(
            problems,
            origin,
            key,
            "must be a whole number",
            got=value,
            expected=expected,
            hint=f"write it without a decimal point or exponent, e.g. {int(value)}" if value.is_integer() else None,
        )
        return _INVALID
    low, high = meta.get("minimum"), meta.get("maximum")
    too_low = low is not None and (value <= low if meta.get("exclusive_minimum") else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        _problem(
            problems,
            origin,
            key,
            "is out of range",
            got=_shown(value),
            expected=expected,
            hint=meta.get("why_maximum") if too_high else None,
        )
        return _INVALID
    return hint(value)


def _shown(value: int | float) -> int | float | str:
    """A number as an error shows it: integers too long to read are cut to their first digits and length."""
    if isinstance(value, int) and abs(value) >= 10**30:
        return f"{value:.6e} (an integer of {len(str(abs(value)))} digits)"
    return value


def _range_text(noun: str, low: float | None, high: float | None, exclusive_minimum: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if exclusive_minimum else '>='} {_number_text(low)}")
    if high is not None:
        parts.append(f"<= {_number_text(high)}")
    return f"{noun} {' and '.join(parts)}" if parts else noun


def _number_text(number: float) -> str:
    if float(number).is_integer() and abs(number) < 1e16:
        return f"{int(number):,}"
    return f"{number:g}"


def _unknown_choice(problems: list, origin: Origin, key: str, item: str, choices: tuple, noun: str) -> None:
    close = difflib.get_close_matches(item, list(choices), n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"use one of the {len(choices)} police.uk categories"
    _problem(problems, origin, key, f"unknown {noun}", got=item, hint=hint)


def _describe(hint: Any) -> str:
    kind = typing.get_origin(hint)
    if kind in (typing.Union, types.UnionType):
        return _describe([arg for arg in typing.get_args(hint) if arg is not type(None)][0]) + " (optional)"
    if kind is Literal:
        return " | ".join(map(repr, typing.get_args(hint)))
    if kind is tuple:
        return "list of strings"
    if kind is dict:
        return "table"
    return getattr(hint, "__name__", str(hint))


def _check_rule(rule: Rule, prefix: str, origin: Origin, problems: list) -> None:
    """The threshold suits its kind: a rank is a whole number of areas, a percentile is in (0, 100], and so on."""
    allowed = THRESHOLD_RANGES[rule.threshold_kind]
    value = rule.threshold
    too_low = value <= allowed.minimum if allowed.exclusive_minimum else value < allowed.minimum
    not_whole = allowed.whole and not float(value).is_integer()
    if not (too_low or not_whole or value > allowed.maximum):
        return
    key, kind_key = prefix + "threshold", prefix + "threshold_kind"
    noun = "a whole number" if allowed.whole else "a number"
    hint = allowed.why_maximum if value > allowed.maximum else allowed.example
    if origin(kind_key) and origin(kind_key) != origin(key):
        hint += f"; threshold_kind '{rule.threshold_kind}' comes from {origin(kind_key)}, the threshold from {origin(key)}"
    _problem(
        problems,
        origin,
        key,
        f"does not suit threshold_kind '{rule.threshold_kind}'",
        file=_blame(origin, [key, kind_key]),
        got=value,
        expected=f"{allowed.meaning}: {_range_text(noun, allowed.minimum, allowed.maximum, allowed.exclusive_minimum)}",
        hint=hint,
    )


_CHECKS: dict[type, Callable[[Any, str, Origin, list], None]] = {Rule: _check_rule}
"""Checks across the fields of one table, run once the table is built."""


def _check_scenario(scenario: Scenario, origin: Origin, problems: list) -> None:
    """Cross-field checks: the round exists, named interventions exist, effects do not exceed 100 %."""
    if scenario.fund_round not in scenario.rounds:
        close = difflib.get_close_matches(scenario.fund_round, list(scenario.rounds), n=1)
        _problem(
            problems,
            origin,
            "fund_round",
            "names no known round",
            file=_blame(origin, ["fund_round", "rounds"]),
            got=scenario.fund_round,
            expected=", ".join(scenario.rounds) or "a [rounds.<id>] table",
            hint=f"did you mean '{close[0]}'?" if close else "add the round's file under configs/rounds/",
        )
        return
    for round_id, fund_round in scenario.rounds.items():
        for intervention in fund_round.interventions:
            if intervention not in scenario.interventions:
                key = f"rounds.{round_id}.interventions"
                _problem(
                    problems,
                    origin,
                    key,
                    "names an unknown intervention",
                    file=_blame(origin, [key, "interventions"]),
                    got=intervention,
                    expected=", ".join(scenario.interventions),
                )
    round_keys = ["fund_round", f"rounds.{scenario.fund_round}.interventions"]
    if not scenario.active_interventions():
        keys = [f"interventions.{item}.enabled" for item in scenario.interventions] + round_keys
        _problem(
            problems,
            origin,
            "interventions",
            "no enabled intervention is allowed by the round",
            file=_blame(origin, keys),
            hint=f"enable one of: {', '.join(scenario.round.interventions or scenario.interventions)}",
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
            _problem(
                problems,
                origin,
                "interventions",
                f"maximum reductions for {crime_type} add up to more than 100 %",
                file=_blame(origin, keys + round_keys),
                got=round(total, 3),
                expected="a sum <= 1",
                hint=f"effects are modelled as additive ({named}): lower max_reduction or disable an intervention",
            )
