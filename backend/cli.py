"""``python -m landfuse.backend COMMAND``: the backend's command line.

Each command lives in ``backend/commands/<name>.py`` (dashes as underscores) with
``add_arguments(parser)`` and ``run(args) -> int``; modules are imported only when their command
runs, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "classify": "classify a SAR + optical raster pair into a land-cover map",
    "batch": "classify many scenes, or large ones split in blocks, on a Ray cluster (local by default)",
    "explain": "write a grounded explanation of a classification report",
    "evaluate": "score class maps or a model against reference labels",
    "train": "train a registered model on a dataset",
    "export": "export a model checkpoint to ONNX with its card",
    "quantize": "write an int8 (CPU) or float16 (GPU) copy of an exported .onnx model, card kept",
    "compare-models": "compare a quantized model with its float original: class-map agreement, mIoU",
    "import-official": "import a published checkpoint (CloudSeg StudentNet/TeacherNet.pth) as a LandFuse model",
    "models": "list registered models, or print parameters and MACs of one",
    "synth": "generate a synthetic cloudy SAR + optical scene",
    "samples": "stack the embedded real Sentinel-1/2 sample pairs into GeoTIFFs",
    "train-reference": "train a model from reference points or polygons drawn on one scene",
    "assess": "assess a class map against reference points or polygons, with area-adjusted estimates",
    "stratified-sample": "draw a stratified random sample of points from a class map for accuracy assessment",
    "vectorise": "sieve a class map to a minimum mapping unit and polygonize it into a GeoPackage",
    "worker": "serve the JSON-lines worker protocol on stdin/stdout",
    "diagnostics": "print interpreter, versions, devices and paths for a bug report",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="landfuse", description="LandFuse backend: SAR + optical land-cover fusion.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = (argv if argv is not None else sys.argv[1:])[:1]
    modules = {}
    for name, help_text in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if wanted == [name]:
            modules[name] = importlib.import_module(f".commands.{name.replace('-', '_')}", __package__)
            modules[name].add_arguments(command_parser)
    args = parser.parse_args(argv)
    from .errors import LandFuseError

    try:
        return int(modules[args.command].run(args) or 0)
    except LandFuseError as err:
        print(f"landfuse {args.command}: error [{err.code}]: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"landfuse {args.command}: interrupted", file=sys.stderr)
        return 130
