"""Monte Carlo through the whole pipeline: every uncertain input drawn, the rules re-applied and the split re-solved per draw.

A draw samples the data period's records as they might have been (the rates the rules compare),
the funding period's records (count noise and the forecast's parameter error), each
intervention's effect and cost scale, and the splits behind the harm weights, each source from
its own seeded stream, so switching one source off leaves the others' draws as they were. Per
draw the round's rules are applied again and the best split is solved again. A plan is chosen
before the uncertainty resolves, so each plan (the point-estimate plan, the expected and the
CVaR plan) is scored on every draw's curves; its regret in a draw is what that draw's own best
split (under the published verdicts, which the fund decides on) would have averted beyond it.
The mean regret of the expected plan is the expected value of perfect information.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .allocation import exact_fill_applies, quick_best_amounts
from .arrays import Labelled
from .constraints import AllocationRequest, funded_areas
from .demand import Demand, DemandDraws, draw_demand
from .eligibility import Eligibility, eligible_in_draws
from .errors import ConfigError
from .execution import LOCAL, Executor, chunks
from .formulation import QUICK_SEGMENTS
from .interventions import CurveDraws, Curves, curve_draws
from .robust import PlanOutcome, evaluate_plan, plans_for_draws
from .schema import Scenario
from .uncertainty import InputDraws, describe_sources, draw_inputs, one_at_a_time, uncertain_inputs

QUANTILES = (0.05, 0.5, 0.95)
PLAN_LABELS = {
    "point": "point-estimate plan",
    "expected": "expected plan (best mean over the draws)",
    "cvar": "CVaR plan (best mean of the worst draws)",
}
STREAMS = ("demand", "inputs")
DRAWS_PER_CHUNK = 100
"""Draws solved together in one task: enough to vectorise the water-filling over them, few enough that progress moves
and that `--jobs` has chunks to share out."""
BISECTION_STEPS = 200
"""At most this many halvings of each draw's water level; the level stops moving in float64 well before (about 60)."""

Progress = Callable[[int], None]


@dataclass(frozen=True)
class PlanOnDraws:
    """One plan scored on every draw: its outcome (`robust.evaluate_plan`) and its regret against each draw's own best split."""

    objective: str
    amounts: np.ndarray
    outcome: PlanOutcome
    regret: np.ndarray | None
    """Harm each draw's own best split would have averted beyond the plan (days); None where the goal is not harm averted,
    so no best split in harm days is sought."""
    how: str = ""

    @property
    def label(self) -> str:
        """The plan in words."""
        return PLAN_LABELS[self.objective]

    @property
    def averted(self) -> np.ndarray:
        """Harm averted in each draw (days)."""
        return self.outcome.averted_days

    @property
    def tail_share(self) -> float:
        """The share of worst draws `worst_share_mean` averages."""
        return self.outcome.tail_share

    @property
    def mean(self) -> float:
        """Mean harm averted over the draws (days)."""
        return self.outcome.mean_days

    @property
    def worst_share_mean(self) -> float:
        """Mean harm averted over the worst `tail_share` of draws (days): the CVaR."""
        return self.outcome.worst_share_mean_days

    def quantile(self, q: float) -> float:
        """A quantile of harm averted over the draws (days)."""
        return float(np.quantile(self.averted, q))

    @property
    def mean_regret(self) -> float | None:
        """Mean harm each draw's own best split would have averted beyond this plan (days), or None where not measured."""
        return None if self.regret is None else float(self.regret.mean())


@dataclass(frozen=True)
class TornadoBar:
    """Harm averted by the chosen plan, and the top funded area's best amount, with one input at its low and at its high."""

    key: str
    label: str
    low: float
    high: float
    averted_low: float
    averted_high: float
    amount_low: float
    amount_high: float

    @property
    def swing(self) -> float:
        """How far harm averted moves between the input's low and high (days)."""
        return abs(self.averted_high - self.averted_low)


@dataclass(frozen=True)
class VerdictOdds:
    """How often each area passes the round's test when the records behind the rates are drawn again."""

    draws: int
    point_eligible: np.ndarray
    p_eligible: Labelled
    marginal_share: float

    @property
    def codes(self) -> tuple[str, ...]:
        """Area codes, in order."""
        return self.p_eligible.labels("area")

    @cached_property
    def flip_share(self) -> np.ndarray:
        """Per area, the share of draws whose verdict differs from the published one."""
        p = self.p_eligible.values
        return np.where(self.point_eligible, 1.0 - p, p)

    @cached_property
    def marginal(self) -> np.ndarray:
        """Per area, whether its verdict flips in more than `marginal_share` of draws: a knife-edge verdict."""
        return self.flip_share > self.marginal_share + 1e-12

    def describe(self, position: int) -> str:
        """The verdict's odds in words, e.g. 'marginal: eligible in 54 % of draws'."""
        p = float(self.p_eligible.values[position])
        words = f"eligible in {p:.0%} of {self.draws:,} draws"
        return f"marginal: {words}" if self.marginal[position] else words


@dataclass(frozen=True)
class MonteCarlo:
    """Per area the odds of each verdict and of funding, intervals of amount and harm averted; per plan its outcome over the draws."""

    draws: int
    seed: int
    coverage: float
    tail_share: float
    includes: str
    verdicts: VerdictOdds
    p_funded: Labelled
    amount: Labelled
    averted: Labelled
    plans: tuple[PlanOnDraws, ...]
    chosen: str
    tornado: tuple[TornadoBar, ...]
    top_area: str
    seconds: float
    exact_per_draw: bool = True
    best_split_by_chords: bool = False
    """Each draw's best split came from the array-built chord program (rules or an objective water-filling does not handle)."""

    @property
    def codes(self) -> tuple[str, ...]:
        """Area codes, in order."""
        return self.p_funded.labels("area")

    @property
    def best_split_words(self) -> str:
        """How each draw's best split was found, in a sentence for the report."""
        if self.exact_per_draw:
            return "Each draw's best split is exact: water-filling the draw's curves over every fundable bid."
        if self.best_split_by_chords:
            return (
                f"Under the scenario's rules and objective, each draw's best split is the optimum of a linear program over "
                f"{QUICK_SEGMENTS} chords per curve (under each curve, so slightly short of the exact optimum): the regret and the "
                f"value of perfect information are lower bounds and P(funded) is approximate."
            )
        return (
            "Under the round's bid limit or minimum grant, each draw's best split is the better of the plan's own bids and "
            "the bids the draw's split without those rules favours, water-filled exactly: a heuristic, so the regret and the "
            "value of perfect information are lower bounds and P(funded) is approximate."
        )

    @property
    def plan(self) -> PlanOnDraws:
        """The chosen plan scored on the draws."""
        return next(plan for plan in self.plans if plan.objective == self.chosen)

    @property
    def interval(self) -> tuple[float, float]:
        """The chosen plan's central `coverage` interval of harm averted over the draws (days)."""
        tail = (1.0 - self.coverage) / 2.0
        return self.plan.quantile(tail), self.plan.quantile(1.0 - tail)

    @property
    def perfect_information_days(self) -> float:
        """The expected value of perfect information (days): the mean over the draws of each draw's best split, less the
        best mean any plan scored on the same draws reaches. 0 when nothing varies."""
        regrets = [plan.mean_regret for plan in self.plans if plan.mean_regret is not None]
        return max(0.0, min(regrets)) if regrets else None

    @property
    def perfect_information_words(self) -> str:
        """The value of perfect information in a sentence, saying when it is only a lower bound or not measured."""
        if self.perfect_information_days is None:
            return (
                "The value of perfect information is not measured: it counts harm days a draw's best split would add, and "
                "this plan's objective is not harm averted."
            )
        plans = "the plan" if len(self.plans) == 1 else f"the best of the {len(self.plans)} plans"
        words = (
            f"Knowing each draw's demand, effects, costs and harm weights before deciding would avert "
            f"{self.perfect_information_days:,.0f} days more on average than {plans}"
        )
        if self.exact_per_draw:
            return words + ": the expected value of perfect information."
        if self.best_split_by_chords:
            return words + ", at least (each draw's best split is solved on chords under the curves)."
        return words + ", at least (each draw's best split is a heuristic under the round's bid limit or minimum grant)."


def simulate(
    scenario: Scenario,
    demand: Demand,
    eligibility: Eligibility,
    curves: Curves,
    request: AllocationRequest,
    point_amounts: np.ndarray,
    draws: int,
    seed: int,
    progress: Progress | None = None,
    executor: Executor = LOCAL,
) -> MonteCarlo:
    """Draw every uncertain input `draws` times, re-apply the rules and re-solve the split per draw, and score the plans.

    `point_amounts` is the point-estimate plan; the expected and CVaR plans are solved on the same
    draws, and `allocation.objective` says which of the three is chosen. Every random number is drawn here, from
    the seed; the draws' best splits are solved in chunks on `executor`, so the figures are the same however many
    jobs run them. `progress` hears the count of draws in each finished chunk.
    """
    started = time.perf_counter()
    settings = scenario.uncertainty
    interventions = scenario.active_interventions()
    drawn = draw_world(scenario, demand, draws, seed)
    world = curve_draws(
        curves, interventions, drawn.records.future_records, drawn.inputs.harm_weights, drawn.inputs.max_reduction, drawn.inputs.cost_factor
    )
    eligible = _eligible(scenario, demand, drawn)
    best_own, best_published, exact = best_per_draw(request, world, eligible, point_amounts, progress, executor)
    plans = _plans(request, world, point_amounts, settings.tail_share, best_published if request.goal == "harm" else None)
    chosen_name = scenario.allocation.objective if scenario.allocation.objective in PLAN_LABELS else "point"
    chosen = next((plan for plan in plans if plan.objective == chosen_name), None)
    if chosen is None:
        raise ConfigError(
            f"cannot be {chosen_name!r}: {robust_plans_skipped(request)}",
            key="allocation.objective",
            hint='use allocation.objective = "point", or fewer areas (a region, or bids by force)',
        )
    codes = curves.codes
    quantile_labels = tuple(f"{q:.0%}" for q in QUANTILES)
    top = int(np.argmax(chosen.amounts.sum(axis=1)))
    return MonteCarlo(
        draws=draws,
        seed=seed,
        coverage=scenario.demand.interval,
        tail_share=settings.tail_share,
        includes=describe_sources(settings, interventions, demand.weights),
        verdicts=_odds(eligibility, eligible, settings.marginal_share),
        p_funded=Labelled(funded_share(best_own), ("area",), (codes,), "P(funded by the draw's best split)", "probability"),
        amount=Labelled(
            np.quantile(best_own.sum(axis=2), QUANTILES, axis=0).T, ("area", "quantile"), (codes, quantile_labels), "best amount", "£"
        ),
        averted=Labelled(
            np.quantile(world.averted_by_area(chosen.amounts), QUANTILES, axis=0).T,
            ("area", "quantile"),
            (codes, quantile_labels),
            "harm averted by the plan",
            "days",
        ),
        plans=plans,
        chosen=chosen_name,
        tornado=tornado(scenario, demand, curves, request, chosen.amounts, top, drawn.records.future_records),
        exact_per_draw=exact,
        best_split_by_chords=not exact_fill_applies(request),
        top_area=codes[top],
        seconds=time.perf_counter() - started,
    )


def verdict_odds(scenario: Scenario, demand: Demand, eligibility: Eligibility, draws: int, seed: int) -> VerdictOdds:
    """The verdicts alone under the Monte Carlo: each area's chance of passing when the records behind the rates are drawn again.

    The draws are the same as a full run's with this seed, so the odds match its eligibility table; only what the
    rules read is drawn (the data period's records and the harm weights), so no solver or statistics library loads.
    """
    drawn = draw_world(scenario, demand, draws, seed, verdicts_only=True)
    return _odds(eligibility, _eligible(scenario, demand, drawn), scenario.uncertainty.marginal_share)


def _eligible(scenario: Scenario, demand: Demand, drawn: DrawnWorld) -> np.ndarray:
    return eligible_in_draws(
        demand, scenario.round, drawn.records.period_records, drawn.inputs.harm_weights, rate_estimator=scenario.demand.rate_estimator
    )


def _odds(eligibility: Eligibility, eligible: np.ndarray, marginal_share: float) -> VerdictOdds:
    codes = eligibility.codes
    return VerdictOdds(
        draws=eligible.shape[0],
        point_eligible=np.asarray(eligibility.eligible.values, dtype=bool),
        p_eligible=Labelled(eligible.mean(axis=0), ("area",), (codes,), "P(eligible)", "probability"),
        marginal_share=marginal_share,
    )


@dataclass(frozen=True)
class DrawnWorld:
    """The raw draws: records over the data period and the funding period, and the other inputs."""

    records: DemandDraws
    inputs: InputDraws


def draw_world(scenario: Scenario, demand: Demand, draws: int, seed: int, verdicts_only: bool = False) -> DrawnWorld:
    """Every source's draws from its own stream of the seed, so one source switched off leaves the rest unchanged.

    With `verdicts_only` only what the rules read is drawn: the data period's records and the harm weights (the same
    bytes as in a full draw); the horizon's records are None and the effects and cost scales stay at their point values."""
    streams = dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS))))
    sources = frozenset(scenario.uncertainty.sources)
    records = draw_demand(
        demand, np.random.default_rng(streams["demand"]), draws, sources & {"counts", "forecast"}, horizon=not verdicts_only
    )
    inputs = draw_inputs(
        scenario.uncertainty,
        scenario.active_interventions(),
        demand.weights,
        np.random.default_rng(streams["inputs"]),
        draws,
        harm_weights_only=verdicts_only,
    )
    return DrawnWorld(records, inputs)


def best_per_draw(
    request: AllocationRequest,
    world: CurveDraws,
    eligible: np.ndarray,
    plan: np.ndarray,
    progress: Progress | None = None,
    executor: Executor = LOCAL,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Each draw's best split under its own verdicts, its best harm averted under the published verdicts, and whether
    every one of those splits is the exact optimum (`allocation.quick_best_amounts`).

    The second is what perfect knowledge of the draw would have achieved with the verdicts the fund actually
    gives (with a heuristic split, the plans scored on the draw can beat it; `_plans` takes the best of them all).
    Draws are solved in chunks of `DRAWS_PER_CHUNK` on `executor`; each draw's split depends on that draw alone.
    """
    count = world.count
    pieces = chunks(count, max(executor.jobs, -(-count // DRAWS_PER_CHUNK)))
    fresh = dataclasses.replace(request)  # without the rows it has cached, which hold functions that cannot be pickled
    tasks = [(fresh, _draws_of(world, piece), eligible[piece.start : piece.stop], plan) for piece in pieces]
    own = np.zeros((count, *plan.shape))
    published = np.zeros(count)
    exact = True
    for index, (chunk_own, chunk_published, chunk_exact) in executor.run(_best_in_chunk, tasks):
        piece = pieces[index]
        own[piece.start : piece.stop] = chunk_own
        published[piece.start : piece.stop] = chunk_published
        exact = exact and chunk_exact
        if progress is not None:
            progress(len(piece))
    return own, published, exact


def _draws_of(world: CurveDraws, piece: range) -> CurveDraws:
    part = slice(piece.start, piece.stop)
    return CurveDraws(
        world.targeted_harm[part], world.scale[part], world.max_reduction[part], world.codes, world.interventions, world.years
    )


def _best_in_chunk(task: tuple[AllocationRequest, CurveDraws, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, bool]:
    """`best_per_draw` for one chunk of draws (a task an executor runs): the draws the water-filling decides exactly
    are filled together (`fill_in_draws`), the rest one by one with `quick_best_amounts`."""
    request, world, eligible, plan = task
    count = world.count
    point_eligible = np.asarray(request.eligible, dtype=bool)
    own = np.zeros((count, *plan.shape))
    published = np.zeros(count)
    together = _filled_together(request, world, eligible)
    rows = np.flatnonzero(together)
    if len(rows):
        own[rows] = fill_in_draws(request, world, eligible[rows], rows)
        best = own[rows].copy()
        differs = ~(eligible[rows] == point_eligible[None, :]).all(axis=1)
        if differs.any():
            best[differs] = fill_in_draws(
                request, world, np.broadcast_to(point_eligible, (int(differs.sum()), len(point_eligible))), rows[differs]
            )
        published[rows] = _averted_in(world, best, rows)
    exact = True
    for d in np.flatnonzero(~together):
        curves = world.draw(int(d))
        own[d], own_exact = quick_best_amounts(dataclasses.replace(request, curves=curves, eligible=eligible[d]), incumbents=[plan])
        if np.array_equal(eligible[d], point_eligible):
            best, best_exact = own[d], own_exact
        else:
            best, best_exact = quick_best_amounts(dataclasses.replace(request, curves=curves), incumbents=[plan])
        exact = exact and own_exact and best_exact
        published[d] = float(curves.averted(best).sum())
    return own, published, exact


def _averted_in(world: CurveDraws, amounts: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Total harm averted (days) in each of `draws` by that draw's own amounts (draws × area × intervention)."""
    ceilings = (world.max_reduction[draws] * world.years)[:, None, :] * world.targeted_harm[draws]
    return (ceilings * -np.expm1(-amounts / world.scale[draws])).sum(axis=(1, 2))


def _filled_together(request: AllocationRequest, world: CurveDraws, eligible: np.ndarray) -> np.ndarray:
    """The draws (bool) whose best split, under their own verdicts and under the published ones, is the water-filling over
    every fundable bid: the rules are the budget and caps on single bids alone (a cap per force, over several bids, is
    left to the allocator), and the bid limit (if any) leaves room for every bid that could be funded in the draw."""
    caps_per_force = "force_cap" in request.rule_keys() and getattr(request, "split_by_force", False)
    if not exact_fill_applies(request) or request.minimum_grant_gbp > 0 or caps_per_force:
        return np.zeros(world.count, dtype=bool)
    if not request.max_bids:
        return np.ones(world.count, dtype=bool)
    ceilings = world.ceilings() > 0
    bids = request.bids()
    fits = np.ones(world.count, dtype=bool)
    for verdicts in (eligible, np.broadcast_to(np.asarray(request.eligible, dtype=bool), eligible.shape)):
        has_cells = (verdicts[:, :, None] & ceilings).any(axis=2)
        per_bid = np.zeros((world.count, request.bid_count), dtype=bool)
        np.logical_or.at(per_bid, (slice(None), bids), has_cells)
        fits &= (per_bid & (request.bid_caps() >= 0)[None, :]).sum(axis=1) <= request.max_bids
    return fits


def fill_in_draws(request: AllocationRequest, world: CurveDraws, eligible: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The exact best split (£, draws × area × intervention) of each of `draws` of `world` under its verdicts `eligible`
    (one row per draw), every fundable bid funded: `filling.water_fill` run on every draw at once.

    At a water level λ a cell with ceiling A and cost scale s spends s·max(ln(A/s) − ln λ, 0); each bid takes that
    spend clipped to its cap, and each draw's ln λ is bisected until its bids' spends add up to the money to spend
    (every bid takes its cap when the caps add up to less). A capped bid's own level is where its spend meets the
    cap, found in closed form by `_bid_log_prices`. The same arithmetic as the single-draw water-filling, to the
    last few bits."""
    shape = (len(draws), *world.targeted_harm.shape[1:])
    amounts = np.zeros(shape)
    money = request.spendable_gbp
    if money <= 0 or len(draws) == 0:
        return amounts
    ceilings = (world.max_reduction[draws] * world.years)[:, None, :] * world.targeted_harm[draws]
    scale = world.scale[draws]
    live = eligible[:, :, None] & (ceilings > 0) & (scale > 0)
    draw_of, area, item = np.nonzero(live)
    if len(draw_of) == 0:
        return amounts
    bid_count = request.bid_count
    cell_scale = scale[draw_of, area, item]
    log_slope = np.log(ceilings[draw_of, area, item]) - np.log(cell_scale)
    group = draw_of * bid_count + request.bids()[area]
    groups = len(draws) * bid_count
    has_cells = np.bincount(group, minlength=groups) > 0
    upper = np.where(has_cells, np.tile(request.bid_caps(), len(draws)), 0.0)
    upper_of_draw = upper.reshape(len(draws), bid_count)
    targets = upper.copy()
    binds = upper_of_draw.sum(axis=1) > money
    if binds.any():
        capped_levels = _bid_log_prices(log_slope, cell_scale, group, groups, upper, bid_count).reshape(len(draws), bid_count)
        low = np.where(upper_of_draw > 0, capped_levels, np.inf).min(axis=1)
        high = np.full(len(draws), -np.inf)
        np.maximum.at(high, draw_of, log_slope)

        def spend(levels: np.ndarray) -> np.ndarray:
            per_cell = cell_scale * np.maximum(log_slope - levels[draw_of], 0.0)
            return np.minimum(np.bincount(group, weights=per_cell, minlength=groups), upper).reshape(len(draws), bid_count)

        moving = binds.copy()
        for _ in range(BISECTION_STEPS):
            middle = 0.5 * (low + high)
            moving &= (middle != low) & (middle != high)
            if not moving.any():
                break
            over = spend(np.where(moving, middle, high)).sum(axis=1) > money
            low = np.where(moving & over, middle, low)
            high = np.where(moving & ~over, middle, high)
        targets = np.where(np.repeat(binds, bid_count), spend(high).ravel(), upper)
    levels = _bid_log_prices(log_slope, cell_scale, group, groups, targets, bid_count)
    amounts[draw_of, area, item] = cell_scale * np.maximum(log_slope - levels[group], 0.0)
    return amounts


def _bid_log_prices(
    log_slope: np.ndarray, scale: np.ndarray, group: np.ndarray, groups: int, targets: np.ndarray, bid_count: int
) -> np.ndarray:
    """Each group's (draw × bid_count + bid) ln λ at which its cells spend `targets[group]` (£): Σ s·(ln(A/s) − ln λ) over its cells steeper than λ.

    With a group's cells sorted by falling l = ln(A/s), the spend at ln λ = l_k is Σ_j≤k s_j·(l_j − l_k), rising with
    k; the target falls between two of these, which fixes k and then ln λ = (Σ_j≤k s_j·l_j − target) ÷ Σ_j≤k s_j.
    A group with a target of 0 gets its steepest level."""
    order = np.lexsort((-log_slope, group))
    sorted_group, sorted_slope, sorted_scale = group[order], log_slope[order], scale[order]
    starts = np.searchsorted(sorted_group, np.arange(groups))
    row = sorted_group // bid_count
    present = np.bincount(sorted_group, minlength=groups) > 0
    top = np.zeros(groups)
    top[present] = sorted_slope[starts[present]]
    shifted = sorted_slope - top[sorted_group]
    cum_scale = _running_sums(sorted_scale, sorted_group, starts, row)
    cum_weighted = _running_sums(sorted_scale * shifted, sorted_group, starts, row)
    active = cum_weighted - shifted * cum_scale < targets[sorted_group]
    count = np.bincount(sorted_group, weights=active, minlength=groups).astype(int)
    prices = top.copy()
    spending = (targets > 0) & (count > 0)
    last = starts[spending] + count[spending] - 1
    prices[spending] += (cum_weighted[last] - targets[spending]) / cum_scale[last]
    return prices


def _running_sums(values: np.ndarray, groups: np.ndarray, starts: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Running sums restarted at each group (values sorted by group, `starts` its first positions), summed within each
    draw (`rows`, ascending) as if that draw were alone, so a draw's figures never depend on the draws solved with it."""
    first = np.searchsorted(rows, np.arange(rows[-1] + 1)) if len(rows) else np.zeros(0, dtype=int)
    column = np.arange(len(values)) - first[rows]
    table = np.zeros((len(first), int(column.max(initial=-1)) + 1))
    table[rows, column] = values
    total = np.cumsum(table, axis=1)[rows, column]
    group_start = starts[groups]
    return total - np.where(group_start > first[rows], total[np.maximum(group_start - 1, 0)], 0.0)


MOST_ROBUST_PLAN_CELLS = 20_000
"""Fundable area × intervention cells above which the expected and CVaR plans are not solved in a run: their program
holds every cell's chords in every draw (Kent's 1,107 LSOAs have about 2,000 such cells and take seconds; the national
round's 76,897 did not finish in twenty minutes)."""


def robust_plans_skipped(request: AllocationRequest) -> str | None:
    """Why a run scores only the point plan, or None when the expected and CVaR plans are solved too."""
    refused = request.robust_plans_refused()
    if refused:
        return refused
    cells = int(np.count_nonzero(request.open_cells()))
    if cells > MOST_ROBUST_PLAN_CELLS:
        return (
            f"the expected and CVaR plans' program over {cells:,} fundable area × intervention cells is too large to solve "
            f"in a run (at most {MOST_ROBUST_PLAN_CELLS:,})"
        )
    return None


def _plans(
    request: AllocationRequest, world: CurveDraws, point: np.ndarray, tail_share: float, best: np.ndarray | None
) -> tuple[PlanOnDraws, ...]:
    """The point-estimate, expected and CVaR plans, each scored on the same draws, with how each was found.

    Every plan obeys the published verdicts and the round's rules, so each draw's best split is at least the best of
    them in that draw; regret is measured from that best. Where the rules or the goal are beyond the robust plans
    (`AllocationRequest.robust_plans_refused`) only the point plan is scored; where the goal is not harm averted (`best` None) no regret
    is measured."""
    refused = robust_plans_skipped(request)
    found = [
        (
            "point",
            point,
            evaluate_plan(point, world, tail_share),
            "the allocation's optimum at the point estimates" + (f"; only this plan is scored, because {refused}" if refused else ""),
        )
    ]
    for name, plan in zip(("expected", "cvar"), () if refused else plans_for_draws(request, world, ("expected", "cvar"), tail_share)):
        objective = plan.objective_days
        bound = (
            f"{plan.gap_bound_days:,.0f} days ({plan.gap_bound_days / objective:.1%})"
            if objective > 0
            else f"{plan.gap_bound_days:,.0f} days"
        )
        found.append(
            (
                name,
                plan.amounts.values,
                plan.outcome,
                f"linear program over the draws' chords, {plan.fitted_words}; {plan.status}; within {bound} of the best possible",
            )
        )
    if best is None:
        return tuple(PlanOnDraws(name, amounts, outcome, None, how) for name, amounts, outcome, how in found)
    best = np.max([best, *(outcome.averted_days for _, _, outcome, _ in found)], axis=0)
    return tuple(PlanOnDraws(name, amounts, outcome, best - outcome.averted_days, how) for name, amounts, outcome, how in found)


def tornado(
    scenario: Scenario,
    demand: Demand,
    curves: Curves,
    request: AllocationRequest,
    plan: np.ndarray,
    top: int,
    future_records: np.ndarray | None = None,
) -> tuple[TornadoBar, ...]:
    """Each uncertain input at its low and high, the rest at their point values: the plan's harm averted and the top area's best amount.

    Counts and the forecast enter as one bar: every area's records at the lower and at the upper
    end of its drawn records (`future_records`, drawn with the sources switched on) together, an
    extreme that bounds what those sources do.
    """
    interventions = scenario.active_interventions()
    bars = []
    for item in uncertain_inputs(scenario.uncertainty, interventions, demand.weights):
        outcomes = []
        for value in (item.low, item.high):
            inputs = one_at_a_time(scenario.uncertainty, interventions, demand.weights, item.key, value)
            drawn = curve_draws(
                curves, interventions, demand.expected.values[None], inputs.harm_weights, inputs.max_reduction, inputs.cost_factor
            ).draw(0)
            best = quick_best_amounts(dataclasses.replace(request, curves=drawn), incumbents=[plan])[0]
            outcomes.append((float(drawn.averted(plan).sum()), float(best[top].sum())))
        (averted_low, amount_low), (averted_high, amount_high) = outcomes
        bars.append(TornadoBar(item.key, item.label, item.low, item.high, averted_low, averted_high, amount_low, amount_high))
    if future_records is not None and {"counts", "forecast"} & set(scenario.uncertainty.sources):
        outcomes = []
        tail = (1.0 - scenario.demand.interval) / 2.0
        for bound in np.quantile(future_records, [tail, 1.0 - tail], axis=0):
            drawn = _curves_for_records(curves, interventions, demand, bound)
            best = quick_best_amounts(dataclasses.replace(request, curves=drawn), incumbents=[plan])[0]
            outcomes.append((float(drawn.averted(plan).sum()), float(best[top].sum())))
        bars.append(
            TornadoBar(
                "demand",
                f"records: every area at the {tail:.0%} / {1 - tail:.0%} point of its drawn records",
                tail,
                1.0 - tail,
                outcomes[0][0],
                outcomes[1][0],
                outcomes[0][1],
                outcomes[1][1],
            )
        )
    return tuple(sorted(bars, key=lambda bar: -bar.swing))


def _curves_for_records(curves: Curves, interventions: dict, demand: Demand, records: np.ndarray) -> Curves:
    """The point curves with every area's records replaced by `records` (area × crime type)."""
    weights = demand.weights.weights.values[None]
    reductions = curves.max_reduction[None]
    ones = np.ones_like(reductions)
    return curve_draws(curves, interventions, records[None], weights, reductions, ones).draw(0)


def funded_share(amounts_per_draw: np.ndarray) -> np.ndarray:
    """Per area, the share of draws in which it is funded (amounts per draw × area × intervention)."""
    return np.mean([funded_areas(amounts) for amounts in amounts_per_draw], axis=0)
