"""A diagnostics report for bug reports: interpreter, package versions, devices, paths and last errors.

Devices are reported as they are *actually usable*: ONNX Runtime's CUDA provider counts only when a
session really runs on it (``onnxruntime-gpu`` lists CUDA even when its libraries cannot load, and
then silently falls back to CPU), and torch's GPUs only when ``torch.cuda.is_available()``.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from collections import deque
from pathlib import Path

from ..common.protocol import PROTOCOL_VERSION, WORKER_LOG_NAME, user_cache_dir

PACKAGES = ("numpy", "onnxruntime", "onnxruntime-gpu", "torch", "rasterio", "onnx", "llama_cpp_python", "psutil")
REPO_ROOT = Path(__file__).resolve().parent.parent
LAST_ERRORS = 10


def package_versions() -> dict[str, str | None]:
    """Installed distribution versions (``None`` when absent), plus the GDAL that rasterio bundles."""
    versions: dict[str, str | None] = {"python": platform.python_version(), "landfuse": _landfuse_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    try:
        import rasterio

        versions["gdal (rasterio)"] = rasterio.__gdal_version__
    except ImportError:
        versions["gdal (rasterio)"] = None
    return versions


def _landfuse_version() -> str | None:
    metadata = REPO_ROOT / "metadata.txt"
    if metadata.is_file():
        for line in metadata.read_text(encoding="utf-8").splitlines():
            if line.startswith("version="):
                return line.split("=", 1)[1].strip()
    return None


def probe_devices() -> dict:
    """What this process can compute on: ``{"onnxruntime": {...}, "torch": {...}, "preferred": str}``.

    ``preferred`` is a short human label such as ``"NVIDIA H200 (139.8 GiB)"`` or ``"CPU"``.
    """
    ort = _probe_onnxruntime()
    torch_info = _probe_torch()
    gpus = torch_info.get("gpus") or []
    if ort.get("cuda_usable") and gpus:
        preferred = f"{gpus[0]['name']} ({gpus[0]['memory_gib']} GiB)"
    elif ort.get("cuda_usable"):
        preferred = "CUDA GPU (ONNX Runtime)"
    else:
        preferred = "CPU"
    return {"onnxruntime": ort, "torch": torch_info, "preferred": preferred, "cpu_count": os.cpu_count()}


def _probe_onnxruntime() -> dict:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        return {"available": False, "error": str(exc)}
    providers = ort.get_available_providers()
    info = {"available": True, "providers_listed": providers, "cuda_usable": False}
    if "CUDAExecutionProvider" in providers:
        info["cuda_usable"], info["cuda_error"] = _cuda_session_works(ort)
    return info


def _cuda_session_works(ort) -> tuple[bool, str | None]:
    """Run a one-node model with the CUDA provider and check it was not silently dropped."""
    try:
        import numpy as np
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            [helper.make_node("Relu", ["x"], ["y"])],
            "probe",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        options = ort.SessionOptions()
        options.log_severity_level = 4
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CUDAExecutionProvider"])
        session.run(None, {"x": np.ones(1, np.float32)})
        if "CUDAExecutionProvider" in session.get_providers():
            return True, None
        return False, "the CUDA provider is listed but did not load (CUDA or cuDNN libraries missing?)"
    except Exception as exc:  # any failure means: not usable
        return False, f"{type(exc).__name__}: {exc}"


def _probe_torch() -> dict:
    try:
        import torch
    except ImportError as exc:
        return {"available": False, "error": str(exc)}
    info: dict = {"available": True, "cuda_built": torch.version.cuda, "gpus": []}
    try:
        if torch.cuda.is_available():
            for index in range(torch.cuda.device_count()):
                props = torch.cuda.get_device_properties(index)
                info["gpus"].append(
                    {
                        "index": index,
                        "name": props.name,
                        "memory_gib": round(props.total_memory / 2**30, 1),
                        "capability": f"{props.major}.{props.minor}",
                    }
                )
    except Exception as exc:  # a broken driver must not break the report
        info["cuda_error"] = f"{type(exc).__name__}: {exc}"
    return info


def worker_log_path() -> Path:
    """The worker's log file (the worker writes it; the report quotes its last errors)."""
    return user_cache_dir() / WORKER_LOG_NAME


def last_logged_errors(log_path: Path, limit: int = LAST_ERRORS) -> list[str]:
    """The last ``limit`` ERROR lines of a log file (empty if there is none)."""
    if not log_path.is_file():
        return []
    errors: deque[str] = deque(maxlen=limit)
    with open(log_path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if " ERROR " in line or " CRITICAL " in line:
                errors.append(line.rstrip())
    return list(errors)


def report(last_errors: list | None = None) -> dict:
    """The full diagnostics report as JSON-compatible data.

    ``last_errors``: errors the caller saw (a running worker passes its own); when ``None`` the last
    errors of the worker log file are quoted.
    """
    log_path = worker_log_path()
    return {
        "protocol": PROTOCOL_VERSION,
        "interpreter": sys.executable,
        "platform": platform.platform(),
        "pid": os.getpid(),
        "versions": package_versions(),
        "devices": probe_devices(),
        "paths": {
            "landfuse": str(REPO_ROOT),
            "models": str(REPO_ROOT / "resources" / "models"),
            "worker_log": str(log_path),
            "cwd": os.getcwd(),
        },
        "environment": {
            key: os.environ[key]
            for key in ("PYTHONPATH", "PYTHONHOME", "PROJ_LIB", "PROJ_DATA", "GDAL_DATA", "CUDA_VISIBLE_DEVICES")
            if key in os.environ
        },
        "last_errors": last_logged_errors(log_path) if last_errors is None else last_errors,
    }


def format_report(data: dict, indent: str = "") -> str:
    """The report as indented ``key: value`` text, ready to paste into a bug report."""
    lines = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{indent}{key}:")
            lines.append(format_report(value, indent + "  "))
        elif isinstance(value, list) and value and isinstance(value[0], dict | list | str):
            lines.append(f"{indent}{key}:")
            lines.extend(f"{indent}  - {item}" for item in value)
        else:
            lines.append(f"{indent}{key}: {value}")
    return "\n".join(line for line in lines if line)
