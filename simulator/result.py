"""The outcome of one run: every stage's output plus its provenance, and the tables a report writes.

Rows are rounded here for output (pennies, thousandths of a day), so that the CSV and JSON files
are stable byte for byte; the arrays behind them keep full precision.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .allocation import Allocation
from .baselines import Baseline
from .constraints import AllocationRequest, funded_areas
from .demand import FORECAST_METHOD, TOP_FRACTIONS, Demand
from .eligibility import Eligibility
from .explanation import BudgetCurve, RuleEffect
from .interventions import Curves
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
    perfect_information_days: float
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
    gini: float
    top_shares: tuple[tuple[float, float], ...]
    baselines: tuple[dict, ...]
    shocks: tuple[str, ...]
    command_line: tuple[str, ...]
    seed: int

    def top_share(self, fraction: float) -> float:
        """Share of harm held by the top `fraction` of areas (one of TOP_FRACTIONS)."""
        return dict(self.top_shares)[fraction]

    def as_dict(self) -> dict:
        """summary.json: the figures as plain JSON-ready data, in a stable order."""
        data = {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}
        for key in ("gini", "top_shares", "baselines", "command_line", "seed", "shocks"):
            data.pop(key)
        data["harm_averted_interval_days"] = list(self.harm_averted_interval_days)
        for key in ("eligible_area_names", "funded_areas", "binding_constraints", "marginal_areas"):
            data[key] = list(data[key])
        data["concentration"] = {
            "gini": self.gini,
            **{f"top_{int(f * 100)}pct_of_areas_share_of_harm": share for f, share in self.top_shares},
        }
        data["baselines"] = {row["method"]: {k: v for k, v in row.items() if k != "method"} for row in self.baselines}
        data["plans"] = {row["plan"]: {k: v for k, v in row.items() if k != "plan"} for row in self.plans}
        data["shocks"] = list(self.shocks)
        data["command_line_overrides"] = list(self.command_line)
        data["seed"] = self.seed
        return data


@dataclass(frozen=True)
class RunResult:
    """A finished run: stage outputs, baselines and provenance."""

    loaded: LoadedScenario
    demand: Demand
    eligibility: Eligibility
    curves: Curves
    request: AllocationRequest
    allocation: Allocation
    baselines: tuple[Baseline, ...]
    monte_carlo: MonteCarlo
    timings: dict
    versions: dict
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
        return found

    def inputs_read(self) -> tuple[tuple[str, str, str], ...]:
        """(role, path, SHA-256) of every file the run read, as a rerun checks them."""
        return tuple((source.role, source.path, source.sha256) for source in self.demand.areas.sources)

    def funded(self) -> np.ndarray:
        """Which areas the allocation funds (allocation's one definition), in area order."""
        return self.allocation.funded

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

    # ---------------------------------------------------------------- tables

    def demand_rows(self) -> list[dict]:
        """One row per area × crime type: records, rates, forecast, harm and share of harm."""
        demand = self.demand
        total = demand.harm.values.sum()
        rows = []
        for a, code in enumerate(demand.areas.codes):
            for c, crime_type in enumerate(CRIME_TYPES):
                harm_days = demand.harm.values[a, c]
                rows.append(
                    {
                        "area_code": code,
                        "area_name": demand.areas.names[a],
                        "crime_type": crime_type,
                        "records": days(demand.records.values[a, c]),
                        "records_per_year": days(demand.annual_records.values[a, c]),
                        "rate_per_1000": days(demand.rate_per_1000.values[a, c]),
                        "expected_records": days(demand.expected.values[a, c]),
                        "expected_lower": days(demand.expected_lower.values[a, c]),
                        "expected_upper": days(demand.expected_upper.values[a, c]),
                        "weight_days": days(demand.weights.weights.values[c]),
                        "harm_days": days(harm_days),
                        "harm_per_1000": days(demand.harm_per_1000.values[a, c]),
                        "share_of_harm": round(harm_days / total, 6) if total else 0.0,
                    }
                )
        return rows

    def eligibility_rows(self) -> list[dict]:
        """One row per area: verdict, its odds over the draws, reason, and each rule's value, threshold, margin and result."""
        return eligibility_rows(self.eligibility, self.monte_carlo.verdicts)

    def uncertainty_rows(self) -> list[dict]:
        """One row per area: odds of eligibility and funding, and intervals of the best amount and the plan's harm averted."""
        carlo = self.monte_carlo
        verdicts = carlo.verdicts
        names = self.demand.areas.names
        rows = []
        for a, code in enumerate(carlo.codes):
            amount, averted = carlo.amount.values[a], carlo.averted.values[a]
            rows.append(
                {
                    "area_code": code,
                    "area_name": names[a],
                    "eligible": "true" if verdicts.point_eligible[a] else "false",
                    "p_eligible": round(float(verdicts.p_eligible.values[a]), 4),
                    "marginal": "true" if verdicts.marginal[a] else "false",
                    "p_funded": round(float(carlo.p_funded.values[a]), 4),
                    "plan_amount_gbp": money(self.allocation.amounts.values[a].sum()),
                    "best_amount_p5_gbp": money(amount[0]),
                    "best_amount_median_gbp": money(amount[1]),
                    "best_amount_p95_gbp": money(amount[2]),
                    "plan_harm_averted_p5_days": days(averted[0]),
                    "plan_harm_averted_median_days": days(averted[1]),
                    "plan_harm_averted_p95_days": days(averted[2]),
                }
            )
        return rows

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
                    "mean_regret_days": days(plan.mean_regret),
                    "how_found": plan.how,
                }
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
        allocation = self.allocation
        names = self.demand.areas.names
        rows = []
        for (code, intervention), amount in allocation.amounts.cells():
            a = self.demand.areas.codes.index(code)
            rows.append(
                {
                    "area_code": code,
                    "area_name": names[a],
                    "intervention": intervention,
                    "amount_gbp": money(amount),
                    "harm_averted_days": days(allocation.harm_averted.get(area=code, intervention=intervention)),
                }
            )
        return rows

    def method_totals(self) -> list[dict]:
        """Totals for the optimised allocation and each baseline."""
        best = self.allocation.averted_days
        objective = self.scenario.allocation.objective
        methods = [
            (
                "optimised" if objective == "point" else f"{objective} plan",
                "the most harm averted within the round's rules: the linear program picks the funded bids, "
                "and the amounts are then optimal on the exact response curves"
                if objective == "point"
                else f"the {self.monte_carlo.plan.label}, chosen on the Monte Carlo draws; at the point estimates "
                "a simple split can avert more",
                self.allocation.allocated_gbp,
                best,
                len(self.allocation.funded_codes),
            )
        ]
        for baseline in self.baselines:
            funded = int(np.count_nonzero(baseline.funded))
            methods.append((baseline.name, baseline.description, baseline.allocated_gbp, baseline.averted_days, funded))
        return [
            {
                "method": name,
                "description": description,
                "allocated_gbp": money(allocated),
                "harm_averted_days": days(averted),
                "gbp_per_harm_day": money(allocated / averted) if averted > 0 else None,
                "harm_averted_vs_optimised_pct": round(100.0 * averted / best, 2) if best > 0 else None,
                "areas_funded": funded,
            }
            for name, description, allocated, averted, funded in methods
        ]

    def baseline_rows(self) -> list[dict]:
        """One row per method × area (£ and harm averted), then a total row per method."""
        rows = []
        chosen = self.method_totals()[0]["method"]
        splits = [(chosen, self.allocation.amounts.values, self.allocation.harm_averted.values)]
        splits += [(b.name, b.amounts.values, b.harm_averted.values) for b in self.baselines]
        totals = {row["method"]: row for row in self.method_totals()}
        for name, amounts, averted in splits:
            for a, code in enumerate(self.demand.areas.codes):
                rows.append(
                    {
                        "method": name,
                        "area_code": code,
                        "area_name": self.demand.areas.names[a],
                        "amount_gbp": money(amounts[a].sum()),
                        "harm_averted_days": days(averted[a].sum()),
                    }
                )
            rows.append(
                {
                    "method": name,
                    "area_code": "TOTAL",
                    "area_name": "All areas",
                    "amount_gbp": totals[name]["allocated_gbp"],
                    "harm_averted_days": totals[name]["harm_averted_days"],
                }
            )
        return rows

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
            perfect_information_days=days(carlo.perfect_information_days),
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
            gini=round(demand.concentration.gini, 4),
            top_shares=tuple((fraction, round(demand.concentration.top_share(fraction), 4)) for fraction in TOP_FRACTIONS),
            baselines=tuple(self.method_totals()),
            shocks=tuple(demand.shocks),
            command_line=tuple(item.describe() for item in self.loaded.command_line),
            seed=scenario.seed,
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
    rows = []
    for a, code in enumerate(verdict.codes):
        row = {
            "area_code": code,
            "area_name": verdict.names[a],
            "eligible": "true" if verdict.eligible.values[a] else "false",
            "reason": verdict.reasons[a],
        }
        if odds is not None:
            row["p_eligible"] = round(float(odds.p_eligible.values[a]), 4)
            row["marginal"] = "true" if odds.marginal[a] else "false"
        for outcome in verdict.outcomes:
            row[f"{outcome.rule_id}_value"] = days(outcome.values[a])
            row[f"{outcome.rule_id}_threshold"] = days(outcome.thresholds[a])
            row[f"{outcome.rule_id}_margin"] = days(outcome.margins[a])
            records = np.nan if outcome.margin_records is None else outcome.margin_records[a]
            row[f"{outcome.rule_id}_margin_records"] = days(records) if np.isfinite(records) else None
            row[f"{outcome.rule_id}_passed"] = "true" if outcome.passed[a] else "false"
        rows.append(row)
    return rows


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
