"""The writer: output folders it may and may not replace, atomic files, and spreadsheet-safe CSVs."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import BASELINE, REPO
from hypothesis import given
from hypothesis import strategies as st

from simulator.errors import ConfigError
from simulator.report import (
    FORMULA_STARTS,
    RUN_ENTRIES,
    WRITER,
    check_output_folder,
    foreign_entries,
    spreadsheet_safe,
    write_csv_file,
    write_run,
    write_table,
)
from simulator.result import Coded, Table


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below a folder with its SHA-256, and every folder, to show nothing changed."""
    found = {}
    for path in sorted(folder.rglob("*")):
        found[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return found


@pytest.fixture(scope="module")
def written(kent_result, tmp_path_factory) -> Path:
    """A run folder the tool wrote, without charts."""
    return write_run(kent_result, tmp_path_factory.mktemp("written") / "run", charts=False)


def test_manifest_says_who_wrote_it(written):
    """manifest.json carries the writer's mark that lets a later run replace the folder."""
    assert json.loads((written / "manifest.json").read_text(encoding="utf-8"))["written_by"] == WRITER


def test_own_run_folder_has_nothing_foreign(written):
    """A run folder the tool wrote may be replaced."""
    assert foreign_entries(written) == []


def test_a_file_of_the_users_makes_the_folder_foreign(written, tmp_path):
    """One extra file in a run folder (a planner's notes) stops it being replaced."""
    folder = tmp_path / "run"
    folder.mkdir()
    for path in written.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "notes.txt").write_text("mine")
    assert foreign_entries(folder) == ["notes.txt"]


def test_unmarked_manifest_makes_everything_foreign(tmp_path):
    """A folder whose manifest.json someone else wrote is not the tool's, whatever its file names."""
    (tmp_path / "manifest.json").write_text('{"project": "something else"}')
    (tmp_path / "summary.json").write_text("{}")
    assert foreign_entries(tmp_path) == ["manifest.json", "summary.json"]


def test_a_non_png_in_charts_is_foreign(written, tmp_path):
    """charts/ holds only PNGs the tool drew; anything else there belongs to someone."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "manifest.json").write_bytes((written / "manifest.json").read_bytes())
    (folder / "charts").mkdir()
    (folder / "charts" / "logo.svg").write_text("<svg/>")
    assert foreign_entries(folder) == ["charts/logo.svg"]


def test_empty_folder_may_be_used(tmp_path):
    """An empty folder holds nothing to lose."""
    assert foreign_entries(tmp_path) == []


def test_folder_of_the_users_is_refused_and_left_byte_identical(kent_result, tmp_path):
    """--out on a folder of the user's files: a ConfigError, and every file as it was."""
    folder = tmp_path / "mydata"
    folder.mkdir()
    (folder / "counts.csv").write_text("area_code,crime_type,count\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "notes.md").write_text("keep me")
    before = snapshot(folder)
    with pytest.raises(ConfigError) as caught:
        write_run(kent_result, folder, charts=False)
    assert caught.value.key == "--out" and "did not write" in caught.value.what
    assert snapshot(folder) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mydata"]


def test_folder_holding_an_input_is_refused(kent_result):
    """An output folder that holds the scenario file is refused, even if it looked like the tool's."""
    with pytest.raises(ConfigError) as caught:
        check_output_folder(REPO / "scenarios", [BASELINE])
    assert "holds an input" in caught.value.what and caught.value.got == "kent-baseline.toml"


def test_output_equal_to_an_input_file_is_refused(tmp_path):
    """--out naming the counts file itself is refused."""
    counts = tmp_path / "counts.csv"
    counts.write_text("x")
    with pytest.raises(ConfigError, match="holds an input"):
        check_output_folder(counts, [counts])


def test_current_folder_is_refused(tmp_path, monkeypatch):
    """--out . (or a folder holding the current one) is refused before any work."""
    monkeypatch.chdir(tmp_path)
    for out in (Path("."), tmp_path.parent):
        with pytest.raises(ConfigError, match="current folder"):
            check_output_folder(out)


def test_output_path_that_is_a_file_is_refused(tmp_path):
    """A file where the folder should go is left alone."""
    target = tmp_path / "run"
    target.write_text("mine")
    with pytest.raises(ConfigError, match="is a file"):
        check_output_folder(target)
    assert target.read_text() == "mine"


def test_failure_while_writing_leaves_no_staging_folder(kent_result, tmp_path, monkeypatch):
    """An OSError half way (a full disk, say) is one ConfigError, and no temporary folder is left behind."""
    import simulator.report as report

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "write_json", fail)
    with pytest.raises(ConfigError) as caught:
        write_run(kent_result, tmp_path / "run", charts=False)
    assert "No space left on device" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_failed_rewrite_keeps_the_old_run(kent_result, written, tmp_path, monkeypatch):
    """When a rerun into an existing run folder fails, the earlier run is still there, byte for byte."""
    import simulator.report as report

    folder = write_run(kent_result, tmp_path / "run", charts=False)
    before = snapshot(folder)
    monkeypatch.setattr(report, "write_table", lambda *args: (_ for _ in ()).throw(OSError(5, "I/O error")))
    with pytest.raises(ConfigError):
        write_run(kent_result, folder, charts=False)
    assert snapshot(folder) == before
    assert [path.name for path in tmp_path.iterdir()] == ["run"]


def test_reports_show_no_absolute_paths(kent_result, tmp_path):
    """report.html and report.md name input files and folders without the reader's folder layout."""
    folder = write_run(kent_result, tmp_path / "deep" / "run", charts=False)
    for name in ("report.html", "report.md"):
        text = (folder / name).read_text(encoding="utf-8")
        assert str(tmp_path) not in text and str(REPO) not in text, name


@pytest.mark.parametrize("text", ["=1+1", "+44 20", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_is_neutralised(text):
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["Medway", "", 5, -2.5, None, "a=b"])
def test_other_cells_pass_unchanged(value):
    """Names, numbers (negative ones too) and empty cells are written as they are."""
    assert spreadsheet_safe(value) == value


def test_table_neutralises_formula_names(tmp_path):
    """An area called '=HYPERLINK(...)' reaches the CSV as text, not a formula; numbers stay numbers."""
    path = tmp_path / "t.csv"
    write_table(path, [{"area_name": '=HYPERLINK("http://x")', "amount_gbp": -1.5}])
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{"area_name": '\'=HYPERLINK("http://x")', "amount_gbp": "-1.5"}]


FORMULAS = [start + "1+1" for start in FORMULA_STARTS]
"""A text beginning with each opening a spreadsheet may run as a formula."""


def test_column_table_neutralises_formula_text_in_every_text_column(tmp_path):
    """A table written column by column neutralises formula-like text in plain and in coded text columns alike, and
    writes negative numbers as numbers."""
    path = tmp_path / "t.csv"
    coded = Coded(tuple(FORMULAS), np.arange(len(FORMULAS)))
    write_table(path, Table((("name", list(FORMULAS)), ("kind", coded), ("amount_gbp", -np.arange(len(FORMULAS)) - 1.5))))
    lines = path.read_bytes().decode("utf-8").split("\n")[1:-1]  # a carriage return is written as it is, inside a cell
    assert lines == [f"'{text},'{text},{-k - 1.5}" for k, text in enumerate(FORMULAS)]


TRICKY_TEXT = st.one_of(
    st.none(),
    st.lists(st.sampled_from(["a", "Ynys Môn", "≥", "𝄞", ",", '"', "\n", "\r", " ", "\x00", *FORMULA_STARTS, "'"]), max_size=6).map(
        "".join
    ),
)
TRICKY_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e7, 1e7).map(lambda value: round(value, 3)),
    st.sampled_from([0.0, -0.0, 1e-4, 9.99e-5, 5e-06, 1e15, 1e16, 123456789.123, 2.675, 0.1 + 0.2]),
)


@st.composite
def tables(draw) -> Table:
    """A table of text (some of it coded), floats (some masked) and ints, with every kind of awkward cell."""
    rows = draw(st.integers(0, 8))
    columns = []
    for k in range(draw(st.integers(2, 5))):
        kind = draw(st.sampled_from(["text", "coded", "float", "masked", "int"]))
        if kind == "text":
            values = draw(st.lists(TRICKY_TEXT, min_size=rows, max_size=rows))
        elif kind == "coded":
            texts = tuple(draw(st.lists(TRICKY_TEXT, min_size=1, max_size=3)))
            values = Coded(texts, np.array(draw(st.lists(st.integers(0, len(texts) - 1), min_size=rows, max_size=rows)), dtype=np.intp))
        elif kind == "int":
            values = np.array(draw(st.lists(st.integers(-(2**62), 2**62), min_size=rows, max_size=rows)), dtype=np.int64)
        else:
            values = np.array(draw(st.lists(TRICKY_FLOATS, min_size=rows, max_size=rows)), dtype=float)
            if kind == "masked":
                values = np.ma.masked_array(values, mask=draw(st.lists(st.booleans(), min_size=rows, max_size=rows)))
        columns.append((f"column_{k}", values))
    return Table(tuple(columns))


@given(tables())
def test_column_table_writes_the_bytes_its_rows_would(table):
    """Writing a table column by column gives the very bytes the csv module writes for its rows: numbers as repr,
    quotes, commas and line breaks quoted, formula-like text neutralised, empty cells for None and masked numbers."""
    with tempfile.TemporaryDirectory() as folder:
        by_columns, by_rows = Path(folder) / "columns.csv", Path(folder) / "rows.csv"
        write_table(by_columns, table)
        write_table(by_rows, table.rows(), table.names)
        assert by_columns.read_bytes() == by_rows.read_bytes()


@pytest.mark.parametrize("name", ["demand", "eligibility", "allocation", "baseline", "uncertainty"])
def test_run_tables_write_the_bytes_their_rows_would(kent_result, tmp_path, name):
    """Each of the run's large tables, written column by column, is byte for byte the CSV of its rows."""
    table = getattr(kent_result, f"{name}_table")()
    write_table(tmp_path / "columns.csv", table)
    write_table(tmp_path / "rows.csv", getattr(kent_result, f"{name}_rows")())
    assert (tmp_path / "columns.csv").read_bytes() == (tmp_path / "rows.csv").read_bytes()


def test_csv_file_creates_missing_folders(tmp_path):
    """--csv into a folder that does not exist yet creates it."""
    path = write_csv_file(tmp_path / "new" / "sub" / "v.csv", [{"a": 1}])
    assert path.read_text() == "a\n1\n"


def test_csv_file_replaces_only_the_same_table(tmp_path):
    """An existing CSV with the same header is replaced; one holding something else is refused and kept."""
    path = tmp_path / "v.csv"
    write_csv_file(path, [{"a": 1}])
    write_csv_file(path, [{"a": 2}])
    assert path.read_text() == "a\n2\n"
    other = tmp_path / "budget.csv"
    other.write_text("line,amount\n1,5\n")
    with pytest.raises(ConfigError, match="holds something else"):
        write_csv_file(other, [{"a": 1}])
    assert other.read_text() == "line,amount\n1,5\n"


def test_a_png_the_tool_does_not_draw_is_foreign(written, tmp_path):
    """An annotated chart a planner saved into charts/ under its own name is theirs, not the tool's."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "manifest.json").write_bytes((written / "manifest.json").read_bytes())
    (folder / "charts").mkdir()
    (folder / "charts" / "lorenz_curve.png").write_bytes(b"png")
    (folder / "charts" / "annotated_for_council.png").write_bytes(b"png")
    assert foreign_entries(folder) == ["charts/annotated_for_council.png"]


def test_replaced_folder_keeps_its_permissions(kent_result, tmp_path):
    """A run folder the user made private stays private when a rerun replaces it."""
    import stat

    folder = write_run(kent_result, tmp_path / "run", charts=False)
    folder.chmod(0o700)
    write_run(kent_result, folder, charts=False)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_failed_run_removes_the_folders_it_made(kent_result, tmp_path, monkeypatch):
    """--out new/deeper/run that fails leaves neither new/ nor new/deeper/ behind."""
    import simulator.report as report

    monkeypatch.setattr(report, "write_table", lambda *args: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(ConfigError):
        write_run(kent_result, tmp_path / "new" / "deeper" / "run", charts=False)
    assert list(tmp_path.iterdir()) == []


def test_name_too_long_is_a_config_error(tmp_path):
    """A folder name longer than the file system allows is one clear error, not a crash."""
    with pytest.raises(ConfigError) as caught:
        check_output_folder(tmp_path / ("x" * 300))
    assert caught.value.key == "--out" and "too long" in str(caught.value).lower()


def test_csv_file_full_disk_is_a_config_error(tmp_path, monkeypatch):
    """A disk that fills while the CSV is written: one error, and no temporary file left."""
    import simulator.report as report

    monkeypatch.setattr(report, "write_table", lambda *args: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(ConfigError, match="No space left on device"):
        write_csv_file(tmp_path / "v.csv", [{"a": 1}])
    assert list(tmp_path.iterdir()) == []


def test_eligibility_csv_of_another_round_is_replaced(tmp_path):
    """The tool's own verdict table is recognised by its first columns, whatever rule columns follow."""
    path = tmp_path / "v.csv"
    path.write_text("area_code,area_name,eligible,reason,asb_rate_value\nE1,A,true,x,1\n")
    write_csv_file(path, [{"area_code": "E1", "area_name": "A", "eligible": "false", "reason": "y", "vawg_value": 2}])
    assert path.read_text().startswith("area_code,area_name,eligible,reason,vawg_value")


def test_import_does_not_replace_a_counts_file_without_its_report(tmp_path):
    """A hand-made counts CSV with the import's header but no import report beside it is the user's, and kept."""
    from simulator.policeuk import OUTPUT_COLUMNS, import_street_files
    from simulator.report import write_import

    counts = import_street_files([REPO / "tests" / "fixtures" / "policeuk_kent_street_2024-01_sample.csv"])
    mine = tmp_path / "kent-all.csv"
    mine.write_text(",".join(OUTPUT_COLUMNS) + "\nE01,x,Medway,2024-01,Burglary,5\n")
    with pytest.raises(ConfigError, match="no import report"):
        write_import(counts, mine)
    assert mine.read_text().endswith("Burglary,5\n")
    table, report_path = write_import(counts, tmp_path / "kent-2024.csv")
    write_import(counts, table)  # its own output, with its report beside it, is replaced
    assert json.loads(report_path.read_text())["written_by"] == WRITER


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_rules_csv_has_a_row_per_binding_rule(kent_result, written):
    """rules.csv: one row per rule effect of the run, its sentence as the report words it."""
    rows = read_rows(written / "rules.csv")
    assert [row["sentence"] for row in rows] == [effect.sentence() for effect in kent_result.rule_effects]
    assert [row["config_key"] for row in rows][:1] == ["budget_gbp"]


def test_budget_curve_csv_marks_the_scenarios_budget_once(kent_result, written):
    """budget_curve.csv: every point of the curve, and exactly one row, at the budget, marked as the scenario's."""
    rows = read_rows(written / "budget_curve.csv")
    assert len(rows) == len(kent_result.budget_curve.budgets_gbp)
    marked = [row for row in rows if row["scenario_budget"] == "true"]
    assert [float(row["budget_gbp"]) for row in marked] == [kent_result.scenario.budget_gbp]
    assert rows[-1]["slope_to_next_per_1000_gbp"] == ""


def test_tables_without_rows_still_have_their_header(kent_result, tmp_path):
    """With no binding rule and no curve (the least-cost goal), rules.csv and budget_curve.csv hold their header alone."""
    from simulator.result import BUDGET_CURVE_COLUMNS, RULE_COLUMNS

    bare = dataclasses.replace(kent_result, rule_effects=(), budget_curve=None)
    folder = write_run(bare, tmp_path / "run", charts=False)
    assert (folder / "rules.csv").read_text(encoding="utf-8") == ",".join(RULE_COLUMNS) + "\n"
    assert (folder / "budget_curve.csv").read_text(encoding="utf-8") == ",".join(BUDGET_CURVE_COLUMNS) + "\n"


def test_manifest_lists_every_entry_of_the_folder(written):
    """manifest.json names each file of the run folder with what it holds, so a reader knows rules.csv from budget_curve.csv."""
    files = json.loads((written / "manifest.json").read_text(encoding="utf-8"))["files"]
    assert set(files) == {path.name for path in written.iterdir()} | {"manifest.json"}
    assert set(files) <= RUN_ENTRIES
    assert files["rules.csv"].startswith("per binding rule")


def test_run_with_new_tables_is_still_recognised_as_the_tools(written, tmp_path):
    """A run folder holding rules.csv and budget_curve.csv is the tool's own: a rerun may replace it."""
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("manifest.json", "rules.csv", "budget_curve.csv"):
        (folder / name).write_bytes((written / name).read_bytes())
    assert foreign_entries(folder) == []
    check_output_folder(folder, kind="run")


def test_forces_csv_is_written_when_the_areas_span_forces(kent_result, tmp_path):
    """A run whose areas span several forces writes forces.csv, one row per force, and lists it in the manifest."""
    from simulator.result import RunResult

    class Spanning(RunResult):
        spans_forces = True

    spanning = Spanning(**{field.name: getattr(kent_result, field.name) for field in dataclasses.fields(kent_result)})
    folder = write_run(spanning, tmp_path / "run", charts=False)
    with open(folder / "forces.csv", encoding="utf-8", newline="") as handle:
        found = list(csv.DictReader(handle))
    assert [(row["force"], row["status"], row["areas"]) for row in found] == [("Kent", "modelled", "13")]
    assert "forces.csv" in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]


def test_single_force_run_has_no_forces_csv(written):
    """The Kent baseline (one force) writes no forces.csv."""
    assert not (written / "forces.csv").exists()


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    """A two-point Kent sweep folder the tool wrote, without charts."""
    from simulator.report import write_sweep
    from simulator.sweep import parse_variation, sweep

    found = sweep(BASELINE, [parse_variation("budget_gbp=1000000,2000000")])
    return write_sweep(found, tmp_path_factory.mktemp("swept") / "sweep", "safer-streets sweep", charts=False)


def test_sweep_folder_is_the_tools_own(swept):
    """A sweep folder the tool wrote is known as a sweep and has nothing foreign in it."""
    from simulator.report import folder_kind

    assert folder_kind(swept) == "sweep"
    assert foreign_entries(swept) == []


def test_sweep_folder_with_a_file_of_the_users_is_foreign(swept, tmp_path):
    """A planner's file in a sweep folder stops it being replaced."""
    import shutil

    folder = tmp_path / "sweep"
    shutil.copytree(swept, folder)
    (folder / "notes.txt").write_text("mine")
    assert foreign_entries(folder) == ["notes.txt"]


def test_sweep_never_replaces_a_run_folder(written):
    """A sweep refuses to replace a run folder, even one the tool wrote."""
    with pytest.raises(ConfigError) as caught:
        check_output_folder(written, (), "sweep")
    assert caught.value.what == "the output folder holds a run this tool wrote, not a sweep, so it will not be replaced"


@pytest.mark.skipif(sys.platform != "linux", reason="the chart server forks, which only Linux is trusted to do")
def test_charts_started_before_the_monte_carlo_are_written_with_the_rest(kent_result, tmp_path):
    from simulator.drawing import chart_server
    from simulator.report import start_point_charts
    from simulator.result import PointRun

    plain = write_run(kent_result, tmp_path / "plain" / "run")
    point = PointRun(**{stage.name: getattr(kent_result, stage.name) for stage in dataclasses.fields(PointRun)})
    with chart_server(processes=2) as server:
        started = start_point_charts(point)
        assert started is not None and started.server is not None
        early = write_run(kent_result, tmp_path / "early" / "run", started=started)
        assert server.process is not None, "the server fell back to drawing in this process"
    written = sorted(path.relative_to(plain) for path in plain.rglob("*") if path.is_file() and path.name != "manifest.json")
    assert written == sorted(path.relative_to(early) for path in early.rglob("*") if path.is_file() and path.name != "manifest.json")
    assert "charts/allocation_by_district.png" in {path.as_posix() for path in written}
    for name in written:
        assert (plain / name).read_bytes() == (early / name).read_bytes(), name


def test_without_a_chart_server_no_chart_is_started_before_the_monte_carlo(kent_result):
    from simulator.report import start_point_charts

    assert start_point_charts(kent_result) is None
