"""The training loop: any registered model and variant, its own loss, teacher then student for CloudSeg/EDC.

``train(config, train_set, out_dir, val_set)`` runs, for CloudSeg and EDC with distillation on:

1. the teacher (``<variant>_teacher``: no spatial gate, no cloud-removal head) on the cloud-free
   optical image + SAR, cross-entropy only; saved as ``<out>/<arch>-<variant>_teacher.pt``;
2. the student on the cloudy optical image + SAR with CE + reconstruction + masked hint against the
   frozen teacher's features (teacher fed the cloud-free image), saved as ``<out>/<arch>-<variant>.pt``.

Other models train in one phase. Every epoch: random crops and flips (``TrainingCrops``), the rate
from the reference schedule per iteration, a progress bar, the mean loss terms, validation metrics
(mIoU, OA, and on cloudy/clear pixels when the validation set has cloud masks), and a checkpoint
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ...common.card import ModelCard
from ..data.sample import Sample
from ..errors import BadParamsError, MissingWeightsError
from ..evaluation import evaluate_model
from ..models.registry import build_model, default_card, list_models
from ..runners import TorchRunner
from .batches import TrainingCrops
from .objectives import DISTILLED_ARCHITECTURES, objective_for
from .schedules import OptimiserSettings, lr_factor, make_optimiser, reference_settings

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

    def optimiser_settings(self) -> OptimiserSettings:
        reference = reference_settings(self.architecture)
        return OptimiserSettings(
            self.optimiser or reference.optimiser,
            reference.lr if self.lr is None else self.lr,
            reference.weight_decay if self.weight_decay is None else self.weight_decay,
            self.schedule or reference.schedule,
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
    """A training checkpoint (``weights_only`` load); ``MissingWeightsError`` when it is not one."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
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


class _Phase:
    """One model trained for some epochs: the teacher or the student (or the only phase)."""

    def __init__(
        self, name: str, card: ModelCard, config: TrainConfig, device: torch.device, log: Log, progress: bool
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
        self.optimiser = make_optimiser(self.model.parameters(), self.settings)
        self.objective = objective_for(card)
        self.history: list[dict] = []
        self.start_epoch = 0
        self.best_miou = -math.inf

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
            train_set, self.card, self.config.crop_size, self.config.seed, self.config.crops_per_sample
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
                for group in self.optimiser.param_groups:
                    group["lr"] = lr
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
    distill = config.distill and resumed_phase != "model"  # a run resumed without its teacher stays without
    teacher_name = teacher_variant(config.architecture, config.variant) if distill else None
    teacher_model, teacher_path = None, None
    if teacher_name:
        teacher_card = default_card(config.architecture, teacher_name, **config.card_overrides)
        phase = _Phase("teacher", teacher_card, config, device, log, progress)
        if resumed_phase == "student":
            teacher_path = Path(state["teacher_checkpoint"])
            phase.model.load_state_dict(load_checkpoint(teacher_path)["state_dict"])
        else:
            teacher_path = out_dir / f"{teacher_card.name}.pt"
            if state is not None:
                phase.restore(state)
                state = None
            phase.run(train_set, val_set, config.teacher_epochs or config.epochs, teacher_path)
        teacher_model = phase.model.eval()
        for parameter in teacher_model.parameters():
            parameter.requires_grad_(False)
    phase = _Phase("student" if teacher_model is not None else "model", card, config, device, log, progress)
    if state is not None:
        phase.restore(state)
    best = phase.run(train_set, val_set, config.epochs, path, teacher_model, teacher_path)
    return TrainResult(path, best, phase.card_with_metrics(), phase.history, teacher_path)
