"""Mix Transformer (MiT, SegFormer) building blocks, written once and shared by every model.

Layer for layer the same modules as the SegFormer encoder in segmentation_models_pytorch (which
CloudSeg uses), so parameter counts match the published ones: MiT-B4 with 3 input channels has
60.84 M parameters. Tokens are ``[B, N, C]`` with ``N = H * W`` (row-major); stage outputs are
feature maps ``[B, C, H, W]``.

- ``OverlapPatchEmbed``: strided convolution with overlapping kernel (7x7/4 or 3x3/2) + LayerNorm
  (eps 1e-5).
- ``SpatialReductionAttention``: multi-head attention whose keys/values come from a ``sr x sr``
  strided convolution of the tokens (+ LayerNorm, eps 1e-5), so the cost is ``N * N / sr^2``.
- ``MixFFN``: Linear(C, 4C) -> depth-wise 3x3 conv -> GELU -> Linear(4C, C); the convolution gives
  the positional information, so no position embedding is needed and any input size works.
- ``MiTBlock``: ``x += attn(LN(x)); x += ffn(LN(x))`` with stochastic depth (LayerNorm eps 1e-6).
- ``MiTStage``: patch embedding, blocks, LayerNorm (eps 1e-6), back to ``[B, C, H, W]``.
- ``MiTEncoder``: four stages (strides 4, 8, 16, 32); ``MIT_CONFIGS`` holds B0..B5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from torch import Tensor, nn

#: LayerNorm of the transformer blocks and of each stage's output: SegFormer's ``norm_layer``
#: (eps 1e-6 in the NVIDIA code and in segmentation_models_pytorch).
MiTLayerNorm = partial(nn.LayerNorm, eps=1e-6)
#: LayerNorm of the patch embedding and of the spatial reduction: a plain ``nn.LayerNorm`` there
#: in the same code, so torch's default eps 1e-5.
EmbeddingLayerNorm = partial(nn.LayerNorm, eps=1e-5)


def init_transformer_weights(module: nn.Module) -> None:
    """SegFormer initialisation: truncated-normal(0.02) linears, fan-out normal convolutions, unit LayerNorms."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Conv2d):
        fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels // module.groups
        nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_out))
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch of a sample with probability ``p`` in training."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


def tokens_to_map(x: Tensor, height: int, width: int) -> Tensor:
    """``[B, H*W, C]`` -> ``[B, C, H, W]``."""
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], height, width)


def map_to_tokens(x: Tensor) -> Tensor:
    """``[B, C, H, W]`` -> ``[B, H*W, C]``."""
    return x.flatten(2).transpose(1, 2)


class OverlapPatchEmbed(nn.Module):
    """``[B, Cin, H, W]`` -> tokens ``[B, H/s * W/s, C]`` plus the new ``(H/s, W/s)``."""

    def __init__(self, in_channels: int, embed_dim: int, patch_size: int = 7, stride: int = 4) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, patch_size, stride, padding=patch_size // 2)
        self.norm = EmbeddingLayerNorm(embed_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, int, int]:
        x = self.proj(x)
        height, width = x.shape[2], x.shape[3]
        return self.norm(map_to_tokens(x)), height, width


class SpatialReductionAttention(nn.Module):
    """Multi-head self-attention over tokens ``[B, N, C]`` with keys/values reduced ``sr x sr``."""

    def __init__(self, dim: int, num_heads: int, sr_ratio: int = 1, qkv_bias: bool = True) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} must be divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, 2 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, sr_ratio)
            self.norm = EmbeddingLayerNorm(dim)

    def reduce(self, x: Tensor, height: int, width: int) -> Tensor:
        """Tokens that keys/values are computed from: ``[B, N, C]`` -> ``[B, N / sr^2, C]``."""
        if self.sr_ratio == 1:
            return x
        return self.norm(map_to_tokens(self.sr(tokens_to_map(x, height, width))))

    def attend(self, x: Tensor, context: Tensor) -> Tensor:
        """Queries from ``x [B, N, C]``, keys/values from ``context [B, M, C]`` -> ``[B, N, C]``."""
        batch, n, channels = x.shape
        heads = self.num_heads
        q = self.q(x).reshape(batch, n, heads, channels // heads).transpose(1, 2)
        kv = self.kv(context).reshape(batch, -1, 2, heads, channels // heads).permute(2, 0, 3, 1, 4)
        attn = (q @ kv[0].transpose(-2, -1)) * self.scale
        out = attn.softmax(dim=-1) @ kv[1]
        return self.proj(out.transpose(1, 2).reshape(batch, n, channels))

    def forward(self, x: Tensor, height: int, width: int) -> Tensor:
        return self.attend(x, self.reduce(x, height, width))


class MixFFN(nn.Module):
    """Feed-forward with a depth-wise 3x3 convolution: tokens ``[B, N, C]`` -> ``[B, N, C]``."""

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.dwconv = nn.Conv2d(hidden_dim, hidden_dim, 3, 1, 1, groups=hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x: Tensor, height: int, width: int) -> Tensor:
        x = self.fc1(x)
        x = map_to_tokens(self.dwconv(tokens_to_map(x, height, width)))
        return self.fc2(self.act(x))


class MiTBlock(nn.Module):
    """Transformer block of the MiT encoder: tokens ``[B, N, C]`` at ``(H, W)`` -> ``[B, N, C]``."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        sr_ratio: int = 1,
        qkv_bias: bool = True,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        self.norm1 = MiTLayerNorm(dim)
        self.attn = SpatialReductionAttention(dim, num_heads, sr_ratio, qkv_bias)
        self.norm2 = MiTLayerNorm(dim)
        self.mlp = MixFFN(dim, int(dim * mlp_ratio))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: Tensor, height: int, width: int) -> Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), height, width))
        return x + self.drop_path(self.mlp(self.norm2(x), height, width))


class MiTStage(nn.Module):
    """One encoder stage: ``[B, Cin, H, W]`` -> ``[B, dim, H/stride, W/stride]``.

    ``drop_path`` is one rate per block (stochastic-depth schedule of the whole encoder).
    """

    def __init__(
        self,
        in_channels: int,
        dim: int,
        depth: int,
        num_heads: int,
        sr_ratio: int,
        mlp_ratio: float = 4.0,
        patch_size: int = 3,
        stride: int = 2,
        drop_path: Sequence[float] = (),
        qkv_bias: bool = True,
    ) -> None:
        super().__init__()
        rates = list(drop_path) or [0.0] * depth
        self.patch_embed = OverlapPatchEmbed(in_channels, dim, patch_size, stride)
        self.blocks = nn.ModuleList(
            MiTBlock(dim, num_heads, mlp_ratio, sr_ratio, qkv_bias, rates[i]) for i in range(depth)
        )
        self.norm = MiTLayerNorm(dim)
        self.apply(init_transformer_weights)

    def embed(self, x: Tensor) -> Tensor:
        """Patch embedding only: ``[B, Cin, H, W]`` -> ``[B, dim, H/stride, W/stride]``."""
        tokens, height, width = self.patch_embed(x)
        return tokens_to_map(tokens, height, width)

    def forward_embedded(self, x: Tensor) -> Tensor:
        """Blocks and norm on an embedded map ``[B, dim, h, w]`` -> ``[B, dim, h, w]``."""
        height, width = x.shape[2], x.shape[3]
        x = map_to_tokens(x)
        for block in self.blocks:
            x = block(x, height, width)
        return tokens_to_map(self.norm(x), height, width)

    def forward(self, x: Tensor) -> Tensor:
        x, height, width = self.patch_embed(x)
        for block in self.blocks:
            x = block(x, height, width)
        return tokens_to_map(self.norm(x), height, width)


@dataclass(frozen=True)
class MiTConfig:
    """Widths and depths of a four-stage MiT encoder."""

    dims: tuple[int, int, int, int] = (64, 128, 320, 512)
    depths: tuple[int, int, int, int] = (3, 8, 27, 3)
    heads: tuple[int, int, int, int] = (1, 2, 5, 8)
    sr_ratios: tuple[int, int, int, int] = (8, 4, 2, 1)
    mlp_ratios: tuple[float, float, float, float] = (4.0, 4.0, 4.0, 4.0)
    drop_path_rate: float = 0.1


#: The SegFormer encoders (Xie et al. 2021, Table 6). B4 is CloudSeg's encoder.
MIT_CONFIGS: dict[str, MiTConfig] = {
    "b0": MiTConfig(dims=(32, 64, 160, 256), depths=(2, 2, 2, 2)),
    "b1": MiTConfig(dims=(64, 128, 320, 512), depths=(2, 2, 2, 2)),
    "b2": MiTConfig(depths=(3, 4, 6, 3)),
    "b3": MiTConfig(depths=(3, 4, 18, 3)),
    "b4": MiTConfig(depths=(3, 8, 27, 3)),
    "b5": MiTConfig(depths=(3, 6, 40, 3)),
}


def drop_path_schedule(depths: Sequence[int], rate: float) -> list[list[float]]:
    """Stochastic-depth rates rising linearly from 0 to ``rate`` over all blocks, split per stage."""
    total = sum(depths)
    rates = [rate * i / (total - 1) if total > 1 else 0.0 for i in range(total)]
    out, start = [], 0
    for depth in depths:
        out.append(rates[start : start + depth])
        start += depth
    return out


class MiTEncoder(nn.Module):
    """Four MiT stages: ``[B, Cin, H, W]`` -> ``[f1, f2, f3, f4]`` at strides 4, 8, 16, 32.

    ``stages[i]`` are exposed so fusion models can run the stages of several encoders in lock step
    and mix features in between (CloudSeg, SpecSAR-Former, CLAIRE).
    """

    def __init__(self, in_channels: int, config: MiTConfig | None = None) -> None:
        super().__init__()
        cfg = config or MiTConfig()
        self.config = cfg
        rates = drop_path_schedule(cfg.depths, cfg.drop_path_rate)
        stages, previous = [], in_channels
        for i in range(4):
            patch, stride = (7, 4) if i == 0 else (3, 2)
            stages.append(
                MiTStage(
                    previous,
                    cfg.dims[i],
                    cfg.depths[i],
                    cfg.heads[i],
                    cfg.sr_ratios[i],
                    cfg.mlp_ratios[i],
                    patch,
                    stride,
                    rates[i],
                )
            )
            previous = cfg.dims[i]
        self.stages = nn.ModuleList(stages)

    @property
    def out_channels(self) -> tuple[int, int, int, int]:
        return self.config.dims

    def forward(self, x: Tensor) -> list[Tensor]:
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features
