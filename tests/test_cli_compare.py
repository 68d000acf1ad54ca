"""`safer-streets compare`: the comparison folder, the printed changes, reruns, and one-line errors."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner
from conftest import BASELINE, SCENARIOS

from simulator.cli import cli

SURGE = SCENARIOS / "kent-maidstone-violence-surge.toml"
COMPARISON_FILES = {"comparison.csv", "totals.csv", "summary.json", "report.html", "report.md", "charts", "runs"}


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """The baseline against the surge, through the CLI, once for this module."""
    out = tmp_path_factory.mktemp("compare") / "baseline-vs-surge"
    result = CliRunner().invoke(cli, ["compare", str(BASELINE), str(SURGE), "--out", str(out)])
    return result, out


def test_compare_writes_the_folder(compared):
    """Exit 0 and every file: the CSVs, reports, charts and one run folder per scenario."""
    result, out = compared
    assert result.exit_code == 0, result.output
    assert {path.name for path in out.iterdir()} == COMPARISON_FILES
    assert {path.name for path in (out / "runs").iterdir()} == {"kent-baseline", "kent-maidstone-violence-surge"}
    assert {path.name for path in (out / "charts").iterdir()} == {
        "comparison_allocation.png",
        "comparison_harm_averted.png",
        "comparison_eligibility.png",
        "comparison_change_map.png",
    }
    assert (out / "runs" / "kent-baseline" / "report.html").is_file()


def test_compare_prints_the_districts_that_changed(compared):
    """The summary names Dover (lost eligibility) and Maidstone (more money) with amounts."""
    result, _ = compared
    assert "Dover: lost eligibility; £32,761 → £0 (−£32,761)" in result.stdout
    assert "Maidstone: £125,454 → £130,063 (+£4,609)" in result.stdout
    assert result.stderr == ""


def test_comparison_csv_has_a_row_per_area_and_scenario(compared):
    """26 rows with eligible, amount and harm averted; they sum to each scenario's allocation."""
    _, out = compared
    with open(out / "comparison.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 26
    assert {"area_code", "area_name", "scenario", "eligible", "amount_gbp", "harm_averted_days"} <= set(rows[0])
    totals = json.loads((out / "summary.json").read_text(encoding="utf-8"))["scenarios"]
    for total in totals:
        spent = sum(float(row["amount_gbp"]) for row in rows if row["scenario"] == total["scenario"])
        assert spent == pytest.approx(total["allocated_gbp"], abs=0.005 * 13)  # each row rounded to the penny


def test_run_inside_a_comparison_reruns_identically(runner, compared, tmp_path):
    """A run folder inside the comparison repeats from its manifest to the same CSVs."""
    _, out = compared
    original = out / "runs" / "kent-maidstone-violence-surge"
    again = tmp_path / "again"
    result = runner.invoke(cli, ["run", str(original / "manifest.json"), "--out", str(again), "--no-charts"])
    assert result.exit_code == 0, result.output
    for name in ("demand.csv", "eligibility.csv", "allocation.csv", "baselines.csv", "summary.json"):
        assert (original / name).read_bytes() == (again / name).read_bytes(), name


def test_quiet_prints_only_the_folder(runner, tmp_path):
    """--quiet prints the comparison folder and nothing else."""
    out = tmp_path / "quiet"
    result = runner.invoke(
        cli, ["compare", str(BASELINE), str(SCENARIOS / "kent-budget-cut.toml"), "--out", str(out), "--quiet", "--no-charts"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"


def test_set_applies_to_every_scenario(runner, tmp_path):
    """--set changes each scenario and is logged in each run's manifest."""
    out = tmp_path / "set"
    result = runner.invoke(cli, ["compare", str(BASELINE), str(SURGE), "--out", str(out), "--no-charts", "--set", "budget_gbp=900000"])
    assert result.exit_code == 0, result.output
    for label in ("kent-baseline-budget_gbp-900000", "kent-maidstone-violence-surge-budget_gbp-900000"):
        manifest = json.loads((out / "runs" / label / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["scenario"]["budget_gbp"] == 900000
        assert manifest["command_line"] == [{"key": "budget_gbp", "old": 1500000, "new": 900000}]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BAD_CASES = {
    "unknown key in --set": (lambda t: [BASELINE, SURGE], ["--set", "budget_gpb=1"], "--set: budget_gpb: unknown key"),
    "extends cycle": (
        lambda t: [BASELINE, (write(t, "b.toml", 'extends = "a.toml"\n'), write(t, "a.toml", 'extends = "b.toml"\n'))[1]],
        [],
        "extends makes a cycle",
    ),
    "not TOML": (lambda t: [BASELINE, write(t, "notes.toml", "This is a memo, not a scenario.\n")], [], "is not valid TOML"),
    "one scenario": (lambda t: [BASELINE], [], "compare needs at least two scenarios"),
    "missing scenario": (lambda t: [BASELINE, t / "missing.toml"], [], "file not found"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_is_one_line_exit_2_and_no_folder(runner, tmp_path, case):
    """Every bad input: exit 2, one 'error:' line, nothing on stdout, no comparison folder."""
    make, extra, expected = BAD_CASES[case]
    out = tmp_path / "out"
    result = runner.invoke(cli, ["compare", *map(str, make(tmp_path)), "--out", str(out), *extra])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr
    assert result.stdout == ""
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
