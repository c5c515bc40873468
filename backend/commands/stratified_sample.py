"""``landfuse stratified-sample``: points for accuracy assessment, stratified by map class (Olofsson et al. 2014)."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--class-map", required=True, help="class map raster; its classes are the strata")
    parser.add_argument("--output", required=True, help="GeoPackage of points (stratum, map_class, reference)")
    parser.add_argument("--allocation", help="JSON of the design: areas, weights, sample size, points per class")
    parser.add_argument("--target-se", type=float, default=0.01, help="standard error wanted for overall accuracy")
    parser.add_argument(
        "--expected-accuracy", default="0.8", help="expected user's accuracy: one value, or one per class (a,b,...)"
    )
    parser.add_argument("--minimum", type=int, default=50, help="points per class at least (default 50)")
    parser.add_argument("--total", type=int, help="sample size (instead of the one the target standard error gives)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from ..analyst.classmap import open_class_map
    from ..analyst.gpkg import GeoPackageWriter, categorized_qml
    from ..analyst.sampling import draw_points, plan_sample

    values = [float(v) for v in args.expected_accuracy.split(",")]
    class_map = open_class_map(args.class_map, with_areas=True)
    design = plan_sample(class_map, args.target_se, values[0] if len(values) == 1 else values, args.minimum, args.total)
    points = draw_points(class_map, [entry["points"] for entry in design["classes"]], args.seed)
    fields = (("stratum", "INTEGER"), ("map_class", "TEXT"), ("reference", "TEXT"))
    with GeoPackageWriter(args.output, "sample", class_map.grid.crs, "POINT", fields) as out:
        out.set_style(categorized_qml("stratum", class_map.classes, "POINT"), "strata")
        for point in points:
            out.add([point.x, point.y], (point.stratum, class_map.names[point.stratum], None))
    if args.allocation:
        with open(args.allocation, "w", encoding="utf-8") as handle:
            json.dump({**design, "seed": args.seed}, handle, indent=2)
    per_class = ", ".join(f"{entry['name']} {entry['points']}" for entry in design["classes"])
    print(f"stratified-sample: {len(points)} points ({per_class}) -> {args.output}", file=sys.stderr)
    return 0
