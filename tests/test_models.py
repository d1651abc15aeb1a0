"""Tests of geonb.models: architectures, sizes they take, save/load, baselines."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from geonb.errors import BandMismatchError, ClassCodeError, InvalidParameterError, ModelError, OutputExistsError
from geonb.labels import BACKGROUND, BORDER, BUILDING, LAKE_CLASSES, LAND, UNCLASSIFIED, WATER
from geonb.models import (
    AllLandBaseline,
    LogisticRegressionBaseline,
    build_buildings_fcn,
    build_lakes_fcn,
    build_unet,
    check_patch_size,
    class_codes,
    describe_layers,
    input_statistics,
    load_model,
    model_io,
    save_model,
)


@pytest.fixture(scope="module")
def fcn():
    return build_lakes_fcn(16, bands=7, classes=3)


def _x(n, rows, cols, bands=7, seed=0):
    return np.random.default_rng(seed).uniform(0, 0.5, (n, rows, cols, bands)).astype(np.float32)


def test_lakes_fcn_has_the_study_parameter_count_with_channel_batchnorm(fcn):
    # 473,875 with BatchNormalization over channels (TESTING-NOTES); the study's 473,739 normalised rows.
    assert fcn.count_params() == 473_875
    assert [type(lay).__name__ for lay in fcn.layers].count("Conv2DTranspose") == 3
    assert model_io(fcn) == (7, 3, None)


@pytest.mark.parametrize("size", [7, 8, 16, 32, 64])
def test_lakes_fcn_restores_every_study_patch_size(fcn, size):
    out = fcn.predict_on_batch(_x(2, size, size))
    assert out.shape == (2, size, size, 3)
    np.testing.assert_allclose(np.asarray(out).sum(-1), 1.0, atol=1e-5)


def test_lakes_fcn_predicts_a_whole_non_square_scene(fcn):
    assert np.asarray(fcn.predict_on_batch(_x(1, 12, 28))).shape == (1, 12, 28, 3)


@pytest.mark.parametrize("size", [0, 3, 6])
def test_lakes_fcn_rejects_too_small_patches_naming_workable_sizes(size):
    with pytest.raises(ModelError, match=rf"patch_size={size}.*>= 7.*7, 8, 9"):
        build_lakes_fcn(size)


def test_patch_size_must_be_an_int():
    with pytest.raises(ModelError, match="int"):
        check_patch_size("lakes_fcn", 16.0)


def test_pad_conv_upsampling_is_the_same_size_and_parameter_count(fcn):
    m = build_lakes_fcn(16, upsampling="pad_conv")
    assert m.count_params() == fcn.count_params()
    assert np.asarray(m.predict_on_batch(_x(1, 16, 16))).shape == (1, 16, 16, 3)
    with pytest.raises(InvalidParameterError, match="upsampling"):
        build_lakes_fcn(16, upsampling="bilinear")


def test_buildings_fcn_matches_the_study_table():
    m = build_buildings_fcn(128, bands=4, classes=2)
    assert m.count_params() == 3_761_858
    assert np.asarray(m.predict_on_batch(_x(1, 32, 32, bands=4))).shape == (1, 32, 32, 2)
    with pytest.raises(ModelError, match="multiples of 8"):
        build_buildings_fcn(100)


def test_unet_takes_8x8_unlike_the_study():
    m = build_unet(8, bands=7, classes=3)
    for size in (8, 16):
        assert np.asarray(m.predict_on_batch(_x(1, size, size))).shape == (1, size, size, 3)
    with pytest.raises(ModelError, match="multiples of 4"):
        build_unet(10)
    with pytest.raises(ModelError, match="multiples of 8"):
        build_unet(12, filters=(8, 16, 32, 64))


def test_normalization_layer_is_inside_the_model():
    x = _x(4, 8, 8) * 100 + 5
    mean, var = input_statistics(x)
    m = build_lakes_fcn(8, normalization=(mean, var))
    assert m.layers[1].name == "normalize"
    norm = m.get_layer("normalize")
    out = np.asarray(norm(x))
    np.testing.assert_allclose(out.reshape(-1, 7).mean(0), 0, atol=1e-3)
    np.testing.assert_allclose(out.reshape(-1, 7).std(0), 1, atol=1e-2)
    with pytest.raises(BandMismatchError, match="3 bands.*bands=7"):
        build_lakes_fcn(8, normalization=(mean[:3], var[:3]))


def test_input_statistics_uses_valid_pixels_only():
    x = np.zeros((1, 2, 2, 1), np.float32)
    x[0, 0, 0, 0] = 10.0
    valid = np.array([[[False, True], [True, True]]])
    mean, var = input_statistics(x, valid)
    assert mean.tolist() == [0.0] and var.tolist() == [0.0]
    with pytest.raises(InvalidParameterError, match="valid"):
        input_statistics(x, np.ones(3, bool))
    # a PatchSet-like object: unlabelled pixels and image nodata are both left out
    ps = SimpleNamespace(images=x, labels=np.array([[[2, 2], [2, 2]]], np.uint8),
                         nodata=np.array([[[True, False], [False, False]]]))
    mean, var = input_statistics(ps)
    assert mean.tolist() == [0.0] and var.tolist() == [0.0]


def test_describe_layers_shows_shrink_and_growth(fcn):
    table = describe_layers(fcn, 16)
    shapes = dict(zip(table["layer"], table["output shape"], strict=True))
    assert shapes["conv4"] == (10, 10, 112)
    assert shapes["probabilities"] == (16, 16, 3)
    assert table["parameters"].sum() == 473_875


def test_save_and_load_round_trip(tmp_path, fcn):
    path = save_model(fcn, tmp_path / "m.keras")
    loaded = load_model(path)
    x = _x(1, 16, 16)
    np.testing.assert_allclose(np.asarray(loaded.predict_on_batch(x)), np.asarray(fcn.predict_on_batch(x)),
                               atol=1e-6)
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        save_model(fcn, path)
    save_model(fcn, path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]  # no temporary files left
    with pytest.raises(InvalidParameterError, match=".keras"):
        save_model(fcn, tmp_path / "m.h5")


def test_load_refuses_files_that_are_not_models(tmp_path):
    bad = tmp_path / "notes.keras"
    bad.write_text("not a model")
    with pytest.raises(ModelError, match="not a Keras 3 model file"):
        load_model(bad)
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ModelError, match="not a Keras 3 model file"):
        load_model(pickled)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "missing.keras")


def test_load_refuses_code_in_the_file_safe_mode(tmp_path):
    import keras

    inp = keras.Input((None, None, 7))
    out = keras.layers.Lambda(lambda t: t * 2)(inp)
    keras.Model(inp, out).save(tmp_path / "lambda.keras")
    with pytest.raises(ModelError, match="could not be loaded"):
        load_model(tmp_path / "lambda.keras")


def _separable(n=6, size=8, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.choice(np.array(LAKE_CLASSES[:2], np.uint8), size=(n, size, size))
    x = rng.normal(0, 0.02, (n, size, size, 7)).astype(np.float32)
    x[..., 1] += np.where(labels == LAND, 0.3, 0.02)  # NIR: land bright, water dark
    from geonb.labels import one_hot

    return x, one_hot(labels), labels


def test_logistic_regression_baseline_learns_pixels():
    x, y, labels = _separable()
    lr = LogisticRegressionBaseline(max_pixels=300, seed=0).fit((x, y), classes=LAKE_CLASSES)
    proba = lr.predict_proba(x)
    assert proba.shape == (6, 8, 8, 3)
    assert proba[..., 2].max() == 0.0  # never seen: unclassified
    pred = np.asarray(LAKE_CLASSES)[proba.argmax(-1)]
    assert (pred == labels).mean() > 0.95
    assert model_io(lr) == (7, 3, None)
    with pytest.raises(BandMismatchError, match="3 bands.*fitted on 7"):
        lr.predict_proba(x[..., :3])


def test_baselines_must_be_fitted_first():
    with pytest.raises(ModelError, match="not fitted"):
        LogisticRegressionBaseline().predict_proba(np.zeros((1, 2, 2, 7)))
    with pytest.raises(ModelError, match="not fitted"):
        model_io(AllLandBaseline())


def test_all_land_baseline():
    x, y, _ = _separable()
    base = AllLandBaseline().fit(x, y, classes=LAKE_CLASSES)
    proba = base.predict_proba(x)
    assert proba.shape == (6, 8, 8, 3)
    assert (np.asarray(LAKE_CLASSES)[proba.argmax(-1)] == LAND).all()


# ---- Class codes: one owner, travelling with the model -------------------------------------------------
def _patchset(codes, n=8, size=8, bands=3, seed=0):
    """Patches of 4 x 4 px blocks whose band 0 says the class: code codes[k] where band 0 is near k / len(codes)."""
    from geonb.patches import PatchSet

    rng = np.random.default_rng(seed)
    k = np.kron(rng.integers(0, len(codes), (n, size // 4, size // 4)), np.ones((1, 4, 4), int))
    x = rng.normal(0, 0.02, (n, size, size, bands)).astype(np.float32)
    x[..., 0] += k / len(codes)
    labels = np.asarray(codes, dtype=np.uint8)[k]
    return PatchSet(images=x, labels=labels, nodata=np.zeros(labels.shape, bool), lake_ids=np.array(["a"] * n),
                    windows=np.zeros((n, 4), int), band_names=("b1", "b2", "b3")[:bands], size=size, stride=size,
                    classes=tuple(codes))


def _scene_of(ps):
    from geonb.scene import Scene

    return Scene(np.concatenate(list(ps.images), axis=1), labels=np.concatenate(list(ps.labels), axis=1),
                 band_names=ps.band_names, name="strip")


@pytest.mark.parametrize("builder,codes", [
    ("lakes_fcn", (LAND, WATER)),                 # 2 classes, not in the lakes order
    ("lakes_fcn", (UNCLASSIFIED, WATER, LAND)),   # 3 classes, permuted
    ("unet", (WATER, LAND)),
    ("buildings_fcn", (BACKGROUND, BUILDING, BORDER)),
], ids=["fcn-2-reversed", "fcn-3-permuted", "unet-2", "buildings-3"])
def test_keras_class_codes_round_trip_fit_save_load_predict_score(tmp_path, builder, codes):
    from geonb.evaluation import scores
    from geonb.prediction import predict_array, predict_scene
    from geonb.training import train

    ps = _patchset(codes)
    build = {"lakes_fcn": build_lakes_fcn, "unet": build_unet, "buildings_fcn": build_buildings_fcn}[builder]
    model = build(8, bands=3, classes=codes, learning_rate=0.01)
    assert class_codes(model) == codes
    train(model, ps, epochs=2, batch_size=4, verbose=0)
    save_model(model, tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert class_codes(loaded) == codes
    scene = _scene_of(ps)
    pred = predict_scene(loaded, scene, progress=False)
    assert pred.class_codes == codes
    raw = predict_array(model, scene.image)  # the trained model's own channels, before saving
    for i, code in enumerate(codes):  # channel i is class codes[i], also after save and load
        np.testing.assert_allclose(pred.probability(code), raw[..., i], atol=1e-5)
    assert (pred.classes == np.asarray(codes)[raw.argmax(-1)]).all()
    sc = scores(scene.labels, pred, classes=tuple(sorted(codes)), positive=codes[0], exclude=())
    assert sc.confusion.n_pixels == scene.labels.size


def test_a_model_trained_on_reversed_codes_scores_well_only_with_its_own_codes(tmp_path):
    """The 2-class bug the issue saw: water channel read as code 0, land as water. Now F1 is high."""
    from geonb.evaluation import scores
    from geonb.training import train

    ps = _patchset((LAND, WATER), n=16)
    model = build_lakes_fcn(8, bands=3, classes=(LAND, WATER), normalization=input_statistics(ps))
    train(model, ps, epochs=30, batch_size=8, verbose=0, class_weight=None)
    save_model(model, tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    # scored on the training patches themselves (an 8 x 8-trained FCN is not meant to be judged on larger tiles)
    predicted = np.asarray(class_codes(loaded))[np.asarray(loaded.predict_on_batch(ps.images)).argmax(-1)]
    f1 = scores(ps.labels, predicted, classes=(WATER, LAND), exclude=()).per_class.loc["water", "f1"]
    assert f1 > 0.95


def test_a_model_without_codes_is_a_clear_error_never_a_guess(tmp_path):
    from geonb.prediction import predict_scene

    model = build_lakes_fcn(8, bands=3, classes=(WATER, LAND))
    model.save(tmp_path / "plain.keras")  # Keras' own save: no geonb codes inside
    loaded = load_model(tmp_path / "plain.keras")
    with pytest.raises(ModelError, match="class codes .* unknown.*classes="):
        class_codes(loaded)
    x = np.zeros((10, 10, 3), np.float32)
    with pytest.raises(ModelError, match="classes="):
        predict_scene(loaded, x, progress=False)
    assert predict_scene(loaded, x, classes=(WATER, LAND), progress=False).class_codes == (WATER, LAND)
    assert class_codes(load_model(tmp_path / "plain.keras", classes=(WATER, LAND))) == (WATER, LAND)
    save_model(model, tmp_path / "m.keras")
    with pytest.raises(ClassCodeError, match="disagrees with the class codes saved"):
        load_model(tmp_path / "m.keras", classes=(LAND, WATER))


@pytest.mark.parametrize("classes,match", [(4, "does not say which class code"), ((1,), "at least 2"),
                                           ((1, 1), "distinct"), ((1, 300), "0..255"), (("water", "land"), "0..255"),
                                           ("12", "sequence of class codes")])
def test_builders_refuse_classes_that_do_not_name_codes(classes, match):
    with pytest.raises(ClassCodeError, match=match):
        build_lakes_fcn(8, bands=3, classes=classes)


def test_int_classes_mean_the_documented_codes():
    assert class_codes(build_lakes_fcn(8, bands=3, classes=2)) == (WATER, LAND)
    assert class_codes(build_lakes_fcn(8, bands=3)) == LAKE_CLASSES
    assert class_codes(build_buildings_fcn(8, bands=3, classes=3)) == (BACKGROUND, BUILDING, BORDER)
    assert class_codes(build_buildings_fcn(8, bands=3)) == (BACKGROUND, BUILDING)


@pytest.mark.parametrize("codes", [(WATER, LAND), (LAND, WATER), (WATER, LAND, UNCLASSIFIED)])
def test_baselines_keep_their_codes_and_score_right(codes):
    from geonb.evaluation import scores
    from geonb.prediction import predict_scene

    ps = _patchset(codes, n=10)
    scene = _scene_of(ps)
    lr = LogisticRegressionBaseline(max_pixels=2000).fit(ps)
    assert lr.classes_ == codes and class_codes(lr) == codes
    pred = predict_scene(lr, scene, progress=False)
    assert pred.class_codes == codes
    assert scores(scene.labels, pred, exclude=(), classes=LAKE_CLASSES).per_class.loc["water", "f1"] > 0.95
    land = AllLandBaseline().fit(ps)
    assert land.classes_ == codes
    assert (predict_scene(land, scene, progress=False).classes == LAND).all()  # all *land*, whatever the order


def test_all_land_baseline_refuses_classes_without_land():
    with pytest.raises(ClassCodeError, match="land"):
        AllLandBaseline(classes=(BACKGROUND, BUILDING))
    with pytest.raises(ClassCodeError, match="land"):
        AllLandBaseline().fit(_patchset((WATER, UNCLASSIFIED)))


def test_fitting_one_hot_arrays_needs_the_codes():
    ps = _patchset((WATER, LAND))
    with pytest.raises(ClassCodeError, match="pass classes="):
        LogisticRegressionBaseline().fit((ps.images, ps.targets))
    lr = LogisticRegressionBaseline().fit((ps.images, ps.targets), classes=(WATER, LAND))
    assert lr.classes_ == (WATER, LAND)
    # class codes (not one-hot) carry their own classes, as in scikit-learn
    assert LogisticRegressionBaseline().fit((ps.images, ps.labels)).classes_ == (WATER, LAND)


def test_codes_taken_from_integer_labels_refuse_255_and_warn_on_unknown_codes():
    import warnings

    from geonb.errors import GeonbWarning

    ps = _patchset((WATER, LAND))
    filled = ps.labels.copy()
    filled[:, 0, 0] = 255  # an undeclared fill value: must not become a third class
    for baseline in (LogisticRegressionBaseline(), AllLandBaseline()):
        with pytest.raises(ClassCodeError, match=r"code 255.*usually a file's nodata.*255: NODATA"):
            baseline.fit((ps.images, filled))
    odd = ps.labels.copy()
    odd[odd == LAND] = 7  # a code no geonb scheme has: accepted, but said
    with pytest.warns(GeonbWarning, match=r"\(1, 7\) were taken from the labels.*\[7\].*classes="):
        lr = LogisticRegressionBaseline().fit((ps.images, odd))
    assert lr.classes_ == (WATER, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # declared codes, or lakes codes: no warning
        assert LogisticRegressionBaseline().fit((ps.images, odd), classes=(WATER, 7)).classes_ == (WATER, 7)
        assert LogisticRegressionBaseline().fit((ps.images, ps.labels)).classes_ == (WATER, LAND)


def test_load_model_says_when_wrong_codes_came_from_the_file(tmp_path):
    import json
    import shutil
    import zipfile

    model = build_lakes_fcn(8, bands=3, classes=(WATER, LAND))
    model.save(tmp_path / "plain.keras")
    shutil.copy(tmp_path / "plain.keras", tmp_path / "bad.keras")
    with zipfile.ZipFile(tmp_path / "bad.keras", "a") as zf:
        zf.writestr("geonb.json", json.dumps({"class_codes": [1, 2, 3]}))
    with pytest.raises(ClassCodeError, match=r"geonb.json entry of .*bad.keras' lists 3 class codes \(1, 2, 3\) but "
                                             r"the model in it has 2 output channels") as info:
        load_model(tmp_path / "bad.keras")
    assert "`classes` lists" not in str(info.value)  # the caller passed no classes
    with pytest.raises(ClassCodeError, match=r"`classes` lists 3 codes"):  # the caller's own codes: said so
        load_model(tmp_path / "plain.keras", classes=(1, 2, 3))


# ---- Real files nobody here made: geonb's LR baseline equals plain scikit-learn on the same pixels ------
def _split_by_polygon(features, seed=0):
    """Half of each class's polygons (seeded) for training, the rest for testing."""
    rng = np.random.default_rng(seed)
    train_ids = []
    for name in sorted({f["properties"]["class"] for f in features}):
        idx = [i for i, f in enumerate(features) if f["properties"]["class"] == name]
        rng.shuffle(idx)
        train_ids += idx[:max(1, len(idx) // 2)]
    return sorted(train_ids), [i for i in range(len(features)) if i not in train_ids]


@pytest.mark.parametrize("folder,image,others", [
    ("sentinel2-obidos", "S2_obidos_B1-B12_reflectance.tif", ("forest", "village", "dryout")),
    ("landsat5-tucurui", "LT05_224063_19880814_B1-7.tif", ("forest", "cleared", "fallen_dry")),
])
def test_two_class_lr_on_a_real_scene_scores_as_plain_scikit_learn(realdata, folder, image, others):
    import json
    from dataclasses import replace

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from geonb.evaluation import scores
    from geonb.labels import rasterize_labels
    from geonb.patches import extract_patches
    from geonb.prediction import predict_scene
    from geonb.scene import read_scene

    scene = read_scene(realdata / folder / image)
    gj = json.loads((realdata / folder / "training_polygons.geojson").read_text())
    label_map = {"water": WATER, **{name: LAND for name in others}}
    train_ids, test_ids = _split_by_polygon(gj["features"])

    def labels_of(ids):
        sub = dict(gj, features=[gj["features"][i] for i in ids])
        lab = rasterize_labels(sub, scene.shape, scene.transform, scene.crs, label_map=label_map, overlap="last")
        lab[scene.nodata_mask] = 0
        return lab

    train_lab, test_lab = labels_of(train_ids), labels_of(test_ids)
    assert (train_lab == WATER).sum() > 20 and (test_lab == WATER).sum() > 20
    # geonb: patches (sparse labels, padded edges) -> baseline -> whole-scene prediction -> scores
    patches = extract_patches(replace(scene, labels=train_lab), 16, edge="pad", classes=(WATER, LAND))
    lr = LogisticRegressionBaseline(max_pixels=10**7).fit(patches)
    pred = predict_scene(lr, scene, progress=False)
    f1_geonb = scores(test_lab, pred, classes=(WATER, LAND), exclude=()).per_class.loc["water", "f1"]
    # plain scikit-learn on the same training pixels, scored on the same held-out polygons
    x = scene.image.reshape(-1, scene.n_bands)
    tr, te = train_lab.ravel() > 0, test_lab.ravel() > 0
    sk = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x[tr], train_lab.ravel()[tr])
    f1_sklearn = f1_score(test_lab.ravel()[te], sk.predict(x[te]), pos_label=WATER)
    assert f1_sklearn > 0.9
    assert abs(f1_geonb - f1_sklearn) <= 0.02


# ---- The buildings U-Net (issue 18) -------------------------------------------------------------------
def test_buildings_unet_carries_building_codes_and_keeps_the_input_size():
    from geonb.models import build_buildings_unet, build_unet, class_codes

    m = build_buildings_unet(64, bands=3)
    assert m.name == "buildings_unet" and class_codes(m) == (BACKGROUND, BUILDING, BORDER)
    assert m.count_params() == 484_179
    out = m.predict_on_batch(np.zeros((1, 40, 56, 3), np.float32))
    assert out.shape == (1, 40, 56, 3)
    np.testing.assert_allclose(out.sum(-1), 1, atol=1e-5)
    assert class_codes(build_buildings_unet(64, bands=3, classes=2)) == (BACKGROUND, BUILDING)
    # the lakes U-Net is unchanged by the generalisation
    lakes = build_unet(16)
    assert lakes.name == "unet" and class_codes(lakes) == LAKE_CLASSES


def test_buildings_unet_dropout_drops_whole_maps_in_training_only_and_adds_no_weights():
    from geonb.models import build_buildings_unet

    plain = build_buildings_unet(32, bands=3, filters=(4, 8, 16))
    m = build_buildings_unet(32, bands=3, filters=(4, 8, 16), dropout=0.5)
    drops = [layer.name for layer in m.layers if "dropout" in layer.name]
    assert drops == ["bottleneck_dropout", "up2_dropout", "up1_dropout"]
    assert m.count_params() == plain.count_params()
    for a, b in zip(m.get_weights(), plain.get_weights(), strict=True):    # same start as without dropout
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(m(x, training=False), plain(x, training=False), atol=1e-6)   # inference: no dropout
    assert not np.allclose(m(x, training=True), plain(x, training=True), atol=1e-4)
    up1 = m.get_layer("up1_relu2").output
    probe = type(m)(m.input, [up1, m.get_layer("up1_dropout").output])
    before, after = (np.asarray(a) for a in probe(x, training=True))
    dropped = (after == 0).all(axis=(1, 2)) & ~(before == 0).all(axis=(1, 2))   # whole feature maps zeroed
    assert dropped.any() and not dropped.all()
    for bad in (-0.1, 1.0, True):
        with pytest.raises(InvalidParameterError, match="`dropout`"):
            build_buildings_unet(32, bands=3, filters=(4, 8), dropout=bad)


def test_buildings_unet_checks_the_crop_against_its_depth():
    from geonb.models import build_buildings_unet

    with pytest.raises(ModelError, match="multiples of 8"):
        build_buildings_unet(60, bands=3)
    with pytest.raises(ClassCodeError, match="`classes`"):
        build_buildings_unet(64, bands=3, classes=4)


# ---- overlap loss and ensembles (issue 18) --------------------------------------------------------------
def _onehot(codes_idx, n=3):
    return np.eye(n, dtype=np.float32)[np.asarray(codes_idx)]


def test_overlap_loss_is_cross_entropy_plus_one_minus_soft_dice_of_the_foreground():
    import keras

    from geonb.models import overlap_loss

    y = _onehot([[0, 1], [2, 0]])[None]                       # (1, 2, 2, 3): background, building, border
    p = np.full((1, 2, 2, 3), 1 / 3, np.float32)
    w = np.array([[[1.0, 2.0], [1.0, 0.0]]], np.float32)      # the last pixel is not labelled
    ce = -np.log(1 / 3) * w.sum() / w.size                    # Keras' "sum_over_batch_size"
    t = np.array([0, 1, 1], np.float32)                       # foreground truth of the 3 labelled pixels
    q = np.full(3, 2 / 3, np.float32)                         # building + border probability
    dice = (2 * (t * q).sum() + 1) / (t.sum() + q.sum() + 1)
    loss = overlap_loss((BACKGROUND, BUILDING, BORDER))
    assert float(loss(y, p, sample_weight=w)) == pytest.approx(ce + 1 - dice, rel=1e-5)
    # weight 0: exactly Keras' weighted categorical cross-entropy
    plain = keras.losses.CategoricalCrossentropy()
    assert float(overlap_loss((0, 1, 2), weight=0)(y, p, sample_weight=w)) == pytest.approx(
        float(plain(y, p, sample_weight=w)), rel=1e-5)
    # a perfect prediction costs (almost) nothing; Jaccard too
    perfect = np.clip(y, 1e-7, 1)
    assert float(loss(y, perfect)) < 1e-3
    assert float(overlap_loss((0, 1, 2), kind="jaccard")(y, perfect)) < 1e-3
    # it serialises: a compiled model saves and loads
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert again.get_config()["foreground"] == [1, 2] and again.kind == "dice"


def test_overlap_loss_refuses_bad_arguments():
    from geonb.models import overlap_loss

    with pytest.raises(InvalidParameterError, match="`foreground`"):
        overlap_loss((0, 1), foreground=(5,))
    with pytest.raises(InvalidParameterError, match="`kind`"):
        overlap_loss((0, 1), kind="lovasz")
    with pytest.raises(InvalidParameterError, match="`weight`"):
        overlap_loss((0, 1), weight=-1)
    with pytest.raises(InvalidParameterError, match="`smooth`"):
        overlap_loss((0, 1), smooth=0)


def test_a_model_compiled_with_the_overlap_loss_trains_saves_and_loads(tmp_path):
    from geonb.models import build_buildings_unet, compile_model, overlap_loss

    m = build_buildings_unet(16, bands=3, filters=(4, 8))
    compile_model(m, 1e-3, loss=overlap_loss(class_codes(m)))
    x = _x(2, 16, 16, bands=3)
    y = _onehot(np.random.default_rng(0).integers(0, 3, (2, 16, 16)))
    h = m.fit(x, y, sample_weight=np.ones((2, 16, 16), np.float32), epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])
    loaded = load_model(save_model(m, tmp_path / "m.keras"))
    np.testing.assert_allclose(loaded.predict_on_batch(x), m.predict_on_batch(x), atol=1e-5)


def test_average_models_averages_probabilities_and_keeps_the_codes():
    from geonb.models import average_models, build_buildings_unet

    a, b = (build_buildings_unet(16, bands=3, filters=(4, 8), seed=s) for s in (0, 1))
    x = _x(1, 24, 16, bands=3)
    ens = average_models([a, b])
    assert class_codes(ens) == class_codes(a) and model_io(ens) == (3, 3, None)
    np.testing.assert_allclose(ens.predict_on_batch(x), (a.predict_on_batch(x) + b.predict_on_batch(x)) / 2,
                               atol=1e-6)
    assert average_models([a]) is a
    with pytest.raises(ClassCodeError, match="class codes"):
        average_models([a, build_buildings_unet(16, bands=3, filters=(4, 8), classes=2)])
    with pytest.raises(InvalidParameterError, match="`models`"):
        average_models([])
