"""Labelled arrays: picking labels keeps their order and values, and a label that is not there is refused."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.arrays import Labelled
from simulator.errors import InternalError


def grid() -> Labelled:
    return Labelled(np.arange(6.0).reshape(3, 2), ("area", "crime_type"), (("a", "b", "c"), ("x", "y")), "records", "records")


def test_take_keeps_the_order_asked_for():
    """Taking c, a along areas gives their rows in that order, labelled so."""
    taken = grid().take("area", ("c", "a"))
    assert taken.labels("area") == ("c", "a")
    assert taken.values.tolist() == [[4.0, 5.0], [0.0, 1.0]]


def test_take_along_the_second_axis():
    """Taking y alone along crime types keeps every area."""
    assert grid().take("crime_type", ["y"]).values.tolist() == [[1.0], [3.0], [5.0]]


def test_take_refuses_a_label_that_is_not_there():
    """An unknown label is a ValueError naming it, not a silent skip."""
    with pytest.raises(ValueError, match="'d' is not a label of area"):
        grid().take("area", ("a", "d"))


def test_take_of_many_labels_in_reverse():
    """35,672 areas (a national LSOA count) taken in reverse order come back reversed."""
    codes = tuple(f"E{i:08d}" for i in range(35_672))
    big = Labelled(np.arange(35_672.0), ("area",), (codes,), "records", "records")
    assert big.take("area", codes[::-1]).values[0] == 35_671.0


def test_repeated_labels_are_refused_in_a_long_axis_however_often_it_is_used():
    codes = tuple(f"E0{number:07d}" for number in range(500))
    first = Labelled(np.zeros(500), ("area",), (codes,), "x", "")
    again = Labelled(np.ones(500), ("area",), (first.labels("area"),), "y", "")
    assert again.labels("area") is codes
    with pytest.raises(InternalError, match="repeated labels"):
        Labelled(np.zeros(501), ("area",), ((*codes, codes[7]),), "z", "")
