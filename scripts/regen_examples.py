"""Regenerate the example outputs in reports/examples/ that the README shows.

Run from anywhere after a change to the model, the charts or the report, then review the diff:

    python scripts/regen_examples.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = Path("reports") / "examples"
WHAT_IF = "kent-maidstone-violence-surge"


def main() -> int:
    os.chdir(REPO)  # relative paths keep machine-specific folders out of the committed manifests
    sys.path.insert(0, str(REPO))
    from simulator import (
        backtest,
        compare,
        forecast_check,
        load_scenario,
        run,
        write_backtest,
        write_comparison,
        write_run,
        write_sweep,
    )
    from simulator.report import write_forecast_check
    from simulator.sweep import parse_variation, sweep  # the module, not the name `simulator.sweep` the package exports

    baseline = load_scenario(Path("scenarios") / "kent-baseline.toml")
    what_if = load_scenario(Path("scenarios") / f"{WHAT_IF}.toml")
    written = [
        write_run(run(baseline), EXAMPLES / "kent-baseline"),
        write_comparison(compare([baseline, what_if]), EXAMPLES / f"compare-kent-baseline-vs-{WHAT_IF}"),
    ]
    areas, check = forecast_check(baseline)
    caption = f"{areas.force_name}, police.uk street-level records, monthly history · {check.draws:,} predictive draws per year"
    written.append(write_forecast_check(check, caption, EXAMPLES / "forecast-check-kent-baseline"))
    written.append(write_backtest(backtest(baseline), EXAMPLES / "backtest-kent-baseline", [], "safer-streets backtest"))
    budgets = parse_variation("budget_gbp=500000:3000000:6")
    caps = parse_variation("rounds.safer-streets-4.max_grant_gbp=300000,750000")
    command = "safer-streets sweep --vary budget_gbp=500000:3000000:6 --vary 'rounds.safer-streets-4.max_grant_gbp=300000,750000'"
    swept = sweep(Path("scenarios") / "kent-baseline.toml", [budgets, caps])
    written.append(write_sweep(swept, EXAMPLES / "sweep-kent-baseline-budget-grant-cap", command))
    for folder in written:
        print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
