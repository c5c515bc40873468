"""``landfuse diagnostics``: interpreter, versions, devices, paths and last errors, for a bug report.

The same report the QGIS plugin shows (LandFuse diagnostics), computed in this process.
"""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of text")


def run(args: argparse.Namespace) -> int:
    from ..diagnostics import format_report, report

    data = report()
    print(json.dumps(data, indent=2) if args.json else format_report(data))
    return 0
