"""Scenario files: extends chains, --set overrides, and errors that name the file and key."""

from __future__ import annotations

import json

import pytest

from conftest import BASELINE, REPO
from simulator.errors import ConfigError
from simulator.scenario import load_scenario, parse_set


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


def test_shipped_scenarios_all_load():
    """Every scenario in scenarios/ resolves without error."""
    for path in sorted((REPO / "scenarios").glob("*.toml")):
        assert load_scenario(path).scenario.name == path.stem
