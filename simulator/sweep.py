"""A sweep: one scenario run at every point of a range (or a grid of ranges) of its keys, one row per point.

Each point is an ordinary scenario with `--set KEY=VALUE` overrides applied, so any point can be
rerun with `safer-streets run` and the same overrides. By default a point runs the inputs, the
demand, the rules, the baselines and the allocation, without the Monte Carlo (a fraction of a
second at Kent scale); with `draws` each point also runs the whole model with that many Monte
Carlo draws, which adds the interval of harm averted. A point whose rules cannot all hold, or
whose value the schema refuses, becomes a row that says why: a sweep never stops at a bad point.
Points run wherever the executor says; their results are put back in point order, so the table
is the same for any number of workers.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
import shlex
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, InfeasibleError, SimulatorError
from .execution import LOCAL, Executor, Interrupted
from .harm import harm_weights
from .inputs import Areas, load_areas
from .maps import AreaMap
from .scenario import DERIVED, LoadedScenario, load_scenario
from .schema import COMMAND_LINE, DataSource

MOST_POINTS = 10_000
"""The most points a sweep may have (the product of the lengths of its ranges)."""
KEY_PROBLEMS = ("unknown ", "goes inside a value that is not a table", "is not a valid dotted key", "needs KEY=VALUE", "has no key")
"""How `scenario` starts the message of a `--set` whose key (not its value) is wrong: such a --vary is refused whole."""
FLOAT_DIGITS = 12
"""Range values that are not whole numbers are kept to this many significant digits (0.3, not 0.30000000000000004)."""
OK = "ok"
STOPPED = "stopped"

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Variation:
    """One varied key and its values in order, as `--vary KEY=START:STOP:STEPS` or `--vary KEY=A,B,C` gave them."""

    key: str
    values: tuple
    spec: str

    def shown(self, value: Any) -> str:
        """A value as the table and the report show it (as TOML writes it, strings without quotes)."""
        return value if isinstance(value, str) else toml_value(value)

    def cell(self, value: Any) -> Any:
        """A value as sweep.csv holds it: numbers as numbers, anything else as `shown` writes it."""
        return value if _is_number(value) else self.shown(value)


@dataclass(frozen=True)
class FundedArea:
    """One funded area at a point: its position in the sweep's areas (-1 when the point has areas the base lacks), £ and harm."""

    code: str
    name: str
    bid: str
    amount_gbp: float
    harm_averted_days: float


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: its values, its headline figures (None where it did not run) and its funded areas."""

    index: int
    values: tuple
    sets: tuple[str, ...]
    status: str = STOPPED
    name: str = ""
    budget_gbp: float | None = None
    eligible_areas: int | None = None
    funded_bids: int | None = None
    funded_areas: int | None = None
    allocated_gbp: float | None = None
    harm_averted_days: float | None = None
    certificate_gap: float | None = None
    harm_averted_low_days: float | None = None
    harm_averted_high_days: float | None = None
    harm_averted_mean_days: float | None = None
    funded: tuple[FundedArea, ...] = ()
    baselines: tuple[tuple[str, float, float, bool], ...] = ()
    """(method, £ allocated, harm averted, under the same rules) for each simple split."""

    @property
    def ok(self) -> bool:
        """True when the point ran and its figures are filled in."""
        return self.status == OK

    @property
    def gbp_per_harm_day(self) -> float | None:
        """£ allocated per harm day averted; None where nothing was averted."""
        if not self.ok or not self.harm_averted_days:
            return None
        return self.allocated_gbp / self.harm_averted_days

    def bid_totals(self) -> list[tuple[str, float, float]]:
        """(bid, £, harm averted) per funded bid, most money first."""
        totals: dict[str, list[float]] = {}
        for area in self.funded:
            total = totals.setdefault(area.bid, [0.0, 0.0])
            total[0] += area.amount_gbp
            total[1] += area.harm_averted_days
        return sorted(((bid, gbp, averted) for bid, (gbp, averted) in totals.items()), key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class Sweep:
    """A finished (or stopped) sweep: the varied keys, a point per combination of their values, and the base scenario's areas."""

    scenario_file: str
    scenario_name: str
    title: str
    force_name: str
    level_name: str
    harm_unit: str
    variations: tuple[Variation, ...]
    points: tuple[SweepPoint, ...]
    sets: tuple[str, ...]
    draws: int | None
    area_codes: tuple[str, ...]
    area_names: tuple[str, ...]
    area_map: AreaMap = field(default_factory=AreaMap)
    executor: str = "this process"
    seconds: float = 0.0
    inputs: tuple[str, ...] = ()
    """Every file the base scenario read (scenario files and data): no output may replace them."""

    @property
    def keys(self) -> tuple[str, ...]:
        """The varied keys, in the order given."""
        return tuple(variation.key for variation in self.variations)

    @property
    def stopped(self) -> bool:
        """True when the sweep was stopped before every point ran."""
        return any(point.status == STOPPED for point in self.points)

    def count(self, status: str) -> int:
        """How many points have this status (or start with it: "infeasible", "invalid")."""
        return sum(1 for point in self.points if point.status == status or point.status.startswith(status + ":"))

    def rows(self) -> list[dict]:
        """sweep.csv: one row per point, the varied keys first, then its figures and status."""
        from .result import days, money, significant

        rows = []
        for point in self.points:
            row = {"point": point.index + 1}
            row.update({variation.key: variation.cell(value) for variation, value in zip(self.variations, point.values)})
            if "budget_gbp" not in row:
                row["budget_gbp"] = _rounded(money, point.budget_gbp)
            row.update(
                {
                    "eligible_areas": point.eligible_areas,
                    "funded_bids": point.funded_bids,
                    "funded_areas": point.funded_areas,
                    "allocated_gbp": _rounded(money, point.allocated_gbp),
                    "harm_averted_days": _rounded(days, point.harm_averted_days),
                    "gbp_per_harm_day_averted": _rounded(money, point.gbp_per_harm_day),
                    "certificate_gap": significant(point.certificate_gap, 4),
                }
            )
            if self.draws:
                row.update(
                    {
                        "harm_averted_mean_days": _rounded(days, point.harm_averted_mean_days),
                        "harm_averted_low_days": _rounded(days, point.harm_averted_low_days),
                        "harm_averted_high_days": _rounded(days, point.harm_averted_high_days),
                    }
                )
            row["status"] = point.status
            row["overrides"] = " ".join(shlex.quote(item) for item in point.sets)
            rows.append(row)
        return rows

    def allocation_rows(self) -> list[dict]:
        """allocations.csv: one row per point × funded area, £ and harm averted."""
        from .result import days, money

        return [
            {
                "point": point.index + 1,
                "area_code": area.code,
                "area_name": area.name,
                "bid": area.bid,
                "amount_gbp": money(area.amount_gbp),
                "harm_averted_days": days(area.harm_averted_days),
            }
            for point in self.points
            for area in point.funded
        ]

    def baseline_rows(self) -> list[dict]:
        """baselines.csv: one row per point × simple split (equal, per head, per harm), scored like the allocation."""
        from .result import days, money

        return [
            {
                "point": point.index + 1,
                "method": method,
                "allocated_gbp": money(allocated),
                "harm_averted_days": days(averted),
                "same_rules": "true" if same_rules else "false",
            }
            for point in self.points
            for method, allocated, averted, same_rules in point.baselines
        ]

    def summary(self) -> dict:
        """summary.json: what was varied, how the points ended, and where they ran."""
        return {
            "scenario": self.scenario_name,
            "scenario_file": self.scenario_file,
            "title": self.title,
            "overrides": list(self.sets),
            "varied": [{"key": variation.key, "spec": variation.spec, "values": list(variation.values)} for variation in self.variations],
            "points": len(self.points),
            "ok": self.count(OK),
            "infeasible": self.count("infeasible"),
            "invalid": self.count("invalid"),
            "stopped": self.count(STOPPED),
            "draws_per_point": self.draws,
            "executor": self.executor,
            "seconds": round(self.seconds, 3),
        }

    def explorer_data(self) -> dict:
        """What the report's slider steps through: each point's label, figures and funded areas, and the areas themselves."""
        index = {code: a for a, code in enumerate(self.area_codes)}
        points = []
        for point in self.points:
            label = ", ".join(f"{variation.key} = {variation.shown(value)}" for variation, value in zip(self.variations, point.values))
            points.append(
                {
                    "label": label,
                    "status": point.status,
                    "allocated": _rounded(lambda value: round(value, 2), point.allocated_gbp),
                    "averted": _rounded(lambda value: round(value, 3), point.harm_averted_days),
                    "eligible": point.eligible_areas,
                    "funded": [
                        [index.get(area.code, -1), area.name, area.bid, round(area.amount_gbp, 2), round(area.harm_averted_days, 3)]
                        for area in sorted(point.funded, key=lambda area: (-area.amount_gbp, area.name))
                    ],
                    "bids": [[bid, round(gbp, 2), round(averted, 3)] for bid, gbp, averted in point.bid_totals()],
                }
            )
        return {"level": self.level_name, "unit": self.harm_unit, "names": list(self.area_names), "points": points}


def _rounded(rounding: Callable[[float], float], value: float | None) -> float | None:
    return None if value is None else rounding(value)


# ---------------------------------------------------------------- what to vary


def parse_variation(spec: str) -> Variation:
    """`KEY=START:STOP:STEPS` (STEPS evenly spaced values from START to STOP inclusive, whole numbers where both ends are)
    or `KEY=A,B,C` (each typed as TOML types it, bare text a string) as a Variation; a bad spec is a ConfigError on --vary."""
    key, equals, text = spec.partition("=")
    key, text = key.strip(), text.strip()
    if not equals or not key or not text:
        raise ConfigError(
            "needs KEY=START:STOP:STEPS or KEY=A,B,C",
            key="--vary",
            got=spec,
            hint="e.g. --vary budget_gbp=500000:3000000:6 or --vary fund_round=safer-streets-3,safer-streets-4",
        )
    parts = text.split(":")
    if len(parts) == 3 and not text.startswith(("[", "{", '"', "'")):
        values = _range_values(key, spec, *parts)
    else:
        values = _list_values(text)
    return Variation(key, values, spec)


def _range_values(key: str, spec: str, start_text: str, stop_text: str, steps_text: str) -> tuple:
    start, stop, steps = (_toml(part.strip()) for part in (start_text, stop_text, steps_text))
    for name, value in (("START", start), ("STOP", stop)):
        if not _is_number(value) or not math.isfinite(value):
            raise ConfigError(
                f"has a range whose {name} is not a number",
                key="--vary",
                got=spec,
                expected="KEY=START:STOP:STEPS with numbers, e.g. budget_gbp=500000:3000000:6",
                hint="for a list of values write KEY=A,B,C",
            )
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ConfigError(
            "has a range whose STEPS is not a whole number of 1 or more",
            key="--vary",
            got=spec,
            expected="STEPS, the number of values from START to STOP inclusive, e.g. budget_gbp=500000:3000000:6",
        )
    if steps > MOST_POINTS:
        raise ConfigError("has more steps than a sweep may run", key="--vary", got=spec, expected=f"at most {MOST_POINTS:,} steps")
    if steps == 1:
        return (start,)
    whole = isinstance(start, int) and isinstance(stop, int)
    values = [start + (stop - start) * k / (steps - 1) for k in range(steps)]
    if whole:
        values = [round(value) for value in values]
        if len(set(values)) < steps:
            raise ConfigError(
                "has more steps than whole numbers between START and STOP",
                key="--vary",
                got=spec,
                expected=f"at most {abs(stop - start) + 1:,} steps",
                hint=f"use fewer steps, or write START as {start}.0 for values that are not whole numbers",
            )
    else:
        values = [float(f"{value:.{FLOAT_DIGITS}g}") for value in values]
    values[0], values[-1] = start, stop
    return tuple(values)


def _list_values(text: str) -> tuple:
    """`A,B,C` as TOML values (an array's items), or, where that is not valid TOML, split at commas with bare text as strings."""
    try:
        return tuple(tomllib.loads(f"v = [{text}]")["v"])
    except (tomllib.TOMLDecodeError, ValueError):
        return tuple(_toml(item.strip()) for item in text.split(","))


def _toml(text: str) -> Any:
    """A value typed as `--set` types it: TOML, or the bare text as a string."""
    try:
        document = tomllib.loads(f"v = {text}")
    except (tomllib.TOMLDecodeError, ValueError):
        return text
    return document["v"] if list(document) == ["v"] else text


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def toml_value(value: Any) -> str:
    """A value written as TOML, so `--set KEY=<this>` reads it back as the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(key)} = {toml_value(item)}" for key, item in value.items()) + "}"
    return json.dumps(str(value), ensure_ascii=False)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def grid(variations: Sequence[Variation]) -> list[tuple]:
    """Every combination of the varied values, the first key changing slowest."""
    return list(itertools.product(*(variation.values for variation in variations)))


def sweep_name(scenario_name: str, variations: Sequence[Variation]) -> str:
    """The default folder name: sweep-<scenario>-<key>[-<key>…], in characters a folder name may hold."""
    keys = "-".join(variation.key for variation in variations)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"sweep-{scenario_name}-{keys}")[:150]


# ---------------------------------------------------------------- running it


@dataclass(frozen=True)
class PointTask:
    """What a worker needs to run one point: the scenario file, every override, and the base scenario's areas already read."""

    index: int
    values: tuple
    scenario: str
    sets: tuple[str, ...]
    point_sets: tuple[str, ...]
    accept_changed_inputs: bool
    draws: int | None
    base_data: DataSource | None = None
    areas: Areas | None = None


def sweep(
    scenario: str | Path,
    variations: Sequence[Variation],
    executor: Executor = LOCAL,
    *,
    sets: Sequence[str] = (),
    draws: int | None = None,
    accept_changed_inputs: bool = False,
    progress: Progress | None = None,
) -> Sweep:
    """Run `scenario` (with `sets`) at every combination of the varied values; `progress` hears the count of finished
    points. A bad variation (unknown key, repeated key, too many points) raises before any point runs; Ctrl-C returns the
    points finished so far, the rest marked "stopped"."""
    started = time.perf_counter()
    sets = tuple(sets) + ((f"demand.draws={draws}",) if draws else ())
    base = base_scenario(scenario, variations, sets, accept_changed_inputs)
    areas = load_areas(base.scenario.data)
    base.check_inputs((source.role, source.path, source.sha256) for source in areas.sources)
    tasks = []
    for index, values in enumerate(grid(variations)):
        point_sets = tuple(f"{variation.key}={toml_value(value)}" for variation, value in zip(variations, values))
        tasks.append(
            PointTask(index, values, str(scenario), sets + point_sets, point_sets, accept_changed_inputs, draws, base.scenario.data, areas)
        )
    finished = _run_points(tasks, executor, progress)
    points = tuple(finished.get(task.index) or SweepPoint(task.index, task.values, task.point_sets) for task in tasks)
    inputs = [*base.files, *(source.path for source in areas.sources if not source.path.startswith(("embedded:", "(")))]
    return Sweep(
        scenario_file=str(scenario),
        scenario_name=base.scenario.name,
        title=base.scenario.title,
        force_name=areas.force_name,
        level_name=areas.level_name,
        harm_unit=harm_weights(base.scenario.harm).unit,
        variations=tuple(variations),
        points=points,
        sets=sets,
        draws=draws,
        area_codes=tuple(areas.codes),
        area_names=tuple(areas.names),
        area_map=areas.area_map,
        executor=executor.describe(),
        seconds=time.perf_counter() - started,
        inputs=tuple(inputs),
    )


def base_scenario(
    scenario: str | Path, variations: Sequence[Variation], sets: Sequence[str] = (), accept_changed_inputs: bool = False
) -> LoadedScenario:
    """The scenario the sweep's points vary, after checking the variations: the scenario with `sets`, or, where that
    alone is refused (a key the sweep itself sets, say), the first point that loads, under the scenario's own name."""
    _check_variations(scenario, variations, tuple(sets), accept_changed_inputs)
    try:
        return load_scenario(scenario, tuple(sets), accept_changed_inputs=accept_changed_inputs)
    except SimulatorError as refused:
        for values in grid(variations):
            point_sets = tuple(f"{variation.key}={toml_value(value)}" for variation, value in zip(variations, values))
            try:
                loaded = load_scenario(scenario, (*sets, *point_sets), accept_changed_inputs=accept_changed_inputs)
            except SimulatorError:
                continue
            own = {item.key: item.old for item in loaded.overrides if item.source == DERIVED}
            named = {key: own[key] for key in ("name", "title") if isinstance(own.get(key), str)}
            return dataclasses.replace(loaded, scenario=dataclasses.replace(loaded.scenario, **named))
        raise refused from None


def _run_points(tasks: list[PointTask], executor: Executor, progress: Progress | None) -> dict[int, SweepPoint]:
    """Each task's point by index; on Ctrl-C, those finished before it."""
    finished: dict[int, SweepPoint] = {}
    running = executor.run(run_point, tasks)
    try:
        for index, point in running:
            finished[index] = point
            if progress:
                progress(len(finished))
    except Interrupted as stop:
        finished.update(stop.finished)
    except KeyboardInterrupt:  # pressed between two points, while this process held the results
        pass
    finally:
        running.close()
    return finished


def _check_variations(scenario: str | Path, variations: Sequence[Variation], sets: tuple[str, ...], accept: bool) -> None:
    """Refuse no variation, a key varied twice or also set with --set, a key the scenario does not have, or too many points."""
    if not variations:
        raise ConfigError("needs at least one key to vary", key="--vary", hint="e.g. --vary budget_gbp=500000:3000000:6")
    seen: set[str] = set()
    fixed = {assignment.partition("=")[0].strip() for assignment in sets}
    for variation in variations:
        if variation.key in seen:
            raise ConfigError("varies the same key twice", key="--vary", got=variation.key, hint="give each key one --vary")
        if variation.key in fixed:
            raise ConfigError(
                "varies a key that --set also sets", key="--vary", got=variation.key, hint=f"drop --set {variation.key}=… or the --vary"
            )
        seen.add(variation.key)
        try:
            load_scenario(scenario, (*sets, f"{variation.key}={toml_value(variation.values[0])}"), accept_changed_inputs=accept)
        except ConfigError as error:
            if error.file == COMMAND_LINE and error.what.startswith(KEY_PROBLEMS):
                raise ConfigError(error.what, key="--vary", got=variation.key, expected=error.expected, hint=error.hint) from None
        except SimulatorError:
            pass  # a value the schema refuses: that point becomes a row saying why
    total = math.prod(len(variation.values) for variation in variations)
    if total > MOST_POINTS:
        raise ConfigError(
            f"makes a grid of {total:,} points",
            key="--vary",
            expected=f"at most {MOST_POINTS:,} points",
            hint="use fewer steps or fewer keys",
        )


def run_point(task: PointTask) -> SweepPoint:
    """One point: its scenario run (without the Monte Carlo unless the task has draws), or the reason it could not run."""
    try:
        loaded = load_scenario(task.scenario, task.sets, accept_changed_inputs=task.accept_changed_inputs)
        if task.draws:
            return _with_draws(task, loaded)
        return _without_draws(task, loaded)
    except InfeasibleError as error:
        return SweepPoint(task.index, task.values, task.point_sets, status=f"infeasible: {_reason(error)}")
    except SimulatorError as error:
        return SweepPoint(task.index, task.values, task.point_sets, status=f"invalid: {_reason(error)}")


def _reason(error: SimulatorError) -> str:
    """The error's one line, without the '--set: ' every override's error starts with."""
    text = error.message()
    return text.removeprefix(f"{COMMAND_LINE}: ")


_LAST_VERDICTS: dict = {}
"""The demand and verdicts of the last point this process ran, with the settings they follow from: a point whose data,
harm, demand, shocks and round settings are the same (a budget sweep, say) reuses them, as they would come out the same."""


def _without_draws(task: PointTask, loaded: LoadedScenario) -> SweepPoint:
    """Inputs, demand, the rules, the baselines and the allocation, as `pipeline.run` runs them before the Monte Carlo."""
    from .allocation import allocate
    from .baselines import evaluate_baselines
    from .constraints import request_for
    from .demand import build_demand
    from .eligibility import assess
    from .interventions import build_curves

    scenario = loaded.scenario
    if scenario.allocation.objective in ("expected", "cvar"):
        raise ConfigError(
            f"chooses its plan on the Monte Carlo draws ({scenario.allocation.objective}), which a sweep skips without --draws",
            key="allocation.objective",
            hint="pass --draws N to run the Monte Carlo at each point",
        )
    if task.areas is not None and scenario.data == task.base_data:
        areas = task.areas
    else:
        areas = load_areas(scenario.data)
    loaded.check_inputs((source.role, source.path, source.sha256) for source in areas.sources)
    key = repr((scenario.data, scenario.harm, scenario.demand, scenario.shocks, scenario.fund_round, scenario.round))
    if _LAST_VERDICTS.get("key") != key:
        demand = build_demand(areas, scenario.harm, scenario.demand, scenario.shocks)
        eligibility = assess(demand, scenario.fund_round, scenario.round, rate_estimator=scenario.demand.rate_estimator)
        _LAST_VERDICTS.update(key=key, stages=(demand, eligibility))
    demand, eligibility = _LAST_VERDICTS["stages"]
    curves = build_curves(demand, scenario.active_interventions(), scenario.appraisal)
    request = request_for(scenario, demand, eligibility, curves)
    baselines = evaluate_baselines(request, demand.areas.population.values)
    allocation = allocate(request, scenario.allocation.solver, incumbents=[item.amounts.values for item in baselines if item.same_rules])
    split = tuple((item.name, item.allocated_gbp, item.averted_days, item.same_rules) for item in baselines)
    return _point(task, loaded, request, allocation, len(eligibility.eligible_codes), split)


def _with_draws(task: PointTask, loaded: LoadedScenario) -> SweepPoint:
    """The whole run, Monte Carlo included, and the interval of harm averted by the plan over its draws."""
    from .pipeline import run

    result = run(loaded)
    summary = result.summary()
    split = tuple((row["method"], row["allocated_gbp"], row["harm_averted_days"], row["same_rules"]) for row in result.method_totals()[1:])
    point = _point(task, loaded, result.request, result.allocation, summary.eligible_areas, split)
    low, high = result.monte_carlo.interval
    return dataclasses.replace(
        point,
        harm_averted_low_days=float(low),
        harm_averted_high_days=float(high),
        harm_averted_mean_days=float(result.monte_carlo.plan.mean),
    )


def _point(task: PointTask, loaded: LoadedScenario, request, allocation, eligible: int, baselines: tuple) -> SweepPoint:
    amounts = allocation.amounts.values
    per_area, averted = amounts.sum(axis=1), allocation.harm_averted.values.sum(axis=1)
    bids = request.bids()
    codes = allocation.amounts.labels("area")
    names = dict(zip(request.curves.targeted_harm.labels("area"), _area_names(request)))
    funded = tuple(
        FundedArea(code, names.get(code, code), request.bid_label(int(bids[a])), float(per_area[a]), float(averted[a]))
        for a, code in enumerate(codes)
        if allocation.funded[a]
    )
    certificate = allocation.certificate
    return SweepPoint(
        task.index,
        task.values,
        task.point_sets,
        status=OK,
        name=loaded.scenario.name,
        budget_gbp=float(loaded.scenario.budget_gbp),
        eligible_areas=int(eligible),
        funded_bids=int(request.funded_bids(amounts).sum()),
        funded_areas=int(allocation.funded.sum()),
        allocated_gbp=allocation.allocated_gbp,
        harm_averted_days=allocation.averted_days,
        certificate_gap=None if certificate is None else float(certificate.gap),
        funded=funded,
        baselines=tuple((name, float(gbp), float(days), bool(same)) for name, gbp, days, same in baselines),
    )


def _area_names(request) -> tuple[str, ...]:
    return tuple(request.area_label(a) for a in range(len(request.eligible)))
