"""CloudSeg (Xu, Shi, Yang, Xia, Zhu, ISPRS J. 214 (2024) 21-32), faithful to the official code.

Three MiT + U-Net streams (one ``segmentation_models_pytorch.Unet`` each in the official code):

- ``optical_stream``: optical encoder stages 1-4; its U-Net decoder feeds the cloud-removal head;
- ``sar_stream``: SAR encoder stages 1-4 (its decoder and head exist but are unused, as in the
  official code, so the state dict has the same 203.2 M parameters);
- ``cross_stream``: encoder stages 2-4 run on the fused features (its stage 1 is unused), its
  decoder and segmentation head give the land-cover logits.

After every stage a ``FuseBlock`` mixes the three streams: multi-scale pooling (MSC), a CBAM
spatial gate on the difference of the modalities (student only), SE fusion into the cross stream
and gated redistribution of the difference back into each modality.

Forward: ``optical [B, Co, H, W]`` and ``sar [B, Cs, H, W]`` (normalised) ->
``{"logits": [B, K, H, W], "reconstruction": [B, Co, H, W], "features": [B, 16, H, W]}``;
``features`` (the cross-stream decoder output used by the masked hint loss) only in training
mode or when ``return_features=True``. The teacher variants have no spatial gate and no
cloud-removal head, so they return no reconstruction.

Departures from the official code, all numerically neutral at the official sizes (every input of
128 px and more, e.g. the 128 px reference and the 160 px training and test windows, whose stage-4
map of 5 px pools to 2 and 1 in floor mode exactly as ``nn.MaxPool2d``):
- logits are returned at input resolution; the official code resizes them to the 10 m label grid
  (``x 0.3``), which the training loop does here;
- MSC pooling of a map smaller than the kernel (stage 4 of inputs under 128 px), where the official
  code stops with "Output size is too small", takes the whole map's maximum, so inputs down to
  32 px work;
- the encoders start from random weights unless ``train --init-encoder`` gives ImageNet MiT weights
  (the official code downloads them).

The official checkpoints load with ``backend.models.official`` (``landfuse import-official``): the
state dict has the official one's 2758 entries one to one, unused ones included.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...common.card import ModelCard
from ..errors import CardMismatchError
from .blocks.mit import MiTConfig, MiTEncoder
from .blocks.unet import UNetDecoder
from .presets import cloud_model_card, teacher_split
from .registry import register

CLOUDSEG_VARIANTS = ("paper", "lite", "paper_teacher", "lite_teacher")
NOTES = (
    "Faithful to the official CloudSeg code (xufangchn/CloudSeg), checked against the official networks at 128 px. "
    "Differences: logits at input resolution (the training loop resizes them to the label grid); MSC pooling of "
    "maps smaller than its kernel (inputs under 128 px, which the official code rejects) takes the map's maximum."
)


@dataclass(frozen=True)
class CloudSegConfig:
    encoder: MiTConfig
    decoder_channels: tuple[int, int, int, int, int]
    cr_hidden: int


CONFIGS = {
    # MiT-B4 streams and smp's default U-Net decoder, as in the official code.
    "paper": CloudSegConfig(MiTConfig(), (256, 128, 64, 32, 16), 64),
    # Small enough to train on a CPU in minutes: MiT with 1-2 blocks per stage and narrow stages.
    "lite": CloudSegConfig(
        MiTConfig(dims=(16, 32, 64, 128), depths=(1, 1, 2, 1), heads=(1, 1, 2, 4), drop_path_rate=0.0),
        (64, 32, 16, 16, 16),
        32,
    ),
}


def pooled_context(x: Tensor, kernel: int) -> Tensor:
    """``kernel x kernel`` max-pooling in floor mode, nearest-upsampled back: ``[B, C, H, W]`` -> ``[B, C, H, W]``.

    Floor mode is the official ``nn.MaxPool2d``: a last partial window is dropped (a 5 px map pools
    to 2 with kernel 2 and to 1 with kernel 4). A side shorter than the kernel pools to its maximum.
    Computed as ceil-mode pooling cut to ``max(1, size // kernel)`` windows, written with integer
    arithmetic only, so the exported ONNX graph keeps height and width dynamic.
    """
    height, width = x.shape[2], x.shape[3]
    rows, cols = height // kernel, width // kernel
    rows, cols = rows + 1 // (rows + 1), cols + 1 // (cols + 1)  # max(1, n) for integers n >= 0
    pooled = F.max_pool2d(x, kernel, kernel, ceil_mode=True)[:, :, :rows, :cols]
    return F.interpolate(pooled, size=(height, width), mode="nearest")


class MultiScaleContext(nn.Module):
    """MSC: ``[B, C, H, W]`` -> cat(x, up(maxpool2 x), up(maxpool4 x)) -> 1x1 conv + ReLU -> ``[B, C, H, W]``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3 * channels, channels, 1), nn.ReLU(inplace=True))

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(torch.cat([x, pooled_context(x, 2), pooled_context(x, 4)], dim=1))


class SpatialGate(nn.Module):
    """CBAM spatial gate: ``[B, C, H, W]`` -> ``sigmoid(BN(conv7x7([max_c, mean_c])))`` ``[B, 1, H, W]``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 7, padding=3, bias=False)
        self.bn = nn.BatchNorm2d(1, eps=1e-5, momentum=0.01)

    def forward(self, x: Tensor) -> Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.bn(self.conv(pooled)))


class SEFusion(nn.Module):
    """SE over the concatenation of ``k`` maps ``[B, C, H, W]``, then the re-weighted chunks are summed."""

    def __init__(self, in_channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = in_channels * reduction if in_channels < reduction else in_channels // reduction
        self.excitation = nn.Sequential(
            nn.Linear(in_channels, hidden, bias=False),
            nn.ReLU(),
            nn.Linear(hidden, in_channels, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, *maps: Tensor) -> Tensor:
        x = torch.cat(maps, dim=1)
        theta = self.excitation(x.mean(dim=(2, 3)))[:, :, None, None]
        return sum(torch.chunk(x * theta, len(maps), dim=1))


class FuseBlock(nn.Module):
    """CloudSeg's per-stage fusion: ``(x_opt, x_sar, c or None)`` -> ``(x_opt', x_sar', c')``, all ``[B, C, H, W]``."""

    def __init__(self, channels: int, is_first_block: bool = False, spatial_gate: bool = True) -> None:
        super().__init__()
        self.modality1_msc = MultiScaleContext(channels)
        self.modality2_msc = MultiScaleContext(channels)
        self.cross_modality_msc = MultiScaleContext(channels)  # built in every block, unused in the first
        self.spatial_attn_block = SpatialGate() if spatial_gate else None
        self.update_cross_modality_block = SEFusion(channels * (2 if is_first_block else 3))
        self.modality1_distribute_conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.modality2_distribute_conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, optical: Tensor, sar: Tensor, cross: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        m1 = self.modality1_msc(optical)
        m2 = self.modality2_msc(sar)
        gated = m1 if self.spatial_attn_block is None else self.spatial_attn_block(m1 - m2) * m1
        if cross is None:
            fused = self.update_cross_modality_block(gated, m2)
        else:
            fused = self.update_cross_modality_block(gated, m2, self.cross_modality_msc(cross))
        d1, d2 = fused - m1, fused - m2
        optical = optical + d1 * torch.sigmoid(self.modality1_distribute_conv(d1))
        sar = sar + d2 * torch.sigmoid(self.modality2_distribute_conv(d2))
        return optical, sar, fused


class MiTUNetStream(nn.Module):
    """One ``smp.Unet(mit)``: MiT encoder, U-Net decoder and a 3x3 segmentation head."""

    def __init__(self, in_channels: int, num_classes: int, config: CloudSegConfig) -> None:
        super().__init__()
        self.encoder = MiTEncoder(in_channels, config.encoder)
        self.decoder = UNetDecoder(config.encoder.dims, config.decoder_channels)
        self.segmentation_head = nn.Conv2d(config.decoder_channels[-1], num_classes, 3, padding=1)


def require_both_modalities(card: ModelCard) -> tuple[int, int]:
    """``(optical bands, SAR bands)`` of a fusion card; raises ``CardMismatchError`` if one is missing."""
    if not card.optical_bands or not card.sar_bands:
        raise CardMismatchError(
            f"{card.architecture} fuses optical and SAR inputs, but the card has {len(card.optical_bands)} optical "
            f"and {len(card.sar_bands)} SAR bands: give both, or use the single-modality 'mit_unet' baseline"
        )
    return len(card.optical_bands), len(card.sar_bands)


def wants_features(module: nn.Module, return_features: bool | None) -> bool:
    """Training-only outputs (distillation features, discrepancy maps) come in training mode unless asked otherwise."""
    return module.training if return_features is None else return_features


class CloudSeg(nn.Module):
    """CloudSeg student (``teacher=False``) or teacher (no spatial gate, no cloud-removal head)."""

    def __init__(
        self, optical_channels: int, sar_channels: int, num_classes: int, config: CloudSegConfig, teacher: bool
    ) -> None:
        super().__init__()
        self.teacher = teacher
        self.optical_stream = MiTUNetStream(optical_channels, num_classes, config)
        self.sar_stream = MiTUNetStream(sar_channels, num_classes, config)
        self.cross_stream = MiTUNetStream(3, num_classes, config)
        dims = config.encoder.dims
        self.fuse_blocks = nn.ModuleList(FuseBlock(c, i == 0, spatial_gate=not teacher) for i, c in enumerate(dims))
        self.cr_head = (
            None
            if teacher
            else nn.Sequential(
                nn.Conv2d(config.decoder_channels[-1], config.cr_hidden, 3, padding=1),
                nn.Conv2d(config.cr_hidden, optical_channels, 3, padding=1),
            )
        )

    @property
    def unused_prefixes(self) -> tuple[str, ...]:
        """State-dict prefixes of the modules the forward pass never runs (kept for the official state dict)."""
        unused = (
            "cross_stream.encoder.stages.0.",
            "fuse_blocks.0.cross_modality_msc.",
            "optical_stream.segmentation_head.",
            "sar_stream.decoder.",
            "sar_stream.segmentation_head.",
        )
        return (*unused, "optical_stream.decoder.") if self.cr_head is None else unused

    def forward(self, optical: Tensor, sar: Tensor, return_features: bool | None = None) -> dict[str, Tensor]:
        optical_stages = self.optical_stream.encoder.stages
        sar_stages = self.sar_stream.encoder.stages
        cross_stages = self.cross_stream.encoder.stages
        x1, x2, c = optical, sar, None
        f1, fc = [], []  # the SAR features feed no decoder, as in the official code
        for i, fuse in enumerate(self.fuse_blocks):
            x1, x2 = optical_stages[i](x1), sar_stages[i](x2)
            if c is not None:
                c = cross_stages[i](c)
            x1, x2, c = fuse(x1, x2, c)
            f1.append(x1)
            fc.append(c)
        decoded = self.cross_stream.decoder(fc)
        out = {"logits": self.cross_stream.segmentation_head(decoded)}
        if self.cr_head is not None:
            out["reconstruction"] = self.cr_head(self.optical_stream.decoder(f1))
        if wants_features(self, return_features):
            out["features"] = decoded
        return out


def cloudseg_card(variant: str) -> ModelCard:
    """Default cards: ``paper*`` on M3M-CR inputs (PlanetScope 4 + S1 2 bands, 6 classes), ``lite*`` on the demo set."""
    size, teacher = teacher_split(variant)
    role = (
        "teacher: no spatial gate and no cloud-removal head, trained on cloud-free optical"
        if teacher
        else "student: segmentation plus cloud removal, distilled from the teacher"
    )
    return cloud_model_card(
        "cloudseg",
        variant,
        description=f"CloudSeg {variant} ({role}); three MiT + U-Net streams with FuseBlocks, as the official code",
        reconstruction_notes=NOTES if size == "paper" else f"{NOTES} Lite widths are ours.",
    )


@register("cloudseg", variants=CLOUDSEG_VARIANTS, card=cloudseg_card)
def build_cloudseg(card: ModelCard) -> CloudSeg:
    size, teacher = teacher_split(card.variant)
    return CloudSeg(*require_both_modalities(card), card.num_classes, CONFIGS[size], teacher=teacher)
