"""The awards file a back-test compares with: Kent's real awards read, and every bad row one clear error naming file and line."""

from __future__ import annotations

import datetime

import pytest
from conftest import BASELINE, REPO

from simulator import load_scenario
from simulator.awards import read_awards, round_windows
from simulator.errors import DataError
from simulator.inputs import load_areas

KENT_AWARDS = REPO.parent / "shared" / "data" / "kent_safer_streets_awards.csv"
HEADER = "round,announced,district,area,amount_gbp,recipient,source_url,note\n"
GOOD = '2,2021-06-03,Thanet; Canterbury,"Ramsgate; Canterbury Westgate",769436,Kent PCC,https://example.org/r2,two projects\n'


@pytest.fixture(scope="module")
def kent():
    """The Kent districts by name and code, and the rounds of the baseline scenario."""
    scenario = load_scenario(BASELINE).scenario
    areas = load_areas(scenario.data)
    districts = {**dict(zip(areas.names, areas.codes)), **{code: code for code in areas.codes}}
    return districts, tuple(scenario.rounds)


def write(tmp_path, *rows: str) -> str:
    path = tmp_path / "awards.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return str(path)


def refused(tmp_path, kent, row: str) -> DataError:
    with pytest.raises(DataError) as caught:
        read_awards(write(tmp_path, row), *kent)
    return caught.value


@pytest.mark.skipif(not KENT_AWARDS.is_file(), reason="the shared data folder is not beside the project")
def test_kent_awards_cover_rounds_1_to_5(kent):
    """Kent's published awards: every round 1 to 5, Medway in round 1, Thanet and Canterbury combined in round 2."""
    awards = read_awards(str(KENT_AWARDS), *kent)
    assert awards.round_ids() == tuple(f"safer-streets-{n}" for n in range(1, 6))
    assert awards.awarded_districts("safer-streets-1") == ("E06000035",)
    combined = awards.in_round("safer-streets-2")[0]
    assert combined.combined and combined.districts == ("E07000114", "E07000106")
    assert combined.amount_gbp == 769_436 and combined.announced == datetime.date(2021, 6, 3)
    assert all(award.source_url.startswith("http") for award in awards.awards)


def test_a_combined_award_names_each_district_by_name_or_code(tmp_path, kent):
    """Districts of a combined award are split at '; ' and matched by name (any case) or code."""
    awards = read_awards(write(tmp_path, GOOD.replace("Thanet; Canterbury", "thanet; E07000106")), *kent)
    assert awards.awards[0].districts == ("E07000114", "E07000106")
    assert awards.awards[0].line == 2


def test_an_unknown_district_is_named_with_its_line(tmp_path, kent):
    """A district the scenario does not have: the file, line, column and the name, with examples of known ones."""
    error = refused(tmp_path, kent, GOOD.replace("Thanet; Canterbury", "Thanet; Canterbry"))
    assert (error.line, error.key, error.what, error.got) == (2, "district", "names no district of this scenario", "Canterbry")
    assert "Canterbury" in error.expected


def test_a_round_missing_from_the_scenario_is_refused(tmp_path, kent):
    """Round 9 has no configs/rounds file: refused, listing the rounds the scenario has."""
    error = refused(tmp_path, kent, GOOD.replace("2,2021", "9,2021", 1))
    assert (error.line, error.key, error.what) == (2, "round", "names a round the scenario does not have")
    assert error.expected == "one of 1, 2, 3, 4, 5"


def test_an_amount_with_pence_is_read(tmp_path, kent):
    """Awards can be published to the penny (74942.14)."""
    assert read_awards(write(tmp_path, GOOD.replace("769436", "74942.14")), *kent).awards[0].amount_gbp == pytest.approx(74942.14)


def test_an_amount_that_is_not_a_number_is_refused(tmp_path, kent):
    """A pound sign in the amount: not an amount in pounds and pence, with the cell named."""
    error = refused(tmp_path, kent, GOOD.replace("769436", "£769k"))
    assert (error.line, error.key, error.what) == (2, "amount_gbp", "is not an amount in pounds and pence")


def test_a_date_that_is_not_a_date_is_refused(tmp_path, kent):
    """A date must be YYYY-MM-DD."""
    error = refused(tmp_path, kent, GOOD.replace("2021-06-03", "03/06/2021"))
    assert (error.line, error.key, error.what) == (2, "announced", "is not a date")


def test_an_award_without_a_source_is_refused(tmp_path, kent):
    """Every award needs its source."""
    error = refused(tmp_path, kent, GOOD.replace("https://example.org/r2", ""))
    assert (error.line, error.key, error.what) == (2, "source_url", "has no source")


def test_a_file_without_a_column_or_without_rows_is_refused(tmp_path, kent):
    """A missing column is named from the header; a header alone has no awards."""
    path = tmp_path / "awards.csv"
    path.write_text(HEADER.replace(",note", ""), encoding="utf-8")
    with pytest.raises(DataError, match="has no note column"):
        read_awards(str(path), *kent)
    path.write_text(HEADER, encoding="utf-8")
    with pytest.raises(DataError, match="has no awards"):
        read_awards(str(path), *kent)


def test_a_round_window_is_the_twelve_months_before_its_announcement(tmp_path, kent):
    """Announced 3 June 2021: the window is June 2020 to May 2021, the month of the announcement left out."""
    awards = read_awards(write(tmp_path, GOOD), *kent)
    (window,) = round_windows(awards, tuple(f"2021-{month:02d}" for month in range(1, 6)))
    assert (window.months[0], window.months[-1], len(window.months)) == ("2020-06", "2021-05", 12)
    assert window.present == ("2021-01", "2021-02", "2021-03", "2021-04", "2021-05")
    assert window.missing[:2] == ("2020-06", "2020-07") and len(window.missing) == 7
    assert window.skipped == (
        "the history holds 5 of the 12 months before June 2021 (2020-06 to 2021-05); at least 6 months in a row are needed"
    )


def test_a_round_with_enough_months_is_not_skipped(tmp_path, kent):
    """Six months present of twelve is enough by default; the missing ones are still listed."""
    awards = read_awards(write(tmp_path, GOOD), *kent)
    (window,) = round_windows(awards, tuple(f"2020-{month:02d}" for month in range(6, 12)))
    assert window.skipped == "" and len(window.present) == 6 and len(window.missing) == 6


@pytest.mark.skipif(not KENT_AWARDS.is_file(), reason="the shared data folder is not beside the project")
def test_kents_history_covers_round_4s_window_only_in_full(kent):
    """Kent's monthly history (41 months with gaps) covers the 12 months before round 4 completely, as the data notes say."""
    awards = read_awards(str(KENT_AWARDS), *kent)
    scenario = load_scenario(BASELINE).scenario
    months = load_areas(scenario.data).history.labels("month")
    windows = {window.round_id: window for window in round_windows(awards, months)}
    assert windows["safer-streets-4"].missing == ()
    assert windows["safer-streets-4"].months[0] == "2021-07"
    assert windows["safer-streets-1"].skipped.startswith("the history holds 0 of the 12 months before July 2020")
