"""Full-scene prediction: every pixel of a scene of any size, in memory or window by window on disk.

The study cut scenes into non-overlapping patches and discarded the pixels that did not fit.
Here nothing is lost:

1. The scene is covered by tiles from :func:`geonb.patches.grid_windows` with ``edge="shift"``
   (the last tile of a row or column is shifted back inside the scene), overlapping by
   ``overlap``; a scene smaller than one tile is padded by reflection and cropped afterwards.
2. Each tile's class probabilities are weighted by a window that falls off towards the tile edges
   (where a convolution sees less context) and blended: the result is the weighted mean over the
   tiles covering each pixel, so there are no seams.
3. Nodata pixels get probability 0 and, in the class map, the value :func:`class_map_nodata` gives:
   ``NODATA`` (0), or 255 for a model whose class codes include 0 (buildings: background is 0), so that
   a real class is never mistaken for "no data". ``Prediction.nodata_mask`` is the authority.

Tile size: a model built for one input size uses that size. The geonb models take any size, so
they predict large tiles (256 x 256 by default): a pixel well inside a tile sees the same
neighbourhood as in a 16 x 16 training patch, and large tiles waste far less work on overlap.
``patch_size="scene"`` predicts the whole scene in one go (memory grows with the scene).

:func:`predict_raster` does the same for a GeoTIFF too large for memory: it reads blocks with a
halo of context, predicts them, and writes the classes (and optionally the probabilities) to a
georeferenced GeoTIFF, atomically.
"""

from __future__ import annotations

import contextlib
import os
import warnings
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from geonb.errors import (
    BandMismatchError,
    ClassCodeError,
    GeonbError,
    InvalidParameterError,
    ModelError,
    RasterWriteError,
    ShapeMismatchError,
)
from geonb.io import atomic_paths, check_output_paths, open_raster
from geonb.labels import LAKE_CLASS_NAMES, LAKE_CLASSES, NODATA
from geonb.models import band_axis_hint, is_keras_model, model_io
from geonb.patches import grid_windows
from geonb.scene import Scene, read_image
from geonb.training import d4, resolve_codes
from geonb.windows import tile_side

#: Tile side used for models that take any input size.
DEFAULT_TILE = 256
#: Overlap (pixels) between large tiles: about twice the lakes FCN's 13-pixel receptive field.
DEFAULT_MARGIN = 32
#: Class-map value at nodata pixels when 0 is one of the class codes (so 0 cannot mean "no data").
NODATA_WHEN_ZERO_IS_A_CLASS = 255


def class_map_nodata(codes: Sequence[int]) -> int:
    """The value a class map holds at nodata pixels for a model with class codes ``codes``.

    ``NODATA`` (0) unless 0 is one of the codes (buildings: ``BACKGROUND = 0``); then 255, which a
    written class map also declares as its nodata value. Whether a pixel has data is told by the
    nodata mask (``Prediction.nodata_mask``; the file's nodata value or mask), never by this value alone.

    Raises
    ------
    ClassCodeError
        Both 0 and 255 are class codes: no uint8 value is left to mean "no data".

    Examples
    --------
    >>> class_map_nodata((1, 2, 3)), class_map_nodata((0, 1))
    (0, 255)
    """
    codes = {int(c) for c in codes}
    if NODATA not in codes:
        return NODATA
    if NODATA_WHEN_ZERO_IS_A_CLASS not in codes:
        return NODATA_WHEN_ZERO_IS_A_CLASS
    raise ClassCodeError(
        f"the class codes include both 0 and 255 ({sorted(codes)[:4]}...{sorted(codes)[-2:]}), so no uint8 value is "
        "left to mark nodata pixels in a class map; recode the classes so that 0 or 255 is free (e.g. with "
        "geonb.labels.remap_labels and a label_map), and build the model with those codes"
    )


def _check_class_values(classes: np.ndarray, codes: tuple[int, ...], fill: int, name: str) -> None:
    """Refuse class-map values other than ``codes`` and ``fill`` (cheap: a bincount for uint8/small codes)."""
    if not classes.size:
        return
    if classes.dtype.kind not in "iu":
        raise InvalidParameterError(
            f"`{name}` must be an integer class map (uint8 class codes), got dtype {classes.dtype}; "
            "pass class codes, e.g. np.asarray(codes, np.uint8)[probabilities.argmax(-1)], not probabilities or a mask"
        )
    lo, hi = int(classes.min()), int(classes.max())
    present = np.flatnonzero(np.bincount(classes.ravel().astype(np.int64) - lo)) + lo if hi - lo < 65536 \
        else np.unique(classes)
    bad = sorted(set(present.tolist()) - {*codes, fill})
    if bad:
        raise ClassCodeError(
            f"`{name}` holds values {bad[:10]} that are neither the prediction's class codes {codes} nor its "
            f"nodata value {fill}; give the class code of each channel as `class_codes` (the model's: "
            "geonb.models.class_codes(model)) and mark no-data pixels in `nodata_mask`"
        )


@dataclass
class Prediction:
    """Class probabilities and the class map of one scene.

    Attributes
    ----------
    probabilities : ndarray float32 (rows, cols, classes)
        Softmax output blended over tiles; 0 at nodata pixels.
    classes : ndarray uint8 (rows, cols)
        Class codes (``class_codes[argmax]``); at nodata pixels :func:`class_map_nodata` of the codes:
        ``NODATA`` (0), or 255 when 0 is one of ``class_codes`` (buildings). Every value is one of
        ``class_codes`` or that nodata value (checked).
    class_codes : tuple of int
        Code of each probability channel.
    nodata_mask : ndarray bool (rows, cols)
        True where the image has no data: **the authority** on which pixels have a prediction (a
        class value equal to the nodata value is a real class wherever the mask is False, e.g.
        background 0 for buildings).
    name : str
    """

    probabilities: np.ndarray
    classes: np.ndarray
    class_codes: tuple[int, ...]
    nodata_mask: np.ndarray
    name: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        from geonb.models import check_class_codes_arg

        self.class_codes = check_class_codes_arg(self.class_codes, name="class_codes")
        self.classes = np.asarray(self.classes)
        self.nodata_mask = np.asarray(self.nodata_mask, dtype=bool)
        probs = np.asarray(self.probabilities)
        if self.classes.ndim != 2 or self.nodata_mask.shape != self.classes.shape:
            raise InvalidParameterError(
                f"`classes` {self.classes.shape} and `nodata_mask` {self.nodata_mask.shape} must be one "
                "(rows, cols) grid"
            )
        if probs.shape != self.classes.shape + (len(self.class_codes),):
            raise InvalidParameterError(
                f"`probabilities` has shape {probs.shape} but {len(self.class_codes)} class codes "
                f"{self.class_codes} on a {self.classes.shape} grid need "
                f"{self.classes.shape + (len(self.class_codes),)}"
            )
        _check_class_values(self.classes, self.class_codes, class_map_nodata(self.class_codes), "classes")

    @property
    def shape(self) -> tuple[int, int]:
        return self.classes.shape

    def probability(self, code: int) -> np.ndarray:
        """``(rows, cols)`` probability of class ``code`` (e.g. ``WATER``)."""
        if code not in self.class_codes:
            raise InvalidParameterError(f"class code {code} is not predicted; the codes are {self.class_codes}")
        return self.probabilities[..., self.class_codes.index(code)]

    def __repr__(self) -> str:
        return (f"Prediction({self.name!r}, {self.shape[0]}x{self.shape[1]} px, classes {self.class_codes}, "
                f"{int(self.nodata_mask.sum())} nodata px)")


def blend_weights(size_rows: int, size_cols: int, ramp: int) -> np.ndarray:
    """``(rows, cols)`` float32 tile weights: 1 inside, falling linearly to ~0 over ``ramp`` pixels.

    Linear ramps of overlapping tiles sum to a constant, so blending is a smooth cross-fade.
    A floor of 0.01 keeps scene-border pixels (covered by one tile edge only) well defined.

    Examples
    --------
    >>> blend_weights(6, 6, 2)[2].round(2).tolist()
    [0.25, 0.75, 1.0, 1.0, 0.75, 0.25]
    """

    def axis(n: int) -> np.ndarray:
        i = np.arange(n, dtype=np.float32)
        d = np.minimum(i + 0.5, n - i - 0.5)
        return np.clip(d / max(ramp, 1), 0.01, 1.0)

    return np.outer(axis(size_rows), axis(size_cols)).astype(np.float32)


def _resolve_tiling(model, shape: tuple[int, int], patch_size, overlap) -> tuple[tuple[int, int], int]:
    _, _, fixed = model_io(model)
    rows, cols = shape
    if patch_size == "scene":
        if fixed is not None:
            raise ModelError(f"the model takes {fixed}x{fixed} inputs only, so it cannot predict a whole scene")
        # multiples of 8 suit every geonb model (poolings, strides) and at least 16 for the FCN's valid convs
        tr, tc = tile_side(rows), tile_side(cols)
        return (tr, tc), min(tr, tc)
    if patch_size is None:
        patch_size = fixed if fixed is not None else DEFAULT_TILE
    if not isinstance(patch_size, (int, np.integer)) or patch_size < 2:
        raise InvalidParameterError(f"`patch_size` must be an int >= 2, 'scene' or None, got {patch_size!r}")
    if fixed is not None and patch_size != fixed:
        raise ModelError(f"the model takes {fixed}x{fixed} inputs; got patch_size={patch_size}")
    t = int(patch_size)
    if fixed is None and is_keras_model(model):
        # A dynamic model need not use tiles larger than the scene (rounded up to a multiple of 8).
        tr, tc = min(t, tile_side(rows)), min(t, tile_side(cols))
    else:
        tr = tc = t
    if overlap is None:
        overlap = 0.5 if max(tr, tc) <= 64 else min(0.5, DEFAULT_MARGIN / max(tr, tc))
    if not 0 <= float(overlap) < 1:
        raise InvalidParameterError(f"`overlap` must be a fraction in [0, 1), got {overlap!r}")
    stride_px = max(1, int(round(min(tr, tc) * (1 - float(overlap)))))
    return (tr, tc), stride_px


def _tile_windows(shape: tuple[int, int], tile: tuple[int, int], stride: int) -> np.ndarray:
    """``(n, 4)`` windows ``(row, col, h, w)`` covering ``shape`` (>= tile) with shifted edge tiles."""
    tr, tc = tile
    if tr == tc:
        return grid_windows(shape, tr, min(stride, tr), edge="shift").windows
    rows_w = grid_windows((shape[0], tr), tr, min(stride, tr), edge="shift").row_offsets
    cols_w = grid_windows((tc, shape[1]), tc, min(stride, tc), edge="shift").col_offsets
    r, c = np.meshgrid(rows_w, cols_w, indexing="ij")
    return np.stack([r.ravel(), c.ravel(), np.full(r.size, tr), np.full(r.size, tc)], axis=1)


def _default_batch(tile: tuple[int, int]) -> int:
    # ~256 K pixels per batch: 4 tiles of 256^2, 1024 of 16^2. Larger batches are no faster on a CPU and
    # each of the lakes FCN's 128-channel activations costs 128 MiB per 256 K pixels.
    return int(max(1, min(1024, (1 << 18) // (tile[0] * tile[1]))))


def _batches(windows: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    for i in range(0, len(windows), batch_size):
        yield windows[i:i + batch_size]


def raster_output_profile(rows: int, cols: int, crs, transform) -> dict:
    """The GeoTIFF profile of a class map or probability raster on this grid (DEFLATE; 256-px tiles when the
    raster is at least that large), shared by :func:`predict_raster` and the chunked prediction on Dask."""
    profile = {"driver": "GTiff", "height": rows, "width": cols, "crs": crs, "transform": transform,
               "compress": "deflate", "tiled": True, "blockxsize": 256, "blockysize": 256}
    if rows < 256 or cols < 256:
        profile.update(tiled=False)
        profile.pop("blockxsize")
        profile.pop("blockysize")
    return profile


def predict_array(model, image: np.ndarray, *, nodata_mask: np.ndarray | None = None, patch_size=None,
                  overlap: float | None = None, batch_size: int | None = None, progress: bool = False,
                  desc: str = "tiles") -> np.ndarray:
    """Blended class probabilities ``(rows, cols, classes)`` float32 for an image ``(rows, cols, bands)``.

    The workhorse of :func:`predict_scene` and :func:`predict_raster` (see there for the parameters);
    nodata is not masked here, but tiles without a valid pixel (all under ``nodata_mask``) are not sent
    to the model: their pixels hold 0, and every valid pixel gets exactly what it would get otherwise.
    """
    bands, n_out, _ = model_io(model)
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise InvalidParameterError(f"`image` must be (rows, cols, bands), got shape {image.shape}")
    if image.shape[2] != bands:
        raise BandMismatchError(
            f"the image has {image.shape[2]} bands but the model takes {bands}; select the model's bands "
            "(e.g. scene.select_bands(('red', 'green', 'blue'))) before predicting" + band_axis_hint(image.shape, bands)
        )
    rows, cols = image.shape[:2]
    if rows == 0 or cols == 0:
        raise InvalidParameterError(f"`image` is empty: shape {image.shape}")
    if nodata_mask is not None:
        nodata_mask = np.asarray(nodata_mask)
        if nodata_mask.shape != (rows, cols):
            raise ShapeMismatchError(
                f"`nodata_mask` has shape {nodata_mask.shape} but the image grid is {(rows, cols)}"
            )
        nodata_mask = nodata_mask.astype(bool)
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size < 1):
        raise InvalidParameterError(f"`batch_size` must be an int >= 1 or None, got {batch_size!r}")
    invalid = ~np.isfinite(image).all(axis=-1)
    if nodata_mask is not None:
        invalid &= ~nodata_mask
    if invalid.any():
        raise InvalidParameterError(
            f"`image` holds NaN or inf at {int(invalid.sum())} pixels outside `nodata_mask`; mark them as nodata "
            "(a Scene read with geonb.scene.read_scene does this)"
        )
    padded = image
    if nodata_mask is not None and np.any(nodata_mask):
        padded = image.copy()
        padded[nodata_mask] = 0.0
    if not is_keras_model(model):  # per-pixel baselines: the whole image at once
        return np.asarray(model.predict_proba(padded[None]), dtype=np.float32)[0]
    tile, stride = _resolve_tiling(model, (rows, cols), patch_size, overlap)
    pr, pc = max(0, tile[0] - rows), max(0, tile[1] - cols)
    if pr or pc:
        padded = np.pad(padded, ((0, pr), (0, pc), (0, 0)), mode="reflect" if min(rows, cols) > 1 else "edge")
    prow, pcol = padded.shape[:2]
    windows = _tile_windows((prow, pcol), tile, stride)
    n_all = len(windows)  # the batch size follows the full tiling: skipping changes no compiled shape
    if nodata_mask is not None and np.any(nodata_mask):
        # a tile without one valid pixel only ever feeds nodata pixels: leave it out (identical result at
        # every valid pixel; a mostly-fill tile over the ocean costs nothing)
        valid = np.pad(~nodata_mask, ((0, pr), (0, pc)), constant_values=False)
        windows = windows[[bool(valid[r:r + h, c:c + w].any()) for r, c, h, w in windows]]
        if len(windows) == 0:
            return np.zeros((rows, cols, n_out), dtype=np.float32)
    weight = blend_weights(tile[0], tile[1], ramp=max(1, min(tile) - stride))
    acc = np.zeros((prow, pcol, n_out), dtype=np.float32)
    wsum = np.zeros((prow, pcol), dtype=np.float32)
    bs = int(batch_size) if batch_size else _default_batch(tile)
    if bs < 1:
        raise InvalidParameterError(f"`batch_size` must be >= 1, got {batch_size!r}")
    bs = min(bs, n_all)
    buf = np.zeros((bs, tile[0], tile[1], bands), dtype=np.float32)
    n_batches = -(-len(windows) // bs)
    for batch in tqdm(_batches(windows, bs), total=n_batches, desc=desc, leave=False, disable=not progress):
        for k, (r, c, h, w) in enumerate(batch):
            buf[k] = padded[r:r + h, c:c + w]
        # a full buffer every call (the tail zero-padded): one compiled shape, no retracing
        probs = np.asarray(model.predict_on_batch(buf), dtype=np.float32)
        for k, (r, c, h, w) in enumerate(batch):
            acc[r:r + h, c:c + w] += probs[k] * weight[..., None]
            wsum[r:r + h, c:c + w] += weight
    wsum = wsum[:rows, :cols, None]
    # pixels no tile covered (nodata only, when tiles were skipped) get 0, not 0/0
    return np.divide(acc[:rows, :cols], wsum, out=np.zeros((rows, cols, n_out), np.float32), where=wsum > 0)


def _as_scene(scene) -> Scene:
    if isinstance(scene, Scene):
        return scene
    if isinstance(scene, np.ndarray):
        return Scene(scene)
    raise InvalidParameterError(
        f"`scene` must be a geonb Scene or an array (rows, cols, bands), got {type(scene).__name__}"
    )


#: Test-time augmentations :func:`predict_scene` knows, and the D4 transforms (see
#: :func:`geonb.training.d4`) each averages: ``"flip"`` the identity, the two flips and the half turn;
#: ``"d4"`` all 8 flips and rotations.
TTA_TRANSFORMS: dict[str, tuple[int, ...]] = {"flip": (0, 2, 4, 6), "d4": tuple(range(8))}


def _d4_inverse(k: int) -> int:
    # a rotation is undone by the opposite rotation; a flip-and-rotate is a reflection, its own inverse
    return (4 - k) % 4 if k < 4 else k


def tta_transforms(tta) -> tuple[int, ...]:
    """The D4 transforms (0..7, as :func:`geonb.training.d4`) that ``tta`` averages; ``(0,)`` for none.

    Examples
    --------
    >>> tta_transforms(None), tta_transforms("flip"), len(tta_transforms(True))
    ((0,), (0, 2, 4, 6), 8)
    """
    if tta is None or tta is False:
        return (0,)
    if tta is True:
        return TTA_TRANSFORMS["d4"]
    if isinstance(tta, str) and tta in TTA_TRANSFORMS:
        return TTA_TRANSFORMS[tta]
    raise InvalidParameterError(
        f"`tta` must be None/False (off), 'flip' (4 flips), 'd4' or True (all 8 flips and rotations), got {tta!r}"
    )


def predict_scene(model, scene: Scene | np.ndarray, *, patch_size: int | str | None = None,
                  overlap: float | None = None, batch_size: int | None = None,
                  classes: Sequence[int] | None = None, progress: bool = True, tta=None) -> Prediction:
    """Predict every pixel of a scene with a Keras model or a baseline.

    Parameters
    ----------
    model : keras.Model or baseline
        Input ``(n, rows, cols, bands)``, output ``(n, rows, cols, classes)`` softmax.
    scene : Scene or ndarray (rows, cols, bands)
        Any size, including smaller than a patch. Bands must be the model's, in its order.
    patch_size : int, "scene" or None
        Tile side. ``None``: the model's fixed input size, else 256 (capped at the scene size).
        ``"scene"``: one tile for the whole scene (memory grows with the scene).
    overlap : float in [0, 1), optional
        Fraction of a tile shared with its neighbour. Default: 0.5 for tiles <= 64 px, else
        32 px (about twice the lakes FCN's receptive field).
    batch_size : int, optional
        Tiles per model call (default: about 256 K pixels per call).
    classes : sequence of int, optional
        Class code of each output channel, only for a model that carries none (geonb's builders,
        baselines, :func:`geonb.training.train` and :func:`geonb.models.load_model` record them); must
        agree with the model's own codes. Nothing is guessed from the channel count.
    progress : bool
        A progress bar over batches of tiles.
    tta : None, False, True, "flip" or "d4"
        Test-time augmentation: predict the scene also flipped (``"flip"``: 4 versions) or flipped and
        rotated (``"d4"`` or ``True``: all 8), turn each result back and average the probabilities.
        Costs 4 or 8 times the time; a model that is the same under flips and rotations (e.g. a
        per-pixel model) gives the same result with and without it. Off by default.

    Returns
    -------
    Prediction
        ``probabilities`` ``(rows, cols, classes)`` float32 and ``classes`` ``(rows, cols)`` uint8,
        both on the scene's grid; nodata pixels have probability 0 and class :func:`class_map_nodata`
        (0, or 255 for a model with class code 0); ``nodata_mask`` tells them apart.

    Raises
    ------
    BandMismatchError
        The scene's band count differs from the model's input.
    """
    ks = tta_transforms(tta)
    sc = _as_scene(scene)
    codes = resolve_codes(model, classes)
    probs = None
    for i, k in enumerate(ks, start=1):
        # d4 works on a stack (n, rows, cols, ...): add and drop a leading axis; tiles and blending follow the
        # transformed scene, so rows and cols may swap
        image, mask = (np.ascontiguousarray(d4(a[None], k)[0]) for a in (sc.image, sc.nodata_mask))
        desc = f"predict {sc.name}".strip() + (f" (tta {i}/{len(ks)})" if len(ks) > 1 else "")
        p = predict_array(model, image, nodata_mask=mask, patch_size=patch_size, overlap=overlap,
                          batch_size=batch_size, progress=progress, desc=desc)
        p = d4(p[None], _d4_inverse(k))[0]
        probs = p.copy() if probs is None else probs + p
    if len(ks) > 1:
        probs /= np.float32(len(ks))
    return _finish(np.ascontiguousarray(probs, dtype=np.float32), codes, sc.nodata_mask, sc.name)


def _finish(probs: np.ndarray, codes: tuple[int, ...], mask: np.ndarray, name: str = "") -> Prediction:
    lookup = np.asarray(codes, dtype=np.uint8)
    cls = lookup[np.argmax(probs, axis=-1)]
    cls[mask] = class_map_nodata(codes)  # never 0 when 0 is a class: background must not read as nodata
    probs[mask] = 0.0
    return Prediction(probabilities=probs, classes=cls, class_codes=codes, nodata_mask=mask, name=name)


def predict_scenes(model, scenes, **kwargs) -> Iterator[tuple[Scene, Prediction]]:
    """Yield ``(scene, prediction)`` for each scene (e.g. ``dataset.scenes("val")``); kwargs as predict_scene."""
    kwargs.setdefault("progress", False)
    for sc in scenes:
        yield sc, predict_scene(model, sc, **kwargs)


# -------------------------------------------------------------------------------------------
# Rasters on disk, block by block
# -------------------------------------------------------------------------------------------
@dataclass
class RasterPrediction:
    """Paths written by :func:`predict_raster`, and how much of the raster went through the model.

    ``blocks_skipped`` blocks held no valid pixel and were not predicted; ``pixels_predicted`` counts
    the pixels sent to the model (halos included), the work actually done.
    """

    classes_path: Path
    probabilities_path: Path | None
    shape: tuple[int, int]
    blocks: int
    blocks_skipped: int = 0
    pixels_predicted: int = 0


def context_radius(model, *, size: int = 96) -> int:
    """Pixels of context on each side that a size-free Keras model uses for one output pixel.

    Measured, not derived from the layer list: nudge the centre pixel of a random input and see
    how far the output changes (``size // 2`` means "at least the probe's half-width"). For the
    lakes FCN this is 6 (its 13-pixel receptive field); a U-Net sees much further.
    """
    if not is_keras_model(model) or model_io(model)[2] is not None:
        raise ModelError("context_radius needs a Keras model that takes any input size")
    bands = model_io(model)[0]
    x = np.repeat(np.random.default_rng(0).uniform(0.0, 0.3, (1, size, size, bands)).astype(np.float32), 2, axis=0)
    x[1, size // 2, size // 2, :] += 1.0
    y = np.asarray(model.predict_on_batch(x), dtype=np.float32)
    rr, cc = np.nonzero(np.abs(y[1] - y[0]).max(axis=-1) > 1e-6)
    if rr.size == 0:
        return 0
    return int(max(np.abs(rr - size // 2).max(), np.abs(cc - size // 2).max()))


def _block_windows(rows: int, cols: int, block: int) -> Iterator[tuple[int, int, int, int]]:
    for r in range(0, rows, block):
        for c in range(0, cols, block):
            yield r, c, min(block, rows - r), min(block, cols - c)


def raster_block_plan(model, patch_size: int | str | None = None) -> tuple[int | str | None, int, bool]:
    """``(patch_size, halo, whole_blocks)``: how :func:`predict_raster` tiles each block of a raster.

    A size-free Keras model with ``patch_size=None`` predicts each block (with its halo) in one piece
    (``whole_blocks``; ``patch_size`` becomes ``"scene"``); the halo covers the model's measured context
    (:func:`context_radius`) rounded up to a multiple of 16, at most ``DEFAULT_MARGIN``. Otherwise blocks are
    tiled with ``patch_size`` and the halo is half a tile (at least ``DEFAULT_MARGIN``). Shared with
    :mod:`geonb.distributed`, whose chunks must get exactly the same context.
    """
    fixed = model_io(model)[2]
    whole_blocks = patch_size is None and fixed is None and is_keras_model(model)
    if whole_blocks:
        # A size-free model predicts each block (with its halo) in one piece: the only repeated work is
        # the halo, which need only cover the model's context (6 px each side for the lakes FCN, 36 for the
        # buildings FCN), rounded up to a multiple of 16 so that blocks stay aligned with pooling strides.
        radius = _radius(model)
        return "scene", int(min(MAX_HALO, max(16, -(-(radius + 2) // 16) * 16))), True
    tile = fixed or (patch_size if isinstance(patch_size, (int, np.integer)) else DEFAULT_TILE)
    return patch_size, int(max(DEFAULT_MARGIN, tile // 2)), False


def raster_blocks(shape: tuple[int, int], block: int, halo: int) -> list[tuple[tuple[int, int, int, int],
                                                                                tuple[int, int, int, int]]]:
    """``[(core, window), ...]``: the blocks :func:`predict_raster` cuts a ``(rows, cols)`` raster into.

    ``core`` is ``(row, col, height, width)`` of the block; ``window`` is ``(row0, row1, col0, col1)``, the
    block plus ``halo`` pixels of context on each side, clipped to the raster (what is read for it).

    Examples
    --------
    >>> raster_blocks((40, 20), 32, 16)
    [((0, 0, 32, 20), (0, 40, 0, 20)), ((32, 0, 8, 20), (16, 40, 0, 20))]
    """
    rows, cols = (int(v) for v in shape)
    return [((r, c, h, w), (max(0, r - halo), min(rows, r + h + halo), max(0, c - halo), min(cols, c + w + halo)))
            for r, c, h, w in _block_windows(rows, cols, int(block))]


def predict_block(model, image: np.ndarray, mask: np.ndarray, core: tuple[int, int, int, int],
                  window: tuple[int, int, int, int], plan: tuple[int | str | None, int, bool], *,
                  codes: Sequence[int], overlap: float | None = None, batch_size: int | None = None,
                  skip_nodata: bool = True) -> tuple[Prediction, int]:
    """Predict one block of a raster exactly as :func:`predict_raster` does, from its window's pixels.

    Parameters
    ----------
    image : ndarray float32 (rows, cols, bands), mask : ndarray bool (rows, cols)
        The block's ``window`` (core plus halo) as :func:`geonb.scene.read_image` returns it.
    core, window
        One entry of :func:`raster_blocks`.
    plan
        :func:`raster_block_plan` of the model.
    codes
        The model's class codes (:func:`geonb.training.resolve_codes`).

    Returns
    -------
    (Prediction, int)
        The core's probabilities and classes (as written by :func:`predict_raster`), and the pixels sent
        to the model (0 when the core has no valid pixel and ``skip_nodata``).
    """
    patch_size, halo, whole_blocks = plan
    r, c, h, w = core
    r0, _, c0, _ = window
    sl = (slice(r - r0, r - r0 + h), slice(c - c0, c - c0 + w))
    core_mask = np.ascontiguousarray(mask[sl])
    if skip_nodata and core_mask.all():
        probs, done = np.zeros(core_mask.shape + (model_io(model)[1],), np.float32), 0
    else:
        full, done = _predict_block(model, image, mask, patch_size, overlap, batch_size, whole_blocks, skip_nodata,
                                    halo)
        probs = np.ascontiguousarray(full[sl])
    return _finish(probs, tuple(codes), core_mask), done


def raster_output_paths(image_path, out_path, probabilities, overwrite: bool) -> tuple[Path, Path | None]:
    """Check the outputs of a raster prediction before anything is computed; return ``(class map, probabilities)``.

    ``probabilities``: False/None (none), True (``<out stem>_probabilities.tif``) or a path. The two must be
    distinct, not exist unless ``overwrite``, and neither may be the input (it is read while they are written).
    Shared by :func:`predict_raster` and :func:`geonb.distributed.predict_raster_chunked`.
    """
    if out_path is None or str(out_path) == "":
        raise InvalidParameterError(f"`out_path` must be a file path, got {out_path!r}")
    out_path = Path(out_path)
    prob_path = None
    if probabilities is True:
        prob_path = out_path.with_name(out_path.stem + "_probabilities.tif")
    elif probabilities not in (False, None):
        if not isinstance(probabilities, (str, os.PathLike)):
            raise InvalidParameterError(
                f"`probabilities` must be True, False or a file path, got {probabilities!r}"
            )
        prob_path = Path(probabilities)
    check_output_paths({"out_path": out_path, "probabilities": prob_path}, overwrite)
    for arg, p in (("out_path", out_path), ("probabilities", prob_path)):
        if p is not None and Path(image_path).exists() and Path(p).exists() and Path(p).samefile(image_path):
            raise InvalidParameterError(
                f"`{arg}` {str(p)!r} is the input `image_path`; write the prediction to another file "
                "(nothing was written)"
            )
    return out_path, prob_path


def predict_raster(model, image_path: str | os.PathLike, out_path: str | os.PathLike, *, block: int = 512,
                   patch_size: int | None = None, overlap: float | None = None, batch_size: int | None = None,
                   bands: Sequence[str] | None = None, classes: Sequence[int] | None = None,
                   probabilities: bool | str | os.PathLike = False, overwrite: bool = False,
                   class_names: Mapping[int, str] | None = None, progress: bool = True,
                   scale: float | Sequence[float] | str | None = "auto",
                   nodata: float | str | None = "auto", sensor: str | None = "auto",
                   band_ids: Sequence[str] | None = None, product: str | None = None,
                   skip_nodata: bool = True) -> RasterPrediction:
    """Predict a GeoTIFF block by block and write a georeferenced class GeoTIFF (QGIS-ready).

    Only one block plus a halo of context (the model's measured context rounded up to 16 px, or
    half a tile) is in memory at a time, so rasters larger than memory work. Output files are written
    to temporary files beside ``out_path`` and moved into place at the end: an interrupted run leaves
    nothing half-written.

    Parameters
    ----------
    model : keras.Model or baseline
    image_path : path-like
        Input raster, read block by block with :func:`geonb.scene.read_image` (``scale`` and
        ``nodata`` as there).
    out_path : path-like
        Class map: uint8 class codes, same CRS and transform as the input, deflate. Its nodata value
        is :func:`class_map_nodata` of the model's codes: 0, or 255 when 0 is a class code (buildings'
        background), so that a real class is never tagged nodata.
    block : int
        Block side in pixels (memory ~ ``(block + 2 * halo)^2 * (bands + classes) * 4`` bytes
        plus the model's activations for one batch of tiles).
    patch_size, overlap, batch_size, classes
        As in :func:`predict_scene`. By default a model that takes any size (the geonb models)
        predicts each block plus halo in one piece, the least repeated work; give ``patch_size``
        to tile blocks instead.
    bands : sequence of str, optional
        Band names to read (e.g. the model's ``RGB``); default all.
    probabilities : bool or path-like
        Also write class probabilities (float32, one band per class, NaN at nodata), to the
        given path or, for ``True``, ``<out stem>_probabilities.tif``.
    overwrite : bool
        Replace existing output files. The class map and the probabilities are written as a set:
        both are replaced, or neither.
    skip_nodata : bool
        Blocks (and, for size-free models, 128-px sub-tiles of a block) without a valid pixel are not
        sent to the model; every valid pixel gets the same answer as with ``False`` (tested). A tile that
        is mostly fill over the ocean then costs little more than its valid part.
    class_names : dict of class code to name, optional
        Names stored in the class map's tags and the probability bands' descriptions (default: the
        lake names for lake codes, else ``class <code>``).
    scale : "auto", float, sequence of float or None
        Passed to :func:`geonb.scene.read_image`: give the **same** value the training scenes were
        read with (e.g. ``scale=0.0001`` for an untagged MODIS int16 file read with
        ``read_scene(..., scale=0.0001)``), else the model sees numbers on another scale.
    nodata : "auto", float or None
        Passed to :func:`geonb.scene.read_image` (the input's nodata value), as for training.
    sensor, band_ids, product
        Passed to :func:`geonb.scene.read_image` (which sensor, which band is which, which product's
        scaling), as for the training scenes (:func:`geonb.scene.read_scene` takes the same).

    Returns
    -------
    RasterPrediction

    Raises
    ------
    ClassCodeError
        The model's codes include both 0 and 255 (no value left for nodata in the class map).
    """
    import rasterio

    if not isinstance(block, (int, np.integer)) or block < 16:
        raise InvalidParameterError(f"`block` must be an int >= 16 pixels, got {block!r}")
    out_path, prob_path = raster_output_paths(image_path, out_path, probabilities, overwrite)
    _, n_out, fixed = model_io(model)
    codes = resolve_codes(model, classes)
    fill = class_map_nodata(codes)

    # Metadata only; pixels are read through geonb.scene.read_image.
    with open_raster(image_path, "image") as src:
        rows, cols, crs, transform = src.height, src.width, src.crs, src.transform
    patch_size, halo, whole_blocks = raster_block_plan(model, patch_size)
    blocks = list(_block_windows(rows, cols, int(block)))
    profile = raster_output_profile(rows, cols, crs, transform)
    if class_names is None:  # lake names only for lake codes; anything else is named by its code
        class_names = LAKE_CLASS_NAMES if set(codes) <= set(LAKE_CLASSES) else {}
    names = [str(class_names.get(c, f"class {c}")) for c in codes]

    read_kw = {"scale": scale, "nodata": nodata}
    # passed only when set, so that the defaults work with any read_image (the sensor arguments are newer)
    if not (isinstance(sensor, str) and sensor == "auto"):
        read_kw["sensor"] = sensor  # None too: detection off
    read_kw.update({k: v for k, v in (("band_ids", band_ids), ("product", product)) if v is not None})
    outputs = [out_path] + ([prob_path] if prob_path is not None else [])
    # the class map and its probabilities are one set: both are moved into place, or neither
    with atomic_paths(outputs, overwrite, names=["out_path", "probabilities"][:len(outputs)]) as temps:
        tmp_cls, tmp_prob = temps[0], (temps[1] if prob_path is not None else None)
        with rasterio.open(tmp_cls, "w", count=1, dtype="uint8", nodata=fill, **profile) as dst, \
                _maybe_open(tmp_prob, count=n_out, dtype="float32", nodata=float("nan"), **profile) as pdst:
            dst.set_band_description(1, "class")
            dst.update_tags(classes=",".join(f"{c}={n}" for c, n in zip(codes, names, strict=True)),
                            software="geonb.prediction.predict_raster")
            if pdst is not None:
                for i, n in enumerate(names, start=1):
                    pdst.set_band_description(i, f"probability of {n}")
            stats = _run_blocks(
                blocks, rows, cols, halo,
                read=lambda r0, r1, c0, c1: read_image(image_path, window=((r0, r1), (c0, c1)), bands=bands,
                                                       **read_kw)[:2],
                predict=lambda image, mask: _predict_block(model, image, mask, patch_size, overlap, batch_size,
                                                           whole_blocks, skip_nodata, halo),
                write=lambda r, c, h, w, probs, mask: _write_block(dst, pdst, codes, r, c, h, w, probs, mask),
                n_out=n_out, skip_nodata=skip_nodata, progress=progress)
    return RasterPrediction(out_path, prob_path, (rows, cols), len(blocks), **stats)


#: Side of the sub-tiles a partly valid block is cut into, so that its nodata parts are skipped too.
SUB_TILE = 128
#: Largest halo around a block (pixels): the context :func:`context_radius` can measure (its probe is 96 px).
MAX_HALO = 64
_RADII: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _radius(model) -> int:
    """:func:`context_radius` of ``model``, measured once per model object."""
    try:
        return _RADII[model]
    except (KeyError, TypeError):
        radius = context_radius(model)
        with contextlib.suppress(TypeError):
            _RADII[model] = radius
        return radius


def _aligned_start(lo: int, block_lo: int) -> int:
    """``lo`` moved down to ``block_lo`` plus a multiple of 8: a sub-window then ends where the block's
    window ends with the same size modulo 8, so the model pads it alike at the raster's far edges."""
    return max(block_lo, block_lo + ((lo - block_lo) // 8) * 8)


def _predict_block(model, image, mask, patch_size, overlap, batch_size, whole_blocks: bool, skip_nodata: bool,
                   halo: int) -> tuple[np.ndarray, int]:
    """Probabilities of one block window (core + halo) and the pixels sent to the model.

    A size-free model predicts the whole window in one call; when ``skip_nodata`` and only some
    ``SUB_TILE``-sized sub-tiles of the core hold valid pixels, each of those is predicted with its own
    halo instead (the same context, so the same answer at every valid pixel) and the rest is skipped.
    """
    rows, cols = mask.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        # sub-tiles get the block's halo as their context: only when it covers the model's context with a
        # margin (8 px: the probe measures one pixel's phase of the poolings) is their answer the block's
        subtiles = whole_blocks and skip_nodata and mask.any() and _radius(model) + 8 <= halo
        if not subtiles:
            probs = predict_array(model, image, nodata_mask=mask, patch_size=patch_size, overlap=overlap,
                                  batch_size=batch_size)
            return probs, rows * cols
        valid = ~mask
        subs = [(r, c, min(SUB_TILE, rows - r), min(SUB_TILE, cols - c))
                for r in range(0, rows, SUB_TILE) for c in range(0, cols, SUB_TILE)]
        keep = [(r, c, h, w) for r, c, h, w in subs if valid[r:r + h, c:c + w].any()]
        if len(keep) == len(subs):
            probs = predict_array(model, image, nodata_mask=mask, patch_size=patch_size, overlap=overlap,
                                  batch_size=batch_size)
            return probs, rows * cols
        windows = []
        for r, c, h, w in keep:
            r0, c0 = _aligned_start(r - halo, 0), _aligned_start(c - halo, 0)
            windows.append((r, c, h, w, r0, c0, min(rows, r + h + halo), min(cols, c + w + halo)))
        work = sum((r1 - r0) * (c1 - c0) for *_, r0, c0, r1, c1 in windows)
        if work >= 0.8 * rows * cols:  # the halos would cost more than the skipped fill saves
            probs = predict_array(model, image, nodata_mask=mask, patch_size=patch_size, overlap=overlap,
                                  batch_size=batch_size)
            return probs, rows * cols
        n_out = model_io(model)[1]
        probs = np.zeros((rows, cols, n_out), np.float32)
        done = 0
        for r, c, h, w, r0, c0, r1, c1 in windows:
            sub = predict_array(model, image[r0:r1, c0:c1], nodata_mask=mask[r0:r1, c0:c1], patch_size="scene")
            probs[r:r + h, c:c + w] = sub[r - r0:r - r0 + h, c - c0:c - c0 + w]
            done += (r1 - r0) * (c1 - c0)
        return probs, done


def _write_block(dst, pdst, codes, r: int, c: int, h: int, w: int, probs, mask) -> None:
    import rasterio

    pred = _finish(probs, codes, mask)
    win = rasterio.windows.Window(c, r, w, h)
    dst.write(pred.classes, 1, window=win)
    if pdst is not None:
        p = pred.probabilities
        p[pred.nodata_mask] = np.nan
        pdst.write(np.moveaxis(p, -1, 0), window=win)


def _run_blocks(blocks, rows: int, cols: int, halo: int, *, read, predict, write, n_out: int, skip_nodata: bool,
                progress: bool) -> dict:
    """Read, predict and write blocks as a pipeline: while the model works on one block, a reader thread
    reads the next and a writer thread compresses and writes the last (GDAL releases the GIL for both),
    so the cores do not wait for each other. Blocks are written in order, from one thread."""
    from concurrent.futures import ThreadPoolExecutor

    def window(block):
        r, c, h, w = block
        return max(0, r - halo), min(rows, r + h + halo), max(0, c - halo), min(cols, c + w + halo)

    skipped, predicted = 0, 0
    bar = tqdm(total=len(blocks), desc="blocks", leave=False, disable=not progress)

    def write_checked(*args):
        try:
            write(*args)
        except OSError as exc:
            if isinstance(exc, GeonbError):
                raise
            raise RasterWriteError(f"writing the prediction failed ({exc}); is the disk full or the folder "
                                   "read-only? Nothing was moved into place") from exc

    try:
        with ThreadPoolExecutor(1, thread_name_prefix="geonb-read") as reader, \
                ThreadPoolExecutor(1, thread_name_prefix="geonb-write") as writer:
            pending_read = {}
            for k in range(min(2, len(blocks))):
                pending_read[k] = reader.submit(read, *window(blocks[k]))
            last_write = None
            for k, block in enumerate(blocks):
                image, mask = pending_read.pop(k).result()
                if k + 2 < len(blocks):
                    pending_read[k + 2] = reader.submit(read, *window(blocks[k + 2]))
                r, c, h, w = block
                r0, _, c0, _ = window(block)
                sl = (slice(r - r0, r - r0 + h), slice(c - c0, c - c0 + w))
                core_mask = np.ascontiguousarray(mask[sl])
                if skip_nodata and core_mask.all():  # nothing valid: nodata and NaN are written, no model call
                    skipped += 1
                    probs = np.zeros(core_mask.shape + (n_out,), np.float32)
                else:
                    full, done = predict(image, mask)
                    predicted += done
                    probs = np.ascontiguousarray(full[sl])
                if last_write is not None:
                    last_write.result()  # surface a write error before going on
                last_write = writer.submit(write_checked, r, c, h, w, probs, core_mask)
                bar.update(1)
            if last_write is not None:
                last_write.result()
    finally:
        bar.close()
    return {"blocks_skipped": skipped, "pixels_predicted": predicted}


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _maybe_open(path, **profile):
    import rasterio

    return rasterio.open(path, "w", **profile) if path is not None else _Null()


__all__ = [
    "DEFAULT_TILE",
    "NODATA_WHEN_ZERO_IS_A_CLASS",
    "Prediction",
    "RasterPrediction",
    "TTA_TRANSFORMS",
    "blend_weights",
    "class_map_nodata",
    "predict_array",
    "predict_block",
    "predict_raster",
    "raster_output_paths",
    "raster_output_profile",
    "predict_scene",
    "predict_scenes",
    "raster_block_plan",
    "raster_blocks",
    "tta_transforms",
]
