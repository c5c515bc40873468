"""Benchmarks: each ``bench/<name>.py`` has ``main() -> dict`` writing ``bench/results/<name>.json``.

``python -m landfuse.bench`` runs them all; ``python -m landfuse.bench models engine`` only those.
Helpers shared by the benchmarks: ``machine_info()`` and ``write_result(name, data)``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info() -> dict:
    """CPU count, platform, Python/torch/ONNX Runtime versions, accelerator and UTC date of this run."""
    import onnxruntime
    import torch

    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def write_result(name: str, data: dict) -> Path:
    """Write ``data`` to ``bench/results/<name>.json`` (indent 2) and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
