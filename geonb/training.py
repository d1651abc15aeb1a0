"""Training: ``model.fit`` on in-memory patches, with class weights, checkpoints and resume.

:func:`train` is a thin layer over Keras' ``model.fit``: the batches come straight from the
PatchSet arrays (no per-batch Python work of ours), so it runs as fast as a bare ``fit`` (see
``benchmarks/bench_training.py``). What it adds:

- checks that the patches fit the model (bands, classes, patch size) with errors that say why;
- per-pixel sample weights: 0 for unlabelled pixels (code 0), and class weights for the rare
  water class (Keras' own ``class_weight`` does not take image targets);
- early stopping on the validation loss;
- a checkpoint after every epoch, written atomically (a half-written file never replaces a good
  one), and ``resume=True`` to continue an interrupted run where it stopped;
- a :class:`TrainingResult` with the history, timings and patches per second.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geonb.errors import (
    BandMismatchError,
    ClassCodeError,
    InvalidParameterError,
    ModelError,
    OutputExistsError,
)
from geonb.io import write_json_atomic
from geonb.labels import one_hot
from geonb.models import (
    check_class_codes_arg,
    check_patch_size,
    class_codes,
    is_keras_model,
    load_model,
    model_io,
    set_class_codes,
    write_keras_file,
)
from geonb.runtime import import_keras

#: File names inside ``checkpoint_dir``.
LAST_CHECKPOINT = "last.keras"
BEST_CHECKPOINT = "best.keras"
STATE_FILE = "state.json"


@dataclass
class TrainingResult:
    """What a training run produced.

    Attributes
    ----------
    model : keras.Model
        The trained model (the same object that was passed in).
    history : dict of str to list of float
        One value per epoch for ``loss``, ``accuracy`` and, with validation, ``val_loss`` and
        ``val_accuracy``; epochs from before a resume included.
    epochs_run : int
        Epochs completed in total (including those before a resume).
    stopped_early : bool
    best_epoch : int or None
        1-based epoch with the best monitored value (lowest loss, or highest accuracy with
        ``stop_on="accuracy"``).
    epoch_seconds : list of float
        Wall time of each epoch run in this call.
    n_train : int
        Training patches.
    class_weights : dict of int to float
        Weight per class code used for the loss.
    checkpoint_dir : Path or None
    """

    model: object
    history: dict[str, list[float]]
    epochs_run: int
    stopped_early: bool = False
    best_epoch: int | None = None
    epoch_seconds: list[float] = field(default_factory=list)
    n_train: int = 0
    class_weights: dict[int, float] = field(default_factory=dict)
    checkpoint_dir: Path | None = None

    @property
    def patches_per_second(self) -> float:
        """Training throughput of the epochs run in this call (first epoch excluded when possible)."""
        times = self.epoch_seconds[1:] or self.epoch_seconds
        return self.n_train / float(np.median(times)) if times else float("nan")

    def to_frame(self):
        """The history as a ``pandas.DataFrame`` indexed by 1-based epoch."""
        import pandas as pd

        df = pd.DataFrame(self.history)
        df.index = pd.RangeIndex(1, len(df) + 1, name="epoch")
        return df

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return (f"TrainingResult({getattr(self.model, 'name', '?')}, epochs_run={self.epochs_run}, "
                f"stopped_early={self.stopped_early}, last={last})")


# -------------------------------------------------------------------------------------------
# Inputs
# -------------------------------------------------------------------------------------------
def default_classes(n_outputs: int, model=None) -> tuple[int, ...]:
    """Class codes of a model's output channels: the ones the model carries (nothing is guessed).

    Kept for compatibility; :func:`geonb.models.class_codes` is the one owner of this fact.

    Raises
    ------
    ModelError
        No model is given, or its codes are unknown.
    ClassCodeError
        The model's codes do not match ``n_outputs``.
    """
    if model is None:
        raise ModelError(
            f"the class codes of {n_outputs} output channels cannot be guessed from their number; pass "
            "classes=(...) with one code per channel, e.g. classes=(WATER, LAND)"
        )
    codes = class_codes(model)
    if len(codes) != n_outputs:
        raise ClassCodeError(f"the model's class codes {codes} do not match its {n_outputs} output channels")
    return codes


def _patch_classes(patches) -> tuple[int, ...] | None:
    codes = getattr(patches, "classes", None) if hasattr(patches, "images") else None
    return None if codes is None else tuple(int(c) for c in codes)


def resolve_codes(model, classes: Sequence[int] | None = None, patches=None) -> tuple[int, ...]:
    """The class codes of ``model``'s output channels, checked against ``classes=`` and the patches' classes.

    The model's own codes (:func:`geonb.models.class_codes`) win; ``classes`` may name them for a model
    that has none (e.g. loaded from a plain ``model.save`` file). Disagreement is an error, never a guess.
    """
    _, n_out, _ = model_io(model)
    given = check_class_codes_arg(classes) if classes is not None else None
    try:
        own = class_codes(model)
    except ModelError:
        own = None
    pclasses = _patch_classes(patches) if patches is not None else None
    if own is not None and given is not None and own != given:
        raise ClassCodeError(
            f"`classes`={given} disagrees with the model's own class codes {own} (set when it was built, "
            "fitted or saved); leave classes=None, or build the model with classes={given}"
        )
    codes = own or given or pclasses
    if codes is None:
        class_codes(model)  # raises the clear "codes are unknown" error
    if len(codes) != n_out:
        raise ClassCodeError(
            f"`classes` lists {len(codes)} codes {codes} but the model has {n_out} output channels; "
            "give one code per channel"
        )
    if pclasses is not None and pclasses != codes:
        raise ClassCodeError(
            f"the patches have classes {pclasses} but the model's output channels are classes {codes}; "
            f"build the model with classes={pclasses} or make the patches with classes={codes}"
        )
    return codes


def as_training_arrays(patches, model, *, classes: Sequence[int] | None = None,
                       name: str = "train_patches") -> tuple[np.ndarray, np.ndarray]:
    """Images and one-hot targets from a PatchSet or ``(images, labels)``, checked against ``model``.

    Parameters
    ----------
    patches : PatchSet-like or tuple
        An object with ``.images`` ``(n, s, s, bands)`` and ``.targets`` ``(n, s, s, classes)``
        (or ``.labels`` ``(n, s, s)`` class codes), or a tuple ``(images, targets_or_labels)``.
    model : keras.Model or baseline
    classes : sequence of int, optional
        Class codes of the model's output channels, for a model that carries none (see
        :func:`resolve_codes`); they must match the model's and the patches' classes. **Required**
        for a tuple ``(images, one-hot targets)``: a one-hot array does not say which class code each
        channel is, so it is never assumed to be the model's (integer class codes ``(n, s, s)`` and
        PatchSets carry their codes and need none).

    Returns
    -------
    images : ndarray float32 (n, s, s, bands)
    targets : ndarray float32 (n, s, s, classes); all-zero where a pixel has no label
    """
    bands, n_out, fixed = model_io(model)
    codes = resolve_codes(model, classes, patches)
    if isinstance(patches, tuple) and len(patches) == 2:
        x, y = patches
    elif hasattr(patches, "images"):
        x = patches.images
        y = getattr(patches, "labels", None)
        if y is None:
            y = getattr(patches, "targets", None)
    else:
        raise InvalidParameterError(
            f"`{name}` must be a PatchSet (with .images and .targets) or a tuple (images, targets), "
            f"got {type(patches).__name__}"
        )
    if y is None:
        raise InvalidParameterError(f"`{name}` has no targets or labels to train on")
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 4:
        raise InvalidParameterError(f"`{name}` images must be (n, rows, cols, bands), got shape {x.shape}")
    if x.shape[0] == 0:
        raise InvalidParameterError(
            f"`{name}` holds 0 patches; use more lakes or a smaller patch size (see geonb.patches)"
        )
    if x.shape[-1] != bands:
        raise BandMismatchError(
            f"`{name}` has {x.shape[-1]} bands but the model takes {bands}; select the model's bands "
            "(e.g. scene.select_bands(...)) or build the model with bands={x.shape[-1]}"
        )
    if isinstance(patches, tuple) and y.ndim == 4 and classes is None:
        # One-hot channels carry no codes: taking the model's would silently train water on a land channel
        # whenever the caller's order differs. The baselines require the same (geonb.models._xy_arrays).
        raise ClassCodeError(
            f"`{name}` is a tuple (images, one-hot targets) with {y.shape[-1]} target channels, and nothing says "
            f"which class code each channel is; pass classes=(...) in channel order (they must equal the model's "
            f"codes {codes}), or give integer class codes (n, rows, cols) instead of one-hot targets, or a PatchSet"
        )
    if y.ndim == 3:  # class codes -> one-hot (raises ClassCodeError for codes not in `codes`)
        try:
            y = one_hot(y, codes)
        except ClassCodeError as exc:
            raise ClassCodeError(
                f"`{name}` labels hold classes the model does not have (model classes {codes}): {exc}"
            ) from exc
    if y.ndim != 4 or y.shape[:3] != x.shape[:3]:
        raise InvalidParameterError(
            f"`{name}` targets must be (n, rows, cols, classes) on the images' grid {x.shape[:3]}, got {y.shape}"
        )
    if y.shape[-1] != n_out:
        raise ClassCodeError(
            f"`{name}` targets have {y.shape[-1]} classes but the model outputs {n_out} (class codes {codes}); "
            f"one-hot the labels with the model's codes (geonb.labels.one_hot(labels, {codes})), or build the "
            "model with one class code per target channel, in channel order, e.g. classes=(WATER, LAND)"
        )
    nodata = getattr(patches, "nodata", None)
    if nodata is not None and np.shape(nodata) == x.shape[:3] and np.any(nodata):
        y = y.astype(np.float32, copy=True)
        y[np.asarray(nodata, dtype=bool)] = 0.0  # no data, no loss
    size = x.shape[1]
    if fixed is not None and (x.shape[1], x.shape[2]) != (fixed, fixed):
        raise ModelError(f"the model takes {fixed}x{fixed} patches, `{name}` has {x.shape[1]}x{x.shape[2]}")
    _check_model_takes(model, size, x.shape[2])
    return x.astype(np.float32, copy=False), y.astype(np.float32, copy=False)


def _check_model_takes(model, rows: int, cols: int) -> None:
    name = getattr(model, "name", "")
    if name not in ("lakes_fcn", "unet", "buildings_fcn"):
        return
    depth = sum(type(layer).__name__ == "MaxPooling2D" for layer in model.layers) if name == "unet" else 2
    for s in {rows, cols}:
        check_patch_size(name, int(s), depth=depth)


def compute_class_weights(targets: np.ndarray, class_weight, classes: Sequence[int]) -> np.ndarray:
    """Weight per output channel.

    Parameters
    ----------
    targets : ndarray (n, s, s, C) one-hot
    class_weight : "balanced", None or dict of class code to weight
        ``"balanced"``: ``total / (n_present_classes * count)`` per class seen in ``targets``
        (scikit-learn's rule), so rare water weighs as much as abundant land overall.
        ``None``: all 1. A dict: weights by class code (e.g. ``{WATER: 3.0}``), others 1.
    classes : sequence of int
        Class codes of the channels.

    Returns
    -------
    ndarray float32 (C,)

    Examples
    --------
    >>> t = np.zeros((1, 2, 2, 3), np.float32); t[0, 0, 0, 0] = 1; t[0, 1:, :, 1] = 1; t[0, 0, 1, 1] = 1
    >>> compute_class_weights(t, "balanced", (1, 2, 3)).round(3).tolist()
    [2.0, 0.667, 1.0]
    """
    n = targets.shape[-1]
    if class_weight is None:
        return np.ones(n, dtype=np.float32)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise InvalidParameterError(
                f"`class_weight` must be 'balanced', None or a dict {{class code: weight}}, got {class_weight!r}"
            )
        counts = targets.reshape(-1, n).sum(axis=0, dtype=np.float64)
        present = counts > 0
        w = np.ones(n, dtype=np.float64)
        if present.any():
            w[present] = counts.sum() / (present.sum() * counts[present])
        return w.astype(np.float32)
    if isinstance(class_weight, Mapping):
        w = np.ones(n, dtype=np.float32)
        for code, value in class_weight.items():
            if int(code) not in tuple(classes):
                raise ClassCodeError(
                    f"`class_weight` has class code {code} that the model does not output; its classes are "
                    f"{tuple(classes)} (keys are class codes such as WATER=1, not channel indices)"
                )
            if not float(value) >= 0:
                raise InvalidParameterError(f"`class_weight[{code}]` must be >= 0, got {value!r}")
            w[tuple(classes).index(int(code))] = float(value)
        return w
    raise InvalidParameterError(f"`class_weight` must be 'balanced', None or a dict, got {type(class_weight).__name__}")


def pixel_weights(targets: np.ndarray, channel_weights: np.ndarray) -> np.ndarray:
    """Per-pixel sample weights ``(n, s, s)`` float32: the class weight, 0 where there is no label."""
    return np.tensordot(targets, channel_weights.astype(np.float32), axes=([-1], [0])).astype(np.float32)


# -------------------------------------------------------------------------------------------
# Checkpoints
# -------------------------------------------------------------------------------------------
def _architecture(model) -> list:
    return [[type(layer).__name__, [list(w.shape) for w in layer.weights]] for layer in model.layers]


def _check_resumed_schedule(prior: dict, schedule, epochs: int, ckdir: Path) -> None:
    """A cosine schedule is fixed by the run's length: resuming must keep the schedule and its epochs."""
    was = prior.get("learning_rate_schedule")
    if was != schedule:
        raise InvalidParameterError(
            f"the checkpoint in {str(ckdir)!r} was trained with learning_rate_schedule={was!r}; resume with the "
            f"same (got {schedule!r}), or pass resume=False, overwrite=True to start over")
    done, planned = int(prior.get("epochs_done", 0)), prior.get("schedule_epochs")
    if schedule is not None and planned is not None and epochs > done and epochs != int(planned):
        raise InvalidParameterError(
            f"the checkpoint in {str(ckdir)!r} is a {schedule} schedule over epochs={planned}; resume it with "
            f"epochs={planned} (got {epochs}: the rate would jump back up), or start a new run "
            "(resume=False, overwrite=True)")


def _make_checkpoint_callback(keras, checkpoint_dir: Path, monitor: str, prior: dict, schedule_state: dict):
    """A Keras callback writing ``last.keras``, ``best.keras`` and ``state.json`` atomically each epoch."""
    from geonb.io import atomic_path

    class AtomicCheckpoint(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.history = {k: list(v) for k, v in prior.get("history", {}).items()}
            self.best = prior.get("best", float("inf"))

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            for k, v in logs.items():
                self.history.setdefault(k, []).append(float(v))
            with atomic_path(checkpoint_dir / LAST_CHECKPOINT, overwrite=True) as tmp:
                write_keras_file(self.model, tmp)
            value = logs.get(monitor)
            # "best" is stored as a loss-like number: accuracy is negated, so smaller is better either way
            score = None if value is None else (-float(value) if "accuracy" in monitor else float(value))
            if score is not None and score < self.best:
                self.best = score
                with atomic_path(checkpoint_dir / BEST_CHECKPOINT, overwrite=True) as tmp:
                    write_keras_file(self.model, tmp)
            # state.json last: it only ever points at a checkpoint that is complete on disk.
            write_json_atomic(checkpoint_dir / STATE_FILE, {
                "epochs_done": epoch + 1, "history": self.history, "best": self.best, "monitor": monitor,
                "model_name": self.model.name, "architecture": _architecture(self.model),
                **schedule_state,
            })

    return AtomicCheckpoint()


def _restore(model, checkpoint_dir: Path) -> dict:
    """Load the last checkpoint's weights and optimizer state into ``model``; return the saved state."""
    state_path = checkpoint_dir / STATE_FILE
    ckpt = checkpoint_dir / LAST_CHECKPOINT
    if not state_path.exists() or not ckpt.exists():
        return {}
    state = json.loads(state_path.read_text())
    if state.get("architecture") != _architecture(model):
        raise ModelError(
            f"the checkpoint in {str(checkpoint_dir)!r} is of another architecture "
            f"({state.get('model_name')!r}) than the model being trained ({model.name!r}, "
            f"{model.count_params():,} parameters); resume with the same architecture, or use another "
            "`checkpoint_dir`, or pass resume=False, overwrite=True to start over"
        )
    saved = load_model(ckpt)
    model.set_weights(saved.get_weights())
    if getattr(saved, "optimizer", None) is not None and getattr(model, "optimizer", None) is not None:
        model.optimizer.build(model.trainable_variables)
        src, dst = saved.optimizer.variables, model.optimizer.variables
        if len(src) == len(dst) and all(tuple(s.shape) == tuple(d.shape) for s, d in zip(src, dst, strict=True)):
            for s, d in zip(src, dst, strict=True):
                d.assign(s)
        else:
            warnings.warn("the checkpoint's optimizer state does not match; the optimizer restarts fresh",
                          stacklevel=3)
    return state


# -------------------------------------------------------------------------------------------
# Augmentation: the 8 flips and rotations of a square (the dihedral group D4)
# -------------------------------------------------------------------------------------------
#: Augmentations :func:`train` knows.
AUGMENTATIONS = (None, "d4")


def d4(array: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th of the 8 flips/rotations (0..7) of square patches ``(n, s, s, ...)``: rotate by
    ``k % 4`` quarter turns, then flip left-right when ``k >= 4``. ``k=0`` is the identity.

    Examples
    --------
    >>> a = np.arange(4).reshape(1, 2, 2)
    >>> [d4(a, k)[0].ravel().tolist() for k in (0, 1, 4)]
    [[0, 1, 2, 3], [1, 3, 0, 2], [1, 0, 3, 2]]
    """
    out = np.rot90(array, int(k) % 4, axes=(1, 2))
    if int(k) >= 4:
        out = out[:, :, ::-1]
    return out


def _augmented_batches(keras, x, y, sw, batch_size: int, seed: int | None):
    """A Keras ``PyDataset`` of shuffled batches, each patch under a random D4 transform (new every epoch)."""

    class D4Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(x))

        def __len__(self):
            return -(-len(x) // batch_size)

        def __getitem__(self, i):
            idx = np.sort(self.order[i * batch_size:(i + 1) * batch_size])
            ks = self.rng.integers(0, 8, len(idx))
            xb, yb, wb = x[idx].copy(), y[idx].copy(), sw[idx].copy()
            for k in np.unique(ks):
                if k:
                    sel = ks == k
                    xb[sel], yb[sel], wb[sel] = d4(xb[sel], k), d4(yb[sel], k), d4(wb[sel], k)
            return xb, yb, wb

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(x))

    return D4Batches()


# -------------------------------------------------------------------------------------------
# train
# -------------------------------------------------------------------------------------------
def train(model, train_patches, val_patches=None, *, epochs: int = 1, batch_size: int = 32,
          class_weight: str | Mapping[int, float] | None = "balanced", early_stopping: int | None = None,
          checkpoint_dir: str | os.PathLike | None = None, resume: bool = False, overwrite: bool = False,
          classes: Sequence[int] | None = None, seed: int | None = 0, verbose: str | int = "auto",
          callbacks: Sequence | None = None, augment: str | None = None,
          stop_on: str = "loss", learning_rate_schedule: str | None = None) -> TrainingResult:
    """Train a compiled Keras model on patches with ``model.fit``; return a :class:`TrainingResult`.

    Parameters
    ----------
    model : keras.Model
        Compiled (the geonb builders compile).
    train_patches : PatchSet or (images, targets)
        Images ``(n, s, s, bands)`` float32 and one-hot targets ``(n, s, s, classes)`` (or class
        codes ``(n, s, s)``). Pixels without a label weigh 0. One-hot targets in a tuple need
        ``classes=`` (their channels' codes; see below).
    val_patches : PatchSet or (images, targets), optional
        Validation patches (from other lakes than training); their loss is reported each epoch
        and drives early stopping.
    epochs : int
        Total epochs (also when resuming: a run of 5 interrupted after 2 runs 3 more).
    batch_size : int
    class_weight : "balanced", None or dict {class code: weight}
        See :func:`compute_class_weights`; applied as per-pixel sample weights.
    early_stopping : int, optional
        Patience in epochs: stop when the validation loss (training loss without validation) has
        not improved for this many epochs, and restore the best weights.
    checkpoint_dir : path-like, optional
        Folder for ``last.keras``, ``best.keras`` and ``state.json``, written atomically each epoch.
    resume : bool
        Continue from the checkpoint in ``checkpoint_dir`` (weights, optimizer state, history).
    overwrite : bool
        Start over even though ``checkpoint_dir`` holds a checkpoint.
    classes : sequence of int, optional
        Class codes of the output channels, needed for a model that carries none (the geonb
        builders record them) and for one-hot targets given as a tuple ``(images, one_hot)`` (the
        class code of each target channel, in order); must agree with the model's and the patches'
        classes. Recorded on the
        model, saved with it and used by :func:`geonb.prediction.predict_scene`.
    seed : int or None
        ``keras.utils.set_random_seed(seed)``: on CPU the same seed gives the same weights.
    verbose : "auto", 0, 1 or 2
        Keras' progress output (``"auto"``: a progress bar).
    callbacks : sequence of keras callbacks, optional
        Run after geonb's own (the checkpoint is written before any of them).
    stop_on : {"loss", "accuracy"}
        What early stopping watches on the validation patches: the (class-weighted) loss, or the
        class-weighted pixel accuracy. With few validation polygons the loss is dominated by a few
        confident mistakes and can stop far too early; the accuracy is the steadier choice there.
    augment : None or "d4"
        ``"d4"``: every training patch is seen under a random one of the 8 flips/rotations of the square
        (drawn anew each epoch, seeded), so the model learns that water is water whichever way the scene
        faces. Same number of steps per epoch as without. Off by default here (the study's reproduction);
        the own-raster workflow (:mod:`geonb.workflow`) turns it on.
    learning_rate_schedule : None or "cosine"
        ``"cosine"``: the learning rate the model was compiled with is the peak, and it falls step by
        step along a half cosine to nearly 0 by the last step of ``epochs`` (SGDR's annealing
        without restarts). Large steps early, small ones at the end: a short run gets most of what a
        long run at a fixed rate gets (lakes FCN, 16 x 16, 3 seeds: 4 epochs cosine from 2e-3 F1
        0.888 +- 0.010; 4 at a fixed 2e-3 0.874 +- 0.018; 8 at a fixed 1e-3 0.909 +- 0.017). Steps
        are counted from the start of this call, plus the epochs a resumed run already has (the
        peak and the length are kept in the checkpoint; resuming with another schedule or length
        is refused); early stopping does not stretch it. Each epoch's last rate is in the history
        (``"learning_rate"``), and the compiled rate is set back when training ends.

    Returns
    -------
    TrainingResult

    Raises
    ------
    BandMismatchError
        The patches' band count differs from the model's input.
    ClassCodeError
        The labels hold classes the model does not output, or one-hot targets in a tuple come
        without ``classes=``.
    ModelError
        A patch size the model cannot take, or resuming from another architecture's checkpoint.
    OutputExistsError
        ``checkpoint_dir`` holds a checkpoint and neither ``resume`` nor ``overwrite`` is set.
    """
    if not is_keras_model(model):
        raise ModelError(
            f"`model` must be a compiled Keras model, got {type(model).__name__}; baselines train with .fit()"
        )
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise ModelError("`model` is not compiled; use geonb.models.compile_model(model) first")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise InvalidParameterError(f"`epochs` must be an int >= 1, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InvalidParameterError(f"`batch_size` must be an int >= 1, got {batch_size!r}")
    if stop_on not in ("loss", "accuracy"):
        raise InvalidParameterError(f"`stop_on` must be 'loss' or 'accuracy', got {stop_on!r}")
    if learning_rate_schedule not in LEARNING_RATE_SCHEDULES:
        raise InvalidParameterError(
            f"`learning_rate_schedule` must be one of {LEARNING_RATE_SCHEDULES}, got {learning_rate_schedule!r}")
    if augment not in AUGMENTATIONS:
        raise InvalidParameterError(f"`augment` must be None or 'd4' (the 8 flips/rotations), got {augment!r}")
    if verbose not in ("auto", 0, 1, 2) or isinstance(verbose, bool):
        raise InvalidParameterError(f"`verbose` must be 'auto', 0, 1 or 2 (Keras' progress output), got {verbose!r}")
    if early_stopping is not None and (not isinstance(early_stopping, (int, np.integer)) or early_stopping < 1):
        raise InvalidParameterError(
            f"`early_stopping` must be a patience >= 1 (epochs) or None, got {early_stopping!r}"
        )
    keras = import_keras()
    codes = resolve_codes(model, classes, train_patches)
    # the caller's `classes`, not the resolved codes: a one-hot tuple must say its codes itself
    x, y = as_training_arrays(train_patches, model, classes=classes, name="train_patches")
    set_class_codes(model, codes)  # the model carries its codes from here on (saved, checkpointed, predicted)
    cw = compute_class_weights(y, class_weight, codes)
    sw = pixel_weights(y, cw)
    validation_data = None
    if val_patches is not None:
        xv, yv = as_training_arrays(val_patches, model, classes=classes, name="val_patches")
        validation_data = (xv, yv, pixel_weights(yv, cw))
    monitor = "val_loss" if validation_data is not None else "loss"
    if stop_on == "accuracy":  # early stopping, best.keras and best_epoch all follow the same quantity
        monitor = monitor.replace("loss", "accuracy")

    if seed is not None:
        keras.utils.set_random_seed(int(seed))

    prior: dict = {}
    cbs: list = []
    if learning_rate_schedule is not None and isinstance(
            getattr(model.optimizer, "_learning_rate", None), keras.optimizers.schedules.LearningRateSchedule):
        raise InvalidParameterError(
            f"`learning_rate_schedule={learning_rate_schedule!r}` needs a model compiled with a fixed learning rate "
            "(its peak), but this optimizer already follows a keras LearningRateSchedule; compile with a number "
            "(geonb.models.compile_model(model, learning_rate=1e-3)) or pass learning_rate_schedule=None")
    # the compiled rate is the schedule's peak; a resumed run takes it from its checkpoint's state
    base_rate = float(np.asarray(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    ckdir = None
    if checkpoint_dir is not None:
        ckdir = Path(checkpoint_dir)
        if ckdir.exists() and not ckdir.is_dir():
            raise InvalidParameterError(
                f"`checkpoint_dir` {str(ckdir)!r} is a file; give a folder for the checkpoints (nothing was written)"
            )
        has_ckpt = (ckdir / STATE_FILE).exists() or (ckdir / LAST_CHECKPOINT).exists()
        if has_ckpt and not resume and not overwrite:
            raise OutputExistsError(
                f"{str(ckdir)!r} already holds a checkpoint; pass resume=True to continue that run, "
                "overwrite=True to start over, or choose another `checkpoint_dir`"
            )
        if has_ckpt and resume:
            prior = _restore(model, ckdir)
            base_rate = float(prior.get("base_learning_rate", base_rate))
            _check_resumed_schedule(prior, learning_rate_schedule, int(epochs), ckdir)
        if has_ckpt and overwrite and not resume:
            for f in (LAST_CHECKPOINT, BEST_CHECKPOINT, STATE_FILE):
                (ckdir / f).unlink(missing_ok=True)
        ckdir.mkdir(parents=True, exist_ok=True)
        schedule_state = {"base_learning_rate": base_rate, "learning_rate_schedule": learning_rate_schedule,
                          "schedule_epochs": int(epochs)}
        checkpoint = _make_checkpoint_callback(keras, ckdir, monitor, prior, schedule_state)
    elif resume:
        raise InvalidParameterError("`resume=True` needs the `checkpoint_dir` of the run to continue")
    else:
        checkpoint = None

    initial_epoch = int(prior.get("epochs_done", 0))
    history = {k: list(v) for k, v in prior.get("history", {}).items()}
    weights_by_code = {int(c): float(w) for c, w in zip(codes, cw, strict=True)}
    if initial_epoch >= epochs:
        warnings.warn(
            f"the checkpoint in {str(ckdir)!r} already has {initial_epoch} epochs (asked for {epochs}); "
            "nothing to train. " + ("Its cosine schedule is complete: start a new run to train further."
                                    if prior.get("learning_rate_schedule") else
                                    "Pass a larger `epochs` to train further."), stacklevel=2,
        )
        return TrainingResult(model, history, initial_epoch, n_train=len(x), class_weights=weights_by_code,
                              checkpoint_dir=ckdir, best_epoch=_best_epoch(history, monitor))

    # the schedule first: it sets each step's rate, and adds the epoch's rate to the logs the checkpoint records
    if learning_rate_schedule == "cosine":
        per_epoch = -(-len(x) // int(batch_size))
        cbs.append(_make_cosine_schedule(keras, base_rate, per_epoch * int(epochs), per_epoch * initial_epoch))
    if checkpoint is not None:
        cbs.append(checkpoint)
    stopper = None
    if early_stopping is not None:
        stopper = keras.callbacks.EarlyStopping(monitor=monitor, mode="min" if stop_on == "loss" else "max",
                                                patience=int(early_stopping),
                                                restore_best_weights=True)
        cbs.append(stopper)
    timer = _make_timer(keras)
    cbs.append(timer)  # after the checkpoint callback: Keras runs on_epoch_end in list order, so the epoch time
    # includes writing this epoch's checkpoint
    cbs.extend(callbacks or ())

    try:
        if augment == "d4":
            if x.shape[1] != x.shape[2]:
                raise InvalidParameterError(f"augment='d4' needs square patches, got {x.shape[1]}x{x.shape[2]}")
            fit = model.fit(_augmented_batches(keras, x, y, sw, int(batch_size), seed),
                            validation_data=validation_data, epochs=int(epochs), initial_epoch=initial_epoch,
                            callbacks=cbs, verbose=verbose)
        else:
            fit = model.fit(x, y, sample_weight=sw, validation_data=validation_data, epochs=int(epochs),
                            initial_epoch=initial_epoch, batch_size=int(batch_size), shuffle=True,
                            callbacks=cbs, verbose=verbose)
    except KeyboardInterrupt:
        if ckdir is not None:
            warnings.warn(f"training interrupted; the last finished epoch is saved in {str(ckdir)!r}: "
                          "call train(..., resume=True) with the same checkpoint_dir to continue", stacklevel=2)
        raise
    finally:
        if learning_rate_schedule is not None:  # the compiled rate again: a later fit or train starts from it
            model.optimizer.learning_rate = base_rate
    for k, v in fit.history.items():
        history.setdefault(k, []).extend(float(a) for a in v)
    epochs_run = initial_epoch + len(timer.seconds)
    return TrainingResult(
        model=model, history=history, epochs_run=epochs_run,
        stopped_early=bool(stopper is not None and stopper.stopped_epoch > 0),
        best_epoch=_best_epoch(history, monitor), epoch_seconds=list(timer.seconds), n_train=len(x),
        class_weights=weights_by_code, checkpoint_dir=ckdir,
    )


def _best_epoch(history: dict, monitor: str) -> int | None:
    values = history.get(monitor)
    if not values:
        values, monitor = history.get("loss"), "loss"
    if not values:
        return None
    return int(np.argmax(values) if "accuracy" in monitor else np.argmin(values)) + 1


#: Learning-rate schedules :func:`train` knows (``None``: the compiled rate throughout).
LEARNING_RATE_SCHEDULES = (None, "cosine")


def cosine_rate(step: int, total_steps: int, peak: float) -> float:
    """The learning rate at optimizer step ``step`` of a half-cosine decay from ``peak`` to 0.

    Examples
    --------
    >>> cosine_rate(0, 100, 2e-3), cosine_rate(50, 100, 2e-3), cosine_rate(100, 100, 2e-3)
    (0.002, 0.001, 0.0)
    """
    progress = min(max(int(step), 0), int(total_steps)) / max(int(total_steps), 1)
    return float(peak * 0.5 * (1.0 + np.cos(np.pi * progress)))


def _make_cosine_schedule(keras, peak: float, total_steps: int, steps_done: int):
    """Set the rate before every step; counted from this run's start (plus the steps of the epochs a
    resumed run already has), so a model trained before (fine-tuning) starts at the peak too."""
    class CosineSchedule(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.first = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

        def on_train_batch_begin(self, batch, logs=None):
            step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)) - self.first + steps_done
            self.model.optimizer.learning_rate = cosine_rate(step, total_steps, peak)

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:  # the rate of the epoch's last step, in the history beside the losses
                logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    return CosineSchedule()


def _make_timer(keras):
    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self._t0 = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._t0)

    return EpochTimer()


__all__ = [
    "AUGMENTATIONS",
    "LEARNING_RATE_SCHEDULES",
    "TrainingResult",
    "d4",
    "as_training_arrays",
    "compute_class_weights",
    "cosine_rate",
    "default_classes",
    "pixel_weights",
    "resolve_codes",
    "train",
]
