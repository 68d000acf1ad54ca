"""Where areas sit on a map: a hexagon tile layout (CSV) or real boundaries (GeoJSON), in area order.

A layout or boundary file that places some areas but not all is an error (a typo is likelier than
a wish to leave areas off the map); one that places none of them is taken as meant for other
areas, and the map is left out with a note saying so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from itertools import chain, repeat

import numpy as np

from .datafiles import (
    EMBEDDED,
    SourceFile,
    Table,
    UniqueValues,
    area_code,
    columns_of,
    plain,
    plural,
    read_text,
    sha256_text,
    shown,
    whole_number,
)
from .errors import DataError
from .schema import DataSource

CODE_COLUMNS = ("area_code", "lsoa21_code", "gss_code")
# Tile rows and columns place areas on a hexagon grid the size of a page: a hexagon map of every
# local authority district fits in about 25 × 25, and the chart grows with the grid (drawing a
# 50 × 50 grid already takes 800 MB).
MAX_TILE = 49
# Boundary coordinates are degrees (longitude, latitude) or metres of a projected grid; British
# National Grid and Web Mercator put Great Britain well within 10,000 km of their origins.
MAX_COORDINATE = 10_000_000


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


def load_area_map(source: DataSource, codes: tuple[str, ...]) -> tuple[AreaMap, tuple[SourceFile, ...]]:
    """The map for these areas: boundaries if given, else the tile layout, else none (with the reason).

    A layout or boundary file that places some areas but not all is an error (a typo is likelier
    than a wish to leave areas off the map); one that places none of them is taken as meant for
    other areas, and the map is left out with a note saying so.
    """
    if source.boundaries:
        text, file = read_text(source.boundaries, "data.boundaries")
        area_map, features = _parse_boundaries(text, file, codes)
        return area_map, (SourceFile("boundaries", file, sha256_text(text), features, len(codes)),)
    if source.tile_layout:
        text, file = read_text(source.tile_layout, "data.tile_layout")
        area_map, rows = _parse_tiles(text, file, codes)
        return area_map, (SourceFile("tile_layout", file, sha256_text(text), rows, len(codes) if area_map.kind == "tiles" else 0),)
    return AreaMap(), ()


def _parse_tiles(text: str, file: str, codes: tuple[str, ...]) -> tuple[AreaMap, int]:
    table = Table(text, file)
    columns = columns_of(table.header, {"area_code": CODE_COLUMNS, "row": ("row",), "column": ("column", "col")}, {}, file)
    places: dict[str, tuple[int, int]] = {}
    taken: dict[tuple[int, int], str] = {}
    unique_codes = UniqueValues(file, columns["area_code"], "area code")
    rows = 0
    for line, row in table:
        rows += 1
        code = area_code(row, columns["area_code"], file, line)
        place = tuple(
            int(
                whole_number(
                    row[columns[axis]],
                    file,
                    line,
                    columns[axis],
                    0,
                    MAX_TILE,
                    "tile rows and columns count hexagons from 0 at the top left",
                )
            )
            for axis in ("row", "column")
        )
        unique_codes.add(code, line, "give each area one row")
        if place in taken:
            raise DataError(
                "two areas share a tile",
                file=file,
                line=line,
                got=f"{code} and {taken[place]} at row {place[0]}, column {place[1]}",
                hint="give each area its own row and column",
            )
        places[code] = place
        taken[place] = code
    if not rows:
        raise DataError(
            "has a header but no rows",
            file=file,
            line=2,
            key="data.tile_layout",
            hint='add a row (area code, row, column) for each area, or set data.tile_layout = ""',
        )
    placed = [code for code in codes if code in places]
    if not placed:
        return AreaMap(
            source=file, note=f"the tile layout {file} places none of these areas; set data.tile_layout to a layout for them"
        ), rows
    missing = [code for code in codes if code not in places]
    if missing:
        raise DataError(
            f"places {len(placed)} of {len(codes)} areas",
            file=file,
            key="data.tile_layout",
            got=f"no tile for {', '.join(missing[:3])}" + (f" and {len(missing) - 3} more" if len(missing) > 3 else ""),
            hint='add a row for each area, or set data.tile_layout = ""',
        )
    return AreaMap("tiles", tiles=np.array([places[code] for code in codes], dtype=float), source=file, note=""), rows


def _parse_boundaries(text: str, file: str, codes: tuple[str, ...]) -> tuple[AreaMap, int]:
    if not text.strip():
        raise DataError("is empty", file=file, key="data.boundaries", hint="export the boundaries again as GeoJSON")
    try:
        collection = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(
            f"is not valid GeoJSON: {error.msg}",
            file=file,
            line=error.lineno,
            key="data.boundaries",
            hint=f"column {error.colno}; export the boundaries again as GeoJSON",
        ) from None
    except RecursionError:
        raise DataError(
            "is not valid GeoJSON: it is nested deeper than any GeoJSON",
            file=file,
            key="data.boundaries",
            hint="export the boundaries again as GeoJSON",
        ) from None
    except ValueError as error:  # e.g. an integer too long to convert
        raise DataError(
            "is not valid GeoJSON", file=file, key="data.boundaries", got=shown(str(error)), hint="export the boundaries again as GeoJSON"
        ) from None
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list) or not features:
        raise DataError(
            "is not a GeoJSON FeatureCollection with features",
            file=file,
            key="data.boundaries",
            got=shown(f"a JSON {type(collection).__name__}" if not isinstance(collection, dict) else "no 'features' list"),
            expected='{"type": "FeatureCollection", "features": [...]}',
            hint="export the boundaries as GeoJSON, e.g. from the ONS Open Geography Portal",
        )
    for number, feature in enumerate(features):
        if not isinstance(feature, dict):
            raise DataError(
                "is not a GeoJSON Feature",
                file=file,
                key=f"features[{number}]",
                got=shown(json.dumps(feature)),
                expected='{"type": "Feature", "properties": {...}, "geometry": {...}}',
            )
        if not isinstance(feature.get("properties") or {}, dict):
            raise DataError(
                "feature's properties are not a JSON object",
                file=file,
                key=f"features[{number}].properties",
                got=shown(json.dumps(feature["properties"])),
                expected='an object such as {"LAD24CD": "E07000105"}',
            )
    wanted = set(codes)
    best_key, best = None, 0
    for key in {key for feature in features[:50] for key in (feature.get("properties") or {})}:
        found = sum(1 for feature in features if str((feature.get("properties") or {}).get(key, "")).strip() in wanted)
        if found > best or (found == best and best_key is not None and key < best_key):
            best_key, best = key, found
    if best_key is None or best == 0:
        raise DataError(
            "has no property holding these areas' codes",
            file=file,
            key="data.boundaries",
            got=f"e.g. no feature for {codes[0]}",
            hint="use boundaries for the same areas and year as the area table",
        )
    shapes: dict[str, tuple[np.ndarray, ...]] = {}
    for number, feature in enumerate(features, start=1):
        code = str((feature.get("properties") or {}).get(best_key, "")).strip()
        if code not in wanted:
            continue
        geometry = feature.get("geometry")
        geometry = geometry if isinstance(geometry, dict) else {"type": type(geometry).__name__ if geometry is not None else None}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise DataError(
                "feature has no polygon geometry",
                file=file,
                key=f"features[{number - 1}]",
                got=shown(f"{code}: {geometry.get('type')}"),
                expected="Polygon or MultiPolygon",
            )
        coordinates = geometry.get("coordinates")
        polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
        if not isinstance(polygons, list) or not polygons or not all(isinstance(polygon, list) and polygon for polygon in polygons):
            polygons = [None]
        rings = tuple(_ring(polygon and polygon[0], file, f"features[{number - 1}]", code) for polygon in polygons)
        shapes[code] = shapes.get(code, ()) + rings
    missing = [code for code in codes if code not in shapes]
    if missing:
        raise DataError(
            f"has boundaries for {len(shapes)} of {len(codes)} areas",
            file=file,
            key=f"data.boundaries ({plain(best_key)})",
            got=f"none for {', '.join(missing[:3])}" + (f" and {len(missing) - 3} more" if len(missing) > 3 else ""),
            hint="use boundaries for the same areas and year as the area table",
        )
    extent = max(float(np.abs(ring).max()) for rings in shapes.values() for ring in rings)
    bare = sum(1 for feature in features if not feature.get("properties"))
    ignored = (
        len(features) - bare - sum(1 for feature in features if str((feature.get("properties") or {}).get(best_key, "")).strip() in wanted)
    )
    note = "; ".join(
        part
        for part in (
            plural(ignored, "feature") + " for other areas ignored" if ignored else "",
            plural(bare, "feature") + " with no properties ignored" if bare else "",
        )
        if part
    )
    return AreaMap("boundaries", rings=tuple(shapes[code] for code in codes), projected=extent > 360, source=file, note=note), len(features)


def _ring(coordinates, file: str, key: str, code: str) -> np.ndarray:
    """A polygon's outer ring as an (n, 2) array of finite x, y, or a DataError saying what is wrong with it.

    Every value must be a JSON number: numpy would read "51.0" and true as numbers, so their types
    are checked first, in one pass at C speed (a ring can hold thousands of positions).
    """
    positions = coordinates if isinstance(coordinates, list) and all(map(isinstance, coordinates, repeat(list))) else []
    kinds = set(map(type, chain.from_iterable(positions)))
    if not kinds <= {int, float}:
        wrong = next(value for position in positions for value in position if type(value) not in (int, float))
        raise DataError(
            "feature has a coordinate that is not a number",
            file=file,
            key=key,
            got=shown(f"{code}: {json.dumps(wrong)}"),
            expected="numbers, e.g. [0.52, 51.27], not text in quotes, true/false, null or nested lists",
            hint="export the boundaries again as GeoJSON",
        )
    try:
        ring = np.asarray(coordinates, dtype=float)
    except OverflowError:  # an integer beyond a float's range
        ring = None
    except (ValueError, TypeError):
        ring = np.zeros((0, 0))
    if ring is not None and (ring.ndim != 2 or ring.shape[0] < 3 or ring.shape[1] < 2 or not np.isfinite(ring[:, :2]).all()):
        raise DataError(
            "feature has malformed coordinates",
            file=file,
            key=key,
            got=shown(f"{code}: {json.dumps(coordinates)}"),
            expected="a ring of at least 3 [x, y] positions, each a finite number",
            hint="export the boundaries again as GeoJSON",
        )
    if ring is None or np.abs(ring[:, :2]).max() > MAX_COORDINATE:
        raise DataError(
            "feature has coordinates out of range",
            file=file,
            key=key,
            got=shown(f"{code}: {json.dumps(coordinates)}"),
            expected=f"longitude and latitude in degrees, or metres within {MAX_COORDINATE:,} of the grid's origin",
            hint="export the boundaries again as GeoJSON, in WGS84 or British National Grid",
        )
    return ring[:, :2]


# ---------------------------------------------------------------- police forces of England and Wales

FORCE_TILES = "ew_force_tiles.csv"
"""The shipped tile layout of the 43 territorial police forces of England and Wales (simulator/data)."""
OFF_THE_MAP = {
    "btp": "British Transport Police polices the railways across the other forces' areas and has no area of its own",
    "northern-ireland": "the Police Service of Northern Ireland is outside England and Wales",
}
"""Forces in police.uk data that have no tile, and why."""
_FORCE_ALIASES = {"british-transport": "btp", "of-northern-ireland": "northern-ireland", "metropolitan-of-the-metropolis": "metropolitan"}
_FORCE_WORDS = re.compile(r"\b(police|constabulary|service|force)\b")


@dataclass(frozen=True)
class ForceTile:
    """One force's square on the England and Wales tile map: its police.uk id, full and short names, row and column
    (row 0 at the top, in the north)."""

    force: str
    name: str
    short: str
    row: int
    column: int


def force_key(force: str) -> str:
    """A force named any common way ('Kent Police', 'Devon & Cornwall', 'avon-and-somerset') as its police.uk id."""
    words = _FORCE_WORDS.sub(" ", force.lower().replace("&", " and "))
    key = "-".join(re.findall(r"[a-z0-9]+", words))
    return _FORCE_ALIASES.get(key, key)


@cache
def force_tiles() -> tuple[ForceTile, ...]:
    """The tile layout of the territorial forces of England and Wales, roughly where each force lies, as published tile
    maps place them: a map of forces without boundary files."""
    text, file = read_text(EMBEDDED + FORCE_TILES, "force tiles")
    table = Table(text, file)
    return tuple(ForceTile(row["force"], row["name"], row["short"], int(row["row"]), int(row["column"])) for _, row in table)


def force_tile(force: str) -> ForceTile | None:
    """The tile of a force named any common way, or None (British Transport Police, a force outside England and Wales)."""
    key = force_key(force)
    return next((tile for tile in force_tiles() if tile.force == key), None)


def force_name(force: str) -> str:
    """A force's name as the tile layout spells it ('avon-and-somerset' → 'Avon and Somerset'), else as given."""
    tile = force_tile(force)
    return tile.name if tile is not None else force
