"""Command line: ``python -m geonb <command>`` (also the ``geonb`` script).

Commands
--------
``geonb data generate``   write the synthetic lakes datasets (and the buildings sample) under ``data/``
``geonb data fetch``      fetch real MODIS lakes from a STAC API (see README)
``geonb kernels install`` register the ``geonb`` and ``geonb (GPU)`` Jupyter kernels
``geonb info``            versions, backend, device report
``geonb experiments run`` run notebook 05's experiments ahead of class into a cache folder that students'
                          kernels read through ``GEONB_CACHE`` (read-only for them)
``geonb train``           train a model on your own raster and training polygons (split by polygon)
``geonb predict``         predict rasters with a saved model: class map, probabilities, polygons; many
                          rasters on a Dask cluster (``--out DIR --workers N [--scheduler ADDR]``)

Each subcommand is a small function that parses nothing itself and calls into geonb.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geonb.errors import GeonbError, InvalidParameterError


def _cmd_info(args: argparse.Namespace) -> int:
    import geonb
    from geonb.runtime import device_report, get_profile

    print(f"geonb {geonb.__version__}; profile {get_profile().name}")
    print(device_report().summary())
    return 0


def _cmd_data_generate(args: argparse.Namespace) -> int:
    from geonb.datasets import data_root
    from geonb.datasets.spacenet import generate_buildings
    from geonb.datasets.synthetic import LAKES_DATASETS, generate_lakes

    root = Path(args.root) if args.root is not None else data_root()
    if root.exists() and not root.is_dir():
        raise InvalidParameterError(f"`--root` {str(root)!r} is a file; give the data folder (it is created "
                                    "when missing)")
    lakes_root = root / "lakes"  # the lakes datasets live in the data folder's lakes/ subfolder
    if not args.overwrite and all((lakes_root / name).exists() for name in LAKES_DATASETS):
        print(f"lakes datasets already in {lakes_root}; --overwrite regenerates them")
    else:
        for name, path in generate_lakes(root=lakes_root, seed=args.seed, overwrite=args.overwrite).items():
            print(f"wrote {name} to {path}")
    # kept as it is when present with the same settings
    print(f"buildings sample in {generate_buildings(root=root, seed=args.seed, overwrite=args.overwrite)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m geonb``."""
    parser = argparse.ArgumentParser(prog="geonb", description="geonb: segmentation of satellite imagery")
    sub = parser.add_subparsers(dest="command", required=True)

    p_info = sub.add_parser("info", help="versions, backend and device report")
    p_info.set_defaults(func=_cmd_info)

    p_data = sub.add_parser("data", help="make or fetch datasets")
    data_sub = p_data.add_subparsers(dest="data_command", required=True)
    p_gen = data_sub.add_parser("generate", help="write the synthetic sample datasets under data/")
    p_gen.add_argument("--root", default=None, help="data folder (default: $GEONB_DATA or the checkout's data/)")
    p_gen.add_argument("--seed", type=int, default=0)
    p_gen.add_argument("--overwrite", action="store_true", help="replace existing datasets")
    p_gen.set_defaults(func=_cmd_data_generate)

    _register_data_fetch(data_sub)
    _register_kernels(sub)
    _register_experiments(sub)
    _register_train_predict(sub)
    return parser


# ---- data fetch (geonb.datasets.stac) -------------------------------------------------------
def _cmd_data_fetch(args: argparse.Namespace) -> int:
    from geonb.datasets.stac import fetch_lakes

    kwargs = {}
    if args.no_sign:
        kwargs["signer"] = None
    if args.stac_url:
        kwargs["stac_url"] = args.stac_url
    ds = fetch_lakes(args.lakes, dataset=args.dataset, bbox=args.bbox, start=args.start, end=args.end, root=args.root,
                     overwrite=args.overwrite, water_min=args.water_min, land_max=args.land_max,
                     skip_failed=args.skip_failed, progress=not args.quiet, **kwargs)
    print(f"{ds.name}: {len(ds)} lake(s) in {ds.path}; load with LakeDataset({ds.name!r})")
    return 0


def _register_data_fetch(data_sub) -> None:
    from geonb.datasets.stac import DEFAULT_END, DEFAULT_START, LAND_MAX, WATER_MIN

    p = data_sub.add_parser(
        "fetch", help="fetch real lakes: MODIS MOD09A1 chips + JRC GSW labels from a STAC API (no login)",
        description="Fetch real lakes into the lakes layout, e.g. "
                    'geonb data fetch "Lake Victoria" --start 2020-06-01 --end 2020-06-30',
    )
    p.add_argument("lakes", nargs="+", help="built-in lake names (see geonb.datasets.places) or your own name "
                                            "with --bbox")
    p.add_argument("--bbox", type=float, nargs=4, metavar=("WEST", "SOUTH", "EAST", "NORTH"), default=None,
                   help="box in degrees for a single lake")
    p.add_argument("--start", default=DEFAULT_START, help=f"first date YYYY-MM-DD (default {DEFAULT_START})")
    p.add_argument("--end", default=DEFAULT_END, help=f"last date YYYY-MM-DD (default {DEFAULT_END})")
    p.add_argument("--dataset", default="lakes-real", help="dataset name (default lakes-real)")
    p.add_argument("--root", default=None, help="folder of lakes datasets (default: data_root()/lakes)")
    p.add_argument("--water-min", type=float, default=WATER_MIN, help=f"water fraction for WATER ({WATER_MIN})")
    p.add_argument("--land-max", type=float, default=LAND_MAX, help=f"water fraction for LAND ({LAND_MAX})")
    p.add_argument("--stac-url", default=None, help="STAC API (default: Microsoft Planetary Computer)")
    p.add_argument("--no-sign", action="store_true", help="do not sign asset URLs (APIs other than the PC)")
    p.add_argument("--overwrite", action="store_true", help="replace lakes fetched with other settings")
    p.add_argument("--skip-failed", action="store_true", help="warn and go on when a lake fails")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_data_fetch)


def _cmd_kernels_install(args: argparse.Namespace) -> int:
    from geonb.runtime import install_kernels

    where = install_kernels(user=not args.sys_prefix, prefix=sys.prefix if args.sys_prefix else None,
                            gpu_backend=args.gpu_backend)
    for name, path in where.items():
        print(f"installed kernel {name!r} in {path}")
    import importlib.util

    if importlib.util.find_spec(args.gpu_backend) is None:
        print(f"note: {args.gpu_backend!r} is not installed in this environment; the 'geonb (GPU)' kernel needs it "
              f"(pip install {args.gpu_backend}, a CUDA build on a GPU machine). The 'geonb' kernel works as it is.")
    return 0


def _register_kernels(sub) -> None:
    p = sub.add_parser("kernels", help="Jupyter kernels")
    ksub = p.add_subparsers(dest="kernels_command", required=True)
    pi = ksub.add_parser("install", help="register the 'geonb' (CPU) and 'geonb (GPU)' Jupyter kernels")
    pi.add_argument("--gpu-backend", choices=("torch", "jax"), default="torch",
                    help="Keras backend of the GPU kernel (default: torch)")
    pi.add_argument("--sys-prefix", action="store_true",
                    help="install into this environment (sys.prefix) instead of the user's folder")
    pi.set_defaults(func=_cmd_kernels_install)


# ---- experiments ahead of class (geonb.experiments.run_study) --------------------------------
def _cmd_experiments_run(args: argparse.Namespace) -> int:
    import pandas as pd

    from geonb.datasets import LakeDataset
    from geonb.experiment_cache import CACHE_ENV
    from geonb.experiments import run_study
    from geonb.runtime import get_profile

    profile = get_profile(args.profile)
    cache = Path(args.cache).expanduser()
    if cache.exists() and not cache.is_dir():
        raise InvalidParameterError(f"--cache {str(cache)!r} is a file; give a folder for the cache")
    dataset = LakeDataset(args.dataset, root=args.data_root).subset(profile.max_lakes)
    print(f"geonb: notebook 05's experiments, profile {profile.name!r}, dataset {dataset.name!r} "
          f"({len(dataset.lakes)} lakes) -> {cache}")
    table = run_study(dataset, profile, cache_dir=cache, workers=args.workers, client=args.scheduler)
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    computed = int((table["source"] == "computed").sum())
    print(f"geonb: {computed} cell(s) computed, {len(table) - computed} already cached. Students: "
          f"export {CACHE_ENV}={cache.resolve()} before starting JupyterLab (read-only for them).")
    return 0


def _register_experiments(sub) -> None:
    p = sub.add_parser("experiments", help="the lakes study's experiments (notebook 05)")
    esub = p.add_subparsers(dest="experiments_command", required=True)
    r = esub.add_parser("run", help="run notebook 05's experiments into a cache folder (for GEONB_CACHE)")
    r.add_argument("--cache", required=True, help="cache folder to fill (created if missing)")
    r.add_argument("--profile", default=None, choices=("quick", "class", "full"),
                   help="run profile (default: $GEONB_PROFILE, else class)")
    r.add_argument("--dataset", default="lakes-synthetic", help="dataset folder name (default lakes-synthetic)")
    r.add_argument("--data-root", default=None, help="folder holding the datasets (default: data/lakes)")
    r.add_argument("--workers", type=int, default=None,
                   help="local Dask workers, one TensorFlow thread each (default: one per core)")
    r.add_argument("--scheduler", default=None, help="a Dask scheduler address to run on instead (tcp://...)")
    r.set_defaults(func=_cmd_experiments_run)


# ---- train / predict on your own raster (geonb.workflow, geonb.export) -----------------------
def _cmd_train(args: argparse.Namespace) -> int:
    from geonb.io import check_output_path
    from geonb.models import save_model, set_model_info
    from geonb.scene import read_scene
    from geonb.workflow import add_indices, label_scene, score_on_scene, train_on_scene

    out = Path(args.out)
    if out.suffix != ".keras":
        raise InvalidParameterError(f"`--out` must end with '.keras', got {str(out)!r}")
    check_output_path(out, args.overwrite, name="--out")  # before the minutes of training
    extra = {k: v for k, v in (("band_ids", args.band_ids), ("product", args.product)) if v}
    scene = read_scene(args.image, sensor=_sensor_arg(args.sensor), **extra)
    print(f"read {scene!r}; bands {', '.join(scene.band_names)}"
          f" (sensor: {scene.properties.get('sensor') or 'unknown'})")
    if args.indices:
        scene = add_indices(scene, args.indices)
    from geonb.labels import load_polygons

    polygons = load_polygons(args.labels, layer=args.layer) if args.layer else args.labels
    labelled = label_scene(scene, polygons, field=args.class_field, seed=args.seed)
    print("classes:", ", ".join(f"{c}={n}" for c, n in zip(labelled.scheme.codes, labelled.scheme.names,
                                                         strict=True)))
    print(labelled.counts().to_string())
    fitted = train_on_scene(labelled, model=args.model, patch_size=args.patch_size, epochs=args.epochs,
                            seed=args.seed, augment=None if args.no_augment else "d4", verbose=2)
    print(f"trained {args.model} in {fitted.seconds:.0f} s ({fitted.epochs_run} epochs)")
    test = score_on_scene(fitted, labelled, "test")
    print("held-out polygons (test):")
    print(test.per_class[["precision", "recall", "f1", "support"]].round(3).to_string())
    set_model_info(fitted.model, class_field=args.class_field)
    save_model(fitted.model, out, overwrite=args.overwrite)
    print(f"saved {out}")
    return 0


def _sensor_arg(value: str | None):
    return None if value in (None, "none") else value


def _is_batch(args: argparse.Namespace) -> bool:
    """Several inputs, or ``--out`` a folder (existing, or a path without a suffix): the Dask batch."""
    out = Path(args.out)
    return len(args.inputs) > 1 or out.is_dir() or out.suffix == ""


def _cmd_predict_batch(args: argparse.Namespace) -> int:
    """``geonb predict MODEL INPUTS... --out DIR``: geonb.distributed.predict_rasters on a Dask cluster."""
    import os

    from geonb.distributed import SCHEDULER_ENV, get_client, predict_rasters
    from geonb.models import load_model, model_info

    for flag in ("probabilities", "polygons", "polygon_classes"):
        if getattr(args, flag):
            raise InvalidParameterError(
                f"`--{flag.replace('_', '-')}` works for one raster written to a .tif; with several inputs or an "
                "output folder geonb writes one class map per raster (predict them one by one for the others)")
    if args.workers is not None and args.workers < 1:
        raise InvalidParameterError(f"`--workers` must be >= 1, got {args.workers}")
    model = load_model(args.model)
    info = model_info(model)
    if info.get("indices"):
        raise InvalidParameterError(
            f"the model takes spectral indices {info['indices']} as inputs; the batch mode reads bands only. "
            "Predict each raster with `geonb predict MODEL IMAGE --out classes.tif`")
    wanted = list(info.get("input_bands") or []) or None
    sensor = "auto" if args.sensor == "auto" and info.get("sensor") != "none" else _sensor_arg(
        None if args.sensor == "auto" else args.sensor)
    extra = {k: v for k, v in (("band_ids", args.band_ids), ("product", args.product)) if v}
    _check_units(info, args, wanted, sensor, extra)  # before any cluster starts
    local = args.scheduler is None and not os.environ.get(SCHEDULER_ENV)
    client = get_client(args.scheduler, n_workers=args.workers)
    try:
        if local:
            print(f"local Dask cluster: {len(client.scheduler_info()['workers'])} workers x 1 thread")
        table = predict_rasters(model, args.inputs, args.out, client=client, overwrite=args.overwrite,
                                progress=not args.quiet, bands=wanted, sensor=sensor, **extra)
    finally:
        if local:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()
        else:
            client.close()
    import pandas as pd

    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        shown = table.drop(columns=["output"]).assign(input=[Path(p).name for p in table["input"]])
        print(shown.to_string(index=False))
    counts = table["status"].value_counts()
    print(f"{int(counts.get('done', 0))} done, {int(counts.get('skipped', 0))} skipped, "
          f"{int(counts.get('failed', 0))} failed; class maps in {args.out}")
    return 1 if counts.get("failed", 0) else 0


def _cmd_predict(args: argparse.Namespace) -> int:
    if _is_batch(args):
        return _cmd_predict_batch(args)
    args.image = args.inputs[0]
    return _cmd_predict_one(args)


def _check_units(info: dict, args: argparse.Namespace, wanted, sensor, extra: dict) -> None:
    """Refuse inputs whose values are in other units than the training image's (read from one pixel each)."""
    from pathlib import Path

    from geonb.errors import BandMismatchError
    from geonb.scene import read_image

    trained = info.get("units")
    if not trained or args.force:
        return
    other = []
    for path in args.inputs:
        if not Path(path).is_file():
            continue  # predict_rasters reports missing files before any work
        units = read_image(path, window=((0, 1), (0, 1)), bands=wanted, sensor=sensor, **extra)[2].get("units")
        if units and units != trained:
            other.append(f"{path} ({units})")
    if other:
        raise BandMismatchError(
            f"the model was trained on {trained!r} values but {len(other)} input(s) read otherwise: "
            f"{', '.join(other[:5])}{' ...' if len(other) > 5 else ''}; prepare them like the training image "
            "(e.g. --product), or pass --force if you know they match"
        )


def _cmd_predict_one(args: argparse.Namespace) -> int:
    from geonb.classes import ClassScheme, scheme_for_codes
    from geonb.errors import BandMismatchError
    from geonb.export import export_prediction
    from geonb.io import check_output_paths
    from geonb.models import class_codes, load_model, model_info
    from geonb.prediction import predict_scene
    from geonb.scene import read_scene
    from geonb.workflow import add_indices

    outputs = {"classes": args.out, "probabilities": args.probabilities, "polygons": args.polygons}
    check_output_paths({f"--{'out' if k == 'classes' else k}": v for k, v in outputs.items()}, args.overwrite)
    for flag, path, suffixes in (("--out", args.out, (".tif", ".tiff")), ("--probabilities", args.probabilities,
                                 (".tif", ".tiff")), ("--polygons", args.polygons, (".geojson", ".json"))):
        if path is not None and Path(path).suffix.lower() not in suffixes:
            raise InvalidParameterError(f"`{flag}` {path!r} must end with {' or '.join(suffixes)}")
    model = load_model(args.model)
    info = model_info(model)
    scheme = ClassScheme.from_dict(info["scheme"]) if "scheme" in info else scheme_for_codes(class_codes(model))
    classes_wanted = [scheme.code(n) for n in args.polygon_classes] if args.polygon_classes else None
    indices = tuple(info.get("indices") or ())
    wanted = [b for b in info.get("input_bands", []) if b not in indices] or None
    # The new image's own sensor is detected (never assumed from the training image): the model's inputs are
    # shared band names, found on any sensor that has them.
    sensor = "auto" if args.sensor == "auto" and info.get("sensor") != "none" else _sensor_arg(
        None if args.sensor == "auto" else args.sensor)
    extra = {k: v for k, v in (("band_ids", args.band_ids), ("product", args.product)) if v}
    scene = read_scene(args.image, bands=wanted, sensor=sensor, **extra)
    trained_units, units = info.get("units"), scene.properties.get("units")
    if trained_units and units and trained_units != units and not args.force:
        raise BandMismatchError(
            f"the model was trained on {trained_units!r} values but {args.image!r} reads as {units!r}; the model "
            "would see numbers on another scale. Prepare the image like the training image (e.g. --product for "
            "Collection-2 or Sentinel-2 scaling), or pass --force if you know they match"
        )
    if indices:
        scene = add_indices(scene, indices)
    print(f"read {scene!r} (sensor: {scene.properties.get('sensor') or 'unknown'}); predicting "
          f"{', '.join(scheme.names)}")
    prediction = predict_scene(model, scene, progress=not args.quiet)
    kinds = {k: v for k, v in outputs.items() if v is not None}
    written = export_prediction(prediction, scene, kinds, scheme=scheme, probabilities="probabilities" in kinds,
                                polygons="polygons" in kinds, classes_wanted=classes_wanted,
                                overwrite=args.overwrite)
    counts = {scheme.name(c): int((prediction.classes == c).sum()) for c in scheme.codes}
    print("pixels per class:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    for kind, path in written.items():
        print(f"wrote {kind}: {path}")
    return 0


def _register_train_predict(sub) -> None:
    from geonb.workflow import INDICES

    p = sub.add_parser("train", help="train on your own raster and training polygons (split by polygon)",
                       description="Train a model on IMAGE with the polygons in --labels (GeoJSON, any CRS; the "
                                   "class in --class-field). Polygons are split 60/20/20 into train/val/test by "
                                   "polygon; the test polygons' scores are printed; the model is saved with its "
                                   "classes, bands and sensor.")
    p.add_argument("image", help="a GeoTIFF (Landsat, Sentinel-2, MODIS or any raster)")
    p.add_argument("--labels", required=True, help="training polygons (GeoJSON)")
    p.add_argument("--class-field", default="class", help="the polygons' property holding the class name")
    p.add_argument("--layer", default=None, help="the layer of a GeoPackage that holds the polygons")
    p.add_argument("--out", required=True, help="model file to write (.keras)")
    p.add_argument("--model", choices=("fcn", "unet"), default="fcn", help="architecture (default: the study's FCN)")
    p.add_argument("--patch-size", type=int, default=8, help="training patch side in pixels (default 8)")
    p.add_argument("--epochs", type=int, default=60, help="most epochs (early stopping on the val polygons)")
    p.add_argument("--seed", type=int, default=0, help="seed of the polygon split, weights and augmentation")
    p.add_argument("--sensor", default="auto", help="landsat5, landsat7, landsat8, sentinel2, modis, auto or none")
    p.add_argument("--band-ids", nargs="+", default=None, help="the file's bands as the sensor's ids, e.g. B1 B2 B3 "
                                                                 "B4 B5 B7 (when they cannot be detected)")
    p.add_argument("--product", default=None, help="the product's scaling, e.g. c2l2 (Landsat Collection-2 L2) or "
                                                   "l2a (Sentinel-2), when the file does not say")
    p.add_argument("--indices", nargs="*", choices=INDICES, default=(), help="spectral indices as extra inputs")
    p.add_argument("--no-augment", action="store_true", help="no flips/rotations (D4) of the training patches")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    p.set_defaults(func=_cmd_train)

    q = sub.add_parser("predict", help="predict rasters with a saved model: class maps, probabilities, polygons",
                       description="Predict IMAGE with MODEL (a .keras file saved by geonb train or save_model) and "
                                   "write a Cloud-Optimized GeoTIFF class map with a colour table (and optionally "
                                   "probabilities and class polygons with areas in km2), all or nothing. With "
                                   "several INPUTS or --out a folder, every raster is predicted on a Dask cluster "
                                   "(--workers local processes, or --scheduler ADDR) into DIR/<name>_classes.tif, "
                                   "finished rasters are skipped on a re-run, and a table per raster is printed.")
    q.add_argument("model", help="the .keras model file")
    q.add_argument("inputs", nargs="+", metavar="IMAGE",
                   help="the GeoTIFF(s) to predict (same sensor and bands as the training image)")
    q.add_argument("--out", required=True, help="class map to write (.tif, a COG), or a folder for several inputs")
    q.add_argument("--workers", type=int, default=None,
                   help="local Dask worker processes for several inputs (default: one per core)")
    q.add_argument("--scheduler", default=None,
                   help="address of a running Dask scheduler (tcp://host:8786) to use instead of a local cluster "
                        "(default: $GEONB_DASK_SCHEDULER if set)")
    q.add_argument("--probabilities", default=None, help="also write class probabilities to this .tif")
    q.add_argument("--polygons", default=None, help="also write class polygons to this .geojson")
    q.add_argument("--polygon-classes", nargs="*", default=None, help="classes to polygonise (default all)")
    q.add_argument("--sensor", default="auto", help="sensor of IMAGE (default: detected from the file)")
    q.add_argument("--band-ids", nargs="+", default=None, help="IMAGE's bands as the sensor's ids")
    q.add_argument("--product", default=None, help="IMAGE's product scaling (c2l2, l2a, ...)")
    q.add_argument("--force", action="store_true", help="predict even if IMAGE's units differ from the training")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.add_argument("--overwrite", action="store_true", help="replace existing output files")
    q.set_defaults(func=_cmd_predict)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GeonbError as exc:
        print(f"geonb: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
