"""Command line: ``python -m geonb <command>`` (also the ``geonb`` script).

Commands
--------
``geonb data generate``   write the synthetic lakes datasets (and the buildings sample) under ``data/``
``geonb data fetch``      fetch real MODIS lakes from a STAC API (see README)
``geonb kernels install`` register the ``geonb`` and ``geonb (GPU)`` Jupyter kernels
``geonb info``            versions, backend, device report

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
