"""Scenario files to one resolved `Scenario`: the `extends` chain, `--set` overrides and their log.

Priority, lowest first: the files a scenario extends (in the order listed, each with its own
chain), then the scenario file itself, then `--set` overrides in the order given. Between files,
tables merge key by key and scalars and arrays replace; a `--set` replaces the value at its key,
a table included (so `--set 'harm.overrides={}'` clears a table). Relative paths in `extends`
and in `data.*` are taken relative to the file that wrote them.

A `--set` path must name keys the schema knows and, inside the keyed tables, entries that exist:
`interventions.<id>`, `rounds.<id>` and `rounds.<id>.rules.<rule>` are defined in files, so a
misspelt id is refused with a suggestion rather than read as a new, incomplete entry. A whole new
shock may be added as an inline table (`--set 'shocks.s={areas=["Medway"], multiplier=1.3}'`),
because a shock is itself a what-if; a key inside a shock that does not exist is refused.

A run with `--set` overrides is a different run: unless the overrides set `name` or `title`
themselves, the name gains a slug of the overrides (so the run gets its own folder) and the title
says what changed. Both are logged like any other override.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import json
import re
import tomllib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .schema import COMMAND_LINE, Scenario, build

PATH_KEYS = ("data.areas", "data.crime_counts", "data.forces", "data.tile_layout", "data.boundaries", "data.history", "data.awards")
"""Keys holding file paths, resolved against the file that sets them."""

NAME_LENGTH = 60
"""The longest name derived from a scenario's name and its overrides (a run folder's name)."""

DERIVED = "the --set overrides"
"""The source logged for the name and title that follow from the command-line overrides."""

KEYED_TABLES = {"interventions": "intervention", "rounds": "round", "rules": "rule", "shocks": "shock"}
"""Tables keyed by id that a `--set` path may go into only through an id that exists (a shock may be added whole)."""

BYTE_ORDER_MARK = "\ufeff"
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Override:
    """One value replaced while resolving a scenario, and where the new value came from."""

    key: str
    old: Any
    new: Any
    source: str

    def __post_init__(self) -> None:
        # Tables are shared with the scenario being resolved: keep the values as they were at this step.
        object.__setattr__(self, "old", copy.deepcopy(self.old))
        object.__setattr__(self, "new", copy.deepcopy(self.new))

    def __str__(self) -> str:
        return f"{self.key}: {self.old!r} -> {self.new!r} (from {self.source})"

    def describe(self) -> str:
        """The change in a planner's words, e.g. 'budget_gbp = 1200000 (was 1500000)'; files by their name only."""
        was = "not set" if self.old is None else repr(_file_name(self.key, self.old))
        return f"{self.key} = {_file_name(self.key, self.new)!r} (was {was})"

    def as_record(self) -> dict:
        """The override as a manifest stores it (`command_line` entries), so that a rerun reads it back."""
        return {"key": self.key, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class RecordedInput:
    """An input file as a run's manifest recorded it, to check that a rerun reads the same bytes."""

    role: str
    path: str
    sha256: str


@dataclass(frozen=True)
class LoadedScenario:
    """A resolved scenario with the files it was built from and the overrides applied.

    `command_line` holds the `--set` overrides exactly as given, in order (reports list them);
    `overrides` is the whole log, the name and title derived from them included.
    A scenario loaded from a manifest carries the command-line overrides of the run that wrote it
    (its `command_line` list) before any given now, so a rerun reports the same changes.
    `recorded_inputs` is what a manifest recorded about the files its run read (empty for a .toml
    scenario): whoever reads those files again compares their hashes with these, and refuses a
    difference unless `accept_changed_inputs` is true.
    """

    scenario: Scenario
    files: tuple[str, ...]
    overrides: tuple[Override, ...]
    resolved: dict
    command_line: tuple[Override, ...] = ()
    recorded_inputs: tuple[RecordedInput, ...] = ()
    accept_changed_inputs: bool = False

    @property
    def from_manifest(self) -> bool:
        """True when this is a rerun of a run's manifest.json."""
        return bool(self.files) and self.files[0].endswith(".json")

    @property
    def output_name(self) -> str:
        """The default output folder's name: the scenario's, or '<name>-repeat' for a rerun of a manifest, whose own
        folder holds the manifest and so cannot be replaced by the rerun."""
        return self.scenario.name + ("-repeat" if self.from_manifest else "")

    def changed_inputs(self, read: Iterable[tuple[str, str, str]]) -> tuple[ChangedInput, ...]:
        """The recorded inputs whose file now reads differently; `read` gives (role, path, sha256) of each file read now."""
        now = {(role, path): sha256 for role, path, sha256 in read}
        return tuple(
            ChangedInput(item.role, item.path, item.sha256, now[(item.role, item.path)])
            for item in self.recorded_inputs
            if (item.role, item.path) in now and now[(item.role, item.path)] != item.sha256
        )

    def check_inputs(self, read: Iterable[tuple[str, str, str]]) -> tuple[ChangedInput, ...]:
        """Refuse a rerun whose inputs changed since the manifest recorded them, unless accepted; returns the accepted changes."""
        if self.from_manifest and not self.recorded_inputs and not self.accept_changed_inputs:
            raise ConfigError(
                "records no input files, so a rerun cannot check that it reads what the run read",
                file=self.files[0],
                key="inputs",
                hint="restore the manifest the run wrote, or pass --accept-changed-inputs",
            )
        changed = self.changed_inputs(read)
        if changed and not self.accept_changed_inputs:
            first = changed[0]
            raise ConfigError(
                f"has changed since the run recorded it, so this would not repeat that run ({first.role.replace('_', ' ')})",
                file=first.path,
                key="inputs",
                got=f"SHA-256 {first.sha256[:12]}…, recorded {first.recorded_sha256[:12]}…",
                hint="restore the file, rerun the scenario .toml instead, or pass --accept-changed-inputs to run with it "
                "(the new manifest records the change)" + (f"; {len(changed) - 1} more input(s) changed too" if len(changed) > 1 else ""),
            )
        return changed


@dataclass(frozen=True)
class ChangedInput:
    """An input file whose bytes differ from what a run's manifest recorded."""

    role: str
    path: str
    recorded_sha256: str
    sha256: str


def load_scenario(path: str | Path, sets: tuple[str, ...] | list[str] = (), *, accept_changed_inputs: bool = False) -> LoadedScenario:
    """Read a scenario TOML file (or a run's manifest.json) and apply `--set KEY=VALUE` overrides.

    Args:
        accept_changed_inputs: rerun a manifest even if its input files have changed since (the
            rerun is then not exact); carried to whoever reads the files.
    """
    path = Path(path)
    origins: dict[str, str] = {}
    log: list[Override] = []
    files: list[str] = []
    recorded: tuple[RecordedInput, ...] = ()
    earlier: tuple[Override, ...] = ()
    if path.suffix == ".json":
        merged, recorded, earlier = _read_manifest(path)
        _record_origins(merged, "", str(path), origins)
        files.append(str(path))
    else:
        merged = _resolve_file(path, (), origins, log, files)
    command_line = [_apply_set(merged, assignment, origins) for assignment in sets]
    log += command_line
    if command_line:
        log += _name_the_run(merged, command_line, origins)
    scenario = build(Scenario, merged, origin=lambda key: _origin_of(key, origins) or str(path))
    return LoadedScenario(scenario, tuple(files), tuple(log), merged, (*earlier, *command_line), recorded, accept_changed_inputs)


def parse_set(assignment: str) -> tuple[list[str], Any]:
    """Split `KEY=VALUE` into a key path and a value typed as TOML types it (bare text is a string)."""
    if "=" not in assignment:
        raise ConfigError(
            "needs KEY=VALUE",
            file=COMMAND_LINE,
            got=assignment,
            expected="e.g. budget_gbp=1_200_000",
            hint="write the key, '=' and the value as one argument",
        )
    key, _, value = assignment.partition("=")
    key, value = key.strip(), value.strip()
    if not key:
        raise ConfigError("has no key before '='", file=COMMAND_LINE, got=assignment, expected="KEY=VALUE, e.g. budget_gbp=1_200_000")
    try:
        parsed = tomllib.loads(f"{key} = 0") if key.isprintable() else None
    except tomllib.TOMLDecodeError:
        parsed = None
    if parsed is None:
        raise ConfigError(
            "is not a valid dotted key",
            file=COMMAND_LINE,
            key=key if key.isprintable() else None,
            got=key,
            expected="names joined by dots, e.g. allocation.solver",
            hint='quote parts with spaces, e.g. harm.overrides."Anti-social behaviour"=2',
        )
    path = []
    node: Any = parsed
    while isinstance(node, dict) and len(node) == 1:
        ((name, node),) = node.items()
        path.append(name)
    if isinstance(node, dict) or any(not part or not part.isprintable() for part in path):
        raise ConfigError(
            "is not a valid dotted key",
            file=COMMAND_LINE,
            key=key if key.isprintable() else None,
            got=key,
            expected="non-empty names of printable characters joined by dots, e.g. allocation.solver",
        )
    try:
        document = tomllib.loads(f"v = {value}")
    except tomllib.TOMLDecodeError:
        return path, value
    except ValueError:  # an integer longer than Python will convert from text
        raise ConfigError(
            "is a number too long to read",
            file=COMMAND_LINE,
            key=".".join(path),
            got=f"{value[:20]}... ({len(value)} characters)",
            expected="a number of sensible size",
        ) from None
    return path, document["v"] if list(document) == ["v"] else value


def _resolve_file(path: Path, chain: tuple[Path, ...], origins: dict, log: list, files: list) -> dict:
    resolved_path = path.resolve()
    if resolved_path in chain:
        names = " → ".join(p.name for p in (*chain, resolved_path))
        raise ConfigError(
            "extends makes a cycle", file=str(path), key="extends", got=names, hint="remove one of the extends entries so the chain ends"
        )
    data = _read_toml(path)
    parents = data.pop("extends", [])
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(item, str) and item.strip() for item in parents):
        raise ConfigError(
            "must be a path or a list of paths",
            file=str(path),
            key="extends",
            got=parents,
            expected='a file name in quotes, or a list of them, e.g. extends = "../configs/kent.toml"',
        )
    merged: dict = {}
    for parent in parents:
        parent_path = path.parent / parent
        if parent_path.is_dir():
            raise ConfigError(
                "names a folder, not a scenario file",
                file=str(path),
                key="extends",
                got=parent,
                hint=f"name a .toml file inside it; paths are relative to {path.parent}",
            )
        if not parent_path.is_file():
            raise ConfigError(
                "names a file that does not exist", file=str(path), key="extends", got=parent, hint=f"paths are relative to {path.parent}"
            )
        _merge(merged, _resolve_file(parent_path, (*chain, resolved_path), origins, log, files), "", origins, log, None)
    for key in PATH_KEYS:
        _resolve_path_key(data, key, path.parent)
    _merge(merged, data, "", origins, log, str(path))
    files.append(str(path))
    return merged


def _read_text(path: Path, kind: str) -> str:
    """The file's text, decoded as UTF-8 with a leading byte-order mark (as Notepad writes) dropped."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path), hint="check the path, or run from the project folder") from None
    except IsADirectoryError:
        raise ConfigError(f"is a folder, not a {kind}", file=str(path), hint=f"name the {kind} inside it") from None
    except OSError as error:
        raise ConfigError(f"cannot be read: {error.strerror or error}", file=str(path), hint="check the file's permissions") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            "is not UTF-8 text", file=str(path), got=f"byte 0x{raw[error.start]:02x} at offset {error.start}", hint="save the file as UTF-8"
        ) from None
    return text.removeprefix(BYTE_ORDER_MARK)


def _read_toml(path: Path) -> dict:
    text = _read_text(path, "scenario file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"is not valid TOML: {error}", file=str(path), hint="check quotes, brackets and '=' on that line") from None
    except ValueError:  # an integer longer than Python will convert from text
        raise ConfigError(
            "holds a number too long to read (thousands of digits)", file=str(path), hint="check the numbers in the file"
        ) from None
    except RecursionError:
        raise ConfigError(
            "is nested too deeply to read (arrays or tables inside each other hundreds of times)",
            file=str(path),
            hint="a scenario needs tables at most a few levels deep",
        ) from None


def _read_manifest(path: Path) -> tuple[dict, tuple[RecordedInput, ...], tuple[Override, ...]]:
    text = _read_text(path, "run manifest")
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"is not valid JSON: {error}", file=str(path), hint="name the manifest.json inside a run folder, or a scenario .toml file"
        ) from None
    except ValueError:  # an integer longer than Python will convert from text
        raise ConfigError(
            "holds a number too long to read (thousands of digits)", file=str(path), hint="restore the manifest the run wrote"
        ) from None
    except RecursionError:
        raise ConfigError("is nested too deeply to be a run manifest", file=str(path), hint="restore the manifest the run wrote") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("scenario"), dict):
        raise ConfigError(
            "is not a run manifest",
            file=str(path),
            key="scenario",
            got=type(manifest).__name__ if not isinstance(manifest, dict) else type(manifest.get("scenario")).__name__,
            expected="a JSON object whose 'scenario' is the resolved scenario",
            hint="name the manifest.json inside a run folder, or a scenario .toml file",
        )
    return manifest["scenario"], _recorded_inputs(manifest, str(path)), _recorded_command_line(manifest, str(path))


def _recorded_command_line(manifest: dict, file: str) -> tuple[Override, ...]:
    """The command-line overrides of the run that wrote the manifest (`Override.as_record` entries; none if absent)."""
    entries = manifest.get("command_line", [])
    if not isinstance(entries, list):
        raise ConfigError("must be a list", file=file, key="command_line", got=entries, expected="a list of {key, old, new}")
    recorded = []
    for position, entry in enumerate(entries):
        key = f"command_line[{position}]"
        if not isinstance(entry, dict):
            raise ConfigError("must be an object", file=file, key=key, got=entry, expected="{key, old, new}")
        if not isinstance(entry.get("key"), str) or not entry["key"]:
            raise ConfigError(
                "is missing" if "key" not in entry else "must be non-empty text",
                file=file,
                key=f"{key}.key",
                got=entry.get("key"),
                expected="the dotted key the run's --set changed",
            )
        if "new" not in entry:
            raise ConfigError("is missing", file=file, key=f"{key}.new", expected="the value the run's --set gave")
        recorded.append(Override(entry["key"], entry.get("old"), entry["new"], COMMAND_LINE))
    return tuple(recorded)


def _recorded_inputs(manifest: dict, file: str) -> tuple[RecordedInput, ...]:
    """The manifest's list of input files (role, path, sha256), checked entry by entry."""
    if "inputs" not in manifest:
        raise ConfigError(
            "has no list of input files",
            file=file,
            key="inputs",
            expected="a list of {role, path, sha256}",
            hint="a run writes it; rerun the scenario .toml file instead of an edited manifest",
        )
    entries = manifest["inputs"]
    if not isinstance(entries, list):
        raise ConfigError("must be a list", file=file, key="inputs", got=entries, expected="a list of {role, path, sha256}")
    recorded = []
    for position, entry in enumerate(entries):
        key = f"inputs[{position}]"
        if not isinstance(entry, dict):
            raise ConfigError("must be an object", file=file, key=key, got=entry, expected="{role, path, sha256}")
        for name in ("role", "path"):
            if not isinstance(entry.get(name), str) or not entry[name]:
                raise ConfigError(
                    "is missing" if name not in entry else "must be non-empty text",
                    file=file,
                    key=f"{key}.{name}",
                    got=entry.get(name),
                    expected="text, as the run wrote it",
                )
        sha256 = entry.get("sha256")
        if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
            raise ConfigError(
                "is missing" if "sha256" not in entry else "is not a SHA-256 hash",
                file=file,
                key=f"{key}.sha256",
                got=sha256,
                expected="64 lower-case hex digits, as the run wrote them",
                hint="restore the manifest the run wrote, or rerun the scenario .toml file",
            )
        recorded.append(RecordedInput(entry["role"], entry["path"], sha256))
    return tuple(recorded)


def _resolve_path_key(data: dict, dotted: str, base: Path) -> None:
    section, _, name = dotted.partition(".")
    value = data.get(section, {}).get(name) if isinstance(data.get(section), dict) else None
    if isinstance(value, str) and value and not value.startswith("embedded:") and not Path(value).is_absolute():
        data[section][name] = str((base / value).resolve())


def _merge(target: dict, source: dict, prefix: str, origins: dict, log: list, file: str | None) -> None:
    """Merge `source` into `target` in place: tables recursively, everything else replaced."""
    for key, value in source.items():
        dotted = prefix + key
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, dotted + ".", origins, log, file)
            continue
        if file is not None and key in target and target[key] != value:
            log.append(Override(dotted, target[key], value, file))
        target[key] = value
        if file is not None:
            _forget_origins(dotted, origins)
            _record_origins(value, dotted, file, origins)


def _record_origins(value: Any, dotted: str, file: str, origins: dict) -> None:
    if dotted:
        origins[dotted] = file
    if isinstance(value, dict):
        for key, item in value.items():
            _record_origins(item, f"{dotted}.{key}" if dotted else key, file, origins)


def _forget_origins(dotted: str, origins: dict) -> None:
    """Drop the origins of everything under `dotted`, whose old value has just been replaced."""
    for key in [key for key in origins if key.startswith(dotted + ".")]:
        del origins[key]


def _apply_set(merged: dict, assignment: str, origins: dict) -> Override:
    path, value = parse_set(assignment)
    dotted = ".".join(path)
    _check_set_path(path, merged)
    node = merged
    for depth, part in enumerate(path[:-1]):
        if part not in node:
            node[part] = {}
            origins[".".join(path[: depth + 1])] = COMMAND_LINE
        child = node[part]
        if not isinstance(child, dict):
            raise ConfigError(
                "goes inside a value that is not a table",
                file=COMMAND_LINE,
                key=dotted,
                got=child,
                expected=f"{'.'.join(path[: depth + 1])} to be a table",
                hint=f"set {'.'.join(path[: depth + 1])} itself, not a key below it",
            )
        node = child
    old = node.get(path[-1])
    node[path[-1]] = value
    _forget_origins(dotted, origins)
    _record_origins(value, dotted, COMMAND_LINE, origins)
    return Override(dotted, old, value, COMMAND_LINE)


def _check_set_path(path: list[str], merged: dict) -> None:
    """Refuse a `--set` path through a key the schema does not know or an id that does not exist."""
    dotted = ".".join(path)
    kind: Any = Scenario
    node: Any = merged
    table = ""
    for depth, part in enumerate(path):
        here = ".".join(path[: depth + 1])
        if table:
            known = list(node) if isinstance(node, dict) else []
            into = depth < len(path) - 1
            if table in KEYED_TABLES and part not in known and (table != "shocks" or into):
                _refuse_unknown_id(dotted, KEYED_TABLES[table], part, known, here)
            table = ""
        elif dataclasses.is_dataclass(kind):
            hints = typing.get_type_hints(kind)
            if part not in hints:
                close = difflib.get_close_matches(part, list(hints), n=1)
                raise ConfigError(
                    "unknown key",
                    file=COMMAND_LINE,
                    key=dotted,
                    got=part,
                    expected=f"a key of {path[depth - 1] if depth else 'the scenario'}",
                    hint=f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(hints)}",
                )
            kind = _optional_inner(hints[part])
            if typing.get_origin(kind) is dict:
                table, kind = part, typing.get_args(kind)[1]
        else:
            raise ConfigError(
                "goes inside a value that is not a table",
                file=COMMAND_LINE,
                key=dotted,
                got=node,
                expected=f"{'.'.join(path[:depth])} is a single value",
                hint=f"set {'.'.join(path[:depth])} itself, not a key below it",
            )
        node = node.get(part) if isinstance(node, dict) else None


def _optional_inner(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [arg for arg in typing.get_args(hint) if arg is not type(None)][0]
    return hint


def _refuse_unknown_id(dotted: str, noun: str, given: str, known: list[str], table_key: str) -> None:
    close = difflib.get_close_matches(given, known, n=1)
    if close:
        hint = f"did you mean '{close[0]}'?"
    elif noun == "shock":
        hint = f"to add a shock, give it whole: --set '{table_key}={{areas=[\"Medway\"], multiplier=1.3}}'"
    else:
        hint = f"a new {noun} is defined in a scenario file, as a [{table_key}] table"
    expected = f"one of: {', '.join(known)}" if known else f"an existing {noun} (none is defined here)"
    raise ConfigError(f"unknown {noun} '{given}'", file=COMMAND_LINE, key=dotted, got=given, expected=expected, hint=hint)


# ---------------------------------------------------------------- naming a run with overrides


def derived_name(name: str, overrides: list[Override] | tuple[Override, ...]) -> str:
    """The scenario's name and a readable slug of the overrides, e.g. `kent-baseline-budget_gbp-1200000`.

    The slug uses only `[a-z0-9._-]`. It is left bare only when it spells a single override
    exactly and the name fits in NAME_LENGTH characters; otherwise (several overrides, text that
    had to change to fit the alphabet, or a name cut to length) it ends with 8 hex digits of a hash
    of all the overrides, so two different override sets never share a name.
    """
    raw = "-".join(f"{item.key}-{_slug_value(_file_name(item.key, item.new))}" for item in overrides)
    slug = re.sub(r"[^a-z0-9._-]+", "-", raw.lower()).strip("-._")
    full = f"{name}-{slug}" if slug else name
    if len(overrides) == 1 and slug == raw and len(full) <= NAME_LENGTH:
        return full
    canonical = json.dumps([[item.key, item.new] for item in overrides], sort_keys=True, default=str, ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
    return f"{full[: NAME_LENGTH - 9].rstrip('-._')}-{digest}"


def _file_name(key: str, value: Any) -> Any:
    """A file path as reports show it: its name, never the folders of the machine that ran it."""
    if key in PATH_KEYS and isinstance(value, str) and value and not value.startswith("embedded:"):
        return Path(value).name
    return value


def derived_title(title: str, overrides: list[Override] | tuple[Override, ...], shown: int = 3) -> str:
    """The scenario's title followed by what the overrides changed, e.g. `… — changed: budget_gbp = 1200000`."""
    changes = [f"{item.key} = {_shorten(_title_value(_file_name(item.key, item.new)))}" for item in overrides[:shown]]
    if len(overrides) > shown:
        changes.append(f"and {len(overrides) - shown} more")
    return f"{title} — changed: {', '.join(changes)}"


def _name_the_run(merged: dict, command_line: list[Override], origins: dict) -> list[Override]:
    """Give a run with overrides its own name and a title that says what changed, unless the overrides set them."""
    set_keys = {item.key for item in command_line}
    derived = []
    name, title = merged.get("name"), merged.get("title")
    if "name" not in set_keys and isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        derived.append(Override("name", name, derived_name(name, command_line), DERIVED))
    if "title" not in set_keys and isinstance(title, str):
        derived.append(Override("title", title, derived_title(title, command_line), DERIVED))
    for item in derived:
        merged[item.key] = item.new
        origins[item.key] = COMMAND_LINE
    return derived


def _shorten(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _slug_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "-".join(_slug_value(item) for item in value)
    if isinstance(value, dict):
        return "-".join(f"{key}-{_slug_value(item)}" for key, item in value.items())
    return str(value)


def _title_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_title_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_title_value(item)}" for key, item in value.items()) + "}"
    return str(value)


def _origin_of(key: str, origins: dict) -> str | None:
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        found = origins.get(".".join(parts[:end]))
        if found:
            return found
    return None
