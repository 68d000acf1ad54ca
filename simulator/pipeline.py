"""One run, stage by stage: inputs → harm → demand → eligibility → baselines → allocation → explanation → Monte Carlo → result.

This is the only module that knows the order of the stages; apart from what `inputs` reads it
does no I/O. The baselines come first and never depend on the allocation: their funded bids are
handed to the allocator as incumbents, a guard against its chord approximation. The Monte Carlo
then draws every uncertain input, re-applies the rules and re-solves the split per draw; where
`allocation.objective` asks for the expected or the CVaR plan, that plan replaces the point one.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from importlib import metadata

from .allocation import allocate, plan_allocation
from .baselines import evaluate_baselines
from .constraints import request_for
from .errors import ConfigError
from .execution import LOCAL, Executor
from .explanation import budget_curve, explain
from .forecast import ForecastCheck, check_forecast
from .inputs import Areas
from .interventions import build_curves
from .montecarlo import simulate
from .result import PointRun, RunResult
from .robust import OBJECTIVES as ROBUST_OBJECTIVES
from .scenario import LoadedScenario
from .schema import CRIME_TYPES
from .verdicts import assess_eligibility, read_areas

Progress = Callable[[str], None]
DrawProgress = Callable[[int], None]


def forecast_check(loaded: LoadedScenario, draws: int = 4000) -> tuple[Areas, ForecastCheck]:
    """The scenario's areas, and its forecast replayed on each past calendar year of the monthly history (`data.history`, or
    the counts' own months)."""
    scenario = loaded.scenario
    areas = read_areas(loaded)
    if areas.history is None:
        raise ConfigError(
            "has no monthly history to check the forecast against",
            key="data.history",
            hint="set data.history to a CSV of monthly counts (e.g. embedded:kent_crime_by_type_monthly.csv), "
            "or use counts with a month column",
        )
    return areas, check_forecast(areas.history, scenario.demand.interval, draws, scenario.seed)


def run(
    loaded: LoadedScenario,
    progress: Progress | None = None,
    draw_progress: DrawProgress | None = None,
    executor: Executor = LOCAL,
    point_ready: Callable[[PointRun], None] | None = None,
) -> RunResult:
    """Run the whole model for one resolved scenario; `progress` hears each stage's name, `draw_progress` the count of draws
    in each finished chunk. `executor` says where the Monte Carlo's chunks of draws run (the figures are the same wherever
    they run). `point_ready` is handed the run at its point estimates before the Monte Carlo starts, where the Monte Carlo
    will not choose the plan (any objective but the robust ones, `robust.OBJECTIVES`), so that its charts can be drawn
    while the draws run."""
    report = progress or (lambda stage: None)
    scenario = loaded.scenario
    timings = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    report("reading inputs and building demand")
    demand, eligibility = assess_eligibility(loaded)
    lap("inputs_demand_eligibility")
    report("scoring baselines and allocating")
    interventions = scenario.active_interventions()
    curves = build_curves(demand, interventions, scenario.appraisal)
    request = request_for(scenario, demand, eligibility, curves)
    baselines = evaluate_baselines(request, demand.areas.population.values)
    lap("baselines")
    allocation = allocate(
        request, scenario.allocation.solver, incumbents=[baseline.amounts.values for baseline in baselines if baseline.same_rules]
    )
    lap("allocation")
    report("explaining the binding rules")
    solver = scenario.allocation.solver
    rule_effects = explain(request, allocation, solver)
    curve = budget_curve(request, allocation, solver, scenario.allocation.budget_curve_points) if request.goal != "least_cost" else None
    lap("explanation")
    point = PointRun(loaded, demand, eligibility, curves, request, allocation, baselines, rule_effects, curve)
    chosen_on_draws = scenario.allocation.objective in ROBUST_OBJECTIVES
    check_draws_fit(scenario.demand.draws, len(demand.areas.codes))
    if point_ready is not None and not chosen_on_draws:
        point_ready(point)
    report(f"drawing {scenario.demand.draws:,} worlds")
    monte_carlo = simulate(
        scenario,
        demand,
        eligibility,
        curves,
        request,
        allocation.amounts.values,
        scenario.demand.draws,
        scenario.seed,
        draw_progress,
        executor,
    )
    chosen = None
    if chosen_on_draws:
        plan = monte_carlo.plan
        label = f"{allocation.solver}: {plan.label}, {monte_carlo.draws:,} draws"
        chosen = plan_allocation(request, plan.amounts, label, plan.mean, monte_carlo.seconds)
    lap("monte_carlo")
    return RunResult.of(point, monte_carlo, timings, versions(), allocation=chosen)


MOST_DRAWN_VALUES = 60_000_000
"""Draws × areas × crime types a run may hold in one array: about 480 MB of float64, and a few such arrays are held."""


def check_draws_fit(draws: int, areas: int) -> None:
    """Refuse more Monte Carlo draws than the memory of one run holds for this many areas."""
    values = draws * areas * len(CRIME_TYPES)
    if values > MOST_DRAWN_VALUES:
        most = MOST_DRAWN_VALUES // (areas * len(CRIME_TYPES))
        raise ConfigError(
            "asks for more Monte Carlo draws than a run can hold for this many areas",
            key="demand.draws",
            got=draws,
            expected=f"at most {most:,} draws for {areas:,} areas",
            hint="use fewer draws (--draws), or fewer areas",
        )


def versions() -> dict:
    """Versions of Python and of the libraries that shape the numbers."""
    found = {"python": platform.python_version()}
    for package in ("safer-streets-simulator", "numpy", "pulp", "highspy", "cbcbox", "matplotlib", "click"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found
