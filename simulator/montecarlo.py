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

import numpy as np

from .allocation import exact_fill_applies, quick_best_amounts
from .arrays import Labelled
from .constraints import AllocationRequest, funded_areas
from .demand import Demand
from .eligibility import Eligibility
from .errors import ConfigError
from .execution import LOCAL, Executor, chunks
from .formulation import QUICK_SEGMENTS
from .interventions import CurveDraws, Curves, curve_draws
from .robust import PlanOutcome, evaluate_plan, plans_for_draws
from .schema import Scenario
from .uncertainty import InputDraws, describe_sources, one_at_a_time, uncertain_inputs
from .verdicts import VerdictOdds, draw_world, eligible_per_draw, odds_from

QUANTILES = (0.05, 0.5, 0.95)
PLAN_LABELS = {
    "point": "point-estimate plan",
    "expected": "expected plan (best mean over the draws)",
    "cvar": "CVaR plan (best mean of the worst draws)",
}
DRAWS_PER_CHUNK = 100
"""Draws solved together in one task: enough to vectorise the water-filling over them, few enough that progress moves
and that `--jobs` has chunks to share out."""
BISECTION_STEPS = 200
"""At most this many halvings of each draw's water level; the level stops moving in float64 well before (about 60)."""
FEWEST_CELLS_PRUNED = 50_000
"""Cells in a filling up to which every step of the bisection sums all of them (`_bisect_plainly`): fewer numpy calls a step."""
PROBES = 8
"""Secant probes per draw at most (`_bisect_levels`)."""
PROBE_WIDTH, PROBE_SHRINK = 1e-13, 1e-4
"""How far either side of the secant's root a probe sums the spend: at least `PROBE_WIDTH` of the level (at least 1),
wider than the rounding of the sums, and at least `PROBE_SHRINK` of the bracket, for a root the secant misses."""

MOST_CELLS_FILLED_TOGETHER = 20_000
"""Area × intervention cells per draw above which each draw is water-filled on its own (`filling`, through
`quick_best_amounts`): at a national round's 142,608 cells that is about twice as fast as filling the draws together,
whose sorting and sums over every draw at once outgrow the caches."""

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
    eligible = eligible_per_draw(scenario, demand, drawn)
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
        verdicts=odds_from(eligibility, eligible, settings.marginal_share),
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
    are filled together (`fill_in_draws`) where each is small (`MOST_CELLS_FILLED_TOGETHER`), the rest one by one with
    `quick_best_amounts` (the same bits for the draws the water-filling decides)."""
    request, world, eligible, plan = task
    count = world.count
    point_eligible = np.asarray(request.eligible, dtype=bool)
    own = np.zeros((count, *plan.shape))
    published = np.zeros(count)
    together = _filled_together(request, world, eligible)
    batched = together & (world.targeted_harm[0].size <= MOST_CELLS_FILLED_TOGETHER)
    rows = np.flatnonzero(batched)
    if len(rows):
        cells = _Cells.of(request, world, eligible[rows] | point_eligible[None, :], rows)
        own[rows] = _fill(request, cells, eligible[rows], np.arange(len(rows)))
        best = own[rows].copy()
        differs = ~(eligible[rows] == point_eligible[None, :]).all(axis=1)
        if differs.any():
            point_verdicts = np.broadcast_to(point_eligible, (int(differs.sum()), len(point_eligible)))
            best[differs] = _fill(request, cells, point_verdicts, np.flatnonzero(differs))
        published[rows] = _averted_in(world, best, rows)
    exact = True
    for d in np.flatnonzero(~batched):
        curves = world.draw(int(d))
        own[d], own_exact = quick_best_amounts(dataclasses.replace(request, curves=curves, eligible=eligible[d]), incumbents=[plan])
        if np.array_equal(eligible[d], point_eligible):
            best, best_exact = own[d], own_exact
        else:
            best, best_exact = quick_best_amounts(dataclasses.replace(request, curves=curves), incumbents=[plan])
        exact = exact and own_exact and best_exact
        published[d] = _averted_in(world, best[None], np.array([d]))[0] if together[d] else float(curves.averted(best).sum())
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
    cap, found in closed form (`_SortedBids.log_prices`). The same arithmetic as the single-draw water-filling, to the
    last few bits."""
    draws = np.asarray(draws)
    if len(draws) == 0:
        return np.zeros((0, *world.targeted_harm.shape[1:]))
    return _fill(request, _Cells.of(request, world, eligible, draws), eligible, np.arange(len(draws)))


@dataclass(frozen=True)
class _Cells:
    """The cells of some draws that may spend (positive ceiling and cost scale, in an area eligible under any verdicts to
    be filled), in (draw, area, intervention) order, with the order the bids' levels read them in (by draw, bid and
    falling log slope): sorted once, shared by every filling of these draws."""

    shape: tuple[int, ...]
    draw: np.ndarray
    area: np.ndarray
    item: np.ndarray
    log_slope: np.ndarray
    """ln(A/s): the log of the cell's first pound's harm averted per pound."""
    scale: np.ndarray
    bid: np.ndarray
    order: np.ndarray

    @classmethod
    def of(cls, request: AllocationRequest, world: CurveDraws, eligible: np.ndarray, draws: np.ndarray) -> _Cells:
        """The cells of `draws` of `world` in the areas `eligible` (one row per draw) passes."""
        ceilings = (world.max_reduction[draws] * world.years)[:, None, :] * world.targeted_harm[draws]
        scale = world.scale[draws]
        flat = np.flatnonzero(eligible[:, :, None] & (ceilings > 0) & (scale > 0))
        draw, area, item = np.unravel_index(flat, scale.shape)
        cell_scale = scale.ravel()[flat]
        log_slope = np.log(ceilings.ravel()[flat]) - np.log(cell_scale)
        bid = request.bids()[area]
        order = _by_group_then_falling(draw * request.bid_count + bid, log_slope)
        return cls(scale.shape, draw, area, item, log_slope, cell_scale, bid, order)


def _fill(request: AllocationRequest, cells: _Cells, eligible: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """`fill_in_draws` on the draws at positions `draws` (ascending) of `cells`, under the verdicts `eligible` (one row per draw)."""
    amounts = np.zeros((len(draws), *cells.shape[1:]))
    money = request.spendable_gbp
    if money <= 0 or len(draws) == 0:
        return amounts
    position = np.full(cells.shape[0], -1)
    position[draws] = np.arange(len(draws))
    row = position[cells.draw]
    keep = row >= 0
    keep[keep] = eligible[row[keep], cells.area[keep]]
    if not keep.any():
        return amounts
    draw_of, area, item = row[keep], cells.area[keep], cells.item[keep]
    log_slope, cell_scale = cells.log_slope[keep], cells.scale[keep]
    bid_count = request.bid_count
    group = draw_of * bid_count + cells.bid[keep]
    groups = len(draws) * bid_count
    kept_order = (np.cumsum(keep) - 1)[cells.order[keep[cells.order]]]
    bids = _SortedBids.of(log_slope, cell_scale, group, groups, bid_count, kept_order)
    has_cells = bids.present
    upper = np.where(has_cells, np.tile(request.bid_caps(), len(draws)), 0.0)
    upper_of_draw = upper.reshape(len(draws), bid_count)
    targets = upper
    binds = upper_of_draw.sum(axis=1) > money
    if binds.any():
        low = np.where(upper_of_draw > 0, bids.log_prices(upper).reshape(len(draws), bid_count), np.inf).min(axis=1)
        high = np.where(has_cells, bids.top, -np.inf).reshape(len(draws), bid_count).max(axis=1)
        at_high = _bisect_levels(log_slope, cell_scale, draw_of, group, upper_of_draw, money, binds, low, high)
        targets = np.where(np.repeat(binds, bid_count), at_high.ravel(), upper)
    levels = bids.log_prices(targets)
    amounts[draw_of, area, item] = cell_scale * np.maximum(log_slope - levels[group], 0.0)
    return amounts


def _bisect_levels(
    log_slope: np.ndarray,
    scale: np.ndarray,
    draw_of: np.ndarray,
    group: np.ndarray,
    upper: np.ndarray,
    money: float,
    moving: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> np.ndarray:
    """Each bid's spend (£, draws × bid) at its draw's water level, bisected between `low` and `high` (ln λ) until the
    spends add up to `money`, in the draws `moving` says: every step as the plain bisection takes it, for less work.

    A spend only grows as the level falls, in floating point as in exact arithmetic, so a level whose sum is over (or
    not over) the money decides every step below (above) it without a sum, and each sum reads only the cells steeper
    than the levels still open, leaving out the bids at their cap above them (the cells dropped would add zeros).
    Secant probes either side of the crossing (`PROBE_WIDTH`, `PROBE_SHRINK`) narrow the open levels to a few rounding
    errors, so the steps needing a sum are the first few and the last few."""
    if len(log_slope) <= FEWEST_CELLS_PRUNED:
        return _bisect_plainly(log_slope, scale, draw_of, group, upper, money, moving, low, high)
    moving = moving.copy()
    at_high = np.zeros(upper.shape)
    fresh = np.ones(len(moving), dtype=bool)
    capped = np.zeros(upper.shape, dtype=bool)
    over_to, under_from = np.full(len(moving), -np.inf), high.copy()
    spend_over, spend_under = np.full(len(moving), np.nan), np.zeros(len(moving))
    probes = np.zeros(len(moving), dtype=int)
    working = moving[draw_of]
    slope, scale, draw_of, group = log_slope[working], scale[working], draw_of[working], group[working]

    def spend(levels: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        part = rows[draw_of]
        per_cell = scale[part] * np.maximum(slope[part] - levels[draw_of[part]], 0.0)
        spent = np.minimum(np.bincount(group[part], weights=per_cell, minlength=upper.size).reshape(upper.shape), upper)
        spent = np.where(capped, upper, spent)
        return spent, np.where(rows[:, None], spent, 0.0).sum(axis=1)

    for step in range(BISECTION_STEPS + 1):
        middle = 0.5 * (low + high)
        stopping = moving & ((middle == low) | (middle == high) | (step == BISECTION_STEPS))
        if (stopping & ~fresh).any():
            rows = stopping & ~fresh
            at_high[rows] = spend(high, rows)[0][rows]
        moving &= ~stopping
        if not moving.any():
            break
        floor = np.maximum(low, over_to)
        working = moving[draw_of] & (slope > floor[draw_of]) & ~capped.ravel()[group]
        if not working.all():
            slope, scale, draw_of, group = slope[working], scale[working], draw_of[working], group[working]
        probe = moving & (probes < PROBES) & np.isfinite(spend_over) & (spend_over > spend_under)
        probe &= under_from - over_to > 2.0 * PROBE_WIDTH * np.maximum(1.0, np.abs(middle))
        if probe.any():
            reach = np.where(probe, under_from - over_to, 0.0)
            guess = over_to + (spend_over - money) * reach / np.where(probe, spend_over - spend_under, 1.0)
            width = np.maximum(PROBE_WIDTH * np.maximum(1.0, np.abs(guess)), PROBE_SHRINK * reach)
            for point in (guess - width, guess + width):
                point = np.where(probe, np.clip(point, np.maximum(low, over_to), np.minimum(high, under_from)), low)
                totals = spend(point, probe)[1]
                over, under = probe & (totals > money) & (point > over_to), probe & (totals <= money) & (point < under_from)
                over_to, spend_over = np.where(over, point, over_to), np.where(over, totals, spend_over)
                under_from, spend_under = np.where(under, point, under_from), np.where(under, totals, spend_under)
            probes += probe
        need = moving & (middle > over_to) & (middle < under_from)
        over = moving & (middle <= over_to)
        if need.any():
            spent, totals = spend(middle, need)
            measured = need & (totals > money)
            fell = need & ~measured
            over |= measured
            at_high[fell], capped[fell] = spent[fell], spent[fell] >= upper[fell]
            over_to, spend_over = np.where(measured, middle, over_to), np.where(measured, totals, spend_over)
            under_from, spend_under = np.where(fell, middle, under_from), np.where(fell, totals, spend_under)
        fell = moving & ~over
        fresh = np.where(fell, need, fresh)
        low = np.where(over, middle, low)
        high = np.where(fell, middle, high)
    return at_high


def _bisect_plainly(
    log_slope: np.ndarray,
    scale: np.ndarray,
    draw_of: np.ndarray,
    group: np.ndarray,
    upper: np.ndarray,
    money: float,
    moving: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> np.ndarray:
    """`_bisect_levels` summing every cell at every step: for few cells, the fewest numpy calls."""

    def spend(levels: np.ndarray) -> np.ndarray:
        per_cell = scale * np.maximum(log_slope - levels[draw_of], 0.0)
        return np.minimum(np.bincount(group, weights=per_cell, minlength=upper.size).reshape(upper.shape), upper)

    moving = moving.copy()
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        moving &= (middle != low) & (middle != high)
        if not moving.any():
            break
        over = spend(np.where(moving, middle, high)).sum(axis=1) > money
        low = np.where(moving & over, middle, low)
        high = np.where(moving & ~over, middle, high)
    return spend(high)


@dataclass(frozen=True)
class _SortedBids:
    """Each group's (draw × bid_count + bid) cells sorted by falling log slope l = ln(A/s), with the running sums that
    give each group's spend at each of its cells' slopes: worked out once, then read for any targets."""

    group: np.ndarray
    starts: np.ndarray
    present: np.ndarray
    top: np.ndarray
    cum_scale: np.ndarray
    cum_weighted: np.ndarray
    spent_at: np.ndarray

    @classmethod
    def of(cls, log_slope: np.ndarray, scale: np.ndarray, group: np.ndarray, groups: int, bid_count: int, order: np.ndarray) -> _SortedBids:
        """The sums of the cells in `order` (by group, then falling log slope)."""
        sorted_group, sorted_slope, sorted_scale = group[order], log_slope[order], scale[order]
        starts = np.searchsorted(sorted_group, np.arange(groups))
        row = sorted_group // bid_count
        present = np.bincount(sorted_group, minlength=groups) > 0
        top = np.zeros(groups)
        top[present] = sorted_slope[starts[present]]
        shifted = sorted_slope - top[sorted_group]
        cum_scale = _running_sums(sorted_scale, sorted_group, starts, row)
        cum_weighted = _running_sums(sorted_scale * shifted, sorted_group, starts, row)
        return cls(sorted_group, starts, present, top, cum_scale, cum_weighted, cum_weighted - shifted * cum_scale)

    def log_prices(self, targets: np.ndarray) -> np.ndarray:
        """Each group's ln λ at which its cells spend `targets[group]` (£): Σ s·(ln(A/s) − ln λ) over its cells steeper than λ.

        With a group's cells sorted by falling l, the spend at ln λ = l_k is Σ_j≤k s_j·(l_j − l_k), rising with k; the
        target falls between two of these, which fixes k and then ln λ = (Σ_j≤k s_j·l_j − target) ÷ Σ_j≤k s_j.
        A group with a target of 0 gets its steepest level."""
        count = np.bincount(self.group, weights=self.spent_at < targets[self.group], minlength=len(targets)).astype(int)
        prices = self.top.copy()
        spending = (targets > 0) & (count > 0)
        last = self.starts[spending] + count[spending] - 1
        prices[spending] += (self.cum_weighted[last] - targets[spending]) / self.cum_scale[last]
        return prices


def _by_group_then_falling(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The order of `np.lexsort((-values, group))`: by group, then by falling value, ties in their given order. Ranking the
    values first (one unstable sort) and then sorting the whole-number keys is several times faster than sorting pairs."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.intp)
    ranked = np.argsort(-values)
    ascending = -values[ranked]
    rank = np.empty(len(values), dtype=np.int64)
    rank[ranked] = np.concatenate([[0], np.cumsum(ascending[1:] != ascending[:-1])])
    return np.argsort(group.astype(np.int64) * len(values) + rank, kind="stable")


def _running_sums(values: np.ndarray, groups: np.ndarray, starts: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Running sums restarted at each group (values sorted by group, `starts` its first positions), summed within each
    draw (`rows`, ascending) as if that draw were alone, so a draw's figures never depend on the draws solved with it."""
    bounds = np.searchsorted(rows, np.arange(rows[-1] + 2)) if len(rows) else np.zeros(1, dtype=int)
    total = np.empty(len(values))
    for start, stop in zip(bounds[:-1], bounds[1:]):
        np.cumsum(values[start:stop], out=total[start:stop])
    first = bounds[rows]
    group_start = starts[groups]
    return total - np.where(group_start > first, total[np.maximum(group_start - 1, 0)], 0.0)


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
    by_weights = {}
    bars = []
    for item in uncertain_inputs(scenario.uncertainty, interventions, demand.weights):
        outcomes = []
        for value in (item.low, item.high):
            inputs = one_at_a_time(scenario.uncertainty, interventions, demand.weights, item.key, value)
            drawn = _point_records_curves(curves, interventions, demand, inputs, by_weights)
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


def _point_records_curves(curves: Curves, interventions: dict, demand: Demand, inputs: InputDraws, by_weights: dict) -> Curves:
    """The curves of the expected records under one draw of the other inputs (`curve_draws`), the targeted harm worked out
    once per set of harm weights (`by_weights` keeps it): the effects and cost scales leave it as it is."""
    key = inputs.harm_weights.tobytes()
    if key not in by_weights:
        by_weights[key] = curve_draws(
            curves, interventions, demand.expected.values[None], inputs.harm_weights, inputs.max_reduction, inputs.cost_factor
        ).targeted_harm
    factor = np.asarray(inputs.cost_factor, dtype=float)
    scale = curves.scale.values[None] * factor[:, None, :]
    reduction = np.asarray(inputs.max_reduction, dtype=float)
    return CurveDraws(by_weights[key], scale, reduction, curves.codes, curves.interventions, curves.years).draw(0)


def _curves_for_records(curves: Curves, interventions: dict, demand: Demand, records: np.ndarray) -> Curves:
    """The point curves with every area's records replaced by `records` (area × crime type)."""
    weights = demand.weights.weights.values[None]
    reductions = curves.max_reduction[None]
    ones = np.ones_like(reductions)
    return curve_draws(curves, interventions, records[None], weights, reductions, ones).draw(0)


def funded_share(amounts_per_draw: np.ndarray) -> np.ndarray:
    """Per area, the share of draws in which it is funded (amounts per draw × area × intervention)."""
    return np.mean([funded_areas(amounts) for amounts in amounts_per_draw], axis=0)
