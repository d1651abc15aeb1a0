"""Tests of geonb.maps: offline folium maps, footprints, reprojected overlays (rendered to HTML)."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import replace

import numpy as np
import pytest

from geonb import maps
from geonb.colors import ERROR_COLORS, LAKE_COLORS
from geonb.errors import CRSError, InvalidParameterError, OutputExistsError, ShapeMismatchError
from geonb.labels import LAND, WATER


def _rgb(hex_color):
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


def _overlay_png(overlay) -> np.ndarray:
    from PIL import Image

    data = overlay.url.split(",", 1)[1]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGBA"))


def _render(m) -> str:
    return m.get_root().render()


def _catalog(names, splits=("test",)):
    feats = []
    for k, name in enumerate(names):
        lon, lat = 6.5 + k, 46.4
        ring = [[lon, lat], [lon + 0.2, lat], [lon + 0.2, lat + 0.1], [lon, lat + 0.1], [lon, lat]]
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {"id": f"lake-{k}", "name": name, "split": splits[k % len(splits)],
                                     "rows": 20, "cols": 24, "water_fraction": 0.25}})
    return {"type": "FeatureCollection", "features": feats}


# ---- make_map / offline ----------------------------------------------------------------------
def test_offline_map_loads_nothing_from_the_internet():
    m = maps.make_map((46.4, 6.5), offline=True)
    html = _render(m)
    assert maps.external_urls(html) == []
    assert "data:text/javascript;base64" in html and "data:text/css;base64" in html
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()
    assert "tile.openstreetmap.org" not in html  # no basemap offline
    assert '"zoomAnimation": false' in html


def test_online_map_has_basemap_but_still_inline_leaflet():
    m = maps.make_map((46.4, 6.5), offline=False)
    html = _render(m)
    assert "tile.openstreetmap.org" in html
    assert maps.external_urls(html) == []  # tiles are requested by Leaflet, not as <script>/<link>


def test_instance_assets_do_not_leak_to_the_folium_class():
    import folium

    maps.make_map((0, 0), offline=True)
    assert any("cdn.jsdelivr.net" in url for _, url in folium.Map.default_js)


def test_make_map_fits_bounds_and_scene(sinusoidal_scene):
    html = _render(maps.make_map((6.0, 46.0, 7.0, 47.0), offline=True))
    assert "fitBounds" in html
    west, south, east, north = maps.scene_bounds_wgs84(sinusoidal_scene)
    assert 6.0 < west < east < 7.0 and 46.0 < south < north < 47.0
    assert "fitBounds" in _render(maps.make_map(sinusoidal_scene, offline=True))


@pytest.mark.parametrize("bad", ["Geneva", (1, 2, 3), (200, 0), (7.0, 46.0, 6.0, 47.0), (np.nan, 1)])
def test_make_map_rejects_bad_locations(bad):
    with pytest.raises(InvalidParameterError, match="bounds_or_center|center|bounds"):
        maps.make_map(bad, offline=True)


def test_external_urls_finds_cdn_scripts():
    html = '<script src="https://cdn.example.org/x.js"></script><a href="https://leafletjs.com">L</a>'
    assert maps.external_urls(html) == ["https://cdn.example.org/x.js"]


# ---- footprints --------------------------------------------------------------------------------
def test_footprint_popup_escapes_user_strings():
    evil = "<script>alert('pwned')</script> ${x} `y`"
    m = maps.make_map((46.4, 6.5), offline=True)
    group = maps.add_lake_footprints(m, _catalog([evil, "Lac Léman"]))
    html = _render(m)
    assert "<script>alert" not in html
    assert "\\u0026lt;script\\u0026gt;" in html  # escaped HTML, then JSON-encoded for the script
    assert "${x}" not in html and "`y`" not in html
    assert group.geonb_lake_ids == ['lake-0', 'lake-1']
    assert "Lac Léman" in html or "Lac L\\u00e9man" in html


def test_layer_control_names_are_escaped(tmp_path, sinusoidal_scene):
    import folium

    evil = "<script>alert('pwned')</script>"
    scene = replace(sinusoidal_scene, name=f"Lake {evil}")
    m = maps.make_map(scene, offline=True)
    maps.add_lake_footprints(m, _catalog(["a"]), layer_name=f"Lakes {evil}")
    maps.add_scene_layer(m, scene)                       # default name from the scene name
    maps.add_label_layer(m, scene)
    maps.add_prediction_layer(m, scene, scene.labels, layer_name=evil)
    maps.add_lake_layers(m, {"x": scene}, {"x": scene.labels}, model_name=evil)
    control = folium.LayerControl(collapsed=False).add_to(m)
    text = maps.save_map(m, tmp_path / "evil.html").read_text()
    names = list(control.overlays)
    assert len(names) == 8 and all("<" not in n for n in names)
    assert "Lake &lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;: label" in names
    assert "Lakes &lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in names
    # Jinja's tojson writes "<" as \u003c, which Leaflet would turn back into a tag with innerHTML.
    assert "\\u003cscript" not in text and "<script>alert" not in text
    assert "\\u0026lt;script\\u0026gt;alert" in text


def test_footprints_coloured_by_f1_with_legend():
    m = maps.make_map((46.4, 6.5), offline=True)
    maps.add_lake_footprints(m, _catalog(["a", "b", "c"]), color_by="f1",
                             scores={"lake-0": 0.95, "lake-1": 0.3, "lake-2": float("nan")})
    html = _render(m)
    assert maps.f1_color(0.95) in html and maps.f1_color(0.3) in html and maps.NO_SCORE_COLOR in html
    assert "Water F1 per lake" in html and "0.950" in html


def test_footprints_from_a_scores_table_and_dataframe():
    import pandas as pd

    lakes = pd.DataFrame({"name": ["x", "y"], "split": ["test", "train"], "lat": [46.0, 47.0],
                          "lon": [6.0, 7.0]}, index=pd.Index(["a", "b"], name="id"))
    table = pd.DataFrame({"f1": [0.85, 0.55], "iou": [0.7, 0.4]}, index=["a", "b"])
    m = maps.make_map((46.4, 6.5), offline=True)
    group = maps.add_lake_footprints(m, lakes, color_by="f1", scores=table)
    assert group.geonb_lake_ids == ['a', 'b']  # circles, since a DataFrame has no polygons
    assert "circleMarker" in _render(m)


def test_footprints_bad_input():
    m = maps.make_map((46.4, 6.5), offline=True)
    with pytest.raises(InvalidParameterError, match="color_by"):
        maps.add_lake_footprints(m, _catalog(["a"]), color_by="size")
    with pytest.raises(InvalidParameterError, match="needs `scores`"):
        maps.add_lake_footprints(m, _catalog(["a"]), color_by="f1")
    with pytest.raises(InvalidParameterError, match="no lake to draw"):  # an empty test split
        maps.add_lake_footprints(m, _catalog(["a"], splits=("train",)), ids=[])
    with pytest.raises(InvalidParameterError, match="LakeDataset"):
        maps.add_lake_footprints(m, 42)


def test_footprints_from_a_lake_dataset(tiny_lakes_root):
    from geonb.datasets import LakeDataset

    ds = LakeDataset("lakes-synthetic", root=tiny_lakes_root)
    m = maps.make_map((0, 0), offline=True)
    group = maps.add_lake_footprints(m, ds, ids=ds.split_ids("test"))
    assert group.geonb_lake_ids == ds.split_ids("test")
    assert '"type": "Polygon"' in _render(m)


# ---- overlays ----------------------------------------------------------------------------------
def test_label_overlay_keeps_true_colours_and_is_reprojected(sinusoidal_scene):
    m = maps.make_map(sinusoidal_scene, offline=True)
    overlay = maps.add_label_layer(m, sinusoidal_scene, opacity=1.0)
    png = _overlay_png(overlay)
    (south, west), (north, east) = overlay.bounds
    w0, s0, e0, n0 = maps.scene_bounds_wgs84(sinusoidal_scene)
    assert west <= w0 + 1e-6 and east >= e0 - 1e-6 and south <= s0 + 1e-6 and north >= n0 - 1e-6
    colours = {tuple(px[:3]) for px in png.reshape(-1, 4) if px[3] == 255}
    assert colours == {_rgb(LAKE_COLORS[WATER]), _rgb(LAKE_COLORS[LAND])}
    # Sinusoidal -> Mercator skews the scene: corners of the Mercator box fall outside it (transparent).
    assert png[..., 3].min() == 0
    mid = png[png.shape[0] // 2]
    opaque = mid[mid[:, 3] == 255]
    assert tuple(opaque[0][:3]) == _rgb(LAKE_COLORS[WATER]) and tuple(opaque[-1][:3]) == _rgb(LAKE_COLORS[LAND])


def test_raster_to_wgs84_matches_rasterio_and_downsamples(sinusoidal_scene):
    rgba = np.full(sinusoidal_scene.shape + (4,), 255, np.uint8)
    full, _ = maps.raster_to_wgs84(sinusoidal_scene, rgba)
    small, bounds = maps.raster_to_wgs84(sinusoidal_scene, rgba, max_size_px=8)
    assert max(small.shape[:2]) <= 8 < max(full.shape[:2])
    assert bounds[0] < bounds[2] and bounds[1] < bounds[3]
    with pytest.raises(ShapeMismatchError, match="uint8"):
        maps.raster_to_wgs84(sinusoidal_scene, rgba[:5])


def test_scene_overlay_nodata_is_transparent(sinusoidal_scene):
    m = maps.make_map(sinusoidal_scene, offline=True)
    overlay = maps.add_scene_layer(m, sinusoidal_scene, composite="false", palette_colors=None)
    png = _overlay_png(overlay)
    assert png[..., 3].max() == 255
    assert "image (false)" in overlay.layer_name
    with pytest.raises(InvalidParameterError, match="unknown composite"):
        maps.add_scene_layer(m, sinusoidal_scene, composite="infrared")


def test_prediction_and_error_layers(sinusoidal_scene):
    pred = sinusoidal_scene.labels.copy()
    pred[0, 0] = LAND     # water missed: false negative
    pred[5, -1] = WATER   # land called water: false positive
    m = maps.make_map(sinusoidal_scene, offline=True)
    maps.add_prediction_layer(m, sinusoidal_scene, pred)
    err = maps.add_error_layer(m, sinusoidal_scene, pred)
    colours = {tuple(px[:3]) for px in _overlay_png(err).reshape(-1, 4) if px[3] == 255}
    assert colours == {_rgb(ERROR_COLORS["false positive"]), _rgb(ERROR_COLORS["false negative"])}
    codes = maps.error_codes(sinusoidal_scene.labels, pred)
    assert codes[0, 0] == maps.FALSE_NEGATIVE and codes[5, -1] == maps.FALSE_POSITIVE and codes.sum() == 3


def test_prediction_on_another_grid_is_refused(sinusoidal_scene):
    m = maps.make_map(sinusoidal_scene, offline=True)
    with pytest.raises(ShapeMismatchError, match="another scene or grid"):
        maps.add_prediction_layer(m, sinusoidal_scene, np.ones((5, 5), np.uint8))


def test_scene_without_crs_is_a_clear_error(sinusoidal_scene):
    no_crs = replace(sinusoidal_scene, crs=None)
    m = maps.make_map((46.4, 6.5), offline=True)
    with pytest.raises(CRSError, match="has no CRS"):
        maps.add_label_layer(m, no_crs)
    with pytest.raises(CRSError):
        maps.make_map(no_crs, offline=True)


def test_side_by_side_is_inline_and_checks_layers(sinusoidal_scene):
    m = maps.make_map(sinusoidal_scene, offline=True)
    a = maps.add_scene_layer(m, sinusoidal_scene)
    b = maps.add_label_layer(m, sinusoidal_scene)
    maps.add_side_by_side(m, a, b)
    html = _render(m)
    assert "geonb-swipe" in html and maps.external_urls(html) == []
    with pytest.raises(InvalidParameterError, match="same layer"):
        maps.add_side_by_side(m, a, a)
    with pytest.raises(InvalidParameterError, match="start"):
        maps.add_side_by_side(m, a, b, start=2)


# ---- saving ------------------------------------------------------------------------------------
def test_save_map_is_atomic_and_refuses_overwrite(tmp_path, sinusoidal_scene):
    m = maps.make_map(sinusoidal_scene, offline=True)
    maps.add_label_layer(m, sinusoidal_scene)
    path = maps.save_map(m, tmp_path / "maps" / "lake.html")
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>") and maps.external_urls(text) == []
    assert re.search(r"L\.imageOverlay", text)
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        maps.save_map(m, path)
    maps.save_map(m, path, overwrite=True)
    assert [p.name for p in path.parent.iterdir()] == ["lake.html"]  # no temporary files left
    with pytest.raises(InvalidParameterError, match=".html"):
        maps.save_map(m, tmp_path / "lake.png")


# ---- any scene: class maps by scheme, composites by band name ---------------------------------
def _scheme():
    from geonb.classes import ClassScheme

    return ClassScheme.from_names(["water", "forest", "cleared <b>"])  # a name that must be escaped


def _halves(shape):
    classes = np.full(shape, 2, np.uint8)
    classes[:, : shape[1] // 3] = 1
    classes[:, 2 * shape[1] // 3:] = 3
    classes[:2, :2] = 0
    return classes


@pytest.mark.parametrize("grid", ["utm", "lonlat", "sinusoidal"])
def test_class_layer_uses_scheme_colours_and_names_on_any_grid(grid, sinusoidal_scene):
    import folium
    from affine import Affine

    scheme = _scheme()
    if grid == "sinusoidal":
        where, shape = sinusoidal_scene, sinusoidal_scene.shape
    elif grid == "utm":
        where, shape = (Affine(30, 0, 500000, 0, -30, 300000), "EPSG:32622"), (40, 45)
    else:
        where, shape = (Affine(1e-3, 0, 10.0, 0, -1e-3, 60.02), "EPSG:4326"), (40, 45)
    classes = _halves(shape)
    m = maps.make_map(where if grid == "sinusoidal" else None, offline=True)
    overlay = maps.add_class_layer(m, classes, where, scheme, layer_name="My classes", opacity=1.0)
    control = folium.LayerControl().add_to(m)
    html = _render(m)
    assert list(control.overlays) == ["My classes"]
    assert "My classes" in html and "water" in html and "forest" in html
    assert "cleared \\u0026lt;b\\u0026gt;" in html and "cleared <b>" not in html and "cleared \\u003cb" not in html
    assert maps.external_urls(html) == []
    png = _overlay_png(overlay)
    colours = {tuple(px[:3]) for px in png.reshape(-1, 4) if px[3] == 255}
    assert colours == {_rgb(c) for c in scheme.colors}
    assert png[..., 3].min() == 0  # no data (and outside the grid) is transparent
    (south, west), (north, east) = overlay.bounds
    assert west < east and south < north
    if grid == "lonlat":
        assert west == pytest.approx(10.0, abs=1e-3) and north == pytest.approx(60.02, abs=1e-3)
    if grid == "utm":
        assert -51.1 < west < -50.9 and 2.6 < north < 2.8


def test_class_layer_bad_inputs(sinusoidal_scene):
    from affine import Affine

    from geonb.errors import ClassCodeError

    scheme = _scheme()
    m = maps.make_map(sinusoidal_scene, offline=True)
    classes = _halves(sinusoidal_scene.shape)
    with pytest.raises(ClassCodeError, match=r"\[7\]"):
        maps.add_class_layer(m, np.full(sinusoidal_scene.shape, 7, np.uint8), sinusoidal_scene, scheme)
    with pytest.raises(ShapeMismatchError, match="another scene or grid"):
        maps.add_class_layer(m, classes[:5], sinusoidal_scene, scheme)
    with pytest.raises(ShapeMismatchError, match="probabilities"):
        maps.add_class_layer(m, classes[..., None].repeat(3, -1), sinusoidal_scene, scheme)
    with pytest.raises(CRSError, match="no CRS"):
        maps.add_class_layer(m, classes, (Affine(30, 0, 0, 0, -30, 0), None), scheme)
    with pytest.raises(CRSError, match="no CRS"):
        maps.add_class_layer(m, classes, replace(sinusoidal_scene, crs=None), scheme)
    with pytest.raises(InvalidParameterError, match="ClassScheme"):
        maps.add_class_layer(m, classes, sinusoidal_scene, {1: "water"})
    with pytest.raises(InvalidParameterError, match="transform, crs"):
        maps.add_class_layer(m, classes, "EPSG:4326", scheme)


def test_scene_layer_by_band_names(sinusoidal_scene):
    import folium

    m = maps.make_map(sinusoidal_scene, offline=True)
    overlay = maps.add_scene_layer(m, sinusoidal_scene, bands=("nir", "red", "green"), layer_name="False colour")
    control = folium.LayerControl().add_to(m)
    _render(m)
    assert list(control.overlays) == ["False colour"]
    assert _overlay_png(overlay)[..., 3].max() == 255
    with pytest.raises(InvalidParameterError, match="3 band names"):
        maps.add_scene_layer(m, sinusoidal_scene, bands=("red", "green"))
    with pytest.raises(Exception, match="ultraviolet"):  # the bands room names the missing band
        maps.add_scene_layer(m, sinusoidal_scene, bands=("red", "green", "ultraviolet"))


@pytest.mark.parametrize("folder, file, bands, nir, lonlat", [
    ("sentinel2-obidos", "S2_obidos_B1-B12_reflectance.tif", ("B4", "B3", "B2"), "B8", (-56.36, -1.47)),
    ("landsat5-tucurui", "LT05_224063_19880814_B1-7.tif", ("B3", "B2", "B1"), "B4", None),
])
def test_real_scene_and_class_layers_on_a_map(realdata, folder, file, bands, nir, lonlat):
    """A real scene's own grid (EPSG:4326 Sentinel-2, UTM Landsat-5): composite by band name, a class map."""
    import folium
    import rasterio

    from geonb.classes import ClassScheme
    from geonb.scene import Scene

    path = realdata / folder / file
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with rasterio.open(path) as ds:
        data = ds.read(masked=True).astype(np.float32)
        names = tuple(d or f"band{i + 1}" for i, d in enumerate(ds.descriptions))
        transform, crs = ds.transform, ds.crs
    nodata = np.ma.getmaskarray(data).any(axis=0) | ~np.isfinite(data.filled(np.nan)).all(axis=0)
    image = np.moveaxis(data.filled(0), 0, -1)
    scene = Scene(np.nan_to_num(image), band_names=names, crs=crs, transform=transform, nodata_mask=nodata,
                  name=folder)
    green, nir = image[..., names.index(bands[1])], image[..., names.index(nir)]
    classes = np.where(nodata, 0, np.where(green > nir, 1, 2)).astype(np.uint8)  # NDWI > 0
    scheme = ClassScheme.from_names(["water", "land"])
    m = maps.make_map(scene, offline=True)
    img = maps.add_scene_layer(m, scene, bands=bands, layer_name="Image")
    cls = maps.add_class_layer(m, classes, scene, scheme, layer_name="Water by threshold")
    control = folium.LayerControl(collapsed=False).add_to(m)
    html = _render(m)
    assert list(control.overlays) == ["Image", "Water by threshold"]
    assert "Water by threshold" in html and "water" in html and "land" in html  # the legend
    assert maps.external_urls(html) == []
    for overlay in (img, cls):
        assert _overlay_png(overlay)[..., 3].max() == 255
        (south, west), (north, east) = overlay.bounds
        w0, s0, e0, n0 = maps.scene_bounds_wgs84(scene)
        assert west == pytest.approx(w0, abs=1e-2) and north == pytest.approx(n0, abs=1e-2)
    if lonlat is not None:
        assert west < lonlat[0] < east and south < lonlat[1] < north


# ---- the offline world basemap (issue 17) ------------------------------------------------------------
def test_offline_map_draws_the_world_and_an_online_one_does_not():
    offline = _render(maps.make_map((46.4, 6.5), offline=True))
    online = _render(maps.make_map((46.4, 6.5), offline=False))
    assert "geonbWorld" in offline and '"kind":"land"' in offline and '"kind":"border"' in offline
    assert "geonbWorld" not in online  # online: the tile basemap as before
    assert "geonbWorld" not in _render(maps.make_map((46.4, 6.5), offline=True, world=False))
    assert "geonbWorld" in _render(maps.make_map((46.4, 6.5), offline=False, world=True))


def test_world_vectors_are_coarse_world_coastlines_and_borders():
    import json

    import shapely
    from shapely.geometry import Point, shape

    doc = json.loads(maps._world_json())
    geoms = {f["properties"]["kind"]: shape(f["geometry"]) for f in doc["features"]}
    land, borders = geoms["land"], geoms["border"]
    assert land.geom_type == "MultiPolygon" and borders.geom_type == "MultiLineString"
    # Lake Onega's shore is land, the middle of the Atlantic and of the Pacific are not.
    assert land.contains(Point(35.0, 62.0)) and land.contains(Point(12.5, 43.0))
    assert not land.contains(Point(-30.0, 30.0)) and not land.contains(Point(-150.0, 0.0))
    # Borders cross Europe (France-Germany) but not the open sea.
    assert borders.distance(Point(7.6, 48.6)) < 1.0 and borders.distance(Point(-30.0, 30.0)) > 10
    assert 1_000 < shapely.get_num_coordinates(land) < 20_000  # 1:110m: coarse, small


def test_saved_offline_map_stays_small(tmp_path):
    catalog = _catalog([f"Lake {k}" for k in range(150)], splits=("train", "val", "test"))
    with_world = maps.make_map(None, offline=True)
    maps.add_lake_footprints(with_world, catalog, markers=True)
    without = maps.make_map(None, offline=True, world=False)
    maps.add_lake_footprints(without, catalog, markers=True)
    a = maps.save_map(with_world, tmp_path / "a.html").stat().st_size
    b = maps.save_map(without, tmp_path / "b.html").stat().st_size
    assert a <= 5_000_000
    assert 50_000 < a - b < 250_000  # the world costs about 120 kB, once per map


def test_add_world_layer_checks_its_style():
    m = maps.make_map((0.0, 0.0), offline=True, world=False)
    with pytest.raises(InvalidParameterError, match="`style` has unknown keys"):
        maps.add_world_layer(m, style={"ocean": "#0000ff"})
    with pytest.raises(InvalidParameterError, match=r"`style\['coast'\]`"):
        maps.add_world_layer(m, style={"coast": "not a colour"})
    with pytest.raises(InvalidParameterError, match="`border_weight`"):
        maps.add_world_layer(m, border_weight=-1)
    layer = maps.add_world_layer(m, style={"coast": "#000000"})
    assert layer.style["coast"] == "#000000" and layer.style["land"] == maps.WORLD_STYLE["land"]


def test_map_assets_are_package_data():
    """Every file the maps read is matched by pyproject's package-data globs (so a wheel ships it)."""
    import fnmatch
    from pathlib import Path

    import tomllib

    root = Path(maps.__file__).resolve().parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["geonb"]
    used = ["maps.css", "legend.js", "swipe.js", "world.js", maps.WORLD_FILE]
    for name in used:
        rel = f"{maps.ASSETS}/{name}"
        assert (root / "geonb" / rel).is_file(), rel
        assert any(fnmatch.fnmatch(rel, g) for g in globs), (rel, globs)
    css = maps._asset("maps.css")
    assert ".geonb-legend" in css and "image-rendering:pixelated" in css


def test_synthetic_lakes_say_so_in_popups_and_layer_names(sinusoidal_scene):
    catalog = _catalog(["Lake Onega", "Lake Real"])
    catalog["features"][0]["properties"]["source"] = "synthetic"
    catalog["features"][1]["properties"]["source"] = "MOD09A1 surface reflectance, JRC GSW labels"
    html = _render(_with(maps.add_lake_footprints, catalog))
    assert "synthetic scene near Lake Onega" in html
    assert "synthetic scene near Lake Real" not in html and "Lake Real" in html
    synthetic = replace(sinusoidal_scene, properties={**sinusoidal_scene.properties, "source": "synthetic"})
    m = maps.make_map(synthetic, offline=True)
    layer = maps.add_scene_layer(m, synthetic)
    assert layer.layer_name.startswith("synthetic scene near Test lake")
    assert maps.add_label_layer(m, sinusoidal_scene).layer_name == "Test lake: label"  # real: its name


def _with(add, catalog):
    m = maps.make_map((46.4, 7.0), offline=True)
    add(m, catalog)
    return m


def test_maps_import_no_drawing_room_and_no_private_name():
    """maps takes colours from geonb.colors and scores from geonb.evaluation, never from plots."""
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, geonb.maps; print('geonb.plots' in sys.modules, 'geonb.widgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    import ast

    root = Path(maps.__file__).resolve().parent
    for name in ("maps.py", "plots.py", "widgets.py", "colors.py"):
        tree = ast.parse((root / name).read_text())
        found = [(node.module, a.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and (node.module or "").startswith("geonb") for a in node.names if a.name.startswith("_")]
        assert found == [], (name, found)
