"""Eligibility rules: thresholds of every kind, combination, and reasons."""

from __future__ import annotations

import dataclasses
import typing

import numpy as np
import pytest
from conftest import BASELINE, SCENARIOS
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.arrays import Labelled
from simulator.demand import build_demand
from simulator.eligibility import RATE_ESTIMATORS, assess, eligible_in_draws, rules_passed_in_draws
from simulator.errors import ConfigError, InternalError, RuleError
from simulator.inputs import Areas, load_areas
from simulator.scenario import load_scenario
from simulator.schema import CRIME_TYPES, DataSource, DemandSettings, FundRound, HarmSettings, Rule

VIOLENCE = ("Violence and sexual offences",)


@pytest.fixture(scope="module")
def demand():
    return build_demand(load_areas(DataSource()), HarmSettings(), DemandSettings())


def fund_round(*rules: Rule, combine: str = "all") -> FundRound:
    return FundRound(
        name="test",
        period="now",
        pot_gbp=1.0,
        max_grant_gbp=1.0,
        crime_basket=VIOLENCE,
        combine=combine,
        rules={f"r{i}": rule for i, rule in enumerate(rules)},
        source="test",
    )


def eligible_names(demand, verdict):
    return {name for name, ok in zip(demand.areas.names, verdict.eligible.values) if ok}


def test_force_mean_rule_uses_the_population_weighted_force_rate(demand):
    """Violence at or above the Kent rate (33.9 per 1,000): 7 districts, Thanet highest."""
    rule = Rule(metric="rate_per_1000", crime_types=VIOLENCE, threshold_kind="force_mean", threshold=1.0)
    verdict = assess(demand, "t", fund_round(rule))
    assert verdict.outcomes[0].thresholds[0] == pytest.approx(33.87, abs=0.01)
    assert eligible_names(demand, verdict) == {"Thanet", "Medway", "Swale", "Canterbury", "Dartford", "Dover", "Gravesham"}


def test_rank_rule_takes_the_top_n(demand):
    """Top 3 for violence per 1,000: Thanet, Medway, Swale."""
    rule = Rule(metric="rate_per_1000", crime_types=VIOLENCE, threshold_kind="rank", threshold=3)
    assert eligible_names(demand, assess(demand, "t", fund_round(rule))) == {"Thanet", "Medway", "Swale"}


def test_percentile_rule_takes_the_top_share(demand):
    """Top 25 % by neighbourhood-crime count (harm days ranks Medway first)."""
    rule = Rule(metric="count", crime_types=("Burglary",), threshold_kind="percentile", threshold=25)
    verdict = assess(demand, "t", fund_round(rule))
    assert int(verdict.eligible.values.sum()) == 4
    assert "Medway" in eligible_names(demand, verdict)


def test_absolute_rule_compares_with_a_fixed_value(demand):
    """Violence above 45 per 1,000: Thanet alone."""
    rule = Rule(metric="rate_per_1000", crime_types=VIOLENCE, threshold_kind="absolute", threshold=45, operator=">")
    assert eligible_names(demand, assess(demand, "t", fund_round(rule))) == {"Thanet"}


def test_all_and_any_combine_rules(demand):
    """'all' needs both rules, 'any' one of them."""
    top3 = Rule(metric="rate_per_1000", crime_types=VIOLENCE, threshold_kind="rank", threshold=3)
    dartford = Rule(
        metric="rate_per_1000",
        crime_types=("Burglary", "Robbery", "Theft from the person", "Vehicle crime"),
        threshold_kind="rank",
        threshold=1,
    )
    assert eligible_names(demand, assess(demand, "t", fund_round(top3, dartford))) == set()
    assert eligible_names(demand, assess(demand, "t", fund_round(top3, dartford, combine="any"))) == {
        "Thanet",
        "Medway",
        "Swale",
        "Dartford",
    }


def test_round_without_rules_makes_every_area_eligible(demand):
    """A direct-award round (no area test) makes all 13 districts eligible, and says why."""
    verdict = assess(demand, "t", fund_round())
    assert verdict.eligible.values.all()
    assert verdict.reasons[0] == "eligible: the round sets no area test"


def test_margin_is_value_minus_threshold(demand):
    """The margin says how far an area is above (positive) or below (negative) the threshold."""
    rule = Rule(metric="rate_per_1000", crime_types=VIOLENCE, threshold_kind="force_mean", threshold=1.0)
    outcome = assess(demand, "t", fund_round(rule)).outcomes[0]
    np.testing.assert_allclose(outcome.margins, outcome.values - outcome.thresholds)
    assert np.array_equal(outcome.passed, outcome.margins >= 0)


def test_reason_states_value_threshold_and_result(demand):
    """Each verdict's reason gives the value, the threshold and its basis."""
    rule = Rule(metric="rate_per_1000", crime_types=VIOLENCE, threshold_kind="force_mean", threshold=1.0, description="violence per 1,000")
    verdict = assess(demand, "t", fund_round(rule))
    thanet = demand.areas.codes.index("E07000114")
    assert verdict.reasons[thanet] == "eligible: violence per 1,000 47.9 ≥ 33.9 (1 × Kent average): passes"


def test_fractional_rank_is_a_rule_error(demand):
    """A rank threshold of 2.5 areas is refused, naming the rule's key."""
    rule = Rule(metric="count", crime_types=VIOLENCE, threshold_kind="rank", threshold=2.5)
    with pytest.raises(RuleError) as caught:
        assess(demand, "t", fund_round(rule))
    assert caught.value.key == "rounds.t.rules.r0.threshold"


def test_percentile_over_100_is_a_rule_error(demand):
    """A percentile above 100 is refused."""
    rule = Rule(metric="count", crime_types=VIOLENCE, threshold_kind="percentile", threshold=150)
    with pytest.raises(RuleError):
        assess(demand, "t", fund_round(rule))


def test_kent_round_4_verdicts():
    """The baseline's round 4 test (any of three rates at or above Kent's) passes 9 of 13 districts."""
    loaded = load_scenario(BASELINE)
    demand = build_demand(load_areas(loaded.scenario.data), HarmSettings(), DemandSettings())
    verdict = assess(demand, "safer-streets-4", loaded.scenario.round)
    assert eligible_names(demand, verdict) == {
        "Canterbury",
        "Dartford",
        "Dover",
        "Gravesham",
        "Maidstone",
        "Medway",
        "Sevenoaks",
        "Swale",
        "Thanet",
    }


def test_percentile_within_parent_ranks_inside_each_district():
    """At LSOA level a 'top 20 % of the district' rule passes about a fifth of each district's LSOAs."""
    lsoa = DataSource(
        level="lsoa",
        areas="embedded:kent_lsoa21.csv",
        crime_counts="embedded:kent_lsoa_crime_2024-01_to_2024-04.csv",
        period_start="2024-01",
        period_end="2024-04",
    )
    small = build_demand(load_areas(lsoa), HarmSettings(), DemandSettings())
    rule = Rule(metric="rate_per_1000", crime_types=("Burglary",), threshold_kind="percentile", threshold=20, within="parent")
    verdict = assess(small, "t", fund_round(rule))
    parents = np.array(small.areas.parents)
    for parent in set(small.areas.parents):
        members = parents == parent
        share = verdict.eligible.values[members].mean()
        assert 0.18 <= share <= 0.30, (parent, share)
    medway = small.areas.parents.index("E06000035")
    assert verdict.outcomes[0].explain(medway, "Kent").endswith(("passes", "fails"))
    assert "in Medway" in verdict.outcomes[0].explain(medway, "Kent")


# Verdicts in many draws, shrunk rates and margins in records.

SCENARIO_FILES = ("kent-baseline.toml", "kent-lsoa-2024.toml", "kent-vawg-round.toml", "kent-maidstone-violence-surge.toml")
BURGLARY = CRIME_TYPES.index("Burglary")


def scenario_demand(file_name: str):
    loaded = load_scenario(SCENARIOS / file_name)
    scenario = loaded.scenario
    return scenario, build_demand(load_areas(scenario.data), scenario.harm, scenario.demand, scenario.shocks)


@pytest.fixture(scope="module")
def lsoa_demand():
    return scenario_demand("kent-lsoa-2024.toml")[1]


def repeated(demand, draws: int) -> np.ndarray:
    """The demand's own records, the same in every draw."""
    return np.repeat(demand.records.values[None], draws, axis=0)


def assert_draws_match(demand, round_id: str, round_: FundRound, estimator: str) -> None:
    """One draw and three identical draws of the demand's own records give assess's verdicts and each rule's passes."""
    verdict = assess(demand, round_id, round_, rate_estimator=estimator)
    weights = np.repeat(demand.weights.weights.values[None], 3, axis=0)
    one = eligible_in_draws(demand, round_, repeated(demand, 1), rate_estimator=estimator)
    three = eligible_in_draws(demand, round_, repeated(demand, 3), weights, rate_estimator=estimator)
    assert np.array_equal(one[0], verdict.eligible.values)
    assert all(np.array_equal(row, verdict.eligible.values) for row in three)
    passed = rules_passed_in_draws(demand, round_, repeated(demand, 3), weights, estimator)
    assert passed.shape == (3, len(verdict.outcomes), len(demand.areas.codes))
    for position, outcome in enumerate(verdict.outcomes):
        assert all(np.array_equal(passed[d, position], outcome.passed) for d in range(3))


@pytest.mark.parametrize("estimator", ["observed", "shrunk"])
@pytest.mark.parametrize("file_name", SCENARIO_FILES)
def test_draws_of_the_demands_own_records_give_assess_verdicts_for_every_shipped_round(file_name, estimator):
    """Every shipped round, at district and LSOA level, either estimator: the draws' verdicts are assess's."""
    scenario, demand = scenario_demand(file_name)
    for round_id, round_ in scenario.rounds.items():
        assert_draws_match(demand, round_id, round_, estimator)


METRICS = ("rate_per_1000", "count", "harm_days", "harm_per_1000", "share_of_force")
THRESHOLDS = {
    "absolute": st.floats(0.0, 200.0),
    "force_mean": st.floats(0.5, 1.5),
    "rank": st.integers(1, 15).map(float),
    "percentile": st.floats(1.0, 100.0),
}


@st.composite
def random_rules(draw) -> Rule:
    """Any metric, threshold kind, operator and peers over one to four crime types."""
    kind = draw(st.sampled_from(tuple(THRESHOLDS)))
    return Rule(
        metric=draw(st.sampled_from(METRICS)),
        crime_types=tuple(draw(st.lists(st.sampled_from(CRIME_TYPES), min_size=1, max_size=4, unique=True))),
        threshold_kind=kind,
        threshold=draw(THRESHOLDS[kind]),
        operator=draw(st.sampled_from([">=", ">", "<=", "<"])),
        within=draw(st.sampled_from(["force", "parent"])),
    )


@given(
    rules=st.lists(random_rules(), min_size=1, max_size=3),
    combine=st.sampled_from(["all", "any"]),
    estimator=st.sampled_from(["observed", "shrunk"]),
)
@settings(max_examples=40)
def test_draws_of_the_demands_own_records_give_assess_verdicts_for_random_rules(demand, lsoa_demand, rules, combine, estimator):
    """Random rounds, at district and LSOA level: the draws' verdicts and each rule's passes are assess's."""
    for each in (demand, lsoa_demand):
        assert_draws_match(each, "t", fund_round(*rules, combine=combine), estimator)


def rebuilt(demand, records: np.ndarray, overrides: dict | None = None):
    """The demand built afresh from other records of the data period (and harm weight overrides)."""
    areas = dataclasses.replace(demand.areas, counts=demand.areas.counts.with_values(records))
    return build_demand(areas, HarmSettings(overrides=overrides or {}), DemandSettings())


@pytest.mark.parametrize("estimator", ["observed", "shrunk"])
def test_each_draw_is_judged_among_its_own_peers(demand, estimator):
    """Draws of other records (one with no burglary at all) and other weights give, draw by draw, the verdicts of
    assess on a demand built from that draw: thresholds are recomputed in every draw."""
    generator = np.random.default_rng(7)
    records = generator.poisson(
        demand.records.values[None] * generator.uniform(0.7, 1.3, (3, 1, 1)), size=(3, *demand.records.values.shape)
    )
    records = records.astype(float)
    records[2, :, BURGLARY] = 0.0
    weights = np.repeat(demand.weights.weights.values[None], 3, axis=0)
    weights[1, BURGLARY] *= 3.0
    rules = (
        Rule(metric="rate_per_1000", crime_types=("Burglary", "Robbery"), threshold_kind="force_mean", threshold=1.0),
        Rule(metric="harm_per_1000", crime_types=("Burglary", "Robbery"), threshold_kind="rank", threshold=4),
        Rule(metric="harm_days", crime_types=("Burglary",), threshold_kind="percentile", threshold=40),
    )
    for combine in ("all", "any"):
        round_ = fund_round(*rules, combine=combine)
        verdicts = eligible_in_draws(demand, round_, records, weights, estimator)
        for d in range(3):
            overrides = {"Burglary": float(weights[d, BURGLARY])} if d == 1 else None
            expected = assess(rebuilt(demand, records[d], overrides), "t", round_, rate_estimator=estimator)
            assert np.array_equal(verdicts[d], expected.eligible.values), (combine, d)
    assert not rules_passed_in_draws(demand, fund_round(*rules), records, weights, estimator)[2, 2].any()


def test_harm_rules_measure_the_demands_harm_to_the_bit(demand):
    """A harm-days rule's values are the demand's own harm over the horizon, summed over the rule's crime types."""
    rule = Rule(metric="harm_days", crime_types=("Burglary", "Shoplifting"), threshold_kind="rank", threshold=3)
    outcome = assess(demand, "t", fund_round(rule)).outcomes[0]
    assert np.array_equal(outcome.values, demand.harm.take("crime_type", rule.crime_types).values.sum(axis=1))


def test_draws_need_records_shaped_draws_by_areas_by_crime_types(demand):
    """Records without a draws axis are a programming error, said with the shape expected."""
    with pytest.raises(InternalError, match="draws, 13 areas, 14 crime types"):
        eligible_in_draws(demand, fund_round(), demand.records.values)


def test_an_unknown_rate_estimator_is_a_config_error(demand):
    """Only the estimators RATE_ESTIMATORS names are accepted, and the error names the scenario key."""
    with pytest.raises(ConfigError) as caught:
        assess(demand, "t", fund_round(), rate_estimator="smoothed")
    assert caught.value.key == "demand.rate_estimator"


def test_the_schema_offers_exactly_the_rate_estimators_eligibility_knows():
    """demand.rate_estimator's choices are RATE_ESTIMATORS' keys."""
    hints = typing.get_type_hints(DemandSettings)
    assert set(typing.get_args(hints["rate_estimator"])) == set(RATE_ESTIMATORS)


def synthetic_demand(population, burglaries, parents, months: int = 12, forces: tuple[str, ...] = ()):
    """Areas of Testshire (or of the given forces, one per area) with the given residents, burglaries over the data period
    and parents (no other records)."""
    codes = tuple(f"E0{position:07d}" for position in range(len(population)))
    counts = np.zeros((len(codes), len(CRIME_TYPES)))
    counts[:, BURGLARY] = burglaries
    areas = Areas(
        level="lsoa",
        codes=codes,
        names=tuple(f"Area {position}" for position in range(len(codes))),
        parents=tuple(parents),
        population=Labelled(np.array(population, dtype=float), ("area",), (codes,), "population", "residents"),
        counts=Labelled(counts, ("area", "crime_type"), (codes, CRIME_TYPES), "records", "records"),
        period_start="2024-01",
        period_end=f"2024-{months:02d}",
        force_name="Testshire",
        description="test",
        sources=(),
        population_source="test",
        count_source="test",
        forces=tuple(forces),
    )
    return build_demand(areas, HarmSettings(), DemandSettings())


BURGLARY_RATE = Rule(metric="rate_per_1000", crime_types=("Burglary",), threshold_kind="force_mean", threshold=1.0)


def rates(demand, estimator: str, rule: Rule = BURGLARY_RATE) -> np.ndarray:
    return assess(demand, "t", fund_round(rule), rate_estimator=estimator).outcomes[0].values


def test_shrinkage_matches_a_hand_computed_posterior_mean():
    """Three areas of one district, a year of records; α and the posterior mean worked by hand.

    Exposure (thousand resident-years) 0.1, 2, 2; records 3, 20, 40: pooled rate m = 63 / 4.1 = 15.366;
    weighted variance of the rates (30, 10, 20) about m = Σ e (r − m)² / Σ e = 29.74, less Poisson m ÷ mean exposure
    (15.366 / 1.3667 = 11.24) = 18.50 = m² / α, so α = 12.76 and the small area's rate is
    (3 + α) / (0.1 + α / m) = 16.94 (from 30).
    """
    shrunk = rates(synthetic_demand([100, 2000, 2000], [3, 20, 40], ["P", "P", "P"]), "shrunk")
    exposure, records = np.array([0.1, 2.0, 2.0]), np.array([3.0, 20.0, 40.0])
    pooled = records.sum() / exposure.sum()
    between = (exposure * (records / exposure - pooled) ** 2).sum() / exposure.sum() - pooled / exposure.mean()
    alpha = pooled**2 / between
    np.testing.assert_allclose(shrunk, (records + alpha) / (exposure + alpha / pooled), rtol=1e-12)
    assert shrunk[0] == pytest.approx(16.94, abs=0.01)


def test_shrinkage_pulls_a_tiny_outlier_to_its_district_and_leaves_a_large_area_almost_as_it_was():
    """A 60-resident area with a rate of 100 per 1,000 moves most of the way to its district's rate (7.9); a
    6,000-resident area moves by under 2 %; each district's areas move toward their own district's rate."""
    population = [60, 6000, 1500, 1500, 1500, 3000, 3000, 3000]
    burglaries = [6, 40, 12, 5, 20, 30, 60, 90]
    parents = ["A"] * 5 + ["B"] * 3
    demand = synthetic_demand(population, burglaries, parents)
    observed, shrunk = rates(demand, "observed"), rates(demand, "shrunk")
    district_a = sum(burglaries[:5]) / sum(population[:5]) * 1000
    assert observed[0] == pytest.approx(100.0)
    assert abs(shrunk[0] - district_a) < 0.5 * abs(observed[0] - district_a)
    assert abs(shrunk[1] - observed[1]) < 0.02 * observed[1]
    district_b = sum(burglaries[5:]) / sum(population[5:]) * 1000
    assert np.all(np.abs(shrunk[5:] - district_b) <= np.abs(observed[5:] - district_b))


def test_without_extra_poisson_spread_shrinkage_changes_nothing():
    """Rates that vary less than count noise would make them (here 10 and 11 per 1,000 on 1,000 residents each, where
    Poisson noise alone has a standard deviation of 3) leave α at 0: the shrunk rates are the observed ones, exactly."""
    demand = synthetic_demand([1000, 1000, 1000, 1000], [10, 11, 10, 11], ["P"] * 4)
    assert np.array_equal(rates(demand, "shrunk"), rates(demand, "observed"))


def test_the_force_figure_is_the_same_under_either_estimator(lsoa_demand):
    """Pooling moves areas toward their district, never the force-wide rate the force_mean threshold uses."""
    observed = assess(lsoa_demand, "t", fund_round(BURGLARY_RATE)).outcomes[0]
    shrunk = assess(lsoa_demand, "t", fund_round(BURGLARY_RATE), rate_estimator="shrunk").outcomes[0]
    assert np.array_equal(observed.thresholds, shrunk.thresholds)
    assert not np.array_equal(observed.values, shrunk.values)


ACQUISITIVE = ("Burglary", "Robbery", "Theft from the person", "Vehicle crime", "Other theft", "Bicycle theft", "Shoplifting")


def top_ten(demand, crime_types: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The ten highest rates per 1,000 under each estimator, as area positions."""
    rule = Rule(metric="rate_per_1000", crime_types=crime_types, threshold_kind="rank", threshold=10)
    return {estimator: np.argsort(-rates(demand, estimator, rule), kind="stable")[:10] for estimator in ("observed", "shrunk")}


def test_shrunk_burglary_rates_rank_lsoas_with_more_residents_first(lsoa_demand):
    """Kent's LSOAs, Jan-Apr 2024, burglary per 1,000: three of the ten highest change, and the ten highest shrunk rates
    belong to LSOAs with more residents (median 1,519.5) than the ten highest observed (median 1,468.5)."""
    residents = lsoa_demand.areas.population.values
    top = top_ten(lsoa_demand, ("Burglary",))
    assert len(set(top["shrunk"]) & set(top["observed"])) == 7
    assert float(np.median(residents[top["observed"]])) == 1468.5
    assert float(np.median(residents[top["shrunk"]])) == 1519.5


def test_shrinkage_leaves_the_town_centre_acquisitive_crime_ranking_alone(lsoa_demand):
    """The ten highest acquisitive crime rates (182 to 581 per 1,000 over Jan-Apr 2024, median 1,447.5 residents) stand
    far beyond count noise, so shrinkage keeps the same ten: their problem is the denominator (residents, not
    visitors), which no pooling of counts can mend; round 1's verdicts change for 2 of Kent's 1,107 LSOAs."""
    top = top_ten(lsoa_demand, ACQUISITIVE)
    assert set(top["shrunk"]) == set(top["observed"])
    assert float(np.median(lsoa_demand.areas.population.values[top["shrunk"]])) == 1447.5
    scenario = load_scenario(SCENARIOS / "kent-lsoa-2024.toml").scenario
    verdicts = {
        estimator: assess(lsoa_demand, scenario.fund_round, scenario.round, rate_estimator=estimator).eligible.values
        for estimator in RATE_ESTIMATORS
    }
    assert int((verdicts["observed"] != verdicts["shrunk"]).sum()) == 2


def test_district_rates_are_pooled_toward_the_force(demand):
    """Kent's districts share one parent (the force), so their rates move toward Kent's: burglary alone by up to 6.3 %
    (a few hundred records a year per district), neighbourhood crime by up to 1.2 %; no shipped round's verdict changes."""
    observed, shrunk = rates(demand, "observed"), rates(demand, "shrunk")
    force = assess(demand, "t", fund_round(BURGLARY_RATE)).outcomes[0].thresholds
    assert np.all(np.abs(shrunk - force) <= np.abs(observed - force))
    assert np.max(np.abs(shrunk / observed - 1.0)) == pytest.approx(0.063, abs=0.001)
    neighbourhood = dataclasses.replace(BURGLARY_RATE, crime_types=("Burglary", "Robbery", "Theft from the person", "Vehicle crime"))
    moved = rates(demand, "shrunk", neighbourhood) / rates(demand, "observed", neighbourhood) - 1.0
    assert np.max(np.abs(moved)) == pytest.approx(0.012, abs=0.001)
    for round_id, round_ in load_scenario(BASELINE).scenario.rounds.items():
        assert np.array_equal(
            assess(demand, round_id, round_).eligible.values, assess(demand, round_id, round_, rate_estimator="shrunk").eligible.values
        )


def test_the_rate_estimator_is_recorded_and_described(demand, lsoa_demand):
    """The verdicts say which estimator made them, in one sentence naming what shrunk rates are pulled toward."""
    assert assess(demand, "t", fund_round()).rate_estimator == "observed"
    assert assess(demand, "t", fund_round()).describe_rate_estimator() == RATE_ESTIMATORS["observed"]
    district = assess(demand, "t", fund_round(), rate_estimator="shrunk").describe_rate_estimator()
    lsoa = assess(lsoa_demand, "t", fund_round(), rate_estimator="shrunk").describe_rate_estimator()
    assert "toward the rate of Kent as a whole" in district
    assert "toward the rate of its district" in lsoa


def test_margin_in_records_counts_the_records_that_flip_the_verdict():
    """Two areas of 1,000 and 3,000 residents with 10 and 15 records in a year: rates 10 and 5 against a force rate of
    6.25. The first passes until it loses 5 records (5 / 1 = 20 / 4); the second needs 15 more (30 / 3 = 40 / 4)."""
    demand = synthetic_demand([1000, 3000], [10, 15], ["P", "P"])
    outcome = assess(demand, "t", fund_round(BURGLARY_RATE)).outcomes[0]
    np.testing.assert_allclose(outcome.margin_records, [5.0, -15.0])


def test_margin_in_records_is_over_the_data_period():
    """Over four months a count rule's margin of 30 records a year is 10 records of the data period."""
    demand = synthetic_demand([1000, 1000], [20, 10], ["P", "P"], months=4)
    rule = Rule(metric="count", crime_types=("Burglary",), threshold_kind="absolute", threshold=30.0)
    outcome = assess(demand, "t", fund_round(rule)).outcomes[0]
    np.testing.assert_allclose(outcome.margins, [30.0, 0.0])
    np.testing.assert_allclose(outcome.margin_records, [10.0, 0.0])


def test_thanet_passes_round_2_by_four_records(demand):
    """Thanet's neighbourhood crime rate clears Kent's by 3.6 records at Kent's rate as it stands, and by 3.9 records
    counting that its own records are part of Kent's: 3.9 fewer records over the year and it would fail."""
    loaded = load_scenario(BASELINE)
    outcome = assess(demand, "safer-streets-2", loaded.scenario.rounds["safer-streets-2"]).outcomes[0]
    thanet = demand.areas.names.index("Thanet")
    residents = demand.areas.population.values
    assert outcome.margins[thanet] * residents[thanet] / 1000 == pytest.approx(3.64, abs=0.01)
    assert outcome.margin_records[thanet] == pytest.approx(3.64 / (1 - residents[thanet] / residents.sum()), abs=0.01)
    assert outcome.margin_records[thanet] == pytest.approx(3.94, abs=0.01)


TWO_FORCES = ("North Police", "North Police", "North Police", "South Police", "South Police")


def two_forces():
    """Three areas of North Police (rate 10 per 1,000 over 3,000 residents) and two of South Police (rate 30 over 2,000)."""
    return synthetic_demand([1000, 1000, 1000, 1000, 1000], [5, 10, 15, 20, 40], ["N", "N", "N", "S", "S"], forces=TWO_FORCES)


def test_force_mean_threshold_is_the_rate_of_the_areas_own_force():
    """North's rate is 30 / 3,000 = 10 per 1,000 and South's 60 / 2,000 = 30: each area is held to its own force's."""
    outcome = assess(two_forces(), "t", fund_round(BURGLARY_RATE)).outcomes[0]
    np.testing.assert_allclose(outcome.thresholds, [10.0, 10.0, 10.0, 30.0, 30.0])
    assert outcome.passed.tolist() == [False, True, True, False, True]


def test_rank_within_force_ranks_each_force_apart():
    """The top area of each force passes, although South's lower one outranks every North area."""
    rule = Rule(metric="rate_per_1000", crime_types=("Burglary",), threshold_kind="rank", threshold=1)
    assert assess(two_forces(), "t", fund_round(rule)).eligible.values.tolist() == [False, False, True, False, True]


def test_share_of_force_is_a_share_of_the_areas_own_force():
    rule = Rule(metric="share_of_force", crime_types=("Burglary",), threshold_kind="absolute", threshold=50.0)
    np.testing.assert_allclose(assess(two_forces(), "t", fund_round(rule)).outcomes[0].values, [100 / 6, 100 / 3, 50.0, 100 / 3, 200 / 3])


def test_shrunk_rates_never_pool_across_forces():
    """Areas that share a parent code in two forces are pooled within each force: the same rates as each force alone."""
    population, burglaries = [100, 2000, 2000, 60, 6000, 1500], [3, 20, 40, 6, 40, 12]
    forces = ("North Police",) * 3 + ("South Police",) * 3
    together = rates(synthetic_demand(population, burglaries, ["P"] * 6, forces=forces), "shrunk")
    north = rates(synthetic_demand(population[:3], burglaries[:3], ["P"] * 3), "shrunk")
    south = rates(synthetic_demand(population[3:], burglaries[3:], ["P"] * 3), "shrunk")
    np.testing.assert_array_equal(together, np.concatenate([north, south]))


def test_words_name_each_areas_own_force():
    verdict = assess(two_forces(), "t", fund_round(BURGLARY_RATE))
    assert verdict.reasons[1] == "eligible: r0 10.0 ≥ 10.0 (1 × North Police average): passes"
    assert verdict.reasons[3] == "not eligible: r0 20.0 ≥ 30.0 (1 × South Police average): fails"
    assert verdict.rule_descriptions() == (
        "r0: records per 1,000 residents per year of Burglary, ≥ 1 × the figure of its own force as a whole",
    )
    assert (
        "toward the rate of its own force as a whole"
        in assess(two_forces(), "t", fund_round(BURGLARY_RATE), "shrunk").describe_rate_estimator()
    )
