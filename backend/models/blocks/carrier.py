"""FasterViT-style hierarchical attention (HAT) with carrier tokens (Hatamizadeh et al. 2024).

Feature maps are split into ``w x w`` windows. A few carrier tokens per window (``ct x ct``,
average-pooled after a depth-wise positional convolution) summarise it. Each block:

1. global attention + MLP among all carrier tokens of the image (cost ``(N / w^2 * ct^2)^2``
   instead of ``N^2``);
2. inside each window, attention + MLP over its ``w^2`` tokens together with its own carriers, so
   local tokens see the global summary;
3. in the last block of a stage the carriers are upsampled (nearest) and added to the tokens.

Attention is blind to order, so each block gives it positions, as FasterViT does with its
position-embedding MLPs (our form of it): the carrier grid passes through a depth-wise 3 x 3
convolution added to it (a conditional position encoding, which works at any tile size) before the
global attention, and a learned embedding of the ``w^2`` window positions and ``ct^2`` carrier
slots is added to the tokens before the window attention.

Carrier pooling accepts a per-pixel ``reliability`` weight ``[B, 1, H, W]`` in 0..1: carriers are
then weighted averages, so unreliable pixels (e.g. cloud) barely enter the global context.
Maps whose size is not a multiple of ``w`` are zero-padded at the bottom/right; padded pixels get
reliability 0 and are cropped off at the end.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .mit import (
    DropPath,
    MiTLayerNorm,
    OverlapPatchEmbed,
    SpatialReductionAttention,
    init_transformer_weights,
    map_to_tokens,
    tokens_to_map,
)


def window_partition(x: Tensor, window: int) -> Tensor:
    """``[B, C, H, W]`` (H, W multiples of ``window``) -> ``[B * H/w * W/w, w * w, C]``."""
    batch, channels, height, width = x.shape
    x = x.reshape(batch, channels, height // window, window, width // window, window)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(-1, window * window, channels)


def window_reverse(windows: Tensor, window: int, height: int, width: int) -> Tensor:
    """Inverse of ``window_partition``: ``[B * H/w * W/w, w * w, C]`` -> ``[B, C, H, W]``."""
    channels = windows.shape[-1]
    x = windows.reshape(-1, height // window, width // window, window, window, channels)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(-1, channels, height, width)


class Mlp(nn.Sequential):
    """Linear -> GELU -> Linear on tokens ``[..., C]``."""

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__(nn.Linear(dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, dim))


class CarrierTokenInitializer(nn.Module):
    """``x [B, C, H, W]`` (+ ``reliability [B, 1, H, W]``) -> carriers ``[B, C, H*ct/w, W*ct/w]``."""

    def __init__(self, dim: int, window_size: int, ct_size: int = 2) -> None:
        super().__init__()
        if window_size % ct_size:
            raise ValueError(f"window_size {window_size} must be a multiple of ct_size {ct_size}")
        self.pos = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.kernel = window_size // ct_size

    def forward(self, x: Tensor, reliability: Tensor | None = None) -> Tensor:
        x = self.pos(x)
        if reliability is None:
            return F.avg_pool2d(x, self.kernel)
        weight_sum = F.avg_pool2d(reliability, self.kernel)
        return F.avg_pool2d(x * reliability, self.kernel) / weight_sum.clamp_min(1e-6)


class CarrierTokenBlock(nn.Module):
    """One HAT block: ``(x [B, C, H, W], carriers [B, C, H*ct/w, W*ct/w])`` -> same shapes.

    ``carrier_position`` (depth-wise 3 x 3 convolution of the carrier grid) and ``window_position``
    (``[1, w*w + ct*ct, C]``, added to each window's tokens and carriers) give the attention positions.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window_size: int,
        ct_size: int = 2,
        mlp_ratio: float = 4.0,
        drop_path: float = 0.0,
        propagate: bool = False,
    ) -> None:
        super().__init__()
        self.window_size = window_size
        self.ct_size = ct_size
        self.propagate = propagate
        hidden = int(dim * mlp_ratio)
        self.hat_norm1 = MiTLayerNorm(dim)
        self.hat_attn = SpatialReductionAttention(dim, num_heads)
        self.hat_norm2 = MiTLayerNorm(dim)
        self.hat_mlp = Mlp(dim, hidden)
        self.norm1 = MiTLayerNorm(dim)
        self.attn = SpatialReductionAttention(dim, num_heads)
        self.norm2 = MiTLayerNorm(dim)
        self.mlp = Mlp(dim, hidden)
        self.drop_path = DropPath(drop_path)
        self.carrier_position = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.window_position = nn.Parameter(torch.zeros(1, window_size * window_size + ct_size * ct_size, dim))
        nn.init.trunc_normal_(self.window_position, std=0.02)

    @staticmethod
    def _self_attention(attn: SpatialReductionAttention, x: Tensor) -> Tensor:
        return attn.attend(x, x)

    def forward(self, x: Tensor, carriers: Tensor) -> tuple[Tensor, Tensor]:
        height, width = x.shape[2], x.shape[3]
        ct_height, ct_width = carriers.shape[2], carriers.shape[3]
        ct = map_to_tokens(carriers + self.carrier_position(carriers))
        ct = ct + self.drop_path(self._self_attention(self.hat_attn, self.hat_norm1(ct)))
        ct = ct + self.drop_path(self.hat_mlp(self.hat_norm2(ct)))
        carriers = tokens_to_map(ct, ct_height, ct_width)

        local = window_partition(x, self.window_size)
        tokens = torch.cat([local, window_partition(carriers, self.ct_size)], dim=1) + self.window_position
        tokens = tokens + self.drop_path(self._self_attention(self.attn, self.norm1(tokens)))
        tokens = tokens + self.drop_path(self.mlp(self.norm2(tokens)))
        n_local = self.window_size * self.window_size
        x = window_reverse(tokens[:, :n_local], self.window_size, height, width)
        carriers = window_reverse(tokens[:, n_local:], self.ct_size, ct_height, ct_width)
        if self.propagate:
            x = x + F.interpolate(carriers, scale_factor=float(self.window_size // self.ct_size), mode="nearest")
        return x, carriers


class CarrierTokenStage(nn.Module):
    """Overlapped patch embedding + HAT blocks + LayerNorm: ``[B, Cin, H, W]`` -> ``[B, dim, H/s, W/s]``.

    Same interface as ``MiTStage`` (``embed``, ``forward_embedded``, ``forward``), plus an optional
    ``reliability [B, 1, H/s, W/s]`` weighting the carrier-token pooling.
    """

    def __init__(
        self,
        in_channels: int,
        dim: int,
        depth: int,
        num_heads: int,
        window_size: int = 8,
        ct_size: int = 2,
        mlp_ratio: float = 4.0,
        patch_size: int = 3,
        stride: int = 2,
        drop_path: Sequence[float] = (),
    ) -> None:
        super().__init__()
        rates = list(drop_path) or [0.0] * depth
        self.window_size = window_size
        self.patch_embed = OverlapPatchEmbed(in_channels, dim, patch_size, stride)
        self.carrier_init = CarrierTokenInitializer(dim, window_size, ct_size)
        self.blocks = nn.ModuleList(
            CarrierTokenBlock(dim, num_heads, window_size, ct_size, mlp_ratio, rates[i], propagate=i == depth - 1)
            for i in range(depth)
        )
        self.norm = MiTLayerNorm(dim)
        self.apply(init_transformer_weights)

    def embed(self, x: Tensor) -> Tensor:
        """Patch embedding only: ``[B, Cin, H, W]`` -> ``[B, dim, H/stride, W/stride]``."""
        tokens, height, width = self.patch_embed(x)
        return tokens_to_map(tokens, height, width)

    def forward_embedded(self, x: Tensor, reliability: Tensor | None = None) -> Tensor:
        """HAT blocks and norm on an embedded map ``[B, dim, h, w]`` -> ``[B, dim, h, w]``."""
        height, width = x.shape[2], x.shape[3]
        pad_h = (self.window_size - height % self.window_size) % self.window_size
        pad_w = (self.window_size - width % self.window_size) % self.window_size
        if reliability is None:
            reliability = torch.ones_like(x[:, :1])
        x = F.pad(x, (0, pad_w, 0, pad_h))
        carriers = self.carrier_init(x, F.pad(reliability, (0, pad_w, 0, pad_h)))
        for block in self.blocks:
            x, carriers = block(x, carriers)
        x = x[:, :, :height, :width]
        return tokens_to_map(self.norm(map_to_tokens(x)), height, width)

    def forward(self, x: Tensor, reliability: Tensor | None = None) -> Tensor:
        return self.forward_embedded(self.embed(x), reliability)
