"""Tests of geonb.workflow: your own raster + training polygons → split by polygon → train → score."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geonb.classes import ClassScheme
from geonb.errors import CRSError, InvalidParameterError
from geonb.scene import read_scene
from geonb.workflow import (
    add_indices,
    compare_on_scene,
    label_scene,
    scheme_from_polygons,
    score_on_scene,
    summarize_comparison,
    train_on_scene,
)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    from geonb.datasets.synthetic import write_polygon_example

    image, polygons = write_polygon_example(tmp_path_factory.mktemp("example"), size=96, seed=2)
    return read_scene(image), polygons


def test_label_scene_splits_by_polygon_with_one_scheme(example):
    scene, polygons = example
    lab = label_scene(scene, polygons, seed=0)
    assert lab.scheme.names == ("water", "land") and lab.scheme.codes == (1, 2)
    # no polygon in two splits, no pixel labelled in two splits
    ids = {split: {p.wkb for p in fp.geometries} for split, fp in lab.polygons.items()}
    assert not (ids["train"] & ids["test"]) and not (ids["train"] & ids["val"]) and not (ids["val"] & ids["test"])
    stacked = np.stack([lab.labels[s] > 0 for s in ("train", "val", "test")])
    assert stacked.sum(axis=0).max() == 1
    # every class in every split (12 polygons per class: 60/20/20 → 7/3/2)
    counts = lab.counts()
    assert (counts["polygons"] > 0).all().all()
    n = sum(len(fp) for fp in lab.polygons.values())
    assert n == len(json.loads(open(polygons).read())["features"])
    # the same seed gives the same split, another seed another one
    again = label_scene(scene, polygons, seed=0)
    assert all((again.labels[s] == lab.labels[s]).all() for s in lab.labels)
    other = label_scene(scene, polygons, seed=5)
    assert any((other.labels[s] != lab.labels[s]).any() for s in lab.labels)


def test_label_scene_refuses_what_it_cannot_place(example, tmp_path):
    scene, polygons = example
    gj = json.loads(open(polygons).read())
    for f in gj["features"]:  # move everything 60 degrees east: no overlap
        f["geometry"]["coordinates"] = [[[x + 60, y] for x, y in ring] for ring in f["geometry"]["coordinates"]]
    with pytest.raises(CRSError, match="overlap|outside"):
        label_scene(scene, gj)
    with pytest.raises(InvalidParameterError, match="not in `scheme`"):
        label_scene(scene, polygons, scheme=ClassScheme.from_names(["water"]))
    with pytest.raises(InvalidParameterError, match="field"):
        label_scene(scene, polygons, field="kind")


def test_scheme_puts_water_first():
    from shapely.geometry import box

    from geonb.labels import Footprints

    fp = Footprints([box(i, 0, i + 1, 1) for i in range(3)], [{"class": n} for n in ("forest", "water", "cleared")])
    assert scheme_from_polygons(fp).names == ("water", "cleared", "forest")


def test_add_indices_appends_named_bands(example):
    scene, _ = example
    s = add_indices(scene, ("ndwi", "mndwi"))
    assert s.band_names[-2:] == ("ndwi", "mndwi") and s.n_bands == scene.n_bands + 2
    assert np.isfinite(s.image).all()
    with pytest.raises(InvalidParameterError, match="known indices"):
        add_indices(scene, ("ndvi2",))


def test_train_and_score_on_held_out_polygons(example):
    scene, polygons = example
    lab = label_scene(scene, polygons, seed=0)
    lr = train_on_scene(lab, model="logistic_regression")
    sc = score_on_scene(lr, lab, "test")
    assert sc.per_class.loc["water", "f1"] > 0.9  # synthetic water is spectrally clear
    assert sc.confusion.n_pixels == int((lab.labels["test"] > 0).sum())  # every test pixel scored
    fcn = train_on_scene(lab, model="fcn", patch_size=8, epochs=2, early_stopping=None)
    assert fcn.n_patches["train"] > 0 and fcn.epochs_run == 2
    from geonb.models import class_codes, model_info

    assert class_codes(fcn.model) == (1, 2)
    assert model_info(fcn.model)["scheme"]["names"] == ["water", "land"]
    with pytest.raises(InvalidParameterError, match="model"):
        train_on_scene(lab, model="random_forest")


def test_compare_on_scene_is_tidy(example):
    scene, polygons = example
    table = compare_on_scene(scene, polygons, models=("logistic_regression",), seeds=(0, 1), progress=False)
    assert set(table["model"]) == {"logistic_regression"} and set(table["seed"]) == {0, 1}
    assert set(table["class"]) == {"water", "land"}
    summary = summarize_comparison(table)
    assert "±" in summary.loc["water", "logistic_regression"]


def test_real_landsat5_polygons_split_and_counted(realdata):
    """Real polygons nobody here made: every labelled pixel of the split equals rasterizing them all."""
    from geonb.labels import rasterize_labels

    folder = realdata / "landsat5-tucurui"
    scene = read_scene(folder / "LT05_224063_19880814_B1-7.tif")
    lab = label_scene(scene, folder / "training_polygons.geojson", seed=0)
    assert lab.scheme.names[0] == "water" and set(lab.scheme.names) == {"water", "cleared", "fallen_dry", "forest"}
    whole = rasterize_labels(folder / "training_polygons.geojson", scene.shape, scene.transform, scene.crs,
                             label_map=lab.scheme.label_map, classes=lab.scheme.codes, overlap="last")
    whole[scene.nodata_mask] = 0
    merged = np.maximum.reduce([lab.labels[s] for s in ("train", "val", "test")])
    assert (merged == whole).all()
    assert sum(len(fp) for fp in lab.polygons.values()) == 36


def _square_fc(scene, squares):
    """GeoJSON (scene CRS) of pixel squares (row, col, size, class)."""
    t = scene.transform
    feats = []
    for r, c, n, cls in squares:
        x0, y0 = t * (c, r)
        x1, y1 = t * (c + n, r + n)
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        feats.append({"type": "Feature", "properties": {"class": cls},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": scene.crs.to_wkt()}},
            "features": feats}


def test_nested_polygons_never_put_a_pixel_in_training_and_testing(example):
    scene, _ = example
    # same-class polygons nested inside each other: whichever splits they fall in, their pixels overlap
    squares = [(10, 10, 20, "land"), (14, 14, 6, "land"), (12, 12, 10, "land"), (16, 16, 3, "land"),
               (50, 50, 8, "water"), (60, 60, 8, "water"), (70, 70, 8, "water"), (52, 52, 4, "water")]
    for seed in range(4):
        with pytest.warns(UserWarning):
            lab = label_scene(scene, _square_fc(scene, squares), seed=seed)
        for a, b in (("train", "test"), ("train", "val"), ("val", "test")):
            assert not ((lab.labels[a] > 0) & (lab.labels[b] > 0)).any()


def test_overlapping_classes_integer_fields_and_a_single_class(example):
    from geonb.errors import ClassCodeError

    scene, _ = example
    clash = [(10, 10, 10, "land"), (12, 12, 4, "water"), (40, 40, 5, "water")]
    with pytest.raises(ClassCodeError, match="different classes"):
        label_scene(scene, _square_fc(scene, clash))
    numbers = [(10 + 12 * i, 10, 5, 5 if i % 2 else 9) for i in range(6)]
    lab = label_scene(scene, _square_fc(scene, numbers))  # a class field of integers: names "5" and "9"
    assert set(lab.scheme.names) == {"5", "9"}
    with pytest.raises(InvalidParameterError, match="at least 2"):
        label_scene(scene, _square_fc(scene, [(10, 10, 5, "water"), (30, 30, 5, "water")]))


def test_d4_batches_move_image_labels_and_weights_together():
    import keras

    from geonb.training import _augmented_batches

    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4, 4, 1)).astype(np.float32)
    y = np.concatenate([x, -x], axis=-1)  # targets computed from the image pixel by pixel
    w = x[..., 0] * 10
    batches = _augmented_batches(keras, x, y, w, 3, seed=0)
    changed = 0
    for _ in range(3):
        for i in range(len(batches)):
            xb, yb, wb = batches[i]
            assert np.allclose(yb[..., 0], xb[..., 0]) and np.allclose(wb, xb[..., 0] * 10)
            changed += not any(np.allclose(xb[0], xi) for xi in x)
        batches.on_epoch_end()
    assert changed > 0
