"""Exact fills of money on the response curves: the greedy over linear segments and the water-filling on the exact curves.

Both are exact for a budget with caps on nested groups (a laminar family: bids, and forces
holding whole bids): the greedy on segments filled in falling slope order, the water-filling on
the concave curves by their Karush-Kuhn-Tucker conditions, vectorised over cells. The allocator polishes its solutions with them, the baselines
split money inside an area with them, and the robust plans bound their objective with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import InternalError
from .interventions import Curves


def greedy_fill(
    widths: np.ndarray,
    slopes: np.ndarray,
    budget_gbp: float,
    area_caps_gbp: np.ndarray,
    usable: np.ndarray | None = None,
    cap_groups: np.ndarray | None = None,
    outer_groups: np.ndarray | None = None,
    outer_caps_gbp: np.ndarray | None = None,
) -> np.ndarray:
    """Spend the budget on the steepest segments first, within each cap.

    Exact for a budget plus caps on nested groups of areas (each area alone, or clusters such
    as the LSOAs of one district, and optionally groups of those, such as forces): those limits
    form a laminar family, over which filling segments in falling slope order is optimal (a
    fractional knapsack per nest). `cap_groups` gives each area's group (default: its own),
    `area_caps_gbp` one cap per group; `outer_groups` each group's outer group and
    `outer_caps_gbp` one cap per outer group; `usable` (area × intervention, bool) excludes cells.
    The result is £ per area × intervention.

    One sort, no loop over segments: in slope order a segment takes what its group's cap leaves of
    the running total of the group's widths, then what its outer group's cap leaves of the running
    total of those takes, then what the budget leaves. That equals filling one segment at a time,
    since once an outer limit stops a segment it has nothing left for any later one.
    """
    areas, interventions, count = slopes.shape
    mask = np.ones((areas, interventions), dtype=bool) if usable is None else usable
    flat_slopes = np.where(mask[:, :, None], slopes, 0.0).ravel()
    live = np.flatnonzero(flat_slopes > 0.0)
    order = live[np.argsort(-flat_slopes[live], kind="stable")]
    group_of = np.arange(areas) if cap_groups is None else np.asarray(cap_groups)
    group = group_of[order // (count * interventions)]
    takes = _capped_running(np.asarray(widths, dtype=float).ravel()[order], group, np.asarray(area_caps_gbp, dtype=float))
    if outer_groups is not None and outer_caps_gbp is not None:
        takes = _capped_running(takes, np.asarray(outer_groups)[group], np.asarray(outer_caps_gbp, dtype=float))
    spent = np.minimum(np.cumsum(takes), max(float(budget_gbp), 0.0))
    takes = np.diff(spent, prepend=0.0)
    return np.bincount(order // count, weights=takes, minlength=areas * interventions).reshape(areas, interventions)


def _capped_running(widths: np.ndarray, groups: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """What each of a sequence of widths takes when each group may take at most its cap in all, first come first served."""
    if len(widths) == 0:
        return widths.copy()
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    first = np.concatenate([[0], np.flatnonzero(np.diff(sorted_groups)) + 1])
    starts = np.repeat(first, np.diff(np.concatenate([first, [len(widths)]])))
    running = np.cumsum(widths[order])
    before = np.concatenate([[0.0], running])[starts]
    within = running - before
    cap = np.maximum(caps[sorted_groups], 0.0)
    taken = np.minimum(within, cap) - np.minimum(within - widths[order], cap)
    takes = np.empty_like(widths)
    takes[order] = np.maximum(taken, 0.0)
    return takes


def water_fill(
    curves: Curves, usable: np.ndarray, bids: np.ndarray, lower_gbp: np.ndarray, upper_gbp: np.ndarray, budget_gbp: float
) -> tuple[np.ndarray, float]:
    """Spend up to the budget on the exact curves for the most harm averted, each bid within its bounds.

    Bid b (`bids` gives each area's) receives between `lower_gbp[b]` and `upper_gbp[b]`: a bid
    that is not funded has both at 0, a funded one the minimum grant and the grant cap. The
    problem is concave, so the Karush-Kuhn-Tucker conditions decide it. At a price λ (days per
    £) cell (a, i) with ceiling A (curves.ceilings(): effect × reach-weighted harm × lifetime years) and cost scale s spends x = s·ln(A / (s·λ)) where
    A > s·λ, else 0: its marginal value A/s·exp(−x/s) then equals λ. A bid's spend S_b(λ) falls
    as λ rises; each bid takes S_b(λ) clamped to its bounds, at its own price λ_b, and the
    global λ is bisected in log space until the clamped spends add up to the budget. When the
    upper bounds add up to less than the budget, every bid takes its upper bound.

    Returns £ per area × intervention and the budget's marginal value: the days one more £
    would avert (the highest λ_b among bids below their upper bound), 0 when the budget does
    not bind. Bids without a usable cell take nothing; bounds whose lower bounds add up to more
    than the budget are a caller's bug.
    """
    amounts, price, _ = water_fill_prices(curves, usable, bids, lower_gbp, upper_gbp, budget_gbp)
    return amounts, price


def water_fill_prices(
    curves: Curves,
    usable: np.ndarray,
    bids: np.ndarray,
    lower_gbp: np.ndarray,
    upper_gbp: np.ndarray,
    budget_gbp: float,
    nested: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """`water_fill`, and each bid's own price λ_b (days per £; 0 for a bid that spends nothing): the harm its next £
    would avert. A bid at its upper bound has λ_b ≥ the budget's price, one held at its lower bound λ_b ≤ it; the
    difference is what moving that bound by £1 is worth. `nested` (each bid's group, each group's cap) adds caps on
    groups of bids, such as forces (`water_fill_nested`)."""
    if nested is not None:
        filled = water_fill_nested(curves, usable, bids, lower_gbp, upper_gbp, budget_gbp, *nested)
        return filled.amounts, filled.level, filled.bid_prices
    bid_count = len(lower_gbp)
    cells, inverse = _prepared(curves, usable, bids, bid_count)
    ceilings = curves.ceilings()
    has_cells = np.bincount(cells.bid, minlength=bid_count) > 0
    upper = np.where(has_cells, np.asarray(upper_gbp, dtype=float), 0.0)
    lower = np.minimum(np.asarray(lower_gbp, dtype=float), upper)
    amounts = np.zeros(ceilings.shape)
    if lower.sum() > budget_gbp * (1 + 1e-12) + 1e-9:
        raise InternalError(f"minimum spends of £{lower.sum():,.2f} exceed the budget of £{budget_gbp:,.2f}")
    if upper.sum() <= 0.0:
        return amounts, 0.0, np.zeros(bid_count)
    spends = _Spends(cells.bid, cells.scale, cells.log_slope, lower, upper)
    if upper.sum() <= budget_gbp:
        targets, binds = upper, False
    else:
        low = float(np.min(inverse.log_prices(upper)[upper > 0]))
        level = _guided_level_within(spends, inverse, low, float(np.max(cells.log_slope)), budget_gbp)
        targets, binds = spends.clamped(level), True
    bid_log_prices = inverse.log_prices(targets)
    amounts[cells.areas, cells.interventions] = cells.scale * np.maximum(cells.log_slope - bid_log_prices[cells.bid], 0.0)
    bid_prices = np.where(targets > 0, np.exp(bid_log_prices), 0.0)
    below_upper = (upper > 0) & (targets < upper * (1 - 1e-12))
    if not binds or not below_upper.any():
        return amounts, 0.0, bid_prices
    return amounts, float(np.exp(np.max(bid_log_prices[below_upper]))), bid_prices


@dataclass(frozen=True)
class NestedFill:
    """The water-filling under a budget, caps on groups of bids (forces) and each bid's bounds, with every price.

    `level` is the budget's price (0 where it does not bind), `group_levels` each group's own price (its level where
    its cap binds, else the budget's), `bid_prices` each bid's own λ_b; a group cap's price is its level above the
    budget's, a bid bound's price the bid's λ_b above (or below) its group's level."""

    amounts: np.ndarray
    level: float
    group_levels: np.ndarray
    bid_prices: np.ndarray
    group_capped: np.ndarray
    """Whether each group's cap binds (its level above the budget's)."""


def water_fill_nested(
    curves: Curves,
    usable: np.ndarray,
    bids: np.ndarray,
    lower_gbp: np.ndarray,
    upper_gbp: np.ndarray,
    budget_gbp: float,
    group_of_bid: np.ndarray,
    group_caps_gbp: np.ndarray,
) -> NestedFill:
    """The water-filling with caps on nested groups: each bid within its bounds, each group of bids (`group_of_bid`)
    within its cap, all within the budget.

    The conditions nest: at the budget's price λ each group spends T_g(λ) (its bids' clamped spends); a group whose
    T_g(λ) passes its cap spends at its own price λ_g > λ, where T_g(λ_g) equals the cap. Each group's λ_g is found
    first (a bisection in log space over every group at once, cells vectorised), then λ by bisecting the total of the
    groups' spends at max(λ, λ_g). Exact on the curves up to the bisection's float precision; spends never pass a cap."""
    bid_count = len(lower_gbp)
    cells, inverse = _prepared(curves, usable, bids, bid_count)
    areas, interventions, cell_bid, cell_scale, log_slope = cells.areas, cells.interventions, cells.bid, cells.scale, cells.log_slope
    group_of_bid = np.asarray(group_of_bid, dtype=int)
    group_count = len(group_caps_gbp)
    caps = np.asarray(group_caps_gbp, dtype=float)
    has_cells = np.bincount(cell_bid, minlength=bid_count) > 0
    upper = np.where(has_cells, np.asarray(upper_gbp, dtype=float), 0.0)
    lower = np.minimum(np.asarray(lower_gbp, dtype=float), upper)
    amounts = np.zeros(curves.ceilings().shape)
    group_lower = np.bincount(group_of_bid, weights=lower, minlength=group_count)
    if lower.sum() > budget_gbp * (1 + 1e-12) + 1e-9 or np.any(group_lower > caps * (1 + 1e-12) + 1e-9):
        raise InternalError(f"minimum spends of £{lower.sum():,.2f} exceed the budget of £{budget_gbp:,.2f} or a group's cap")
    nothing = np.zeros(group_count)
    if upper.sum() <= 0.0:
        return NestedFill(amounts, 0.0, nothing, np.zeros(bid_count), np.zeros(group_count, dtype=bool))

    def spend(bid_log_price: np.ndarray) -> np.ndarray:
        per_cell = cell_scale * np.maximum(log_slope - bid_log_price[cell_bid], 0.0)
        return np.clip(np.bincount(cell_bid, weights=per_cell, minlength=bid_count), lower, upper)

    top = float(np.max(log_slope))
    bottom = float(np.min(inverse.log_prices(upper)[upper > 0]))
    group_upper = np.bincount(group_of_bid, weights=upper, minlength=group_count)
    binding = group_upper > caps
    floor = np.full(group_count, -np.inf)
    if binding.any():
        low, high = np.full(group_count, bottom), np.full(group_count, top)
        for _ in range(200):
            middle = 0.5 * (low + high)
            settled = (middle == low) | (middle == high) | ~binding
            if settled.all():
                break
            over = np.bincount(group_of_bid, weights=spend(middle[group_of_bid]), minlength=group_count) > caps
            low = np.where(over & ~settled, middle, low)
            high = np.where(~over & ~settled, middle, high)
        floor[binding] = high[binding]

    def nested_spend(log_price: float) -> np.ndarray:
        return spend(np.maximum(log_price, floor)[group_of_bid])

    most = np.minimum(group_upper, caps)
    if most.sum() <= budget_gbp:
        log_level, binds = -np.inf, False
    else:
        log_level, binds = _lowest_level_within(lambda level: nested_spend(level).sum(), bottom, top, budget_gbp), True
    targets = nested_spend(log_level)
    bid_log_prices = inverse.log_prices(targets)
    amounts[areas, interventions] = cell_scale * np.maximum(log_slope - bid_log_prices[cell_bid], 0.0)
    bid_prices = np.where(targets > 0, np.exp(bid_log_prices), 0.0)
    capped = floor > log_level
    below_upper = (upper > 0) & (targets < upper * (1 - 1e-12))
    uncapped = below_upper & ~capped[group_of_bid]
    level = float(np.exp(np.max(bid_log_prices[uncapped]))) if binds and uncapped.any() else 0.0
    highest = np.full(group_count, -np.inf)
    np.maximum.at(highest, group_of_bid[below_upper], bid_log_prices[below_upper])
    own = np.exp(np.where(np.isfinite(highest), highest, np.where(capped, floor, 0.0)))
    group_levels = np.where(capped, np.maximum(own, level), level)
    return NestedFill(amounts, level, group_levels, bid_prices, capped)


def bid_gains_at_prices(
    curves: Curves, usable: np.ndarray, bids: np.ndarray, lower_gbp: np.ndarray, upper_gbp: np.ndarray, prices: np.ndarray
) -> np.ndarray:
    """g_b(λ) = max over L_b ≤ x ≤ U_b of (harm bid b averts with x) − λ·x, for each price λ (prices × bids).

    By Lagrangian duality, no split funding a set of bids S within a budget B averts more than λ·B + Σ_(b in S) g_b(λ)
    for any λ ≥ 0: a bound per funded set that costs one sum, so a search over many sets can skip those whose bound is
    below the best found. At price λ a bid's best spend is its spend S_b(λ) clamped to its bounds; the clamped spend
    is met at the bid's own price (`_BidInverse`), which fixes every cell's amount."""
    bid_count = len(upper_gbp)
    cells, inverse = _prepared(curves, usable, bids, bid_count)
    cell_bid, cell_scale, cell_ceiling, log_slope = cells.bid, cells.scale, cells.ceiling, cells.log_slope
    upper = np.asarray(upper_gbp, dtype=float)
    lower = np.minimum(np.asarray(lower_gbp, dtype=float), upper)
    gains = np.zeros((len(prices), bid_count))
    for row, price in enumerate(np.asarray(prices, dtype=float)):
        free = np.bincount(cell_bid, weights=cell_scale * np.maximum(log_slope - np.log(price), 0.0), minlength=bid_count)
        spend = np.clip(free, lower, upper)
        own = inverse.log_prices(spend)
        amounts = cell_scale * np.maximum(log_slope - own[cell_bid], 0.0)
        averted = np.bincount(cell_bid, weights=cell_ceiling * -np.expm1(-amounts / cell_scale), minlength=bid_count)
        gains[row] = averted - price * spend
    return gains


@dataclass(frozen=True)
class _Cells:
    """The usable cells with harm to avert and a cost scale, flat: area and intervention indices, bid, cost scale s,
    ceiling A and ln(A / s), the steepest marginal value of each cell."""

    areas: np.ndarray
    interventions: np.ndarray
    bid: np.ndarray
    scale: np.ndarray
    ceiling: np.ndarray
    log_slope: np.ndarray


def _live_cells(ceilings: np.ndarray, scale: np.ndarray, usable: np.ndarray, bids: np.ndarray) -> _Cells:
    """The cells a water-filling may spend on (`_Cells`), in area × intervention order: `ceilings` are the curves'."""
    areas, interventions = np.nonzero(usable & (ceilings > 0) & (scale > 0))
    cell_scale = scale[areas, interventions]
    cell_ceiling = ceilings[areas, interventions]
    cells = _Cells(areas, interventions, np.asarray(bids)[areas], cell_scale, cell_ceiling, np.log(cell_ceiling) - np.log(cell_scale))
    for values in vars(cells).values():
        values.setflags(write=False)
    return cells


_RECENT: list[tuple[tuple[np.ndarray, ...], _Cells, _BidInverse]] = []
"""The last few `_prepared` results with copies of what they were built from, most recent first."""

_RECENT_SIZE = 4


def _prepared(curves: Curves, usable: np.ndarray, bids: np.ndarray, bid_count: int) -> tuple[_Cells, _BidInverse]:
    """The live cells and their `_BidInverse`, reused while the curves, usable cells and bids repeat: the re-solves that
    move only a bound or the budget (the rule prices, the budget-response curve) then skip the sort."""
    key = (curves.ceilings(), np.asarray(curves.scale.values), np.asarray(usable), np.asarray(bids))
    recent = tuple(_RECENT)  # whole-list reads and writes only, so fills on several threads at once stay safe
    for entry in recent:
        known, cells, inverse = entry
        if inverse.bid_count == bid_count and all(_same_array(old, new) for old, new in zip(known, key)):
            _RECENT[:] = [entry, *(other for other in recent if other is not entry)]
            return cells, inverse
    cells = _live_cells(*key)
    inverse = _BidInverse(cells.log_slope, cells.scale, cells.bid, bid_count)
    _RECENT[:] = [(tuple(np.array(values, copy=True) for values in key), cells, inverse), *recent[: _RECENT_SIZE - 1]]
    return cells, inverse


def _same_array(old: np.ndarray, new: np.ndarray) -> bool:
    """Same type, shape and values (NaN never equals itself, so an array holding one is never reused)."""
    return old.dtype == new.dtype and old.shape == new.shape and bool(np.array_equal(old, new))


@dataclass(frozen=True)
class _Spends:
    """Each bid's spend at a log price level, summed over its cells in cell order and clamped to its bounds: the total
    the water level is bisected on. `settled` marks bids whose clamped spend is known over the levels asked (held at
    `settled_gbp`); their cells, and cells that spend nothing at those levels, may then be left out."""

    bid: np.ndarray
    scale: np.ndarray
    log_slope: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    settled: np.ndarray | None = None
    settled_gbp: np.ndarray | None = None

    def raw(self, level: float) -> np.ndarray:
        """Each bid's spend before its bounds."""
        per_cell = self.scale * np.maximum(self.log_slope - level, 0.0)
        return np.bincount(self.bid, weights=per_cell, minlength=len(self.lower))

    def clamped(self, level: float, raw: np.ndarray | None = None) -> np.ndarray:
        """Each bid's spend within its bounds."""
        spend = self.raw(level) if raw is None else raw
        if self.settled is not None:
            spend = np.where(self.settled, self.settled_gbp, spend)
        return np.clip(spend, self.lower, self.upper)

    def between(self, low: float, high: float, raw_low: np.ndarray, raw_high: np.ndarray) -> _Spends:
        """The same spends for levels strictly between `low` and `high`, on fewer cells (`raw_low`, `raw_high`: the
        raw spends there). Every cell's spend falls as the level rises, in floating point too (each rounding is
        monotone), so a bid at its upper bound at `high` stays there below it, one at its lower bound at `low` stays
        there above it, and a cell with ln(A / s) ≤ `low` adds exactly 0.0 to its bid's sum."""
        at_upper, at_lower = raw_high >= self.upper, raw_low <= self.lower
        settled = at_upper | at_lower
        keep = ~settled[self.bid] & (self.log_slope > low)
        held = np.where(at_upper, self.upper, self.lower)
        return _Spends(self.bid[keep], self.scale[keep], self.log_slope[keep], self.lower, self.upper, settled, held)


def _guided_level_within(spends: _Spends, inverse: _BidInverse, low: float, high: float, budget_gbp: float) -> float:
    """`_lowest_level_within` on the total of `spends`, to the bit, with a dozen sums over few cells instead of sixty
    over all.

    The total does not rise with the level even in floating point, so a level seen over the budget settles every step
    below it, and one seen within the budget every step above. Two such levels are taken a hair either side of the
    root of the bids' piecewise-linear spends (`_BidInverse.spends`); the bisection then sums only between them, over
    the bids not settled at a bound. Where the two do not straddle the budget (or an end is infinite), every step sums all
    cells."""
    lower, upper = spends.lower, spends.upper
    below, above, narrow = -np.inf, np.inf, spends
    finite = np.isfinite(low) and np.isfinite(high)
    guess = (
        _falling_root(lambda level: float(np.clip(inverse.spends(level), lower, upper).sum()) - budget_gbp, low, high) if finite else 0.0
    )
    for width in (2.0**-40, 2.0**-30, 2.0**-20) if finite and np.isfinite(guess) else ():
        step = width * max(1.0, abs(guess))
        raw_below, raw_above = spends.raw(guess - step), spends.raw(guess + step)
        if spends.clamped(guess - step, raw_below).sum() > budget_gbp and spends.clamped(guess + step, raw_above).sum() <= budget_gbp:
            below, above = guess - step, guess + step
            narrow = spends.between(below, above, raw_below, raw_above)
            break
    for _ in range(200):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if middle <= below or (middle < above and narrow.clamped(middle).sum() > budget_gbp):
            low = middle
        else:
            high = middle
    return high


def _falling_root(excess: Callable[[float], float], low: float, high: float) -> float:
    """Where a non-increasing `excess` crosses 0 in [low, high], by regula falsi in its Illinois form (exact in one step
    on a linear piece; halving the weight of an end that stays keeps both ends moving)."""
    excess_low, excess_high = excess(low), excess(high)
    if excess_low <= 0.0:
        return low
    if excess_high > 0.0:
        return high
    kept = 0
    for _ in range(100):
        middle = low - excess_low * (high - low) / (excess_high - excess_low)
        if not low < middle < high:
            middle = 0.5 * (low + high)
            if middle in (low, high):
                break
        found = excess(middle)
        if found == 0.0:
            return middle
        if found > 0.0:
            low, excess_low = middle, found
            excess_high *= 0.5 if kept == 1 else 1.0
            kept = 1
        else:
            high, excess_high = middle, found
            excess_low *= 0.5 if kept == -1 else 1.0
            kept = -1
        if high - low <= 2.0**-46 * max(1.0, abs(middle)):
            break
    return 0.5 * (low + high)


class _BidInverse:
    """Each bid's price for a given spend: S_b is piecewise linear in ln λ, so it inverts exactly.

    With the bid's cells sorted by falling ln(A/s) = l_1 ≥ l_2 ≥ …, while the first k cells
    spend, S_b = Σ_j≤k s_j·(l_j − ln λ). Spends at the breakpoints ln λ = l_k rise with k;
    the target falls between two of them, which fixes k and then ln λ in closed form.
    """

    def __init__(self, log_slope: np.ndarray, scale: np.ndarray, bid: np.ndarray, bid_count: int):
        order = _by_bid_then_falling(log_slope, bid)
        self.bid = bid[order]
        self.bid_count = bid_count
        starts = np.searchsorted(self.bid, np.arange(bid_count))
        self.start = starts
        top = np.full(bid_count, 0.0)
        present = np.bincount(self.bid, minlength=bid_count) > 0
        sorted_slope = log_slope[order]
        top[present] = sorted_slope[starts[present]]
        self.top = top
        shifted = sorted_slope - top[self.bid]
        sorted_scale = scale[order]
        self.cum_scale = _cumsum_by_group(sorted_scale, self.bid, starts)
        self.cum_weighted = _cumsum_by_group(sorted_scale * shifted, self.bid, starts)
        self.at_breakpoint = self.cum_weighted - shifted * self.cum_scale
        # A key rising through the sorted cells, bid by bid and within a bid as ln(A/s) falls, for `spends`' searches.
        self.highest = float(sorted_slope.max()) if len(order) else 0.0
        self.span = max(self.highest - float(sorted_slope.min()), 1e-300) if len(order) else 1.0
        self.key = self.bid + 0.5 * (self.highest - sorted_slope) / self.span

    def log_prices(self, targets: np.ndarray) -> np.ndarray:
        """ln λ_b at which bid b spends targets[b] (the bid's top ln slope where the target is 0)."""
        active = self.at_breakpoint < targets[self.bid]
        count = np.bincount(self.bid, weights=active, minlength=self.bid_count).astype(int)
        prices = self.top.copy()
        spending = (targets > 0) & (count > 0)
        last = self.start[spending] + count[spending] - 1
        prices[spending] += (self.cum_weighted[last] - targets[spending]) / self.cum_scale[last]
        return prices

    def spends(self, level: float) -> np.ndarray:
        """S_b at the log price `level` for every bid, from the running sums: one search per bid, not a sum over cells
        (a close value for finding the water level, not the cell-order sum that decides it)."""
        if len(self.key) == 0:
            return np.zeros(self.bid_count)
        offset = min(max(0.5 * (self.highest - level) / self.span, -0.25), 0.75)
        count = np.searchsorted(self.key, np.arange(self.bid_count) + offset) - self.start
        last = np.maximum(self.start + count - 1, 0)
        return np.where(count > 0, self.cum_weighted[last] - (level - self.top) * self.cum_scale[last], 0.0)


def _by_bid_then_falling(log_slope: np.ndarray, bid: np.ndarray) -> np.ndarray:
    """The order `np.lexsort((-log_slope, bid))` gives (by bid, then falling ln(A/s), ties in cell order), sooner: an
    unstable sort with its runs of ties put back in cell order, then a stable sort by bid (a radix sort where bids fit
    16 bits)."""
    keys = -log_slope
    if np.isnan(keys).any():
        return np.lexsort((keys, bid))
    order = np.argsort(keys)
    ranked = keys[order]
    tied = ranked[1:] == ranked[:-1]
    if tied.any():
        runs = np.cumsum(np.concatenate([[True], ~tied]))
        inside = np.flatnonzero(np.concatenate([tied, [False]]) | np.concatenate([[False], tied]))
        # Runs already come in order along the sorted positions, so sorting (run, cell) as one integer reorders each run alone.
        order[inside] = np.sort(runs[inside] * len(order) + order[inside]) % len(order)
    small = np.int16 if len(bid) and 0 <= bid.min() and bid.max() <= np.iinfo(np.int16).max else np.int64
    return order[np.argsort(bid[order].astype(small), kind="stable")]


def _cumsum_by_group(values: np.ndarray, groups: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sums restarted at each group (values sorted by group, `starts` its first positions)."""
    if len(values) == 0:
        return values.copy()
    total = np.cumsum(values)
    before = np.concatenate([[0.0], total])[starts]
    return total - before[groups]


def _lowest_level_within(total: Callable[[float], float], low: float, high: float, budget_gbp: float) -> float:
    """The lowest log price level in [low, high] whose spend `total(level)` is within the budget, by bisection to
    float precision (spend falls as the level rises)."""
    for _ in range(200):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if total(middle) > budget_gbp:
            low = middle
        else:
            high = middle
    return high
