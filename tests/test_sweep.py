"""The sweep's API: --vary specs, the grid, a row per point whatever happens at it, and points equal to plain runs."""

from __future__ import annotations

import pytest
from conftest import BASELINE

from simulator import load_scenario
from simulator.errors import ConfigError
from simulator.pipeline import run
from simulator.sweep import grid, parse_variation, sweep, toml_value


@pytest.fixture(scope="module")
def budgets():
    """The Kent baseline at six budgets from £0.5m to £3m, in this process."""
    return sweep(BASELINE, [parse_variation("budget_gbp=500000:3000000:6")])


def test_range_of_whole_numbers_stays_whole():
    """500000:3000000:6 gives six whole-number budgets, both ends included."""
    assert parse_variation("budget_gbp=500000:3000000:6").values == (500000, 1000000, 1500000, 2000000, 2500000, 3000000)


def test_range_between_whole_numbers_rounds_to_whole_numbers():
    """Whole-number ends with uneven steps give whole numbers (rounded), not fractions."""
    assert parse_variation("budget_gbp=0:10:4").values == (0, 3, 7, 10)


def test_range_with_a_float_end_gives_floats():
    """A float end gives evenly spaced floats, kept to 12 significant digits."""
    assert parse_variation("allocation.equity_floor=0.0:0.3:4").values == (0.0, 0.1, 0.2, 0.3)


def test_single_step_range_is_its_start():
    """STEPS = 1 gives START alone."""
    assert parse_variation("budget_gbp=700000:900000:1").values == (700000,)


def test_list_is_typed_as_toml():
    """A list's items are typed as TOML types them: numbers, booleans and quoted strings."""
    assert parse_variation('x=1,2.5,true,"a b"').values == (1, 2.5, True, "a b")


def test_list_of_bare_words_is_strings():
    """Bare words (not valid TOML) are strings, as --set takes them."""
    assert parse_variation("fund_round=safer-streets-3,safer-streets-4").values == ("safer-streets-3", "safer-streets-4")


@pytest.mark.parametrize(
    "spec, what",
    [
        ("budget_gbp", "needs KEY=START:STOP:STEPS or KEY=A,B,C"),
        ("budget_gbp=1:2:0", "has a range whose STEPS is not a whole number of 1 or more"),
        ("budget_gbp=1:2:x", "has a range whose STEPS is not a whole number of 1 or more"),
        ("budget_gbp=a:2:3", "has a range whose START is not a number"),
        ("budget_gbp=1:3:5", "has more steps than whole numbers between START and STOP"),
    ],
)
def test_bad_spec_is_refused_on_vary(spec, what):
    """A spec without '=', with STEPS < 1 or not whole, a non-number end, or too many whole steps is a ConfigError on --vary."""
    with pytest.raises(ConfigError) as caught:
        parse_variation(spec)
    assert (caught.value.key, caught.value.what) == ("--vary", what)


def test_unknown_key_is_refused_before_any_point():
    """A key the scenario does not have is refused on --vary, with the scenario's suggestion."""
    with pytest.raises(ConfigError) as caught:
        sweep(BASELINE, [parse_variation("budgt_gbp=1,2")])
    assert (caught.value.key, caught.value.what, caught.value.got) == ("--vary", "unknown key", "budgt_gbp")
    assert caught.value.hint == "did you mean 'budget_gbp'?"


def test_key_varied_twice_is_refused():
    """The same key in two --vary is refused."""
    with pytest.raises(ConfigError) as caught:
        sweep(BASELINE, [parse_variation("budget_gbp=1,2"), parse_variation("budget_gbp=3,4")])
    assert caught.value.what == "varies the same key twice"


def test_grid_is_every_combination_first_key_slowest():
    """Two keys of 3 and 2 values make 6 points, the first key changing slowest."""
    points = grid([parse_variation("a=1,2,3"), parse_variation("b=true,false")])
    assert points == [(1, True), (1, False), (2, True), (2, False), (3, True), (3, False)]


def test_toml_value_reads_back_as_the_same_value():
    """Every value a --vary gives is written so that --set reads it back unchanged."""
    for value in (3, 2.5, True, "safer-streets-4", ["a", 1], {"areas": ["Medway"], "multiplier": 1.3}):
        assert parse_variation(f"x={toml_value(value)}").values == (value,)


def test_sweep_has_a_row_per_point_in_order(budgets):
    """Six points, numbered 1-6, each with its budget and status ok."""
    rows = budgets.rows()
    assert [(row["point"], row["budget_gbp"], row["status"]) for row in rows] == [
        (k + 1, budget, "ok") for k, budget in enumerate((500000, 1000000, 1500000, 2000000, 2500000, 3000000))
    ]


def test_harm_averted_rises_with_the_budget(budgets):
    """On the Kent baseline more budget never averts less harm, and every point spends its whole budget up to £3m."""
    averted = [point.harm_averted_days for point in budgets.points]
    assert averted == sorted(averted)
    assert averted[0] < averted[-1]
    assert [round(point.allocated_gbp) for point in budgets.points] == [500000, 1000000, 1500000, 2000000, 2500000, 3000000]


def test_each_point_equals_a_plain_run_with_the_same_set(budgets):
    """The £1m point's allocation, area by area, is that of `run` with --set budget_gbp=1000000."""
    plain = run(load_scenario(BASELINE, ["budget_gbp=1000000", "demand.draws=10"]))
    point = budgets.points[1]
    amounts = plain.area_amounts()
    expected = {code: amounts[a] for a, code in enumerate(plain.demand.areas.codes) if plain.funded()[a]}
    assert {area.code: area.amount_gbp for area in point.funded} == expected
    assert point.harm_averted_days == plain.allocation.averted_days
    assert point.eligible_areas == len(plain.eligibility.eligible_codes)
    assert point.sets == ("budget_gbp=1000000",)


def test_point_keeps_the_baselines_totals(budgets):
    """Each point keeps every simple split's £ and harm averted, as the plain run scores them."""
    plain = run(load_scenario(BASELINE, ["budget_gbp=500000", "demand.draws=10"]))
    expected = [(row["method"], row["allocated_gbp"], row["harm_averted_days"]) for row in plain.method_totals()[1:]]
    found = [(method, round(gbp, 2), round(days, 3)) for method, gbp, days, _ in budgets.points[0].baselines]
    assert found == expected


def test_infeasible_point_is_a_row_with_its_reason():
    """A least-cost target out of the budget's reach is an 'infeasible: …' row; the reachable point beside it runs."""
    found = sweep(BASELINE, [parse_variation("allocation.target_harm_days=100000,100000000")], sets=['allocation.objective="least_cost"'])
    statuses = [point.status for point in found.points]
    assert statuses[0] == "ok"
    assert statuses[1].startswith("infeasible: allocation.target_harm_days: the rules cannot all be met")


def test_invalid_point_is_a_row_with_its_reason():
    """A value the schema refuses (a negative budget) is an 'invalid: …' row, not an error for the sweep."""
    found = sweep(BASELINE, [parse_variation("budget_gbp=-5,1000000")])
    assert found.points[0].status == ("invalid: budget_gbp: is out of range (got -5; expected a number > 0 and <= 1,000,000,000)")
    assert found.points[1].ok


def test_draws_add_the_interval_columns():
    """With draws each row has the mean and interval of harm averted, the interval around the point's figure."""
    found = sweep(BASELINE, [parse_variation("budget_gbp=1000000")], draws=50)
    row = found.rows()[0]
    assert row["harm_averted_low_days"] < row["harm_averted_days"] < row["harm_averted_high_days"]
    assert found.points[0].sets == ("budget_gbp=1000000",)
    assert found.sets == ("demand.draws=50",)


def test_chart_lines_are_one_per_value_of_the_other_key():
    """Against the budget, a 2 × 2 grid gives one line per round, each over both budgets in order, with the point's harm."""
    from simulator.sweep_charts import chart_lines

    found = sweep(BASELINE, [parse_variation("budget_gbp=1000000,2000000"), parse_variation("fund_round=safer-streets-3,safer-streets-4")])
    lines = chart_lines(found, 0, "harm_averted_days")
    assert [(label, xs) for label, xs, _ in lines] == [
        ("fund_round = safer-streets-3", [1000000.0, 2000000.0]),
        ("fund_round = safer-streets-4", [1000000.0, 2000000.0]),
    ]
    assert lines[1][2] == [found.points[1].harm_averted_days, found.points[3].harm_averted_days]


def test_chart_has_a_titled_panel_per_key_and_output(budgets):
    """The figure has 4 panels per varied key, each titled, with the key on x and a unit on y."""
    from simulator.sweep_charts import OUTPUTS, outputs_by_key

    panels = outputs_by_key(budgets).axes
    assert [panel.get_title() for panel in panels] == [title for _, title, _ in OUTPUTS]
    assert {panel.get_xlabel() for panel in panels} == {"budget_gbp"}
    assert [panel.get_ylabel() for panel in panels] == ["harm days", "£", "areas", "£"]


def test_failed_point_is_a_gap_in_the_chart():
    """An invalid point's output is NaN, so its line has a gap there."""
    import math

    from simulator.sweep_charts import chart_lines

    found = sweep(BASELINE, [parse_variation("budget_gbp=-5,1000000")])
    _, _, values = chart_lines(found, 0, "allocated_gbp")[0]
    assert math.isnan(values[0]) and values[1] == pytest.approx(1000000.0)
