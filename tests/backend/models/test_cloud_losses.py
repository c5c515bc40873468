"""CloudSeg/EDC losses against values computed by hand on tiny tensors."""

import math

import pytest
import torch

from landfuse.backend.models.losses.cloud import (
    CloudDistillationLoss,
    charbonnier_loss,
    discrepancy_loss,
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


def test_discrepancy_loss_is_the_cross_entropy_against_the_cloud_fraction_of_each_cell():
    cloud = torch.zeros(2, 4, 4)
    cloud[:, :2, :2] = 1.0  # one of the four 2 x 2 cells is cloudy
    fine = torch.full((2, 1, 2, 2), 0.5)  # a 2 x 2 map: targets 1, 0, 0, 0
    coarse = torch.full((2, 1, 1, 1), 0.25)  # a 1 x 1 map: target 0.25
    per_cell = -math.log(0.5)
    coarse_value = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    expected = (per_cell + coarse_value) / 2
    value = discrepancy_loss([fine, coarse], cloud, torch.tensor([1.0, 1.0]))
    assert value.item() == pytest.approx(expected, rel=1e-6)
    only_first = discrepancy_loss([fine, coarse], cloud, torch.tensor([1.0, 0.0]))
    assert only_first.item() == pytest.approx(expected, rel=1e-6)  # a sample without a mask does not count
    assert discrepancy_loss([fine], cloud, torch.zeros(2)) is None
