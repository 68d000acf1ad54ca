"""Demand: where the harm is, how concentrated it is, and how much to expect over the funding period.

From an area's records over the data period this module derives annual rates per 1,000
residents, the forecast of records over the funding horizon with an interval, harm (forecast ×
harm weight), each area's share, and the concentration of harm across areas (Lorenz curve, Gini,
share held by the top x % of areas: the "10 % of X cause 63 % of harm" finding applied to places).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .arrays import Labelled
from .errors import ConfigError, InternalError
from .forecast import (
    LEVEL_METHOD,
    MAX_TREND_FACTOR,
    MIN_TREND_MONTHS,
    Forecast,
    fit_forecast,
    forecast_from_history,
    months_after,
    negative_binomial,
)
from .harm import HarmWeights, harm, harm_weights
from .inputs import Areas, month_range
from .schema import CRIME_TYPES, DemandSettings, HarmSettings, Shock

__all__ = [
    "FORECAST_METHOD",
    "MAX_TREND_FACTOR",
    "MIN_TREND_MONTHS",
    "TOP_FRACTIONS",
    "Concentration",
    "Demand",
    "DemandDraws",
    "Forecast",
    "ParentConcentration",
    "apply_shocks",
    "build_demand",
    "concentration",
    "draw_demand",
    "draw_harm",
    "forecast_from_history",
]

TOP_FRACTIONS = (0.1, 0.2, 0.5)
FORECAST_METHOD = LEVEL_METHOD
DRAW_SOURCES = frozenset({"counts", "forecast"})
INTERVAL_SEED = 20_260_601
"""The interval's draws use one fixed seed, so the same inputs always give the same interval."""


@dataclass(frozen=True)
class Concentration:
    """How unevenly harm falls across areas: the Lorenz curve (each area one unit, or weighted by its residents) and its Gini."""

    area_share: np.ndarray
    harm_share: np.ndarray
    gini: float
    ranked_codes: tuple[str, ...]

    def top_share(self, fraction: float) -> float:
        """Share of harm held by the top `fraction` of areas (of residents, when weighted), interpolating along the Lorenz curve."""
        return _top_share(self.area_share, self.harm_share, fraction)


@dataclass(frozen=True)
class ParentConcentration:
    """How unevenly harm falls across the small areas of one parent (the LSOAs of a district)."""

    code: str
    name: str
    areas: int
    gini: float
    top_10_share: float


@dataclass(frozen=True)
class DemandDraws:
    """Seeded draws of demand: what the data period's records might have been, and the records over the horizon."""

    period_records: (
        np.ndarray
    )  # (draws, area, crime type): the data period's records as they might have been, for the rates the rules compare
    future_records: np.ndarray | None  # (draws, area, crime type): records over the horizon; None when only the period is drawn


@dataclass(frozen=True)
class Demand:
    """Records, rates, forecast and harm per area and crime type."""

    areas: Areas
    records: Labelled
    annual_records: Labelled
    rate_per_1000: Labelled
    expected: Labelled
    weights: HarmWeights
    harm: Labelled
    harm_per_1000: Labelled
    concentration: Concentration
    horizon_months: int
    interval: float
    draws: int
    shocks: tuple[str, ...]
    forecast: Forecast | None = None

    @cached_property
    def _expected_interval(self) -> tuple[Labelled, Labelled]:
        """The interval of `expected` (`_predictive_interval`), worked out when a report first asks for it: the rules and
        the allocation never read it."""
        low, high = _predictive_interval(
            self.records.values, self.forecast, self.horizon_months / self.areas.period_months, self.interval, self.draws
        )
        return (
            self.expected.with_values(np.minimum(low, self.expected.values), name="expected records, lower"),
            self.expected.with_values(np.maximum(high, self.expected.values), name="expected records, upper"),
        )

    @property
    def expected_lower(self) -> Labelled:
        """The lower end of the interval of the records expected over the horizon."""
        return self._expected_interval[0]

    @property
    def expected_upper(self) -> Labelled:
        """The upper end of the interval of the records expected over the horizon."""
        return self._expected_interval[1]

    @property
    def period_label(self) -> str:
        """The data period in words, e.g. 'Jun 2025 to May 2026', or 'Jan 2024' for one month."""
        start, end = _month(self.areas.period_start), _month(self.areas.period_end)
        return start if start == end else f"{start} to {end}"

    @property
    def harm_by_area(self) -> Labelled:
        """Expected harm per area over the horizon, all crime types (days)."""
        return self.harm.sum("crime_type", name="harm")

    @property
    def concentration_by_population(self) -> Concentration:
        """Concentration of harm with each area weighted by its residents: areas ranked by harm per head, the x axis the share of residents."""
        return concentration(self.harm_by_area, self.areas.population)

    def concentration_within_parents(self) -> tuple[ParentConcentration, ...]:
        """Concentration of harm among the areas of each parent (each area one unit), parents in order of first appearance."""
        values = self.harm_by_area.values
        parents, first, parent_of = np.unique(np.asarray(self.areas.parents), return_index=True, return_inverse=True)
        members = np.split(np.argsort(parent_of, kind="stable"), np.cumsum(np.bincount(parent_of, minlength=len(parents)))[:-1])
        found = []
        for parent in np.argsort(first):
            within = values[members[parent]]
            area_share, harm_share, gini = _lorenz(within, np.ones(len(within)))[1:]
            name = self.areas.parent_name(int(first[parent]))
            found.append(ParentConcentration(str(parents[parent]), name, len(within), gini, _top_share(area_share, harm_share, 0.1)))
        return tuple(found)

    def basket_records(self, crime_types: tuple[str, ...]) -> np.ndarray:
        """Annualised records per area summed over a set of crime types."""
        return self.annual_records.take("crime_type", crime_types).values.sum(axis=1)


def build_demand(areas: Areas, harm_settings: HarmSettings, settings: DemandSettings, shocks: dict[str, Shock] | None = None) -> Demand:
    """Apply the scenario's shocks, forecast records over the horizon and weigh them as harm.

    The interval is the `interval` share of the predictive distribution of each area's records over the horizon
    (`draw_demand` with every source), matched by its mean and variance (`_predictive_interval`).
    """
    records, applied = apply_shocks(areas, shocks or {})
    weights = harm_weights(harm_settings)
    population = areas.population.values[:, None]
    annual = records.with_values(records.values * 12.0 / areas.period_months, name="records per year", unit="records per year")
    period = month_range(areas.period_start, areas.period_end)
    forecast = fit_forecast(areas.history, period, months_after(areas.period_end, settings.horizon_months))
    expected = annual.with_values(
        expected_records(annual.values, settings.horizon_months, forecast.factors), name="expected records", unit="records"
    )
    harm_days = harm(expected, weights)
    return Demand(
        areas=areas,
        records=records,
        annual_records=annual,
        rate_per_1000=annual.with_values(
            annual.values / population * 1000.0, name="records per 1,000 residents per year", unit="per 1,000 per year"
        ),
        expected=expected,
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


def expected_records(annual: np.ndarray, horizon_months: int, factors: np.ndarray) -> np.ndarray:
    """Records expected over the horizon from records per year (crime types on the last axis): annual × horizon ÷ 12 ×
    the forecast's factor per crime type. The one statement of it: the rules' harm metrics in draws use it too."""
    return annual * horizon_months / 12.0 * factors


def _predictive_interval(
    records: np.ndarray, forecast: Forecast, scale: float, coverage: float, draws: int
) -> tuple[np.ndarray, np.ndarray]:
    """The interval of each area × crime type's records over the horizon: a negative binomial with the mean and variance of `draw_demand`'s draws.

    The moments follow those draws' distribution given the factor draws (seed INTERVAL_SEED; the force-wide swing is sized
    here from the point records, in the draws from each draw's own total, a second-order difference), so the interval
    includes the area's level error, the factor's parameter error, the force-wide swing and the area's own count
    noise without drawing every cell. With φ the area's own dispersion: the level L = φ·Gamma(R/φ + ½) has mean
    R + φ/2 and variance φR + φ²/2; the force-wide swing s has mean 1 and variance v (`_swing_variance`); the
    horizon's records given L, f and s have mean m = L·scale·f·s and variance φ·m.
    """
    factors = forecast.draw(np.random.default_rng(INTERVAL_SEED), draws)
    f = factors.factors
    phi = forecast.dispersion_within()[None, :]
    swing = _swing_variance(factors.dispersion, phi, scale * f * records.sum(axis=0)[None, :])
    level_mean = records + phi / 2.0
    level_square = phi * records + phi**2 / 2.0 + level_mean**2
    mean_f = f.mean(axis=0)[None, :]
    mean = scale * mean_f * level_mean
    square_f = (f**2 * (1.0 + swing)).mean(axis=0)[None, :]
    variance = phi * mean + scale**2 * (square_f * level_square - mean_f**2 * level_mean**2)
    tail = (1.0 - coverage) / 2.0
    low, high = count_quantiles(mean, variance, (tail, 1.0 - tail))
    return low, high


WINDOW_BELOW, WINDOW_ABOVE = 7.5, 4.0
"""Standard deviations below and above the mean over which `count_quantiles` sums probabilities: below, far enough that
what lies beyond is under 1e-12; above, far enough for the upper quantile of most counts (a quantile beyond the window
widens it for that count)."""
WINDOW_POINTS = 2_000_000
"""Counts whose probabilities are summed at once, to bound memory."""


def count_quantiles(mean: np.ndarray, variance: np.ndarray, probabilities: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """Quantiles of counts with the given mean and variance, one array per probability: the least k with P(X ≤ k) ≥ q.

    X is negative binomial (size m²/(v − m), success m/v) where the variance exceeds the mean, else Poisson (a mean
    of 0 gives 0). The probabilities are summed exactly over a window of counts around the mean: the first term from
    log-gamma functions, each next one by the ratio of successive terms, so no statistics library is loaded for it
    (the same quantiles as scipy.stats' `ppf`, which tests hold it to)."""
    mean = np.maximum(np.asarray(mean, dtype=float), 0.0)
    variance = np.broadcast_to(np.asarray(variance, dtype=float), mean.shape)
    pairs, inverse = _distinct_pairs(mean.ravel(), variance.ravel())
    distinct = _distinct_quantiles(pairs[0], pairs[1], probabilities)
    return tuple(values[inverse].reshape(mean.shape) for values in distinct)


def _distinct_pairs(mean: np.ndarray, variance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (mean, variance) pairs (2 × pairs) and each count's pair: counts of one size in one crime type share
    their moments, so a national table's hundreds of thousands of counts have a few hundred distinct ones."""
    if len(mean) == 0:
        return np.zeros((2, 0)), np.zeros(0, dtype=np.intp)
    order = np.lexsort((variance, mean))
    sorted_mean, sorted_variance = mean[order], variance[order]
    first = np.concatenate([[True], (sorted_mean[1:] != sorted_mean[:-1]) | (sorted_variance[1:] != sorted_variance[:-1])])
    inverse = np.empty(len(mean), dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return np.stack([sorted_mean[first], sorted_variance[first]]), inverse


def _distinct_quantiles(mean: np.ndarray, variance: np.ndarray, probabilities: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """`count_quantiles` of flat arrays of moments, widening the window above the mean for counts whose upper quantile lies beyond it."""
    found = tuple(np.zeros(mean.size) for _ in probabilities)
    cells = np.flatnonzero(mean > 0)
    spread = 1.0
    while len(cells):
        if spread > 4.0**8:
            raise InternalError(f"count quantiles: {len(cells)} counts' upper quantile lies beyond every window tried")
        missed = []
        for part in _window_parts(mean[cells], variance[cells], spread):
            chosen = cells[part]
            values, beyond = _quantiles_in_window(mean[chosen], variance[chosen], probabilities, spread)
            for target, value in zip(found, values):
                target[chosen] = value
            missed.append(chosen[beyond])
        cells, spread = np.concatenate(missed), spread * 4.0
    return found


def _window(mean: np.ndarray, variance: np.ndarray, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """The first and last count of each window (`spread` widens the part above the mean)."""
    deviation = np.sqrt(np.maximum(variance, mean))
    low = np.maximum(np.floor(mean - WINDOW_BELOW * deviation - 3.0), 0.0)
    return low, np.ceil(mean + WINDOW_ABOVE * spread * deviation + 5.0 * spread)


def _window_parts(mean: np.ndarray, variance: np.ndarray, spread: float) -> list[np.ndarray]:
    """Positions of the counts in consecutive parts of at most about WINDOW_POINTS summed terms."""
    low, high = _window(mean, variance, spread)
    ends = np.cumsum(high - low + 1.0)
    cuts = np.searchsorted(ends, np.arange(WINDOW_POINTS, ends[-1], WINDOW_POINTS), side="right") if len(ends) else []
    return [part for part in np.split(np.arange(len(mean)), cuts) if len(part)]


def _quantiles_in_window(mean, variance, probabilities, spread: float):
    """`count_quantiles` for positive means over each count's window, and which counts' upper quantile lies beyond it."""
    over = variance > mean * (1.0 + 1e-9)
    variance = np.where(over, variance, mean)
    low, high = _window(mean, variance, spread)
    size = np.where(over, mean**2 / np.where(over, variance - mean, 1.0), 1.0)
    log_fail = np.log(np.where(over, (variance - mean) / variance, 1.0))
    lgamma = np.frompyfunc(math.lgamma, 1, 1)
    first = np.where(
        over,
        lgamma(low + size).astype(float) - lgamma(size).astype(float) + size * np.log(mean / variance) + low * log_fail,
        low * np.log(mean) - mean,
    ) - lgamma(low + 1.0).astype(float)
    widths = (high - low + 1.0).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    cell = np.repeat(np.arange(len(mean)), widths)
    k = np.arange(int(widths.sum()), dtype=float) - (starts - low)[cell]
    step = np.where(over, 0.0, np.log(mean))[cell]
    nb = over[cell]
    step[nb] = np.log(k[nb] + size[cell[nb]]) + log_fail[cell[nb]]
    step -= np.log(k + 1.0)
    cumulative = _running_sums(np.exp(first[cell] + _running_sums(step, cell, starts) - step), cell, starts)
    values = [low + np.bincount(cell, weights=cumulative < probability, minlength=len(mean)) for probability in probabilities]
    return values, values[int(np.argmax(probabilities))] > high


def _running_sums(values: np.ndarray, cell: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sums restarted at each cell's window (values in cell order, `starts` each window's first position)."""
    total = np.cumsum(values)
    return total - np.concatenate([[0.0], total])[starts][cell]


def _swing_variance(force_dispersion: np.ndarray, area_dispersion: np.ndarray, force_total: np.ndarray) -> np.ndarray:
    """The variance of the force-wide swing, a factor (mean 1) on every area's horizon records at once.

    The force total's variance is its dispersion × its mean; the areas' own noise accounts for their dispersion ×
    the same mean, and the rest, (φ_force − φ_area) × mean, is variation the areas share: as a factor on the total
    it has variance (φ_force − φ_area) ÷ the total's mean.
    """
    return np.maximum(force_dispersion - area_dispersion, 0.0) / np.maximum(force_total, 1.0)


def draw_demand(
    demand: Demand, generator: np.random.Generator, draws: int, sources: frozenset[str] = DRAW_SOURCES, horizon: bool = True
) -> DemandDraws:
    """Draws of each area × crime type's records over the data period and the horizon.

    "counts" draws each area's rate from its records over the data period (gamma posterior, Jeffreys prior, scaled by
    the dispersion) and negative binomial counts over the horizon; "forecast" draws the factor on the level (and the
    dispersion) from the forecast's parameter error. With neither, every draw is the point forecast. Without `horizon`
    (all the rules need) only the data period is drawn, the same bytes as in a full draw, and `future_records` is None.
    """
    unknown = sorted(set(sources) - DRAW_SOURCES)
    if unknown:
        raise ConfigError(
            "names an unknown source of uncertainty", key="sources", got=", ".join(unknown), expected=", ".join(sorted(DRAW_SOURCES))
        )
    forecast = demand.forecast or forecast_from_history(None, demand.horizon_months)
    scale = demand.horizon_months / demand.areas.period_months
    period, future = _draws(demand.records.values, forecast, scale, generator, draws, sources, horizon)
    return DemandDraws(period, future)


def _draws(
    records: np.ndarray,
    forecast: Forecast,
    scale: float,
    generator: np.random.Generator,
    draws: int,
    sources: frozenset[str],
    horizon: bool,
):
    """Period and horizon draws (draws, area, crime type) from the period's records, the forecast and the horizon ÷ period length.

    Counts vary in two ways: each area's own noise (the dispersion within the force, `Forecast.dispersion_within`),
    which also gives the level's error, and a force-wide swing shared by every area (`_swing_variance`), the part of
    the force-wide dispersion the areas' own noise does not explain.
    """
    factors = forecast.draw(generator, draws, parameter_error="forecast" in sources)
    phi = forecast.dispersion_within()[None, None, :]
    if "counts" in sources:
        period = phi * generator.gamma(np.broadcast_to(records[None, :, :] / phi + 0.5, (draws, *records.shape)))
    else:
        period = np.broadcast_to(records, (draws, *records.shape)).astype(float)
    if not horizon:
        return period, None
    mean = period * scale * factors.factors[:, None, :]
    if "counts" not in sources:
        return period, mean
    swing = _swing_variance(factors.dispersion, phi[0], mean.sum(axis=1))
    shared = np.where(swing > 0, generator.gamma(1.0 / np.maximum(swing, 1e-12), np.maximum(swing, 1e-12)), 1.0)
    mean *= shared[:, None, :]
    return period, negative_binomial(generator, mean, np.broadcast_to(phi, mean.shape))


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


def concentration(harm_by_area: Labelled, population: Labelled | None = None) -> Concentration:
    """Lorenz curve and Gini coefficient of harm across areas: each area one unit, or weighted by its residents.

    Weighted, the areas are ranked by harm per resident and the curve's x axis is the cumulative share of residents.
    """
    values = harm_by_area.values
    weights = np.ones(len(values)) if population is None else population.take("area", harm_by_area.labels("area")).values
    order, area_share, harm_share, gini = _lorenz(values, weights)
    codes = harm_by_area.labels("area")
    ranked = tuple(codes[i] for i in order[::-1])
    return Concentration(area_share, harm_share, gini, ranked)


def _lorenz(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The areas' order by harm per unit of weight, the Lorenz curve's two axes and its Gini coefficient."""
    order = np.argsort(values / weights, kind="stable")
    ascending = values[order]
    total = ascending.sum()
    area_share = np.concatenate([[0.0], np.cumsum(weights[order]) / weights.sum()])
    harm_share = np.concatenate([[0.0], np.cumsum(ascending) / total]) if total > 0 else area_share.copy()
    gini = float(1.0 - np.sum(np.diff(area_share) * (harm_share[1:] + harm_share[:-1])))
    return order, area_share, harm_share, gini


def _top_share(area_share: np.ndarray, harm_share: np.ndarray, fraction: float) -> float:
    """Share of harm held by the top `fraction` of areas (or residents), interpolating along the Lorenz curve."""
    return float(1.0 - np.interp(1.0 - fraction, area_share, harm_share))


def draw_harm(demand: Demand, draws: int, seed: int) -> np.ndarray:
    """Seeded draws of harm over the horizon, shape (draws, area, crime type): `draw_demand`'s horizon records × harm weight."""
    future = draw_demand(demand, np.random.default_rng(seed), draws).future_records
    return future * demand.weights.weights.values[None, None, :]


def _month(text: str) -> str:
    year, month = text.split("-")
    names = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    return f"{names[int(month) - 1]} {year}"
