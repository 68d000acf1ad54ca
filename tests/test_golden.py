"""The Kent baseline's outputs, byte for byte (regenerate with scripts/regen_goldens.py and review)."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from simulator.report import write_run

GOLDEN = REPO / "tests" / "golden" / "kent-baseline"
FILES = (
    "summary.json",
    "demand.csv",
    "eligibility.csv",
    "allocation.csv",
    "rules.csv",
    "budget_curve.csv",
    "baselines.csv",
    "uncertainty.csv",
    "plans.csv",
    "tornado.csv",
)


@pytest.fixture(scope="module")
def baseline_folder(kent_result, tmp_path_factory):
    return write_run(kent_result, tmp_path_factory.mktemp("golden") / "run", charts=False)


@pytest.mark.parametrize("name", FILES)
def test_baseline_output_matches_golden(baseline_folder, name):
    """Each output file of the Kent baseline equals its reviewed golden copy."""
    assert (baseline_folder / name).read_text(encoding="utf-8") == (GOLDEN / name).read_text(encoding="utf-8")


def test_golden_summary_headlines():
    """The reviewed headline figures: £1.5m allocated among all 9 eligible districts (alley gating reaches residential
    burglary everywhere), certified optimal, with the budget the one rule that binds."""
    summary = json.loads((GOLDEN / "summary.json").read_text(encoding="utf-8"))
    assert summary["allocated_gbp"] == 1_500_000
    assert summary["eligible_areas"] == 9
    assert len(summary["funded_areas"]) == 9
    assert summary["status"] == "optimal"
    assert summary["baselines"]["optimised"]["harm_averted_days"] > summary["baselines"]["per_harm"]["harm_averted_days"]
    assert summary["certificate"]["gap"] < 1e-9
    assert summary["certificate"]["method"] == "water-filling on the exact curves"
    assert len(summary["rule_effects"]) == 1 and summary["rule_effects"][0].startswith("the budget of £1,500,000 binds")
