"""Benchmark: the Monte Carlo through the whole pipeline.

    .venv/bin/python benchmarks/bench_montecarlo.py

Prints, for the Kent baseline with 1,000 draws (the `safer-streets run --draws 1000` case), the
seconds of the whole run and of its Monte Carlo stage (median of 3 runs), and the same for the
Kent LSOA scenario with 200 draws. Figures, not assertions: speed is never a unit test.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator import load_scenario, run  # noqa: E402


def timed(scenario: str, draws: int, repeats: int = 3) -> None:
    loaded = load_scenario(REPO / "scenarios" / scenario, (f"demand.draws={draws}",))
    totals, carlo = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        result = run(loaded)
        totals.append(time.perf_counter() - started)
        carlo.append(result.timings["monte_carlo"])
    marginal = int(result.monte_carlo.verdicts.marginal.sum())
    print(
        f"{scenario} with {draws:,} draws ({len(result.demand.areas.codes):,} areas), median of {repeats}: "
        f"run {statistics.median(totals):.2f} s, of which Monte Carlo {statistics.median(carlo):.2f} s; "
        f"{marginal} marginal verdict(s); interval {result.monte_carlo.interval[0]:,.0f} to {result.monte_carlo.interval[1]:,.0f} days"
    )


if __name__ == "__main__":
    timed("kent-baseline.toml", 1000)
    timed("kent-lsoa-2024.toml", 200, repeats=1)
