"""GPU benchmark: float32 against float16, I/O binding off and on, on ONNX Runtime's CUDA provider.

For SpecSAR-Former and EDC at paper size (exported here with untrained weights: speed does not
depend on them) at 512 x 512, batch 1: seconds per window and windows per second (paper anchor:
SpecSAR-Former 38.23 FPS) for

- float32 and float16 (``landfuse quantize --precision fp16``: float32 inputs and outputs);
- I/O binding off (``session.run`` with host arrays: every window goes through host memory) and on
  (inputs and outputs bound to CUDA device buffers, copied once before the timed runs).

The device is reported truthfully: the script refuses (exit status 2, no GPU numbers) when ONNX
Runtime has no CUDA provider or a session falls back to the CPU; whether every node runs on the GPU
is checked by building each session once with the CPU fallback disabled. The figures go into the
``gpu`` section of ``bench/results/speed.json``.

Run on a machine with an NVIDIA GPU and the GPU environment (``make setup GPU=1``):
``python -m landfuse.bench.speed_gpu``. ``make bench`` does not run it (it has no ``main()``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import RESULTS_DIR, machine_info

MODELS = ("specsar_former", "edc")
WINDOW = 512
WARMUP, RUNS = 5, 30
PAPER_ANCHOR = {"specsar_former": {"fps": 38.23, "source": "SpecSAR-Former paper, batch 1"}}
CUDA = "CUDAExecutionProvider"


class NoGpuError(RuntimeError):
    """ONNX Runtime would not run on a CUDA GPU here: no GPU figures may be reported."""


def cuda_session(path: Path):
    """A CUDA session for ``path`` and whether every node runs on the GPU; ``NoGpuError`` if it falls back."""
    import onnxruntime as ort

    def build(strict: bool):
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if strict:
            options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
        return ort.InferenceSession(str(path), options, providers=[CUDA, "CPUExecutionProvider"])

    try:
        session, all_on_gpu = build(strict=True), True
    except Exception:  # noqa: BLE001 - ORT refuses a graph with CPU-only nodes: run it with them on the CPU
        session, all_on_gpu = build(strict=False), False
    used = session.get_providers()
    if not used or used[0] != CUDA:
        raise NoGpuError(f"ONNX Runtime created the session for {path.name} on {used}, not on CUDA")
    return session, all_on_gpu


def _median_seconds(step, runs: int = RUNS) -> dict:
    for _ in range(WARMUP):
        step()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    median = float(np.median(times))
    return {"s_per_window": median, "fps": 1.0 / median, "min_s": float(np.min(times)), "max_s": float(np.max(times))}


def measure(session, inputs: dict[str, np.ndarray], device: str = "cuda", runs: int = RUNS) -> dict:
    """Seconds per window without and with I/O binding (inputs and outputs in ``device`` memory)."""
    import onnxruntime as ort

    plain = _median_seconds(lambda: session.run(None, inputs), runs)
    binding = session.io_binding()
    for name, array in inputs.items():
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(array, device, 0))
    for output in session.get_outputs():
        binding.bind_output(output.name, device, 0)

    def bound_step():
        session.run_with_iobinding(binding)
        binding.synchronize_outputs()

    return {"io_binding_off": plain, "io_binding_on": _median_seconds(bound_step, runs)}


def model_figures(architecture: str, folder: Path) -> dict:
    import torch

    from landfuse.backend.models.calibration import synthetic_windows
    from landfuse.backend.models.export import export_onnx
    from landfuse.backend.models.quantize import quantize_model
    from landfuse.backend.models.registry import build_model, default_card

    torch.manual_seed(0)
    card = default_card(architecture, "paper")
    source = export_onnx(build_model(card).eval(), card, folder / f"{card.name}.onnx")
    half = quantize_model(source, folder / f"{card.name}.fp16.onnx", "fp16", check_windows=0, log=lambda m: None)
    window = synthetic_windows(card, 0, WINDOW, 1).check[0]
    result = {"model": card.name, "window": f"{WINDOW}x{WINDOW}, batch 1"}
    logits = {}
    for precision, path in (("float32", source), ("float16", half.path)):
        session, all_on_gpu = cuda_session(path)
        logits[precision] = session.run(["logits"], window)[0]
        result[precision] = {"all_nodes_on_gpu": all_on_gpu, **measure(session, window)}
    result["fp16_parity"] = {
        "max_abs_logit_difference": float(np.abs(logits["float32"] - logits["float16"]).max()),
        "agreement": float((logits["float32"].argmax(1) == logits["float16"].argmax(1)).mean()),
    }
    if architecture in PAPER_ANCHOR:
        result["paper_anchor"] = PAPER_ANCHOR[architecture]
    return result


def _gpu_name() -> str | None:
    """The first GPU's name as ``nvidia-smi`` reports it (``None`` without it)."""
    try:
        found = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found.stdout.strip().splitlines()[0] if found.returncode == 0 and found.stdout.strip() else None


def run() -> int:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if CUDA not in available:
        print(
            f"no GPU figures: ONNX Runtime has no CUDA provider here (providers: {', '.join(available)}); "
            "run this on a machine with an NVIDIA GPU and the GPU environment (make setup GPU=1)",
            file=sys.stderr,
        )
        return 2
    section = {
        "available": True,
        "machine": machine_info(),
        "gpu": _gpu_name(),
        "onnxruntime_providers": available,
        "models": {},
    }
    try:
        with tempfile.TemporaryDirectory(prefix="landfuse-bench-gpu-") as work:
            for architecture in MODELS:
                section["models"][architecture] = model_figures(architecture, Path(work))
    except NoGpuError as exc:
        print(f"no GPU figures: {exc}", file=sys.stderr)
        return 2
    path = RESULTS_DIR / "speed.json"
    results = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    results["gpu"] = section
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote the gpu section of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run())
