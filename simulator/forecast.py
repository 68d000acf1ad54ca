"""Forecast: records over a funding horizon from monthly history, with an interval that covers what it claims.

Each crime type's force-wide monthly records are fitted by a quasi-Poisson log-linear model: a trend
and month-of-year effects when two years of months (every calendar month among them) are at hand,
else a level. The months need not be contiguous: time is the calendar month, so a gap is only absent
rows. A forecast's draws carry three errors: the fitted parameters' (coefficients drawn from their
normal approximation, covariance φ(XᵀWX)⁻¹), the dispersion φ's own (drawn from its scaled inverse χ²
posterior given the Pearson statistic, which matters when it rests on few months), and the count noise
of the future months (negative binomial, variance φ × mean). `check_forecast` holds out each past year
in turn and says how often the interval held the records that came.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .arrays import Labelled
from .errors import DataError
from .inputs import month_runs
from .schema import CRIME_TYPES

MIN_TREND_MONTHS = 24
MAX_TREND_FACTOR = 2.0
MIN_CHECK_MONTHS = 3
TREND = "trend and month of year"
LEVEL = "level"
ALL_CRIME_TYPES = "All crime types"
LEVEL_METHOD = (
    "last period's level: annualised records × horizon ÷ 12; the interval draws each area's rate from its records "
    "(gamma posterior, Jeffreys prior) and Poisson counts over the horizon (annual totals only, so no trend, seasonality "
    "or dispersion is fitted; Poisson understates year-to-year variation)"
)


def month_index(month: str) -> int:
    """A YYYY-MM month as a count of months since January of year 0, so that gaps keep their length."""
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def month_label(index: int) -> str:
    """The YYYY-MM month of a month index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_after(month: str, count: int) -> tuple[str, ...]:
    """The `count` months that follow `month`."""
    start = month_index(month) + 1
    return tuple(month_label(start + step) for step in range(count))


def negative_binomial(generator: np.random.Generator, mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """Counts with the given mean and variance dispersion × mean: gamma-Poisson, or Poisson where the dispersion is at most 1."""
    mean = np.maximum(np.asarray(mean, dtype=float), 0.0)
    excess = np.broadcast_to(np.maximum(np.asarray(dispersion, dtype=float) - 1.0, 0.0), mean.shape)
    mixed = excess > 1e-9
    rates = mean.copy()
    if mixed.any():
        rates[mixed] = generator.gamma(mean[mixed] / excess[mixed], excess[mixed])
    return generator.poisson(rates).astype(float)


@dataclass(frozen=True)
class SeriesFit:
    """A quasi-Poisson log-linear fit of monthly series sharing their months (one series per row of `coefficients`).

    `covariance` is (XᵀWX)⁻¹, the coefficients' covariance per unit of dispersion; `pearson` is each series'
    Pearson χ² on `freedom` degrees of freedom. A series with no records has `active` False and forecasts zero.
    """

    method: str
    reason: str
    months: tuple[str, ...]
    origin: float
    coefficients: np.ndarray
    covariance: np.ndarray
    pearson: np.ndarray
    freedom: int
    active: np.ndarray

    @property
    def dispersion(self) -> np.ndarray:
        """The Pearson dispersion per series (variance ÷ mean), at least 1 (Poisson); 1 where no degree of freedom is left."""
        if self.freedom <= 0:
            return np.ones(len(self.pearson))
        return np.maximum(self.pearson / self.freedom, 1.0)

    def design(self, months: tuple[str, ...]) -> np.ndarray:
        """The model's design rows for some months: intercept, and with a trend the years from the fit's centre and month-of-year indicators."""
        indices = np.array([month_index(month) for month in months], dtype=float)
        return _design(indices, self.origin, self.method == TREND)

    def means(self, months: tuple[str, ...]) -> np.ndarray:
        """Fitted mean records per series and month, shape (series, months)."""
        values = np.exp(self.coefficients @ self.design(months).T)
        return np.where(self.active[:, None], values, 0.0)

    def draw_parameters(self, generator: np.random.Generator, draws: int) -> tuple[np.ndarray, np.ndarray]:
        """Draws of the coefficients (draws, series, parameters) and of the dispersion (draws, series).

        The dispersion is drawn as Pearson χ² ÷ χ²(freedom), the posterior of φ under its Jeffreys prior (fixed at 1
        with no freedom left), and the coefficients from a normal with covariance φ(XᵀWX)⁻¹ at that draw's φ.
        """
        series, parameters = self.coefficients.shape
        if self.freedom > 0:
            dispersion = self.pearson[None, :] / generator.chisquare(self.freedom, size=(draws, series))
        else:
            dispersion = np.ones((draws, series))
        values, vectors = np.linalg.eigh(self.covariance)
        root = vectors * np.sqrt(np.maximum(values, 0.0))[:, None, :]
        noise = np.einsum("spq,dsq->dsp", root, generator.standard_normal((draws, series, parameters)))
        return self.coefficients[None] + np.sqrt(dispersion)[:, :, None] * noise, dispersion

    def draw_totals(
        self,
        generator: np.random.Generator,
        draws: int,
        horizon: tuple[str, ...],
        level_months: tuple[str, ...] = (),
    ) -> np.ndarray:
        """Predictive draws of each series' records summed over the horizon months, shape (draws, series).

        Each draw takes the parameters and dispersion from `draw_parameters` and adds the horizon's count noise
        (negative binomial). With `level_months`, each draw's mean is held within ×MAX_TREND_FACTOR of the fitted
        level over those months scaled to the horizon, as the demand forecast's factor is.
        """
        coefficients, dispersion = self.draw_parameters(generator, draws)
        mean = _draw_sums(coefficients, self.design(horizon))
        if level_months:
            level = _draw_sums(coefficients, self.design(level_months)) * len(horizon) / len(level_months)
            mean = np.clip(mean, level / MAX_TREND_FACTOR, level * MAX_TREND_FACTOR)
        mean = np.where(self.active[None, :], mean, 0.0)
        return negative_binomial(generator, mean, np.maximum(dispersion, 1.0))

    def point_totals(self, horizon: tuple[str, ...], level_months: tuple[str, ...] = ()) -> np.ndarray:
        """The point forecast of each series' records over the horizon, capped as `draw_totals` caps its draws."""
        total = self.means(horizon).sum(axis=1)
        if level_months:
            level = self.means(level_months).sum(axis=1) * len(horizon) / len(level_months)
            total = np.clip(total, level / MAX_TREND_FACTOR, level * MAX_TREND_FACTOR)
        return total


def _draw_sums(coefficients: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Sum over the design's months of exp(design · coefficients) for every draw and series."""
    return np.exp(np.clip(np.einsum("dsp,mp->dsm", coefficients, design), -50.0, 50.0)).sum(axis=2)


def _design(indices: np.ndarray, origin: float, trend: bool) -> np.ndarray:
    columns = [np.ones(len(indices))]
    if trend:
        calendar = indices.astype(int) % 12
        columns.append((indices - origin) / 12.0)
        columns += [(calendar == month).astype(float) for month in range(1, 12)]
    return np.column_stack(columns)


def choose_method(months: tuple[str, ...]) -> tuple[str, str]:
    """The model a set of history months supports, and why when it is the level model."""
    calendar = {month_index(month) % 12 for month in months}
    if len(months) < MIN_TREND_MONTHS:
        return LEVEL, (
            f"{len(months)} months of history: a trend and month-of-year effects need {MIN_TREND_MONTHS}, "
            "as a shorter series cannot tell a trend from the seasons"
        )
    if len(calendar) < 12:
        absent = ", ".join(month_label(12 + month)[5:] for month in range(12) if month not in calendar)
        return (
            LEVEL,
            f"{len(months)} months of history but no records for calendar month(s) {absent}, so month-of-year effects cannot be fitted",
        )
    return TREND, ""


def fit_series(counts: np.ndarray, months: tuple[str, ...], method: str | None = None) -> SeriesFit:
    """Fit monthly series (series × months, months in any order, gaps allowed) by Poisson IRLS; quasi-Poisson dispersion from Pearson χ².

    The method is the trend and month-of-year model when the months support it (see `choose_method`), else the level.
    """
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    chosen, reason = choose_method(months)
    method = method or chosen
    indices = np.array([month_index(month) for month in months], dtype=float)
    origin = float(indices.mean()) if len(indices) else 0.0
    design = _design(indices, origin, method == TREND)
    series, parameters = counts.shape[0], design.shape[1]
    active = counts.sum(axis=1) > 0
    coefficients = np.zeros((series, parameters))
    coefficients[:, 0] = np.log(np.maximum(counts.mean(axis=1), 1e-12))
    if parameters > 1 and active.any():
        coefficients[active] = _irls(design, counts[active], coefficients[active])
    mean = np.exp(np.clip(coefficients @ design.T, -50.0, 50.0))
    information = np.einsum("sn,np,nq->spq", mean, design, design)
    covariance = np.zeros_like(information)
    covariance[active] = np.linalg.pinv(information[active], hermitian=True)
    pearson = np.where(active, ((counts - mean) ** 2 / np.maximum(mean, 1e-12)).sum(axis=1), 0.0)
    return SeriesFit(
        method,
        reason if method == LEVEL else "",
        tuple(months),
        origin,
        coefficients,
        covariance,
        pearson,
        len(months) - parameters,
        active,
    )


def _irls(design: np.ndarray, counts: np.ndarray, start: np.ndarray, iterations: int = 100) -> np.ndarray:
    """Poisson regression coefficients of many series on one design, by iteratively reweighted least squares."""
    coefficients = start.copy()
    for _ in range(iterations):
        eta = np.clip(coefficients @ design.T, -30.0, 30.0)
        mean = np.exp(eta)
        working = eta + (counts - mean) / mean
        information = np.einsum("sn,np,nq->spq", mean, design, design)
        score = np.einsum("sn,np->sp", mean * working, design)
        updated = np.linalg.solve(information + 1e-10 * np.eye(design.shape[1]), score[:, :, None])[:, :, 0]
        if np.max(np.abs(updated - coefficients)) < 1e-10:
            return updated
        coefficients = updated
    return coefficients


@dataclass(frozen=True)
class SeriesForecast:
    """One monthly series' forecast over a horizon: the point, the predictive interval and the draws behind it."""

    method: str
    months: tuple[str, ...]
    horizon: tuple[str, ...]
    point: float
    low: float
    high: float
    coverage: float
    draws: np.ndarray


def forecast_series(
    counts: np.ndarray,
    months: tuple[str, ...],
    horizon: tuple[str, ...],
    generator: np.random.Generator,
    coverage: float = 0.9,
    draws: int = 4000,
) -> SeriesForecast:
    """The predictive interval of one series' records over the horizon: parameter error, dispersion and count noise together."""
    fit = fit_series(np.asarray(counts, dtype=float)[None, :], months)
    totals = fit.draw_totals(generator, draws, horizon)[:, 0]
    tail = (1.0 - coverage) / 2.0
    low, high = np.quantile(totals, [tail, 1.0 - tail], method="inverted_cdf")
    return SeriesForecast(
        fit.method, tuple(months), tuple(horizon), float(fit.point_totals(horizon)[0]), float(low), float(high), coverage, totals
    )


@dataclass(frozen=True)
class FactorDraws:
    """Draws of the factor on last period's level (draws, crime types) and of the dispersion of the counts (draws, crime types, at least 1)."""

    factors: np.ndarray
    dispersion: np.ndarray


@dataclass(frozen=True)
class Forecast:
    """How records over the horizon are forecast: the method, its months, and per crime type the factor on
    last period's level and the dispersion (variance ÷ mean) of the counts; `fit` holds the fitted model
    the draws come from (None with annual totals only)."""

    method: str
    description: str
    months: tuple[str, ...]
    factors: np.ndarray
    dispersion: np.ndarray
    period: tuple[str, ...] = ()
    horizon: tuple[str, ...] = ()
    fit: SeriesFit | None = None
    area_dispersion: np.ndarray | None = None

    def dispersion_within(self) -> np.ndarray:
        """Per crime type the dispersion of one area's counts around its share of the force-wide pattern (1 = Poisson),
        from `area_dispersion`; without a history by area, Poisson."""
        return np.ones(len(self.factors)) if self.area_dispersion is None else self.area_dispersion

    def draw(self, generator: np.random.Generator, draws: int, parameter_error: bool = True) -> FactorDraws:
        """Draws of the factor and the dispersion: from the fit's parameter error, or the point values repeated.

        Each draw's factor is the horizon's forecast ÷ (the forecast over the data period's months × horizon ÷ their
        number), capped at ×MAX_TREND_FACTOR either way as the point factor is.
        """
        types = len(self.factors)
        if not parameter_error or self.fit is None:
            return FactorDraws(
                np.broadcast_to(self.factors, (draws, types)).copy(), np.broadcast_to(self.dispersion, (draws, types)).copy()
            )
        coefficients, dispersion = self.fit.draw_parameters(generator, draws)
        if self.fit.method == LEVEL:
            factors = np.ones((draws, types))
        else:
            future = _draw_sums(coefficients, self.fit.design(self.horizon))
            level = _draw_sums(coefficients, self.fit.design(self.period)) * len(self.horizon) / len(self.period)
            factors = np.clip(future / level, 1.0 / MAX_TREND_FACTOR, MAX_TREND_FACTOR)
        factors = np.where(self.fit.active[None, :], factors, 1.0)
        return FactorDraws(factors, np.maximum(dispersion, 1.0))

    def draw_factors(self, generator: np.random.Generator, draws: int) -> np.ndarray:
        """Draws of the factor that scales an area's last-period level to the horizon, shape (draws, crime types)."""
        return self.draw(generator, draws).factors

    def as_dict(self) -> dict:
        """The forecast for the manifest."""
        return {
            "method": self.method,
            "description": self.description,
            "months_used": list(self.months),
            "factor_on_level": {crime: round(float(f), 4) for crime, f in zip(CRIME_TYPES, self.factors)},
            "dispersion": {crime: round(float(d), 4) for crime, d in zip(CRIME_TYPES, self.dispersion)},
        }


def force_series(history: Labelled) -> Labelled:
    """Force-wide monthly records (crime type × month) from a history by area, or the history itself if already force-wide."""
    return history.sum("area") if "area" in history.dims else history


def fit_forecast(history: Labelled | None, period: tuple[str, ...], horizon: tuple[str, ...]) -> Forecast:
    """Fit each crime type's force-wide monthly records up to the data period's end and forecast the horizon.

    The factor per crime type is the horizon's forecast ÷ the fitted records over the data period's months scaled
    to the horizon, capped at ×MAX_TREND_FACTOR either way. Months after the data period are not fitted, so a
    replay of a past round sees only what was known then. A history missing any month of the data period is a
    DataError naming `data.history`.
    """
    ones = np.ones(len(CRIME_TYPES))
    if history is None:
        return Forecast(LEVEL, LEVEL_METHOD, (), ones, ones, tuple(period), tuple(horizon))
    series = force_series(history)
    available = series.labels("month")
    missing = [month for month in period if month not in available]
    if missing:
        raise DataError(
            "does not cover the data period",
            key="data.history",
            got="missing " + month_runs(missing),
            hint="add those months to the history, or leave data.history empty to fit the data period's own months",
        )
    end = max(month_index(month) for month in period)
    months = tuple(sorted((month for month in available if month_index(month) <= end), key=month_index))
    counts = series.take("month", months).take("crime_type", CRIME_TYPES).values
    fit = fit_series(counts, months)
    if fit.method == LEVEL:
        description = (
            f"last period's level, from {len(months)} months of force-wide records ({_span(months)}): {fit.reason}; "
            "the interval draws each area's rate from its records (gamma posterior, Jeffreys prior) and its counts over the "
            "horizon (negative binomial with the dispersion of one area's own monthly records), and a force-wide swing (the rest "
            "of the force-wide Pearson dispersion) shared by every area"
        )
        return Forecast(
            LEVEL, description, months, ones, fit.dispersion, tuple(period), tuple(horizon), fit, area_dispersion(history, months)
        )
    future = fit.means(tuple(horizon)).sum(axis=1)
    level = fit.means(tuple(period)).sum(axis=1) * len(horizon) / len(period)
    factors = np.where(fit.active, np.clip(future / np.where(level > 0, level, 1.0), 1.0 / MAX_TREND_FACTOR, MAX_TREND_FACTOR), 1.0)
    description = (
        f"quasi-Poisson log-linear {TREND} fitted to each crime type's force-wide monthly records, {_span(months)} "
        f"({len(months)} months{', with gaps' if month_index(months[-1]) - month_index(months[0]) + 1 > len(months) else ''}); "
        f"the forecast over the {len(horizon)} horizon months ÷ the fit over the data period's {len(period)} months scales "
        f"each area's level (capped at ×{MAX_TREND_FACTOR:g} either way); the interval draws each area's rate (gamma posterior, "
        "Jeffreys prior) and its counts over the horizon (negative binomial with the dispersion of one area's own monthly records), "
        "the fit's parameters, and a force-wide swing (the rest of the force-wide dispersion) shared by every area"
    )
    return Forecast(
        TREND, description, months, factors, fit.dispersion, tuple(period), tuple(horizon), fit, area_dispersion(history, months)
    )


def area_dispersion(history: Labelled, months: tuple[str, ...]) -> np.ndarray | None:
    """Per crime type, how much more one area's monthly records vary than Poisson around its share of each month's force total.

    The force-wide dispersion mixes two things: variation common to every area (a force-wide swing, which moves
    every area together and cancels in a threshold relative to the force) and each area's own. Each month's
    expected records in area a are its share of the records × that month's force total (the independence model,
    the Poisson maximum likelihood fit of area + month effects); the Pearson χ² over (areas − 1)(months − 1)
    degrees of freedom, at least 1, is the dispersion of an area's own counts. None without a history by area
    (or with one area or one month).
    """
    if "area" not in history.dims or len(history.labels("area")) < 2 or len(months) < 2:
        return None
    counts = history.take("month", months).take("crime_type", CRIME_TYPES).values
    dispersion = np.ones(len(CRIME_TYPES))
    for c in range(len(CRIME_TYPES)):
        table = counts[:, c, :]
        table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
        freedom = (table.shape[0] - 1) * (table.shape[1] - 1)
        if freedom <= 0:
            continue
        expected = table.sum(axis=1)[:, None] * table.sum(axis=0)[None, :] / table.sum()
        dispersion[c] = max(1.0, float(((table - expected) ** 2 / expected).sum() / freedom))
    return dispersion


def forecast_from_history(monthly: Labelled | None, horizon_months: int, period: tuple[str, ...] | None = None) -> Forecast:
    """The forecast for the months after the data period (by default the history's own months), `horizon_months` long."""
    if monthly is None:
        return fit_forecast(None, period or (), ())
    period = tuple(period or monthly.labels("month"))
    return fit_forecast(monthly, period, months_after(max(period, key=month_index), horizon_months))


def _span(months: tuple[str, ...]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


# ---------------------------------------------------------------- the forecast check: each past year held out


@dataclass(frozen=True)
class CheckedTotal:
    """One crime type's (or all types') records over a held-out year's months: the forecast, its interval and what came."""

    crime_type: str
    forecast: float
    low: float
    high: float
    actual: float

    @property
    def inside(self) -> bool:
        """Whether the actual records fell inside the interval (ends included)."""
        return self.low <= self.actual <= self.high

    @property
    def error_pct(self) -> float | None:
        """(forecast − actual) ÷ actual in %, None when nothing was recorded."""
        return None if self.actual <= 0 else (self.forecast - self.actual) / self.actual * 100.0


@dataclass(frozen=True)
class HeldOutYear:
    """One calendar year held out: its months present in the data, the months before it the forecast was fitted to, the method and the totals."""

    year: int
    months: tuple[str, ...]
    history_months: tuple[str, ...]
    method: str
    description: str
    totals: tuple[CheckedTotal, ...]


@dataclass(frozen=True)
class SkippedYear:
    """A calendar year the check could not forecast, and why."""

    year: int
    months: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class CheckSummary:
    """One crime type across the held-out years: mean absolute % error and how many actuals fell inside the interval."""

    crime_type: str
    mean_abs_error_pct: float | None
    inside: int
    checked: int

    @property
    def coverage(self) -> float:
        """Share of held-out years whose actual fell inside the interval."""
        return self.inside / self.checked if self.checked else float("nan")


@dataclass(frozen=True)
class ForecastCheck:
    """The forecast replayed on each past year of the history, with the nominal coverage of its intervals."""

    nominal: float
    draws: int
    seed: int
    years: tuple[HeldOutYear, ...]
    skipped: tuple[SkippedYear, ...]
    summary: tuple[CheckSummary, ...]

    def rows(self) -> list[dict[str, str | int | float | bool | None]]:
        """One row per held-out year and crime type (and all crime types), for a CSV."""
        rows = []
        for held in self.years:
            for total in held.totals:
                error = total.error_pct
                rows.append(
                    {
                        "year": held.year,
                        "months_held_out": f"{held.months[0]}..{held.months[-1]} ({len(held.months)})",
                        "history_months": f"{held.history_months[0]}..{held.history_months[-1]} ({len(held.history_months)})",
                        "method": held.method,
                        "crime_type": total.crime_type,
                        "forecast": round(total.forecast, 1),
                        "low": total.low,
                        "high": total.high,
                        "actual": total.actual,
                        "error_pct": None if error is None else round(error, 1),
                        "inside": total.inside,
                    }
                )
        return rows

    @property
    def coverage(self) -> float:
        """Share of held-out crime-type totals (all years, each crime type; not the all-types row) inside their interval."""
        counted = [summary for summary in self.summary if summary.crime_type != ALL_CRIME_TYPES]
        checked = sum(summary.checked for summary in counted)
        return sum(summary.inside for summary in counted) / checked if checked else float("nan")

    def summary_of(self, crime_type: str) -> CheckSummary:
        """The summary of one crime type, or of ALL_CRIME_TYPES."""
        return next(summary for summary in self.summary if summary.crime_type == crime_type)


def check_forecast(history: Labelled, coverage: float = 0.9, draws: int = 4000, seed: int = 0) -> ForecastCheck:
    """Hold out each calendar year with data and forecast its months from every month before it; say how often the interval held.

    The forecast of a year is the force-wide predictive draw (`SeriesFit.draw_totals`) over the year's months present,
    capped against the fitted level of the last 12 calendar months of history as the demand's factor is; the all-types
    interval comes from the summed joint draws. A year with fewer than MIN_CHECK_MONTHS months before it is skipped.
    """
    series = force_series(history).take("crime_type", CRIME_TYPES)
    months = tuple(sorted(series.labels("month"), key=month_index))
    values = series.take("month", months).values
    generator = np.random.default_rng(seed)
    tail = (1.0 - coverage) / 2.0
    years, skipped = [], []
    for year in sorted({int(month[:4]) for month in months}):
        held = tuple(month for month in months if int(month[:4]) == year)
        before = tuple(month for month in months if int(month[:4]) < year)
        if len(before) < MIN_CHECK_MONTHS:
            skipped.append(
                SkippedYear(year, held, f"{len(before)} months of history before it; the check needs at least {MIN_CHECK_MONTHS}")
            )
            continue
        fit = fit_series(values[:, : len(before)], before)
        last = month_index(before[-1])
        level_months = tuple(month for month in before if month_index(month) > last - 12)
        totals = fit.draw_totals(generator, draws, held, level_months)
        points = fit.point_totals(held, level_months)
        actual = values[:, len(before) : len(before) + len(held)].sum(axis=1)
        rows = [
            CheckedTotal(crime, float(points[c]), *_bounds(totals[:, c], tail), float(actual[c])) for c, crime in enumerate(CRIME_TYPES)
        ]
        rows.append(CheckedTotal(ALL_CRIME_TYPES, float(points.sum()), *_bounds(totals.sum(axis=1), tail), float(actual.sum())))
        method = fit.method + (f" ({fit.reason})" if fit.reason else "")
        years.append(HeldOutYear(year, held, before, fit.method, method, tuple(rows)))
    return ForecastCheck(coverage, draws, seed, tuple(years), tuple(skipped), _summaries(years))


def _bounds(draws: np.ndarray, tail: float) -> tuple[float, float]:
    low, high = np.quantile(draws, [tail, 1.0 - tail], method="inverted_cdf")
    return float(low), float(high)


def _summaries(years: list[HeldOutYear]) -> tuple[CheckSummary, ...]:
    summaries = []
    for position, crime in enumerate((*CRIME_TYPES, ALL_CRIME_TYPES)):
        totals = [held.totals[position] for held in years]
        errors = [abs(total.error_pct) for total in totals if total.error_pct is not None]
        mean_error = float(np.mean(errors)) if errors else None
        summaries.append(CheckSummary(crime, mean_error, sum(total.inside for total in totals), len(totals)))
    return tuple(summaries)
