"""Training a model from the analyst's reference features, in a time or epoch budget, exported to ONNX.

``train_from_references`` reads windows around the reference features (``samples``), fits the card
to the data (band names from the rasters' band descriptions; normalisation from the training windows:
0.5-99.5 percentile clip, then mean and standard deviation; SAR unit detected from its values; classes,
names and colours from the reference layer), trains any registered architecture and variant with its
own loss (``training.objectives``) and optimiser family (``training.schedules``), by default with a
full-resolution refinement of its logits (``refine``), and exports the weights at the end of the budget
to ONNX with the card inside (``keep="best"``: those of the epoch with the best validation mIoU instead).
The held-out features lie inside clear areas, as the training ones do: their scores peak within the first
epochs and say little about the map between the features, which the last weights map better.

Schedule: linear warm-up over ``WARMUP_ITERATIONS``, then the rate decays linearly to zero over the
budget: iterations for an epoch budget (repeatable: same seed, same model on the same device), elapsed
time for a time budget (the run stops when the time is spent, mid-epoch if need be, and validates once
more). With both, whichever ends first. Validation after every epoch on the held-out features' windows:
overall accuracy, mIoU and per-class accuracy (the share of each class's validation pixels found), which
go into the training report, its curves and the card's ``metrics``.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...common.card import BandSpec, ClassSpec, ModelCard
from ..engine.grid import dataset_grid
from ..engine.inputs import RasterInput, open_raster
from ..engine.normalise import detect_sar_unit
from ..errors import BadParamsError, BandError, CancelledError
from ..evaluation import model_inputs, predict
from ..metrics import confusion_matrix, metrics_from_confusion
from ..models.export import export_onnx
from ..models.registry import build_model, default_card
from ..runners import TorchRunner
from ..training.batches import TrainingCrops
from ..training.loop import pick_device
from ..training.objectives import objective_for
from ..training.schedules import OptimiserSettings, make_optimiser, parameter_groups, reference_settings, set_rates
from .area import area_window, check_mask
from .references import NO_LABEL, Reference, ReferenceClass, class_ids, class_table, read_references
from .refine import Refined
from .samples import (
    BandSelection,
    WindowReader,
    band_specs,
    band_statistics,
    finished_samples,
    holdout_split,
    read_windows,
    select_bands,
)

Progress = Callable[[float, str], None]
WARMUP_ITERATIONS = 10
MIN_ITERATIONS_PER_EPOCH = 4
DEFAULT_TIME_BUDGET_S = 300.0
KEEP = ("last", "best")
REFINED_NOTE = " with its logits refined at full resolution (convolutions on bands and logits) trained by"
READING_SHARE, TRAINING_SHARE = 0.1, 0.85  # progress bar: reading windows, training; the rest exports


@dataclass(frozen=True)
class TrainOptions:
    """How to train. ``epochs`` and ``time_budget_s`` bound the run (neither: ``DEFAULT_TIME_BUDGET_S``).

    window: training crop in pixels (a multiple of the model's size multiple); jitter: how far crops
        move around each feature (default a quarter of ``window``); holdout: share of each class's
        features kept for validation; point_radius: a point labels a square of ``2 r + 1`` pixels;
        lr: base rate (default: ``default_lr``); threads: torch CPU threads
        for the run (0: torch's default); max_windows: bound on the training windows held in memory;
        keep: the weights exported, ``"last"`` (the end of the budget) or ``"best"`` (the epoch of the best
        validation mIoU); refine: train and export the model with a full-resolution refinement of its logits
        (``refine.Refined``; the architecture itself is not changed).
    """

    architecture: str = "claire"
    variant: str = "lite"
    epochs: int | None = None
    time_budget_s: float | None = None
    batch_size: int = 8
    window: int = 64
    jitter: int | None = None
    holdout: float = 0.25
    point_radius: int = 1
    seed: int = 0
    device: str = "auto"
    lr: float | None = None
    init_encoder: str | None = None
    threads: int = 0
    max_windows: int = 512
    keep: str = "last"
    refine: bool = True

    def budget(self) -> tuple[int | None, float | None]:
        """(epochs, seconds): the limits of the run."""
        if self.epochs is None and self.time_budget_s is None:
            return None, DEFAULT_TIME_BUDGET_S
        return self.epochs, self.time_budget_s


@dataclass
class TrainingData:
    """What the reference features give: windows, classes, band selections and counts for the report."""

    train: list
    validation: list
    classes: list[ReferenceClass]
    optical: BandSelection
    sar: BandSelection
    card: ModelCard
    kind: str
    train_features: np.ndarray  # [K] features per class used for training
    validation_features: np.ndarray  # [K]
    outside_area: int


def train_from_references(
    optical: str,
    sar: str,
    references: str,
    output: str | Path,
    *,
    optical_bands: Sequence[int | str] | None = None,
    sar_bands: Sequence[int | str] | None = None,
    classes: Sequence[dict] | None = None,
    options: TrainOptions = TrainOptions(),
    extent: tuple[float, float, float, float] | None = None,
    mask: str | None = None,
    report: str | Path | None = None,
    plot: str | Path | None = None,
    progress: Progress | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> dict:
    """Train ``options.architecture`` / ``options.variant`` on the reference features and export it to ``output``.

    optical, sar: rasters GDAL opens (the SAR raster is read on the optical grid); references: GeoJSON of
    points or polygons with a ``class`` property, in the optical raster's CRS (``references`` module);
    classes: optional ``value``, ``name``, ``color`` entries giving the classes' order, names and colours;
    extent (optical CRS) and mask (GeoJSON polygons): the processing area, outside which references are
    not used. Writes the ONNX model (card inside) to ``output``, the training report (JSON) to ``report``
    and the loss and validation curves (PNG) to ``plot`` when given. Returns the report dict.
    """
    say = progress or (lambda fraction, message: None)
    stop = is_cancelled or (lambda: False)
    started = time.perf_counter()
    previous_threads = torch.get_num_threads()
    if options.threads > 0:
        torch.set_num_threads(options.threads)
    try:
        say(0.0, "reading the reference features")
        data = load_training_data(
            optical,
            sar,
            references,
            options,
            optical_bands=optical_bands,
            sar_bands=sar_bands,
            classes=classes,
            extent=extent,
            mask=mask,
            stop=stop,
        )
        say(READING_SHARE, f"{len(data.train)} training windows, {len(data.validation)} validation windows")
        run = _Run(data, options, say, stop)
        run.train()
        say(READING_SHARE + TRAINING_SHARE, "exporting the model to ONNX")
        card = run.final_card()
        model = run.exported_model()
        export_onnx(model.cpu().eval(), card, output)
    finally:
        torch.set_num_threads(previous_threads)
    result = training_report(data, run, card, time.perf_counter() - started)
    if report:
        Path(report).write_text(json.dumps(result, indent=2, allow_nan=False), encoding="utf-8")
    if plot:
        plot_curves(run.history, plot, card.name)
    say(1.0, "done")
    return result


def load_training_data(
    optical: str,
    sar: str,
    references_path: str,
    options: TrainOptions,
    *,
    optical_bands: Sequence[int | str] | None = None,
    sar_bands: Sequence[int | str] | None = None,
    classes: Sequence[dict] | None = None,
    extent: tuple[float, float, float, float] | None = None,
    mask: str | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> TrainingData:
    """Read the references and the windows around them, split by feature, and fit the card to the data."""
    if options.keep not in KEEP:
        raise BadParamsError(f"keep must be one of {', '.join(KEEP)}, got {options.keep!r}")
    references = read_references(references_path)
    mask = read_references(mask, "mask", with_class=False) if mask else []
    check_mask(mask)
    table = class_table(references, classes)
    if len(table) < 2:
        raise BadParamsError(
            f"the reference features hold one class ({table[0].name}); draw features of at least two classes"
        )
    ids = class_ids(references, table)
    base_card = default_card(options.architecture, options.variant)
    jitter = options.window // 4 if options.jitter is None else options.jitter
    if options.window < 32 or options.window % base_card.size_multiple or not 0 <= 2 * jitter < options.window:
        raise BadParamsError(
            f"the window must be a multiple of {base_card.size_multiple} pixels (at least 32) for {base_card.name} and "
            f"the jitter below half of it, got {options.window} and {jitter}"
        )
    optical_selection = select_bands(optical, optical_bands, "optical")
    sar_selection = select_bands(sar, sar_bands, "SAR")
    with open_raster(optical, "optical") as dataset:
        grid = dataset_grid(dataset, "optical")
    area = area_window(grid, extent, mask)
    inside = np.array([_overlaps(r, grid, area) for r in references])
    held_out = holdout_split(ids, options.holdout, options.seed)
    optical_input = RasterInput(optical, list(optical_selection.indexes), _named(optical_selection), grid, "optical")
    sar_input = RasterInput(sar, list(sar_selection.indexes), _named(sar_selection), grid, "SAR")
    try:
        reader = WindowReader(optical_input, sar_input, grid, area, mask, options.point_radius)
        train_refs = [r for r, keep, val in zip(references, inside, held_out, strict=True) if keep and not val]
        val_refs = [r for r, keep, val in zip(references, inside, held_out, strict=True) if keep and val]
        train_ids = ids[inside & ~held_out]
        val_ids = ids[inside & held_out]
        if not train_refs:
            raise BadParamsError("no reference feature lies inside the processing area; widen the area or draw there")
        train_windows = read_windows(reader, train_refs, train_ids, options.window, jitter, options.max_windows, stop)
        val_windows = read_windows(reader, val_refs, val_ids, options.window, 0, options.max_windows, stop)
    finally:
        optical_input.close()
        sar_input.close()
    if not train_windows:
        raise BadParamsError("no training window holds a labelled pixel with valid optical and SAR data")
    sar_unit = _sar_unit(np.concatenate([w.sample.sar[:, w.valid] for w in train_windows], axis=1).T)
    optical_statistics = band_statistics(train_windows, "optical")
    optical_specs = band_specs(optical_selection.names, "as in the training raster", optical_statistics)
    sar_specs = band_specs(sar_selection.names, sar_unit, band_statistics(train_windows, "sar"))
    kind = "points" if references[0].is_point else "polygons"
    card = _card(base_card, optical_specs, sar_specs, table, grid, len(train_refs), len(val_refs), kind, optical, sar)
    if options.refine:
        card = dataclasses.replace(card, description=card.description.replace(" trained by", REFINED_NOTE, 1))
    counts = np.bincount(train_ids, minlength=len(table)), np.bincount(val_ids, minlength=len(table))
    return TrainingData(
        train=finished_samples(train_windows, optical_specs, sar_specs),
        validation=finished_samples(val_windows, optical_specs, sar_specs),
        classes=table,
        optical=optical_selection,
        sar=sar_selection,
        card=card,
        kind=kind,
        train_features=counts[0],
        validation_features=counts[1],
        outside_area=int((~inside).sum()),
    )


def _sar_unit(values: np.ndarray) -> str:
    """The SAR unit of the training values [n, bands]: dB or linear power as detected; "linear" for values that
    look like neither (amplitude, digital numbers), which the model then takes as they are."""
    try:
        return detect_sar_unit(values) or "dB"
    except BandError:
        return "linear"


def _named(selection: BandSelection) -> tuple[BandSpec, ...]:
    """Placeholder band specs carrying the selection's names (the raster input only needs names and count)."""
    return tuple(BandSpec(name, "", 0.0, 1.0) for name in selection.names)


def _overlaps(reference: Reference, grid, area) -> bool:
    xmin, ymin, xmax, ymax = reference.bounds
    west, north = grid.transform @ (area.col_off, area.row_off)
    east, south = grid.transform @ (area.col_off + area.width, area.row_off + area.height)
    return xmin <= east and xmax >= west and ymin <= north and ymax >= south


def _card(card, optical_specs, sar_specs, table, grid, train_count, val_count, kind, optical, sar) -> ModelCard:
    """``card`` (the architecture's default) fitted to the reference data: bands, classes, pixel size, provenance."""
    date = datetime.date.today().isoformat()
    return dataclasses.replace(
        card,
        optical_bands=optical_specs,
        sar_bands=sar_specs,
        classes=tuple(ClassSpec(i, entry.name, entry.color) for i, entry in enumerate(table)),
        gsd_m=round(math.sqrt(grid.mean_pixel_area()), 3),
        training_data=(
            f"{train_count} training and {val_count} validation reference {kind} of {len(table)} classes drawn on "
            f"{Path(optical).name} + {Path(sar).name} ({date})"
        ),
        licence="as the imagery and reference data it was trained on",
        description=(
            f"{card.architecture} {card.variant} trained by LandFuse from reference {kind} on one scene; its "
            "validation scores are on held-out features of the same scene: assess the map with an independent "
            "sample before use"
        ),
        metrics={},
    )


def labelled_pixels(samples: Sequence, num_classes: int) -> np.ndarray:
    """``int64 [K]``: labelled pixels per class in ``samples`` (255, no label, not counted)."""
    counts = np.zeros(num_classes, np.int64)
    for sample in samples:
        ids = sample.label[sample.label < num_classes]
        counts += np.bincount(ids.ravel(), minlength=num_classes)[:num_classes]
    return counts


def default_lr(optimiser: str, variant: str) -> float:
    """Base rate of a short run: 2e-3 for AdamW (SegFormer family) and 5e-4 for Adam (CloudSeg, EDC, which
    diverge at the higher rate) on lite variants; 3e-4 on the paper sizes."""
    if not variant.startswith("lite"):
        return 3e-4
    return 2e-3 if optimiser == "adamw" else 5e-4


class _Run:
    """One training run: model, optimiser, budget, history, the best epoch and the weights to export."""

    def __init__(self, data: TrainingData, options: TrainOptions, say: Progress, stop: Callable[[], bool]) -> None:
        self.data, self.options, self.say, self.stop = data, options, say, stop
        self.card = data.card
        self.device = pick_device(options.device)
        torch.manual_seed(options.seed)
        model = build_model(self.card)
        if options.init_encoder:
            from ..models.pretrained import init_encoders, read_mit_weights

            init_encoders(model, read_mit_weights(options.init_encoder), Path(options.init_encoder).name)
        if options.refine:
            channels = len(self.card.optical_bands) + len(self.card.sar_bands)
            model = Refined(model, channels, self.card.num_classes)
        self.model = model.to(self.device)
        reference = reference_settings(self.card.architecture)
        lr = options.lr or default_lr(reference.optimiser, self.card.variant)
        self.settings = OptimiserSettings(reference.optimiser, lr, reference.weight_decay, "constant")
        self.optimiser = make_optimiser(parameter_groups(self.model, self.settings), self.settings)
        self.objective = objective_for(self.card)
        self.history: list[dict] = []
        self.best_state: dict | None = None
        self.best_scores: dict | None = None
        self.best_epoch = 0
        self.best_miou = -math.inf
        self.last_scores: dict | None = None
        self.iterations = 0
        self.stopped_by = ""

    def train(self) -> None:
        epochs, seconds = self.options.budget()
        samples = self.data.train
        batch = min(self.options.batch_size, len(samples))
        per_sample = max(1, math.ceil(MIN_ITERATIONS_PER_EPOCH * batch / len(samples)))
        crops = TrainingCrops(samples, self.card, self.options.window, self.options.seed, per_sample)
        per_epoch = len(crops) // batch
        total = per_epoch * epochs if epochs else None
        started = time.perf_counter()

        def spent() -> float:
            by_iterations = self.iterations / total if total else 0.0
            by_time = (time.perf_counter() - started) / seconds if seconds else 0.0
            return min(1.0, max(by_iterations, by_time))

        epoch = 0
        while spent() < 1.0:
            crops.set_epoch(epoch)
            order = torch.Generator().manual_seed(self.options.seed * 100003 + epoch)
            loader = torch.utils.data.DataLoader(crops, batch_size=batch, shuffle=True, drop_last=True, generator=order)
            self.model.train()
            losses = []
            for step_batch in loader:
                if self.stop():
                    raise CancelledError("training was cancelled; no model was written")
                fraction = spent()
                if fraction >= 1.0:
                    break
                warm = min(1.0, (self.iterations + 1) / WARMUP_ITERATIONS)
                set_rates(self.optimiser, self.settings.lr * warm * (1.0 - fraction))
                loss = self._step(step_batch)
                self.iterations += 1
                if loss is not None:
                    losses.append(loss)
                    self.say(READING_SHARE + TRAINING_SHARE * spent(), f"epoch {epoch + 1}, loss {loss:.4f}")
            epoch += 1
            if losses:
                self._end_epoch(epoch, float(np.mean(losses)), time.perf_counter() - started)
        self.stopped_by = "epochs" if total and self.iterations >= total else "time"

    def _step(self, batch: dict) -> float | None:
        """One optimiser step; ``None`` for a batch without a labelled pixel (crops of windows at the raster's
        edge may miss their feature), which is skipped."""
        if bool((batch["label"] == NO_LABEL).all()):
            return None
        batch = {key: value.to(self.device) for key, value in batch.items()}
        outputs = self.model(batch.get("optical"), batch.get("sar"))
        loss, parts = self.objective(outputs, batch, None)
        if not torch.isfinite(loss):
            raise BadParamsError(f"the training loss became {float(loss)}: lower the learning rate")
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        return parts["total"]

    def _end_epoch(self, epoch: int, loss: float, elapsed: float) -> None:
        record = {"epoch": epoch, "iterations": self.iterations, "loss": loss, "seconds": round(elapsed, 2)}
        scores = self.validate()
        if scores is not None:
            record["validation"] = {"oa": scores["oa"], "miou": scores["miou"]}
        self.history.append(record)
        self.last_scores = scores
        miou = scores["miou"] if scores is not None and scores["miou"] is not None else -math.inf
        if self.best_epoch == 0 or miou >= self.best_miou:
            self.best_miou, self.best_epoch, self.best_scores = miou, epoch, scores
            if self.options.keep == "best":
                self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def validate(self) -> dict | None:
        """LandFuse metrics of the model on the validation windows (None without validation features)."""
        if not self.data.validation:
            return None
        runner = TorchRunner(self.model, self.card, "cpu" if self.device.type == "cpu" else "cuda")
        matrix = np.zeros((self.card.num_classes,) * 2, np.int64)
        for sample in self.data.validation:
            probabilities, _ = predict(runner, model_inputs(sample, self.card), tile=None)
            matrix += confusion_matrix(sample.label, probabilities.argmax(axis=0), self.card.num_classes)
        return metrics_from_confusion(matrix, self.card.classes)

    @property
    def exported_epoch(self) -> int:
        return self.best_epoch if self.options.keep == "best" else len(self.history)

    @property
    def exported_scores(self) -> dict | None:
        return self.best_scores if self.options.keep == "best" else self.last_scores

    def exported_model(self) -> torch.nn.Module:
        """The weights ``options.keep`` names: those at the end of the budget or of the best epoch."""
        if not self.history:
            raise BadParamsError("the budget ended before one training step: give more time or epochs")
        model = copy.deepcopy(self.model)
        if self.options.keep == "best":
            model.load_state_dict(self.best_state)
        return model

    def final_card(self) -> ModelCard:
        scores = self.exported_scores
        if scores is None:
            return self.card
        validation = {
            "oa": scores["oa"],
            "miou": scores["miou"],
            "epoch": self.exported_epoch,
            "per_class_accuracy": {entry["name"]: entry["recall"] for entry in scores["per_class"]},
            "pixels": scores["pixels"],
            "features": int(self.data.validation_features.sum()),
        }
        return dataclasses.replace(self.card, metrics={"validation_on_held_out_features": validation})


def training_report(data: TrainingData, run: _Run, card: ModelCard, seconds: float) -> dict:
    """The training report: model card, budget, reference counts, per-class validation scores, history."""
    scores = run.exported_scores
    per_class = {entry["id"]: entry for entry in (scores or {}).get("per_class", [])}
    train_pixels = labelled_pixels(data.train, card.num_classes)
    validation_pixels = labelled_pixels(data.validation, card.num_classes)
    classes = []
    for class_id, (entry, spec) in enumerate(zip(data.classes, card.classes, strict=True)):
        scored = per_class.get(class_id, {})
        classes.append(
            {
                "id": class_id,
                "name": spec.name,
                "color": spec.color,
                "value": entry.value,
                "train_features": int(data.train_features[class_id]),
                "validation_features": int(data.validation_features[class_id]),
                "train_pixels": int(train_pixels[class_id]),
                "validation_pixels": int(validation_pixels[class_id]),
                "validation_accuracy": scored.get("recall"),
                "validation_iou": scored.get("iou"),
            }
        )
    epochs, budget_s = run.options.budget()
    return {
        "landfuse_training_report": 1,
        "model": card.to_dict(),
        "device": str(run.device),
        "seconds": round(seconds, 2),
        "budget": {"epochs": epochs, "seconds": budget_s, "stopped_by": run.stopped_by},
        "epochs": len(run.history),
        "iterations": run.iterations,
        "best_epoch": run.best_epoch,
        "exported_epoch": run.exported_epoch,
        "keep": run.options.keep,
        "refined": run.options.refine,
        "reference": {
            "kind": data.kind,
            "train_features": int(data.train_features.sum()),
            "validation_features": int(data.validation_features.sum()),
            "outside_area": data.outside_area,
            "train_windows": len(data.train),
            "validation_windows": len(data.validation),
            "optical_bands": list(data.optical.names),
            "sar_bands": list(data.sar.names),
        },
        "classes": classes,
        "validation": scores,
        "history": run.history,
    }


def plot_curves(history: Sequence[dict], path: str | Path, title: str) -> Path:
    """Training loss and validation OA / mIoU per epoch, as a PNG (matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    epochs = [record["epoch"] for record in history]
    figure, (loss_axes, score_axes) = plt.subplots(1, 2, figsize=(9, 3.4))
    loss_axes.plot(epochs, [record["loss"] for record in history], marker="o", color="#444444")
    loss_axes.set(xlabel="epoch", ylabel="training loss", title=f"{title}: training loss")
    scored = [record for record in history if record.get("validation")]
    for key, colour in (("oa", "#1f78b4"), ("miou", "#e31a1c")):
        values = [record["validation"][key] for record in scored]
        score_axes.plot([record["epoch"] for record in scored], values, marker="o", color=colour, label=key.upper())
    score_axes.set(xlabel="epoch", ylabel="score", ylim=(0, 1), title="validation (held-out features)")
    if scored:
        score_axes.legend(loc="lower right")
    else:
        score_axes.text(0.5, 0.5, "no validation features", ha="center", va="center", transform=score_axes.transAxes)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
