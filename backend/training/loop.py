"""The training loop: any registered model and variant, its own loss, teacher then student for CloudSeg/EDC.

``train(config, train_set, out_dir, val_set)`` runs, for CloudSeg and EDC with distillation on:

1. the teacher (``<variant>_teacher``: no spatial gate, no cloud-removal head) on the cloud-free
   optical image + SAR, cross-entropy only; saved as ``<out>/<arch>-<variant>_teacher.pt``;
2. the student on the cloudy optical image + SAR with CE + reconstruction + masked hint against the
   frozen teacher's features (teacher fed the cloud-free image), saved as ``<out>/<arch>-<variant>.pt``.

Other models train in one phase. ``init_encoder`` starts every phase's MiT encoders from ImageNet
weights (``models.pretrained``; the report goes to the log). Every epoch: random crops and
(unless ``flips=False``) flips (``TrainingCrops``), the rate from the schedule per iteration (times
each parameter group's ``lr_mult``), a progress bar, the mean loss terms, validation metrics (mIoU,
OA, and on cloudy/clear pixels when the validation set has cloud masks; on centre crops of
``val_crop`` px when set) every ``validate_every`` epochs, and a checkpoint
``{"card", "state_dict", "optimizer", "phase", "epoch", "history", "config", "teacher_checkpoint",
"torch_rng"}`` written atomically; ``-best.pt`` keeps the best validation mIoU. ``resume`` continues
from a checkpoint's next epoch with the same crops, shuffling and rates as an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ...common.card import ModelCard
from ..data.sample import Sample
from ..errors import BadParamsError, MissingWeightsError
from ..evaluation import evaluate_model
from ..models.losses.segmentation import class_pixel_counts, inverse_frequency_weights
from ..models.pretrained import MiTWeights, init_encoders, read_mit_weights
from ..models.registry import build_model, default_card, list_models
from ..runners import TorchRunner
from .batches import CentreCrops, TrainingCrops
from .objectives import DISTILLED_ARCHITECTURES, objective_for
from .schedules import (
    OptimiserSettings,
    lr_factor,
    make_optimiser,
    parameter_groups,
    reference_settings,
    set_rates,
)

Log = Callable[[str], None]


@dataclass
class TrainConfig:
    """What to train and how. ``None`` optimiser fields take the architecture's reference settings."""

    architecture: str
    variant: str = "lite"
    epochs: int = 30
    teacher_epochs: int | None = None
    batch_size: int = 8
    crop_size: int = 128
    crops_per_sample: int = 1
    optimiser: str | None = None
    lr: float | None = None
    weight_decay: float | None = None
    schedule: str | None = None
    distill: bool = True
    seed: int = 0
    device: str = "auto"
    validate_every: int = 1
    card_overrides: dict = field(default_factory=dict)
    flips: bool = True
    val_crop: int | None = None  # validate on centre crops of this size (None: whole samples)
    head_lr_mult: float | None = None  # rate multiplier of the decode head (None: 1)
    norm_weight_decay: float | None = None  # weight decay of normalisation weights (None: weight_decay)
    init_encoder: str | None = None  # ImageNet MiT weights for the encoders
    class_weights: str | tuple[float, ...] | None = None  # "dataset" or one weight per class
    preset: str | None = None

    def optimiser_settings(self) -> OptimiserSettings:
        reference = reference_settings(self.architecture)
        return OptimiserSettings(
            self.optimiser or reference.optimiser,
            reference.lr if self.lr is None else self.lr,
            reference.weight_decay if self.weight_decay is None else self.weight_decay,
            self.schedule or reference.schedule,
            reference.head_lr_mult if self.head_lr_mult is None else self.head_lr_mult,
            self.norm_weight_decay,
        )


@dataclass
class TrainResult:
    checkpoint: Path
    best_checkpoint: Path | None
    card: ModelCard
    history: list[dict]
    teacher_checkpoint: Path | None = None


def pick_device(device: str) -> torch.device:
    """``auto``: the first CUDA device when torch sees one, else the CPU."""
    if device == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BadParamsError("device 'cuda' was asked for but torch sees no CUDA device: use --device cpu or auto")
    return torch.device(device)


def teacher_variant(architecture: str, variant: str) -> str | None:
    """The registered teacher variant of a distilled architecture (``lite`` -> ``lite_teacher``), if any."""
    wanted = f"{variant}_teacher"
    registered = architecture in DISTILLED_ARCHITECTURES and (architecture, wanted) in list_models()
    return wanted if registered else None


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write ``payload`` with ``torch.save`` to a temporary name, then rename (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def load_checkpoint(path: str | Path) -> dict:
    """A training checkpoint (``weights_only`` load, memory-mapped: tensors are read from the file when used);
    ``MissingWeightsError`` when it is not one."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except (OSError, RuntimeError, EOFError) as exc:
        raise MissingWeightsError(f"cannot read checkpoint {path}: {exc}") from exc
    if not isinstance(checkpoint, dict) or "card" not in checkpoint or "state_dict" not in checkpoint:
        raise MissingWeightsError(f"{path} is not a LandFuse checkpoint (no card and state_dict)")
    return checkpoint


class ClearOptical:
    """A view of a dataset whose optical image is the cloud-free one (to train and score teachers)."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Sample:
        sample = self.dataset[index]
        if sample.optical_clear is None:
            return sample
        return dataclasses.replace(sample, optical=sample.optical_clear)


def _summary(metrics: dict) -> dict:
    summary = {"miou": metrics["miou"], "oa": metrics["oa"]}
    for region in ("clear", "cloudy"):
        if region in metrics:
            summary[f"{region}_miou"] = metrics[region]["miou"]
    for key in ("psnr", "ssim"):
        if key in metrics:
            summary[key] = metrics[key]
    return summary


def dataset_class_weights(dataset, num_classes: int, log: Log) -> tuple[float, ...]:
    """Inverse-frequency class weights ``N / (K_present * n_c)`` from every label of ``dataset``."""
    counts = torch.zeros(num_classes)
    for index in range(len(dataset)):
        counts += class_pixel_counts(torch.from_numpy(dataset[index].label.astype("int64")), num_classes)
    weights = tuple(round(float(w), 6) for w in inverse_frequency_weights(counts))
    log(f"class weights from {len(dataset)} training samples ({int(counts.sum())} labelled pixels): {weights}")
    return weights


class _Phase:
    """One model trained for some epochs: the teacher or the student (or the only phase)."""

    def __init__(
        self,
        name: str,
        card: ModelCard,
        config: TrainConfig,
        device: torch.device,
        log: Log,
        progress: bool,
        class_weights: tuple[float, ...] | None = None,
    ) -> None:
        self.name, self.card, self.config, self.device, self.log, self.progress = (
            name,
            card,
            config,
            device,
            log,
            progress,
        )
        torch.manual_seed(config.seed)
        self.model: nn.Module = build_model(card).to(device)
        self.settings = config.optimiser_settings()
        self.optimiser = make_optimiser(parameter_groups(self.model, self.settings), self.settings)
        self.objective = objective_for(card, class_weights)
        self.history: list[dict] = []
        self.start_epoch = 0
        self.best_miou = -math.inf

    def start_from(self, weights: MiTWeights, source: str) -> None:
        """Load ImageNet MiT weights into the model's encoders and log what was loaded and what was not."""
        report = init_encoders(self.model, weights, source)
        for line in report.lines():
            self.log(f"{self.name}: {line}")

    def restore(self, checkpoint: dict) -> None:
        self.model.load_state_dict(checkpoint["state_dict"])
        self.optimiser.load_state_dict(checkpoint["optimizer"])
        self.history = list(checkpoint.get("history", []))
        self.start_epoch = int(checkpoint["epoch"])
        torch.set_rng_state(checkpoint["torch_rng"])
        scores = [h["val"]["miou"] for h in self.history if h.get("val") and h["val"]["miou"] is not None]
        self.best_miou = max(scores, default=-math.inf)

    def run(
        self,
        train_set,
        val_set,
        epochs: int,
        path: Path,
        teacher: nn.Module | None = None,
        teacher_path: Path | None = None,
    ) -> Path | None:
        """Train epochs ``start_epoch..epochs-1``, checkpointing to ``path``; returns the best checkpoint."""
        crops = TrainingCrops(
            train_set,
            self.card,
            self.config.crop_size,
            self.config.seed,
            self.config.crops_per_sample,
            self.config.flips,
        )
        if len(crops) < self.config.batch_size:
            raise BadParamsError(
                f"{len(crops)} training crops per epoch is fewer than the batch size {self.config.batch_size}: "
                "lower --batch-size or raise --crops-per-sample"
            )
        per_epoch = len(crops) // self.config.batch_size
        total = per_epoch * epochs
        best = path.with_name(path.stem + "-best.pt")
        optical_key = "optical_clear" if self.name == "teacher" else "optical"
        for epoch in range(self.start_epoch, epochs):
            started = time.perf_counter()
            crops.set_epoch(epoch)
            order = torch.Generator().manual_seed(self.config.seed * 100003 + epoch)
            loader = torch.utils.data.DataLoader(
                crops, batch_size=self.config.batch_size, shuffle=True, drop_last=True, generator=order
            )
            self.model.train()
            sums: dict[str, float] = {}
            bar = _progress_bar(loader, f"{self.card.name} epoch {epoch + 1}/{epochs}", self.progress)
            for step, batch in enumerate(bar):
                lr = self.settings.lr * lr_factor(self.settings.schedule, epoch * per_epoch + step, per_epoch, total)
                set_rates(self.optimiser, lr)
                batch = {k: v.to(self.device) for k, v in batch.items()}
                optical = batch.get(optical_key) if self.card.optical_bands else None
                outputs = self.model(optical, batch.get("sar"))
                teacher_features = None
                if teacher is not None:
                    with torch.no_grad():
                        teacher_features = teacher(batch["optical_clear"], batch.get("sar"), return_features=True)[
                            "features"
                        ]
                loss, parts = self.objective(outputs, batch, teacher_features)
                if not torch.isfinite(loss):
                    raise BadParamsError(f"the loss became {float(loss)} at epoch {epoch + 1}: lower the learning rate")
                self.optimiser.zero_grad(set_to_none=True)
                loss.backward()
                self.optimiser.step()
                for key, value in parts.items():
                    sums[key] = sums.get(key, 0.0) + value
                if hasattr(bar, "set_postfix"):
                    bar.set_postfix(loss=f"{parts['total']:.4f}", lr=f"{lr:.2e}")
            record = {
                "phase": self.name,
                "epoch": epoch + 1,
                "lr": lr,
                "loss": {k: v / per_epoch for k, v in sums.items()},
                "seconds": 0.0,
            }
            validate = val_set is not None and ((epoch + 1) % self.config.validate_every == 0 or epoch + 1 == epochs)
            if validate:
                scored = ClearOptical(val_set) if self.name == "teacher" else val_set
                scored = CentreCrops(scored, self.config.val_crop) if self.config.val_crop else scored
                record["val"] = _summary(evaluate_model(TorchRunner(self.model, self.card, str(self.device)), scored))
            record["seconds"] = round(time.perf_counter() - started, 2)
            self.history.append(record)
            payload = self.payload(epoch + 1, teacher_path)
            save_checkpoint(path, payload)
            miou = record.get("val", {}).get("miou")
            if miou is not None and miou > self.best_miou:
                self.best_miou = miou
                save_checkpoint(best, payload)
            self.log(json.dumps(record))
        return best if best.exists() else None

    def payload(self, epoch: int, teacher_path: Path | None) -> dict:
        return {
            "card": self.card_with_metrics().to_dict(),
            "state_dict": self.model.state_dict(),
            "optimizer": self.optimiser.state_dict(),
            "phase": self.name,
            "epoch": epoch,
            "history": self.history,
            "config": dataclasses.asdict(self.config),
            "teacher_checkpoint": str(teacher_path) if teacher_path else None,
            "torch_rng": torch.get_rng_state(),
        }

    def card_with_metrics(self) -> ModelCard:
        """The card with the latest validation summary in ``metrics`` (when there is one)."""
        scored = [h for h in self.history if h.get("val")]
        if not scored:
            return self.card
        last = scored[-1]
        metrics = {**self.card.metrics, "validation": {**last["val"], "epoch": last["epoch"]}}
        return dataclasses.replace(self.card, metrics=metrics)


def _progress_bar(loader, description: str, enabled: bool):
    if not enabled:
        return loader
    from tqdm import tqdm

    return tqdm(loader, desc=description, leave=False, dynamic_ncols=True)


def train(
    config: TrainConfig,
    train_set,
    out_dir: str | Path,
    val_set=None,
    *,
    resume: str | Path | None = None,
    progress: bool = True,
    log: Log = print,
) -> TrainResult:
    """Train ``config.architecture``/``config.variant`` on ``train_set`` (a ``Sample`` dataset); see module doc."""
    device = pick_device(config.device)
    out_dir = Path(out_dir)
    card = default_card(config.architecture, config.variant, **config.card_overrides)
    path = out_dir / f"{card.name}.pt"
    state = load_checkpoint(resume) if resume else None
    resumed_phase = state.get("phase") if state else None
    weights = read_mit_weights(config.init_encoder) if config.init_encoder else None
    source = Path(config.init_encoder).name if config.init_encoder else ""
    class_weights = config.class_weights
    if class_weights == "dataset":
        class_weights = dataset_class_weights(train_set, card.num_classes, log)
    distill = config.distill and resumed_phase != "model"  # a run resumed without its teacher stays without
    teacher_name = teacher_variant(config.architecture, config.variant) if distill else None
    teacher_model, teacher_path = None, None
    if teacher_name:
        teacher_card = default_card(config.architecture, teacher_name, **config.card_overrides)
        phase = _Phase("teacher", teacher_card, config, device, log, progress, class_weights)
        if resumed_phase == "student":
            teacher_path = Path(state["teacher_checkpoint"])
            phase.model.load_state_dict(load_checkpoint(teacher_path)["state_dict"])
        else:
            teacher_path = out_dir / f"{teacher_card.name}.pt"
            if state is not None:
                phase.restore(state)
                state = None
            elif weights is not None:
                phase.start_from(weights, source)
            phase.run(train_set, val_set, config.teacher_epochs or config.epochs, teacher_path)
        teacher_model = phase.model.eval()
        for parameter in teacher_model.parameters():
            parameter.requires_grad_(False)
    name = "student" if teacher_model is not None else "model"
    phase = _Phase(name, card, config, device, log, progress, class_weights)
    if state is not None:
        phase.restore(state)
    elif weights is not None:
        phase.start_from(weights, source)
    best = phase.run(train_set, val_set, config.epochs, path, teacher_model, teacher_path)
    return TrainResult(path, best, phase.card_with_metrics(), phase.history, teacher_path)
