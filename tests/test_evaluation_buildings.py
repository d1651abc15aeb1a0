"""Pixel scores and the SpaceNet polygon F1 for buildings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.affinity import translate
from shapely.geometry import box

from geonb.errors import InvalidParameterError, ShapeMismatchError
from geonb.evaluation_buildings import building_scores, spacenet_f1
from geonb.labels import BACKGROUND, BORDER, BUILDING, Footprints


def test_pixel_scores_by_hand():
    truth = np.array([[BUILDING, BORDER, BACKGROUND, BACKGROUND]], np.uint8)
    pred = np.array([[True, False, True, False]])
    s = building_scores(truth, pred)
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (1, 1, 1, 1)
    assert s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5
    assert s["iou"] == pytest.approx(1 / 3)


def test_pixel_scores_valid_mask_and_undefined():
    truth = np.zeros((3, 3), bool)
    s = building_scores(truth, truth)
    assert math.isnan(s["f1"]) and math.isnan(s["precision"])
    truth[0, 0] = True
    valid = np.ones((3, 3), bool)
    valid[0, 0] = False
    assert building_scores(truth, np.zeros((3, 3), bool), valid=valid)["fn"] == 0


def test_pixel_scores_shape_checks():
    with pytest.raises(ShapeMismatchError):
        building_scores(np.zeros((3, 3), bool), np.zeros((3, 4), bool))
    with pytest.raises(ShapeMismatchError):
        building_scores(np.zeros((3, 3), bool), np.zeros((3, 3), bool), valid=np.ones((2, 2), bool))
    with pytest.raises(ShapeMismatchError):
        building_scores(np.zeros(3, bool), np.zeros(3, bool))


def test_spacenet_perfect_and_empty():
    truth = [box(0, 0, 10, 10), box(20, 0, 30, 10)]
    s = spacenet_f1(truth, list(truth))
    assert (s.tp, s.fp, s.fn, s.f1) == (2, 0, 0, 1.0)
    assert spacenet_f1([], []).f1 == 1.0
    none = spacenet_f1(truth, [])
    assert none.f1 == 0.0 and none.fn == 2 and math.isnan(none.precision)


def test_spacenet_iou_threshold_is_inclusive_at_half():
    t = box(0, 0, 10, 10)
    p = box(0, 0, 10, 5)  # IoU exactly 0.5
    assert spacenet_f1([t], [p]).tp == 1
    assert spacenet_f1([t], [translate(t, 4, 0)]).tp == 0  # IoU 6/14
    assert spacenet_f1([t], [translate(t, 4, 0)], iou_threshold=0.4).tp == 1


def test_spacenet_matches_one_to_one():
    t = box(0, 0, 10, 10)
    preds = [box(0, 0, 10, 9), box(0, 0, 10, 8)]  # both IoU >= 0.5 with the same truth
    s = spacenet_f1([t], preds)
    assert (s.tp, s.fp, s.fn) == (1, 1, 0)
    assert s.matches[0][0] == 0 and s.matches[0][2] == pytest.approx(0.9)  # the better one wins


def test_spacenet_reprojects_footprints_and_checks_threshold():
    t = Footprints([box(500000, 4000000, 500010, 4000010)], crs="EPSG:32611")
    p = t.to_crs("EPSG:4326")
    assert spacenet_f1(t, p).tp == 1
    with pytest.raises(InvalidParameterError, match="iou_threshold"):
        spacenet_f1([], [], iou_threshold=0)
    with pytest.raises(InvalidParameterError):
        spacenet_f1([box(0, 0, 1, 1)], ["x"])


def test_spacenet_matches_use_the_callers_indices_past_empty_geometries():
    from shapely.geometry import Polygon

    empty = Polygon()
    truth = [empty, box(0, 0, 10, 10), box(20, 0, 30, 10)]
    pred = [empty, empty, box(20, 0, 30, 10), box(1, 0, 11, 10)]
    s = spacenet_f1(truth, pred)
    assert (s.tp, s.fp, s.fn) == (2, 0, 0)  # empty geometries are not counted
    assert sorted((pi, ti) for pi, ti, _ in s.matches) == [(2, 2), (3, 1)]
    for pi, ti, iou in s.matches:
        assert pred[pi].intersection(truth[ti]).area / pred[pi].union(truth[ti]).area == pytest.approx(iou)


# ---- "Trustworthy on data we did not make" -------------------------------------------------
def test_pixel_scores_refuse_what_is_not_a_building_map():
    from geonb.errors import ClassCodeError

    t = np.array([[BUILDING, BACKGROUND]], np.uint8)
    with pytest.raises(ClassCodeError, match=r"\[7\].*building codes"):
        building_scores(np.array([[7, 1]]), t)
    with pytest.raises(InvalidParameterError, match="probability >= 0.5"):
        building_scores(t, np.array([[0.9, 0.2]]))  # probabilities are not codes
    with pytest.raises(InvalidParameterError, match="NaN"):
        building_scores(t, np.array([[np.nan, 0.0]]))
    with pytest.raises(InvalidParameterError, match="`truth` is None"):
        building_scores(None, t)
    with pytest.raises(InvalidParameterError, match="`valid` must be a bool"):
        building_scores(t, t, valid=np.array([[0, 2]]))
    # codes, integer-valued floats and bools agree, checked by hand: TP 1, FP 0, FN 0, TN 1
    s = building_scores(t.astype(float), t == BUILDING, valid=np.array([[1, 1]]))
    assert (s["tp"], s["fp"], s["fn"], s["tn"], s["f1"]) == (1, 0, 0, 1, 1.0)


def test_spacenet_refuses_non_polygons_invalid_polygons_and_crs_confusion():
    from shapely.geometry import LineString, Point, Polygon

    from geonb.errors import CRSError

    with pytest.raises(InvalidParameterError, match=r"`truth\[0\]` is a Point"):
        spacenet_f1([Point(0, 0)], [box(0, 0, 1, 1)])
    with pytest.raises(InvalidParameterError, match=r"`pred\[1\]` is a LineString"):
        spacenet_f1([box(0, 0, 1, 1)], [box(0, 0, 1, 1), LineString([(0, 0), (1, 1)])])
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(InvalidParameterError, match="not a valid polygon.*make_valid"):
        spacenet_f1([bowtie], [box(0, 0, 1, 1)])
    with pytest.raises(InvalidParameterError, match="parse_footprints"):
        spacenet_f1({"type": "FeatureCollection", "features": []}, [])
    with pytest.raises(InvalidParameterError, match="iou_threshold"):
        spacenet_f1([], [], iou_threshold="0.5")
    utm = box(500000, 4000000, 500010, 4000010)
    with pytest.raises(CRSError, match="different CRSs"):
        spacenet_f1([utm], Footprints([utm], crs="EPSG:32611").to_crs("EPSG:4326").geometries)
    with pytest.raises(CRSError, match="no CRS"):
        spacenet_f1(Footprints([utm], crs=None), Footprints([utm], crs="EPSG:32611"))
    # empty inputs have defined answers
    assert spacenet_f1([], [utm]).as_dict() == {"tp": 0, "fp": 1, "fn": 0, "precision": 0.0,
                                                "recall": pytest.approx(float("nan"), nan_ok=True), "f1": 0.0}


# ---- per-building IoU (issue 18) ----------------------------------------------------------------------
def test_building_ious_take_each_truth_s_best_partner():
    from shapely.geometry import Polygon

    from geonb.evaluation_buildings import building_ious

    truth = [box(0, 0, 10, 10), box(20, 0, 30, 10), box(50, 0, 60, 10), Polygon()]
    pred = [box(0, 0, 10, 5), box(0, 0, 10, 8), translate(box(20, 0, 30, 10), 5), box(100, 0, 101, 1)]
    ious = building_ious(truth, pred)
    np.testing.assert_allclose(ious[:3], [0.8, 50 / 150, 0.0])
    assert math.isnan(ious[3])  # an empty truth geometry has no IoU
    # the matched ones agree with spacenet_f1's matches
    s = spacenet_f1(truth[:3], pred)
    assert [round(iou, 6) for _, _, iou in s.matches] == [0.8]
    assert building_ious([], pred).shape == (0,)
    np.testing.assert_array_equal(building_ious(truth[:2], []), [0.0, 0.0])


def test_building_ious_compare_in_the_truth_crs():
    from geonb.evaluation_buildings import building_ious

    t = Footprints([box(500000, 4000000, 500010, 4000010)], crs="EPSG:32633")
    p = t.to_crs("EPSG:4326")
    assert building_ious(t, p)[0] == pytest.approx(1.0, abs=1e-6)


def test_tile_scores_is_one_row_of_pixel_and_spacenet_scores():
    from shapely.geometry import box

    from geonb.evaluation_buildings import building_scores, spacenet_f1, tile_scores

    truth = np.zeros((10, 10), np.uint8)
    truth[2:6, 2:6] = 1
    pred = np.zeros_like(truth)
    pred[2:6, 3:7] = 1
    polys_t, polys_p = [box(2, 2, 6, 6)], [box(3, 2, 7, 6), box(8, 8, 9, 9)]
    row = tile_scores(truth, pred, polys_t, polys_p)
    px = building_scores(truth, pred)
    assert row["pixel F1"] == px["f1"] and row["pixel IoU"] == px["iou"]
    sn = spacenet_f1(polys_t, polys_p)
    got = (row["SpaceNet tp"], row["SpaceNet fp"], row["SpaceNet f1"])
    assert got == (sn.tp, sn.fp, sn.f1) == (1, 1, pytest.approx(2 / 3))
