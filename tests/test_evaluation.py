import math
import warnings

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, jaccard_score, recall_score

from geonb.errors import ClassCodeError, InvalidParameterError, OutputExistsError, ShapeMismatchError
from geonb.evaluation import (
    Confusion,
    compare_runs,
    confusion,
    dataset_scores,
    per_lake_scores,
    scores,
    study_table,
    sum_confusions,
    summarize_seeds,
    unclassified_breakdown,
    write_table,
)
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER
from geonb.scene import Scene, read_scene, write_scene

W, L, U, N = WATER, LAND, UNCLASSIFIED, NODATA
SINU = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"


def test_confusion_standard_definitions_water_positive():
    t = np.array([W, W, W, L, L, L, L, L])
    p = np.array([W, W, L, W, L, L, L, L])
    c = confusion(t, p)
    assert (c.tp, c.fn, c.fp, c.tn) == (2, 1, 1, 4)
    assert c.n_pixels == 8 and c.excluded == {}
    assert c.share(L) == pytest.approx(5 / 8)
    frame = c.to_frame()
    assert frame.loc["true water", "predicted land"] == 1  # missed water = FN
    assert "true unclassified" not in frame.index  # empty classes dropped from the display


def test_excluded_pixels_are_counted_not_mixed_in():
    t = np.array([[W, L, N, U], [W, L, L, W]], dtype=np.uint8)
    p = np.array([[W, L, W, W], [N, L, W, W]], dtype=np.uint8)
    mask = np.zeros_like(t, dtype=bool)
    mask[1, 3] = True
    c = confusion(t, p, mask=mask)
    # a water pixel predicted 0 (no prediction) is scored, as a miss: it is not excluded
    assert c.excluded == {"masked": 1, "nodata": 1, "unclassified": 1}
    assert c.n_pixels == 5 and c.n_pixels + c.n_excluded == t.size
    assert (c.tp, c.fn, c.fp, c.tn) == (1, 1, 1, 2)
    assert c.unpredicted.tolist() == [1, 0, 0] and c.n_unpredicted == 1


def test_scores_match_sklearn_on_random_maps():
    rng = np.random.default_rng(3)
    t = rng.choice([W, L], size=(40, 50), p=[0.2, 0.8]).astype(np.uint8)
    p = np.where(rng.random(t.shape) < 0.85, t, rng.choice([W, L, U], size=t.shape)).astype(np.uint8)
    s = scores(t, p)
    np.testing.assert_array_equal(s.confusion.matrix, confusion_matrix(t.ravel(), p.ravel(), labels=[W, L, U]))
    assert s.f1 == pytest.approx(f1_score(t.ravel(), p.ravel(), labels=[W], average=None)[0])
    assert s.iou == pytest.approx(jaccard_score(t.ravel(), p.ravel(), labels=[W], average=None)[0])
    assert s.accuracy == pytest.approx((t == p).mean())
    assert s.majority_class == "land" and s.majority_share == pytest.approx((t == L).mean())
    # predictions of a class absent from the truth (unclassified) count against water recall and land
    assert s.per_class.loc["unclassified", "predicted"] == (p == U).sum()
    assert s.per_class.loc["unclassified", "support"] == 0
    row = s.as_row()
    assert row["tp"] + row["fn"] + row["fp"] + row["tn"] == t.size


def test_f1_undefined_without_positive_pixels_is_nan_with_reason_and_no_warning():
    t = np.full((4, 4), L, dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = scores(t, t.copy())
    assert math.isnan(s.f1) and math.isnan(s.precision) and math.isnan(s.recall)
    assert "undefined" in s.note and "water" in s.note
    assert s.accuracy == 1.0 and s.majority_share == 1.0
    assert "nan" in repr(s)


def test_f1_is_zero_when_water_predicted_but_none_true():
    t = np.full((3, 3), L, dtype=np.uint8)
    p = t.copy()
    p[0, 0] = W
    s = scores(t, p)
    assert s.f1 == 0.0 and math.isnan(s.recall)
    assert "recall is undefined" in s.note


def test_all_pixels_excluded_gives_nan_everywhere():
    t = np.zeros((2, 2), dtype=np.uint8)
    s = scores(t, np.full((2, 2), W, dtype=np.uint8))
    assert s.confusion.n_pixels == 0 and math.isnan(s.accuracy) and math.isnan(s.f1)
    assert "no pixel" in s.note


def test_shape_mismatch_raises_with_both_shapes():
    with pytest.raises(ShapeMismatchError, match=r"\(3, 4\).*\(3, 5\)"):
        confusion(np.ones((3, 5), np.uint8), np.ones((3, 4), np.uint8))
    with pytest.raises(ValueError, match="probabilities"):  # geonb errors are also ValueErrors
        confusion(np.ones((3, 5), np.uint8), np.full((3, 5, 3), 0.3))
    with pytest.raises(ShapeMismatchError, match="mask"):
        confusion(np.ones((3, 5), np.uint8), np.ones((3, 5), np.uint8), mask=np.zeros((5, 3), bool))


def test_bad_codes_and_parameters():
    with pytest.raises(ClassCodeError, match=r"\[7\]"):
        confusion(np.array([1, 7]), np.array([1, 2]))
    with pytest.raises(ClassCodeError, match="y_pred"):
        confusion(np.array([1, 2]), np.array([1, 9]))
    with pytest.raises(InvalidParameterError, match="positive"):
        confusion(np.array([1, 2]), np.array([1, 2]), positive=5)
    with pytest.raises(InvalidParameterError, match="non-integer"):
        confusion(np.array([1, 2]), np.array([0.4, 0.6]))
    with pytest.raises(ClassCodeError, match="negative"):
        confusion(np.array([1, 2]), np.array([1, -1]))


def test_prediction_like_objects_are_accepted():
    class Pred:
        classes = np.array([[W, L]], dtype=np.uint8)
        probabilities = np.zeros((1, 2, 3), np.float32)

    assert confusion(np.array([[W, L]]), Pred()).tp == 1


def test_sum_of_confusions_equals_confusion_of_concatenation():
    rng = np.random.default_rng(0)
    parts = [(rng.integers(0, 4, 30), rng.integers(1, 3, 30)) for _ in range(4)]
    total = sum_confusions(confusion(t, p) for t, p in parts)
    joined = confusion(np.concatenate([t for t, _ in parts]), np.concatenate([p for _, p in parts]))
    np.testing.assert_array_equal(total.matrix, joined.matrix)
    assert total.excluded == joined.excluded
    with pytest.raises(InvalidParameterError):
        sum_confusions([])
    with pytest.raises(InvalidParameterError, match="same `classes`"):
        _ = total + Confusion(np.zeros((2, 2), np.int64), (W, L))


def _lake(tmp_path, lake_id, labels, condition):
    rows, cols = labels.shape
    image = np.random.default_rng(1).uniform(0, 0.5, (rows, cols, 7)).astype(np.float32)
    mask = np.zeros((rows, cols), bool)
    mask[0, 0] = True
    scene = Scene(image, labels.astype(np.uint8), crs=SINU, transform=Affine(463.3, 0, 0, 0, -463.3, 0),
                  nodata_mask=mask, name=lake_id)
    write_scene(scene, tmp_path / f"{lake_id}.tif", tmp_path / f"{lake_id}_lab.tif")
    s = read_scene(tmp_path / f"{lake_id}.tif", tmp_path / f"{lake_id}_lab.tif")
    s.properties.update({"id": lake_id, "split": "test", "condition": condition, "name": lake_id.title()})
    return s


def test_per_lake_scores_from_geotiffs_and_dataset_totals(tmp_path):
    a = np.full((6, 8), L)
    a[2:4, 2:5] = W
    b = np.full((5, 5), L)  # a lake with no water in view
    truth = {"a": _lake(tmp_path, "a", a, "clear"), "b": _lake(tmp_path, "b", b, "frozen")}
    pa = a.copy()
    pa[2, 2] = L  # one missed water pixel
    preds = {"a": pa, "b": b.copy()}
    df = per_lake_scores(preds, truth)
    assert list(df.index) == ["a", "b"]
    assert df.loc["a", "condition"] == "clear" and df.loc["b", "split"] == "test"
    assert df.loc["a", "fn"] == 1 and df.loc["a", "tp"] == 5
    assert df.loc["a", "n_masked"] == 1  # image nodata pixel left out and counted
    assert df.loc["a", "f1"] == pytest.approx(2 * 5 / (2 * 5 + 1))
    assert math.isnan(df.loc["b", "f1"])
    total = dataset_scores(preds, truth)
    assert total.confusion.n_pixels == df["n_pixels"].sum()
    assert total.f1 == pytest.approx(df.loc["a", "f1"])  # lake b has no water: adds only TN

    class FakeDataset:
        def scene(self, lake_id):
            return truth[lake_id]

    pd.testing.assert_frame_equal(per_lake_scores(preds, FakeDataset()), df)
    with pytest.raises(InvalidParameterError, match="'zz'"):
        per_lake_scores({"zz": b}, truth)
    with pytest.raises(ShapeMismatchError, match="lake 'a'"):
        per_lake_scores({"a": b}, truth)


def test_study_table_layout_and_csv_export(tmp_path):
    t = np.array([W, W, W, L, L, L, L, L, L, L])
    rows = {8: confusion(t, np.array([W, W, L, W, L, L, L, L, L, L])), 16: scores(t, t.copy())}
    table = study_table(rows, extra={8: {"N train": 10, "N test": 2}, 16: {"N train": 4, "N test": 1}})
    assert list(table.columns) == ["N train", "N test", "TN", "FN", "TP", "FP", "F1", "Land %", "Accuracy %"]
    assert table.index.name == "patch size"
    assert table.loc[8, "FN"] == 1 and table.loc[8, "FP"] == 1 and table.loc[8, "TP"] == 2
    assert table.loc[8, "Land %"] == pytest.approx(70.0)
    assert table.loc[16, "F1"] == 1.0 and table.loc[16, "Accuracy %"] == 100.0
    out = write_table(table, tmp_path / "table3.csv")
    back = pd.read_csv(out, index_col=0)
    assert back.loc[8, "TN"] == table.loc[8, "TN"]
    with pytest.raises(OutputExistsError):
        write_table(table, tmp_path / "table3.csv")
    write_table(table, tmp_path / "table3.csv", overwrite=True)
    with pytest.raises(InvalidParameterError):
        study_table({})


def test_unclassified_breakdown_shares_and_absent_probability():
    labels = np.array([[W, W, L, L], [U, U, U, N]], dtype=np.uint8)
    pred = np.array([[W, L, L, L], [W, L, L, L]], dtype=np.uint8)
    prob = np.zeros((2, 4, 3), np.float32)
    prob[..., 0], prob[..., 1], prob[..., 2] = 0.49, 0.5, 0.01
    prob[1, 0, 2] = 0.04
    b = unclassified_breakdown(pred, labels, prob)
    assert b.table.loc["unclassified", "pixels"] == 3
    assert b.table.loc["unclassified", "predicted water"] == pytest.approx(1 / 3)
    assert b.table.loc["unclassified", "predicted land"] == pytest.approx(2 / 3)
    assert b.table.loc["water", "predicted water"] == pytest.approx(0.5)
    assert b.absent_probability_max == pytest.approx(0.04)
    assert b.absent_probability_on_absent == pytest.approx((0.04 + 0.02) / 3)
    assert b.absent_probability_mean == pytest.approx((0.01 * 6 + 0.04) / 7)
    # per-lake dicts give the same answer
    b2 = unclassified_breakdown({"x": pred}, {"x": labels}, {"x": prob})
    pd.testing.assert_frame_equal(b.table, b2.table)
    with pytest.raises(ShapeMismatchError):
        unclassified_breakdown(pred, labels, prob[..., :2])
    with pytest.raises(ShapeMismatchError):
        unclassified_breakdown(pred[:, :3], labels)


def test_summarize_seeds_and_compare_runs():
    runs = pd.DataFrame({
        "model": ["fcn"] * 3 + ["lr"] * 3 + ["unet"] * 3,
        "seed": [0, 1, 2] * 3,
        "f1": [0.80, 0.82, 0.81, 0.70, 0.71, 0.69, 0.79, 0.83, np.nan],
    })
    summary = summarize_seeds(runs, "model")
    assert summary.loc["fcn", "f1_mean"] == pytest.approx(0.81)
    assert summary.loc["fcn", "f1_std"] == pytest.approx(0.01)
    assert summary.loc["unet", "f1_n_undefined"] == 1 and summary.loc["fcn", "n_seeds"] == 3
    assert compare_runs(runs, "model", "fcn", "lr").exceeds is True
    close = compare_runs(runs, "model", "fcn", "unet")
    assert close.exceeds is False and "within" in str(close)
    single = compare_runs(runs[runs.seed == 0], "model", "fcn", "lr")
    assert single.exceeds is None and "one seed" in str(single)
    with pytest.raises(InvalidParameterError, match="rf"):
        compare_runs(runs, "model", "fcn", "rf")
    with pytest.raises(InvalidParameterError, match="iou"):
        summarize_seeds(runs, "model", metrics=("iou",))


# ---- plots of evaluation results (geonb.plots, notebook 05) --------------------------------
def test_evaluation_plots_return_labelled_axes(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from geonb import plots

    t = np.array([W, W, L, L, L, L])
    ax = plots.plot_confusion(scores(t, np.array([W, L, L, L, L, W])))
    assert ax.get_title() and ax.get_xlabel() == "predicted class" and len(ax.figure.axes) == 2  # colorbar
    assert [x.get_text() for x in ax.get_xticklabels()] == ["water", "land"]
    with pytest.raises(ValueError):
        plots.plot_confusion(confusion(t, t), normalize="all")

    hist = {"fcn": {0: {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, 1: {"loss": [0.9, 0.4], "val_loss": [1.0, 0.6]}},
            "logistic_regression": {0: {}}}
    ax = plots.plot_loss_curves(hist)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["fcn (train), 2 seeds", "fcn (validation), 2 seeds"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.95, 0.45])
    assert ax.get_xlabel() == "epoch"

    table = pd.DataFrame({"label": ["8", "8", "16", "16"], "seed": [0, 1, 0, 1], "f1": [0.7, 0.8, np.nan, np.nan]})
    ax = plots.plot_experiment_scores(table, reference={8: 0.773, 16: 0.7821})
    assert [x.get_text() for x in ax.get_xticklabels()] == ["8", "16"]
    assert any("undefined" == t.get_text() for t in ax.texts)  # NaN F1 is labelled, not drawn as 0
    assert ax.get_legend() is not None

    shift = pd.DataFrame({"label": ["fcn", "fcn", "lr", "lr"], "condition": ["clear", "frozen"] * 2,
                          "n_lakes": [5, 2, 5, 2], "f1": [0.9, 0.5, 0.8, 0.3]})
    ax = plots.plot_scores_by_condition(shift)
    assert len(ax.patches) == 4 and "frozen\n(2 lakes)" in [x.get_text() for x in ax.get_xticklabels()]
    ax.figure.savefig(tmp_path / "shift.png")
    plt.close("all")


def test_custom_class_names_and_codes_score_by_position():
    # buildings-style codes with their own names: the positive row is found by position, not by lake name
    t = np.array([0, 1, 1, 2, 2, 0])
    p = np.array([0, 1, 0, 2, 1, 0])
    s = scores(t, p, classes=(0, 1, 2), positive=1, exclude=(),
               names={0: "background", 1: "building", 2: "border"})
    assert list(s.per_class.index) == ["background", "building", "border"]
    assert s.f1 == pytest.approx(2 * 0.5 * 0.5 / (0.5 + 0.5))
    assert "building F1" in repr(s) and "building F1" in s._repr_html_()
    renamed = scores(np.array([1, 2, 2]), np.array([1, 2, 1]), names={1: "Water <b>"})
    assert renamed.f1 == pytest.approx(2 / 3) and "Water &lt;b&gt;" in renamed._repr_html_()


def test_unlabelled_pixels_are_never_scored_even_when_not_listed_in_exclude():
    c = confusion(np.array([0, 1, 1, 2]), np.array([1, 1, 2, 2]), exclude=(UNCLASSIFIED,))
    assert c.excluded == {"nodata": 1} and c.n_pixels == 3


# ---- "Trustworthy on data we did not make": a missing prediction is an error, not an exclusion ----
def test_water_predicted_as_code_0_scores_far_below_perfect():
    # regression: a model whose water channel was mapped to code 0 used to score a perfect water F1
    rng = np.random.default_rng(7)
    t = rng.choice([W, L], size=(30, 30), p=[0.3, 0.7]).astype(np.uint8)
    p = np.where(t == W, N, L).astype(np.uint8)
    p[:3][t[:3] == W] = W  # a few water pixels right
    s = scores(t, p)
    assert s.f1 < 0.3 and s.recall < 0.2
    # checked independently: scikit-learn with the 0s as a label outside `labels=`
    assert s.f1 == pytest.approx(f1_score(t.ravel(), p.ravel(), labels=[W], average=None)[0])
    assert s.recall == pytest.approx(recall_score(t.ravel(), p.ravel(), labels=[W], average=None)[0])
    assert s.accuracy == pytest.approx(accuracy_score(t.ravel(), p.ravel()))
    assert s.iou == pytest.approx(jaccard_score(t.ravel(), p.ravel(), labels=[W], average=None)[0])
    c = s.confusion
    assert c.n_pixels == t.size and c.excluded == {}
    assert c.fn == int(((t == W) & (p != W)).sum()) and c.unpredicted[0] == int(((t == W) & (p == N)).sum())
    assert c.tp + c.fn + c.fp + c.tn == t.size
    assert c.matrix.shape == (3, 3)  # the k x k matrix is unchanged for existing callers
    frame = c.to_frame()
    assert frame.loc["true water", "no prediction"] == c.unpredicted[0]
    assert s.per_class.loc["water", "unpredicted"] == c.unpredicted[0]
    assert s.as_row()["n_unpredicted"] == c.n_unpredicted
    assert "No prediction" in study_table({8: s}).columns
    assert "no prediction" in c._repr_html_()


def test_unpredicted_pixels_add_up_and_land_share_counts_them():
    a = confusion(np.array([W, L, L]), np.array([N, N, L]))
    b = confusion(np.array([W, W]), np.array([W, N]))
    total = a + b
    assert total.unpredicted.tolist() == [2, 1, 0] and total.n_pixels == 5
    assert total.share(L) == pytest.approx(2 / 5)
    assert sum_confusions([a, b]).unpredicted.tolist() == [2, 1, 0]
    assert "No prediction" not in study_table({1: confusion(np.array([W, L]), np.array([W, L]))}).columns
    with pytest.raises(InvalidParameterError, match="Confusion"):
        sum_confusions([a, "x"])
    with pytest.raises(ShapeMismatchError, match="unpredicted"):
        Confusion(np.zeros((2, 2), np.int64), (W, L), unpredicted=np.zeros(3))


def test_prediction_nodata_mask_is_used_as_the_mask():
    class Pred:  # a geonb.prediction.Prediction in shape: classes 0 where the image has no data
        classes = np.array([[W, L, N, N]], dtype=np.uint8)
        nodata_mask = np.array([[False, False, True, False]])

    c = confusion(np.array([[W, L, W, W]]), Pred())
    assert c.excluded == {"masked": 1}  # image nodata: not scored
    assert c.unpredicted.tolist() == [1, 0, 0] and c.fn == 1  # no prediction on valid data: a miss
    df = per_lake_scores({"a": Pred()}, {"a": np.array([[W, L, W, W]], np.uint8)})
    assert df.loc["a", "n_masked"] == 1 and df.loc["a", "n_unpredicted"] == 1 and df.loc["a", "fn"] == 1


def test_buildings_codes_keep_0_as_a_class():
    s = scores(np.array([0, 1, 1]), np.array([0, 0, 1]), classes=(0, 1, 2), positive=1, exclude=())
    assert s.confusion.n_unpredicted == 0 and s.confusion.fn == 1


def test_not_a_class_map_is_a_clear_error():
    t = np.array([[W, W], [L, L]], np.uint8)
    with pytest.raises(InvalidParameterError, match=r"boolean.*np.where\(mask, WATER, LAND\)"):
        scores(t, t == W)
    with pytest.raises(InvalidParameterError, match="`y_true` is a boolean"):
        confusion(t == W, t)
    with pytest.raises(InvalidParameterError, match="`y_true` holds 1 NaN"):
        confusion(np.array([1.0, np.nan]), np.array([1, 2]))
    with pytest.raises(InvalidParameterError, match="probabilities"):
        confusion(t, np.full(t.shape, 0.7))
    with pytest.raises(InvalidParameterError, match="dtype <U"):
        confusion(np.array(["water", "land"]), np.array([1, 2]))
    with pytest.raises(InvalidParameterError, match="single value"):
        confusion(np.int64(1), np.int64(1))
    with pytest.raises(ClassCodeError, match="negative"):
        confusion(np.array([1, -2]), np.array([1, 2]))
    with pytest.raises(ClassCodeError, match="255 is often"):
        confusion(np.array([1, 255], np.uint8), np.array([1, 2]))
    with pytest.raises(ClassCodeError, match=r"\[1099511627776\]"):  # no 8 TB bincount
        confusion(np.array([1, 2]), np.array([1, 2**40]))
    with pytest.raises(InvalidParameterError, match="`mask` must be a boolean"):
        confusion(t, t, mask=t)  # labels passed as a mask
    with pytest.raises(ShapeMismatchError, match="transposed"):
        confusion(np.ones((2, 3), np.uint8), np.ones((3, 2), np.uint8))
    with pytest.raises(ClassCodeError, match=">= 0"):
        confusion(t, t, classes=(-1, 1))
    with pytest.raises(InvalidParameterError, match="`positive`"):
        confusion(t, t, positive="water")
    with pytest.raises(InvalidParameterError, match="Scene"):
        confusion(Scene(np.zeros((2, 2, 1), np.float32), t), t)
    with pytest.raises(InvalidParameterError, match="None for lake 'a'"):
        per_lake_scores({"a": t}, {"a": None})
    with pytest.raises(ClassCodeError, match="lake 'a'"):
        per_lake_scores({"a": np.full((2, 2), 9)}, {"a": t})
    with pytest.raises(InvalidParameterError, match="Confusion or Scores"):
        study_table({8: "x"})
    with pytest.raises(InvalidParameterError, match="`metric`"):
        compare_runs(pd.DataFrame({"m": [1, 2]}), "m", 1, 2)
    # 0/1 integer masks are fine; empty inputs give NaN with a reason
    assert confusion(t, t, mask=np.zeros(t.shape, np.uint8)).n_pixels == 4
    empty = scores(np.array([], np.uint8), np.array([], np.uint8))
    assert empty.confusion.n_pixels == 0 and "no pixel" in empty.note


def test_unclassified_breakdown_counts_missing_predictions_and_honours_masks():
    labels = np.array([[W, W, L, L], [U, U, U, N]], dtype=np.uint8)
    pred = np.array([[N, W, L, L], [W, L, N, L]], dtype=np.uint8)
    b = unclassified_breakdown(pred, labels)
    assert b.table.loc["water", "no prediction"] == pytest.approx(0.5)
    assert b.table.loc["unclassified", "pixels"] == 3
    assert b.table.loc["unclassified", "no prediction"] == pytest.approx(1 / 3)
    mask = pred == N  # the image had no data there: not counted
    m = unclassified_breakdown(pred, labels, mask=mask)
    assert "no prediction" not in m.table.columns and m.table.loc["water", "pixels"] == 1

    class Pred:
        classes = pred
        nodata_mask = mask

    pd.testing.assert_frame_equal(unclassified_breakdown({"x": Pred()}, {"x": labels}).table, m.table)
    with pytest.raises(InvalidParameterError, match="boolean"):
        unclassified_breakdown(pred == W, labels)


def test_names_for_codes_that_are_not_scored_are_an_error():
    t = np.array([W, L])
    with pytest.raises(ClassCodeError, match="`names`.*\\[7\\]"):
        scores(t, t, names={7: "forest"})
    assert list(scores(t, t, names={0: "none", 1: "lake", 2: "shore"}).per_class.index) == [
        "lake", "shore", "class 3"]


# -------------------------------------------------------------------------------------------
# A prediction's own class codes (never reinterpreted as lakes codes)
# -------------------------------------------------------------------------------------------
def _buildings_prediction():
    from geonb.prediction import Prediction

    pb = np.array([[1, 1, 1, 0, 1, 1, 0, 0]], np.uint8)
    pr = np.zeros((1, 8, 2), np.float32)
    pr[0, np.arange(8), pb[0]] = 1
    return Prediction(probabilities=pr, classes=pb, class_codes=(0, 1), nodata_mask=np.zeros((1, 8), bool))


def test_a_buildings_prediction_is_not_scored_with_the_lakes_codes():
    t = np.array([[0, 0, 0, 0, 1, 1, 1, 1]], np.uint8)
    p = _buildings_prediction()
    for f in (confusion, scores):
        with pytest.raises(ClassCodeError, match=r"class codes \(0, 1\).*\[0\] are not among the scored `classes` "
                                                 r"\(1, 2, 3\).*classes=\(0, 1\)"):
            f(t, p)
    with pytest.raises(ClassCodeError, match="lake 'a'.*not among the scored"):
        per_lake_scores({"a": p}, {"a": t})
    # with its own codes the numbers are scikit-learn's
    s = scores(t, p, classes=(0, 1), positive=1, exclude=())
    assert s.f1 == pytest.approx(f1_score(t.ravel(), p.classes.ravel()))  # 4/9, not the lakes reading's 2/3
    assert s.f1 == pytest.approx(4 / 9)


def test_prediction_codes_must_be_scored_classes_but_a_subset_is_fine():
    from geonb.prediction import Prediction

    t = np.array([[W, L, U]], np.uint8)
    two = Prediction(np.zeros((1, 3, 2), np.float32), np.array([[W, L, L]], np.uint8), (W, L), np.zeros((1, 3), bool))
    assert scores(t, two).confusion.tp == 1  # (1, 2) within the default (1, 2, 3)
    three = Prediction(np.zeros((1, 3, 3), np.float32), np.array([[W, L, L]], np.uint8), (W, L, U),
                       np.zeros((1, 3), bool))
    with pytest.raises(ClassCodeError, match=r"\[3\] are not among the scored `classes` \(1, 2\)"):
        scores(t, three, classes=(W, L))


def test_a_prediction_with_class_0_scores_its_nodata_pixels_as_masked():
    from geonb.prediction import Prediction

    # buildings: nodata pixels hold 255 in the class map (0 is background); the mask says they are not scored
    t = np.array([[0, 1, 1, 0]], np.uint8)
    p = Prediction(np.zeros((1, 4, 2), np.float32), np.array([[0, 1, 255, 255]], np.uint8), (0, 1),
                   np.array([[False, False, True, True]]))
    c = confusion(t, p, classes=(0, 1), positive=1, exclude=())
    assert c.excluded == {"masked": 2} and c.n_pixels == 2 and c.tp == 1 and c.tn == 1


def test_unclassified_breakdown_reads_probabilities_by_the_predictions_own_codes():
    from geonb.prediction import Prediction

    labels = np.array([[W, L, U, U]], np.uint8)
    probs = np.array([[[0.0, 0.9, 0.1], [0.0, 0.1, 0.9], [0.0, 0.8, 0.2], [0.0, 0.2, 0.8]]], np.float32)
    codes = (U, W, L)  # channel 0 is unclassified, and the model never gives it any probability
    cls = np.array(codes, np.uint8)[probs.argmax(-1)]
    p = Prediction(probabilities=probs, classes=cls, class_codes=codes, nodata_mask=np.zeros((1, 4), bool))
    for probabilities in ({"a": p}, [p], p):
        pred = {"a": p} if isinstance(probabilities, dict) else ([p] if isinstance(probabilities, list) else p)
        labs = {"a": labels} if isinstance(probabilities, dict) else ([labels] if isinstance(probabilities, list)
                                                                      else labels)
        b = unclassified_breakdown(pred, labs, probabilities)
        assert b.absent_probability_mean == 0.0 and b.absent_probability_on_absent == 0.0
    # a plain array is in `classes` order: the same numbers reordered give the same answer
    b = unclassified_breakdown(cls, labels, probs[..., [1, 2, 0]])
    assert b.absent_probability_mean == 0.0
    # a prediction without a channel for the absent class cannot say what probability it gave it
    two = Prediction(probs[..., 1:], np.array(codes[1:], np.uint8)[probs[..., 1:].argmax(-1)], (W, L),
                     np.zeros((1, 4), bool))
    with pytest.raises(ClassCodeError, match=r"class codes \(1, 2\) and no channel for `absent_class` 3"):
        unclassified_breakdown(two, labels, two)
    # a buildings prediction is not read as lakes codes
    with pytest.raises(ClassCodeError, match=r"`pred` carries class codes \(0, 1\)"):
        unclassified_breakdown(_buildings_prediction(), np.array([[1] * 8], np.uint8))


# ---- errors, thresholds and the one grid check (moved here from plots; issue 16) ----------------------
def test_prediction_on_grid_is_the_one_check_for_another_grid():
    from types import SimpleNamespace

    from geonb import plots
    from geonb.evaluation import classes_at_threshold, error_codes, prediction_on_grid, water_score

    scene = SimpleNamespace(shape=(2, 3), name="Lake A")
    codes = np.full((2, 3), WATER, np.uint8)
    assert prediction_on_grid(codes, scene) is codes
    assert prediction_on_grid(SimpleNamespace(classes=codes), scene) is codes
    with pytest.raises(ShapeMismatchError, match=r"has shape \(3, 2\) but scene 'Lake A' is \(2, 3\).*another scene"):
        prediction_on_grid(codes.T, scene)
    with pytest.raises(ShapeMismatchError, match="class probabilities, not a class map"):
        prediction_on_grid(np.zeros((2, 3, 2)), scene)
    with pytest.raises(InvalidParameterError, match="is None"):
        prediction_on_grid(None, scene)
    # plots keeps the old names: the same functions, not copies
    assert plots.error_codes is error_codes and plots.water_score is water_score
    assert plots.classes_at_threshold is classes_at_threshold
