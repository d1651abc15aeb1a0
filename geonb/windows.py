"""Windows: where the ``size x size`` windows of a scene grid lie, how many there are, what they hold.

Pure arithmetic on grid shapes and label rasters; no image pixel is read here (extraction and
stitching live in :mod:`geonb.patches`). One small engine does all the counting:

* :func:`axis_windows` gives, for axes of any lengths at once, how many windows fit and how many
  pixels they cover; :func:`grid_windows` (one scene), :func:`count_windows` and
  :func:`batch_windows` (many scenes at once) are built on it.
* :meth:`WindowBatch.class_counts` counts the labelled pixels of each class inside each window
  with one gather over a flat array of all scenes' labels; :func:`window_class_counts`,
  :func:`scene_windows`, :func:`count_patches` and :func:`geonb.patches.extract_patches` use it.

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

Windows are exactly ``size x size`` (the study's code cut ``size - 1``).

Pruning (``prune_single_class=True``) removes windows whose *labelled* pixels all belong to
one class (the study's rule) or that have no labelled pixel at all; no-data pixels are
ignored when deciding. What was pruned is counted per class (``NODATA`` for "no label").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from geonb.errors import ClassCodeError, InvalidParameterError, ShapeMismatchError
from geonb.labels import BUILDING_CLASSES, LAKE_CLASS_NAMES, LAKE_CLASSES, NODATA, grid_shape

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from affine import Affine
    from rasterio.windows import Window

#: The edge policies :func:`grid_windows` knows.
EDGE_POLICIES: tuple[str, ...] = ("drop", "pad", "shift")
#: Every class code geonb knows (lakes and buildings); ``classes=`` may only use these.
KNOWN_CODES: tuple[int, ...] = tuple(sorted({NODATA, *LAKE_CLASSES, *BUILDING_CLASSES}))
#: Patch sizes (px) worth exploring on MODIS lake scenes (12 to 132 px): the patch-size slider's range.
PATCH_SIZE_RANGE: tuple[int, int] = (4, 64)
#: A whole-scene tile is rounded up to a multiple of this (every geonb model's poolings and strides divide it) ...
TILE_MULTIPLE_PX = 8
#: ... and is at least this big (the lakes FCN's valid convolutions need 16 px).
MIN_TILE_PX = 16


# -------------------------------------------------------------------------------------------
# Argument checks
# -------------------------------------------------------------------------------------------
def is_int(value: Any) -> bool:
    """True for a Python or NumPy integer (not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_size(size: Any, name: str = "size") -> int:
    """Return ``size`` as an int after checking it is an integer >= 2."""
    if not is_int(size):
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
    if not is_int(stride):
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
    if len(vals) == 2 and not all(is_int(v) or (isinstance(v, (float, np.floating)) and float(v).is_integer())
                                  for v in vals):
        raise ShapeMismatchError(f"`shape` must be whole numbers of pixels (rows, cols), got {shape!r}")
    return grid_shape(vals)


def as_label_codes(labels: np.ndarray, classes: tuple[int, ...], name: str) -> np.ndarray:
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
# The counting engine (pure arithmetic, vectorised over axis lengths)
# -------------------------------------------------------------------------------------------
def axis_windows(n: Any, size: int, stride: int, edge: str = "drop") -> tuple[np.ndarray, np.ndarray]:
    """How many windows fit along axes of lengths ``n``, and how many of the axes' pixels they cover.

    The one counting engine of geonb's windows: every count of windows and of covered (or dropped)
    pixels comes from here. Vectorised over ``n`` (an int or an array of axis lengths); no check
    of the arguments (public callers check them first).

    Parameters
    ----------
    n : int or ndarray of int
        Axis lengths in pixels.
    size, stride : int
        Window side and step, in pixels (>= 2 and >= 1).
    edge : {"drop", "pad", "shift"}

    Returns
    -------
    count, covered : ndarray of int64, the shape of ``n``
        Windows along each axis, and pixels ``0 .. n-1`` inside at least one of them (padding
        is not counted).

    Examples
    --------
    >>> count, covered = axis_windows(np.array([38, 12, 40]), 16, 16, "drop")
    >>> count.tolist(), covered.tolist()
    ([2, 0, 2], [32, 0, 32])
    >>> [v.tolist() for v in axis_windows(38, 16, 16, "shift")], [v.tolist() for v in axis_windows(38, 16, 16, "pad")]
    ([3, 38], [3, 38])
    >>> [v.tolist() for v in axis_windows(10, 2, 4, "drop")]  # gaps between windows are not covered
    [3, 6]
    """
    n = np.asarray(n, dtype=np.int64)
    if edge == "pad":  # reach the far edge; with stride > size no window may start past it
        k = np.where(n <= size, 1, np.minimum(-(-(n - size) // stride) + 1, -(-n // stride)))
    else:
        k = np.where(n >= size, (n - size) // stride + 1, 0)
        if edge == "shift":
            k = k + ((k > 0) & ((k - 1) * stride + size < n))
    last = (k - 1) * stride  # start of the last window
    if edge == "shift":
        last = np.minimum(last, n - size)
    step_last = last - (k - 2) * stride  # distance between the last two windows
    span = np.where(k >= 2, size + np.maximum(k - 2, 0) * min(size, stride) + np.minimum(size, step_last), size)
    span = span - np.maximum(last + size - n, 0)  # padding is not scene
    return k, np.where(k > 0, span, 0)


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
    k, _ = axis_windows(n, size, stride, edge)
    offs = np.arange(int(k), dtype=np.int64) * stride
    return np.minimum(offs, n - size) if edge == "shift" else offs


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
    k, _ = axis_windows(np.array([rows, cols]), size, stride, edge)
    return int(k[0] * k[1])


def tile_side(n: int, minimum: int = MIN_TILE_PX, multiple: int = TILE_MULTIPLE_PX) -> int:
    """``n`` rounded up to a multiple of ``multiple``, and at least ``minimum`` (a whole-scene tile's side).

    Examples
    --------
    >>> tile_side(5), tile_side(17), tile_side(132)
    (16, 24, 136)
    """
    return max(int(minimum), -(-int(n) // int(multiple)) * int(multiple))


# -------------------------------------------------------------------------------------------
# One scene's windows
# -------------------------------------------------------------------------------------------
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
        _, covered = axis_windows(np.asarray(self.shape), self.size, self.stride, self.edge)
        return int(covered[0] * covered[1])

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

    def transforms(self, transform: Affine) -> list[Affine]:
        """Each window's own affine transform (where its top-left pixel lies), for georeferenced patches.

        Examples
        --------
        >>> from affine import Affine
        >>> grid_windows((4, 4), 2).transforms(Affine(10, 0, 500, 0, -10, 900))[3]
        Affine(10.0, 0.0, 520.0,
               0.0, -10.0, 880.0)
        """
        from rasterio.windows import transform as window_transform

        return [window_transform(w, transform) for w in self.to_rasterio()]

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
# Windows of many scenes at once (one flat pixel array, one gather)
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WindowBatch:
    """The windows of many scenes at once, as flat arrays (what :func:`batch_windows` returns).

    The scenes' pixels are thought of as one flat array, scene after scene, each row-major;
    :meth:`gather_index` says where each window's pixels lie in it.

    Attributes
    ----------
    shapes : ndarray of int64, shape (m, 2)
        ``(rows, cols)`` of each scene.
    starts : ndarray of int64, shape (m,)
        First pixel of each scene in the flat array.
    scene, row_off, col_off : ndarray of int64, shape (n,)
        Scene index and top-left pixel of each window, scene by scene, row-major.
    n_windows, covered : ndarray of int64, shape (m,)
        Windows of each scene, and its pixels inside at least one window.
    size, stride : int
    edge : str
    """

    shapes: np.ndarray
    starts: np.ndarray
    scene: np.ndarray
    row_off: np.ndarray
    col_off: np.ndarray
    n_windows: np.ndarray
    covered: np.ndarray
    size: int
    stride: int
    edge: str

    @classmethod
    def from_grid(cls, grid: WindowGrid) -> WindowBatch:
        """The windows of one :class:`WindowGrid` as a batch of one scene."""
        w = grid.windows
        n = len(w)
        return cls(np.asarray([grid.shape], dtype=np.int64), np.zeros(1, np.int64), np.zeros(n, np.int64),
                   w[:, 0], w[:, 1], np.asarray([n], np.int64), np.asarray([grid.covered_pixels], np.int64),
                   grid.size, grid.stride, grid.edge)

    @property
    def total(self) -> int:
        """Pixels of all scenes (no padding)."""
        return int(self.shapes[:, 0] @ self.shapes[:, 1])

    def gather_index(self, sel: np.ndarray | slice = slice(None), local: bool = False) -> np.ndarray:
        """Pixel index ``(n, size, size)`` of each window in the flat pixel array of all scenes.

        With ``local=True`` the index is within each window's own scene (``rows * cols`` pixels).
        With ``edge="pad"`` pixels in the padding point at ``total`` (global) or 0 (local): mask
        them with :meth:`inside`. Memory: ``8 * n * size**2`` bytes.
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

    def class_counts(self, flat_labels: np.ndarray, classes: Sequence[int],
                     index: np.ndarray | None = None) -> np.ndarray:
        """Pixels of each class inside each window: ``(n, len(classes))`` int64.

        ``flat_labels`` holds every scene's class codes, flattened and concatenated (``total``
        pixels, optionally followed by one ``NODATA`` for the padding); padding counts as
        ``NODATA``. ``index`` is :meth:`gather_index` if the caller has it already. One gather of
        the windows' labels (``n * size**2`` bytes), then one vectorised pass per class.
        """
        flat_labels = np.asarray(flat_labels)
        if flat_labels.shape[0] == self.total:
            flat_labels = np.concatenate([flat_labels, np.zeros(1, flat_labels.dtype) + NODATA])
        idx = self.gather_index() if index is None else index
        n = len(idx)
        lab = flat_labels[idx.reshape(n, self.size * self.size)]
        counts = np.empty((n, len(classes)), dtype=np.int64)
        for j, c in enumerate(classes):  # a few classes: one vectorised pass each
            counts[:, j] = np.count_nonzero(lab == c, axis=1)
        return counts


def batch_windows(shapes: Any, size: int, stride: int, edge: str = "drop") -> WindowBatch:
    """The windows of many scenes of ``shapes`` ``(m, 2)`` at once (the same windows as :func:`grid_windows`).

    Pure arithmetic on the shapes, vectorised over scenes. ``size``, ``stride`` and ``edge`` must
    have been checked (:func:`check_size`, :func:`check_stride`, :func:`check_edge`).

    Examples
    --------
    >>> b = batch_windows([(38, 36), (20, 40)], 16, 16)
    >>> b.n_windows.tolist(), b.covered.tolist(), b.row_off.tolist(), b.col_off.tolist()
    ([4, 2], [1024, 512], [0, 0, 16, 16, 0, 0], [0, 16, 0, 16, 0, 16])
    """
    shapes = np.asarray(shapes, dtype=np.int64).reshape(-1, 2)
    rows, cols = shapes[:, 0], shapes[:, 1]
    (nr, nc), (cr, cc) = axis_windows(shapes.T, size, stride, edge)
    n = nr * nc
    scene = np.repeat(np.arange(len(shapes)), n)
    j = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    ncs = np.maximum(nc[scene], 1)
    r = (j // ncs) * stride
    c = (j % ncs) * stride
    if edge == "shift":
        r = np.minimum(r, rows[scene] - size)
        c = np.minimum(c, cols[scene] - size)
    starts = np.cumsum(rows * cols) - rows * cols
    return WindowBatch(shapes, starts, scene, r, c, n, cr * cc, size, stride, edge)


# -------------------------------------------------------------------------------------------
# Class counts per window, and pruning
# -------------------------------------------------------------------------------------------
def window_class_counts(labels: np.ndarray, grid: WindowGrid,
                        classes: Sequence[int] = LAKE_CLASSES) -> np.ndarray:
    """Pixels of each class inside each window of ``grid`` (counted, no patch copies kept).

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

    Examples
    --------
    >>> lab = np.full((4, 4), 2, np.uint8); lab[0, 0] = 1
    >>> window_class_counts(lab, grid_windows(lab.shape, 2), classes=(1, 2)).tolist()
    [[1, 3], [0, 4], [0, 4], [0, 4]]
    """
    labels = np.asarray(labels)
    if labels.shape != grid.shape:
        raise ShapeMismatchError(f"`labels` has shape {labels.shape} but the window grid is {grid.shape}")
    classes = check_classes(classes)
    labels = as_label_codes(labels, classes, "labels")
    return WindowBatch.from_grid(grid).class_counts(labels.reshape(-1), classes)


def densest_window(labels: np.ndarray, size: int, code: int, *, stride: int | None = None) -> tuple[int, int, int, int]:
    """The ``size`` x ``size`` window holding the most pixels of class ``code`` (e.g. where a zoom shows most).

    Windows lie on a grid with ``stride`` (default ``size // 4``), the last ones shifted in to end at the edge;
    ties go to the first window in row-major order. Counted by the same engine as every window count.

    Returns
    -------
    (row_off, col_off, height, width)

    Examples
    --------
    >>> lab = np.zeros((8, 8), np.uint8); lab[5:7, 5:7] = 2
    >>> densest_window(lab, 4, 2, stride=2)
    (4, 4, 4, 4)
    """
    labels = np.asarray(labels)
    size = check_size(size)
    grid = grid_windows(labels.shape, size, max(1, size // 4) if stride is None else stride, edge="shift")
    classes = tuple(int(c) for c in np.unique(labels))
    if int(code) not in classes:
        raise InvalidParameterError(f"`code` {code!r} does not occur in `labels` (codes present: {list(classes)})")
    counts = window_class_counts(labels, grid, classes)[:, classes.index(int(code))]
    return tuple(int(v) for v in grid.windows[int(np.argmax(counts))])


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


def _tally(batch: WindowBatch, labels: list[np.ndarray], prune_single_class: bool,
           classes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, PatchCounts]:
    """Class counts, pruning and the totals of the windows of ``batch`` over the label rasters ``labels``."""
    flat = np.concatenate([lab.reshape(-1) for lab in labels] + [np.array([NODATA], np.result_type(*labels))])
    n = len(batch.scene)
    gidx = batch.gather_index()
    counts = batch.class_counts(flat, classes, gidx)
    covered = int(batch.covered.sum())
    if prune_single_class:
        keep, pruned_as = single_class_windows(counts, classes)
        hits = np.bincount(gidx[keep].ravel(), minlength=batch.total + 1)[: batch.total]
        used = int(np.count_nonzero(hits))
    else:
        keep = np.ones(n, dtype=bool)
        pruned_as = np.full(n, -1, dtype=np.int64)
        used = covered
    codes, n_pruned = np.unique(pruned_as[~keep], return_counts=True)
    summary = PatchCounts(
        size=batch.size, stride=batch.stride, edge=batch.edge, prune_single_class=bool(prune_single_class),
        classes=classes, n_scenes=len(labels), n_too_small=int(np.count_nonzero(batch.n_windows == 0)),
        n_windows=n, n_kept=int(keep.sum()), pruned={int(c): int(k) for c, k in zip(codes, n_pruned, strict=True)},
        pixels_total=batch.total, pixels_used=used, pixels_dropped=batch.total - covered,
        pixels_pruned=covered - used,
        class_pixels={c: int(v) for c, v in zip(classes, counts[keep].sum(axis=0), strict=True)},
    )
    return counts, keep, pruned_as, summary


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

    Examples
    --------
    >>> lab = np.full((40, 40), 2, dtype=np.uint8); lab[:10, :10] = 1
    >>> sw = scene_windows(lab, 16, prune_single_class=True)
    >>> sw.keep.tolist(), sw.summary.pixels_used, sw.summary.pixels_dropped
    ([True, False, False, False], 256, 576)
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ShapeMismatchError(f"`labels` must have shape (rows, cols), got {labels.shape}")
    classes = check_classes(classes)
    labels = as_label_codes(labels, classes, "labels")
    grid = grid_windows(labels.shape, size, stride, edge)
    counts, keep, pruned_as, summary = _tally(WindowBatch.from_grid(grid), [labels], prune_single_class, classes)
    return SceneWindows(grid, counts, keep, pruned_as, summary)


def count_patches(labels: Iterable[np.ndarray], size: int, stride: int | None = None, edge: str = "drop",
                  prune_single_class: bool = False, classes: Sequence[int] = LAKE_CLASSES) -> PatchCounts:
    """Count the patches a set of label rasters gives, without extracting pixels.

    Parameters
    ----------
    labels : iterable of ndarray (rows, cols)
        One label raster per scene.
    size, stride, edge, prune_single_class, classes
        As in :func:`geonb.patches.extract_patches`.

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
    labels = [as_label_codes(lab, classes, f"label raster {k}") for k, lab in enumerate(labels)]
    if not labels:
        return PatchCounts(size, stride, edge, bool(prune_single_class), classes)
    batch = batch_windows([lab.shape for lab in labels], size, stride, edge)
    return _tally(batch, labels, prune_single_class, classes)[3]


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
    sizes = [sizes] if is_int(sizes) else list(sizes)
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
    "KNOWN_CODES",
    "MIN_TILE_PX",
    "PATCH_SIZE_RANGE",
    "TILE_MULTIPLE_PX",
    "PatchCounts",
    "SceneWindows",
    "WindowBatch",
    "WindowGrid",
    "as_label_codes",
    "axis_offsets",
    "axis_windows",
    "batch_windows",
    "check_classes",
    "check_edge",
    "check_shape",
    "check_size",
    "check_stride",
    "count_patches",
    "count_windows",
    "densest_window",
    "grid_windows",
    "is_int",
    "patch_tradeoff",
    "scene_windows",
    "single_class_windows",
    "tile_side",
    "window_class_counts",
]
