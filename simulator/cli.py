"""The `safer-streets` command: a thin shell over the Python API.

Each command parses its options, makes one call into the API and prints a short summary. A
`SimulatorError` becomes `error: …` on stderr and exit code 2; anything else is a bug and says so.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from .errors import ConfigError, SimulatorError

DEFAULT_SCENARIO = Path("scenarios") / "kent-baseline.toml"
MANY_AREAS = 40


class SimulatorGroup(click.Group):
    """Maps the API's errors to one line and an exit code, in one place."""

    def invoke(self, ctx: click.Context):
        debug = ctx.params.get("debug", False)
        try:
            return super().invoke(ctx)
        except SimulatorError as error:
            if debug:
                for message in error.all_messages()[1:]:
                    click.echo(f"also: {message}", err=True)
                raise
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as error:  # a bug, not bad input
            if debug:
                raise
            click.echo(f"internal error: {type(error).__name__}: {error} (please report; rerun with --debug)", err=True)
            ctx.exit(1)


def scenario_argument(command):
    """The optional SCENARIO argument: a .toml scenario or a run's manifest.json."""
    return click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))(command)


def set_option(command):
    """Repeatable --set KEY=VALUE, typed as in a TOML file."""
    return click.option(
        "--set", "sets", multiple=True, metavar="KEY=VALUE",
        help='Override a scenario key, typed as in TOML: --set budget_gbp=1_200_000 --set fund_round="safer-streets-3".',
    )(command)


@click.group(cls=SimulatorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks and every problem found.")
@click.version_option(package_name="safer-streets-simulator")
def cli(debug: bool) -> None:
    """Safer Streets funding allocation simulator.

    Turns police.uk crime records into harm (Cambridge Crime Harm Index), checks which areas pass
    a Safer Streets round's area test, and splits a budget between eligible areas and
    crime-prevention interventions to avert the most harm.
    """


@cli.command()
@scenario_argument
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder to write (default: reports/<scenario name>).")
@set_option
@click.option("--seed", type=int, help="Seed for the Monte Carlo draws (overrides the scenario's).")
@click.option("--solver", type=click.Choice(["highs", "cbc", "greedy"]), help="Solver (overrides allocation.solver).")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts (the reports then have tables only).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the run folder.")
def run(scenario: Path | None, out: Path | None, sets: tuple[str, ...], seed: int | None,
        solver: str | None, no_charts: bool, quiet: bool) -> None:
    """Run a scenario and write its run folder.

    SCENARIO is a scenario .toml file or a previous run's manifest.json; without it, the Kent
    baseline (scenarios/kent-baseline.toml) is run. Writes manifest.json, demand.csv,
    eligibility.csv, allocation.csv, baselines.csv, summary.json, report.html, report.md and
    charts/*.png.
    """
    from . import load_scenario, run as run_model, write_run

    loaded = load_scenario(_scenario_path(scenario), _extra_sets(sets, seed, solver))
    result = run_model(loaded)
    folder = write_run(result, out or Path("reports") / loaded.scenario.name, charts=not no_charts)
    if quiet:
        click.echo(str(folder))
        return
    _print_run(result, folder)


@cli.command()
@scenario_argument
@set_option
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the verdicts to this CSV file.")
def eligibility(scenario: Path | None, sets: tuple[str, ...], csv_path: Path | None) -> None:
    """Show which areas pass the scenario's fund round area test, and why.

    SCENARIO is a scenario .toml file or a run's manifest.json; without it, the Kent baseline.
    """
    from . import assess_eligibility, load_scenario
    from .report import write_table
    from .result import eligibility_rows

    loaded = load_scenario(_scenario_path(scenario), sets)
    demand, verdict = assess_eligibility(loaded)
    fund_round = loaded.scenario.round
    click.echo(f"{fund_round.name}: {'every' if fund_round.combine == 'all' else 'any'} rule must pass "
               f"({demand.areas.force_name}, police.uk street-level records {demand.areas.period_start} to {demand.areas.period_end})")
    if len(verdict.names) > MANY_AREAS:
        areas = demand.areas
        for parent in sorted(set(areas.parents), key=lambda code: areas.parent_name(areas.parents.index(code))):
            members = [a for a, code in enumerate(areas.parents) if code == parent]
            passing = sum(1 for a in members if verdict.eligible.values[a])
            click.echo(f"  {areas.parent_name(members[0]):<24} {passing:>5} of {len(members):>5} {areas.level_name}s eligible")
        click.echo("  (every area's verdict and reason: --csv FILE)")
    else:
        for position, name in enumerate(verdict.names):
            mark = "eligible    " if verdict.eligible.values[position] else "not eligible"
            click.echo(f"  {name:<24} {mark}  {verdict.reasons[position].split(': ', 1)[1]}")
    click.echo(f"{len(verdict.eligible_codes):,} of {len(verdict.codes):,} areas eligible.")
    if fund_round.assumptions:
        click.echo(f"Note: {fund_round.assumptions}")
    if csv_path:
        write_table(csv_path, eligibility_rows(verdict))
        click.echo(f"Wrote {csv_path}")


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Comparison folder to write (default: reports/compare-<first>-vs-<second>).")
@set_option
@click.option("--solver", type=click.Choice(["highs", "cbc", "greedy"]), help="Solver for every run (overrides allocation.solver).")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts (the reports then have tables only).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the comparison folder.")
def compare(scenarios: tuple[Path, ...], out: Path | None, sets: tuple[str, ...], solver: str | None,
            no_charts: bool, quiet: bool) -> None:
    """Run two or more scenarios and compare each with the first.

    SCENARIOS are scenario .toml files or run manifests; the first is the reference. --set applies to
    every scenario. Writes comparison.csv (one row per area and scenario), totals.csv, summary.json,
    report.html, report.md, charts/*.png, and each scenario's own run folder under runs/.
    """
    from . import compare as compare_scenarios, load_scenario, write_comparison

    loaded = [load_scenario(path, _extra_sets(sets, None, solver)) for path in scenarios]
    with click.progressbar(length=len(loaded), label="Running scenarios", file=sys.stderr,
                           hidden=quiet or not sys.stderr.isatty(), item_show_func=lambda name: name) as bar:
        comparison = compare_scenarios(loaded, progress=lambda name: bar.update(1, name))
    labels = comparison.labels
    default = f"compare-{labels[0]}-vs-{labels[1]}" + (f"-and-{len(labels) - 2}-more" if len(labels) > 2 else "")
    folder = write_comparison(comparison, out or Path("reports") / default, charts=not no_charts)
    if quiet:
        click.echo(str(folder))
        return
    header = f"{'Scenario':<34} {'Budget':>11} {'Allocated':>11} {'Harm averted':>14} {'£/day':>7} {'Eligible':>8} {'Funded':>6}"
    click.echo(header)
    click.echo("-" * len(header))
    for row in comparison.totals_rows():
        click.echo(f"{row['scenario'][:34]:<34} {_pounds(row['budget_gbp']):>11} {_pounds(row['allocated_gbp']):>11} "
                   f"{row['harm_averted_days']:>9,.0f} days {row['gbp_per_harm_day_averted'] or 0:>7,.2f} "
                   f"{row['eligible_areas']:>8} {row['funded_areas']:>6}")
    click.echo("")
    for line in comparison.headlines():
        click.echo(line)
    click.echo(f"Wrote {folder}/")


@cli.group(name="import")
def import_group() -> None:
    """Turn downloaded crime data into a counts table a scenario can name."""


@import_group.command(name="police-uk")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV to write (counts per LSOA, month and crime type); its report goes beside it as <name>.import.json.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the files written.")
def import_police_uk(paths: tuple[Path, ...], out: Path, quiet: bool) -> None:
    """Import data.police.uk street-level crime files.

    PATHS are monthly *-street.csv files, folders of month folders, or the zip archive as
    downloaded. Rows are counted per LSOA, month and crime type, with the district taken from the
    LSOA name and the force from "Falls within". Every row is either counted or rejected with a
    reason (no LSOA, unknown crime type, duplicate crime ID, bad month, malformed line), and the
    report says how many of each and where the first ones are.
    """
    from .policeuk import import_street_files, street_files
    from .report import write_import

    with click.progressbar(length=max(len(street_files(list(paths))), 1), label="Reading street files", file=sys.stderr,
                           hidden=quiet or not sys.stderr.isatty(), item_show_func=lambda name: name) as bar:
        counts = import_street_files(list(paths), progress=lambda name: bar.update(1, name))
    table, report_path = write_import(counts, out)
    if quiet:
        click.echo(f"{table}\n{report_path}")
        return
    report = counts.report
    forces = ", ".join(f"{force} ({rows:,})" for force, rows in report.forces) or "none"
    months = (f"{report.months[0]} to {report.months[-1]} ({len(report.months)} month{'s' if len(report.months) != 1 else ''})"
              if report.months else "none")
    click.echo(f"Read {len(report.files)} street file{'s' if len(report.files) != 1 else ''}; months {months}; forces {forces}")
    click.echo(f"Rows read {report.rows_read:,} = counted {report.rows_aggregated:,} + rejected {report.rows_rejected:,}; "
               f"{report.lsoas:,} LSOAs")
    for crime_type, rows in report.rows_by_crime_type:
        click.echo(f"  {crime_type:<30} {rows:>10,}")
    for reason, rows in report.rejected:
        click.echo(f"Rejected, {reason}: {rows:,}")
    for crime_type, rows in report.unknown_crime_types:
        click.echo(f"  unknown crime type '{crime_type}': {rows:,}")
    for problem in report.examples[:5]:
        click.echo(f"  e.g. {problem.file}:{problem.line}: {problem.reason}: {problem.detail}")
    if report.files_skipped:
        click.echo(f"Skipped {len(report.files_skipped)} other file(s) (outcomes, stop and search, or repeats); listed in the report")
    click.echo(f"Wrote {table} and {report_path}")


def _scenario_path(scenario: Path | None) -> Path:
    if scenario is not None:
        return scenario
    if not DEFAULT_SCENARIO.is_file():
        raise ConfigError("no scenario given and the Kent baseline is not here", file=str(DEFAULT_SCENARIO),
                          hint="run from the project folder, or name a scenario file")
    return DEFAULT_SCENARIO


def _extra_sets(sets: tuple[str, ...], seed: int | None, solver: str | None) -> tuple[str, ...]:
    extra = list(sets)
    if seed is not None:
        extra.append(f"seed={seed}")
    if solver is not None:
        extra.append(f'allocation.solver="{solver}"')
    return tuple(extra)


def _print_run(result, folder: Path) -> None:
    summary = result.summary()
    click.echo(result.scenario.title)
    click.echo(f"{result.scenario.round.name} · {result.caption.split(' · ', 1)[1]}")
    click.echo("")
    header = f"{result.demand.areas.level_name:<22} {'Eligible':<9} {'Why':<44} {'Amount':>11} {'Harm averted':>14}"
    click.echo(header)
    click.echo("-" * len(header))
    amounts, averted = result.area_amounts(), result.area_averted()
    verdict = result.eligibility
    order = sorted(range(len(verdict.codes)), key=lambda a: (-amounts[a], verdict.names[a]))
    if len(order) > MANY_AREAS:
        funded = [a for a in order if amounts[a] > 0.005]
        unfunded = int(verdict.eligible.values.sum()) - len(funded)
        order = funded[:MANY_AREAS]
        left_out = len(funded) - len(order)
    for a in order:
        why = verdict.short_reason(a)
        why = why if len(why) <= 44 else why[:41] + "..."
        click.echo(f"{verdict.names[a]:<22} {'yes' if verdict.eligible.values[a] else 'no':<9} {why:<44} "
                   f"{_pounds(amounts[a]):>11} {averted[a]:>9,.0f} days")
    if len(verdict.codes) > MANY_AREAS:
        click.echo(f"  ({'and ' + str(left_out) + ' more funded areas; ' if left_out else ''}{unfunded} eligible areas unfunded, "
                   f"{len(verdict.codes) - int(verdict.eligible.values.sum())} not eligible: see eligibility.csv and allocation.csv)")
    click.echo("-" * len(header))
    low, high = summary["harm_averted_interval_days"]
    click.echo(f"{'Total':<77}{_pounds(summary['allocated_gbp']):>11} {summary['harm_averted_days']:>9,.0f} days")
    click.echo(f"  of a £{summary['budget_gbp']:,.0f} budget; {summary['harm_averted_interval_coverage']:.0%} interval "
               f"{low:,.0f} to {high:,.0f} harm days; £{summary['gbp_per_harm_day_averted'] or 0:,.2f} per harm day averted")
    click.echo("")
    click.echo("Against simple splits (same rules, same response curves):")
    for row in result.method_totals():
        share = row["harm_averted_vs_optimised_pct"]
        click.echo(f"  {row['method']:<10} {_pounds(row['allocated_gbp']):>11} {row['harm_averted_days']:>10,.0f} days"
                   f"  {'' if share is None else f'{share:5.1f} % of optimised'}")
    for note in summary["binding_constraints"]:
        click.echo(f"Binding: {note}")
    for warning in result.warnings():
        click.echo(f"Warning: {warning}")
    click.echo(f"Wrote {folder}{'' if str(folder).endswith('/') else '/'}")


def _pounds(value: float) -> str:
    return f"£{value:,.0f}"


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="safer-streets")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
