"""``landfuse models``: list registered models, or print one model's parameters and MACs per component.

``landfuse models`` lists ``name variant parameters`` for every registered model.
``landfuse models cloudseg --variant paper --size 256 256`` prints parameters and MACs per component
at that input size (batch 1). MACs count convolutions and matrix products, attention included
(see ``backend/models/profiling.py``); the model is built on the ``meta`` device, so paper-size
models are counted without allocating or computing anything.
"""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="architecture to profile (omit to list every registered model)")
    parser.add_argument("--variant", default="lite", help="variant (default: lite)")
    parser.add_argument("--size", nargs=2, type=int, metavar=("H", "W"), default=(256, 256), help="input size")
    parser.add_argument("--depth", type=int, default=1, help="component depth in the module tree (default: 1)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def profile(name: str, variant: str, height: int, width: int, depth: int = 1) -> dict:
    """Parameters and MACs of ``name``/``variant`` at ``height x width``, batch 1, per component."""
    import torch

    from ..errors import BadParamsError
    from ..models.export import example_inputs
    from ..models.profiling import count_macs, count_parameters, parameter_breakdown
    from ..models.registry import build_model, default_card

    card = default_card(name, variant)
    if height % card.size_multiple or width % card.size_multiple or height <= 0 or width <= 0:
        raise BadParamsError(
            f"--size must be positive multiples of {card.size_multiple}, got {height} x {width}: "
            f"try {max(card.size_multiple, round(height / card.size_multiple) * card.size_multiple)}"
        )
    with torch.device("meta"):
        model = build_model(card).eval()
        inputs = {k: v.to("meta") for k, v in example_inputs(card, 1, height, width).items()}
        macs = count_macs(model, (inputs.get("optical"), inputs.get("sar")), depth)
    params = parameter_breakdown(model, depth)
    components = sorted(set(params) | set(macs.per_component), key=lambda c: -params.get(c, 0))
    return {
        "model": card.name,
        "input": {"batch": 1, "height": height, "width": width, **{k: v.shape[1] for k, v in inputs.items()}},
        "parameters": count_parameters(model),
        "macs": macs.total,
        "attention_macs": macs.attention,
        "mac_convention": "multiply-accumulates of convolutions and matrix products (attention included)",
        "components": [
            {"name": c, "parameters": params.get(c, 0), "macs": macs.per_component.get(c, 0)} for c in components
        ],
    }


def _table(report: dict) -> str:
    lines = [
        f"{report['model']} at {report['input']['height']} x {report['input']['width']} (batch 1)",
        f"{'component':<40} {'parameters':>14} {'GMACs':>10}",
    ]
    for c in report["components"]:
        lines.append(f"{c['name']:<40} {c['parameters']:>14,} {c['macs'] / 1e9:>10.3f}")
    lines.append(f"{'total':<40} {report['parameters']:>14,} {report['macs'] / 1e9:>10.3f}")
    lines.append(f"(of which attention products {report['attention_macs'] / 1e9:.3f} GMACs)")
    lines.append(f"MACs: {report['mac_convention']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..models.registry import list_models

    if args.name is None:
        for name, variant in list_models():
            print(f"{name:<16} {variant}")
        return 0
    report = profile(args.name, args.variant, *args.size, depth=args.depth)
    print(json.dumps(report, indent=2) if args.json else _table(report))
    return 0
