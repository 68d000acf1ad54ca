"""One run, stage by stage: inputs → harm → demand → eligibility → baselines → allocation → result.

This is the only module that knows the order of the stages; apart from what `inputs` reads it
does no I/O. The baselines come first and never depend on the allocation: their funded bids are
handed to the allocator as incumbents, a guard against its chord approximation.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from importlib import metadata

import numpy as np

from .allocation import AllocationRequest, allocate
from .baselines import evaluate_baselines
from .demand import Demand, build_demand, draw_harm
from .eligibility import Eligibility, assess
from .inputs import load_areas
from .interventions import build_curves
from .result import RunResult
from .scenario import LoadedScenario

Progress = Callable[[str], None]


def assess_eligibility(loaded: LoadedScenario) -> tuple[Demand, Eligibility]:
    """Inputs, demand and the round's verdicts, without allocating."""
    scenario = loaded.scenario
    areas = load_areas(scenario.data)
    loaded.check_inputs((source.role, source.path, source.sha256) for source in areas.sources)
    demand = build_demand(areas, scenario.harm, scenario.demand, scenario.shocks)
    return demand, assess(demand, scenario.fund_round, scenario.round)


def run(loaded: LoadedScenario, progress: Progress | None = None) -> RunResult:
    """Run the whole model for one resolved scenario."""
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
    curves = build_curves(demand, interventions)
    fund_round = scenario.round
    request = AllocationRequest(
        curves=curves,
        eligible=np.asarray(eligibility.eligible.values, dtype=bool),
        budget_gbp=scenario.budget_gbp,
        max_grant_gbp=fund_round.max_grant_gbp,
        max_areas=fund_round.bids_per_commissioner,
        minimum_grant_gbp=scenario.allocation.minimum_grant_gbp,
        match_funding_rate=fund_round.match_funding_rate,
        match_funding_available_gbp=scenario.allocation.match_funding_available_gbp,
        segments=scenario.allocation.segments,
        area_names=demand.areas.names,
        **bid_clusters(demand.areas, scenario.allocation.bid_unit),
    )
    basket_harm = demand.harm.take("crime_type", fund_round.crime_basket).values.sum(axis=1)
    baselines = evaluate_baselines(request, demand.areas.population.values, basket_harm)
    lap("baselines")
    allocation = allocate(request, scenario.allocation.solver, incumbents=[baseline.amounts.values for baseline in baselines])
    lap("allocation")
    report("scoring uncertainty")
    interval = averted_interval(demand, curves, allocation.amounts.values, interventions, scenario.seed)
    lap("uncertainty")
    return RunResult(loaded, demand, eligibility, curves, request, allocation, baselines, interval, timings, versions())


def bid_clusters(areas, bid_unit: str) -> dict:
    """The bid each area belongs to when bids are clusters of areas in one parent (district)."""
    if bid_unit == "area":
        return {}
    parents = sorted(set(areas.parents))
    index = {parent: b for b, parent in enumerate(parents)}
    names = {parent: areas.parent_name(a) for a, parent in enumerate(areas.parents)}
    return {"bid_of_area": np.array([index[parent] for parent in areas.parents]), "bid_names": tuple(names[parent] for parent in parents)}


def averted_interval(demand: Demand, curves, amounts: np.ndarray, interventions: dict, seed: int) -> tuple[float, float]:
    """Interval of harm averted by a fixed allocation when demand is drawn from its forecast."""
    draws = draw_harm(demand, demand.draws, seed)
    crime_index = {crime: i for i, crime in enumerate(demand.harm.labels("crime_type"))}
    targeted = np.stack([draws[:, :, [crime_index[c] for c in item.crime_types]].sum(axis=2) for item in interventions.values()], axis=2)
    totals = curves.averted(amounts[None, :, :], targeted).sum(axis=(1, 2))
    tail = (1.0 - demand.interval) / 2.0
    low, high = np.quantile(totals, [tail, 1.0 - tail])
    return float(low), float(high)


def versions() -> dict:
    """Versions of Python and of the libraries that shape the numbers."""
    found = {"python": platform.python_version()}
    for package in ("safer-streets-simulator", "numpy", "scipy", "pulp", "highspy", "cbcbox", "matplotlib", "click"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found
