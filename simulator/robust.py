"""Plans robust to the Monte Carlo's uncertainty: the most harm averted on average (`expected`) or in the
worst draws (`cvar`), under the same rules as the point-estimate plan.

Every draw's curve gets chords at the same breakpoints (`request.segments` equal widths over
[0, `request.curve_span_gbp`]), so one set of variables y[a,i,s] (£ on segment s of cell a, i)
serves every draw. Each draw's chords are concave with falling slopes, so filling a cell's
segments in order is best in every draw at once, and a draw's value V_d(y) = Σ slope_d·y is
linear. `expected` maximises mean_d V_d(y), one LP with the mean slopes; `cvar` maximises the
mean of the worst share of draws in Rockafellar and Uryasev's form, t − Σ_d u_d / (share·N)
with u_d ≥ t − V_d(y), u_d ≥ 0, which is `interventions.worst_share_mean` of the V_d. The rules
are the point allocator's (budget, grant cap per bid, eligibility, bid limit and minimum grant
with a binary per bid), solved with HiGHS through scipy on sparse matrices.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from .allocation import MODEL_MONEY_GBP, AllocationRequest, SolveStatus, check_allocation
from .arrays import Labelled
from .errors import ConfigError, InternalError
from .interventions import CurveDraws, worst_share_mean

OBJECTIVES = ("expected", "cvar")
MIP_RELATIVE_GAP = 1e-9
"""HiGHS stops a MIP when its incumbent is within this fraction of its bound (default 1e-4): tight, so
that the CVaR plan's worst-share mean is at least the expected plan's to the solver's tolerance."""


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

    `chord_days` is each draw's harm averted on the common chords (segments filled in order), and
    `chord_objective_days` the objective over them, the number the solver maximised; `outcome` gives
    the same draws on the exact curves, which lie above the chords. `gap_bound_days` bounds how far
    the plan can be from the exact optimum: no plan under the same rules reaches more than the
    plan's exact objective plus this on the exact curves. The best exact objective is bounded twice,
    and the lower bound kept: by the optimum of the same problem with each segment's slope taken
    as the curve's slope at its left end (tangent slopes on the same grid give a concave curve
    above the exact one, so that problem can only do better), and by the chord optimum plus
    `chord_gap_bound`.
    """

    amounts: Labelled
    objective: str
    tail_share: float
    chord_objective_days: float
    chord_days: np.ndarray
    outcome: PlanOutcome
    gap_bound_days: float
    solve_seconds: float
    status: SolveStatus

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
    started = time.perf_counter()
    if objective not in OBJECTIVES:
        raise ConfigError("unknown robust objective", key="allocation.objective", got=objective, expected=" or ".join(OBJECTIVES))
    worst_share_mean(np.zeros(1), tail_share)
    _check_draws(request, draws)
    grid = _CommonChords.of(request, draws)
    if request.nothing_fundable() or grid.steepest <= 0.0:
        amounts, tangent_optimum = np.zeros(request.curves.targeted_harm.values.shape), 0.0
    else:
        amounts, tangent_optimum = _solve(request, grid, objective, tail_share)
    chords = grid.values(amounts)
    chord_objective = float(chords.mean()) if objective == "expected" else worst_share_mean(chords, tail_share)
    outcome = evaluate_plan(amounts, draws, tail_share)
    exact_objective = outcome.mean_days if objective == "expected" else outcome.worst_share_mean_days
    best_possible = min(tangent_optimum, chord_objective + chord_gap_bound(request, grid, objective, tail_share))
    curves = request.curves
    plan = RobustPlan(
        amounts=Labelled(amounts, ("area", "intervention"), (curves.codes, curves.interventions), f"{objective} allocation", "£"),
        objective=objective,
        tail_share=tail_share,
        chord_objective_days=chord_objective,
        chord_days=chords,
        outcome=outcome,
        gap_bound_days=max(best_possible - exact_objective, 0.0),
        solve_seconds=time.perf_counter() - started,
        status=SolveStatus.OPTIMAL,
    )
    check_allocation(request, plan)  # reads only `plan.amounts`
    return plan


def chord_values(request: AllocationRequest, draws: CurveDraws, amounts: np.ndarray) -> np.ndarray:
    """Harm averted per draw (days) by `amounts` on the common chords the robust plans are solved over."""
    return _CommonChords.of(request, draws).values(np.asarray(amounts, dtype=float))


def chord_gap_bound(request: AllocationRequest, grid: _CommonChords, objective: str, tail_share: float) -> float:
    """How far the best exact objective under the request's rules can exceed the chord optimum (days).

    On segment s a cell's exact curve lies between its chord (slope m_s) and the line with the
    curve's slope at the segment's left end (L_s ≥ m_s): tangent slopes on the same grid give a
    concave curve above the exact one. So in draw d any plan's exact value is at most its chord
    value plus Σ (L_s − m_s)·y_s, which over the budget is at most D_d: the budget spent on the
    segments with the largest L_s − m_s (caps and the other rules ignored, so it is an over-estimate).
    The objective moves by at most the mean of D (`expected`) or the mean of its largest
    `tail_share` (`cvar`), and since the plan's exact objective is at least its chord objective,
    which is the chord optimum, the plan is within this of the exact optimum.
    """
    if grid.cells.size == 0 or request.spendable_gbp <= 0:
        return 0.0
    excess = ((grid.tangents - grid.slopes) * grid.widths[None, None, :]).reshape(grid.slopes.shape[0], -1)
    whole = min(int(request.spendable_gbp // grid.width), excess.shape[1])
    partial = request.spendable_gbp / grid.width - whole if whole < excess.shape[1] else 0.0
    ordered = -np.sort(-excess, axis=1)
    largest = ordered[:, :whole].sum(axis=1) + (partial * ordered[:, whole] if partial > 0 else 0.0)
    if objective == "expected":
        return float(largest.mean())
    return -worst_share_mean(-largest, tail_share)


@dataclass(frozen=True)
class _CommonChords:
    """Every draw's chords at the same breakpoints, for the usable cells only.

    `cells` holds (area, intervention) pairs; `slopes` and `tangents` are draws × cell × segment
    (days per £): chord slopes, and the exact curve's slope at each segment's left end.
    """

    cells: np.ndarray
    widths: np.ndarray
    slopes: np.ndarray
    tangents: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def of(cls, request: AllocationRequest, draws: CurveDraws) -> _CommonChords:
        breakpoints = np.linspace(0.0, request.curve_span_gbp, request.segments + 1)
        areas, items = np.nonzero(request.usable()) if not request.nothing_fundable() else (np.zeros(0, int), np.zeros(0, int))
        ceilings = draws.ceilings()[:, areas, items][:, :, None]
        scale = draws.scale[:, areas, items][:, :, None]
        values = ceilings * -np.expm1(-breakpoints / scale)
        widths = np.diff(breakpoints)
        slopes = np.diff(values, axis=2) / widths
        tangents = ceilings / scale * np.exp(-breakpoints[:-1] / scale)
        return cls(np.column_stack([areas, items]), widths, slopes, np.maximum(tangents, slopes), request.curves.targeted_harm.values.shape)

    @property
    def width(self) -> float:
        """The common segment width (£)."""
        return float(self.widths[0])

    @property
    def steepest(self) -> float:
        """The steepest chord over every draw and cell (days per £), 0 with no cell."""
        return float(self.slopes.max(initial=0.0))

    def values(self, amounts: np.ndarray) -> np.ndarray:
        """Harm averted per draw (days) by `amounts` (£, area × intervention), filling each cell's segments in order."""
        if self.cells.size == 0:
            return np.zeros(self.slopes.shape[0])
        starts = np.concatenate([[0.0], np.cumsum(self.widths)[:-1]])
        filled = np.clip(amounts[self.cells[:, 0], self.cells[:, 1]][:, None] - starts, 0.0, self.widths)
        return np.einsum("dcs,cs->d", self.slopes, filled)


def _check_draws(request: AllocationRequest, draws: CurveDraws) -> None:
    """The draws must cover the request's areas and interventions, in its order."""
    if draws.codes != request.curves.codes or draws.interventions != request.curves.interventions:
        raise InternalError("the curve draws' areas or interventions are not the allocation request's")
    if draws.count == 0:
        raise InternalError("a robust plan needs at least one draw")


def _solve(request: AllocationRequest, grid: _CommonChords, objective: str, tail_share: float) -> tuple[np.ndarray, float]:
    """£ per area × intervention from the LP/MIP over the usable cells' segments, and the tangent problem's
    optimum (days): an upper bound on the best exact objective.

    As in the point allocator, money is counted in £1,000s (or the curve's span when less) and
    harm in units of one unit of money at the steepest chord of any draw, so coefficients lie in
    (0, 1] and HiGHS's absolute tolerances act as relative ones.

    `cvar` adds its dense rows u[d] ≥ t − V_d(y) a few at a time: leaving a draw's row out (its u
    at 0) relaxes the problem, so when the relaxed plan's threshold t is at or below every left-out
    draw's value, that plan is optimal for all of them. The rows start as the worst twice
    share × N draws of the expected plan, and grow by the draws the last plan leaves violated;
    at Kent scale with 1,000 draws this solves in a quarter of the time of all rows at once. The
    tangent problem is solved over the rows kept at the end and with the funded flags free to be
    fractional: a relaxation twice over, so still an upper bound (solving it as a MIP, even to
    HiGHS's default gap, doubled the CVaR MIP's time at Kent scale).
    """
    layout = _Layout.of(request, grid)
    slopes = (grid.slopes / grid.steepest).reshape(grid.slopes.shape[0], -1)
    tangents = (grid.tangents / grid.steepest).reshape(slopes.shape)
    days = grid.steepest * layout.money_gbp
    expected = _solve_model(request, grid, layout, slopes, None, tail_share).x
    kept = None
    solution = expected
    if objective == "cvar":
        draw_count = len(slopes)
        values = slopes @ expected[: layout.segments]
        kept = np.sort(np.argsort(values, kind="stable")[: min(draw_count, int(np.ceil(2 * tail_share * draw_count)) + 8)])
        while True:
            solution = _solve_model(request, grid, layout, slopes, kept, tail_share).x
            threshold = solution[layout.tail]
            values = slopes @ solution[: layout.segments]
            left_out = np.setdiff1d(np.arange(draw_count), kept)
            violated = left_out[values[left_out] < threshold - 1e-9 * max(1.0, abs(threshold))]
            if len(violated) == 0:
                break
            kept = np.union1d(kept, violated)
    bound = _solve_model(request, grid, layout, tangents, kept, tail_share, integer=False)
    return _amounts(request, grid, layout, solution), -days * float(bound.fun)


def _solve_model(
    request: AllocationRequest,
    grid: _CommonChords,
    layout: _Layout,
    slopes: np.ndarray,
    tail_draws: np.ndarray | None,
    tail_share: float,
    integer: bool = True,
) -> OptimizeResult:
    """Solve once, one block per constraint family: the mean objective, or (with `tail_draws`) the worst-share
    mean with rows for those draws only; the funded flags binary unless `integer` is off. Its x holds y, z,
    then t and u."""
    tail_rows = 0 if tail_draws is None else len(tail_draws)
    columns = layout.segments + layout.flags + (1 + tail_rows if tail_draws is not None else 0)
    rows = _Rows(columns)
    _add_budget(rows, request, layout)
    _add_grant_caps(rows, request, layout)
    _add_segment_links(rows, grid, layout)
    _add_bid_limit(rows, request, layout)
    _add_minimum_grant(rows, request, layout)
    cost = np.zeros(columns)
    lower, upper = np.zeros(columns), np.full(columns, np.inf)
    upper[: layout.segments] = np.tile(grid.widths, len(grid.cells)) / layout.money_gbp
    upper[layout.segments : layout.tail] = 1.0
    if tail_draws is None:
        cost[: layout.segments] = -slopes.mean(axis=0)
    else:
        cost[layout.tail] = -1.0
        cost[layout.tail + 1 :] = 1.0 / (tail_share * len(slopes))
        lower[layout.tail] = -np.inf
        _add_worst_share(rows, slopes[tail_draws], layout)
    integrality = np.zeros(columns)
    integrality[layout.segments : layout.tail] = 1 if integer else 0
    options = {"mip_rel_gap": MIP_RELATIVE_GAP} if layout.flags and integer else {}
    result = milp(cost, constraints=rows.constraint(), integrality=integrality, bounds=Bounds(lower, upper), options=options)
    if result.status != 0 or result.x is None:
        raise InternalError(f"the robust allocation problem should always be feasible but HiGHS says: {result.message}")
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
        _, cells, segment_count = grid.slopes.shape
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
    """Constraint rows gathered as sparse blocks with their lower and upper bounds."""

    def __init__(self, columns: int):
        self.columns = columns
        self.blocks: list[sparse.csr_matrix] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []

    def add(self, rows: np.ndarray, columns: np.ndarray, values: np.ndarray, lower: float, upper: float) -> None:
        """Rows given as (row, column, value) triplets, numbered from 0 within the block, all with the same bounds."""
        count = int(np.max(rows, initial=-1)) + 1
        self.blocks.append(sparse.csr_matrix((values, (rows, columns)), shape=(count, self.columns)))
        self.lower.append(np.full(count, lower))
        self.upper.append(np.full(count, upper))

    def constraint(self) -> LinearConstraint:
        return LinearConstraint(sparse.vstack(self.blocks, format="csr"), np.concatenate(self.lower), np.concatenate(self.upper))


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
    widths = np.tile(grid.widths, len(grid.cells)) / layout.money_gbp
    rows.add(
        np.concatenate([everything, everything]),
        np.concatenate([everything, layout.segments + layout.segment_bid]),
        np.concatenate([np.ones(layout.segments), -widths]),
        -np.inf,
        0.0,
    )


def _add_bid_limit(rows: _Rows, request: AllocationRequest, layout: _Layout) -> None:
    """Σ_b z[b] ≤ bids per commissioner."""
    if request.max_areas > 0 and layout.flags:
        flags = np.arange(layout.flags)
        rows.add(np.zeros(layout.flags, dtype=int), layout.segments + flags, np.ones(layout.flags), -np.inf, float(request.max_areas))


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
    """u[d] ≥ t − V_d(y), written t − u[d] − Σ slope_d·y ≤ 0 (u ≥ 0 by its bounds): a dense row per draw."""
    draws, segments = slopes.shape
    draw_rows = np.arange(draws)
    rows.add(
        np.concatenate([np.repeat(draw_rows, segments), draw_rows, draw_rows]),
        np.concatenate([np.tile(np.arange(segments), draws), np.full(draws, layout.tail), layout.tail + 1 + draw_rows]),
        np.concatenate([-slopes.ravel(), np.ones(draws), -np.ones(draws)]),
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
