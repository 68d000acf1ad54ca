"""Comparisons: rows per area and scenario, totals, and what changed against the reference."""

from __future__ import annotations

import csv

import pytest
from conftest import BASELINE

from simulator import ConfigError, load_scenario
from simulator.experiments import AreaChange, compare, comparison_of, unique_labels


def test_compare_needs_two_scenarios():
    """One scenario is nothing to compare: a ConfigError saying to name a reference and a what-if."""
    with pytest.raises(ConfigError) as caught:
        compare([load_scenario(BASELINE)])
    assert "at least two" in caught.value.what


def test_rows_are_one_per_area_and_scenario(surge_comparison):
    """13 districts × 2 scenarios, each with the scenario's own amount."""
    rows = surge_comparison.rows()
    assert len(rows) == 26
    assert {(row["area_code"], row["scenario"]) for row in rows} == {
        (code, label) for code in surge_comparison.area_codes for label in surge_comparison.labels
    }


def test_row_amounts_equal_each_runs_allocation(surge_comparison):
    """The amount in a comparison row is the run's own £ for that area, to the penny."""
    for row in surge_comparison.rows():
        result = surge_comparison.results[surge_comparison.labels.index(row["scenario"])]
        area = result.demand.areas.codes.index(row["area_code"])
        assert row["amount_gbp"] == pytest.approx(result.area_amounts()[area], abs=0.005)


def test_surge_changes_name_dover_and_maidstone(surge_comparison):
    """Under the surge Dover loses eligibility and Maidstone gains £4,609 of Dover's money (the budget goes on alley gating,
    which the surge in violence does not touch); eligibility changes come first."""
    (changes,) = surge_comparison.changes()
    assert changes[0].area_name == "Dover" and changes[0].eligibility_change == "lost"
    maidstone = next(change for change in changes if change.area_name == "Maidstone")
    assert maidstone.amount_change_gbp == pytest.approx(4_609, abs=1)
    assert maidstone.eligibility_change == ""


def test_changes_move_no_more_than_the_budget(surge_comparison):
    """With the same budget spent in full, the gains and losses cancel."""
    (changes,) = surge_comparison.changes()
    assert sum(change.amount_change_gbp for change in changes) == pytest.approx(0.0, abs=1.0)


def test_totals_change_is_the_difference(surge_comparison):
    """The change in harm averted is the what-if's total minus the reference's."""
    reference, what_if = surge_comparison.totals_rows()
    assert reference["harm_averted_change_days"] == 0
    assert what_if["harm_averted_change_days"] == pytest.approx(what_if["harm_averted_days"] - reference["harm_averted_days"], abs=0.002)


def test_a_scenario_against_itself_changes_nothing(kent_result):
    """Comparing a run with itself lists no change, and the repeated name is numbered."""
    comparison = comparison_of([kent_result, kent_result])
    assert comparison.labels == ("kent-baseline", "kent-baseline-2")
    assert comparison.changes() == ((),)
    assert "no area's verdict or amount changed" in "\n".join(comparison.headlines())


def test_headlines_say_what_changed(surge_comparison):
    """The printed lines name the districts whose verdict or amount changed, with the amounts."""
    text = "\n".join(surge_comparison.headlines())
    assert "Dover: lost eligibility; £32,761 → £0 (−£32,761)" in text
    assert "Maidstone: £125,454 → £130,063 (+£4,609)" in text


def test_headlines_are_capped(surge_comparison):
    """Past the limit the lines point to comparison.csv instead of listing every area."""
    lines = surge_comparison.headlines(limit=2)
    assert lines[-1].strip().startswith("… and 7 more")


def test_unique_labels_never_collide():
    """Numbered repeats skip names already taken."""
    assert unique_labels(["a", "a", "a-2"]) == ("a", "a-2", "a-2-2")


def test_areas_missing_from_a_scenario_are_marked(tmp_path, kent_result):
    """A scenario modelling fewer areas shows the rest as 'not modelled', not as dropped rows."""
    from simulator import run
    from simulator.inputs import load_areas

    areas = load_areas(kent_result.scenario.data)
    keep = [code for code in areas.codes if code != "E07000111"]
    area_file = tmp_path / "areas.csv"
    with open(area_file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["area_code", "area_name", "population"])
        for code in keep:
            writer.writerow([code, areas.name_of(code), int(areas.population.get(area=code))])
    count_file = tmp_path / "counts.csv"
    with open(count_file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["area_code", "crime_type", "count"])
        for code in keep:
            for crime_type in areas.counts.labels("crime_type"):
                writer.writerow([code, crime_type, int(areas.counts.get(area=code, crime_type=crime_type))])
    smaller = tmp_path / "twelve.toml"
    smaller.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "twelve"\n[data]\nareas = "areas.csv"\ncrime_counts = "counts.csv"\ntile_layout = ""\nhistory = ""\n',
        encoding="utf-8",
    )
    comparison = comparison_of([kent_result, run(load_scenario(smaller))])
    sevenoaks = [row for row in comparison.rows() if row["area_code"] == "E07000111"]
    assert [row["eligible"] for row in sevenoaks] == ["true", "not modelled"]
    (changes,) = comparison.changes()
    assert any(change.area_name == "Sevenoaks" and "not in this scenario's areas" in change.describe() for change in changes)


def test_area_change_description_for_a_gain():
    """A gained verdict and money read as one line."""
    change = AreaChange("what-if", "E1", "Dover", False, True, 0.0, 46_875.0)
    assert change.describe() == "Dover: gained eligibility; £0 → £46,875 (+£46,875)"
