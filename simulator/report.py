"""The only writer: builds a run or comparison folder beside its target and renames it into place when complete.

    <run>/manifest.json demand.csv eligibility.csv allocation.csv baselines.csv summary.json
          report.html report.md charts/*.png
    <comparison>/comparison.csv totals.csv summary.json report.html report.md charts/*.png runs/<scenario>/

On any error the half-built folder is removed and an existing folder is left as it was.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import ConfigError
from .policeuk import OUTPUT_COLUMNS, StreetCounts

if TYPE_CHECKING:  # the model's modules load scipy; writing an import needs none of them
    from .experiments import Comparison
    from .result import RunResult

CHART_DPI = 150


def write_run(result: RunResult, out: str | Path, charts: bool = True) -> Path:
    """Write the run folder at `out`, replacing any folder there only once everything is written."""
    target = Path(out)
    with _staged(target) as staging:
        _write_run_files(result, staging, target.as_posix(), charts)
    return target


def write_comparison(comparison: Comparison, out: str | Path, charts: bool = True) -> Path:
    """Write the comparison folder at `out`, each scenario's own run folder inside it under runs/."""
    target = Path(out)
    with _staged(target) as staging:
        folders = {label: f"runs/{label}" for label in comparison.labels}
        (staging / "runs").mkdir()
        for label, result in zip(comparison.labels, comparison.results):
            run_folder = staging / "runs" / label
            run_folder.mkdir()
            _write_run_files(result, run_folder, f"{target.as_posix()}/runs/{label}", charts)
        write_table(staging / "comparison.csv", comparison.rows())
        write_table(staging / "totals.csv", comparison.totals_rows())
        write_json(staging / "summary.json", comparison.summary())
        from .document import comparison_document

        _write_charts_and_reports(comparison, "comparison_charts", comparison_document(comparison, folders), staging, charts)
    return target


def _write_run_files(result: RunResult, folder: Path, folder_name: str, charts: bool) -> None:
    """The run's files into `folder`; `folder_name` is where they will end up, for the report's rerun command."""
    write_table(folder / "demand.csv", result.demand_rows())
    write_table(folder / "eligibility.csv", result.eligibility_rows())
    write_table(folder / "allocation.csv", result.allocation_rows())
    write_table(folder / "baselines.csv", result.baseline_rows())
    write_json(folder / "summary.json", result.summary())
    from .document import run_document

    _write_charts_and_reports(result, "run_charts", run_document(result, folder_name), folder, charts)
    write_json(folder / "manifest.json", result.manifest())


def _write_charts_and_reports(subject, chooser: str, document, folder: Path, charts: bool) -> None:
    """charts/*.png (the set `charts.<chooser>` picks for the subject), then report.html with them inline and report.md."""
    from .rendering import to_html, to_markdown

    images = {}
    if charts:
        from . import charts as chart_module

        images = write_charts(subject, getattr(chart_module, chooser)(subject), folder / "charts")
    (folder / "report.html").write_text(to_html(document, images), encoding="utf-8")
    (folder / "report.md").write_text(to_markdown(document, {name: f"charts/{name}.png" for name in images}), encoding="utf-8")


class _staged:
    """A temporary sibling folder that becomes `target` on success and vanishes on failure."""

    def __init__(self, target: Path):
        self.target = target

    def __enter__(self) -> Path:
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError("cannot create the output folder", file=str(parent), hint=str(error)) from None
        if self.target.exists() and not self.target.is_dir():
            raise ConfigError("the output path is a file, not a folder", file=str(self.target), hint="choose another --out")
        self.staging = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=parent))
        os.chmod(self.staging, 0o777 & ~_umask())  # mkdtemp makes it private; the finished folder should not be
        return self.staging

    def __exit__(self, kind, error, trace) -> bool:
        if kind is None:
            _replace(self.staging, self.target)
        else:
            shutil.rmtree(self.staging, ignore_errors=True)
        return False


def write_import(counts: StreetCounts, out: str | Path) -> tuple[Path, Path]:
    """Write the imported counts CSV and its report (`<name>.import.json`) beside it, each complete or not at all."""
    target = Path(out)
    report_path = target.with_name(target.stem + ".import.json")
    if target.is_dir():
        raise ConfigError("the output path is a folder, not a file", file=str(target), hint="name a .csv file, e.g. --out kent-2024.csv")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError("cannot create the output folder", file=str(target.parent), hint=str(error)) from None
    staged = []
    try:
        for path, write in ((target, lambda p: _write_rows(p, OUTPUT_COLUMNS, counts.iter_rows())), (report_path, lambda p: write_json(p, counts.report.as_dict()))):
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            os.close(handle)
            staged.append((Path(temporary), path))
            write(Path(temporary))
            os.chmod(temporary, 0o666 & ~_umask())
        for temporary, path in staged:
            os.replace(temporary, path)
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    return target, report_path


def write_table(path: Path, rows: list[dict]) -> None:
    """A CSV with a header from the first row's keys; empty cells for missing values."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _write_rows(path: Path, columns: tuple[str, ...], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def write_json(path: Path, data: dict) -> None:
    """Indented UTF-8 JSON with a final newline."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_charts(subject, charts: dict[str, Callable], folder: Path) -> dict[str, bytes]:
    """Every chart as a PNG, without timestamps or software tags so files are repeatable; returns the bytes."""
    folder.mkdir()
    images = {}
    for name, draw in charts.items():
        buffer = io.BytesIO()
        draw(subject).savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None})
        images[name] = buffer.getvalue()
        (folder / f"{name}.png").write_bytes(images[name])
    return images


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace(staging: Path, target: Path) -> None:
    if target.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        aside.rmdir()
        target.rename(aside)
        staging.rename(target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        staging.rename(target)
