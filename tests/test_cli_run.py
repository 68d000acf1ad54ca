"""`safer-streets run`: exit codes, the printed summary, the run folder, and one-line errors."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import BASELINE, REPO

from simulator.cli import cli
from simulator.report import RUN_ENTRIES

RUN_FILES = RUN_ENTRIES - {"forces.csv"}  # forces.csv only where the areas span several forces
RUN_CHARTS = {
    "allocation_by_district.png",
    "eligibility_rules.png",
    "lorenz_curve.png",
    "budget_curve.png",
    "map_harm_rate.png",
    "map_eligibility.png",
    "map_allocation.png",
    "uncertainty_plans.png",
    "uncertainty_by_area.png",
    "uncertainty_tornado.png",
}


@pytest.fixture
def runner():
    return CliRunner()


def test_run_without_scenario_runs_the_kent_baseline(runner, tmp_path, monkeypatch):
    """From the project folder, `run` alone runs the Kent baseline and writes the whole folder."""
    monkeypatch.chdir(REPO)
    out = tmp_path / "baseline"
    result = runner.invoke(cli, ["run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {path.name for path in out.iterdir()} == RUN_FILES
    assert {path.name for path in (out / "charts").iterdir()} == RUN_CHARTS
    assert "Medway" in result.stdout and "Against simple splits" in result.stdout
    flowing = " ".join(result.stdout.split())
    assert "90% interval" in flowing and "over 1,000 draws of counts (each area's rate and negative binomial noise" in flowing
    assert result.stderr == ""


def test_draws_option_sets_the_monte_carlo_draws(runner, tmp_path):
    out = tmp_path / "few"
    result = runner.invoke(cli, ["run", str(BASELINE), "--draws", "50", "--out", str(out), "--no-charts"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["draws"] == 50
    assert "over 50 draws of" in result.stdout
    rows = (out / "uncertainty.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("area_code,area_name,eligible,p_eligible,marginal,p_funded")
    assert len(rows) == 14


def test_too_few_draws_is_one_clear_error(runner, tmp_path):
    result = runner.invoke(cli, ["run", str(BASELINE), "--draws", "5", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "--draws" in result.stderr and "10<=x<=100000" in result.stderr
    assert not (tmp_path / "x").exists()


def test_marginal_verdicts_are_marked_in_the_printout_and_the_csv(runner, tmp_path):
    out = tmp_path / "marks"
    result = runner.invoke(cli, ["run", str(BASELINE), "--out", str(out), "--no-charts"])
    assert result.exit_code == 0, result.output
    rows = (out / "eligibility.csv").read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    assert header[:6] == ["area_code", "area_name", "eligible", "reason", "p_eligible", "marginal"]
    marginal = [line for line in rows[1:] if ",true," in line.split('"')[-1] or line.endswith(",true")]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["marginal_areas"], "the Kent baseline has knife-edge verdicts"
    for name in summary["marginal_areas"]:
        line = next(line for line in result.stdout.splitlines() if line.startswith(name))
        assert re.match(rf"{re.escape(name)}\s+(yes|no) \d+%", line), line
    assert marginal


def test_run_summary_has_the_required_keys(runner, tmp_path):
    """summary.json holds budget, allocated, harm averted, eligible areas, solver and status."""
    out = tmp_path / "run"
    result = runner.invoke(cli, ["run", str(BASELINE), "--out", str(out), "--no-charts"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    for key in ("budget_gbp", "allocated_gbp", "harm_averted_days", "eligible_areas", "solver", "status"):
        assert key in summary
    assert summary["status"] == "optimal"


def test_set_and_seed_are_applied_and_logged(runner, tmp_path):
    """--set and --seed change the run and are recorded in the manifest."""
    out = tmp_path / "run"
    result = runner.invoke(cli, ["run", str(BASELINE), "--out", str(out), "--no-charts", "--set", "budget_gbp=900000", "--seed", "7"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["budget_gbp"] == 900000 and manifest["seed"] == 7
    assert "budget_gbp: 1500000 -> 900000 (from --set)" in manifest["overrides"]


def test_rerun_from_manifest_reproduces_the_csvs(runner, tmp_path):
    """Running a manifest.json gives byte-identical CSVs and summary."""
    first, second = tmp_path / "first", tmp_path / "second"
    assert runner.invoke(cli, ["run", str(BASELINE), "--out", str(first), "--no-charts"]).exit_code == 0
    result = runner.invoke(cli, ["run", str(first / "manifest.json"), "--out", str(second), "--no-charts"])
    assert result.exit_code == 0, result.output
    for name in ("demand.csv", "eligibility.csv", "allocation.csv", "baselines.csv", "summary.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_cbc_gives_the_same_optimum(runner, tmp_path):
    """--solver cbc reaches the HiGHS optimum on the Kent baseline."""
    outs = {}
    for solver in ("highs", "cbc"):
        out = tmp_path / solver
        result = runner.invoke(cli, ["run", str(BASELINE), "--out", str(out), "--no-charts", "--solver", solver])
        assert result.exit_code == 0, result.output
        outs[solver] = json.loads((out / "summary.json").read_text())
    assert outs["cbc"]["harm_averted_days"] == pytest.approx(outs["highs"]["harm_averted_days"], rel=1e-6)


def test_own_run_folder_is_replaced_whole(runner, tmp_path):
    """A rerun into a run folder the tool wrote replaces it whole: charts from the first run do not linger."""
    out = tmp_path / "run"
    assert runner.invoke(cli, ["run", str(BASELINE), "--out", str(out)]).exit_code == 0
    assert (out / "charts").is_dir()
    assert runner.invoke(cli, ["run", str(BASELINE), "--out", str(out), "--no-charts"]).exit_code == 0
    assert not (out / "charts").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def child(tmp_path, body):
    return write(tmp_path, "what-if.toml", f'extends = "{BASELINE.as_posix()}"\n{body}\n')


def bad_counts(tmp_path):
    counts = write(tmp_path, "c.csv", "area_code,crime_type,count\nE06000035,Burglary,x\n")
    return child(tmp_path, f'[data]\ncrime_counts = "{counts.as_posix()}"')


BAD_CASES = {
    "missing scenario": (lambda t: t / "missing.toml", [], "file not found"),
    "malformed TOML": (lambda t: write(t, "bad.toml", "budget_gbp = = 1\n"), [], "is not valid TOML"),
    "unknown key": (lambda t: child(t, "budgte_gbp = 1"), [], "budgte_gbp: unknown key"),
    "negative budget": (lambda t: child(t, "budget_gbp = -500000"), [], "budget_gbp: is out of range"),
    "non-numeric budget": (lambda t: BASELINE, ["--set", "budget_gbp=lots"], "budget_gbp: must be a number"),
    "unknown district": (
        lambda t: child(t, '[shocks.s]\nareas = ["Kentish Town"]\nmultiplier = 2.0'),
        [],
        "shocks.s.areas: names an unknown area",
    ),
    "unknown crime type": (
        lambda t: child(t, '[shocks.s]\nareas = ["Medway"]\nmultiplier = 2.0\ncrime_types = ["Fraud"]'),
        [],
        "unknown crime type",
    ),
    "unknown metric": (
        lambda t: child(t, '[rounds.safer-streets-4.rules.asb_rate]\nmetric = "hotness"'),
        [],
        "rules.asb_rate.metric: is not one of the allowed values",
    ),
    "missing data file": (lambda t: child(t, '[data]\nareas = "nowhere.csv"'), [], "data file not found"),
    "bad data row": (lambda t: bad_counts(t), [], ":2: count: is not a number"),
    "unknown key in --set": (lambda t: BASELINE, ["--set", "allocation.slover=cbc"], "--set: allocation.slover: unknown key"),
    "extends cycle": (
        lambda t: (write(t, "b.toml", 'extends = "a.toml"\n'), write(t, "a.toml", 'extends = "b.toml"\n'))[1],
        [],
        "extends makes a cycle",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_is_one_line_exit_2_and_no_folder(runner, tmp_path, case):
    """Every bad input: exit 2, one 'error:' line naming the place, nothing on stdout, no run folder."""
    make, extra, expected = BAD_CASES[case]
    scenario = make(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(cli, ["run", str(scenario), "--out", str(out), *extra])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_debug_shows_the_traceback(runner, tmp_path):
    """--debug lets the error through with its traceback."""
    result = runner.invoke(cli, ["--debug", "run", str(tmp_path / "missing.toml")])
    assert result.exit_code != 0 and result.exception is not None


def test_every_command_has_help(runner):
    """Each command answers --help with its description."""
    for command in ([], ["run"], ["eligibility"], ["compare"]):
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_run_folder_is_not_left_private(runner, tmp_path):
    """The folder gets the usual permissions for new folders, not the temporary folder's owner-only ones."""
    import os
    import stat

    out = tmp_path / "shared"
    assert runner.invoke(cli, ["run", str(BASELINE), "--out", str(out), "--no-charts"]).exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask


def test_what_if_with_set_reruns_identically_from_its_manifest(runner, tmp_path):
    """A shocked scenario with --set overrides repeats from its manifest alone, CSVs byte for byte."""
    from conftest import SCENARIOS

    first, second = tmp_path / "first", tmp_path / "second"
    what_if = SCENARIOS / "kent-maidstone-violence-surge.toml"
    extra = ["--set", "budget_gbp=1_100_000", "--set", "interventions.cctv.enabled=false", "--seed", "11"]
    assert runner.invoke(cli, ["run", str(what_if), "--out", str(first), "--no-charts", *extra]).exit_code == 0
    result = runner.invoke(cli, ["run", str(first / "manifest.json"), "--out", str(second), "--no-charts"])
    assert result.exit_code == 0, result.output
    for name in ("demand.csv", "eligibility.csv", "allocation.csv", "baselines.csv", "summary.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_kent_lsoa_scenario_runs_end_to_end(runner, tmp_path):
    """The shipped small-area scenario: three district bids at the £550,000 cap, 1,107 LSOA verdicts."""
    from conftest import SCENARIOS

    out = tmp_path / "lsoa"
    result = runner.invoke(cli, ["run", str(SCENARIOS / "kent-lsoa-2024.toml"), "--out", str(out), "--no-charts"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["allocated_gbp"] == 1_650_000 and summary["eligible_areas"] == 226
    assert any(note.startswith("grant cap £550,000 reached in 3 bid(s)") for note in summary["binding_constraints"])
    assert "bid limit: 3 bids funded" in " ".join(summary["binding_constraints"])


def test_rerun_of_a_manifest_writes_beside_it_by_default(runner, tmp_path, monkeypatch):
    """`safer-streets run reports/x/manifest.json` (as the README shows) writes reports/x-repeat/, never over its own folder."""
    monkeypatch.chdir(tmp_path)
    first = tmp_path / "reports" / "kent-baseline"
    assert runner.invoke(cli, ["run", str(BASELINE), "--out", str(first), "--no-charts"]).exit_code == 0
    result = runner.invoke(cli, ["run", "reports/kent-baseline/manifest.json", "--no-charts"])
    assert result.exit_code == 0, result.output
    repeat = tmp_path / "reports" / "kent-baseline-repeat"
    assert (repeat / "allocation.csv").read_bytes() == (first / "allocation.csv").read_bytes()


def rerun_setup(runner, tmp_path):
    """A run that reads a user counts CSV, then that CSV edited."""
    import csv as csv_module

    counts = tmp_path / "counts.csv"
    with open(REPO / "simulator" / "data" / "kent_crime_by_type.csv", newline="", encoding="utf-8") as handle:
        rows = [row for row in csv_module.DictReader(handle) if row["period_start"] == "2025-06"]
    lines = ["area_code,crime_type,count"] + [f"{row['gss_code']},{row['crime_type']},{row['count']}" for row in rows]
    counts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scenario = tmp_path / "user.toml"
    scenario.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "user"\n[data]\ncrime_counts = "counts.csv"\n', encoding="utf-8")
    assert runner.invoke(cli, ["run", str(scenario), "--out", str(tmp_path / "first"), "--no-charts"]).exit_code == 0
    counts.write_text("\n".join(lines[:-1] + [lines[-1].rsplit(",", 1)[0] + ",1"]) + "\n", encoding="utf-8")
    return tmp_path / "first" / "manifest.json"


def test_changed_input_is_refused_and_accepted_on_request(runner, tmp_path):
    """A rerun after the counts changed stops naming the file; --accept-changed-inputs runs and records both hashes."""
    manifest = rerun_setup(runner, tmp_path)
    refused = runner.invoke(cli, ["run", str(manifest), "--out", str(tmp_path / "again"), "--no-charts"])
    assert refused.exit_code == 2 and "counts.csv" in refused.stderr and "--accept-changed-inputs" in refused.stderr
    assert not (tmp_path / "again").exists()
    accepted = runner.invoke(cli, ["run", str(manifest), "--out", str(tmp_path / "again"), "--no-charts", "--accept-changed-inputs"])
    assert accepted.exit_code == 0, accepted.output
    (change,) = json.loads((tmp_path / "again" / "manifest.json").read_text(encoding="utf-8"))["accepted_changed_inputs"]
    assert change["role"] == "crime_counts" and change["recorded_sha256"] != change["sha256"]


def test_eligibility_accepts_changed_inputs_on_request(runner, tmp_path):
    """The option the refusal names exists on eligibility too."""
    manifest = rerun_setup(runner, tmp_path)
    assert runner.invoke(cli, ["eligibility", str(manifest)]).exit_code == 2
    assert runner.invoke(cli, ["eligibility", str(manifest), "--accept-changed-inputs"]).exit_code == 0


def test_another_file_by_set_is_not_a_changed_input(runner, tmp_path):
    """Pointing a rerun at another counts file with --set is a recorded change, not a changed recorded file."""
    manifest = rerun_setup(runner, tmp_path)
    other = tmp_path / "counts.csv"
    copy = tmp_path / "counts2.csv"
    copy.write_bytes(other.read_bytes())
    result = runner.invoke(
        cli, ["run", str(manifest), "--out", str(tmp_path / "other"), "--no-charts", "--set", f'data.crime_counts="{copy.as_posix()}"']
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "other" / "summary.json").read_text(encoding="utf-8"))
    assert summary["command_line_overrides"] == ["data.crime_counts = 'counts2.csv' (was 'counts.csv')"]
    for name in ("report.md", "report.html", "summary.json"):
        assert str(tmp_path) not in (tmp_path / "other" / name).read_text(encoding="utf-8"), name


def test_manifest_without_inputs_is_refused(runner, tmp_path):
    """A manifest edited to record no input files cannot be checked, so its rerun is refused."""
    manifest = rerun_setup(runner, tmp_path)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["inputs"] = []
    manifest.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(manifest), "--out", str(tmp_path / "again"), "--no-charts"])
    assert result.exit_code == 2 and "records no input files" in result.stderr


def test_forecast_check_never_replaces_a_run_folder(runner, tmp_path):
    """A run folder is the tool's own, but not a forecast check's: `forecast-check --out` onto it is refused, and it stays."""
    out = tmp_path / "run"
    assert runner.invoke(cli, ["run", str(BASELINE), "--draws", "20", "--out", str(out), "--no-charts"]).exit_code == 0
    before = sorted(path.name for path in out.iterdir())
    result = runner.invoke(cli, ["forecast-check", str(BASELINE), "--out", str(out), "--no-charts"])
    assert result.exit_code == 2
    assert "holds a run this tool wrote, not a forecast check" in result.stderr
    assert sorted(path.name for path in out.iterdir()) == before


def test_forecast_check_without_history_names_the_key(runner, tmp_path):
    result = runner.invoke(cli, ["forecast-check", str(BASELINE), "--set", 'data.history=""', "--out", str(tmp_path / "f")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: data.history: has no monthly history")
    assert not (tmp_path / "f").exists()


def test_forecast_check_writes_its_folder(runner, tmp_path):
    out = tmp_path / "check"
    result = runner.invoke(cli, ["forecast-check", str(BASELINE), "--out", str(out), "--draws", "500"])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == ["charts", "forecast_check.csv", "forecast_summary.csv", "summary.json"]
    assert "Anti-social behaviour" in result.stdout and "of the crime-type totals fell inside" in result.stdout
    again = runner.invoke(cli, ["forecast-check", str(BASELINE), "--out", str(out), "--draws", "500"])
    assert again.exit_code == 0, again.output


def test_run_prints_the_optimality_line_and_the_rules_after_binding(runner, tmp_path):
    """After the Binding: lines come the certificate's sentence and each binding rule's effect, as summary.json words them."""
    out = tmp_path / "why"
    result = runner.invoke(cli, ["run", str(BASELINE), "--draws", "50", "--no-charts", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    flowing = " ".join(result.stdout.split())
    binding = flowing.rindex("Binding: ")
    optimality = flowing.index(summary["optimality"])
    assert binding < optimality < flowing.index("Rule: " + summary["rule_effects"][0]) < flowing.index("Wrote ")
    assert summary["optimality"].startswith("Optimal")


def test_objective_without_regret_prints_not_measured_and_counts_its_plans(runner, tmp_path):
    """Max-min: regret is not measured (it counts harm days), only the point plan is scored, and the line says why."""
    out = tmp_path / "maxmin"
    result = runner.invoke(
        cli, ["run", str(BASELINE), "--draws", "50", "--no-charts", "--out", str(out), "--set", "allocation.objective=maxmin"]
    )
    assert result.exit_code == 0, result.output
    assert "The plan on the same 50 draws (mean; worst 10% of draws; mean regret):" in result.stdout
    line = next(line for line in result.stdout.splitlines() if line.startswith("  point "))
    assert line.endswith("not measured  (chosen)")
    assert "The value of perfect information is not measured" in " ".join(result.stdout.split())
    plans = (out / "plans.csv").read_text(encoding="utf-8").splitlines()
    header = plans[0].split(",")
    assert len(plans) == 2 and plans[1].split(",")[header.index("mean_regret_days")] == ""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["perfect_information_days"] is None and summary["plans"]["point"]["mean_regret_days"] is None
    assert summary["objective"] == "maxmin" and summary["certificate"]["goal"] == "maxmin"


def test_jobs_two_gives_the_same_run(runner, tmp_path):
    """`run --jobs 2` writes the same figures as `--jobs 1`: the draws do not depend on where they ran."""
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        result = runner.invoke(cli, ["run", str(BASELINE), "--draws", "60", "--no-charts", "--jobs", jobs, "--out", str(out)])
        assert result.exit_code == 0, result.output
        outs.append(out)
    for name in ("allocation.csv", "uncertainty.csv", "plans.csv", "summary.json"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_ctrl_c_during_a_run_exits_130_and_writes_nothing(runner, tmp_path, monkeypatch):
    """Ctrl-C while the model runs: one line on stderr, exit 130, no run folder."""
    import simulator

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(simulator, "run", interrupted, raising=False)
    out = tmp_path / "stopped"
    result = runner.invoke(cli, ["run", str(BASELINE), "--out", str(out)])
    assert result.exit_code == 130, result.output
    assert result.stderr == "stopped (Ctrl-C); nothing was written\n"
    assert not out.exists()
