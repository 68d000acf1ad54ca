"""Simple splits: cap-aware shares, and never better than the optimiser."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from simulator.allocation import allocate
from simulator.baselines import evaluate_baselines, split_with_caps
from strategies import requests


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
    baselines = {b.name: b for b in evaluate_baselines(three_areas, np.ones(3), np.ones(3))}
    np.testing.assert_allclose(baselines["equal"].amounts.values.sum(axis=1), [60.0, 60.0, 0.0])


@settings(max_examples=40, deadline=None)
@given(requests())
def test_no_baseline_beats_the_optimiser(request):
    """Every baseline respects the same rules, so none averts more (on the LP's own segments)."""
    optimum = allocate(request, "highs")
    widths, slopes = request.segment_grid()
    from simulator.allocation import _pwl_value

    for baseline in evaluate_baselines(request, np.ones(len(request.eligible)), request.curves.targeted_harm.values.sum(axis=1)):
        assert baseline.allocated_gbp <= request.budget_gbp + 1e-6
        assert _pwl_value(baseline.amounts.values, widths, slopes) <= optimum.objective_days * (1 + 1e-7) + 1e-7
        assert np.all(baseline.amounts.values.sum(axis=1)[~request.eligible] == 0.0)
