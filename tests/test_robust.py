"""Robust plans over Monte Carlo draws: the expected plan has the best mean, the CVaR plan the best worst share, both within the rules."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import make_request
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import requests

from simulator.allocation import allocate
from simulator.arrays import Labelled
from simulator.constraints import AllocationRequest
from simulator.errors import ConfigError
from simulator.interventions import CurveDraws, Curves, worst_share_mean
from simulator.robust import MOST_ROBUST_NONZEROS, chord_values, evaluate_plan, plan_for_draws, plans_for_draws


def noisy_draws(request: AllocationRequest, count: int, seed: int) -> CurveDraws:
    """Draws around the request's curves: harm per cell, cost scale per intervention and effects each varied."""
    rng = np.random.default_rng(seed)
    curves = request.curves
    shape = curves.targeted_harm.values.shape
    return CurveDraws(
        curves.targeted_harm.values[None] * rng.gamma(4.0, 0.25, size=(count, *shape)),
        curves.scale.values[None] * rng.lognormal(0.0, 0.4, size=(count, 1, shape[1])),
        curves.max_reduction[None] * rng.uniform(0.5, 1.5, size=(count, shape[1])),
        curves.codes,
        curves.interventions,
    )


@st.composite
def problems(draw, rules: bool = True):
    """A random request under any of the round's rules where some bid can be funded, with 1-25 draws around its curves and a tail share."""
    request = draw(requests(rules=rules))
    assume(request.nothing_fundable() is None)
    draws = noisy_draws(request, draw(st.integers(1, 25)), draw(st.integers(0, 2**32 - 1)))
    return request, draws, draw(st.sampled_from([0.1, 0.25, 0.37, 1.0]))


def tolerance(*values: float) -> float:
    """The solver's tolerance in days: a millionth of the values compared (at least 1e-6)."""
    return 1e-6 * max(1.0, *(abs(value) for value in values))


@settings(max_examples=60)
@given(problems())
def test_cvar_plan_has_the_best_worst_share_and_the_expected_plan_the_best_mean(problem):
    """On the same draws' chords: CVaR plan's worst-share mean ≥ expected plan's, expected plan's mean ≥ CVaR plan's."""
    request, draws, share = problem
    expected, cvar = plan_for_draws(request, draws, "expected", share), plan_for_draws(request, draws, "cvar", share)
    expected_chords, cvar_chords = chord_values(request, draws, expected.amounts.values), chord_values(request, draws, cvar.amounts.values)
    worst_expected, worst_cvar = worst_share_mean(expected_chords, share), worst_share_mean(cvar_chords, share)
    assert worst_cvar >= worst_expected - tolerance(worst_expected)
    assert expected_chords.mean() >= cvar_chords.mean() - tolerance(cvar_chords.mean())


@settings(max_examples=60)
@given(problems())
def test_on_the_exact_curves_the_order_holds_within_the_chord_bound(problem):
    """On the exact curves each plan is at most its gap bound behind the other plan on its own objective."""
    request, draws, share = problem
    expected, cvar = plan_for_draws(request, draws, "expected", share), plan_for_draws(request, draws, "cvar", share)
    assert cvar.worst_share_mean_days >= expected.worst_share_mean_days - cvar.gap_bound_days - tolerance(expected.worst_share_mean_days)
    assert expected.mean_days >= cvar.mean_days - expected.gap_bound_days - tolerance(cvar.mean_days)


@settings(max_examples=60)
@given(problems())
def test_exact_values_lie_above_the_chords(problem):
    """Chords lie under each concave curve: every draw's exact harm averted is at least its chord value."""
    request, draws, share = problem
    plan = plan_for_draws(request, draws, "cvar", share)
    assert np.all(plan.averted_days >= plan.chord_days - tolerance(*plan.averted_days))
    assert plan.objective_days >= plan.chord_objective_days - tolerance(plan.chord_objective_days)


@settings(max_examples=60)
@given(requests(rules=True))
def test_one_draw_of_the_point_curves_gives_the_point_plans_harm_averted(request):
    """With the point curves as the only draw, the expected plan averts within its chord bound of `allocate`
    (and no more than it where `allocate` is exact: no bid limit or minimum grant)."""
    plan = plan_for_draws(request, CurveDraws.of(request.curves), "expected")
    point = allocate(request).averted_days
    assert plan.mean_days >= point - plan.gap_bound_days - 1e-6 * max(1.0, point)
    assert request.needs_binaries or plan.mean_days <= point + 1e-6 * max(1.0, point)


@settings(max_examples=60)
@given(problems(), st.sampled_from(["expected", "cvar"]))
def test_robust_plans_obey_every_rule(problem, objective):
    """Budget, eligibility, grant cap, bid limit and minimum grant hold for both objectives."""
    request, draws, share = problem
    amounts = plan_for_draws(request, draws, objective, share).amounts.values
    slack = request.slack_gbp
    per_bid = request.per_bid(amounts)
    funded = per_bid > slack
    assert amounts.min() >= 0.0
    assert amounts.sum() <= request.spendable_gbp + slack
    assert np.all(amounts[~request.eligible] == 0.0)
    assert np.all(amounts[~request.usable()] == 0.0)
    assert np.all(per_bid <= request.max_grant_gbp + slack)
    assert not request.max_bids or np.count_nonzero(funded) <= request.max_bids
    assert np.all(per_bid[funded] >= request.minimum_grant_gbp - slack)


@settings(max_examples=40)
@given(problems(), st.floats(1.0, 3.0))
def test_more_budget_never_lowers_the_expected_plans_mean(problem, factor):
    """A bigger budget only widens the choice: on the same chords the mean cannot fall, on the exact curves not beyond the bound."""
    request, draws, _ = problem
    richer = replace(request, budget_gbp=request.budget_gbp * factor)
    before, after = plan_for_draws(request, draws, "expected"), plan_for_draws(richer, draws, "expected")
    assert after.mean_days >= before.mean_days - after.gap_bound_days - tolerance(before.mean_days)
    if richer.curve_span_gbp == request.curve_span_gbp:
        assert after.chord_objective_days >= before.chord_objective_days - tolerance(before.chord_objective_days)


@settings(max_examples=40)
@given(problems())
def test_a_tail_of_every_draw_makes_cvar_the_expected_plan(problem):
    """With tail share 1 the worst-share mean is the mean, so the CVaR plan's objective is the expected plan's."""
    request, draws, _ = problem
    expected, cvar = plan_for_draws(request, draws, "expected", 1.0), plan_for_draws(request, draws, "cvar", 1.0)
    assert cvar.chord_objective_days == pytest.approx(expected.chord_objective_days, rel=1e-6, abs=1e-6)
    assert cvar.worst_share_mean_days == pytest.approx(cvar.mean_days)


def test_cvar_plan_avoids_a_gamble_the_expected_plan_takes():
    """One area's harm is certain, the other's larger on average but absent in the worst of ten draws: with one bid
    allowed, the expected plan funds the gamble and the CVaR plan (the worst draw alone) the certain area."""
    request = make_request([[100.0], [150.0]], [50.0], [0.5], budget=100.0, cap=100.0, max_bids=1, segments=16)
    harm = np.tile([[[100.0], [150.0]]], (10, 1, 1))
    harm[0, 1, 0] = 0.0
    draws = CurveDraws(harm, np.full((10, 2, 1), 50.0), np.full((10, 1), 0.5), request.curves.codes, request.curves.interventions)
    expected, cvar = plan_for_draws(request, draws, "expected"), plan_for_draws(request, draws, "cvar")
    assert expected.amounts.values[:, 0] == pytest.approx([0.0, 100.0])
    assert cvar.amounts.values[:, 0] == pytest.approx([100.0, 0.0])


def test_evaluate_plan_summarises_the_draws():
    """Mean, worst-share mean and percentiles of the exact harm averted per draw."""
    request = make_request([[100.0, 50.0]], [20.0], [0.2, 0.4], budget=60.0)
    draws = noisy_draws(request, 40, 5)
    amounts = np.array([[30.0, 30.0]])
    outcome = evaluate_plan(amounts, draws, 0.1)
    values = draws.averted(amounts)
    assert outcome.averted_days == pytest.approx(values)
    assert outcome.mean_days == pytest.approx(values.mean())
    assert outcome.worst_share_mean_days == pytest.approx(np.sort(values)[:4].mean())
    assert (outcome.percentile_5_days, outcome.median_days, outcome.percentile_95_days) == pytest.approx(np.percentile(values, [5, 50, 95]))


def test_nothing_fundable_gives_an_empty_plan():
    """With no eligible area both plans allocate nothing and avert nothing, with a zero bound."""
    request = make_request([[100.0]], [20.0], [0.2], eligible=[False])
    plan = plan_for_draws(request, noisy_draws(request, 5, 1), "cvar")
    assert plan.amounts.values.sum() == 0.0 and plan.mean_days == 0.0 and plan.gap_bound_days == 0.0


def test_unknown_objective_is_refused():
    """Only `expected` and `cvar` are robust objectives."""
    request = make_request([[100.0]], [20.0], [0.2])
    with pytest.raises(ConfigError) as caught:
        plan_for_draws(request, CurveDraws.of(request.curves), "median")
    assert caught.value.key == "allocation.objective"


def small_area_request(areas: int = 240, seed: int = 3) -> AllocationRequest:
    """An LSOA-like round: hundreds of areas with cost scales of £2k-20k, a third eligible, bids of 20 areas capped at
    £150,000 (the span), £400,000 to spend."""
    rng = np.random.default_rng(seed)
    codes, items = tuple(f"E01{i:06d}" for i in range(areas)), ("lighting", "gating")
    curves = Curves(
        Labelled(rng.gamma(1.2, 400.0, size=(areas, 2)), ("area", "intervention"), (codes, items), "targeted harm", "days"),
        Labelled(rng.uniform(2_000.0, 20_000.0, size=(areas, 2)), ("area", "intervention"), (codes, items), "cost scale", "£"),
        np.array([0.2, 0.3]),
    )
    return AllocationRequest(curves, rng.random(areas) < 0.35, 400_000.0, 150_000.0, bid_of_area=np.arange(areas) // 20)


def test_on_small_areas_the_expected_plan_is_not_behind_the_point_plan():
    """Breakpoints follow each cell's cost scale: with scales of a few £k against a £150,000 span the bound stays under
    2 %, and the expected plan's exact mean over the draws is at least the point plan's less that bound."""
    request = small_area_request()
    draws = noisy_draws(request, 40, 11)
    plan = plan_for_draws(request, draws, "expected")
    point = evaluate_plan(allocate(request).amounts.values, draws)
    assert plan.gap_bound_days < 0.02 * plan.mean_days
    assert plan.mean_days >= point.mean_days - plan.gap_bound_days
    assert plan.status == "optimal"


def test_fitted_draws_are_every_draw_below_the_limit():
    """Below `MOST_ROBUST_NONZEROS` both plans are fitted on every draw and say so."""
    request = small_area_request(60)
    draws = noisy_draws(request, 30, 4)
    assert draws.count * int(request.usable().sum()) * request.segments <= MOST_ROBUST_NONZEROS
    for objective in ("expected", "cvar"):
        plan = plan_for_draws(request, draws, objective)
        assert plan.fitted_draws == plan.draws == draws.count
        assert plan.fitted_objective_days == pytest.approx(plan.objective_days)
        assert plan.fitted_words == "fitted and scored on all 30 draws"


def test_above_the_limit_the_cvar_plan_is_fitted_on_the_first_draws(monkeypatch):
    """Beyond `MOST_ROBUST_NONZEROS` the CVaR plan is fitted on the first draws that fit (at least 50) and scored on all;
    the expected plan's problem does not grow with the draws, so it keeps every draw."""
    monkeypatch.setattr("simulator.robust.MOST_ROBUST_NONZEROS", 1)
    request = small_area_request(60)
    draws = noisy_draws(request, 70, 4)
    cvar, expected = plan_for_draws(request, draws, "cvar"), plan_for_draws(request, draws, "expected")
    assert (cvar.fitted_draws, cvar.draws, expected.fitted_draws) == (50, 70, 70)
    assert cvar.fitted_objective_days == pytest.approx(worst_share_mean(cvar.averted_days[:50], 0.1))
    assert cvar.fitted_words == "fitted on the first 50 of 70 draws and scored on all 70"


@settings(max_examples=30)
@given(problems())
def test_cvar_over_each_allowed_bid_set_equals_the_mip(problem):
    """With few allowed sets of bids the CVaR plan solves one LP per set; its worst-share mean equals the MIP's."""
    import simulator.robust as robust

    request, draws, share = problem
    assume(request.needs_binaries)
    enumerated = plan_for_draws(request, draws, "cvar", share)
    saved = robust.ENUMERATED_BID_SETS
    robust.ENUMERATED_BID_SETS = 0
    try:
        mip = plan_for_draws(request, draws, "cvar", share)
    finally:
        robust.ENUMERATED_BID_SETS = saved
    one, other = chord_values(request, draws, enumerated.amounts.values), chord_values(request, draws, mip.amounts.values)
    assert worst_share_mean(one, share) == pytest.approx(worst_share_mean(other, share), rel=1e-5, abs=1e-6)


def test_plans_on_shared_chords_are_the_plans_solved_alone():
    """The expected and CVaR plans solved on one set of common chords equal each solved on its own."""
    request = make_request(
        harm=[[900.0, 300.0], [500.0, 800.0], [200.0, 100.0]],
        scale=[[50.0, 80.0], [60.0, 40.0], [30.0, 30.0]],
        reductions=[0.3, 0.2],
        budget=150.0,
        cap=90.0,
    )
    draws = noisy_draws(request, 40, 3)
    together = plans_for_draws(request, draws, ("expected", "cvar"), 0.2)
    for plan, objective in zip(together, ("expected", "cvar")):
        alone = plan_for_draws(request, draws, objective, 0.2)
        assert np.array_equal(plan.amounts.values, alone.amounts.values) and plan.gap_bound_days == alone.gap_bound_days


class ScipyRows:
    """The reference for `robust._Rows`: each block a scipy.sparse CSR matrix, stacked, as the plans were built
    before they were handed to HiGHS as arrays."""

    def __init__(self, columns: int):
        self.columns = columns
        self.blocks, self.lows, self.highs = [], [], []

    def add(self, rows, columns, values, lower, upper):
        from scipy import sparse

        count = int(np.max(rows, initial=-1)) + 1
        self.blocks.append(sparse.csr_matrix((values, (rows, columns)), shape=(count, self.columns)))
        self.lows.append(np.full(count, lower))
        self.highs.append(np.full(count, upper))

    def matrix(self):
        from scipy import sparse

        return sparse.vstack(self.blocks, format="csr")

    def lower(self):
        return np.concatenate(self.lows)

    def upper(self):
        return np.concatenate(self.highs)


def scipy_milp(cost, matrix, row_lower, row_upper, upper, integrality, lower, gap, seconds):
    """The reference for `formulation.solve_arrays` in the robust plans: scipy.optimize.milp on the same problem, with
    the options the plans used to pass it, its result read as the plans used to read it."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from simulator.formulation import ArraySolution

    options = {"mip_rel_gap": gap, "time_limit": seconds} if seconds is not None else {}
    result = milp(
        cost,
        constraints=LinearConstraint(matrix, row_lower, row_upper),
        integrality=np.asarray(integrality, dtype=int),
        bounds=Bounds(lower, upper),
        options=options,
    )
    status = {0: "optimal", 1: "time limit"}.get(result.status, result.message)
    bound = getattr(result, "mip_dual_bound", None)
    bound = result.fun if bound is None or not np.isfinite(bound) else bound
    return ArraySolution(status, result.x, None, result.fun, bound)


def plans_through_scipy(monkeypatch, request, draws, share):
    """Both robust plans with their rows built by scipy.sparse and solved by scipy.optimize.milp."""
    import simulator.robust as robust

    with monkeypatch.context() as patched:
        patched.setattr(robust, "_Rows", ScipyRows)
        patched.setattr(robust, "solve_arrays", scipy_milp)
        return robust.plans_for_draws(request, draws, ("expected", "cvar"), share)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(problems())
def test_plans_through_highspy_agree_with_scipys_milp(monkeypatch, problem):
    """Handed to HiGHS as arrays, the expected and CVaR plans reach the objective scipy.optimize.milp reaches on the same
    problem (1e-6 relative), and prove the same best chord objective: the matrix, bounds, integrality and options
    are the ones scipy passed on, and the result is read the same way (a plan may differ where optima tie)."""
    request, draws, share = problem
    ours = plans_for_draws(request, draws, ("expected", "cvar"), share)
    reference = plans_through_scipy(monkeypatch, request, draws, share)
    for plan, expected in zip(ours, reference):
        assert plan.status == expected.status == "optimal"
        assert plan.chord_objective_days == pytest.approx(expected.chord_objective_days, rel=1e-6, abs=1e-9)
        assert plan.gap_bound_days == pytest.approx(expected.gap_bound_days, rel=1e-6, abs=1e-6 * max(1.0, plan.chord_objective_days))


@pytest.mark.parametrize(("bid_limit", "draw_count"), [(0, 1000), (3, 40)])
def test_kent_sized_plans_through_highspy_agree_with_scipys_milp(monkeypatch, bid_limit, draw_count):
    """On Kent-sized problems (13 districts × 6 interventions × 48 segments): linear programs over 1,000 draws, and
    with a bid limit a MIP with flags over 40, both plans reach scipy.optimize.milp's objectives to 1e-6 relative."""
    rng = np.random.default_rng(11)
    harm = rng.gamma(1.2, 3000.0, size=(13, 6))
    scale = rng.uniform(20_000.0, 200_000.0, size=(13, 6))
    reductions = list(rng.uniform(0.1, 0.4, size=6))
    request = make_request(harm, scale, reductions, budget=1_500_000.0, cap=550_000.0, max_bids=bid_limit, segments=48)
    draws = noisy_draws(request, draw_count, 5)
    ours = plans_for_draws(request, draws, ("expected", "cvar"), 0.1)
    reference = plans_through_scipy(monkeypatch, request, draws, 0.1)
    for plan, expected in zip(ours, reference):
        assert plan.status == expected.status == "optimal"
        assert plan.chord_objective_days == pytest.approx(expected.chord_objective_days, rel=1e-6)
        assert plan.gap_bound_days == pytest.approx(expected.gap_bound_days, rel=1e-6, abs=1e-6 * plan.chord_objective_days)


def test_a_run_loads_neither_scipys_optimizer_nor_its_sparse_matrices_nor_pulp():
    """The Kent baseline's run (robust plans included) hands HiGHS arrays and checks its solver without PuLP, so a cold
    start pays for none of scipy.optimize (about 0.3 s), scipy.sparse or PuLP."""
    import subprocess
    import sys

    from conftest import BASELINE, REPO

    code = f"from simulator import load_scenario, run\nrun(load_scenario({str(BASELINE)!r}))\nimport sys\nprint(' '.join(sys.modules))"
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout.split())
    assert "simulator.robust" in loaded
    for package in ("scipy.optimize", "scipy.sparse", "pulp"):
        assert not {name for name in loaded if name == package or name.startswith(package + ".")}, package
