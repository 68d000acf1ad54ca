"""The allocation rules as families of linear rows: each binds, holds, is named and priced; the goals; infeasible rules; and
properties of random instances against an independent optimiser."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from conftest import make_request
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq, linprog, minimize
from strategies import constrained_requests

from simulator.allocation import allocate
from simulator.baselines import evaluate_baselines
from simulator.constraints import rule_breaches
from simulator.errors import ConfigError, InfeasibleError
from simulator.formulation import goal_value
from simulator.wording import binding_words

CEILINGS = np.array([[300.0, 80.0], [180.0, 180.0]])
SCALES = np.array([[50.0, 80.0], [60.0, 40.0]])
AREA_0, AREA_1 = "E00000000", "E00000001"
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def two_areas(**changes):
    """Two areas × two interventions, £200 (ceilings 300, 80 / 180, 180; cost scales 50, 80 / 60, 40), no caps, then `changes`."""
    request = make_request(harm=[[1000.0, 400.0], [600.0, 900.0]], scale=SCALES, reductions=[0.3, 0.2], budget=200.0)
    return replace(request, **changes)


def level_for(ceilings, scales, total: float) -> float:
    """The water level λ (days per £) at which cells with f = A(1 − exp(−x/s)) spend `total` between them."""
    ceilings, scales = np.ravel(ceilings), np.ravel(scales)

    def spent(log_level):
        return float(np.sum(scales * np.maximum(np.log(ceilings / scales) - log_level, 0.0))) - total

    return float(np.exp(brentq(spent, -60.0, float(np.max(np.log(ceilings / scales))), xtol=1e-14, rtol=1e-15)))


def split(ceilings, scales, total: float) -> tuple[np.ndarray, float, float]:
    """The exact best split of `total` over the cells: amounts, harm averted, and the water level."""
    level = level_for(ceilings, scales, total)
    amounts = np.maximum(np.asarray(scales) * np.log(np.asarray(ceilings) / (np.asarray(scales) * level)), 0.0)
    return amounts, float(np.sum(np.asarray(ceilings) * -np.expm1(-amounts / np.asarray(scales)))), level


def per_area(allocation) -> np.ndarray:
    """£ per area."""
    return allocation.amounts.values.sum(axis=1)


def per_item(allocation) -> np.ndarray:
    """£ per intervention."""
    return allocation.amounts.values.sum(axis=0)


def assert_relaxing_helps(strict, relaxed, solver):
    """Relaxing the rule averts more harm than the strict problem's certified bound allows."""
    looser = allocate(relaxed, solver)
    assert looser.certificate.value > strict.certificate.bound


def assert_holds(request, allocation):
    """Every rule holds on the allocation."""
    assert rule_breaches(request, allocation.amounts.values) == []


def price_of(allocation, family: str) -> float:
    """The price of a family's first priced row."""
    return next(price.price for price in allocation.prices if price.family == family)


# The force cap


def test_force_cap_bounds_the_total_below_a_larger_budget(lp_solver):
    """A £150 force cap under a £200 budget: £150 is water-filled over every cell, and the cap, not the budget, is priced."""
    request = two_areas(force_cap_gbp=150.0)
    allocation = allocate(request, lp_solver)
    amounts, _, level = split(CEILINGS, SCALES, 150.0)
    np.testing.assert_allclose(allocation.amounts.values, amounts, rtol=1e-7, atol=1e-7)
    assert_holds(request, allocation)
    assert allocation.binding == (
        f"force cap: £150 is the most the force may receive, below the budget of £200; each extra £1,000 of cap would avert about "
        f"{level * 1000:.2f} more harm days",
    )
    assert allocation.budget_shadow_price == 0.0
    assert price_of(allocation, "force_cap") == pytest.approx(level, rel=1e-7)
    assert_relaxing_helps(allocation, two_areas(force_cap_gbp=160.0), lp_solver)


def test_force_cap_nests_over_per_bid_caps(lp_solver):
    """Grant caps of £60 and £100 under a £150 force cap: area 0 takes its £60, area 1 the £90 left, and both limits bind."""
    request = two_areas(force_cap_gbp=150.0, grant_caps_gbp=np.array([60.0, 100.0]))
    allocation = allocate(request, lp_solver)
    first, _, level_0 = split(CEILINGS[0], SCALES[0], 60.0)
    second, _, level_1 = split(CEILINGS[1], SCALES[1], 90.0)
    np.testing.assert_allclose(allocation.amounts.values, [first, second], rtol=1e-7, atol=1e-7)
    assert_holds(request, allocation)
    assert allocation.binding == (
        f"force cap: £150 is the most the force may receive, below the budget of £200; each extra £1,000 of cap would avert about "
        f"{level_1 * 1000:.2f} more harm days",
        f"grant cap £60 reached in 1 area(s): {AREA_0} (raising it by £1 would avert about {level_0 - level_1:.1f} more harm days)",
    )
    assert price_of(allocation, "grant_cap") == pytest.approx(level_0 - level_1, rel=1e-7)
    assert_relaxing_helps(allocation, replace(request, grant_caps_gbp=np.array([70.0, 100.0])), lp_solver)


def test_force_cap_above_the_budget_does_not_bind(lp_solver):
    """A force cap above the budget is a row of the request but the budget is what binds."""
    request = two_areas(force_cap_gbp=500.0)
    allocation = allocate(request, lp_solver)
    assert [family.key for family in request.families()] == ["budget", "force_cap", "grant_cap"]
    assert allocation.allocated_gbp == pytest.approx(200.0, rel=1e-12)
    assert allocation.binding[0].startswith("budget: all £200 allocated; each extra £1,000 would avert about ")


# Grant caps, minimum grant and bid limit


def test_per_bid_grant_cap_binds_in_its_bid_only(lp_solver):
    """A £60 cap on area 0 alone: area 0 takes exactly £60, area 1 the other £140, and the cap's price is the levels' difference."""
    request = two_areas(grant_caps_gbp=np.array([60.0, 1000.0]))
    allocation = allocate(request, lp_solver)
    first, _, level_0 = split(CEILINGS[0], SCALES[0], 60.0)
    second, _, level_1 = split(CEILINGS[1], SCALES[1], 140.0)
    np.testing.assert_allclose(allocation.amounts.values, [first, second], rtol=1e-7, atol=1e-7)
    assert_holds(request, allocation)
    assert allocation.binding == (
        f"budget: all £200 allocated; each extra £1,000 would avert about {level_1 * 1000:.2f} more harm days",
        f"grant cap £60 reached in 1 area(s): {AREA_0} (raising it by £1 would avert about {level_0 - level_1:.1f} more harm days)",
    )
    assert allocation.budget_shadow_price == pytest.approx(level_1, rel=1e-7)
    assert_relaxing_helps(allocation, replace(request, grant_caps_gbp=np.array([70.0, 1000.0])), lp_solver)


def test_minimum_grant_holds_a_bid_at_the_minimum(lp_solver):
    """A £90 minimum grant: area 0 would take £84.37 unconstrained, so it takes exactly £90 and area 1 the other £110."""
    request = two_areas(minimum_grant_gbp=90.0)
    allocation = allocate(request, lp_solver)
    first, _, level_0 = split(CEILINGS[0], SCALES[0], 90.0)
    second, _, level_1 = split(CEILINGS[1], SCALES[1], 110.0)
    np.testing.assert_allclose(allocation.amounts.values, [first, second], rtol=1e-7, atol=1e-7)
    assert_holds(request, allocation)
    assert allocation.binding[1] == (
        f"minimum grant £90: 1 area(s) receive exactly the minimum: {AREA_0} (raising it by £1 would give up about "
        f"{level_1 - level_0:.1f} harm days)"
    )
    assert price_of(allocation, "minimum_grant") == pytest.approx(level_0 - level_1, rel=1e-7)
    assert_relaxing_helps(allocation, replace(request, minimum_grant_gbp=80.0), lp_solver)


@pytest.mark.parametrize("route", ["every funded set", "mixed-integer program"])
def test_bid_limit_funds_the_best_single_bid(lp_solver, route):
    """One bid allowed: area 0 alone (324.4 days) beats area 1 alone; the limit is named and a second bid averts more.

    With a non-binding intervention cap the funded set is chosen by the MIP instead of trying every set."""
    changes = {"max_bids": 1} if route == "every funded set" else {"max_bids": 1, "intervention_caps_gbp": np.array([1000.0, np.inf])}
    request = two_areas(**changes)
    allocation = allocate(request, lp_solver)
    _, alone_0, _ = split(CEILINGS[0], SCALES[0], 200.0)
    _, alone_1, _ = split(CEILINGS[1], SCALES[1], 200.0)
    assert alone_0 > alone_1
    assert allocation.funded_codes == (AREA_0,)
    assert allocation.allocated_gbp == pytest.approx(200.0, rel=1e-9)
    assert allocation.certificate.value <= alone_0 + 1e-9 <= allocation.certificate.bound + 1e-6
    assert "bid limit: 1 area funded, the most the round allows" in allocation.binding
    assert_holds(request, allocation)
    assert_relaxing_helps(allocation, replace(request, max_bids=2), lp_solver)


# Match funding


def test_match_funding_total_limits_the_grant(lp_solver):
    """£50 of match funding at 50 % allows £100 of grant, water-filled; a £1 of match funding is worth twice the water level."""
    request = two_areas(match_funding_rate=0.5, match_funding_available_gbp=50.0)
    allocation = allocate(request, lp_solver)
    amounts, _, level = split(CEILINGS, SCALES, 100.0)
    np.testing.assert_allclose(allocation.amounts.values, amounts, rtol=1e-7, atol=1e-7)
    assert_holds(request, allocation)
    assert allocation.binding == (
        f"match funding: £50 available at 50% limits the grant to £100; each extra £1,000 of grant it allowed would avert about "
        f"{level * 1000:.2f} more harm days",
    )
    assert price_of(allocation, "match_funding") == pytest.approx(2 * level, rel=1e-7)
    assert_relaxing_helps(allocation, replace(request, match_funding_available_gbp=60.0), lp_solver)


def test_local_match_funding_caps_its_bid(lp_solver):
    """Area 0's £20 of local match funding at 50 % caps it at £40 of grant; area 1 has none given and takes the other £160."""
    request = two_areas(match_funding_rate=0.5, local_match_gbp=np.array([20.0, np.inf]))
    allocation = allocate(request, lp_solver)
    first, _, level_0 = split(CEILINGS[0], SCALES[0], 40.0)
    second, _, level_1 = split(CEILINGS[1], SCALES[1], 160.0)
    np.testing.assert_allclose(allocation.amounts.values, [first, second], rtol=1e-7, atol=1e-7)
    assert_holds(request, allocation)
    assert len(next(family for family in request.families() if family.key == "local_match").rows) == 1
    assert allocation.binding[1] == (
        f"local match funding: {AREA_0}'s £20 of local match funding at 50% (at most £40 of grant) (raising it by £1 would avert "
        f"about {(level_0 - level_1) / 0.5:.1f} more harm days) binds"
    )
    assert price_of(allocation, "local_match") == pytest.approx((level_0 - level_1) / 0.5, rel=1e-7)
    assert_relaxing_helps(allocation, replace(request, local_match_gbp=np.array([30.0, np.inf])), lp_solver)


# Intervention caps and shares (linear programs)


def assert_total_split(allocation, request, totals_per_item):
    """The certificate brackets the exact optimum of spending `totals_per_item` on each intervention's cells."""
    exact = sum(split(CEILINGS[:, item], SCALES[:, item], total)[1] for item, total in enumerate(totals_per_item))
    certificate = allocation.certificate
    assert certificate.value <= exact * (1 + 1e-9) and exact <= certificate.bound * (1 + 1e-9)
    assert certificate.gap <= request.gap_target


def test_intervention_cap_binds(lp_solver):
    """A £50 cap on measure 0: exactly £50 goes to it and £150 to measure 1, the optimum is bracketed, and the cap is named."""
    request = two_areas(intervention_caps_gbp=np.array([50.0, np.inf]))
    allocation = allocate(request, lp_solver)
    np.testing.assert_allclose(per_item(allocation), [50.0, 150.0], rtol=1e-7)
    assert_total_split(allocation, request, [50.0, 150.0])
    assert_holds(request, allocation)
    assert allocation.binding[1].startswith("intervention cap: the £50 cap on measure_0 (raising it by £1 would avert about ")
    assert allocation.binding[1].endswith(" more harm days) binds")
    level_0, level_1 = level_for(CEILINGS[:, 0], SCALES[:, 0], 50.0), level_for(CEILINGS[:, 1], SCALES[:, 1], 150.0)
    assert price_of(allocation, "intervention_cap") == pytest.approx(level_0 - level_1, rel=0.05)
    assert_relaxing_helps(allocation, replace(request, intervention_caps_gbp=np.array([60.0, np.inf])), lp_solver)


def test_infinite_intervention_caps_are_no_rule():
    """Intervention caps that are all infinite give the request no intervention-cap rows."""
    assert [family.key for family in two_areas(intervention_caps_gbp=np.array([np.inf, np.inf])).families()] == ["budget", "grant_cap"]


def test_share_minimum_binds(lp_solver):
    """At least 60 % on measure 1: exactly £120 of the £200 goes to it, and the rule is named with what raising it gives up."""
    request = two_areas(share_minimum=np.array([0.0, 0.6]))
    allocation = allocate(request, lp_solver)
    np.testing.assert_allclose(per_item(allocation), [80.0, 120.0], rtol=1e-7)
    assert_total_split(allocation, request, [80.0, 120.0])
    assert_holds(request, allocation)
    assert allocation.binding[1].startswith(
        "intervention share (minimum): at least 60% of the money on measure_1 (raising it by one percentage point would give up about "
    )
    assert price_of(allocation, "share_minimum") < 0
    assert_relaxing_helps(allocation, replace(request, share_minimum=np.array([0.0, 0.5])), lp_solver)


def test_share_maximum_binds(lp_solver):
    """At most 50 % on measure 0: exactly £100 goes to each measure, and the rule is named with what raising it would avert."""
    request = two_areas(share_maximum=np.array([0.5, 1.0]))
    allocation = allocate(request, lp_solver)
    np.testing.assert_allclose(per_item(allocation), [100.0, 100.0], rtol=1e-7)
    assert_total_split(allocation, request, [100.0, 100.0])
    assert_holds(request, allocation)
    assert allocation.binding[1].startswith(
        "intervention share (maximum): at most 50% of the money on measure_0 (raising it by one percentage point would avert about "
    )
    assert price_of(allocation, "share_maximum") > 0
    assert_relaxing_helps(allocation, replace(request, share_maximum=np.array([0.6, 1.0])), lp_solver)


def test_shares_of_zero_and_one_are_no_rule():
    """A least share of 0 and a most share of 1 give the request no share rows."""
    request = two_areas(share_minimum=np.array([0.0, 0.0]), share_maximum=np.array([1.0, 1.0]))
    assert [family.key for family in request.families()] == ["budget", "grant_cap"]


# Equity floors


def test_equity_floor_on_equal_shares_binds(lp_solver):
    """A 90 % floor on equal shares gives each area at least £90: area 0 (which would take £84.37) takes exactly £90."""
    request = two_areas(equity_floor=0.9, equity_basis="equal")
    np.testing.assert_allclose(request.equity_floors_gbp(), [90.0, 90.0])
    allocation = allocate(request, lp_solver)
    np.testing.assert_allclose(per_area(allocation), [90.0, 110.0], rtol=1e-7)
    exact = split(CEILINGS[0], SCALES[0], 90.0)[1] + split(CEILINGS[1], SCALES[1], 110.0)[1]
    assert allocation.certificate.value <= exact * (1 + 1e-9) <= allocation.certificate.bound * (1 + 1e-9)
    assert_holds(request, allocation)
    assert allocation.binding[1].startswith(
        f"equity floor binds in 1 area(s): {AREA_0} (raising it by one percentage point would give up about "
    )
    assert_relaxing_helps(allocation, replace(request, equity_floor=0.8), lp_solver)


def test_equity_floor_on_basket_harm_follows_each_bids_harm(lp_solver):
    """A full floor on basket harm 1 : 3 fixes £50 and £150; a 90 % floor leaves room and averts more."""
    request = two_areas(equity_floor=1.0, equity_basis="harm", basket_harm=np.array([1.0, 3.0]))
    np.testing.assert_allclose(request.equity_floors_gbp(), [50.0, 150.0])
    allocation = allocate(request, lp_solver)
    np.testing.assert_allclose(per_area(allocation), [50.0, 150.0], rtol=1e-7)
    assert_holds(request, allocation)
    assert allocation.binding[1].startswith(f"equity floor binds in 2 area(s): {AREA_0}, {AREA_1} (raising it by one percentage point")
    assert_relaxing_helps(allocation, replace(request, equity_floor=0.9), lp_solver)


def test_equity_floor_that_binds_at_the_optimum_is_named(lp_solver):
    """An 80 % floor on basket harm 1 : 3 (£40 and £120): area 1 would take £115.63, so at the optimum it takes exactly its
    £120 floor, and the explanation names the floor."""
    request = two_areas(equity_floor=0.8, equity_basis="harm", basket_harm=np.array([1.0, 3.0]), gap_target=1e-9)
    allocation = allocate(request, lp_solver)
    assert_holds(request, allocation)
    # The linear program's amounts are not polished on the exact curves, so the floor holds to the chords' accuracy.
    np.testing.assert_allclose(per_area(allocation), [80.0, 120.0], rtol=2e-3)


def test_budget_price_with_equity_floors_is_the_harm_of_one_more_pound(lp_solver):
    """With equity floors binding, the budget's shadow price is the harm £1 more budget averts (the floors rise with it)."""
    request = two_areas(equity_floor=1.0, equity_basis="harm", basket_harm=np.array([1.0, 3.0]), gap_target=1e-6)
    allocation = allocate(request, lp_solver)
    more = allocate(replace(request, budget_gbp=201.0), lp_solver)
    less = allocate(replace(request, budget_gbp=199.0), lp_solver)
    assert more.averted_days - allocation.averted_days <= allocation.budget_shadow_price * (1 + 1e-3)
    assert allocation.budget_shadow_price <= (allocation.averted_days - less.averted_days) * (1 + 1e-3)


# The checker, the greedy's refusals and the families listed


BROKEN = [
    ({"force_cap_gbp": 150.0}, [[100.0, 0.0], [60.0, 0.0]], "force cap: the £150 cap on the force's total"),
    ({"grant_caps_gbp": np.array([60.0, 1000.0])}, [[61.0, 0.0], [0.0, 0.0]], f"grant cap: the £60 grant cap in {AREA_0}"),
    ({"minimum_grant_gbp": 90.0}, [[10.0, 0.0], [100.0, 0.0]], f"minimum grant: the £90 minimum grant in {AREA_0}"),
    ({"max_bids": 1}, [[10.0, 0.0], [10.0, 0.0]], "bid limit: the limit of 1 area funded"),
    (
        {"match_funding_rate": 0.5, "match_funding_available_gbp": 50.0},
        [[60.0, 0.0], [50.0, 0.0]],
        "match funding: the £50 of match funding at 50% (at most £100 of grant)",
    ),
    (
        {"match_funding_rate": 0.5, "local_match_gbp": np.array([20.0, np.inf])},
        [[41.0, 0.0], [0.0, 0.0]],
        f"local match funding: {AREA_0}'s £20 of local match funding at 50% (at most £40 of grant)",
    ),
    ({"intervention_caps_gbp": np.array([50.0, np.inf])}, [[30.0, 0.0], [30.0, 0.0]], "intervention cap: the £50 cap on measure_0"),
    (
        {"share_minimum": np.array([0.0, 0.6])},
        [[50.0, 50.0], [0.0, 0.0]],
        "intervention share (minimum): at least 60% of the money on measure_1",
    ),
    (
        {"share_maximum": np.array([0.5, 1.0])},
        [[60.0, 40.0], [0.0, 0.0]],
        "intervention share (maximum): at most 50% of the money on measure_0",
    ),
    ({"equity_floor": 0.9, "equity_basis": "equal"}, [[80.0, 0.0], [120.0, 0.0]], f"equity floor: the £90 equity floor in {AREA_0}"),
    ({}, [[150.0, 0.0], [60.0, 0.0]], "budget: the budget of £200"),
]


@pytest.mark.parametrize(("changes", "amounts", "words"), BROKEN, ids=[words.split(":")[0] for _, _, words in BROKEN])
def test_rule_breaches_names_the_broken_rule(changes, amounts, words):
    """Amounts breaking one rule (and only it) are reported with that rule's title and words."""
    assert rule_breaches(two_areas(**changes), np.array(amounts)) == [words]


NOT_GREEDY = [
    ({"minimum_grant_gbp": 90.0}, "minimum grant"),
    ({"max_bids": 1}, "bid limit"),
    ({"intervention_caps_gbp": np.array([50.0, np.inf])}, "intervention cap"),
    ({"share_minimum": np.array([0.0, 0.6])}, "intervention share (minimum)"),
    ({"share_maximum": np.array([0.5, 1.0])}, "intervention share (maximum)"),
    ({"equity_floor": 0.5}, "equity floor"),
    ({"goal": "maxmin"}, "the maxmin objective"),
    ({"goal": "blend"}, "the blend objective"),
    ({"goal": "least_cost", "target_harm_days": 100.0}, "the least_cost objective"),
]


@pytest.mark.parametrize(("changes", "what"), NOT_GREEDY, ids=[what for _, what in NOT_GREEDY])
def test_greedy_refuses_what_it_does_not_solve_by_name(changes, what):
    """The greedy is exact only for the budget and caps: every other family or goal is refused with a ConfigError naming it."""
    with pytest.raises(ConfigError) as caught:
        allocate(two_areas(**changes), "greedy")
    assert caught.value.key == "allocation.solver"
    assert str(caught.value) == (
        f"allocation.solver: the greedy solver handles only the budget and caps, not {what} (got 'greedy'); use highs or cbc for these rules"
    )


def test_greedy_solves_force_cap_and_local_match_exactly():
    """The force cap and local match funding are caps on nested groups of bids, so the greedy solves them, equal to HiGHS."""
    request = two_areas(force_cap_gbp=150.0, match_funding_rate=0.5, local_match_gbp=np.array([20.0, np.inf]))
    assert allocate(request, "greedy").averted_days == allocate(request, "highs").averted_days


def test_families_lists_only_rules_with_rows():
    """A request lists the budget and grant caps always, and another family only when it has a row."""
    assert [family.key for family in two_areas().families()] == ["budget", "grant_cap"]
    inactive = two_areas(
        force_cap_gbp=0.0,
        match_funding_rate=0.5,
        local_match_gbp=np.array([np.inf, np.inf]),
        intervention_caps_gbp=np.array([np.inf, np.inf]),
        equity_floor=0.0,
    )
    assert [family.key for family in inactive.families()] == ["budget", "grant_cap"]
    every = two_areas(
        force_cap_gbp=150.0,
        match_funding_rate=0.5,
        match_funding_available_gbp=90.0,
        local_match_gbp=np.array([20.0, np.inf]),
        minimum_grant_gbp=10.0,
        max_bids=2,
        intervention_caps_gbp=np.array([50.0, np.inf]),
        share_minimum=np.array([0.1, 0.0]),
        share_maximum=np.array([1.0, 0.9]),
        equity_floor=0.1,
    )
    assert [family.key for family in every.families()] == [
        "budget",
        "force_cap",
        "match_funding",
        "grant_cap",
        "local_match",
        "minimum_grant",
        "bid_limit",
        "intervention_cap",
        "share_minimum",
        "share_maximum",
        "equity_floor",
    ]
    assert all(family.rows for family in every.families())


def test_no_eligible_bid_has_no_per_bid_rows():
    """An ineligible area gets no grant-cap, floor or minimum-grant row, and the budget row covers only eligible cells."""
    request = two_areas(eligible=np.array([True, False]), minimum_grant_gbp=10.0, equity_floor=0.5)
    rows = {family.key: family.rows for family in request.families()}
    assert [len(rows[key]) for key in ("grant_cap", "minimum_grant", "equity_floor")] == [1, 1, 1]
    assert rows["budget"][0].cells.tolist() == [0, 1]


# Goals


def identical_pair(**changes):
    """Two identical areas, one intervention (ceiling 300, cost scale 50), £200."""
    request = make_request(harm=[[1000.0], [1000.0]], scale=[[50.0], [50.0]], reductions=[0.3], budget=200.0)
    return replace(request, **changes)


def test_maxmin_splits_evenly_between_identical_areas(lp_solver):
    """Max-min over two identical areas gives each £100, and its value is the ratio 0.3 × (1 − e⁻²)."""
    allocation = allocate(identical_pair(goal="maxmin"), lp_solver)
    exact = 0.3 * -np.expm1(-2.0)
    np.testing.assert_allclose(per_area(allocation), [100.0, 100.0], rtol=1e-6)
    assert exact * (1 - allocation.certificate.gap) <= allocation.certificate.value <= exact * (1 + 1e-12)
    assert allocation.certificate.bound >= exact * (1 - 1e-12)
    assert allocation.objective_days == allocation.certificate.value


def test_maxmin_equalises_the_ratios_of_unequal_areas(lp_solver):
    """Cost scales 50 and 100 at equal ceilings per day of harm: equal ratios need x₁ = 2·x₀, so £66.67 and £133.33."""
    request = make_request(harm=[[1000.0], [500.0]], scale=[[50.0], [100.0]], reductions=[0.3], budget=200.0, segments=16)
    allocation = allocate(replace(request, goal="maxmin"), lp_solver)
    exact = 0.3 * -np.expm1(-200.0 / 3 / 50.0)
    assert exact <= allocation.certificate.bound * (1 + 1e-9)
    assert allocation.certificate.value >= exact * (1 - allocation.certificate.gap) - 1e-12
    np.testing.assert_allclose(per_area(allocation), [200.0 / 3, 400.0 / 3], rtol=1e-3)


def test_least_cost_reaches_the_target_for_less_than_the_budget(lp_solver):
    """Averting 400 days across two identical areas costs 2 × 50 × ln 3 ≈ £109.86, well below the £200 budget."""
    request = identical_pair(goal="least_cost", target_harm_days=400.0)
    allocation = allocate(request, lp_solver)
    exact = 100.0 * np.log(3.0)
    assert allocation.averted_days >= 400.0 * (1 - 1e-9)
    assert allocation.averted_days <= 400.0 * (1 + request.gap_target)
    assert allocation.allocated_gbp < request.budget_gbp
    assert allocation.certificate.value == allocation.allocated_gbp == allocation.objective_days
    assert allocation.certificate.bound <= exact * (1 + 1e-9) <= allocation.certificate.value * (1 + 1e-9)
    assert allocation.certificate.gap <= request.gap_target
    assert allocation.budget_shadow_price is None


def test_least_cost_on_unequal_areas_matches_the_harm_optimum_at_its_cost(lp_solver):
    """The least money that averts 400 days is the budget at which the harm optimum averts 400 days."""
    request = two_areas(goal="least_cost", target_harm_days=400.0)
    allocation = allocate(request, lp_solver)
    budget = brentq(lambda money: split(CEILINGS, SCALES, money)[1] - 400.0, 1.0, 200.0, xtol=1e-12)
    assert allocation.certificate.bound <= budget * (1 + 1e-9) <= allocation.certificate.value * (1 + 1e-9)
    assert allocation.certificate.value <= budget * (1 + request.gap_target)


def test_blend_with_weight_zero_is_the_harm_goal(lp_solver):
    """A blend weighing max-min at 0 has the harm goal's optimum."""
    harm = allocate(two_areas(), lp_solver)
    blend = allocate(two_areas(goal="blend", blend_weight=0.0), lp_solver)
    assert blend.certificate.value <= harm.certificate.bound * (1 + 1e-9)
    assert blend.certificate.value >= harm.certificate.value * (1 - blend.certificate.gap) - 1e-9
    assert blend.averted_days == pytest.approx(harm.averted_days, rel=blend.certificate.gap + 1e-9)


def test_blend_with_weight_one_is_maxmin_times_the_served_harm(lp_solver):
    """A blend weighing max-min at 1 is the worst ratio times the served areas' harm, the max-min optimum's ratio."""
    request = two_areas(goal="blend", blend_weight=1.0)
    blend = allocate(request, lp_solver)
    maxmin = allocate(replace(request, goal="maxmin"), lp_solver)
    served = request.area_harm().sum()
    worst = goal_value(replace(request, goal="maxmin"), blend.amounts.values)
    assert blend.certificate.value == pytest.approx(served * worst, rel=1e-12)
    assert worst == pytest.approx(maxmin.certificate.value, rel=max(blend.certificate.gap, maxmin.certificate.gap) + 1e-9)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"goal": "maxmin"},
        {"goal": "blend", "blend_weight": 0.3},
        {"goal": "least_cost", "target_harm_days": 400.0},
        {"intervention_caps_gbp": np.array([50.0, np.inf]), "equity_floor": 0.9, "equity_basis": "equal"},
        {"goal": "maxmin", "max_bids": 1, "share_maximum": np.array([0.7, 1.0])},
    ],
    ids=["harm", "maxmin", "blend", "least_cost", "harm with caps and floors", "maxmin with a bid limit"],
)
def test_highs_and_cbc_agree_on_every_goal(changes):
    """HiGHS and CBC reach the same certified value, to a relative 1e-6."""
    request = two_areas(**changes)
    values = [allocate(request, solver).certificate.value for solver in ("highs", "cbc")]
    assert values[0] == pytest.approx(values[1], rel=1e-6)


# Infeasible rules


def assert_infeasible(request, solver, need, against, short, key):
    """The request is refused under `key` with a sentence saying what is needed, which rule it conflicts with and by how much."""
    with pytest.raises(InfeasibleError) as caught:
        allocate(request, solver)
    sentence = caught.value.what
    assert caught.value.key == key
    assert sentence.startswith(f"the rules cannot all be met: {need}"), sentence
    assert against in sentence, sentence
    assert sentence.endswith(f"short by {short}"), sentence


def assert_plain_conflict(request, solver, sentence, key="allocation.equity_floor"):
    """The request is refused under `key` with exactly this sentence: a conflict the figures show directly."""
    with pytest.raises(InfeasibleError) as caught:
        allocate(request, solver)
    assert (caught.value.key, caught.value.what) == (key, f"the rules cannot all be met: {sentence}")


def test_floors_above_the_force_cap(lp_solver):
    """A full equity floor needs £200 but the force cap allows £150: short by £50."""
    assert_infeasible(
        two_areas(equity_floor=1.0, force_cap_gbp=150.0),
        lp_solver,
        "equity floors need £200 in total over 2 areas",
        "the £150 cap on the force's total",
        "£50",
        "allocation.equity_floor",
    )


def test_floor_above_a_bids_grant_cap(lp_solver):
    """Area 1's £150 floor is above its £100 grant cap (area 0's £50 floor is not): the sentence names area 1, its cap and the £50."""
    assert_plain_conflict(
        two_areas(equity_floor=1.0, basket_harm=np.array([1.0, 3.0]), max_grant_gbp=100.0),
        lp_solver,
        f"{AREA_1}'s £150 equity floor is above its £100 grant cap, short by £50",
    )


def test_floors_on_more_bids_than_the_bid_limit(lp_solver):
    """Floors on both areas with one bid allowed: the unfunded area's £50 floor is short."""
    assert_plain_conflict(
        two_areas(equity_floor=0.5, equity_basis="equal", max_bids=1),
        lp_solver,
        "equity floors need all 2 eligible areas funded, but the round allows 1",
    )


def test_least_cost_target_above_what_the_budget_averts(lp_solver):
    """A 1,000-day target where £200 averts at most 493.5 days is refused, naming the budget and the shortfall."""
    assert_infeasible(
        two_areas(goal="least_cost", target_harm_days=1000.0),
        lp_solver,
        "the target of 1,000 harm days",
        "the budget of £200",
        "507 harm days",
        "allocation.target_harm_days",
    )


def test_least_shares_under_intervention_caps_with_floors(lp_solver):
    """Full floors make £200 be spent; 60 % of it on measure 0 is £120, but measure 0 is capped at £50: short by £70."""
    assert_infeasible(
        two_areas(
            share_minimum=np.array([0.6, 0.0]), intervention_caps_gbp=np.array([50.0, np.inf]), equity_floor=1.0, equity_basis="equal"
        ),
        lp_solver,
        "intervention share (minimum) (at least 60% of the money on measure_0)",
        "the £50 cap on measure_0",
        "£70",
        "allocation.intervention_shares",
    )


def test_floors_with_a_minimum_grant_that_allows_one_bid(lp_solver):
    """A £120 minimum grant out of £200 allows one bid, but floors need both: the sentence names the minimum grant."""
    assert_plain_conflict(
        two_areas(equity_floor=0.5, equity_basis="equal", minimum_grant_gbp=120.0),
        lp_solver,
        "equity floors need all 2 eligible areas funded, each at least the £120 minimum grant, £240 in all, but only £200 can be spent",
    )


def test_floors_when_no_bid_can_be_funded(lp_solver):
    """A £160 minimum grant above a £150 force cap funds no bid, so £100 of equity floors cannot be met: an infeasible-rules
    sentence naming the floors, not an internal error from an all-zero allocation that breaks them."""
    with pytest.raises(InfeasibleError) as caught:
        allocate(two_areas(minimum_grant_gbp=160.0, force_cap_gbp=150.0, equity_floor=0.5), lp_solver)
    assert caught.value.key == "allocation.equity_floor"
    assert caught.value.what == (
        "the rules cannot all be met: equity floors need £100, but the minimum grant of £160 is above the force cap of £150, "
        "so no bid can be funded"
    )


def test_floors_above_local_match_funding(lp_solver):
    """Area 0's £20 of local match funding at 50 % allows £40 of grant, below its £100 floor: short by £60."""
    assert_plain_conflict(
        two_areas(equity_floor=1.0, equity_basis="equal", match_funding_rate=0.5, local_match_gbp=np.array([20.0, np.inf])),
        lp_solver,
        f"{AREA_0}'s £100 equity floor is above the £40 of grant its £20 of local match funding allows at 50%, short by £60",
    )


# Properties of random instances


def exact_optimum(request, start: np.ndarray | None = None) -> float | None:
    """The goal's optimum computed independently: SLSQP on the exact curves under every row, from several starts, for every
    funded set the rules allow where bids are switched on and off (None when no set is feasible)."""
    usable = request.usable()
    cells = np.flatnonzero(usable.ravel())
    if len(cells) == 0:
        return 0.0
    rows = [row for family in request.families() for row in family.rows]
    fundable = np.flatnonzero(request.fundable_bids())
    if request.needs_binaries:
        sets = []
        for size in range(len(fundable) + 1):
            for chosen in itertools.combinations(fundable, size):
                funded = np.zeros(request.bid_count)
                funded[list(chosen)] = 1.0
                sets.append(funded)
    else:
        sets = [np.ones(request.bid_count)]
    values = [value for funded in sets if (value := _best_over(request, cells, rows, funded, start)) is not None]
    if not values:
        return None
    return min(values) if request.goal == "least_cost" else max(values)


def _best_over(request, cells, rows, funded, start) -> float | None:
    """The best goal value with the bids' flags fixed at `funded`, or None when the rows cannot hold."""
    shape = request.curves.scale.values.shape
    ceilings = request.curves.ceilings().ravel()[cells]
    scales = request.curves.scale.values.ravel()[cells]
    unit = max(float(request.spendable_gbp), 1.0)
    money = np.zeros(len(cells))
    matrix, rhs = [], []
    for row in rows:
        coefs = np.zeros(len(cells))
        for cell, coef in zip(row.cells, row.coefs):
            coefs[np.searchsorted(cells, cell)] += coef
        limit = row.rhs - (funded[row.flags] @ row.flag_coefs if len(row.flags) else 0.0)
        if row.sense == "<=":
            matrix.append(-coefs), rhs.append(-limit)
        else:
            matrix.append(coefs), rhs.append(limit)
    matrix, rhs = np.array(matrix).reshape(-1, len(cells)), np.array(rhs)
    upper = request.cell_caps_gbp.ravel()[cells]
    area_of = cells // shape[1]
    if request.needs_binaries:
        upper = np.where(funded[request.bids()[area_of]] > 0, upper, 0.0)
    feasible = linprog(np.zeros(len(cells)), A_ub=-matrix, b_ub=-rhs, bounds=list(zip(money, upper)), method="highs")
    if feasible.status != 0:
        return None
    served = request.served_areas()
    if request.needs_binaries:
        served = served & (funded[request.bids()] > 0)
    served_areas = np.flatnonzero(served)
    harm = request.area_harm()
    served_harm = float(harm[request.served_areas()].sum())
    goal = request.goal
    levelled = goal in ("maxmin", "blend")

    def averted(x):
        return ceilings * -np.expm1(-x * unit / scales)

    def ratios(x):
        per_area = np.bincount(area_of, weights=averted(x), minlength=shape[0])
        return per_area[served_areas] / harm[served_areas]

    def objective(v):
        x = v[: len(cells)]
        if goal == "least_cost":
            return x.sum()
        if goal == "harm":
            return -averted(x).sum() / max(ceilings.sum(), 1e-12)
        level = v[-1]
        if goal == "maxmin":
            return -level
        return -((1 - request.blend_weight) * averted(x).sum() + request.blend_weight * served_harm * level) / max(ceilings.sum(), 1e-12)

    constraints = [{"type": "ineq", "fun": lambda v: matrix @ v[: len(cells)] * unit - rhs}]
    if levelled and len(served_areas):
        constraints.append({"type": "ineq", "fun": lambda v: ratios(v[: len(cells)]) - v[-1]})
    if goal == "least_cost":
        constraints.append({"type": "ineq", "fun": lambda v: averted(v).sum() - request.target_harm_days})
    bounds = [(0.0, top / unit) for top in upper] + ([(0.0, None)] if levelled else [])
    starts = [feasible.x / unit, upper / unit, upper / unit / 2]
    if start is not None:
        starts.append(np.minimum(start.ravel()[cells], upper) / unit)
    best = None
    for guess in starts:
        v0 = np.concatenate([guess, [0.0]]) if levelled else guess
        result = minimize(objective, v0, method="SLSQP", bounds=bounds, constraints=constraints, options={"maxiter": 500, "ftol": 1e-12})
        x = np.clip(result.x[: len(cells)], 0.0, upper / unit)
        if np.min(matrix @ x * unit - rhs, initial=0.0) < -1e-6 * unit:
            continue
        amounts = np.zeros(shape)
        amounts.ravel()[cells] = x * unit
        if goal == "least_cost" and request.curves.averted(amounts).sum() < request.target_harm_days * (1 - 1e-9):
            continue
        value = _value_on(request, amounts, served, harm, served_harm)
        if best is None or (value < best if goal == "least_cost" else value > best):
            best = value
    return best


def _value_on(request, amounts, served, harm, served_harm) -> float:
    """The goal on the exact curves with the worst ratio over `served` areas."""
    averted = request.curves.averted(amounts)
    if request.goal == "least_cost":
        return float(amounts.sum())
    worst = float(np.min(averted.sum(axis=1)[served] / harm[served])) if served.any() else 0.0
    if request.goal == "harm":
        return float(averted.sum())
    if request.goal == "maxmin":
        return worst
    return (1 - request.blend_weight) * float(averted.sum()) + request.blend_weight * served_harm * worst


def solved(request):
    """The allocation, or None when the rules cannot all hold (then checked to be truly infeasible)."""
    try:
        return allocate(request, "highs")
    except InfeasibleError as error:
        event("infeasible")
        best = exact_optimum(replace(request, goal="harm"))
        if error.key == "allocation.intervention_shares":
            # Least shares kept only by allocating nothing are refused although £0 is feasible: nothing better is.
            assert best is None or best <= 1e-6 * max(1.0, request.budget_gbp)
        else:
            assert best is None or request.goal == "least_cost"
        return None


@PROPERTY
@given(constrained_requests(goals=("harm", "maxmin", "blend", "least_cost")))
def test_every_rule_holds_on_random_instances(request):
    """Whatever rules are switched on, the solution breaks none of them (and infeasible rules really are)."""
    allocation = solved(request)
    if allocation is not None:
        assert rule_breaches(request, allocation.amounts.values) == []
        event(f"families: {len(request.families())}")


@PROPERTY
@given(constrained_requests(goals=("harm", "maxmin", "blend"), floors=False))
def test_harm_is_non_decreasing_and_concave_in_budget(request):
    """The certified value never falls with a larger budget; without binaries it is concave in the budget."""
    budgets = [request.budget_gbp, request.budget_gbp * 1.5, request.budget_gbp * 2.0]
    results = [solved(replace(request, budget_gbp=budget)) for budget in budgets]
    if any(result is None for result in results):
        return
    first, middle, last = (result.certificate for result in results)
    tolerance = 1e-7 * max(1.0, abs(last.bound))
    assert middle.bound >= first.value - tolerance and last.bound >= middle.value - tolerance
    if not request.needs_binaries:
        assert middle.bound >= (first.value + last.value) / 2 - tolerance


@PROPERTY
@given(constrained_requests(goals=("harm", "maxmin", "blend", "least_cost")))
def test_reported_gap_bounds_the_distance_to_an_exact_optimum(request):
    """An independent optimum (SLSQP on the exact curves, every funded set) lies within the certificate's bound and gap."""
    allocation = solved(request)
    if allocation is None:
        return
    certificate = allocation.certificate
    exact = exact_optimum(request, allocation.amounts.values)
    assert exact is not None
    tolerance = 1e-6 * max(1.0, abs(exact))
    if request.goal == "least_cost":
        assert exact >= certificate.bound * (1 - 1e-6) - 1e-6
        assert certificate.value <= exact / (1 - certificate.gap) + tolerance
    else:
        assert exact <= certificate.bound * (1 + 1e-6) + 1e-6
        assert certificate.value >= exact * (1 - certificate.gap) - tolerance


@PROPERTY
@given(constrained_requests(goals=("harm", "maxmin", "blend")), st.floats(100.0, 10_000.0))
def test_no_rule_abiding_baseline_beats_the_optimiser(request, people):
    """No equal, per-head or per-harm split that obeys every rule beats the optimiser's goal on the exact curves."""
    allocation = solved(request)
    if allocation is None:
        return
    population = np.linspace(1.0, 2.0, len(request.eligible)) * people
    certificate = allocation.certificate
    for baseline in evaluate_baselines(request, population):
        if rule_breaches(request, baseline.amounts.values):
            event(f"{baseline.name} breaks a rule")
            continue
        event(f"{baseline.name} obeys every rule")
        value = goal_value(request, baseline.amounts.values)
        assert value <= certificate.value + certificate.gap * abs(certificate.bound) + 1e-6 * max(1.0, abs(value))


# Force caps per force, where the areas span several forces


def two_forces(**changes):
    """Three areas × two interventions, each its own bid: area 0 in Kent Police, areas 1 and 2 in Surrey Police; £300, a
    £100 force cap (so each force's cap binds and the budget does not), then `changes`."""
    request = make_request(
        harm=[[1000.0, 400.0], [600.0, 900.0], [800.0, 200.0]],
        scale=[[50.0, 80.0], [60.0, 40.0], [70.0, 30.0]],
        reductions=[0.3, 0.2],
        budget=300.0,
    )
    return replace(request, force_cap_gbp=100.0, force_of_area=np.array([0, 1, 1]), force_names=("Kent Police", "Surrey Police"), **changes)


def test_force_cap_is_one_row_per_force_in_words():
    """Areas in two forces give the force cap one row per force, over that force's cells, named by the force."""
    family = next(family for family in two_forces().families() if family.key == "force_cap")
    assert [row.words for row in family.rows] == ["the £100 cap on Kent Police's total", "the £100 cap on Surrey Police's total"]
    assert [row.cells.tolist() for row in family.rows] == [[0, 1], [2, 3, 4, 5]]
    assert not family.one_limit and not family.robust


def test_force_caps_hold_each_force_to_its_cap(lp_solver):
    """Each force spends exactly its £100, split over its own cells at its own water level; £100 of the budget is left."""
    request = two_forces()
    allocation = allocate(request, lp_solver)
    ceilings = request.curves.ceilings()
    kent, _, _ = split(ceilings[0], request.curves.scale.values[0], 100.0)
    surrey, _, _ = split(ceilings[1:], request.curves.scale.values[1:], 100.0)
    np.testing.assert_allclose(allocation.amounts.values, [kent, *surrey], rtol=1e-7, atol=1e-7)
    assert_holds(request, allocation)
    assert allocation.certificate.gap < 1e-9


def test_force_cap_prices_are_each_forces_level_above_the_budgets():
    """With a £150 budget only the Kent cap of £40 binds: its price is Kent's water level above the budget's, and moving
    it by £0.01 changes harm averted by that price."""
    request = two_forces(budget_gbp=150.0, force_caps_gbp=np.array([40.0, 1e9]))
    allocation = allocate(request, "greedy")
    kent, _, kent_level = split(request.curves.ceilings()[0], request.curves.scale.values[0], 40.0)
    _, _, level = split(request.curves.ceilings()[1:], request.curves.scale.values[1:], 110.0)
    prices = {(price.family, price.index): price.price for price in allocation.prices}
    assert prices[("force_cap", 0)] == pytest.approx(kent_level - level, rel=1e-7)
    assert prices[("budget", 0)] == pytest.approx(level, rel=1e-7)
    family = next(family for family in request.families() if family.key == "force_cap")
    moved = allocate(family.vary(request, 0, 0.01), "greedy")
    assert (moved.objective_days - allocation.objective_days) / 0.01 == pytest.approx(kent_level - level, rel=1e-3)


def test_words_name_each_binding_force_cap_and_the_budget_as_the_limit():
    """With a £150 budget and only Kent's £40 cap binding, the money line is the budget's, and Kent's cap has its own line
    (a cap per force is not a cap on the total)."""
    request = two_forces(budget_gbp=150.0, force_caps_gbp=np.array([40.0, 1e9]))
    allocation = allocate(request, "greedy")
    words = binding_words(request, allocation.amounts.values, allocation.prices)
    assert words[0].startswith("budget: all £150 allocated")
    assert any("Kent Police" in line and "£40" in line for line in words[1:])


def test_words_say_every_force_cap_binds_when_together_they_are_below_the_budget():
    """£100 a force in two forces is £200 in all, below the £300 budget: the money line says so, not that one force may
    receive at most £100."""
    request = two_forces()
    allocation = allocate(request, "greedy")
    words = binding_words(request, allocation.amounts.values, allocation.prices)
    assert words[0] == "force caps: every force's £100 cap binds, £200 in all, below the budget of £300"


def test_varying_a_force_cap_moves_that_force_only():
    """Pricing the second force's cap moves Surrey's cap and leaves Kent's."""
    family = next(family for family in two_forces().families() if family.key == "force_cap")
    assert family.vary(two_forces(), 1, 10.0).force_caps().tolist() == [100.0, 110.0]


def test_one_force_named_per_area_gives_the_same_allocation_as_none():
    """Areas all in one force keep the one force-cap row on the total and the same allocation as without forces."""
    single = replace(two_forces(), force_of_area=np.zeros(3, dtype=int), force_names=("Kent Police",))
    plain = replace(two_forces(), force_of_area=None, force_names=())
    assert not single.split_by_force
    assert len(next(family for family in single.families() if family.key == "force_cap").rows) == 1
    assert allocate(single, "greedy").amounts.values.tolist() == allocate(plain, "greedy").amounts.values.tolist()


def test_request_forces_come_from_each_areas_force():
    """The request numbers the forces in sorted order from each area's force, and names none for one force."""
    from types import SimpleNamespace

    from simulator.constraints import _forces

    found = _forces(SimpleNamespace(forces=("Surrey Police", "Kent Police", "Surrey Police")))
    assert found["force_of_area"].tolist() == [1, 0, 1]
    assert found["force_names"] == ("Kent Police", "Surrey Police")
    assert _forces(SimpleNamespace(forces=())) == {}
    assert _forces(SimpleNamespace(forces=("Kent Police", "Kent Police"))) == {}


def test_floors_above_a_forces_cap_are_named_with_the_force():
    """Full equity floors need £200-odd from Surrey's two areas but its cap is £100: the conflict names the force."""
    with pytest.raises(InfeasibleError) as caught:
        allocate(two_forces(equity_floor=1.0, equity_basis="equal"), "highs")
    assert str(caught.value).startswith(
        "allocation.equity_floor: the rules cannot all be met: the equity floors of Surrey Police's areas need £200, above the £100 "
        "cap on Surrey Police's total, short by £100"
    )


def test_a_bid_across_two_forces_is_left_to_the_linear_program(lp_solver):
    """A bid with areas in two forces breaks the nesting: the greedy refuses it and the linear program keeps every force cap."""
    request = two_forces(bid_of_area=np.array([0, 0, 1]), bid_names=("across", "Surrey"))
    assert not request.caps_nest
    with pytest.raises(ConfigError):
        allocate(request, "greedy")
    allocation = allocate(request, lp_solver)
    assert_holds(request, allocation)
    spent = allocation.amounts.values.sum(axis=1)
    assert spent[0] <= 100.0 + 1e-6 and spent[1] + spent[2] <= 100.0 + 1e-6


@PROPERTY
@given(st.data())
def test_nested_water_filling_lies_between_chords_and_tangents(data):
    """On random requests with bids in two forces, the water-filling's value is at least the chord LP's optimum and at
    most the tangent LP's bound, and its own certificate closes."""
    from simulator.formulation import solve_models

    areas = data.draw(st.integers(2, 5))
    harm = np.array(
        data.draw(st.lists(st.lists(st.sampled_from([50.0, 300.0, 1000.0]), min_size=2, max_size=2), min_size=areas, max_size=areas))
    )
    scale = np.array(data.draw(st.lists(st.lists(st.floats(10.0, 500.0), min_size=2, max_size=2), min_size=areas, max_size=areas)))
    forces = np.array(data.draw(st.lists(st.integers(0, 1), min_size=areas, max_size=areas)))
    request = replace(
        make_request(
            harm, scale, [0.3, 0.2], budget=data.draw(st.floats(50.0, 2_000.0)), cap=data.draw(st.floats(20.0, 1_000.0)), segments=32
        ),
        force_cap_gbp=data.draw(st.floats(20.0, 1_000.0)),
        force_of_area=forces,
        force_names=("A", "B"),
    )
    allocation = allocate(request, "greedy")
    _, _, _, certificate = solve_models(request, "highs", 32, None, True)
    value = allocation.certificate.value
    assert certificate.bound * (1 + 1e-7) >= value >= certificate.value * (1 - 1e-7)
    assert allocation.certificate.gap < 1e-7
    assert_holds(request, allocation)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=constrained_requests(), seed=st.integers(0, 2**16))
def test_a_familys_slacks_at_once_equal_each_rows_slack(request, seed):
    generator = np.random.default_rng(seed)
    amounts = generator.uniform(0.0, 400_000.0, request.usable().shape) * request.usable()
    funded = request.funded_bids(amounts)
    for family in request.families():
        expected = [row.slack(amounts, funded) for row in family.rows]
        assert family.slacks(amounts, funded) == pytest.approx(expected, rel=1e-12, abs=1e-6)
