"""Tests of geonb.prediction: tiled full-scene prediction, blending, nodata, GeoTIFF output."""

from __future__ import annotations

import os

import numpy as np
import pytest
import rasterio
from affine import Affine

from geonb.errors import BandMismatchError, ClassCodeError, InvalidParameterError, ModelError, OutputExistsError
from geonb.labels import LAKE_CLASSES, LAND, NODATA, WATER
from geonb.models import AllLandBaseline, LogisticRegressionBaseline, build_lakes_fcn, set_class_codes
from geonb.prediction import blend_weights, context_radius, predict_raster, predict_scene
from geonb.scene import Scene, write_scene

TRANSFORM = Affine(463.3, 0, 1_000_000, 0, -463.3, 5_000_000)


@pytest.fixture(scope="module")
def fcn():
    return build_lakes_fcn(16)


@pytest.fixture(scope="module")
def pixelwise():
    """A per-pixel (1x1 conv) model: tiling and blending must give exactly the untiled answer."""
    import keras

    inp = keras.Input((None, None, 7))
    out = keras.layers.Conv2D(3, 1, activation="softmax",
                              kernel_initializer=keras.initializers.GlorotUniform(seed=0))(inp)
    return set_class_codes(keras.Model(inp, out), LAKE_CLASSES)  # a model geonb did not build: codes given once


def _scene(rows=70, cols=53, seed=0, nodata_rows=3):
    rng = np.random.default_rng(seed)
    img = rng.uniform(0, 0.5, (rows, cols, 7)).astype(np.float32)
    mask = np.zeros((rows, cols), bool)
    mask[:nodata_rows] = True
    img[mask] = 0
    return Scene(img, labels=np.full((rows, cols), LAND, np.uint8), nodata_mask=mask, crs="EPSG:32633",
                 transform=TRANSFORM, name="lake")


def _direct(model, image):
    return np.asarray(model.predict_on_batch(image[None]))[0]


@pytest.mark.parametrize("patch_size,overlap", [(16, 0.5), (16, 0.0), (24, 0.25), (None, None), ("scene", None)])
def test_tiling_and_blending_lose_no_pixel(pixelwise, patch_size, overlap):
    sc = _scene()
    pred = predict_scene(pixelwise, sc, patch_size=patch_size, overlap=overlap, progress=False)
    expected = _direct(pixelwise, sc.image)
    valid = ~sc.nodata_mask
    assert pred.probabilities.shape == (70, 53, 3) and pred.probabilities.dtype == np.float32
    np.testing.assert_allclose(pred.probabilities[valid], expected[valid], atol=1e-5)
    assert (pred.classes[sc.nodata_mask] == NODATA).all()
    assert (pred.probabilities[sc.nodata_mask] == 0).all()
    codes = np.asarray(LAKE_CLASSES)[expected.argmax(-1)]
    assert (pred.classes[valid] == codes[valid]).all()


def test_lakes_fcn_tiled_agrees_with_whole_scene(fcn):
    sc = _scene(90, 300, nodata_rows=0)
    tiled = predict_scene(fcn, sc, patch_size=32, progress=False)
    whole = predict_scene(fcn, sc, patch_size="scene", progress=False)
    assert np.isfinite(tiled.probabilities).all()
    np.testing.assert_allclose(tiled.probabilities.sum(-1), 1, atol=1e-4)
    assert (tiled.classes == whole.classes).mean() > 0.97
    np.testing.assert_allclose(tiled.probabilities, whole.probabilities, atol=0.1)


def test_scene_smaller_than_a_patch(fcn):
    sc = _scene(12, 28, nodata_rows=0)
    for size in (None, 16, 64):
        pred = predict_scene(fcn, sc, patch_size=size, progress=False)
        assert pred.classes.shape == (12, 28) and np.isin(pred.classes, LAKE_CLASSES).all()


def test_fixed_size_model_uses_its_own_size():
    import keras

    inp = keras.Input((16, 16, 7))
    model = set_class_codes(keras.Model(inp, keras.layers.Conv2D(3, 1, activation="softmax")(inp)), LAKE_CLASSES)
    pred = predict_scene(model, _scene(40, 37), progress=False)
    assert pred.classes.shape == (40, 37)
    with pytest.raises(ModelError, match="16x16"):
        predict_scene(model, _scene(40, 37), patch_size=32, progress=False)
    with pytest.raises(ModelError, match="whole scene"):
        predict_scene(model, _scene(40, 37), patch_size="scene", progress=False)


def test_band_mismatch(fcn):
    sc = _scene().select_bands(("red", "green", "blue"))
    with pytest.raises(BandMismatchError, match="3 bands but the model takes 7"):
        predict_scene(fcn, sc, progress=False)


def test_bad_arguments(pixelwise):
    with pytest.raises(InvalidParameterError, match="overlap"):
        predict_scene(pixelwise, _scene(), overlap=1.0, progress=False)
    with pytest.raises(ClassCodeError, match="classes"):
        predict_scene(pixelwise, _scene(), classes=(1, 2), progress=False)
    with pytest.raises(InvalidParameterError, match="Scene"):
        predict_scene(pixelwise, [1, 2, 3], progress=False)


def test_baselines_predict_scenes():
    sc = _scene()
    x = sc.image[None]
    t = np.zeros(x.shape[:3] + (3,), np.float32)
    t[..., 1] = 1
    t[0, 10:20, :, :] = [1, 0, 0]
    lr = LogisticRegressionBaseline(max_pixels=500).fit(x, t, classes=LAKE_CLASSES)
    assert predict_scene(lr, sc, progress=False).classes.shape == sc.shape
    land = predict_scene(AllLandBaseline().fit(x, t, classes=LAKE_CLASSES), sc, progress=False)
    assert (land.classes[~sc.nodata_mask] == LAND).all()
    assert land.probability(WATER).max() == 0


def test_blend_weights_cross_fade():
    w = blend_weights(16, 16, 8)[8]  # a row through the middle of the tile
    assert w.min() > 0 and w[7] == w.max()
    summed = w[8:] + w[:8]  # two tiles overlapping by 8 px
    np.testing.assert_allclose(summed, summed[0], atol=1e-6)


def test_predict_raster_writes_georeferenced_classes(tmp_path, pixelwise):
    sc = _scene(150, 130)
    write_scene(sc, tmp_path / "img.tif")
    out = tmp_path / "pred.tif"
    res = predict_raster(pixelwise, tmp_path / "img.tif", out, block=64, probabilities=True, progress=False)
    assert res.blocks == 9 and res.probabilities_path == tmp_path / "pred_probabilities.tif"
    from geonb.scene import read_scene

    expected = predict_scene(pixelwise, read_scene(tmp_path / "img.tif"), progress=False)
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 32633 and ds.transform.almost_equals(TRANSFORM)
        assert ds.dtypes[0] == "uint8" and ds.nodata == 0
        classes = ds.read(1)
        assert "1=water" in ds.tags()["classes"]
    assert (classes == expected.classes).all()
    with rasterio.open(res.probabilities_path) as ds:
        probs = np.moveaxis(ds.read(), 0, -1)
        assert ds.count == 3 and ds.descriptions[0] == "probability of water"
    assert np.isnan(probs[sc.nodata_mask]).all()
    np.testing.assert_allclose(probs[~sc.nodata_mask], expected.probabilities[~sc.nodata_mask], atol=1e-5)
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        predict_raster(pixelwise, tmp_path / "img.tif", out, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img.tif", "pred.tif", "pred_probabilities.tif"]


def test_predict_raster_lakes_fcn_blocks_match_whole(tmp_path, fcn):
    sc = _scene(120, 100, nodata_rows=0)
    write_scene(sc, tmp_path / "img.tif")
    predict_raster(fcn, tmp_path / "img.tif", tmp_path / "p.tif", block=48, progress=False)
    from geonb.scene import read_scene

    whole = predict_scene(fcn, read_scene(tmp_path / "img.tif"), progress=False)
    with rasterio.open(tmp_path / "p.tif") as ds:
        assert (ds.read(1) == whole.classes).mean() > 0.98


def test_context_radius_is_measured_per_model(fcn, pixelwise):
    from geonb.models import build_unet

    assert context_radius(pixelwise) == 0
    assert context_radius(fcn) == 6  # the study's FCN: a 13-pixel receptive field
    assert context_radius(build_unet(16)) > 6
    with pytest.raises(ModelError, match="any input size"):
        context_radius(LogisticRegressionBaseline())


def test_predict_raster_halo_covers_the_context_so_interior_blocks_are_exact(tmp_path, fcn):
    sc = _scene(120, 100, nodata_rows=0)
    write_scene(sc, tmp_path / "img.tif")
    predict_raster(fcn, tmp_path / "img.tif", tmp_path / "p.tif", block=40, probabilities=True, progress=False)
    direct = _direct(fcn, sc.image)  # one untiled call: the reference away from the scene's edges
    with rasterio.open(tmp_path / "p_probabilities.tif") as ds:
        probs = np.moveaxis(ds.read(), 0, -1)
    inner = (slice(8, -8), slice(8, -8))
    np.testing.assert_allclose(probs[inner], direct[inner], atol=1e-5)


def test_predict_raster_bad_input_file_is_a_geonb_error(tmp_path, fcn):
    from geonb.errors import RasterReadError

    with pytest.raises(RasterReadError, match="does not exist"):
        predict_raster(fcn, tmp_path / "missing.tif", tmp_path / "p.tif", progress=False)
    (tmp_path / "junk.tif").write_bytes(b"not a raster")
    with pytest.raises(RasterReadError, match="cannot be opened"):
        predict_raster(fcn, tmp_path / "junk.tif", tmp_path / "p.tif", progress=False)


# -------------------------------------------------------------------------------------------
# Trusting data we did not make: class code 0 of a model, scale/nodata of the input raster
# -------------------------------------------------------------------------------------------
def _buildings_scene(nodata_rows=2):
    """A float scene coded like buildings (0 background, 1 building), a nodata stripe at the top."""
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 0.3, (20, 20, 3)).astype(np.float32)
    lab = (img[..., 0] > 0.15).astype(np.uint8)
    img[lab == 1] += 0.5
    mask = np.zeros(lab.shape, bool)
    mask[:nodata_rows] = True
    img[mask] = 0
    return Scene(img, labels=lab, nodata_mask=mask, crs="EPSG:32633", transform=TRANSFORM,
                 band_names=("red", "green", "blue"))


def test_class_code_0_of_a_model_is_never_read_as_nodata(tmp_path):
    from geonb.prediction import class_map_nodata

    sc = _buildings_scene()
    lr = LogisticRegressionBaseline().fit((sc.image[None], sc.labels[None]), classes=(0, 1))
    p = predict_scene(lr, sc, progress=False)
    assert p.class_codes == (0, 1)
    assert (p.classes[sc.nodata_mask] == 255).all()  # not 0: 0 is background here
    valid = ~sc.nodata_mask
    assert (p.classes[valid] == sc.labels[valid]).all() and (p.classes[valid] == 0).sum() > 50
    write_scene(sc, tmp_path / "img.tif", modis_int16=False)
    predict_raster(lr, tmp_path / "img.tif", tmp_path / "pred.tif", progress=False)
    with rasterio.open(tmp_path / "pred.tif") as ds:
        classes, file_mask = ds.read(1), ds.read_masks(1) == 0
        assert ds.nodata == 255
    assert (file_mask == sc.nodata_mask).all()  # background pixels are data, nodata pixels are not
    assert (classes == p.classes).all()
    # a lakes model keeps 0 as the class map's nodata
    assert class_map_nodata(LAKE_CLASSES) == NODATA == 0
    with pytest.raises(ClassCodeError, match="both 0 and 255"):
        class_map_nodata(tuple(range(256)))


def test_prediction_refuses_class_values_it_does_not_have():
    from geonb.prediction import Prediction

    probs = np.zeros((1, 2, 2), np.float32)
    with pytest.raises(ClassCodeError, match=r"values \[7\].*class codes \(1, 2\) nor its nodata value 0"):
        Prediction(probs, np.array([[7, 1]], np.uint8), (1, 2), np.zeros((1, 2), bool))
    with pytest.raises(ClassCodeError, match=r"values \[2\].*class codes \(0, 1\) nor its nodata value 255"):
        Prediction(probs, np.array([[2, 1]], np.uint8), (0, 1), np.zeros((1, 2), bool))
    with pytest.raises(InvalidParameterError, match="integer class map"):
        Prediction(probs, np.array([[0.5, 1.0]]), (1, 2), np.zeros((1, 2), bool))
    # the nodata value of the codes is accepted: 0 for lakes, 255 when 0 is a class
    Prediction(probs, np.array([[0, 1]], np.uint8), (1, 2), np.array([[True, False]]))
    Prediction(probs, np.array([[255, 0]], np.uint8), (0, 1), np.array([[True, False]]))


def test_predict_raster_reads_with_the_training_scale(tmp_path):
    """A model trained on read_scene(..., scale=0.0001) gets the same numbers through predict_raster."""
    from rasterio.transform import from_origin

    from geonb.scene import read_scene

    rng = np.random.default_rng(0)
    lab = np.full((24, 24), WATER, np.uint8)
    lab[:, 12:] = LAND
    img = (np.where(lab[None] == WATER, 300, 2500) + rng.integers(-100, 100, (3, 24, 24))).astype(np.int16)
    img[0, 0, 0] = -28672  # an untagged MODIS fill value: masked, not a scale tag
    tr = from_origin(0, 24, 1, 1)
    prof = dict(driver="GTiff", height=24, width=24, crs="EPSG:32633", transform=tr)
    with rasterio.open(tmp_path / "i.tif", "w", count=3, dtype="int16", **prof) as ds:
        ds.write(img)
    with rasterio.open(tmp_path / "l.tif", "w", count=1, dtype="uint8", **prof) as ds:
        ds.write(lab[None])
    with pytest.warns(UserWarning):
        sc = read_scene(tmp_path / "i.tif", tmp_path / "l.tif", scale=0.0001)
    lr = LogisticRegressionBaseline().fit((sc.image[None], sc.labels[None]))
    with pytest.warns(UserWarning):
        predict_raster(lr, tmp_path / "i.tif", tmp_path / "p.tif", progress=False, scale=0.0001)
    with rasterio.open(tmp_path / "p.tif") as ds:
        pred = ds.read(1)
    expected = predict_scene(lr, sc, progress=False).classes
    assert (pred == expected).all()
    valid = ~sc.nodata_mask
    assert (pred[valid] == lab[valid]).all() and (pred[sc.nodata_mask] == NODATA).all()
    # nodata= reaches read_image too: declaring no nodata value keeps the fill pixel as data
    predict_raster(lr, tmp_path / "i.tif", tmp_path / "p2.tif", progress=False, scale=0.0001, nodata=-1)
    with rasterio.open(tmp_path / "p2.tif") as ds:
        assert ds.read(1)[0, 0] != NODATA


def _stripy_raster(tmp_path, rows=300, cols=280, seed=3):
    """A raster with nodata stripes across block borders and halos, a fill 'ocean' and ragged land."""
    rng = np.random.default_rng(seed)
    img = rng.uniform(0.01, 0.4, (rows, cols, 7)).astype(np.float32)
    mask = np.zeros((rows, cols), bool)
    mask[:, 60:70] = True            # a stripe across the first block border (block 64)
    mask[120:128, :] = True          # a horizontal stripe inside a halo
    mask[200:, :150] = True          # a fill 'ocean' covering whole blocks and sub-tiles
    rr, cc = np.mgrid[:rows, :cols]
    mask |= ((rr - 250) ** 2 + (cc - 220) ** 2) < 20 ** 2  # a round hole
    img[mask] = 0
    path = tmp_path / "stripy.tif"
    write_scene(Scene(img, nodata_mask=mask, crs="EPSG:32633", transform=TRANSFORM), path)
    return path, mask


@pytest.mark.parametrize("block", [64, 96, 512])
def test_predict_raster_skipping_nodata_changes_no_valid_pixel(tmp_path, fcn, block):
    src, mask = _stripy_raster(tmp_path)
    a = predict_raster(fcn, src, tmp_path / "skip.tif", block=block, probabilities=True, progress=False)
    b = predict_raster(fcn, src, tmp_path / "all.tif", block=block, probabilities=True, progress=False,
                       skip_nodata=False)
    assert a.pixels_predicted <= b.pixels_predicted  # never more work...
    with rasterio.open(a.classes_path) as ca, rasterio.open(b.classes_path) as cb, \
            rasterio.open(a.probabilities_path) as pa, rasterio.open(b.probabilities_path) as pb:
        assert (ca.read(1) == cb.read(1)).all()  # ... the same class at every pixel
        p, q = pa.read(), pb.read()
    valid = ~mask
    np.testing.assert_allclose(p[:, valid], q[:, valid], atol=1e-5)
    assert np.isnan(p[:, mask]).all() and np.isnan(q[:, mask]).all()
    if block == 64:
        assert a.blocks_skipped > 0


def test_predict_array_skips_tiles_without_valid_pixels(fcn):
    sc = _scene(200, 180, nodata_rows=0)
    mask = np.zeros(sc.shape, bool)
    mask[:, :120] = True
    zeroed = sc.image.copy()
    zeroed[mask] = 0  # what the model sees under the mask either way
    tiled = predict_scene(fcn, Scene(zeroed, nodata_mask=mask, crs=sc.crs, transform=sc.transform),
                          patch_size=64, progress=False)
    kept = predict_scene(fcn, Scene(zeroed, crs=sc.crs, transform=sc.transform), patch_size=64, progress=False)
    valid = ~mask
    np.testing.assert_allclose(tiled.probabilities[valid], kept.probabilities[valid], atol=1e-5)


def test_tensorflow_threads_match_the_allowed_cores():
    import subprocess
    import sys

    from geonb.runtime import THREAD_ENV, available_cores

    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV}
    code = ("from geonb.runtime import import_keras; import_keras(); import tensorflow as tf; "
            "print(tf.config.threading.get_intra_op_parallelism_threads(), "
            "tf.config.threading.get_inter_op_parallelism_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.split() == [str(available_cores()), str(min(2, available_cores()))]
    env["TF_NUM_INTRAOP_THREADS"] = "1"  # a user's own setting stands
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.split() == ["0", "0"]


def test_skipping_never_changes_a_wide_context_model(tmp_path):
    """A model whose context is wider than a sub-tile's halo (the buildings FCN: 36 px) predicts whole blocks."""
    from geonb.models import build_buildings_fcn

    model = build_buildings_fcn(8, bands=7)
    rows = cols = 160
    rng = np.random.default_rng(0)
    img = rng.uniform(0.01, 0.4, (rows, cols, 7)).astype(np.float32)
    mask = np.ones((rows, cols), bool)
    mask[10:40, :] = False            # a valid strip and an island: most 128-px sub-tiles are empty
    mask[120:150, 120:150] = False
    img[mask] = 0
    src = tmp_path / "wide.tif"
    write_scene(Scene(img, nodata_mask=mask, crs="EPSG:32633", transform=TRANSFORM), src)
    a = predict_raster(model, src, tmp_path / "skip.tif", block=512, probabilities=True, progress=False)
    b = predict_raster(model, src, tmp_path / "all.tif", block=512, probabilities=True, progress=False,
                       skip_nodata=False)
    with rasterio.open(a.classes_path) as ca, rasterio.open(b.classes_path) as cb, \
            rasterio.open(a.probabilities_path) as pa, rasterio.open(b.probabilities_path) as pb:
        assert (ca.read(1) == cb.read(1)).all()
        np.testing.assert_allclose(pa.read()[:, ~mask], pb.read()[:, ~mask], atol=1e-6)


def test_a_failing_write_is_a_geonb_error_and_leaves_nothing(tmp_path, fcn, monkeypatch):
    import geonb.prediction as prediction
    from geonb.errors import RasterWriteError

    src, _ = _stripy_raster(tmp_path, rows=80, cols=80)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(prediction, "_write_block", disk_full)
    with pytest.raises(RasterWriteError, match="disk full"):
        predict_raster(fcn, src, tmp_path / "out.tif", block=64, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stripy.tif"]


# ---- Test-time augmentation (issue 18) ----------------------------------------------------------------
def test_tta_of_an_equivariant_model_changes_nothing(pixelwise):
    # a 1x1 convolution is the same under every flip and rotation, so averaging over them must return
    # the plain prediction; the non-square scene checks that rows and columns are turned back correctly
    sc = _scene(rows=70, cols=53)
    plain = predict_scene(pixelwise, sc, patch_size=32, progress=False)
    for tta in ("flip", "d4", True):
        aug = predict_scene(pixelwise, sc, patch_size=32, progress=False, tta=tta)
        assert aug.probabilities.shape == (70, 53, 3) and aug.probabilities.dtype == np.float32
        np.testing.assert_allclose(aug.probabilities, plain.probabilities, atol=1e-5)
        np.testing.assert_array_equal(aug.classes, plain.classes)
        assert aug.class_codes == plain.class_codes == LAKE_CLASSES
        assert (aug.classes[sc.nodata_mask] == NODATA).all()


def test_tta_averages_the_turned_back_predictions_of_a_model_that_sees_direction():
    import keras

    from geonb.training import d4

    inp = keras.Input((None, None, 7))
    out = keras.layers.Conv2D(3, 3, padding="same", activation="softmax",
                              kernel_initializer=keras.initializers.GlorotUniform(seed=3))(inp)
    model = set_class_codes(keras.Model(inp, out), LAKE_CLASSES)
    sc = _scene(rows=24, cols=40, nodata_rows=0)
    plain = predict_scene(model, sc, patch_size="scene", progress=False)
    aug = predict_scene(model, sc, patch_size="scene", progress=False, tta="flip")
    # a 3x3 kernel is not symmetric: TTA must change the answer...
    assert np.abs(aug.probabilities - plain.probabilities).max() > 1e-3
    # ...into the mean of the four flipped predictions, each flipped back (flips are their own inverse)
    expected = np.mean([d4(_direct(model, np.ascontiguousarray(d4(sc.image[None], k)[0]))[None], k)[0]
                        for k in (0, 2, 4, 6)], axis=0)
    np.testing.assert_allclose(aug.probabilities, expected, atol=1e-5)


def test_tta_d4_turns_each_rotation_back_with_its_own_inverse():
    """All 8 transforms, quarter turns included (the flips alone are their own inverses and would hide a wrong
    inverse); each inverse found here by brute force, independently of geonb's."""
    import keras

    from geonb.training import d4

    inp = keras.Input((None, None, 7))
    out = keras.layers.Conv2D(3, 3, padding="same", activation="softmax",
                              kernel_initializer=keras.initializers.GlorotUniform(seed=5))(inp)
    model = set_class_codes(keras.Model(inp, out), LAKE_CLASSES)
    sc = _scene(rows=24, cols=40, nodata_rows=0)
    probe = np.arange(24 * 40, dtype=np.float32).reshape(1, 24, 40, 1)
    inverse = {k: next(j for j in range(8) if d4(d4(probe, k), j).shape == probe.shape
                       and np.array_equal(d4(d4(probe, k), j), probe)) for k in range(8)}
    aug = predict_scene(model, sc, patch_size="scene", progress=False, tta="d4")
    expected = np.mean([d4(_direct(model, np.ascontiguousarray(d4(sc.image[None], k)[0]))[None], inverse[k])[0]
                        for k in range(8)], axis=0)
    np.testing.assert_allclose(aug.probabilities, expected, atol=1e-5)


@pytest.mark.parametrize("tta", ["d8", 8, "yes"])
def test_tta_refuses_unknown_modes(pixelwise, tta):
    with pytest.raises(InvalidParameterError, match="`tta` must be"):
        predict_scene(pixelwise, _scene(), progress=False, tta=tta)
