"""Simple splits a panel might propose instead of the optimiser, scored on the same response curves.

Each baseline divides the money that may be spent (the budget, or less where match funding limits
the grant) between bids (an area, or a cluster of areas) by a simple key: equal shares,
residents, or harm in the round's crime basket. Only eligible areas with harm the interventions
target take part. Every split obeys the rules the optimiser obeys, repaired where the simple key
would break them:

- grant cap: a bid's share is capped and what the cap cuts off is passed to the others;
- force cap, where the areas span several forces: a force's bids together are capped the same way;
- bid limit: only the bids with the most basket harm take part;
- minimum grant: while a funded bid's share is below the minimum grant, the bid with the
  smallest key (then the least basket harm) is dropped and its money re-shared; if the minimum
  grant is above the grant cap or the money that may be spent, nothing can be funded;
- equity floors: a bid below its floor is raised to it and the rest re-shared by the key.

Intervention caps and shares are not repaired: a split that breaks one says so (`Baseline.breaches`)
and is not compared under the same rules.

Inside a bid the money follows the key from area to area, and inside an area it is split
between interventions in the best way on the exact curves, so the comparison isolates how the
money is divided between bids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .allocation import SplitTotals
from .arrays import Labelled
from .constraints import AllocationRequest, rule_breaches
from .filling import water_fill

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
    breaches: tuple[str, ...] = ()
    """The rules the split breaks even after repair (intervention caps and shares are not repaired), in words: a baseline
    that breaks one is not compared "under the same rules"."""

    @property
    def same_rules(self) -> bool:
        """Whether the split obeys every rule the optimiser obeys."""
        return not self.breaches


def evaluate_baselines(request: AllocationRequest, population: np.ndarray) -> tuple[Baseline, ...]:
    """The equal, per-head and per-harm splits of the money the request may spend."""
    basket_harm = request.area_harm()
    bids = request.bids()
    in_play_areas = request.usable().any(axis=1)
    area_harm = np.where(in_play_areas, np.asarray(basket_harm, float), 0.0)
    bid_harm = np.bincount(bids, weights=area_harm, minlength=request.bid_count)
    candidates = request.fundable_bids()
    limited = bool(request.max_bids) and candidates.sum() > request.max_bids
    if limited:
        chosen = [bid for bid in np.argsort(-bid_harm, kind="stable") if candidates[bid]][: request.max_bids]
        candidates = np.isin(np.arange(request.bid_count), chosen)
    in_play = in_play_areas & candidates[bids]
    keys = {"equal": np.ones(len(in_play)), "per_head": np.asarray(population, float), "per_harm": np.asarray(basket_harm, float)}
    return tuple(_baseline(request, name, np.where(in_play, keys[name], 0.0), bid_harm, limited) for name in BASELINES)


def split_with_caps(weights: np.ndarray, total: float, cap: float | np.ndarray) -> np.ndarray:
    """Divide `total` in proportion to `weights`, no share above `cap` (one for all, or one per share), passing the excess on."""
    cap = np.broadcast_to(np.asarray(cap, dtype=float), (len(weights),))
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
        shares[over] = cap[over]
        open_areas &= ~over
    return shares


def split_within_groups(
    weights: np.ndarray, total: float, cap: float | np.ndarray, groups: np.ndarray, group_caps: np.ndarray
) -> np.ndarray:
    """`split_with_caps` with caps on groups of shares too (bids within forces): a group whose shares pass its cap gets
    its cap, split among its own shares in proportion, and the excess passes to the other groups."""
    groups = np.asarray(groups, dtype=int)
    group_caps = np.asarray(group_caps, dtype=float)
    closed = np.zeros(len(group_caps), dtype=bool)
    shares = np.zeros(len(weights))
    for _ in range(len(group_caps) + 1):
        open_shares = ~closed[groups]
        proposed = split_with_caps(np.where(open_shares, weights, 0.0), total - shares.sum(), cap)
        over = ~closed & (np.bincount(groups, weights=proposed, minlength=len(group_caps)) > group_caps * (1 + 1e-12))
        if not over.any():
            return shares + proposed
        for group in np.flatnonzero(over):
            inside = groups == group
            shares[inside] = split_with_caps(np.where(inside, weights, 0.0), float(group_caps[group]), cap)[inside]
        closed |= over
    return shares


def split_with_minimum(
    weights: np.ndarray, total: float, cap: float, minimum: float, tie_break: np.ndarray | None = None, nested: tuple | None = None
) -> np.ndarray:
    """`split_with_caps`, then drop bids whose share is below `minimum` (smallest weight first) until none is.

    Ties between equal weights drop the bid with the smaller `tie_break` first (then the later
    bid). Nothing is funded when the minimum is above the cap or the total. `nested` (each bid's group, each group's
    cap) caps groups of bids too, such as forces (`split_within_groups`).
    """
    weights = np.asarray(weights, dtype=float).copy()
    weights[np.broadcast_to(np.asarray(cap, dtype=float), (len(weights),)) < minimum] = 0.0
    if minimum > total or not weights.any():
        return np.zeros(len(weights))
    tie_break = np.zeros(len(weights)) if tie_break is None else np.asarray(tie_break, dtype=float)
    drop_order = [bid for bid in np.lexsort((-np.arange(len(weights)), tie_break, weights)) if weights[bid] > 0]
    for bid in drop_order:
        shares = split_with_caps(weights, total, cap) if nested is None else split_within_groups(weights, total, cap, *nested)
        if not np.any((weights > 0) & (shares < minimum * (1 - 1e-12))):
            return shares
        weights[bid] = 0.0
    return np.zeros(len(weights))


def lift_to_floors(shares: np.ndarray, weights: np.ndarray, floors: np.ndarray, total: float, cap: np.ndarray) -> np.ndarray:
    """Raise each share below its floor to the floor and divide what is left among the others by `weights` (within
    their caps), until no share is below its floor; shares stay as they are where the floors need more than `total`."""
    floors = np.asarray(floors, dtype=float)
    held = np.zeros(len(shares), dtype=bool)
    for _ in range(len(shares) + 1):
        low = ~held & (shares < floors * (1 - 1e-12))
        if not low.any():
            return shares
        held |= low
        left = total - floors[held].sum()
        if left < 0:
            return shares
        shares = np.where(held, floors, split_with_caps(np.where(held, 0.0, weights), left, cap))
    return shares


def _describe(request: AllocationRequest, name: str, limited: bool) -> str:
    """The baseline's rule in words, with the round's rules it was repaired to obey."""
    words = [f"{BASELINES[name]}, capped at the grant limit with the excess passed on"]
    if limited:
        words.append(f"only the {request.max_bids} bids with the most basket harm (the bid limit)")
    if request.minimum_grant_gbp > 0:
        words.append(
            f"a bid whose share is below the £{request.minimum_grant_gbp:,.0f} minimum grant is dropped, "
            f"smallest share first, and its money re-shared"
        )
    if request.equity_floor > 0:
        words.append("a bid below its equity floor is raised to it and the rest re-shared")
    return "; ".join(words)


def _baseline(request: AllocationRequest, name: str, weights: np.ndarray, bid_harm: np.ndarray, limited: bool) -> Baseline:
    curves = request.curves
    bids = request.bids()
    bid_weights = np.bincount(bids, weights=weights, minlength=request.bid_count)
    caps = request.bid_caps()
    per_bid = split_with_minimum(bid_weights, request.spendable_gbp, caps, request.minimum_grant_gbp, bid_harm, request.nested_force_caps())
    if request.equity_floor > 0:
        per_bid = lift_to_floors(per_bid, bid_weights, request.equity_floors_gbp(), request.spendable_gbp, caps)
    share_in_bid = np.divide(weights, bid_weights[bids], out=np.zeros(len(weights)), where=bid_weights[bids] > 0)
    per_area = per_bid[bids] * share_in_bid
    areas = np.arange(len(per_area))
    amounts, _ = water_fill(curves, request.usable(), areas, per_area, per_area, float(per_area.sum()))
    coords = (curves.codes, curves.interventions)
    return Baseline(
        name=name,
        description=_describe(request, name, limited),
        amounts=Labelled(amounts, ("area", "intervention"), coords, f"{name} split", "£"),
        harm_averted=Labelled(curves.averted(amounts), ("area", "intervention"), coords, f"{name} harm averted", "days"),
        breaches=tuple(rule_breaches(request, amounts)),
    )
