"""Each architecture's own training loss, behind one call: ``objective(outputs, batch, teacher_features)``.

- CloudSeg, EDC: ``CE + 1.0 x error-weighted Charbonnier (reconstruction vs. cloud-free optical,
  weight 1 + 5 x cloud mask) + 1.0 x masked hint (student vs. frozen-teacher features on clear
  pixels)``; the teacher trains with CE alone (terms whose inputs are absent are left out).
- SpecSAR-Former: focal loss (gamma 2).
- CLAIRE: RIFT (weighted focal + Tversky, per-batch inverse-frequency class weights).
- Anything else (baselines): cross-entropy.

All ignore label 255; logits are resized bilinearly onto the label grid when it differs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ...common.card import ModelCard
from ..models.losses.cloud import CloudDistillationLoss
from ..models.losses.segmentation import FocalLoss, RIFTLoss

DISTILLED_ARCHITECTURES = ("cloudseg", "edc")
Objective = Callable[[dict[str, Tensor], dict[str, Tensor], Tensor | None], tuple[Tensor, dict[str, float]]]


def _on_label_grid(logits: Tensor, label: Tensor) -> Tensor:
    if logits.shape[-2:] == label.shape[-2:]:
        return logits
    return F.interpolate(logits, size=label.shape[-2:], mode="bilinear", align_corners=False)


def objective_for(card: ModelCard) -> Objective:
    """The loss of ``card.architecture`` (see the module docstring) as an ``Objective``."""
    if card.architecture in DISTILLED_ARCHITECTURES:
        loss = CloudDistillationLoss()

        def distilled(outputs, batch, teacher_features=None):
            terms = loss(outputs, batch["label"], batch.get("optical_clear"), batch["cloud_mask"], teacher_features)
            return terms.total, terms.parts

        return distilled
    segmentation = {"specsar_former": FocalLoss(gamma=2.0), "claire": RIFTLoss()}.get(card.architecture)
    name = {"specsar_former": "focal", "claire": "rift"}.get(card.architecture, "ce")

    def plain(outputs, batch, teacher_features=None):
        logits = _on_label_grid(outputs["logits"], batch["label"])
        if segmentation is None:
            value = F.cross_entropy(logits, batch["label"], ignore_index=255)
        else:
            value = segmentation(logits, batch["label"])
        return value, {name: float(value.detach()), "total": float(value.detach())}

    return plain


def loss_is_finite(value: Tensor) -> bool:
    return bool(torch.isfinite(value).all())
