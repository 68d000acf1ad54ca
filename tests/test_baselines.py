"""Simple splits: they obey the round's rules, and never beat the optimiser on the exact curves."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import BASELINE
from hypothesis import given, settings
from strategies import requests

from simulator.allocation import allocate
from simulator.baselines import evaluate_baselines, split_with_caps, split_with_minimum
from simulator.constraints import FUNDED_THRESHOLD_GBP

PROPERTY = settings(max_examples=60)


def baselines_of(request):
    """The three baselines with every area weighted 1 for residents and its targeted harm for the basket."""
    return evaluate_baselines(request, np.ones(len(request.eligible)))


def test_split_passes_capped_excess_to_the_others():
    """A share cut by the cap is shared out among the areas below it."""
    shares = split_with_caps(np.array([8.0, 1.0, 1.0]), 100.0, 50.0)
    np.testing.assert_allclose(shares, [50.0, 25.0, 25.0])


def test_split_gives_nothing_to_zero_weights():
    """Areas with weight 0 (ineligible) get nothing."""
    shares = split_with_caps(np.array([0.0, 2.0, 2.0]), 10.0, 100.0)
    np.testing.assert_allclose(shares, [0.0, 5.0, 5.0])


def test_split_stops_at_total_capacity():
    """When every area is capped the remainder stays unallocated."""
    shares = split_with_caps(np.array([1.0, 1.0]), 100.0, 30.0)
    np.testing.assert_allclose(shares, [30.0, 30.0])


def test_equal_split_gives_eligible_areas_the_same(three_areas):
    """Equal split: both eligible areas get half, the ineligible one nothing."""
    baselines = {b.name: b for b in evaluate_baselines(replace(three_areas, basket_harm=np.ones(3)), np.ones(3))}
    np.testing.assert_allclose(baselines["equal"].amounts.values.sum(axis=1), [60.0, 60.0, 0.0])


def test_baselines_share_the_allocations_definition_of_funded(three_areas):
    """A baseline's funded areas follow the one definition on SplitTotals: more than half a penny."""
    baselines = {b.name: b for b in evaluate_baselines(replace(three_areas, basket_harm=np.ones(3)), np.ones(3))}
    equal = baselines["equal"]
    assert equal.funded.tolist() == [True, True, False]
    assert equal.funded_codes == three_areas.curves.codes[:2]
    np.testing.assert_array_equal(equal.funded, equal.amounts.values.sum(axis=1) > FUNDED_THRESHOLD_GBP)


def test_minimum_grant_drops_the_smallest_share_first():
    """Shares of 60, 30 and 10 under a minimum of 20: the smallest is dropped and its money re-shared 2 : 1."""
    shares = split_with_minimum(np.array([6.0, 3.0, 1.0]), 100.0, 1_000.0, 20.0)
    np.testing.assert_allclose(shares, [200.0 / 3.0, 100.0 / 3.0, 0.0])


def test_minimum_grant_repair_repeats_until_every_share_reaches_it():
    """Equal keys and a minimum of 40 out of 100: drops repeat until two bids of 50 remain."""
    shares = split_with_minimum(np.ones(4), 100.0, 1_000.0, 40.0, tie_break=np.array([4.0, 3.0, 2.0, 1.0]))
    np.testing.assert_allclose(shares, [50.0, 50.0, 0.0, 0.0])


def test_minimum_grant_above_the_cap_funds_nothing():
    """No bid can be funded when the minimum grant exceeds the grant cap."""
    assert not split_with_minimum(np.array([1.0, 2.0]), 100.0, 30.0, 40.0).any()


def test_minimum_grant_above_the_total_funds_nothing():
    """No bid can be funded when the minimum grant exceeds the money that may be spent."""
    assert not split_with_minimum(np.array([1.0, 2.0]), 100.0, 300.0, 140.0).any()


def test_description_names_the_repair(three_areas):
    """With a minimum grant each baseline's description says how its split was repaired."""
    for baseline in baselines_of(replace(three_areas, minimum_grant_gbp=70.0)):
        assert "below the £70 minimum grant is dropped" in baseline.description


def test_baselines_spend_no_more_than_match_funding_allows(three_areas):
    """£20 of match funding at 50 % lets each baseline spend at most £40."""
    for baseline in baselines_of(replace(three_areas, match_funding_rate=0.5, match_funding_available_gbp=20.0)):
        assert baseline.allocated_gbp == pytest.approx(40.0)


@PROPERTY
@given(requests(rules=True))
def test_baselines_obey_every_rule(request):
    """Minimum grant, bid limit, grant caps, match funding and eligibility hold for every baseline."""
    slack = request.slack_gbp
    for baseline in baselines_of(request):
        amounts = baseline.amounts.values
        per_bid = request.per_bid(amounts)
        funded = per_bid > slack
        assert amounts.sum() <= request.spendable_gbp + slack
        assert np.all(per_bid <= request.max_grant_gbp + slack)
        assert np.all(per_bid[funded] >= request.minimum_grant_gbp - slack)
        assert np.all(amounts.sum(axis=1)[~request.eligible] == 0.0)
        if request.max_bids:
            assert np.count_nonzero(funded) <= request.max_bids


@PROPERTY
@given(requests(caps_only=True))
def test_no_baseline_beats_the_optimiser_on_the_exact_curves(request):
    """Under budget, caps, clusters and match funding the optimiser is exact: no baseline averts more real harm."""
    optimum = allocate(request, "highs")
    for baseline in baselines_of(request):
        assert baseline.averted_days <= optimum.averted_days * (1 + 1e-9) + 1e-12


@PROPERTY
@given(requests(rules=True))
def test_no_baseline_beats_the_optimiser_given_as_incumbents(request):
    """With a minimum grant and bid limit too, the optimiser that polishes the baselines' funded sets is never below one."""
    baselines = baselines_of(request)
    optimum = allocate(request, "highs", incumbents=[baseline.amounts.values for baseline in baselines])
    for baseline in baselines:
        assert baseline.averted_days <= optimum.averted_days * (1 + 1e-9) + 1e-12


@pytest.fixture(scope="module")
def kent_minimum_grant():
    """The Kent baseline with a £400,000 minimum grant per bid."""
    from simulator import load_scenario, run

    return run(load_scenario(BASELINE, ["allocation.minimum_grant_gbp=400000"]))


def test_kent_minimum_grant_baselines_stay_at_or_below_the_optimum(kent_minimum_grant):
    """Kent with a £400,000 minimum grant: no simple split reaches above 100 % of the optimised allocation."""
    for row in kent_minimum_grant.method_totals():
        assert row["harm_averted_vs_optimised_pct"] <= 100.0, row["method"]


def test_kent_minimum_grant_baselines_fund_only_bids_of_at_least_the_minimum(kent_minimum_grant):
    """Kent with a £400,000 minimum grant: every district a baseline funds gets at least £400,000."""
    for baseline in kent_minimum_grant.baselines:
        per_district = baseline.amounts.values.sum(axis=1)
        assert np.all(per_district[baseline.funded] >= 400_000 - 0.01), baseline.name


def test_split_within_groups_passes_a_capped_groups_excess_on():
    """Three equal shares of £90 with the first two in a group capped at £40: the group takes £20 each and the third £50."""
    from simulator.baselines import split_within_groups

    shares = split_within_groups(np.array([1.0, 1.0, 1.0]), 90.0, 100.0, np.array([0, 0, 1]), np.array([40.0, 1e9]))
    np.testing.assert_allclose(shares, [20.0, 20.0, 50.0])


def test_baselines_keep_each_forces_cap():
    """With areas in two forces and a £100 force cap, every baseline keeps each force under its cap and obeys every rule."""
    from conftest import make_request

    request = replace(
        make_request([[1000.0, 400.0], [600.0, 900.0], [800.0, 200.0]], [50.0, 40.0], [0.3, 0.2], budget=300.0),
        force_cap_gbp=100.0,
        force_of_area=np.array([0, 1, 1]),
        force_names=("Kent Police", "Surrey Police"),
    )
    for baseline in baselines_of(request):
        spent = baseline.amounts.values.sum(axis=1)
        assert spent[0] <= 100.0 + 1e-9 and spent[1] + spent[2] <= 100.0 + 1e-9
        assert baseline.same_rules
