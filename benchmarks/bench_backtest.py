"""Benchmark: the Kent back-test against Kent's awards (rounds 3 and 4 tested, 1, 2 and 5 skipped).

    .venv/bin/python benchmarks/bench_backtest.py

Prints the median seconds of 3 repeats for: the back-test itself (two full runs on their windows, with
1,000 and 200 Monte Carlo draws a round) and writing its folder with and without charts. Figures, not
assertions.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_report import timed  # noqa: E402

from simulator import backtest, load_scenario, write_backtest  # noqa: E402

BASELINE = REPO / "scenarios" / "kent-baseline.toml"


def main() -> None:
    for draws in (1000, 200):
        loaded = load_scenario(BASELINE, (f"demand.draws={draws}",))
        seconds = timed(lambda loaded=loaded: backtest(loaded))
        print(f"back-test, {draws:>5,} draws a round: {seconds:6.2f} s")
    found = backtest(load_scenario(BASELINE))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for charts in (True, False):
            seconds = timed(lambda charts=charts: write_backtest(found, folder / "backtest", [], "safer-streets backtest", charts=charts))
            print(f"writing the folder, charts {'on ' if charts else 'off'}: {seconds:6.2f} s")


if __name__ == "__main__":
    main()
