"""``landfuse import-official``: a published checkpoint -> a LandFuse model file (ONNX or checkpoint) with its card.

``landfuse import-official cloudseg StudentNet.pth cloudseg-m3m.onnx`` imports the official CloudSeg
student (``--teacher`` for ``TeacherNet.pth``); an output ending in ``.pt`` is a LandFuse checkpoint
(``{"card", "state_dict"}``) instead of ONNX. The mapping is strict (``backend/models/official.py``);
``--check`` compares ONNX Runtime with torch on random 160 x 160 input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ARCHITECTURES = ("cloudseg",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("architecture", choices=ARCHITECTURES, help="the published model family")
    parser.add_argument("checkpoint", help="the official file (CloudSeg: StudentNet.pth or TeacherNet.pth)")
    parser.add_argument("output", help="the LandFuse model to write: .onnx, or .pt for a checkpoint")
    parser.add_argument("--teacher", action="store_true", help="the file is the teacher (CloudSeg TeacherNet.pth)")
    parser.add_argument("--check", action="store_true", help="compare ONNX Runtime with torch on random input")


def write_checkpoint(path: Path, model, card) -> Path:
    """``{"card", "state_dict"}`` as LandFuse training writes it (loads with ``TorchRunner`` and ``export``)."""
    import torch

    from ..errors import NotWritableError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"card": card.to_dict(), "state_dict": model.state_dict()}, path)
    except OSError as exc:
        raise NotWritableError(f"cannot write {path}: {exc}; choose a writable output path") from exc
    return path


def run(args: argparse.Namespace) -> int:
    from ..errors import BadParamsError
    from ..models.export import export_onnx, onnx_parity
    from ..models.official import OFFICIAL_WINDOW, import_checkpoint

    output = Path(args.output)
    if output.suffix not in (".onnx", ".pt"):
        raise BadParamsError(f"the output must end in .onnx or .pt, got {output.name}")
    result = import_checkpoint(args.checkpoint, teacher=args.teacher)
    for line in result.lines():
        print(line)
    if output.suffix == ".pt":
        write_checkpoint(output, result.model, result.card)
    else:
        export_onnx(result.model, result.card, output)
    print(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB, card {result.card.name})")
    if args.check and output.suffix == ".onnx":
        size = OFFICIAL_WINDOW
        differences = onnx_parity(result.model, result.card, output, height=size, width=size)
        print("max |onnx - torch|: " + ", ".join(f"{k} {v:.2e}" for k, v in differences.items()))
        if max(differences.values()) > 1e-4:
            print("parity check FAILED (tolerance 1e-4)")
            return 1
    return 0
