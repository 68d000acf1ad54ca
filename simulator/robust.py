"""Plans robust to the Monte Carlo's uncertainty: the most harm averted on average (`expected`) or in the
worst draws (`cvar`), under the same rules as the point-estimate plan.

Every draw's curve gets chords at the same breakpoints, so one set of variables y[a,i,s] (£ on
segment s of cell a, i) serves every draw. The breakpoints follow each cell's own cost scale
(`_breakpoints`): dense where the cell's curves bend, wide where they are all but flat, the last
one at `request.curve_span_gbp` so money can still go there. Each draw's chords are concave with
falling slopes, so filling a cell's segments in order is best in every draw at once, and a
draw's value V_d(y) = Σ slope_d·y is linear. `expected` maximises mean_d V_d(y), one LP with the
mean slopes over every draw; `cvar` maximises the mean of the worst share of draws in
Rockafellar and Uryasev's form, t − Σ_d u_d / (share·N) with u_d ≥ t − V_d(y), u_d ≥ 0, which is
`interventions.worst_share_mean` of the V_d; its rows are dense, so it is fitted on the first
draws only when all of them would exceed `MOST_ROBUST_NONZEROS`. The rules are the point
allocator's (budget, grant cap per bid, eligibility, bid limit and minimum grant with a binary
per bid), handed to HiGHS as arrays (`formulation.solve_arrays`).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .allocation import check_amounts
from .arrays import Labelled
from .constraints import AllocationRequest
from .errors import ConfigError, InternalError
from .filling import greedy_fill
from .formulation import MODEL_MONEY_GBP, ArraySolution, ColumnWise, SolveStatus, column_wise, solve_arrays
from .interventions import CurveDraws, worst_share_mean

OBJECTIVES = ("expected", "cvar")
MIP_RELATIVE_GAP = 1e-9
"""HiGHS stops a MIP when its incumbent is within this fraction of its bound (default 1e-4): tight, so
that the CVaR plan's worst-share mean is at least the expected plan's to the solver's tolerance."""
MIP_SECONDS = 20.0
"""Each MIP solve stops after this long with its best plan so far, and the plan reports the gap HiGHS has
proven (`RobustPlan.status`); LPs have no limit. It is a wall-clock limit, so a run that hits it may pick a
different plan on a slower machine: the status says so."""
MOST_ROBUST_NONZEROS = 10_000_000
"""The CVaR rows hold one coefficient per fitted draw and segment column (80 MB at this many). Up to this many
(draws × columns) every draw is fitted; beyond it the CVaR plan is fitted on the first draws that fit, at least
`FEWEST_FITTED_DRAWS`, and scored on all. At Kent's 1,107 LSOAs (868 usable cells × 48 segments) that is
the first 240 draws; at district level (78 cells) every draw up to 2,670."""
FEWEST_FITTED_DRAWS = 50
"""The fewest draws a CVaR plan is fitted on when the limit is reached (its worst 10 % is then five draws)."""
FLAT_SCALES = 10.0
"""Each cell's breakpoints run to this many times its largest cost scale in any draw (where every draw's curve
is within e^-10 of its ceiling), then one chord to the span."""
SCALE_PERCENTILES = (10.0, 90.0)
"""The range of a cell's cost scales over the draws that its breakpoints are spaced for (percentiles)."""
EXACT_CVAR_COLUMNS = 10_000
ENUMERATED_BID_SETS = 16
"""Up to this many allowed sets of bids, the CVaR plan solves one LP per set instead of the MIP (`_few_bid_sets`)."""
"""Under a bid limit or minimum grant the CVaR plan is one MIP when it has at most this many free segment columns
(Kent's districts: about 3,000 of 3,744). Beyond it HiGHS can take minutes (LSOA scale: no plan in 20 s), so the bids are
chosen instead by the best weighted sum of draws (`_weighted_bound`), the CVaR LP solved with them fixed, and
the weights updated from that plan, up to `FLAG_ROUNDS` times; the status reports the gap to the bound."""
FLAG_ROUNDS = 3
"""Rounds of choosing bids by weighted draws for a large CVaR MIP (see `EXACT_CVAR_COLUMNS`)."""
CHUNK_ELEMENTS = 2_000_000
"""Draws × cells × segments computed at once when summarising every draw's chords, to bound memory."""
REMEMBERED_ELEMENTS = 4_000_000
"""Up to this many draws × cells × segments, the chords' parts are worked out once and kept for every plan (about
four arrays of this many float64, 128 MB); beyond it each use works them out again a block at a time."""


@dataclass(frozen=True)
class PlanOutcome:
    """How one plan fares over the draws: harm averted per draw on the exact curves, and its summaries (days)."""

    averted_days: np.ndarray
    tail_share: float
    mean_days: float
    worst_share_mean_days: float
    percentile_5_days: float
    median_days: float
    percentile_95_days: float


@dataclass(frozen=True)
class RobustPlan:
    """A plan chosen for its mean (`expected`) or worst-share mean (`cvar`) over the draws, and how it fares.

    The expected plan is fitted on every draw; the CVaR plan on the first `fitted_draws` of them
    (all of them up to `MOST_ROBUST_NONZEROS`). `chord_days` is each draw's harm averted on the
    common chords (segments filled in order) and `chord_objective_days` the objective over the
    fitted draws' chords, the number the solver maximised; `outcome` gives every draw on the exact
    curves, which lie above the chords. `gap_bound_days` bounds how far the plan can be from the
    exact optimum over the fitted draws: no plan under the same rules reaches more than
    `fitted_objective_days` plus this on their exact curves. The best exact objective is bounded
    twice and the lower bound kept: by the tangent problem (each segment's slope taken as the
    curve's slope at its left end, a concave curve above the exact one, flags relaxed), and by
    the best chord objective HiGHS proved plus `chord_gap_bound`. `solver_gap` is the fraction
    by which the best chord objective may exceed the plan's (0 for an LP); `status` is "optimal",
    or says why the MIP stopped and the gap it proved.
    """

    amounts: Labelled
    objective: str
    tail_share: float
    chord_objective_days: float
    chord_days: np.ndarray
    outcome: PlanOutcome
    fitted_draws: int
    fitted_objective_days: float
    gap_bound_days: float
    solver_gap: float
    solve_seconds: float
    status: str

    @property
    def averted_days(self) -> np.ndarray:
        """Harm averted per draw on the exact curves (days)."""
        return self.outcome.averted_days

    @property
    def mean_days(self) -> float:
        """Mean harm averted over the draws on the exact curves (days)."""
        return self.outcome.mean_days

    @property
    def worst_share_mean_days(self) -> float:
        """Mean harm averted in the worst `tail_share` of draws on the exact curves (days)."""
        return self.outcome.worst_share_mean_days

    @property
    def objective_days(self) -> float:
        """The plan's own objective on the exact curves: the mean for `expected`, the worst-share mean for `cvar`."""
        return self.mean_days if self.objective == "expected" else self.worst_share_mean_days

    @property
    def draws(self) -> int:
        """How many draws the plan is scored on."""
        return len(self.outcome.averted_days)

    @property
    def fitted_words(self) -> str:
        """Which draws the plan was fitted on, in words for a report."""
        if self.fitted_draws == self.draws:
            return f"fitted and scored on all {self.draws:,} draws"
        return f"fitted on the first {self.fitted_draws:,} of {self.draws:,} draws and scored on all {self.draws:,}"


def evaluate_plan(amounts: np.ndarray, draws: CurveDraws, tail_share: float = 0.1) -> PlanOutcome:
    """A plan's harm averted (£ per area × intervention) in every draw on the exact curves, with its mean,
    worst-share mean and 5th, 50th and 95th percentiles, so plans can be compared on the same draws."""
    values = np.asarray(draws.averted(np.asarray(amounts, dtype=float)), dtype=float)
    values.flags.writeable = False
    low, middle, high = np.percentile(values, [5.0, 50.0, 95.0])
    return PlanOutcome(
        averted_days=values,
        tail_share=tail_share,
        mean_days=float(values.mean()),
        worst_share_mean_days=worst_share_mean(values, tail_share),
        percentile_5_days=float(low),
        median_days=float(middle),
        percentile_95_days=float(high),
    )


def plan_for_draws(
    request: AllocationRequest, draws: CurveDraws, objective: Literal["expected", "cvar"], tail_share: float = 0.1
) -> RobustPlan:
    """The plan with the most harm averted on average over the draws (`expected`) or in their worst `tail_share`
    (`cvar`), on the common chords, under the request's rules; checked against them like the point plan."""
    return plans_for_draws(request, draws, (objective,), tail_share)[0]


def plans_for_draws(
    request: AllocationRequest, draws: CurveDraws, objectives: tuple[str, ...] = OBJECTIVES, tail_share: float = 0.1
) -> tuple[RobustPlan, ...]:
    """`plan_for_draws` for each objective, on one set of common chords: the chords' slopes and shortfalls are worked
    out once for all the plans."""
    for objective in objectives:
        if objective not in OBJECTIVES:
            raise ConfigError("unknown robust objective", key="allocation.objective", got=objective, expected=" or ".join(OBJECTIVES))
    worst_share_mean(np.zeros(1), tail_share)
    _check_draws(request, draws)
    grid = _CommonChords.of(request, draws)
    return tuple(_plan_on_chords(request, draws, grid, objective, tail_share) for objective in objectives)


def _plan_on_chords(request: AllocationRequest, draws: CurveDraws, grid: _CommonChords, objective: str, tail_share: float) -> RobustPlan:
    started = time.perf_counter()
    fitted = draws.count if objective == "expected" else grid.fitted_draws()
    if request.nothing_fundable() or grid.steepest <= 0.0:
        solved = _Solved(np.zeros(request.curves.targeted_harm.values.shape), 0.0, "")
    else:
        solved = _solve(request, grid, objective, tail_share, fitted)

    def summary(values: np.ndarray) -> float:
        return float(values.mean()) if objective == "expected" else worst_share_mean(values, tail_share)

    amounts = solved.amounts
    chords = grid.values(amounts)
    chord_objective = summary(chords[:fitted])
    outcome = evaluate_plan(amounts, draws, tail_share)
    fitted_objective = summary(outcome.averted_days[:fitted])
    chord_best = max(solved.chord_bound_days, chord_objective)
    best_possible = chord_best + chord_gap_bound(grid, fitted, objective, tail_share)
    solver_gap = (chord_best - chord_objective) / chord_best if chord_best > 0 else 0.0
    curves = request.curves
    plan = RobustPlan(
        amounts=Labelled(amounts, ("area", "intervention"), (curves.codes, curves.interventions), f"{objective} allocation", "£"),
        objective=objective,
        tail_share=tail_share,
        chord_objective_days=chord_objective,
        chord_days=chords,
        outcome=outcome,
        fitted_draws=fitted,
        fitted_objective_days=fitted_objective,
        gap_bound_days=max(best_possible - fitted_objective, 0.0),
        solver_gap=solver_gap,
        solve_seconds=time.perf_counter() - started,
        status=_status(solved.stopped, solver_gap),
    )
    check_amounts(request, plan.amounts.values)
    return plan


def chord_values(request: AllocationRequest, draws: CurveDraws, amounts: np.ndarray) -> np.ndarray:
    """Harm averted per draw (days) by `amounts` on the common chords the robust plans are solved over."""
    return _CommonChords.of(request, draws).values(np.asarray(amounts, dtype=float))


def chord_gap_bound(grid: _CommonChords, fitted: int, objective: str, tail_share: float) -> float:
    """How far the best exact objective over the first `fitted` draws can exceed the best chord objective (days).

    A plan puts each cell's money in one segment, where the exact curve lies above the chord by at
    most the segment's greatest shortfall (where the curve's slope equals the chord's); elsewhere on
    the chords the values are exact at the breakpoints. So in draw d any plan's exact value is at
    most its chord value plus G_d, the sum over cells of each cell's greatest shortfall on any
    segment. The objective moves by at most the mean of G (`expected`) or the mean of its largest
    `tail_share` (`cvar`): the worst-share mean of V + G is at most that of V plus the latter.
    """
    if grid.cells.size == 0:
        return 0.0
    shortfall = grid.shortfall(fitted)
    if objective == "expected":
        return float(shortfall.mean())
    return -worst_share_mean(-shortfall, tail_share)


def _breakpoints(scales: np.ndarray, span_gbp: float, segments: int) -> np.ndarray:
    """Each cell's breakpoints (£, cells × segments + 1) from its cost scales in the draws (draws × cells).

    A chord's greatest shortfall under A·(1 − e^(−x/s)) over a segment of width w at x is about
    A/s²·e^(−x/s)·w²/8, so segments of width proportional to s·e^(x/2s) share the error evenly. For
    scales anywhere in the cell's range [a, b] (`SCALE_PERCENTILES` of its draws) the width is the
    narrowest of those, min over s of s·e^(x/2s): a·e^(x/2a) up to 2a, e·x/2 between 2a and 2b (even
    steps in log x), b·e^(x/2b) beyond. Its reciprocal integrates in closed form to Φ(x), and the
    breakpoints are where Φ takes even steps, up to `FLAT_SCALES` × the cell's largest scale in any
    draw (or the span if less), then one chord on to the span.
    """
    low, high = np.percentile(scales, SCALE_PERCENTILES, axis=0)
    low = np.maximum(low, 1e-9 * span_gbp)
    high = np.maximum(high, low)
    end = np.minimum(FLAT_SCALES * scales.max(axis=0), span_gbp) if segments > 1 else np.full(len(low), span_gbp)
    inner = np.where(end < span_gbp, segments - 1, segments)
    first, second = 2.0 * (1.0 - np.exp(-1.0)), 2.0 * (1.0 - np.exp(-1.0)) + 2.0 / np.e * np.log(high / low)

    def phi(x: np.ndarray) -> np.ndarray:
        near = 2.0 * -np.expm1(-x / (2.0 * low))
        middle = first + 2.0 / np.e * np.log(np.maximum(x, 2.0 * low) / (2.0 * low))
        far = second + 2.0 * (np.exp(-1.0) - np.exp(-np.maximum(x, 2.0 * high) / (2.0 * high)))
        return np.where(x <= 2.0 * low, near, np.where(x <= 2.0 * high, middle, far))

    steps = np.minimum(np.arange(segments + 1)[None, :] / inner[:, None], 1.0) * phi(end)[:, None]
    low, high, first, second = low[:, None], high[:, None], first, second[:, None]
    near = -2.0 * low * np.log1p(-np.minimum(steps, first) / 2.0)
    middle = 2.0 * low * np.exp((np.clip(steps, first, second) - first) * np.e / 2.0)
    far = -2.0 * high * np.log(np.maximum(np.exp(-1.0) - (np.maximum(steps, second) - second) / 2.0, 1e-300))
    points = np.where(steps <= first, near, np.where(steps <= second, middle, far))
    points = np.minimum(np.maximum.accumulate(points, axis=1), end[:, None])
    points[:, 0] = 0.0
    points[:, -1] = span_gbp
    return points


@dataclass(frozen=True)
class _CommonChords:
    """Every draw's chords at the same breakpoints, for the usable cells only.

    `cells` holds (area, intervention) pairs and `breakpoints` each cell's (£, cells × segments +
    1); `ceilings` and `scales` are each draw's curve parameters (draws × cell), from which slopes,
    tangents and shortfalls are computed a block of draws at a time.
    """

    cells: np.ndarray
    breakpoints: np.ndarray
    ceilings: np.ndarray
    scales: np.ndarray
    shape: tuple[int, int]
    memo: dict = field(default_factory=dict, compare=False, repr=False)
    """Parts of blocks of draws already worked out, kept up to `REMEMBERED_ELEMENTS`."""

    @classmethod
    def of(cls, request: AllocationRequest, draws: CurveDraws) -> _CommonChords:
        areas, items = np.nonzero(request.usable()) if not request.nothing_fundable() else (np.zeros(0, int), np.zeros(0, int))
        scales = draws.scale[:, areas, items]
        breakpoints = _breakpoints(scales, request.curve_span_gbp, request.segments) if len(areas) else np.zeros((0, request.segments + 1))
        return cls(
            np.column_stack([areas, items]),
            breakpoints,
            draws.ceilings()[:, areas, items],
            scales,
            request.curves.targeted_harm.values.shape,
        )

    @property
    def widths(self) -> np.ndarray:
        """Each cell's segment widths (£, cells × segments)."""
        return np.diff(self.breakpoints, axis=1)

    @property
    def columns(self) -> int:
        """How many segment columns the problem has."""
        return self.breakpoints.shape[0] * (self.breakpoints.shape[1] - 1)

    @property
    def steepest(self) -> float:
        """The steepest chord over every draw and cell (days per £), 0 with no cell: each cell's first segment's."""
        if self.cells.size == 0:
            return 0.0
        first = self.breakpoints[:, 1]
        return float((self.ceilings * -np.expm1(-first / self.scales) / first).max(initial=0.0))

    def fitted_draws(self) -> int:
        """How many draws the CVaR rows can hold within `MOST_ROBUST_NONZEROS`: all, or the most that fit (at least
        `FEWEST_FITTED_DRAWS`)."""
        count = self.ceilings.shape[0]
        if count * self.columns <= MOST_ROBUST_NONZEROS:
            return count
        return min(count, max(FEWEST_FITTED_DRAWS, MOST_ROBUST_NONZEROS // max(self.columns, 1)))

    def blocks(self, draws: np.ndarray | int) -> Iterator[np.ndarray]:
        """The given draws (indices, or the first `draws`) in blocks of at most `CHUNK_ELEMENTS` chord values."""
        index = np.arange(draws) if isinstance(draws, int) else np.asarray(draws)
        size = max(1, CHUNK_ELEMENTS // max(self.columns, 1))
        for begin in range(0, len(index), size):
            yield index[begin : begin + size]

    def _remembered(self, what: str, index: np.ndarray, work):
        """`work()`, kept for these draws up to `REMEMBERED_ELEMENTS`, so a second use (or plan) reuses it."""
        if self.ceilings.shape[0] * self.columns > REMEMBERED_ELEMENTS:
            return work()
        key = (what, len(index), int(index[0]) if len(index) else 0)
        if key not in self.memo:
            self.memo[key] = work()
        return self.memo[key]

    def _parts(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For those draws: each segment's curve value lost beyond its left end, A·e^(−x/s) (days), its width over
        the scale r = w/s, the scale, and the share of that value the segment gains, 1 − e^(−r) (draws × cells ×
        segments; the last is the slowest to compute, so the chords and their shortfalls share it)."""

        def work() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            scale = self.scales[index][:, :, None]
            remaining = self.ceilings[index][:, :, None] * np.exp(-self.breakpoints[None, :, :-1] / scale)
            ratio = np.maximum(self.widths[None] / scale, 1e-300)
            return remaining, ratio, scale, -np.expm1(-ratio)

        return self._remembered("parts", index, work)

    def slopes(self, index: np.ndarray) -> np.ndarray:
        """Chord slopes (days per £, draws × cells × segments) of the given draws."""

        def work() -> np.ndarray:
            remaining, ratio, scale, gained = self._parts(index)
            return remaining * gained / (ratio * scale)

        return self._remembered("slopes", index, work)

    def tangents(self, index: np.ndarray) -> np.ndarray:
        """The exact curves' slopes at each segment's left end (days per £, draws × cells × segments), at least the chord's."""
        remaining, ratio, scale, gained = self._parts(index)
        return np.maximum(remaining / scale, remaining * gained / (ratio * scale))

    def mean(self, slopes: str, draws: int) -> np.ndarray:
        """The mean over the first `draws` of `slopes` ("slopes" or "tangents"), cells × segments."""
        method = self.slopes if slopes == "slopes" else self.tangents
        return sum(method(block).sum(axis=0) for block in self.blocks(draws)) / draws

    def shortfall(self, draws: int) -> np.ndarray:
        """Per draw (the first `draws`), the sum over cells of the exact curve's greatest rise above the chord on
        any of the cell's segments (days): at r = w/s the curve's slope equals the chord's at δ/s = −ln((1 − e^(−r))/r)
        from the segment's start, where it lies A·e^(−x/s)·((1 − e^(−δ/s)) − (1 − e^(−r))·δ/(s·r)) above it."""
        totals = []
        for block in self.blocks(draws):
            remaining, ratio, _, gained = self._parts(block)
            totals.append((remaining * self._rise_factor(block, ratio, gained)).max(axis=2).sum(axis=1))
        return np.concatenate(totals)

    def _rise_factor(self, index: np.ndarray, ratio: np.ndarray, rise: np.ndarray) -> np.ndarray:
        """The greatest rise of the curve above a chord of width over scale `ratio` (gaining the share `rise` = 1 − e^(−r)
        of A·e^(−x/s)), as a share of A·e^(−x/s)."""

        def work() -> np.ndarray:
            offset = -np.log(rise / ratio)
            return np.maximum(-np.expm1(-offset) - rise * offset / ratio, 0.0)

        return self._remembered("rise", index, work)

    def values(self, amounts: np.ndarray) -> np.ndarray:
        """Harm averted per draw (days) by `amounts` (£, area × intervention), filling each cell's segments in order."""
        if self.cells.size == 0:
            return np.zeros(self.ceilings.shape[0])
        spent = amounts[self.cells[:, 0], self.cells[:, 1]]
        segment = np.minimum((spent[:, None] >= self.breakpoints[:, 1:-1]).sum(axis=1), self.breakpoints.shape[1] - 2)
        cells = np.arange(len(spent))
        start, width = self.breakpoints[cells, segment], self.widths[cells, segment]
        filled = np.clip(spent - start, 0.0, width)
        below = self.ceilings * -np.expm1(-start / self.scales)
        across = self.ceilings * np.exp(-start / self.scales) * -np.expm1(-width / self.scales)
        return (below + across * filled / np.maximum(width, 1e-300)).sum(axis=1)


def _check_draws(request: AllocationRequest, draws: CurveDraws) -> None:
    """The draws must cover the request's areas and interventions, in its order."""
    if draws.codes != request.curves.codes or draws.interventions != request.curves.interventions:
        raise InternalError("the curve draws' areas or interventions are not the allocation request's")
    if draws.count == 0:
        raise InternalError("a robust plan needs at least one draw")


def _status(stopped: str, gap: float) -> str:
    """The solve in words: "optimal" when HiGHS solved the plan's problem to the end (`solver_gap` is then the
    bound's own slack), or why the plan may fall short and the gap proved on the chords."""
    if not stopped:
        return str(SolveStatus.OPTIMAL)
    return f"{stopped}, gap {gap:.2%}"


@dataclass(frozen=True)
class _Solved:
    """A solve's plan (£ per area × intervention), the best chord objective HiGHS proved possible (days), and why
    the plan may fall short of it ("" when it does not)."""

    amounts: np.ndarray
    chord_bound_days: float
    stopped: str


def _solve(request: AllocationRequest, grid: _CommonChords, objective: str, tail_share: float, fitted: int) -> _Solved:
    """The plan from the LP/MIP over the usable cells' segments, with an upper bound on the best chord objective over
    the first `fitted` draws.

    As in the point allocator, money is counted in £1,000s (or the curve's span when less). Harm is
    counted in units of the mean chords' optimum under the budget and grant caps alone
    (`_harm_unit`), so the objective is about 1 and HiGHS's absolute tolerances act as relative
    ones even where the budget reaches far up the curves. Only the columns `_steepest_columns`
    keeps are free; the rest are fixed at 0, which presolve removes.

    The bound comes from a problem with one linear objective, Σ_d q_d·V_d: the worst-share mean is
    the least such sum over weights q_d ≤ 1 / (share·N) adding up to 1, so for any of them (the
    plan's own worst-share weights) the best weighted sum bounds the best worst-share mean; the
    mean is q_d = 1/N. With one objective the column pruning is exact, and the bound is HiGHS's
    dual bound on that problem (or on the CVaR problem itself where that is less: the rows kept
    only relax it).
    """
    layout = _Layout.of(request, grid)
    mean_slopes = grid.mean("slopes", fitted).ravel()
    days = _harm_unit(request, grid, layout, mean_slopes.reshape(grid.widths.shape))
    per_unit = layout.money_gbp / days
    if objective == "expected":
        result = _solve_model(request, grid, layout, mean_slopes * per_unit, _steepest_columns(request, grid, layout, mean_slopes))
        return _Solved(_amounts(request, grid, layout, result.values), days * _best(result), _stopped(result))
    slopes = np.concatenate([grid.slopes(block).reshape(len(block), -1) for block in grid.blocks(fitted)]) * per_unit
    free = _steepest_columns(request, grid, layout, slopes)
    rows = np.where(free & (slopes >= 1e-12 * slopes.max()), slopes, 0.0)
    start = _solve_model(request, grid, layout, mean_slopes * per_unit, free, integer=False).values
    sets = _few_bid_sets(request, layout)
    if sets:
        solved = [
            _worst_share_rows(request, grid, layout, rows, free, tail_share, rows @ start[: layout.segments], funded) for funded in sets
        ]
        values = [worst_share_mean(slopes @ result.values[: layout.segments], tail_share) for result in solved]
        best = solved[int(np.argmax(values))]
        return _Solved(_amounts(request, grid, layout, best.values), days * max(_best(result) for result in solved), "")
    if not layout.flags or int(free.sum()) <= EXACT_CVAR_COLUMNS:
        result = _worst_share_rows(request, grid, layout, rows, free, tail_share, rows @ start[: layout.segments])
        bound = _weighted_bound(request, grid, layout, slopes, _tail_weights(slopes @ result.values[: layout.segments], tail_share))
        return _Solved(_amounts(request, grid, layout, result.values), days * min(_best(result), _best(bound)), _stopped(result))
    bound = _weighted_bound(request, grid, layout, slopes, _tail_weights(slopes @ start[: layout.segments], tail_share))
    best, best_value, tried = None, -np.inf, []
    for _ in range(FLAG_ROUNDS):
        funded = bound.values[layout.segments : layout.tail] > 0.5
        if any(np.array_equal(funded, seen) for seen in tried):
            break
        tried.append(funded)
        result = _worst_share_rows(request, grid, layout, rows, free, tail_share, rows @ start[: layout.segments], funded)
        value = worst_share_mean(slopes @ result.values[: layout.segments], tail_share)
        if value > best_value:
            best, best_value = result, value
        bound = _weighted_bound(request, grid, layout, slopes, _tail_weights(slopes @ result.values[: layout.segments], tail_share))
    return _Solved(_amounts(request, grid, layout, best.values), days * _best(bound), "bids chosen by weighted draws")


def _few_bid_sets(request: AllocationRequest, layout: _Layout) -> list[np.ndarray]:
    """Every set of bids the rules allow (bool per bid with cells), when there are at most `ENUMERATED_BID_SETS` of them;
    else none. Solving the CVaR LP once per set is exact and, with few sets, far quicker than the MIP with dense rows
    (a minimum grant that allows one bid of nine: 9 LPs instead of a 37 s MIP)."""
    if not layout.flags:
        return []
    most = request.max_bids or layout.flags
    if request.minimum_grant_gbp > 0:
        most = int(min(most, request.spendable_gbp / request.minimum_grant_gbp * (1 + 1e-12)))
    most = min(most, layout.flags)
    if sum(math.comb(layout.flags, size) for size in range(1, most + 1)) > ENUMERATED_BID_SETS:
        return []
    sets = []
    for size in range(1, most + 1):
        for chosen in itertools.combinations(range(layout.flags), size):
            funded = np.zeros(layout.flags, dtype=bool)
            funded[list(chosen)] = True
            sets.append(funded)
    return sets


def _worst_share_rows(
    request: AllocationRequest,
    grid: _CommonChords,
    layout: _Layout,
    rows: np.ndarray,
    free: np.ndarray,
    tail_share: float,
    start_values: np.ndarray,
    funded: np.ndarray | None = None,
) -> ArraySolution:
    """The worst-share plan with its dense rows u[d] ≥ t − V_d(y) added a few at a time (bids fixed to `funded`
    when given, an LP).

    Leaving a draw's row out (its u at 0) relaxes the problem, so when the relaxed plan's threshold
    t is at or below every left-out draw's value, that plan is optimal for all of them. The rows
    start as the worst twice share × N draws by `start_values`, and grow by the draws the last plan
    leaves violated.
    """
    fitted = len(rows)
    kept = np.sort(np.argsort(start_values, kind="stable")[: min(fitted, int(np.ceil(2 * tail_share * fitted)) + 8)])
    while True:
        result = _solve_model(request, grid, layout, rows[kept], free, (tail_share, fitted), funded=funded)
        threshold = result.values[layout.tail]
        values = rows @ result.values[: layout.segments]
        left_out = np.setdiff1d(np.arange(fitted), kept)
        violated = left_out[values[left_out] < threshold - 1e-9 * max(1.0, abs(threshold))]
        if len(violated) == 0:
            return result
        kept = np.union1d(kept, violated)


def _weighted_bound(
    request: AllocationRequest, grid: _CommonChords, layout: _Layout, slopes: np.ndarray, weights: np.ndarray
) -> ArraySolution:
    """The best Σ_d q_d·V_d under the rules for weights q (at most 1/(share·N) each, adding up to 1): its dual bound
    is at least the best worst-share mean, and its funded bids a candidate set."""
    combined = weights @ slopes
    return _solve_model(request, grid, layout, combined, _steepest_columns(request, grid, layout, combined))


def _tail_weights(values: np.ndarray, share: float) -> np.ndarray:
    """The weights whose sum with `values` is their worst-share mean (`interventions.worst_share_mean`): 1/k on the
    ⌊k⌋ lowest, the rest of 1 on the next, with k = share × N."""
    tail = share * len(values)
    order = np.argsort(values, kind="stable")
    weights = np.zeros(len(values))
    whole = min(int(np.floor(tail)), len(values))
    weights[order[:whole]] = 1.0 / tail
    if whole < len(values):
        weights[order[whole]] = (tail - whole) / tail
    return weights


def _steepest_columns(request: AllocationRequest, grid: _CommonChords, layout: _Layout, slopes: np.ndarray) -> np.ndarray:
    """The segment columns worth solving over (bool): in each bid, those among the steepest £ up to the most the bid
    can receive under one of the `slopes` rows (draws × columns, or one row).

    With one row this loses nothing: whatever a bid receives is best spent on its steepest segments (a
    cell's own segments come in order, their slopes falling), so no better plan uses the others. With
    a row per draw it is a heuristic, and the bounds are solved over one row.
    """
    rows = np.atleast_2d(slopes)
    most = min(request.max_grant_gbp, request.spendable_gbp)
    widths = grid.widths.ravel()
    keep = np.zeros(rows.shape[1], dtype=bool)
    order = np.argsort(layout.segment_bid, kind="stable")
    bounds = np.searchsorted(layout.segment_bid[order], np.arange(layout.bid_count + 1))
    for bid in range(layout.bid_count):
        columns = order[bounds[bid] : bounds[bid + 1]]
        bid_rows = rows[:, columns]
        ranked = np.argsort(-bid_rows, axis=1, kind="stable")
        reach = np.cumsum(widths[columns][ranked], axis=1)
        last = np.minimum((reach < most).sum(axis=1), len(columns) - 1)
        threshold = np.take_along_axis(bid_rows, np.take_along_axis(ranked, last[:, None], axis=1), axis=1)
        keep[columns] = (bid_rows >= threshold).any(axis=0)
    return keep


def _harm_unit(request: AllocationRequest, grid: _CommonChords, layout: _Layout, mean_slopes: np.ndarray) -> float:
    """The days the model counts harm in: the mean chords' optimum under the budget and each bid's cap (steepest
    segments first, exact for those limits; `filling.greedy_fill`), or one unit of money at the steepest
    chord when that is 0."""
    caps = np.full(layout.bid_count, request.max_grant_gbp)
    widths, slopes = grid.widths[:, None, :], mean_slopes[:, None, :]
    filled = greedy_fill(widths, slopes, request.spendable_gbp, caps, cap_groups=layout.cell_bid)
    spent = np.clip(filled[:, 0, None] - grid.breakpoints[:, :-1], 0.0, grid.widths)
    value = float((spent * mean_slopes).sum())
    return value if value > 0 else grid.steepest * layout.money_gbp


def _best(result: ArraySolution) -> float:
    """The best objective HiGHS proved possible (maximised, in model units): its dual bound, or the optimum of an LP."""
    return -result.bound


def _stopped(result: ArraySolution) -> str:
    """Why HiGHS stopped short of `MIP_RELATIVE_GAP`: "time limit", or "" when it did not."""
    return "time limit" if result.status == "time limit" else ""


def _solve_model(
    request: AllocationRequest,
    grid: _CommonChords,
    layout: _Layout,
    slopes: np.ndarray,
    free: np.ndarray,
    tail: tuple[float, int] | None = None,
    integer: bool = True,
    funded: np.ndarray | None = None,
) -> ArraySolution:
    """Solve once, one block per constraint family: the value at `slopes` (one per column) as the objective, or
    with `tail` (share, N) the worst-share mean of N draws with rows for those in `slopes` (a row per draw) only;
    segment columns not `free` fixed at 0, the funded flags binary unless `integer` is off. Its values hold y, z,
    then t and u. With `funded`, the flags are fixed to it and the problem is an LP."""
    columns = layout.segments + layout.flags + (1 + len(slopes) if tail is not None else 0)
    rows = _Rows(columns)
    _add_budget(rows, request, layout)
    _add_grant_caps(rows, request, layout)
    _add_segment_links(rows, grid, layout)
    _add_bid_limit(rows, request, layout)
    _add_minimum_grant(rows, request, layout)
    cost = np.zeros(columns)
    lower, upper = np.zeros(columns), np.full(columns, np.inf)
    upper[: layout.segments] = np.where(free, grid.widths.ravel(), 0.0) / layout.money_gbp
    upper[layout.segments : layout.tail] = 1.0
    if funded is not None:
        lower[layout.segments : layout.tail] = upper[layout.segments : layout.tail] = funded
        integer = False
    if tail is None:
        cost[: layout.segments] = -slopes.ravel()
    else:
        share, draw_count = tail
        cost[layout.tail] = -1.0
        cost[layout.tail + 1 :] = 1.0 / (share * draw_count)
        lower[layout.tail] = -np.inf
        _add_worst_share(rows, slopes, layout)
    integrality = np.zeros(columns, dtype=bool)
    integrality[layout.segments : layout.tail] = integer
    seconds = MIP_SECONDS if integrality.any() else None
    result = solve_arrays(cost, rows.matrix(), rows.lower(), rows.upper(), upper, integrality, lower, MIP_RELATIVE_GAP, seconds)
    if result.values is None:
        raise InternalError(f"the robust allocation problem should always be feasible but HiGHS says: {result.status}")
    return result


def _amounts(request: AllocationRequest, grid: _CommonChords, layout: _Layout, solution: np.ndarray) -> np.ndarray:
    """£ per area × intervention from a solution: each cell's segments summed, nothing in a bid whose flag is off."""
    spent = np.clip(solution[: layout.segments], 0.0, None).reshape(len(grid.cells), -1).sum(axis=1) * layout.money_gbp
    if layout.flags:
        spent[solution[layout.segments + layout.cell_bid] < 0.5] = 0.0
    amounts = np.zeros(grid.shape)
    amounts[grid.cells[:, 0], grid.cells[:, 1]] = spent
    return _within_limits(request, amounts)


@dataclass(frozen=True)
class _Layout:
    """Where each variable sits: y per cell × segment, then a funded flag z per bid with cells (only when the
    rules need binaries), then, for `cvar`, t and one u per draw in the rows; and the unit money is counted in (£)."""

    segments: int
    segment_count: int
    bid_count: int
    cell_bid: np.ndarray
    flags: int
    money_gbp: float

    @classmethod
    def of(cls, request: AllocationRequest, grid: _CommonChords) -> _Layout:
        bids = request.bids()[grid.cells[:, 0]]
        present, cell_bid = np.unique(bids, return_inverse=True)
        cells, segment_count = grid.widths.shape
        return cls(
            segments=cells * segment_count,
            segment_count=segment_count,
            bid_count=len(present),
            cell_bid=cell_bid,
            flags=len(present) if request.needs_binaries else 0,
            money_gbp=min(MODEL_MONEY_GBP, request.curve_span_gbp),
        )

    @property
    def tail(self) -> int:
        """The column of t, the worst-share threshold (u follow it)."""
        return self.segments + self.flags

    @property
    def segment_bid(self) -> np.ndarray:
        """Each y's bid, numbered among the bids with cells."""
        return np.repeat(self.cell_bid, self.segment_count)


class _Rows:
    """Constraint rows gathered a block at a time as (row, column, value) triplets, with each block's bounds.

    No two triplets share a place: a block's rows are numbered on from the blocks before it, and
    each `_add_` function names a column at most once in a row, so the matrix sums nothing."""

    def __init__(self, columns: int):
        self.columns = columns
        self.count = 0
        self.triplets: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.bounds: list[tuple[int, float, float]] = []

    def add(self, rows: np.ndarray, columns: np.ndarray, values: np.ndarray, lower: float, upper: float) -> None:
        """Rows given as (row, column, value) triplets, numbered from 0 within the block, all with the same bounds."""
        count = int(np.max(rows, initial=-1)) + 1
        self.triplets.append((np.asarray(rows) + self.count, np.asarray(columns), np.asarray(values, dtype=float)))
        self.bounds.append((count, lower, upper))
        self.count += count

    def matrix(self) -> ColumnWise:
        """Every block's rows as one column-wise matrix."""
        rows, columns, values = (np.concatenate(part) for part in zip(*self.triplets))
        return column_wise(rows, columns, values, (self.count, self.columns))

    def lower(self) -> np.ndarray:
        """Each row's lower bound."""
        return np.concatenate([np.full(count, lower) for count, lower, _ in self.bounds])

    def upper(self) -> np.ndarray:
        """Each row's upper bound."""
        return np.concatenate([np.full(count, upper) for count, _, upper in self.bounds])


def _add_budget(rows: _Rows, request: AllocationRequest, layout: _Layout) -> None:
    """Σ_a,i x[a,i] ≤ money to spend (the budget, or less where match funding limits the grant)."""
    everything = np.arange(layout.segments)
    rows.add(np.zeros(layout.segments, dtype=int), everything, np.ones(layout.segments), -np.inf, request.spendable_gbp / layout.money_gbp)


def _add_grant_caps(rows: _Rows, request: AllocationRequest, layout: _Layout) -> None:
    """Σ_(a in b),i x[a,i] ≤ max grant (× z[b] when bids are switched on and off)."""
    bid = layout.segment_bid
    cap = request.max_grant_gbp / layout.money_gbp
    if not layout.flags:
        rows.add(bid, np.arange(layout.segments), np.ones(layout.segments), -np.inf, cap)
        return
    flags = np.arange(layout.flags)
    rows.add(
        np.concatenate([bid, flags]),
        np.concatenate([np.arange(layout.segments), layout.segments + flags]),
        np.concatenate([np.ones(layout.segments), np.full(layout.flags, -cap)]),
        -np.inf,
        0.0,
    )


def _add_segment_links(rows: _Rows, grid: _CommonChords, layout: _Layout) -> None:
    """y[a,i,s] ≤ width[s] × z[b(a)]: implied by the bid's cap, but a much tighter relaxation (see allocation)."""
    if not layout.flags:
        return
    everything = np.arange(layout.segments)
    widths = grid.widths.ravel() / layout.money_gbp
    rows.add(
        np.concatenate([everything, everything]),
        np.concatenate([everything, layout.segments + layout.segment_bid]),
        np.concatenate([np.ones(layout.segments), -widths]),
        -np.inf,
        0.0,
    )


def _add_bid_limit(rows: _Rows, request: AllocationRequest, layout: _Layout) -> None:
    """Σ_b z[b] ≤ bids per commissioner."""
    if request.max_bids > 0 and layout.flags:
        flags = np.arange(layout.flags)
        rows.add(np.zeros(layout.flags, dtype=int), layout.segments + flags, np.ones(layout.flags), -np.inf, float(request.max_bids))


def _add_minimum_grant(rows: _Rows, request: AllocationRequest, layout: _Layout) -> None:
    """Σ_(a in b),i x[a,i] ≥ minimum grant × z[b]."""
    if request.minimum_grant_gbp <= 0 or not layout.flags:
        return
    flags = np.arange(layout.flags)
    rows.add(
        np.concatenate([layout.segment_bid, flags]),
        np.concatenate([np.arange(layout.segments), layout.segments + flags]),
        np.concatenate([np.ones(layout.segments), np.full(layout.flags, -request.minimum_grant_gbp / layout.money_gbp)]),
        0.0,
        np.inf,
    )


def _add_worst_share(rows: _Rows, slopes: np.ndarray, layout: _Layout) -> None:
    """u[d] ≥ t − V_d(y), written t − u[d] − Σ slope_d·y ≤ 0 (u ≥ 0 by its bounds): a dense row per draw, less its zeros."""
    draws = len(slopes)
    draw_rows = np.arange(draws)
    row, column = np.nonzero(slopes)
    rows.add(
        np.concatenate([row, draw_rows, draw_rows]),
        np.concatenate([column, np.full(draws, layout.tail), layout.tail + 1 + draw_rows]),
        np.concatenate([-slopes[row, column], np.ones(draws), -np.ones(draws)]),
        -np.inf,
        0.0,
    )


def _within_limits(request: AllocationRequest, amounts: np.ndarray) -> np.ndarray:
    """The solver's amounts pulled back inside the caps and the budget where its tolerance let them stray (£)."""
    per_bid = request.per_bid(amounts)
    over = np.where(per_bid > request.max_grant_gbp, request.max_grant_gbp / np.maximum(per_bid, 1e-300), 1.0)
    amounts = amounts * over[request.bids()][:, None]
    total = amounts.sum()
    return amounts * (request.spendable_gbp / total) if total > request.spendable_gbp else amounts
