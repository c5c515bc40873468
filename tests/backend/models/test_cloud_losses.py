"""CloudSeg/EDC losses against values computed by hand on tiny tensors."""

import math

import pytest
import torch

from landfuse.backend.models.losses.cloud import (
    CloudDistillationLoss,
    charbonnier_loss,
    masked_hint_loss,
    segmentation_loss,
)


def test_charbonnier_weights_cloudy_pixels_six_times():
    prediction = torch.tensor([[[[0.0, 1.0]]]])  # B=1, C=1, H=1, W=2
    clear = torch.zeros(1, 1, 1, 2)
    cloud = torch.tensor([[[1.0, 0.0]]])  # first pixel cloudy
    expected = (6 * (0.0 + 1e-6) ** 0.45 + 1 * (1.0 + 1e-6) ** 0.45) / 2
    assert charbonnier_loss(prediction, clear, cloud).item() == pytest.approx(expected, rel=1e-6)


def test_charbonnier_mean_runs_over_channels():
    prediction = torch.full((1, 2, 1, 1), 2.0)
    clear = torch.zeros(1, 2, 1, 1)
    expected = (4 + 1e-6) ** 0.45  # both channels equal, clear pixel: weight 1
    assert charbonnier_loss(prediction, clear, torch.zeros(1, 1, 1)).item() == pytest.approx(expected, rel=1e-6)


def test_masked_hint_counts_cloudy_pixels_in_the_denominator_and_detaches_the_teacher():
    student = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    teacher = torch.zeros(1, 1, 2, 2, requires_grad=True)
    cloud = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    loss = masked_hint_loss(student, teacher, cloud)
    assert loss.item() == pytest.approx((4 + 9 + 16) / 4)
    loss.backward()
    assert teacher.grad is None and student.grad[0, 0, 0, 0] == 0


def test_cross_entropy_ignores_255_and_resizes_logits_to_the_label_grid():
    logits = torch.zeros(1, 3, 1, 2)
    logits[0, 1, 0, 1] = 5.0
    target = torch.tensor([[[0, 255]]])
    assert segmentation_loss(logits, target).item() == pytest.approx(math.log(3))
    coarse = torch.tensor([[[2]]])  # 1 x 1 label grid, logits 2 x 2 constant
    constant = torch.zeros(1, 3, 2, 2)
    constant[:, 2] = math.log(2.0)
    assert segmentation_loss(constant, coarse).item() == pytest.approx(-math.log(2 / 4))


def test_total_is_ce_plus_cr_plus_kd_with_unit_weights():
    logits = torch.zeros(1, 2, 1, 1)
    outputs = {"logits": logits, "reconstruction": torch.ones(1, 1, 1, 1), "features": torch.full((1, 1, 1, 1), 3.0)}
    terms = CloudDistillationLoss()(
        outputs,
        target=torch.tensor([[[1]]]),
        clear=torch.zeros(1, 1, 1, 1),
        cloud_mask=torch.zeros(1, 1, 1),
        teacher_features=torch.ones(1, 1, 1, 1),
    )
    ce, cr, kd = math.log(2), (1 + 1e-6) ** 0.45, 4.0
    assert terms.parts["ce"] == pytest.approx(ce)
    assert terms.parts["cr"] == pytest.approx(cr, rel=1e-6)
    assert terms.parts["kd"] == pytest.approx(kd)
    assert terms.total.item() == pytest.approx(ce + cr + kd, rel=1e-6)


def test_teacher_loss_is_cross_entropy_only():
    terms = CloudDistillationLoss()({"logits": torch.zeros(1, 4, 1, 1)}, torch.tensor([[[3]]]))
    assert set(terms.parts) == {"ce", "total"} and terms.total.item() == pytest.approx(math.log(4))
