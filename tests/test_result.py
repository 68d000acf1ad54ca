"""The run's tables and headline words: the certificate's sentence, the objective, rules.csv and budget_curve.csv rows,
plans whose regret is not measured, the money by force, and the tables held column by column."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.explanation import BudgetCurve, RuleEffect
from simulator.formulation import Certificate
from simulator.inputs import LeftOut
from simulator.result import BUDGET_CURVE_COLUMNS, RULE_COLUMNS, Coded, Table, percent, round_each


def with_certificate(result, certificate):
    """The run with its allocation's certificate replaced."""
    return dataclasses.replace(result, allocation=dataclasses.replace(result.allocation, certificate=certificate))


def with_objective(result, objective: str, **settings):
    """The run as if its scenario had asked for another objective (the figures themselves unchanged)."""
    scenario = result.scenario
    allocation = dataclasses.replace(scenario.allocation, objective=objective, **settings)
    loaded = dataclasses.replace(result.loaded, scenario=dataclasses.replace(scenario, allocation=allocation))
    return dataclasses.replace(result, loaded=loaded)


EAST_KENT = (0, 1, 3, 4, 9, 10)
"""Ashford, Canterbury, Dover, Folkestone and Hythe, Swale, Thanet: the first force of the two-force fixture."""
LEFT_OUT = LeftOut("metropolitan", "no street records for any month of the period", 4_994, 8_900_000.0)


def two_forces(result):
    """The Kent run as if its districts were two forces, east ("kent") and west ("sussex"), with the Metropolitan Police
    left out: the money and the simple splits stay as they were solved."""
    areas = result.demand.areas
    forces = tuple("kent" if a in EAST_KENT else "sussex" for a in range(len(areas.codes)))
    areas = dataclasses.replace(areas, forces=forces, left_out=(LEFT_OUT,))
    return dataclasses.replace(result, demand=dataclasses.replace(result.demand, areas=areas))


def without_regret(result, plans: int = 3):
    """The run as if regret were not measured (a goal other than harm) and only the first `plans` plans were scored."""
    carlo = result.monte_carlo
    kept = tuple(dataclasses.replace(plan, regret=None) for plan in carlo.plans[:plans])
    return dataclasses.replace(result, monte_carlo=dataclasses.replace(carlo, plans=kept, chosen=kept[0].objective))


BUDGET_EFFECT = RuleEffect(
    "budget", "budget", "the budget of £1,500,000", "budget_gbp", "£", 10000.0, 0.31166173, 3112.81726, -3120.42354, False, "harm days"
)
CAP_EFFECT = RuleEffect(
    "grant_cap",
    "grant cap",
    "the £550,000 grant cap in Medway",
    "rounds.safer-streets-3.max_grant_gbp",
    "£",
    10000.0,
    0.0072712,
    66.5049,
    -78.9121,
    True,
    "harm days",
)


@pytest.mark.parametrize(
    ("fraction", "words"), [(0.0, "0 %"), (1.5455e-6, "0.00015 %"), (0.0123, "1.2 %"), (0.25, "25 %"), (3e-7, "under 0.0001 %")]
)
def test_percent_keeps_two_significant_digits(fraction, words):
    """A gap is shown to two significant digits, however small, and never in scientific notation."""
    assert percent(fraction) == words


def test_optimality_sentence_from_the_certificate(kent_result):
    """The harm goal's sentence: the gap, the value and the bound in whole harm days, and the method."""
    certificate = Certificate("harm", 578311.1008, 578312.9947, 3.275e-6, "linear program between chords and tangents", 384)
    assert with_certificate(kent_result, certificate).optimality_words() == (
        "Optimal to within 0.00033 %: these amounts avert 578,311 harm days on the exact response curves, and no split under "
        "the same rules can avert more than 578,313 (linear program between chords and tangents)."
    )


def test_exact_method_says_optimal_without_a_gap(kent_result):
    """An exact method (gap 0) is called optimal, with no bound repeated."""
    certificate = Certificate("harm", 245169.975, 245169.975, 0.0, "water-filling over all 35 funded sets the rules allow", 0)
    assert with_certificate(kent_result, certificate).optimality_words() == (
        "Optimal: these amounts avert 245,170 harm days on the exact response curves, and no split under the same rules can "
        "avert more (water-filling over all 35 funded sets the rules allow)."
    )


def test_least_cost_sentence_names_the_target_and_the_lower_bound(kent_result):
    """For least cost the value and the bound are money, and the bound is a floor."""
    result = with_certificate(
        kent_result, Certificate("least_cost", 812345.0, 810000.0, 0.0029, "linear program between chords and tangents", 96)
    )
    result = dataclasses.replace(result, request=dataclasses.replace(result.request, goal="least_cost", target_harm_days=300000.0))
    assert result.optimality_words() == (
        "Optimal to within 0.29 %: these amounts avert the target of 300,000 harm days for £812,345 on the exact response "
        "curves, and no split under the same rules averts it for less than £810,000 (linear program between chords and tangents)."
    )


def test_maxmin_sentence_speaks_of_the_worst_served_area(kent_result):
    """For max-min the value is a ratio, shown to four significant digits."""
    result = with_certificate(
        kent_result, Certificate("maxmin", 0.123456, 0.1235, 0.00036, "linear program between chords and tangents", 48)
    )
    assert result.optimality_words() == (
        "Optimal to within 0.036 %: these amounts avert 0.1235 days per day of basket harm in the worst-served area on the "
        "exact response curves, and no split under the same rules can raise that above 0.1235 (linear program between chords "
        "and tangents)."
    )


def test_a_methods_own_note_in_brackets_does_not_nest(kent_result):
    """A method with its own bracketed note is said with a colon inside the sentence's brackets."""
    method = "water-filling over the 35 funded sets the rules allow (1 filled, the rest bounded below the best)"
    certificate = Certificate("harm", 245169.975, 245169.975, 0.0, method, 0)
    assert (
        with_certificate(kent_result, certificate)
        .optimality_words()
        .endswith("avert more (water-filling over the 35 funded sets the rules allow: 1 filled, the rest bounded below the best).")
    )


def test_plan_chosen_on_the_draws_has_no_certificate(kent_result):
    """The expected plan carries no certificate at the point estimates, and the sentence says where to look instead."""
    result = with_objective(with_certificate(kent_result, None), "expected")
    result = dataclasses.replace(result, monte_carlo=dataclasses.replace(result.monte_carlo, chosen="expected"))
    assert result.optimality_words() == (
        "The expected plan (best mean over the draws) is chosen on the Monte Carlo draws, so it carries no certificate at the "
        "point estimates; how far it can be from the best plan on the draws is under How sure are we?"
    )
    assert result.summary().as_dict()["certificate"] is None


@pytest.mark.parametrize(
    ("objective", "settings", "words"),
    [
        ("point", {}, "the most harm averted at the point estimates, within the round's rules"),
        ("cvar", {}, "the most harm averted on average over the worst 10% of the Monte Carlo draws, within the round's rules"),
        (
            "blend",
            {"blend_weight": 0.25},
            "a blend of harm averted (75%) and the worst-served eligible area's harm averted per day of its basket harm, scaled "
            "to harm days (25%), within the round's rules",
        ),
        ("least_cost", {"target_harm_days": 250000.0}, "the least money that averts 250,000 harm days, within the round's rules"),
    ],
)
def test_objective_in_words(kent_result, objective, settings, words):
    """Each objective is worded from the scenario's own figures."""
    assert with_objective(kent_result, objective, **settings).objective_words() == words


def test_summary_json_holds_the_certificate_objective_and_rule_sentences(kent_result):
    """summary.json: the objective and its words, the certificate rounded for output, the optimality sentence, the rules' sentences."""
    certificate = Certificate("harm", 578311.10084, 578311.99467, 1.5455878e-6, "water-filling on the exact curves", 384)
    result = dataclasses.replace(with_certificate(kent_result, certificate), rule_effects=(BUDGET_EFFECT,))
    data = json.loads(json.dumps(result.summary().as_dict()))
    assert data["objective"] == "point"
    assert data["objective_words"] == "the most harm averted at the point estimates, within the round's rules"
    assert data["certificate"] == {
        "goal": "harm",
        "unit": "harm days",
        "value": 578311.101,
        "bound": 578311.995,
        "gap": 1.546e-06,
        "method": "water-filling on the exact curves",
    }
    assert data["optimality"].startswith("Optimal to within 0.00015 %: ")
    assert data["rule_effects"] == [BUDGET_EFFECT.sentence()]


def test_rule_rows_hold_every_figure_of_each_effect(kent_result):
    """rules.csv: one row per binding rule in its columns; changes in harm days to a thousandth, prices to 6 digits."""
    rows = dataclasses.replace(kent_result, rule_effects=(BUDGET_EFFECT, CAP_EFFECT)).rule_rows()
    assert [list(row) for row in rows] == [list(RULE_COLUMNS)] * 2
    assert rows[1] == {
        "rule": "grant cap",
        "words": "the £550,000 grant cap in Medway",
        "config_key": "rounds.safer-streets-3.max_grant_gbp",
        "unit": "£",
        "step": 10000.0,
        "goal_unit": "harm days",
        "solver_price_per_unit": 0.0072712,
        "solver_price_per_step": 72.712,
        "change_when_raised": 66.505,
        "change_when_lowered": -78.912,
        "conditional_on_bids": "true",
        "sentence": CAP_EFFECT.sentence(),
    }


def test_rule_without_a_price_or_a_re_solve_leaves_its_cells_empty(kent_result):
    """A rule listed without a re-solve (past the most priced) has no price and no changes: empty cells, not zeros."""
    effect = dataclasses.replace(BUDGET_EFFECT, price=None, gain_up=None, change_down=None)
    (row,) = dataclasses.replace(kent_result, rule_effects=(effect,)).rule_rows()
    assert [row[key] for key in ("solver_price_per_unit", "solver_price_per_step", "change_when_raised", "change_when_lowered")] == [
        None
    ] * 4


def curve(budgets, values, budget, price=0.5, statuses=None):
    return BudgetCurve(
        np.array(budgets, dtype=float),
        np.array(values, dtype=float),
        tuple(statuses or ["optimal"] * len(budgets)),
        budget,
        price,
        "harm days",
    )


def test_budget_curve_rows_mark_the_budget_and_the_slope_to_the_next_point(kent_result):
    """budget_curve.csv: each point, its slope to the next per £1,000 (none after the last), the scenario's budget marked."""
    traced = curve([0, 1000, 2000, 3000, 4000], [0, 600, 1000, 1100, 1100], 2000, statuses=["nothing to spend"] + ["optimal"] * 4)
    rows = dataclasses.replace(kent_result, budget_curve=traced).budget_curve_rows()
    assert [tuple(row.values()) for row in rows] == [
        (0.0, 0.0, "harm days", 600.0, "nothing to spend", "false"),
        (1000.0, 600.0, "harm days", 400.0, "optimal", "false"),
        (2000.0, 1000.0, "harm days", 100.0, "optimal", "true"),
        (3000.0, 1100.0, "harm days", 0.0, "optimal", "false"),
        (4000.0, 1100.0, "harm days", None, "optimal", "false"),
    ]
    assert list(rows[0]) == list(BUDGET_CURVE_COLUMNS)


def test_infeasible_budgets_have_no_value_and_say_why(kent_result):
    """A budget where the other rules cannot all be met has an empty value and slope, and its status gives the reason."""
    traced = curve([0, 1000, 2000], [np.nan, np.nan, 700], 1000, statuses=["nothing to spend", "infeasible: floors need £1,500", "optimal"])
    rows = dataclasses.replace(kent_result, budget_curve=traced).budget_curve_rows()
    assert [(row["goal_value"], row["slope_to_next_per_1000_gbp"], row["status"]) for row in rows] == [
        (None, None, "nothing to spend"),
        (None, None, "infeasible: floors need £1,500"),
        (700.0, None, "optimal"),
    ]


def test_budget_between_the_curves_points_gets_its_own_row(kent_result):
    """With an even number of points the budget falls between two: a row of its own carries the run's value."""
    certificate = Certificate("harm", 1500.0, 1500.0, 0.0, "water-filling on the exact curves", 384)
    result = dataclasses.replace(
        with_certificate(kent_result, certificate), budget_curve=curve([0, 1000, 2000, 3000], [0, 1000, 1800, 2400], 1500)
    )
    rows = result.budget_curve_rows()
    assert [(row["budget_gbp"], row["goal_value"], row["scenario_budget"]) for row in rows] == [
        (0.0, 0.0, "false"),
        (1000.0, 1000.0, "false"),
        (1500.0, 1500.0, "true"),
        (2000.0, 1800.0, "false"),
        (3000.0, 2400.0, "false"),
    ]
    assert rows[2]["status"] == "the run's allocation"


def test_least_cost_run_has_no_budget_curve_rows(kent_result):
    """Without a curve (the least-cost goal) the table is empty; report.py still writes its header."""
    assert dataclasses.replace(kent_result, budget_curve=None).budget_curve_rows() == []


def test_regret_not_measured_is_an_empty_cell_and_null(kent_result):
    """A plan whose regret is not measured: None in plans.csv's row (an empty cell) and null in summary.json."""
    result = without_regret(kent_result)
    assert [row["mean_regret_days"] for row in result.plan_rows()] == [None, None, None]
    data = json.loads(json.dumps(result.summary().as_dict()))
    assert data["perfect_information_days"] is None
    assert [plan["mean_regret_days"] for plan in data["plans"].values()] == [None, None, None]


def test_a_single_plan_is_one_row(kent_result):
    """When only the point plan is scored, plans.csv has one row, and it is the chosen one."""
    rows = without_regret(kent_result, plans=1).plan_rows()
    assert [(row["plan"], row["chosen"]) for row in rows] == [("point", "true")]


def test_bound_within_a_day_of_the_value_is_said_so(kent_result):
    """A bound less than a harm day above the value is not shown as a second, equal-looking figure."""
    certificate = Certificate("harm", 578311.1008, 578311.1421, 7.1e-8, "water-filling on the exact curves", 0)
    assert with_certificate(kent_result, certificate).optimality_words() == (
        "Optimal to within under 0.0001 %: these amounts avert 578,311 harm days on the exact response curves, and no split "
        "under the same rules can avert even one harm day more (water-filling on the exact curves)."
    )


# ---------------------------------------------------------------- by force


def test_one_force_does_not_span_forces(kent_result):
    """A run of one force's areas is not split by force."""
    assert not kent_result.spans_forces


def test_two_forces_span_forces(kent_result):
    """Areas of two forces make a run that spans forces."""
    assert two_forces(kent_result).spans_forces


def test_force_rows_sum_the_areas_money_by_force(kent_result):
    """Each force's £ is the sum of its districts' £, most money first, and the left-out group gets £0."""
    amounts = kent_result.area_amounts()
    east = sum(amounts[a] for a in EAST_KENT)
    rows = two_forces(kent_result).force_rows()
    assert [(row["force"], row["status"], row["amount_gbp"]) for row in rows] == [
        ("sussex", "modelled", round(amounts.sum() - east, 2)),
        ("kent", "modelled", round(east, 2)),
        ("metropolitan", "left out", 0.0),
    ]


def test_force_rows_count_areas_eligible_areas_and_funded_bids(kent_result):
    """East Kent: 6 districts, 4 eligible and funded; west: 7 districts, 5 eligible and funded (each district its own bid)."""
    rows = {row["force"]: row for row in two_forces(kent_result).force_rows()}
    assert [(rows[force]["areas"], rows[force]["eligible_areas"], rows[force]["bids_funded"]) for force in ("kent", "sussex")] == [
        (6, 4, 4),
        (7, 5, 5),
    ]


def test_force_shares_of_money_add_to_one(kent_result):
    """The modelled forces' shares of the money add to 1 (to the rounding of each share)."""
    rows = [row for row in two_forces(kent_result).force_rows() if row["status"] == "modelled"]
    assert sum(row["share_of_money"] for row in rows) == pytest.approx(1.0, abs=1e-6)


def test_force_rows_hold_each_simple_split_by_its_name(kent_result):
    """Each baseline's £ by force is a column named after the baseline, and adds up to the baseline's total."""
    result = two_forces(kent_result)
    rows = result.force_rows()
    for baseline in result.baselines:
        assert sum(row[f"{baseline.name}_gbp"] for row in rows) == pytest.approx(baseline.allocated_gbp, abs=0.02)


def test_left_out_row_keeps_its_reason_and_unknown_harm(kent_result):
    """A left-out group shows its areas, residents and reason; its harm is unknown (empty), never 0."""
    row = two_forces(kent_result).force_rows()[-1]
    assert (row["areas"], row["residents"], row["reason"], row["expected_harm_days"], row["per_head_gbp"]) == (
        4_994,
        8_900_000,
        "no street records for any month of the period",
        None,
        0.0,
    )


def test_summary_json_has_by_force_totals_only_when_spanning_forces(kent_result):
    """summary.json holds `by_force` for a run across forces, and no such key for one force (its goldens unchanged)."""
    spanning = two_forces(kent_result).summary().as_dict()
    assert list(spanning["by_force"]) == ["sussex", "kent", "metropolitan"]
    assert "by_force" not in kent_result.summary().as_dict()


def test_left_out_group_is_a_warning(kent_result):
    """A left-out group is among the warnings, said not to be safe."""
    warning = two_forces(kent_result).warnings()[-1]
    assert warning.startswith("Metropolitan Police is left out (4,994 areas, 8,900,000 residents): no street records")
    assert warning.endswith("they are not read as safe")


def test_force_rows_name_each_force_as_the_tile_layout_spells_it(kent_result):
    """Beside the data's id, each row has the force's name: 'sussex' is Sussex, 'metropolitan' the Metropolitan Police."""
    rows = two_forces(kent_result).force_rows()
    assert [(row["force"], row["force_name"]) for row in rows] == [
        ("sussex", "Sussex"),
        ("kent", "Kent"),
        ("metropolitan", "Metropolitan Police"),
    ]


HALVES = st.tuples(st.integers(-(10**9), 10**9), st.sampled_from([2, 3, 4, 6])).map(lambda pair: (pair[0] + 0.5) / 10 ** pair[1])
"""Values at or next to a half of the last place kept, where rounding the scaled value can differ from exact rounding."""


@given(st.lists(st.one_of(st.floats(), HALVES), max_size=20), st.sampled_from([2, 3, 4, 6]))
def test_round_each_rounds_as_python_does(values, digits):
    """A whole array rounded at once holds what `round(value, digits)` gives for each value, sign of zero, NaN and
    infinities included, so that a table's figures are those its rows always had."""
    rounded = round_each(np.array(values, dtype=float), digits).tolist()
    assert [repr(value) for value in rounded] == [repr(round(value, digits)) for value in values]


def test_table_rows_hold_plain_values_and_empty_cells():
    """A table's rows: coded text spelled out, masked numbers None, numbers as plain floats and ints."""
    table = Table(
        (
            ("area", Coded(("Ashford", "Dover"), np.array([1, 0, 1]))),
            ("amount_gbp", np.ma.masked_array([1.5, 2.0, 3.25], mask=[False, True, False])),
            ("bids", np.array([3, 0, 1])),
        )
    )
    assert table.names == ("area", "amount_gbp", "bids") and len(table) == 3
    assert table.rows() == [
        {"area": "Dover", "amount_gbp": 1.5, "bids": 3},
        {"area": "Ashford", "amount_gbp": None, "bids": 0},
        {"area": "Dover", "amount_gbp": 3.25, "bids": 1},
    ]
    assert [type(row["bids"]) for row in table.rows()] == [int, int, int]


def test_table_rows_are_the_rows_of_each_table(kent_result):
    """The rows of the run's tables are rows of plain values: one per area × crime type, area, or area × intervention."""
    areas = len(kent_result.demand.areas.codes)
    assert len(kent_result.demand_rows()) == areas * len(kent_result.demand.harm.values[0])
    assert len(kent_result.eligibility_rows()) == len(kent_result.uncertainty_rows()) == areas
    assert len(kent_result.allocation_rows()) == kent_result.allocation.amounts.values.size
    assert len(kent_result.baseline_rows()) == (areas + 1) * (1 + len(kent_result.baselines))
    for row in kent_result.allocation_rows():
        assert type(row["area_code"]) is str and type(row["amount_gbp"]) is float
