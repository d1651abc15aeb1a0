"""Plots for any class scheme (notebook 09): class maps, polygons by property, histograms, scores per class."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from affine import Affine  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from shapely.geometry import box  # noqa: E402

from geonb import plots  # noqa: E402
from geonb.classes import ClassScheme  # noqa: E402
from geonb.errors import ClassCodeError, GeonbError  # noqa: E402
from geonb.labels import Footprints  # noqa: E402

SCHEME = ClassScheme.from_names(["water", "forest", "cleared"])


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_classes_draws_each_code_in_its_scheme_colour_with_a_legend():
    classes = np.array([[1, 1, 2], [3, 0, 2]], np.uint8)
    ax = plots.plot_classes(classes, SCHEME, title="mine")
    img = ax.get_images()[0]
    rgba = img.to_rgba(img.get_array(), norm=True)
    for (r, c), code in np.ndenumerate(classes):
        want = "#ffffff" if code == 0 else SCHEME.color(code)
        assert to_hex(rgba[r, c]) == want
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["water", "forest", "cleared"]
    colours = [to_hex(h.get_facecolor()) for h in ax.get_legend().legend_handles]
    assert colours == list(SCHEME.colors)
    assert ax.get_title() == "mine" and ax.get_xlabel() and ax.get_ylabel()


def test_plot_classes_takes_non_contiguous_codes_and_a_prediction_like_object():
    scheme = ClassScheme((5, 40), ("water", "forest"), ("#1f5fbf", "#1b7837"))

    class Pred:  # anything with .classes, like geonb.prediction.Prediction
        classes = np.array([[5, 40], [0, 40]], np.uint8)

    ax = plots.plot_classes(Pred(), scheme)
    img = ax.get_images()[0]
    rgba = img.to_rgba(img.get_array(), norm=True)
    assert to_hex(rgba[0, 0]) == "#1f5fbf" and to_hex(rgba[0, 1]) == "#1b7837" and to_hex(rgba[1, 0]) == "#ffffff"


def test_plot_classes_refuses_codes_the_scheme_does_not_name_and_a_non_scheme():
    with pytest.raises(ClassCodeError, match="7"):
        plots.plot_classes(np.array([[1, 7]], np.uint8), SCHEME)
    with pytest.raises(GeonbError, match="ClassScheme"):
        plots.plot_classes(np.ones((2, 2), np.uint8), {"water": 1})


def test_plot_polygons_colours_by_property_and_counts_in_the_legend():
    transform = Affine(10, 0, 0, 0, -10, 100)  # 10 x 10 px of 10 m
    polys = Footprints([box(0, 50, 30, 100), box(50, 0, 100, 40), box(60, 60, 90, 90)],
                       [{"class": "water", "split": "train"}, {"class": "forest", "split": "test"},
                        {"class": "forest", "split": "train"}], crs="EPSG:32633")
    rgb = np.zeros((10, 10, 3), np.float32)
    ax = plots.plot_polygons(rgb, polys, transform, "EPSG:32633", by="class",
                             colors=dict(zip(SCHEME.names, SCHEME.colors, strict=True)))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["water (1)", "forest (2)"]
    water = ax.collections[0]
    assert to_hex(water.get_edgecolor()[0]) == SCHEME.color(1)
    # the water box spans columns 0..3 and rows 0..5 (pixel corners), drawn half a pixel up-left
    verts = water.get_paths()[0].vertices
    assert verts[:, 0].min() == pytest.approx(-0.5) and verts[:, 0].max() == pytest.approx(2.5)
    assert verts[:, 1].min() == pytest.approx(-0.5) and verts[:, 1].max() == pytest.approx(4.5)
    # several Footprints at once, by split, in the split colours
    ax = plots.plot_polygons(None, [polys, polys], transform, "EPSG:32633", by="split")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train (4)", "test (2)"]
    assert to_hex(ax.collections[0].get_edgecolor()[0]) == plots.SPLIT_COLORS["train"]
    with pytest.raises(GeonbError, match="Footprints"):
        plots.plot_polygons(rgb, [box(0, 0, 1, 1)], transform, "EPSG:32633")


def test_plot_class_histograms_one_panel_per_band_in_scheme_colours():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"nir": rng.random(300), "ndwi": rng.uniform(-1, 1, 300),
                          "label": np.repeat([1, 2, 3], 100)})
    axes = plots.plot_class_histograms(table, SCHEME, xlabel="DN")
    assert [a.get_title() for a in axes] == ["nir", "ndwi"]
    assert axes[0].get_xlabel() == "DN" and axes[1].get_xlabel() == "index value"
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert labels == ["water (100 px)", "forest (100 px)", "cleared (100 px)"]
    faces = [to_hex(p.get_facecolor()) for p in axes[0].patches[:1]]
    assert faces == [SCHEME.color(1)]
    with pytest.raises(GeonbError, match="swir1"):
        plots.plot_class_histograms(table, SCHEME, bands=["swir1"])


def test_plot_scores_by_class_bars_are_means_over_seeds():
    table = pd.DataFrame({"model": ["fcn", "fcn", "lr", "lr"] * 2, "seed": [0, 1] * 4,
                          "class": ["water"] * 4 + ["forest"] * 4,
                          "f1": [1.0, 0.8, 0.6, 0.6, 0.5, 0.7, 0.9, 0.9]})
    ax = plots.plot_scores_by_class(table)
    heights = [b.get_height() for b in ax.patches]
    assert heights == pytest.approx([0.9, 0.6, 0.6, 0.9])  # fcn water, fcn forest, lr water, lr forest
    assert [t.get_text() for t in ax.get_xticklabels()] == ["water", "forest"]
    assert ax.get_ylabel() == "F1" and ax.get_title()
    with pytest.raises(GeonbError, match="iou"):
        plots.plot_scores_by_class(table, metric="iou")


# ---- titles and shared helpers (issues 16 and 17) -----------------------------------------------------
def test_plots_of_a_stand_in_scene_say_it_is_synthetic(sinusoidal_scene):
    from dataclasses import replace

    synthetic = replace(sinusoidal_scene, properties={**sinusoidal_scene.properties, "source": "synthetic"})
    axes = plots.plot_prediction(synthetic, synthetic.labels)
    assert axes[0].get_title() == "synthetic scene near Test lake: image"
    axes = plots.plot_side_by_side(synthetic, synthetic.labels, probability=False)
    assert axes[0].get_title().startswith("synthetic scene near Test lake")
    assert plots.plot_scene_overview(synthetic)[0].get_title().startswith("synthetic scene near Test lake")
    assert plots.plot_prediction(sinusoidal_scene, sinusoidal_scene.labels)[0].get_title() == "Test lake: image"


def test_first_band_grey_when_a_scene_lacks_the_composite_bands(sinusoidal_scene):
    from dataclasses import replace

    odd = replace(sinusoidal_scene, band_names=tuple(f"b{i}" for i in range(sinusoidal_scene.n_bands)))
    grey = plots.first_band_grey(odd.image)
    assert grey.shape == (*odd.shape, 3) and np.allclose(grey[..., 0], grey[..., 2])
    assert grey.min() == 0 and grey.max() == 1
    axes = plots.plot_prediction(odd, odd.labels)
    assert np.allclose(axes[0].get_images()[0].get_array(), grey)


def test_house_colours_have_one_owner():
    from geonb import colors
    from geonb.classes import LAKES

    assert plots.LAKE_COLORS is colors.LAKE_COLORS and plots.ERROR_COLORS is colors.ERROR_COLORS
    assert [colors.LAKE_COLORS[c] for c in LAKES.codes] == list(LAKES.colors)
    with pytest.raises(GeonbError, match="`alpha` must be in"):
        colors.check_fraction(1.5, "alpha")


def test_plot_history_marks_the_best_epoch_of_scores_but_not_of_the_learning_rate():
    hist = {"loss": [1.0, 0.4, 0.6], "learning_rate": [2e-3, 1e-3, 1e-4]}
    axes = plots.plot_history(hist, metrics=("loss", "learning_rate"))
    labels = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in axes]
    assert "best epoch (2)" in labels[0]
    assert not any(t.startswith("best epoch") for t in labels[1])
    plt.close("all")
