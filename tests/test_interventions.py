"""Response curves, their linear segments and their draws."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import BASELINE, make_request
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator.arrays import Labelled
from simulator.errors import ConfigError
from simulator.interventions import (
    CurveDraws,
    build_curves,
    curve_draws,
    harm_years,
    lifetime_factors,
    reach_matrix,
    worst_share_mean,
)
from simulator.scenario import load_scenario
from simulator.schema import CRIME_TYPES, AppraisalSettings, Intervention


def test_curve_saturates_at_the_maximum_reduction():
    """Unlimited spend averts r × targeted harm; spending the cost scale reaches 1 − 1/e of it."""
    curves = make_request([[1000.0]], [200.0], [0.3]).curves
    assert curves.averted(np.array([[1e9]]))[0, 0] == pytest.approx(300.0)
    assert curves.averted(np.array([[200.0]]))[0, 0] == pytest.approx(300.0 * (1 - np.exp(-1)))


def test_segment_slopes_fall_along_each_curve():
    """Chords of a concave curve have falling slopes, so the LP fills them in order."""
    widths, slopes = make_request([[1000.0, 50.0]], [200.0, 30.0], [0.3, 0.1]).curves.segments(500.0, 10)
    assert np.all(np.diff(slopes, axis=2) < 0)
    assert widths.sum(axis=2) == pytest.approx(np.full((1, 2), 500.0))


def test_segments_meet_the_curve_at_breakpoints():
    """Summing the chords up to a breakpoint gives the curve's value there."""
    curves = make_request([[1000.0]], [200.0], [0.3]).curves
    widths, slopes = curves.segments(400.0, 4)
    assert (widths * slopes)[0, 0, :2].sum() == pytest.approx(curves.averted(np.array([[200.0]]))[0, 0])


def measure(crime_types: tuple[str, ...], reduction: float = 0.2) -> Intervention:
    """A catalogue entry for the curve-draw tests."""
    return Intervention(
        name="Measure",
        crime_types=crime_types,
        max_reduction=reduction,
        cost_scale_gbp_per_1000_residents=1000.0,
        evidence="test",
        source="test",
        confidence="assumption",
    )


def test_curve_draws_sum_weighted_records_over_each_interventions_crime_types():
    """A draw's targeted harm is Σ records × weight over the crime types the intervention targets; its scale is scaled by the cost factor."""
    curves = make_request([[1.0, 1.0], [1.0, 1.0]], [[100.0, 200.0], [300.0, 400.0]], [0.2, 0.1]).curves
    catalogue = {"measure_0": measure(("Burglary", "Robbery")), "measure_1": measure(("Burglary",))}
    records = np.zeros((2, 2, len(CRIME_TYPES)))
    burglary, robbery = CRIME_TYPES.index("Burglary"), CRIME_TYPES.index("Robbery")
    records[:, :, burglary] = [[10.0, 20.0], [30.0, 40.0]]
    records[:, :, robbery] = 5.0
    weights = np.ones((2, len(CRIME_TYPES)))
    weights[1, burglary] = 2.0
    draws = curve_draws(curves, catalogue, records, weights, np.array([[0.2, 0.1], [0.3, 0.05]]), np.array([[1.0, 2.0], [0.5, 1.0]]))
    assert draws.targeted_harm[0].tolist() == [[15.0, 10.0], [25.0, 20.0]]
    assert draws.targeted_harm[1].tolist() == [[65.0, 60.0], [85.0, 80.0]]
    assert draws.scale[0].tolist() == [[100.0, 400.0], [300.0, 800.0]]
    assert draws.scale[1].tolist() == [[50.0, 200.0], [150.0, 400.0]]


def test_curve_draws_avert_what_each_draws_curves_avert():
    """Harm averted per draw equals the draw's own `Curves.averted`, summed; per area likewise."""
    rng = np.random.default_rng(3)
    curves = make_request(rng.uniform(10, 1000, (3, 2)), rng.uniform(10, 100, (3, 2)), [0.2, 0.3]).curves
    draws = CurveDraws(
        rng.uniform(10, 1000, (4, 3, 2)), rng.uniform(10, 100, (4, 3, 2)), rng.uniform(0.1, 0.4, (4, 2)), curves.codes, curves.interventions
    )
    amounts = rng.uniform(0, 200, (3, 2))
    expected = [draws.draw(d).averted(amounts) for d in range(4)]
    assert draws.averted(amounts) == pytest.approx([value.sum() for value in expected])
    assert draws.averted_by_area(amounts) == pytest.approx(np.array([value.sum(axis=1) for value in expected]))


def test_point_curves_as_one_draw_avert_what_the_curves_avert():
    """`CurveDraws.of` repeats the point curves, so every draw averts what the point curves do."""
    curves = make_request([[1000.0, 50.0]], [200.0, 30.0], [0.3, 0.1]).curves
    draws = CurveDraws.of(curves, 3)
    assert draws.averted(np.array([[100.0, 20.0]])) == pytest.approx([curves.averted(np.array([[100.0, 20.0]])).sum()] * 3)


def test_worst_share_mean_weights_the_boundary_draw_by_its_fraction():
    """With share × N = 1.2 the lowest value counts in full and the next with weight 0.2, over 1.2."""
    assert worst_share_mean(np.array([4.0, 2.0, 1.0, 3.0]), 0.3) == pytest.approx((1.0 + 0.2 * 2.0) / 1.2)


def test_worst_share_mean_of_all_draws_is_the_mean():
    """Share 1 is the plain mean, and a whole number of draws is their plain mean."""
    values = np.array([5.0, 1.0, 3.0, 7.0, 9.0])
    assert worst_share_mean(values, 1.0) == pytest.approx(5.0)
    assert worst_share_mean(values, 0.4) == pytest.approx(2.0)


@given(arrays(float, st.integers(1, 30), elements=st.floats(-1e4, 1e4)), st.floats(0.01, 1.0))
def test_worst_share_mean_is_rockafellar_uryasevs_maximum(values, share):
    """It equals max_t t − Σ max(t − v, 0) / (share × N), the form the robust plan's LP maximises (the maximum is at a value)."""
    candidates = [t - np.maximum(t - values, 0.0).sum() / (share * len(values)) for t in values]
    assert worst_share_mean(values, share) == pytest.approx(max(candidates), rel=1e-9, abs=1e-7)


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_worst_share_mean_refuses_a_share_outside_0_to_1(share):
    """A share of draws must be in (0, 1]."""
    with pytest.raises(ConfigError) as caught:
        worst_share_mean(np.ones(3), share)
    assert caught.value.key == "uncertainty.tail_share" and caught.value.got == share


def catalogue_entry(crime_types: tuple[str, ...], reduction: float = 0.2, **fields) -> Intervention:
    """A catalogue entry with reach, kind and lifetime as given."""
    return dataclasses.replace(measure(crime_types, reduction), **fields)


def demand_of(harm: np.ndarray, horizon_months: int = 12) -> SimpleNamespace:
    """A demand with `harm` (area × crime type, `CRIME_TYPES` order) and populations of 1,000; only what `build_curves` reads."""
    codes = tuple(f"E0{i:07d}" for i in range(harm.shape[0]))
    areas = SimpleNamespace(codes=codes, population=Labelled(np.full(len(codes), 1000.0), ("area",), (codes,), "population", "residents"))
    harm_table = Labelled(np.asarray(harm, dtype=float), ("area", "crime_type"), (codes, CRIME_TYPES), "harm", "days")
    return SimpleNamespace(areas=areas, harm=harm_table, horizon_months=horizon_months)


def harm_with(**by_crime: list[float]) -> np.ndarray:
    """Harm per area × crime type with the named crime types (underscores for spaces) set and the rest zero."""
    areas = len(next(iter(by_crime.values())))
    harm = np.zeros((areas, len(CRIME_TYPES)))
    for name, values in by_crime.items():
        harm[:, CRIME_TYPES.index(name.replace("_", " "))] = values
    return harm


GREEN_BOOK = AppraisalSettings()


def test_reach_scales_targeted_harm_per_crime_type():
    """Targeted harm is Σ reach[c] × harm[c]: 0.7 of burglary (100 → 70) plus 0.25 of robbery (40 → 10)."""
    harm = harm_with(Burglary=[100.0, 20.0], Robbery=[40.0, 8.0])
    item = catalogue_entry(("Burglary", "Robbery"), reach={"Burglary": 0.7, "Robbery": 0.25})
    curves = build_curves(demand_of(harm), {"gates": item}, GREEN_BOOK)
    assert curves.targeted_harm.values[:, 0] == pytest.approx([80.0, 16.0])


def test_crime_type_without_a_reach_counts_in_full():
    """Robbery has no share in `reach`, so all of it counts: 0.5 × 100 + 40."""
    harm = harm_with(Burglary=[100.0], Robbery=[40.0])
    item = catalogue_entry(("Burglary", "Robbery"), reach={"Burglary": 0.5})
    curves = build_curves(demand_of(harm), {"gates": item}, GREEN_BOOK)
    assert curves.targeted_harm.values[0, 0] == pytest.approx(90.0)


def test_reach_matrix_leaves_untargeted_crime_types_out():
    """A crime type the intervention does not target has share 0, however much harm it has."""
    shares = reach_matrix({"gates": catalogue_entry(("Burglary",), reach={"Burglary": 0.78})}, CRIME_TYPES)
    expected = np.zeros((len(CRIME_TYPES), 1))
    expected[CRIME_TYPES.index("Burglary"), 0] = 0.78
    assert shares.tolist() == expected.tolist()


@pytest.mark.parametrize("lifetime", [1, 2, 6, 10, 20])
def test_harm_years_is_the_discounted_sum_for_whole_years(lifetime):
    """Σ_{t=0}^{L−1} 1.035^−t: the first year undiscounted, each later year at 3.5 % a year."""
    assert harm_years(lifetime, 0.035) == pytest.approx(sum(1.035**-year for year in range(lifetime)), rel=1e-12)


def test_harm_years_at_a_zero_rate_is_the_lifetime():
    """Without discounting every year counts in full, fractional lifetimes too."""
    assert (harm_years(20, 0.0), harm_years(2.5, 0.0)) == (20.0, 2.5)


def test_harm_years_between_whole_lifetimes_lies_between_their_sums():
    """A fractional lifetime falls strictly between the sums of the whole lifetimes either side."""
    assert harm_years(2, 0.035) < harm_years(2.5, 0.035) < harm_years(3, 0.035)


def test_recurring_measures_count_one_year_whatever_the_rate():
    """A recurring measure's factor is 1; a capital one's is the discounted sum over its lifetime."""
    catalogue = {
        "patrols": catalogue_entry(("Robbery",)),
        "lights": catalogue_entry(("Robbery",), kind="capital", lifetime_years=20.0),
    }
    assert lifetime_factors(catalogue, AppraisalSettings(discount_rate=0.1)).tolist() == [1.0, harm_years(20, 0.1)]


def test_capital_ceiling_counts_its_discounted_lifetime():
    """Ceiling = r × harm_years(L) × reached harm: 0.2 × (1 + 1/1.035 + 1/1.035²) × 0.5 × 100 days for a 3-year measure."""
    harm = harm_with(Burglary=[100.0])
    item = catalogue_entry(("Burglary",), reach={"Burglary": 0.5}, kind="capital", lifetime_years=3.0)
    curves = build_curves(demand_of(harm), {"gates": item}, GREEN_BOOK)
    expected = 0.2 * (1 + 1 / 1.035 + 1 / 1.035**2) * 50.0
    assert curves.ceilings()[0, 0] == pytest.approx(expected, rel=1e-12)
    assert curves.averted(np.array([[1e12]]))[0, 0] == pytest.approx(expected, rel=1e-12)


def test_capital_lifetime_counts_per_year_of_a_longer_horizon():
    """Over a 24-month horizon the harm is two years', so a 3-year measure counts harm_years(3) / 2 horizons."""
    harm = harm_with(Burglary=[100.0])
    item = catalogue_entry(("Burglary",), kind="capital", lifetime_years=3.0)
    curves = build_curves(demand_of(harm, horizon_months=24), {"gates": item}, GREEN_BOOK)
    assert curves.years.tolist() == [harm_years(3, 0.035) / 2]


def test_curve_draws_of_the_point_records_reproduce_the_point_curves():
    """One draw at the point records, weights, effects and unit cost factors has the point curves' reach and years."""
    records = harm_with(Burglary=[10.0, 4.0], Other_theft=[30.0, 6.0], Robbery=[5.0, 2.0])
    weights = np.arange(1.0, len(CRIME_TYPES) + 1.0)
    catalogue = {
        "lights": catalogue_entry(
            ("Burglary", "Other theft"), 0.21, reach={"Burglary": 0.78, "Other theft": 0.5}, kind="capital", lifetime_years=20.0
        ),
        "patrols": catalogue_entry(("Robbery",), 0.08),
    }
    curves = build_curves(demand_of(records * weights), catalogue, GREEN_BOOK)
    reductions = curves.max_reduction[None]
    draw = curve_draws(curves, catalogue, records[None], weights[None], reductions, np.ones_like(reductions)).draw(0)
    assert draw.targeted_harm.values == pytest.approx(curves.targeted_harm.values, rel=1e-12)
    assert draw.years.tolist() == curves.years.tolist()
    assert draw.ceilings() == pytest.approx(curves.ceilings(), rel=1e-12)


def test_curve_draws_keep_the_point_curves_years():
    """Every draw's ceiling carries the same lifetime factor as the point curves (effects, harm and cost vary; years do not)."""
    curves = dataclasses.replace(make_request([[100.0, 100.0]], [10.0, 10.0], [0.2, 0.1]).curves, years=np.array([5.0, 1.0]))
    draws = CurveDraws.of(curves, 2)
    assert draws.ceilings()[:, 0, :].tolist() == [[100.0, 10.0], [100.0, 10.0]]


def refused(*sets: str) -> ConfigError:
    """The error loading the Kent baseline with these --set overrides raises."""
    with pytest.raises(ConfigError) as caught:
        load_scenario(BASELINE, sets)
    return caught.value


def test_reach_for_a_crime_type_not_targeted_is_refused():
    """A reach share must name one of the intervention's own crime types (a typo would otherwise be silently ignored)."""
    error = refused('interventions.alley_gating.reach={"Robbery" = 0.5}')
    assert (error.key, error.what, error.got) == (
        "interventions.alley_gating.reach",
        "gives a share for a crime type the intervention does not target",
        "Robbery",
    )


def test_recurring_measure_with_a_lifetime_is_refused():
    """A recurring measure works for the period it is funded, so a lifetime above one year contradicts its kind."""
    error = refused("interventions.hot_spots_patrols.lifetime_years=5")
    assert (error.key, error.got) == ("interventions.hot_spots_patrols.lifetime_years", 5.0)


def test_reductions_are_summed_before_reach():
    """The 100 % check adds max_reduction, not max_reduction × reach: 0.21 + 0.25 + 0.6 on Burglary is refused even though
    every Burglary reach is 0.78."""
    error = refused("interventions.alley_gating.max_reduction=0.6")
    assert (error.key, error.got) == ("interventions", 1.06)
