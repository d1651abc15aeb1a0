"""Footprints: vector polygons <-> rasters on a raster's own grid.

GeoJSON (or any vector file) footprints -> pixels (:func:`rasterize_footprints`,
:func:`instance_raster`, :func:`rasterize_labels` for training polygons with a class field),
a border band, instance ids, a signed distance in metres (:func:`signed_distance`); and back
again: a predicted mask -> polygons -> GeoJSON in lon/lat (:func:`mask_to_polygons`,
:func:`polygons_to_geojson`).

Rasterizing uses :func:`rasterio.features.rasterize` with the raster's transform; reprojection
:func:`rasterio.warp.transform_geom`. rasterio, shapely, pyproj and scipy are imported inside
the functions so that importing geonb.footprints stays light. File reading and writing of
datasets lives in :mod:`geonb.datasets.spacenet`. Class codes (``BUILDING``, ``WATER``...)
live in :mod:`geonb.labels`, which also re-exports this module's names.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from geonb.errors import ClassCodeError, CRSError, GeoJSONError, InvalidParameterError, ShapeMismatchError
from geonb.labels import (
    BACKGROUND,
    BORDER,
    BUILDING,
    SHOW_VALUES,
    as_crs,
    check_label_map,
    grid_shape,
    show_values,
)

#: CRS of GeoJSON that declares none: RFC 7946 says WGS 84 longitude/latitude ("CRS84").
GEOJSON_DEFAULT_CRS = "OGC:CRS84"
#: Geometry types that are not footprints: skipped and counted, not an error.
_SKIPPABLE_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString")


@dataclass
class Footprints:
    """Building footprints (or any polygons) with their properties and CRS.

    Attributes
    ----------
    geometries : list of shapely Polygon or MultiPolygon
        Valid, 2-D polygons (holes kept), in ``crs`` coordinates.
    properties : list of dict
        One dict per geometry (the GeoJSON feature properties).
    crs : rasterio.crs.CRS
        CRS of the coordinates (``OGC:CRS84``, i.e. lon/lat, for GeoJSON that declares none).
    n_skipped : int
        Features dropped because they are not polygons (Point, LineString...) or are empty.
    n_repaired : int
        Invalid polygons (e.g. self-intersecting) repaired with ``shapely.make_valid``.
    skipped_types : dict of str to int
        ``n_skipped`` broken down by geometry type.
    """

    geometries: list
    properties: list = field(default_factory=list)
    crs: Any = None
    n_skipped: int = 0
    n_repaired: int = 0
    skipped_types: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.geometries = list(self.geometries)
        if not self.properties:
            self.properties = [{} for _ in self.geometries]
        self.properties = [dict(p) for p in self.properties]
        if len(self.properties) != len(self.geometries):
            raise ShapeMismatchError(
                f"`properties` has {len(self.properties)} entries but there are {len(self.geometries)} "
                "geometries; give one dict per geometry"
            )
        self.crs = as_crs(self.crs, name="crs")

    def __len__(self) -> int:
        return len(self.geometries)

    def __repr__(self) -> str:
        crs = self.crs.to_string() if self.crs is not None else None
        return (f"Footprints({len(self)} polygons, crs={crs}, skipped={self.n_skipped}, "
                f"repaired={self.n_repaired})")

    def to_crs(self, crs) -> Footprints:
        """The same footprints reprojected to ``crs`` (``rasterio.warp.transform_geom``)."""
        crs = as_crs(crs, name="crs", allow_none=False)
        if self.crs is None:
            raise CRSError("these footprints have no `crs`; set it (e.g. Footprints(..., crs='OGC:CRS84'))")
        if crs == self.crs or not self.geometries:
            return replace(self, crs=crs, geometries=list(self.geometries))
        import shapely
        from rasterio._err import CPLE_BaseError
        from rasterio.errors import RasterioError
        from rasterio.warp import transform_geom
        from shapely.geometry import mapping, shape

        try:
            moved = transform_geom(self.crs, crs, [mapping(g) for g in self.geometries])
        except (CPLE_BaseError, RasterioError) as exc:
            x0, y0, x1, y1 = shapely.total_bounds(np.array(self.geometries, dtype=object))
            raise CRSError(
                f"the footprints cannot be moved from {self.crs} to {crs} ({exc}); their coordinates span "
                f"x {x0:.6g}..{x1:.6g}, y {y0:.6g}..{y1:.6g}, which probably are not in {self.crs}. "
                "Declare the right CRS when reading them (`crs=`; GeoJSON without one means lon/lat)"
            ) from exc
        geoms = [shapely.make_valid(g) if not g.is_valid else g for g in (shape(m) for m in moved)]
        return replace(self, crs=crs, geometries=[polygonal_part(g) for g in geoms])


def polygonal_part(geom):
    """The polygonal part of a geometry (``make_valid`` may return a collection with lines)."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, (Polygon, MultiPolygon))]
    polys = []
    for p in parts:
        polys.extend(p.geoms if isinstance(p, MultiPolygon) else [p])
    if not polys:
        return Polygon()
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _geojson_crs(obj: dict):
    """The CRS a GeoJSON object declares in the legacy ``crs`` member, else CRS84 (RFC 7946)."""
    from rasterio.crs import CRS
    from rasterio.errors import CRSError as RioCRSError

    member = obj.get("crs")
    if member is None:
        return CRS.from_user_input(GEOJSON_DEFAULT_CRS)
    try:
        kind = member.get("type")
        props = member.get("properties") or {}
        if kind == "name":
            value = props["name"]
        elif kind == "EPSG":  # GeoJSON 2008 draft form
            value = f"EPSG:{int(props['code'])}"
        else:
            value = None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise GeoJSONError(
            f"the GeoJSON `crs` member {member!r} cannot be read ({exc}); remove it for lon/lat "
            "(CRS84) or pass the CRS explicitly as `crs=`"
        ) from exc
    if value is not None:
        try:
            return CRS.from_user_input(value)
        except (RioCRSError, TypeError, ValueError) as exc:
            # The member is well-formed GeoJSON; the CRS it names is the problem.
            raise CRSError(
                f"the GeoJSON `crs` member names {value!r}, which is not a coordinate reference system rasterio "
                f"knows ({exc}); fix the name (e.g. 'EPSG:32633'), remove the member for lon/lat (CRS84), or "
                "pass the right CRS as `crs=`"
            ) from exc
    raise GeoJSONError(
        f"the GeoJSON `crs` member {member!r} is of an unsupported type; use "
        '{"type": "name", "properties": {"name": "EPSG:XXXX"}} or pass `crs=`'
    )


def parse_footprints(geojson, *, crs=None) -> Footprints:
    """Read building footprints from a GeoJSON object or text.

    Polygons and MultiPolygons (with holes) are kept. Points and lines are skipped and counted;
    invalid polygons (self-intersections...) are repaired with ``shapely.make_valid`` and counted.
    Z coordinates (SpaceNet writes ``[lon, lat, 0.0]``) are dropped.

    Parameters
    ----------
    geojson : dict or str
        A FeatureCollection, a Feature or a bare geometry, as a dict or as JSON text.
    crs : CRS-like, optional
        The CRS of the coordinates. Default: the legacy ``crs`` member if present (SpaceNet writes
        ``urn:ogc:def:crs:OGC:1.3:CRS84``), otherwise lon/lat CRS84 as RFC 7946 requires.

    Returns
    -------
    Footprints

    Raises
    ------
    GeoJSONError
        The text does not parse, the object is not GeoJSON, or a geometry is malformed.

    Warns
    -----
    UserWarning
        When the collection has no features, or when features were skipped or repaired.

    Examples
    --------
    >>> fc = {"type": "FeatureCollection", "features": [
    ...     {"type": "Feature", "properties": {"id": 7},
    ...      "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}
    >>> fp = parse_footprints(fc)
    >>> len(fp), fp.properties[0]["id"], fp.crs.to_string()
    (1, 7, 'OGC:CRS84')
    """
    import json

    if isinstance(geojson, (str, bytes)):
        try:
            geojson = json.loads(geojson)
        except json.JSONDecodeError as exc:
            raise GeoJSONError(
                f"the text is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                "check the file is complete GeoJSON"
            ) from exc
    if not isinstance(geojson, dict) or "type" not in geojson:
        raise GeoJSONError(
            f"`geojson` must be a GeoJSON object (a dict with a 'type'), got {type(geojson).__name__}; "
            "pass a FeatureCollection, a Feature or a geometry"
        )
    if crs is not None:
        crs = as_crs(crs, name="crs")
    else:
        crs = _geojson_crs(geojson)

    kind = geojson["type"]
    if kind == "FeatureCollection":
        features = geojson.get("features")
        if not isinstance(features, list):
            raise GeoJSONError("the FeatureCollection has no 'features' list; it is not valid GeoJSON")
    elif kind == "Feature":
        features = [geojson]
    else:
        features = [{"type": "Feature", "properties": {}, "geometry": geojson}]

    geoms, props, skipped = [], [], {}
    n_repaired = 0
    for i, feat in enumerate(features):
        if not isinstance(feat, dict):
            raise GeoJSONError(f"feature {i} is a {type(feat).__name__}, not a GeoJSON Feature object")
        geom, repaired, skip_type = _feature_polygon(feat.get("geometry"), i)
        if geom is None:
            skipped[skip_type] = skipped.get(skip_type, 0) + 1
            continue
        n_repaired += repaired
        geoms.append(geom)
        props.append(dict(feat.get("properties") or {}))

    result = Footprints(geoms, props, crs, n_skipped=sum(skipped.values()), n_repaired=n_repaired,
                        skipped_types=skipped)
    if not features:
        warnings.warn("the GeoJSON has no features: no footprints (an empty mask follows)", stacklevel=2)
    elif result.n_skipped or result.n_repaired:
        kinds = ", ".join(f"{n} {t}" for t, n in sorted(skipped.items())) or "none"
        warnings.warn(
            f"footprints: kept {len(result)} polygons; skipped {result.n_skipped} non-polygon or empty "
            f"features ({kinds}); repaired {result.n_repaired} invalid polygons with shapely.make_valid",
            stacklevel=2,
        )
    return result


def _feature_polygon(geometry, index: int):
    """Return ``(polygon or None, repaired 0/1, skipped type)`` for one feature's geometry."""
    import shapely
    from shapely.errors import GEOSException
    from shapely.geometry import shape

    if geometry is None:
        return None, 0, "null"
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise GeoJSONError(f"feature {index} has a geometry that is not a GeoJSON geometry object: {geometry!r}")
    gtype = geometry["type"]
    if gtype in _SKIPPABLE_TYPES:
        return None, 0, gtype
    if gtype not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise GeoJSONError(f"feature {index} has an unknown geometry type {gtype!r}")
    try:
        geom = shapely.force_2d(shape(geometry))
    except (GEOSException, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise GeoJSONError(f"feature {index}: its {gtype} coordinates are malformed ({exc})") from exc
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        bad = coords[~np.isfinite(coords).all(axis=1)]
        raise GeoJSONError(
            f"feature {index}: its {gtype} has {len(bad)} coordinate(s) that are not finite numbers "
            f"(NaN or infinity), e.g. {bad[0].tolist()}; fix or drop that feature"
        )
    repaired = 0
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        repaired = 1
    geom = polygonal_part(geom)
    if geom.is_empty:
        return None, 0, "empty" if not repaired else "degenerate"
    return geom, repaired, ""


def _as_footprints(footprints, crs, name: str = "footprints") -> Footprints:
    """Footprints in the raster CRS ``crs``, from Footprints or a sequence of geometries."""
    from shapely.geometry import shape
    from shapely.geometry.base import BaseGeometry

    if isinstance(footprints, Footprints):
        if crs is not None and footprints.crs is not None:
            return footprints.to_crs(crs)
        if crs is not None:
            # Footprints without a CRS are taken to be in ``crs``, as plain geometries are.
            return replace(footprints, crs=crs, geometries=list(footprints.geometries))
        return footprints
    if isinstance(footprints, dict):
        fp = parse_footprints(footprints)
        return fp.to_crs(crs) if crs is not None else fp
    try:
        items = list(footprints)
    except TypeError as exc:
        raise InvalidParameterError(
            f"`{name}` must be Footprints or a sequence of shapely geometries, got {type(footprints).__name__}"
        ) from exc
    geoms = []
    for i, g in enumerate(items):
        if isinstance(g, dict):
            g = shape(g)
        if not isinstance(g, BaseGeometry):
            raise InvalidParameterError(f"`{name}[{i}]` is a {type(g).__name__}, not a shapely geometry")
        geoms.append(g)
    return Footprints(geoms, crs=crs)


def _check_grid(shape: tuple[int, int], transform):
    from affine import Affine

    rows, cols = grid_shape(shape, InvalidParameterError)  # a grid argument, not two arrays that disagree
    if not isinstance(transform, Affine):
        raise InvalidParameterError(
            f"`transform` must be an affine.Affine (the raster's transform), got {type(transform).__name__}"
        )
    return rows, cols


def instance_raster(footprints, shape: tuple[int, int], transform, crs=None, *, all_touched: bool = False,
                    require_overlap: bool = True) -> np.ndarray:
    """Burn each footprint with its own id: ``i + 1`` for footprint ``i``, 0 for background.

    Parameters
    ----------
    footprints : Footprints or sequence of shapely geometries
        Footprints with a CRS are reprojected to ``crs``; plain geometries are taken to be in ``crs``.
    shape : (rows, cols)
    transform : affine.Affine
        The raster's transform (pixel -> CRS coordinates).
    crs : CRS-like, optional
        The raster's CRS.
    all_touched : bool
        Burn every pixel a polygon touches, not only those whose centre it covers.
    require_overlap : bool
        Raise :class:`CRSError` when no footprint overlaps the raster (default), the usual sign that
        the footprints are in another CRS than declared. Set False for tiles of a larger vector file.

    Returns
    -------
    ndarray of int32, shape (rows, cols)
        Where footprints overlap, the later one wins.
    """
    from rasterio.features import rasterize

    rows, cols = _check_grid(shape, transform)
    fp = _as_footprints(footprints, crs)
    shapes = [(g, i + 1) for i, g in enumerate(fp.geometries) if not g.is_empty]
    if not shapes:
        warnings.warn("no footprints to rasterize: the raster is all background", stacklevel=2)
        return np.zeros((rows, cols), dtype=np.int32)
    if require_overlap:
        _check_overlap(fp, (rows, cols), transform, crs)
    return rasterize(shapes, out_shape=(rows, cols), transform=transform, fill=0, all_touched=all_touched,
                     dtype="int32")


def _check_overlap(fp: Footprints, shape, transform, crs, what: str = "footprints") -> None:
    import shapely
    from rasterio.transform import array_bounds
    from shapely.geometry import box

    south_west_east_north = array_bounds(shape[0], shape[1], transform)
    west, south, east, north = south_west_east_north
    tile = box(west, south, east, north)
    geoms = np.array([g for g in fp.geometries if not g.is_empty], dtype=object)
    if geoms.size and not shapely.intersects(geoms, tile).any():
        gw, gs, ge, gn = shapely.total_bounds(geoms)
        raise CRSError(
            f"none of the {geoms.size} {what} overlaps the raster: the raster covers "
            f"x {west:.6g}..{east:.6g}, y {south:.6g}..{north:.6g} in {crs}, the {what} "
            f"x {gw:.6g}..{ge:.6g}, y {gs:.6g}..{gn:.6g} in {fp.crs if fp.crs is not None else crs}. "
            "The GeoJSON probably declares the wrong CRS (none means lon/lat CRS84): pass the right "
            "`crs=` when reading it, or pass require_overlap=False if this tile truly has none"
        )


def rasterize_footprints(footprints, shape: tuple[int, int], transform, crs=None, *,
                         border_px: int | None = None, all_touched: bool = False,
                         require_overlap: bool = True) -> np.ndarray:
    """Rasterize footprints to a building mask, optionally with a border class.

    Parameters
    ----------
    footprints : Footprints or sequence of shapely geometries
        See :func:`instance_raster` (reprojected to ``crs`` when they carry a CRS).
    shape : (rows, cols)
    transform : affine.Affine
        The raster's transform.
    crs : CRS-like, optional
        The raster's CRS.
    border_px : int, optional
        Width in pixels of a ``BORDER`` band along the inside of every building outline, also where
        two buildings touch. Outlines cut by the tile edge get no border. Without it the whole
        footprint is ``BUILDING``.

        The buildings study does not train on a border class: it draws each outline 2 px thick,
        subtracts it from the building mask and trains on two channels (background, building), so
        its border pixels count as *background*. To reproduce that target, map ``BORDER`` to
        ``BACKGROUND``; geonb's two-class notebook run instead keeps the whole footprint as building.
    all_touched, require_overlap : bool
        See :func:`instance_raster`.

    Returns
    -------
    ndarray of uint8, shape (rows, cols)
        ``BACKGROUND`` (0), ``BUILDING`` (1) and, with ``border_px``, ``BORDER`` (2).

    Examples
    --------
    >>> from affine import Affine
    >>> from shapely.geometry import box
    >>> m = rasterize_footprints([box(2, -8, 8, -2)], (10, 10), Affine(1, 0, 0, 0, -1, 0), "EPSG:3857",
    ...                          border_px=1)
    >>> int((m == BUILDING).sum()), int((m == BORDER).sum())
    (16, 20)
    """
    from scipy import ndimage

    if border_px is not None and (int(border_px) != border_px or border_px < 1):
        raise InvalidParameterError(f"`border_px` must be a whole number >= 1 or None, got {border_px!r}")
    inst = instance_raster(footprints, shape, transform, crs, all_touched=all_touched,
                           require_overlap=require_overlap)
    mask = np.where(inst > 0, BUILDING, BACKGROUND).astype(np.uint8)
    if border_px:
        size = 2 * int(border_px) + 1
        # A building pixel is on a border when another id (or background) lies within border_px;
        # mode="nearest" keeps outlines cut by the tile edge border-free.
        hi = ndimage.maximum_filter(inst, size=size, mode="nearest")
        lo = ndimage.minimum_filter(inst, size=size, mode="nearest")
        mask[(inst > 0) & (hi != lo)] = BORDER
    return mask


#: Vector formats geonb cannot read without fiona/pyogrio (not dependencies): convert them to GeoJSON.
_OTHER_VECTOR_SUFFIXES = (".gpkg", ".shp", ".kml", ".gml", ".fgb", ".sqlite", ".zip", ".parquet", ".geoparquet")


def _read_vector_file(path, layer=None) -> Footprints:
    """Polygons and their attributes from a GeoPackage, shapefile, FlatGeobuf... with pyogrio (GDAL/OGR).

    A file with several layers needs ``layer`` (a GeoPackage often holds more than the training polygons).
    """
    import shapely

    if not path.exists():
        raise InvalidParameterError(f"`polygons` file {str(path)!r} does not exist; check the path")
    try:
        from pyogrio.errors import DataSourceError
        from pyogrio.raw import read
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InvalidParameterError(
            f"reading {path.suffix} files needs pyogrio (pip install pyogrio), or convert to GeoJSON"
        ) from exc
    try:
        from pyogrio import list_layers

        layers = [str(name) for name, _ in list_layers(path)]
        if layer is None and len(layers) > 1:
            raise InvalidParameterError(
                f"`polygons` file {str(path)!r} holds {len(layers)} layers {layers}; say which holds the training "
                "polygons: geonb.labels.load_polygons(path, layer=...) (CLI: --layer)"
            )
        if layer is not None and str(layer) not in layers:
            raise InvalidParameterError(f"`layer` {layer!r} is not in {str(path)!r}; its layers are {layers}")
        meta, _, wkb, fields = read(path, layer=layer)
    except DataSourceError as exc:
        raise GeoJSONError(f"`polygons` file {str(path)!r} cannot be read as vector data ({exc})") from exc
    names = list(meta.get("fields") or [])
    geoms, props, skipped = [], [], 0
    for i, blob in enumerate(wkb):
        g = shapely.from_wkb(blob) if blob is not None else None
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            skipped += 1
            continue
        if not g.is_valid:
            g = polygonal_part(shapely.make_valid(g))
        geoms.append(shapely.force_2d(g))
        props.append({n: (v.item() if hasattr(v, "item") else v) for n, v in zip(names, (f[i] for f in fields),
                                                                                    strict=True)})
    if skipped:
        warnings.warn(f"{skipped} features of {str(path)!r} are not polygons and were skipped", stacklevel=3)
    return Footprints(geoms, props, crs=meta.get("crs") or None, n_skipped=skipped)


def load_polygons(polygons, *, crs=None, layer: str | None = None) -> Footprints:
    """Training polygons with their properties, from Footprints, a GeoJSON object/text or a vector file.

    ``crs`` reprojects them (:meth:`Footprints.to_crs`); GeoJSON without a ``crs`` member is lon/lat.
    ``layer`` names the layer of a GeoPackage (or other multi-layer file) that holds them.
    """
    import os
    from pathlib import Path

    if layer is not None:
        if not isinstance(polygons, (str, os.PathLike)) or Path(polygons).suffix.lower() not in _OTHER_VECTOR_SUFFIXES:
            raise InvalidParameterError("`layer` is for a GeoPackage or other multi-layer vector file path")
        fp = _read_vector_file(Path(polygons), layer)
    else:
        fp = _label_polygons(polygons, None)
    if crs is not None:
        crs = as_crs(crs, name="crs")
        fp = replace(fp, crs=crs) if fp.crs is None else fp.to_crs(crs)
    return fp


def split_polygons(polygons, *, field: str = "class", fractions=None, seed: int = 0) -> dict[str, Footprints]:
    """Split training polygons into train/val/test, **by polygon**, seeded and stratified by class.

    No polygon is in two splits: the study's split-by-lake rule for one scene (pixels of one polygon are
    strongly correlated, so scoring on pixels of training polygons would flatter a model). Each class's
    polygons are shuffled (seeded) and dealt out by ``fractions``; a class with at least as many polygons
    as splits gets at least one polygon in every split, else train comes first, then test, then val.

    Parameters
    ----------
    polygons : Footprints, GeoJSON dict/text or path
        Polygons with a class in property ``field`` (also a GeoPackage, shapefile or FlatGeobuf path).
    field : str
        The property holding the class (name or code).
    fractions : dict of split name to share, optional
        Default ``{"train": 0.6, "val": 0.2, "test": 0.2}``; shares in [0, 1] summing to 1.
    seed : int

    Returns
    -------
    dict of str to Footprints
        One entry per split (possibly holding 0 polygons); each polygon's properties gain ``split``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> fp = Footprints([box(i, 0, i + 1, 1) for i in range(10)], [{"class": "water" if i < 5 else "land"}
    ...                 for i in range(10)], crs="EPSG:32633")
    >>> {k: len(v) for k, v in split_polygons(fp, seed=0).items()}
    {'train': 6, 'val': 2, 'test': 2}
    """
    fractions = dict(fractions) if fractions is not None else {"train": 0.6, "val": 0.2, "test": 0.2}
    if not fractions or any(not isinstance(k, str) for k in fractions):
        raise InvalidParameterError(f"`fractions` must map split names to shares, got {fractions!r}")
    shares = np.array([float(v) if not isinstance(v, bool) else np.nan for v in fractions.values()])
    if not np.all(np.isfinite(shares)) or (shares < 0).any() or abs(shares.sum() - 1) > 1e-6:
        raise InvalidParameterError(f"`fractions` must be shares in [0, 1] summing to 1, got {fractions!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidParameterError(f"`seed` must be an int, got {seed!r}")
    fp = _label_polygons(polygons, None)
    if not isinstance(field, str) or not field:
        raise InvalidParameterError(f"`field` must be the name of a property, e.g. 'class', got {field!r}")
    missing = [i for i, p in enumerate(fp.properties) if p.get(field) is None]
    if missing:
        raise GeoJSONError(
            f"{len(missing)} polygons (e.g. polygon {missing[0]}) have no {field!r} property; every polygon "
            f"needs a class (properties of polygon {missing[0]}: {sorted(fp.properties[missing[0]])})"
        )
    names = list(fractions)
    order = [n for n in ("train", "test", "val") if n in names] + [n for n in names if n not in ("train", "test",
                                                                                                   "val")]
    rng = np.random.default_rng(int(seed))
    assign = np.empty(len(fp), dtype=object)
    classes = list(dict.fromkeys(str(p[field]) for p in fp.properties))
    for cls in classes:
        idx = np.array([i for i, p in enumerate(fp.properties) if str(p[field]) == cls])
        rng.shuffle(idx)
        n = len(idx)
        counts = {k: int(np.floor(fractions[k] * n)) for k in names}
        rest = n - sum(counts.values())
        for k in sorted(names, key=lambda k: -(fractions[k] * n - np.floor(fractions[k] * n))):
            if rest <= 0:
                break
            counts[k] += 1
            rest -= 1
        wanted = [k for k in order if fractions[k] > 0]
        if n < len(wanted):  # too few polygons for every split: train first, then test, then val
            counts = {k: int(k in wanted[:n]) for k in names}
        for k in wanted:  # at least one polygon per split when the class has enough
            if counts[k] == 0 and n >= len(wanted):
                donor = max(wanted, key=lambda d: counts[d])
                if counts[donor] > 1:
                    counts[donor] -= 1
                    counts[k] += 1
        start = 0
        for k in order:
            assign[idx[start:start + counts[k]]] = k
            start += counts[k]
    out = {}
    for k in names:
        sel = [i for i in range(len(fp)) if assign[i] == k]
        out[k] = replace(fp, geometries=[fp.geometries[i] for i in sel],
                         properties=[{**fp.properties[i], "split": k} for i in sel])
    return out


def _label_polygons(polygons, crs) -> Footprints:
    """Footprints (with properties) from Footprints, a GeoJSON object/text or a GeoJSON file path."""
    import os
    from pathlib import Path

    if isinstance(polygons, Footprints):
        return polygons
    if isinstance(polygons, dict):
        return parse_footprints(polygons)
    if isinstance(polygons, (str, os.PathLike)):
        text = str(polygons)
        if isinstance(polygons, str) and text.lstrip().startswith("{"):
            return parse_footprints(text)
        path = Path(polygons)
        if path.suffix.lower() in _OTHER_VECTOR_SUFFIXES:
            return _read_vector_file(path)
        from geonb.datasets.spacenet import read_footprints

        return read_footprints(path)
    raise InvalidParameterError(
        "`polygons` must be Footprints, a GeoJSON dict or text, or the path of a GeoJSON file, "
        f"got {type(polygons).__name__}"
    )


def rasterize_labels(polygons, shape: tuple[int, int], transform, crs=None, *, field: str = "class",
                     label_map: dict | None = None, all_touched: bool = False, overlap: str = "error",
                     require_overlap: bool = True, classes: tuple[int, ...] | None = None) -> np.ndarray:
    """Rasterize training polygons carrying a class (a name or an integer) to a ``uint8`` label raster.

    Each polygon's class is read from the property ``field`` and turned into a geonb class code
    through ``label_map`` (e.g. ``{"water": WATER, "forest": LAND}``). Pixels no polygon covers
    get 0 (no label): sparse labels, as hand-drawn training polygons are.

    Polygons are reprojected to ``crs`` (``Footprints.to_crs``); GeoJSON without a ``crs`` member
    is lon/lat (RFC 7946), one with a legacy ``crs`` member is in that CRS.

    Parameters
    ----------
    polygons : Footprints, GeoJSON dict or text, or path of a GeoJSON file
        Polygons with properties. Other vector formats (.gpkg, .shp) are refused with a hint to
        convert them to GeoJSON.
    shape : (rows, cols)
    transform : affine.Affine
        The raster's transform (e.g. ``scene.transform``).
    crs : CRS-like
        The raster's CRS (``scene.crs``). Polygons without a CRS are taken to be in it.
    field : str
        The property holding each polygon's class.
    label_map : dict, optional
        Class (name or value of ``field``) -> geonb class code, an int 0..255. Without it the
        property values must already be integer codes 0..255.
    all_touched : bool
        Burn every pixel a polygon touches, not only those whose centre it covers.
    overlap : {"error", "last"}
        Pixels covered by polygons of *different* classes: ``"error"`` (default) raises
        :class:`ClassCodeError` with the number of such pixels; ``"last"`` lets the later polygon
        (in file order) win. Overlaps of polygons of the same class are always fine.
    require_overlap : bool
        Raise :class:`CRSError` when no polygon overlaps the raster (the usual sign of a wrong CRS).
    classes : tuple of int, optional
        The codes ``label_map`` may map to besides ``NODATA``: default the lake codes (WATER, LAND,
        UNCLASSIFIED), so a typo such as ``{"water": 7}`` is caught. Name the codes of a class scheme
        of your own, e.g. ``classes=(1, 2, 3, 4)`` for four land covers. Only with ``label_map``.

    Returns
    -------
    ndarray of uint8, shape (rows, cols)
        Class codes; 0 where no polygon is.

    Raises
    ------
    InvalidParameterError
        No polygon has the property ``field`` (the message lists the properties they have).
    GeoJSONError
        Some polygon lacks ``field`` (the message names the polygon and the properties it has).
    ClassCodeError
        A class is not in ``label_map`` (names found and the mapping are listed), a class is
        not an integer code 0..255 without ``label_map``, or polygons of different classes overlap.
    CRSError
        No polygon overlaps the raster, or a CRS cannot be parsed.

    Examples
    --------
    >>> from affine import Affine
    >>> from geonb.labels import WATER
    >>> fc = {"type": "FeatureCollection", "features": [
    ...     {"type": "Feature", "properties": {"class": "water"},
    ...      "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, -2], [0, -2], [0, 0]]]}}]}
    >>> lab = rasterize_labels(fc, (4, 4), Affine(1, 0, 0, 0, -1, 0), "EPSG:4326", label_map={"water": WATER})
    >>> lab.sum(axis=1).tolist()
    [4, 4, 0, 0]
    """
    from rasterio.features import rasterize

    rows, cols = _check_grid(shape, transform)
    if overlap not in ("error", "last"):
        raise InvalidParameterError(f"`overlap` must be 'error' or 'last', got {overlap!r}")
    if not isinstance(field, str) or not field:
        raise InvalidParameterError(f"`field` must be the name of a property, e.g. 'class', got {field!r}")
    crs = as_crs(crs, name="crs")
    if classes is not None and label_map is None:
        raise InvalidParameterError("`classes` names the codes of a `label_map`, but none was given; pass both")
    lmap = check_label_map(label_map, keys="any", classes=classes) if label_map is not None else None
    fp = _label_polygons(polygons, crs)
    if fp.crs is None or crs is None:
        fp = replace(fp, crs=crs if fp.crs is None else fp.crs)
    elif fp.crs != crs:
        fp = fp.to_crs(crs)
    if not len(fp):
        raise InvalidParameterError(
            "`polygons` holds no polygons, so there is nothing to rasterize (every pixel would be unlabelled); "
            "check the file"
        )
    if not any(props.get(field) is not None for props in fp.properties):
        # Not one malformed polygon: the argument names a property the polygons do not have.
        names = sorted({k for props in fp.properties for k in props})
        raise InvalidParameterError(
            f"`field` {field!r} is not a property of any of the {len(fp)} polygons (their properties: "
            f"{show_values(names)}); pass the property that holds the class as `field=`"
        )
    codes = []
    for i, props in enumerate(fp.properties):
        if field not in props or props[field] is None:
            raise GeoJSONError(
                f"polygon {i} has no {field!r} property (its properties: {sorted(props)}); give every polygon "
                f"a class in {field!r}, or pass the property that holds it as `field=`"
            )
        codes.append(props[field])
    found = list(dict.fromkeys(codes))
    if lmap is None:
        bad = [v for v in found if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer))
               or not 0 <= int(v) <= 255]
        if bad:
            example = ", ".join(f"{v!r}: ..." for v in found[:4])
            raise ClassCodeError(
                f"the {field!r} values {show_values(bad)} are not class codes (ints 0..255); map each class to a code "
                f"with `label_map=`, e.g. label_map={{{example}}} using WATER=1, LAND=2, UNCLASSIFIED=3 "
                f"(classes found: {show_values(found)})"
            )
        burn = [int(v) for v in codes]
    else:
        missing = [v for v in found if _map_key(v, lmap) is None]
        if missing:
            raise ClassCodeError(
                f"the {field!r} classes {show_values(missing)} are not in `label_map` {lmap!r} (classes found: "
                f"{show_values(found)}); add them to `label_map` (map a class to NODATA=0 to leave it unlabelled)"
            )
        burn = [lmap[_map_key(v, lmap)] for v in codes]
    items = [(g, c) for g, c in zip(fp.geometries, burn, strict=True) if not g.is_empty]
    if require_overlap:
        _check_overlap(fp, (rows, cols), transform, crs, what="polygons")
    if not items:
        return np.zeros((rows, cols), np.uint8)
    if overlap == "error" and len({c for _, c in items}) > 1:
        per_class = np.zeros((rows, cols), np.uint8)
        for code in sorted({c for _, c in items}):
            hit = rasterize([(g, 1) for g, c in items if c == code], out_shape=(rows, cols), transform=transform,
                            fill=0, all_touched=all_touched, dtype="uint8")
            per_class += hit
        n_clash = int((per_class > 1).sum())
        if n_clash:
            raise ClassCodeError(
                f"{n_clash} pixels are covered by polygons of different classes, so their class is ambiguous; "
                "fix the polygons, or pass overlap='last' to let the later polygon win"
            )
    return rasterize(items, out_shape=(rows, cols), transform=transform, fill=0, all_touched=all_touched,
                     dtype="uint8")


def _map_key(value, lmap: dict):
    """The key of ``lmap`` that ``value`` matches (exact; ints and integral floats match), else None."""
    if isinstance(value, (list, dict)):
        return None
    if value in lmap:
        return value
    return None


def pixel_size_m(transform, crs, shape: tuple[int, int] | None = None) -> tuple[float, float]:
    """Ground size of a pixel in metres: ``(row_m, col_m)`` (height, width).

    For a projected CRS the transform's steps are scaled by the CRS's linear unit. For a
    geographic CRS (degrees, as SpaceNet's lon/lat tiles) the steps are measured on the CRS's
    ellipsoid with ``pyproj.Geod`` at the raster centre (``shape`` given) or its origin.

    Examples
    --------
    >>> from affine import Affine
    >>> pixel_size_m(Affine(0.5, 0, 0, 0, -0.5, 0), "EPSG:32633")
    (0.5, 0.5)
    >>> row_m, col_m = pixel_size_m(Affine(1e-5, 0, 10, 0, -1e-5, 60), "EPSG:4326")
    >>> round(row_m, 2), round(col_m, 2)
    (1.11, 0.56)
    """
    import math

    from affine import Affine

    if crs is None:
        raise CRSError(
            "`crs` is None: metres per pixel cannot be known; pass the raster's CRS "
            "(scene.crs, or e.g. 'EPSG:32633')"
        )
    crs = as_crs(crs, name="crs")
    if not isinstance(transform, Affine):
        raise InvalidParameterError(
            f"`transform` must be an affine.Affine (the raster's transform), got {type(transform).__name__}"
        )
    a, b, c, d, e, f = tuple(transform)[:6]
    if crs.is_geographic:
        import pyproj

        geod = pyproj.CRS.from_wkt(crs.to_wkt()).get_geod()
        rows, cols = shape if shape is not None else (0, 0)
        corners = [transform * (cc, rr) for cc, rr in ((0, 0), (cols, 0), (0, rows), (cols, rows))]
        if any(not (-360 <= x <= 360 and -90 <= y <= 90) for x, y in corners):
            raise CRSError(
                f"`crs` {crs.to_string()} is geographic (degrees) but `transform` {tuple(transform)[:6]} puts the "
                f"raster at x {min(x for x, _ in corners):.6g}..{max(x for x, _ in corners):.6g}, "
                f"y {min(y for _, y in corners):.6g}..{max(y for _, y in corners):.6g}, which are not longitudes/"
                "latitudes: the transform is probably in metres. Pass the raster's real CRS (e.g. its UTM zone)"
            )
        x, y = transform * (cols / 2.0, rows / 2.0)
        col_m = geod.inv(x - a / 2, y - d / 2, x + a / 2, y + d / 2)[2]
        row_m = geod.inv(x - b / 2, y - e / 2, x + b / 2, y + e / 2)[2]
        return _check_pixel_size(float(row_m), float(col_m), transform)
    unit = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
    return _check_pixel_size(float(math.hypot(b, e) * unit), float(math.hypot(a, d) * unit), transform)


def _check_pixel_size(row_m: float, col_m: float, transform) -> tuple[float, float]:
    if not (np.isfinite(row_m) and np.isfinite(col_m) and row_m > 0 and col_m > 0):
        raise InvalidParameterError(
            f"`transform` {tuple(transform)[:6]} gives a pixel size of {row_m!r} x {col_m!r} m; a raster "
            "transform needs non-zero pixel steps (use the raster's own transform, e.g. scene.transform)"
        )
    return row_m, col_m


def _building_pixels(mask: np.ndarray, classes, name: str = "mask") -> np.ndarray:
    """True where ``mask`` (bool, or integer class codes) is a building; probabilities are refused."""
    if mask.dtype == bool:
        return mask
    if mask.dtype.kind not in "uif":
        raise ClassCodeError(f"`{name}` must be bool or class codes, got dtype {mask.dtype}")
    if mask.dtype.kind == "f":
        finite = np.isfinite(mask)
        fractional = ~finite | (mask != np.round(np.where(finite, mask, 0)))
        if fractional.any():
            raise ClassCodeError(
                f"`{name}` holds values that are not class codes, e.g. "
                f"{show_values(np.unique(mask[fractional])[:SHOW_VALUES])} "
                f"(dtype {mask.dtype}); for probabilities threshold them first (e.g. `{name} >= 0.5`), or pass "
                "class codes (BUILDING=1, BORDER=2) or a bool mask"
            )
    return np.isin(mask, classes)


def signed_distance(mask: np.ndarray, transform, crs, *, clip_m: float | None = 10.0) -> np.ndarray:
    """Signed distance to the nearest building outline, in metres: inside positive, outside negative.

    ``scipy.ndimage.distance_transform_edt`` measures, for every pixel, the distance from its centre
    to the centre of the nearest pixel on the other side of an outline, with the pixel's ground
    size in metres as ``sampling`` (:func:`pixel_size_m`, correct for lon/lat rasters too). Pixels
    on either side of an outline get about +-1 pixel size. Distances are within the tile only.

    Parameters
    ----------
    mask : ndarray, shape (rows, cols)
        Bool (True = building) or class codes (``BUILDING`` and ``BORDER`` count as building).
    transform : affine.Affine
    crs : CRS-like
        Needed to know metres per pixel.
    clip_m : float or None
        Clip to ``[-clip_m, +clip_m]`` (the usual regression target). With None, a side that has no
        pixel at all in the tile gets the tile diagonal.

    Returns
    -------
    ndarray of float32, shape (rows, cols)

    Examples
    --------
    >>> from affine import Affine
    >>> m = np.zeros((5, 5), bool); m[1:4, 1:4] = True
    >>> signed_distance(m, Affine(2, 0, 0, 0, -2, 0), "EPSG:32633", clip_m=None)[2].tolist()
    [-2.0, 2.0, 4.0, 2.0, -2.0]
    """
    from scipy import ndimage

    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ShapeMismatchError(f"`mask` must be (rows, cols), got shape {mask.shape}")
    if clip_m is not None and not clip_m > 0:
        raise InvalidParameterError(f"`clip_m` must be > 0 metres or None, got {clip_m!r}")
    inside = _building_pixels(mask, (BUILDING, BORDER))
    row_m, col_m = pixel_size_m(transform, crs, mask.shape)
    far = float(np.hypot(mask.shape[0] * row_m, mask.shape[1] * col_m))
    out = np.empty(mask.shape, dtype=np.float32)
    if inside.all() or not inside.any():
        out[:] = far if inside.all() else -far
    else:
        sampling = (row_m, col_m)
        out[:] = ndimage.distance_transform_edt(inside, sampling=sampling)
        outside_d = ndimage.distance_transform_edt(~inside, sampling=sampling)
        out[~inside] = -outside_d[~inside]
    if clip_m is not None:
        np.clip(out, -clip_m, clip_m, out=out)
    return out


def footprints_to_pixels(footprints, transform, crs=None) -> list:
    """Footprints in pixel coordinates ``(col, row)`` of a raster, e.g. to draw them over its image.

    The inverse of the raster transform is applied with ``shapely.affinity.affine_transform``
    after reprojecting to ``crs``. Pixel (0, 0)'s top-left corner is ``(0, 0)``; with matplotlib's
    ``imshow`` (which puts pixel centres at integers) shift by -0.5.

    Returns
    -------
    list of shapely geometries
    """
    from affine import Affine, TransformNotInvertibleError
    from shapely.affinity import affine_transform

    if not isinstance(transform, Affine):
        raise InvalidParameterError(
            f"`transform` must be an affine.Affine (the raster's transform), got {type(transform).__name__}"
        )
    fp = _as_footprints(footprints, crs)
    try:
        inv = ~transform
    except TransformNotInvertibleError as exc:
        raise InvalidParameterError(
            f"`transform` {tuple(transform)[:6]} cannot be inverted (a pixel size of 0); use the raster's own "
            "transform (scene.transform)"
        ) from exc
    coeffs = [inv.a, inv.b, inv.d, inv.e, inv.c, inv.f]
    return [affine_transform(g, coeffs) for g in fp.geometries]


def mask_to_polygons(mask: np.ndarray, transform, crs, *, min_area_m2: float = 5.0,
                     simplify_m: float | None = 0.5, classes: tuple[int, ...] = (BUILDING, BORDER),
                     connectivity: int = 4) -> Footprints:
    """Vectorize a building mask into footprint polygons in the raster's CRS.

    Connected building regions become polygons (``rasterio.features.shapes``); regions smaller
    than ``min_area_m2`` (specks) are dropped and holes smaller than it are filled; outlines are
    simplified (Douglas-Peucker, ``preserve_topology``) with tolerance ``simplify_m``.

    Parameters
    ----------
    mask : ndarray, shape (rows, cols)
        Bool (True = building) or class codes; pixels whose code is in ``classes`` are building.
        Fractions (probabilities) are a :class:`ClassCodeError`: threshold them first.
    transform : affine.Affine
    crs : CRS-like
        The raster's CRS; the polygons are returned in it.
    min_area_m2 : float
        Smallest building kept, in square metres.
    simplify_m : float or None
        Simplification tolerance in metres; None keeps the pixel staircase.
    classes : tuple of int
        Codes counted as building in an integer mask.
    connectivity : {4, 8}
        Pixel connectivity of a region.

    Returns
    -------
    Footprints
        Properties per polygon: ``id`` (from 1), ``area_m2``, ``pixels``.

    Examples
    --------
    >>> from affine import Affine
    >>> m = np.zeros((20, 20), bool); m[2:8, 2:10] = True; m[15, 15] = True
    >>> fp = mask_to_polygons(m, Affine(0.5, 0, 0, 0, -0.5, 0), "EPSG:32633", min_area_m2=1.0)
    >>> len(fp), fp.properties[0]["area_m2"]
    (1, 12.0)
    """
    import shapely
    from rasterio.features import shapes
    from shapely.affinity import affine_transform
    from shapely.geometry import Polygon, shape

    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ShapeMismatchError(f"`mask` must be (rows, cols), got shape {mask.shape}")
    if connectivity not in (4, 8):
        raise InvalidParameterError(f"`connectivity` must be 4 or 8, got {connectivity!r}")
    if min_area_m2 < 0:
        raise InvalidParameterError(f"`min_area_m2` must be >= 0, got {min_area_m2!r}")
    if simplify_m is not None and simplify_m < 0:
        raise InvalidParameterError(f"`simplify_m` must be >= 0 or None, got {simplify_m!r}")
    fg = _building_pixels(mask, classes)
    row_m, col_m = pixel_size_m(transform, crs, mask.shape)
    px_area = row_m * col_m
    min_px = min_area_m2 / px_area
    tol_px = (simplify_m / min(row_m, col_m)) if simplify_m else 0.0
    coeffs = [transform.a, transform.b, transform.d, transform.e, transform.c, transform.f]

    geoms, props = [], []
    # Vectorize in pixel space (exact pixel edges), simplify there, then place with the transform.
    for geom, _ in shapes(fg.astype(np.uint8), mask=fg, connectivity=connectivity):
        poly = shape(geom)
        if poly.area < min_px:
            continue
        holes = [r for r in poly.interiors if Polygon(r).area >= min_px]
        poly = Polygon(poly.exterior, holes)
        if tol_px:
            poly = poly.simplify(tol_px, preserve_topology=True)
        if not poly.is_valid:
            poly = polygonal_part(shapely.make_valid(poly))
        if poly.is_empty:
            continue
        geoms.append(affine_transform(poly, coeffs))
        props.append({"id": len(geoms), "area_m2": round(float(poly.area * px_area), 3),
                      "pixels": int(round(shape(geom).area))})
    return Footprints(geoms, props, crs)


def polygons_to_geojson(footprints, crs=None, *, precision: int = 7, properties: bool = True) -> dict:
    """A GeoJSON FeatureCollection of footprints in lon/lat (RFC 7946: WGS 84, no ``crs`` member).

    Parameters
    ----------
    footprints : Footprints or sequence of shapely geometries
        Geometries without a CRS are taken to be in ``crs``.
    crs : CRS-like, optional
        CRS of plain geometries.
    precision : int
        Decimal places of the coordinates (7 is about 1 cm), >= 0.
    properties : bool
        Copy each footprint's properties.

    Returns
    -------
    dict
        ``json.dump`` it, or write it with ``geonb.datasets.spacenet.write_footprints``.
    """
    from shapely.geometry import mapping

    if isinstance(precision, (bool, np.bool_)) or not isinstance(precision, (int, np.integer)) or precision < 0:
        raise InvalidParameterError(
            f"`precision` must be a whole number of decimal places >= 0, got {precision!r}; 7 (about 1 cm in "
            "lon/lat) is the default"
        )
    fp = _as_footprints(footprints, crs)
    if fp.crs is None:
        raise CRSError("the footprints have no CRS; pass `crs=` (the raster's CRS) so they can be put in lon/lat")
    fp = fp.to_crs(GEOJSON_DEFAULT_CRS)
    features = []
    for g, p in zip(fp.geometries, fp.properties, strict=True):
        if g.is_empty:
            continue
        geom = _round_coords(mapping(g), precision)
        features.append({"type": "Feature", "properties": dict(p) if properties else {}, "geometry": geom})
    return {"type": "FeatureCollection", "features": features}


def _round_coords(obj, precision: int):
    if isinstance(obj, dict):
        return {k: _round_coords(v, precision) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round_coords(v, precision) for v in obj]
    if isinstance(obj, float):
        return round(obj, precision)
    return obj
