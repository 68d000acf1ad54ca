"""Regenerate the Kent baseline goldens in tests/golden/kent-baseline/.

Run after a deliberate change to the model or its data, then review the diff before committing:

    python scripts/regen_goldens.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "kent-baseline"
FILES = (
    "summary.json",
    "demand.csv",
    "eligibility.csv",
    "allocation.csv",
    "rules.csv",
    "budget_curve.csv",
    "baselines.csv",
    "uncertainty.csv",
    "plans.csv",
    "tornado.csv",
)


def main() -> int:
    sys.path.insert(0, str(REPO))
    from simulator import load_scenario, run, write_run

    result = run(load_scenario(REPO / "scenarios" / "kent-baseline.toml"))
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_run(result, Path(scratch) / "run", charts=False)
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copyfile(folder / name, GOLDEN / name)
    print(f"wrote {len(FILES)} files to {GOLDEN.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
