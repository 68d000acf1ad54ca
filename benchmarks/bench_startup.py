"""Benchmark: what a planner waits for at the terminal, each command started cold in a new process.

    .venv/bin/python benchmarks/bench_startup.py [--repeats 5]

Prints the median wall-clock seconds and the peak resident memory of `safer-streets --help`,
`safer-streets eligibility` (Kent baseline), `safer-streets run` on the Kent baseline with and
without charts, and the national run (scenarios/england-wales-round4.toml, no charts). Each
command runs in its own process, so imports count as the planner feels them: with the package's
bytecode compiled first (as `pip install` does) and PYTHONDONTWRITEBYTECODE unset for the commands,
since a process that recompiles every module each time measures the compiler, not the tool.
Figures, not assertions: speed is never a unit test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).with_name("safer-streets"))
NATIONAL = REPO / "scenarios" / "england-wales-round4.toml"
ENVIRONMENT = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(arguments: list[str], repeats: int, fresh_folder: bool = False) -> tuple[float, float]:
    """Median seconds and largest peak memory (MB) of `safer-streets ARGUMENTS` over `repeats` cold starts."""
    seconds, peaks = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as scratch:
            command = [CLI, *arguments] + (["--out", str(Path(scratch) / "out"), "--quiet"] if fresh_folder else [])
            started = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO, env=ENVIRONMENT)
            _, status, usage = os.wait4(process.pid, 0)
            seconds.append(time.perf_counter() - started)
            process.returncode = os.waitstatus_to_exitcode(status)
            error = process.stderr.read().decode() if process.stderr else ""
            if process.returncode:
                raise SystemExit(f"{' '.join(arguments)} failed ({process.returncode}): {error.strip()[-400:]}")
            peaks.append(usage.ru_maxrss / 1024)
    return statistics.median(seconds), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="cold starts per command (the median is shown)")
    parser.add_argument("--no-national", action="store_true", help="skip the national run")
    options = parser.parse_args()
    if not shutil.which(CLI):
        raise SystemExit(f"{CLI} not found: install the project first (pip install -e .)")
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "simulator")], check=True, env=ENVIRONMENT, stdout=subprocess.DEVNULL
    )
    cases = [
        ("help", ["--help"], False, "0.3 s"),
        ("eligibility (Kent)", ["eligibility"], False, "0.3 s"),
        ("run (Kent, charts)", ["run"], True, "2 s"),
        ("run (Kent, no charts)", ["run", "--no-charts"], True, ""),
    ]
    if NATIONAL.exists() and not options.no_national:
        cases.append(("run (national, no charts)", ["run", str(NATIONAL), "--no-charts"], True, "10 s, 1.5 GB"))
    print(f"Cold starts, median of {options.repeats} (peak memory: the largest of them):")
    print("| command | seconds | peak MB | target |")
    print("|---|---:|---:|---|")
    for label, arguments, folder, target in cases:
        repeats = 1 if "national" in label else options.repeats
        seconds, peak = timed(arguments, repeats, folder)
        shown = " ".join(arguments).replace(str(REPO) + "/", "")
        print(f"| {label}: `safer-streets {shown}` | {seconds:.2f} | {peak:,.0f} | {target} |", flush=True)


if __name__ == "__main__":
    main()
