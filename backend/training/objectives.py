"""Each architecture's own training loss, behind one call: ``objective(outputs, batch, teacher_features)``.

- CloudSeg, EDC: ``CE + 1.0 x error-weighted Charbonnier (reconstruction vs. cloud-free optical,
  weight 1 + 5 x cloud mask) + 1.0 x masked hint (student vs. frozen-teacher features on clear
  pixels)``; the teacher trains with CE alone (terms whose inputs are absent are left out). The EDC
  student adds ``0.1 x`` the cloud-mask supervision of its discrepancy maps (``discrepancy_loss``)
  on the samples that have a mask.
- SpecSAR-Former: focal loss (gamma 2).
- CLAIRE: RIFT (weighted focal + Tversky, per-batch inverse-frequency class weights).
- Anything else (baselines): cross-entropy.

``class_weights`` (``train --class-weights``: dataset-level weights, e.g. the inverse frequencies of
the training set's labels) replace the per-batch weights of RIFT and weight the focal loss.

All ignore label 255; logits are resized bilinearly onto the label grid when it differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ...common.card import ModelCard
from ..errors import BadParamsError
from ..models.losses.cloud import CloudDistillationLoss, discrepancy_loss
from ..models.losses.segmentation import FocalLoss, RIFTLoss

DISTILLED_ARCHITECTURES = ("cloudseg", "edc")
WEIGHTED_ARCHITECTURES = ("claire", "specsar_former")  # losses that take class weights
DISCREPANCY_WEIGHT = 0.1
DISCREPANCY_OUTPUTS = ("discrepancy", "discrepancy_2", "discrepancy_3", "discrepancy_4")
Objective = Callable[[dict[str, Tensor], dict[str, Tensor], Tensor | None], tuple[Tensor, dict[str, float]]]


def _on_label_grid(logits: Tensor, label: Tensor) -> Tensor:
    if logits.shape[-2:] == label.shape[-2:]:
        return logits
    return F.interpolate(logits, size=label.shape[-2:], mode="bilinear", align_corners=False)


def objective_for(card: ModelCard, class_weights: Sequence[float] | None = None) -> Objective:
    """The loss of ``card.architecture`` (see the module docstring) as an ``Objective``."""
    if class_weights is not None and card.architecture not in WEIGHTED_ARCHITECTURES:
        raise BadParamsError(
            f"--class-weights weight the RIFT (claire) and focal (specsar_former) losses; {card.architecture} "
            "trains with cross-entropy: leave --class-weights out"
        )
    if class_weights is not None and len(class_weights) != card.num_classes:
        raise BadParamsError(
            f"--class-weights needs {card.num_classes} values (one per class of the card), got {len(class_weights)}"
        )
    if card.architecture in DISTILLED_ARCHITECTURES:
        loss = CloudDistillationLoss()
        supervise_discrepancy = card.architecture == "edc" and not card.variant.endswith("_teacher")

        def distilled(outputs, batch, teacher_features=None):
            terms = loss(outputs, batch["label"], batch.get("optical_clear"), batch["cloud_mask"], teacher_features)
            if not supervise_discrepancy:
                return terms.total, terms.parts
            maps = [outputs[name] for name in DISCREPANCY_OUTPUTS if name in outputs]
            mask_term = discrepancy_loss(maps, batch["cloud_mask"], batch["has_cloud_mask"])
            if mask_term is None:
                return terms.total, terms.parts
            total = terms.total + DISCREPANCY_WEIGHT * mask_term
            return total, {**terms.parts, "discrepancy": float(mask_term.detach()), "total": float(total.detach())}

        return distilled
    segmentation = {
        "specsar_former": FocalLoss(gamma=2.0, class_weights=class_weights),
        "claire": RIFTLoss(class_weights=class_weights),
    }.get(card.architecture)
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
