"""U-Net decoder as in segmentation_models_pytorch 0.3.3 (CloudSeg's decoder), for a 4-stage encoder.

Five blocks, each: nearest x2 upsampling -> concatenate the skip feature -> 2 x (3x3 conv without
bias + BatchNorm + ReLU). With encoder stages at strides 4, 8, 16, 32 the skips of the five blocks
are stages 3, 2, 1, none, none, so the output is at full input resolution. For a MiT-B4 encoder
(64, 128, 320, 512) and decoder channels (256, 128, 64, 32, 16) it has 3.281 M parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ConvBNReLU(nn.Sequential):
    """3x3 (default) convolution without bias, BatchNorm, ReLU: ``[B, Cin, H, W]`` -> ``[B, Cout, H, W]``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class UNetDecoderBlock(nn.Module):
    """``x [B, Cin, H, W]`` (+ ``skip [B, Cskip, 2H, 2W]``) -> ``[B, Cout, 2H, 2W]``."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = ConvBNReLU(in_channels + skip_channels, out_channels)
        self.conv2 = ConvBNReLU(out_channels, out_channels)

    def forward(self, x: Tensor, skip: Tensor | None = None) -> Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))


class UNetDecoder(nn.Module):
    """Decode ``[f1, f2, f3, f4]`` (strides 4, 8, 16, 32) into ``[B, decoder_channels[-1], H, W]``.

    ``encoder_channels`` are the channels of ``f1..f4``; a 0 entry means that stage has no skip.
    """

    def __init__(
        self,
        encoder_channels: Sequence[int],
        decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
    ) -> None:
        super().__init__()
        if len(encoder_channels) != 4 or len(decoder_channels) != 5:
            raise ValueError(
                f"expected 4 encoder and 5 decoder channel counts, got {encoder_channels}, {decoder_channels}"
            )
        c1, c2, c3, c4 = encoder_channels
        in_channels = [c4, *decoder_channels[:-1]]
        skip_channels = [c3, c2, c1, 0, 0]
        self.blocks = nn.ModuleList(
            UNetDecoderBlock(i, s, o) for i, s, o in zip(in_channels, skip_channels, decoder_channels, strict=True)
        )
        self.out_channels = decoder_channels[-1]

    def forward(self, features: Sequence[Tensor]) -> Tensor:
        f1, f2, f3, f4 = features
        x = f4
        for block, skip in zip(self.blocks, (f3, f2, f1, None, None), strict=True):
            x = block(x, skip)
        return x
