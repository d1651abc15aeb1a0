"""Benchmark: is spatial context a boon on real scenes? FCN vs U-Net vs per-pixel logistic regression.

On the two real labelled scenes in ``../shared/realdata/`` (Landsat-5 TM at Tucurui, 36 polygons;
Sentinel-2 at Obidos, 25 polygons) it runs :func:`geonb.workflow.compare_on_scene`: for each seed a new
polygon split (60/20/20 % of each class's polygons, no polygon in two splits), each model trained on the
training polygons (FCN and U-Net: 8 x 8 patches, D4 augmentation, early stopping on the validation
polygons) and scored on the held-out test polygons. It prints per-class F1 (mean ± sd over the seeds),
the macro F1 and the training time, and writes the tidy table to ``build/bench/own_raster.csv``.

    .venv/bin/python benchmarks/bench_own_raster.py [--seeds 0 1 2] [--models fcn unet logistic_regression]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
SCENES = {
    "landsat5-tucurui": "LT05_224063_19880814_B1-7.tif",
    "sentinel2-obidos": "S2_obidos_B1-B12_reflectance.tif",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=["fcn", "unet", "logistic_regression"])
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args()
    if not REALDATA.is_dir():
        print(f"skipped: the real scenes are not at {REALDATA}")
        return 0
    import pandas as pd

    from geonb.scene import read_scene
    from geonb.workflow import compare_on_scene

    tables = []
    for folder, image in SCENES.items():
        scene = read_scene(REALDATA / folder / image)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            table = compare_on_scene(scene, REALDATA / folder / "training_polygons.geojson", models=args.models,
                                     seeds=args.seeds, epochs=args.epochs, progress=False)
        table.insert(0, "scene", folder)
        tables.append(table)
        print(f"\n== {folder}: {len(args.seeds)} seeds x {len(args.models)} models in {time.perf_counter() - t0:.0f} s")
        g = table.groupby(["class", "model"])["f1"]
        mean, sd = g.mean().unstack("model"), g.std(ddof=0).unstack("model")
        print("F1 on the held-out polygons, mean ± sd over seeds:")
        print((mean.round(3).astype(str) + " ± " + sd.round(3).astype(str)).to_string())
        macro = table.groupby(["model", "seed"])["f1"].mean().groupby("model").agg(
            mean="mean", sd=lambda v: v.std(ddof=0))
        print("macro F1 (mean over classes), mean ± sd over seeds:")
        print(macro.round(3).to_string())
        secs = table.groupby("model")["train_seconds"].median()
        print("median training time (s):", secs.round(1).to_dict())
    out = Path(__file__).resolve().parents[1] / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    pd.concat(tables).to_csv(out / "own_raster.csv", index=False)
    print(f"\ntable: {out / 'own_raster.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
