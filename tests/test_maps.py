"""The tile layout of the police forces of England and Wales: one square per force, every force of the national data
placed or said why not."""

from __future__ import annotations

import pytest

from simulator.maps import OFF_THE_MAP, force_key, force_name, force_tile, force_tiles

NATIONAL_FORCES = (
    "avon-and-somerset bedfordshire btp cambridgeshire cheshire city-of-london cleveland cumbria derbyshire devon-and-cornwall "
    "dorset durham dyfed-powys essex gloucestershire gwent hampshire hertfordshire humberside kent lancashire leicestershire "
    "lincolnshire merseyside metropolitan norfolk north-wales north-yorkshire northamptonshire northern-ireland northumbria "
    "nottinghamshire south-wales south-yorkshire staffordshire suffolk surrey sussex thames-valley warwickshire west-mercia "
    "west-midlands west-yorkshire wiltshire greater-manchester"
).split()
"""The force column of the national data's forces.csv (police.uk, March 2021 to February 2022), in its order."""


def test_layout_has_the_43_territorial_forces():
    """43 tiles, one per territorial force of England and Wales."""
    assert len({tile.force for tile in force_tiles()}) == len(force_tiles()) == 43


def test_no_two_forces_share_a_square():
    """Each tile has its own row and column."""
    assert len({(tile.row, tile.column) for tile in force_tiles()}) == 43


@pytest.mark.parametrize("force", NATIONAL_FORCES)
def test_every_national_force_has_a_tile_or_a_reason(force):
    """Each force of the national data is on the map, or named as off it with why (British Transport Police, Northern Ireland)."""
    assert (force_tile(force) is None) == (force in OFF_THE_MAP)


def test_only_transport_police_and_northern_ireland_are_off_the_map():
    """The forces without a tile are exactly BTP and the PSNI."""
    assert [force for force in NATIONAL_FORCES if force_tile(force) is None] == ["btp", "northern-ireland"]


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Kent Police", "kent"),
        ("Devon & Cornwall Police", "devon-and-cornwall"),
        ("Metropolitan Police Service", "metropolitan"),
        ("Avon and Somerset Constabulary", "avon-and-somerset"),
        ("British Transport Police", "btp"),
        ("Police Service of Northern Ireland", "northern-ireland"),
        ("dyfed-powys", "dyfed-powys"),
    ],
)
def test_force_names_written_any_common_way_find_their_key(written, key):
    """A force's name as police.uk, a config or a person writes it gives its police.uk id."""
    assert force_key(written) == key


def test_force_name_spells_out_the_id():
    """An id is shown by the layout's name; a force without a tile keeps its own."""
    assert (force_name("avon-and-somerset"), force_name("btp")) == ("Avon and Somerset", "btp")


def test_london_is_north_of_sussex_and_east_of_thames_valley():
    """The layout keeps the South East in place: the Met above Sussex, east of Thames Valley, west of the City."""
    met, sussex, valley, city = (force_tile(force) for force in ("metropolitan", "sussex", "thames-valley", "city-of-london"))
    assert met.row < sussex.row and valley.column < met.column < city.column
