"""Harm weights: the shipped CCHI-derived table and the count set."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.arrays import Labelled
from simulator.harm import harm, harm_weights
from simulator.schema import CRIME_TYPES, HarmSettings


def test_cchi_covers_every_category_with_a_source():
    """Every police.uk category has a CCHI-derived weight, a derivation and a source."""
    weights = harm_weights(HarmSettings())
    assert len(weights.notes) == 14
    assert all(note.source and note.derivation for note in weights.notes)


def test_cchi_values_match_the_documented_derivation():
    """Robbery 365 days; violence and sexual offences blended from Kent's VAWG mix to 160.6."""
    weights = harm_weights(HarmSettings())
    assert weights.of("Robbery") == 365
    blend = 0.74 * 10 + 0.17 * 365 + 0.09 * (0.35 * 2555 + 0.65 * 182.25)
    assert weights.of("Violence and sexual offences") == pytest.approx(round(blend, 1))
    assert weights.of("Burglary") == pytest.approx(0.7 * 273.5 + 0.3 * 183.5)


def test_approximations_are_labelled():
    """Derived weights say they are approximations; robbery's agreed value does not."""
    notes = {note.crime_type: note for note in harm_weights(HarmSettings()).notes}
    assert notes["Violence and sexual offences"].approximation
    assert not notes["Robbery"].approximation


def test_count_set_weighs_every_record_one():
    """The count weight set makes harm equal to the number of records."""
    assert np.all(harm_weights(HarmSettings(weight_set="count")).weights.values == 1.0)


def test_override_replaces_one_weight_and_says_so():
    """An override changes one weight and marks it as the scenario's assumption."""
    weights = harm_weights(HarmSettings(overrides={"Anti-social behaviour": 2.5}))
    assert weights.of("Anti-social behaviour") == 2.5
    assert weights.notes[0].source == "scenario"


def test_harm_is_count_times_weight():
    """Harm of a cell = records × its crime type's weight."""
    counts = Labelled(np.ones((1, 14)) * 2, ("area", "crime_type"), (("A",), CRIME_TYPES), "records", "records")
    result = harm(counts, harm_weights(HarmSettings()))
    assert result.get(area="A", crime_type="Robbery") == 730
