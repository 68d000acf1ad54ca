"""Every benchmark the README's speed table comes from, in one run on one machine.

    .venv/bin/python benchmarks/bench_all.py [--quick]

Runs, one after another in fresh processes: the solvers on the same instances at 13, 1,107,
the national LSOAs and 35,672 synthetic areas (bench_solvers.py); 1,000 Kent Monte Carlo draws
(bench_montecarlo.py); a 20-point budget sweep with --jobs 1 and 2 (bench_sweep.py); cold starts
of --help, eligibility and run, and the national run (bench_startup.py); and a national year of
police.uk rows through the importer (bench_import.py --national). Each prints its own figures;
nothing is asserted. `--quick` passes --quick where a benchmark has it and skips the import.
Takes about ten minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller instances, no national import")
    options = parser.parse_args()
    steps = [
        ["bench_solvers.py", *(["--quick"] if options.quick else [])],
        ["bench_montecarlo.py"],
        ["bench_sweep.py"],
        ["bench_startup.py", *(["--repeats", "3"] if options.quick else [])],
    ]
    if not options.quick:
        steps.append(["bench_import.py", "--national"])
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; started {time.strftime('%Y-%m-%d %H:%M')}")
    for script, *arguments in steps:
        path = HERE / script
        print(f"\n## {script} {' '.join(arguments)}".rstrip(), flush=True)
        if not path.exists():
            print(f"(not found: {path})")
            continue
        started = time.perf_counter()
        finished = subprocess.run([sys.executable, str(path), *arguments], check=False)
        print(f"({script}: {time.perf_counter() - started:.0f} s, exit {finished.returncode})", flush=True)


if __name__ == "__main__":
    main()
