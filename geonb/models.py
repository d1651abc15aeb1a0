"""Segmentation models: the lakes FCN, a small U-Net, the buildings FCN, and two baselines.

Every Keras model here is built with the functional API from ``keras.layers`` only, so it runs on
the TensorFlow (CPU default), PyTorch and JAX backends. Keras is imported inside the functions:
``import geonb.models`` stays light.

All models take images ``(n, rows, cols, bands)`` float32 and return per-pixel class probabilities
``(n, rows, cols, classes)`` float32 (softmax over the last axis). The spatial size is left open
(``None``) so one trained model predicts 16 x 16 patches and whole scenes alike; ``patch_size`` is
checked against what the architecture can take.

Sizes each architecture takes
-----------------------------
========================  ======================================================================
``build_lakes_fcn``       any size >= 7 (the four valid convolutions shrink a side by 6 pixels,
                          the three transposed convolutions grow it back by 6)
``build_unet``            any multiple of ``2**depth`` that is >= ``2**depth`` (depth 2: 4, 8, 12,
                          16...; the study's U-Net could not take 8 x 8, ours can)
``build_buildings_fcn``   any multiple of 8 (three 2 x 2 poolings, one stride-8 transposed conv)
========================  ======================================================================

Input normalisation is part of the model: pass ``normalization=input_statistics(train_images)``
and a ``Normalization`` layer with those constants is the first layer, so a saved ``.keras`` file
is self-contained (no separate scaler to lose).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from geonb.bands import MAX_SAMPLE_PIXELS, pixel_moments
from geonb.errors import BandMismatchError, ClassCodeError, GeonbWarning, InvalidParameterError, ModelError
from geonb.labels import BACKGROUND, BUILDING, BUILDING_CLASSES, LAKE_CLASSES, LAND, WATER
from geonb.labels import BORDER as BORDER_CODE
from geonb.runtime import import_keras

#: Smallest side the lakes FCN takes: its valid convolutions remove 2 + 1 + 1 + 2 = 6 pixels.
LAKES_FCN_MIN_SIZE = 7
#: The study's patch sizes; every architecture here must take them (tested).
STUDY_PATCH_SIZES = (8, 16, 32, 64)


def _keras():
    return import_keras()


#: What an int ``classes=`` means for each builder (documented in the builders): the class codes.
_INT_CLASSES = {
    "lakes": {3: LAKE_CLASSES, 2: (WATER, LAND)},
    "buildings": {2: (BACKGROUND, BUILDING), 3: BUILDING_CLASSES},
}
#: Name of the attribute that carries a Keras model's class codes in memory, and of the entry in a
#: ``.keras`` archive that carries them on disk.
CLASS_CODES_ATTR = "geonb_class_codes"
INFO_ATTR = "geonb_info"
GEONB_ARCHIVE_ENTRY = "geonb.json"


def check_class_codes_arg(classes, name: str = "classes") -> tuple[int, ...]:
    """``classes`` as a tuple of >= 2 distinct class codes 0..255, or a clear error."""
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise ClassCodeError(
            f"`{name}` must be a sequence of class codes such as (WATER, LAND), got {classes!r}"
        )
    out = []
    for c in classes:
        if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)) or not 0 <= int(c) <= 255:
            raise ClassCodeError(
                f"`{name}` must hold integer class codes 0..255 (e.g. WATER=1, LAND=2), got {tuple(classes)!r}; "
                "map class names to codes first (e.g. label_map={'water': WATER, 'land': LAND})"
            )
        out.append(int(c))
    if len(out) < 2 or len(set(out)) != len(out):
        raise ClassCodeError(f"`{name}` must give at least 2 distinct class codes, got {tuple(out)!r}")
    return tuple(out)


def _resolve_classes(classes, family: str) -> tuple[int, ...]:
    """The class codes of a builder's output channels: a sequence as given, an int by the builder's table."""
    if isinstance(classes, (int, np.integer)) and not isinstance(classes, (bool, np.bool_)):
        table = _INT_CLASSES[family]
        if int(classes) not in table:
            meaning = ", ".join(f"{k} means {v}" for k, v in table.items())
            raise ClassCodeError(
                f"`classes`={classes!r} does not say which class code each output channel is ({meaning}); "
                f"pass the codes themselves, e.g. classes={table[min(table)]}"
            )
        return tuple(table[int(classes)])
    return check_class_codes_arg(classes)


def set_class_codes(model, classes) -> object:
    """Record the class code of each output channel on ``model`` (a Keras model); return the model.

    :func:`save_model` stores them inside the ``.keras`` file and :func:`load_model` restores them, so
    the codes travel with the model. Use this for a model that geonb did not build.
    """
    codes = check_class_codes_arg(classes)
    if is_keras_model(model):
        n_out = model_io(model)[1]
        if len(codes) != n_out:
            raise ClassCodeError(
                f"`classes` lists {len(codes)} codes {codes} but the model has {n_out} output channels; "
                "give one code per channel, in channel order"
            )
        setattr(model, CLASS_CODES_ATTR, codes)
        return model
    raise ModelError(f"set_class_codes takes a Keras model, got {type(model).__name__}; "
                     "baselines take their codes from the patches at .fit()")


def class_codes(model) -> tuple[int, ...]:
    """The class code of each output channel of a Keras model or a fitted baseline.

    Raises
    ------
    ModelError
        The codes are unknown (a model built outside geonb, or saved with ``model.save`` instead of
        :func:`save_model`) or the baseline is not fitted. Nothing is guessed from the channel count.

    Examples
    --------
    >>> class_codes(AllLandBaseline(classes=(1, 2)))
    (1, 2)
    """
    if is_keras_model(model):
        codes = getattr(model, CLASS_CODES_ATTR, None)
        if codes is None:
            n_out = model_io(model)[1]
            raise ModelError(
                f"the class codes of the model's {n_out} output channels are unknown (it was not built by geonb, "
                "or was saved with model.save instead of geonb.models.save_model); pass classes=(...) with one "
                "code per channel, e.g. classes=(WATER, LAND, UNCLASSIFIED), or record them once with "
                "geonb.models.set_class_codes(model, codes)"
            )
        return tuple(int(c) for c in codes)
    if hasattr(model, "predict_proba") and hasattr(model, "n_bands"):
        codes = getattr(model, "classes_", None)
        if codes is None:
            raise ModelError(f"{type(model).__name__} is not fitted yet, so its classes are unknown; "
                             "call .fit(train_patches) first")
        return tuple(int(c) for c in codes)
    raise ModelError(
        f"`model` must be a Keras model or a geonb baseline, got {type(model).__name__}; "
        "build one with geonb.models.build_lakes_fcn(...) or load one with geonb.models.load_model(path)"
    )


def _check_bands(bands: int) -> int:
    if not isinstance(bands, (int, np.integer)) or bands < 1:
        raise InvalidParameterError(f"`bands` must be a positive int (number of image bands), got {bands!r}")
    return int(bands)


def _workable(pred, limit: int = 64) -> list[int]:
    return [s for s in range(1, limit + 1) if pred(s)]


def check_patch_size(architecture: str, patch_size: int, *, depth: int = 2) -> int:
    """Raise :class:`ModelError` unless ``architecture`` can take square inputs of ``patch_size``.

    Parameters
    ----------
    architecture : {"lakes_fcn", "unet", "buildings_fcn"}
    patch_size : int
        Side of the square input, in pixels.
    depth : int
        U-Net depth (number of poolings); only for ``"unet"``.

    Examples
    --------
    >>> check_patch_size("lakes_fcn", 16)
    16
    >>> check_patch_size("lakes_fcn", 5)
    Traceback (most recent call last):
    ...
    geonb.errors.ModelError: the lakes FCN cannot take patch_size=5: ...
    """
    rules = {
        "lakes_fcn": (lambda s: s >= LAKES_FCN_MIN_SIZE,
                      f"any size >= {LAKES_FCN_MIN_SIZE} (its valid convolutions remove 6 pixels)",
                      "the lakes FCN"),
        "unet": (lambda s: s >= 2**depth and s % 2**depth == 0,
                 f"multiples of {2**depth} (depth {depth}: {depth} poolings by 2)", f"the U-Net (depth {depth})"),
        "buildings_fcn": (lambda s: s >= 8 and s % 8 == 0,
                          "multiples of 8 (three 2x2 poolings, a stride-8 transposed convolution)",
                          "the buildings FCN"),
    }
    if architecture not in rules:
        raise InvalidParameterError(f"`architecture` must be one of {sorted(rules)}, got {architecture!r}")
    ok, rule, label = rules[architecture]
    if not isinstance(patch_size, (int, np.integer)) or isinstance(patch_size, bool):
        raise ModelError(f"`patch_size` must be an int number of pixels, got {patch_size!r}")
    if not ok(int(patch_size)):
        sizes = _workable(ok)
        shown = ", ".join(map(str, sizes[:8])) + (", ..." if len(sizes) > 8 else "")
        raise ModelError(
            f"{label} cannot take patch_size={patch_size}: it takes {rule}, e.g. {shown}; "
            "choose one of those patch sizes"
        )
    return int(patch_size)


def input_statistics(images, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-band mean and variance of training images, for the models' ``Normalization`` layer.

    Parameters
    ----------
    images : ndarray (n, rows, cols, bands) or (rows, cols, bands), or an object with ``.images``
        Training images only (never validation or test: that would leak).
    valid : ndarray of bool, shape (n, rows, cols), optional
        True where a pixel counts (e.g. labelled, not nodata). Default: every pixel; with a
        PatchSet-like object, its labelled pixels (``labels != 0``) when it has ``.labels``.

    Returns
    -------
    mean, variance : ndarray of float32, shape (bands,)

    Examples
    --------
    >>> m, v = input_statistics(np.ones((2, 4, 4, 3), np.float32))
    >>> m.tolist(), v.tolist()
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    """
    if valid is None and hasattr(images, "images") and getattr(images, "labels", None) is not None:
        valid = np.asarray(images.labels) != 0
        if getattr(images, "nodata", None) is not None:
            valid &= ~np.asarray(images.nodata, dtype=bool)
    x = np.asarray(getattr(images, "images", images))
    if x.ndim not in (3, 4):
        raise InvalidParameterError(f"`images` must be (n, rows, cols, bands), got shape {x.shape}")
    flat = x.reshape(-1, x.shape[-1])
    if valid is not None:
        valid = np.asarray(valid, dtype=bool).reshape(-1)
        if valid.size != flat.shape[0]:
            raise InvalidParameterError(
                f"`valid` has {valid.size} pixels but `images` has {flat.shape[0]}; give one flag per pixel"
            )
        if not valid.any():
            raise InvalidParameterError(
                "`valid` marks no pixel as valid (no labelled, non-nodata pixel); statistics need at least one"
            )
        flat = flat[valid]
    if flat.shape[0] == 0:
        raise InvalidParameterError("`images` holds no pixels to compute statistics from")
    _, mean, var = pixel_moments([flat])  # geonb's one statistics routine (one block: exactly mean/var)
    return mean.astype(np.float32), var.astype(np.float32)


def _initializer(keras, seed: int | None, i: int):
    return keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)


def _input_and_norm(keras, bands: int, normalization):
    inputs = keras.Input(shape=(None, None, bands), name="image")
    x = inputs
    if normalization is not None:
        try:
            mean, var = (np.asarray(a, dtype=np.float32).reshape(-1) for a in normalization)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                "`normalization` must be (mean, variance) per band, e.g. input_statistics(train_images)"
            ) from exc
        if mean.size != bands or var.size != bands:
            raise BandMismatchError(
                f"`normalization` has statistics for {mean.size} bands but the model has bands={bands}; "
                "compute them on images with the same bands"
            )
        if not (np.isfinite(mean).all() and np.isfinite(var).all()) or (var <= 0).any():
            flat = [i for i in range(bands) if not (np.isfinite(var[i]) and var[i] > 0 and np.isfinite(mean[i]))]
            raise InvalidParameterError(
                f"`normalization` has a variance that is 0, negative or not finite for band(s) {flat} "
                f"(variance {var.tolist()}); a constant band cannot be normalised: drop it (select other bands) "
                "or compute the statistics on training images where it varies"
            )
        # float32 under any dtype policy: raw values (e.g. 16-bit reflectance ~10,000) minus a mean in bfloat16
        # would keep ~3 significant digits; the normalised values are small and safe to cast afterwards
        x = keras.layers.Normalization(mean=mean.tolist(), variance=var.tolist(), dtype="float32",
                                       name="normalize")(x)
    return inputs, x


def _softmax(keras, x):
    # float32 output even under a mixed_float16 policy, so probabilities and the loss stay exact.
    return keras.layers.Activation("softmax", dtype="float32", name="probabilities")(x)


def compile_model(model, learning_rate: float = 1e-3, loss=None):
    """Compile ``model`` with Adam, categorical cross-entropy and a pixel accuracy; return it.

    Accuracy is a *weighted* metric, so pixels with sample weight 0 (no label, nodata) are left out
    of it when :func:`geonb.training.train` passes per-pixel weights. ``loss`` replaces the
    cross-entropy (e.g. :func:`overlap_loss`); None keeps it.
    """
    if not is_keras_model(model):
        raise ModelError(f"`model` must be a Keras model to compile, got {type(model).__name__}")
    keras = _keras()
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.number)) \
            or not learning_rate > 0:
        raise InvalidParameterError(f"`learning_rate` must be a number > 0, got {learning_rate!r}")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy" if loss is None else loss,
        weighted_metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model


#: Overlap terms :func:`overlap_loss` adds to the cross-entropy.
OVERLAP_KINDS = ("dice", "jaccard")
_OVERLAP_LOSS_CLASS: list = []


def _overlap_loss_class():
    """The Keras loss class behind :func:`overlap_loss`, defined (and registered) on first use."""
    if _OVERLAP_LOSS_CLASS:
        return _OVERLAP_LOSS_CLASS[0]
    keras = _keras()
    ops = keras.ops

    @keras.saving.register_keras_serializable(package="geonb", name="CrossEntropyOverlapLoss")
    class CrossEntropyOverlapLoss(keras.losses.Loss):
        """Weighted categorical cross-entropy plus ``weight`` x (1 - soft Dice or Jaccard) of the foreground."""

        def __init__(self, foreground=(1,), kind="dice", weight=1.0, smooth=1.0, name="ce_overlap", **kwargs):
            super().__init__(name=name, **kwargs)
            self.foreground = tuple(int(i) for i in foreground)
            self.kind, self.weight, self.smooth = str(kind), float(weight), float(smooth)

        def __call__(self, y_true, y_pred, sample_weight=None):
            # sample weights are needed inside the overlap term (0: not labelled), so the whole
            # reduction happens here instead of in Loss.__call__
            y_true = ops.cast(ops.convert_to_tensor(y_true), "float32")
            y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
            p = ops.clip(y_pred, 1e-7, 1.0 - 1e-7)
            ce = -ops.sum(y_true * ops.log(p), axis=-1)
            w = ops.ones_like(ce) if sample_weight is None else \
                ops.reshape(ops.cast(ops.convert_to_tensor(sample_weight), "float32"), ops.shape(ce))
            n = ops.cast(ops.prod(ops.convert_to_tensor(ops.shape(ce), dtype="int32")), "float32")
            ce_mean = ops.sum(ce * w) / ops.maximum(n, 1.0)  # as Keras' "sum_over_batch_size" reduction
            valid = ops.cast(w > 0, "float32")
            t = ops.sum(ops.take(y_true, list(self.foreground), axis=-1), axis=-1) * valid
            q = ops.sum(ops.take(y_pred, list(self.foreground), axis=-1), axis=-1) * valid
            inter, total = ops.sum(t * q), ops.sum(t) + ops.sum(q)
            if self.kind == "jaccard":
                overlap = (inter + self.smooth) / (total - inter + self.smooth)
            else:
                overlap = (2.0 * inter + self.smooth) / (total + self.smooth)
            return ce_mean + self.weight * (1.0 - overlap)

        def call(self, y_true, y_pred):  # pragma: no cover - __call__ does the work
            raise NotImplementedError("CrossEntropyOverlapLoss computes its value in __call__")

        def get_config(self):
            return {**super().get_config(), "foreground": list(self.foreground), "kind": self.kind,
                    "weight": self.weight, "smooth": self.smooth}

    _OVERLAP_LOSS_CLASS.append(CrossEntropyOverlapLoss)
    return CrossEntropyOverlapLoss


def overlap_loss(classes: Sequence[int], foreground: Sequence[int] = (BUILDING, BORDER_CODE), *, kind: str = "dice",
                 weight: float = 1.0, smooth: float = 1.0):
    """Cross-entropy plus an overlap term on the foreground classes, the SpaceNet winners' kind of loss.

    The loss of a batch is the weighted categorical cross-entropy (reduced as Keras reduces it) plus
    ``weight * (1 - overlap)``, where the overlap is the soft Dice (``2|T Q| / (|T| + |Q|)``, i.e. a
    soft pixel F1) or soft Jaccard (a soft IoU) of the truth ``T`` and the predicted probability ``Q``
    of the foreground (the summed probability of the ``foreground`` classes), over all labelled pixels
    of the batch (sample weight > 0). Cross-entropy alone scores every pixel on its own, and with
    rare buildings it leans on class weights; the overlap term optimises what the pixel F1 measures.

    Parameters
    ----------
    classes : sequence of int
        The model's class codes, in the order of its output channels (:func:`class_codes`).
    foreground : sequence of int
        The codes whose probabilities add up to the foreground; codes the model lacks are skipped
        (default: building and border).
    kind : {"dice", "jaccard"}
    weight : float >= 0
        Weight of the overlap term (0: the cross-entropy alone).
    smooth : float > 0
        Added to numerator and denominator, so a batch without foreground gives a finite loss.

    Returns
    -------
    keras.losses.Loss
        Serializable (``package="geonb"``): a model compiled with it saves and loads.

    Examples
    --------
    >>> loss = overlap_loss((0, 1, 2))                                          # doctest: +SKIP
    >>> float(loss(np.eye(3)[[0, 1]][None], np.eye(3)[[0, 1]][None]))  # perfect: ~0     # doctest: +SKIP
    0.0
    """
    codes = check_class_codes_arg(classes)
    fg_codes = tuple(int(c) for c in foreground)
    idx = tuple(codes.index(c) for c in fg_codes if c in codes)
    if not idx:
        raise InvalidParameterError(
            f"`foreground`={fg_codes} names none of the model's class codes {codes}; pass codes the model has, "
            f"e.g. foreground=({codes[-1]},)")
    if kind not in OVERLAP_KINDS:
        raise InvalidParameterError(f"`kind` must be one of {OVERLAP_KINDS}, got {kind!r}")
    if isinstance(weight, bool) or not isinstance(weight, (int, float, np.number)) or not weight >= 0:
        raise InvalidParameterError(f"`weight` must be a number >= 0 (0: cross-entropy alone), got {weight!r}")
    if isinstance(smooth, bool) or not isinstance(smooth, (int, float, np.number)) or not smooth > 0:
        raise InvalidParameterError(f"`smooth` must be a number > 0 (e.g. 1.0), got {smooth!r}")
    return _overlap_loss_class()(foreground=idx, kind=kind, weight=float(weight), smooth=float(smooth))


def average_models(models: Sequence, name: str = "ensemble"):
    """One Keras model whose output is the mean of the outputs (probabilities) of ``models``.

    The members must take the same bands and carry the same class codes; the ensemble carries them
    too, so :func:`geonb.prediction.predict_scene` (and its test-time augmentation) takes it as it
    takes one model.

    Parameters
    ----------
    models : sequence of keras.Model
        Fully convolutional members (input ``(None, None, bands)``), e.g. the same recipe trained
        with different seeds.
    name : str

    Returns
    -------
    keras.Model
    """
    models = list(models)
    if not models or not all(is_keras_model(m) for m in models):
        raise InvalidParameterError(f"`models` must be a non-empty sequence of Keras models, got {models!r}")
    if len(models) == 1:
        return models[0]
    codes = {class_codes(m) for m in models}
    if len(codes) != 1:
        raise ClassCodeError(f"`models` carry different class codes {sorted(codes)}; average models of one task")
    bands = {model_io(m)[0] for m in models}
    if len(bands) != 1:
        raise BandMismatchError(f"`models` take different band counts {sorted(bands)}; they must agree")
    keras = _keras()
    inputs = keras.Input(shape=(None, None, bands.pop()), name="image")
    # each member under a wrapper of its own name (members of one builder share theirs)
    outs = [keras.Model(m.inputs[0], m.outputs[0], name=f"member{i}")(inputs) for i, m in enumerate(models)]
    out = keras.layers.Average(name="mean_probabilities", dtype="float32")(outs)
    model = keras.Model(inputs, out, name=name)
    setattr(model, CLASS_CODES_ATTR, codes.pop())
    return model


def _resolve_upsampling(upsampling: str) -> str:
    if upsampling not in ("auto", "transpose", "pad_conv"):
        raise InvalidParameterError(
            f"`upsampling` must be 'auto', 'transpose' or 'pad_conv', got {upsampling!r}"
        )
    if upsampling == "auto":
        # JAX's CPU backward pass of Conv2DTranspose measured ~8x slower than the equivalent zero-padded
        # convolution (same output size and parameter count); elsewhere keep the study's layer.
        return "pad_conv" if os.environ.get("KERAS_BACKEND") == "jax" else "transpose"
    return upsampling


def build_lakes_fcn(patch_size: int = 16, bands: int = 7, classes: int | Sequence[int] = LAKE_CLASSES, *,
                    normalization: tuple[np.ndarray, np.ndarray] | None = None, seed: int | None = 0,
                    upsampling: str = "auto", learning_rate: float = 1e-3, compile: bool = True):
    """The lakes study's fully convolutional network (its appendix, Figure 3), compiled.

    Four valid convolutions (64, 128, 112, 112 filters; kernels 3, 2, 2, 3; ReLU) with batch
    normalisation after the first, then three valid transposed convolutions (112, 64, ``classes``;
    kernels 4, 3, 2) that grow the map back by the 6 pixels the convolutions removed, and a softmax
    per pixel. 473,875 parameters for 7 bands and 3 classes.

    Two deliberate departures from the study's code: batch normalisation runs over the channels
    (the study's ``axis=1`` normalised over image rows of a channels-last tensor, a slip), and the last
    transposed convolution is linear (the study put a ReLU before the softmax, which clips every
    negative logit to 0). The study's ``Reshape`` to ``(n, w*l, 3)`` is not needed: Keras 3 losses
    take ``(n, rows, cols, classes)`` directly, and leaving it out keeps the model size-free.

    Parameters
    ----------
    patch_size : int
        Training patch side; checked (any size >= 7 works). The model itself takes any size >= 7,
        so it also predicts whole scenes.
    bands : int
        Number of image bands (7 for MODIS, 3 for RGB).
    classes : sequence of class codes, or 2 or 3
        The class code of each output channel, in order; recorded on the model (see
        :func:`class_codes`) and saved with it. Default (water, land, unclassified) - also for the
        water/land dataset, as the study did, so one model serves both datasets. ``3`` means
        ``(WATER, LAND, UNCLASSIFIED)`` and ``2`` means ``(WATER, LAND)``; any other int is an error
        (give the codes).
    normalization : (mean, variance), optional
        Per-band statistics of the training images (:func:`input_statistics`); adds a
        ``Normalization`` layer. ``None``: the caller normalises.
    seed : int or None
        Seed of the weight initialisers.
    upsampling : {"auto", "transpose", "pad_conv"}
        ``"transpose"``: ``Conv2DTranspose`` as the study. ``"pad_conv"``: ``ZeroPadding2D(k-1)`` +
        ``Conv2D(k)``, the same function family with the same parameter count, ~8x faster to train
        on JAX/CPU. ``"auto"``: ``pad_conv`` on JAX, else ``transpose``.
    learning_rate : float
    compile : bool
        Compile with :func:`compile_model`.

    Returns
    -------
    keras.Model
        Input ``(None, None, None, bands)``, output ``(None, None, None, classes)`` float32.

    Examples
    --------
    >>> m = build_lakes_fcn(16, bands=7, classes=3)  # doctest: +SKIP
    >>> m.count_params()                                # doctest: +SKIP
    473875
    """
    patch_size = check_patch_size("lakes_fcn", patch_size)
    bands = _check_bands(bands)
    codes = _resolve_classes(classes, "lakes")
    n_out = len(codes)
    mode = _resolve_upsampling(upsampling)
    keras = _keras()
    L = keras.layers
    inputs, x = _input_and_norm(keras, bands, normalization)
    convs = [(64, 3), (128, 2), (112, 2), (112, 3)]
    for i, (filters, k) in enumerate(convs, start=1):
        x = L.Conv2D(filters, k, padding="valid", activation="relu",
                     kernel_initializer=_initializer(keras, seed, i), name=f"conv{i}")(x)
        if i == 1:
            x = L.BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3, name="batchnorm1")(x)
    ups = [(112, 4, "relu"), (64, 3, "relu"), (n_out, 2, None)]
    for j, (filters, k, act) in enumerate(ups, start=1):
        init = _initializer(keras, seed, 10 + j)
        if mode == "transpose":
            x = L.Conv2DTranspose(filters, k, padding="valid", activation=act, kernel_initializer=init,
                                  name=f"deconv{j}")(x)
        else:
            x = L.ZeroPadding2D(k - 1, name=f"pad{j}")(x)
            x = L.Conv2D(filters, k, padding="valid", activation=act, kernel_initializer=init,
                         name=f"deconv{j}")(x)
    outputs = _softmax(keras, x)
    model = keras.Model(inputs, outputs, name="lakes_fcn")
    setattr(model, CLASS_CODES_ATTR, codes)
    return compile_model(model, learning_rate) if compile else model


def build_unet(patch_size: int = 16, bands: int = 7, classes: int | Sequence[int] = LAKE_CLASSES, *,
               filters: Sequence[int] = (32, 64, 128), normalization=None, seed: int | None = 0,
               learning_rate: float = 1e-3, compile: bool = True):
    """A U-Net sized for small patches (Ronneberger et al. 2015), compiled.

    ``len(filters) - 1`` down steps (two 3x3 'same' convolutions + batch norm + 2x2 max pooling),
    a bottleneck, and as many up steps (2x2 stride-2 transposed convolution, concatenation with the
    skip connection, two convolutions), then a 1x1 convolution and a softmax. With the default
    ``filters=(32, 64, 128)`` (depth 2, about 0.47 M parameters for 7 bands, close to the lakes
    FCN) it takes any multiple of 4, so 8 x 8 patches work; the study's U-Net (2.8 M parameters,
    depth 4) needed at least 16 x 16.

    Parameters
    ----------
    patch_size : int
        Checked: a multiple of ``2**(len(filters) - 1)``.
    bands, classes, normalization, seed, learning_rate, compile
        As in :func:`build_lakes_fcn`.
    filters : sequence of int
        Filters per level, the last one being the bottleneck.
    """
    return _unet(patch_size, bands, _resolve_classes(classes, "lakes"), filters=filters,
                 normalization=normalization, seed=seed, learning_rate=learning_rate, compile=compile, name="unet")


def build_buildings_unet(patch_size: int = 256, bands: int = 3, classes: int | Sequence[int] = BUILDING_CLASSES, *,
                         filters: Sequence[int] = (16, 32, 64, 128), normalization=None, seed: int | None = 0,
                         learning_rate: float = 1e-3, compile: bool = True, dropout: float = 0.0):
    """The U-Net of :func:`build_unet` for buildings: three class codes by default, deeper, thinner.

    The SpaceNet winners' models were U-Nets; this one is small enough to train on a 2-core CPU in
    minutes: ``filters=(16, 32, 64, 128)`` (depth 3, 484,179 parameters for 3 bands and 3 classes) sees about
    45 x 45 pixels (22 m at 0.5 m), a house and its neighbourhood, and keeps roof edges sharp through
    its skip connections. The model is named ``"buildings_unet"``.

    Parameters
    ----------
    patch_size : int
        Training crop side; a multiple of ``2**(len(filters) - 1)`` (8 by default).
    bands : int
        3 for an RGB chip, 4 for RGB + near-infrared.
    classes : sequence of class codes, or 2 or 3
        Default ``(BACKGROUND, BUILDING, BORDER)`` (``3``); ``2`` means ``(BACKGROUND, BUILDING)``.
    filters, normalization, seed, learning_rate, compile
        As in :func:`build_unet`.
    dropout : float in [0, 1)
        Spatial dropout (whole feature maps, seeded) after the bottleneck and each up block, in
        training only: a regulariser for a chip with few buildings. 0: none (the layers are absent).

    Examples
    --------
    >>> m = build_buildings_unet(64, bands=3)   # doctest: +SKIP
    >>> class_codes(m)                          # doctest: +SKIP
    (0, 1, 2)
    """
    return _unet(patch_size, bands, _resolve_classes(classes, "buildings"), filters=filters,
                 normalization=normalization, seed=seed, learning_rate=learning_rate, compile=compile,
                 name="buildings_unet", dropout=dropout)


def _unet(patch_size, bands, codes, *, filters, normalization, seed, learning_rate, compile, name, dropout=0.0):
    filters = tuple(int(f) for f in filters)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise InvalidParameterError(f"`dropout` must be a number in [0, 1) (0: none; e.g. 0.1), got {dropout!r}")
    if len(filters) < 2 or min(filters) < 1:
        raise InvalidParameterError(f"`filters` needs >= 2 positive values (levels), got {filters!r}")
    depth = len(filters) - 1
    check_patch_size("unet", patch_size, depth=depth)
    bands = _check_bands(bands)
    n_out = len(codes)
    keras = _keras()
    L = keras.layers
    inputs, x = _input_and_norm(keras, bands, normalization)
    counter = iter(range(1, 1000))

    def block(x, f, name):
        for k in (1, 2):
            x = L.Conv2D(f, 3, padding="same", use_bias=False,
                         kernel_initializer=_initializer(keras, seed, next(counter)), name=f"{name}_conv{k}")(x)
            x = L.BatchNormalization(name=f"{name}_bn{k}")(x)
            x = L.Activation("relu", name=f"{name}_relu{k}")(x)
        return x

    skips = []
    for level, f in enumerate(filters[:-1], start=1):
        x = block(x, f, f"down{level}")
        skips.append(x)
        x = L.MaxPooling2D(2, name=f"pool{level}")(x)
    x = block(x, filters[-1], "bottleneck")
    drops = iter(range(1000))

    def drop(x, name):
        if not dropout:
            return x
        # seeded apart from the initializers' counter, so a model with dropout starts from the same weights
        return L.SpatialDropout2D(dropout, seed=None if seed is None else int(seed) * 1000 + 500 + next(drops),
                                  name=f"{name}_dropout")(x)

    x = drop(x, "bottleneck")
    for level in range(depth, 0, -1):
        f = filters[level - 1]
        x = L.Conv2DTranspose(f, 2, strides=2, padding="same",
                              kernel_initializer=_initializer(keras, seed, next(counter)), name=f"up{level}")(x)
        x = L.Concatenate(name=f"skip{level}")([x, skips[level - 1]])
        x = drop(block(x, f, f"up{level}"), f"up{level}")
    x = L.Conv2D(n_out, 1, kernel_initializer=_initializer(keras, seed, next(counter)), name="classifier")(x)
    model = keras.Model(inputs, _softmax(keras, x), name=name)
    setattr(model, CLASS_CODES_ATTR, codes)
    return compile_model(model, learning_rate) if compile else model


def build_buildings_fcn(patch_size: int = 128, bands: int = 4, classes: int | Sequence[int] = (BACKGROUND, BUILDING), *,
                        normalization=None, batch_norm: bool = False, seed: int | None = 0,
                        learning_rate: float = 1e-3, compile: bool = True):
    """The buildings study's FCN (its section 4.2, *Create Model*), compiled.

    Three blocks of two 3x3 'same' convolutions (32, 64, 128 filters, ReLU) each followed by 2x2
    max pooling; a 5x5 convolution with 1024 filters (ReLU); a linear 1x1 convolution with 128; a
    16x16 transposed convolution with stride 8 back to the input size; softmax per pixel. With
    4 bands and 2 classes it has 3,761,858 parameters, the study's table (tested).

    The study's text mentions batch normalisation but neither its code nor its parameter table
    has any; ``batch_norm=True`` adds it after each convolution (and changes the count).

    Parameters
    ----------
    patch_size : int
        A multiple of 8 (the study: 128 crops of 512 x 512 tiles, 50 % overlap).
    bands : int
        4 in the study (RGB + one 8-band channel).
    classes : sequence of class codes, or 2 or 3
        The class code of each output channel (recorded and saved with the model). Default
        ``(BACKGROUND, BUILDING)``; ``2`` means that too, ``3`` means ``(BACKGROUND, BUILDING, BORDER)``.
    """
    check_patch_size("buildings_fcn", patch_size)
    bands = _check_bands(bands)
    codes = _resolve_classes(classes, "buildings")
    n_out = len(codes)
    keras = _keras()
    L = keras.layers
    inputs, x = _input_and_norm(keras, bands, normalization)
    i = 0

    def conv(x, f, k, name, act="relu"):
        nonlocal i
        i += 1
        x = L.Conv2D(f, k, padding="same", activation=None if batch_norm else act,
                     kernel_initializer=_initializer(keras, seed, i), name=name)(x)
        if batch_norm:
            x = L.BatchNormalization(name=f"{name}_bn")(x)
            if act:
                x = L.Activation(act, name=f"{name}_{act}")(x)
        return x

    for level, f in enumerate((32, 64, 128), start=1):
        x = conv(x, f, 3, f"block{level}_conv1")
        x = conv(x, f, 3, f"block{level}_conv2")
        x = L.MaxPooling2D(2, name=f"pool{level}")(x)
    x = conv(x, 1024, 5, "conv_5x5")
    x = conv(x, 128, 1, "conv_1x1", act=None)
    x = L.Conv2DTranspose(n_out, 16, strides=8, padding="same",
                          kernel_initializer=_initializer(keras, seed, 99), name="deconv")(x)
    model = keras.Model(inputs, _softmax(keras, x), name="buildings_fcn")
    setattr(model, CLASS_CODES_ATTR, codes)
    return compile_model(model, learning_rate) if compile else model


# -------------------------------------------------------------------------------------------
# What a model takes and gives
# -------------------------------------------------------------------------------------------
def is_keras_model(model) -> bool:
    """True for a Keras model (without importing Keras when none was imported)."""
    import sys

    keras = sys.modules.get("keras")
    return keras is not None and isinstance(model, keras.Model)


def model_io(model) -> tuple[int, int, int | None]:
    """``(bands, classes, fixed_size)`` of a Keras model or a baseline.

    ``fixed_size`` is the input side when the model was built for one size only, else ``None``.
    """
    if is_keras_model(model):
        in_shape = tuple(model.inputs[0].shape)
        out_shape = tuple(model.outputs[0].shape)
        if len(in_shape) != 4 or len(out_shape) != 4:
            raise ModelError(
                f"expected an image model with input (n, rows, cols, bands) and output (n, rows, cols, classes), "
                f"got input {in_shape} and output {out_shape}"
            )
        fixed = in_shape[1] if in_shape[1] is not None and in_shape[1] == in_shape[2] else None
        return int(in_shape[3]), int(out_shape[3]), fixed
    if hasattr(model, "predict_proba") and hasattr(model, "n_bands") and hasattr(model, "classes_"):
        if model.n_bands is None or model.classes_ is None:
            raise ModelError(f"{type(model).__name__} is not fitted yet; call .fit(train_patches) first")
        return int(model.n_bands), len(model.classes_), None
    raise ModelError(
        f"`model` must be a Keras model or a geonb baseline, got {type(model).__name__}; "
        "build one with geonb.models.build_lakes_fcn(...) or load one with geonb.models.load_model(path)"
    )


def describe_layers(model, patch_size: int):
    """A table of the model's layers with their output shapes for a ``patch_size`` input.

    The models are built with open spatial sizes, so ``model.summary()`` shows ``None`` for
    rows and cols; this rebuilds the same graph (same weights count) at a fixed size to show how
    each layer shrinks or grows the patch.

    Returns
    -------
    pandas.DataFrame
        Columns ``layer``, ``type``, ``output shape`` (rows, cols, channels), ``parameters``.
    """
    import pandas as pd

    keras = _keras()
    config = model.get_config()
    bands = int(model.inputs[0].shape[-1])
    for layer_cfg in config["layers"]:
        if layer_cfg["class_name"] == "InputLayer":
            layer_cfg["config"]["batch_shape"] = (None, int(patch_size), int(patch_size), bands)
    try:
        fixed = keras.Model.from_config(config)
    except Exception as exc:  # a size the architecture cannot take fails inside Keras' shape inference
        raise ModelError(f"{model.name} cannot take patch_size={patch_size} ({exc})") from exc
    rows = []
    for layer in fixed.layers:
        shape = tuple(layer.output.shape)[1:]
        rows.append({"layer": layer.name, "type": type(layer).__name__, "output shape": shape,
                     "parameters": layer.count_params()})
    return pd.DataFrame(rows)


# -------------------------------------------------------------------------------------------
# Saving and loading
# -------------------------------------------------------------------------------------------
def write_keras_file(model, path: str | os.PathLike) -> Path:
    """Save ``model`` to ``path`` (a ``.keras`` file; not atomic - see :func:`save_model`) with its class codes.

    The codes go into the archive as a small ``geonb.json`` entry beside Keras' own ``config.json``;
    Keras ignores it, :func:`load_model` reads it. Used for models and training checkpoints alike.
    """
    import json
    import zipfile

    codes = class_codes(model)
    model.save(path)
    entry = {"class_codes": list(codes), "format": 1, "info": dict(getattr(model, INFO_ATTR, None) or {})}
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(GEONB_ARCHIVE_ENTRY, json.dumps(entry))
    return Path(path)


def set_model_info(model, **info) -> object:
    """Record JSON-able facts about a Keras model's inputs and outputs; saved with it by :func:`save_model`.

    The own-raster workflow records ``scheme`` (class names and colours, :class:`geonb.classes.ClassScheme`
    as a dict), ``input_bands`` (band names in input order, indices included), ``indices`` and ``sensor``,
    so that ``geonb predict`` can prepare a new image the same way. Returns the model.
    """
    import json

    if not is_keras_model(model):
        raise ModelError(f"set_model_info takes a Keras model, got {type(model).__name__}")
    merged = dict(getattr(model, INFO_ATTR, None) or {})
    merged.update(info)
    try:
        json.dumps(merged)
    except TypeError as exc:
        raise InvalidParameterError(f"model info must be JSON-able (str, numbers, lists, dicts): {exc}") from exc
    setattr(model, INFO_ATTR, merged)
    return model


def model_info(model) -> dict:
    """What :func:`set_model_info` recorded on ``model`` (restored by :func:`load_model`); ``{}`` if nothing."""
    return dict(getattr(model, INFO_ATTR, None) or {})


def save_model(model, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Save a Keras model to a ``.keras`` file, atomically; refuse to replace one unless ``overwrite``.

    The file holds the architecture, the weights (including the normalisation constants), the
    optimizer state and the class code of each output channel; :func:`load_model` reads it back.

    Raises
    ------
    ModelError
        The model's class codes are unknown (record them with :func:`set_class_codes`).
    """
    from geonb.io import atomic_path

    path = Path(path)
    if path.suffix != ".keras":
        raise InvalidParameterError(f"`path` must end with '.keras' (Keras 3 format), got {str(path)!r}")
    if not is_keras_model(model):
        raise ModelError(f"only Keras models can be saved, got {type(model).__name__}")
    class_codes(model)  # before anything is written: a model without codes is refused, not saved half-described
    with atomic_path(path, overwrite) as tmp:
        write_keras_file(model, tmp)
    return path


def _read_archive_entry(path) -> dict | None:
    import json
    import zipfile

    with zipfile.ZipFile(path) as zf:
        if GEONB_ARCHIVE_ENTRY not in zf.namelist():
            return None
        try:
            entry = json.loads(zf.read(GEONB_ARCHIVE_ENTRY))
            entry["class_codes"] = check_class_codes_arg(entry["class_codes"], name="class_codes")
            if not isinstance(entry.get("info", {}), dict):
                raise TypeError("`info` is not an object")
            return entry
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{str(path)!r} holds a damaged geonb.json entry ({exc}); save the model again") from exc


def read_saved_class_codes(path: str | os.PathLike) -> tuple[int, ...] | None:
    """The class codes stored in a ``.keras`` file by :func:`save_model`, or ``None`` when it has none."""
    entry = _read_archive_entry(path)
    return None if entry is None else entry["class_codes"]


def load_model(path: str | os.PathLike, *, compile: bool = True, classes: Sequence[int] | None = None):
    """Load a model saved by :func:`save_model` (or ``model.save``), with Keras' ``safe_mode=True``.

    Safe mode refuses to run code stored in the file (lambda layers), so a model file from the
    internet cannot execute anything. Pickled models are never read. The class codes saved with the
    model are restored (:func:`class_codes`); a file saved with plain ``model.save`` has none, so give
    them as ``classes=`` (or later with :func:`set_class_codes`), else prediction refuses to guess.

    Raises
    ------
    FileNotFoundError (ModelError)
        The file does not exist.
    ModelError
        The file is not a Keras 3 ``.keras`` model.
    ClassCodeError
        ``classes`` disagrees with the codes saved in the file, or with the model's output channels.
    """
    import zipfile

    path = Path(path)
    if not path.exists():
        raise _ModelFileNotFound(f"model file {str(path)!r} does not exist; check the path, or train and save one")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ModelError(
            f"{str(path)!r} is not a Keras 3 model file (a '.keras' zip archive); geonb only loads models "
            "saved with geonb.models.save_model or model.save('name.keras')"
        )
    entry = _read_archive_entry(path)
    saved = None if entry is None else entry["class_codes"]
    given = check_class_codes_arg(classes) if classes is not None else None
    if saved is not None and given is not None and saved != given:
        raise ClassCodeError(
            f"`classes`={given} disagrees with the class codes saved in {str(path)!r}: {saved}; "
            "leave classes=None to use the saved ones"
        )
    keras = _keras()
    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # Keras raises several types for a damaged or foreign archive
        raise ModelError(f"{str(path)!r} could not be loaded as a Keras model: {exc}") from exc
    codes = saved or given
    if codes is not None:
        try:
            set_class_codes(model, codes)
        except ClassCodeError as exc:
            if saved is None:
                raise
            # the codes came from the file, not from the caller: say so
            raise ClassCodeError(
                f"the geonb.json entry of {str(path)!r} lists {len(saved)} class codes {saved} but the model in it "
                f"has {model_io(model)[1]} output channels; the file is damaged or was edited: save the model "
                "again with geonb.models.save_model"
            ) from exc
    if entry is not None and entry.get("info"):
        set_model_info(model, **entry["info"])
    return model


class _ModelFileNotFound(ModelError, FileNotFoundError):
    """A model file path that does not exist."""


# -------------------------------------------------------------------------------------------
# Baselines with the same interface
# -------------------------------------------------------------------------------------------
#: Codes geonb knows without being told (lakes 1-3, buildings 0-2); others must be declared to fit silently.
_KNOWN_LABEL_CODES = frozenset({*LAKE_CLASSES, *BUILDING_CLASSES})


def _codes_from_labels(y: np.ndarray) -> tuple[int, ...]:
    """The class codes present in integer labels (0 = no label left out), for a baseline fitted without ``classes``.

    255 is refused (it is almost always a file's nodata/fill value, and would silently become a class);
    other codes outside the lakes/buildings codes are accepted with a :class:`GeonbWarning`.
    """
    codes = tuple(int(c) for c in np.unique(y) if c != 0)
    if 255 in codes:
        raise ClassCodeError(
            f"the labels hold code 255 (codes found: {codes}); 255 is usually a file's nodata/fill value, not a "
            "class. Read labels with geonb.scene.read_labels (which maps the declared nodata to 0), map it with "
            "geonb.labels.remap_labels(labels, label_map={..., 255: NODATA}), or, if 255 is a class, pass "
            "classes=(...) with every class code"
        )
    if len(codes) < 2:
        raise ClassCodeError(
            f"the labels hold fewer than 2 class codes ({codes}); pass classes=(...) with every class"
        )
    unknown = [c for c in codes if c not in _KNOWN_LABEL_CODES]
    if unknown:
        warnings.warn(
            f"the class codes {codes} were taken from the labels, and {unknown} are not lakes or buildings "
            "codes; if they are a fill value, map them to 0 (no label) first, else pass classes=(...) to "
            "declare the codes (this also silences this warning)",
            GeonbWarning, stacklevel=4,
        )
    return codes


def _xy_arrays(data, y=None, classes=None) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Images, one-hot targets and the class code of each target channel, from what ``fit`` was given."""
    from geonb.labels import one_hot

    codes = check_class_codes_arg(classes) if classes is not None else None
    if y is None:
        if isinstance(data, tuple) and len(data) == 2:
            data, y = data
        elif hasattr(data, "images") and hasattr(data, "targets"):
            pcodes = tuple(int(c) for c in data.classes) if getattr(data, "classes", None) is not None else None
            if codes is not None and pcodes is not None and codes != pcodes:
                raise ClassCodeError(
                    f"`classes`={codes} disagrees with the patches' classes {pcodes} (the order of their targets); "
                    "leave classes=None to use the patches' classes"
                )
            codes = codes or pcodes
            data, y = data.images, data.targets
        else:
            raise InvalidParameterError(
                "give a PatchSet (with .images and .targets) or arrays (images, one-hot targets), "
                f"got {type(data).__name__}"
            )
    x, y = np.asarray(data), np.asarray(y)
    if x.dtype.kind not in "uif":
        raise InvalidParameterError(f"images must be numbers, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if y.ndim == 3 and y.dtype.kind in "iu" and x.ndim == 4:
        # class codes: the classes are the codes present (sorted), unless given - as scikit-learn does
        if codes is None:
            codes = _codes_from_labels(y)
        y = one_hot(y, codes)
    if x.ndim != 4 or y.ndim != 4 or x.shape[:3] != y.shape[:3]:
        raise InvalidParameterError(
            f"images must be (n, rows, cols, bands) and targets (n, rows, cols, classes) on the same grid, "
            f"got {x.shape} and {y.shape}"
        )
    if codes is None:
        raise ClassCodeError(
            f"the one-hot targets have {y.shape[-1]} channels but nothing says which class code each one is; "
            "pass classes=(...) in channel order, e.g. .fit((images, targets), classes=(WATER, LAND)), "
            "or fit on a PatchSet (it carries its classes)"
        )
    if len(codes) != y.shape[-1]:
        raise ClassCodeError(
            f"`classes` lists {len(codes)} codes {codes} but the targets have {y.shape[-1]} channels; "
            "give one code per channel"
        )
    if not np.isfinite(x).all():
        raise InvalidParameterError(
            "the images hold NaN or inf values; mask them as nodata (geonb.scene.read_scene does) before fitting"
        )
    return x, y.astype(np.float32, copy=False), codes


class AllLandBaseline:
    """The naive classifier that calls every pixel land (what accuracy alone would reward).

    Parameters
    ----------
    classes : sequence of int, optional
        Class code of each output channel. Default: the classes of the patches given to :meth:`fit`
        (as scikit-learn estimators learn ``classes_``).
    land : int
        The code it always answers (``LAND``); must be one of the classes.

    Attributes
    ----------
    classes_ : tuple of int
        Class code of each output channel (set by ``classes=`` or :meth:`fit`).
    """

    def __init__(self, classes: Sequence[int] | None = None, *, land: int = LAND):
        self.land = int(land)
        self.classes_: tuple[int, ...] | None = None
        if classes is not None:
            self.classes_ = self._check(check_class_codes_arg(classes))
        self.n_bands: int | None = None
        self.name = "all_land"

    def _check(self, codes: tuple[int, ...]) -> tuple[int, ...]:
        if self.land not in codes:
            raise ClassCodeError(
                f"the all-land baseline answers class {self.land} (`land`), which is not among its classes {codes}; "
                "pass land=<the land code> or classes that include it"
            )
        return codes

    @property
    def n_classes(self) -> int | None:
        return None if self.classes_ is None else len(self.classes_)

    @property
    def land_index(self) -> int:
        return class_codes(self).index(self.land)

    def fit(self, data, y=None, *, classes: Sequence[int] | None = None) -> AllLandBaseline:
        """Record the band count and the classes (nothing to learn)."""
        x, _, codes = _xy_arrays(data, y, classes if classes is not None else self.classes_)
        self.classes_ = self._check(codes)
        self.n_bands = x.shape[-1]
        return self

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """``(n, rows, cols, len(classes_))`` float32, 1 on the land channel."""
        x = np.asarray(images)
        _check_baseline_input(self, x)
        out = np.zeros(x.shape[:-1] + (len(self.classes_),), dtype=np.float32)
        out[..., self.land_index] = 1.0
        return out


def band_axis_hint(shape: tuple, n_bands: int) -> str:
    """A hint when an array looks bands-first ``(bands, rows, cols)`` instead of geonb's ``(rows, cols, bands)``."""
    if len(shape) >= 3 and shape[-1] != n_bands and shape[-3] == n_bands:
        return f"; it looks bands-first (shape {tuple(shape)}): use np.moveaxis(images, {len(shape) - 3}, -1)"
    return ""


def _check_baseline_input(model, x: np.ndarray) -> None:
    if model.n_bands is None or model.classes_ is None:
        raise ModelError(f"{type(model).__name__} is not fitted yet; call .fit(train_patches) first")
    if x.ndim < 3 or x.shape[-1] != model.n_bands:
        raise BandMismatchError(
            f"`images` has shape {x.shape} with {x.shape[-1] if x.ndim else 0} bands last, but the baseline was "
            f"fitted on {model.n_bands} bands; give (n, rows, cols, bands) with the same bands"
            + band_axis_hint(x.shape, model.n_bands)
        )


class LogisticRegressionBaseline:
    """Per-pixel multinomial logistic regression on band values (no spatial context).

    The study's Table 5 baseline: each labelled pixel is one sample with the band values as
    features, standardised. Fitting on every pixel of a large training set is slow and adds
    little, so at most ``max_pixels`` labelled pixels are drawn (seeded).

    Parameters
    ----------
    max_pixels : int
    seed : int
    C : float
        Inverse regularisation strength (scikit-learn).

    Attributes
    ----------
    classes_ : tuple of int
        Class code of each output channel: the patches' classes (set by :meth:`fit`).
    """

    def __init__(self, max_pixels: int = MAX_SAMPLE_PIXELS, seed: int = 0, C: float = 1.0):
        if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) or max_pixels < 10:
            raise InvalidParameterError(f"`max_pixels` must be an int >= 10, got {max_pixels!r}")
        if not (isinstance(C, (int, float, np.number)) and np.isfinite(C) and C > 0):
            raise InvalidParameterError(f"`C` must be a number > 0 (inverse regularisation), got {C!r}")
        self.max_pixels = int(max_pixels)
        self.seed = seed
        self.C = float(C)
        self.n_bands: int | None = None
        self.classes_: tuple[int, ...] | None = None
        self.pipeline = None
        self.name = "logistic_regression"

    @property
    def n_classes(self) -> int | None:
        return None if self.classes_ is None else len(self.classes_)

    def fit(self, data, y=None, *, classes: Sequence[int] | None = None) -> LogisticRegressionBaseline:
        """Fit on a PatchSet (or ``(images, one-hot targets)`` with ``classes=``); unlabelled pixels are skipped.

        The output channels are the patches' classes (``classes_``), also those with no training pixel
        (their probability is 0).
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        nodata = getattr(data, "nodata", None) if y is None and hasattr(data, "images") else None
        x, t, codes = _xy_arrays(data, y, classes)
        xf = x.reshape(-1, x.shape[-1])
        tf = t.reshape(-1, t.shape[-1])
        labelled = tf.sum(axis=1) > 0
        if nodata is not None:  # a PatchSet: image nodata is not a pixel
            labelled &= ~np.asarray(nodata, dtype=bool).reshape(-1)
        xf, yf = xf[labelled], tf[labelled].argmax(axis=1)
        if len(np.unique(yf)) < 2:
            raise InvalidParameterError("the training pixels hold fewer than 2 classes; logistic regression needs 2")
        if len(yf) > self.max_pixels:
            pick = np.random.default_rng(self.seed).choice(len(yf), self.max_pixels, replace=False)
            xf, yf = xf[pick], yf[pick]
        self.pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=500))
        self.pipeline.fit(xf, yf)
        self.n_bands, self.classes_ = x.shape[-1], codes
        return self

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """``(n, rows, cols, len(classes_))`` float32 (or ``(rows, cols, ...)``), channels in ``classes_`` order."""
        x = np.asarray(images, dtype=np.float32)
        _check_baseline_input(self, x)
        if not np.isfinite(x).all():
            raise InvalidParameterError(
                "`images` hold NaN or inf values; mask them as nodata (a Scene read by geonb holds 0 there)"
            )
        p = self.pipeline.predict_proba(x.reshape(-1, x.shape[-1]))
        out = np.zeros((p.shape[0], len(self.classes_)), dtype=np.float32)
        out[:, self.pipeline.classes_] = p  # the pipeline's classes are channel indices into classes_
        return out.reshape(x.shape[:-1] + (len(self.classes_),))


__all__ = [
    "AllLandBaseline",
    "LAKES_FCN_MIN_SIZE",
    "LogisticRegressionBaseline",
    "OVERLAP_KINDS",
    "STUDY_PATCH_SIZES",
    "average_models",
    "build_buildings_fcn",
    "build_buildings_unet",
    "build_lakes_fcn",
    "build_unet",
    "check_class_codes_arg",
    "check_patch_size",
    "class_codes",
    "compile_model",
    "describe_layers",
    "input_statistics",
    "is_keras_model",
    "load_model",
    "model_info",
    "model_io",
    "overlap_loss",
    "read_saved_class_codes",
    "save_model",
    "set_class_codes",
    "set_model_info",
    "write_keras_file",
]
