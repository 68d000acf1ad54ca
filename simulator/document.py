"""The report's content, as a document of sections, tables and charts (`rendering` turns it into HTML and Markdown).

Built from a run or a comparison; no I/O. Tables hold the same rows as the CSVs beside them,
with each column's kind saying how its values are formatted for reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .datafiles import shown_file_name
from .demand import FORECAST_METHOD, TOP_FRACTIONS
from .eligibility import MANY_AREAS
from .experiments import Comparison
from .interventions import counted_over
from .maps import force_name
from .result import COUNT_CAVEAT, RunResult, Summary, percent

TOP_ROWS = 30

Kind = Literal["text", "gbp", "days", "decimal", "pct", "share", "flag", "code", "file"]


@dataclass(frozen=True)
class Column:
    """A table column: the row key it shows, its heading and how its values are formatted."""

    key: str
    title: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    """A table with a caption, and the CSV file its rows come from (if any)."""

    caption: str
    columns: tuple[Column, ...]
    rows: tuple[dict, ...]
    source: str = ""


@dataclass(frozen=True)
class Chart:
    """A chart by name (the PNG in charts/), with a caption saying what to read from it."""

    name: str
    caption: str


@dataclass(frozen=True)
class Facts:
    """Headline figures, shown as a row of boxes."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Bullets:
    """A list of short statements."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Code:
    """A command to type."""

    text: str


Block = str | Table | Chart | Facts | Bullets | Code


@dataclass(frozen=True)
class Section:
    """A titled part of the report."""

    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """A whole report."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]


# ---------------------------------------------------------------- a run


def run_document(result: RunResult, folder: str) -> Document:
    """The report of one run: question, data, harm, eligibility, allocation and why it looks as it does, baselines,
    uncertainty, assumptions."""
    summary = result.summary()
    return Document(
        title=result.scenario.title,
        subtitle=result.scenario.question,
        sections=(
            _headline(result, summary),
            _data_section(result),
            *((_left_out_section(result),) if result.demand.areas.left_out else ()),
            _harm_section(result, summary),
            _eligibility_section(result),
            _allocation_section(result, summary),
            *((_forces_section(result),) if result.spans_forces else ()),
            _why_section(result, summary),
            _baselines_section(result),
            _uncertainty_section(result, summary),
            _assumptions_section(result),
            _repeat_section(result, folder),
        ),
    )


def _headline(result: RunResult, summary: Summary) -> Section:
    low, high = summary.harm_averted_interval_days
    areas = result.demand.areas
    unit = result.demand.weights
    facts = Facts(
        (
            ("Budget", _gbp(summary.budget_gbp)),
            ("Allocated", _gbp(summary.allocated_gbp)),
            ("Harm averted", f"{summary.harm_averted_days:,.0f} {unit.short_unit}"),
            (f"{summary.harm_averted_interval_coverage:.0%} interval", f"{low:,.0f} to {high:,.0f}"),
            (f"Cost per {unit.unit[:-1]} averted", _gbp2(summary.gbp_per_harm_day_averted)),
            ("Eligible areas", f"{summary.eligible_areas:,} of {len(areas.codes):,}"),
            ("Areas funded", f"{len(summary.funded_areas):,}"),
        )
    )
    fund_round = result.scenario.round
    text = (
        f"Under the terms of {fund_round.name} ({fund_round.period}), {summary.eligible_areas:,} of the "
        f"{len(areas.codes):,} areas in {areas.force_name}{_across_forces(result)} pass the area test, and the allocation below "
        f"spends {_gbp(summary.allocated_gbp)} of a {_gbp(summary.budget_gbp)} budget across "
        f"{len(summary.funded_areas):,} of them to avert a point estimate of {summary.harm_averted_days:,.0f} {unit.unit} "
        f"({counted_over(result.curves, result.demand.horizon_months)})."
    )
    blocks: list[Block] = [facts, text]
    if summary.allocated_gbp <= 0 and summary.binding_constraints:
        reason = summary.binding_constraints[0]
        blocks.append(f"Nothing is allocated. {reason[0].upper()}{reason[1:]}.")
    blocks.append(
        f"The {summary.harm_averted_interval_coverage:.0%} interval ({low:,.0f} to {high:,.0f}) is the spread of harm averted by "
        f"this plan over {summary.draws:,} Monte Carlo draws of {summary.harm_averted_interval_includes}, with the plan held fixed "
        "(see How sure are we?)."
    )
    if areas.left_out:
        groups = "; ".join(
            f"{force_name(group.group)} ({group.areas:,} areas, {group.population:,.0f} residents)" for group in areas.left_out
        )
        blocks.append(
            f"Warning: left out of the model for want of data: {groups}. Their areas get no money here, which says nothing "
            "about their need: they are not read as safe (see Left out)."
        )
    if summary.command_line:
        blocks.append(Bullets(tuple(f"Changed on the command line: {item}" for item in summary.command_line)))
    return Section("Summary", tuple(blocks))


def _across_forces(result: RunResult) -> str:
    """', across N police forces' for a run that spans forces, else nothing (also when the table's name already counts
    them, as 'England and Wales (38 forces)' does)."""
    count = len(result.demand.areas.force_names)
    if not result.spans_forces or f"({count} forces)" in result.demand.areas.force_name:
        return ""
    return f", across {count} police forces"


def _left_out_section(result: RunResult) -> Section:
    """The groups of areas the model leaves out, each with its reason, areas and residents: never read as safe."""
    groups = result.demand.areas.left_out
    rows = tuple(
        {"group": force_name(group.group), "reason": group.reason, "areas": group.areas, "residents": group.population} for group in groups
    )
    areas = sum(group.areas for group in groups)
    residents = sum(group.population for group in groups)
    return Section(
        "Left out",
        (
            f"{_count_words(len(groups)).capitalize() if len(groups) > 1 else 'One'} group{'s' if len(groups) > 1 else ''} of areas "
            f"({areas:,} areas, {residents:,.0f} residents) {'are' if len(groups) > 1 else 'is'} left out of the model, each for "
            "the reason in the table. Where records are missing, a missing record would read as no crime, so these areas are "
            "not modelled at all: they get no money in the model or in the simple splits, and that is a gap in the data, not "
            "a finding that they are safe. Their bids would compete for the same budget if their data were added.",
            Table(
                "Groups of areas left out, and why (forces.csv lists them with £0)",
                (
                    Column("group", "Left out"),
                    Column("reason", "Why"),
                    Column("areas", "Areas", "days"),
                    Column("residents", "Residents", "days"),
                ),
                rows,
                "forces.csv",
            ),
        ),
    )


FORCE_OUTLIERS = 3
"""How many forces the report names as funded most above, and most below, the population split."""


def _forces_section(result: RunResult) -> Section:
    """A run across forces: the model's £ by force beside the simple splits, and what stands out against a population split."""
    rows = [{**row, "force": row["force_name"]} for row in result.force_rows() if row["status"] == "modelled"]
    splits = [baseline.name for baseline in result.baselines]
    unit = result.demand.weights.short_unit
    level = result.demand.areas.level_name
    columns = (
        Column("force", "Force"),
        Column("areas", f"{level}s", "days"),
        Column("residents", "Residents", "days"),
        Column("share_of_harm", "Share of harm", "share"),
        Column("eligible_areas", "Eligible", "days"),
        Column("bids_funded", "Bids funded", "days"),
        Column("amount_gbp", "The model", "gbp"),
        Column("share_of_money", "Share of money", "share"),
        Column("harm_averted_days", f"Harm averted ({unit})", "days"),
        *(Column(f"{name}_gbp", _split_title(name), "gbp") for name in splits),
    )
    blocks: list[Block] = [
        f"The round's rules apply within each force, and every force's bids compete for the one budget. The table gives each "
        f"force's £ from the model beside the simple splits of the same money ({', '.join(_split_title(name).lower() for name in splits)}), "
        "most money first.",
        *_force_findings(rows, "per_head" if "per_head" in splits else (splits[0] if splits else None)),
        Chart(
            "money_by_force",
            "Left: the police forces of England and Wales, one square each, roughly where each lies, coloured by the model's £ "
            "per resident (hatched grey: no data, not in the model). Right: each force's £ from the model and from the "
            "population split.",
        ),
        Table("The money by police force, most first (every force in forces.csv)", columns, tuple(rows), "forces.csv"),
    ]
    return Section("By force", tuple(blocks))


def _split_title(name: str) -> str:
    """A simple split's name as a column heading: 'per_head' → 'Per head'."""
    return name.replace("_", " ").capitalize()


def _force_findings(rows: list[dict], split: str | None) -> list[Block]:
    """Sentences on what stands out: the forces the model funds most above and most below the population split, with their
    shares of harm and of residents (harm concentrated where the first is above the second), and the forces it leaves
    unfunded and why."""
    if split is None or not rows:
        return []
    key = f"{split}_gbp"
    words = "the population split" if split == "per_head" else f"the {_split_title(split).lower()} split"
    gaps = sorted(rows, key=lambda row: (-(row["amount_gbp"] - row[key]), row["force"]))
    more = [row for row in gaps if row["amount_gbp"] - row[key] >= 0.5][:FORCE_OUTLIERS]
    less = [row for row in reversed(gaps) if row[key] - row["amount_gbp"] >= 0.5][:FORCE_OUTLIERS]
    found: list[Block] = []
    if more:
        found.append(
            f"The model funds most above {words}: "
            + "; ".join(_against_split(row, key) for row in more)
            + ". "
            + _concentration_words(more)
        )
    if less:
        found.append(f"Most below {words}: " + "; ".join(_against_split(row, key) for row in less) + ". " + _concentration_words(less))
    unfunded = [row for row in rows if row["amount_gbp"] < 0.5]
    if unfunded:
        none_eligible = [row["force"] for row in unfunded if row["eligible_areas"] == 0]
        outranked = [row["force"] for row in unfunded if row["eligible_areas"] > 0]
        parts = []
        if none_eligible:
            parts.append(
                f"{_listed_names(none_eligible)} {'has' if len(none_eligible) == 1 else 'have'} no area that passes the round's test"
            )
        if outranked:
            parts.append(
                f"{_listed_names(outranked)} {'has' if len(outranked) == 1 else 'have'} eligible areas, but no bid the model "
                "funds: their bids avert less harm per pound than those funded, or the round's limits leave no room"
            )
        found.append(f"{len(unfunded):,} of {len(rows):,} forces get nothing from the model: " + "; ".join(parts) + ".")
    return found


def _against_split(row: dict, key: str) -> str:
    """'Kent £591,370 against £620,143 (1.9 % of residents, 3.2 % of harm)'."""
    return (
        f"{row['force']} {_gbp(row['amount_gbp'])} against {_gbp(row[key])} "
        f"({row['share_of_residents']:.1%} of residents, {row['share_of_harm']:.1%} of harm)"
    )


def _concentration_words(rows: list[dict]) -> str:
    """Whether these forces hold more or less harm than their share of residents: why a harm-led split funds them more or less."""
    denser = [row for row in rows if row["share_of_harm"] > row["share_of_residents"]]
    if len(denser) == len(rows):
        return "Each holds a larger share of the harm than of the residents: harm is concentrated there, and money follows harm."
    if not denser:
        return "None holds a larger share of the harm than of the residents: harm is spread no thicker there than the population."
    return (
        "Their shares of harm against residents differ, so the gap comes from the rules and the bids as much as from where harm "
        "concentrates (the bid limit and grant cap fund whole bids, not shares)."
    )


def _listed_names(names: list[str], most: int = 8) -> str:
    """Names joined with commas, the rest counted: 'A, B and 3 more'."""
    if len(names) <= most:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return ", ".join(names[:most]) + f" and {len(names) - most:,} more"


def _data_section(result: RunResult) -> Section:
    areas = result.demand.areas
    rows = tuple(
        {
            "role": source.role.replace("_", " "),
            "file": shown_file_name(source.path),
            "rows_read": source.rows_read,
            "rows_used": source.rows_used,
            "rows_other_period": source.rows_other_period,
            "sha256": source.sha256[:12],
        }
        for source in areas.sources
    )
    table = Table(
        "Input files (the manifest holds the full hashes)",
        (
            Column("role", "Input"),
            Column("file", "File", "code"),
            Column("rows_read", "Rows read", "days"),
            Column("rows_used", "Rows used", "days"),
            Column("rows_other_period", "Rows for other periods", "days"),
            Column("sha256", "SHA-256 (first 12)", "code"),
        ),
        rows,
    )
    blocks: list[Block] = [
        f"{areas.force_name}: {len(areas.codes):,} areas{_across_forces(result)}. Records: {areas.description}, "
        f"{result.period_label} ({areas.period_months} months).",
        f"These are {COUNT_CAVEAT}.",
    ]
    blocks += [f"Warning: {warning}." for warning in result.warnings()]
    if areas.population_source and areas.population_known:
        blocks.append(f"Population: {areas.population_source}.")
    if areas.count_source:
        blocks.append(f"Counts: {areas.count_source}.")
    if areas.area_map.kind == "none":
        blocks.append(f"No map is drawn: {areas.area_map.note}.")
    elif areas.area_map.note:
        blocks.append(f"Map: {areas.area_map.note}.")
    blocks.append(table)
    return Section("The question and the data", tuple(blocks))


def _harm_section(result: RunResult, summary: Summary) -> Section:
    demand = result.demand
    unit = "CCHI harm days" if demand.weights.unit == "harm days" else demand.weights.unit
    total = demand.harm.values.sum()
    top = ", ".join(f"the top {int(fraction * 100)} % hold {summary.top_share(fraction):.0%}" for fraction in TOP_FRACTIONS[1:])
    words = (
        f"Over the next {demand.horizon_months} months the model expects {total:,.0f} {unit} across "
        f"{len(demand.areas.codes)} areas. The top 10 % of areas hold "
        f"{summary.top_share(TOP_FRACTIONS[0]):.0%} of harm"
        + (f"; {top}" if top else "")
        + f". The Gini coefficient is {summary.gini:.2f} "
        "(0 if every area held the same share, 1 if one area held it all); weighted by residents, so that a populous "
        f"area counts for more, it is {demand.concentration_by_population.gini:.2f}."
    )
    harm = demand.harm.values
    records = demand.annual_records.values
    crime_types = demand.harm.labels("crime_type")
    order = np.argsort(-harm.sum(axis=1), kind="stable")
    rows = []
    for a in order[:TOP_ROWS] if result.many_areas else order:
        rows.append(
            {
                "area_name": demand.areas.names[a],
                "population": float(demand.areas.population.values[a]),
                "records_per_year": float(records[a].sum()),
                "harm_days": float(harm[a].sum()),
                "harm_per_1000": float(demand.harm_per_1000.values[a].sum()),
                "share_of_harm": float(harm[a].sum() / total) if total else 0.0,
                "largest": f"{crime_types[int(np.argmax(harm[a]))]} ({harm[a].max() / harm[a].sum():.0%})" if harm[a].sum() else "",
            }
        )
    if result.many_areas:
        caption = f"The {TOP_ROWS} areas with the most harm, of {len(order):,} ({unit}, next {demand.horizon_months} months; every area is in demand.csv)"
    else:
        caption = f"Harm by area, most first ({unit}, next {demand.horizon_months} months)"
    table = Table(
        caption,
        (
            Column("area_name", "Area"),
            Column("population", "Residents", "days"),
            Column("records_per_year", "Records a year", "days"),
            Column("harm_days", "Harm" if unit != "CCHI harm days" else "Harm days", "days"),
            Column("harm_per_1000", "Per 1,000 residents", "days"),
            Column("share_of_harm", "Share of harm", "share"),
            Column("largest", "Largest source of harm"),
        ),
        tuple(rows),
        "demand.csv",
    )
    within = _within_parents_table(result) if result.many_areas else None
    return Section(
        "Where the harm is",
        (
            words,
            Chart("lorenz_curve", "How unevenly harm falls: the further the curve bows below the diagonal, the more concentrated."),
            Chart("map_harm_rate", "Expected harm per 1,000 residents."),
            table,
            *((within,) if within else ()),
        ),
    )


def _top_rows(rows: list[dict], first: str, noun: str, most: int = TOP_ROWS, total: int | None = None) -> tuple[dict, ...]:
    """The first `most` rows, then a row "… and K more <noun>" in the first column when there are more (a national run's
    tables stay readable; the CSVs hold every row). `total` counts the rows where only the first ones were built."""
    count = len(rows) if total is None else total
    if count <= most:
        return tuple(rows)
    return (*rows[:most], {first: f"… and {count - most:,} more {noun}"})


def _within_parents_table(result: RunResult) -> Table:
    """Small areas: how concentrated harm is among each district's own areas (the most concentrated first)."""
    rows = [
        {"parent": item.name, "areas": item.areas, "gini": item.gini, "top_10": item.top_10_share}
        for item in sorted(result.demand.concentration_within_parents(), key=lambda item: -item.gini)
    ]
    level = result.demand.areas.level_name
    return Table(
        f"Concentration within each district: how unevenly harm falls among its {level}s"
        + (f" (the {TOP_ROWS} most concentrated of {len(rows):,} districts)" if len(rows) > TOP_ROWS else ""),
        (
            Column("parent", "District"),
            Column("areas", f"{level}s", "days"),
            Column("gini", "Gini", "decimal"),
            Column("top_10", f"Top 10 % of {level}s hold", "share"),
        ),
        _top_rows(rows, "parent", "districts"),
    )


def _eligibility_section(result: RunResult) -> Section:
    fund_round = result.scenario.round
    verdict = result.eligibility
    rules = list(verdict.rule_descriptions())
    blocks: list[Block] = [
        f"{fund_round.name} focused on {fund_round.focus or 'the crime types in its basket'}. "
        + (f"An area must pass {verdict.combine_words}:" if rules else "The round sets no area test, so every area is eligible."),
    ]
    if rules:
        blocks.append(Bullets(tuple(rules)))
    if fund_round.assumptions:
        blocks.append(f"How this file models the round: {fund_round.assumptions}")
    order = np.lexsort((np.array(verdict.names), ~verdict.eligible.values))
    odds = result.monte_carlo.verdicts
    columns = (
        Column("area_name", "Area"),
        Column("eligible", "Eligible", "flag"),
        Column("p_eligible", "Chance of passing", "share"),
        Column("certainty", "Verdict"),
        Column("reason", "Why"),
    )
    blocks.append(
        f"The chance of passing is the share of {odds.draws:,} draws of the records behind the rates in which the area passes; "
        f"a verdict that flips in more than {odds.marginal_share:.0%} of them is marked marginal: on the published figures it "
        f"could have gone the other way. {verdict.describe_rate_estimator()}"
    )
    many = verdict.many_areas
    if many:
        blocks += [
            Chart("eligibility_rules", "How many small areas of each district pass the test, and how many of those are funded."),
            _eligibility_by_parent(result),
        ]

        eligible_rows = [a for a in order if verdict.eligible.values[a]]
        shown = eligible_rows[:MANY_AREAS]
        more = (
            f"; the first {len(shown)} shown, every area in eligibility.csv"
            if len(eligible_rows) > len(shown)
            else "; every area is in eligibility.csv"
        )
        blocks.append(
            Table(
                f"Eligible areas: {len(verdict.eligible_codes):,} of {len(verdict.codes):,}{more}",
                columns,
                tuple(_verdict_row(verdict, odds, a) for a in shown),
                "eligibility.csv",
            )
        )
    else:
        blocks += [
            Chart("eligibility_rules", "Each area's value against the threshold, rule by rule; green passes."),
            Chart("map_eligibility", "Which areas pass the test, and which of those the allocation funds."),
            Table(
                f"Verdicts: {len(verdict.eligible_codes)} of {len(verdict.codes)} eligible",
                columns,
                tuple(_verdict_row(verdict, odds, a) for a in order),
                "eligibility.csv",
            ),
        ]
    return Section("Who is eligible, and why", tuple(blocks))


def _verdict_row(verdict, odds, a: int) -> dict:
    return {
        "area_name": verdict.names[a],
        "eligible": bool(verdict.eligible.values[a]),
        "p_eligible": float(odds.p_eligible.values[a]),
        "certainty": "marginal" if odds.marginal[a] else "clear",
        "reason": verdict.reasons[a],
    }


def _eligibility_by_parent(result: RunResult) -> Table:
    """Small areas: per district, how many there are, how many pass, how many are funded and with how much; with more
    districts than fit, the best-funded (then most eligible) first."""
    areas = result.demand.areas
    rows = [
        {"parent": tally.parent_name, "areas": tally.areas, "eligible": tally.eligible, "funded": tally.funded, "amount": tally.amount_gbp}
        for tally in result.eligibility.by_parent(result.area_amounts(), result.funded())
    ]
    many = len(rows) > TOP_ROWS
    if many:
        rows.sort(key=lambda row: (-row["amount"], -row["eligible"], row["parent"]))
    return Table(
        f"{areas.level_name}s by district" + (f" (the {TOP_ROWS} best-funded of {len(rows):,} districts)" if many else ""),
        (
            Column("parent", "District"),
            Column("areas", f"{areas.level_name}s", "days"),
            Column("eligible", "Eligible", "days"),
            Column("funded", "Funded", "days"),
            Column("amount", "Allocated", "gbp"),
        ),
        _top_rows(rows, "parent", "districts"),
        "eligibility.csv",
    )


def _allocation_section(result: RunResult, summary: Summary) -> Section:
    allocation = result.allocation
    interventions = result.curves.interventions
    names = result.intervention_names()
    amounts = allocation.amounts.values
    averted = allocation.harm_averted.values
    funded = result.funded()
    spent = [i for i in range(len(interventions)) if np.any(amounts[funded, i] > 0)]
    unit = result.demand.weights
    order = np.argsort(-amounts.sum(axis=1), kind="stable")
    listed = order[np.asarray(result.eligibility.eligible.values, dtype=bool)[order] & (funded[order] | (not result.many_areas))]
    rows = []
    for a in listed[:TOP_ROWS] if len(listed) > TOP_ROWS else listed:
        row = {"area_name": result.demand.areas.names[a]}
        row.update({interventions[i]: float(amounts[a, i]) for i in spent})
        total, days_averted = float(amounts[a].sum()), float(averted[a].sum())
        row.update({"total": total, "averted": days_averted, "per_day": total / days_averted if days_averted > 0 else None})
        rows.append(row)
    funded_rows = len(listed)
    rows = list(_top_rows(rows, "area_name", "funded areas", total=funded_rows))
    total_row = {"area_name": "Total"}
    total_row.update({interventions[i]: float(amounts[:, i].sum()) for i in spent})
    total_row.update(
        {
            "total": allocation.allocated_gbp,
            "averted": allocation.averted_days,
            "per_day": allocation.allocated_gbp / allocation.averted_days if allocation.averted_days > 0 else None,
        }
    )
    rows.append(total_row)
    columns = (
        Column("area_name", "Area"),
        *(Column(interventions[i], names[i], "gbp") for i in spent),
        Column("total", "Total", "gbp"),
        Column("averted", f"Harm averted ({unit.short_unit})", "days"),
        Column("per_day", f"£ per {unit.unit[:-1]}", "decimal"),
    )
    bid = "bid" if result.request.bid_of_area is not None else "area"
    blocks: list[Block] = [
        (
            (
                f"The allocation puts {_gbp(summary.allocated_gbp)} where each pound averts the most harm, within the round's "
                if result.request.goal == "harm"
                else f"The allocation puts {_gbp(summary.allocated_gbp)} where it best serves the objective ({summary.objective_words}), "
                "within the round's "
            )
            if summary.plan == "point"
            else f"The {result.monte_carlo.plan.label} puts {_gbp(summary.allocated_gbp)} where it does best over the Monte Carlo "
            "draws (see How sure are we?), within the round's "
        )
        + f"cap of {_gbp(summary.max_grant_gbp)} per {bid}"
        + (f" and its limit of {summary.bids_per_commissioner} bids" if summary.bids_per_commissioner else "")
        + f". Solver: {summary.solver} ({summary.status}).",
    ]
    if summary.match_funding_required_gbp:
        blocks.append(f"Match funding required by the round: {_gbp(summary.match_funding_required_gbp)}.")
    if summary.binding_constraints:
        blocks.append(Bullets(tuple(f"Binding: {note}" for note in summary.binding_constraints)))
    blocks += [
        Chart("allocation_by_district", "£ per area, by intervention (colours are the same in every chart)."),
        Chart("map_allocation", "£ per area; grey areas are not eligible."),
        Table(
            "Allocation by area and intervention (£) and harm averted"
            + (
                (
                    f" (the {TOP_ROWS} largest of {funded_rows:,} funded areas; every area in allocation.csv)"
                    if funded_rows > TOP_ROWS
                    else " (funded areas)"
                )
                if result.many_areas
                else ""
            ),
            columns,
            tuple(rows),
            "allocation.csv",
        ),
    ]
    return Section("The allocation", tuple(blocks))


def _why_section(result: RunResult, summary: Summary) -> Section:
    """Why this allocation: how close to the optimum it is, what it optimises, what each binding rule costs, and what more
    or less budget would buy."""
    blocks: list[Block] = [summary.optimality, f"What is optimised: {summary.objective_words}."]
    if summary.objective in ("expected", "cvar"):
        blocks.append(
            "The rules' effects and the budget curve below are those of the point-estimate allocation, which the chosen plan replaces."
        )
    effects = result.rule_effects
    if effects:
        blocks.append(
            "What each binding rule costs: its limit moved a step up and a step down and the allocation solved again. The solver's "
            "price is the slope at the allocation; where it and the re-solved changes differ, the rule sits on a bend."
        )
        blocks.append(Bullets(tuple(_capitalised(sentence) for sentence in summary.rule_effects)))
        if any(effect.conditional for effect in effects):
            blocks.append(
                "Under a bid limit or a minimum grant, funding a bid is a yes-or-no choice. Effects marked “with the funded bids as "
                "chosen” keep the chosen bids in the re-solves, so they hold only while the same bids are funded; the bid limit's own "
                "effect lets the bids change."
            )
        blocks.append(
            Table(
                "Binding rules: the solver's price against the re-solved changes",
                (
                    Column("words", "Rule"),
                    Column("config_key", "Scenario key", "code"),
                    Column("solver_price_per_step", "Solver's price per step", "decimal"),
                    Column("change_when_raised", "Raised a step", "decimal"),
                    Column("change_when_lowered", "Lowered a step", "decimal"),
                    Column("conditional_on_bids", "Bids held", "flag"),
                ),
                tuple(_rule_rows(result)),
                "rules.csv",
            )
        )
    else:
        blocks.append(
            "No rule of the round binds: the target alone sets the money."
            if result.request.goal == "least_cost"
            else "No rule of the round binds at this allocation."
        )
    curve = result.budget_curve
    unit = result.demand.weights.unit
    if curve is None:
        blocks.append("The least-cost objective sets the money itself, so there is no budget curve.")
    else:
        limit = result.spending_limit_gbp()
        words = "The curve below solves the same problem at budgets from £0 to twice the budget."
        if curve.budget_price is not None and curve.goal_unit == "harm days":
            words += (
                f" At the budget, another £1,000 would avert about {curve.budget_price * 1000:,.1f} more {unit}: the budget's "
                "shadow price, which is the curve's slope there (the dashed line)."
            )
        if limit < curve.budgets_gbp[-1]:
            words += f" Beyond {_gbp(limit)} the rules let no more be spent, so more budget buys nothing."
        failed = [budget for budget, status in zip(curve.budgets_gbp, curve.statuses) if status.startswith("infeasible")]
        if failed:
            words += f" At {_gbp(max(failed))} and below the other rules cannot all be met (budget_curve.csv gives each reason)."
        if curve.budget_price is None:
            words += " This objective has no single price of the budget, so no slope is drawn at the budget."
        caption = "The best split's value at each budget; the dot is the scenario's budget" + (
            "." if curve.budget_price is None else " and the dashed line's slope is the budget's shadow price."
        )
        blocks += [words, Chart("budget_curve", caption)]
    files = [("rules.csv", "each binding rule: words, scenario key, solver's price, and the change a step up and down")]
    if curve is not None:
        files.append(("budget_curve.csv", "the curve's points: budget, value, slope to the next point per £1,000, status"))
    blocks.append(
        Table("The figures behind this section", (Column("file", "File", "file"), Column("holds", "What it holds")), _files(files))
    )
    return Section("Why this allocation", tuple(blocks))


def _rule_rows(result: RunResult) -> list[dict]:
    """rules.csv's rows for the report: figures in a goal unit other than harm days (a ratio, say) to four significant digits."""
    figures = ("solver_price_per_step", "change_when_raised", "change_when_lowered")
    rows = []
    for row in result.rule_rows():
        if row["goal_unit"] not in ("harm days", "£"):
            row = {**row, **{key: None if row[key] is None else f"{row[key]:.4g}" for key in figures}}
        rows.append(row)
    return rows


def _files(files: list[tuple[str, str]]) -> tuple[dict, ...]:
    return tuple({"file": name, "holds": holds} for name, holds in files)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _baselines_section(result: RunResult) -> Section:
    rows = tuple(result.method_totals())
    return Section(
        "Against simple splits",
        (
            "The same money under the same rules (eligibility, grant cap, force cap, bid limit, minimum grant, match funding, equity "
            "floors), split the simple ways a panel might, and scored with the same response curves. A split that still breaks a "
            "rule (the simple splits do not repair intervention caps or shares) says which, and gets no % of optimised:",
            Table(
                f"The {'optimised allocation' if result.scenario.allocation.objective == 'point' else 'chosen plan'} and three simple splits"
                + (
                    ""
                    if result.scenario.allocation.objective == "point"
                    else " (at the point estimates, where the chosen plan is not the optimum)"
                ),
                (
                    Column("method", "Method"),
                    Column("description", "How"),
                    Column("allocated_gbp", "Allocated", "gbp"),
                    Column("harm_averted_days", f"Harm averted ({result.demand.weights.short_unit})", "days"),
                    Column("gbp_per_harm_day", f"£ per {result.demand.weights.unit[:-1]}", "decimal"),
                    Column("harm_averted_vs_optimised_pct", "% of optimised", "pct"),
                    Column("areas_funded", "Areas funded", "days"),
                ),
                rows,
                "baselines.csv",
            ),
        ),
    )


def _uncertainty_section(result: RunResult, summary: Summary) -> Section:
    """How sure the run is: what the draws include, the plans on the same draws, each area's odds, and the tornado."""
    carlo = result.monte_carlo
    unit = result.demand.weights.short_unit
    tail = f"{carlo.tail_share:.0%}"
    plan_columns = (
        Column("description", "Plan"),
        Column("allocated_gbp", "Allocated", "gbp"),
        Column("areas_funded", "Areas funded", "days"),
        Column("harm_averted_mean_days", f"Mean ({unit})", "days"),
        Column(next(key for key in summary.plans[0] if key.startswith("harm_averted_worst_")), f"Mean of worst {tail}", "days"),
        Column("harm_averted_p5_days", "5 %", "days"),
        Column("harm_averted_p95_days", "95 %", "days"),
        Column("mean_regret_days", "Mean regret", "days"),
    )
    chosen = carlo.plan
    measured = carlo.perfect_information_days is not None
    plans_words = "the plan" if len(carlo.plans) == 1 else f"the {_count_words(len(carlo.plans))} plans"
    blocks: list[Block] = [
        f"Each of {carlo.draws:,} draws (seed {carlo.seed}) samples {carlo.includes}. In every draw the round's rules are "
        "applied again to the records as they might have been, and the best split is solved again. A plan is fixed before "
        f"the uncertainty resolves, so {'the plan' if len(carlo.plans) == 1 else 'each plan'} below is scored on every draw: "
        f"its mean, the mean of its worst {tail} of draws, and its regret "
        + (
            "(what the draw's own best split, under the published verdicts, would have averted beyond it)."
            if measured
            else "(not measured here; see below)."
        ),
        carlo.best_split_words,
        f"The plan reported is the {chosen.label}. {carlo.perfect_information_words}",
        Chart("uncertainty_plans", f"Harm averted over the draws by {plans_words}; the chosen plan's box is darker."),
        Table(f"{plans_words[0].upper()}{plans_words[1:]} on the same draws", plan_columns, tuple(_plan_rows(result)), "plans.csv"),
        Bullets(tuple(f"{plan.label[0].upper()}{plan.label[1:]}: {plan.how}." for plan in carlo.plans)),
    ]
    if summary.marginal_areas:
        names = ", ".join(summary.marginal_areas[:MANY_AREAS])
        more = f" and {len(summary.marginal_areas) - MANY_AREAS:,} more" if len(summary.marginal_areas) > MANY_AREAS else ""
        blocks.append(f"Marginal verdicts (flip in more than {carlo.verdicts.marginal_share:.0%} of draws): {names}{more}.")
    else:
        blocks.append(f"No verdict flips in more than {carlo.verdicts.marginal_share:.0%} of draws.")
    rows = sorted(result.uncertainty_rows(), key=lambda row: -row["plan_amount_gbp"])
    blocks += [
        Chart("uncertainty_by_area", "Each area's chance of passing and of being funded, and the range of its best amount."),
        Table(
            "Odds and ranges per area"
            + (f" (the {TOP_ROWS} largest grants; every area in uncertainty.csv)" if len(rows) > TOP_ROWS else ""),
            (
                Column("area_name", "Area"),
                Column("p_eligible", "P(eligible)", "share"),
                Column("p_funded", "P(funded)", "share"),
                Column("plan_amount_gbp", "Plan", "gbp"),
                Column("best_amount_p5_gbp", "Best 5 %", "gbp"),
                Column("best_amount_median_gbp", "Best median", "gbp"),
                Column("best_amount_p95_gbp", "Best 95 %", "gbp"),
                Column("plan_harm_averted_p5_days", "Averted 5 %", "days"),
                Column("plan_harm_averted_p95_days", "Averted 95 %", "days"),
            ),
            tuple(rows[:TOP_ROWS]),
            "uncertainty.csv",
        ),
        Chart(
            "uncertainty_tornado",
            "Harm averted by the plan with one input at its low and at its high and the rest at their point values; the "
            "second line of each label is the best amount for the plan's largest grant at the same two values.",
        ),
        Table(
            "Sensitivity: one input at a time",
            (
                Column("label", "Input"),
                Column("low", "Low", "decimal"),
                Column("high", "High", "decimal"),
                Column("harm_averted_at_low_days", "Averted at low", "days"),
                Column("harm_averted_at_high_days", "Averted at high", "days"),
                Column("top_area_amount_at_low_gbp", "Top area at low", "gbp"),
                Column("top_area_amount_at_high_gbp", "Top area at high", "gbp"),
            ),
            tuple(result.tornado_rows()),
            "tornado.csv",
        ),
    ]
    return Section("How sure are we?", tuple(blocks))


def _plan_rows(result: RunResult) -> list[dict]:
    """plans.csv's rows for the report, a regret that is not measured said so."""
    return [
        {**row, "mean_regret_days": "not measured" if row["mean_regret_days"] is None else row["mean_regret_days"]}
        for row in result.plan_rows()
    ]


def _count_words(count: int) -> str:
    return {2: "two", 3: "three", 4: "four"}.get(count, f"{count:,}")


def _assumptions_section(result: RunResult) -> Section:
    scenario = result.scenario
    fund_round = scenario.round
    weights = result.demand.weights
    bullets = [
        f"Forecast: {result.demand.forecast.description if result.demand.forecast else FORECAST_METHOD}.",
        f"Harm weights: {weights.name}, in {weights.short_unit} per record; the table below gives each weight's source and confidence.",
        f"Response curves: spend x in an area averts max reduction × years counted × reached harm × (1 − e^(−x / scale)), "
        "reached harm = each targeted crime type's harm × the share the measure can reach (shown beside the crime type below; "
        "100 % where none is shown), years counted = 1 for a recurring measure and, for a capital one, each year of its "
        f"lifetime discounted at {scenario.appraisal.discount_rate:.1%} a year ({scenario.appraisal.source.rstrip('.')}), "
        "scale = cost per 1,000 residents × residents ÷ 1,000.",
        _method_words(result),
        f"Fund round terms: {fund_round.source}.",
    ]
    for key, shock in scenario.shocks.items():
        if shock.enabled:
            bullets.append(
                f"What-if '{key}': records × {shock.multiplier:g} in {', '.join(shock.areas)}"
                + (f" for {', '.join(shock.crime_types)}" if shock.crime_types else "")
                + (f". {shock.note}" if shock.note else ".")
            )
    for override in result.loaded.command_line:
        bullets.append(f"Changed on the command line: {override.describe()}.")
    weight_rows = tuple(
        {
            "crime_type": note.crime_type,
            "weight": note.weight_days,
            "confidence": note.confidence,
            "approximation": note.approximation,
            "source": note.source,
        }
        for note in weights.notes
    )
    active = scenario.active_interventions()
    intervention_rows = tuple(
        {
            "name": item.name,
            "crime_types": ", ".join(f"{crime} ({item.reach[crime]:.0%})" if crime in item.reach else crime for crime in item.crime_types),
            "max_reduction": item.max_reduction * 100,
            "counted": f"{item.lifetime_years:g} years (capital)" if item.kind == "capital" else "the funded period",
            "scale": item.cost_scale_gbp_per_1000_residents,
            "confidence": item.confidence,
            "source": f"{_sentence(item.evidence)} Source: {_sentence(item.source)} Cost: {_sentence(item.cost_source)}"
            + (f" Reach: {_sentence(item.reach_source)}" if item.reach_source else "")
            + (f" Lifetime: {_sentence(item.lifetime_source)}" if item.lifetime_source else ""),
        }
        for item in active.values()
    )
    return Section(
        "Assumptions and sources",
        (
            Bullets(tuple(bullets)),
            Table(
                "Interventions this round funds",
                (
                    Column("name", "Intervention"),
                    Column("crime_types", "Crime types"),
                    Column("max_reduction", "Max reduction", "pct"),
                    Column("counted", "Effect counted over"),
                    Column("scale", "Cost scale (£ per 1,000 residents)", "gbp"),
                    Column("confidence", "Confidence"),
                    Column("source", "Evidence and source"),
                ),
                intervention_rows,
            ),
            Table(
                f"Harm weights ({result.demand.weights.name}: {result.demand.weights.short_unit} per record)",
                (
                    Column("crime_type", "Crime type"),
                    Column("weight", "Days", "decimal"),
                    Column("confidence", "Confidence"),
                    Column("approximation", "Approximation", "flag"),
                    Column("source", "Source"),
                ),
                weight_rows,
            ),
        ),
    )


def _method_words(result: RunResult) -> str:
    """How the amounts are found, and how this run's were."""
    settings = result.scenario.allocation
    certificate = result.allocation.certificate
    words = (
        "Amounts: where the rules are a budget with caps, the amounts come from water-filling the exact curves (each pound goes "
        "where it averts the most until the money runs out; with a bid limit or a minimum grant, over the sets of funded bids the "
        "rules allow), which is exact. Otherwise a linear program (a mixed-integer one where bids are switched on and off) works "
        "between a chord model under each curve and a tangent model over it, with breakpoints placed for each area and "
        f"intervention where its curve bends, doubled until the gap between the two is under {percent(settings.gap_target)}; "
        "the amounts' value on the exact curves and the bound are both reported."
    )
    if certificate is not None:
        words += f" This run: {certificate.method}, gap {percent(certificate.gap)}."
    return words


def _repeat_section(result: RunResult, folder: str) -> Section:
    versions = result.versions
    return Section(
        "Repeat this run",
        (
            "Everything the run used is in manifest.json (the resolved scenario, input hashes, versions); running it again "
            "gives the same CSV files:",
            Code(f"safer-streets run {folder}/manifest.json --out {folder}-repeat"),
            f"Seed {result.scenario.seed}; solver {result.allocation.solver}; simulator {versions.get('safer-streets-simulator', '?')}, "
            f"PuLP {versions.get('pulp', '?')}, HiGHS {versions.get('highspy', '?')}, Python {versions.get('python', '?')}.",
        ),
    )


def _sentence(text: str) -> str:
    """Text ending in a full stop, so sentences joined in one cell read as sentences."""
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."


# ---------------------------------------------------------------- a comparison


def comparison_document(comparison: Comparison, run_folders: dict[str, str]) -> Document:
    """The report of a comparison: what changed, the totals, the charts and the area table."""
    totals = comparison.totals_rows()
    reference = totals[0]
    unit = comparison.reference.demand.weights.short_unit
    changes = comparison.changes()
    what_changed: list[Block] = []
    for row, found in zip(totals[1:], changes):
        change = row["harm_averted_change_days"]
        what_changed.append(
            f"{row['scenario']} ({row['title']}): harm averted {reference['harm_averted_days']:,.0f} → {row['harm_averted_days']:,.0f} {unit} "
            f"({'+' if change >= 0 else '−'}{abs(change):,.0f}); eligible areas {reference['eligible_areas']} → {row['eligible_areas']}; "
            f"funded {reference['funded_areas']} → {row['funded_areas']}."
        )
        what_changed.append(Bullets(tuple(item.describe() for item in found) or ("No area's verdict or amount changed.",)))
    total_table = Table(
        "Totals per scenario",
        (
            Column("scenario", "Scenario"),
            Column("fund_round", "Round"),
            Column("budget_gbp", "Budget", "gbp"),
            Column("allocated_gbp", "Allocated", "gbp"),
            Column("harm_averted_days", f"Harm averted ({unit})", "days"),
            Column("harm_averted_change_days", f"Change ({unit})", "days"),
            Column("gbp_per_harm_day_averted", "£ per harm day", "decimal"),
            Column("eligible_areas", "Eligible", "days"),
            Column("funded_areas", "Funded", "days"),
        ),
        tuple(totals),
        "totals.csv",
    )
    amounts, eligible, funded = comparison.amounts(), comparison.eligible(), comparison.funded()
    area_rows = []
    many = comparison.many_areas
    for a, name in enumerate(comparison.area_names):
        if many and not funded[:, a].any() and np.all(np.nan_to_num(eligible[:, a], nan=-1) == np.nan_to_num(eligible[0, a], nan=-1)):
            continue
        row = {"area_name": name}
        for s, label in enumerate(comparison.labels):
            row[f"eligible:{label}"] = None if np.isnan(eligible[s, a]) else bool(eligible[s, a])
            row[f"amount:{label}"] = float(amounts[s, a])
        area_rows.append(row)
    area_columns = [Column("area_name", "Area")]
    for label in comparison.labels:
        area_columns += [Column(f"eligible:{label}", f"Eligible: {label}", "flag"), Column(f"amount:{label}", f"£: {label}", "gbp")]
    scenario_rows = tuple(
        {
            "scenario": label,
            "title": result.scenario.title,
            "question": result.scenario.question,
            "report": f"{run_folders[label]}/report.html",
        }
        for label, result in zip(comparison.labels, comparison.results)
    )
    return Document(
        title=f"Comparison: {' vs '.join(comparison.labels)}",
        subtitle=" / ".join(result.scenario.question or result.scenario.title for result in comparison.results[1:]),
        sections=(
            Section("What changed", (f"Each what-if is measured against the first scenario, {comparison.labels[0]}.", *what_changed)),
            Section(
                "Totals",
                (
                    total_table,
                    Chart(
                        "comparison_harm_averted",
                        "Harm averted per scenario; whiskers show each run's interval over its Monte Carlo draws (what the draws include is in each run's report).",
                    ),
                ),
            ),
            Section(
                "Area by area",
                (
                    Chart("comparison_allocation", "£ per area in each scenario."),
                    Chart("comparison_eligibility", "Verdicts per scenario; outlined cells differ from the reference."),
                    Chart("comparison_change_map", "Where the money moved against the reference."),
                    Table(
                        "Eligibility and £ per area and scenario"
                        + (" (areas funded in a scenario or whose verdict changes; every area is in comparison.csv)" if many else ""),
                        tuple(area_columns),
                        tuple(area_rows),
                        "comparison.csv",
                    ),
                ),
            ),
            Section(
                "The scenarios",
                (
                    Table(
                        "Each scenario's full report is in its own run folder",
                        (
                            Column("scenario", "Scenario"),
                            Column("title", "Title"),
                            Column("question", "Question"),
                            Column("report", "Report", "file"),
                        ),
                        scenario_rows,
                    ),
                    COUNT_CAVEAT[0].upper() + COUNT_CAVEAT[1:] + ".",
                ),
            ),
        ),
    )


def _gbp(value) -> str:
    return f"£{value:,.0f}" if value is not None else "n/a"


def _gbp2(value) -> str:
    return f"£{value:,.2f}" if value is not None else "n/a"
