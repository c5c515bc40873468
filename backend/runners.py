"""Model runners with one interface: ONNX Runtime and torch.

A runner has ``.card`` (the ``ModelCard``), ``.device`` (the device actually used, e.g. "cpu" or
"cuda:0 (NVIDIA H200)"), ``.provider`` ("onnxruntime:CPUExecutionProvider", "torch", ...) and
``.run(inputs) -> outputs``: inputs ``{"optical": float32 [B, Co, H, W], "sar": float32 [B, Cs, H, W]}``
(only the card's modalities, normalised), outputs ``{"logits": [B, K, H, W]}`` plus
``"reconstruction": [B, Co, H, W]`` when the card lists it.

``load_runner(model_spec)`` accepts a ``.onnx`` file (card in its metadata), a ``.pt`` checkpoint
(``{"card": ..., "state_dict": ...}``, built through the model registry) or a model name such as
``cloudseg-lite`` looked up in a models folder and in the bundled ``resources/models``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from ..common.card import ONNX_METADATA_KEY, CardError, ModelCard
from .errors import CardMismatchError, MissingWeightsError, ModelNotFoundError

BUNDLED_MODELS = Path(__file__).resolve().parent.parent / "resources" / "models"
MODEL_SUFFIXES = (".onnx", ".pt")
DEVICES = ("auto", "cpu", "cuda")


class Runner(Protocol):
    card: ModelCard
    device: str
    provider: str

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


def _check_device(device: str) -> str:
    device = (device or "auto").lower()
    if device.split(":")[0] not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    return device


class OnnxRunner:
    """ONNX Runtime session. CUDA when requested/auto and its provider really loads (checked with
    ``session.get_providers()``), else CPU with one intra-op thread per core and no busy-waiting,
    so the engine's reader and writer threads keep their share of the CPU."""

    def __init__(self, path: str | Path, device: str = "auto", threads: int | None = None):
        import onnxruntime as ort

        device = _check_device(device)
        self.path = Path(path)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        if device != "cpu" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            message = f"{self.path.name} could not be loaded by ONNX Runtime ({exc}); re-export it"
            raise CardMismatchError(message) from exc
        used = self.session.get_providers()[0]
        self.provider = f"onnxruntime:{used}"
        self.device = "cuda:0" if used == "CUDAExecutionProvider" else "cpu"
        if self.device == "cuda:0":
            self.device = f"cuda:0 ({_cuda_name()})"
        self.note = "" if device != "cuda" or used == "CUDAExecutionProvider" else "CUDA unavailable: running on CPU"
        metadata = self.session.get_modelmeta().custom_metadata_map
        if ONNX_METADATA_KEY not in metadata:
            raise CardMismatchError(
                f"{self.path.name} has no LandFuse model card (metadata key {ONNX_METADATA_KEY!r}); "
                "export it with 'landfuse export' so bands, normalisation and classes are known"
            )
        try:
            self.card = ModelCard.from_json(metadata[ONNX_METADATA_KEY])
        except CardError as exc:
            raise CardMismatchError(f"the model card inside {self.path.name} is invalid: {exc}") from exc
        self._check_io()
        self.output_names = [o.name for o in self.session.get_outputs()]

    def _check_io(self) -> None:
        card = self.card
        expected = {"optical": len(card.optical_bands), "sar": len(card.sar_bands)}
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        if set(inputs) != set(card.modalities):
            raise CardMismatchError(
                f"{self.path.name} takes inputs {sorted(inputs)}, its card describes {list(card.modalities)}; "
                "re-export it"
            )
        for name, shape in inputs.items():
            channels = shape[1] if len(shape) == 4 else None
            if isinstance(channels, int) and channels != expected[name]:
                raise CardMismatchError(
                    f"{self.path.name} takes {channels} {name} bands, its card lists {expected[name]}; re-export it"
                )
        outputs = [o.name for o in self.session.get_outputs()]
        if outputs[: len(card.outputs)] != list(card.outputs):
            raise CardMismatchError(f"{self.path.name} outputs {outputs}, its card lists {list(card.outputs)}")

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        feed = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in inputs.items()}
        return dict(zip(self.output_names, self.session.run(None, feed), strict=True))


class TorchRunner:
    """A torch ``nn.Module`` following the model contract ``model(optical, sar) -> {"logits", ...}``,
    in eval mode on CUDA when available (and not ``device="cpu"``), else on the CPU."""

    def __init__(self, module, card: ModelCard, device: str = "auto"):
        import torch

        device = _check_device(device)
        use_cuda = device != "cpu" and torch.cuda.is_available()
        self.torch = torch
        self.card = card
        self.target = torch.device("cuda:0" if use_cuda else "cpu")
        self.device = f"cuda:0 ({torch.cuda.get_device_name(0)})" if use_cuda else "cpu"
        self.provider = "torch"
        self.note = "" if device != "cuda" or use_cuda else "CUDA unavailable: running on CPU"
        self.module = module.to(self.target).eval()

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "auto") -> TorchRunner:
        """A runner for a ``.pt`` checkpoint holding ``{"card": dict, "state_dict": ...}``."""
        import torch

        from .models.registry import build_model

        path = Path(path)
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for a bad file
            raise MissingWeightsError(f"{path.name} is not a readable LandFuse checkpoint ({exc})") from exc
        if not isinstance(checkpoint, dict) or "card" not in checkpoint or "state_dict" not in checkpoint:
            raise MissingWeightsError(
                f"{path.name} has no 'card' and 'state_dict': save checkpoints with LandFuse training"
            )
        try:
            card = ModelCard.from_dict(checkpoint["card"])
        except CardError as exc:
            raise CardMismatchError(f"the model card inside {path.name} is invalid: {exc}") from exc
        module = build_model(card)
        try:
            module.load_state_dict(checkpoint["state_dict"])
        except RuntimeError as exc:
            message = f"the weights in {path.name} do not fit the model its card describes ({exc})"
            raise CardMismatchError(message) from exc
        return cls(module, card, device)

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = self.torch
        tensors = {
            k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)).to(self.target) for k, v in inputs.items()
        }
        with torch.inference_mode():
            outputs = self.module(tensors.get("optical"), tensors.get("sar"))
        return {k: outputs[k].float().cpu().numpy() for k in self.card.outputs}


def _cuda_name() -> str:
    try:
        import torch

        return torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - the name is cosmetic
        return "GPU"


def model_search_dirs(models_dir: str | Path | None = None) -> list[Path]:
    """Folders searched for model names: the user's models folder first, then the bundled models."""
    return ([Path(models_dir)] if models_dir else []) + [BUNDLED_MODELS]


def resolve_model_path(model_spec: str | Path, models_dir: str | Path | None = None) -> Path:
    """The model file for a path or a name like ``cloudseg-lite``; ``ModelNotFoundError`` lists the known names."""
    path = Path(model_spec)
    if path.suffix in MODEL_SUFFIXES or path.exists():
        if not path.is_file():
            raise ModelNotFoundError(f"model file {str(path)!r} does not exist")
        return path
    folders = model_search_dirs(models_dir)
    for folder in folders:
        for suffix in MODEL_SUFFIXES:
            candidate = folder / f"{model_spec}{suffix}"
            if candidate.is_file():
                return candidate
    known = sorted({p.stem for f in folders if f.is_dir() for p in f.iterdir() if p.suffix in MODEL_SUFFIXES})
    raise ModelNotFoundError(
        f"no model named {str(model_spec)!r} in {', '.join(str(f) for f in folders)}; "
        f"known models: {', '.join(known) or 'none'}; or give a path to a .onnx or .pt file"
    )


def load_runner(model_spec: str | Path, device: str = "auto", models_dir: str | Path | None = None) -> Runner:
    """A runner for ``model_spec`` (``.onnx`` path, ``.pt`` checkpoint or model name) on ``device``
    ("auto", "cpu" or "cuda")."""
    path = resolve_model_path(model_spec, models_dir)
    if path.suffix == ".onnx":
        return OnnxRunner(path, device)
    if path.suffix == ".pt":
        return TorchRunner.from_checkpoint(path, device)
    raise ModelNotFoundError(f"{path.name}: model files must end in .onnx or .pt")
