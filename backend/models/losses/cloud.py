"""Losses of the cloud-aware models (CloudSeg, EDC), as in the official CloudSeg code.

Shapes: ``logits [B, K, h, w]``, ``target`` int ``[B, H', W']`` (255 = no label), optical images
``[B, C, H, W]`` normalised like the model input, ``cloud_mask [B, H, W]`` or ``[B, 1, H, W]``
with 1 = cloud, 0 = clear, distillation features ``[B, F, H, W]``.

- ``segmentation_loss``: cross-entropy with ignore index 255. When the label grid differs from the
  logits (M3M-CR labels are at 10 m, optical at 3 m), the logits are first resized bilinearly
  (``align_corners=False``) to the label grid, as the official code does.
- ``charbonnier_loss`` (ECCharbonnier): ``mean(w * ((pred - clear)^2 + eps^2)^alpha)`` with
  ``w = 1 + 5 * cloud_mask``, ``alpha = 0.45``, ``eps = 1e-3``, mean over ``B x C x H x W``.
- ``masked_hint_loss`` (MaskHint): ``mean((student - teacher)^2 * (1 - cloud_mask))`` over
  ``B x F x H x W``: cloudy pixels add zero but count in the denominator; the teacher is detached.
- ``CloudDistillationLoss``: ``CE + 1.0 * CR + 1.0 * KD`` (``CR_weight = KD_weight = 1``).
- ``discrepancy_loss`` (EDC, our choice): binary cross-entropy of each discrepancy map
  ``[B, 1, h, w]`` (0..1, 1 = optical and SAR disagree) against the cloud fraction of its cells (the
  mask average-pooled to ``h x w``), over the samples that have a cloud mask, averaged over maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

IGNORE_INDEX = 255


def _mask_4d(cloud_mask: Tensor) -> Tensor:
    mask = cloud_mask.float()
    return mask.unsqueeze(1) if mask.dim() == 3 else mask


def segmentation_loss(logits: Tensor, target: Tensor, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Cross-entropy of ``logits [B, K, h, w]`` against ``target [B, H', W']`` (resized logits if needed)."""
    if logits.shape[2:] != target.shape[1:]:
        logits = F.interpolate(logits, size=target.shape[1:], mode="bilinear", align_corners=False)
    return F.cross_entropy(logits, target.long(), ignore_index=ignore_index)


def charbonnier_loss(
    prediction: Tensor,
    clear: Tensor,
    cloud_mask: Tensor,
    alpha: float = 0.45,
    eps: float = 1e-3,
    cloud_weight: float = 5.0,
) -> Tensor:
    """Error-weighted Charbonnier of the cloud-removal output against the cloud-free image."""
    weight = 1.0 + cloud_weight * _mask_4d(cloud_mask)
    return (weight * ((prediction - clear) ** 2 + eps**2) ** alpha).mean()


def masked_hint_loss(student: Tensor, teacher: Tensor, cloud_mask: Tensor) -> Tensor:
    """FitNets hint on clear pixels only: squared feature error weighted by ``1 - cloud_mask``."""
    return ((student - teacher.detach()) ** 2 * (1.0 - _mask_4d(cloud_mask))).mean()


def discrepancy_loss(maps: list[Tensor], cloud_mask: Tensor, has_mask: Tensor) -> Tensor | None:
    """Cloud-mask supervision of discrepancy maps; ``has_mask [B]`` is 1 for samples with a real mask.

    Returns ``None`` when no sample of the batch has a mask (the term is then left out).
    """
    weights = has_mask.float().flatten()
    if not maps or float(weights.sum()) == 0.0:
        return None
    mask = _mask_4d(cloud_mask)
    per_map = []
    for discrepancy in maps:
        target = F.adaptive_avg_pool2d(mask, discrepancy.shape[2:])
        error = F.binary_cross_entropy(discrepancy.float(), target, reduction="none").mean(dim=(1, 2, 3))
        per_map.append((error * weights).sum() / weights.sum())
    return sum(per_map) / len(per_map)


@dataclass
class LossTerms:
    """The total (to back-propagate) and its parts (detached floats for logging)."""

    total: Tensor
    parts: dict[str, float]


class CloudDistillationLoss(nn.Module):
    """Student loss ``CE + cr_weight * Charbonnier + kd_weight * masked hint``.

    ``forward(outputs, target, clear=None, cloud_mask=None, teacher_features=None)``: ``outputs`` is
    the model's dict. The cloud-removal term needs ``outputs["reconstruction"]``, ``clear`` and
    ``cloud_mask``; the hint term needs ``outputs["features"]``, ``teacher_features`` and
    ``cloud_mask``. A term whose inputs are absent is left out, so the same loss trains the teacher
    (CE only).
    """

    def __init__(self, cr_weight: float = 1.0, kd_weight: float = 1.0, ignore_index: int = IGNORE_INDEX) -> None:
        super().__init__()
        self.cr_weight = cr_weight
        self.kd_weight = kd_weight
        self.ignore_index = ignore_index

    def forward(
        self,
        outputs: dict[str, Tensor],
        target: Tensor,
        clear: Tensor | None = None,
        cloud_mask: Tensor | None = None,
        teacher_features: Tensor | None = None,
    ) -> LossTerms:
        ce = segmentation_loss(outputs["logits"], target, self.ignore_index)
        total, parts = ce, {"ce": float(ce.detach())}
        if "reconstruction" in outputs and clear is not None and cloud_mask is not None:
            cr = charbonnier_loss(outputs["reconstruction"], clear, cloud_mask)
            total = total + self.cr_weight * cr
            parts["cr"] = float(cr.detach())
        if "features" in outputs and teacher_features is not None and cloud_mask is not None:
            kd = masked_hint_loss(outputs["features"], teacher_features, cloud_mask)
            total = total + self.kd_weight * kd
            parts["kd"] = float(kd.detach())
        parts["total"] = float(total.detach())
        return LossTerms(total, parts)
