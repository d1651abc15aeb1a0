"""Scores for building footprints: pixel F1/IoU and the SpaceNet polygon F1.

Pixel scores say how many building pixels were found; the SpaceNet metric says how many
*buildings* were found: a predicted polygon counts as a true positive when its intersection
over union (IoU) with a truth polygon is at least 0.5, each truth matched at most once
(Van Etten et al., SpaceNet challenge).

The buildings study reports only a final "accuracy score" of about 0.16, from Keras'
``metrics=['accuracy']``; it is neither a pixel F1/IoU nor the SpaceNet polygon F1, so it cannot be
compared like-for-like with the scores computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geonb.errors import ClassCodeError, CRSError, InvalidParameterError, ShapeMismatchError
from geonb.labels import BACKGROUND, BORDER, BUILDING, Footprints

#: IoU a predicted polygon needs with a truth polygon to count as found (SpaceNet).
SPACENET_IOU = 0.5


def _building_pixels(a: np.ndarray, name: str) -> np.ndarray:
    if a is None:
        raise InvalidParameterError(f"`{name}` is None; pass a (rows, cols) bool mask or building class codes")
    a = np.asarray(a)
    if a.ndim != 2:
        raise ShapeMismatchError(f"`{name}` must be (rows, cols), got shape {a.shape}")
    if a.dtype == bool:
        return a
    if a.dtype.kind == "f":
        if not np.isfinite(a).all() or not np.all(a == np.round(a)):
            raise InvalidParameterError(
                f"`{name}` holds non-integer values (dtype {a.dtype}{', NaN/inf' if not np.isfinite(a).all() else ''}"
                "); pass class codes or a bool mask, e.g. `probability >= 0.5` for a building probability")
    elif a.dtype.kind not in "iu":
        raise InvalidParameterError(f"`{name}` must be a bool mask or integer class codes, got dtype {a.dtype}")
    codes = (BACKGROUND, BUILDING, BORDER)
    bad = sorted(set(np.unique(a).tolist()) - set(codes))
    if bad:
        raise ClassCodeError(
            f"`{name}` holds codes {[int(b) for b in bad][:10]} that are not building codes {list(codes)} "
            "(BACKGROUND=0, BUILDING=1, BORDER=2); recode it, or pass a bool mask (True = building)")
    return np.isin(a, (BUILDING, BORDER))


def building_scores(truth: np.ndarray, pred: np.ndarray, *, valid: np.ndarray | None = None) -> dict:
    """Pixel precision, recall, F1 and IoU of the building class.

    Parameters
    ----------
    truth, pred : ndarray, shape (rows, cols)
        Bool (True = building) or class codes (``BUILDING`` and ``BORDER`` count as building).
    valid : ndarray of bool, shape (rows, cols), optional
        Score only these pixels (e.g. not nodata).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1``, ``iou`` (NaN when undefined: nothing predicted, nothing
        true) and the counts ``tp``, ``fp``, ``fn``, ``tn``.

    Examples
    --------
    >>> t = np.array([[1, 1, 0, 0]], np.uint8); p = np.array([[1, 0, 1, 0]], np.uint8)
    >>> s = building_scores(t, p)
    >>> s["f1"], s["iou"]
    (0.5, 0.3333333333333333)
    """
    t = _building_pixels(truth, "truth")
    p = _building_pixels(pred, "pred")
    if t.shape != p.shape:
        raise ShapeMismatchError(f"`truth` {t.shape} and `pred` {p.shape} must have the same shape")
    if valid is not None:
        valid = np.asarray(valid)
        if valid.dtype != bool:
            if valid.dtype.kind not in "iuf" or not np.isin(valid, (0, 1)).all():
                raise InvalidParameterError(
                    f"`valid` must be a bool mask (True = score this pixel), got dtype {valid.dtype} with values "
                    "other than 0/1; pass e.g. `~scene.nodata_mask`")
            valid = valid.astype(bool)
        if valid.shape != t.shape:
            raise ShapeMismatchError(f"`valid` has shape {valid.shape}, the masks {t.shape}")
        t, p = t[valid], p[valid]
    tp = int(np.count_nonzero(t & p))
    fp = int(np.count_nonzero(~t & p))
    fn = int(np.count_nonzero(t & ~p))
    tn = int(t.size - tp - fp - fn)
    return {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn), "iou": _ratio(tp, tp + fp + fn),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def _ratio(num: float, den: float) -> float:
    return float(num) / den if den else float("nan")


@dataclass
class SpaceNetScore:
    """Result of :func:`spacenet_f1`.

    Attributes
    ----------
    tp, fp, fn : int
        Matched predictions, unmatched predictions, missed truths.
    precision, recall, f1 : float
        NaN when undefined; ``f1`` is 1.0 when there is neither truth nor prediction.
    matches : list of (int, int, float)
        ``(pred index, truth index, IoU)`` for each true positive; the indices are positions in the
        caller's ``pred`` and ``truth`` (empty geometries are skipped: never matched, not counted).
    """

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    matches: list = field(default_factory=list)

    def as_dict(self) -> dict:
        """The scores without the matches (for a table row)."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision,
                "recall": self.recall, "f1": self.f1}


def _geoms(obj, name: str) -> list:
    from shapely.geometry.base import BaseGeometry

    if isinstance(obj, Footprints):
        return list(obj.geometries)
    try:
        geoms = list(obj)
    except TypeError as exc:
        raise InvalidParameterError(f"`{name}` must be Footprints or a list of shapely polygons") from exc
    if isinstance(obj, (str, bytes, dict)):
        raise InvalidParameterError(
            f"`{name}` is a {type(obj).__name__}; parse GeoJSON first with geonb.labels.parse_footprints(...)")
    for i, g in enumerate(geoms):
        if not isinstance(g, BaseGeometry):
            raise InvalidParameterError(f"`{name}[{i}]` is a {type(g).__name__}, not a shapely geometry")
        if g.is_empty:
            continue
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            raise InvalidParameterError(
                f"`{name}[{i}]` is a {g.geom_type}; building footprints are polygons (a point or line has no "
                "area, so no IoU). Drop it, or buffer it into a polygon if it stands for a footprint")
        if not g.is_valid:
            import shapely

            raise InvalidParameterError(
                f"`{name}[{i}]` is not a valid polygon ({shapely.is_valid_reason(g)}); its area and IoU are "
                "undefined. Repair it first, e.g. `shapely.make_valid(g)`")
    return geoms


def _looks_lonlat(geoms: list) -> bool:
    import shapely

    b = shapely.total_bounds(np.array(geoms, dtype=object))
    return bool(-180 <= b[0] and b[2] <= 180 and -90 <= b[1] and b[3] <= 90)


def spacenet_f1(truth, pred, *, iou_threshold: float = SPACENET_IOU) -> SpaceNetScore:
    """The SpaceNet building metric: F1 over polygons matched one-to-one at IoU >= 0.5.

    Candidate pairs are found with a ``shapely.STRtree``; pairs are matched greedily from the
    highest IoU down, each truth and each prediction used at most once. With threshold 0.5 and
    non-overlapping polygons a polygon can reach IoU >= 0.5 with at most one partner, so the
    greedy matching is also the best one.

    Parameters
    ----------
    truth, pred : Footprints or list of shapely polygons
        Footprints with different CRSs are compared in ``truth``'s CRS. IoU is a ratio of areas,
        unchanged by the (locally affine) step from metres to degrees, so lon/lat tiles need no
        reprojection. Plain lists are taken to share one CRS. Empty geometries are skipped;
        points, lines and invalid polygons are an error (they have no well-defined area).
    iou_threshold : float
        In (0, 1].

    Returns
    -------
    SpaceNetScore

    Raises
    ------
    InvalidParameterError
        Not geometries, non-polygons, invalid polygons, a bad ``iou_threshold``.
    CRSError
        One side's Footprints lack a CRS while the other's have one, or the two sets do not
        overlap and only one looks like longitude/latitude (plain lists in different CRSs).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> s = spacenet_f1([box(0, 0, 10, 10), box(20, 0, 30, 10)], [box(1, 0, 11, 10), box(50, 0, 51, 1)])
    >>> s.tp, s.fp, s.fn, s.f1
    (1, 1, 1, 0.5)
    """
    import shapely

    if isinstance(iou_threshold, (bool, np.bool_)) or not isinstance(iou_threshold, (int, float, np.number)) \
            or not 0 < iou_threshold <= 1:
        raise InvalidParameterError(f"`iou_threshold` must be a number in (0, 1], got {iou_threshold!r}")
    if isinstance(truth, Footprints) and isinstance(pred, Footprints):
        if (truth.crs is None) != (pred.crs is None) and len(truth) and len(pred):
            raise CRSError(
                f"`{'truth' if truth.crs is None else 'pred'}` footprints have no CRS but the others are in "
                f"{truth.crs or pred.crs}; give both a CRS (Footprints(..., crs=...)) so they can be compared")
        if truth.crs is not None and pred.crs is not None and truth.crs != pred.crs:
            pred = pred.to_crs(truth.crs)
    # Empty geometries are dropped, but the caller's indices are kept for ``matches``.
    t_all, p_all = _geoms(truth, "truth"), _geoms(pred, "pred")
    t_orig = [i for i, g in enumerate(t_all) if not g.is_empty]
    p_orig = [i for i, g in enumerate(p_all) if not g.is_empty]
    t = [t_all[i] for i in t_orig]
    p = [p_all[i] for i in p_orig]
    if t and p:
        import shapely

        tb = shapely.total_bounds(np.array(t, dtype=object))
        pb = shapely.total_bounds(np.array(p, dtype=object))
        disjoint = tb[2] < pb[0] or pb[2] < tb[0] or tb[3] < pb[1] or pb[3] < tb[1]
        if disjoint and _looks_lonlat(t) != _looks_lonlat(p):
            raise CRSError(
                "`truth` and `pred` do not overlap at all and only one of them has longitude/latitude-like "
                f"coordinates (truth bounds {np.round(tb, 4).tolist()}, pred bounds {np.round(pb, 4).tolist()}): "
                "they are in different CRSs. Pass Footprints with their `crs` so pred is reprojected")
    pairs = []
    if t and p:
        t_arr = np.array(t, dtype=object)
        p_arr = np.array(p, dtype=object)
        tree = shapely.STRtree(t_arr)
        p_idx, t_idx = tree.query(p_arr, predicate="intersects")
        if p_idx.size:
            inter = shapely.area(shapely.intersection(p_arr[p_idx], t_arr[t_idx]))
            union = shapely.area(shapely.union(p_arr[p_idx], t_arr[t_idx]))
            iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
            keep = iou >= iou_threshold
            pairs = sorted(zip(iou[keep].tolist(), p_idx[keep].tolist(), t_idx[keep].tolist(), strict=True),
                           key=lambda x: (-x[0], x[1], x[2]))
    used_p, used_t, matches = set(), set(), []
    for iou, pi, ti in pairs:
        if pi in used_p or ti in used_t:
            continue
        used_p.add(pi)
        used_t.add(ti)
        matches.append((p_orig[pi], t_orig[ti], float(iou)))
    tp = len(matches)
    fp = len(p) - tp
    fn = len(t) - tp
    f1 = 1.0 if not t and not p else _ratio(2 * tp, 2 * tp + fp + fn)
    return SpaceNetScore(tp, fp, fn, _ratio(tp, tp + fp), _ratio(tp, tp + fn), f1, matches)


def building_ious(truth, pred) -> np.ndarray:
    """For each truth footprint, its best IoU with any predicted footprint (0 when none overlaps).

    The per-building view behind :func:`spacenet_f1`: a histogram of these values shows whether
    buildings are missed (IoU 0), found but badly outlined (0 < IoU < 0.5) or found (>= 0.5).

    Parameters
    ----------
    truth, pred : Footprints or list of shapely polygons
        As in :func:`spacenet_f1` (Footprints in different CRSs are compared in ``truth``'s).

    Returns
    -------
    ndarray of float64, shape (len(truth),)
        NaN for an empty truth geometry.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> building_ious([box(0, 0, 10, 10), box(20, 0, 30, 10)], [box(0, 0, 10, 5)]).tolist()
    [0.5, 0.0]
    """
    import shapely

    if isinstance(truth, Footprints) and isinstance(pred, Footprints) and truth.crs is not None \
            and pred.crs is not None and truth.crs != pred.crs:
        pred = pred.to_crs(truth.crs)
    t = _geoms(truth, "truth")
    p = [g for g in _geoms(pred, "pred") if not g.is_empty]
    out = np.array([np.nan if g.is_empty else 0.0 for g in t], dtype=np.float64)
    keep = [i for i, g in enumerate(t) if not g.is_empty]
    if not keep or not p:
        return out
    t_arr = np.array([t[i] for i in keep], dtype=object)
    p_arr = np.array(p, dtype=object)
    t_idx, p_idx = shapely.STRtree(p_arr).query(t_arr, predicate="intersects")
    if t_idx.size:
        inter = shapely.area(shapely.intersection(t_arr[t_idx], p_arr[p_idx]))
        union = shapely.area(shapely.union(t_arr[t_idx], p_arr[p_idx]))
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        best = np.zeros(len(keep))
        np.maximum.at(best, t_idx, iou)
        out[keep] = best
    return out


def tile_scores(truth_labels: np.ndarray, pred_classes: np.ndarray, truth_footprints, pred_polygons, *,
                valid: np.ndarray | None = None) -> dict:
    """One table row for a tile: pixel F1/IoU of the class maps and the SpaceNet scores of the polygons.

    Keys ``pixel F1``, ``pixel IoU``, then ``SpaceNet tp/fp/fn/precision/recall/f1`` (see :func:`building_scores`
    and :func:`spacenet_f1`; predicted polygons are moved to the truth's CRS).
    """
    px = building_scores(truth_labels, pred_classes, valid=valid)
    sn = spacenet_f1(truth_footprints, pred_polygons)
    return {"pixel F1": px["f1"], "pixel IoU": px["iou"], **{f"SpaceNet {k}": v for k, v in sn.as_dict().items()}}
