"""The schema's checks on numbers and thresholds: finite, bounded, whole where they must be, each error naming file and key."""

from __future__ import annotations

import copy
import dataclasses
import math
import typing

import pytest
from conftest import BASELINE

from simulator.errors import ConfigError
from simulator.scenario import load_scenario
from simulator.schema import (
    MOST_GBP_WHY,
    MOST_SEED,
    THRESHOLD_RANGES,
    AllocatorSettings,
    AppraisalSettings,
    CostScaleSettings,
    DataSource,
    DemandSettings,
    EffectRange,
    EffectRanges,
    FundRound,
    HarmSettings,
    HarmSplit,
    Intervention,
    PublishedEffect,
    Rule,
    Scenario,
    ShareBounds,
    Shock,
    UncertaintySettings,
    build,
)

FILE = "scenarios/what-if.toml"
TABLES = (
    AppraisalSettings,
    ShareBounds,
    DataSource,
    HarmSettings,
    DemandSettings,
    Shock,
    Rule,
    FundRound,
    Intervention,
    AllocatorSettings,
    UncertaintySettings,
    EffectRanges,
    EffectRange,
    PublishedEffect,
    CostScaleSettings,
    HarmSplit,
    Scenario,
)
RULE = ("rounds", "safer-streets-4", "rules", "asb_rate")
SHOCK = {"areas": ["Medway"], "multiplier": 1.3}
EFFECT = ("uncertainty", "effects", "street_lighting")
SPLIT = ("uncertainty", "harm_splits", "rape_share")


@pytest.fixture(scope="module")
def resolved() -> dict:
    """The Kent baseline as a plain mapping, before it is built, with one shock added."""
    data = copy.deepcopy(load_scenario(BASELINE).resolved)
    data["shocks"] = {"s": dict(SHOCK)}
    data["uncertainty"]["effects"] = {"street_lighting": {"low": 0.1, "high": 0.3, "source": "test"}}
    return data


def with_value(resolved: dict, path: tuple[str, ...], value) -> dict:
    data = copy.deepcopy(resolved)
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    return data


def refused(data: dict) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        build(Scenario, data, origin=lambda key: FILE)
    return caught.value


def number_fields():
    """Every int or float field of the schema (plain, optional or as the values of a table), with its table."""
    for table in TABLES:
        hints = typing.get_type_hints(table)
        for item in dataclasses.fields(table):
            hint = hints[item.name]
            args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            if typing.get_origin(hint) is dict:
                args = [typing.get_args(hint)[1]]
            if hint in (int, float) or any(arg in (int, float) for arg in args):
                yield table, item


FLOAT_KEYS = [
    ("budget_gbp",),
    ("rounds", "safer-streets-4", "pot_gbp"),
    ("rounds", "safer-streets-4", "max_grant_gbp"),
    ("rounds", "safer-streets-4", "match_funding_rate"),
    ("interventions", "cctv", "max_reduction"),
    ("interventions", "cctv", "cost_scale_gbp_per_1000_residents"),
    ("shocks", "s", "multiplier"),
    ("harm", "overrides", "Burglary"),
    ("demand", "interval"),
    ("allocation", "minimum_grant_gbp"),
    ("data", "coverage_floor_per_1000"),
    ("allocation", "match_funding_available_gbp"),
    ("allocation", "blend_weight"),
    ("allocation", "target_harm_days"),
    ("allocation", "gap_target"),
    ("allocation", "equity_floor"),
    ("allocation", "local_match_gbp", "Ashford"),
    ("allocation", "intervention_caps_gbp", "cctv"),
    ("allocation", "intervention_shares", "cctv", "minimum"),
    ("allocation", "intervention_shares", "cctv", "maximum"),
    ("rounds", "safer-streets-4", "force_cap_gbp"),
    ("interventions", "cctv", "lifetime_years"),
    ("interventions", "cctv", "reach", "Vehicle crime"),
    ("appraisal", "discount_rate"),
    (*RULE, "threshold"),
    ("uncertainty", "marginal_share"),
    ("uncertainty", "tail_share"),
    ("uncertainty", "effect_ranges", "low", "low"),
    ("uncertainty", "effect_ranges", "low", "high"),
    (*EFFECT, "low"),
    (*EFFECT, "high"),
    (*EFFECT, "level"),
    ("uncertainty", "cost_scales", "median"),
    ("uncertainty", "cost_scales", "low"),
    ("uncertainty", "cost_scales", "high"),
    ("uncertainty", "cost_scales", "level"),
    (*SPLIT, "share"),
    (*SPLIT, "low"),
    (*SPLIT, "high"),
    (*SPLIT, "weight_with"),
    (*SPLIT, "weight_without"),
    (*SPLIT, "of_records"),
]


def test_every_number_field_has_a_maximum_and_its_reason():
    """Each numeric field states an upper bound and, in its metadata, why."""
    for table, item in number_fields():
        assert "maximum" in item.metadata, f"{table.__name__}.{item.name}"
        assert item.metadata.get("why_maximum"), f"{table.__name__}.{item.name}"


def test_float_keys_cover_every_float_field():
    """The non-finite cases below reach every float field of the schema."""
    floats = {
        item.name for _, item in number_fields() if item.type in ("float", "dict[str, float]", "typing.Optional[float]", "float | None")
    }
    tables_of_numbers = {"overrides", "reach", "local_match_gbp", "intervention_caps_gbp"}
    named = {path[-2] if len(path) > 1 and path[-2] in tables_of_numbers else path[-1] for path in FLOAT_KEYS}
    assert floats == {name if name != "Burglary" else "overrides" for name in named}


def test_the_resolved_baseline_with_a_published_effect_builds(resolved):
    """The mapping the number checks start from is itself valid, so each check sees only its own problem."""
    assert build(Scenario, resolved).uncertainty.effects["street_lighting"].level == 0.95


def test_threshold_ranges_cover_every_threshold_kind():
    """The threshold registry has one entry per threshold kind the schema allows."""
    assert set(THRESHOLD_RANGES) == set(typing.get_args(typing.get_type_hints(Rule)["threshold_kind"]))


@pytest.mark.parametrize("path", FLOAT_KEYS, ids=".".join)
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
def test_non_finite_numbers_are_refused(resolved, path, value):
    """inf, -inf and nan are refused in every float field, naming the file and key."""
    error = refused(with_value(resolved, path, value))
    assert (error.file, error.key, error.what) == (FILE, ".".join(path), "must be a finite number")
    assert error.got is value or (math.isnan(value) and math.isnan(error.got))


TOO_LARGE = [
    (("budget_gbp",), 1_000_000_001),
    (("rounds", "safer-streets-4", "pot_gbp"), 2e9),
    (("rounds", "safer-streets-4", "max_grant_gbp"), 2e9),
    (("rounds", "safer-streets-4", "bids_per_commissioner"), 100_001),
    (("interventions", "cctv", "cost_scale_gbp_per_1000_residents"), 1e12),
    (("shocks", "s", "multiplier"), 1_001),
    (("harm", "overrides", "Burglary"), 36_501),
    (("demand", "draws"), 100_001),
    (("demand", "horizon_months"), 61),
    (("allocation", "segments"), 401),
    (("allocation", "minimum_grant_gbp"), 1e10),
    (("allocation", "match_funding_available_gbp"), 1e10),
    (("seed",), MOST_SEED + 1),
    ((*RULE, "threshold"), 1e11),
    (("uncertainty", "marginal_share"), 0.6),
    (("uncertainty", "tail_share"), 1.5),
    (("uncertainty", "effect_ranges", "assumption", "high"), 11),
    (("uncertainty", "cost_scales", "high"), 11),
    ((*EFFECT, "level"), 1.0),
    ((*SPLIT, "share"), 1.2),
    ((*SPLIT, "weight_with"), 36_501),
]


@pytest.mark.parametrize("path, value", TOO_LARGE, ids=[".".join(path) for path, _ in TOO_LARGE])
def test_absurd_values_are_out_of_range_with_the_reason(resolved, path, value):
    """A value above a field's maximum is out of range, and the hint says why the bound is there."""
    error = refused(with_value(resolved, path, value))
    assert (error.file, error.key, error.what, error.got) == (FILE, ".".join(path), "is out of range", value)
    assert error.hint


def test_budget_above_a_billion_has_exact_text(resolved):
    """The budget's bound reads as one line with the range and the reason."""
    error = refused(with_value(resolved, ("budget_gbp",), 2e9))
    assert str(error) == (
        f"{FILE}: budget_gbp: is out of range (got 2000000000.0; expected a number > 0 and <= 1,000,000,000); {MOST_GBP_WHY}"
    )


def test_forty_digit_seed_is_out_of_range_and_shown_short(resolved):
    """An integer of 40 digits is a clean range error whose text shows its size, not every digit."""
    error = refused(with_value(resolved, ("seed",), 10**40))
    assert (error.key, error.what) == ("seed", "is out of range")
    assert error.got == "1.000000e+40 (an integer of 41 digits)"


def test_largest_seed_is_accepted(resolved):
    """2**32 - 1, the largest seed, builds."""
    assert build(Scenario, with_value(resolved, ("seed",), MOST_SEED)).seed == MOST_SEED


def test_whole_number_given_as_float_is_refused_with_a_hint(resolved):
    """A whole-number field given 1e3 (a TOML float) is refused, with the number written as an integer in the hint."""
    error = refused(with_value(resolved, ("demand", "draws"), 1e3))
    assert (error.key, error.what, error.got) == ("demand.draws", "must be a whole number", 1000.0)
    assert error.hint == "write it without a decimal point or exponent, e.g. 1000"


def test_seed_of_infinity_is_not_finite_with_exact_text(resolved):
    """seed = inf (what 1e400 reads as) is refused in one line naming the file and key."""
    error = refused(with_value(resolved, ("seed",), math.inf))
    assert str(error) == (
        f"{FILE}: seed: must be a finite number (got inf; expected a whole number >= 0 and <= 4,294,967,295); "
        "inf and nan are not allowed (a number too large to store, such as 1e400, reads as inf)"
    )


THRESHOLDS_REFUSED = [
    ("rank", 0.0),
    ("rank", 1.5),
    ("rank", 100_001.0),
    ("percentile", 0.0),
    ("percentile", 100.5),
    ("force_mean", 1_001.0),
]


@pytest.mark.parametrize("kind, threshold", THRESHOLDS_REFUSED, ids=[f"{k}-{t:g}" for k, t in THRESHOLDS_REFUSED])
def test_threshold_must_suit_its_kind(resolved, kind, threshold):
    """A rank is a whole number of areas from 1, a percentile is in (0, 100], a multiple at most 1,000."""
    data = with_value(with_value(resolved, (*RULE, "threshold_kind"), kind), (*RULE, "threshold"), threshold)
    error = refused(data)
    assert (error.file, error.key, error.got) == (FILE, ".".join((*RULE, "threshold")), threshold)
    assert error.what == f"does not suit threshold_kind '{kind}'"


THRESHOLDS_ACCEPTED = [("rank", 1.0), ("rank", 3.0), ("percentile", 100.0), ("percentile", 0.5), ("force_mean", 0.0), ("absolute", 0.0)]


@pytest.mark.parametrize("kind, threshold", THRESHOLDS_ACCEPTED, ids=[f"{k}-{t:g}" for k, t in THRESHOLDS_ACCEPTED])
def test_threshold_at_the_edges_of_its_kind_is_accepted(resolved, kind, threshold):
    """The edges of each kind's range build."""
    data = with_value(with_value(resolved, (*RULE, "threshold_kind"), kind), (*RULE, "threshold"), threshold)
    assert build(Scenario, data).rounds["safer-streets-4"].rules["asb_rate"].threshold == threshold


def test_rank_threshold_error_has_exact_text(resolved):
    """A fractional rank reads as one line: what, where, got, the range and an example."""
    data = with_value(with_value(resolved, (*RULE, "threshold_kind"), "rank"), (*RULE, "threshold"), 2.5)
    assert str(refused(data)) == (
        f"{FILE}: rounds.safer-streets-4.rules.asb_rate.threshold: does not suit threshold_kind 'rank' "
        "(got 2.5; expected a number of top areas: a whole number >= 1 and <= 100,000); e.g. 3 for the top three areas"
    )


def test_id_with_a_trailing_newline_is_refused_on_one_line(resolved):
    """A round id must match its pattern in full (a trailing newline is not allowed), and the message stays one line."""
    data = copy.deepcopy(resolved)
    data["rounds"]["r4\n"] = data["rounds"]["safer-streets-4"]
    error = refused(data)
    assert (error.key, error.what) == ("rounds.r4\\n", "is not a valid id")
    assert "\n" not in str(error)


def test_name_with_a_trailing_newline_is_refused(resolved):
    """The scenario name must match its pattern in full, so a run folder never gets a newline in its name."""
    error = refused(with_value(resolved, ("name",), "kent\n"))
    assert (error.key, error.what, error.got) == ("name", "is not in the expected form", "kent\n")


def test_sum_of_reductions_names_each_contribution(resolved):
    """Effects adding up to more than 100 % list the interventions and their reductions in the hint."""
    error = refused(with_value(resolved, ("interventions", "target_hardening", "max_reduction"), 0.9))
    assert (error.key, error.got) == ("interventions", 1.48)
    assert "target_hardening 0.9" in error.hint and "alley_gating 0.37" in error.hint


def test_typo_in_a_table_id_in_a_file_suggests_the_known_id(tmp_path):
    """[interventions.cctvv] in a file (a new entry missing its keys) asks whether 'cctv' was meant."""
    from simulator.errors import ConfigError
    from simulator.scenario import load_scenario

    path = tmp_path / "typo.toml"
    path.write_text(f'extends = "{BASELINE.as_posix()}"\n[interventions.cctvv]\nenabled = false\n')
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert caught.value.key == "interventions.cctvv.name" and caught.value.hint.startswith("did you mean 'cctv'?")
