"""Hypothesis strategies: random small allocation problems."""

from __future__ import annotations

import numpy as np
from conftest import make_request
from hypothesis import strategies as st


@st.composite
def clusters(draw, areas: int) -> list[int]:
    """Each area's bid: up to three clusters, numbered in order of first appearance."""
    groups = draw(st.lists(st.integers(0, 2), min_size=areas, max_size=areas))
    labels = {group: position for position, group in enumerate(dict.fromkeys(groups))}
    return [labels[group] for group in groups]


@st.composite
def requests(draw, bid_limit: bool = False, min_areas: int = 1, max_areas: int = 5, rules: bool = False, caps_only: bool = False):
    """A random request: 1-5 areas, 1-3 interventions, some areas ineligible, any budget and cap.

    With `rules`, each of the round's other rules may be drawn too: a minimum grant (sometimes
    above the cap or the budget), a bid limit, bids as clusters of areas, and match funding
    (none, or at least £1: below £1 the solvers' tolerances are the size of the answer).
    With `caps_only`, bids may be clusters and match funding may limit the grant, but there is no
    minimum grant or bid limit (the case the greedy and the water-filling solve exactly).
    """
    areas = draw(st.integers(min_areas, max_areas))
    items = draw(st.integers(1, 3))
    positive = st.floats(1.0, 10_000.0, allow_nan=False, allow_infinity=False)
    harm = np.array(draw(st.lists(st.lists(positive, min_size=items, max_size=items), min_size=areas, max_size=areas)))
    scale = np.array(draw(st.lists(st.lists(st.floats(10.0, 5_000.0), min_size=items, max_size=items), min_size=areas, max_size=areas)))
    reductions = draw(st.lists(st.floats(0.01, 0.5), min_size=items, max_size=items))
    eligible = draw(st.lists(st.booleans(), min_size=areas, max_size=areas))
    budget = draw(st.floats(10.0, 20_000.0))
    cap = draw(st.floats(5.0, 20_000.0))
    limit = draw(st.integers(1, areas)) if bid_limit else 0
    extra = {}
    if rules or caps_only:
        if draw(st.booleans()):
            extra["bid_of_area"] = draw(clusters(areas))
        if draw(st.booleans()):
            extra["match_funding_rate"] = draw(st.floats(0.05, 1.0))
            extra["match_funding_available"] = draw(st.one_of(st.just(0.0), st.floats(1.0, budget)))
    if rules:
        if not limit and draw(st.booleans()):
            limit = draw(st.integers(1, areas))
        if draw(st.booleans()):
            extra["minimum_grant"] = draw(st.floats(0.0, 1.2)) * min(cap, budget)
    return make_request(harm, scale, reductions, eligible, budget, cap, limit, segments=8, **extra)
