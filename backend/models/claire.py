"""CLAIRE (Sutradhar et al., arXiv 2509.11952): a documented reconstruction.

The paper states: one encoder per modality extracting features independently, a cross-modality
attention fusion module (CMAF) that "highlights complementary spatial and textural features", the
RIFT loss (weighted focal + Tversky) against class imbalance, and a reasoning module (a small
language model explaining the metrics; in LandFuse that is the explanation feature, not part of
the network). No code, backbone, widths, CMAF equations, decoder or loss weights are public, so
everything else here is a reconstruction (also written in the model card's ``reconstruction_notes``):

- Encoders: two MiT-B2 (SegFormer) encoders from ``blocks.mit``, one per modality, sharing no
  weights and receiving nothing back from the fusion ("independently"). MiT-B2 is the backbone of
  CMX-B2, the two-branch MiT fusion baseline of the benchmarks CLAIRE reports on (WHU-OPT-SAR,
  PIE-RGB-SAR), and one of the two backbones the reference recipe names.
- CMAF at each of the four stages, on the encoders' outputs:
  ``Y_opt = LN(X_opt + Attn(Q = X_opt, K, V = SR(X_sar)))`` and symmetrically ``Y_sar``, with the
  encoder stage's spatial-reduction ratio (8-4-2-1) so attention stays affordable at stride 4; then
  a learned gate ``G = sigmoid(Conv1x1([Y_opt, Y_sar]))`` per pixel and channel and
  ``F = G * Y_opt + (1 - G) * Y_sar``.
- Decoder: the all-MLP decoder (embedding 512, as in CMX) on the fused pyramid, logits upsampled
  bilinearly from stride 4 to the input size.
- Loss: RIFT with the placeholder defaults of ``losses.segmentation.RIFTLoss`` (lambda 0.5, gamma 2,
  Tversky alpha 0.3 / beta 0.7, per-batch inverse-frequency class weights).

Size (``paper``) with the Dynamic World inputs (9 S2 bands, VV/VH, 9 classes): 55.7 M parameters
(two encoders 48.4 M, CMAF 5.7 M, decoder 1.6 M) and 63.8 G multiply-accumulates at 512 x 512. The
paper states no size; this one follows from the stated design with the MiT-B2 choice above.

Forward: ``optical [B, Co, H, W]``, ``sar [B, Cs, H, W]`` (normalised; H, W multiples of 32) ->
``{"logits": [B, K, H, W]}``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ...common.card import ModelCard
from .blocks.mit import (
    MIT_CONFIGS,
    MiTConfig,
    MiTEncoder,
    MiTLayerNorm,
    SpatialReductionAttention,
    init_transformer_weights,
    map_to_tokens,
    tokens_to_map,
)
from .blocks.mlp_decoder import MLPDecoder
from .cloudseg import require_both_modalities
from .presets import demo_card
from .registry import register
from .specsar_former import init_decoder_weights

CLAIRE_VARIANTS = ("paper", "lite")


@dataclass(frozen=True)
class ClaireConfig:
    """Layout of both encoders (identical, unshared) and the decoder embedding."""

    encoder: MiTConfig
    decoder_dim: int


CONFIGS = {
    "paper": ClaireConfig(encoder=MIT_CONFIGS["b2"], decoder_dim=512),
    # Small enough to train on a CPU in minutes and ship as a few-MB ONNX file.
    "lite": ClaireConfig(
        encoder=MiTConfig(dims=(16, 32, 80, 128), depths=(1, 1, 2, 1), heads=(1, 2, 5, 8), drop_path_rate=0.0),
        decoder_dim=96,
    ),
}

PAPER_NOTES = (
    "Reconstruction (no public code): two unshared MiT-B2 encoders (widths 64-128-320-512, depths 3-4-6-3), "
    "one per modality, run independently (the backbone of CMX-B2, the two-branch MiT baseline on the "
    "benchmarks CLAIRE reports); CMAF at each stage = bidirectional cross-attention with the stage's "
    "spatial-reduction ratio (8-4-2-1), residual + LayerNorm, then a per-pixel, per-channel sigmoid gate "
    "(1x1 convolution of both attended maps) mixing them; all-MLP decoder with embedding 512 (CMX) on the "
    "fused pyramid; RIFT loss with placeholder weights (lambda 0.5, gamma 2, Tversky 0.3/0.7, inverse-"
    "frequency class weights). Size with 9 Sentinel-2 bands, VV/VH and 9 classes: 55.7 M parameters "
    "(two encoders 48.4 M, CMAF 5.7 M, decoder 1.6 M), below CMX-B2's 66.6 M because the fusion does not "
    "feed back into the encoders. The paper states no size; this is a plausible one, not a reported one."
)


LITE_NOTES = (
    "Lite (demo size, 1.6 M parameters): the paper's structure narrowed for CPU training: both encoders widths "
    "16-32-80-128, depths 1-1-2-1, reduction ratios 8-4-2-1; decoder embedding 96. Paper layout: "
)


class CrossModalAttentionFusion(nn.Module):
    """CMAF: ``optical [B, C, H, W]`` + ``sar [B, C, H, W]`` -> gated fused map ``[B, C, H, W]``."""

    def __init__(self, dim: int, num_heads: int, sr_ratio: int) -> None:
        super().__init__()
        self.optical_reads_sar = SpatialReductionAttention(dim, num_heads, sr_ratio)
        self.sar_reads_optical = SpatialReductionAttention(dim, num_heads, sr_ratio)
        self.norm_optical = MiTLayerNorm(dim)
        self.norm_sar = MiTLayerNorm(dim)
        self.gate = nn.Conv2d(2 * dim, dim, 1)

    def attended(self, optical: Tensor, sar: Tensor) -> tuple[Tensor, Tensor]:
        """The two cross-attended maps ``(Y_opt, Y_sar)``, each ``[B, C, H, W]``."""
        height, width = optical.shape[2:]
        opt, rad = map_to_tokens(optical), map_to_tokens(sar)
        opt_context = self.sar_reads_optical.reduce(opt, height, width)
        sar_context = self.optical_reads_sar.reduce(rad, height, width)
        y_opt = self.norm_optical(opt + self.optical_reads_sar.attend(opt, sar_context))
        y_sar = self.norm_sar(rad + self.sar_reads_optical.attend(rad, opt_context))
        return tokens_to_map(y_opt, height, width), tokens_to_map(y_sar, height, width)

    def forward(self, optical: Tensor, sar: Tensor) -> Tensor:
        y_opt, y_sar = self.attended(optical, sar)
        gate = torch.sigmoid(self.gate(torch.cat([y_opt, y_sar], dim=1)))
        return gate * y_opt + (1.0 - gate) * y_sar


class Claire(nn.Module):
    """Two independent MiT encoders, a CMAF per stage, all-MLP decoder on the fused pyramid."""

    def __init__(self, optical_channels: int, sar_channels: int, num_classes: int, config: ClaireConfig) -> None:
        super().__init__()
        cfg = config.encoder
        self.optical_encoder = MiTEncoder(optical_channels, cfg)
        self.sar_encoder = MiTEncoder(sar_channels, cfg)
        self.fusion = nn.ModuleList(
            CrossModalAttentionFusion(d, h, r) for d, h, r in zip(cfg.dims, cfg.heads, cfg.sr_ratios, strict=True)
        )
        self.decoder = MLPDecoder(cfg.dims, config.decoder_dim, num_classes)
        self.fusion.apply(init_transformer_weights)
        init_decoder_weights(self.decoder)

    def forward(self, optical: Tensor, sar: Tensor) -> dict[str, Tensor]:
        optical_features = self.optical_encoder(optical)
        sar_features = self.sar_encoder(sar)
        fused = [fuse(o, s) for fuse, o, s in zip(self.fusion, optical_features, sar_features, strict=True)]
        return {"logits": self.decoder(fused, output_size=optical.shape[2:])}


def claire_card(variant: str) -> ModelCard:
    """Default card: the Dynamic World inputs (S2 9 bands + S1 VV/VH dB) and its 9 classes."""
    description = (
        f"CLAIRE {variant}: one MiT encoder per modality, cross-modality attention fusion with a learned gate at "
        "every stage, all-MLP decoder, RIFT loss (weighted focal + Tversky) for rare classes"
    )
    notes = PAPER_NOTES if variant == "paper" else LITE_NOTES + PAPER_NOTES
    return demo_card("claire", variant, description=description, reconstruction_notes=notes)


@register("claire", variants=CLAIRE_VARIANTS, card=claire_card)
def build_claire(card: ModelCard) -> Claire:
    optical, sar = require_both_modalities(card)
    return Claire(optical, sar, card.num_classes, CONFIGS[card.variant])
