"""Reading data files: a shipped or user file as text, a CSV as checked rows, numbers within bounds.

Shared by the area and count tables (`inputs`) and the map files (`maps`). Every problem is a
`DataError` naming the file, line and column, with the bad value quoted short enough to keep the
message on one line.
"""

from __future__ import annotations

import csv
import gc
import gzip
import hashlib
import io
import math
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from operator import methodcaller
from pathlib import Path, PurePath

from .errors import DataError

EMBEDDED = "embedded:"
SHOWN = 60  # characters of a bad value quoted in an error, so the message stays one readable line


@dataclass(frozen=True)
class SourceFile:
    """One file read, with its hash so a run can say exactly what it used."""

    role: str
    path: str
    sha256: str
    rows_read: int
    rows_used: int
    rows_other_period: int = 0
    rows_other_areas: int = 0
    rows_left_out: int = 0
    """Rows for areas in the area table that the model leaves out (`Areas.left_out`)."""
    rows_unlocated: int = 0
    """Rows of records with no area (`unlocated`, per force), counted and attributed to no area."""


def read_text(location: str, key: str) -> tuple[str, str]:
    """A shipped (`embedded:<name>`) or user file as text, and the path to name it by; a `.gz` file is unzipped on the way."""
    text, path, _ = read_data(location, key)
    return text, path


def read_data(location: str, key: str) -> tuple[str, str, str]:
    """A shipped or user file as text, the path to name it by, and the SHA-256 a rerun checks.

    The hash is of the bytes as stored for a gzipped file (what `sha256sum` prints for it), and of the text for any
    other (the same bytes unless the file starts with a byte-order mark, so hashes recorded before are unchanged).
    """
    if not location.strip():
        raise DataError("names no file", key=key, got=location, expected="the path of a CSV file, or embedded:<name>")
    kind = "GeoJSON" if key == "data.boundaries" else "CSV"
    if location.startswith(EMBEDDED):
        name = location[len(EMBEDDED) :]
        resource = resources.files("simulator") / "data" / name
        if "/" in name or "\\" in name or not resource.is_file():
            shipped = sorted(
                item.name for item in (resources.files("simulator") / "data").iterdir() if item.name.endswith((".csv", ".csv.gz"))
            )
            raise DataError("names no embedded data file", key=key, got=name, expected=", ".join(shipped))
        with resource.open("rb") as handle:
            stored = handle.read()
        raw = _unzipped(stored, location, key, kind) if name.endswith(".gz") else stored
        text = raw.decode("utf-8")
        return text, location, hashlib.sha256(stored).hexdigest() if name.endswith(".gz") else sha256_text(text)
    path = Path(location)
    try:
        stored = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(
            "data file not found", file=str(path), key=key, hint="check the path; relative paths are relative to the scenario file"
        ) from None
    except IsADirectoryError:
        raise DataError(f"is a folder, not a {kind} file", file=str(path), key=key, hint=f"name the {kind} file inside it") from None
    except OSError as error:
        raise DataError(
            "cannot be read",
            file=str(path),
            key=key,
            got=error.strerror or type(error).__name__,
            hint="check the file's permissions, or copy it somewhere readable",
        ) from None
    zipped = path.name.lower().endswith(".gz")
    raw = _unzipped(stored, str(path), key, kind) if zipped else stored
    text = _decoded(raw, str(path), key, kind)
    return text, str(path), hashlib.sha256(stored).hexdigest() if zipped else sha256_text(text)


def _unzipped(stored: bytes, file: str, key: str, kind: str) -> bytes:
    """The bytes inside a gzip file, or a DataError if it is not one (a `.gz` name on a plain or damaged file)."""
    try:
        return gzip.decompress(stored)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(
            "is named .gz but cannot be unzipped",
            file=file,
            key=key,
            got=shown(str(error)),
            hint=f"download it again, or name the plain {kind} file (without .gz)",
        ) from None


def _decoded(raw: bytes, file: str, key: str, kind: str) -> str:
    """UTF-8 text (a byte-order mark dropped), refusing other encodings and binary files with the line and column of the first bad byte."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = position(raw, error.start)
        raise DataError(
            "is not UTF-8 text",
            file=file,
            line=line,
            key=key,
            got=f"byte 0x{raw[error.start]:02x} at column {column}",
            hint=f"save the {kind} as UTF-8 (in Excel: Save As, CSV UTF-8)" if kind == "CSV" else "save it as UTF-8",
        ) from None
    if "\x00" in text:
        line, column = position(raw, raw.index(b"\x00"))
        raise DataError(
            "holds NUL bytes, so it is a binary file, not text",
            file=file,
            line=line,
            key=key,
            got=f"NUL at column {column}",
            hint=f"name a {kind} file (a spreadsheet must be saved as CSV first)" if kind == "CSV" else "name a GeoJSON file",
        )
    return text


def position(raw: bytes, offset: int) -> tuple[int, int]:
    """Line and column (both from 1, the column in characters) of a byte offset."""
    start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[start:offset].decode("utf-8-sig", errors="replace")) + 1


def shown(value: object) -> str:
    """A value for an error's `got` (which quotes it, escaping line breaks): at most SHOWN characters."""
    text = str(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def plain(value: object) -> str:
    """A value from a file for the unquoted parts of an error: line breaks and other control characters escaped, at most SHOWN characters."""
    return shown("".join(char if char.isprintable() else repr(char)[1:-1] for char in str(value)))


def plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def columns_of(header: list[str], wanted: dict, optional: dict, file: str) -> dict[str, str]:
    found = {}
    for name, aliases in {**wanted, **optional}.items():
        match = next((alias for alias in aliases if alias in header), None)
        if match:
            positions = [str(i + 1) for i, column in enumerate(header) if column == match]
            if len(positions) > 1:
                raise DataError(
                    "the header names a column twice",
                    file=file,
                    line=1,
                    key=match,
                    got=f"columns {' and '.join(positions)}",
                    hint="rename or delete one of them, so it is clear which one to read",
                )
            found[name] = match
        elif name in wanted:
            raise DataError(
                f"has no {name} column",
                file=file,
                line=1,
                got=shown(", ".join(header[:8])),
                expected=" or ".join(aliases),
                hint="rename the column or check this is the right file",
            )
    return found


class Table:
    """A CSV file read row by row as (line, {column: value}), every row checked to have the header's number of fields.

    Column names are stripped of spaces. A row that is blank or holds only empty fields (as
    spreadsheets write below a table) carries no data and is passed over; any other row with more
    or fewer fields than the header is an error, since its values could not be placed in columns.
    The line is where the row starts.
    """

    def __init__(self, text: str, file: str):
        self.file = file
        self.text = text
        self.reader = csv.reader(io.StringIO(text, newline=""))
        header = self._next()
        while header is not None and not any(field.strip() for field in header):
            header = self._next()
        if header is None:
            raise DataError("is empty", file=file, hint="the file needs a header row and data rows")
        self.header = [name.strip() for name in header]

    def _next(self) -> list[str] | None:
        try:
            return next(self.reader, None)
        except csv.Error as error:
            raise DataError(
                f"cannot be read as CSV ({error})", file=self.file, line=self.reader.line_num, hint="check for an unclosed quote"
            ) from None

    def columns(self, names: list[str]) -> list[list[str]] | None:
        """The values of the named columns in every remaining row, read in bulk (a national table's 270,000 rows in a
        tenth of a second), or None where row-by-row reading is needed to place a problem: a blank or short row, a
        row with more fields than the header, or a quote that is never closed. Call before iterating, on a fresh Table.

        A text without quotes or carriage returns has a row per line and a field between each two commas, so it is split
        by two string calls (a third of the time of the CSV reader's rows)."""
        lines = self._plain_lines()
        if lines is not None:
            width = len(self.header)
            if not lines or set(map(methodcaller("count", ","), lines)) != {width - 1} or not all(map(methodcaller("strip", ","), lines)):
                return None
            fields = ",".join(lines).split(",")
            return [fields[index::width] for index in (self.header.index(name) for name in names)]
        collecting = gc.isenabled()
        gc.disable()  # the cyclic collector would rescan the growing list of rows hundreds of times: half the read time
        try:
            rows = list(self.reader)
            width = len(self.header)
            if not rows or set(map(len, rows)) != {width} or not all(map(any, rows)):
                return None
            return [[row[index] for row in rows] for index in (self.header.index(name) for name in names)]
        except csv.Error:
            return None
        finally:
            if collecting:
                gc.enable()

    def _plain_lines(self) -> list[str] | None:
        """The lines after the header, if no field can be quoted or end a line early (no quote, carriage return or NUL in
        the text, no line past the reader's field size limit): then the reader's rows are the lines split at commas. A
        last empty line is the final newline's."""
        if '"' in self.text or "\r" in self.text or "\0" in self.text:
            return None
        lines = self.text.split("\n")
        del lines[: self.reader.line_num]
        if lines and not lines[-1]:
            lines.pop()
        return lines if max(map(len, lines), default=0) <= csv.field_size_limit() else None

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        header, width = self.header, len(self.header)
        end = self.reader.line_num
        while (fields := self._next()) is not None:
            start, end = end + 1, self.reader.line_num
            if len(fields) == width:
                if any(fields):
                    yield start, dict(zip(header, fields))
            elif any(field.strip() for field in fields):
                raise DataError(
                    f"row has {plural(len(fields), 'field')}, the header has {width}",
                    file=self.file,
                    line=start,
                    key=plain(header[len(fields)]) if len(fields) < width else None,
                    got=shown(",".join(fields)),
                    expected=f"{width} fields: {plain(', '.join(header))}",
                    hint="a quoted value runs across lines: check for a quote that is never closed"
                    if any("\n" in field for field in fields)
                    else "check for a missing or extra comma; quote a value that holds a comma",
                )


def area_code(row: dict[str, str], column: str, file: str, line: int) -> str:
    code = row[column].strip()
    if not code:
        raise DataError(
            "row has no area code",
            file=file,
            line=line,
            key=column,
            got=row[column],
            hint="fill in the area's code (e.g. E07000105), or delete the row",
        )
    return one_line(code, file, line, column, "area code")


CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # control characters (Unicode Cc) and the line and paragraph separators
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() breaks at


def one_line(text: str, file: str, line: int, column: str, noun: str) -> str:
    """`text` if it holds no line break or other control character, which would break a printed table; else a DataError."""
    found = CONTROL.search(text)
    if found is None:
        return text
    char = found.group()
    kind = "a line break" if char in LINE_BREAKS else "a tab" if char == "\t" else f"a control character (U+{ord(char):04X})"
    raise DataError(
        f"{noun} holds {kind}",
        file=file,
        line=line,
        key=column,
        got=shown(text),
        expected="text on one line, without control characters",
        hint="remove it from the cell (a line break inside a spreadsheet cell is typed with Alt+Enter)",
    )


THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def whole_number(text: str, file: str, line: int, column: str, low: int, high: int, meaning: str) -> float:
    """A whole number from `low` to `high` (thousands separators allowed), or a DataError naming the cell.

    A comma is read only as a thousands separator in its place (1,234 or 12,345,678), so a decimal
    comma (1,5) is never read as 15; an underscore, which Python's float() would skip, is refused.
    """
    expected = f"a whole number from {low:,} to {high:,}"
    quoted = shown(text)
    digits = text.strip()
    if "_" in digits:
        raise DataError(
            "has an underscore, which is not a digit separator in a data file",
            file=file,
            line=line,
            key=column,
            got=quoted,
            expected=expected,
            hint="write plain digits, e.g. 1234, or separate thousands with commas, e.g. 1,234",
        )
    if "," in digits:
        if not THOUSANDS.fullmatch(digits):
            raise DataError(
                "has a comma that is not a thousands separator",
                file=file,
                line=line,
                key=column,
                got=quoted,
                expected=f"{expected}, with commas only between groups of three digits, e.g. 1,234",
                hint="write the number without commas; a decimal comma (1,5) is not read, use a point",
            )
        digits = digits.replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        raise DataError(
            "is not a number",
            file=file,
            line=line,
            key=column,
            got=quoted,
            expected=expected,
            hint="write plain digits without £, % or spaces",
        ) from None
    if math.isinf(value) and text.strip().lstrip("+-").lower() not in ("inf", "infinity"):  # digits beyond a float's range
        raise DataError("is out of range", file=file, line=line, key=column, got=quoted, expected=expected, hint=meaning)
    if not math.isfinite(value):
        raise DataError("is not a finite number", file=file, line=line, key=column, got=quoted, expected=expected, hint=meaning)
    if value != int(value):
        raise DataError("must be a whole number", file=file, line=line, key=column, got=quoted, expected=expected, hint=meaning)
    if not low <= value <= high:
        raise DataError("is out of range", file=file, line=line, key=column, got=quoted, expected=expected, hint=meaning)
    return value


class UniqueValues:
    """Values of one column seen so far in one file, refusing one that appears on a second row (naming both lines).

    `fold` says which values count as the same (e.g. names regardless of case and spacing).
    """

    def __init__(self, file: str, column: str, noun: str, fold: Callable[[str], str] = str):
        self.file, self.column, self.noun, self.fold = file, column, noun, fold
        self.lines: dict[str, int] = {}

    def add(self, value: str, line: int, hint: str | Callable[[], str]) -> None:
        """Note `value` on `line`; `hint` (or a function making it, so it is only worded when needed) says how to fix a repeat."""
        folded = self.fold(value)
        if folded in self.lines:
            raise DataError(
                f"{self.noun} appears twice, on lines {self.lines[folded]} and {line}",
                file=self.file,
                line=line,
                key=self.column,
                got=shown(value),
                hint=hint if isinstance(hint, str) else hint(),
            )
        self.lines[folded] = line


def shown_file_name(path: str) -> str:
    """An input as a report or the terminal shows it: its file name (or `embedded:` name), never the reader's folder layout."""
    if path.startswith(EMBEDDED) or path.startswith("("):
        return path
    return PurePath(path).name
