"""Benchmark: the expected and CVaR plans over Monte Carlo draws, at Kent scale and at small-area scale.

    .venv/bin/python benchmarks/bench_robust.py

Prints solve times (median of 3 at Kent scale, one run at LSOA scale, including the chords, the
bound and the evaluation), the gap bound, the solver's status and the draws each plan was fitted
on, for a synthetic Kent-sized instance (13 districts × 6 interventions × 48 segments, 1,000
draws) and an LSOA-sized one (1,107 areas in 13 district bids of up to £550,000, 30 % eligible,
cost scales of £2k-20k, 200 and 1,000 draws), each with and without a three-bid limit. Figures,
not assertions: speed is never a unit test.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator.arrays import Labelled  # noqa: E402
from simulator.constraints import AllocationRequest  # noqa: E402
from simulator.interventions import CurveDraws, Curves  # noqa: E402
from simulator.robust import plan_for_draws  # noqa: E402


def synthetic(
    areas: int, eligible_share: float, scale_gbp: tuple[float, float], cap_gbp: float, bids: int = 0, seed: int = 1
) -> AllocationRequest:
    """A random request: gamma-distributed harm, uniform cost scales, 6 interventions, 48 segments, £1.5m; with `bids`,
    areas are clustered into that many bids in runs of neighbours (as LSOAs in districts)."""
    rng = np.random.default_rng(seed)
    interventions = 6
    harm = rng.gamma(1.2, 3000.0 * 1107 / areas, size=(areas, interventions))
    scale = rng.uniform(*scale_gbp, size=(areas, interventions))
    codes = tuple(f"E0{i:07d}" for i in range(areas))
    items = tuple(f"measure_{j}" for j in range(interventions))
    curves = Curves(
        Labelled(harm, ("area", "intervention"), (codes, items), "targeted harm", "days"),
        Labelled(scale, ("area", "intervention"), (codes, items), "cost scale", "£"),
        rng.uniform(0.05, 0.35, size=interventions),
    )
    eligible = rng.random(areas) < eligible_share
    clusters = {"bid_of_area": np.arange(areas) * bids // areas} if bids else {}
    return AllocationRequest(curves, eligible, 1_500_000.0, cap_gbp, segments=48, **clusters)


def draws_for(request: AllocationRequest, count: int, seed: int = 2) -> CurveDraws:
    """Draws around the point curves: harm ±30 % per cell, effects and cost factors ±40 % per intervention."""
    rng = np.random.default_rng(seed)
    curves = request.curves
    shape = curves.targeted_harm.values.shape
    return CurveDraws(
        curves.targeted_harm.values[None] * rng.gamma(11.0, 1 / 11.0, size=(count, *shape)),
        curves.scale.values[None] * rng.lognormal(0.0, 0.35, size=(count, 1, shape[1])),
        curves.max_reduction[None] * rng.uniform(0.6, 1.4, size=(count, shape[1])),
        curves.codes,
        curves.interventions,
    )


def time_plans(label: str, request: AllocationRequest, draws: CurveDraws, repeats: int = 3) -> None:
    cells = int(request.usable().sum())
    print(f"{label}: {cells} usable cells × {request.segments} segments = {cells * request.segments:,} columns, {draws.count:,} draws")
    for objective in ("expected", "cvar"):
        seconds, plan = [], None
        for _ in range(repeats):
            started = time.perf_counter()
            plan = plan_for_draws(request, draws, objective)
            seconds.append(time.perf_counter() - started)
        print(
            f"  {objective:<8} {statistics.median(seconds):7.2f} s   mean {plan.mean_days:,.1f}   worst 10 % {plan.worst_share_mean_days:,.1f}   "
            f"gap bound {plan.gap_bound_days:,.1f} days ({plan.gap_bound_days / max(plan.fitted_objective_days, 1e-9):.2%})   "
            f"{plan.status}   {plan.fitted_words}"
        )


if __name__ == "__main__":
    kent = synthetic(13, 1.0, (300_000.0, 1_500_000.0), 750_000.0)
    kent_draws = draws_for(kent, 1000)
    time_plans("Kent-sized (13 districts, all eligible)", kent, kent_draws)
    time_plans("Kent-sized with a 3-bid limit", replace(kent, max_bids=3), kent_draws)
    lsoa = synthetic(1107, 0.3, (2_000.0, 20_000.0), 550_000.0, bids=13)
    for count in (200, 1000):
        lsoa_draws = draws_for(lsoa, count)
        time_plans("LSOA-sized (1,107 areas in 13 bids, 30 % eligible)", lsoa, lsoa_draws, repeats=1)
        time_plans("LSOA-sized with a 3-bid limit", replace(lsoa, max_bids=3), lsoa_draws, repeats=1)
