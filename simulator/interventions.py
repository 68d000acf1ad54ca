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
from .schema import Intervention


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


def build_curves(demand: Demand, interventions: dict[str, Intervention]) -> Curves:
    """Targeted harm and cost scale per area × intervention for the given catalogue."""
    ids = tuple(interventions)
    targeted = np.column_stack([
        demand.harm.take("crime_type", item.crime_types).values.sum(axis=1) for item in interventions.values()
    ])
    per_thousand = demand.areas.population.values[:, None] / 1000.0
    scale = per_thousand * np.array([item.cost_scale_gbp_per_1000_residents for item in interventions.values()])[None, :]
    coords = (demand.areas.codes, ids)
    return Curves(
        targeted_harm=Labelled(targeted, ("area", "intervention"), coords, "targeted harm", "days"),
        scale=Labelled(scale, ("area", "intervention"), coords, "cost scale", "£"),
        max_reduction=np.array([item.max_reduction for item in interventions.values()]),
    )


def greedy_fill(widths: np.ndarray, slopes: np.ndarray, budget_gbp: float,
                area_caps_gbp: np.ndarray, usable: np.ndarray | None = None, cap_groups: np.ndarray | None = None) -> np.ndarray:
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
