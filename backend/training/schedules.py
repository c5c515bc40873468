"""Optimisers and learning-rate schedules of the reference implementations.

- ``step`` (CloudSeg, EDC): Adam, lr 1e-4, no weight decay; the official code calls ``StepLR(5, 0.5)``
  once per epoch only from epoch 5 on, so with 0-based epochs the rate during epoch ``e`` is
  ``lr * 0.5 ** (max(0, e - 5) // 5)``: it first halves for epoch 10 (after epochs 9, 14, 19, 24).
- ``poly`` (SegFormer family: SpecSAR-Former, CLAIRE): AdamW, lr 6e-5, weight decay 0.01, linear
  warm-up then ``lr * (1 - t / T) ** 1.0`` per iteration (mmsegmentation's SegFormer schedule). The
  reference warm-up is 1500 iterations; it is capped at a tenth of the run so short runs still
  spend most iterations at full rate.

The rate is a pure function of the iteration, so a resumed run needs no scheduler state.
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


def reference_settings(architecture: str) -> OptimiserSettings:
    """The reference optimiser and schedule for an architecture (see the module docstring)."""
    if architecture in STEP_ARCHITECTURES:
        return OptimiserSettings("adam", 1e-4, 0.0, "step")
    return OptimiserSettings("adamw", 6e-5, 0.01, "poly")


def make_optimiser(parameters, settings: OptimiserSettings) -> torch.optim.Optimizer:
    """Adam or AdamW over ``parameters`` with the settings' rate and weight decay."""
    if settings.optimiser == "adam":
        return torch.optim.Adam(parameters, lr=settings.lr, weight_decay=settings.weight_decay)
    if settings.optimiser == "adamw":
        return torch.optim.AdamW(parameters, lr=settings.lr, weight_decay=settings.weight_decay)
    raise BadParamsError(f"optimiser must be 'adam' or 'adamw', got {settings.optimiser!r}")


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
