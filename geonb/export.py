"""Outputs a researcher keeps: a class map, its probabilities and polygons per class, opening in QGIS.

Downstream of :mod:`geonb.prediction`. Three files, each one a standard a GIS reads without geonb:

* :func:`write_class_map` — a **Cloud-Optimized GeoTIFF** (GDAL's COG driver): ``uint8`` class codes,
  nodata 0, DEFLATE, 256 x 256 tiles, internal overviews made with *mode* resampling (an overview
  pixel is the most common class below it, never an average of codes), a colour table with the
  scheme's colours (QGIS opens it as "Paletted/Unique values") and the class names as tags
  (``CLASS_1=water``, plus the whole scheme as JSON in ``CLASS_SCHEME``). rasterio has no API for
  GDAL category names / raster attribute tables, and GeoTIFF keeps those only in an ``.aux.xml``
  side file, so the names live in tags (``gdalinfo`` shows them).
* :func:`write_probabilities` — a float32 COG, one band per class (band description
  ``"probability of water"``), NaN at nodata, floating-point predictor, overviews by averaging.
  float32 rather than bytes scaled 0–255: a researcher keeps the model's numbers, and DEFLATE with
  the floating-point predictor keeps the file a fraction of its raw size.
* :func:`class_polygons` / :func:`write_class_polygons` — one polygon per connected region of a class
  (``rasterio.features.shapes``, the pixel outlines, unsimplified), with ``class``, ``code``,
  ``pixels`` and ``area_km2``; written as RFC 7946 GeoJSON (lon/lat).

**Areas** are sums of pixel areas on the scene's grid, so they agree with "pixels x pixel area":

* projected CRS: the planar area in the CRS, scaled by its linear unit (``crs.linear_units_factor``,
  so US-foot grids come out in m²) and divided by the projection's areal scale factor
  (``pyproj.Proj.get_factors``) where the pixels are: 1 for equal-area projections (MODIS sinusoidal),
  within about 0.1 % of 1 in UTM, 4 at 60° N in Web Mercator — so areas are ground areas in every CRS.
* geographic CRS (degrees): the exact area of each lon/lat cell on the CRS's ellipsoid, integrated
  around each polygon ring (Green's theorem with the authalic-latitude primitive), so a pixel near
  the pole is smaller than one at the equator. A planar area in "square degrees" is never used.

:func:`export_prediction` writes the set (class map, probabilities, polygons) with
:func:`geonb.io.atomic_paths`: all written, or none changed.

A :class:`geonb.classes.ClassScheme` is the one source of names and colours; without one, the
prediction's ``class_codes`` give :func:`geonb.classes.scheme_for_codes` (named by code, never guessed).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from geonb.classes import ClassScheme, scheme_for_codes
from geonb.errors import (
    ClassCodeError,
    CRSError,
    InvalidParameterError,
    ShapeMismatchError,
)
from geonb.io import atomic_path, atomic_paths, check_output_paths
from geonb.labels import NODATA, Footprints, as_crs, polygons_to_geojson

#: Tile side of the COGs (GDAL's default is 512; 256 gives overviews to scenes from 257 pixels on).
COG_BLOCKSIZE = 256
#: Output kinds of :func:`export_prediction`, in writing order.
EXPORT_KINDS: tuple[str, ...] = ("classes", "probabilities", "polygons")
_SUFFIXES = {"classes": "_classes.tif", "probabilities": "_probabilities.tif", "polygons": "_polygons.geojson"}

__all__ = [
    "COG_BLOCKSIZE",
    "EXPORT_KINDS",
    "class_polygons",
    "export_prediction",
    "pixel_areas_m2",
    "write_class_map",
    "write_class_polygons",
    "write_probabilities",
]


# ---------------------------------------------------------------------------------------------
# Checks shared by the writers (all run before anything is written)
# ---------------------------------------------------------------------------------------------
def _is_prediction(obj) -> bool:
    return hasattr(obj, "classes") and hasattr(obj, "class_codes") and not isinstance(obj, np.ndarray)


def _check_scheme(scheme, name: str = "scheme") -> ClassScheme:
    if not isinstance(scheme, ClassScheme):
        raise InvalidParameterError(
            f"`{name}` must be a geonb.classes.ClassScheme (names and colours of the codes), got "
            f"{type(scheme).__name__}; use ClassScheme.from_names([...]) or scheme_for_codes(prediction.class_codes)"
        )
    return scheme


def _check_grid(transform, crs, shape: tuple[int, int]):
    from affine import Affine

    if not isinstance(transform, Affine):
        raise InvalidParameterError(
            f"`transform` must be an affine.Affine (the scene's transform, scene.transform), got "
            f"{type(transform).__name__}")
    if not (np.isfinite(tuple(transform)[:6]).all() and abs(transform.determinant) > 0):
        raise InvalidParameterError(
            f"`transform` {tuple(transform)[:6]} has no pixel size; pass the raster's own transform")
    if crs is None:
        raise CRSError(
            "`crs` is None: a GIS could not place the output; pass the scene's CRS (scene.crs, e.g. 'EPSG:32633'). "
            "A scene read without one needs its CRS set first")
    crs = as_crs(crs, name="crs", allow_none=False)
    if crs.is_geographic:
        rows, cols = shape
        ys = [(transform * (c, r))[1] for c, r in ((0, 0), (cols, 0), (0, rows), (cols, rows))]
        if min(ys) < -90.0001 or max(ys) > 90.0001:
            raise CRSError(
                f"`crs` {crs.to_string()} is geographic (degrees) but `transform` {tuple(transform)[:6]} puts rows "
                f"at y {min(ys):.6g}..{max(ys):.6g}, not latitudes: the transform is probably in metres. Pass "
                "the raster's real CRS (e.g. its UTM zone)")
    return crs


def _check_classes(classes, scheme: ClassScheme, name: str = "classes") -> np.ndarray:
    arr = np.asarray(classes.classes if _is_prediction(classes) else classes)
    if arr.ndim == 3:
        raise ShapeMismatchError(
            f"`{name}` has shape {arr.shape}: class probabilities or an image, not a class map; pass the "
            "(rows, cols) class codes (prediction.classes)")
    if arr.ndim != 2 or 0 in arr.shape:
        raise ShapeMismatchError(f"`{name}` must be a (rows, cols) class map, got shape {arr.shape}")
    if arr.dtype == bool:
        raise InvalidParameterError(
            f"`{name}` is a boolean mask; pass class codes (e.g. np.where(mask, 1, 2)) with a scheme naming them")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or np.any(arr != np.round(arr)):
            raise ClassCodeError(
                f"`{name}` holds non-integer values (dtype {arr.dtype}): probabilities? Pass class codes "
                "(prediction.classes) and write probabilities with write_probabilities")
    elif arr.dtype.kind not in "ui":
        raise InvalidParameterError(f"`{name}` must hold integer class codes, got dtype {arr.dtype}")
    present = set(np.unique(arr).tolist())
    unknown = sorted(present - set(scheme.codes) - {NODATA})
    if unknown:
        raise ClassCodeError(
            f"`{name}` holds class code(s) {unknown[:10]} that `scheme` {scheme!r} does not name; give a scheme "
            "listing every code (ClassScheme(codes, names, colors), or scheme_for_codes(codes))")
    return arr.astype(np.uint8, copy=False)


def _check_same_grid(arr_shape: tuple[int, ...], shape: tuple[int, int] | None, name: str) -> None:
    if shape is not None and tuple(arr_shape[:2]) != tuple(shape):
        raise ShapeMismatchError(
            f"`{name}` is {tuple(arr_shape[:2])} but the scene grid is {tuple(shape)}: it was made for another "
            "scene or window; predict this scene and pass that")


def _check_min_area(min_area_m2) -> float:
    if isinstance(min_area_m2, bool) or not isinstance(min_area_m2, (int, float, np.number)) or \
            not np.isfinite(min_area_m2) or min_area_m2 < 0:
        raise InvalidParameterError(f"`min_area_m2` must be a number >= 0 (square metres), got {min_area_m2!r}")
    return float(min_area_m2)


def _check_path_suffix(path, suffixes: tuple[str, ...], name: str) -> None:
    if path is None or str(path) == "":
        raise InvalidParameterError(f"`{name}` must be a file path, got {path!r}")
    if Path(path).suffix.lower() not in suffixes:
        raise InvalidParameterError(
            f"`{name}` {str(path)!r} should end in {' or '.join(suffixes)} so a GIS recognises the file")


# ---------------------------------------------------------------------------------------------
# COG writing (to an already-checked temporary path)
# ---------------------------------------------------------------------------------------------
def _write_cog(path: Path, bands: np.ndarray, *, transform, crs, nodata, descriptions: Sequence[str],
               tags: Mapping[str, str], band_tags: Sequence[Mapping[str, str]] = (),
               colormap: Mapping[int, tuple[int, int, int, int]] | None = None,
               overview_resampling: str, predictor: int) -> None:
    """Write ``bands`` (bands, rows, cols) as a COG at ``path`` (replacing whatever is there).

    The COG driver only copies, so the raster is first built in memory (``/vsimem``): this holds one
    uncompressed copy of the raster in memory while writing.
    """
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    count, rows, cols = bands.shape
    profile = {"driver": "GTiff", "height": rows, "width": cols, "count": count, "dtype": bands.dtype.name,
               "crs": crs, "transform": transform, "nodata": nodata}
    with MemoryFile() as mem:
        with mem.open(**profile) as ds:
            ds.write(bands)
            for i, desc in enumerate(descriptions, start=1):
                ds.set_band_description(i, desc)
            ds.update_tags(**{k: str(v) for k, v in tags.items()})
            for i, bt in enumerate(band_tags, start=1):
                ds.update_tags(i, **{k: str(v) for k, v in bt.items()})
            if colormap is not None:
                ds.write_colormap(1, dict(colormap))
        with mem.open() as src:
            rasterio.shutil.copy(src, str(path), driver="COG", COMPRESS="DEFLATE", PREDICTOR=str(predictor),
                                 BLOCKSIZE=str(COG_BLOCKSIZE), OVERVIEWS="AUTO",
                                 OVERVIEW_RESAMPLING=overview_resampling, BIGTIFF="IF_SAFER")


def _class_tags(scheme: ClassScheme) -> dict[str, str]:
    tags = {f"CLASS_{c}": n for c, n in zip(scheme.codes, scheme.names, strict=True)}
    tags["CLASS_CODES"] = ",".join(str(c) for c in scheme.codes)
    tags["CLASS_SCHEME"] = json.dumps(scheme.to_dict())
    return tags


def _class_nodata(scheme: ClassScheme) -> int | None:
    # 0 is "no data" in every geonb class map, unless the scheme makes it a class (buildings' background).
    return None if NODATA in scheme.codes else NODATA


def _write_class_cog(path: Path, classes: np.ndarray, transform, crs, scheme: ClassScheme) -> None:
    _write_cog(path, classes[None], transform=transform, crs=crs, nodata=_class_nodata(scheme),
               descriptions=["class"], tags={**_class_tags(scheme), "GEONB_PRODUCT": "class map"},
               colormap=scheme.rgba_table(), overview_resampling="MODE", predictor=2)


def _write_probabilities_cog(path: Path, probs: np.ndarray, transform, crs, scheme: ClassScheme,
                             codes: tuple[int, ...], nodata_mask: np.ndarray | None) -> None:
    bands = np.moveaxis(probs.astype(np.float32, copy=True), -1, 0)
    if nodata_mask is not None:
        bands[:, nodata_mask] = np.nan
    descriptions = [f"probability of {scheme.name(c)}" for c in codes]
    band_tags = [{"CLASS_CODE": c, "CLASS_NAME": scheme.name(c)} for c in codes]
    _write_cog(path, bands, transform=transform, crs=crs, nodata=float("nan"), descriptions=descriptions,
               tags={**_class_tags(scheme), "BAND_CLASS_CODES": ",".join(map(str, codes)),
                     "GEONB_PRODUCT": "class probabilities"},
               band_tags=band_tags, overview_resampling="AVERAGE", predictor=3)


def _check_probabilities(probabilities, scheme: ClassScheme, class_codes, nodata_mask, shape):
    if _is_prediction(probabilities):
        pred = probabilities
        probs, class_codes = np.asarray(pred.probabilities), tuple(pred.class_codes)
        nodata_mask = pred.nodata_mask if nodata_mask is None else nodata_mask
    else:
        probs = np.asarray(probabilities)
        class_codes = scheme.codes if class_codes is None else class_codes
    if probs.ndim != 3 or 0 in probs.shape:
        hint = " (a class map? write it with write_class_map)" if probs.ndim == 2 else ""
        raise ShapeMismatchError(
            f"`probabilities` must be (rows, cols, classes), got shape {probs.shape}{hint}")
    if isinstance(class_codes, (str, bytes)) or not isinstance(class_codes, Sequence):
        raise InvalidParameterError(f"`class_codes` must be a sequence of class codes, got {class_codes!r}")
    codes = tuple(int(c) for c in class_codes)
    if len(codes) != probs.shape[2]:
        raise ShapeMismatchError(
            f"`probabilities` has {probs.shape[2]} channels but `class_codes` {codes} names {len(codes)}; give "
            "the code of each channel (prediction.class_codes)")
    unknown = [c for c in codes if c not in scheme.codes]
    if unknown:
        raise ClassCodeError(f"`class_codes` {unknown} are not in `scheme` {scheme!r}; give a scheme naming them")
    if probs.dtype.kind != "f":
        raise InvalidParameterError(
            f"`probabilities` must be floats in [0, 1], got dtype {probs.dtype} (class codes? use write_class_map)")
    _check_same_grid(probs.shape, shape, "probabilities")
    if nodata_mask is not None:
        nodata_mask = np.asarray(nodata_mask)
        if nodata_mask.dtype != bool or nodata_mask.shape != probs.shape[:2]:
            raise ShapeMismatchError(
                f"`nodata_mask` must be bool {probs.shape[:2]}, got {nodata_mask.dtype} {nodata_mask.shape}")
    valid = probs if nodata_mask is None else probs[~nodata_mask]
    if valid.size and (not np.isfinite(valid).all() or valid.min() < -1e-3 or valid.max() > 1 + 1e-3):
        raise InvalidParameterError(
            f"`probabilities` must be finite and in [0, 1] outside nodata, got {np.nanmin(valid):.4g}.."
            f"{np.nanmax(valid):.4g}; pass softmax output (prediction.probabilities), not logits")
    return probs, codes, nodata_mask


# ---------------------------------------------------------------------------------------------
# Public writers
# ---------------------------------------------------------------------------------------------
def write_class_map(classes, path: str | os.PathLike, *, transform, crs, scheme: ClassScheme,
                    overwrite: bool = False) -> Path:
    """Write a class map as a Cloud-Optimized GeoTIFF with a colour table and class names.

    Parameters
    ----------
    classes : ndarray (rows, cols) of integer class codes, or a Prediction
        0 = no data (unless ``scheme`` has 0 as a class); every other code must be in ``scheme``.
    path : path-like
        ``.tif`` file; refused if it exists unless ``overwrite=True``. Written atomically.
    transform : affine.Affine
    crs : CRS-like
        The scene's grid (``scene.transform``, ``scene.crs``).
    scheme : ClassScheme
        Names and colours of the codes.

    Returns
    -------
    Path

    Notes
    -----
    uint8, nodata 0, DEFLATE (horizontal predictor), 256 x 256 tiles, overviews by *mode* down to one
    tile, colour table from :meth:`ClassScheme.rgba_table` (0 transparent), band description
    ``"class"`` and tags ``CLASS_<code>=<name>``, ``CLASS_CODES``, ``CLASS_SCHEME`` (JSON). Holds one
    uncompressed copy of the map in memory while writing (1 byte per pixel).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from affine import Affine
    >>> from geonb.classes import ClassScheme
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> classes = np.ones((8, 8), np.uint8); classes[:, 4:] = 2
    >>> p = write_class_map(classes, d / "classes.tif", transform=Affine(30, 0, 5e5, 0, -30, 9e6),
    ...                     crs="EPSG:32622", scheme=ClassScheme.from_names(["water", "forest"]))
    >>> import rasterio
    >>> with rasterio.open(p) as ds:
    ...     ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"], ds.tags()["CLASS_1"], ds.colormap(1)[1]
    ('COG', 'water', (31, 95, 191, 255))
    """
    scheme = _check_scheme(scheme)
    arr = _check_classes(classes, scheme)
    crs = _check_grid(transform, crs, arr.shape)
    _check_path_suffix(path, (".tif", ".tiff"), "path")
    with atomic_path(path, overwrite) as tmp:
        _write_class_cog(tmp, arr, transform, crs, scheme)
    return Path(path)


def write_probabilities(probabilities, path: str | os.PathLike, *, transform, crs, scheme: ClassScheme,
                        class_codes: Sequence[int] | None = None, nodata_mask: np.ndarray | None = None,
                        overwrite: bool = False) -> Path:
    """Write class probabilities as a float32 Cloud-Optimized GeoTIFF, one band per class.

    Parameters
    ----------
    probabilities : ndarray float (rows, cols, classes), or a Prediction
        Values in [0, 1].
    path : path-like
        ``.tif`` file; refused if it exists unless ``overwrite=True``. Written atomically.
    transform, crs
        The scene's grid.
    scheme : ClassScheme
        Names the bands (``"probability of water"``).
    class_codes : sequence of int, optional
        Code of each channel; a Prediction brings its own. Default ``scheme.codes`` (a scheme lists its
        codes in the order of a model's channels).
    nodata_mask : ndarray bool (rows, cols), optional
        Written as NaN (the file's nodata). A Prediction brings its own.

    Returns
    -------
    Path

    Notes
    -----
    float32, nodata NaN, DEFLATE with the floating-point predictor, 256 x 256 tiles, overviews by
    averaging; band ``i`` has description ``"probability of <name>"`` and tags ``CLASS_CODE``,
    ``CLASS_NAME``. Holds one uncompressed float32 copy in memory while writing.
    """
    scheme = _check_scheme(scheme)
    probs, codes, mask = _check_probabilities(probabilities, scheme, class_codes, nodata_mask, None)
    crs = _check_grid(transform, crs, probs.shape[:2])
    _check_path_suffix(path, (".tif", ".tiff"), "path")
    with atomic_path(path, overwrite) as tmp:
        _write_probabilities_cog(tmp, probs, transform, crs, scheme, codes, mask)
    return Path(path)


# ---------------------------------------------------------------------------------------------
# Areas and polygons
# ---------------------------------------------------------------------------------------------
def _geod_params(crs) -> tuple[float, float, float]:
    """``(a, e2, radians per angular unit)`` of a geographic CRS."""
    import pyproj

    pcrs = pyproj.CRS.from_wkt(crs.to_wkt())
    geod = pcrs.get_geod()
    factor = pcrs.axis_info[0].unit_conversion_factor if pcrs.axis_info else math.pi / 180
    return float(geod.a), float(geod.es), float(factor or math.pi / 180)


def _zone_primitive(lat_rad: np.ndarray, a: float, e2: float) -> np.ndarray:
    """Area between the equator and latitude ``lat`` per radian of longitude, on the ellipsoid (a, e²).

    ``S(phi) = b²/2 [sin(phi) / (1 - e² sin²(phi)) + atanh(e sin(phi)) / e]``; ``a² sin(phi)`` on a sphere.
    """
    s = np.sin(lat_rad)
    if e2 < 1e-15:
        return a * a * s
    e = math.sqrt(e2)
    b2 = a * a * (1 - e2)
    return b2 / 2 * (s / (1 - e2 * s * s) + np.arctanh(e * s) / e)


def _geographic_area_m2(geom, a: float, e2: float, unit_rad: float) -> float:
    """Ellipsoidal area of a polygon whose edges run along parallels and meridians (pixel outlines).

    Green's theorem: area = |∮ S(phi) d(lambda)|; exact for pixel edges (a parallel has constant S,
    a meridian has d(lambda) = 0), the trapezoid rule for slanted edges (rotated grids).
    """
    def ring(coords) -> float:
        xy = np.asarray(coords, dtype=float)
        lam = xy[:, 0] * unit_rad
        big_s = _zone_primitive(xy[:, 1] * unit_rad, a, e2)
        return float(np.sum((big_s[1:] + big_s[:-1]) / 2 * np.diff(lam)))

    polys = getattr(geom, "geoms", [geom])
    total = 0.0
    for p in polys:
        total += abs(ring(p.exterior.coords)) - sum(abs(ring(r.coords)) for r in p.interiors)
    return total


def _areal_scale(crs, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The projection's areal scale factor (map area / ground area) at CRS points; 1 where it cannot be told."""
    from pyproj import CRS as PCRS
    from pyproj import Proj, Transformer

    try:
        pcrs = PCRS.from_user_input(crs.to_wkt())
        lon, lat = Transformer.from_crs(pcrs, pcrs.geodetic_crs, always_xy=True).transform(xs, ys)
        scale = np.asarray(Proj(pcrs).get_factors(lon, lat).areal_scale, dtype=float)
    except Exception:  # noqa: BLE001 - an exotic projection pyproj cannot factor: planar, as before
        return np.ones(np.shape(xs))
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)


def pixel_areas_m2(transform, crs, shape: tuple[int, int]) -> np.ndarray:
    """Ground area of every pixel of a grid, in m², shape ``(rows, cols)``, float64.

    The same rule as the polygon areas of :func:`class_polygons`: for a projected CRS the planar area
    (times the CRS's linear unit squared) divided by the projection's areal scale factor there, for a
    geographic one the exact lon/lat cell area on the ellipsoid (pixels shrink towards the poles).

    Examples
    --------
    >>> from affine import Affine
    >>> round(float(pixel_areas_m2(Affine(30, 0, 500000, 0, -30, 0), "EPSG:32633", (2, 3))[0, 0]), 2)
    900.72
    >>> cells = pixel_areas_m2(Affine(1e-4, 0, 0, 0, -1e-4, 60.0), "EPSG:4326", (1, 1))
    >>> round(float(cells[0, 0]), 1)  # 11.1 m x 5.6 m at 60° N
    62.2
    """
    rows, cols = (int(v) for v in shape)
    crs = _check_grid(transform, crs, (rows, cols))
    if not crs.is_geographic:
        unit = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
        planar = abs(transform.determinant) * unit * unit
        # the areal scale varies slowly: measured on a coarse grid of pixel centres, interpolated between
        rr = np.unique(np.r_[np.arange(0, rows, 32), rows - 1]).astype(float)
        cc = np.unique(np.r_[np.arange(0, cols, 32), cols - 1]).astype(float)
        gr, gc = np.meshgrid(rr + 0.5, cc + 0.5, indexing="ij")
        xs, ys = transform * (gc.ravel(), gr.ravel())
        scale = _areal_scale(crs, np.asarray(xs), np.asarray(ys)).reshape(gr.shape)
        from scipy.interpolate import RegularGridInterpolator

        interp = RegularGridInterpolator((rr, cc), scale, bounds_error=False, fill_value=None)
        pr, pc = np.meshgrid(np.arange(rows, dtype=float), np.arange(cols, dtype=float), indexing="ij")
        return planar / interp(np.stack([pr.ravel(), pc.ravel()], axis=-1)).reshape(rows, cols)
    from shapely.geometry import box

    a, e2, unit_rad = _geod_params(crs)
    if transform.b == 0 and transform.d == 0:  # north-up: one area per row
        top = transform.f + transform.e * np.arange(rows + 1)
        s = _zone_primitive(top * unit_rad, a, e2)
        per_row = np.abs(np.diff(s)) * abs(transform.a) * unit_rad
        return np.repeat(per_row[:, None], cols, axis=1)
    from shapely.affinity import affine_transform

    coeffs = [transform.a, transform.b, transform.d, transform.e, transform.c, transform.f]
    return np.array([[_geographic_area_m2(affine_transform(box(c, r, c + 1, r + 1), coeffs), a, e2, unit_rad)
                      for c in range(cols)] for r in range(rows)])


def class_polygons(classes, transform, crs, scheme: ClassScheme, *, classes_wanted: Sequence[int] | None = None,
                   min_area_m2: float = 0.0, nodata_mask: np.ndarray | None = None,
                   connectivity: int = 4) -> Footprints:
    """Polygons of each class's connected regions, with their ground areas, in the scene's CRS.

    Parameters
    ----------
    classes : ndarray (rows, cols) of class codes, or a Prediction
    transform, crs
        The scene's grid.
    scheme : ClassScheme
        Names the classes (every code in ``classes`` except 0 must be in it).
    classes_wanted : sequence of int, optional
        Codes to vectorize (default: every class of the scheme; 0 only where the scheme makes it a class).
    min_area_m2 : float
        Regions smaller than this (m²) are dropped (holes are kept as they are).
    nodata_mask : ndarray bool (rows, cols), optional
        Pixels never vectorized (a Prediction brings its own).
    connectivity : {4, 8}

    Returns
    -------
    Footprints
        Pixel outlines (unsimplified) in ``crs``; properties ``id`` (from 1), ``class`` (name),
        ``code``, ``pixels``, ``area_km2`` (see the module notes: planar in a projected CRS, on the
        ellipsoid in a geographic one). :func:`geonb.labels.polygons_to_geojson` or
        :func:`write_class_polygons` put them in lon/lat.

    Examples
    --------
    >>> from affine import Affine
    >>> from geonb.classes import ClassScheme
    >>> c = np.full((10, 10), 2, np.uint8); c[2:5, 2:6] = 1
    >>> fp = class_polygons(c, Affine(30, 0, 5e5, 0, -30, 9e6), "EPSG:32622",
    ...                     ClassScheme.from_names(["water", "forest"]), classes_wanted=[1])
    >>> fp.properties[0]["class"], fp.properties[0]["pixels"], fp.properties[0]["area_km2"]
    ('water', 12, 0.0108)
    """
    from rasterio.features import shapes
    from shapely.affinity import affine_transform
    from shapely.geometry import shape

    scheme = _check_scheme(scheme)
    if _is_prediction(classes) and nodata_mask is None:
        nodata_mask = classes.nodata_mask
    arr = _check_classes(classes, scheme)
    crs = _check_grid(transform, crs, arr.shape)
    min_area_m2 = _check_min_area(min_area_m2)
    if connectivity not in (4, 8):
        raise InvalidParameterError(f"`connectivity` must be 4 or 8, got {connectivity!r}")
    if classes_wanted is None:
        wanted = tuple(scheme.codes)
    else:
        if isinstance(classes_wanted, (str, bytes)) or not isinstance(classes_wanted, Sequence):
            raise InvalidParameterError(
                f"`classes_wanted` must be a list of class codes, got {classes_wanted!r}; e.g. [scheme.code('water')]")
        wanted = tuple(int(c) for c in classes_wanted)
        unknown = [c for c in wanted if c not in scheme.codes]
        if unknown:
            raise ClassCodeError(f"`classes_wanted` {unknown} are not codes of `scheme` {scheme!r}")
    if nodata_mask is not None:
        nodata_mask = np.asarray(nodata_mask)
        if nodata_mask.dtype != bool or nodata_mask.shape != arr.shape:
            raise ShapeMismatchError(
                f"`nodata_mask` must be bool {arr.shape}, got {nodata_mask.dtype} {nodata_mask.shape}")
    keep = np.isin(arr, wanted)
    if nodata_mask is not None:
        keep &= ~nodata_mask
    if crs.is_geographic:
        a, e2, unit_rad = _geod_params(crs)
    else:
        unit = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
        px_m2 = abs(transform.determinant) * unit * unit
    coeffs = [transform.a, transform.b, transform.d, transform.e, transform.c, transform.f]
    found: list[tuple[int, object, int, float]] = []
    # Vectorize in pixel space (exact pixel counts), then place with the transform.
    for geom, value in shapes(arr, mask=keep, connectivity=connectivity):
        poly_px = shape(geom)
        pixels = int(round(poly_px.area))
        poly = affine_transform(poly_px, coeffs)
        if crs.is_geographic:
            area_m2 = _geographic_area_m2(poly, a, e2, unit_rad)
        else:
            c = poly.representative_point()
            area_m2 = pixels * px_m2 / float(_areal_scale(crs, np.array([c.x]), np.array([c.y]))[0])
        if area_m2 < min_area_m2:
            continue
        found.append((int(value), poly, pixels, area_m2))
    found.sort(key=lambda t: (wanted.index(t[0]), -t[3]))
    geoms, props = [], []
    for code, poly, pixels, area_m2 in found:
        geoms.append(poly)
        props.append({"id": len(geoms), "class": scheme.name(code), "code": code, "pixels": pixels,
                      "area_km2": round(area_m2 / 1e6, 9)})
    return Footprints(geoms, props, crs)


def write_class_polygons(polygons: Footprints, path: str | os.PathLike, *, overwrite: bool = False,
                         precision: int = 7) -> Path:
    """Write :func:`class_polygons` as RFC 7946 GeoJSON (lon/lat, reprojected), atomically.

    ``precision`` decimal places (7 is about 1 cm). Refused if ``path`` exists unless ``overwrite=True``.
    """
    if not isinstance(polygons, Footprints):
        raise InvalidParameterError(
            f"`polygons` must be the Footprints of class_polygons(...), got {type(polygons).__name__}")
    _check_path_suffix(path, (".geojson", ".json"), "path")
    collection = polygons_to_geojson(polygons, precision=precision)
    with atomic_path(path, overwrite) as tmp:
        tmp.write_text(json.dumps(collection), encoding="utf-8")
    return Path(path)


# ---------------------------------------------------------------------------------------------
# The set
# ---------------------------------------------------------------------------------------------
def _stem(scene, prediction) -> str:
    name = getattr(scene, "name", "") or getattr(prediction, "name", "") or "prediction"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._") or "prediction"


def export_prediction(prediction, scene, out: str | os.PathLike | Mapping[str, str | os.PathLike], *,
                      scheme: ClassScheme | None = None, probabilities: bool = True, polygons: bool = True,
                      classes_wanted: Sequence[int] | None = None, min_area_m2: float = 0.0,
                      overwrite: bool = False) -> dict[str, Path]:
    """Write a prediction's class map, probabilities and class polygons as one set: all or nothing.

    Parameters
    ----------
    prediction : geonb.prediction.Prediction
        ``classes``, ``probabilities``, ``class_codes``, ``nodata_mask`` on the scene's grid.
    scene : geonb.scene.Scene
        Gives the grid (``transform``, ``crs``, ``shape``) and the default file stem (``scene.name``).
    out : folder, or dict of kind to path
        A folder (created if missing): files ``<stem>_classes.tif``, ``<stem>_probabilities.tif``,
        ``<stem>_polygons.geojson``. Or ``{"classes": ..., "probabilities": ..., "polygons": ...}``
        (kinds left out are not written).
    scheme : ClassScheme, optional
        Names and colours; default :func:`geonb.classes.scheme_for_codes` of ``prediction.class_codes``.
    probabilities, polygons : bool
        Write these too (the class map is always written).
    classes_wanted, min_area_m2
        As in :func:`class_polygons`.
    overwrite : bool
        Replace existing files; otherwise any existing file refuses the whole set.

    Returns
    -------
    dict of kind to Path
        The files written, keys from :data:`EXPORT_KINDS`.

    Raises
    ------
    InvalidParameterError
        Two kinds name the same file, an unknown kind, or a bad argument (nothing is written).
    OutputExistsError
        A file exists and ``overwrite`` is False (nothing is written).
    CRSError
        The scene has no CRS.
    """
    from geonb.scene import Scene

    if not _is_prediction(prediction) or not hasattr(prediction, "probabilities"):
        raise InvalidParameterError(
            f"`prediction` must be a geonb.prediction.Prediction (predict_scene), got {type(prediction).__name__}")
    if not isinstance(scene, Scene):
        raise InvalidParameterError(
            f"`scene` must be the geonb Scene the prediction was made on (its grid), got {type(scene).__name__}")
    if scene.crs is None:
        raise CRSError(
            f"scene {scene.name!r} has no CRS, so the exported files could not be placed in a GIS; read it from a "
            "georeferenced GeoTIFF (read_scene) or set scene.crs and scene.transform")
    scheme = scheme_for_codes(prediction.class_codes) if scheme is None else _check_scheme(scheme)
    # Every check before anything is written.
    classes = _check_classes(prediction.classes, scheme, "prediction.classes")
    _check_same_grid(classes.shape, scene.shape, "prediction.classes")
    crs = _check_grid(scene.transform, scene.crs, classes.shape)
    kinds = ["classes"] + (["probabilities"] if probabilities else []) + (["polygons"] if polygons else [])
    if isinstance(out, Mapping):
        unknown = sorted(set(out) - set(EXPORT_KINDS))
        if unknown:
            raise InvalidParameterError(f"`out` names unknown kinds {unknown}; use {list(EXPORT_KINDS)}")
        if "classes" not in out:
            raise InvalidParameterError("`out` must give a path for 'classes' (the class map is always written)")
        kinds = [k for k in kinds if out.get(k) is not None]
        paths = {k: Path(out[k]) for k in kinds}
    else:
        if out is None or str(out) == "":
            raise InvalidParameterError(f"`out` must be a folder or a dict of kind -> path, got {out!r}")
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise InvalidParameterError(
                f"`out` {str(folder)!r} is a file; give a folder, or a dict {{'classes': 'x.tif', ...}}")
        stem = _stem(scene, prediction)
        paths = {k: folder / (stem + _SUFFIXES[k]) for k in kinds}
    check_output_paths({f"out['{k}']": p for k, p in paths.items()}, overwrite)
    for k, p in paths.items():
        _check_path_suffix(p, (".geojson", ".json") if k == "polygons" else (".tif", ".tiff"), f"out['{k}']")
    probs = codes = mask = None
    if "probabilities" in paths:
        probs, codes, mask = _check_probabilities(prediction, scheme, None, None, classes.shape)
    if "polygons" in paths:
        fp = class_polygons(classes, scene.transform, crs, scheme, classes_wanted=classes_wanted,
                            min_area_m2=min_area_m2, nodata_mask=prediction.nodata_mask)
        collection = polygons_to_geojson(fp)
    with atomic_paths(list(paths.values()), overwrite, names=[f"out['{k}']" for k in paths]) as temps:
        tmp = dict(zip(paths, temps, strict=True))
        _write_class_cog(tmp["classes"], classes, scene.transform, crs, scheme)
        if "probabilities" in tmp:
            _write_probabilities_cog(tmp["probabilities"], probs, scene.transform, crs, scheme, codes, mask)
        if "polygons" in tmp:
            tmp["polygons"].write_text(json.dumps(collection), encoding="utf-8")
    return paths
