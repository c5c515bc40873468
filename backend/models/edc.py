"""EDC (Meng, Quan, Cai, Cao, Zhang, Wei, arXiv 2603.20811): a documented reconstruction.

Only the abstract of EDC is public and its repository holds no code. What the abstract states:
a tri-stream encoder with carrier tokens for compact global context; DCHF (discrepancy-conditioned
hybrid fusion) that suppresses unreliable regions during global aggregation; an auxiliary
cloud-removal branch; teacher-guided (cloud-mask) distillation; 46.7 % fewer parameters and
1.98x faster inference than the previous state of the art (CloudSeg on the same datasets).

Reconstruction (every choice below is ours, written into the model card):

- Skeleton of CloudSeg: optical, SAR and cross-modal streams; the cross stream starts from the
  stage-1 fusion; segmentation from the cross stream's U-Net decoder; cloud removal from the
  optical stream's U-Net decoder + 2 convolutions. Unlike CloudSeg, no unused modules are built
  (no cross stage 1, no SAR decoder, one segmentation head).
- Encoder stages follow FasterViT's layout (hierarchical attention only at stage 3): stages 1, 2
  and 4 are MiT stages (spatial-reduction attention 8, 4, 1), stage 3 is a carrier-token stage
  (global attention among carriers, window attention with each window's carriers; positions from a
  convolution of the carrier grid and a learned embedding inside windows, see ``blocks.carrier``).
  Paper size: widths 64, 128, 320, 512 as MiT-B4 with depths 2, 2, 6, 2 (MiT-B4: 3, 8, 27, 3),
  chosen so the model has about 0.40 x CloudSeg's parameters (the paper: 0.533 x) and runs over
  2 x faster. Its window fits the 160 px M3M-CR tile: the stage-3 map is 10 x 10, so windows of 5
  (2 x 2 windows, one carrier each, as FasterViT's 14 x 14 map in windows of 7) need no padding.
- DCHF at every stage, on the patch-embedded features ``e_o, e_s``:
  ``D = sigmoid(conv3x3(ReLU(BN(conv1x1([|e_o - e_s|, e_o - e_s])))))`` in 0..1 (1 = optical and
  SAR disagree: cloud, haze, shadow), reliability ``r = 1 - D``.
  * global: the optical and cross streams' carrier tokens are ``r``-weighted averages (stage 3),
    and the fused map gets a channel gate from an ``r``-weighted global average (masked SE);
  * local: ``g = sigmoid(conv1x1([r * x_o, x_s]))``, ``fused = proj(g * r * x_o + (1 - g) * x_s
    (+ x_c))``, then the optical stream takes the fused features where it is unreliable,
    ``x_o' = x_o + D * (fused - x_o)``, and SAR gets a gated residual
    ``x_s' = x_s + sigmoid(conv1x1(fused - x_s)) * (fused - x_s)``.
- Distillation as CloudSeg: teacher = the same network without the cloud-removal decoder,
  trained on cloud-free optical; student loss ``CE + 1.0 x Charbonnier + 1.0 x masked hint`` on
  the cross-stream decoder features over clear pixels (``losses.cloud``), plus, when the dataset
  has cloud masks, ``0.1 x`` the binary cross-entropy of each stage's discrepancy map against the
  cloud fraction of its cells (``losses.cloud.discrepancy_loss``): the abstract says D marks
  unreliable (cloudy) regions; supervising it with the mask is our choice.

Forward: ``optical [B, Co, H, W]``, ``sar [B, Cs, H, W]`` -> ``{"logits" [B, K, H, W],
"reconstruction" [B, Co, H, W] (student), "features" [B, 16, H, W] (training or on request),
"discrepancy" [B, 1, H/4, W/4] and "discrepancy_2" .. "discrepancy_4" (the maps of stages 2-4, at
H/8 .. H/32) (training or on request)}``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ...common.card import ModelCard
from .blocks.carrier import CarrierTokenStage
from .blocks.mit import MiTStage, drop_path_schedule
from .blocks.unet import UNetDecoder
from .cloudseg import require_both_modalities, wants_features
from .presets import cloud_model_card, teacher_split
from .registry import register

EDC_VARIANTS = ("paper", "lite", "paper_teacher", "lite_teacher")

RECONSTRUCTION_NOTES = (
    "EDC is known only from its abstract. Reconstruction on the CloudSeg skeleton: tri-stream encoder, MiT stages "
    "1, 2, 4 and a FasterViT carrier-token stage 3 (paper: window 5 with one carrier per window, so the 10 x 10 "
    "stage-3 map of the 160 px tile needs no padding; lite: window 4, 2x2 carriers), with positions from a "
    "depth-wise convolution of the carrier grid and a learned embedding inside windows; paper widths "
    "64/128/320/512, depths 2/2/6/2. DCHF per stage: discrepancy map D = sigmoid(conv(|e_o - e_s|, e_o - e_s)) of "
    "the embedded optical/SAR features; reliability 1 - D weights the optical and cross carrier-token pooling and "
    "a masked SE gate (global) and the gated local fusion; optical features are replaced by the fused ones where D "
    "is high. Cloud removal from the optical U-Net decoder; teacher without it, distilled as CloudSeg (CE + "
    "Charbonnier + masked hint, weights 1); with cloud masks, D of every stage is supervised by the cloud fraction "
    "of its cells (binary cross-entropy, weight 0.1)."
)


@dataclass(frozen=True)
class EDCConfig:
    dims: tuple[int, int, int, int]
    depths: tuple[int, int, int, int]
    heads: tuple[int, int, int, int]
    sr_ratios: tuple[int, int, int, int]
    window_size: int
    ct_size: int
    decoder_channels: tuple[int, int, int, int, int]
    cr_hidden: int
    drop_path_rate: float


CONFIGS = {
    "paper": EDCConfig(
        (64, 128, 320, 512), (2, 2, 6, 2), (1, 2, 5, 8), (8, 4, 1, 1), 5, 1, (256, 128, 64, 32, 16), 64, 0.1
    ),
    "lite": EDCConfig((16, 32, 64, 128), (1, 1, 2, 1), (1, 1, 2, 4), (8, 4, 1, 1), 4, 2, (64, 32, 16, 16, 16), 32, 0.0),
}


class EDCEncoder(nn.Module):
    """Four stages of one stream; stage 3 is the carrier-token stage. ``first_stage=False`` omits stage 1."""

    def __init__(self, in_channels: int, cfg: EDCConfig, first_stage: bool = True) -> None:
        super().__init__()
        rates = drop_path_schedule(cfg.depths, cfg.drop_path_rate)
        stages: list[nn.Module] = []
        for i in range(4):
            if i == 0 and not first_stage:
                stages.append(nn.Identity())
                continue
            previous = in_channels if i == 0 else cfg.dims[i - 1]
            patch, stride = (7, 4) if i == 0 else (3, 2)
            if i == 2:
                stage = CarrierTokenStage(
                    previous, cfg.dims[i], cfg.depths[i], cfg.heads[i], cfg.window_size, cfg.ct_size, 4.0, patch,
                    stride, rates[i],
                )  # fmt: skip
            else:
                stage = MiTStage(
                    previous, cfg.dims[i], cfg.depths[i], cfg.heads[i], cfg.sr_ratios[i], 4.0, patch, stride, rates[i]
                )
            stages.append(stage)
        self.stages = nn.ModuleList(stages)

    def run(self, index: int, embedded: Tensor, reliability: Tensor | None = None) -> Tensor:
        """Blocks of stage ``index`` on its embedded map; ``reliability`` weights carrier pooling (stage 3)."""
        stage = self.stages[index]
        if isinstance(stage, CarrierTokenStage):
            return stage.forward_embedded(embedded, reliability)
        return stage.forward_embedded(embedded)


class DiscrepancyMap(nn.Module):
    """``D = sigmoid(conv3x3(ReLU(BN(conv1x1([|a - b|, a - b])))))``: ``[B, C, H, W]`` x 2 -> ``[B, 1, H, W]``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = max(channels // 4, 8)
        self.net = nn.Sequential(
            nn.Conv2d(2 * channels, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, 1, 3, padding=1),
        )

    def forward(self, optical: Tensor, sar: Tensor) -> Tensor:
        diff = optical - sar
        return torch.sigmoid(self.net(torch.cat([diff.abs(), diff], dim=1)))


class DCHF(nn.Module):
    """Discrepancy-conditioned hybrid fusion of one stage (see the module docstring).

    ``discrepancy(e_o, e_s)`` gives ``D [B, 1, H, W]``; ``forward(x_o, x_s, x_c or None, D)`` returns
    ``(x_o', x_s', fused)``, all ``[B, C, H, W]``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.discrepancy = DiscrepancyMap(channels)
        self.gate = nn.Conv2d(2 * channels, channels, 1)
        self.project = nn.Sequential(nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels))
        hidden = max(channels // 4, 8)
        self.global_gate = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels), nn.Sigmoid()
        )
        self.sar_gate = nn.Conv2d(channels, channels, 1)

    def forward(
        self, optical: Tensor, sar: Tensor, cross: Tensor | None, discrepancy: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        reliability = 1.0 - discrepancy
        trusted = reliability * optical
        g = torch.sigmoid(self.gate(torch.cat([trusted, sar], dim=1)))
        local = g * trusted + (1.0 - g) * sar
        fused = self.project(local if cross is None else local + cross)
        pooled = (fused * reliability).sum(dim=(2, 3)) / reliability.sum(dim=(2, 3)).clamp_min(1e-6)
        fused = fused * self.global_gate(pooled)[:, :, None, None]
        optical = optical + discrepancy * (fused - optical)
        sar = sar + torch.sigmoid(self.sar_gate(fused - sar)) * (fused - sar)
        return optical, sar, fused


class EDC(nn.Module):
    """EDC student (``teacher=False``: with cloud-removal decoder) or teacher."""

    def __init__(
        self, optical_channels: int, sar_channels: int, num_classes: int, cfg: EDCConfig, teacher: bool
    ) -> None:
        super().__init__()
        self.teacher = teacher
        self.optical_encoder = EDCEncoder(optical_channels, cfg)
        self.sar_encoder = EDCEncoder(sar_channels, cfg)
        self.cross_encoder = EDCEncoder(0, cfg, first_stage=False)
        self.fusions = nn.ModuleList(DCHF(c) for c in cfg.dims)
        self.decoder = UNetDecoder(cfg.dims, cfg.decoder_channels)
        self.segmentation_head = nn.Conv2d(cfg.decoder_channels[-1], num_classes, 3, padding=1)
        if not teacher:
            self.cr_decoder = UNetDecoder(cfg.dims, cfg.decoder_channels)
            self.cr_head = nn.Sequential(
                nn.Conv2d(cfg.decoder_channels[-1], cfg.cr_hidden, 3, padding=1),
                nn.Conv2d(cfg.cr_hidden, optical_channels, 3, padding=1),
            )

    def forward(
        self,
        optical: Tensor,
        sar: Tensor,
        return_features: bool | None = None,
        return_discrepancy: bool | None = None,
    ) -> dict[str, Tensor]:
        x_o, x_s, x_c = optical, sar, None
        f_o, f_c, maps = [], [], []
        for i, fusion in enumerate(self.fusions):
            e_o = self.optical_encoder.stages[i].embed(x_o)
            e_s = self.sar_encoder.stages[i].embed(x_s)
            d = fusion.discrepancy(e_o, e_s)
            reliability = 1.0 - d
            x_o = self.optical_encoder.run(i, e_o, reliability)
            x_s = self.sar_encoder.run(i, e_s)
            if x_c is not None:
                x_c = self.cross_encoder.run(i, self.cross_encoder.stages[i].embed(x_c), reliability)
            x_o, x_s, x_c = fusion(x_o, x_s, x_c, d)
            f_o.append(x_o)
            f_c.append(x_c)
            maps.append(d)
        decoded = self.decoder(f_c)
        out = {"logits": self.segmentation_head(decoded)}
        if not self.teacher:
            out["reconstruction"] = self.cr_head(self.cr_decoder(f_o))
        if wants_features(self, return_features):
            out["features"] = decoded
        if wants_features(self, return_discrepancy):
            out["discrepancy"] = maps[0]
            out.update({f"discrepancy_{i + 1}": d for i, d in enumerate(maps) if i})
        return out


def edc_card(variant: str) -> ModelCard:
    """Default cards: ``paper*`` on M3M-CR inputs (as CloudSeg ``paper``), ``lite*`` on the demo set."""
    _, teacher = teacher_split(variant)
    role = "teacher (no cloud-removal decoder)" if teacher else "student with cloud removal"
    return cloud_model_card(
        "edc",
        variant,
        description=f"EDC {variant}, {role}: reconstruction from the abstract on the CloudSeg skeleton",
        reconstruction_notes=RECONSTRUCTION_NOTES,
    )


@register("edc", variants=EDC_VARIANTS, card=edc_card)
def build_edc(card: ModelCard) -> EDC:
    size, teacher = teacher_split(card.variant)
    return EDC(*require_both_modalities(card), card.num_classes, CONFIGS[size], teacher=teacher)
