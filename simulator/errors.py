"""The error types of the simulator.

Every problem a planner can fix (a bad file, key, value, rule or an infeasible scenario) is a
`SimulatorError`; its parts are attributes so that tests and callers need not parse the text,
and `str()` is one line: what is wrong, where, what was given, what is allowed, how to fix it.
"""

from __future__ import annotations


class SimulatorError(Exception):
    """A problem with the input that the user can fix; the CLI shows it as one line, exit 2."""

    def __init__(
        self,
        what: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        got: object = None,
        expected: str | None = None,
        hint: str | None = None,
        more: tuple[SimulatorError, ...] = (),
    ):
        self.what = what
        self.file = file
        self.line = line
        self.key = key
        self.got = got
        self.expected = expected
        self.hint = hint
        self.more = more
        super().__init__(self.message())

    @property
    def where(self) -> str:
        """The place as `file:line: key`, as much of it as is known."""
        place = self.file or ""
        if self.line is not None:
            place += f":{self.line}"
        if self.key:
            place = f"{place}: {self.key}" if place else self.key
        return place

    def message(self) -> str:
        """The one-line message, without the count of further problems."""
        text = f"{self.where}: {self.what}" if self.where else self.what
        details = []
        if self.got is not None:
            details.append(f"got {self.got!r}")
        if self.expected:
            details.append(f"expected {self.expected}")
        if details:
            text += f" ({'; '.join(details)})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def __str__(self) -> str:
        text = self.message()
        if self.more:
            text += f" (+{len(self.more)} more; --debug lists all)"
        return text

    def all_messages(self) -> list[str]:
        """This problem and every further one found in the same check."""
        return [self.message()] + [other.message() for other in self.more]

    @classmethod
    def collected(cls, problems: list[SimulatorError]) -> SimulatorError:
        """The first problem, carrying the rest, so one line reports all of them."""
        first = problems[0]
        first.more = tuple(problems[1:])
        return first


class ConfigError(SimulatorError):
    """A scenario or config file, key or value is wrong."""


class DataError(SimulatorError):
    """A data file is missing, unreadable, or has a bad header, row or value."""


class RuleError(SimulatorError):
    """An eligibility rule names an unknown metric, crime type or threshold."""


class InfeasibleError(SimulatorError):
    """The fund's and the planner's constraints cannot all hold at once."""


class InternalError(Exception):
    """An invariant of the model was broken: a bug, never the user's input."""
