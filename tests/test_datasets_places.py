"""Tests of the built-in list of real lakes and rivers."""

from __future__ import annotations

import pytest

from geonb.datasets.places import CLIMATES, CONTINENTS, KINDS, PLACES, get_place, places_table, slugify
from geonb.errors import InvalidParameterError


def test_at_least_60_places_on_several_continents():
    assert len(PLACES) >= 60
    table = places_table()
    assert table.index.is_unique
    assert set(table["continent"]) >= {"Africa", "Asia", "Europe", "North America", "South America", "Oceania"}
    # Rivers and deltas as well as lakes.
    assert (table["kind"] == "river").sum() >= 10
    assert (table["kind"] == "delta").sum() >= 3


def test_fields_are_valid():
    for p in PLACES:
        assert -90 <= p.lat <= 90 and -180 <= p.lon <= 180, p
        assert p.climate in CLIMATES, p
        assert p.continent in CONTINENTS, p
        assert p.kind in KINDS, p
        assert p.area_km2 > 0, p
    # Every climate has places, so the generator can draw every land cover.
    assert {p.climate for p in PLACES} == set(CLIMATES)


def test_known_places_are_where_they_are():
    victoria = get_place("Lake Victoria")
    assert victoria.continent == "Africa" and abs(victoria.lat) < 3
    baikal = get_place("baikal")
    assert 50 < baikal.lat < 57 and 100 < baikal.lon < 112
    assert get_place("TITICACA").lat < 0


def test_slugify():
    assert slugify("Lake Victoria") == "victoria"
    assert slugify("Amazon River at Manaus") == "amazon-manaus"
    assert slugify("Lago General Carrera") == "general-carrera"


def test_unknown_place_raises():
    with pytest.raises(InvalidParameterError, match="unknown place 'Atlantis'"):
        get_place("Atlantis")


def test_slugify_and_places_table_refuse_what_is_not_a_name_or_a_place():
    with pytest.raises(InvalidParameterError, match="`name`"):
        slugify(None)
    with pytest.raises(InvalidParameterError, match="get_place"):
        places_table(("Lake Geneva",))
    assert places_table((get_place("Lake Geneva"),)).index.tolist() == ["geneva"]
