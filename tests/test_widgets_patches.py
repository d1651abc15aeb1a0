"""Tests for the patch-size explorer (geonb.widgets.PatchExplorer), driven from Python."""

from __future__ import annotations

import numpy as np
import pytest

from geonb.errors import InvalidParameterError
from geonb.labels import LAND, WATER
from geonb.patches import count_patches, grid_windows
from geonb.scene import Scene

pytest.importorskip("ipywidgets")


def make_scene(rows, cols, seed=0, name="lake"):
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[:rows, :cols]
    lab = np.where((r - rows / 2) ** 2 + (c - cols / 3) ** 2 < (rows / 4) ** 2, WATER, LAND).astype(np.uint8)
    img = rng.random((rows, cols, 7), dtype=np.float32) * 0.3
    img[lab == WATER] *= 0.2
    return Scene(img, lab, name=name, properties={"id": name})


@pytest.fixture
def app():
    from geonb.widgets import PatchExplorer

    scenes = [make_scene(60, 50, 0, "big"), make_scene(30, 20, 1, "small"), make_scene(12, 28, 2, "tiny")]
    return PatchExplorer(scenes=scenes, size=16, dpi=50)


def test_starts_on_the_largest_lake_with_counts(app):
    assert app.lake_dropdown.value == "big"
    assert app.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    lake, split = app.counts["lake"], app.counts["split"]
    assert lake.n_windows == len(grid_windows((60, 50), 16)) == 9
    assert split.n_scenes == 3 and split.n_too_small == 1  # "tiny" is 12 px high
    assert "patches kept" in app.counts_html.value


def test_slider_changes_windows_counts_and_picture(app):
    before_png = app.image.value
    before_windows = app.windows.windows.copy()
    app.size_slider.value = 32
    assert app.size == 32 and app.stride == 32
    assert app.windows.windows.tolist() == grid_windows((60, 50), 32).windows.tolist()
    assert len(app._overlay.kept.get_segments()) + len(app._overlay.pruned.get_segments()) == 1
    assert app.counts["lake"].n_windows == 1 and len(before_windows) == 9
    assert app.counts["lake"].pixels_dropped == 60 * 50 - 32 * 32
    assert app.image.value != before_png
    assert "32&times;32" in app.counts_html.value


def test_overlap_edge_and_prune_controls(app):
    app.overlap_buttons.value = 0.5
    assert app.stride == 8 and app.counts["lake"].n_windows == len(grid_windows((60, 50), 16, 8))
    app.edge_buttons.value = "shift"
    assert app.counts["lake"].pixels_dropped == 0
    app.prune_checkbox.value = True
    kept_pruned = app.counts["lake"].n_kept
    app.prune_checkbox.value = False
    assert app.counts["lake"].n_kept == app.counts["lake"].n_windows >= kept_pruned
    expected = count_patches([s.labels for s in app._scene_cache.values()], 16, 8, "shift", False)
    assert app.counts["split"].as_dict() == expected.as_dict()


def test_lake_dropdown_switches_scene(app):
    app.lake_dropdown.value = "small"
    assert app.scene().name == "small"
    assert app.counts["lake"].pixels_total == 30 * 20
    assert app.windows.grid.shape == (30, 20)


def test_pruned_windows_drawn_apart_from_kept(app):
    app.prune_checkbox.value = True
    app.size_slider.value = 8
    kept = len(app._overlay.kept.get_segments())
    pruned = len(app._overlay.pruned.get_segments())
    assert kept == app.counts["lake"].n_kept and pruned == app.counts["lake"].n_pruned
    assert kept > 0 and pruned > 0
    assert app._overlay.veil.get_array()[..., 3].max() > 0  # dropped edge pixels veiled


def test_bad_arguments():
    from geonb.widgets import PatchExplorer

    with pytest.raises(InvalidParameterError, match="either `dataset`"):
        PatchExplorer()
    with pytest.raises(InvalidParameterError, match="between 4 and 64"):
        PatchExplorer(scenes=[make_scene(20, 20)], size=100)
    with pytest.raises(InvalidParameterError, match="not among the lakes"):
        PatchExplorer(scenes=[make_scene(20, 20)], lake="nope")


def test_dpi_sets_the_size_of_the_rendered_figure():
    import io

    from PIL import Image

    from geonb.widgets import PatchExplorer

    sizes = {}
    for dpi in (40, 80):
        app = PatchExplorer(scenes=[make_scene(30, 20, 1, "small")], size=8, dpi=dpi)
        assert app.figure.dpi == dpi
        sizes[dpi] = Image.open(io.BytesIO(app.image.value)).size
    assert sizes[40] == (460, 216) and sizes[80] == (920, 432)  # an 11.5 x 5.4 inch figure
