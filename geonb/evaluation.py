"""Evaluation: confusion matrices, F1/IoU per class, per-lake tables and the study's layout.

All metrics are computed by scikit-learn (:func:`~sklearn.metrics.precision_recall_fscore_support`,
:func:`~sklearn.metrics.jaccard_score`, :func:`~sklearn.metrics.accuracy_score`). Scores over many
lakes are computed from the summed confusion matrix (every pixel counts once, as in the study's
tables): the matrix cells are handed to scikit-learn as samples weighted by their counts, so the
numbers are scikit-learn's, not re-derived by hand. The counting itself is one
:func:`numpy.bincount` (equal to :func:`sklearn.metrics.confusion_matrix`, tested, and much faster
on millions of pixels).

Conventions
-----------
* **Water is the positive class** by default. TP = water predicted as water, FN = water predicted
  as something else (missed water), FP = land predicted as water, TN = land predicted as land.
  These are the standard definitions. The lakes study's Table 3 caption defines FP and FN the
  other way round (its "FP" is water predicted as land); :func:`study_table` uses the standard
  definitions and says so in its docstring.
* **Pixels that cannot be scored are excluded and counted, never mixed in**: pixels whose true label
  is ``NODATA`` or ``UNCLASSIFIED`` (by default) and pixels under a ``mask`` (the image's nodata
  mask; a ``Prediction``'s own ``nodata_mask`` is added to it automatically). The counts are in
  :attr:`Confusion.excluded`.
* **A missing prediction on a scored pixel is a wrong prediction.** A pixel whose true label is
  scored but whose predicted code is ``NODATA`` (0) counts against its true class: a false
  negative (water predicted 0 is missed water), a miss in accuracy, and a count in
  :attr:`Confusion.unpredicted` (the "no prediction" column of :meth:`Confusion.to_frame`). It is
  never silently dropped: a model whose water channel was mapped to code 0 scores a water F1
  near 0, not a perfect one. Pixels that have no prediction because the *image* has no data must
  be passed as ``mask=`` (or come with a ``Prediction``, whose ``nodata_mask`` is used).
* **A prediction's class codes are its own.** A ``Prediction`` (anything with ``class_codes``)
  is scored only when every one of its codes is among the scored ``classes``: a buildings
  prediction (codes 0, 1) is never scored with the lakes defaults, where 0 would mean "no
  prediction" and 1 water. Pass its codes, e.g. ``classes=(0, 1), positive=1, exclude=()``.
  The codes are not switched to the prediction's silently (``positive`` and ``exclude`` depend
  on them), the error says what to pass.
* **F1 can be undefined.** When the truth has no positive pixel and none is predicted, precision,
  recall and F1 are 0/0: geonb returns ``NaN`` and says why in :attr:`Scores.note` (no
  ``ZeroDivisionError``, no warnings). When the truth has no positive pixel but some are
  predicted, F1 is 0 (every positive prediction is wrong).
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geonb.errors import ClassCodeError, GeonbError, InvalidParameterError, ShapeMismatchError
from geonb.io import atomic_path
from geonb.labels import LAKE_CLASS_NAMES, LAKE_CLASSES, LAND, NODATA, UNCLASSIFIED, WATER

__all__ = [
    "FALSE_NEGATIVE",
    "FALSE_POSITIVE",
    "Confusion",
    "Comparison",
    "Scores",
    "UnclassifiedBreakdown",
    "classes_at_threshold",
    "compare_runs",
    "confusion",
    "dataset_scores",
    "error_codes",
    "lake_confusions",
    "lake_table",
    "per_lake_scores",
    "prediction_on_grid",
    "scores",
    "study_table",
    "sum_confusions",
    "summarize_seeds",
    "unclassified_breakdown",
    "water_score",
    "write_table",
]

#: Default codes scored in a lakes evaluation (rows and columns of the confusion matrix).
DEFAULT_CLASSES: tuple[int, ...] = LAKE_CLASSES
#: Default true-label codes left out of scoring (and counted).
DEFAULT_EXCLUDE: tuple[int, ...] = (NODATA, UNCLASSIFIED)

F1_UNDEFINED_NOTE = (
    "F1 is undefined (NaN) for {name}: the truth has no {name} pixel and none was predicted, so "
    "precision and recall are 0/0."
)


def _class_name(code: int, names: Mapping[int, str] | None = None) -> str:
    names = names or LAKE_CLASS_NAMES
    return names.get(int(code), f"class {int(code)}")


def _as_class_map(pred, name: str = "y_pred") -> np.ndarray:
    """Accept an integer class map or an object with a ``.classes`` class map (a ``Prediction``)."""
    if hasattr(pred, "classes") and not isinstance(pred, np.ndarray):
        pred = pred.classes
    if pred is None:
        raise InvalidParameterError(f"`{name}` is None; pass a class map of codes (rows, cols)")
    if hasattr(pred, "labels") and hasattr(pred, "nodata_mask") and not isinstance(pred, np.ndarray):
        raise InvalidParameterError(
            f"`{name}` is a {type(pred).__name__}, not a class map; pass `scene.labels` and "
            "`mask=scene.nodata_mask`")
    arr = np.asarray(pred)
    if arr.dtype.kind == "b":
        raise InvalidParameterError(
            f"`{name}` is a boolean array (dtype bool), not a class map: True/False are not class codes. "
            f"Turn a mask into codes first, e.g. `np.where(mask, WATER, LAND)`")
    if arr.ndim == 0:
        raise InvalidParameterError(f"`{name}` is a single value ({arr!r}); pass a class map array of codes")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if arr.size and not finite.all():
            raise InvalidParameterError(
                f"`{name}` holds {int((~finite).sum())} NaN/inf values (dtype {arr.dtype}); class maps hold "
                "integer codes: give missing pixels code 0 and pass them as `mask=`")
        if arr.size and not np.all(arr == np.round(arr)):
            raise InvalidParameterError(
                f"`{name}` holds non-integer values (dtype {arr.dtype}, e.g. {arr[arr != np.round(arr)].flat[0]!r}); "
                "pass a class map of codes, e.g. `prediction.classes`, not probabilities"
            )
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        raise InvalidParameterError(
            f"`{name}` must be an integer class map, got dtype {arr.dtype} ({type(pred).__name__}); "
            "pass an ndarray of class codes")
    return arr


def _as_mask(mask, shape: tuple[int, ...], name: str = "mask") -> np.ndarray:
    """A boolean mask of ``shape``: bool, or integers 0/1 only (a label raster is not a mask)."""
    m = np.asarray(mask)
    if m.dtype.kind != "b":
        if m.dtype.kind not in "iuf" or (m.size and not np.isin(m, (0, 1)).all()):
            raise InvalidParameterError(
                f"`{name}` must be a boolean array (True = do not score), got dtype {m.dtype}"
                + (f" with values other than 0/1 (e.g. {m[~np.isin(m, (0, 1))].flat[0]!r})"
                   if m.dtype.kind in "iuf" else "")
                + "; pass e.g. `scene.nodata_mask`, not a label or image array")
        m = m.astype(bool)
    if m.shape != shape:
        raise ShapeMismatchError(f"`{name}` has shape {m.shape} but `y_true` has shape {shape}; "
                                 "pass the mask of the same grid")
    return m


# -------------------------------------------------------------------------------------------
# Confusion
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Confusion:
    """A confusion matrix with the pixels left out of it.

    Attributes
    ----------
    matrix : ndarray of int64, shape (k, k)
        ``matrix[i, j]`` = number of pixels of true class ``classes[i]`` predicted as ``classes[j]``.
    classes : tuple of int
        Class codes in row/column order.
    positive : int
        The positive class for TP/FP/FN/TN (water by default).
    excluded : dict of str to int
        Pixels not scored, by reason (``"nodata"``, ``"unclassified"``, ``"masked"``).
    unpredicted : ndarray of int64, shape (k,)
        ``unpredicted[i]`` = scored pixels of true class ``classes[i]`` predicted ``NODATA`` (0).
        They are wrong predictions: in :attr:`n_pixels`, in :attr:`fn` for the positive class, in
        every per-class recall and in accuracy (``matrix`` alone stays k x k).
    """

    matrix: np.ndarray
    classes: tuple[int, ...] = DEFAULT_CLASSES
    positive: int = WATER
    excluded: dict = field(default_factory=dict)
    unpredicted: np.ndarray | None = None

    def __post_init__(self) -> None:
        k = len(self.classes)
        m = np.asarray(self.matrix)
        if m.shape != (k, k):
            raise ShapeMismatchError(f"`matrix` must have shape ({k}, {k}) for classes {self.classes}, got {m.shape}")
        u = np.zeros(k, np.int64) if self.unpredicted is None else np.asarray(self.unpredicted, dtype=np.int64)
        if u.shape != (k,):
            raise ShapeMismatchError(f"`unpredicted` must have shape ({k},), got {u.shape}")
        object.__setattr__(self, "unpredicted", u)

    def _pos(self) -> int:
        return self.classes.index(self.positive)

    @property
    def n_pixels(self) -> int:
        """Number of scored pixels (including those predicted ``NODATA``, which are wrong)."""
        return int(self.matrix.sum() + self.unpredicted.sum())

    @property
    def n_unpredicted(self) -> int:
        """Scored pixels predicted ``NODATA`` (0): counted as wrong."""
        return int(self.unpredicted.sum())

    @property
    def n_excluded(self) -> int:
        return int(sum(self.excluded.values()))

    @property
    def tp(self) -> int:
        """Positive pixels predicted positive."""
        i = self._pos()
        return int(self.matrix[i, i])

    @property
    def fn(self) -> int:
        """Positive pixels predicted as any other class or predicted ``NODATA`` (missed)."""
        i = self._pos()
        return int(self.matrix[i].sum() - self.matrix[i, i] + self.unpredicted[i])

    @property
    def fp(self) -> int:
        """Pixels of other classes predicted positive (false alarms)."""
        i = self._pos()
        return int(self.matrix[:, i].sum() - self.matrix[i, i])

    @property
    def tn(self) -> int:
        """Pixels of other classes not predicted positive (their ``NODATA`` predictions included:
        wrong for their own class, see :attr:`unpredicted`, but not a false alarm of the positive one)."""
        return self.n_pixels - self.tp - self.fn - self.fp

    def share(self, code: int) -> float:
        """Share of scored pixels whose true class is ``code`` (NaN when nothing was scored)."""
        n = self.n_pixels
        i = self.classes.index(code)
        return float((self.matrix[i].sum() + self.unpredicted[i]) / n) if n else math.nan

    def __add__(self, other: Confusion) -> Confusion:
        if not isinstance(other, Confusion):
            return NotImplemented
        if other.classes != self.classes or other.positive != self.positive:
            raise InvalidParameterError(
                f"cannot add confusions over classes {self.classes} (positive {self.positive}) and "
                f"{other.classes} (positive {other.positive}); score both with the same `classes`"
            )
        excluded = dict(self.excluded)
        for k, v in other.excluded.items():
            excluded[k] = excluded.get(k, 0) + v
        return Confusion(self.matrix + other.matrix, self.classes, self.positive, excluded,
                         self.unpredicted + other.unpredicted)

    def to_frame(self, names: Mapping[int, str] | None = None, *, drop_empty: bool = True) -> pd.DataFrame:
        """The matrix as a DataFrame: rows ``true <class>``, columns ``predicted <class>``.

        With ``drop_empty``, classes that appear neither in the truth nor in the predictions are left out.
        Scored pixels predicted ``NODATA`` are a last column ``no prediction`` (present whenever
        there is one, or always with ``drop_empty=False``).
        """
        keep = list(range(len(self.classes)))
        if drop_empty:
            keep = [i for i in keep
                    if self.matrix[i].sum() or self.matrix[:, i].sum() or self.unpredicted[i]] or keep
        m = self.matrix[np.ix_(keep, keep)]
        labels = [_class_name(self.classes[i], names) for i in keep]
        frame = pd.DataFrame(m, index=[f"true {n}" for n in labels], columns=[f"predicted {n}" for n in labels])
        if self.unpredicted.any() or not drop_empty:
            frame["no prediction"] = self.unpredicted[keep]
        return frame

    def scores(self, names: Mapping[int, str] | None = None) -> Scores:
        """Metrics of this matrix (see :func:`scores`)."""
        return _scores_from_confusion(self, names)

    def _repr_html_(self) -> str:
        ex = ", ".join(f"{k}: {v:,}" for k, v in self.excluded.items() if v) or "none"
        un = (f"<p>Scored pixels with no prediction (code 0), counted as wrong: {self.n_unpredicted:,}</p>"
              if self.n_unpredicted else "")
        return self.to_frame().to_html() + un + f"<p>Pixels not scored: {ex}</p>"


def _check_codes(arr: np.ndarray, allowed: Iterable[int], name: str) -> None:
    if not arr.size:
        return
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0:
        raise ClassCodeError(f"`{name}` holds negative class codes (min {lo}); class codes are >= 0")
    # bincount is fast for small codes; a stray huge code (garbage, a fill value) must not allocate GBs
    present = np.flatnonzero(np.bincount(arr.ravel().astype(np.int64, copy=False))) if hi < 65536 \
        else np.unique(arr)
    bad = sorted(set(present.tolist()) - {int(a) for a in allowed})
    if bad:
        hint = (" (255 is often a file's nodata value: read labels with geonb.scene.read_labels, which "
                "maps it to 0)") if 255 in bad else ""
        raise ClassCodeError(
            f"`{name}` holds class codes {bad[:10]} outside the expected codes {sorted(set(allowed))}; "
            f"pass the codes you use as `classes=` (and `exclude=`){hint}"
        )


def _prediction_codes(pred) -> tuple[int, ...] | None:
    """The ``class_codes`` a Prediction-like object carries (None for a plain class map)."""
    if isinstance(pred, np.ndarray):
        return None
    codes = getattr(pred, "class_codes", None)
    return None if codes is None else tuple(int(c) for c in codes)


def _check_prediction_codes(pred, classes: tuple[int, ...], name: str = "y_pred") -> None:
    """Refuse a prediction whose own class codes are not all scored ``classes`` (no code is reinterpreted)."""
    codes = _prediction_codes(pred)
    if codes is None:
        return
    bad = [c for c in codes if c not in classes]
    if bad:
        zero = (" (0 is a class of this prediction, but for `classes` "
                f"{classes} it would mean 'no prediction')") if NODATA in bad else ""
        raise ClassCodeError(
            f"`{name}` carries class codes {codes} (its model's), but {bad} are not among the scored "
            f"`classes` {classes}{zero}; score it with its own codes, e.g. classes={codes}, "
            f"positive=<one of {codes}>, exclude=() (and names= for the table)"
        )


def _masked_pred(p: np.ndarray, pred_mask: np.ndarray | None) -> np.ndarray:
    # A Prediction's nodata pixels hold its class-map nodata value (0, or 255 when 0 is a class); they are
    # not scored (its nodata_mask joins `mask`), so their value is set to NODATA only to pass the code check.
    if pred_mask is None or not pred_mask.any():
        return p
    return np.where(pred_mask, NODATA, p)


def _check_class_args(classes, positive, exclude) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
    try:
        classes = tuple(int(c) for c in classes)
        exclude = tuple(int(c) for c in exclude)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"`classes` and `exclude` must be sequences of integer class codes, got {classes!r} and {exclude!r}"
        ) from exc
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise InvalidParameterError(f"`classes` must hold at least two distinct codes, got {classes}")
    if min(classes) < 0 or (exclude and min(exclude) < 0):
        raise ClassCodeError(f"class codes are >= 0; got `classes`={classes}, `exclude`={exclude}")
    if isinstance(positive, (bool, np.bool_)) or not isinstance(positive, (int, np.integer)) \
            or int(positive) not in classes:
        raise InvalidParameterError(f"`positive` must be one of `classes` {classes}, got {positive!r}")
    return classes, int(positive), exclude


def confusion(y_true, y_pred, *, mask: np.ndarray | None = None,
              classes: Sequence[int] = DEFAULT_CLASSES, positive: int = WATER,
              exclude: Sequence[int] = DEFAULT_EXCLUDE) -> Confusion:
    """Count true against predicted class codes, leaving out (and counting) unscorable pixels.

    Parameters
    ----------
    y_true : ndarray of int, any shape, e.g. (rows, cols)
        True class codes (a label raster).
    y_pred : ndarray of int, same shape, or an object with ``.classes`` (a ``Prediction``)
        Predicted class codes. A ``0`` (``NODATA``) on a scored pixel is a **wrong** prediction
        (counted in :attr:`Confusion.unpredicted`), unless ``0`` is one of ``classes``. A
        ``Prediction``'s ``nodata_mask`` (if it has one) is added to ``mask``, and its
        ``class_codes`` must all be in ``classes`` (else :class:`ClassCodeError`: pass
        ``classes=prediction.class_codes`` and a matching ``positive``/``exclude``).
    mask : ndarray of bool, same shape, optional
        True where a pixel must not be scored: the image has no data there (``scene.nodata_mask``).
    classes : sequence of int
        Codes that make the rows and columns of the matrix.
    positive : int
        The positive class (water by default) for TP/FP/FN/TN.
    exclude : sequence of int
        True-label codes that are not scored (by default ``NODATA`` and ``UNCLASSIFIED``).

    Returns
    -------
    Confusion

    Raises
    ------
    ShapeMismatchError
        ``y_true``, ``y_pred`` (and ``mask``) differ in shape.
    ClassCodeError
        A code outside ``classes``/``exclude`` appears, or a negative code, or ``y_pred`` carries
        ``class_codes`` that are not all in ``classes``.
    InvalidParameterError
        A boolean, float (probabilities, NaN) or non-numeric array where a class map is expected.

    Examples
    --------
    >>> import numpy as np
    >>> c = confusion(np.array([1, 1, 2, 2, 0]), np.array([1, 2, 2, 1, 2]))
    >>> (c.tp, c.fn, c.fp, c.tn), c.excluded
    ((1, 1, 1, 1), {'nodata': 1})
    >>> c = confusion(np.array([1, 1, 2, 2]), np.array([0, 1, 2, 2]))   # water predicted 0 is missed
    >>> (c.tp, c.fn, c.n_unpredicted, c.n_pixels)
    (1, 1, 1, 4)
    """
    classes, positive, exclude = _check_class_args(classes, positive, exclude)
    _check_prediction_codes(y_pred, classes)
    pred_mask = getattr(y_pred, "nodata_mask", None) if not isinstance(y_pred, np.ndarray) else None
    t = _as_class_map(y_true, "y_true")
    p = _as_class_map(y_pred)
    if p.shape != t.shape:
        hint = " (did you pass probabilities? use the class map, e.g. `prediction.classes`)" \
            if p.ndim == t.ndim + 1 else ""
        if p.ndim == t.ndim and p.shape == t.shape[::-1]:
            hint = " (transposed? axes are (rows, cols))"
        raise ShapeMismatchError(
            f"`y_pred` has shape {p.shape} but `y_true` has shape {t.shape}; predictions and labels "
            f"must be on the same grid{hint}"
        )
    if mask is not None:
        mask = _as_mask(mask, t.shape)
    if pred_mask is not None:
        pm = _as_mask(pred_mask, t.shape, "y_pred.nodata_mask")
        mask = pm if mask is None else (mask | pm)
        p = _masked_pred(p, pm)
    t = t.ravel()
    p = p.ravel()
    _check_codes(t, set(classes) | set(exclude) | {NODATA}, "y_true")
    _check_codes(p, set(classes) | {NODATA}, "y_pred")

    keep = np.ones(t.shape, dtype=bool)
    excluded: dict[str, int] = {}
    if mask is not None:
        m = mask.ravel()
        excluded["masked"] = int(m.sum())
        keep &= ~m
    # No label (code 0) is never scored unless it is one of `classes`, whatever `exclude` says.
    for code in (*exclude, *(() if NODATA in classes or NODATA in exclude else (NODATA,))):
        hit = keep & (t == code)
        excluded[_class_name(code) if code != NODATA else "nodata"] = int(hit.sum())
        keep &= ~hit
    excluded = {k: v for k, v in excluded.items() if v}

    # Counting only (the metrics come from scikit-learn): one bincount over class-index pairs. It gives
    # sklearn.metrics.confusion_matrix(tk, pk, labels=classes) exactly (tested), ~50x faster, because
    # scikit-learn maps labels to indices with a Python loop over every pixel.
    k = len(classes)
    lookup = np.full(max(max(classes), int(t.max(initial=0)), int(p.max(initial=0))) + 1, -1, dtype=np.int64)
    lookup[list(classes)] = np.arange(k)
    ti, pi = lookup[t[keep]], lookup[p[keep]]
    # A scored pixel predicted NODATA (when 0 is not a class) has pi == -1: a wrong prediction, kept
    # apart from the k x k matrix in `unpredicted` (by true class), never dropped.
    none = pi < 0
    unpredicted = np.bincount(ti[none], minlength=k).astype(np.int64)
    ti, pi = ti[~none], pi[~none]
    matrix = np.bincount(ti * k + pi, minlength=k * k).reshape(k, k).astype(np.int64)
    return Confusion(matrix, classes, positive, excluded, unpredicted)


def sum_confusions(confusions: Iterable[Confusion]) -> Confusion:
    """Add confusion matrices (pixel totals over many scenes)."""
    items = list(confusions)
    if not items:
        raise InvalidParameterError("`confusions` is empty; there is nothing to add")
    bad = [type(c).__name__ for c in items if not isinstance(c, Confusion)]
    if bad:
        raise InvalidParameterError(f"`confusions` must hold Confusion objects, got {bad[:3]}; use confusion(...)")
    total = items[0]
    for c in items[1:]:
        total = total + c
    return total


# -------------------------------------------------------------------------------------------
# Scores
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scores:
    """Metrics of one confusion matrix.

    Attributes
    ----------
    confusion : Confusion
    per_class : pandas.DataFrame
        One row per class (index: class name) with ``precision``, ``recall``, ``f1``, ``iou``,
        ``support`` (true pixels scored), ``predicted`` (pixels predicted as the class) and
        ``unpredicted`` (its true pixels predicted ``NODATA``: wrong, they lower its recall).
    accuracy : float
        Share of scored pixels predicted correctly.
    majority_class : str
        The most common true class.
    majority_share : float
        Its share of scored pixels: the accuracy of always answering the majority class. Accuracy
        below or near this is no better than a naive classifier.
    note : str
        Why a positive-class metric is NaN, if one is ("" otherwise).
    """

    confusion: Confusion
    per_class: pd.DataFrame
    accuracy: float
    majority_class: str
    majority_share: float
    note: str = ""

    def _pos_row(self) -> pd.Series:
        # by position: the rows carry the caller's class names, which need not be the lake names
        return self.per_class.iloc[self.confusion.classes.index(self.confusion.positive)]

    @property
    def f1(self) -> float:
        """F1 of the positive class (NaN when undefined, see :attr:`note`)."""
        return float(self._pos_row()["f1"])

    @property
    def precision(self) -> float:
        return float(self._pos_row()["precision"])

    @property
    def recall(self) -> float:
        return float(self._pos_row()["recall"])

    @property
    def iou(self) -> float:
        return float(self._pos_row()["iou"])

    @property
    def excluded(self) -> dict:
        return self.confusion.excluded

    def as_row(self, prefix: str = "") -> dict:
        """A flat dict for one row of a tidy table (counts, positive-class metrics, shares)."""
        c = self.confusion
        row = {
            "n_pixels": c.n_pixels, "tp": c.tp, "fn": c.fn, "fp": c.fp, "tn": c.tn,
            "precision": self.precision, "recall": self.recall, "f1": self.f1, "iou": self.iou,
            "accuracy": self.accuracy, "majority_share": self.majority_share,
            "positive_share": c.share(c.positive),
            "n_unpredicted": c.n_unpredicted,
            "n_excluded": c.n_excluded,
        }
        for k, v in c.excluded.items():
            row[f"n_{k.replace(' ', '_')}"] = v
        return {prefix + k: v for k, v in row.items()}

    def __repr__(self) -> str:
        c = self.confusion
        pos = self._pos_row().name
        txt = (f"Scores({pos} F1={self.f1:.4f}, IoU={self.iou:.4f}, accuracy={self.accuracy:.4f}, "
               f"{self.majority_class} share={self.majority_share:.4f}, pixels={c.n_pixels:,}, "
               f"excluded={c.n_excluded:,})")
        return txt + (f"  # {self.note}" if self.note else "")

    def _repr_html_(self) -> str:
        head = (f"<p><b>{html.escape(str(self._pos_row().name))} F1 {self.f1:.4f}</b>, accuracy {self.accuracy:.4f} "
                f"(always '{self.majority_class}' would score {self.majority_share:.4f})</p>")
        note = f"<p><i>{self.note}</i></p>" if self.note else ""
        return head + self.per_class.round(4).to_html() + note + self.confusion._repr_html_()


def _scores_from_confusion(conf: Confusion, names: Mapping[int, str] | None = None) -> Scores:
    from sklearn.metrics import accuracy_score, jaccard_score, precision_recall_fscore_support

    classes = list(conf.classes)
    k = len(classes)
    if names is not None:
        if not isinstance(names, Mapping):
            raise InvalidParameterError(f"`names` must be a dict of class code -> name, got {type(names).__name__}")
        bad = [c for c in names if not isinstance(c, (int, np.integer)) or int(c) not in {*classes, NODATA}]
        if bad:
            raise ClassCodeError(
                f"`names` names codes {bad[:5]} that are not among the scored `classes` {tuple(classes)}; "
                "give names for those codes (e.g. names={1: 'water', 2: 'land'}) or pass the codes as `classes=`")
    # Each matrix cell becomes one weighted sample: scikit-learn computes the metrics.
    # Pixels predicted NODATA are samples with a predicted label outside `labels=`: scikit-learn counts
    # them as misses of their true class (recall, F1, IoU, accuracy), never as hits.
    ti, pi = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    codes = np.asarray(classes, dtype=np.int64)
    missing = -1  # not a class code (codes are >= 0)
    w = np.concatenate([conf.matrix.ravel(), conf.unpredicted]).astype(np.float64)
    t = np.concatenate([codes[ti.ravel()], codes])
    p = np.concatenate([codes[pi.ravel()], np.full(k, missing)])
    keep = w > 0
    t, p, w = t[keep], p[keep], w[keep]
    predicted = conf.matrix.sum(axis=0)
    support = conf.matrix.sum(axis=1) + conf.unpredicted
    if w.size:
        prec, rec, f1, _ = precision_recall_fscore_support(
            t, p, labels=classes, sample_weight=w, zero_division=np.nan)
        iou = jaccard_score(t, p, labels=classes, average=None, sample_weight=w, zero_division=0.0)
        iou = np.where(support + predicted > 0, iou, np.nan)  # IoU of an empty union is undefined
        acc = float(accuracy_score(t, p, sample_weight=w))
    else:
        prec = rec = f1 = iou = np.full(k, np.nan)
        acc = math.nan
    labels = [_class_name(c, names) for c in classes]
    per_class = pd.DataFrame(
        {"precision": prec, "recall": rec, "f1": f1, "iou": iou, "support": support, "predicted": predicted,
         "unpredicted": conf.unpredicted},
        index=pd.Index(labels, name="class"),
    )
    if conf.n_pixels:
        j = int(np.argmax(support))
        maj_name, maj_share = labels[j], float(support[j] / conf.n_pixels)
    else:
        maj_name, maj_share = "", math.nan
    pos = conf.classes.index(conf.positive)
    note = ""
    if conf.n_pixels == 0:
        note = "no pixel could be scored (all excluded); every metric is NaN."
    elif support[pos] == 0 and predicted[pos] == 0:
        note = F1_UNDEFINED_NOTE.format(name=labels[pos])
    elif support[pos] == 0:
        note = (f"the truth has no {labels[pos]} pixel: recall is undefined (NaN) and F1 is 0, since every "
                f"{labels[pos]} prediction is wrong.")
    return Scores(conf, per_class, acc, maj_name, maj_share, note)


def scores(y_true, y_pred=None, *, mask: np.ndarray | None = None, classes: Sequence[int] = DEFAULT_CLASSES,
           positive: int = WATER, exclude: Sequence[int] = DEFAULT_EXCLUDE,
           names: Mapping[int, str] | None = None) -> Scores:
    """Precision, recall, F1 and IoU per class, accuracy and the majority share.

    Parameters
    ----------
    y_true : ndarray of int, any shape, or Confusion
        True class codes; or an already computed :class:`Confusion` (then ``y_pred`` is not given).
    y_pred : ndarray of int, same shape, or an object with ``.classes``
        Predicted class codes. A ``Prediction``'s ``class_codes`` must all be in ``classes``
        (see :func:`confusion`).
    mask, classes, positive, exclude
        As in :func:`confusion`.
    names : dict of int to str, optional
        Class names for the table (default: the lakes names).

    Returns
    -------
    Scores

    Examples
    --------
    >>> import numpy as np
    >>> s = scores(np.array([1, 1, 2, 2, 2, 2]), np.array([1, 2, 2, 2, 2, 2]))
    >>> round(s.f1, 3), round(s.accuracy, 3), s.majority_class, round(s.majority_share, 3)
    (0.667, 0.833, 'land', 0.667)
    >>> s = scores(np.array([2, 2]), np.array([2, 2]))   # no water anywhere: F1 undefined
    >>> s.f1
    nan
    """
    if isinstance(y_true, Confusion):
        if y_pred is not None:
            raise InvalidParameterError("give either a Confusion or `y_true` and `y_pred`, not both")
        return _scores_from_confusion(y_true, names)
    if y_pred is None:
        raise InvalidParameterError("`y_pred` is missing; pass the predicted class map")
    return _scores_from_confusion(
        confusion(y_true, y_pred, mask=mask, classes=classes, positive=positive, exclude=exclude), names)


# -------------------------------------------------------------------------------------------
# Per lake and dataset totals
# -------------------------------------------------------------------------------------------
def _truth_for(truth, lake_id):
    """Return (labels, nodata_mask, properties) for ``lake_id`` from a dataset or a mapping."""
    if isinstance(truth, Mapping):
        if lake_id not in truth:
            raise InvalidParameterError(
                f"`predictions` has lake id {lake_id!r} that `truth` does not have; "
                "predict and score the same lakes")
        item = truth[lake_id]
    elif hasattr(truth, "scene"):
        item = truth.scene(lake_id)
    else:
        raise InvalidParameterError(
            f"`truth` must be a LakeDataset or a dict of lake id -> Scene or label array, got {type(truth).__name__}")
    if hasattr(item, "labels"):
        if item.labels is None:
            raise InvalidParameterError(f"the scene of lake {lake_id!r} has no labels; it cannot be scored")
        return item.labels, item.nodata_mask, dict(getattr(item, "properties", {}) or {})
    if item is None:
        raise InvalidParameterError(f"`truth` has None for lake {lake_id!r}; give its Scene or label array")
    return np.asarray(item), None, {}


def lake_confusions(predictions: Mapping[str, object], truth, *, classes: Sequence[int] = DEFAULT_CLASSES,
                    positive: int = WATER, exclude: Sequence[int] = DEFAULT_EXCLUDE
                    ) -> tuple[dict[str, Confusion], dict[str, dict]]:
    """One :class:`Confusion` per lake, plus each lake's catalog properties.

    Parameters
    ----------
    predictions : dict of lake id to class map (rows, cols) or Prediction
    truth : LakeDataset, or dict of lake id to Scene or label array (rows, cols)
        Where the labels come from. A Scene's ``nodata_mask`` is excluded (counted as "masked").
    """
    if not isinstance(predictions, Mapping) or not predictions:
        raise InvalidParameterError("`predictions` must be a non-empty dict of lake id -> class map")
    confs, props = {}, {}
    for lake_id, pred in predictions.items():
        labels, mask, properties = _truth_for(truth, lake_id)
        try:
            confs[lake_id] = confusion(labels, pred, mask=mask, classes=classes, positive=positive,
                                       exclude=exclude)
        except GeonbError as exc:  # same error class, naming the lake
            raise type(exc)(f"lake {lake_id!r}: {exc}") from exc
        props[lake_id] = properties
    return confs, props


#: Catalog columns copied into per-lake tables when present (``title`` says "synthetic scene near" for stand-ins).
LAKE_INFO_COLUMNS = ("name", "title", "split", "condition", "climate", "lat", "lon")


def per_lake_scores(predictions: Mapping[str, object], truth, *, classes: Sequence[int] = DEFAULT_CLASSES,
                    positive: int = WATER, exclude: Sequence[int] = DEFAULT_EXCLUDE,
                    info_columns: Sequence[str] = LAKE_INFO_COLUMNS) -> pd.DataFrame:
    """Scores of every lake, one row each (for tables and for colouring lakes on a map by F1).

    Parameters
    ----------
    predictions : dict of lake id to class map (rows, cols) or Prediction
    truth : LakeDataset, or dict of lake id to Scene or label array
    classes, positive, exclude
        As in :func:`confusion`.
    info_columns : sequence of str
        Catalog properties copied into the table when the truth carries them.

    Returns
    -------
    pandas.DataFrame
        Index ``lake_id``; columns: the info columns found, then ``n_pixels, tp, fn, fp, tn,
        precision, recall, f1, iou, accuracy, majority_share, positive_share, n_unpredicted,
        n_excluded`` and one
        ``n_<reason>`` column per exclusion reason (0 where none). ``f1`` is NaN for a lake with no
        water in truth nor prediction (see :class:`Scores`).
    """
    confs, props = lake_confusions(predictions, truth, classes=classes, positive=positive, exclude=exclude)
    return lake_table(confs, props, info_columns=info_columns)


def lake_table(confusions: Mapping[str, Confusion], properties: Mapping[str, Mapping] | None = None, *,
               info_columns: Sequence[str] = LAKE_INFO_COLUMNS) -> pd.DataFrame:
    """The per-lake table of :func:`per_lake_scores` from already computed confusions.

    Parameters
    ----------
    confusions : dict of lake id to Confusion
    properties : dict of lake id to dict, optional
        Catalog properties; ``info_columns`` found there are copied in.
    """
    if not confusions:
        raise InvalidParameterError("`confusions` is empty; there is no lake to tabulate")
    properties = properties or {}
    rows = []
    for lake_id, conf in confusions.items():
        props = properties.get(lake_id, {})
        row = {"lake_id": lake_id}
        row.update({c: props.get(c) for c in info_columns if c in props})
        row.update(_scores_from_confusion(conf).as_row())
        rows.append(row)
    df = pd.DataFrame(rows).set_index("lake_id")
    n_cols = [c for c in df.columns if c.startswith("n_")]
    df[n_cols] = df[n_cols].fillna(0).astype(np.int64)
    return df


def dataset_scores(predictions: Mapping[str, object], truth, *, classes: Sequence[int] = DEFAULT_CLASSES,
                   positive: int = WATER, exclude: Sequence[int] = DEFAULT_EXCLUDE) -> Scores:
    """Scores over all pixels of all lakes together (the summed confusion matrix)."""
    confs, _ = lake_confusions(predictions, truth, classes=classes, positive=positive, exclude=exclude)
    return _scores_from_confusion(sum_confusions(confs.values()))


# -------------------------------------------------------------------------------------------
# The study's table
# -------------------------------------------------------------------------------------------
def study_table(rows: Mapping[object, Confusion | Scores], *, index_name: str = "patch size",
                extra: Mapping[object, Mapping[str, object]] | None = None,
                share_class: int = LAND) -> pd.DataFrame:
    """A table in the layout of the lakes study's Table 3: TN, FN, TP, FP, F1, Land %, Accuracy.

    Definitions are the **standard** ones with water positive: TP = water predicted water,
    FN = water predicted land (missed water), FP = land predicted water, TN = land predicted land.
    The study's Table 3 caption swaps FP and FN (it calls water predicted as land "FP"); compare
    the study's FP column with our FN column.

    Parameters
    ----------
    rows : dict of row label to Confusion or Scores
        E.g. ``{8: scores_8, 16: scores_16}``.
    index_name : str
        Name of the index (``"patch size"``, ``"model"``...).
    extra : dict of row label to dict, optional
        Extra columns placed first, e.g. ``{8: {"N train": 4406, "N test": 861}}``.
    share_class : int
        The class whose share of scored pixels is the "% column" (land by default).

    Returns
    -------
    pandas.DataFrame
        Columns ``[extra...] TN, FN, TP, FP, F1, Land %, Accuracy %`` (percentages 0–100), and
        ``No prediction`` (scored pixels predicted ``NODATA``, already counted as wrong: water ones
        in FN, land ones in TN, all in accuracy) when any row has some.
    """
    if not rows:
        raise InvalidParameterError("`rows` is empty; pass e.g. {16: scores(...)}")
    share_name = f"{_class_name(share_class).capitalize()} %"
    out = []
    for label, item in rows.items():
        if not isinstance(item, (Scores, Confusion)):
            raise InvalidParameterError(
                f"`rows[{label!r}]` is a {type(item).__name__}; give a Confusion or Scores, e.g. {{16: scores(...)}}")
        s = item if isinstance(item, Scores) else _scores_from_confusion(item)
        c = s.confusion
        row = {index_name: label}
        row.update(dict((extra or {}).get(label, {})))
        share = c.share(share_class) if share_class in c.classes else math.nan
        row.update({"TN": c.tn, "FN": c.fn, "TP": c.tp, "FP": c.fp, "F1": s.f1,
                    share_name: 100 * share, "Accuracy %": 100 * s.accuracy,
                    "No prediction": c.n_unpredicted})
        out.append(row)
    table = pd.DataFrame(out).set_index(index_name)
    if not table["No prediction"].any():  # the study's layout, unless some scored pixel had no prediction
        table = table.drop(columns="No prediction")
    return table


# -------------------------------------------------------------------------------------------
# Unclassified pixels (the study's Figure 8)
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnclassifiedBreakdown:
    """How predictions fall on each true class, including pixels labelled unclassified.

    Attributes
    ----------
    table : pandas.DataFrame
        Rows: true class (water, land, unclassified); columns: share of those pixels predicted as
        each class, and ``pixels`` (count).
    absent_class : str
        The class the training data lacked (unclassified).
    absent_probability_mean : float
        Mean probability the model gave the absent class over all labelled pixels (NaN without
        probabilities). The study reported "< 1%".
    absent_probability_max : float
    absent_probability_on_absent : float
        Mean probability of the absent class on the pixels labelled with it.
    """

    table: pd.DataFrame
    absent_class: str
    absent_probability_mean: float = math.nan
    absent_probability_max: float = math.nan
    absent_probability_on_absent: float = math.nan

    def _repr_html_(self) -> str:
        txt = (f"<p>Mean probability given to '{self.absent_class}': {self.absent_probability_mean:.4%} "
               f"(max {self.absent_probability_max:.4%}; on '{self.absent_class}' pixels "
               f"{self.absent_probability_on_absent:.4%})</p>")
        return self.table.to_html(float_format=lambda v: f"{v:.3f}") + txt


def _flat_concat(x, name: str, trailing: int = 0) -> np.ndarray:
    if isinstance(x, Mapping):
        parts = [np.asarray(v.classes if hasattr(v, "classes") and not isinstance(v, np.ndarray) else v)
                 for v in x.values()]
    elif isinstance(x, (list, tuple)):
        parts = [np.asarray(v.classes if hasattr(v, "classes") and not isinstance(v, np.ndarray) else v)
                 for v in x]
    else:
        parts = [np.asarray(x.classes if hasattr(x, "classes") and not isinstance(x, np.ndarray) else x)]
    if not parts:
        raise InvalidParameterError(f"`{name}` is empty")
    if trailing:
        bad = [p.shape for p in parts if p.ndim < 1]
        if bad:
            raise ShapeMismatchError(f"`{name}` must hold arrays (..., channels), got shapes {bad}")
        return np.concatenate([p.reshape(-1, p.shape[-1]) for p in parts])
    return np.concatenate([p.ravel() for p in parts])


def _pred_masks(pred) -> np.ndarray | None:
    """The ``nodata_mask`` of Prediction-like objects, flattened in ``_flat_concat`` order (None if none has one)."""
    items = list(pred.values()) if isinstance(pred, Mapping) else \
        list(pred) if isinstance(pred, (list, tuple)) else [pred]
    if not any(getattr(v, "nodata_mask", None) is not None and not isinstance(v, np.ndarray) for v in items):
        return None
    parts = []
    for v in items:
        cls = np.asarray(v.classes if hasattr(v, "classes") and not isinstance(v, np.ndarray) else v)
        m = getattr(v, "nodata_mask", None) if not isinstance(v, np.ndarray) else None
        parts.append(np.zeros(cls.size, bool) if m is None else np.asarray(m, dtype=bool).ravel())
    return np.concatenate(parts)


def _absent_channel(probabilities, classes: tuple[int, ...], absent_class: int, n_pixels: int) -> np.ndarray:
    """The probability of ``absent_class`` per pixel, flattened in ``_flat_concat`` order.

    A Prediction-like item (with ``class_codes``) is read by its own codes; a plain array by ``classes``.
    """
    items = list(probabilities.values()) if isinstance(probabilities, Mapping) else \
        list(probabilities) if isinstance(probabilities, (list, tuple)) else [probabilities]
    if not items:
        raise InvalidParameterError("`probabilities` is empty")
    parts = []
    for item in items:
        codes = _prediction_codes(item)
        arr = np.asarray(getattr(item, "probabilities", item) if codes is not None else item)
        if arr.ndim < 1:
            raise ShapeMismatchError(f"`probabilities` must hold arrays (..., channels), got shape {arr.shape}")
        own = codes if codes is not None else classes
        if arr.shape[-1] != len(own):
            raise ShapeMismatchError(
                f"`probabilities` must hold {len(own)} channels per pixel (one per class code {own}), "
                f"got shape {arr.shape}")
        if absent_class not in own:
            raise ClassCodeError(
                f"a prediction in `probabilities` has class codes {own} and no channel for `absent_class` "
                f"{absent_class}; its model cannot give that class a probability (pass probabilities=None, or a "
                f"prediction of a model with class {absent_class})")
        parts.append(arr[..., own.index(absent_class)].ravel())
    a = np.concatenate(parts)
    if a.size != n_pixels:
        raise ShapeMismatchError(
            f"`probabilities` holds {a.size} pixels but `labels` has {n_pixels}; they must match")
    return a


def unclassified_breakdown(pred, labels, probabilities=None, *, mask=None, classes: Sequence[int] = LAKE_CLASSES,
                           absent_class: int = UNCLASSIFIED) -> UnclassifiedBreakdown:
    """Share of each true class predicted as each class, and the probability given to the absent class.

    For the study's question 5 (Figure 8): a model trained on water/land only predicts the
    dataset that also has ``UNCLASSIFIED`` pixels. Where do those pixels go, and how much
    probability does the model spend on the class it never saw?

    Parameters
    ----------
    pred : ndarray of int (rows, cols), or list/dict of them (one per lake), or Prediction(s)
        Predicted class codes. A ``Prediction``'s ``nodata_mask`` is added to ``mask``, and its
        ``class_codes`` must all be in ``classes``.
    labels : same layout as ``pred``
        True class codes (0 = no label, not counted).
    probabilities : ndarray of float (rows, cols, k), or Prediction(s), or list/dict of them, optional
        Class probabilities. A plain array's channels are in the order of ``classes``; a
        ``Prediction``'s channels are found by its own ``class_codes`` (whatever their order), and
        it must have a channel for ``absent_class`` (else :class:`ClassCodeError`).
    mask : ndarray of bool, or list/dict of them, same layout as ``labels``, optional
        True where the image has no data: those pixels are not counted.
    classes : sequence of int
        Class codes, in probability channel order.
    absent_class : int
        The class missing from the training data.

    Returns
    -------
    UnclassifiedBreakdown
        Labelled, unmasked pixels predicted ``NODATA`` (0) are wrong predictions, not dropped: they
        count in ``pixels`` and in a ``no prediction`` column (present when there are any).
    """
    classes = tuple(int(c) for c in classes)
    if absent_class not in classes:
        raise InvalidParameterError(f"`absent_class` must be one of `classes` {classes}, got {absent_class}")
    if isinstance(pred, Mapping) and isinstance(labels, Mapping):
        missing = set(pred) - set(labels)
        if missing:
            raise InvalidParameterError(f"`labels` lacks lake ids {sorted(missing)[:5]} that `pred` has")
        labels = {k: labels[k] for k in pred}
        if isinstance(probabilities, Mapping):
            probabilities = {k: probabilities[k] for k in pred}
        if isinstance(mask, Mapping):
            mask = {k: mask[k] for k in pred}
    pred_items = list(pred.values()) if isinstance(pred, Mapping) else \
        list(pred) if isinstance(pred, (list, tuple)) else [pred]
    for item in pred_items:
        _check_prediction_codes(item, classes, "pred")
    pmask = _pred_masks(pred)
    p = _as_class_map(_flat_concat(pred, "pred"), "pred")
    t = _as_class_map(_flat_concat(labels, "labels"), "labels")
    if p.shape != t.shape:
        raise ShapeMismatchError(f"`pred` has {p.size} pixels but `labels` has {t.size}; they must match")
    if pmask is not None:
        p = _masked_pred(p, pmask)
    _check_codes(t, set(classes) | {NODATA}, "labels")
    _check_codes(p, set(classes) | {NODATA}, "pred")
    skip = np.zeros(t.shape, bool)
    if mask is not None:
        skip |= _as_mask(_flat_concat(mask, "mask"), t.shape)
    if pmask is not None:
        skip |= pmask
    valid = (t != NODATA) & ~skip
    names = [_class_name(c) for c in classes]
    rows = {}
    for c, n in zip(classes, names, strict=True):
        sel = valid & (t == c)
        total = int(sel.sum())
        counts = np.array([(p[sel] == q).sum() for q in (*classes, NODATA)], dtype=float)
        shares = counts / total if total else np.full(len(classes) + 1, np.nan)
        rows[n] = {f"predicted {m}": v for m, v in zip([*names, "no prediction"], shares, strict=True)} \
            | {"pixels": total}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table.rename(columns={"predicted no prediction": "no prediction"})
    if not (valid & (p == NODATA)).any():
        table = table.drop(columns="no prediction")
    table.index.name = "true class"
    out = {"table": table, "absent_class": _class_name(absent_class)}
    if probabilities is not None:
        a = _absent_channel(probabilities, classes, absent_class, t.size)
        # where nothing was predicted there is no probability to average (a Prediction holds 0 there)
        scored = valid & (p != NODATA)
        on = scored & (t == absent_class)
        out.update(
            absent_probability_mean=float(a[scored].mean()) if scored.any() else math.nan,
            absent_probability_max=float(a[scored].max()) if scored.any() else math.nan,
            absent_probability_on_absent=float(a[on].mean()) if on.any() else math.nan,
        )
    return UnclassifiedBreakdown(**out)


# -------------------------------------------------------------------------------------------
# Several seeds: mean, spread, and whether a difference is larger than the spread
# -------------------------------------------------------------------------------------------
def summarize_seeds(runs: pd.DataFrame, by: str | Sequence[str], metrics: Sequence[str] = ("f1",),
                    seed_column: str = "seed") -> pd.DataFrame:
    """Mean and standard deviation over seeds of each metric, per group.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per (setting, seed), e.g. from an experiment's ``.table``.
    by : str or sequence of str
        Columns that name a setting (``"model"``, ``"patch_size"``...).
    metrics : sequence of str
        Metric columns to summarise.

    Returns
    -------
    pandas.DataFrame
        Index ``by``; columns ``<metric>_mean``, ``<metric>_std`` (sample std, ddof=1; NaN with
        one seed) and ``n_seeds``. NaN values of a metric (undefined F1) are left out of its mean
        and counted in ``<metric>_n_undefined``.
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, *metrics] if c not in runs.columns]
    if missing:
        raise InvalidParameterError(f"`runs` has no column(s) {missing}; it has {list(runs.columns)}")
    g = runs.groupby(by, sort=False)
    out = pd.DataFrame(index=g.size().index)
    for m in metrics:
        out[f"{m}_mean"] = g[m].mean()
        out[f"{m}_std"] = g[m].std(ddof=1)
        n_nan = g[m].apply(lambda s: int(s.isna().sum()))
        if n_nan.any():
            out[f"{m}_n_undefined"] = n_nan
    out["n_seeds"] = g[seed_column].nunique() if seed_column in runs.columns else g.size()
    return out


@dataclass(frozen=True)
class Comparison:
    """Whether two settings differ by more than their seed-to-seed spread.

    ``exceeds`` is None when it cannot be told (a single seed: no spread to compare with).
    """

    a: str
    b: str
    metric: str
    mean_a: float
    mean_b: float
    spread: float
    exceeds: bool | None

    @property
    def difference(self) -> float:
        return self.mean_a - self.mean_b

    def __str__(self) -> str:
        d = (f"{self.metric}: {self.a} {self.mean_a:.4f} vs {self.b} {self.mean_b:.4f} "
             f"(difference {self.difference:+.4f}")
        if self.exceeds is None:
            return d + "); one seed only, so the spread is unknown: no winner can be called"
        verdict = "larger than" if self.exceeds else "within"
        return d + f", {verdict} the seed spread {self.spread:.4f})"


def compare_runs(runs: pd.DataFrame, by: str, a, b, metric: str = "f1", seed_column: str = "seed") -> Comparison:
    """Compare settings ``a`` and ``b`` of column ``by`` on ``metric`` across seeds.

    The difference of the means counts as real only if it exceeds the spread, defined as
    ``std_a + std_b`` (sample standard deviations over seeds). This is a deliberately simple,
    conservative rule for 3–5 seeds, not a significance test.

    Examples
    --------
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"model": ["fcn"] * 3 + ["lr"] * 3, "seed": [0, 1, 2] * 2,
    ...                      "f1": [0.80, 0.82, 0.81, 0.70, 0.71, 0.69]})
    >>> compare_runs(runs, "model", "fcn", "lr").exceeds
    True
    """
    for col, what in ((by, "by"), (metric, "metric")):
        if col not in runs.columns:
            raise InvalidParameterError(f"`{what}`: `runs` has no column {col!r}; it has {list(runs.columns)}")
    vals = {}
    for key in (a, b):
        sel = runs.loc[runs[by] == key, metric].dropna()
        if sel.empty:
            raise InvalidParameterError(
                f"no run with {by} == {key!r} and a defined {metric}; choose among {sorted(runs[by].unique())}")
        vals[key] = sel
    va, vb = vals[a], vals[b]
    if len(va) < 2 or len(vb) < 2:
        return Comparison(str(a), str(b), metric, float(va.mean()), float(vb.mean()), math.nan, None)
    spread = float(va.std(ddof=1) + vb.std(ddof=1))
    return Comparison(str(a), str(b), metric, float(va.mean()), float(vb.mean()), spread,
                      bool(abs(va.mean() - vb.mean()) > spread))


# -------------------------------------------------------------------------------------------
# Export
# -------------------------------------------------------------------------------------------
def write_table(table: pd.DataFrame, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write a results table to CSV atomically (never over an existing file unless ``overwrite``)."""
    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(f"`table` must be a pandas DataFrame, got {type(table).__name__}")
    if Path(path).is_dir():
        raise InvalidParameterError(f"`path` {str(path)!r} is a folder; give a file name ending in '.csv'")
    if Path(path).suffix.lower() != ".csv":
        raise InvalidParameterError(
            f"`path` {str(path)!r} must end with '.csv' (write_table writes CSV); got suffix {Path(path).suffix!r}"
        )
    with atomic_path(path, overwrite) as tmp:
        table.to_csv(tmp)
    return Path(path)


# -------------------------------------------------------------------------------------------
# Errors and thresholds of one prediction (drawn by plots, widgets and maps)
# -------------------------------------------------------------------------------------------
#: Codes of :func:`error_codes`: 0 = correct or not scored, then the two kinds of error.
FALSE_POSITIVE, FALSE_NEGATIVE = 1, 2


def prediction_on_grid(prediction, scene, *, what: str = "`prediction`") -> np.ndarray:
    """The class map of ``prediction``, checked to lie on the grid of ``scene``; the one such check.

    Parameters
    ----------
    prediction : Prediction or ndarray (rows, cols)
        A :class:`geonb.prediction.Prediction` (its ``classes``) or a class map.
    scene : Scene, or anything with ``shape`` (rows, cols) and ``name``
    what : str
        How messages name the prediction (``"`prediction`"``, ``"the label raster"``...).

    Returns
    -------
    ndarray (rows, cols)
        The class map as given (no copy, dtype unchanged).

    Raises
    ------
    InvalidParameterError
        ``prediction`` is None.
    ShapeMismatchError
        Class probabilities (rows, cols, k) instead of a class map, or a map made for another scene
        or grid.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> prediction_on_grid(np.ones((2, 3), np.uint8), SimpleNamespace(shape=(2, 3), name="a")).shape
    (2, 3)
    >>> prediction_on_grid(np.ones((3, 3), np.uint8), SimpleNamespace(shape=(2, 3), name="a"))
    Traceback (most recent call last):
    ...
    geonb.errors.ShapeMismatchError: `prediction` has shape (3, 3) but scene 'a' is (2, 3): ...
    """
    if prediction is None:
        raise InvalidParameterError(f"{what} is None; pass a Prediction (predict_scene) or a (rows, cols) class map")
    codes = prediction.classes if hasattr(prediction, "classes") and not isinstance(prediction, np.ndarray) \
        else prediction
    codes = np.asarray(codes)
    shape = tuple(scene.shape)
    if codes.ndim == 3 and codes.shape[:2] == shape:
        raise ShapeMismatchError(
            f"{what} has shape {codes.shape}: class probabilities, not a class map; pass the Prediction itself "
            "or its .classes (the argmax mapped to class codes)")
    if codes.shape != shape:
        raise ShapeMismatchError(
            f"{what} has shape {codes.shape} but scene {getattr(scene, 'name', '')!r} is {shape}: it was made for "
            "another scene or grid; predict this scene (geonb.prediction.predict_scene) and pass that")
    return codes


def error_codes(labels: np.ndarray, predicted: np.ndarray, positive: int = WATER) -> np.ndarray:
    """Where a prediction is wrong, for drawing: ``(rows, cols)`` uint8.

    1 (:data:`FALSE_POSITIVE`) where ``positive`` (water) was predicted on a pixel labelled otherwise,
    2 (:data:`FALSE_NEGATIVE`) where a ``positive`` pixel was missed, 0 elsewhere. Pixels labelled
    NODATA or UNCLASSIFIED, and pixels without a prediction, are not scored (0), as in :func:`scores`.

    Examples
    --------
    >>> error_codes(np.array([[1, 1, 2, 3]]), np.array([[1, 2, 1, 1]])).tolist()
    [[0, 2, 1, 0]]
    """
    labels = np.asarray(labels)
    predicted = np.asarray(predicted)
    if predicted.ndim == 3 and predicted.shape[:2] == labels.shape:
        raise ShapeMismatchError(
            f"`predicted` has shape {predicted.shape}: class probabilities, not a class map; pass "
            "Prediction.classes (or the codes of the argmax over the last axis)"
        )
    if labels.shape != predicted.shape:
        raise ShapeMismatchError(
            f"`labels` shape {labels.shape} and `predicted` shape {predicted.shape} differ: they are on different "
            "grids; predict the same scene the labels come from"
        )
    scored = (labels != NODATA) & (labels != UNCLASSIFIED) & (predicted != NODATA)
    out = np.zeros(labels.shape, dtype=np.uint8)
    out[scored & (predicted == positive) & (labels != positive)] = FALSE_POSITIVE
    out[scored & (predicted != positive) & (labels == positive)] = FALSE_NEGATIVE
    return out


def _channel_codes(prediction, probs: np.ndarray) -> tuple[int, ...]:
    """The class code of each probability channel, as the prediction carries them (never guessed)."""
    codes = getattr(prediction, "class_codes", None)
    if codes is None:
        raise ClassCodeError(
            f"this prediction has {probs.shape[-1]} probability channels but no `class_codes` saying which class "
            "each one is; use geonb.prediction.predict_scene (its Prediction carries them)"
        )
    codes = tuple(int(c) for c in codes)
    if len(codes) != probs.shape[-1]:
        raise ClassCodeError(f"the prediction's class_codes {codes} do not match its {probs.shape[-1]} channels")
    return codes


def water_score(prediction, positive: int = WATER) -> np.ndarray:
    """``(rows, cols)`` float32: the positive class's probability relative to the strongest other class.

    ``p_water / (p_water + max(p_other))``. For a water/land model this *is* P(water); for a model with
    a third output (unclassified) it ignores the weaker classes, so that a threshold of 0.5 gives the
    model's own answer (the argmax). This is the quantity the viewer's threshold slider cuts.
    """
    probs = getattr(prediction, "probabilities", None)
    if probs is None:
        raise InvalidParameterError(f"`prediction` ({type(prediction).__name__}) has no probabilities, so it has no "
                                    "water score; pass a geonb Prediction, or threshold=None")
    probs = np.asarray(probs, dtype=np.float32)
    codes = _channel_codes(prediction, probs)
    k = codes.index(positive)
    p_pos = probs[..., k]
    p_other = np.delete(probs, k, axis=-1).max(axis=-1)
    total = p_pos + p_other
    return np.divide(p_pos, total, out=np.zeros_like(p_pos), where=total > 0)


def classes_at_threshold(prediction, threshold: float | None = 0.5, positive: int = WATER) -> np.ndarray:
    """The class map of a prediction when ``positive`` (water) is called at ``water_score >= threshold``.

    Other pixels get the most probable of the other classes; nodata pixels stay 0. At 0.5 this is
    the prediction's own argmax (see :func:`water_score`); ``threshold=None`` returns ``classes`` as is.

    Parameters
    ----------
    prediction : object with ``classes`` (rows, cols) and ``probabilities`` (rows, cols, k),
        and ``class_codes`` (the class of each probability channel).
    threshold : float in [0, 1] or None
    """
    classes = np.asarray(prediction.classes)
    if threshold is None:
        return classes
    if not 0 <= float(threshold) <= 1:
        raise InvalidParameterError(f"`threshold` must be in [0, 1], got {threshold}")
    score = water_score(prediction, positive)
    probs = np.asarray(prediction.probabilities)
    codes = _channel_codes(prediction, probs)
    others = [i for i in range(len(codes)) if codes[i] != positive]
    other_best = np.asarray(codes)[others][np.argmax(probs[..., others], axis=-1)]
    out = np.where(score >= float(threshold), positive, other_best).astype(np.uint8)
    out[classes == NODATA] = NODATA
    return out
