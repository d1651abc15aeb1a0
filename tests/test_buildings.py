"""Tests of geonb.buildings: the held-out split of one chip, targets, footprints out, scores, the recipe."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from notebook_runner import NOTEBOOK_DIR, run_notebook
from shapely.geometry import box

from geonb.buildings import (
    TEST,
    TRAIN,
    VAL,
    Recipe,
    ablation_recipes,
    affine_window,
    building_classes,
    crop_origins,
    labels_from_instances,
    prediction_footprints,
    random_crops,
    run_recipe,
    score_footprints,
    small_building_weights,
    split_chip,
    split_regions,
    winners_table,
)
from geonb.errors import InvalidParameterError, ModelError, ShapeMismatchError
from geonb.evaluation_buildings import spacenet_f1
from geonb.labels import BACKGROUND, BORDER, BUILDING, Footprints, rasterize_footprints
from geonb.scene import Scene

# 1 m pixels, rows go down (y = -row): box(c0, -r1, c1, -r0) covers rows r0..r1-1, cols c0..c1-1
GRID = Affine(1, 0, 0, 0, -1, 0)
CRS = "EPSG:3857"
ROOT = Path(__file__).resolve().parents[1]


def _box(r0, c0, r1, c1):
    return box(c0, -r1, c1, -r0)


# ---- split_regions -------------------------------------------------------------------------------------
@pytest.mark.parametrize("side,test_cols,test_rows", [("right", slice(5, 10), slice(None)),
                                                       ("left", slice(0, 5), slice(None)),
                                                       ("top", slice(None), slice(0, 4)),
                                                       ("bottom", slice(None), slice(4, 8))])
def test_halves_put_the_test_region_on_the_asked_side(side, test_cols, test_rows):
    r = split_regions((8, 10), side=side)
    expected = np.full((8, 10), TRAIN)
    expected[test_rows, test_cols] = TEST
    np.testing.assert_array_equal(r, expected)


def test_the_validation_strip_lies_farthest_from_the_test_half():
    r = split_regions((4, 20), side="right", val_fraction=0.2)
    assert r[0].tolist() == [VAL, VAL] + [TRAIN] * 8 + [TEST] * 10
    r = split_regions((20, 4), side="top", val_fraction=0.2)
    assert r[:, 0].tolist() == [TEST] * 10 + [TRAIN] * 8 + [VAL, VAL]


def test_the_side_is_drawn_from_the_seed_reproducibly():
    sides = {tuple(split_regions((6, 6), seed=s).ravel()) for s in range(12)}
    assert len(sides) > 1  # not always the same half
    np.testing.assert_array_equal(split_regions((6, 6), seed=3), split_regions((6, 6), seed=3))


def test_blocks_are_a_checkerboard_with_seeded_validation_blocks():
    r = split_regions((40, 40), scheme="blocks", block_px=10, seed=1, val_fraction=0.25)
    blocks = r[::10, ::10]
    test = blocks == TEST
    assert test.sum() == 8 and (test[:, 1:] != test[:, :-1]).all()  # alternating colours
    assert (blocks == VAL).sum() == 2 and (blocks == TRAIN).sum() == 6
    # every block is uniform
    assert all(len(np.unique(r[i:i + 10, j:j + 10])) == 1 for i in range(0, 40, 10) for j in range(0, 40, 10))


@pytest.mark.parametrize("kwargs,match", [({"scheme": "stripes"}, "`scheme`"), ({"side": "middle"}, "`side`"),
                                          ({"val_fraction": 0.5}, "`val_fraction`"),
                                          ({"scheme": "blocks", "block_px": 100}, "`block_px`")])
def test_split_regions_refuses_bad_arguments(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        split_regions((50, 50), **kwargs)


def test_split_regions_refuses_a_bad_shape():
    with pytest.raises(ShapeMismatchError, match="`shape`"):
        split_regions((1, 50))


# ---- split_chip ----------------------------------------------------------------------------------------
def _chip_footprints():
    return [_box(1, 1, 4, 4),      # left: train
            _box(1, 7, 3, 11),     # cut by the line at col 10: 3 of 4 columns left -> train
            _box(5, 8, 7, 12),     # cut: 2 of 4 columns each side -> either, but whole
            _box(1, 13, 4, 17)]    # right: test


def test_a_cut_building_goes_whole_to_the_side_holding_most_of_it_and_is_masked_on_the_other():
    sp = split_chip(_chip_footprints(), (8, 20), GRID, CRS, side="right")
    a = sp.assignment.tolist()
    assert a[0] == TRAIN and a[1] == TRAIN and a[3] == TEST
    # building 1 has col 10 in the test half: that pixel counts for training, not for the test
    assert sp.mask("train")[1:3, 7:11].all() and not sp.mask("test")[1:3, 7:11].any()
    # building 2, whichever side it went to, is wholly in that split and wholly absent from the other
    own, other = ("train", "test") if a[2] == TRAIN else ("test", "train")
    assert sp.mask(own)[5:7, 8:12].all() and not sp.mask(other)[5:7, 8:12].any()
    # the masks never share a pixel, and without overlapping footprints they cover the chip
    assert not (sp.mask("train") & sp.mask("test")).any()
    assert (sp.mask("train") | sp.mask("test")).all()
    assert len(sp.footprints("test")) + len(sp.footprints("train")) == 4


def test_overlapping_footprints_of_two_splits_are_counted_nowhere():
    fp = [_box(0, 4, 4, 9), _box(0, 8, 4, 14)]  # overlap at col 8; one left, one right
    sp = split_chip(fp, (6, 20), GRID, CRS, side="right")
    assert sp.assignment.tolist() == [TRAIN, TEST]
    assert not sp.mask("train")[0:4, 8].any() and not sp.mask("test")[0:4, 8].any()


def test_counts_table_and_unknown_split_names():
    sp = split_chip(_chip_footprints(), (8, 20), GRID, CRS, side="right", val_fraction=0.2)
    table = sp.counts()
    assert table["buildings"].sum() == 4 and table["pixels"].sum() == 8 * 20
    with pytest.raises(InvalidParameterError, match="`split`"):
        sp.mask("holdout")


def test_select_gives_predictions_the_split_of_the_building_they_cover():
    sp = split_chip(_chip_footprints(), (8, 20), GRID, CRS, side="right")
    pred = [_box(1, 8, 3, 11),   # over the cut train building, mostly... in cols 8-10: still train (mask)
            _box(1, 13, 4, 16),  # test
            _box(6, 17, 8, 20)]  # no building under it: its region, test
    test = sp.select(pred, "test")
    assert [g.bounds for g in test.geometries] == [pred[1].bounds, pred[2].bounds]
    assert len(sp.select(pred, "train")) == 1


# ---- targets and weights -------------------------------------------------------------------------------
def test_labels_from_instances_match_rasterize_footprints():
    fp = _chip_footprints()
    sp = split_chip(fp, (8, 20), GRID, CRS, side="right")
    for border in (None, 1, 2):
        expected = rasterize_footprints(fp, (8, 20), GRID, CRS, border_px=border)
        np.testing.assert_array_equal(sp.labels(border), expected)
        np.testing.assert_array_equal(labels_from_instances(sp.instances, border), expected)
    with pytest.raises(InvalidParameterError, match="`border_px`"):
        labels_from_instances(sp.instances, 1.5)


def test_small_buildings_weigh_more_per_pixel_but_never_less_than_one():
    inst = np.zeros((20, 20), np.int32)
    inst[:10, :10] = 1          # 100 px
    inst[15:17, 15:17] = 2      # 4 px
    w = small_building_weights(inst, reference_px=100, max_weight=10)
    assert w[0, 0] == 1.0 and w[19, 0] == 1.0
    assert w[15, 15] == pytest.approx(5.0)  # (100 / 4) ** 0.5
    assert small_building_weights(inst, reference_px=100, max_weight=2)[15, 15] == 2.0
    with pytest.raises(InvalidParameterError, match="`instances`"):
        small_building_weights(inst.astype(float))


def test_crops_lie_wholly_in_the_region_and_batches_keep_image_and_target_aligned():
    region = split_regions((40, 60), side="right") == TRAIN
    origins = crop_origins(region, 16)
    assert len(origins) == (40 - 16 + 1) * (30 - 16 + 1)
    assert all(region[r:r + 16, c:c + 16].all() for r, c in origins[::37])
    rng = np.random.default_rng(0)
    image = rng.normal(size=(40, 60, 3)).astype(np.float32)
    target = np.stack([image[..., 0] > 0, image[..., 0] <= 0], axis=-1).astype(np.float32)
    weights = np.abs(image[..., 1])
    x, y, w = next(random_crops(image, target, weights, origins, 16, 8, seed=1))
    assert x.shape == (8, 16, 16, 3) and y.shape == (8, 16, 16, 2) and w.shape == (8, 16, 16)
    np.testing.assert_array_equal(y[..., 0], x[..., 0] > 0)       # flips/rotations move all three together
    np.testing.assert_allclose(w, np.abs(x[..., 1]))
    with pytest.raises(InvalidParameterError, match="crop"):
        next(random_crops(image, target, weights, crop_origins(region, 64), 64, 2))


# ---- footprints out ------------------------------------------------------------------------------------
def test_touching_houses_come_out_as_two_polygons_grown_back_over_their_border():
    fp = [_box(2, 2, 10, 8), _box(2, 8, 10, 14)]   # two touching 8 x 6 houses
    labels = rasterize_footprints(fp, (12, 16), GRID, CRS, border_px=1)
    found = prediction_footprints(labels, GRID, CRS, grow_px=1, min_area_m2=1, simplify_m=None)
    assert len(found) == 2
    assert spacenet_f1(fp, found).f1 == 1.0
    # without the border class the same pixels trace as one merged polygon
    merged = prediction_footprints(np.where(labels > 0, BUILDING, BACKGROUND).astype(np.uint8), GRID, CRS,
                                   min_area_m2=1)
    assert len(merged) == 1


def test_prediction_footprints_checks_its_arguments():
    with pytest.raises(InvalidParameterError, match="`grow_px`"):
        prediction_footprints(np.zeros((4, 4), np.uint8), GRID, CRS, grow_px=-1)
    with pytest.raises(ShapeMismatchError, match="`classes`"):
        prediction_footprints(np.zeros((4, 4, 1), np.uint8), GRID, CRS)


def test_building_classes_move_the_building_threshold_and_keep_nodata():
    from geonb.prediction import Prediction

    # background probability 0.8, 0.55, 0.3, 0.1 along a row; the last pixel is nodata
    p_bg = np.array([[0.8, 0.55, 0.3, 0.1]], np.float32)
    probs = np.stack([p_bg, (1 - p_bg) * 0.4, (1 - p_bg) * 0.6], axis=-1)
    classes = np.array([[BACKGROUND, BACKGROUND, BORDER, 255]], np.uint8)
    pred = Prediction(probs, classes, (BACKGROUND, BUILDING, BORDER), np.array([[False, False, False, True]]))
    assert building_classes(pred, 0.5)[0].tolist() == [BACKGROUND, BACKGROUND, BORDER, 255]
    assert building_classes(pred, 0.4)[0].tolist() == [BACKGROUND, BORDER, BORDER, 255]
    assert building_classes(pred, 0.75)[0].tolist() == [BACKGROUND, BACKGROUND, BACKGROUND, 255]
    with pytest.raises(InvalidParameterError, match="`threshold`"):
        building_classes(pred, 1.0)
    lakes = Prediction(probs, np.ones((1, 4), np.uint8), (1, 2, 3), np.zeros((1, 4), bool))
    with pytest.raises(InvalidParameterError, match="class codes"):
        building_classes(lakes)


# ---- scores --------------------------------------------------------------------------------------------
def test_the_truth_scores_perfectly_and_an_empty_prediction_scores_zero():
    fp = _chip_footprints()
    sp = split_chip(fp, (8, 20), GRID, CRS, side="right")
    perfect = score_footprints(sp, fp, classes=sp.labels(1))
    assert perfect["SpaceNet F1"] == 1.0 and perfect["pixel F1"] == 1.0 and perfect["median building IoU"] == 1.0
    assert perfect["buildings"] == len(sp.footprints("test"))
    none = score_footprints(sp, [])
    assert none["SpaceNet F1"] == 0.0 and none["tp"] == 0 and none["fn"] == perfect["buildings"]
    # train buildings predicted perfectly do not help the test score
    only_train = score_footprints(sp, [fp[i] for i in sp.indices("train")])
    assert only_train["SpaceNet F1"] == 0.0 and only_train["fp"] == 0


# ---- the recipe ----------------------------------------------------------------------------------------
def test_the_ablation_adds_one_step_at_a_time():
    steps = ablation_recipes(epochs=1)
    first, last = steps[0][1], steps[-1][1]
    assert (first.model, first.border_px, first.small_weight, first.augment, first.tta) == ("fcn", None, False,
                                                                                            None, None)
    assert (last.model, last.border_px, last.small_weight, last.augment, last.tta) == ("unet", 2, True, "d4", "d4")
    assert (first.loss, first.class_weight, last.loss, last.class_weight) == ("ce", "balanced", "ce+dice", "sqrt")
    fields = ("model", "border_px", "small_weight", "augment", "tta", "loss")
    changed = [sum(getattr(a, f) != getattr(b, f) for f in fields)
               for (_, a), (_, b) in zip(steps[:-1], steps[1:], strict=True)]
    assert changed == [1] * (len(steps) - 1)
    assert steps[-2][1].thresholds == Recipe().thresholds  # the recorded rows keep their grid
    with pytest.raises(InvalidParameterError, match="`model`"):
        Recipe(model="resnet")
    with pytest.raises(InvalidParameterError, match="`class_weight`"):
        Recipe(class_weight="inverse")
    with pytest.raises(InvalidParameterError, match="multiple of 16"):
        Recipe(crop=120)  # the default U-Net halves a crop 4 times
    assert Recipe(crop=120, model="fcn").crop == 120


def _tiny_chip():
    """A 64 x 64 scene of bright houses on noise, and its split (right half for test, a validation strip)."""
    rng = np.random.default_rng(0)
    fp = [_box(r, c, r + 6, c + 5) for r in range(3, 60, 12) for c in range(3, 60, 11)]
    labels = rasterize_footprints(fp, (64, 64), GRID, CRS)
    image = (rng.normal(0.3, 0.05, (64, 64, 3)) + 0.4 * (labels > 0)[..., None]).astype(np.float32)
    scene = Scene(image, crs=CRS, transform=GRID, name="tiny")
    return scene, split_chip(fp, (64, 64), GRID, CRS, side="right", val_fraction=0.2)


def test_run_recipe_trains_predicts_and_scores_a_tiny_chip():
    scene, sp = _tiny_chip()
    recipe = Recipe(crop=16, batch_size=4, steps=2, epochs=1, filters=(4, 8), min_areas_m2=(1.0, 50.0), tta="flip")
    res = run_recipe(scene, sp, recipe, seed=0)
    assert res.prediction.classes.shape == (64, 64)
    assert set(np.unique(res.prediction.classes)) <= {BACKGROUND, BUILDING, BORDER}
    assert res.min_area_m2 in (1.0, 50.0) and res.scores["threshold"] in recipe.thresholds
    assert res.scores["buildings"] == len(sp.footprints("test")) and 0 <= res.scores["pixel F1"] <= 1
    assert res.model.name == "buildings_unet" and len(res.history["loss"]) == 1


# ---- the real SpaceNet chip ----------------------------------------------------------------------------
def test_winners_on_the_held_out_half_of_the_real_chip(realdata):
    from geonb.datasets.spacenet import read_chip

    folder = realdata / "spacenet-atlanta-nadir10"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    chip = read_chip(folder)
    sp = split_chip(chip.truth, chip.scene.shape, chip.scene.transform, chip.scene.crs, side="right",
                    val_fraction=0.25)
    assert sum(len(sp.footprints(s)) for s in ("train", "val", "test")) == 186
    table = winners_table(chip, sp)
    assert len(table) == 2
    # the same numbers as spacenet_f1 on the selected polygons, and in the range the whole chip has
    for name, fp in chip.predictions.items():
        direct = spacenet_f1(sp.footprints("test"), sp.select(fp, "test")).f1
        assert table.loc[name, "SpaceNet F1"] == pytest.approx(direct)
        assert 0.65 < direct < 0.85
        assert 0.7 < table.loc[name, "pixel F1"] < 0.9
    assert isinstance(chip.truth, Footprints)


@pytest.mark.notebook
@pytest.mark.timeout(900)
def test_notebook_08b_runs_on_the_real_chip(realdata, tmp_path, monkeypatch):
    folder = realdata / "spacenet-atlanta-nadir10"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the real SpaceNet chip lives in ../shared/realdata)")
    _, text = run_notebook(NOTEBOOK_DIR / "08b_buildings_real_chip.ipynb", monkeypatch, tmp_path / "build",
                           parameters={"REAL_CHIP": str(folder)})
    assert "spacenet-atlanta-nadir10" in text and "winner_xdxd" in text


# ---- issue 18: overlap loss, colour jitter, ensembles ---------------------------------------------------
def test_new_recipe_fields_default_to_the_recorded_recipe_and_refuse_bad_values():
    r = Recipe()
    assert (r.loss, r.jitter, r.ensemble) == ("ce", 0.0, 1)
    with pytest.raises(InvalidParameterError, match="`loss`.*ce\\+dice"):
        Recipe(loss="dice")
    with pytest.raises(InvalidParameterError, match="`jitter`"):
        Recipe(jitter=1.5)
    with pytest.raises(InvalidParameterError, match="`ensemble`"):
        Recipe(ensemble=0)


def test_colour_jitter_scales_bands_and_draws_nothing_when_off():
    rng = np.random.default_rng(0)
    image = rng.uniform(1, 2, (20, 20, 3)).astype(np.float32)
    y = np.zeros((20, 20, 2), np.float32)
    w = np.ones((20, 20), np.float32)
    origins = crop_origins(w > 0, 8)
    plain = [next(random_crops(image, y, w, origins, 8, 4, seed=3)) for _ in range(1)][0]
    off = next(random_crops(image, y, w, origins, 8, 4, seed=3, jitter=0.0))
    np.testing.assert_array_equal(plain[0], off[0])  # same crops as before the knob existed
    on = next(random_crops(image, y, w, origins, 8, 4, seed=3, jitter=0.2))
    ratio = on[0] / plain[0]                        # same crops, each band scaled by one gain
    assert np.allclose(ratio, ratio[:, :1, :1, :], rtol=1e-5)
    assert (ratio > 0.7).all() and (ratio < 1.33).all() and not np.allclose(ratio, 1)
    with pytest.raises(InvalidParameterError, match="`jitter`"):
        next(random_crops(image, y, w, origins, 8, 4, jitter=-0.1))


def test_scale_and_rotation_resample_image_targets_and_weights_alike_around_the_window_centre():
    rows, cols = np.mgrid[0:120, 0:120].astype(np.float32)
    image = np.stack([rows, cols, rows + cols], axis=-1)     # linear ramps: bilinear resampling is exact
    targets = image[..., :2].copy()                          # resampled alike, they must stay equal
    weights = rows.copy()
    window = affine_window(32, 0.5, rotate=True)
    assert window == int(np.ceil(32 * np.sqrt(2) * 1.5)) + 2
    origins = crop_origins(np.ones((120, 120), bool), window)
    x, y, w = next(random_crops(image, targets, weights, origins, 32, 16, augment=None, seed=2, scale=0.5,
                                rotate=True))
    assert x.shape == (16, 32, 32, 3) and y.shape == (16, 32, 32, 2) and w.shape == (16, 32, 32)
    np.testing.assert_allclose(y, x[..., :2], atol=1e-3)
    np.testing.assert_allclose(w, x[..., 0], atol=1e-3)
    # every crop: a ramp whose step per pixel (the zoom) lies in [1/1.5, 1.5], in some direction
    zoom = np.hypot(np.diff(x[..., 0], axis=1).mean((1, 2)), np.diff(x[..., 0], axis=2).mean((1, 2)))
    assert (zoom > 1 / 1.5 - 1e-3).all() and (zoom < 1.5 + 1e-3).all() and zoom.std() > 0.05
    turned = np.abs(np.diff(x[..., 0], axis=2).mean((1, 2))) > 0.05   # rows ramp now runs along columns too
    assert turned.sum() >= 8
    # the centre of each crop is the centre of a window wholly inside the image
    centre = x[:, 15:17, 15:17, :2].mean((1, 2))
    assert ((centre >= (window - 1) / 2 - 1) & (centre <= 120 - (window + 1) / 2 + 1)).all()
    # scale only: no turn, the rows ramp stays along rows
    x, _, _ = next(random_crops(image, targets, weights, crop_origins(np.ones((120, 120), bool),
                                affine_window(32, 0.5)), 32, 8, augment=None, seed=2, scale=0.5))
    np.testing.assert_allclose(np.diff(x[..., 0], axis=2), 0, atol=1e-3)


def test_the_affine_window_holds_the_most_zoomed_out_crop_at_the_worst_angle():
    from geonb.buildings import _affine_crop

    for scale, rotate, angle in ((0.25, True, np.pi / 4), (0.5, True, 3 * np.pi / 4), (0.25, False, 0.0)):
        window = affine_window(64, scale, rotate)
        rows, cols = np.mgrid[0:window, 0:window].astype(np.float64)
        # an image exactly one window big, values 1..: a sample from outside it would read 0 (cval)
        (r, c) = _affine_crop((rows + 1, cols + 1), (0, 0), window, 64, 1 + scale, angle)
        assert r.min() >= 1 and c.min() >= 1 and r.max() <= window and c.max() <= window


def test_scale_rotation_and_dropout_refuse_bad_values_and_origins_of_crop_sized_windows():
    image = np.zeros((64, 64, 3), np.float32)
    targets, weights = np.zeros((64, 64, 2), np.float32), np.ones((64, 64), np.float32)
    small = crop_origins(np.ones((64, 64), bool), 16)
    with pytest.raises(InvalidParameterError, match="affine_window"):
        next(random_crops(image, targets, weights, small, 16, 2, scale=0.25))
    for kwargs, match in (({"scale": -0.1}, "`scale`"), ({"scale": 2.0}, "`scale`"), ({"rotate": 1}, "`rotate`")):
        with pytest.raises(InvalidParameterError, match=match):
            next(random_crops(image, targets, weights, small, 16, 2, **kwargs))
        with pytest.raises(InvalidParameterError, match=match):
            Recipe(**kwargs)
    for kwargs in ({"dropout": 1.0}, {"dropout": -0.1}, {"model": "fcn", "dropout": 0.1}):
        with pytest.raises(InvalidParameterError, match="`dropout`"):
            Recipe(**kwargs)
    with pytest.raises(InvalidParameterError, match="scale"):   # no window that large fits
        next(random_crops(image, targets, weights, crop_origins(np.ones((64, 64), bool), 100), 60, 2, scale=0.5))


def test_run_recipe_with_overlap_loss_jitter_and_an_ensemble_of_two(capsys):
    scene, sp = _tiny_chip()
    recipe = Recipe(crop=16, batch_size=4, steps=2, epochs=2, filters=(4, 8), tta=None, loss="ce+dice",
                    jitter=0.1, scale=0.25, ensemble=2)
    res = run_recipe(scene, sp, recipe, seed=0)
    assert res.model.name == "ensemble" and len(res.history["loss"]) == 2 and "loss (member 1)" in res.history
    assert res.scores["train cpu s"] > 0 and 0 <= res.scores["pixel F1"] <= 1
    # the training shows progress: one bar over both members' batches, moved epoch by epoch
    err = capsys.readouterr().err
    assert "training 2 unets" in err and "8/8" in err
    run_recipe(scene, sp, replace(recipe, ensemble=1, epochs=1), seed=0, progress=False)
    assert "training" not in capsys.readouterr().err


@pytest.mark.slow
def test_ensemble_members_trained_in_parallel_processes_match_members_trained_here(capsys):
    scene, sp = _tiny_chip()
    recipe = Recipe(crop=16, batch_size=4, steps=2, epochs=2, filters=(4, 8), tta=None, ensemble=2)
    here = run_recipe(scene, sp, recipe, seed=3, progress=False)
    there = run_recipe(scene, sp, recipe, seed=3, workers=2)
    assert there.model.name == "ensemble" and "loss (member 1)" in there.history
    # the worker processes' epochs reach this process's progress bar (2 members x 2 epochs x 2 batches)
    err = capsys.readouterr().err
    assert "training 2 unets" in err and "8/8" in err
    assert there.scores["train cpu s"] > 0
    # each member came back from its process with its own seed's weights and crops (not swapped, not lost)
    np.testing.assert_allclose(here.history["loss (member 1)"], there.history["loss (member 1)"], rtol=1e-3)
    np.testing.assert_allclose(here.prediction.probabilities, there.prediction.probabilities, atol=1e-3)
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(InvalidParameterError, match="`workers`"):
            run_recipe(scene, sp, recipe, workers=bad)
    # a member failing in its process is reported here, with its seed (the first to fail) and the reason
    with pytest.raises(ModelError, match=r"seed (3|1003) failed .*InvalidParameterError.*crop"):
        run_recipe(scene, sp, replace(recipe, crop=48), seed=3, workers=2)


def test_a_bfloat16_recipe_computes_in_bfloat16_keeps_float32_probabilities_and_the_global_policy():
    from geonb.runtime import import_keras

    keras = import_keras()
    with pytest.raises(InvalidParameterError, match="`precision`.*'float16'"):
        Recipe(precision="float16")
    assert Recipe().precision == "float32"  # the recorded rows
    scene, sp = _tiny_chip()
    before = keras.config.dtype_policy().name
    res = run_recipe(scene, sp, Recipe(crop=16, batch_size=4, steps=2, epochs=1, filters=(4, 8), tta=None,
                                       precision="mixed_bfloat16"), seed=0)
    assert keras.config.dtype_policy().name == before  # nothing else built later turns bfloat16
    convs = [layer for layer in res.model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs and all(layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32" for layer in convs)
    assert res.model.get_layer("normalize").compute_dtype == "float32"  # raw values are not rounded to bfloat16
    assert res.prediction.probabilities.dtype == np.float32
    np.testing.assert_allclose(res.prediction.probabilities.sum(-1), 1, atol=1e-5)
