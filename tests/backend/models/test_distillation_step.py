"""One optimisation step of the teacher, then of the student with the frozen teacher, lowers the loss."""

import pytest
import torch

from landfuse.backend.models.losses.cloud import CloudDistillationLoss
from landfuse.backend.models.registry import build_model, default_card


def _batch(card, seed=0):
    generator = torch.Generator().manual_seed(seed)
    shape = (2, len(card.optical_bands), 64, 64)
    clear = torch.randn(shape, generator=generator)
    cloud = torch.zeros(2, 64, 64)
    cloud[:, :32] = 1.0
    cloudy = clear * (1 - cloud[:, None]) + 2.0 * cloud[:, None]
    return {
        "optical": cloudy,
        "optical_clear": clear,
        "sar": torch.randn(2, len(card.sar_bands), 64, 64, generator=generator),
        "label": torch.randint(0, card.num_classes, (2, 64, 64), generator=generator),
        "cloud_mask": cloud,
    }


def _step(model, loss_of):
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    before = loss_of()
    optimiser.zero_grad()
    before.backward()
    optimiser.step()
    with torch.no_grad():
        after = loss_of()
    return before.item(), after.item()


@pytest.mark.parametrize("name", ["cloudseg", "edc"])
def test_teacher_then_student_step_lowers_the_loss(name):
    torch.manual_seed(0)
    loss = CloudDistillationLoss()
    teacher = build_model(default_card(name, "lite_teacher")).train()
    student_card = default_card(name, "lite")
    batch = _batch(student_card)

    before, after = _step(teacher, lambda: loss(teacher(batch["optical_clear"], batch["sar"]), batch["label"]).total)
    assert after < before

    teacher.eval().requires_grad_(False)
    with torch.no_grad():
        teacher_features = teacher(batch["optical_clear"], batch["sar"], return_features=True)["features"]
    student = build_model(student_card).train()

    def student_loss():
        outputs = student(batch["optical"], batch["sar"])
        terms = loss(outputs, batch["label"], batch["optical_clear"], batch["cloud_mask"], teacher_features)
        assert {"ce", "cr", "kd"} <= set(terms.parts)
        return terms.total

    before, after = _step(student, student_loss)
    assert after < before
