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

from geonb.errors import GeonbError


def _cmd_info(args: argparse.Namespace) -> int:
    import geonb
    from geonb.runtime import device_report, get_profile

    print(f"geonb {geonb.__version__}; profile {get_profile().name}")
    print(device_report().summary())
    return 0


def _cmd_data_generate(args: argparse.Namespace) -> int:
    from geonb.datasets.synthetic import generate_lakes

    generate_lakes(root=args.root, seed=args.seed, overwrite=args.overwrite)
    try:
        from geonb.datasets.spacenet import generate_buildings
    except ImportError:
        return 0
    generate_buildings(root=args.root, seed=args.seed, overwrite=args.overwrite)
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

    # Other subcommands register themselves below (kernels, data fetch).
    _register_extra(sub, data_sub)
    return parser


def _register_extra(sub, data_sub) -> None:
    """Hook where further subcommands are added."""


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
