"""Class codes and label rasters.

Lakes: ``WATER = 1``, ``LAND = 2``, ``UNCLASSIFIED = 3``; ``NODATA = 0`` means "no label".
Buildings: ``BACKGROUND = 0``, ``BUILDING = 1``, ``BORDER = 2``.
No other module writes bare 1/2/3 for classes: import these names.
"""

from __future__ import annotations

import numpy as np

from geonb.errors import (
    ClassCodeError,
    CRSError,
    InvalidParameterError,
    ShapeMismatchError,
)

# Lakes track -------------------------------------------------------------------------------
NODATA = 0
WATER = 1
LAND = 2
UNCLASSIFIED = 3

#: Class codes a lake label raster may hold (besides ``NODATA``), in one-hot channel order.
LAKE_CLASSES: tuple[int, ...] = (WATER, LAND, UNCLASSIFIED)
LAKE_CLASS_NAMES: dict[int, str] = {
    NODATA: "no data",
    WATER: "water",
    LAND: "land",
    UNCLASSIFIED: "unclassified",
}

# Buildings track ---------------------------------------------------------------------------
BACKGROUND = 0
BUILDING = 1
BORDER = 2
BUILDING_CLASSES: tuple[int, ...] = (BACKGROUND, BUILDING, BORDER)
BUILDING_CLASS_NAMES: dict[int, str] = {BACKGROUND: "background", BUILDING: "building", BORDER: "border"}


def check_class_codes(labels: np.ndarray, allowed: tuple[int, ...] = (NODATA, *LAKE_CLASSES), *,
                      name: str = "labels") -> None:
    """Raise :class:`ClassCodeError` if ``labels`` holds a code outside ``allowed``.

    Parameters
    ----------
    labels : ndarray of int, any shape
    allowed : tuple of int
        Codes that may appear.
    name : str
        Argument name used in the message.
    """
    present = np.unique(labels)
    bad = sorted(set(present.tolist()) - set(allowed))
    if bad:
        raise ClassCodeError(
            f"`{name}` holds class codes {bad} that are not among the known codes {list(allowed)}; "
            "recode the labels (water=1, land=2, unclassified=3, no label=0) or pass the codes you use "
            "as `classes=`."
        )


def as_crs(crs, *, name: str = "crs", allow_none: bool = True):
    """``crs`` as a :class:`rasterio.crs.CRS`, or a :class:`CRSError` naming the argument.

    Accepts anything ``rasterio.crs.CRS.from_user_input`` does ("EPSG:32633", an EPSG int, WKT,
    a PROJ string or dict, a pyproj CRS). ``None`` stays None when ``allow_none``.

    Examples
    --------
    >>> as_crs("EPSG:4326").to_epsg()
    4326
    >>> as_crs("EPSG:99999", name="crs")
    Traceback (most recent call last):
    ...
    geonb.errors.CRSError: `crs` 'EPSG:99999' is not a coordinate reference system rasterio knows ...
    """
    from rasterio.crs import CRS
    from rasterio.errors import CRSError as RioCRSError

    if crs is None:
        if allow_none:
            return None
        raise CRSError(f"`{name}` is None; pass a CRS such as 'EPSG:32633' (the raster's CRS)")
    if isinstance(crs, CRS):
        return crs
    if hasattr(crs, "to_wkt") and not isinstance(crs, (str, bytes, dict)):
        crs = crs.to_wkt()  # pyproj.CRS and friends
    try:
        return CRS.from_user_input(crs)
    except (RioCRSError, TypeError, ValueError) as exc:
        raise CRSError(
            f"`{name}` {crs!r} is not a coordinate reference system rasterio knows ({exc}); "
            "give an EPSG code ('EPSG:32633'), WKT or a PROJ string"
        ) from exc


#: How many distinct offending values an error message lists.
SHOW_VALUES = 10


def show_values(values) -> str:
    """The first :data:`SHOW_VALUES` of ``values`` for an error message, ``...`` when there are more."""
    values = list(values)
    text = ", ".join(repr(v) for v in values[:SHOW_VALUES])
    return f"[{text}{', ...' if len(values) > SHOW_VALUES else ''}]"


def _plain_number(v):
    """A NumPy scalar as a plain int (integral) or float, for messages and dict lookups.

    Floats keep their shortest text in their own precision (float32 0.9 is 0.9, not 0.8999999761...).
    """
    if isinstance(v, np.floating):
        v = float(str(v)) if np.isfinite(v) else v.item()
    v = v.item() if isinstance(v, np.generic) else v
    if isinstance(v, float) and np.isfinite(v) and v == int(v):
        return int(v)
    return v


#: Codes a ``label_map`` may map to: the lake codes (the building codes 0..2 are among them).
LABEL_MAP_CODES: tuple[int, ...] = (NODATA, *LAKE_CLASSES)


def check_label_map(label_map, *, name: str = "label_map", keys: str = "number",
                    classes: tuple[int, ...] | None = None) -> dict:
    """Validate a mapping *file value* (or class name) -> geonb class code.

    ``keys`` is ``"number"`` (raster values: ints or floats, NaN allowed) or ``"any"`` (vector
    properties: class names or ints). ``classes`` names the codes the map may use besides
    ``NODATA`` (default the lake codes: :data:`LABEL_MAP_CODES`); give it for a class scheme of
    your own, e.g. ``classes=(1, 2, 3, 4)``. Returns a plain dict.

    Raises
    ------
    InvalidParameterError
        Not a non-empty dict, a key that is not a number (``keys="number"``), or a value that is
        not an int 0..255.
    ClassCodeError
        A value that is not one of geonb's class codes :data:`LABEL_MAP_CODES` (e.g. 7): the
        point of a ``label_map`` is to translate into those codes.
    """
    if not isinstance(label_map, dict) or not label_map:
        raise InvalidParameterError(
            f"`{name}` must be a non-empty dict from the values in the file to geonb class codes, "
            f"e.g. {{1: WATER, 0: LAND, -1: NODATA}}, got {label_map!r}"
        )
    out = {}
    for k, v in label_map.items():
        if keys == "number" and (isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, float, np.number))):
            raise InvalidParameterError(
                f"`{name}` key {k!r} is not a number; a raster's values are numbers (class names belong "
                "to vector labels: geonb.labels.rasterize_labels)"
            )
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not 0 <= int(v) <= 255:
            raise InvalidParameterError(
                f"`{name}` maps {k!r} to {v!r}; class codes must be ints 0..255 "
                "(geonb.labels: NODATA=0, WATER=1, LAND=2, UNCLASSIFIED=3)"
            )
        out[_plain_number(k) if keys == "number" else k] = int(v)
    allowed = LABEL_MAP_CODES if classes is None else (NODATA, *_check_codes(classes))
    unknown = {k: v for k, v in out.items() if v not in allowed}
    if unknown:
        what = "geonb class codes" if classes is None else "the codes named in `classes`"
        raise ClassCodeError(
            f"`{name}` maps {unknown!r} to codes that are not {what} {sorted(set(allowed))}; a label_map says "
            "what each value means in geonb's codes: NODATA=0 (no label), WATER=1, LAND=2, UNCLASSIFIED=3 "
            "(buildings: BACKGROUND=0, BUILDING=1, BORDER=2), e.g. {1: WATER, 0: LAND, -1: NODATA}. For a class "
            "scheme of your own, name its codes with `classes=` (e.g. classes=(1, 2, 3, 4))"
        )
    return out


def _check_codes(classes, name: str = "classes") -> tuple[int, ...]:
    """``classes`` as a non-empty tuple of distinct int codes 0..255."""
    if isinstance(classes, (str, bytes, int, np.integer)):
        raise InvalidParameterError(f"`{name}` must be a sequence of class codes, e.g. (1, 2, 3, 4), got {classes!r}")
    codes = tuple(classes)
    if not codes or any(isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer))
                        or not 0 <= int(c) <= 255 for c in codes) or len(set(codes)) != len(codes):
        raise InvalidParameterError(
            f"`{name}` must be distinct int class codes 0..255, e.g. (1, 2, 3, 4), got {classes!r}"
        )
    return tuple(int(c) for c in codes)


def remap_labels(values, label_map: dict | None = None, *, nodata=None, mask: np.ndarray | None = None,
                 name: str = "labels", classes: tuple[int, ...] | None = None) -> np.ndarray:
    """Turn label values in any coding into geonb ``uint8`` class codes, refusing to guess.

    Without ``label_map`` the values must already be class codes: integers 0..255 (integer-valued
    floats such as 1.0 are accepted). Fractions (1.5, a water fraction 0.9), negative values,
    values above 255, infinities and boolean masks (True/False are not codes: use
    ``np.where(mask, WATER, LAND)``) are a :class:`ClassCodeError` naming the values found and
    suggesting ``label_map=``; nothing is cast silently. With ``label_map``, a boolean mask's
    values are the keys 1 (True) and 0 (False).

    With ``label_map`` (file value -> code) every value in the data must be a key; values not in
    it are an error listing them.

    No label (code 0) is given to: pixels where ``mask`` is True, pixels equal to ``nodata``
    (the file's nodata value; NaN matches NaN) unless ``label_map`` names that value itself.
    NaN is *only* accepted as no label when it is the declared ``nodata`` or a ``label_map``
    key: a NaN nobody declared is an error (a float label raster with holes is ambiguous).

    Parameters
    ----------
    values : ndarray, shape (rows, cols) (any shape works)
        Label values as read from a file, any numeric dtype.
    label_map : dict, optional
        File value -> geonb class code (int 0..255), e.g.
        ``{1: WATER, 0: LAND, -1: NODATA}``.
    nodata : number, optional
        The file's nodata value; its pixels become 0 (no label).
    mask : ndarray of bool, optional
        True where there is no label (e.g. the file's own mask band).
    name : str
        What to call the values in messages (an argument name or a file).
    classes : tuple of int, optional
        The codes ``label_map`` may map to besides ``NODATA``; default the lake codes (1, 2, 3).
        Name your own for another class scheme, e.g. ``(1, 2, 3, 4)``. Only with ``label_map``.

    Returns
    -------
    ndarray of uint8, same shape

    Raises
    ------
    ClassCodeError
        Values that are not class codes (without ``label_map``: also a boolean mask) or not in
        ``label_map``.

    Examples
    --------
    >>> remap_labels(np.array([[1, 0], [-1, 1]]), {1: WATER, 0: LAND, -1: NODATA}).tolist()
    [[1, 2], [0, 1]]
    >>> remap_labels(np.array([True, False]), {1: WATER, 0: LAND}).tolist()
    [1, 2]
    >>> remap_labels(np.array([0.9, 0.1]))
    Traceback (most recent call last):
    ...
    geonb.errors.ClassCodeError: `labels` holds values that are not class codes ...
    """
    values = np.asarray(values)
    if values.dtype.kind not in "uifb":
        raise ClassCodeError(f"`{name}` must hold numbers (class codes), got dtype {values.dtype}")
    if values.dtype.kind == "b" and label_map is None:
        # True/False are not class codes: cast, True would become WATER (1) and False NODATA (0), silently
        raise ClassCodeError(
            f"`{name}` is a boolean mask (dtype bool), not class codes: True/False would become codes 1 (WATER) "
            "and 0 (no label). Turn it into codes first, e.g. `np.where(mask, WATER, LAND)`, or say what True "
            "and False mean with `label_map=` (e.g. label_map={1: WATER, 0: LAND})"
        )
    if classes is not None and label_map is None:
        raise InvalidParameterError("`classes` names the codes of a `label_map`, but none was given; pass both")
    lmap = check_label_map(label_map, classes=classes) if label_map is not None else None
    invalid = np.zeros(values.shape, bool) if mask is None else np.asarray(mask, bool)
    if invalid.shape != values.shape:
        raise ShapeMismatchError(f"`mask` has shape {invalid.shape}, `{name}` has shape {values.shape}")
    nan_key = lmap is not None and any(isinstance(k, float) and np.isnan(k) for k in lmap)
    if nodata is not None:
        nodata = _plain_number(nodata)
        named = lmap is not None and (nodata in lmap or (isinstance(nodata, float) and np.isnan(nodata) and nan_key))
        if not named:
            if isinstance(nodata, float) and np.isnan(nodata):
                if values.dtype.kind == "f":
                    invalid = invalid | np.isnan(values)
            else:
                invalid = invalid | (values == nodata)
    valid = values[~invalid]
    if values.dtype.kind == "b":
        values = values.astype(np.uint8)
        valid = valid.astype(np.uint8)
    present = np.unique(valid)  # sorted; NaN last
    out = np.zeros(values.shape, np.uint8)
    if lmap is None:
        found = [_plain_number(v) for v in present]
        if values.dtype.kind == "f":
            bad = [v for v in found if not (isinstance(v, int) and 0 <= v <= 255)]
        else:
            bad = [v for v in found if not 0 <= v <= 255]
        if bad:
            nan_hint = (" NaN is no label only when declared as the file's nodata (pass `nodata=np.nan`)."
                        if any(isinstance(v, float) and np.isnan(v) for v in bad) else "")
            example = ", ".join(f"{v!r}: ..." for v in found[:4])
            raise ClassCodeError(
                f"`{name}` holds values that are not class codes (integers 0-255): {show_values(bad)} "
                f"(all values found: {show_values(found)}; dtype {values.dtype}). geonb will not round or cast "
                f"them. Say what each value means with `label_map=` (read_labels, read_scene; or "
                f"geonb.labels.remap_labels(values, label_map)), e.g. label_map={{{example}}} "
                "using WATER=1, LAND=2, UNCLASSIFIED=3, NODATA=0 (e.g. label_map={-1: NODATA, 0: LAND, 1: WATER})."
                + nan_hint
            )
        out[~invalid] = valid.astype(np.uint8)
        return out
    keys_num = [k for k in lmap if not (isinstance(k, float) and np.isnan(k))]
    found = [_plain_number(v) for v in present]
    missing = [v for v in found
               if not ((isinstance(v, float) and np.isnan(v) and nan_key) or v in lmap)]
    if missing:
        raise ClassCodeError(
            f"`{name}` holds values {show_values(missing)} that `label_map` {lmap!r} does not name "
            f"(all values found: {show_values(found)}); add them to `label_map` (NODATA=0 for no label)"
        )
    for k in keys_num:
        out[(values == k) & ~invalid] = lmap[k]
    if nan_key and values.dtype.kind == "f":
        out[np.isnan(values) & ~invalid] = lmap[next(k for k in lmap if isinstance(k, float) and np.isnan(k))]
    return out


def one_hot(labels: np.ndarray, classes: tuple[int, ...] = LAKE_CLASSES) -> np.ndarray:
    """Encode class codes as one-hot vectors on a new last axis.

    Pixels whose code is ``NODATA`` (0) and not listed in ``classes`` get an all-zero vector,
    so they carry no weight in a categorical cross-entropy.

    Parameters
    ----------
    labels : ndarray of uint8, shape (..., )
        Class codes.
    classes : tuple of int
        Codes in channel order.

    Returns
    -------
    ndarray of float32, shape (..., len(classes))

    Examples
    --------
    >>> one_hot(np.array([[1, 2], [3, 0]], dtype=np.uint8)).shape
    (2, 2, 3)
    >>> one_hot(np.array([0, 1], dtype=np.uint8))[0].tolist()
    [0.0, 0.0, 0.0]
    """
    classes = tuple(int(c) for c in classes)
    if len(classes) == 0 or len(set(classes)) != len(classes):
        raise InvalidParameterError(f"`classes` must be distinct class codes, got {classes}")
    labels = np.asarray(labels)
    allowed = classes if NODATA in classes else (NODATA, *classes)
    check_class_codes(labels, allowed)
    lookup = np.full(max(max(allowed), int(labels.max(initial=0))) + 1, -1, dtype=np.int64)
    for i, c in enumerate(classes):
        lookup[c] = i
    idx = lookup[labels.astype(np.int64)]
    out = np.zeros(labels.shape + (len(classes),), dtype=np.float32)
    valid = idx >= 0
    out[valid, idx[valid]] = 1.0
    return out


def grid_shape(shape, error: type[Exception] = ShapeMismatchError) -> tuple[int, int]:
    """``(rows, cols)`` as ints, both >= 1, or ``error`` naming the problem."""
    try:
        values = tuple(shape)
        rows, cols = (int(v) for v in values)
    except (TypeError, ValueError, OverflowError) as exc:
        raise error(f"`shape` must be (rows, cols), got {shape!r}") from exc
    # int(10.5) is 10 and int(True) is 1: a fractional or boolean size is a mistake, never truncated.
    if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer, float, np.floating))
           or v != int(v) for v in values):
        raise error(f"`shape` must be two whole numbers (rows, cols), got {shape!r}")
    if rows < 1 or cols < 1:
        raise error(f"`shape` must have rows, cols >= 1, got {(rows, cols)}")
    return rows, cols


# -------------------------------------------------------------------------------------------
# Vector footprints <-> rasters moved to geonb.footprints; their names stay importable from here
# (looked up on first use: geonb.footprints itself imports the class codes from this module).
# -------------------------------------------------------------------------------------------
FOOTPRINT_NAMES: frozenset[str] = frozenset({
    "Footprints",
    "GEOJSON_DEFAULT_CRS",
    "footprints_to_pixels",
    "instance_raster",
    "load_polygons",
    "mask_to_polygons",
    "parse_footprints",
    "pixel_size_m",
    "polygonal_part",
    "polygons_to_geojson",
    "rasterize_footprints",
    "rasterize_labels",
    "signed_distance",
    "split_polygons",
})


def __getattr__(name: str):
    if name in FOOTPRINT_NAMES:
        from geonb import footprints

        return getattr(footprints, name)
    raise AttributeError(f"module 'geonb.labels' has no attribute {name!r}")
