"""The sweep's report: what was varied, a row per point, the chart, and a slider through each point's allocation.

Built from a Sweep; no I/O. `rendering` turns it into HTML and Markdown like a run's report; the
slider (`PointExplorer`) is drawn only in report.html, from the figures the sweep computed,
embedded in the page as JSON.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from .document import Bullets, Chart, Code, Column, Document, Facts, Section, Table
from .sweep import OK, Sweep

TABLE_ROWS = 200
"""Points listed in the report's table; every point is in sweep.csv."""
ALLOCATION_COLUMNS = ("point", "area_code", "area_name", "bid", "amount_gbp", "harm_averted_days")
"""allocations.csv's header (written even when no point funds anything)."""
BASELINE_COLUMNS = ("point", "method", "allocated_gbp", "harm_averted_days", "same_rules")
"""baselines.csv's header."""
FIGURE_COLUMNS = (
    Column("eligible_areas", "Eligible", "days"),
    Column("funded_bids", "Funded bids", "days"),
    Column("funded_areas", "Funded areas", "days"),
    Column("allocated_gbp", "Allocated", "gbp"),
    Column("harm_averted_days", "Harm averted", "days"),
    Column("gbp_per_harm_day_averted", "£ per day", "decimal"),
)


@dataclass(frozen=True)
class PointExplorer:
    """A slider through the sweep's points showing each point's funded areas or bids, with £ and harm averted, and a tile
    map where the areas have one (`tiles`: (row, column) per area, in the order of `data["names"]`)."""

    caption: str
    data: dict
    tiles: tuple[tuple[int, int], ...] | None = None


def sweep_document(sweep: Sweep, folder: str, command: str) -> Document:
    """The sweep's report; `command` is the line that repeats it."""
    varied = Bullets(
        tuple(f"{variation.key}: {_values_words(sweep, variation)} (--vary {variation.spec})" for variation in sweep.variations)
    )
    how = (
        f"each point runs the whole model with {sweep.draws:,} Monte Carlo draws, so the table adds the interval of harm averted"
        if sweep.draws
        else "each point runs the inputs, the area test, the simple splits and the allocation at the point estimates, without "
        "the Monte Carlo (add --draws N for each point's interval)"
    )
    opening = (
        f"The scenario {sweep.scenario_name} run at {len(sweep.points):,} points"
        + (", every combination of the values below" if len(sweep.variations) > 1 else "")
        + f": {how}. Each point is an ordinary scenario with its values set, so any point can be rerun on its own with "
        f"safer-streets run and the overrides in its row."
    )
    facts = Facts(
        (
            ("Points", f"{len(sweep.points):,}"),
            ("Ran", f"{sweep.count(OK):,}"),
            ("Infeasible", f"{sweep.count('infeasible'):,}"),
            ("Invalid", f"{sweep.count('invalid'):,}"),
            *((("Stopped", f"{sweep.count('stopped'):,}"),) if sweep.stopped else ()),
        )
    )
    sections = [Section("What was varied", (opening, varied, facts))]
    if sweep.stopped:
        sections[0] = Section(
            "What was varied",
            (*sections[0].blocks, "The sweep was stopped before every point ran: the points marked stopped have no figures."),
        )
    rows = tuple(sweep.rows()[:TABLE_ROWS])
    columns = [Column("point", "Point", "days")]
    columns += [Column(variation.key, variation.key, "gbp" if variation.key.endswith("_gbp") else "text") for variation in sweep.variations]
    columns += list(FIGURE_COLUMNS)
    if sweep.draws:
        columns += [Column("harm_averted_low_days", "Low", "days"), Column("harm_averted_high_days", "High", "days")]
    columns.append(Column("status", "Status"))
    listed = "" if len(sweep.points) <= TABLE_ROWS else f" (the first {TABLE_ROWS} of {len(sweep.points):,}; every point is in sweep.csv)"
    results = [
        Table(f"Each point's figures{listed}", tuple(columns), rows, "sweep.csv"),
        f"Harm averted is in {sweep.harm_unit} over the forecast horizon, on the exact response curves. £ per day: £ allocated "
        "per harm day averted. A funded bid is a bid with any funded area (at district level each district is its own bid).",
        Chart("sweep", "Each output against each varied key; across a grid, one line per value of the other keys."),
    ]
    sections.append(Section("What changes across the points", tuple(results)))
    explorer = PointExplorer(
        f"Move the slider to step through the points; the table (and the map, where the {_plural(sweep.level_name)} have a tile layout) "
        f"shows where that point's money goes.",
        sweep.explorer_data(),
        tuple((int(row), int(column)) for row, column in sweep.area_map.tiles) if sweep.area_map.kind == "tiles" else None,
    )
    sections.append(Section("Each point's allocation", (explorer,)))
    failed = [point for point in sweep.points if not point.ok and point.status != "stopped"]
    if failed:
        shown = [f"Point {point.index + 1} ({' '.join(point.sets)}): {point.status}" for point in failed[:30]]
        if len(failed) > 30:
            shown.append(f"… and {len(failed) - 30:,} more (see sweep.csv)")
        sections.append(Section("Points that did not run", (Bullets(tuple(shown)),)))
    sections.append(_files_section(sweep, command))
    return Document(
        title=f"Sweep: {sweep.title}",
        subtitle=f"{sweep.force_name}; varied: {', '.join(sweep.keys)}; {len(sweep.points):,} points",
        sections=tuple(sections),
    )


def _plural(level: str) -> str:
    """'districts', 'LSOAs': an area level's name in the plural, an acronym kept in capitals."""
    return f"{level if level.isupper() else level.lower()}s"


def _values_words(sweep: Sweep, variation) -> str:
    values = [variation.shown(value) for value in variation.values]
    if len(values) > 8:
        values = [*values[:3], "…", *values[-2:]]
    return f"{len(variation.values):,} value{'s' if len(variation.values) != 1 else ''}: {', '.join(values)}"


def _files_section(sweep: Sweep, command: str) -> Section:
    first = next((point for point in sweep.points if point.ok), sweep.points[0])
    sets = " ".join(f"--set {shlex.quote(item)}" for item in (*sweep.sets, *first.sets))
    return Section(
        "Files and how to repeat it",
        (
            Table(
                "Files in this folder",
                (Column("file", "File", "file"), Column("holds", "What it holds")),
                (
                    {"file": "sweep.csv", "holds": "one row per point: the varied values, its figures, status and overrides"},
                    {"file": "allocations.csv", "holds": "one row per point × funded area: £ and harm averted"},
                    {"file": "baselines.csv", "holds": "one row per point × simple split (equal, per head, per harm): £ and harm averted"},
                    {"file": "summary.json", "holds": "what was varied, how many points ran, where they ran"},
                ),
            ),
            "The sweep:",
            Code(command),
            f"Point {first.index + 1} on its own, as a full run with its report:",
            Code(f"safer-streets run {shlex.quote(sweep.scenario_file)} {sets}".rstrip()),
        ),
    )
