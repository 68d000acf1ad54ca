"""Many runs at once: compare scenarios side by side against the first one, the reference.

A comparison lines the runs up area by area (the union of their areas, in the reference's order,
then any new ones), and says what changed: which areas gained or lost eligibility or money, and
how the totals moved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .eligibility import too_many_to_list
from .errors import ConfigError
from .pipeline import run
from .result import RunResult, days, money
from .scenario import LoadedScenario

Progress = Callable[[str], None]
MONEY_TOLERANCE_GBP = 0.5


@dataclass(frozen=True)
class AreaChange:
    """How one area fared in a scenario against the reference."""

    scenario: str
    area_code: str
    area_name: str
    was_eligible: bool | None
    is_eligible: bool | None
    amount_before_gbp: float
    amount_after_gbp: float

    @property
    def amount_change_gbp(self) -> float:
        """£ after minus £ before."""
        return self.amount_after_gbp - self.amount_before_gbp

    @property
    def eligibility_change(self) -> str:
        """ "gained", "lost", or "" when the verdict did not change."""
        if self.was_eligible is None or self.is_eligible is None or self.was_eligible == self.is_eligible:
            return ""
        return "gained" if self.is_eligible else "lost"

    def describe(self) -> str:
        """The change in a few words, e.g. 'Dover: lost eligibility; £46,875 → £0 (−£46,875)'."""
        parts = []
        if self.eligibility_change:
            parts.append(f"{self.eligibility_change} eligibility")
        elif self.is_eligible is None:
            parts.append("not in this scenario's areas")
        elif self.was_eligible is None:
            parts.append("not in the reference's areas")
        if abs(self.amount_change_gbp) >= MONEY_TOLERANCE_GBP:
            sign = "+" if self.amount_change_gbp > 0 else "−"
            parts.append(f"£{self.amount_before_gbp:,.0f} → £{self.amount_after_gbp:,.0f} ({sign}£{abs(self.amount_change_gbp):,.0f})")
        return f"{self.area_name}: {'; '.join(parts)}"


@dataclass(frozen=True)
class Comparison:
    """Runs of several scenarios, the first being the reference the others are measured against."""

    results: tuple[RunResult, ...]
    labels: tuple[str, ...]
    area_codes: tuple[str, ...]
    area_names: tuple[str, ...]

    @property
    def reference(self) -> RunResult:
        """The first scenario's run."""
        return self.results[0]

    def amounts(self) -> np.ndarray:
        """£ per scenario × area (0 where an area is not in a scenario)."""
        return self._per_area(lambda result: result.area_amounts(), 0.0)

    def averted(self) -> np.ndarray:
        """Harm averted (days) per scenario × area."""
        return self._per_area(lambda result: result.area_averted(), 0.0)

    @property
    def many_areas(self) -> bool:
        """True when the lined-up areas are too many to list one by one."""
        return too_many_to_list(len(self.area_codes))

    def funded(self) -> np.ndarray:
        """Whether each scenario funds each area (False where the area is not modelled)."""
        return self._per_area(lambda result: result.funded().astype(float), 0.0) > 0.5

    def eligible(self) -> np.ndarray:
        """Eligibility per scenario × area: 1 eligible, 0 not, NaN where the area is not modelled."""
        return self._per_area(lambda result: result.eligibility.eligible.values.astype(float), np.nan)

    def _per_area(self, values: Callable[[RunResult], np.ndarray], missing: float) -> np.ndarray:
        table = np.full((len(self.results), len(self.area_codes)), missing, dtype=float)
        for s, result in enumerate(self.results):
            index = {code: a for a, code in enumerate(result.demand.areas.codes)}
            found = values(result)
            for a, code in enumerate(self.area_codes):
                if code in index:
                    table[s, a] = found[index[code]]
        return table

    def changes(self) -> tuple[tuple[AreaChange, ...], ...]:
        """For each scenario after the first, the areas whose verdict or amount differs from the reference."""
        amounts, eligible = self.amounts(), self.eligible()
        found = []
        for s in range(1, len(self.results)):
            changed = []
            for a, code in enumerate(self.area_codes):
                change = AreaChange(
                    self.labels[s],
                    code,
                    self.area_names[a],
                    _verdict(eligible[0, a]),
                    _verdict(eligible[s, a]),
                    float(amounts[0, a]),
                    float(amounts[s, a]),
                )
                if (
                    change.eligibility_change
                    or change.is_eligible != change.was_eligible
                    or abs(change.amount_change_gbp) >= MONEY_TOLERANCE_GBP
                ):
                    changed.append(change)
            changed.sort(key=lambda item: (not item.eligibility_change, -abs(item.amount_change_gbp), item.area_name))
            found.append(tuple(changed))
        return tuple(found)

    def rows(self) -> list[dict]:
        """comparison.csv: one row per area × scenario, with the change against the reference."""
        amounts, averted, eligible = self.amounts(), self.averted(), self.eligible()
        positions = [{code: a for a, code in enumerate(result.demand.areas.codes)} for result in self.results]
        rows = []
        for a, code in enumerate(self.area_codes):
            for s, result in enumerate(self.results):
                verdict = _verdict(eligible[s, a])
                reason = ""
                if verdict is not None:
                    reason = result.eligibility.short_reason(positions[s][code])
                change = AreaChange(
                    self.labels[s], code, self.area_names[a], _verdict(eligible[0, a]), verdict, float(amounts[0, a]), float(amounts[s, a])
                )
                rows.append(
                    {
                        "area_code": code,
                        "area_name": self.area_names[a],
                        "scenario": self.labels[s],
                        "eligible": "not modelled" if verdict is None else ("true" if verdict else "false"),
                        "reason": reason,
                        "amount_gbp": money(amounts[s, a]),
                        "harm_averted_days": days(averted[s, a]),
                        "amount_change_gbp": money(change.amount_change_gbp),
                        "harm_averted_change_days": days(averted[s, a] - averted[0, a]),
                        "eligibility_change": change.eligibility_change,
                    }
                )
        return rows

    def totals_rows(self) -> list[dict]:
        """totals.csv: one row per scenario with its headline figures and the change in harm averted."""
        reference = self.reference.allocation.averted_days
        rows = []
        for label, result in zip(self.labels, self.results):
            summary = result.summary()
            averted = result.allocation.averted_days
            rows.append(
                {
                    "scenario": label,
                    "title": result.scenario.title,
                    "fund_round": result.scenario.fund_round,
                    "budget_gbp": summary.budget_gbp,
                    "allocated_gbp": summary.allocated_gbp,
                    "unallocated_gbp": summary.unallocated_gbp,
                    "harm_averted_days": summary.harm_averted_days,
                    "harm_averted_low_days": summary.harm_averted_interval_days[0],
                    "harm_averted_high_days": summary.harm_averted_interval_days[1],
                    "gbp_per_harm_day_averted": summary.gbp_per_harm_day_averted,
                    "eligible_areas": summary.eligible_areas,
                    "funded_areas": len(summary.funded_areas),
                    "harm_averted_change_days": days(averted - reference),
                    "harm_averted_change_pct": round(100.0 * (averted - reference) / reference, 2) if reference > 0 else None,
                }
            )
        return rows

    def summary(self) -> dict:
        """The comparison's headline figures and changes (summary.json)."""
        return {
            "reference": self.labels[0],
            "scenarios": self.totals_rows(),
            "changes": {label: [change.describe() for change in changes] for label, changes in zip(self.labels[1:], self.changes())},
        }

    def headlines(self, limit: int = 8) -> list[str]:
        """A few lines per scenario saying what changed against the reference."""
        lines = []
        totals = self.totals_rows()
        first = totals[0]
        unit = self.reference.demand.weights.short_unit
        for row, changes in zip(totals[1:], self.changes()):
            change = row["harm_averted_change_days"]
            lines.append(
                f"{row['scenario']} against {first['scenario']}: budget £{first['budget_gbp']:,.0f} → £{row['budget_gbp']:,.0f}; "
                f"harm averted {first['harm_averted_days']:,.0f} → {row['harm_averted_days']:,.0f} {unit} "
                f"({'+' if change >= 0 else '−'}{abs(change):,.0f}"
                + (f", {_signed(row['harm_averted_change_pct'])} %" if row["harm_averted_change_pct"] is not None else "")
                + ")"
                f"; eligible {first['eligible_areas']} → {row['eligible_areas']}, funded {first['funded_areas']} → {row['funded_areas']}"
            )
            if not changes:
                lines.append("  no area's verdict or amount changed")
            lines += [f"  {change.describe()}" for change in changes[:limit]]
            if len(changes) > limit:
                lines.append(f"  … and {len(changes) - limit} more (see comparison.csv)")
        return lines


def _need_two(count: int) -> None:
    if count < 2:
        raise ConfigError("compare needs at least two scenarios", got=count, hint="name the reference first, then one or more what-ifs")


def comparison_name(names: Sequence[str]) -> str:
    """The default folder name for comparing these scenarios: compare-<first>-vs-<second>[-and-N-more]."""
    _need_two(len(names))
    labels = unique_labels(names)
    name = f"compare-{labels[0]}-vs-{labels[1]}" + (f"-and-{len(labels) - 2}-more" if len(labels) > 2 else "")
    return name[:150]


def compare(scenarios: Sequence[LoadedScenario], progress: Progress | None = None) -> Comparison:
    """Run each scenario and line the runs up against the first."""
    _need_two(len(scenarios))
    report = progress or (lambda message: None)
    results = []
    for loaded in scenarios:
        report(loaded.scenario.name)
        results.append(run(loaded))
    return comparison_of(results)


def comparison_of(results: Sequence[RunResult]) -> Comparison:
    """Line finished runs up, area by area, against the first."""
    codes: list[str] = []
    names: dict[str, str] = {}
    for result in results:
        for code, name in zip(result.demand.areas.codes, result.demand.areas.names):
            if code not in names:
                codes.append(code)
                names[code] = name
    return Comparison(
        tuple(results), unique_labels([result.scenario.name for result in results]), tuple(codes), tuple(names[code] for code in codes)
    )


def unique_labels(names: Sequence[str]) -> tuple[str, ...]:
    """Scenario names made unique by numbering repeats (kent-baseline, kent-baseline-2)."""
    labels: list[str] = []
    for name in names:
        label, number = name, 1
        while label in labels:
            number += 1
            label = f"{name}-{number}"
        labels.append(label)
    return tuple(labels)


def _signed(value: float) -> str:
    return f"{'+' if value >= 0 else '−'}{abs(value):.1f}"


def _verdict(value: float) -> bool | None:
    return None if np.isnan(value) else bool(value)
