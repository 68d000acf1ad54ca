"""Benchmark: writing a run's tables, the national round 4 run by default.

    .venv/bin/python benchmarks/bench_writing.py [--scenario scenarios/kent-baseline.toml] [--repeats 5]

Runs the scenario once, then prints the median seconds of the repeats for building and writing each CSV of
the run folder (column by column, as the run folder holds them) with its rows and cells, for summary.json,
and for the whole run folder without charts. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator import load_scenario, run, write_run  # noqa: E402
from simulator.report import write_json, write_table  # noqa: E402

TABLES = {
    "demand": "demand.csv",
    "eligibility": "eligibility.csv",
    "allocation": "allocation.csv",
    "baseline": "baselines.csv",
    "uncertainty": "uncertainty.csv",
}
"""The run's tables built column by column: `<name>_table` of a run, and the file it is written to."""


def timed(action, repeats: int) -> float:
    laps = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        laps.append(time.perf_counter() - started)
    return statistics.median(laps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(REPO / "scenarios" / "england-wales-round4.toml"))
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    started = time.perf_counter()
    result = run(load_scenario(options.scenario))
    print(f"{Path(options.scenario).name}: run in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        total = 0.0
        for name, file in TABLES.items():
            table = getattr(result, f"{name}_table")()
            seconds = timed(lambda name=name, file=file: write_table(folder / file, getattr(result, f"{name}_table")()), options.repeats)
            total += seconds
            print(f"  {file:<16}{len(table):>9,} rows {len(table) * len(table.columns):>11,} cells {seconds:8.3f} s")
        seconds = timed(lambda: write_json(folder / "summary.json", result.summary().as_dict()), options.repeats)
        print(f"  {'summary.json':<49}{seconds:8.3f} s")
        print(f"  {'the tables and summary.json':<49}{total + seconds:8.3f} s")
        seconds = timed(lambda: write_run(result, folder / "run", charts=False), options.repeats)
        print(f"  {'the run folder without charts, report included':<49}{seconds:8.3f} s")


if __name__ == "__main__":
    main()
