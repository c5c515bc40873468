"""``landfuse export``: a checkpoint (or an untrained registered model) -> one ONNX file with its card.

``landfuse export run/cloudseg-lite.pt cloudseg-lite.onnx`` exports trained weights;
``landfuse export --model cloudseg --variant lite out.onnx`` exports freshly initialised weights
(for shape and speed checks only). ``--check`` compares ONNX Runtime with torch on random input.
``--precision int8`` (CPUs) or ``fp16`` (GPUs) also writes the lower-precision copy beside the float32 file
(``OUTPUT`` -> ``<stem>.int8.onnx``), calibrated and checked as by ``landfuse quantize`` (same options).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ...common.precision import FLOAT, PRECISIONS
from .quantize import add_calibration_arguments, calibration_options, print_result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="CHECKPOINT OUTPUT, or OUTPUT with --model")
    parser.add_argument("--model", help="export an untrained registered architecture instead of a checkpoint")
    parser.add_argument("--variant", default="lite", help="variant with --model (default: lite)")
    parser.add_argument("--opset", type=int, default=18, help="ONNX opset (>= 17; default 18)")
    parser.add_argument("--check", action="store_true", help="compare ONNX Runtime with torch on random input")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=FLOAT,
        help="also write an int8 (CPUs) or fp16 (GPUs) copy beside OUTPUT, as 'landfuse quantize' does "
        "(the options below as there); default float32: the float file only",
    )
    add_calibration_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ...common.card import ModelCard
    from ..errors import BadParamsError
    from ..models.export import export_onnx, onnx_parity
    from ..models.registry import build_model, default_card

    expected = 1 if args.model else 2
    if len(args.paths) != expected:
        usage = "OUTPUT (with --model)" if args.model else "CHECKPOINT OUTPUT"
        raise BadParamsError(f"expected {usage}, got {len(args.paths)} paths: {' '.join(args.paths)}")
    if args.opset < 17:
        raise BadParamsError(f"--opset must be 17 or newer, got {args.opset}")
    quantize_options = calibration_options(args) if args.precision != FLOAT else None
    if args.model:
        card = default_card(args.model, args.variant)
        model = build_model(card)
        print(f"exporting an untrained {card.name}: its outputs are meaningless until trained")
    else:
        import torch

        from ..training import load_checkpoint

        checkpoint = load_checkpoint(args.paths[0])  # memory-mapped
        card = ModelCard.from_dict(checkpoint["card"])
        with torch.device("meta"):  # no random weights to overwrite: the model takes the mapped tensors
            model = build_model(card)
        model.load_state_dict(checkpoint["state_dict"], assign=True)
    output = export_onnx(model, card, Path(args.paths[-1]), opset=args.opset)
    print(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB, card {card.name})")
    if args.check:
        differences = onnx_parity(model, card, output)
        print("max |onnx - torch|: " + ", ".join(f"{k} {v:.2e}" for k, v in differences.items()))
        if max(differences.values()) > 1e-4:
            print("parity check FAILED (tolerance 1e-4)")
            return 1
    if quantize_options is not None:
        from ..models.quantize import quantize_model, quantized_path

        print_result(quantize_model(output, quantized_path(output, args.precision), args.precision, **quantize_options))
    return 0
