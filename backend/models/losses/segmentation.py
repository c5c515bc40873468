"""Segmentation losses for imbalanced land cover: focal, Tversky and RIFT (focal + Tversky).

Shapes: ``logits`` float ``[B, K, H, W]``; ``target`` integer ``[B, H, W]`` with class ids ``0..K-1``
and ``ignore_index`` (255, the LandFuse nodata value) for pixels that carry no label. Ignored pixels
take no part in any sum or mean. Every loss returns a scalar tensor; when no pixel is labelled it
returns ``0`` still attached to the graph, so a training step never sees ``nan``.

Conventions, written out because the papers that use these losses do not state them:

- Focal loss (Lin et al. 2017): ``-(1/N) sum_i w_{y_i} a_{y_i} (1 - p_{i,y_i})^gamma log p_{i,y_i}``
  over the ``N`` labelled pixels. ``alpha`` is a scalar (uniform factor) or one value per class;
  ``class_weights`` are a second per-class factor (the "weighted" focal loss of RIFT). The mean is
  over pixels, not over the sum of weights, as in the RIFT formula.
- Tversky loss (Salehi et al. 2017) on soft probabilities:
  ``1 - mean_c TP_c / (TP_c + alpha FP_c + beta FN_c + eps)``, the mean taken over the classes that
  occur in the labelled pixels of the batch. A class absent from the batch has ``TP = FN = 0`` and
  its index would be 0 whatever the prediction: a constant that would only inflate the loss, so it
  is left out (its false positives are still penalised by the focal term).
- Inverse-frequency class weights: ``w_c = N / (K_present * n_c)`` for the classes with ``n_c > 0``
  pixels and ``0`` for absent ones, so the pixel-weighted mean weight is 1 and the loss keeps the
  scale of the unweighted one.
- RIFT (Rare-Instance Focal-Tversky, CLAIRE): ``lambda * weighted focal + (1 - lambda) * Tversky``
  with defaults ``gamma = 2``, Tversky ``alpha = 0.3``, ``beta = 0.7``, ``lambda = 0.5`` and
  inverse-frequency weights from the batch unless fixed weights (e.g. from the training-set
  histogram) are given. All of these are reconstruction defaults: the paper does not state them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IGNORE_INDEX = 255


def class_pixel_counts(target: Tensor, num_classes: int, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Labelled pixels per class: ``target [B, H, W]`` -> float ``[K]`` (ignored pixels not counted)."""
    valid = target[target != ignore_index]
    return torch.bincount(valid.flatten().long(), minlength=num_classes)[:num_classes].float()


def inverse_frequency_weights(counts: Tensor) -> Tensor:
    """Class weights ``N / (K_present * n_c)`` from pixel counts ``[K]``; absent classes get 0."""
    counts = counts.float()
    present = counts > 0
    num_present = int(present.sum())
    if num_present == 0:
        return torch.zeros_like(counts)
    total = counts.sum()
    return torch.where(present, total / (num_present * counts.clamp_min(1.0)), torch.zeros_like(counts))


def _per_class(value: float | Sequence[float] | Tensor | None, num_classes: int, like: Tensor) -> Tensor | None:
    if value is None:
        return None
    tensor = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if tensor.ndim == 0:
        return tensor.expand(num_classes)
    if tensor.shape != (num_classes,):
        raise ValueError(f"expected a scalar or {num_classes} per-class values, got shape {tuple(tensor.shape)}")
    return tensor


def focal_loss(
    logits: Tensor,
    target: Tensor,
    gamma: float = 2.0,
    alpha: float | Sequence[float] | Tensor | None = None,
    class_weights: Sequence[float] | Tensor | None = None,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Mean focal loss over labelled pixels. ``logits [B, K, H, W]``, ``target [B, H, W]`` -> scalar."""
    num_classes = logits.shape[1]
    valid = target != ignore_index
    if not bool(valid.any()):
        return logits.sum() * 0.0
    log_probs = F.log_softmax(logits.float(), dim=1)
    labels = torch.where(valid, target, torch.zeros_like(target)).long()
    log_pt = log_probs.gather(1, labels.unsqueeze(1)).squeeze(1)[valid]
    pt = log_pt.exp()
    loss = -((1.0 - pt).clamp_min(0.0) ** gamma) * log_pt
    labels_valid = labels[valid]
    for factor in (_per_class(alpha, num_classes, loss), _per_class(class_weights, num_classes, loss)):
        if factor is not None:
            loss = loss * factor[labels_valid]
    return loss.mean()


def tversky_loss(
    logits: Tensor,
    target: Tensor,
    alpha: float = 0.3,
    beta: float = 0.7,
    eps: float = 1e-6,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Soft multi-class Tversky loss averaged over classes present in the labelled pixels -> scalar.

    ``alpha`` weighs false positives, ``beta`` false negatives (``beta > alpha`` favours recall).
    """
    num_classes = logits.shape[1]
    valid = target != ignore_index
    if not bool(valid.any()):
        return logits.sum() * 0.0
    probs = F.softmax(logits.float(), dim=1).permute(0, 2, 3, 1)[valid]  # [N, K]
    onehot = F.one_hot(target[valid].long(), num_classes).to(probs.dtype)  # [N, K]
    tp = (probs * onehot).sum(0)
    fp = (probs * (1.0 - onehot)).sum(0)
    fn = ((1.0 - probs) * onehot).sum(0)
    index = tp / (tp + alpha * fp + beta * fn + eps)
    present = onehot.sum(0) > 0
    return 1.0 - index[present].mean()


class FocalLoss(nn.Module):
    """Focal loss module (SpecSAR-Former's objective); see :func:`focal_loss`."""

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | Sequence[float] | None = None,
        class_weights: Sequence[float] | None = None,
        ignore_index: int = IGNORE_INDEX,
    ) -> None:
        super().__init__()
        self.gamma = gamma
        self.alpha = alpha
        self.ignore_index = ignore_index
        weights = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
        self.register_buffer("class_weights", weights, persistent=False)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return focal_loss(logits, target, self.gamma, self.alpha, self.class_weights, self.ignore_index)


class TverskyLoss(nn.Module):
    """Tversky loss module; see :func:`tversky_loss`."""

    def __init__(self, alpha: float = 0.3, beta: float = 0.7, ignore_index: int = IGNORE_INDEX) -> None:
        super().__init__()
        self.alpha, self.beta, self.ignore_index = alpha, beta, ignore_index

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return tversky_loss(logits, target, self.alpha, self.beta, ignore_index=self.ignore_index)


class RIFTLoss(nn.Module):
    """Rare-Instance Focal-Tversky loss (CLAIRE): ``lambda * weighted focal + (1 - lambda) * Tversky``.

    ``class_weights`` fixes the focal class weights (e.g. ``inverse_frequency_weights`` of the training
    set histogram); when ``None`` they are computed from each batch's labelled pixels.
    """

    def __init__(
        self,
        lambda_: float = 0.5,
        gamma: float = 2.0,
        alpha: float = 0.3,
        beta: float = 0.7,
        class_weights: Sequence[float] | None = None,
        ignore_index: int = IGNORE_INDEX,
    ) -> None:
        super().__init__()
        if not 0.0 <= lambda_ <= 1.0:
            raise ValueError(f"lambda_ must be in [0, 1], got {lambda_}")
        self.lambda_, self.gamma, self.alpha, self.beta = lambda_, gamma, alpha, beta
        self.ignore_index = ignore_index
        weights = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
        self.register_buffer("class_weights", weights, persistent=False)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        weights = self.class_weights
        if weights is None:
            weights = inverse_frequency_weights(class_pixel_counts(target, logits.shape[1], self.ignore_index))
        focal = focal_loss(logits, target, self.gamma, None, weights.to(logits.device), self.ignore_index)
        tversky = tversky_loss(logits, target, self.alpha, self.beta, ignore_index=self.ignore_index)
        return self.lambda_ * focal + (1.0 - self.lambda_) * tversky
