"""The only writer: builds a run folder beside its target and renames it into place when complete.

    <out>/manifest.json demand.csv eligibility.csv allocation.csv baselines.csv summary.json charts/*.png

On any error the half-built folder is removed and an existing folder is left as it was.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path

from .errors import ConfigError
from .result import RunResult

CHART_DPI = 150


def write_run(result: RunResult, out: str | Path, charts: bool = True) -> Path:
    """Write the run folder at `out`, replacing any folder there only once everything is written."""
    target = Path(out)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError("cannot create the output folder", file=str(parent), hint=str(error)) from None
    if target.exists() and not target.is_dir():
        raise ConfigError("the output path is a file, not a folder", file=str(target), hint="choose another --out")
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        write_table(staging / "demand.csv", result.demand_rows())
        write_table(staging / "eligibility.csv", result.eligibility_rows())
        write_table(staging / "allocation.csv", result.allocation_rows())
        write_table(staging / "baselines.csv", result.baseline_rows())
        write_json(staging / "summary.json", result.summary())
        if charts:
            write_charts(result, staging / "charts")
        write_json(staging / "manifest.json", result.manifest())
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def write_table(path: Path, rows: list[dict]) -> None:
    """A CSV with a header from the first row's keys; empty cells for missing values."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_json(path: Path, data: dict) -> None:
    """Indented UTF-8 JSON with a final newline."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_charts(result: RunResult, folder: Path) -> None:
    """Every chart as a PNG, without timestamps or software tags so files are repeatable."""
    from . import charts

    folder.mkdir()
    for name, draw in charts.CHARTS.items():
        figure = draw(result)
        figure.savefig(folder / f"{name}.png", dpi=CHART_DPI, metadata={"Software": None})


def _replace(staging: Path, target: Path) -> None:
    if target.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        aside.rmdir()
        target.rename(aside)
        staging.rename(target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        staging.rename(target)
