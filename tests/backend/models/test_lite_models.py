"""Every lite variant: forward and backward at H != W, output shapes, ONNX export and Runtime parity."""

import pytest
import torch

from landfuse.backend.models.export import export_onnx, onnx_parity, read_card
from landfuse.backend.models.registry import build_model, default_card, list_models

LITE = [(name, variant) for name, variant in list_models() if "lite" in variant]
HEIGHT, WIDTH = 96, 160  # odd multiples of 32, H != W


def _inputs(card, batch=2):
    torch.manual_seed(0)
    optical = torch.randn(batch, len(card.optical_bands), HEIGHT, WIDTH) if card.optical_bands else None
    sar = torch.randn(batch, len(card.sar_bands), HEIGHT, WIDTH) if card.sar_bands else None
    return optical, sar


@pytest.mark.parametrize(("name", "variant"), LITE)
def test_forward_backward_and_onnx_parity(name, variant, tmp_path):
    card = default_card(name, variant)
    torch.manual_seed(0)
    model = build_model(card).train()
    optical, sar = _inputs(card)
    out = model(optical, sar)
    assert out["logits"].shape == (2, card.num_classes, HEIGHT, WIDTH)
    if card.has_reconstruction:
        assert out["reconstruction"].shape == (2, len(card.optical_bands), HEIGHT, WIDTH)
        assert "features" in out
    else:
        assert "reconstruction" not in out
    loss = out["logits"].square().mean() + sum(v.square().mean() for k, v in out.items() if k != "logits")
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0

    path = export_onnx(model, card, tmp_path / f"{card.name}.onnx")
    stored = read_card(path)
    assert stored.name == card.name and stored.outputs == card.outputs and stored.parameters > 0
    differences = onnx_parity(model, card, path, batch=1, height=64, width=HEIGHT)
    assert set(differences) == set(card.outputs)
    assert max(differences.values()) <= 1e-4
    assert not model.training  # export left the model in evaluation mode, as it was exported
