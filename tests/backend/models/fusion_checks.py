"""Checks shared by the fusion-model tests."""

import torch

from landfuse.backend.models.profiling import count_parameters
from landfuse.backend.models.registry import build_model, default_card


def assert_lite_uses_both_inputs(name: str, height: int, width: int) -> None:
    """The ``lite`` model is small (as its card says), logits at input size change with either input."""
    card = default_card(name, "lite")
    torch.manual_seed(0)
    model = build_model(card).eval()
    parameters = count_parameters(model)
    assert parameters < 3e6
    assert f"{parameters / 1e6:.1f} M parameters" in card.reconstruction_notes  # the card states the lite size
    optical = torch.randn(1, len(card.optical_bands), height, width)
    sar = torch.randn(1, len(card.sar_bands), height, width)
    with torch.no_grad():
        logits = model(optical, sar)["logits"]
        assert logits.shape == (1, card.num_classes, height, width)
        assert not torch.allclose(model(optical, sar.flip(-1))["logits"], logits, atol=1e-5)
        assert not torch.allclose(model(optical.flip(-1), sar)["logits"], logits, atol=1e-5)


def assert_training_lowers_loss(name: str, loss_fn: torch.nn.Module, steps: int = 4) -> None:
    """A few AdamW steps of the ``lite`` model on one synthetic batch lower its own loss."""
    card = default_card(name, "lite")
    torch.manual_seed(0)
    model = build_model(card).train()
    optical = torch.randn(2, len(card.optical_bands), 64, 64)
    sar = torch.randn(2, len(card.sar_bands), 64, 64)
    target = (optical[:, 0] > 0).long() + 2 * (sar[:, 0] > 0).long()  # classes 0..3, the others absent
    target[:, :8] = 255  # a nodata strip
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(optical, sar)["logits"], target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
