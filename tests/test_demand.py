"""Demand: rates, forecast, concentration and shocks."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.arrays import Labelled
from simulator.demand import build_demand, concentration, draw_harm
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
