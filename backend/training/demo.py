"""The demo weights: ``lite`` models trained on the synthetic benchmark and exported to ONNX.

One recipe for every architecture, small enough for a CPU in minutes (see ``DemoRecipe``): random
64 px crops of 96 px synthetic scenes with 0-60 % cloud cover, the architecture's own loss,
teacher-then-student for CloudSeg and EDC, the reference optimiser (Adam for CloudSeg/EDC, AdamW for
the SegFormer family) at a higher rate than the reference's (which is tuned for long GPU runs) and a
poly decay. The held-out scores (validation split, 30-60 % cloud) go into the card's ``metrics``;
the card says the training data are synthetic and for demonstration only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ...common.card import ModelCard
from ..data import open_dataset
from ..evaluation import evaluate_model
from ..models.export import export_onnx
from ..models.presets import DEMO_TRAINING_DATA
from ..models.registry import build_model
from .loop import TrainConfig, TrainResult, load_checkpoint, train

DEMO_ARCHITECTURES = ("claire", "specsar_former", "cloudseg", "edc")
BUNDLED_MODELS = Path(__file__).resolve().parents[2] / "resources" / "models"
HALF_MIN_ELEMENTS = 1024


@dataclass(frozen=True)
class DemoRecipe:
    """Data and optimisation of the demo training runs (the same for every architecture)."""

    train_scenes: int = 96
    scene_size: int = 96
    train_cloud_cover: tuple[float, float] = (0.0, 0.6)
    val_scenes: int = 4
    val_size: int = 128
    val_cloud_cover: tuple[float, float] = (0.3, 0.6)
    crop_size: int = 64
    batch_size: int = 8
    epochs: int = 40
    teacher_epochs: int = 12
    lr: float = 2e-3
    schedule: str = "poly"
    seed: int = 0


def demo_datasets(recipe: DemoRecipe):
    """(training scenes, held-out validation scenes) of the synthetic benchmark."""
    train_set = open_dataset(
        "synthetic",
        split="train",
        count=recipe.train_scenes,
        size=recipe.scene_size,
        cloud_cover=recipe.train_cloud_cover,
        seed=recipe.seed,
    )
    val_set = open_dataset(
        "synthetic",
        split="val",
        count=recipe.val_scenes,
        size=recipe.val_size,
        cloud_cover=recipe.val_cloud_cover,
        seed=recipe.seed,
    )
    return train_set, val_set


def train_demo_model(
    architecture: str,
    out_dir: str | Path,
    recipe: DemoRecipe = DemoRecipe(),
    *,
    variant: str = "lite",
    distill: bool = True,
    card_overrides: dict | None = None,
    view: Callable | None = None,
    progress: bool = True,
    log=print,
) -> TrainResult:
    """Train ``architecture``/``variant`` with the demo recipe; checkpoints go to ``out_dir``.

    ``view`` (dataset -> dataset) changes what the model sees in training and validation, e.g. a
    copy of the scenes without SAR information for an ablation.
    """
    train_set, val_set = demo_datasets(recipe)
    if view is not None:
        train_set, val_set = view(train_set), view(val_set)
    config = TrainConfig(
        architecture=architecture,
        variant=variant,
        epochs=recipe.epochs,
        teacher_epochs=recipe.teacher_epochs,
        batch_size=recipe.batch_size,
        crop_size=recipe.crop_size,
        lr=recipe.lr,
        schedule=recipe.schedule,
        distill=distill,
        seed=recipe.seed,
        device="auto",
        validate_every=recipe.epochs,
        card_overrides=card_overrides or {},
    )
    return train(config, train_set, out_dir, val_set, progress=progress, log=log)


def demo_card(result: TrainResult, recipe: DemoRecipe) -> ModelCard:
    """The trained card with the demo statement, the recipe and the held-out scores."""
    card = result.card
    validation = card.metrics.get("validation", {})
    metrics = {
        "synthetic_validation": validation,
        "evaluated_on": (
            f"{recipe.val_scenes} held-out synthetic scenes of {recipe.val_size} px, "
            f"{int(recipe.val_cloud_cover[0] * 100)}-{int(recipe.val_cloud_cover[1] * 100)} % cloud cover"
        ),
    }
    description = (
        f"{card.description}. Demo weights trained for {recipe.epochs} epochs on {recipe.train_scenes} synthetic "
        f"scenes ({recipe.crop_size} px crops) by scripts/train_demo_models.py; they show the workflow and are "
        "not a land-cover product. Weights stored as float16 in the ONNX file (computation in float32)."
    )
    return dataclasses.replace(card, training_data=DEMO_TRAINING_DATA, metrics=metrics, description=description)


def export_demo_model(result: TrainResult, recipe: DemoRecipe, out_dir: str | Path = BUNDLED_MODELS) -> Path:
    """Export the trained student/model as ``<out_dir>/<arch>-lite.onnx`` with the demo card, float16 weights."""
    card = demo_card(result, recipe)
    model = build_model(card)
    model.load_state_dict(load_checkpoint(result.checkpoint)["state_dict"])
    return store_weights_as_float16(export_onnx(model.eval(), card, Path(out_dir) / f"{card.name}.onnx"))


def store_weights_as_float16(path: Path, min_elements: int = HALF_MIN_ELEMENTS) -> Path:
    """Rewrite an ONNX file with its large float32 weights stored as float16, cast back at load time.

    Halves the file (the demo files ship in the repository) while inputs, outputs and arithmetic
    stay float32; each weight of at least ``min_elements`` values becomes a float16 initializer
    followed by a ``Cast`` to float32 under the original name. Metadata (the card) is kept.
    """
    model = onnx.load(str(path))
    graph = model.graph
    casts, kept = [], []
    for initializer in graph.initializer:
        values = numpy_helper.to_array(initializer)
        if initializer.data_type != onnx.TensorProto.FLOAT or values.size < min_elements:
            kept.append(initializer)
            continue
        half = numpy_helper.from_array(values.astype(np.float16), f"{initializer.name}__float16")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [initializer.name], to=onnx.TensorProto.FLOAT))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save_model(model, str(path), save_as_external_data=False)
    return path


def held_out_scores(runner, recipe: DemoRecipe) -> dict:
    """mIoU overall, on cloudy and on clear pixels of the validation scenes, for any runner."""
    metrics = evaluate_model(runner, demo_datasets(recipe)[1])
    return {"miou": metrics["miou"], "cloudy_miou": metrics["cloudy"]["miou"], "clear_miou": metrics["clear"]["miou"]}
