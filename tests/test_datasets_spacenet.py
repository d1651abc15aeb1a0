"""The SpaceNet-like generator and the reader for SpaceNet's folder layout."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box, mapping

from geonb.datasets.spacenet import (
    SpaceNetDataset,
    generate_buildings,
    read_footprints,
    write_footprints,
)
from geonb.errors import (
    BandMismatchError,
    DatasetNotFoundError,
    GeoJSONError,
    InvalidParameterError,
    OutputExistsError,
)
from geonb.labels import BACKGROUND, BORDER, BUILDING, Footprints
from geonb.scene import write_raster


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return generate_buildings(root=root, n_tiles=3, tile_px=128, seed=3)


def test_sample_has_spacenet_layout(sample):
    aoi = sample / "AOI_0_Synthtown_Train"
    tifs = sorted((aoi / "PS-RGBNIR").glob("*.tif"))
    gjs = sorted((aoi / "geojson" / "buildings").glob("buildings_AOI_0_Synthtown_img*.geojson"))
    assert len(tifs) == 3 and len(gjs) == 3
    assert (aoi / "summaryData" / "AOI_0_Synthtown_Train_Building_Solutions.csv").exists()
    with rasterio.open(tifs[0]) as src:
        assert src.count == 4 and src.dtypes[0] == "uint16" and src.crs.to_epsg() == 4326
        assert src.descriptions == ("red", "green", "blue", "nir")
        assert src.read().max() <= 2047
    obj = json.loads(gjs[0].read_text())
    assert obj["crs"]["properties"]["name"] == "urn:ogc:def:crs:OGC:1.3:CRS84"
    feat = obj["features"][0]
    assert feat["properties"]["building"] == "yes" and "partialDec" in feat["properties"]
    assert len(feat["geometry"]["coordinates"][0][0]) == 3  # lon, lat, 0 as SpaceNet writes


def test_sample_is_deterministic_and_not_overwritten(sample, tmp_path):
    again = generate_buildings(root=tmp_path, n_tiles=3, tile_px=128, seed=3)
    a, b = SpaceNetDataset(sample), SpaceNetDataset(again)
    for image_id in a.ids:
        assert a.geojson_path(image_id).read_bytes() == b.geojson_path(image_id).read_bytes()
        np.testing.assert_array_equal(a.scene(image_id).image, b.scene(image_id).image)
    # Same settings: kept. Other settings: refused unless overwrite.
    assert generate_buildings(root=tmp_path, n_tiles=3, tile_px=128, seed=3) == again
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        generate_buildings(root=tmp_path, n_tiles=3, tile_px=128, seed=4)
    other = generate_buildings(root=tmp_path, n_tiles=2, tile_px=128, seed=4, overwrite=True)
    assert len(SpaceNetDataset(other)) == 2
    assert not [p for p in (tmp_path / "buildings").iterdir() if p.name.startswith(".")]


def test_sample_scene_labels_match_geojson_areas(sample):
    ds = SpaceNetDataset(sample)
    for image_id in ds.ids:
        scene = ds.scene(image_id, border_px=2)
        assert scene.shape == (128, 128) and scene.band_names == ("red", "green", "blue", "nir")
        assert 0 <= scene.image.min() and scene.image.max() <= 1.0
        fp = ds.footprints(image_id)
        # Footprint area in pixels (lon/lat degrees / pixel size in degrees) vs burnt pixels.
        a, e = scene.transform.a, -scene.transform.e
        area_px = sum(g.area for g in fp.geometries) / (a * e)
        burnt = np.count_nonzero(scene.labels != BACKGROUND)
        assert burnt == pytest.approx(area_px, rel=0.05, abs=30)
        assert set(np.unique(scene.labels)) <= {BACKGROUND, BUILDING, BORDER}
        assert scene.properties["n_buildings"] == len(fp)


def test_roofs_come_in_several_colours(sample):
    ds = SpaceNetDataset(sample)
    roofs = {f["properties"]["roof"] for image_id in ds.ids
             for f in json.loads(ds.geojson_path(image_id).read_text())["features"]}
    assert len(roofs) >= 3


def test_split_ids(sample):
    ds = SpaceNetDataset(sample)
    tr, va, te = ds.split_ids(1, 1, 1, seed=0)
    assert sorted(tr + va + te) == sorted(ds.ids)
    assert ds.split_ids(1, 1, 1, seed=0) == (tr, va, te)
    with pytest.raises(InvalidParameterError, match="has 3"):
        ds.split_ids(3, 1, 1)
    with pytest.raises(InvalidParameterError):
        ds.split_ids(-1)
    assert ds.tiles().loc[tr[0], "rows"] == 128


def _write_real_layout(root, *, with_empty=True):
    """Two tiles as a SpaceNet 2 download has them: MUL-PanSharpen 8 bands, no band names."""
    aoi = root / "AOI_2_Vegas_Train"
    t = from_origin(-115.3, 36.2, 3e-6, 3e-6)
    rng = np.random.default_rng(0)
    for k in (1, 2):
        data = rng.integers(100, 900, (40, 50, 8)).astype(np.uint16)
        data[5:15, 10:30, 6] = 1500  # a bright NIR block
        write_raster(aoi / "MUL-PanSharpen" / f"MUL-PanSharpen_AOI_2_Vegas_img{k}.tif", data,
                     crs="EPSG:4326", transform=t)
        feats = []
        if k == 1 or not with_empty:
            x0, y0 = t * (10, 5)
            x1, y1 = t * (30, 15)
            ring = [[x, y, 0.0] for x, y in mapping(box(x0, y1, x1, y0))["coordinates"][0]]
            feats.append({"type": "Feature", "properties": {"building": "yes"},
                          "geometry": {"type": "Polygon", "coordinates": [ring]}})
        gj = aoi / "geojson" / "buildings" / f"buildings_AOI_2_Vegas_img{k}.geojson"
        gj.parent.mkdir(parents=True, exist_ok=True)
        gj.write_text(json.dumps({"type": "FeatureCollection", "crs": {
            "type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": feats}))
    return aoi


def test_reader_on_real_spacenet_layout(tmp_path):
    aoi = _write_real_layout(tmp_path)
    for path in (aoi, tmp_path):  # the AOI folder or its parent
        ds = SpaceNetDataset(path)
        assert ds.product == "MUL-PanSharpen" and ds.ids == ["AOI_2_Vegas_img1", "AOI_2_Vegas_img2"]
    scene = ds.scene("AOI_2_Vegas_img1", scale=None)
    assert scene.band_names == ("red", "green", "blue", "nir")
    assert (scene.image[5:15, 10:30, 3] == 1500).all()  # nir is WorldView-3 band 7
    assert (scene.labels[5:15, 10:30] == BUILDING).all() and scene.labels.sum() == 200
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SpaceNet's empty tiles are normal: no warning
        empty = ds.scene("AOI_2_Vegas_img2")
    assert not empty.labels.any() and empty.properties["n_buildings"] == 0


def test_reader_bad_input(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        SpaceNetDataset(tmp_path / "nothing")
    with pytest.raises(DatasetNotFoundError, match="geojson/buildings"):
        SpaceNetDataset(tmp_path)
    aoi = _write_real_layout(tmp_path)
    ds = SpaceNetDataset(aoi)
    with pytest.raises(InvalidParameterError, match="not a tile"):
        ds.scene("img99")
    with pytest.raises(BandMismatchError, match="bands"):
        SpaceNetDataset(aoi, bands=("red", "thermal"))
    with pytest.raises(InvalidParameterError, match="not a folder"):
        SpaceNetDataset(aoi, product="RGB-PanSharpen")
    assert SpaceNetDataset(aoi, product="MUL-PanSharpen", bands=("coastal",)).scene(
        "AOI_2_Vegas_img1").band_names == ("coastal",)
    (aoi / "geojson" / "buildings" / "buildings_AOI_2_Vegas_img3.geojson").write_text("{")
    with pytest.raises(DatasetNotFoundError, match="no image"):
        SpaceNetDataset(aoi).scene("AOI_2_Vegas_img3")
    with pytest.raises(GeoJSONError, match="img3.geojson.*not valid JSON"):
        SpaceNetDataset(aoi).footprints("AOI_2_Vegas_img3")


def test_read_and_write_footprints(tmp_path):
    with pytest.raises(DatasetNotFoundError):
        read_footprints(tmp_path / "missing.geojson")
    fp = Footprints([box(500000, 4000000, 500010, 4000010)], [{"id": 1}], crs="EPSG:32611")
    out = write_footprints(tmp_path / "pred.geojson", fp)
    back = read_footprints(out)
    assert back.crs.to_string() == "OGC:CRS84" and back.properties == [{"id": 1}]
    assert back.to_crs("EPSG:32611").geometries[0].area == pytest.approx(100, rel=1e-3)
    with pytest.raises(OutputExistsError):
        write_footprints(out, fp)
    write_footprints(out, fp, overwrite=True)
    with pytest.warns(UserWarning, match="no features"):
        (tmp_path / "empty.geojson").write_text('{"type": "FeatureCollection", "features": []}')
        assert len(read_footprints(tmp_path / "empty.geojson")) == 0


# ---- One labelled chip (issue 18) ---------------------------------------------------------------------
def test_read_chip_reads_the_real_spacenet_chip(realdata):
    from geonb.datasets.spacenet import read_chip

    folder = realdata / "spacenet-atlanta-nadir10"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    chip = read_chip(folder)
    assert chip.scene.shape == (900, 900) and chip.scene.band_names == ("red", "green", "blue")
    assert float(chip.scene.image.max()) == 255.0  # values kept as they are
    assert len(chip.truth) == 186 and str(chip.truth.crs) == str(chip.scene.crs)
    assert sorted(chip.predictions) == ["spacenet4_selimsef_densenet121", "spacenet4_winner_xdxd"]
    assert all(len(p) > 150 for p in chip.predictions.values())


def test_read_chip_says_what_is_missing(tmp_path):
    from geonb.datasets.spacenet import read_chip
    from geonb.errors import DatasetNotFoundError

    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        read_chip(tmp_path / "nowhere")
    for name in ("a.tif", "b.tif"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(DatasetNotFoundError, match="pass `image=`"):
        read_chip(tmp_path)


def test_sample_chip_is_a_generated_tile_without_labels_in_the_scene(tmp_path):
    from geonb.datasets.spacenet import sample_chip
    from geonb.errors import InvalidParameterError

    chip = sample_chip(1, root=tmp_path, n_tiles=2, tile_px=64)
    assert chip.scene.shape == (64, 64) and chip.scene.labels is None and chip.predictions == {}
    assert chip.name.endswith("img2") and str(chip.truth.crs) == str(chip.scene.crs)
    with pytest.raises(InvalidParameterError, match="`tile`"):
        sample_chip(5, root=tmp_path, n_tiles=2, tile_px=64)
