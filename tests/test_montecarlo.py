"""The Monte Carlo through the whole pipeline: odds per area, plans on the same draws, regret, marginal verdicts, the tornado."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BASELINE

from simulator import load_scenario, run
from simulator.arrays import Labelled
from simulator.interventions import worst_share_mean
from simulator.verdicts import VerdictOdds


@pytest.fixture(scope="module")
def small_run():
    """The Kent baseline with 200 draws."""
    return run(load_scenario(BASELINE, ("demand.draws=200",)))


def test_same_seed_gives_the_same_draws(small_run):
    again = run(load_scenario(BASELINE, ("demand.draws=200",)))
    assert again.uncertainty_rows() == small_run.uncertainty_rows()
    assert again.plan_rows() == small_run.plan_rows()


def test_another_seed_gives_other_draws(small_run):
    other = run(load_scenario(BASELINE, ("demand.draws=200", "seed=7")))
    assert other.plan_rows() != small_run.plan_rows()


def test_probabilities_are_shares_of_draws(small_run):
    carlo = small_run.monte_carlo
    for values in (carlo.verdicts.p_eligible.values, carlo.p_funded.values):
        assert np.all((values >= 0) & (values <= 1))
        assert np.allclose(values * carlo.draws, np.round(values * carlo.draws))


def test_area_that_is_never_eligible_is_never_funded(small_run):
    carlo = small_run.monte_carlo
    never = carlo.verdicts.p_eligible.values == 0
    assert np.all(carlo.p_funded.values[never] == 0)
    assert np.all(carlo.p_funded.values <= carlo.verdicts.p_eligible.values + 1e-12)


def test_intervals_are_ordered(small_run):
    carlo = small_run.monte_carlo
    for table in (carlo.amount.values, carlo.averted.values):
        assert np.all(table[:, 0] <= table[:, 1] + 1e-9) and np.all(table[:, 1] <= table[:, 2] + 1e-9)
    low, high = carlo.interval
    assert low <= carlo.plan.quantile(0.5) <= high


def test_regret_is_never_negative(small_run):
    for plan in small_run.monte_carlo.plans:
        assert plan.regret.min() >= 0


def test_expected_plan_has_the_best_mean_and_cvar_plan_the_best_worst_share(small_run):
    """On the same draws, within the chord approximation's error (well under 1 % at 48 segments)."""
    plans = {plan.objective: plan for plan in small_run.monte_carlo.plans}
    slack = 0.005 * plans["expected"].mean
    assert plans["expected"].mean >= plans["cvar"].mean - slack
    assert plans["expected"].mean >= plans["point"].mean - slack
    assert plans["cvar"].worst_share_mean >= plans["expected"].worst_share_mean - slack
    assert plans["cvar"].worst_share_mean >= plans["point"].worst_share_mean - slack


def test_perfect_information_is_the_expected_plans_mean_regret(small_run):
    carlo = small_run.monte_carlo
    expected = next(plan for plan in carlo.plans if plan.objective == "expected")
    assert carlo.perfect_information_days == pytest.approx(expected.mean_regret)


def test_worst_share_mean_is_at_most_the_mean(small_run):
    plan = small_run.monte_carlo.plan
    assert plan.worst_share_mean <= plan.mean
    assert plan.worst_share_mean == pytest.approx(worst_share_mean(plan.averted, small_run.monte_carlo.tail_share))


def test_nothing_uncertain_collapses_the_interval_to_the_point():
    result = run(load_scenario(BASELINE, ("demand.draws=20", "uncertainty.sources=[]")))
    low, high = result.monte_carlo.interval
    assert low == pytest.approx(result.allocation.averted_days, rel=1e-9)
    assert high == pytest.approx(result.allocation.averted_days, rel=1e-9)
    assert not result.monte_carlo.verdicts.marginal.any()
    assert "nothing" in result.summary().harm_averted_interval_includes
    assert result.monte_carlo.perfect_information_days == pytest.approx(0.0, abs=1e-6)


def test_perfect_information_is_never_negative_and_no_plan_beats_each_draws_best(small_run):
    carlo = small_run.monte_carlo
    assert carlo.perfect_information_days >= 0
    assert carlo.perfect_information_days == pytest.approx(min(plan.mean_regret for plan in carlo.plans))


def test_records_bar_of_the_tornado_follows_the_sources_switched_on():
    """With only the forecast's parameters varying, the records bar is a few thousand days wide (every crime type at the
    same end of its factor's range), not the 16,000 of count noise and forecast together."""
    forecast_only = run(load_scenario(BASELINE, ("demand.draws=200", 'uncertainty.sources=["forecast"]')))
    both = run(load_scenario(BASELINE, ("demand.draws=200", 'uncertainty.sources=["counts", "forecast"]')))

    def width(result):
        return next(bar.swing for bar in result.monte_carlo.tornado if bar.key == "demand")

    assert width(forecast_only) < 0.4 * width(both)


def test_too_many_draws_for_the_areas_is_one_clear_error():
    from simulator.errors import ConfigError
    from simulator.pipeline import check_draws_fit

    check_draws_fit(1000, 13)
    with pytest.raises(ConfigError, match="more Monte Carlo draws than a run can hold"):
        check_draws_fit(100_000, 1_107)


def test_headline_names_what_the_interval_includes(small_run):
    summary = small_run.summary()
    words = summary.harm_averted_interval_includes
    for part in ("counts", "forecast", "effects", "cost scales", "harm weights"):
        assert part in words
    assert summary.as_dict()["harm_averted_interval_includes"] == words


def test_switching_effects_off_narrows_the_interval(small_run):
    without = run(load_scenario(BASELINE, ("demand.draws=200", 'uncertainty.sources=["counts", "forecast"]')))
    width = np.subtract(*small_run.monte_carlo.interval[::-1])
    assert np.subtract(*without.monte_carlo.interval[::-1]) < width
    assert "effects" not in without.summary().harm_averted_interval_includes


def test_marginal_means_flipping_in_more_than_the_share():
    odds = VerdictOdds(
        draws=100,
        point_eligible=np.array([True, True, False, False]),
        p_eligible=Labelled(np.array([0.95, 0.85, 0.05, 0.2]), ("area",), (("A", "B", "C", "D"),), "P", "p"),
        marginal_share=0.1,
    )
    assert odds.marginal.tolist() == [False, True, False, True]
    assert odds.describe(1) == "marginal: eligible in 85% of 100 draws"
    assert odds.describe(0) == "eligible in 95% of 100 draws"


def test_expected_objective_reports_the_expected_plan():
    result = run(load_scenario(BASELINE, ("demand.draws=100", 'allocation.objective="expected"')))
    carlo = result.monte_carlo
    assert carlo.chosen == "expected"
    assert np.allclose(result.allocation.amounts.values, carlo.plan.amounts)
    assert result.allocation.budget_shadow_price is None
    assert result.allocation.allocated_gbp <= result.scenario.budget_gbp + 0.01


def test_cvar_plan_respects_the_rules():
    result = run(load_scenario(BASELINE, ("demand.draws=100", 'allocation.objective="cvar"')))
    assert result.method_totals()[0]["method"] == "cvar plan"
    assert "a simple split can avert more" in result.method_totals()[0]["description"]
    amounts = result.allocation.amounts.values
    assert amounts.sum() <= result.scenario.budget_gbp + 0.01
    assert np.all(amounts[~result.eligibility.eligible.values] == 0)
    assert np.all(amounts.sum(axis=1) <= result.scenario.round.max_grant_gbp + 0.01)


def test_tornado_is_sorted_by_swing_and_names_each_input(small_run):
    bars = small_run.monte_carlo.tornado
    swings = [bar.swing for bar in bars]
    assert swings == sorted(swings, reverse=True)
    keys = {bar.key for bar in bars}
    assert "demand" in keys and any(key.startswith("effect:") for key in keys)


def test_tornado_bar_at_the_point_value_gives_the_point_harm(small_run):
    """Setting an input to its own point value changes nothing: the bars pivot on the point harm averted."""
    from simulator.uncertainty import uncertain_inputs

    scenario = small_run.scenario
    carlo = small_run.monte_carlo
    item = uncertain_inputs(scenario.uncertainty, scenario.active_interventions(), small_run.demand.weights)[0]
    assert item.low <= item.point <= item.high
    bar = next(bar for bar in carlo.tornado if bar.key == item.key)
    point = small_run.allocation.averted_days
    assert min(bar.averted_low, bar.averted_high) <= point + 1e-6 <= max(bar.averted_low, bar.averted_high) + 2e-6


def test_two_jobs_give_the_same_monte_carlo_as_one():
    """Chunks of draws solved in two spawned processes give the figures solved in this process, to the last bit."""
    from simulator.execution import Executor

    loaded = load_scenario(BASELINE, ("demand.draws=150",))
    alone, shared = run(loaded).monte_carlo, run(loaded, executor=Executor(jobs=2)).monte_carlo
    for first, second in ((alone.p_funded, shared.p_funded), (alone.amount, shared.amount), (alone.averted, shared.averted)):
        assert np.array_equal(first.values, second.values)
    for first, second in zip(alone.plans, shared.plans):
        assert np.array_equal(first.averted, second.averted) and np.array_equal(first.regret, second.regret)


def test_progress_hears_each_chunk_of_draws():
    """250 draws are solved in three nearly equal chunks (at most 100 draws each), each heard once as it finishes."""
    heard = []
    run(load_scenario(BASELINE, ("demand.draws=250",)), draw_progress=heard.append)
    assert sorted(heard) == [83, 83, 84]


def test_draws_filled_together_match_the_single_draw_water_filling(small_run):
    """Every draw's exact best split, water-filled over all draws at once, equals the allocator's own, bit for bit."""
    import dataclasses

    from simulator.allocation import quick_best_amounts
    from simulator.montecarlo import fill_in_draws

    request = small_run.request
    world = drawn_curves(small_run, 30, 11)
    eligible = np.ones((30, len(small_run.curves.codes)), dtype=bool)
    eligible[::3, :4] = False
    together = fill_in_draws(request, world, eligible, np.arange(30))
    for d in range(30):
        alone, exact = quick_best_amounts(dataclasses.replace(request, curves=world.draw(d), eligible=eligible[d]))
        assert exact and np.array_equal(together[d], alone)


def test_verdict_odds_alone_match_a_full_runs(small_run):
    """Drawing only what the rules read gives the odds a full run's draws give."""
    from simulator.verdicts import verdict_odds

    odds = verdict_odds(small_run.scenario, small_run.demand, small_run.eligibility, 200, small_run.scenario.seed)
    assert np.array_equal(odds.p_eligible.values, small_run.monte_carlo.verdicts.p_eligible.values)


def test_draws_filled_one_by_one_match_draws_filled_together(small_run, monkeypatch):
    """Draws with many cells are water-filled one by one, small ones together: the best splits and the best harm averted
    under the published verdicts are the same either way, bit for bit."""
    from simulator import montecarlo

    request = small_run.request
    world = drawn_curves(small_run, 30, 5)
    eligible = np.ones((30, len(small_run.curves.codes)), dtype=bool)
    eligible[::4, :3] = False
    assert montecarlo._filled_together(request, world, eligible).any()
    plan = small_run.allocation.amounts.values
    together = montecarlo.best_per_draw(request, world, eligible, plan)
    monkeypatch.setattr(montecarlo, "MOST_CELLS_FILLED_TOGETHER", 0)
    alone = montecarlo.best_per_draw(request, world, eligible, plan)
    assert np.array_equal(together[0], alone[0]) and np.array_equal(together[1], alone[1]) and together[2] == alone[2]


@pytest.mark.parametrize("budget_share", [1.0, 0.25, 0.02])
def test_pruned_bisection_matches_the_plain_one(small_run, monkeypatch, budget_share):
    """The bisection that sums only the open cells and probes either side of the crossing takes every step the plain one
    takes, so both give the same splits, bit for bit."""
    import dataclasses

    from simulator import montecarlo

    request = dataclasses.replace(small_run.request, budget_gbp=small_run.request.budget_gbp * budget_share)
    world = drawn_curves(small_run, 40, 3)
    eligible = np.ones((40, len(small_run.curves.codes)), dtype=bool)
    eligible[1::3, 2:6] = False
    plain = montecarlo.fill_in_draws(request, world, eligible, np.arange(40))
    monkeypatch.setattr(montecarlo, "FEWEST_CELLS_PRUNED", 0)
    pruned = montecarlo.fill_in_draws(request, world, eligible, np.arange(40))
    assert np.array_equal(plain, pruned)
    assert np.allclose(plain.sum(axis=(1, 2)), min(request.spendable_gbp, request.bid_caps().sum()), rtol=1e-9)


def drawn_curves(run, draws: int, seed: int):
    """The curves of `draws` Monte Carlo draws of a run's inputs from `seed`, as the Monte Carlo builds them."""
    from simulator.interventions import curve_draws
    from simulator.verdicts import draw_world

    drawn = draw_world(run.scenario, run.demand, draws, seed)
    inputs = drawn.inputs
    return curve_draws(
        run.curves,
        run.scenario.active_interventions(),
        drawn.records.future_records,
        inputs.harm_weights,
        inputs.max_reduction,
        inputs.cost_factor,
    )
