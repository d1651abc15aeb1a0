"""Tests for geonb.sensors: band tables, shared names, detection, band mapping and scaling on read."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
from affine import Affine

from geonb.bands import MODIS_BAND_NAMES as BANDS_MODIS_NAMES
from geonb.bands import MODIS_BANDS as BANDS_MODIS
from geonb.bands import band_info, composite, mndwi, ndwi
from geonb.errors import BandMismatchError, GeonbWarning, InvalidParameterError
from geonb.labels import rasterize_labels
from geonb.scene import read_image, read_scene
from geonb.sensors import (
    MODIS_BANDS,
    SENSORS,
    SHARED_BAND_NAMES,
    band_table,
    bands_by_count,
    get_sensor,
    match_bands,
    parse_mtl,
    sensor_from_mtl,
    sensor_from_tags,
    sensor_key,
    sensors_matching,
)

UTM = "EPSG:32622"
T30 = Affine(30.0, 0, 500000.0, 0, -30.0, -400000.0)


def _write(path, arr_bands_first, *, dtype, descriptions=None, tags=None, scales=None, offsets=None, nodata=None):
    arr = np.asarray(arr_bands_first).astype(dtype)
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[2], height=arr.shape[1], count=arr.shape[0],
                       dtype=dtype, crs=UTM, transform=T30, nodata=nodata) as ds:
        ds.write(arr)
        for i, d in enumerate(descriptions or (), start=1):
            ds.set_band_description(i, d)
        if tags:
            ds.update_tags(**tags)
        if scales is not None:
            ds.scales = scales
        if offsets is not None:
            ds.offsets = offsets
    return path


def _quiet():
    """A context in which any GeonbWarning fails the test."""
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error", GeonbWarning)
    return ctx


# ---- the tables ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(SENSORS))
def test_each_table_is_sane(key):
    s = SENSORS[key]
    assert len(set(s.band_names)) == len(s.bands), "a shared name twice in one sensor"
    assert len(set(s.band_ids)) == len(s.bands), "a band id twice in one sensor"
    for b in s.bands:
        lo, hi = b.wavelength_nm
        assert 400 <= lo < hi <= 13000, b
        assert b.resolution_m in (10, 15, 20, 30, 60, 100, 120, 250, 500), b
        assert b.name in SHARED_BAND_NAMES
    for ids in s.subsets:  # every common stack names real bands, once each, in the sensor's order
        pos = [s.band_ids.index(i) for i in ids]
        assert pos == sorted(set(pos))
    assert len({len(ids) for ids in s.subsets}) == len(s.subsets), "two stacks with the same count: ambiguous"
    for p in s.products:
        assert p.source and p.dtype in ("uint8", "uint16", "int16")
    reflective = [b for b in s.bands if not b.is_thermal and b.name not in ("pan", "cirrus", "watervapour")]
    centers = [b.center_nm for b in reflective]
    assert len(centers) >= 6
    if key != "modis":  # Landsat and Sentinel-2 number their reflective bands by wavelength (MODIS does not)
        assert centers == sorted(centers)
    assert [b.number for b in s.bands] == sorted(b.number for b in s.bands)


def test_shared_names_mean_the_same_light_on_every_sensor():
    by_name: dict[str, list] = {}
    for s in SENSORS.values():
        for b in s.bands:
            by_name.setdefault(b.name, []).append((s.key, b))
    for name, bands in by_name.items():
        lo = max(b.wavelength_nm[0] for _, b in bands)
        hi = min(b.wavelength_nm[1] for _, b in bands)
        assert lo < hi, f"{name}: the ranges of {[k for k, _ in bands]} do not overlap"
    # every sensor has the bands composites and indices need (MODIS and Landsat have no red edge, etc.)
    for s in SENSORS.values():
        assert {"blue", "green", "red", "nir", "swir1", "swir2"} <= set(s.band_names), s.key
    order = [SHARED_BAND_NAMES.index(n) for n in ("coastal", "blue", "green", "red", "nir", "swir1", "swir2")]
    assert order == sorted(order) and SHARED_BAND_NAMES[-1] in ("thermal2", "thermal", "thermal_hg")


def test_published_values():
    # USGS band designations; ESA User Handbook; MOD09 user guide (spot checks against the documents)
    assert SENSORS["landsat5"].band("B4").wavelength_nm == (760, 900)
    assert SENSORS["landsat5"].band("B6").name == "thermal"
    assert SENSORS["landsat7"].band("B8").name == "pan" and SENSORS["landsat7"].band("B8").resolution_m == 15
    assert SENSORS["landsat8"].band("B5").wavelength_nm == (850, 880)
    assert SENSORS["landsat8"].band("B10").name == "thermal1"
    assert SENSORS["sentinel2"].band("B8A").name == "nir_narrow"
    assert SENSORS["sentinel2"].band("B11").center_nm == 1610
    c2 = SENSORS["landsat8"].product("c2l2")
    assert (c2.scale, c2.offset, c2.thermal_scale, c2.thermal_offset) == (0.0000275, -0.2, 0.00341802, 149.0)
    assert c2.scale_offset(SENSORS["landsat8"].band("B10")) == (0.00341802, 149.0)
    assert SENSORS["sentinel2"].product("l2a").offset == -0.1
    assert SENSORS["sentinel2"].product("l2a_pre0400").offset == 0.0
    assert SENSORS["landsat5"].product("l1").scale is None  # DN: never scaled
    assert SENSORS["modis"].product("mod09").scale == 0.0001
    # MODIS table unchanged, and still public from geonb.bands
    assert BANDS_MODIS is MODIS_BANDS and BANDS_MODIS_NAMES == ("red", "nir", "blue", "green", "nir2", "swir1",
                                                                  "swir2")
    assert [b.id for b in MODIS_BANDS][:2] == ["sur_refl_b01", "sur_refl_b02"]
    assert list(band_table("sentinel2")["id"])[8] == "B8A"


def test_names_ids_and_band_info_for_any_sensor():
    assert sensor_key("LANDSAT_7") == "landsat7" and sensor_key("ETM+") == "landsat7"
    assert sensor_key("Landsat 9") == "landsat8" and sensor_key("S2B") == "sentinel2"
    assert sensor_key("WorldView-2") is None
    with pytest.raises(InvalidParameterError, match=r"'spot6'.*\['modis', 'landsat5'"):
        get_sensor("spot6")
    assert band_info("nir", sensor="sentinel2").id == "B8"
    assert band_info("B5", sensor="landsat8").name == "nir"
    assert band_info("swir1", sensor="landsat5").wavelength_nm == (1550, 1750)
    with pytest.raises(BandMismatchError, match=r"'rededge1' is a band of \['sentinel2'\]: pass sensor="):
        band_info("rededge1")  # not MODIS, and the message says which sensor has it
    with pytest.raises(BandMismatchError, match="Landsat 4-5 TM bands"):
        band_info("coastal", sensor="landsat5")
    assert [b.id for b in match_bands(["SR_B2", "SR_B3", "SR_B4", "ST_B10"], "landsat8")] == ["B2", "B3", "B4",
                                                                                                "B10"]
    assert [b.id for b in match_bands(["B02", "B03", "B04", "B08"], "sentinel2")] == ["B2", "B3", "B4", "B8"]
    assert match_bands(["B6"], "landsat7")[0].id == "B6_VCID_1"
    assert match_bands(["B2", "B2"], "landsat8") is None  # a band twice is no mapping
    assert sensors_matching(["sur_refl_b01", "sur_refl_b02"]) == ("modis",)
    assert sensors_matching(["red", "green", "blue"]) == ()  # shared names say nothing about the sensor
    assert [b.id for b in bands_by_count("landsat7", 6)] == ["B1", "B2", "B3", "B4", "B5", "B7"]
    assert bands_by_count("landsat7", 5) is None


def test_metadata_parsers():
    assert sensor_from_mtl({"SPACECRAFT_ID": "LANDSAT_7", "SENSOR_ID": "ETM", "PROCESSING_LEVEL": "L1TP"}) == \
        ("landsat7", "l1")
    assert sensor_from_mtl({"SENSOR_ID": "OLI_TIRS", "PROCESSING_LEVEL": "L2SP"}) == ("landsat8", "c2l2")
    assert sensor_from_mtl({}) == (None, None)
    tags = {"SPACECRAFT_NAME": "Sentinel-2A", "PRODUCT_TYPE": "S2MSI1C", "PROCESSING_BASELINE": "02.14"}
    assert sensor_from_tags(tags) == ("sentinel2", "l1c_pre0400", "SPACECRAFT_NAME")
    assert sensor_from_tags({"geonb_sensor": "landsat5", "geonb_product": "c2l2"}) == ("landsat5", "c2l2",
                                                                                        "GEONB_SENSOR")
    assert sensor_from_tags({"geonb_sensor": "landsat5", "geonb_product": "l2a"})[1] is None  # not a TM product


# ---- the real files (../shared/realdata) -----------------------------------------------------------------
L5 = "landsat5-tucurui/LT05_224063_19880814_B1-7.tif"
L7 = "landsat7-olinda/L7_ETMs.tif"
S2 = "sentinel2-obidos/S2_obidos_B1-B12_reflectance.tif"
MOD = "modis-mod09a1-h18v04/MOD09A1.A2017193.h18v04_sur_refl_b01-b07.tif"


def test_real_landsat5_is_found_by_its_mtl_file(realdata):
    mtl = parse_mtl((realdata / "landsat5-tucurui" / "LT05_224063_19880814_MTL.txt").read_text())
    assert sensor_from_mtl(mtl) == ("landsat5", "l1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeonbWarning)
        s = read_scene(realdata / L5)
    assert s.properties["sensor"] == "landsat5" and s.properties["sensor_detection"] == "mtl"
    assert s.properties["band_mapping"] == "descriptions" and s.properties["product"] == "l1"
    assert s.band_names == ("blue", "green", "red", "nir", "swir1", "thermal", "swir2")  # band 6 is thermal
    assert s.properties["scale_rule"] == "dn" and s.properties["units"].startswith("DN")
    with rasterio.open(realdata / L5) as ds:
        raw = ds.read(6)
    valid = ~s.nodata_mask
    np.testing.assert_array_equal(s.image[..., 5][valid], raw[valid])  # DN, not scaled
    assert s.select_bands(("nir",)).image[..., 0][valid].tolist() == s.image[..., 3][valid].tolist()
    # DN never becomes reflectance, even when asked: the MTL says Level-1
    assert read_scene(realdata / L5, scale="sensor").properties["scale_rule"] == "dn"
    # the same file with the sensor given, and with detection off (the file's own names, as before)
    assert read_scene(realdata / L5, sensor="landsat5").properties["sensor_detection"] == "given"
    off = read_scene(realdata / L5, sensor=None)
    assert off.band_names[:2] == ("B1", "B2") and off.properties["sensor"] is None


def test_real_landsat7_without_names_maps_by_count_only_when_told(realdata):
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeonbWarning)
        auto = read_scene(realdata / L7)
    assert auto.band_names == tuple(f"band_{i}" for i in range(1, 7))  # unknown: works by index
    assert auto.properties["sensor"] is None and auto.properties["sensor_detection"] == "unknown"
    with pytest.warns(GeonbWarning, match=r"by their count alone: a guess.*band_ids=") as rec:
        s = read_scene(realdata / L7, sensor="landsat7")
    assert "['B1', 'B2', 'B3', 'B4', 'B5', 'B7']" in str(rec[0].message)
    assert s.band_names == ("blue", "green", "red", "nir", "swir1", "swir2")
    assert s.properties["sensor_detection"] == "given" and s.properties["band_mapping"] == "band count (a guess)"
    assert s.properties["scale_rule"] == "dn"  # uint8 ETM+ is Level-1 DN: not scaled
    np.testing.assert_array_equal(s.image, auto.image)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeonbWarning)  # said outright: no guess, no warning
        told = read_scene(realdata / L7, sensor="landsat7", band_ids=("B1", "B2", "B3", "B4", "B5", "B7"))
    assert told.band_names == s.band_names and told.properties["band_mapping"] == "band_ids"
    with pytest.raises(BandMismatchError, match=r"has 6 bands.*\[4, 10, 12, 13\] bands.*band_ids="):
        read_scene(realdata / L7, sensor="sentinel2")  # no common 6-band Sentinel-2 stack
    with pytest.raises(BandMismatchError, match="names 5 bands but .* has 6"):
        read_scene(realdata / L7, sensor="landsat7", band_ids=("B1", "B2", "B3", "B4", "B5"))
    with pytest.raises(BandMismatchError, match=r"unknown: \['B9'\]"):
        read_scene(realdata / L7, sensor="landsat7", band_ids=("B1", "B2", "B3", "B4", "B5", "B9"))
    with pytest.raises(InvalidParameterError, match="band_ids` needs a sensor"):
        read_scene(realdata / L7, band_ids=("B1", "B2", "B3", "B4", "B5", "B7"))


def test_real_sentinel2_and_modis_by_their_band_descriptions(realdata):
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeonbWarning)
        s2 = read_scene(realdata / S2)
        mod = read_scene(realdata / MOD)
    assert s2.properties["sensor"] == "sentinel2" and s2.properties["sensor_detection"] == "descriptions"
    assert "cirrus" not in s2.band_names and s2.band_names[8] == "nir_narrow" and len(s2.band_names) == 12
    assert s2.properties["scale_rule"] == "none"  # float32 reflectance already: nothing to undo
    assert 0 < float(np.median(s2.image[..., 7][~s2.nodata_mask])) < 1
    assert mod.properties["sensor"] == "modis" and mod.band_names == BANDS_MODIS_NAMES
    assert mod.properties["scale_rule"] == "tags" and mod.properties["product"] == "mod09"


@pytest.mark.parametrize("folder, file, classes", [
    ("sentinel2-obidos", S2, {"water": 1, "forest": 2, "village": 3, "dryout": 4}),
    ("landsat5-tucurui", L5, {"water": 1, "forest": 2, "cleared": 3, "fallen_dry": 4}),
])
def test_real_ndwi_is_higher_over_water_than_forest(realdata, folder, file, classes):
    s = read_scene(realdata / file)
    labels = rasterize_labels(realdata / folder / "training_polygons.geojson", s.shape, s.transform, s.crs,
                              field="class", label_map=classes, classes=(1, 2, 3, 4))
    n, m = ndwi(s), mndwi(s)
    water, forest = (labels == 1) & ~s.nodata_mask, (labels == 2) & ~s.nodata_mask
    assert water.sum() > 20 and forest.sum() > 20
    assert np.nanmedian(n[water]) > np.nanmedian(n[forest]) + 0.2
    assert np.nanmedian(m[water]) > np.nanmedian(m[forest])
    for preset in ("true", "false", "swir"):  # every composite finds its bands by name
        bands = {"true": ("red", "green", "blue"), "false": ("nir", "swir1", "red"), "swir": ("swir2", "nir", "red")}
        rgb = composite(s, bands=bands[preset])
        assert rgb.shape == s.shape + (3,) and np.isfinite(rgb).all()


# ---- detection, mapping and scaling rules on small files written here --------------------------------------
def test_sentinel2_integers_are_scaled_only_when_the_product_is_known(tmp_path):
    raw = np.full((12, 3, 4), 1500, np.uint16)
    ids = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12")
    p = _write(tmp_path / "s2.tif", raw, dtype="uint16", descriptions=ids)
    with pytest.warns(GeonbWarning, match=r"without scaling.*product= one of \['l2a', 'l1c', 'l2a_pre0400'"):
        img, _, meta = read_image(p)
    assert img[0, 0, 0] == 1500 and meta["scale_rule"] == "none" and meta["sensor"] == "sentinel2"
    with pytest.raises(InvalidParameterError, match="more than one product.*product="):
        read_image(p, scale="sensor")
    img, _, meta = read_image(p, scale="sensor", product="l2a")
    np.testing.assert_allclose(img, 0.05, atol=1e-6)  # 1500 * 0.0001 - 0.1 (baseline >= 04.00)
    img, _, meta = read_image(p, product="l2a_pre0400")
    np.testing.assert_allclose(img, 0.15, atol=1e-6)
    assert meta["scale_rule"] == "sensor" and meta["product"] == "l2a_pre0400"
    tagged = _write(tmp_path / "s2t.tif", raw, dtype="uint16", descriptions=ids,
                    tags={"SPACECRAFT_NAME": "Sentinel-2B", "PRODUCT_TYPE": "S2MSI2A", "PROCESSING_BASELINE": "05.10"})
    ctx = _quiet()
    img, _, meta = read_image(tagged)  # the tags say which product: scaled under "auto"
    ctx.__exit__(None, None, None)
    assert meta["sensor_detection"] == "tags" and meta["product"] == "l2a"
    np.testing.assert_allclose(img, 0.05, atol=1e-6)
    own = _write(tmp_path / "own.tif", raw, dtype="uint16", descriptions=ids, scales=[0.0002] * 12)
    with pytest.warns(GeonbWarning, match="declares its own scale"):
        img, _, meta = read_image(own, scale="sensor", product="l2a")  # the file's tags win
    assert meta["scale_rule"] == "tags"
    np.testing.assert_allclose(img, 0.3, atol=1e-6)
    with pytest.raises(InvalidParameterError, match="not a product of Sentinel-2"):
        read_image(p, product="c2l2")


def test_landsat_collection2_level2_with_its_mtl_is_scaled(tmp_path):
    raw = np.full((8, 3, 4), 10000, np.uint16)
    p = _write(tmp_path / "LC08_L2SP_224063_20200101_20200823_02_T1_SR_stack.tif", raw, dtype="uint16",
               descriptions=("SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7", "ST_B10"))
    (tmp_path / "LC08_L2SP_224063_20200101_20200823_02_T1_MTL.txt").write_text(
        'GROUP = LANDSAT_METADATA_FILE\n  GROUP = PRODUCT_CONTENTS\n    PROCESSING_LEVEL = "L2SP"\n'
        '  END_GROUP = PRODUCT_CONTENTS\n  GROUP = IMAGE_ATTRIBUTES\n    SPACECRAFT_ID = "LANDSAT_8"\n'
        '    SENSOR_ID = "OLI_TIRS"\n  END_GROUP = IMAGE_ATTRIBUTES\nEND_GROUP = LANDSAT_METADATA_FILE\n')
    ctx = _quiet()
    s = read_scene(p)
    ctx.__exit__(None, None, None)
    assert s.properties["sensor"] == "landsat8" and s.properties["sensor_detection"] == "mtl"
    assert s.band_names == ("coastal", "blue", "green", "red", "nir", "swir1", "swir2", "thermal1")
    assert s.properties["product"] == "c2l2" and s.properties["scale_rule"] == "sensor"
    np.testing.assert_allclose(s.image[0, 0, :7], 10000 * 0.0000275 - 0.2, rtol=1e-5)
    assert s.image[0, 0, 7] == pytest.approx(10000 * 0.00341802 + 149.0, rel=1e-5)  # kelvin
    assert read_scene(p, scale=None).image[0, 0, 0] == 10000


def test_detection_says_when_it_cannot_tell(tmp_path):
    raw = np.ones((7, 3, 4), np.uint8)
    ids = tuple(f"B{i}" for i in range(1, 8))
    p = _write(tmp_path / "stack.tif", raw, dtype="uint8", descriptions=ids)
    with pytest.warns(GeonbWarning, match=r"fit several sensors \['landsat5', 'landsat7', 'landsat8'"):
        s = read_scene(p)
    assert s.band_names == ids and s.properties["sensor"] is None  # not guessed: the file's names
    s = read_scene(p, sensor="tm")
    assert s.band_names[5] == "thermal" and s.properties["sensor"] == "landsat5"
    assert read_scene(p, sensor="landsat8").band_names[0] == "coastal"
    # a stray MTL of another sensor does not override bands named B8A
    s2 = _write(tmp_path / "LT05_x_s2.tif", np.ones((4, 3, 4), np.uint8), dtype="uint8",
                descriptions=("B2", "B3", "B8", "B8A"))
    (tmp_path / "LT05_x_MTL.txt").write_text('SPACECRAFT_ID = "LANDSAT_5"\nSENSOR_ID = "TM"\n')
    with pytest.warns(GeonbWarning, match="MTL file .* says landsat5.*went by the descriptions"):
        s = read_scene(s2)
    assert s.properties["sensor"] == "sentinel2" and s.band_names[-1] == "nir_narrow"
    with pytest.raises(InvalidParameterError, match="`sensor` 'spot6'"):
        read_scene(p, sensor="spot6")
    with pytest.raises(BandMismatchError, match=r"has 5 bands.*\[4, 10, 12, 13\]"):
        read_scene(_write(tmp_path / "five.tif", np.ones((5, 3, 4)), dtype="uint16"), sensor="sentinel2")


def test_legacy_modis_files_read_as_before(tmp_path):
    raw = np.full((7, 3, 4), 1234, np.int16)
    p = _write(tmp_path / "m.tif", raw, dtype="int16", nodata=-28672)  # no descriptions: MODIS by its fill
    s = read_scene(p)
    assert s.band_names == BANDS_MODIS_NAMES and s.properties["sensor"] == "modis"
    assert "a guess" in s.properties["sensor_detection"] and s.properties["scale_rule"] == "modis"
    assert s.image[0, 0, 0] == pytest.approx(0.1234)
    # MOD09 layer names, int16 without any tag: MODIS has one product, so it is scaled
    q = _write(tmp_path / "q.tif", raw, dtype="int16", descriptions=[f"sur_refl_b0{i}" for i in range(1, 8)])
    s = read_scene(q)
    assert s.properties["scale_rule"] == "sensor" and s.image[0, 0, 0] == pytest.approx(0.1234)


def test_composites_and_indices_say_which_bands_they_need():
    rgbn = np.random.default_rng(0).random((4, 5, 4), dtype=np.float32)
    names = ("blue", "green", "red", "nir")  # a Sentinel-2 10 m stack: no SWIR
    assert ndwi(rgbn, names).shape == (4, 5)
    with pytest.raises(BandMismatchError, match=r"MNDWI needs bands \['green', 'swir1'\]; band\(s\) \['swir1'\]"):
        mndwi(rgbn, names)
    with pytest.raises(BandMismatchError, match=r"false colour composite needs bands \['nir', 'swir1', 'red'\]"):
        composite(rgbn, names, bands=("nir", "swir1", "red"))
    with pytest.raises(BandMismatchError, match=r"sensor was not recognised.*sensor='landsat5'"):
        ndwi(rgbn, ("band_1", "band_2", "band_3", "band_4"))
