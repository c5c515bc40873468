"""``landfuse evaluate``: score a class map against reference labels, or a model over a dataset split."""

from __future__ import annotations

import argparse
import json
import sys

from .train import add_dataset_arguments, open_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--class-map", help="class map GeoTIFF to score (with --reference)")
    parser.add_argument("--reference", help="reference labels raster, resampled onto the class map grid")
    parser.add_argument("--classes", help="class scheme name (default: the class table stored in the class map)")
    parser.add_argument("--reference-codes", help="scheme whose label codes the reference holds, e.g. m3m_cr")
    parser.add_argument("--cloud-mask", help="cloud mask raster (nonzero = cloud) for clear/cloudy scores")
    parser.add_argument("--model", help=".onnx, .pt or model name to score over a dataset (instead of --class-map)")
    parser.add_argument("--models-dir", help="folder searched for model names before the bundled models")
    add_dataset_arguments(parser, "test")
    parser.add_argument("--tile-size", type=int, help="window size (default: the model card's)")
    parser.add_argument("--overlap", type=int, help="pixels shared by neighbouring windows (default tile/4)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--output", help="metrics JSON to write (default: print it)")
    parser.add_argument("--plot", help="confusion-matrix PNG to write")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from ..errors import BadParamsError
    from ..evaluation import evaluate_model, evaluate_rasters, finish

    if args.class_map and args.reference:
        metrics = evaluate_rasters(
            args.class_map,
            args.reference,
            classes=args.classes,
            reference_codes=args.reference_codes,
            cloud_mask=args.cloud_mask,
            output=args.output,
            plot=args.plot,
            progress=None if args.quiet else _progress_bar("scoring windows"),
        )
    elif args.model:
        from ..runners import load_runner

        runner = load_runner(args.model, device=args.device, models_dir=args.models_dir)
        dataset = open_from_args(args, args.split)
        progress = None if args.quiet else _progress_bar(f"evaluating {runner.card.name}")
        metrics = evaluate_model(runner, dataset, tile=args.tile_size, overlap=args.overlap, progress=progress)
        metrics = finish(metrics, runner.card.classes, args.output, args.plot)
    else:
        raise BadParamsError("give --class-map and --reference, or --model with a dataset (--dataset, --data)")
    if not args.output:
        print(json.dumps(metrics, indent=2))
    summary = {k: metrics[k] for k in ("oa", "miou", "mean_f1", "kappa")}
    print("evaluate: " + ", ".join(f"{k} {v:.4f}" for k, v in summary.items() if v is not None), file=sys.stderr)
    return 0


def _progress_bar(description: str):
    """A ``progress(done, total)`` callback drawing a terminal progress bar (created on the first call)."""
    from tqdm import tqdm

    bars = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=description, leave=False))
        bars[0].update(done - bars[0].n)

    return progress
