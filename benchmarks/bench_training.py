"""Benchmark: geonb.training.train versus a bare ``model.fit`` on the same in-memory arrays.

Lakes FCN, 16 x 16 x 7 patches, 1592 of them (the study's epoch), batch 16 (the study's).
The three variants run in turn, ``ROUNDS`` times (interleaved, so load from other processes hits
all alike); each run trains ``EPOCHS`` epochs and the first (compiling) epoch is left out. Prints the
median epoch time, patches per second, and the ratio geonb / bare fit (target: at most 1.1).

    .venv/bin/python benchmarks/bench_training.py
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

N_PATCHES, SIZE, EPOCHS, ROUNDS, BATCH = 1592, 16, 3, 2, 16


def _epoch_times(fit_fn) -> list[float]:
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.t = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.t.append(time.perf_counter() - self.t0)

    timer = Timer()
    fit_fn([timer])
    return timer.t[1:]  # first epoch compiles


def main() -> int:
    from geonb.models import build_lakes_fcn
    from geonb.training import compute_class_weights, pixel_weights, train

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 0.5, (N_PATCHES, SIZE, SIZE, 7)).astype(np.float32)
    labels = np.where(rng.random((N_PATCHES, SIZE, SIZE)) < 0.2, 1, 2).astype(np.uint8)
    from geonb.labels import one_hot

    y = one_hot(labels)
    sw = pixel_weights(y, compute_class_weights(y, "balanced", (1, 2, 3)))
    print(f"lakes FCN, {N_PATCHES} patches of {SIZE}x{SIZE}x7, {EPOCHS} epochs per run "
          f"x {ROUNDS} rounds (median of epochs 2..{EPOCHS}); backend {os.environ.get('KERAS_BACKEND')}; "
          f"{os.cpu_count()} cores")
    batch = BATCH
    runs = {
        "bare model.fit": lambda cb: build_lakes_fcn(SIZE).fit(
            x, y, epochs=EPOCHS, batch_size=batch, verbose=0, callbacks=cb),
        "bare model.fit + sample_weight": lambda cb: build_lakes_fcn(SIZE).fit(
            x, y, sample_weight=sw, epochs=EPOCHS, batch_size=batch, verbose=0, callbacks=cb),
        "geonb train": lambda cb: train(build_lakes_fcn(SIZE), (x, labels), epochs=EPOCHS, batch_size=batch,
                                        verbose=0, callbacks=cb),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, fn in runs.items():
            times[name].extend(_epoch_times(fn))
    med = {name: float(np.median(t)) for name, t in times.items()}
    for name, m in med.items():
        print(f"  batch {batch}  {name:32s} {m:6.2f} s/epoch  {N_PATCHES / m:7.0f} patches/s  "
              f"(epochs: {', '.join(f'{t:.2f}' for t in times[name])})")
    print(f"  ratio geonb train / bare model.fit: {med['geonb train'] / med['bare model.fit']:.2f}; "
          f"/ bare fit with the same sample weights: {med['geonb train'] / med['bare model.fit + sample_weight']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
