"""`safer-streets sweep`: the folder and its files, the report's slider, the same table for any --jobs, Ctrl-C, one-line errors."""

from __future__ import annotations

import csv
import importlib
import json
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from conftest import BASELINE

from simulator.cli import cli

SWEEP_FILES = {"sweep.csv", "allocations.csv", "baselines.csv", "summary.json", "report.html", "report.md", "charts"}
HEADER = (
    "point,budget_gbp,eligible_areas,funded_bids,funded_areas,allocated_gbp,harm_averted_days,gbp_per_harm_day_averted,"
    "certificate_gap,status,overrides"
)
VARY = "budget_gbp=500000:2000000:4"
CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def kent(tmp_path_factory):
    """A four-point budget sweep of the Kent baseline through the CLI, with its chart, once for this module."""
    out = tmp_path_factory.mktemp("sweep") / "kent"
    result = CliRunner().invoke(cli, ["sweep", str(BASELINE), "--vary", VARY, "--out", str(out)])
    return result, out


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def embedded(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="sweep-data">(.*?)</script>', page, re.S).group(1))


def test_sweep_writes_its_folder(kent):
    """Exit 0; the CSVs, summary, both reports and the chart."""
    result, out = kent
    assert result.exit_code == 0, result.output
    assert {path.name for path in out.iterdir()} == SWEEP_FILES
    assert [path.name for path in (out / "charts").iterdir()] == ["sweep.png"]


def test_sweep_csv_has_its_header_and_a_row_per_point(kent):
    """sweep.csv's header, then the four budgets in order, each ok with the override that reruns it."""
    _, out = kent
    assert (out / "sweep.csv").read_text(encoding="utf-8").splitlines()[0] == HEADER
    found = rows(out / "sweep.csv")
    assert [(row["budget_gbp"], row["status"], row["overrides"]) for row in found] == [
        (str(budget), "ok", f"budget_gbp={budget}") for budget in (500000, 1000000, 1500000, 2000000)
    ]
    assert [float(row["allocated_gbp"]) for row in found] == [500000.0, 1000000.0, 1500000.0, 2000000.0]


def test_allocations_csv_adds_up_to_each_point(kent):
    """Each point's funded areas in allocations.csv add up to its allocated £."""
    _, out = kent
    totals = {}
    for row in rows(out / "allocations.csv"):
        totals[row["point"]] = totals.get(row["point"], 0.0) + float(row["amount_gbp"])
    for row in rows(out / "sweep.csv"):
        assert totals[row["point"]] == pytest.approx(float(row["allocated_gbp"]), abs=0.05)


def test_summary_says_what_was_varied(kent):
    """summary.json is marked as the tool's, names the varied key and its values, and counts the points."""
    _, out = kent
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["written_by"] == "safer-streets-simulator"
    assert summary["varied"] == [{"key": "budget_gbp", "spec": VARY, "values": [500000, 1000000, 1500000, 2000000]}]
    assert (summary["points"], summary["ok"], summary["stopped"]) == (4, 4, 0)


def test_report_has_a_slider_and_the_points_embedded(kent):
    """report.html has a range input over the four points and each point's figures as JSON."""
    _, out = kent
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<input type="range" id="sweep-point" min="0" max="3" step="1" value="0">' in page
    data = embedded(page)
    assert [point["label"] for point in data["points"]] == [f"budget_gbp = {budget}" for budget in (500000, 1000000, 1500000, 2000000)]
    assert data["points"][0]["allocated"] == 500000.0
    assert len(data["names"]) == 13


def test_report_draws_the_kent_tile_map(kent):
    """The Kent districts have a tile layout, so the page holds an SVG hexagon per district."""
    _, out = kent
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('<polygon data-area="') == 13


def test_report_fetches_nothing_from_outside(kent):
    """No script file, and no src or href to another site: the page works offline."""
    _, out = kent
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script src" not in page
    assert re.search(r'(src|href)\s*=\s*"(https?:)?//', page) is None


def test_report_md_has_the_table_and_chart(kent):
    """report.md holds the table of points and links the chart."""
    _, out = kent
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "(charts/sweep.png)" in text
    assert "| 4 | £2,000,000 |" in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed: apt-get install chromium")
def test_moving_the_slider_shows_that_point(kent, tmp_path):
    """In headless Chromium, moving the slider to the last point shows its label and its funded districts."""
    _, out = kent
    mover = (
        '<script>window.addEventListener("load", function () { var s = document.getElementById("sweep-point"); '
        's.value = "3"; s.dispatchEvent(new Event("input")); });</script>'
    )
    copy = tmp_path / "report.html"
    copy.write_text((out / "report.html").read_text(encoding="utf-8").replace("</body>", mover + "</body>"), encoding="utf-8")
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
        + ["--dump-dom", copy.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "Point 4 of 4: budget_gbp = 2000000" in dom
    funded = len(embedded((out / "report.html").read_text(encoding="utf-8"))["points"][3]["funded"])
    body = re.search(r'<table id="sweep-point-table">.*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    assert body.count("<tr>") == funded


def test_jobs_two_gives_the_same_sweep_csv(kent, tmp_path):
    """The same four points in two processes give a byte-identical sweep.csv and allocations.csv."""
    _, out = kent
    other = tmp_path / "jobs2"
    result = CliRunner().invoke(cli, ["sweep", str(BASELINE), "--vary", VARY, "--jobs", "2", "--no-charts", "--out", str(other)])
    assert result.exit_code == 0, result.output
    assert (other / "sweep.csv").read_bytes() == (out / "sweep.csv").read_bytes()
    assert (other / "allocations.csv").read_bytes() == (out / "allocations.csv").read_bytes()


def test_grid_has_every_combination(tmp_path):
    """Two --vary make a grid: 2 budgets × 2 rounds = 4 rows, both keys as columns."""
    out = tmp_path / "grid"
    result = CliRunner().invoke(
        cli,
        ["sweep", str(BASELINE), "--vary", "budget_gbp=1000000,2000000", "--vary", "fund_round=safer-streets-3,safer-streets-4"]
        + ["--no-charts", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert [(row["budget_gbp"], row["fund_round"]) for row in rows(out / "sweep.csv")] == [
        ("1000000", "safer-streets-3"),
        ("1000000", "safer-streets-4"),
        ("2000000", "safer-streets-3"),
        ("2000000", "safer-streets-4"),
    ]


@pytest.mark.parametrize(
    "spec, start",
    [
        ("budget_gbp=1:2:0", "error: --vary: has a range whose STEPS is not a whole number of 1 or more"),
        ("budgt_gbp=1,2", "error: --vary: unknown key (got 'budgt_gbp'"),
        ("budget_gbp", "error: --vary: needs KEY=START:STOP:STEPS or KEY=A,B,C"),
    ],
)
def test_bad_vary_is_one_line_and_writes_nothing(tmp_path, spec, start):
    """A bad --vary (STEPS < 1, unknown key, no '=') exits 2 with one error line, nothing on stdout, no folder."""
    out = tmp_path / "bad"
    result = CliRunner().invoke(cli, ["sweep", str(BASELINE), "--vary", spec, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(start)
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout == ""
    assert not out.exists()


def test_foreign_folder_is_refused(tmp_path):
    """A folder holding a file the tool did not write is not replaced, and the file stays."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sweep", str(BASELINE), "--vary", "budget_gbp=1000000", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "holds files safer-streets did not write" in result.stderr
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert [path.name for path in out.iterdir()] == ["notes.txt"]


def test_own_sweep_folder_is_replaced(kent, tmp_path):
    """A sweep folder the tool wrote is replaced by a new sweep."""
    out = tmp_path / "again"
    shutil.copytree(kent[1], out)
    result = CliRunner().invoke(cli, ["sweep", str(BASELINE), "--vary", "budget_gbp=1000000", "--no-charts", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(rows(out / "sweep.csv")) == 1
    assert not (out / "charts").exists()


def test_ctrl_c_keeps_the_finished_points(tmp_path, monkeypatch):
    """Ctrl-C at the third point: exit 130 with one line; the two finished points are written, the rest marked stopped."""
    module = importlib.import_module("simulator.sweep")  # the module, not the function the package exports by the same name
    real = module.run_point

    def stop_at_third(task):
        if task.index == 2:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(module, "run_point", stop_at_third)
    out = tmp_path / "stopped"
    result = CliRunner().invoke(cli, ["sweep", str(BASELINE), "--vary", VARY, "--no-charts", "--out", str(out)])
    assert result.exit_code == 130, result.output
    assert result.stderr == f"stopped (Ctrl-C) after 2 of 4 points; wrote them to {out}/\n"
    assert [row["status"] for row in rows(out / "sweep.csv")] == ["ok", "ok", "stopped", "stopped"]


def test_help_describes_the_options():
    """`sweep --help` names --vary, --draws, --jobs, --executor and --scheduler."""
    result = CliRunner().invoke(cli, ["sweep", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--vary", "--draws", "--jobs", "--executor", "--scheduler", "--set", "--out"):
        assert option in result.output
