"""Parameter and MAC counts of any model, per component.

MACs (multiply-accumulates) are counted at the ATen level while the model runs, by a dispatch
mode that sees every convolution and matrix product: ``convolution`` (output elements x input
channels per group x kernel area), ``mm``/``addmm``/``bmm``/``baddbmm`` (``m x n x k`` per matrix),
so linear layers and the attention products (``Q K^T``, ``A V``) are included. Normalisation,
activations, pooling, interpolation and element-wise operations are not counted (the convention of
fvcore and of the SegFormer-family papers, which report MACs as "FLOPs"). The attention products
are also reported on their own (``attention_macs``: matrix products not issued by a ``Linear``),
for comparison with counters that skip them (mmcv's ``get_flops``).

Runs on the ``meta`` device when asked, so paper-size models are counted without computing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


def parameter_breakdown(model: nn.Module, depth: int = 1) -> dict[str, int]:
    """Parameters per component: names cut to ``depth`` dotted parts -> count (unused modules included)."""
    counts: dict[str, int] = defaultdict(int)
    for name, param in model.named_parameters():
        counts[".".join(name.split(".")[:depth])] += param.numel()
    return dict(counts)


def count_parameters(model: nn.Module) -> int:
    """All parameters in the state dict (buffers such as BatchNorm statistics excluded)."""
    return sum(p.numel() for p in model.parameters())


def _matmul_macs(func, args, out: Tensor) -> int:
    if func in (aten.mm.default, aten.bmm.default):
        return out.numel() * args[0].shape[-1]
    if func in (aten.addmm.default, aten.baddbmm.default):
        return out.numel() * args[1].shape[-1]
    return 0


def _conv_macs(args, out: Tensor) -> int:
    weight = args[1]
    return out.numel() * weight.shape[1] * math.prod(weight.shape[2:])


@dataclass
class MacReport:
    """MAC totals: ``total``, ``attention`` (matrix products outside ``Linear``), ``per_component``."""

    total: int = 0
    attention: int = 0
    per_component: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class _MacCounter(TorchDispatchMode):
    def __init__(self, report: MacReport, depth: int) -> None:
        super().__init__()
        self.report = report
        self.depth = depth
        self.stack: list[tuple[str, nn.Module]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        is_conv = func is aten.convolution.default
        macs = _conv_macs(args, out) if is_conv else _matmul_macs(func, args, out)
        if macs:
            self.report.total += macs
            name, module = self.stack[-1] if self.stack else ("", None)
            if not is_conv and not isinstance(module, nn.Linear):
                self.report.attention += macs
            self.report.per_component[".".join(name.split(".")[: self.depth]) or "(top)"] += macs
        return out


def count_macs(model: nn.Module, inputs: tuple, depth: int = 1) -> MacReport:
    """Run ``model(*inputs)`` without gradients and count its MACs, per component cut to ``depth``."""
    report = MacReport()
    counter = _MacCounter(report, depth)

    def leave(module: nn.Module, args: tuple, output: object) -> None:
        counter.stack.pop()

    handles = []
    for name, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(lambda m, a, n=name: counter.stack.append((n, m))))
        handles.append(module.register_forward_hook(leave))
    try:
        with torch.no_grad(), counter:
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    report.per_component = dict(report.per_component)
    return report
