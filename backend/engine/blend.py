"""Streaming blend of overlapping window outputs, one tile row at a time.

Windows arrive in raster order. The blender keeps one window's worth of columns of the current
tile row plus the rows it shares with the next tile row (``plan.max_carry_rows`` x width), so its
memory does not depend on the raster's height and grows with its width only by the overlap strip.
As soon as no later window can touch a block of pixels, it is handed out as a finished piece.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .exp import exp
from .windows import WindowPlan


def softmax(logits: np.ndarray, axis: int = 1) -> np.ndarray:
    """Softmax over ``axis`` (classes) of float32 ``logits``, numerically stable; a new float32 array."""
    powers = exp(logits - logits.max(axis=axis, keepdims=True))
    powers /= powers.sum(axis=axis, keepdims=True)
    return powers


@dataclass
class Piece:
    """Finished output block: grid rows ``y0..y1-1``, cols ``x0..x1-1``.

    values: blended channels float32 [channels, y1-y0, x1-x0] (0 where no window contributed);
    valid: bool [y1-y0, x1-x0]; row_done: True for the last piece of a tile row.
    """

    y0: int
    y1: int
    x0: int
    x1: int
    values: np.ndarray
    valid: np.ndarray
    row_done: bool


def normalise_blend(sums: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted sums [channels, h, w] divided by the weight [h, w]; 0 where the weight is 0."""
    return np.divide(sums, weight, out=np.zeros_like(sums), where=weight > 0)


class StreamingBlender:
    """Accumulates ``weight * values`` of each window and emits finished pieces in raster order.

    At a valid pixel every covering window ran (only all-invalid windows are skipped), so the sum
    of weights is the plan's separable ``row_sum[y] * col_sum[x]`` and needs no buffer of its own.
    """

    def __init__(self, plan: WindowPlan, channels: int):
        self.plan = plan
        self.channels = channels
        th, tw = plan.window_height, plan.window_width
        self.row_sum, self.col_sum = plan.weight_sums()
        self.local = np.zeros((channels, th, tw), np.float32)
        self.local_valid = np.zeros((th, tw), bool)
        self.carry = np.zeros((channels, plan.max_carry_rows, plan.width), np.float32)
        self.carry_valid = np.zeros((plan.max_carry_rows, plan.width), bool)
        self.carry_in = 0
        self.base = 0
        self.opened = 0

    def add(self, r: int, c: int, values: np.ndarray | None, valid: np.ndarray) -> Piece:
        """Add window (r, c): ``values`` float32 [channels, th, tw] (scaled in place by the weights) or None
        (window skipped as all-invalid), ``valid`` bool [th, tw]. Returns the piece this window finished
        (values undefined where invalid)."""
        plan, local, local_valid = self.plan, self.local, self.local_valid
        th, tw = plan.window_height, plan.window_width
        y0, x0 = plan.row_starts[r], plan.col_starts[c]
        if c == 0:
            self.base = self.opened = 0
        start, stop = self.opened - self.base, x0 + tw - self.base
        if stop > start:
            opening = slice(self.opened, x0 + tw)
            local[:, :, start:stop] = 0
            local_valid[:, start:stop] = False
            local[:, : self.carry_in, start:stop] = self.carry[:, : self.carry_in, opening]
            local_valid[: self.carry_in, start:stop] = self.carry_valid[: self.carry_in, opening]
            self.opened = x0 + tw
        span = slice(x0 - self.base, x0 - self.base + tw)
        if values is not None:
            values *= plan.weights
            local[:, :, span] += values
            local_valid[:, span] |= valid
        last_col = c + 1 == len(plan.col_starts)
        last_row = r + 1 == len(plan.row_starts)
        fin = plan.width if last_col else plan.col_starts[c + 1]
        final_rows = th if last_row else plan.row_starts[r + 1] - y0
        width = fin - self.base
        weight = self.row_sum[y0 : y0 + final_rows, None] * self.col_sum[None, self.base : fin]
        piece = Piece(
            y0,
            y0 + final_rows,
            self.base,
            fin,
            local[:, :final_rows, :width] / weight,
            local_valid[:final_rows, :width].copy(),
            last_col,
        )
        carry_out = th - final_rows
        if carry_out:
            self.carry[:, :carry_out, self.base : fin] = local[:, final_rows:, :width]
            self.carry_valid[:carry_out, self.base : fin] = local_valid[final_rows:, :width]
        keep = self.opened - fin
        if keep:
            local[:, :, :keep] = local[:, :, width : width + keep].copy()
            local_valid[:, :keep] = local_valid[:, width : width + keep].copy()
        self.base = fin
        if last_col:
            self.carry_in = carry_out
        return piece
