"""Class schemes: one mapping from class names to codes that also names and colours them everywhere.

A :class:`ClassScheme` is the one owner of "which code is which class, what it is called and how it is
drawn". The lakes (water 1, land 2, unclassified 3) and buildings (background 0, building 1, border 2)
tracks have their schemes here; a user's own classes (``"water"``, ``"forest"``, ``"cleared"``) get one
with :meth:`ClassScheme.from_names`. Label maps (:func:`geonb.labels.rasterize_labels`), plots, maps,
exported class maps (colour table, names) and saved models all read the same scheme, so a class is the
same colour and name in every figure and file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from geonb.errors import ClassCodeError, InvalidParameterError
from geonb.labels import (
    BACKGROUND,
    BORDER,
    BUILDING,
    LAND,
    NODATA,
    UNCLASSIFIED,
    WATER,
)

#: Colour of "no label / no data" pixels in every figure and colour table.
NODATA_COLOR = "#ffffff"

#: House colours for well-known class names (water blue, land tan, unclassified grey...), so a user's
#: "water" is the same blue as the lakes' water.
NAMED_COLORS: dict[str, str] = {
    "water": "#1f5fbf",
    "land": "#d2b48c",
    "unclassified": "#9a9a9a",
    "forest": "#1b7837",
    "vegetation": "#5aae61",
    "grass": "#a6d96a",
    "crop": "#e6c229",
    "cropland": "#e6c229",
    "cleared": "#c2a36b",
    "bare": "#c2a36b",
    "fallen_dry": "#8c510a",
    "dryout": "#bf812d",
    "village": "#7f3b08",
    "urban": "#7f3b08",
    "built": "#7f3b08",
    "building": "#c0392b",
    "border": "#f1c40f",
    "background": "#f0f0f0",
    "cloud": "#e0e0e0",
    "snow": "#d0f0ff",
    "ice": "#d0f0ff",
    "wetland": "#35978f",
}
#: Colours for other names, in order (ColorBrewer Set1/Dark2-like, distinct from the named ones).
FALLBACK_COLORS: tuple[str, ...] = ("#e41a1c", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#66a61e",
                                    "#e7298a", "#7570b3", "#1b9e77", "#d95f02", "#666666", "#377eb8")

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class ClassScheme:
    """Class codes with their names and colours, in one order (the order of a model's output channels).

    Attributes
    ----------
    codes : tuple of int
        Distinct class codes, 0..255 (0 is "no label" unless a scheme lists it as a class, as the
        buildings' background).
    names : tuple of str
        One distinct name per code (``"water"``).
    colors : tuple of str
        One ``#rrggbb`` colour per code.

    Examples
    --------
    >>> s = ClassScheme.from_names(["water", "forest", "cleared"])
    >>> s.codes, s.label_map
    ((1, 2, 3), {'water': 1, 'forest': 2, 'cleared': 3})
    >>> s.color(1)
    '#1f5fbf'
    """

    codes: tuple[int, ...]
    names: tuple[str, ...]
    colors: tuple[str, ...]

    def __post_init__(self) -> None:
        codes = tuple(self.codes)
        names = tuple(self.names)
        colors = tuple(self.colors)
        for c in codes:
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 255:
                raise ClassCodeError(f"`codes` must be ints 0..255, got {codes!r}")
        if not codes or len(set(codes)) != len(codes):
            raise ClassCodeError(f"`codes` must be distinct class codes, got {codes!r}")
        if len(names) != len(codes) or len(colors) != len(codes):
            raise InvalidParameterError(
                f"a class scheme needs one name and one colour per code: {len(codes)} codes, {len(names)} names, "
                f"{len(colors)} colours"
            )
        if any(not isinstance(n, str) or not n.strip() for n in names) or len(set(names)) != len(names):
            raise InvalidParameterError(f"`names` must be distinct non-empty strings, got {names!r}")
        bad = [c for c in colors if not isinstance(c, str) or not _HEX.match(c)]
        if bad:
            raise InvalidParameterError(f"`colors` must be '#rrggbb' strings, got {bad!r}")
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "colors", colors)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_names(cls, names: Sequence[str], *, codes: Sequence[int] | None = None,
                   colors: Mapping[str, str] | None = None) -> ClassScheme:
        """A scheme for class names (e.g. the values of a polygon file's class field).

        Codes are ``1, 2, ...`` in the order given (0 stays "no label"), unless ``codes`` are given.
        Colours: ``colors[name]`` if given, else the house colour of a well-known name (water blue,
        forest green...), else the next distinct fallback colour.
        """
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise InvalidParameterError(f"`names` must be a sequence of class names, got {names!r}")
        names = tuple(str(n) for n in names)
        if codes is None:
            codes = tuple(range(1, len(names) + 1))
        colors = dict(colors or {})
        out, fallback = [], iter(FALLBACK_COLORS * 22)
        used = set()
        for n in names:
            c = colors.get(n) or NAMED_COLORS.get(n.lower().strip())
            if c is None or c in used:
                c = next(x for x in fallback if x not in used)
            used.add(c)
            out.append(c)
        return cls(tuple(int(c) for c in codes), names, tuple(out))

    @classmethod
    def from_dict(cls, obj: Mapping) -> ClassScheme:
        """Read :meth:`to_dict`'s ``{"codes": [...], "names": [...], "colors": [...]}``."""
        try:
            return cls(tuple(int(c) for c in obj["codes"]), tuple(obj["names"]), tuple(obj["colors"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidParameterError(f"not a class scheme: {obj!r} ({exc})") from exc

    def to_dict(self) -> dict:
        return {"codes": list(self.codes), "names": list(self.names), "colors": list(self.colors)}

    # -- lookups -----------------------------------------------------------------------------
    @property
    def label_map(self) -> dict[str, int]:
        """``{name: code}``, for :func:`geonb.labels.rasterize_labels`."""
        return dict(zip(self.names, self.codes, strict=True))

    @property
    def names_by_code(self) -> dict[int, str]:
        """``{code: name}``, with ``0: "no label"`` unless 0 is a class."""
        out = {} if NODATA in self.codes else {NODATA: "no label"}
        out.update(zip(self.codes, self.names, strict=True))
        return out

    @property
    def colors_by_code(self) -> dict[int, str]:
        """``{code: "#rrggbb"}``, with white for 0 unless 0 is a class."""
        out = {} if NODATA in self.codes else {NODATA: NODATA_COLOR}
        out.update(zip(self.codes, self.colors, strict=True))
        return out

    def _index(self, code: int) -> int:
        try:
            return self.codes.index(int(code))
        except ValueError:
            raise ClassCodeError(f"class code {code!r} is not in this scheme; its codes are {self.codes}") from None

    def name(self, code: int) -> str:
        """The name of ``code``."""
        return self.names_by_code[int(code)] if int(code) in self.names_by_code else self.names[self._index(code)]

    def color(self, code: int) -> str:
        """The ``#rrggbb`` colour of ``code``."""
        return self.colors_by_code[int(code)] if int(code) in self.colors_by_code else self.colors[self._index(code)]

    def code(self, name: str) -> int:
        """The code of class ``name``."""
        if name not in self.names:
            raise ClassCodeError(f"class {name!r} is not in this scheme; its classes are {list(self.names)}")
        return self.codes[self.names.index(name)]

    def rgba_table(self) -> dict[int, tuple[int, int, int, int]]:
        """GDAL colour table ``{code: (r, g, b, a)}`` (0 transparent unless a class), for GeoTIFF class maps."""
        table = {}
        for code, hexcol in self.colors_by_code.items():
            r, g, b = (int(hexcol[i:i + 2], 16) for i in (1, 3, 5))
            table[int(code)] = (r, g, b, 0 if (code == NODATA and NODATA not in self.codes) else 255)
        return table

    def __len__(self) -> int:
        return len(self.codes)

    def __repr__(self) -> str:
        return "ClassScheme(" + ", ".join(f"{c}={n}" for c, n in zip(self.codes, self.names, strict=True)) + ")"


#: The lakes track: water, land, unclassified (the models' default output channels).
LAKES = ClassScheme((WATER, LAND, UNCLASSIFIED), ("water", "land", "unclassified"),
                    (NAMED_COLORS["water"], NAMED_COLORS["land"], NAMED_COLORS["unclassified"]))
#: The buildings track: background, building, border.
BUILDINGS = ClassScheme((BACKGROUND, BUILDING, BORDER), ("background", "building", "border"),
                        (NAMED_COLORS["background"], NAMED_COLORS["building"], NAMED_COLORS["border"]))


def scheme_for_codes(codes: Sequence[int]) -> ClassScheme:
    """The scheme of a model's class codes when no names were saved with it: the lakes' or the buildings'
    names where the codes are theirs, else ``class <code>`` (named by code, never by guess)."""
    codes = tuple(int(c) for c in codes)
    if set(codes) <= set(LAKES.codes):
        return ClassScheme(codes, tuple(LAKES.name(c) for c in codes), tuple(LAKES.color(c) for c in codes))
    return ClassScheme.from_names([f"class {c}" for c in codes], codes=codes)


__all__ = [
    "BUILDINGS",
    "ClassScheme",
    "FALLBACK_COLORS",
    "LAKES",
    "NAMED_COLORS",
    "NODATA_COLOR",
    "scheme_for_codes",
]
