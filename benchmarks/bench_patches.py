"""Benchmark: 16 x 16 patches from the whole water/land lakes dataset, geonb vs the study's patcher.

Both run on the same lakes, already in memory (reading GeoTIFFs is not timed), with the study's
pruning of single-class patches. Prints the median of several runs of each and the ratio.
The study's ``Patch_creator`` (benchmarks/study_patcher.py) is the baseline; geonb must be
at least 200x faster. Also times the counting engine of :mod:`geonb.windows` as the widgets use
it: ``count_patches`` over every lake, and ``scene_windows`` on the largest lake for every size
of the patch-size slider (``PATCH_SIZE_RANGE``), no overlap and 50 %.

    .venv/bin/python benchmarks/bench_patches.py [--size 16] [--repeats 5] [--max-lakes N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from study_patcher import study_patches  # noqa: E402

from geonb.patches import extract_patches  # noqa: E402
from geonb.windows import PATCH_SIZE_RANGE, count_patches, scene_windows  # noqa: E402


def load_scenes(max_lakes: int | None):
    """The water/land dataset's scenes (all splits), or a stand-in of the same shapes if not generated."""
    try:
        from geonb.datasets import LakeDataset

        ds = LakeDataset("lakes-synthetic")
        if max_lakes:
            ds = ds.subset(max_lakes, seed=0)
        return list(ds.scenes()), f"{ds.name} ({len(ds)} lakes)"
    except Exception as exc:  # no data yet: same scale, random content
        print(f"(dataset not available: {exc}; using 950 random scenes of 12..132 px instead)")
        from geonb.scene import Scene

        rng = np.random.default_rng(0)
        scenes = []
        for i in range(max_lakes or 950):
            r, c = rng.integers(12, 133, size=2)
            lab = np.where(rng.random((r, c)) < 0.15, 1, 2).astype(np.uint8)
            scenes.append(Scene(rng.random((r, c, 7), dtype=np.float32), lab, name=f"lake{i}",
                                properties={"id": f"lake{i}"}))
        return scenes, f"random stand-in ({len(scenes)} scenes)"


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=16)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--study-repeats", type=int, default=3)
    p.add_argument("--max-lakes", type=int, default=None)
    args = p.parse_args(argv)

    scenes, what = load_scenes(args.max_lakes)
    pixels = sum(s.shape[0] * s.shape[1] for s in scenes)
    print(f"data: {what}, {pixels:,} pixels; patch size {args.size}, stride = size, drop edges, "
          "prune single-class patches")

    def ours():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return extract_patches(scenes, args.size, prune_single_class=True)

    images = [{"X": s.image, "Y": s.labels} for s in scenes]

    def study():
        return study_patches(images, args.size)

    t_ours, ps = timed(ours, args.repeats)
    t_study, (x, y) = timed(study, args.study_repeats)
    n_study = 0 if isinstance(x, list) else x.shape[0]
    print(f"geonb extract_patches : median {t_ours * 1e3:8.1f} ms over {args.repeats} runs -> {len(ps)} patches "
          f"{ps.images.shape[1:]} + one-hot targets on demand")
    print(f"study Patch_creator   : median {t_study * 1e3:8.1f} ms over {args.study_repeats} runs -> "
          f"{n_study} patches {tuple(x.shape[1:]) if n_study else ()} (its size-1 slip)")
    t0 = time.perf_counter()
    _ = ps.targets
    t_targets = time.perf_counter() - t0
    print(f"geonb one-hot targets : {t_targets * 1e3:8.1f} ms (included below)")
    ratio = t_study / (t_ours + t_targets)
    print(f"ratio study / geonb   : {ratio:,.0f}x  ({'OK' if ratio >= 200 else 'BELOW'} the 200x target)")

    labels = [s.labels for s in scenes]
    t_count, counts = timed(lambda: count_patches(labels, args.size, prune_single_class=True), args.repeats)
    print(f"geonb count_patches   : median {t_count * 1e3:8.1f} ms -> {counts.n_kept} of {counts.n_windows} "
          "windows kept")
    largest = max(labels, key=lambda lab: lab.size)
    sizes = range(PATCH_SIZE_RANGE[0], PATCH_SIZE_RANGE[1] + 1)

    def sweep():
        return [scene_windows(largest, s, max(1, int(s * f)), "drop", True) for s in sizes for f in (1.0, 0.5)]

    t_sweep, _ = timed(sweep, args.repeats)
    print(f"geonb scene_windows   : median {t_sweep * 1e3:8.1f} ms for {2 * len(sizes)} slider settings on a "
          f"{largest.shape[0]}x{largest.shape[1]} px lake ({t_sweep / (2 * len(sizes)) * 1e3:.2f} ms each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
