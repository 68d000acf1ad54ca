"""The intervention catalogue's response curves, shared by the allocator and the baselines.

Spending x (£) on intervention i in area a averts `r_i · H[a, T_i] · (1 − exp(−x / scale_ai))`
days of harm: at most the fraction r_i of the harm of the crime types it targets, with
diminishing returns. The cost scale grows with the area's population (a bigger area needs more
lights, gates or kits for the same effect). Effects of different interventions are added, which
overstates what overlapping measures achieve together; the scenario check keeps their sum per
crime type at or below 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .arrays import Labelled
from .demand import Demand
from .errors import ConfigError, InternalError
from .schema import CRIME_TYPES, Intervention


@dataclass(frozen=True)
class Curves:
    """Response-curve parameters for every area × intervention of one run."""

    targeted_harm: Labelled
    scale: Labelled
    max_reduction: np.ndarray

    @property
    def codes(self) -> tuple[str, ...]:
        """Area codes, in order."""
        return self.targeted_harm.labels("area")

    @property
    def interventions(self) -> tuple[str, ...]:
        """Intervention ids, in order."""
        return self.targeted_harm.labels("intervention")

    def averted(self, amounts: np.ndarray, targeted_harm: np.ndarray | None = None) -> np.ndarray:
        """Harm averted (days) by spending `amounts` (£, area × intervention) on the exact curve."""
        harm = self.targeted_harm.values if targeted_harm is None else targeted_harm
        return self.max_reduction * harm * -np.expm1(-np.asarray(amounts) / self.scale.values)

    def ceilings(self) -> np.ndarray:
        """r_i · H[a, T_i]: the most each cell can avert (days), which its curve approaches."""
        return self.max_reduction * self.targeted_harm.values

    def segments(self, upper_gbp: float, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Widths (£) and slopes (days per £) of `count` equal chords of each curve on [0, upper].

        The chords lie under the concave curve with falling slopes, so a maximising LP fills them
        in order and stays linear.
        """
        breakpoints = np.linspace(0.0, upper_gbp, count + 1)
        values = self.averted(np.broadcast_to(breakpoints, (*self.scale.values.shape, count + 1)).transpose(2, 0, 1))
        gains = np.diff(values, axis=0).transpose(1, 2, 0)
        widths = np.broadcast_to(np.diff(breakpoints), gains.shape).copy()
        slopes = np.divide(gains, widths, out=np.zeros_like(gains), where=widths > 0)
        return widths, slopes


@dataclass(frozen=True)
class CurveDraws:
    """Response curves per Monte Carlo draw, over the same areas and interventions as one `Curves`.

    Draw d has its own targeted harm H_d (days), cost scales s_d (£) and effects r_d, so spending
    x on cell (a, i) averts r_d,i · H_d[a,i] · (1 − exp(−x / s_d[a,i])) days in that draw.
    """

    targeted_harm: np.ndarray
    scale: np.ndarray
    max_reduction: np.ndarray
    codes: tuple[str, ...]
    interventions: tuple[str, ...]

    def __post_init__(self) -> None:
        harm, scale, reduction = (np.array(values, dtype=float) for values in (self.targeted_harm, self.scale, self.max_reduction))
        draws, areas, items = harm.shape
        if scale.shape != harm.shape or reduction.shape != (draws, items) or (areas, items) != (len(self.codes), len(self.interventions)):
            raise InternalError(f"curve draws: harm {harm.shape}, scale {scale.shape} and effects {reduction.shape} do not line up")
        for name, values in (("targeted_harm", harm), ("scale", scale), ("max_reduction", reduction)):
            values.flags.writeable = False
            object.__setattr__(self, name, values)

    @property
    def count(self) -> int:
        """How many draws there are."""
        return self.targeted_harm.shape[0]

    def ceilings(self) -> np.ndarray:
        """r_d,i · H_d[a,i] (draws × area × intervention): the most each cell can avert in each draw (days)."""
        return self.max_reduction[:, None, :] * self.targeted_harm

    def averted_by_area(self, amounts: np.ndarray) -> np.ndarray:
        """Harm averted (days, draws × area) by `amounts` (£, area × intervention) on each draw's exact curves."""
        return (self.ceilings() * -np.expm1(-np.asarray(amounts, dtype=float)[None] / self.scale)).sum(axis=2)

    def averted(self, amounts: np.ndarray) -> np.ndarray:
        """Total harm averted (days, one per draw) by `amounts` (£, area × intervention) on each draw's exact curves."""
        return self.averted_by_area(amounts).sum(axis=1)

    def draw(self, index: int) -> Curves:
        """One draw's curves, as the allocator takes them."""
        coords = (self.codes, self.interventions)
        return Curves(
            targeted_harm=Labelled(self.targeted_harm[index], ("area", "intervention"), coords, "targeted harm", "days"),
            scale=Labelled(self.scale[index], ("area", "intervention"), coords, "cost scale", "£"),
            max_reduction=self.max_reduction[index].copy(),
        )

    @classmethod
    def of(cls, curves: Curves, count: int = 1) -> CurveDraws:
        """`count` identical draws of the point curves (one draw reproduces the point-estimate problem)."""
        return cls(
            np.repeat(curves.targeted_harm.values[None], count, axis=0),
            np.repeat(curves.scale.values[None], count, axis=0),
            np.repeat(np.asarray(curves.max_reduction, dtype=float)[None], count, axis=0),
            curves.codes,
            curves.interventions,
        )


def curve_draws(
    curves: Curves,
    interventions: dict[str, Intervention],
    future_records: np.ndarray,
    harm_weights: np.ndarray,
    max_reduction: np.ndarray,
    cost_factor: np.ndarray,
) -> CurveDraws:
    """Curves per draw from drawn records (draws × area × crime type, `schema.CRIME_TYPES` order), harm weights (draws ×
    crime type), effects (draws × intervention) and cost factors (draws × intervention).

    A draw's targeted harm is Σ over the intervention's crime types of records × weight; its cost
    scale is the point curves' scale times the draw's cost factor.
    """
    records, weights = np.asarray(future_records, dtype=float), np.asarray(harm_weights, dtype=float)
    reduction, factor = np.asarray(max_reduction, dtype=float), np.asarray(cost_factor, dtype=float)
    draws = records.shape[0]
    expected = {
        "future_records": (records.shape, (draws, len(curves.codes), len(CRIME_TYPES))),
        "harm_weights": (weights.shape, (draws, len(CRIME_TYPES))),
        "max_reduction": (reduction.shape, (draws, len(interventions))),
        "cost_factor": (factor.shape, (draws, len(interventions))),
    }
    for name, (got, wanted) in expected.items():
        if got != wanted:
            raise InternalError(f"curve draws: {name} has shape {got}, expected {wanted}")
    if tuple(interventions) != curves.interventions:
        raise InternalError(f"curve draws: catalogue {tuple(interventions)} is not the curves' {curves.interventions}")
    targets = np.zeros((len(CRIME_TYPES), len(interventions)))
    for column, item in enumerate(interventions.values()):
        targets[[CRIME_TYPES.index(crime) for crime in item.crime_types], column] = 1.0
    harm = np.einsum("dac,dc,ci->dai", records, weights, targets)
    return CurveDraws(harm, curves.scale.values[None] * factor[:, None, :], reduction, curves.codes, curves.interventions)


def worst_share_mean(values: np.ndarray, share: float) -> float:
    """The mean of the worst `share` of `values` (lowest first): the conditional value at risk at level `share`.

    With N values and k = share × N not a whole number, the ⌊k⌋ lowest count in full and the next
    lowest with weight k − ⌊k⌋, all divided by k (Rockafellar and Uryasev's
    max_t t − Σ_d max(t − v_d, 0) / k). The robust plan's linear program maximises exactly this,
    so a plan's worst-share mean there and in any evaluation is the same number. Share 1 is the mean.
    """
    if not 0.0 < share <= 1.0:
        raise ConfigError(
            "the tail share must be a fraction of the draws", key="uncertainty.tail_share", got=share, expected="0 < share ≤ 1"
        )
    ordered = np.sort(np.asarray(values, dtype=float).ravel())
    if ordered.size == 0:
        raise InternalError("the worst-share mean of no values")
    tail = share * ordered.size
    whole = min(int(np.floor(tail)), ordered.size)
    partial = tail - whole
    boundary = ordered[whole] * partial if partial > 0 and whole < ordered.size else 0.0
    return float((ordered[:whole].sum() + boundary) / tail)


def build_curves(demand: Demand, interventions: dict[str, Intervention]) -> Curves:
    """Targeted harm and cost scale per area × intervention for the given catalogue."""
    ids = tuple(interventions)
    targeted = np.column_stack([demand.harm.take("crime_type", item.crime_types).values.sum(axis=1) for item in interventions.values()])
    per_thousand = demand.areas.population.values[:, None] / 1000.0
    scale = per_thousand * np.array([item.cost_scale_gbp_per_1000_residents for item in interventions.values()])[None, :]
    coords = (demand.areas.codes, ids)
    return Curves(
        targeted_harm=Labelled(targeted, ("area", "intervention"), coords, "targeted harm", "days"),
        scale=Labelled(scale, ("area", "intervention"), coords, "cost scale", "£"),
        max_reduction=np.array([item.max_reduction for item in interventions.values()]),
    )


def greedy_fill(
    widths: np.ndarray,
    slopes: np.ndarray,
    budget_gbp: float,
    area_caps_gbp: np.ndarray,
    usable: np.ndarray | None = None,
    cap_groups: np.ndarray | None = None,
) -> np.ndarray:
    """Spend the budget on the steepest segments first, within each cap.

    Exact for a budget plus caps on disjoint groups of areas (each area alone, or clusters such
    as the LSOAs of one district): those limits form a laminar family, over which filling
    segments in falling slope order is optimal (a fractional knapsack per nest). `cap_groups`
    gives each area's group (default: its own), `area_caps_gbp` one cap per group; `usable`
    (area × intervention, bool) excludes cells. The result is £ per area × intervention.
    """
    areas, interventions, count = slopes.shape
    mask = np.ones((areas, interventions), dtype=bool) if usable is None else usable
    flat_slopes = np.where(mask[:, :, None], slopes, 0.0).ravel()
    order = np.argsort(-flat_slopes, kind="stable")
    amounts = np.zeros((areas, interventions))
    remaining_budget = float(budget_gbp)
    remaining_cap = np.array(area_caps_gbp, dtype=float).copy()
    group_of = np.arange(areas) if cap_groups is None else np.asarray(cap_groups)
    flat_widths = widths.ravel()
    for position in order:
        if flat_slopes[position] <= 0.0 or remaining_budget <= 0.0:
            break
        area, intervention = divmod(int(position) // count, interventions)
        group = group_of[area]
        take = min(flat_widths[position], remaining_budget, remaining_cap[group])
        if take <= 0.0:
            continue
        amounts[area, intervention] += take
        remaining_budget -= take
        remaining_cap[group] -= take
    return amounts


def water_fill(
    curves: Curves, usable: np.ndarray, bids: np.ndarray, lower_gbp: np.ndarray, upper_gbp: np.ndarray, budget_gbp: float
) -> tuple[np.ndarray, float]:
    """Spend up to the budget on the exact curves for the most harm averted, each bid within its bounds.

    Bid b (`bids` gives each area's) receives between `lower_gbp[b]` and `upper_gbp[b]`: a bid
    that is not funded has both at 0, a funded one the minimum grant and the grant cap. The
    problem is concave, so the Karush-Kuhn-Tucker conditions decide it. At a price λ (days per
    £) cell (a, i) with ceiling A = r·H and cost scale s spends x = s·ln(A / (s·λ)) where
    A > s·λ, else 0: its marginal value A/s·exp(−x/s) then equals λ. A bid's spend S_b(λ) falls
    as λ rises; each bid takes S_b(λ) clamped to its bounds, at its own price λ_b, and the
    global λ is bisected in log space until the clamped spends add up to the budget. When the
    upper bounds add up to less than the budget, every bid takes its upper bound.

    Returns £ per area × intervention and the budget's marginal value: the days one more £
    would avert (the highest λ_b among bids below their upper bound), 0 when the budget does
    not bind. Bids without a usable cell take nothing; bounds whose lower bounds add up to more
    than the budget are a caller's bug.
    """
    ceilings, scale = curves.ceilings(), curves.scale.values
    live = usable & (ceilings > 0) & (scale > 0)
    areas, interventions = np.nonzero(live)
    bid_count = len(lower_gbp)
    cell_bid = np.asarray(bids)[areas]
    cell_scale = scale[areas, interventions]
    log_slope = np.log(ceilings[areas, interventions]) - np.log(cell_scale)
    has_cells = np.bincount(cell_bid, minlength=bid_count) > 0
    upper = np.where(has_cells, np.asarray(upper_gbp, dtype=float), 0.0)
    lower = np.minimum(np.asarray(lower_gbp, dtype=float), upper)
    amounts = np.zeros(ceilings.shape)
    if lower.sum() > budget_gbp * (1 + 1e-12) + 1e-9:
        raise InternalError(f"minimum spends of £{lower.sum():,.2f} exceed the budget of £{budget_gbp:,.2f}")
    if upper.sum() <= 0.0:
        return amounts, 0.0

    def spend(log_price: float) -> np.ndarray:
        per_cell = cell_scale * np.maximum(log_slope - log_price, 0.0)
        return np.clip(np.bincount(cell_bid, weights=per_cell, minlength=bid_count), lower, upper)

    inverse = _BidInverse(log_slope, cell_scale, cell_bid, bid_count)
    if upper.sum() <= budget_gbp:
        targets, binds = upper, False
    else:
        low = float(np.min(inverse.log_prices(upper)[upper > 0]))
        high = float(np.max(log_slope))
        for _ in range(200):
            middle = 0.5 * (low + high)
            if middle in (low, high):
                break
            if spend(middle).sum() > budget_gbp:
                low = middle
            else:
                high = middle
        targets, binds = spend(high), True
    bid_log_prices = inverse.log_prices(targets)
    amounts[areas, interventions] = cell_scale * np.maximum(log_slope - bid_log_prices[cell_bid], 0.0)
    below_upper = (upper > 0) & (targets < upper * (1 - 1e-12))
    if not binds or not below_upper.any():
        return amounts, 0.0
    return amounts, float(np.exp(np.max(bid_log_prices[below_upper])))


class _BidInverse:
    """Each bid's price for a given spend: S_b is piecewise linear in ln λ, so it inverts exactly.

    With the bid's cells sorted by falling ln(A/s) = l_1 ≥ l_2 ≥ …, while the first k cells
    spend, S_b = Σ_j≤k s_j·(l_j − ln λ). Spends at the breakpoints ln λ = l_k rise with k;
    the target falls between two of them, which fixes k and then ln λ in closed form.
    """

    def __init__(self, log_slope: np.ndarray, scale: np.ndarray, bid: np.ndarray, bid_count: int):
        order = np.lexsort((-log_slope, bid))
        self.bid = bid[order]
        self.bid_count = bid_count
        starts = np.searchsorted(self.bid, np.arange(bid_count))
        self.start = starts
        top = np.full(bid_count, 0.0)
        present = np.bincount(self.bid, minlength=bid_count) > 0
        top[present] = log_slope[order][starts[present]]
        self.top = top
        shifted = log_slope[order] - top[self.bid]
        sorted_scale = scale[order]
        self.cum_scale = _cumsum_by_group(sorted_scale, self.bid, starts)
        self.cum_weighted = _cumsum_by_group(sorted_scale * shifted, self.bid, starts)
        self.at_breakpoint = self.cum_weighted - shifted * self.cum_scale

    def log_prices(self, targets: np.ndarray) -> np.ndarray:
        """ln λ_b at which bid b spends targets[b] (the bid's top ln slope where the target is 0)."""
        active = self.at_breakpoint < targets[self.bid]
        count = np.bincount(self.bid, weights=active, minlength=self.bid_count).astype(int)
        prices = self.top.copy()
        spending = (targets > 0) & (count > 0)
        last = self.start[spending] + count[spending] - 1
        prices[spending] += (self.cum_weighted[last] - targets[spending]) / self.cum_scale[last]
        return prices


def _cumsum_by_group(values: np.ndarray, groups: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sums restarted at each group (values sorted by group, `starts` its first positions)."""
    if len(values) == 0:
        return values.copy()
    total = np.cumsum(values)
    before = np.concatenate([[0.0], total])[starts]
    return total - before[groups]
