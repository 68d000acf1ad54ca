"""Labelled arrays: numpy values with named axes, labels, a name and a unit.

The model's tables (harm per area and crime type, £ per area and intervention) are small dense
arrays; labelling them keeps every number tied to its area code and crime type without a
dataframe library.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .errors import InternalError


@dataclass(frozen=True)
class Labelled:
    """A read-only numpy array whose axes carry names (`dims`) and labels (`coords`)."""

    values: np.ndarray
    dims: tuple[str, ...]
    coords: tuple[tuple[str, ...], ...]
    name: str
    unit: str

    def __post_init__(self) -> None:
        values = np.array(self.values, copy=True)
        if values.ndim != len(self.dims) or len(self.coords) != len(self.dims):
            raise InternalError(f"{self.name}: {values.ndim} axes but dims {self.dims}")
        for dim, labels, size in zip(self.dims, self.coords, values.shape):
            if len(labels) != size:
                raise InternalError(f"{self.name}: axis {dim} has {size} values, {len(labels)} labels")
            if not _distinct(labels):
                raise InternalError(f"{self.name}: axis {dim} has repeated labels")
        values.flags.writeable = False
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "coords", tuple(tuple(labels) for labels in self.coords))

    def labels(self, dim: str) -> tuple[str, ...]:
        """The labels along one named axis."""
        return self.coords[self.dims.index(dim)]

    @cached_property
    def _positions(self) -> tuple[dict[str, int], ...]:
        """Per axis, each label's position: built once, so picking values by label costs the same at 13 areas or 35,000."""
        return tuple({label: position for position, label in enumerate(labels)} for labels in self.coords)

    def index(self, dim: str, label: str) -> int:
        """The position of `label` along axis `dim`."""
        try:
            return self._positions[self.dims.index(dim)][label]
        except KeyError:
            raise ValueError(f"{label!r} is not a label of {dim}") from None

    def get(self, **labels: str) -> float:
        """One value, picked by a label on every axis."""
        position = tuple(self.index(dim, labels[dim]) for dim in self.dims)
        return float(self.values[position])

    def take(self, dim: str, labels: tuple[str, ...] | list[str]) -> Labelled:
        """The sub-array holding only `labels` along `dim`, in that order."""
        axis = self.dims.index(dim)
        position_of = self._positions[axis]
        missing = [label for label in labels if label not in position_of]
        if missing:
            raise ValueError(f"{missing[0]!r} is not a label of {dim}")
        positions = [position_of[label] for label in labels]
        coords = list(self.coords)
        coords[axis] = tuple(labels)
        return Labelled(np.take(self.values, positions, axis=axis), self.dims, tuple(coords), self.name, self.unit)

    def sum(self, dim: str, name: str | None = None) -> Labelled:
        """Totals over one axis."""
        axis = self.dims.index(dim)
        keep = [i for i in range(len(self.dims)) if i != axis]
        return Labelled(
            self.values.sum(axis=axis),
            tuple(self.dims[i] for i in keep),
            tuple(self.coords[i] for i in keep),
            name or self.name,
            self.unit,
        )

    def with_values(self, values: np.ndarray, name: str | None = None, unit: str | None = None) -> Labelled:
        """A new array on the same axes."""
        return Labelled(np.asarray(values), self.dims, self.coords, name or self.name, unit or self.unit)

    def cells(self) -> Iterator[tuple[tuple[str, ...], float]]:
        """Every cell as (labels, value), in array order."""
        for position in np.ndindex(self.values.shape):
            yield tuple(self.coords[axis][i] for axis, i in enumerate(position)), float(self.values[position])


_DISTINCT_LABELS: dict[int, tuple[str, ...]] = {}
"""Label tuples already found distinct, by identity: a run's arrays share one tuple of area codes, so 23,768 codes are
checked once rather than for each of hundreds of arrays."""
MOST_REMEMBERED = 256


def _distinct(labels) -> bool:
    """Whether no label repeats (remembered for a tuple already checked, which cannot change)."""
    if type(labels) is tuple and _DISTINCT_LABELS.get(id(labels)) is labels:
        return True
    distinct = len(set(labels)) == len(labels)
    if distinct and type(labels) is tuple and len(labels) > 100:
        if len(_DISTINCT_LABELS) >= MOST_REMEMBERED:
            _DISTINCT_LABELS.clear()
        _DISTINCT_LABELS[id(labels)] = labels
    return distinct
