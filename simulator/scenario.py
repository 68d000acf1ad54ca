"""Scenario files to one resolved `Scenario`: the `extends` chain, `--set` overrides and their log.

Priority, lowest first: the files a scenario extends (in the order listed, each with its own
chain), then the scenario file itself, then `--set` overrides in the order given. Tables merge
key by key; scalars and arrays replace. Relative paths in `extends` and in `data.*` are taken
relative to the file that wrote them.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .schema import Scenario, build

PATH_KEYS = ("data.areas", "data.crime_counts", "data.tile_layout", "data.boundaries")
"""Keys holding file paths, resolved against the file that sets them."""


@dataclass(frozen=True)
class Override:
    """One value replaced while resolving a scenario, and where the new value came from."""

    key: str
    old: Any
    new: Any
    source: str

    def __str__(self) -> str:
        return f"{self.key}: {self.old!r} -> {self.new!r} (from {self.source})"


@dataclass(frozen=True)
class LoadedScenario:
    """A resolved scenario with the files it was built from and the overrides applied."""

    scenario: Scenario
    files: tuple[str, ...]
    overrides: tuple[Override, ...]
    resolved: dict


def load_scenario(path: str | Path, sets: tuple[str, ...] | list[str] = ()) -> LoadedScenario:
    """Read a scenario TOML file (or a run's manifest.json) and apply `--set KEY=VALUE` overrides."""
    path = Path(path)
    origins: dict[str, str] = {}
    log: list[Override] = []
    files: list[str] = []
    if path.suffix == ".json":
        merged = _read_manifest(path)
        _record_origins(merged, "", str(path), origins)
        files.append(str(path))
    else:
        merged = _resolve_file(path, (), origins, log, files)
    for assignment in sets:
        _apply_set(merged, assignment, origins, log)
    scenario = build(Scenario, merged, origin=lambda key: _origin_of(key, origins))
    return LoadedScenario(scenario, tuple(files), tuple(log), merged)


def parse_set(assignment: str) -> tuple[list[str], Any]:
    """Split `KEY=VALUE` into a key path and a value typed as TOML types it (bare text is a string)."""
    if "=" not in assignment:
        raise ConfigError("--set needs KEY=VALUE", key=assignment, expected="e.g. budget_gbp=1_200_000")
    key, _, value = assignment.partition("=")
    key, value = key.strip(), value.strip()
    try:
        parsed = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        raise ConfigError("--set key is not a valid dotted key", key=key,
                          hint='quote parts with spaces, e.g. harm.overrides."Anti-social behaviour"=2') from None
    path = []
    node: Any = parsed
    while isinstance(node, dict):
        (name, node), = node.items()
        path.append(name)
    try:
        typed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        typed = value
    return path, typed


def _resolve_file(path: Path, chain: tuple[Path, ...], origins: dict, log: list, files: list) -> dict:
    resolved_path = path.resolve()
    if resolved_path in chain:
        names = " → ".join(p.name for p in (*chain, resolved_path))
        raise ConfigError("extends makes a cycle", file=str(path), key="extends", got=names,
                          hint="remove one of the extends entries so the chain ends")
    data = _read_toml(path)
    parents = data.pop("extends", [])
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(item, str) for item in parents):
        raise ConfigError("extends must be a path or a list of paths", file=str(path), key="extends", got=parents)
    merged: dict = {}
    for parent in parents:
        parent_path = path.parent / parent
        if not parent_path.is_file():
            raise ConfigError("extends names a file that does not exist", file=str(path), key="extends",
                              got=parent, hint=f"paths are relative to {path.parent or '.'}")
        _merge(merged, _resolve_file(parent_path, (*chain, resolved_path), origins, log, files), "", origins, log, None)
    for key in PATH_KEYS:
        _resolve_path_key(data, key, path.parent)
    _merge(merged, data, "", origins, log, str(path))
    files.append(str(path))
    return merged


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path), hint="check the path, or run from the project folder") from None
    except IsADirectoryError:
        raise ConfigError("is a folder, not a scenario file", file=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("is not UTF-8 text", file=str(path), hint="save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"is not valid TOML: {error}", file=str(path),
                          hint="check quotes, brackets and '=' on that line") from None


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"is not valid JSON: {error}", file=str(path)) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("scenario"), dict):
        raise ConfigError("is not a run manifest", file=str(path), key="scenario",
                          hint="name the manifest.json inside a run folder, or a scenario .toml file")
    return manifest["scenario"]


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
            _record_origins(value, dotted, file, origins)


def _record_origins(value: Any, dotted: str, file: str, origins: dict) -> None:
    if dotted:
        origins[dotted] = file
    if isinstance(value, dict):
        for key, item in value.items():
            _record_origins(item, f"{dotted}.{key}" if dotted else key, file, origins)


def _apply_set(merged: dict, assignment: str, origins: dict, log: list) -> None:
    path, value = parse_set(assignment)
    node = merged
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError("--set goes inside a value that is not a table", key=".".join(path),
                              got=child, hint="set the value itself, not a key below it")
        node = child
    dotted = ".".join(path)
    old = node.get(path[-1])
    node[path[-1]] = value
    log.append(Override(dotted, old, value, "--set"))
    _record_origins(value, dotted, "--set", origins)


def _origin_of(key: str, origins: dict) -> str | None:
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        found = origins.get(".".join(parts[:end]))
        if found:
            return found
    return None
