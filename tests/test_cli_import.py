"""`safer-streets import police-uk`: the counts file, its report, the printed summary, and one-line errors."""

from __future__ import annotations

import csv
import json

from click.testing import CliRunner
from conftest import REPO

from simulator.cli import cli

SAMPLE = REPO / "tests" / "fixtures" / "policeuk_kent_street_2024-01_sample.csv"


def test_import_writes_counts_and_report(tmp_path):
    """Exit 0; the CSV has the tidy columns and sums to the counted rows; the report sits beside it."""
    out = tmp_path / "kent-2024-01.csv"
    result = CliRunner().invoke(cli, ["import", "police-uk", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["lsoa21_code", "lsoa21_name", "district", "month", "crime_type", "count"]
    assert sum(int(row["count"]) for row in rows) == 299
    report = json.loads((tmp_path / "kent-2024-01.import.json").read_text(encoding="utf-8"))
    assert report["rows_read"] == 300 and report["rejected_by_reason"] == {"no LSOA (unlocated)": 1}
    assert "Rows read 300 = counted 299 + rejected 1" in result.stdout
    assert "Rejected, no LSOA (unlocated): 1" in result.stdout


def test_bad_header_is_one_line_exit_2_and_no_file(tmp_path):
    """A file that is not a street file: exit 2, one error line naming file and line, nothing written."""
    bad = tmp_path / "2024-01-kent-outcomes.csv"
    bad.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type\n", encoding="utf-8"
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["import", "police-uk", str(bad), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert f"{bad}:1" in result.stderr and "police.uk street-level header" in result.stderr
    assert result.stdout == "" and not out.exists()
    assert [path.name for path in tmp_path.iterdir()] == [bad.name]


def test_missing_path_is_one_line_exit_2(tmp_path):
    """A path that does not exist: exit 2 and one line."""
    result = CliRunner().invoke(cli, ["import", "police-uk", str(tmp_path / "nowhere.zip"), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "not found" in result.stderr


def test_import_has_help():
    """The group and the command answer --help."""
    for command in (["import"], ["import", "police-uk"]):
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def import_and_run(tmp_path, name: str, data_line: str):
    """Import the real sample, name it in a scenario extending the Kent LSOA one (plus one [data] line), and run it."""
    counts = tmp_path / "kent-2024-01.csv"
    assert CliRunner().invoke(cli, ["import", "police-uk", str(SAMPLE), "--out", str(counts)]).exit_code == 0
    scenario = tmp_path / f"{name}.toml"
    scenario.write_text(
        f'extends = "{(REPO / "scenarios" / "kent-lsoa-2024.toml").as_posix()}"\nname = "{name}"\n'
        f'[data]\ncrime_counts = "kent-2024-01.csv"\nperiod_start = "2024-01"\nperiod_end = "2024-01"\n{data_line}\n',
        encoding="utf-8",
    )
    out = tmp_path / "run"
    return counts, out, CliRunner().invoke(cli, ["run", str(scenario), "--out", str(out), "--no-charts"])


def test_imported_counts_run_at_lsoa_level(tmp_path):
    """Import the real sample, name it in a scenario, and run: the run reads the month and reports small-area eligibility."""
    counts, out, result = import_and_run(tmp_path, "imported", 'other_areas = "count"')
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    counts_file = next(item for item in manifest["inputs"] if item["role"] == "crime_counts")
    assert counts_file["rows_used"] == len(counts.read_text(encoding="utf-8").splitlines()) - 1
    with open(out / "eligibility.csv", newline="", encoding="utf-8") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 1107
    assert "LSOAs by district" in (out / "report.html").read_text(encoding="utf-8")
    assert manifest["forecast"]["months_used"] == ["2024-01"] and manifest["forecast"]["method"] == "level"


def test_a_force_without_population_falls_back_to_counts(tmp_path):
    """No area table: areas come from the counts, rates per 1,000 become counts, and the run says so."""
    _, out, result = import_and_run(tmp_path, "no-population", 'areas = ""')
    assert result.exit_code == 0, result.output
    assert "Warning: no population table" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any("rates per 1,000 fall back to counts" in warning for warning in manifest["warnings"])
    with open(out / "eligibility.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 279
    assert "(as count: no population)" in rows[0]["reason"]
    assert "Warning: no population table" in (out / "report.html").read_text(encoding="utf-8")


def test_district_level_needs_a_population(tmp_path):
    """Without an area table at district level the run stops with one line saying what to add."""
    scenario = tmp_path / "bad.toml"
    scenario.write_text(f'extends = "{(REPO / "scenarios" / "kent-baseline.toml").as_posix()}"\n[data]\nareas = ""\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(scenario), "--out", str(tmp_path / "o"), "--no-charts"])
    assert result.exit_code == 2 and "an area table with population is needed at district level" in result.stderr
