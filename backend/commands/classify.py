"""``landfuse classify``: classify a SAR + optical raster pair into a land-cover map."""

from __future__ import annotations

import argparse
import json
import sys


def _bands(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"band list must be 1-based integers like 4,3,2 (got {text!r})") from exc


def _numbers(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--optical", help="optical raster (any GDAL-readable file or VRT)")
    parser.add_argument("--sar", help="SAR raster (any GDAL-readable file or VRT)")
    parser.add_argument("--optical-bands", type=_bands, help="1-based band indexes in the model's order, e.g. 2,3,4,8")
    parser.add_argument("--sar-bands", type=_bands, help="1-based band indexes, e.g. 1,2 for VV,VH")
    parser.add_argument("--model", required=True, help=".onnx file, .pt checkpoint or model name (e.g. cloudseg-lite)")
    parser.add_argument("--models-dir", help="folder searched for model names before the bundled models")
    parser.add_argument("--output", required=True, help="class map GeoTIFF (a .qml style is written beside it)")
    parser.add_argument("--confidence", help="optional confidence GeoTIFF (top probability, percent)")
    parser.add_argument("--reconstruction", help="optional cloud-free optical GeoTIFF (CloudSeg/EDC models)")
    parser.add_argument("--report", help="optional JSON report (class areas, confidence, timing)")
    parser.add_argument("--tile-size", type=int, help="window size in pixels (default: the model card's)")
    parser.add_argument("--overlap", type=int, help="pixels shared by neighbouring windows (default: tile/4)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--target-crs", help="output CRS, e.g. EPSG:32633, or 'utm' for the local UTM zone")
    parser.add_argument("--resolution", type=_numbers, help="output pixel size in target CRS units: x or x,y")
    parser.add_argument("--extent", type=_numbers, help="xmin,ymin,xmax,ymax in the target CRS")
    parser.add_argument("--sar-unit", default="auto", choices=["auto", "dB", "linear"])
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..engine import ClassifyOptions, classify
    from ..errors import BadParamsError

    if args.extent is not None and len(args.extent) != 4:
        raise BadParamsError(f"--extent needs four numbers xmin,ymin,xmax,ymax, got {args.extent}")
    resolution = None if args.resolution is None else (args.resolution * 2)[:2]
    options = ClassifyOptions(
        tile_size=args.tile_size,
        overlap=args.overlap,
        batch_size=args.batch_size,
        device=args.device,
        target_crs=args.target_crs,
        resolution=resolution,
        extent=tuple(args.extent) if args.extent else None,
        sar_unit=args.sar_unit,
    )
    with tqdm(total=100, unit="%", disable=args.quiet, file=sys.stderr, bar_format="{l_bar}{bar}| {postfix}") as bar:

        def progress(fraction: float, message: str) -> None:
            bar.n = round(100 * fraction)
            bar.set_postfix_str(message, refresh=True)

        report = classify(
            args.optical,
            args.sar,
            args.model,
            args.output,
            optical_bands=args.optical_bands,
            sar_bands=args.sar_bands,
            options=options,
            confidence=args.confidence,
            reconstruction=args.reconstruction,
            report=args.report,
            models_dir=args.models_dir,
            progress=progress,
        )
    summary = {
        "device": report["device"],
        "outputs": report["outputs"],
        "valid_share": report["valid_share"],
        "classes": {c["name"]: round(c["hectares"], 2) for c in report["classes"]},
        "seconds": round(report["timing_s"]["total"], 2),
    }
    print(json.dumps(summary, indent=2))
    return 0
