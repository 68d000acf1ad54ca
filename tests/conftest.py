"""Shared fixtures: tiny hand-checkable allocation problems and the Kent baseline, run once.

Hypothesis runs under the "ci" profile unless HYPOTHESIS_PROFILE names another: examples are
derived from each test's own code (derandomize) and no example database is read, so every run
tries the same cases and a failure repeats. The "dev" profile explores new random cases
(`HYPOTHESIS_PROFILE=dev .venv/bin/python -m pytest`) and prints the blob to reproduce one.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from simulator.allocation import available_solvers
from simulator.arrays import Labelled
from simulator.constraints import AllocationRequest
from simulator.interventions import Curves

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parent.parent
BASELINE = REPO / "scenarios" / "kent-baseline.toml"


def make_request(
    harm,
    scale,
    reductions,
    eligible=None,
    budget=100.0,
    cap=1e9,
    max_bids=0,
    minimum_grant=0.0,
    segments=16,
    bid_of_area=None,
    match_funding_rate=0.0,
    match_funding_available=None,
) -> AllocationRequest:
    """An allocation request from plain arrays: harm and scale are area × intervention, bids optional clusters."""
    harm = np.asarray(harm, dtype=float)
    scale = np.asarray(scale, dtype=float) * np.ones_like(harm)
    codes = tuple(f"E0{i:07d}" for i in range(harm.shape[0]))
    items = tuple(f"measure_{j}" for j in range(harm.shape[1]))
    curves = Curves(
        targeted_harm=Labelled(harm, ("area", "intervention"), (codes, items), "targeted harm", "days"),
        scale=Labelled(scale, ("area", "intervention"), (codes, items), "cost scale", "£"),
        max_reduction=np.asarray(reductions, dtype=float),
    )
    eligible = np.ones(harm.shape[0], dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    clusters = {}
    if bid_of_area is not None:
        bid_of_area = np.asarray(bid_of_area)
        clusters = {"bid_of_area": bid_of_area, "bid_names": tuple(f"cluster {bid}" for bid in range(int(bid_of_area.max()) + 1))}
    return AllocationRequest(
        curves, eligible, budget, cap, max_bids, minimum_grant, match_funding_rate, match_funding_available, segments=segments, **clusters
    )


@pytest.fixture
def three_areas() -> AllocationRequest:
    """Three areas, two interventions; the third area is not eligible."""
    return make_request(
        harm=[[1000.0, 400.0], [600.0, 900.0], [5000.0, 5000.0]],
        scale=[[50.0, 80.0], [60.0, 40.0], [50.0, 50.0]],
        reductions=[0.3, 0.2],
        eligible=[True, True, False],
        budget=120.0,
        cap=80.0,
    )


@pytest.fixture(params=["highs", "cbc"])
def lp_solver(request) -> str:
    """Each installed LP/MIP solver in turn."""
    if request.param not in available_solvers():
        pytest.skip(f"{request.param} is not installed")
    return request.param


@pytest.fixture(scope="session")
def kent_result():
    """The Kent baseline, run once for the whole session."""
    from simulator import load_scenario, run

    return run(load_scenario(BASELINE))


SCENARIOS = REPO / "scenarios"


@pytest.fixture(scope="session")
def surge_result():
    """The Maidstone violence surge what-if, run once for the whole session."""
    from simulator import load_scenario, run

    return run(load_scenario(SCENARIOS / "kent-maidstone-violence-surge.toml"))


@pytest.fixture(scope="session")
def surge_comparison(kent_result, surge_result):
    """The Kent baseline against the Maidstone surge."""
    from simulator.experiments import comparison_of

    return comparison_of([kent_result, surge_result])


def kent_squares_geojson(codes_and_tiles, offset=(0.1, 51.0), size=0.2) -> dict:
    """A synthetic GeoJSON: one square per area at its tile position (test geometry, not real boundaries)."""
    features = []
    for code, (row, column) in codes_and_tiles.items():
        x, y = offset[0] + column * size, offset[1] + (3 - row) * size * 0.6
        ring = [[x, y], [x + size, y], [x + size, y + size * 0.6], [x, y + size * 0.6], [x, y]]
        features.append(
            {"type": "Feature", "properties": {"LAD24CD": code, "LAD24NM": code}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
        )
    return {"type": "FeatureCollection", "features": features}
