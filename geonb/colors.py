"""House colours: one place for the colours that mean the same thing in every figure, widget and map.

Water blue, land tan, unclassified grey, no data white/transparent; errors: false positives (land
called water) orange, false negatives (missed water) red; splits green / purple / pink. The class
colours are read from :mod:`geonb.classes` (the schemes own them, also for exported files and saved
models), so a class has one colour everywhere. :mod:`geonb.plots`, :mod:`geonb.widgets` and
:mod:`geonb.maps` import from here; none of them imports another for a colour.

Examples
--------
>>> LAKE_COLORS[1], ERROR_COLORS["false negative"]
('#1f5fbf', '#d62728')
>>> check_fraction(0.25, "opacity")
0.25
"""

from __future__ import annotations

from geonb.classes import BUILDINGS, LAKES
from geonb.errors import InvalidParameterError

__all__ = [
    "BUILDING_COLORS",
    "ERROR_COLORS",
    "LAKE_COLORS",
    "SPLIT_COLORS",
    "WORLD_STYLE",
    "check_fraction",
]

#: Hex colour per lake class code (no data 0 white, water 1, land 2, unclassified 3), from ``classes.LAKES``.
LAKE_COLORS: dict[int, str] = dict(LAKES.colors_by_code)
#: Error colours: false positive (predicted water, truly land) and false negative (missed water).
ERROR_COLORS: dict[str, str] = {"correct": "#ffffff", "false positive": "#ff8c00", "false negative": "#d62728"}
#: Colours of the buildings track classes, from ``classes.BUILDINGS``.
BUILDING_COLORS: dict[int, str] = dict(BUILDINGS.colors_by_code)
#: Split colours (maps and charts).
SPLIT_COLORS: dict[str, str] = {"train": "#2ca02c", "val": "#9467bd", "test": "#e377c2"}
#: The offline world basemap of :mod:`geonb.maps`: pale sea and land, so lakes and overlays stay the
#: strongest colours; coastlines a dark slate line, borders a dashed grey one.
WORLD_STYLE: dict[str, str] = {"sea": "#dce8f2", "land": "#f7f5ef", "coast": "#41566e", "border": "#8c8c8c"}


def check_fraction(value, name: str) -> float:
    """``value`` as a float in [0, 1] (an opacity, an alpha, a threshold), or an error naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"`{name}` must be a number in [0, 1], got {value!r}") from exc
    if not 0 <= v <= 1:
        raise InvalidParameterError(f"`{name}` must be in [0, 1], got {value!r}")
    return v
