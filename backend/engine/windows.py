"""Sliding windows over a grid and the smooth blending weights of their outputs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


def window_starts(length: int, tile: int, stride: int) -> list[int]:
    """Start offsets along one axis (mmsegmentation slide order): every ``stride`` pixels, the last
    window shifted inward to end at the border; one window at 0 when ``length <= tile``."""
    if length <= tile:
        return [0]
    count = (length - tile + stride - 1) // stride + 1
    return [min(i * stride, length - tile) for i in range(count)]


def ramp_weights(length: int, overlap: int) -> np.ndarray:
    """1-D weights, float32 [length]: linear ramp over ``overlap`` pixels at both ends, 1 inside, > 0."""
    position = np.arange(length, dtype=np.float64)
    distance = np.minimum(position + 1, length - position)
    return np.clip(distance / (overlap + 1), 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class WindowPlan:
    """Windows of ``tile`` x ``tile`` model input over a ``height`` x ``width`` grid.

    A window covers ``min(tile, height)`` x ``min(tile, width)`` grid pixels; smaller rasters are
    padded to the tile at the bottom/right before the model runs.
    """

    height: int
    width: int
    tile: int
    overlap: int

    def __post_init__(self) -> None:
        if not 0 <= self.overlap < self.tile:
            raise ValueError(f"overlap must be in [0, tile_size), got {self.overlap} for tile {self.tile}")

    @property
    def stride(self) -> int:
        return self.tile - self.overlap

    @property
    def window_height(self) -> int:
        return min(self.tile, self.height)

    @property
    def window_width(self) -> int:
        return min(self.tile, self.width)

    @cached_property
    def row_starts(self) -> list[int]:
        return window_starts(self.height, self.tile, self.stride)

    @cached_property
    def col_starts(self) -> list[int]:
        return window_starts(self.width, self.tile, self.stride)

    @property
    def count(self) -> int:
        return len(self.row_starts) * len(self.col_starts)

    def __iter__(self):
        """Windows in raster order as (row index, col index, y0, x0)."""
        for r, y0 in enumerate(self.row_starts):
            for c, x0 in enumerate(self.col_starts):
                yield r, c, y0, x0

    @cached_property
    def weights(self) -> np.ndarray:
        """Blend weights, float32 [window_height, window_width], all > 0."""
        return np.outer(ramp_weights(self.window_height, self.overlap), ramp_weights(self.window_width, self.overlap))

    def weight_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-row and per-column sums of the 1-D blend weights over all windows, float32 [height], [width];
        their outer product is the total weight of every pixel."""
        sums = []
        for length, starts, size in (
            (self.height, self.row_starts, self.window_height),
            (self.width, self.col_starts, self.window_width),
        ):
            total = np.zeros(length, np.float32)
            ramp = ramp_weights(size, self.overlap)
            for start in starts:
                total[start : start + size] += ramp
            sums.append(total)
        return sums[0], sums[1]

    @cached_property
    def max_carry_rows(self) -> int:
        """Most rows one tile row shares with the next (what the streaming accumulator keeps)."""
        starts = self.row_starts
        return max([a + self.window_height - b for a, b in zip(starts, starts[1:], strict=False)], default=0)
