"""Tests for geonb.windows: window grids, the counting engine, class counts per window, pruning, the dual problem."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_patches import make_scene

from geonb.errors import ClassCodeError, InvalidParameterError, ShapeMismatchError
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER
from geonb.windows import (
    MIN_TILE_PX,
    TILE_MULTIPLE_PX,
    axis_offsets,
    axis_windows,
    batch_windows,
    count_patches,
    count_windows,
    grid_windows,
    patch_tradeoff,
    scene_windows,
    single_class_windows,
    tile_side,
    window_class_counts,
)


# ---- the counting engine: one table, checked against brute force -----------------------------
def _brute_axis(n: int, size: int, stride: int, edge: str) -> tuple[int, int]:
    """Windows and covered pixels along one axis, by walking the windows pixel by pixel."""
    starts = list(range(0, max(n - size, -1) + 1, stride))
    if edge == "shift" and starts and starts[-1] + size < n:
        starts.append(n - size)
    if edge == "pad":
        starts = list(range(0, n, stride))
        while len(starts) > 1 and starts[-2] + size >= n:
            starts.pop()
    covered = set()
    for s in starts:
        covered.update(range(s, min(s + size, n)))
    return len(starts), len(covered)


@pytest.mark.parametrize(("n", "size", "stride", "edge", "count", "covered"), [
    # the lakes study: drop the edge
    (38, 16, 16, "drop", 2, 32),
    (12, 16, 16, "drop", 0, 0),
    (16, 16, 16, "drop", 1, 16),
    (38, 16, 8, "drop", 3, 32),
    (10, 2, 4, "drop", 3, 6),  # stride > size: gaps are not covered
    # one last window flush with the far edge
    (38, 16, 16, "shift", 3, 38),
    (12, 16, 16, "shift", 0, 0),
    (11, 2, 4, "shift", 4, 7),
    # pad to reach the far edge
    (38, 16, 16, "pad", 3, 38),
    (12, 16, 16, "pad", 1, 12),
    (5, 4, 2, "pad", 2, 5),
    (10, 2, 4, "pad", 3, 6),
    (512, 128, 64, "drop", 7, 512),  # the buildings study: 512 tiles, 128 crops, 50% overlap
])
def test_axis_windows_table(n, size, stride, edge, count, covered):
    k, cov = axis_windows(n, size, stride, edge)
    assert (int(k), int(cov)) == (count, covered) == _brute_axis(n, size, stride, edge)
    assert len(axis_offsets(n, size, stride, edge)) == count


@given(n=st.integers(1, 90), size=st.integers(2, 30), stride=st.integers(1, 35),
       edge=st.sampled_from(["drop", "pad", "shift"]))
def test_axis_windows_is_brute_force_and_vectorises(n, size, stride, edge):
    k, cov = axis_windows(np.array([n, n + 1, 1]), size, stride, edge)
    assert [(int(a), int(b)) for a, b in zip(k, cov, strict=True)] == [
        _brute_axis(m, size, stride, edge) for m in (n, n + 1, 1)]


def test_batch_windows_are_the_grids_windows():
    shapes = [(38, 36), (12, 28), (20, 40)]
    b = batch_windows(shapes, 16, 8, "shift")
    for k, shape in enumerate(shapes):
        g = grid_windows(shape, 16, 8, "shift")
        mine = b.scene == k
        assert b.row_off[mine].tolist() == g.windows[:, 0].tolist()
        assert b.col_off[mine].tolist() == g.windows[:, 1].tolist()
        assert b.n_windows[k] == len(g) and b.covered[k] == g.covered_pixels


def test_tile_side_rounds_up_to_the_tile_multiple():
    assert tile_side(1) == MIN_TILE_PX
    assert tile_side(17) == 3 * TILE_MULTIPLE_PX
    assert tile_side(132) == 136


def test_window_transforms_are_rasterio_window_transforms():
    from affine import Affine

    t = Affine(463.3, 0, 510000.0, 0, -463.3, 5150000.0)
    g = grid_windows((20, 40), 16)
    assert g.transforms(t) == [t * Affine.translation(0, 0), t * Affine.translation(16, 0)]


# ---- window grids -----------------------------------------------------------------------------
def test_grid_windows_drop_is_the_study_setting():
    g = grid_windows((38, 36), 16)
    assert len(g) == 4 == count_windows((38, 36), 16)
    assert g.windows.tolist() == [[0, 0, 16, 16], [0, 16, 16, 16], [16, 0, 16, 16], [16, 16, 16, 16]]
    assert g.dropped_pixels == 38 * 36 - 32 * 32
    assert g.padded_pixels == 0


def test_grid_windows_pad_and_shift_cover_everything():
    pad = grid_windows((38, 36), 16, edge="pad")
    assert pad.row_offsets.tolist() == [0, 16, 32] and pad.col_offsets.tolist() == [0, 16, 32]
    assert pad.padded_shape == (48, 48) and pad.dropped_pixels == 0
    shift = grid_windows((38, 36), 16, edge="shift")
    assert shift.row_offsets.tolist() == [0, 16, 22] and shift.col_offsets.tolist() == [0, 16, 20]
    assert shift.dropped_pixels == 0 and shift.padded_shape == (38, 36)
    assert (shift.coverage() >= 1).all()


def test_grid_windows_overlap_50_percent():
    g = grid_windows((512, 512), 128, stride=64)  # the buildings study: 512 tiles -> 128 crops, 50% overlap
    assert len(g) == 49
    assert g.coverage().max() == 4


def test_too_small_grid_gives_no_window_unless_padded():
    assert len(grid_windows((12, 28), 16)) == 0
    assert grid_windows((12, 28), 16).dropped_pixels == 12 * 28
    assert len(grid_windows((12, 28), 16, edge="shift")) == 0
    assert len(grid_windows((12, 28), 16, edge="pad")) == 2


@given(rows=st.integers(1, 80), cols=st.integers(1, 80), size=st.integers(2, 40), stride=st.integers(1, 40),
       edge=st.sampled_from(["drop", "pad", "shift"]))
def test_count_windows_matches_grid(rows, cols, size, stride, edge):
    g = grid_windows((rows, cols), size, stride, edge)
    assert count_windows((rows, cols), size, stride, edge) == len(g) == len(g.windows)
    assert g.dropped_pixels == int((g.coverage() == 0).sum())
    if len(g):
        assert (g.windows[:, 0] + size <= g.padded_shape[0]).all()


@pytest.mark.parametrize("size", [0, 1, -4])
def test_size_below_2_is_an_error(size):
    with pytest.raises(InvalidParameterError, match="`size` must be >= 2"):
        grid_windows((10, 10), size)


@pytest.mark.parametrize("size", [16.0, "16", None, True])
def test_size_not_an_integer_is_an_error(size):
    with pytest.raises(InvalidParameterError, match="`size` must be an integer"):
        grid_windows((10, 10), size)


def test_unknown_edge_policy_is_an_error():
    with pytest.raises(InvalidParameterError, match="`edge` must be one of"):
        grid_windows((10, 10), 4, edge="wrap")


def test_windows_to_rasterio():
    g = grid_windows((20, 40), 16)
    w = g.to_rasterio()
    assert len(w) == 2 and (w[1].row_off, w[1].col_off, w[1].height, w[1].width) == (0, 16, 16, 16)


# ---- class counts, pruning, the dual problem ----------------------------------------------------
def test_window_class_counts_match_direct_counts():
    rng = np.random.default_rng(1)
    lab = rng.integers(0, 4, size=(23, 31)).astype(np.uint8)
    g = grid_windows(lab.shape, 6, stride=5, edge="pad")
    counts = window_class_counts(lab, g, (WATER, LAND, UNCLASSIFIED))
    padded = np.pad(lab, ((0, g.padded_shape[0] - 23), (0, g.padded_shape[1] - 31)))
    for (r, c, h, w), row in zip(g.windows, counts, strict=True):
        patch = padded[r:r + h, c:c + w]
        assert row.tolist() == [int((patch == k).sum()) for k in (WATER, LAND, UNCLASSIFIED)]


def test_scene_windows_status_and_counts():
    lab = np.full((40, 40), LAND, np.uint8)
    lab[:10, :10] = WATER
    sw = scene_windows(lab, 16, prune_single_class=True)
    assert sw.keep.tolist() == [True, False, False, False]
    assert sw.pruned_as.tolist() == [-1, LAND, LAND, LAND]
    s = sw.summary
    assert (s.n_windows, s.n_kept, s.pixels_used, s.pixels_dropped) == (4, 1, 256, 40 * 40 - 32 * 32)
    assert s.pixels_pruned == 3 * 256 and s.pixels_lost == 1600 - 256


def test_patch_tradeoff_bigger_patches_lose_more_pixels():
    labels = [make_scene(r, c, seed=r).labels for r, c in [(132, 132), (40, 60), (20, 30), (70, 35)]]
    df = patch_tradeoff(labels, [8, 16, 32, 64])
    assert list(df.index) == [8, 16, 32, 64]
    assert df["patches"].is_monotonic_decreasing
    assert df["pixels_lost"].is_monotonic_increasing
    overlap = patch_tradeoff(labels, [16], stride_fraction=0.5)
    assert overlap.loc[16, "patches"] > df.loc[16, "patches"]


@settings(max_examples=40, deadline=None)
@given(shapes=st.lists(st.tuples(st.integers(1, 40), st.integers(1, 40)), min_size=1, max_size=4),
       size=st.integers(2, 12), stride=st.integers(1, 14), edge=st.sampled_from(["drop", "pad", "shift"]),
       prune=st.booleans(), seed=st.integers(0, 1000))
def test_count_patches_equals_per_scene_counts(shapes, size, stride, edge, prune, seed):
    rng = np.random.default_rng(seed)
    labels = [rng.choice(np.array([NODATA, WATER, LAND, LAND, LAND], np.uint8), size=s) for s in shapes]
    total = count_patches(labels, size, stride, edge, prune)
    per = [scene_windows(lab, size, stride, edge, prune).summary for lab in labels]
    summed = per[0]
    for p in per[1:]:
        summed = summed + p
    assert total.as_dict() == summed.as_dict()
    assert total.pruned == summed.pruned and total.class_pixels == summed.class_pixels
    for lab, p in zip(labels, per, strict=True):
        g = grid_windows(lab.shape, size, stride, edge)
        assert p.pixels_dropped == g.dropped_pixels == int((g.coverage() == 0).sum())


@pytest.mark.parametrize("counter", ["count_patches", "scene_windows", "window_class_counts", "patch_tradeoff"])
def test_counting_refuses_codes_outside_classes(counter):
    lab = np.full((16, 16), LAND, np.uint8)
    lab[:4] = 7
    calls = {
        "count_patches": lambda la, **kw: count_patches([la], 8, **kw),
        "scene_windows": lambda la, **kw: scene_windows(la, 8, **kw),
        "window_class_counts": lambda la, **kw: window_class_counts(la, grid_windows(la.shape, 8), **kw),
        "patch_tradeoff": lambda la, **kw: patch_tradeoff([la], [8], **kw),
    }
    with pytest.raises(ClassCodeError, match=r"\[7\].*`classes`=\[1, 2, 3\]"):
        calls[counter](lab)
    lab[:4] = UNCLASSIFIED  # a known code, but not one of the classes asked for
    with pytest.raises(ClassCodeError, match=r"\[3\].*`classes=`"):
        calls[counter](lab, classes=(WATER, LAND))
    with pytest.raises(ClassCodeError, match="non-integer"):
        calls[counter](np.full((16, 16), np.nan))
    with pytest.raises(ClassCodeError, match=r"\[-1\]"):
        calls[counter](np.full((16, 16), -1))
    with pytest.raises(ClassCodeError, match="boolean"):
        calls[counter](lab == LAND)


def test_count_patches_counts_what_it_is_given():
    lab = np.full((16, 16), LAND, np.uint8)
    lab[:8, :8] = WATER
    counts = count_patches([lab], 8)
    assert counts.n_windows == 4 and counts.class_pixels == {WATER: 64, LAND: 192, UNCLASSIFIED: 0}
    with pytest.raises(ShapeMismatchError, match=r"one label raster.*\[labels\]"):
        count_patches(lab, 8)  # iterating it would count its rows
    with pytest.raises(InvalidParameterError, match="`sizes` is empty"):
        patch_tradeoff([lab], [])
    with pytest.raises(ShapeMismatchError, match="`counts` must have shape"):
        single_class_windows(np.ones((4, 2)), classes=(1, 2, 3))
    with pytest.raises(ShapeMismatchError, match="list of label rasters"):
        count_patches([lab[0]], 8)
    with pytest.raises(InvalidParameterError, match=r"\[scene.labels\]"):
        count_patches(make_scene(16, 16), 8)


def test_grid_shapes_are_whole_pixels_and_empty_grids_say_so():
    with pytest.raises(ShapeMismatchError, match="whole numbers"):
        grid_windows((10.5, 10), 4)
    assert len(grid_windows((10.0, 10), 4)) == 4
    g = grid_windows((12, 28), 16)  # smaller than a patch: empty, and every pixel is reported dropped
    assert len(g) == 0 and g.dropped_pixels == 12 * 28
    assert count_patches([np.full((12, 28), LAND, np.uint8)], 16).n_too_small == 1


def test_densest_window_matches_a_brute_force_search():
    from geonb.windows import densest_window, grid_windows

    rng = np.random.default_rng(4)
    labels = (rng.random((70, 90)) < 0.1).astype(np.uint8) * 2
    labels[40:60, 10:35] = 2  # one dense block
    r, c, h, w = densest_window(labels, 24, 2, stride=6)
    grid = grid_windows(labels.shape, 24, 6, edge="shift")
    best = max((int((labels[a:a + 24, b:b + 24] == 2).sum()), -i) for i, (a, b, _, _) in enumerate(grid.windows))
    a, b = grid.windows[-best[1]][:2]
    assert (r, c, h, w) == (a, b, 24, 24)
    assert int((labels[r:r + h, c:c + w] == 2).sum()) == best[0]
    with pytest.raises(InvalidParameterError, match="does not occur"):
        densest_window(labels, 24, 1)
