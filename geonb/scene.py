"""Scenes: an image with its labels and georeferencing, read from and written to GeoTIFF.

This is the one place where rasterio's ``(bands, rows, cols)`` becomes geonb's
``(rows, cols, bands)``, and where MODIS integer scaling (x 0.0001, fill -28672) is undone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from geonb.bands import MODIS_BAND_NAMES, band_indices
from geonb.errors import (
    BandMismatchError,
    ClassCodeError,
    GridMismatchError,
    InvalidParameterError,
    RasterReadError,
    ShapeMismatchError,
)
from geonb.io import atomic_path, atomic_paths, check_output_paths, open_raster
from geonb.labels import NODATA

#: MODIS surface reflectance scale factor and fill value (MOD09 user guide).
MODIS_SCALE = 0.0001
MODIS_FILL = -28672


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
        Free metadata from a catalog (id, split, condition...).
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
        if image.ndim == 2:
            image = image[:, :, None]
        if image.ndim != 3:
            raise ShapeMismatchError(
                f"`image` must have shape (rows, cols, bands), got shape {image.shape}"
            )
        if image.shape[2] == 0:
            raise BandMismatchError("`image` has 0 bands; a scene needs at least one band")
        self.image = image.astype(np.float32, copy=False)
        rows, cols, nb = self.image.shape
        if not self.band_names:
            self.band_names = default_band_names(nb)
        self.band_names = tuple(self.band_names)
        if len(self.band_names) != nb:
            raise BandMismatchError(
                f"`band_names` has {len(self.band_names)} names but `image` has {nb} bands"
            )
        if self.nodata_mask is None:
            self.nodata_mask = np.zeros((rows, cols), dtype=bool)
        self.nodata_mask = np.asarray(self.nodata_mask, dtype=bool)
        if self.nodata_mask.shape != (rows, cols):
            raise ShapeMismatchError(
                f"`nodata_mask` has shape {self.nodata_mask.shape}, the image grid is {(rows, cols)}"
            )
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.shape != (rows, cols):
                raise ShapeMismatchError(
                    f"`labels` has shape {labels.shape} but the image grid is {(rows, cols)}; "
                    "labels must be on the same grid as the image"
                )
            if labels.dtype.kind not in "uib" or (labels.size and (labels.min() < 0 or labels.max() > 255)):
                raise ClassCodeError(
                    f"`labels` must hold integer class codes 0-255 (geonb.labels), got dtype {labels.dtype} "
                    f"with values {labels.min() if labels.size else ''}..{labels.max() if labels.size else ''}"
                )
            self.labels = labels.astype(np.uint8, copy=False)
        if self.crs is not None and not isinstance(self.crs, CRS):
            self.crs = CRS.from_user_input(self.crs)

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
        idx = band_indices(tuple(bands), self.band_names)
        return replace(self, image=self.image[:, :, idx], band_names=tuple(bands))

    def __repr__(self) -> str:
        crs = self.crs.to_string() if self.crs else None
        lab = "with labels" if self.labels is not None else "no labels"
        return (f"Scene({self.name!r}, {self.shape[0]}x{self.shape[1]} px, {self.n_bands} bands, "
                f"{lab}, crs={crs})")


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


def _as_window(window) -> Window | None:
    if window is None:
        return None
    if isinstance(window, Window):
        return window
    try:
        (r0, r1), (c0, c1) = window
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"`window` must be a rasterio Window or ((row_start, row_stop), (col_start, col_stop)), got {window!r}"
        ) from exc
    try:
        r0, r1, c0, c1 = (int(v) for v in (r0, r1, c0, c1))
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"`window` bounds must be integers, got {window!r}") from exc
    if r0 < 0 or c0 < 0 or r1 <= r0 or c1 <= c0:
        raise InvalidParameterError(
            f"`window` must be ((row_start, row_stop), (col_start, col_stop)) with 0 <= start < stop, got {window!r}"
        )
    return Window.from_slices((r0, r1), (c0, c1))


def _scale_for(ds, scale) -> tuple[float, float]:
    if scale is not None and scale != "auto":
        if isinstance(scale, str) or isinstance(scale, bool):
            raise InvalidParameterError(
                f"`scale` must be 'auto', None or a number (e.g. 0.0001 for MODIS int16), got {scale!r}"
            )
        return float(scale), 0.0
    scales, offsets = ds.scales, ds.offsets
    if any(s not in (None, 1.0) for s in scales) or any(o not in (None, 0.0) for o in offsets):
        return float(scales[0] or 1.0), float(offsets[0] or 0.0)
    if ds.dtypes[0] == "int16" and ds.nodata == MODIS_FILL:
        return MODIS_SCALE, 0.0
    return 1.0, 0.0


def read_image(path: str | os.PathLike, *, window=None, bands: Sequence[str] | None = None,
               scale: float | str | None = "auto") -> tuple[np.ndarray, np.ndarray, dict]:
    """Read an image raster as ``(rows, cols, bands)`` float32 plus its nodata mask and metadata.

    Only the requested ``window`` is read from disk (or over HTTP), so a scene from a large
    raster costs memory for the window alone.

    Parameters
    ----------
    path : path-like
    window : rasterio.windows.Window or ((r0, r1), (c0, c1)), optional
    bands : sequence of str, optional
        Band names to keep (others are not read).
    scale : "auto", float or None
        ``"auto"``: the file's own scale/offset tags; else MODIS scaling (x 0.0001) for int16 with
        fill -28672; else 1. ``None`` keeps raw values.

    Returns
    -------
    image : ndarray float32 (rows, cols, bands)
    nodata_mask : ndarray bool (rows, cols)
    meta : dict with ``crs``, ``transform``, ``band_names``, ``tags``
    """
    with _open(path, "image") as ds:
        if ds.count == 0:
            raise BandMismatchError(f"image {str(path)!r} has 0 bands")
        names = tuple(ds.descriptions) if all(ds.descriptions) else default_band_names(ds.count)
        if bands is not None:
            idx = band_indices(tuple(bands), names)
            names = tuple(bands)
        else:
            idx = list(range(ds.count))
        win = _as_window(window)
        try:
            data = ds.read([i + 1 for i in idx], window=win, masked=True)
        except RasterioIOError as exc:
            raise RasterReadError(
                f"image {str(path)!r} could not be read ({exc}); the file may be truncated or corrupt. "
                "Regenerate or re-download it."
            ) from exc
        transform = ds.window_transform(win) if win is not None else ds.transform
        sc, off = (1.0, 0.0) if scale is None else _scale_for(ds, scale)
        mask = np.ma.getmaskarray(data).any(axis=0)
        arr = np.moveaxis(np.ma.getdata(data), 0, -1).astype(np.float32)
        if sc != 1.0 or off != 0.0:
            arr = arr * np.float32(sc) + np.float32(off)
        arr[mask] = 0.0
        meta = {"crs": ds.crs, "transform": transform, "band_names": names, "tags": ds.tags(),
                "width": ds.width, "height": ds.height, "full_transform": ds.transform}
    return arr, mask, meta


def read_labels(path: str | os.PathLike, *, window=None) -> tuple[np.ndarray, dict]:
    """Read a single-band label raster as ``(rows, cols)`` uint8 plus ``crs``/``transform`` metadata.

    The label file's nodata value (if any) becomes class 0 (no label).
    """
    with _open(path, "labels") as ds:
        if ds.count != 1:
            raise BandMismatchError(f"labels {str(path)!r} must have 1 band, it has {ds.count}")
        win = _as_window(window)
        try:
            data = ds.read(1, window=win, masked=True)
        except RasterioIOError as exc:
            raise RasterReadError(
                f"labels {str(path)!r} could not be read ({exc}); the file may be truncated or corrupt"
            ) from exc
        labels = np.ma.filled(data, NODATA).astype(np.uint8)
        transform = ds.window_transform(win) if win is not None else ds.transform
        meta = {"crs": ds.crs, "transform": transform, "width": ds.width, "height": ds.height,
                "full_transform": ds.transform}
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
               name: str | None = None, properties: dict | None = None) -> Scene:
    """Read a :class:`Scene` from an image GeoTIFF and an optional label GeoTIFF on the same grid.

    Parameters
    ----------
    image_path, labels_path : path-like
    window : Window or ((r0, r1), (c0, c1)), optional
        Read only this part of both rasters (a windowed read: memory for the window only).
    bands : sequence of str, optional
        Band names to read; default all.
    scale : see :func:`read_image`.
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
    """
    image, mask, meta = read_image(image_path, window=window, bands=bands, scale=scale)
    labels = None
    if labels_path is not None:
        labels, lmeta = read_labels(labels_path, window=window)
        # Compare the full grids, not just the windows, so a mismatch is reported even for a window.
        check_same_grid((meta["height"], meta["width"]), meta["full_transform"], meta["crs"],
                        (lmeta["height"], lmeta["width"]), lmeta["full_transform"], lmeta["crs"])
    return Scene(
        image=image, labels=labels, band_names=meta["band_names"], crs=meta["crs"],
        transform=meta["transform"], nodata_mask=mask,
        name=name if name is not None else Path(str(image_path)).stem,
        properties=dict(properties or {}),
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
    nb = arr.shape[2]
    if band_names is not None and len(band_names) not in (0, nb):
        raise InvalidParameterError(f"`band_names` names {len(band_names)} bands but the array has {nb}")
    return arr


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
    """
    arr = _as_raster_array(array, band_names)
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
        _write_raster_file(temps[0], data, crs=scene.crs, transform=scene.transform, band_names=scene.band_names,
                           tags=None, compress="deflate", **image_kw)
        if labels_path is not None:
            _write_raster_file(temps[1], scene.labels.astype(np.uint8)[:, :, None], crs=scene.crs,
                               transform=scene.transform, nodata=None, band_names=None, scale=None, tags=None,
                               compress="deflate")
