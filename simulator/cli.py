"""The `safer-streets` command: a thin shell over the Python API.

Each command parses its options, makes one call into the API and prints a short summary. A
`SimulatorError` becomes `error: …` on stderr and exit code 2; anything else is a bug and says so.
"""

from __future__ import annotations

import os
import shlex
import sys
import textwrap
from pathlib import Path

import click

from .errors import ConfigError, SimulatorError

DEFAULT_SCENARIO = Path("scenarios") / "kent-baseline.toml"
WIDTH = 100
"""Every line the commands print fits this many columns."""
PRINTED_RULES = 5
"""Binding rules whose effect `run` prints; the rest are in rules.csv."""
DEBUG = "safer_streets_debug"
STOPPED_EXIT = 130
"""The exit code after Ctrl-C (128 + SIGINT), as shells report an interrupted command."""


def _usage_error(error: click.UsageError) -> click.exceptions.Exit:
    """A mistyped command or option as one line, like every other error; a group named alone shows its help."""
    if isinstance(error, click.exceptions.NoArgsIsHelpError) and error.ctx is not None:
        click.echo(error.ctx.get_help())
        return click.exceptions.Exit(0)
    command = error.ctx.command_path if error.ctx else "safer-streets"
    click.echo(f"error: {error.format_message()} (see '{command} --help')", err=True)
    return click.exceptions.Exit(2)


class SimulatorGroup(click.Group):
    """Maps the API's errors to one line and an exit code, in one place."""

    def make_context(self, *args, **kwargs) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            raise _usage_error(error) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise _usage_error(error) from None
        except SimulatorError as error:
            if ctx.meta.get(DEBUG):
                for message in error.all_messages()[1:]:
                    click.echo(f"also: {message}", err=True)
                raise
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            if ctx.meta.get(DEBUG):
                raise
            click.echo("stopped (Ctrl-C); nothing was written", err=True)
            ctx.exit(STOPPED_EXIT)
        except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly, as other command-line tools do
            sys.stdout = open(os.devnull, "w")
            ctx.exit(0)
        except Exception as error:  # a bug, not bad input
            if ctx.meta.get(DEBUG):
                raise
            if type(error).__name__ == "Interrupted":  # execution.Interrupted: Ctrl-C while tasks ran elsewhere
                click.echo("stopped (Ctrl-C); nothing was written", err=True)
                ctx.exit(STOPPED_EXIT)
            click.echo(f"internal error: {type(error).__name__}: {error} (please report; rerun with --debug)", err=True)
            ctx.exit(1)


def _remember_debug(ctx: click.Context, param, value: bool) -> None:
    if value:
        ctx.meta[DEBUG] = True


def debug_option(command):
    """--debug, accepted before or after the command's name."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_remember_debug,
        help="Show full tracebacks and every problem found.",
    )(command)


def scenario_argument(command):
    """The optional SCENARIO argument: a .toml scenario or a run's manifest.json."""
    return click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))(command)


def set_option(command):
    """Repeatable --set KEY=VALUE, typed as in a TOML file."""
    return click.option(
        "--set",
        "sets",
        multiple=True,
        metavar="KEY=VALUE",
        help='Override a scenario key, typed as in TOML: --set budget_gbp=1_200_000 --set fund_round="safer-streets-3".',
    )(command)


def executor_options(command):
    """--jobs, --executor and --scheduler: where independent pieces of work (sweep points, Monte Carlo draws) run."""
    command = click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="The Dask scheduler's address for --executor dask, e.g. tcp://10.0.0.5:8786.",
    )(command)
    command = click.option(
        "--executor",
        "executor_kind",
        type=click.Choice(["local", "dask"]),
        default="local",
        show_default=True,
        help="Run the work in local processes (--jobs) or on a Dask cluster's workers (--scheduler); the figures are the same.",
    )(command)
    return click.option(
        "--jobs",
        "-j",
        type=int,
        default=1,
        show_default=True,
        help="Local processes to run the work in (1: this process). The figures do not depend on it.",
    )(command)


def _executor(kind: str, jobs: int, scheduler: str | None):
    """The executor the options ask for; a scheduler without the Dask executor is refused."""
    from .execution import Executor

    if scheduler and kind != "dask":
        raise ConfigError("is for the Dask executor", key="--scheduler", got=scheduler, hint="add --executor dask, or drop --scheduler")
    return Executor(kind, jobs, scheduler)


@click.group(cls=SimulatorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@debug_option
@click.version_option(package_name="safer-streets-simulator")
def cli() -> None:
    """Safer Streets funding allocation simulator.

    Turns police.uk crime records into harm (Cambridge Crime Harm Index), checks which areas pass
    a Safer Streets round's area test, and splits a budget between eligible areas and
    crime-prevention interventions to avert the most harm.
    """


@cli.command()
@scenario_argument
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder to write (default: reports/<scenario name>). An existing folder is replaced only if it is a "
    "run folder this tool wrote.",
)
@set_option
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Seed for the Monte Carlo draws (overrides the scenario's).")
@click.option(
    "--draws",
    type=click.IntRange(10, 100_000),
    help="Monte Carlo draws (overrides demand.draws): each samples every uncertain input, re-applies the rules and re-solves the split.",
)
@click.option("--solver", type=click.Choice(["highs", "cbc", "greedy"]), help="Solver (overrides allocation.solver).")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts (the reports then have tables only).")
@click.option(
    "--accept-changed-inputs", is_flag=True, help="Rerun a manifest even if an input file changed since (recorded in the new manifest)."
)
@executor_options
@click.option("--quiet", "-q", is_flag=True, help="Print only the run folder.")
@debug_option
def run(
    scenario: Path | None,
    out: Path | None,
    sets: tuple[str, ...],
    seed: int | None,
    draws: int | None,
    solver: str | None,
    no_charts: bool,
    accept_changed_inputs: bool,
    jobs: int,
    executor_kind: str,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Run a scenario and write its run folder.

    SCENARIO is a scenario .toml file or a previous run's manifest.json; without it, the Kent
    baseline (scenarios/kent-baseline.toml) is run. Writes manifest.json, demand.csv,
    eligibility.csv, allocation.csv, rules.csv, budget_curve.csv, baselines.csv, uncertainty.csv,
    plans.csv, tornado.csv, summary.json, report.html, report.md and charts/*.png. A rerun of a
    manifest.json refuses input files whose SHA-256 has changed. --jobs N (or --executor dask)
    runs the Monte Carlo's draws in N processes (or on a cluster), with the same figures.
    """
    executor = _executor(executor_kind, jobs, scheduler)
    from . import run as run_model
    from .drawing import chart_server
    from .report import check_output_folder, start_point_charts, write_run

    loaded = _load(_scenario_path(scenario), _extra_sets(sets, seed, solver, draws), accept_changed_inputs)
    folder = out or Path("reports") / loaded.output_name
    check_output_folder(folder, map(Path, loaded.files), "run")
    started = []
    with chart_server(not no_charts), _progress(4 + loaded.scenario.demand.draws, "Running", quiet) as bar:
        result = run_model(
            loaded,
            progress=lambda stage: bar.update(1, stage),
            draw_progress=bar.update,
            executor=executor,
            point_ready=None if no_charts else lambda point: started.append(start_point_charts(point)),
        )
        bar.update(1, "writing the run folder")
        folder = write_run(result, folder, charts=not no_charts, started=started[0] if started else None)
    if quiet:
        click.echo(str(folder))
        return
    _print_run(result, folder)


@cli.command()
@scenario_argument
@set_option
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every area's verdict, reason and rule values to this CSV file.",
)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Seed for the Monte Carlo draws (overrides the scenario's).")
@click.option(
    "--draws", type=click.IntRange(10, 100_000), help="Monte Carlo draws of the records behind the rates (overrides demand.draws)."
)
@click.option("--accept-changed-inputs", is_flag=True, help="Check a manifest's scenario even if an input file changed since its run.")
@debug_option
def eligibility(
    scenario: Path | None, sets: tuple[str, ...], csv_path: Path | None, seed: int | None, draws: int | None, accept_changed_inputs: bool
) -> None:
    """Show which areas pass the scenario's fund round area test, why, and how sure the verdict is.

    SCENARIO is a scenario .toml file or a run's manifest.json; without it, the Kent baseline.
    Each area's chance of passing comes from the Monte Carlo draws of the records behind the
    rates (the same draws a run makes); a verdict that flips in more than
    uncertainty.marginal_share of them is marked marginal.
    """
    from . import eligibility_odds

    loaded = _load(_scenario_path(scenario), _extra_sets(sets, seed, None, draws), accept_changed_inputs)
    demand, verdict, odds = eligibility_odds(loaded)
    if csv_path:
        from .report import write_csv_file
        from .result import eligibility_table

        write_csv_file(csv_path, eligibility_table(verdict, odds))
    fund_round = loaded.scenario.round
    _echo(
        f"{fund_round.name} ({demand.areas.force_name}, police.uk street-level records {demand.period_label}): "
        f"an area must pass {verdict.combine_words}"
    )
    for rule in verdict.rule_descriptions() or ("no area test: every area is eligible",):
        _echo(f"- {rule}", indent="  ")
    click.echo("")
    if verdict.many_areas:
        level = demand.areas.level_name
        for tally in verdict.by_parent():
            click.echo(f"  {_fit_name(tally.parent_name, 24):<24} {tally.eligible:>5,} of {tally.areas:>5,} {level}s eligible")
        click.echo("  (every area's verdict and reason: --csv FILE)")
    else:
        for position, name in enumerate(verdict.names):
            mark = "eligible" if verdict.eligible.values[position] else "not eligible"
            chance = f"{odds.p_eligible.values[position]:.0%}" + (" marginal" if odds.marginal[position] else "")
            click.echo(f"  {_fit_name(name, 24):<24} {mark:<12} {chance:<13} {_fit(verdict.short_reason(position), WIDTH - 55)}")
    marginal = int(odds.marginal.sum())
    click.echo(f"{len(verdict.eligible_codes):,} of {len(verdict.codes):,} areas eligible; {marginal:,} verdict(s) marginal.")
    _echo(
        f"  The percentage is the chance of passing over {odds.draws:,} draws of the records behind the rates; "
        f"marginal: the verdict flips in more than {odds.marginal_share:.0%} of them.",
        indent="  ",
    )
    if fund_round.assumptions:
        _echo(f"Note: {fund_round.assumptions}", indent="  ")
    if csv_path:
        click.echo(f"Wrote {csv_path}")


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Comparison folder to write (default: reports/compare-<first>-vs-<second>).",
)
@set_option
@click.option("--solver", type=click.Choice(["highs", "cbc", "greedy"]), help="Solver for every run (overrides allocation.solver).")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts (the reports then have tables only).")
@click.option(
    "--accept-changed-inputs", is_flag=True, help="Rerun manifests even if an input file changed since (recorded in the new manifests)."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the comparison folder.")
@debug_option
def compare(
    scenarios: tuple[Path, ...],
    out: Path | None,
    sets: tuple[str, ...],
    solver: str | None,
    no_charts: bool,
    accept_changed_inputs: bool,
    quiet: bool,
) -> None:
    """Run two or more scenarios and compare each with the first.

    SCENARIOS are scenario .toml files or run manifests; the first is the reference. --set applies to
    every scenario. Writes comparison.csv (one row per area and scenario), totals.csv, summary.json,
    report.html, report.md, charts/*.png, and each scenario's own run folder under runs/.
    """
    from . import compare as compare_scenarios
    from .drawing import chart_server
    from .experiments import comparison_name
    from .report import check_output_folder, write_comparison

    loaded = [_load(path, _extra_sets(sets, None, solver), accept_changed_inputs) for path in scenarios]
    folder = out or Path("reports") / comparison_name([item.scenario.name for item in loaded])
    check_output_folder(folder, [Path(name) for item in loaded for name in item.files], "comparison")
    with chart_server(not no_charts), _progress(len(loaded) + 1, "Running scenarios", quiet) as bar:
        comparison = compare_scenarios(loaded, progress=lambda name: bar.update(1, name))
        bar.update(1, "writing the comparison folder")
        folder = write_comparison(comparison, folder, charts=not no_charts)
    if quiet:
        click.echo(str(folder))
        return
    unit = comparison.reference.demand.weights.short_unit
    header = f"{'Scenario':<34} {'Budget':>11} {'Allocated':>11} {'Harm averted':>16} {'£/day' if unit == 'days' else '£/rec':>7} {'Eligible':>8} {'Funded':>6}"
    click.echo(header)
    click.echo("-" * len(header))
    for row in comparison.totals_rows():
        click.echo(
            f"{_fit(row['scenario'], 34):<34} {_pounds(row['budget_gbp']):>11} {_pounds(row['allocated_gbp']):>11} "
            f"{row['harm_averted_days']:>8,.0f} {unit[:7]:<7} {row['gbp_per_harm_day_averted'] or 0:>7,.2f} "
            f"{row['eligible_areas']:>8} {row['funded_areas']:>6}"
        )
    click.echo("")
    for line in comparison.headlines():
        _echo(line, indent="    " if line.startswith("  ") else "  ")
    click.echo(f"Wrote {folder}/")


@cli.command()
@scenario_argument
@click.option(
    "--vary",
    "variations",
    multiple=True,
    required=True,
    metavar="KEY=START:STOP:STEPS|KEY=A,B,C",
    help="A key to vary: STEPS evenly spaced values from START to STOP inclusive (whole numbers where both ends are), or "
    "a list of values typed as in TOML. Repeat for a grid of every combination.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Sweep folder to write (default: reports/sweep-<scenario name>-<keys>). An existing folder is replaced only if "
    "it is a sweep folder this tool wrote.",
)
@set_option
@click.option(
    "--draws",
    type=click.IntRange(10, 100_000),
    help="Run each point's Monte Carlo with this many draws (adds the interval of harm averted); without it a point runs "
    "at the point estimates only.",
)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Seed for the Monte Carlo draws (overrides the scenario's).")
@click.option("--solver", type=click.Choice(["highs", "cbc", "greedy"]), help="Solver for every point (overrides allocation.solver).")
@executor_options
@click.option("--no-charts", is_flag=True, help="Skip the PNG chart (the reports then have tables only).")
@click.option("--accept-changed-inputs", is_flag=True, help="Sweep a manifest's scenario even if an input file changed since its run.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the sweep folder.")
@debug_option
def sweep(
    scenario: Path | None,
    variations: tuple[str, ...],
    out: Path | None,
    sets: tuple[str, ...],
    draws: int | None,
    seed: int | None,
    solver: str | None,
    jobs: int,
    executor_kind: str,
    scheduler: str | None,
    no_charts: bool,
    accept_changed_inputs: bool,
    quiet: bool,
) -> None:
    """Run a scenario at every value of one or more keys, one row per point.

    SCENARIO (default: the Kent baseline) is run with each --vary value set as --set would set
    it; several --vary make a grid. Each point runs the inputs, the area test, the simple splits
    and the allocation; --draws N adds each point's Monte Carlo. A point whose rules cannot all
    hold, or whose value is refused, is a row saying why. Writes sweep.csv, allocations.csv,
    baselines.csv, summary.json, report.html (with a slider through the points), report.md and
    charts/sweep.png. Ctrl-C stops: the finished points are written, the rest marked stopped.
    """
    from .sweep import base_scenario, parse_variation, sweep_name

    executor = _executor(executor_kind, jobs, scheduler)
    varied = [parse_variation(spec) for spec in variations]
    path = _scenario_path(scenario)
    extra = _extra_sets(sets, seed, solver)
    base = base_scenario(path, varied, extra, accept_changed_inputs)
    folder = out or Path("reports") / sweep_name(base.scenario.name, varied)
    from .report import check_output_folder, write_sweep
    from .sweep import grid
    from .sweep import sweep as run_sweep

    check_output_folder(folder, map(Path, base.files), "sweep")
    with _progress(len(grid(varied)), "Sweeping", quiet) as bar:
        found = run_sweep(
            path,
            varied,
            executor,
            sets=extra,
            draws=draws,
            accept_changed_inputs=accept_changed_inputs,
            progress=lambda done: bar.update(done - bar.pos),
        )
    command = " ".join(
        ["safer-streets sweep", *([shlex.quote(str(scenario))] if scenario else [])]
        + [f"--vary {shlex.quote(spec)}" for spec in variations]
        + [f"--set {shlex.quote(item)}" for item in sets]
        + ([f"--draws {draws}"] if draws else [])
        + ([f"--seed {seed}"] if seed is not None else [])
        + ([f"--solver {solver}"] if solver else [])
    )
    folder = write_sweep(found, folder, command, charts=not no_charts)
    if found.stopped:
        done = len(found.points) - found.count("stopped")
        click.echo(f"stopped (Ctrl-C) after {done:,} of {len(found.points):,} points; wrote them to {folder}/", err=True)
        click.get_current_context().exit(STOPPED_EXIT)
    if quiet:
        click.echo(str(folder))
        return
    _print_sweep(found, folder)


def _print_sweep(found, folder: Path) -> None:
    keys = found.keys
    widths = [max(len(key), 10) for key in keys]
    header = "  ".join(f"{key:>{width}}" for key, width in zip(keys, widths))
    header += f"  {'Eligible':>8} {'Funded':>6} {'Allocated':>11} {'Harm averted':>12} {'£/day':>7}  Status"
    click.echo(header)
    click.echo("-" * min(len(header) + 10, WIDTH))
    for row, point in zip(found.rows(), found.points):
        values = "  ".join(f"{_fit(str(row[key]), width):>{width}}" for key, width in zip(keys, widths))
        if point.ok:
            per = "-" if point.gbp_per_harm_day is None else f"{point.gbp_per_harm_day:,.2f}"
            figures = (
                f"{point.eligible_areas:>8} {point.funded_bids:>6} {_pounds(point.allocated_gbp):>11} "
                f"{point.harm_averted_days:>12,.0f} {per:>7}  ok"
            )
        else:
            figures = f"{'':>8} {'':>6} {'':>11} {'':>12} {'':>7}  {_fit(point.status, max(WIDTH - len(values) - 52, 20))}"
        click.echo(f"{values}{figures}")
    failed = [point for point in found.points if not point.ok]
    for point in failed[:PRINTED_RULES]:
        _echo(f"  point {point.index + 1}: {point.status}", indent="    ")
    if len(failed) > PRINTED_RULES:
        click.echo(f"  (and {len(failed) - PRINTED_RULES:,} more points that did not run: see sweep.csv)")
    _echo(
        f"{found.count('ok'):,} of {len(found.points):,} points ran ({found.count('infeasible'):,} infeasible, "
        f"{found.count('invalid'):,} invalid) in {found.seconds:,.1f} s on {found.executor}; harm averted in {found.harm_unit}",
    )
    click.echo(f"Wrote {folder}{'' if str(folder).endswith('/') else '/'}")


@cli.command(name="forecast-check")
@scenario_argument
@set_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write (default: reports/forecast-check-<scenario name>). An existing folder is replaced only if this command wrote it.",
)
@click.option("--draws", type=click.IntRange(100, 100_000), default=4000, show_default=True, help="Predictive draws per held-out year.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Seed for the draws (overrides the scenario's).")
@click.option("--no-charts", is_flag=True, help="Skip the PNG chart.")
@click.option("--accept-changed-inputs", is_flag=True, help="Check a manifest's scenario even if an input file changed since its run.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the folder written.")
@debug_option
def forecast_check(
    scenario: Path | None,
    sets: tuple[str, ...],
    out: Path | None,
    draws: int,
    seed: int | None,
    no_charts: bool,
    accept_changed_inputs: bool,
    quiet: bool,
) -> None:
    """Replay the forecast on each past year of the monthly history, and say how often its interval held.

    Each calendar year with data is held out and forecast from every month before it (a year with
    fewer than 3 months before it is skipped). Per crime type and for all crime types together it
    reports the error and whether the records fell inside the interval. SCENARIO (default: the
    Kent baseline) names the history: data.history, or the counts' own months. Writes
    forecast_check.csv, forecast_summary.csv, summary.json and charts/forecast_check.png.
    """
    from . import forecast_check as replay
    from .report import check_output_folder, write_forecast_check

    loaded = _load(_scenario_path(scenario), _extra_sets(sets, seed, None), accept_changed_inputs)
    folder = out or Path("reports") / f"forecast-check-{loaded.output_name}"
    check_output_folder(folder, map(Path, loaded.files), "forecast check")
    areas, check = replay(loaded, draws)
    caption = f"{areas.force_name}, police.uk street-level records, monthly history · {draws:,} predictive draws per year"
    inputs = [Path(source.path) for source in areas.sources if not source.path.startswith(("embedded:", "("))]
    write_forecast_check(check, caption, folder, [*map(Path, loaded.files), *inputs], charts=not no_charts)
    if quiet:
        click.echo(str(folder))
        return
    _echo(f"Forecast check, {areas.force_name}: each year held out and forecast from the months before it ({check.nominal:.0%} intervals)")
    for held in check.years:
        _echo(
            f"- {held.year}: {len(held.months)} month(s) from {len(held.history_months)} months of history; {held.description}",
            indent="    ",
        )
    for skipped in check.skipped:
        _echo(f"- {skipped.year}: skipped, {skipped.reason}", indent="    ")
    click.echo("")
    header = f"  {'Crime type':<30} {'Years':>5} {'Mean abs error':>15} {'Inside interval':>16}"
    click.echo(header)
    click.echo("  " + "-" * (len(header) - 2))
    for summary in check.summary:
        error = "-" if summary.mean_abs_error_pct is None else f"{summary.mean_abs_error_pct:.1f} %"
        click.echo(f"  {_fit(summary.crime_type, 30):<30} {summary.checked:>5} {error:>15} {f'{summary.inside} of {summary.checked}':>16}")
    click.echo("")
    _echo(
        f"{check.coverage:.0%} of the crime-type totals fell inside their nominal {check.nominal:.0%} interval "
        f"({sum(s.inside for s in check.summary[:-1])} of {sum(s.checked for s in check.summary[:-1])}). "
        "The interval covers count noise and the fit's parameter error on data that follow the model; a change "
        "in recording or in crime itself lies outside it.",
        indent="  ",
    )
    click.echo(f"Wrote {folder}{'' if str(folder).endswith('/') else '/'}")


@cli.command(name="backtest")
@scenario_argument
@set_option
@click.option(
    "--awards",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV of what the fund awarded (round, announced, district, area, amount_gbp, source_url, note); default: data.awards.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write (default: reports/backtest-<scenario name>). An existing folder is replaced only if this command wrote it.",
)
@click.option(
    "--window-months",
    type=click.IntRange(1, 60),
    default=12,
    show_default=True,
    help="Months of history before each announcement a round's demand may use.",
)
@click.option(
    "--least-months",
    type=click.IntRange(1, 60),
    default=6,
    show_default=True,
    help="Fewest months in a row a window must hold for its round to be tested.",
)
@click.option("--draws", type=click.IntRange(1, 100_000), help="Monte Carlo draws per round (overrides demand.draws).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Seed for the Monte Carlo draws (overrides the scenario's).")
@click.option("--solver", type=click.Choice(["highs", "cbc", "greedy"]), help="Solver (overrides allocation.solver).")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts (the reports then have tables only).")
@click.option("--accept-changed-inputs", is_flag=True, help="Back-test a manifest's scenario even if an input file changed since its run.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the folder written.")
@debug_option
def backtest(
    scenario: Path | None,
    sets: tuple[str, ...],
    awards: Path | None,
    out: Path | None,
    window_months: int,
    least_months: int,
    draws: int | None,
    seed: int | None,
    solver: str | None,
    no_charts: bool,
    accept_changed_inputs: bool,
    quiet: bool,
) -> None:
    """Would the model have picked the districts the fund actually paid for?

    For each round in the awards file: demand from the months before the round's announcement that
    the monthly history holds (--window-months, the same for every round; a round with fewer than
    --least-months in a row is skipped with its reason), that round's rules and terms, and the money
    the force received as the budget. Each district is compared with the awards: its verdict, margin
    and odds, its rank by harm in the round's basket and per resident, the model's £ against the
    awarded £, recall, precision and a rank correlation where the split is published. Nothing is
    tuned to the awards. SCENARIO (default: the Kent baseline) must be at district level with a
    monthly history. Writes rounds.csv, backtest.csv, summary.json, report.html, report.md,
    charts/backtest.png and each tested round's run folder under runs/.
    """
    from .backtest import CAVEATS, awards_for
    from .backtest import backtest as run_backtest
    from .datafiles import shown_file_name
    from .drawing import chart_server
    from .report import check_output_folder, write_backtest
    from .verdicts import read_areas

    loaded = _load(_scenario_path(scenario), _extra_sets(sets, seed, solver, draws), accept_changed_inputs)
    folder = out or Path("reports") / f"backtest-{loaded.output_name}"
    awards_location = str(awards) if awards is not None else None
    inputs = [*map(Path, loaded.files), *([awards] if awards is not None else [])]
    check_output_folder(folder, inputs, "back-test")
    areas = read_areas(loaded)
    read = awards_for(loaded, areas, awards_location)
    with chart_server(not no_charts), _progress(len(read.round_ids()) * loaded.scenario.demand.draws + 1, "Back-testing", quiet) as bar:
        found = run_backtest(loaded, areas, awards=read, window_months=window_months, least_months=least_months, draw_progress=bar.update)
        bar.update(1, "writing the back-test folder")
        command = " ".join(
            ["safer-streets backtest", *([str(scenario)] if scenario else []), *(f"--set {item}" for item in sets)]
            + ([f"--awards {awards}"] if awards else [])
            + ([f"--window-months {window_months}"] if window_months != 12 else [])
            + ([f"--least-months {least_months}"] if least_months != 6 else [])
            + ([f"--draws {draws}"] if draws else [])
            + ([f"--seed {seed}"] if seed is not None else [])
            + ([f"--solver {solver}"] if solver else [])
        )
        sources = [Path(source.path) for source in areas.sources if not source.path.startswith(("embedded:", "("))]
        folder = write_backtest(found, folder, [*inputs, *sources], command, charts=not no_charts)
    if quiet:
        click.echo(str(folder))
        return
    hits, awarded, modelled = found.pooled()
    _echo(
        f"Back-test, {found.force_name}: {len(found.rounds)} of {len(found.windows)} rounds tested against "
        f"{shown_file_name(found.awards.file)}; the model funds {hits} of the {awarded} districts the fund paid, "
        f"and the fund paid {hits} of the model's {modelled}"
    )
    click.echo("")
    header = f"  {'Round':<16} {'Received':>11} {'Paid':>5} {'Eligible':>8} {'Model':>6} {'Both':>5} {'Recall':>7} {'Precision':>9} {'Rank corr.':>10}"
    click.echo(header)
    click.echo("  " + "-" * (len(header) - 2))
    for row in found.round_rows():
        if row["status"] == "skipped":
            click.echo(f"  {row['round']:<16} {_pounds(row['received_gbp']):>11}  skipped")
            continue
        correlation = "-" if row["rank_correlation"] is None else f"{row['rank_correlation']:.2f}"
        click.echo(
            f"  {row['round']:<16} {_pounds(row['received_gbp']):>11} {row['awarded_districts']:>5} {row['awarded_eligible']:>8} "
            f"{row['model_funded_districts']:>6} {row['both']:>5} {_share(row['recall']):>7} {_share(row['precision']):>9} {correlation:>10}"
        )
    click.echo("")
    for window in found.skipped:
        _echo(f"- {window.round_id} skipped: {window.skipped}", indent="    ")
    for finding in found.findings():
        _echo(f"- {finding}", indent="    ")
    _echo(f"- {CAVEATS[0]}", indent="    ")
    click.echo(f"Wrote {folder}{'' if str(folder).endswith('/') else '/'}")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


@cli.group(name="import")
@debug_option
def import_group() -> None:
    """Turn downloaded crime data into a counts table a scenario can name."""


@import_group.command(name="police-uk")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV to write (counts per LSOA, month and crime type); its report goes beside it as <name>.import.json.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the files written.")
@debug_option
def import_police_uk(paths: tuple[Path, ...], out: Path, quiet: bool) -> None:
    """Import data.police.uk street-level crime files.

    PATHS are monthly *-street.csv files, folders of month folders, or the zip archive as
    downloaded. Rows are counted per LSOA, month and crime type, with the district taken from the
    LSOA name and the force from "Falls within". Every row is either counted or rejected with a
    reason (no LSOA, unknown crime type, duplicate crime ID, bad month, malformed line), and the
    report says how many of each and where the first ones are.
    """
    from .policeuk import OUTPUT_COLUMNS, import_street_files, street_files
    from .report import check_output_file, write_import

    check_output_file(out, OUTPUT_COLUMNS, "--out")
    with _progress(max(len(street_files(list(paths))), 1), "Reading street files", quiet) as bar:
        counts = import_street_files(list(paths), progress=lambda name: bar.update(1, name))
    table, report_path = write_import(counts, out)
    if quiet:
        for warning in counts.report.warnings:
            _echo(f"Warning: {warning}", "  ", err=True)
        click.echo(f"{table}\n{report_path}")
        return
    report = counts.report
    forces = ", ".join(f"{force} ({rows:,})" for force, rows in report.forces) or "none"
    months = (
        f"{report.months[0]} to {report.months[-1]} ({len(report.months)} month{'s' if len(report.months) != 1 else ''})"
        if report.months
        else "none"
    )
    _echo(f"Read {len(report.files)} street file{'s' if len(report.files) != 1 else ''}; months {months}; forces {forces}", "  ")
    _echo(
        f"Rows read {report.rows_read:,} = counted {report.rows_aggregated:,} + rejected {report.rows_rejected:,}; {report.lsoas:,} LSOAs",
        "  ",
    )
    for crime_type, rows in report.rows_by_crime_type:
        click.echo(f"  {crime_type:<30} {rows:>10,}")
    for reason, rows in report.rejected:
        click.echo(f"Rejected, {reason}: {rows:,}")
    for crime_type, rows in report.unknown_crime_types:
        _echo(f"  unknown crime type '{crime_type}': {rows:,}", "    ")
    for problem in report.examples[:5]:
        _echo(f"  e.g. {problem.file}:{problem.line}: {problem.reason}: {problem.detail}", "    ")
    if report.files_skipped:
        _echo(f"Skipped {len(report.files_skipped)} other file(s) (outcomes, stop and search, or repeats); listed in the report", "  ")
    for warning in report.warnings:
        _echo(f"Warning: {warning}", "  ")
    _echo(f"Wrote {table} and {report_path}", "  ")


def _scenario_path(scenario: Path | None) -> Path:
    if scenario is not None:
        return scenario
    if not DEFAULT_SCENARIO.is_file():
        raise ConfigError(
            "no scenario given and the Kent baseline is not here",
            file=str(DEFAULT_SCENARIO),
            hint="run from the project folder, or name a scenario file",
        )
    return DEFAULT_SCENARIO


def _extra_sets(sets: tuple[str, ...], seed: int | None, solver: str | None, draws: int | None = None) -> tuple[str, ...]:
    extra = list(sets)
    if seed is not None:
        extra.append(f"seed={seed}")
    if draws is not None:
        extra.append(f"demand.draws={draws}")
    if solver is not None:
        extra.append(f'allocation.solver="{solver}"')
    return tuple(extra)


def _print_run(result, folder: Path) -> None:
    summary = result.summary()
    unit = result.demand.weights.short_unit
    _echo(result.scenario.title)
    _echo(f"{result.scenario.round.name} · {result.data_caption}")
    click.echo("")
    header = f"{result.demand.areas.level_name:<24} {'Eligible':<8} {'Why':<34} {'Amount':>11} {'Harm averted':>{10 + len(unit[:7])}}"
    click.echo(header)
    click.echo("-" * len(header))
    amounts, averted = result.area_amounts(), result.area_averted()
    verdict = result.eligibility
    odds = result.monte_carlo.verdicts
    funded = result.funded()
    order = sorted(range(len(verdict.codes)), key=lambda a: (-amounts[a], verdict.names[a]))
    if result.many_areas:
        from .eligibility import MANY_AREAS

        listed = [a for a in order if funded[a]]
        order = listed[:MANY_AREAS]
    for a in order:
        click.echo(
            f"{_fit_name(verdict.names[a], 24):<24} {_verdict_mark(verdict.eligible.values[a], odds, a):<8} "
            f"{_fit(verdict.short_reason(a), 34):<34} {_pounds(amounts[a]):>11} {averted[a]:>9,.0f} {unit[:7]}"
        )
    if result.many_areas:
        eligible = int(verdict.eligible.values.sum())
        more = len(listed) - len(order)
        _echo(
            f"  ({f'and {more:,} more funded areas; ' if more else ''}{eligible - len(listed):,} eligible areas unfunded, "
            f"{len(verdict.codes) - eligible:,} not eligible: see eligibility.csv and allocation.csv)",
            indent="   ",
        )
    click.echo("-" * len(header))
    low, high = summary.harm_averted_interval_days
    click.echo(f"{'Total':<69}{_pounds(summary.allocated_gbp):>11} {summary.harm_averted_days:>9,.0f} {unit[:7]}")
    per = (
        f"£{summary.gbp_per_harm_day_averted:,.2f} per {result.demand.weights.unit[:-1]} averted"
        if summary.gbp_per_harm_day_averted
        else "nothing averted"
    )
    _echo(f"  of a £{summary.budget_gbp:,.0f} budget; {per}", indent="  ")
    _echo(
        f"  {summary.harm_averted_interval_coverage:.0%} interval {low:,.0f} to {high:,.0f} {unit} over {summary.draws:,} draws of "
        f"{summary.harm_averted_interval_includes}; the plan held fixed",
        indent="  ",
    )
    if odds.marginal.any():
        _echo(
            f"  A percentage under Eligible marks a marginal verdict: the chance of passing, shown where the verdict flips in more "
            f"than {odds.marginal_share:.0%} of draws ({', '.join(summary.marginal_areas[:6])}"
            f"{f' and {len(summary.marginal_areas) - 6:,} more' if len(summary.marginal_areas) > 6 else ''}).",
            indent="  ",
        )
    click.echo("")
    plans = "The plan" if len(summary.plans) == 1 else "Plans"
    click.echo(f"{plans} on the same {summary.draws:,} draws (mean; worst {summary.worst_share:.0%} of draws; mean regret):")
    for row in summary.plans:
        worst = next(value for key, value in row.items() if key.startswith("harm_averted_worst_"))
        chosen = "  (chosen)" if row["chosen"] == "true" else ""
        regret = "not measured" if row["mean_regret_days"] is None else f"{row['mean_regret_days']:>8,.0f} {unit}"
        click.echo(f"  {row['plan']:<10} {row['harm_averted_mean_days']:>10,.0f} {unit}  {worst:>10,.0f} {unit}  {regret}{chosen}")
    _echo(f"  {result.monte_carlo.perfect_information_words}", indent="  ")
    click.echo("")
    click.echo("Against simple splits (same rules, same response curves):")
    reference = result.method_totals()[0]["method"]
    for row in result.method_totals():
        share = row["harm_averted_vs_optimised_pct"]
        verdict = "" if share is None else f"{share:5.1f} % of {reference}"
        if not row["same_rules"]:
            verdict = "breaks a rule: not compared (see baselines.csv)"
        click.echo(
            f"  {row['method']:<10} {_pounds(row['allocated_gbp']):>11} {row['harm_averted_days']:>10,.0f} {unit}  {verdict}".rstrip()
        )
    for note in summary.binding_constraints:
        _echo(f"Binding: {note}", indent="  ")
    _echo(summary.optimality, indent="  ")
    rule = "Rule" if summary.objective not in ("expected", "cvar") else "Rule (point-estimate allocation)"
    for sentence in summary.rule_effects[:PRINTED_RULES]:
        _echo(f"{rule}: {sentence}", indent="  ")
    if len(summary.rule_effects) > PRINTED_RULES:
        click.echo(f"  (and {len(summary.rule_effects) - PRINTED_RULES:,} more binding rules in rules.csv)")
    for override in summary.command_line:
        _echo(f"Changed on the command line: {override}", indent="  ")
    for warning in result.warnings():
        _echo(f"Warning: {warning}", indent="  ")
    click.echo(f"Wrote {folder}{'' if str(folder).endswith('/') else '/'}")


def _verdict_mark(eligible: bool, odds, position: int) -> str:
    """'yes' or 'no', with the chance of passing where the verdict is marginal ('yes 54%')."""
    word = "yes" if eligible else "no"
    return f"{word} {odds.p_eligible.values[position]:.0%}" if odds.marginal[position] else word


def _load(path: Path, sets: tuple[str, ...], accept_changed_inputs: bool):
    from . import load_scenario

    return load_scenario(path, sets, accept_changed_inputs=accept_changed_inputs)


def _progress(length: int, label: str, quiet: bool):
    """A progress bar on stderr, shown only on a terminal and without --quiet."""
    return click.progressbar(
        length=length,
        label=label,
        file=sys.stderr,
        hidden=quiet or not sys.stderr.isatty(),
        item_show_func=lambda stage: _fit(stage, 40) if stage else stage,
        width=20,
    )


def _fit(text: str, width: int) -> str:
    """Text cut to `width` characters, with an ellipsis where it was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _fit_name(name: str, width: int) -> str:
    """A name cut to `width` characters in the middle, keeping its end ('Folkestone and Hy… 014B'), so small areas stay apart."""
    return name if len(name) <= width else name[: width - 6] + "…" + name[-5:]


def _echo(text: str, indent: str = "", err: bool = False) -> None:
    """Print a line wrapped to WIDTH columns, continuation lines indented."""
    for line in textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False) or [""]:
        click.echo(line, err=err)


def _pounds(value: float) -> str:
    """Whole pounds; from £100m in millions, so a table column stays 11 characters wide."""
    return f"£{value / 1e6:,.1f}m" if abs(value) >= 1e8 else f"£{value:,.0f}"


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="safer-streets")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
