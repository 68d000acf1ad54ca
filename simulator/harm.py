"""Harm weights and harm: records of each crime type times days of harm per record.

The default weight set is the Cambridge Crime Harm Index (CCHI): days of imprisonment at the
sentencing-guideline starting point for a first offender. The CCHI is published per Home Office
offence code, so a weight per police.uk category is necessarily a derived blend; the shipped
table (`data/harm_weights.csv`) states the derivation, source and confidence of every weight.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

from .arrays import Labelled
from .errors import InternalError
from .schema import CRIME_TYPES, HarmSettings, HarmSplit

WEIGHTS_FILE = "harm_weights.csv"
OVERRIDE_SOURCE = "scenario"
"""The source a weight set by `harm.overrides` carries: the scenario's own number, not the table's."""
SPLIT_WEIGHT_SET = "cchi"
"""The weight set whose derived weights the assumed splits (`uncertainty.harm_splits`) describe."""


@dataclass(frozen=True)
class WeightNote:
    """Where one crime type's weight comes from and how far to trust it."""

    crime_type: str
    weight_days: float
    confidence: str
    approximation: bool
    derivation: str
    source: str


@dataclass(frozen=True)
class HarmWeights:
    """Days of harm per record for each police.uk crime type, with each weight's provenance."""

    name: str
    weights: Labelled
    notes: tuple[WeightNote, ...]

    @property
    def unit(self) -> str:
        """What harm is counted in, for every label: CCHI "harm days", "records" when every record weighs 1,
        or "weighted records" for the count set with some weights overridden."""
        if not self.name.startswith("count"):
            return "harm days"
        return "records" if all(note.weight_days == 1.0 for note in self.notes) else "weighted records"

    @property
    def short_unit(self) -> str:
        """The unit after a number: "days", "records" or "weighted records"."""
        return "days" if self.unit == "harm days" else self.unit

    def of(self, crime_type: str) -> float:
        """The weight of one crime type, in days per record."""
        return self.weights.get(crime_type=crime_type)

    @property
    def weight_set(self) -> str:
        """The shipped set the weights come from (`cchi` or `count`), without the note on overrides."""
        return self.name.split(" (")[0]

    def overridden(self, crime_type: str) -> bool:
        """Whether the scenario replaced this crime type's weight (harm.overrides)."""
        return self.notes[CRIME_TYPES.index(crime_type)].source == OVERRIDE_SOURCE


def harm_weights(settings: HarmSettings) -> HarmWeights:
    """The named weight set from the shipped table, with the scenario's overrides applied."""
    text = (resources.files("simulator") / "data" / WEIGHTS_FILE).read_text(encoding="utf-8")
    notes = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["weight_set"] == settings.weight_set:
            notes[row["crime_type"]] = WeightNote(
                row["crime_type"],
                float(row["weight_days"]),
                row["confidence"],
                row["approximation"] == "true",
                row["derivation"],
                row["source"],
            )
    if set(notes) != set(CRIME_TYPES):
        raise InternalError(f"{WEIGHTS_FILE}: weight set {settings.weight_set} does not cover the 14 crime types")
    for crime_type, days in settings.overrides.items():
        notes[crime_type] = WeightNote(
            crime_type,
            float(days),
            "assumption",
            True,
            f"set by the scenario (harm.overrides), replacing {notes[crime_type].weight_days:g}",
            OVERRIDE_SOURCE,
        )
    ordered = tuple(notes[crime_type] for crime_type in CRIME_TYPES)
    values = np.array([note.weight_days for note in ordered])
    label = settings.weight_set + (" (with overrides)" if settings.overrides else "")
    return HarmWeights(label, Labelled(values, ("crime_type",), (CRIME_TYPES,), "harm weight", "days per record"), ordered)


def harm(counts: Labelled, weights: HarmWeights) -> Labelled:
    """Harm per cell: count × weight of the cell's crime type (days)."""
    if counts.labels("crime_type") != weights.weights.labels("crime_type"):
        raise InternalError("counts and weights list crime types differently")
    axis = counts.dims.index("crime_type")
    shape = [1] * counts.values.ndim
    shape[axis] = -1
    return counts.with_values(counts.values * weights.weights.values.reshape(shape), name="harm", unit="days")


def split_applies(weights: HarmWeights, split: HarmSplit) -> bool:
    """Whether an assumed split moves a weight: only a CCHI weight the scenario has not overridden rests on it."""
    return weights.weight_set == SPLIT_WEIGHT_SET and not weights.overridden(split.crime_type)


def weight_at_share(weights: HarmWeights, split: HarmSplit, share: float | np.ndarray) -> float | np.ndarray:
    """The split's crime-type weight had its share been `share`: the shipped value plus the change the share makes.

    weight = w + (share − split.share) × of_records × (weight_with − weight_without); at the split's own share it
    is the shipped value exactly, so a rounded table value (160.6 days) is kept, not recomputed.
    """
    base = weights.of(split.crime_type)
    if not split_applies(weights, split):
        return np.full(np.shape(share), base) if isinstance(share, np.ndarray) else base
    return base + (share - split.share) * split.of_records * (split.weight_with - split.weight_without)
