"""How fast does the prediction viewer redraw when the lake or the model changes? (target: <= 300 ms median)

Drives :class:`geonb.widgets.PredictionViewer` from Python on real test lakes of the sample dataset
(``make data``; falls back to small synthetic scenes) with two models' predictions, and times:

* switching lake: on the first visit (reads the scene; a full redraw for a new grid shape) and
  when seen before (arrays swapped and blitted over the cached axes),
* switching model, and moving the threshold slider (blitted over the cached axes),

against the baseline a notebook would write without the viewer's caching: a new
:func:`geonb.plots.plot_side_by_side` figure per change, rendered to PNG (what
``ipywidgets.interactive_output`` + ``plt.show()`` does).

Run: ``.venv/bin/python benchmarks/bench_viewer.py``
"""

from __future__ import annotations

import io
import statistics
import time
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from geonb import plots  # noqa: E402
from geonb.labels import LAND, UNCLASSIFIED, WATER  # noqa: E402
from geonb.widgets import PredictionViewer  # noqa: E402

N_LAKES = 8
REPEATS = 3


def fake_prediction(labels: np.ndarray, skill: float, seed: int):
    """A prediction with graded water probability (rendering cost does not depend on its quality)."""
    rng = np.random.default_rng(seed)
    p = np.where(labels == WATER, skill, 1 - skill) + rng.normal(0, 0.15, labels.shape)
    p = np.clip(p, 0, 1).astype(np.float32)
    probs = np.stack([p, 1 - p, np.zeros_like(p)], axis=-1)
    return SimpleNamespace(classes=np.where(p >= 0.5, WATER, LAND).astype(np.uint8), probabilities=probs,
                           class_codes=(WATER, LAND, UNCLASSIFIED))


def load_scenes() -> dict:
    try:
        from geonb.datasets import LakeDataset

        ds = LakeDataset("lakes-synthetic")
        ids = ds.split_ids("test")[:N_LAKES]
        return {i: ds.scene(i) for i in ids}
    except Exception as exc:  # noqa: BLE001 - no sample data: synthetic scenes of typical sizes
        print(f"(sample data not available: {exc}; using synthetic scenes)")
        from geonb.scene import Scene

        rng = np.random.default_rng(0)
        scenes = {}
        for k in range(N_LAKES):
            rows, cols = rng.integers(12, 133, size=2)
            labels = np.where(rng.random((rows, cols)) < 0.1, WATER, LAND).astype(np.uint8)
            scenes[f"lake-{k}"] = Scene(rng.random((rows, cols, 7), dtype=np.float32) * 0.3, labels=labels,
                                        name=f"lake {k}")
        return scenes


def median_ms(times) -> float:
    return 1000 * statistics.median(times)


def main() -> None:
    scenes = load_scenes()
    ids = list(scenes)
    preds = {"fcn": {i: fake_prediction(s.labels, 0.8, 1) for i, s in scenes.items()},
             "logistic_regression": {i: fake_prediction(s.labels, 0.7, 2) for i, s in scenes.items()}}
    sizes = sorted({s.shape for s in scenes.values()})
    print(f"{len(ids)} lakes, grids from {sizes[0]} to {sizes[-1]} px, 2 models")

    t0 = time.perf_counter()
    viewer = PredictionViewer(scenes, preds)
    print(f"viewer built and first frame drawn in {1000 * (time.perf_counter() - t0):.0f} ms")
    first_t = []
    for i in ids[1:] + ids[:1]:  # a user's first pass: reads each scene, draws axes for each new grid shape
        t = time.perf_counter()
        viewer.lake_dropdown.value = i
        first_t.append(time.perf_counter() - t)

    lake_t, model_t, thr_t = [], [], []
    for _ in range(REPEATS):
        for k in range(len(ids)):
            t = time.perf_counter()
            viewer.lake_dropdown.value = ids[(k + 1) % len(ids)]
            lake_t.append(time.perf_counter() - t)
            for model in ("logistic_regression", "fcn"):
                t = time.perf_counter()
                viewer.model_dropdown.value = model
                model_t.append(time.perf_counter() - t)
            for thr in (0.3, 0.5):
                t = time.perf_counter()
                viewer.threshold_slider.value = thr
                thr_t.append(time.perf_counter() - t)

    base_t = []
    for _ in range(REPEATS):
        for i in ids:
            t = time.perf_counter()
            axes = plots.plot_side_by_side(scenes[i], preds["fcn"][i], threshold=0.5)
            buf = io.BytesIO()
            axes[0].figure.savefig(buf, format="png", dpi=72)
            plt.close(axes[0].figure)
            base_t.append(time.perf_counter() - t)

    base = median_ms(base_t)
    print(f"{'change':<34}{'median ms':>10}{'runs':>6}{'vs baseline':>13}")
    for name, ts in (("switch lake, first visit", first_t), ("switch lake, seen before", lake_t),
                     ("switch model", model_t), ("move threshold", thr_t),
                     ("baseline: new figure per change", base_t)):
        print(f"{name:<34}{median_ms(ts):>10.0f}{len(ts):>6}{base / median_ms(ts):>12.1f}x")
    worst = max(median_ms(first_t), median_ms(lake_t), median_ms(model_t))
    print(f"target <= 300 ms median for lake/model switches: {'met' if worst <= 300 else 'NOT met'} "
          f"({worst:.0f} ms)")


if __name__ == "__main__":
    main()
