"""Eligibility rules: thresholds of every kind, combination, and reasons."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BASELINE

from simulator.demand import build_demand
from simulator.eligibility import assess
from simulator.errors import RuleError
from simulator.inputs import load_areas
from simulator.scenario import load_scenario
from simulator.schema import DataSource, DemandSettings, FundRound, HarmSettings, Rule

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
