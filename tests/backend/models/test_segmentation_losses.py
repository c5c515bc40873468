"""Focal, Tversky and RIFT losses against values worked out by hand on a 4-pixel image.

The image has 3 classes; logits are ``log(p)`` so the softmax returns the probabilities below exactly:

    pixel  p(water, trees, grass)  label
    0      0.50  0.25  0.25        0
    1      0.25  0.50  0.25        1
    2      0.80  0.10  0.10        0
    3      0.20  0.20  0.60        255 (ignored)

Class 2 never occurs among the labelled pixels (the absent class); pixel 3 is nodata.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from landfuse.backend.models.losses.segmentation import (
    FocalLoss,
    RIFTLoss,
    TverskyLoss,
    class_pixel_counts,
    focal_loss,
    inverse_frequency_weights,
    tversky_loss,
)

PROBS = [[0.50, 0.25, 0.25], [0.25, 0.50, 0.25], [0.80, 0.10, 0.10], [0.20, 0.20, 0.60]]
LABELS = [0, 1, 0, 255]

# Per-pixel focal terms with gamma = 2: -(1 - p_t)^2 * ln p_t
FOCAL_0 = 0.5**2 * math.log(2.0)
FOCAL_1 = 0.5**2 * math.log(2.0)
FOCAL_2 = 0.2**2 * -math.log(0.8)
# Inverse frequency: counts (2, 1, 0), N = 3, two classes present -> w = 3 / (2 n_c)
W0, W1 = 3 / (2 * 2), 3 / (2 * 1)
# Tversky (alpha 0.3 on FP, beta 0.7 on FN), class 2 absent so only classes 0 and 1 are averaged
TI_0 = 1.3 / (1.3 + 0.3 * 0.25 + 0.7 * 0.7)  # TP 0.5 + 0.8, FP 0.25, FN 0.5 + 0.2
TI_1 = 0.5 / (0.5 + 0.3 * 0.35 + 0.7 * 0.5)  # TP 0.5, FP 0.25 + 0.1, FN 0.5
TVERSKY = 1 - (TI_0 + TI_1) / 2


def _batch(requires_grad: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    logits = torch.tensor(PROBS).log().T.reshape(1, 3, 1, 4).clone().requires_grad_(requires_grad)
    target = torch.tensor(LABELS).reshape(1, 1, 4)
    return logits, target


def test_focal_matches_hand_values_and_skips_ignored_pixel():
    logits, target = _batch()
    assert focal_loss(logits, target).item() == pytest.approx((FOCAL_0 + FOCAL_1 + FOCAL_2) / 3, rel=1e-5)
    logits[0, :, 0, 3] = torch.tensor([9.0, -9.0, 3.0])  # the nodata pixel must not matter
    assert focal_loss(logits, target).item() == pytest.approx((FOCAL_0 + FOCAL_1 + FOCAL_2) / 3, rel=1e-5)


def test_focal_alpha_scalar_and_per_class():
    logits, target = _batch()
    base = (FOCAL_0 + FOCAL_1 + FOCAL_2) / 3
    assert FocalLoss(alpha=0.25)(logits, target).item() == pytest.approx(0.25 * base, rel=1e-5)
    per_class = FocalLoss(alpha=[1.0, 3.0, 5.0])(logits, target).item()
    assert per_class == pytest.approx((FOCAL_0 + 3 * FOCAL_1 + FOCAL_2) / 3, rel=1e-5)


def test_focal_with_gamma_zero_is_cross_entropy():
    logits, target = _batch()
    expected = F.cross_entropy(logits, target, ignore_index=255).item()
    assert focal_loss(logits, target, gamma=0.0).item() == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx((2 * math.log(2.0) - math.log(0.8)) / 3, rel=1e-6)


def test_inverse_frequency_weights_give_absent_class_zero():
    _, target = _batch()
    counts = class_pixel_counts(target, 3)
    assert counts.tolist() == [2.0, 1.0, 0.0]
    assert inverse_frequency_weights(counts).tolist() == pytest.approx([W0, W1, 0.0])
    assert inverse_frequency_weights(torch.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_tversky_matches_hand_value_and_leaves_absent_class_out():
    logits, target = _batch()
    assert tversky_loss(logits, target).item() == pytest.approx(TVERSKY, rel=1e-5)
    assert TverskyLoss(alpha=0.5, beta=0.5)(logits, target).item() == pytest.approx(
        1 - (1.3 / (1.3 + 0.5 * 0.25 + 0.5 * 0.7) + 0.5 / (0.5 + 0.5 * 0.35 + 0.5 * 0.5)) / 2, rel=1e-5
    )


def test_rift_is_lambda_mix_of_weighted_focal_and_tversky():
    logits, target = _batch(requires_grad=True)
    weighted_focal = (W0 * FOCAL_0 + W1 * FOCAL_1 + W0 * FOCAL_2) / 3
    loss = RIFTLoss()(logits, target)
    assert loss.item() == pytest.approx(0.5 * weighted_focal + 0.5 * TVERSKY, rel=1e-5)
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad[0, :, 0, 3].abs().max().item() == 0.0  # nodata pixel gets no gradient
    fixed = RIFTLoss(lambda_=0.25, class_weights=[1.0, 2.0, 4.0])(logits.detach(), target).item()
    assert fixed == pytest.approx(0.25 * (FOCAL_0 + 2 * FOCAL_1 + FOCAL_2) / 3 + 0.75 * TVERSKY, rel=1e-5)


def test_all_pixels_ignored_gives_zero_with_gradient():
    logits = torch.randn(2, 4, 3, 5, requires_grad=True)
    target = torch.full((2, 3, 5), 255)
    for loss_fn in (FocalLoss(), TverskyLoss(), RIFTLoss()):
        loss = loss_fn(logits, target)
        assert loss.item() == 0.0
        loss.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_bad_configuration_is_rejected():
    logits, target = _batch()
    with pytest.raises(ValueError, match="3 per-class values"):
        focal_loss(logits, target, alpha=[1.0, 2.0])
    with pytest.raises(ValueError, match="lambda_"):
        RIFTLoss(lambda_=1.5)
