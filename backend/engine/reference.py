"""Plain in-memory slide inference: the yardstick the streaming pipeline is tested against.

It reads the whole grid at once and runs the same windows, padding and blend weights over the
full arrays (mmsegmentation-style slide inference with a weighted count matrix). Only for small
rasters: memory grows with the raster.
"""

from __future__ import annotations

import numpy as np

from .blend import normalise_blend, softmax
from .source import ModelInputSource, pad_to
from .windows import WindowPlan


def slide_inference(plan: WindowPlan, source: ModelInputSource, runner) -> tuple[np.ndarray, np.ndarray]:
    """Blended probabilities float32 [K, H, W] (0 where invalid) and validity bool [H, W]."""
    arrays, valid = source.read(0, 0, plan.height, plan.width)
    classes = runner.card.num_classes
    sums = np.zeros((classes, plan.height, plan.width), np.float32)
    weight = np.zeros((plan.height, plan.width), np.float32)
    th, tw = plan.window_height, plan.window_width
    for _, _, y0, x0 in plan:
        rows, cols = slice(y0, y0 + th), slice(x0, x0 + tw)
        if not valid[rows, cols].any():
            continue
        inputs = {k: pad_to(v[:, rows, cols], plan.tile, plan.tile)[None] for k, v in arrays.items()}
        probs = softmax(runner.run(inputs)["logits"][:, :, :th, :tw].astype(np.float32))[0]
        sums[:, rows, cols] += probs * plan.weights
        weight[rows, cols] += plan.weights
    probs = normalise_blend(sums, weight)
    probs[:, ~valid] = 0.0
    return probs, valid
