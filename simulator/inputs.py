"""The reader of area and crime-count tables: the embedded Kent default or the user's CSVs.

Two tables make the model's input. Areas: one row per area with its code, name, parent (the
force area) and population. Crime counts: one row per area and police.uk crime type with a
count, optionally for several periods (only the scenario's period is used; other periods'
rows are counted in the report, never silently dropped).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np

from .arrays import Labelled
from .datafiles import SourceFile, Table, UniqueValues, area_code, columns_of, one_line, plain, read_text, sha256_text, shown, whole_number
from .errors import DataError
from .maps import AreaMap, load_area_map
from .schema import CRIME_TYPES, DataSource

NOMINAL_LSOA_RESIDENTS = 1_671
NOMINAL_POPULATION_NOTE = (
    "no population table: every LSOA is given a nominal 1,671 residents (Census 2021 England and Wales usual residents "
    "59,597,542 ÷ 35,672 LSOAs), an approximation used only for cost scales; rates per 1,000 fall back to counts"
)

AREA_COLUMNS = {
    "area_code": ("area_code", "lsoa21_code", "gss_code"),
    "area_name": ("area_name", "lsoa21_name", "district"),
    "population": ("population", "population_census2021"),
}
AREA_OPTIONAL = {
    "parent_code": ("parent_code", "pfa_code", "gss_code"),
    "parent_name": ("parent_name", "district"),
    "population_source": ("population_source",),
}
COUNT_COLUMNS = {
    "area_code": ("area_code", "lsoa21_code", "gss_code"),
    "crime_type": ("crime_type",),
    "count": ("count",),
}
COUNT_OPTIONAL = {"period_start": ("period_start",), "period_end": ("period_end",), "month": ("month",), "source": ("source",)}

# Bounds that catch typos, pasted IDs and unit slips before they reach the model. A count is the
# records of one crime type in one area over the period: the largest force (the Metropolitan
# Police) records about a million crimes a year of all types together, so 10 million in one row
# is no real count. Census 2021 counted 8.8 million residents in London, the largest force area,
# so no area in England and Wales comes near 20 million.
MAX_COUNT = 10_000_000
MAX_POPULATION = 20_000_000
MONTH_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class LeftOut:
    """Areas of the input tables left out of the model, with why: e.g. a force whose records are missing, whose zeros
    would read as safety."""

    group: str
    reason: str
    areas: int
    population: float


@dataclass(frozen=True)
class Areas:
    """The areas of one force with population and records by crime type over the data period."""

    level: str
    codes: tuple[str, ...]
    names: tuple[str, ...]
    parents: tuple[str, ...]
    population: Labelled
    counts: Labelled
    period_start: str
    period_end: str
    force_name: str
    description: str
    sources: tuple[SourceFile, ...]
    population_source: str
    count_source: str
    area_map: AreaMap = field(default_factory=AreaMap)
    parent_names: tuple[str, ...] = ()
    monthly: Labelled | None = None
    population_known: bool = True
    history: Labelled | None = None
    """Monthly records (area × crime type × month, only months with rows) the forecast is fitted to: `data.history`,
    else the counts file's months over the data period, else None (annual totals only)."""
    history_gaps: tuple[tuple[str, str], ...] = ()
    """(area code, month) pairs of `data.history` with no rows in a month other areas have: read as 0 records, and
    reported as a warning (an imported small-area history can have areas with no records in a month)."""
    forces: tuple[str, ...] = ()
    """Each area's police force where the areas span several forces (a national table); empty when every area is in
    `force_name`."""
    left_out: tuple[LeftOut, ...] = ()
    """Groups of areas in the input tables that the model leaves out, each with its reason (reported, never dropped silently)."""

    @property
    def level_name(self) -> str:
        """What one area is, for labels: 'District' or 'LSOA'."""
        return "LSOA" if self.level == "lsoa" else "District"

    def force_of(self, position: int) -> str:
        """The police force of the area at `position`."""
        return self.forces[position] if self.forces else self.force_name

    @property
    def force_names(self) -> tuple[str, ...]:
        """The forces the areas belong to, sorted (one, `force_name`, unless the table spans several)."""
        return tuple(sorted(set(self.forces))) if self.forces else (self.force_name,)

    def parent_name(self, position: int) -> str:
        """The name of an area's parent (its district at LSOA level), else its code."""
        return self.parent_names[position] if self.parent_names else self.parents[position]

    @property
    def period_months(self) -> int:
        """Number of calendar months in the data period, both ends included."""
        return months_between(self.period_start, self.period_end)

    def name_of(self, code: str) -> str:
        """The area's name for its code."""
        return self.names[self.codes.index(code)]

    def resolve(self, name_or_code: str) -> str | None:
        """The code of an area given its code or its name (case-insensitive), or None."""
        if name_or_code in self.codes:
            return name_or_code
        lowered = name_or_code.strip().lower()
        for code, name in zip(self.codes, self.names):
            if name.lower() == lowered:
                return code
        return None


def months_between(start: str, end: str) -> int:
    """Months from `start` to `end` inclusive, both YYYY-MM."""
    start_year, start_month = map(int, start.split("-"))
    end_year, end_month = map(int, end.split("-"))
    return (end_year - start_year) * 12 + end_month - start_month + 1


def load_areas(source: DataSource) -> Areas:
    """Read the area table and the crime counts named by the scenario's data source."""
    if months_between(source.period_start, source.period_end) < 1:
        raise DataError("the data period ends before it starts", key="data.period_end", got=f"{source.period_start}..{source.period_end}")
    count_text, count_file = read_text(source.crime_counts, "data.crime_counts")
    if source.areas:
        area_text, area_file = read_text(source.areas, "data.areas")
        codes, names, parents, parent_names, population, population_source, area_rows = _parse_areas(area_text, area_file)
        population_known = True
    else:
        if source.level != "lsoa":
            raise DataError(
                "an area table with population is needed at district level",
                key="data.areas",
                got='""',
                hint="name a CSV with area_code, area_name, population; only LSOAs can fall back to a nominal population",
            )
        area_text, area_file = "", "(from the crime counts)"
        codes, names, parents, parent_names = _areas_from_counts(count_text, count_file)
        population, area_rows, population_known = [NOMINAL_LSOA_RESIDENTS] * len(codes), len(codes), False
        population_source = NOMINAL_POPULATION_NOTE
    parsed = _parse_counts(count_text, count_file, codes, source)
    area_map, map_files = load_area_map(source, codes)
    history, history_files, history_gaps = parsed.monthly, (), ()
    if source.history.strip():
        history_text, history_file = read_text(source.history, "data.history")
        history, history_source, history_gaps = _parse_history(history_text, history_file, codes, source)
        history_files = (history_source,)
    return Areas(
        level=source.level,
        codes=codes,
        names=names,
        parents=parents,
        population=Labelled(np.array(population, dtype=float), ("area",), (codes,), "population", "residents"),
        counts=Labelled(parsed.counts, ("area", "crime_type"), (codes, CRIME_TYPES), "records", "records"),
        period_start=source.period_start,
        period_end=source.period_end,
        force_name=source.force_name,
        description=source.description,
        sources=(
            SourceFile("areas", area_file, sha256_text(area_text), area_rows, area_rows),
            SourceFile(
                "crime_counts",
                count_file,
                sha256_text(count_text),
                parsed.rows_read,
                parsed.rows_used,
                parsed.rows_other_period,
                parsed.rows_other_areas,
            ),
            *map_files,
            *history_files,
        ),
        population_source=population_source,
        count_source=parsed.source,
        area_map=area_map,
        parent_names=parent_names,
        monthly=parsed.monthly,
        population_known=population_known,
        history=history,
        history_gaps=history_gaps,
    )


def _areas_from_counts(text: str, file: str):
    """Areas named by the crime counts themselves (LSOA code, name, district), for a force with no population table.

    An area's rows must all give it the same name and district: which one to keep would be a guess.
    """
    table = Table(text, file)
    columns = columns_of(
        table.header,
        {"area_code": COUNT_COLUMNS["area_code"]},
        {"area_name": ("area_name", "lsoa21_name"), "district": ("district", "parent_name")},
        file,
    )
    name_column, district_column = columns.get("area_name", ""), columns.get("district", "")
    found: dict[str, tuple[str, str, int]] = {}
    names = _unique_names(file, columns.get("area_name", columns["area_code"]))
    for line, row in table:
        code = area_code(row, columns["area_code"], file, line)
        name = one_line((_cell(row, name_column) or code).strip(), file, line, name_column, "area name")
        district = one_line((_cell(row, district_column) or "force").strip(), file, line, district_column, "district")
        if code not in found:
            names.add(name, line, _distinct_name_hint(code))
            found[code] = (name, district, line)
            continue
        first_name, first_district, first_line = found[code]
        for column, noun, first, given in (
            (name_column, "name", first_name, name),
            (district_column, "district", first_district, district),
        ):
            if given != first:
                raise DataError(
                    f"area {plain(code)} has two {noun}s, on lines {first_line} and {line}",
                    file=file,
                    line=line,
                    key=column,
                    got=shown(given),
                    expected=f"the {noun} on line {first_line}: {plain(first)}",
                    hint=f"give every row of {plain(code)} the same {noun}, or correct the code if these are two areas",
                )
    codes = tuple(sorted(found))
    return codes, tuple(found[code][0] for code in codes), tuple(found[code][1] for code in codes), tuple(found[code][1] for code in codes)


def _cell(row: dict[str, str], column: str | None) -> str:
    """The row's value in an optional column, or "" when the file has no such column (never the value of an unnamed column)."""
    return row[column] if column else ""


def _unique_names(file: str, column: str) -> UniqueValues:
    """Area names seen so far, case and spacing ignored: every table, chart and --set names an area by its name."""
    return UniqueValues(file, column, "area name", fold=lambda name: " ".join(name.split()).casefold())


def _distinct_name_hint(code: str) -> str:
    return f"give {plain(code)} a distinct name; every table, chart and --set names an area by its name"


def _parse_areas(text: str, file: str):
    table = Table(text, file)
    columns = columns_of(table.header, AREA_COLUMNS, AREA_OPTIONAL, file)
    codes, names, parents, parent_names, population, sources = [], [], [], [], [], set()
    if columns.get("parent_name") == columns["area_name"]:
        del columns["parent_name"]
    if columns.get("parent_code") == columns["area_code"]:
        del columns["parent_code"]
    unique_codes = UniqueValues(file, columns["area_code"], "area code")
    unique_names = _unique_names(file, columns["area_name"])
    for line, row in table:
        code = area_code(row, columns["area_code"], file, line)
        unique_codes.add(code, line, "remove or correct one of the rows")
        people = whole_number(
            row[columns["population"]],
            file,
            line,
            columns["population"],
            1,
            MAX_POPULATION,
            "population is usual residents, e.g. 132752 (no area in England and Wales has 20 million)",
        )
        name = one_line((row.get(columns["area_name"]) or code).strip(), file, line, columns["area_name"], "area name")
        unique_names.add(name, line, _distinct_name_hint(code))
        codes.append(code)
        names.append(name)
        parent = (_cell(row, columns.get("parent_code")) or "force").strip()
        parents.append(one_line(parent, file, line, columns.get("parent_code", ""), "parent code"))
        parent_name = (_cell(row, columns.get("parent_name")) or parents[-1]).strip()
        parent_names.append(one_line(parent_name, file, line, columns.get("parent_name", ""), "parent name"))
        population.append(people)
        if "population_source" in columns and row.get(columns["population_source"]):
            sources.add(row[columns["population_source"]].strip())
    if not codes:
        raise DataError("has a header but no areas", file=file, line=2)
    return tuple(codes), tuple(names), tuple(parents), tuple(parent_names), population, "; ".join(sorted(sources)), len(codes)


@dataclass(frozen=True)
class _Counts:
    counts: np.ndarray
    monthly: Labelled | None
    rows_read: int
    rows_used: int
    rows_other_period: int
    rows_other_areas: int
    source: str


def _parse_counts(text: str, file: str, codes: tuple[str, ...], source: DataSource) -> _Counts:
    """Counts over the data period: rows of other periods (or months) and, where allowed, other areas are counted, not used.

    A `month` column (as `safer-streets import police-uk` writes) also gives the monthly history.
    """
    table = Table(text, file)
    columns = columns_of(table.header, COUNT_COLUMNS, COUNT_OPTIONAL, file)
    has_period = "period_start" in columns and "period_end" in columns
    if ("period_start" in columns) != ("period_end" in columns):
        given, absent = ("period_start", "period_end") if "period_start" in columns else ("period_end", "period_start")
        raise DataError(
            f"has a {given} column but no {absent} column",
            file=file,
            line=1,
            key=given,
            hint="a period needs both columns (YYYY-MM); add the other, or delete this one if every row is in the data period",
        )
    has_month = "month" in columns
    months = month_range(source.period_start, source.period_end) if has_month else ()
    month_position = {month: m for m, month in enumerate(months)}
    area_position = {code: a for a, code in enumerate(codes)}
    crime_position = {crime: c for c, crime in enumerate(CRIME_TYPES)}
    monthly = np.zeros((len(codes), len(CRIME_TYPES), max(len(months), 1)))
    seen: set[tuple[str, str, str]] = set()
    periods: set[str] = set()
    sources: set[str] = set()
    rows_read = rows_used = rows_other = rows_elsewhere = 0
    for line, row in table:
        rows_read += 1
        month = ""
        if has_month:
            month = (row.get(columns["month"]) or "").strip()
            periods.add(month)
            if month not in month_position:
                rows_other += 1
                continue
        elif has_period:
            period = f"{row[columns['period_start']].strip()}..{row[columns['period_end']].strip()}"
            periods.add(period)
            if period != f"{source.period_start}..{source.period_end}":
                rows_other += 1
                continue
        cell = _area_and_crime_type(row, columns, file, line, source, area_position)
        if cell is None:
            rows_elsewhere += 1
            continue
        code, crime_type = cell
        if (code, crime_type, month) in seen:
            raise DataError(
                "area and crime type appear twice in the period" + (" and month" if month else ""),
                file=file,
                line=line,
                got=f"{code}, {crime_type}" + (f", {month}" if month else ""),
                hint="sum the rows or remove the duplicate",
            )
        seen.add((code, crime_type, month))
        count = whole_number(
            row[columns["count"]],
            file,
            line,
            columns["count"],
            0,
            MAX_COUNT,
            "a count is the records of one crime type in one area over the period; check for a shifted column",
        )
        monthly[area_position[code], crime_position[crime_type], month_position.get(month, 0)] = count
        if "source" in columns and row.get(columns["source"]):
            sources.add(row[columns["source"]].strip())
        rows_used += 1
    if rows_read == 0:
        raise DataError(
            "has a header but no rows",
            file=file,
            line=2,
            key="data.crime_counts",
            hint="add a row (area code, crime type, count) for each area and crime type with records",
        )
    if rows_used == 0:
        available = (f"{min(periods)} to {max(periods)}" if has_month else ", ".join(sorted(periods))) if periods else "none"
        raise DataError(
            "has no rows for the scenario's data period",
            file=file,
            key="data.period_start",
            got=f"{source.period_start}..{source.period_end}",
            expected=f"a period in the file: {plain(available)}",
        )
    if has_month:
        missing = [month for month in months if month not in periods]
        if missing:
            raise DataError(
                "has no rows for some months of the data period",
                file=file,
                key="data.period_start",
                got=", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else ""),
                hint="import those months, or shorten the period (data.period_start, data.period_end)",
            )
        history = Labelled(monthly, ("area", "crime_type", "month"), (codes, CRIME_TYPES, months), "records", "records per month")
    else:
        history = None
    source_text = "; ".join(sorted(sources)) or (
        "data.police.uk street-level crime files (Open Government Licence v3.0), imported with safer-streets import police-uk"
        if has_month
        else ""
    )
    return _Counts(monthly.sum(axis=2), history, rows_read, rows_used, rows_other, rows_elsewhere, source_text)


def _area_and_crime_type(
    row: dict[str, str], columns: dict[str, str], file: str, line: int, source: DataSource, area_position: dict[str, int]
) -> tuple[str, str] | None:
    """A counts or history row's area code and crime type, or None for an area not in the area table (which
    `data.other_areas` allows to be counted; otherwise an error)."""
    code = area_code(row, columns["area_code"], file, line)
    if code not in area_position:
        _check_other_area(source, file, line, columns["area_code"], code)
        return None
    return code, _crime_type(row, columns["crime_type"], file, line)


def _check_other_area(source: DataSource, file: str, line: int, column: str, code: str) -> None:
    """A row for an area not in the area table is an error unless `data.other_areas` says to count such rows."""
    if source.other_areas == "count":
        return
    raise DataError(
        "names an area that is not in the area table",
        file=file,
        line=line,
        key=column,
        got=shown(code),
        hint='add the area to the area table, remove the row, or set data.other_areas = "count" to count such rows and leave them out',
    )


def _crime_type(row: dict[str, str], column: str, file: str, line: int) -> str:
    """The row's police.uk crime type, refused with the closest spelling when it is not one of the 14."""
    crime_type = (row.get(column) or "").strip()
    if crime_type not in CRIME_TYPES:
        close = difflib.get_close_matches(crime_type, CRIME_TYPES, n=1, cutoff=0.6)
        raise DataError(
            "unknown crime type",
            file=file,
            line=line,
            key="crime_type",
            got=shown(crime_type),
            expected="one of the 14 police.uk categories, e.g. 'Violence and sexual offences'",
            hint=f"did you mean '{close[0]}'?" if close else "spell it as police.uk does",
        )
    return crime_type


HISTORY_COLUMNS = {**COUNT_COLUMNS, "month": ("month",)}


def _parse_history(
    text: str, file: str, codes: tuple[str, ...], source: DataSource
) -> tuple[Labelled, SourceFile, tuple[tuple[str, str], ...]]:
    """Monthly records by area, crime type and month for the forecast; months may have gaps but must cover the data period.

    Rows for areas not in the area table follow `data.other_areas` (counted, or an error), as the counts' rows do.
    """
    table = Table(text, file)
    columns = columns_of(table.header, HISTORY_COLUMNS, {"source": ("source",)}, file)
    area_position = {code: a for a, code in enumerate(codes)}
    crime_position = {crime: c for c, crime in enumerate(CRIME_TYPES)}
    cells: dict[tuple[int, int, str], float] = {}
    lines: dict[tuple[str, str, str], int] = {}
    months: set[str] = set()
    rows_read = rows_elsewhere = 0
    for line, row in table:
        rows_read += 1
        month = (row.get(columns["month"]) or "").strip()
        if not MONTH_PATTERN.fullmatch(month):
            raise DataError(
                "has a month that is not YYYY-MM",
                file=file,
                line=line,
                key=columns["month"],
                got=shown(month),
                expected="a month such as 2025-06",
            )
        cell = _area_and_crime_type(row, columns, file, line, source, area_position)
        if cell is None:
            rows_elsewhere += 1
            continue
        code, crime_type = cell
        if (code, crime_type, month) in lines:
            raise DataError(
                f"area, crime type and month appear twice, on lines {lines[(code, crime_type, month)]} and {line}",
                file=file,
                line=line,
                got=f"{code}, {crime_type}, {month}",
                hint="sum the rows or remove the duplicate",
            )
        lines[(code, crime_type, month)] = line
        count = whole_number(
            row[columns["count"]],
            file,
            line,
            columns["count"],
            0,
            MAX_COUNT,
            "a count is the records of one crime type in one area in one month; check for a shifted column",
        )
        cells[(area_position[code], crime_position[crime_type], month)] = count
        months.add(month)
    if not months:
        raise DataError(
            "has no rows for the areas of the area table",
            file=file,
            key="data.history",
            got=f"{rows_read} rows, {rows_elsewhere} for other areas",
            hint="name a history of the same areas (area code, crime type, month YYYY-MM, count)",
        )
    missing = [month for month in month_range(source.period_start, source.period_end) if month not in months]
    if missing:
        raise DataError(
            "does not cover the data period",
            file=file,
            key="data.history",
            got="missing " + month_runs(missing),
            hint="add those months to the history, or leave data.history empty to fit the data period's own months",
        )
    ordered = tuple(sorted(months))
    month_position = {month: m for m, month in enumerate(ordered)}
    values = np.zeros((len(codes), len(CRIME_TYPES), len(ordered)))
    for (area, crime, month), count in cells.items():
        values[area, crime, month_position[month]] = count
    history = Labelled(values, ("area", "crime_type", "month"), (codes, CRIME_TYPES, ordered), "records", "records per month")
    seen = {(area, month) for area, _, month in cells}
    present = sorted({area for area, _, _ in cells})
    gaps = tuple((codes[area], month) for area in present for month in ordered if (area, month) not in seen)
    return history, SourceFile("history", file, sha256_text(text), rows_read, rows_read - rows_elsewhere, 0, rows_elsewhere), gaps


def month_runs(months: tuple[str, ...] | list[str]) -> str:
    """Months in words as runs, e.g. '2025-09..2026-05 (9 months)' or '2023-01, 2024-02..2024-03 (3 months)'."""
    ordered = sorted(set(months))
    runs: list[list[str]] = []
    for month in ordered:
        if runs and months_between(runs[-1][-1], month) == 2:
            runs[-1].append(month)
        else:
            runs.append([month])
    text = ", ".join(run[0] if len(run) == 1 else f"{run[0]}..{run[-1]}" for run in runs)
    return f"{text} ({len(ordered)} month{'s' if len(ordered) != 1 else ''})"


def month_range(start: str, end: str) -> tuple[str, ...]:
    """Every month from `start` to `end` inclusive, as YYYY-MM."""
    year, month = map(int, start.split("-"))
    months = []
    for _ in range(months_between(start, end)):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)
