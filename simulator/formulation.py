"""The linear programs behind the allocator: chord and tangent models of the response curves, built in PuLP (or from
arrays for a Monte Carlo draw), solved, priced, and relaxed to say why rules cannot all be met.

Each curve f(x) = A·(1 − exp(−x/s)) is followed by K chords between breakpoints placed where it
bends: at x = s·g_k with exp(−g_k/2) falling in equal steps, so chords are short near 0, where the
curve is steep, and long where it is flat, and the largest gap between chord and curve is about
the same on every chord. The chords lie under the curve, so a solution of the chord model averts
at least its chord value on the exact curves. Tangents at the same breakpoints lie over the
curve, so the tangent model's optimum bounds the exact optimum from above (from below for a
least-cost goal): the gap between the two is the solution's certificate. Every rule family's rows
go into the model as they are (`constraints`), so what the model obeys and what the checker checks
are one statement. This is the only module that imports PuLP: HiGHS is the default solver, CBC the
cross-check.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from .constraints import AllocationRequest, Family, days_words, gbp
from .errors import ConfigError, InfeasibleError, InternalError

MODEL_MONEY_GBP = 1000.0


MOST_SEGMENTS = 384
"""Refinement doubles the breakpoints per curve up to this many; beyond it the gap is reported as it is."""


MIP_GAP = 1e-5
"""The relative gap at which the MIP solvers may stop. A maximising solver stops with its best bound at most (1 + gap)
times the value it found, so the tangent model's bound is its value × (1 + MIP_GAP) (÷ for least cost): the stopping
rule widens the certified gap by at most this much and never hides it."""


class SolveStatus(StrEnum):
    """The solver's verdict, normalised from PuLP's integer codes."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NOT_SOLVED = "not solved"
    UNDEFINED = "undefined"


@dataclass(frozen=True)
class Certificate:
    """How close a solution is to the optimum: its goal value on the exact curves, a bound no solution can pass, and the gap.

    For the goals that maximise, `bound` is an upper bound from the tangent model; for least cost, a lower bound on the
    money needed. `gap` is |bound − value| ÷ |bound| (÷ value for least cost): 0 for an exact method."""

    goal: str
    value: float
    bound: float
    gap: float
    method: str
    segments: int

    @property
    def unit(self) -> str:
        """What the goal's value counts."""
        return {"harm": "harm days", "maxmin": "days averted per day of basket harm", "blend": "harm days", "least_cost": "£"}[self.goal]


@dataclass(frozen=True)
class RowPrice:
    """What moving one rule's limit is worth at the solution: days of harm averted per unit of the limit."""

    family: str
    index: int
    words: str
    price: float
    unit: str


QUICK_SEGMENTS = 16
"""Chords per curve of the array-built linear program a Monte Carlo solves per draw where water-filling does not apply."""


def array_chord_split(request: AllocationRequest, segments: int) -> np.ndarray:
    """£ per area × intervention of the chord model's optimum, built from arrays and solved by HiGHS directly.

    The same model as the PuLP path (the families' rows, segment links, the goal's rows), without certificate or
    polish: fast enough to solve once per Monte Carlo draw, and at national size. A model whose rules cannot all be
    met gives no money."""
    model = array_model(request, segments)
    if model is None:
        return np.zeros(request.curves.targeted_harm.values.shape)
    solved = model.solve()
    return model.amounts(None if solved is None else solved.values)


@dataclass
class ArrayModel:
    """The chord (or tangent) model as arrays: columns for the positive-width segments of the open cells only (then a
    funded flag per bid where bids are chosen, then the max-min level), rows as one sparse matrix with bounds.

    Built without a loop over cells or segments: each family's rows are concatenated and expanded to their cells'
    columns in one pass, so a national model (tens of thousands of areas) builds in a fraction of a second."""

    request: AllocationRequest
    shape: tuple[int, int]
    cells: np.ndarray
    column_cell: np.ndarray
    column_width: np.ndarray
    column_slope: np.ndarray
    money: float
    value: float
    flag_bids: np.ndarray
    level: int | None
    cost: np.ndarray
    upper: np.ndarray
    integrality: np.ndarray
    matrix: ColumnWise
    row_lower: np.ndarray
    row_upper: np.ndarray
    row_family: list
    bids_funded_row: int | None = None

    @property
    def columns(self) -> int:
        """Segment columns (the money)."""
        return len(self.column_cell)

    def solve(self) -> ArraySolution | None:
        """The optimum by HiGHS (column values, row duals for a linear program only, the objective); None where the
        rules cannot all be met.

        Where the max-min goal asks as many bids funded as the rules allow and that clashes with other rules, it asks
        at least one, then any, as the PuLP path does."""
        for fewer in (None, 1.0, 0.0):
            if fewer is not None:
                if self.bids_funded_row is None:
                    break
                self.row_lower[self.bids_funded_row] = fewer
            solved = solve_arrays(self.cost, self.matrix, self.row_lower, self.row_upper, self.upper, self.integrality)
            if solved.status == "optimal":
                return solved
        return None

    def amounts(self, values: np.ndarray | None) -> np.ndarray:
        """£ per area × intervention from column values (nothing where the model had no solution); a bid whose flag
        is off gets nothing."""
        amounts = np.zeros(self.shape)
        if values is None or not len(self.cells):
            return amounts
        money = np.clip(values[: self.columns], 0.0, None) * self.money
        flat = np.zeros(self.shape[0] * self.shape[1])
        np.add.at(flat, self.cells[self.column_cell], money)
        amounts = flat.reshape(self.shape)
        if len(self.flag_bids):
            off = self.flag_bids[values[self.columns : self.columns + len(self.flag_bids)] < 0.5]
            amounts[np.isin(self.request.bids(), off)] = 0.0
        return amounts

    def model_value(self, values: np.ndarray) -> float:
        """Harm averted on the model's own segments (days)."""
        return float(np.clip(values[: self.columns], 0.0, None) @ (self.column_slope * self.money))


def array_model(request: AllocationRequest, segments: int, kind: str = "chords", fixed_bids: np.ndarray | None = None) -> ArrayModel | None:
    """The chord (or with `kind` = "tangents", tangent) model of `request` as arrays (`ArrayModel`); None when no cell
    can receive money. `fixed_bids` fixes the funded bids (no flags)."""
    usable = request.open_cells()
    if fixed_bids is not None:
        usable = usable & np.asarray(fixed_bids, dtype=bool)[request.bids()][:, None]
    shape = usable.shape
    cells = np.flatnonzero(usable.ravel())
    if not len(cells):
        return None
    width, slope = cell_segments(request, cells, segments, kind)
    keep = width > 0
    column_cell, column_segment = np.nonzero(keep)
    column_width, column_slope = width[keep], slope[keep]
    money = float(min(MODEL_MONEY_GBP, np.min(request.cell_caps_gbp.ravel()[cells])))
    value = float(column_slope.max(initial=0.0)) * money or 1.0
    position = np.full(usable.size, -1)
    position[cells] = np.arange(len(cells))
    starts = np.searchsorted(column_cell, np.arange(len(cells) + 1))
    columns = len(column_cell)
    flag_bids = np.flatnonzero(request.fundable_bids()) if request.needs_binaries and fixed_bids is None else np.zeros(0, dtype=int)
    flag_column = np.full(request.bid_count, -1)
    flag_column[flag_bids] = columns + np.arange(len(flag_bids))
    level = columns + len(flag_bids) if request.goal in ("maxmin", "blend") else None
    total = columns + len(flag_bids) + (level is not None)
    fixed = None if fixed_bids is None else np.asarray(fixed_bids, dtype=float)
    entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    lower, upper, row_family = [], [], []
    count = 0

    def expand(row_of_cell: np.ndarray, flat_cells: np.ndarray, coefs: np.ndarray):
        """Entries (row, column, coefficient) for rows over cells: each cell's coefficient on each of its columns."""
        at = position[flat_cells]
        present = at >= 0
        row_of_cell, at, coefs = row_of_cell[present], at[present], coefs[present]
        lengths = starts[at + 1] - starts[at]
        rows = np.repeat(row_of_cell, lengths)
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return rows, np.repeat(starts[at], lengths) + offsets, np.repeat(coefs, lengths)

    for family in request.families():
        rows = family.rows
        if not rows:
            continue
        lengths = np.array([len(row.cells) for row in rows])
        row_ids = count + np.repeat(np.arange(len(rows)), lengths)
        flat_cells = np.concatenate([row.cells for row in rows]).astype(int)
        coefs = np.concatenate([row.coefs for row in rows]).astype(float) * money
        entries.append(expand(row_ids, flat_cells, coefs))
        for index, row in enumerate(rows):
            constant = 0.0
            flag_rows, flag_cols, flag_coefs = [], [], []
            for bid, coef in zip(row.flags, row.flag_coefs):
                if fixed is not None:
                    constant += float(coef) * fixed[bid]
                elif flag_column[bid] >= 0:
                    flag_rows.append(count + index)
                    flag_cols.append(flag_column[bid])
                    flag_coefs.append(float(coef))
                else:
                    constant += float(coef)
            if flag_rows:
                entries.append((np.array(flag_rows), np.array(flag_cols), np.array(flag_coefs)))
            rhs = row.rhs - constant
            lower.append(-np.inf if row.sense == "<=" else rhs)
            upper.append(rhs if row.sense == "<=" else np.inf)
            row_family.append((family.key, index))
        count += len(rows)
    bids_funded_row = None
    if len(flag_bids):
        # y[a,i,s] ≤ width × z[b(a)]: implied by the bid's cap, but a much tighter relaxation (`_add_segment_links`).
        column_bid = request.bids()[cells[column_cell] // shape[1]]
        linked = np.flatnonzero(flag_column[column_bid] >= 0)
        link_rows = count + np.arange(len(linked))
        entries.append((link_rows, linked, np.ones(len(linked))))
        entries.append((link_rows, flag_column[column_bid[linked]], -column_width[linked] / money))
        lower.extend([-np.inf] * len(linked))
        upper.extend([0.0] * len(linked))
        row_family.extend([("link", int(column)) for column in linked])
        count += len(linked)
    gain = column_slope * money
    if level is not None:
        harm = request.area_harm()
        most = _most_level(request)
        column_area = cells[column_cell] // shape[1]
        # An area with no column (its bid cannot be funded) has no row, as in the PuLP model.
        served = np.flatnonzero(request.served_areas() & (np.bincount(column_area, minlength=shape[0]) > 0))
        area_row = np.full(shape[0], -1)
        area_row[served] = count + np.arange(len(served))
        in_served = area_row[column_area] >= 0
        entries.append((area_row[column_area[in_served]], np.flatnonzero(in_served), gain[in_served]))
        entries.append((area_row[served], np.full(len(served), level), -harm[served]))
        flagged = flag_column[request.bids()[served]]
        with_flag = flagged >= 0
        entries.append((area_row[served][with_flag], flagged[with_flag], -harm[served][with_flag] * most))
        lower.extend(np.where(with_flag, -harm[served] * most, 0.0).tolist())
        upper.extend([np.inf] * len(served))
        row_family.extend([("level", int(area)) for area in served])
        count += len(served)
        if len(flag_bids):
            bids_funded_row = count
            entries.append((np.full(len(flag_bids), count), flag_column[flag_bids], np.ones(len(flag_bids))))
            lower.append(float(_bids_to_fund(request, len(flag_bids))))
            upper.append(np.inf)
            row_family.append(("bids_funded", 0))
            count += 1
    if request.goal == "least_cost":
        entries.append((np.full(columns, count), np.arange(columns), gain))
        lower.append(request.target_harm_days)
        upper.append(np.inf)
        row_family.append(("target", 0))
        count += 1
    cost = np.zeros(total)
    if request.goal == "least_cost":
        cost[:columns] = 1.0
    elif request.goal == "harm":
        cost[:columns] = -gain / value
    elif request.goal == "maxmin":
        cost[:columns] = -gain / value * 1e-6
        cost[level] = -1.0
    else:
        cost[:columns] = -(1 - request.blend_weight) * gain / value
        cost[level] = -request.blend_weight * served_harm(request) / value
    bounds = np.concatenate([column_width / money, np.ones(len(flag_bids)), [_most_level(request)] if level is not None else []])
    integrality = np.concatenate([np.zeros(columns), np.ones(len(flag_bids)), np.zeros(int(level is not None))])
    if entries:
        rows = np.concatenate([entry[0] for entry in entries])
        cols = np.concatenate([entry[1] for entry in entries])
        data = np.concatenate([entry[2] for entry in entries])
    else:
        rows, cols, data = np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    matrix = column_wise(rows, cols, data, (count, total))
    return ArrayModel(
        request,
        shape,
        cells,
        column_cell,
        column_width,
        column_slope,
        money,
        value,
        flag_bids,
        level,
        cost,
        bounds,
        integrality,
        matrix,
        np.array(lower, dtype=float),
        np.array(upper, dtype=float),
        row_family,
        bids_funded_row,
    )


@dataclass(frozen=True)
class ColumnWise:
    """A sparse matrix column by column, as HiGHS takes it: column j's row numbers, ascending, are
    `index[start[j] : start[j + 1]]` and its coefficients `value` at the same places."""

    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    shape: tuple[int, int]


def column_wise(rows: np.ndarray, columns: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> ColumnWise:
    """The matrix of `shape` with `values` at (`rows`, `columns`): entries ordered by column then row by one stable sort
    of their flat position, those at the same place summed in the order given, explicit zeros kept (as scipy.sparse
    builds it, without loading scipy)."""
    height, width = shape
    rows, columns = np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)
    values = np.asarray(values, dtype=float)
    if not len(rows) == len(columns) == len(values):
        raise InternalError("a matrix's rows, columns and values differ in length")
    if len(rows) and (rows.min() < 0 or rows.max() >= height or columns.min() < 0 or columns.max() >= width):
        raise InternalError(f"a matrix entry lies outside its {height} × {width} shape")
    position = columns * height + rows
    order = np.argsort(position, kind="stable")
    position, values = position[order], values[order]
    first = np.flatnonzero(np.diff(position, prepend=-1))
    if len(first) < len(position):
        position, values = position[first], np.add.reduceat(values, first)
    start = np.searchsorted(position, np.arange(width + 1) * height)
    return ColumnWise(start.astype(np.int32), (position % max(height, 1)).astype(np.int32), values, (height, width))


@dataclass(frozen=True)
class ArraySolution:
    """What HiGHS found for a model handed to it as arrays (minimised).

    `status` is "optimal", "time limit" (a MIP stopped with a plan, short of its gap), or HiGHS's
    words for why there is no plan, when `values` is None. `duals` are the row duals of a linear
    program (None for a MIP); `bound` is the least objective HiGHS proved possible: a MIP's dual
    bound (its objective where that is not finite), a linear program's objective."""

    status: str
    values: np.ndarray | None
    duals: np.ndarray | None
    objective: float
    bound: float


def solve_arrays(
    cost: np.ndarray,
    matrix: ColumnWise,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    upper: np.ndarray,
    integrality: np.ndarray,
    lower: np.ndarray | None = None,
    gap: float = MIP_GAP,
    seconds: float | None = None,
) -> ArraySolution:
    """Minimise cost · x over lower ≤ x ≤ upper (lower 0 unless given), row_lower ≤ A x ≤ row_upper, integer where
    `integrality`, handing HiGHS the arrays directly; a MIP stops within relative `gap` of its bound, or after
    `seconds` with its best plan so far."""
    import highspy

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", gap)
    if seconds is not None:
        highs.setOptionValue("time_limit", float(seconds))
    mip = bool(np.any(integrality))
    passed = highs.passModel(
        len(cost),
        matrix.shape[0],
        len(matrix.value),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        np.asarray(cost, dtype=float),
        np.zeros(len(cost)) if lower is None else np.asarray(lower, dtype=float),
        np.asarray(upper, dtype=float),
        np.asarray(row_lower, dtype=float),
        np.asarray(row_upper, dtype=float),
        matrix.start,
        matrix.index,
        matrix.value,
        np.asarray(integrality, dtype=bool).astype(np.int32),
    )
    if passed == highspy.HighsStatus.kError:
        raise InternalError("HiGHS refused the model's arrays")
    highs.run()
    status, info = highs.getModelStatus(), highs.getInfo()
    objective = float(info.objective_function_value)
    if status == highspy.HighsModelStatus.kOptimal:
        words = "optimal"
    elif mip and status == highspy.HighsModelStatus.kTimeLimit and objective < highspy.kHighsInf:
        words = "time limit"
    else:
        return ArraySolution(highs.modelStatusToString(status), None, None, objective, objective)
    solution = highs.getSolution()
    bound = float(info.mip_dual_bound) if mip else objective
    return ArraySolution(
        words,
        np.array(solution.col_value),
        None if mip else np.array(solution.row_dual),
        objective,
        bound if np.isfinite(bound) else objective,
    )


def cell_segments(request: AllocationRequest, cells: np.ndarray, segments: int, kind: str = "chords") -> tuple[np.ndarray, np.ndarray]:
    """Widths (£) and slopes (days per £) of the chords (or tangents) of the given flat cells only (cells × segments):
    `breakpoints` and `chords` / `tangents` without computing the curves of cells that can never be funded."""
    scale = request.curves.scale.values.ravel()[cells]
    ceiling = request.curves.ceilings().ravel()[cells]
    span = request.cell_caps_gbp.ravel()[cells] / scale
    steps = np.linspace(0.0, 1.0, segments + 1)
    reach = -np.expm1(-span / 2.0)
    units = -2.0 * np.log1p(-np.minimum(steps[None, :] * reach[:, None], 1.0 - 1e-12))
    units[:, -1] = span
    units = np.minimum(units, span[:, None])
    points = units * scale[:, None]
    values = ceiling[:, None] * -np.expm1(-points / scale[:, None])
    if kind == "chords":
        widths = np.diff(points, axis=1)
        return widths, np.divide(np.diff(values, axis=1), widths, out=np.zeros_like(widths), where=widths > 0)
    slope_at = ceiling[:, None] / scale[:, None] * np.exp(-points / scale[:, None])
    left, right = slope_at[:, :-1], slope_at[:, 1:]
    meet = np.divide(
        values[:, 1:] - values[:, :-1] + left * points[:, :-1] - right * points[:, 1:],
        left - right,
        out=0.5 * (points[:, :-1] + points[:, 1:]),
        where=left - right > 1e-300,
    )
    meet = np.clip(meet, points[:, :-1], points[:, 1:])
    ends = np.concatenate([np.zeros((len(cells), 1)), meet, points[:, -1:]], axis=1)
    return np.diff(ends, axis=1), slope_at


def breakpoints(request: AllocationRequest, segments: int) -> np.ndarray:
    """Breakpoints (£, area × intervention × segments + 1) of each cell's curve on [0, its cap], placed where it bends.

    In units of the cell's cost scale s, g_k = −2·ln(1 − (k/K)·(1 − exp(−U/2))) for U = cap ÷ s: the chord error
    A·exp(g)·(Δg)²/8 ≈ A·(Δ e^(−g/2))²/2 is then the same on every chord."""
    scale = request.curves.scale.values
    span = request.cell_caps_gbp / scale
    steps = np.linspace(0.0, 1.0, segments + 1)
    reach = -np.expm1(-span / 2.0)
    units = -2.0 * np.log1p(-np.minimum(steps[None, None, :] * reach[:, :, None], 1.0 - 1e-12))
    units[:, :, -1] = span
    units = np.minimum(units, span[:, :, None])
    return units * scale[:, :, None]


def chords(request: AllocationRequest, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widths (£) and slopes (days per £) of the chords between breakpoints: under the curve, slopes falling."""
    values = _curve_values(request, points)
    widths = np.diff(points, axis=2)
    slopes = np.divide(np.diff(values, axis=2), widths, out=np.zeros_like(widths), where=widths > 0)
    return widths, slopes


def tangents(request: AllocationRequest, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widths (£) and slopes (days per £) of the tangents' envelope: over the curve, one segment per breakpoint.

    The tangent at b_k holds from where it meets the tangent at b_(k−1) to where it meets the one at b_(k+1)."""
    values = _curve_values(request, points)
    slope_at = (
        request.curves.ceilings()[:, :, None]
        / request.curves.scale.values[:, :, None]
        * np.exp(-points / request.curves.scale.values[:, :, None])
    )
    left, right = slope_at[:, :, :-1], slope_at[:, :, 1:]
    meet = np.divide(
        values[:, :, 1:] - values[:, :, :-1] + left * points[:, :, :-1] - right * points[:, :, 1:],
        left - right,
        out=0.5 * (points[:, :, :-1] + points[:, :, 1:]),
        where=left - right > 1e-300,
    )
    meet = np.clip(meet, points[:, :, :-1], points[:, :, 1:])
    ends = np.concatenate([np.zeros((*points.shape[:2], 1)), meet, points[:, :, -1:]], axis=2)
    return np.diff(ends, axis=2), slope_at


def _curve_values(request: AllocationRequest, points: np.ndarray) -> np.ndarray:
    curves = request.curves
    return curves.ceilings()[:, :, None] * -np.expm1(-points / curves.scale.values[:, :, None])


def relative_gap(request: AllocationRequest, value: float, bound: float) -> float:
    if request.goal == "least_cost":
        return max(value - bound, 0.0) / value if value > 0 else 0.0
    return max(bound - value, 0.0) / abs(bound) if bound else 0.0


def goal_value(request: AllocationRequest, amounts: np.ndarray) -> float:
    """The request's goal on the exact curves for `amounts`: harm days, the worst served ratio, the blend, or £."""
    if request.goal == "least_cost":
        return float(amounts.sum())
    averted = request.curves.averted(amounts)
    if request.goal == "harm":
        return float(averted.sum())
    ratio = _worst_ratio(request, amounts, averted)
    if request.goal == "maxmin":
        return ratio
    return (1 - request.blend_weight) * float(averted.sum()) + request.blend_weight * served_harm(request) * ratio


def _worst_ratio(request: AllocationRequest, amounts: np.ndarray, averted: np.ndarray) -> float:
    """The least harm averted per day of basket harm over the served areas of the funded bids."""
    served = request.served_areas() & request.funded_bids(amounts)[request.bids()] if request.needs_binaries else request.served_areas()
    if not served.any():
        return 0.0
    return float(np.min(averted.sum(axis=1)[served] / request.area_harm()[served]))


def served_harm(request: AllocationRequest) -> float:
    return float(request.area_harm()[request.served_areas()].sum())


def check_installed(name: str) -> None:
    """Raise `pulp_solver`'s ConfigError when solver `name` is unknown or not installed, importing PuLP only where it
    alone can tell: HiGHS is there when highspy can be imported, CBC when cbcbox ships its binary, else when PuLP's
    own bundled CBC runs. A run that never builds a PuLP model then never pays for loading PuLP."""
    if name == "highs":
        if importlib.util.find_spec("highspy") is None:
            raise _not_installed(name)
    elif name == "cbc":
        if _cbc_path() is None:
            pulp_solver(name)
    else:
        raise _unknown_solver(name)


def pulp_solver(name: str, mip: bool = True):
    import pulp

    if name == "highs":
        solver = pulp.HiGHS(msg=False, mip=mip, gapRel=MIP_GAP)
        if not solver.available():
            raise _not_installed(name)
        return solver
    if name == "cbc":
        path = _cbc_path()
        if path:
            return pulp.COIN_CMD(msg=False, path=path, mip=mip, gapRel=MIP_GAP)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            bundled = pulp.PULP_CBC_CMD(msg=False, mip=mip, gapRel=MIP_GAP)
        if bundled.available():
            return bundled
        raise _not_installed(name)
    raise _unknown_solver(name)


def _not_installed(name: str) -> ConfigError:
    """The error for a known solver missing from this machine, with how to install it or which to use instead."""
    if name == "highs":
        return ConfigError(
            "the HiGHS solver is not installed",
            key="allocation.solver",
            got=name,
            hint="pip install 'pulp[highs]<4', or use --set allocation.solver=\"cbc\"",
        )
    return ConfigError(
        "the CBC solver is not installed",
        key="allocation.solver",
        got=name,
        hint='pip install cbcbox, or use --set allocation.solver="highs"',
    )


def _unknown_solver(name: str) -> ConfigError:
    """The error for a solver name the allocator does not know."""
    return ConfigError(
        "unknown solver", key="allocation.solver", got=name, expected="highs or cbc (or greedy, which needs no linear program)"
    )


def _cbc_path() -> str | None:
    """The CBC binary shipped by the cbcbox package, if installed."""
    try:
        import cbcbox
    except ImportError:
        return None
    path = os.path.join(cbcbox.cbc_dist_dir(), "bin", "cbc")
    return path if os.access(path, os.X_OK) else None


@dataclass
class _Model:
    """A built PuLP problem: its segment variables per usable cell, funded flags per bid, the max-min level, the rows
    of each family (to read their prices) and the units it counts in."""

    problem: object
    cells: dict
    flags: dict
    level: object
    rows: dict
    money_gbp: float
    value_days: float
    slopes: dict
    slacks: dict
    bids_funded: object = None
    """The max-min goal's row asking as many bids funded as the rules allow, while it still asks that many."""


def solve_models(request: AllocationRequest, solver: str, segments: int, fixed_bids, certify: bool, prices_wanted: bool = True):
    """Solve the chord model for a solution and (with `certify`) the tangent model for the bound, at `segments` chords."""
    points = breakpoints(request, segments)
    widths, slopes = chords(request, points)
    amounts, funded, prices, value = _solve_one(request, solver, widths, slopes, fixed_bids, prices_wanted=prices_wanted)
    if not certify:
        return amounts, funded, prices, None
    upper_widths, upper_slopes = tangents(request, points)
    _, _, _, bound = _solve_one(request, solver, upper_widths, upper_slopes, fixed_bids, prices_wanted=False)
    if request.needs_binaries and fixed_bids is None:
        bound = bound / (1 + MIP_GAP) if request.goal == "least_cost" else bound * (1 + MIP_GAP)
    exact = goal_value(request, amounts)
    bound = min(bound, exact) if request.goal == "least_cost" else max(bound, exact)
    method = "mixed-integer program" if request.needs_binaries and fixed_bids is None else "linear program"
    return (
        amounts,
        funded,
        prices,
        Certificate(request.goal, exact, bound, relative_gap(request, exact, bound), f"{method} between chords and tangents", segments),
    )


def _solve_one(request: AllocationRequest, solver: str, widths, slopes, fixed_bids, prices_wanted: bool):
    """One piecewise-linear model solved (two stages for max-min): amounts, funded bids, row prices, and the goal's
    value on that model's segments (the bound, for the tangent model)."""
    import pulp

    model = _build(request, widths, slopes, fixed_bids, pulp)
    _run(model, request, solver, mip=bool(model.flags))
    value = _model_goal(model, request)
    if request.goal == "maxmin":
        level = float(model.level.value() or 0.0)
        model.problem += model.level >= level * (1 - 1e-7), "keep_level"
        model.problem.setObjective(_harm_expression(model, pulp))
        model.problem.sense = pulp.LpMaximize
        _run(model, request, solver, mip=bool(model.flags))
    amounts = _amounts(request, model)
    if model.flags:
        funded = np.zeros(request.bid_count, dtype=bool)
        funded[[bid for bid, flag in model.flags.items() if (flag.value() or 0.0) > 0.5]] = True
        # A flag within the solver's integrality tolerance of 0 can leave its bid a few pence: that bid is not funded.
        amounts[~funded[request.bids()]] = 0.0
    else:
        funded = request.funded_bids(amounts) if fixed_bids is None else np.asarray(fixed_bids, dtype=bool)
    prices = ()
    if prices_wanted and request.goal != "least_cost":
        prices = _duals(request, model, solver, funded, pulp)
    return amounts, funded, prices, value


def _run(model: _Model, request: AllocationRequest, solver: str, mip: bool) -> None:
    import pulp

    code = model.problem.solve(pulp_solver(solver, mip=mip))
    status = solver_status(pulp.LpStatus[code])
    for fewer in (1, 0):
        if status not in (SolveStatus.INFEASIBLE, SolveStatus.UNDEFINED) or model.bids_funded is None:
            break
        # Funding as many bids as the rules allow can clash with other rules (caps, shares): then at least one, then any.
        model.bids_funded.changeRHS(fewer)
        code = model.problem.solve(pulp_solver(solver, mip=mip))
        status = solver_status(pulp.LpStatus[code])
    if status in (SolveStatus.INFEASIBLE, SolveStatus.UNDEFINED):
        # CBC reports some infeasible linear programs as "Undefined": the diagnosis decides, and says so if it finds none.
        error = infeasible(request, solver)
        if error is None:
            raise InternalError(f"the allocation problem should be solvable but {solver} says {status}")
        raise error
    if status is not SolveStatus.OPTIMAL:
        raise InternalError(f"the allocation problem should be solvable but {solver} says {status}")


def _model_goal(model: _Model, request: AllocationRequest) -> float:
    """The goal's value on the model's own segments, in its natural unit."""
    money = model.money_gbp
    if request.goal == "least_cost":
        return money * sum(max(v.value() or 0.0, 0.0) for variables in model.cells.values() for v in variables)
    harm = sum(
        model.slopes[key][k] * money * max(v.value() or 0.0, 0.0) for key, variables in model.cells.items() for k, v in enumerate(variables)
    )
    if request.goal == "harm":
        return float(harm)
    level = float(model.level.value() or 0.0)
    if request.goal == "maxmin":
        return level
    return (1 - request.blend_weight) * float(harm) + request.blend_weight * served_harm(request) * level


def _amounts(request: AllocationRequest, model: _Model) -> np.ndarray:
    amounts = np.zeros(request.curves.targeted_harm.values.shape)
    for (area, item), variables in model.cells.items():
        amounts[area, item] = model.money_gbp * sum(max(v.value() or 0.0, 0.0) for v in variables)
    return amounts


def _harm_expression(model: _Model, pulp):
    return pulp.LpAffineExpression(
        [
            (v, model.slopes[key][k] * model.money_gbp / model.value_days)
            for key, variables in model.cells.items()
            for k, v in enumerate(variables)
        ]
    )


def _build(request: AllocationRequest, widths: np.ndarray, slopes: np.ndarray, fixed_bids, pulp, elastic: bool = False) -> _Model:
    """The model over usable cells: one variable per segment, a funded flag per bid where bids are chosen, a level for
    the max-min goal, and every family's rows.

    Money is counted in £1,000s (less when a cell's cap is smaller) and harm in units of one unit of money at the
    steepest slope, so coefficients lie near 1 and the solvers' absolute tolerances act relative to the problem."""
    sense = pulp.LpMinimize if request.goal == "least_cost" else pulp.LpMaximize
    problem = pulp.LpProblem("safer_streets_allocation", sense)
    usable = request.open_cells()
    if fixed_bids is not None:
        usable = usable & np.asarray(fixed_bids, dtype=bool)[request.bids()][:, None]
    money = float(min(MODEL_MONEY_GBP, np.min(request.cell_caps_gbp[usable], initial=MODEL_MONEY_GBP)))
    steepest = float(np.max(np.where(usable[:, :, None], slopes, 0.0), initial=0.0)) or 1.0
    value = steepest * money
    items = usable.shape[1]
    cells, cell_slopes = {}, {}
    for area, item in zip(*np.nonzero(usable)):
        key = (int(area), int(item))
        cells[key] = [
            problem.add_variable(f"y_{area}_{item}_{k}", 0, float(widths[area, item, k]) / money)
            for k in range(widths.shape[2])
            if widths[area, item, k] > 0
        ]
        cell_slopes[key] = [float(slopes[area, item, k]) for k in range(widths.shape[2]) if widths[area, item, k] > 0]
    flags = {}
    if request.needs_binaries and fixed_bids is None:
        flags = {
            int(bid): problem.add_variable(f"funded_{bid}", 0, 1, cat=pulp.LpBinary) for bid in np.flatnonzero(request.fundable_bids())
        }
    level = None
    if request.goal in ("maxmin", "blend"):
        level = problem.add_variable("level", 0, _most_level(request))
    model = _Model(problem, cells, flags, level, {}, money, value, cell_slopes, {})
    _set_objective(model, request, pulp)
    by_flat = {area * items + item: variables for (area, item), variables in cells.items()}
    fixed = None if fixed_bids is None else np.asarray(fixed_bids, dtype=float)
    for family in request.families():
        for index, row in enumerate(family.rows):
            terms = [(v, coef) for cell, coef in zip(row.cells, row.coefs) for v in by_flat.get(int(cell), ())]
            rhs = row.rhs
            flag_terms = []
            for bid, coef in zip(row.flags, row.flag_coefs):
                if fixed is not None or not flags:
                    rhs -= coef * (fixed[bid] if fixed is not None else 1.0)
                elif int(bid) in flags:
                    flag_terms.append((flags[int(bid)], coef / (money if len(row.cells) else 1.0)))
            scale = money if len(row.cells) else 1.0
            if not terms and not flag_terms:
                continue
            expression = pulp.LpAffineExpression(terms + flag_terms)
            name = f"{family.key}_{index}"
            if elastic and family.demanding:
                relief = problem.add_variable(f"short_{name}", 0, None)
                expression += relief
                model.slacks[(family.key, index)] = (relief, scale)
            constraint = expression <= rhs / scale if row.sense == "<=" else expression >= rhs / scale
            problem.addConstraint(constraint, name)
            model.rows[(family.key, index)] = (constraint, scale, family)
    _add_segment_links(model, request)
    _add_goal_rows(model, request, pulp, elastic)
    if elastic:
        model.problem.sense = pulp.LpMinimize
        model.problem.setObjective(pulp.LpAffineExpression([(variable, 1.0) for variable, _ in model.slacks.values()]))
    return model


def _bids_to_fund(request: AllocationRequest, fundable: int) -> int:
    """How many bids the max-min and blend goals fund where bids are switched on and off: as many as the rules allow."""
    return max(min(request.most_bids(), fundable), 1)


def _most_level(request: AllocationRequest) -> float:
    """The highest harm averted per day of basket harm any served area could reach (the max-min level's bound)."""
    served = request.served_areas()
    ceilings = request.curves.ceilings().sum(axis=1)
    return float(np.max(ceilings[served] / request.area_harm()[served], initial=0.0))


def _set_objective(model: _Model, request: AllocationRequest, pulp) -> None:
    if request.goal == "least_cost":
        model.problem.setObjective(pulp.LpAffineExpression([(v, 1.0) for variables in model.cells.values() for v in variables]))
        return
    harm = _harm_expression(model, pulp)
    if request.goal == "harm":
        model.problem.setObjective(harm)
    elif request.goal == "maxmin":
        model.problem.setObjective(pulp.LpAffineExpression([(model.level, 1.0)]))
    else:
        weight = request.blend_weight
        model.problem.setObjective((1 - weight) * harm + weight * served_harm(request) / model.value_days * model.level)


def _add_segment_links(model: _Model, request: AllocationRequest) -> None:
    """y[a,i,s] ≤ width[a,i,s] × z[b(a)]: implied by the bid's cap, but a much tighter relaxation of the MIP.

    With only Σ x ≤ cap × z, the relaxation can fund every bid a little with z ≈ x ÷ cap; linking each segment to its
    bid's flag makes a fractional z pay for the steep first segments too (benchmarks/bench_allocation.py)."""
    if not model.flags:
        return
    bids = request.bids()
    for (area, _), variables in model.cells.items():
        flag = model.flags[int(bids[area])]
        for variable in variables:
            model.problem += variable - variable.upBound * flag <= 0


def _add_goal_rows(model: _Model, request: AllocationRequest, pulp, elastic: bool = False) -> None:
    """The max-min level under every served area's ratio (released for unfunded bids), and the least-cost target."""
    money, value = model.money_gbp, model.value_days
    if request.goal in ("maxmin", "blend"):
        harm = request.area_harm()
        bids = request.bids()
        most = _most_level(request)
        for area in np.flatnonzero(request.served_areas()):
            terms = [
                (v, model.slopes[key][k] * money / value)
                for key, variables in model.cells.items()
                if key[0] == area
                for k, v in enumerate(variables)
            ]
            if not terms:
                continue
            expression = pulp.LpAffineExpression(terms) - harm[area] / value * model.level
            flag = model.flags.get(int(bids[area]))
            if flag is not None:
                expression += harm[area] / value * most * (1 - flag)
            model.problem += expression >= 0, f"level_{area}"
        if model.flags and not elastic:
            # The level counts only funded bids' areas, so it would rise by funding fewer bids (with none, it is free):
            # as many bids are funded as the rules allow (at least one where other rules forbid that many), and the
            # level is raised among them.
            row = pulp.lpSum(model.flags.values()) >= _bids_to_fund(request, len(model.flags))
            model.problem.addConstraint(row, "bids_funded")
            model.bids_funded = row
    if request.goal == "least_cost":
        terms = [(v, model.slopes[key][k] * money / value) for key, variables in model.cells.items() for k, v in enumerate(variables)]
        expression = pulp.LpAffineExpression(terms)
        if elastic:
            relief = model.problem.add_variable("short_target", 0, None)
            expression += relief
            model.slacks[("target", 0)] = (relief, value)
        model.problem += expression >= request.target_harm_days / value, "target"


def _duals(request: AllocationRequest, model: _Model, solver: str, funded: np.ndarray, pulp) -> tuple[RowPrice, ...]:
    """Each binding row's shadow price (harm days per unit of its limit), read from the LP with the funded bids fixed.

    For a MIP the flags are fixed at the chosen bids and the LP solved again, so the prices are conditional on the
    bids. The goal's objective is in units of `value_days`, so a dual times value ÷ scale is days per £."""
    if request.goal in ("maxmin", "least_cost"):
        return ()
    if model.flags:
        for bid, flag in model.flags.items():
            flag.lowBound = flag.upBound = float(funded[bid])
            flag.cat = pulp.LpContinuous
        _run(model, request, solver, mip=False)
    merged = {}
    floors_per_budget = 0.0
    for (key, index), (constraint, scale, family) in model.rows.items():
        dual = constraint.pi
        if dual is None or abs(dual) < 1e-12:
            continue
        row = family.rows[index]
        if row.bid >= 0 and not funded[row.bid]:
            continue
        if key == "equity_floor":
            # Each floor is f·B·w[b]: one more £ of budget raises it by floor ÷ B, which costs the floor's price.
            floors_per_budget -= abs(dual) * model.value_days / scale * row.rhs / request.budget_gbp
        per_unit = abs(dual) * model.value_days / scale * family.rows[index].per_unit
        if family.key.startswith("share_"):
            per_unit *= float(_amounts(request, model).sum())
        if family.rows[index].sense == ">=":
            per_unit = -per_unit
        if family.one_limit and (key, 0) in merged:
            merged[(key, 0)] = dataclasses.replace(merged[(key, 0)], price=merged[(key, 0)].price + per_unit)
            continue
        merged[(key, 0 if family.one_limit else index)] = RowPrice(
            key, 0 if family.one_limit else index, family.rows[index].words, per_unit, family.unit
        )
    if floors_per_budget and ("budget", 0) in merged:
        merged[("budget", 0)] = dataclasses.replace(merged[("budget", 0)], price=merged[("budget", 0)].price + floors_per_budget)
    elif floors_per_budget:
        # The budget does not bind (a force cap or match funding does), but the floors still grow with it.
        budget = next(family for family in request.families() if family.key == "budget")
        merged[("budget", 0)] = RowPrice("budget", 0, budget.rows[0].words, floors_per_budget, "£")
    return tuple(merged.values())


def infeasible(request: AllocationRequest, solver: str = "highs") -> InfeasibleError | None:
    """Why the rules cannot all hold, in one sentence (None when they can after all).

    Conflicts a planner can read off the figures are named first: an equity floor above a bid's cap, floors needing more
    bids or more money than the bid limit, the minimum grant and the money allow, floors where nothing can be funded.
    Otherwise every row of a demanding family (equity floors, least intervention shares) and the least-cost target gets a
    slack variable and the model minimises the total slack: the families left with slack are the ones the other rules
    cannot satisfy, the limits binding in that solution the ones they conflict with, and the slack is by how much."""
    import pulp

    plain = plain_conflict(request)
    if plain is not None:
        return plain

    points = breakpoints(request, min(request.segments, 16))
    widths, slopes = chords(request, points)
    model = _build(request, widths, slopes, None, pulp, elastic=True)
    code = model.problem.solve(pulp_solver(solver, mip=bool(model.flags)))
    if solver_status(pulp.LpStatus[code]) is not SolveStatus.OPTIMAL:
        raise InternalError(f"the relaxed allocation problem should always be solvable but {solver} says {pulp.LpStatus[code]}")
    short = {}
    for (key, _), (variable, scale) in model.slacks.items():
        short[key] = short.get(key, 0.0) + max(variable.value() or 0.0, 0.0) * scale
    short = {key: amount for key, amount in short.items() if amount > max(request.slack_gbp, 1e-6)}
    if not short:
        return None
    key, amount = max(short.items(), key=lambda item: item[1])
    amounts = _amounts(request, model)
    funded = np.zeros(request.bid_count, dtype=bool)
    funded[[bid for bid, flag in model.flags.items() if (flag.value() or 0.0) > 0.5]] = True
    if not model.flags:
        funded = request.funded_bids(amounts)
    limits = _binding_limits(request, amounts, funded)
    families = {family.key: family for family in request.families()}
    if key == "target":
        need = f"the target of {days_words(request.target_harm_days)} harm days"
        gap_words = f"{amount:,.0f} harm days"
        config_key, hint = "allocation.target_harm_days", "lower the target, or raise the budget"
    else:
        family = families[key]
        need = _need_words(request, family)
        gap_words = gbp(round(amount))
        config_key, hint = family.config_key, f"lower {family.config_key}, or relax {limits[0][1] if limits else 'the other rules'}"
    against = " and ".join(words for words, _ in limits[:2]) or "the other rules"
    subject = "it falls" if key == "target" else "they fall"
    return InfeasibleError(
        f"the rules cannot all be met: {need}; with {against}, {subject} short by {gap_words}",
        key=config_key,
        hint=hint,
    )


def plain_conflict(request: AllocationRequest) -> InfeasibleError | None:
    """A conflict of the equity floors with one other rule that the figures show directly, in one sentence."""
    floors = request.equity_floors_gbp()
    floored = np.flatnonzero(floors > 0)
    if not len(floored):
        return None
    hint = "lower allocation.equity_floor"
    nothing = request.nothing_fundable()
    if nothing:
        return InfeasibleError(
            f"the rules cannot all be met: equity floors need {gbp(round(floors.sum()))}, but {nothing}",
            key="allocation.equity_floor",
            hint=hint + ", or set it to 0",
        )
    caps = request.bid_caps()
    over = [bid for bid in floored if floors[bid] > caps[bid] + request.slack_gbp]
    if over:
        bid = over[0]
        grant = request.max_grant_gbp if request.grant_caps_gbp is None else float(request.grant_caps_gbp[bid])
        limit = (
            f"its {gbp(round(grant))} grant cap"
            if caps[bid] >= grant - request.slack_gbp
            else f"the {gbp(round(caps[bid]))} of grant its {gbp(request.local_match_gbp[bid])} of local match funding allows at {request.match_funding_rate:.0%}"
        )
        return InfeasibleError(
            f"the rules cannot all be met: {request.bid_label(bid)}'s {gbp(round(floors[bid]))} equity floor is above {limit}, "
            f"short by {gbp(round(floors[bid] - caps[bid]))}",
            key="allocation.equity_floor",
            hint=hint + ", or raise the cap",
        )
    nested = request.nested_force_caps()
    if nested is not None:
        force_of_bid, force_caps = nested
        need = np.bincount(force_of_bid, weights=floors, minlength=len(force_caps))
        over = np.flatnonzero(need > force_caps + request.slack_gbp)
        if len(over):
            force = int(over[0])
            return InfeasibleError(
                f"the rules cannot all be met: the equity floors of {request.force_label(force)}'s {request.bid_noun}s need "
                f"{gbp(round(need[force]))}, above the {gbp(force_caps[force])} cap on {request.force_label(force)}'s total, "
                f"short by {gbp(round(need[force] - force_caps[force]))}",
                key="allocation.equity_floor",
                hint=hint + f", or raise {request.round_key}.force_cap_gbp",
            )
    if request.max_bids and len(floored) > request.max_bids:
        return InfeasibleError(
            f"the rules cannot all be met: equity floors need all {len(floored)} eligible {request.bid_noun}s funded, but the round "
            f"allows {request.max_bids}",
            key="allocation.equity_floor",
            hint=hint + f", or allow more bids ({request.round_key}.bids_per_commissioner)",
        )
    need = float(np.maximum(floors[floored], request.minimum_grant_gbp).sum())
    if request.minimum_grant_gbp > 0 and need > request.spendable_gbp + request.slack_gbp and floors.sum() <= request.spendable_gbp:
        return InfeasibleError(
            f"the rules cannot all be met: equity floors need all {len(floored)} eligible {request.bid_noun}s funded, each at least "
            f"the {gbp(request.minimum_grant_gbp)} minimum grant, {gbp(round(need))} in all, but only "
            f"{gbp(round(request.spendable_gbp))} can be spent",
            key="allocation.equity_floor",
            hint=hint + ", or lower allocation.minimum_grant_gbp",
        )
    return None


def _need_words(request: AllocationRequest, family: Family) -> str:
    if family.key == "equity_floor":
        floors = request.equity_floors_gbp()
        return f"equity floors need {gbp(float(floors.sum()))} in total over {int(np.count_nonzero(floors))} {request.bid_noun}s"
    return f"{family.title} ({'; '.join(row.words for row in family.rows[:3])})"


def _binding_limits(request: AllocationRequest, amounts: np.ndarray, funded: np.ndarray) -> list[tuple[str, str]]:
    """The upper limits a solution presses against, as (words, config key), most general first: one entry per family,
    its row's words where one row binds, else how many bind and their total."""
    found = []
    slack = request.slack_gbp + 0.01
    for family in request.families():
        if family.demanding:
            continue
        rows = [
            row
            for row in family.rows
            if row.sense == "<="
            and row.slack(amounts, funded) <= family.binding_tolerance(slack)
            and (row.bid < 0 or not request.needs_binaries or funded[row.bid])
        ]
        if len(rows) == 1:
            found.append((rows[0].words, family.config_key))
        elif rows and family.unit == "£":
            found.append((f"the {family.title}s in {len(rows)} places ({gbp(sum(row.limit for row in rows))} in all)", family.config_key))
        elif rows:
            found.append((f"the {family.title}", family.config_key))
    return found


def solver_status(text: str) -> SolveStatus:
    return {
        "Optimal": SolveStatus.OPTIMAL,
        "Infeasible": SolveStatus.INFEASIBLE,
        "Unbounded": SolveStatus.UNBOUNDED,
        "Not Solved": SolveStatus.NOT_SOLVED,
    }.get(text, SolveStatus.UNDEFINED)
