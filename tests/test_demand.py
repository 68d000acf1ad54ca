"""Demand: rates, forecast, concentration and shocks."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.arrays import Labelled
from simulator.demand import build_demand, concentration, draw_demand, draw_harm
from simulator.errors import ConfigError
from simulator.inputs import load_areas
from simulator.schema import DataSource, DemandSettings, HarmSettings, Shock


@pytest.fixture(scope="module")
def kent_areas():
    return load_areas(DataSource())


def test_rate_per_1000_matches_the_published_orientation_figure(kent_areas):
    """Thanet's violence and sexual offences: 47.9 per 1,000 residents (Jun 2025 - May 2026)."""
    demand = build_demand(kent_areas, HarmSettings(), DemandSettings())
    assert demand.rate_per_1000.get(area="E07000114", crime_type="Violence and sexual offences") == pytest.approx(47.9, abs=0.05)


def test_forecast_scales_with_the_horizon(kent_areas):
    """A 6-month horizon expects half the annual records."""
    year = build_demand(kent_areas, HarmSettings(), DemandSettings())
    half = build_demand(kent_areas, HarmSettings(), DemandSettings(horizon_months=6))
    np.testing.assert_allclose(half.expected.values, year.expected.values / 2)


def test_forecast_interval_brackets_the_expectation(kent_areas):
    """The Poisson interval holds the expected count."""
    demand = build_demand(kent_areas, HarmSettings(), DemandSettings())
    assert np.all(demand.expected_lower.values <= demand.expected.values)
    assert np.all(demand.expected.values <= demand.expected_upper.values)


def test_shock_scales_only_its_area_and_crime_types(kent_areas):
    """A Medway violence shock of 1.5 changes that cell alone."""
    shock = {"s": Shock(areas=("Medway",), crime_types=("Violence and sexual offences",), multiplier=1.5)}
    shocked = build_demand(kent_areas, HarmSettings(), DemandSettings(), shock)
    plain = build_demand(kent_areas, HarmSettings(), DemandSettings())
    ratio = shocked.records.values / np.where(plain.records.values == 0, 1, plain.records.values)
    assert ratio[kent_areas.codes.index("E06000035"), 13] == pytest.approx(1.5)
    assert np.count_nonzero(np.abs(ratio - 1) > 1e-12) == 1


def test_shock_naming_an_unknown_area_is_refused(kent_areas):
    """An area that is not in the data is refused, with the closest name suggested."""
    with pytest.raises(ConfigError) as caught:
        build_demand(kent_areas, HarmSettings(), DemandSettings(), {"s": Shock(areas=("Medwya",), multiplier=2.0)})
    assert caught.value.key == "shocks.s.areas" and "Medway" in caught.value.hint


def labelled(values):
    codes = tuple(f"A{i}" for i in range(len(values)))
    return Labelled(np.array(values, float), ("area",), (codes,), "harm", "days")


def test_even_harm_has_gini_zero():
    """Equal harm everywhere: Gini 0 and the top 10 % hold 10 %."""
    result = concentration(labelled([5, 5, 5, 5, 5, 5, 5, 5, 5, 5]))
    assert result.gini == pytest.approx(0.0)
    assert result.top_share(0.1) == pytest.approx(0.1)


def test_all_harm_in_one_of_ten_areas():
    """One area of ten holds all harm: the top 10 % hold 100 %, Gini 0.9."""
    result = concentration(labelled([0] * 9 + [10]))
    assert result.top_share(0.1) == pytest.approx(1.0)
    assert result.gini == pytest.approx(0.9)
    assert result.ranked_codes[0] == "A9"


def test_draws_are_seeded(kent_areas):
    """The same seed gives the same draws; another seed differs."""
    demand = build_demand(kent_areas, HarmSettings(), DemandSettings())
    first, again, other = (draw_harm(demand, 5, seed) for seed in (1, 1, 2))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


# ---------------------------------------------------------------- forecasts from monthly history

from simulator.demand import MAX_TREND_FACTOR, forecast_from_history  # noqa: E402
from simulator.inputs import month_range  # noqa: E402
from simulator.schema import CRIME_TYPES  # noqa: E402


def history(series_by_type: dict[str, np.ndarray], start="2024-01", areas=2) -> Labelled:
    """Monthly counts split evenly between `areas` areas."""
    months = month_range(start, "2099-12")[: len(next(iter(series_by_type.values())))]
    values = np.zeros((areas, len(CRIME_TYPES), len(months)))
    for crime, series in series_by_type.items():
        values[:, CRIME_TYPES.index(crime), :] = np.asarray(series, float) / areas
    return Labelled(
        values, ("area", "crime_type", "month"), (tuple(f"A{i}" for i in range(areas)), CRIME_TYPES, months), "records", "records"
    )


def test_short_history_keeps_the_level():
    """Under two years of months a trend cannot be told from the seasons: last period's level, and the reason."""
    forecast = forecast_from_history(history({"Burglary": np.arange(12) + 10}), 12)
    assert forecast.method == "level" and np.all(forecast.factors == 1.0)
    assert "12 months of history" in forecast.description


def test_trend_is_carried_forward():
    """Records growing 2 % a month for two years: the next year holds 1.02^24 ≈ 1.61 times the last."""
    growth = 1000 * 1.02 ** np.arange(24)
    forecast = forecast_from_history(history({"Burglary": growth}), 12)
    assert forecast.method == "trend and month of year"
    assert forecast.factors[CRIME_TYPES.index("Burglary")] == pytest.approx(_expected_growth_factor(1.02, 24, 12), rel=0.01)
    assert forecast.months == month_range("2024-01", "2025-12")


def _expected_growth_factor(rate: float, months: int, horizon: int) -> float:
    future = (rate ** np.arange(months, months + horizon)).sum()
    level = (rate ** np.arange(months)).sum() * horizon / months
    return future / level


def test_flat_seasonal_series_forecasts_its_level():
    """Two years of the same seasonal pattern, no trend: the factor is 1 and the month effects absorb the pattern."""
    pattern = np.array([80, 85, 90, 100, 110, 130, 140, 135, 110, 100, 90, 85] * 2, float)
    forecast = forecast_from_history(history({"Violence and sexual offences": pattern}), 12)
    assert forecast.factors[CRIME_TYPES.index("Violence and sexual offences")] == pytest.approx(1.0, abs=0.01)
    assert forecast.dispersion[CRIME_TYPES.index("Violence and sexual offences")] == pytest.approx(1.0, abs=0.05)


def test_runaway_growth_is_capped():
    """Growth of 20 % a month cannot be extrapolated: the factor stops at the cap."""
    forecast = forecast_from_history(history({"Drugs": 10 * 1.2 ** np.arange(24)}), 12)
    assert forecast.factors[CRIME_TYPES.index("Drugs")] == MAX_TREND_FACTOR


def test_overdispersed_counts_are_measured():
    """Gamma-Poisson counts (variance ≈ 11 × mean) give a dispersion above 3, and the draws' dispersion follows it."""
    generator = np.random.default_rng(5)
    swings = generator.poisson(generator.gamma(10.0, 10.0, size=24)).astype(float)
    forecast = forecast_from_history(history({"Robbery": swings}), 12)
    robbery = CRIME_TYPES.index("Robbery")
    assert forecast.dispersion[robbery] > 3
    assert np.median(forecast.draw(np.random.default_rng(1), 2000).dispersion[:, robbery]) > 3


def test_draws_spread_with_the_areas_own_dispersion(kent_areas):
    """With each area's own dispersion 4 the seeded draws vary about twice as widely as Poisson draws (sd × √4)."""
    import dataclasses

    from simulator.demand import Forecast

    demand = build_demand(kent_areas, HarmSettings(weight_set="count"), DemandSettings())
    ones, fours = np.ones(len(CRIME_TYPES)), np.full(len(CRIME_TYPES), 4.0)
    poisson = dataclasses.replace(demand, forecast=Forecast("trend", "test", (), ones, ones))
    spread = dataclasses.replace(demand, forecast=Forecast("trend", "test", (), ones, fours, area_dispersion=fours))
    poisson_sd = draw_harm(poisson, 2000, 1).sum(axis=2).std(axis=0)
    wider_sd = draw_harm(spread, 2000, 1).sum(axis=2).std(axis=0)
    assert np.median(wider_sd / poisson_sd) == pytest.approx(2.0, rel=0.1)


def test_force_wide_dispersion_alone_moves_every_area_together(kent_areas):
    """Variation the areas share (force dispersion above their own) scales every area alike: their shares barely move."""
    import dataclasses

    from simulator.demand import Forecast

    demand = build_demand(kent_areas, HarmSettings(weight_set="count"), DemandSettings())
    ones = np.ones(len(CRIME_TYPES))
    shared = dataclasses.replace(
        demand, forecast=Forecast("trend", "test", (), ones, np.full(len(CRIME_TYPES), 400.0), area_dispersion=ones)
    )
    future = draw_demand(shared, np.random.default_rng(3), 2000).future_records[:, :, 0]
    totals = future.sum(axis=1)
    assert totals.std() / totals.mean() > 0.03
    shares = future / totals[:, None]
    assert np.median(shares.std(axis=0) / shares.mean(axis=0)) < 0.03


# ---------------------------------------------------------------- concentration weighted by residents and within districts


def test_kent_gini_across_districts_unweighted_and_by_residents(kent_areas):
    """Kent's 13 districts: harm Gini 0.227 with each district one unit, 0.112 with each weighted by its residents."""
    demand = build_demand(kent_areas, HarmSettings(), DemandSettings())
    assert demand.concentration.gini == pytest.approx(0.227, abs=0.0005)
    assert demand.concentration_by_population.gini == pytest.approx(0.112, abs=0.0005)


def test_harm_in_proportion_to_residents_has_weighted_gini_zero():
    """Harm proportional to residents is even per head: weighted Gini 0, though the unweighted Gini is not."""
    codes = ("A0", "A1", "A2")
    population = Labelled(np.array([1000.0, 2000.0, 7000.0]), ("area",), (codes,), "population", "residents")
    harm_by_area = Labelled(np.array([10.0, 20.0, 70.0]), ("area",), (codes,), "harm", "days")
    assert concentration(harm_by_area, population).gini == pytest.approx(0.0, abs=1e-12)
    assert concentration(harm_by_area).gini > 0.3


def test_concentration_within_each_district_of_kent_lsoas():
    """Kent's LSOAs: one entry per district, its LSOAs counted, a Gini in [0, 1) and a top-10 % share above 10 %."""
    areas = load_areas(
        DataSource(
            level="lsoa",
            areas="embedded:kent_lsoa21.csv",
            crime_counts="embedded:kent_lsoa_crime_2024-01_to_2024-04.csv",
            period_start="2024-01",
            period_end="2024-04",
        )
    )
    within = build_demand(areas, HarmSettings(), DemandSettings(draws=100)).concentration_within_parents()
    assert len(within) == 13 and sum(parent.areas for parent in within) == 1107
    assert all(0.0 <= parent.gini < 1.0 and parent.top_10_share > 0.1 for parent in within)
    assert {parent.name for parent in within} >= {"Medway", "Thanet"}


def test_count_quantiles_are_scipys_discrete_quantiles():
    """Poisson and negative binomial quantiles summed in numpy equal scipy.stats' ppf, from tiny means to large ones."""
    from scipy import stats

    from simulator.demand import count_quantiles

    generator = np.random.default_rng(4)
    mean = np.concatenate([generator.gamma(0.5, 20.0, 400), generator.gamma(2.0, 3000.0, 40), [0.0, 1e-9, 0.3]])
    variance = mean * np.where(generator.random(len(mean)) < 0.3, 1.0, 1.0 + generator.gamma(1.0, 3.0, len(mean)))
    over = variance > mean * (1.0 + 1e-9)
    low, high = count_quantiles(mean, variance, (0.05, 0.95))
    expected_low, expected_high = stats.poisson.ppf(0.05, mean), stats.poisson.ppf(0.95, mean)
    size, success = mean[over] ** 2 / (variance[over] - mean[over]), mean[over] / variance[over]
    expected_low[over], expected_high[over] = stats.nbinom.ppf(0.05, size, success), stats.nbinom.ppf(0.95, size, success)
    assert np.array_equal(low, np.nan_to_num(expected_low)) and np.array_equal(high, np.nan_to_num(expected_high))


def test_concentration_within_parents_is_each_parents_own_concentration():
    """Each parent's Gini and top-10 % share are those of `concentration` over its own areas, parents in order of first appearance."""
    areas = load_areas(
        DataSource(
            level="lsoa",
            areas="embedded:kent_lsoa21.csv",
            crime_counts="embedded:kent_lsoa_crime_2024-01_to_2024-04.csv",
            period_start="2024-01",
            period_end="2024-04",
        )
    )
    demand = build_demand(areas, HarmSettings(), DemandSettings(draws=100))
    by_area = demand.harm_by_area
    parents = list(dict.fromkeys(demand.areas.parents))
    within = demand.concentration_within_parents()
    assert [parent.code for parent in within] == parents
    for parent in within:
        members = tuple(code for code, owner in zip(demand.areas.codes, demand.areas.parents) if owner == parent.code)
        alone = concentration(by_area.take("area", members))
        assert (parent.areas, parent.gini, parent.top_10_share) == (len(members), alone.gini, alone.top_share(0.1))


def test_count_quantiles_of_repeated_moments_are_each_counts_own():
    """Counts sharing their mean and variance are worked out once: the quantiles are those of each count on its own."""
    from simulator.demand import count_quantiles

    generator = np.random.default_rng(8)
    mean = generator.choice(np.concatenate([generator.gamma(1.0, 30.0, 25), [0.0]]), size=(300, 4))
    variance = mean * np.array([1.0, 1.5, 3.0, 1.0])
    together = count_quantiles(mean, variance, (0.05, 0.5, 0.95))
    for row, column in ((0, 0), (7, 1), (150, 2), (299, 3)):
        alone = count_quantiles(mean[row, column : column + 1], variance[row, column : column + 1], (0.05, 0.5, 0.95))
        assert [float(values[row, column]) for values in together] == [float(values[0]) for values in alone]
