"""`safer-streets backtest`: the Kent back-test's folder and printed table, the golden figures it rests on, and one-line errors."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner
from conftest import BASELINE, REPO

from simulator.cli import cli

BACKTEST_FILES = {"rounds.csv", "backtest.csv", "summary.json", "report.html", "report.md", "charts", "runs"}
KENT_AWARDS = REPO / "simulator" / "data" / "kent_safer_streets_awards.csv"
DRAWS = "200"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def kent(tmp_path_factory):
    """The Kent back-test through the CLI, once for this module (200 draws per round)."""
    out = tmp_path_factory.mktemp("backtest") / "kent"
    result = CliRunner().invoke(cli, ["backtest", "--out", str(out), "--draws", DRAWS])
    return result, out


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_backtest_writes_its_folder(kent):
    """Exit 0; the CSVs, reports, chart and one run folder per tested round (3 and 4: the history covers no other)."""
    result, out = kent
    assert result.exit_code == 0, result.output
    assert {path.name for path in out.iterdir()} == BACKTEST_FILES
    assert {path.name for path in (out / "runs").iterdir()} == {"safer-streets-3", "safer-streets-4"}
    assert {path.name for path in (out / "charts").iterdir()} == {"backtest.png"}
    assert (out / "runs" / "safer-streets-4" / "manifest.json").is_file()


def test_rounds_csv_has_every_round_with_skipped_ones_explained(kent):
    """Rounds 1, 2 and 5 are skipped with the months the history holds; 3 and 4 are tested with the money Kent received."""
    _, out = kent
    found = {row["round"]: row for row in rows(out / "rounds.csv")}
    assert [found[f"safer-streets-{n}"]["status"] for n in range(1, 6)] == ["skipped", "skipped", "tested", "tested", "skipped"]
    assert found["safer-streets-2"]["reason"].startswith("the history holds 3 of the 12 months before June 2021")
    assert found["safer-streets-4"]["months_used"] == "2021-07 to 2022-06"
    assert found["safer-streets-3"]["months_used"] == "2021-03 to 2021-09"
    assert float(found["safer-streets-4"]["received_gbp"]) == 1_433_091.14
    assert float(found["safer-streets-5"]["received_gbp"]) == 943_809.0
    assert float(found["safer-streets-4"]["model_allocated_gbp"]) == pytest.approx(1_433_091.14, abs=0.01)


def test_kent_round_4_compared_district_by_district(kent):
    """Round 4 (golden): Canterbury, Gravesham and Medway paid and funded by the model; Maidstone paid but short of the
    modelled test on a knife edge; the rank correlation over the 13 districts is low."""
    _, out = kent
    round_4 = {row["area_name"]: row for row in rows(out / "backtest.csv") if row["round"] == "safer-streets-4"}
    assert len(round_4) == 13
    assert {name for name, row in round_4.items() if row["agreement"] == "both"} == {"Canterbury", "Gravesham", "Medway"}
    maidstone = round_4["Maidstone"]
    assert (maidstone["agreement"], maidstone["eligible"], maidstone["knife_edge"]) == ("fund only", "false", "true")
    assert float(maidstone["actual_gbp"]) == 565_877.0
    assert maidstone["why"].startswith("not eligible under the modelled rules: fails every rule")
    assert round_4["Medway"]["basket_rank"] == "1"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    tested = {row["round"]: row for row in summary["rounds"] if row["status"] == "tested"}
    assert (tested["safer-streets-4"]["recall"], tested["safer-streets-4"]["both"]) == (0.75, 3)
    assert tested["safer-streets-4"]["rank_correlation"] == pytest.approx(0.14, abs=0.02)
    assert tested["safer-streets-3"]["rank_correlation"] is None


def test_kent_round_3_combined_award_has_no_split(kent):
    """Round 3's £741,548 went to Ashford and Medway together: neither has an amount, and each says why."""
    _, out = kent
    round_3 = {row["area_name"]: row for row in rows(out / "backtest.csv") if row["round"] == "safer-streets-3"}
    assert round_3["Ashford"]["actual_gbp"] == "" and round_3["Medway"]["actual_gbp"] == ""
    assert round_3["Ashford"]["actual_how"] == "inside a combined £741,548 to Ashford and Medway, split not published"
    assert round_3["Ashford"]["eligible"] == "false"


def test_the_terminal_shows_the_table_and_the_caveat(kent):
    """The printed table has a row per round, and the first caveat (bids are local choices) is printed."""
    result, out = kent
    assert "Back-test, Kent: 2 of 5 rounds tested" in result.output
    assert "safer-streets-1" in result.output and "skipped" in result.output
    assert "Bids are local choices" in result.output
    assert result.output.rstrip().endswith(f"Wrote {out}/")


def test_the_report_says_what_it_cannot_show(kent):
    """report.md carries the caveats, the findings and the chart; report.html embeds the chart."""
    _, out = kent
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## What it can and cannot show" in markdown
    assert "Real bids were small places" in markdown
    assert "charts/backtest.png" in markdown
    assert "data:image/png;base64" in (out / "report.html").read_text(encoding="utf-8")


def test_a_rounds_run_folder_repeats_from_its_manifest(runner, kent, tmp_path):
    """Each tested round is an ordinary scenario: rerunning its manifest gives the same eligibility and allocation."""
    _, out = kent
    folder = out / "runs" / "safer-streets-4"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    data = manifest["scenario"]["data"]
    assert (data["crime_counts"], data["period_start"], data["period_end"]) == (
        "embedded:kent_crime_by_type_monthly.csv",
        "2021-07",
        "2022-06",
    )
    assert (manifest["scenario"]["fund_round"], manifest["scenario"]["budget_gbp"]) == ("safer-streets-4", 1_433_091.14)
    again = tmp_path / "again"
    result = runner.invoke(cli, ["run", str(folder / "manifest.json"), "--out", str(again), "--no-charts", "-q"])
    assert result.exit_code == 0, result.output
    for name in ("eligibility.csv", "allocation.csv", "uncertainty.csv"):
        assert (again / name).read_text(encoding="utf-8") == (folder / name).read_text(encoding="utf-8"), name


def test_a_second_backtest_replaces_its_own_folder(runner, kent):
    """Its own folder is replaced (no charts this time), never half-written."""
    _, out = kent
    result = runner.invoke(cli, ["backtest", "--out", str(out), "--draws", DRAWS, "--no-charts", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    assert not (out / "charts").exists()


def test_a_folder_the_tool_did_not_write_is_refused(runner, tmp_path):
    """A folder holding someone's file: exit 2, one line, the file untouched."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    result = runner.invoke(cli, ["backtest", "--out", str(out), "--draws", DRAWS])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_a_run_folder_is_not_replaced_by_a_backtest(runner, tmp_path):
    """A run folder is the tool's, but of another kind: refused."""
    out = tmp_path / "run"
    assert runner.invoke(cli, ["run", str(BASELINE), "--out", str(out), "--draws", "100", "--no-charts", "-q"]).exit_code == 0
    result = runner.invoke(cli, ["backtest", "--out", str(out), "--draws", DRAWS])
    assert result.exit_code == 2
    assert "run" in result.stderr and (out / "manifest.json").is_file()


def awards_file(tmp_path, change):
    path = tmp_path / "awards.csv"
    path.write_text(change(KENT_AWARDS.read_text(encoding="utf-8")), encoding="utf-8")
    return path


BAD_AWARDS = {
    "unknown district": (lambda text: text.replace("2022-07-25,Gravesham,", "2022-07-25,Gravesend,"), ":6: district: names no district"),
    "amount not a number": (lambda text: text.replace(",589042,", ",589k,"), ":5: amount_gbp: is not an amount in pounds and pence"),
    "round missing from the config": (lambda text: text.replace("\n1,2020-07-28,", "\n7,2020-07-28,"), ":2: round: names a round"),
    "no rows": (lambda text: text.splitlines()[0] + "\n", "has no awards"),
}


@pytest.mark.parametrize("case", list(BAD_AWARDS))
def test_a_bad_awards_file_is_one_line_exit_2_and_no_folder(runner, tmp_path, case):
    """Every bad awards file: exit 2, one 'error:' line naming the file and line, nothing on stdout, no folder."""
    change, expected = BAD_AWARDS[case]
    out = tmp_path / "out"
    result = runner.invoke(cli, ["backtest", "--awards", str(awards_file(tmp_path, change)), "--out", str(out), "--draws", DRAWS])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr and "awards.csv" in result.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_a_scenario_without_history_is_refused(runner, tmp_path):
    """The back-test needs the monthly history: exit 2 naming data.history."""
    result = runner.invoke(cli, ["backtest", "--set", 'data.history=""', "--out", str(tmp_path / "out"), "--draws", DRAWS])
    assert result.exit_code == 2
    assert "data.history" in result.stderr and result.stderr.count("\n") == 1


def test_help_describes_the_command(runner):
    """--help says what the back-test does and lists its options."""
    result = runner.invoke(cli, ["backtest", "--help"])
    assert result.exit_code == 0
    for option in ("--awards", "--out", "--window-months", "--least-months", "--draws", "--no-charts"):
        assert option in result.output
    assert "Nothing is" in result.output and "tuned to the awards" in result.output
