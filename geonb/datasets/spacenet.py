"""SpaceNet-style building tiles: a synthetic town generator and a reader for SpaceNet's layout.

SpaceNet (the study's section 2.1) ships one folder per area of interest (AOI)::

    AOI_2_Vegas_Train/
        RGB-PanSharpen/RGB-PanSharpen_AOI_2_Vegas_img1.tif     3 bands, 0.3 m, uint16
        MUL-PanSharpen/MUL-PanSharpen_AOI_2_Vegas_img1.tif     8 bands (WorldView-3), 0.3 m, uint16
        MUL/, PAN/                                             not pan-sharpened (read too, if asked)
        geojson/buildings/buildings_AOI_2_Vegas_img1.geojson   footprints in lon/lat (CRS84)
        summaryData/AOI_2_Vegas_Train_Building_Solutions.csv   the same footprints as WKT

:class:`SpaceNetDataset` reads that layout (a user who downloaded SpaceNet points it at the AOI
folder). :func:`generate_buildings` writes a deterministic SpaceNet-like sample in the same layout
under ``data/buildings/<name>/``: a small town (streets, houses of varied size, orientation and
roof colour, L-shaped houses, courtyard blocks, pools, trees, shadows) cut into 512 x 512 tiles
of 0.3 m pixels in lon/lat (EPSG:4326, as SpaceNet 2), with a 4-band red/green/blue/near-infrared
product ``PS-RGBNIR`` (uint16, 11-bit values like WorldView-3) and footprints clipped at tile edges
(``partialBuilding``/``partialDec`` properties as SpaceNet has them).

This module and :mod:`geonb.scene` are the only places where building files are read or written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geonb.errors import (
    BandMismatchError,
    DatasetNotFoundError,
    GeoJSONError,
    InvalidParameterError,
    OutputExistsError,
)
from geonb.footprints import polygonal_part
from geonb.io import atomic_path
from geonb.labels import (
    Footprints,
    footprints_to_pixels,
    parse_footprints,
    polygons_to_geojson,
    rasterize_footprints,
)
from geonb.scene import Scene, read_image, write_raster

#: Name of the generated sample dataset (folder under ``data/buildings/``).
SAMPLE_NAME = "buildings-synthetic"
#: The sample's area of interest, named as SpaceNet names its AOIs.
SAMPLE_AOI = "AOI_0_Synthtown"
#: Bands geonb's buildings models use, in this order.
RGBN: tuple[str, ...] = ("red", "green", "blue", "nir")
#: Band names of SpaceNet products, in file order (WorldView-3 for the 8-band ones).
PRODUCT_BANDS: dict[str, tuple[str, ...]] = {
    "PS-RGBNIR": ("red", "green", "blue", "nir"),
    "MUL-PanSharpen": ("coastal", "blue", "green", "yellow", "red", "red_edge", "nir", "nir2"),
    "MUL": ("coastal", "blue", "green", "yellow", "red", "red_edge", "nir", "nir2"),
    "RGB-PanSharpen": ("red", "green", "blue"),
    "PS-RGB": ("red", "green", "blue"),
    "PAN": ("pan",),
}
#: Products tried, in order, when none is asked for: the first that holds the wanted bands.
PRODUCT_ORDER: tuple[str, ...] = ("PS-RGBNIR", "MUL-PanSharpen", "RGB-PanSharpen", "PS-RGB", "MUL", "PAN")
#: Full scale of the 11-bit WorldView-3 values: divide by it for values in [0, 1].
DN_MAX = 2047.0
#: GeoJSON ``crs`` member SpaceNet writes (lon/lat, the RFC 7946 default made explicit).
SPACENET_CRS_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}

_GENERATOR_VERSION = 1


# -------------------------------------------------------------------------------------------
# GeoJSON files
# -------------------------------------------------------------------------------------------
def read_footprints(path: str | os.PathLike, *, crs=None, empty_ok: bool = False) -> Footprints:
    """Read building footprints from a GeoJSON file (see :func:`geonb.labels.parse_footprints`).

    Parameters
    ----------
    path : path-like
    crs : CRS-like, optional
        Override the CRS the file declares (default: its ``crs`` member, else lon/lat CRS84).
    empty_ok : bool
        Do not warn for a FeatureCollection without features (SpaceNet's tiles without buildings).

    Raises
    ------
    DatasetNotFoundError
        The file does not exist.
    GeoJSONError
        It does not parse as GeoJSON.
    """
    path = Path(path)
    if path.is_dir():
        raise DatasetNotFoundError(f"{str(path)!r} is a folder, not a GeoJSON file; give the .geojson file's path")
    if not path.is_file():
        raise DatasetNotFoundError(f"GeoJSON file {str(path)!r} does not exist; check the path")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GeoJSONError(f"{str(path)!r} is not UTF-8 text, so not GeoJSON ({exc})") from exc
    try:
        with warnings.catch_warnings():
            if empty_ok:
                warnings.filterwarnings("ignore", message="the GeoJSON has no features")
            return parse_footprints(text, crs=crs)
    except GeoJSONError as exc:
        raise GeoJSONError(f"{str(path)!r}: {exc}") from exc


def write_footprints(path: str | os.PathLike, footprints, crs=None, *, overwrite: bool = False,
                     precision: int = 7) -> Path:
    """Write footprints as a GeoJSON FeatureCollection in lon/lat (RFC 7946), atomically.

    Parameters
    ----------
    path : path-like
        Output ``.geojson`` file; refused if it exists unless ``overwrite=True``.
    footprints : Footprints or sequence of shapely geometries
        E.g. the result of :func:`geonb.labels.mask_to_polygons`.
    crs : CRS-like, optional
        CRS of plain geometries.
    """
    collection = polygons_to_geojson(footprints, crs, precision=precision)
    with atomic_path(path, overwrite) as tmp:
        tmp.write_text(json.dumps(collection), encoding="utf-8")
    return Path(path)


# -------------------------------------------------------------------------------------------
# One labelled chip (a real SpaceNet chip, or a tile of the generated town)
# -------------------------------------------------------------------------------------------
#: Where the real SpaceNet 4 chip lives, relative to the repository root (beside the project).
REAL_CHIP = Path("..") / "shared" / "realdata" / "spacenet-atlanta-nadir10"


@dataclass
class Chip:
    """One labelled image: a scene, its truth footprints and, optionally, other models' predictions.

    Attributes
    ----------
    scene : Scene
        The image (no labels; see :func:`geonb.buildings.split_chip` for the targets).
    truth : Footprints
        Truth building footprints, in the scene's CRS.
    predictions : dict of str to Footprints
        Other models' footprints on this chip (e.g. the SpaceNet winners'), in the scene's CRS.
    name : str
    """

    scene: Scene
    truth: Footprints
    predictions: dict = field(default_factory=dict)
    name: str = ""

    def __repr__(self) -> str:
        return (f"Chip({self.name!r}, {self.scene.shape[0]}x{self.scene.shape[1]} px, {len(self.truth)} buildings, "
                f"predictions={sorted(self.predictions)})")


def read_chip(folder: str | os.PathLike, *, image: str | None = None, truth: str = "buildings_truth.geojson",
              predictions: str = "predictions_*.geojson") -> Chip:
    """Read a labelled chip folder: one GeoTIFF, its truth GeoJSON and optional prediction GeoJSONs.

    The layout of ``../shared/realdata/spacenet-atlanta-nadir10/`` (a SpaceNet 4 chip, RGB uint8 at
    0.5 m, 186 truth footprints and the predictions of two prize-winning models). Footprints are moved
    to the image's CRS; image values are kept as they are (0-255 for that chip).

    Parameters
    ----------
    folder : path-like
    image : str, optional
        The image's file name (default: the only ``*.tif`` in the folder).
    truth : str
        File name of the truth footprints.
    predictions : str
        Glob pattern of prediction files; each is named by its file stem without ``predictions_``.

    Raises
    ------
    DatasetNotFoundError
        The folder, the image or the truth file is missing, or the image is ambiguous.
    """
    from geonb.scene import read_scene

    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetNotFoundError(
            f"chip folder {str(folder)!r} does not exist; point `folder` at a folder with one GeoTIFF and "
            f"{truth!r} (the real SpaceNet chip lives in {str(REAL_CHIP)!r} relative to the repository)")
    if image is None:
        tifs = sorted(folder.glob("*.tif"))
        if len(tifs) != 1:
            raise DatasetNotFoundError(
                f"{str(folder)!r} holds {len(tifs)} .tif files ({[t.name for t in tifs][:5]}); pass `image=` to "
                "say which one is the chip")
        image_path = tifs[0]
    else:
        image_path = folder / image
    scene = read_scene(image_path, scale=None)
    truth_fp = read_footprints(folder / truth).to_crs(scene.crs)
    preds = {f.stem.removeprefix("predictions_"): read_footprints(f, empty_ok=True).to_crs(scene.crs)
             for f in sorted(folder.glob(predictions)) if f.name != truth}
    return Chip(scene, truth_fp, preds, name=folder.name)


def sample_chip(tile: int = 10, **kwargs) -> Chip:
    """A tile of the generated town (:func:`generate_buildings`, made if missing) as a :class:`Chip`.

    The stand-in when no real chip is at hand: 512 x 512 px of 0.3 m in lon/lat, red, green, blue and
    near-infrared, no other models' predictions. ``kwargs`` go to :func:`generate_buildings`.
    """
    ds = SpaceNetDataset(generate_buildings(**kwargs))
    if isinstance(tile, bool) or not isinstance(tile, (int, np.integer)) or not 0 <= tile < len(ds):
        raise InvalidParameterError(f"`tile` must be an index 0..{len(ds) - 1} of the generated tiles, got {tile!r}")
    image_id = ds.ids[int(tile)]
    scene = ds.scene(image_id)
    scene = Scene(image=scene.image, band_names=scene.band_names, crs=scene.crs, transform=scene.transform,
                  nodata_mask=scene.nodata_mask, name=image_id, properties=scene.properties)
    return Chip(scene, ds.footprints(image_id).to_crs(scene.crs), {}, name=image_id)


# -------------------------------------------------------------------------------------------
# Reader
# -------------------------------------------------------------------------------------------
def _natural_key(text: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _resolve(path) -> Path:
    p = Path(path)
    if p.exists() or os.sep in str(path) or "/" in str(path):
        return p
    from geonb.datasets import data_root

    return data_root() / "buildings" / str(path)


class SpaceNetDataset:
    """Building tiles in SpaceNet's folder layout: image tiles + ``geojson/buildings/*.geojson``.

    Parameters
    ----------
    path : path-like or str
        An AOI folder (holding ``geojson/buildings``), or a folder holding AOI folders, or the name of
        a dataset under ``data/buildings/`` (default: the generated sample).
    product : str, optional
        Image product folder (``"PS-RGBNIR"``, ``"MUL-PanSharpen"``, ``"RGB-PanSharpen"``...).
        Default: the first in :data:`PRODUCT_ORDER` present that holds ``bands``.
    bands : sequence of str
        Band names a scene gets, in order (default red, green, blue, near-infrared).

    Examples
    --------
    >>> ds = SpaceNetDataset("buildings-synthetic")          # doctest: +SKIP
    >>> scene = ds.scene(ds.ids[0], border_px=2)             # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike = SAMPLE_NAME, *, product: str | None = None,
                 bands: Sequence[str] = RGBN) -> None:
        root = _resolve(path)
        if not root.is_dir():
            raise DatasetNotFoundError(
                f"SpaceNet folder {str(root)!r} does not exist; run `make data` for the sample, or point "
                "`path` at a downloaded SpaceNet AOI folder (the one holding geojson/buildings)"
            )
        aois = [root] if (root / "geojson" / "buildings").is_dir() else sorted(
            p.parent.parent for p in root.glob("*/geojson/buildings") if p.is_dir())
        if not aois:
            raise DatasetNotFoundError(
                f"{str(root)!r} holds no geojson/buildings folder, so it is not in SpaceNet's layout; "
                "point `path` at the AOI folder (e.g. AOI_2_Vegas_Train) or its parent"
            )
        self.path = root
        self.name = root.name
        self.bands = tuple(bands)
        self._geojson: dict[str, Path] = {}
        self._aoi: dict[str, Path] = {}
        for aoi in aois:
            for f in (aoi / "geojson" / "buildings").glob("*.geojson"):
                image_id = re.sub(r"^buildings_", "", f.stem)
                self._geojson[image_id] = f
                self._aoi[image_id] = aoi
        if not self._geojson:
            raise DatasetNotFoundError(f"no *.geojson files under {[str(a) for a in aois]}/geojson/buildings")
        self.ids: list[str] = sorted(self._geojson, key=_natural_key)
        if product is not None and not (aois[0] / product).is_dir():
            raise InvalidParameterError(
                f"`product` {product!r} is not a folder of {str(aois[0])!r}; choose one of "
                f"{sorted(p.name for p in aois[0].iterdir() if p.is_dir())}"
            )
        self.product = product or self._pick_product(aois[0])

    def _pick_product(self, aoi: Path) -> str:
        present = [p for p in PRODUCT_ORDER if (aoi / p).is_dir()]
        for p in present:
            if set(self.bands) <= set(PRODUCT_BANDS[p]):
                return p
        if present:
            raise BandMismatchError(
                f"no image product in {str(aoi)!r} holds the bands {self.bands}: found {present} "
                f"with bands {[PRODUCT_BANDS[p] for p in present]}; pass `bands=` that one of them has "
                "(e.g. bands=('red', 'green', 'blue'))"
            )
        raise DatasetNotFoundError(
            f"{str(aoi)!r} has none of the image folders {list(PRODUCT_ORDER)}; is the download complete?"
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"SpaceNetDataset({self.name!r}, {len(self)} tiles, product={self.product!r})"

    def _check_id(self, image_id: str) -> None:
        if image_id not in self._geojson:
            raise InvalidParameterError(
                f"`image_id` {image_id!r} is not a tile of {self.name!r}; the first ids are {self.ids[:3]}"
            )

    def image_path(self, image_id: str) -> Path:
        """The image tile of ``image_id`` in this dataset's product folder."""
        self._check_id(image_id)
        folder = self._aoi[image_id] / self.product
        path = folder / f"{self.product}_{image_id}.tif"
        if not path.exists():
            hits = sorted(folder.glob(f"*{image_id}.tif"))
            if not hits:
                raise DatasetNotFoundError(
                    f"no image for tile {image_id!r} in {str(folder)!r} (looked for {path.name}); "
                    "is the download complete?"
                )
            path = hits[0]
        return path

    def geojson_path(self, image_id: str) -> Path:
        """The footprints file of ``image_id``."""
        self._check_id(image_id)
        return self._geojson[image_id]

    def footprints(self, image_id: str) -> Footprints:
        """The truth footprints of a tile, in the file's CRS (lon/lat); no warning for empty tiles."""
        return read_footprints(self.geojson_path(image_id), empty_ok=True)

    def scene(self, image_id: str, *, border_px: int | None = None, scale: float | None = 1 / DN_MAX) -> Scene:
        """Read a tile as a :class:`~geonb.scene.Scene` with its footprints rasterized as labels.

        Parameters
        ----------
        image_id : str
        border_px : int, optional
            Give labels a ``BORDER`` band of this width (see :func:`geonb.labels.rasterize_footprints`).
        scale : float or None
            Multiply the raw values by this (default ``1/2047``: 11-bit values to about [0, 1]).

        Returns
        -------
        Scene
            ``labels`` uint8 ``BACKGROUND``/``BUILDING``/``BORDER``; ``properties`` with ``id``,
            ``n_buildings``, ``product`` and ``geojson`` (path).
        """
        path = self.image_path(image_id)
        image, nodata, meta = read_image(path, scale=None)
        names = meta["band_names"]
        if not set(self.bands) <= set(names):
            names = PRODUCT_BANDS.get(self.product, names)
        if len(names) != image.shape[2]:
            raise BandMismatchError(
                f"{str(path)!r} has {image.shape[2]} bands, product {self.product!r} should have {len(names)}"
            )
        from geonb.bands import band_indices

        image = image[:, :, band_indices(self.bands, names)]
        if scale is not None:
            image = image * np.float32(scale)
        fp = self.footprints(image_id)
        rows, cols = image.shape[:2]
        if len(fp):
            labels = rasterize_footprints(fp, (rows, cols), meta["transform"], meta["crs"], border_px=border_px)
        else:
            labels = np.zeros((rows, cols), np.uint8)
        props = {"id": image_id, "n_buildings": len(fp), "product": self.product,
                 "geojson": str(self.geojson_path(image_id))}
        return Scene(image=image, labels=labels, band_names=self.bands, crs=meta["crs"],
                     transform=meta["transform"], nodata_mask=nodata, name=image_id, properties=props)

    def scenes(self, ids: Sequence[str] | None = None, *, border_px: int | None = None) -> Iterator[Scene]:
        """Iterate over scenes (all tiles, or ``ids``)."""
        for image_id in (self.ids if ids is None else ids):
            yield self.scene(image_id, border_px=border_px)

    def split_ids(self, n_train: int, n_val: int = 1, n_test: int = 1, *,
                  seed: int = 0) -> tuple[list[str], list[str], list[str]]:
        """Draw disjoint train / validation / test tiles (a seeded shuffle of the ids).

        Tiles, not crops, are split, so no pixel is in two splits (a building cut by a tile edge can
        still have parts in two tiles).
        """
        for name, n in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
            if int(n) != n or n < 0:
                raise InvalidParameterError(f"`{name}` must be a whole number >= 0, got {n!r}")
        total = n_train + n_val + n_test
        if total > len(self):
            raise InvalidParameterError(
                f"asked for {n_train}+{n_val}+{n_test}={total} tiles but {self.name!r} has {len(self)}; "
                "ask for fewer or generate more (generate_buildings(n_tiles=...))"
            )
        order = np.random.default_rng(seed).permutation(len(self))
        ids = [self.ids[i] for i in order]
        return ids[:n_train], ids[n_train:n_train + n_val], ids[n_train + n_val:total]

    def tiles(self):
        """A table of the tiles: ``id`` (index), ``n_buildings``, lon/lat bounds, image path."""
        import pandas as pd
        import rasterio
        from rasterio.warp import transform_bounds

        rows = []
        for image_id in self.ids:
            path = self.image_path(image_id)
            with rasterio.open(path) as src:
                w, s, e, n = transform_bounds(src.crs, "OGC:CRS84", *src.bounds)
                shape = (src.height, src.width)
            n_b = len(self.footprints(image_id))
            rows.append({"id": image_id, "n_buildings": n_b, "rows": shape[0], "cols": shape[1],
                         "west": w, "south": s, "east": e, "north": n, "image": str(path)})
        return pd.DataFrame(rows).set_index("id")


# -------------------------------------------------------------------------------------------
# The synthetic town
# -------------------------------------------------------------------------------------------
#: Reflectance (red, green, blue, nir) of the town's materials.
MATERIALS: dict[str, tuple[float, float, float, float]] = {
    "grass": (0.06, 0.10, 0.05, 0.42),
    "soil": (0.24, 0.20, 0.16, 0.30),
    "asphalt": (0.09, 0.09, 0.10, 0.12),
    "concrete": (0.30, 0.30, 0.28, 0.33),
    "parking": (0.14, 0.14, 0.15, 0.17),
    "pool": (0.04, 0.22, 0.32, 0.02),
    "pond": (0.03, 0.07, 0.08, 0.02),
    "tree": (0.035, 0.075, 0.035, 0.46),
}
#: Roof colours (reflectance red, green, blue, nir) and how often they occur.
ROOFS: dict[str, tuple[tuple[float, float, float, float], float]] = {
    "terracotta": ((0.42, 0.21, 0.14, 0.40), 0.24),
    "grey": ((0.28, 0.28, 0.29, 0.31), 0.20),
    "white": ((0.58, 0.58, 0.56, 0.58), 0.12),
    "dark": ((0.10, 0.10, 0.11, 0.14), 0.16),
    "brown": ((0.24, 0.17, 0.12, 0.27), 0.12),
    "blue metal": ((0.18, 0.26, 0.36, 0.29), 0.08),
    "green metal": ((0.14, 0.28, 0.19, 0.30), 0.08),
}
_SHADOW_FACTOR = 0.42
#: Shadow offset per metre of height (sun in the south-east, 35 degrees from the zenith).
_SHADOW_VECTOR = (-0.5, 0.5)


def _rect(cx, cy, w, d, angle_deg):
    """A w x d rectangle centred on (cx, cy), rotated by angle (degrees, counter-clockwise)."""
    from shapely.affinity import rotate
    from shapely.geometry import box

    return rotate(box(cx - w / 2, cy - d / 2, cx + w / 2, cy + d / 2), angle_deg, origin=(cx, cy))


def _gable_halves(cx, cy, w, d, angle_deg):
    """The two roof halves of a gabled rectangle (split along its long axis)."""
    from shapely.affinity import rotate
    from shapely.geometry import box

    if w >= d:
        a, b = box(cx - w / 2, cy - d / 2, cx + w / 2, cy), box(cx - w / 2, cy, cx + w / 2, cy + d / 2)
    else:
        a, b = box(cx - w / 2, cy - d / 2, cx, cy + d / 2), box(cx, cy - d / 2, cx + w / 2, cy + d / 2)
    return rotate(a, angle_deg, origin=(cx, cy)), rotate(b, angle_deg, origin=(cx, cy))


def _town_plan(rng: np.random.Generator, width_m: float, height_m: float) -> dict:
    """Lay out a town in local metres (x east, y north, origin at the north-west corner, y <= 0).

    Returns a dict of layers: lists of ``(geometry, attributes)``.
    """
    import shapely
    from shapely.affinity import rotate, translate
    from shapely.geometry import LineString, Point, box

    theta = 17.0  # the street grid is not aligned with the pixel grid
    cx, cy = width_m / 2, -height_m / 2
    half = 0.75 * float(np.hypot(width_m, height_m))
    road_w, walk_w = 9.0, 2.0
    sx, sy = _SHADOW_VECTOR
    us = [-half]
    while us[-1] < half:
        us.append(us[-1] + rng.uniform(70, 110))
    vs = [-half]
    while vs[-1] < half:
        vs.append(vs[-1] + rng.uniform(60, 90))

    def place(g):  # grid frame (u, v) around the centre -> town metres
        return rotate(translate(g, cx, cy), theta, origin=(cx, cy))

    # Geometries are made in the grid frame and placed all at once at the end (vectorised).
    extent = box(-30, -height_m - 30, width_m + 30, 30)
    extent_grid = rotate(translate(extent, -cx, -cy), -theta, origin=(0, 0))
    layers: dict[str, list] = {k: [] for k in ("road", "walk", "parking", "pool", "pond", "shadow",
                                               "roof", "tree", "tree_shadow", "building")}
    lines = [LineString([(u, -half), (u, half)]) for u in us] + [LineString([(-half, v), (half, v)]) for v in vs]
    roads = shapely.union_all([ln.buffer(road_w / 2, cap_style="flat") for ln in lines])
    walks = shapely.union_all([ln.buffer(road_w / 2 + walk_w, cap_style="flat") for ln in lines]).difference(roads)
    layers["road"].append((roads.intersection(extent_grid), {}))
    layers["walk"].append((walks.intersection(extent_grid), {}))

    roof_names = list(ROOFS)
    roof_p = np.array([ROOFS[r][1] for r in roof_names])
    roof_p = roof_p / roof_p.sum()

    def add_building(parts, hole=None, height=6.0, gabled=True, kind="house"):
        """parts: list of (cx, cy, w, d, angle) in the grid frame."""
        roof = roof_names[rng.choice(len(roof_names), p=roof_p)]
        tint = rng.uniform(0.88, 1.12)
        polys = [_rect(*p) for p in parts]
        footprint = shapely.union_all(polys)
        if hole is not None:
            footprint = footprint.difference(hole)
        if not footprint.intersects(extent_grid):
            return
        bid = len(layers["building"]) + 1
        layers["building"].append((footprint, {"roof": roof, "height_m": round(height, 1), "kind": kind}))
        for p, poly in zip(parts, polys, strict=True):
            moved = translate(poly, sx * height, sy * height)
            layers["shadow"].append((shapely.union_all([poly, moved]).convex_hull, {}))
            if gabled and hole is None:
                a, b = _gable_halves(*p)
                layers["roof"].append((a, {"id": bid, "roof": roof, "tint": tint * 1.10}))
                layers["roof"].append((b, {"id": bid, "roof": roof, "tint": tint * 0.82}))
        if not gabled or hole is not None:
            layers["roof"].append((footprint, {"id": bid, "roof": roof, "tint": tint}))

    def add_trees(u0, v0, u1, v1, n):
        for _ in range(n):
            r = rng.uniform(1.5, 4.0)
            c = Point(rng.uniform(u0, u1), rng.uniform(v0, v1))
            crown = c.buffer(r, quad_segs=6)
            layers["tree"].append((crown, {}))
            layers["tree_shadow"].append((translate(crown, 1.2 * r * sx, 1.2 * r * sy), {}))

    inset = road_w / 2 + walk_w + 1.0
    for u0, u1 in zip(us[:-1], us[1:], strict=True):
        for v0, v1 in zip(vs[:-1], vs[1:], strict=True):
            bu0, bu1, bv0, bv1 = u0 + inset, u1 - inset, v0 + inset, v1 - inset
            if not place(box(bu0, bv0, bu1, bv1)).intersects(extent):
                continue
            kind = rng.choice(["park", "commercial", "houses"], p=[0.08, 0.14, 0.78])
            if kind == "park":
                add_trees(bu0, bv0, bu1, bv1, int(rng.integers(15, 35)))
                if rng.random() < 0.5:
                    pc = Point(rng.uniform(bu0 + 15, bu1 - 15), rng.uniform(bv0 + 12, bv1 - 12))
                    layers["pond"].append((pc.buffer(rng.uniform(6, 11), quad_segs=8), {}))
            elif kind == "commercial":
                layers["parking"].append((box(bu0 + 2, bv0 + 2, bu1 - 2, bv1 - 2), {}))
                w, d = (bu1 - bu0) * rng.uniform(0.45, 0.7), (bv1 - bv0) * rng.uniform(0.45, 0.7)
                ccx = rng.uniform(bu0 + w / 2 + 4, bu1 - w / 2 - 4)
                ccy = rng.uniform(bv0 + d / 2 + 4, bv1 - d / 2 - 4)
                hole = None
                if rng.random() < 0.45 and min(w, d) > 25:
                    hole = box(ccx - w * 0.18, ccy - d * 0.18, ccx + w * 0.18, ccy + d * 0.18)
                add_building([(ccx, ccy, w, d, 0.0)], hole, height=rng.uniform(8, 16), gabled=False,
                             kind="commercial")
                add_trees(bu0, bv0, bu1, bv1, int(rng.integers(0, 5)))
            else:
                mid = (bv0 + bv1) / 2
                for row_v0, row_v1, street_side in ((bv0, mid, -1), (mid, bv1, 1)):
                    u = bu0
                    while u < bu1 - 10:
                        lot_w = min(rng.uniform(14, 24), bu1 - u)
                        lot = (u, row_v0, u + lot_w, row_v1)
                        u += lot_w
                        if lot_w < 10:
                            continue
                        depth = row_v1 - row_v0
                        add_trees(*lot, int(rng.poisson(1.3)))
                        if rng.random() < 0.08:
                            continue
                        w = lot_w * rng.uniform(0.5, 0.8)
                        d = depth * rng.uniform(0.35, 0.6)
                        setback = rng.uniform(3, 6)
                        bcx = lot[0] + lot_w / 2 + rng.uniform(-1, 1) * (lot_w - w) / 2
                        bcy = (row_v0 + setback + d / 2) if street_side < 0 else (row_v1 - setback - d / 2)
                        ang = rng.uniform(-10, 10) if rng.random() < 0.5 else 0.0
                        parts = [(bcx, bcy, w, d, ang)]
                        if rng.random() < 0.3:  # an L-shaped house: a wing at a back corner
                            w2, d2 = w * rng.uniform(0.35, 0.55), d * rng.uniform(0.4, 0.7)
                            sgn = 1 if rng.random() < 0.5 else -1
                            wing = _rect(bcx + sgn * (w - w2) / 2, bcy - street_side * (d + d2) / 2 * 0.98,
                                         w2, d2, 0.0)
                            wing = rotate(wing, ang, origin=(bcx, bcy))
                            wc = wing.centroid
                            parts.append((wc.x, wc.y, w2, d2, ang))
                        add_building(parts, height=rng.uniform(3.5, 8.0), gabled=rng.random() < 0.7)
                        if rng.random() < 0.2:  # a pool in the back yard
                            py = row_v1 - 5 if street_side < 0 else row_v0 + 5
                            layers["pool"].append((_rect(lot[0] + lot_w / 2, py, 3.5, 6.5, 90.0), {}))
    layers["frame"] = [(None, {"centre": (cx, cy), "theta": theta})]
    return layers


def _local_crs(lon0: float, lat0: float) -> str:
    return f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m +no_defs"


def _to_lonlat(layers: dict, local_crs: str) -> dict:
    """Move every layer from the street-grid frame to lon/lat, vectorised over all coordinates.

    The grid frame is rotated and shifted into town metres (an azimuthal equidistant projection
    centred on the town's north-west corner), then ``pyproj`` takes the metres to lon/lat.
    """
    import pyproj
    import shapely

    frame = layers["frame"][0][1]
    (cx, cy), theta = frame["centre"], np.deg2rad(frame["theta"])
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    to_lonlat = pyproj.Transformer.from_crs(local_crs, "EPSG:4326", always_xy=True)

    def move(coords: np.ndarray) -> np.ndarray:
        xy = coords @ rot.T + (cx, cy)
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    out = {}
    for name, items in layers.items():
        if name == "frame":
            continue
        items = [(g, a) for g, a in items if not g.is_empty]
        geoms = shapely.transform(np.array([g for g, _ in items], dtype=object), move) if items else []
        out[name] = [(g, a) for g, (_, a) in zip(geoms, items, strict=True)]
    return out


def _burn(items, shape, transform):
    """Index raster: item i (from 1) where it covers the pixel centre, else 0."""
    from rasterio.features import rasterize

    if not items:
        return np.zeros(shape, np.int32)
    return rasterize([(g, i + 1) for i, (g, _) in enumerate(items)], out_shape=shape, transform=transform,
                     fill=0, dtype="int32")


def _render_tile(layers, trees_idx, tile_box, shape, transform, rng, ground) -> np.ndarray:
    """Reflectance ``(rows, cols, 4)`` of one tile."""
    from scipy import ndimage

    def local(name):
        items = layers[name]
        hits = trees_idx[name].query(tile_box, predicate="intersects") if trees_idx[name] is not None else []
        return [items[i] for i in sorted(hits)]

    f32 = np.float32
    grass, soil = np.array(MATERIALS["grass"], f32), np.array(MATERIALS["soil"], f32)
    ground = ground.astype(f32)[..., None]
    img = ground * soil + (1 - ground) * grass
    img *= 1 + f32(0.06) * rng.standard_normal(shape, dtype=f32)[..., None]
    for name, material in (("walk", "concrete"), ("road", "asphalt"), ("parking", "parking"),
                           ("pool", "pool"), ("pond", "pond")):
        hit = _burn(local(name), shape, transform) > 0
        img[hit] = np.array(MATERIALS[material]) * rng.normal(1.0, 0.03, (int(hit.sum()), 1))
    for name, factor in (("tree_shadow", 0.6), ("shadow", _SHADOW_FACTOR)):
        img[_burn(local(name), shape, transform) > 0] *= factor
    roofs = local("roof")
    idx = _burn(roofs, shape, transform)
    if roofs:
        table = np.zeros((len(roofs) + 1, 4))
        for i, (_, a) in enumerate(roofs, start=1):
            table[i] = np.array(ROOFS[a["roof"]][0]) * a["tint"]
        on = idx > 0
        img[on] = table[idx[on]] * rng.normal(1.0, 0.025, (int(on.sum()), 1))
    trees = local("tree")
    crowns = _burn(trees, shape, transform) > 0
    texture = ndimage.gaussian_filter(1 + f32(0.25) * rng.standard_normal(shape, dtype=f32), 1.2)
    img[crowns] = np.array(MATERIALS["tree"]) * texture[crowns][:, None]
    img = ndimage.gaussian_filter(img, sigma=(0.7, 0.7, 0))  # pan-sharpened imagery is a little soft
    img += f32(0.004) * rng.standard_normal(img.shape, dtype=f32)
    return img


def _spacenet_feature(geom, props: dict) -> dict:
    """A GeoJSON feature as SpaceNet writes it: lon/lat/0 coordinates (z = 0)."""
    from shapely.geometry import mapping

    def xyz(coords):
        if coords and isinstance(coords[0], (float, int)):
            return [round(float(coords[0]), 9), round(float(coords[1]), 9), 0.0]
        return [xyz(c) for c in coords]

    m = mapping(geom)
    return {"type": "Feature", "properties": props,
            "geometry": {"type": m["type"], "coordinates": xyz(m["coordinates"])}}


def generate_buildings(root: str | os.PathLike | None = None, seed: int = 0, overwrite: bool = False, *,
                       n_tiles: int = 40, name: str = SAMPLE_NAME, tile_px: int = 512,
                       pixel_m: float = 0.3, lon: float = -115.19, lat: float = 36.17) -> Path:
    """Write a SpaceNet-like sample of building tiles, deterministically from ``seed``.

    The town is laid out in metres, moved to lon/lat and cut into ``n_tiles`` tiles (rows of 8),
    each ``tile_px`` x ``tile_px`` pixels of ``pixel_m`` metres in EPSG:4326. Writing goes to a
    temporary folder that is renamed into place at the end, so a crash leaves no half dataset.
    Takes a few seconds.

    Parameters
    ----------
    root : path-like, optional
        Data folder (default :func:`geonb.datasets.data_root`); the dataset goes to
        ``root/buildings/<name>``.
    seed : int
    overwrite : bool
        Replace an existing dataset. Without it an existing dataset made with the same settings is
        kept (and its path returned); one made with other settings raises :class:`OutputExistsError`.
    n_tiles : int
    name : str
    tile_px : int
    pixel_m : float
        Ground sample distance; SpaceNet's pan-sharpened products have 0.3 m.
    lon, lat : float
        North-west corner of the town.

    Returns
    -------
    Path
        The dataset folder (pass it, or ``name``, to :class:`SpaceNetDataset`).
    """
    import shapely
    from rasterio.transform import from_origin
    from scipy.ndimage import map_coordinates
    from shapely.geometry import box

    if int(n_tiles) != n_tiles or n_tiles < 1:
        raise InvalidParameterError(f"`n_tiles` must be a whole number >= 1, got {n_tiles!r}")
    if int(tile_px) != tile_px or tile_px < 64:
        raise InvalidParameterError(f"`tile_px` must be a whole number >= 64, got {tile_px!r}")
    if not 0.05 <= pixel_m <= 2.0:
        raise InvalidParameterError(f"`pixel_m` must be between 0.05 and 2 metres, got {pixel_m!r}")
    if not (-80 <= float(lat) <= 80 and -180 <= float(lon) <= 180):
        raise InvalidParameterError(f"`lat` must lie in [-80, 80] and `lon` in [-180, 180] degrees, "
                                    f"got lat={lat!r}, lon={lon!r}")
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or os.sep in name:
        raise InvalidParameterError(f"`name` must be a plain folder name such as {SAMPLE_NAME!r}, got {name!r}")
    if root is None:
        from geonb.datasets import data_root

        root = data_root()
    dest = Path(root) / "buildings" / name
    settings = {"generator": "geonb.datasets.spacenet", "version": _GENERATOR_VERSION, "seed": int(seed),
                "n_tiles": int(n_tiles), "tile_px": int(tile_px), "pixel_m": float(pixel_m),
                "lon": float(lon), "lat": float(lat), "aoi": SAMPLE_AOI}
    marker = dest / "geonb-dataset.json"
    if dest.exists() and not overwrite:
        if marker.exists() and json.loads(marker.read_text()) == settings:
            return dest
        raise OutputExistsError(
            f"{str(dest)!r} already exists with other settings; pass overwrite=True to replace it"
        )

    import pyproj

    geod = pyproj.Geod(ellps="WGS84")
    m_per_deg_lon = geod.inv(lon, lat, lon + 0.01, lat)[2] / 0.01
    m_per_deg_lat = geod.inv(lon, lat, lon, lat - 0.01)[2] / 0.01
    dlon, dlat = pixel_m / m_per_deg_lon, pixel_m / m_per_deg_lat
    tiles_per_row = min(8, n_tiles)
    tile_rows = -(-n_tiles // tiles_per_row)
    tile_m = tile_px * pixel_m
    width_m, height_m = tiles_per_row * tile_m, tile_rows * tile_m

    rng = np.random.default_rng(seed)
    plan = _town_plan(rng, width_m, height_m)
    layers = _to_lonlat(plan, _local_crs(lon, lat))
    trees_idx = {k: (shapely.STRtree([g for g, _ in v]) if v else None) for k, v in layers.items()}
    # Bare soil versus grass varies smoothly over the whole town (a 10 m grid, sampled per pixel).
    ground_grid = np.clip(_smooth_noise(rng, (int(height_m / 10) + 3, int(width_m / 10) + 3)), 0, 1)

    parent = dest.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
    try:
        aoi_dir = tmp / f"{SAMPLE_AOI}_Train"
        rows_csv = ["ImageId,BuildingId,PolygonWKT_Pix,PolygonWKT_Geo"]
        osm_id = 100000
        for k in range(n_tiles):
            r, c = divmod(k, tiles_per_row)
            image_id = f"{SAMPLE_AOI}_img{k + 1}"
            west, north = lon + c * tile_px * dlon, lat - r * tile_px * dlat
            transform = from_origin(west, north, dlon, dlat)
            tile_box = box(west, north - tile_px * dlat, west + tile_px * dlon, north)
            tile_rng = np.random.default_rng([seed, k])
            cols_m = (c * tile_px + np.arange(tile_px) + 0.5) * pixel_m / 10
            rows_m = (r * tile_px + np.arange(tile_px) + 0.5) * pixel_m / 10
            rr, cc = np.meshgrid(rows_m, cols_m, indexing="ij")
            ground = map_coordinates(ground_grid, [rr, cc], order=1)
            refl = _render_tile(layers, trees_idx, tile_box, (tile_px, tile_px), transform, tile_rng, ground)
            dn = np.clip(np.rint(refl * 2000.0), 1, DN_MAX).astype(np.uint16)
            write_raster(aoi_dir / "PS-RGBNIR" / f"PS-RGBNIR_{image_id}.tif", dn, crs="EPSG:4326",
                         transform=transform, nodata=0, band_names=PRODUCT_BANDS["PS-RGBNIR"],
                         tags={"generator": "geonb synthetic town", "seed": seed, "gsd_m": pixel_m})
            features, pix_geoms = [], []
            hits = trees_idx["building"].query(tile_box, predicate="intersects") if trees_idx["building"] else []
            for i in sorted(hits):
                geom, attrs = layers["building"][i]
                part = geom.intersection(tile_box)
                if part.is_empty or part.area * m_per_deg_lon * m_per_deg_lat < 2.0:
                    continue  # slivers under 2 m2 (about 20 pixels) are left out, as SpaceNet does
                part = polygonal_part(part)
                frac = part.area / geom.area
                osm_id += 1
                props = {"building": "yes", "id": f"way/{osm_id}", "QAStatus": "Original_Building",
                         "timestamp": "2016-06-22T21:27:50Z", "user": "geonb-synthetic",
                         "partialBuilding": float(frac < 0.999), "partialDec": round(float(frac), 6),
                         "Shape_Area": float(part.area), "Shape_Leng": float(part.length),
                         "roof": attrs["roof"], "height_m": attrs["height_m"], "kind": attrs["kind"]}
                features.append(_spacenet_feature(part, props))
                pix_geoms.append(part)
            collection = {"type": "FeatureCollection", "crs": SPACENET_CRS_MEMBER, "features": features}
            gj = aoi_dir / "geojson" / "buildings" / f"buildings_{image_id}.geojson"
            gj.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(gj) as t:
                t.write_text(json.dumps(collection), encoding="utf-8")
            pix = footprints_to_pixels(Footprints(pix_geoms, crs="EPSG:4326"), transform)
            for b, (g_px, g_geo) in enumerate(zip(pix, pix_geoms, strict=True), start=1):
                rows_csv.append(f'{image_id},{b},"{shapely.to_wkt(g_px, rounding_precision=2)}",'
                                f'"{shapely.to_wkt(g_geo, rounding_precision=9)}"')
            if not features:
                rows_csv.append(f'{image_id},-1,"POLYGON EMPTY","POLYGON EMPTY"')
        csv = aoi_dir / "summaryData" / f"{SAMPLE_AOI}_Train_Building_Solutions.csv"
        csv.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(csv) as t:
            t.write_text("\n".join(rows_csv) + "\n", encoding="utf-8")
        (tmp / "geonb-dataset.json").write_text(json.dumps(settings, indent=1), encoding="utf-8")
        old = None
        if dest.exists():  # overwrite: move the old one aside, then swap
            old = Path(tempfile.mkdtemp(prefix=f".{name}.old.", dir=parent))
            os.replace(dest, old / name)
        os.replace(tmp, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Smooth random field in about [0, 1] (patches of bare soil in grass)."""
    from scipy import ndimage

    field = ndimage.gaussian_filter(rng.normal(0, 1, shape), 3.0)
    field = (field - field.mean()) / (field.std() + 1e-9)
    return 0.35 + 0.25 * field
