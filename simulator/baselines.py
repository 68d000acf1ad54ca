"""Simple splits a panel might propose instead of the optimiser, scored on the same response curves.

Each baseline divides the money between eligible areas by a simple key (equal shares, residents,
or harm in the round's crime basket), caps each area at the grant limit and passes what a cap
cuts off to the others. Where the round limits bids, the eligible areas with the most basket
harm are funded. Inside an area the money is split between interventions in the best way, so
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
    if request.max_areas and funded.sum() > request.max_areas:
        ranked = [area for area in np.argsort(-basket_harm, kind="stable") if funded[area]]
        funded[:] = False
        funded[ranked[: request.max_areas]] = True
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
    per_area = split_with_caps(weights, request.spendable_gbp, request.max_grant_gbp)
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
