"""Tests of geonb.export: class map / probability COGs, class polygons with areas, the atomic set.

QGIS-level checks: every file is reopened with rasterio (or parsed as GeoJSON) and checked for what a
GIS shows: COG layout, CRS and transform, colour table, overviews, nodata, band names, areas.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from affine import Affine

from geonb import export
from geonb.classes import ClassScheme, scheme_for_codes
from geonb.errors import (
    ClassCodeError,
    CRSError,
    InvalidParameterError,
    OutputExistsError,
    ShapeMismatchError,
)
from geonb.prediction import Prediction
from geonb.scene import Scene

SCHEME = ClassScheme.from_names(["water", "forest", "cleared"])
UTM = Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 300_000.0)  # UTM 22N, about 2.7° N 51° W


def _blobs(shape, codes=(1, 2, 3), seed=0) -> np.ndarray:
    """Smooth random regions of ``codes`` (deterministic), like a real class map."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.normal(size=shape), 6)
    edges = np.quantile(field, np.linspace(0, 1, len(codes) + 1)[1:-1])
    return np.asarray(codes, np.uint8)[np.digitize(field, edges)]


def _prediction(classes: np.ndarray, codes=(1, 2, 3), nodata=None, name="scene") -> Prediction:
    nodata = np.zeros(classes.shape, bool) if nodata is None else nodata
    probs = np.stack([(classes == c).astype(np.float32) * 0.8 + 0.2 / len(codes) for c in codes], -1)
    probs /= probs.sum(-1, keepdims=True)
    probs[nodata] = 0
    classes = np.where(nodata, 0, classes).astype(np.uint8)
    return Prediction(probs, classes, tuple(codes), nodata, name=name)


def _scene(shape, transform=UTM, crs="EPSG:32622", name="my scene") -> Scene:
    return Scene(np.zeros(shape + (1,), np.float32), crs=crs, transform=transform, name=name)


def transform_row_lat(transform, row: int) -> float:
    return (transform * (0.5, row + 0.5))[1]


def _geod_pixel_area_per_row(transform, rows, ellps="WGS84") -> np.ndarray:
    """Independent reference: the area of one pixel of each row, by pyproj.Geod (geodesic polygon)."""
    import pyproj

    geod = pyproj.Geod(ellps=ellps)
    out = []
    for r in range(rows):
        corners = [transform * (c, rr) for c, rr in ((0, r), (1, r), (1, r + 1), (0, r + 1))]
        lons, lats = zip(*corners, strict=True)
        out.append(abs(geod.polygon_area_perimeter(lons, lats)[0]))
    return np.array(out)


# ---- class map COG ---------------------------------------------------------------------------
def test_class_map_is_a_cog_with_colour_table_names_and_overviews(tmp_path):
    classes = _blobs((600, 700))
    classes[:40, :60] = 0
    p = export.write_class_map(classes, tmp_path / "classes.tif", transform=UTM, crs="EPSG:32622", scheme=SCHEME)
    with rasterio.open(p) as ds:
        assert ds.driver == "GTiff" and ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.tags(ns="IMAGE_STRUCTURE")["COMPRESSION"] == "DEFLATE"
        assert ds.crs == rasterio.crs.CRS.from_epsg(32622) and ds.transform == UTM
        assert ds.dtypes == ("uint8",) and ds.nodata == 0 and ds.count == 1
        assert ds.block_shapes == [(export.COG_BLOCKSIZE, export.COG_BLOCKSIZE)]
        assert ds.overviews(1) == [2, 4], "700 px, 256-px tiles: overviews until one tile holds it (175 px)"
        cmap = ds.colormap(1)
        assert {c: cmap[c] for c in SCHEME.rgba_table()} == SCHEME.rgba_table()
        assert cmap[0][3] == 0  # no data is transparent
        assert ds.descriptions == ("class",)
        tags = ds.tags()
        assert (tags["CLASS_1"], tags["CLASS_2"], tags["CLASS_3"]) == ("water", "forest", "cleared")
        assert ClassScheme.from_dict(json.loads(tags["CLASS_SCHEME"])) == SCHEME
        np.testing.assert_array_equal(ds.read(1), classes)


def test_class_overviews_use_mode_never_an_average_of_codes(tmp_path):
    scheme = ClassScheme.from_names(["water", "forest"], codes=[1, 5])
    classes = np.where(np.indices((600, 600)).sum(0) % 2 == 0, 1, 5).astype(np.uint8)  # checkerboard
    p = export.write_class_map(classes, tmp_path / "c.tif", transform=UTM, crs="EPSG:32622", scheme=scheme)
    with rasterio.open(p) as ds:
        assert ds.overviews(1)
        low = ds.read(1, out_shape=(150, 150))  # served from the overviews
    assert set(np.unique(low).tolist()) <= {1, 5}  # an average would give 3


def test_class_map_without_names_is_named_by_code(tmp_path):
    classes = _blobs((40, 50), codes=(4, 9))
    scheme = scheme_for_codes((4, 9))
    p = export.write_class_map(classes, tmp_path / "c.tif", transform=UTM, crs="EPSG:32622", scheme=scheme)
    with rasterio.open(p) as ds:
        assert ds.tags()["CLASS_4"] == "class 4" and ds.overviews(1) == []  # below one tile: no overviews


# ---- probabilities COG -----------------------------------------------------------------------
def test_probabilities_cog_float32_nan_nodata_band_names(tmp_path):
    classes = _blobs((520, 530))
    nodata = np.zeros(classes.shape, bool)
    nodata[-30:, :20] = True
    pred = _prediction(classes, nodata=nodata)
    p = export.write_probabilities(pred, tmp_path / "p.tif", transform=UTM, crs="EPSG:32622", scheme=SCHEME)
    with rasterio.open(p) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.dtypes == ("float32",) * 3 and np.isnan(ds.nodata)
        assert ds.descriptions == ("probability of water", "probability of forest", "probability of cleared")
        assert ds.tags(2) == {"CLASS_CODE": "2", "CLASS_NAME": "forest"}
        assert ds.overviews(1) == [2, 4] and ds.transform == UTM
        data = ds.read()
    assert np.isnan(data[:, nodata]).all()
    np.testing.assert_array_equal(np.moveaxis(data, 0, -1)[~nodata], pred.probabilities[~nodata])


def _geodesic_km2(poly, crs) -> float:
    """Ground area of a polygon in a projected CRS, independently: its vertices to lon/lat, then pyproj.Geod."""
    import shapely
    from pyproj import CRS as PCRS
    from pyproj import Geod, Transformer

    pcrs = PCRS.from_user_input(crs)
    to_ll = Transformer.from_crs(pcrs, pcrs.geodetic_crs, always_xy=True)
    lonlat = shapely.transform(poly.segmentize(30), lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1])))
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(lonlat)
    return abs(area) / 1e6


# ---- polygon areas ---------------------------------------------------------------------------
def test_utm_polygon_areas_are_pixel_count_times_pixel_area():
    classes = _blobs((120, 150))
    fp = export.class_polygons(classes, UTM, "EPSG:32622", SCHEME)
    assert fp.crs == rasterio.crs.CRS.from_epsg(32622)
    for code, name in zip(SCHEME.codes, SCHEME.names, strict=True):
        props = [p for p in fp.properties if p["code"] == code]
        assert props and all(p["class"] == name for p in props)
        assert sum(p["pixels"] for p in props) == int((classes == code).sum())
        for p in props:  # planar 900 m2 per pixel, corrected by UTM's scale (< 0.2 % inside a zone)
            assert p["area_km2"] == pytest.approx(p["pixels"] * 900 / 1e6, rel=2e-3)
    for g, p in zip(fp.geometries, fp.properties, strict=True):  # the polygons are where the pixels are
        assert g.area == pytest.approx(p["pixels"] * 900)
        assert p["area_km2"] == pytest.approx(_geodesic_km2(g, "EPSG:32622"), rel=2e-4)  # the ground area


def test_polygon_areas_in_us_feet_are_converted_to_square_metres():
    ft = 1200 / 3937  # US survey foot
    t = Affine(100.0, 0, 1_000_000.0, 0, -100.0, 200_000.0)  # 100 ft pixels
    classes = np.ones((10, 10), np.uint8)
    fp = export.class_polygons(classes, t, "EPSG:2263", SCHEME)
    assert fp.properties[0]["area_km2"] == pytest.approx(100 * (100 * ft) ** 2 / 1e6, rel=1e-3)
    assert fp.properties[0]["area_km2"] == pytest.approx(_geodesic_km2(fp.geometries[0], "EPSG:2263"), rel=2e-4)


def test_web_mercator_areas_are_ground_areas_not_map_areas():
    t = Affine(1000.0, 0, 0.0, 0, -1000.0, 8_399_738.0)  # 1 km map pixels near 60 degrees north
    fp = export.class_polygons(np.ones((5, 5), np.uint8), t, "EPSG:3857", SCHEME)
    ground = _geodesic_km2(fp.geometries[0], "EPSG:3857")
    assert ground == pytest.approx(25 / 4, rel=0.02)  # a quarter of the map area at 60 degrees
    # within 1 %: Web Mercator is spherical, the geodesic check ellipsoidal (the map area would be 300 % off)
    assert fp.properties[0]["area_km2"] == pytest.approx(ground, rel=1e-2)
    assert export.pixel_areas_m2(t, "EPSG:3857", (5, 5)).sum() / 1e6 == pytest.approx(ground, rel=1e-2)


@pytest.mark.parametrize("lat", [0.5, 60.0, -60.0])
def test_geographic_areas_match_an_independent_geodesic_computation(lat):
    import pyproj

    t = Affine(0.01, 0, 10.0, 0, -0.01, lat + 0.4)  # 80 x 90 pixels of 0.01° (about 1.1 km)
    classes = _blobs((80, 90), seed=3)
    fp = export.class_polygons(classes, t, "EPSG:4326", SCHEME)
    per_row = _geod_pixel_area_per_row(t, classes.shape[0])
    geod = pyproj.Geod(ellps="WGS84")
    for code in SCHEME.codes:
        got = sum(p["area_km2"] for p in fp.properties if p["code"] == code) * 1e6
        want = float(((classes == code).sum(axis=1) * per_row).sum())
        assert got == pytest.approx(want, rel=0.005)
    big = max(range(len(fp)), key=lambda i: fp.properties[i]["pixels"])
    # the largest polygon, with edges densified so geodesics follow the parallels
    dense = fp.geometries[big].segmentize(0.001)
    assert fp.properties[big]["area_km2"] * 1e6 == pytest.approx(abs(geod.geometry_area_perimeter(dense)[0]),
                                                                 rel=0.005)
    # the areas are not "pixels x one pixel area": pixels shrink towards the pole
    areas = export.pixel_areas_m2(t, "EPSG:4326", classes.shape)
    np.testing.assert_allclose(areas[:, 0], per_row, rtol=1e-4)
    first, last = (transform_row_lat(t, r) for r in (0, classes.shape[0] - 1))
    assert areas[0, 0] / areas[-1, 0] == pytest.approx(np.cos(np.radians(first)) / np.cos(np.radians(last)),
                                                       rel=2e-3)
    if abs(lat) > 1:
        assert abs(areas[0, 0] / areas[-1, 0] - 1) > 0.01


def test_min_area_and_classes_wanted_and_nodata():
    classes = np.full((20, 20), 2, np.uint8)
    classes[2:4, 2:4] = 1  # 4 px = 3600 m²
    classes[10:18, 10:18] = 1  # 64 px
    nodata = np.zeros_like(classes, bool)
    nodata[:, -1] = True
    fp = export.class_polygons(classes, UTM, "EPSG:32622", SCHEME, classes_wanted=[1], min_area_m2=4000)
    assert [p["pixels"] for p in fp.properties] == [64]
    fp = export.class_polygons(classes, UTM, "EPSG:32622", SCHEME, classes_wanted=[2], nodata_mask=nodata)
    assert sum(p["pixels"] for p in fp.properties) == 400 - 4 - 64 - 20  # the last column is nodata


def test_polygons_geojson_is_rfc7946_lonlat(tmp_path):
    classes = _blobs((60, 70))
    fp = export.class_polygons(classes, UTM, "EPSG:32622", SCHEME)
    p = export.write_class_polygons(fp, tmp_path / "poly.geojson")
    obj = json.loads(p.read_text())
    assert obj["type"] == "FeatureCollection" and "crs" not in obj
    assert len(obj["features"]) == len(fp)
    lon, lat = obj["features"][0]["geometry"]["coordinates"][0][0]
    assert -52 < lon < -50 and 2.5 < lat < 2.8  # northing 300,000 m in UTM 22N: about 2.7° N, 51° W
    assert set(obj["features"][0]["properties"]) == {"id", "class", "code", "pixels", "area_km2"}
    with pytest.raises(OutputExistsError):
        export.write_class_polygons(fp, tmp_path / "poly.geojson")


# ---- the set ---------------------------------------------------------------------------------
def test_export_prediction_writes_the_set(tmp_path):
    classes = _blobs((300, 280))
    scene = _scene(classes.shape)
    paths = export.export_prediction(_prediction(classes), scene, tmp_path / "out", scheme=SCHEME)
    assert set(paths) == set(export.EXPORT_KINDS)
    assert paths["classes"].name == "my_scene_classes.tif"
    for kind in ("classes", "probabilities"):
        with rasterio.open(paths[kind]) as ds:
            assert ds.transform == scene.transform and ds.crs == scene.crs
            assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG" and ds.overviews(1) == [2]
    feats = json.loads(paths["polygons"].read_text())["features"]
    assert sum(f["properties"]["pixels"] for f in feats) == classes.size
    assert {f["properties"]["class"] for f in feats} == set(SCHEME.names)
    # without a scheme, the prediction's codes name the classes
    paths = export.export_prediction(_prediction(classes), scene, {"classes": tmp_path / "x.tif"})
    assert list(paths) == ["classes"]
    with rasterio.open(paths["classes"]) as ds:
        assert ds.tags()["CLASS_1"] == "water"  # scheme_for_codes: lakes codes keep lakes names


def test_failure_while_writing_the_second_file_changes_nothing(tmp_path, monkeypatch):
    classes = _blobs((64, 64))
    scene, pred = _scene(classes.shape), _prediction(classes)
    out = {"classes": tmp_path / "c.tif", "probabilities": tmp_path / "p.tif", "polygons": tmp_path / "g.geojson"}

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "_write_probabilities_cog", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        export.export_prediction(pred, scene, out, scheme=SCHEME)
    assert list(tmp_path.iterdir()) == []  # no file, no temporary left behind
    for p in out.values():
        p.write_bytes(b"the researcher's old file " + p.name.encode())
    with pytest.raises(RuntimeError, match="disk full"):
        export.export_prediction(pred, scene, out, scheme=SCHEME, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.tif", "g.geojson", "p.tif"]
    for p in out.values():
        assert p.read_bytes() == b"the researcher's old file " + p.name.encode()


def test_existing_output_refuses_the_whole_set(tmp_path):
    classes = _blobs((32, 32))
    (tmp_path / "my_scene_polygons.geojson").write_text("old")
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        export.export_prediction(_prediction(classes), _scene(classes.shape), tmp_path, scheme=SCHEME)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_scene_polygons.geojson"]
    assert (tmp_path / "my_scene_polygons.geojson").read_text() == "old"
    paths = export.export_prediction(_prediction(classes), _scene(classes.shape), tmp_path, scheme=SCHEME,
                                     overwrite=True)
    assert json.loads(paths["polygons"].read_text())["type"] == "FeatureCollection"


def test_same_path_twice_is_refused_before_writing(tmp_path):
    classes = _blobs((32, 32))
    out = {"classes": tmp_path / "a.tif", "probabilities": tmp_path / "sub" / ".." / "a.tif"}
    with pytest.raises(InvalidParameterError, match="same file"):
        export.export_prediction(_prediction(classes), _scene(classes.shape), out, scheme=SCHEME, polygons=False)
    assert list(tmp_path.iterdir()) == []


# ---- a real scene's grid ---------------------------------------------------------------------
def test_sentinel2_ndwi_export_areas_are_geodesic(realdata, tmp_path):
    """Sentinel-2 near Obidos (EPSG:4326): water by NDWI > 0, exported; areas against pyproj.Geod."""
    path = realdata / "sentinel2-obidos" / "S2_obidos_B1-B12_reflectance.tif"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with rasterio.open(path) as ds:
        green = ds.read(ds.descriptions.index("B3") + 1)
        nir = ds.read(ds.descriptions.index("B8") + 1)
        transform, crs = ds.transform, ds.crs
    nodata = ~(np.isfinite(green) & np.isfinite(nir))
    with np.errstate(invalid="ignore", divide="ignore"):
        ndwi = (green - nir) / (green + nir)
    scheme = ClassScheme.from_names(["water", "land"])
    classes = np.where(nodata, 0, np.where(ndwi > 0, 1, 2)).astype(np.uint8)
    assert 0.05 < (classes == 1).mean() < 0.95  # the Amazon is there
    probs = np.stack([(classes == 1), (classes == 2)], -1).astype(np.float32)
    pred = Prediction(probs, classes, (1, 2), nodata, name="obidos")
    scene = Scene(np.stack([green, nir], -1), band_names=("green", "nir"), crs=crs, transform=transform,
                  nodata_mask=nodata, name="obidos")
    paths = export.export_prediction(pred, scene, tmp_path, scheme=scheme)
    with rasterio.open(paths["classes"]) as ds:
        assert ds.crs == crs and ds.transform == transform and ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        np.testing.assert_array_equal(ds.read(1), classes)
        assert ds.colormap(1)[1] == scheme.rgba_table()[1]
    feats = json.loads(paths["polygons"].read_text())["features"]
    per_row = _geod_pixel_area_per_row(transform, classes.shape[0])
    for code in (1, 2):
        got = sum(f["properties"]["area_km2"] for f in feats if f["properties"]["code"] == code) * 1e6
        want = float(((classes == code).sum(axis=1) * per_row).sum())
        assert got == pytest.approx(want, rel=0.005)
    assert all(-56.4 < f["geometry"]["coordinates"][0][0][0] < -56.3 for f in feats)  # lon/lat near Obidos


def test_landsat_utm_grid_with_negative_northings_roundtrips(realdata, tmp_path):
    path = realdata / "landsat5-tucurui" / "LT05_224063_19880814_B1-7.tif"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with rasterio.open(path) as ds:
        transform, crs, shape = ds.transform, ds.crs, ds.shape
    classes = _blobs(shape, codes=(1, 2, 3, 4))
    scheme = ClassScheme.from_names(["water", "cleared", "forest", "fallen_dry"])
    p = export.write_class_map(classes, tmp_path / "tucurui.tif", transform=transform, crs=crs, scheme=scheme)
    with rasterio.open(p) as ds:
        assert ds.crs == crs and ds.transform == transform and ds.overviews(1) == [2]
    fp = export.class_polygons(classes, transform, crs, scheme, classes_wanted=[1])
    assert sum(pp["area_km2"] for pp in fp.properties) == pytest.approx((classes == 1).sum() * 900 / 1e6, rel=2e-3)
    for g, pp in zip(fp.geometries, fp.properties, strict=True):
        assert pp["area_km2"] == pytest.approx(_geodesic_km2(g, crs.to_wkt()), rel=2e-4)


# ---- bad inputs (catalogue style: each names the argument and the fix) ------------------------
GOOD = _blobs((20, 20))


@pytest.mark.parametrize("call, error, match", [
    (lambda d: export.write_class_map(GOOD[..., None].repeat(3, -1), d / "a.tif", transform=UTM,
                                      crs="EPSG:32622", scheme=SCHEME), ShapeMismatchError, "probabilities"),
    (lambda d: export.write_class_map(np.zeros(5, np.uint8), d / "a.tif", transform=UTM, crs="EPSG:32622",
                                      scheme=SCHEME), ShapeMismatchError, r"\(rows, cols\)"),
    (lambda d: export.write_class_map(np.full((4, 4), 7, np.uint8), d / "a.tif", transform=UTM,
                                      crs="EPSG:32622", scheme=SCHEME), ClassCodeError, r"\[7\]"),
    (lambda d: export.write_class_map(GOOD > 1, d / "a.tif", transform=UTM, crs="EPSG:32622", scheme=SCHEME),
     InvalidParameterError, "boolean"),
    (lambda d: export.write_class_map(GOOD * 0.5, d / "a.tif", transform=UTM, crs="EPSG:32622", scheme=SCHEME),
     ClassCodeError, "non-integer"),
    (lambda d: export.write_class_map(GOOD, d / "a.tif", transform=UTM, crs=None, scheme=SCHEME),
     CRSError, "scene.crs"),
    (lambda d: export.write_class_map(GOOD, d / "a.tif", transform=UTM, crs="EPSG:4326", scheme=SCHEME),
     CRSError, "metres"),
    (lambda d: export.write_class_map(GOOD, d / "a.tif", transform=(30, 0, 0, 0, -30, 0), crs="EPSG:32622",
                                      scheme=SCHEME), InvalidParameterError, "affine"),
    (lambda d: export.write_class_map(GOOD, d / "a.tif", transform=UTM, crs="EPSG:32622", scheme={1: "water"}),
     InvalidParameterError, "ClassScheme"),
    (lambda d: export.write_class_map(GOOD, d / "a.png", transform=UTM, crs="EPSG:32622", scheme=SCHEME),
     InvalidParameterError, ".tif"),
    (lambda d: export.write_class_map(GOOD, d / "exists.tif", transform=UTM, crs="EPSG:32622", scheme=SCHEME),
     OutputExistsError, "overwrite=True"),
    (lambda d: export.write_probabilities(GOOD.astype(np.float32), d / "p.tif", transform=UTM, crs="EPSG:32622",
                                          scheme=SCHEME), ShapeMismatchError, "write_class_map"),
    (lambda d: export.write_probabilities(np.full((4, 4, 2), 0.5, np.float32), d / "p.tif", transform=UTM,
                                          crs="EPSG:32622", scheme=SCHEME), ShapeMismatchError, "class_codes"),
    (lambda d: export.write_probabilities(np.full((4, 4, 2), 0.5, np.float32), d / "p.tif", transform=UTM,
                                          crs="EPSG:32622", scheme=SCHEME, class_codes=(1, 8)),
     ClassCodeError, r"\[8\]"),
    (lambda d: export.write_probabilities(np.full((4, 4, 3), 3.0, np.float32), d / "p.tif", transform=UTM,
                                          crs="EPSG:32622", scheme=SCHEME), InvalidParameterError, "logits"),
    (lambda d: export.class_polygons(GOOD, UTM, "EPSG:32622", SCHEME, classes_wanted=[9]), ClassCodeError, "9"),
    (lambda d: export.class_polygons(GOOD, UTM, "EPSG:32622", SCHEME, min_area_m2=-1), InvalidParameterError,
     "min_area_m2"),
    (lambda d: export.class_polygons(GOOD, UTM, "EPSG:32622", SCHEME, classes_wanted=1), InvalidParameterError,
     "list of class codes"),
    (lambda d: export.class_polygons(GOOD, UTM, "EPSG:32622", SCHEME, nodata_mask=np.zeros((3, 3), bool)),
     ShapeMismatchError, "nodata_mask"),
    (lambda d: export.export_prediction(_prediction(GOOD), _scene((21, 20)), d, scheme=SCHEME),
     ShapeMismatchError, "another scene"),
    (lambda d: export.export_prediction(_prediction(GOOD), _scene((20, 20), crs=None), d, scheme=SCHEME),
     CRSError, "no CRS"),
    (lambda d: export.export_prediction(_prediction(GOOD, codes=(1, 2, 3)), _scene((20, 20)), d,
                                        scheme=ClassScheme.from_names(["water", "land"])), ClassCodeError, "scheme"),
    (lambda d: export.export_prediction(GOOD, _scene((20, 20)), d, scheme=SCHEME), InvalidParameterError,
     "Prediction"),
    (lambda d: export.export_prediction(_prediction(GOOD), _scene((20, 20)), {"clases": d / "a.tif"},
                                        scheme=SCHEME), InvalidParameterError, "unknown kinds"),
    (lambda d: export.export_prediction(_prediction(GOOD), _scene((20, 20)), d / "exists.tif", scheme=SCHEME),
     InvalidParameterError, "is a file"),
    (lambda d: export.export_prediction(_prediction(GOOD), _scene((20, 20)),
                                        {"classes": d / "a.tif", "polygons": d / "a.tif"}, scheme=SCHEME),
     InvalidParameterError, "same file"),
])
def test_bad_inputs_are_clear_errors_and_write_nothing(tmp_path, call, error, match):
    (tmp_path / "exists.tif").write_bytes(b"old")
    with pytest.raises(error, match=match):
        call(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists.tif"]
    assert (tmp_path / "exists.tif").read_bytes() == b"old"
