"""The only writer: builds a run or comparison folder beside its target and renames it into place when complete.

    <run>/manifest.json demand.csv eligibility.csv allocation.csv rules.csv budget_curve.csv baselines.csv
          uncertainty.csv plans.csv tornado.csv summary.json report.html report.md charts/*.png
    <comparison>/comparison.csv totals.csv summary.json report.html report.md charts/*.png runs/<scenario>/
    <forecast check>/forecast_check.csv forecast_summary.csv summary.json charts/forecast_check.png
    <back-test>/rounds.csv backtest.csv summary.json report.html report.md charts/backtest.png runs/<round>/
    <sweep>/sweep.csv allocations.csv baselines.csv summary.json report.html report.md charts/sweep.png

It never deletes or overwrites what it did not write: an existing folder is replaced only when it
is one of its own run or comparison folders (every entry one it writes, and a manifest or summary
that says so), an existing CSV only when it holds the same kind of table. An output folder that
is, or holds, an input of the run is refused. On any error the half-built folder is removed and
an existing folder is left as it was.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import ConfigError
from .policeuk import OUTPUT_COLUMNS, StreetCounts

if TYPE_CHECKING:  # writing an import needs none of the model's modules
    from .backtest import Backtest
    from .drawing import PendingCharts
    from .experiments import Comparison
    from .forecast import ForecastCheck
    from .result import PointRun, RunResult, Table
    from .sweep import Sweep

CHART_DPI = 150
WRITER = "safer-streets-simulator"
"""The `written_by` mark in every manifest.json and comparison summary.json: how a folder is known as the tool's own."""

RUN_FILES = (
    ("demand.csv", "per area × crime type: records, rates, forecast, harm and share of harm"),
    ("eligibility.csv", "per area: the verdict, its odds over the draws, the reason, and each rule's value, threshold and margin"),
    ("allocation.csv", "per area × intervention: £ and harm averted"),
    ("forces.csv", "per police force, where the areas span several: its areas, harm, eligible and funded areas, £ and harm averted"),
    ("rules.csv", "per binding rule: its words, the scenario key that sets it, the solver's price, and the change a step up and down"),
    (
        "budget_curve.csv",
        "the goal's value at budgets from £0 to twice the budget, the slope to the next point, the scenario's budget marked",
    ),
    ("baselines.csv", "the allocation and three simple splits, per area and in total"),
    ("uncertainty.csv", "per area: odds of eligibility and funding, ranges of the best amount and of harm averted over the draws"),
    ("plans.csv", "each plan scored on the same Monte Carlo draws"),
    ("tornado.csv", "each uncertain input at its low and high, the rest at their point values"),
    ("summary.json", "the headline figures"),
    ("report.html", "the report, charts inline"),
    ("report.md", "the report in Markdown, charts linked"),
    ("charts", "the charts as PNG files"),
    ("manifest.json", "everything needed to repeat the run: the resolved scenario, input hashes, versions"),
)
"""The entries of a run folder in the order a reader meets them, each with what it holds (listed in manifest.json)."""
RUN_ENTRIES = frozenset(name for name, _ in RUN_FILES)
FORECAST_CHECK_ENTRIES = frozenset({"forecast_check.csv", "forecast_summary.csv", "summary.json", "charts"})
COMPARISON_ENTRIES = frozenset({"comparison.csv", "totals.csv", "summary.json", "report.html", "report.md", "charts", "runs"})
BACKTEST_ENTRIES = frozenset({"rounds.csv", "backtest.csv", "summary.json", "report.html", "report.md", "charts", "runs"})
SWEEP_ENTRIES = frozenset({"sweep.csv", "allocations.csv", "baselines.csv", "summary.json", "report.html", "report.md", "charts"})
FOLDERS_WITH_RUNS = frozenset({"comparison", "back-test"})
LEGACY_RUN_KEYS = frozenset({"scenario", "inputs", "versions", "timings_seconds"})
LEGACY_COMPARISON_KEYS = frozenset({"reference", "scenarios", "changes"})


@dataclass(frozen=True)
class _FolderKind:
    """A kind of folder the tool writes: the entry that marks it, the entries it may hold, and the file whose
    `written_by` (or, from earlier versions, whose keys) says the tool wrote it."""

    name: str
    marker: str
    entries: frozenset
    marked: str
    legacy_keys: frozenset


LEGACY_IMPORT_KEYS = frozenset({"rows_read", "rows_aggregated", "files"})
FOLDER_KINDS = (
    _FolderKind("run", "manifest.json", RUN_ENTRIES, "manifest.json", LEGACY_RUN_KEYS),
    _FolderKind("forecast check", "forecast_check.csv", FORECAST_CHECK_ENTRIES, "summary.json", frozenset()),
    _FolderKind("comparison", "comparison.csv", COMPARISON_ENTRIES, "summary.json", LEGACY_COMPARISON_KEYS),
    _FolderKind("back-test", "backtest.csv", BACKTEST_ENTRIES, "summary.json", frozenset()),
    _FolderKind("sweep", "sweep.csv", SWEEP_ENTRIES, "summary.json", frozenset()),
)
"""The kinds of folder the tool writes, in the order a folder is recognised."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Cell openings a spreadsheet may run as a formula (OWASP's CSV injection list)."""
PAD = 0xFF
"""The byte that fills a cell's unused width while a table's lines are assembled; UTF-8 never holds it, so it is dropped."""
INT_POWERS = np.array([10**k for k in range(17)], dtype=np.int64)
FLOAT_POWERS = INT_POWERS.astype(float)
"""10**k for k up to 16, as ints and as (exact) floats."""
LINES_AT_ONCE = 8192
"""Lines of a table assembled and written at a time: their bytes stay in the processor's cache while they are packed."""
QUOTED = re.compile('[",\r\n]')
"""Characters that may make the csv module quote a cell: a cell holding none of them is written as it is."""


def write_run(result: RunResult, out: str | Path, charts: bool = True, started: PendingCharts | None = None) -> Path:
    """Write the run folder at `out`, replacing a run folder there only once everything is written; `started` holds the
    charts `start_point_charts` set drawing while the run computed."""
    target = Path(out)
    with _staged(target, run_inputs(result), "run") as staging:
        _write_run_files(result, staging, _display(target), charts, started)
    return target


def start_point_charts(point: PointRun) -> PendingCharts | None:
    """The run's charts of its point estimates (`charts.point_charts`), set drawing on the chart server's spare core while
    the Monte Carlo runs, for `write_run` to collect; None where no chart server runs."""
    from . import charts as chart_module
    from .drawing import start_charts_alongside

    return start_charts_alongside(point, chart_module.point_charts(point), CHART_DPI)


def write_comparison(comparison: Comparison, out: str | Path, charts: bool = True) -> Path:
    """Write the comparison folder at `out`, each scenario's own run folder inside it under runs/."""
    target = Path(out)
    inputs = tuple(path for result in comparison.results for path in run_inputs(result))
    with _staged(target, inputs, "comparison") as staging:
        folders = {label: f"runs/{label}" for label in comparison.labels}
        (staging / "runs").mkdir()
        for label, result in zip(comparison.labels, comparison.results):
            run_folder = staging / "runs" / label
            run_folder.mkdir()
            _write_run_files(result, run_folder, f"{_display(target)}/runs/{label}", charts)
        write_table(staging / "comparison.csv", comparison.rows())
        write_table(staging / "totals.csv", comparison.totals_rows())
        write_json(staging / "summary.json", {"written_by": WRITER, **comparison.summary()})
        from .document import comparison_document

        _write_charts_and_reports(comparison, "comparison_charts", comparison_document(comparison, folders), staging, charts)
    return target


def write_forecast_check(check: ForecastCheck, caption: str, out: str | Path, inputs: Iterable[Path] = (), charts: bool = True) -> Path:
    """Write the forecast check's folder at `out`: every held-out total, the summary per crime type, and its chart."""
    target = Path(out)
    with _staged(target, tuple(inputs), "forecast check") as staging:
        write_table(staging / "forecast_check.csv", check.rows())
        write_table(staging / "forecast_summary.csv", forecast_summary_rows(check))
        write_json(
            staging / "summary.json",
            {
                "written_by": WRITER,
                "nominal_coverage": check.nominal,
                "coverage": round(check.coverage, 4),
                "draws": check.draws,
                "seed": check.seed,
                "years": [
                    {"year": held.year, "months": list(held.months), "history_months": len(held.history_months), "method": held.description}
                    for held in check.years
                ],
                "skipped": [{"year": skipped.year, "reason": skipped.reason} for skipped in check.skipped],
            },
        )
        if charts:
            from .uncertainty_charts import forecast_check_chart

            write_charts(check, {"forecast_check": lambda subject: forecast_check_chart(subject, caption)}, staging / "charts")
    return target


def write_backtest(backtest: Backtest, out: str | Path, inputs: Iterable[Path], command: str, charts: bool = True) -> Path:
    """Write the back-test's folder at `out`: the rounds and districts compared, the report, and each tested round's run
    folder under runs/; `command` repeats it."""
    target = Path(out)
    run_files = tuple(path for result in backtest.rounds for path in run_inputs(result.run))
    with _staged(target, (*tuple(inputs), *run_files), "back-test") as staging:
        (staging / "runs").mkdir()
        for result in backtest.rounds:
            run_folder = staging / "runs" / result.round_id
            run_folder.mkdir()
            _write_run_files(result.run, run_folder, f"{_display(target)}/runs/{result.round_id}", charts)
        from .backtest import DISTRICT_CSV_COLUMNS, ROUND_CSV_COLUMNS

        write_table(staging / "rounds.csv", backtest.round_rows(), ROUND_CSV_COLUMNS)
        write_table(staging / "backtest.csv", backtest.district_rows(), DISTRICT_CSV_COLUMNS)
        write_json(staging / "summary.json", {"written_by": WRITER, **backtest.summary()})
        from .backtest_document import backtest_document

        images = {}
        if charts:
            from .backtest_charts import backtest_charts

            images = write_charts(backtest, backtest_charts(backtest), staging / "charts")
        _write_reports(backtest_document(backtest, _display(target), command), images, staging)
    return target


def write_sweep(sweep: Sweep, out: str | Path, command: str, charts: bool = True) -> Path:
    """Write the sweep's folder at `out`: a row per point, the funded areas and simple splits per point, and the report
    with its slider; a stopped sweep is written with its finished points. `command` repeats it."""
    target = Path(out)
    with _staged(target, tuple(Path(path) for path in sweep.inputs), "sweep") as staging:
        from .sweep_document import ALLOCATION_COLUMNS, BASELINE_COLUMNS, sweep_document

        write_table(staging / "sweep.csv", sweep.rows())
        write_table(staging / "allocations.csv", sweep.allocation_rows(), ALLOCATION_COLUMNS)
        write_table(staging / "baselines.csv", sweep.baseline_rows(), BASELINE_COLUMNS)
        write_json(staging / "summary.json", {"written_by": WRITER, **sweep.summary(), "command": command})
        images = {}
        if charts:
            from .sweep_charts import sweep_charts

            images = write_charts(sweep, sweep_charts(sweep), staging / "charts")
        _write_reports(sweep_document(sweep, _display(target), command), images, staging)
    return target


def forecast_summary_rows(check: ForecastCheck) -> list[dict]:
    """One row per crime type (and all crime types): years checked, mean absolute % error, how many fell inside."""
    return [
        {
            "crime_type": summary.crime_type,
            "years_checked": summary.checked,
            "mean_abs_error_pct": None if summary.mean_abs_error_pct is None else round(summary.mean_abs_error_pct, 1),
            "inside_interval": summary.inside,
            "coverage": round(summary.coverage, 4) if summary.checked else None,
            "nominal_coverage": check.nominal,
        }
        for summary in check.summary
    ]


def run_inputs(result: RunResult) -> tuple[Path, ...]:
    """The files a run read (scenario files and data), which no output may replace."""
    paths = [Path(name) for name in result.loaded.files]
    paths += [
        Path(source.path)
        for source in result.demand.areas.sources
        if not source.path.startswith("embedded:") and not source.path.startswith("(")
    ]
    return tuple(paths)


def _write_run_files(result: RunResult, folder: Path, folder_name: str, charts: bool, started: PendingCharts | None = None) -> None:
    """The run's files into `folder`; `folder_name` is its name as the report's rerun command shows it, and `started` the
    charts already drawing (`start_point_charts`)."""
    from .result import BUDGET_CURVE_COLUMNS, RULE_COLUMNS

    pending = _start_run_charts(result, folder, started) if charts else None
    write_table(folder / "demand.csv", result.demand_table())
    write_table(folder / "eligibility.csv", result.eligibility_table())
    write_table(folder / "allocation.csv", result.allocation_table())
    if result.spans_forces:
        write_table(folder / "forces.csv", result.force_rows())
    write_table(folder / "rules.csv", result.rule_rows(), RULE_COLUMNS)
    write_table(folder / "budget_curve.csv", result.budget_curve_rows(), BUDGET_CURVE_COLUMNS)
    write_table(folder / "baselines.csv", result.baseline_table())
    write_table(folder / "uncertainty.csv", result.uncertainty_table())
    write_table(folder / "plans.csv", result.plan_rows())
    write_table(folder / "tornado.csv", result.tornado_rows())
    write_json(folder / "summary.json", result.summary().as_dict())
    from .document import run_document

    document = run_document(result, folder_name)
    _write_reports(document, pending.images() if pending else {}, folder)
    files = {name: holds for name, holds in RUN_FILES if (folder / name).exists() or name == "manifest.json"}
    write_json(folder / "manifest.json", {"written_by": WRITER, **result.manifest(), "files": files})


def _start_run_charts(result: RunResult, folder: Path, started: PendingCharts | None) -> RunCharts:
    """The run's charts set drawing into folder/charts, but for those `started` is already drawing."""
    from .charts import run_charts

    chosen = run_charts(result)
    if started is not None and started.subject.allocation is not result.allocation:
        started = None  # drawn from another run, or before the Monte Carlo chose another plan: drawn again here
    early = {} if started is None else started.charts
    rest = start_charts(result, {name: draw for name, draw in chosen.items() if name not in early}, folder / "charts")
    return RunCharts(tuple(chosen), started, rest)


@dataclass(frozen=True)
class RunCharts:
    """A run's charts being drawn: those started while it computed (written with the rest once drawn) and the rest."""

    names: tuple[str, ...]
    started: PendingCharts | None
    rest: PendingCharts

    def images(self) -> dict[str, bytes]:
        """Every chart's PNG bytes in the run's order, once all are written to the folder."""
        drawn = self.rest.images()
        if self.started is not None:
            for name, image in self.started.images().items():
                if name in self.names:
                    (self.rest.folder / f"{name}.png").write_bytes(image)
                    drawn[name] = image
        return {name: drawn[name] for name in self.names}


def _write_charts_and_reports(subject, chooser: str, document, folder: Path, charts: bool) -> None:
    """charts/*.png (the set `charts.<chooser>` picks for the subject), then report.html with them inline and report.md."""
    pending = _start_chosen_charts(subject, chooser, folder, charts)
    _write_reports(document, pending.images() if pending else {}, folder)


def _start_chosen_charts(subject, chooser: str, folder: Path, charts: bool):
    """The set of charts `charts.<chooser>` picks for the subject, set drawing into folder/charts (None without charts)."""
    if not charts:
        return None
    from . import charts as chart_module

    return start_charts(subject, getattr(chart_module, chooser)(subject), folder / "charts")


def _write_reports(document, images: dict[str, bytes], folder: Path) -> None:
    """report.html with the charts inline, and report.md linking them under charts/."""
    from .rendering import to_html, to_markdown

    (folder / "report.html").write_text(to_html(document, images), encoding="utf-8")
    (folder / "report.md").write_text(to_markdown(document, {name: f"charts/{name}.png" for name in images}), encoding="utf-8")


# ---------------------------------------------------------------- what may be replaced


def foreign_entries(folder: Path) -> list[str]:
    """What in an existing folder the tool did not write; empty for an empty folder or one of its own.

    A run folder holds only the run's files, `charts/` only PNGs, and a manifest.json marked as
    written by the tool (or, from earlier versions, with a manifest's keys); a comparison folder
    likewise, with a marked summary.json and run folders under `runs/`.
    """
    entries = sorted(item.name for item in folder.iterdir())
    if not entries:
        return []
    kind = _kind_of(entries)
    if kind is None:
        return entries
    found = _foreign_in(folder, entries, kind.entries, kind.marked, kind.legacy_keys, "")
    if kind.name in FOLDERS_WITH_RUNS:
        runs = folder / "runs"
        if not found and runs.is_dir() and not runs.is_symlink():
            for run in sorted(runs.iterdir()):
                inner = foreign_entries(run) if run.is_dir() and not run.is_symlink() else [""]
                found += [f"runs/{run.name}/{name}".rstrip("/") for name in inner]
    return found


def _foreign_in(folder: Path, entries: list[str], allowed: frozenset, marked: str, legacy_keys: frozenset, prefix: str) -> list[str]:
    if not _is_marked(folder / marked, legacy_keys):
        return [f"{prefix}{name}" for name in entries]
    found = [f"{prefix}{name}" for name in entries if name not in allowed]
    for name in entries:
        path = folder / name
        if name not in allowed or name == "runs":
            continue
        if name == "charts":
            if not path.is_dir() or path.is_symlink():
                found.append(f"{prefix}{name}")
                continue
            from .charts import chart_names

            drawn = chart_names() | {"forecast_check", "backtest", "sweep"}
            found += [
                f"{prefix}charts/{item.name}"
                for item in sorted(path.iterdir())
                if item.suffix != ".png" or item.stem not in drawn or not item.is_file() or item.is_symlink()
            ]
        elif not path.is_file() or path.is_symlink():
            found.append(f"{prefix}{name}")
    return found


def _is_marked(path: Path, legacy_keys: frozenset) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and (data.get("written_by") == WRITER or bool(legacy_keys) and legacy_keys <= set(data))


def folder_kind(folder: Path) -> str | None:
    """Which kind of the tool's folders `folder` looks like ("run", "comparison", "forecast check", "back-test", "sweep"), or None."""
    try:
        kind = _kind_of({item.name for item in folder.iterdir()})
    except OSError:
        return None
    return kind.name if kind else None


def _kind_of(entries) -> _FolderKind | None:
    """The kind of folder whose marking entry is among `entries`, first match in FOLDER_KINDS' order."""
    return next((kind for kind in FOLDER_KINDS if kind.marker in entries), None)


def check_output_folder(target: Path, inputs: Iterable[Path] = (), kind: str | None = None) -> None:
    """Refuse an output folder the tool may not replace (see `_check_output_folder`); a path the system cannot use
    (a name too long, say) is refused the same way."""
    try:
        _check_output_folder(target, inputs, kind)
    except OSError as error:
        raise ConfigError("cannot use the output folder", file=str(target), key="--out", hint=error.strerror or str(error)) from None


def _check_output_folder(target: Path, inputs: Iterable[Path] = (), kind: str | None = None) -> None:
    """Refuse an output folder the tool may not replace: the current folder or one holding it, one
    that is or holds an input of the run, a file, a folder holding anything the tool did not write,
    or one of the tool's folders of another `kind` (a forecast check never replaces a run folder)."""
    resolved = target.resolve()
    here = Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise ConfigError(
            "the output folder is the current folder or holds it",
            file=str(target),
            key="--out",
            hint="name a new folder for the run, e.g. --out reports/my-run",
        )
    for path in inputs:
        source = Path(path).resolve()
        if source == resolved or resolved in source.parents:
            raise ConfigError(
                "the output folder holds an input of this run",
                file=str(target),
                key="--out",
                got=source.name,
                hint="name a new folder for the run, e.g. --out reports/my-run",
            )
    if target.is_symlink():
        raise ConfigError(
            "the output path is a link; safer-streets writes only to a folder it can replace",
            file=str(target),
            key="--out",
            hint="name a new folder",
        )
    if target.exists() and not target.is_dir():
        raise ConfigError("the output path is a file, not a folder", file=str(target), key="--out", hint="name a new folder")
    existing = folder_kind(target) if target.is_dir() else None
    if kind is not None and existing is not None and existing != kind:
        raise ConfigError(
            f"the output folder holds a {existing} this tool wrote, not a {kind}, so it will not be replaced",
            file=str(target),
            key="--out",
            hint="name a new folder",
        )
    if target.is_dir():
        found = foreign_entries(target)
        if found:
            shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
            raise ConfigError(
                "the output folder holds files safer-streets did not write, so it will not replace it",
                file=str(target),
                key="--out",
                got=shown,
                hint="name a new folder, or move those files out first",
            )


class _staged:
    """A temporary sibling folder that becomes `target` on success and vanishes on failure."""

    def __init__(self, target: Path, inputs: Iterable[Path] = (), kind: str | None = None):
        self.target = target
        self.inputs = tuple(inputs)
        self.kind = kind

    def __enter__(self) -> Path:
        check_output_folder(self.target, self.inputs, self.kind)
        parent = self.target.parent
        self.created = _missing_ancestors(parent)
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=parent))
            # mkdtemp makes the folder private; the finished one keeps the mode of the folder it replaces, or the usual one
            mode = stat.S_IMODE(self.target.stat().st_mode) if self.target.is_dir() else 0o777 & ~_umask()
            os.chmod(self.staging, mode)
        except OSError as error:
            _remove_empty(self.created)
            raise ConfigError("cannot create the output folder", file=str(parent), key="--out", hint=error.strerror or str(error)) from None
        return self.staging

    def __exit__(self, kind, error, trace) -> bool:
        if kind is None:
            try:
                _replace(self.staging, self.target)
            except OSError as failure:
                shutil.rmtree(self.staging, ignore_errors=True)
                _remove_empty(self.created)
                raise ConfigError(
                    "cannot put the output folder in place", file=str(self.target), key="--out", hint=failure.strerror or str(failure)
                ) from None
            return False
        shutil.rmtree(self.staging, ignore_errors=True)
        _remove_empty(self.created)
        if issubclass(kind, OSError):
            raise ConfigError(
                "cannot write the output folder", file=str(self.target), key="--out", hint=getattr(error, "strerror", None) or str(error)
            ) from None
        return False


def _missing_ancestors(folder: Path) -> list[Path]:
    """The folders on the way to `folder` that do not exist yet, deepest first: made for the output, removed if it fails."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def check_output_file(path: Path, header: Iterable[str], key: str) -> None:
    """Refuse to replace an existing file unless its header starts with `header`: the same kind of table, the tool's own output."""
    try:
        _check_output_file(path, header, key)
    except OSError as error:
        raise ConfigError("cannot use the output file", file=str(path), key=key, hint=error.strerror or str(error)) from None


def _check_output_file(path: Path, header: Iterable[str], key: str) -> None:
    if path.is_dir():
        raise ConfigError("the output path is a folder, not a file", file=str(path), key=key, hint="name a .csv file")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise ConfigError("the output path is not a plain file", file=str(path), key=key, hint="name a new .csv file")
    if path.exists():
        expected = list(header)
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                first = handle.readline().rstrip("\r\n").split(",")
        except (OSError, UnicodeDecodeError):
            first = None
        if first is None or first[: len(expected)] != expected:
            raise ConfigError(
                "the output file exists and holds something else, so it will not be replaced",
                file=str(path),
                key=key,
                hint="name a new file, or move the existing one",
            )


def write_csv_file(path: str | Path, rows: list[dict] | Table, key: str = "--csv", identifying_columns: int = 4) -> Path:
    """A CSV file written whole or not at all, replacing only a file whose header starts with the same columns
    (the first `identifying_columns`: an eligibility table of another round has other rule columns after them)."""
    target = Path(path)
    if isinstance(rows, list):
        names = list(rows[0]) if rows else []
    else:
        names = list(rows.names) if len(rows) else []
    check_output_file(target, names[:identifying_columns], key)
    _atomic(target, key, lambda temporary: write_table(temporary, rows))
    return target


def write_import(counts: StreetCounts, out: str | Path) -> tuple[Path, Path]:
    """Write the imported counts CSV and its report (`<name>.import.json`) beside it, each complete or not at all."""
    target = Path(out)
    report_path = target.with_name(target.stem + ".import.json")
    check_output_file(target, OUTPUT_COLUMNS, "--out")
    if target.exists() and not _is_import_report(report_path):
        raise ConfigError(
            "the output file exists but no import report of this tool is beside it, so it will not be replaced",
            file=str(target),
            key="--out",
            got=report_path.name,
            hint="name a new file, or move the existing one",
        )
    if report_path.exists() and not _is_import_report(report_path):
        raise ConfigError(
            "the import report's file exists and holds something else, so it will not be replaced",
            file=str(report_path),
            key="--out",
            hint="name another --out file, or move the existing one",
        )
    staged = []
    try:
        for path, write in (
            (target, lambda p: _write_rows(p, OUTPUT_COLUMNS, counts.iter_rows())),
            (report_path, lambda p: write_json(p, {"written_by": WRITER, **counts.report.as_dict()})),
        ):
            staged.append((_stage_file(path, "--out", write), path))
        for temporary, path in staged:
            os.replace(temporary, path)
    except OSError as error:
        raise ConfigError("cannot write the import", file=str(target), key="--out", hint=error.strerror or str(error)) from None
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    return target, report_path


def _is_import_report(path: Path) -> bool:
    return _is_marked(path, LEGACY_IMPORT_KEYS)


def _stage_file(path: Path, key: str, write: Callable[[Path], None]) -> Path:
    """Write a file's content beside it under a temporary name, creating missing folders; returns the temporary path.

    On any failure nothing is left: the temporary file and the folders made for it are removed.
    """
    created = _missing_ancestors(path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        _remove_empty(created)
        raise ConfigError(
            "cannot create the output file's folder", file=str(path.parent), key=key, hint=error.strerror or str(error)
        ) from None
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o666 & ~_umask())
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        _remove_empty(created)
        if isinstance(error, OSError):
            raise ConfigError("cannot write the output file", file=str(path), key=key, hint=error.strerror or str(error)) from None
        raise
    return Path(temporary)


def _atomic(path: Path, key: str, write: Callable[[Path], None]) -> None:
    temporary = _stage_file(path, key, write)
    try:
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ConfigError("cannot write the output file", file=str(path), key=key, hint=error.strerror or str(error)) from None


# ---------------------------------------------------------------- formats


def spreadsheet_safe(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP); numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_table(path: Path, rows: list[dict] | Table, columns: Iterable[str] = ()) -> None:
    """A CSV with a header from the first row's keys (or `columns`, so a table with no rows still says what it would
    hold); empty cells for missing values; formula-like text neutralised. A `Table` is written column by column, with
    the same bytes as its rows would be."""
    if not isinstance(rows, (list, tuple)):
        if len(rows.columns) > 1:  # a lone empty cell makes a line the csv module quotes; that one case goes row by row
            _write_columns(path, rows)
            return
        rows, columns = rows.rows(), rows.names
    header = list(rows[0]) if rows else list(columns)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([_cell(row.get(key)) for key in header] for row in rows)


def _cell(value):
    """One CSV cell: empty for a missing value, formula-like text neutralised, anything else as it is."""
    if value is None:
        return ""
    return spreadsheet_safe(value) if type(value) is str else value


def _write_columns(path: Path, table: Table) -> None:
    """The table's CSV built column by column: each column becomes a block of bytes, a row per line, each cell followed
    by its comma (or the line's newline) and padded with PAD; the blocks side by side are the file once the padding is
    dropped."""
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(table.names)
    last = len(table.columns) - 1
    blocks = [
        (_number_block if _is_numeric(values) else _text_block)(values, "\n" if k == last else ",")
        for k, (_, values) in enumerate(table.columns)
    ]
    with open(path, "wb") as handle:
        handle.write(header.getvalue().encode("utf-8"))
        for start in range(0, len(table), LINES_AT_ONCE):
            lines = np.concatenate([block[start : start + LINES_AT_ONCE] for block in blocks], axis=1)
            handle.write(lines.tobytes().translate(None, bytes([PAD])))


def _is_numeric(values) -> bool:
    """True for a column of numbers (int or float array, masked or not); anything else is written as text."""
    return isinstance(values, np.ndarray) and values.dtype.kind in "iuf"


def _text_block(values, end: str) -> np.ndarray:
    """A column of cells as the csv module writes them (text neutralised, quoted where needed), each followed by `end`,
    a row of bytes per cell; text repeated down the column is formatted once."""
    from .result import Coded

    if isinstance(values, Coded):
        return _bytes_block(_csv_cells(values.texts), end)[values.codes]
    values = values.tolist() if isinstance(values, np.ndarray) else list(values)
    distinct = dict.fromkeys(values)
    if len(distinct) > len(values) // 2 or not all(type(value) is str or value is None for value in distinct):
        return _bytes_block(_csv_cells(values), end)  # 1, 1.0 and True are one key, so a column of numbers goes cell by cell
    position = {value: k for k, value in enumerate(distinct)}
    codes = np.fromiter(map(position.__getitem__, values), dtype=np.intp, count=len(values))
    return _bytes_block(_csv_cells(position), end)[codes]


def _csv_cells(values: Iterable) -> list[str]:
    """Each value's cell as the csv module writes it: empty for None, formula-like text neutralised, quoted (its quotes
    doubled) where it holds a comma, a quote or a newline. A carriage return is left to the csv module, whose versions
    differ on it."""
    values = list(values)
    if all(type(value) is str for value in values):  # the usual column of text, neutralised as `spreadsheet_safe` does
        texts = ["'" + value if value.startswith(FORMULA_STARTS) else value for value in values]
    else:
        texts = [cell if type(cell) is str else repr(cell) if isinstance(cell, float) else str(cell) for cell in map(_cell, values)]
    joined = "".join(texts)
    if "\r" in joined:
        return [_quoted_by_csv(text) if QUOTED.search(text) else text for text in texts]
    if QUOTED.search(joined):
        return ['"' + text.replace('"', '""') + '"' if QUOTED.search(text) else text for text in texts]
    return texts


def _quoted_by_csv(text: str) -> str:
    """The cell as the csv module itself writes it."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow((text, ""))
    return buffer.getvalue()[: -len(",\n")]


def _bytes_block(texts: list[str], end: str = "") -> np.ndarray:
    """(texts × the longest one's UTF-8 length) bytes: each text and `end` in UTF-8 from the left, padded with PAD."""
    joined = end.join(texts) + end if texts else ""
    if joined.isascii():
        data = joined.encode("ascii")
        lengths = np.fromiter(map(len, texts), dtype=np.intp, count=len(texts)) + len(end)
    else:
        encoded = [(text + end).encode("utf-8") for text in texts]
        data = b"".join(encoded)
        lengths = np.fromiter(map(len, encoded), dtype=np.intp, count=len(encoded))
    block = np.full((len(texts), int(lengths.max(initial=0))), PAD, dtype=np.uint8)
    block[np.arange(block.shape[1]) < lengths[:, None]] = np.frombuffer(data, dtype=np.uint8)
    return block


def _number_block(values: np.ndarray, end: str) -> np.ndarray:
    """A column of numbers as the csv module writes them (ints plainly, floats as `repr`), each followed by `end`, a row
    of bytes per number; masked numbers are empty cells.

    A float that is the nearest double to k / 10**p, with k < 10**15, has the digits of k / 10**p as its shortest
    round-trip form (trailing zeros dropped, one kept after the point), so it is written from k's digits, four bytes
    at a time: sign, groups of digits before the point, point and digits after it, `end`. repr spells the rest (NaN,
    -0.0, below 1e-4, huge, or more than 9 decimals), each distinct value once."""
    missing = np.ma.getmaskarray(values)
    data = np.ma.getdata(values)
    integers = data.dtype.kind in "iu"
    size = np.abs(data.astype(float))
    with np.errstate(invalid="ignore"):
        large = not integers and bool(np.any(size >= 1e6))
        places = 9 - np.searchsorted(FLOAT_POWERS[6:15], size, side="right") if large else 0 if integers else 9
        scale = FLOAT_POWERS[places]
        whole = np.rint(size * scale)
        exact = ~missing & (whole < 1e15) & (whole / scale == size)
    if not integers:
        exact &= (size >= 1e-4) | ((size == 0) & ~np.signbit(data))
    number = np.where(exact, whole, 0).astype(np.int64)
    units = number // INT_POWERS[places]
    groups = -(-len(str(int(units.max(initial=0)))) // 4)
    quads = _quads()
    negative = exact & (data < 0)
    columns = [np.where(negative, quads.minus, quads.blank)] if negative.any() else []
    for g in range(groups):
        digits = units // INT_POWERS[4 * (groups - 1 - g)] % 10_000 + 10_000 * (units >= INT_POWERS[4 * (groups - g)])
        columns.append((quads.units if g == groups - 1 else quads.whole)[digits])
    if not integers:
        fraction = (number - units * INT_POWERS[places]) * INT_POWERS[11 - places]
        first = fraction // INT_POWERS[8]
        rest = fraction - first * INT_POWERS[8]
        second = rest // INT_POWERS[4]
        third = rest - second * INT_POWERS[4]
        columns += [quads.point[first + 1000 * (rest != 0)], quads.fraction[second + 10_000 * (third != 0)], quads.fraction[third]]
    columns.append(np.full(len(data), np.frombuffer(end.encode("ascii").ljust(4, bytes([PAD])), dtype=np.uint32)[0]))
    used = np.array([np.bitwise_and.reduce(column) for column in columns], dtype=np.uint32).view(np.uint8) != PAD
    picked = np.stack(columns, axis=1)
    if not exact.all():
        picked[~exact, :-1] = quads.blank
    others = ~exact & ~missing
    if not others.any():
        return picked.view(np.uint8)[:, used]
    distinct, codes = np.unique(data[others], return_inverse=True)  # +0.0 is never spelled, so no -0.0 takes its place
    spelled = _bytes_block([repr(value) for value in distinct.tolist()])[codes]
    block = np.full((len(data), spelled.shape[1]), PAD, dtype=np.uint8)
    block[others] = spelled
    used[-4:] = False
    return np.concatenate([picked.view(np.uint8)[:, used], block, picked.view(np.uint8)[:, -4:-3]], axis=1)


@dataclass(frozen=True)
class _Quads:
    """Four bytes of a number's cell read as one uint32, so that a whole column picks its digits four at a time.

    Each table is indexed by a group's digits (below 10,000, or 1,000 for `point`), plus the table's first half's size
    where the zeros at the group's edge must show because a digit beyond it is not 0; otherwise they are PAD:
    `whole` a group before the point (leading zeros), `units` the last such group (a lone 0 kept), `fraction` a group
    after the point (trailing zeros), `point` the point and the first three decimals (a lone 0 kept).
    `minus` is a sign and `blank` an empty place."""

    whole: np.ndarray
    units: np.ndarray
    fraction: np.ndarray
    point: np.ndarray
    minus: np.uint32
    blank: np.uint32


@functools.cache
def _quads() -> _Quads:
    """The digit tables, built once when a first number is written."""
    pad = chr(PAD)

    def table(texts: list[str]) -> np.ndarray:
        return np.frombuffer("".join(texts).encode("latin-1"), dtype=np.uint32).copy()

    fours = [f"{k:04d}" for k in range(10_000)]
    threes = [f".{k:03d}" for k in range(1000)]
    leading = [text.lstrip("0").rjust(4, pad) for text in fours]
    trailing = [text.rstrip("0").ljust(4, pad) for text in fours]
    return _Quads(
        whole=table(leading + fours),
        units=table([pad * 3 + "0", *leading[1:]] + fours),
        fraction=table(trailing + fours),
        point=table([".0" + pad * 2] + [text.rstrip("0").ljust(4, pad) for text in threes[1:]] + threes),
        minus=table([pad * 3 + "-"])[0],
        blank=table([pad * 4])[0],
    )


def _write_rows(path: Path, columns: tuple[str, ...], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(tuple(map(spreadsheet_safe, row)) for row in rows)


def write_json(path: Path, data: dict) -> None:
    """Indented UTF-8 JSON with a final newline."""
    # backslashreplace: a file name that is not valid UTF-8 (from an odd file system) is written escaped, not a crash
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", errors="backslashreplace")


def write_charts(subject, charts: dict[str, Callable], folder: Path) -> dict[str, bytes]:
    """Every chart as a PNG, without timestamps or software tags so files are repeatable; returns the bytes."""
    from .drawing import draw_charts

    folder.mkdir()
    return draw_charts(subject, charts, CHART_DPI, folder)


def start_charts(subject, charts: dict[str, Callable], folder: Path):
    """The charts set drawing into `folder` (on the chart server's processes where one is running, `drawing`), so other
    files can be written meanwhile; `.images()` waits for them and returns their bytes."""
    from .drawing import start_charts as start_drawing

    folder.mkdir()
    return start_drawing(subject, charts, CHART_DPI, folder)


def _display(target: Path) -> str:
    """The folder as a report may show it: as the user named it, or only its name if that was an absolute path."""
    return target.name if target.is_absolute() else target.as_posix()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace(staging: Path, target: Path) -> None:
    if target.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        aside.rmdir()
        target.rename(aside)
        try:
            staging.rename(target)
        except OSError:
            aside.rename(target)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    else:
        staging.rename(target)
