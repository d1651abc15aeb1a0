"""Scenes: an image with its labels and georeferencing, read from and written to GeoTIFF.

This is the one place where rasterio's ``(bands, rows, cols)`` becomes geonb's
``(rows, cols, bands)``, where a file's bands get geonb's shared names from its sensor
(:mod:`geonb.sensors`: detected from tags, an MTL file or band descriptions, or given), and where
integer scaling (MODIS x 0.0001, fill -28672; Landsat Collection-2; Sentinel-2) is undone.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import RasterioIOError, WindowError
from rasterio.windows import Window

from geonb.bands import MODIS_BAND_NAMES, band_indices
from geonb.errors import (
    BandMismatchError,
    GeonbWarning,
    GridMismatchError,
    InvalidParameterError,
    RasterReadError,
    ShapeMismatchError,
)
from geonb.io import atomic_path, atomic_paths, check_output_paths, open_raster
from geonb.labels import as_crs, check_label_map, remap_labels
from geonb.sensors import (
    SENSORS,
    Band,
    Product,
    bands_by_count,
    get_sensor,
    match_bands,
    parse_mtl,
    sensor_from_mtl,
    sensor_from_tags,
    sensors_matching,
)

#: MODIS surface reflectance scale factor and fill value (MOD09 user guide).
MODIS_SCALE = 0.0001
MODIS_FILL = -28672
#: An image whose first axis is at most this and whose other two are larger is taken for a
#: (bands, rows, cols) array: real band counts are small, real scenes have more than 16 rows.
_MAX_BANDS_FIRST = 16


def is_synthetic(properties) -> bool:
    """Whether catalog or scene ``properties`` mark a stand-in scene made by geonb's generator.

    True for ``{"synthetic": True}`` or ``{"source": "synthetic"}`` (what
    :mod:`geonb.datasets.synthetic` writes); real data (e.g. :mod:`geonb.datasets.stac` chips) is not.
    """
    if not isinstance(properties, Mapping):
        return False
    flag = properties.get("synthetic")
    return (isinstance(flag, (bool, np.bool_)) and bool(flag)) or properties.get("source") == "synthetic"


def scene_title(name, properties=None) -> str:
    """The title a figure, viewer, map or table gives a scene: its name, and for a stand-in scene
    ``"synthetic scene near <name>"`` so nobody takes it for the real place.

    Examples
    --------
    >>> scene_title("Lake Onega", {"source": "synthetic"})
    'synthetic scene near Lake Onega'
    >>> scene_title("Lake Onega", {"source": "MOD09A1 + JRC GSW"})
    'Lake Onega'
    """
    name = "" if name is None else str(name)
    if not is_synthetic(properties) or name.lower().startswith("synthetic"):
        return name
    return f"synthetic scene near {name}" if name else "synthetic scene"


@dataclass
class Scene:
    """An image with optional labels on the same grid.

    Attributes
    ----------
    image : ndarray of float32, shape (rows, cols, bands)
        Physical values (reflectance for MODIS). Invalid pixels hold 0 and are True in ``nodata_mask``.
    labels : ndarray of uint8, shape (rows, cols), or None
        Class codes (``geonb.labels``); 0 means no label.
    band_names : tuple of str
        One name per band, e.g. ``("red", "nir", ...)``.
    crs : rasterio.crs.CRS or None
    transform : affine.Affine
        Pixel to CRS coordinates, for the top-left corner of pixel (0, 0).
    nodata_mask : ndarray of bool, shape (rows, cols)
        True where the image has no valid data (any band missing).
    name : str
        A human name ("Lake Victoria"), or the file stem.
    properties : dict
        Free metadata from a catalog (id, split, condition...); ``source: "synthetic"`` marks a stand-in
        scene, which :attr:`title` then calls "synthetic scene near <name>".
    """

    image: np.ndarray
    labels: np.ndarray | None = None
    band_names: tuple[str, ...] = ()
    crs: CRS | None = None
    transform: Affine = field(default_factory=Affine.identity)
    nodata_mask: np.ndarray | None = None
    name: str = ""
    properties: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        image = np.asarray(self.image)
        if image.dtype.kind not in "uifb":
            raise InvalidParameterError(
                f"`image` must hold numbers (reflectance, DN), got dtype {image.dtype}; convert it, e.g. "
                "image.astype(np.float32)"
            )
        if image.ndim == 2:
            image = image[:, :, None]
        if image.ndim != 3:
            raise ShapeMismatchError(
                f"`image` must have shape (rows, cols, bands), got shape {image.shape}"
            )
        if image.shape[2] == 0:
            raise BandMismatchError("`image` has 0 bands; a scene needs at least one band")
        if image.shape[0] == 0 or image.shape[1] == 0:
            raise ShapeMismatchError(f"`image` must have rows, cols >= 1, got shape {image.shape}")
        rows, cols, nb = image.shape
        # rasterio's (bands, rows, cols) passed as (rows, cols, bands): few "rows", many "cols" and "bands".
        if rows <= _MAX_BANDS_FIRST and cols > _MAX_BANDS_FIRST and nb > _MAX_BANDS_FIRST:
            raise ShapeMismatchError(
                f"`image` has shape {image.shape}: {rows} rows and {nb} bands looks like a (bands, rows, cols) "
                "array (rasterio's order). geonb images are (rows, cols, bands): pass np.moveaxis(image, 0, -1)"
            )
        image = image.astype(np.float32, copy=False)
        if self.nodata_mask is None:
            mask = np.zeros((rows, cols), dtype=bool)
        else:
            mask = np.asarray(self.nodata_mask)
            if mask.shape != (rows, cols):
                raise ShapeMismatchError(
                    f"`nodata_mask` has shape {mask.shape}, the image grid is {(rows, cols)}"
                )
            if mask.dtype != bool:
                if mask.dtype.kind not in "uif" or not np.isin(mask, (0, 1)).all():
                    raise InvalidParameterError(
                        f"`nodata_mask` must be bool (True = no data), got dtype {mask.dtype} with values "
                        f"{np.unique(mask)[:5].tolist() if mask.dtype.kind in 'uif' else '?'}; "
                        "pass e.g. `image_band == fill_value` or `np.isnan(image).any(axis=-1)`"
                    )
                mask = mask.astype(bool)
        # NaN/inf never reach a model or a statistic: they are nodata, as read_image makes them.
        nonfinite = ~np.isfinite(image).all(axis=2)
        if nonfinite.any():
            mask = mask | nonfinite
            image = image.copy()
            image[nonfinite] = 0.0
        self.image = image
        self.nodata_mask = mask
        if not self.band_names:
            self.band_names = default_band_names(nb)
        if isinstance(self.band_names, str):
            raise BandMismatchError(f"`band_names` must be a sequence of names, got the string {self.band_names!r}")
        self.band_names = tuple(self.band_names)
        if len(self.band_names) != nb:
            raise BandMismatchError(
                f"`band_names` has {len(self.band_names)} names but `image` has {nb} bands"
            )
        if len(set(self.band_names)) != nb:
            raise BandMismatchError(f"`band_names` {self.band_names} repeats a name; bands are chosen by name")
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.shape != (rows, cols):
                raise ShapeMismatchError(
                    f"`labels` has shape {labels.shape} but the image grid is {(rows, cols)}; "
                    "labels must be on the same grid as the image"
                )
            if labels.dtype != np.uint8:
                # Integer codes 0-255 only: 1.5, 0.9, -1 or 300 are refused, never cast.
                labels = remap_labels(labels, name="labels")
            self.labels = labels
        self.crs = as_crs(self.crs, name="crs")
        if not isinstance(self.transform, Affine):
            raise InvalidParameterError(
                f"`transform` must be an affine.Affine, got {type(self.transform).__name__}; e.g. "
                "rasterio.transform.from_origin(west, north, xsize, ysize)"
            )

    @property
    def title(self) -> str:
        """The name to show (:func:`scene_title`): ``"synthetic scene near Lake Onega"`` for a stand-in."""
        return scene_title(self.name, self.properties)

    @property
    def shape(self) -> tuple[int, int]:
        """The grid ``(rows, cols)``."""
        return self.image.shape[:2]

    @property
    def n_bands(self) -> int:
        return self.image.shape[2]

    @property
    def bounds(self) -> rasterio.coords.BoundingBox:
        """``(left, bottom, right, top)`` in the scene's CRS."""
        return _bounds(*self.shape, self.transform)

    @property
    def resolution(self) -> tuple[float, float]:
        """Pixel size ``(row height, col width)`` in CRS units (metres for MODIS sinusoidal)."""
        return abs(self.transform.e), abs(self.transform.a)

    def select_bands(self, bands: Sequence[str]) -> Scene:
        """A copy with only ``bands`` (by name), in that order."""
        bands = _check_bands(bands)
        idx = band_indices(bands, self.band_names)
        return replace(self, image=self.image[:, :, idx], band_names=bands)

    def __repr__(self) -> str:
        crs = self.crs.to_string() if self.crs else None
        lab = "with labels" if self.labels is not None else "no labels"
        return (f"Scene({self.name!r}, {self.shape[0]}x{self.shape[1]} px, {self.n_bands} bands, "
                f"{lab}, crs={crs})")


def _check_bands(bands) -> tuple[str, ...]:
    """``bands`` as a non-empty tuple of names; a bare string is refused (it would be read letter by letter)."""
    if isinstance(bands, str):
        raise BandMismatchError(
            f"`bands` must be a sequence of band names, got the string {bands!r} (it would be read as the "
            f"bands {list(bands)!r}); for one band pass bands=({bands!r},)"
        )
    try:
        names = tuple(bands)
    except TypeError as exc:
        raise BandMismatchError(
            f"`bands` must be a sequence of band names, e.g. ('red', 'green', 'blue'), got {bands!r}"
        ) from exc
    if not names:
        raise BandMismatchError(
            "`bands` is empty; name at least one band, e.g. bands=('red',), or pass bands=None for all bands"
        )
    return names


def _bounds(rows: int, cols: int, transform: Affine) -> rasterio.coords.BoundingBox:
    west, south, east, north = rasterio.transform.array_bounds(rows, cols, transform)
    return rasterio.coords.BoundingBox(west, south, east, north)


def default_band_names(n: int) -> tuple[str, ...]:
    """MODIS names for 7 bands, else ``band_1`` ... ``band_n``."""
    if n == len(MODIS_BAND_NAMES):
        return MODIS_BAND_NAMES
    return tuple(f"band_{i + 1}" for i in range(n))


# -------------------------------------------------------------------------------------------
# Reading
# -------------------------------------------------------------------------------------------
def _open(path: str | os.PathLike, what: str):
    return open_raster(path, what)


def _as_window(window, height: int, width: int, path) -> Window | None:
    """A whole-pixel window inside a ``height`` x ``width`` raster, or an InvalidParameterError.

    Windows are never clipped: a window partly or wholly outside the raster, or with fractional
    offsets/sizes (which GDAL would resample), is refused, so the pixels and the transform a reader
    gets always match the window asked for.
    """
    if window is None:
        return None
    if isinstance(window, Window):
        win = window
    else:
        try:
            (r0, r1), (c0, c1) = window
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                "`window` must be a rasterio Window or ((row_start, row_stop), (col_start, col_stop)), "
                f"got {window!r}"
            ) from exc
        bounds = (r0, r1, c0, c1)
        if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) for v in bounds):
            raise InvalidParameterError(f"`window` bounds must be integers, got {window!r}")
        r0, r1, c0, c1 = (int(v) for v in bounds)
        if r0 < 0 or c0 < 0 or r1 <= r0 or c1 <= c0:
            raise InvalidParameterError(
                "`window` must be ((row_start, row_stop), (col_start, col_stop)) with 0 <= start < stop, "
                f"got {window!r}"
            )
        win = Window.from_slices((r0, r1), (c0, c1))
    parts = (win.col_off, win.row_off, win.width, win.height)
    if not all(np.isfinite(v) and float(v) == int(v) for v in parts):
        raise InvalidParameterError(
            f"`window` {win!r} has fractional offsets or sizes; geonb reads whole pixels only (a fractional "
            "window would be resampled). Round it first: window.round_offsets().round_lengths()"
        )
    win = Window(int(win.col_off), int(win.row_off), int(win.width), int(win.height))
    if win.width < 1 or win.height < 1:
        raise InvalidParameterError(f"`window` {win!r} is empty; give a width and height >= 1 pixel")
    full = Window(0, 0, width, height)
    try:
        inside = win.intersection(full)
    except WindowError:
        inside = None
    if inside is None or (inside.col_off, inside.row_off, inside.width, inside.height) != \
            (win.col_off, win.row_off, win.width, win.height):
        where = "entirely" if inside is None else "partly"
        raise InvalidParameterError(
            f"`window` {win!r} (rows {win.row_off}..{win.row_off + win.height}, cols "
            f"{win.col_off}..{win.col_off + win.width}) lies {where} outside {str(path)!r}, which is "
            f"{height} rows x {width} cols; geonb does not clip windows (a clipped window would silently shift "
            "the grid). Use a window inside the raster, e.g. window.intersection(Window(0, 0, width, height))"
        )
    return win


def _scale_argument(scale, n: int) -> np.ndarray | None:
    """``scale`` given as a number (or one per band) as an array of ``n`` scales; None for 'auto'/'sensor'."""
    if isinstance(scale, str) and scale in ("auto", "sensor"):
        return None
    if isinstance(scale, (str, bool, np.bool_)):
        raise InvalidParameterError(
            f"`scale` must be 'auto', 'sensor', None or a number (e.g. 0.0001 for MODIS int16), got {scale!r}"
        )
    try:
        sc = np.broadcast_to(np.asarray(scale, dtype=float), (n,)).copy()
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"`scale` must be 'auto', 'sensor', None, a number or one number per band read ({n}), got {scale!r}"
        ) from exc
    if not np.isfinite(sc).all() or (sc == 0).any():
        raise InvalidParameterError(f"`scale` must be finite and non-zero, got {scale!r}")
    return sc


def _product_for(ds, idx: list[int], plan: _BandPlan, product: str | None, scale) -> Product | None:
    """The sensor product whose scaling applies, or None (see :func:`read_image`, "Scaling")."""
    if plan.sensor is None:
        if product is not None:
            raise InvalidParameterError(
                f"`product` {product!r} was given but the sensor of this file is unknown; pass sensor=... too, "
                f"e.g. sensor='sentinel2', product={product!r}"
            )
        return None
    sensor = SENSORS[plan.sensor]
    dtype = ds.dtypes[idx[0]]
    if product is not None:
        return sensor.product(product)
    if plan.product is not None:
        prod = sensor.product(plan.product)
        # metadata names the product; under "auto" a file not in the product's dtype was converted since
        return prod if (scale == "sensor" or prod.dtype == dtype) else None
    same_dtype = [p for p in sensor.products if p.dtype == dtype]
    if len(same_dtype) == 1 and (len(sensor.products) == 1 or same_dtype[0].scale is None):
        return same_dtype[0]  # MODIS int16 (one product only); Landsat TM/ETM+ uint8 (Level-1 DN only)
    return None


def _scales_for(ds, idx: list[int], scale, plan: _BandPlan, product: str | None = None,
                path=None) -> tuple[np.ndarray, np.ndarray, str, Product | None]:
    """Per-band ``(scales, offsets, rule, product)`` for the bands ``idx`` (0-based) of ``ds``."""
    n = len(idx)
    if scale is None:
        return np.ones(n), np.zeros(n), "raw", None
    sc = _scale_argument(scale, n)
    if sc is not None:
        return sc, np.zeros(n), "argument", None
    prod = _product_for(ds, idx, plan, product, scale)
    scales = np.array([ds.scales[i] if ds.scales[i] is not None else 1.0 for i in idx], dtype=float)
    offsets = np.array([ds.offsets[i] if ds.offsets[i] is not None else 0.0 for i in idx], dtype=float)
    bands = [plan.bands[i] for i in idx] if plan.bands is not None else None
    if prod is not None and prod.scale is not None and bands is None and prod.thermal_scale is not None:
        if scale == "sensor":
            raise BandMismatchError(
                f"scale='sensor' needs to know which band is which ({prod.key} scales thermal bands differently); "
                "pass band_ids=(...) with the sensor's band ids in file order"
            )
        prod = None
    expected = None
    if prod is not None:
        pairs = [prod.scale_offset(b) if b is not None else (prod.scale or 1.0, prod.offset) for b in
                 (bands or [None] * n)]
        expected = (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    if (scales != 1.0).any() or (offsets != 0.0).any():
        # the file's own tags win over any table
        if scale == "sensor" and expected is not None and prod.scale is not None and not (
                np.allclose(scales, expected[0]) and np.allclose(offsets, expected[1])):
            warnings.warn(
                f"image {str(path)!r} declares its own scale {scales.tolist()} / offset {offsets.tolist()}, which "
                f"differ from {plan.sensor} {prod.key} ({prod.scale} / {prod.offset}); geonb used the file's. Pass "
                "scale=<number> to override", GeonbWarning, stacklevel=3)
        return scales, offsets, "tags", prod
    if scale == "auto" and ds.dtypes[idx[0]] == "int16" and ds.nodata == MODIS_FILL:
        return np.full(n, MODIS_SCALE), np.zeros(n), "modis", prod
    if prod is not None:
        if prod.scale is None:
            return np.ones(n), np.zeros(n), "dn", prod
        return expected[0], expected[1], "sensor", prod
    if scale == "sensor":
        if plan.sensor is None:
            raise InvalidParameterError(
                f"scale='sensor' needs a sensor, but the sensor of {str(path)!r} is unknown; pass sensor=..., "
                f"one of {list(SENSORS)}"
            )
        choices = {p.key: p.description for p in SENSORS[plan.sensor].products}
        raise InvalidParameterError(
            f"scale='sensor': {plan.sensor} has more than one product and nothing in {str(path)!r} says which; "
            f"pass product=..., one of {choices}"
        )
    dtype = np.dtype(ds.dtypes[idx[0]])
    if plan.sensor is not None and dtype.kind in "ui":
        scaled = [p for p in SENSORS[plan.sensor].products if p.dtype == dtype.name and p.scale is not None]
        if scaled:
            warnings.warn(
                f"image {str(path)!r} ({plan.sensor}, {dtype.name}) was read without scaling: its values are "
                f"integers as stored, not reflectance, and nothing in the file says which product it is. For "
                f"reflectance pass scale='sensor' with product= one of {[p.key for p in scaled]} "
                f"({'; '.join(f'{p.key}: {p.description}' for p in scaled)}), or scale=<number>",
                GeonbWarning, stacklevel=3)
    return np.ones(n), np.zeros(n), "none", None


_NODATA_AUTO = "auto"
#: MOD09 surface-reflectance layer names -> MODIS band number (as HDF4/GDAL name the layers).
_MOD09_LAYER = re.compile(r"^sur_refl_b0?([1-7])$")


def _legacy_band_names(ds, file_names) -> tuple[tuple[str, ...], str]:
    """Band names without a sensor table: the file's descriptions, MODIS names for MODIS-like int16, else band_n."""
    if file_names is not None:
        mod09 = [_MOD09_LAYER.match(d) for d in file_names]
        if all(mod09):
            return tuple(MODIS_BAND_NAMES[int(m.group(1)) - 1] for m in mod09), "descriptions"
        return file_names, "descriptions"
    if _modis_like(ds):
        return MODIS_BAND_NAMES, "band count (a guess)"
    return tuple(f"band_{i + 1}" for i in range(ds.count)), "none"


def _modis_like(ds) -> bool:
    """7 int16 bands with the MODIS fill as nodata or the MODIS scale tag: MOD09 (as geonb always read it)."""
    return ds.count == len(MODIS_BAND_NAMES) and ds.dtypes[0] == "int16" and (
        ds.nodata == MODIS_FILL or all(sc == MODIS_SCALE for sc in ds.scales))


@dataclass
class _BandPlan:
    """Which sensor a file is from and which band each of its bands is (see :func:`read_image`)."""

    names: tuple[str, ...]
    bands: tuple[Band, ...] | None = None
    sensor: str | None = None
    detection: str = "unknown"
    mapping: str = "none"
    product: str | None = None


def _find_mtl(path) -> Path | None:
    """A Landsat ``*_MTL.txt`` beside the image whose name is the image's name up to an underscore.

    ``LT05_224063_19880814_B1-7.tif`` finds ``LT05_224063_19880814_MTL.txt``; a C2 band file
    ``LC08_L2SP_..._T1_SR_B4.TIF`` finds ``LC08_L2SP_..._T1_MTL.txt``. Only a few names are tried (no
    folder listing), and only for local files.
    """
    try:
        p = Path(os.fspath(path))
    except TypeError:
        return None
    if "://" in str(path) or str(path).startswith("/vsi") or not p.is_file():
        return None
    parts = p.stem.split("_")
    for k in range(len(parts), 0, -1):
        cand = p.with_name("_".join(parts[:k]) + "_MTL.txt")
        if cand.is_file():
            return cand
    return None


def _mtl_sensor(path) -> tuple[str | None, str | None, Path | None]:
    mtl = _find_mtl(path)
    if mtl is None:
        return None, None, None
    try:
        text = mtl.read_text(errors="replace")[:1_000_000]
    except OSError:
        return None, None, None
    key, product = sensor_from_mtl(parse_mtl(text))
    return key, product, mtl


def _band_ids_arg(band_ids, count: int, path) -> tuple[str, ...]:
    if isinstance(band_ids, str):
        raise InvalidParameterError(
            f"`band_ids` must be a sequence of band ids, one per band of the file, got the string {band_ids!r}; "
            "e.g. band_ids=('B1', 'B2', 'B3', 'B4', 'B5', 'B7')"
        )
    try:
        ids = tuple(str(b) for b in band_ids)
    except TypeError as exc:
        raise InvalidParameterError(f"`band_ids` must be a sequence of band ids, got {band_ids!r}") from exc
    if len(ids) != count:
        raise BandMismatchError(
            f"`band_ids` names {len(ids)} bands but {str(path)!r} has {count}; give one id per band, in file order"
        )
    return ids


def _plan_bands(ds, path, sensor, band_ids) -> _BandPlan:
    """Find the sensor (``sensor="auto"``) and map the file's bands to shared names; see :func:`read_image`."""
    desc = tuple(ds.descriptions)
    file_names = desc if all(desc) and len(set(desc)) == len(desc) else None
    if sensor is None:
        if band_ids is not None:
            raise InvalidParameterError("`band_ids` needs a sensor; pass sensor='landsat7' (or another) too")
        names, mapping = _legacy_band_names(ds, file_names)
        return _BandPlan(names, mapping=mapping, detection="off (sensor=None)")
    if not isinstance(sensor, str):
        raise InvalidParameterError(f"`sensor` must be 'auto', None or a sensor name, got {sensor!r}")
    tkey, tprod, tag = sensor_from_tags(ds.tags())
    mkey, mprod, mtl = _mtl_sensor(path)
    candidates = sensors_matching(file_names) if file_names is not None else ()
    if sensor != "auto":
        key, detection = get_sensor(sensor).key, "given"
        product = tprod if tkey == key else mprod if mkey == key else None
    else:
        key, detection, product = None, "unknown", None
        if tkey is not None:
            key, detection, product = tkey, "tags", tprod
        elif mkey is not None:
            key, detection, product = mkey, "mtl", mprod
        if key is not None and candidates and key not in candidates:
            warnings.warn(
                f"image {str(path)!r}: its {'tag ' + tag if detection == 'tags' else 'MTL file ' + str(mtl)} says "
                f"{key}, but its band descriptions {list(file_names)} are band ids of {list(candidates)}; geonb "
                "went by the descriptions. Pass sensor=... to say which", GeonbWarning, stacklevel=3)
            key, detection, product = None, "unknown", None
        if key is None:
            if len(candidates) == 1:
                key, detection = candidates[0], "descriptions"
            elif len(candidates) > 1:
                warnings.warn(
                    f"image {str(path)!r}: band descriptions {list(file_names)} fit several sensors "
                    f"{list(candidates)}, so its bands keep the file's names. Pass sensor=... (e.g. "
                    f"sensor={candidates[0]!r}) to get geonb's shared band names", GeonbWarning, stacklevel=3)
            elif file_names is None and _modis_like(ds):
                return _BandPlan(MODIS_BAND_NAMES, SENSORS["modis"].bands, "modis",
                                 "int16 + MODIS fill or scale (a guess)", "band count (a guess)")
    if key is None:
        if band_ids is not None:
            raise InvalidParameterError(
                f"`band_ids` needs a sensor, and that of {str(path)!r} could not be detected; pass sensor=..., "
                f"one of {list(SENSORS)}"
            )
        names, mapping = _legacy_band_names(ds, file_names)
        return _BandPlan(names, mapping=mapping, detection="unknown")
    sens = SENSORS[key]
    if band_ids is not None:
        ids = _band_ids_arg(band_ids, ds.count, path)
        bands = match_bands(ids, sens)
        if bands is None:
            bad = [i for i in ids if match_bands([i], sens) is None]
            raise BandMismatchError(
                f"`band_ids` {list(ids)} are not distinct bands of {sens.name}"
                f"{f' (unknown: {bad})' if bad else ' (one is given twice)'}; its band ids are {list(sens.band_ids)}"
            )
        return _BandPlan(tuple(b.name for b in bands), bands, key, detection, "band_ids", product)
    bands = match_bands(file_names, sens) if file_names is not None else None
    if bands is not None:
        return _BandPlan(tuple(b.name for b in bands), bands, key, detection, "descriptions", product)
    bands = bands_by_count(sens, ds.count)
    if bands is not None:
        ids = tuple(b.id for b in bands)
        warnings.warn(
            f"image {str(path)!r}: {ds.count} bands {'without band names' if file_names is None else list(file_names)}"
            f" were taken for the {sens.name} bands {list(ids)} ({', '.join(b.name for b in bands)}) by their count "
            f"alone: a guess. If the file holds other bands or another order, pass band_ids=(...) with the "
            f"sensor's band ids in file order (its ids: {list(sens.band_ids)})", GeonbWarning, stacklevel=3)
        return _BandPlan(tuple(b.name for b in bands), bands, key, detection, "band count (a guess)", product)
    counts = sorted({len(s) for s in sens.subsets})
    what = f"its band descriptions {list(file_names)} are not {sens.name} band ids and " if file_names else ""
    if detection == "given":
        raise BandMismatchError(
            f"image {str(path)!r} has {ds.count} bands; {what}{sens.name} files geonb recognises by count have "
            f"{counts} bands. Pass band_ids=(...) with the {sens.name} band id of each band in file order (ids: "
            f"{list(sens.band_ids)}), or sensor=None to keep the file's band names"
        )
    warnings.warn(
        f"image {str(path)!r} is {sens.name} ({detection}) but its {ds.count} bands could not be matched to "
        f"{sens.name} bands ({what or 'no band names, and '}no common stack has {ds.count} bands); they keep the "
        "file's names. Pass band_ids=(...) to name them", GeonbWarning, stacklevel=3)
    names, _ = _legacy_band_names(ds, file_names)
    return _BandPlan(names, None, key, detection, "unmapped", product)


def _check_nodata_arg(nodata, what: str):
    if isinstance(nodata, str):
        if nodata != _NODATA_AUTO:
            raise InvalidParameterError(
                f"`{what}` must be 'auto' (the file's own nodata), None (no nodata value) or a number, got {nodata!r}"
            )
        return nodata
    if nodata is None:
        return None
    if isinstance(nodata, (bool, np.bool_)) or not isinstance(nodata, (int, float, np.number)):
        raise InvalidParameterError(f"`{what}` must be 'auto', None or a number, got {nodata!r}")
    return float(nodata)


def _invalid_pixels(ds, raw: np.ndarray, idx: list[int], win, nodata) -> np.ndarray:
    """Per-band invalid mask ``(bands, rows, cols)``: nodata, the file's mask band, NaN/inf."""
    from rasterio.enums import MaskFlags

    invalid = np.zeros(raw.shape, bool)
    if raw.dtype.kind == "f":
        invalid |= ~np.isfinite(raw)
    if nodata == _NODATA_AUTO:
        flags = [ds.mask_flag_enums[i] for i in idx]
        if any(MaskFlags.all_valid not in f for f in flags):
            invalid |= ds.read_masks([i + 1 for i in idx], window=win) == 0
    else:
        # An explicit nodata replaces the file's tag; a real mask band (alpha, per-dataset) still counts.
        for k, i in enumerate(idx):
            f = ds.mask_flag_enums[i]
            if MaskFlags.per_dataset in f or MaskFlags.alpha in f:
                if MaskFlags.nodata not in f:
                    invalid[k] |= ds.read_masks(i + 1, window=win) == 0
        if nodata is not None:
            invalid |= np.isnan(raw) if np.isnan(nodata) else (raw == nodata)
    return invalid


def read_image(path: str | os.PathLike, *, window=None, bands: Sequence[str] | None = None,
               scale: float | str | None = "auto", nodata: float | str | None = "auto",
               sensor: str | None = "auto", band_ids: Sequence[str] | None = None, product: str | None = None,
               ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Read an image raster as ``(rows, cols, bands)`` float32 plus its nodata mask and metadata.

    Only the requested ``window`` is read from disk (or over HTTP), so a scene from a large
    raster costs memory for the window alone.

    Which pixels are invalid (``nodata_mask`` True, image value 0). A pixel is invalid when
    *any* band is invalid there; a band is invalid where

    - it holds NaN or +-inf (always, whatever the file declares);
    - it equals the file's declared nodata value (per band), or is masked by the file's mask band;
      ``nodata=`` replaces the declared value (``None``: the file has no nodata value);
    - the file is int16, declares no nodata and holds -28672, the MODIS fill value: those pixels
      are masked and a :class:`GeonbWarning` says so (pass ``nodata=None`` to keep them).

    Sensor (``sensor="auto"``), from what is reliable, first hit wins: the file's metadata tags
    (:data:`geonb.sensors.SENSOR_TAGS`, e.g. GDAL's ``SPACECRAFT_NAME=Sentinel-2A``) -> ``"tags"``; a
    Landsat MTL file beside the image (``LT05_..._MTL.txt`` for ``LT05_..._B1-7.tif``: ``SPACECRAFT_ID``)
    -> ``"mtl"``; band descriptions that are the band ids of exactly one sensor (``B8A``, ``B11`` ->
    Sentinel-2; ``sur_refl_b01`` -> MODIS) -> ``"descriptions"``; a 7-band int16 file with the MODIS fill
    or scale -> MODIS, ``"int16 + MODIS fill or scale (a guess)"`` (as geonb always read it). Descriptions
    that fit several sensors (``B1`` ... ``B7``: TM, ETM+, OLI and MSI all have them) are not guessed
    from: a :class:`GeonbWarning` says so. Nothing else is guessed: a file of unknown sensor keeps its
    band descriptions, or ``band_1`` ... ``band_n``, and works by index. ``sensor="landsat5"`` (or
    ``"landsat7"``, ``"landsat8"``, ``"sentinel2"``, ``"modis"``, or an alias such as ``"S2A"``) says it
    (``"given"``); ``sensor=None`` turns detection off.

    Band names, once the sensor is known: geonb's shared names (``blue``, ``nir``, ``swir1``... see
    :mod:`geonb.sensors`) in file order, matched by ``band_ids=`` when given (the sensor's ids or
    shared names, one per band in file order: ``("B1", "B2", "B3", "B4", "B5", "B7")``); else by the
    band descriptions when every one names a band (``"B4"``, ``"B04"``, ``"SR_B4"``, ``"B8A"``,
    ``"sur_refl_b01"``, or a shared name); else by the band count when it is that of a common stack
    (:attr:`geonb.sensors.Sensor.subsets`: Landsat-7 with 6 bands = 1-5 and 7; Sentinel-2 with 12 =
    no B10) -- a guess, so a :class:`GeonbWarning` names it and the ``band_ids=`` override; else, for
    a given sensor, a :class:`BandMismatchError`. How it went is in ``meta["sensor"]``,
    ``meta["sensor_detection"]`` and ``meta["band_mapping"]``.

    Scaling (``value * scale + offset``, per band). ``scale="auto"``:

    1. the file's own scale/offset tags (``ds.scales``/``ds.offsets``) -> rule ``"tags"``;
    2. int16 with the MODIS fill -28672 declared as nodata -> x 0.0001, rule ``"modis"``;
    3. the sensor's product scaling (:class:`geonb.sensors.Product`) when the product is known: given
       as ``product=``; named by the metadata (MTL ``PROCESSING_LEVEL`` L2SP -> ``"c2l2"``, Sentinel-2
       tags ``PRODUCT_TYPE`` + ``PROCESSING_BASELINE``) and the file has the product's integer dtype;
       or the only product of the sensor in the file's dtype (MODIS int16 -> ``"mod09"``) -> rule
       ``"sensor"``. Landsat Level-1 files (TM/ETM+ uint8, or an MTL saying Level-1) hold DN, which
       geonb never scales: rule ``"dn"``, values as stored, not reflectance;
    4. else none (rule ``"none"``). An integer file of a known sensor whose product is ambiguous
       (Sentinel-2 uint16: offset -0.1 or not? Landsat 8 uint16: Level-1 DN or Level-2?) is *not*
       scaled, and a :class:`GeonbWarning` names the products to choose from.

    ``scale="sensor"`` asks for the product scaling: the file's tags still win (a warning when they
    differ from the product's); else the product as in 3, any dtype; else an
    :class:`InvalidParameterError` that lists the products (``product=`` chooses). An untagged int16
    file is *not* scaled because it holds -28672 (the warning says so; pass ``scale=0.0001`` for MODIS
    reflectance): the scale never depends on which pixels a window happens to contain.

    Parameters
    ----------
    path : path-like
    window : rasterio.windows.Window or ((r0, r1), (c0, c1)), optional
        Whole pixels inside the raster. Windows partly or wholly outside the raster and fractional
        windows are an :class:`InvalidParameterError` (never clipped or resampled).
    bands : sequence of str, optional
        Band names to keep (others are not read).
    scale : "auto", "sensor", float, sequence of float or None
        See above; a number (or one per band read) replaces the tags, with offset 0. ``None``
        keeps raw values.
    nodata : "auto", float or None
        ``"auto"``: the file's declared nodata and mask. A number: that value is nodata in every
        band instead. ``None``: no value is nodata (NaN/inf still are).
    sensor : "auto", str or None
        ``"auto"`` (detect, see above), a sensor key or alias (``"landsat5"``...), or None (no sensor).
    band_ids : sequence of str, optional
        The sensor's band id (or shared name) of each band of the file, in file order; overrides the
        descriptions and the band count. Needs a known sensor.
    product : str, optional
        The sensor's product (``"mod09"``; ``"l1"`` or ``"c2l2"`` for Landsat; ``"l2a"``, ``"l1c"``,
        ``"l2a_pre0400"``, ``"l1c_pre0400"`` for Sentinel-2), whose scaling then applies.

    Returns
    -------
    image : ndarray float32 (rows, cols, bands)
    nodata_mask : ndarray bool (rows, cols)
    meta : dict with ``crs``, ``transform`` (of the window), ``band_names``, ``tags``, ``width``,
        ``height``, ``full_transform``, ``scales``, ``offsets``, ``scale_rule``, ``nodata``,
        ``sensor`` (key or None), ``sensor_detection``, ``band_mapping``, ``band_ids`` (the sensor's
        ids of the bands read, or None), ``product`` (key or None), ``units``

    Warns
    -----
    GeonbWarning
        When an assumption was made (untagged MODIS fill value masked; bands matched by count;
        descriptions that fit several sensors; an integer file of a known sensor left unscaled).

    Raises
    ------
    BandMismatchError
        A given sensor whose bands cannot be matched (say ``band_ids=``); ``band_ids`` of the wrong
        length or not the sensor's.
    InvalidParameterError
        Unknown ``sensor`` or ``product``; ``scale="sensor"`` when the product is ambiguous.

    Examples
    --------
    >>> import tempfile, pathlib, warnings
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "l7.tif"
    >>> _ = write_raster(p, np.full((3, 4, 6), 80, np.uint8), crs="EPSG:32622", transform=Affine(30, 0, 0, 0, -30, 0))
    >>> read_image(p)[2]["band_names"]
    ('band_1', 'band_2', 'band_3', 'band_4', 'band_5', 'band_6')
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # "6 bands ... by their count alone: a guess"
    ...     img, mask, meta = read_image(p, sensor="landsat7")
    >>> meta["band_names"], meta["band_mapping"], meta["scale_rule"]
    (('blue', 'green', 'red', 'nir', 'swir1', 'swir2'), 'band count (a guess)', 'dn')
    """
    nodata = _check_nodata_arg(nodata, "nodata")
    if bands is not None:
        bands = _check_bands(bands)
    with _open(path, "image") as ds:
        if ds.count == 0:
            raise BandMismatchError(f"image {str(path)!r} has 0 bands")
        plan = _plan_bands(ds, path, sensor, band_ids)
        names = plan.names
        if bands is not None:
            idx = band_indices(bands, names)
            names = bands
        else:
            idx = list(range(ds.count))
        win = _as_window(window, ds.height, ds.width, path)
        sc, off, rule, prod = _scales_for(ds, idx, scale, plan, product, path)
        try:
            raw = ds.read([i + 1 for i in idx], window=win)
            invalid = _invalid_pixels(ds, raw, idx, win, nodata)
        except RasterioIOError as exc:
            raise RasterReadError(
                f"image {str(path)!r} could not be read ({exc}); the file may be truncated or corrupt. "
                "Regenerate or re-download it."
            ) from exc
        declared = ds.nodata if nodata == _NODATA_AUTO else nodata
        if nodata == _NODATA_AUTO and ds.nodata is None and raw.dtype == np.int16:
            fill = raw == MODIS_FILL
            n_fill = int(fill.any(axis=0).sum())
            if n_fill:
                invalid |= fill
                warnings.warn(
                    f"image {str(path)!r} is int16 with no nodata value declared but holds {MODIS_FILL} (the MODIS "
                    f"fill value) in {n_fill} pixels: geonb masked them as nodata. Its values were "
                    f"{'not scaled (no scale tag)' if rule in ('none', 'raw') else f'scaled by {sc.tolist()}'}"
                    "; if this is MODIS surface reflectance pass scale=0.0001. Pass nodata=None to keep "
                    f"{MODIS_FILL} as a value, or nodata=<value> to name the fill yourself",
                    GeonbWarning, stacklevel=2,
                )
        transform = ds.window_transform(win) if win is not None else ds.transform
        mask = invalid.any(axis=0)
        arr = np.moveaxis(raw, 0, -1).astype(np.float32)
        if rule not in ("raw", "none"):
            with np.errstate(invalid="ignore", over="ignore"):
                arr = arr * sc.astype(np.float32) + off.astype(np.float32)
        arr[mask] = 0.0
        meta = {"crs": ds.crs, "transform": transform, "band_names": names, "tags": ds.tags(),
                "width": ds.width, "height": ds.height, "full_transform": ds.transform,
                "scales": tuple(float(v) for v in sc), "offsets": tuple(float(v) for v in off),
                "scale_rule": rule, "nodata": declared, "file_band_names": tuple(ds.descriptions),
                "sensor": plan.sensor, "sensor_detection": plan.detection, "band_mapping": plan.mapping,
                "band_ids": tuple(plan.bands[i].id for i in idx) if plan.bands is not None else None,
                "product": prod.key if prod is not None else None,
                "units": _units(rule, prod, raw.dtype)}
    return arr, mask, meta


def _units(rule: str, prod: Product | None, dtype) -> str:
    """What the values read are, in words, for ``meta["units"]``."""
    if rule == "dn":
        return "DN (Level-1 digital numbers, not reflectance)"
    if rule in ("sensor", "modis") or (rule == "tags" and prod is not None):
        return prod.units if prod is not None else "reflectance"
    if rule in ("none", "raw") and np.dtype(dtype).kind in "ui":
        return "as stored (integers, not scaled)"
    return "as stored" if rule in ("none", "raw") else "scaled"


def read_labels(path: str | os.PathLike, *, window=None, label_map: dict | None = None,
                nodata: float | str | None = "auto", classes: tuple[int, ...] | None = None,
                ) -> tuple[np.ndarray, dict]:
    """Read a single-band label raster as ``(rows, cols)`` uint8 class codes plus grid metadata.

    Nothing is cast silently (:func:`geonb.labels.remap_labels`): without ``label_map`` the file
    must hold integer codes 0..255 (integer-valued floats such as 2.0 are accepted); fractions,
    negative values, values > 255 and undeclared NaN are a :class:`ClassCodeError` that lists the
    values and suggests ``label_map=``. The file's nodata value (and its mask band) become 0 (no
    label); NaN is no label only when it is the declared nodata (or a ``label_map`` key).

    Parameters
    ----------
    path : path-like
    window : see :func:`read_image`.
    label_map : dict, optional
        File value -> geonb class code, e.g. ``{1: WATER, 0: LAND, -1: NODATA}``. Every value in
        the file (besides nodata) must be a key.
    nodata : "auto", float or None
        The file's nodata value (``"auto"``: as declared), a replacement value, or None (none).
    classes : tuple of int, optional
        The codes ``label_map`` may map to besides NODATA; default the lake codes (1, 2, 3), so a
        code such as 9 is a :class:`ClassCodeError`. Name your own for another class scheme.

    Returns
    -------
    labels : ndarray uint8 (rows, cols)
    meta : dict with ``crs``, ``transform``, ``width``, ``height``, ``full_transform``
    """
    nodata = _check_nodata_arg(nodata, "nodata")
    if label_map is not None:
        check_label_map(label_map, classes=classes)  # before the file is opened or read
    elif classes is not None:
        raise InvalidParameterError("`classes` names the codes of a `label_map`, but none was given; pass both")
    with _open(path, "labels") as ds:
        if ds.count != 1:
            raise BandMismatchError(
                f"labels {str(path)!r} must have 1 band (class codes), it has {ds.count}; "
                "write the class codes as a single-band raster"
            )
        win = _as_window(window, ds.height, ds.width, path)
        try:
            raw = ds.read(1, window=win)
            mask_from_file = None
            if nodata == _NODATA_AUTO:
                from rasterio.enums import MaskFlags

                if MaskFlags.all_valid not in ds.mask_flag_enums[0]:
                    mask_from_file = ds.read_masks(1, window=win) == 0
                    if ds.nodata is not None and np.isnan(ds.nodata) and raw.dtype.kind == "f":
                        mask_from_file |= np.isnan(raw)
        except RasterioIOError as exc:
            raise RasterReadError(
                f"labels {str(path)!r} could not be read ({exc}); the file may be truncated or corrupt"
            ) from exc
        declared = ds.nodata if nodata == _NODATA_AUTO else nodata
        labels = remap_labels(raw, label_map, nodata=declared, mask=mask_from_file,
                              name=f"labels {str(path)!r}", classes=classes)
        transform = ds.window_transform(win) if win is not None else ds.transform
        meta = {"crs": ds.crs, "transform": transform, "width": ds.width, "height": ds.height,
                "full_transform": ds.transform, "nodata": declared}
    return labels, meta


def check_same_grid(a_shape, a_transform, a_crs, b_shape, b_transform, b_crs, *, what: str = "labels") -> None:
    """Raise :class:`GridMismatchError` unless two rasters share shape, transform and CRS."""
    if tuple(a_shape) != tuple(b_shape):
        raise GridMismatchError(
            f"{what} grid {tuple(b_shape)} differs from the image grid {tuple(a_shape)}; "
            "resample the labels onto the image grid (e.g. rasterio.warp.reproject)"
        )
    if (a_crs or None) != (b_crs or None):
        raise GridMismatchError(
            f"{what} CRS {b_crs} differs from the image CRS {a_crs}; reproject one onto the other's grid"
        )
    if not a_transform.almost_equals(b_transform, precision=1e-6 * max(1.0, abs(a_transform.a))):
        raise GridMismatchError(
            f"{what} transform {tuple(b_transform)[:6]} differs from the image transform "
            f"{tuple(a_transform)[:6]}: the rasters are not aligned; resample onto the image grid"
        )


def read_scene(image_path: str | os.PathLike, labels_path: str | os.PathLike | None = None, *,
               window=None, bands: Sequence[str] | None = None, scale: float | str | None = "auto",
               nodata: float | str | None = "auto", label_map: dict | None = None,
               labels_nodata: float | str | None = "auto", classes: tuple[int, ...] | None = None,
               name: str | None = None, properties: dict | None = None, sensor: str | None = "auto",
               band_ids: Sequence[str] | None = None, product: str | None = None) -> Scene:
    """Read a :class:`Scene` from an image GeoTIFF and an optional label GeoTIFF on the same grid.

    Parameters
    ----------
    image_path, labels_path : path-like
    window : Window or ((r0, r1), (c0, c1)), optional
        Read only this part of both rasters (a windowed read: memory for the window only).
    bands : sequence of str, optional
        Band names to read; default all.
    scale, nodata, sensor, band_ids, product : see :func:`read_image`.
        E.g. ``sensor="landsat5"``; ``sensor="landsat7", band_ids=("B1", "B2", "B3", "B4", "B5", "B7")``;
        ``sensor="sentinel2", scale="sensor", product="l2a"`` for L2A uint16 from baseline 04.00.
        The sensor, how it was found and how the bands were matched are recorded in
        ``properties["sensor"]``, ``["sensor_detection"]``, ``["band_mapping"]``, with ``["product"]``,
        ``["scale_rule"]`` and ``["units"]`` (``properties=`` given by the caller win).
    label_map, labels_nodata, classes : see :func:`read_labels` (``labels_nodata`` is its ``nodata``).
        E.g. ``label_map={1: WATER, 0: LAND, -1: NODATA}`` for a file coded 1/0/-1.
    name : str, optional
        Defaults to the image file's stem.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> s = Scene(np.full((4, 5, 7), 0.1, np.float32), labels=np.full((4, 5), 2, np.uint8))
    >>> write_scene(s, d / "img.tif", d / "lab.tif")
    >>> read_scene(d / "img.tif", d / "lab.tif").shape
    (4, 5)

    Raises
    ------
    RasterReadError, InvalidParameterError (window), ClassCodeError (labels), GridMismatchError
    """
    if classes is not None and labels_path is None:
        raise InvalidParameterError("`classes` was given without `labels_path`; pass the label file too")
    if label_map is not None and labels_path is None:
        raise InvalidParameterError("`label_map` was given without `labels_path`; pass the label file too")
    image, mask, meta = read_image(image_path, window=window, bands=bands, scale=scale, nodata=nodata,
                                   sensor=sensor, band_ids=band_ids, product=product)
    labels = None
    if labels_path is not None:
        # Compare the full grids first (before any window or code check on the labels), so a label file on
        # another grid is reported as such, even for a window.
        with _open(labels_path, "labels") as lds:
            lgrid = (lds.height, lds.width), lds.transform, lds.crs
        check_same_grid((meta["height"], meta["width"]), meta["full_transform"], meta["crs"], *lgrid)
        labels, _ = read_labels(labels_path, window=window, label_map=label_map, nodata=labels_nodata,
                                classes=classes)
    return Scene(
        image=image, labels=labels, band_names=meta["band_names"], crs=meta["crs"],
        transform=meta["transform"], nodata_mask=mask,
        name=name if name is not None else Path(str(image_path)).stem,
        properties={**{k: meta[k] for k in ("sensor", "sensor_detection", "band_mapping", "product",
                                             "scale_rule", "units")}, **dict(properties or {})},
    )


# -------------------------------------------------------------------------------------------
# Writing
# -------------------------------------------------------------------------------------------
def _raster_profile(arr: np.ndarray, *, crs, transform, nodata, compress: str) -> dict:
    rows, cols, nb = arr.shape
    profile = {
        "driver": "GTiff", "height": rows, "width": cols, "count": nb, "dtype": arr.dtype,
        "crs": crs, "transform": transform or Affine.identity(), "nodata": nodata,
        "compress": compress,
    }
    if rows >= 256 and cols >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    return profile


def _as_raster_array(array, band_names) -> np.ndarray:
    arr = np.asarray(array)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] == 0 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ShapeMismatchError(
            f"`array` must be (rows, cols) or (rows, cols, bands>=1) with rows, cols >= 1, got {np.shape(array)}"
        )
    if arr.dtype.kind not in "uifb":
        raise InvalidParameterError(f"`array` must hold numbers, got dtype {arr.dtype}")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    rows, cols, nb = arr.shape
    # As in Scene: rasterio's (bands, rows, cols) passed as (rows, cols, bands) would be written transposed.
    if rows <= _MAX_BANDS_FIRST and cols > _MAX_BANDS_FIRST and nb > _MAX_BANDS_FIRST:
        raise ShapeMismatchError(
            f"`array` has shape {arr.shape}: {rows} rows and {nb} bands looks like a (bands, rows, cols) array "
            "(rasterio's order). write_raster takes (rows, cols, bands): pass np.moveaxis(array, 0, -1)"
        )
    if isinstance(band_names, str):
        raise InvalidParameterError(
            f"`band_names` must be a sequence of names, got the string {band_names!r}; for one band pass "
            f"band_names=({band_names!r},)"
        )
    if band_names is not None and len(band_names) not in (0, nb):
        raise InvalidParameterError(f"`band_names` names {len(band_names)} bands but the array has {nb}")
    return arr


#: Lossless GeoTIFF compressions write_raster accepts (lossy JPEG/WebP would change the values written).
RASTER_COMPRESSIONS: tuple[str, ...] = ("deflate", "lzw", "zstd", "lzma", "packbits", "none")


def _check_raster_args(arr: np.ndarray, *, crs, transform, nodata, scale, tags, compress):
    """Validate write_raster's arguments before any file is created; return ``(crs, nodata)``."""
    crs = as_crs(crs, name="crs")
    if transform is not None:
        if not isinstance(transform, Affine):
            raise InvalidParameterError(
                f"`transform` must be an affine.Affine or None, got {transform!r}; e.g. scene.transform or "
                "rasterio.transform.from_origin(west, north, xsize, ysize)"
            )
        if not all(np.isfinite(v) for v in tuple(transform)[:6]):
            raise InvalidParameterError(f"`transform` {tuple(transform)[:6]} holds a non-finite number")
    if nodata is not None:
        if isinstance(nodata, (bool, np.bool_)) or not isinstance(nodata, (int, float, np.integer, np.floating)):
            raise InvalidParameterError(
                f"`nodata` must be a number or None, got {nodata!r}; e.g. nodata=0, or nodata=np.nan for float data"
            )
        dt = arr.dtype
        if dt.kind in "ui":
            info = np.iinfo(dt)
            whole = isinstance(nodata, (int, np.integer)) or (np.isfinite(nodata) and float(nodata).is_integer())
            if not whole or not info.min <= int(nodata) <= info.max:
                raise InvalidParameterError(
                    f"`nodata` {nodata!r} cannot be stored in the array's dtype {dt} (whole numbers "
                    f"{info.min}..{info.max}); choose a nodata value in that range, or convert the array first "
                    "(e.g. array.astype(np.int16))"
                )
            nodata = int(nodata)
        elif np.isfinite(nodata) and abs(float(nodata)) > float(np.finfo(dt).max):
            raise InvalidParameterError(
                f"`nodata` {nodata!r} is outside the range of the array's dtype {dt}; choose a value in range "
                "(e.g. np.nan)"
            )
    if scale is not None:
        if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, (int, float, np.integer, np.floating)) \
                or not np.isfinite(scale) or scale == 0:
            raise InvalidParameterError(
                f"`scale` must be a finite non-zero number or None, got {scale!r}; e.g. scale=0.0001 for MODIS int16"
            )
    if tags is not None and not isinstance(tags, dict):
        raise InvalidParameterError(f"`tags` must be a dict of name -> value or None, got {type(tags).__name__}")
    if not isinstance(compress, str) or compress.lower() not in RASTER_COMPRESSIONS:
        raise InvalidParameterError(
            f"`compress` must be one of {list(RASTER_COMPRESSIONS)}, got {compress!r}"
        )
    return crs, nodata


def _write_raster_file(tmp: Path, arr: np.ndarray, *, crs, transform, nodata, band_names, scale, tags,
                       compress: str) -> None:
    nb = arr.shape[2]
    profile = _raster_profile(arr, crs=crs, transform=transform, nodata=nodata, compress=compress)
    with rasterio.open(tmp, "w", **profile) as ds:
        ds.write(np.moveaxis(arr, -1, 0))
        if band_names:
            for i, n in enumerate(band_names, start=1):
                ds.set_band_description(i, n)
        if scale is not None:
            ds.scales = (float(scale),) * nb
            ds.offsets = (0.0,) * nb
        if tags:
            ds.update_tags(**{k: str(v) for k, v in tags.items()})


def write_raster(path: str | os.PathLike, array: np.ndarray, *, crs=None, transform: Affine | None = None,
                 nodata=None, band_names: Sequence[str] | None = None, scale: float | None = None,
                 tags: dict | None = None, overwrite: bool = False, compress: str = "deflate") -> Path:
    """Write ``(rows, cols)`` or ``(rows, cols, bands)`` to a tiled, compressed GeoTIFF, atomically.

    The array is written as given (convert dtype before calling). ``scale`` is stored as the
    GDAL scale tag so readers can undo integer scaling.

    Every argument is checked before any file is created: ``nodata`` must fit the array's dtype,
    ``compress`` must be a lossless codec (:data:`RASTER_COMPRESSIONS`), ``crs`` must parse.
    """
    if path is None or str(path) == "":
        raise InvalidParameterError(f"`path` is empty ({path!r}); give the output file name, e.g. 'out.tif'")
    arr = _as_raster_array(array, band_names)
    crs, nodata = _check_raster_args(arr, crs=crs, transform=transform, nodata=nodata, scale=scale, tags=tags,
                                     compress=compress)
    with atomic_path(path, overwrite) as tmp:
        _write_raster_file(tmp, arr, crs=crs, transform=transform, nodata=nodata, band_names=band_names,
                           scale=scale, tags=tags, compress=compress)
    return Path(path)


def write_scene(scene: Scene, image_path: str | os.PathLike, labels_path: str | os.PathLike | None = None, *,
                modis_int16: bool = True, overwrite: bool = False) -> None:
    """Write a scene's image (and labels) to GeoTIFF, atomically and as a pair.

    With ``modis_int16`` (default) the image is stored as MODIS does: int16 reflectance x 10000
    with fill -28672 where ``nodata_mask``; otherwise as float32 with NaN fill.
    Both files are checked first (distinct paths; neither existing unless ``overwrite=True``), both
    are written to temporary files, and only then are both moved into place: either the image and its
    labels are both written, or neither file is changed.
    """
    if not isinstance(scene, Scene):
        raise InvalidParameterError(f"`scene` must be a geonb Scene, got {type(scene).__name__}")
    check_output_paths({"image_path": image_path, "labels_path": labels_path}, overwrite)
    if labels_path is not None and scene.labels is None:
        raise InvalidParameterError("`labels_path` was given but the scene has no labels; pass labels_path=None")
    # A Scene checks its CRS and transform when made, but its fields can be reassigned since.
    crs = as_crs(scene.crs, name="scene.crs")
    if not isinstance(scene.transform, Affine):
        raise InvalidParameterError(
            f"`scene.transform` must be an affine.Affine, got {type(scene.transform).__name__}"
        )
    if modis_int16:
        valid = scene.image[~scene.nodata_mask]
        if valid.size and (not np.isfinite(valid).all() or valid.min() < -2.8 or valid.max() > 3.2767):
            raise InvalidParameterError(
                f"scene {scene.name!r} holds values outside MODIS int16 reflectance (-2.8..3.2767 after x 0.0001, "
                f"or NaN outside nodata_mask): min {np.nanmin(valid):.4g}, max {np.nanmax(valid):.4g}; "
                "pass modis_int16=False to write float32, or mark NaN pixels in nodata_mask"
            )
        data = np.clip(np.rint(scene.image / MODIS_SCALE), -28000, 32767).astype(np.int16)
        data[scene.nodata_mask] = MODIS_FILL
        image_kw = {"nodata": MODIS_FILL, "scale": MODIS_SCALE}
    else:
        data = scene.image.copy()
        data[scene.nodata_mask] = np.nan
        image_kw = {"nodata": np.nan, "scale": None}
    paths = [image_path] + ([labels_path] if labels_path is not None else [])
    names = ["image_path"] + (["labels_path"] if labels_path is not None else [])
    with atomic_paths(paths, overwrite, names=names) as temps:
        _write_raster_file(temps[0], data, crs=crs, transform=scene.transform, band_names=scene.band_names,
                           tags=None, compress="deflate", **image_kw)
        if labels_path is not None:
            _write_raster_file(temps[1], scene.labels.astype(np.uint8)[:, :, None], crs=crs,
                               transform=scene.transform, nodata=None, band_names=None, scale=None, tags=None,
                               compress="deflate")
