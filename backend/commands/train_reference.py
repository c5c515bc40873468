"""``landfuse train-reference``: train a model from reference points or polygons drawn on one scene.

The references are a GeoJSON FeatureCollection in the optical raster's CRS whose features carry the
class in the property ``class`` (QGIS: *Export > Save Features As...* GeoJSON with the layer's CRS set
to the raster's, the class field renamed ``class``; the Processing algorithm *Train from reference
data* does this itself).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ...common.bands import parse_band_list


def _bands(text: str) -> list[int | str]:
    bands = parse_band_list(text)
    if not bands:
        raise argparse.ArgumentTypeError(f"give band names or 1-based indexes like B2,B3,B4 or 2,3,4 (got {text!r})")
    return bands


def _extent(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"expected xmin,ymin,xmax,ymax, got {text!r}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--optical", required=True, help="optical raster (its grid is the training grid)")
    parser.add_argument("--sar", required=True, help="SAR raster (read on the optical grid)")
    parser.add_argument("--references", required=True, help="GeoJSON of points or polygons with a 'class' property")
    parser.add_argument("--out", required=True, help="ONNX model file to write (the card is inside)")
    parser.add_argument("--optical-bands", type=_bands, help="bands by name or 1-based index (default: all)")
    parser.add_argument("--sar-bands", type=_bands, help="bands by name or 1-based index (default: all)")
    parser.add_argument(
        "--classes",
        help="class order, names and colours: a shipped scheme name (values = class names) or a JSON file of "
        "[{value, name, color}] (default: sorted values, default colours)",
    )
    parser.add_argument("--architecture", default="claire", help="claire, specsar_former, cloudseg or edc")
    parser.add_argument("--variant", default="lite", help="lite (default) or paper")
    parser.add_argument("--epochs", type=int, help="epoch budget")
    parser.add_argument("--minutes", type=float, help="time budget in minutes (default 5 when no epochs are given)")
    parser.add_argument("--window", type=int, default=64, help="training crop in pixels (default 64)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--holdout", type=float, default=0.25, help="share of each class's features for validation")
    parser.add_argument("--point-radius", type=int, default=1, help="a point labels a (2r+1)-pixel square")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--lr", type=float, help="base rate (default: 2e-3 claire, specsar_former lite; 5e-4 cloudseg, edc; 3e-4 paper)"
    )
    parser.add_argument("--init-encoder", help="ImageNet MiT weights for the encoders (paper variants)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--keep",
        choices=["last", "best"],
        default="last",
        help="weights exported: at the end of the budget (default) or of the best validation epoch",
    )
    parser.add_argument(
        "--no-refine", action="store_true", help="no full-resolution refinement of the logits (the bare architecture)"
    )
    parser.add_argument("--extent", type=_extent, help="processing area xmin,ymin,xmax,ymax in the optical CRS")
    parser.add_argument("--mask", help="processing area: GeoJSON polygons in the optical CRS")
    parser.add_argument("--report", help="training report JSON")
    parser.add_argument("--plot", help="loss and validation curves PNG")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def class_entries(text: str | None) -> list[dict] | None:
    """``--classes``: a shipped scheme (values are the class names) or a JSON file of entries."""
    if not text:
        return None
    path = Path(text)
    if path.suffix.lower() == ".json" and path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    from ...common.classes import load_scheme

    return [{"value": spec.name, "name": spec.name, "color": spec.color} for spec in load_scheme(text)]


def progress_printer(quiet: bool):
    """A ``progress(fraction, message)`` printing at most one line a second to stderr."""
    last = [0.0]

    def progress(fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if not quiet and (now - last[0] >= 1.0 or fraction >= 1.0):
            last[0] = now
            print(f"{100 * fraction:5.1f} % {message}", file=sys.stderr, flush=True)

    return progress


def run(args: argparse.Namespace) -> int:
    from ..analyst.train import TrainOptions, train_from_references

    options = TrainOptions(
        architecture=args.architecture,
        variant=args.variant,
        epochs=args.epochs,
        time_budget_s=args.minutes * 60 if args.minutes else None,
        batch_size=args.batch_size,
        window=args.window,
        holdout=args.holdout,
        point_radius=args.point_radius,
        seed=args.seed,
        device=args.device,
        lr=args.lr,
        init_encoder=args.init_encoder,
        threads=args.threads,
        keep=args.keep,
        refine=not args.no_refine,
    )
    report = train_from_references(
        args.optical,
        args.sar,
        args.references,
        args.out,
        optical_bands=args.optical_bands,
        sar_bands=args.sar_bands,
        classes=class_entries(args.classes),
        options=options,
        extent=tuple(args.extent) if args.extent else None,
        mask=args.mask,
        report=args.report,
        plot=args.plot,
        progress=progress_printer(args.quiet),
    )
    validation = report["validation"] or {}
    summary = ", ".join(f"{key} {validation[key]:.4f}" for key in ("oa", "miou") if validation.get(key) is not None)
    print(f"train-reference: wrote {args.out} ({report['epochs']} epochs; validation {summary or 'none'})")
    return 0
