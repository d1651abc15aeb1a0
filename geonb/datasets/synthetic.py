"""Realistic synthetic MODIS lakes: a stand-in for the study's (non-public) datasets.

:func:`generate_lakes` writes two datasets in the on-disk layout of ``ARCHITECTURE.md``
(``catalog.geojson``, ``images/<id>.tif``, ``labels/<id>.tif``), deterministically from a seed:

``lakes-synthetic``
    About 950 scenes labelled water / land (the study's "dataset 2"; about 6 % water).
``lakes-synthetic-unclassified``
    About 135 larger scenes that also carry ``UNCLASSIFIED`` where a second classifier would
    disagree: mixed shore pixels, lake ice, cloud and dark cloud shadow (the study's "dataset 1").

How a scene is made (all vectorised NumPy; no per-pixel Python):

1. **Geometry.** A smooth random "depth" field (power-law noise, computed with an FFT) plus a bowl
   or a slope is thresholded at the quantile that gives the scene's water share: irregular
   shorelines, bays and islands. Rivers are meandering channels, often narrower than a pixel.
   The water mask is drawn on a 4x finer grid and averaged, so each MODIS pixel gets its true
   water *fraction*.
2. **Spectra.** Each pixel is a linear mixture of per-class reflectance spectra (:data:`SPECTRA`,
   documented in ``data/README.md``): water (clear, turbid, algal; ice and snow when frozen) by its
   water fraction, land by smooth abundance fields of the climate's land covers.
3. **Sensor and sky.** Aerosol haze, a point-spread blur, cloud and its displaced shadow, low sun
   or night, detector striping, sensor noise and nodata stripes.
4. **Labels.** Water where the water fraction is at least one half; in the unclassified dataset,
   ``UNCLASSIFIED`` where a plausible second classifier would disagree.

Same seed, same bytes: every scene draws from its own ``numpy.random.Generator`` seeded by
``(seed, dataset, scene index)``, and the GeoTIFFs and catalog hold no timestamps.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from scipy import ndimage

from geonb.bands import MODIS_BAND_NAMES
from geonb.errors import InvalidParameterError, OutputExistsError
from geonb.io import atomic_path
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER, as_crs, grid_shape
from geonb.scene import Scene, write_scene

from .places import CLIMATES, PLACES, Place

# -------------------------------------------------------------------------------------------
# The MODIS grid
# -------------------------------------------------------------------------------------------
#: The MODIS sinusoidal projection (a sphere of radius 6371007.181 m).
MODIS_SINUSOIDAL = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
#: Pixel size of the MODIS 500 m land grid, in metres (tile width 1111950.5197665 m / 2400).
MODIS_PIXEL_M = 463.312716525
#: Upper-left corner of the MODIS tile grid (tile h00v00) in sinusoidal metres.
MODIS_GRID_ORIGIN = (-20015109.354, 10007554.677)

#: Dataset names written by :func:`generate_lakes` and the number of scenes in each by default
#: (the study had 956 and 135 images).
LAKES_DATASETS: dict[str, int] = {"lakes-synthetic": 956, "lakes-synthetic-unclassified": 135}
SPLIT_FRACTIONS: dict[str, float] = {"train": 0.77, "val": 0.12, "test": 0.11}
CONDITIONS: tuple[str, ...] = ("clear", "turbid", "frozen", "cloudy", "low-sun")
LAYOUTS: tuple[str, ...] = ("lake", "shore", "ponds", "river", "delta")
#: Version of the generator's recipe; stored in each catalog.
GENERATOR_VERSION = "1"

# -------------------------------------------------------------------------------------------
# Spectra: typical surface reflectance in the 7 MODIS land bands (documented in data/README.md)
# -------------------------------------------------------------------------------------------
#: Per-class reflectance (0-1) in MODIS band order: red, nir, blue, green, nir2, swir1, swir2.
SPECTRA: dict[str, tuple[float, ...]] = {
    #                    red    nir   blue  green  nir2  swir1  swir2
    "clear_water":      (0.020, 0.012, 0.045, 0.038, 0.006, 0.004, 0.003),
    "turbid_water":     (0.100, 0.050, 0.070, 0.095, 0.015, 0.008, 0.005),
    "algal_water":      (0.030, 0.060, 0.030, 0.065, 0.020, 0.010, 0.006),
    "ice":              (0.300, 0.220, 0.340, 0.320, 0.100, 0.030, 0.020),
    "snow":             (0.820, 0.780, 0.860, 0.850, 0.500, 0.090, 0.050),
    "conifer_forest":   (0.025, 0.200, 0.020, 0.040, 0.180, 0.095, 0.040),
    "broadleaf_forest": (0.035, 0.320, 0.025, 0.060, 0.300, 0.160, 0.070),
    "cropland":         (0.060, 0.330, 0.040, 0.085, 0.330, 0.220, 0.120),
    "dry_grass":        (0.120, 0.250, 0.060, 0.090, 0.300, 0.320, 0.220),
    "wetland":          (0.040, 0.180, 0.030, 0.060, 0.140, 0.090, 0.050),
    "tundra":           (0.080, 0.220, 0.050, 0.070, 0.240, 0.200, 0.120),
    "bare_soil":        (0.130, 0.180, 0.065, 0.095, 0.230, 0.280, 0.230),
    "sand":             (0.350, 0.420, 0.180, 0.270, 0.480, 0.550, 0.480),
    "rock":             (0.150, 0.180, 0.100, 0.130, 0.200, 0.220, 0.190),
    "urban":            (0.120, 0.200, 0.090, 0.110, 0.220, 0.220, 0.180),
    "cloud":            (0.650, 0.650, 0.700, 0.670, 0.600, 0.450, 0.300),
}
#: Share of reflectance left in a cloud's shadow, per band: only diffuse skylight, which is blue-rich.
SHADOW_TRANSMISSION: tuple[float, ...] = (0.30, 0.25, 0.45, 0.35, 0.22, 0.20, 0.20)
#: Aerosol haze adds path reflectance that falls with wavelength (scaled by a per-scene amount).
HAZE_SHAPE: tuple[float, ...] = (0.35, 0.15, 1.00, 0.60, 0.05, 0.02, 0.01)
#: Sensor noise (standard deviation of reflectance) per band.
NOISE_SIGMA: tuple[float, ...] = (0.004, 0.005, 0.004, 0.004, 0.006, 0.005, 0.004)

#: Land covers by climate, with their probabilities of being one of a scene's covers.
LAND_COVER: dict[str, dict[str, float]] = {
    "tropical": {"broadleaf_forest": 0.40, "cropland": 0.25, "wetland": 0.15, "bare_soil": 0.10,
                 "urban": 0.05, "dry_grass": 0.05},
    "arid": {"sand": 0.30, "bare_soil": 0.25, "dry_grass": 0.20, "rock": 0.15, "cropland": 0.07,
             "urban": 0.03},
    "temperate": {"cropland": 0.35, "broadleaf_forest": 0.25, "dry_grass": 0.10, "conifer_forest": 0.10,
                  "urban": 0.08, "bare_soil": 0.07, "wetland": 0.05},
    "continental": {"cropland": 0.30, "conifer_forest": 0.25, "broadleaf_forest": 0.20, "wetland": 0.10,
                    "bare_soil": 0.08, "urban": 0.07},
    "boreal": {"conifer_forest": 0.50, "wetland": 0.20, "broadleaf_forest": 0.10, "tundra": 0.10,
               "rock": 0.10},
    "polar": {"tundra": 0.45, "rock": 0.20, "wetland": 0.20, "snow": 0.10, "conifer_forest": 0.05},
    "highland": {"dry_grass": 0.30, "rock": 0.25, "bare_soil": 0.20, "tundra": 0.15, "snow": 0.10},
}

#: Probability of each condition by climate (clear, turbid, frozen, cloudy, low-sun). The study's
#: images are from February-March, when cold-climate lakes are frozen and high latitudes are dim.
CONDITION_PROBS: dict[str, tuple[float, ...]] = {
    "tropical": (0.62, 0.20, 0.00, 0.15, 0.03),
    "arid": (0.72, 0.16, 0.00, 0.07, 0.05),
    "temperate": (0.64, 0.14, 0.02, 0.15, 0.05),
    "continental": (0.55, 0.08, 0.17, 0.13, 0.07),
    "boreal": (0.45, 0.03, 0.30, 0.10, 0.12),
    "polar": (0.35, 0.02, 0.40, 0.08, 0.15),
    "highland": (0.62, 0.08, 0.12, 0.12, 0.06),
}

_BAND_COUNT = len(MODIS_BAND_NAMES)
_SUPERSAMPLE = 4  # the water mask is drawn on a grid this much finer, then averaged to fractions


def _spectrum(name: str) -> np.ndarray:
    return np.asarray(SPECTRA[name], dtype=np.float64)


# -------------------------------------------------------------------------------------------
# Random fields
# -------------------------------------------------------------------------------------------
def smooth_field(rng: np.random.Generator, shape: tuple[int, int], beta: float = 3.0) -> np.ndarray:
    """A smooth random field with a power-law spectrum, zero mean and unit standard deviation.

    White noise is filtered in Fourier space by ``k ** (-beta / 2)``: ``beta`` about 2 is rough,
    about 4 very smooth. Natural shorelines and land-cover patches look like ``beta`` 2.5-3.5.
    The field is drawn on a 1.5x larger grid and cropped, so opposite edges do not match.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : (rows, cols)
    beta : float
        Spectral exponent.

    Returns
    -------
    ndarray of float64, shape (rows, cols)

    Examples
    --------
    >>> f = smooth_field(np.random.default_rng(0), (20, 30))
    >>> f.shape, round(float(f.std()), 6)
    ((20, 30), 1.0)
    """
    rows, cols = grid_shape(shape, InvalidParameterError)
    h, w = int(rows * 1.5) + 4, int(cols * 1.5) + 4
    spec = np.fft.rfft2(rng.standard_normal((h, w)))
    ky = np.fft.fftfreq(h)[:, None]
    kx = np.fft.rfftfreq(w)[None, :]
    k = np.hypot(ky, kx)
    k[0, 0] = np.inf
    field = np.fft.irfft2(spec * k ** (-beta / 2.0), s=(h, w))[:rows, :cols]
    field -= field.mean()
    sd = field.std()
    return field / sd if sd > 0 else field


def _upsample(field: np.ndarray, factor: int) -> np.ndarray:
    """Bilinear upsampling of a (rows, cols) field onto a grid ``factor`` times finer."""
    return ndimage.zoom(field, factor, order=1, mode="nearest", grid_mode=True)


def _fine_coords(rows: int, cols: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the fine-grid cells, in coarse pixel units: (y (rows*f, 1), x (1, cols*f))."""
    y = (np.arange(rows * factor) + 0.5) / factor
    x = (np.arange(cols * factor) + 0.5) / factor
    return y[:, None], x[None, :]


def _channel(rng: np.random.Generator, rows: int, cols: int, factor: int, width_px: float,
             through: tuple[float, float] | None = None) -> np.ndarray:
    """A meandering river channel on the fine grid (bool, (rows*f, cols*f)), ``width_px`` coarse pixels wide."""
    y, x = _fine_coords(rows, cols, factor)
    theta = rng.uniform(0, np.pi)
    cy, cx = through if through is not None else (rng.uniform(0.25, 0.75) * rows, rng.uniform(0.25, 0.75) * cols)
    u = (x - cx) * np.cos(theta) + (y - cy) * np.sin(theta)
    v = -(x - cx) * np.sin(theta) + (y - cy) * np.cos(theta)
    span = math.hypot(rows, cols)
    # Meanders: a sinusoid plus a smooth random walk along the channel.
    knots = np.linspace(-span, span, 64)
    walk = np.cumsum(rng.standard_normal(64))
    walk = ndimage.gaussian_filter1d(walk - walk.mean(), 3.0) * rng.uniform(0.3, 1.2)
    wavelength = rng.uniform(0.3, 1.0) * span
    centre = (rng.uniform(0.5, 2.5) * max(width_px, 1.0) * np.sin(2 * np.pi * u / wavelength + rng.uniform(0, 6.3))
              + np.interp(u, knots, walk))
    local_width = width_px * (1.0 + 0.25 * np.sin(2 * np.pi * u / (0.7 * wavelength) + rng.uniform(0, 6.3)))
    return np.abs(v - centre) < local_width / 2.0


def _water_fraction(rng: np.random.Generator, rows: int, cols: int, layout: str,
                    water_target: float) -> np.ndarray:
    """Per-pixel water fraction (rows, cols) in [0, 1] for a scene layout."""
    f = _SUPERSAMPLE
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    size = math.hypot(rows, cols)
    water = np.zeros((rows * f, cols * f), dtype=bool)
    if layout in ("lake", "shore", "ponds", "delta"):
        noise = smooth_field(rng, (rows, cols), beta=rng.uniform(2.6, 3.4))
        if layout == "lake":
            cy, cx = rng.uniform(0.3, 0.7) * rows, rng.uniform(0.3, 0.7) * cols
            angle = rng.uniform(0, np.pi)
            ax = rng.uniform(0.6, 1.6)
            du = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
            dv = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
            depth = np.hypot(du * ax, dv / ax) / size
            z = depth / max(depth.std(), 1e-9) + rng.uniform(0.5, 1.1) * noise
        elif layout == "shore":
            angle = rng.uniform(0, 2 * np.pi)
            ramp = (xx * np.cos(angle) + yy * np.sin(angle)) / size
            z = ramp / max(ramp.std(), 1e-9) + rng.uniform(0.4, 0.9) * noise
        else:  # ponds, delta: many separate water bodies
            z = smooth_field(rng, (rows, cols), beta=rng.uniform(2.0, 2.6))
        threshold = np.quantile(z, water_target)
        water |= _upsample(z, f) < threshold
    if layout in ("river", "delta"):
        n_channels = 1 if layout == "river" else int(rng.integers(2, 5))
        for _ in range(n_channels):
            width = rng.uniform(0.5, 3.5) if layout == "river" else rng.uniform(0.4, 1.8)
            water |= _channel(rng, rows, cols, f, width)
    elif layout == "lake" and rng.random() < 0.35:
        # An inflowing stream, often narrower than a pixel: mixed pixels labelled land.
        water |= _channel(rng, rows, cols, f, rng.uniform(0.3, 1.2))
    return water.reshape(rows, f, cols, f).mean(axis=(1, 3))


# -------------------------------------------------------------------------------------------
# One scene
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SceneRecipe:
    """What to draw for one synthetic scene (the catalog-level choices)."""

    rows: int
    cols: int
    climate: str = "temperate"
    condition: str = "clear"
    layout: str = "lake"
    water_target: float = 0.08
    unclassified: bool = False


def _softmax(fields: np.ndarray, sharpness: float) -> np.ndarray:
    z = fields * sharpness
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _land_reflectance(rng: np.random.Generator, rows: int, cols: int, climate: str,
                      water_frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Land reflectance (rows, cols, 7) and forest abundance (rows, cols) from the climate's covers."""
    covers = LAND_COVER[climate]
    names = list(covers)
    probs = np.array([covers[n] for n in names])
    k = int(min(len(names), rng.integers(2, 5)))
    chosen = list(rng.choice(names, size=k, replace=False, p=probs / probs.sum()))
    fields = np.stack([smooth_field(rng, (rows, cols), beta=rng.uniform(2.2, 3.2)) for _ in chosen], axis=-1)
    if "wetland" in chosen:
        # Wetlands and reeds line shores: raise the wetland abundance near water.
        dist = ndimage.distance_transform_edt(water_frac < 0.5)
        fields[..., chosen.index("wetland")] += 2.0 * np.exp(-dist / 2.0)
    if "urban" in chosen:
        # Towns are small and compact.
        fields[..., chosen.index("urban")] -= 1.5
    abundance = _softmax(fields, rng.uniform(1.5, 4.0))
    spectra = np.stack([_spectrum(n) * rng.normal(1.0, 0.06, _BAND_COUNT).clip(0.8, 1.2) for n in chosen])
    land = abundance @ spectra
    forest = sum((abundance[..., i] for i, n in enumerate(chosen) if n.endswith("forest")),
                 np.zeros((rows, cols)))
    return land, forest


def _water_reflectance(rng: np.random.Generator, rows: int, cols: int, recipe: SceneRecipe) -> np.ndarray:
    """Water reflectance (rows, cols, 7): clear water mixed with turbid and algal water."""
    field = (smooth_field(rng, (rows, cols), beta=3.0) + 2.0) / 4.0
    if recipe.condition == "turbid":
        # A sediment plume: turbid everywhere, most on one side of the scene.
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:rows, 0:cols]
        side = (xx * np.cos(angle) + yy * np.sin(angle)) / max(rows, cols)
        turbid = np.clip(0.45 + 0.5 * (side - side.min()) + 0.3 * (field - 0.5), 0.2, 1.0)
    else:
        turbid = np.clip(rng.uniform(0.0, 0.25) * field, 0.0, 1.0)
    algal = np.zeros((rows, cols))
    if recipe.climate in ("tropical", "temperate", "continental") and rng.random() < 0.15:
        algal = np.clip(rng.uniform(0.2, 0.7) * (1 - field), 0.0, 1.0 - turbid)
    clear = 1.0 - turbid - algal
    return (clear[..., None] * _spectrum("clear_water") + turbid[..., None] * _spectrum("turbid_water")
            + algal[..., None] * _spectrum("algal_water"))


def make_scene(recipe: SceneRecipe, *, seed: int | Sequence[int] | None = 0,
               rng: np.random.Generator | None = None, transform: Affine | None = None,
               crs: CRS | str | None = MODIS_SINUSOIDAL, name: str = "synthetic lake",
               properties: dict | None = None) -> Scene:
    """Draw one synthetic MODIS lake scene in memory.

    Parameters
    ----------
    recipe : SceneRecipe
        Size (``rows``, ``cols``; each at least 4), climate (one of
        :data:`geonb.datasets.places.CLIMATES`), condition (:data:`CONDITIONS`), layout
        (:data:`LAYOUTS`), water share of the lake body, and whether to mark ``UNCLASSIFIED``.
    seed : int or sequence of int, optional
        Seed of the scene's generator (ignored when ``rng`` is given).
    rng : numpy.random.Generator, optional
    transform : affine.Affine, optional
        Grid of the scene; default a MODIS pixel grid at the sinusoidal origin.
    crs : CRS or str
    name : str
    properties : dict, optional
        Copied into ``Scene.properties``; the function adds ``water_fraction``,
        ``unclassified_fraction``, ``cloud_fraction`` and ``nodata_fraction``, and ``source="synthetic"``
        unless given (so ``Scene.title`` reads "synthetic scene near <name>").

    Returns
    -------
    Scene
        ``image`` (rows, cols, 7) float32 reflectance, ``labels`` (rows, cols) uint8 with WATER,
        LAND (and UNCLASSIFIED if asked), 0 where ``nodata_mask``.

    Examples
    --------
    >>> s = make_scene(SceneRecipe(24, 32, climate="boreal", condition="cloudy"), seed=1)
    >>> s.image.shape, s.labels.dtype.name
    ((24, 32, 7), 'uint8')
    """
    _check_recipe(recipe)
    if rng is None:
        rng = np.random.default_rng(_check_seed(seed))
    elif not isinstance(rng, np.random.Generator):
        raise InvalidParameterError(
            f"`rng` must be a numpy.random.Generator or None, got {type(rng).__name__}; e.g. "
            "np.random.default_rng(0), or pass `seed=` instead"
        )
    rows, cols = recipe.rows, recipe.cols
    frac = _water_fraction(rng, rows, cols, recipe.layout, recipe.water_target)
    land, forest = _land_reflectance(rng, rows, cols, recipe.climate, frac)
    water = _water_reflectance(rng, rows, cols, recipe)
    frozen = recipe.condition == "frozen"
    if frozen:
        # Lake ice with patchy snow on it; snow on land, partly hidden under forest canopy.
        snow_on_ice = np.clip(0.5 + 0.35 * smooth_field(rng, (rows, cols), beta=3.0), 0.0, 1.0)
        water = (1 - snow_on_ice)[..., None] * _spectrum("ice") + snow_on_ice[..., None] * _spectrum("snow")
        snow_level = rng.uniform(0.3, 0.9)
        snow_land = np.clip(snow_level + 0.3 * smooth_field(rng, (rows, cols), beta=2.8), 0.0, 1.0)
        snow_land *= 1.0 - 0.7 * forest
        land = (1 - snow_land)[..., None] * land + snow_land[..., None] * _spectrum("snow")
    # Linear mixing at shores: each pixel is its water fraction of water and the rest land.
    image = frac[..., None] * water + (1.0 - frac[..., None]) * land
    image = image * rng.uniform(0.92, 1.08) + rng.uniform(0.0, 0.02) * np.asarray(HAZE_SHAPE)
    # The sensor's point-spread function spreads each pixel's light into its neighbours.
    image = ndimage.gaussian_filter(image, sigma=(0.45, 0.45, 0.0), mode="nearest")

    cloud = np.zeros((rows, cols))
    shadow = np.zeros((rows, cols))
    if recipe.condition == "cloudy":
        cover = rng.uniform(0.1, 0.45)
        cfield = smooth_field(rng, (rows, cols), beta=rng.uniform(2.8, 3.6))
        q = np.quantile(cfield, 1.0 - cover)
        cloud = np.clip((cfield - q) / rng.uniform(0.4, 1.2), 0.0, 1.0) ** 1.3
        sun = rng.uniform(0, 2 * np.pi)
        dist = rng.uniform(2.0, 6.0)
        shadow = ndimage.shift(cloud, (dist * np.sin(sun), dist * np.cos(sun)), order=1, mode="constant")
        shadow = np.clip(shadow * 1.2, 0.0, 1.0)
        image = image * (1.0 - shadow[..., None] * (1.0 - np.asarray(SHADOW_TRANSMISSION)))
        image = (1.0 - cloud[..., None]) * image + cloud[..., None] * _spectrum("cloud")
    sigma = np.asarray(NOISE_SIGMA)
    if recipe.condition == "low-sun":
        # Dusk or night: little light reaches the sensor; noise stays, so the signal drowns.
        image = image * rng.uniform(0.04, 0.3) + rng.uniform(0.0, 0.01) * np.asarray(HAZE_SHAPE)
        sigma = sigma * 1.5
    image = image * rng.normal(1.0, 0.02, (rows, cols, 1)) + rng.normal(0.0, 1.0, image.shape) * sigma
    if rng.random() < 0.3:
        # Detector striping: MODIS scans 20 rows at 500 m at once; detectors differ slightly in gain.
        offsets = rng.normal(0.0, 0.004, (20, 2))
        image[:, :, 4:6] += offsets[np.arange(rows) % 20][:, None, :]
    image = np.clip(image, -0.01, 1.6)

    nodata = np.zeros((rows, cols), dtype=bool)
    if rng.random() < 0.10:
        # Missing scan lines.
        for _ in range(int(rng.integers(1, 3))):
            r0 = int(rng.integers(0, rows))
            nodata[r0:r0 + int(rng.integers(1, 4)), :] = True
    if rng.random() < 0.04:
        # The edge of the swath cuts a corner off the scene.
        yy, xx = np.mgrid[0:rows, 0:cols]
        a = rng.uniform(0, 2 * np.pi)
        d = xx * np.cos(a) + yy * np.sin(a)
        nodata |= d > np.quantile(d, rng.uniform(0.75, 0.95))

    labels = np.where(frac >= 0.5, WATER, LAND).astype(np.uint8)
    if recipe.unclassified:
        # Where a second, purely spectral classifier would disagree with the water mask.
        disagree = (frac > 0.2) & (frac < 0.8)
        disagree |= cloud > 0.15
        disagree |= (shadow > 0.5) & (frac < 0.5)
        if frozen:
            disagree |= frac >= 0.5
        labels[disagree] = UNCLASSIFIED
    labels[nodata] = NODATA
    image[nodata] = 0.0

    valid = labels != NODATA
    n_valid = max(int(valid.sum()), 1)
    props = dict(properties or {})
    props.setdefault("source", "synthetic")  # a stand-in scene: titled "synthetic scene near <name>" (Scene.title)
    props.update(
        water_fraction=round(float((labels == WATER).sum()) / n_valid, 4),
        unclassified_fraction=round(float((labels == UNCLASSIFIED).sum()) / n_valid, 4),
        cloud_fraction=round(float((cloud > 0.15).mean()), 4),
        nodata_fraction=round(float(nodata.mean()), 4),
    )
    if transform is None:
        transform = Affine(MODIS_PIXEL_M, 0.0, 0.0, 0.0, -MODIS_PIXEL_M, 0.0)
    return Scene(image=image.astype(np.float32), labels=labels, band_names=MODIS_BAND_NAMES, crs=crs,
                 transform=transform, nodata_mask=nodata, name=name, properties=props)


def _is_whole(value) -> bool:
    """An int (NumPy ints too), not a bool: ``True`` rows or 16.5 rows are mistakes."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_seed(seed):
    """A seed ``np.random.default_rng`` takes: None, a SeedSequence, an int >= 0 or a sequence of them."""
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.ndarray) and seed.dtype.kind in "ui" and seed.ndim == 1:
        items = list(seed)
    else:
        items = seed if isinstance(seed, (list, tuple)) and seed else [seed]
    if not all(_is_whole(v) and v >= 0 for v in items):
        raise InvalidParameterError(
            f"`seed` must be a whole number >= 0, a non-empty sequence of them, or None, got {seed!r}; e.g. seed=0"
        )
    return seed


def _check_recipe(recipe: SceneRecipe) -> None:
    if not isinstance(recipe, SceneRecipe):
        raise InvalidParameterError(
            f"`recipe` must be a SceneRecipe, got {type(recipe).__name__}; e.g. SceneRecipe(rows=32, cols=32)"
        )
    if not (_is_whole(recipe.rows) and _is_whole(recipe.cols)):
        raise InvalidParameterError(
            f"a scene's `rows` and `cols` must be whole numbers, got rows={recipe.rows!r}, cols={recipe.cols!r}"
        )
    if recipe.rows < 4 or recipe.cols < 4:
        raise InvalidParameterError(
            f"a scene must be at least 4 x 4 pixels, got rows={recipe.rows}, cols={recipe.cols}"
        )
    if recipe.climate not in CLIMATES:
        raise InvalidParameterError(f"`climate` must be one of {list(CLIMATES)}, got {recipe.climate!r}")
    if recipe.condition not in CONDITIONS:
        raise InvalidParameterError(f"`condition` must be one of {list(CONDITIONS)}, got {recipe.condition!r}")
    if recipe.layout not in LAYOUTS:
        raise InvalidParameterError(f"`layout` must be one of {list(LAYOUTS)}, got {recipe.layout!r}")
    if not 0.0 < recipe.water_target < 1.0:
        raise InvalidParameterError(f"`water_target` must be in (0, 1), got {recipe.water_target}")


# -------------------------------------------------------------------------------------------
# Catalog-level plan: where, how big, which condition, which split
# -------------------------------------------------------------------------------------------
def _check_lonlat(lon, lat) -> None:
    for name, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not -limit <= value <= limit:
            raise InvalidParameterError(
                f"`{name}` must be a number of degrees in [-{limit:g}, {limit:g}], got {value!r}; "
                "give (lon, lat) in that order (WGS84 degrees)"
            )


def lonlat_to_sinusoidal(lon: float, lat: float) -> tuple[float, float]:
    """MODIS sinusoidal ``(x, y)`` in metres of a WGS84 ``(lon, lat)`` in degrees.

    PROJ does the projection (:func:`rasterio.warp.transform` to :data:`MODIS_SINUSOIDAL`); the
    latitude is taken as is on the sphere, as the MODIS grid does (no datum shift).

    Examples
    --------
    >>> x, y = lonlat_to_sinusoidal(0.0, 0.0)
    >>> (x, y)
    (0.0, 0.0)
    """
    from rasterio.warp import transform as warp_transform

    _check_lonlat(lon, lat)
    (x,), (y,) = warp_transform("EPSG:4326", MODIS_SINUSOIDAL, [float(lon)], [float(lat)])
    return float(x), float(y)


def _check_size(rows, cols) -> None:
    for name, value in (("rows", rows), ("cols", cols)):
        if not _is_whole(value) or value < 1:
            raise InvalidParameterError(f"`{name}` must be a whole number >= 1, got {value!r}")


def modis_transform(lon: float, lat: float, rows: int, cols: int) -> Affine:
    """The affine transform of a ``rows`` x ``cols`` scene centred near ``(lon, lat)``, snapped to the MODIS grid."""
    _check_size(rows, cols)
    x, y = lonlat_to_sinusoidal(lon, lat)
    x0, y0 = MODIS_GRID_ORIGIN
    left = x0 + round((x - cols * MODIS_PIXEL_M / 2 - x0) / MODIS_PIXEL_M) * MODIS_PIXEL_M
    top = y0 - round((y0 - (y + rows * MODIS_PIXEL_M / 2)) / MODIS_PIXEL_M) * MODIS_PIXEL_M
    return Affine(MODIS_PIXEL_M, 0.0, left, 0.0, -MODIS_PIXEL_M, top)


def check_split_fractions(fractions, *, name: str = "fractions") -> dict[str, float]:
    """Refuse split shares that are not a dict of numbers in [0, 1] adding up to 1.

    Examples
    --------
    >>> check_split_fractions({"train": 0.8, "val": 0.1, "test": 0.1})
    {'train': 0.8, 'val': 0.1, 'test': 0.1}
    """
    if not isinstance(fractions, dict) or not fractions:
        raise InvalidParameterError(
            f"`{name}` must be a non-empty dict of split -> share, e.g. {SPLIT_FRACTIONS}, got {fractions!r}"
        )
    bad = {k: v for k, v in fractions.items()
           if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating))
           or not 0.0 <= v <= 1.0}
    if bad:
        raise InvalidParameterError(f"`{name}` shares must be numbers in [0, 1], got {bad} in {fractions}")
    total = float(sum(fractions.values()))
    if abs(total - 1.0) > 1e-6:
        raise InvalidParameterError(
            f"`{name}` {fractions} add up to {total:.6g}, not 1; give shares that sum to 1, e.g. {SPLIT_FRACTIONS}"
        )
    return fractions


def split_counts(n: int, fractions: dict[str, float] = SPLIT_FRACTIONS) -> dict[str, int]:
    """Split ``n`` items by ``fractions`` (largest remainder), each split at least 1 when ``n >= len(fractions)``.

    Examples
    --------
    >>> split_counts(956)
    {'train': 736, 'val': 115, 'test': 105}
    >>> split_counts(3)
    {'train': 1, 'val': 1, 'test': 1}
    """
    if not _is_whole(n) or n < 0:
        raise InvalidParameterError(f"`n` must be a whole number of items >= 0, got {n!r}")
    check_split_fractions(fractions)
    names = list(fractions)
    total = sum(fractions.values())
    raw = [n * fractions[k] / total for k in names]
    counts = [int(math.floor(r)) for r in raw]
    order = sorted(range(len(names)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    if n >= len(names):
        for i in range(len(names)):
            while counts[i] == 0:
                j = int(np.argmax(counts))
                counts[j] -= 1
                counts[i] += 1
    return dict(zip(names, counts, strict=True))


def assign_splits(strata: Sequence[str], rng: np.random.Generator,
                  fractions: dict[str, float] = SPLIT_FRACTIONS) -> list[str]:
    """Assign each item a split with exact counts, spread evenly across ``strata`` (e.g. conditions).

    Items are ordered by stratum (random order within), and the val and test items are taken at
    evenly spaced positions of that order, so every condition is represented in every split.
    """
    n = len(strata)
    counts = split_counts(n, fractions)
    keys = rng.random(n)
    order = sorted(range(n), key=lambda i: (strata[i], keys[i]))
    out = ["train"] * n
    remaining = list(order)
    for split in ("test", "val"):
        m = counts.get(split, 0)
        if m == 0:
            continue
        picks = [remaining[int((j + 0.5) * len(remaining) / m)] for j in range(m)]
        for i in picks:
            out[i] = split
        picked = set(picks)
        remaining = [i for i in remaining if i not in picked]
    return out


def _choose_layout(rng: np.random.Generator, place: Place) -> str:
    if place.kind == "river":
        return str(rng.choice(["river", "lake", "ponds"], p=[0.75, 0.1, 0.15]))
    if place.kind == "delta":
        return str(rng.choice(["delta", "river", "ponds"], p=[0.6, 0.2, 0.2]))
    p_shore = 0.35 if place.area_km2 > 5000 else 0.15
    return str(rng.choice(["lake", "shore", "ponds", "river"], p=[0.8 - p_shore, p_shore, 0.12, 0.08]))


def _water_target(rng: np.random.Generator, layout: str) -> float:
    u = rng.random()
    if layout == "lake":
        return 0.01 + 0.12 * u**2
    if layout == "shore":
        return 0.04 + 0.30 * u**1.5
    if layout == "delta":
        return 0.02 + 0.06 * u
    return 0.005 + 0.04 * u**2  # ponds (river scenes have no lake body)


def _scene_size(rng: np.random.Generator, large: bool) -> tuple[int, int]:
    """Scene rows, cols between 12 and 132: mostly small, as in the study (12 x 28 to 132 x 132)."""
    u = rng.random()
    lo, hi = math.log(12 * 28), math.log(132 * 132)
    area = math.exp(lo + (hi - lo) * (u**0.6 if large else u**2.5))
    aspect = math.exp(rng.uniform(-0.85, 0.85))
    rows = int(np.clip(round(math.sqrt(area * aspect)), 12, 132))
    cols = int(np.clip(round(math.sqrt(area / aspect)), 12, 132))
    return rows, cols


@dataclass(frozen=True)
class PlannedScene:
    """One catalog entry before its pixels are drawn."""

    index: int
    id: str
    place: Place
    lon: float
    lat: float
    recipe: SceneRecipe


def plan_dataset(n: int, *, seed: int = 0, dataset_index: int = 0, unclassified: bool = False,
                 places: Sequence[Place] = PLACES) -> list[PlannedScene]:
    """Choose place, position, size, layout and condition of ``n`` scenes (cheap; no pixels)."""
    if not _is_whole(n) or n < 1:
        raise InvalidParameterError(f"`n` must be a whole number of scenes >= 1, got {n!r}")
    _check_seed(seed)
    if not _is_whole(dataset_index) or dataset_index < 0:
        raise InvalidParameterError(f"`dataset_index` must be a whole number >= 0, got {dataset_index!r}")
    if not places or not all(isinstance(p, Place) for p in places):
        raise InvalidParameterError("`places` must be a non-empty sequence of geonb.datasets.places.Place")
    rng = np.random.default_rng([seed, dataset_index, 1])
    counters: dict[str, int] = {}
    planned = []
    for i in range(n):
        place = places[int(rng.integers(len(places)))]
        counters[place.slug] = counters.get(place.slug, 0) + 1
        sid = f"{place.slug}-{counters[place.slug]:03d}"
        # Scenes scatter around the place over about the size of the water body.
        reach_km = 5.0 + 0.6 * math.sqrt(place.area_km2)
        dist = reach_km * math.sqrt(rng.random())
        bearing = rng.uniform(0, 2 * np.pi)
        lat = float(np.clip(place.lat + dist * math.cos(bearing) / 111.2, -85, 85))
        lon = place.lon + dist * math.sin(bearing) / (111.2 * max(math.cos(math.radians(lat)), 0.05))
        rows, cols = _scene_size(rng, large=unclassified)
        layout = _choose_layout(rng, place)
        condition = str(rng.choice(CONDITIONS, p=CONDITION_PROBS[place.climate]))
        recipe = SceneRecipe(rows=rows, cols=cols, climate=place.climate, condition=condition, layout=layout,
                             water_target=_water_target(rng, layout), unclassified=unclassified)
        planned.append(PlannedScene(i, sid, place, lon, lat, recipe))
    return planned


def footprint_wgs84(transform: Affine, rows: int, cols: int, crs=MODIS_SINUSOIDAL, n: int = 8) -> dict:
    """The scene footprint as a GeoJSON Polygon in WGS84, with ``n`` points per edge (sinusoidal edges curve)."""
    from rasterio.warp import transform as warp_transform

    _check_size(rows, cols)
    if not _is_whole(n) or n < 1:
        raise InvalidParameterError(f"`n` must be a whole number of points per edge >= 1, got {n!r}")
    if not isinstance(transform, Affine):
        raise InvalidParameterError(f"`transform` must be an affine.Affine, got {type(transform).__name__}")
    crs = as_crs(crs, name="crs", allow_none=False)

    t = np.linspace(0.0, 1.0, n, endpoint=False)
    cs = np.concatenate([t * cols, np.full(n, cols), (1 - t) * cols, np.zeros(n)])
    rs = np.concatenate([np.zeros(n), t * rows, np.full(n, rows), (1 - t) * rows])
    xs, ys = transform * (cs, rs)
    lons, lats = warp_transform(crs, "EPSG:4326", list(xs), list(ys))
    ring = [[round(lo, 6), round(la, 6)] for lo, la in zip(lons, lats, strict=True)]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


# -------------------------------------------------------------------------------------------
# Writing datasets
# -------------------------------------------------------------------------------------------
def _default_root() -> Path:
    from . import data_root

    return data_root() / "lakes"


def _write_planned(path: Path, name: str, seed: int, dataset_index: int,
                   items: list[tuple[PlannedScene, str]]) -> list[dict]:
    """Draw and write the scenes ``items`` into ``path``; return their catalog features (runs in a worker)."""
    from rasterio.warp import transform as warp_transform

    crs = CRS.from_proj4(MODIS_SINUSOIDAL)
    features = []
    for p, split in items:
        r = p.recipe
        transform = modis_transform(p.lon, p.lat, r.rows, r.cols)
        scene = make_scene(r, rng=np.random.default_rng([seed, dataset_index, 3, p.index]), transform=transform,
                           crs=crs, name=p.place.name, properties={"id": p.id, "split": split})
        write_scene(scene, path / "images" / f"{p.id}.tif", path / "labels" / f"{p.id}.tif")
        cx, cy = transform * (r.cols / 2, r.rows / 2)
        (lon,), (lat,) = warp_transform(crs, "EPSG:4326", [cx], [cy])
        sp = scene.properties
        properties = {
            "id": p.id, "name": p.place.name, "split": split, "lat": round(lat, 5), "lon": round(lon, 5),
            "rows": r.rows, "cols": r.cols, "water_fraction": sp["water_fraction"], "condition": r.condition,
            "climate": r.climate, "continent": p.place.continent, "dataset": name, "source": "synthetic",
            "synthetic": True,
            "seed": seed, "place": p.place.slug, "layout": r.layout,
            "unclassified_fraction": sp["unclassified_fraction"], "cloud_fraction": sp["cloud_fraction"],
            "nodata_fraction": sp["nodata_fraction"],
        }
        features.append({"type": "Feature", "id": p.id, "properties": properties,
                         "geometry": footprint_wgs84(transform, r.rows, r.cols, crs)})
    return features


def _pool(workers: int):
    """A process pool; fork where available (fast start, nothing to re-import)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def write_dataset(path: str | os.PathLike, name: str, n: int, *, seed: int = 0, dataset_index: int = 0,
                  unclassified: bool = False, progress: bool = True, workers: int | None = None) -> Path:
    """Write one synthetic lakes dataset into the (new or empty) folder ``path``.

    Use :func:`generate_lakes` for the two standard datasets; this writes one, in place, without
    the overwrite protection. ``workers`` processes draw and write scenes (default: up to 2 CPU
    cores); the files do not depend on it.
    """
    from tqdm.auto import tqdm

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 3:
        raise InvalidParameterError(f"`n` must be an integer >= 3 (one lake per split at least), got {n!r}")
    workers = _check_workers(workers)
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InvalidParameterError(f"`path` {str(path)!r} is a file; give a new or empty folder")
    (path / "images").mkdir(parents=True, exist_ok=True)
    (path / "labels").mkdir(parents=True, exist_ok=True)
    plan = plan_dataset(n, seed=seed, dataset_index=dataset_index, unclassified=unclassified)
    splits = assign_splits([p.recipe.condition for p in plan], np.random.default_rng([seed, dataset_index, 2]))
    items = list(zip(plan, splits, strict=True))
    workers = _check_workers(workers)
    chunk = max(4, min(24, -(-n // (4 * workers))))
    chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
    workers = min(workers, len(chunks))
    features: list[dict] = []
    with tqdm(total=n, desc=name, disable=not progress, unit="scene", leave=False) as bar:
        if workers == 1:
            for c in chunks:
                features.extend(_write_planned(path, name, seed, dataset_index, c))
                bar.update(len(c))
        else:
            with _pool(workers) as pool:
                futures = [pool.submit(_write_planned, path, name, seed, dataset_index, c) for c in chunks]
                for c, fut in zip(chunks, futures, strict=True):
                    features.extend(fut.result())
                    bar.update(len(c))
    catalog = {
        "type": "FeatureCollection",
        "name": name,
        "geonb": {"dataset": name, "source": "synthetic", "seed": seed, "generator_version": GENERATOR_VERSION,
                  "crs": MODIS_SINUSOIDAL, "pixel_size_m": MODIS_PIXEL_M, "n_lakes": n,
                  "classes": {"0": "no data", "1": "water", "2": "land", "3": "unclassified"}},
        "features": features,
    }
    with atomic_path(path / "catalog.geojson", overwrite=True) as tmp:
        tmp.write_text(json.dumps(catalog, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _check_workers(workers: int | None) -> int:
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise InvalidParameterError(f"`workers` must be a positive integer or None, got {workers!r}")
    return int(workers)


def generate_lakes(root: str | os.PathLike | None = None, seed: int = 0, overwrite: bool = False,
                   n_lakes: int | None = None, n_lakes_unclassified: int | None = None, *,
                   progress: bool = True, workers: int | None = None) -> dict[str, Path]:
    """Write both synthetic lakes datasets under ``root`` (default ``data_root() / "lakes"``).

    Writes ``lakes-synthetic`` (water/land, ``n_lakes`` scenes, default 956) and
    ``lakes-synthetic-unclassified`` (with UNCLASSIFIED, ``n_lakes_unclassified``, default 135).
    Each dataset is written into a temporary folder beside its target and moved into place when
    complete, so an interrupted run leaves no half dataset. Takes about 10-20 s on 2 cores for the
    defaults; the same ``seed`` gives byte-identical files.

    Parameters
    ----------
    root : path-like, optional
    seed : int
    overwrite : bool
        Replace existing datasets; otherwise refuse with :class:`OutputExistsError`.
    n_lakes, n_lakes_unclassified : int, optional
        Scene counts (small numbers make quick test datasets); at least 3 each.
    progress : bool
        Show a progress bar.
    workers : int, optional
        Worker processes (default: up to 2 CPU cores). The files do not depend on it.

    Returns
    -------
    dict
        Dataset name -> folder.
    """
    root = Path(root) if root is not None else _default_root()
    counts = dict(LAKES_DATASETS)
    for key, value, arg in (("lakes-synthetic", n_lakes, "n_lakes"),
                            ("lakes-synthetic-unclassified", n_lakes_unclassified, "n_lakes_unclassified")):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 3:
                raise InvalidParameterError(
                    f"`{arg}` must be an integer >= 3 (one lake per split at least), got {value!r}"
                )
            counts[key] = int(value)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise InvalidParameterError(f"`seed` must be a non-negative integer, got {seed!r}")
    workers = _check_workers(workers)
    if root.exists() and not root.is_dir():
        raise InvalidParameterError(f"`root` {str(root)!r} is a file; give the folder that holds (or will hold) "
                                    "the lakes datasets")
    if not overwrite:
        for name in counts:
            if (root / name).exists():
                raise OutputExistsError(
                    f"dataset folder {str(root / name)!r} already exists; pass overwrite=True "
                    "(or `python -m geonb data generate --overwrite`) to regenerate it"
                )
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for index, (name, n) in enumerate(counts.items()):
        target = root / name
        tmp = root / f".{name}.tmp-{os.getpid()}"
        old = root / f".{name}.old-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        try:
            write_dataset(tmp, name, n, seed=int(seed), dataset_index=index,
                          unclassified=name.endswith("unclassified"), progress=progress, workers=workers)
            if target.exists():
                os.replace(target, old)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
            if old.exists():
                shutil.rmtree(old)
        out[name] = target
    return out


__all__ = [
    "CONDITIONS", "LAKES_DATASETS", "LAND_COVER", "LAYOUTS", "MODIS_PIXEL_M", "MODIS_SINUSOIDAL", "SPECTRA",
    "SceneRecipe", "assign_splits", "check_split_fractions", "footprint_wgs84", "generate_lakes",
    "lonlat_to_sinusoidal", "make_scene", "modis_transform", "plan_dataset", "smooth_field", "split_counts",
    "write_dataset",
]


# -------------------------------------------------------------------------------------------
# An own-raster example: one larger scene + hand-drawn-like training polygons (notebook 09)
# -------------------------------------------------------------------------------------------
#: File names of :func:`write_polygon_example`.
EXAMPLE_IMAGE = "example_scene.tif"
EXAMPLE_POLYGONS = "training_polygons.geojson"


def example_polygons(scene: Scene, *, n_per_class: int = 12, seed: int = 0, names: dict | None = None):
    """Small rectangles inside each class of ``scene.labels``, as a researcher draws training polygons.

    Each rectangle (3-9 px a side) lies wholly inside one class, at least 2 px from other classes and
    from nodata, and rectangles do not touch each other. Returns Footprints in the scene's CRS with a
    ``class`` property (``names`` maps codes to names; default water/land).
    """
    from shapely.geometry import box

    from geonb.labels import Footprints

    if scene.labels is None:
        raise InvalidParameterError("`scene` has no labels to draw polygons in")
    names = names or {WATER: "water", LAND: "land"}
    rng = np.random.default_rng(seed)
    taken = np.zeros(scene.shape, bool)
    geoms, props = [], []
    t = scene.transform
    for code, name in names.items():
        inside = ndimage.binary_erosion((scene.labels == code) & ~scene.nodata_mask, iterations=2)
        rr, cc = np.nonzero(inside)
        placed, tries = 0, 0
        while placed < n_per_class and tries < 2000 and len(rr):
            tries += 1
            k = rng.integers(len(rr))
            h, w = rng.integers(3, 10, 2)
            r0, c0 = rr[k] - h // 2, cc[k] - w // 2
            if r0 < 0 or c0 < 0 or r0 + h > scene.shape[0] or c0 + w > scene.shape[1]:
                continue
            win = (slice(r0, r0 + h), slice(c0, c0 + w))
            grown = (slice(max(0, r0 - 1), r0 + h + 1), slice(max(0, c0 - 1), c0 + w + 1))
            if not inside[win].all() or taken[grown].any():
                continue
            taken[win] = True
            x0, y0 = t * (c0, r0)
            x1, y1 = t * (c0 + w, r0 + h)
            geoms.append(box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
            props.append({"class": name})
            placed += 1
    return Footprints(geoms, props, crs=scene.crs)


def write_polygon_example(folder: str | os.PathLike, *, seed: int = 0, size: int = 160,
                          overwrite: bool = False) -> tuple[Path, Path]:
    """Write a synthetic scene and training polygons to ``folder``: the offline default of notebook 09.

    The scene is a synthetic MODIS lake (7 bands, int16 x 0.0001, sinusoidal CRS) near Lake Mälaren;
    the polygons (GeoJSON, lon/lat, property ``class`` = ``water``/``land``) are small rectangles inside
    each class, like polygons drawn by hand in QGIS. Both files are written as one set.

    Returns
    -------
    (image path, polygons path)
    """
    from geonb.io import atomic_paths
    from geonb.labels import polygons_to_geojson
    from geonb.scene import write_scene as _write_scene

    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 32 <= size <= 2048:
        raise InvalidParameterError(f"`size` must be an int in 32..2048 pixels, got {size!r}")
    folder = Path(folder)
    image_path, poly_path = folder / EXAMPLE_IMAGE, folder / EXAMPLE_POLYGONS
    recipe = SceneRecipe(int(size), int(size), climate="temperate", condition="clear", layout="lake",
                         water_target=0.3)
    scene = make_scene(recipe, seed=seed, transform=modis_transform(17.2, 59.4, int(size), int(size)),
                       name="synthetic lake (example)")
    fp = example_polygons(scene, seed=seed)
    geojson = json.dumps(polygons_to_geojson(fp))
    with atomic_paths([image_path, poly_path], overwrite, names=["image", "polygons"]) as (tmp_img, tmp_poly):
        tmp_img.unlink()
        _write_scene(Scene(scene.image, band_names=scene.band_names, crs=scene.crs, transform=scene.transform,
                           nodata_mask=scene.nodata_mask, name=scene.name), tmp_img)
        import rasterio

        with rasterio.open(tmp_img, "r+") as ds:  # say what it is, so sensor detection has a fact, not a guess
            ds.update_tags(GEONB_SENSOR="modis", GEONB_SYNTHETIC="synthetic MODIS-like scene made by geonb")
        tmp_poly.write_text(geojson)
    return image_path, poly_path
