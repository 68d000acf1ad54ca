"""The reader of area and crime-count tables: the embedded Kent default, the national table, or the user's CSVs.

Two tables make the model's input. Areas: one row per area with its code, name, parent (the
force area) and population. Crime counts: one row per area and police.uk crime type with a
count, optionally for several periods (only the scenario's period is used; other periods'
rows are counted in the report, never silently dropped). A counts table with a `force` column
(the national table) has a row per area, force and crime type: each area gets the force with
the most records in it, and areas no force in the data polices are left out and reported.

Tables are read in bulk when every value is plain (a national table's 270,000 rows in about a
second) and otherwise row by row, which names the file, line and column of the first problem.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from itertools import compress

import numpy as np

from .arrays import Labelled
from .datafiles import (
    CONTROL,
    SourceFile,
    Table,
    UniqueValues,
    area_code,
    columns_of,
    one_line,
    plain,
    plural,
    read_data,
    sha256_text,
    shown,
    whole_number,
)
from .errors import DataError
from .maps import AreaMap, load_area_map
from .schema import CRIME_TYPES, DataSource

NOMINAL_LSOA_RESIDENTS = 1_671
NOMINAL_POPULATION_NOTE = (
    "no population table: every LSOA is given a nominal 1,671 residents (Census 2021 England and Wales usual residents "
    "59,597,542 ÷ 35,672 LSOAs), an approximation used only for cost scales; rates per 1,000 fall back to counts"
)

AREA_COLUMNS = {
    "area_code": ("area_code", "lsoa21_code", "lsoa_code", "gss_code"),
    "area_name": ("area_name", "lsoa21_name", "lsoa_name", "district"),
    "population": ("population", "population_census2021"),
}
AREA_OPTIONAL = {
    "parent_code": ("parent_code", "pfa_code", "gss_code"),
    "parent_name": ("parent_name", "district"),
    "population_source": ("population_source",),
}
COUNT_COLUMNS = {
    "area_code": ("area_code", "lsoa21_code", "lsoa_code", "gss_code"),
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
HEADER_SPAN = 1 << 20
"""Characters enough to hold any table's header, read to see which columns a file has."""
MONTH_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class LeftOut:
    """Areas of the input tables left out of the model, with why: e.g. a force whose records are missing, whose zeros
    would read as safety."""

    group: str
    reason: str
    areas: int
    population: float
    records: float = 0.0
    """Records the counts hold in these areas (border records of neighbouring forces, British Transport Police), not used."""


@dataclass(frozen=True)
class Unlocated:
    """Records a force published without an area (`unlocated` rows: no location, or outside England and Wales): counted
    per force and reported, attributed to no area."""

    force: str
    rows: int
    records: float


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
    unlocated: tuple[Unlocated, ...] = ()
    """Records per force that the counts place in no area, by force name (a counts file with a `force` column)."""

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


def _first_time(lines: dict[tuple[str, ...], int], key: tuple[str, ...], noun: str, file: str, line: int) -> None:
    """Record the line of a row's key, refusing a key seen on an earlier line (naming both lines)."""
    if key in lines:
        raise DataError(
            f"{noun} appear twice, on lines {lines[key]} and {line}",
            file=file,
            line=line,
            got=", ".join(key),
            hint="sum the rows or remove the duplicate",
        )
    lines[key] = line


def months_between(start: str, end: str) -> int:
    """Months from `start` to `end` inclusive, both YYYY-MM."""
    start_year, start_month = map(int, start.split("-"))
    end_year, end_month = map(int, end.split("-"))
    return (end_year - start_year) * 12 + end_month - start_month + 1


def load_areas(source: DataSource) -> Areas:
    """Read the area table and the crime counts named by the scenario's data source.

    A counts file with a `force` column (one row per area, force and crime type, as the national table) also gives each
    area its force and leaves out the areas of forces whose records are missing (`_place_forces`).
    """
    if months_between(source.period_start, source.period_end) < 1:
        raise DataError("the data period ends before it starts", key="data.period_end", got=f"{source.period_start}..{source.period_end}")
    count_text, count_file, count_hash = read_data(source.crime_counts, "data.crime_counts")
    by_force = "force" in Table(count_text[:HEADER_SPAN], count_file).header  # the header alone, without copying the whole text
    if source.areas:
        area_text, area_file, area_hash = read_data(source.areas, "data.areas")
        codes, names, parents, parent_names, population, population_source, area_rows = _parse_areas(area_text, area_file)
        if source.parent_from_name:
            parents = parent_names = _parents_from_names(names, area_text, area_file)
        population_known = True
    else:
        if source.level != "lsoa" or by_force:
            raise DataError(
                "an area table with population is needed " + ("for counts with a force column" if by_force else "at district level"),
                key="data.areas",
                got='""',
                hint="name a CSV with area_code, area_name, population; only LSOAs can fall back to a nominal population",
            )
        area_text, area_file, area_hash = "", "(from the crime counts)", sha256_text("")
        codes, names, parents, parent_names = _areas_from_counts(count_text, count_file)
        population, area_rows, population_known = [NOMINAL_LSOA_RESIDENTS] * len(codes), len(codes), False
        population_source = NOMINAL_POPULATION_NOTE
    force_files: tuple[SourceFile, ...] = ()
    placed = None
    if by_force:
        register, force_files = _read_forces(source)
        rows = _force_rows(count_text, count_file, codes, source, register)
        placed = _place_forces(rows, codes, parents, population, source, register)
        kept = placed.kept
        codes, names, parents, parent_names = (tuple(compress(values, kept)) for values in (codes, names, parents, parent_names))
        population = list(compress(population, kept))
        parsed = _Counts(
            rows.counts[kept], None, rows.rows_read, placed.rows_used, rows.rows_other_period, rows.rows_other_areas, rows.source
        )
    else:
        parsed = _parse_counts(count_text, count_file, codes, source)
    area_map, map_files = load_area_map(source, codes)
    history, history_files, history_gaps = parsed.monthly, (), ()
    if source.history.strip():
        history_text, history_file, history_hash = read_data(source.history, "data.history")
        history, history_source, history_gaps = _parse_history(history_text, history_file, codes, source)
        history_files = (replace(history_source, sha256=history_hash),)
    count_source = SourceFile(
        "crime_counts",
        count_file,
        count_hash,
        parsed.rows_read,
        parsed.rows_used,
        parsed.rows_other_period,
        parsed.rows_other_areas,
        placed.rows_left_out if placed else 0,
        placed.rows_unlocated if placed else 0,
    )
    return Areas(
        level=source.level,
        codes=codes,
        names=names,
        parents=parents,
        population=Labelled(np.array(population, dtype=float), ("area",), (codes,), "population", "residents"),
        counts=Labelled(parsed.counts, ("area", "crime_type"), (codes, CRIME_TYPES), "records", "records"),
        period_start=source.period_start,
        period_end=source.period_end,
        force_name=f"{source.force_name} ({plural(len(set(placed.forces)), 'force')})" if placed else source.force_name,
        description=source.description,
        sources=(
            SourceFile("areas", area_file, area_hash, area_rows, len(codes), rows_left_out=area_rows - len(codes)),
            count_source,
            *force_files,
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
        forces=placed.forces if placed else (),
        left_out=placed.left_out if placed else (),
        unlocated=placed.unlocated if placed else (),
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
    return UniqueValues(file, column, "area name", fold=_fold_name)


def _distinct_name_hint(code: str):
    """How to fix a repeated area name, worded only when one is found."""
    return lambda: f"give {plain(code)} a distinct name; every table, chart and --set names an area by its name"


def _fold_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def _area_columns(table: Table, file: str) -> dict[str, str]:
    columns = columns_of(table.header, AREA_COLUMNS, AREA_OPTIONAL, file)
    if columns.get("parent_name") == columns["area_name"]:
        del columns["parent_name"]
    if columns.get("parent_code") == columns["area_code"]:
        del columns["parent_code"]
    return columns


def _parse_areas(text: str, file: str):
    """The area table: codes, names, parents, parent names, population, population source, rows. Read in bulk where every
    value is plain; otherwise row by row, which names the file, line and column of the first problem."""
    fast = _parse_areas_in_bulk(text, file)
    if fast is not None:
        return fast
    table = Table(text, file)
    columns = _area_columns(table, file)
    codes, names, parents, parent_names, population, sources = [], [], [], [], [], set()
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


def _parse_areas_in_bulk(text: str, file: str):
    """`_parse_areas` for a table whose values are all plain (codes and names on one line and distinct, populations plain
    digits within bounds), else None; the same result as reading row by row, in a fraction of the time."""
    table = Table(text, file)
    columns = _area_columns(table, file)
    optional = [name for name in ("parent_code", "parent_name", "population_source") if name in columns]
    values = table.columns([columns[name] for name in ("area_code", "area_name", "population", *optional)])
    if values is None:
        return None
    raw_codes, raw_names, raw_population, *rest = values
    cells = dict(zip(optional, rest))
    codes = [code.strip() for code in raw_codes]
    names = [(name or code).strip() for name, code in zip(raw_names, codes)]
    if not all(codes) or len(set(codes)) != len(codes) or len({_fold_name(name) for name in names}) != len(names):
        return None
    population = _plain_whole_numbers(raw_population, 1, MAX_POPULATION)
    if population is None:
        return None
    parents = [(parent or "force").strip() for parent in cells["parent_code"]] if "parent_code" in cells else ["force"] * len(codes)
    parent_names = [(name or parent).strip() for name, parent in zip(cells["parent_name"], parents)] if "parent_name" in cells else parents
    if any(CONTROL.search("".join(column)) for column in (codes, names, parents, parent_names)):
        return None
    sources = {source.strip() for source in cells.get("population_source", ()) if source}
    return tuple(codes), tuple(names), tuple(parents), tuple(parent_names), population.tolist(), "; ".join(sorted(sources)), len(codes)


def _plain_whole_numbers(cells: list[str], low: int, high: int) -> np.ndarray | None:
    """The cells as floats if every one is plain ASCII digits within [low, high], else None (for `whole_number` to judge)."""
    joined = "".join(cells)
    if not all(cells) or not (joined.isascii() and joined.isdigit()) or max(map(len, cells), default=0) > 15:
        return None
    numbers = np.array(cells, dtype=np.int64)
    if numbers.size and (numbers.min() < low or numbers.max() > high):
        return None
    return numbers.astype(float)


LSOA_SUFFIX = re.compile(r"^(.*\S)\s+\d{3}[A-Z]$")


def _parents_from_names(names: tuple[str, ...], text: str, file: str) -> tuple[str, ...]:
    """Each LSOA's local authority from its name, as ONS names LSOAs ('Medway 015A' → 'Medway')."""
    parents = []
    for position, name in enumerate(names):
        found = LSOA_SUFFIX.match(name)
        if found is None:
            column = _area_columns(Table(text, file), file)["area_name"]
            raise DataError(
                "area name does not end in an LSOA suffix, so its local authority cannot be read from it",
                file=file,
                line=_line_of(text, file, position),
                key=column,
                got=shown(name),
                expected="a name such as 'Medway 015A' (local authority, three digits, a capital letter)",
                hint="correct the name, or set data.parent_from_name = false and give the table a parent_code column",
            )
        parents.append(found.group(1))
    return tuple(parents)


def _line_of(text: str, file: str, position: int) -> int:
    """The line where the data row at `position` (from 0) of a CSV starts, for an error found after reading in bulk."""
    for index, (line, _) in enumerate(Table(text, file)):
        if index == position:
            return line
    raise IndexError(position)


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

    A `month` column (as `safer-streets import police-uk` writes) also gives the monthly history. Read in bulk where every
    value is plain; otherwise row by row, which names the file, line and column of the first problem.
    """
    fast = _parse_counts_in_bulk(text, file, codes, source)
    if fast is not None:
        return fast
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


def _parse_counts_in_bulk(text: str, file: str, codes: tuple[str, ...], source: DataSource) -> _Counts | None:
    """`_parse_counts` for a counts file without a month column whose values are all plain, else None."""
    table = Table(text, file)
    columns = columns_of(table.header, COUNT_COLUMNS, COUNT_OPTIONAL, file)
    has_period = "period_start" in columns and "period_end" in columns
    if "month" in columns or ("period_start" in columns) != ("period_end" in columns):
        return None
    extra = ["period_start", "period_end"] if has_period else []
    extra += ["source"] if "source" in columns else []
    values = table.columns([columns[name] for name in ("area_code", "crime_type", "count", *extra)])
    if values is None:
        return None
    cells = dict(zip(("area_code", "crime_type", "count", *extra), values))
    rows_read = len(cells["count"])
    if has_period:
        wanted = f"{source.period_start}..{source.period_end}"
        in_period = [f"{start.strip()}..{end.strip()}" == wanted for start, end in zip(cells["period_start"], cells["period_end"])]
        cells = {name: list(compress(column, in_period)) for name, column in cells.items()}
    rows_other = rows_read - len(cells["count"])
    found = _plain_cells(cells, {code: a for a, code in enumerate(codes)}, source)
    if found is None:
        return None
    area, crime, count, rows_elsewhere, used = found
    if not area.size or _repeats(area * len(CRIME_TYPES) + crime):
        return None
    counts = np.bincount(area * len(CRIME_TYPES) + crime, weights=count, minlength=len(codes) * len(CRIME_TYPES))
    sources = {value.strip() for value in compress(cells.get("source", ()), used) if value}
    return _Counts(
        counts.reshape(len(codes), len(CRIME_TYPES)), None, rows_read, area.size, rows_other, rows_elsewhere, "; ".join(sorted(sources))
    )


CRIME_POSITION = {crime: c for c, crime in enumerate(CRIME_TYPES)}


def _repeats(keys: np.ndarray) -> bool:
    """Whether any key appears twice (a sort: faster than a hash set at these sizes)."""
    ordered = np.sort(keys)
    return bool((ordered[1:] == ordered[:-1]).any())


def _plain_cells(cells: dict[str, list[str]], area_position: dict[str, int], source: DataSource, unlocated: bool = False):
    """Area, crime type and count of each row as arrays (area -1 for an `unlocated` row where allowed), with the rows for
    other areas counted and dropped, if every value is plain; else None, for the row-by-row reading to judge.

    Each distinct cell is checked and looked up once, then mapped per row: a national file has 270,000 rows but 27,000 codes.
    """
    distinct = {raw: raw.strip() for raw in set(cells["area_code"])}
    if not all(distinct.values()) or CONTROL.search("".join(distinct.values())) or not set(cells["crime_type"]) <= CRIME_POSITION.keys():
        return None
    positions = {**area_position, UNLOCATED: -1} if unlocated else area_position
    position_of = {raw: positions.get(code, -2) for raw, code in distinct.items()}
    area = np.array([position_of[raw] for raw in cells["area_code"]], dtype=np.int64)
    used = area != -2
    rows_elsewhere = int(area.size - used.sum())
    if rows_elsewhere and source.other_areas != "count":
        return None
    kept = used.tolist() if rows_elsewhere else None
    count = _plain_whole_numbers(list(compress(cells["count"], kept)) if kept else cells["count"], 0, MAX_COUNT)
    if count is None:
        return None
    crime = np.array(
        [CRIME_POSITION[crime] for crime in (compress(cells["crime_type"], kept) if kept else cells["crime_type"])], dtype=np.int64
    )
    return area[used], crime, count, rows_elsewhere, kept or [True] * area.size


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
    plain = _plain_history(text, file, codes, source)
    if plain is not None:
        return plain
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
        _first_time(lines, (code, crime_type, month), "area, crime type and month", file, line)
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
    keys = np.array([(area, crime, month_position[month]) for area, crime, month in cells], dtype=np.int64).reshape(-1, 3)
    counts = np.fromiter(cells.values(), dtype=float, count=len(cells))
    return _history_found(text, file, codes, ordered, keys.T, counts, rows_read, rows_elsewhere)


def _plain_history(
    text: str, file: str, codes: tuple[str, ...], source: DataSource
) -> tuple[Labelled, SourceFile, tuple[tuple[str, str], ...]] | None:
    """`_parse_history` for a history whose values are all plain and whose months cover the data period, else None (for
    the row-by-row reading to judge); the same result, read in bulk."""
    table = Table(text, file)
    columns = columns_of(table.header, HISTORY_COLUMNS, {"source": ("source",)}, file)
    values = table.columns([columns[name] for name in ("area_code", "crime_type", "month", "count")])
    if values is None:
        return None
    cells = dict(zip(("area_code", "crime_type", "month", "count"), values))
    rows_read = len(cells["count"])
    months_of = {raw: raw.strip() for raw in set(cells["month"])}
    if not all(MONTH_PATTERN.fullmatch(month) for month in months_of.values()):
        return None
    found = _plain_cells(cells, {code: a for a, code in enumerate(codes)}, source)
    if found is None:
        return None
    area, crime, count, rows_elsewhere, used = found
    ordered = tuple(sorted({months_of[raw] for raw in compress(cells["month"], used)}))
    month_position = {month: m for m, month in enumerate(ordered)}
    if not ordered or not set(month_range(source.period_start, source.period_end)) <= month_position.keys():
        return None
    position_of = {raw: month_position[month] for raw, month in months_of.items() if month in month_position}
    month = np.array([position_of[raw] for raw in compress(cells["month"], used)], dtype=np.int64)
    if _repeats((area * len(CRIME_TYPES) + crime) * len(ordered) + month):
        return None
    return _history_found(text, file, codes, ordered, (area, crime, month), count, rows_read, rows_elsewhere)


def _history_found(
    text: str,
    file: str,
    codes: tuple[str, ...],
    months: tuple[str, ...],
    cells: tuple[np.ndarray, np.ndarray, np.ndarray],
    counts: np.ndarray,
    rows_read: int,
    rows_elsewhere: int,
) -> tuple[Labelled, SourceFile, tuple[tuple[str, str], ...]]:
    """The history read either way: the records at each (area, crime type, month) position of `cells`, the file's row
    counts, and the months an area with rows has none of (its gaps, by area then month)."""
    area, crime, month = cells
    history = np.zeros((len(codes), len(CRIME_TYPES), len(months)))
    history[area, crime, month] = counts
    seen = np.zeros((len(codes), len(months)), dtype=bool)
    seen[area, month] = True
    gaps = tuple((codes[a], months[m]) for a, m in np.argwhere(seen.any(axis=1)[:, None] & ~seen).tolist())
    return (
        Labelled(history, ("area", "crime_type", "month"), (codes, CRIME_TYPES, months), "records", "records per month"),
        SourceFile("history", file, sha256_text(text), rows_read, rows_read - rows_elsewhere, 0, rows_elsewhere),
        gaps,
    )


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


UNLOCATED = "unlocated"
"""The area code of a national counts row whose records have no area (police.uk rows without an LSOA)."""
FORCE_COLUMNS = {"force": ("force",), "name": ("name", "force_name")}
FORCE_OPTIONAL = {
    "territorial": ("territorial",),
    "status": ("status",),
    "reason": ("reason",),
    "local_authorities": ("local_authorities",),
}
YES_NO = {"yes": True, "no": False}
NOT_COVERED = "Local authorities with almost no records"


@dataclass(frozen=True)
class Force:
    """One police force of a national counts file, from `data.forces`: its name, whether it polices an area of its own,
    and for a force whose records are missing, why and where."""

    code: str
    name: str
    territorial: bool = True
    excluded: bool = False
    reason: str = ""
    local_authorities: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class _ForceRegister:
    forces: dict[str, Force]
    file: str

    def get(self, code: str) -> Force:
        """The force with this code; with no register, a territorial force named by its code."""
        return self.forces.get(code) or Force(code, code)


def _read_forces(source: DataSource) -> tuple[_ForceRegister, tuple[SourceFile, ...]]:
    """The forces table named by `data.forces` (empty: every force named by its code, all territorial)."""
    if not source.forces.strip():
        return _ForceRegister({}, ""), ()
    text, file, sha256 = read_data(source.forces, "data.forces")
    table = Table(text, file)
    columns = columns_of(table.header, FORCE_COLUMNS, FORCE_OPTIONAL, file)
    codes, names = UniqueValues(file, columns["force"], "force"), UniqueValues(file, columns["name"], "force name", fold=_fold_name)
    forces: dict[str, Force] = {}
    for line, row in table:
        code = one_line(row[columns["force"]].strip(), file, line, columns["force"], "force")
        name = one_line(row[columns["name"]].strip(), file, line, columns["name"], "force name")
        if not code or not name:
            column = columns["force"] if not code else columns["name"]
            raise DataError(
                "row has no " + ("force" if not code else "force name"),
                file=file,
                line=line,
                key=column,
                hint="fill it in, or delete the row",
            )
        codes.add(code, line, "give each force one row")
        names.add(name, line, "give each force its own name")
        territorial = _choice(row, columns.get("territorial"), YES_NO, "yes", file, line)
        excluded = _choice(row, columns.get("status"), {"included": False, "excluded": True}, "included", file, line)
        reason = one_line(_cell(row, columns.get("reason")).strip(), file, line, columns.get("reason", ""), "reason")
        authorities = tuple(part.strip() for part in _cell(row, columns.get("local_authorities")).split(";") if part.strip())
        if excluded and not reason:
            raise DataError(
                "names an excluded force without a reason",
                file=file,
                line=line,
                key=columns.get("reason", "reason"),
                got=code,
                hint="say why its records are missing: the report shows it beside the areas left out",
            )
        if authorities and not excluded:
            raise DataError(
                "lists local authorities for a force that is included",
                file=file,
                line=line,
                key=columns["local_authorities"],
                got=code,
                hint="only an excluded force's local authorities are listed, to be left out; empty the cell or set status to excluded",
            )
        forces[code] = Force(code, name, territorial, excluded, reason, authorities, line)
    return _ForceRegister(forces, file), (SourceFile("forces", file, sha256, len(forces), len(forces)),)


def _choice(row: dict[str, str], column: str | None, choices: dict[str, bool], default: str, file: str, line: int) -> bool:
    """A yes/no-like cell of the forces table (empty: `default`)."""
    value = (_cell(row, column).strip() or default).lower()
    if value not in choices:
        raise DataError(
            "is not one of the allowed values",
            file=file,
            line=line,
            key=column,
            got=shown(value),
            expected=" or ".join(choices),
        )
    return choices[value]


@dataclass(frozen=True)
class _ForceRows:
    """A national counts file summed: records per area and crime type, per area and force, and per force without an area."""

    counts: np.ndarray
    by_force: np.ndarray
    force_codes: tuple[str, ...]
    rows_by_area: np.ndarray
    unlocated_rows: np.ndarray
    unlocated_records: np.ndarray
    rows_by_force: np.ndarray
    rows_read: int
    rows_other_period: int
    rows_other_areas: int
    source: str


def _force_rows(text: str, file: str, codes: tuple[str, ...], source: DataSource, register: _ForceRegister) -> _ForceRows:
    """Rows of area (or `unlocated`), force, crime type and count, summed; each (area, force, crime type) at most once.

    Read in bulk where every value is plain; otherwise row by row, which names the file, line and column of the first problem.
    """
    table = Table(text, file)
    columns = columns_of(table.header, {**COUNT_COLUMNS, "force": ("force",)}, {**COUNT_OPTIONAL, "lsoa_name": ("lsoa_name",)}, file)
    if "month" in columns or ("period_start" in columns) != ("period_end" in columns):
        raise DataError(
            "has a force column with " + ("a month column" if "month" in columns else "only one of period_start and period_end"),
            file=file,
            line=1,
            key="month" if "month" in columns else "period_start",
            hint="give one row per area, force and crime type over the data period (sum the months; a period needs both columns)",
        )
    area_position = {code: a for a, code in enumerate(codes)}
    found = _force_cells_in_bulk(table, columns, area_position, source, register)
    if found is None:
        found = _force_cells_by_row(text, file, columns, area_position, source, register)
    area, forces, crime, count, rows_read, rows_other, rows_elsewhere, sources = found
    if not area.size:
        raise DataError(
            "has no rows for the scenario's data period" if rows_read else "has a header but no rows",
            file=file,
            key="data.period_start" if rows_read else "data.crime_counts",
            got=f"{source.period_start}..{source.period_end}" if rows_read else None,
        )
    force_codes, force = forces
    areas_count, types_count, forces_count = len(codes), len(CRIME_TYPES), len(force_codes)
    located = area >= 0
    at, of, by, records = area[located], crime[located], force[located], count[located]
    unplaced = ~located
    return _ForceRows(
        counts=np.bincount(at * types_count + of, weights=records, minlength=areas_count * types_count).reshape(areas_count, types_count),
        by_force=np.bincount(at * forces_count + by, weights=records, minlength=areas_count * forces_count).reshape(
            areas_count, forces_count
        ),
        force_codes=force_codes,
        rows_by_area=np.bincount(at, minlength=areas_count),
        unlocated_rows=np.bincount(force[unplaced], minlength=forces_count),
        unlocated_records=np.bincount(force[unplaced], weights=count[unplaced], minlength=forces_count),
        rows_by_force=np.bincount(force, minlength=forces_count),
        rows_read=rows_read,
        rows_other_period=rows_other,
        rows_other_areas=rows_elsewhere,
        source="; ".join(sorted(sources)),
    )


def _force_cells_in_bulk(
    table: Table, columns: dict[str, str], area_position: dict[str, int], source: DataSource, register: _ForceRegister
):
    """The rows as arrays if every value is plain and no (area, force, crime type) repeats, else None."""
    extra = [name for name in ("period_start", "period_end", "source") if name in columns]
    names = ("area_code", "force", "crime_type", "count", *extra)
    values = table.columns([columns[name] for name in names])
    if values is None:
        return None
    cells = dict(zip(names, values))
    rows_read = len(cells["count"])
    if "period_start" in cells:
        wanted = f"{source.period_start}..{source.period_end}"
        in_period = [f"{start.strip()}..{end.strip()}" == wanted for start, end in zip(cells["period_start"], cells["period_end"])]
        cells = {name: list(compress(column, in_period)) for name, column in cells.items()}
    found = _plain_cells(cells, area_position, source, unlocated=True)
    if found is None:
        return None
    area, crime, count, rows_elsewhere, used = found
    stripped = {raw: raw.strip() for raw in set(cells["force"])}
    known = set(stripped.values())
    if "" in known or CONTROL.search("".join(known)) or (register.forces and not known <= register.forces.keys()):
        return None
    force_position = {code: f for f, code in enumerate(sorted(known))}
    position_of = {raw: force_position[code] for raw, code in stripped.items()}
    force = np.array([position_of[raw] for raw in compress(cells["force"], used)], dtype=np.int64)
    key = ((area + 1) * len(known) + force) * len(CRIME_TYPES) + crime
    if _repeats(key):
        return None
    forces = tuple(sorted(known))
    sources = {value.strip() for value in compress(cells.get("source", ()), used) if value}
    return area, (forces, force), crime, count, rows_read, rows_read - len(cells["count"]), rows_elsewhere, sources


def _force_cells_by_row(
    text: str, file: str, columns: dict[str, str], area_position: dict[str, int], source: DataSource, register: _ForceRegister
):
    """The rows read one by one, each value checked: the first problem raises a DataError naming its line and column."""
    areas, forces, crimes, counts, sources = [], [], [], [], set()
    lines: dict[tuple[str, str, str], int] = {}
    rows_read = rows_other = rows_elsewhere = 0
    wanted = f"{source.period_start}..{source.period_end}"
    for line, row in Table(text, file):
        rows_read += 1
        if "period_start" in columns and f"{row[columns['period_start']].strip()}..{row[columns['period_end']].strip()}" != wanted:
            rows_other += 1
            continue
        code = area_code(row, columns["area_code"], file, line)
        force = one_line(row[columns["force"]].strip(), file, line, columns["force"], "force")
        if not force:
            raise DataError("row has no force", file=file, line=line, key=columns["force"], hint="fill in the force that recorded the row")
        if register.forces and force not in register.forces:
            close = difflib.get_close_matches(force, list(register.forces), n=1)
            raise DataError(
                "names a force that is not in the forces table",
                file=file,
                line=line,
                key=columns["force"],
                got=shown(force),
                expected=f"a force of {register.file}",
                hint=f"did you mean '{close[0]}'?" if close else "add the force to the table named by data.forces",
            )
        crime_type = _crime_type(row, columns["crime_type"], file, line)
        if code != UNLOCATED and code not in area_position:
            _check_other_area(source, file, line, columns["area_code"], code)
            rows_elsewhere += 1
            continue
        _first_time(lines, (code, force, crime_type), "area, force and crime type", file, line)
        count = whole_number(
            row[columns["count"]],
            file,
            line,
            columns["count"],
            0,
            MAX_COUNT,
            "a count is the records of one crime type in one area by one force over the period; check for a shifted column",
        )
        areas.append(-1 if code == UNLOCATED else area_position[code])
        forces.append(force)
        crimes.append(CRIME_POSITION[crime_type])
        counts.append(count)
        if "source" in columns and row[columns["source"]]:
            sources.add(row[columns["source"]].strip())
    force_codes = tuple(sorted(set(forces)))
    force_position = {code: f for f, code in enumerate(force_codes)}
    return (
        np.array(areas, dtype=np.int64),
        (force_codes, np.array([force_position[code] for code in forces], dtype=np.int64)),
        np.array(crimes, dtype=np.int64),
        np.array(counts, dtype=float),
        rows_read,
        rows_other,
        rows_elsewhere,
        sources,
    )


@dataclass(frozen=True)
class _Placed:
    kept: list[bool]
    forces: tuple[str, ...]
    left_out: tuple[LeftOut, ...]
    unlocated: tuple[Unlocated, ...]
    rows_used: int
    rows_left_out: int
    rows_unlocated: int


def _place_forces(
    rows: _ForceRows,
    codes: tuple[str, ...],
    parents: tuple[str, ...],
    population: list[float],
    source: DataSource,
    register: _ForceRegister,
) -> _Placed:
    """Each area's force, and the areas left out because no force in the data polices them.

    An area's force is the territorial force with the most records in it (ties to the first by name); an area without
    territorial records takes its parent's (its local authority's) force. A non-territorial force (British Transport
    Police) is never an area's force, but its records count in the area, where the crime happened. Left out, by group:
    the local authorities `data.forces` lists for each excluded force, then any other parent whose areas hold fewer
    territorial records a year per 1,000 residents than `data.coverage_floor_per_1000` (its zeros are missing data).
    """
    forces = [register.get(code) for code in rows.force_codes]
    for force, count in zip(forces, rows.rows_by_force):
        if force.excluded:
            raise DataError(
                f"says the records of {plain(force.name)} are missing, but the counts hold {count:,} of its rows",
                file=register.file,
                line=force.line,
                key="status",
                got="excluded",
                hint="set its status to included (and empty its local_authorities), or name counts without its rows",
            )
    order = sorted((f for f, force in enumerate(forces) if force.territorial), key=lambda f: (forces[f].name, forces[f].code))
    territorial = rows.by_force[:, order] if order else np.zeros((len(codes), 1))
    parent_codes, parent_of = np.unique(np.array(parents), return_inverse=True)
    parent_records = np.zeros((len(parent_codes), territorial.shape[1]))
    np.add.at(parent_records, parent_of, territorial)
    parent_population = np.bincount(parent_of, weights=np.asarray(population, dtype=float), minlength=len(parent_codes))
    yearly = parent_records.sum(axis=1) * 12 / months_between(source.period_start, source.period_end)
    sparse = (yearly * 1000 < source.coverage_floor_per_1000 * parent_population) | (yearly == 0)
    group, groups = _left_out_groups(parent_codes, parent_of, sparse, source, register)
    kept = group < 0
    if not kept.any():
        raise DataError(
            "leaves no area in the model: every area is in a local authority no force in the data covers",
            key="data.coverage_floor_per_1000",
            got=source.coverage_floor_per_1000,
            hint="lower data.coverage_floor_per_1000, or check that the counts and the area table are of the same areas",
        )
    own = territorial.argmax(axis=1)
    has_own = territorial.max(axis=1) > 0
    chosen = np.where(has_own, own, parent_records.argmax(axis=1)[parent_of])
    names_in_order = [forces[f].name for f in order]
    area_forces = tuple(names_in_order[chosen[a]] for a in np.flatnonzero(kept))
    records = rows.counts.sum(axis=1)
    left_out = []
    for g, (name, reason) in enumerate(groups):
        members = group == g
        held = float(records[members].sum())
        note = (
            f"; the {held:,.0f} records the counts hold in these areas (neighbouring forces' border records, British Transport Police) are not used"
            if held
            else ""
        )
        left_out.append(LeftOut(name, reason + note, int(members.sum()), float(np.asarray(population)[members].sum()), held))
    unlocated = tuple(
        sorted(
            (
                Unlocated(forces[f].name, int(rows.unlocated_rows[f]), float(rows.unlocated_records[f]))
                for f in range(len(forces))
                if rows.unlocated_rows[f]
            ),
            key=lambda item: item.force,
        )
    )
    rows_kept = int(rows.rows_by_area[kept].sum())
    return _Placed(
        kept=kept.tolist(),
        forces=area_forces,
        left_out=tuple(left_out),
        unlocated=unlocated,
        rows_used=rows_kept,
        rows_left_out=int(rows.rows_by_area.sum()) - rows_kept,
        rows_unlocated=int(rows.unlocated_rows.sum()),
    )


def _left_out_groups(
    parent_codes: np.ndarray, parent_of: np.ndarray, sparse: np.ndarray, source: DataSource, register: _ForceRegister
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Each area's group of left-out areas (-1: kept) and each group's name and reason: an excluded force's listed local
    authorities, in order of force name, then the parents below the coverage floor that no excluded force lists."""
    group = np.full(len(parent_of), -1)
    groups: list[tuple[str, str]] = []
    parent_index = {str(code): p for p, code in enumerate(parent_codes)}
    claimed: dict[int, str] = {}
    for force in sorted((force for force in register.forces.values() if force.excluded), key=lambda force: force.name):
        groups.append((force.name, force.reason))
        for authority in force.local_authorities:
            p = parent_index.get(authority)
            if p is None or p in claimed:
                close = difflib.get_close_matches(authority, list(parent_index), n=1)
                raise DataError(
                    "lists a local authority that is not a parent of the area table"
                    if p is None
                    else f"lists a local authority that {plain(claimed[p])} lists too",
                    file=register.file,
                    line=force.line,
                    key="local_authorities",
                    got=shown(authority),
                    hint=(f"did you mean '{close[0]}'?" if close else "spell it as the area table's parents are")
                    if p is None
                    else "list each local authority under one force",
                )
            claimed[p] = force.name
            group[parent_of == p] = len(groups) - 1
    uncovered = sparse & (np.bincount(parent_of, weights=(group >= 0), minlength=len(parent_codes)) == 0)
    if uncovered.any():
        names = [str(parent_codes[p]) for p in np.flatnonzero(uncovered)]
        shown_names = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        groups.append(
            (
                NOT_COVERED,
                f"fewer than {source.coverage_floor_per_1000:g} records a year per 1,000 residents from the forces in the data, "
                f"so no force in the data polices them and their zeros would be missing data, not safety: {shown_names}",
            )
        )
        group[uncovered[parent_of]] = len(groups) - 1
    return group, groups
