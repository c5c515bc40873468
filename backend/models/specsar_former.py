"""SpecSAR-Former (Yu et al., arXiv 2410.03962): a documented reconstruction.

The paper states: two transformer branches (multispectral Sentinel-2, SAR Sentinel-1) with
imbalanced parameter allocation, overlapped patch embeddings, a hierarchical encoder in which a Dual
Modal Enhancement Module (DMEM) and a Mutual Modal Aggregation Module (MMAM) exchange information
"in a split-fusion manner", an all-MLP decoder and a focal loss; 26.70 M parameters and 109.59
GFLOPs. No code, equations, widths or depths are public, so everything below that is not in that
list is a reconstruction (also written in the model card's ``reconstruction_notes``):

- Branches: MiT (SegFormer) stages from ``blocks.mit``. The multispectral branch is the larger one
  (the abstract gives more parameters to the modality with denser information; Sentinel-2 has 9
  bands against 2): widths 64-128-320-512 and depths 4-4-4-2, between MiT-B1 and MiT-B2. The SAR
  branch is exactly MiT-B0 (widths 32-64-160-256, depths 2-2-2-2), about 1/5 of the parameters.
- Spatial-reduction ratios 2-2-1-1 instead of SegFormer's 8-4-2-1 in both branches: the paper's
  compute per parameter (109.59 G / 26.70 M = 4.1 k multiply-accumulates per parameter at 512 x 512)
  is 1.8 x SegFormer-B2's, and a two-branch MiT with SegFormer's ratios stays near 60 G at this
  size. Attention over finer keys (stride 8 instead of 32 in stage 1) is the parameter-free way to
  spend that compute and suits 10 m parcels a few pixels wide.
- DMEM = CMX's Feature Rectify Module made bidirectional across unequal widths: channel weights
  from global average + max pooling of both modalities (MLP, reduction 4) and spatial weights (two
  1x1 convolutions) rectify each modality with the other, projected to its width by a 1x1
  convolution; ``x_ms + 0.5 (w_c + w_s) P(x_sar)`` and the symmetric update. The rectified features
  go back into their own branch for the next stage (the "split").
- MMAM = CMX's Feature Fusion Module at the multispectral width: per-token mutual cross-attention
  (each modality's queries read the other's global key-value context, linear in the number of
  tokens, averaged rather than summed over tokens so it does not depend on the tile size, channel
  reduction 2) and a channel embedding that merges both into one fused map per stage (the
  "fusion"), which alone feeds the decoder.
- Decoder: SegFormer's all-MLP decoder with embedding 768 (SegFormer-B2..B5), logits upsampled
  bilinearly from stride 4 to the input size; classifier initialised N(0, 0.01) as in mmseg.
- Loss: focal, gamma 2, no alpha (``losses.segmentation.FocalLoss``); the paper's values are unknown.

Resulting size with the Dynamic World inputs (9 S2 bands, VV/VH, 9 classes): 26.54 M parameters
(paper: 26.70 M) and 112.8 G multiply-accumulates at 512 x 512 (paper: 109.59 GFLOPs, which the
SegFormer family counts as MACs), of which 52.0 G are attention products; measured by
``bench/models_reconstructions.py``, asserted by the tests.

Forward: ``optical [B, Co, H, W]``, ``sar [B, Cs, H, W]`` (normalised; H, W multiples of 32) ->
``{"logits": [B, K, H, W]}``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...common.card import ModelCard
from .blocks.mit import MiTConfig, MiTEncoder, init_transformer_weights, map_to_tokens, tokens_to_map
from .blocks.mlp_decoder import MLPDecoder
from .cloudseg import require_both_modalities
from .presets import demo_card
from .registry import register

SPECSAR_VARIANTS = ("paper", "lite")


@dataclass(frozen=True)
class SpecSARConfig:
    """Widths and depths of both branches, fusion reductions and decoder embedding."""

    optical: MiTConfig
    sar: MiTConfig
    dmem_reduction: int
    mmam_reduction: int
    decoder_dim: int


CONFIGS = {
    "paper": SpecSARConfig(
        optical=MiTConfig(dims=(64, 128, 320, 512), depths=(4, 4, 4, 2), sr_ratios=(2, 2, 1, 1)),
        sar=MiTConfig(dims=(32, 64, 160, 256), depths=(2, 2, 2, 2), sr_ratios=(2, 2, 1, 1)),
        dmem_reduction=4,
        mmam_reduction=2,
        decoder_dim=768,
    ),
    # Small enough to train on a CPU in minutes and ship as a few-MB ONNX file.
    "lite": SpecSARConfig(
        optical=MiTConfig(dims=(32, 64, 96, 128), depths=(1, 1, 2, 1), heads=(1, 2, 3, 4), drop_path_rate=0.0),
        sar=MiTConfig(dims=(16, 32, 48, 64), depths=(1, 1, 1, 1), heads=(1, 1, 1, 2), drop_path_rate=0.0),
        dmem_reduction=4,
        mmam_reduction=2,
        decoder_dim=96,
    ),
}

PAPER_NOTES = (
    "Reconstruction (no public code): multispectral branch MiT widths 64-128-320-512, depths 4-4-4-2; "
    "SAR branch MiT-B0 (32-64-160-256, depths 2-2-2-2) for the imbalanced allocation; spatial-reduction "
    "ratios 2-2-1-1 (finer attention keys) because the paper's 109.59 G at 26.70 M parameters is 1.8x "
    "SegFormer-B2's compute per parameter; DMEM = bidirectional CMX feature rectification (channel + spatial "
    "weights, reduction 4, lambda 0.5) with 1x1 projections between the unequal widths, fed back into both "
    "branches; MMAM = CMX feature fusion (mutual efficient cross-attention with the key-value context averaged "
    "over tokens so it does not depend on tile size, reduction 2, channel embedding) "
    "into one fused map per stage; SegFormer all-MLP decoder, embedding 768; focal loss gamma 2. "
    "With 9 Sentinel-2 bands, VV/VH and 9 classes: 26.54 M parameters (paper 26.70 M, -0.6 %) and 112.8 G "
    "multiply-accumulates at 512 x 512 (paper 109.59 GFLOPs, read as MACs like the SegFormer family: +2.9 %; "
    "convolutions, linear layers and attention products, 52.0 G of them attention products)."
)


LITE_NOTES = (
    "Lite (demo size, 1.6 M parameters): the paper's structure narrowed for CPU training: multispectral branch "
    "widths 32-64-96-128, depths 1-1-2-1; SAR branch 16-32-48-64, depths 1-1-1-1; SegFormer's reduction ratios "
    "8-4-2-1 (attention over finer keys costs too much on a CPU); decoder embedding 96. Paper layout: "
)


def _projection(in_dim: int, out_dim: int) -> nn.Module:
    """1x1 convolution between widths, without bias so that a zero map projects to zero."""
    return nn.Identity() if in_dim == out_dim else nn.Conv2d(in_dim, out_dim, 1, bias=False)


def init_decoder_weights(decoder: MLPDecoder) -> None:
    """Transformer initialisation for the projections; N(0, 0.01) for the classifier (mmseg's decode heads).

    A fan-out initialised classifier over 512-768 channels starts with logits in the hundreds,
    which saturates the softmax of the focal loss; near-zero logits start every class equal.
    """
    decoder.apply(init_transformer_weights)
    nn.init.normal_(decoder.classifier.weight, std=0.01)
    nn.init.zeros_(decoder.classifier.bias)


class DualModalEnhancement(nn.Module):
    """DMEM: bidirectional channel + spatial rectification.

    ``ms [B, Cm, H, W]``, ``sar [B, Cs, H, W]`` -> rectified ``(ms, sar)`` of the same shapes.
    """

    def __init__(self, ms_dim: int, sar_dim: int, reduction: int = 4, lambda_c: float = 0.5, lambda_s: float = 0.5):
        super().__init__()
        both = ms_dim + sar_dim
        self.ms_dim = ms_dim
        self.lambda_c, self.lambda_s = lambda_c, lambda_s
        self.sar_to_ms = _projection(sar_dim, ms_dim)
        self.ms_to_sar = _projection(ms_dim, sar_dim)
        self.channel_weights = nn.Sequential(
            nn.Linear(2 * both, 2 * both // reduction),
            nn.ReLU(inplace=True),
            nn.Linear(2 * both // reduction, both),
            nn.Sigmoid(),
        )
        self.spatial_weights = nn.Sequential(
            nn.Conv2d(both, both // (2 * reduction), 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(both // (2 * reduction), 2, 1),
            nn.Sigmoid(),
        )

    def forward(self, ms: Tensor, sar: Tensor) -> tuple[Tensor, Tensor]:
        both = torch.cat([ms, sar], dim=1)
        pooled = torch.cat([both.mean(dim=(2, 3)), both.amax(dim=(2, 3))], dim=1)
        channel = self.channel_weights(pooled)[:, :, None, None]
        spatial = self.spatial_weights(both)
        ms_gain = self.lambda_c * channel[:, : self.ms_dim] + self.lambda_s * spatial[:, :1]
        sar_gain = self.lambda_c * channel[:, self.ms_dim :] + self.lambda_s * spatial[:, 1:]
        return ms + ms_gain * self.sar_to_ms(sar), sar + sar_gain * self.ms_to_sar(ms)


class MutualCrossAttention(nn.Module):
    """Efficient (linear) cross-attention in both directions on tokens ``[B, N, C]``.

    Each modality's keys/values are summarised into a per-head context ``softmax(K^T V / N)`` of size
    ``d x d`` (softmax over its rows); the other modality's queries read it. Cost is linear in ``N``
    (CMX's CrossAttention). CMX sums over the ``N`` tokens; the mean used here keeps the context
    from sharpening with the tile size, so a model trained on small crops behaves the same on
    large tiles.
    """

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} must be divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.kv_a = nn.Linear(dim, 2 * dim, bias=False)
        self.kv_b = nn.Linear(dim, 2 * dim, bias=False)

    def _heads(self, x: Tensor) -> Tensor:
        batch, n, channels = x.shape
        return x.reshape(batch, n, self.num_heads, channels // self.num_heads).transpose(1, 2)

    def _context(self, kv: Tensor) -> Tensor:
        keys, values = (self._heads(t) for t in kv.chunk(2, dim=-1))
        return (keys.transpose(-2, -1) @ values * (self.scale / keys.shape[2])).softmax(dim=-2)

    def forward(self, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        batch, n, channels = a.shape
        context_a, context_b = self._context(self.kv_a(a)), self._context(self.kv_b(b))
        read_a = (self._heads(a) @ context_b).transpose(1, 2).reshape(batch, n, channels)
        read_b = (self._heads(b) @ context_a).transpose(1, 2).reshape(batch, n, channels)
        return read_a, read_b


class MutualModalAggregation(nn.Module):
    """MMAM: ``ms [B, Cm, H, W]`` + ``sar [B, Cs, H, W]`` -> one fused map ``[B, Cm, H, W]``."""

    def __init__(self, ms_dim: int, sar_dim: int, num_heads: int, reduction: int = 2) -> None:
        super().__init__()
        dim, inner = ms_dim, ms_dim // reduction
        self.sar_to_ms = _projection(sar_dim, ms_dim)
        self.split_ms = nn.Linear(dim, 2 * inner)
        self.split_sar = nn.Linear(dim, 2 * inner)
        self.cross = MutualCrossAttention(inner, num_heads)
        self.merge_ms = nn.Linear(2 * inner, dim)
        self.merge_sar = nn.Linear(2 * inner, dim)
        self.norm_ms = nn.LayerNorm(dim)
        self.norm_sar = nn.LayerNorm(dim)
        self.residual = nn.Conv2d(2 * dim, dim, 1, bias=False)
        self.embed = nn.Sequential(
            nn.Conv2d(2 * dim, dim, 1),
            nn.Conv2d(dim, dim, 3, padding=1, groups=dim),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, 1),
            nn.BatchNorm2d(dim),
        )
        self.norm = nn.BatchNorm2d(dim)

    def forward(self, ms: Tensor, sar: Tensor) -> Tensor:
        height, width = ms.shape[2:]
        a, b = map_to_tokens(ms), map_to_tokens(self.sar_to_ms(sar))
        keep_a, query_a = F.relu(self.split_ms(a)).chunk(2, dim=-1)
        keep_b, query_b = F.relu(self.split_sar(b)).chunk(2, dim=-1)
        read_a, read_b = self.cross(query_a, query_b)
        a = self.norm_ms(a + self.merge_ms(torch.cat([keep_a, read_a], dim=-1)))
        b = self.norm_sar(b + self.merge_sar(torch.cat([keep_b, read_b], dim=-1)))
        merged = torch.cat([tokens_to_map(a, height, width), tokens_to_map(b, height, width)], dim=1)
        return self.norm(self.residual(merged) + self.embed(merged))


class SpecSARFormer(nn.Module):
    """Two MiT branches with a DMEM and an MMAM after every stage and an all-MLP decoder."""

    def __init__(self, optical_channels: int, sar_channels: int, num_classes: int, config: SpecSARConfig) -> None:
        super().__init__()
        self.optical_encoder = MiTEncoder(optical_channels, config.optical)
        self.sar_encoder = MiTEncoder(sar_channels, config.sar)
        ms_dims, sar_dims = config.optical.dims, config.sar.dims
        self.enhance = nn.ModuleList(
            DualModalEnhancement(m, s, config.dmem_reduction) for m, s in zip(ms_dims, sar_dims, strict=True)
        )
        self.aggregate = nn.ModuleList(
            MutualModalAggregation(m, s, h, config.mmam_reduction)
            for m, s, h in zip(ms_dims, sar_dims, config.optical.heads, strict=True)
        )
        self.decoder = MLPDecoder(ms_dims, config.decoder_dim, num_classes)
        for module in (self.enhance, self.aggregate):
            module.apply(init_transformer_weights)
        init_decoder_weights(self.decoder)

    def forward(self, optical: Tensor, sar: Tensor) -> dict[str, Tensor]:
        ms, radar, fused = optical, sar, []
        for ms_stage, sar_stage, enhance, aggregate in zip(
            self.optical_encoder.stages, self.sar_encoder.stages, self.enhance, self.aggregate, strict=True
        ):
            ms, radar = enhance(ms_stage(ms), sar_stage(radar))
            fused.append(aggregate(ms, radar))
        return {"logits": self.decoder(fused, output_size=optical.shape[2:])}


def specsar_former_card(variant: str) -> ModelCard:
    """Default card: the Dynamic World inputs (S2 9 bands + S1 VV/VH dB) and its 9 classes."""
    description = (
        f"SpecSAR-Former {variant}: two-branch MiT transformer (multispectral branch larger than SAR) with "
        "dual-modal enhancement and mutual aggregation at every stage, all-MLP decoder, focal loss"
    )
    notes = PAPER_NOTES if variant == "paper" else LITE_NOTES + PAPER_NOTES
    tile = 512 if variant == "paper" else 256
    return demo_card("specsar_former", variant, description=description, reconstruction_notes=notes, tile_size=tile)


@register("specsar_former", variants=SPECSAR_VARIANTS, card=specsar_former_card)
def build_specsar_former(card: ModelCard) -> SpecSARFormer:
    optical, sar = require_both_modalities(card)
    return SpecSARFormer(optical, sar, card.num_classes, CONFIGS[card.variant])
