"""Benchmark: prediction on Dask (``geonb.distributed``) against the serial ``predict_raster`` loop (issue 15).

What it measures, in one run (so the ratios share the machine's state):

1. **A batch of scenes**: ``--n`` generated MODIS-like scenes of ``--size`` x ``--size`` x 7 (int16, scale
   0.0001, tiled 256 px, deflate), predicted with an (untrained, same cost) lakes FCN by

   - ``serial``: a loop of :func:`geonb.prediction.predict_raster` in this process, TensorFlow using every
     allowed core (predict_raster sizes its pools to them): the best single-process loop;
   - ``dask 1x1``, ``dask 2x1``, ``dask 1x2``: :func:`geonb.distributed.predict_rasters` on a ``LocalCluster``
     of (workers x threads per worker), made by :func:`geonb.distributed.local_cluster_settings` (TensorFlow's
     and BLAS's pools = threads per worker).

   Every cluster is started and **warmed** first (TensorFlow imported and the model loaded on every worker,
   checked with ``model_loads``), so the times are steady-state, not start-up. Each repeat runs every layout
   once, interleaved; the table gives medians of ``--repeats``. Wall time of ``predict_rasters`` includes
   its own overhead (fingerprinting the model, shipping it, the per-scene statistics and COG conversion).

   Goals (2 cores): (a) 2x1 vs 1x1 speed-up >= 1.7; (b) best Dask layout vs serial >= 0.9 (speed ratio);
   (c) 1x2 time / serial time <= 1.1.

2. **One big raster**: ``--big`` x ``--big`` x 7 (default 2400; the issue's 6000 with ``--big 6000``) with
   :func:`geonb.distributed.predict_raster_chunked` (chunk 512) on a fresh, warmed 2x1 cluster, vs
   :func:`~geonb.prediction.predict_raster` in a child process; wall time, peak resident memory per worker
   (``VmHWM`` of each worker process, TensorFlow and the model included) and of the serial child, and
   whether the two class maps are identical. Goal: peak per worker <= 1.5 GB.

3. **On paper**: from the measured per-pixel cost of one worker (the 1x1 layout), the tasks, bytes and time
   for all 460 land MODIS tiles at 2400 x 2400 on N one-core workers (rounds of N tiles; start-up not counted).

Prints a Markdown table; writes every number to ``build/bench/distributed.json``.

    .venv/bin/python benchmarks/bench_distributed.py [--n 8] [--size 1200] [--repeats 1] [--big 2400]
    .venv/bin/python benchmarks/bench_distributed.py --n 40 --size 1200 --big 6000   # the issue's full run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
JSON_OUT = ROOT / "build" / "bench" / "distributed.json"
SCALE = 0.0001
NODATA = 32767
CHUNK = 512
STRIP = 512  # rows written at a time when generating a raster (never the whole raster in memory)
LAYOUTS = {"dask 1x1": (1, 1), "dask 2x1": (2, 1), "dask 1x2": (1, 2)}
GOAL_SCALING = 1.7
GOAL_VS_SERIAL = 0.9
GOAL_OVERHEAD = 1.1
GOAL_PEAK_GB = 1.5
MODIS_TILES, MODIS_PX = 460, 2400


# -------------------------------------------------------------------------------------------
# Data and model
# -------------------------------------------------------------------------------------------
def make_raster(path: Path, size: int, seed: int = 0) -> None:
    """A MODIS-like ``size`` x ``size`` x 7 int16 raster: land, lakes dark in NIR/SWIR, noise; written by strips."""
    import rasterio
    from rasterio.crs import CRS
    from rasterio.transform import from_origin
    from rasterio.windows import Window
    from scipy.ndimage import zoom

    rng = np.random.default_rng(seed)
    land = np.array([0.04, 0.07, 0.05, 0.30, 0.28, 0.20, 0.12], np.float32)[:, None, None]
    water = np.array([0.03, 0.02, 0.04, 0.04, 0.01, 0.005, 0.003], np.float32)[:, None, None]
    cell = 40  # lakes about this many pixels across
    n = size // cell + 4
    coarse = rng.standard_normal((n, n)).astype(np.float32)
    sinusoidal = CRS.from_proj4("+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs")
    with rasterio.open(path, "w", driver="GTiff", height=size, width=size, count=7, dtype="int16", nodata=NODATA,
                       crs=sinusoidal, transform=from_origin(-7783653.6, 2223901.0, 463.3127, 463.3127),
                       tiled=True, blockxsize=256, blockysize=256, compress="deflate") as ds:
        ds.scales = (SCALE,) * 7
        for r0 in range(0, size, STRIP):
            h = min(STRIP, size - r0)
            c0 = r0 // cell
            field = zoom(coarse[c0:c0 + h // cell + 3], cell, order=1)[r0 - c0 * cell:r0 - c0 * cell + h, :size]
            lakes = field > 1.0
            v = land * (1 + 0.1 * field) + 0.01 * rng.standard_normal((7, h, size), np.float32)
            v = np.where(lakes, water + 0.005 * rng.standard_normal((7, h, size), np.float32), v)
            ds.write(np.clip(v / SCALE, 1, 10000).astype(np.int16), window=Window(0, r0, size, h))


def make_model(path: Path) -> Path:
    from geonb.models import build_lakes_fcn, save_model

    save_model(build_lakes_fcn(16, seed=0), path, overwrite=True)
    return path


def _peak_gb() -> float:
    """Peak resident memory of this process's own address space (Linux ``VmHWM``).

    Not ``ru_maxrss``: Linux keeps it across ``execve``, so a worker or child started from a big parent
    would report the parent's peak before it started.
    """
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024**2  # KiB


# -------------------------------------------------------------------------------------------
# Child: predict_raster on one big raster, its own peak memory
# -------------------------------------------------------------------------------------------
def _child(model_path: str, src: str, out: str) -> int:
    import warnings

    from geonb.models import load_model
    from geonb.prediction import predict_raster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_model(model_path)
    before = _peak_gb()
    t = time.perf_counter()
    predict_raster(model, src, out, overwrite=True, progress=False)
    print(json.dumps({"seconds": time.perf_counter() - t, "peak_gb": _peak_gb(), "peak_gb_before": before}))
    return 0


# -------------------------------------------------------------------------------------------
# Clusters
# -------------------------------------------------------------------------------------------
def start_cluster(workers: int, threads: int, model, warm_inputs: list[Path], out: Path):
    """A LocalCluster sized as geonb sizes it, warmed: every worker has imported TensorFlow and loaded the model."""
    from distributed import Client, LocalCluster

    from geonb.distributed import local_cluster_settings, model_loads, predict_rasters

    cluster = LocalCluster(**{**local_cluster_settings(workers, threads), "dashboard_address": None})
    client = Client(cluster)
    client.wait_for_workers(workers)
    client.run(lambda: __import__("tensorflow") and None)
    for attempt in range(5):
        predict_rasters(model, warm_inputs, out / f"warm-{workers}x{threads}-{attempt}", client=client,
                        overwrite=True, progress=False)
        if all(loads for loads in client.run(model_loads).values()):
            break
    return cluster, client


def _wait_for_idle(max_load: float, wait_s: float) -> float:
    t0 = time.time()
    while os.getloadavg()[0] > max_load and time.time() - t0 < wait_s:
        time.sleep(10)
    return os.getloadavg()[0]


# -------------------------------------------------------------------------------------------
# Main
# -------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="scenes in the batch (issue: 40)")
    parser.add_argument("--size", type=int, default=1200, help="scene side, pixels (issue: 1200)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each layout; the table gives medians")
    parser.add_argument("--big", type=int, default=2400, help="side of the big raster, pixels (issue: 6000; 0 skips)")
    parser.add_argument("--max-load", type=float, default=1.5, help="wait until the 1-min load is below this")
    parser.add_argument("--wait", type=float, default=300, help="seconds to wait for the load at most")
    parser.add_argument("--json", type=Path, default=JSON_OUT)
    parser.add_argument("--big-only", action="store_true", help="only the big raster (no batch, no estimate)")
    parser.add_argument("--child", nargs=3, metavar=("MODEL", "SRC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(*args.child)

    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    from geonb.distributed import predict_raster_chunked, predict_rasters
    from geonb.models import load_model
    from geonb.prediction import predict_raster
    from geonb.runtime import available_cores

    t_total = time.perf_counter()
    result: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "cores": available_cores(),
                    "layouts": {}, "runs": []}
    with tempfile.TemporaryDirectory(prefix="geonb-bench-dist-") as d:
        d = Path(d)
        print(f"generating {args.n} scenes of {args.size}^2 x 7 ...", flush=True)
        inputs = []
        for i in range(0 if args.big_only else args.n):
            inputs.append(d / f"scene_{i:03d}.tif")
            make_raster(inputs[-1], args.size, seed=i)
        warm = []
        for i in range(4):
            warm.append(d / f"warm_{i}.tif")
            make_raster(warm[-1], 256, seed=1000 + i)
        model_path = make_model(d / "fcn.keras")
        model = load_model(model_path)
        model_mb = model_path.stat().st_size / 1e6
        predict_raster(model, warm[0], d / "warm_serial.tif", overwrite=True, progress=False)  # serial warm-up
        if not args.big_only:
            clusters = {name: start_cluster(w, t, model, warm, d) for name, (w, t) in LAYOUTS.items()}
            result["load_before"] = _wait_for_idle(args.max_load, args.wait)
            print(f"load {result['load_before']:.2f}; timing {args.repeats} repeat(s) ...", flush=True)
            times: dict[str, list[float]] = {"serial": [], **{k: [] for k in LAYOUTS}}
            for rep in range(args.repeats):
                out = d / f"serial-{rep}"
                out.mkdir()
                t = time.perf_counter()
                for p in inputs:
                    predict_raster(model, p, out / f"{p.stem}_classes.tif", overwrite=True, progress=False)
                times["serial"].append(time.perf_counter() - t)
                for name, (_, client) in clusters.items():
                    table = predict_rasters(model, inputs, d / f"{name.replace(' ', '_')}-{rep}", client=client,
                                            overwrite=True, progress=False)
                    if (table["status"] != "done").any():
                        raise RuntimeError(f"{name}: {table[table['status'] != 'done']['error'].tolist()}")
                    times[name].append(table.attrs["wall_seconds"])
                result["runs"].append({k: v[-1] for k, v in times.items()})
                print("  " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
            for _, (cluster, client) in clusters.items():
                client.close()
                cluster.close()
            result["load_after"] = os.getloadavg()[0]
            med = {k: statistics.median(v) for k, v in times.items()}
            px = args.n * args.size**2
            for k, v in med.items():
                result["layouts"][k] = {"seconds": v, "mpx_per_s": px / v / 1e6, "runs": times[k]}
            best = min(LAYOUTS, key=med.get)
            result["ratios"] = {
                "a_scaling_2x1_vs_1x1": med["dask 1x1"] / med["dask 2x1"],
                "b_best_dask_vs_serial": med["serial"] / med[best], "b_best_layout": best,
                "c_1x2_time_over_serial": med["dask 1x2"] / med["serial"],
            }

        if args.big:
            print(f"big raster {args.big}^2 x 7 ...", flush=True)
            big = d / f"big_{args.big}.tif"
            make_raster(big, args.big, seed=7)
            _wait_for_idle(args.max_load, args.wait)
            env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
            res = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(model_path),
                                  str(big), str(d / "big_serial.tif")], capture_output=True, text=True, env=env)
            if res.returncode != 0:
                raise RuntimeError(res.stderr[-3000:])
            serial = json.loads(res.stdout.strip().splitlines()[-1])
            cluster, client = start_cluster(2, 1, model, warm, d)
            warm_peaks = client.run(_peak_gb)
            t = time.perf_counter()
            pred = predict_raster_chunked(model, big, d / "big_chunked.tif", client=client, chunk=CHUNK,
                                          progress=False)
            chunked_s = time.perf_counter() - t
            peaks = client.run(_peak_gb)
            client.close()
            cluster.close()
            import rasterio

            with rasterio.open(d / "big_serial.tif") as a, rasterio.open(d / "big_chunked.tif") as b:
                identical = bool(np.array_equal(a.read(1), b.read(1)))
            result["big"] = {"px": args.big, "chunks": pred.blocks, "serial_seconds": serial["seconds"],
                             "serial_peak_gb": serial["peak_gb"], "chunked_seconds": chunked_s,
                             "worker_peak_gb": max(peaks.values()), "worker_peaks_gb": list(peaks.values()),
                             "worker_peak_gb_warm": max(warm_peaks.values()), "identical": identical}

    if not args.big_only:
        # On paper: the 460 land MODIS tiles, from the 1x1 layout's steady per-pixel cost of one worker (one core).
        # Tasks run in rounds of N (one tile per worker at a time), so time = ceil(460 / N) tiles x the tile time,
        # plus each worker's first task (TensorFlow import and model load, ~20 s, not counted here).
        s_per_px = med["dask 1x1"] / px
        tile_s = s_per_px * MODIS_PX**2
        in_mb = MODIS_PX**2 * 7 * 2 / 1e6  # int16, uncompressed (MOD09A1 on disk is compressed)
        out_mb = MODIS_PX**2 / 1e6  # uint8 class map, before DEFLATE
        result["estimate_460"] = {
            "tile_seconds_one_worker": tile_s, "tasks": MODIS_TILES, "read_gb": MODIS_TILES * in_mb / 1e3,
            "written_gb": MODIS_TILES * out_mb / 1e3, "model_mb_per_worker": model_mb,
            "scheduler_bytes_per_task": "~1 KB (the task: paths and settings; the result: one table row)",
            "minutes_by_workers": {n: -(-MODIS_TILES // n) * tile_s / 60 for n in (1, 2, 16, 64, 128, 460)},
        }
    result["total_seconds"] = time.perf_counter() - t_total
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=float))
    _report(result, args)
    return 0


def _ok(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _report_big(res: dict) -> None:
    if "big" not in res:
        return
    b = res["big"]
    print(f"| big {b['px']}^2: predict_raster_chunked (2x1, chunk {CHUNK}) | {b['chunked_seconds']:.1f} s | | |")
    print(f"| big {b['px']}^2: predict_raster (one process, both cores) | {b['serial_seconds']:.1f} s | | |")
    print(f"| big: peak memory per worker (warm: {b['worker_peak_gb_warm']:.2f}) | {b['worker_peak_gb']:.2f} GB "
          f"| <= {GOAL_PEAK_GB} | {_ok(b['worker_peak_gb'] <= GOAL_PEAK_GB)} |")
    print(f"| big: peak memory, predict_raster process | {b['serial_peak_gb']:.2f} GB | | |")
    print(f"| big: class maps identical | {b['identical']} | True | {_ok(b['identical'])} |")


def _report(res: dict, args) -> None:
    if args.big_only:
        print("\n| measure | value | goal | met |\n|---|---:|---:|:-:|")
        _report_big(res)
        print(f"\n  numbers in {args.json}; total {res['total_seconds']:.0f} s")
        return
    lay, r = res["layouts"], res["ratios"]
    print(f"\n{args.n} scenes of {args.size} x {args.size} x 7, lakes FCN, {res['cores']} cores, "
          f"medians of {args.repeats} run(s), load {res['load_before']:.2f} -> {res['load_after']:.2f}\n")
    print("| layout | wall (s) | Mpx/s |")
    print("|---|---:|---:|")
    for k, v in lay.items():
        print(f"| {k} | {v['seconds']:.1f} | {v['mpx_per_s']:.2f} |")
    print("\n| measure | value | goal | met |")
    print("|---|---:|---:|:-:|")
    print(f"| (a) scaling: 2x1 vs 1x1 speed-up | {r['a_scaling_2x1_vs_1x1']:.2f}x | >= {GOAL_SCALING} | "
          f"{_ok(r['a_scaling_2x1_vs_1x1'] >= GOAL_SCALING)} |")
    print(f"| (b) best Dask ({r['b_best_layout']}) vs serial loop, speed | {r['b_best_dask_vs_serial']:.2f}x | "
          f">= {GOAL_VS_SERIAL} | {_ok(r['b_best_dask_vs_serial'] >= GOAL_VS_SERIAL)} |")
    print(f"| (c) 1x2 time / serial time | {r['c_1x2_time_over_serial']:.2f} | <= {GOAL_OVERHEAD} | "
          f"{_ok(r['c_1x2_time_over_serial'] <= GOAL_OVERHEAD)} |")
    _report_big(res)
    e = res["estimate_460"]
    print(f"\n460 MODIS tiles of 2400^2: {e['tasks']} tasks, {e['tile_seconds_one_worker']:.0f} s per tile per "
          f"worker, {e['read_gb']:.0f} GB read by the workers (int16, uncompressed), {e['written_gb']:.1f} GB "
          f"written (uint8, before DEFLATE), model {e['model_mb_per_worker']:.1f} MB per worker; minutes by "
          "workers: " + ", ".join(f"N={n}: {m:.1f}" for n, m in e["minutes_by_workers"].items()))
    print(f"\n  numbers in {args.json}; total {res['total_seconds']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
