"""geonb.footprints: GeoJSON footprints to rasters (mask, border, instances, signed distance) and back;
training polygons to class codes."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pyproj
import pytest
from affine import Affine
from rasterio.transform import from_origin
from shapely.geometry import MultiPolygon, Polygon, box, mapping

from geonb.errors import CRSError, GeoJSONError, InvalidParameterError, ShapeMismatchError
from geonb.footprints import (
    Footprints,
    footprints_to_pixels,
    instance_raster,
    mask_to_polygons,
    parse_footprints,
    pixel_size_m,
    polygons_to_geojson,
    rasterize_footprints,
    signed_distance,
)
from geonb.labels import BACKGROUND, BORDER, BUILDING

UTM = "EPSG:32633"  # metres
# A 100 x 100 raster of 0.5 m pixels in UTM 33N (near Vienna).
T_UTM = from_origin(600000.0, 5340000.0, 0.5, 0.5)
TO_LONLAT = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


def lonlat_ring(pixel_corners):
    """Polygon ring given as (col, row) pixel corners of T_UTM, in lon/lat."""
    out = []
    for c, r in pixel_corners:
        x, y = T_UTM * (c, r)
        out.append(list(TO_LONLAT.transform(x, y)))
    return out


def fc(*features, crs_member=None):
    obj = {"type": "FeatureCollection", "features": list(features)}
    if crs_member is not None:
        obj["crs"] = crs_member
    return obj


def feat(geometry, **props):
    return {"type": "Feature", "properties": props, "geometry": geometry}


SQUARE = {"type": "Polygon", "coordinates": [lonlat_ring([(10, 10), (30, 10), (30, 30), (10, 30), (10, 10)])]}


# ---- parsing ------------------------------------------------------------------------------
def test_parse_spacenet_style_with_crs_member_and_z():
    ring = [[x, y, 0.0] for x, y in SQUARE["coordinates"][0]]
    obj = fc(feat({"type": "Polygon", "coordinates": [ring]}, building="yes"),
             crs_member={"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}})
    fp = parse_footprints(json.dumps(obj))
    assert len(fp) == 1 and fp.properties[0]["building"] == "yes"
    assert fp.crs.to_string() == "OGC:CRS84"
    assert not fp.geometries[0].has_z


def test_parse_declared_projected_crs():
    obj = fc(feat(mapping(box(600005, 5339985, 600010, 5339990))),
             crs_member={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}})
    fp = parse_footprints(obj)
    assert fp.crs.to_epsg() == 32633
    mask = rasterize_footprints(fp, (100, 100), T_UTM, UTM)
    assert (mask == BUILDING).sum() == 10 * 10


def test_parse_feature_and_bare_geometry():
    assert len(parse_footprints(feat(SQUARE))) == 1
    assert len(parse_footprints(SQUARE)) == 1


@pytest.mark.parametrize("text", ['{"type": "FeatureCollection", "features": [', "not json at all", ""])
def test_unparseable_geojson_is_a_clear_error(text):
    with pytest.raises(GeoJSONError, match="not valid JSON"):
        parse_footprints(text)


def test_not_geojson_object_errors():
    with pytest.raises(GeoJSONError, match="GeoJSON object"):
        parse_footprints([1, 2, 3])
    with pytest.raises(ValueError, match="no 'features' list"):
        parse_footprints({"type": "FeatureCollection"})
    with pytest.raises(GeoJSONError, match="unknown geometry type"):
        parse_footprints(fc(feat({"type": "Circle", "coordinates": [0, 0]})))
    with pytest.raises(GeoJSONError, match="malformed"):
        parse_footprints(fc(feat({"type": "Polygon", "coordinates": [[[0, 0], [1]]]})))


def test_empty_collection_gives_empty_mask_with_warning():
    with pytest.warns(UserWarning, match="no features"):
        fp = parse_footprints(fc())
    assert len(fp) == 0
    with pytest.warns(UserWarning, match="all background"):
        mask = rasterize_footprints(fp, (20, 30), T_UTM, UTM)
    assert mask.shape == (20, 30) and mask.dtype == np.uint8 and not mask.any()


def test_points_and_lines_are_skipped_and_counted():
    obj = fc(feat(SQUARE), feat({"type": "Point", "coordinates": [16.0, 48.0]}),
             feat({"type": "LineString", "coordinates": [[16.0, 48.0], [16.1, 48.1]]}),
             feat(None))
    with pytest.warns(UserWarning, match="skipped 3"):
        fp = parse_footprints(obj)
    assert len(fp) == 1
    assert fp.n_skipped == 3
    assert fp.skipped_types == {"Point": 1, "LineString": 1, "null": 1}


def test_self_intersecting_polygon_is_repaired_and_counted():
    bowtie = {"type": "Polygon", "coordinates": [lonlat_ring([(10, 10), (30, 30), (30, 10), (10, 30), (10, 10)])]}
    with pytest.warns(UserWarning, match="repaired 1"):
        fp = parse_footprints(fc(feat(bowtie), feat(SQUARE)))
    assert fp.n_repaired == 1 and len(fp) == 2
    assert all(g.is_valid for g in fp.geometries)
    mask = rasterize_footprints(Footprints(fp.geometries[:1], crs=fp.crs), (100, 100), T_UTM, UTM)
    # Two triangles meeting at the centre: about half of the 20 x 20 square.
    assert 150 <= (mask == BUILDING).sum() <= 250


# ---- rasterizing --------------------------------------------------------------------------
def test_lonlat_square_lands_on_the_right_utm_pixels():
    mask = rasterize_footprints(parse_footprints(fc(feat(SQUARE))), (100, 100), T_UTM, UTM)
    rows, cols = np.nonzero(mask)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (10, 29, 10, 29)


def test_multipolygon_with_hole():
    outer = [(10, 10), (50, 10), (50, 50), (10, 50), (10, 10)]
    hole = [(20, 20), (40, 20), (40, 40), (20, 40), (20, 20)]
    other = [(60, 60), (70, 60), (70, 70), (60, 70), (60, 60)]
    geom = {"type": "MultiPolygon", "coordinates": [[lonlat_ring(outer), lonlat_ring(hole)], [lonlat_ring(other)]]}
    mask = rasterize_footprints(parse_footprints(fc(feat(geom))), (100, 100), T_UTM, UTM)
    assert mask[30, 30] == BACKGROUND  # inside the hole
    assert mask[15, 15] == BUILDING and mask[65, 65] == BUILDING
    assert (mask == BUILDING).sum() == 40 * 40 - 20 * 20 + 10 * 10


def test_crs_mismatch_is_an_error_not_an_empty_mask():
    # UTM metres in a file that declares nothing (so CRS84 by RFC 7946): nowhere near the tile.
    wrong = fc(feat(mapping(box(600005, 5339985, 600010, 5339990))))
    fp = parse_footprints(wrong)
    with pytest.raises(CRSError, match="probably are not in OGC:CRS84"):
        rasterize_footprints(fp, (100, 100), T_UTM, UTM)
    # lat/lon swapped: valid coordinates, but far from the tile.
    swapped = [[lat, lon] for lon, lat in SQUARE["coordinates"][0]]
    fp = parse_footprints(fc(feat({"type": "Polygon", "coordinates": [swapped]})))
    with pytest.raises(CRSError, match="none of the 1 footprints overlaps the raster"):
        rasterize_footprints(fp, (100, 100), T_UTM, UTM)
    # A tile of a larger file may truly have no building: allowed when asked.
    mask = rasterize_footprints(parse_footprints(fc(feat(SQUARE))), (100, 100),
                                from_origin(0, 0, 0.5, 0.5), UTM, require_overlap=False)
    assert not mask.any()


def test_border_band_inside_outlines_and_between_touching_buildings():
    a, b = box(2, -12, 10, -2), box(10, -12, 18, -2)  # touching along x = 10
    t = Affine(1, 0, 0, 0, -1, 0)
    mask = rasterize_footprints([a, b], (14, 20), t, UTM, border_px=1)
    assert mask[7, 9] == BORDER and mask[7, 10] == BORDER  # the shared wall
    assert mask[7, 5] == BUILDING and mask[7, 14] == BUILDING
    assert mask[2, 5] == BORDER and mask[1, 5] == BACKGROUND
    wide = rasterize_footprints([a, b], (14, 20), t, UTM, border_px=2)
    assert (wide == BORDER).sum() > (mask == BORDER).sum()
    assert ((wide != BACKGROUND) == (mask != BACKGROUND)).all()


def test_no_border_along_tile_edge():
    mask = rasterize_footprints([box(-5, -8, 6, -2)], (10, 10), Affine(1, 0, 0, 0, -1, 0), UTM, border_px=1)
    assert mask[5, 0] == BUILDING  # cut by the left tile edge: not an outline
    assert mask[5, 5] == BORDER


def test_instance_raster_ids_follow_order():
    t = Affine(1, 0, 0, 0, -1, 0)
    inst = instance_raster([box(1, -4, 4, -1), box(6, -9, 9, -6)], (10, 10), t, UTM)
    assert inst.dtype == np.int32
    assert inst[2, 2] == 1 and inst[7, 7] == 2 and inst[0, 0] == 0


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_bad_border_px(bad):
    with pytest.raises(InvalidParameterError, match="border_px"):
        rasterize_footprints([box(0, -5, 5, 0)], (10, 10), Affine(1, 0, 0, 0, -1, 0), UTM, border_px=bad)


def test_bad_grid_arguments():
    with pytest.raises(InvalidParameterError, match="shape"):
        rasterize_footprints([box(0, -5, 5, 0)], (0, 10), Affine(1, 0, 0, 0, -1, 0), UTM)
    with pytest.raises(InvalidParameterError, match="transform"):
        rasterize_footprints([box(0, -5, 5, 0)], (10, 10), (1, 0, 0, 0, -1, 0), UTM)
    with pytest.raises(InvalidParameterError, match="shapely geometry"):
        rasterize_footprints(["not a polygon"], (10, 10), Affine(1, 0, 0, 0, -1, 0), UTM)


# ---- metres per pixel and signed distance ---------------------------------------------------
def test_pixel_size_projected_and_feet():
    assert pixel_size_m(Affine(0.3, 0, 0, 0, -0.5, 0), UTM) == (0.5, 0.3)
    row_m, col_m = pixel_size_m(Affine(1, 0, 0, 0, -1, 0), "EPSG:2263")  # NY State Plane, US feet
    assert col_m == pytest.approx(0.3048, rel=1e-5)


def test_pixel_size_geographic_uses_the_ellipsoid_at_the_centre():
    dlon = dlat = 3e-6
    t = from_origin(-115.2, 36.2, dlon, dlat)
    row_m, col_m = pixel_size_m(t, "EPSG:4326", (512, 512))
    geod = pyproj.Geod(ellps="WGS84")
    lat_c = 36.2 - 256 * dlat
    assert col_m == pytest.approx(geod.inv(-115.2, lat_c, -115.2 + dlon, lat_c)[2], rel=1e-3)
    assert row_m == pytest.approx(geod.inv(-115.2, lat_c, -115.2, lat_c + dlat)[2], rel=1e-3)
    assert col_m < row_m  # a degree of longitude is shorter than a degree of latitude here


def test_pixel_size_needs_crs():
    with pytest.raises(CRSError, match="crs"):
        pixel_size_m(Affine(1, 0, 0, 0, -1, 0), None)


def test_signed_distance_signs_units_and_anisotropic_pixels():
    mask = np.zeros((21, 21), np.uint8)
    mask[5:16, 5:16] = BUILDING
    mask[5, 5:16] = BORDER  # border pixels count as building
    t = Affine(1.0, 0, 0, 0, -2.0, 0)  # 1 m wide, 2 m high pixels
    d = signed_distance(mask, t, UTM, clip_m=None)
    assert d.dtype == np.float32
    assert (d[mask != BACKGROUND] > 0).all() and (d[mask == BACKGROUND] < 0).all()
    assert d[10, 10] == pytest.approx(6.0)  # 6 columns to the outside at 1 m
    assert d[10, 2] == pytest.approx(-3.0)  # 3 columns away
    assert d[2, 10] == pytest.approx(-6.0)  # 3 rows away at 2 m
    clipped = signed_distance(mask, t, UTM, clip_m=2.5)
    assert clipped.max() == 2.5 and clipped.min() == -2.5


def test_signed_distance_without_buildings_and_bad_input():
    d = signed_distance(np.zeros((4, 4), bool), Affine(1, 0, 0, 0, -1, 0), UTM, clip_m=5.0)
    assert (d == -5.0).all()
    with pytest.raises(InvalidParameterError, match="clip_m"):
        signed_distance(np.zeros((4, 4), bool), Affine(1, 0, 0, 0, -1, 0), UTM, clip_m=-1)
    with pytest.raises(CRSError):
        signed_distance(np.zeros((4, 4), bool), Affine(1, 0, 0, 0, -1, 0), None)
    with pytest.raises(ShapeMismatchError):
        signed_distance(np.zeros((4, 4, 1), bool), Affine(1, 0, 0, 0, -1, 0), UTM)


# ---- polygons out -------------------------------------------------------------------------
def test_mask_to_polygons_specks_holes_and_areas():
    m = np.zeros((60, 60), bool)
    m[5:25, 5:25] = True          # 10 x 10 m at 0.5 m pixels = 100 m2
    m[14:16, 14:16] = False       # a 1 m2 hole: filled
    m[30:50, 30:50] = True
    m[35:45, 35:45] = False       # a 25 m2 courtyard: kept
    m[55, 55] = True              # a speck: dropped
    fp = mask_to_polygons(m, T_UTM, UTM, min_area_m2=2.0, simplify_m=None)
    assert len(fp) == 2
    areas = sorted(p["area_m2"] for p in fp.properties)
    assert areas == [75.0, 100.0]
    assert len(fp.geometries[0].interiors) + len(fp.geometries[1].interiors) == 1
    assert fp.crs.to_epsg() == 32633


@pytest.mark.parametrize("crs,transform", [(UTM, T_UTM), ("EPSG:4326", from_origin(16.3, 48.2, 4e-6, 3e-6))])
def test_mask_polygons_mask_round_trip(crs, transform):
    rng = np.random.default_rng(0)
    m = np.zeros((64, 64), bool)
    for _ in range(6):
        r, c = rng.integers(0, 54, 2)
        m[r:r + rng.integers(4, 10), c:c + rng.integers(4, 10)] = True
    fp = mask_to_polygons(m, transform, crs, min_area_m2=0, simplify_m=None)
    back = rasterize_footprints(fp, m.shape, transform, crs)
    assert ((back == BUILDING) == m).all()


def test_simplification_reduces_vertices_of_a_rotated_building():
    from rasterio.features import rasterize

    poly = Polygon([(10, 30), (40, 15), (50, 35), (20, 50)])
    m = rasterize([poly], out_shape=(64, 64)).astype(bool)
    t = Affine(0.5, 0, 0, 0, -0.5, 0)
    raw = mask_to_polygons(m, t, UTM, simplify_m=None).geometries[0]
    simple = mask_to_polygons(m, t, UTM, simplify_m=0.5).geometries[0]
    assert len(simple.exterior.coords) < len(raw.exterior.coords) / 3
    assert simple.area == pytest.approx(raw.area, rel=0.05)


def test_mask_to_polygons_bad_input():
    with pytest.raises(InvalidParameterError, match="connectivity"):
        mask_to_polygons(np.zeros((4, 4), bool), T_UTM, UTM, connectivity=6)
    with pytest.raises(InvalidParameterError, match="min_area_m2"):
        mask_to_polygons(np.zeros((4, 4), bool), T_UTM, UTM, min_area_m2=-1)
    with pytest.raises(ShapeMismatchError):
        mask_to_polygons(np.zeros(4, bool), T_UTM, UTM)


def test_geojson_out_is_lonlat_and_parses_back():
    m = np.zeros((40, 40), np.uint8)
    m[10:20, 10:30] = BUILDING
    fp = mask_to_polygons(m, T_UTM, UTM, min_area_m2=1.0)
    obj = polygons_to_geojson(fp)
    assert "crs" not in obj and len(obj["features"]) == 1
    lon, lat = obj["features"][0]["geometry"]["coordinates"][0][0]
    assert 14 < lon < 17 and 47 < lat < 49  # UTM 33N near Vienna
    again = parse_footprints(json.loads(json.dumps(obj)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = rasterize_footprints(again, m.shape, T_UTM, UTM)
    assert ((back == BUILDING) == (m == BUILDING)).all()
    with pytest.raises(CRSError):
        polygons_to_geojson([box(0, 0, 1, 1)])


def test_footprints_without_crs_take_the_crs_argument():
    x, y = T_UTM * (10, 10)
    fp = Footprints([box(x, y - 5, x + 5, y)], [{"id": 7}])  # UTM metres, no CRS declared
    obj = polygons_to_geojson(fp, UTM)
    assert fp.crs is None  # the caller's Footprints are not changed
    lon, lat = obj["features"][0]["geometry"]["coordinates"][0][0]
    assert 14 < lon < 17 and 47 < lat < 49
    assert obj["features"][0]["properties"] == {"id": 7}
    px = footprints_to_pixels(fp, T_UTM, UTM)
    assert px[0].bounds == pytest.approx((10, 10, 20, 20), abs=1e-6)
    m = rasterize_footprints(fp, (40, 40), T_UTM, UTM)
    assert int((m == BUILDING).sum()) == 100
    with pytest.raises(CRSError):
        polygons_to_geojson(fp)


def test_footprints_to_pixels():
    px = footprints_to_pixels(parse_footprints(fc(feat(SQUARE))), T_UTM, UTM)
    minx, miny, maxx, maxy = px[0].bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((10, 10, 30, 30), abs=1e-6)


def test_footprints_container_checks():
    with pytest.raises(ShapeMismatchError):
        Footprints([box(0, 0, 1, 1)], [{}, {}])
    fp = Footprints([MultiPolygon([box(0, 0, 1, 1)])], crs=UTM)
    assert "1 polygons" in repr(fp)
    with pytest.raises(CRSError):
        Footprints([box(0, 0, 1, 1)]).to_crs(UTM)


# ---- drawing (plots.py and maps.py helpers of the buildings track) ---------------------------
def test_plot_footprints_mask_and_distance():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from geonb.plots import plot_building_mask, plot_distance, plot_footprints

    fp = parse_footprints(fc(feat(SQUARE)))
    mask = rasterize_footprints(fp, (100, 100), T_UTM, UTM, border_px=2)
    ax = plot_footprints(np.zeros((100, 100, 3)), fp, T_UTM, UTM)
    plot_footprints(None, fp, T_UTM, UTM, ax=ax, color="yellow", label="predicted")
    xs, ys = ax.collections[0].get_segments()[0].T
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == pytest.approx((9.5, 29.5, 9.5, 29.5), abs=1e-6)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["truth footprints (1)", "predicted (1)"]
    ax2 = plot_building_mask(mask)
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["background", "building", "border"]
    ax3 = plot_distance(signed_distance(mask, T_UTM, UTM, clip_m=4))
    im = ax3.images[0]
    assert im.norm.vmin == -im.norm.vmax and ax3.figure.axes[-1].get_ylabel().startswith("metres")
    assert ax3.get_xlabel() == "column (pixels)"
    plt.close("all")


def test_add_footprints_layer_renders_lonlat_outlines():
    from geonb.maps import add_footprints_layer, make_map

    fp = mask_to_polygons(rasterize_footprints(parse_footprints(fc(feat(SQUARE))), (100, 100), T_UTM, UTM),
                          T_UTM, UTM)
    m = make_map((48.2, 16.3), offline=True)
    layer = add_footprints_layer(m, fp, layer_name="predicted <b>", color="#ffee00")
    html = m.get_root().render()
    assert layer.get_name() in html and "<b>" not in layer.layer_name
    lon, lat = layer.data["features"][0]["geometry"]["coordinates"][0][0]
    assert 14 < lon < 17 and 47 < lat < 49


# =====================================================================================================
# Training polygons with class names -> uint8 labels (rasterize_labels)
# =====================================================================================================
from rasterio.features import rasterize as rio_rasterize  # noqa: E402
from rasterio.warp import transform_geom  # noqa: E402

from geonb.errors import ClassCodeError  # noqa: E402
from geonb.footprints import rasterize_labels  # noqa: E402
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER  # noqa: E402

T1 = Affine(1, 0, 0, 0, -1, 0)  # 1 m pixels, origin (0, 0), UTM
CLASSES = {"water": WATER, "forest": LAND, "cloud": UNCLASSIFIED}


def _utm_fc(*boxes_and_props):
    return fc(*(feat(mapping(box(*b)), **p) for b, p in boxes_and_props),
              crs_member={"type": "name", "properties": {"name": UTM}})


def test_rasterize_labels_by_class_name_in_any_crs(tmp_path):
    utm = _utm_fc(((0, -4, 10, 0), {"class": "water"}), ((0, -10, 5, -6), {"class": "forest"}))
    lab = rasterize_labels(utm, (10, 10), T1, UTM, label_map=CLASSES)
    assert lab.dtype == np.uint8
    assert (lab[:4] == WATER).all() and (lab[6:, :5] == LAND).all() and (lab[4:6] == NODATA).all()
    assert (lab[6:, 5:] == NODATA).all()  # sparse: unlabelled elsewhere
    # the same squares in lon/lat (no crs member = CRS84) give the same labels after reprojection
    lonlat = fc(feat(SQUARE, **{"class": "water"}))
    expected = rasterize_footprints(parse_footprints(lonlat), (100, 100), T_UTM, UTM)
    got = rasterize_labels(lonlat, (100, 100), T_UTM, UTM, label_map=CLASSES)
    np.testing.assert_array_equal(got, np.where(expected == BUILDING, WATER, NODATA))
    # from a GeoJSON file path, and with integer classes without a map
    path = tmp_path / "train.geojson"
    path.write_text(json.dumps(_utm_fc(((0, -4, 10, 0), {"class": 1}), ((0, -10, 5, -6), {"class": 2}))))
    np.testing.assert_array_equal(rasterize_labels(path, (10, 10), T1, UTM), lab)
    np.testing.assert_array_equal(rasterize_labels(str(path), (10, 10), T1, UTM), lab)


def test_rasterize_labels_missing_field_names_the_polygon():
    obj = _utm_fc(((0, -4, 10, 0), {"class": "water"}), ((0, -10, 5, -6), {"klasse": "forest", "id": 3}))
    with pytest.raises(GeoJSONError, match=r"polygon 1 has no 'class' property \(its properties: \['id', 'klasse'\]\)"):
        rasterize_labels(obj, (10, 10), T1, UTM, label_map=CLASSES)
    lab = rasterize_labels(_utm_fc(((0, -4, 10, 0), {"klasse": "water"})), (10, 10), T1, UTM, field="klasse",
                           label_map=CLASSES)
    assert (lab == WATER).sum() == 40


def test_rasterize_labels_unknown_class_lists_names_and_map():
    obj = _utm_fc(((0, -4, 10, 0), {"class": "water"}), ((0, -10, 5, -6), {"class": "Forest"}))
    with pytest.raises(ClassCodeError, match=r"classes \['Forest'\] are not in `label_map`") as info:
        rasterize_labels(obj, (10, 10), T1, UTM, label_map=CLASSES)
    assert "'forest': 2" in str(info.value) and "['water', 'Forest']" in str(info.value)
    with pytest.raises(ClassCodeError, match="label_map=") as info:
        rasterize_labels(obj, (10, 10), T1, UTM)  # names without a map
    assert "'water'" in str(info.value)
    with pytest.raises(InvalidParameterError, match="0..255"):
        rasterize_labels(obj, (10, 10), T1, UTM, label_map={"water": 256, "Forest": 1})


def test_rasterize_labels_overlapping_classes():
    obj = _utm_fc(((0, -4, 10, 0), {"class": "water"}), ((0, -6, 5, -2), {"class": "forest"}),
                  ((5, -3, 10, -1), {"class": "water"}))  # same class overlapping: fine
    with pytest.raises(ClassCodeError, match="10 pixels are covered by polygons of different classes") as info:
        rasterize_labels(obj, (10, 10), T1, UTM, label_map=CLASSES)
    assert "overlap='last'" in str(info.value)
    lab = rasterize_labels(obj, (10, 10), T1, UTM, label_map=CLASSES, overlap="last")
    assert (lab[2:4, :5] == LAND).all() and (lab[:2] == WATER).all() and (lab[2:4, 5:] == WATER).all()
    with pytest.raises(InvalidParameterError, match="`overlap`"):
        rasterize_labels(obj, (10, 10), T1, UTM, label_map=CLASSES, overlap="first")


def test_rasterize_labels_outside_the_scene_and_other_formats(tmp_path):
    far = _utm_fc(((1000, -1004, 1010, -1000), {"class": "water"}))
    with pytest.raises(CRSError, match="none of the 1 polygons overlaps the raster"):
        rasterize_labels(far, (10, 10), T1, UTM, label_map=CLASSES)
    assert not rasterize_labels(far, (10, 10), T1, UTM, label_map=CLASSES, require_overlap=False).any()
    with pytest.raises(InvalidParameterError, match="does not exist"):
        rasterize_labels(tmp_path / "train.gpkg", (10, 10), T1, UTM, label_map=CLASSES)
    (tmp_path / "broken.gpkg").write_text("not a database")
    with pytest.raises(GeoJSONError, match="cannot be read"):
        rasterize_labels(tmp_path / "broken.gpkg", (10, 10), T1, UTM, label_map=CLASSES)
    with pytest.raises(InvalidParameterError, match="no polygons"):
        rasterize_labels(fc(), (10, 10), T1, UTM, label_map=CLASSES)
    with pytest.raises(CRSError, match="`crs` 'EPSG:99999'"):
        rasterize_labels(far, (10, 10), T1, "EPSG:99999", label_map=CLASSES)


def test_metre_transform_with_a_geographic_crs_is_a_crs_error():
    m = np.zeros((20, 20), bool)
    m[2:8, 2:10] = True
    with pytest.raises(CRSError, match="transform is probably in metres"):  # was an AttributeError
        mask_to_polygons(m, T_UTM, "EPSG:4326")
    with pytest.raises(CRSError, match="`crs` 'EPSG:99999'"):
        pixel_size_m(T_UTM, "EPSG:99999")
    with pytest.raises(InvalidParameterError, match="pixel size"):
        mask_to_polygons(m, Affine(0, 0, 0, 0, 0, 0), UTM)
    with pytest.raises(CRSError, match="`crs`"):
        Footprints([box(0, 0, 1, 1)], crs="not a crs")


# ---- real training polygons nobody here drew ------------------------------------------------------------
def _independent_counts(geojson_path, image_path, label_map):
    """Per-code pixel counts with rasterio only: transform_geom to the image CRS, one rasterize per polygon."""
    import rasterio

    doc = json.loads(geojson_path.read_text())
    src_crs = (doc.get("crs") or {}).get("properties", {}).get("name", "OGC:CRS84")
    with rasterio.open(image_path) as ds:
        shape, transform, crs = (ds.height, ds.width), ds.transform, ds.crs
    shapes = [(transform_geom(src_crs, crs, f["geometry"]), label_map[f["properties"]["class"]])
              for f in doc["features"]]
    out = rio_rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="uint8")
    return np.bincount(out.ravel(), minlength=5), shape, transform, crs


@pytest.mark.parametrize("folder, image, label_map", [
    ("landsat5-tucurui", "LT05_224063_19880814_B1-7.tif", {"water": 1, "forest": 2, "cleared": 3, "fallen_dry": 4}),
    ("sentinel2-obidos", "S2_obidos_B1-B12_reflectance.tif", {"water": 1, "forest": 2, "village": 3, "dryout": 4}),
])
def test_real_training_polygons_by_class_name(realdata, folder, image, label_map):
    from geonb.scene import read_scene

    polygons = realdata / folder / "training_polygons.geojson"
    expected, shape, transform, crs = _independent_counts(polygons, realdata / folder / image, label_map)
    scene = read_scene(realdata / folder / image)
    # four land covers: a class scheme of its own, whose codes are named with `classes=`
    with pytest.raises(ClassCodeError, match="classes="):
        rasterize_labels(polygons, scene.shape, scene.transform, scene.crs, label_map=label_map)
    lab = rasterize_labels(polygons, scene.shape, scene.transform, scene.crs, label_map=label_map,
                           classes=(1, 2, 3, 4))
    assert lab.shape == shape and scene.transform == transform and scene.crs == crs
    np.testing.assert_array_equal(np.bincount(lab.ravel(), minlength=5), expected)
    assert all(expected[1:] > 100)  # every class is there (a test that could fail)
    # a map that forgets classes names them
    with pytest.raises(ClassCodeError, match="are not in `label_map`"):
        rasterize_labels(polygons, scene.shape, scene.transform, scene.crs, label_map={"water": WATER})


def test_footprints_to_pixels_bad_transform():
    with pytest.raises(InvalidParameterError, match="cannot be inverted"):
        footprints_to_pixels([box(0, 0, 1, 1)], Affine(0, 0, 0, 0, 0, 0), UTM)
    with pytest.raises(InvalidParameterError, match="affine.Affine"):
        footprints_to_pixels([box(0, 0, 1, 1)], (1, 0, 0, 0, -1, 0), UTM)


def test_rasterize_labels_field_no_polygon_has_is_the_argument():
    obj = _utm_fc(((0, -4, 10, 0), {"class": "water"}), ((0, -10, 5, -6), {"class": "forest", "id": 3}))
    with pytest.raises(InvalidParameterError, match=r"`field` 'klass' is not a property of any.*\['class', 'id'\]"):
        rasterize_labels(obj, (10, 10), T1, UTM, field="klass", label_map=CLASSES)


def test_footprint_inputs_that_would_be_truncated_or_thresholded_are_refused():
    with pytest.raises(InvalidParameterError, match="whole numbers"):
        rasterize_footprints([box(0, -5, 5, 0)], (10.5, 10), T1, UTM)
    with pytest.raises(InvalidParameterError, match="whole numbers"):
        rasterize_footprints([box(0, -5, 5, 0)], (True, 10), T1, UTM)
    assert rasterize_footprints([box(0, -5, 5, 0)], (10.0, 10), T1, UTM).shape == (10, 10)
    with pytest.raises(ClassCodeError, match=r"threshold them first"):
        mask_to_polygons(np.full((4, 4), 0.5), T1, UTM)
    codes = np.zeros((6, 6), np.float32)
    codes[1:5, 1:5] = BUILDING  # integer-valued floats are codes
    assert len(mask_to_polygons(codes, T1, UTM, min_area_m2=1)) == 1
    with pytest.raises(GeoJSONError, match="not finite"):
        parse_footprints({"type": "Polygon", "coordinates": [[[0, 0], [1, float("nan")], [1, 1], [0, 0]]]})
    fc_bad_crs = fc(feat(SQUARE), crs_member={"type": "name", "properties": {"name": "EPSG:99999"}})
    with pytest.raises(CRSError, match="'EPSG:99999'"):
        parse_footprints(fc_bad_crs)


def test_split_polygons_is_by_polygon_seeded_and_stratified():
    from shapely.geometry import box

    from geonb.footprints import Footprints, split_polygons

    names = ["water"] * 5 + ["land"] * 10 + ["rare"] * 2
    fp = Footprints([box(i, 0, i + 1, 1) for i in range(len(names))], [{"class": n} for n in names],
                    crs="EPSG:32633")
    parts = split_polygons(fp, seed=3)
    assert sum(len(p) for p in parts.values()) == len(names)
    seen = [g.wkb for p in parts.values() for g in p.geometries]
    assert len(seen) == len(set(seen))  # no polygon in two splits
    for split in ("train", "val", "test"):  # a class with >= 3 polygons is in every split
        assert {"water", "land"} <= {p["class"] for p in parts[split].properties}
        assert all(p["split"] == split for p in parts[split].properties)
    rare = {s for s, p in parts.items() for q in p.properties if q["class"] == "rare"}
    assert rare == {"train", "test"}  # 2 polygons: train first, then test
    assert [g.wkb for g in split_polygons(fp, seed=3)["test"].geometries] == \
        [g.wkb for g in parts["test"].geometries]
    with pytest.raises(InvalidParameterError, match="summing to 1"):
        split_polygons(fp, fractions={"train": 0.9, "test": 0.2})
    with pytest.raises(GeoJSONError, match="no 'kind' property"):
        split_polygons(fp, field="kind")


def test_geopackage_polygons_rasterize_as_their_geojson(realdata, tmp_path):
    """A GeoPackage (QGIS' default) written from the real Sentinel-2 polygons gives the same labels."""
    from pyogrio.raw import read, write

    from geonb.scene import read_scene

    folder = realdata / "sentinel2-obidos"
    meta, _, geom, fields = read(folder / "training_polygons.geojson")
    gpkg = tmp_path / "training.gpkg"
    write(gpkg, geometry=geom, field_data=fields, fields=meta["fields"], crs="EPSG:4326", geometry_type="Polygon",
          driver="GPKG")
    scene = read_scene(folder / "S2_obidos_B1-B12_reflectance.tif")
    lmap = {"water": 1, "forest": 2, "village": 3, "dryout": 4}
    a = rasterize_labels(folder / "training_polygons.geojson", scene.shape, scene.transform, scene.crs,
                         label_map=lmap, classes=(1, 2, 3, 4))
    b = rasterize_labels(gpkg, scene.shape, scene.transform, scene.crs, label_map=lmap, classes=(1, 2, 3, 4))
    assert (a == b).all() and (a > 0).sum() > 1000


def test_a_geopackage_with_several_layers_needs_the_layer(tmp_path):
    import shapely
    from pyogrio.raw import write

    from geonb.footprints import load_polygons

    gpkg = tmp_path / "project.gpkg"
    geom = np.array([shapely.to_wkb(shapely.box(0, 0, 1, 1))], dtype=object)
    write(gpkg, geometry=geom, field_data=[np.array(["water"], dtype=object)], fields=["class"], crs="EPSG:32633",
          geometry_type="Polygon", driver="GPKG", layer="training")
    write(gpkg, geometry=geom, field_data=[np.array(["x"], dtype=object)], fields=["name"], crs="EPSG:32633",
          geometry_type="Polygon", driver="GPKG", layer="decoy", append=False)
    with pytest.raises(InvalidParameterError, match="2 layers"):
        load_polygons(gpkg)
    fp = load_polygons(gpkg, layer="training")
    assert fp.properties == [{"class": "water"}]
    with pytest.raises(InvalidParameterError, match="its layers are"):
        load_polygons(gpkg, layer="nope")
