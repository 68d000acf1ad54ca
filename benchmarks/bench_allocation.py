"""Benchmark: the Kent baseline end to end, and the allocator at small-area scale.

    .venv/bin/python benchmarks/bench_allocation.py

Prints seconds per stage for the Kent baseline (median of 5 runs) and solve times for a
synthetic instance the size of Kent's 1,107 LSOAs × 6 interventions with HiGHS, CBC and the
greedy, with and without a three-bid limit, and with rules beyond water-filling (an equity floor and
a least share), each with its certified gap and how it was found; and the array-built chord program
a Monte Carlo solves per draw. Figures, not assertions: speed is never a unit test.
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

from simulator import load_scenario, run  # noqa: E402
from simulator.allocation import allocate, available_solvers  # noqa: E402
from simulator.arrays import Labelled  # noqa: E402
from simulator.constraints import AllocationRequest  # noqa: E402
from simulator.filling import water_fill  # noqa: E402
from simulator.formulation import array_chord_split, goal_value  # noqa: E402
from simulator.interventions import Curves  # noqa: E402


def kent_baseline(repeats: int = 5) -> None:
    loaded = load_scenario(REPO / "scenarios" / "kent-baseline.toml")
    laps: dict[str, list[float]] = {}
    totals = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = run(loaded)
        totals.append(time.perf_counter() - started)
        for stage, seconds in result.timings.items():
            laps.setdefault(stage, []).append(seconds)
    print(f"Kent baseline (13 districts), median of {repeats} runs:")
    for stage, values in laps.items():
        print(f"  {stage:<28} {statistics.median(values) * 1000:8.1f} ms")
    print(f"  {'total':<28} {statistics.median(totals) * 1000:8.1f} ms")


def synthetic(areas: int = 1107, interventions: int = 6, segments: int = 48, seed: int = 1) -> AllocationRequest:
    rng = np.random.default_rng(seed)
    harm = rng.gamma(1.2, 3000.0, size=(areas, interventions))
    scale = rng.uniform(2_000.0, 20_000.0, size=(areas, interventions))
    codes = tuple(f"E01{i:06d}" for i in range(areas))
    items = tuple(f"measure_{j}" for j in range(interventions))
    curves = Curves(
        Labelled(harm, ("area", "intervention"), (codes, items), "targeted harm", "days"),
        Labelled(scale, ("area", "intervention"), (codes, items), "cost scale", "£"),
        rng.uniform(0.05, 0.35, size=interventions),
    )
    eligible = rng.random(areas) < 0.3
    return AllocationRequest(curves, eligible, 1_500_000.0, 150_000.0, segments=segments)


def small_area_scale() -> None:
    request = synthetic()
    cells = int(request.usable().sum())
    print(
        f"Synthetic small-area instance: {len(request.eligible)} areas, {int(request.eligible.sum())} eligible, "
        f"{cells} cells × {request.segments} segments = {cells * request.segments:,} variables"
    )
    funded = request.fundable_bids()
    upper = np.where(funded, request.max_grant_gbp, 0.0)
    seconds = []
    for _ in range(20):
        started = time.perf_counter()
        water_fill(request.curves, request.usable(), request.bids(), np.zeros(request.bid_count), upper, request.spendable_gbp)
        seconds.append(time.perf_counter() - started)
    print(f"  exact polish (water-filling {int(funded.sum())} bids), median of 20: {statistics.median(seconds) * 1000:6.1f} ms")
    for solver in available_solvers():
        _line("budget + caps", request, solver)
    limited = replace(request, max_bids=3)
    for solver in [name for name in available_solvers() if name != "greedy"]:
        _line("3-bid limit over 330 areas (MIP)", limited, solver)
    clusters = replace(limited, bid_of_area=np.arange(len(request.eligible)) % 13, bid_names=tuple(f"district {d}" for d in range(13)))
    for solver in [name for name in available_solvers() if name != "greedy"]:
        _line("3 bids of 13 district clusters", clusters, solver)


def _line(label: str, request: AllocationRequest, solver: str) -> None:
    started = time.perf_counter()
    allocation = allocate(request, solver)
    certificate = allocation.certificate
    print(
        f"  {solver:<7} {label:<34} {time.perf_counter() - started:7.2f} s   harm averted {allocation.averted_days:,.1f} days   "
        f"gap {certificate.gap:.5%} ({certificate.method})"
    )


def rules_beyond_water_filling() -> None:
    request = replace(synthetic(), equity_floor=0.3, share_minimum=np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.2]))
    print("Synthetic small-area instance with an equity floor of 0.3 and a 20 % least share on one intervention:")
    for solver in [name for name in available_solvers() if name != "greedy"]:
        _line("linear program, chords + tangents", request, solver)
    for segments in (16, 48):
        seconds = []
        for _ in range(5):
            started = time.perf_counter()
            amounts = array_chord_split(request, segments)
            seconds.append(time.perf_counter() - started)
        print(
            f"  arrays  chord program, {segments} chords per curve: {statistics.median(seconds) * 1000:7.1f} ms (median of 5)   "
            f"harm averted {goal_value(request, amounts):,.1f} days"
        )


def kent_lsoa(repeats: int = 3) -> None:
    loaded = load_scenario(REPO / "scenarios" / "kent-lsoa-2024.toml")
    totals, allocation = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        result = run(loaded)
        totals.append(time.perf_counter() - started)
        allocation.append(result.timings["allocation"])
    print(
        f"Kent LSOA scenario (1,107 LSOAs, 3 district bids), median of {repeats} runs: "
        f"{statistics.median(totals):.2f} s (allocation {statistics.median(allocation):.2f} s)"
    )


if __name__ == "__main__":
    kent_baseline()
    kent_lsoa()
    small_area_scale()
    rules_beyond_water_filling()
