"""Bands by name: band subsets, composites, indices, statistics and PCA, on any sensor.

The band tables (which band of MODIS, Landsat or Sentinel-2 is which, wavelengths, scaling) live in
:mod:`geonb.sensors`; ``Band``, ``MODIS_BANDS`` and ``MODIS_BAND_NAMES`` are re-exported here. Everything
in this module chooses bands by their shared names (``"green"``, ``"nir"``, ``"swir1"``), so a composite
or an index works the same on a MODIS, Landsat or Sentinel-2 scene read with :func:`geonb.scene.read_scene`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from geonb.errors import BandMismatchError, ClassCodeError, InvalidParameterError, ShapeMismatchError
from geonb.sensors import MODIS_BAND_NAMES, SENSORS, SHARED_BAND_NAMES, get_sensor

# Re-exported: the band tables moved to geonb.sensors; these names stay public here.
from geonb.sensors import MODIS_BANDS as MODIS_BANDS
from geonb.sensors import Band as Band

#: The RGB subset the study compared against all 7 bands.
RGB: tuple[str, ...] = ("red", "green", "blue")
ALL_BANDS: tuple[str, ...] = MODIS_BAND_NAMES


def band_info(name: str, sensor: str | None = None) -> Band:
    """Return the :class:`~geonb.sensors.Band` called ``name`` (``"red"``, ``"swir1"``...) of a sensor.

    Parameters
    ----------
    name : str
        A shared name (``"nir"``) or the sensor's own id (``"B8A"``, ``"sur_refl_b02"``).
    sensor : str, optional
        ``"modis"`` (the default, as before), ``"landsat5"``, ``"landsat7"``, ``"landsat8"``, ``"sentinel2"``
        (or an alias such as ``"S2A"``), see :data:`geonb.sensors.SENSORS`.

    Examples
    --------
    >>> band_info("swir1").wavelength_nm
    (1628, 1652)
    >>> b = band_info("B8A", sensor="sentinel2")
    >>> b.name, b.wavelength_nm, b.resolution_m
    ('nir_narrow', (855, 875), 20)
    """
    table = get_sensor(sensor if sensor is not None else "modis")
    for b in table.bands:
        if b.name == name:
            return b
    try:
        return table.band(name)
    except BandMismatchError:
        pass
    elsewhere = [k for k, s in SENSORS.items() if name in s.band_names]
    hint = (f"; {name!r} is a band of {elsewhere}: pass sensor={elsewhere[0]!r}" if elsewhere and sensor is None
            else "")
    which = "MODIS" if sensor is None else table.name
    raise BandMismatchError(
        f"unknown band name {name!r}; {which} bands are {list(table.band_names)}{hint}"
    )


def band_indices(wanted: tuple[str, ...] | list[str], available: tuple[str, ...] | list[str]) -> list[int]:
    """Positions of the bands ``wanted`` within ``available``, by name.

    Examples
    --------
    >>> band_indices(("red", "green", "blue"), MODIS_BAND_NAMES)
    [0, 3, 2]
    """
    if isinstance(wanted, str):
        wanted = (wanted,)
    if isinstance(available, str):
        available = (available,)
    available = list(available)
    missing = [w for w in wanted if w not in available]
    if missing:
        raise BandMismatchError(
            f"band(s) {missing} are not in this image; available bands are {available}. "
            "Choose bands by these names, e.g. bands=('red', 'green', 'blue')."
        )
    if len(set(wanted)) != len(wanted):
        raise BandMismatchError(f"`bands` lists a band twice: {list(wanted)}")
    return [available.index(w) for w in wanted]


def select_bands(image: np.ndarray, available: tuple[str, ...] | list[str],
                 wanted: tuple[str, ...] | list[str]) -> np.ndarray:
    """Return the bands ``wanted`` of an image ``(rows, cols, bands)`` (or patches ``(n, r, c, bands)``)."""
    image = np.asarray(image)
    available = _names(available)
    if image.ndim < 2:
        raise BandMismatchError(f"`image` must be (rows, cols, bands) or (pixels, bands), got shape {image.shape}")
    if image.shape[-1] != len(available):
        raise BandMismatchError(
            f"`image` has {image.shape[-1]} bands on its last axis but {len(available)} band names "
            f"were given ({list(available)})"
        )
    return image[..., band_indices(wanted, available)]


# -------------------------------------------------------------------------------------------
# Composites and indices
# -------------------------------------------------------------------------------------------
# Composites and indices name shared bands (geonb.sensors), so they work on every sensor that has them:
# true colour is MODIS 1-4-3, Landsat 4-7 3-2-1, Landsat 8-9 4-3-2, Sentinel-2 B4-B3-B2.
#: True colour (red, green, blue): MODIS 1-4-3, TM/ETM+ 3-2-1, OLI 4-3-2, Sentinel-2 B4-B3-B2.
TRUE_COLOR: tuple[str, ...] = ("red", "green", "blue")
#: False colour (NIR, SWIR 1.6 um, red): water is dark, vegetation bright. MODIS 2-6-1, TM/ETM+ 4-5-3,
#: OLI 5-6-4, Sentinel-2 B8-B11-B4.
FALSE_COLOR: tuple[str, ...] = ("nir", "swir1", "red")
#: SWIR composite (SWIR 2.2 um, NIR, red): water near black, snow/ice cyan. MODIS 7-2-1, TM/ETM+ 7-4-3,
#: OLI 7-5-4, Sentinel-2 B12-B8-B4.
SWIR: tuple[str, ...] = ("swir2", "nir", "red")
#: Named composites, for drop-downs (the numbers are MODIS band numbers; the bands are chosen by name).
COMPOSITES: dict[str, tuple[str, ...]] = {"true colour (1-4-3)": TRUE_COLOR,
                                          "false colour (2-6-1)": FALSE_COLOR,
                                          "SWIR (7-2-1)": SWIR}


#: What each preset is called in messages, by its bands.
_PRESET_NAMES: dict[tuple[str, ...], str] = {TRUE_COLOR: "the true colour composite",
                                             FALSE_COLOR: "the false colour composite",
                                             SWIR: "the SWIR composite"}


def _require(available: Sequence[str], needed: Sequence[str], what: str) -> None:
    """Raise a :class:`BandMismatchError` that says what ``what`` needs when a band of ``needed`` is missing."""
    available = list(available)
    missing = [n for n in needed if n not in available]
    if not missing:
        return
    unnamed = all(re.fullmatch(r"band_\d+", n) for n in available)
    hint = ("The bands have no names (band_1 ... band_n: the sensor was not recognised): read the file with "
            "read_scene(path, sensor='landsat5') (or 'landsat7', 'landsat8', 'sentinel2', 'modis'), or "
            "band_ids=(...) for the sensor's band ids in file order." if unnamed else
            "Choose bands by these names, or read the file with sensor=... so they get geonb's shared names "
            f"({', '.join(SHARED_BAND_NAMES[:9])}, ...).")
    raise BandMismatchError(
        f"{what} needs bands {list(needed)}; band(s) {missing} are not in this image; available bands are "
        f"{available}. {hint}"
    )


def _names(bands) -> tuple[str, ...]:
    """Band names as a tuple; one name given as a string is one band (not its letters)."""
    return (bands,) if isinstance(bands, str) else tuple(bands)


def _check_bands_last(image: np.ndarray, name: str = "image") -> None:
    """Refuse rasterio's (bands, rows, cols) passed where (rows, cols, bands) is expected."""
    if image.ndim == 3 and image.shape[0] < image.shape[2] and image.shape[0] <= 16 < image.shape[1]:
        raise BandMismatchError(
            f"`{name}` has shape {image.shape}: {image.shape[0]} rows and {image.shape[2]} bands looks like "
            "rasterio's (bands, rows, cols). geonb images are (rows, cols, bands): pass np.moveaxis(a, 0, -1)")


def _unpack(image, band_names, nodata_mask):
    """Accept a Scene or an array + band names; return (array, names, mask)."""
    if hasattr(image, "image") and hasattr(image, "band_names"):  # a Scene (no import: scene imports us)
        scene = image
        return (scene.image, tuple(scene.band_names),
                scene.nodata_mask if nodata_mask is None else np.asarray(nodata_mask, dtype=bool))
    if image is None:
        raise BandMismatchError("`image` is None; pass a Scene or an array (rows, cols, bands)")
    image = np.asarray(image)
    if image.ndim < 2 or image.dtype.kind not in "uif":
        raise BandMismatchError(
            f"`image` must be a numeric array (rows, cols, bands) (or pixels (n, bands)), got shape {image.shape} "
            f"dtype {image.dtype}; one band: `a[..., None]` with `band_names=(name,)`")
    _check_bands_last(image)
    if band_names is None:
        if image.shape[-1] == len(MODIS_BAND_NAMES):
            band_names = MODIS_BAND_NAMES
        else:
            raise BandMismatchError(
                f"`band_names` is needed for an image with {image.shape[-1]} bands on its last axis (shape "
                f"{image.shape}; MODIS order is assumed only for 7 bands): pass band_names=(...) or a Scene"
            )
    band_names = _names(band_names)
    mask = None if nodata_mask is None else np.asarray(nodata_mask, dtype=bool)
    if mask is not None and mask.shape != image.shape[:-1]:
        raise BandMismatchError(f"`nodata_mask` has shape {mask.shape}, the image grid is {image.shape[:-1]}")
    return image, tuple(band_names), mask


def percentile_stretch(values: np.ndarray, stretch: tuple[float, float] = (2, 98),
                       mask: np.ndarray | None = None) -> np.ndarray:
    """Scale each band of ``values`` ``(..., bands)`` linearly so percentiles ``stretch`` map to 0 and 1.

    Percentiles are taken over valid pixels only (``mask`` True = invalid); the result is clipped
    to [0, 1], float32.
    """
    lo_p, hi_p = stretch
    if not (0 <= lo_p < hi_p <= 100):
        raise InvalidParameterError(f"`stretch` must be (low, high) percentiles with 0 <= low < high <= 100, "
                                    f"got {stretch}")
    values = np.asarray(values, dtype=np.float32)
    flat = values.reshape(-1, values.shape[-1])
    valid = np.isfinite(flat).all(axis=1)
    if mask is not None:
        valid &= ~np.asarray(mask, dtype=bool).reshape(-1)
    if not valid.any():
        return np.zeros_like(values)
    lo, hi = np.percentile(flat[valid], [lo_p, hi_p], axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.clip((values - lo) / span, 0.0, 1.0).astype(np.float32)


def composite(image, band_names: Sequence[str] | None = None, bands: Sequence[str] = TRUE_COLOR,
              stretch: tuple[float, float] | None = (2, 98), nodata_mask: np.ndarray | None = None) -> np.ndarray:
    """An RGB picture of three bands, chosen by name, with a percentile stretch.

    Parameters
    ----------
    image : ndarray (rows, cols, bands) or Scene
    band_names : sequence of str, optional
        Names of the image's bands (taken from the Scene; MODIS order for 7 bands).
    bands : 3 band names
        Displayed as red, green, blue: :data:`TRUE_COLOR` (1-4-3), :data:`FALSE_COLOR` (2-6-1),
        :data:`SWIR` (7-2-1).
    stretch : (low, high) percentiles, or None
        Each channel is stretched so these percentiles of valid pixels map to 0 and 1.
        ``None``: reflectance clipped to [0, 1].
    nodata_mask : ndarray of bool (rows, cols), optional
        True = no data; shown white and left out of the percentiles. NaN/inf pixels are too.

    Returns
    -------
    ndarray of float32, shape (rows, cols, 3), values in [0, 1]

    Raises
    ------
    BandMismatchError
        A name in ``bands`` is not a band of the image (the message lists the available names), or
        the array is not (rows, cols, bands) (e.g. rasterio's bands-first order).

    Examples
    --------
    >>> rgb = composite(np.random.default_rng(0).random((4, 5, 7), dtype=np.float32))
    >>> rgb.shape, float(rgb.min()) >= 0, float(rgb.max()) <= 1
    ((4, 5, 3), True, True)
    """
    bands = _names(bands)
    if len(bands) != 3:
        raise BandMismatchError(f"`bands` must name 3 bands (shown as R, G, B), got {list(bands)}")
    arr, names, mask = _unpack(image, band_names, nodata_mask)
    _require(names, bands, _PRESET_NAMES.get(bands, "this composite"))
    rgb = select_bands(arr, names, bands)
    # NaN/inf are no data in a picture: white like masked pixels, and out of the percentiles
    bad = ~np.isfinite(rgb).all(axis=-1)
    if bad.any():
        mask = bad if mask is None else (np.asarray(mask, dtype=bool) | bad)
    out = percentile_stretch(rgb, stretch, mask) if stretch is not None else np.clip(rgb, 0, 1).astype(np.float32)
    if mask is not None:
        out[mask] = 1.0
    return out


def normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(a - b) / (a + b)`` as float32; NaN where ``a + b == 0``."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    if a.shape != b.shape:
        raise ShapeMismatchError(
            f"`a` has shape {a.shape} and `b` has shape {b.shape}; the two bands must be on the same grid"
        )
    den = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den != 0, (a - b) / den, np.nan)
    return out.astype(np.float32)


def _band(data, band_names, name: str, nodata_mask=None, what: str = "", needed: Sequence[str] = ()) -> np.ndarray:
    if hasattr(data, "columns"):  # a pixel table
        if name not in data.columns:
            need = f"{what} needs columns {list(needed)}; " if what else ""
            raise BandMismatchError(f"{need}the table has no column {name!r}; columns are {list(data.columns)}")
        return data[name].to_numpy(dtype=np.float32)
    arr, names, mask = _unpack(data, band_names, nodata_mask)
    if what:
        _require(names, needed, what)
    out = select_bands(arr, names, (name,))[..., 0].astype(np.float32)
    if mask is not None:
        out = np.where(mask, np.nan, out).astype(np.float32)
    return out


def ndwi(image, band_names: Sequence[str] | None = None, nodata_mask: np.ndarray | None = None) -> np.ndarray:
    """McFeeters' NDWI = (green - nir) / (green + nir); water > 0 typically. NaN where no data.

    ``image`` is a Scene, an array ``(..., bands)`` with ``band_names``, or a pixel table. Bands are
    chosen by shared name on any sensor (``nir`` is MODIS band 2, TM/ETM+ B4, OLI B5, Sentinel-2 B8);
    a :class:`BandMismatchError` says which of ``green``/``nir`` the image lacks.

    Examples
    --------
    >>> img = np.array([[[0.05, 0.02], [0.08, 0.30]]], np.float32)  # 1 x 2 px: water, vegetation
    >>> np.round(ndwi(img, band_names=("green", "nir")), 2)
    array([[ 0.43, -0.58]], dtype=float32)
    """
    need = ("green", "nir")
    return normalized_difference(_band(image, band_names, "green", nodata_mask, "NDWI", need),
                                 _band(image, band_names, "nir", nodata_mask, "NDWI", need))


def mndwi(image, band_names: Sequence[str] | None = None, nodata_mask: np.ndarray | None = None) -> np.ndarray:
    """Xu's modified NDWI = (green - swir1) / (green + swir1) . NaN where no data.

    ``swir1`` is the 1.6 um band: MODIS band 6, TM/ETM+ B5, OLI B6, Sentinel-2 B11; a
    :class:`BandMismatchError` says which of ``green``/``swir1`` the image lacks (an RGB + NIR image has no
    SWIR band: use :func:`ndwi`).

    It separates water from built-up land and is less fooled by turbid water than NDWI.
    """
    need = ("green", "swir1")
    return normalized_difference(_band(image, band_names, "green", nodata_mask, "MNDWI", need),
                                 _band(image, band_names, "swir1", nodata_mask, "MNDWI", need))


# -------------------------------------------------------------------------------------------
# Pixel tables, statistics and normalisation
# -------------------------------------------------------------------------------------------
def pixel_table(scenes, bands: Sequence[str] | None = None):
    """One row per labelled, valid pixel of some scenes: ``lake_id``, one column per band, ``label``.

    The same layout as ``LakeDataset.pixel_table``; use this for scenes of your own.
    Memory: ``pixels x (bands + 2)`` values.
    """
    import pandas as pd

    if hasattr(scenes, "image") and hasattr(scenes, "band_names"):
        scenes = [scenes]
    frames = []
    for i, sc in enumerate(scenes):
        if sc.labels is None:
            raise BandMismatchError(f"scene {sc.name!r} has no labels; a pixel table needs labelled scenes")
        names = _names(bands) if bands is not None else tuple(sc.band_names)
        arr = select_bands(sc.image, sc.band_names, names)
        ok = (sc.labels != 0) & ~sc.nodata_mask
        sid = str((sc.properties or {}).get("id") or sc.name or f"scene_{i}")
        _check_finite(arr[ok], f"the image of scene {sid!r} (outside its nodata_mask)")
        df = pd.DataFrame(arr[ok], columns=list(names))
        df.insert(0, "lake_id", sid)
        df["label"] = sc.labels[ok]
        frames.append(df)
    if not frames:
        raise BandMismatchError("`scenes` is empty: no pixels to tabulate")
    return pd.concat(frames, ignore_index=True)


def _check_finite(arr: np.ndarray, what: str) -> None:
    """NaN/inf in pixels that count is an error, never a NaN statistic or a silently smaller sample."""
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = int(bad.reshape(len(arr), -1).any(axis=1).sum()) if arr.ndim > 1 else int(bad.sum())
        raise InvalidParameterError(
            f"{what} holds NaN/inf in {rows} pixel(s); no data must be left out, not averaged: pass a Scene whose "
            "`nodata_mask` marks them, or drop those pixels (e.g. `x[np.isfinite(x).all(axis=1)]`)")


def _table_bands(columns) -> tuple[str, ...]:
    """The band columns of a pixel table: MODIS order for MODIS bands (as before), else column order.

    Band columns are shared band names of any sensor (:data:`geonb.sensors.SHARED_BAND_NAMES`) and
    ``band_1`` ... ``band_n`` (a raster of unknown sensor).
    """
    cols = [str(c) for c in columns if str(c) in SHARED_BAND_NAMES or re.fullmatch(r"band_\d+", str(c))]
    if set(cols) <= set(MODIS_BAND_NAMES):
        return tuple(n for n in MODIS_BAND_NAMES if n in cols)
    return tuple(cols)


def _as_matrix(data, bands: Sequence[str] | None, band_names: Sequence[str] | None = None):
    """(n, bands) float array + band names from a pixel table or an array; NaN/inf are an error."""
    if bands is not None:
        bands = _names(bands)
    if data is None:
        raise BandMismatchError("`data` is None; pass a pixel table, an array (pixels, bands) or scenes")
    if hasattr(data, "columns"):
        names = tuple(bands) if bands is not None else _table_bands(data.columns)
        missing = [n for n in names if n not in data.columns]
        if missing or not names:
            raise BandMismatchError(
                f"band(s) {missing or list(SHARED_BAND_NAMES)} are not columns of the table "
                f"(columns: {list(data.columns)}); choose bands by column name"
            )
        arr = data[list(names)].to_numpy(dtype=np.float64)
        _check_finite(arr, "the table")
        return arr, names
    raw = np.asarray(data)
    if raw.dtype.kind not in "uif":
        raise BandMismatchError(f"`data` must hold numbers (reflectance), got dtype {raw.dtype}")
    arr = raw.astype(np.float64)
    if arr.ndim != 2:
        hint = (" For an image (rows, cols, bands) pass a Scene (its nodata_mask is then left out) or "
                "`image[~nodata_mask]`." if arr.ndim == 3 else "")
        raise BandMismatchError(
            f"`data` must be a pixel table or an array (pixels, bands), got shape {arr.shape}.{hint}")
    if arr.shape[0] == 0:
        raise BandMismatchError(f"`data` has no pixels (shape {arr.shape})")
    _check_finite(arr, "`data`")
    if band_names is not None:
        names = tuple(band_names)
    elif arr.shape[1] == len(MODIS_BAND_NAMES):
        names = MODIS_BAND_NAMES
    else:
        names = tuple(f"band_{i + 1}" for i in range(arr.shape[1]))
    if bands is not None:
        arr = select_bands(arr, names, tuple(bands))
        names = tuple(bands)
    elif len(names) != arr.shape[1]:
        raise BandMismatchError(f"{len(names)} band names for an array with {arr.shape[1]} bands")
    return arr, names


#: Pixels sampled for statistics that do not need every pixel (PCA, logistic regression baselines, covariances).
MAX_SAMPLE_PIXELS = 200_000


def pixel_moments(blocks: Iterable[np.ndarray]) -> tuple[int, np.ndarray, np.ndarray]:
    """Number of pixels, mean and variance per band of pixel blocks, in one pass.

    The one statistics routine of geonb: :func:`band_statistics` (scene by scene) and
    :func:`geonb.models.input_statistics` (the models' ``Normalization`` layer) both use it.
    Each block's moments are computed in float64 and merged exactly (Chan, Golub and LeVeque's
    pairwise update), so no block is copied into one big array and the variance does not suffer
    the cancellation of ``E[x**2] - E[x]**2``. One block gives exactly ``x.mean(0)``, ``x.var(0)``.

    Parameters
    ----------
    blocks : iterable of ndarray, shape (..., bands)
        Valid pixels only (e.g. ``image[~nodata_mask]``); all blocks have the same number of bands.

    Returns
    -------
    n : int
        Pixels seen (0 when every block was empty: then ``mean`` and ``var`` are empty arrays).
    mean, var : ndarray of float64, shape (bands,)
        Population variance (``ddof=0``).

    Examples
    --------
    >>> x = np.arange(12, dtype=np.float32).reshape(6, 2)
    >>> n, mean, var = pixel_moments([x[:1], x[1:]])
    >>> n, mean.tolist(), bool(np.allclose(var, x.var(axis=0)))
    (6, [5.0, 6.0], True)
    """
    n, mean, var = 0, np.zeros(0), np.zeros(0)
    for block in blocks:
        x = np.asarray(block)
        x = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        k = x.shape[0]
        if k == 0:
            continue
        b_mean, b_var = x.mean(axis=0, dtype=np.float64), x.var(axis=0, dtype=np.float64)
        if n == 0:
            n, mean, var = k, b_mean, b_var
            continue
        if b_mean.shape != mean.shape:
            raise BandMismatchError(f"pixel blocks with {mean.shape[0]} and {b_mean.shape[0]} bands")
        total = n + k
        delta = b_mean - mean
        mean = mean + delta * (k / total)
        var = (n * var + k * b_var) / total + delta * delta * (n * k / total**2)
        n = total
    return n, mean, var


@dataclass(frozen=True)
class BandStatistics:
    """Per-band mean and standard deviation of valid pixels (for normalisation).

    Attributes
    ----------
    band_names : tuple of str
    mean, std : ndarray of float64, shape (bands,)
    n_pixels : int
    source : str
        What they were computed on (e.g. ``"lakes-synthetic/train"``).
    """

    band_names: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    n_pixels: int
    source: str = ""

    def normalize(self, array: np.ndarray, band_names: Sequence[str] | None = None) -> np.ndarray:
        """``(array - mean) / std`` band by band; ``array`` is ``(..., bands)`` (see :func:`normalize`)."""
        return normalize(array, self, band_names)

    def to_frame(self):
        """A small table: one row per band with mean and std."""
        import pandas as pd

        return pd.DataFrame({"mean": self.mean, "std": self.std}, index=pd.Index(self.band_names, name="band"))


def band_statistics(data, split: str | None = "train", bands: Sequence[str] | None = None) -> BandStatistics:
    """Mean and standard deviation per band, over valid pixels of the training split.

    Compute these on the training split only and reuse them for validation and test, so no
    information leaks from the test lakes into the model.

    Parameters
    ----------
    data : LakeDataset, Scene, iterable of Scene, pixel table, or array (pixels, bands)
        For a dataset, the scenes of ``split`` are used.
    split : str or None
        Split of a dataset (``None``: all lakes). Ignored for other inputs.
    bands : sequence of str, optional
        Bands to keep (default all).

    Returns
    -------
    BandStatistics

    Raises
    ------
    InvalidParameterError
        NaN/inf in pixels that count (outside a scene's ``nodata_mask``, or anywhere in a table or
        array): they must be marked as no data, not averaged into a NaN statistic.
    BandMismatchError
        No valid pixel, unknown or repeated band names, scenes with different bands.
    """
    source = ""
    if bands is not None:
        bands = _names(bands)
    if data is None:
        raise BandMismatchError("`data` is None; pass a LakeDataset, scenes, a pixel table or an array")
    if hasattr(data, "columns") or isinstance(data, np.ndarray):
        arr, names = _as_matrix(data, bands)
        n, mean, var = pixel_moments([arr])
        return BandStatistics(names, mean, np.sqrt(var), n, "table")
    if hasattr(data, "scenes") and callable(data.scenes):
        source = f"{getattr(data, 'name', 'dataset')}/{split or 'all'}"
        scenes = data.scenes(split) if split is not None else data.scenes()
    elif hasattr(data, "image") and hasattr(data, "band_names"):
        scenes = [data]
    else:
        scenes = data
        try:
            iter(scenes)
        except TypeError as exc:
            raise BandMismatchError(
                f"`data` must be a LakeDataset, scenes, a pixel table or an array, got {type(data).__name__}") from exc
    names: tuple[str, ...] | None = None

    def valid_pixels():
        nonlocal names
        for sc in scenes:
            arr = sc.image if bands is None else select_bands(sc.image, sc.band_names, tuple(bands))
            these = tuple(sc.band_names) if bands is None else tuple(bands)
            if names is None:
                names = these
            elif these != names:
                raise BandMismatchError(f"scene {sc.name!r} has bands {these}, earlier scenes {names}")
            valid = arr[~sc.nodata_mask]
            _check_finite(valid, f"the image of scene {sc.name!r} (outside its nodata_mask)")
            yield valid

    total, mean, var = pixel_moments(valid_pixels())
    if names is None or total == 0:
        raise BandMismatchError("no valid pixels to compute band statistics on (no scenes, or all no data)")
    return BandStatistics(names, mean, np.sqrt(var), int(total), source)


def normalize(array: np.ndarray, stats: BandStatistics, band_names: Sequence[str] | None = None) -> np.ndarray:
    """Standardise ``array`` ``(..., bands)`` with training statistics, matching bands by name.

    ``band_names`` names the bands of ``array`` (default: the statistics' own bands); it may be a
    subset of them, e.g. RGB patches normalised with 7-band statistics. Bands with zero spread
    are only centred. Returns float32.
    """
    array = np.asarray(array)
    names = _names(band_names) if band_names is not None else stats.band_names
    if array.shape[-1] != len(names):
        raise BandMismatchError(f"`array` has {array.shape[-1]} bands, `band_names` names {len(names)}")
    idx = band_indices(names, stats.band_names)
    std = np.where(stats.std[idx] > 0, stats.std[idx], 1.0)
    return ((array - stats.mean[idx]) / std).astype(np.float32)


# -------------------------------------------------------------------------------------------
# PCA and class spectra
# -------------------------------------------------------------------------------------------
@dataclass
class PCAResult:
    """A PCA fitted on pixels: explained variance, loadings per band, and a transform for scenes.

    Attributes
    ----------
    band_names : tuple of str
        Input bands, in order.
    model : sklearn.pipeline.Pipeline
        (optional ``StandardScaler``) + ``PCA``.
    standardize : bool
        Whether bands were standardised first (PCA on correlations rather than covariances).
    n_pixels : int
    """

    band_names: tuple[str, ...]
    model: object
    standardize: bool
    n_pixels: int

    @property
    def pca(self):
        return self.model[-1]

    @property
    def n_components(self) -> int:
        return int(self.pca.n_components_)

    @property
    def component_names(self) -> tuple[str, ...]:
        return tuple(f"pc{i + 1}" for i in range(self.n_components))

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        """Fraction of the total variance each component explains, ``(n_components,)``."""
        return np.asarray(self.pca.explained_variance_ratio_)

    @property
    def cumulative(self) -> np.ndarray:
        """Cumulative explained variance, ``(n_components,)``."""
        return np.cumsum(self.explained_variance_ratio)

    @property
    def loadings(self):
        """DataFrame ``(bands, components)``: each component's weight on each band (unit-length axes)."""
        import pandas as pd

        return pd.DataFrame(self.pca.components_.T, index=pd.Index(self.band_names, name="band"),
                            columns=list(self.component_names))

    def components_for(self, fraction: float) -> int:
        """Fewest components whose cumulative explained variance reaches ``fraction`` (e.g. 0.99)."""
        if not 0 < fraction <= 1:
            raise InvalidParameterError(f"`fraction` must be in (0, 1], got {fraction}")
        hit = np.nonzero(self.cumulative >= fraction - 1e-12)[0]
        return int(hit[0] + 1) if hit.size else self.n_components

    def table(self):
        """DataFrame with ``explained`` and ``cumulative`` per component."""
        import pandas as pd

        return pd.DataFrame({"explained": self.explained_variance_ratio, "cumulative": self.cumulative},
                            index=pd.Index(self.component_names, name="component"))

    def transform(self, array: np.ndarray, band_names: Sequence[str] | None = None) -> np.ndarray:
        """Project pixels ``(..., bands)`` onto the components: ``(..., n_components)`` float32.

        A pixel with a NaN/inf band value has NaN components (no data in, no data out).
        """
        array = np.asarray(array)
        if band_names is not None:
            array = select_bands(array, band_names, self.band_names)
        elif array.shape[-1] != len(self.band_names):
            raise BandMismatchError(f"`array` has {array.shape[-1]} bands, the PCA was fitted on "
                                    f"{len(self.band_names)} ({list(self.band_names)})")
        flat = array.reshape(-1, array.shape[-1]).astype(np.float64)
        ok = np.isfinite(flat).all(axis=1)
        out = np.full((flat.shape[0], self.n_components), np.nan)
        if ok.any():
            out[ok] = self.model.transform(flat[ok])
        return out.reshape(array.shape[:-1] + (self.n_components,)).astype(np.float32)

    def transform_scene(self, scene):
        """A copy of ``scene`` whose bands are ``pc1 .. pck`` (no-data pixels stay 0): a model input."""
        from dataclasses import replace

        pcs = self.transform(scene.image, scene.band_names)
        pcs[scene.nodata_mask] = 0.0
        _check_finite(pcs, f"the image of scene {scene.name!r} (outside its nodata_mask)")
        return replace(scene, image=pcs, band_names=self.component_names)


def fit_pca(data, n_components: int | None = None, bands: Sequence[str] | None = None,
            standardize: bool = False, max_pixels: int | None = MAX_SAMPLE_PIXELS, seed: int = 0) -> PCAResult:
    """Fit a PCA on pixels (the study's Figure 4) with scikit-learn.

    Parameters
    ----------
    data : pixel table (DataFrame with band columns) or array (pixels, bands)
        Valid pixels only: NaN/inf is an error (leave no-data pixels out, e.g. with
        ``LakeDataset.pixel_table``), not silently dropped.
    n_components : int, optional
        Default: as many as bands.
    bands : sequence of str, optional
        Bands to use (default the 7 MODIS bands present).
    standardize : bool
        Standardise bands first. The study did not: on raw reflectance the brightest, most variable
        bands dominate; standardised, every band counts equally.
    max_pixels : int or None
        Fit on a random sample of at most this many pixels (PCA on 200,000 pixels is exact to a
        few decimals and fast); ``None``: all.
    seed : int
        Seed of that sample.

    Returns
    -------
    PCAResult

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(500, 7))
    >>> fit_pca(x, 3).explained_variance_ratio.shape
    (3,)
    """
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    arr, names = _as_matrix(data, bands)
    nb = len(names)
    if n_components is None:
        n_components = nb
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
        raise InvalidParameterError(f"`n_components` must be a positive integer, got {n_components!r}")
    if n_components > nb:
        raise InvalidParameterError(
            f"`n_components`={n_components} is more than the {nb} bands {list(names)}; "
            f"a PCA has at most one component per band: use n_components <= {nb}"
        )
    if arr.shape[0] < n_components:
        raise InvalidParameterError(f"PCA needs at least {n_components} valid pixels, got {arr.shape[0]}")
    if max_pixels is not None and arr.shape[0] > max_pixels:
        rng = np.random.default_rng(seed)
        arr = arr[rng.choice(arr.shape[0], size=max_pixels, replace=False)]
    steps = ([StandardScaler()] if standardize else []) + [PCA(n_components=int(n_components), random_state=seed)]
    model = make_pipeline(*steps).fit(arr)
    return PCAResult(names, model, bool(standardize), int(arr.shape[0]))


def class_spectra(table, classes: Sequence[int] | None = None, bands: Sequence[str] | None = None,
                  sensor: str | None = None):
    """Mean spectrum per class with its spread, from a pixel table.

    ``sensor`` (``"landsat5"``, ``"sentinel2"``..., default MODIS) gives the band centres; a band the
    sensor does not have (``band_1``) gets a NaN wavelength.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per (class, band) with ``class``, ``class_name``, ``band``, ``wavelength_nm``
        (band centre), ``mean``, ``std``, ``p10``, ``p90``, ``n``; bands in wavelength order.
    """
    import pandas as pd

    from geonb.labels import LAKE_CLASS_NAMES, LAKE_CLASSES

    if not hasattr(table, "columns") or "label" not in table.columns:
        raise BandMismatchError("`table` must be a pixel table with a `label` column (LakeDataset.pixel_table)")
    arr, names = _as_matrix(table, bands)
    labels = table["label"].to_numpy()
    classes = tuple(classes) if classes is not None else tuple(c for c in LAKE_CLASSES if np.any(labels == c))
    table_names = get_sensor(sensor if sensor is not None else "modis").band_names
    rows = []
    for c in classes:
        x = arr[labels == c]
        if x.shape[0] == 0:
            continue
        p10, p90 = np.percentile(x, [10, 90], axis=0)
        for j, name in enumerate(names):
            wl = band_info(name, sensor).center_nm if name in table_names else np.nan
            rows.append({"class": int(c), "class_name": LAKE_CLASS_NAMES.get(int(c), str(c)), "band": name,
                         "wavelength_nm": wl, "mean": x[:, j].mean(), "std": x[:, j].std(),
                         "p10": p10[j], "p90": p90[j], "n": int(x.shape[0])})
    out = pd.DataFrame(rows)
    if out.empty:
        raise ClassCodeError(
            f"no pixels of classes {list(classes)} in the table; the classes present are "
            f"{sorted(int(c) for c in np.unique(labels) if c != 0)}: pass some of those as `classes=`"
        )
    return out.sort_values(["class", "wavelength_nm"]).reset_index(drop=True)
