"""Uncertain inputs: effects, cost scales and harm-weight splits drawn reproducibly, each from its stated distribution."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import numpy as np
import pytest
from conftest import BASELINE, REPO
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.special import ndtri

from simulator.errors import ConfigError, InternalError
from simulator.harm import harm_weights, weight_at_share
from simulator.scenario import load_scenario
from simulator.schema import (
    CRIME_TYPES,
    UNCERTAIN_SOURCES,
    EffectRange,
    EffectRanges,
    HarmSettings,
    Intervention,
    PublishedEffect,
    UncertaintySettings,
)
from simulator.uncertainty import (
    SOURCE_DESCRIPTIONS,
    _bisect,
    _normal_quantile,
    _two_piece_normal,
    describe_sources,
    draw_inputs,
    one_at_a_time,
    point_inputs,
    uncertain_inputs,
)

VSO = CRIME_TYPES.index("Violence and sexual offences")


@pytest.fixture(scope="module")
def kent():
    """The Kent baseline's uncertainty settings, active interventions and CCHI weights."""
    scenario = load_scenario(BASELINE).scenario
    return scenario.uncertainty, scenario.active_interventions(), harm_weights(scenario.harm)


def measure(reduction: float = 0.2, confidence: str = "assumption", crime_types: tuple[str, ...] = ("Burglary",)) -> Intervention:
    return Intervention(
        name="Measure",
        crime_types=crime_types,
        max_reduction=reduction,
        cost_scale_gbp_per_1000_residents=1000.0,
        evidence="test",
        source="test",
        confidence=confidence,
    )


def draws_of(settings, interventions, weights, seed=7, draws=200):
    return draw_inputs(settings, interventions, weights, np.random.default_rng(seed), draws)


# ---------------------------------------------------------------- reproducibility and sources


def test_same_seed_gives_the_same_bytes(kent):
    """Two draws from generators in the same state are byte for byte alike."""
    first, second = draws_of(*kent), draws_of(*kent)
    for name in ("max_reduction", "cost_factor", "harm_weights"):
        assert getattr(first, name).tobytes() == getattr(second, name).tobytes()


def test_different_seeds_give_different_draws(kent):
    """Another seed gives other effects."""
    assert not np.array_equal(draws_of(*kent, seed=1).max_reduction, draws_of(*kent, seed=2).max_reduction)


@pytest.mark.parametrize("source", ["effects", "cost_scales", "harm_weights"])
def test_switched_off_source_stays_at_its_point(kent, source):
    """A source left out of `sources` is its point value in every draw."""
    settings, interventions, weights = kent
    off = dataclasses.replace(settings, sources=tuple(name for name in UNCERTAIN_SOURCES if name != source))
    drawn, point = draws_of(off, interventions, weights), point_inputs(off, interventions, weights)
    name = {"effects": "max_reduction", "cost_scales": "cost_factor", "harm_weights": "harm_weights"}[source]
    assert np.array_equal(getattr(drawn, name), np.repeat(getattr(point, name), drawn.draws, axis=0))


def test_switching_one_source_off_leaves_the_others_draws_alone(kent):
    """Every input consumes its uniforms whether it varies or not, so cost draws do not move when effects stop varying."""
    settings, interventions, weights = kent
    off = dataclasses.replace(settings, sources=("cost_scales",))
    assert np.array_equal(draws_of(off, interventions, weights).cost_factor, draws_of(settings, interventions, weights).cost_factor)


def test_point_inputs_are_the_catalogue_and_the_weight_table(kent):
    """At the point, effects are max_reduction, cost factors 1 and weights the shipped table."""
    settings, interventions, weights = kent
    point = point_inputs(settings, interventions, weights)
    assert point.max_reduction[0].tolist() == [item.max_reduction for item in interventions.values()]
    assert np.all(point.cost_factor == 1.0)
    assert np.array_equal(point.harm_weights[0], weights.weights.values)


def test_draws_are_read_only(kent):
    """The arrays of a draw cannot be changed in place."""
    with pytest.raises(ValueError):
        draws_of(*kent).max_reduction[0, 0] = 0.5


# ---------------------------------------------------------------- effects


def test_triangular_effect_stays_in_its_range_with_the_stated_mean(kent):
    """An 'assumption' effect of 20 % is triangular(0, 20 %, 40 %): inside the range, mean 20 % within sampling error."""
    settings, _, weights = kent
    drawn = draws_of(settings, {"measure": measure(0.2)}, weights, draws=20_000).max_reduction[:, 0]
    assert drawn.min() >= 0.0 and drawn.max() <= 0.4
    standard_error = 0.4 / np.sqrt(24) / np.sqrt(drawn.size)  # sd of triangular(0, 0.2, 0.4) is 0.4/√24
    assert abs(drawn.mean() - 0.2) < 4 * standard_error


@pytest.mark.parametrize(("confidence", "low", "high"), [("high", 0.15, 0.25), ("medium", 0.1, 0.3), ("low", 0.05, 0.35)])
def test_confidence_label_sets_the_range(kent, confidence, low, high):
    """Each confidence label's multiples of a 20 % effect give its range ends."""
    settings, _, weights = kent
    (item,) = uncertain_inputs(dataclasses.replace(settings, sources=("effects",)), {"m": measure(0.2, confidence)}, weights)
    assert (item.low, item.point, item.high) == pytest.approx((low, 0.2, high))


def test_triangular_effect_is_cut_at_a_full_reduction(kent):
    """A 70 % assumption effect ranges to 100 %, not 140 %."""
    settings, _, weights = kent
    drawn = draws_of(settings, {"m": measure(0.7)}, weights, draws=2_000).max_reduction
    assert drawn.max() <= 1.0


def published(low=0.08, high=0.45, level=0.95) -> UncertaintySettings:
    return UncertaintySettings(sources=("effects",), effects={"m": PublishedEffect(low=low, high=high, level=level, source="test")})


@pytest.mark.parametrize(("low", "high", "level"), [(0.08, 0.45, 0.95), (0.15, 0.25, 0.95), (0.02, 0.3, 0.9)])
def test_two_piece_normal_matches_the_published_interval(kent, low, high, level):
    """Over 100,000 draws, (1 − level)/2 of the effects fall below the interval and as many above, within sampling error."""
    weights = kent[2]
    drawn = draws_of(published(low, high, level), {"m": measure(0.2)}, weights, draws=100_000).max_reduction[:, 0]
    tail = (1 - level) / 2
    error = 4 * np.sqrt(tail * (1 - tail) / drawn.size)
    assert abs(np.mean(drawn < low) - tail) < error
    assert abs(np.mean(drawn > high) - tail) < error


def test_two_piece_normal_has_its_mode_at_max_reduction(kent):
    """The share of draws below the mode is σ₁/(σ₁+σ₂): for an asymmetric interval, the longer side holds more."""
    weights = kent[2]
    (item,) = uncertain_inputs(published(0.15, 0.45), {"m": measure(0.2)}, weights)
    assert item.quantile(np.array([0.025, 0.975])) == pytest.approx([0.15, 0.45], abs=1e-9)
    below = float(np.searchsorted(item.quantile(np.linspace(0, 1, 100_001)[1:-1]), 0.2)) / 100_000
    assert 0.05 < below < 0.5


def test_published_effect_is_worded_with_its_interval(kent):
    """The distribution names the interval, its level and the mode."""
    (item,) = uncertain_inputs(published(), {"m": measure(0.2)}, kent[2])
    assert item.distribution == "two-piece normal matched to the 95 % interval 8 %-45 %, mode 20 %, cut to 0-100 %"
    assert item.source == "test"


def test_one_interventions_effect_does_not_depend_on_anothers(kent):
    """Each effect is drawn on its own: a second measure on the same crime type leaves the first one's draws as they were."""
    settings, _, weights = kent
    alone = draws_of(settings, {"a": measure(0.5)}, weights, draws=5_000).max_reduction[:, 0]
    paired = draws_of(settings, {"a": measure(0.5), "b": measure(0.45)}, weights, draws=5_000).max_reduction[:, 0]
    assert np.quantile(paired, [0.05, 0.5, 0.95]) == pytest.approx(np.quantile(alone, [0.05, 0.5, 0.95]), rel=0.05)


# ---------------------------------------------------------------- cost scales


def test_cost_factor_is_lognormal_with_the_stated_range(kent):
    """Median 1 and 5th/95th percentiles 0.5 and 2, within sampling error over 100,000 draws."""
    settings, _, weights = kent
    factor = draws_of(settings, {"m": measure()}, weights, draws=100_000).cost_factor[:, 0]
    assert np.quantile(factor, [0.05, 0.5, 0.95]) == pytest.approx([0.5, 1.0, 2.0], rel=0.03)


# ---------------------------------------------------------------- the normal quantile and the two-piece fit, without scipy


def quantile_grid() -> np.ndarray:
    """Probabilities over all of (0, 1): an even grid, both tails down to 1e-300 (and subnormals), and either side of 0.5."""
    tails = np.logspace(-300, -1, 300_001)
    return np.concatenate(
        [
            np.linspace(0, 1, 1_000_001)[1:-1],
            tails,
            1 - np.logspace(-16, -1, 150_001),
            0.5 + np.logspace(-17, -1, 50_001),
            0.5 - np.logspace(-17, -1, 50_001),
            [5e-324, 1e-310, np.finfo(float).tiny, 0.075, 0.925, math.exp(-25), 1 - math.exp(-25)],
        ]
    )


def test_normal_quantile_matches_ndtri_on_a_dense_grid():
    """Within 1e-14 of scipy.special.ndtri relative to the value, and 1e-15 absolute within 0.1 of p = 0.5, over 1.55 million
    probabilities; at least a quarter come out bit for bit (about a third do: AS241 and ndtri are different approximations
    that each stop near the last bit)."""
    p = quantile_grid()
    ours, theirs = _normal_quantile(p), ndtri(p)
    assert np.all(np.isfinite(ours))
    relative = np.abs(ours - theirs) / np.where(theirs == 0, 1.0, np.abs(theirs))
    centre = np.abs(p - 0.5) < 0.1
    assert relative.max() <= 1e-14, f"largest relative difference {relative.max():.3g} at p = {p[np.argmax(relative)]!r}"
    assert np.abs(ours - theirs)[centre].max() <= 1e-15
    same = float(np.mean(ours == theirs))
    print(f"normal quantile: {same:.1%} of {p.size:,} values equal ndtri's bit for bit; largest relative difference {relative.max():.3g}")
    assert same >= 0.25


def test_normal_quantile_is_antisymmetric_to_the_bit():
    """Where 1 − p is exact (a dyadic grid), the quantile of 1 − p is minus the quantile of p in every bit."""
    p = np.arange(1, 2**18) / 2**18
    assert np.array_equal(_normal_quantile(1 - p), -_normal_quantile(p))


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0, -np.inf),
        (1.0, np.inf),
        (-0.0, -np.inf),
        (0.5, 0.0),
        (np.nan, np.nan),
        (-0.1, np.nan),
        (1.1, np.nan),
        (-np.inf, np.nan),
        (np.inf, np.nan),
        (1e300, np.nan),
    ],
)
def test_normal_quantile_edges_are_ndtris(p, expected):
    """−inf at 0, inf at 1, 0 at one half, nan for nan and outside [0, 1], as ndtri gives them (and with no warning)."""
    found = _normal_quantile(p)
    assert isinstance(found, np.floating)
    assert np.array_equal(found, expected, equal_nan=True)
    assert np.array_equal(found, ndtri(p), equal_nan=True)


def test_normal_quantile_keeps_the_shape():
    """An array comes back in its own shape, an empty one empty."""
    p = np.array([[0.0, 0.025, 0.5], [0.975, 1.0, np.nan]])
    found = _normal_quantile(p)
    assert found.shape == (2, 3)
    assert np.allclose(found, ndtri(p), rtol=1e-14, atol=0, equal_nan=True)
    assert _normal_quantile(np.array([])).shape == (0,)


def normal_cdf_tail(x: float) -> float:
    """Φ(−|x|) from math.erfc: accurate to the last bits however far out x is."""
    return math.erfc(abs(x) / math.sqrt(2)) / 2


@given(p=st.floats(1e-300, 1.0, exclude_max=True), q=st.floats(1e-300, 1.0, exclude_max=True))
def test_normal_quantile_is_monotone_and_inverts_the_cdf(p, q):
    """Φ(quantile(p)) is p (in the smaller tail, to a few parts in 1e15 times 1 + x², what a last-bit error in x moves
    it by), and a larger probability never has a smaller quantile, beyond the few units in the last place both this
    and ndtri wobble by between neighbouring probabilities."""
    x = float(_normal_quantile(p))
    tail = min(p, 1.0 - p)
    assert normal_cdf_tail(x) == pytest.approx(tail, rel=4e-15 * (1 + x * x), abs=0)
    assert (x < 0) == (p < 0.5)
    low, high = sorted((p, q))
    below, above = (float(value) for value in _normal_quantile(np.array([low, high])))
    assert below <= above + 8 * np.spacing(abs(above))


def old_two_piece_normal(mode: float, published: PublishedEffect):
    """The fit as it was with scipy (brentq on ndtri), kept here as the reference the numpy fit is held to."""
    tail = (1 - published.level) / 2
    below, above = mode - published.low, published.high - mode

    def scales(ratio):
        return -below / ndtri(tail * (1 + ratio) / 2), -above / ndtri(tail * (1 + ratio) / (2 * ratio))

    def mismatch(ratio):
        lower, upper = scales(ratio)
        return upper / lower - ratio

    edge = 1e-12
    ratio = brentq(mismatch, tail / (1 - tail) * (1 + edge), (1 / tail - 1) * (1 - edge), xtol=1e-14, rtol=1e-12)
    lower, upper = scales(ratio)
    share_below = lower / (lower + upper)

    def quantile(uniforms):
        left = mode + lower * ndtri(np.minimum(uniforms, share_below) / (2 * share_below))
        right = mode + upper * ndtri(0.5 + np.maximum(uniforms - share_below, 0.0) / (2 * (1 - share_below)))
        return np.clip(np.where(uniforms < share_below, left, right), 0.0, 1.0)

    return quantile


@pytest.mark.parametrize(
    ("mode", "low", "high", "level"),
    [
        (0.2, 0.08, 0.45, 0.95),
        (0.2, 0.15, 0.25, 0.95),
        (0.2, 0.02, 0.3, 0.9),
        (0.21, 0.1, 0.3, 0.95),
        (0.5, 0.49, 0.9, 0.99),
        (0.3, 0.01, 0.31, 0.5),
        (0.05, 0.0, 0.6, 0.8),
    ],
)
def test_two_piece_fit_is_the_scipy_fit(mode, low, high, level):
    """The bisection's fit gives the quantiles brentq's did, to 1e-12, from u = 1e-4 to 1 − 1e-4 and at the tornado's
    percentiles. (Further out the formula itself is ill-conditioned: near u = 1 − 1e-9 its argument rounds to a
    neighbouring double on a change of 1e-13 in the ratio, which moves the value by 1e-9 in either fit.)"""
    published = PublishedEffect(low=low, high=high, level=level, source="test")
    quantile, tornado_low, tornado_high = _two_piece_normal(mode, published)
    reference = old_two_piece_normal(mode, published)
    uniforms = np.linspace(1e-4, 1 - 1e-4, 20_001)
    assert np.max(np.abs(quantile(uniforms) - reference(uniforms))) <= 1e-12
    assert [tornado_low, tornado_high] == pytest.approx(reference(np.array([0.05, 0.95])), abs=1e-12)


@given(
    low=st.floats(0.0, 0.5),
    under=st.floats(0.005, 0.25),
    over=st.floats(0.005, 0.25),
    level=st.floats(0.5, 0.99),
)
def test_two_piece_fit_puts_the_tails_at_the_interval(low, under, over, level):
    """For any interval around the mode, the fitted quantiles at (1 − level)/2 and (1 + level)/2 are its ends."""
    mode = low + under
    published = PublishedEffect(low=low, high=mode + over, level=level, source="test")
    quantile, _, _ = _two_piece_normal(mode, published)
    tail = (1 - level) / 2
    assert quantile(np.array([tail, 1 - tail])) == pytest.approx([published.low, published.high], abs=1e-10)


def test_bisection_finds_a_root_to_its_tolerance():
    """√2 as the root of x² − 2 in [0, 2], to the last bits; an exact zero at an end is that end."""
    assert _bisect(lambda x: x * x - 2, 0.0, 2.0, xtol=0.0, rtol=1e-15) == pytest.approx(math.sqrt(2), rel=2e-15)
    assert abs(_bisect(lambda x: x * x - 2, 0.0, 2.0, xtol=1e-6, rtol=0.0) - math.sqrt(2)) <= 1e-6
    assert _bisect(lambda x: x - 1.0, 1.0, 3.0, xtol=1e-12, rtol=0.0) == 1.0


def test_bisection_without_a_sign_change_is_refused():
    """No sign change between the ends is an internal error, as brentq's ValueError was."""
    with pytest.raises(InternalError, match="no sign change"):
        _bisect(lambda x: x * x + 1, -1.0, 1.0, xtol=1e-12, rtol=1e-12)


def loaded_modules(code: str) -> set[str]:
    """The full names of the modules a fresh interpreter has loaded after running `code`."""
    script = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return set(output.split())


def test_drawing_the_kent_inputs_loads_no_scipy_special_or_optimize():
    """What a Monte Carlo draws here (the Kent baseline's effects, cost scales and harm weights, as verdicts.draw_world
    draws them, with the tornado's inputs) and a published interval's fit load neither scipy.special nor scipy.optimize:
    importing them costs 0.2-0.3 s of a cold start."""
    code = f"""
import dataclasses
import numpy as np
from simulator.harm import harm_weights
from simulator.scenario import load_scenario
from simulator.schema import PublishedEffect
from simulator.uncertainty import draw_inputs, uncertain_inputs
scenario = load_scenario({str(BASELINE)!r}).scenario
settings, interventions, weights = scenario.uncertainty, scenario.active_interventions(), harm_weights(scenario.harm)
draw_inputs(settings, interventions, weights, np.random.default_rng(1), 1000)
uncertain_inputs(settings, interventions, weights)
published = {{"street_lighting": PublishedEffect(low=0.1, high=0.3, level=0.95, source="test")}}
draw_inputs(dataclasses.replace(settings, effects=published), interventions, weights, np.random.default_rng(1), 1000)
"""
    loaded = loaded_modules(code)
    assert "simulator.uncertainty" in loaded
    found = sorted(name for name in loaded if name.split(".")[:2] in (["scipy", "special"], ["scipy", "optimize"]))
    assert found == []


# ---------------------------------------------------------------- harm splits


def test_split_weights_are_the_shipped_weights_at_their_shares(kent):
    """Each of the four shipped splits gives back the table's weight at its assumed share (VSO 160.6)."""
    settings, _, weights = kent
    for split in settings.harm_splits.values():
        assert weight_at_share(weights, split, split.share) == weights.of(split.crime_type)
    assert weight_at_share(weights, settings.harm_splits["rape_share"], 0.35) == 160.6


@pytest.mark.parametrize(
    ("split", "low", "high"),
    [
        ("burglary_residential_share", 228.5, 251.9),
        ("arson_share", 5.66, 17.555),
        ("drug_trafficking_share", 3.3, 4.0),
        ("rape_share", 149.92, 192.63),
    ],
)
def test_split_ranges_give_the_stated_weights(kent, split, low, high):
    """The shipped ranges give the weights their sources state (inside or near the force-level blends)."""
    settings, _, weights = kent
    found = settings.harm_splits[split]
    assert (weight_at_share(weights, found, found.low), weight_at_share(weights, found, found.high)) == pytest.approx((low, high), abs=0.01)


def test_drawn_weights_stay_within_the_split_range(kent):
    """Drawn VSO weights lie between the weights at the rape share's range ends."""
    settings, interventions, weights = kent
    drawn = draws_of(settings, interventions, weights, draws=5_000).harm_weights[:, VSO]
    assert 149.9 <= drawn.min() and drawn.max() <= 192.7


def test_overridden_weight_is_not_uncertain(kent):
    """A weight set by harm.overrides is the scenario's: its split neither varies it nor is listed."""
    settings, interventions, _ = kent
    weights = harm_weights(HarmSettings(overrides={"Violence and sexual offences": 200.0}))
    drawn = draws_of(settings, interventions, weights).harm_weights[:, VSO]
    assert np.all(drawn == 200.0)
    assert "harm_split:rape_share" not in {item.key for item in uncertain_inputs(settings, interventions, weights)}


def test_count_weight_set_has_no_splits(kent):
    """With the count set every record weighs 1 in every draw, and the headline names no split."""
    settings, interventions, _ = kent
    weights = harm_weights(HarmSettings(weight_set="count"))
    assert np.all(draws_of(settings, interventions, weights).harm_weights == 1.0)
    assert "split" not in describe_sources(settings, interventions, weights)


def test_uniform_split_covers_its_range_evenly(kent):
    """A uniform split's shares spread evenly over low-high: a quarter of draws in each quarter of the range."""
    settings, interventions, weights = kent
    split = dataclasses.replace(settings.harm_splits["drug_trafficking_share"], distribution="uniform")
    only = dataclasses.replace(settings, sources=("harm_weights",), harm_splits={"drugs": split})
    drawn = draws_of(only, interventions, weights, draws=40_000).harm_weights[:, CRIME_TYPES.index("Drugs")]
    shares = (drawn - 3.0) / 2.0
    counts = np.histogram(shares, bins=4, range=(0.15, 0.5))[0] / drawn.size
    assert counts == pytest.approx([0.25] * 4, abs=0.01)


# ---------------------------------------------------------------- tornado inputs and wording


def test_uncertain_inputs_list_only_what_varies(kent):
    """With only cost scales varying, the inputs are one cost scale per intervention."""
    settings, interventions, weights = kent
    keys = [item.key for item in uncertain_inputs(dataclasses.replace(settings, sources=("cost_scales",)), interventions, weights)]
    assert keys == [f"cost_scale:{item_id}" for item_id in interventions]


def test_kent_inputs_are_effects_costs_and_four_splits(kent):
    """The Kent baseline varies each active intervention's effect and cost scale and the four shipped splits."""
    settings, interventions, weights = kent
    keys = [item.key for item in uncertain_inputs(settings, interventions, weights)]
    assert keys == (
        [f"effect:{item_id}" for item_id in interventions]
        + [f"cost_scale:{item_id}" for item_id in interventions]
        + [f"harm_split:{split}" for split in ("burglary_residential_share", "arson_share", "drug_trafficking_share", "rape_share")]
    )


def test_every_input_has_a_source_and_a_range_around_its_point(kent):
    """Each input states its source and distribution, and low <= point <= high."""
    for item in uncertain_inputs(*kent):
        assert item.source and item.distribution and item.label
        assert item.low <= item.point <= item.high


def test_one_at_a_time_moves_only_the_named_input(kent):
    """Setting one effect to its low end leaves every other input at its point value."""
    settings, interventions, weights = kent
    point = point_inputs(settings, interventions, weights)
    moved = one_at_a_time(settings, interventions, weights, "effect:cctv", 0.025)
    column = list(interventions).index("cctv")
    assert moved.max_reduction[0, column] == 0.025
    assert np.array_equal(np.delete(moved.max_reduction, column, axis=1), np.delete(point.max_reduction, column, axis=1))
    assert np.array_equal(moved.cost_factor, point.cost_factor) and np.array_equal(moved.harm_weights, point.harm_weights)


def test_one_at_a_time_on_a_split_moves_its_weight(kent):
    """The rape share at 0.5 gives a VSO weight of about 192.6 days and leaves the other weights alone."""
    settings, interventions, weights = kent
    moved = one_at_a_time(settings, interventions, weights, "harm_split:rape_share", 0.5).harm_weights[0]
    assert moved[VSO] == pytest.approx(192.63, abs=0.01)
    assert np.array_equal(np.delete(moved, VSO), np.delete(weights.weights.values, VSO))


def test_at_picks_one_draw(kent):
    """InputDraws.at gives a single draw equal to that row."""
    drawn = draws_of(*kent)
    assert np.array_equal(drawn.at(3).cost_factor[0], drawn.cost_factor[3])


def test_describe_sources_names_what_varies(kent):
    """The headline phrase for Kent counts its interventions and splits."""
    settings, interventions, weights = kent
    assert describe_sources(settings, interventions, weights) == (
        f"counts (each area's rate and negative binomial noise, and a force-wide swing), the forecast's parameter error, the effects of {len(interventions)} interventions, "
        "their cost scales and 4 assumed splits behind harm weights"
    )


def test_describe_sources_with_nothing_varying():
    """With no source on, the phrase says every input is at its point value."""
    assert describe_sources(UncertaintySettings(sources=())) == "nothing: every input at its point value"


def test_every_source_is_worded():
    """The descriptions word exactly the sources the schema allows."""
    assert set(SOURCE_DESCRIPTIONS) == set(UNCERTAIN_SOURCES)


@given(
    low=st.floats(0.0, 1.0),
    high=st.floats(1.0, 3.0),
    reduction=st.floats(0.01, 0.6),
    uniform=st.floats(0.0, 1.0, exclude_max=True),
)
def test_any_effect_range_draws_inside_it(low, high, reduction, uniform):
    """For any range holding the stated effect, the inverse CDF stays in [low × r, min(high × r, 1)]."""
    ranges = EffectRanges(assumption=EffectRange(low=low, high=high))
    settings = UncertaintySettings(sources=("effects",), effect_ranges=ranges)
    (item,) = uncertain_inputs(settings, {"m": measure(reduction)}, harm_weights(HarmSettings()))
    value = float(item.quantile(np.array([uniform]))[0])
    assert low * reduction - 1e-12 <= value <= min(high * reduction, 1.0) + 1e-12


# ---------------------------------------------------------------- configuration errors


def write_scenario(tmp_path, body: str):
    path = tmp_path / "what-if.toml"
    path.write_text(f'extends = "{BASELINE.as_posix()}"\n{body}\n', encoding="utf-8")
    return path


def refused(tmp_path, body: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_scenario(write_scenario(tmp_path, body))
    return caught.value


EFFECT = '[uncertainty.effects.{id}]\nlow = {low}\nhigh = {high}\nlevel = {level}\nsource = "test"'


def test_kent_loads_with_the_shipped_defaults():
    """The baseline carries all five sources, the 10 % shares, no published effect interval and four splits."""
    settings = load_scenario(BASELINE).scenario.uncertainty
    assert settings.sources == UNCERTAIN_SOURCES
    assert (settings.marginal_share, settings.tail_share) == (0.1, 0.1)
    assert settings.effects == {}
    assert len(settings.harm_splits) == 4


def test_published_effect_loads_and_is_drawn(tmp_path):
    """A published interval around an intervention's max_reduction loads and replaces its label range."""
    scenario = load_scenario(write_scenario(tmp_path, EFFECT.format(id="street_lighting", low=0.1, high=0.3, level=0.95))).scenario
    inputs = uncertain_inputs(scenario.uncertainty, scenario.active_interventions(), harm_weights(scenario.harm))
    assert next(item for item in inputs if item.key == "effect:street_lighting").distribution.startswith("two-piece normal")


def test_effect_for_an_unknown_intervention_is_refused(tmp_path):
    """An interval keyed by no intervention names the file, the key and the close id."""
    error = refused(tmp_path, EFFECT.format(id="street_lightning", low=0.1, high=0.3, level=0.95))
    assert (error.key, error.what, error.got) == (
        "uncertainty.effects.street_lightning",
        "names an unknown intervention",
        "street_lightning",
    )
    assert error.file.endswith("what-if.toml") and "street_lighting" in error.hint


def test_max_reduction_outside_its_published_interval_is_refused(tmp_path):
    """An interval that does not hold the catalogue's max_reduction names both keys and the interval's file."""
    error = refused(tmp_path, EFFECT.format(id="street_lighting", low=0.25, high=0.4, level=0.95))
    assert (error.key, error.what, error.got) == (
        "uncertainty.effects.street_lighting",
        "does not hold interventions.street_lighting.max_reduction",
        0.21,
    )
    assert error.file.endswith("what-if.toml")


def test_published_interval_with_low_above_high_is_refused(tmp_path):
    """low above high is one error at the interval's low."""
    error = refused(tmp_path, EFFECT.format(id="street_lighting", low=0.3, high=0.1, level=0.95))
    assert (error.key, error.what, error.more) == ("uncertainty.effects.street_lighting.low", "is not below high", ())


@pytest.mark.parametrize("level", [0, 1.0, 1.5, -0.1])
def test_level_outside_zero_to_one_is_refused(tmp_path, level):
    """A coverage of 0, 1 or beyond is out of range at its key."""
    error = refused(tmp_path, EFFECT.format(id="street_lighting", low=0.1, high=0.3, level=level))
    assert (error.key, error.what) == ("uncertainty.effects.street_lighting.level", "is out of range")


def test_unknown_source_is_refused_with_a_suggestion(tmp_path):
    """A misspelt source names the key, the value and the closest source."""
    error = refused(tmp_path, '[uncertainty]\nsources = ["counts", "efects"]')
    assert (error.key, error.what, error.got) == ("uncertainty.sources", "unknown source of uncertainty", "efects")
    assert error.hint == "did you mean 'effects'?" and error.file.endswith("what-if.toml")


def test_split_share_outside_its_range_is_refused(tmp_path):
    """A share above its split's high end is one error at the share."""
    error = refused(tmp_path, "[uncertainty.harm_splits.rape_share]\nshare = 0.6")
    assert (error.key, error.what, error.got) == ("uncertainty.harm_splits.rape_share.share", "is not inside [low, high]", 0.6)
    assert error.file.endswith("what-if.toml")


def test_split_with_low_above_high_is_refused(tmp_path):
    """A split whose low end is above its high end says so."""
    error = refused(tmp_path, "[uncertainty.harm_splits.rape_share]\nlow = 0.6\nhigh = 0.2")
    assert (error.key, error.what) == ("uncertainty.harm_splits.rape_share.low", "is not below high")


def test_split_on_an_unknown_crime_type_is_refused(tmp_path):
    """A split's crime type must be one of the 14 police.uk categories."""
    error = refused(tmp_path, '[uncertainty.harm_splits.rape_share]\ncrime_type = "Sexual offences"')
    assert (error.key, error.what) == ("uncertainty.harm_splits.rape_share.crime_type", "is not one of the allowed values")


def test_effect_range_not_holding_the_stated_effect_is_refused(tmp_path):
    """A label range whose high end is below 1 × the effect is out of range at its key."""
    error = refused(tmp_path, "[uncertainty.effect_ranges.low]\nhigh = 0.8")
    assert (error.key, error.what) == ("uncertainty.effect_ranges.low.high", "is out of range")


def test_cost_median_outside_its_range_is_refused(tmp_path):
    """A cost median not between low and high is one error at the median."""
    error = refused(tmp_path, "[uncertainty.cost_scales]\nmedian = 3.0")
    assert (error.key, error.what) == ("uncertainty.cost_scales.median", "is not between low and high")


def test_harm_weights_alone_are_the_bytes_of_a_full_draw(kent):
    """Drawing only the harm weights (all the rules read) keeps them as a full draw gives them; effects and cost scales
    stay at their point values."""
    settings, interventions, weights = kent
    full = draws_of(settings, interventions, weights)
    alone = draw_inputs(settings, interventions, weights, np.random.default_rng(7), 200, harm_weights_only=True)
    assert np.array_equal(alone.harm_weights, full.harm_weights)
    assert np.array_equal(alone.max_reduction[0], [item.max_reduction for item in interventions.values()])
    assert np.all(alone.cost_factor == 1.0)
