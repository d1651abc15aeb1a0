"""The prediction viewer (geonb.widgets.PredictionViewer) driven from Python, and its plot functions."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from geonb import plots  # noqa: E402
from geonb.errors import InvalidParameterError, ShapeMismatchError  # noqa: E402
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER  # noqa: E402
from geonb.widgets import NO_MODELS_MESSAGE, PredictionViewer  # noqa: E402


def _prediction(labels, p_water_on_water=0.8, p_water_on_land=0.3, rng=None):
    """A prediction whose water probability is graded, so the threshold changes the answer."""
    rng = rng or np.random.default_rng(0)
    p = np.where(labels == WATER, p_water_on_water, p_water_on_land) + rng.uniform(-0.15, 0.15, labels.shape)
    p = np.clip(p, 0, 1).astype(np.float32)
    probs = np.stack([p, 1 - p, np.zeros_like(p)], axis=-1)
    classes = np.where(p >= 0.5, WATER, LAND).astype(np.uint8)
    return SimpleNamespace(classes=classes, probabilities=probs, class_codes=(WATER, LAND, UNCLASSIFIED))


@pytest.fixture
def two_lakes(sinusoidal_scene):
    other = replace(sinusoidal_scene, name="Second lake", labels=sinusoidal_scene.labels[::-1, ::-1].copy(),
                    properties={"id": "second", "split": "test"})
    scenes = {"first": sinusoidal_scene, "second": other}
    preds = {
        "good model": {k: _prediction(s.labels, 0.85, 0.2) for k, s in scenes.items()},
        "weak model": {k: _prediction(s.labels, 0.55, 0.45, np.random.default_rng(1)) for k, s in scenes.items()},
    }
    return scenes, preds


def test_viewer_shows_panels_and_scores(two_lakes):
    scenes, preds = two_lakes
    v = PredictionViewer(scenes, preds)
    assert v.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "F1 (water)" in v.scores_html.value and "TP water" in v.scores_html.value
    assert v.axes[1].get_title() == "label"
    assert v.current_scores.f1 > 0.8
    assert v.model_dropdown.options == ("good model", "weak model")


def test_switching_lake_and_model_changes_panels_and_scores(two_lakes):
    scenes, preds = two_lakes
    v = PredictionViewer(scenes, preds)
    png0, text0 = v.image.value, v.scores_html.value
    v.lake_dropdown.value = "second"
    assert v.image.value != png0 and v.scores_html.value != text0 and "Second lake" in v.scores_html.value
    f1_good = v.current_scores.f1
    v.model_dropdown.value = "weak model"
    assert v.current_scores.f1 < f1_good
    assert "weak model" in v.scores_html.value


def test_threshold_updates_prediction_and_scores_live(two_lakes):
    scenes, preds = two_lakes
    v = PredictionViewer(scenes, preds, model="weak model")
    before = (v.current_scores.confusion.tp, v.current_scores.confusion.fp)
    png = v.image.value
    v.threshold_slider.value = 0.2  # nearly everything becomes water
    after = (v.current_scores.confusion.tp, v.current_scores.confusion.fp)
    assert after[1] > before[1] and after[0] >= before[0]
    assert v.image.value != png
    assert "threshold 0.20" in v.scores_html.value


def test_search_prev_next_patch_composite_opacity(two_lakes):
    scenes, preds = two_lakes
    v = PredictionViewer(scenes, preds, patch_size=8)
    v.search_text.value = "second"
    assert [val for _, val in v.lake_dropdown.options] == ["second"] and v.lake_dropdown.value == "second"
    v.search_text.value = "no such lake"  # nothing matches: the list is kept, not emptied
    assert v.lake_dropdown.value == "second"
    v.search_text.value = ""
    v.next_button.click()
    assert v.lake_dropdown.value == "first"
    v.prev_button.click()
    assert v.lake_dropdown.value == "second"
    assert v.patch_slider.max == 9  # 20 x 24 scene, 8 px windows (the last shifted back inside): 3 x 3
    png = v.image.value
    v.patch_slider.value = 1
    assert v.image.value != png and v.axes[0].get_xlim() == (-0.5, 11.5)  # the window and 4 px around it
    for _, choice in v.composite_dropdown.options:  # every composite renders, PCA included
        v.composite_dropdown.value = choice
    v.opacity_slider.value = 0.2
    assert v._art["pred"].get_alpha() == pytest.approx(0.2)


def test_no_trained_models_gives_a_clear_message(two_lakes):
    scenes, _ = two_lakes
    with pytest.warns(UserWarning, match="05_evaluate"):
        v = PredictionViewer(scenes, {})
    assert "05_evaluate" in v.widget.value and v.message == NO_MODELS_MESSAGE
    with pytest.warns(UserWarning):
        PredictionViewer(scenes, {"fcn": {}})  # a model without predictions counts as none


def test_bad_inputs(two_lakes):
    scenes, preds = two_lakes
    wrong_grid = {"m": {"first": SimpleNamespace(classes=np.ones((5, 5), np.uint8))}}
    with pytest.raises(ShapeMismatchError, match="another scene or grid"):
        PredictionViewer(scenes, wrong_grid)
    with pytest.raises(InvalidParameterError, match="empty test split"):
        PredictionViewer({}, preds)
    with pytest.raises(InvalidParameterError, match="model"):
        PredictionViewer(scenes, preds, model="unet")
    with pytest.raises(InvalidParameterError, match="lake"):
        PredictionViewer(scenes, preds, lake="atlantis")
    with pytest.raises(InvalidParameterError, match="predictions"):
        PredictionViewer(scenes, ["not", "a", "dict"])
    with pytest.raises(InvalidParameterError, match="threshold"):
        PredictionViewer(scenes, preds, threshold=1.5)


def test_scene_without_crs_still_works_in_the_viewer(two_lakes):
    scenes, preds = two_lakes
    scenes = {k: replace(s, crs=None) for k, s in scenes.items()}
    v = PredictionViewer(scenes, preds)
    assert v.current_scores is not None


def test_prediction_without_probabilities(two_lakes):
    scenes, preds = two_lakes
    plain = {"argmax only": {k: SimpleNamespace(classes=p.classes) for k, p in preds["good model"].items()}}
    v = PredictionViewer(scenes, plain)
    assert "threshold" not in v.scores_html.value
    v.threshold_slider.value = 0.3  # harmless
    assert v.current_scores.f1 > 0.8


def test_switching_back_and_forth_shows_what_a_fresh_viewer_shows(two_lakes):
    """Cached switching (arrays swapped, blitted) scores each lake and model as a new viewer would.
    How fast it is: benchmarks/bench_viewer.py."""
    scenes, preds = two_lakes
    v = PredictionViewer(scenes, preds)
    fresh = {}
    for lake, model in [("second", "good model"), ("first", "weak model"), ("second", "weak model"),
                        ("first", "good model")] * 2:
        v.lake_dropdown.value = lake
        v.model_dropdown.value = model
        if (lake, model) not in fresh:
            fresh[lake, model] = PredictionViewer(scenes, preds, lake=lake, model=model).scores_html.value
        assert v.image.value[:8] == b"\x89PNG\r\n\x1a\n"
        assert v.scores_html.value == fresh[lake, model]


def test_lake_missing_from_the_chosen_model_says_so(two_lakes):
    scenes, preds = two_lakes
    partial = {"good model": {"first": preds["good model"]["first"]}, "weak model": preds["weak model"]}
    v = PredictionViewer(scenes, partial)
    assert [val for _, val in v.lake_dropdown.options] == ["first", "second"]  # lakes of every model
    v.lake_dropdown.value = "second"  # only the weak model predicted it
    text = v.scores_html.value
    assert "No prediction from <b>good model</b> for Second lake (second)" in text
    assert "No labels" not in text and v.current_scores is None
    assert v.axes[2].get_title() == "good model: no prediction"
    v.model_dropdown.value = "weak model"
    assert "F1 (water)" in v.scores_html.value and v.current_scores is not None
    v = PredictionViewer(scenes, partial, model="weak model", lake="second")
    assert "F1 (water)" in v.scores_html.value


def test_threshold_arrays_are_cached_per_lake_model_threshold(two_lakes, monkeypatch):
    scenes, preds = two_lakes
    calls = []
    from geonb import evaluation  # the viewer calls the scoring room (plots re-exports the same functions)

    for fn in ("classes_at_threshold", "water_score", "error_codes"):
        real = getattr(evaluation, fn)
        monkeypatch.setattr(evaluation, fn, lambda *a, _real=real, _fn=fn, **k: calls.append(_fn) or _real(*a, **k))
    v = PredictionViewer(scenes, preds, patch_size=8)
    assert set(calls) == {"classes_at_threshold", "error_codes", "water_score"}
    assert calls.count("classes_at_threshold") == calls.count("error_codes") == 1
    calls.clear()
    png = v.image.value
    v.opacity_slider.value = 0.3
    v.patch_slider.value = 2
    v.composite_dropdown.value = v.composite_dropdown.options[1][1]
    assert calls == [] and v.image.value != png  # redrawn, not recomputed
    v.threshold_slider.value = 0.3
    assert calls.count("classes_at_threshold") == calls.count("error_codes") == 1
    calls.clear()
    v.threshold_slider.value = 0.5
    v.model_dropdown.value = "weak model"
    v.model_dropdown.value = "good model"
    assert calls.count("classes_at_threshold") == 1  # only the weak model at 0.5 was new


# ---- plot functions used by the viewer -----------------------------------------------------------
def test_classes_at_threshold_and_error_codes():
    labels = np.array([[WATER, WATER, LAND, UNCLASSIFIED, NODATA]], np.uint8)
    p_water = np.array([[0.7, 0.45, 0.45, 0.9, 0.0]], np.float32)
    # A third output (unclassified) takes some probability on the second pixel: there water (0.45) beats
    # land (0.40) in the argmax, and the water score 0.45 / 0.85 = 0.53 keeps that answer at 0.5.
    p_uncl = np.array([[0.0, 0.15, 0.0, 0.0, 0.0]], np.float32)
    probs = np.stack([p_water, 1 - p_water - p_uncl, p_uncl], axis=-1)
    pred = SimpleNamespace(classes=np.array([[1, 1, 2, 1, 0]], np.uint8), probabilities=probs,
                           class_codes=(WATER, LAND, UNCLASSIFIED))
    at_half = plots.classes_at_threshold(pred, 0.5)
    assert at_half.tolist() == [[WATER, WATER, LAND, WATER, NODATA]]
    assert np.allclose(plots.water_score(pred), [[0.7, 0.45 / 0.85, 0.45, 0.9, 0.0]])
    assert plots.classes_at_threshold(pred, 0.4).tolist() == [[WATER, WATER, WATER, WATER, NODATA]]
    assert plots.classes_at_threshold(pred, 0.6).tolist() == [[WATER, LAND, LAND, WATER, NODATA]]
    assert plots.classes_at_threshold(pred, None) is pred.classes
    at_high = plots.classes_at_threshold(pred, 0.6)
    assert plots.error_codes(labels, at_high).tolist() == [[0, plots.FALSE_NEGATIVE, 0, 0, 0]]
    with pytest.raises(InvalidParameterError, match="threshold"):
        plots.classes_at_threshold(pred, -0.1)
    with pytest.raises(ShapeMismatchError):
        plots.error_codes(labels, at_half[:, :2])


def test_plot_side_by_side(sinusoidal_scene):
    import matplotlib.pyplot as plt

    pred = _prediction(sinusoidal_scene.labels)
    axes = plots.plot_side_by_side(sinusoidal_scene, pred, threshold=0.5)
    assert len(axes) == 5
    assert [ax.get_title().split("\n")[-1] for ax in axes[1:4]] == ["label", "prediction (P ≥ 0.50)", "errors"]
    assert all(ax.get_xlabel() for ax in axes)
    assert axes[3].get_legend() is not None and axes[1].get_legend() is not None
    plt.close("all")
    axes = plots.plot_side_by_side(sinusoidal_scene, pred.classes)  # a plain class map: 4 panels
    assert len(axes) == 4
    plt.close("all")
    with pytest.raises(ShapeMismatchError, match="another scene or grid"):
        plots.plot_side_by_side(sinusoidal_scene, np.ones((3, 3), np.uint8))
    ax = plots.plot_probability(pred.probabilities[..., 0], threshold=0.4)
    assert ax.images[0].get_clim() == (0, 1)
    ax = plots.plot_errors(sinusoidal_scene.labels, pred, background=np.zeros(sinusoidal_scene.shape + (3,)))
    assert len(ax.images) == 2
    plt.close("all")


def test_viewer_titles_a_stand_in_scene_as_synthetic(two_lakes):
    scenes, preds = two_lakes
    scenes = {**scenes, "first": replace(scenes["first"], properties={"id": "first", "source": "synthetic"})}
    v = PredictionViewer(scenes, preds, lake="first")
    labels = dict((value, label) for label, value in v.lake_dropdown.options)
    assert labels["first"] == "synthetic scene near Test lake (first)"
    assert labels["second"] == "Second lake (second)"  # a scene not marked synthetic keeps its name
    assert v.axes[0].get_title() == "synthetic scene near Test lake: image"
    assert "synthetic scene near Test lake" in v.scores_html.value


def test_viewer_and_explorer_share_one_blit_renderer(two_lakes, monkeypatch):
    from geonb import widgets

    scenes, preds = two_lakes
    calls = []
    real = widgets._blit_png
    monkeypatch.setattr(widgets, "_blit_png", lambda *a, **k: calls.append(a[4]) or real(*a, **k))
    v = PredictionViewer(scenes, preds, patch_size=8)
    v.threshold_slider.value = 0.3
    assert len(calls) == 2 and len(v._backgrounds) == 1  # same grid and window: one background, reused
    widgets.PatchExplorer(scenes=list(scenes.values()), size=8)
    assert len(calls) == 3
