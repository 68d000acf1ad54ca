"""Why the allocation looks as it does: each binding rule priced by re-solving, and the budget-response curve V(B)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import make_request

from simulator.allocation import allocate
from simulator.explanation import budget_curve, explain, most_spendable_gbp


@pytest.fixture
def two_capped():
    """Two areas, one intervention each; the first area's £60 cap binds, the £100 budget binds too."""
    return make_request(harm=[[1000.0], [400.0]], scale=[[50.0], [50.0]], reductions=[0.3], budget=100.0, cap=60.0)


def test_budget_effect_brackets_its_shadow_price(two_capped):
    """V(B) is concave here, so the step up averts at most, and the step down loses at least, the shadow price per £."""
    allocation = allocate(two_capped, "highs")
    effect = next(effect for effect in explain(two_capped, allocation, "highs") if effect.family == "budget")
    assert effect.gain_up / effect.step <= allocation.budget_shadow_price <= -effect.change_down / effect.step
    assert effect.gain_up / effect.step == pytest.approx(allocation.budget_shadow_price, rel=0.15)


def test_a_binding_cap_is_priced_and_its_effect_measured(two_capped):
    """The £60 cap in the first area binds; raising it re-solves to more harm averted, lowering it to less."""
    allocation = allocate(two_capped, "highs")
    effect = next(effect for effect in explain(two_capped, allocation, "highs") if effect.family == "grant_cap")
    assert effect.words == "the £60 grant cap in E00000000"
    assert effect.gain_up > 0 and effect.change_down < 0
    assert effect.price == pytest.approx(effect.gain_up / effect.step, rel=0.1)
    assert effect.sentence().startswith("the £60 grant cap in E00000000 binds: raising it by £1 would avert ")


def test_the_exact_re_solve_of_a_cap_equals_a_direct_solve(two_capped):
    """The measured effect is exactly the difference of two solves, one with the cap raised."""
    allocation = allocate(two_capped, "highs")
    effect = next(effect for effect in explain(two_capped, allocation, "highs") if effect.family == "grant_cap")
    raised = allocate(replace(two_capped, grant_caps_gbp=np.array([60.0 + effect.step, 60.0])), "highs")
    assert effect.gain_up == pytest.approx(raised.averted_days - allocation.averted_days, rel=1e-9)


def test_prices_under_a_bid_limit_are_conditional_on_the_chosen_bids():
    """With a one-bid limit the budget's effect keeps the chosen bid; the bid limit is re-solved with the bids free."""
    request = make_request(harm=[[1000.0], [900.0]], scale=[[50.0], [50.0]], reductions=[0.3], budget=100.0, max_bids=1)
    allocation = allocate(request, "highs")
    effects = {effect.family: effect for effect in explain(request, allocation, "highs")}
    assert effects["budget"].conditional and effects["budget"].sentence().endswith("(with the funded bids as chosen).")
    assert not effects["bid_limit"].conditional
    both = allocate(replace(request, max_bids=2), "highs")
    assert effects["bid_limit"].gain_up == pytest.approx(both.averted_days - allocation.averted_days, rel=1e-9)
    assert effects["bid_limit"].change_down is None


def test_budget_curve_slope_at_the_budget_is_its_shadow_price(two_capped):
    """V(B) is solved at 41 budgets from £0 to twice the budget; its central slope at the budget is the shadow price."""
    allocation = allocate(two_capped, "highs")
    curve = budget_curve(two_capped, allocation, "highs", 41)
    at = int(np.argmin(np.abs(curve.budgets_gbp - two_capped.budget_gbp)))
    central = (curve.values[at + 1] - curve.values[at - 1]) / (curve.budgets_gbp[at + 1] - curve.budgets_gbp[at - 1])
    assert curve.values[at] == pytest.approx(allocation.averted_days, rel=1e-9)
    assert central == pytest.approx(allocation.budget_shadow_price, rel=0.05)


def test_budget_curve_is_non_decreasing_and_concave_without_binaries(two_capped):
    """More budget never averts less, and each extra £ averts no more than the one before (no bids chosen)."""
    curve = budget_curve(two_capped, allocate(two_capped, "highs"), "highs", 21)
    assert np.all(np.diff(curve.values) >= -1e-9)
    assert np.all(np.diff(curve.slopes()) <= 1e-9)
    assert curve.values[0] == 0.0 and curve.statuses[0] == "nothing to spend"


def test_budget_curve_goes_flat_where_the_caps_take_no_more(two_capped):
    """Beyond £120 (two £60 caps) more budget cannot be spent: the curve is flat from there."""
    assert most_spendable_gbp(two_capped) == pytest.approx(120.0)
    curve = budget_curve(two_capped, allocate(two_capped, "highs"), "highs", 21)
    flat = curve.budgets_gbp >= 120.0
    assert np.ptp(curve.values[flat]) == pytest.approx(0.0, abs=1e-9)


def test_budget_curve_marks_a_budget_where_the_rules_cannot_be_met():
    """With a £50 minimum grant and an equity floor on both areas, budgets under £100 cannot fund both: a status, no value."""
    request = make_request(harm=[[1000.0], [900.0]], scale=[[50.0], [50.0]], reductions=[0.3], budget=150.0, minimum_grant=50.0)
    request = replace(request, equity_floor=0.2)
    curve = budget_curve(request, allocate(request, "highs"), "highs", 7)
    low = curve.budgets_gbp < 100.0
    assert all(status.startswith(("infeasible", "nothing")) for status, is_low in zip(curve.statuses, low) if is_low)
    assert np.all(np.isfinite(curve.values[~low]))
