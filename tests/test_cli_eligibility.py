"""`safer-streets eligibility`: verdicts with reasons, and a CSV on request."""

from __future__ import annotations

import csv

from click.testing import CliRunner
from conftest import BASELINE, REPO

from simulator.cli import cli


def test_eligibility_lists_every_district_with_a_reason(tmp_path):
    """All 13 districts are listed with their verdict; the count line says 9 of 13."""
    result = CliRunner().invoke(cli, ["eligibility", str(BASELINE), "--csv", str(tmp_path / "e.csv")])
    assert result.exit_code == 0, result.output
    assert "9 of 13 areas eligible;" in result.stdout
    assert "Tunbridge Wells" in result.stdout
    rows = list(csv.DictReader((tmp_path / "e.csv").read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 13 and {"area_code", "area_name", "eligible", "reason"} <= set(rows[0])


def test_eligibility_follows_set(tmp_path, monkeypatch):
    """Switching to the VAWG round with --set changes the verdicts (7 of 13)."""
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["eligibility", "--set", 'fund_round="safer-streets-3"'])
    assert result.exit_code == 0, result.output
    assert "7 of 13 areas eligible;" in result.stdout


def test_eligibility_bad_input_is_exit_2(tmp_path):
    """A missing scenario gives exit 2 and one error line."""
    result = CliRunner().invoke(cli, ["eligibility", str(tmp_path / "none.toml")])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
