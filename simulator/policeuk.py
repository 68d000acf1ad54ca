"""Streaming importer for data.police.uk street-level crime files → counts per LSOA × month × crime type.

Reads the monthly `*-street.csv` files as downloaded: single files, folders of month folders, or
the zip archive. Rows are streamed (memory holds the aggregate, not the rows), and every row read
is either aggregated or rejected with a reason: no LSOA (unlocated), unknown crime type,
duplicate crime ID within a month's file, a bad month, a NUL byte (a damaged file), or a
malformed line. Blank lines (and lines of empty fields, as spreadsheets leave) are not rows. A
wrong header is an error. A file with a header and no rows is listed as empty and warned about;
if every file is empty, or no row of any file could be counted, there is nothing to import, and
that is an error. District comes from the LSOA name ("Medway 001A" → Medway), the force from
"Falls within".
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, compress
from operator import methodcaller
from pathlib import Path

import numpy as np

from .datafiles import plural, shown
from .errors import DataError, InternalError
from .inputs import month_range, month_runs
from .schema import CRIME_TYPES

HEADER = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
STREET_SUFFIX = "-street.csv"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
EXAMPLES_KEPT = 20
OUTPUT_COLUMNS = ("lsoa21_code", "lsoa21_name", "district", "month", "crime_type", "count")
CHUNK_ROWS = 20_000
BLOCK_CHARS = 4_000_000
"""Characters read at once (about 16,000 real rows), completed to the end of the line."""
KEY_AREA_SHIFT, KEY_MONTH_SHIFT = 24, 8
HAS_NEWLINE = methodcaller("__contains__", "\n")


SPLIT_FIELDS = methodcaller("split", ",")

UNLOCATED = "no LSOA (unlocated)"
UNKNOWN_TYPE = "unknown crime type"
DUPLICATE_ID = "duplicate crime ID"
BAD_MONTH = "bad month"
NUL_BYTE = "NUL byte (damaged line)"
MALFORMED = "malformed line"
REJECTION_REASONS = (UNLOCATED, UNKNOWN_TYPE, DUPLICATE_ID, BAD_MONTH, NUL_BYTE, MALFORMED)
# What to do when every row was rejected, by the reason of the first (for the one-line error).
REJECTION_HINTS = {
    UNLOCATED: "police.uk leaves the LSOA blank only for crimes it could not place; check these are street files as downloaded",
    UNKNOWN_TYPE: "crime types are police.uk's 14 categories, e.g. 'Burglary'; check the file was not edited or exported elsewhere",
    DUPLICATE_ID: "download the files again from data.police.uk",
    BAD_MONTH: "police.uk writes months as YYYY-MM, 01 to 12; a spreadsheet that re-saved the file may have rewritten them",
    NUL_BYTE: "the file is damaged: download it again from data.police.uk",
    MALFORMED: "a street row has 12 comma-separated fields; check the file was not cut short or re-saved by a spreadsheet",
}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Problem:
    """One rejected row, kept as an example: why, where and what it held."""

    reason: str
    file: str
    line: int
    detail: str


@dataclass(frozen=True)
class ImportReport:
    """What an import read: files, months, forces, and every row either aggregated or rejected by reason.

    Files with a header and no rows are listed in `empty_files`, and `warnings` says so in words.
    """

    files: tuple[str, ...]
    files_skipped: tuple[str, ...]
    months: tuple[str, ...]
    forces: tuple[tuple[str, int], ...]
    rows_read: int
    rows_aggregated: int
    rows_by_crime_type: tuple[tuple[str, int], ...]
    rejected: tuple[tuple[str, int], ...]
    unknown_crime_types: tuple[tuple[str, int], ...]
    examples: tuple[Problem, ...]
    lsoas: int
    empty_files: tuple[str, ...] = ()
    months_by_force: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Each force ('Reported by') and the months it has rows in, sorted."""

    def missing_months(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each force lacking months of the import's span (its first to its last month over every force), with those
        months: a force's counts then cover fewer months than the others', which a per-year rate would misread."""
        if not self.months:
            return ()
        span = month_range(self.months[0], self.months[-1])
        found = []
        for force, held in self.months_by_force:
            missing = tuple(month for month in span if month not in set(held))
            if missing:
                found.append((force, missing))
        return tuple(found)

    @property
    def rows_rejected(self) -> int:
        """Rows not aggregated, all reasons."""
        return sum(count for _, count in self.rejected)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the person importing should know that is not an error, one complete line each."""
        empty = tuple(
            f"{label} has a header but no rows: that month adds no records to the counts (download it again if it should have some)"
            for label in self.empty_files
        )
        span = len(month_range(self.months[0], self.months[-1])) if self.months else 0
        short = tuple(
            f"{force} has rows in {span - len(missing)} of the {span} months {self.months[0]} to {self.months[-1]}; "
            f"missing {month_runs(missing)}: its counts cover fewer months than the other forces' (download those months, "
            "or set the data period to the months every force has)"
            for force, missing in self.missing_months()
        )
        return empty + short

    def as_dict(self) -> dict:
        """The report as plain JSON-ready data."""
        return {
            "files": list(self.files),
            "files_skipped": list(self.files_skipped),
            "empty_files": list(self.empty_files),
            "warnings": list(self.warnings),
            "months": list(self.months),
            "forces": dict(self.forces),
            "months_by_force": {force: list(months) for force, months in self.months_by_force},
            "missing_months_by_force": {force: list(months) for force, months in self.missing_months()},
            "rows_read": self.rows_read,
            "rows_aggregated": self.rows_aggregated,
            "rows_rejected": self.rows_rejected,
            "rejected_by_reason": dict(self.rejected),
            "rows_by_crime_type": dict(self.rows_by_crime_type),
            "unknown_crime_types": dict(self.unknown_crime_types),
            "lsoas": self.lsoas,
            "examples": [{"reason": item.reason, "file": item.file, "line": item.line, "detail": item.detail} for item in self.examples],
            "source": "data.police.uk street-level crime files (Open Government Licence v3.0)",
        }


@dataclass(frozen=True)
class StreetCounts:
    """Counts per LSOA × month × crime type, held compactly (one int64 key and count per cell), with the report.

    A cell's key packs (LSOA index, month index, crime-type index); LSOAs and months are sorted, so
    sorted keys give the table in LSOA, month, crime-type order.
    """

    codes: tuple[str, ...]
    names: tuple[str, ...]
    months: tuple[str, ...]
    keys: np.ndarray
    counts: np.ndarray
    report: ImportReport

    def iter_rows(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        """The tidy table, row by row: LSOA code, LSOA name, district, month, crime type, count."""
        districts = tuple(district_of(name) for name in self.names)
        for key, count in zip(self.keys.tolist(), self.counts.tolist()):
            area, month, crime = key >> KEY_AREA_SHIFT, (key >> KEY_MONTH_SHIFT) & 0xFFFF, key & 0xFF
            yield self.codes[area], self.names[area], districts[area], self.months[month], CRIME_TYPES[crime], count


def district_of(lsoa_name: str) -> str:
    """The district an LSOA belongs to, from its name: 'Medway 001A' → 'Medway'."""
    head, _, tail = lsoa_name.strip().rpartition(" ")
    return head if head and re.fullmatch(r"\d{3}[A-Z]", tail) else lsoa_name.strip()


def street_files(paths: list[str | Path]) -> list[str]:
    """The street files an import of `paths` would read, in order (for a progress bar's length)."""
    sources, _ = _find_sources([Path(path) for path in paths])
    return [label for label, _ in sources]


def import_street_files(paths: list[str | Path], progress: Progress | None = None) -> StreetCounts:
    """Stream every street file under `paths` into counts, refusing a file whose header is not police.uk's."""
    report_progress = progress or (lambda name: None)
    given = [Path(path) for path in paths]
    sources, skipped = _find_sources(given)
    if not sources:
        found = skipped + _other_files(given)
        raise DataError(
            "holds no police.uk street files",
            file=", ".join(str(path) for path in paths),
            got=f"found {_listed(found, 'other file')}" if found else "no files at all",
            hint=f"name *{STREET_SUFFIX} files, folders of them, or the zip archive downloaded from data.police.uk",
        )
    tally = _Tally()
    seen_files: set[str] = set()
    read_files: list[str] = []
    empty_files: list[str] = []
    for label, opener in sources:
        base = _base_name(label)
        if base in seen_files:
            skipped.append(f"{label} (the same month and force as an earlier file)")
            continue
        seen_files.add(base)
        read_files.append(label)
        report_progress(label)
        rows_before = tally.rows_read
        tally.read_file(opener, label)
        if tally.rows_read == rows_before:
            empty_files.append(label)
    if len(empty_files) == len(read_files):
        if len(read_files) == 1:
            raise DataError(
                "has a header but no rows: nothing to import",
                file=read_files[0],
                line=2,
                hint="download the file again from data.police.uk; a month with records has a row for each",
            )
        raise DataError(
            "every street file has a header but no rows: nothing to import",
            file=", ".join(str(path) for path in paths),
            got=_listed(empty_files, "empty file"),
            hint="download the files again from data.police.uk; a month with records has a row for each",
        )
    counts = tally.finish(tuple(read_files), tuple(skipped), tuple(empty_files))
    report = counts.report
    if report.rows_aggregated == 0:
        first = report.examples[0]
        reasons = ", ".join(f"{reason}: {count}" for reason, count in report.rejected)
        raise DataError(
            f"no row could be counted: {plural(report.rows_read, 'row')} read, all rejected ({reasons}); first rejected here: {first.reason}",
            file=first.file,
            line=first.line,
            got=shown(first.detail),
            hint=REJECTION_HINTS[first.reason],
        )
    return counts


def _base_name(label: str) -> str:
    return label.replace("\\", "/").rsplit("/", 1)[-1]


def _listed(labels: list[str], noun: str) -> str:
    """'3 other files: a.csv, b.csv, c.txt' (names only, at most three, then how many more)."""
    names = [_base_name(label) for label in labels[:3]]
    more = f" and {len(labels) - 3} more" if len(labels) > 3 else ""
    return f"{len(labels)} {noun}{'' if len(labels) == 1 else 's'}: {', '.join(names)}{more}"


def _other_files(paths: list[Path]) -> list[str]:
    """Files in the given folders that are neither CSV nor zip (for saying what a folder held instead of street files)."""
    return [
        str(item)
        for path in paths
        if path.is_dir()
        for item in sorted(path.rglob("*"))
        if item.is_file() and item.suffix.lower() not in (".csv", ".zip")
    ]


class _Tally:
    """The running aggregate of an import.

    Each chunk of rows becomes an array of packed cell keys (LSOA index, month index, crime-type
    index), taken column-wise with C-level tools (str.split, slicing, map over dict.get), and the
    keys of a file are reduced to unique keys and counts with numpy. Memory holds cells, not rows.
    """

    def __init__(self):
        self.area_index: dict[str, int] = {}
        self.names: dict[str, str] = {}
        self.month_index: dict[str, int] = {}
        self.crime_index = {crime: i for i, crime in enumerate(CRIME_TYPES)}
        self.reduced: list[tuple[np.ndarray, np.ndarray]] = []
        self.forces: Counter = Counter()
        self.force_months: set[tuple[str, str]] = set()
        self.rejected: Counter = Counter()
        self.unknown: Counter = Counter()
        self.examples: list[Problem] = []
        self.rows_read = 0

    def reject(self, reason: str, label: str, line: int, detail: str) -> None:
        self.rejected[reason] += 1
        if len(self.examples) < EXAMPLES_KEPT:
            self.examples.append(Problem(reason, label, line, detail[:120]))

    def read_file(self, opener: Callable, label: str) -> None:
        """Aggregate one file, a chunk of lines at a time.

        Police.uk writes no quoted fields, so a clean chunk is split on commas in one call and its
        columns taken by slicing (`_count_columns`); a chunk with an odd line (or a NUL byte, found
        by one scan of the chunk) goes row by row (`_count_rows`); from the first quote on, the csv
        module reads the rest of the file, so quoted fields are still parsed correctly, each row
        numbered by the line it starts on.
        """
        try:
            with opener() as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
                keys = self._read_text(text, label)
        except UnicodeDecodeError:
            line, column, byte = _first_undecodable(opener)
            raise DataError(
                "is not UTF-8 text",
                file=label,
                line=line,
                got=f"byte 0x{byte:02x} at column {column}",
                hint="download the file again from data.police.uk",
            ) from None
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as error:
            reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
            raise DataError(
                "cannot be read", file=label, got=reason[:80], hint="check the file's permissions, or download it again if it is damaged"
            ) from None
        if keys:
            self.reduced.append(np.unique(np.concatenate(keys), return_counts=True))

    def _read_text(self, text, label: str) -> list[np.ndarray]:
        keys: list[np.ndarray] = []
        ids: set[str] = set()
        line = 1
        try:
            header_line = text.readline()
            self._check_header(next(csv.reader([header_line]), None) if header_line.strip() else None, label)
            line = 2
            while True:
                block = text.read(BLOCK_CHARS)
                if not block:
                    break
                if not block.endswith("\n"):
                    block += text.readline()
                if '"' in block:
                    reader = csv.reader(chain(_lines_of(block), text))
                    before = line - 1  # lines of the file before the reader's first
                    chunk: list[list[str]] = []
                    starts: list[int] = []
                    for fields in reader:
                        chunk.append(fields)
                        starts.append(line)
                        line = before + reader.line_num + 1
                        if len(chunk) == CHUNK_ROWS:
                            keys.append(self._count_rows(chunk, starts, label, ids, "\x00" in "".join(chain.from_iterable(chunk))))
                            chunk, starts = [], []
                    if chunk:
                        keys.append(self._count_rows(chunk, starts, label, ids, "\x00" in "".join(chain.from_iterable(chunk))))
                    break
                nul = "\x00" in block
                plain_ends = block.endswith("\n") and ("\r" not in block or block.count("\r") == block.count("\r\n"))
                rows = block.count("\n") if plain_ends else 0
                counted = self._count_columns(block, rows, line, label, ids) if plain_ends and not nul else None
                if counted is None:
                    lines = _lines_of(block)
                    rows = len(lines)
                    counted = self._count_rows(list(map(SPLIT_FIELDS, lines)), range(line, line + rows), label, ids, nul)
                keys.append(counted)
                line += rows
        except csv.Error as error:
            raise DataError(
                f"cannot be read as CSV ({error})",
                file=label,
                line=line,
                hint="a quote opened on or after this line may never be closed; download the file again",
            ) from None
        return keys

    @staticmethod
    def _check_header(header: list[str] | None, label: str) -> None:
        if header is None:
            raise DataError("is empty", file=label, line=1, hint="download the file again")
        if tuple(column.strip() for column in header) != HEADER:
            wrong = next((i for i, (got, want) in enumerate(zip(header, HEADER)) if got.strip() != want), min(len(header), len(HEADER)))
            raise DataError(
                "does not have the police.uk street-level header",
                file=label,
                line=1,
                got=f"column {wrong + 1}: {header[wrong] if wrong < len(header) else '(missing)'}",
                expected=f"'{HEADER[wrong] if wrong < len(HEADER) else '(no more columns)'}' in {', '.join(HEADER)}",
                hint="use the *-street.csv files; outcomes and stop-and-search files have other headers",
            )

    def _count_columns(self, joined: str, rows: int, first_line: int, label: str, ids: set[str]) -> np.ndarray | None:
        """Packed keys for a block of `rows` lines, each ending in a newline, whose every line has 12 fields, a known crime type, a good month and no
        repeated crime ID; None (and nothing counted) if it has not, so the chunk goes row by row.

        Split on every comma, the fields of row k sit at 11·k + j, except that each row's last field
        and the next row's crime ID share one piece (joined by the newline): exactly one newline per
        such piece proves every row has its 12 fields.
        """
        fields = joined.split(",")
        if len(fields) != 11 * rows + 1:
            return None
        seams = fields[11::11]
        if not all(map(HAS_NEWLINE, seams)):
            return None
        months, forces, locations, codes, names, types = (fields[j::11] for j in (1, 3, 6, 7, 8, 9))
        if not set(types) <= self.crime_index.keys() or not all(map(MONTH.match, set(months))):
            return None
        # Each seam holds exactly one newline (rows newlines in all, at least one per seam), so joining the seams with
        # newlines and splitting on them alternates each row's last field and the next row's crime ID.
        crime_ids = [fields[0], *"\n".join(seams[:-1]).split("\n")[1::2]]
        located = list(map(bool, codes)) if "" in codes else None
        found = list(filter(None, compress(crime_ids, located) if located else crime_ids))
        fresh = set(found)
        if len(fresh) != len(found) or not ids.isdisjoint(fresh):
            return None
        ids |= fresh
        self.rows_read += rows
        if located:
            for offset in np.flatnonzero(~np.fromiter(located, dtype=bool, count=rows)).tolist():
                self.reject(UNLOCATED, label, first_line + offset, locations[offset] or "no location")
            months, forces, codes, names, types = (list(compress(column, located)) for column in (months, forces, codes, names, types))
        return self._pack(codes, names, months, types, forces)

    def _count_rows(self, chunk: list[list[str]], lines: Sequence[int], label: str, ids: set[str], nul: bool) -> np.ndarray:
        """Packed keys for a chunk taken row by row (`lines` numbering them), rejecting each problem row with its reason.

        A blank line, or one of empty fields only, is no row: it is neither read nor rejected. `nul`
        says whether a NUL byte is anywhere in the chunk, so clean chunks skip that check.
        """
        good = []
        blank = 0
        for line, row in zip(lines, chunk):
            if len(row) != 12:
                if not any(map(str.strip, row)):
                    blank += 1
                elif nul and "\x00" in ",".join(row):
                    self.reject(NUL_BYTE, label, line, _printable(",".join(row).strip()))
                else:
                    self.reject(MALFORMED, label, line, f"{len(row)} fields, expected 12: {','.join(row).strip()}")
            elif nul and "\x00" in ",".join(row):
                self.reject(NUL_BYTE, label, line, _printable(",".join(row).strip()))
            elif not row[7]:
                if not any(map(str.strip, row)):
                    blank += 1
                else:
                    self.reject(UNLOCATED, label, line, row[6] or "no location")
            elif row[9] not in self.crime_index:
                self.unknown[row[9]] += 1
                self.reject(UNKNOWN_TYPE, label, line, row[9])
            elif not MONTH.match(row[1]):
                self.reject(BAD_MONTH, label, line, row[1])
            elif row[0] and row[0] in ids:
                self.reject(DUPLICATE_ID, label, line, row[0])
            else:
                if row[0]:
                    ids.add(row[0])
                good.append(row)
        self.rows_read += len(chunk) - blank
        columns = [[row[j] for row in good] for j in (7, 8, 1, 9, 3)]
        return self._pack(*columns)

    def _pack(self, codes: list[str], names: list[str], months: list[str], types: list[str], forces: list[str]) -> np.ndarray:
        """One int64 key per row: LSOA index << 24 | month index << 8 | crime-type index."""
        if not codes:
            return np.zeros(0, dtype=np.int64)
        new_codes = set(codes) - self.area_index.keys()
        if new_codes:
            first_names = dict(zip(reversed(codes), reversed(names)))
            for code in sorted(new_codes):
                self.area_index[code] = len(self.area_index)
                self.names[code] = first_names[code]
        distinct_months = set(months)
        for month in distinct_months - self.month_index.keys():
            self.month_index[month] = len(self.month_index)
        if len(set(forces)) == 1:
            self.forces[forces[0]] += len(forces)
            self.force_months.update((forces[0], month) for month in distinct_months)
        else:
            self.forces.update(forces)
            self.force_months.update(zip(forces, months))
        areas = np.fromiter(map(self.area_index.__getitem__, codes), dtype=np.int64, count=len(codes))
        crimes = np.fromiter(map(self.crime_index.__getitem__, types), dtype=np.int64, count=len(types))
        if len(distinct_months) == 1:
            month_part = self.month_index[months[0]] << KEY_MONTH_SHIFT
        else:
            month_part = np.fromiter(map(self.month_index.__getitem__, months), dtype=np.int64, count=len(months)) << KEY_MONTH_SHIFT
        return (areas << KEY_AREA_SHIFT) | month_part | crimes

    def finish(self, files: tuple[str, ...], skipped: tuple[str, ...], empty: tuple[str, ...] = ()) -> StreetCounts:
        codes = sorted(self.area_index)
        months = sorted(self.month_index)
        area_rank = np.zeros(max(len(codes), 1), dtype=np.int64)
        for rank, code in enumerate(codes):
            area_rank[self.area_index[code]] = rank
        month_rank = np.zeros(max(len(months), 1), dtype=np.int64)
        for rank, month in enumerate(months):
            month_rank[self.month_index[month]] = rank
        if self.reduced:
            keys = np.concatenate([keys for keys, _ in self.reduced])
            counts = np.concatenate([counts for _, counts in self.reduced])
        else:
            keys = counts = np.zeros(0, dtype=np.int64)
        self.reduced = []
        keys = (
            (area_rank[keys >> KEY_AREA_SHIFT] << KEY_AREA_SHIFT)
            | (month_rank[(keys >> KEY_MONTH_SHIFT) & 0xFFFF] << KEY_MONTH_SHIFT)
            | (keys & 0xFF)
        )
        keys, inverse = np.unique(keys, return_inverse=True)
        counts = np.bincount(inverse.ravel(), weights=counts, minlength=len(keys)).astype(np.int64)
        by_type = np.bincount(keys & 0xFF, weights=counts, minlength=len(CRIME_TYPES)).astype(np.int64)
        report = ImportReport(
            files=files,
            files_skipped=skipped,
            months=tuple(months),
            forces=tuple(sorted(self.forces.items())),
            rows_read=self.rows_read,
            rows_aggregated=int(counts.sum()),
            rows_by_crime_type=tuple((crime, int(by_type[i])) for i, crime in enumerate(CRIME_TYPES) if by_type[i]),
            rejected=tuple((reason, self.rejected[reason]) for reason in REJECTION_REASONS if self.rejected[reason]),
            unknown_crime_types=tuple(sorted(self.unknown.items())),
            examples=tuple(self.examples),
            lsoas=len(codes),
            empty_files=empty,
            months_by_force=tuple(
                (force, tuple(sorted(month for held, month in self.force_months if held == force))) for force in sorted(self.forces)
            ),
        )
        if report.rows_read != report.rows_aggregated + report.rows_rejected:
            raise InternalError(
                f"import lost rows: {report.rows_read} read, {report.rows_aggregated} counted, {report.rows_rejected} rejected"
            )
        return StreetCounts(tuple(codes), tuple(self.names[code] for code in codes), tuple(months), keys, counts, report)


def _lines_of(block: str) -> list[str]:
    """The lines of a block as the file's own reader splits them (newline="": at \\n, \\r or \\r\\n, ends kept)."""
    return list(io.StringIO(block, newline=""))


def _first_undecodable(opener: Callable) -> tuple[int, int, int]:
    """Line, column and value of the first byte that is not UTF-8 (read again line by line, only when a file fails)."""
    with opener() as raw:
        for number, data in enumerate(raw, start=1):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as error:
                return number, len(data[: error.start].decode("utf-8-sig")) + 1, data[error.start]
    raise InternalError("a file failed to decode as UTF-8, but every line of it decodes")


def _find_sources(paths: list[Path]) -> tuple[list[tuple[str, Callable]], list[str]]:
    """(label, opener) for each street file under the paths, in a stable order; other files are listed as skipped."""
    sources: list[tuple[str, Callable]] = []
    skipped: list[str] = []
    for path in paths:
        if not path.exists():
            raise DataError("not found", file=str(path), hint="name a *-street.csv file, a folder or the downloaded zip")
        if path.is_dir():
            try:
                members = sorted(item for item in path.rglob("*") if item.is_file())
            except OSError as error:
                raise DataError(
                    "cannot be listed", file=str(error.filename or path), got=error.strerror, hint="check the folder's permissions"
                ) from None
            for member in members:
                if member.name.endswith(STREET_SUFFIX):
                    sources.append((str(member), lambda member=member: open(member, "rb")))
                elif member.suffix.lower() == ".zip":
                    found, ignored = _zip_sources(member)
                    sources += found
                    skipped += ignored
                elif member.suffix.lower() == ".csv":
                    skipped.append(str(member))
        elif zipfile.is_zipfile(path) or path.suffix.lower() == ".zip":
            found, ignored = _zip_sources(path)
            sources += found
            skipped += ignored
        else:
            sources.append((str(path), lambda path=path: open(path, "rb")))
    return sources, skipped


def _zip_sources(path: Path) -> tuple[list[tuple[str, Callable]], list[str]]:
    try:
        with zipfile.ZipFile(path) as archive:
            archive_names = sorted(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        reason = getattr(error, "strerror", None) or "not a zip archive, or a damaged one"
        raise DataError("is not a readable zip archive", file=str(path), got=reason, hint="download the archive again") from None
    found, ignored = [], []
    for name in archive_names:
        if name.endswith("/"):
            continue
        shown = _printable(name)
        if name.endswith(STREET_SUFFIX):
            found.append((f"{path}:{shown}", lambda name=name: _ZipMember(path, name)))
        else:
            ignored.append(f"{path}:{shown}")
    return found, ignored


def _printable(name: str) -> str:
    """A name from an archive for messages: line breaks and other control characters escaped."""
    return name if name.isprintable() else "".join(char if char.isprintable() else repr(char)[1:-1] for char in name)


class _ZipMember:
    """A zip member opened for streaming, closing the archive with it."""

    def __init__(self, path: Path, name: str):
        self.archive = zipfile.ZipFile(path)
        self.name = name

    def __enter__(self):
        try:
            self.handle = self.archive.open(self.name)
        except (RuntimeError, NotImplementedError, zipfile.BadZipFile) as error:  # encrypted, an unknown compression, damaged
            self.archive.close()
            raise DataError(
                "cannot be read from the zip archive",
                file=f"{self.archive.filename}:{_printable(self.name)}",
                got=str(error)[:80],
                hint="download the archive again from data.police.uk",
            ) from None
        return self.handle

    def __exit__(self, *exc) -> None:
        self.handle.close()
        self.archive.close()
