"""``landfuse train``: train a registered model and variant on a dataset, with checkpoints that carry the card.

``--preset`` applies a paper's protocol (``backend/training/recipes.py``); options given on the
command line win over it. ``--init-encoder`` starts the MiT encoders from ImageNet weights.
"""

from __future__ import annotations

import argparse
import json
import sys


def cloud_cover_arg(text: str) -> float | tuple[float, float]:
    values = [float(v) for v in text.split(",")]
    if len(values) not in (1, 2) or not all(0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"cloud cover must be a fraction or low,high in 0..1, got {text!r}")
    return values[0] if len(values) == 1 else (values[0], values[1])


def class_weights_arg(text: str) -> str | tuple[float, ...]:
    if text == "dataset":
        return text
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"class weights must be 'dataset' or w0,w1,... (>= 0), got {text!r}")
    return values


TILED_LAYOUTS = ("folders", "whu_opt_sar", "pie_rgb_sar", "openearthmap_sar")


def add_dataset_arguments(parser: argparse.ArgumentParser, split: str) -> None:
    """Dataset options shared by ``train`` and ``evaluate``."""
    from ..data import DATASETS

    parser.add_argument("--dataset", default="synthetic", choices=[*DATASETS, "synthetic"], help="dataset layout")
    parser.add_argument("--data", help="the dataset's root folder (not needed for synthetic)")
    parser.add_argument("--split", default=split, help=f"split to use (default {split}; none = every sample)")
    parser.add_argument("--scheme", help="class scheme of a generic 'folders' dataset (default dynamic_world)")
    parser.add_argument(
        "--scene-tiles", type=int, help="cut large scenes into tiles of this size (folders, WHU-OPT-SAR, PIE, OEM)"
    )
    parser.add_argument("--synthetic-count", type=int, default=64, help="synthetic scenes per split")
    parser.add_argument("--synthetic-size", type=int, default=128, help="synthetic scene size in pixels")
    parser.add_argument(
        "--cloud-cover", type=cloud_cover_arg, default=(0.3, 0.6), help="synthetic cloud fraction or low,high"
    )


def open_from_args(args: argparse.Namespace, split: str | None):
    """The dataset the command-line options describe, for ``split`` (``"none"`` = every sample)."""
    from ..data import open_dataset
    from ..errors import BadParamsError

    split = None if split in (None, "none") else split
    if args.dataset == "synthetic":
        return open_dataset(
            "synthetic",
            split=split or "train",
            count=args.synthetic_count,
            size=args.synthetic_size,
            cloud_cover=args.cloud_cover,
            seed=getattr(args, "seed", 0),
        )
    options = {"scheme": args.scheme} if args.scheme and args.dataset == "folders" else {}
    if args.scene_tiles:
        if args.dataset not in TILED_LAYOUTS:
            raise BadParamsError(f"--scene-tiles works with {', '.join(TILED_LAYOUTS)}, not {args.dataset}")
        options["tile_size"] = args.scene_tiles
    return open_dataset(args.dataset, args.data, split, **options)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..training.recipes import DEFAULTS, PRESETS

    parser.add_argument("--model", help="architecture: claire, specsar_former, cloudseg, edc, ... (or give --preset)")
    parser.add_argument(
        "--preset", choices=list(PRESETS), help="a paper's training protocol (options given here win over it)"
    )
    parser.add_argument("--variant", help=f"paper or lite (default {DEFAULTS['variant']}, or the preset's)")
    add_dataset_arguments(parser, "train")
    parser.add_argument("--val-split", default="val", help="validation split (default val; none to skip)")
    parser.add_argument("--out", required=True, help="folder for checkpoints (<model>-<variant>.pt, -best.pt)")
    parser.add_argument("--resume", help="checkpoint to continue from")
    parser.add_argument("--init-encoder", metavar="FILE", help="ImageNet MiT weights (mit_b*.pth or nvidia/mit-b*)")
    parser.add_argument("--epochs", type=int, help=f"default {DEFAULTS['epochs']} or the preset's")
    parser.add_argument("--teacher-epochs", type=int, help="teacher epochs for CloudSeg/EDC (default: --epochs)")
    parser.add_argument("--no-distill", action="store_true", help="CloudSeg/EDC: train the student without a teacher")
    parser.add_argument("--batch-size", type=int, help=f"default {DEFAULTS['batch_size']} or the preset's")
    parser.add_argument("--crop-size", type=int, help=f"random crop size in pixels (default {DEFAULTS['crop_size']})")
    parser.add_argument("--crops-per-sample", type=int, default=1)
    parser.add_argument(
        "--flips", action=argparse.BooleanOptionalAction, help="random horizontal/vertical flips (default on)"
    )
    parser.add_argument("--optimiser", choices=["adam", "adamw"], help="default: the architecture's reference")
    parser.add_argument("--lr", type=float, help="base learning rate (default: the reference)")
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--schedule", choices=["step", "poly", "constant"], help="default: the reference")
    parser.add_argument(
        "--class-weights",
        type=class_weights_arg,
        help="RIFT/focal class weights: 'dataset' (inverse frequencies of the training labels) or w0,w1,...",
    )
    parser.add_argument("--validate-every", type=int, help="epochs between validations (default 1)")
    parser.add_argument("--val-crop", type=int, help="validate on centre crops of this size (default: whole samples)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import torch

    from ..training import TrainConfig, train
    from ..training.cards import card_overrides_for
    from ..training.recipes import training_settings

    if args.threads:
        torch.set_num_threads(args.threads)

    given = {
        "variant": args.variant,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "crop_size": args.crop_size,
        "flips": args.flips,
        "optimiser": args.optimiser,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "schedule": args.schedule,
        "distill": False if args.no_distill else None,
        "validate_every": args.validate_every,
        "val_crop": args.val_crop,
    }
    settings = training_settings(args.preset, args.model, given)
    train_set = open_from_args(args, args.split)
    val_set = None if args.val_split == "none" else open_from_args(args, args.val_split)
    config = TrainConfig(
        **settings,
        teacher_epochs=args.teacher_epochs,
        crops_per_sample=args.crops_per_sample,
        seed=args.seed,
        device=args.device,
        init_encoder=args.init_encoder,
        class_weights=args.class_weights,
        preset=args.preset,
        card_overrides=card_overrides_for(settings["architecture"], settings["variant"], train_set),
    )
    result = train(
        config,
        train_set,
        args.out,
        val_set,
        resume=args.resume,
        progress=not args.quiet,
        log=lambda line: print(line, file=sys.stderr),
    )
    print(
        json.dumps(
            {
                "checkpoint": str(result.checkpoint),
                "best": str(result.best_checkpoint or ""),
                "teacher": str(result.teacher_checkpoint or ""),
                "last_epoch": result.history[-1],
            }
        )
    )
    return 0
