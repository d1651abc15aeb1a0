"""Benchmark: generating the synthetic lakes datasets (the issue's budget: both datasets in <= 30 s on 2 cores).

Run: ``.venv/bin/python benchmarks/bench_datasets.py [--repeats 3] [--scale 1.0]``

Prints the median wall time of ``generate_lakes`` (both datasets, GeoTIFFs written to a temporary
folder) with the default worker count, and of the baseline: the same generation in one process
(``workers=1``), measured in the same run. It also prints the share of time spent writing GeoTIFFs
(the floor: writing the same number of files with random data), the CPU time (which, unlike wall
time, hardly depends on what else the machine runs), and checks the budget.
``--scale 0.25`` generates a quarter of the lakes, for a quicker look.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from geonb.datasets.synthetic import LAKES_DATASETS, generate_lakes

BUDGET_S = 30.0


CPU_S: list[float] = []


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and its finished worker processes."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _time_generate(n1: int, n2: int, workers: int | None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        c0, t0 = _cpu_s(), time.perf_counter()
        generate_lakes(Path(tmp), seed=0, n_lakes=n1, n_lakes_unclassified=n2, progress=False, workers=workers)
        CPU_S.append(_cpu_s() - c0)
        return time.perf_counter() - t0


def _time_writes_only(n_files: int) -> float:
    """Write ``n_files`` small sinusoidal GeoTIFFs of random data through geonb.scene (the I/O floor)."""
    from geonb.datasets.synthetic import MODIS_SINUSOIDAL, modis_transform
    from geonb.scene import Scene, write_scene

    rng = np.random.default_rng(0)
    scene = Scene(rng.uniform(0, 0.3, (45, 45, 7)).astype(np.float32), labels=np.ones((45, 45), np.uint8),
                  crs=MODIS_SINUSOIDAL, transform=modis_transform(30.0, 0.0, 45, 45))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        for i in range(n_files // 2):
            write_scene(scene, Path(tmp) / f"{i}.tif", Path(tmp) / f"{i}_l.tif")
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the default lake counts")
    args = parser.parse_args()
    n1, n2 = (max(3, round(n * args.scale)) for n in LAKES_DATASETS.values())
    print(f"generate_lakes: {n1} + {n2} lakes, {args.repeats} repeats, {os.cpu_count()} CPU cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    par = [_time_generate(n1, n2, None) for _ in range(args.repeats)]
    one = [_time_generate(n1, n2, 1) for _ in range(args.repeats)]
    io = [_time_writes_only(2 * (n1 + n2)) for _ in range(args.repeats)]
    m_par, m_one, m_io = statistics.median(par), statistics.median(one), statistics.median(io)
    print(f"  default workers : median {m_par:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in par)})")
    print(f"  baseline 1 proc : median {m_one:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in one)})")
    cpu = statistics.median(CPU_S[args.repeats:])
    print(f"  CPU time of one generation (1 proc): median {cpu:.2f} s; on an idle 2-core machine the "
          f"default run needs about {cpu / 2:.1f}-{cpu / 1.6:.1f} s")
    print(f"  speed-up vs baseline: {m_one / m_par:.2f}x")
    print(f"  GeoTIFF writing alone (1 proc, {2 * (n1 + n2)} files): median {m_io:.2f} s "
          f"= {m_io / m_one:.0%} of the 1-process time")
    if args.scale == 1.0:
        verdict = "within" if m_par <= BUDGET_S else "OVER"
        print(f"  budget {BUDGET_S:.0f} s: {verdict} ({m_par:.1f} s)")


if __name__ == "__main__":
    main()
