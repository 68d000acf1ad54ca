"""The allocator: constraints hold, optima agree across solvers and with the exact greedy."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import BASELINE, SCENARIOS, make_request
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from strategies import clusters, requests

from simulator.allocation import allocate, check_allocation
from simulator.arrays import Labelled
from simulator.constraints import FUNDED_THRESHOLD_GBP
from simulator.errors import ConfigError, InternalError
from simulator.formulation import MOST_SEGMENTS, SolveStatus

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MANY = settings(PROPERTY, max_examples=200)


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
    """Reported harm averted is the exponential curve at the chosen spend, and the objective is that same exact value."""
    allocation = allocate(three_areas, "highs")
    expected = three_areas.curves.averted(allocation.amounts.values).sum()
    assert allocation.averted_days == pytest.approx(expected, rel=1e-12)
    assert allocation.objective_days == allocation.certificate.value == allocation.averted_days


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
@given(requests(bid_limit=True))
def test_bid_limit_holds(request):
    """With a bid limit, no more areas are funded than it allows."""
    allocation = allocate(request, "highs")
    assert len(allocation.funded_codes) <= request.max_bids


@PROPERTY
@given(requests(bid_limit=True))
def test_the_mip_path_is_certified_against_the_exact_search_over_funded_sets(monkeypatch, request):
    """With the funded-set search switched off, the MIP chooses the bids and a Lagrangian bound certifies them: the exact
    optimum (the search over every funded set) lies between the MIP path's value and its bound."""
    import simulator.allocation as allocation_module

    exact = allocate(request, "highs")
    with monkeypatch.context() as patched:
        patched.setattr(allocation_module, "MOST_ENUMERATED_SETS", 0)
        chosen = allocate(request, "highs")
    certificate = chosen.certificate
    tolerance = 1e-7 * max(1.0, exact.averted_days)
    assert certificate.value <= exact.averted_days + tolerance
    assert exact.averted_days <= certificate.bound + tolerance
    assert certificate.value >= certificate.bound * (1 - certificate.gap) - tolerance


def test_solvers_reach_the_same_optimum_with_a_bid_limit(three_areas):
    """HiGHS and CBC agree on the MIP optimum (optima, not duals, are compared)."""
    request = replace(three_areas, max_bids=1)
    results = {name: allocate(request, name).objective_days for name in ("highs", "cbc")}
    assert results["highs"] == pytest.approx(results["cbc"], rel=1e-7)


def test_bid_limit_makes_one_area_take_everything(three_areas, lp_solver):
    """One bid allowed: all money goes to one eligible area, up to its cap."""
    request = replace(three_areas, max_bids=1)
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
    request = replace(three_areas, max_bids=1)
    with pytest.raises(ConfigError) as caught:
        allocate(request, "greedy")
    assert caught.value.key == "allocation.solver"


def test_unknown_solver_is_a_config_error(three_areas):
    """A solver name outside highs/cbc/greedy is refused with the allowed names."""
    with pytest.raises(ConfigError) as caught:
        allocate(three_areas, "gurobi")
    assert "highs" in caught.value.expected


def test_shadow_price_is_the_marginal_value_of_budget(three_areas):
    """The budget's shadow price matches the exact harm averted by one more £."""
    allocation = allocate(three_areas, "highs")
    more = allocate(replace(three_areas, budget_gbp=120.01), "highs")
    gain = (more.averted_days - allocation.averted_days) / 0.01
    assert allocation.budget_shadow_price == pytest.approx(gain, rel=1e-3)


def test_shadow_price_is_zero_when_the_caps_bind(three_areas):
    """With more budget than the caps allow, more budget averts nothing more."""
    assert allocate(replace(three_areas, budget_gbp=1_000.0), "highs").budget_shadow_price == 0.0


def test_no_eligible_area_allocates_nothing():
    """When no area is eligible the allocation is empty, not an error."""
    request = make_request([[100.0]], [10.0], [0.2], eligible=[False], budget=50.0)
    allocation = allocate(request, "highs")
    assert allocation.allocated_gbp == 0.0


def clustered(request, groups, limit=0):
    """The request with areas grouped into bids (clusters of areas under one cap)."""
    return replace(request, bid_of_area=np.array(groups), bid_names=tuple(f"cluster {g}" for g in sorted(set(groups))), max_bids=limit)


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
    """Clusters of areas under one cap are still a laminar family: the greedy stays exact.

    Slopes can be as small as 1e-7 days per £, HiGHS's own tolerance; the model divides them by
    the steepest, so the two optima agree to a relative 1e-6 whatever the units.
    """
    request = clustered(request, data.draw(clusters(len(request.eligible))))
    assert allocate(request, "highs").objective_days == pytest.approx(allocate(request, "greedy").objective_days, rel=1e-6, abs=1e-9)


def test_lp_optimum_holds_at_tiny_slopes():
    """Slopes near 1e-7 days per £ (small harm, large cost scales) still give the greedy's optimum."""
    request = make_request(
        harm=[[3.0, 1.5], [2.0, 4.0], [1.0, 2.5]],
        scale=[[4_000.0, 3_000.0], [4_500.0, 2_000.0], [5_000.0, 4_000.0]],
        reductions=[0.02, 0.01],
        budget=15_000.0,
        cap=9_000.0,
        segments=8,
        bid_of_area=[0, 0, 1],
    )
    assert allocate(request, "highs").objective_days == pytest.approx(allocate(request, "greedy").objective_days, rel=1e-6)


@PROPERTY
@given(requests(caps_only=True))
def test_highs_cbc_and_greedy_reach_the_same_optimum(request):
    """On budget, caps, clusters and match funding the three solvers give the same exact optimum and the same exact amounts.

    Each is the water-filling on the exact curves, so the optima are equal, not merely close.
    """
    results = [allocate(request, solver) for solver in ("highs", "cbc", "greedy")]
    objectives = [result.objective_days for result in results]
    assert objectives[0] == objectives[1] == objectives[2]
    averted = [result.averted_days for result in results]
    assert averted[0] == averted[1] == averted[2]


@PROPERTY
@given(requests(caps_only=True), st.floats(1.0, 3.0))
def test_more_budget_never_averts_less_exact_harm(request, factor):
    """Raising the budget, whatever the curve segments, never lowers the harm averted on the exact curves."""
    smaller = allocate(request, "highs")
    larger = allocate(replace(request, budget_gbp=request.budget_gbp * factor), "highs")
    assert larger.averted_days >= smaller.averted_days * (1 - 1e-9)


@PROPERTY
@given(requests(rules=True))
def test_minimum_grant_holds_for_every_funded_bid(request):
    """Every funded bid receives at least the minimum grant."""
    per_bid = request.per_bid(allocate(request, "highs").amounts.values)
    funded = per_bid > request.slack_gbp
    assert np.all(per_bid[funded] >= request.minimum_grant_gbp - request.slack_gbp)


@PROPERTY
@given(requests(rules=True))
def test_every_rule_holds_together(request):
    """With any mix of the round's rules, budget, match funding, caps, bid limit and eligibility hold."""
    allocation = allocate(request, "highs")
    amounts = allocation.amounts.values
    per_bid = request.per_bid(amounts)
    assert amounts.sum() <= request.spendable_gbp + request.slack_gbp
    assert np.all(per_bid <= request.max_grant_gbp + request.slack_gbp)
    assert np.all(amounts[~request.eligible] == 0.0)
    if request.max_bids:
        assert np.count_nonzero(per_bid > request.slack_gbp) <= request.max_bids


@PROPERTY
@given(requests(rules=True))
def test_objective_is_the_exact_harm_and_the_certificate_value(request):
    """For the harm goal the reported objective is the harm averted on the exact curves, the certificate's value, and
    within the certificate's gap of its bound."""
    allocation = allocate(request, "highs")
    certificate = allocation.certificate
    assert allocation.objective_days == certificate.value
    assert allocation.objective_days == pytest.approx(allocation.averted_days, rel=1e-12, abs=1e-12)
    assert certificate.value <= certificate.bound * (1 + 1e-9) + 1e-9
    assert certificate.gap <= request.gap_target or certificate.segments * 2 > MOST_SEGMENTS


def test_the_best_incumbent_funded_set_wins_when_the_chords_misjudge_it(monkeypatch):
    """One chord per curve and a loose gap target: the MIP picks the wrong bid; polishing an incumbent's set finds the better one.

    With the search over funded sets switched off (MOST_ENUMERATED_SETS = 0), the MIP chooses the bid. On one
    chord per curve area 0's £75 is worth about 95 days against area 1's 170, while on the exact curves area 0 averts
    3 × 100 × (1 − e⁻¹) ≈ 189.6 days and area 1 only 200 × (1 − e^(−75/39.5)) ≈ 170.0.
    """
    import simulator.allocation as allocation_module

    monkeypatch.setattr(allocation_module, "MOST_ENUMERATED_SETS", 0)
    request = make_request(
        harm=[[200.0, 200.0, 200.0], [400.0, 0.0, 0.0]],
        scale=[[25.0, 25.0, 25.0], [39.5, 25.0, 25.0]],
        reductions=[0.5, 0.5, 0.5],
        budget=75.0,
        cap=100.0,
        max_bids=1,
        segments=1,
    )
    request = replace(request, gap_target=0.5)
    chords_only = allocate(request, "highs")
    incumbent = np.zeros(request.curves.targeted_harm.values.shape)
    incumbent[0] = 25.0
    guarded = allocate(request, "highs", incumbents=[incumbent])
    assert chords_only.certificate.method == "mixed-integer program for the bids, water-filling for the amounts, Lagrangian bound"
    assert chords_only.certificate.segments == 1
    assert chords_only.funded_codes == (request.curves.codes[1],)
    assert chords_only.averted_days == pytest.approx(200.0 * -np.expm1(-75.0 / 39.5), rel=1e-9)
    assert guarded.funded_codes == (request.curves.codes[0],)
    assert guarded.averted_days == pytest.approx(300.0 * -np.expm1(-1.0), rel=1e-9)
    assert guarded.certificate.value == guarded.averted_days
    assert guarded.certificate.bound == chords_only.certificate.bound
    assert guarded.certificate.gap < chords_only.certificate.gap <= 0.5


def test_an_incumbent_breaking_the_bid_limit_is_ignored(three_areas):
    """An incumbent funding more bids than the limit allows is not polished."""
    request = replace(three_areas, max_bids=1)
    incumbent = np.array([[40.0, 0.0], [40.0, 0.0], [0.0, 0.0]])
    allocation = allocate(request, "highs", incumbents=[incumbent])
    assert len(allocation.funded_codes) == 1


def test_check_allocation_catches_a_bid_below_the_minimum_grant(three_areas):
    """A funded bid under the minimum grant is an internal error."""
    request = replace(three_areas, minimum_grant_gbp=70.0)
    allocation = allocate(request, "highs")
    amounts = np.array([[5.0, 5.0], [0.0, 0.0], [0.0, 0.0]])
    bad = replace(allocation, amounts=Labelled(amounts, ("area", "intervention"), allocation.amounts.coords, "allocation", "£"))
    with pytest.raises(InternalError):
        check_allocation(request, bad)


def test_no_eligible_area_says_nothing_can_be_allocated(lp_solver):
    """No eligible area: £0, status optimal, and the note says why in the round's words."""
    request = make_request([[100.0], [50.0]], [10.0], [0.2], eligible=[False, False], budget=50.0)
    allocation = allocate(request, lp_solver)
    assert allocation.allocated_gbp == 0.0 and allocation.status is SolveStatus.OPTIMAL
    assert allocation.binding == ("no area passes the round's area test, so nothing can be allocated",)


def test_empty_model_returns_zero_without_crashing(lp_solver):
    """Eligible areas with no targeted harm make an empty model: the all-zero allocation, not a solver error."""
    request = make_request([[0.0, 0.0], [0.0, 0.0]], [10.0], [0.2, 0.3], budget=50.0)
    allocation = allocate(request, lp_solver)
    assert allocation.allocated_gbp == 0.0 and allocation.status is SolveStatus.OPTIMAL
    assert allocation.binding[0] == (
        "the 2 eligible area(s) have no recorded harm of the crime types the enabled interventions target, so nothing can be allocated"
    )


def test_empty_model_calls_no_solver(monkeypatch):
    """With no usable cell the solver is never run."""
    import simulator.allocation as allocation_module
    import simulator.formulation as formulation_module

    def refuse(*args):
        raise AssertionError("a solver was called")

    monkeypatch.setattr(allocation_module, "solve_models", refuse)
    monkeypatch.setattr(formulation_module, "solver_status", refuse)
    request = make_request([[0.0]], [10.0], [0.2], budget=50.0)
    assert allocate(request, "cbc").allocated_gbp == 0.0


def test_minimum_grant_above_the_cap_says_both_figures(three_areas, lp_solver):
    """A minimum grant above the grant cap funds nothing, and the note gives both amounts."""
    allocation = allocate(replace(three_areas, minimum_grant_gbp=90.0), lp_solver)
    assert allocation.allocated_gbp == 0.0
    assert allocation.binding[0] == "the minimum grant of £90 is above the grant cap of £80, so no bid can be funded"


def test_minimum_grant_above_the_budget_says_both_figures(three_areas):
    """A minimum grant above the budget funds nothing, and the note gives both amounts, not the grant caps."""
    allocation = allocate(replace(three_areas, minimum_grant_gbp=150.0, max_grant_gbp=200.0), "highs")
    assert allocation.allocated_gbp == 0.0
    assert allocation.binding[0] == "the minimum grant of £150 is above the budget of £120, so no bid can be funded"
    assert not any("grant caps" in note for note in allocation.binding)


def test_minimum_grant_above_what_match_funding_allows(three_areas):
    """A minimum grant above the grant match funding allows funds nothing and names the match funding."""
    request = replace(three_areas, minimum_grant_gbp=50.0, match_funding_rate=0.5, match_funding_available_gbp=20.0)
    note = allocate(request, "highs").binding[0]
    assert note.startswith("the minimum grant of £50 is above the £40 that match funding allows")


def test_caps_binding_is_said_only_when_true(three_areas):
    """Money left over because every eligible area is at its cap gets the grant-caps sentence."""
    allocation = allocate(replace(three_areas, budget_gbp=1_000.0), "highs")
    assert allocation.binding[0] == "budget not used up: £840 left, because the grant caps of the eligible areas bound the spend"


def test_money_left_by_the_bid_limit_names_it(three_areas):
    """Money left over because the funded bids are capped and no more may be funded says so."""
    allocation = allocate(replace(three_areas, budget_gbp=1_000.0, max_bids=1), "highs")
    assert allocation.binding == (
        "budget not used up: £920 left, because the 1 funded bid(s) are at the grant cap and the bid limit allows no more; "
        "prices hold for the bids chosen",
        "grant cap £80 reached in 1 area(s): E00000000 (raising it by £1 would avert about 1.2 more harm days)",
        "bid limit: 1 area funded, the most the round allows",
        "eligibility: 1 ineligible area(s) receive £0",
    )
    cap_price = 300.0 / 50.0 * np.exp(-80.0 / 50.0)
    assert [(price.family, price.index) for price in allocation.prices] == [("grant_cap", 0)]
    assert allocation.prices[0].price == pytest.approx(cap_price, rel=1e-9)


def test_a_budget_of_a_penny_goes_to_the_steepest_cell_at_its_slope(three_areas):
    """£0.01 is spent in full on area 0's first intervention (slope 0.3 × 1000 ÷ 50 = 6 days per £ at £0), and the budget's
    shadow price is that cell's slope at £0.01."""
    allocation = allocate(replace(three_areas, budget_gbp=0.01), "highs")
    np.testing.assert_allclose(allocation.amounts.values, [[0.01, 0.0], [0.0, 0.0], [0.0, 0.0]], rtol=1e-9, atol=1e-12)
    assert allocation.budget_shadow_price == pytest.approx(6.0 * np.exp(-0.01 / 50.0), rel=1e-9)
    assert allocation.binding[0] == "budget: all £0.01 allocated; each extra £1,000 would avert about 5998.80 more harm days"


def test_match_funding_limit_is_said(three_areas):
    """When match funding limits the grant, the note says so and the budget's shadow price is 0."""
    allocation = allocate(replace(three_areas, match_funding_rate=0.5, match_funding_available_gbp=20.0), "highs")
    assert allocation.binding[0].startswith("match funding: £20 available at 50% limits the grant to £40")
    assert allocation.budget_shadow_price == 0.0


def test_amounts_meet_the_exact_curves_optimality_conditions(three_areas):
    """The water-filled amounts are the exact optimum: every funded cell's marginal harm per £ equals the budget's shadow
    price, every unfunded cell's is below it, and the certificate's value is the exact harm averted."""
    allocation = allocate(three_areas, "highs")
    curves, amounts = three_areas.curves, allocation.amounts.values
    marginal = curves.ceilings() / curves.scale.values * np.exp(-amounts / curves.scale.values)
    funded = amounts[:2] > 0
    price = allocation.budget_shadow_price
    np.testing.assert_allclose(marginal[:2][funded], price, rtol=1e-9)
    assert np.all(marginal[:2][~funded] <= price)
    assert allocation.certificate.method == "water-filling on the exact curves"
    assert allocation.certificate.value == allocation.averted_days
    assert 0.0 <= allocation.certificate.gap <= three_areas.gap_target


def test_budget_exactly_at_the_caps_says_more_would_avert_nothing(three_areas):
    """A budget equal to the eligible areas' caps is all spent, and the note says more budget would avert nothing."""
    allocation = allocate(replace(three_areas, budget_gbp=160.0), "highs")
    assert allocation.binding[0] == (
        "budget: all £160 allocated, exactly what the grant caps of the funded areas allow, so a little more budget would avert nothing"
    )
    assert allocation.budget_shadow_price == 0.0


CAPS_BIND = (
    "exactly what the grant caps of the funded",
    "because the grant caps of the eligible",
    "are at the grant cap",
)
STEP_GBP = 1e-3


def at_cap_slack(request) -> float:
    """How far below the grant cap a bid may be and still count as at it (the binding notes' own slack)."""
    return request.slack_gbp + 0.01


@MANY
@given(requests(rules=True))
def test_the_caps_are_said_to_bind_only_when_every_funded_bid_is_at_its_cap(request):
    """Whenever a binding note says the grant caps bind, every funded bid receives the grant cap.

    And the budget's "caps bind, more would avert nothing" note comes with a shadow price of 0.
    """
    allocation = allocate(request, "highs")
    amounts = allocation.amounts.values
    claims = [note for note in allocation.binding if any(words in note for words in CAPS_BIND)]
    event("the caps are said to bind" if claims else "the caps are not said to bind")
    if claims:
        funded = request.funded_bids(amounts)
        assert funded.any(), claims
        assert np.all(request.per_bid(amounts)[funded] >= request.max_grant_gbp - at_cap_slack(request)), claims
    if any("a little more budget would avert nothing" in note for note in allocation.binding):
        assert allocation.budget_shadow_price == 0.0


@MANY
@given(requests(rules=True))
def test_shadow_price_is_the_harm_one_more_pound_averts(request):
    """The budget's shadow price equals (harm averted at budget + £0.001 − harm averted at budget) ÷ £0.001.

    The second allocation may fund another set of bids; the first's amounts are passed as an
    incumbent, so its funded set is polished at the larger budget too. Where the funded set stays
    the same (almost always) the difference quotient is the shadow price, up to the curvature over
    £0.001; where another set wins it can only be larger.
    """
    allocation = allocate(request, "highs")
    assume(allocation.budget_shadow_price is not None)
    more = allocate(replace(request, budget_gbp=request.budget_gbp + STEP_GBP), "highs", incumbents=[allocation.amounts.values])
    gain = (more.averted_days - allocation.averted_days) / STEP_GBP
    same_set = np.array_equal(request.funded_bids(more.amounts.values), request.funded_bids(allocation.amounts.values))
    event("same funded set" if same_set else "another funded set")
    event("shadow price 0" if allocation.budget_shadow_price == 0 else "shadow price above 0")
    if same_set:
        assert gain == pytest.approx(allocation.budget_shadow_price, rel=1e-3, abs=1e-7)
    else:
        assert gain >= allocation.budget_shadow_price * (1 - 1e-3) - 1e-7


def test_a_lone_funded_bid_below_its_cap_has_a_positive_shadow_price(three_areas):
    """One bid allowed and £60 against an £80 cap: all £60 go to one area, and more budget would avert more."""
    request = replace(three_areas, budget_gbp=60.0, max_bids=1)
    allocation = allocate(request, "highs")
    assert len(allocation.funded_codes) == 1 and allocation.allocated_gbp == pytest.approx(60.0)
    more = allocate(replace(request, budget_gbp=60.01), "highs")
    assert allocation.budget_shadow_price == pytest.approx((more.averted_days - allocation.averted_days) / 0.01, rel=1e-3)
    assert allocation.budget_shadow_price > 0
    assert allocation.binding[0].startswith("budget: all £60 allocated; each extra £1,000 would avert about")


def test_match_funding_equal_to_the_budget_gives_a_shadow_price_of_zero(three_areas):
    """Match funding that allows exactly the budget: more budget could not be spent, and the note names the match funding."""
    allocation = allocate(replace(three_areas, match_funding_rate=0.5, match_funding_available_gbp=60.0), "highs")
    assert allocation.allocated_gbp == pytest.approx(120.0)
    assert allocation.budget_shadow_price == 0.0
    assert allocation.binding[0].startswith("match funding: £60 available at 50% limits the grant to £120; each extra £1,000")


def test_funded_means_more_than_half_a_penny(three_areas):
    """An area with £0.004 is not funded, one with £0.006 is; a bid is funded when any of its areas is."""
    allocation = allocate(three_areas, "highs")
    amounts = np.array([[0.004, 0.0], [0.0, 0.006], [0.0, 0.0]])
    slivers = replace(allocation, amounts=Labelled(amounts, ("area", "intervention"), allocation.amounts.coords, "allocation", "£"))
    assert FUNDED_THRESHOLD_GBP == 0.005
    assert slivers.funded.tolist() == [False, True, False]
    assert slivers.funded_codes == (three_areas.curves.codes[1],)
    assert three_areas.funded_bids(amounts).tolist() == [False, True, False]
    assert clustered(three_areas, [0, 0, 1]).funded_bids(amounts).tolist() == [True, False]


def rerun(path, sets):
    """A scenario with --set overrides, run."""
    from simulator import load_scenario, run

    return run(load_scenario(path, sets))


def assert_shadow_price_is_the_marginal_harm(result):
    """The run's shadow price against the harm one more £1 of budget averts (the run's own funded set kept as incumbent)."""
    allocation, request = result.allocation, result.request
    more = allocate(replace(request, budget_gbp=request.budget_gbp + 1.0), "highs", incumbents=[allocation.amounts.values])
    assert more.funded_codes == allocation.funded_codes
    assert allocation.budget_shadow_price == pytest.approx(more.averted_days - allocation.averted_days, rel=1e-4)
    assert allocation.certificate.gap <= request.gap_target


def test_kent_round_3_with_1000_gbp_says_more_budget_would_avert_more():
    """Round 3 rules and £1,000: Gravesham alone gets it all against a £550,000 cap, so the budget, not the cap, binds."""
    result = rerun(BASELINE, ["budget_gbp=1000", 'fund_round="safer-streets-3"'])
    allocation = result.allocation
    assert allocation.funded_codes == ("E07000109",)
    assert result.summary().funded_areas == ("Gravesham",)
    assert allocation.binding == (
        "budget: all £1,000 allocated; each extra £1,000 would avert about 214.55 more harm days; prices hold for the bids chosen",
        "eligibility: 6 ineligible area(s) receive £0",
    )
    assert allocation.budget_shadow_price == pytest.approx(0.21454655, rel=1e-6)
    assert_shadow_price_is_the_marginal_harm(result)


def test_kent_with_a_1000_gbp_minimum_grant_and_1500_gbp_says_more_budget_would_avert_more():
    """A £1,000 minimum grant out of £1,500 allows one bid; it takes all £1,500, far below the £750,000 cap."""
    result = rerun(BASELINE, ["allocation.minimum_grant_gbp=1000", "budget_gbp=1500"])
    allocation = result.allocation
    assert allocation.funded_codes == ("E07000109",)
    assert allocation.binding == (
        "budget: all £1,500 allocated; each extra £1,000 would avert about 550.43 more harm days; prices hold for the bids chosen",
        "eligibility: 4 ineligible area(s) receive £0",
    )
    assert allocation.budget_shadow_price == pytest.approx(0.55043187, rel=1e-6)
    assert_shadow_price_is_the_marginal_harm(result)


def test_kent_lsoas_with_1000_gbp_says_more_budget_would_avert_more():
    """Kent's LSOAs, district bids and £1,000: one bid takes it all against a £550,000 cap."""
    result = rerun(SCENARIOS / "kent-lsoa-2024.toml", ["budget_gbp=1000"])
    allocation = result.allocation
    assert allocation.funded_codes == ("E01024182",)
    assert allocation.binding == (
        "budget: all £1,000 allocated; each extra £1,000 would avert about 5891.04 more harm days; prices hold for the bids chosen",
        "eligibility: 881 ineligible area(s) receive £0",
    )
    assert allocation.budget_shadow_price == pytest.approx(5.89103519, rel=1e-6)
    assert_shadow_price_is_the_marginal_harm(result)


@given(requests(rules=True))
def test_quick_best_amounts_obeys_every_rule_and_is_exact_when_it_says_so(request):
    """The Monte Carlo's split per draw: within the round's rules always; equal to the optimum where it claims exactness,
    and never above it (nor below an incumbent it was given) where it does not."""
    from simulator.allocation import check_amounts, quick_best_amounts

    optimum = allocate(request, "highs")
    amounts, exact = quick_best_amounts(request, incumbents=[optimum.amounts.values])
    check_amounts(request, amounts)
    value, best = float(request.curves.averted(amounts).sum()), optimum.averted_days
    tolerance = 1e-6 * max(1.0, best)
    assert value <= best + tolerance
    if exact:
        assert value == pytest.approx(best, rel=1e-6, abs=1e-6)
    guess, _ = quick_best_amounts(request)
    check_amounts(request, guess)
    assert float(request.curves.averted(guess).sum()) <= best + tolerance


def test_a_minimum_grant_reaching_where_the_curve_is_flat_can_still_be_funded():
    """£428 to spend, a £428 minimum grant and a curve flat long before £428 (cost scale £10): the chords whose slope
    rounds to 0 still give room to reach the minimum, so the one area is funded (it had been left with £0)."""
    request = make_request([[1.0]], [10.0], [0.5], budget=428.0, cap=428.0, minimum_grant=428.0, segments=8)
    allocation = allocate(request, "highs")
    assert allocation.amounts.values[0, 0] == pytest.approx(428.0)
    assert allocation.averted_days == pytest.approx(0.5)


def test_quick_best_amounts_keep_each_forces_cap():
    """The Monte Carlo's quick split is the exact water-filling under each force's cap, the same as the allocation's."""
    from simulator.allocation import quick_best_amounts

    request = replace(
        make_request([[1000.0, 400.0], [600.0, 900.0], [800.0, 200.0]], [50.0, 40.0], [0.3, 0.2], budget=300.0),
        force_cap_gbp=100.0,
        force_of_area=np.array([0, 1, 1]),
        force_names=("Kent Police", "Surrey Police"),
    )
    amounts, exact = quick_best_amounts(request)
    assert exact
    np.testing.assert_allclose(amounts, allocate(request, "greedy").amounts.values, rtol=1e-12, atol=1e-12)
    assert amounts[0].sum() == pytest.approx(100.0) and amounts[1:].sum() == pytest.approx(100.0)


def test_bid_limit_sets_keep_each_forces_minimum_grants_under_its_cap():
    """With a £60 minimum grant, a £100 force cap and two bids in one force, no funded set holds both of that force's bids."""
    request = replace(
        make_request([[1000.0], [900.0], [100.0]], [50.0], [0.3], budget=300.0, minimum_grant=60.0, max_bids=2),
        force_cap_gbp=100.0,
        force_of_area=np.array([0, 0, 1]),
        force_names=("Kent Police", "Surrey Police"),
    )
    allocation = allocate(request, "highs")
    check_allocation(request, allocation)
    assert allocation.funded.tolist() == [True, False, True]


@PROPERTY
@given(requests(bid_limit=True), st.booleans(), st.data())
def test_the_value_alone_is_the_allocations_objective(request, keep_bids, data):
    """`solved_value` returns the objective `allocate` reaches without a certificate, with bids free or fixed."""
    from simulator.allocation import solved_value

    fixed = np.array(data.draw(st.lists(st.booleans(), min_size=request.bid_count, max_size=request.bid_count))) if keep_bids else None
    try:
        expected = allocate(request, "highs", fixed_bids=fixed, certify=False).objective_days
    except InternalError:
        event("a rule check fails")
        return
    event("fixed bids" if keep_bids else "bids free")
    assert solved_value(request, "highs", fixed_bids=fixed) == expected


def test_checking_the_solvers_loads_no_pulp():
    """Whether HiGHS and CBC are installed is told without PuLP (highspy importable, cbcbox's CBC binary; PuLP is asked
    about its bundled CBC only without cbcbox), so a run that builds no PuLP model never pays to import it; the answer
    is the one PuLP gives."""
    import subprocess
    import sys

    from conftest import REPO

    from simulator.formulation import _cbc_path, pulp_solver

    code = "from simulator.allocation import available_solvers\nimport sys\nprint(' '.join(available_solvers()), 'pulp' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert output[-1] == str(_cbc_path() is None)
    by_pulp = []
    for name in ("highs", "cbc"):
        try:
            pulp_solver(name)
            by_pulp.append(name)
        except ConfigError:
            continue
    assert output[:-1] == [*by_pulp, "greedy"]


def missing(monkeypatch, name: str) -> None:
    """Make solver `name` look uninstalled both to the check without PuLP and to PuLP itself."""
    import importlib.util

    import pulp

    import simulator.formulation as formulation

    if name == "highs":
        find_spec = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec", lambda module, *args: None if module == "highspy" else find_spec(module, *args))
        monkeypatch.setattr(pulp.HiGHS, "available", lambda self: False)
    else:
        monkeypatch.setattr(formulation, "_cbc_path", lambda: None)
        monkeypatch.setattr(pulp.PULP_CBC_CMD, "available", lambda self: False)


@pytest.mark.parametrize("name", ["highs", "cbc", "gurobi"])
def test_a_missing_or_unknown_solver_is_refused_as_pulp_refuses_it(monkeypatch, three_areas, name):
    """A missing or unknown solver gives the same ConfigError (message, key, got, expected, hint) with or without
    PuLP, so the check that skips PuLP changes no message."""
    from simulator.formulation import check_installed, pulp_solver

    if name != "gurobi":
        missing(monkeypatch, name)
    errors = []
    for check in (check_installed, pulp_solver, lambda solver: allocate(three_areas, solver)):
        with pytest.raises(ConfigError) as caught:
            check(name)
        errors.append(caught.value)
    assert len({str(error) for error in errors}) == 1
    assert len({(error.key, error.got, error.expected, error.hint) for error in errors}) == 1
    assert errors[0].key == "allocation.solver" and errors[0].got == name
