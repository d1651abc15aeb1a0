"""Patches: windows over a scene grid, extraction, pruning, splitting by lake, stitching back.

Windows first, pixels second. :func:`grid_windows` is pure arithmetic on a ``(rows, cols)``
shape: it says where the ``size x size`` windows of a grid lie for a ``stride`` and an edge
policy, and how many pixels no window covers. :func:`extract_patches` cuts those windows out
of scenes (with :func:`numpy.lib.stride_tricks.sliding_window_view`: one fancy-index per
scene, no Python loop per patch), :func:`count_patches` counts kept and pruned windows from
label rasters alone (summed-area tables, no pixel copies), and :func:`stitch_patches` puts
per-patch values (predictions) back on the scene grid, averaging where windows overlap.

Edge policies
-------------
``"drop"`` (the lakes study)
    Windows start at ``0, stride, 2*stride, ...`` while they fit; pixels past the last window
    are discarded, and counted (``dropped_pixels``).
``"pad"``
    As ``drop``, plus as many windows as needed to reach the far edge; the scene is padded
    with no-data (image 0, label ``NODATA``, ``nodata`` True) to fit. A scene smaller than
    ``size`` becomes one padded window.
``"shift"``
    As ``drop``, plus one last window flush with the far edge (it overlaps its neighbour), so
    every pixel is covered without padding. A scene smaller than ``size`` has no window.

Patches are exactly ``size x size`` (the study's code cut ``size - 1``).

Pruning (``prune_single_class=True``) removes windows whose *labelled* pixels all belong to
one class (the study's rule) or that have no labelled pixel at all; no-data pixels are
ignored when deciding. What was pruned is counted per class (``NODATA`` for "no label").
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from geonb.bands import band_indices
from geonb.errors import CatalogError, ClassCodeError, InvalidParameterError, ShapeMismatchError
from geonb.labels import (
    BUILDING_CLASSES,
    LAKE_CLASS_NAMES,
    LAKE_CLASSES,
    NODATA,
    check_class_codes,
    grid_shape,
    one_hot,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from rasterio.windows import Window

    from geonb.scene import Scene

#: The edge policies :func:`grid_windows` knows.
EDGE_POLICIES: tuple[str, ...] = ("drop", "pad", "shift")
#: Every class code geonb knows (lakes and buildings); ``classes=`` may only use these.
KNOWN_CODES: tuple[int, ...] = tuple(sorted({NODATA, *LAKE_CLASSES, *BUILDING_CLASSES}))


# -------------------------------------------------------------------------------------------
# Argument checks
# -------------------------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_size(size: Any, name: str = "size") -> int:
    """Return ``size`` as an int after checking it is an integer >= 2."""
    if not _is_int(size):
        raise InvalidParameterError(
            f"`{name}` must be an integer number of pixels, got {size!r} ({type(size).__name__}); "
            f"e.g. {name}=16"
        )
    if size < 2:
        raise InvalidParameterError(f"`{name}` must be >= 2 pixels, got {size}; e.g. {name}=16")
    return int(size)


def check_stride(stride: Any, size: int) -> int:
    """Return the stride (``size`` when ``None``) after checking it is a positive integer."""
    if stride is None:
        return size
    if not _is_int(stride):
        raise InvalidParameterError(
            f"`stride` must be an integer number of pixels or None, got {stride!r}; "
            f"use stride={size} for no overlap or stride={max(1, size // 2)} for 50% overlap"
        )
    if stride < 1:
        raise InvalidParameterError(
            f"`stride` must be >= 1 pixel, got {stride}; use stride={size} (no overlap) or "
            f"stride={max(1, size // 2)} (50% overlap)"
        )
    return int(stride)


def check_shape(shape: Any) -> tuple[int, int]:
    """Return ``shape`` as ``(rows, cols)`` ints >= 1; non-integer sizes are an error, not truncated."""
    try:
        vals = tuple(shape)
    except TypeError as exc:
        raise ShapeMismatchError(f"`shape` must be (rows, cols), got {shape!r}") from exc
    if len(vals) == 2 and not all(_is_int(v) or (isinstance(v, (float, np.floating)) and float(v).is_integer())
                                  for v in vals):
        raise ShapeMismatchError(f"`shape` must be whole numbers of pixels (rows, cols), got {shape!r}")
    return grid_shape(vals)


def _label_codes(labels: np.ndarray, classes: tuple[int, ...], name: str) -> np.ndarray:
    """``labels`` as an integer array after checking every code is ``NODATA`` or one of ``classes``.

    Codes outside ``classes`` would otherwise be counted as nothing at all (silently), so they are
    a :class:`ClassCodeError` naming them and ``classes=``.
    """
    lab = np.asarray(labels)
    if lab.dtype.kind == "b":
        raise ClassCodeError(
            f"`{name}` is a boolean array, not class codes; turn it into codes first, e.g. "
            "`np.where(mask, WATER, LAND)`")
    if lab.dtype.kind == "f":
        finite = np.isfinite(lab)
        if not finite.all() or not np.all(lab == np.round(lab)):
            raise ClassCodeError(
                f"`{name}` holds non-integer values (dtype {lab.dtype}"
                f"{', NaN/inf' if not finite.all() else ''}); labels are integer class codes, 0 = no label")
        lab = lab.astype(np.int64)
    elif lab.dtype.kind not in "iu":
        raise ClassCodeError(f"`{name}` must hold integer class codes, got dtype {lab.dtype}")
    if lab.size:
        lo, hi = int(lab.min()), int(lab.max())
        allowed = {NODATA, *classes}
        if lo < 0 or hi > 255:
            present = np.unique(lab)
        else:
            present = np.flatnonzero(np.bincount(lab.ravel().astype(np.intp, copy=False)))
        bad = sorted(set(present.tolist()) - allowed)
        if bad:
            raise ClassCodeError(
                f"`{name}` holds class codes {bad[:10]} that are not in `classes`={list(classes)} (or 0 = no "
                "label); windows would not count them. Recode the labels, or pass the codes you use as `classes=`"
            )
    return lab


def check_edge(edge: Any) -> str:
    """Return ``edge`` after checking it is one of :data:`EDGE_POLICIES`."""
    if edge not in EDGE_POLICIES:
        raise InvalidParameterError(f"`edge` must be one of {list(EDGE_POLICIES)}, got {edge!r}")
    return str(edge)


def check_classes(classes: Any) -> tuple[int, ...]:
    """Return ``classes`` as a tuple of distinct class codes 0..255 (a class scheme's codes, in channel order).

    The lakes' and buildings' codes are in :data:`KNOWN_CODES`; a user's own scheme
    (:meth:`geonb.classes.ClassScheme.from_names`) may use any codes 1..255.
    """
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise InvalidParameterError(f"`classes` must be a sequence of class codes, got {classes!r}")
    vals = list(classes)
    if any(isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)) for c in vals):
        raise InvalidParameterError(f"`classes` must be a sequence of integer class codes, got {classes!r}")
    classes = tuple(int(c) for c in vals)
    if not classes or len(set(classes)) != len(classes):
        raise InvalidParameterError(f"`classes` must be distinct class codes, got {list(classes)}")
    bad = [c for c in classes if not 0 <= c <= 255]
    if bad:
        raise ClassCodeError(
            f"`classes` holds codes {bad} outside 0..255 (label rasters are uint8); geonb's codes are "
            f"{list(KNOWN_CODES)} (WATER=1, LAND=2, UNCLASSIFIED=3; buildings BACKGROUND=0, BUILDING=1, BORDER=2), "
            "a class scheme of your own numbers its classes 1, 2, 3..."
        )
    return classes


# -------------------------------------------------------------------------------------------
# Windows (pure arithmetic)
# -------------------------------------------------------------------------------------------
def axis_offsets(n: int, size: int, stride: int, edge: str = "drop") -> np.ndarray:
    """Start offsets of the windows along one axis of length ``n``.

    Examples
    --------
    >>> axis_offsets(38, 16, 16, "drop").tolist()
    [0, 16]
    >>> axis_offsets(38, 16, 16, "shift").tolist()
    [0, 16, 22]
    >>> axis_offsets(38, 16, 16, "pad").tolist()
    [0, 16, 32]
    """
    if edge == "pad":
        return np.arange(_axis_count(n, size, stride, edge), dtype=np.int64) * stride
    if n < size:
        return np.zeros(0, dtype=np.int64)
    offs = np.arange((n - size) // stride + 1, dtype=np.int64) * stride
    if edge == "shift" and offs[-1] + size < n:
        offs = np.append(offs, n - size)
    return offs


def _axis_count(n: int, size: int, stride: int, edge: str) -> int:
    if edge == "pad":  # reach the far edge; with stride > size no window may start past it
        return 1 if n <= size else min(-(-(n - size) // stride) + 1, -(-n // stride))
    if n < size:
        return 0
    k = (n - size) // stride + 1
    if edge == "shift" and (k - 1) * stride + size < n:
        k += 1
    return k


def count_windows(shape: tuple[int, int], size: int, stride: int | None = None, edge: str = "drop") -> int:
    """Number of windows :func:`grid_windows` gives, without building them.

    Examples
    --------
    >>> count_windows((38, 36), 16)
    4
    >>> count_windows((38, 36), 16, stride=8)
    9
    >>> count_windows((12, 28), 16)
    0
    """
    rows, cols = check_shape(shape)
    size = check_size(size)
    stride = check_stride(stride, size)
    edge = check_edge(edge)
    return _axis_count(rows, size, stride, edge) * _axis_count(cols, size, stride, edge)


def _axis_covered(n: int, offsets: np.ndarray, size: int) -> int:
    """Pixels ``0..n-1`` covered by at least one window of the given offsets."""
    if offsets.size == 0:
        return 0
    cover = np.zeros(n + 1, dtype=np.int64)
    np.add.at(cover, np.minimum(offsets, n), 1)
    np.add.at(cover, np.minimum(offsets + size, n), -1)
    return int(np.count_nonzero(np.cumsum(cover[:n])))


@dataclass(frozen=True)
class WindowGrid:
    """The ``size x size`` windows of a ``(rows, cols)`` grid: a product of row and column offsets.

    Attributes
    ----------
    shape : (int, int)
        The scene grid ``(rows, cols)``.
    size, stride : int
        Window side and step, in pixels.
    edge : str
        Edge policy (``"drop"``, ``"pad"``, ``"shift"``).
    row_offsets, col_offsets : ndarray of int64
        Window starts along each axis; windows are every (row, col) combination, row-major.
    """

    shape: tuple[int, int]
    size: int
    stride: int
    edge: str
    row_offsets: np.ndarray
    col_offsets: np.ndarray

    def __len__(self) -> int:
        return int(self.row_offsets.size * self.col_offsets.size)

    @property
    def grid_shape(self) -> tuple[int, int]:
        """Windows per axis ``(n_rows, n_cols)``."""
        return int(self.row_offsets.size), int(self.col_offsets.size)

    @property
    def windows(self) -> np.ndarray:
        """``(n, 4)`` int64 array of ``(row_off, col_off, height, width)``, row-major.

        With ``edge="pad"`` the last windows may reach past the scene (into the padding).
        """
        r, c = np.meshgrid(self.row_offsets, self.col_offsets, indexing="ij")
        n = len(self)
        out = np.empty((n, 4), dtype=np.int64)
        out[:, 0] = r.ravel()
        out[:, 1] = c.ravel()
        out[:, 2:] = self.size
        return out

    @property
    def padded_shape(self) -> tuple[int, int]:
        """The grid after padding: ``shape`` unless ``edge="pad"`` needs more."""
        rows, cols = self.shape
        if len(self) == 0:
            return rows, cols
        return (max(rows, int(self.row_offsets[-1]) + self.size),
                max(cols, int(self.col_offsets[-1]) + self.size))

    @property
    def padded_pixels(self) -> int:
        """Pixels of padding added around the scene (0 unless ``edge="pad"``)."""
        pr, pc = self.padded_shape
        return pr * pc - self.shape[0] * self.shape[1]

    @property
    def covered_pixels(self) -> int:
        """Scene pixels inside at least one window."""
        return (_axis_covered(self.shape[0], self.row_offsets, self.size)
                * _axis_covered(self.shape[1], self.col_offsets, self.size))

    @property
    def dropped_pixels(self) -> int:
        """Scene pixels inside no window (the study's discarded edge pixels)."""
        return self.shape[0] * self.shape[1] - self.covered_pixels

    def coverage(self) -> np.ndarray:
        """``(rows, cols)`` int array: how many windows cover each scene pixel."""
        rows, cols = self.shape
        cr = np.zeros(rows + 1, dtype=np.int64)
        cc = np.zeros(cols + 1, dtype=np.int64)
        np.add.at(cr, np.minimum(self.row_offsets, rows), 1)
        np.add.at(cr, np.minimum(self.row_offsets + self.size, rows), -1)
        np.add.at(cc, np.minimum(self.col_offsets, cols), 1)
        np.add.at(cc, np.minimum(self.col_offsets + self.size, cols), -1)
        return np.outer(np.cumsum(cr[:rows]), np.cumsum(cc[:cols]))

    def to_rasterio(self) -> list[Window]:
        """The windows as :class:`rasterio.windows.Window` objects (for windowed reads)."""
        from rasterio.windows import Window

        return [Window(int(c), int(r), int(w), int(h)) for r, c, h, w in self.windows]

    def __iter__(self) -> Iterator[tuple[int, int, int, int]]:
        for r, c, h, w in self.windows:
            yield int(r), int(c), int(h), int(w)


def grid_windows(shape: tuple[int, int], size: int, stride: int | None = None,
                 edge: str = "drop") -> WindowGrid:
    """The ``size x size`` windows of a ``(rows, cols)`` grid.

    Pure arithmetic: no pixels are read. The same windows serve extraction, prediction
    (:func:`stitch_patches`) and drawing.

    Parameters
    ----------
    shape : (int, int)
        Scene grid ``(rows, cols)``.
    size : int
        Window side in pixels, >= 2.
    stride : int, optional
        Step between window starts; default ``size`` (no overlap, the study's setting).
        ``size // 2`` gives 50% overlap.
    edge : {"drop", "pad", "shift"}
        What happens at the far edges (see the module docstring).

    Returns
    -------
    WindowGrid
        ``.windows`` is an ``(n, 4)`` array of ``(row_off, col_off, height, width)``;
        ``.dropped_pixels`` counts scene pixels no window covers.

    Examples
    --------
    >>> g = grid_windows((38, 36), 16)
    >>> len(g), g.dropped_pixels
    (4, 344)
    >>> g.windows[:2].tolist()
    [[0, 0, 16, 16], [0, 16, 16, 16]]
    >>> len(grid_windows((38, 36), 16, edge="shift")), grid_windows((38, 36), 16, edge="shift").dropped_pixels
    (9, 0)

    A grid smaller than ``size`` has no window with ``edge="drop"`` or ``"shift"``: the result is
    empty and says so (every pixel in ``dropped_pixels``); ``edge="pad"`` gives one padded window.

    >>> g = grid_windows((12, 28), 16)
    >>> len(g), g.dropped_pixels
    (0, 336)
    """
    rows, cols = check_shape(shape)
    size = check_size(size)
    stride = check_stride(stride, size)
    edge = check_edge(edge)
    return WindowGrid((rows, cols), size, stride, edge,
                      axis_offsets(rows, size, stride, edge), axis_offsets(cols, size, stride, edge))


# -------------------------------------------------------------------------------------------
# Class counts per window (summed-area tables over the label raster)
# -------------------------------------------------------------------------------------------
def _pad_to(array: np.ndarray, shape: tuple[int, int], fill) -> np.ndarray:
    pr, pc = shape[0] - array.shape[0], shape[1] - array.shape[1]
    if pr == 0 and pc == 0:
        return array
    widths = [(0, pr), (0, pc)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, widths, mode="constant", constant_values=fill)


def window_class_counts(labels: np.ndarray, grid: WindowGrid,
                        classes: Sequence[int] = LAKE_CLASSES) -> np.ndarray:
    """Pixels of each class inside each window, from summed-area tables (no patch copies).

    Parameters
    ----------
    labels : ndarray of uint8, shape (rows, cols)
        Class codes on the grid of ``grid.shape``.
    grid : WindowGrid
    classes : sequence of int
        Codes to count, in column order. Padding counts as ``NODATA``.

    Returns
    -------
    ndarray of int64, shape (len(grid), len(classes))
    """
    labels = np.asarray(labels)
    if labels.shape != grid.shape:
        raise ShapeMismatchError(f"`labels` has shape {labels.shape} but the window grid is {grid.shape}")
    classes = check_classes(classes)
    labels = _label_codes(labels, classes, "labels")
    if len(grid) == 0:
        return np.zeros((0, len(classes)), dtype=np.int64)
    lab = _pad_to(labels, grid.padded_shape, NODATA)
    onehot = lab[:, :, None] == np.asarray(classes, dtype=lab.dtype)[None, None, :]
    sat = np.zeros((lab.shape[0] + 1, lab.shape[1] + 1, len(classes)), dtype=np.int64)
    np.cumsum(np.cumsum(onehot, axis=0, dtype=np.int64), axis=1, out=sat[1:, 1:])
    r0 = grid.row_offsets[:, None]
    c0 = grid.col_offsets[None, :]
    r1, c1 = r0 + grid.size, c0 + grid.size
    counts = sat[r1, c1] - sat[r0, c1] - sat[r1, c0] + sat[r0, c0]
    return counts.reshape(len(grid), len(classes))


def single_class_windows(counts: np.ndarray, classes: Sequence[int] = LAKE_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """Which windows the single-class rule prunes, and as which class.

    Parameters
    ----------
    counts : ndarray of int, shape (n, len(classes))
        From :func:`window_class_counts`.

    Returns
    -------
    keep : ndarray of bool, shape (n,)
        True where the window has labelled pixels of at least two classes.
    pruned_as : ndarray of int, shape (n,)
        The single class of a pruned window, ``NODATA`` (0) if it has no labelled pixel,
        -1 for kept windows.
    """
    counts = np.asarray(counts)
    classes = tuple(classes)
    if counts.ndim != 2 or counts.shape[1] != len(classes):
        raise ShapeMismatchError(
            f"`counts` must have shape (n, {len(classes)}) (one column per code of `classes`={list(classes)}), "
            f"got {counts.shape}; use window_class_counts(labels, grid, classes) with the same `classes`")
    present = counts > 0
    n_present = present.sum(axis=1)
    keep = n_present >= 2
    codes = np.asarray(classes, dtype=np.int64)
    only = codes[np.argmax(present, axis=1)] if len(present) else np.zeros(0, np.int64)
    pruned_as = np.where(keep, -1, np.where(n_present == 1, only, NODATA))
    return keep, pruned_as


# -------------------------------------------------------------------------------------------
# Counting over label rasters (widgets, the dual-problem chart)
# -------------------------------------------------------------------------------------------
@dataclass
class PatchCounts:
    """What patching a set of scenes gives, counted without copying pixels.

    Attributes
    ----------
    n_scenes, n_too_small : int
        Scenes seen, and those that gave no window.
    n_windows, n_kept : int
        Windows on the grids, and windows kept after pruning.
    pruned : dict[int, int]
        Pruned windows per class code (``NODATA``: no labelled pixel).
    pixels_total : int
        Scene pixels (no padding).
    pixels_used : int
        Scene pixels inside at least one kept window.
    pixels_dropped : int
        Scene pixels inside no window at all (edge policy).
    pixels_pruned : int
        Scene pixels inside windows, but only pruned ones.
    class_pixels : dict[int, int]
        Labelled pixels per class inside kept patches (overlapping patches count each time).
    patch_pixels : int
        ``n_kept * size**2``: what a model sees, padding and overlaps included.
    """

    size: int
    stride: int
    edge: str
    prune_single_class: bool
    classes: tuple[int, ...]
    n_scenes: int = 0
    n_too_small: int = 0
    n_windows: int = 0
    n_kept: int = 0
    pruned: dict[int, int] = field(default_factory=dict)
    pixels_total: int = 0
    pixels_used: int = 0
    pixels_dropped: int = 0
    pixels_pruned: int = 0
    class_pixels: dict[int, int] = field(default_factory=dict)

    @property
    def n_pruned(self) -> int:
        return int(sum(self.pruned.values()))

    @property
    def patch_pixels(self) -> int:
        return self.n_kept * self.size * self.size

    @property
    def pixels_lost(self) -> int:
        """Scene pixels in no kept patch (dropped at the edge plus pruned)."""
        return self.pixels_total - self.pixels_used

    def class_fractions(self) -> dict[int, float]:
        """Fraction of labelled pixels per class inside kept patches."""
        total = sum(self.class_pixels.values())
        return {c: (self.class_pixels.get(c, 0) / total if total else 0.0) for c in self.classes}

    def __add__(self, other: PatchCounts) -> PatchCounts:
        if not isinstance(other, PatchCounts):
            return NotImplemented
        keys = set(self.pruned) | set(other.pruned)
        ckeys = set(self.class_pixels) | set(other.class_pixels)
        return replace(
            self,
            n_scenes=self.n_scenes + other.n_scenes,
            n_too_small=self.n_too_small + other.n_too_small,
            n_windows=self.n_windows + other.n_windows,
            n_kept=self.n_kept + other.n_kept,
            pruned={k: self.pruned.get(k, 0) + other.pruned.get(k, 0) for k in sorted(keys)},
            pixels_total=self.pixels_total + other.pixels_total,
            pixels_used=self.pixels_used + other.pixels_used,
            pixels_dropped=self.pixels_dropped + other.pixels_dropped,
            pixels_pruned=self.pixels_pruned + other.pixels_pruned,
            class_pixels={k: self.class_pixels.get(k, 0) + other.class_pixels.get(k, 0) for k in sorted(ckeys)},
        )

    def as_dict(self) -> dict[str, Any]:
        """Flat dict for a table row (``pandas.DataFrame([c.as_dict() for c in ...])``)."""
        out = {
            "size": self.size, "stride": self.stride, "edge": self.edge,
            "prune_single_class": self.prune_single_class, "scenes": self.n_scenes,
            "too_small": self.n_too_small, "windows": self.n_windows, "patches": self.n_kept,
            "pruned": self.n_pruned, "pixels_total": self.pixels_total, "pixels_used": self.pixels_used,
            "pixels_dropped": self.pixels_dropped, "pixels_pruned": self.pixels_pruned,
            "pixels_lost": self.pixels_lost, "patch_pixels": self.patch_pixels,
        }
        names = LAKE_CLASS_NAMES
        for c, frac in self.class_fractions().items():
            out[f"fraction_{names.get(c, c)}"] = frac
        return out


@dataclass(frozen=True)
class SceneWindows:
    """The windows of one scene with their pruning status (what a widget draws)."""

    grid: WindowGrid
    counts: np.ndarray  #: (n, len(classes)) labelled pixels per class per window
    keep: np.ndarray  #: (n,) bool
    pruned_as: np.ndarray  #: (n,) class code of a pruned window, -1 if kept
    summary: PatchCounts

    @property
    def windows(self) -> np.ndarray:
        return self.grid.windows


def scene_windows(labels: np.ndarray, size: int, stride: int | None = None, edge: str = "drop",
                  prune_single_class: bool = False, classes: Sequence[int] = LAKE_CLASSES) -> SceneWindows:
    """Windows of one label raster, which ones pruning keeps, and the counts.

    Parameters
    ----------
    labels : ndarray of uint8, shape (rows, cols)
    size, stride, edge
        As in :func:`grid_windows`.
    prune_single_class : bool
        Apply the study's rule (see the module docstring).
    classes : sequence of int

    Returns
    -------
    SceneWindows
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ShapeMismatchError(f"`labels` must have shape (rows, cols), got {labels.shape}")
    classes = check_classes(classes)
    labels = _label_codes(labels, classes, "labels")
    grid = grid_windows(labels.shape, size, stride, edge)
    counts = window_class_counts(labels, grid, classes)
    if prune_single_class:
        keep, pruned_as = single_class_windows(counts, classes)
    else:
        keep = np.ones(len(grid), dtype=bool)
        pruned_as = np.full(len(grid), -1, dtype=np.int64)
    rows, cols = grid.shape
    covered = grid.covered_pixels
    if keep.all():
        used = covered
    else:
        # coverage of kept windows only: 2-D difference array, then cumulative sums
        cover = np.zeros((rows + 1, cols + 1), dtype=np.int64)
        w = grid.windows[keep]
        r0, c0 = np.minimum(w[:, 0], rows), np.minimum(w[:, 1], cols)
        r1, c1 = np.minimum(w[:, 0] + grid.size, rows), np.minimum(w[:, 1] + grid.size, cols)
        np.add.at(cover, (r0, c0), 1)
        np.add.at(cover, (r0, c1), -1)
        np.add.at(cover, (r1, c0), -1)
        np.add.at(cover, (r1, c1), 1)
        used = int(np.count_nonzero(np.cumsum(np.cumsum(cover, axis=0), axis=1)[:rows, :cols]))
    pruned_codes, pruned_n = np.unique(pruned_as[~keep], return_counts=True)
    class_sum = counts[keep].sum(axis=0)
    summary = PatchCounts(
        size=grid.size, stride=grid.stride, edge=grid.edge, prune_single_class=bool(prune_single_class),
        classes=classes, n_scenes=1, n_too_small=int(len(grid) == 0), n_windows=len(grid),
        n_kept=int(keep.sum()), pruned={int(c): int(n) for c, n in zip(pruned_codes, pruned_n, strict=True)},
        pixels_total=rows * cols, pixels_used=used, pixels_dropped=rows * cols - covered,
        pixels_pruned=covered - used,
        class_pixels={c: int(n) for c, n in zip(classes, class_sum, strict=True)},
    )
    return SceneWindows(grid, counts, keep, pruned_as, summary)


def count_patches(labels: Iterable[np.ndarray], size: int, stride: int | None = None, edge: str = "drop",
                  prune_single_class: bool = False, classes: Sequence[int] = LAKE_CLASSES) -> PatchCounts:
    """Count the patches a set of label rasters gives, without extracting pixels.

    Parameters
    ----------
    labels : iterable of ndarray (rows, cols)
        One label raster per scene.
    size, stride, edge, prune_single_class, classes
        As in :func:`extract_patches`.

    Returns
    -------
    PatchCounts
        Totals over the scenes.

    Examples
    --------
    >>> lab = np.full((40, 40), 2, dtype=np.uint8); lab[:10, :10] = 1
    >>> c = count_patches([lab], 16, prune_single_class=True)
    >>> c.n_windows, c.n_kept, c.pruned
    (4, 1, {2: 3})
    """
    size = check_size(size)
    stride = check_stride(stride, size)
    edge = check_edge(edge)
    classes = check_classes(classes)
    if isinstance(labels, np.ndarray) and labels.ndim == 2:  # iterating it would give its rows
        raise ShapeMismatchError(
            f"`labels` is one label raster of shape {labels.shape}; pass a list of label rasters, e.g. [labels]")
    if hasattr(labels, "labels") and hasattr(labels, "image"):
        raise InvalidParameterError("`labels` is a Scene; pass its label raster in a list: `[scene.labels]`")
    labels = [np.asarray(lab) for lab in labels]
    for k, lab in enumerate(labels):
        if lab.ndim != 2:
            raise ShapeMismatchError(
                f"label raster {k} must have shape (rows, cols), got {lab.shape}; `labels` is a list of "
                "label rasters, e.g. [scene.labels for scene in scenes]")
        if 0 in lab.shape:
            raise ShapeMismatchError(f"label raster {k} is empty (shape {lab.shape})")
    labels = [_label_codes(lab, classes, f"label raster {k}") for k, lab in enumerate(labels)]
    if not labels:
        return PatchCounts(size, stride, edge, bool(prune_single_class), classes)
    shapes = np.asarray([lab.shape for lab in labels], dtype=np.int64)
    batch = _batch_windows(shapes, size, stride, edge)
    flat = np.concatenate([lab.reshape(-1) for lab in labels] + [np.array([NODATA], np.result_type(*labels))])
    n = len(batch.scene)
    gidx = batch.gather_index()
    counts = _classify(flat, gidx, classes)
    covered = int(batch.covered.sum())
    if prune_single_class:
        keep, pruned_as = single_class_windows(counts, classes)
        codes, n_pruned = np.unique(pruned_as[~keep], return_counts=True)
        pruned = {int(c): int(k) for c, k in zip(codes, n_pruned, strict=True)}
        hits = np.bincount(gidx[keep].ravel(), minlength=batch.total + 1)[: batch.total]
        used = int(np.count_nonzero(hits))
    else:
        keep = np.ones(n, dtype=bool)
        pruned = {}
        used = covered
    return PatchCounts(
        size=size, stride=stride, edge=edge, prune_single_class=bool(prune_single_class), classes=classes,
        n_scenes=len(labels), n_too_small=int(np.count_nonzero(batch.n_windows == 0)), n_windows=n,
        n_kept=int(keep.sum()), pruned=pruned, pixels_total=batch.total, pixels_used=used,
        pixels_dropped=batch.total - covered, pixels_pruned=covered - used,
        class_pixels={c: int(v) for c, v in zip(classes, counts[keep].sum(axis=0), strict=True)},
    )


# -------------------------------------------------------------------------------------------
# Extraction
# -------------------------------------------------------------------------------------------
def _scene_id(scene: Scene, i: int) -> str:
    props = getattr(scene, "properties", None) or {}
    return str(props.get("id") or scene.name or f"scene_{i}")


def _array_scene(a: np.ndarray, i: int) -> Scene:
    """A plain image array ``(rows, cols, bands)`` as an unlabelled Scene (its checks included)."""
    from geonb.scene import Scene

    if a.ndim != 3:
        raise ShapeMismatchError(
            f"`scenes` item {i} is an array of shape {a.shape}; an image array must be (rows, cols, bands) "
            "(one band: `a[..., None]`). To give labels or a nodata mask, pass "
            "`geonb.scene.Scene(image, labels, nodata_mask=...)`"
        )
    if a.dtype.kind not in "uif":
        raise InvalidParameterError(f"`scenes` item {i} has dtype {a.dtype}; an image holds numbers")
    if a.shape[0] < a.shape[2] and a.shape[0] <= 16 < a.shape[1]:
        raise ShapeMismatchError(
            f"`scenes` item {i} has shape {a.shape}: {a.shape[0]} rows and {a.shape[2]} bands looks like "
            "rasterio's (bands, rows, cols). geonb images are (rows, cols, bands): pass np.moveaxis(a, 0, -1)")
    return Scene(a, name=f"array_{i}")


def _iter_scenes(scenes: Any) -> Iterator[Scene]:
    if hasattr(scenes, "image") and hasattr(scenes, "band_names"):  # a single Scene
        yield scenes
        return
    if isinstance(scenes, np.ndarray):  # one image array
        yield _array_scene(scenes, 0)
        return
    if hasattr(scenes, "scenes") and callable(scenes.scenes):  # a LakeDataset
        yield from scenes.scenes()
        return
    try:
        it = iter(scenes)
    except TypeError as exc:
        raise InvalidParameterError(
            f"`scenes` must be a Scene, a list of Scenes, a LakeDataset or an image array (rows, cols, bands), "
            f"got {type(scenes).__name__}"
        ) from exc
    for i, item in enumerate(it):
        if isinstance(item, np.ndarray):
            yield _array_scene(item, i)
        elif hasattr(item, "image") and hasattr(item, "band_names") and hasattr(item, "nodata_mask"):
            yield item
        else:
            raise InvalidParameterError(
                f"`scenes` item {i} is a {type(item).__name__}, not a Scene or an image array (rows, cols, bands)"
            )


@dataclass
class PatchSet:
    """Patches of one or more scenes, each traceable to its scene and window.

    Attributes
    ----------
    images : ndarray of float32, shape (n, size, size, bands)
    labels : ndarray of uint8, shape (n, size, size), or None
        Class codes; ``NODATA`` in padding. ``None`` when the scenes had no labels.
    nodata : ndarray of bool, shape (n, size, size)
        True where the image has no data (scene nodata or padding).
    lake_ids : ndarray of str, shape (n,)
        The scene each patch comes from (``scene.properties["id"]``, else its name).
    windows : ndarray of int64, shape (n, 4)
        ``(row_off, col_off, height, width)`` on that scene's grid.
    band_names : tuple of str
    size, stride : int
    edge : str
    classes : tuple of int
        One-hot channel order of :attr:`targets`.
    pruned : dict[int, int]
        Windows pruned per class code (``NODATA``: no labelled pixel).
    dropped_pixels : int
        Scene pixels that no window covered.
    too_small : list of str
        Scenes that gave no window (smaller than ``size`` with ``edge`` "drop"/"shift").
    scene_shapes : dict[str, (int, int)]
        Grid of every scene seen, for :meth:`stitch`.
    """

    images: np.ndarray
    labels: np.ndarray | None
    nodata: np.ndarray
    lake_ids: np.ndarray
    windows: np.ndarray
    band_names: tuple[str, ...]
    size: int
    stride: int
    edge: str = "drop"
    classes: tuple[int, ...] = LAKE_CLASSES
    pruned: dict[int, int] = field(default_factory=dict)
    dropped_pixels: int = 0
    too_small: list[str] = field(default_factory=list)
    scene_shapes: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __repr__(self) -> str:
        n_scenes = len(np.unique(self.lake_ids))
        return (f"PatchSet({len(self)} patches of {self.size}x{self.size} px x {len(self.band_names)} bands "
                f"from {n_scenes} scenes, stride={self.stride}, edge={self.edge!r}, "
                f"pruned={sum(self.pruned.values())}, too_small={len(self.too_small)})")

    @property
    def targets(self) -> np.ndarray:
        """One-hot labels ``(n, size, size, len(classes))`` float32; unlabelled pixels are all-zero."""
        if self.labels is None:
            raise InvalidParameterError("this PatchSet has no labels (its scenes had none), so no targets")
        return one_hot(self.labels, self.classes)

    @property
    def n_pruned(self) -> int:
        return int(sum(self.pruned.values()))

    def select_bands(self, bands: Sequence[str]) -> PatchSet:
        """A PatchSet with only ``bands`` (by name, in that order), e.g. ``("red", "green", "blue")``."""
        bands = (bands,) if isinstance(bands, str) else tuple(bands)
        idx = band_indices(bands, self.band_names)
        return replace(self, images=self.images[..., idx], band_names=bands)

    def subset(self, mask: np.ndarray | Sequence[int] | Sequence[bool]) -> PatchSet:
        """The patches selected by a boolean mask ``(n,)`` or an index array."""
        mask = np.asarray(mask)
        if mask.dtype == bool and mask.shape != (len(self),):
            raise ShapeMismatchError(f"boolean `mask` must have shape ({len(self)},), got {mask.shape}")
        ids = np.unique(self.lake_ids[mask])
        return replace(
            self, images=self.images[mask], labels=None if self.labels is None else self.labels[mask],
            nodata=self.nodata[mask], lake_ids=self.lake_ids[mask], windows=self.windows[mask],
            scene_shapes={k: v for k, v in self.scene_shapes.items() if k in set(ids.tolist())},
        )

    def for_scene(self, lake_id: str) -> PatchSet:
        """The patches of one scene."""
        if lake_id not in self.scene_shapes:
            raise InvalidParameterError(
                f"`lake_id` {lake_id!r} is not in this PatchSet; it holds {sorted(self.scene_shapes)[:5]}..."
            )
        return self.subset(self.lake_ids == lake_id)

    def class_balance(self) -> pd.DataFrame:
        """Labelled pixels per class in the patches: columns ``pixels`` and ``fraction``."""
        import pandas as pd

        if self.labels is None:
            raise InvalidParameterError("this PatchSet has no labels, so no class balance")
        counts = np.bincount(self.labels.ravel(), minlength=256)
        pixels = [int(counts[c]) for c in self.classes]
        total = sum(pixels)
        return pd.DataFrame(
            {"pixels": pixels, "fraction": [p / total if total else 0.0 for p in pixels]},
            index=pd.Index([LAKE_CLASS_NAMES.get(c, str(c)) for c in self.classes], name="class"),
        )

    def stitch(self, values: np.ndarray, lake_id: str) -> np.ndarray:
        """Put per-patch ``values`` ``(n, size, size[, k])`` of one scene back on its grid.

        ``values`` holds one entry per patch of this PatchSet (all scenes); only the patches of
        ``lake_id`` are used. See :func:`stitch_patches`.
        """
        values = np.asarray(values)
        if values.shape[0] != len(self):
            raise ShapeMismatchError(f"`values` has {values.shape[0]} patches, this PatchSet has {len(self)}")
        if lake_id not in self.scene_shapes:
            raise InvalidParameterError(f"`lake_id` {lake_id!r} is not in this PatchSet")
        sel = self.lake_ids == lake_id
        return stitch_patches(values[sel], self.windows[sel], self.scene_shapes[lake_id], self.edge)


# -------------------------------------------------------------------------------------------
# Batched windows over many scenes (one flat pixel array, one gather)
# -------------------------------------------------------------------------------------------
def _axis_counts(n: np.ndarray, size: int, stride: int, edge: str) -> np.ndarray:
    """Vectorised :func:`_axis_count` over axis lengths ``n``."""
    n = np.asarray(n, dtype=np.int64)
    if edge == "pad":
        return np.where(n <= size, 1, np.minimum(-(-(n - size) // stride) + 1, -(-n // stride)))
    k = np.where(n >= size, (n - size) // stride + 1, 0)
    if edge == "shift":
        k = k + ((k > 0) & ((k - 1) * stride + size < n))
    return k


def _axis_covered_v(n: np.ndarray, k: np.ndarray, size: int, stride: int, edge: str) -> np.ndarray:
    """Pixels of axes of lengths ``n`` covered by their ``k`` windows (vectorised, any stride)."""
    n = np.asarray(n, dtype=np.int64)
    last = (k - 1) * stride
    if edge == "shift":
        last = np.minimum(last, n - size)
    step_last = last - (k - 2) * stride  # distance between the last two windows
    span = np.where(k >= 2, size + np.maximum(k - 2, 0) * min(size, stride) + np.minimum(size, step_last), size)
    span = span - np.maximum(last + size - n, 0)  # padding is not scene
    return np.where(k > 0, span, 0)


@dataclass(frozen=True)
class _Batch:
    """Windows of many scenes at once, as flat arrays."""

    shapes: np.ndarray  # (m, 2)
    starts: np.ndarray  # (m,) first pixel of each scene in the flat arrays
    scene: np.ndarray  # (n,) scene index of each window
    row_off: np.ndarray  # (n,)
    col_off: np.ndarray  # (n,)
    n_windows: np.ndarray  # (m,)
    covered: np.ndarray  # (m,) scene pixels inside at least one window
    size: int
    edge: str

    @property
    def total(self) -> int:
        return int(self.shapes[:, 0] @ self.shapes[:, 1])

    def gather_index(self, sel: np.ndarray | slice = slice(None), local: bool = False) -> np.ndarray:
        """Pixel index ``(n, size, size)`` of each window in the flat pixel array of all scenes.

        With ``local=True`` the index is within each window's own scene (``rows * cols`` pixels).
        With ``edge="pad"`` pixels in the padding point at ``total`` (global) or 0 (local): mask
        them with :meth:`inside`.
        """
        scene, r, c = self.scene[sel], self.row_off[sel], self.col_off[sel]
        d = np.arange(self.size)
        ncols = self.shapes[scene, 1]
        base = r * ncols + c
        if not local:
            base = base + self.starts[scene]
        idx = d[None, :, None] * ncols[:, None, None] + d[None, None, :]
        idx += base[:, None, None]
        if self.edge == "pad":
            idx = np.where(self.inside(sel), idx, 0 if local else self.total)
        return idx

    def inside(self, sel: np.ndarray | slice = slice(None)) -> np.ndarray:
        """``(n, size, size)`` bool: True where a window pixel lies on its scene (False in padding)."""
        scene, r, c = self.scene[sel], self.row_off[sel], self.col_off[sel]
        d = np.arange(self.size)
        rows_ok = (r[:, None] + d[None, :]) < self.shapes[scene, 0][:, None]
        cols_ok = (c[:, None] + d[None, :]) < self.shapes[scene, 1][:, None]
        return rows_ok[:, :, None] & cols_ok[:, None, :]


def _batch_windows(shapes: np.ndarray, size: int, stride: int, edge: str) -> _Batch:
    shapes = np.asarray(shapes, dtype=np.int64).reshape(-1, 2)
    rows, cols = shapes[:, 0], shapes[:, 1]
    nr, nc = _axis_counts(rows, size, stride, edge), _axis_counts(cols, size, stride, edge)
    n = nr * nc
    scene = np.repeat(np.arange(len(shapes)), n)
    j = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    ncs = nc[scene]
    r = (j // np.maximum(ncs, 1)) * stride
    c = (j % np.maximum(ncs, 1)) * stride
    if edge == "shift":
        r = np.minimum(r, rows[scene] - size)
        c = np.minimum(c, cols[scene] - size)
    covered = _axis_covered_v(rows, nr, size, stride, edge) * _axis_covered_v(cols, nc, size, stride, edge)
    starts = np.cumsum(rows * cols) - rows * cols
    return _Batch(shapes, starts, scene, r, c, n, covered, size, edge)


def _classify(flat_labels: np.ndarray, idx: np.ndarray, classes: tuple[int, ...]) -> np.ndarray:
    """Labelled pixels per class ``(n, len(classes))`` of the windows gathered by ``idx``."""
    lab = flat_labels[idx.reshape(len(idx), idx[0].size if len(idx) else 0)]
    counts = np.empty((len(idx), len(classes)), dtype=np.int64)
    for j, c in enumerate(classes):  # a few classes: one vectorised pass each
        counts[:, j] = np.count_nonzero(lab == c, axis=1)
    return counts


def extract_patches(scenes: Any, size: int, stride: int | None = None, edge: str = "drop",
                    prune_single_class: bool = False, bands: Sequence[str] | None = None,
                    classes: Sequence[int] = LAKE_CLASSES, *, min_labelled: int = 0) -> PatchSet:
    """Cut ``size x size`` patches out of scenes.

    Vectorised over all scenes: the windows of every scene are computed at once, the pixels
    are laid out in one flat array, and the patches come out of one gather (no Python loop per
    patch, no growing arrays). Memory: about twice the scene pixels plus the patches
    (``n * size**2 * bands * 4`` bytes; with 50% overlap that is 4x the scene pixels).

    Parameters
    ----------
    scenes : Scene, iterable of Scene, LakeDataset, or image array(s) (rows, cols, bands)
        Labels may be absent (``None``) on every scene (prediction), not on some only. A plain
        array becomes an unlabelled :class:`~geonb.scene.Scene` (bands-first arrays are refused
        there); wrap it yourself to give labels or a nodata mask. Image values under a scene's
        ``nodata_mask`` are 0 in the patches; NaN/inf outside it is an error.
    size : int
        Patch side in pixels, >= 2. Patches are exactly ``size x size``.
    stride : int, optional
        Default ``size`` (no overlap); ``size // 2`` for 50% overlap.
    edge : {"drop", "pad", "shift"}
        Edge policy (module docstring).
    prune_single_class : bool
        Drop patches whose labelled pixels are of a single class, or that have none.
    bands : sequence of str, optional
        Band names to keep, in that order (default all).
    classes : sequence of int
        Class codes in one-hot order (:attr:`PatchSet.targets`).
    min_labelled : int
        Keep only windows holding at least this many labelled pixels (1: every window that holds a
        labelled pixel, for sparse labels such as training polygons); the others are counted in
        ``pruned[0]``. 0 (default) keeps every window.

    Returns
    -------
    PatchSet

    Raises
    ------
    InvalidParameterError
        Bad ``size``/``stride``/``edge``; ``size`` larger than every scene; no scenes; NaN/inf
        image values outside the nodata mask.
    ShapeMismatchError
        An image array that is not (rows, cols, bands) (e.g. rasterio's bands-first order).
    ClassCodeError
        ``classes`` has unknown codes; a scene's labels hold codes outside ``classes``, or no
        labelled pixel at all.
    BandMismatchError
        A name in ``bands`` is not a band of the scenes.

    Examples
    --------
    >>> from geonb.scene import Scene
    >>> img = np.zeros((38, 36, 7), np.float32); lab = np.full((38, 36), 2, np.uint8); lab[:5] = 1
    >>> ps = extract_patches(Scene(img, lab, name="lake"), 16)
    >>> ps.images.shape, ps.labels.shape, ps.targets.shape, ps.dropped_pixels
    ((4, 16, 16, 7), (4, 16, 16), (4, 16, 16, 3), 344)
    """
    if isinstance(min_labelled, bool) or not isinstance(min_labelled, (int, np.integer)) or min_labelled < 0:
        raise InvalidParameterError(
            f"`min_labelled` must be an int >= 0 (labelled pixels per window), got {min_labelled!r}"
        )
    size = check_size(size)
    stride = check_stride(stride, size)
    edge = check_edge(edge)
    classes = check_classes(classes)
    allowed = tuple(sorted({NODATA, *classes}))
    if isinstance(bands, str):
        bands = (bands,)

    ids: list[str] = []
    shapes: list[tuple[int, int]] = []
    images, labels, masks = [], [], []
    band_names: tuple[str, ...] | None = None
    has_labels: bool | None = None
    for i, scene in enumerate(_iter_scenes(scenes)):
        sid = _scene_id(scene, i)
        names = tuple(scene.band_names)
        idx = None
        if bands is not None:
            idx = band_indices(tuple(bands), names)
            names = tuple(names[j] for j in idx)
        if band_names is None:
            band_names = names
        elif names != band_names:
            raise InvalidParameterError(
                f"scene {sid!r} has bands {names}, earlier scenes {band_names}; pass `bands=` to pick common bands"
            )
        if has_labels is None:
            has_labels = scene.labels is not None
        elif has_labels != (scene.labels is not None):
            raise InvalidParameterError(
                f"scene {sid!r} {'has no' if has_labels else 'has'} labels unlike earlier scenes; "
                "give scenes that all have labels, or none"
            )
        image = np.asarray(scene.image)
        mask = np.asarray(scene.nodata_mask, dtype=bool)
        if image.ndim != 3 or mask.shape != image.shape[:2]:
            raise ShapeMismatchError(
                f"scene {sid!r}: image {image.shape} must be (rows, cols, bands) with a nodata_mask of its grid, "
                f"got a mask of shape {mask.shape}")
        if has_labels and np.asarray(scene.labels).shape != image.shape[:2]:
            raise ShapeMismatchError(
                f"scene {sid!r}: labels {np.asarray(scene.labels).shape} are not on the image grid {image.shape[:2]}")
        ids.append(sid)
        shapes.append(tuple(int(v) for v in image.shape[:2]))
        if idx is not None:
            image = image[:, :, idx]
        images.append(image.reshape(-1, len(names)))
        masks.append(mask.reshape(-1))
        if has_labels:
            codes = _label_codes(scene.labels, classes, f"labels of scene {sid!r}")
            labels.append(codes.astype(np.uint8, copy=False).reshape(-1))
    if not ids:
        raise InvalidParameterError("`scenes` is empty: give at least one Scene")
    if len(set(ids)) != len(ids):
        dup = next(s for s in ids if ids.count(s) > 1)
        raise CatalogError(f"two scenes share the id {dup!r}; patches must trace back to one scene")
    shape_arr = np.asarray(shapes, dtype=np.int64)
    batch = _batch_windows(shape_arr, size, stride, edge)
    if not batch.n_windows.any():
        short = int(shape_arr.min(axis=1).max())
        raise InvalidParameterError(
            f"`size`={size} is larger than every scene (the largest scene's short side is {short} px); "
            f"choose size <= {short}"
        )
    flat_labels = None
    if has_labels:
        flat_labels = np.concatenate(labels + [np.array([NODATA], np.uint8)])
        _check_flat_labels(flat_labels, batch, ids, allowed, classes)

    sel: np.ndarray | slice = slice(None)
    pruned: dict[int, int] = {}
    if has_labels and (prune_single_class or min_labelled):
        counts = _classify(flat_labels, batch.gather_index(), classes)
        keep = np.ones(len(counts), dtype=bool)
        if prune_single_class:
            keep, pruned_as = single_class_windows(counts, classes)
            codes, n_pruned = np.unique(pruned_as[~keep], return_counts=True)
            pruned = {int(c): int(k) for c, k in zip(codes, n_pruned, strict=True)}
        if min_labelled:
            # sparse labels (training polygons): a window without labelled pixels carries no loss
            few = keep & (counts.sum(axis=1) < min_labelled)
            if few.any():
                pruned[NODATA] = pruned.get(NODATA, 0) + int(few.sum())
            keep &= ~few
        sel = np.flatnonzero(keep)
    scene_of = batch.scene[sel]
    n = len(scene_of)
    windows = np.empty((n, 4), dtype=np.int64)
    windows[:, 0], windows[:, 1], windows[:, 2:] = batch.row_off[sel], batch.col_off[sel], size
    gidx = batch.gather_index(sel)
    flat_mask = np.concatenate(masks + [np.ones(1, bool)])
    # Image pixels are gathered scene by scene from the scenes' own arrays (no copy of all
    # scenes into one array): one np.take per scene that has windows, into one output array.
    nb = len(band_names or ())
    out = np.empty((n, size, size, nb), dtype=np.float32)
    lidx = batch.gather_index(sel, local=True)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(scene_of, minlength=len(ids)))])
    for k in np.flatnonzero(np.diff(bounds)):
        a, b = bounds[k], bounds[k + 1]
        np.take(images[k], lidx[a:b], axis=0, out=out[a:b], mode="clip")  # indices are valid; clip avoids a buffer
    if edge == "pad":
        out[~batch.inside(sel)] = 0.0
    # NaN/inf must never reach training: under the nodata mask they become 0 (as a Scene holds them);
    # outside it they are an error naming the scene (a Scene's image changed after it was made).
    patch_nodata = flat_mask[gidx]
    bad = ~np.isfinite(out).all(axis=-1)
    if bad.any():
        loose = bad & ~patch_nodata
        if loose.any():
            k = int(np.flatnonzero(loose.any(axis=(1, 2)))[0])
            raise InvalidParameterError(
                f"scene {ids[scene_of[k]]!r} has NaN/inf image values outside its `nodata_mask` (e.g. in the window "
                f"at row {windows[k, 0]}, col {windows[k, 1]}); mark them as nodata, e.g. "
                "`Scene(image, labels, nodata_mask=~np.isfinite(image).all(axis=-1))`")
    out[patch_nodata] = 0.0  # fill values under the mask carry no signal
    too_small = [ids[k] for k in np.flatnonzero(batch.n_windows == 0)]
    if too_small:
        warnings.warn(
            f"{len(too_small)} of {len(ids)} scenes are smaller than {size}x{size} px and gave no patch "
            f"(edge={edge!r}); they are listed in PatchSet.too_small. Use edge='pad' to keep them.",
            stacklevel=2,
        )
    return PatchSet(
        images=out,
        labels=flat_labels[gidx] if has_labels else None,
        nodata=patch_nodata,
        lake_ids=np.asarray(ids, dtype=str)[scene_of],
        windows=windows,
        band_names=band_names or (), size=size, stride=stride, edge=edge, classes=classes,
        pruned=pruned, dropped_pixels=int(batch.total - batch.covered.sum()), too_small=too_small,
        scene_shapes=dict(zip(ids, [tuple(int(v) for v in s) for s in shapes], strict=True)),
    )


def _check_flat_labels(flat_labels: np.ndarray, batch: _Batch, ids: list[str], allowed: tuple[int, ...],
                       classes: tuple[int, ...]) -> None:
    """Class codes valid everywhere, and every scene has a labelled pixel (errors name the scene)."""
    ok = np.zeros(256, dtype=bool)
    ok[list(allowed)] = True
    if not ok[flat_labels].all():
        ends = batch.starts + batch.shapes[:, 0] * batch.shapes[:, 1]
        for sid, a, b in zip(ids, batch.starts, ends, strict=True):
            check_class_codes(flat_labels[a:b], allowed, name=f"labels of scene {sid!r}")
    if NODATA not in classes:
        labelled = np.logical_or.reduceat(flat_labels[:-1] != NODATA, batch.starts)
        empty = np.flatnonzero(~labelled)
        if empty.size:
            raise ClassCodeError(
                f"labels of scene {ids[empty[0]]!r} are all NODATA (0): it has no labelled pixel; "
                "remove it from the scenes, or check its label file"
            )


def patch_dataset(dataset: Any, size: int, stride: int | None = None, edge: str = "drop",
                  prune_single_class: bool = False, bands: Sequence[str] | None = None,
                  classes: Sequence[int] = LAKE_CLASSES,
                  splits: Sequence[str] = ("train", "val", "test")) -> dict[str, PatchSet]:
    """Patches per split of a LakeDataset; lakes are split first, then patched.

    Every patch of a split comes from lakes of that split only, so no lake is seen in training
    and in testing (the study's rule). Arguments as in :func:`extract_patches`.

    Returns
    -------
    dict[str, PatchSet]
        One PatchSet per name in ``splits``.
    """
    if isinstance(splits, str):
        splits = (splits,)
    out: dict[str, PatchSet] = {}
    seen: dict[str, str] = {}
    for split in splits:
        ids = dataset.split_ids(split)
        if not ids:
            raise InvalidParameterError(f"split {split!r} of dataset {getattr(dataset, 'name', '?')!r} has no lakes")
        for lake in ids:
            if lake in seen:
                raise CatalogError(f"lake {lake!r} is in splits {seen[lake]!r} and {split!r}; fix the catalog")
            seen[lake] = split
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # too-small scenes are reported in PatchSet.too_small
            out[split] = extract_patches(dataset.scenes(split), size, stride, edge, prune_single_class,
                                         bands, classes)
    return out


# -------------------------------------------------------------------------------------------
# Stitching
# -------------------------------------------------------------------------------------------
def stitch_patches(values: np.ndarray, windows: np.ndarray, shape: tuple[int, int],
                   edge: str | None = None) -> np.ndarray:
    """Put per-patch values back on a scene grid, averaging where windows overlap.

    Vectorised with :func:`numpy.bincount` over flat pixel indices (no loop per patch). Window
    parts outside the grid (padding) are ignored.

    Parameters
    ----------
    values : ndarray, shape (n, size, size) or (n, size, size, k)
        E.g. class probabilities predicted for each patch.
    windows : ndarray of int, shape (n, 4)
        ``(row_off, col_off, height, width)`` of each patch (``PatchSet.windows``).
    shape : (int, int)
        The scene grid ``(rows, cols)``.
    edge : {"drop", "pad", "shift"}, optional
        The edge policy the windows were made with. Only ``"pad"`` windows may reach past the
        grid (into the padding, which is ignored); otherwise every window must lie on the grid.

    Returns
    -------
    ndarray of float64, shape (rows, cols) or (rows, cols, k)
        Mean over the patches covering each pixel; **NaN where no patch covers the pixel**
        (edge pixels dropped by ``edge="drop"``, pruned patches). ``np.isnan(out)`` is the mask.

    Raises
    ------
    ShapeMismatchError
        ``values`` and ``windows`` disagree, or the windows do not fit ``shape`` (a window off the
        grid, or reaching past it without ``edge="pad"``: the windows were made for another grid).
    InvalidParameterError
        ``values`` holds NaN/inf (they would read as "not covered").

    Examples
    --------
    >>> g = grid_windows((5, 5), 4, stride=1)
    >>> out = stitch_patches(np.ones((len(g), 4, 4)), g.windows, (5, 5))
    >>> float(out.min()), float(out.max())
    (1.0, 1.0)
    """
    rows, cols = check_shape(shape)
    if edge is not None:
        edge = check_edge(edge)
    values = np.asarray(values)
    windows = np.asarray(windows)
    if values.ndim not in (3, 4):
        raise ShapeMismatchError(f"`values` must have shape (n, size, size[, k]), got {values.shape}")
    if values.dtype.kind not in "biuf":
        raise InvalidParameterError(f"`values` must be numbers, got dtype {values.dtype}")
    if windows.dtype.kind not in "iu" and not (windows.dtype.kind == "f" and np.all(windows == np.round(windows))):
        raise ShapeMismatchError(f"`windows` must hold integer (row_off, col_off, height, width), got {windows.dtype}")
    windows = windows.astype(np.int64)
    if windows.ndim != 2 or windows.shape[1] != 4 or windows.shape[0] != values.shape[0]:
        raise ShapeMismatchError(
            f"`windows` must have shape ({values.shape[0]}, 4) (row_off, col_off, height, width), "
            f"got {windows.shape}"
        )
    n, h, w = values.shape[:3]
    if n and not (np.all(windows[:, 2] == h) and np.all(windows[:, 3] == w)):
        hint = (" (channels first? values are (n, size, size, k): use np.moveaxis(values, 1, -1))"
                if values.ndim == 4 and np.all(windows[:, 2] == values.shape[2]) else "")
        raise ShapeMismatchError(
            f"`windows` heights/widths {sorted(set(map(tuple, windows[:, 2:].tolist())))[:3]} do not match the "
            f"patch shape {(h, w)} of `values` {values.shape}{hint}")
    if n:
        # A window must lie on the grid, and may reach past it only as edge="pad" padding (less than a
        # window): anything else means `shape` is not the grid the windows were made on, and values
        # would silently fall off the scene.
        r0, c0 = windows[:, 0], windows[:, 1]
        over_r = int((r0 + h).max()) - rows
        over_c = int((c0 + w).max()) - cols
        limit = (h, w) if edge == "pad" else (1, 1)
        if r0.min() < 0 or c0.min() < 0 or r0.max() >= rows or c0.max() >= cols \
                or over_r >= limit[0] or over_c >= limit[1]:
            raise ShapeMismatchError(
                f"the windows span rows {int(r0.min())}..{int((r0 + h).max())} and cols {int(c0.min())}.."
                f"{int((c0 + w).max())}, which does not fit `shape`={(rows, cols)}: they were made for another "
                "grid (or were padded: pass edge='pad'). Pass the shape of the scene the windows came from (e.g. "
                "`PatchSet.stitch(values, lake_id)` or `scene.shape`)")
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise InvalidParameterError(
            f"`values` holds {int((~np.isfinite(values)).sum())} NaN/inf values; in the output NaN means "
            "'no patch covers this pixel', so NaN inputs would be mistaken for it. Fill them first "
            "(e.g. np.nan_to_num) or find why the model produced them")
    k = values.shape[3] if values.ndim == 4 else 1
    vals = values.reshape(n, h, w, k).astype(np.float64, copy=False)
    r = windows[:, 0, None, None] + np.arange(h)[None, :, None]
    c = windows[:, 1, None, None] + np.arange(w)[None, None, :]
    r, c = np.broadcast_to(r, (n, h, w)), np.broadcast_to(c, (n, h, w))
    inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
    flat = (r * cols + c)[inside]
    count = np.bincount(flat, minlength=rows * cols).astype(np.float64)
    sel = vals[inside]  # (m, k)
    sums = np.stack([np.bincount(flat, weights=sel[:, j], minlength=rows * cols) for j in range(k)], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = sums / count[:, None]
    out[count == 0] = np.nan
    out = out.reshape(rows, cols, k)
    return out[:, :, 0] if values.ndim == 3 else out


def patch_tradeoff(labels: Sequence[np.ndarray], sizes: Iterable[int], stride_fraction: float = 1.0,
                   edge: str = "drop", prune_single_class: bool = False,
                   classes: Sequence[int] = LAKE_CLASSES) -> pd.DataFrame:
    """The dual problem in numbers: patches, pixels used and lost for each patch size.

    Parameters
    ----------
    labels : sequence of ndarray (rows, cols)
        Label rasters of the scenes (e.g. the training split).
    sizes : iterable of int
    stride_fraction : float
        Stride as a fraction of the size (1 = no overlap, 0.5 = 50% overlap).

    Returns
    -------
    pandas.DataFrame
        One row per size (:meth:`PatchCounts.as_dict` columns), indexed by ``size``.
    """
    import pandas as pd

    if not 0 < stride_fraction <= 1:
        raise InvalidParameterError(f"`stride_fraction` must be in (0, 1], got {stride_fraction}")
    labels = list(labels)
    sizes = [sizes] if _is_int(sizes) else list(sizes)
    if not sizes:
        raise InvalidParameterError("`sizes` is empty; pass the patch sizes to compare, e.g. sizes=(8, 16, 32)")
    rows = []
    for s in sizes:
        s = check_size(s, "sizes")
        rows.append(count_patches(labels, s, max(1, int(math.floor(s * stride_fraction))), edge,
                                  prune_single_class, classes).as_dict())
    return pd.DataFrame(rows).set_index("size")


__all__ = [
    "EDGE_POLICIES",
    "PatchCounts",
    "PatchSet",
    "SceneWindows",
    "WindowGrid",
    "axis_offsets",
    "count_patches",
    "count_windows",
    "extract_patches",
    "grid_windows",
    "patch_dataset",
    "patch_tradeoff",
    "scene_windows",
    "single_class_windows",
    "stitch_patches",
    "window_class_counts",
]
