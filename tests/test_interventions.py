"""Response curves, their linear segments, and the exact greedy."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_request
from simulator.interventions import greedy_fill


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
