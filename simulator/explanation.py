"""Why the allocation looks as it does: what each binding rule costs, and how harm averted responds to the budget.

Each rule the solution presses against is priced twice. The solver's price (a shadow price from
the water-filling's conditions or the linear program's duals) is the marginal value at the
solution. The re-solved effect moves the rule's limit one step up and one step down (£10,000 for
money, one percentage point for a share, one bid for the bid limit) and solves again, so the
sentence "raising it by £10,000 would avert 40 more harm days" is a measured fact, and the two
sides show over what range the price holds: where they differ the price is on a bend. Where a
mixed-integer program chose the bids, the re-solves keep those bids, so the prices are
conditional on them (the bid limit itself is re-solved with bids free).

The budget-response curve V(B) solves the same problem at budgets from £0 to twice the budget;
its slope at the budget is the budget's shadow price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .allocation import Allocation, solved_value
from .constraints import AllocationRequest, Family, gbp
from .errors import InfeasibleError
from .wording import binding_rows, price_step

MOST_RULES = 12
"""Rules priced by re-solving, most valuable first; the rest are listed without a re-solve."""


@dataclass(frozen=True)
class RuleEffect:
    """One binding rule: its words, the solver's price at the solution, and the goal's change when its limit moves a step."""

    family: str
    title: str
    words: str
    config_key: str
    unit: str
    step: float
    price: float | None
    """The solver's marginal value (goal units per unit of the limit), where it has one."""
    gain_up: float | None
    """The goal's change when the limit is raised by `step` (re-solved); None where not re-solved."""
    change_down: float | None
    """The goal's change when the limit is lowered by `step` (negative when that loses); None where the rules then fail."""
    conditional: bool
    goal_unit: str
    at_lowest: bool = False
    """The limit is already at the least it can be (a £0 cap, a 0 % share), so it cannot be lowered."""

    @property
    def step_words(self) -> str:
        """The step in words: '£10,000', 'one percentage point', 'one bid'."""
        return {"£": gbp(self.step), "share": "one percentage point", "bids": "one bid"}[self.unit]

    def sentence(self) -> str:
        """The rule and its effect in one sentence, for the report."""
        text = f"{self.words} binds"
        if self.gain_up is None:
            return text + "."
        if self.goal_unit == "harm days":
            effect = (
                f"avert {_amount(self.gain_up, self.goal_unit)} more harm days"
                if self.gain_up >= 0
                else f"cost {_amount(-self.gain_up, self.goal_unit)} harm days"
            )
        else:
            effect = f"change the objective by {_amount(self.gain_up, self.goal_unit, signed=True)} ({self.goal_unit})"
        text += f": raising it by {self.step_words} would {effect}"
        if self.change_down is not None:
            verb = "lose" if self.change_down < 0 else "gain"
            unit = " harm days" if self.goal_unit == "harm days" else f" ({self.goal_unit})"
            text += f"; lowering it by {self.step_words} would {verb} {_amount(abs(self.change_down), self.goal_unit)}{unit}"
        elif self.at_lowest:
            text += "; it cannot go lower"
        elif self.unit != "bids":
            text += f"; lowering it by {self.step_words} would break the other rules"
        if self.conditional:
            text += " (with the funded bids as chosen)"
        return text + "."


@dataclass(frozen=True)
class BudgetCurve:
    """The goal's value at budgets from £0 to twice the budget (the other rules unchanged), and the budget's own price."""

    budgets_gbp: np.ndarray
    values: np.ndarray
    statuses: tuple[str, ...]
    budget_gbp: float
    budget_price: float | None
    goal_unit: str

    def slopes(self) -> np.ndarray:
        """The curve's slope between neighbouring points (goal units per £)."""
        return np.diff(self.values) / np.diff(self.budgets_gbp)


def explain(request: AllocationRequest, allocation: Allocation, solver: str, most: int = MOST_RULES) -> tuple[RuleEffect, ...]:
    """Every binding rule of `allocation`, the `most` most valuable re-solved a step up and down."""
    amounts = allocation.amounts.values
    tight = binding_rows(request, amounts)
    conditional = request.needs_binaries
    funded = request.funded_bids(amounts)
    prices = {(price.family, price.index): price.price for price in allocation.prices}
    unit = allocation.certificate.unit if allocation.certificate else "harm days"
    candidates = []
    for family, rows in tight.values():
        indices = rows[:1] if family.one_limit else rows
        for index in indices:
            candidates.append((family, index, prices.get((family.key, index))))
    candidates.sort(key=lambda item: -abs(item[2] or 0.0))
    effects = []
    bases = {}
    for position, (family, index, price) in enumerate(candidates):
        row = family.rows[index]
        step = price_step(family, row.limit)
        words = _rule_words(request, family, index, tight)
        if position >= most or family.vary is None:
            effects.append(
                RuleEffect(family.key, family.title, words, family.config_key, family.unit, step, price, None, None, False, unit)
            )
            continue
        keep = None if family.key == "bid_limit" or not conditional else funded
        key = keep is None
        if key not in bases:
            bases[key] = _resolved(request, family, index, 0.0, solver, keep)
        base = bases[key]
        up = _resolved(request, family, index, step, solver, keep)
        lower_by = _down_step(family, row.limit, step)
        down = _resolved(request, family, index, -lower_by, solver, keep) if lower_by else None
        effects.append(
            RuleEffect(
                family.key,
                family.title,
                words,
                family.config_key,
                family.unit,
                step,
                price,
                None if up is None else up - base,
                None if down is None else down - base,
                keep is not None,
                unit,
                at_lowest=not lower_by and family.unit != "bids",
            )
        )
    return tuple(effects)


def budget_curve(request: AllocationRequest, allocation: Allocation, solver: str, points: int) -> BudgetCurve:
    """V(B) at `points` budgets from £0 to twice the budget, each solved as the run is (a budget where the other rules
    cannot be met is a point with its status and no value)."""
    budgets = np.linspace(0.0, 2.0 * request.budget_gbp, points)
    values, statuses = [], []
    most = most_spendable_gbp(request)
    for budget in budgets:
        if values and budget > most and budgets[len(values) - 1] >= most and statuses[-1] == "optimal" and request.equity_floor <= 0:
            values.append(values[-1])
            statuses.append("optimal")
            continue
        if budget <= 0:
            values.append(0.0 if request.goal != "least_cost" else np.nan)
            statuses.append("nothing to spend")
            continue
        varied = _with_budget(request, float(budget))
        try:
            value = solved_value(varied, solver, incumbents=[allocation.amounts.values])
        except InfeasibleError as error:
            values.append(np.nan)
            statuses.append(f"infeasible: {error.what}")
            continue
        values.append(value)
        statuses.append("optimal")
    unit = allocation.certificate.unit if allocation.certificate else "harm days"
    return BudgetCurve(budgets, np.array(values), tuple(statuses), request.budget_gbp, allocation.budget_shadow_price, unit)


def most_spendable_gbp(request: AllocationRequest) -> float:
    """The most any split can spend whatever the budget: the force cap (the sum of each force's, where the areas span
    several) and match funding, the caps of the bids the bid limit allows (the largest ones), and the intervention caps.
    Beyond it V(B) is flat, unless equity floors (which grow with the budget) are set."""
    caps = np.sort(np.where(request.fundable_bids(), request.bid_caps(), 0.0))[::-1]
    most = float(caps[: request.max_bids].sum() if request.max_bids else caps.sum())
    limits = [most]
    if np.isfinite(request.force_caps_total_gbp):
        limits.append(request.force_caps_total_gbp)
    if request.match_funding_available_gbp is not None and request.match_funding_rate > 0:
        limits.append(request.match_funding_available_gbp / request.match_funding_rate)
    if request.intervention_caps_gbp is not None:
        limits.append(float(np.sum(request.intervention_caps_gbp)))
    return min(limits)


def _with_budget(request: AllocationRequest, budget: float) -> AllocationRequest:
    for family in request.families():
        if family.key == "budget":
            return family.vary(request, 0, budget - request.budget_gbp)
    return request


def _resolved(request, family: Family, index: int, delta: float, solver: str, keep) -> float | None:
    """The goal's value with one rule's limit moved by `delta` (0: as it is), solved the same way every time so that the
    differences hold no change of method, or None where the rules can then not all be met."""
    varied = family.vary(request, index, delta) if delta else request
    try:
        return solved_value(varied, solver if solver != "greedy" or not varied.needs_binaries else "highs", fixed_bids=keep)
    except InfeasibleError:
        return None


def _down_step(family: Family, limit: float, step: float) -> float:
    """How far down to move a limit: one step, but never past 0 (a share or a count stays within its range)."""
    if family.unit == "bids":
        return step if limit > 1 else 0.0
    return min(step, limit)


def _rule_words(request: AllocationRequest, family: Family, index: int, tight: dict) -> str:
    """A binding rule's words; for a rule with one figure over many rows, how many rows it binds in."""
    words = family.rows[index].words
    if family.one_limit and len(family.rows) > 1:
        rows = tight[family.key][1]
        names = ", ".join(request.bid_label(family.rows[row].bid) for row in rows[:6]) + (" and more" if len(rows) > 6 else "")
        return f"{family.summary or words} ({len(rows)} {request.bid_noun}{'' if len(rows) == 1 else 's'} at it: {names})"
    return words


def _amount(value: float, unit: str, signed: bool = False) -> str:
    sign = "+" if signed and value >= 0 else ""
    if unit == "£":
        return f"{sign}{gbp(value)}" if value >= 0 else f"−{gbp(-value)}"
    if unit == "harm days":
        return f"{sign}{value:,.1f}" if value >= 0 else f"−{-value:,.1f}"
    return f"{sign}{value:.4f}" if value >= 0 else f"−{-value:.4f}"
