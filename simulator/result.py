"""The outcome of one run: every stage's output plus its provenance, and the tables a report writes.

Rows are rounded here for output (pennies, thousandths of a day), so that the CSV and JSON files
are stable byte for byte; the arrays behind them keep full precision.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .allocation import Allocation
from .baselines import Baseline
from .constraints import AllocationRequest, days_words, funded_areas, gbp
from .demand import FORECAST_METHOD, TOP_FRACTIONS, Demand
from .eligibility import Eligibility
from .explanation import BudgetCurve, RuleEffect, most_spendable_gbp
from .formulation import Certificate
from .interventions import Curves
from .maps import force_name
from .montecarlo import MonteCarlo, VerdictOdds
from .scenario import LoadedScenario
from .schema import CRIME_TYPES

COUNT_CAVEAT = (
    "police.uk street-level records (crimes and anti-social behaviour as published by data.police.uk): "
    "not the ONS police recorded crime series; they include ASB, exclude fraud and come out below ONS totals"
)


def money(value: float) -> float:
    """Pounds rounded to pennies for output."""
    return round(float(value), 2) + 0.0


def days(value: float) -> float:
    """Harm days rounded to a thousandth for output."""
    return round(float(value), 3) + 0.0


def _rounded(values: np.ndarray, digits: int) -> np.ndarray:
    """A whole array rounded for output at once, flattened in row-major order (-0.0 shown as 0.0)."""
    return (np.round(np.asarray(values, dtype=float), digits) + 0.0).ravel()


def round_each(values, digits: int) -> np.ndarray:
    """`round(float(v), digits)` of every element at once: numpy rounds the scaled value, and the few elements within a
    rounding error of a half (where that can differ from Python's exact decimal rounding) are rounded one by one."""
    values = np.asarray(values, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):  # huge values and NaN are among those redone one by one
        scaled = values * 10.0**digits
        clear = (np.abs(scaled) < 2.0**52) & (np.abs(scaled - np.floor(scaled) - 0.5) > 2 * np.abs(np.spacing(scaled)))
    out = np.rint(scaled) / 10.0**digits
    for k in np.flatnonzero(~clear):
        out.flat[k] = round(float(values.flat[k]), digits)
    return out


def money_each(values) -> np.ndarray:
    """`money` of every element at once."""
    return round_each(values, 2) + 0.0


def days_each(values) -> np.ndarray:
    """`days` of every element at once."""
    return round_each(values, 3) + 0.0


def _flags(values) -> list[str]:
    """Each value's truth as a CSV says it: "true" or "false"."""
    return np.array(["false", "true"], dtype=object)[np.asarray(values, dtype=bool).astype(np.intp)].tolist()


def _repeated(texts: Sequence[str], times: int) -> Coded:
    """Each text `times` times over, in order: a per-area column of a table with several rows per area."""
    return Coded(tuple(texts), np.repeat(np.arange(len(texts)), times))


def _cycled(texts: Sequence[str], times: int) -> Coded:
    """The texts in order, `times` times over: a column that runs through the same texts for each area."""
    return Coded(tuple(texts), np.tile(np.arange(len(texts)), times))


def _row_sums(values: np.ndarray) -> np.ndarray:
    """Each row's total as `values[a].sum()` gives it (the same pairwise sums, row by row)."""
    return np.ascontiguousarray(values, dtype=float).sum(axis=1)


@dataclass(frozen=True)
class Coded:
    """A text column that repeats a few texts: each text once and each row's position among them, so that a writer
    formats each text once however many rows hold it."""

    texts: tuple[str | None, ...]
    codes: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)

    def tolist(self) -> list[str | None]:
        """The column's cells, one per row."""
        return [self.texts[code] for code in self.codes.tolist()]


@dataclass(frozen=True)
class Table:
    """An output table column by column, so that a writer formats whole columns at once: numbers as float or int arrays
    (a masked number is an empty cell), text as sequences of str or None (None is an empty cell) or as `Coded` texts."""

    columns: tuple[tuple[str, np.ndarray | Sequence[str | None]], ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in order: the CSV's header."""
        return tuple(name for name, _ in self.columns)

    def __len__(self) -> int:
        return len(self.columns[0][1]) if self.columns else 0

    def rows(self) -> list[dict]:
        """The same table one dict per row (plain floats, ints and str; None for an empty cell)."""
        names = self.names
        cells = [values.tolist() if isinstance(values, (np.ndarray, Coded)) else list(values) for _, values in self.columns]
        return [dict(zip(names, row)) for row in zip(*cells)]


def significant(value: float | None, digits: int = 6) -> float | None:
    """A figure of any size (a price per £, a gap, a ratio) to `digits` significant digits for output; None stays None."""
    if value is None or not np.isfinite(value):
        return None
    return float(f"{float(value):.{digits}g}") + 0.0


def percent(fraction: float) -> str:
    """A small fraction as a percentage in words, to two significant digits: 0.0002 %, 1.3 %."""
    value = 100.0 * fraction
    if value == 0:
        return "0 %"
    if value < 1e-4:
        return "under 0.0001 %"
    return f"{np.format_float_positional(value, precision=2, fractional=False, trim='-')} %"


RULE_COLUMNS = (
    "rule",
    "words",
    "config_key",
    "unit",
    "step",
    "goal_unit",
    "solver_price_per_unit",
    "solver_price_per_step",
    "change_when_raised",
    "change_when_lowered",
    "conditional_on_bids",
    "sentence",
)
"""rules.csv's header (written even when no rule binds)."""
BUDGET_CURVE_COLUMNS = ("budget_gbp", "goal_value", "goal_unit", "slope_to_next_per_1000_gbp", "status", "scenario_budget")
"""budget_curve.csv's header, written even when there is no curve (the least-cost goal sets the money itself)."""
OBJECTIVE_WORDS = {
    "point": "the most harm averted at the point estimates, within the round's rules",
    "expected": "the most harm averted on average over the Monte Carlo draws, within the round's rules",
    "cvar": "the most harm averted on average over the worst {tail:.0%} of the Monte Carlo draws, within the round's rules",
    "maxmin": "the highest harm averted per day of basket harm in the worst-served eligible area, within the round's rules",
    "blend": "a blend of harm averted ({harm:.0%}) and the worst-served eligible area's harm averted per day of its basket "
    "harm, scaled to harm days ({worst:.0%}), within the round's rules",
    "least_cost": "the least money that averts {target:,.0f} {unit}, within the round's rules",
}
"""Each `allocation.objective` in words, filled in from the scenario."""


@dataclass(frozen=True)
class Summary:
    """A run's headline figures: what the terminal, the report, a comparison and summary.json all show."""

    scenario: str
    title: str
    question: str
    fund_round: str
    fund_round_name: str
    force: str
    data_period: str
    horizon_months: int
    harm_weights: str
    harm_unit: str
    budget_gbp: float
    allocated_gbp: float
    unallocated_gbp: float
    harm_averted_days: float
    harm_averted_interval_days: tuple[float, float]
    harm_averted_interval_coverage: float
    harm_averted_interval_includes: str
    draws: int
    plan: str
    harm_averted_mean_days: float
    harm_averted_worst_share_days: float
    worst_share: float
    perfect_information_days: float | None
    marginal_areas: tuple[str, ...]
    plans: tuple[dict, ...]
    gbp_per_harm_day_averted: float | None
    expected_harm_days: float
    eligible_areas: int
    eligible_area_names: tuple[str, ...]
    funded_areas: tuple[str, ...]
    max_grant_gbp: float
    bids_per_commissioner: int
    match_funding_required_gbp: float
    solver: str
    status: str
    budget_shadow_price_days_per_1000_gbp: float | None
    binding_constraints: tuple[str, ...]
    objective: str
    objective_words: str
    certificate: Certificate | None
    optimality: str
    rule_effects: tuple[str, ...]
    gini: float
    top_shares: tuple[tuple[float, float], ...]
    baselines: tuple[dict, ...]
    shocks: tuple[str, ...]
    command_line: tuple[str, ...]
    seed: int
    forces: tuple[dict, ...] = ()
    """One row per force (`RunResult.force_rows`) where the areas span several forces; empty for one force."""

    def top_share(self, fraction: float) -> float:
        """Share of harm held by the top `fraction` of areas (one of TOP_FRACTIONS)."""
        return dict(self.top_shares)[fraction]

    def as_dict(self) -> dict:
        """summary.json: the figures as plain JSON-ready data, in a stable order."""
        data = {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}
        for key in ("gini", "top_shares", "baselines", "command_line", "seed", "shocks"):
            data.pop(key)
        data["harm_averted_interval_days"] = list(self.harm_averted_interval_days)
        for key in ("eligible_area_names", "funded_areas", "binding_constraints", "marginal_areas", "rule_effects"):
            data[key] = list(data[key])
        data["certificate"] = _certificate_record(self.certificate)
        data["concentration"] = {
            "gini": self.gini,
            **{f"top_{int(f * 100)}pct_of_areas_share_of_harm": share for f, share in self.top_shares},
        }
        data["baselines"] = {row["method"]: {k: v for k, v in row.items() if k != "method"} for row in self.baselines}
        data["plans"] = {row["plan"]: {k: v for k, v in row.items() if k != "plan"} for row in self.plans}
        data["shocks"] = list(self.shocks)
        data["command_line_overrides"] = list(self.command_line)
        data["seed"] = self.seed
        forces = data.pop("forces")
        if forces:
            data["by_force"] = {row["force"]: {k: v for k, v in row.items() if k != "force"} for row in forces}
        return data


@dataclass(frozen=True)
class PointRun:
    """A run up to its point-estimate plan: the stage outputs before the Monte Carlo, and what can be said of them.

    The Monte Carlo only adds to this, unless `allocation.objective` is a robust one and it chooses the plan; otherwise
    charts of a `PointRun` can be drawn while the draws run (`pipeline.run`)."""

    loaded: LoadedScenario
    demand: Demand
    eligibility: Eligibility
    curves: Curves
    request: AllocationRequest
    allocation: Allocation
    baselines: tuple[Baseline, ...]
    rule_effects: tuple[RuleEffect, ...] = ()
    """Each binding rule of the point-estimate allocation, priced by re-solving a step up and down (`explanation.explain`)."""
    budget_curve: BudgetCurve | None = None
    """Harm averted (the goal's value) at budgets from £0 to twice the budget, at the point estimates."""

    @property
    def scenario(self):
        """The resolved scenario."""
        return self.loaded.scenario

    @property
    def period_label(self) -> str:
        """The data period in words, e.g. 'Jun 2025 to May 2026'."""
        return self.demand.period_label

    @property
    def data_caption(self) -> str:
        """The data in a line: force, records, period and harm weights."""
        areas = self.demand.areas
        return f"{areas.force_name}, police.uk street-level records {self.period_label} · harm: {self.demand.weights.name}"

    @property
    def caption(self) -> str:
        """One line naming the scenario and the data, for charts."""
        return f"{self.scenario.title} · {self.data_caption}"

    def warnings(self) -> list[str]:
        """What a reader must know about the inputs before trusting the figures."""
        areas = self.demand.areas
        found = []
        if not areas.population_known:
            found.append(areas.population_source)
        if areas.history_gaps:
            shown = ", ".join(f"{areas.name_of(code)} {month}" for code, month in areas.history_gaps[:3])
            more = f" and {len(areas.history_gaps) - 3:,} more" if len(areas.history_gaps) > 3 else ""
            found.append(
                f"the monthly history has no rows for {len(areas.history_gaps):,} area-month"
                f"{'' if len(areas.history_gaps) == 1 else 's'} that other areas have ({shown}{more}); "
                "the forecast's fit reads them as 0 records"
            )
        for source in areas.sources:
            if source.rows_other_areas:
                found.append(
                    f"{source.rows_other_areas:,} rows of {source.path} are for areas outside the area table "
                    "(border areas of other forces, or areas missing from the table) and are left out"
                )
        for group in areas.left_out:
            found.append(
                f"{force_name(group.group)} is left out ({group.areas:,} areas, {group.population:,.0f} residents): {group.reason}; its areas get "
                "no money in the model or in the simple splits, which says nothing about their need: they are not read as safe"
            )
        return found

    def inputs_read(self) -> tuple[tuple[str, str, str], ...]:
        """(role, path, SHA-256) of every file the run read, as a rerun checks them."""
        return tuple((source.role, source.path, source.sha256) for source in self.demand.areas.sources)

    def funded(self) -> np.ndarray:
        """Which areas the allocation funds (allocation's one definition), in area order."""
        return self.allocation.funded

    @property
    def spans_forces(self) -> bool:
        """True when the areas belong to more than one police force (a national run): the report then shows the money by force."""
        return len(self.demand.areas.force_names) > 1

    @property
    def many_areas(self) -> bool:
        """True when there are too many areas to list them all (eligibility.MANY_AREAS)."""
        return self.eligibility.many_areas

    def area_amounts(self) -> np.ndarray:
        """£ per area (all interventions)."""
        return self.allocation.amounts.values.sum(axis=1)

    def area_averted(self) -> np.ndarray:
        """Harm averted per area (days)."""
        return self.allocation.harm_averted.values.sum(axis=1)

    def intervention_names(self) -> tuple[str, ...]:
        """Display names of the interventions, in allocation order."""
        return tuple(self.scenario.interventions[item].name for item in self.curves.interventions)

    def spending_limit_gbp(self) -> float:
        """The most any split can spend under the rules whatever the budget (`explanation.most_spendable_gbp`): beyond it the
        budget curve is flat."""
        return most_spendable_gbp(self.request)

    def force_rows(self) -> list[dict]:
        """One row per force (its id as the data gives it, and its name): areas, residents, harm, eligible areas, bids funded,
        the model's £ and its share, harm averted, and each simple split's £ (`<baseline>_gbp`), most money first; then one row per group of areas left out, with its
        reason and £0, so that a table of forces shows them (forces.csv)."""
        areas = self.demand.areas
        names = areas.force_names
        position = {name: k for k, name in enumerate(names)}
        of_area = (
            np.array([position[force] for force in areas.forces], dtype=int) if areas.forces else np.zeros(len(areas.codes), dtype=int)
        )

        def by_force(values: np.ndarray) -> np.ndarray:
            return np.bincount(of_area, weights=np.asarray(values, dtype=float), minlength=len(names))

        amounts = by_force(self.area_amounts())
        harm = by_force(self.demand.harm.values.sum(axis=1))
        residents = by_force(self.demand.areas.population.values)
        funded = self.funded()
        bids = self.request.bids()
        pairs = np.unique(of_area[funded] * (int(bids.max(initial=0)) + 1) + bids[funded])
        bids_funded = np.bincount(pairs // (int(bids.max(initial=0)) + 1), minlength=len(names))
        splits = {f"{baseline.name}_gbp": by_force(baseline.amounts.values.sum(axis=1)) for baseline in self.baselines}
        eligible = np.bincount(of_area, weights=self.eligibility.eligible.values, minlength=len(names))
        averted = by_force(self.area_averted())
        counts = np.bincount(of_area, minlength=len(names))
        total_amount, total_harm, total_residents = amounts.sum(), harm.sum(), residents.sum()
        rows = []
        for k in sorted(range(len(names)), key=lambda k: (-round(amounts[k], 2), names[k])):
            rows.append(
                {
                    "force": names[k],
                    "force_name": force_name(names[k]),
                    "status": "modelled",
                    "areas": int(counts[k]),
                    "residents": round(float(residents[k])),
                    "share_of_residents": round(residents[k] / total_residents, 6) if total_residents else 0.0,
                    "expected_harm_days": days(harm[k]),
                    "share_of_harm": round(harm[k] / total_harm, 6) if total_harm else 0.0,
                    "eligible_areas": int(eligible[k]),
                    "bids_funded": int(bids_funded[k]),
                    "amount_gbp": money(amounts[k]),
                    "share_of_money": round(amounts[k] / total_amount, 6) if total_amount else 0.0,
                    "harm_averted_days": days(averted[k]),
                    **{key: money(values[k]) for key, values in splits.items()},
                    "reason": "",
                }
            )
        for group in areas.left_out:
            rows.append(
                {
                    "force": group.group,
                    "force_name": force_name(group.group),
                    "status": "left out",
                    "areas": group.areas,
                    "residents": round(float(group.population)),
                    "share_of_residents": None,
                    "expected_harm_days": None,
                    "share_of_harm": None,
                    "eligible_areas": 0,
                    "bids_funded": 0,
                    "amount_gbp": 0.0,
                    "share_of_money": 0.0,
                    "harm_averted_days": 0.0,
                    **{key: 0.0 for key in splits},
                    "reason": group.reason,
                }
            )
        return rows


@dataclass(frozen=True)
class RunResult(PointRun):
    """A finished run: the point-estimate run, its Monte Carlo, and provenance."""

    monte_carlo: MonteCarlo = field(kw_only=True)
    timings: dict = field(kw_only=True)
    versions: dict = field(kw_only=True)

    @classmethod
    def of(cls, point: PointRun, monte_carlo: MonteCarlo, timings: dict, versions: dict, allocation: Allocation | None = None) -> RunResult:
        """The finished run of `point`, with the plan the Monte Carlo chose as its allocation where it chose one."""
        stages = {item.name: getattr(point, item.name) for item in dataclasses.fields(PointRun)}
        if allocation is not None:
            stages["allocation"] = allocation
        return cls(**stages, monte_carlo=monte_carlo, timings=timings, versions=versions)

    # ---------------------------------------------------------------- tables

    def demand_rows(self) -> list[dict]:
        """One row per area × crime type: records, rates, forecast, harm and share of harm."""
        return self.demand_table().rows()

    def demand_table(self) -> Table:
        """demand.csv: one row per area × crime type: records, rates, forecast, harm and share of harm."""
        demand = self.demand
        total = demand.harm.values.sum()
        shape = demand.harm.values.shape
        columns = {
            "records": demand.records.values,
            "records_per_year": demand.annual_records.values,
            "rate_per_1000": demand.rate_per_1000.values,
            "expected_records": demand.expected.values,
            "expected_lower": demand.expected_lower.values,
            "expected_upper": demand.expected_upper.values,
            "weight_days": np.broadcast_to(demand.weights.weights.values, shape),
            "harm_days": demand.harm.values,
            "harm_per_1000": demand.harm_per_1000.values,
        }
        rounded = {key: _rounded(values, 3) for key, values in columns.items()}
        rounded["share_of_harm"] = _rounded(demand.harm.values / total, 6) if total else np.zeros(demand.harm.values.size)
        areas = len(demand.areas.codes)
        return Table(
            (
                ("area_code", _repeated(demand.areas.codes, len(CRIME_TYPES))),
                ("area_name", _repeated(demand.areas.names, len(CRIME_TYPES))),
                ("crime_type", _cycled(CRIME_TYPES, areas)),
                *rounded.items(),
            )
        )

    def eligibility_rows(self) -> list[dict]:
        """One row per area: verdict, its odds over the draws, reason, and each rule's value, threshold, margin and result."""
        return self.eligibility_table().rows()

    def eligibility_table(self) -> Table:
        """eligibility.csv: one row per area: verdict, its odds over the draws, reason, and each rule's value, threshold,
        margin and result."""
        return eligibility_table(self.eligibility, self.monte_carlo.verdicts)

    def uncertainty_rows(self) -> list[dict]:
        """One row per area: odds of eligibility and funding, and intervals of the best amount and the plan's harm averted."""
        return self.uncertainty_table().rows()

    def uncertainty_table(self) -> Table:
        """uncertainty.csv: one row per area: odds of eligibility and funding, and intervals of the best amount and the
        plan's harm averted."""
        carlo = self.monte_carlo
        verdicts = carlo.verdicts
        amount, averted = carlo.amount.values, carlo.averted.values
        return Table(
            (
                ("area_code", list(carlo.codes)),
                ("area_name", list(self.demand.areas.names[: len(carlo.codes)])),
                ("eligible", _flags(verdicts.point_eligible)),
                ("p_eligible", round_each(verdicts.p_eligible.values, 4)),
                ("marginal", _flags(verdicts.marginal)),
                ("p_funded", round_each(carlo.p_funded.values, 4)),
                ("plan_amount_gbp", money_each(_row_sums(self.allocation.amounts.values))),
                ("best_amount_p5_gbp", money_each(amount[:, 0])),
                ("best_amount_median_gbp", money_each(amount[:, 1])),
                ("best_amount_p95_gbp", money_each(amount[:, 2])),
                ("plan_harm_averted_p5_days", days_each(averted[:, 0])),
                ("plan_harm_averted_median_days", days_each(averted[:, 1])),
                ("plan_harm_averted_p95_days", days_each(averted[:, 2])),
            )
        )

    def plan_rows(self) -> list[dict]:
        """One row per plan (point estimate, expected, CVaR) scored on the same draws."""
        carlo = self.monte_carlo
        tail = carlo.tail_share
        rows = []
        for plan in carlo.plans:
            rows.append(
                {
                    "plan": plan.objective,
                    "description": plan.label,
                    "chosen": "true" if plan.objective == carlo.chosen else "false",
                    "allocated_gbp": money(plan.amounts.sum()),
                    "areas_funded": int(np.count_nonzero(funded_areas(plan.amounts))),
                    "harm_averted_mean_days": days(plan.mean),
                    f"harm_averted_worst_{tail:.0%}_mean_days".replace("%", "pct"): days(plan.worst_share_mean),
                    "harm_averted_p5_days": days(plan.quantile(0.05)),
                    "harm_averted_median_days": days(plan.quantile(0.5)),
                    "harm_averted_p95_days": days(plan.quantile(0.95)),
                    "mean_regret_days": None if plan.mean_regret is None else days(plan.mean_regret),
                    "how_found": plan.how,
                }
            )
        return rows

    def objective_words(self) -> str:
        """What the allocation optimises, in words filled in from the scenario (OBJECTIVE_WORDS)."""
        settings = self.scenario.allocation
        return OBJECTIVE_WORDS[settings.objective].format(
            tail=self.scenario.uncertainty.tail_share,
            harm=1.0 - settings.blend_weight,
            worst=settings.blend_weight,
            target=settings.target_harm_days,
            unit=self.demand.weights.unit,
        )

    def optimality_words(self) -> str:
        """How close the allocation is to the optimum, in one sentence from its certificate: the goal's value on the exact
        curves, the bound no split under the same rules can pass, and how both were found."""
        certificate = self.allocation.certificate
        if certificate is None:
            if self.scenario.allocation.objective in ("expected", "cvar"):
                return (
                    f"The {self.monte_carlo.plan.label} is chosen on the Monte Carlo draws, so it carries no certificate at the "
                    "point estimates; how far it can be from the best plan on the draws is under How sure are we?"
                )
            return "No optimality certificate was computed for this allocation."
        if certificate.method == "nothing fundable":
            return "Nothing can be funded under the rules, so there is no split to optimise."
        unit = self.demand.weights.unit
        value, bound = certificate.value, certificate.bound
        if certificate.goal == "least_cost":
            target = f"{days_words(self.request.target_harm_days)} {unit}"
            claim = (
                f"these amounts avert the target of {target} for {gbp(value)} on the exact response curves, and no split under "
                f"the same rules averts it for less{'' if certificate.gap == 0 else f' than {gbp(bound)}'}"
            )
        elif certificate.goal == "maxmin":
            claim = (
                f"these amounts avert {value:.4g} days per day of basket harm in the worst-served area on the exact response "
                f"curves, and no split under the same rules can raise that{'' if certificate.gap == 0 else f' above {bound:.4g}'}"
            )
        elif certificate.goal == "blend":
            claim = (
                f"these amounts score {value:,.0f} on the blend ({unit}) on the exact response curves, and no split under the "
                f"same rules can score more{'' if certificate.gap == 0 or bound - value < 1.0 else f' than {bound:,.0f}'}"
            )
        else:
            if certificate.gap == 0:
                most = "more"
            elif bound - value < 1.0:
                most = f"even one {unit[:-1]} more"
            else:
                most = f"more than {bound:,.0f}"
            claim = (
                f"these amounts avert {value:,.0f} {unit} on the exact response curves, and no split under the same rules can avert {most}"
            )
        head = "Optimal" if certificate.gap == 0 else f"Optimal to within {percent(certificate.gap)}"
        method = certificate.method
        if method.endswith(")") and " (" in method:  # its own note in brackets, said after a colon so brackets do not nest
            method = method[:-1].replace(" (", ": ", 1)
        return f"{head}: {claim} ({method})."

    def rule_rows(self) -> list[dict]:
        """rules.csv: one row per binding rule of the point-estimate allocation: its words, the scenario key that sets it,
        the solver's price, and the goal's change when its limit is raised or lowered a step (re-solved)."""
        rows = []
        for effect in self.rule_effects:
            price = effect.price
            rows.append(
                {
                    "rule": effect.title,
                    "words": effect.words,
                    "config_key": effect.config_key,
                    "unit": effect.unit,
                    "step": significant(effect.step),
                    "goal_unit": effect.goal_unit,
                    "solver_price_per_unit": significant(price),
                    "solver_price_per_step": None if price is None else _in_unit(price * effect.step, effect.goal_unit),
                    "change_when_raised": _in_unit(effect.gain_up, effect.goal_unit),
                    "change_when_lowered": _in_unit(effect.change_down, effect.goal_unit),
                    "conditional_on_bids": "true" if effect.conditional else "false",
                    "sentence": effect.sentence(),
                }
            )
        return rows

    def budget_curve_rows(self) -> list[dict]:
        """budget_curve.csv: the goal's value at each budget of the curve, the slope to the next point per £1,000, the
        status of each solve, and which row is the scenario's budget (added where the curve's points miss it)."""
        curve = self.budget_curve
        if curve is None:
            return []
        slopes = curve.slopes()
        rows = []
        budgets = list(curve.budgets_gbp)
        at_budget = [k for k, budget in enumerate(budgets) if np.isclose(budget, curve.budget_gbp, rtol=0.0, atol=0.005)]
        for k, budget in enumerate(budgets):
            slope = slopes[k] * 1000.0 if k < len(slopes) and np.isfinite(slopes[k]) else None
            rows.append(
                {
                    "budget_gbp": money(budget),
                    "goal_value": _in_unit(curve.values[k], curve.goal_unit),
                    "goal_unit": curve.goal_unit,
                    "slope_to_next_per_1000_gbp": _in_unit(slope, curve.goal_unit),
                    "status": curve.statuses[k],
                    "scenario_budget": "true" if k in at_budget else "false",
                }
            )
        if not at_budget:
            value = self.allocation.certificate.value if self.allocation.certificate is not None else None
            position = int(np.searchsorted(curve.budgets_gbp, curve.budget_gbp))
            rows.insert(
                position,
                {
                    "budget_gbp": money(curve.budget_gbp),
                    "goal_value": _in_unit(value, curve.goal_unit),
                    "goal_unit": curve.goal_unit,
                    "slope_to_next_per_1000_gbp": None,
                    "status": "the run's allocation" if value is not None else "the scenario's budget (not solved on the curve)",
                    "scenario_budget": "true",
                },
            )
        return rows

    def tornado_rows(self) -> list[dict]:
        """One row per uncertain input: its low and high, and the plan's harm averted and the top area's best amount at each."""
        carlo = self.monte_carlo
        top = self.demand.areas.names[self.demand.areas.codes.index(carlo.top_area)]
        return [
            {
                "input": bar.key,
                "label": bar.label,
                "low": round(bar.low, 6),
                "high": round(bar.high, 6),
                "harm_averted_at_low_days": days(bar.averted_low),
                "harm_averted_at_high_days": days(bar.averted_high),
                "swing_days": days(bar.swing),
                "top_area": top,
                "top_area_amount_at_low_gbp": money(bar.amount_low),
                "top_area_amount_at_high_gbp": money(bar.amount_high),
            }
            for bar in carlo.tornado
        ]

    def allocation_rows(self) -> list[dict]:
        """One row per area × intervention: £ and harm averted."""
        return self.allocation_table().rows()

    def allocation_table(self) -> Table:
        """allocation.csv: one row per area × intervention: £ and harm averted."""
        allocation = self.allocation
        areas = self.demand.areas
        amounts = allocation.amounts
        codes, interventions = amounts.labels("area"), amounts.labels("intervention")
        averted = allocation.harm_averted.take("area", codes).take("intervention", interventions)
        names = dict(zip(areas.codes, areas.names))
        return Table(
            (
                ("area_code", _repeated(codes, len(interventions))),
                ("area_name", _repeated([names[code] for code in codes], len(interventions))),
                ("intervention", _cycled(interventions, len(codes))),
                ("amount_gbp", money_each(amounts.values).ravel()),
                ("harm_averted_days", days_each(averted.values).ravel()),
            )
        )

    def method_totals(self) -> list[dict]:
        """Totals for the optimised allocation and each baseline."""
        best = self.allocation.averted_days
        objective = self.scenario.allocation.objective
        certificate = self.allocation.certificate
        from_draws = objective in ("expected", "cvar")
        methods = [
            (
                f"{objective} plan" if from_draws else "optimised",
                f"the {self.monte_carlo.plan.label}, chosen on the Monte Carlo draws; at the point estimates a simple split can avert more"
                if from_draws
                else self.objective_words() + (f" ({certificate.method})" if certificate else ""),
                self.allocation.allocated_gbp,
                best,
                len(self.allocation.funded_codes),
                True,
            )
        ]
        for baseline in self.baselines:
            funded = int(np.count_nonzero(baseline.funded))
            description = baseline.description
            if not baseline.same_rules:
                description += (
                    f"; breaks {baseline.breaches[0]}{' and more' if len(baseline.breaches) > 1 else ''}, so it is not under the same rules"
                )
            methods.append((baseline.name, description, baseline.allocated_gbp, baseline.averted_days, funded, baseline.same_rules))
        return [
            {
                "method": name,
                "description": description,
                "allocated_gbp": money(allocated),
                "harm_averted_days": days(averted),
                "gbp_per_harm_day": money(allocated / averted) if averted > 0 else None,
                "harm_averted_vs_optimised_pct": round(100.0 * averted / best, 2) if best > 0 and same_rules else None,
                "areas_funded": funded,
                "same_rules": same_rules,
            }
            for name, description, allocated, averted, funded, same_rules in methods
        ]

    def baseline_rows(self) -> list[dict]:
        """One row per method × area (£ and harm averted), then a total row per method."""
        return self.baseline_table().rows()

    def baseline_table(self) -> Table:
        """baselines.csv: one row per method × area (£ and harm averted), then a total row per method."""
        totals = self.method_totals()
        splits = [(totals[0]["method"], self.allocation.amounts.values, self.allocation.harm_averted.values)]
        splits += [(b.name, b.amounts.values, b.harm_averted.values) for b in self.baselines]
        totals = {row["method"]: row for row in totals}
        codes, names = list(self.demand.areas.codes), list(self.demand.areas.names)
        amounts, averted = [], []
        for name, split_amounts, split_averted in splits:
            amounts += [money_each(_row_sums(split_amounts)), [totals[name]["allocated_gbp"]]]
            averted += [days_each(_row_sums(split_averted)), [totals[name]["harm_averted_days"]]]
        return Table(
            (
                ("method", _repeated([name for name, _, _ in splits], len(codes) + 1)),
                ("area_code", _cycled([*codes, "TOTAL"], len(splits))),
                ("area_name", _cycled([*names, "All areas"], len(splits))),
                ("amount_gbp", np.concatenate(amounts)),
                ("harm_averted_days", np.concatenate(averted)),
            )
        )

    def summary(self) -> Summary:
        """The run's headline figures (summary.json), as one typed value."""
        scenario, allocation, demand = self.scenario, self.allocation, self.demand
        fund_round = scenario.round
        names = dict(zip(demand.areas.codes, demand.areas.names))
        averted = allocation.averted_days
        shadow = allocation.budget_shadow_price
        carlo = self.monte_carlo
        return Summary(
            scenario=scenario.name,
            title=scenario.title,
            question=scenario.question,
            fund_round=scenario.fund_round,
            fund_round_name=fund_round.name,
            force=demand.areas.force_name,
            data_period=f"{demand.areas.period_start}..{demand.areas.period_end}",
            horizon_months=demand.horizon_months,
            harm_weights=demand.weights.name,
            harm_unit=demand.weights.unit,
            budget_gbp=money(scenario.budget_gbp),
            allocated_gbp=money(allocation.allocated_gbp),
            unallocated_gbp=money(scenario.budget_gbp - allocation.allocated_gbp),
            harm_averted_days=days(averted),
            harm_averted_interval_days=(days(carlo.interval[0]), days(carlo.interval[1])),
            harm_averted_interval_coverage=carlo.coverage,
            harm_averted_interval_includes=carlo.includes,
            draws=carlo.draws,
            plan=carlo.chosen,
            harm_averted_mean_days=days(carlo.plan.mean),
            harm_averted_worst_share_days=days(carlo.plan.worst_share_mean),
            worst_share=carlo.tail_share,
            perfect_information_days=None if carlo.perfect_information_days is None else days(carlo.perfect_information_days),
            marginal_areas=tuple(names[code] for code, marginal in zip(carlo.codes, carlo.verdicts.marginal) if marginal),
            plans=tuple(self.plan_rows()),
            gbp_per_harm_day_averted=money(allocation.allocated_gbp / averted) if averted > 0 else None,
            expected_harm_days=days(demand.harm.values.sum()),
            eligible_areas=len(self.eligibility.eligible_codes),
            eligible_area_names=tuple(names[code] for code in self.eligibility.eligible_codes),
            funded_areas=tuple(names[code] for code in allocation.funded_codes),
            max_grant_gbp=money(fund_round.max_grant_gbp),
            bids_per_commissioner=fund_round.bids_per_commissioner,
            match_funding_required_gbp=money(allocation.allocated_gbp * fund_round.match_funding_rate),
            solver=allocation.solver,
            status=str(allocation.status),
            budget_shadow_price_days_per_1000_gbp=days(shadow * 1000) if shadow is not None else None,
            binding_constraints=tuple(allocation.binding),
            objective=scenario.allocation.objective,
            objective_words=self.objective_words(),
            certificate=allocation.certificate,
            optimality=self.optimality_words(),
            rule_effects=tuple(effect.sentence() for effect in self.rule_effects),
            gini=round(demand.concentration.gini, 4),
            top_shares=tuple((fraction, round(demand.concentration.top_share(fraction), 4)) for fraction in TOP_FRACTIONS),
            baselines=tuple(self.method_totals()),
            shocks=tuple(demand.shocks),
            command_line=tuple(item.describe() for item in self.loaded.command_line),
            seed=scenario.seed,
            forces=tuple(self.force_rows()) if self.spans_forces else (),
        )

    def manifest(self) -> dict:
        """Everything needed to repeat the run: the resolved scenario, inputs with hashes, versions."""
        return {
            "scenario": _plain(dataclasses.asdict(self.scenario)),
            "scenario_files": list(self.loaded.files),
            "overrides": [str(item) for item in self.loaded.overrides],
            "command_line": [item.as_record() for item in self.loaded.command_line],
            "accepted_changed_inputs": [dataclasses.asdict(item) for item in self.loaded.changed_inputs(self.inputs_read())],
            "inputs": [dataclasses.asdict(source) for source in self.demand.areas.sources],
            "data_caveat": COUNT_CAVEAT,
            "warnings": self.warnings(),
            "population_source": self.demand.areas.population_source,
            "count_source": self.demand.areas.count_source,
            "forecast_method": self.demand.forecast.description if self.demand.forecast else FORECAST_METHOD,
            "forecast": self.demand.forecast.as_dict() if self.demand.forecast else None,
            "versions": self.versions,
            "solver": self.allocation.solver,
            "status": str(self.allocation.status),
            "seed": self.scenario.seed,
            "monte_carlo": {
                "draws": self.monte_carlo.draws,
                "includes": self.monte_carlo.includes,
                "seconds": round(self.monte_carlo.seconds, 4),
            },
            "timings_seconds": {key: round(value, 4) for key, value in self.timings.items()},
        }


def eligibility_rows(verdict: Eligibility, odds: VerdictOdds | None = None) -> list[dict]:
    """One row per area: verdict, its odds over the Monte Carlo draws (when given), reason, and each rule's value,
    threshold, margin and result."""
    return eligibility_table(verdict, odds).rows()


def eligibility_table(verdict: Eligibility, odds: VerdictOdds | None = None) -> Table:
    """eligibility.csv: one row per area: verdict, its odds over the Monte Carlo draws (when given), reason, and each
    rule's value, threshold, margin (a margin in records only where it is finite) and result."""
    columns = [
        ("area_code", list(verdict.codes)),
        ("area_name", list(verdict.names)),
        ("eligible", _flags(verdict.eligible.values)),
        ("reason", list(verdict.reasons)),
    ]
    if odds is not None:
        columns += [("p_eligible", round_each(odds.p_eligible.values, 4)), ("marginal", _flags(odds.marginal))]
    for outcome in verdict.outcomes:
        records = np.full(len(verdict.codes), np.nan) if outcome.margin_records is None else np.asarray(outcome.margin_records, dtype=float)
        finite = np.isfinite(records)
        columns += [
            (f"{outcome.rule_id}_value", days_each(outcome.values)),
            (f"{outcome.rule_id}_threshold", days_each(outcome.thresholds)),
            (f"{outcome.rule_id}_margin", days_each(outcome.margins)),
            (f"{outcome.rule_id}_margin_records", np.ma.masked_array(days_each(np.where(finite, records, 0.0)), mask=~finite)),
            (f"{outcome.rule_id}_passed", _flags(outcome.passed)),
        ]
    return Table(tuple(columns))


def _in_unit(value: float | None, unit: str) -> float | None:
    """A goal value rounded for output as its unit asks: harm days to a thousandth, £ to the penny, others to 6 digits."""
    if value is None or not np.isfinite(value):
        return None
    if unit == "£":
        return money(value)
    if unit == "harm days":
        return days(value)
    return significant(value)


def _certificate_record(certificate: Certificate | None) -> dict | None:
    """The certificate as summary.json holds it: goal, unit, value and bound in the goal's unit, the gap as a fraction, the method."""
    if certificate is None:
        return None
    return {
        "goal": certificate.goal,
        "unit": certificate.unit,
        "value": _in_unit(certificate.value, certificate.unit),
        "bound": _in_unit(certificate.bound, certificate.unit),
        "gap": significant(certificate.gap, 4),
        "method": certificate.method,
    }


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
