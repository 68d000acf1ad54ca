"""The police.uk importer: exact counts, every problem row counted by reason, and the real file format."""

from __future__ import annotations

import collections
import json
import os
import zipfile

import pytest
from click.testing import CliRunner
from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import policeuk
from simulator.cli import cli
from simulator.errors import DataError
from simulator.policeuk import HEADER, district_of, import_street_files

SAMPLE = REPO / "tests" / "fixtures" / "policeuk_kent_street_2024-01_sample.csv"


def row(crime_id="", month="2024-01", code="E01016017", name="Medway 015B", crime_type="Burglary", location="On or near High Street"):
    return [crime_id, month, "Kent Police", "Kent Police", "0.5", "51.3", location, code, name, crime_type, "Under investigation", ""]


def write(path, rows, header=HEADER, newline="\n", bom=False, tail=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    text = newline.join(",".join(fields) for fields in [list(header), *rows]) + newline + tail
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def table(counts) -> dict:
    return {(code, month, crime): count for code, _, _, month, crime, count in counts.iter_rows()}


def test_counts_land_in_lsoa_month_and_type(tmp_path):
    """Three burglaries and a robbery in two LSOAs over two months give exactly those cells."""
    path = write(
        tmp_path / "2024-01-kent-street.csv",
        [
            row("a1"),
            row("a2"),
            row("a3", month="2024-02"),
            row("b1", code="E01024000", name="Thanet 001A", crime_type="Robbery"),
        ],
    )
    counts = import_street_files([path])
    assert table(counts) == {
        ("E01016017", "2024-01", "Burglary"): 2,
        ("E01016017", "2024-02", "Burglary"): 1,
        ("E01024000", "2024-01", "Robbery"): 1,
    }
    assert counts.report.months == ("2024-01", "2024-02")
    assert dict(counts.report.forces) == {"Kent Police": 4}


def test_district_comes_from_the_lsoa_name(tmp_path):
    """The district column is the LSOA name without its code suffix."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row(name="Tonbridge and Malling 004C")])
    assert next(import_street_files([path]).iter_rows())[2] == "Tonbridge and Malling"


@pytest.mark.parametrize(
    "name, district",
    [
        ("Medway 001A", "Medway"),
        ("Folkestone and Hythe 012E", "Folkestone and Hythe"),
        ("Isles of Scilly", "Isles of Scilly"),
        ("Bath 2024", "Bath 2024"),
    ],
)
def test_district_of(name, district):
    """Only a trailing three-digit-and-letter suffix is removed."""
    assert district_of(name) == district


def test_every_problem_kind_is_counted_with_its_line(tmp_path):
    """No LSOA, unknown type, duplicate ID, bad month and a short line: each counted, none silently dropped."""
    path = write(
        tmp_path / "2024-01-kent-street.csv",
        [
            row("a1"),
            row("", code="", name="", location="No Location"),
            row("c1", crime_type="Fraud"),
            row("a1"),
            row("d1", month="Jan 2024"),
            ["e1", "2024-01", "Kent Police"],
            row("f1"),
        ],
    )
    report = import_street_files([path]).report
    assert report.rows_read == 7 and report.rows_aggregated == 2
    assert dict(report.rejected) == {
        "no LSOA (unlocated)": 1,
        "unknown crime type": 1,
        "duplicate crime ID": 1,
        "bad month": 1,
        "malformed line": 1,
    }
    assert dict(report.unknown_crime_types) == {"Fraud": 1}
    assert [(problem.reason, problem.line) for problem in report.examples] == [
        ("no LSOA (unlocated)", 3),
        ("unknown crime type", 4),
        ("duplicate crime ID", 5),
        ("bad month", 6),
        ("malformed line", 7),
    ]


def test_truncated_last_line_is_a_malformed_line(tmp_path):
    """A download cut off mid-row: the partial line is rejected as malformed with its line number."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1"), row("a2")], tail="a3,2024-01,Kent Pol")
    report = import_street_files([path]).report
    assert (report.rows_read, report.rows_aggregated) == (3, 2)
    assert report.examples[0].reason == "malformed line" and report.examples[0].line == 4


def test_bom_and_windows_line_ends_read_the_same(tmp_path):
    """A UTF-8 byte-order mark and CRLF line ends change nothing."""
    rows = [row("a1"), row("a2", crime_type="Drugs"), row("", code="", name="")]
    plain = import_street_files([write(tmp_path / "a" / "2024-01-kent-street.csv", rows)])
    windows = import_street_files([write(tmp_path / "b" / "2024-01-kent-street.csv", rows, newline="\r\n", bom=True)])
    assert table(plain) == table(windows) and plain.report.rejected == windows.report.rejected


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_blocks_cut_anywhere_give_the_same_counts_and_lines(tmp_path, monkeypatch, newline):
    """Wherever a block of characters ends (even between a CR and its LF), the counts and each rejection's line are
    those of reading the file whole."""
    rows = [row(f"c{k}", crime_type="Drugs" if k % 3 else "Burglary") for k in range(12)]
    rows[4] = row("", code="", name="", location="No Location")
    rows[9] = row("c3")
    path = write(tmp_path / "2024-01-kent-street.csv", rows, newline=newline)
    whole = import_street_files([path])
    for size in range(1, 400, 7):
        monkeypatch.setattr(policeuk, "BLOCK_CHARS", size)
        cut = import_street_files([path])
        assert table(cut) == table(whole)
        assert [(p.reason, p.line) for p in cut.report.examples] == [(p.reason, p.line) for p in whole.report.examples]
    assert [(p.reason, p.line) for p in whole.report.examples] == [("no LSOA (unlocated)", 6), ("duplicate crime ID", 11)]


def test_quoted_fields_are_parsed_as_csv(tmp_path):
    """A quoted location holding a comma does not shift the columns."""
    path = tmp_path / "2024-01-kent-street.csv"
    quoted = row("q1")
    quoted[6] = '"On or near Station Road, East"'
    write(path, [row("a1"), quoted, row("a2", crime_type="Drugs")])
    counts = import_street_files([path])
    assert table(counts) == {("E01016017", "2024-01", "Burglary"): 2, ("E01016017", "2024-01", "Drugs"): 1}
    assert counts.report.rows_rejected == 0


def test_wrong_header_is_an_error_naming_the_column(tmp_path):
    """An outcomes file's header is refused at line 1, naming the first column that differs."""
    header = list(HEADER)
    header[9] = "Outcome type"
    with pytest.raises(DataError) as caught:
        import_street_files([write(tmp_path / "2024-01-kent-street.csv", [row()], header=header)])
    assert caught.value.line == 1 and "column 10: Outcome type" in str(caught.value.got)


def test_missing_header_is_an_error(tmp_path):
    """A file that starts with data has no header: refused."""
    path = tmp_path / "2024-01-kent-street.csv"
    path.write_text(",".join(row("a1")) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        import_street_files([path])
    assert "header" in caught.value.what


def test_empty_file_is_an_error(tmp_path):
    """An empty download is refused, not read as no crime."""
    path = tmp_path / "2024-01-kent-street.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="is empty"):
        import_street_files([path])


def test_folder_of_month_folders_reads_only_street_files(tmp_path):
    """A download folder: street files in month folders are read; outcomes files are skipped and listed."""
    write(tmp_path / "2024-01" / "2024-01-kent-street.csv", [row("a1"), row("a2")])
    write(tmp_path / "2024-02" / "2024-02-kent-street.csv", [row("b1", month="2024-02")])
    (tmp_path / "2024-02" / "2024-02-kent-outcomes.csv").write_text("Crime ID,Month\n", encoding="utf-8")
    counts = import_street_files([tmp_path])
    assert len(counts.report.files) == 2 and len(counts.report.files_skipped) == 1
    assert table(counts) == {("E01016017", "2024-01", "Burglary"): 2, ("E01016017", "2024-02", "Burglary"): 1}


def test_zip_archive_is_read_as_downloaded(tmp_path):
    """The zip from data.police.uk (month folders inside) is read without unpacking."""
    source = tmp_path / "files"
    write(source / "2024-01" / "2024-01-kent-street.csv", [row("a1"), row("a2", crime_type="Robbery")])
    write(source / "2024-02" / "2024-02-kent-street.csv", [row("b1", month="2024-02")])
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(source.rglob("*.csv")):
            handle.write(path, path.relative_to(source).as_posix())
        handle.writestr("2024-01/2024-01-kent-stop-and-search.csv", "Type,Date\n")
    counts = import_street_files([archive])
    assert counts.report.rows_read == 3 and counts.report.files_skipped == (f"{archive}:2024-01/2024-01-kent-stop-and-search.csv",)
    assert table(counts)[("E01016017", "2024-01", "Robbery")] == 1


def test_the_same_month_twice_is_read_once(tmp_path):
    """A month given both loose and inside a folder is read once; the repeat is listed as skipped."""
    first = write(tmp_path / "a" / "2024-01-kent-street.csv", [row("a1")])
    write(tmp_path / "b" / "2024-01-kent-street.csv", [row("a1")])
    counts = import_street_files([first, tmp_path / "b"])
    assert counts.report.rows_read == 1 and "same month and force" in counts.report.files_skipped[0]


def test_no_street_files_is_an_error(tmp_path):
    """A folder without street files is refused with a hint."""
    with pytest.raises(DataError, match="holds no police.uk street files"):
        import_street_files([tmp_path])


def test_chunk_boundaries_change_nothing(tmp_path, monkeypatch):
    """Tiny chunks give the same counts and problems as one chunk, duplicates across chunks included."""
    rows = [row(f"id{i % 7}", crime_type=("Drugs" if i % 3 else "Burglary"), code=("" if i % 5 == 0 else "E01016017")) for i in range(40)]
    path = write(tmp_path / "2024-01-kent-street.csv", rows)
    whole = import_street_files([path])
    monkeypatch.setattr(policeuk, "CHUNK_ROWS", 3)
    chunked = import_street_files([path])
    assert table(whole) == table(chunked) and whole.report.rejected == chunked.report.rejected
    assert [(p.reason, p.line) for p in whole.report.examples] == [(p.reason, p.line) for p in chunked.report.examples]


PROBLEMS = st.sampled_from(["ok", "ok", "ok", "unlocated", "unknown", "duplicate", "month", "short", "nul", "blank"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.tuples(PROBLEMS, st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=60), chunk=st.integers(1, 25))
def test_every_row_is_counted_or_rejected(tmp_path_factory, kinds, chunk):
    """Property: rows read (blank lines are none) = rows counted + rows rejected, and the counts equal a naive tally."""
    rows, expected, seen = [], collections.Counter(), set()
    for n, (kind, area, crime) in enumerate(kinds):
        code, crime_type = f"E0100000{area}", ("Burglary", "Drugs", "Robbery")[crime]
        crime_id = f"x{n}" if kind != "duplicate" or not seen else sorted(seen)[0]
        fields = row(crime_id, code=code, name=f"Kent {area:03d}A", crime_type=crime_type)
        if kind == "unlocated":
            fields[7] = fields[8] = ""
        elif kind == "unknown":
            fields[9] = "Fraud"
        elif kind == "month":
            fields[1] = "2024/01"
        elif kind == "short":
            fields = fields[:5]
        elif kind == "nul":
            fields[6] = "On or near\x00High Street"
        elif kind == "blank":
            fields = [""] if area else [""] * 12
        elif crime_id not in seen:
            expected[(code, "2024-01", crime_type)] += 1
        if kind in ("ok", "duplicate") and crime_id not in seen:
            seen.add(crime_id)
        rows.append(fields)
    path = write(tmp_path_factory.mktemp("property") / "2024-01-kent-street.csv", rows)
    original = policeuk.CHUNK_ROWS
    policeuk.CHUNK_ROWS = chunk
    try:
        read = len(rows) - sum(kind == "blank" for kind, _, _ in kinds)
        if not expected:
            with pytest.raises(DataError, match=f"no row could be counted: {read} rows? read" if read else "has a header but no rows"):
                import_street_files([path])
            return
        counts = import_street_files([path])
    finally:
        policeuk.CHUNK_ROWS = original
    report = counts.report
    assert report.rows_read == read == report.rows_aggregated + report.rows_rejected
    assert table(counts) == dict(expected)


def test_the_real_kent_sample(tmp_path):
    """The 300 real January 2024 rows: 299 counted in 279 LSOAs, one 'No Location' row rejected."""
    counts = import_street_files([SAMPLE])
    report = counts.report
    assert (report.rows_read, report.rows_aggregated, report.lsoas) == (300, 299, 279)
    assert dict(report.rejected) == {"no LSOA (unlocated)": 1}
    assert report.examples[0].line == 301 and report.examples[0].detail == "No Location"
    by_type = dict(report.rows_by_crime_type)
    assert by_type["Violence and sexual offences"] == 125 and by_type["Anti-social behaviour"] == 33 and by_type["Other theft"] == 13
    districts = collections.Counter()
    for _, _, district, _, _, count in counts.iter_rows():
        districts[district] += count
    assert districts["Medway"] == 52 and districts["Thanet"] == 24 and len(districts) == 13
    assert dict(report.forces) == {"Kent Police": 299} and report.months == ("2024-01",)


# ---------------------------------------------------------------- blank lines, NUL bytes and imports that count nothing


def test_trailing_blank_lines_are_not_rows(tmp_path):
    """Blank lines at the end of a valid file (CRLF, as Excel saves) are neither read nor rejected."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1"), row("a2")], newline="\r\n", tail="\r\n\r\n")
    report = import_street_files([path]).report
    assert (report.rows_read, report.rows_aggregated, report.rejected) == (2, 2, ())


def test_blank_line_between_rows_keeps_the_line_numbers(tmp_path):
    """A blank line mid-file is no row, and the rows after it keep their own line numbers."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1"), [""], ["   "], row("c1", crime_type="Fraud")])
    report = import_street_files([path]).report
    assert (report.rows_read, report.rows_aggregated, report.rows_rejected) == (2, 1, 1)
    assert [(problem.reason, problem.line) for problem in report.examples] == [("unknown crime type", 5)]


def test_line_of_empty_fields_is_not_a_row(tmp_path):
    """',,,,,,,,,,,' (a cleared spreadsheet row) holds no data: not counted as an unlocated crime."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1"), [""] * 12])
    report = import_street_files([path]).report
    assert (report.rows_read, report.rows_rejected) == (1, 0)


def test_header_and_a_blank_crlf_line_is_nothing_to_import(tmp_path):
    """A header followed by a blank CRLF line (what Excel saves) has no rows: refused, not a malformed line."""
    path = write(tmp_path / "2024-01-kent-street.csv", [], newline="\r\n", tail="\r\n")
    with pytest.raises(DataError) as caught:
        import_street_files([path])
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(path), 2, None, None)
    assert error.what == "has a header but no rows: nothing to import"


def test_every_month_bad_is_nothing_counted(tmp_path):
    """Every row with month 2024-13: an error saying how many rows were rejected and why, at the first."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1", month="2024-13"), row("a2", month="2024-13")])
    with pytest.raises(DataError) as caught:
        import_street_files([path])
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(path), 2, None, "2024-13")
    assert str(error) == (
        f"{path}:2: no row could be counted: 2 rows read, all rejected (bad month: 2); first rejected here: bad month "
        "(got '2024-13'); police.uk writes months as YYYY-MM, 01 to 12; a spreadsheet that re-saved the file may have rewritten them"
    )


def test_nothing_counted_across_files_lists_every_reason(tmp_path):
    """Rows rejected for several reasons in several files: the counts by reason, and the first rejected row's file and line."""
    first = write(tmp_path / "2024-01-kent-street.csv", [row("a1", crime_type="Fraud"), ["a2", "2024-01"]])
    write(tmp_path / "2024-02-kent-street.csv", [row("b1", month="Feb 2024")])
    with pytest.raises(DataError) as caught:
        import_street_files([tmp_path])
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(first), 2, None, "Fraud")
    assert error.what == (
        "no row could be counted: 3 rows read, all rejected (unknown crime type: 1, bad month: 1, malformed line: 1); "
        "first rejected here: unknown crime type"
    )


def test_nul_byte_in_a_row_rejects_that_row(tmp_path):
    """A NUL byte (a damaged download) rejects its row with its own reason and line; the other rows count."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1"), row("a2", name="Medway\x00015B"), row("a3")])
    counts = import_street_files([path])
    report = counts.report
    assert (report.rows_read, report.rows_aggregated) == (3, 2)
    assert dict(report.rejected) == {"NUL byte (damaged line)": 1}
    assert (report.examples[0].file, report.examples[0].line) == (str(path), 3) and "\\x00" in report.examples[0].detail
    assert [name for _, name, *_ in counts.iter_rows()] == ["Medway 015B"]


def test_nul_byte_in_a_short_line_is_named_as_damage(tmp_path):
    """A line of NUL bytes (a copy cut short) is rejected as damaged, not just malformed."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1")], tail="\x00" * 50 + "\n")
    report = import_street_files([path]).report
    assert dict(report.rejected) == {"NUL byte (damaged line)": 1} and report.examples[0].line == 3


def test_nul_byte_in_a_quoted_file_rejects_that_row(tmp_path):
    """The csv path (a file with quotes) rejects a NUL row the same way, at its own line."""
    quoted = row("q1")
    quoted[6] = '"On or near Station Road, East"'
    path = write(tmp_path / "2024-01-kent-street.csv", [quoted, row("a2", location="On\x00near")])
    report = import_street_files([path]).report
    assert (report.rows_read, report.rows_aggregated, dict(report.rejected)) == (2, 1, {"NUL byte (damaged line)": 1})
    assert report.examples[0].line == 3


def test_quoted_line_break_keeps_later_line_numbers(tmp_path):
    """A quoted field running over two lines is one row; rows after it are numbered by the line they start on."""
    quoted = row("q1")
    quoted[6] = '"On or near Station Road,\nEast"'
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1"), quoted, [""], row("c1", crime_type="Fraud")])
    report = import_street_files([path]).report
    assert (report.rows_read, report.rows_aggregated) == (3, 2)
    assert [(problem.reason, problem.line) for problem in report.examples] == [("unknown crime type", 6)]


# ---------------------------------------------------------------- empty files and files that cannot be read


def test_header_only_file_is_counted_as_empty_with_a_warning(tmp_path):
    """A month's file with a header and no rows adds nothing, and the report says so in a complete line."""
    full = write(tmp_path / "2024-02" / "2024-02-kent-street.csv", [row("a1", month="2024-02")])
    empty = write(tmp_path / "2024-03" / "2024-03-kent-street.csv", [])
    report = import_street_files([tmp_path]).report
    assert report.files == (str(full), str(empty)) and report.empty_files == (str(empty),)
    assert report.warnings == (
        f"{empty} has a header but no rows: that month adds no records to the counts (download it again if it should have some)",
    )
    assert (report.rows_read, report.rows_aggregated) == (1, 1)


def test_empty_files_and_warnings_are_in_the_saved_report(tmp_path):
    """The report's JSON lists the empty files and the warnings."""
    write(tmp_path / "2024-02-kent-street.csv", [row("a1", month="2024-02")])
    empty = write(tmp_path / "2024-03-kent-street.csv", [])
    saved = import_street_files([tmp_path]).report.as_dict()
    assert saved["empty_files"] == [str(empty)] and len(saved["warnings"]) == 1


def test_no_warnings_when_every_file_has_rows(tmp_path):
    """An ordinary import warns about nothing."""
    assert import_street_files([SAMPLE]).report.warnings == ()


def test_single_header_only_file_is_nothing_to_import(tmp_path):
    """The only file given has a header but no rows: an error, not a silent import of nothing."""
    path = write(tmp_path / "2024-03-kent-street.csv", [])
    with pytest.raises(DataError) as caught:
        import_street_files([path])
    error = caught.value
    assert (error.file, error.line, error.key, error.got) == (str(path), 2, None, None)
    assert str(error) == (
        f"{path}:2: has a header but no rows: nothing to import; "
        "download the file again from data.police.uk; a month with records has a row for each"
    )


def test_header_only_with_bom_and_windows_line_ends_is_empty_too(tmp_path):
    """A byte-order mark and CRLF do not make a header-only file look like data."""
    path = write(tmp_path / "2024-03-kent-street.csv", [], newline="\r\n", bom=True)
    with pytest.raises(DataError, match="has a header but no rows"):
        import_street_files([path])


def test_every_file_empty_is_nothing_to_import(tmp_path):
    """Several files, all header-only: one error naming them."""
    write(tmp_path / "2024-01-kent-street.csv", [])
    write(tmp_path / "2024-02-kent-street.csv", [])
    with pytest.raises(DataError) as caught:
        import_street_files([tmp_path])
    error = caught.value
    assert (error.file, error.what) == (str(tmp_path), "every street file has a header but no rows: nothing to import")
    assert error.got == "2 empty files: 2024-01-kent-street.csv, 2024-02-kent-street.csv"


def test_missing_path_is_an_error_naming_it(tmp_path):
    """A path that does not exist is named."""
    with pytest.raises(DataError) as caught:
        import_street_files([tmp_path / "2024-01-kent-street.csv"])
    assert (caught.value.file, caught.value.what) == (str(tmp_path / "2024-01-kent-street.csv"), "not found")


def test_folder_without_street_files_says_what_it_found(tmp_path):
    """A folder of outcomes files and notes: the error lists what was there instead."""
    (tmp_path / "2024-01-kent-outcomes.csv").write_text("Crime ID\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        import_street_files([tmp_path])
    error = caught.value
    assert (error.file, error.got) == (str(tmp_path), "found 2 other files: 2024-01-kent-outcomes.csv, notes.txt")


def test_empty_folder_says_it_holds_nothing(tmp_path):
    """An empty folder: 'no files at all'."""
    with pytest.raises(DataError) as caught:
        import_street_files([tmp_path])
    assert caught.value.got == "no files at all"


def test_file_named_zip_that_is_not_a_zip_is_refused(tmp_path):
    """A .zip that is not a zip archive (an interrupted download) is refused as such, not read as CSV."""
    path = tmp_path / "download.zip"
    path.write_text("<html>Service unavailable</html>", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        import_street_files([path])
    assert (caught.value.file, caught.value.what) == (str(path), "is not a readable zip archive")


def test_zip_without_street_files_lists_its_files(tmp_path):
    """A zip holding only outcomes files: the error names them."""
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("2024-01/2024-01-kent-outcomes.csv", "Crime ID\n")
    with pytest.raises(DataError) as caught:
        import_street_files([archive])
    assert (caught.value.file, caught.value.got) == (str(archive), "found 1 other file: 2024-01-kent-outcomes.csv")


def test_damaged_zip_member_is_refused(tmp_path):
    """A member whose bytes were damaged fails its checksum: refused, naming the member."""
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("2024-01/2024-01-kent-street.csv", ",".join(HEADER) + "\n" + ",".join(row("a1")) + "\n")
    damaged = bytearray(archive.read_bytes())
    damaged[damaged.index(b"a1,2024") + 4] ^= 1
    archive.write_bytes(bytes(damaged))
    with pytest.raises(DataError) as caught:
        import_street_files([archive])
    assert (caught.value.file, caught.value.what) == (f"{archive}:2024-01/2024-01-kent-street.csv", "cannot be read")
    assert "CRC" in caught.value.got


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_refused(tmp_path):
    """A street file without read permission is refused, naming it."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1")])
    path.chmod(0)
    with pytest.raises(DataError) as caught:
        import_street_files([path])
    assert (caught.value.file, caught.value.what) == (str(path), "cannot be read")


def test_file_the_system_refuses_to_open_is_refused(tmp_path, monkeypatch):
    """Permission denied (simulated, so it bites when tests run as root too): a DataError naming file and reason."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1")])

    def refuse(name, mode="r"):
        raise PermissionError(13, "Permission denied", str(name))

    monkeypatch.setattr(policeuk, "open", refuse, raising=False)
    with pytest.raises(DataError) as caught:
        import_street_files([path])
    assert (caught.value.file, caught.value.got, caught.value.what) == (str(path), "Permission denied", "cannot be read")


def test_file_that_is_not_utf8_names_the_line_and_column(tmp_path, monkeypatch):
    """A Latin-1 byte deep in the file, past the first chunk, is reported at its own line and column."""
    monkeypatch.setattr(policeuk, "CHUNK_ROWS", 2)
    path = write(tmp_path / "2024-01-kent-street.csv", [row(f"a{i}") for i in range(6)])
    path.write_bytes(path.read_bytes() + ",".join(row("b1", location="On or near Café")).encode("latin-1") + b"\n")
    with pytest.raises(DataError) as caught:
        import_street_files([path])
    error = caught.value
    assert (error.file, error.line, error.got, error.what) == (str(path), 8, "byte 0xe9 at column 59", "is not UTF-8 text")


def test_binary_file_is_refused(tmp_path):
    """A binary file named like a street file is refused as not UTF-8 at its first bad byte."""
    path = tmp_path / "2024-01-kent-street.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(DataError) as caught:
        import_street_files([path])
    assert (caught.value.line, caught.value.got) == (1, "byte 0x89 at column 1")


def test_quote_never_closed_is_refused(tmp_path):
    """A quote that is never closed swallows the file until the csv field limit: refused with a hint, not a crash."""
    path = write(tmp_path / "2024-01-kent-street.csv", [row("a1")], tail='"' + "x" * 200_000 + "\n" + ",".join(row("a2")) + "\n")
    with pytest.raises(DataError) as caught:
        import_street_files([path])
    assert caught.value.what.startswith("cannot be read as CSV") and "never be closed" in caught.value.hint


ONE_LINE_IMPORTS = {
    "missing": lambda tmp: [tmp / "nowhere" / "2024-01-kent-street.csv"],
    "empty folder": lambda tmp: [tmp],
    "header only": lambda tmp: [write(tmp / "2024-01-kent-street.csv", [])],
    "wrong header with a line break": lambda tmp: [write(tmp / "2024-01-kent-street.csv", [], header=['"Crime\nID"', *HEADER[1:]])],
    "not a zip": lambda tmp: [raw_file(tmp / "x.zip", b"PK")],
    "not UTF-8": lambda tmp: [raw_file(tmp / "2024-01-kent-street.csv", b"\xff\xfe")],
    "nothing counted, with a line break": lambda tmp: [write(tmp / "2024-01-kent-street.csv", [row("a1", crime_type='"Bur\nglary"')])],
}


def raw_file(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(ONE_LINE_IMPORTS))
def test_every_import_error_is_one_line(tmp_path, case):
    """Each import error is one line (the longest, a wrong header, lists the twelve columns expected)."""
    with pytest.raises(DataError) as caught:
        import_street_files(ONE_LINE_IMPORTS[case](tmp_path))
    text = str(caught.value)
    assert "\n" not in text and "\r" not in text and len(text) < 600, text


# ---------------------------------------------------------------- through the command line


def bad_import_paths(tmp_path, case):
    if case == "header only":
        return [write(tmp_path / "in" / "2024-03-kent-street.csv", [])], "2024-03-kent-street.csv:2: has a header but no rows"
    if case == "every file empty":
        write(tmp_path / "in" / "2024-01-kent-street.csv", [])
        write(tmp_path / "in" / "2024-02-kent-street.csv", [])
        return [tmp_path / "in"], "in: every street file has a header but no rows"
    if case == "not a zip":
        path = tmp_path / "in" / "download.zip"
        path.parent.mkdir()
        path.write_bytes(b"<html></html>")
        return [path], "download.zip: is not a readable zip archive"
    if case == "zip without street files":
        path = tmp_path / "in" / "download.zip"
        path.parent.mkdir()
        with zipfile.ZipFile(path, "w") as handle:
            handle.writestr("2024-01/2024-01-kent-outcomes.csv", "Crime ID\n")
        return [path], "download.zip: holds no police.uk street files (got 'found 1 other file: 2024-01-kent-outcomes.csv')"
    if case == "folder without street files":
        (tmp_path / "in").mkdir()
        (tmp_path / "in" / "readme.txt").write_text("x", encoding="utf-8")
        return [tmp_path / "in"], "in: holds no police.uk street files (got 'found 1 other file: readme.txt')"
    if case == "not UTF-8":
        path = write(tmp_path / "in" / "2024-01-kent-street.csv", [row("a1")])
        path.write_bytes(path.read_bytes() + b"\xe9\n")
        return [path], "2024-01-kent-street.csv:3: is not UTF-8 text"
    if case == "missing":
        return [tmp_path / "in" / "2024-01-kent-street.csv"], "2024-01-kent-street.csv: not found"
    if case == "nothing counted":
        path = write(tmp_path / "in" / "2024-01-kent-street.csv", [row("a1", month="2024-13")])
        return [path], "2024-01-kent-street.csv:2: no row could be counted: 1 row read, all rejected (bad month: 1)"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "header only",
        "every file empty",
        "not a zip",
        "zip without street files",
        "folder without street files",
        "not UTF-8",
        "missing",
        "nothing counted",
    ],
)
def test_cli_import_refuses_bad_input_in_one_line(tmp_path, case):
    """`safer-streets import police-uk` on bad input: exit 2, one `error:` line naming the file, nothing on stdout, no file written."""
    paths, expected = bad_import_paths(tmp_path, case)
    out = tmp_path / "out" / "counts.csv"
    result = CliRunner().invoke(cli, ["import", "police-uk", *map(str, paths), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "" and not (tmp_path / "out").exists()


def test_cli_import_with_an_empty_month_succeeds_and_records_the_warning(tmp_path):
    """One empty month among others: exit 0, and the saved report carries the warning."""
    write(tmp_path / "in" / "2024-02-kent-street.csv", [row("a1", month="2024-02")])
    write(tmp_path / "in" / "2024-03-kent-street.csv", [])
    out = tmp_path / "counts.csv"
    result = CliRunner().invoke(cli, ["import", "police-uk", str(tmp_path / "in"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "counts.import.json").read_text(encoding="utf-8"))
    assert saved["empty_files"] == [str(tmp_path / "in" / "2024-03-kent-street.csv")]
    assert saved["warnings"][0].endswith(
        "has a header but no rows: that month adds no records to the counts (download it again if it should have some)"
    )


def test_a_force_missing_months_is_reported_with_its_months(tmp_path):
    """Kent has Jan to Apr, Thames Valley Jan and Apr only: its two missing months are named, in the warning and the JSON."""
    for month in ("2024-01", "2024-02", "2024-03", "2024-04"):
        write(tmp_path / month / f"{month}-kent-street.csv", [row("k" + month, month=month)])
    for month in ("2024-01", "2024-04"):
        fields = row("t" + month, month=month, code="E01028521", name="Oxford 008A")
        fields[2] = fields[3] = "Thames Valley Police"
        write(tmp_path / month / f"{month}-thames-valley-street.csv", [fields])
    report = import_street_files([tmp_path]).report
    assert report.months_by_force == (
        ("Kent Police", ("2024-01", "2024-02", "2024-03", "2024-04")),
        ("Thames Valley Police", ("2024-01", "2024-04")),
    )
    assert report.missing_months() == (("Thames Valley Police", ("2024-02", "2024-03")),)
    assert report.warnings == (
        "Thames Valley Police has rows in 2 of the 4 months 2024-01 to 2024-04; missing 2024-02..2024-03 (2 months): its counts "
        "cover fewer months than the other forces' (download those months, or set the data period to the months every force has)",
    )
    saved = report.as_dict()
    assert saved["missing_months_by_force"] == {"Thames Valley Police": ["2024-02", "2024-03"]}
    assert saved["months_by_force"]["Kent Police"] == ["2024-01", "2024-02", "2024-03", "2024-04"]


def test_forces_with_every_month_get_no_warning():
    """The one-month Kent sample: every force holds every month of the import, so nothing is missing."""
    report = import_street_files([SAMPLE]).report
    assert report.missing_months() == () and report.months_by_force == (("Kent Police", ("2024-01",)),)
