"""The intervention catalogue's response curves, shared by the allocator and the baselines.

Spending x (£) on intervention i in area a averts `r_i · L_i · H_i[a] · (1 − exp(−x / scale_ai))`
days of harm, with diminishing returns. H_i[a] = Σ_{c ∈ T_i} reach_i[c] · H[a, c] is the harm the
measure can reach: of each crime type c it targets, only the share reach_i[c] it can touch
(residential burglary within police.uk Burglary, public-space violence within Violence and
sexual offences; a type without a share is reached in full). L_i (`harm_years`) counts a capital
measure's effect over its lifetime, discounted: Σ_{t=0}^{lifetime−1} (1 + ρ)^−t at the appraisal
rate ρ, per year of the forecast horizon; it is 1 for a recurring measure. The cost scale grows
with the area's population (a bigger area needs more lights, gates or kits for the same effect).

Effects of different interventions are added, which overstates what overlapping measures achieve
together. The scenario check keeps Σ_i r_i ≤ 1 over the interventions targeting each crime type,
on the plain effects, not the reached parts (two measures may reach the same residential
burglaries): in any one year the harm averted on crime type c is then at most
Σ_i r_i · reach_i[c] · H[a, c] ≤ Σ_i r_i · H[a, c] ≤ H[a, c], since every reach is at most 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .arrays import Labelled
from .demand import Demand
from .errors import ConfigError, InternalError
from .schema import CRIME_TYPES, AppraisalSettings, Intervention


@dataclass(frozen=True)
class Curves:
    """Response-curve parameters for every area × intervention of one run.

    `targeted_harm` is the harm each intervention can reach (days over the forecast horizon), `years` the
    discounted horizons its effect counts for (`harm_years`; 1 for a recurring measure, and when not given).
    """

    targeted_harm: Labelled
    scale: Labelled
    max_reduction: np.ndarray
    years: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "years", _years_or_ones(self.years, len(self.max_reduction), "curves"))

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
        return self.ceilings(targeted_harm) * -np.expm1(-np.asarray(amounts) / self.scale.values)

    def ceilings(self, targeted_harm: np.ndarray | None = None) -> np.ndarray:
        """r_i · L_i · H_i[a]: the most each cell can avert (days), which its curve approaches; the one statement of it."""
        harm = self.targeted_harm.values if targeted_harm is None else targeted_harm
        return self.max_reduction * self.years * harm

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
    x on cell (a, i) averts r_d,i · L_i · H_d[a,i] · (1 − exp(−x / s_d[a,i])) days in that draw; the
    lifetime factor L_i (`years`, one per intervention) is the point curves' in every draw.
    """

    targeted_harm: np.ndarray
    scale: np.ndarray
    max_reduction: np.ndarray
    codes: tuple[str, ...]
    interventions: tuple[str, ...]
    years: np.ndarray | None = None

    def __post_init__(self) -> None:
        harm, scale, reduction = (np.array(values, dtype=float) for values in (self.targeted_harm, self.scale, self.max_reduction))
        draws, areas, items = harm.shape
        if scale.shape != harm.shape or reduction.shape != (draws, items) or (areas, items) != (len(self.codes), len(self.interventions)):
            raise InternalError(f"curve draws: harm {harm.shape}, scale {scale.shape} and effects {reduction.shape} do not line up")
        years = _years_or_ones(self.years, items, "curve draws")
        for name, values in (("targeted_harm", harm), ("scale", scale), ("max_reduction", reduction), ("years", years)):
            values.flags.writeable = False
            object.__setattr__(self, name, values)

    @property
    def count(self) -> int:
        """How many draws there are."""
        return self.targeted_harm.shape[0]

    def ceilings(self) -> np.ndarray:
        """r_d,i · L_i · H_d[a,i] (draws × area × intervention): the most each cell can avert in each draw (days)."""
        return (self.max_reduction * self.years)[:, None, :] * self.targeted_harm

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
            years=self.years.copy(),
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
            curves.years,
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

    A draw's targeted harm is Σ over the intervention's crime types of reach × records × weight (the
    same reach as `build_curves`); its cost scale is the point curves' scale times the draw's cost
    factor; its lifetime factors are the point curves' `years`.
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
    harm = np.einsum("dac,dc,ci->dai", records, weights, reach_matrix(interventions, CRIME_TYPES))
    return CurveDraws(harm, curves.scale.values[None] * factor[:, None, :], reduction, curves.codes, curves.interventions, curves.years)


def counted_over(curves: Curves, horizon_months: int) -> str:
    """What a harm-averted figure covers, in words: the forecast horizon, and capital measures' lifetimes where any count longer."""
    words = f"next {horizon_months} months"
    return words if np.all(curves.years == 1.0) else words + "; capital measures over their discounted lifetime"


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


def reach_matrix(interventions: dict[str, Intervention], crime_types: tuple[str, ...]) -> np.ndarray:
    """Crime type × intervention: the share of each crime type's harm each intervention reaches (its `reach`, 1 where
    it names no share, 0 for a type it does not target). Harm (area × crime type) @ this matrix is the targeted harm."""
    shares = np.zeros((len(crime_types), len(interventions)))
    for column, item in enumerate(interventions.values()):
        for crime in item.crime_types:
            shares[crime_types.index(crime), column] = item.reach.get(crime, 1.0)
    return shares


def harm_years(lifetime_years: float, discount_rate: float) -> float:
    """Σ_{t=0}^{L−1} (1 + ρ)^−t for a lifetime of L years at discount rate ρ: each year's harm averted, the first undiscounted.

    The closed form (1 − (1 + ρ)^−L) / (1 − (1 + ρ)^−1) gives the sum for whole L and runs smoothly between whole
    numbers for fractional L; at ρ = 0 it is L.
    """
    if lifetime_years < 0 or discount_rate < 0:
        raise InternalError(f"harm years of a lifetime of {lifetime_years} years at a rate of {discount_rate}")
    if discount_rate == 0:
        return float(lifetime_years)
    log_factor = math.log1p(discount_rate)
    return math.expm1(-lifetime_years * log_factor) / math.expm1(-log_factor)


def lifetime_factors(interventions: dict[str, Intervention], appraisal: AppraisalSettings, horizon_months: int = 12) -> np.ndarray:
    """Per intervention, the discounted horizons of harm its effect counts for: 1 for a recurring measure; for a capital
    measure `harm_years` of its lifetime per year of the horizon (× 12 / horizon_months, since the harm is the horizon's)."""
    per_year = 12.0 / horizon_months
    return np.array(
        [
            harm_years(item.lifetime_years, appraisal.discount_rate) * per_year if item.kind == "capital" else 1.0
            for item in interventions.values()
        ]
    )


def build_curves(demand: Demand, interventions: dict[str, Intervention], appraisal: AppraisalSettings) -> Curves:
    """Reached harm, cost scale and lifetime factor per area × intervention for the given catalogue."""
    ids = tuple(interventions)
    targeted = demand.harm.values @ reach_matrix(interventions, demand.harm.labels("crime_type"))
    per_thousand = demand.areas.population.values[:, None] / 1000.0
    scale = per_thousand * np.array([item.cost_scale_gbp_per_1000_residents for item in interventions.values()])[None, :]
    coords = (demand.areas.codes, ids)
    return Curves(
        targeted_harm=Labelled(targeted, ("area", "intervention"), coords, "targeted harm", "days"),
        scale=Labelled(scale, ("area", "intervention"), coords, "cost scale", "£"),
        max_reduction=np.array([item.max_reduction for item in interventions.values()]),
        years=lifetime_factors(interventions, appraisal, demand.horizon_months),
    )


def _years_or_ones(years: np.ndarray | None, count: int, what: str) -> np.ndarray:
    """The lifetime factors as a float array of one per intervention; none given means every measure counts one horizon."""
    values = np.ones(count) if years is None else np.array(years, dtype=float)
    if values.shape != (count,):
        raise InternalError(f"{what}: lifetime factors have shape {values.shape}, expected ({count},)")
    return values
