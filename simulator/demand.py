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
MIN_TREND_MONTHS = 24
MAX_TREND_FACTOR = 2.0


@dataclass(frozen=True)
class Forecast:
    """How records over the horizon are forecast: the method, its months, and per crime type the
    factor on last period's level and the dispersion (variance ÷ mean) of the counts."""

    method: str
    description: str
    months: tuple[str, ...]
    factors: np.ndarray
    dispersion: np.ndarray

    def as_dict(self) -> dict:
        """The forecast for the manifest."""
        return {
            "method": self.method,
            "description": self.description,
            "months_used": list(self.months),
            "factor_on_level": {crime: round(float(f), 4) for crime, f in zip(CRIME_TYPES, self.factors)},
            "dispersion": {crime: round(float(d), 4) for crime, d in zip(CRIME_TYPES, self.dispersion)},
        }


def forecast_from_history(monthly: Labelled | None, horizon_months: int) -> Forecast:
    """Fit each crime type's force-wide monthly counts and say how far the horizon departs from last period's level.

    With MIN_TREND_MONTHS (two years) or more: a Poisson log-linear trend with month-of-year
    effects, fitted by iteratively reweighted least squares. With less, a trend cannot be told
    apart from the seasons (Kent's Jun 2025 - May 2026 months alone fit violence at ×0.84, which is
    the fall from the summer peak, not a trend), so last period's level stands.
    The forecast total over the horizon, divided by last period's level, scales every area's
    level forecast for that crime type (capped at ×MAX_TREND_FACTOR either way, so a series
    cannot extrapolate wildly); the Pearson dispersion widens the interval where counts vary
    more than Poisson.
    """
    ones = np.ones(len(CRIME_TYPES))
    if monthly is None or monthly.values.shape[2] < MIN_TREND_MONTHS:
        months = monthly.labels("month") if monthly is not None else ()
        why = (
            (
                f" ({len(months)} months of history: a trend and month-of-year effects need {MIN_TREND_MONTHS}, "
                "as a shorter series cannot tell a trend from the seasons)"
            )
            if months
            else ""
        )
        return Forecast("level", FORECAST_METHOD + why, months, ones, ones)
    months = monthly.labels("month")
    series = monthly.values.sum(axis=0)
    count = series.shape[1]
    seasonal = True
    calendar = np.array([int(month[5:]) - 1 for month in months])
    future = (calendar[-1] + 1 + np.arange(horizon_months)) % 12
    time = np.arange(count) - (count - 1) / 2.0
    ahead = np.arange(count, count + horizon_months) - (count - 1) / 2.0
    design, design_ahead = _design(time, calendar, seasonal), _design(ahead, future, seasonal)
    factors, dispersion = ones.copy(), ones.copy()
    for c in range(len(CRIME_TYPES)):
        counts = series[c]
        if counts.sum() <= 0:
            continue
        coefficients = _poisson_fit(design, counts)
        fitted = np.exp(design @ coefficients)
        level = counts.sum() * horizon_months / count
        factors[c] = np.clip(np.exp(design_ahead @ coefficients).sum() / level, 1.0 / MAX_TREND_FACTOR, MAX_TREND_FACTOR)
        freedom = count - design.shape[1]
        if freedom > 0:
            dispersion[c] = max(1.0, float(((counts - fitted) ** 2 / fitted).sum() / freedom))
    method = "trend and month of year"
    description = (
        f"Poisson log-linear {method} fitted to each crime type's force-wide monthly records, {months[0]} to {months[-1]} "
        f"({count} months); the forecast over the next {horizon_months} months ÷ last period's level scales each area's "
        f"level (capped at ×{MAX_TREND_FACTOR:g} either way); the interval is negative binomial with the fitted dispersion"
    )
    return Forecast(method, description, months, factors, dispersion)


def _design(time: np.ndarray, calendar: np.ndarray, seasonal: bool) -> np.ndarray:
    columns = [np.ones(len(time)), time]
    if seasonal:
        columns += [(calendar == month).astype(float) for month in range(1, 12)]
    return np.column_stack(columns)


def _poisson_fit(design: np.ndarray, counts: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Poisson regression coefficients by iteratively reweighted least squares."""
    coefficients = np.zeros(design.shape[1])
    coefficients[0] = np.log(max(counts.mean(), 1e-9))
    for _ in range(iterations):
        eta = design @ coefficients
        mean = np.exp(eta)
        working = eta + (counts - mean) / mean
        weighted = design * mean[:, None]
        updated = np.linalg.lstsq(design.T @ weighted, weighted.T @ working, rcond=None)[0]
        if np.max(np.abs(updated - coefficients)) < 1e-10:
            return updated
        coefficients = updated
    return coefficients


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
    forecast: Forecast | None = None

    @property
    def period_label(self) -> str:
        """The data period in words, e.g. 'Jun 2025 to May 2026', or 'Jan 2024' for one month."""
        start, end = _month(self.areas.period_start), _month(self.areas.period_end)
        return start if start == end else f"{start} to {end}"

    @property
    def harm_by_area(self) -> Labelled:
        """Expected harm per area over the horizon, all crime types (days)."""
        return self.harm.sum("crime_type", name="harm")

    def basket_records(self, crime_types: tuple[str, ...]) -> np.ndarray:
        """Annualised records per area summed over a set of crime types."""
        return self.annual_records.take("crime_type", crime_types).values.sum(axis=1)


def build_demand(areas: Areas, harm_settings: HarmSettings, settings: DemandSettings, shocks: dict[str, Shock] | None = None) -> Demand:
    """Apply the scenario's shocks, forecast records over the horizon and weigh them as harm."""
    records, applied = apply_shocks(areas, shocks or {})
    weights = harm_weights(harm_settings)
    population = areas.population.values[:, None]
    annual = records.with_values(records.values * 12.0 / areas.period_months, name="records per year", unit="records per year")
    forecast = forecast_from_history(areas.monthly, settings.horizon_months)
    expected = annual.with_values(
        annual.values * settings.horizon_months / 12.0 * forecast.factors[None, :], name="expected records", unit="records"
    )
    tail = (1.0 - settings.interval) / 2.0
    low, high = _interval(expected.values, forecast.dispersion, tail)
    lower = expected.with_values(low, name="expected records, lower")
    upper = expected.with_values(high, name="expected records, upper")
    harm_days = harm(expected, weights)
    return Demand(
        areas=areas,
        records=records,
        annual_records=annual,
        rate_per_1000=annual.with_values(
            annual.values / population * 1000.0, name="records per 1,000 residents per year", unit="per 1,000 per year"
        ),
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
        forecast=forecast,
    )


def _interval(mean: np.ndarray, dispersion: np.ndarray, tail: float) -> tuple[np.ndarray, np.ndarray]:
    """Poisson quantiles, or negative binomial ones (variance = dispersion × mean) where dispersion > 1."""
    low, high = stats.poisson.ppf(tail, mean), stats.poisson.ppf(1.0 - tail, mean)
    extra = np.broadcast_to(dispersion[None, :], mean.shape) > 1.0 + 1e-9
    if extra.any():
        phi = np.broadcast_to(dispersion[None, :], mean.shape)[extra]
        size, probability = mean[extra] / (phi - 1.0), 1.0 / phi
        low[extra] = stats.nbinom.ppf(tail, size, probability)
        high[extra] = stats.nbinom.ppf(1.0 - tail, size, probability)
    return np.nan_to_num(low), np.nan_to_num(high)


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
                raise ConfigError(
                    "names an unknown area",
                    key=f"shocks.{shock_id}.areas",
                    got=area,
                    hint=f"did you mean '{close[0]}'?" if close else f"areas are: {', '.join(areas.names)}",
                )
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
    """Seeded draws of harm over the horizon, shape (draws, area, crime type): Poisson, or gamma-Poisson
    (negative binomial) where the fitted dispersion exceeds 1."""
    generator = np.random.default_rng(seed)
    mean = demand.expected.values
    dispersion = demand.forecast.dispersion if demand.forecast is not None else np.ones(mean.shape[1])
    if np.all(dispersion <= 1.0 + 1e-9):
        counts = generator.poisson(mean, size=(draws, *mean.shape))
    else:
        excess = np.broadcast_to(np.maximum(dispersion - 1.0, 1e-9)[None, :], mean.shape)
        rates = np.where(excess > 1e-6, generator.gamma(mean / excess, excess, size=(draws, *mean.shape)), mean)
        counts = generator.poisson(rates)
    return counts * demand.weights.weights.values[None, None, :]


def _month(text: str) -> str:
    year, month = text.split("-")
    names = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    return f"{names[int(month) - 1]} {year}"
