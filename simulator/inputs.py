"""The reader of area and crime-count tables: the embedded Kent default or the user's CSVs.

Two tables make the model's input. Areas: one row per area with its code, name, parent (the
force area) and population. Crime counts: one row per area and police.uk crime type with a
count, optionally for several periods (only the scenario's period is used; other periods'
rows are counted in the report, never silently dropped).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from .arrays import Labelled
from .errors import DataError
from .schema import CRIME_TYPES, DataSource

EMBEDDED = "embedded:"
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
AREA_OPTIONAL = {"parent_code": ("parent_code", "pfa_code", "gss_code"), "parent_name": ("parent_name", "district"),
                 "population_source": ("population_source",)}
COUNT_COLUMNS = {
    "area_code": ("area_code", "lsoa21_code", "gss_code"),
    "crime_type": ("crime_type",),
    "count": ("count",),
}
COUNT_OPTIONAL = {"period_start": ("period_start",), "period_end": ("period_end",), "month": ("month",), "source": ("source",)}


@dataclass(frozen=True)
class SourceFile:
    """One file read, with its hash so a run can say exactly what it used."""

    role: str
    path: str
    sha256: str
    rows_read: int
    rows_used: int
    rows_other_period: int = 0
    rows_other_areas: int = 0


@dataclass(frozen=True)
class AreaMap:
    """Where each area sits on a map: hexagon tiles (row, column) or boundary rings, in area order.

    `kind` is "tiles", "boundaries" or "none"; `note` says why there is no map, or what was left out.
    Boundary rings are (x, y) arrays: longitude and latitude, or eastings and northings.
    """

    kind: str = "none"
    tiles: np.ndarray | None = None
    rings: tuple[tuple[np.ndarray, ...], ...] = ()
    projected: bool = False
    source: str = ""
    note: str = "no tile layout or boundaries given (data.tile_layout, data.boundaries)"


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

    @property
    def level_name(self) -> str:
        """What one area is, for labels: 'District' or 'LSOA'."""
        return "LSOA" if self.level == "lsoa" else "District"

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
        raise DataError("the data period ends before it starts", key="data.period_end",
                        got=f"{source.period_start}..{source.period_end}")
    count_text, count_file = _read_text(source.crime_counts, "data.crime_counts")
    if source.areas:
        area_text, area_file = _read_text(source.areas, "data.areas")
        codes, names, parents, parent_names, population, population_source, area_rows = _parse_areas(area_text, area_file)
        population_known = True
    else:
        if source.level != "lsoa":
            raise DataError("an area table with population is needed at district level", key="data.areas", got='""',
                            hint="name a CSV with area_code, area_name, population; only LSOAs can fall back to a nominal population")
        area_text, area_file = "", "(from the crime counts)"
        codes, names, parents, parent_names = _areas_from_counts(count_text, count_file)
        population, area_rows, population_known = [NOMINAL_LSOA_RESIDENTS] * len(codes), len(codes), False
        population_source = NOMINAL_POPULATION_NOTE
    parsed = _parse_counts(count_text, count_file, codes, source)
    area_map, map_files = load_area_map(source, codes)
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
            SourceFile("areas", area_file, _sha256(area_text), area_rows, area_rows),
            SourceFile("crime_counts", count_file, _sha256(count_text), parsed.rows_read, parsed.rows_used, parsed.rows_other_period,
                       parsed.rows_other_areas),
            *map_files,
        ),
        population_source=population_source,
        count_source=parsed.source,
        area_map=area_map,
        parent_names=parent_names,
        monthly=parsed.monthly,
        population_known=population_known,
    )


def _areas_from_counts(text: str, file: str):
    """Areas named by the crime counts themselves (LSOA code, name, district), for a force with no population table."""
    reader = _reader(text, file)
    columns = _columns(list(reader.fieldnames), {"area_code": COUNT_COLUMNS["area_code"]},
                       {"area_name": ("area_name", "lsoa21_name"), "district": ("district", "parent_name")}, file)
    found: dict[str, tuple[str, str]] = {}
    for row in reader:
        code = (row.get(columns["area_code"]) or "").strip()
        if code and code not in found:
            name = (row.get(columns.get("area_name", ""), "") or code).strip()
            found[code] = (name, (row.get(columns.get("district", ""), "") or "force").strip())
    codes = tuple(sorted(found))
    return codes, tuple(found[code][0] for code in codes), tuple(found[code][1] for code in codes), tuple(found[code][1] for code in codes)


def load_area_map(source: DataSource, codes: tuple[str, ...]) -> tuple[AreaMap, tuple[SourceFile, ...]]:
    """The map for these areas: boundaries if given, else the tile layout, else none (with the reason).

    A layout or boundary file that places some areas but not all is an error (a typo is likelier
    than a wish to leave areas off the map); one that places none of them is taken as meant for
    other areas, and the map is left out with a note saying so.
    """
    if source.boundaries:
        text, file = _read_text(source.boundaries, "data.boundaries")
        area_map, features = _parse_boundaries(text, file, codes)
        return area_map, (SourceFile("boundaries", file, _sha256(text), features, len(codes)),)
    if source.tile_layout:
        text, file = _read_text(source.tile_layout, "data.tile_layout")
        area_map, rows = _parse_tiles(text, file, codes)
        return area_map, (SourceFile("tile_layout", file, _sha256(text), rows, len(codes) if area_map.kind == "tiles" else 0),)
    return AreaMap(), ()


def _parse_tiles(text: str, file: str, codes: tuple[str, ...]) -> tuple[AreaMap, int]:
    reader = _reader(text, file)
    columns = _columns(list(reader.fieldnames), {"area_code": AREA_COLUMNS["area_code"], "row": ("row",), "column": ("column", "col")}, {}, file)
    places: dict[str, tuple[int, int]] = {}
    taken: dict[tuple[int, int], str] = {}
    rows = 0
    for row in reader:
        rows += 1
        line = reader.line_num
        code = (row.get(columns["area_code"]) or "").strip()
        place = (int(_number(row.get(columns["row"]), file, line, "row", whole=True)),
                 int(_number(row.get(columns["column"]), file, line, "column", whole=True)))
        if code in places:
            raise DataError("area code appears twice", file=file, line=line, key=columns["area_code"], got=code)
        if place in taken:
            raise DataError("two areas share a tile", file=file, line=line, got=f"{code} and {taken[place]} at row {place[0]}, column {place[1]}",
                            hint="give each area its own row and column")
        places[code] = place
        taken[place] = code
    placed = [code for code in codes if code in places]
    if not placed:
        return AreaMap(source=file, note=f"the tile layout {file} places none of these areas; set data.tile_layout to a layout for them"), rows
    missing = [code for code in codes if code not in places]
    if missing:
        raise DataError(f"places {len(placed)} of {len(codes)} areas", file=file, key="data.tile_layout", got=f"no tile for {', '.join(missing[:3])}"
                        + (f" and {len(missing) - 3} more" if len(missing) > 3 else ""), hint="add a row for each area, or set data.tile_layout = \"\"")
    return AreaMap("tiles", tiles=np.array([places[code] for code in codes], dtype=float), source=file, note=""), rows


def _parse_boundaries(text: str, file: str, codes: tuple[str, ...]) -> tuple[AreaMap, int]:
    try:
        collection = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"is not valid GeoJSON: {error.msg}", file=file, line=error.lineno, key="data.boundaries") from None
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list) or not features:
        raise DataError("is not a GeoJSON FeatureCollection with features", file=file, key="data.boundaries",
                        hint="export the boundaries as GeoJSON, e.g. from the ONS Open Geography Portal")
    wanted = set(codes)
    best_key, best = None, 0
    for key in {key for feature in features[:50] for key in (feature.get("properties") or {})}:
        found = sum(1 for feature in features if str((feature.get("properties") or {}).get(key, "")).strip() in wanted)
        if found > best or (found == best and best_key is not None and key < best_key):
            best_key, best = key, found
    if best_key is None or best == 0:
        raise DataError("has no property holding these areas' codes", file=file, key="data.boundaries",
                        got=f"e.g. no feature for {codes[0]}", hint="use boundaries for the same areas and year as the area table")
    shapes: dict[str, tuple[np.ndarray, ...]] = {}
    for number, feature in enumerate(features, start=1):
        code = str((feature.get("properties") or {}).get(best_key, "")).strip()
        if code not in wanted:
            continue
        geometry = feature.get("geometry") or {}
        polygons = {"Polygon": [geometry.get("coordinates")], "MultiPolygon": geometry.get("coordinates")}.get(geometry.get("type"))
        if not polygons or not all(isinstance(polygon, list) and polygon for polygon in polygons):
            raise DataError("feature has no polygon geometry", file=file, key=f"features[{number - 1}]", got=f"{code}: {geometry.get('type')}",
                            expected="Polygon or MultiPolygon")
        try:
            rings = tuple(np.asarray(polygon[0], dtype=float)[:, :2] for polygon in polygons)
        except (ValueError, IndexError, TypeError):
            raise DataError("feature has malformed coordinates", file=file, key=f"features[{number - 1}]", got=code) from None
        shapes[code] = shapes.get(code, ()) + rings
    missing = [code for code in codes if code not in shapes]
    if missing:
        raise DataError(f"has boundaries for {len(shapes)} of {len(codes)} areas", file=file, key=f"data.boundaries ({best_key})",
                        got=f"none for {', '.join(missing[:3])}" + (f" and {len(missing) - 3} more" if len(missing) > 3 else ""),
                        hint="use boundaries for the same areas and year as the area table")
    extent = max(float(np.abs(ring).max()) for rings in shapes.values() for ring in rings)
    ignored = len(features) - sum(1 for feature in features if str((feature.get("properties") or {}).get(best_key, "")).strip() in wanted)
    note = f"{ignored} features for other areas ignored" if ignored else ""
    return AreaMap("boundaries", rings=tuple(shapes[code] for code in codes), projected=extent > 360, source=file, note=note), len(features)


def _read_text(location: str, key: str) -> tuple[str, str]:
    if location.startswith(EMBEDDED):
        name = location[len(EMBEDDED):]
        resource = resources.files("simulator") / "data" / name
        if not resource.is_file():
            shipped = sorted(item.name for item in (resources.files("simulator") / "data").iterdir() if item.name.endswith(".csv"))
            raise DataError("names no embedded data file", key=key, got=name, expected=", ".join(shipped))
        return resource.read_text(encoding="utf-8"), location
    path = Path(location)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError("data file not found", file=str(path), key=key, hint="check the path; relative paths are relative to the scenario file") from None
    except IsADirectoryError:
        raise DataError("is a folder, not a CSV file", file=str(path), key=key) from None
    try:
        return raw.decode("utf-8-sig"), str(path)
    except UnicodeDecodeError:
        raise DataError("is not UTF-8 text", file=str(path), key=key, hint="save the CSV as UTF-8") from None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _columns(header: list[str], wanted: dict, optional: dict, file: str) -> dict[str, str]:
    found = {}
    for name, aliases in {**wanted, **optional}.items():
        match = next((alias for alias in aliases if alias in header), None)
        if match:
            found[name] = match
        elif name in wanted:
            raise DataError(f"has no {name} column", file=file, line=1, got=", ".join(header[:8]),
                            expected=" or ".join(aliases), hint="rename the column or check this is the right file")
    return found


def _reader(text: str, file: str) -> csv.DictReader:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise DataError("is empty", file=file, hint="the file needs a header row and data rows")
    return reader


def _parse_areas(text: str, file: str):
    reader = _reader(text, file)
    columns = _columns(list(reader.fieldnames), AREA_COLUMNS, AREA_OPTIONAL, file)
    codes, names, parents, parent_names, population, sources = [], [], [], [], [], set()
    if columns.get("parent_name") == columns["area_name"]:
        del columns["parent_name"]
    if columns.get("parent_code") == columns["area_code"]:
        del columns["parent_code"]
    for row in reader:
        line = reader.line_num
        code = (row.get(columns["area_code"]) or "").strip()
        if not code:
            raise DataError("row has no area code", file=file, line=line, key=columns["area_code"])
        if code in codes:
            raise DataError("area code appears twice", file=file, line=line, key=columns["area_code"], got=code)
        people = _number(row.get(columns["population"]), file, line, columns["population"], whole=True)
        if people <= 0:
            raise DataError("population must be positive", file=file, line=line, key=columns["population"], got=people)
        codes.append(code)
        names.append((row.get(columns["area_name"]) or code).strip())
        parents.append((row.get(columns.get("parent_code", ""), "") or "force").strip())
        parent_names.append((row.get(columns.get("parent_name", ""), "") or parents[-1]).strip())
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
    reader = _reader(text, file)
    columns = _columns(list(reader.fieldnames), COUNT_COLUMNS, COUNT_OPTIONAL, file)
    has_period = "period_start" in columns and "period_end" in columns
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
    for row in reader:
        rows_read += 1
        line = reader.line_num
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
        code = (row.get(columns["area_code"]) or "").strip()
        if code not in area_position:
            if source.other_areas == "count":
                rows_elsewhere += 1
                continue
            raise DataError("names an area that is not in the area table", file=file, line=line,
                            key=columns["area_code"], got=code,
                            hint="add the area to the area table, remove the row, or set data.other_areas = \"count\" to count such rows and leave them out")
        crime_type = (row.get(columns["crime_type"]) or "").strip()
        if crime_type not in crime_position:
            raise DataError("unknown crime type", file=file, line=line, key="crime_type", got=crime_type,
                            expected="one of the 14 police.uk categories, e.g. 'Violence and sexual offences'")
        if (code, crime_type, month) in seen:
            raise DataError("area and crime type appear twice in the period" + (" and month" if month else ""), file=file, line=line,
                            got=f"{code}, {crime_type}" + (f", {month}" if month else ""), hint="sum the rows or remove the duplicate")
        seen.add((code, crime_type, month))
        count = _number(row.get(columns["count"]), file, line, "count", whole=True)
        if count < 0:
            raise DataError("count must not be negative", file=file, line=line, key="count", got=count)
        monthly[area_position[code], crime_position[crime_type], month_position.get(month, 0)] = count
        if "source" in columns and row.get(columns["source"]):
            sources.add(row[columns["source"]].strip())
        rows_used += 1
    if rows_used == 0:
        available = ", ".join(sorted(periods)) or "none"
        raise DataError("has no rows for the scenario's data period", file=file, key="data.period_start",
                        got=f"{source.period_start}..{source.period_end}", expected=f"a period in the file: {available}")
    if has_month:
        missing = [month for month in months if month not in periods]
        if missing:
            raise DataError("has no rows for some months of the data period", file=file, key="data.period_start",
                            got=", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else ""),
                            hint="import those months, or shorten the period (data.period_start, data.period_end)")
        history = Labelled(monthly, ("area", "crime_type", "month"), (codes, CRIME_TYPES, months), "records", "records per month")
    else:
        history = None
    source_text = "; ".join(sorted(sources)) or ("data.police.uk street-level crime files (Open Government Licence v3.0), "
                                                 "imported with safer-streets import police-uk" if has_month else "")
    return _Counts(monthly.sum(axis=2), history, rows_read, rows_used, rows_other, rows_elsewhere, source_text)


def month_range(start: str, end: str) -> tuple[str, ...]:
    """Every month from `start` to `end` inclusive, as YYYY-MM."""
    year, month = map(int, start.split("-"))
    months = []
    for _ in range(months_between(start, end)):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def _number(text: str | None, file: str, line: int, column: str, whole: bool = False) -> float:
    raw = (text or "").strip().replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        raise DataError("is not a number", file=file, line=line, key=column, got=text,
                        hint="write plain digits without £, % or spaces") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DataError("is not a finite number", file=file, line=line, key=column, got=text)
    if whole and value != int(value):
        raise DataError("must be a whole number", file=file, line=line, key=column, got=text)
    return value
