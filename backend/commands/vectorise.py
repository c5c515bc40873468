"""``landfuse vectorise``: a class map to polygons (GeoPackage) after a minimum mapping unit in hectares."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--class-map", required=True, help="class map raster")
    parser.add_argument("--output", required=True, help="GeoPackage to write (class_id, class_name, area_ha)")
    parser.add_argument("--mmu", type=float, default=0.0, help="minimum mapping unit in hectares (0: no sieve)")
    parser.add_argument("--layer", default="land_cover", help="layer name in the GeoPackage")
    parser.add_argument("--block", type=int, default=2048, help="block size in pixels (bounds the memory)")
    parser.add_argument("--connectivity", type=int, default=4, choices=[4, 8])


def run(args: argparse.Namespace) -> int:
    from ..analyst.vectorise import vectorise

    result = vectorise(
        args.class_map,
        args.output,
        mmu_hectares=args.mmu,
        layer=args.layer,
        block=args.block,
        connectivity=args.connectivity,
    )
    print(
        f"vectorise: {result['features']} polygons (minimum {result['mmu_pixels']} pixels) -> {args.output}",
        file=sys.stderr,
    )
    return 0
