"""What a fund actually awarded, round by round and district by district, read from a CSV with a source per row, and
the window of history before each round a back-test may use.

A back-test compares the model's choices with these. The file has one row per award:
`round, announced, district, area, amount_gbp, source_url, note` (and optionally `recipient`);
a combined award to several districts names them in one cell separated by "; ", because the
split between them was often not published. Every row is checked: the round must be one of the
scenario's rounds (`safer-streets-<round>`), the date a real `YYYY-MM-DD`, each district one of
the scenario's areas (by name or code), the amount in pounds (pence allowed), and the source given.

A row whose districts all belong to a combined award of the same round, and are fewer, is read as a
published part of it (its breakdown), not as another award: the round's total counts the combined
award once, and a combined award's one district without a published part gets the remainder
(`RoundSplit`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .datafiles import Table, columns_of, one_line, read_text, shown, whole_number
from .errors import DataError
from .inputs import month_range

COLUMNS = {
    "round": ("round",),
    "announced": ("announced",),
    "district": ("district",),
    "area": ("area",),
    "amount_gbp": ("amount_gbp",),
    "source_url": ("source_url",),
    "note": ("note",),
}
OPTIONAL = {"recipient": ("recipient",)}
DISTRICT_SEPARATOR = "; "
MOST_AWARD_GBP = 1_000_000_000
AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
"""An amount as the file must write it: ASCII digits, at most two decimals, no sign, exponent, comma or £."""
ROUND_PREFIX = "safer-streets-"


@dataclass(frozen=True)
class Award:
    """One award as published: its round, date, districts (one, or several for a combined award), place and amount."""

    round_id: str
    announced: datetime.date
    districts: tuple[str, ...]
    """Area codes of the districts the award went to, in the file's order."""
    area: str
    amount_gbp: float
    source_url: str
    note: str
    recipient: str
    line: int

    @property
    def combined(self) -> bool:
        """Whether the award went to several districts with no published split."""
        return len(self.districts) > 1


@dataclass(frozen=True)
class Awards:
    """Every award in one file, in file order."""

    file: str
    awards: tuple[Award, ...]

    def round_ids(self) -> tuple[str, ...]:
        """The rounds the file has awards for, in first-seen order."""
        return tuple(dict.fromkeys(award.round_id for award in self.awards))

    def in_round(self, round_id: str) -> tuple[Award, ...]:
        """The awards of one round."""
        return tuple(award for award in self.awards if award.round_id == round_id)

    def awarded_districts(self, round_id: str) -> tuple[str, ...]:
        """Codes of the districts awarded in a round (a combined award counts for each of its districts)."""
        return tuple(dict.fromkeys(code for award in self.in_round(round_id) for code in award.districts))

    def split(self, round_id: str) -> RoundSplit:
        """What the round paid in total and to each district, as far as the file says (`RoundSplit`); a DataError where a
        row is a part of two combined awards, or the parts of one add up to more than it."""
        awards = self.in_round(round_id)
        parts: dict[int, list[Award]] = {award.line: [] for award in awards if award.combined}
        wholes = [award for award in awards if award.combined]
        for award in awards:
            holders = [whole for whole in wholes if set(award.districts) < set(whole.districts)]
            if len(holders) > 1:
                raise DataError(
                    "is a part of two combined awards",
                    file=self.file,
                    line=award.line,
                    key="district",
                    got=DISTRICT_SEPARATOR.join(award.districts),
                    expected=f"districts within one combined award (lines {holders[0].line} and {holders[1].line} both hold them)",
                    hint="give each project its own row with its own districts",
                )
            if holders:
                parts[holders[0].line].append(award)
        inside = {part.line for found in parts.values() for part in found}
        known: dict[str, float] = {}
        how: dict[str, str] = {}
        unsplit = []

        def credit(code: str, amount: float, found: str) -> None:
            known[code] = known.get(code, 0.0) + amount
            how[code] = found if found == REMAINDER else how.get(code, found)

        for award in awards:
            if award.line in inside:
                continue
            if not award.combined:
                credit(award.districts[0], award.amount_gbp, PUBLISHED)
                continue
            pieces = parts[award.line]
            remainder = award.amount_gbp - sum(piece.amount_gbp for piece in pieces)
            if remainder < -0.005:
                raise DataError(
                    "has parts that add up to more than the combined award",
                    file=self.file,
                    line=award.line,
                    key="amount_gbp",
                    got=f"{award.amount_gbp:,.2f}",
                    expected=f"at least the {sum(piece.amount_gbp for piece in pieces):,.2f} of its parts on "
                    + ("line " if len(pieces) == 1 else "lines ")
                    + ", ".join(str(piece.line) for piece in pieces),
                    hint="check the amounts against their sources",
                )
            for piece in pieces:
                if piece.combined:
                    unsplit.append((piece.districts, piece.amount_gbp))
                    continue
                credit(piece.districts[0], piece.amount_gbp, PUBLISHED)
            rest = tuple(code for code in award.districts if not any(code in piece.districts for piece in pieces))
            if len(rest) == 1:
                credit(rest[0], remainder, REMAINDER)
            elif rest:
                unsplit.append((rest, remainder))
            elif remainder > 0.005:
                unsplit.append((award.districts, remainder))
        return RoundSplit(
            round_id=round_id,
            received_gbp=round(sum(award.amount_gbp for award in awards if award.line not in inside), 2),
            districts=self.awarded_districts(round_id),
            known=tuple((code, round(amount, 2)) for code, amount in known.items()),
            how=tuple(how.items()),
            unsplit=tuple(unsplit),
            parts=tuple(part for found in parts.values() for part in found),
        )


PUBLISHED = "published"
REMAINDER = "the remainder of a combined award after its published parts"


@dataclass(frozen=True)
class RoundSplit:
    """What one round paid: the total received (each combined award once), the amount per district where the file gives
    it (published, or the remainder of a combined award), and the combined amounts whose split is not published."""

    round_id: str
    received_gbp: float
    districts: tuple[str, ...]
    """Codes of every district awarded in the round, in file order."""
    known: tuple[tuple[str, float], ...]
    """(district code, £) where the file gives the district's amount."""
    how: tuple[tuple[str, str], ...]
    """(district code, PUBLISHED or REMAINDER): how each known amount was found."""
    unsplit: tuple[tuple[tuple[str, ...], float], ...]
    """(district codes, £) of combined amounts with no published split (the remainder of a combined award whose every
    district has a published part, where the parts fall short of it, is one too)."""
    parts: tuple[Award, ...] = ()
    """Rows read as published parts of a combined award of the round."""

    @property
    def fully_split(self) -> bool:
        """Whether every awarded district's amount is known (no combined amount without its split)."""
        return not self.unsplit

    def amount(self, code: str) -> float | None:
        """The district's amount: £ where known, 0 where not awarded, None inside a combined amount with no split."""
        found = dict(self.known)
        if code in found:
            return found[code]
        return None if code in self.districts else 0.0

    def how_known(self, code: str) -> str:
        """How the district's amount was found (PUBLISHED, REMAINDER), '' where not known or not awarded."""
        return dict(self.how).get(code, "")

    def combined_with(self, code: str) -> tuple[tuple[str, ...], float] | None:
        """The combined amount (its districts, £) that holds the district's unpublished share, or None."""
        return next((group for group in self.unsplit if code in group[0]), None)


def read_awards(location: str, districts: Mapping[str, str], round_ids: tuple[str, ...], key: str = "--awards") -> Awards:
    """The awards in a CSV file (a path or embedded:<name>), each district matched to a code by `districts` (name or
    code, either case, → code) and each round to one of `round_ids`; any bad row is one DataError naming file and line."""
    text, file = read_text(location, key)
    table = Table(text, file)
    columns = columns_of(table.header, COLUMNS, OPTIONAL, file)
    known = {name.casefold(): code for name, code in districts.items()}
    awards = []
    for line, row in table:
        cell = {name: row[column] for name, column in columns.items()}
        awards.append(
            Award(
                round_id=_round_id(cell["round"], round_ids, file, line, columns["round"]),
                announced=_date(cell["announced"], file, line, columns["announced"]),
                districts=_districts(cell["district"], known, districts, file, line, columns["district"]),
                area=one_line(cell["area"].strip(), file, line, columns["area"], "the area"),
                amount_gbp=_amount(cell["amount_gbp"], file, line, columns["amount_gbp"]),
                source_url=_source(cell["source_url"], file, line, columns["source_url"]),
                note=one_line(cell["note"].strip(), file, line, columns["note"], "the note"),
                recipient=one_line(cell.get("recipient", "").strip(), file, line, columns.get("recipient", "recipient"), "the recipient"),
                line=line,
            )
        )
    if not awards:
        raise DataError("has no awards", file=file, hint="add one row per award under the header")
    found = Awards(file, tuple(awards))
    for round_id in found.round_ids():
        found.split(round_id)
    return found


def _round_id(text: str, round_ids: tuple[str, ...], file: str, line: int, column: str) -> str:
    number = text.strip()
    round_id = f"{ROUND_PREFIX}{number}"
    if not number.isdigit() or round_id not in round_ids:
        numbers = [known[len(ROUND_PREFIX) :] for known in round_ids if known.startswith(ROUND_PREFIX)]
        raise DataError(
            "names a round the scenario does not have",
            file=file,
            line=line,
            key=column,
            got=shown(text),
            expected="one of " + ", ".join(numbers) if numbers else "a round number with a configs/rounds/safer-streets-<n>.toml file",
            hint="write the round's number (1 for safer-streets-1), or add the round's file under configs/rounds/",
        )
    return round_id


def _amount(text: str, file: str, line: int, column: str) -> float:
    """Pounds, pence allowed (74942.14): the whole-pound check of a data file's counts, on the amount with its pence
    taken off, so a thousands separator, a £ sign or a decimal comma is refused the same way."""
    pounds, _, pence = text.strip().partition(".")
    if not AMOUNT.fullmatch(text.strip()):
        raise DataError(
            "is not an amount in pounds and pence",
            file=file,
            line=line,
            key=column,
            got=shown(text),
            expected="pounds, with at most two decimals, e.g. 74942.14",
            hint="write plain digits without £ or spaces",
        )
    whole = whole_number(pounds, file, line, column, 0, MOST_AWARD_GBP, "an award in pounds, e.g. 111005 or 74942.14")
    amount = whole + (int(pence) / 10 ** len(pence) if pence else 0.0)
    if amount <= 0:
        raise DataError(
            "is an award of nothing",
            file=file,
            line=line,
            key=column,
            got=shown(text),
            expected="an amount above £0",
            hint="leave out a round or district that was not paid; the back-test reads every district without a row as unpaid",
        )
    return amount


def _date(text: str, file: str, line: int, column: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise DataError(
            "is not a date",
            file=file,
            line=line,
            key=column,
            got=shown(text),
            expected="a date as YYYY-MM-DD, e.g. 2021-06-03",
            hint="write the day the award was announced",
        ) from None


def _districts(text: str, known: dict[str, str], districts: Mapping[str, str], file: str, line: int, column: str) -> tuple[str, ...]:
    names = [name.strip() for name in text.split(DISTRICT_SEPARATOR.strip())]
    if not any(names):
        raise DataError(
            "names no district", file=file, line=line, key=column, expected="a district name or code", hint="fill in the district"
        )
    codes = []
    for name in names:
        code = known.get(name.casefold())
        if code is None:
            examples = ", ".join(sorted({name for name in districts if not name[:1].isdigit() and not name[1:2].isdigit()})[:4])
            raise DataError(
                "names no district of this scenario",
                file=file,
                line=line,
                key=column,
                got=shown(name),
                expected=f"a district name or code, e.g. {examples}",
                hint=f'separate the districts of a combined award with "{DISTRICT_SEPARATOR}"',
            )
        codes.append(code)
    return tuple(dict.fromkeys(codes))


def _source(text: str, file: str, line: int, column: str) -> str:
    source = text.strip()
    if not source:
        raise DataError(
            "has no source",
            file=file,
            line=line,
            key=column,
            expected="the address of the press release or page the award is published on",
            hint="every award needs its source, so a reader can check the figure",
        )
    return one_line(source, file, line, column, "the source")


@dataclass(frozen=True)
class RoundWindow:
    """The months of history a back-test of one round may use: the `length` months before the round's first
    announcement, those the history holds and lacks, and `used`, the latest unbroken run of held months, which the
    demand is built from (a data period is unbroken); `skipped` says why the round cannot be tested."""

    round_id: str
    announced: datetime.date
    months: tuple[str, ...]
    present: tuple[str, ...]
    missing: tuple[str, ...]
    used: tuple[str, ...] = ()
    skipped: str = ""


def round_windows(awards: Awards, history_months: tuple[str, ...], length: int = 12, least: int = 6) -> tuple[RoundWindow, ...]:
    """Each round's window: the `length` calendar months before its first announcement (the month of the
    announcement left out, as its records were not yet published), with the months the history holds and lacks. A
    round whose latest unbroken run of held months is shorter than `least` is skipped with its reason, so the other
    rounds can go on."""
    held = set(history_months)
    windows = []
    for round_id in awards.round_ids():
        announced = min(award.announced for award in awards.in_round(round_id))
        end = _month_before(announced.year, announced.month)
        months = _months_back(end, length)
        present = tuple(month for month in months if month in held)
        missing = tuple(month for month in months if month not in held)
        used = _latest_run(months, held)
        skipped = ""
        if len(used) < least:
            skipped = f"the history holds {len(present)} of the {length} months before {announced:%B %Y} ({months[0]} to {months[-1]})"
            if len(present) >= least:
                skipped += f", and its latest unbroken run is {len(used)} month{'s' if len(used) != 1 else ''}"
            skipped += f"; at least {least} months in a row are needed"
        windows.append(RoundWindow(round_id, announced, months, present, missing, used, skipped))
    return tuple(windows)


def _latest_run(months: tuple[str, ...], held: set[str]) -> tuple[str, ...]:
    """The latest run of consecutive months of `months` (oldest first) that are all in `held`."""
    run: list[str] = []
    for month in reversed(months):
        if month in held:
            run.append(month)
        elif run:
            break
    return tuple(reversed(run))


def _month_before(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _months_back(end: tuple[int, int], count: int) -> tuple[str, ...]:
    """`count` calendar months ending with `end` (year, month), oldest first, as YYYY-MM."""
    first = end[0] * 12 + end[1] - 1 - (count - 1)
    return month_range(f"{first // 12:04d}-{first % 12 + 1:02d}", f"{end[0]:04d}-{end[1]:02d}")
