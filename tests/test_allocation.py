"""The allocator: constraints hold, optima agree across solvers and with the exact greedy."""

from __future__ import annotations

import numpy as np
import pytest
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_request
from simulator.allocation import SolveStatus, allocate
from simulator.errors import ConfigError
from strategies import requests

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_toy_optimum_fills_eligible_areas_to_their_caps(three_areas, lp_solver):
    """With more budget than the eligible areas' caps allow, each eligible area gets its cap."""
    request = replace(three_areas, budget_gbp=1_000.0)
    allocation = allocate(request, lp_solver)
    np.testing.assert_allclose(allocation.amounts.values.sum(axis=1), [80.0, 80.0, 0.0], atol=1e-6)
    assert any("budget not used up" in note for note in allocation.binding)


def test_toy_spends_whole_budget_when_caps_allow(three_areas, lp_solver):
    """The toy's £120 budget is spent in full: every £ averts some harm."""
    allocation = allocate(three_areas, lp_solver)
    assert allocation.allocated_gbp == pytest.approx(120.0, abs=1e-6)
    assert allocation.status is SolveStatus.OPTIMAL


def test_ineligible_area_gets_nothing(three_areas, lp_solver):
    """The ineligible area has by far the most harm and still receives £0."""
    allocation = allocate(three_areas, lp_solver)
    assert allocation.amounts.values[2].sum() == 0.0


def test_harm_averted_is_scored_on_the_exact_curve(three_areas):
    """Reported harm averted is the exponential curve at the chosen spend, not the LP's chords."""
    allocation = allocate(three_areas, "highs")
    expected = three_areas.curves.averted(allocation.amounts.values).sum()
    assert allocation.averted_days == pytest.approx(expected)
    assert allocation.averted_days >= allocation.objective_days - 1e-6


@PROPERTY
@given(requests())
def test_budget_never_exceeded(request):
    """Total allocation never exceeds the budget."""
    assert allocate(request, "highs").allocated_gbp <= request.budget_gbp * (1 + 1e-9) + 1e-6


@PROPERTY
@given(requests())
def test_ineligible_areas_always_get_zero(request):
    """Every ineligible area receives exactly £0."""
    amounts = allocate(request, "highs").amounts.values.sum(axis=1)
    assert np.all(amounts[~request.eligible] == 0.0)


@PROPERTY
@given(requests())
def test_grant_cap_holds(request):
    """No area receives more than the grant cap."""
    amounts = allocate(request, "highs").amounts.values.sum(axis=1)
    assert np.all(amounts <= request.max_grant_gbp + 1e-6)


@PROPERTY
@given(requests(), st.floats(1.0, 3.0))
def test_more_budget_never_averts_less_harm(request, factor):
    """Raising the budget never lowers the optimum.

    The budget starts at or above the cap, so both problems share the same curve segments
    and differ only in the budget.
    """
    base = replace(request, budget_gbp=max(request.budget_gbp, request.max_grant_gbp))
    smaller = allocate(base, "highs")
    larger = allocate(replace(base, budget_gbp=base.budget_gbp * factor), "highs")
    assert larger.objective_days >= smaller.objective_days - 1e-7 * max(1.0, smaller.objective_days)
    assert larger.averted_days >= smaller.averted_days - 1e-7 * max(1.0, smaller.averted_days)


@PROPERTY
@given(requests())
def test_lp_equals_exact_greedy_on_budget_and_caps(request):
    """Without a bid limit the LP's optimum equals the sort-based greedy's."""
    lp = allocate(request, "highs")
    greedy = allocate(request, "greedy")
    assert lp.objective_days == pytest.approx(greedy.objective_days, rel=1e-6, abs=1e-6)


@PROPERTY
@given(requests(max_areas_limit=True))
def test_bid_limit_holds(request):
    """With a bid limit, no more areas are funded than it allows."""
    allocation = allocate(request, "highs")
    assert len(allocation.funded_codes) <= request.max_areas


def test_solvers_reach_the_same_optimum_with_a_bid_limit(three_areas):
    """HiGHS and CBC agree on the MIP optimum (optima, not duals, are compared)."""
    request = replace(three_areas, max_areas=1)
    results = {name: allocate(request, name).objective_days for name in ("highs", "cbc")}
    assert results["highs"] == pytest.approx(results["cbc"], rel=1e-7)


def test_bid_limit_makes_one_area_take_everything(three_areas, lp_solver):
    """One bid allowed: all money goes to one eligible area, up to its cap."""
    request = replace(three_areas, max_areas=1)
    amounts = allocate(request, lp_solver).amounts.values.sum(axis=1)
    assert np.count_nonzero(amounts) == 1
    assert amounts.max() == pytest.approx(80.0, abs=1e-6)


def test_minimum_grant_is_respected(three_areas, lp_solver):
    """A funded area gets at least the minimum grant."""
    request = replace(three_areas, minimum_grant_gbp=70.0)
    amounts = allocate(request, lp_solver).amounts.values.sum(axis=1)
    funded = amounts[amounts > 0]
    assert funded.size >= 1 and np.all(funded >= 70.0 - 1e-6)


def test_match_funding_limits_the_grant(three_areas):
    """£20 of match funding at 50 % allows at most £40 of grant."""
    request = replace(three_areas, match_funding_rate=0.5, match_funding_available_gbp=20.0)
    allocation = allocate(request, "highs")
    assert allocation.allocated_gbp == pytest.approx(40.0, abs=1e-6)
    assert allocate(request, "greedy").allocated_gbp == pytest.approx(40.0, abs=1e-6)


def test_greedy_refuses_a_bid_limit(three_areas):
    """The greedy is exact only for budget and caps, so it refuses a bid limit by name."""
    request = replace(three_areas, max_areas=1)
    with pytest.raises(ConfigError) as caught:
        allocate(request, "greedy")
    assert caught.value.key == "allocation.solver"


def test_unknown_solver_is_a_config_error(three_areas):
    """A solver name outside highs/cbc/greedy is refused with the allowed names."""
    with pytest.raises(ConfigError) as caught:
        allocate(three_areas, "gurobi")
    assert "highs" in caught.value.expected


def test_shadow_price_is_the_marginal_value_of_budget(three_areas):
    """The budget's dual matches the gain from one more £ (same segments)."""
    allocation = allocate(three_areas, "highs")
    more = replace(three_areas, budget_gbp=121.0, max_grant_gbp=80.0)
    gain = allocate(more, "highs").objective_days - allocation.objective_days
    assert allocation.budget_shadow_price == pytest.approx(gain, rel=0.05)


def test_no_eligible_area_allocates_nothing():
    """When no area is eligible the allocation is empty, not an error."""
    request = make_request([[100.0]], [10.0], [0.2], eligible=[False], budget=50.0)
    allocation = allocate(request, "highs")
    assert allocation.allocated_gbp == 0.0


def clustered(request, groups, limit=0):
    """The request with areas grouped into bids (clusters of areas under one cap)."""
    return replace(request, bid_of_area=np.array(groups), bid_names=tuple(f"cluster {g}" for g in sorted(set(groups))), max_areas=limit)


def test_cluster_cap_holds_across_its_areas(three_areas, lp_solver):
    """Areas 0 and 1 share one bid: together they get at most the cap of £80."""
    allocation = allocate(clustered(three_areas, [0, 0, 1]), lp_solver)
    assert allocation.amounts.values[:2].sum() == pytest.approx(80.0, abs=1e-6)


def test_bid_limit_counts_clusters_not_areas(lp_solver):
    """With one bid allowed and two areas in the first cluster, both areas of that cluster may be funded."""
    request = make_request(harm=[[1000.0], [1000.0], [10.0]], scale=[[50.0], [50.0], [50.0]], reductions=[0.3], budget=100.0, cap=100.0)
    allocation = allocate(clustered(request, [0, 0, 1], limit=1), lp_solver)
    per_area = allocation.amounts.values.sum(axis=1)
    assert per_area[0] > 0 and per_area[1] > 0 and per_area[2] == 0


@PROPERTY
@given(requests(min_areas=2), st.data())
def test_greedy_equals_lp_with_cluster_caps(request, data):
    """Clusters of areas under one cap are still a laminar family: the greedy stays exact."""
    groups = data.draw(st.lists(st.integers(0, 2), min_size=len(request.eligible), max_size=len(request.eligible)))
    labels = {group: position for position, group in enumerate(dict.fromkeys(groups))}
    request = clustered(request, [labels[group] for group in groups])
    assert allocate(request, "highs").objective_days == pytest.approx(allocate(request, "greedy").objective_days, rel=1e-6, abs=1e-6)
