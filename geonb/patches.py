"""Patches: pixels cut out of scenes along their windows, splitting by lake, stitching back.

Windows first, pixels second. Where the windows lie, how many there are, what they hold and
which ones pruning drops is window arithmetic, in :mod:`geonb.windows` (its names are
re-exported here, so ``from geonb.patches import grid_windows`` keeps working). This module
reads pixels along those windows:

* :func:`extract_patches` lays the pixels of all scenes out in one flat array and cuts every
  window out of it with one gather (:meth:`~geonb.windows.WindowBatch.gather_index` and
  :func:`numpy.take`: no Python loop per patch); pruning uses the window class counts of
  :meth:`~geonb.windows.WindowBatch.class_counts`.
* :func:`patch_dataset` splits a dataset by lake first, then patches each split.
* :func:`stitch_patches` puts per-patch values (predictions) back on the scene grid, averaging
  where windows overlap (:func:`numpy.bincount` over flat pixel indices).

The edge policies (``"drop"``, ``"pad"``, ``"shift"``) and the pruning rule are described in
:mod:`geonb.windows`. Patches are exactly ``size x size`` (the study's code cut ``size - 1``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from geonb.bands import band_indices
from geonb.errors import CatalogError, ClassCodeError, InvalidParameterError, ShapeMismatchError
from geonb.labels import LAKE_CLASS_NAMES, LAKE_CLASSES, NODATA, check_class_codes, one_hot
from geonb.windows import (  # noqa: F401  (re-exported: geonb.patches is where users have found them)
    EDGE_POLICIES,
    KNOWN_CODES,
    PatchCounts,
    SceneWindows,
    WindowBatch,
    WindowGrid,
    as_label_codes,
    axis_offsets,
    batch_windows,
    check_classes,
    check_edge,
    check_shape,
    check_size,
    check_stride,
    count_patches,
    count_windows,
    grid_windows,
    patch_tradeoff,
    scene_windows,
    single_class_windows,
    window_class_counts,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from geonb.scene import Scene


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
            codes = as_label_codes(scene.labels, classes, f"labels of scene {sid!r}")
            labels.append(codes.astype(np.uint8, copy=False).reshape(-1))
    if not ids:
        raise InvalidParameterError("`scenes` is empty: give at least one Scene")
    if len(set(ids)) != len(ids):
        dup = next(s for s in ids if ids.count(s) > 1)
        raise CatalogError(f"two scenes share the id {dup!r}; patches must trace back to one scene")
    shape_arr = np.asarray(shapes, dtype=np.int64)
    batch = batch_windows(shape_arr, size, stride, edge)
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
        counts = batch.class_counts(flat_labels, classes)
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


def _check_flat_labels(flat_labels: np.ndarray, batch: WindowBatch, ids: list[str], allowed: tuple[int, ...],
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
