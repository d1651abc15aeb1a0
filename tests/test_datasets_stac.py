"""geonb.datasets.stac: the whole fetch path offline, against a local STAC API stub.

The stub (``tests/stac_server.py``) serves a STAC API and cloud-optimised GeoTIFFs written here:
two MODIS-like 500 m sinusoidal tiles side by side (the lake straddles their edge), two 8-day
composites (one cloudy, one clear), and one JRC-like occurrence tile in WGS84. A lake is an
ellipse: water in the JRC tile, dark in the NIR of the MODIS tiles.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.warp import transform as warp_transform
from rasterio.warp import transform_bounds
from stac_server import StacStub

from geonb.datasets import LakeDataset
from geonb.datasets import stac as gstac
from geonb.datasets.stac import (
    LakeRequest,
    check_bbox,
    classify_water_fraction,
    clear_mask,
    fetch_lakes,
    parse_lakes,
    request_key,
    split_for,
)
from geonb.errors import (
    BandMismatchError,
    CoverageError,
    InvalidParameterError,
    NetworkError,
    OutputExistsError,
)
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER

SINU = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
PIX = 463.312716525
GRID_X0, GRID_Y0 = -20015109.354, 10007554.677
LAKE = ("Test Lake", (30.0, -1.0, 30.3, -0.7))
CENTRE, SEMI = (30.15, -0.85), (0.08, 0.06)  # lon, lat of the ellipse; semi-axes in degrees
TILE = 512  # MODIS tile side (pixels) in the fake world: the lake window is a small part of it
BANDS = [f"sur_refl_b{i:02d}" for i in range(1, 8)]
STATE = "sur_refl_state_500m"
SCALE = 0.0002  # deliberately not MODIS's 0.0001: the reader must take it from `raster:bands`
WATER_REFL = (0.03, 0.02, 0.05, 0.04, 0.01, 0.006, 0.004)
LAND_REFL = (0.08, 0.30, 0.05, 0.09, 0.32, 0.25, 0.15)
DATES = [("2020-06-01", "2020-06-08"), ("2020-06-09", "2020-06-16")]
KW = {"start": "2020-06-01", "end": "2020-06-30", "signer": None, "progress": False, "backoff_s": 0.01,
      "retries": 2, "timeout_s": 10}


def in_lake(lon, lat):
    return ((lon - CENTRE[0]) / SEMI[0]) ** 2 + ((lat - CENTRE[1]) / SEMI[1]) ** 2 <= 1.0


def write_cog(path, array, crs, transform, nodata):
    profile = {"driver": "COG", "height": array.shape[0], "width": array.shape[1], "count": 1,
               "dtype": array.dtype, "crs": crs, "transform": transform, "nodata": nodata,
               "blocksize": 128, "compress": "NONE", "overviews": "NONE"}
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(array, 1)


def modis_tiles():
    """Two tiles' transforms on the global MODIS grid, meeting near the lake centre."""
    (cx,), (cy,) = warp_transform("EPSG:4326", SINU, [CENTRE[0]], [CENTRE[1]])
    col = math.floor((cx - GRID_X0) / PIX)
    row = math.floor((GRID_Y0 - cy) / PIX)
    x_edge = GRID_X0 + col * PIX
    top = GRID_Y0 - (row - TILE // 2) * PIX
    west = Affine(PIX, 0, x_edge - TILE * PIX, 0, -PIX, top)
    east = Affine(PIX, 0, x_edge, 0, -PIX, top)
    return {"h20v09": west, "h21v09": east}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Write the fake tiles once; returns the folder and the STAC collections and items (hrefs with {base})."""
    d = tmp_path_factory.mktemp("stac_world")
    rng = np.random.default_rng(0)
    items = []
    lakes = {}
    for tile, t in modis_tiles().items():
        rows, cols = np.mgrid[0:TILE, 0:TILE]
        xs, ys = t * (cols + 0.5, rows + 0.5)
        lon, lat = warp_transform(SINU, "EPSG:4326", xs.ravel(), ys.ravel())
        lakes[tile] = in_lake(np.array(lon), np.array(lat)).reshape(TILE, TILE)
    for (start, end), cloudy in zip(DATES, (True, False), strict=True):
        for tile, t in modis_tiles().items():
            water = lakes[tile]
            assets = {}
            for b, key in enumerate(BANDS):
                refl = np.where(water, WATER_REFL[b], LAND_REFL[b]) + rng.normal(0, 0.003, water.shape)
                raw = np.rint(refl / SCALE).astype(np.int16)
                raw[TILE // 2 + 3, :] = -28672  # a nodata stripe through the lake
                name = f"{tile}_{start}_{key}.tif"
                write_cog(d / name, raw, SINU, t, -28672)
                assets[key] = name
            state = np.zeros((TILE, TILE), np.uint16)
            if cloudy:
                state[rng.random(state.shape) < 0.7] = 0b01  # cloudy
            name = f"{tile}_{start}_{STATE}.tif"
            write_cog(d / name, state, SINU, t, 65535)
            assets[STATE] = name
            wgs = transform_bounds(SINU, "EPSG:4326", *rasterio.transform.array_bounds(TILE, TILE, t))
            items.append(modis_item(f"MOD09A1.{start}.{tile}", wgs, start, end, assets, "terra"))
            if not cloudy:  # an Aqua composite (same collection), clear and earlier: used only if asked for
                items.append(modis_item(f"MYD09A1.2020-06-05.{tile}", wgs, "2020-06-05", "2020-06-12", assets,
                                        "aqua"))
    # JRC occurrence at 0.0005 degree (about 55 m), percent 0-100, nodata 255.
    res, (w, s, e, n) = 0.0005, (29.8, -1.2, 30.6, -0.4)
    shape = (round((n - s) / res), round((e - w) / res))
    t = Affine(res, 0, w, 0, -res, n)
    r, c = np.mgrid[0:shape[0], 0:shape[1]]
    lon, lat = t * (c + 0.5, r + 0.5)
    occ = np.where(in_lake(lon, lat), 100, 0).astype(np.uint8)
    occ[:20, :20] = 255
    write_cog(d / "jrc_occurrence.tif", occ, "EPSG:4326", t, 255)
    items.append(jrc_item("occurrence_30E_0N", (w, s, e, n), {"occurrence": "jrc_occurrence.tif"}))
    return d, collections(), items


def modis_item(item_id, bbox, start, end, assets, platform=None):
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": "modis-09A1-061",
        "geometry": box_geom(bbox), "bbox": list(bbox),
        "properties": {"datetime": None, "start_datetime": f"{start}T00:00:00Z", "end_datetime": f"{end}T23:59:59Z"},
        "links": [],
        "assets": {k: {"href": "{base}/files/" + v, "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                       "roles": ["data"]} for k, v in assets.items()},
    }
    if platform:
        item["properties"]["platform"] = platform
    return item


def jrc_item(item_id, bbox, assets):
    item = modis_item(item_id, bbox, "1984-03-01", "2020-12-31", assets)
    item["collection"] = "jrc-gsw"
    return item


def box_geom(b):
    w, s, e, n = b
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def collections():
    band = {"raster:bands": [{"nodata": -28672, "scale": SCALE, "data_type": "int16"}]}
    modis = {
        "type": "Collection", "stac_version": "1.0.0", "id": "modis-09A1-061", "description": "fake MOD09A1",
        "license": "proprietary", "links": [],
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]},
                   "temporal": {"interval": [["2000-02-18T00:00:00Z", None]]}},
        "item_assets": {**{k: dict(band) for k in BANDS},
                        STATE: {"raster:bands": [{"nodata": 65535, "data_type": "uint16"}]}},
    }
    jrc = json.loads(json.dumps(modis))
    jrc.update(id="jrc-gsw", description="fake JRC GSW", license="CC-BY-4.0",
               item_assets={"occurrence": {"raster:bands": [{"nodata": 255, "data_type": "uint8"}]}})
    return [modis, jrc]


@pytest.fixture
def stub(world):
    d, cols, items = world
    with StacStub(d) as s:
        for c in cols:
            s.add_collection(c)
        for it in items:
            s.add_item(it)
        yield s


# -------------------------------------------------------------------------------------------
# The whole path
# -------------------------------------------------------------------------------------------
def test_fetch_writes_a_dataset_that_loads_and_is_right(stub, tmp_path):
    root = tmp_path / "lakes"
    ds = fetch_lakes([LAKE], dataset="lakes-real", root=root, stac_url=stub.url, **KW)
    assert isinstance(ds, LakeDataset) and ds.ids == ["test"]
    again = LakeDataset("lakes-real", root=root)  # a fresh load from disk
    s = again.scene("test")
    props = again.lakes.loc["test"]
    # The clear composite was chosen, from both tiles (the lake straddles them).
    assert props["acquired_start"] == "2020-06-09" and props["condition"] == "clear"
    assert sorted(props["modis_items"]) == ["MOD09A1.2020-06-09.h20v09", "MOD09A1.2020-06-09.h21v09"]
    assert props["jrc_items"] == ["occurrence_30E_0N"] and props["source"].startswith("MODIS")
    assert "no restrictions" in props["licence_notes"] and props["jrc_license"] == "CC-BY-4.0"
    # Image: physical reflectance with the scale from raster:bands; nodata stripe masked.
    assert s.image.dtype == np.float32 and s.image.shape[2] == 7 and s.crs.to_proj4().startswith("+proj=sinu")
    assert s.nodata_mask.any() and (s.labels[s.nodata_mask] == NODATA).all()
    # Labels on the same grid as the image: water is dark in the NIR, land bright.
    nir = s.image[:, :, s.band_names.index("nir")]
    assert set(np.unique(s.labels)) >= {WATER, LAND, UNCLASSIFIED}
    assert abs(np.median(nir[s.labels == WATER]) - 0.02) < 0.01
    assert abs(np.median(nir[s.labels == LAND]) - 0.30) < 0.02
    # Mixed shore pixels are UNCLASSIFIED, and they sit between water and land.
    assert 0 < (s.labels == UNCLASSIFIED).sum() < (s.labels == WATER).sum()
    assert 0.05 < props["water_fraction"] < 0.5
    assert props["rows"] == s.shape[0] and props["cols"] == s.shape[1]
    cat = json.loads((root / "lakes-real" / "catalog.geojson").read_text())
    assert cat["features"][0]["geometry"]["type"] == "Polygon"


def test_reads_are_windowed_range_requests(stub, tmp_path):
    fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, cache_dir=False, **KW)
    ranges = stub.range_requests("/files/")
    assert ranges, "expected HTTP Range requests"
    full = [r for r in stub.requests_to("/files/") if r.method == "GET" and not r.range]
    assert not full, f"whole-file downloads seen: {full[:3]}"
    # Far fewer bytes than the files hold: only the lake's window (and the headers) were read.
    names = {r.path for r in stub.requests_to("/files/")}
    total = sum((stub.files_dir / n[len("/files/"):]).stat().st_size for n in names)
    assert stub.bytes_sent("/files/") < 0.6 * total


def test_rerun_uses_the_cache_and_needs_no_network(stub, tmp_path, world):
    root = tmp_path / "lakes"
    fetch_lakes([LAKE], root=root, stac_url=stub.url, **KW)
    n = len(stub.log)
    stub.stop()  # offline from now on
    ds = fetch_lakes([LAKE], root=root, stac_url=stub.url, **KW)  # already in the dataset: no-op
    assert ds.ids == ["test"] and len(stub.log) == n
    # Another dataset from the same request is filled from the cache, offline.
    ds2 = fetch_lakes([LAKE], dataset="lakes-copy", root=root, stac_url=stub.url, **KW)
    assert ds2.scene("test").shape == ds.scene("test").shape
    assert list((tmp_path / "cache" / "stac").iterdir())


def test_changed_settings_need_overwrite(stub, tmp_path):
    root = tmp_path / "lakes"
    fetch_lakes([LAKE], root=root, stac_url=stub.url, **KW)
    kw = dict(KW, end="2020-06-20")
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        fetch_lakes([LAKE], root=root, stac_url=stub.url, **kw)
    ds = fetch_lakes([LAKE], root=root, stac_url=stub.url, overwrite=True, **kw)
    assert ds.lakes.loc["test", "request_end"] == "2020-06-20" and len(ds) == 1


def test_aqua_composites_only_when_asked_for(stub, tmp_path):
    ds = fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, platforms=("terra", "aqua"), **KW)
    props = ds.lakes.loc["test"]
    assert props["platform"] == "aqua" and props["acquired_start"] == "2020-06-05"
    assert props["modis_candidates"] == 3


def test_thresholds_change_the_labels(stub, tmp_path):
    ds = fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, water_min=0.5, land_max=0.5, **KW)
    labels = ds.scene("test").labels
    assert UNCLASSIFIED not in np.unique(labels) and WATER in labels


def test_notebook_cell_runs_on_fetched_lakes(stub, tmp_path):
    """What 01_explore_lakes does with a dataset: class balance and an RGB composite."""
    ds = fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, **KW)
    scene = ds.scene(ds.ids[0])
    balance = {c: int((scene.labels == c).sum()) for c in (WATER, LAND, UNCLASSIFIED)}
    rgb = scene.select_bands(("red", "green", "blue")).image
    assert sum(balance.values()) > 0 and rgb.shape[2] == 3 and np.isfinite(rgb).all()
    table = ds.pixel_table()
    assert set(table["label"].unique()) <= {WATER, LAND, UNCLASSIFIED}
    assert ds.summary() is not None


def test_signer_is_applied(stub, tmp_path):
    """A signer (like planetary_computer.sign_inplace) rewrites asset hrefs; the reads use the signed URLs."""
    seen = []

    def signer(obj):
        seen.append(type(obj).__name__)
        features = obj.get("features", []) if isinstance(obj, dict) else []
        for feat in features:
            for asset in feat.get("assets", {}).values():
                asset["href"] += "?sig=token"

    fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, cache_dir=False, **dict(KW, signer=signer))
    assert "dict" in seen
    files = stub.requests_to("/files/")
    assert files and all(r.query == "sig=token" for r in files)


def test_cli_data_fetch(stub, tmp_path, capsys):
    from geonb.cli import main

    argv = ["data", "fetch", "Test Lake", "--bbox", *map(str, LAKE[1]), "--start", "2020-06-01", "--end",
            "2020-06-30", "--dataset", "lakes-cli", "--root", str(tmp_path / "lakes"), "--stac-url", stub.url,
            "--no-sign", "--quiet"]
    assert main(argv) == 0
    assert "lakes-cli: 1 lake(s)" in capsys.readouterr().out
    assert LakeDataset("lakes-cli", root=tmp_path / "lakes").ids == ["test"]
    assert main(["data", "fetch", "Lake Victria", "--stac-url", stub.url, "--no-sign", "--quiet"]) == 2
    assert "did you mean 'Lake Victoria'" in capsys.readouterr().err


# -------------------------------------------------------------------------------------------
# Network trouble: retries, offline, failed chips
# -------------------------------------------------------------------------------------------
def test_transient_errors_are_retried(stub, tmp_path):
    stub.fail("/search", 503, times=2)
    stub.fail("/files/h21v09_2020-06-09_sur_refl_b02", 503, times=1)
    ds = fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, cache_dir=False, **KW)
    assert len(ds) == 1
    assert [r.status for r in stub.requests_to("/search")][:3] == [503, 503, 200]
    assert 503 in [r.status for r in stub.requests_to("/files/h21v09_2020-06-09_sur_refl_b02")]


def test_persistent_errors_give_up_with_a_clear_message(stub, tmp_path):
    stub.fail("/search", 503, times=100)
    with pytest.raises(NetworkError, match="lakes-synthetic"):
        fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, **KW)
    assert len(stub.requests_to("/search")) == KW["retries"] + 1  # bounded
    assert not (tmp_path / "lakes" / "lakes-real").exists()


def test_offline_message(tmp_path):
    with pytest.raises(NetworkError, match=r"cannot reach the STAC API at http://127\.0\.0\.1:9.*lakes-synthetic"):
        fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url="http://127.0.0.1:9", **KW)


def test_failed_chip_leaves_no_files_and_no_catalog_entry(stub, tmp_path):
    root = tmp_path / "lakes"
    fetch_lakes([("Other Lake", (30.0, -1.0, 30.1, -0.9))], root=root, stac_url=stub.url, **KW)
    stub.fail("/files/h20v09_2020-06-09_sur_refl_b05", 404, times=100)
    with pytest.raises(OSError):
        fetch_lakes([LAKE], root=root, stac_url=stub.url, cache_dir=False, **KW)
    ds = LakeDataset("lakes-real", root=root)
    assert ds.ids == ["other"]
    files = sorted(p.name for p in (root / "lakes-real").rglob("*") if p.is_file())
    assert files == ["catalog.geojson", "other.tif", "other.tif"]


def test_skip_failed_goes_on_with_a_warning(stub, tmp_path):
    lakes = [LAKE, ("Far Lake", (100.0, 10.0, 100.1, 10.1))]
    with pytest.warns(UserWarning, match="Far Lake"):
        ds = fetch_lakes(lakes, root=tmp_path / "lakes", stac_url=stub.url, skip_failed=True, **KW)
    assert ds.ids == ["test"]


# -------------------------------------------------------------------------------------------
# Bad input
# -------------------------------------------------------------------------------------------
def test_unknown_lake_suggests_close_names():
    with pytest.raises(InvalidParameterError, match="Lake Victoria"):
        parse_lakes("Lake Victria")


@pytest.mark.parametrize("bbox, match", [
    ((30.3, -1.0, 30.0, -0.7), "west < east"),
    ((30.0, -0.7, 30.3, -1.0), "south < north"),
    ((30.0, -95.0, 30.3, -0.7), r"\[-90, 90\]"),
    ((30.0, 80.0, 30.3, 91.0), r"\[-90, 90\]"),
    ((30.0, -1.0, 190.0, -0.7), "longitudes"),
    ((30.0, -1.0, 30.3), "4 numbers"),
    ((30.0, float("nan"), 30.3, -0.7), "non-finite"),
])
def test_bad_bbox(bbox, match):
    with pytest.raises(InvalidParameterError, match=match):
        check_bbox(bbox)
    with pytest.raises(InvalidParameterError):
        fetch_lakes([("x", bbox)], stac_url="http://127.0.0.1:9", **KW)


def test_date_range_without_acquisitions(stub, tmp_path):
    with pytest.raises(CoverageError, match="no modis-09A1-061 acquisitions.*widen the dates"):
        fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, **dict(KW, start="2019-01-01",
                                                                              end="2019-01-31"))


@pytest.mark.parametrize("kw, match", [
    ({"start": "2020-07-01", "end": "2020-06-01"}, "after `end`"),
    ({"start": "June 1"}, "YYYY-MM-DD"),
    ({"water_min": 0.2, "land_max": 0.8}, "land_max <= water_min"),
    ({"occurrence_min": 0}, "occurrence_min"),
    ({"split": "holdout"}, "split"),
    ({"dataset": "../x"}, "dataset"),
])
def test_bad_parameters(kw, match):
    with pytest.raises(InvalidParameterError, match=match):
        fetch_lakes([LAKE], stac_url="http://127.0.0.1:9", **{**KW, **kw})


def test_item_missing_a_band(stub, tmp_path):
    for it in stub.items:
        if it["collection"] == "modis-09A1-061" and "2020-06-09" in it["id"]:
            del it["assets"]["sur_refl_b06"]
    with pytest.raises(BandMismatchError, match="sur_refl_b06"):
        fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, **KW)


def test_label_collection_not_covering_the_lake(stub, tmp_path):
    # MODIS covers this box (the tiles reach further east than the JRC tile) but JRC does not.
    (lon,), (lat,) = warp_transform(SINU, "EPSG:4326", [modis_tiles()["h21v09"].c + (TILE - 10) * PIX],
                                    [modis_tiles()["h21v09"].f - 100 * PIX])
    box = (30.6, lat - 0.02, lon, lat + 0.02)
    with pytest.raises(CoverageError, match="jrc-gsw.*does not cover"):
        fetch_lakes([("Edge Lake", box)], root=tmp_path / "lakes", stac_url=stub.url, **KW)
    assert not (tmp_path / "lakes" / "lakes-real" / "images" / "edge.tif").exists()


def test_too_large_a_box(stub, tmp_path):
    with pytest.raises(InvalidParameterError, match="max_chip_px"):
        fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, max_chip_px=10, **KW)


def test_missing_collection_on_the_api(stub, tmp_path):
    del stub.collections["jrc-gsw"]
    with pytest.raises(FileNotFoundError, match="no collection 'jrc-gsw'"):
        fetch_lakes([LAKE], root=tmp_path / "lakes", stac_url=stub.url, **KW)


# -------------------------------------------------------------------------------------------
# Pure helpers
# -------------------------------------------------------------------------------------------
def test_clear_mask_bits():
    state = np.array([0b00, 0b01, 0b10, 0b11, 0b100, 1 << 10, 1 << 12, 1 << 13], dtype=np.uint16)
    assert clear_mask(state).tolist() == [True, False, False, True, False, False, True, True]


def test_classify_water_fraction_thresholds():
    f = np.array([[0.0, 0.2, 0.21], [0.79, 0.8, np.nan]])
    assert classify_water_fraction(f).tolist() == [[LAND, LAND, UNCLASSIFIED], [UNCLASSIFIED, WATER, NODATA]]
    assert classify_water_fraction(f, 0.5, 0.5).tolist() == [[LAND, LAND, LAND], [WATER, WATER, NODATA]]
    with pytest.raises(InvalidParameterError):
        classify_water_fraction(f, water_min=0.1, land_max=0.9)


def test_request_key_depends_on_every_setting():
    r = LakeRequest("Test Lake", "test", LAKE[1])
    base = request_key(r, start="2020-06-01", end="2020-06-30", water_min=0.8)
    assert base == request_key(r, start="2020-06-01", end="2020-06-30", water_min=0.8)
    assert base != request_key(r, start="2020-06-01", end="2020-06-30", water_min=0.7)
    assert base != request_key(LakeRequest("Test Lake", "test", (30.0, -1.0, 30.3, -0.8)),
                               start="2020-06-01", end="2020-06-30", water_min=0.8)


def test_parse_lakes_forms():
    one = parse_lakes("Lake Geneva")
    assert one[0].id == "geneva" and one[0].bbox[0] < 6.55 < one[0].bbox[2]
    assert parse_lakes(LAKE)[0].bbox == LAKE[1]
    assert parse_lakes("Lake Geneva", bbox=(6.1, 46.2, 6.9, 46.6))[0].bbox == (6.1, 46.2, 6.9, 46.6)
    with pytest.raises(InvalidParameterError, match="twice"):
        parse_lakes(["Lake Geneva", "geneva"])
    with pytest.raises(InvalidParameterError, match="empty"):
        parse_lakes([])
    with pytest.raises(InvalidParameterError, match="single lake"):
        parse_lakes(["Lake Geneva", "Lake Garda"], bbox=(6.1, 46.2, 6.9, 46.6))


def test_split_is_stable_and_balanced():
    splits = [split_for(f"lake-{i}") for i in range(2000)]
    share = splits.count("train") / len(splits)
    assert 0.65 < share < 0.75 and split_for("victoria") == split_for("victoria")


def test_default_signer_is_planetary_computer():
    import inspect

    assert inspect.signature(fetch_lakes).parameters["signer"].default is gstac.sign_planetary_computer
    assert gstac.DEFAULT_STAC_URL.startswith("https://planetarycomputer.microsoft.com")


def test_merge_onto_reads_only_the_overlap_and_decimates(tmp_path):
    t = Affine(10, 0, 1000, 0, -10, 2000)
    data = np.arange(40 * 50, dtype=np.int32).reshape(40, 50)
    with rasterio.open(tmp_path / "a.tif", "w", driver="GTiff", height=40, width=50, count=1, dtype="int32",
                       crs="EPSG:3857", transform=t) as ds:
        ds.write(data, 1)
    with rasterio.open(tmp_path / "a.tif") as ds:
        # A grid hanging 5 pixels off the left and top edges.
        grid = gstac._Grid(ds.crs, t * Affine.translation(-5, -5), (20, 20))
        out, covered = gstac._merge_onto([ds], grid, fill=-1)
        assert covered[5:, 5:].all() and not covered[:5].any() and not covered[:, :5].any()
        assert (out[5:, 5:] == data[:15, :15]).all()
        # Every 2nd pixel on a grid twice as coarse.
        coarse = gstac._Grid(ds.crs, t * Affine.scale(2), (10, 10))
        out2, cov2 = gstac._merge_onto([ds], coarse, fill=-1, step=2)
        assert cov2.all() and out2[3, 4] in data[6:8, 8:10]  # one pixel of each 2 x 2 block
        misaligned = gstac._Grid(ds.crs, t * Affine.translation(0.5, 0), (5, 5))
        with pytest.raises(gstac.GridMismatchError, match="aligned"):
            gstac._merge_onto([ds], misaligned, fill=-1)


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, geonb.datasets.stac; "
            "print(any(m in sys.modules for m in ('pystac_client', 'planetary_computer', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_water_fractions_and_split_shares_out_of_range_are_refused():
    with pytest.raises(InvalidParameterError, match=r"found \[1.5\].*divided by 100"):
        classify_water_fraction(np.array([1.5, 0.2]))
    # a resampled average a rounding error above 1 is still water
    assert classify_water_fraction(np.array([1.0 + 1e-7], np.float64)).tolist() == [WATER]
    with pytest.raises(InvalidParameterError, match="`fractions`"):
        split_for("x", {"train": 2.0, "val": 0.1, "test": 0.1})
    assert split_for("x", {"train": 1.0}) == "train"


def test_mosaic_uses_the_catalogue_nodata_not_the_files_tag(tmp_path):
    """A tile tagged nodata=0 whose STAC raster:bands say 255: its 0s are valid (JRC occurrence 0 = land)."""
    import rasterio
    from rasterio.transform import from_origin

    from geonb.datasets import stac

    path = tmp_path / "tile.tif"
    data = np.array([[0, 50], [255, 100]], np.uint8)
    transform = from_origin(100.0, 200.0, 30.0, 30.0)
    with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8", crs="EPSG:32633",
                       transform=transform, nodata=0) as dst:
        dst.write(data, 1)
    grid = stac._Grid("EPSG:32633", transform, (2, 2))
    with rasterio.open(path) as ds:
        values, valid = stac._merge_onto([ds], grid, 255.0)
    assert valid.tolist() == [[True, True], [False, True]]
    assert values[valid].tolist() == [0.0, 50.0, 100.0]
    with rasterio.open(path) as ds:  # the tag agrees with the catalogue: the same mask either way
        _, valid0 = stac._merge_onto([ds], grid, 0.0)
    assert valid0.tolist() == [[False, True], [True, True]]
