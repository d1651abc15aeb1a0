"""Benchmark: redraw latency of the patch-size explorer (notebook 03), driven from Python.

Moves the patch-size slider over a 132 x 132 lake and times each redraw (count windows, update the
drawn artists, render the PNG). Reports the median with split-wide counts cached (the slider
revisiting sizes) and cold (first visit of each size), and the baseline of a full figure draw.
Target: median <= 150 ms.

    .venv/bin/python benchmarks/bench_widgets_patches.py [--repeats 25]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np


def load_app():
    from geonb.widgets import PatchExplorer

    try:
        from geonb.datasets import LakeDataset

        ds = LakeDataset("lakes-synthetic")
        lake = (ds.lakes["rows"] * ds.lakes["cols"]).idxmax()  # the largest lake (132 x 132 if present)
        return PatchExplorer(ds, lake=lake), "lakes-synthetic (whole training split)"
    except Exception as exc:
        print(f"(dataset not available: {exc}; using a random 132 x 132 lake)")
        from geonb.scene import Scene

        rng = np.random.default_rng(0)
        lab = np.where(rng.random((132, 132)) < 0.2, 1, 2).astype(np.uint8)
        return PatchExplorer(scenes=[Scene(rng.random((132, 132, 7), dtype=np.float32), lab, name="lake")]), "random"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=25)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    app, what = load_app()
    print(f"data: {what}; lake {app.lake_dropdown.value} {app.scene().shape}; "
          f"{len(app.split_labels())} {app.split} lakes; app built in {time.perf_counter() - t0:.1f} s")
    sizes = [8 + (i % 40) for i in range(args.repeats)]

    def sweep():
        times = []
        for s in sizes:
            t = time.perf_counter()
            app.size_slider.value = s
            times.append(time.perf_counter() - t)
        return times

    cold = sweep()  # first visit of each size: split-wide counts computed
    app.size_slider.value = 64
    warm = sweep()  # counts cached per setting
    full = []
    for _ in range(5):
        t = time.perf_counter()
        app.figure.savefig(io.BytesIO(), format="png", dpi=app.dpi)
        full.append(time.perf_counter() - t)
    med_warm, med_cold, med_full = statistics.median(warm), statistics.median(cold), statistics.median(full)
    print(f"redraw, counts cached : median {1e3 * med_warm:6.1f} ms over {len(warm)} slider moves")
    print(f"redraw, first visit   : median {1e3 * med_cold:6.1f} ms over {len(cold)} slider moves")
    print(f"baseline full savefig : median {1e3 * med_full:6.1f} ms -> blitting is {med_full / med_warm:.1f}x faster")
    verdict = {True: "OK", False: "ABOVE"}
    print(f"target 150 ms: {verdict[med_warm <= 0.150]} (cached), {verdict[med_cold <= 0.150]} (cold)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
