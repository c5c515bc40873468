"""SpecSAR-Former and CLAIRE reconstructions: paper sizes, compute and paper-size ONNX parity.

A section of ``bench/results/models.json`` (``bench/models.py`` stores ``measure()`` under
``models_reconstructions``):

- ``specsar_former``: ``paper`` parameters against the paper's 26.70 M (goal: within 2 %) and
  multiply-accumulates at 512 x 512 against its 109.59 G (goal: within 10 %), with the Dynamic
  World inputs (Sentinel-2 B2-B8, B11, B12 + Sentinel-1 VV, VH; 9 classes); the counting
  convention is stated next to the numbers, with the total also split into attention products
  and the rest (what counters that skip attention products, such as mmcv's, would report);
- ``claire``: ``paper`` parameters per component (the paper states no size; the card says why this one);
- ``lite`` parameters of both;
- ``paper_checks``: each paper model's forward and backward at 64 x 96 (finite gradients), ONNX
  export and ONNX Runtime parity at 256 x 256 (goal: max |ONNX - torch| <= 1e-4), and the batch-1
  512 x 512 forward time on this machine's device.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch

from landfuse.backend.models.export import example_inputs, export_onnx, onnx_parity
from landfuse.backend.models.profiling import count_macs, count_parameters, parameter_breakdown
from landfuse.backend.models.registry import build_model, default_card

MODELS = ("specsar_former", "claire")
SPECSAR_PAPER = {"parameters": 26.70e6, "macs_512": 109.59e9}
COUNT_SIZE = 512
PARITY_SIZE = 256
MAC_CONVENTION = (
    "multiply-accumulates (MACs) of convolutions and matrix products, counted at the ATen level while the model "
    "runs: linear layers and the attention products Q K^T and A V included; normalisation, activations, softmax, "
    "pooling, interpolation and element-wise operations not counted; batch 1. SegFormer-family papers report "
    "this count as 'FLOPs' (1 MAC = 1 FLOP)."
)


def _counted(name: str, variant: str) -> dict:
    """Parameters (total, per component) and MACs at 512 x 512, counted on the meta device."""
    card = default_card(name, variant)
    with torch.device("meta"):
        model = build_model(card).eval()
        inputs = tuple(example_inputs(card, 1, COUNT_SIZE, COUNT_SIZE).values())
        macs = count_macs(model, inputs)
    return {
        "input": {
            "batch": 1,
            "height": COUNT_SIZE,
            "width": COUNT_SIZE,
            "optical_bands": [b.name for b in card.optical_bands],
            "sar_bands": [b.name for b in card.sar_bands],
            "classes": card.num_classes,
        },
        "parameters": count_parameters(model),
        "parameters_per_component": parameter_breakdown(model),
        "macs": macs.total,
        "macs_attention_products": macs.attention,
        "macs_without_attention_products": macs.total - macs.attention,
        "macs_per_component": macs.per_component,
        "reconstruction_notes": card.reconstruction_notes,
    }


def specsar_former_against_paper() -> dict:
    counted = _counted("specsar_former", "paper")
    params_error = counted["parameters"] / SPECSAR_PAPER["parameters"] - 1.0
    macs_error = counted["macs"] / SPECSAR_PAPER["macs_512"] - 1.0
    return {
        **counted,
        "mac_convention": MAC_CONVENTION,
        "paper": {"parameters": SPECSAR_PAPER["parameters"], "gflops_as_macs": SPECSAR_PAPER["macs_512"]},
        "parameters_relative_error": params_error,
        "parameters_within_2_percent": abs(params_error) <= 0.02,
        "macs_relative_error": macs_error,
        "macs_within_10_percent": abs(macs_error) <= 0.10,
    }


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _forward_backward(model: torch.nn.Module, card) -> dict:
    model.train()
    inputs = example_inputs(card, 2, 64, 96)
    logits = model(inputs["optical"], inputs["sar"])["logits"]
    logits.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    model.zero_grad(set_to_none=True)
    return {
        "logits_shape": list(logits.shape),
        "parameters_with_gradient": sum(g.numel() for g in grads),
        "gradients_finite": all(bool(torch.isfinite(g).all()) for g in grads),
    }


def _forward_seconds(model: torch.nn.Module, card, repeats: int = 3) -> dict:
    device = _device()
    model = model.eval().to(device)
    inputs = [t.to(device) for t in example_inputs(card, 1, COUNT_SIZE, COUNT_SIZE).values()]
    times = []
    with torch.inference_mode():
        for i in range(repeats + 1):
            start = time.perf_counter()
            model(*inputs)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i:  # the first run is warm-up
                times.append(time.perf_counter() - start)
    model.to("cpu")
    name = str(device) if device.type == "cpu" else f"{device} ({torch.cuda.get_device_name(0)})"
    return {"device": name, "batch": 1, "size": COUNT_SIZE, "median": statistics.median(times), "all": times}


def paper_checks(name: str, tmp: Path) -> dict:
    """Forward/backward, ONNX export + Runtime parity and forward time of ``name`` paper."""
    torch.manual_seed(0)
    card = default_card(name, "paper")
    model = build_model(card)
    result = {"forward_backward_64x96": _forward_backward(model, card)}
    model.eval()
    path = export_onnx(model, card, tmp / f"{name}-paper.onnx")
    differences = onnx_parity(model, card, path, batch=1, height=PARITY_SIZE, width=PARITY_SIZE)
    result["onnx"] = {
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "size": PARITY_SIZE,
        "max_abs_difference": differences,
        "within_1e-4": max(differences.values()) <= 1e-4,
    }
    path.unlink()
    result["forward_seconds_512"] = _forward_seconds(model, card)
    return result


def measure() -> dict:
    """Every measurement of this section (see the module docstring)."""
    result = {
        "specsar_former": specsar_former_against_paper(),
        "claire": _counted("claire", "paper"),
        "lite_parameters": {name: count_parameters(build_model(default_card(name, "lite"))) for name in MODELS},
    }
    with tempfile.TemporaryDirectory(prefix="landfuse-bench-reconstructions-") as tmp:
        result["paper_checks"] = {name: paper_checks(name, Path(tmp)) for name in MODELS}
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
