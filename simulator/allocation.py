"""The allocator: a linear program (a MIP when the round limits the number of bids) built with PuLP,
then polished on the exact response curves.

Variables y[a,i,s] are money spent on segment s of intervention i's response curve in eligible
area a; their slopes fall along each curve, so maximising Σ slope·y fills them in order. Inside
the model money is counted in £1,000s (or less for small grants) and slopes are divided by the
steepest, so the solvers' absolute tolerances act as relative ones. The chords decide which bids are
funded; the amounts then come from water-filling the exact curves over those bids (see
`filling.water_fill`), so the reported harm averted is the exact optimum for the funded
set, and the budget's shadow price is the water level: the harm one more £ of budget averts when
it goes to the funded bids that are below their grant caps. This is the only module that imports
PuLP. HiGHS is the default solver, CBC the cross-check, and `greedy` an exact sort-based method
for the budget-and-caps case.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from .arrays import Labelled
from .errors import ConfigError, InternalError
from .filling import greedy_fill, water_fill
from .interventions import Curves

SOLVERS = ("highs", "cbc", "greedy")
TOLERANCE_GBP = 1e-4
MODEL_MONEY_GBP = 1000.0
FUNDED_THRESHOLD_GBP = 0.005
"""An area is funded when it receives more than this (£): half a penny, so its amount shows as at
least £0.01 when rounded to the penny as every table and report does.

The amounts come from water-filling the exact curves (the allocation) or from a split (the
baselines), not from a solver, so no solver tolerance enters. What the threshold screens out is
a sliver: a cell whose marginal harm averted per £ is a hair above the water level spends a
fraction of a penny, and an area whose amount shows as £0.00 is not called funded. A bid is
funded when any of its areas is (`AllocationRequest.funded_bids`).
"""


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

    def funded_bids(self, amounts: np.ndarray) -> np.ndarray:
        """Bids funded by `amounts` (£ per area × intervention), bool per bid: a bid is funded when any of its areas is."""
        return np.bincount(self.bids(), weights=funded_areas(amounts), minlength=self.bid_count) > 0

    @property
    def spendable_gbp(self) -> float:
        """The budget, lowered where the match funding available limits the grant."""
        if self.match_funding_available_gbp is not None and self.match_funding_rate > 0:
            return min(self.budget_gbp, self.match_funding_available_gbp / self.match_funding_rate)
        return self.budget_gbp

    @property
    def match_funding_limits(self) -> bool:
        """True when match funding allows no more grant than the budget, so more budget could not be spent."""
        if self.match_funding_available_gbp is None or self.match_funding_rate <= 0:
            return False
        return self.match_funding_available_gbp / self.match_funding_rate <= self.budget_gbp

    @property
    def needs_binaries(self) -> bool:
        """True when a funded/not-funded decision per area is needed (bid limit or minimum grant)."""
        return self.max_areas > 0 or self.minimum_grant_gbp > 0

    @property
    def funds_every_fundable_bid(self) -> bool:
        """True when no rule stops every fundable bid taking part (no minimum grant, no binding bid limit):
        then water-filling the exact curves over all of them is the exact optimum, with no funded set to choose."""
        return self.minimum_grant_gbp <= 0 and (not self.max_areas or int(self.fundable_bids().sum()) <= self.max_areas)

    @property
    def curve_span_gbp(self) -> float:
        """The stretch of each curve the chords cover: the most one bid can receive (at least £1)."""
        return max(min(self.spendable_gbp, self.max_grant_gbp), 1.0)

    def segment_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Widths and slopes of each curve's chords over [0, the most one bid can receive]."""
        return self.curves.segments(self.curve_span_gbp, self.segments)

    def usable(self) -> np.ndarray:
        """Area × intervention cells that may receive money: eligible areas, harm to avert."""
        return self.eligible[:, None] & (self.curves.targeted_harm.values > 0)

    def fundable_bids(self) -> np.ndarray:
        """Bids with at least one usable cell (bool per bid)."""
        return np.bincount(self.bids(), weights=self.usable().any(axis=1), minlength=self.bid_count) > 0

    @property
    def slack_gbp(self) -> float:
        """How far a total may stray from a limit before it counts as breaking it (£)."""
        return TOLERANCE_GBP * max(1.0, self.budget_gbp / 1000.0)

    def nothing_fundable(self) -> str | None:
        """Why no bid can be funded, in words, or None when some bid can."""
        if not self.eligible.any():
            return "no area passes the round's area test, so nothing can be allocated"
        if not self.usable().any():
            eligible = int(np.count_nonzero(self.eligible))
            return (
                f"the {eligible} eligible area(s) have no recorded harm of the crime types the enabled "
                f"interventions target, so nothing can be allocated"
            )
        if self.spendable_gbp <= 0:
            return (
                f"match funding: {_gbp(self.match_funding_available_gbp)} available at {self.match_funding_rate:.0%} "
                f"allows no grant, so nothing can be allocated"
            )
        minimum = self.minimum_grant_gbp
        if minimum > self.max_grant_gbp:
            return f"the minimum grant of {_gbp(minimum)} is above the grant cap of {_gbp(self.max_grant_gbp)}, so no bid can be funded"
        if minimum > self.spendable_gbp:
            if self.spendable_gbp < self.budget_gbp:
                return (
                    f"the minimum grant of {_gbp(minimum)} is above the {_gbp(self.spendable_gbp)} that match funding "
                    f"allows ({_gbp(self.match_funding_available_gbp)} at {self.match_funding_rate:.0%}), so no bid can be funded"
                )
            return f"the minimum grant of {_gbp(minimum)} is above the budget of {_gbp(self.budget_gbp)}, so no bid can be funded"
        return None


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

    @property
    def funded(self) -> np.ndarray:
        """Whether each area is funded (bool per area): it receives more than `FUNDED_THRESHOLD_GBP`."""
        return funded_areas(self.amounts.values)

    @property
    def funded_codes(self) -> tuple[str, ...]:
        """Codes of the funded areas."""
        return tuple(code for code, funded in zip(self.amounts.labels("area"), self.funded) if funded)


def funded_areas(amounts: np.ndarray) -> np.ndarray:
    """Whether each area of `amounts` (£ per area × intervention) is funded: more than `FUNDED_THRESHOLD_GBP`."""
    return np.asarray(amounts).sum(axis=1) > FUNDED_THRESHOLD_GBP


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


def allocate(request: AllocationRequest, solver: str = "highs", incumbents: Sequence[np.ndarray] = ()) -> Allocation:
    """Solve the allocation problem and return the allocation, checked against its constraints.

    The chord LP/MIP (or the greedy) picks the funded bids and gives `objective_days`; the amounts
    are then water-filled on the exact curves. Without a minimum grant, and with no more fundable
    bids than the bid limit, every fundable bid takes part and the result is the exact optimum.
    Otherwise the funded set is a choice the chords make, and the chord optimum's set can in
    principle be worse on the exact curves than another: as a guard against the approximation,
    the funded set of each `incumbents` allocation (£ per area × intervention, e.g. the
    baselines') is polished too, and the best exact value kept.
    """
    started = time.perf_counter()
    _check_solver(request, solver)
    shape = request.curves.targeted_harm.values.shape
    if request.nothing_fundable():
        chords, objective, funded = np.zeros(shape), 0.0, np.zeros(request.bid_count, dtype=bool)
    elif solver == "greedy":
        widths, slopes = request.segment_grid()
        caps = np.full(request.bid_count, request.max_grant_gbp)
        chords = greedy_fill(widths, slopes, request.spendable_gbp, caps, request.usable(), request.bids())
        objective, funded = float(_pwl_value(chords, widths, slopes)), request.per_bid(chords) > 0
    else:
        chords, objective, funded = _solve_lp(request, solver)
    amounts, price = _polish(request, funded, incumbents)
    shadow = None if request.nothing_fundable() else (0.0 if request.match_funding_limits else price)
    binding = _binding(request, amounts, price)
    result = _result(request, amounts, objective, SolveStatus.OPTIMAL, solver, shadow, binding, time.perf_counter() - started)
    check_allocation(request, result)
    return result


def plan_allocation(request: AllocationRequest, amounts: np.ndarray, solver: str, objective_days: float, seconds: float) -> Allocation:
    """An `Allocation` for a plan chosen on the Monte Carlo draws (the expected or CVaR plan), checked
    against the same constraints; it has no single budget shadow price, so that is None."""
    result = _result(
        request,
        np.asarray(amounts, dtype=float),
        objective_days,
        SolveStatus.OPTIMAL,
        solver,
        None,
        _binding(request, amounts, None),
        seconds,
    )
    check_allocation(request, result)
    return result


def quick_best_amounts(request: AllocationRequest, incumbents: Sequence[np.ndarray] = ()) -> tuple[np.ndarray, bool]:
    """£ per area × intervention of a good split found without a linear program, and whether it is the exact optimum.

    Exact where every fundable bid may be funded (water-filling alone). Under a bid limit or a minimum grant the
    funded set is the best of: the bids the split without those two rules spends most on (as many as the rules
    allow), and each incumbent's funded bids; each set is water-filled on the exact curves. That is a heuristic:
    a better set can exist, so a regret measured against it is a lower bound. A Monte Carlo uses it where a mixed
    integer program per draw would take seconds each.
    """
    shape = request.curves.targeted_harm.values.shape
    if request.nothing_fundable():
        return np.zeros(shape), True
    fundable = request.fundable_bids()
    if request.funds_every_fundable_bid:
        return _polish(request, fundable, ())[0], True
    unlimited, _ = water_fill(
        request.curves,
        request.usable(),
        request.bids(),
        np.zeros(request.bid_count),
        np.where(fundable, request.max_grant_gbp, 0.0),
        request.spendable_gbp,
    )
    spend = np.where(fundable, request.per_bid(unlimited), -1.0)
    most = request.max_areas or request.bid_count
    if request.minimum_grant_gbp > 0:
        most = int(min(most, request.spendable_gbp / request.minimum_grant_gbp * (1 + 1e-12)))
    favoured = np.zeros(request.bid_count, dtype=bool)
    favoured[np.argsort(-spend, kind="stable")[: max(most, 0)]] = True
    return _polish(request, favoured & fundable, incumbents)[0], False


def _check_solver(request: AllocationRequest, solver: str) -> None:
    """Refuse an unknown or missing solver, and the greedy where it is not exact."""
    if solver == "greedy":
        if request.needs_binaries:
            raise ConfigError(
                "the greedy solver handles only the budget and grant caps",
                key="allocation.solver",
                got="greedy",
                hint="use highs or cbc when the round limits bids or sets a minimum grant",
            )
        return
    _pulp_solver(solver)


def _polish(request: AllocationRequest, funded_by_chords: np.ndarray, incumbents: Sequence[np.ndarray]) -> tuple[np.ndarray, float]:
    """The best amounts on the exact curves over the candidate funded sets, and the water level (days per £).

    Each funded bid is bounded by the grant cap itself, not by the cap or the money to spend,
    whichever is less: with the latter a lone funded bid that takes the whole budget would look
    capped, and the water level would come out 0 although more budget would avert more harm. The
    water level is the harm one more £ to spend averts with the funded set fixed; 0 only when every
    funded bid is at its grant cap.
    """
    best, best_value, best_price = np.zeros(request.curves.targeted_harm.values.shape), -1.0, 0.0
    if request.nothing_fundable():
        return best, 0.0
    usable, bids = request.usable(), request.bids()
    for funded in _candidate_bid_sets(request, funded_by_chords, incumbents):
        amounts, price = water_fill(
            request.curves,
            usable,
            bids,
            np.where(funded, request.minimum_grant_gbp, 0.0),
            np.where(funded, request.max_grant_gbp, 0.0),
            request.spendable_gbp,
        )
        value = float(request.curves.averted(amounts).sum())
        if value > best_value:
            best, best_value, best_price = amounts, value, price
    return best, best_price


def _candidate_bid_sets(request: AllocationRequest, funded_by_chords: np.ndarray, incumbents: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Funded sets (bool per bid) to polish: every fundable bid when the rules allow, else the chords' and incumbents'.

    The chords' set (the MIP's funded flags) is feasible by construction; an incumbent funds the
    bids it gives any money to, and its set is kept only if the bid limit and the minimum grant
    allow that many bids.
    """
    fundable = request.fundable_bids()
    if request.funds_every_fundable_bid:
        return [fundable]
    most = request.max_areas or request.bid_count
    if request.minimum_grant_gbp > 0:
        affordable = request.spendable_gbp / request.minimum_grant_gbp * (1 + 1e-12)
        most = int(min(most, affordable))

    sets = [fundable & funded_by_chords]
    for amounts in incumbents:
        funded = fundable & (request.per_bid(np.asarray(amounts, dtype=float)) > 0)
        if funded.sum() <= most and not any(np.array_equal(funded, known) for known in sets):
            sets.append(funded)
    return sets


def check_allocation(request: AllocationRequest, allocation: Allocation) -> None:
    """Raise InternalError if the allocation breaks a constraint it was solved under."""
    check_amounts(request, allocation.amounts.values)


def check_amounts(request: AllocationRequest, amounts: np.ndarray) -> None:
    """Raise InternalError if £ per area × intervention break one of the request's rules: the one statement of them that
    every plan (point, expected, CVaR) is checked against."""
    slack = request.slack_gbp
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
    if np.any((per_bid > slack) & (per_bid < request.minimum_grant_gbp - slack)):
        raise InternalError("a funded bid receives less than the minimum grant")


def _pwl_value(amounts: np.ndarray, widths: np.ndarray, slopes: np.ndarray) -> float:
    """Value of `amounts` on the piecewise-linear curves (segments filled in order)."""
    starts = np.concatenate([np.zeros((*widths.shape[:2], 1)), np.cumsum(widths, axis=2)[:, :, :-1]], axis=2)
    filled = np.clip(amounts[:, :, None] - starts, 0.0, widths)
    return float((filled * slopes).sum())


def _result(request, amounts, objective, status, solver, shadow, binding, seconds) -> Allocation:
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
            raise ConfigError(
                "the HiGHS solver is not installed",
                key="allocation.solver",
                got=name,
                hint="pip install 'pulp[highs]<4', or use --set allocation.solver=\"cbc\"",
            )
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
        raise ConfigError(
            "the CBC solver is not installed",
            key="allocation.solver",
            got=name,
            hint='pip install cbcbox, or use --set allocation.solver="highs"',
        )
    raise ConfigError("unknown solver", key="allocation.solver", got=name, expected=" or ".join(SOLVERS))


def _cbc_path() -> str | None:
    """The CBC binary shipped by the cbcbox package, if installed."""
    try:
        import cbcbox
    except ImportError:
        return None
    path = os.path.join(cbcbox.cbc_dist_dir(), "bin", "cbc")
    return path if os.access(path, os.X_OK) else None


def _solve_lp(request: AllocationRequest, solver_name: str) -> tuple[np.ndarray, float, np.ndarray]:
    """The chord LP/MIP's amounts (£ per area × intervention), objective (days) and funded bids.

    Bids are funded as the MIP's flags say, or (an LP) where they receive money. A model without
    a variable is not sent to the solver: nothing is allocated.
    """
    import pulp

    model = _build(request, pulp)
    amounts = np.zeros(request.curves.targeted_harm.values.shape)
    if not model.cells:
        return amounts, 0.0, np.zeros(request.bid_count, dtype=bool)
    code = model.problem.solve(_pulp_solver(solver_name))
    status = _status(pulp.LpStatus[code])
    if status is not SolveStatus.OPTIMAL:
        raise InternalError(f"the allocation problem should always be feasible but {solver_name} says {status}")
    for (area, intervention), variables in model.cells.items():
        amounts[area, intervention] = model.money_gbp * sum(max(variable.value() or 0.0, 0.0) for variable in variables)
    if model.flags:
        funded = np.zeros(request.bid_count, dtype=bool)
        funded[[bid for bid, flag in model.flags.items() if (flag.value() or 0.0) > 0.5]] = True
    else:
        funded = request.per_bid(amounts) > 0
    return amounts, model.value_days * float(pulp.value(model.problem.objective) or 0.0), funded


@dataclass(frozen=True)
class _Model:
    """A built PuLP problem, its variables per usable cell, its funded flags per bid, and the units it counts in."""

    problem: object
    cells: dict
    flags: dict
    money_gbp: float
    value_days: float


def _build(request: AllocationRequest, pulp) -> _Model:
    """The LP/MIP over eligible cells with a rising chord, one block per constraint family.

    Money in the model is counted in £1,000s (in units of the most one bid can receive when that
    is less) and the objective in units of `value_days` (one unit of money at the steepest
    slope), so objective coefficients lie in (0, 1] and the solvers' absolute tolerances (about
    1e-7) act relative to the problem's size. In £ and days, slopes can be as small as that
    tolerance, and HiGHS then stopped short of the optimum by up to 4e-5 of it; with a budget
    under £1, CBC overran it by 0.2 % in £1,000s. Counting money in units of one curve's span
    even when large (bounds near 1/segments) made CBC's bid-limit MIP several times slower at
    small-area scale (benchmarks/bench_allocation.py).
    """
    problem = pulp.LpProblem("safer_streets_allocation", pulp.LpMaximize)
    curves = request.curves
    widths, slopes = request.segment_grid()
    usable = request.usable()
    money = min(MODEL_MONEY_GBP, request.curve_span_gbp)
    steepest = float(np.max(np.where(usable[:, :, None], slopes, 0.0), initial=0.0))
    if steepest <= 0.0:
        return _Model(problem, {}, {}, money, 0.0)
    value = steepest * money
    cells: dict[tuple[int, int], list] = {}
    objective_terms = []
    for area, intervention in zip(*np.nonzero(usable)):
        code, item = curves.codes[area], curves.interventions[intervention]
        variables = []
        for segment in range(request.segments):
            # A flat chord adds nothing, except room to reach a minimum grant where the curve is already flat.
            if slopes[area, intervention, segment] <= 0 and request.minimum_grant_gbp <= 0:
                continue
            variable = problem.add_variable(f"y_{code}_{item}_{segment}", 0, float(widths[area, intervention, segment]) / money)
            variables.append(variable)
            objective_terms.append((variable, float(slopes[area, intervention, segment]) * money / value))
        if variables:
            cells[(int(area), int(intervention))] = variables
    problem += pulp.LpAffineExpression(objective_terms), "harm_averted_days"
    area_flags = _add_funded_flags(problem, request, cells, pulp)
    _add_budget(problem, request, cells, money, pulp)
    _add_grant_caps(problem, request, cells, area_flags, money, pulp)
    _add_segment_links(problem, request, cells, area_flags)
    _add_bid_limit(problem, request, area_flags, pulp)
    _add_minimum_grant(problem, request, cells, area_flags, money, pulp)
    _add_match_funding(problem, request, cells, money, pulp)
    return _Model(problem, cells, area_flags, money, value)


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


def _add_budget(problem, request, cells, money, pulp) -> None:
    """Σ_a,i x[a,i] ≤ budget."""
    problem += pulp.lpSum(v for variables in cells.values() for v in variables) <= request.budget_gbp / money, "budget"


def _add_grant_caps(problem, request, cells, area_flags, money, pulp) -> None:
    """Σ_(a in b),i x[a,i] ≤ max grant (× z[b] when bids are switched on and off)."""
    for bid, variables in _by_bid(request, cells).items():
        cap = request.max_grant_gbp / money
        problem += pulp.lpSum(variables) <= (cap * area_flags[bid] if area_flags else cap), f"cap_{_bid_key(request, bid)}"


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


def _add_minimum_grant(problem, request, cells, area_flags, money, pulp) -> None:
    """Σ_(a in b),i x[a,i] ≥ minimum grant × z[b]."""
    if request.minimum_grant_gbp > 0:
        for bid, variables in _by_bid(request, cells).items():
            problem += pulp.lpSum(variables) >= request.minimum_grant_gbp / money * area_flags[bid], f"min_{_bid_key(request, bid)}"


def _add_match_funding(problem, request, cells, money, pulp) -> None:
    """match rate × Σ x ≤ match funding available."""
    if request.match_funding_available_gbp is not None and request.match_funding_rate > 0:
        total = pulp.lpSum(v for variables in cells.values() for v in variables)
        problem += request.match_funding_rate * total <= request.match_funding_available_gbp / money, "match_funding"


def _status(text: str) -> SolveStatus:
    return {
        "Optimal": SolveStatus.OPTIMAL,
        "Infeasible": SolveStatus.INFEASIBLE,
        "Unbounded": SolveStatus.UNBOUNDED,
        "Not Solved": SolveStatus.NOT_SOLVED,
    }.get(text, SolveStatus.UNDEFINED)


def _binding(request: AllocationRequest, amounts: np.ndarray, price: float | None) -> tuple[str, ...]:
    """The constraints the solution presses against, in words (the first says why when nothing is allocated).

    `price` is the water level (days per £); None for a plan chosen on the Monte Carlo draws, whose
    marginal value is not one number at the point estimates."""
    excluded = int(np.count_nonzero(~request.eligible))
    eligibility = [f"eligibility: {excluded} ineligible area(s) receive £0"] if excluded else []
    nothing = request.nothing_fundable()
    if nothing:
        return (nothing, *(eligibility if request.eligible.any() else []))
    notes = []
    slack = request.slack_gbp + 0.01
    total = float(amounts.sum())
    per_bid = request.per_bid(amounts)
    funded = request.funded_bids(amounts)
    all_capped = bool(funded.any()) and bool(np.all(per_bid[funded] >= request.max_grant_gbp - slack))
    what = "area(s)" if request.bid_of_area is None else "bid(s)"
    chord = request.curve_span_gbp / request.segments
    if request.spendable_gbp < chord:
        notes.append(
            f"budget: the {_gbp(request.spendable_gbp)} to spend is less than one chord ({_gbp(chord)}) of the "
            f"linear program's response curves, so its objective is rough; the amounts and harm averted come "
            f"from the exact curves"
        )
    spent = total >= request.spendable_gbp - slack
    if spent and request.match_funding_limits:
        notes.append(
            f"match funding: {_gbp(request.match_funding_available_gbp)} available at "
            f"{request.match_funding_rate:.0%} limits the grant to {_gbp(request.spendable_gbp)}; each extra "
            f"£1,000 of grant it allowed would avert about {price * 1000:.2f} more harm days"
        )
    elif spent and all_capped and (price or 0.0) <= 0:
        notes.append(
            f"budget: all {_gbp(request.budget_gbp)} allocated, exactly what the grant caps of the funded "
            f"{'areas' if request.bid_of_area is None else 'bids'} allow, so a little more budget would avert nothing"
        )
    elif spent and price is None:
        notes.append(f"budget: all {_gbp(request.budget_gbp)} allocated")
    elif spent:
        notes.append(
            f"budget: all {_gbp(request.budget_gbp)} allocated; each extra £1,000 would avert about {price * 1000:.2f} more harm days"
        )
    else:
        notes.append(_unspent(request, total, all_capped, funded, slack))
    capped = [request.bid_label(bid) for bid in np.nonzero(per_bid >= request.max_grant_gbp - slack)[0]]
    if capped:
        notes.append(f"grant cap {_gbp(request.max_grant_gbp)} reached in {len(capped)} {what}: {', '.join(capped)}")
    if request.minimum_grant_gbp > 0:
        least = [request.bid_label(bid) for bid in np.nonzero(funded & (per_bid <= request.minimum_grant_gbp + slack))[0]]
        if least:
            notes.append(
                f"minimum grant {_gbp(request.minimum_grant_gbp)}: {len(least)} {what} receive exactly the minimum: {', '.join(least)}"
            )
    count = int(np.count_nonzero(funded))
    if request.max_areas and count >= request.max_areas:
        noun = "area" if request.bid_of_area is None else "bid"
        notes.append(f"bid limit: {count} {noun}{'' if count == 1 else 's'} funded, the most the round allows")
    return (*notes, *eligibility)


def _unspent(request: AllocationRequest, total: float, all_capped: bool, funded: np.ndarray, slack: float) -> str:
    """Why money is left over: which limits stop the rest being spent (the caps only when every funded bid is at its cap)."""
    left = request.spendable_gbp - total
    words = f"budget not used up: {_gbp(request.budget_gbp - total)} left"
    if not all_capped:
        return words
    unfunded = request.fundable_bids() & ~funded
    if not unfunded.any():
        idle = int(np.count_nonzero(request.eligible & ~request.usable().any(axis=1)))
        idle_words = f"; {idle} eligible area(s) have no harm the interventions target" if idle else ""
        return f"{words}, because the grant caps of the eligible {'areas' if request.bid_of_area is None else 'bids'} bound the spend{idle_words}"
    count = int(np.count_nonzero(funded))
    if request.max_areas and count >= request.max_areas:
        return f"{words}, because the {count} funded bid(s) are at the grant cap and the bid limit allows no more"
    if request.minimum_grant_gbp > left + slack:
        return (
            f"{words}, because the funded bid(s) are at the grant cap and the {_gbp(left)} that could still be spent "
            f"is less than the minimum grant of {_gbp(request.minimum_grant_gbp)}"
        )
    return words


def _gbp(amount: float) -> str:
    """Pounds for a sentence: whole pounds, or pence below £100."""
    return f"£{amount:,.0f}" if abs(amount) >= 100 or amount == round(amount) else f"£{amount:,.2f}"
