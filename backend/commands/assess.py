"""``landfuse assess``: accuracy of a class map against reference points or polygons, with area estimates."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--class-map", required=True, help="class map raster (a LandFuse class map names its classes)")
    parser.add_argument(
        "--references", required=True, help="GeoJSON points or polygons in the map's CRS with a 'class' property"
    )
    parser.add_argument(
        "--not-stratified",
        action="store_true",
        help="the points are not a stratified random sample of the map classes: no area-adjusted estimates",
    )
    parser.add_argument("--output", help="assessment JSON (a metrics file for 'explain'); default: print it")
    parser.add_argument("--html", help="HTML report")
    parser.add_argument("--plot", help="PNG figure: error matrix and class areas")


def run(args: argparse.Namespace) -> int:
    from ..analyst.assess import assess
    from ..analyst.report import assessment_figure, assessment_html

    assessment = assess(args.class_map, args.references, stratified=not args.not_stratified)
    text = json.dumps(assessment, indent=2, allow_nan=False)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text)
    figure = assessment_figure(assessment, args.plot) if (args.plot or args.html) else None
    if args.html:
        Path(args.html).write_text(assessment_html(assessment, figure), encoding="utf-8")
    interval = assessment.get("oa_interval")
    extra = f" (95 % interval {interval[0]:.4f}-{interval[1]:.4f})" if interval else ""
    print(f"assess: overall accuracy {assessment['oa']:.4f}{extra}, {assessment['design']}", file=sys.stderr)
    return 0
