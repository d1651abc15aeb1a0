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
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from geonb.errors import BandMismatchError, InvalidParameterError, ModelError
from geonb.labels import LAKE_CLASSES, LAND
from geonb.runtime import import_keras

#: Smallest side the lakes FCN takes: its valid convolutions remove 2 + 1 + 1 + 2 = 6 pixels.
LAKES_FCN_MIN_SIZE = 7
#: The study's patch sizes; every architecture here must take them (tested).
STUDY_PATCH_SIZES = (8, 16, 32, 64)


def _keras():
    return import_keras()


def _n_classes(classes) -> int:
    if isinstance(classes, (int, np.integer)):
        n = int(classes)
    else:
        n = len(tuple(classes))
    if n < 2:
        raise InvalidParameterError(f"`classes` must give at least 2 classes, got {classes!r}")
    return n


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
        if valid.any():
            flat = flat[valid]
    if flat.shape[0] == 0:
        raise InvalidParameterError("`images` holds no pixels to compute statistics from")
    mean = flat.mean(axis=0, dtype=np.float64)
    var = flat.var(axis=0, dtype=np.float64)
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
        x = keras.layers.Normalization(mean=mean.tolist(), variance=var.tolist(), name="normalize")(x)
    return inputs, x


def _softmax(keras, x):
    # float32 output even under a mixed_float16 policy, so probabilities and the loss stay exact.
    return keras.layers.Activation("softmax", dtype="float32", name="probabilities")(x)


def compile_model(model, learning_rate: float = 1e-3):
    """Compile ``model`` with Adam, categorical cross-entropy and a pixel accuracy; return it.

    Accuracy is a *weighted* metric, so pixels with sample weight 0 (no label, nodata) are left out
    of it when :func:`geonb.training.train` passes per-pixel weights.
    """
    keras = _keras()
    if not learning_rate > 0:
        raise InvalidParameterError(f"`learning_rate` must be > 0, got {learning_rate!r}")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        weighted_metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
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


def build_lakes_fcn(patch_size: int = 16, bands: int = 7, classes: int | Sequence[int] = 3, *,
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
    classes : int or sequence of class codes
        Output channels (3: water, land, unclassified - also for the water/land dataset, as the
        study did, so one model serves both datasets).
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
    n_out = _n_classes(classes)
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
    return compile_model(model, learning_rate) if compile else model


def build_unet(patch_size: int = 16, bands: int = 7, classes: int | Sequence[int] = 3, *,
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
    filters = tuple(int(f) for f in filters)
    if len(filters) < 2 or min(filters) < 1:
        raise InvalidParameterError(f"`filters` needs >= 2 positive values (levels), got {filters!r}")
    depth = len(filters) - 1
    check_patch_size("unet", patch_size, depth=depth)
    bands = _check_bands(bands)
    n_out = _n_classes(classes)
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
    for level in range(depth, 0, -1):
        f = filters[level - 1]
        x = L.Conv2DTranspose(f, 2, strides=2, padding="same",
                              kernel_initializer=_initializer(keras, seed, next(counter)), name=f"up{level}")(x)
        x = L.Concatenate(name=f"skip{level}")([x, skips[level - 1]])
        x = block(x, f, f"up{level}")
    x = L.Conv2D(n_out, 1, kernel_initializer=_initializer(keras, seed, next(counter)), name="classifier")(x)
    model = keras.Model(inputs, _softmax(keras, x), name="unet")
    return compile_model(model, learning_rate) if compile else model


def build_buildings_fcn(patch_size: int = 128, bands: int = 4, classes: int | Sequence[int] = 2, *,
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
    classes : int
        2 (building or not); 3 with a border class.
    """
    check_patch_size("buildings_fcn", patch_size)
    bands = _check_bands(bands)
    n_out = _n_classes(classes)
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
    if hasattr(model, "predict_proba") and hasattr(model, "n_bands") and hasattr(model, "n_classes"):
        if model.n_bands is None:
            raise ModelError(f"{type(model).__name__} is not fitted yet; call .fit(train_patches) first")
        return int(model.n_bands), int(model.n_classes), None
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
def save_model(model, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Save a Keras model to a ``.keras`` file, atomically; refuse to replace one unless ``overwrite``.

    The file holds the architecture, the weights (including the normalisation constants) and the
    optimizer state; :func:`load_model` reads it back.
    """
    from geonb.scene import atomic_path

    path = Path(path)
    if path.suffix != ".keras":
        raise InvalidParameterError(f"`path` must end with '.keras' (Keras 3 format), got {str(path)!r}")
    if not is_keras_model(model):
        raise ModelError(f"only Keras models can be saved, got {type(model).__name__}")
    with atomic_path(path, overwrite) as tmp:
        model.save(tmp)
    return path


def load_model(path: str | os.PathLike, *, compile: bool = True):
    """Load a model saved by :func:`save_model` (or ``model.save``), with Keras' ``safe_mode=True``.

    Safe mode refuses to run code stored in the file (lambda layers), so a model file from the
    internet cannot execute anything. Pickled models are never read.

    Raises
    ------
    FileNotFoundError (ModelError)
        The file does not exist.
    ModelError
        The file is not a Keras 3 ``.keras`` model.
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
    keras = _keras()
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # Keras raises several types for a damaged or foreign archive
        raise ModelError(f"{str(path)!r} could not be loaded as a Keras model: {exc}") from exc


class _ModelFileNotFound(ModelError, FileNotFoundError):
    """A model file path that does not exist."""


# -------------------------------------------------------------------------------------------
# Baselines with the same interface
# -------------------------------------------------------------------------------------------
def _xy_arrays(data, y=None) -> tuple[np.ndarray, np.ndarray]:
    if y is None:
        if isinstance(data, tuple) and len(data) == 2:
            data, y = data
        elif hasattr(data, "images") and hasattr(data, "targets"):
            data, y = data.images, data.targets
        else:
            raise InvalidParameterError(
                "give a PatchSet (with .images and .targets) or arrays (images, one-hot targets)"
            )
    x, y = np.asarray(data, dtype=np.float32), np.asarray(y, dtype=np.float32)
    if x.ndim != 4 or y.ndim != 4 or x.shape[:3] != y.shape[:3]:
        raise InvalidParameterError(
            f"images must be (n, rows, cols, bands) and targets (n, rows, cols, classes) on the same grid, "
            f"got {x.shape} and {y.shape}"
        )
    return x, y


class AllLandBaseline:
    """The naive classifier that calls every pixel land (what accuracy alone would reward).

    Parameters
    ----------
    n_classes : int
        Output channels, as the models' (3 for lakes).
    land_index : int
        Channel of the land class (``LAKE_CLASSES.index(LAND)``).
    """

    def __init__(self, n_classes: int = len(LAKE_CLASSES), land_index: int = LAKE_CLASSES.index(LAND)):
        if not 0 <= land_index < n_classes:
            raise InvalidParameterError(f"`land_index` must be in [0, {n_classes}), got {land_index}")
        self.n_classes = int(n_classes)
        self.land_index = int(land_index)
        self.n_bands: int | None = None
        self.name = "all_land"

    def fit(self, data, y=None) -> AllLandBaseline:
        """Record the band count (nothing to learn)."""
        x, _ = _xy_arrays(data, y)
        self.n_bands = x.shape[-1]
        return self

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """``(n, rows, cols, n_classes)`` float32, 1 on the land channel."""
        x = np.asarray(images)
        _check_baseline_input(self, x)
        out = np.zeros(x.shape[:-1] + (self.n_classes,), dtype=np.float32)
        out[..., self.land_index] = 1.0
        return out


def _check_baseline_input(model, x: np.ndarray) -> None:
    if model.n_bands is None:
        raise ModelError(f"{type(model).__name__} is not fitted yet; call .fit(train_patches) first")
    if x.ndim < 2 or x.shape[-1] != model.n_bands:
        raise BandMismatchError(
            f"`images` has {x.shape[-1] if x.ndim else 0} bands but the baseline was fitted on {model.n_bands}; "
            "select the same bands"
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
    """

    def __init__(self, max_pixels: int = 200_000, seed: int = 0, C: float = 1.0):
        if max_pixels < 10:
            raise InvalidParameterError(f"`max_pixels` must be >= 10, got {max_pixels}")
        self.max_pixels = int(max_pixels)
        self.seed = seed
        self.C = float(C)
        self.n_bands: int | None = None
        self.n_classes: int | None = None
        self.pipeline = None
        self.name = "logistic_regression"

    def fit(self, data, y=None) -> LogisticRegressionBaseline:
        """Fit on a PatchSet (or ``(images, one-hot targets)``); unlabelled pixels are skipped."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        x, t = _xy_arrays(data, y)
        xf = x.reshape(-1, x.shape[-1])
        tf = t.reshape(-1, t.shape[-1])
        labelled = tf.sum(axis=1) > 0
        if y is None and getattr(data, "nodata", None) is not None:  # a PatchSet: image nodata is not a pixel
            labelled &= ~np.asarray(data.nodata, dtype=bool).reshape(-1)
        xf, yf = xf[labelled], tf[labelled].argmax(axis=1)
        if len(np.unique(yf)) < 2:
            raise InvalidParameterError("the training pixels hold fewer than 2 classes; logistic regression needs 2")
        if len(yf) > self.max_pixels:
            pick = np.random.default_rng(self.seed).choice(len(yf), self.max_pixels, replace=False)
            xf, yf = xf[pick], yf[pick]
        self.pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=500))
        self.pipeline.fit(xf, yf)
        self.n_bands, self.n_classes = x.shape[-1], t.shape[-1]
        return self

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """``(n, rows, cols, n_classes)`` float32 (or ``(rows, cols, n_classes)`` for one image)."""
        x = np.asarray(images, dtype=np.float32)
        _check_baseline_input(self, x)
        p = self.pipeline.predict_proba(x.reshape(-1, x.shape[-1]))
        out = np.zeros((p.shape[0], self.n_classes), dtype=np.float32)
        out[:, self.pipeline.classes_] = p
        return out.reshape(x.shape[:-1] + (self.n_classes,))


__all__ = [
    "AllLandBaseline",
    "LAKES_FCN_MIN_SIZE",
    "LogisticRegressionBaseline",
    "STUDY_PATCH_SIZES",
    "build_buildings_fcn",
    "build_lakes_fcn",
    "build_unet",
    "check_patch_size",
    "compile_model",
    "describe_layers",
    "input_statistics",
    "is_keras_model",
    "load_model",
    "model_io",
    "save_model",
]
