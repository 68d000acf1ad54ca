"""Response curves, their linear segments, the exact greedy and the exact water-filling."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_request
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize

from simulator.errors import ConfigError
from simulator.interventions import CurveDraws, curve_draws, greedy_fill, water_fill, worst_share_mean
from simulator.schema import CRIME_TYPES, Intervention


def test_curve_saturates_at_the_maximum_reduction():
    """Unlimited spend averts r × targeted harm; spending the cost scale reaches 1 − 1/e of it."""
    curves = make_request([[1000.0]], [200.0], [0.3]).curves
    assert curves.averted(np.array([[1e9]]))[0, 0] == pytest.approx(300.0)
    assert curves.averted(np.array([[200.0]]))[0, 0] == pytest.approx(300.0 * (1 - np.exp(-1)))


def test_segment_slopes_fall_along_each_curve():
    """Chords of a concave curve have falling slopes, so the LP fills them in order."""
    widths, slopes = make_request([[1000.0, 50.0]], [200.0, 30.0], [0.3, 0.1]).curves.segments(500.0, 10)
    assert np.all(np.diff(slopes, axis=2) < 0)
    assert widths.sum(axis=2) == pytest.approx(np.full((1, 2), 500.0))


def test_segments_meet_the_curve_at_breakpoints():
    """Summing the chords up to a breakpoint gives the curve's value there."""
    curves = make_request([[1000.0]], [200.0], [0.3]).curves
    widths, slopes = curves.segments(400.0, 4)
    assert (widths * slopes)[0, 0, :2].sum() == pytest.approx(curves.averted(np.array([[200.0]]))[0, 0])


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


def measure(crime_types: tuple[str, ...], reduction: float = 0.2) -> Intervention:
    """A catalogue entry for the curve-draw tests."""
    return Intervention(
        name="Measure",
        crime_types=crime_types,
        max_reduction=reduction,
        cost_scale_gbp_per_1000_residents=1000.0,
        evidence="test",
        source="test",
        confidence="assumption",
    )


def test_curve_draws_sum_weighted_records_over_each_interventions_crime_types():
    """A draw's targeted harm is Σ records × weight over the crime types the intervention targets; its scale is scaled by the cost factor."""
    curves = make_request([[1.0, 1.0], [1.0, 1.0]], [[100.0, 200.0], [300.0, 400.0]], [0.2, 0.1]).curves
    catalogue = {"measure_0": measure(("Burglary", "Robbery")), "measure_1": measure(("Burglary",))}
    records = np.zeros((2, 2, len(CRIME_TYPES)))
    burglary, robbery = CRIME_TYPES.index("Burglary"), CRIME_TYPES.index("Robbery")
    records[:, :, burglary] = [[10.0, 20.0], [30.0, 40.0]]
    records[:, :, robbery] = 5.0
    weights = np.ones((2, len(CRIME_TYPES)))
    weights[1, burglary] = 2.0
    draws = curve_draws(curves, catalogue, records, weights, np.array([[0.2, 0.1], [0.3, 0.05]]), np.array([[1.0, 2.0], [0.5, 1.0]]))
    assert draws.targeted_harm[0].tolist() == [[15.0, 10.0], [25.0, 20.0]]
    assert draws.targeted_harm[1].tolist() == [[65.0, 60.0], [85.0, 80.0]]
    assert draws.scale[0].tolist() == [[100.0, 400.0], [300.0, 800.0]]
    assert draws.scale[1].tolist() == [[50.0, 200.0], [150.0, 400.0]]


def test_curve_draws_avert_what_each_draws_curves_avert():
    """Harm averted per draw equals the draw's own `Curves.averted`, summed; per area likewise."""
    rng = np.random.default_rng(3)
    curves = make_request(rng.uniform(10, 1000, (3, 2)), rng.uniform(10, 100, (3, 2)), [0.2, 0.3]).curves
    draws = CurveDraws(
        rng.uniform(10, 1000, (4, 3, 2)), rng.uniform(10, 100, (4, 3, 2)), rng.uniform(0.1, 0.4, (4, 2)), curves.codes, curves.interventions
    )
    amounts = rng.uniform(0, 200, (3, 2))
    expected = [draws.draw(d).averted(amounts) for d in range(4)]
    assert draws.averted(amounts) == pytest.approx([value.sum() for value in expected])
    assert draws.averted_by_area(amounts) == pytest.approx(np.array([value.sum(axis=1) for value in expected]))


def test_point_curves_as_one_draw_avert_what_the_curves_avert():
    """`CurveDraws.of` repeats the point curves, so every draw averts what the point curves do."""
    curves = make_request([[1000.0, 50.0]], [200.0, 30.0], [0.3, 0.1]).curves
    draws = CurveDraws.of(curves, 3)
    assert draws.averted(np.array([[100.0, 20.0]])) == pytest.approx([curves.averted(np.array([[100.0, 20.0]])).sum()] * 3)


def test_worst_share_mean_weights_the_boundary_draw_by_its_fraction():
    """With share × N = 1.2 the lowest value counts in full and the next with weight 0.2, over 1.2."""
    assert worst_share_mean(np.array([4.0, 2.0, 1.0, 3.0]), 0.3) == pytest.approx((1.0 + 0.2 * 2.0) / 1.2)


def test_worst_share_mean_of_all_draws_is_the_mean():
    """Share 1 is the plain mean, and a whole number of draws is their plain mean."""
    values = np.array([5.0, 1.0, 3.0, 7.0, 9.0])
    assert worst_share_mean(values, 1.0) == pytest.approx(5.0)
    assert worst_share_mean(values, 0.4) == pytest.approx(2.0)


@given(arrays(float, st.integers(1, 30), elements=st.floats(-1e4, 1e4)), st.floats(0.01, 1.0))
def test_worst_share_mean_is_rockafellar_uryasevs_maximum(values, share):
    """It equals max_t t − Σ max(t − v, 0) / (share × N), the form the robust plan's LP maximises (the maximum is at a value)."""
    candidates = [t - np.maximum(t - values, 0.0).sum() / (share * len(values)) for t in values]
    assert worst_share_mean(values, share) == pytest.approx(max(candidates), rel=1e-9, abs=1e-7)


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_worst_share_mean_refuses_a_share_outside_0_to_1(share):
    """A share of draws must be in (0, 1]."""
    with pytest.raises(ConfigError) as caught:
        worst_share_mean(np.ones(3), share)
    assert caught.value.key == "uncertainty.tail_share" and caught.value.got == share
