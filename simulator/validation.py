"""The checker behind the schema: builds frozen dataclasses from parsed TOML, collecting every problem.

It refuses unknown keys (suggesting the closest known one), checks types, ranges and choices from
each field's metadata (`spec`), and names the file and dotted key of every problem. A table whose
fields must agree with each other defines `check_table(prefix, origin, problems)`, run once the
table is built. A problem that several keys cause together is blamed on `--set` if the command
line set any of them.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from collections.abc import Callable
from dataclasses import field
from typing import Any, Literal

from .errors import ConfigError

COMMAND_LINE = "--set"
"""The origin of a value given on the command line, as errors name it."""


def spec(default: Any = dataclasses.MISSING, doc: str = "", **checks: Any) -> Any:
    """A dataclass field with its documentation and range/choice checks in metadata."""
    metadata = {"doc": doc, **checks}
    if isinstance(default, (dict, list)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata=metadata)
    if default is dataclasses.MISSING:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


Origin = Callable[[str], str | None]


def build(cls: type, data: dict, origin: Origin = lambda key: None) -> Any:
    """Build `cls` from a parsed mapping, raising one ConfigError that carries every problem."""
    problems: list[ConfigError] = []
    value = build_dataclass(cls, data, "", origin, problems)
    if problems:
        raise ConfigError.collected(problems)
    return value


def problem(problems: list, origin: Origin, key: str, what: str, *, file: str | None = None, **parts: Any) -> None:
    shown = key if key.isprintable() else key.encode("unicode_escape").decode("ascii")  # the message stays one line
    problems.append(ConfigError(what, file=file or origin(key), key=shown, **parts))


def blame(origin: Origin, keys: list[str]) -> str | None:
    """The origin to name for a problem that several keys cause together: the command line if it set any of them."""
    origins = [origin(key) for key in keys]
    if COMMAND_LINE in origins:
        return COMMAND_LINE
    return next((found for found in origins if found), None)


def build_dataclass(cls: type, data: Any, prefix: str, origin: Origin, problems: list) -> Any:
    if not isinstance(data, dict):
        problem(problems, origin, prefix.rstrip(".") or "(top level)", "must be a table", got=data, expected="a TOML table")
        return None
    hints = typing.get_type_hints(cls)
    fields = {item.name: item for item in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(fields)}"
            problem(problems, origin, prefix + str(key), "unknown key", hint=hint)
    values = {}
    for name, item in fields.items():
        key = prefix + name
        if name in data:
            values[name] = _convert(hints[name], data[name], item.metadata, key, origin, problems)
        elif item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
            problem(problems, origin, key, "is required", expected=_describe(hints[name]), hint=item.metadata.get("doc") or None)
    if any(
        name not in values and fields[name].default is dataclasses.MISSING and fields[name].default_factory is dataclasses.MISSING
        for name in fields
    ):
        return None
    try:
        built = cls(**{name: value for name, value in values.items() if value is not _INVALID})
    except TypeError:
        return None
    check = getattr(built, "check_table", None)
    if check is not None:
        check(prefix, origin, problems)
    return built


_INVALID = object()
NUMBER_CHECKS = ("minimum", "maximum", "exclusive_minimum", "why_maximum")
"""The metadata keys that bound a number; a table of numbers passes them on to each value."""


def _convert(hint: Any, value: Any, meta: dict, key: str, origin: Origin, problems: list) -> Any:
    kind = typing.get_origin(hint)
    if kind in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)][0]
        return _convert(inner, value, meta, key, origin, problems)
    if dataclasses.is_dataclass(hint):
        built = build_dataclass(hint, value, key + ".", origin, problems)
        return _INVALID if built is None else built
    if kind is Literal:
        choices = typing.get_args(hint)
        if isinstance(value, (dict, list)) or value not in choices:
            close = difflib.get_close_matches(str(value), [str(choice) for choice in choices], n=1)
            problem(
                problems,
                origin,
                key,
                "is not one of the allowed values",
                got=value,
                expected=" or ".join(map(repr, choices)),
                hint=f"did you mean '{close[0]}'?" if close else None,
            )
            return _INVALID
        return value
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            allowed = [str(choice) for choice in meta.get("choices") or ()][:2] or ["Burglary", "Robbery"]
            example = "[" + ", ".join(f'"{item}"' for item in allowed) + "]"
            problem(problems, origin, key, "must be a list of strings", got=value, expected=f"e.g. {example}")
            return _INVALID
        if meta.get("nonempty") and not value:
            problem(problems, origin, key, "must not be empty", expected="at least one entry")
            return _INVALID
        choices = meta.get("choices")
        for item in value if choices else ():
            if item not in choices:
                _unknown_choice(problems, origin, key, item, choices, meta.get("noun", "crime type"))
                return _INVALID
        if len(set(value)) != len(value):
            problem(problems, origin, key, "lists an entry twice", got=value)
            return _INVALID
        return tuple(value)
    if kind is dict:
        if not isinstance(value, dict):
            problem(problems, origin, key, "must be a table", got=value, expected="a TOML table")
            return _INVALID
        value_type = typing.get_args(hint)[1]
        result = {}
        for sub_key, sub_value in value.items():
            dotted = f"{key}.{sub_key}"
            if meta.get("key_pattern") and not re.fullmatch(meta["key_pattern"], sub_key):
                problem(
                    problems,
                    origin,
                    dotted,
                    "is not a valid id",
                    got=sub_key,
                    expected=f"lower-case letters, digits, '_' (pattern {meta['key_pattern']})",
                )
                continue
            if meta.get("key_choices") and sub_key not in meta["key_choices"]:
                _unknown_choice(problems, origin, dotted, sub_key, meta["key_choices"], "crime type")
                continue
            before = len(problems)
            converted = _convert(value_type, sub_value, {k: v for k, v in meta.items() if k in NUMBER_CHECKS}, dotted, origin, problems)
            if converted is not _INVALID:
                result[sub_key] = converted
            if dataclasses.is_dataclass(value_type):
                _suggest_known_id(problems[before:], sub_key, [other for other in value if other != sub_key], key)
        return result
    return _convert_scalar(hint, value, meta, key, origin, problems)


def _suggest_known_id(found: list, entry: str, siblings: list[str], table: str) -> None:
    """A table entry missing required keys whose id is close to another entry's is most likely a typo of it: say so."""
    close = difflib.get_close_matches(entry, siblings, n=1)
    missing = [item for item in found if item.what == "is required"]
    if not close or not missing:
        return
    first = missing[0]
    first.hint = f"did you mean '{close[0]}'? a new entry under {table} needs every required key" + (
        f" ({first.hint})" if first.hint else ""
    )


def _convert_scalar(hint: Any, value: Any, meta: dict, key: str, origin: Origin, problems: list) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            problem(problems, origin, key, "must be true or false", got=value)
            return _INVALID
        return value
    if hint in (int, float):
        return _convert_number(hint, value, meta, key, origin, problems)
    if hint is str:
        if not isinstance(value, str):
            problem(problems, origin, key, "must be a string", got=value, expected="text in quotes")
            return _INVALID
        if meta.get("pattern") and not re.fullmatch(meta["pattern"], value):
            problem(problems, origin, key, "is not in the expected form", got=value, expected=f"pattern {meta['pattern']}")
            return _INVALID
        return value
    raise TypeError(f"schema type {hint!r} is not supported")


def _convert_number(hint: type, value: Any, meta: dict, key: str, origin: Origin, problems: list) -> Any:
    """A finite number within the field's bounds; a whole one for `int` fields (never a float, however round)."""
    noun = "a whole number" if hint is int else "a number"
    expected = range_text(noun, meta.get("minimum"), meta.get("maximum"), meta.get("exclusive_minimum", False))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problem(
            problems,
            origin,
            key,
            f"must be {noun}",
            got=value,
            expected=expected,
            hint="write numbers without quotes or £ signs, e.g. 1_500_000" if isinstance(value, str) else None,
        )
        return _INVALID
    if isinstance(value, float) and not math.isfinite(value):
        problem(
            problems,
            origin,
            key,
            "must be a finite number",
            got=value,
            expected=expected,
            hint="inf and nan are not allowed (a number too large to store, such as 1e400, reads as inf)",
        )
        return _INVALID
    if hint is int and isinstance(value, float):
        problem(
            problems,
            origin,
            key,
            "must be a whole number",
            got=value,
            expected=expected,
            hint=f"write it without a decimal point or exponent, e.g. {int(value)}" if value.is_integer() else None,
        )
        return _INVALID
    low, high = meta.get("minimum"), meta.get("maximum")
    too_low = low is not None and (value <= low if meta.get("exclusive_minimum") else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        problem(
            problems,
            origin,
            key,
            "is out of range",
            got=_shown(value),
            expected=expected,
            hint=meta.get("why_maximum") if too_high else None,
        )
        return _INVALID
    return hint(value)


def _shown(value: int | float) -> int | float | str:
    """A number as an error shows it: integers too long to read are cut to their first digits and length."""
    if isinstance(value, int) and abs(value) >= 10**30:
        digits = str(abs(value))
        return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:7]}e+{len(digits) - 1} (an integer of {len(digits)} digits)"
    return value


def range_text(noun: str, low: float | None, high: float | None, exclusive_minimum: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if exclusive_minimum else '>='} {_number_text(low)}")
    if high is not None:
        parts.append(f"<= {_number_text(high)}")
    return f"{noun} {' and '.join(parts)}" if parts else noun


def _number_text(number: float) -> str:
    if float(number).is_integer() and abs(number) < 1e16:
        return f"{int(number):,}"
    return f"{number:g}"


def _unknown_choice(problems: list, origin: Origin, key: str, item: str, choices: tuple, noun: str) -> None:
    close = difflib.get_close_matches(item, list(choices), n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"use one of the {len(choices)} police.uk categories"
    problem(problems, origin, key, f"unknown {noun}", got=item, hint=hint)


def _describe(hint: Any) -> str:
    kind = typing.get_origin(hint)
    if kind in (typing.Union, types.UnionType):
        return _describe([arg for arg in typing.get_args(hint) if arg is not type(None)][0]) + " (optional)"
    if kind is Literal:
        return " | ".join(map(repr, typing.get_args(hint)))
    if kind is tuple:
        return "list of strings"
    if kind is dict:
        return "table"
    return getattr(hint, "__name__", str(hint))
