"""The allocator: a linear program (a MIP when the round limits the number of bids) built with PuLP.

Variables y[a,i,s] are £ spent on segment s of intervention i's response curve in eligible area
a; their slopes fall along each curve, so maximising Σ slope·y fills them in order. This is the
only module that imports PuLP. HiGHS is the default solver, CBC the cross-check, and `greedy` an
exact sort-based method for the budget-and-caps case.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from .arrays import Labelled
from .errors import ConfigError, InternalError
from .interventions import Curves, greedy_fill

SOLVERS = ("highs", "cbc", "greedy")
TOLERANCE_GBP = 1e-4


class SolveStatus(StrEnum):
    """The solver's verdict, normalised from PuLP's integer codes."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NOT_SOLVED = "not solved"
    UNDEFINED = "undefined"


@dataclass(frozen=True)
class AllocationRequest:
    """Everything the allocator needs: curves, eligibility, money and the round's limits."""

    curves: Curves
    eligible: np.ndarray
    budget_gbp: float
    max_grant_gbp: float
    max_areas: int = 0
    minimum_grant_gbp: float = 0.0
    match_funding_rate: float = 0.0
    match_funding_available_gbp: float | None = None
    segments: int = 48
    area_names: tuple[str, ...] = ()
    bid_of_area: np.ndarray | None = None
    bid_names: tuple[str, ...] = ()

    def area_label(self, area: int) -> str:
        """The area's name where known, else its code."""
        return self.area_names[area] if self.area_names else self.curves.codes[area]

    def bids(self) -> np.ndarray:
        """The bid each area belongs to: its own, or its cluster's (e.g. the LSOAs of one district)."""
        return np.arange(len(self.eligible)) if self.bid_of_area is None else np.asarray(self.bid_of_area)

    @property
    def bid_count(self) -> int:
        """How many possible bids there are."""
        return len(self.eligible) if self.bid_of_area is None else int(np.max(self.bid_of_area, initial=-1)) + 1

    def bid_label(self, bid: int) -> str:
        """A bid's name: its area's, or its cluster's."""
        return self.area_label(bid) if self.bid_of_area is None else (self.bid_names[bid] if self.bid_names else f"bid {bid + 1}")

    def per_bid(self, amounts: np.ndarray) -> np.ndarray:
        """£ per bid from £ per area × intervention."""
        return np.bincount(self.bids(), weights=amounts.sum(axis=1), minlength=self.bid_count)

    @property
    def spendable_gbp(self) -> float:
        """The budget, lowered where the match funding available limits the grant."""
        if self.match_funding_available_gbp is not None and self.match_funding_rate > 0:
            return min(self.budget_gbp, self.match_funding_available_gbp / self.match_funding_rate)
        return self.budget_gbp

    @property
    def needs_binaries(self) -> bool:
        """True when a funded/not-funded decision per area is needed (bid limit or minimum grant)."""
        return self.max_areas > 0 or self.minimum_grant_gbp > 0

    def segment_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Widths and slopes of each curve's chords over [0, the most one area can receive]."""
        upper = max(min(self.spendable_gbp, self.max_grant_gbp), 1.0)
        return self.curves.segments(upper, self.segments)

    def usable(self) -> np.ndarray:
        """Area × intervention cells that may receive money: eligible areas, harm to avert."""
        return self.eligible[:, None] & (self.curves.targeted_harm.values > 0)


class SplitTotals:
    """Totals shared by every split of the money: the optimised allocation and the baselines."""

    amounts: Labelled
    harm_averted: Labelled

    @property
    def allocated_gbp(self) -> float:
        """Total £ allocated."""
        return float(self.amounts.values.sum())

    @property
    def averted_days(self) -> float:
        """Total harm averted on the exact response curves (days)."""
        return float(self.harm_averted.values.sum())


@dataclass(frozen=True)
class Allocation(SplitTotals):
    """£ per area × intervention, the harm it averts, and why the solution looks as it does."""

    amounts: Labelled
    harm_averted: Labelled
    objective_days: float
    status: SolveStatus
    solver: str
    budget_shadow_price: float | None
    binding: tuple[str, ...]
    solve_seconds: float

    @property
    def funded_codes(self) -> tuple[str, ...]:
        """Codes of areas receiving money."""
        per_area = self.amounts.values.sum(axis=1)
        return tuple(code for code, amount in zip(self.amounts.labels("area"), per_area) if amount > TOLERANCE_GBP)


def available_solvers() -> tuple[str, ...]:
    """The solver names that work on this machine."""
    found = []
    for name in SOLVERS:
        if name == "greedy":
            found.append(name)
            continue
        try:
            _pulp_solver(name)
            found.append(name)
        except ConfigError:
            continue
    return tuple(found)


def allocate(request: AllocationRequest, solver: str = "highs") -> Allocation:
    """Solve the allocation problem and return the allocation, checked against its constraints."""
    started = time.perf_counter()
    if solver == "greedy":
        if request.needs_binaries:
            raise ConfigError("the greedy solver handles only the budget and grant caps", key="allocation.solver",
                              got="greedy", hint="use highs or cbc when the round limits bids or sets a minimum grant")
        widths, slopes = request.segment_grid()
        caps = np.full(request.bid_count, request.max_grant_gbp)
        amounts = greedy_fill(widths, slopes, request.spendable_gbp, caps, request.usable(), request.bids())
        objective = float(_pwl_value(amounts, widths, slopes))
        status, shadow, binding = SolveStatus.OPTIMAL, None, _binding(request, amounts, None)
    else:
        amounts, objective, status, shadow = _solve_lp(request, solver)
        binding = _binding(request, amounts, shadow)
    result = _result(request, amounts, objective, status, solver, shadow, binding, time.perf_counter() - started)
    check_allocation(request, result)
    return result


def check_allocation(request: AllocationRequest, allocation: Allocation) -> None:
    """Raise InternalError if the allocation breaks a constraint it was solved under."""
    amounts = allocation.amounts.values
    slack = TOLERANCE_GBP * max(1.0, request.budget_gbp / 1000.0)
    if amounts.min(initial=0.0) < -slack:
        raise InternalError("negative allocation")
    if amounts.sum() > request.spendable_gbp + slack:
        raise InternalError(f"allocated {amounts.sum():.2f} over the budget {request.spendable_gbp:.2f}")
    per_area = amounts.sum(axis=1)
    per_bid = request.per_bid(amounts)
    if np.any(per_bid > request.max_grant_gbp + slack):
        raise InternalError("a bid exceeds the grant cap")
    if np.any(per_area[~request.eligible] > slack):
        raise InternalError("an ineligible area received money")
    if request.max_areas and np.count_nonzero(per_bid > slack) > request.max_areas:
        raise InternalError("more bids funded than the bid limit allows")


def _pwl_value(amounts: np.ndarray, widths: np.ndarray, slopes: np.ndarray) -> float:
    """Value of `amounts` on the piecewise-linear curves (segments filled in order)."""
    starts = np.concatenate([np.zeros((*widths.shape[:2], 1)), np.cumsum(widths, axis=2)[:, :, :-1]], axis=2)
    filled = np.clip(amounts[:, :, None] - starts, 0.0, widths)
    return float((filled * slopes).sum())


def _result(request, amounts, objective, status, solver, shadow, binding, seconds) -> Allocation:
    amounts = np.where(np.abs(amounts) < TOLERANCE_GBP, 0.0, amounts)
    curves = request.curves
    coords = (curves.codes, curves.interventions)
    averted = curves.averted(amounts)
    return Allocation(
        amounts=Labelled(amounts, ("area", "intervention"), coords, "allocation", "£"),
        harm_averted=Labelled(averted, ("area", "intervention"), coords, "harm averted", "days"),
        objective_days=objective,
        status=status,
        solver=solver,
        budget_shadow_price=shadow,
        binding=binding,
        solve_seconds=seconds,
    )


def _pulp_solver(name: str):
    import pulp

    if name == "highs":
        solver = pulp.HiGHS(msg=False)
        if not solver.available():
            raise ConfigError("the HiGHS solver is not installed", key="allocation.solver", got=name,
                              hint="pip install 'pulp[highs]<4', or use --set allocation.solver=\"cbc\"")
        return solver
    if name == "cbc":
        path = _cbc_path()
        if path:
            return pulp.COIN_CMD(msg=False, path=path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            bundled = pulp.PULP_CBC_CMD(msg=False)
        if bundled.available():
            return bundled
        raise ConfigError("the CBC solver is not installed", key="allocation.solver", got=name,
                          hint="pip install cbcbox, or use --set allocation.solver=\"highs\"")
    raise ConfigError("unknown solver", key="allocation.solver", got=name, expected=" or ".join(SOLVERS))


def _cbc_path() -> str | None:
    """The CBC binary shipped by the cbcbox package, if installed."""
    try:
        import cbcbox
    except ImportError:
        return None
    path = os.path.join(cbcbox.cbc_dist_dir(), "bin", "cbc")
    return path if os.access(path, os.X_OK) else None


def _solve_lp(request: AllocationRequest, solver_name: str):
    import pulp

    solver = _pulp_solver(solver_name)
    problem, cells, widths, slopes, area_flags = _build(request, pulp)
    code = problem.solve(solver)
    status = _status(pulp.LpStatus[code])
    if status is not SolveStatus.OPTIMAL:
        raise InternalError(f"the allocation problem should always be feasible but {solver_name} says {status}")
    amounts = np.zeros(request.curves.targeted_harm.values.shape)
    for (area, intervention), variables in cells.items():
        amounts[area, intervention] = sum(max(variable.value() or 0.0, 0.0) for variable in variables)
    objective = float(pulp.value(problem.objective) or 0.0)
    if area_flags:
        for flag in area_flags.values():
            funded = 1.0 if (flag.value() or 0.0) > 0.5 else 0.0
            flag.cat = pulp.LpContinuous
            flag.lowBound = flag.upBound = funded
        problem.solve(solver)
    budget = problem.get_constraint_by_name("budget")
    shadow = abs(budget.pi) if budget is not None and budget.pi is not None else None
    return amounts, objective, status, shadow


def _build(request: AllocationRequest, pulp):
    """The LP/MIP over eligible cells only; one block per constraint family."""
    problem = pulp.LpProblem("safer_streets_allocation", pulp.LpMaximize)
    curves = request.curves
    widths, slopes = request.segment_grid()
    usable = request.usable()
    cells: dict[tuple[int, int], list] = {}
    objective_terms = []
    for area, intervention in zip(*np.nonzero(usable)):
        code, item = curves.codes[area], curves.interventions[intervention]
        variables = []
        for segment in range(request.segments):
            if slopes[area, intervention, segment] <= 0:
                continue
            variable = problem.add_variable(f"y_{code}_{item}_{segment}", 0, float(widths[area, intervention, segment]))
            variables.append(variable)
            objective_terms.append((variable, float(slopes[area, intervention, segment])))
        cells[(int(area), int(intervention))] = variables
    problem += pulp.LpAffineExpression(objective_terms), "harm_averted_days"
    area_flags = _add_funded_flags(problem, request, cells, pulp)
    _add_budget(problem, request, cells, pulp)
    _add_grant_caps(problem, request, cells, area_flags, pulp)
    _add_segment_links(problem, request, cells, area_flags)
    _add_bid_limit(problem, request, area_flags, pulp)
    _add_minimum_grant(problem, request, cells, area_flags, pulp)
    _add_match_funding(problem, request, cells, pulp)
    return problem, cells, widths, slopes, area_flags


def _by_bid(request: AllocationRequest, cells: dict) -> dict[int, list]:
    """Each bid's segment variables (a bid is one area, or a cluster of areas), for the constraints written per bid."""
    bids = request.bids()
    grouped: dict[int, list] = {}
    for (area, _), variables in cells.items():
        if variables:
            grouped.setdefault(int(bids[area]), []).extend(variables)
    return dict(sorted(grouped.items()))


def _bid_key(request: AllocationRequest, bid: int) -> str:
    return request.curves.codes[bid] if request.bid_of_area is None else f"bid{bid}"


def _add_funded_flags(problem, request, cells, pulp) -> dict:
    """z[b] ∈ {0, 1}: bid b is funded; created only when a bid limit or minimum grant needs it."""
    if not request.needs_binaries:
        return {}
    return {bid: problem.add_variable(f"funded_{_bid_key(request, bid)}", 0, 1, cat=pulp.LpBinary) for bid in _by_bid(request, cells)}


def _add_budget(problem, request, cells, pulp) -> None:
    """Σ_a,i x[a,i] ≤ budget."""
    problem += pulp.lpSum(v for variables in cells.values() for v in variables) <= request.budget_gbp, "budget"


def _add_grant_caps(problem, request, cells, area_flags, pulp) -> None:
    """Σ_(a in b),i x[a,i] ≤ max grant (× z[b] when bids are switched on and off)."""
    for bid, variables in _by_bid(request, cells).items():
        cap = request.max_grant_gbp * area_flags[bid] if area_flags else request.max_grant_gbp
        problem += pulp.lpSum(variables) <= cap, f"cap_{_bid_key(request, bid)}"


def _add_segment_links(problem, request, cells, area_flags) -> None:
    """y[a,i,s] ≤ width[a,i,s] × z[b(a)]: implied by the bid's cap, but a much tighter LP relaxation.

    With only Σ x ≤ cap × z, the relaxation can fund every bid a little with z ≈ x ÷ cap; linking each
    segment to its bid's flag makes a fractional z pay for the steep first segments too, which more
    than halves the MIP's solve time at small-area scale (benchmarks/bench_allocation.py).
    """
    if not area_flags:
        return
    bids = request.bids()
    for (area, _), variables in cells.items():
        flag = area_flags[int(bids[area])]
        for variable in variables:
            problem += variable - variable.upBound * flag <= 0


def _add_bid_limit(problem, request, area_flags, pulp) -> None:
    """Σ_b z[b] ≤ bids per commissioner."""
    if request.max_areas > 0 and area_flags:
        problem += pulp.lpSum(area_flags.values()) <= request.max_areas, "bids"


def _add_minimum_grant(problem, request, cells, area_flags, pulp) -> None:
    """Σ_(a in b),i x[a,i] ≥ minimum grant × z[b]."""
    if request.minimum_grant_gbp > 0:
        for bid, variables in _by_bid(request, cells).items():
            problem += pulp.lpSum(variables) >= request.minimum_grant_gbp * area_flags[bid], f"min_{_bid_key(request, bid)}"


def _add_match_funding(problem, request, cells, pulp) -> None:
    """match rate × Σ x ≤ match funding available."""
    if request.match_funding_available_gbp is not None and request.match_funding_rate > 0:
        total = pulp.lpSum(v for variables in cells.values() for v in variables)
        problem += request.match_funding_rate * total <= request.match_funding_available_gbp, "match_funding"


def _status(text: str) -> SolveStatus:
    return {
        "Optimal": SolveStatus.OPTIMAL,
        "Infeasible": SolveStatus.INFEASIBLE,
        "Unbounded": SolveStatus.UNBOUNDED,
        "Not Solved": SolveStatus.NOT_SOLVED,
    }.get(text, SolveStatus.UNDEFINED)


def _binding(request: AllocationRequest, amounts: np.ndarray, shadow: float | None) -> tuple[str, ...]:
    """The constraints the solution presses against, in words."""
    notes = []
    slack = TOLERANCE_GBP * max(1.0, request.budget_gbp / 1000.0) + 0.01
    total = amounts.sum()
    if total >= request.budget_gbp - slack:
        price = f"; each extra £1,000 would avert about {shadow * 1000:.2f} more harm days" if shadow is not None else ""
        notes.append(f"budget: all £{request.budget_gbp:,.0f} allocated{price}")
    elif request.spendable_gbp < request.budget_gbp and total >= request.spendable_gbp - slack:
        notes.append(f"match funding: £{request.match_funding_available_gbp:,.0f} available at "
                     f"{request.match_funding_rate:.0%} limits the grant to £{request.spendable_gbp:,.0f}")
    else:
        notes.append(f"budget not used up: £{request.budget_gbp - total:,.0f} left, because the grant caps of "
                     f"the eligible areas bound the spend")
    per_bid = request.per_bid(amounts)
    what = "area(s)" if request.bid_of_area is None else "bid(s)"
    capped = [request.bid_label(bid) for bid in np.nonzero(per_bid >= request.max_grant_gbp - slack)[0]]
    if capped:
        notes.append(f"grant cap £{request.max_grant_gbp:,.0f} reached in {len(capped)} {what}: {', '.join(capped)}")
    funded = int(np.count_nonzero(per_bid > slack))
    if request.max_areas and funded >= request.max_areas:
        notes.append(f"bid limit: {funded} {'areas' if request.bid_of_area is None else 'bids'} funded, the most the round allows")
    excluded = int(np.count_nonzero(~request.eligible))
    if excluded:
        notes.append(f"eligibility: {excluded} ineligible area(s) receive £0")
    return tuple(notes)
