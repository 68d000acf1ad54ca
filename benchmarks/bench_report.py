"""Benchmark: writing a run folder and a comparison folder, charts and reports included.

    .venv/bin/python benchmarks/bench_report.py

Prints the median seconds of 3 repeats for: the Kent baseline's run folder with and without
charts, and a two-scenario comparison (both runs, their folders and the comparison's own), with
the size of each report.html. Figures, not assertions.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator import compare, load_scenario, run, write_comparison, write_run  # noqa: E402

SCENARIOS = REPO / "scenarios"


def timed(action, repeats: int = 3) -> float:
    laps = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        laps.append(time.perf_counter() - started)
    return statistics.median(laps)


def main() -> None:
    baseline = load_scenario(SCENARIOS / "kent-baseline.toml")
    what_if = load_scenario(SCENARIOS / "kent-maidstone-violence-surge.toml")
    result = run(baseline)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        print(f"Kent run folder, with charts and reports:  {timed(lambda: write_run(result, folder / 'run')):.2f} s")
        print(f"Kent run folder, no charts:                 {timed(lambda: write_run(result, folder / 'plain', charts=False)):.2f} s")
        print(f"  report.html: {(folder / 'run' / 'report.html').stat().st_size / 1e6:.2f} MB")
        seconds = timed(lambda: write_comparison(compare([baseline, what_if]), folder / "comparison"))
        print(f"Two-scenario comparison, runs included:     {seconds:.2f} s")
        print(f"  report.html: {(folder / 'comparison' / 'report.html').stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
