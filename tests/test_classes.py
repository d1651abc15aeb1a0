"""Tests of geonb.classes: one scheme of class names → codes → colours."""

from __future__ import annotations

import pytest

from geonb.classes import BUILDINGS, LAKES, NAMED_COLORS, ClassScheme, scheme_for_codes
from geonb.errors import ClassCodeError, InvalidParameterError
from geonb.labels import LAND, NODATA, WATER


def test_from_names_numbers_classes_and_keeps_house_colours():
    s = ClassScheme.from_names(["water", "forest", "cleared", "mystery", "other"])
    assert s.codes == (1, 2, 3, 4, 5)
    assert s.label_map == {"water": 1, "forest": 2, "cleared": 3, "mystery": 4, "other": 5}
    assert s.color(1) == NAMED_COLORS["water"] == LAKES.color(WATER)
    assert len(set(s.colors)) == 5  # distinct, also for unknown names
    assert s.name(NODATA) == "no label" and s.color(NODATA) == "#ffffff"
    assert ClassScheme.from_dict(s.to_dict()) == s


def test_rgba_table_is_transparent_at_nodata_unless_zero_is_a_class():
    assert LAKES.rgba_table()[NODATA][3] == 0 and LAKES.rgba_table()[LAND] == (0xd2, 0xb4, 0x8c, 255)
    assert BUILDINGS.rgba_table()[0][3] == 255  # background is a class


@pytest.mark.parametrize("kwargs,match", [
    ({"codes": (1, 1), "names": ("a", "b"), "colors": ("#000000", "#111111")}, "distinct"),
    ({"codes": (1, 300), "names": ("a", "b"), "colors": ("#000000", "#111111")}, "0..255"),
    ({"codes": (1, 2), "names": ("a", "a"), "colors": ("#000000", "#111111")}, "distinct"),
    ({"codes": (1, 2), "names": ("a", "b"), "colors": ("red", "#111111")}, "rrggbb"),
    ({"codes": (1, 2), "names": ("a",), "colors": ("#000000", "#111111")}, "one name"),
])
def test_bad_schemes_are_clear_errors(kwargs, match):
    with pytest.raises((ClassCodeError, InvalidParameterError), match=match):
        ClassScheme(**kwargs)


def test_lookups_name_the_fix():
    with pytest.raises(ClassCodeError, match="its classes are"):
        LAKES.code("forest")
    with pytest.raises(ClassCodeError, match="codes are"):
        LAKES.color(9)
    with pytest.raises(InvalidParameterError, match="sequence of class names"):
        ClassScheme.from_names("water")


def test_scheme_for_codes_names_by_code_never_guesses():
    assert scheme_for_codes((WATER, LAND)).names == ("water", "land")
    assert scheme_for_codes((0, 1)).names == ("class 0", "class 1")
