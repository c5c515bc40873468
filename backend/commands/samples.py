"""``samples``: stack the embedded BigEarthNet Sentinel-1/2 pairs into optical + SAR GeoTIFFs."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..samples import bigearthnet_samples


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="folder for <patch>_optical.tif and <patch>_sar.tif")
    parser.add_argument("--cache", type=Path, help="where the archives are extracted (default: OUT/.archives)")


def run(args: argparse.Namespace) -> int:
    pairs = bigearthnet_samples(args.cache or args.out / ".archives", args.out)
    for pair in pairs:
        print(f"{pair.name}\t{pair.optical}\t{pair.sar}")
    return 0
