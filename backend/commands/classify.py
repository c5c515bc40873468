"""``landfuse classify``: classify a SAR + optical raster pair into a land-cover map."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ...common.bands import parse_band_list

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _bands(text: str) -> list[int | str]:
    bands = parse_band_list(text)
    if not bands:
        raise argparse.ArgumentTypeError(f"give band names or 1-based indexes like B2,B3,B4 or 2,3,4 (got {text!r})")
    return bands


def _numbers(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--optical", help="optical raster: any GDAL dataset (file, VRT, /vsizip/..., GPKG:file.gpkg:table, ...)"
    )
    parser.add_argument(
        "--sar", help='SAR raster: any GDAL dataset (file, VRT, NETCDF:"file.nc":var, GCP-placed GeoTIFF, ...)'
    )
    parser.add_argument(
        "--optical-bands",
        type=_bands,
        help="bands in the model's order, by name or 1-based index, e.g. B2,B3,B4,B8 or 2,3,4,8 "
        "(default: matched by the raster's band names)",
    )
    parser.add_argument("--sar-bands", type=_bands, help="bands by name or 1-based index, e.g. VV,VH or 1,2")
    parser.add_argument("--model", required=True, help=".onnx file, .pt checkpoint or model name (e.g. cloudseg-lite)")
    parser.add_argument("--models-dir", help="folder searched for model names before the bundled models")
    parser.add_argument(
        "--output", required=True, help="class map GeoTIFF (a .qml style is written beside it; folders are created)"
    )
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


@contextmanager
def _stop_on_signals(token) -> Iterator[list[int]]:
    """While the block runs, SIGINT and SIGTERM cancel ``token`` (the engine stops within one batch and
    deletes its temporary files) instead of killing the process; yields the signals received."""
    received: list[int] = []

    def cancel(signum, frame) -> None:
        received.append(signum)
        token.cancel()

    previous = {signum: signal.signal(signum, cancel) for signum in STOP_SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..engine import CancelToken, ClassifyOptions, classify
    from ..errors import BadParamsError, CancelledError

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
    token = CancelToken()
    with (
        _stop_on_signals(token) as received,
        tqdm(total=100, unit="%", disable=args.quiet, file=sys.stderr, bar_format="{l_bar}{bar}| {postfix}") as bar,
    ):

        def progress(fraction: float, message: str) -> None:
            bar.n = round(100 * fraction)
            bar.set_postfix_str(message, refresh=True)

        try:
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
                cancel=token,
            )
        except CancelledError:
            if not received:
                raise
            report = None
    if report is None:
        stopped_by = signal.Signals(received[0]).name
        print(f"landfuse classify: stopped by {stopped_by}; no output was written", file=sys.stderr)
        return 128 + received[0]
    summary = {
        "device": report["device"],
        "outputs": report["outputs"],
        "valid_share": report["valid_share"],
        "classes": {c["name"]: round(c["hectares"], 2) for c in report["classes"]},
        "seconds": round(report["timing_s"]["total"], 2),
    }
    print(json.dumps(summary, indent=2))
    return 0
