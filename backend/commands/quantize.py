"""``landfuse quantize``: an int8 (CPU) or float16 (GPU) copy of an exported float32 ``.onnx`` model.

``landfuse quantize edc-lite.onnx edc-lite.int8.onnx`` calibrates on the synthetic cloudy benchmark;
``--calibration OPTICAL SAR`` calibrates on a raster pair instead (bands chosen as for ``classify``).
The card is kept and records the precision, what stayed in float, the calibration source and the
agreement with the float model on held-out windows (see ``backend.models.quantize``).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..models.quantize import PRECISIONS

    parser.add_argument("input", metavar="IN.onnx", help="float32 model exported by 'landfuse export'")
    parser.add_argument(
        "output", metavar="OUT.onnx", nargs="?", help="where to write the copy (default: IN.<precision>.onnx beside IN)"
    )
    parser.add_argument("--precision", choices=PRECISIONS, default="int8", help="int8 for CPUs, fp16 for GPUs")
    add_calibration_arguments(parser)


def add_calibration_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of an int8/fp16 copy (calibration source and windows, check, attention), shared with ``export``."""
    from ..models.quantize import CHECK_WINDOWS, DEFAULT_WINDOWS

    parser.add_argument(
        "--calibration",
        nargs="+",
        default=["synthetic"],
        metavar="SOURCE",
        help="'synthetic' (the synthetic cloudy benchmark, default) or OPTICAL SAR rasters of the model's kind",
    )
    parser.add_argument(
        "--windows", type=int, default=DEFAULT_WINDOWS, help=f"calibration windows (default {DEFAULT_WINDOWS})"
    )
    parser.add_argument(
        "--check-windows",
        type=int,
        default=CHECK_WINDOWS,
        help=f"held-out windows compared with the float model (default {CHECK_WINDOWS}; 0: no check)",
    )
    parser.add_argument("--window-size", type=int, help="window size in pixels (default: the card's tile size)")
    parser.add_argument(
        "--quantize-attention",
        action="store_true",
        help="int8: quantize the attention matrix products too (left in float by default: no faster, less exact)",
    )
    parser.add_argument("--optical-bands", help="optical bands in the model's order, by name or 1-based index")
    parser.add_argument("--sar-bands", help="SAR bands in the model's order, by name or 1-based index, e.g. VV,VH")
    parser.add_argument("--sar-unit", default="auto", choices=["auto", "dB", "linear"], help="unit of the SAR raster")


def calibration_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of ``quantize_model`` from the options of ``add_calibration_arguments``."""
    from ...common.bands import parse_band_list
    from ..errors import BadParamsError

    calibration = args.calibration
    if calibration == ["synthetic"]:
        source = "synthetic"
    elif len(calibration) == 2:
        source = tuple(calibration)
    else:
        given = " ".join(calibration)
        raise BadParamsError(f"--calibration takes 'synthetic' or two rasters OPTICAL SAR, got {given!r}")
    return {
        "calibration": source,
        "windows": args.windows,
        "size": args.window_size,
        "check_windows": args.check_windows,
        "keep_attention_float": not args.quantize_attention,
        "optical_bands": parse_band_list(args.optical_bands) or None,
        "sar_bands": parse_band_list(args.sar_bands) or None,
        "sar_unit": args.sar_unit,
    }


def print_result(result) -> None:
    """Say what ``quantize_model`` wrote (a ``QuantizeResult``) and how its class maps agree with the float model."""
    size_mb = result.path.stat().st_size / 1e6
    print(f"wrote {result.path} ({size_mb:.1f} MB, {result.precision['precision']}, {result.seconds:.0f} s)")
    check = result.precision["check"]
    if "agreement" in check:
        line = f"class maps agree with the float model on {100 * check['agreement']:.2f} % of {check['pixels']} pixels"
        if "miou_difference_points" in check:
            line += f"; mIoU {check['miou_difference_points']:+.2f} points"
        print(f"{line} ({check['on']})")
    else:
        print(f"no check: {check['skipped']}")


def run(args: argparse.Namespace) -> int:
    from ..models.quantize import quantize_model, quantized_path

    options = calibration_options(args)
    output = args.output or quantized_path(args.input, args.precision)
    print_result(quantize_model(args.input, output, args.precision, **options))
    return 0
