"""Scenario files: extends chains, --set overrides, and errors that name the file and key."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BASELINE, REPO, SCENARIOS

from simulator.cli import cli
from simulator.errors import ConfigError
from simulator.scenario import DERIVED, NAME_LENGTH, Override, RecordedInput, derived_name, load_scenario, parse_set


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def extending(tmp_path, body: str, name: str = "what-if.toml"):
    """A scenario in tmp_path that extends the Kent baseline and adds `body`."""
    return write(tmp_path / name, f'extends = "{BASELINE.as_posix()}"\n{body}\n')


def test_baseline_resolves_from_its_chain():
    """The baseline inherits the base config, every round and every intervention."""
    scenario = load_scenario(BASELINE).scenario
    assert scenario.name == "kent-baseline"
    assert scenario.fund_round == "safer-streets-4"
    assert set(scenario.rounds) == {f"safer-streets-{n}" for n in range(1, 6)}
    assert "alley_gating" in scenario.interventions


def test_scenario_overrides_are_logged(tmp_path):
    """A key a child file changes is logged as key: old -> new (from FILE)."""
    loaded = load_scenario(extending(tmp_path, 'name = "cut"\nbudget_gbp = 900_000'))
    assert loaded.scenario.budget_gbp == 900_000
    assert any(o.key == "budget_gbp" and o.old == 1_500_000 and o.new == 900_000 for o in loaded.overrides)


def test_set_is_typed_like_toml():
    """--set values are parsed as TOML: numbers, strings, lists and quoted keys."""
    assert parse_set("budget_gbp=1_200_000") == (["budget_gbp"], 1_200_000)
    assert parse_set('fund_round="safer-streets-3"') == (["fund_round"], "safer-streets-3")
    assert parse_set("fund_round=safer-streets-3") == (["fund_round"], "safer-streets-3")
    assert parse_set('harm.overrides."Anti-social behaviour"=2') == (["harm", "overrides", "Anti-social behaviour"], 2)
    assert parse_set('rounds.safer-streets-4.crime_basket=["Burglary"]') == (["rounds", "safer-streets-4", "crime_basket"], ["Burglary"])


def test_set_reaches_nested_keys():
    """--set can change a round's cap and switch an intervention off."""
    loaded = load_scenario(BASELINE, ["rounds.safer-streets-4.max_grant_gbp=500000", "interventions.cctv.enabled=false"])
    assert loaded.scenario.round.max_grant_gbp == 500_000
    assert "cctv" not in loaded.scenario.active_interventions()


def test_unknown_key_suggests_the_closest(tmp_path):
    """A misspelt key is refused, naming the file and suggesting the right key."""
    path = extending(tmp_path, "budget_gpb = 5")
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert caught.value.file == str(path) and caught.value.key == "budget_gpb"
    assert "budget_gbp" in caught.value.hint


def test_unknown_key_from_set_names_set():
    """An unknown key given with --set is blamed on --set."""
    with pytest.raises(ConfigError) as caught:
        load_scenario(BASELINE, ["allocation.slover=cbc"])
    assert caught.value.file == "--set" and caught.value.key == "allocation.slover"


@pytest.mark.parametrize("value", ["-500000", "0"])
def test_budget_must_be_positive(tmp_path, value):
    """A negative or zero budget is out of range."""
    with pytest.raises(ConfigError) as caught:
        load_scenario(extending(tmp_path, f"budget_gbp = {value}"))
    assert caught.value.key == "budget_gbp" and "out of range" in caught.value.what


def test_budget_must_be_a_number(tmp_path):
    """A budget in quotes with a £ sign is refused with a hint to write a plain number."""
    with pytest.raises(ConfigError) as caught:
        load_scenario(extending(tmp_path, 'budget_gbp = "£1.5m"'))
    assert caught.value.key == "budget_gbp" and "1_500_000" in caught.value.hint


def test_unknown_crime_type_is_refused(tmp_path):
    """A crime type outside the 14 police.uk categories is refused with a suggestion."""
    body = '[shocks.s]\nareas = ["Medway"]\nmultiplier = 1.1\ncrime_types = ["Burglery"]'
    with pytest.raises(ConfigError) as caught:
        load_scenario(extending(tmp_path, body))
    assert caught.value.key == "shocks.s.crime_types" and "Burglary" in caught.value.hint


def test_rule_with_unknown_metric_is_refused(tmp_path):
    """A rule naming an unknown metric is refused, naming the rule's key and the allowed metrics."""
    body = '[rounds.safer-streets-4.rules.asb_rate]\nmetric = "rate_per_100"'
    with pytest.raises(ConfigError) as caught:
        load_scenario(extending(tmp_path, body))
    assert caught.value.key == "rounds.safer-streets-4.rules.asb_rate.metric"
    assert "rate_per_1000" in caught.value.expected


def test_unknown_round_is_refused(tmp_path):
    """fund_round must name a round the scenario defines."""
    with pytest.raises(ConfigError) as caught:
        load_scenario(extending(tmp_path, 'fund_round = "safer-streets-9"'))
    assert caught.value.key == "fund_round"


def test_every_problem_is_collected(tmp_path):
    """Several problems in one file are all reported, the first carrying the rest."""
    with pytest.raises(ConfigError) as caught:
        load_scenario(extending(tmp_path, "budget_gbp = -1\nseed = -3\nfoo = 1"))
    assert len(caught.value.all_messages()) == 3
    assert "(+2 more; --debug lists all)" in str(caught.value)


def test_malformed_toml_names_file_and_line(tmp_path):
    """A TOML syntax error gives the file and the parser's line and column."""
    path = write(tmp_path / "bad.toml", 'name = "x"\nbudget_gbp = = 5\n')
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert caught.value.file == str(path) and "line 2" in caught.value.what


def test_missing_file_is_a_config_error(tmp_path):
    """A scenario that does not exist is one clear error."""
    with pytest.raises(ConfigError) as caught:
        load_scenario(tmp_path / "nope.toml")
    assert caught.value.what == "file not found"


def test_extends_cycle_is_refused_with_the_chain(tmp_path):
    """a extends b extends a: refused, printing the chain."""
    write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ConfigError) as caught:
        load_scenario(tmp_path / "a.toml")
    assert caught.value.got == "a.toml → b.toml → a.toml"


def test_extends_missing_parent_is_refused(tmp_path):
    """extends naming a missing file is refused, naming the key."""
    with pytest.raises(ConfigError) as caught:
        load_scenario(write(tmp_path / "a.toml", 'extends = "missing.toml"\n'))
    assert caught.value.key == "extends" and caught.value.got == "missing.toml"


def test_manifest_scenario_round_trips(tmp_path, kent_result):
    """The resolved scenario saved in a manifest loads back to the same scenario."""
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(kent_result.manifest()), encoding="utf-8")
    assert load_scenario(path).scenario == kent_result.scenario


def test_data_paths_are_relative_to_the_file(tmp_path):
    """A relative data path in a scenario is resolved against that scenario's folder."""
    loaded = load_scenario(extending(tmp_path, '[data]\nareas = "areas.csv"'))
    assert loaded.scenario.data.areas == str((tmp_path / "areas.csv").resolve())


def test_forces_table_path_is_relative_to_the_file(tmp_path):
    """data.forces, like the other data paths, is resolved against the scenario's folder."""
    loaded = load_scenario(extending(tmp_path, '[data]\nforces = "forces.csv"'))
    assert loaded.scenario.data.forces == str((tmp_path / "forces.csv").resolve())


def test_shipped_scenarios_all_load():
    """Every scenario in scenarios/ resolves without error."""
    for path in sorted((REPO / "scenarios").glob("*.toml")):
        assert load_scenario(path).scenario.name == path.stem


def test_shipped_scenarios_carry_the_uncertainty_defaults():
    """Every shipped scenario inherits configs/uncertainty.toml: its four harm splits, each with a source."""
    for path in sorted((REPO / "scenarios").glob("*.toml")):
        splits = load_scenario(path).scenario.uncertainty.harm_splits
        assert len(splits) == 4 and all(split.source for split in splits.values()), path.name


def test_set_switches_an_uncertainty_source_off():
    """--set takes a list of sources like any TOML value."""
    scenario = load_scenario(BASELINE, ['uncertainty.sources=["counts", "forecast"]']).scenario
    assert scenario.uncertainty.sources == ("counts", "forecast")


def test_bad_uncertainty_source_from_set_blames_set():
    """An unknown source given with --set is refused naming --set and the key."""
    error = refused(BASELINE, ['uncertainty.sources=["costs"]'])
    assert (error.file, error.key, error.got) == ("--set", "uncertainty.sources", "costs")


def test_max_reduction_set_outside_its_published_interval_blames_set(tmp_path):
    """Moving max_reduction out of a published interval with --set blames --set and names both keys."""
    path = extending(tmp_path, '[uncertainty.effects.street_lighting]\nlow = 0.1\nhigh = 0.3\nsource = "test"')
    error = refused(path, ["interventions.street_lighting.max_reduction=0.35"])
    assert (error.file, error.key, error.what) == (
        "--set",
        "uncertainty.effects.street_lighting",
        "does not hold interventions.street_lighting.max_reduction",
    )


def refused(path, sets=()) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_scenario(path, sets)
    return caught.value


# ---------------------------------------------------------------- files


def test_byte_order_mark_is_accepted(tmp_path):
    """A scenario saved with a UTF-8 byte-order mark (as Notepad writes) loads."""
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + f'extends = "{BASELINE.as_posix()}"\nname = "bom"\n'.encode())
    assert load_scenario(path).scenario.name == "bom"


def test_file_that_is_not_utf8_is_refused(tmp_path):
    """A Latin-1 file is one clear error naming the file and the first bad byte."""
    path = tmp_path / "latin.toml"
    path.write_bytes('title = "café"\n'.encode("latin-1"))
    error = refused(path)
    assert (error.file, error.key, error.what, error.got) == (str(path), None, "is not UTF-8 text", "byte 0xe9 at offset 12")


def test_non_finite_budget_in_a_file_is_refused(tmp_path):
    """budget_gbp = inf in a file is refused, naming that file."""
    path = extending(tmp_path, "budget_gbp = inf")
    error = refused(path)
    assert (error.file, error.key, error.what, error.got) == (str(path), "budget_gbp", "must be a finite number", float("inf"))


def test_integer_too_long_to_read_in_a_file_is_refused(tmp_path):
    """An integer of thousands of digits in a file is a clean error, not a crash."""
    path = extending(tmp_path, "seed = " + "9" * 5000)
    error = refused(path)
    assert (error.file, error.what) == (str(path), "holds a number too long to read (thousands of digits)")


def test_scenario_that_is_a_folder_is_refused(tmp_path):
    """Naming a folder as the scenario says so."""
    folder = tmp_path / "scenario.toml"
    folder.mkdir()
    error = refused(folder)
    assert (error.file, error.what) == (str(folder), "is a folder, not a scenario file")


def test_extends_naming_a_folder_is_refused(tmp_path):
    """extends pointing at a folder names the key and the folder."""
    (tmp_path / "configs").mkdir()
    path = write(tmp_path / "a.toml", 'extends = "configs"\n')
    error = refused(path)
    assert (error.file, error.key, error.what, error.got) == (str(path), "extends", "names a folder, not a scenario file", "configs")


@pytest.mark.parametrize("value", ['["a.toml", 3]', '""', "5", '[""]'])
def test_extends_must_be_paths(tmp_path, value):
    """extends must be a non-empty path or a list of them."""
    path = write(tmp_path / "a.toml", f"extends = {value}\n")
    error = refused(path)
    assert (error.file, error.key, error.what) == (str(path), "extends", "must be a path or a list of paths")


def test_extends_error_has_exact_text(tmp_path):
    """The extends error reads as one line with an example."""
    path = write(tmp_path / "a.toml", 'extends = ["a.toml", 3]\n')
    assert str(refused(path)) == (
        f"{path}: extends: must be a path or a list of paths (got ['a.toml', 3]; "
        'expected a file name in quotes, or a list of them, e.g. extends = "../configs/kent.toml")'
    )


# ---------------------------------------------------------------- --set: keys


@pytest.mark.parametrize(
    "assignment, key, got",
    [
        ("=5", None, "=5"),
        (" =5", None, " =5"),
        ("a..b=1", "a..b", "a..b"),
        ('""=5', '""', '""'),
        ("a\nb=1", None, "a\nb"),
        ("noequals", None, "noequals"),
    ],
)
def test_malformed_set_is_refused(assignment, key, got):
    """A --set without a usable dotted key is blamed on --set, with what was given."""
    error = refused(BASELINE, [assignment])
    assert (error.file, error.key, error.got) == ("--set", key, got)
    assert "\n" not in str(error)


def test_empty_set_key_has_exact_text():
    """--set =5 reads as one line saying the key is missing."""
    assert str(refused(BASELINE, ["=5"])) == "--set: has no key before '=' (got '=5'; expected KEY=VALUE, e.g. budget_gbp=1_200_000)"


@pytest.mark.parametrize(
    "assignment, key, got",
    [
        ("budget_gbp.x=1", "budget_gbp.x", 1_500_000),
        ("rounds.safer-streets-4.crime_basket.x=1", "rounds.safer-streets-4.crime_basket.x", None),
        ("harm.overrides.Burglary.x=1", "harm.overrides.Burglary.x", None),
    ],
)
def test_set_through_a_single_value_is_refused(assignment, key, got):
    """A dotted --set key cannot go inside a number, a list or a table's number."""
    error = refused(BASELINE, [assignment])
    assert (error.file, error.key, error.what) == ("--set", key, "goes inside a value that is not a table")
    assert got is None or error.got == got


def test_unknown_top_level_key_from_set_suggests_the_closest():
    """--set budgett=5 is blamed on --set and suggests budget_gbp."""
    error = refused(BASELINE, ["budgett=5"])
    assert (error.file, error.key, error.got, error.hint) == ("--set", "budgett", "budgett", "did you mean 'budget_gbp'?")


def test_unknown_table_from_set_names_set_and_the_whole_key():
    """--set foo.bar=1 names the key as typed and --set, never a file."""
    error = refused(BASELINE, ["foo.bar=1"])
    assert (error.file, error.key, error.what, error.got) == ("--set", "foo.bar", "unknown key", "foo")


@pytest.mark.parametrize(
    "assignment, key, got",
    [
        ("rounds=5", "rounds", 5),
        ("interventions=[]", "interventions", []),
        ("data=1", "data", 1),
        ("interventions.cctv=5", "interventions.cctv", 5),
        ("shocks=5", "shocks", 5),
    ],
)
def test_wrong_type_for_a_table_is_blamed_on_set(assignment, key, got):
    """A table replaced with a number or a list is refused, naming --set and the key."""
    error = refused(BASELINE, [assignment])
    assert (error.file, error.key, error.what, error.got) == ("--set", key, "must be a table", got)


def test_set_value_too_long_to_read_is_refused():
    """An integer of thousands of digits on the command line is a clean error naming the key."""
    error = refused(BASELINE, ["seed=" + "9" * 5000])
    assert (error.file, error.key, error.what) == ("--set", "seed", "is a number too long to read")


def test_forty_digit_seed_from_set_is_out_of_range():
    """--set seed=<40 digits> is out of range, blamed on --set."""
    error = refused(BASELINE, ["seed=" + "9" * 40])
    assert (error.file, error.key, error.what) == ("--set", "seed", "is out of range")


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_non_finite_budget_from_set_is_refused(value):
    """--set budget_gbp=inf (or nan, -inf, 1e400) is refused, blamed on --set."""
    error = refused(BASELINE, [f"budget_gbp={value}"])
    assert (error.file, error.key, error.what) == ("--set", "budget_gbp", "must be a finite number")


def test_value_spanning_lines_is_a_bare_string():
    """A --set value with a second TOML line is not split into two keys: it is taken as text."""
    assert parse_set("budget_gbp=1\nseed=3") == (["budget_gbp"], "1\nseed=3")


# ---------------------------------------------------------------- --set: ids in keyed tables


@pytest.mark.parametrize(
    "assignment, key, noun, given, close",
    [
        ("interventions.cctvv.enabled=false", "interventions.cctvv.enabled", "intervention", "cctvv", "cctv"),
        (
            "rounds.safer-streets-44.max_grant_gbp=1",
            "rounds.safer-streets-44.max_grant_gbp",
            "round",
            "safer-streets-44",
            "safer-streets-4",
        ),
        (
            "rounds.safer-streets-4.rules.asb_rte.enabled=false",
            "rounds.safer-streets-4.rules.asb_rte.enabled",
            "rule",
            "asb_rte",
            "asb_rate",
        ),
    ],
)
def test_unknown_id_from_set_suggests_the_closest(assignment, key, noun, given, close):
    """A --set into an id that does not exist is refused with did-you-mean, not read as a new entry."""
    error = refused(BASELINE, [assignment])
    assert (error.file, error.key, error.what, error.got) == ("--set", key, f"unknown {noun} '{given}'", given)
    assert error.hint == f"did you mean '{close}'?"


def test_unknown_intervention_has_exact_text():
    """The misspelt intervention reads as one line listing the catalogue and suggesting the id."""
    assert str(refused(BASELINE, ["interventions.cctvv.enabled=false"])) == (
        "--set: interventions.cctvv.enabled: unknown intervention 'cctvv' (got 'cctvv'; expected one of: street_lighting, cctv, "
        "target_hardening, alley_gating, vawg_prevention, hot_spots_patrols); did you mean 'cctv'?"
    )


def test_unknown_id_with_nothing_close_lists_the_known_ids():
    """With no close match the error lists every known id."""
    error = refused(BASELINE, ["interventions.zzz.enabled=false"])
    assert error.expected == "one of: street_lighting, cctv, target_hardening, alley_gating, vawg_prevention, hot_spots_patrols"
    assert error.hint == "a new intervention is defined in a scenario file, as a [interventions.zzz] table"


def test_key_inside_a_missing_shock_is_refused():
    """--set shocks.zz.multiplier=2 without a shock zz is refused, saying how to add one."""
    error = refused(BASELINE, ["shocks.zz.multiplier=2"])
    assert (error.file, error.key, error.what, error.got) == ("--set", "shocks.zz.multiplier", "unknown shock 'zz'", "zz")
    assert "--set 'shocks.zz={" in error.hint


def test_whole_new_shock_from_set_is_allowed():
    """A shock given whole as an inline table is added, and a later --set may change it."""
    loaded = load_scenario(BASELINE, ['shocks.s={areas=["Medway"], multiplier=1.3}', "shocks.s.multiplier=1.5"])
    assert loaded.scenario.shocks["s"].multiplier == 1.5


def test_incomplete_shock_from_set_is_blamed_on_set():
    """A shock replaced by an incomplete table is blamed on --set, not the file that wrote the old one."""
    error = refused(SCENARIOS / "kent-maidstone-violence-surge.toml", ["shocks.maidstone_violence={multiplier=1.5}"])
    assert (error.file, error.key, error.what) == ("--set", "shocks.maidstone_violence.areas", "is required")


def test_threshold_kind_from_set_blames_set(tmp_path):
    """A threshold from a file that no longer suits the kind --set chose is blamed on --set, the hint naming both."""
    path = extending(tmp_path, "[rounds.safer-streets-4.rules.asb_rate]\nthreshold = 0.5")
    error = refused(path, ['rounds.safer-streets-4.rules.asb_rate.threshold_kind="rank"'])
    assert (error.file, error.key, error.got) == ("--set", "rounds.safer-streets-4.rules.asb_rate.threshold", 0.5)
    assert error.hint.endswith(f"threshold_kind 'rank' comes from --set, the threshold from {path}")


def test_percentile_out_of_range_in_a_file_names_the_file(tmp_path):
    """A percentile threshold of 0 is refused by the schema, naming the file and the rule's threshold key."""
    path = extending(tmp_path, '[rounds.safer-streets-4.rules.asb_rate]\nthreshold_kind = "percentile"\nthreshold = 0')
    error = refused(path)
    assert (error.file, error.key, error.what) == (
        str(path),
        "rounds.safer-streets-4.rules.asb_rate.threshold",
        "does not suit threshold_kind 'percentile'",
    )


def test_reductions_over_100_percent_from_set_blame_set():
    """Effects pushed over 100 % by --set are blamed on --set, not the catalogue file."""
    error = refused(BASELINE, ["interventions.cctv.max_reduction=0.95"])
    assert (error.file, error.key) == ("--set", "interventions")


def test_no_enabled_intervention_from_set_blames_set():
    """Switching off the round's only intervention with --set is blamed on --set."""
    error = refused(BASELINE, ['rounds.safer-streets-4.interventions=["cctv"]', "interventions.cctv.enabled=false"])
    assert (error.file, error.key, error.what) == ("--set", "interventions", "no enabled intervention is allowed by the round")


# ---------------------------------------------------------------- naming a run with overrides


def test_set_derives_a_name_and_title():
    """--set budget_gbp gives the run its own folder name and a title that says what changed."""
    scenario = load_scenario(BASELINE, ["budget_gbp=1_200_000"]).scenario
    assert scenario.name == "kent-baseline-budget_gbp-1200000"
    assert scenario.title == "Kent baseline: round 4 rules, £1.5m — changed: budget_gbp = 1200000"


def test_derived_name_and_title_are_logged():
    """The derived name and title are logged as overrides from the --set overrides."""
    loaded = load_scenario(BASELINE, ["budget_gbp=1_200_000"])
    derived = [item for item in loaded.overrides if item.source == DERIVED]
    assert [(item.key, item.old) for item in derived] == [("name", "kent-baseline"), ("title", "Kent baseline: round 4 rules, £1.5m")]


def test_command_line_holds_the_overrides_as_given():
    """command_line lists the --set overrides in order, without the derived name and title."""
    loaded = load_scenario(BASELINE, ["budget_gbp=1_200_000", "interventions.cctv.enabled=false"])
    assert loaded.command_line == (
        Override("budget_gbp", 1_500_000, 1_200_000, "--set"),
        Override("interventions.cctv.enabled", None, False, "--set"),
    )


def test_plain_scenario_keeps_its_name():
    """Without --set the name, title and command line are the scenario's own."""
    loaded = load_scenario(BASELINE)
    assert (loaded.scenario.name, loaded.command_line) == ("kent-baseline", ())


def test_name_set_by_the_user_is_kept():
    """A --set name is used as given; the title still says what changed."""
    scenario = load_scenario(BASELINE, ["name=cut", "budget_gbp=1e6"]).scenario
    assert scenario.name == "cut"
    assert scenario.title == 'Kent baseline: round 4 rules, £1.5m — changed: name = "cut", budget_gbp = 1000000.0'


def test_title_set_by_the_user_is_kept():
    """A --set title is used as given; the name still gets the slug."""
    scenario = load_scenario(BASELINE, ['title="Cut"', "budget_gbp=1e6"]).scenario
    assert scenario.title == "Cut" and scenario.name.startswith("kent-baseline-title-cut-budget_gbp-1000000.0-")


def test_long_title_change_is_cut_short():
    """A long value is shortened in the title, and more than three changes are counted."""
    sets = ['question="' + "x" * 100 + '"', "seed=1", "seed=2", "seed=3"]
    title = load_scenario(BASELINE, sets).scenario.title
    assert title == f'Kent baseline: round 4 rules, £1.5m — changed: question = "{"x" * 38}…, seed = 1, seed = 2, and 1 more'


SLUG_CASES = [
    ["budget_gbp=1_200_000"],
    ["budget_gbp=1200000.0"],
    ["budget_gbp=1_200_000", "seed=5"],
    ["seed=5", "budget_gbp=1_200_000"],
    ['question="x-seed-5"'],
    ['question="X-seed-5"'],
    ['question="' + "a" * 200 + '"'],
    ['question="' + "a" * 199 + 'b"'],
    ['harm.overrides."Anti-social behaviour"=2'],
    ['harm.overrides."Anti-social behaviour"=3'],
    ['fund_round="safer-streets-3"'],
]


def overrides_of(sets):
    return [Override(".".join(path), None, value, "--set") for path, value in map(parse_set, sets)]


def test_slug_is_deterministic():
    """The same overrides give the same name every time."""
    for sets in SLUG_CASES:
        assert derived_name("kent-baseline", overrides_of(sets)) == derived_name("kent-baseline", overrides_of(sets))


def test_slug_differs_for_different_overrides():
    """Different override sets never share a name, even when their readable parts agree."""
    names = [derived_name("kent-baseline", overrides_of(sets)) for sets in SLUG_CASES]
    assert len(set(names)) == len(names)


def test_slug_fits_the_length_and_alphabet():
    """A derived name is at most NAME_LENGTH characters, and the slug part uses only [a-z0-9._-]."""
    for sets in SLUG_CASES:
        name = derived_name("kent-baseline", overrides_of(sets))
        assert len(name) <= NAME_LENGTH and re.fullmatch(r"kent-baseline-[a-z0-9._-]+", name), name


def test_shortened_slug_ends_with_a_hash():
    """A slug cut to length ends with 8 hex digits."""
    name = derived_name("kent-baseline", overrides_of(['question="' + "a" * 200 + '"']))
    assert len(name) == NAME_LENGTH and re.search(r"-[0-9a-f]{8}$", name)


def test_long_scenario_name_is_cut_to_fit():
    """A long scenario name is cut so the derived name still fits, with the hash kept."""
    name = derived_name("k" * 80, overrides_of(["seed=5"]))
    assert len(name) <= NAME_LENGTH and re.fullmatch(r"k+-[0-9a-f]{8}", name)


def test_logged_override_keeps_the_value_it_had():
    """An override's logged value is not changed by a later --set that edits the same table."""
    loaded = load_scenario(BASELINE, ['shocks.s={areas=["Medway"], multiplier=1.3}', "shocks.s.multiplier=1.5"])
    assert loaded.command_line[0].new == {"areas": ["Medway"], "multiplier": 1.3}


# ---------------------------------------------------------------- manifests


def manifest_file(tmp_path, manifest: dict):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


def test_manifest_gives_back_the_runs_name_title_inputs_and_command_line(tmp_path, kent_result):
    """A run with --set, written to a manifest, loads back with the same name, title, command line and recorded inputs."""
    original = load_scenario(BASELINE, ["budget_gbp=1_200_000"])
    manifest = {
        **kent_result.manifest(),
        "scenario": dataclasses.asdict(original.scenario),
        "command_line": [item.as_record() for item in original.command_line],
    }
    loaded = load_scenario(manifest_file(tmp_path, manifest))
    assert (loaded.scenario.name, loaded.scenario.title) == ("kent-baseline-budget_gbp-1200000", original.scenario.title)
    assert loaded.command_line == original.command_line
    assert loaded.recorded_inputs == tuple(
        RecordedInput(item["role"], item["path"], item["sha256"]) for item in kent_result.manifest()["inputs"]
    )
    assert [item.role for item in loaded.recorded_inputs] == ["areas", "crime_counts", "tile_layout", "history"]


def test_toml_scenario_has_no_recorded_inputs():
    """A .toml scenario records no inputs and does not accept changed ones by default."""
    loaded = load_scenario(BASELINE)
    assert (loaded.recorded_inputs, loaded.accept_changed_inputs) == ((), False)


def test_accept_changed_inputs_is_carried(tmp_path, kent_result):
    """load_scenario(..., accept_changed_inputs=True) is carried on the loaded scenario."""
    loaded = load_scenario(manifest_file(tmp_path, kent_result.manifest()), accept_changed_inputs=True)
    assert loaded.accept_changed_inputs is True


def test_manifest_that_is_a_list_is_refused(tmp_path):
    """A JSON list is not a run manifest."""
    path = manifest_file(tmp_path, [1, 2])
    error = refused(path)
    assert (error.file, error.key, error.what, error.got) == (str(path), "scenario", "is not a run manifest", "list")


def test_manifest_folder_is_refused(tmp_path):
    """A folder named manifest.json is refused, not a crash."""
    folder = tmp_path / "manifest.json"
    folder.mkdir()
    error = refused(folder)
    assert (error.file, error.what) == (str(folder), "is a folder, not a run manifest")


def test_manifest_with_a_byte_order_mark_loads(tmp_path, kent_result):
    """A manifest re-saved with a byte-order mark still loads."""
    path = tmp_path / "manifest.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(kent_result.manifest()).encode("utf-8"))
    assert load_scenario(path).scenario == kent_result.scenario


def test_manifest_scenario_missing_keys_names_the_manifest(tmp_path):
    """A manifest whose scenario lacks required keys names the manifest and each key."""
    path = manifest_file(tmp_path, {"scenario": {"budget_gbp": 5}, "inputs": []})
    error = refused(path)
    assert (error.file, error.key, error.what) == (str(path), "name", "is required")
    assert [other.key for other in error.more] == ["title", "fund_round"]


def edited(manifest: dict, change) -> dict:
    manifest = json.loads(json.dumps(manifest))
    change(manifest)
    return manifest


@pytest.mark.parametrize(
    "change, key, what",
    [
        (lambda m: m.pop("inputs"), "inputs", "has no list of input files"),
        (lambda m: m.__setitem__("inputs", {}), "inputs", "must be a list"),
        (lambda m: m["inputs"].__setitem__(1, "areas.csv"), "inputs[1]", "must be an object"),
        (lambda m: m["inputs"][2].pop("sha256"), "inputs[2].sha256", "is missing"),
        (lambda m: m["inputs"][0].__setitem__("sha256", "abc"), "inputs[0].sha256", "is not a SHA-256 hash"),
        (lambda m: m["inputs"][0].pop("role"), "inputs[0].role", "is missing"),
        (lambda m: m["inputs"][1].__setitem__("path", ""), "inputs[1].path", "must be non-empty text"),
        (lambda m: m.__setitem__("command_line", [{"new": 5}]), "command_line[0].key", "is missing"),
    ],
    ids=[
        "no inputs",
        "inputs not a list",
        "entry not an object",
        "sha256 missing",
        "sha256 malformed",
        "role missing",
        "path empty",
        "command line key missing",
    ],
)
def test_hand_edited_manifest_is_refused(tmp_path, kent_result, change, key, what):
    """A manifest whose recorded inputs (or command line) were edited by hand is refused, naming the entry."""
    path = manifest_file(tmp_path, edited(kent_result.manifest(), change))
    error = refused(path)
    assert (error.file, error.key, error.what) == (str(path), key, what)


def test_missing_sha256_has_exact_text(tmp_path, kent_result):
    """The missing hash reads as one line naming the manifest and the entry."""
    path = manifest_file(tmp_path, edited(kent_result.manifest(), lambda m: m["inputs"][2].pop("sha256")))
    assert str(refused(path)) == (
        f"{path}: inputs[2].sha256: is missing (expected 64 lower-case hex digits, as the run wrote them); "
        "restore the manifest the run wrote, or rerun the scenario .toml file"
    )


# ---------------------------------------------------------------- through the command line


@pytest.mark.parametrize(
    "assignment, expected",
    [
        ("budget_gbp=inf", "error: --set: budget_gbp: must be a finite number"),
        ("seed=1e400", "error: --set: seed: must be a finite number"),
        ("interventions.cctvv.enabled=false", "error: --set: interventions.cctvv.enabled: unknown intervention 'cctvv'"),
        ("rounds=5", "error: --set: rounds: must be a table"),
        ("=5", "error: --set: has no key before '='"),
        ("a..b=1", "error: --set: a..b: is not a valid dotted key"),
    ],
)
def test_bad_set_on_the_command_line_is_one_line_exit_2(assignment, expected):
    """Each bad --set reaches the person as one 'error: --set: …' line and exit code 2."""
    result = CliRunner().invoke(cli, ["eligibility", "--set", assignment])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""


def test_round_naming_a_replaced_intervention_blames_set():
    """A round file naming an intervention that a --set catalogue no longer has is blamed on --set, not the round's file."""
    catalogue = (
        'interventions={cctv={name="CCTV", crime_types=["Vehicle crime"], max_reduction=0.1, '
        'cost_scale_gbp_per_1000_residents=8000, evidence="e", source="s", confidence="low"}}'
    )
    error = refused(BASELINE, [catalogue])
    assert (error.file, error.key, error.got) == ("--set", "rounds.safer-streets-1.interventions", "street_lighting")


def test_run_with_set_writes_its_own_folder(tmp_path, monkeypatch):
    """safer-streets run --set … writes reports/<derived name>/, leaving the plain scenario's folder alone."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(BASELINE), "--no-charts", "--quiet", "--set", "budget_gbp=1_200_000"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{Path('reports') / 'kent-baseline-budget_gbp-1200000'}\n"
    assert [path.name for path in (tmp_path / "reports").iterdir()] == ["kent-baseline-budget_gbp-1200000"]
