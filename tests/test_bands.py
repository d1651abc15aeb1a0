"""Tests for geonb.bands: band table, composites, indices, statistics, PCA, class spectra."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from affine import Affine

from geonb.bands import (
    FALSE_COLOR,
    MODIS_BAND_NAMES,
    MODIS_BANDS,
    SWIR,
    TRUE_COLOR,
    band_info,
    band_statistics,
    class_spectra,
    composite,
    fit_pca,
    mndwi,
    ndwi,
    normalize,
    pixel_table,
    select_bands,
)
from geonb.errors import BandMismatchError, InvalidParameterError
from geonb.labels import LAND, NODATA, WATER
from geonb.scene import Scene, read_scene, write_scene

WATER_SPECTRUM = np.array([0.03, 0.01, 0.05, 0.04, 0.005, 0.003, 0.002], np.float32)
LAND_SPECTRUM = np.array([0.08, 0.30, 0.04, 0.07, 0.32, 0.22, 0.12], np.float32)


def make_scene(rows=20, cols=24, seed=0, name="lake") -> Scene:
    rng = np.random.default_rng(seed)
    labels = np.full((rows, cols), LAND, np.uint8)
    labels[: rows // 2, : cols // 2] = WATER
    image = np.where((labels == WATER)[..., None], WATER_SPECTRUM, LAND_SPECTRUM)
    image = (image + rng.normal(0, 0.005, image.shape)).astype(np.float32)
    nodata = np.zeros((rows, cols), bool)
    nodata[-1, :] = True
    image[nodata] = 0
    labels[-1, 0] = NODATA
    return Scene(image, labels, nodata_mask=nodata, name=name, properties={"id": name}, crs="EPSG:32633",
                 transform=Affine(500.0, 0, 300000.0, 0, -500.0, 5000000.0))


def test_band_table_and_composites_by_name():
    assert [b.number for b in MODIS_BANDS] == [1, 2, 3, 4, 5, 6, 7]
    assert band_info("swir1").wavelength_nm == (1628, 1652)
    assert TRUE_COLOR == ("red", "green", "blue")  # MODIS 1-4-3
    assert [band_info(b).number for b in FALSE_COLOR] == [2, 6, 1]
    assert [band_info(b).number for b in SWIR] == [7, 2, 1]
    with pytest.raises(BandMismatchError, match="unknown band name 'swir3'"):
        band_info("swir3")


def test_composite_stretch_and_nodata(tmp_path):
    scene = make_scene()
    write_scene(scene, tmp_path / "i.tif", tmp_path / "l.tif")
    back = read_scene(tmp_path / "i.tif", tmp_path / "l.tif")
    rgb = composite(back)
    assert rgb.shape == (20, 24, 3) and rgb.dtype == np.float32
    assert rgb.min() >= 0 and rgb.max() <= 1
    assert (rgb[-1] == 1).all()  # no data shown white
    valid = rgb[:-1]
    assert valid[..., 0].max() == pytest.approx(1, abs=1e-6) and valid[..., 0].min() == pytest.approx(0, abs=1e-6)
    fc = composite(back.image, back.band_names, FALSE_COLOR, nodata_mask=back.nodata_mask)
    assert fc[0, 0, 0] < fc[-2, -1, 0]  # NIR: water dark, land bright
    raw = composite(back, stretch=None)
    np.testing.assert_allclose(raw[0, 0], np.clip(back.image[0, 0, [0, 3, 2]], 0, 1), atol=1e-6)


def test_composite_bad_input():
    scene = make_scene()
    with pytest.raises(BandMismatchError, match="'pan'"):
        composite(scene, bands=("red", "pan", "blue"))
    with pytest.raises(BandMismatchError, match="3 bands"):
        composite(scene, bands=("red", "green"))
    with pytest.raises(InvalidParameterError, match="stretch"):
        composite(scene, stretch=(98, 2))


def test_ndwi_and_mndwi_separate_water():
    scene = make_scene()
    n, m = ndwi(scene), mndwi(scene)
    water = scene.labels == WATER
    land = scene.labels == LAND
    assert np.nanmin(n[water]) > 0 > np.nanmax(n[land & ~scene.nodata_mask])
    assert np.nanmin(m[water]) > np.nanmax(m[land & ~scene.nodata_mask])
    assert np.isnan(n[-1]).all()  # nodata row
    table = pixel_table(scene)
    assert ndwi(table).shape == (len(table),)
    with pytest.raises(BandMismatchError):
        ndwi(scene.image[..., :3], ("red", "green", "blue"))


def test_pixel_table_excludes_nodata_and_unlabelled():
    scene = make_scene()
    table = pixel_table([scene])
    assert list(table.columns) == ["lake_id", *MODIS_BAND_NAMES, "label"]
    assert len(table) == 19 * 24
    assert set(table["label"]) == {WATER, LAND}


def test_band_statistics_on_train_split_only():
    class Fake:
        name = "fake"

        def scenes(self, split=None):
            scenes = {"train": [make_scene(seed=1, name="a")], "test": [make_scene(seed=2, name="b")]}
            scenes["test"][0].image[:] += 10  # would move the mean if test leaked in
            return iter(scenes[split] if split else scenes["train"] + scenes["test"])

    stats = band_statistics(Fake(), split="train")
    assert stats.source == "fake/train" and stats.n_pixels == 19 * 24
    assert stats.mean.max() < 1
    x = make_scene(seed=1).image[:-1]
    z = stats.normalize(x)
    np.testing.assert_allclose(z.reshape(-1, 7).mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(z.reshape(-1, 7).std(0), 1, atol=1e-3)
    rgb = normalize(select_bands(x, MODIS_BAND_NAMES, ("red", "green", "blue")), stats, ("red", "green", "blue"))
    np.testing.assert_allclose(rgb, z[..., [0, 3, 2]], atol=1e-5)
    with pytest.raises(BandMismatchError):
        normalize(x[..., :3], stats, ("red", "green", "pan"))


def test_pca_variance_loadings_and_transform():
    rng = np.random.default_rng(0)
    scenes = [make_scene(seed=i, name=f"l{i}") for i in range(3)]
    table = pixel_table(scenes)
    pca = fit_pca(table)
    assert pca.n_components == 7 and pca.band_names == MODIS_BAND_NAMES
    assert np.all(np.diff(pca.cumulative) >= -1e-12) and pca.cumulative[-1] == pytest.approx(1)
    assert pca.components_for(0.99) <= 2  # two clean spectra + noise: one component carries nearly all
    assert pca.loadings.shape == (7, 7) and list(pca.loadings.index) == list(MODIS_BAND_NAMES)
    np.testing.assert_allclose(np.linalg.norm(pca.loadings.to_numpy(), axis=0), 1, atol=1e-6)
    pc3 = fit_pca(table, 3, standardize=True)
    out = pc3.transform_scene(scenes[0])
    assert out.band_names == ("pc1", "pc2", "pc3") and out.image.shape == (20, 24, 3)
    assert (out.image[-1] == 0).all()
    assert pc3.table().shape == (3, 2)
    x = rng.normal(size=(300, 4))
    assert fit_pca(x, 2).band_names == ("band_1", "band_2", "band_3", "band_4")


def test_pca_bad_input():
    table = pixel_table(make_scene())
    with pytest.raises(InvalidParameterError, match="more than the 7 bands"):
        fit_pca(table, 8)
    with pytest.raises(InvalidParameterError, match="more than the 3 bands"):
        fit_pca(table, 4, bands=("red", "green", "blue"))
    with pytest.raises(BandMismatchError, match="swir9"):
        fit_pca(table, 2, bands=("red", "swir9"))
    with pytest.raises(InvalidParameterError, match="positive integer"):
        fit_pca(table, 0)


def test_class_spectra():
    spectra = class_spectra(pixel_table([make_scene(), make_scene(seed=3, name="b")]))
    assert set(spectra["class_name"]) == {"water", "land"}
    assert len(spectra) == 14
    nir = spectra.set_index(["class_name", "band"])["mean"]
    assert nir["land", "nir"] > 10 * nir["water", "nir"]
    assert spectra.groupby("class")["wavelength_nm"].apply(lambda s: s.is_monotonic_increasing).all()
    with pytest.raises(BandMismatchError, match="label"):
        class_spectra(pd.DataFrame({"red": [0.1]}))


# ---- "Trustworthy on data we did not make" -------------------------------------------------
def _img(rows=10, cols=12, seed=0):
    return np.random.default_rng(seed).random((rows, cols, 7), dtype=np.float32)


def test_statistics_leave_nodata_out_and_refuse_nan_elsewhere():
    img = _img()
    labels = np.full(img.shape[:2], LAND, np.uint8)
    mask = np.zeros(img.shape[:2], bool)
    mask[:2] = True
    img[:2] = 9.0  # fill values under the mask must not move the statistics
    stats = band_statistics(Scene(img, labels, nodata_mask=mask))
    valid = img[~mask].astype(np.float64)
    np.testing.assert_allclose(stats.mean, valid.mean(axis=0))
    np.testing.assert_allclose(stats.std, valid.std(axis=0), rtol=1e-6)
    assert stats.n_pixels == valid.shape[0]
    nan_img = img.copy()
    nan_img[0, 0, 0] = np.nan  # given to a Scene: no data, left out
    assert band_statistics(Scene(nan_img, labels, nodata_mask=mask)).n_pixels == valid.shape[0]
    scene = Scene(img.copy(), labels, nodata_mask=mask, name="lake")
    scene.image[5, 5, 1] = np.nan  # outside the mask: an error, never a NaN statistic
    with pytest.raises(InvalidParameterError, match="scene 'lake'.*NaN"):
        band_statistics(scene)
    with pytest.raises(InvalidParameterError, match="scene 'lake'.*NaN"):
        pixel_table(scene)
    flat = valid.copy()
    flat[3, 2] = np.nan
    with pytest.raises(InvalidParameterError, match="NaN/inf in 1 pixel"):
        band_statistics(flat)
    with pytest.raises(InvalidParameterError, match="NaN"):
        band_statistics(pd.DataFrame(flat, columns=MODIS_BAND_NAMES))
    with pytest.raises(InvalidParameterError, match="NaN"):
        fit_pca(flat)  # not silently fitted on fewer pixels
    with pytest.raises(BandMismatchError, match="pass a Scene"):
        band_statistics(img)  # an image array: its nodata would be averaged in
    with pytest.raises(BandMismatchError, match="no pixels"):
        band_statistics(np.zeros((0, 7)))
    with pytest.raises(BandMismatchError, match="None"):
        band_statistics(None)
    assert band_statistics(valid, bands="red").band_names == ("red",)


def test_pca_transform_gives_nan_for_nan_pixels():
    pca = fit_pca(_img().reshape(-1, 7), 3)
    img = _img(seed=1)
    img[0, 0, 4] = np.nan
    out = pca.transform(img)
    assert np.isnan(out[0, 0]).all() and np.isfinite(out.reshape(-1, 3)[1:]).all()
    np.testing.assert_allclose(out[0, 1], pca.model.transform(img[0, 1][None].astype(np.float64))[0], rtol=1e-5)


def test_composites_and_indices_by_name_with_clear_errors():
    img = _img()
    with pytest.raises(BandMismatchError, match=r"\['swir9'\].*available bands are \['red', 'nir'"):
        composite(img, bands=("red", "green", "swir9"))
    with pytest.raises(BandMismatchError, match="np.moveaxis"):
        composite(np.moveaxis(_img(40, 40), -1, 0))  # rasterio's (bands, rows, cols)
    with pytest.raises(BandMismatchError, match="band_names"):
        composite(img[..., :5])
    with pytest.raises(BandMismatchError, match=r"\['nir'\] are not in this image"):
        ndwi(img[..., [0, 2, 3]], band_names=("red", "blue", "green"))
    with pytest.raises(BandMismatchError, match="no column 'nir'"):
        ndwi(pd.DataFrame({"green": [0.1]}))
    with pytest.raises(BandMismatchError, match="twice"):
        select_bands(img, MODIS_BAND_NAMES, ("red", "green", "red"))
    with pytest.raises(BandMismatchError, match="None"):
        composite(None)
    one = select_bands(img[..., :1], "red", "red")  # one name is one band, not its letters
    np.testing.assert_array_equal(one[..., 0], img[..., 0])
    nan_img = img.copy()
    nan_img[1, 1, 0] = np.nan
    rgb = composite(nan_img)  # a NaN pixel is drawn as no data (white), not NaN
    assert np.isfinite(rgb).all() and (rgb[1, 1] == 1.0).all()
    expected = (img[..., 3] - img[..., 1]) / (img[..., 3] + img[..., 1])
    np.testing.assert_allclose(ndwi(img), expected, rtol=1e-5)


# ---- any sensor, by shared band name (issue 13) ---------------------------------------------------------
def test_band_info_composites_and_indices_on_landsat_and_sentinel_names():
    from geonb.sensors import SENSORS

    assert band_info("nir", sensor="landsat5").number == 4 and band_info("nir", sensor="sentinel2").id == "B8"
    assert band_info("swir1").wavelength_nm == (1628, 1652)  # sensor=None is MODIS, as before
    for key in ("landsat5", "landsat7", "landsat8", "sentinel2"):
        names = SENSORS[key].band_names
        img = np.random.default_rng(1).random((6, 7, len(names)), dtype=np.float32)
        scene = Scene(img, band_names=names)
        for bands in (TRUE_COLOR, FALSE_COLOR, SWIR):
            rgb = composite(scene, bands=bands)
            idx = [names.index(b) for b in bands]
            np.testing.assert_allclose(composite(img[..., idx], bands, bands=bands), rgb)
        g, n = img[..., names.index("green")], img[..., names.index("nir")]
        np.testing.assert_allclose(ndwi(scene), (g - n) / (g + n), rtol=1e-5)
    table = pixel_table(Scene(img, np.ones((6, 7), np.uint8), band_names=names))
    assert fit_pca(table).band_names == names  # every Sentinel-2 band, in file order
    assert set(class_spectra(table, sensor="sentinel2")["wavelength_nm"].round()) >= {490, 2190}


def test_pixel_moments_merge_blocks_exactly_and_match_numpy():
    """One statistics routine: blocks merged give the moments of all pixels at once; one block is numpy's."""
    from geonb.bands import pixel_moments

    rng = np.random.default_rng(3)
    x = (rng.normal(1e4, 1.0, (5000, 3))).astype(np.float32)  # a large offset: E[x^2]-E[x]^2 would cancel
    n, mean, var = pixel_moments([x])
    assert n == 5000
    assert mean.tolist() == x.mean(axis=0, dtype=np.float64).tolist()
    assert var.tolist() == x.var(axis=0, dtype=np.float64).tolist()
    n2, mean2, var2 = pixel_moments([x[:7], x[7:7], x[7:1234], x[1234:]])
    assert n2 == 5000
    np.testing.assert_allclose(mean2, mean, rtol=1e-12)
    np.testing.assert_allclose(var2, var, rtol=1e-9)
    assert pixel_moments([])[0] == 0
