"""A plain 1.9 M-parameter U-Net (16-256 channels, four poolings) for engine measurements.

It stands for the small convolutional models other QGIS plugins run: compute-bound on every core at
512 px, so the engine's own work shows as time added to the model's. It is not one of LandFuse's models.
"""

from __future__ import annotations

from pathlib import Path

WIDTHS = (16, 32, 64, 128, 256)


def build_unet(in_channels: int, classes: int):
    """``module(optical [N, Co, H, W], sar [N, Cs, H, W]) -> {"logits": [N, classes, H, W]}``;
    H and W multiples of 16."""
    import torch
    from torch import nn

    def double_conv(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            channels = [in_channels, *WIDTHS]
            self.down = nn.ModuleList(double_conv(a, b) for a, b in zip(channels[:-1], channels[1:], strict=True))
            self.up = nn.ModuleList(nn.ConvTranspose2d(w * 2, w, 2, stride=2) for w in reversed(WIDTHS[:-1]))
            self.merge = nn.ModuleList(double_conv(w * 2, w) for w in reversed(WIDTHS[:-1]))
            self.head = nn.Conv2d(WIDTHS[0], classes, 1)

        def forward(self, optical, sar):
            x = torch.cat([optical, sar], dim=1)
            skips = []
            for level, block in enumerate(self.down):
                x = block(x)
                if level < len(self.down) - 1:
                    skips.append(x)
                    x = nn.functional.max_pool2d(x, 2)
            for up, merge in zip(self.up, self.merge, strict=True):
                x = merge(torch.cat([up(x), skips.pop()], dim=1))
            return {"logits": self.head(x)}

    torch.manual_seed(0)
    return UNet().eval()


def export_unet(path: Path, optical_bands: int = 4, sar_bands: int = 2, classes: int = 5, tile: int = 512) -> Path:
    """The U-Net with random weights as a LandFuse ``.onnx`` (card: 10 m optical reflectance, SAR dB)."""
    from landfuse.tests.backend.engine.helpers import export_onnx, tiny_card

    card = tiny_card(optical=optical_bands, sar=sar_bands, classes=classes, tile=tile, architecture="unet")
    return export_onnx(build_unet(optical_bands + sar_bands, classes), card, path)
