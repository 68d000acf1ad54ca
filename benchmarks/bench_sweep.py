"""Benchmark: a 20-point budget sweep of the Kent baseline, end to end through the command, with 1 and 2 processes.

    .venv/bin/python benchmarks/bench_sweep.py

Runs `safer-streets sweep --vary budget_gbp=500000:3000000:20 --no-charts` as a fresh process (so
imports and worker start-up count) with --jobs 1 and --jobs 2, and prints the median seconds of 3
repeats of each, the seconds per point, and the machine's load average. Figures, not assertions.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).with_name("safer-streets")
VARY = "budget_gbp=500000:3000000:20"
POINTS = 20


def sweep_seconds(jobs: int, out: Path) -> float:
    """Seconds for one sweep command, start to finish."""
    started = time.perf_counter()
    subprocess.run(
        [str(COMMAND), "sweep", "--vary", VARY, "--jobs", str(jobs), "--no-charts", "--quiet", "--out", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        for jobs in (1, 2):
            laps = [sweep_seconds(jobs, Path(scratch) / f"jobs-{jobs}") for _ in range(3)]
            median = statistics.median(laps)
            print(f"20-point Kent budget sweep, --jobs {jobs}, no charts: {median:.2f} s end to end ({median / POINTS:.3f} s per point)")
        identical = (Path(scratch) / "jobs-1" / "sweep.csv").read_bytes() == (Path(scratch) / "jobs-2" / "sweep.csv").read_bytes()
        print(f"  sweep.csv identical for --jobs 1 and 2: {identical}")
    print(f"  load average over 1, 5, 15 minutes: {', '.join(f'{value:.2f}' for value in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
