"""Model benchmark: CloudSeg ``paper`` vs EDC ``paper`` (the EDC paper's ratios) and paper-size ONNX parity.

Writes ``bench/results/models.json``:

- ``cloudseg_vs_edc``: parameters of both and their ratio (EDC claims 46.7 % fewer: ratio <= 0.533),
  MACs at 256 x 256, and forward time at batch 1, 256 x 256, measured in this one run on the same
  device with the same input (interleaved repeats, median): EDC must be >= 1.98 x faster.
- ``onnx_parity``: both paper models exported to ONNX and run by ONNX Runtime at batch 1,
  256 x 256: max |ONNX - torch| per output (goal <= 1e-4) and ONNX Runtime seconds per forward.
- ``official_cloudseg``: the import of the official CloudSeg checkpoints, on the fact fixture of
  ``../shared/data/cloudseg-official`` (every official key and shape, filled by its documented
  ``hash`` formula, saved as the official code saves ``StudentNet.pth``): max |LandFuse - official|
  of the student logits, student reconstruction and teacher logits at 128 x 128, through torch and
  through the exported ONNX (goal <= 1e-5), official keys missing from LandFuse's CloudSeg and
  LandFuse keys the official files lack (goal 0), entries unused at inference, ONNX file sizes.
- one more key per section module (``SECTION_MODULES``): other model families add their rows by
  providing ``bench/<module>.py`` with ``measure() -> dict``; its result is stored under the
  module's name. A section that fails is recorded as ``{"error": ...}``.

Run: ``python -m landfuse.bench models``.
"""

from __future__ import annotations

import importlib
import importlib.util
import statistics
import tempfile
import time
import traceback
from pathlib import Path

import torch

from landfuse.backend.models.export import example_inputs, export_onnx, onnx_parity
from landfuse.backend.models.profiling import count_macs, count_parameters
from landfuse.backend.models.registry import build_model, default_card
from landfuse.bench import machine_info, write_result

SIZE = 256
REPEATS = 5
SECTION_MODULES = ("models_reconstructions",)
PAIR = ("cloudseg", "edc")


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def forward_seconds(models: dict, inputs: dict, device: torch.device, repeats: int = REPEATS) -> dict[str, list]:
    """Seconds per forward of each model, repeats interleaved so load changes hit all models alike."""
    times: dict[str, list] = {name: [] for name in models}
    with torch.inference_mode():
        for name, model in models.items():  # warm-up
            model(*inputs[name])
        _sync(device)
        for _ in range(repeats):
            for name, model in models.items():
                start = time.perf_counter()
                model(*inputs[name])
                _sync(device)
                times[name].append(time.perf_counter() - start)
    return times


def _paper_model(name: str, device: torch.device):
    torch.manual_seed(0)
    card = default_card(name, "paper")
    return card, build_model(card).eval().to(device)


def cloudseg_vs_edc() -> dict:
    """Parameters, MACs and batch-1 forward time at 256 x 256 of CloudSeg paper and EDC paper."""
    device = _device()
    cards, models, inputs, macs = {}, {}, {}, {}
    for name in PAIR:
        cards[name], models[name] = _paper_model(name, device)
        x = example_inputs(cards[name], 1, SIZE, SIZE)
        inputs[name] = (x["optical"].to(device), x["sar"].to(device))
        macs[name] = count_macs(models[name], inputs[name]).total
    times = forward_seconds(models, inputs, device)
    median = {name: statistics.median(t) for name, t in times.items()}
    params = {name: count_parameters(m) for name, m in models.items()}
    return {
        "device": str(device) if device.type == "cpu" else f"{device} ({torch.cuda.get_device_name(0)})",
        "input": {"batch": 1, "height": SIZE, "width": SIZE, "optical_bands": 4, "sar_bands": 2},
        "parameters": params,
        "parameter_ratio_edc_over_cloudseg": params["edc"] / params["cloudseg"],
        "parameter_goal": "<= 0.533 (EDC: 46.7 % fewer than CloudSeg)",
        "macs": macs,
        "mac_convention": "multiply-accumulates of convolutions and matrix products (attention included)",
        "forward_seconds": {name: {"median": median[name], "all": t} for name, t in times.items()},
        "speedup_edc_over_cloudseg": median["cloudseg"] / median["edc"],
        "speedup_goal": ">= 1.98 (EDC: 1.98x faster inference)",
    }


def paper_onnx_parity() -> dict:
    """Export both paper models to ONNX; max |ONNX Runtime - torch| and ONNX Runtime time at 256 x 256."""
    import onnxruntime as ort

    result = {}
    with tempfile.TemporaryDirectory(prefix="landfuse-bench-models-") as tmp:
        for name in PAIR:
            card, model = _paper_model(name, torch.device("cpu"))
            path = export_onnx(model, card, Path(tmp) / f"{name}-paper.onnx")
            differences = onnx_parity(model, card, path, batch=1, height=SIZE, width=SIZE)
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            feeds = {k: v.numpy() for k, v in example_inputs(card, 1, SIZE, SIZE).items()}
            session.run(None, feeds)
            start = time.perf_counter()
            session.run(None, feeds)
            result[name] = {
                "file_mb": round(path.stat().st_size / 1e6, 1),
                "max_abs_difference": differences,
                "within_1e-4": max(differences.values()) <= 1e-4,
                "onnxruntime_cpu_seconds": time.perf_counter() - start,
            }
            del model, session
    return result


def official_cloudseg() -> dict:
    """Outputs of the imported official networks against the official code's (see the module docstring)."""
    import numpy as np
    import onnxruntime as ort

    from landfuse.backend.models.official import import_checkpoint, import_state_dict, official_key
    from landfuse.tests.backend.models.official_fixture import (
        FIXTURE,
        PREFIX,
        entries,
        hash_state_dict,
        reference_inputs,
        reference_output,
    )

    optical, sar = reference_inputs()
    references = {
        "student_logits": ("student", "logits", "student_seg_logits"),
        "student_reconstruction": ("student", "reconstruction", "student_cr_output"),
        "teacher_logits": ("teacher", "logits", "teacher_seg_logits"),
    }
    result = {"fixture": str(FIXTURE.relative_to(FIXTURE.parents[3])), "input": {"height": 128, "width": 128}}
    differences: dict[str, dict] = {"torch": {}, "onnx": {}}
    keys: dict[str, dict] = {"missing_keys": {}, "unexpected_keys": {}, "entries": {}, "unused_at_inference": {}}
    sizes = {}
    with tempfile.TemporaryDirectory(prefix="landfuse-bench-official-") as tmp:
        checkpoint = Path(tmp) / "StudentNet.pth"
        torch.save({"network": hash_state_dict("student"), "epoch": 29}, checkpoint)
        network = torch.load(checkpoint, mmap=True, weights_only=True)["network"]
        imports = {
            "student": import_checkpoint(checkpoint, teacher=False),
            "teacher": import_state_dict({k: network[k] for k, _, _ in entries("teacher")}, teacher=True),
        }
        for role, imported in imports.items():
            official = {key.removeprefix(PREFIX) for key, _, _ in entries(role)}
            mapped = {official_key(key) for key in imported.model.state_dict()}
            keys["missing_keys"][role] = len(official - mapped)
            keys["unexpected_keys"][role] = len(mapped - official)
            keys["entries"][role] = imported.entries
            keys["unused_at_inference"][role] = len(imported.unused_at_inference)
            with torch.inference_mode():
                outputs = imported.model(optical, sar)
            path = export_onnx(imported.model, imported.card, Path(tmp) / f"{role}.onnx")
            sizes[role] = round(path.stat().st_size / 1e6, 1)
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            onnx_outputs = dict(
                zip(
                    imported.card.outputs,
                    session.run(None, {"optical": optical.numpy(), "sar": sar.numpy()}),
                    strict=True,
                )
            )
            del session
            path.unlink()
            for name, (owner, output, reference) in references.items():
                if owner == role:
                    expected = reference_output(reference)
                    differences["torch"][name] = float(np.abs(outputs[output].numpy() - expected).max())
                    differences["onnx"][name] = float(np.abs(onnx_outputs[output] - expected).max())
        del imports, network
    worst = max(max(d.values()) for d in differences.values())
    return {
        **result,
        "max_abs_difference": differences,
        "difference_goal": "<= 1e-05",
        "within_goal": worst <= 1e-5,
        **keys,
        "key_goal": "0 missing, 0 unexpected",
        "onnx_file_mb": sizes,
    }


def sections() -> dict:
    """Results of the other model families' ``bench/<module>.py::measure()``, by module name."""
    out = {}
    for module in SECTION_MODULES:
        qualified = f"{__package__}.{module}"
        if importlib.util.find_spec(qualified) is None:
            continue
        try:
            out[module] = importlib.import_module(qualified).measure()
        except Exception as exc:  # a failing section is reported, the others still count
            out[module] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    return out


def main() -> dict:
    """Run every model measurement and write ``bench/results/models.json``."""
    result = {"machine": machine_info(), "cloudseg_vs_edc": cloudseg_vs_edc(), "onnx_parity": paper_onnx_parity()}
    try:
        result["official_cloudseg"] = official_cloudseg()
    except Exception as exc:  # e.g. the shared fixture is missing: the other sections still count
        result["official_cloudseg"] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    result.update(sections())
    write_result("models", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
