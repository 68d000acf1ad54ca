"""Response curves, their linear segments and their draws."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_request
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator.errors import ConfigError
from simulator.interventions import CurveDraws, curve_draws, worst_share_mean
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
