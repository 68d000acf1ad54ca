"""Harm weights: the shipped CCHI-derived table and the count set."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.arrays import Labelled
from simulator.harm import harm, harm_weights, split_applies, weight_at_share
from simulator.schema import CRIME_TYPES, HarmSettings, HarmSplit


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


RAPE_SHARE = HarmSplit(
    crime_type="Violence and sexual offences",
    share=0.35,
    low=0.3,
    high=0.5,
    weight_with=2555.0,
    weight_without=182.25,
    of_records=0.09,
    source="test",
)


def test_weight_set_is_named_without_the_override_note():
    """A set with overrides still names the shipped set it comes from."""
    assert harm_weights(HarmSettings(overrides={"Drugs": 4.0})).weight_set == "cchi"
    assert harm_weights(HarmSettings(weight_set="count")).weight_set == "count"


def test_overridden_marks_only_the_scenarios_weights():
    """Only the crime types harm.overrides names are overridden."""
    weights = harm_weights(HarmSettings(overrides={"Drugs": 4.0}))
    assert weights.overridden("Drugs") and not weights.overridden("Burglary")


def test_weight_at_share_moves_the_weight_by_the_share_change():
    """Ten points more rape share add 0.1 × 0.09 × (2,555 − 182.25) days to the VSO weight."""
    weights = harm_weights(HarmSettings())
    moved = weight_at_share(weights, RAPE_SHARE, np.array([0.35, 0.45]))
    assert moved == pytest.approx([160.6, 160.6 + 0.1 * 0.09 * (2555 - 182.25)])


@pytest.mark.parametrize("settings", [HarmSettings(weight_set="count"), HarmSettings(overrides={"Violence and sexual offences": 200.0})])
def test_split_does_not_move_a_weight_it_does_not_describe(settings):
    """The count set and an overridden weight keep their value at any share."""
    weights = harm_weights(settings)
    assert not split_applies(weights, RAPE_SHARE)
    assert np.all(weight_at_share(weights, RAPE_SHARE, np.array([0.3, 0.5])) == weights.of("Violence and sexual offences"))
