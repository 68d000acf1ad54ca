"""Reading the area and crime-count tables: the embedded Kent data and users' CSVs."""

from __future__ import annotations

import pytest

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
    assert area_map.note == "1 features for other areas ignored"
    assert areas.sources[-1].role == "boundaries" and areas.sources[-1].rows_read == 3


def test_multipolygons_keep_every_part(tmp_path):
    """An area in two parts (an island) keeps both rings."""
    first, second = square("A1", 0.0), square("A1", 0.5)
    multi = {"type": "Feature", "properties": {"code": "A1"},
             "geometry": {"type": "MultiPolygon", "coordinates": [first["geometry"]["coordinates"], second["geometry"]["coordinates"]]}}
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
MONTHLY = ("lsoa21_code,lsoa21_name,district,month,crime_type,count\n"
           "L1,Medway 001A,Medway,2024-01,Burglary,2\nL1,Medway 001A,Medway,2024-02,Burglary,3\n"
           "L2,Dover 001A,Dover,2024-02,Robbery,1\nL1,Medway 001A,Medway,2024-03,Burglary,9\n"
           "X9,Elsewhere 001A,Elsewhere,2024-01,Drugs,4\n")


def test_lsoa_table_takes_the_district_as_parent(tmp_path):
    """An LSOA table: the LSOA code is the area, the district code its parent and the district's name the parent's name."""
    areas = load_areas(source(tmp_path, areas=LSOA_AREAS, counts=MONTHLY, level="lsoa", other_areas="count",
                              period_start="2024-01", period_end="2024-02"))
    assert areas.codes == ("L1", "L2") and areas.parents == ("E06000035", "E07000108")
    assert areas.parent_name(1) == "Dover" and areas.level_name == "LSOA"


def test_monthly_counts_sum_over_the_period_and_keep_the_history(tmp_path):
    """Months in the period are summed and kept per month; later months and other areas are counted, not used."""
    areas = load_areas(source(tmp_path, areas=LSOA_AREAS, counts=MONTHLY, level="lsoa", other_areas="count",
                              period_start="2024-01", period_end="2024-02"))
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
    areas = load_areas(DataSource(level="lsoa", areas="embedded:kent_lsoa21.csv", crime_counts="embedded:kent_lsoa_crime_2024-01_to_2024-04.csv",
                                  period_start="2024-01", period_end="2024-04"))
    assert len(areas.codes) == 1107 and areas.counts.values.sum() == 59_403
    assert len(set(areas.parents)) == 13
