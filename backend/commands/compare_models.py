"""``landfuse compare-models``: how far a quantized (or any other) model strays from its float original.

``landfuse compare-models edc-lite.onnx edc-lite.int8.onnx`` compares the two on the synthetic cloudy
benchmark's test split (or any dataset, as ``evaluate``): class-map agreement and mIoU of both.
``--pair OPTICAL SAR`` classifies a raster pair with both models through the engine and compares the
class maps pixel by pixel (``--labels`` adds the mIoU of both against a reference raster).
"""

from __future__ import annotations

import argparse
import json
import sys

from .train import add_dataset_arguments, open_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reference", metavar="FLOAT.onnx", help="the float model (the reference)")
    parser.add_argument("other", metavar="OTHER.onnx", help="the model to compare with it, e.g. its int8 copy")
    parser.add_argument("--pair", nargs=2, metavar=("OPTICAL", "SAR"), help="compare on this raster pair instead")
    parser.add_argument("--labels", help="reference labels raster for --pair (class ids, or --reference-codes)")
    parser.add_argument("--reference-codes", help="scheme whose label codes --labels holds, e.g. m3m_cr")
    parser.add_argument("--optical-bands", help="optical bands for --pair in the model's order (names or indexes)")
    parser.add_argument("--sar-bands", help="SAR bands for --pair in the model's order (names or indexes)")
    add_dataset_arguments(parser, "test")
    parser.add_argument("--output", help="write the comparison JSON here (default: print it)")


def run(args: argparse.Namespace) -> int:
    from ...common.bands import parse_band_list
    from ..errors import BadParamsError
    from ..models.compare import compare_on_dataset, compare_on_rasters
    from ..runners import OnnxRunner

    if args.pair:
        result = compare_on_rasters(
            args.reference,
            args.other,
            *args.pair,
            labels=args.labels,
            reference_codes=args.reference_codes,
            optical_bands=parse_band_list(args.optical_bands) or None,
            sar_bands=parse_band_list(args.sar_bands) or None,
        )
        result["on"] = "raster pair " + " + ".join(args.pair)
    else:
        if args.labels:
            raise BadParamsError("--labels goes with --pair; a dataset brings its own labels")
        reference, other = OnnxRunner(args.reference, "cpu"), OnnxRunner(args.other, "cpu")
        dataset = open_from_args(args, args.split)
        result = compare_on_dataset(reference, other, dataset)
        result["on"] = f"{args.dataset} dataset, split {args.split}, {len(dataset)} samples"
    text = json.dumps(result, indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)
    line = f"agreement {100 * result['agreement']:.2f} % of {result['pixels']} pixels"
    if "miou_difference_points" in result:
        change = result["miou_difference_points"]
        line += f", mIoU {result['reference_miou']:.4f} -> {result['miou']:.4f} ({change:+.2f} points)"
    print(f"compare-models: {line}", file=sys.stderr)
    return 0
