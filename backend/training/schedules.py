"""Optimisers and learning-rate schedules of the reference implementations.

- ``step`` (CloudSeg, EDC): Adam, lr 1e-4, no weight decay; the official code calls ``StepLR(5, 0.5)``
  once per epoch only from epoch 5 on, so with 0-based epochs the rate during epoch ``e`` is
  ``lr * 0.5 ** (max(0, e - 5) // 5)``: it first halves for epoch 10 (after epochs 9, 14, 19, 24).
- ``poly`` (SegFormer family: SpecSAR-Former, CLAIRE): AdamW, lr 6e-5, weight decay 0.01, linear
  warm-up then ``lr * (1 - t / T) ** 1.0`` per iteration (mmsegmentation's SegFormer schedule). The
  reference warm-up is 1500 iterations; it is capped at a tenth of the run so short runs still
  spend most iterations at full rate.

The rate is a pure function of the iteration, so a resumed run needs no scheduler state.

Parameter groups (``parameter_groups``) follow mmsegmentation's ``paramwise_cfg`` of the SegFormer
recipe when asked: the decode head (parameters under ``decoder.``) at ``head_lr_mult`` x the rate
(SegFormer: 10) and normalisation weights (names containing ``norm``) with ``norm_weight_decay``
(SegFormer: 0). Each group carries its ``lr_mult``; the loop sets ``lr = rate x lr_mult``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import BadParamsError

STEP_ARCHITECTURES = ("cloudseg", "edc")
REFERENCE_WARMUP = 1500


@dataclass(frozen=True)
class OptimiserSettings:
    optimiser: str
    lr: float
    weight_decay: float
    schedule: str
    head_lr_mult: float = 1.0
    norm_weight_decay: float | None = None  # None: the same as weight_decay


def reference_settings(architecture: str) -> OptimiserSettings:
    """The reference optimiser and schedule for an architecture (see the module docstring)."""
    if architecture in STEP_ARCHITECTURES:
        return OptimiserSettings("adam", 1e-4, 0.0, "step")
    return OptimiserSettings("adamw", 6e-5, 0.01, "poly")


def parameter_groups(model: torch.nn.Module, settings: OptimiserSettings) -> list[dict]:
    """The model's trainable parameters in groups ``{"params", "lr_mult", "weight_decay"}`` (module docstring)."""
    norm_decay = settings.weight_decay if settings.norm_weight_decay is None else settings.norm_weight_decay
    groups: dict[tuple[float, float], list] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        lr_mult = settings.head_lr_mult if name.startswith("decoder.") else 1.0
        decay = norm_decay if "norm" in name else settings.weight_decay
        groups.setdefault((lr_mult, decay), []).append(parameter)
    return [{"params": params, "lr_mult": mult, "weight_decay": decay} for (mult, decay), params in groups.items()]


def make_optimiser(groups, settings: OptimiserSettings) -> torch.optim.Optimizer:
    """Adam or AdamW over parameter ``groups`` (or plain parameters) with the settings' rate and weight decay."""
    if settings.optimiser == "adam":
        return torch.optim.Adam(groups, lr=settings.lr, weight_decay=settings.weight_decay)
    if settings.optimiser == "adamw":
        return torch.optim.AdamW(groups, lr=settings.lr, weight_decay=settings.weight_decay)
    raise BadParamsError(f"optimiser must be 'adam' or 'adamw', got {settings.optimiser!r}")


def set_rates(optimiser: torch.optim.Optimizer, lr: float) -> None:
    """Set every group's rate to ``lr`` times its ``lr_mult`` (1 when the group has none)."""
    for group in optimiser.param_groups:
        group["lr"] = lr * group.get("lr_mult", 1.0)


def lr_factor(schedule: str, iteration: int, iterations_per_epoch: int, total_iterations: int) -> float:
    """Multiplier of the base rate at global ``iteration`` (0-based) of a run of ``total_iterations``."""
    if schedule == "step":
        epoch = iteration // max(iterations_per_epoch, 1)
        return 0.5 ** (max(0, epoch - 5) // 5)
    if schedule == "poly":
        warmup = min(REFERENCE_WARMUP, total_iterations // 10)
        poly = max(0.0, 1.0 - iteration / max(total_iterations, 1))
        return poly * min(1.0, (iteration + 1) / warmup) if warmup else poly
    if schedule == "constant":
        return 1.0
    raise BadParamsError(f"schedule must be 'step', 'poly' or 'constant', got {schedule!r}")
