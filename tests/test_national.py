"""The national table: LSOAs from a population table, each with its local authority and force, missing forces left out."""

from __future__ import annotations

import gzip
import hashlib
import shutil

import pytest
from conftest import REPO

from simulator.errors import DataError
from simulator.inputs import NOT_COVERED, LeftOut, Unlocated, load_areas
from simulator.pipeline import check_draws_fit
from simulator.scenario import load_scenario
from simulator.schema import DataSource

FIXTURE = REPO / "tests" / "fixtures" / "national"
KENT_AUTHORITIES = {
    "Ashford",
    "Canterbury",
    "Dartford",
    "Dover",
    "Gravesham",
    "Maidstone",
    "Medway",
    "Sevenoaks",
    "Shepway",
    "Swale",
    "Thanet",
    "Tonbridge and Malling",
    "Tunbridge Wells",
}


def national(tmp_path=None, counts: str | None = None, forces: str | None = None, **changes) -> DataSource:
    """The fixture as a data source; `counts` or `forces` replace that file's text (written under tmp_path)."""
    paths = {"counts": FIXTURE / "counts.csv", "forces": FIXTURE / "forces.csv"}
    for name, text in (("counts", counts), ("forces", forces)):
        if text is not None:
            paths[name] = tmp_path / f"{name}.csv"
            paths[name].write_text(text, encoding="utf-8")
    settings = {
        "level": "lsoa",
        "areas": str(FIXTURE / "population.csv"),
        "crime_counts": str(paths["counts"]),
        "forces": str(paths["forces"]),
        "parent_from_name": True,
        "period_start": "2021-03",
        "period_end": "2022-02",
        "force_name": "England and Wales",
        **changes,
    }
    return DataSource(**settings)


def counts_text() -> str:
    return (FIXTURE / "counts.csv").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def fixture_areas():
    return load_areas(national())


def test_parents_are_local_authorities_read_from_lsoa_names(fixture_areas):
    """'Alphaville 001B' has the parent Alphaville: the name without its LSOA suffix."""
    assert fixture_areas.parents == ("Alphaville", "Alphaville", "Alphaville", "Betatown", "Betatown")
    assert fixture_areas.parent_name(3) == "Betatown"


def test_area_force_is_the_territorial_force_with_most_records(fixture_areas):
    """The border LSOA Alphaville 001B (5 records of alpha, 3 of beta) is alpha's: Westshire Police."""
    assert fixture_areas.force_of(fixture_areas.codes.index("E01000002")) == "Westshire Police"


def test_a_tie_goes_to_the_first_force_by_name(fixture_areas):
    """Betatown 001B has 2 records of each force: Eastshire (code beta) comes before Westshire (code alpha) by name."""
    assert fixture_areas.force_of(fixture_areas.codes.index("E01000005")) == "Eastshire Police"


def test_an_area_without_records_is_a_zero_of_its_local_authority_force(fixture_areas):
    """Alphaville 002A has no rows: kept with 0 records, in the force of its local authority."""
    position = fixture_areas.codes.index("E01000003")
    assert fixture_areas.counts.values[position].sum() == 0
    assert fixture_areas.force_of(position) == "Westshire Police"


def test_transport_police_records_count_in_the_area(fixture_areas):
    """Betatown 001A's robberies are Eastshire's 10 and British Transport Police's 4."""
    assert fixture_areas.counts.get(area="E01000004", crime_type="Robbery") == 14


def test_transport_police_is_never_an_area_force(fixture_areas):
    """BTP's 7 records in Betatown 001B outnumber each territorial force's 2, yet the LSOA is Eastshire's."""
    assert fixture_areas.force_names == ("Eastshire Police", "Westshire Police")


def test_the_force_name_counts_the_forces(fixture_areas):
    """Areas spanning several forces are labelled with how many."""
    assert fixture_areas.force_name == "England and Wales (2 forces)"


def test_unlocated_records_are_counted_per_force(fixture_areas):
    """`unlocated` rows are reported by force name and placed in no area."""
    assert fixture_areas.unlocated == (Unlocated("British Transport Police", 1, 4.0), Unlocated("Westshire Police", 2, 10.0))
    assert "unlocated" not in fixture_areas.codes


def test_every_counts_row_is_accounted_for(fixture_areas):
    """14 rows read = 9 used + 2 in left-out areas + 3 unlocated."""
    counts = fixture_areas.sources[1]
    assert (counts.rows_read, counts.rows_used, counts.rows_left_out, counts.rows_unlocated) == (14, 9, 2, 3)


def test_areas_of_an_excluded_force_are_left_out_as_one_group(fixture_areas):
    """Gammaton's two LSOAs (4,500 residents, 7 stray records) are left out under Gamma Police, with its reason."""
    (group,) = fixture_areas.left_out
    assert (group.group, group.areas, group.population, group.records) == ("Gamma Police", 2, 4500.0, 7.0)
    assert group.reason.startswith("its street files could not be read; the 7 records")
    assert fixture_areas.codes == ("E01000001", "E01000002", "E01000003", "E01000004", "E01000005")


def test_area_table_counts_left_out_rows(fixture_areas):
    """The population table's 7 rows: 5 areas modelled, 2 left out."""
    areas = fixture_areas.sources[0]
    assert (areas.rows_read, areas.rows_used, areas.rows_left_out) == (7, 5, 2)


def test_a_local_authority_with_almost_no_records_is_left_out_without_a_list(tmp_path):
    """With no local authorities listed, Gammaton (1 territorial record for 4,500 residents) falls below the floor."""
    forces = (FIXTURE / "forces.csv").read_text(encoding="utf-8").replace(",Gammaton", ",")
    areas = load_areas(national(tmp_path, forces=forces))
    assert [(group.group, group.areas, group.population) for group in areas.left_out] == [
        ("Gamma Police", 0, 0.0),
        (NOT_COVERED, 2, 4500.0),
    ]
    assert areas.left_out[1].reason.endswith(
        "not safety: Gammaton; the 7 records the counts hold in these areas "
        "(neighbouring forces' border records, British Transport Police) are not used"
    )


def test_the_coverage_floor_counts_territorial_records_only():
    """Betatown holds 14 territorial records a year for 2,400 residents (5.8 per 1,000): a floor of 6 leaves it out."""
    areas = load_areas(national(coverage_floor_per_1000=6.0))
    assert [(group.group, group.areas) for group in areas.left_out] == [("Gamma Police", 2), (NOT_COVERED, 2)]


def test_gzipped_files_read_as_their_text(tmp_path):
    """A .gz counts file gives the same counts as the plain one."""
    zipped = tmp_path / "counts.csv.gz"
    zipped.write_bytes(gzip.compress(counts_text().encode("utf-8")))
    areas = load_areas(national(crime_counts=str(zipped)))
    assert areas.counts.values.tolist() == load_areas(national()).counts.values.tolist()


def test_gzipped_file_hash_is_of_the_file_as_stored(tmp_path):
    """The SHA-256 a rerun checks is what sha256sum prints for the .gz file."""
    zipped = tmp_path / "counts.csv.gz"
    zipped.write_bytes(gzip.compress(counts_text().encode("utf-8"), mtime=0))
    areas = load_areas(national(crime_counts=str(zipped)))
    assert areas.sources[1].sha256 == hashlib.sha256(zipped.read_bytes()).hexdigest()


def test_a_gz_name_on_a_plain_file_is_refused(tmp_path):
    """A file named .gz that is not gzipped is a DataError naming it."""
    plain = tmp_path / "counts.csv.gz"
    shutil.copy(FIXTURE / "counts.csv", plain)
    with pytest.raises(DataError) as caught:
        load_areas(national(crime_counts=str(plain)))
    assert (caught.value.file, caught.value.key, caught.value.what) == (
        str(plain),
        "data.crime_counts",
        "is named .gz but cannot be unzipped",
    )


def test_a_bad_count_names_file_line_and_column(tmp_path):
    """A count that is not a number is refused with the file, its line and the count column."""
    text = counts_text().replace("E01000002,Alphaville 001B,alpha,Burglary,5", "E01000002,Alphaville 001B,alpha,Burglary,five")
    with pytest.raises(DataError) as caught:
        load_areas(national(tmp_path, counts=text))
    assert (caught.value.file, caught.value.line, caught.value.key, caught.value.got) == (str(tmp_path / "counts.csv"), 4, "count", "five")


def test_a_repeated_area_force_and_crime_type_names_both_lines(tmp_path):
    """The same LSOA, force and crime type twice is refused on its second line, naming the first."""
    text = counts_text() + "E01000001,Alphaville 001A,alpha,Burglary,1\n"
    with pytest.raises(DataError) as caught:
        load_areas(national(tmp_path, counts=text))
    assert (caught.value.line, caught.value.what) == (16, "area, force and crime type appear twice, on lines 2 and 16")


def test_a_force_missing_from_the_forces_table_is_refused(tmp_path):
    """A counts row of a force the forces table does not name is refused at its line, with the closest code."""
    text = counts_text().replace("E01000004,Betatown 001A,beta,Robbery", "E01000004,Betatown 001A,betta,Robbery")
    with pytest.raises(DataError) as caught:
        load_areas(national(tmp_path, counts=text))
    assert (caught.value.line, caught.value.got, caught.value.hint) == (6, "betta", "did you mean 'beta'?")


def test_an_excluded_force_with_rows_is_refused(tmp_path):
    """A force the table calls missing must have no rows: the error names the forces table's line."""
    text = counts_text() + "E01000006,Gammaton 001A,gamma,Burglary,3\n"
    with pytest.raises(DataError) as caught:
        load_areas(national(tmp_path, counts=text))
    assert (caught.value.file, caught.value.line, caught.value.key) == (str(FIXTURE / "forces.csv"), 5, "status")


def test_a_listed_local_authority_must_be_a_parent(tmp_path):
    """A misspelt local authority under an excluded force is refused with the closest parent."""
    forces = (FIXTURE / "forces.csv").read_text(encoding="utf-8").replace(",Gammaton", ",Gamaton")
    with pytest.raises(DataError) as caught:
        load_areas(national(tmp_path, forces=forces))
    assert (caught.value.line, caught.value.got, caught.value.hint) == (5, "Gamaton", "did you mean 'Gammaton'?")


def test_a_name_without_an_lsoa_suffix_is_refused_when_parents_come_from_names(tmp_path):
    """parent_from_name needs names such as 'Medway 015A': another name is refused at its line."""
    population = (FIXTURE / "population.csv").read_text(encoding="utf-8").replace("Betatown 001B", "Betatown")
    (tmp_path / "population.csv").write_text(population, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_areas(national(areas=str(tmp_path / "population.csv")))
    assert (caught.value.line, caught.value.key, caught.value.got) == (6, "lsoa_name", "Betatown")


def test_row_by_row_reading_gives_what_the_bulk_read_gives(tmp_path, fixture_areas):
    """A padded cell sends the file to the row-by-row reader, which strips it and gives the same counts and forces."""
    text = counts_text().replace("E01000004,Betatown 001A,beta,Robbery,10", "E01000004 , Betatown 001A, beta ,Robbery, 10 ")
    areas = load_areas(national(tmp_path, counts=text))
    assert (areas.counts.values.tolist(), areas.forces, areas.unlocated) == (
        fixture_areas.counts.values.tolist(),
        fixture_areas.forces,
        fixture_areas.unlocated,
    )


def test_counts_with_a_force_column_need_an_area_table(tmp_path):
    """Without a population table the unlocated rows and the left-out areas could not be told apart: refused."""
    with pytest.raises(DataError) as caught:
        load_areas(national(areas=""))
    assert caught.value.key == "data.areas"


# ---------------------------------------------------------------- the shipped national model


@pytest.fixture(scope="module")
def shipped():
    return load_scenario(REPO / "scenarios" / "england-wales-round4.toml").scenario


@pytest.fixture(scope="module")
def shipped_areas(shipped):
    return load_areas(shipped.data)


def test_shipped_model_keeps_the_lsoas_of_38_forces(shipped_areas):
    """23,768 of the 34,753 LSOAs are modelled, in 38 territorial forces (not BTP, not Northern Ireland)."""
    assert (len(shipped_areas.codes), len(shipped_areas.force_names)) == (23_768, 38)
    assert not {"British Transport Police", "Police Service of Northern Ireland"} & set(shipped_areas.force_names)


def test_shipped_model_leaves_out_the_five_missing_forces(shipped_areas):
    """10,985 LSOAs and 19,556,903 residents, as the data's SOURCES.md counts, in one group per missing force."""
    left_out: tuple[LeftOut, ...] = shipped_areas.left_out
    assert [(group.group, group.areas) for group in left_out] == [
        ("Greater Manchester Police", 1_673),
        ("Metropolitan Police Service", 4_829),
        ("Thames Valley Police", 1_415),
        ("West Midlands Police", 1_680),
        ("West Yorkshire Police", 1_388),
    ]
    assert (sum(group.areas for group in left_out), sum(group.population for group in left_out)) == (10_985, 19_556_903)


def test_shipped_model_places_every_kent_lsoa_in_kent_police(shipped_areas):
    """Kent's 1,065 LSOAs of 2011 (its 13 local authorities) are all Kent Police's."""
    kent = [shipped_areas.force_of(a) for a, parent in enumerate(shipped_areas.parents) if parent in KENT_AUTHORITIES]
    assert (len(kent), set(kent)) == (1_065, {"Kent Police"})


def test_shipped_model_reports_the_unlocated_records(shipped_areas):
    """238,889 records have no LSOA, Northern Ireland's 163,811 among them."""
    by_force = {item.force: item.records for item in shipped_areas.unlocated}
    assert (sum(by_force.values()), by_force["Police Service of Northern Ireland"]) == (238_889, 163_811)


def test_shipped_scenario_bids_by_local_authority_with_the_round_4_pot(shipped):
    """The national scenario: round 4, its £75m pot, bids as local-authority clusters."""
    assert (shipped.fund_round, shipped.budget_gbp, shipped.allocation.bid_unit) == ("safer-streets-4", 75_000_000, "parent")


def test_shipped_draws_fit_a_run(shipped, shipped_areas):
    """The shipped number of draws fits the memory of a run over the kept LSOAs."""
    check_draws_fit(shipped.demand.draws, len(shipped_areas.codes))
