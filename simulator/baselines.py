"""Simple splits a panel might propose instead of the optimiser, scored on the same response curves.

Each baseline divides the money between eligible areas by a simple key (equal shares, residents,
or harm in the round's crime basket), caps each bid (an area, or a cluster of areas) at the grant
limit and passes what a cap cuts off to the others. Where the round limits bids, the eligible
bids with the most basket harm are funded. Inside an area the money is split between interventions in the best way, so
the comparison isolates how the money is divided between areas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .allocation import AllocationRequest, SplitTotals
from .arrays import Labelled
from .interventions import greedy_fill

BASELINES = {
    "equal": "equal shares between eligible areas",
    "per_head": "shares in proportion to residents",
    "per_harm": "shares in proportion to harm in the round's crime basket",
}


@dataclass(frozen=True)
class Baseline(SplitTotals):
    """One simple split and the harm it would avert."""

    name: str
    description: str
    amounts: Labelled
    harm_averted: Labelled


def evaluate_baselines(request: AllocationRequest, population: np.ndarray, basket_harm: np.ndarray) -> tuple[Baseline, ...]:
    """The equal, per-head and per-harm splits of the request's budget."""
    funded = request.eligible.copy()
    bids = request.bids()
    eligible_bids = np.bincount(bids, weights=funded, minlength=request.bid_count) > 0
    if request.max_areas and eligible_bids.sum() > request.max_areas:
        bid_harm = np.bincount(bids, weights=np.where(funded, basket_harm, 0.0), minlength=request.bid_count)
        chosen = [bid for bid in np.argsort(-bid_harm, kind="stable") if eligible_bids[bid]][: request.max_areas]
        funded &= np.isin(bids, chosen)
    keys = {"equal": np.ones(len(funded)), "per_head": np.asarray(population, float), "per_harm": np.asarray(basket_harm, float)}
    return tuple(_baseline(request, name, keys[name] * funded) for name in BASELINES)


def split_with_caps(weights: np.ndarray, total: float, cap: float) -> np.ndarray:
    """Divide `total` in proportion to `weights`, no share above `cap`, passing the excess on."""
    shares = np.zeros(len(weights))
    open_areas = weights > 0
    while open_areas.any():
        remaining = total - shares.sum()
        if remaining <= 1e-9:
            break
        proposed = remaining * np.where(open_areas, weights, 0.0) / weights[open_areas].sum()
        over = open_areas & (shares + proposed > cap)
        if not over.any():
            return shares + proposed
        shares[over] = cap
        open_areas &= ~over
    return shares


def _baseline(request: AllocationRequest, name: str, weights: np.ndarray) -> Baseline:
    curves = request.curves
    bids = request.bids()
    bid_weights = np.bincount(bids, weights=weights, minlength=request.bid_count)
    per_bid = split_with_caps(bid_weights, request.spendable_gbp, request.max_grant_gbp)
    share_in_bid = np.divide(weights, bid_weights[bids], out=np.zeros(len(weights)), where=bid_weights[bids] > 0)
    per_area = per_bid[bids] * share_in_bid
    widths, slopes = request.segment_grid()
    usable = request.usable()
    amounts = np.zeros(curves.targeted_harm.values.shape)
    for area in np.nonzero(per_area > 0)[0]:
        amounts[area] = greedy_fill(widths[area:area + 1], slopes[area:area + 1], per_area[area],
                                    np.array([per_area[area]]), usable[area:area + 1])[0]
    coords = (curves.codes, curves.interventions)
    return Baseline(
        name=name,
        description=BASELINES[name],
        amounts=Labelled(amounts, ("area", "intervention"), coords, f"{name} split", "£"),
        harm_averted=Labelled(curves.averted(amounts), ("area", "intervention"), coords, f"{name} harm averted", "days"),
    )
