"""All-MLP decoder of SegFormer (as implemented in CMX) for a 4-stage feature pyramid.

Each stage: Linear(C_i -> E) per pixel, bilinear upsampling to stride 4; concatenate (4E) ->
1x1 conv (no bias) -> BatchNorm -> ReLU -> Dropout2d -> 1x1 conv to the classes. The logits are at
stride 4; ``forward`` upsamples them bilinearly to ``output_size`` when given.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class MLPDecoder(nn.Module):
    """``[f1, f2, f3, f4]`` (strides 4..32, channels ``in_channels``) -> logits ``[B, K, H/4, W/4]``."""

    def __init__(self, in_channels: Sequence[int], embed_dim: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.linear = nn.ModuleList(nn.Conv2d(c, embed_dim, 1) for c in in_channels)
        self.fuse = nn.Sequential(
            nn.Conv2d(len(in_channels) * embed_dim, embed_dim, 1, bias=False),
            nn.BatchNorm2d(embed_dim),
            nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout2d(dropout)
        self.classifier = nn.Conv2d(embed_dim, num_classes, 1)

    def forward(self, features: Sequence[Tensor], output_size: tuple[int, int] | None = None) -> Tensor:
        size = features[0].shape[2:]
        projected = [
            F.interpolate(proj(f), size=size, mode="bilinear", align_corners=False) if i else proj(f)
            for i, (proj, f) in enumerate(zip(self.linear, features, strict=True))
        ]
        logits = self.classifier(self.dropout(self.fuse(torch.cat(projected, dim=1))))
        if output_size is not None:
            logits = F.interpolate(logits, size=output_size, mode="bilinear", align_corners=False)
        return logits
