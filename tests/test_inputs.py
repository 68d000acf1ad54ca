"""Reading the area and crime-count tables: the embedded Kent data and users' CSVs."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import inputs
from simulator.cli import cli
from simulator.errors import DataError
from simulator.inputs import load_areas, months_between
from simulator.schema import DataSource

AREAS = "area_code,area_name,parent_code,population\nA1,North,F1,1000\nA2,South,F1,3000\n"
COUNTS = "area_code,crime_type,count\nA1,Burglary,10\nA2,Burglary,30\nA2,Robbery,3\n"


def source(tmp_path, areas=AREAS, counts=COUNTS, **kwargs) -> DataSource:
    (tmp_path / "areas.csv").write_text(areas, encoding="utf-8")
    (tmp_path / "counts.csv").write_text(counts, encoding="utf-8")
    return DataSource(areas=str(tmp_path / "areas.csv"), crime_counts=str(tmp_path / "counts.csv"), **kwargs)


def test_embedded_kent_has_13_districts_and_the_published_totals():
    """The shipped Kent tables: 13 districts, 175,719 records Jun 2025 - May 2026, Medway 279,772 residents."""
    areas = load_areas(DataSource())
    assert len(areas.codes) == 13
    assert areas.counts.values.sum() == 175_719
    assert areas.population.get(area="E06000035") == 279_772
    assert areas.period_months == 12


def test_embedded_kent_uses_only_the_chosen_period():
    """The other period's 182 rows are counted as other-period rows, never mixed in."""
    areas = load_areas(DataSource())
    counts_file = areas.sources[1]
    assert (counts_file.rows_read, counts_file.rows_used, counts_file.rows_other_period) == (364, 182, 182)


def test_user_csv_counts_land_in_the_right_cells(tmp_path):
    """Counts are placed by area code and crime type; absent cells are zero."""
    areas = load_areas(source(tmp_path))
    assert areas.counts.get(area="A2", crime_type="Burglary") == 30
    assert areas.counts.get(area="A1", crime_type="Robbery") == 0


def test_utf8_bom_is_accepted(tmp_path):
    """A spreadsheet's UTF-8 byte-order mark does not break the header."""
    areas = load_areas(source(tmp_path, areas="\ufeff" + AREAS))
    assert areas.codes == ("A1", "A2")


def test_missing_column_names_the_file_and_line(tmp_path):
    """A counts file without a count column is refused at line 1."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,number\nA1,Burglary,1\n"))
    assert caught.value.line == 1 and "count" in caught.value.what


def test_unknown_crime_type_names_the_line(tmp_path):
    """A crime type outside police.uk's 14 is refused at its line."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,count\nA1,Burglary,1\nA1,Fraud,2\n"))
    assert (caught.value.line, caught.value.got) == (3, "Fraud")


def test_unknown_area_is_refused(tmp_path):
    """A count for an area missing from the area table is refused."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,count\nZZ,Burglary,1\n"))
    assert caught.value.got == "ZZ" and caught.value.line == 2


def test_non_numeric_count_is_refused(tmp_path):
    """A count that is not a number is refused with its line and column."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,count\nA1,Burglary,ten\n"))
    assert (caught.value.line, caught.value.key) == (2, "count")


def test_negative_population_is_refused(tmp_path):
    """Population must be positive."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas="area_code,area_name,population\nA1,North,-5\n"))
    assert caught.value.key == "population"


def test_duplicate_cell_is_refused(tmp_path):
    """The same area and crime type twice in a period is refused rather than summed silently."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts=COUNTS + "A1,Burglary,4\n"))
    assert caught.value.line == 5


def test_period_with_no_rows_lists_the_periods_there(tmp_path):
    """Asking for a period the file does not have names the periods it does have."""
    counts = "area_code,crime_type,count,period_start,period_end\nA1,Burglary,1,2024-01,2024-12\n"
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts=counts))
    assert "2024-01..2024-12" in caught.value.expected


def test_missing_data_file_names_the_key(tmp_path):
    """A data path that does not exist names the scenario key that set it."""
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(areas=str(tmp_path / "none.csv")))
    assert caught.value.key == "data.areas"


def test_unknown_embedded_name_lists_the_shipped_files():
    """An embedded: name that is not shipped lists the files that are."""
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(areas="embedded:essex.csv"))
    assert "kent_districts.csv" in caught.value.expected


def test_months_between_counts_both_ends():
    """June 2025 to May 2026 is 12 months."""
    assert months_between("2025-06", "2026-05") == 12


# ---------------------------------------------------------------- maps

KENT_TILES = "embedded:kent_tiles.csv"


def tiles(tmp_path, text) -> str:
    path = tmp_path / "tiles.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def geojson(tmp_path, collection) -> str:
    import json

    path = tmp_path / "boundaries.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    return str(path)


def test_kent_tile_layout_places_every_district():
    """The shipped layout gives each of the 13 districts its own hexagon; Medway sits on the top row."""
    areas = load_areas(DataSource(tile_layout=KENT_TILES))
    assert areas.area_map.kind == "tiles"
    assert areas.area_map.tiles.shape == (13, 2)
    assert tuple(areas.area_map.tiles[areas.codes.index("E06000035")]) == (0, 2)
    assert len({tuple(place) for place in areas.area_map.tiles}) == 13


def test_no_layout_means_no_map_with_a_reason():
    """Without a layout or boundaries, the map is left out and the note says which keys to set."""
    area_map = load_areas(DataSource()).area_map
    assert area_map.kind == "none" and "data.tile_layout" in area_map.note


def test_layout_for_other_areas_is_left_out_with_a_note(tmp_path):
    """A layout that places none of the areas is taken as meant for other areas: no map, and a note."""
    area_map = load_areas(source(tmp_path, tile_layout=KENT_TILES)).area_map
    assert area_map.kind == "none" and "places none of these areas" in area_map.note


def test_layout_missing_an_area_is_refused(tmp_path):
    """A layout that places some areas but not all is a mistake: DataError naming the missing code."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, tile_layout=tiles(tmp_path, "area_code,row,column\nA1,0,0\n")))
    assert caught.value.what == "places 1 of 2 areas" and "A2" in str(caught.value.got)


def test_two_areas_on_one_tile_are_refused(tmp_path):
    """Each area needs its own tile; the error names the line and both areas."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, tile_layout=tiles(tmp_path, "area_code,row,column\nA1,0,0\nA2,0,0\n")))
    assert caught.value.line == 3 and "A2 and A1" in str(caught.value.got)


def square(code, x, key="LAD24CD"):
    ring = [[x, 51.0], [x + 0.1, 51.0], [x + 0.1, 51.1], [x, 51.1], [x, 51.0]]
    return {"type": "Feature", "properties": {key: code, "name": f"area {code}"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_boundaries_are_matched_by_the_property_holding_the_codes(tmp_path):
    """The code property is found by its values; a feature for another area is counted and ignored."""
    collection = {"type": "FeatureCollection", "features": [square("A2", 0.2), square("A1", 0.0), square("Z9", 0.4)]}
    areas = load_areas(source(tmp_path, boundaries=geojson(tmp_path, collection)))
    area_map = areas.area_map
    assert area_map.kind == "boundaries" and not area_map.projected
    assert area_map.rings[0][0][0, 0] == 0.0 and area_map.rings[1][0][0, 0] == 0.2
    assert area_map.note == "1 feature for other areas ignored"
    assert areas.sources[-1].role == "boundaries" and areas.sources[-1].rows_read == 3


def test_multipolygons_keep_every_part(tmp_path):
    """An area in two parts (an island) keeps both rings."""
    first, second = square("A1", 0.0), square("A1", 0.5)
    multi = {
        "type": "Feature",
        "properties": {"code": "A1"},
        "geometry": {"type": "MultiPolygon", "coordinates": [first["geometry"]["coordinates"], second["geometry"]["coordinates"]]},
    }
    collection = {"type": "FeatureCollection", "features": [multi, square("A2", 0.2, key="code")]}
    assert len(load_areas(source(tmp_path, boundaries=geojson(tmp_path, collection))).area_map.rings[0]) == 2


def test_boundaries_missing_an_area_are_refused(tmp_path):
    """Every area needs a boundary: DataError naming the missing code."""
    collection = {"type": "FeatureCollection", "features": [square("A1", 0.0)]}
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, boundaries=geojson(tmp_path, collection)))
    assert "A2" in str(caught.value.got)


def test_boundaries_that_are_not_json_are_refused(tmp_path):
    """A file that is not JSON: DataError with the line."""
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [oops]}', encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, boundaries=str(path)))
    assert caught.value.line == 2 and "not valid GeoJSON" in caught.value.what


def test_boundary_that_is_a_point_is_refused(tmp_path):
    """An area drawn as a point cannot be filled: DataError naming the feature."""
    point = {"type": "Feature", "properties": {"LAD24CD": "A1"}, "geometry": {"type": "Point", "coordinates": [0, 51]}}
    collection = {"type": "FeatureCollection", "features": [point, square("A2", 0.2)]}
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, boundaries=geojson(tmp_path, collection)))
    assert caught.value.key == "features[0]" and "Point" in str(caught.value.got)


# ---------------------------------------------------------------- small areas and monthly counts

LSOA_AREAS = "lsoa21_code,lsoa21_name,district,gss_code,population_census2021\nL1,Medway 001A,Medway,E06000035,1500\nL2,Dover 001A,Dover,E07000108,1800\n"
MONTHLY = (
    "lsoa21_code,lsoa21_name,district,month,crime_type,count\n"
    "L1,Medway 001A,Medway,2024-01,Burglary,2\nL1,Medway 001A,Medway,2024-02,Burglary,3\n"
    "L2,Dover 001A,Dover,2024-02,Robbery,1\nL1,Medway 001A,Medway,2024-03,Burglary,9\n"
    "X9,Elsewhere 001A,Elsewhere,2024-01,Drugs,4\n"
)


def test_lsoa_table_takes_the_district_as_parent(tmp_path):
    """An LSOA table: the LSOA code is the area, the district code its parent and the district's name the parent's name."""
    areas = load_areas(
        source(tmp_path, areas=LSOA_AREAS, counts=MONTHLY, level="lsoa", other_areas="count", period_start="2024-01", period_end="2024-02")
    )
    assert areas.codes == ("L1", "L2") and areas.parents == ("E06000035", "E07000108")
    assert areas.parent_name(1) == "Dover" and areas.level_name == "LSOA"


def test_monthly_counts_sum_over_the_period_and_keep_the_history(tmp_path):
    """Months in the period are summed and kept per month; later months and other areas are counted, not used."""
    areas = load_areas(
        source(tmp_path, areas=LSOA_AREAS, counts=MONTHLY, level="lsoa", other_areas="count", period_start="2024-01", period_end="2024-02")
    )
    assert areas.counts.get(area="L1", crime_type="Burglary") == 5
    assert areas.monthly.labels("month") == ("2024-01", "2024-02")
    assert areas.monthly.values[0, areas.counts.labels("crime_type").index("Burglary")].tolist() == [2, 3]
    counts_file = areas.sources[1]
    assert (counts_file.rows_read, counts_file.rows_used, counts_file.rows_other_period, counts_file.rows_other_areas) == (5, 3, 1, 1)


def test_other_areas_are_an_error_unless_counted(tmp_path):
    """By default a count for an area not in the table is an error naming its line."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas=LSOA_AREAS, counts=MONTHLY, level="lsoa", period_start="2024-01", period_end="2024-02"))
    assert caught.value.line == 6 and "other_areas" in caught.value.hint


def test_a_month_missing_from_the_period_is_an_error(tmp_path):
    """A period reaching past the imported months is refused, naming the missing month."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas=LSOA_AREAS, counts=MONTHLY, other_areas="count", period_start="2024-01", period_end="2024-04"))
    assert "2024-04" in str(caught.value.got)


def test_embedded_kent_lsoas_hold_the_published_total():
    """The shipped Jan-Apr 2024 LSOA counts: 1,107 LSOAs and 59,403 records."""
    areas = load_areas(
        DataSource(
            level="lsoa",
            areas="embedded:kent_lsoa21.csv",
            crime_counts="embedded:kent_lsoa_crime_2024-01_to_2024-04.csv",
            period_start="2024-01",
            period_end="2024-04",
        )
    )
    assert len(areas.codes) == 1107 and areas.counts.values.sum() == 59_403
    assert len(set(areas.parents)) == 13


# ---------------------------------------------------------------- rows that do not fit the header


def test_short_count_row_is_refused_naming_the_missing_column(tmp_path):
    """A counts row with fewer fields than the header: one line naming file, line and the first missing column."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,count\nA1,Burglary\n"))
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "counts.csv"), 2, "count", "A1,Burglary")
    assert str(error) == (
        f"{tmp_path / 'counts.csv'}:2: count: row has 2 fields, the header has 3 (got 'A1,Burglary'; "
        "expected 3 fields: area_code, crime_type, count); check for a missing or extra comma; quote a value that holds a comma"
    )


def test_long_count_row_is_refused_not_misread(tmp_path):
    """A thousands separator left unquoted makes an extra field: refused, never read as a count of 1."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,count\nA1,Burglary,1,000\n"))
    error = caught.value
    assert (error.line, error.key, error.got) == (2, None, "A1,Burglary,1,000")
    assert error.what == "row has 4 fields, the header has 3"


def test_short_area_row_is_refused(tmp_path):
    """An area row missing its population field is refused at its line, naming the population column."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas="area_code,area_name,parent_code,population\nA1,North,F1\nA2,South,F1,3000\n"))
    error = caught.value
    assert (error.file, error.line, error.key, error.what) == (
        str(tmp_path / "areas.csv"),
        2,
        "population",
        "row has 3 fields, the header has 4",
    )


def test_long_area_row_is_refused(tmp_path):
    """An area row with an extra field is refused at its line."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas="area_code,area_name,parent_code,population\nA1,North,F1,1000\nA2,South,F1,3000,9\n"))
    assert (caught.value.line, caught.value.key, caught.value.got) == (3, None, "A2,South,F1,3000,9")


def test_short_tile_row_is_refused(tmp_path):
    """A tile layout row without its column is refused, naming the column."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, tile_layout=tiles(tmp_path, "area_code,row,column\nA1,0\nA2,0,1\n")))
    assert (caught.value.file, caught.value.line, caught.value.key) == (str(tmp_path / "tiles.csv"), 2, "column")


def test_long_tile_row_is_refused(tmp_path):
    """A tile layout row with an extra field is refused."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, tile_layout=tiles(tmp_path, "area_code,row,column\nA1,0,0,9\nA2,0,1\n")))
    assert (caught.value.line, caught.value.what) == (2, "row has 4 fields, the header has 3")


def test_unclosed_quote_says_so(tmp_path):
    """A quote never closed swallows the rest of the file: the error says where the row starts and why."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts='area_code,crime_type,count\nA1,"Burglary,1\nA2,Robbery,3\n'))
    assert caught.value.line == 2 and caught.value.hint == "a quoted value runs across lines: check for a quote that is never closed"


def test_rows_of_empty_fields_are_passed_over(tmp_path):
    """Blank lines and the ',,' rows spreadsheets write below a table hold no data and are not rows."""
    areas = load_areas(source(tmp_path, counts=COUNTS + ",,\n\n,\n", areas=AREAS + ",,,\n"))
    assert areas.sources[1].rows_read == 3 and areas.codes == ("A1", "A2")


def test_windows_line_ends_read_the_same(tmp_path):
    """CRLF line ends change nothing."""
    (tmp_path / "unix").mkdir()
    plain = load_areas(source(tmp_path / "unix"))
    windows = load_areas(source(tmp_path, areas=AREAS.replace("\n", "\r\n"), counts=COUNTS.replace("\n", "\r\n")))
    assert (windows.codes, windows.names, windows.counts.values.tolist()) == (plain.codes, plain.names, plain.counts.values.tolist())


def test_spaces_around_column_names_are_ignored(tmp_path):
    """' count ' in a header is the count column."""
    areas = load_areas(source(tmp_path, counts=" area_code , crime_type , count \nA1,Burglary,7\n"))
    assert areas.counts.get(area="A1", crime_type="Burglary") == 7


# ---------------------------------------------------------------- numbers within bounds


@pytest.mark.parametrize(
    "given, what",
    [
        ("1e300", "is out of range"),
        ("10000001", "is out of range"),
        ("-1", "is out of range"),
        ("nan", "is not a finite number"),
        ("inf", "is not a finite number"),
        ("-inf", "is not a finite number"),
        ("2.5", "must be a whole number"),
        ("ten", "is not a number"),
        ("", "is not a number"),
        ("9" * 400, "is out of range"),
    ],
)
def test_bad_count_is_refused_with_its_bounds(tmp_path, given, what):
    """A count must be a finite whole number from 0 to 10,000,000: anything else names the cell and the bounds."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts=f"area_code,crime_type,count\nA1,Burglary,{given}\n"))
    error = caught.value
    assert (error.line, error.key, error.got[:50], error.what) == (2, "count", given[:50], what)
    assert error.expected == "a whole number from 0 to 10,000,000"


def test_absurd_count_exact_message(tmp_path):
    """The whole line for a count of 1e300."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,count\nA1,Burglary,1e300\n"))
    assert str(caught.value) == (
        f"{tmp_path / 'counts.csv'}:2: count: is out of range (got '1e300'; expected a whole number from 0 to "
        "10,000,000); a count is the records of one crime type in one area over the period; check for a shifted column"
    )


def test_counts_at_the_bounds_are_accepted(tmp_path):
    """0 and 10,000,000 (written with separators, quoted) are both valid counts."""
    areas = load_areas(source(tmp_path, counts='area_code,crime_type,count\nA1,Burglary,0\nA2,Burglary,"10,000,000"\n'))
    assert areas.counts.get(area="A2", crime_type="Burglary") == 10_000_000


@pytest.mark.parametrize(
    "given, what",
    [
        ("1e300", "is out of range"),
        ("20000001", "is out of range"),
        ("0", "is out of range"),
        ("-5", "is out of range"),
        ("nan", "is not a finite number"),
        ("1.5", "must be a whole number"),
    ],
)
def test_bad_population_is_refused_with_its_bounds(tmp_path, given, what):
    """Population must be a finite whole number from 1 to 20,000,000."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas=f"area_code,area_name,population\nA1,North,{given}\nA2,South,5\n"))
    error = caught.value
    assert (error.line, error.key, error.got, error.what) == (2, "population", given, what)
    assert error.expected == "a whole number from 1 to 20,000,000"


@pytest.mark.parametrize("given", ["50", "-1", "1e10", "2.5"])
def test_tile_place_out_of_range_is_refused(tmp_path, given):
    """Tile rows and columns are whole numbers from 0 to 49."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, tile_layout=tiles(tmp_path, f"area_code,row,column\nA1,0,{given}\nA2,0,1\n")))
    error = caught.value
    assert (error.line, error.key, error.got, error.expected) == (2, "column", given, "a whole number from 0 to 49")


@pytest.mark.parametrize("given, value", [("1,234", 1_234), ("1,234,567", 1_234_567), ("+12,345", 12_345), ("1,000.0", 1_000)])
def test_thousands_separators_in_their_place_are_read(tmp_path, given, value):
    """Commas between groups of three digits are thousands separators: '1,234' is 1234."""
    areas = load_areas(source(tmp_path, counts=f'area_code,crime_type,count\nA1,Burglary,"{given}"\n'))
    assert areas.counts.get(area="A1", crime_type="Burglary") == value


def test_population_with_two_separators_is_read(tmp_path):
    """'12,345,678' residents is read as 12345678."""
    areas = load_areas(source(tmp_path, areas='area_code,area_name,population\nA1,North,"12,345,678"\nA2,South,5\n'))
    assert areas.population.get(area="A1") == 12_345_678


@pytest.mark.parametrize("given", ["1,5", "12,34", ",5", "1,2345", "1,,234", "1,234,56", "1,234,", "12,34.5"])
def test_comma_out_of_place_is_refused_not_removed(tmp_path, given):
    """A comma that does not separate thousands ('1,5' is not 15) is refused, naming the cell."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts=f'area_code,crime_type,count\nA1,Burglary,1\nA2,Burglary,"{given}"\n'))
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "counts.csv"), 3, "count", given)
    assert error.what == "has a comma that is not a thousands separator"


def test_decimal_comma_exact_message(tmp_path):
    """The whole line for a count of '1,5'."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts='area_code,crime_type,count\nA1,Burglary,"1,5"\n'))
    assert str(caught.value) == (
        f"{tmp_path / 'counts.csv'}:2: count: has a comma that is not a thousands separator (got '1,5'; expected a whole number "
        "from 0 to 10,000,000, with commas only between groups of three digits, e.g. 1,234); "
        "write the number without commas; a decimal comma (1,5) is not read, use a point"
    )


@pytest.mark.parametrize("given", ["1_234", "1_000_000", "_5"])
def test_underscore_in_a_number_is_refused(tmp_path, given):
    """Python's float() reads '1_234' as 1234; a data file does not, and says how to write it."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas=f"area_code,area_name,population\nA1,North,{given}\nA2,South,5\n"))
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "areas.csv"), 2, "population", given)
    assert error.what == "has an underscore, which is not a digit separator in a data file"


def test_underscore_exact_message(tmp_path):
    """The whole line for a population of 1_234, with the fix."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas="area_code,area_name,population\nA1,North,1_234\nA2,South,5\n"))
    assert str(caught.value) == (
        f"{tmp_path / 'areas.csv'}:2: population: has an underscore, which is not a digit separator in a data file "
        "(got '1_234'; expected a whole number from 1 to 20,000,000); write plain digits, e.g. 1234, "
        "or separate thousands with commas, e.g. 1,234"
    )


def test_tile_place_with_a_decimal_comma_is_refused(tmp_path):
    """Tile places share the number reader: '1,0' is refused, not read as 10."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, tile_layout=tiles(tmp_path, 'area_code,row,column\nA1,0,"1,0"\nA2,0,1\n')))
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "tiles.csv"), 2, "column", "1,0")


# ---------------------------------------------------------------- names, codes and headers


def test_duplicate_area_names_are_refused_naming_both_lines(tmp_path):
    """Two areas called Medway would make every table and chart ambiguous: refused, naming both lines."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas="area_code,area_name,population\nA1,Medway,10\nA2,Medway,5\n"))
    error = caught.value
    assert (error.line, error.key, error.got) == (3, "area_name", "Medway")
    assert str(error) == (
        f"{tmp_path / 'areas.csv'}:3: area_name: area name appears twice, on lines 2 and 3 (got 'Medway'); "
        "give A2 a distinct name; every table, chart and --set names an area by its name"
    )


def test_area_names_differing_only_in_case_and_spaces_are_duplicates(tmp_path):
    """'Medway' and ' medway ' are the same name to a reader (and to --set)."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas="area_code,area_name,population\nA1,Medway,10\nA2, medway ,5\n"))
    assert caught.value.what == "area name appears twice, on lines 2 and 3"


def test_duplicate_lsoa_names_are_refused(tmp_path):
    """At LSOA level the name column is lsoa21_name, and names must be unique too."""
    table = LSOA_AREAS + "L3,Medway 001A,Medway,E06000035,1200\n"
    with pytest.raises(DataError) as caught:
        load_areas(
            source(tmp_path, areas=table, counts=MONTHLY, level="lsoa", other_areas="count", period_start="2024-01", period_end="2024-02")
        )
    assert (caught.value.line, caught.value.key, caught.value.got) == (4, "lsoa21_name", "Medway 001A")


def test_duplicate_names_in_counts_without_an_area_table_are_refused(tmp_path):
    """Without a population table the areas come from the counts, and their names must be unique as well."""
    (tmp_path / "counts.csv").write_text(MONTHLY.replace("L2,Dover 001A", "L2,Medway 001A"), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_areas(
            DataSource(areas="", crime_counts=str(tmp_path / "counts.csv"), level="lsoa", period_start="2024-01", period_end="2024-02")
        )
    assert (caught.value.line, caught.value.key, caught.value.got) == (4, "lsoa21_name", "Medway 001A")


COUNTS_ONLY = "lsoa21_code,lsoa21_name,district,month,crime_type,count\n"


def counts_only_error(tmp_path, rows: str) -> DataError:
    """The error of a counts-only LSOA run (data.areas = "") whose counts file holds these rows."""
    (tmp_path / "counts.csv").write_text(COUNTS_ONLY + rows, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_areas(
            DataSource(areas="", crime_counts=str(tmp_path / "counts.csv"), level="lsoa", period_start="2024-01", period_end="2024-01")
        )
    return caught.value


def test_area_name_with_a_line_break_is_refused_naming_its_line(tmp_path):
    """A name holding a line break would split a printed table's row: refused at the line its row starts on."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas='area_code,area_name,population\nA1,North,10\nA2,"So\nuth",5\n'))
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "areas.csv"), 3, "area_name", "So\nuth")
    assert str(error) == (
        f"{tmp_path / 'areas.csv'}:3: area_name: area name holds a line break (got 'So\\nuth'; expected text on one line, "
        "without control characters); remove it from the cell (a line break inside a spreadsheet cell is typed with Alt+Enter)"
    )


@pytest.mark.parametrize("char, kind", [("\x1b", "a control character (U+001B)"), ("\t", "a tab"), ("\u2028", "a line break")])
def test_area_name_with_a_control_character_is_refused(tmp_path, char, kind):
    """An escape code, a tab or a Unicode line separator in a name is refused and named."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas=f"area_code,area_name,population\nA1,No{char}rth,10\nA2,South,5\n"))
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "areas.csv"), 2, "area_name", f"No{char}rth")
    assert error.what == f"area name holds {kind}"


def test_district_name_with_a_line_break_is_refused(tmp_path):
    """The parent's name is printed too (the district of an LSOA): a line break in it is refused."""
    table = LSOA_AREAS.replace("L2,Dover 001A,Dover,", 'L2,Dover 001A,"Do\r\nver",')
    with pytest.raises(DataError) as caught:
        load_areas(
            source(tmp_path, areas=table, counts=MONTHLY, level="lsoa", other_areas="count", period_start="2024-01", period_end="2024-02")
        )
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "areas.csv"), 3, "district", "Do\r\nver")


def test_area_code_with_a_control_character_is_refused(tmp_path):
    """A code holding a control character is refused where it is read, like an empty one."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas="area_code,area_name,population\nA1,North,10\nA2\x07,South,5\n"))
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "areas.csv"), 3, "area_code", "A2\x07")


def test_name_from_counts_with_a_line_break_is_refused(tmp_path):
    """Without an area table the names come from the counts, and a line break there is refused at its line."""
    error = counts_only_error(tmp_path, 'L1,Medway 001A,Medway,2024-01,Burglary,2\nL2,"Dover\n001A",Dover,2024-01,Burglary,1\n')
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "counts.csv"), 3, "lsoa21_name", "Dover\n001A")


def test_code_with_two_names_in_counts_is_refused_naming_both_lines(tmp_path):
    """Without an area table, an LSOA named differently on two rows is refused: which name is right is a guess."""
    error = counts_only_error(
        tmp_path,
        "L1,Medway 001A,Medway,2024-01,Burglary,2\nL2,Dover 001A,Dover,2024-01,Burglary,1\nL1,Medway 001B,Medway,2024-01,Drugs,4\n",
    )
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "counts.csv"), 4, "lsoa21_name", "Medway 001B")
    assert str(error) == (
        f"{tmp_path / 'counts.csv'}:4: lsoa21_name: area L1 has two names, on lines 2 and 4 (got 'Medway 001B'; "
        "expected the name on line 2: Medway 001A); give every row of L1 the same name, or correct the code if these are two areas"
    )


def test_code_with_two_districts_in_counts_is_refused_naming_both_lines(tmp_path):
    """Without an area table, an LSOA placed in two districts is refused, naming both lines."""
    error = counts_only_error(tmp_path, "L1,Medway 001A,Medway,2024-01,Burglary,2\nL1,Medway 001A,Swale,2024-01,Drugs,4\n")
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "counts.csv"), 3, "district", "Swale")
    assert error.what == "area L1 has two districts, on lines 2 and 3" and error.expected == "the district on line 2: Medway"


def test_code_with_the_same_name_on_every_row_is_read_once(tmp_path):
    """Rows agreeing on an LSOA's name and district make one area with that name."""
    (tmp_path / "counts.csv").write_text(
        COUNTS_ONLY + "L1,Medway 001A,Medway,2024-01,Burglary,2\nL1, Medway 001A ,Medway,2024-01,Drugs,4\n", encoding="utf-8"
    )
    areas = load_areas(
        DataSource(areas="", crime_counts=str(tmp_path / "counts.csv"), level="lsoa", period_start="2024-01", period_end="2024-01")
    )
    assert (areas.codes, areas.names, areas.parent_names) == (("L1",), ("Medway 001A",), ("Medway",))


def test_unnamed_column_is_never_read_as_the_parent(tmp_path):
    """A header ending in a comma has an unnamed column; its values are not taken as parent codes."""
    areas = load_areas(source(tmp_path, areas="area_code,area_name,population,\nA1,North,1000,X\nA2,South,3000,Y\n"))
    assert areas.parents == ("force", "force")


def test_duplicate_area_codes_are_refused_naming_both_lines(tmp_path):
    """The same code twice is still refused, now naming both lines."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas="area_code,area_name,population\nA1,North,10\nA1,South,5\n"))
    error = caught.value
    assert (error.line, error.key, error.got, error.what) == (3, "area_code", "A1", "area code appears twice, on lines 2 and 3")


def test_area_placed_twice_on_the_tile_layout_is_refused(tmp_path):
    """An area with two tiles is refused, naming both lines."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, tile_layout=tiles(tmp_path, "area_code,row,column\nA1,0,0\nA2,0,1\nA1,1,1\n")))
    assert (caught.value.line, caught.value.got, caught.value.what) == (4, "A1", "area code appears twice, on lines 2 and 4")


@pytest.mark.parametrize("table", ["areas", "counts", "tiles"])
def test_empty_area_code_is_refused(tmp_path, table):
    """A row with a blank area code is refused in the area table, the counts and the tile layout alike."""
    texts = {
        "areas": {"areas": "area_code,area_name,population\n ,North,10\nA2,South,5\n"},
        "counts": {"counts": "area_code,crime_type,count\n,Burglary,10\n"},
        "tiles": {"tile_layout": tiles(tmp_path, "area_code,row,column\n,0,0\nA1,0,1\nA2,1,1\n")},
    }
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, **texts[table]))
    assert (caught.value.line, caught.value.key, caught.value.what) == (2, "area_code", "row has no area code")


def test_empty_area_code_is_refused_even_when_other_areas_are_counted(tmp_path):
    """data.other_areas = "count" counts rows for other areas; a blank code is a mistake, not another area."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,count\nA1,Burglary,1\n,Burglary,10\n", other_areas="count"))
    assert (caught.value.line, caught.value.what) == (3, "row has no area code")


def test_a_column_named_twice_is_refused(tmp_path):
    """Two population columns: which one is meant is unclear, so the header is refused."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, areas="area_code,area_name,population,population\nA1,North,10,11\nA2,South,5,6\n"))
    error = caught.value
    assert (error.line, error.key, error.got) == (1, "population", "columns 3 and 4")


def test_period_start_without_period_end_is_refused(tmp_path):
    """Half a period would silently sum every period's rows: refused at the header."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,count,period_start\nA1,Burglary,1,2025-06\n"))
    assert (caught.value.line, caught.value.key, caught.value.what) == (
        1,
        "period_start",
        "has a period_start column but no period_end column",
    )


def test_counts_with_a_header_and_no_rows_are_refused(tmp_path):
    """A counts file with only its header says so, rather than blaming the period."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,count\n"))
    assert (caught.value.line, caught.value.key, caught.value.what) == (2, "data.crime_counts", "has a header but no rows")


def test_tile_layout_with_a_header_and_no_rows_is_refused(tmp_path):
    """A layout with no rows is a broken file, not a layout for other areas."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, tile_layout=tiles(tmp_path, "area_code,row,column\n")))
    assert (caught.value.line, caught.value.what) == (2, "has a header but no rows")


def test_misspelt_crime_type_gets_a_suggestion(tmp_path):
    """'burglary' is refused with the police.uk spelling offered."""
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, counts="area_code,crime_type,count\nA1,burglary,1\n"))
    assert caught.value.got == "burglary" and caught.value.hint == "did you mean 'Burglary'?"


# ---------------------------------------------------------------- files that are not CSV text


def test_file_that_is_not_utf8_names_line_and_column(tmp_path):
    """A Latin-1 'é' is refused with the line and column of the first bad byte."""
    (tmp_path / "areas.csv").write_text(AREAS, encoding="utf-8")
    (tmp_path / "counts.csv").write_bytes("area_code,crime_type,count\nA1,Burglary,1\nA2,Vol é,2\n".encode("latin-1"))
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(areas=str(tmp_path / "areas.csv"), crime_counts=str(tmp_path / "counts.csv")))
    error = caught.value
    assert (error.line, error.key, error.got, error.what) == (3, "data.crime_counts", "byte 0xe9 at column 8", "is not UTF-8 text")


def test_utf16_file_is_refused(tmp_path):
    """A spreadsheet's 'Unicode text' (UTF-16) is not UTF-8: refused at line 1."""
    (tmp_path / "areas.csv").write_bytes(AREAS.encode("utf-16"))
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(areas=str(tmp_path / "areas.csv")))
    assert (caught.value.line, caught.value.got) == (1, "byte 0xff at column 1")


def test_binary_file_with_nul_bytes_is_refused(tmp_path):
    """A file holding NUL bytes is binary, not CSV, even where it happens to be valid UTF-8."""
    (tmp_path / "areas.csv").write_bytes(b"area_code,area_name,population\nA1\x00\x00,North,1\n")
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(areas=str(tmp_path / "areas.csv")))
    assert (caught.value.line, caught.value.key, caught.value.got) == (2, "data.areas", "NUL at column 3")


def test_folder_named_as_a_csv_is_refused(tmp_path):
    """A folder where a CSV is expected: refused, naming the key."""
    (tmp_path / "counts.csv").mkdir()
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(crime_counts=str(tmp_path / "counts.csv")))
    assert (caught.value.file, caught.value.key, caught.value.what) == (
        str(tmp_path / "counts.csv"),
        "data.crime_counts",
        "is a folder, not a CSV file",
    )


def test_empty_path_is_refused(tmp_path):
    """data.crime_counts = "" names no file."""
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(crime_counts=""))
    assert (caught.value.key, caught.value.what) == ("data.crime_counts", "names no file")


def test_path_through_a_file_is_not_found(tmp_path):
    """A path that runs through a file (areas.csv/x.csv) is simply not found."""
    (tmp_path / "areas.csv").write_text(AREAS, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(areas=str(tmp_path / "areas.csv" / "x.csv")))
    assert caught.value.what == "data file not found"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_refused(tmp_path):
    """A file without read permission is refused, naming it."""
    path = tmp_path / "areas.csv"
    path.write_text(AREAS, encoding="utf-8")
    path.chmod(0)
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(areas=str(path)))
    assert (caught.value.file, caught.value.what) == (str(path), "cannot be read")


def test_file_the_system_refuses_to_read_is_refused(tmp_path, monkeypatch):
    """Permission denied (simulated, so it bites when tests run as root too): a DataError naming file and reason."""
    path = tmp_path / "areas.csv"
    path.write_text(AREAS, encoding="utf-8")

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "read_bytes", refuse)
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(areas=str(path)))
    assert (caught.value.file, caught.value.key, caught.value.got, caught.value.what) == (
        str(path),
        "data.areas",
        "Permission denied",
        "cannot be read",
    )


def test_embedded_name_cannot_leave_the_data_folder():
    """embedded: names a shipped file, never a path."""
    with pytest.raises(DataError) as caught:
        load_areas(DataSource(areas="embedded:../inputs.py"))
    assert caught.value.what == "names no embedded data file"


# ---------------------------------------------------------------- boundary files that are not what they say


def boundary_error(tmp_path, collection=None, text=None) -> DataError:
    path = tmp_path / "boundaries.geojson"
    path.write_text(text if text is not None else json.dumps(collection), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, boundaries=str(path)))
    return caught.value


def test_boundary_file_that_is_a_json_list_is_refused(tmp_path):
    """A bare list of features is not a FeatureCollection."""
    error = boundary_error(tmp_path, [square("A1", 0.0), square("A2", 0.2)])
    assert (error.key, error.got, error.what) == ("data.boundaries", "a JSON list", "is not a GeoJSON FeatureCollection with features")


def test_feature_that_is_not_an_object_is_refused(tmp_path):
    """A feature that is a string is refused, naming its index."""
    error = boundary_error(tmp_path, {"type": "FeatureCollection", "features": [square("A1", 0.0), "A2"]})
    assert (error.key, error.got, error.what) == ("features[1]", '"A2"', "is not a GeoJSON Feature")


def test_feature_properties_that_are_not_an_object_are_refused(tmp_path):
    """Properties given as a list are refused, naming the feature."""
    bad = {**square("A1", 0.0), "properties": ["A1"]}
    error = boundary_error(tmp_path, {"type": "FeatureCollection", "features": [bad, square("A2", 0.2)]})
    assert (error.key, error.got) == ("features[0].properties", '["A1"]')


def test_features_without_properties_are_counted_in_the_note(tmp_path):
    """A feature with no properties cannot be matched: it is ignored and the map's note says so."""
    bare = {"type": "Feature", "geometry": square("Z", 0.9)["geometry"]}
    collection = {"type": "FeatureCollection", "features": [square("A1", 0.0), bare, square("A2", 0.2), square("Z9", 0.4)]}
    area_map = load_areas(source(tmp_path, boundaries=geojson(tmp_path, collection))).area_map
    assert area_map.kind == "boundaries" and area_map.note == "1 feature for other areas ignored; 1 feature with no properties ignored"


def test_geometry_that_is_not_an_object_is_refused(tmp_path):
    """A geometry given as a list is no polygon."""
    bad = {**square("A1", 0.0), "geometry": [[0, 51]]}
    error = boundary_error(tmp_path, {"type": "FeatureCollection", "features": [bad, square("A2", 0.2)]})
    assert (error.key, error.got, error.what) == ("features[0]", "A1: list", "feature has no polygon geometry")


@pytest.mark.parametrize(
    "ring", [[[float("nan"), 51.0], [0.1, 51.0], [0.1, 51.1]], [[0.0], [0.1], [0.2]], [[0.0, 51.0], [0.1, 51.0]], None]
)
def test_malformed_coordinates_are_refused(tmp_path, ring):
    """Rings need at least three finite [x, y] positions: NaN, one-number positions, two points or null are refused."""
    bad = square("A1", 0.0)
    bad["geometry"]["coordinates"] = [ring] if ring is not None else None
    error = boundary_error(tmp_path, {"type": "FeatureCollection", "features": [bad, square("A2", 0.2)]})
    assert (error.key, error.what) == ("features[0]", "feature has malformed coordinates") and error.got.startswith("A1: ")


def test_absurd_coordinates_are_refused(tmp_path):
    """A position at 1e300 is neither degrees nor metres of any grid covering England and Wales."""
    bad = square("A1", 0.0)
    bad["geometry"]["coordinates"][0][1] = [1e300, 51.0]
    error = boundary_error(tmp_path, {"type": "FeatureCollection", "features": [bad, square("A2", 0.2)]})
    assert (error.key, error.what) == ("features[0]", "feature has coordinates out of range")


@pytest.mark.parametrize("value, shown_as", [("51.0", '"51.0"'), (True, "true"), (None, "null"), ([51.0], "[51.0]")])
def test_coordinate_that_is_not_a_number_is_refused(tmp_path, value, shown_as):
    """numpy would read "51.0" and true as numbers: a coordinate that is not a JSON number is refused, naming the feature."""
    bad = square("A1", 0.0)
    bad["geometry"]["coordinates"][0][2] = [0.1, value]
    error = boundary_error(tmp_path, {"type": "FeatureCollection", "features": [square("A2", 0.2), bad]})
    assert (error.file, error.line, error.key, error.got) == (str(tmp_path / "boundaries.geojson"), None, "features[1]", f"A1: {shown_as}")
    assert error.what == "feature has a coordinate that is not a number"


def test_coordinate_given_as_text_exact_message(tmp_path):
    """The whole line for a latitude written as a string."""
    bad = square("A1", 0.0)
    bad["geometry"]["coordinates"][0][0] = ["0.0", "51.0"]
    error = boundary_error(tmp_path, {"type": "FeatureCollection", "features": [bad, square("A2", 0.2)]})
    assert str(error) == (
        f"{tmp_path / 'boundaries.geojson'}: features[0]: feature has a coordinate that is not a number (got 'A1: \"0.0\"'; "
        "expected numbers, e.g. [0.52, 51.27], not text in quotes, true/false, null or nested lists); "
        "export the boundaries again as GeoJSON"
    )


def test_integer_coordinate_beyond_a_float_is_out_of_range(tmp_path):
    """An integer of 400 digits cannot become a float: refused as out of range, not a crash."""
    bad = square("A1", 0.0)
    bad["geometry"]["coordinates"][0][1] = [10**400, 51.0]
    error = boundary_error(tmp_path, {"type": "FeatureCollection", "features": [bad, square("A2", 0.2)]})
    assert (error.file, error.line, error.key) == (str(tmp_path / "boundaries.geojson"), None, "features[0]")
    assert error.what == "feature has coordinates out of range"


def test_british_national_grid_coordinates_are_accepted(tmp_path):
    """Eastings and northings in metres are read as a projected map."""

    def metres(code, x):
        ring = [[x, 150_000.0], [x + 5_000, 150_000.0], [x + 5_000, 155_000.0], [x, 150_000.0]]
        return {"type": "Feature", "properties": {"code": code}, "geometry": {"type": "Polygon", "coordinates": [ring]}}

    collection = {"type": "FeatureCollection", "features": [metres("A1", 550_000.0), metres("A2", 560_000.0)]}
    assert load_areas(source(tmp_path, boundaries=geojson(tmp_path, collection))).area_map.projected


def test_empty_boundary_file_is_refused(tmp_path):
    """An empty GeoJSON file says it is empty."""
    error = boundary_error(tmp_path, text="")
    assert (error.key, error.what) == ("data.boundaries", "is empty")


def test_absurdly_nested_json_is_refused(tmp_path):
    """JSON nested deeper than Python can read is refused, not a crash."""
    error = boundary_error(tmp_path, text="[" * 100_000 + "]" * 100_000)
    assert error.what == "is not valid GeoJSON: it is nested deeper than any GeoJSON"


def test_boundary_folder_is_refused(tmp_path):
    """A folder named as the boundaries file is refused, calling it GeoJSON."""
    (tmp_path / "boundaries").mkdir()
    with pytest.raises(DataError) as caught:
        load_areas(source(tmp_path, boundaries=str(tmp_path / "boundaries")))
    assert caught.value.what == "is a folder, not a GeoJSON file"


# ---------------------------------------------------------------- every message is one line

ONE_LINE_CASES = {
    "short row": {"counts": "area_code,crime_type,count\nA1\n"},
    "long row with a line break in a quoted field": {"counts": 'area_code,crime_type,count\nA1,"Bur\nglary",1,2\n'},
    "code with a line break": {"counts": 'area_code,crime_type,count\n"A\n1",Burglary,1\n'},
    "crime type with a line break": {"counts": 'area_code,crime_type,count\nA1,"Burg\r\nlary",1\n'},
    "header with a line break": {"counts": 'area_code,"crime\ntype",count\nA1,Burglary,1\n'},
    "long value": {"counts": "area_code,crime_type,count\nA1,Burglary," + "9" * 5000 + "\n"},
    "duplicate name with a line break": {"areas": 'area_code,area_name,population\nA1,"Med\nway",1\n"A\n2","Med\nway",2\n'},
    "period with a line break": {"counts": 'area_code,crime_type,count,period_start,period_end\nA1,Burglary,1,"20\n24",2024\n'},
    "boundary property with a line break": {
        "boundaries": {"type": "FeatureCollection", "features": [{**square("A1", 0.0), "properties": {"co\nde": "A1"}}]}
    },
    "not UTF-8": {"counts_bytes": b"area_code,crime_type,count\n\xff\n"},
}


@pytest.mark.parametrize("case", list(ONE_LINE_CASES))
def test_every_data_error_is_one_line(tmp_path, case):
    """Whatever the file holds (line breaks, long values, bad bytes), the error is one line of readable length."""
    spec = dict(ONE_LINE_CASES[case])
    if "counts_bytes" in spec:
        (tmp_path / "raw.csv").write_bytes(spec.pop("counts_bytes"))
        data = DataSource(areas=str(source(tmp_path).areas), crime_counts=str(tmp_path / "raw.csv"))
    elif "boundaries" in spec:
        data = source(tmp_path, boundaries=geojson(tmp_path, spec["boundaries"]))
    else:
        data = source(tmp_path, **spec)
    with pytest.raises(DataError) as caught:
        load_areas(data)
    text = str(caught.value)
    assert "\n" not in text and "\r" not in text and len(text) < 400, text


# ---------------------------------------------------------------- through the command line

BAD_RUNS = {
    "short count row": ("counts", {"counts": "area_code,crime_type,count\nA1,Burglary\n"}, "counts.csv:2: count: row has 2 fields"),
    "long count row": ("counts", {"counts": "area_code,crime_type,count\nA1,Burglary,1,000\n"}, "counts.csv:2: row has 4 fields"),
    "short area row": (
        "areas",
        {"areas": "area_code,area_name,population\nA1,North\nA2,South,5\n"},
        "areas.csv:2: population: row has 2 fields",
    ),
    "long area row": ("areas", {"areas": "area_code,area_name,population\nA1,North,5,6\nA2,South,5\n"}, "areas.csv:2: row has 4 fields"),
    "count out of range": ("counts", {"counts": "area_code,crime_type,count\nA1,Burglary,1e300\n"}, "counts.csv:2: count: is out of range"),
    "count not finite": (
        "counts",
        {"counts": "area_code,crime_type,count\nA1,Burglary,nan\n"},
        "counts.csv:2: count: is not a finite number",
    ),
    "population out of range": (
        "areas",
        {"areas": "area_code,area_name,population\nA1,North,1e300\nA2,South,5\n"},
        "areas.csv:2: population: is out of range",
    ),
    "duplicate area name": (
        "areas",
        {"areas": "area_code,area_name,population\nA1,Medway,10\nA2,Medway,5\n"},
        "areas.csv:3: area_name: area name appears twice, on lines 2 and 3",
    ),
    "duplicate area code": (
        "areas",
        {"areas": "area_code,area_name,population\nA1,North,10\nA1,South,5\n"},
        "areas.csv:3: area_code: area code appears twice, on lines 2 and 3",
    ),
    "empty area code": ("counts", {"counts": "area_code,crime_type,count\n,Burglary,1\n"}, "counts.csv:2: area_code: row has no area code"),
    "column named twice": (
        "counts",
        {"counts": "area_code,crime_type,count,count\nA1,Burglary,1,2\n"},
        "counts.csv:1: count: the header names a column twice",
    ),
    "half a period": (
        "counts",
        {"counts": "area_code,crime_type,count,period_end\nA1,Burglary,1,2026-05\n"},
        "counts.csv:1: period_end: has a period_end column but no period_start column",
    ),
    "counts header only": (
        "counts",
        {"counts": "area_code,crime_type,count\n"},
        "counts.csv:2: data.crime_counts: has a header but no rows",
    ),
    "counts not UTF-8": (
        "counts",
        {"counts": b"area_code,crime_type,count\nA1,Burglary,\xa31\n"},
        "counts.csv:2: data.crime_counts: is not UTF-8 text",
    ),
    "counts binary": ("counts", {"counts": b"\x00\x01\x02PK\x03\x04"}, "counts.csv:1: data.crime_counts: holds NUL bytes"),
    "counts folder": ("counts", {"counts": None}, "counts.csv: data.crime_counts: is a folder, not a CSV file"),
    "short tile row": ("tiles", {"tiles": "area_code,row,column\nA1,0\nA2,0,1\n"}, "tiles.csv:2: column: row has 2 fields"),
    "tile out of range": ("tiles", {"tiles": "area_code,row,column\nA1,0,1e10\nA2,0,1\n"}, "tiles.csv:2: column: is out of range"),
    "tiles header only": ("tiles", {"tiles": "area_code,row,column\n"}, "tiles.csv:2: data.tile_layout: has a header but no rows"),
    "boundaries a list": ("boundaries", {"boundaries": "[]"}, "boundaries.geojson: data.boundaries: is not a GeoJSON FeatureCollection"),
    "feature not an object": (
        "boundaries",
        {"boundaries": '{"type": "FeatureCollection", "features": [1]}'},
        "boundaries.geojson: features[0]: is not a GeoJSON Feature",
    ),
    "properties not an object": (
        "boundaries",
        {"boundaries": '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": "A1"}]}'},
        "boundaries.geojson: features[0].properties: feature's properties are not a JSON object",
    ),
    "malformed coordinates": (
        "boundaries",
        {
            "boundaries": json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"code": "A1"},
                            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]},
                        }
                    ],
                }
            )
        },
        "boundaries.geojson: features[0]: feature has malformed coordinates",
    ),
    "coordinate not a number": (
        "boundaries",
        {
            "boundaries": json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"code": "A1"},
                            "geometry": {"type": "Polygon", "coordinates": [[[0, "x"], [1, 1], [1, 0]]]},
                        }
                    ],
                }
            )
        },
        "boundaries.geojson: features[0]: feature has a coordinate that is not a number (got 'A1: \"x\"'",
    ),
    "coordinates out of range": (
        "boundaries",
        {
            "boundaries": json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"code": "A1"},
                            "geometry": {"type": "Polygon", "coordinates": [[[0, 1e300], [1, 1], [1, 0]]]},
                        }
                    ],
                }
            )
        },
        "boundaries.geojson: features[0]: feature has coordinates out of range",
    ),
    "geometry not an object": (
        "boundaries",
        {"boundaries": '{"type": "FeatureCollection", "features": [{"properties": {"code": "A1"}, "geometry": 7}]}'},
        "boundaries.geojson: features[0]: feature has no polygon geometry (got 'A1: int'",
    ),
    "quote never closed": (
        "counts",
        {"counts": 'area_code,crime_type,count\nA1,"Burglary,1\nA2,Robbery,3\n'},
        "counts.csv:2: count: row has 2 fields, the header has 3",
    ),
    "boundaries nested too deep": (
        "boundaries",
        {"boundaries": "[" * 100_000},
        "boundaries.geojson: data.boundaries: is not valid GeoJSON",
    ),
    "boundaries empty": ("boundaries", {"boundaries": ""}, "boundaries.geojson: data.boundaries: is empty"),
}


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_cli_run_refuses_bad_input_in_one_line(tmp_path, case):
    """`safer-streets run` on a bad data file: exit 2, one `error:` line naming the file, nothing on stdout, nothing written."""
    _, texts, expected = BAD_RUNS[case]
    files = {"areas": "areas.csv", "counts": "counts.csv", "tiles": "tiles.csv", "boundaries": "boundaries.geojson"}
    contents = {"areas": AREAS, "counts": COUNTS, **texts}
    for name, text in contents.items():
        path = tmp_path / files[name]
        if text is None:
            path.mkdir()
        elif isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    data = {"areas": "areas", "crime_counts": "counts", "tile_layout": "tiles", "boundaries": "boundaries"}
    lines = [f'{key} = "{tmp_path / files[name]}"' if name in contents else f'{key} = ""' for key, name in data.items()]
    scenario = tmp_path / "bad.toml"
    scenario.write_text(
        f'extends = "{REPO / "configs" / "kent.toml"}"\nname = "bad-input"\n[data]\n' + "\n".join(lines) + "\n", encoding="utf-8"
    )
    before = sorted(path.name for path in tmp_path.iterdir())
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(scenario), "--out", str(out), "--no-charts"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert f"{tmp_path}/{expected}" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "" and not out.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == before


def test_cli_run_refuses_an_empty_data_path_in_one_line(tmp_path):
    """data.crime_counts = "": exit 2, one `error:` line naming the key, nothing written."""
    scenario = tmp_path / "bad.toml"
    scenario.write_text(f'extends = "{REPO / "configs" / "kent.toml"}"\nname = "bad-input"\n[data]\ncrime_counts = ""\n', encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(scenario), "--out", str(out), "--no-charts"])
    assert result.exit_code == 2, result.output
    assert result.stderr == "error: data.crime_counts: names no file (got ''; expected the path of a CSV file, or embedded:<name>)\n"
    assert result.stdout == "" and not out.exists()


# ---------------------------------------------------------------- monthly history for the forecast

HISTORY = (
    "area_code,crime_type,month,count\n"
    "A1,Burglary,2023-11,4\nA1,Burglary,2024-01,5\nA2,Burglary,2024-02,7\nA2,Robbery,2024-01,1\nZ9,Drugs,2024-01,3\n"
)


def history_source(tmp_path, history=HISTORY, **kwargs) -> DataSource:
    (tmp_path / "history.csv").write_text(history, encoding="utf-8")
    return source(tmp_path, history=str(tmp_path / "history.csv"), period_start="2024-01", period_end="2024-02", **kwargs)


def test_history_keeps_only_the_months_it_has(tmp_path):
    """A history with a gap (no December) is read by area, crime type and month; other areas are counted, as the counts' are."""
    areas = load_areas(history_source(tmp_path, other_areas="count"))
    assert areas.history.labels("month") == ("2023-11", "2024-01", "2024-02")
    assert areas.history.get(area="A2", crime_type="Burglary", month="2024-02") == 7
    history_file = areas.sources[-1]
    assert (history_file.role, history_file.rows_read, history_file.rows_used, history_file.rows_other_areas) == ("history", 5, 4, 1)


def test_history_area_outside_the_table_is_an_error_by_default(tmp_path):
    """Without data.other_areas = "count" a history row for an unknown area is refused at its line."""
    with pytest.raises(DataError) as caught:
        load_areas(history_source(tmp_path))
    assert caught.value.line == 6 and caught.value.file.endswith("history.csv")


def test_history_month_must_be_a_month(tmp_path):
    """A month written 2024/01 is refused with file, line and column."""
    with pytest.raises(DataError) as caught:
        load_areas(history_source(tmp_path, history="area_code,crime_type,month,count\nA1,Burglary,2024/01,4\n"))
    assert (caught.value.line, caught.value.key) == (2, "month")


def test_history_must_cover_the_data_period(tmp_path):
    """A history that stops before the data period ends is one error naming data.history and the missing month."""
    with pytest.raises(DataError) as caught:
        load_areas(history_source(tmp_path, history="area_code,crime_type,month,count\nA1,Burglary,2024-01,4\n"))
    assert caught.value.key == "data.history" and caught.value.got == "missing 2024-02 (1 month)"


def test_history_repeated_cell_names_both_lines(tmp_path):
    """The same area, crime type and month twice is refused, naming the first line."""
    with pytest.raises(DataError) as caught:
        load_areas(history_source(tmp_path, history=HISTORY + "A1,Burglary,2024-01,6\n", other_areas="count"))
    assert caught.value.line == 7 and "lines 3 and 7" in caught.value.what


def test_without_a_history_the_data_periods_months_are_the_history(tmp_path):
    """data.history empty: the counts file's monthly columns over the data period are what the forecast fits."""
    areas = load_areas(
        source(tmp_path, areas=LSOA_AREAS, counts=MONTHLY, level="lsoa", other_areas="count", period_start="2024-01", period_end="2024-02")
    )
    assert areas.history is areas.monthly


def test_shipped_kent_history_matches_the_annual_counts():
    """The shipped monthly history summed over Jun 2025 - May 2026 equals the annual counts cell for cell (175,719 records)."""
    areas = load_areas(DataSource(history="embedded:kent_crime_by_type_monthly.csv"))
    period = [month for month in areas.history.labels("month") if "2025-06" <= month <= "2026-05"]
    assert len(areas.history.labels("month")) == 41
    assert (areas.history.take("month", period).values.sum(axis=2) == areas.counts.values).all()


def test_an_area_missing_a_month_of_its_history_is_counted_and_warned(tmp_path):
    """Medway with no rows for October 2025 while every other district has them: read as 0 records, and said so."""
    from importlib import resources

    from simulator import load_scenario, run

    text = (resources.files("simulator") / "data" / "kent_crime_by_type_monthly.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    kept = [line for line in lines if not ("E06000035" in line and "2025-10" in line)]
    assert len(kept) < len(lines)
    history = tmp_path / "history.csv"
    history.write_text("\n".join(kept) + "\n", encoding="utf-8")
    scenario = REPO / "scenarios" / "kent-baseline.toml"
    result = run(load_scenario(scenario, (f'data.history="{history.as_posix()}"', "demand.draws=10")))
    assert result.demand.areas.history_gaps == (("E06000035", "2025-10"),)
    assert any(
        "has no rows for 1 area-month that other areas have" in warning and "Medway 2025-10" in warning for warning in result.warnings()
    )


# ---------------------------------------------------------------- bulk reading and row-by-row reading agree

PLAIN_AREAS = (
    "area_code,area_name,parent_code,parent_name,population,population_source\nA1,North,F1,Force,1000,ONS\nA2,South,F1,Force,3000,ONS\n"
)
PLAIN_COUNTS = (
    "area_code,crime_type,count,period_start,period_end,source\n"
    "A1,Burglary,10,2025-06,2026-05,police.uk\nA2,Burglary,30,2025-06,2026-05,police.uk\n"
    "A2,Robbery,3,2024-06,2025-05,older\nZZ,Robbery,4,2025-06,2026-05,police.uk\n"
)


def read_both(tmp_path, areas: str, counts: str, padded_areas: str, padded_counts: str):
    """The same tables read in bulk (plain values) and row by row (a padded value sends a file there)."""
    (tmp_path / "plain").mkdir()
    (tmp_path / "padded").mkdir()
    plain = load_areas(source(tmp_path / "plain", areas, counts, other_areas="count"))
    return plain, load_areas(source(tmp_path / "padded", padded_areas, padded_counts, other_areas="count"))


def test_counts_read_in_bulk_equal_counts_read_row_by_row(tmp_path):
    """Cells, rows by kind and the source line are the same whichever way the counts file is read."""
    plain, padded = read_both(tmp_path, PLAIN_AREAS, PLAIN_COUNTS, PLAIN_AREAS, PLAIN_COUNTS.replace("A1,Burglary,10", "A1,Burglary, 10"))
    assert (plain.counts.values.tolist(), plain.count_source) == (padded.counts.values.tolist(), padded.count_source)
    rows = [
        (file.rows_read, file.rows_used, file.rows_other_period, file.rows_other_areas) for file in (plain.sources[1], padded.sources[1])
    ]
    assert rows == [(4, 2, 1, 1), (4, 2, 1, 1)]


def test_areas_read_in_bulk_equal_areas_read_row_by_row(tmp_path):
    """Codes, names, parents, population and its source are the same whichever way the area table is read."""
    plain, padded = read_both(
        tmp_path, PLAIN_AREAS, PLAIN_COUNTS, PLAIN_AREAS.replace("North,F1,Force,1000", 'North,F1,Force," 1,000"'), PLAIN_COUNTS
    )
    fields = ("codes", "names", "parents", "parent_names", "population_source")
    assert [getattr(plain, name) for name in fields] == [getattr(padded, name) for name in fields]
    assert plain.population.values.tolist() == padded.population.values.tolist() == [1000.0, 3000.0]


def test_lsoa_code_and_name_columns_are_area_columns(tmp_path):
    """An ONS LSOA table (lsoa_code, lsoa_name, population) is an area table; its counts may name lsoa_code."""
    areas = load_areas(
        source(tmp_path, "lsoa_code,lsoa_name,population\nE01000001,Medway 015A,1500\n", "lsoa_code,crime_type,count\nE01000001,Drugs,2\n")
    )
    assert (areas.codes, areas.names, areas.counts.get(area="E01000001", crime_type="Drugs")) == (("E01000001",), ("Medway 015A",), 2)


def test_parents_can_come_from_lsoa_names(tmp_path):
    """data.parent_from_name reads 'Medway 015A' as the local authority Medway, as parent code and name."""
    areas = load_areas(
        source(
            tmp_path,
            "lsoa_code,lsoa_name,population\nE01000001,Medway 015A,1500\n",
            "lsoa_code,crime_type,count\nE01000001,Drugs,2\n",
            parent_from_name=True,
        )
    )
    assert (areas.parents, areas.parent_names) == (("Medway",), ("Medway",))


@settings(max_examples=300)
@given(
    st.lists(
        st.lists(st.sampled_from(["", " ", "E01", "a b", "12", "x\ty", "é"]), min_size=0, max_size=4).map(",".join),
        min_size=0,
        max_size=8,
    ),
    st.sampled_from(["", "\n", "\n\n"]),
    st.sampled_from(["", "\n", ",,,\n"]),
)
def test_a_table_without_quotes_splits_as_the_csv_reader_reads_it(lines, end, before):
    """Split at commas and newlines, a quote-free table gives the CSV reader's columns, and None where the reader's does."""
    from simulator.datafiles import Table

    text = before + "code,name,count\n" + "\n".join(lines) + end
    split = Table(text, "counts.csv").columns(["count", "code"])
    read = Table(text, "counts.csv")
    read._plain_lines = lambda: None  # the CSV reader's rows, as for a table with quotes
    assert split == read.columns(["count", "code"])


@pytest.mark.parametrize(
    "history",
    [
        HISTORY,
        HISTORY.replace("A2,Robbery,2024-01,1\n", "A2,Robbery,2024-01,1\nA2,Drugs,2023-12,2\n"),
        "area_code,crime_type,month,count,source\nA2,Robbery,2024-02,3,x\nA1,Burglary,2024-01,0,y\nA1,Burglary,2024-02,9,x\n",
        'area_code,crime_type,month,count\nA1,Burglary,2024-01,4\n"A1",Robbery,2024-02,5\n',
    ],
    ids=["gap-and-other-area", "gaps-in-one-area", "source-column", "quoted"],
)
def test_history_read_in_bulk_equals_the_row_by_row_reading(tmp_path, monkeypatch, history):
    """The bulk reading of a plain history gives the same array, months, gaps and row counts as the row-by-row one."""
    data = history_source(tmp_path, history, other_areas="count")
    fast = load_areas(data)
    monkeypatch.setattr(inputs, "_plain_history", lambda *arguments: None)
    slow = load_areas(data)
    assert fast.history.coords == slow.history.coords
    assert (fast.history.values == slow.history.values).all()
    assert fast.history_gaps == slow.history_gaps
    assert fast.sources == slow.sources
