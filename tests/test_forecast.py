"""The forecast: fits on months with gaps, predictive intervals that cover what they claim, and the check on past years."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.arrays import Labelled
from simulator.datafiles import SourceFile
from simulator.demand import build_demand, draw_demand
from simulator.errors import DataError
from simulator.forecast import (
    ALL_CRIME_TYPES,
    LEVEL,
    TREND,
    fit_forecast,
    fit_series,
    forecast_series,
    month_index,
    months_after,
)
from simulator.inputs import Areas, load_areas, month_range
from simulator.schema import CRIME_TYPES, DataSource, DemandSettings, HarmSettings

NOMINAL = 0.9
SERIES = 1200


def within_three_standard_errors(inside: np.ndarray, trials: int, nominal: float = NOMINAL) -> bool:
    """Whether a coverage is within three binomial standard errors of the nominal level."""
    return abs(inside.mean() - nominal) <= 3.0 * np.sqrt(nominal * (1.0 - nominal) / trials)


def negative_binomial_counts(generator: np.random.Generator, mean: np.ndarray, dispersion: float) -> np.ndarray:
    """Gamma-Poisson counts with variance dispersion × mean."""
    return generator.poisson(generator.gamma(mean / (dispersion - 1.0), dispersion - 1.0)).astype(float)


def trend_and_seasons(generator: np.random.Generator, series: int, months: int, rate: float) -> np.ndarray:
    """Monthly means with a random trend (about ±12 % a year) and a random seasonal pattern (±15 %), series × months."""
    time = np.arange(months)
    slope = generator.normal(0.0, 0.01, size=(series, 1))
    phase = generator.integers(0, 12, size=(series, 1))
    return rate * np.exp(slope * (time - months / 2) + 0.15 * np.sin(2 * np.pi * (time + phase) / 12))


def interval_coverage(history_months: int, mean: np.ndarray, dispersion: float, seed: int) -> tuple[np.ndarray, str]:
    """Whether each simulated series' next 12 months' total fell in its nominal 90 % predictive interval, and the method used."""
    generator = np.random.default_rng(seed)
    counts = negative_binomial_counts(generator, mean, dispersion)
    months = months_after("2019-12", history_months)
    fit = fit_series(counts[:, :history_months], months)
    totals = fit.draw_totals(generator, 1000, months_after(months[-1], 12))
    low, high = np.quantile(totals, [0.05, 0.95], axis=0, method="inverted_cdf")
    actual = counts[:, history_months:].sum(axis=1)
    return (actual >= low) & (actual <= high), fit.method


@pytest.mark.parametrize("history_months", [4, 12])
def test_level_interval_covers_ninety_percent_of_next_years_totals(history_months):
    """A constant overdispersed rate, 4 or 12 months of history: the 90 % interval of the next 12 months holds about 90 % of totals."""
    mean = np.full((SERIES, history_months + 12), 60.0)
    inside, method = interval_coverage(history_months, mean, dispersion=2.5, seed=history_months)
    assert method == LEVEL
    assert within_three_standard_errors(inside, SERIES), inside.mean()


def test_trend_interval_covers_ninety_percent_of_next_years_totals():
    """Trend, seasons and overdispersion, 36 months of history: the trend model's 90 % interval holds about 90 % of the next year's totals."""
    mean = trend_and_seasons(np.random.default_rng(36), SERIES, 48, 200.0)
    inside, method = interval_coverage(36, mean, dispersion=3.0, seed=36)
    assert method == TREND
    assert within_three_standard_errors(inside, SERIES), inside.mean()


def simulated_force(generator: np.random.Generator, areas: int = 5, history_months: int = 36) -> tuple[Areas, np.ndarray]:
    """A force of a few areas whose monthly records follow the trend and season model (dispersion 2 in every area),
    with the last 12 months of history as the data period; returns the areas and the next 12 months' records per area and type."""
    months = months_after("2019-12", history_months)
    total = history_months + 12
    force_mean = trend_and_seasons(generator, len(CRIME_TYPES), total, 120.0)
    shares = generator.dirichlet(np.ones(areas), size=len(CRIME_TYPES)).T
    counts = negative_binomial_counts(generator, shares[:, :, None] * force_mean[None, :, :], 2.0)
    codes = tuple(f"E0{a:07d}" for a in range(areas))
    history = Labelled(counts[:, :, :history_months], ("area", "crime_type", "month"), (codes, CRIME_TYPES, months), "records", "records")
    period = counts[:, :, history_months - 12 : history_months].sum(axis=2)
    built = Areas(
        level="district",
        codes=codes,
        names=tuple(f"Area {a}" for a in range(areas)),
        parents=("force",) * areas,
        population=Labelled(np.full(areas, 100_000.0), ("area",), (codes,), "population", "residents"),
        counts=Labelled(period, ("area", "crime_type"), (codes, CRIME_TYPES), "records", "records"),
        period_start=months[-12],
        period_end=months[-1],
        force_name="Simulated",
        description="simulated",
        sources=(SourceFile("crime_counts", "simulated", "", 0, 0),),
        population_source="",
        count_source="",
        history=history,
    )
    return built, counts[:, :, history_months:].sum(axis=2)


def test_area_interval_covers_ninety_percent_of_each_areas_next_year():
    """Level error, factor error and future noise together: each area's 90 % interval holds about 90 % of its next year's records."""
    generator = np.random.default_rng(2026)
    inside = []
    for _ in range(80):
        areas, future = simulated_force(generator)
        demand = build_demand(areas, HarmSettings(weight_set="count"), DemandSettings(draws=1000))
        inside.append((future >= demand.expected_lower.values) & (future <= demand.expected_upper.values))
    inside = np.array(inside)
    # Areas of one force share each crime type's factor draw, so count one trial per force and crime type.
    assert within_three_standard_errors(inside, inside.shape[0] * inside.shape[2]), inside.mean()


def test_gaps_in_the_history_are_fitted_at_their_calendar_months():
    """A seasonal series with a year missing in the middle: the trend model fits it, on calendar months, and sees no trend."""
    pattern = np.array([80, 85, 90, 100, 110, 130, 140, 135, 110, 100, 90, 85], float)
    months = month_range("2021-01", "2021-12") + month_range("2023-01", "2024-12")
    fit = fit_series(np.tile(pattern, 3)[None, :], months)
    assert fit.method == TREND
    assert fit.coefficients[0, 1] == pytest.approx(0.0, abs=1e-8)
    np.testing.assert_allclose(fit.means(("2025-07",)), [[140.0]], rtol=1e-8)


def test_missing_calendar_months_fall_back_to_the_level_and_say_why():
    """Thirty months that never include a December cannot fit month-of-year effects: the level model, naming the month."""
    months = tuple(month for month in month_range("2021-01", "2023-08") if not month.endswith("-12"))
    fit = fit_series(np.full((1, len(months)), 50.0), months)
    assert fit.method == LEVEL and "12" in fit.reason


def kent_history() -> Labelled:
    return load_areas(DataSource(history="embedded:kent_crime_by_type_monthly.csv")).history


def test_history_that_misses_the_data_period_is_one_clear_error():
    """A history without some of the data period's months is a DataError naming data.history and the months."""
    history = kent_history()
    early = history.take("month", [month for month in history.labels("month") if month < "2025-09"])
    with pytest.raises(DataError) as caught:
        fit_forecast(early, month_range("2025-06", "2026-05"), months_after("2026-05", 12))
    assert caught.value.key == "data.history" and caught.value.got == "missing 2025-09..2026-05 (9 months)"


def test_factor_compares_the_horizon_with_the_data_periods_months():
    """A history with a steady 10 % a year rise: the factor is next year's fit ÷ the data period's fit, not ÷ the whole history's average."""
    months = month_range("2021-01", "2024-12")
    trend = 100.0 * 1.1 ** ((np.arange(len(months)) - 36) / 12)
    history = Labelled(np.tile(trend, (len(CRIME_TYPES), 1)), ("crime_type", "month"), (CRIME_TYPES, months), "records", "records")
    forecast = fit_forecast(history, month_range("2024-01", "2024-12"), months_after("2024-12", 12))
    np.testing.assert_allclose(forecast.factors, 1.1, rtol=1e-6)


def test_kent_check_returns_every_crime_type_with_a_coverage():
    """The check on the shipped Kent history: every crime type and all types together, coverage between 0 and 1, 2021 skipped."""
    from simulator.forecast import check_forecast

    check = check_forecast(kent_history(), NOMINAL, draws=500)
    assert [summary.crime_type for summary in check.summary] == [*CRIME_TYPES, ALL_CRIME_TYPES]
    assert all(0.0 <= summary.coverage <= 1.0 and summary.checked == len(check.years) for summary in check.summary)
    assert [held.year for held in check.years] == [2022, 2023, 2024, 2025, 2026]
    assert [skipped.year for skipped in check.skipped] == [2021] and "0 months" in check.skipped[0].reason
    assert len(check.rows()) == len(check.years) * (len(CRIME_TYPES) + 1) and 0.0 <= check.coverage <= 1.0


def test_all_types_interval_comes_from_joint_draws():
    """The all-types interval is narrower than the sum of the types' intervals, as summed draws are and summed quantiles are not."""
    from simulator.forecast import check_forecast

    held = check_forecast(kent_history(), NOMINAL, draws=500).years[-1]
    *types, together = held.totals
    assert together.high - together.low < sum(total.high - total.low for total in types)
    assert together.forecast == pytest.approx(sum(total.forecast for total in types))


def test_single_series_forecast_is_reproducible():
    """The same generator seed gives the same interval and draws."""
    counts, months = np.full(12, 40.0), month_range("2024-01", "2024-12")
    first, again = (forecast_series(counts, months, months_after("2024-12", 12), np.random.default_rng(3)) for _ in range(2))
    assert (first.low, first.high) == (again.low, again.high) and np.array_equal(first.draws, again.draws)
    assert first.point == pytest.approx(480.0) and first.low < first.point < first.high


@pytest.fixture(scope="module")
def kent_demand():
    areas = load_areas(DataSource(history="embedded:kent_crime_by_type_monthly.csv"))
    return build_demand(areas, HarmSettings(), DemandSettings())


def test_demand_draws_are_reproducible(kent_demand):
    """The same seed gives identical period and horizon draws; another seed differs."""
    first, again, other = (draw_demand(kent_demand, np.random.default_rng(seed), 50) for seed in (7, 7, 8))
    assert np.array_equal(first.future_records, again.future_records) and np.array_equal(first.period_records, again.period_records)
    assert not np.array_equal(first.future_records, other.future_records)


def test_sources_switched_off_give_the_point_forecast(kent_demand):
    """With neither counts nor forecast error every draw is the point forecast and the period's records."""
    drawn = draw_demand(kent_demand, np.random.default_rng(1), 4, sources=frozenset())
    np.testing.assert_allclose(drawn.future_records, np.broadcast_to(kent_demand.expected.values, drawn.future_records.shape))
    np.testing.assert_allclose(drawn.period_records, np.broadcast_to(kent_demand.records.values, drawn.period_records.shape))


def test_forecast_error_alone_moves_the_factor_not_the_level(kent_demand):
    """With only the forecast's parameter error the draws vary, and the period's records stay as recorded."""
    drawn = draw_demand(kent_demand, np.random.default_rng(1), 200, sources=frozenset({"forecast"}))
    np.testing.assert_allclose(drawn.period_records[0], kent_demand.records.values)
    assert drawn.future_records.std(axis=0).max() > 0


def test_month_index_counts_calendar_months():
    """Month indices differ by the months between, across a year's end and a gap."""
    assert month_index("2024-01") - month_index("2023-01") == 12 and months_after("2023-11", 3) == ("2023-12", "2024-01", "2024-02")


def test_area_dispersion_separates_each_areas_noise_from_a_force_wide_swing():
    """Areas with their own dispersion 2 under a shared monthly swing (±20 %): the areas' dispersion comes out near 2,
    while the force-wide series varies far more than that."""
    from simulator.forecast import area_dispersion

    generator = np.random.default_rng(11)
    months = months_after("2019-12", 36)
    force_mean = trend_and_seasons(generator, len(CRIME_TYPES), 36, 600.0)
    swing = generator.gamma(25.0, 1.0 / 25.0, size=(1, len(CRIME_TYPES), 36))
    shares = generator.dirichlet(np.ones(8), size=len(CRIME_TYPES)).T
    counts = negative_binomial_counts(generator, shares[:, :, None] * force_mean[None, :, :] * swing, 2.0)
    history = Labelled(counts, ("area", "crime_type", "month"), (tuple(f"A{a}" for a in range(8)), CRIME_TYPES, months), "records", "r")
    within = area_dispersion(history, months)
    assert np.median(within) == pytest.approx(2.0, rel=0.2)
    assert np.median(fit_series(counts.sum(axis=0), months).dispersion) > 5 * np.median(within)


def test_area_dispersion_needs_more_than_one_area():
    from simulator.forecast import area_dispersion

    months = months_after("2019-12", 12)
    history = Labelled(np.ones((1, len(CRIME_TYPES), 12)), ("area", "crime_type", "month"), (("A",), CRIME_TYPES, months), "records", "r")
    assert area_dispersion(history, months) is None
