"""Buildings on one labelled chip: a held-out spatial split, a training recipe, scores side by side.

A researcher with one labelled chip (e.g. a SpaceNet chip of 900 x 900 pixels and 186 footprints)
cannot split it by tile. :func:`split_chip` splits it by **space** instead, with the same rule as the
lakes' split by lake: the chip is cut into regions (two halves, or a checkerboard of blocks, seeded),
every building goes whole to the split that holds most of its pixels, and its pixels are masked
(neither trained on nor scored) in the other splits. So no building is trained on and scored.

:class:`Recipe` collects what the SpaceNet winners' write-ups show matters, each step switchable so
that its effect can be measured (:data:`ABLATION`): a U-Net instead of the study's FCN, a border
class for touching houses (polygons then come from the building class only, grown back over the
border), more loss weight for small buildings, D4 augmentation while training and test-time
augmentation while predicting, and last an overlap loss (cross-entropy + soft Dice of the building
channels). Colour jitter and an ensemble of seeds are fields too. :func:`run_recipe` trains one
recipe on the training split and scores it on the test split; :func:`score_footprints` scores any
polygons (the winners' too) on the same split with the same metrics.

Arrays follow geonb's conventions: images ``(rows, cols, bands)`` float32, labels ``(rows, cols)``
uint8 ``BACKGROUND``/``BUILDING``/``BORDER``, masks ``(rows, cols)`` bool. Training calls the model's
own ``fit`` with batches of random crops drawn here (no Keras import in this module).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from geonb.errors import InvalidParameterError, ModelError, ShapeMismatchError
from geonb.evaluation_buildings import building_ious, building_scores, spacenet_f1
from geonb.labels import BACKGROUND, BORDER, BUILDING, Footprints, instance_raster, mask_to_polygons

#: Split codes in :attr:`ChipSplit.regions` and :attr:`ChipSplit.split_raster` (0: no split).
TRAIN, VAL, TEST = 1, 2, 3
#: Split names by code.
SPLIT_NAMES: dict[int, str] = {TRAIN: "train", VAL: "val", TEST: "test"}
#: Halves a test side can be.
SIDES = ("left", "right", "top", "bottom")
#: Split schemes :func:`split_regions` knows.
SCHEMES = ("halves", "blocks")
#: Losses a :class:`Recipe` can train with.
LOSSES = ("ce", "ce+dice", "ce+jaccard")

#: Keras dtype policies a :class:`Recipe` can train under.
PRECISIONS = ("float32", "mixed_bfloat16")


# -------------------------------------------------------------------------------------------
# The split
# -------------------------------------------------------------------------------------------
def _check_shape(shape) -> tuple[int, int]:
    try:
        rows, cols = (int(v) for v in shape)
    except (TypeError, ValueError) as exc:
        raise ShapeMismatchError(f"`shape` must be (rows, cols), got {shape!r}") from exc
    if rows < 2 or cols < 2:
        raise ShapeMismatchError(f"`shape` must be at least 2 x 2 pixels, got {shape!r}")
    return rows, cols


def split_regions(shape: tuple[int, int], *, scheme: str = "halves", seed: int = 0, side: str | None = None,
                  val_fraction: float = 0.0, block_px: int = 150) -> np.ndarray:
    """Cut a chip's grid into training, validation and test regions (seeded).

    Parameters
    ----------
    shape : (rows, cols)
    scheme : {"halves", "blocks"}
        ``"halves"``: one half is the test region (``side``), the other trains. ``"blocks"``: a
        checkerboard of ``block_px`` squares, the test squares of one colour (chosen by ``seed``).
    seed : int
        Chooses the test half (when ``side`` is None) or the checkerboard's colour, and the
        validation blocks.
    side : {"left", "right", "top", "bottom"}, optional
        The test half for ``scheme="halves"`` (default: drawn from ``seed``).
    val_fraction : float in [0, 0.5)
        Share of the training region set aside for validation: with halves, the strip of the
        training half farthest from the test half; with blocks, that share of the training squares.
    block_px : int
        Square side for ``scheme="blocks"``.

    Returns
    -------
    ndarray of uint8, shape (rows, cols)
        ``TRAIN`` (1), ``VAL`` (2) or ``TEST`` (3) for every pixel.

    Examples
    --------
    >>> r = split_regions((4, 8), side="right", val_fraction=0.25)
    >>> r[0].tolist()
    [2, 1, 1, 1, 3, 3, 3, 3]
    >>> np.unique(split_regions((300, 300), scheme="blocks", block_px=100)).tolist()
    [1, 3]
    """
    rows, cols = _check_shape(shape)
    if scheme not in SCHEMES:
        raise InvalidParameterError(f"`scheme` must be one of {SCHEMES}, got {scheme!r}")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) or not 0 <= val_fraction < 0.5:
        raise InvalidParameterError(f"`val_fraction` must be a number in [0, 0.5), got {val_fraction!r}")
    rng = np.random.default_rng(seed)
    regions = np.full((rows, cols), TRAIN, np.uint8)
    if scheme == "halves":
        if side is None:
            side = SIDES[int(rng.integers(len(SIDES)))]
        if side not in SIDES:
            raise InvalidParameterError(f"`side` must be one of {SIDES} or None (drawn from `seed`), got {side!r}")
        # work on columns; top/bottom are the same cut on the transposed grid
        n = cols if side in ("left", "right") else rows
        half = n // 2
        line = np.full(n, TRAIN, np.uint8)
        n_val = int(round(val_fraction * (n - half)))
        if side in ("right", "bottom"):
            line[half:] = TEST
            line[:n_val] = VAL
        else:
            line[:n - half] = TEST
            line[n - n_val:] = VAL
        regions[:] = line[None, :] if side in ("left", "right") else line[:, None]
        return regions
    if isinstance(block_px, bool) or not isinstance(block_px, (int, np.integer)) or block_px < 2:
        raise InvalidParameterError(f"`block_px` must be an int >= 2, got {block_px!r}")
    br, bc = -(-rows // block_px), -(-cols // block_px)
    if br * bc < 2:
        raise InvalidParameterError(
            f"`block_px`={block_px} leaves one block on a {rows} x {cols} chip; use a smaller block_px "
            f"(at most {max(rows, cols) // 2}) or scheme='halves'")
    ii, jj = np.meshgrid(np.arange(br), np.arange(bc), indexing="ij")
    colour = int(rng.integers(2))
    blocks = np.where((ii + jj) % 2 == colour, TEST, TRAIN).astype(np.uint8)
    train_blocks = np.flatnonzero(blocks == TRAIN)
    n_val = int(round(val_fraction * train_blocks.size))
    blocks.flat[rng.choice(train_blocks, n_val, replace=False)] = VAL
    return np.repeat(np.repeat(blocks, block_px, 0), block_px, 1)[:rows, :cols].copy()


@dataclass
class ChipSplit:
    """A spatial split of one labelled chip (see :func:`split_chip`).

    Attributes
    ----------
    regions : ndarray uint8 (rows, cols)
        The geometric cut: ``TRAIN``/``VAL``/``TEST`` per pixel.
    split_raster : ndarray uint8 (rows, cols)
        Which split each pixel counts for: its region, except that a building's pixels all count for
        the building's split; 0 where two splits' buildings overlap (counted nowhere).
    assignment : ndarray uint8 (n_footprints,)
        The split of each truth footprint.
    truth : Footprints
        All truth footprints, in the chip's CRS.
    instances : ndarray int32 (rows, cols)
        Footprint ``i`` burned as ``i + 1`` (0: no building).
    transform, crs
        The chip's grid.
    """

    regions: np.ndarray
    split_raster: np.ndarray
    assignment: np.ndarray
    truth: Footprints
    instances: np.ndarray
    transform: object
    crs: object
    info: dict = field(default_factory=dict)

    def _code(self, split: str) -> int:
        codes = {v: k for k, v in SPLIT_NAMES.items()}
        if split not in codes:
            raise InvalidParameterError(f"`split` must be one of {tuple(codes)}, got {split!r}")
        return codes[split]

    def mask(self, split: str) -> np.ndarray:
        """``(rows, cols)`` bool: the pixels that count for ``split`` (train on them, or score them)."""
        return self.split_raster == self._code(split)

    def indices(self, split: str) -> np.ndarray:
        """Positions in :attr:`truth` of the buildings of ``split``."""
        return np.flatnonzero(self.assignment == self._code(split))

    def footprints(self, split: str) -> Footprints:
        """The truth footprints of ``split`` (whole, also where they cross the cut)."""
        idx = self.indices(split)
        props = [self.truth.properties[i] for i in idx] if self.truth.properties else None
        return Footprints([self.truth.geometries[i] for i in idx], props, self.truth.crs)

    def labels(self, border_px: int | None = None) -> np.ndarray:
        """Truth class codes ``(rows, cols)`` uint8 of the whole chip (``BORDER`` with ``border_px``)."""
        return labels_from_instances(self.instances, border_px)

    def select(self, polygons, split: str) -> Footprints:
        """The polygons (e.g. a model's predictions) that belong to ``split``.

        A polygon belongs to the split that holds most of its pixels in :attr:`split_raster` (a
        polygon over a training building that crosses into the test half stays a training one), a
        polygon too small to cover a pixel centre to the split of its centroid. The same rule gives
        every model, geonb's or the winners', the same buildings to be scored on.
        """
        code = self._code(split)
        fp = polygons if isinstance(polygons, Footprints) else Footprints(list(polygons), None, self.crs)
        if fp.crs is not None and self.crs is not None and fp.crs != self.crs:
            fp = fp.to_crs(self.crs)
        which = _majority(fp, self.split_raster, self.transform, self.crs)
        idx = np.flatnonzero(which == code)
        props = [fp.properties[i] for i in idx] if fp.properties else None
        return Footprints([fp.geometries[i] for i in idx], props, fp.crs)

    def counts(self):
        """A table per split: buildings, pixels that count, and their building share."""
        import pandas as pd

        rows = {}
        for code, name in SPLIT_NAMES.items():
            m = self.split_raster == code
            rows[name] = {"buildings": int((self.assignment == code).sum()), "pixels": int(m.sum()),
                          "building share": float((self.instances[m] > 0).mean()) if m.any() else float("nan")}
        return pd.DataFrame(rows).T


def _majority(fp: Footprints, raster: np.ndarray, transform, crs) -> np.ndarray:
    """The most frequent value of ``raster`` under each polygon (its centroid's value when it covers none)."""
    from rasterio.transform import rowcol

    n = len(fp)
    out = np.zeros(n, np.uint8)
    if n == 0:
        return out
    inst = instance_raster(fp, raster.shape, transform, crs, require_overlap=False)
    k = int(raster.max()) + 1
    counts = np.bincount(inst.ravel().astype(np.int64) * k + raster.ravel(), minlength=(n + 1) * k)
    counts = counts[: (n + 1) * k].reshape(n + 1, k)[1:]
    # value 0 (no split) never wins over a split
    has = counts[:, 1:].sum(axis=1) > 0
    out[has] = 1 + np.argmax(counts[has, 1:], axis=1)
    for i in np.flatnonzero(~has):
        c = fp.geometries[i].centroid
        r, cc = rowcol(transform, c.x, c.y)
        if 0 <= r < raster.shape[0] and 0 <= cc < raster.shape[1]:
            out[i] = raster[r, cc]
    return out


def labels_from_instances(instances: np.ndarray, border_px: int | None = None) -> np.ndarray:
    """Class codes from an instance raster: ``BUILDING`` where an id is, ``BORDER`` within ``border_px`` of
    another id or background (as :func:`geonb.labels.rasterize_footprints`), ``BACKGROUND`` elsewhere.

    Examples
    --------
    >>> inst = np.zeros((5, 5), np.int32); inst[1:4, 1:4] = 1
    >>> labels_from_instances(inst, 1)[2].tolist()
    [0, 2, 1, 2, 0]
    """
    from scipy import ndimage

    inst = np.asarray(instances)
    if inst.ndim != 2:
        raise ShapeMismatchError(f"`instances` must be (rows, cols), got shape {inst.shape}")
    labels = np.where(inst > 0, BUILDING, BACKGROUND).astype(np.uint8)
    if border_px:
        if int(border_px) != border_px or border_px < 1:
            raise InvalidParameterError(f"`border_px` must be a whole number >= 1 or None, got {border_px!r}")
        size = 2 * int(border_px) + 1
        hi = ndimage.maximum_filter(inst, size=size, mode="nearest")
        lo = ndimage.minimum_filter(inst, size=size, mode="nearest")
        labels[(inst > 0) & (hi != lo)] = BORDER
    return labels


def split_chip(footprints, shape: tuple[int, int], transform, crs=None, *, scheme: str = "halves",
               seed: int = 0, side: str | None = None, val_fraction: float = 0.0,
               block_px: int = 150) -> ChipSplit:
    """Split one labelled chip in space: regions, and every building whole in one split.

    The regions come from :func:`split_regions` (same parameters). Each footprint goes to the split
    whose region holds most of its pixels (larger area wins; a footprint too small to cover a pixel
    centre goes with its centroid). Its pixels then count for that split only: in the other splits
    they are masked (``ChipSplit.mask(split)`` is False there), so a building cut by the line is
    neither trained on in part nor scored in part.

    Parameters
    ----------
    footprints : Footprints or sequence of shapely polygons
        Truth footprints (reprojected to ``crs`` when they carry another CRS).
    shape : (rows, cols)
    transform : affine.Affine
    crs : CRS-like, optional
    scheme, seed, side, val_fraction, block_px
        See :func:`split_regions`.

    Returns
    -------
    ChipSplit

    Examples
    --------
    >>> from affine import Affine
    >>> from shapely.geometry import box
    >>> fp = [box(1, -3, 3, -1), box(7, -3, 11, -1), box(12, -3, 14, -1)]   # the middle one is cut
    >>> sp = split_chip(fp, (4, 16), Affine(1, 0, 0, 0, -1, 0), "EPSG:3857", side="right")
    >>> sp.assignment.tolist()       # left, cut (6 of its 8 pixels on the right), right
    [1, 3, 3]
    >>> sp.mask("train")[1, 7:11].tolist(), sp.mask("test")[1, 7:11].tolist()
    ([False, False, False, False], [True, True, True, True])
    """
    regions = split_regions(shape, scheme=scheme, seed=seed, side=side, val_fraction=val_fraction,
                            block_px=block_px)
    if isinstance(footprints, Footprints):
        fp = footprints.to_crs(crs) if crs is not None and footprints.crs is not None else footprints
    else:
        fp = Footprints(list(footprints), None, crs)
    inst = instance_raster(fp, regions.shape, transform, crs) if len(fp) else np.zeros(regions.shape, np.int32)
    assignment = _majority(fp, regions, transform, crs)
    # each building pixel counts for its building's split; pixels of two splits' buildings for none
    split_raster = regions.copy()
    on = inst > 0
    split_raster[on] = assignment[inst[on] - 1]
    if len(fp):
        _mask_overlaps(fp, assignment, split_raster, transform, crs)
    info = {"scheme": scheme, "seed": int(seed), "side": side, "val_fraction": float(val_fraction),
            "block_px": int(block_px)}
    if scheme == "halves" and side is None:
        info["side"] = _side_of(regions)
    return ChipSplit(regions, split_raster, assignment, fp, inst, transform, crs, info)


def _side_of(regions: np.ndarray) -> str:
    rows, cols = regions.shape
    if regions[0, -1] == TEST and regions[-1, -1] == TEST and regions[0, 0] != TEST:
        return "right"
    if regions[0, 0] == TEST and regions[-1, 0] == TEST and regions[0, -1] != TEST:
        return "left"
    return "bottom" if regions[-1, 0] == TEST else "top"


def _mask_overlaps(fp: Footprints, assignment, split_raster, transform, crs) -> None:
    """Set to 0 the pixels covered by footprints of two different splits."""
    import shapely

    geoms = np.array(fp.geometries, dtype=object)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    pairs = [(i, j) for i, j in zip(a.tolist(), b.tolist(), strict=True) if i < j and assignment[i] != assignment[j]]
    if not pairs:
        return
    inter = [geoms[i].intersection(geoms[j]) for i, j in pairs]
    inter = [g for g in inter if not g.is_empty and g.area > 0]
    if inter:
        hit = instance_raster(inter, split_raster.shape, transform, crs, require_overlap=False) > 0
        split_raster[hit] = 0


# -------------------------------------------------------------------------------------------
# Targets and weights
# -------------------------------------------------------------------------------------------
def small_building_weights(instances: np.ndarray, *, reference_px: float | None = None, power: float = 0.5,
                           max_weight: float = 4.0) -> np.ndarray:
    """Per-pixel loss weights that let a small building count more than its few pixels.

    A building of ``area`` pixels gets ``(reference_px / area) ** power`` on each of its pixels,
    clipped to ``[1, max_weight]``; background gets 1. With the default ``power=0.5`` a building a
    quarter of the reference size weighs twice as much per pixel (half as much in total, instead of a
    quarter): the SpaceNet F1 counts every building once, whatever its size.

    Parameters
    ----------
    instances : ndarray int (rows, cols)
        Building ids (0: none), e.g. :attr:`ChipSplit.instances`.
    reference_px : float, optional
        Area at and above which a building weighs 1 per pixel (default: the median building area).
    power, max_weight : float

    Returns
    -------
    ndarray float32 (rows, cols)

    Examples
    --------
    >>> inst = np.zeros((10, 10), np.int32); inst[:8, :8] = 1; inst[9, :4] = 2
    >>> w = small_building_weights(inst, reference_px=64)
    >>> float(w[0, 0]), float(w[9, 0]), float(w[8, 9])
    (1.0, 4.0, 1.0)
    """
    inst = np.asarray(instances)
    if inst.ndim != 2 or inst.dtype.kind not in "iu":
        raise InvalidParameterError(f"`instances` must be (rows, cols) integer ids, got {inst.dtype} {inst.shape}")
    if not power >= 0 or not max_weight >= 1:
        raise InvalidParameterError(f"`power` must be >= 0 and `max_weight` >= 1, got {power!r}, {max_weight!r}")
    area = np.bincount(inst.ravel())
    w = np.ones(inst.shape, np.float32)
    if area.size < 2 or not (area[1:] > 0).any():
        return w
    if reference_px is None:
        reference_px = float(np.median(area[1:][area[1:] > 0]))
    per = np.ones(area.size, np.float64)
    nz = area > 0
    per[nz] = np.clip((reference_px / area[nz]) ** power, 1.0, max_weight)
    per[0] = 1.0
    return per[inst].astype(np.float32)


# -------------------------------------------------------------------------------------------
# Training on random crops of one region
# -------------------------------------------------------------------------------------------
def crop_origins(region: np.ndarray, crop: int) -> np.ndarray:
    """``(n, 2)`` top-left corners (row, col) of every ``crop`` x ``crop`` window lying wholly in ``region``.

    Examples
    --------
    >>> r = np.zeros((4, 6), bool); r[:, :3] = True
    >>> crop_origins(r, 3).tolist()
    [[0, 0], [1, 0]]
    """
    from scipy import ndimage

    region = np.asarray(region, bool)
    if crop > min(region.shape):
        return np.zeros((0, 2), np.int64)
    # a window is inside when its minimum is True: a minimum filter anchored at the top-left corner
    inside = ndimage.minimum_filter(region.astype(np.uint8), size=crop, origin=-(crop // 2), mode="constant",
                                    cval=0).astype(bool)
    inside[region.shape[0] - crop + 1:] = False
    inside[:, region.shape[1] - crop + 1:] = False
    return np.argwhere(inside)


def affine_window(crop: int, scale: float = 0.0, rotate: bool = False) -> int:
    """Side of the window a ``crop`` x ``crop`` crop is resampled from under :func:`random_crops`'
    ``scale`` and ``rotate`` (``crop`` itself without them): the crop zoomed out by ``1 + scale`` and
    turned by any angle fits in it.

    Examples
    --------
    >>> affine_window(128), affine_window(128, 0.25), affine_window(128, 0.25, rotate=True)
    (128, 162, 229)
    """
    if not scale and not rotate:
        return int(crop)
    return int(np.ceil(crop * (np.sqrt(2) if rotate else 1.0) * (1 + scale))) + 2


def _check_affine(scale, rotate) -> None:
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.number)) or not 0 <= scale <= 1:
        raise InvalidParameterError(f"`scale` must be a number in [0, 1] (0: no scale jitter; e.g. 0.25 zooms each "
                                    f"crop by a factor in [1/1.25, 1.25]), got {scale!r}")
    if not isinstance(rotate, (bool, np.bool_)):
        raise InvalidParameterError(f"`rotate` must be True or False, got {rotate!r}")


def _affine_crop(arrays, origin, window: int, crop: int, zoom: float, angle: float) -> list[np.ndarray]:
    """Resample ``crop`` x ``crop`` pixels around the centre of a window: ``zoom`` source pixels per
    crop pixel, turned by ``angle`` radians (bilinear; one-hot targets become soft at edges)."""
    from scipy import ndimage

    m2 = zoom * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre_in = np.asarray(origin, float) + (window - 1) / 2
    offset2 = centre_in - m2 @ np.full(2, (crop - 1) / 2)
    out = []
    for a in arrays:
        if a.ndim == 2:
            out.append(ndimage.affine_transform(a, m2, offset=offset2, output_shape=(crop, crop), order=1))
        else:  # the band/class axis is carried through unchanged
            m3 = np.eye(3)
            m3[:2, :2] = m2
            out.append(ndimage.affine_transform(a, m3, offset=(*offset2, 0.0), output_shape=(crop, crop, a.shape[2]),
                                                order=1))
    return out


def random_crops(image: np.ndarray, targets: np.ndarray, weights: np.ndarray, origins: np.ndarray, crop: int,
                 batch_size: int, *, augment: str | None = "d4", seed: int = 0,
                 jitter: float = 0.0, scale: float = 0.0, rotate: bool = False) -> Iterator[tuple]:
    """Endless batches ``(images, one-hot targets, weights)`` of random crops, each under a random D4 transform.

    Crops are drawn uniformly from ``origins`` (see :func:`crop_origins`); with ``augment="d4"``
    each is flipped/rotated by one of the 8 symmetries of the square (:func:`geonb.training.d4`).
    With ``jitter`` > 0 each crop's bands are multiplied by a random brightness ``1 + U(-jitter, jitter)``
    times a random colour gain per band ``1 + U(-jitter/2, jitter/2)`` (another sun, another sensor
    calibration); ``jitter=0`` draws nothing, so the crops are those of a run without it.

    With ``scale`` > 0 each crop is zoomed by a factor drawn log-uniformly in ``[1/(1+scale), 1+scale]``
    (houses of other sizes); with ``rotate=True`` (with or without ``scale``) it is turned by an angle
    drawn uniformly (streets of other orientations than the chip's). Both act about the centre of a
    window of :func:`affine_window` pixels, resampled bilinearly (targets and weights too). ``origins``
    must then be the corners of such windows, ``crop_origins(region, affine_window(crop, scale, rotate))``,
    or crops near the region's edge take input pixels from outside it (only origins reaching past the
    image are caught). Crop centres then stay half a window from the region's edges.

    Examples
    --------
    >>> img = np.ones((8, 8, 3), np.float32); y = np.zeros((8, 8, 2), np.float32); w = np.ones((8, 8), np.float32)
    >>> x, _, _ = next(random_crops(img, y, w, crop_origins(w > 0, 4), 4, 2, jitter=0.2))
    >>> x.shape, bool(0.7 <= x.min() and x.max() <= 1.3)
    ((2, 4, 4, 3), True)
    """
    from geonb.training import d4

    if isinstance(jitter, bool) or not isinstance(jitter, (int, float, np.number)) or not 0 <= jitter < 1:
        raise InvalidParameterError(f"`jitter` must be a number in [0, 1) (0: no colour jitter; e.g. 0.1), "
                                    f"got {jitter!r}")
    _check_affine(scale, rotate)
    rng = np.random.default_rng(seed)
    window = affine_window(crop, scale, rotate)
    if len(origins) == 0:
        raise InvalidParameterError(
            f"no {window} x {window} window fits wholly in the training region; use a smaller `crop`"
            + (" or less `scale`/`rotate`" if window > crop else ""))
    origins = np.asarray(origins)
    if (origins.max(axis=0) + window > np.asarray(image.shape[:2])).any():
        raise InvalidParameterError(f"`origins` reach past the image for {window} x {window} windows; with `scale` "
                                    f"or `rotate` pass crop_origins(region, affine_window(crop, scale, rotate))")
    while True:
        pick = origins[rng.integers(len(origins), size=batch_size)]
        if window == crop:
            x = np.stack([image[r:r + crop, c:c + crop] for r, c in pick])
            y = np.stack([targets[r:r + crop, c:c + crop] for r, c in pick])
            w = np.stack([weights[r:r + crop, c:c + crop] for r, c in pick])
        else:
            zooms = np.exp(rng.uniform(-np.log1p(scale), np.log1p(scale), batch_size))
            angles = rng.uniform(0, 2 * np.pi, batch_size) if rotate else np.zeros(batch_size)
            parts = [_affine_crop((image, targets, weights), o, window, crop, z, a)
                     for o, z, a in zip(pick, zooms, angles, strict=True)]
            x, y, w = (np.stack([p[i] for p in parts]).astype(np.float32) for i in range(3))
        if augment == "d4":
            ks = rng.integers(0, 8, batch_size)
            for k in np.unique(ks):
                if k:
                    sel = ks == k
                    x[sel], y[sel], w[sel] = d4(x[sel], k), d4(y[sel], k), d4(w[sel], k)
        if jitter:
            gain = (1 + rng.uniform(-jitter, jitter, (batch_size, 1, 1, 1))) * \
                (1 + rng.uniform(-jitter / 2, jitter / 2, (batch_size, 1, 1, x.shape[-1])))
            x = (x * gain).astype(np.float32)
        yield x, y, w


# -------------------------------------------------------------------------------------------
# Footprints out: polygons from the building class, grown back over the border
# -------------------------------------------------------------------------------------------
def prediction_footprints(classes: np.ndarray, transform, crs, *, grow_px: int = 0, min_area_m2: float = 5.0,
                          simplify_m: float | None = 0.5) -> Footprints:
    """Building polygons from a predicted class map, one per building even where houses touch.

    Seeds are the connected regions of ``BUILDING`` (the border class keeps touching houses apart);
    each seed is grown back by up to ``grow_px`` pixels over ``BUILDING``/``BORDER`` pixels (the ring a
    border-class model leaves out), never into another seed's pixels, and a one-pixel gap is kept where
    two grown seeds meet. The regions are then traced by :func:`geonb.labels.mask_to_polygons`.

    Parameters
    ----------
    classes : ndarray uint8 (rows, cols)
        Class codes (``Prediction.classes``); 255 (nodata) counts as background.
    transform, crs
        The grid.
    grow_px : int
        0 for a two-class model; the border width for a border-class model.
    min_area_m2, simplify_m
        See :func:`geonb.labels.mask_to_polygons`.

    Examples
    --------
    >>> from affine import Affine
    >>> c = np.zeros((8, 12), np.uint8); c[1:7, 1:11] = BORDER; c[2:6, 2:5] = BUILDING; c[2:6, 7:10] = BUILDING
    >>> fp = prediction_footprints(c, Affine(1, 0, 0, 0, -1, 0), "EPSG:3857", grow_px=1, min_area_m2=1)
    >>> len(fp)
    2
    """
    from scipy import ndimage

    c = np.asarray(classes)
    if c.ndim != 2:
        raise ShapeMismatchError(f"`classes` must be (rows, cols), got shape {c.shape}")
    if isinstance(grow_px, bool) or not isinstance(grow_px, (int, np.integer)) or grow_px < 0:
        raise InvalidParameterError(f"`grow_px` must be an int >= 0, got {grow_px!r}")
    seeds, _ = ndimage.label(c == BUILDING)
    fg = (c == BUILDING) | (c == BORDER)
    for _ in range(int(grow_px)):
        grown = ndimage.grey_dilation(seeds, size=3)
        add = (seeds == 0) & fg & (grown > 0)
        if not add.any():
            break
        seeds[add] = grown[add]
    # a one-pixel gap where two ids touch, so that 4-connected tracing keeps them apart
    cut = np.zeros(c.shape, bool)
    cut[:-1] |= (seeds[:-1] > 0) & (seeds[1:] > 0) & (seeds[:-1] != seeds[1:])
    cut[:, :-1] |= (seeds[:, :-1] > 0) & (seeds[:, 1:] > 0) & (seeds[:, :-1] != seeds[:, 1:])
    mask = (seeds > 0) & ~cut
    return mask_to_polygons(mask, transform, crs, min_area_m2=min_area_m2, simplify_m=simplify_m, connectivity=4)


# -------------------------------------------------------------------------------------------
# Scores on one split
# -------------------------------------------------------------------------------------------
def score_footprints(split: ChipSplit, polygons, *, on: str = "test", classes: np.ndarray | None = None) -> dict:
    """SpaceNet F1 and pixel scores of ``polygons`` on one split, as a table row.

    Parameters
    ----------
    split : ChipSplit
    polygons : Footprints or list of polygons
        Predicted footprints over the whole chip (a model's or the winners'); only those that belong to
        ``on`` (:meth:`ChipSplit.select`) are scored, against the truth footprints of ``on``.
    on : {"train", "val", "test"}
    classes : ndarray (rows, cols), optional
        The model's class map: adds ``pixel F1``/``pixel IoU`` of it (``BUILDING`` and ``BORDER`` count as
        building). Without it those come from the rasterized polygons, as they do for the winners.

    Returns
    -------
    dict
        ``SpaceNet F1``, ``precision``, ``recall``, ``tp``, ``fp``, ``fn``, ``pixel F1``, ``pixel IoU``,
        ``polygon pixel F1`` (rasterized polygons), ``median building IoU``, ``buildings``.
    """
    truth = split.footprints(on)
    pred = split.select(polygons, on)
    sn = spacenet_f1(truth, pred)
    valid = split.mask(on)
    truth_px = split.instances > 0
    poly_px = (instance_raster(pred, valid.shape, split.transform, split.crs, require_overlap=False) > 0
               if len(pred) else np.zeros(valid.shape, bool))
    poly = building_scores(truth_px, poly_px, valid=valid)
    row = {"SpaceNet F1": sn.f1, "precision": sn.precision, "recall": sn.recall, "tp": sn.tp, "fp": sn.fp,
           "fn": sn.fn, "pixel F1": poly["f1"], "pixel IoU": poly["iou"], "polygon pixel F1": poly["f1"]}
    if classes is not None:
        c = np.asarray(classes)
        if c.shape != valid.shape:
            raise ShapeMismatchError(f"`classes` has shape {c.shape}, the chip {valid.shape}")
        px = building_scores(truth_px, (c == BUILDING) | (c == BORDER), valid=valid)
        row["pixel F1"], row["pixel IoU"] = px["f1"], px["iou"]
    ious = building_ious(truth, pred)
    row["median building IoU"] = float(np.median(ious)) if ious.size else float("nan")
    row["buildings"] = len(truth)
    return row


# -------------------------------------------------------------------------------------------
# The recipe and its ablation
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """One way to train and predict buildings on a chip; each field is a step of the ablation.

    Attributes
    ----------
    model : {"fcn", "unet"}
        The study's buildings FCN, or :func:`geonb.models.build_buildings_unet`.
    border_px : int or None
        Train three classes with a ``BORDER`` band this wide; polygons from the building class, grown
        back by ``border_px`` (:func:`prediction_footprints`). None: two classes.
    small_weight : bool
        :func:`small_building_weights` on top of balanced class weights.
    augment : None or "d4"
        Random flips/rotations of the training crops.
    tta : None, "flip" or "d4"
        Test-time augmentation in :func:`geonb.prediction.predict_scene`.
    crop, batch_size, steps, epochs, learning_rate, filters
        Training crops (random, wholly in the training region), and how long; ``filters`` of the U-Net.
    cosine : bool
        Decay the learning rate from ``learning_rate`` to 5 % of it along a cosine over the epochs.
    min_areas_m2 : tuple of float
        Smallest polygon kept: the value with the best SpaceNet F1 on the validation split is used
        (the first one when there is no validation split).
    thresholds : tuple of float
        Building probability thresholds (:func:`building_classes`): the one with the best pixel F1 on
        the validation split is used (0.5 without one).
    class_weight : "balanced", "sqrt" or None
        Class weights of the loss: ``"balanced"`` (rare classes weigh as much as common ones in total),
        ``"sqrt"`` (the square root of those: half way), None (all 1).
    loss : {"ce", "ce+dice", "ce+jaccard"}
        Weighted cross-entropy alone, or plus ``1 -`` the soft Dice (a soft pixel F1) or soft Jaccard
        of the building channels (building + border) over the batch's training pixels
        (:func:`geonb.models.overlap_loss`), as the SpaceNet winners trained.
    jitter : float in [0, 1)
        Colour/brightness jitter of the training crops (:func:`random_crops`); 0: none.
    scale : float in [0, 1]
        Scale jitter of the training crops: each zoomed by a factor in ``[1/(1+scale), 1+scale]``
        (:func:`random_crops`); 0: none.
    rotate : bool
        Turn each training crop by a random angle (any, not only D4's right angles).
    dropout : float in [0, 1)
        Spatial dropout in the U-Net's bottleneck and up blocks (:func:`geonb.models.build_buildings_unet`);
        0: none.
    ensemble : int >= 1
        Train this many models (seeds ``seed``, ``seed + 1000``, ...) and average their probabilities
        (:func:`geonb.models.average_models`); the training time adds up.
    precision : {"float32", "mixed_bfloat16"}
        Keras dtype policy of the model's layers. ``"mixed_bfloat16"`` computes in bfloat16 and keeps
        the weights (and the softmax) in float32: 1.25x faster training on a CPU with bfloat16
        instructions (AVX512-BF16 or AMX, e.g. AMD Zen 4, Intel Sapphire Rapids) and on GPUs, the same
        scores in our runs; on a CPU without them it is *slower* than ``"float32"``.
    """

    model: str = "unet"
    border_px: int | None = 2
    small_weight: bool = True
    augment: str | None = "d4"
    tta: str | None = "d4"
    crop: int = 128
    batch_size: int = 8
    steps: int = 50
    epochs: int = 20
    learning_rate: float = 1e-3
    cosine: bool = True
    filters: tuple[int, ...] = (16, 32, 64, 128, 256)
    min_areas_m2: tuple[float, ...] = (5.0, 10.0, 20.0, 40.0)
    thresholds: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7)
    class_weight: str | None = "balanced"
    loss: str = "ce"
    jitter: float = 0.0
    scale: float = 0.0
    rotate: bool = False
    dropout: float = 0.0
    ensemble: int = 1
    precision: str = "float32"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise InvalidParameterError(f"`precision` must be one of {PRECISIONS}, got {self.precision!r}; "
                                        f"'mixed_bfloat16' is faster only where the CPU or GPU has bfloat16 units")
        if self.model not in ("fcn", "unet"):
            raise InvalidParameterError(f"`model` must be 'fcn' or 'unet', got {self.model!r}")
        if self.augment not in (None, "d4"):
            raise InvalidParameterError(f"`augment` must be None or 'd4', got {self.augment!r}")
        if self.class_weight not in ("balanced", "sqrt", None):
            raise InvalidParameterError(f"`class_weight` must be 'balanced', 'sqrt' or None, got {self.class_weight!r}")
        if self.loss not in LOSSES:
            raise InvalidParameterError(f"`loss` must be one of {LOSSES}, got {self.loss!r}; e.g. loss='ce+dice'")
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, (int, float)) or not 0 <= self.jitter < 1:
            raise InvalidParameterError(f"`jitter` must be a number in [0, 1) (0: none; e.g. 0.1), got {self.jitter!r}")
        _check_affine(self.scale, self.rotate)
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise InvalidParameterError(f"`dropout` must be a number in [0, 1) (0: none; e.g. 0.1), "
                                        f"got {self.dropout!r}")
        if self.dropout and self.model != "unet":
            raise InvalidParameterError(f"`dropout` is a U-Net setting; the {self.model!r} has none: use model='unet' "
                                        f"or dropout=0")
        if isinstance(self.ensemble, bool) or not isinstance(self.ensemble, (int, np.integer)) or self.ensemble < 1:
            raise InvalidParameterError(f"`ensemble` must be an int >= 1 (models averaged; 1: one model), "
                                        f"got {self.ensemble!r}")
        step = 8 if self.model == "fcn" else 2 ** (len(self.filters) - 1)
        if self.crop % step:
            raise InvalidParameterError(
                f"`crop` must be a multiple of {step} for the {self.model} (it halves the crop {step.bit_length() - 1} "
                f"times), got {self.crop}; choose e.g. {step * max(1, self.crop // step)}")


#: Threshold grid of the overlap-loss step: its calibration differs, so the grid is wider than the default.
WIDE_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)

#: The ablation: each step adds one thing to the one before (names for the table). The last step trains
#: with cross-entropy + soft Dice (an overlap loss, as the SpaceNet winners did) and, since the Dice term
#: already balances the rare building class, with the square root of the balanced class weights.
ABLATION: tuple[tuple[str, dict], ...] = (
    ("FCN (study), 2 classes", {"model": "fcn", "border_px": None, "small_weight": False, "augment": None,
                                "tta": None}),
    ("+ U-Net", {"model": "unet"}),
    ("+ border class", {"border_px": 2}),
    ("+ small-building weights", {"small_weight": True}),
    ("+ D4 augmentation", {"augment": "d4"}),
    ("+ TTA (D4)", {"tta": "d4"}),
    ("+ Dice loss, sqrt class weights", {"loss": "ce+dice", "class_weight": "sqrt", "thresholds": WIDE_THRESHOLDS}),
)


def ablation_recipes(base: Recipe | None = None, **overrides) -> list[tuple[str, Recipe]]:
    """The cumulative recipes of :data:`ABLATION`; ``base`` and ``overrides`` set the common settings.

    Examples
    --------
    >>> [name for name, _ in ablation_recipes()][:2]
    ['FCN (study), 2 classes', '+ U-Net']
    >>> r = ablation_recipes(epochs=2)[-1][1]
    >>> r.tta, r.loss, r.class_weight
    ('d4', 'ce+dice', 'sqrt')
    """
    r = replace(base or Recipe(), **overrides)
    out = []
    for name, change in ABLATION:
        r = replace(r, **change)
        out.append((name, r))
    return out


@dataclass
class RecipeResult:
    """What :func:`run_recipe` produced: the model, its prediction and polygons, scores and timings."""

    recipe: Recipe
    model: object
    prediction: object
    footprints: Footprints
    scores: dict
    min_area_m2: float
    train_seconds: float
    predict_seconds: float
    history: dict = field(default_factory=dict)


def _build(recipe: Recipe, bands: int, classes: tuple[int, ...], normalization, seed: int):
    from geonb.models import build_buildings_fcn, build_buildings_unet, compile_model, overlap_loss
    from geonb.runtime import import_keras

    keras = import_keras()
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(recipe.precision)  # the layers keep the policy they are built under
    try:
        if recipe.model == "fcn":
            model = build_buildings_fcn(recipe.crop, bands=bands, classes=classes, normalization=normalization,
                                        seed=seed, learning_rate=recipe.learning_rate)
        else:
            model = build_buildings_unet(recipe.crop, bands=bands, classes=classes, filters=recipe.filters,
                                         normalization=normalization, seed=seed, learning_rate=recipe.learning_rate,
                                         dropout=recipe.dropout)
    finally:
        keras.config.set_dtype_policy(previous)
    if recipe.loss != "ce":
        compile_model(model, recipe.learning_rate, loss=overlap_loss(classes, kind=recipe.loss.split("+")[1]))
    return model


def fit_on_split(model, image: np.ndarray, split: ChipSplit, recipe: Recipe, *, seed: int = 0,
                 verbose: int = 0, on_epoch=None) -> dict:
    """Train ``model`` on random crops of the training region of ``split``; return the loss history.

    ``on_epoch(epochs_done)``, when given, is called after each of the ``recipe.epochs`` epochs of
    ``recipe.steps`` batches (e.g. to move a progress bar).

    Targets: the chip's class codes (with a border when ``recipe.border_px``), one-hot over the
    model's classes. Weights: ``recipe.class_weight`` class weights over the training pixels (times
    :func:`small_building_weights` when ``recipe.small_weight``), 0 outside ``split.mask("train")``.
    """
    from geonb.labels import one_hot
    from geonb.models import class_codes
    from geonb.training import compute_class_weights

    codes = class_codes(model)
    labels = split.labels(recipe.border_px)
    onehot = one_hot(labels, codes).astype(np.float32)
    train = split.mask("train")
    cw = compute_class_weights(onehot[train][None, None], "balanced" if recipe.class_weight else None, codes)
    if recipe.class_weight == "sqrt":
        cw = np.sqrt(cw)
    w = (onehot @ cw).astype(np.float32)
    if recipe.small_weight:  # the reference size from the training buildings only (nothing of the test half)
        area = np.bincount(split.instances.ravel(), minlength=len(split.assignment) + 1)[1:]
        train_area = area[split.indices("train")]
        reference = float(np.median(train_area[train_area > 0])) if (train_area > 0).any() else None
        w *= small_building_weights(split.instances, reference_px=reference)
    w[~train] = 0.0
    w /= float(w[train].mean())  # mean weight 1 over training pixels: the learning rate keeps its meaning
    origins = crop_origins(split.regions == TRAIN, affine_window(recipe.crop, recipe.scale, recipe.rotate))
    batches = random_crops(image.astype(np.float32), onehot, w, origins, recipe.crop, recipe.batch_size,
                           augment=recipe.augment, seed=seed, jitter=recipe.jitter, scale=recipe.scale,
                           rotate=recipe.rotate)
    history: dict = {}
    for epoch in range(recipe.epochs):
        if recipe.cosine:
            # cosine decay from the recipe's rate to 5 % of it, set between epochs (one fit call per epoch)
            lr = recipe.learning_rate * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * epoch / recipe.epochs)))
            model.optimizer.learning_rate.assign(float(lr))
        fit = model.fit(batches, steps_per_epoch=recipe.steps, epochs=epoch + 1, initial_epoch=epoch,
                        verbose=verbose, shuffle=False)
        for k, vals in fit.history.items():
            history.setdefault(k, []).extend(float(v) for v in vals)
        if on_epoch is not None:
            on_epoch(epoch + 1)
    return history


def _member_threads(workers: int) -> int:
    """TensorFlow intra-op threads of each of ``workers`` training processes side by side: this process's
    cores shared out (at least 1)."""
    from geonb.runtime import available_cores

    return max(1, available_cores() // workers)


_EPOCHS_DONE = None  # in a training process: the queue it reports finished epochs on (set by _worker_start)


def _worker_start(queue) -> None:
    """Initializer of a training process: keep the parent's queue for progress reports."""
    global _EPOCHS_DONE
    _EPOCHS_DONE = queue


def _report_epoch(seed: int, done: int) -> None:
    if _EPOCHS_DONE is not None:
        _EPOCHS_DONE.put((seed, done))


def _train_member(recipe: Recipe, image: np.ndarray, split: ChipSplit, classes, norm, seed: int, verbose: int,
                  threads: int):
    """Train one ensemble member in a fresh (spawned) process; return its weights, history and CPU time.

    TensorFlow's pools are sized to ``threads`` before Keras starts (unless the user set ``TF_NUM_*``), so
    members side by side share the cores instead of each starting one thread per core. The process is
    not pinned to cores: measured on 2 cores, two pinned processes got 65 % of their core's time, two
    free ones 84 % (the data pipeline's thread can use the other core while a neighbour waits).
    """
    from geonb.runtime import THREAD_ENV

    if not any(os.environ.get(v) for v in THREAD_ENV):
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    c0 = time.process_time()
    model = _build(recipe, image.shape[-1], classes, norm, seed)
    history = fit_on_split(model, image, split, recipe, seed=seed, verbose=verbose,
                           on_epoch=lambda done: _report_epoch(seed, done))
    return [np.asarray(w) for w in model.get_weights()], history, time.process_time() - c0


def _train_members(recipe: Recipe, image: np.ndarray, split: ChipSplit, classes, norm, seeds, verbose: int,
                   workers: int, progress: bool):
    """Build and train one model per seed, here or ``workers`` at a time in spawned processes; return the
    models, their histories and the worker processes' CPU seconds."""
    from tqdm.auto import tqdm

    total = len(seeds) * recipe.epochs * recipe.steps
    what = f"training {len(seeds)} {recipe.model}s" if len(seeds) > 1 else f"training a {recipe.model}"
    with tqdm(total=total, desc=what, unit="batch", disable=not progress) as bar:
        if workers == 1 or len(seeds) == 1:
            members, histories = [], []
            for s in seeds:
                model = _build(recipe, image.shape[-1], classes, norm, s)
                histories.append(fit_on_split(model, image, split, recipe, seed=s, verbose=verbose,
                                              on_epoch=lambda _done: bar.update(recipe.steps)))
                members.append(model)
            return members, histories, 0.0
        done = _train_in_processes(recipe, image, split, classes, norm, seeds, verbose, workers,
                                   lambda: bar.update(recipe.steps))
    members = []
    for s, (weights, _, _) in zip(seeds, done, strict=True):
        model = _build(recipe, image.shape[-1], classes, norm, s)
        model.set_weights(weights)
        members.append(model)
    return members, [d[1] for d in done], sum(d[2] for d in done)


def _train_in_processes(recipe: Recipe, image: np.ndarray, split: ChipSplit, classes, norm, seeds, verbose: int,
                        workers: int, epoch_done) -> list:
    """:func:`_train_member` for each seed, ``workers`` processes at a time; ``epoch_done()`` is called here
    for each epoch a process reports. The first failure stops the other processes and is raised."""
    import multiprocessing
    import queue as queues
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    _check_parallel_backend(workers)
    n = min(workers, len(seeds))
    # spawn, not fork: a forked copy of a process whose TensorFlow already started can hang
    ctx = multiprocessing.get_context("spawn")
    reports = ctx.Queue()

    expected, received = len(seeds) * recipe.epochs, 0

    def drain(wait_s: float = 0.0) -> None:
        # the reports travel on their own pipe: the last ones may land just after a member's result
        nonlocal received
        while received < expected:
            try:
                reports.get(timeout=wait_s) if wait_s else reports.get_nowait()
            except queues.Empty:
                return
            received += 1
            epoch_done()

    pool = ProcessPoolExecutor(n, mp_context=ctx, initializer=_worker_start, initargs=(reports,))
    try:
        jobs = {pool.submit(_train_member, recipe, image, split, classes, norm, s, verbose, _member_threads(n)): s
                for s in seeds}
        pending = set(jobs)
        while pending:
            finished, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            drain()
            for job in sorted(finished, key=lambda j: seeds.index(jobs[j])):
                exc = job.exception()
                if exc is not None:
                    # stop the members still training (no public call for it before Python 3.14)
                    pool.shutdown(wait=False, cancel_futures=True)
                    for proc in list((getattr(pool, "_processes", None) or {}).values()):
                        proc.terminate()
                    raise ModelError(f"ensemble member with seed {jobs[job]} failed in its training process "
                                     f"({type(exc).__name__}: {exc}); run with workers=1 to see it here") from exc
        drain(wait_s=5.0)
        return [job.result() for job in jobs]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        reports.close()


def _check_workers(workers) -> int:
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise InvalidParameterError(f"`workers` must be an int >= 1 (ensemble members trained at once, each in "
                                    f"its own process; 1: one after another here), got {workers!r}")
    return int(workers)


def _check_parallel_backend(workers: int) -> None:
    """Side-by-side processes share a CPU's cores through TensorFlow's thread counts; on another backend
    they would not, and on a GPU each process would claim the whole device."""
    from geonb.runtime import import_keras

    backend = import_keras().config.backend()
    if backend != "tensorflow":
        raise InvalidParameterError(f"`workers={workers}` trains members side by side on a CPU with TensorFlow; this "
                                    f"kernel's Keras backend is {backend!r}: use workers=1 (members one after another)")
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        raise InvalidParameterError(f"`workers={workers}`: a GPU is visible, and each process would claim all of it; "
                                    f"use workers=1 (one model at a time uses the whole GPU)")


def run_recipe(chip, split: ChipSplit, recipe: Recipe, *, seed: int = 0, verbose: int = 0,
               workers: int = 1, progress: bool = True) -> RecipeResult:
    """Train ``recipe`` on the training split of ``chip``, predict the whole chip, score the test split.

    Parameters
    ----------
    chip : Chip or Scene
        A :class:`geonb.datasets.spacenet.Chip` (or its scene).
    split : ChipSplit
        From :func:`split_chip` on the same grid.
    recipe : Recipe
    seed : int
        Weights, crops and augmentation (member ``i`` of an ensemble: ``seed + 1000 * i``).
    verbose : int
        Keras' ``fit`` verbosity (in parallel workers it prints to the process's terminal, not a notebook).
    workers : int
        Train the members of an ensemble (``recipe.ensemble > 1``) this many at a time, each in its own
        process with ``cores // workers`` TensorFlow threads (CPU and TensorFlow backend only; a
        ``TF_NUM_INTRAOP_THREADS`` set by the user applies to every process). On a small CPU this trains
        more batches per second than one model on all cores (2 cores, bfloat16 U-Net: one batch every
        280 ms for the pair against 365 ms for one model on both cores), so ``Recipe(ensemble=2)`` with
        ``workers=2`` trains two models in about 1.5x the time of one. Members get the same seeds
        (weights, crops) either way. A member that fails stops the others and is reported with its seed.
    progress : bool
        A progress bar (tqdm: a widget in a notebook, text in a terminal) over the training batches of all
        members, moved after each epoch of ``recipe.steps`` batches (from the worker processes too), then
        one over the prediction's tiles.

    Returns
    -------
    RecipeResult
        ``scores`` is :func:`score_footprints` on ``"test"`` plus ``train s`` (wall clock), ``train cpu s``
        (CPU seconds of this process, all threads, plus the worker processes', their start included: unlike
        the wall clock, not inflated by other work on the machine), ``predict s``, ``min area m2``,
        ``threshold`` and ``seed``.
    """
    from geonb.models import average_models, input_statistics

    workers = _check_workers(workers)
    scene = getattr(chip, "scene", chip)
    if scene.shape != split.regions.shape:
        raise ShapeMismatchError(f"the chip is {scene.shape} but the split {split.regions.shape}; split this chip")
    # the builders seed the weights and random_crops the crops: no global seeding needed
    classes = (BACKGROUND, BUILDING, BORDER) if recipe.border_px else (BACKGROUND, BUILDING)
    image = np.asarray(scene.image, np.float32)
    norm = input_statistics(image[None], (split.regions == TRAIN)[None])
    seeds = [seed + 1000 * i for i in range(recipe.ensemble)]
    t0, c0 = time.perf_counter(), time.process_time()
    members, histories, worker_cpu = _train_members(recipe, image, split, classes, norm, seeds, verbose, workers,
                                                    progress)
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0 + worker_cpu
    history: dict = {}
    for i, h in enumerate(histories):
        history.update(h if i == 0 else {f"{k} (member {i})": v for k, v in h.items()})
    result = predict_and_score(average_models(members), chip, split, recipe, progress=progress)
    result.train_seconds = train_s
    result.history = history
    result.scores.update({"train s": round(train_s, 1), "train cpu s": round(train_cpu, 1), "seed": int(seed)})
    return result


def predict_and_score(model, chip, split: ChipSplit, recipe: Recipe, *, progress: bool = False) -> RecipeResult:
    """Predict the whole chip with a trained model (``recipe.tta``), trace polygons, score the test split.

    The smallest polygon area kept is the one of ``recipe.min_areas_m2`` with the best SpaceNet F1 on
    the validation split (the first one without a validation split): the test split is never used to tune.
    Used by :func:`run_recipe`; call it directly to score one trained model with and without TTA.
    """
    from geonb.prediction import predict_scene

    scene = getattr(chip, "scene", chip)
    t0 = time.perf_counter()
    pred = predict_scene(model, scene, patch_size=256, overlap=0.25, tta=recipe.tta, progress=progress)
    seconds = time.perf_counter() - t0
    grow = int(recipe.border_px or 0)
    has_val = bool(split.mask("val").any() and len(split.indices("val")))
    threshold = 0.5
    if has_val and len(recipe.thresholds) > 1:
        val, truth = split.mask("val"), split.instances > 0
        f1 = [building_scores(truth, np.isin(building_classes(pred, t), (BUILDING, BORDER)), valid=val)["f1"]
              for t in recipe.thresholds]
        threshold = float(recipe.thresholds[int(np.nanargmax(f1))])
    classes = building_classes(pred, threshold)
    areas = tuple(recipe.min_areas_m2) or (5.0,)
    best = areas[0]
    if has_val and len(areas) > 1:
        f1 = [score_footprints(split, prediction_footprints(classes, split.transform, split.crs, grow_px=grow,
                                                            min_area_m2=a), on="val")["SpaceNet F1"] for a in areas]
        best = areas[int(np.nanargmax(f1))]
    polys = prediction_footprints(classes, split.transform, split.crs, grow_px=grow, min_area_m2=best)
    scores = score_footprints(split, polys, on="test", classes=classes)
    scores.update({"predict s": round(seconds, 1), "min area m2": best, "threshold": threshold})
    return RecipeResult(recipe, model, pred, polys, scores, best, 0.0, seconds)


def building_classes(prediction, threshold: float = 0.5) -> np.ndarray:
    """A building class map from a prediction's probabilities, with the building threshold moved.

    A pixel is building (``BUILDING`` or ``BORDER``) where ``1 - p(background) >= threshold``; there it
    takes the likelier of the two. ``threshold=0.5`` is close to the arg-max class map. A model trained
    with class weights predicts the rare class too often; a threshold chosen on validation pixels moves
    the balance back without retraining.

    Parameters
    ----------
    prediction : Prediction
        From :func:`geonb.prediction.predict_scene`, with class codes ``BACKGROUND``, ``BUILDING`` and
        optionally ``BORDER``.
    threshold : float in (0, 1)

    Returns
    -------
    ndarray uint8 (rows, cols)
        Nodata pixels keep the prediction's nodata value.
    """
    codes = tuple(prediction.class_codes)
    if BACKGROUND not in codes or BUILDING not in codes:
        raise InvalidParameterError(f"`prediction` has class codes {codes}; building classes need "
                                    f"BACKGROUND={BACKGROUND} and BUILDING={BUILDING}")
    if not 0 < threshold < 1:
        raise InvalidParameterError(f"`threshold` must lie in (0, 1), got {threshold!r}")
    p = prediction.probabilities
    fg = 1.0 - p[..., codes.index(BACKGROUND)] >= threshold
    out = np.full(fg.shape, BACKGROUND, np.uint8)
    out[fg] = BUILDING
    if BORDER in codes:
        out[fg & (p[..., codes.index(BORDER)] > p[..., codes.index(BUILDING)])] = BORDER
    out[prediction.nodata_mask] = prediction.classes[prediction.nodata_mask]
    return out


def run_ablation(chip, split: ChipSplit, recipes, *, seed: int = 0, verbose: int = 0,
                 on_result=None, workers: int = 1, progress: bool = True) -> dict[str, RecipeResult]:
    """Run named recipes in order (e.g. :func:`ablation_recipes`); return ``{name: RecipeResult}``.

    A recipe that differs from the one before only in ``tta`` reuses that model (only prediction
    changes), so the TTA row costs a prediction, not a training. ``on_result(name, result)`` is
    called after each row (e.g. to save partial results). ``workers`` and ``progress``: as in
    :func:`run_recipe` (a bar per row that trains, one per prediction).
    """
    out: dict[str, RecipeResult] = {}
    previous = None
    for name, recipe in recipes:
        if previous is not None and replace(previous.recipe, tta=recipe.tta) == recipe:
            res = predict_and_score(previous.model, chip, split, recipe, progress=progress)
            res.train_seconds, res.history = previous.train_seconds, previous.history
            res.scores.update({k: previous.scores[k] for k in ("train s", "train cpu s") if k in previous.scores})
            res.scores["seed"] = int(seed)
        else:
            res = run_recipe(chip, split, recipe, seed=seed, verbose=verbose, workers=workers, progress=progress)
        out[name] = previous = res
        if on_result is not None:
            on_result(name, res)
    return out


def winners_table(chip, split: ChipSplit, on: str = "test"):
    """The scores of the chip's other predictions (e.g. the SpaceNet winners') on one split, a DataFrame."""
    import pandas as pd

    preds: Mapping = getattr(chip, "predictions", {}) or {}
    rows = {name: score_footprints(split, fp, on=on) for name, fp in preds.items()}
    return pd.DataFrame(rows).T


__all__ = [
    "ABLATION",
    "LOSSES",
    "PRECISIONS",
    "SCHEMES",
    "SIDES",
    "SPLIT_NAMES",
    "TEST",
    "TRAIN",
    "VAL",
    "WIDE_THRESHOLDS",
    "ChipSplit",
    "Recipe",
    "RecipeResult",
    "ablation_recipes",
    "affine_window",
    "building_classes",
    "crop_origins",
    "fit_on_split",
    "labels_from_instances",
    "predict_and_score",
    "prediction_footprints",
    "random_crops",
    "run_ablation",
    "run_recipe",
    "score_footprints",
    "small_building_weights",
    "split_chip",
    "split_regions",
    "winners_table",
]
