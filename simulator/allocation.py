"""The allocator: exact where the rules allow, otherwise a linear program (a MIP when bids are switched on and off)
between two piecewise-linear models of the curves, so every solution carries a certified optimality gap.

Where the rules are a budget with caps on bids (and a force cap, match funding, local match
funding), the amounts come from water-filling the exact curves over the funded bids
(`filling.water_fill`), which is exact, and the prices of the budget and of each cap come from
its Karush-Kuhn-Tucker conditions, certified by a Lagrangian dual bound. Where a bid limit or a
minimum grant leaves few funded sets, each is water-filled and the best kept. Otherwise the
linear program between chord and tangent models (`formulation`) gives the solution and its
bound; while the gap is above `gap_target` the breakpoints are doubled and the models solved
again. `greedy` solves without a linear program at all: the water-filling, for the budget-and-caps
case only. The rules in words come from `wording`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .arrays import Labelled
from .constraints import WATER_FILLED, AllocationRequest, check_goal, days_words, funded_areas, rule_breaches
from .errors import ConfigError, InfeasibleError, InternalError
from .filling import NestedFill, bid_gains_at_prices, water_fill_nested, water_fill_prices
from .formulation import (
    MOST_SEGMENTS,
    QUICK_SEGMENTS,
    Certificate,
    RowPrice,
    SolveStatus,
    array_chord_split,
    check_installed,
    goal_value,
    plain_conflict,
    relative_gap,
    solve_models,
)
from .wording import binding_words, spend_limit

SOLVERS = ("highs", "cbc", "greedy")


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
        """Whether each area is funded (bool per area): it receives more than `constraints.FUNDED_THRESHOLD_GBP`."""
        return funded_areas(self.amounts.values)

    @property
    def funded_codes(self) -> tuple[str, ...]:
        """Codes of the funded areas."""
        return tuple(code for code, funded in zip(self.amounts.labels("area"), self.funded) if funded)


@dataclass(frozen=True)
class Allocation(SplitTotals):
    """£ per area × intervention, the harm it averts, how close to the optimum it is and why it looks as it does."""

    amounts: Labelled
    harm_averted: Labelled
    objective_days: float
    status: SolveStatus
    solver: str
    budget_shadow_price: float | None
    binding: tuple[str, ...]
    solve_seconds: float
    certificate: Certificate | None = None
    prices: tuple[RowPrice, ...] = ()
    conditional_on_bids: bool = False
    """Prices hold with the funded bids as chosen (a MIP chose them), not across a change of bids."""


def available_solvers() -> tuple[str, ...]:
    """The solver names that work on this machine."""
    found = []
    for name in SOLVERS:
        if name == "greedy":
            found.append(name)
            continue
        try:
            check_installed(name)
            found.append(name)
        except ConfigError:
            continue
    return tuple(found)


def allocate(
    request: AllocationRequest,
    solver: str = "highs",
    incumbents: Sequence[np.ndarray] = (),
    fixed_bids: np.ndarray | None = None,
    certify: bool = True,
) -> Allocation:
    """Solve the allocation problem and return the allocation, checked against every rule, with its certificate.

    `fixed_bids` (bool per bid) fixes which bids are funded: the explanation re-solves so, to price a rule
    conditional on the chosen bids. `incumbents` (£ per area × intervention, e.g. the baselines') offer their funded
    bids as candidate sets where a bid limit or minimum grant makes the set a choice. Without `certify` no bound is
    computed (a re-solve for a price needs only the value).
    """
    started = time.perf_counter()
    check_goal(request)
    _check_solver(request, solver, fixed_bids)
    shape = request.curves.targeted_harm.values.shape
    nothing = request.nothing_fundable()
    if nothing:
        if request.equity_floors_gbp().sum() > 0 and request.eligible.any() and request.usable().any():
            raise plain_conflict(request) or InternalError("nothing can be funded, yet the floors show no conflict")
        if request.goal == "least_cost" and request.target_harm_days > 0:
            raise InfeasibleError(
                f"the rules cannot all be met: the target of {days_words(request.target_harm_days)} harm days cannot be reached, because {nothing}",
                key="allocation.target_harm_days",
            )
        amounts = np.zeros(shape)
        certificate = Certificate(request.goal, 0.0, 0.0, 0.0, "nothing fundable", 0)
        return _finish(request, amounts, solver, started, certificate, (), None, False)
    if exact_fill_applies(request) and (fixed_bids is not None or request.funds_every_fundable_bid):
        funded = request.fundable_bids() if fixed_bids is None else np.asarray(fixed_bids, dtype=bool) & request.fundable_bids()
        amounts, prices, _ = _water_fill(request, funded)
        budget_price = _price_of(prices, "budget") or 0.0
        certificate = _fill_certificate(request, amounts, funded) if certify else None
        return _finish(request, amounts, solver, started, certificate, prices, budget_price, fixed_bids is not None)
    sets = _enumerable_sets(request) if exact_fill_applies(request) and fixed_bids is None else None
    if sets is not None:
        funded, filled = _best_enumerated(request, sets)
        amounts, prices, _ = _water_fill(request, funded)
        value = goal_value(request, amounts)
        method = f"water-filling over the {len(sets):,} funded sets the rules allow ({filled:,} filled, the rest bounded below the best)"
        certificate = Certificate("harm", value, value, 0.0, method, 0)
        return _finish(request, amounts, solver, started, certificate, prices, _price_of(prices, "budget") or 0.0, True)
    if solver == "greedy":
        raise InternalError("the greedy solver reached a problem it does not solve exactly")
    if exact_fill_applies(request) and fixed_bids is None:
        chosen = _bids_by_mip(request, solver, incumbents, certify)
        if chosen is not None:
            amounts, certificate, prices = chosen
            return _finish(request, amounts, solver, started, certificate, prices, _price_of(prices, "budget") or 0.0, True)
    segments = request.segments
    while True:
        amounts, funded, prices, certificate = solve_models(request, solver, segments, fixed_bids, certify)
        if certificate is None or certificate.gap <= request.gap_target or segments * 2 > MOST_SEGMENTS:
            break
        segments *= 2
    conditional = request.needs_binaries and fixed_bids is None
    if exact_fill_applies(request):
        amounts, prices, _ = _best_fill(request, funded, incumbents)
        if certificate is not None:
            value = goal_value(request, amounts)
            certificate = dataclasses.replace(
                certificate, value=value, bound=max(certificate.bound, value), gap=relative_gap(request, value, certificate.bound)
            )
    if float(amounts.sum()) <= request.slack_gbp and "share_minimum" in request.rule_keys() and request.goal != "least_cost":
        raise only_nothing_meets_the_shares(request)
    budget_price = None if request.goal in ("maxmin", "least_cost") else (_price_of(prices, "budget") or 0.0)
    return _finish(request, amounts, solver, started, certificate, prices, budget_price, conditional or fixed_bids is not None)


def solved_value(
    request: AllocationRequest, solver: str = "highs", incumbents: Sequence[np.ndarray] = (), fixed_bids: np.ndarray | None = None
) -> float:
    """`allocate(request, solver, incumbents, fixed_bids, certify=False).objective_days`, sooner where the water-filling
    decides the amounts: they are filled and checked against every rule as there, without the prices and the binding
    rules' words, which only a reported allocation needs (a re-solve that prices a rule, or a point of the budget curve,
    asks for the value alone). Elsewhere `allocate` runs."""
    check_goal(request)
    _check_solver(request, solver, fixed_bids)
    if request.nothing_fundable() or not exact_fill_applies(request):
        return allocate(request, solver, incumbents, fixed_bids, certify=False).objective_days
    fundable = request.fundable_bids()
    if fixed_bids is not None or request.funds_every_fundable_bid:
        funded = fundable if fixed_bids is None else np.asarray(fixed_bids, dtype=bool) & fundable
    else:
        sets = _enumerable_sets(request)
        if sets is None:
            return allocate(request, solver, incumbents, fixed_bids, certify=False).objective_days
        funded = _best_enumerated(request, sets)[0]
    amounts = _fill_amounts(request, funded)
    check_amounts(request, amounts)
    return goal_value(request, amounts)


def _bids_by_mip(request: AllocationRequest, solver: str, incumbents: Sequence[np.ndarray], certify: bool):
    """Budget-and-caps rules with too many funded sets to search: the chord MIP chooses the bids, the water-filling sets
    the amounts, and a Lagrangian bound over every set the rules allow certifies them, without a tangent MIP.

    For any price λ, no split funding at most k bids averts more than λ·S + the sum of the k largest positive
    g_b(λ) (`filling.bid_gains_at_prices`): the set bound of the funded-set search, maximised over the sets in one
    sort. Where that bound leaves a gap above the target, None: the caller solves the tangent model instead."""
    _, funded, _, _ = solve_models(request, solver, request.segments, None, certify=False, prices_wanted=False)
    amounts, prices, _ = _best_fill(request, funded, incumbents)
    value = goal_value(request, amounts)
    certificate = None
    if certify:
        bound = max(_lagrangian_bound_over_sets(request), value)
        certificate = Certificate(
            "harm",
            value,
            bound,
            relative_gap(request, value, bound),
            "mixed-integer program for the bids, water-filling for the amounts, Lagrangian bound",
            request.segments,
        )
        if certificate.gap > request.gap_target:
            return None
    return amounts, certificate, prices


def _bid_gains(request: AllocationRequest, count: int) -> tuple[np.ndarray, np.ndarray]:
    """A geometric grid of `count` prices over the cells' slopes, and each fundable bid's gain g_b(λ) at each (prices ×
    bids; 0 for a bid that cannot be funded): what the Lagrangian bounds over funded sets are made of."""
    fundable = request.fundable_bids()
    lower, upper = _bid_bounds(request, fundable)
    ceilings, scale = request.curves.ceilings(), request.curves.scale.values
    slopes = (ceilings / np.where(scale > 0, scale, 1.0))[request.usable() & (ceilings > 0)]
    prices = np.geomspace(slopes.min() * 1e-3, slopes.max(), count) if len(slopes) else np.ones(1)
    gains = bid_gains_at_prices(request.curves, request.usable(), request.bids(), lower, upper, prices)
    return prices, np.where(fundable[None, :], gains, 0.0)


def _bid_bounds(request: AllocationRequest, funded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each bid's least and most spend for the water-filling: the minimum grant and its cap where funded, else 0."""
    return np.where(funded, request.minimum_grant_gbp, 0.0), np.where(funded, request.bid_caps(), 0.0)


def _lagrangian_bound_over_sets(request: AllocationRequest) -> float:
    """min over a grid of prices λ of λ·S + the sum of the k largest positive g_b(λ), k the most bids the rules allow:
    an upper bound on harm averted by any funded set (weak duality, with the max over sets inside the min over λ)."""
    prices, gains = _bid_gains(request, 96)
    most = max(min(request.most_bids(), int(request.fundable_bids().sum())), 0)
    top = -np.sort(-np.maximum(gains, 0.0), axis=1)[:, :most].sum(axis=1)
    return float(np.min(prices * request.spendable_gbp + top))


def only_nothing_meets_the_shares(request: AllocationRequest) -> InfeasibleError:
    """Least shares are met by allocating nothing (every share of £0 is 0 %), so a run that can spend must say why it
    does not: the shares cannot be met together with the other rules."""
    shares = next(family for family in request.families() if family.key == "share_minimum")
    words = "; ".join(row.words for row in shares.rows)
    return InfeasibleError(
        f"the rules cannot all be met: {words} can be kept only by allocating nothing under the other rules",
        key="allocation.intervention_shares",
        hint="lower the least shares, or raise the caps on the interventions they name",
    )


def plan_allocation(request: AllocationRequest, amounts: np.ndarray, solver: str, objective_days: float, seconds: float) -> Allocation:
    """An `Allocation` for a plan chosen on the Monte Carlo draws (the expected or CVaR plan), checked against the same
    rules; it has no single budget shadow price or certificate at the point estimates, so those are None."""
    result = _result(request, np.asarray(amounts, dtype=float), objective_days, solver, None, (), seconds, None, False)
    check_amounts(request, result.amounts.values)
    return result


def quick_best_amounts(request: AllocationRequest, incumbents: Sequence[np.ndarray] = ()) -> tuple[np.ndarray, bool]:
    """£ per area × intervention of a good split found without a linear program, and whether it is the exact optimum.

    Exact where every fundable bid may be funded (water-filling alone), and under a bid limit or a minimum grant
    where the funded sets can be searched (`_best_enumerated`). With more sets than that the funded set is the best
    of: the bids the split without those two rules spends most on (as many as the rules allow), and each incumbent's
    funded bids, each water-filled on the exact curves; a heuristic, so a regret measured against it is a lower bound.
    Rules or goals beyond the water-filling get the array-built chord program (also not exact). A Monte Carlo uses it
    where a mixed integer program per draw would take seconds each.
    """
    shape = request.curves.targeted_harm.values.shape
    if request.nothing_fundable():
        return np.zeros(shape), True
    if not exact_fill_applies(request):
        return array_chord_split(request, QUICK_SEGMENTS), False
    fundable = request.fundable_bids()
    if request.funds_every_fundable_bid:
        return _fill_amounts(request, fundable), True
    sets = _enumerable_sets(request)
    if sets is not None:
        return _fill_amounts(request, _best_enumerated(request, sets)[0]), True
    unlimited, _, _ = water_fill_prices(
        request.curves,
        request.usable(),
        request.bids(),
        np.zeros(request.bid_count),
        np.where(fundable, request.bid_caps(), 0.0),
        request.spendable_gbp,
        request.nested_force_caps(),
    )
    spend = np.where(fundable, request.per_bid(unlimited), -1.0)
    favoured = np.zeros(request.bid_count, dtype=bool)
    favoured[np.argsort(-spend, kind="stable")[: max(request.most_bids(), 0)]] = True
    return _best_fill(request, favoured & fundable, incumbents)[0], False


def check_allocation(request: AllocationRequest, allocation: Allocation) -> None:
    """Raise InternalError if the allocation breaks a rule it was solved under."""
    check_amounts(request, allocation.amounts.values)


def check_amounts(request: AllocationRequest, amounts: np.ndarray) -> None:
    """Raise InternalError if £ per area × intervention break one of the request's rules (`constraints.rule_breaches`)."""
    breaches = rule_breaches(request, amounts)
    if breaches:
        raise InternalError("the allocation breaks " + "; ".join(breaches[:3]))


def exact_fill_applies(request: AllocationRequest) -> bool:
    """True when the water-filling is exact for the request once bids are fixed: harm goal, budget-and-cap families only."""
    return request.goal == "harm" and set(request.rule_keys()) <= WATER_FILLED and request.caps_nest


def _check_solver(request: AllocationRequest, solver: str, fixed_bids: np.ndarray | None) -> None:
    """Refuse an unknown or missing solver, and the greedy where it is not exact (naming each rule it does not handle)."""
    if solver != "greedy":
        check_installed(solver)
        return
    beyond = [family.title for family in request.families() if not family.greedy]
    if fixed_bids is not None:
        beyond = [family.title for family in request.families() if not family.water_filled]
    if beyond or request.goal != "harm":
        what = ", ".join(beyond) if beyond else f"the {request.goal} objective"
        raise ConfigError(
            f"the greedy solver handles only the budget and caps, not {what}",
            key="allocation.solver",
            got="greedy",
            hint="use highs or cbc for these rules",
        )


def _water_fill(request: AllocationRequest, funded: np.ndarray) -> tuple[np.ndarray, tuple[RowPrice, ...], float]:
    """Exact amounts over a funded set, with the price of the spend limit that binds, of each force's cap where the
    force cap applies per force, and of each bid's cap or minimum."""
    lower, upper = _bid_bounds(request, funded)
    nested = request.nested_force_caps()
    if nested is not None:
        filled = water_fill_nested(request.curves, request.usable(), request.bids(), lower, upper, request.spendable_gbp, *nested)
        return filled.amounts, _fill_prices(request, filled.amounts, filled.level, filled.bid_prices, funded, filled), filled.level
    amounts, level, bid_prices = water_fill_prices(request.curves, request.usable(), request.bids(), lower, upper, request.spendable_gbp)
    return amounts, _fill_prices(request, amounts, level, bid_prices, funded), level


MOST_ENUMERATED_SETS = 20_000
"""Funded sets the allocator searches itself, instead of a MIP choosing them, when the rules allow no more (13 districts
with a 3-bid limit give 286, or 377 with a minimum grant; 40 with 3 bids give 9,880). Each gets a bound in one sum and only
those whose bound passes the best found are water-filled (`_best_enumerated`)."""


def _enumerable_sets(request: AllocationRequest) -> list[np.ndarray] | None:
    """Every funded set worth trying under the bid limit and minimum grant (each as bool per bid), or None when there
    are more than `MOST_ENUMERATED_SETS`. Without a minimum grant a set of the most bids allowed is never worse than
    its subsets, so only those are listed; with one, every size up to what the money allows."""
    from itertools import combinations
    from math import comb

    fundable = np.flatnonzero(request.fundable_bids())
    most = min(request.most_bids(), len(fundable))
    sizes = [most] if request.minimum_grant_gbp <= 0 else list(range(1, most + 1))
    if most <= 0 or sum(comb(len(fundable), size) for size in sizes) > MOST_ENUMERATED_SETS:
        return None
    nested = request.nested_force_caps()
    sets = []
    for size in sizes:
        for chosen in combinations(fundable, size):
            funded = np.zeros(request.bid_count, dtype=bool)
            funded[list(chosen)] = True
            if nested is not None and request.minimum_grant_gbp > 0 and not _minimums_fit(request, funded, *nested):
                continue
            sets.append(funded)
    return sets or None


def _minimums_fit(request: AllocationRequest, funded: np.ndarray, force_of_bid: np.ndarray, caps: np.ndarray) -> bool:
    """True when the minimum grants of a funded set fit under each force's cap."""
    need = np.bincount(force_of_bid, weights=np.where(funded, request.minimum_grant_gbp, 0.0), minlength=len(caps))
    return bool(np.all(need <= caps * (1 + 1e-12)))


def _best_enumerated(request: AllocationRequest, sets: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """The best funded set of `sets` on the exact curves, and how many were water-filled to find it.

    Each set gets an upper bound, min over a grid of prices λ of λ·S + Σ_(b in set) g_b(λ) (`filling.bid_gains_at_prices`);
    sets are filled in falling order of bound until the best value found reaches the next bound. That is exact: a set
    skipped cannot beat the best, since its bound does not."""
    prices, gains = _bid_gains(request, 48)
    padded = np.concatenate([gains, np.zeros((len(prices), 1))], axis=1)
    size = max(int(funded.sum()) for funded in sets)
    members = np.full((len(sets), size), request.bid_count)
    for row, funded in enumerate(sets):
        chosen = np.flatnonzero(funded)
        members[row, : len(chosen)] = chosen
    bounds = np.min(prices[None, :] * request.spendable_gbp + padded[:, members].sum(axis=2).T, axis=1)
    order = np.argsort(-bounds, kind="stable")
    best_value, best_set, filled = -np.inf, sets[order[0]], 0
    for position in order:
        if bounds[position] <= best_value * (1 + 1e-12):
            break
        amounts = _fill_amounts(request, sets[position])
        filled += 1
        value = float(request.curves.averted(amounts).sum())
        if value > best_value:
            best_value, best_set = value, sets[position]
    return best_set, filled


def _fill_amounts(request: AllocationRequest, funded: np.ndarray) -> np.ndarray:
    """`_water_fill`'s amounts alone (no prices): what a Monte Carlo draw needs."""
    lower, upper = _bid_bounds(request, funded)
    nested = request.nested_force_caps()
    return water_fill_prices(request.curves, request.usable(), request.bids(), lower, upper, request.spendable_gbp, nested)[0]


def _best_fill(request: AllocationRequest, funded_by_model: np.ndarray, incumbents: Sequence[np.ndarray]):
    """The best exact water-filling over the model's funded set and each incumbent's (where the rules allow that many bids)."""
    fundable = request.fundable_bids()
    sets = [fundable & np.asarray(funded_by_model, dtype=bool)]
    for amounts in incumbents:
        funded = fundable & (request.per_bid(np.asarray(amounts, dtype=float)) > 0)
        if funded.sum() <= request.most_bids() and not any(np.array_equal(funded, known) for known in sets):
            sets.append(funded)
    best = None
    for funded in sets:
        amounts = _fill_amounts(request, funded)
        value = float(request.curves.averted(amounts).sum())
        if best is None or value > best[0]:
            best = (value, funded)
    return _water_fill(request, best[1])


def _fill_prices(request, amounts, level, bid_prices, funded, nested: NestedFill | None = None) -> tuple[RowPrice, ...]:
    """Prices from the water-filling's conditions: the spend limit's is the water level; a capped force's its own level
    above it; a capped bid's its own level above its force's (the water level with one force); a bid held at the
    minimum grant, its force's level above its own."""
    prices = []
    spend = request.spendable_gbp
    slack = request.slack_gbp + 0.01
    binding = spend_limit(request)
    if nested is not None:
        # The force caps are rows per force, priced below; the total is limited by the budget or the match funding.
        spend, binding = request.budget_gbp, "budget"
        if request.match_funding_available_gbp is not None and request.match_funding_rate > 0:
            allowed = request.match_funding_available_gbp / request.match_funding_rate
            spend, binding = (allowed, "match_funding") if allowed < spend else (spend, binding)
    if amounts.sum() >= spend - slack and level > 0:
        per_unit = level * (1.0 / request.match_funding_rate if binding == "match_funding" else 1.0)
        prices.append(RowPrice(binding, 0, _words_of(request, binding, 0), per_unit, "£"))
    bid_level = np.full(request.bid_count, level)
    if nested is not None:
        force_of_bid = request.force_of_bid()
        bid_level = nested.group_levels[force_of_bid]
        spent = np.bincount(force_of_bid, weights=request.per_bid(amounts), minlength=request.force_count)
        caps = request.force_caps()
        for index, force in enumerate(_capped_force_rows(request)):
            gain = nested.group_levels[force] - level
            if nested.group_capped[force] and spent[force] >= caps[force] - slack and gain > 0:
                prices.append(RowPrice("force_cap", index, _words_of(request, "force_cap", index), float(gain), "£"))
    per_bid = request.per_bid(amounts)
    caps = request.bid_caps()
    fundable = [int(bid) for bid in np.flatnonzero(request.fundable_bids())]
    local = None if request.local_match_gbp is None else np.asarray(request.local_match_gbp, float)
    for index, bid in enumerate(fundable):
        if not funded[bid]:
            continue
        if per_bid[bid] >= caps[bid] - slack and bid_prices[bid] > bid_level[bid]:
            gain = bid_prices[bid] - bid_level[bid]
            grant = request.grant_caps_gbp[bid] if request.grant_caps_gbp is not None else request.max_grant_gbp
            if local is not None and request.match_funding_rate > 0 and local[bid] / request.match_funding_rate < grant:
                row = [b for b in fundable if np.isfinite(local[b])].index(bid)
                prices.append(RowPrice("local_match", row, _words_of(request, "local_match", row), gain / request.match_funding_rate, "£"))
            else:
                prices.append(RowPrice("grant_cap", index, _words_of(request, "grant_cap", index), float(gain), "£"))
        elif request.minimum_grant_gbp > 0 and per_bid[bid] <= request.minimum_grant_gbp + slack and bid_prices[bid] < bid_level[bid]:
            prices.append(
                RowPrice("minimum_grant", index, _words_of(request, "minimum_grant", index), bid_prices[bid] - bid_level[bid], "£")
            )
    return tuple(prices)


def _capped_force_rows(request: AllocationRequest) -> list[int]:
    """The force of each force-cap row, in row order (the rows are one per force with a cap and a fundable cell)."""
    family = next((family for family in request.families() if family.key == "force_cap"), None)
    if family is None:
        return []
    forces = np.asarray(request.force_of_area, dtype=int)
    items = request.usable().shape[1]
    return [int(forces[row.cells[0] // items]) for row in family.rows]


def _words_of(request: AllocationRequest, key: str, index: int) -> str:
    for family in request.families():
        if family.key == key:
            return family.rows[index].words
    raise InternalError(f"no rule family {key}")


def _price_of(prices: Sequence[RowPrice], key: str) -> float | None:
    found = [price.price for price in prices if price.family == key]
    return found[0] if found else None


def _fill_certificate(request: AllocationRequest, amounts: np.ndarray, funded: np.ndarray) -> Certificate:
    """The water-filling's value and an independent upper bound from Lagrangian duality.

    For the money to spend S, bid bounds [L_b, U_b] and any prices p_b = λ + μ_b − ν_b (λ, μ, ν ≥ 0), every split
    averts at most λ·S + Σ μ_b·U_b − Σ ν_b·L_b + Σ_cells max_x≥0 [f(x) − p_b·x], and the inner maximum has a closed
    form: A − p·s·(1 + ln(A / (p·s))) where A / s > p, else 0. The bound is evaluated at prices read off the solution
    (the water level, and each bid's own level where it sits at a bound), so it is computed from the curves alone and
    meets the value only where the solution is optimal: the gap it leaves is the certificate."""
    value = float(request.curves.averted(amounts).sum())
    slack = request.slack_gbp + 0.01
    usable = request.usable() & funded[request.bids()][:, None]
    ceilings, scale = request.curves.ceilings(), request.curves.scale.values
    marginal = np.where(usable & (amounts > slack), ceilings / scale * np.exp(-amounts / scale), 0.0)
    per_bid_top = np.zeros(request.bid_count)
    np.maximum.at(per_bid_top, request.bids(), marginal.max(axis=1))
    spend = request.per_bid(amounts)
    total = float(amounts.sum())
    lower, caps = _bid_bounds(request, funded)
    at_cap = funded & (spend >= caps - slack)
    at_floor = funded & (spend <= lower + slack) & (lower > 0)
    interior = funded & (spend < caps - slack) & (spend > lower + slack)
    spending = marginal > 0
    nested = request.nested_force_caps()
    forces_term = 0.0
    if nested is not None:
        level, bid_level, forces_term = _nested_levels(request, marginal, per_bid_top, spend, interior, total, slack, *nested)
    elif total < request.spendable_gbp - slack or not spending.any():
        level = 0.0
    elif interior.any():
        level = float(np.median(per_bid_top[interior]))
    else:
        level = float(marginal[spending].min())
    if nested is None:
        bid_level = np.full(request.bid_count, level)
    own = np.where(at_cap | at_floor, per_bid_top, bid_level)
    above = np.where(funded, np.maximum(own - bid_level, 0.0), 0.0)
    below = np.where(funded, np.maximum(bid_level - own, 0.0), 0.0)
    price = own[request.bids()][:, None] * np.ones_like(ceilings)
    ratio = np.divide(ceilings, price * scale, out=np.zeros_like(ceilings), where=usable & (price > 0))
    inner = np.where(ratio > 1.0, ceilings - price * scale * (1.0 + np.log(np.where(ratio > 1.0, ratio, 1.0))), 0.0)
    inner = np.where(usable & (price <= 0), ceilings, inner)
    bound = level * request.spendable_gbp + float((above * caps).sum()) - float((below * lower).sum()) + float(inner.sum())
    bound += forces_term
    if bound < value * (1 - 1e-9) - 1e-6:
        raise InternalError(f"the dual bound {bound} is below the water-filling's value {value}: a dual bound cannot be")
    bound = max(bound, value)
    return Certificate("harm", value, bound, relative_gap(request, value, bound), "water-filling on the exact curves", 0)


def _nested_levels(request, marginal, per_bid_top, spend, interior, total, slack, force_of_bid, caps) -> tuple[float, np.ndarray, float]:
    """Prices read off a water-filling under force caps for its dual bound: the budget's level λ (from bids strictly
    inside their bounds in forces below their caps), each capped force's own level λ_f ≥ λ (from its own such bids),
    each bid's level (its force's), and the force caps' term Σ_f (λ_f − λ)·C_f of the bound."""
    forces = len(caps)
    force_spend = np.bincount(force_of_bid, weights=spend, minlength=forces)
    capped = force_spend >= caps - slack
    total_limit = request.budget_gbp
    if request.match_funding_available_gbp is not None and request.match_funding_rate > 0:
        total_limit = min(total_limit, request.match_funding_available_gbp / request.match_funding_rate)
    cell_force = force_of_bid[request.bids()][:, None] * np.ones(marginal.shape, dtype=int)
    free_bids = interior & ~capped[force_of_bid]
    free_cells = (marginal > 0) & ~capped[cell_force]
    if total < total_limit - slack:
        level = 0.0
    elif free_bids.any():
        level = float(np.median(per_bid_top[free_bids]))
    elif free_cells.any():
        level = float(marginal[free_cells].min())
    else:
        level = 0.0
    levels = np.full(forces, level)
    for force in np.flatnonzero(capped):
        inside = interior & (force_of_bid == force)
        cells = (marginal > 0) & (cell_force == force)
        own = float(np.median(per_bid_top[inside])) if inside.any() else float(marginal[cells].min()) if cells.any() else level
        levels[force] = max(own, level)
    term = float(np.sum(np.where(capped & np.isfinite(caps), (levels - level) * np.where(np.isfinite(caps), caps, 0.0), 0.0)))
    return level, levels[force_of_bid], term


def _finish(request, amounts, solver, started, certificate, prices, budget_price, conditional) -> Allocation:
    value = goal_value(request, amounts) if certificate is None else certificate.value
    result = _result(request, amounts, value, solver, budget_price, tuple(prices), time.perf_counter() - started, certificate, conditional)
    check_allocation(request, result)
    return result


def _result(request, amounts, objective, solver, shadow, prices, seconds, certificate, conditional) -> Allocation:
    curves = request.curves
    coords = (curves.codes, curves.interventions)
    averted = curves.averted(amounts)
    return Allocation(
        amounts=Labelled(amounts, ("area", "intervention"), coords, "allocation", "£"),
        harm_averted=Labelled(averted, ("area", "intervention"), coords, "harm averted", "days"),
        objective_days=float(objective),
        status=SolveStatus.OPTIMAL,
        solver=solver,
        budget_shadow_price=shadow,
        binding=binding_words(request, amounts, prices, conditional),
        solve_seconds=seconds,
        certificate=certificate,
        prices=tuple(prices),
        conditional_on_bids=conditional,
    )
