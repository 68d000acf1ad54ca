"""Hypothesis strategies: random small allocation problems."""

from __future__ import annotations

from dataclasses import replace

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


@st.composite
def constrained_requests(draw, goals: tuple[str, ...] = ("harm",), floors: bool = True):
    """A random small request (1-3 areas × 2 interventions) with a random set of the rule families switched on and a goal.

    Any of: bids as clusters, a force cap, match funding, grant caps per bid, local match funding per bid (some bids
    without), a minimum grant, a bid limit, intervention caps (some infinite), least and most shares, and (with `floors`)
    equity floors on basket harm or equal shares. Least-cost targets are a fraction of the harm the budget could avert at
    most, so some are out of reach.
    """
    areas = draw(st.integers(1, 3))
    harm = np.array(
        draw(
            st.lists(st.lists(st.sampled_from([0.0, 50.0, 300.0, 1000.0, 2500.0]), min_size=2, max_size=2), min_size=areas, max_size=areas)
        )
    )
    scale = np.array(draw(st.lists(st.lists(st.floats(10.0, 500.0), min_size=2, max_size=2), min_size=areas, max_size=areas)))
    reductions = draw(st.lists(st.floats(0.05, 0.5), min_size=2, max_size=2))
    eligible = draw(st.lists(st.booleans(), min_size=areas, max_size=areas))
    eligible[draw(st.integers(0, areas - 1))] = True
    budget = draw(st.floats(50.0, 2_000.0))
    cap = draw(st.floats(20.0, 2_000.0))
    extra = {}
    if draw(st.booleans()):
        extra["bid_of_area"] = draw(clusters(areas))
    request = make_request(harm, scale, reductions, eligible, budget, cap, segments=8, **extra)
    bids = request.bid_count
    changes = {}
    pick = draw(st.lists(st.booleans(), min_size=10, max_size=10))
    if pick[0]:
        changes["force_cap_gbp"] = budget * draw(st.floats(0.3, 1.5))
    if pick[1]:
        changes["match_funding_rate"] = draw(st.floats(0.1, 1.0))
        changes["match_funding_available_gbp"] = budget * changes["match_funding_rate"] * draw(st.floats(0.2, 1.2))
    if pick[2]:
        changes["grant_caps_gbp"] = np.array(draw(st.lists(st.floats(20.0, 2_000.0), min_size=bids, max_size=bids)))
    if pick[3]:
        changes.setdefault("match_funding_rate", draw(st.floats(0.1, 1.0)))
        local = st.one_of(st.just(np.inf), st.floats(5.0, 1_000.0))
        changes["local_match_gbp"] = np.array(draw(st.lists(local, min_size=bids, max_size=bids)))
    if pick[4]:
        changes["minimum_grant_gbp"] = draw(st.floats(0.05, 0.8)) * min(cap, budget)
    if pick[5]:
        changes["max_bids"] = draw(st.integers(1, bids))
    if pick[6]:
        changes["intervention_caps_gbp"] = np.array(
            draw(st.lists(st.one_of(st.just(np.inf), st.floats(10.0, 1_500.0)), min_size=2, max_size=2))
        )
    if pick[7]:
        changes["share_minimum"] = np.array(draw(st.lists(st.floats(0.0, 0.5), min_size=2, max_size=2)))
    if pick[8]:
        changes["share_maximum"] = np.array(draw(st.lists(st.floats(0.5, 1.0), min_size=2, max_size=2)))
    if pick[9] and floors:
        changes["equity_floor"] = draw(st.floats(0.05, 0.9))
        changes["equity_basis"] = draw(st.sampled_from(["harm", "equal"]))
        changes["basket_harm"] = np.array(draw(st.lists(st.one_of(st.just(0.0), st.floats(1.0, 1_000.0)), min_size=areas, max_size=areas)))
    goal = draw(st.sampled_from(goals))
    changes["goal"] = goal
    if goal == "blend":
        changes["blend_weight"] = draw(st.floats(0.0, 1.0))
    if goal == "least_cost":
        reachable = float(request.curves.ceilings()[np.asarray(eligible)].sum())
        changes["target_harm_days"] = reachable * draw(st.floats(0.05, 0.6))
    return replace(request, **changes)
