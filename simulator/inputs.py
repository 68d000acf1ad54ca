"""The reader of area and crime-count tables: the embedded Kent default or the user's CSVs.

Two tables make the model's input. Areas: one row per area with its code, name, parent (the
force area) and population. Crime counts: one row per area and police.uk crime type with a
count, optionally for several periods (only the scenario's period is used; other periods'
rows are counted in the report, never silently dropped).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
import math
from collections.abc import Iterator
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

# Bounds that catch typos, pasted IDs and unit slips before they reach the model. A count is the
# records of one crime type in one area over the period: the largest force (the Metropolitan
# Police) records about a million crimes a year of all types together, so 10 million in one row
# is no real count. Census 2021 counted 8.8 million residents in London, the largest force area,
# so no area in England and Wales comes near 20 million. Tile rows and columns place areas on a
# hexagon grid the size of a page: a hexagon map of every local authority district fits in about
# 25 × 25, and the chart grows with the grid (drawing a 50 × 50 grid already takes 800 MB).
MAX_COUNT = 10_000_000
MAX_POPULATION = 20_000_000
MAX_TILE = 49
# Boundary coordinates are degrees (longitude, latitude) or metres of a projected grid; British
# National Grid and Web Mercator put Great Britain well within 10,000 km of their origins.
MAX_COORDINATE = 10_000_000
SHOWN = 60  # characters of a bad value quoted in an error, so the message stays one readable line


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
    table = _Table(text, file)
    columns = _columns(table.header, {"area_code": COUNT_COLUMNS["area_code"]},
                       {"area_name": ("area_name", "lsoa21_name"), "district": ("district", "parent_name")}, file)
    found: dict[str, tuple[str, str]] = {}
    names = _UniqueNames(file, columns.get("area_name", columns["area_code"]))
    for line, row in table:
        code = _code(row, columns["area_code"], file, line)
        if code not in found:
            name = (row.get(columns.get("area_name", ""), "") or code).strip()
            names.add(name, code, line)
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
    table = _Table(text, file)
    columns = _columns(table.header, {"area_code": AREA_COLUMNS["area_code"], "row": ("row",), "column": ("column", "col")}, {}, file)
    places: dict[str, tuple[int, int]] = {}
    taken: dict[tuple[int, int], str] = {}
    code_lines: dict[str, int] = {}
    rows = 0
    for line, row in table:
        rows += 1
        code = _code(row, columns["area_code"], file, line)
        place = tuple(int(_whole(row[columns[axis]], file, line, columns[axis], 0, MAX_TILE,
                                 "tile rows and columns count hexagons from 0 at the top left")) for axis in ("row", "column"))
        if code in places:
            raise DataError(f"area code appears twice, on lines {code_lines[code]} and {line}", file=file, line=line,
                            key=columns["area_code"], got=_shown(code), hint="give each area one row")
        if place in taken:
            raise DataError("two areas share a tile", file=file, line=line, got=f"{code} and {taken[place]} at row {place[0]}, column {place[1]}",
                            hint="give each area its own row and column")
        places[code] = place
        taken[place] = code
        code_lines[code] = line
    if not rows:
        raise DataError("has a header but no rows", file=file, line=2, key="data.tile_layout",
                        hint="add a row (area code, row, column) for each area, or set data.tile_layout = \"\"")
    placed = [code for code in codes if code in places]
    if not placed:
        return AreaMap(source=file, note=f"the tile layout {file} places none of these areas; set data.tile_layout to a layout for them"), rows
    missing = [code for code in codes if code not in places]
    if missing:
        raise DataError(f"places {len(placed)} of {len(codes)} areas", file=file, key="data.tile_layout", got=f"no tile for {', '.join(missing[:3])}"
                        + (f" and {len(missing) - 3} more" if len(missing) > 3 else ""), hint="add a row for each area, or set data.tile_layout = \"\"")
    return AreaMap("tiles", tiles=np.array([places[code] for code in codes], dtype=float), source=file, note=""), rows


def _parse_boundaries(text: str, file: str, codes: tuple[str, ...]) -> tuple[AreaMap, int]:
    if not text.strip():
        raise DataError("is empty", file=file, key="data.boundaries", hint="export the boundaries again as GeoJSON")
    try:
        collection = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"is not valid GeoJSON: {error.msg}", file=file, line=error.lineno, key="data.boundaries",
                        hint=f"column {error.colno}; export the boundaries again as GeoJSON") from None
    except RecursionError:
        raise DataError("is not valid GeoJSON: it is nested deeper than any GeoJSON", file=file, key="data.boundaries",
                        hint="export the boundaries again as GeoJSON") from None
    except ValueError as error:  # e.g. an integer too long to convert
        raise DataError("is not valid GeoJSON", file=file, key="data.boundaries", got=_shown(str(error)),
                        hint="export the boundaries again as GeoJSON") from None
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list) or not features:
        raise DataError("is not a GeoJSON FeatureCollection with features", file=file, key="data.boundaries",
                        got=_shown(f"a JSON {type(collection).__name__}" if not isinstance(collection, dict) else "no 'features' list"),
                        expected='{"type": "FeatureCollection", "features": [...]}',
                        hint="export the boundaries as GeoJSON, e.g. from the ONS Open Geography Portal")
    for number, feature in enumerate(features):
        if not isinstance(feature, dict):
            raise DataError("is not a GeoJSON Feature", file=file, key=f"features[{number}]", got=_shown(json.dumps(feature)),
                            expected='{"type": "Feature", "properties": {...}, "geometry": {...}}')
        if not isinstance(feature.get("properties") or {}, dict):
            raise DataError("feature's properties are not a JSON object", file=file, key=f"features[{number}].properties",
                            got=_shown(json.dumps(feature["properties"])), expected='an object such as {"LAD24CD": "E07000105"}')
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
        geometry = feature.get("geometry")
        geometry = geometry if isinstance(geometry, dict) else {"type": type(geometry).__name__ if geometry is not None else None}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise DataError("feature has no polygon geometry", file=file, key=f"features[{number - 1}]",
                            got=_shown(f"{code}: {geometry.get('type')}"), expected="Polygon or MultiPolygon")
        coordinates = geometry.get("coordinates")
        polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
        if not isinstance(polygons, list) or not polygons or not all(isinstance(polygon, list) and polygon for polygon in polygons):
            polygons = [None]
        rings = tuple(_ring(polygon and polygon[0], file, f"features[{number - 1}]", code) for polygon in polygons)
        shapes[code] = shapes.get(code, ()) + rings
    missing = [code for code in codes if code not in shapes]
    if missing:
        raise DataError(f"has boundaries for {len(shapes)} of {len(codes)} areas", file=file, key=f"data.boundaries ({_plain(best_key)})",
                        got=f"none for {', '.join(missing[:3])}" + (f" and {len(missing) - 3} more" if len(missing) > 3 else ""),
                        hint="use boundaries for the same areas and year as the area table")
    extent = max(float(np.abs(ring).max()) for rings in shapes.values() for ring in rings)
    bare = sum(1 for feature in features if not feature.get("properties"))
    ignored = len(features) - bare - sum(1 for feature in features if str((feature.get("properties") or {}).get(best_key, "")).strip() in wanted)
    note = "; ".join(part for part in (_plural(ignored, "feature") + " for other areas ignored" if ignored else "",
                                       _plural(bare, "feature") + " with no properties ignored" if bare else "") if part)
    return AreaMap("boundaries", rings=tuple(shapes[code] for code in codes), projected=extent > 360, source=file, note=note), len(features)


def _ring(coordinates, file: str, key: str, code: str) -> np.ndarray:
    """A polygon's outer ring as an (n, 2) array of finite x, y, or a DataError saying what is wrong with it."""
    try:
        ring = np.asarray(coordinates, dtype=float)
    except (ValueError, TypeError):
        ring = np.zeros((0, 0))
    if ring.ndim != 2 or ring.shape[0] < 3 or ring.shape[1] < 2 or not np.isfinite(ring[:, :2]).all():
        raise DataError("feature has malformed coordinates", file=file, key=key, got=_shown(f"{code}: {json.dumps(coordinates)}"),
                        expected="a ring of at least 3 [x, y] positions, each a finite number",
                        hint="export the boundaries again as GeoJSON")
    if np.abs(ring[:, :2]).max() > MAX_COORDINATE:
        raise DataError("feature has coordinates out of range", file=file, key=key, got=_shown(f"{code}: {json.dumps(coordinates)}"),
                        expected=f"longitude and latitude in degrees, or metres within {MAX_COORDINATE:,} of the grid's origin",
                        hint="export the boundaries again as GeoJSON, in WGS84 or British National Grid")
    return ring[:, :2]


def _read_text(location: str, key: str) -> tuple[str, str]:
    if not location.strip():
        raise DataError("names no file", key=key, got=location, expected="the path of a CSV file, or embedded:<name>")
    if location.startswith(EMBEDDED):
        name = location[len(EMBEDDED):]
        resource = resources.files("simulator") / "data" / name
        if "/" in name or "\\" in name or not resource.is_file():
            shipped = sorted(item.name for item in (resources.files("simulator") / "data").iterdir() if item.name.endswith(".csv"))
            raise DataError("names no embedded data file", key=key, got=name, expected=", ".join(shipped))
        return resource.read_text(encoding="utf-8"), location
    path = Path(location)
    kind = "GeoJSON" if key == "data.boundaries" else "CSV"
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise DataError("data file not found", file=str(path), key=key, hint="check the path; relative paths are relative to the scenario file") from None
    except IsADirectoryError:
        raise DataError(f"is a folder, not a {kind} file", file=str(path), key=key, hint=f"name the {kind} file inside it") from None
    except OSError as error:
        raise DataError("cannot be read", file=str(path), key=key, got=error.strerror or type(error).__name__,
                        hint="check the file's permissions, or copy it somewhere readable") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _position(raw, error.start)
        raise DataError("is not UTF-8 text", file=str(path), line=line, key=key, got=f"byte 0x{raw[error.start]:02x} at column {column}",
                        hint=f"save the {kind} as UTF-8 (in Excel: Save As, CSV UTF-8)" if kind == "CSV" else "save it as UTF-8") from None
    if "\x00" in text:
        line, column = _position(raw, raw.index(b"\x00"))
        raise DataError("holds NUL bytes, so it is a binary file, not text", file=str(path), line=line, key=key, got=f"NUL at column {column}",
                        hint=f"name a {kind} file (a spreadsheet must be saved as CSV first)" if kind == "CSV" else "name a GeoJSON file")
    return text, str(path)


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """Line and column (both from 1, the column in characters) of a byte offset."""
    start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[start:offset].decode("utf-8-sig", errors="replace")) + 1


def _shown(value: object) -> str:
    """A value for an error's `got` (which quotes it, escaping line breaks): at most SHOWN characters."""
    text = str(value)
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


def _plain(value: object) -> str:
    """A value from a file for the unquoted parts of an error: line breaks and other control characters escaped, at most SHOWN characters."""
    return _shown("".join(char if char.isprintable() else repr(char)[1:-1] for char in str(value)))


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _columns(header: list[str], wanted: dict, optional: dict, file: str) -> dict[str, str]:
    found = {}
    for name, aliases in {**wanted, **optional}.items():
        match = next((alias for alias in aliases if alias in header), None)
        if match:
            positions = [str(i + 1) for i, column in enumerate(header) if column == match]
            if len(positions) > 1:
                raise DataError("the header names a column twice", file=file, line=1, key=match, got=f"columns {' and '.join(positions)}",
                                hint="rename or delete one of them, so it is clear which one to read")
            found[name] = match
        elif name in wanted:
            raise DataError(f"has no {name} column", file=file, line=1, got=_shown(", ".join(header[:8])),
                            expected=" or ".join(aliases), hint="rename the column or check this is the right file")
    return found


class _Table:
    """A CSV file read row by row as (line, {column: value}), every row checked to have the header's number of fields.

    Column names are stripped of spaces. A row that is blank or holds only empty fields (as
    spreadsheets write below a table) carries no data and is passed over; any other row with more
    or fewer fields than the header is an error, since its values could not be placed in columns.
    The line is where the row starts.
    """

    def __init__(self, text: str, file: str):
        self.file = file
        self.reader = csv.reader(io.StringIO(text, newline=""))
        header = self._next()
        while header is not None and not any(field.strip() for field in header):
            header = self._next()
        if header is None:
            raise DataError("is empty", file=file, hint="the file needs a header row and data rows")
        self.header = [name.strip() for name in header]

    def _next(self) -> list[str] | None:
        try:
            return next(self.reader, None)
        except csv.Error as error:
            raise DataError(f"cannot be read as CSV ({error})", file=self.file, line=self.reader.line_num,
                            hint="check for an unclosed quote") from None

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        header, width = self.header, len(self.header)
        end = self.reader.line_num
        while (fields := self._next()) is not None:
            start, end = end + 1, self.reader.line_num
            if len(fields) == width:
                if any(fields):
                    yield start, dict(zip(header, fields))
            elif any(field.strip() for field in fields):
                raise DataError(f"row has {_plural(len(fields), 'field')}, the header has {width}", file=self.file, line=start,
                                key=_plain(header[len(fields)]) if len(fields) < width else None, got=_shown(",".join(fields)),
                                expected=f"{width} fields: {_plain(', '.join(header))}",
                                hint="a quoted value runs across lines: check for a quote that is never closed" if any("\n" in field for field in fields)
                                else "check for a missing or extra comma; quote a value that holds a comma")


class _UniqueNames:
    """Area names seen so far (case and spaces ignored), refusing a second area with the same name."""

    def __init__(self, file: str, column: str):
        self.file, self.column = file, column
        self.lines: dict[str, int] = {}

    def add(self, name: str, code: str, line: int) -> None:
        folded = " ".join(name.split()).casefold()
        if folded in self.lines:
            raise DataError(f"area name appears twice, on lines {self.lines[folded]} and {line}", file=self.file, line=line,
                            key=self.column, got=_shown(name),
                            hint=f"give {_plain(code)} a distinct name; every table, chart and --set names an area by its name")
        self.lines[folded] = line


def _code(row: dict[str, str], column: str, file: str, line: int) -> str:
    code = row[column].strip()
    if not code:
        raise DataError("row has no area code", file=file, line=line, key=column, got=row[column],
                        hint="fill in the area's code (e.g. E07000105), or delete the row")
    return code


def _parse_areas(text: str, file: str):
    table = _Table(text, file)
    columns = _columns(table.header, AREA_COLUMNS, AREA_OPTIONAL, file)
    codes, names, parents, parent_names, population, sources = [], [], [], [], [], set()
    if columns.get("parent_name") == columns["area_name"]:
        del columns["parent_name"]
    if columns.get("parent_code") == columns["area_code"]:
        del columns["parent_code"]
    code_lines: dict[str, int] = {}
    unique_names = _UniqueNames(file, columns["area_name"])
    for line, row in table:
        code = _code(row, columns["area_code"], file, line)
        if code in code_lines:
            raise DataError(f"area code appears twice, on lines {code_lines[code]} and {line}", file=file, line=line,
                            key=columns["area_code"], got=_shown(code), hint="remove or correct one of the rows")
        code_lines[code] = line
        people = _whole(row[columns["population"]], file, line, columns["population"], 1, MAX_POPULATION,
                        "population is usual residents, e.g. 132752 (no area in England and Wales has 20 million)")
        name = (row.get(columns["area_name"]) or code).strip()
        unique_names.add(name, code, line)
        codes.append(code)
        names.append(name)
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
    table = _Table(text, file)
    columns = _columns(table.header, COUNT_COLUMNS, COUNT_OPTIONAL, file)
    has_period = "period_start" in columns and "period_end" in columns
    if ("period_start" in columns) != ("period_end" in columns):
        given, absent = ("period_start", "period_end") if "period_start" in columns else ("period_end", "period_start")
        raise DataError(f"has a {given} column but no {absent} column", file=file, line=1, key=given,
                        hint="a period needs both columns (YYYY-MM); add the other, or delete this one if every row is in the data period")
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
        code = _code(row, columns["area_code"], file, line)
        if code not in area_position:
            if source.other_areas == "count":
                rows_elsewhere += 1
                continue
            raise DataError("names an area that is not in the area table", file=file, line=line,
                            key=columns["area_code"], got=_shown(code),
                            hint="add the area to the area table, remove the row, or set data.other_areas = \"count\" to count such rows and leave them out")
        crime_type = (row.get(columns["crime_type"]) or "").strip()
        if crime_type not in crime_position:
            close = difflib.get_close_matches(crime_type, CRIME_TYPES, n=1, cutoff=0.6)
            raise DataError("unknown crime type", file=file, line=line, key="crime_type", got=_shown(crime_type),
                            expected="one of the 14 police.uk categories, e.g. 'Violence and sexual offences'",
                            hint=f"did you mean '{close[0]}'?" if close else "spell it as police.uk does")
        if (code, crime_type, month) in seen:
            raise DataError("area and crime type appear twice in the period" + (" and month" if month else ""), file=file, line=line,
                            got=f"{code}, {crime_type}" + (f", {month}" if month else ""), hint="sum the rows or remove the duplicate")
        seen.add((code, crime_type, month))
        count = _whole(row[columns["count"]], file, line, columns["count"], 0, MAX_COUNT,
                       "a count is the records of one crime type in one area over the period; check for a shifted column")
        monthly[area_position[code], crime_position[crime_type], month_position.get(month, 0)] = count
        if "source" in columns and row.get(columns["source"]):
            sources.add(row[columns["source"]].strip())
        rows_used += 1
    if rows_read == 0:
        raise DataError("has a header but no rows", file=file, line=2, key="data.crime_counts",
                        hint="add a row (area code, crime type, count) for each area and crime type with records")
    if rows_used == 0:
        available = (f"{min(periods)} to {max(periods)}" if has_month else ", ".join(sorted(periods))) if periods else "none"
        raise DataError("has no rows for the scenario's data period", file=file, key="data.period_start",
                        got=f"{source.period_start}..{source.period_end}", expected=f"a period in the file: {_plain(available)}")
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


def _whole(text: str, file: str, line: int, column: str, low: int, high: int, meaning: str) -> float:
    """A whole number from `low` to `high` (thousands separators allowed), or a DataError naming the cell."""
    expected = f"a whole number from {low:,} to {high:,}"
    shown = _shown(text)
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        raise DataError("is not a number", file=file, line=line, key=column, got=shown, expected=expected,
                        hint="write plain digits without £, % or spaces") from None
    if math.isinf(value) and text.strip().lstrip("+-").lower() not in ("inf", "infinity"):  # digits beyond a float's range
        raise DataError("is out of range", file=file, line=line, key=column, got=shown, expected=expected, hint=meaning)
    if not math.isfinite(value):
        raise DataError("is not a finite number", file=file, line=line, key=column, got=shown, expected=expected, hint=meaning)
    if value != int(value):
        raise DataError("must be a whole number", file=file, line=line, key=column, got=shown, expected=expected, hint=meaning)
    if not low <= value <= high:
        raise DataError("is out of range", file=file, line=line, key=column, got=shown, expected=expected, hint=meaning)
    return value
