"""Every Safer Streets round in configs/rounds/ run on the Kent baseline: its rules hold, bind where they should, and are named."""

from __future__ import annotations

from functools import cache

import pytest
from conftest import BASELINE, REPO

from simulator import load_scenario, run
from simulator.constraints import rule_breaches

ROUNDS = sorted(path.stem for path in (REPO / "configs" / "rounds").glob("*.toml"))


@cache
def kent_under(round_id: str):
    """The Kent baseline run under one round, with few draws (the rules, not the uncertainty, are under test)."""
    return run(load_scenario(BASELINE, [f'fund_round="{round_id}"', "demand.draws=20"]))


def test_every_round_file_is_tested():
    """The five published rounds are all here."""
    assert ROUNDS == [f"safer-streets-{number}" for number in range(1, 6)]


@pytest.mark.parametrize("round_id", ROUNDS)
def test_every_rule_holds_under_each_round(round_id):
    """The allocation breaks none of the round's rules."""
    result = kent_under(round_id)
    assert rule_breaches(result.request, result.allocation.amounts.values) == []


@pytest.mark.parametrize("round_id", ROUNDS)
def test_each_round_names_the_rules_that_bind(round_id):
    """The first binding line is about the money, and every rule effect names a rule the round or scenario sets."""
    result = kent_under(round_id)
    assert result.allocation.binding[0].startswith(("budget", "force cap", "match funding"))
    assert result.rule_effects
    assert all(effect.sentence().endswith(".") and " binds" in effect.sentence() for effect in result.rule_effects)


@pytest.mark.parametrize("round_id", ROUNDS)
def test_each_round_is_solved_within_the_gap_target(round_id):
    """The certified gap is below the scenario's target (0.05 %)."""
    result = kent_under(round_id)
    assert result.allocation.certificate.gap <= result.scenario.allocation.gap_target


def test_round_5_spends_at_most_820000_across_kent():
    """Round 5's £820,000 is a cap per force: the £1.5m budget cannot all be spent, and the force cap is said to bind."""
    result = kent_under("safer-streets-5")
    assert result.allocation.allocated_gbp <= 820_000.0 + 0.01
    assert result.allocation.allocated_gbp == pytest.approx(820_000.0, abs=0.01)
    assert result.allocation.binding[0].startswith("force cap: £820,000 is the most Kent may receive, below the budget of £1,500,000")
    assert any(effect.family == "force_cap" for effect in result.rule_effects)


def test_round_5_funds_at_most_three_proposals():
    """Round 5 allows three proposals per commissioner."""
    result = kent_under("safer-streets-5")
    assert len(result.allocation.funded_codes) <= 3
    assert any(line.startswith("bid limit: 3 areas funded") for line in result.allocation.binding)


def test_round_2_leaves_money_the_caps_and_bid_limit_cannot_take():
    """Round 2: three bids of at most £432,000 take £1,296,000 of the £1.5m, and the line says why the rest is left."""
    result = kent_under("safer-streets-2")
    assert result.allocation.allocated_gbp == pytest.approx(3 * 432_000.0, abs=0.01)
    assert result.allocation.binding[0] == (
        "budget not used up: £204,000 left, because the 3 funded bid(s) are at the grant cap and the bid limit allows no more; "
        "prices hold for the bids chosen"
    )
