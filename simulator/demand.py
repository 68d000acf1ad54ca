"""Demand: where the harm is, how concentrated it is, and how much to expect over the funding period.

From an area's records over the data period this module derives annual rates per 1,000
residents, the forecast of records over the funding horizon with an interval, harm (forecast ×
harm weight), each area's share, and the concentration of harm across areas (Lorenz curve, Gini,
share held by the top x % of areas: the "10 % of X cause 63 % of harm" finding applied to places).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .arrays import Labelled
from .errors import ConfigError
from .harm import HarmWeights, harm, harm_weights
from .inputs import Areas
from .schema import CRIME_TYPES, DemandSettings, HarmSettings, Shock

TOP_FRACTIONS = (0.1, 0.2, 0.5)
FORECAST_METHOD = (
    "last period's level: annualised records × horizon ÷ 12, with a Poisson interval "
    "(annual totals only, so no trend or seasonality is fitted; Poisson understates year-to-year variation)"
)


@dataclass(frozen=True)
class Concentration:
    """How unevenly harm falls across areas."""

    area_share: np.ndarray
    harm_share: np.ndarray
    gini: float
    ranked_codes: tuple[str, ...]

    def top_share(self, fraction: float) -> float:
        """Share of harm held by the top `fraction` of areas, interpolating along the Lorenz curve."""
        return float(1.0 - np.interp(1.0 - fraction, self.area_share, self.harm_share))


@dataclass(frozen=True)
class Demand:
    """Records, rates, forecast and harm per area and crime type."""

    areas: Areas
    records: Labelled
    annual_records: Labelled
    rate_per_1000: Labelled
    expected: Labelled
    expected_lower: Labelled
    expected_upper: Labelled
    weights: HarmWeights
    harm: Labelled
    harm_per_1000: Labelled
    concentration: Concentration
    horizon_months: int
    interval: float
    draws: int
    shocks: tuple[str, ...]

    @property
    def harm_by_area(self) -> Labelled:
        """Expected harm per area over the horizon, all crime types (days)."""
        return self.harm.sum("crime_type", name="harm")

    def basket_records(self, crime_types: tuple[str, ...]) -> np.ndarray:
        """Annualised records per area summed over a set of crime types."""
        return self.annual_records.take("crime_type", crime_types).values.sum(axis=1)


def build_demand(areas: Areas, harm_settings: HarmSettings, settings: DemandSettings,
                 shocks: dict[str, Shock] | None = None) -> Demand:
    """Apply the scenario's shocks, forecast records over the horizon and weigh them as harm."""
    records, applied = apply_shocks(areas, shocks or {})
    weights = harm_weights(harm_settings)
    population = areas.population.values[:, None]
    annual = records.with_values(records.values * 12.0 / areas.period_months, name="records per year", unit="records per year")
    expected = annual.with_values(annual.values * settings.horizon_months / 12.0, name="expected records", unit="records")
    tail = (1.0 - settings.interval) / 2.0
    lower = expected.with_values(stats.poisson.ppf(tail, expected.values), name="expected records, lower")
    upper = expected.with_values(stats.poisson.ppf(1.0 - tail, expected.values), name="expected records, upper")
    harm_days = harm(expected, weights)
    return Demand(
        areas=areas,
        records=records,
        annual_records=annual,
        rate_per_1000=annual.with_values(annual.values / population * 1000.0, name="records per 1,000 residents per year", unit="per 1,000 per year"),
        expected=expected,
        expected_lower=lower,
        expected_upper=upper,
        weights=weights,
        harm=harm_days,
        harm_per_1000=harm_days.with_values(harm_days.values / population * 1000.0, name="harm per 1,000 residents", unit="days per 1,000"),
        concentration=concentration(harm_days.sum("crime_type")),
        horizon_months=settings.horizon_months,
        interval=settings.interval,
        draws=settings.draws,
        shocks=applied,
    )


def apply_shocks(areas: Areas, shocks: dict[str, Shock]) -> tuple[Labelled, tuple[str, ...]]:
    """Records with every enabled shock's multiplier applied, and a sentence per shock."""
    values = areas.counts.values.copy()
    applied = []
    for shock_id, shock in shocks.items():
        if not shock.enabled:
            continue
        rows = []
        for area in shock.areas:
            code = areas.resolve(area)
            if code is None:
                close = difflib.get_close_matches(area, list(areas.names), n=1)
                raise ConfigError("names an unknown area", key=f"shocks.{shock_id}.areas", got=area,
                                  hint=f"did you mean '{close[0]}'?" if close else f"areas are: {', '.join(areas.names)}")
            rows.append(areas.codes.index(code))
        crime_types = shock.crime_types or CRIME_TYPES
        columns = [CRIME_TYPES.index(crime_type) for crime_type in crime_types]
        values[np.ix_(rows, columns)] *= shock.multiplier
        names = ", ".join(areas.names[row] for row in rows)
        scope = "all crime types" if not shock.crime_types else ", ".join(shock.crime_types)
        applied.append(f"{shock_id}: {names}, {scope} × {shock.multiplier:g}" + (f" ({shock.note})" if shock.note else ""))
    return areas.counts.with_values(values), tuple(applied)


def concentration(harm_by_area: Labelled) -> Concentration:
    """Lorenz curve and Gini coefficient of harm across areas (each area one unit)."""
    values = harm_by_area.values
    order = np.argsort(values, kind="stable")
    ascending = values[order]
    total = ascending.sum()
    count = len(values)
    area_share = np.arange(count + 1) / count
    harm_share = np.concatenate([[0.0], np.cumsum(ascending) / total]) if total > 0 else area_share.copy()
    gini = float(1.0 - np.sum(np.diff(area_share) * (harm_share[1:] + harm_share[:-1])))
    codes = harm_by_area.labels("area")
    ranked = tuple(codes[i] for i in order[::-1])
    return Concentration(area_share, harm_share, gini, ranked)


def draw_harm(demand: Demand, draws: int, seed: int) -> np.ndarray:
    """Seeded Poisson draws of harm over the horizon, shape (draws, area, crime type)."""
    generator = np.random.default_rng(seed)
    counts = generator.poisson(demand.expected.values, size=(draws, *demand.expected.values.shape))
    return counts * demand.weights.weights.values[None, None, :]
