"""The array-built models against the PuLP formulation: the same chord and tangent optima on random instances."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import make_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import constrained_requests

from simulator.errors import InfeasibleError
from simulator.formulation import (
    _solve_one,
    array_chord_split,
    array_model,
    breakpoints,
    cell_segments,
    chords,
    column_wise,
    solve_arrays,
    tangents,
)

SAME = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def pulp_optimum(request, kind: str = "chords"):
    """The PuLP model's amounts and its goal value on its own segments (None where its rules cannot all be met)."""
    points = breakpoints(request, request.segments)
    widths, slopes = chords(request, points) if kind == "chords" else tangents(request, points)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            amounts, _, _, value = _solve_one(request, "highs", widths, slopes, None, prices_wanted=False)
        except InfeasibleError:
            return None
    return amounts, value


def test_cell_segments_are_the_full_arrays_chords_and_tangents_of_those_cells():
    """The segments of chosen cells equal the rows of the full arrays for those cells."""
    request = make_request([[1000.0, 0.0], [600.0, 900.0]], [[50.0, 80.0], [60.0, 40.0]], [0.3, 0.2], budget=200.0, cap=120.0)
    cells = np.array([0, 2, 3])
    points = breakpoints(request, 8)
    for kind, full in (("chords", chords(request, points)), ("tangents", tangents(request, points))):
        widths, slopes = cell_segments(request, cells, 8, kind)
        np.testing.assert_allclose(widths, full[0].reshape(-1, full[0].shape[2])[cells], rtol=1e-12)
        np.testing.assert_allclose(slopes, full[1].reshape(-1, full[1].shape[2])[cells], rtol=1e-12)


def test_array_model_has_columns_for_open_cells_only():
    """Cells of ineligible areas and cells without harm get no column."""
    request = make_request([[1000.0, 0.0], [600.0, 900.0]], [50.0], [0.3, 0.2], eligible=[True, False], segments=4)
    model = array_model(request, 4)
    assert model.cells.tolist() == [0]
    assert model.columns == 4


@SAME
@given(constrained_requests(goals=("harm", "blend", "least_cost")))
def test_array_chord_optimum_equals_pulps(request):
    """The array-built chord model reaches the PuLP chord model's optimum (1e-6 relative) under every rule family."""
    if request.nothing_fundable():
        return
    found = pulp_optimum(request)
    model = array_model(request, request.segments)
    solved = model.solve()
    if found is None:
        assert solved is None or array_chord_split(request, request.segments).sum() == 0.0 or request.goal == "least_cost"
        return
    assert solved is not None
    if request.goal == "harm":
        assert model.model_value(solved.values) == pytest.approx(found[1], rel=1e-6, abs=1e-6)
    elif request.goal == "blend":
        assert -solved.objective * model.value == pytest.approx(found[1], rel=1e-6, abs=1e-6)
    else:
        assert model.amounts(solved.values).sum() == pytest.approx(found[1], rel=1e-6, abs=1e-4)


@SAME
@given(constrained_requests(goals=("harm",)))
def test_array_tangent_optimum_equals_pulps(request):
    """The array-built tangent model reaches the PuLP tangent model's optimum: the same bound."""
    if request.nothing_fundable():
        return
    found = pulp_optimum(request, "tangents")
    model = array_model(request, request.segments, "tangents")
    solved = model.solve()
    if found is None:
        return
    assert model.model_value(solved.values) == pytest.approx(found[1], rel=1e-6, abs=1e-6)


def test_array_split_gives_nothing_to_an_unfundable_area_under_maxmin():
    """An area whose bid cannot be funded has no level row, so the max-min level is not held at 0 by it."""
    request = make_request([[1000.0], [600.0]], [50.0], [0.3], budget=200.0, cap=100.0, minimum_grant=50.0, max_bids=1, segments=8)
    from dataclasses import replace

    request = replace(request, goal="maxmin", grant_caps_gbp=np.array([100.0, 10.0]))
    amounts = array_chord_split(request, 8)
    assert amounts[0].sum() == pytest.approx(100.0, rel=1e-6)
    assert amounts[1].sum() == 0.0


@st.composite
def triplets(draw):
    """A shape and (row, column, value) entries in any order inside it: some at the same place, some zero."""
    height, width = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    count = draw(st.integers(0, 40)) if height and width else 0
    rows = draw(st.lists(st.integers(0, max(height - 1, 0)), min_size=count, max_size=count))
    columns = draw(st.lists(st.integers(0, max(width - 1, 0)), min_size=count, max_size=count))
    values = draw(st.lists(st.integers(-4, 4), min_size=count, max_size=count))
    return np.array(rows, dtype=int), np.array(columns, dtype=int), np.array(values, dtype=float), (height, width)


@settings(max_examples=200, deadline=None)
@given(triplets())
def test_column_wise_matrix_is_scipys_csc(entries):
    """The triplets in column-wise form are scipy.sparse's CSC of them: the same starts, row numbers and values,
    places named twice summed and explicit zeros kept (small integers, so every sum is exact)."""
    from scipy.sparse import csc_matrix

    rows, columns, values, shape = entries
    matrix = column_wise(rows, columns, values, shape)
    expected = csc_matrix((values, (rows, columns)), shape=shape)
    assert matrix.shape == expected.shape
    np.testing.assert_array_equal(matrix.start, expected.indptr)
    np.testing.assert_array_equal(matrix.index, expected.indices)
    np.testing.assert_array_equal(matrix.value, expected.data)


def test_column_wise_matrix_refuses_an_entry_outside_its_shape():
    """An entry beyond the shape is a bug in the model's rows, not a bigger matrix."""
    from simulator.errors import InternalError

    with pytest.raises(InternalError):
        column_wise(np.array([0, 2]), np.array([0, 1]), np.ones(2), (2, 2))


def test_solve_arrays_reports_a_mips_dual_bound_and_a_free_column():
    """Maximise x + 2y − t over x + y ≤ 1.5, t ≥ −3 as a row (t free by its bounds), x in [0, 1], y in {0, 1}: the
    optimum, "optimal", and a dual bound at the optimum (minimised); relaxed, a linear program's bound is its objective
    and it has row duals; with x + y = 2.5 no plan."""
    cost = np.array([-1.0, -2.0, 1.0])
    matrix = column_wise(np.array([0, 0, 1]), np.array([0, 1, 2]), np.ones(3), (2, 3))
    lower, upper = np.array([0.0, 0.0, -np.inf]), np.array([1.0, 1.0, np.inf])
    row_lower, row_upper = np.array([-np.inf, -3.0]), np.array([1.5, np.inf])
    mip = solve_arrays(cost, matrix, row_lower, row_upper, upper, np.array([False, True, False]), lower, 1e-9, 20.0)
    assert mip.status == "optimal" and mip.duals is None
    np.testing.assert_allclose(mip.values, [0.5, 1.0, -3.0], atol=1e-9)
    assert mip.objective == pytest.approx(-5.5) and mip.bound <= mip.objective + 1e-9 and mip.bound == pytest.approx(-5.5)
    lp = solve_arrays(cost, matrix, row_lower, row_upper, upper, np.zeros(3, dtype=bool), lower)
    assert lp.status == "optimal" and lp.bound == lp.objective == pytest.approx(-5.5) and lp.duals is not None
    infeasible = solve_arrays(cost, matrix, np.array([2.5, -3.0]), row_upper + np.array([1.0, 0.0]), upper, np.zeros(3), lower)
    assert infeasible.values is None and infeasible.status != "optimal"
