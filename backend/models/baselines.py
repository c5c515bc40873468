"""Single-stream baseline: ``mit_unet`` = one MiT encoder + U-Net decoder (one CloudSeg stream).

It takes whatever modalities its card lists, concatenated along channels (optical first, then
SAR): an optical-only card gives the optical-only baseline that fusion models are compared with,
a SAR-only card the SAR-only one, a card with both plain early fusion. ``lite`` has the widths of
a CloudSeg ``lite`` stream, ``paper`` is one CloudSeg ``paper`` stream (MiT-B4 + U-Net, 64 M).
The default card is optical-only on the demo Sentinel-2 bands.

Forward: ``optical [B, Co, H, W]`` or ``None``, ``sar [B, Cs, H, W]`` or ``None`` ->
``{"logits": [B, K, H, W]}``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ...common.card import ModelCard
from ..errors import CardMismatchError
from .cloudseg import CONFIGS, MiTUNetStream
from .presets import demo_card
from .registry import register


class MiTUNet(nn.Module):
    """MiT + U-Net on the concatenated inputs of the modalities the model was built for."""

    def __init__(self, optical_channels: int, sar_channels: int, num_classes: int, variant: str) -> None:
        super().__init__()
        self.optical_channels = optical_channels
        self.sar_channels = sar_channels
        self.stream = MiTUNetStream(optical_channels + sar_channels, num_classes, CONFIGS[variant])

    def forward(self, optical: Tensor | None = None, sar: Tensor | None = None) -> dict[str, Tensor]:
        inputs = []
        for name, tensor, channels in (("optical", optical, self.optical_channels), ("sar", sar, self.sar_channels)):
            if channels and tensor is None:
                raise CardMismatchError(f"this model needs the {name} input ({channels} bands), got none")
            if channels:
                inputs.append(tensor)
        x = torch.cat(inputs, dim=1) if len(inputs) > 1 else inputs[0]
        features = self.stream.encoder(x)
        return {"logits": self.stream.segmentation_head(self.stream.decoder(features))}


def mit_unet_card(variant: str) -> ModelCard:
    return demo_card(
        "mit_unet",
        variant,
        sar_bands=(),
        description=f"MiT + U-Net {variant} single-stream baseline (optical-only by default; inputs concatenated)",
    )


@register("mit_unet", variants=("lite", "paper"), card=mit_unet_card)
def build_mit_unet(card: ModelCard) -> MiTUNet:
    return MiTUNet(len(card.optical_bands), len(card.sar_bands), card.num_classes, card.variant)
