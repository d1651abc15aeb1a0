"""Benchmark: full-scene prediction of MODIS-tile-sized rasters with the lakes FCN.

For 600^2, 1200^2 and 2400^2 x 7-band int16 GeoTIFFs (2400^2 is a MODIS 500 m tile) it runs
:func:`geonb.prediction.predict_raster` in a fresh subprocess each and reports wall time, peak
resident memory of that process, and pixels per second. The named baseline, measured in the same
run, is the bare model cost: ``model.predict_on_batch`` on 256 x 256 tiles with no overlap, no I/O
and no blending; the ratio says what tiling overlap, blending and GeoTIFF I/O add.
Targets (2 cores): 2400^2 in at most 40 s, peak memory at most 2 GB, time linear in pixels.

    .venv/bin/python benchmarks/bench_prediction.py [--sizes 600 1200 2400]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from geonb.models import build_lakes_fcn
from geonb.prediction import predict_raster
src, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
model = build_lakes_fcn(16, seed=0)
import numpy as np
model.predict_on_batch(np.zeros((4, 256, 256, 7), np.float32))  # compile outside the timing
t0 = time.perf_counter()
if mode == "geonb":
    predict_raster(model, src, out, progress=False)
else:  # bare: the same pixels once, 256 x 256 tiles, no overlap, no I/O
    import rasterio
    with rasterio.open(src) as ds:
        rows, cols = ds.height, ds.width
    n = (rows * cols) // (256 * 256) + 1
    x = np.random.default_rng(0).uniform(0, 0.5, (4, 256, 256, 7)).astype(np.float32)
    for _ in range(-(-n // 4)):
        model.predict_on_batch(x)
dt = time.perf_counter() - t0
rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": dt, "peak_rss_mib": rss_mib}))
"""


def _make_raster(path: Path, size: int) -> None:
    from affine import Affine

    from geonb.scene import Scene, write_scene

    rng = np.random.default_rng(0)
    img = rng.uniform(0.01, 0.4, (size, size, 7)).astype(np.float32)
    rr, cc = np.mgrid[:size, :size]
    water = (rr - size / 2) ** 2 + (cc - size / 3) ** 2 < (size / 5) ** 2
    img[water] *= 0.1
    mask = np.zeros((size, size), bool)
    mask[:, : size // 50] = True
    write_scene(Scene(img, nodata_mask=mask, crs="EPSG:4326", transform=Affine(0.004, 0, 30, 0, -0.004, 10)),
                path)


def _run(src: Path, out: Path, mode: str) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, str(src), str(out), mode], capture_output=True, text=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[600, 1200, 2400])
    parser.add_argument("--repeats", type=int, default=1, help="runs per size (median reported)")
    args = parser.parse_args(argv)
    print(f"lakes FCN, predict_raster (512 px blocks + a halo covering the model's context, one call each); "
          f"backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}; {os.cpu_count()} cores")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for size in args.sizes:
            src = Path(d) / f"scene_{size}.tif"
            _make_raster(src, size)
            geo, bare = [], []
            for i in range(args.repeats):
                out = Path(d) / f"pred_{size}_{i}.tif"
                geo.append(_run(src, out, "geonb"))
                bare.append(_run(src, out, "bare"))
            g = float(np.median([r["seconds"] for r in geo]))
            b = float(np.median([r["seconds"] for r in bare]))
            mem = max(r["peak_rss_mib"] for r in geo)
            px = size * size
            rows.append((size, g, b, mem))
            print(f"  {size:5d}^2  geonb {g:7.2f} s  ({px / g / 1e3:6.0f} kpx/s)  peak RSS {mem:6.0f} MiB  |  "
                  f"bare predict_on_batch {b:6.2f} s  ratio {g / b:.2f}")
    if len(rows) > 1:
        (s0, g0, _, _), (s1, g1, _, _) = rows[0], rows[-1]
        print(f"  time ratio {s1}^2 / {s0}^2: {g1 / g0:.1f} for {(s1 / s0) ** 2:.0f}x the pixels (linear = equal)")
    return 0


if __name__ == "__main__":
    t = time.perf_counter()
    code = main()
    print(f"  total {time.perf_counter() - t:.0f} s")
    sys.exit(code)
