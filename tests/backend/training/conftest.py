"""A tiny registered model for fast training-loop tests."""

import pytest
import torch
from torch import nn

from landfuse.backend.models import registry
from landfuse.backend.models.presets import demo_card
from landfuse.common.card import ModelCard


class PixelFusion(nn.Module):
    """A small per-pixel fusion network: enough to learn the synthetic spectra in a few steps."""

    def __init__(self, card: ModelCard) -> None:
        super().__init__()
        channels = len(card.optical_bands) + len(card.sar_bands)
        self.net = nn.Sequential(nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, card.num_classes, 1))

    def forward(self, optical, sar):
        return {"logits": self.net(torch.cat([optical, sar], dim=1))}


@pytest.fixture
def pixel_fusion():
    """Registers ``pixel_fusion`` (variant ``lite``) for one test only."""
    registry.list_models()
    registry.register("pixel_fusion", variants=("lite",), card=lambda v: demo_card("pixel_fusion", v))(PixelFusion)
    yield "pixel_fusion"
    registry._REGISTRY.pop("pixel_fusion")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train on one thread: on a busy 2-core machine two spinning OpenMP threads are many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
