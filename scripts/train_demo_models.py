"""Reproduce the demo weights: train the four ``lite`` models on the synthetic benchmark, export ONNX.

    python scripts/train_demo_models.py [--models cloudseg edc ...] [--out resources/models] [--work DIR]

Each model is trained with ``backend.training.demo.DemoRecipe`` (the same data, crops, epochs and
seed for all) and written to ``<out>/<arch>-lite.onnx`` with a card that says "synthetic training
data: demonstration only, not for mapping" and holds the held-out synthetic scores. Checkpoints stay
in ``--work``. On 2 CPU cores each model takes a few minutes; a GPU is used when torch sees one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from landfuse.backend.training.demo import (
    BUNDLED_MODELS,
    DEMO_ARCHITECTURES,
    DemoRecipe,
    export_demo_model,
    train_demo_model,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(DEMO_ARCHITECTURES), choices=DEMO_ARCHITECTURES)
    parser.add_argument("--out", type=Path, default=BUNDLED_MODELS, help="folder for the ONNX files")
    parser.add_argument("--work", type=Path, help="folder for checkpoints (default: a temporary folder)")
    parser.add_argument("--epochs", type=int, help="override the recipe's epochs (for a quick trial)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1, see below)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    # One thread by default: on a busy 2-core machine two OpenMP threads spin against each other and
    # a training step took ten times longer than with one.
    torch.set_num_threads(args.threads)
    recipe = DemoRecipe() if args.epochs is None else DemoRecipe(epochs=args.epochs)
    with tempfile.TemporaryDirectory() as temporary:
        work = args.work or Path(temporary)
        for architecture in args.models:
            started = time.perf_counter()
            result = train_demo_model(
                architecture,
                work / architecture,
                recipe,
                progress=not args.quiet,
                log=lambda line: print(line, file=sys.stderr),
            )
            path = export_demo_model(result, recipe, args.out)
            summary = {
                "model": architecture,
                "onnx": str(path),
                "megabytes": round(path.stat().st_size / 1e6, 2),
                "validation": result.card.metrics.get("validation"),
                "minutes": round((time.perf_counter() - started) / 60, 1),
            }
            print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
