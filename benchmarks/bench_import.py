"""Benchmark: importing a generated year of a large force's police.uk street files.

    .venv/bin/python benchmarks/bench_import.py [ROWS] [--forces N --lsoas N | --national]

Writes monthly *-street.csv files in the real format (ROWS rows in all, 1,000,000 by default, as
12 months of about 83,000 rows, a large force's month; more rows make more months of the same
size; about 4,800 LSOAs, the 14 crime types in police.uk proportions, 64-character crime IDs and
ASB rows without one, "On or near <place>" locations of real lengths, real outcome texts (none for
ASB), 1 % of rows "No Location" with no LSOA), then imports them in a fresh process and prints rows
per second and the peak resident memory of that process. Run it with ROWS = 250000 and 3000000 as well: a streaming
import's peak follows the size of one month's file and the number of output cells, not the rows.
`--national` generates a year of England and Wales as police.uk publishes it (40 forces × 12 files,
4.4 million rows, 34,753 LSOAs). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator.policeuk import HEADER  # noqa: E402

SHARES = {
    "Violence and sexual offences": 0.36,
    "Anti-social behaviour": 0.16,
    "Shoplifting": 0.07,
    "Criminal damage and arson": 0.08,
    "Public order": 0.08,
    "Other theft": 0.06,
    "Vehicle crime": 0.05,
    "Burglary": 0.04,
    "Drugs": 0.02,
    "Other crime": 0.02,
    "Theft from the person": 0.02,
    "Bicycle theft": 0.02,
    "Robbery": 0.01,
    "Possession of weapons": 0.01,
}
PLACES = (
    "High Street",
    "Supermarket",
    "Parking Area",
    "Petrol Station",
    "Sports/Recreation Area",
    "Shopping Area",
    "Nightclub",
    "Police Station",
    "Further/Higher Educational Building",
    "Pedestrian Subway",
    "Conference/Exhibition Centre",
    "Theatre/Concert Hall",
)
OUTCOMES = (
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Under investigation",
    "Status update unavailable",
    "Local resolution",
    "Awaiting court outcome",
    "Formal action is not in the public interest",
    "Offender given a caution",
    "Further investigation is not in the public interest",
)
CHILD = """
import sys, time
sys.path.insert(0, {repo!r})
from simulator.policeuk import import_street_files
started = time.perf_counter()
counts = import_street_files([{folder!r}])
print(time.perf_counter() - started, counts.report.rows_read, counts.report.rows_aggregated, len(counts.keys))
"""


def generate(folder: Path, rows: int, seed: int = 7, forces: int = 1, lsoa_count: int = 4800) -> None:
    """ROWS rows as 12 monthly files per force (more months when one force's files would pass 83,334 rows), each force
    recording in its own share of the LSOAs."""
    random.seed(seed)
    districts = [f"District {chr(65 + d % 26)}{chr(65 + e)}" for d in range(max(20, lsoa_count // 130)) for e in range(3)]
    lsoas = [
        (f"E0{1000000 + i:07d}", f"{districts[i % len(districts)]} {i // len(districts):03d}{'ABCD'[i % 4]}") for i in range(lsoa_count)
    ]
    types, weights = list(SHARES), list(SHARES.values())
    months = max(12, round(rows / forces / 83_334))
    files = months * forces
    per_file = rows // files
    for number in range(files):
        month_number, force = divmod(number, forces)
        stamp = f"{2025 + month_number // 12}-{month_number % 12 + 1:02d}"
        (folder / stamp).mkdir(exist_ok=True)
        slug, force_name = ("bigforce", "Big Force Police") if forces == 1 else (f"force-{force:02d}", f"Force {force:02d} Police")
        own = lsoas[force * lsoa_count // forces : (force + 1) * lsoa_count // forces]
        with open(folder / stamp / f"{stamp}-{slug}-street.csv", "w", encoding="utf-8", newline="") as handle:
            handle.write(",".join(HEADER) + "\n")
            count = per_file + (rows - per_file * files if number == files - 1 else 0)
            for n, crime_type in enumerate(random.choices(types, weights, k=count)):
                code, name = random.choice(own)
                location = f"On or near {PLACES[n % len(PLACES)] if n % 3 else f'{name.split()[1]} Road'}"
                longitude, latitude = f"-0.{n % 1000:06d}", f"51.{n % 997:06d}"
                if n % 100 == 0:
                    code = name = longitude = latitude = ""
                    location = "No Location"
                asb = crime_type == "Anti-social behaviour"
                crime_id = "" if asb else f"{number:03d}{n:061x}"
                outcome = "" if asb else OUTCOMES[n % len(OUTCOMES)]
                handle.write(
                    f"{crime_id},{stamp},{force_name},{force_name},{longitude},{latitude},"
                    f"{location},{code},{name},{crime_type},{outcome},\n"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000, help="rows in all (default 1,000,000)")
    parser.add_argument("--forces", type=int, default=1, help="forces, each with 12 monthly files (default 1)")
    parser.add_argument("--lsoas", type=int, default=4800, help="LSOAs shared out between the forces (default 4,800)")
    parser.add_argument("--national", action="store_true", help="a national year: 4,400,000 rows, 40 forces, 34,753 LSOAs")
    options = parser.parse_args()
    rows, forces, lsoa_count = (4_400_000, 40, 34_753) if options.national else (options.rows, options.forces, options.lsoas)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        generate(folder, rows, forces=forces, lsoa_count=lsoa_count)
        size = sum(path.stat().st_size for path in folder.rglob("*.csv")) / 1e6
        print(
            f"generated {rows:,} rows in {len(list(folder.rglob('*.csv')))} monthly files ({size:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        child = subprocess.run(
            [sys.executable, "-c", CHILD.format(repo=str(REPO), folder=str(folder))],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        seconds, read, aggregated, cells = child.stdout.split()
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"imported {int(read):,} rows ({int(aggregated):,} counted, {int(cells):,} LSOA × month × type cells) "
            f"in {float(seconds):.2f} s: {int(read) / float(seconds):,.0f} rows/s; peak memory {peak_mb:.0f} MB"
        )


if __name__ == "__main__":
    main()
