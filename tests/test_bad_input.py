"""Every reachable bad input, through the command a planner types: one line, exit 2, nothing else touched.

Each case builds its inputs in a fresh working folder, runs one command there, and checks the whole
contract: exit code 2; stderr is exactly one line, beginning `error:` and naming the place (file,
line, key or option) given in the case; nothing on stdout; no traceback; and every file and folder
in the working folder exactly as it was before (nothing created, changed or removed, no staging
folder left behind).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BASELINE, REPO

from simulator.cli import cli

KENT_CODES = (
    "E07000105",
    "E07000106",
    "E07000107",
    "E07000108",
    "E07000109",
    "E07000110",
    "E07000111",
    "E07000112",
    "E07000113",
    "E07000114",
    "E07000115",
    "E07000116",
    "E06000035",
)
POLICE_UK_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
)
STREET_ROW = "abc123,2024-01,Kent Police,Kent Police,0.52,51.27,On or near High Street,E01024355,Maidstone 001A,Burglary,,"


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it in the working folder, the command, and what the error line must name."""

    make: Callable[[Path], list[str]]
    names: tuple[str, ...]
    also: tuple[str, ...] = field(default=())


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def scenario(folder: Path, body: str, name: str = "what-if.toml") -> Path:
    """A scenario extending the Kent baseline, with `body` added."""
    return write(folder, name, f'extends = "{BASELINE.as_posix()}"\nname = "what-if"\n{body}\n')


def run_with(body: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["run", str(scenario(folder, body)), "--no-charts"]


def run_set(*sets: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["run", str(BASELINE), "--no-charts", *[part for item in sets for part in ("--set", item)]]


def kent_counts(rows: list[str], header: str = "area_code,crime_type,count") -> str:
    return header + "\n" + "\n".join(rows) + "\n"


def valid_count_rows(extra: list[str] = ()) -> list[str]:
    return [f"{code},Burglary,10" for code in KENT_CODES] + list(extra)


def with_counts(text: str | bytes) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        write(folder, "counts.csv", text)
        return ["run", str(scenario(folder, '[data]\ncrime_counts = "counts.csv"')), "--no-charts"]

    return make


def kent_areas(rows: list[str] | None = None) -> str:
    import csv

    with open(REPO / "simulator" / "data" / "kent_districts.csv", newline="", encoding="utf-8") as handle:
        found = [f"{row['gss_code']},{row['district']},{row['population']}" for row in csv.DictReader(handle)]
    return "area_code,area_name,population\n" + "\n".join(rows if rows is not None else found) + "\n"


def with_areas(text: str | bytes) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        write(folder, "areas.csv", text)
        return ["run", str(scenario(folder, '[data]\nareas = "areas.csv"')), "--no-charts"]

    return make


def edited_areas(change: Callable[[list[str]], list[str]]) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        lines = kent_areas().splitlines()
        return with_areas("\n".join([lines[0], *change(lines[1:])]) + "\n")(folder)

    return make


def import_of(files: dict[str, str | bytes], out: str = "out.csv") -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        paths = [write(folder, name, text) for name, text in files.items()]
        return ["import", "police-uk", *map(str, paths[:1] if len(paths) == 1 else [folder / "data"]), "--out", str(folder / out)]

    return make


def user_folder(folder: Path) -> list[str]:
    write(folder, "mydata/notes.txt", "my notes")
    write(folder, "mydata/budget.csv", "line,amount\n1,500\n")
    return ["run", str(BASELINE), "--no-charts", "--out", str(folder / "mydata")]


def folder_holding_input(folder: Path) -> list[str]:
    path = scenario(folder, "", name="plans/what-if.toml")
    return ["run", str(path), "--no-charts", "--out", str(folder / "plans")]


def current_folder(folder: Path) -> list[str]:
    return ["run", str(BASELINE), "--no-charts", "--out", "."]


def out_is_file(folder: Path) -> list[str]:
    write(folder, "result", "not a folder")
    return ["run", str(BASELINE), "--no-charts", "--out", str(folder / "result")]


def csv_over_user_file(folder: Path) -> list[str]:
    write(folder, "verdicts.csv", "my,own\n1,2\n")
    return ["eligibility", str(BASELINE), "--csv", str(folder / "verdicts.csv")]


def csv_under_a_file(folder: Path) -> list[str]:
    write(folder, "blocker", "a file where a folder should be")
    return ["eligibility", str(BASELINE), "--csv", str(folder / "blocker" / "v.csv")]


def changed_input_rerun(folder: Path) -> list[str]:
    """A run of a scenario reading a user CSV, whose manifest is then rerun after the CSV changed."""
    write(folder, "areas.csv", kent_areas())
    path = scenario(folder, '[data]\nareas = "areas.csv"')
    runner = CliRunner()
    result = runner.invoke(cli, ["run", str(path), "--no-charts", "--quiet", "--out", str(folder / "first")])
    assert result.exit_code == 0, result.output
    write(folder, "areas.csv", kent_areas().replace(",132752", ",132753", 1))
    return ["run", str(folder / "first" / "manifest.json"), "--no-charts", "--out", str(folder / "again")]


def manifest(text: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["run", str(write(folder, "manifest.json", text)), "--no-charts"]


def import_out_over_user_file(folder: Path) -> list[str]:
    street = write(folder, "2024-01-kent-street.csv", f"{POLICE_UK_HEADER}\n{STREET_ROW}\n")
    write(folder, "kent.csv", "my,own,table\n")
    return ["import", "police-uk", str(street), "--out", str(folder / "kent.csv")]


def import_out_is_folder(folder: Path) -> list[str]:
    street = write(folder, "2024-01-kent-street.csv", f"{POLICE_UK_HEADER}\n{STREET_ROW}\n")
    (folder / "outdir").mkdir()
    return ["import", "police-uk", str(street), "--out", str(folder / "outdir")]


def not_a_zip(folder: Path) -> list[str]:
    path = write(folder, "download.zip", b"this is not a zip archive")
    return ["import", "police-uk", str(path), "--out", str(folder / "out.csv")]


def zip_without_street_files(folder: Path) -> list[str]:
    path = folder / "download.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("2024-01/2024-01-kent-outcomes.csv", "Crime ID,Month\n")
    return ["import", "police-uk", str(path), "--out", str(folder / "out.csv")]


def folder_without_street_files(folder: Path) -> list[str]:
    write(folder, "data/readme.txt", "nothing here")
    return ["import", "police-uk", str(folder / "data"), "--out", str(folder / "out.csv")]


LATIN1 = 'name = "caf\xe9"\n'.encode("latin-1")

CASES: dict[str, Case] = {
    # ---------------------------------------------------------------- the command line
    "scenario file missing": Case(lambda f: ["run", str(f / "missing.toml")], ("missing.toml",)),
    "scenario is a folder": Case(lambda f: ["run", str((f / "plans").mkdir() or f / "plans")], ("plans",)),
    "--set without =": Case(run_set("budget_gbp"), ("budget_gbp",)),
    "--set infinite budget": Case(run_set("budget_gbp=inf"), ("budget_gbp",)),
    "--set minus infinite budget": Case(run_set("budget_gbp=-inf"), ("budget_gbp",)),
    "--set NaN budget": Case(run_set("budget_gbp=nan"), ("budget_gbp",)),
    "--set absurd budget": Case(run_set("budget_gbp=1e300"), ("budget_gbp",)),
    "--set budget as words": Case(run_set("budget_gbp=lots"), ("budget_gbp",)),
    "--set unknown key": Case(run_set("allocation.slover=cbc"), ("allocation.slover",), ("solver",)),
    "--set unknown intervention": Case(run_set("interventions.cctvv.enabled=false"), ("cctvv",), ("cctv",)),
    "--set unknown round": Case(run_set("rounds.safer-streets-9.pot_gbp=1"), ("safer-streets-9",)),
    "--set unknown rule": Case(run_set("rounds.safer-streets-4.rules.asb_rat.threshold=2"), ("asb_rat",), ("asb_rate",)),
    "--set unknown fund round": Case(run_set('fund_round="safer-streets-9"'), ("fund_round",)),
    "--set negative seed": Case(run_set("seed=-1"), ("seed",)),
    "--set huge seed": Case(run_set("seed=" + "9" * 40), ("seed",)),
    "--set no draws": Case(run_set("demand.draws=0"), ("demand.draws",)),
    "--set unknown weight set": Case(run_set('harm.weight_set="css"'), ("harm.weight_set",)),
    "--set infinite harm weight": Case(run_set('harm.overrides."Burglary"=inf'), ("Burglary",)),
    "--set into a number": Case(run_set("budget_gbp.value=1"), ("budget_gbp",)),
    "--set a whole table to a number": Case(run_set("interventions=5"), ("interventions",)),
    "--set empty key": Case(run_set("=5"), ("--set",)),
    "--set zero segments": Case(run_set("allocation.segments=0"), ("allocation.segments",)),
    "--set greedy with a bid limit": Case(run_set('fund_round="safer-streets-3"', 'allocation.solver="greedy"'), ("allocation.solver",)),
    "--out is the current folder": Case(current_folder, ("--out",)),
    "--out is a folder of the user's": Case(user_folder, ("mydata", "notes.txt")),
    "--out holds an input": Case(folder_holding_input, ("plans", "what-if.toml")),
    "--out is a file": Case(out_is_file, ("result",)),
    "--csv over a file of the user's": Case(csv_over_user_file, ("verdicts.csv",)),
    "--csv under a file": Case(csv_under_a_file, ("blocker",)),
    "compare one scenario": Case(lambda f: ["compare", str(BASELINE)], ("compare",)),
    "compare a missing scenario": Case(lambda f: ["compare", str(BASELINE), str(f / "gone.toml")], ("gone.toml",)),
    "compare --out of the user's": Case(
        lambda f: user_folder(f)[-2:] and ["compare", str(BASELINE), str(BASELINE), "--no-charts", "--out", str(f / "mydata")], ("mydata",)
    ),
    "rerun with a changed input": Case(changed_input_rerun, ("areas.csv",)),
    "manifest is not JSON": Case(manifest("{not json"), ("manifest.json",)),
    "manifest is a list": Case(manifest("[1, 2]"), ("manifest.json",)),
    "manifest without a scenario": Case(manifest(json.dumps({"inputs": []})), ("manifest.json",)),
    # ---------------------------------------------------------------- scenario files (TOML)
    "malformed TOML": Case(lambda f: ["run", str(write(f, "bad.toml", "budget_gbp = = 1\n"))], ("bad.toml",)),
    "TOML not UTF-8": Case(lambda f: ["run", str(write(f, "latin.toml", LATIN1))], ("latin.toml",)),
    "unknown key": Case(run_with("budgte_gbp = 1"), ("budgte_gbp",), ("budget_gbp",)),
    "negative budget": Case(run_with("budget_gbp = -500000"), ("budget_gbp",)),
    "budget in quotes": Case(run_with('budget_gbp = "£1.5m"'), ("budget_gbp",)),
    "infinite budget in a file": Case(run_with("budget_gbp = inf"), ("budget_gbp",)),
    "extends a missing file": Case(lambda f: ["run", str(write(f, "s.toml", 'extends = "nowhere.toml"\n'))], ("extends",)),
    "extends a number": Case(lambda f: ["run", str(write(f, "s.toml", "extends = 5\n"))], ("extends",)),
    "extends cycle": Case(
        lambda f: (write(f, "b.toml", 'extends = "a.toml"\n'), ["run", str(write(f, "a.toml", 'extends = "b.toml"\n'))])[1], ("extends",)
    ),
    "unknown metric": Case(run_with('[rounds.safer-streets-4.rules.asb_rate]\nmetric = "hotness"'), ("metric",)),
    "percentile of 0": Case(
        run_with('[rounds.safer-streets-4.rules.asb_rate]\nthreshold_kind = "percentile"\nthreshold = 0'), ("threshold",)
    ),
    "percentile above 100": Case(
        run_with('[rounds.safer-streets-4.rules.asb_rate]\nthreshold_kind = "percentile"\nthreshold = 150'), ("threshold",)
    ),
    "rank of 2.5": Case(run_with('[rounds.safer-streets-4.rules.asb_rate]\nthreshold_kind = "rank"\nthreshold = 2.5'), ("threshold",)),
    "shock in an unknown district": Case(run_with('[shocks.s]\nareas = ["Kentish Town"]\nmultiplier = 2.0'), ("shocks.s.areas",)),
    "shock of infinite size": Case(run_with('[shocks.s]\nareas = ["Medway"]\nmultiplier = inf'), ("shocks.s.multiplier",)),
    "shock on an unknown crime type": Case(
        run_with('[shocks.s]\nareas = ["Medway"]\nmultiplier = 2.0\ncrime_types = ["Fraud"]'), ("crime_types",)
    ),
    "effects above 100 %": Case(run_with("[interventions.cctv]\nmax_reduction = 0.99"), ("interventions",)),
    "period ends before it starts": Case(run_with('[data]\nperiod_start = "2026-05"\nperiod_end = "2025-06"'), ("period",)),
    "period in the wrong form": Case(run_with('[data]\nperiod_start = "June 2025"'), ("data.period_start",)),
    "harm override for an unknown type": Case(run_with('[harm.overrides]\n"Fraud" = 5'), ("Fraud",)),
    # ---------------------------------------------------------------- data files (CSV, GeoJSON)
    "count not a number": Case(with_counts(kent_counts(valid_count_rows(["E07000105,Robbery,x"]))), ("counts.csv:15",)),
    "count absurdly large": Case(with_counts(kent_counts(valid_count_rows(["E07000105,Robbery,1e300"]))), ("counts.csv:15",)),
    "count infinite": Case(with_counts(kent_counts(valid_count_rows(["E07000105,Robbery,inf"]))), ("counts.csv:15",)),
    "count negative": Case(with_counts(kent_counts(valid_count_rows(["E07000105,Robbery,-3"]))), ("counts.csv:15",)),
    "count with a decimal": Case(with_counts(kent_counts(valid_count_rows(["E07000105,Robbery,2.5"]))), ("counts.csv:15",)),
    "short row": Case(with_counts(kent_counts(valid_count_rows(["E07000105,Robbery"]))), ("counts.csv:15",)),
    "long row": Case(with_counts(kent_counts(valid_count_rows(["E07000105,Robbery,3,extra"]))), ("counts.csv:15",)),
    "unknown crime type in counts": Case(with_counts(kent_counts(valid_count_rows(["E07000105,Fraud,3"]))), ("counts.csv:15",)),
    "unknown area in counts": Case(with_counts(kent_counts(valid_count_rows(["E09000001,Robbery,3"]))), ("counts.csv:15",)),
    "repeated count row": Case(with_counts(kent_counts(valid_count_rows(["E07000105,Burglary,3"]))), ("counts.csv:15",)),
    "counts without a count column": Case(with_counts("area_code,crime_type,number\nE07000105,Burglary,1\n"), ("counts.csv",)),
    "counts file empty": Case(with_counts(""), ("counts.csv",)),
    "counts file not UTF-8": Case(with_counts(b"area_code,crime_type,count\nE07000105,Burglary,\xff\n"), ("counts.csv",)),
    "counts file binary": Case(with_counts(bytes(range(256)) * 4), ("counts.csv",)),
    "counts for another period": Case(
        with_counts(
            kent_counts([f"{c},Burglary,1,2020-01,2020-12" for c in KENT_CODES], "area_code,crime_type,count,period_start,period_end")
        ),
        ("counts.csv",),
    ),
    "counts file missing": Case(run_with('[data]\ncrime_counts = "nowhere.csv"'), ("nowhere.csv",)),
    "area code twice": Case(edited_areas(lambda rows: rows + [rows[0].replace(rows[0].split(",")[1], "Elsewhere")]), ("areas.csv",)),
    "area name twice": Case(edited_areas(lambda rows: rows + ["E07999999," + rows[0].split(",")[1] + ",1000"]), ("areas.csv",)),
    "population zero": Case(edited_areas(lambda rows: [rows[0].rsplit(",", 1)[0] + ",0", *rows[1:]]), ("areas.csv:2",)),
    "population not a number": Case(edited_areas(lambda rows: [rows[0].rsplit(",", 1)[0] + ",nan", *rows[1:]]), ("areas.csv:2",)),
    "population absurd": Case(edited_areas(lambda rows: [rows[0].rsplit(",", 1)[0] + ",1e12", *rows[1:]]), ("areas.csv:2",)),
    "area table header only": Case(with_areas("area_code,area_name,population\n"), ("areas.csv",)),
    "tile layout missing areas": Case(
        lambda f: (write(f, "tiles.csv", f"area_code,row,column\n{KENT_CODES[0]},0,0\n"), run_with('[data]\ntile_layout = "tiles.csv"')(f))[
            1
        ],
        ("tiles.csv",),
    ),
    "boundaries not JSON": Case(
        lambda f: (write(f, "b.geojson", "{oops"), run_with('[data]\nboundaries = "b.geojson"')(f))[1], ("b.geojson",)
    ),
    "boundaries a JSON list": Case(
        lambda f: (write(f, "b.geojson", "[]"), run_with('[data]\nboundaries = "b.geojson"')(f))[1], ("b.geojson",)
    ),
    # ---------------------------------------------------------------- police.uk street files
    "import a missing path": Case(lambda f: ["import", "police-uk", str(f / "nowhere.zip"), "--out", str(f / "o.csv")], ("nowhere.zip",)),
    "import a wrong header": Case(
        import_of({"2024-01-kent-street.csv": "Month,Crime type\n2024-01,Burglary\n"}), ("2024-01-kent-street.csv",)
    ),
    "import an empty file": Case(import_of({"2024-01-kent-street.csv": ""}), ("2024-01-kent-street.csv",)),
    "import only header-only files": Case(
        import_of(
            {
                "data/2024-01/2024-01-kent-street.csv": POLICE_UK_HEADER + "\n",
                "data/2024-02/2024-02-kent-street.csv": POLICE_UK_HEADER + "\n",
            }
        ),
        ("street",),
    ),
    "import a file that is not a zip": Case(not_a_zip, ("download.zip",)),
    "import a zip with no street files": Case(zip_without_street_files, ("download.zip",)),
    "import a folder with no street files": Case(folder_without_street_files, ("data",)),
    "import a file that is not UTF-8": Case(
        import_of({"2024-01-kent-street.csv": POLICE_UK_HEADER.encode() + b"\n\xff\xfe,\n"}), ("2024-01-kent-street.csv",)
    ),
    "import --out over a file of the user's": Case(import_out_over_user_file, ("kent.csv",)),
    "import --out is a folder": Case(import_out_is_folder, ("outdir",)),
}


def snapshot(folder: Path) -> dict[str, str]:
    """Every path below `folder`, hidden ones included, with a hash of each file's bytes."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        for path in sorted(folder.rglob("*"))
    }


def test_there_are_at_least_sixty_cases():
    """The module covers the command line, scenario files, data files and police.uk files: 60 cases or more."""
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_one_line_and_exit_2(name, tmp_path, monkeypatch):
    """One `error:` line naming the place, exit 2, empty stdout, no traceback, and the working folder untouched."""
    case = CASES[name]
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    arguments = case.make(work)
    before = snapshot(work)
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 2, f"{name}: exit {result.exit_code}\n{result.output}"
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for expected in case.names + case.also:
        assert expected in lines[0], f"{name}: '{expected}' not in {lines[0]!r}"
    assert snapshot(work) == before, f"{name}: files changed"
