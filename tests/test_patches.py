"""Tests for geonb.patches: windows, extraction, pruning, splitting by lake, stitching."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geonb.errors import BandMismatchError, CatalogError, ClassCodeError, InvalidParameterError, ShapeMismatchError
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER
from geonb.patches import (
    count_patches,
    extract_patches,
    grid_windows,
    patch_dataset,
    stitch_patches,
)
from geonb.scene import Scene, read_scene, write_scene


def make_scene(rows: int, cols: int, seed: int = 0, name: str = "lake", bands: int = 7,
               water_frac: float = 0.3) -> Scene:
    """A scene with a random image and a round lake in the middle (water) on land."""
    rng = np.random.default_rng(seed)
    image = rng.random((rows, cols, bands), dtype=np.float32)
    r, c = np.mgrid[:rows, :cols]
    radius = np.sqrt(water_frac * rows * cols / np.pi)
    labels = np.where((r - rows / 2) ** 2 + (c - cols / 2) ** 2 < radius**2, WATER, LAND).astype(np.uint8)
    return Scene(image, labels, name=name, properties={"id": name})


class FakeDataset:
    """The parts of LakeDataset that patch_dataset uses."""

    def __init__(self, splits: dict[str, list[Scene]]):
        self._splits = splits
        self.name = "fake"

    def split_ids(self, split):
        return [s.properties["id"] for s in self._splits[split]]

    def scenes(self, split=None):
        if split is None:
            return iter([s for v in self._splits.values() for s in v])
        return iter(self._splits[split])


# ---- windows --------------------------------------------------------------------------------
@pytest.mark.parametrize("stride", [0, -1])
def test_stride_zero_or_negative_is_an_error(stride):
    with pytest.raises(InvalidParameterError, match="`stride` must be >= 1"):
        grid_windows((10, 10), 4, stride=stride)
    with pytest.raises(InvalidParameterError, match="stride"):
        extract_patches(make_scene(10, 10), 4, stride=stride)


# ---- extraction -----------------------------------------------------------------------------
def test_patches_are_exactly_size_and_match_the_scene():
    scene = make_scene(38, 36)
    ps = extract_patches(scene, 16)
    assert ps.images.shape == (4, 16, 16, 7) and ps.images.dtype == np.float32
    assert ps.labels.shape == (4, 16, 16) and ps.labels.dtype == np.uint8
    assert ps.targets.shape == (4, 16, 16, 3)
    for img, lab, (r, c, h, w) in zip(ps.images, ps.labels, ps.windows, strict=True):
        np.testing.assert_array_equal(img, scene.image[r:r + h, c:c + w])
        np.testing.assert_array_equal(lab, scene.labels[r:r + h, c:c + w])
    assert set(ps.lake_ids) == {"lake"}
    assert ps.dropped_pixels == 38 * 36 - 32 * 32
    assert ps.scene_shapes == {"lake": (38, 36)}


def test_patches_from_geotiffs(tmp_path):
    scene = make_scene(40, 33, seed=3)
    scene.crs = "EPSG:32633"
    scene.transform = Affine(500.0, 0, 300000.0, 0, -500.0, 5000000.0)
    write_scene(scene, tmp_path / "img.tif", tmp_path / "lab.tif")
    back = read_scene(tmp_path / "img.tif", tmp_path / "lab.tif")
    ps = extract_patches([back], 8, stride=4, edge="shift")
    assert len(ps) == 9 * 8
    out = stitch_patches(ps.images, ps.windows, back.shape)
    np.testing.assert_allclose(out, back.image, atol=1e-6)


def test_pad_fills_with_nodata():
    scene = make_scene(10, 12)
    ps = extract_patches(scene, 8, edge="pad")
    assert len(ps) == 4
    last = ps.windows.tolist().index([8, 8, 8, 8])
    assert ps.labels[last][2:, :].max() == NODATA and ps.nodata[last][2:, :].all()
    assert ps.images[last][2:, 4:].max() == 0
    assert not ps.nodata[last][:2, :4].any()
    assert ps.targets[last][2:].sum() == 0  # padding carries no target


def test_band_selection_by_name():
    ps = extract_patches(make_scene(16, 16), 8, bands=("red", "green", "blue"))
    assert ps.images.shape[-1] == 3 and ps.band_names == ("red", "green", "blue")
    full = extract_patches(make_scene(16, 16), 8)
    np.testing.assert_array_equal(full.select_bands(("red", "green", "blue")).images, ps.images)
    with pytest.raises(BandMismatchError, match="swir9"):
        extract_patches(make_scene(16, 16), 8, bands=("red", "swir9"))
    with pytest.raises(BandMismatchError, match="nope"):
        full.select_bands(("nope",))


def test_pruning_counts_per_class():
    lab = np.full((32, 32), LAND, np.uint8)
    lab[:16, :16] = WATER
    lab[:8, 16:] = WATER  # top-right window mixed
    lab[16:, :16] = NODATA  # bottom-left: no label at all
    scene = Scene(np.zeros((32, 32, 7), np.float32), lab, name="x", properties={"id": "x"})
    ps = extract_patches(scene, 16, prune_single_class=True)
    # windows: TL all water -> pruned WATER; TR mixed -> kept; BL no label -> pruned NODATA; BR land -> pruned LAND
    assert len(ps) == 1 and ps.windows.tolist() == [[0, 16, 16, 16]]
    assert ps.pruned == {NODATA: 1, WATER: 1, LAND: 1}
    kept_all = extract_patches(scene, 16)
    assert len(kept_all) == 4 and kept_all.pruned == {}


def test_pruning_matches_count_patches():
    scenes = [make_scene(40 + i, 50 - i, seed=i, name=f"l{i}") for i in range(5)]
    ps = extract_patches(scenes, 8, prune_single_class=True)
    c = count_patches([s.labels for s in scenes], 8, prune_single_class=True)
    assert c.n_kept == len(ps) and c.pruned == ps.pruned and c.n_pruned == ps.n_pruned
    bal = ps.class_balance()
    assert bal.loc["water", "pixels"] == c.class_pixels[WATER]
    assert bal.loc["land", "pixels"] == c.class_pixels[LAND]
    assert c.pixels_used + c.pixels_pruned + c.pixels_dropped == c.pixels_total


def test_scenes_too_small_are_reported_not_lost():
    scenes = [make_scene(40, 40, name="big"), make_scene(12, 28, name="small")]
    with pytest.warns(UserWarning, match="1 of 2 scenes are smaller than 16x16"):
        ps = extract_patches(scenes, 16)
    assert ps.too_small == ["small"] and "small" in ps.scene_shapes
    assert ps.dropped_pixels == 40 * 40 - 32 * 32 + 12 * 28
    padded = extract_patches(scenes, 16, edge="pad")
    assert padded.too_small == [] and "small" in set(padded.lake_ids)


def test_size_larger_than_every_scene_is_an_error():
    with pytest.raises(InvalidParameterError, match="larger than every scene"):
        extract_patches([make_scene(12, 28), make_scene(20, 20, name="b")], 32)


def test_labels_all_nodata_is_an_error():
    scene = Scene(np.zeros((16, 16, 7), np.float32), np.zeros((16, 16), np.uint8), name="empty")
    with pytest.raises(ClassCodeError, match="all NODATA"):
        extract_patches(scene, 8)


def test_classes_outside_uint8_codes_is_an_error():
    # a user's own class scheme may number its classes 1..255 (geonb.classes), but not beyond uint8
    with pytest.raises(ClassCodeError, match=r"\[300\]"):
        extract_patches(make_scene(16, 16), 8, classes=(WATER, LAND, 300))
    assert extract_patches(make_scene(16, 16), 8, classes=(WATER, LAND, 7)).classes == (WATER, LAND, 7)


def test_labels_with_codes_outside_classes_is_an_error():
    scene = make_scene(16, 16)
    scene.labels[0, 0] = UNCLASSIFIED
    with pytest.raises(ClassCodeError, match="class codes \\[3\\]"):
        extract_patches(scene, 8, classes=(WATER, LAND))


def test_empty_scene_list_is_an_error():
    with pytest.raises(InvalidParameterError, match="empty"):
        extract_patches([], 8)


def test_duplicate_scene_ids_are_an_error():
    with pytest.raises(CatalogError, match="share the id"):
        extract_patches([make_scene(16, 16, name="a"), make_scene(16, 16, name="a")], 8)


def test_subset_and_for_scene():
    ps = extract_patches([make_scene(16, 16, name="a"), make_scene(16, 24, name="b", seed=1)], 8)
    assert len(ps) == 4 + 6
    b = ps.for_scene("b")
    assert len(b) == 6 and set(b.lake_ids) == {"b"} and set(b.scene_shapes) == {"b"}
    assert len(ps.subset(np.arange(3))) == 3
    with pytest.raises(ShapeMismatchError):
        ps.subset(np.ones(3, bool))


def test_prediction_scenes_without_labels():
    scene = make_scene(20, 20)
    scene.labels = None
    ps = extract_patches(scene, 8, edge="shift")
    assert ps.labels is None and len(ps) == 9
    with pytest.raises(InvalidParameterError, match="no labels"):
        _ = ps.targets


# ---- splitting by lake ------------------------------------------------------------------------
def test_patch_dataset_keeps_each_lake_in_one_split():
    splits = {s: [make_scene(24, 24, seed=i + 10 * k, name=f"{s}{i}") for i in range(3)]
              for k, s in enumerate(("train", "val", "test"))}
    sets = patch_dataset(FakeDataset(splits), 8, stride=4)
    ids = {s: set(ps.lake_ids) for s, ps in sets.items()}
    assert ids["train"] == {"train0", "train1", "train2"}
    assert not (ids["train"] & ids["val"]) and not (ids["train"] & ids["test"]) and not (ids["val"] & ids["test"])
    assert all(len(ps) == 3 * 25 for ps in sets.values())


def test_patch_dataset_refuses_a_lake_in_two_splits():
    a = make_scene(16, 16, name="a")
    with pytest.raises(CatalogError, match="'a' is in splits"):
        patch_dataset(FakeDataset({"train": [a], "val": [a]}), 8, splits=("train", "val"))


# ---- stitching --------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(2, 40), cols=st.integers(2, 40), size=st.integers(2, 16),
       stride_frac=st.floats(0.1, 1.0),
       edge=st.sampled_from(["drop", "pad", "shift"]), seed=st.integers(0, 2**16))
def test_stitch_of_extract_is_the_scene(rows, cols, size, stride_frac, edge, seed):
    if edge != "pad":
        size = min(size, rows, cols)  # drop/shift need the scene to hold one window
    stride = max(1, int(size * stride_frac))  # stride <= size: pad/shift then cover every pixel
    scene = make_scene(rows, cols, seed=seed, bands=3)
    ps = extract_patches(scene, size, stride=stride, edge=edge)
    img = ps.stitch(ps.images, "lake")
    lab = ps.stitch(ps.labels, "lake")
    covered = ~np.isnan(lab)
    np.testing.assert_allclose(img[covered], scene.image[covered], rtol=1e-6)
    np.testing.assert_array_equal(lab[covered], scene.labels[covered])
    assert int((~covered).sum()) == ps.dropped_pixels
    if edge in ("pad", "shift"):
        assert covered.all()


def test_stitch_averages_overlaps_and_marks_uncovered():
    g = grid_windows((6, 6), 4, stride=2)  # offsets 0, 2: covers all 6
    values = np.arange(len(g), dtype=float)[:, None, None] * np.ones((len(g), 4, 4))
    out = stitch_patches(values, g.windows, (6, 6))
    assert out[0, 0] == 0 and out[5, 5] == 3 and out[2, 2] == pytest.approx(1.5)
    g2 = grid_windows((7, 7), 4)
    out2 = stitch_patches(np.ones((len(g2), 4, 4, 2)), g2.windows, (7, 7))
    assert out2.shape == (7, 7, 2) and np.isnan(out2[6, 0, 0]) and out2[3, 3, 1] == 1


def test_stitch_bad_shapes():
    with pytest.raises(ShapeMismatchError, match="windows"):
        stitch_patches(np.ones((2, 4, 4)), np.zeros((3, 4), int), (8, 8))
    with pytest.raises(ShapeMismatchError, match="values"):
        stitch_patches(np.ones((2, 4)), np.zeros((2, 4), int), (8, 8))


# ---- counting and the dual problem ------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(shapes=st.lists(st.tuples(st.integers(2, 30), st.integers(2, 30)), min_size=1, max_size=4),
       size=st.integers(2, 10), stride=st.integers(1, 12), edge=st.sampled_from(["drop", "pad", "shift"]),
       seed=st.integers(0, 1000))
def test_batched_extraction_matches_per_scene_windows(shapes, size, stride, edge, seed):
    scenes = [make_scene(r, c, seed=seed + i, name=f"s{i}", bands=2) for i, (r, c) in enumerate(shapes)]
    if edge != "pad" and max(min(s) for s in shapes) < size:
        with pytest.raises(InvalidParameterError):
            extract_patches(scenes, size, stride, edge)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ps = extract_patches(scenes, size, stride, edge)
    for sc in scenes:
        g = grid_windows(sc.shape, size, stride, edge)
        mine = ps.lake_ids == sc.name
        np.testing.assert_array_equal(ps.windows[mine], g.windows)
        pr, pc = g.padded_shape
        img = np.pad(sc.image, ((0, pr - sc.shape[0]), (0, pc - sc.shape[1]), (0, 0)))
        for patch, (r, c, h, w) in zip(ps.images[mine], g.windows, strict=True):
            np.testing.assert_array_equal(patch, img[r:r + h, c:c + w])


# ---- "Trustworthy on data we did not make" -------------------------------------------------
def test_plain_image_array_is_patched_as_an_unlabelled_scene():
    img = np.random.default_rng(0).random((20, 18, 7), dtype=np.float32)
    ps = extract_patches(img, 8)
    assert ps.labels is None and ps.images.shape == (4, 8, 8, 7)
    np.testing.assert_array_equal(ps.images[3], img[8:16, 8:16])  # window (8, 8)
    assert extract_patches([img, img], 8).scene_shapes == {"array_0": (20, 18), "array_1": (20, 18)}
    with pytest.raises(ShapeMismatchError, match=r"np.moveaxis"):
        extract_patches(np.moveaxis(img, -1, 0), 8)  # rasterio's (bands, rows, cols)
    with pytest.raises(ShapeMismatchError, match=r"\(rows, cols, bands\)"):
        extract_patches(img[..., 0], 8)  # a 2-D array (a label raster?) is not an image
    with pytest.raises(InvalidParameterError, match="item 0 is a str"):
        extract_patches(["lake.tif"], 8)


def test_nan_image_values_never_reach_patches():
    scene = make_scene(16, 16)
    scene.image[2, 3, 0] = np.nan  # changed after the Scene was made, outside its nodata mask
    with pytest.raises(InvalidParameterError, match="NaN/inf.*outside its `nodata_mask`"):
        extract_patches(scene, 8)
    scene.nodata_mask[2, 3] = True
    scene.image[5, 5] = -2.8672  # a fill value under the mask
    scene.nodata_mask[5, 5] = True
    ps = extract_patches(scene, 8)
    assert np.isfinite(ps.images).all()
    assert (ps.images[0, 2, 3] == 0).all() and (ps.images[0, 5, 5] == 0).all()
    assert ps.nodata[0, 2, 3] and ps.nodata[0, 5, 5]
    # NaN given to a Scene is nodata from the start
    img = np.ones((16, 16, 2), np.float32)
    img[0, 0, 1] = np.inf
    ps = extract_patches(Scene(img, np.full((16, 16), LAND, np.uint8)), 8)
    assert ps.nodata[0, 0, 0] and np.isfinite(ps.images).all()


def test_stitch_refuses_windows_of_another_grid_and_nan_values():
    g = grid_windows((24, 24), 8)
    with pytest.raises(ShapeMismatchError, match=r"rows 0..24.*`shape`=\(10, 10\)"):
        stitch_patches(np.ones((len(g), 8, 8)), g.windows, (10, 10))
    w = g.windows.copy()
    w[0, 0] = -8
    with pytest.raises(ShapeMismatchError, match="another grid"):
        stitch_patches(np.ones((len(g), 8, 8)), w, (24, 24))
    values = np.ones((len(g), 8, 8))
    values[0, 0, 0] = np.nan
    with pytest.raises(InvalidParameterError, match="NaN"):
        stitch_patches(values, g.windows, (24, 24))
    with pytest.raises(ShapeMismatchError, match="channels first"):
        stitch_patches(np.ones((len(g), 3, 8, 8)), g.windows, (24, 24))
    with pytest.raises(ShapeMismatchError, match="edge='pad'"):  # past the grid, but no padding was declared
        stitch_patches(np.zeros((1, 8, 8)), np.array([[12, 12, 8, 8]]), (16, 16))
    pad = grid_windows((20, 20), 8, edge="pad")  # padding past the grid is fine when declared
    assert not np.isnan(stitch_patches(np.ones((len(pad), 8, 8)), pad.windows, (20, 20), edge="pad")).any()
    with pytest.raises(ShapeMismatchError):
        stitch_patches(np.ones((len(pad), 8, 8)), pad.windows, (20, 20))


def test_band_subsets_by_a_single_name():
    scene = make_scene(16, 16)
    ps = extract_patches(scene, 8, bands="nir")
    assert ps.band_names == ("nir",)
    np.testing.assert_array_equal(ps.images[0, ..., 0], scene.image[:8, :8, 1])
    full = extract_patches(scene, 8)
    assert full.select_bands("nir").band_names == ("nir",)  # not ('n', 'i', 'r')
    with pytest.raises(BandMismatchError, match="twice"):
        extract_patches(scene, 8, bands=("red", "red"))


def test_min_labelled_keeps_every_window_holding_a_labelled_pixel():
    scene = make_scene(32, 32)
    sparse = np.zeros((32, 32), np.uint8)
    sparse[2, 3] = WATER  # one labelled pixel in the first window, one in the last
    sparse[30, 29] = LAND
    from dataclasses import replace

    ps = extract_patches(replace(scene, labels=sparse), 8, min_labelled=1)
    assert len(ps) == 2 and ps.pruned == {0: 14}
    assert (ps.labels > 0).sum(axis=(1, 2)).tolist() == [1, 1]
    with pytest.raises(InvalidParameterError, match="min_labelled"):
        extract_patches(scene, 8, min_labelled=-1)
