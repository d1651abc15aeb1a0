"""Benchmark: buildings on a real SpaceNet chip — the ablation of the winners' recipe, and its timing.

Issue 18's bar: on the held-out half of the Atlanta chip (``../shared/realdata/spacenet-atlanta-nadir10``),
geonb's best model reaches SpaceNet F1 >= 0.5 and pixel F1 >= 0.75, trained in <= 15 minutes on a
2-core CPU; the two SpaceNet 4 prize-winners' polygons, scored on the same half with the same
functions, stand beside it.

Each ablation row adds one step to the row before (:data:`geonb.buildings.ABLATION`): the study's
FCN, a U-Net, the border class, small-building weights, D4 augmentation, test-time augmentation, and
the overlap loss (cross-entropy + soft Dice, square-root class weights). The
TTA row reuses the model of the row before (only prediction changes). The rows train for
``--steps x --epochs`` crops batches each; ``--final-epochs`` retrains the full recipe longer (the
"recipe, full length" row, the one measured against the bar).

Prints a Markdown table (mean over ``--seeds``, with the seeds used) and writes every run, the
winners' rows, the settings and the machine load to ``build/bench/buildings_real.json``.

Run: ``nice -n 5 .venv/bin/python benchmarks/bench_buildings_real.py`` (23 minutes on a shared 2-core
CPU, the full recipe 9.7 of them); ``--quick`` for a smoke run of a minute. Measured 2026-12-02, seed 0,
test = right half (load average 1.7-6 on 2 cores, others' work included):

| model | SpaceNet F1 | pixel F1 | pixel IoU | median building IoU | train s |
|---|---|---|---|---|---|
| FCN (study), 2 classes | 0.396 | 0.604 | 0.433 | 0.414 | 231 |
| + U-Net | 0.438 | 0.629 | 0.459 | 0.440 | 90 |
| + border class | 0.524 | 0.667 | 0.500 | 0.480 | 124 |
| + small-building weights | 0.497 | 0.662 | 0.495 | 0.443 | 187 |
| + D4 augmentation | 0.328 | 0.529 | 0.359 | 0.332 | 162 |
| + TTA (D4) | 0.373 | 0.554 | 0.383 | 0.382 | (same model) |
| recipe, full length (2,000 batches) | 0.547 | 0.704 | 0.543 | 0.523 | 581 |
| row 3 alone (no D4, no TTA), 40 epochs = 2,000 batches | 0.537 | 0.680 | 0.515 | 0.563 | 887 |
| winner selim_sef densenet121 | 0.747 | 0.795 | 0.660 | 0.670 | - |
| winner XD_XD | 0.731 | 0.825 | 0.702 | 0.730 | - |

The overlap loss (the last ablation row, "+ Dice loss, sqrt class weights"), measured at full length, each run on
1 TensorFlow thread with another such run beside it on the 2 cores (``--threads 1``; CPU seconds are this
process's; wall seconds are inflated by the neighbour), ``--rows 7 --final-epochs N --final-set ...``:

| run (full recipe + ...) | seed | SpaceNet F1 | pixel F1 | pixel IoU | threshold (val) | train CPU s | train wall s |
|---|---|---|---|---|---|---|---|
| recorded recipe (CE, balanced weights), 2,000 batches | 0 | 0.547 | 0.704 | 0.543 | 0.7 | - | 581 (2 threads) |
| recorded recipe (CE, balanced weights), 2,000 batches | 1 | 0.535 | 0.716 | 0.557 | 0.5 | 711 | 774 |
| CE + Dice, sqrt weights, 2,000 batches | 0 | 0.534 | 0.719 | 0.561 | 0.5 | 583 | 836 |
| CE + Dice, sqrt weights, 2,000 batches | 1 | 0.492 | 0.715 | 0.556 | 0.3 | 685 | 758 |
| CE + Dice, sqrt weights, 4,000 batches (``--final-epochs 80``) | 0 | 0.531 | 0.724 | 0.568 | 0.3 | 1219 | 1379 |
| CE + Dice, sqrt weights, 4,000 batches | 1 | 0.576 | 0.728 | 0.572 | 0.4 | 1382 | 1519 |
| CE + Dice, sqrt weights, ensemble of 2 x 2,000 batches | 0 | 0.497 | 0.704 | 0.544 | 0.3 | 1230 | 1364 |
| CE + Dice, sqrt weights, 256 x 256 crops, 4 per batch, 1,200 batches | 0 | 0.547 | 0.701 | 0.540 | 0.3 | 688 | 942 |

The 4,000-batch runs take more than 15 min on the 2 cores (a 2-thread run was still training at 16 min).

A second session (same day, same half) tried what could fit the 15 minutes. ``precision=mixed_bfloat16``
(:class:`geonb.buildings.Recipe`) computes in bfloat16: 306 instead of 381 ms per batch on both cores of this
CPU (AVX512-BF16), the same pixel F1 (0.718 against 0.719). Training on the validation strip too
(``--val-fraction 0``) gives the model ~20 more buildings (about 97 instead of 77); the threshold and smallest
polygon must then be fixed beforehand: ``thresholds=0.5, min_areas_m2=40.0,``, what the validation strip chose
in this session's first run (row 1). Runs on 1 thread beside another, unless said:

| run (CE + Dice, sqrt weights, D4 + TTA) | seed | SpaceNet F1 | pixel F1 | polygon pixel F1 | threshold | train CPU s |
|---|---|---|---|---|---|---|
| 2,000 batches, bfloat16, validation strip held out | 0 | 0.552 | 0.718 | 0.702 | 0.5 (val) | 887 |
| same + colour jitter 0.2 | 0 | 0.612 | 0.712 | 0.694 | 0.3 (val) | 982 |
| thin U-Net (filters 8-128), 4,000 batches | 0 | 0.541 | 0.712 | 0.695 | 0.4 (val) | 916 |
| **validation strip trained on**, 2,000 batches, bfloat16 | 0 | 0.584 | **0.733** | 0.709 | 0.5 (fixed) | 938 |
| same, 2,600 batches (float32) | 0 | 0.603 | 0.733 | 0.710 | 0.5 (fixed) | 1613 |
| same, 2,600 batches (float32) | 1 | 0.594 | 0.719 | 0.695 | 0.5 (fixed) | 1620 |
| validation strip trained on, 2,000 batches, learning rate 2e-3 | 0 | 0.525 | 0.694 | 0.665 | 0.5 (fixed) | 891 |
| same, learning rate 3e-3 | 0 | 0.456 | 0.688 | 0.653 | 0.5 (fixed) | 896 |
| strip trained on, bfloat16, 2,000 batches, alone on 2 idle cores | 1 | 0.535 | 0.715 | 0.684 | 0.5 | 1078 (729 s) |

Means of seeds 0 and 1 for the recipe that fits the 15 minutes (validation strip trained on, bfloat16, 2,000
batches, 729 s of training on 2 cores): SpaceNet F1 0.560, pixel F1 **0.724** (the recorded recipe: 0.541 / 0.710).

Command of the timed row: ``--rows 7 --val-fraction 0 --seeds 1 --final-epochs 40 --final-set loss=ce+dice
class_weight=sqrt precision=mixed_bfloat16 thresholds=0.5, min_areas_m2=40.0,``. Pixel F1 >= 0.75 is still not
met. Where the error is (seed 0, threshold 0.5): 21-23 of the 89 test buildings are missed (< 20 % of their pixels
found; the winners miss 10 and 14), mostly houses under tree canopy or dark roofs in shade, and they hold about
half of the missed building pixels; the rest is a 1-3 pixel rim along the outlines. Not the gap: the threshold
(the test F1 over thresholds 0.2-0.5 is flat within 0.02), post-processing of the class map (filling holes,
dropping blobs under 40-160 px, closing, smoothing: within 0.002), XLA (``jit_compile=True`` is 2.6x *slower*
on this CPU). Seen after the fact on the test half (not results: nothing here was chosen on it): the mean of two
or three models' probabilities at threshold 0.3 scores 0.746-0.750, single models at 0.3 0.735-0.743 — two
models trained side by side (one per core) with a threshold from a validation strip is the next thing to try.

A third session tried that and the regularisers the overfitting calls for: every model fits its training half
far better than the test half (pixel F1 0.92-0.95 on the training pixels, 0.70-0.73 on the test half). Seed 0
unless said, 2,000 batches, on 1 thread beside another run; "fixed": validation strip trained on, threshold 0.5
and min area 40 m2 as above (the same conditions as the 0.733 row):

| run (CE + Dice, sqrt weights, D4 + TTA, bf16) | seed | SpaceNet F1 | pixel F1 | polygon F1 | threshold | CPU s |
|---|---|---|---|---|---|---|
| 2 models x 1,500 batches, one process each, strip held out: mean | 0+1 | 0.495 | 0.720 | 0.702 | 0.4 (val) | 1324 |
| (the two members alone) | 0 / 1 | 0.506 / 0.512 | 0.704 / 0.710 | 0.689 / 0.683 | 0.6 / 0.3 (val) | |
| same, strip trained on, alone on 2 idle cores (``--workers 2``) | 0 | 0.497 | 0.726 | - | 0.4 (fixed) | 1220 |
| scale jitter 0.25 (``scale=0.25``) | 0 | 0.591 | 0.713 | 0.695 | 0.5 (fixed) | 1035 |
| scale jitter 0.25 + rotation by any angle (``rotate=True``) | 0 | 0.490 | 0.634 | 0.622 | 0.5 (fixed) | 1045 |
| spatial dropout 0.2 (``dropout=0.2``) | 0 | 0.509 | 0.718 | 0.704 | 0.5 (fixed) | 846 |
| learning rate 5e-4 | 0 | 0.566 | 0.688 | 0.662 | 0.5 (fixed) | 822 |
| no small-building weights (``small_weight=False``) | 0 | 0.577 | 0.712 | 0.690 | 0.5 (fixed) | 777 |
| no class weights (``class_weight=None``, Dice alone balances) | 0 | 0.590 | 0.719 | 0.712 | 0.5 (fixed) | 774 |
| town pre-training (400) + 1,600 | 0 / 1 | 0.601 / 0.523 | 0.734 / 0.704 | 0.717 / 0.679 | 0.5 (fixed) | 886, 878 |

None beats the recipe (0.733 / 0.715 for seeds 0 / 1 under the same conditions): within the seed-to-seed spread
of about 0.02, or worse. Rotation by any angle is much worse (it also lowers the fit of the training half, to
0.88): the bilinear resampling softens the texture the test half has, it turns shadows away from the sun's
direction, and its 229-pixel windows keep crop centres 114 pixels from the training region's edges (scale jitter
alone: 81). The dropout run started from other initial weights than the recipe's (its layers then drew from the
initializers' seed counter; fixed since), so it compares like another seed. The pre-training run was a one-off
script (not kept): ``geonb.datasets.spacenet.sample_chip(t)`` for tiles 0, 3, 12, 21, RGB bands, zoomed by 0.6 to
0.5 m (``scipy.ndimage.zoom``, order 1), each band standardised to the chip's training-half mean and spread, the
right half of each tile held out by ``split_chip``; 100 batches per tile at a constant learning rate
(``fit_on_split`` with ``Recipe(epochs=1, steps=100, cosine=False)``), then the recipe for 32 epochs on the chip.

The ensemble's members, at 1,500 batches, are weaker than one 2,000-batch model, and their mean only catches up:
timed, with the strip trained on and the threshold 0.4 and min area 10 m2 fixed from the held-out run (``--rows 7
--val-fraction 0 --final-epochs 30 --workers 2 --final-set loss=ce+dice class_weight=sqrt precision=mixed_bfloat16
ensemble=2 thresholds=0.4, min_areas_m2=10.0,``), pixel F1 0.726 in **811 s** of training (two models side by side,
1,220 CPU s), against 0.724 for one model in 729 s. Pixel F1 0.75 in 15 minutes on this CPU is not reached by any
recipe tried here; the winners' ImageNet-pretrained encoders and their thousands of training buildings are what
this chip's 97 cannot replace.

A fourth session swapped the halves (``split_chip(..., side="left")``: trained on the right half's 89 buildings,
scored on the left half's 97), the 15-minute recipe (strip trained on, bfloat16, 2,000 batches, threshold 0.5 and
min area 40 m2 fixed), seed 0, alone on 2 cores: SpaceNet F1 0.667, pixel F1 0.629, polygon pixel F1 0.619, 696 s of
training. The winners on that half: pixel F1 0.832 (selim_sef) and 0.860 (XD_XD), SpaceNet F1 0.840 both. The left
half is the easier one for the winners (+0.04 pixel F1 over the right half) but not for a model trained on this
chip's other half: neither fold of the two-fold split reaches 0.75.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd

from geonb.buildings import ablation_recipes, run_ablation, split_chip, winners_table
from geonb.datasets.spacenet import REAL_CHIP, read_chip
from geonb.runtime import build_dir

ROOT = Path(__file__).resolve().parents[1]
METRICS = ["SpaceNet F1", "precision", "recall", "pixel F1", "pixel IoU", "polygon pixel F1",
           "median building IoU", "threshold", "min area m2", "train s", "train cpu s", "predict s"]


def _value(text: str):
    """A recipe field's value from the command line: a number, a tuple of numbers, None, or a string."""
    if text in ("None", "none"):
        return None
    if text in ("True", "False"):
        return text == "True"
    parts = text.split(",")
    try:
        nums = [float(p) if any(c in p for c in ".e") else int(p) for p in parts if p]
    except ValueError:
        return text
    return tuple(nums) if len(parts) > 1 else nums[0]


def parse_settings(items: list[str]) -> dict:
    """``["loss=ce+dice", "crop=256", "thresholds=0.5,0.6,0.7"]`` -> recipe overrides."""
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep:
            raise SystemExit(f"--final-set takes key=value pairs (Recipe fields), got {item!r}")
        out[key] = _value(text)
    return out


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def run(chip_dir: Path, *, side: str, seeds: list[int], steps: int, epochs: int, final_epochs: int,
        rows: list[int] | None, out: Path, val_fraction: float, filters: tuple[int, ...],
        final_set: dict | None = None, final_name: str = "recipe, full length", workers: int = 1) -> dict:
    chip = read_chip(chip_dir)
    sc = chip.scene
    split = split_chip(chip.truth, sc.shape, sc.transform, sc.crs, side=side, val_fraction=val_fraction, seed=0)
    record = {"chip": chip.name, "side": side, "val_fraction": val_fraction, "seeds": seeds, "steps": steps,
              "workers": workers,
              "epochs": epochs,
              "final_epochs": final_epochs, "cores": os.cpu_count(), "runs": [],
              "winners": winners_table(chip, split).to_dict(orient="index"),
              "split": split.counts().to_dict(orient="index")}
    recipes = ablation_recipes(steps=steps, epochs=epochs, filters=tuple(filters))
    if final_epochs:
        recipes.append((final_name, replace(recipes[-1][1], epochs=final_epochs, **(final_set or {}))))
    chosen = [recipes[i] for i in (range(len(recipes)) if rows is None else rows)]
    for seed in seeds:
        def keep(name, res, seed=seed):
            record["runs"].append({"row": name, **res.scores, "load after": _load(), "recipe": asdict(res.recipe)})
            print(f"seed {seed} | {name}: SpaceNet F1 {res.scores['SpaceNet F1']:.3f}, pixel F1 "
                  f"{res.scores['pixel F1']:.3f}, pixel IoU {res.scores['pixel IoU']:.3f}, threshold "
                  f"{res.scores['threshold']}, min area {res.scores['min area m2']}, train "
                  f"{res.scores['train s']:.0f} s ({res.scores.get('train cpu s', float('nan')):.0f} CPU s), "
                  f"load {_load()}", flush=True)
            _write(out, record)

        run_ablation(chip, split, chosen, seed=seed, on_result=keep, workers=workers)
    return record


def _write(out: Path, record: dict) -> None:
    runs = pd.DataFrame(record["runs"])
    grouped = runs.groupby("row", sort=False)
    table = grouped[METRICS].mean()
    table["seeds"] = grouped["seed"].apply(lambda s: ",".join(map(str, s)))
    record["table"] = table.round(4).to_dict(orient="index")
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, default=float))
    os.replace(tmp, out)


def markdown(record: dict) -> str:
    cols = ["SpaceNet F1", "pixel F1", "pixel IoU", "median building IoU", "train s", "train cpu s", "seeds"]
    lines = ["| model | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, row in record["table"].items():
        lines.append(f"| {name} | " + " | ".join(
            f"{row[c]:.3f}" if c not in ("train s", "train cpu s", "seeds") else
            (row[c] if c == "seeds" else f"{row.get(c, float('nan')):.0f}")
            for c in cols) + " |")
    for name, row in record["winners"].items():
        lines.append(f"| winner {name} | {row['SpaceNet F1']:.3f} | {row['pixel F1']:.3f} | {row['pixel IoU']:.3f} | "
                     f"{row['median building IoU']:.3f} | - | - | - |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chip", type=Path, default=ROOT / REAL_CHIP)
    ap.add_argument("--side", default="right", help="test half (left/right/top/bottom)")
    ap.add_argument("--val-fraction", type=float, default=0.15,
                    help="validation strip of the training half (tunes threshold and min area)")
    ap.add_argument("--filters", type=int, nargs="+", default=[16, 32, 64, 128, 256], help="U-Net filters per level")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--steps", type=int, default=50, help="batches per epoch")
    ap.add_argument("--epochs", type=int, default=8, help="epochs of each ablation row")
    ap.add_argument("--final-epochs", type=int, default=40, help="epochs of the full recipe row (0: none)")
    ap.add_argument("--rows", type=int, nargs="*", default=None, help="ablation rows to run (default all)")
    ap.add_argument("--final-set", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="Recipe fields of the full-length row, e.g. loss=ce+dice class_weight=sqrt crop=256")
    ap.add_argument("--final-name", default="recipe, full length", help="name of the full-length row")
    ap.add_argument("--threads", type=int, default=0, help="TensorFlow threads per op (0: geonb's default)")
    ap.add_argument("--workers", type=int, default=1,
                    help="train an ensemble's members this many at once, one process each (ensemble=2 workers=2)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 rows, a few steps")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    if not a.chip.is_dir():
        raise SystemExit(f"{a.chip} is absent: the real chip lives in ../shared/realdata beside the project")
    if a.quick:
        a.steps, a.epochs, a.final_epochs, a.rows = 3, 1, 0, [0, 5]
    if a.threads and a.workers > 1:
        raise SystemExit("--threads sets this process's TensorFlow threads, not the --workers processes' (each gets "
                         "cores // workers); give one of the two")
    if a.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    out = a.out or build_dir("bench") / "buildings_real.json"
    t0 = time.perf_counter()
    record = run(a.chip, side=a.side, seeds=a.seeds, steps=a.steps, epochs=a.epochs, final_epochs=a.final_epochs,
                 rows=a.rows, out=out, val_fraction=a.val_fraction, filters=tuple(a.filters),
                 final_set=parse_settings(a.final_set), final_name=a.final_name, workers=a.workers)
    print(f"\n{markdown(record)}\n\n{len(record['runs'])} runs in {time.perf_counter() - t0:.0f} s; "
          f"load now {_load()} on {record['cores']} cores; wrote {out}")


if __name__ == "__main__":
    main()
