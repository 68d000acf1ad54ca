"""The exact fills: the greedy over linear segments and the water-filling on the exact curves."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_request
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize

from simulator.filling import greedy_fill, water_fill, water_fill_nested


def test_greedy_respects_budget_and_area_caps():
    """The greedy never spends beyond the budget or an area's cap."""
    request = make_request([[100.0, 80.0], [90.0, 70.0]], [50.0, 50.0], [0.3, 0.3], budget=150.0)
    widths, slopes = request.curves.segments(150.0, 8)
    amounts = greedy_fill(widths, slopes, 150.0, np.array([60.0, 1e9]))
    assert amounts.sum() == pytest.approx(150.0)
    assert amounts[0].sum() == pytest.approx(60.0)


def test_greedy_skips_unusable_cells():
    """Cells marked unusable get nothing however steep their curve."""
    request = make_request([[1000.0], [10.0]], [50.0], [0.3], budget=40.0)
    widths, slopes = request.curves.segments(40.0, 4)
    amounts = greedy_fill(widths, slopes, 40.0, np.array([1e9, 1e9]), np.array([[False], [True]]))
    assert amounts[0, 0] == 0.0 and amounts[1, 0] == pytest.approx(40.0)


@st.composite
def bounded_fills(draw):
    """A small exact-curve problem: 1-3 bids of one area each, 1-2 interventions, bounds and a budget that fit."""
    areas = draw(st.integers(1, 3))
    items = draw(st.integers(1, 2))
    harm = draw(arrays(float, (areas, items), elements=st.floats(1.0, 1_000.0)))
    scale = draw(arrays(float, (areas, items), elements=st.floats(10.0, 500.0)))
    reductions = draw(arrays(float, items, elements=st.floats(0.05, 0.5)))
    upper = draw(arrays(float, areas, elements=st.floats(1.0, 500.0)))
    lower = upper * draw(arrays(float, areas, elements=st.sampled_from([0.0, 0.0, 0.3, 0.9, 1.0])))
    budget = lower.sum() + draw(st.floats(0.0, 1_500.0))
    request = make_request(harm, scale, reductions)
    return request.curves, lower, upper, budget


def fill(curves, lower, upper, budget):
    """Water-fill with each area its own bid and every cell usable."""
    usable = np.ones(curves.scale.values.shape, dtype=bool)
    return water_fill(curves, usable, np.arange(len(lower)), lower, upper, budget)


def scipy_optimum(curves, lower, upper, budget) -> float:
    """The best harm averted SLSQP finds from a few starting points (a reference, not the method)."""
    shape = curves.scale.values.shape
    size = shape[0] * shape[1]
    constraints = [{"type": "ineq", "fun": lambda x: budget - x.sum()}]
    for bid in range(shape[0]):
        constraints.append({"type": "ineq", "fun": lambda x, bid=bid: x.reshape(shape)[bid].sum() - lower[bid]})
        constraints.append({"type": "ineq", "fun": lambda x, bid=bid: upper[bid] - x.reshape(shape)[bid].sum()})
    slopes_at_zero = (curves.ceilings() / curves.scale.values).ravel()

    def gradient(x):
        return -slopes_at_zero * np.exp(-x / curves.scale.values.ravel())

    best = -np.inf
    starts = [np.repeat(lower / shape[1], shape[1]), np.repeat((lower + upper) / (2 * shape[1]), shape[1])]
    for start in starts:
        found = minimize(
            lambda x: -curves.averted(x.reshape(shape)).sum(),
            start,
            jac=gradient,
            method="SLSQP",
            bounds=[(0.0, None)] * size,
            constraints=constraints,
            options={"ftol": 1e-12, "maxiter": 500},
        )
        if found.success and np.all([c["fun"](found.x) >= -1e-6 for c in constraints]):
            best = max(best, -found.fun)
    return best


@settings(max_examples=60)
@given(bounded_fills())
def test_water_fill_equals_the_scipy_optimum(problem):
    """On small instances the water-filling reaches SLSQP's optimum and never falls short of it."""
    curves, lower, upper, budget = problem
    amounts, _ = fill(curves, lower, upper, budget)
    reference = scipy_optimum(curves, lower, upper, budget)
    assume(np.isfinite(reference))
    value = curves.averted(amounts).sum()
    assert value >= reference - 1e-9 * max(1.0, reference)
    assert value == pytest.approx(reference, rel=1e-5, abs=1e-6)


@settings(max_examples=100)
@given(bounded_fills())
def test_water_fill_keeps_bounds_and_budget(problem):
    """Each bid stays within its bounds and the total within the budget."""
    curves, lower, upper, budget = problem
    amounts, _ = fill(curves, lower, upper, budget)
    per_bid = amounts.sum(axis=1)
    assert np.all(amounts >= 0.0)
    assert amounts.sum() <= budget * (1 + 1e-12) + 1e-9
    assert np.all(per_bid >= lower * (1 - 1e-9) - 1e-9) and np.all(per_bid <= upper * (1 + 1e-9) + 1e-9)


@settings(max_examples=100)
@given(bounded_fills())
def test_water_fill_satisfies_kkt(problem):
    """Spending cells of a bid share one marginal value λ_b, idle cells start below it; bids off their bounds share the budget's λ."""
    curves, lower, upper, budget = problem
    amounts, price = fill(curves, lower, upper, budget)
    ceilings, scale = curves.ceilings(), curves.scale.values
    marginal = ceilings / scale * np.exp(-amounts / scale)
    per_bid = amounts.sum(axis=1)
    binds = upper.sum() > budget
    for bid in range(len(lower)):
        spending = amounts[bid] > 1e-9 * max(1.0, per_bid[bid])
        if not spending.any():
            continue
        level = marginal[bid][spending].max()
        np.testing.assert_allclose(marginal[bid][spending], level, rtol=1e-6)
        assert np.all(marginal[bid][~spending] <= level * (1 + 1e-6))
        at_lower = per_bid[bid] <= lower[bid] * (1 + 1e-9) + 1e-9
        at_upper = per_bid[bid] >= upper[bid] * (1 - 1e-9) - 1e-9
        if not binds:
            assert at_upper and price == 0.0
        elif not at_lower and not at_upper:
            assert level == pytest.approx(price, rel=1e-6)
        elif at_upper and not at_lower:
            assert level >= price * (1 - 1e-6)
        elif at_lower and not at_upper:
            assert level <= price * (1 + 1e-6)


def test_water_fill_gives_every_bid_its_upper_bound_when_they_fit():
    """Bounds that add up to less than the budget are all reached, and the budget's marginal value is 0."""
    curves = make_request([[100.0, 50.0], [80.0, 20.0]], [[10.0, 20.0], [10.0, 10.0]], [0.3, 0.2]).curves
    amounts, price = fill(curves, np.zeros(2), np.array([30.0, 40.0]), 100.0)
    np.testing.assert_allclose(amounts.sum(axis=1), [30.0, 40.0])
    assert price == 0.0


def test_water_fill_price_is_the_marginal_value_of_the_budget():
    """One more £ of budget averts about the returned λ more days on the exact curves."""
    curves = make_request([[100.0, 50.0], [80.0, 20.0]], [[10.0, 20.0], [10.0, 10.0]], [0.3, 0.2]).curves
    lower, upper = np.zeros(2), np.array([60.0, 60.0])
    amounts, price = fill(curves, lower, upper, 50.0)
    more, _ = fill(curves, lower, upper, 50.01)
    gain = (curves.averted(more).sum() - curves.averted(amounts).sum()) / 0.01
    assert gain == pytest.approx(price, rel=1e-3)


def test_water_fill_spends_a_single_cell_at_its_price():
    """One cell alone: x = s·ln(A / (s·λ)), i.e. λ = A/s · exp(−x/s), with the whole budget spent."""
    curves = make_request([[1000.0]], [200.0], [0.3]).curves
    amounts, price = fill(curves, np.zeros(1), np.array([1e9]), 150.0)
    assert amounts[0, 0] == pytest.approx(150.0)
    assert price == pytest.approx(300.0 / 200.0 * np.exp(-150.0 / 200.0))


def test_water_fill_leaves_unfunded_bids_and_unusable_cells_at_zero():
    """A bid with both bounds at 0 and a cell marked unusable receive nothing."""
    curves = make_request([[1000.0, 900.0], [5000.0, 10.0]], [50.0], [0.3, 0.3]).curves
    usable = np.array([[True, False], [True, True]])
    amounts, _ = water_fill(curves, usable, np.arange(2), np.zeros(2), np.array([100.0, 0.0]), 80.0)
    assert amounts[0, 1] == 0.0 and np.all(amounts[1] == 0.0)
    assert amounts[0, 0] == pytest.approx(80.0)


# Caps on nested groups: bids within forces within the budget


def sequential_greedy(widths, slopes, budget, caps, groups, outer_groups, outer_caps):
    """The greedy one segment at a time, steepest first (the reference for the vectorised fill)."""
    areas, items, count = slopes.shape
    order = np.argsort(-slopes.ravel(), kind="stable")
    amounts = np.zeros((areas, items))
    left, cap_left, outer_left = budget, np.array(caps, float), np.array(outer_caps, float)
    for position in order:
        if slopes.ravel()[position] <= 0 or left <= 0:
            break
        area, item = divmod(int(position) // count, items)
        group = groups[area]
        take = min(widths.ravel()[position], left, cap_left[group], outer_left[outer_groups[group]])
        if take <= 0:
            continue
        amounts[area, item] += take
        left -= take
        cap_left[group] -= take
        outer_left[outer_groups[group]] -= take
    return amounts


@st.composite
def nested_greedy_problems(draw):
    """1-6 areas × 1-2 interventions in up to 3 bids in up to 2 outer groups, with caps at every level."""
    areas = draw(st.integers(1, 6))
    items = draw(st.integers(1, 2))
    request = make_request(
        draw(arrays(float, (areas, items), elements=st.floats(1.0, 1_000.0))),
        draw(arrays(float, (areas, items), elements=st.floats(10.0, 500.0))),
        draw(arrays(float, items, elements=st.floats(0.05, 0.5))),
    )
    widths, slopes = request.curves.segments(400.0, 4)
    groups = np.array(draw(st.lists(st.integers(0, 2), min_size=areas, max_size=areas)))
    outer = np.array(draw(st.lists(st.integers(0, 1), min_size=3, max_size=3)))
    caps = np.array(draw(st.lists(st.floats(0.0, 600.0), min_size=3, max_size=3)))
    outer_caps = np.array(draw(st.lists(st.floats(0.0, 800.0), min_size=2, max_size=2)))
    return widths, slopes, draw(st.floats(0.0, 2_000.0)), caps, groups, outer, outer_caps


@settings(max_examples=100)
@given(nested_greedy_problems())
def test_vectorised_greedy_equals_the_greedy_one_segment_at_a_time(problem):
    """The one-sort greedy fills exactly what filling the steepest segment first, one at a time, fills under nested caps."""
    widths, slopes, budget, caps, groups, outer, outer_caps = problem
    amounts = greedy_fill(widths, slopes, budget, caps, cap_groups=groups, outer_groups=outer, outer_caps_gbp=outer_caps)
    np.testing.assert_allclose(amounts, sequential_greedy(widths, slopes, budget, caps, groups, outer, outer_caps), rtol=1e-9, atol=1e-9)


def test_greedy_outer_cap_limits_its_groups_together():
    """Two areas of one outer group capped at £50 together take £50 between them, under a £150 budget."""
    request = make_request([[100.0], [90.0]], [50.0], [0.3], budget=150.0)
    widths, slopes = request.curves.segments(150.0, 8)
    amounts = greedy_fill(widths, slopes, 150.0, np.array([1e9, 1e9]), outer_groups=np.array([0, 0]), outer_caps_gbp=np.array([50.0]))
    assert amounts.sum() == pytest.approx(50.0)


@st.composite
def nested_fills(draw):
    """An exact-curve problem with 2-4 bids of one area each in up to 2 groups: bounds, group caps and a budget that fit."""
    curves, lower, upper, budget = draw(bounded_fills())
    bids = len(lower)
    groups = np.array(draw(st.lists(st.integers(0, 1), min_size=bids, max_size=bids)))
    floors = np.bincount(groups, weights=lower, minlength=2)
    caps = floors + np.array(draw(st.lists(st.floats(0.0, 600.0), min_size=2, max_size=2)))
    return curves, lower, upper, budget, groups, caps


def nested_fill(curves, lower, upper, budget, groups, caps):
    usable = np.ones(curves.scale.values.shape, dtype=bool)
    return water_fill_nested(curves, usable, np.arange(len(lower)), lower, upper, budget, groups, caps)


def scipy_nested_optimum(curves, lower, upper, budget, groups, caps) -> float:
    """SLSQP's best with the group caps added (a reference, not the method)."""
    shape = curves.scale.values.shape
    constraints = [{"type": "ineq", "fun": lambda x: budget - x.sum()}]
    for bid in range(shape[0]):
        constraints.append({"type": "ineq", "fun": lambda x, bid=bid: x.reshape(shape)[bid].sum() - lower[bid]})
        constraints.append({"type": "ineq", "fun": lambda x, bid=bid: upper[bid] - x.reshape(shape)[bid].sum()})
    for group in range(len(caps)):
        constraints.append({"type": "ineq", "fun": lambda x, group=group: caps[group] - x.reshape(shape)[groups == group].sum()})
    best = -np.inf
    for start in (np.repeat(lower / shape[1], shape[1]), np.zeros(shape[0] * shape[1])):
        found = minimize(
            lambda x: -curves.averted(x.reshape(shape)).sum(),
            start,
            method="SLSQP",
            bounds=[(0.0, None)] * (shape[0] * shape[1]),
            constraints=constraints,
            options={"ftol": 1e-12, "maxiter": 500},
        )
        if found.success and np.all([c["fun"](found.x) >= -1e-6 for c in constraints]):
            best = max(best, -found.fun)
    return best


@settings(max_examples=60)
@given(nested_fills())
def test_nested_water_fill_equals_the_scipy_optimum(problem):
    """Under group caps the water-filling reaches SLSQP's optimum and never falls short of it."""
    filled = nested_fill(*problem)
    reference = scipy_nested_optimum(*problem)
    assume(np.isfinite(reference))
    value = problem[0].averted(filled.amounts).sum()
    assert value >= reference - 1e-7 * max(1.0, reference)
    assert value == pytest.approx(reference, rel=1e-5, abs=1e-6)


@settings(max_examples=100)
@given(nested_fills())
def test_nested_water_fill_keeps_every_cap(problem):
    """Each bid within its bounds, each group within its cap, the total within the budget."""
    curves, lower, upper, budget, groups, caps = problem
    per_bid = nested_fill(*problem).amounts.sum(axis=1)
    assert per_bid.sum() <= budget * (1 + 1e-12) + 1e-9
    assert np.all(np.bincount(groups, weights=per_bid, minlength=2) <= caps * (1 + 1e-12) + 1e-9)
    assert np.all(per_bid >= lower * (1 - 1e-9) - 1e-9) and np.all(per_bid <= upper * (1 + 1e-9) + 1e-9)


def test_nested_water_fill_prices_a_binding_group_cap_above_the_budget():
    """Bid 0 alone in a group capped at £30 spends £30 at its own level, above the budget's level the others share."""
    curves = make_request([[1000.0], [300.0], [300.0]], [50.0], [0.3]).curves
    usable = np.ones((3, 1), dtype=bool)
    filled = water_fill_nested(
        curves, usable, np.arange(3), np.zeros(3), np.full(3, 1e9), 100.0, np.array([0, 1, 1]), np.array([30.0, 1e9])
    )
    marginal = curves.ceilings()[:, 0] / 50.0 * np.exp(-filled.amounts[:, 0] / 50.0)
    assert filled.amounts[0, 0] == pytest.approx(30.0)
    assert filled.amounts.sum() == pytest.approx(100.0)
    assert filled.group_capped.tolist() == [True, False]
    assert filled.level == pytest.approx(marginal[1], rel=1e-9)
    assert filled.group_levels[0] == pytest.approx(marginal[0], rel=1e-9)


@st.composite
def clustered_fills(draw):
    """Bids of several areas each, cells repeating values (ties in ln(A/s)), some without harm, bounds and a budget."""
    areas = draw(st.integers(2, 12))
    items = draw(st.integers(1, 3))
    bid_count = draw(st.integers(1, 4))
    harm = draw(arrays(float, (areas, items), elements=st.sampled_from([0.0, 5.0, 40.0, 300.0]) | st.floats(1.0, 1_000.0)))
    scale = draw(arrays(float, (areas, items), elements=st.sampled_from([20.0, 100.0]) | st.floats(10.0, 500.0)))
    reductions = draw(arrays(float, items, elements=st.floats(0.05, 0.3)))
    bids = np.array(draw(st.lists(st.integers(0, bid_count - 1), min_size=areas, max_size=areas)))
    upper = draw(arrays(float, bid_count, elements=st.floats(0.0, 800.0)))
    lower = upper * draw(arrays(float, bid_count, elements=st.sampled_from([0.0, 0.0, 0.3, 1.0])))
    budget = lower.sum() + draw(st.floats(0.0, 3_000.0))
    return make_request(harm, scale, reductions).curves, bids, lower, upper, budget


@settings(max_examples=150)
@given(clustered_fills())
def test_guided_water_level_is_the_bisection_to_the_bit(problem):
    """The water level found with a dozen sums over few cells is the plain bisection's over every cell, to the last bit."""
    from simulator.filling import _guided_level_within, _lowest_level_within, _prepared, _Spends

    curves, bids, lower, upper, budget = problem
    cells, inverse = _prepared(curves, np.ones(curves.scale.values.shape, dtype=bool), bids, len(lower))
    upper = np.where(np.bincount(cells.bid, minlength=len(lower)) > 0, upper, 0.0)
    lower = np.minimum(lower, upper)
    assume(upper.sum() > budget >= lower.sum())
    spends = _Spends(cells.bid, cells.scale, cells.log_slope, lower, upper)
    low, high = float(np.min(inverse.log_prices(upper)[upper > 0])), float(np.max(cells.log_slope))
    plain = _lowest_level_within(lambda level: spends.clamped(level).sum(), low, high, budget)
    assert _guided_level_within(spends, inverse, low, high, budget) == plain


@settings(max_examples=60)
@given(clustered_fills(), st.floats(0.5, 2.0))
def test_water_fill_reuses_its_sorted_cells_without_changing_a_bit(problem, factor):
    """A fill after another on the same cells (other bounds, another budget) equals the same fill from scratch."""
    from simulator import filling

    curves, bids, lower, upper, budget = problem
    usable = np.ones(curves.scale.values.shape, dtype=bool)
    filling.water_fill_prices(curves, usable, bids, lower * factor, upper * factor, budget * factor)
    warm = filling.water_fill_prices(curves, usable, bids, lower, upper, budget)
    filling._RECENT.clear()
    cold = filling.water_fill_prices(curves, usable, bids, lower, upper, budget)
    np.testing.assert_array_equal(warm[0], cold[0])
    assert warm[1] == cold[1]
    np.testing.assert_array_equal(warm[2], cold[2])


@given(
    arrays(float, st.integers(0, 60), elements=st.sampled_from([-1.5, -0.0, 0.0, 0.25, 2.0]) | st.floats(-3.0, 3.0)),
    st.data(),
)
def test_cells_sort_by_bid_then_falling_slope_as_a_lexsort_does(slopes, data):
    """The faster sort keeps ties in cell order, exactly as the stable lexsort."""
    from simulator.filling import _by_bid_then_falling

    bids = np.array(data.draw(st.lists(st.integers(0, 5), min_size=len(slopes), max_size=len(slopes))), dtype=np.int64)
    np.testing.assert_array_equal(_by_bid_then_falling(slopes, bids), np.lexsort((-slopes, bids)))
