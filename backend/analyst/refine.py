"""Full-resolution refinement of a model's logits, an option of training from reference data.

The lite variants predict at a quarter of the input resolution and upsample their logits bilinearly, which
rounds the corners of small fields and fills narrow strips between them. ``Refined`` wraps any registered
model without touching it: its logits (already at the input size) go, with the input bands, through a
shallow network at full resolution, ``3 x 3`` convolution to ``hidden`` channels, ReLU, ``1 x 1``
convolution to the classes, whose output is added to them. The last convolution starts at zero, so training
starts from the model's own logits. The wrapper follows the model contract (``model(optical, sar) ->
{"logits", ...}``, other outputs passed through), so it trains with the architecture's own loss and exports
to ONNX like the model itself.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

REFINE_HIDDEN = 16


class Refined(nn.Module):
    """``model`` with its logits refined at full resolution (module docstring).

    channels: input bands (optical + SAR) the model reads; classes: logits channels ``K``.
    Forward: ``optical [B, Co, H, W]``, ``sar [B, Cs, H, W]`` (either may be ``None``) ->
    the model's outputs with ``logits [B, K, H, W]`` refined.
    """

    def __init__(self, model: nn.Module, channels: int, classes: int, hidden: int = REFINE_HIDDEN) -> None:
        super().__init__()
        self.model = model
        self.refine = nn.Sequential(
            nn.Conv2d(channels + classes, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, classes, 1)
        )
        nn.init.zeros_(self.refine[2].weight)
        nn.init.zeros_(self.refine[2].bias)

    def forward(self, optical: Tensor | None, sar: Tensor | None) -> dict[str, Tensor]:
        outputs = self.model(optical, sar)
        logits = outputs["logits"]
        inputs = torch.cat([t for t in (optical, sar) if t is not None] + [logits], dim=1)
        return {**outputs, "logits": logits + self.refine(inputs)}
