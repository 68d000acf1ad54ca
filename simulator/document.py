"""The report's content, as a document of sections, tables and charts, rendered to HTML or Markdown.

Built from a run or a comparison; no I/O. The HTML is one self-contained file (styles inline,
charts as base64 PNG data, nothing fetched from anywhere) that prints on A4; every text that
comes from data or a scenario file is escaped. Tables hold the same rows as the CSVs beside
them, formatted for reading.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from typing import Literal, Union

import numpy as np

from .demand import FORECAST_METHOD, TOP_FRACTIONS
from .experiments import Comparison
from .result import COUNT_CAVEAT, RunResult

MANY_AREAS = 40
TOP_ROWS = 30
MAX_LISTED = 100

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


Block = Union[str, Table, Chart, Facts, Bullets, Code]


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
    """The report of one run: question, data, harm, eligibility, allocation, baselines, assumptions."""
    summary = result.summary()
    return Document(
        title=result.scenario.title,
        subtitle=result.scenario.question,
        sections=(
            _headline(result, summary),
            _data_section(result),
            _harm_section(result, summary),
            _eligibility_section(result),
            _allocation_section(result, summary),
            _baselines_section(result),
            _assumptions_section(result),
            _repeat_section(result, folder),
        ),
    )


def _headline(result: RunResult, summary: dict) -> Section:
    low, high = summary["harm_averted_interval_days"]
    areas = result.demand.areas
    facts = Facts((
        ("Budget", _gbp(summary["budget_gbp"])),
        ("Allocated", _gbp(summary["allocated_gbp"])),
        ("Harm averted", f"{summary['harm_averted_days']:,.0f} days"),
        (f"{summary['harm_averted_interval_coverage']:.0%} interval", f"{low:,.0f} to {high:,.0f}"),
        ("Cost per harm day averted", _gbp2(summary["gbp_per_harm_day_averted"])),
        ("Eligible areas", f"{summary['eligible_areas']} of {len(areas.codes)}"),
        ("Areas funded", str(len(summary["funded_areas"]))),
    ))
    fund_round = result.scenario.round
    text = (f"Under the terms of {fund_round.name} ({fund_round.period}), {summary['eligible_areas']} of the "
            f"{len(areas.codes)} areas in {areas.force_name} pass the area test, and the allocation below "
            f"spends {_gbp(summary['allocated_gbp'])} of a {_gbp(summary['budget_gbp'])} budget across "
            f"{len(summary['funded_areas'])} of them to avert an expected {summary['harm_averted_days']:,.0f} days "
            f"of crime harm over the next {result.demand.horizon_months} months.")
    return Section("Summary", (facts, text))


def _data_section(result: RunResult) -> Section:
    areas = result.demand.areas
    rows = tuple({"role": source.role.replace("_", " "), "file": source.path, "rows_read": source.rows_read,
                  "rows_used": source.rows_used, "rows_other_period": source.rows_other_period, "sha256": source.sha256[:12]}
                 for source in areas.sources)
    table = Table("Input files (the manifest holds the full hashes)", (
        Column("role", "Input"), Column("file", "File", "code"), Column("rows_read", "Rows read", "days"),
        Column("rows_used", "Rows used", "days"), Column("rows_other_period", "Rows for other periods", "days"),
        Column("sha256", "SHA-256 (first 12)", "code"),
    ), rows)
    blocks: list[Block] = [
        f"{areas.force_name}: {len(areas.codes)} areas. Records: {areas.description}, "
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


def _harm_section(result: RunResult, summary: dict) -> Section:
    demand = result.demand
    concentration = summary["concentration"]
    unit = "CCHI harm days" if demand.weights.name.startswith("cchi") else "harm (records)"
    total = demand.harm.values.sum()
    top = ", ".join(f"the top {int(fraction * 100)} % hold {concentration[f'top_{int(fraction * 100)}pct_of_areas_share_of_harm']:.0%}"
                    for fraction in TOP_FRACTIONS[1:])
    words = (f"Over the next {demand.horizon_months} months the model expects {total:,.0f} {unit} across "
             f"{len(demand.areas.codes)} areas. The top 10 % of areas hold "
             f"{concentration['top_10pct_of_areas_share_of_harm']:.0%} of harm"
             + (f"; {top}" if top else "") + f". The Gini coefficient is {concentration['gini']:.2f} "
             "(0 if every area held the same share, 1 if one area held it all).")
    harm = demand.harm.values
    records = demand.annual_records.values
    crime_types = demand.harm.labels("crime_type")
    rows = []
    for a in np.argsort(-harm.sum(axis=1), kind="stable"):
        rows.append({
            "area_name": demand.areas.names[a],
            "population": float(demand.areas.population.values[a]),
            "records_per_year": float(records[a].sum()),
            "harm_days": float(harm[a].sum()),
            "harm_per_1000": float(demand.harm_per_1000.values[a].sum()),
            "share_of_harm": float(harm[a].sum() / total) if total else 0.0,
            "largest": f"{crime_types[int(np.argmax(harm[a]))]} ({harm[a].max() / harm[a].sum():.0%})" if harm[a].sum() else "",
        })
    if len(rows) > MANY_AREAS:
        caption = f"The {TOP_ROWS} areas with the most harm, of {len(rows):,} ({unit}, next {demand.horizon_months} months; every area is in demand.csv)"
        rows = rows[:TOP_ROWS]
    else:
        caption = f"Harm by area, most first ({unit}, next {demand.horizon_months} months)"
    table = Table(caption, (
        Column("area_name", "Area"), Column("population", "Residents", "days"), Column("records_per_year", "Records a year", "days"),
        Column("harm_days", "Harm days", "days"), Column("harm_per_1000", "Per 1,000 residents", "days"),
        Column("share_of_harm", "Share of harm", "share"), Column("largest", "Largest source of harm"),
    ), tuple(rows), "demand.csv")
    return Section("Where the harm is", (
        words,
        Chart("lorenz_curve", "How unevenly harm falls: the further the curve bows below the diagonal, the more concentrated."),
        Chart("map_harm_rate", "Expected harm per 1,000 residents."),
        table,
    ))


def _eligibility_section(result: RunResult) -> Section:
    fund_round = result.scenario.round
    verdict = result.eligibility
    rules = [f"{outcome.label()}: {outcome.rule.metric.replace('_', ' ')} of {', '.join(outcome.rule.crime_types)}, "
             f"{_threshold_words(outcome.rule)}" for outcome in verdict.outcomes]
    blocks: list[Block] = [
        f"{fund_round.name} focused on {fund_round.focus or 'the crime types in its basket'}. "
        + (f"An area must pass {'every rule' if fund_round.combine == 'all' else 'at least one rule'}:" if rules
           else "The round sets no area test, so every area is eligible."),
    ]
    if rules:
        blocks.append(Bullets(tuple(rules)))
    if fund_round.assumptions:
        blocks.append(f"How this file models the round: {fund_round.assumptions}")
    order = np.lexsort((np.array(verdict.names), ~verdict.eligible.values))
    columns = (Column("area_name", "Area"), Column("eligible", "Eligible", "flag"), Column("reason", "Why"))
    many = len(verdict.codes) > MANY_AREAS
    if many:
        blocks += [Chart("eligibility_rules", "How many small areas of each district pass the test, and how many of those are funded."),
                   _eligibility_by_parent(result)]
        eligible_rows = [a for a in order if verdict.eligible.values[a]]
        shown = eligible_rows[:MAX_LISTED]
        more = f"; the first {len(shown)} shown, every area in eligibility.csv" if len(eligible_rows) > len(shown) else "; every area is in eligibility.csv"
        blocks.append(Table(f"Eligible areas: {len(verdict.eligible_codes):,} of {len(verdict.codes):,}{more}", columns,
                            tuple(_verdict_row(verdict, a) for a in shown), "eligibility.csv"))
    else:
        blocks += [
            Chart("eligibility_rules", "Each area's value against the threshold, rule by rule; green passes."),
            Chart("map_eligibility", "Which areas pass the test, and which of those the allocation funds."),
            Table(f"Verdicts: {len(verdict.eligible_codes)} of {len(verdict.codes)} eligible", columns,
                  tuple(_verdict_row(verdict, a) for a in order), "eligibility.csv"),
        ]
    return Section("Who is eligible, and why", tuple(blocks))


def _verdict_row(verdict, a: int) -> dict:
    return {"area_name": verdict.names[a], "eligible": bool(verdict.eligible.values[a]), "reason": verdict.reasons[a]}


def _eligibility_by_parent(result: RunResult) -> Table:
    """Small areas: per district, how many there are, how many pass, how many are funded and with how much."""
    areas = result.demand.areas
    eligible = result.eligibility.eligible.values
    amounts = result.area_amounts()
    rows = []
    for parent in sorted(set(areas.parents), key=lambda code: areas.parent_name(areas.parents.index(code))):
        members = np.array(areas.parents) == parent
        rows.append({"parent": areas.parent_name(areas.parents.index(parent)), "areas": int(members.sum()),
                     "eligible": int((members & eligible).sum()), "funded": int((members & (amounts > 0.005)).sum()),
                     "amount": float(amounts[members].sum())})
    return Table(f"{areas.level_name}s by district", (
        Column("parent", "District"), Column("areas", f"{areas.level_name}s", "days"), Column("eligible", "Eligible", "days"),
        Column("funded", "Funded", "days"), Column("amount", "Allocated", "gbp"),
    ), tuple(rows), "eligibility.csv")


def _allocation_section(result: RunResult, summary: dict) -> Section:
    allocation = result.allocation
    interventions = result.curves.interventions
    names = result.intervention_names()
    amounts = allocation.amounts.values
    averted = allocation.harm_averted.values
    spent = [i for i in range(len(interventions)) if amounts[:, i].sum() > 0.005]
    rows = []
    many = len(result.demand.areas.codes) > MANY_AREAS
    for a in np.argsort(-amounts.sum(axis=1), kind="stable"):
        if not result.eligibility.eligible.values[a] or (many and amounts[a].sum() <= 0.005):
            continue
        row = {"area_name": result.demand.areas.names[a]}
        row.update({interventions[i]: float(amounts[a, i]) for i in spent})
        total, days_averted = float(amounts[a].sum()), float(averted[a].sum())
        row.update({"total": total, "averted": days_averted, "per_day": total / days_averted if days_averted > 0 else None})
        rows.append(row)
    total_row = {"area_name": "Total"}
    total_row.update({interventions[i]: float(amounts[:, i].sum()) for i in spent})
    total_row.update({"total": allocation.allocated_gbp, "averted": allocation.averted_days,
                      "per_day": allocation.allocated_gbp / allocation.averted_days if allocation.averted_days > 0 else None})
    rows.append(total_row)
    columns = (Column("area_name", "Area"), *(Column(interventions[i], names[i], "gbp") for i in spent),
               Column("total", "Total", "gbp"), Column("averted", "Harm averted (days)", "days"), Column("per_day", "£ per harm day", "decimal"))
    shadow = summary["budget_shadow_price_days_per_1000_gbp"]
    blocks: list[Block] = [
        f"The linear program puts {_gbp(summary['allocated_gbp'])} where each pound averts the most harm, within the round's "
        f"cap of {_gbp(summary['max_grant_gbp'])} per area"
        + (f" and its limit of {summary['bids_per_commissioner']} bids" if summary["bids_per_commissioner"] else "")
        + f". Solver: {summary['solver']} ({summary['status']}).",
    ]
    if shadow is not None:
        blocks.append(f"At the margin, another £1,000 of budget would avert about {shadow:,.1f} more harm days.")
    if summary["match_funding_required_gbp"]:
        blocks.append(f"Match funding required by the round: {_gbp(summary['match_funding_required_gbp'])}.")
    if summary["binding_constraints"]:
        blocks.append(Bullets(tuple(f"Binding: {note}" for note in summary["binding_constraints"])))
    blocks += [
        Chart("allocation_by_district", "£ per area, by intervention (colours are the same in every chart)."),
        Chart("map_allocation", "£ per area; grey areas are not eligible."),
        Table("Allocation by area and intervention (£) and harm averted" + (" (funded areas)" if many else ""), columns, tuple(rows), "allocation.csv"),
    ]
    return Section("The allocation", tuple(blocks))


def _baselines_section(result: RunResult) -> Section:
    rows = tuple(result.method_totals())
    return Section("Against simple splits", (
        "The same money under the same rules (eligibility, grant cap, bid limit), split the simple ways a panel "
        "might, and scored with the same response curves:",
        Table("The optimised allocation and three simple splits", (
            Column("method", "Method"), Column("description", "How"), Column("allocated_gbp", "Allocated", "gbp"),
            Column("harm_averted_days", "Harm averted (days)", "days"), Column("gbp_per_harm_day", "£ per harm day", "decimal"),
            Column("harm_averted_vs_optimised_pct", "% of optimised", "pct"), Column("areas_funded", "Areas funded", "days"),
        ), rows, "baselines.csv"),
    ))


def _assumptions_section(result: RunResult) -> Section:
    scenario = result.scenario
    fund_round = scenario.round
    weights = result.demand.weights
    bullets = [
        f"Forecast: {result.demand.forecast.description if result.demand.forecast else FORECAST_METHOD}.",
        f"Harm weights: {weights.name}, in days of harm per record; the table below gives each weight's source and confidence.",
        f"Response curves: spend x in an area averts max reduction × targeted harm × (1 − e^(−x / scale)), scale = cost "
        f"per 1,000 residents × residents ÷ 1,000; the linear program follows each curve in {scenario.allocation.segments} "
        f"straight segments up to the grant cap, so amounts move in steps of {_gbp(fund_round.max_grant_gbp / scenario.allocation.segments)}.",
        f"Fund round terms: {fund_round.source}.",
    ]
    for key, shock in scenario.shocks.items():
        if shock.enabled:
            bullets.append(f"What-if '{key}': records × {shock.multiplier:g} in {', '.join(shock.areas)}"
                           + (f" for {', '.join(shock.crime_types)}" if shock.crime_types else "") + (f". {shock.note}" if shock.note else "."))
    for override in result.loaded.overrides:
        if "--set" in str(override):
            bullets.append(f"Changed on the command line: {override}.")
    weight_rows = tuple({"crime_type": note.crime_type, "weight": note.weight_days, "confidence": note.confidence,
                         "approximation": note.approximation, "source": note.source} for note in weights.notes)
    active = scenario.active_interventions()
    intervention_rows = tuple({"name": item.name, "crime_types": ", ".join(item.crime_types), "max_reduction": item.max_reduction * 100,
                               "scale": item.cost_scale_gbp_per_1000_residents, "confidence": item.confidence,
                               "source": f"{item.evidence} Source: {item.source}. Cost: {item.cost_source}."}
                              for item in active.values())
    return Section("Assumptions and sources", (
        Bullets(tuple(bullets)),
        Table("Interventions this round funds", (
            Column("name", "Intervention"), Column("crime_types", "Crime types"), Column("max_reduction", "Max reduction", "pct"),
            Column("scale", "Cost scale (£ per 1,000 residents)", "gbp"), Column("confidence", "Confidence"), Column("source", "Evidence and source"),
        ), intervention_rows),
        Table("Harm weights (days per record)", (
            Column("crime_type", "Crime type"), Column("weight", "Days", "decimal"), Column("confidence", "Confidence"),
            Column("approximation", "Approximation", "flag"), Column("source", "Source"),
        ), weight_rows),
    ))


def _repeat_section(result: RunResult, folder: str) -> Section:
    versions = result.versions
    return Section("Repeat this run", (
        "Everything the run used is in manifest.json (the resolved scenario, input hashes, versions); running it again "
        "gives the same CSV files:",
        Code(f"safer-streets run {folder}/manifest.json --out {folder}-repeat"),
        f"Seed {result.scenario.seed}; solver {result.allocation.solver}; simulator {versions.get('safer-streets-simulator', '?')}, "
        f"PuLP {versions.get('pulp', '?')}, HiGHS {versions.get('highspy', '?')}, Python {versions.get('python', '?')}.",
    ))


def _threshold_words(rule) -> str:
    symbol = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}[rule.operator]
    if rule.threshold_kind == "absolute":
        return f"{symbol} {rule.threshold:g}"
    if rule.threshold_kind == "force_mean":
        return f"{symbol} {rule.threshold:g} × the force-wide figure"
    if rule.threshold_kind == "rank":
        return f"among the top {rule.threshold:g} areas of the force"
    return f"among the top {rule.threshold:g} % of areas of the force"


# ---------------------------------------------------------------- a comparison


def comparison_document(comparison: Comparison, run_folders: dict[str, str]) -> Document:
    """The report of a comparison: what changed, the totals, the charts and the area table."""
    totals = comparison.totals_rows()
    reference = totals[0]
    changes = comparison.changes()
    what_changed: list[Block] = []
    for row, found in zip(totals[1:], changes):
        change = row["harm_averted_change_days"]
        what_changed.append(
            f"{row['scenario']} ({row['title']}): harm averted {reference['harm_averted_days']:,.0f} → {row['harm_averted_days']:,.0f} days "
            f"({'+' if change >= 0 else '−'}{abs(change):,.0f}); eligible areas {reference['eligible_areas']} → {row['eligible_areas']}; "
            f"funded {reference['funded_areas']} → {row['funded_areas']}.")
        what_changed.append(Bullets(tuple(item.describe() for item in found) or ("No area's verdict or amount changed.",)))
    total_table = Table("Totals per scenario", (
        Column("scenario", "Scenario"), Column("fund_round", "Round"), Column("budget_gbp", "Budget", "gbp"),
        Column("allocated_gbp", "Allocated", "gbp"), Column("harm_averted_days", "Harm averted (days)", "days"),
        Column("harm_averted_change_days", "Change (days)", "days"), Column("gbp_per_harm_day_averted", "£ per harm day", "decimal"),
        Column("eligible_areas", "Eligible", "days"), Column("funded_areas", "Funded", "days"),
    ), tuple(totals), "totals.csv")
    amounts, eligible = comparison.amounts(), comparison.eligible()
    area_rows = []
    many = len(comparison.area_names) > MANY_AREAS
    for a, name in enumerate(comparison.area_names):
        if many and amounts[:, a].max() <= 0.005 and np.all(np.nan_to_num(eligible[:, a], nan=-1) == np.nan_to_num(eligible[0, a], nan=-1)):
            continue
        row = {"area_name": name}
        for s, label in enumerate(comparison.labels):
            row[f"eligible:{label}"] = None if np.isnan(eligible[s, a]) else bool(eligible[s, a])
            row[f"amount:{label}"] = float(amounts[s, a])
        area_rows.append(row)
    area_columns = [Column("area_name", "Area")]
    for label in comparison.labels:
        area_columns += [Column(f"eligible:{label}", f"Eligible: {label}", "flag"), Column(f"amount:{label}", f"£: {label}", "gbp")]
    scenario_rows = tuple({"scenario": label, "title": result.scenario.title, "question": result.scenario.question,
                           "report": f"{run_folders[label]}/report.html"} for label, result in zip(comparison.labels, comparison.results))
    return Document(
        title=f"Comparison: {' vs '.join(comparison.labels)}",
        subtitle=" / ".join(result.scenario.question or result.scenario.title for result in comparison.results[1:]),
        sections=(
            Section("What changed", (f"Each what-if is measured against the first scenario, {comparison.labels[0]}.", *what_changed)),
            Section("Totals", (
                total_table,
                Chart("comparison_harm_averted", "Harm averted per scenario; whiskers show the interval from uncertain demand."),
            )),
            Section("Area by area", (
                Chart("comparison_allocation", "£ per area in each scenario."),
                Chart("comparison_eligibility", "Verdicts per scenario; outlined cells differ from the reference."),
                Chart("comparison_change_map", "Where the money moved against the reference."),
                Table("Eligibility and £ per area and scenario" + (" (areas funded in a scenario or whose verdict changes; every area is in "
                                                                   "comparison.csv)" if many else ""), tuple(area_columns), tuple(area_rows), "comparison.csv"),
            )),
            Section("The scenarios", (
                Table("Each scenario's full report is in its own run folder", (
                    Column("scenario", "Scenario"), Column("title", "Title"), Column("question", "Question"), Column("report", "Report", "file"),
                ), scenario_rows),
                COUNT_CAVEAT[0].upper() + COUNT_CAVEAT[1:] + ".",
            )),
        ),
    )


# ---------------------------------------------------------------- formatting


def format_value(value, kind: Kind) -> str:
    """A cell's text: £ in whole pounds, days whole, decimals to 2 places, shares and % to 1."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a" if kind == "flag" else ""
    if kind == "gbp":
        return _gbp(value)
    if kind == "days":
        return f"{value:,.0f}"
    if kind == "decimal":
        return f"{value:,.2f}"
    if kind == "pct":
        return f"{value:,.1f} %"
    if kind == "share":
        return f"{value * 100:,.1f} %"
    if kind == "flag":
        return "yes" if value in (True, "true") else "no"
    return str(value)


def _gbp(value) -> str:
    return f"£{value:,.0f}" if value is not None else "n/a"


def _gbp2(value) -> str:
    return f"£{value:,.2f}" if value is not None else "n/a"


NUMERIC = {"gbp", "days", "decimal", "pct", "share"}
URL = re.compile(r"https?://[^\s<>\"')]+[^\s<>\"').,;]")

STYLE = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a;
       max-width: 186mm; margin: 0 auto; padding: 8mm 0; font-size: 10.5pt; line-height: 1.45; }
h1 { font-size: 19pt; margin: 0 0 2mm; }
h2 { font-size: 14pt; margin: 8mm 0 2mm; border-bottom: 2px solid #2b8cbe; padding-bottom: 1mm; break-after: avoid; }
.subtitle { font-size: 11.5pt; color: #444; margin: 0 0 5mm; }
.facts { display: flex; flex-wrap: wrap; gap: 2.5mm; margin: 3mm 0; }
.fact { border: 1px solid #c6dbef; background: #f3f8fc; border-radius: 2mm; padding: 2mm 3mm; min-width: 38mm; }
.fact .label { font-size: 8.5pt; color: #555; }
.fact .value { font-size: 13pt; font-weight: 600; }
figure { margin: 4mm 0; break-inside: avoid; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 9pt; color: #555; }
table { border-collapse: collapse; width: 100%; margin: 3mm 0 5mm; font-size: 8.8pt; }
caption { text-align: left; font-weight: 600; padding-bottom: 1.5mm; caption-side: top; }
caption .source { font-weight: normal; color: #666; }
th, td { border-bottom: 1px solid #ddd; padding: 1.2mm 1.6mm; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
tr.total td { font-weight: 600; border-top: 2px solid #999; }
code { font-family: Menlo, Consolas, monospace; font-size: 9pt; background: #f4f4f4; padding: 0.3mm 1mm; overflow-wrap: anywhere; }
pre { background: #f4f4f4; padding: 2mm 3mm; white-space: pre-wrap; }
.note { color: #666; font-size: 9pt; }
@media print { body { padding: 0; } a { color: inherit; } }
"""


def to_html(document: Document, images: dict[str, bytes]) -> str:
    """The document as one self-contained HTML page; charts not in `images` are left out with a note."""
    parts = ["<!DOCTYPE html>", '<html lang="en-GB">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_escape(document.title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
             f"<h1>{_escape(document.title)}</h1>"]
    if document.subtitle:
        parts.append(f'<p class="subtitle">{_escape(document.subtitle)}</p>')
    missing = 0
    for section in document.sections:
        blocks = []
        for block in section.blocks:
            if isinstance(block, Chart) and block.name not in images:
                missing += 1
                continue
            blocks.append(_html_block(block, images))
        parts.append(f"<section><h2>{_escape(section.title)}</h2>")
        parts += blocks
        parts.append("</section>")
    if missing and not images:
        parts.append('<p class="note">Charts were not drawn for this run (--no-charts).</p>')
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _html_block(block: Block, images: dict[str, bytes]) -> str:
    if isinstance(block, str):
        return f"<p>{_linked(block)}</p>"
    if isinstance(block, Facts):
        boxes = "".join(f'<div class="fact"><div class="label">{_escape(label)}</div><div class="value">{_escape(value)}</div></div>'
                        for label, value in block.items)
        return f'<div class="facts">{boxes}</div>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_linked(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Code):
        return f"<pre><code>{_escape(block.text)}</code></pre>"
    if isinstance(block, Chart):
        data = base64.b64encode(images[block.name]).decode("ascii")
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{_escape(block.caption)}">'
                f"<figcaption>{_escape(block.caption)}</figcaption></figure>")
    return _html_table(block)


def _html_table(table: Table) -> str:
    source = f' <span class="source">({_escape(table.source)})</span>' if table.source else ""
    head = "".join(f'<th{" class=num" if column.kind in NUMERIC else ""} scope="col">{_escape(column.title)}</th>' for column in table.columns)
    body = []
    for row in table.rows:
        total = ' class="total"' if row.get(table.columns[0].key) in ("Total", "TOTAL") else ""
        cells = []
        for column in table.columns:
            text = format_value(row.get(column.key), column.kind)
            if column.kind in NUMERIC:
                cells.append(f'<td class="num">{_escape(text)}</td>')
            elif column.kind == "code":
                cells.append(f"<td><code>{_escape(text)}</code></td>")
            elif column.kind == "file":
                cells.append(f'<td><a href="{_escape(text)}">{_escape(text)}</a></td>')
            else:
                cells.append(f"<td>{_linked(text)}</td>")
        body.append(f"<tr{total}>{''.join(cells)}</tr>")
    attribute = f' data-source="{_escape(table.source)}"' if table.source else ""
    return (f"<table{attribute}><caption>{_escape(table.caption)}{source}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _escape(text) -> str:
    return html.escape(str(text), quote=True)


def _linked(text: str) -> str:
    """Escaped text with web addresses made into links (links out are fine; nothing is loaded from them)."""
    escaped = _escape(text)
    return URL.sub(lambda match: f'<a href="{match.group(0)}">{match.group(0)}</a>', escaped)


def to_markdown(document: Document, chart_paths: dict[str, str]) -> str:
    """The document as Markdown, charts linked by relative path (charts/<name>.png)."""
    lines = [f"# {document.title}", ""]
    if document.subtitle:
        lines += [f"_{_md_text(document.subtitle)}_", ""]
    for section in document.sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Chart) and block.name not in chart_paths:
                continue
            lines += _md_block(block, chart_paths) + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_block(block: Block, chart_paths: dict[str, str]) -> list[str]:
    if isinstance(block, str):
        return [_md_text(block)]
    if isinstance(block, Facts):
        return ["| " + " | ".join(_md_cell(label) for label, _ in block.items) + " |",
                "|" + "---|" * len(block.items),
                "| " + " | ".join(f"**{_md_cell(value)}**" for _, value in block.items) + " |"]
    if isinstance(block, Bullets):
        return [f"- {_md_text(item)}" for item in block.items]
    if isinstance(block, Code):
        return ["```", block.text, "```"]
    if isinstance(block, Chart):
        return [f"![{_md_cell(block.caption)}]({chart_paths[block.name]})", "", f"_{_md_text(block.caption)}_"]
    table = block
    lines = [f"**{_md_text(table.caption)}**" + (f" ({table.source})" if table.source else ""), ""]
    lines.append("| " + " | ".join(_md_cell(column.title) for column in table.columns) + " |")
    lines.append("|" + "".join("---:|" if column.kind in NUMERIC else "---|" for column in table.columns))
    for row in table.rows:
        lines.append("| " + " | ".join(_md_link(row.get(column.key)) if column.kind == "file" else _md_cell(format_value(row.get(column.key), column.kind))
                                       for column in table.columns) + " |")
    return lines


def _md_text(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", str(text))


def _md_link(path: str) -> str:
    return f"[{_md_cell(path)}]({path})"


def _md_cell(text: str) -> str:
    return _md_text(text).replace("\n", " ")
