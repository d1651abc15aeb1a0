"""The saved lake map in a real headless Chromium, with every request to the internet blocked."""

from __future__ import annotations

import pytest
from browser import png_array, png_pixel, screenshot

from geonb import maps
from geonb.colors import LAKE_COLORS, WORLD_STYLE
from geonb.labels import WATER

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

EVIL = "<script>alert('pwned')</script> Lac <b>Léman</b>"


def _rgb(hex_color):
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


def _footprint_catalog(scene, name):
    west, south, east, north = maps.scene_bounds_wgs84(scene)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"id": "test-lake", "name": name, "split": "test", "rows": scene.shape[0],
                       "cols": scene.shape[1], "water_fraction": 0.5}}]}


@pytest.fixture
def saved_map(tmp_path, sinusoidal_scene):
    import folium

    scene = sinusoidal_scene
    m = maps.make_map(scene, offline=True, height=600)
    maps.add_lake_footprints(m, _footprint_catalog(scene, EVIL), layer_name="Lakes")
    image = maps.add_scene_layer(m, scene, layer_name="Image")
    label = maps.add_label_layer(m, scene, layer_name="Label", opacity=1.0)
    folium.LayerControl(collapsed=False).add_to(m)
    return maps.save_map(m, tmp_path / "lake.html"), image, label


def _open(page, path):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container img.leaflet-image-layer")
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    return dialogs


def test_saved_map_renders_offline_with_layers(chromium_page, saved_map):
    path, _, _ = saved_map
    page = chromium_page
    dialogs = _open(page, path)
    assert page.locator("img.leaflet-image-layer").count() == 2
    names = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [n.strip() for n in names] == ["Lakes", "Image", "Label"]
    assert page.locator(".geonb-legend").count() == 1
    errors = [m for m in page.geonb_console if m.startswith(("pageerror", "error"))]
    assert errors == [] and dialogs == []
    screenshot(page, "map_offline")


def test_water_overlay_pixel_has_the_house_colour(chromium_page, saved_map):
    path, _, _ = saved_map
    page = chromium_page
    _open(page, path)
    # Hide the footprints first: their translucent fill lies over the rasters.
    page.locator(".leaflet-control-layers-overlays label", has_text="Lakes").locator("input").click()
    page.wait_for_function("() => document.querySelectorAll('path.leaflet-interactive').length === 0")
    label_img = page.locator("img.leaflet-image-layer").nth(1)
    box = label_img.bounding_box()
    # Water fills the left half of the scene; a point a quarter across, half way down, is water.
    x, y = box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5
    rgba = png_pixel(page.screenshot(), x, y)
    assert all(abs(a - b) <= 3 for a, b in zip(rgba[:3], _rgb(LAKE_COLORS[WATER]), strict=True)), rgba


def test_toggling_a_layer_hides_it(chromium_page, saved_map):
    path, _, _ = saved_map
    page = chromium_page
    _open(page, path)
    label_toggle = page.locator(".leaflet-control-layers-overlays label", has_text="Label").locator("input")
    assert label_toggle.is_checked()
    label_toggle.click()
    page.wait_for_function("() => document.querySelectorAll('img.leaflet-image-layer').length === 1")
    assert not label_toggle.is_checked()
    screenshot(page, "map_label_hidden")
    label_toggle.click()
    page.wait_for_function("() => document.querySelectorAll('img.leaflet-image-layer').length === 2")


def test_popup_opens_and_shows_the_escaped_name(chromium_page, saved_map):
    path, _, _ = saved_map
    page = chromium_page
    dialogs = _open(page, path)
    page.locator("path.leaflet-interactive").first.click(position={"x": 5, "y": 5}, force=True)
    popup = page.wait_for_selector(".leaflet-popup-content")
    text = popup.inner_text()
    assert "<script>alert('pwned')</script>" in text  # shown as text, not run
    assert "<b>Léman</b>" in text
    assert page.locator(".leaflet-popup-content script").count() == 0
    assert "&lt;b&gt;Léman&lt;/b&gt;" in popup.inner_html()
    assert "water fraction" in text and "50.0%" in text
    assert dialogs == []
    screenshot(page, "map_popup")


def test_side_by_side_swipe_clips_the_layers(chromium_page, tmp_path, sinusoidal_scene):
    m = maps.make_map(sinusoidal_scene, offline=True, height=600)
    left = maps.add_scene_layer(m, sinusoidal_scene, layer_name="Image")
    right = maps.add_label_layer(m, sinusoidal_scene, layer_name="Label", opacity=1.0)
    maps.add_side_by_side(m, left, right, start=0.5)
    path = maps.save_map(m, tmp_path / "swipe.html")
    page = chromium_page
    _open(page, path)
    page.wait_for_selector(".geonb-swipe-range", state="attached")
    clip_left = page.locator("img.leaflet-image-layer").nth(0).evaluate("e => e.style.clipPath")
    clip_right = page.locator("img.leaflet-image-layer").nth(1).evaluate("e => e.style.clipPath")
    assert clip_left.startswith("inset(0px") and clip_right.startswith("inset(0px 0px 0px")
    screenshot(page, "map_swipe")
    # The round thumb takes the mouse (the rest of the map stays draggable): drag it to a quarter.
    box = page.locator(".leaflet-container").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 4, cy, steps=5)
    page.mouse.up()
    value = float(page.locator(".geonb-swipe-range").evaluate("e => e.value"))
    assert 0.15 < value < 0.35, value
    # Drag the swipe fully right: the left layer (image) is no longer clipped at all.
    page.evaluate("() => { const r = document.querySelector('.geonb-swipe-range'); r.value = 1; "
                  "r.dispatchEvent(new Event('input')); }")
    assert page.locator("img.leaflet-image-layer").nth(0).evaluate("e => e.style.clipPath") in (
        "inset(0px)", "inset(0px 0px 0px 0px)", "inset(0px 0px 0px)")


# ---- the offline world basemap (coastlines and borders with the network off) ----------------------
ITALY = (5.0, 36.0, 20.0, 47.5)  # west, south, east, north
#: (lat, lon) of a point in the Tyrrhenian Sea and one in the Apennines, far from any 1:110m coast.
SEA_POINT, LAND_POINT = (40.0, 12.0), (43.0, 12.5)


def _near(rgb, hex_color, tol=12):
    return all(abs(int(a) - b) <= tol for a, b in zip(rgb[:3], _rgb(hex_color), strict=True))


def _world_screenshot(page, tmp_path, world: bool):
    m = maps.make_map(ITALY, offline=True, height=600, world=world)
    path = maps.save_map(m, tmp_path / f"world_{world}.html")
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container")
    if world:
        page.wait_for_selector(".leaflet-geonbWorld-pane svg path")
    png = page.screenshot()
    points = {}
    for key, (lat, lon) in (("sea", SEA_POINT), ("land", LAND_POINT)):
        xy = page.evaluate(f"() => {{ const p = {m.get_name()}.latLngToContainerPoint([{lat}, {lon}]);"
                           "const r = document.querySelector('.leaflet-container').getBoundingClientRect();"
                           "return [p.x + r.left, p.y + r.top]; }")
        points[key] = png_pixel(png, *xy)
    arr = png_array(png)[..., :3].astype(int)
    coast = sum(abs(arr[..., i] - v) <= 24 for i, v in enumerate(_rgb(WORLD_STYLE["coast"]))) == 3
    return png, points, int(coast.sum())


def test_offline_map_draws_coastlines_and_borders(chromium_page, tmp_path):
    """With every internet request aborted, the map still shows land, sea and coastlines (package data)."""
    page = chromium_page
    png, points, coast_px = _world_screenshot(page, tmp_path, world=True)
    screenshot(page, "map_offline_world")
    assert _near(points["sea"], WORLD_STYLE["sea"]), points
    assert _near(points["land"], WORLD_STYLE["land"]), points
    # Italy's, France's and the Balkans' coasts at zoom ~5: thousands of coast-coloured pixels.
    assert coast_px > 1500, coast_px
    assert page.locator(".leaflet-geonbWorld-pane path").count() == 2  # land (coastline) + borders
    dashed = page.locator(".leaflet-geonbWorld-pane path[stroke-dasharray]")
    assert dashed.count() == 1 and dashed.get_attribute("stroke") == WORLD_STYLE["border"]
    errors = [m for m in page.geonb_console if m.startswith(("pageerror", "error"))]
    assert errors == []
    # The same map without the world layer is the blank grey of Leaflet: no coast, sea or land colours.
    _, bare, bare_coast_px = _world_screenshot(page, tmp_path, world=False)
    assert bare_coast_px < 100 and coast_px > 15 * max(bare_coast_px, 100), (bare_coast_px, coast_px)  # text only
    assert not _near(bare["sea"], WORLD_STYLE["sea"]) and not _near(bare["land"], WORLD_STYLE["land"]), bare


# ---- notebook 07 in JupyterLab -------------------------------------------------------------------
@pytest.mark.xdist_group("jupyterlab")  # one JupyterLab server for these (make test runs pytest-xdist)
@pytest.mark.notebook
@pytest.mark.timeout(900)
def test_notebook_07_map_shows_in_jupyterlab(chromium_page, jupyterlab):
    from browser import open_notebook, run_all

    page = chromium_page
    open_notebook(page, jupyterlab, "07_lake_map.ipynb")
    run_all(page, timeout_s=600)
    frame = page.frame_locator(".jp-OutputArea-output iframe").last
    frame.locator("img.leaflet-image-layer").first.wait_for(state="attached", timeout=60_000)
    names = [n.strip() for n in frame.locator(".leaflet-control-layers-overlays label").all_inner_texts()]
    assert names[0].startswith("Test lakes") and "Prediction (fcn)" in names and "Errors (fcn)" in names
    assert frame.locator("img.leaflet-image-layer").count() > 0
    assert frame.locator(".geonb-swipe-range").count() == 1
    assert frame.locator(".geonb-legend").count() == 2
    output = page.locator(".jp-OutputArea-output:has(iframe)").last
    output.scroll_into_view_if_needed()
    screenshot(output, "nb07_jupyterlab_map")
