"""Benchmark: scoring a whole test split with geonb.evaluation vs calling scikit-learn on the raw pixels.

geonb sums per-lake confusion matrices and hands the matrix cells to scikit-learn as weighted
samples; the baseline calls ``precision_recall_fscore_support``, ``jaccard_score`` and
``accuracy_score`` on every pixel, as a notebook would. Both give the same F1 (checked).
Run: ``.venv/bin/python benchmarks/bench_experiments.py``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from sklearn.metrics import accuracy_score, jaccard_score, precision_recall_fscore_support

from geonb.evaluation import lake_confusions, sum_confusions
from geonb.labels import LAND, NODATA, UNCLASSIFIED, WATER

N_LAKES, REPEATS = 105, 7  # the size of the study's test split


def make_split(seed: int = 0):
    rng = np.random.default_rng(seed)
    truth, preds = {}, {}
    for i in range(N_LAKES):
        rows, cols = rng.integers(12, 133, 2)
        t = rng.choice([WATER, LAND, UNCLASSIFIED, NODATA], size=(rows, cols), p=[0.1, 0.85, 0.03, 0.02])
        p = np.where(rng.random((rows, cols)) < 0.9, t, rng.choice([WATER, LAND], size=(rows, cols)))
        p[t == NODATA] = NODATA
        truth[f"lake{i}"], preds[f"lake{i}"] = t.astype(np.uint8), np.where(p == UNCLASSIFIED, LAND, p).astype(np.uint8)
    return truth, preds


def geonb_way(truth, preds) -> float:
    confs, _ = lake_confusions(preds, truth)
    return sum_confusions(confs.values()).scores().f1


def sklearn_way(truth, preds) -> float:
    t = np.concatenate([truth[k].ravel() for k in preds])
    p = np.concatenate([preds[k].ravel() for k in preds])
    keep = (t != NODATA) & (t != UNCLASSIFIED)
    t, p = t[keep], p[keep]
    _, _, f1, _ = precision_recall_fscore_support(t, p, labels=[WATER, LAND], zero_division=np.nan)
    jaccard_score(t, p, labels=[WATER, LAND], average=None)
    accuracy_score(t, p)
    return float(f1[0])


def median_time(fn, *args) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    truth, preds = make_split()
    n = sum(v.size for v in truth.values())
    assert abs(geonb_way(truth, preds) - sklearn_way(truth, preds)) < 1e-12
    g, s = median_time(geonb_way, truth, preds), median_time(sklearn_way, truth, preds)
    print(f"{N_LAKES} lakes, {n:,} pixels, median of {REPEATS} runs")
    print(f"geonb per-lake confusions + summed scores: {g * 1000:8.1f} ms  (also gives every per-lake score)")
    print(f"scikit-learn on all pixels (baseline):     {s * 1000:8.1f} ms  (dataset totals only)")
    print(f"ratio geonb / baseline: {g / s:.2f}")


if __name__ == "__main__":
    main()
