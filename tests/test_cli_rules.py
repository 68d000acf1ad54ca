"""`safer-streets run` with allocation rules that cannot all be met: one line naming the conflict, exit 2, nothing written."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import BASELINE

from simulator.cli import cli

CAPS = (
    "{"
    + ",".join(
        f"{item}=100000" for item in ("cctv", "street_lighting", "target_hardening", "alley_gating", "vawg_prevention", "hot_spots_patrols")
    )
    + "}"
)

CONFLICTS = [
    (
        ["allocation.equity_floor=0.9", f"allocation.intervention_caps_gbp={CAPS}"],
        "error: allocation.equity_floor: the rules cannot all be met: equity floors need £1,350,000 in total over 9 areas; with "
        "the intervention caps in 6 places (£600,000 in all), they fall short by £750,000; lower allocation.equity_floor, or relax "
        "allocation.intervention_caps_gbp",
    ),
    (
        ['fund_round="safer-streets-1"', "allocation.equity_floor=0.2"],
        "error: allocation.equity_floor: the rules cannot all be met: equity floors need all 4 eligible areas funded, but the "
        "round allows 3; lower allocation.equity_floor, or allow more bids (rounds.safer-streets-1.bids_per_commissioner)",
    ),
    (
        ['allocation.objective="least_cost"', "allocation.target_harm_days=2000000"],
        "error: allocation.target_harm_days: the rules cannot all be met: the target of 2,000,000 harm days; with the budget of "
        "£1,500,000, it falls short by 1,422,062 harm days; lower the target, or raise the budget",
    ),
]


@pytest.mark.parametrize("sets, line", CONFLICTS, ids=["floors-over-caps", "floors-over-bid-limit", "target-out-of-reach"])
def test_rules_that_cannot_all_be_met_are_one_line_exit_2_and_nothing_written(tmp_path, sets, line):
    """The conflict and its size in one line on stderr, exit code 2, and no run folder (nor any file) left behind."""
    out = tmp_path / "run"
    arguments = ["run", str(BASELINE), "--out", str(out), "--draws", "10"]
    for item in sets:
        arguments += ["--set", item]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 2, result.output
    assert result.stderr.rstrip("\n") == line
    assert list(tmp_path.iterdir()) == []


def test_an_objective_the_robust_plans_cannot_pursue_with_these_rules_is_refused_before_any_work(tmp_path):
    """The CVaR plan with an equity floor is refused with the reason, exit 2, nothing written."""
    result = CliRunner().invoke(
        cli,
        [
            "run",
            str(BASELINE),
            "--out",
            str(tmp_path / "run"),
            "--set",
            'allocation.objective="cvar"',
            "--set",
            "allocation.equity_floor=0.3",
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.rstrip("\n") == (
        "error: allocation.objective: cannot be 'cvar' with these rules: the expected and CVaR plans are solved under the budget, "
        'caps, bid limit and minimum grant only, not the equity floor; use allocation.objective = "point" with these rules, or '
        "switch the other rules off"
    )
    assert list(tmp_path.iterdir()) == []
