"""Model runners with one interface: ONNX Runtime and torch.

A runner has ``.card`` (the ``ModelCard``), ``.device`` (the device actually used, e.g. "cpu" or
"cuda:0 (NVIDIA H200)"), ``.provider`` ("onnxruntime:CPUExecutionProvider", "torch", ...) and
``.run(inputs) -> outputs``: inputs ``{"optical": float32 [B, Co, H, W], "sar": float32 [B, Cs, H, W]}``
(only the card's modalities, normalised), outputs ``{"logits": [B, K, H, W]}`` plus
``"reconstruction": [B, Co, H, W]`` when the card lists it.

``load_runner(model_spec)`` accepts a ``.onnx`` file (card in its metadata), a ``.pt`` checkpoint
(``{"card": ..., "state_dict": ...}``, built through the model registry) or a model name such as
``cloudseg-lite`` looked up in a models folder and in the bundled ``resources/models``.
``read_model_card(path)`` reads only the card of a model file, without loading its weights.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Protocol

import numpy as np

from ..common.card import ONNX_METADATA_KEY, CardError, ModelCard
from .errors import CardMismatchError, MissingWeightsError, ModelNotFoundError, UnreadableInputError

BUNDLED_MODELS = Path(__file__).resolve().parent.parent / "resources" / "models"
# Pixels per model call on the CPU: one 512 px window or four 256 px windows (see ``run_in_calls``).
CPU_PIXELS_PER_CALL = 512 * 512
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
        """Outputs by name for inputs float32 [batch, bands, h, w] (split into smaller calls on the CPU)."""
        return run_in_calls(self._run_call, inputs, on_cpu=self.device == "cpu")

    def _run_call(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
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
        """Outputs by name for inputs float32 [batch, bands, h, w] (split into smaller calls on the CPU)."""
        return run_in_calls(self._run_call, inputs, on_cpu=self.target.type == "cpu")

    def _run_call(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = self.torch
        tensors = {
            k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)).to(self.target) for k, v in inputs.items()
        }
        with torch.inference_mode():
            outputs = self.module(tensors.get("optical"), tensors.get("sar"))
        return {k: outputs[k].float().cpu().numpy() for k in self.card.outputs}


def run_in_calls(run_call, inputs: dict[str, np.ndarray], on_cpu: bool) -> dict[str, np.ndarray]:
    """``run_call`` over the batch of ``inputs`` float32 [batch, bands, h, w], on the CPU in calls of at most
    ``CPU_PIXELS_PER_CALL`` pixels (at least one window), outputs concatenated along the batch.

    On the CPU a larger call is no faster and its activations grow with the batch (a 1.9 M-parameter
    U-Net at 512 px: about 1 GB at batch 4 against 0.3 GB one window at a time), so memory stays at
    one call's whatever the batch size; on a GPU the whole batch goes at once.
    """
    batch, _, height, width = next(iter(inputs.values())).shape
    per_call = batch if not on_cpu else max(1, CPU_PIXELS_PER_CALL // (height * width))
    if per_call >= batch:
        return run_call(inputs)
    parts = [run_call({k: v[i : i + per_call] for k, v in inputs.items()}) for i in range(0, batch, per_call)]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


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


# --- model cards without loading the weights ---------------------------------------------------

# ModelProto field numbers (onnx/onnx.proto) and the StringStringEntryProto fields of metadata_props.
ONNX_GRAPH_FIELD = 7
ONNX_METADATA_FIELD = 14
ENTRY_KEY_FIELD, ENTRY_VALUE_FIELD = 1, 2
MAX_METADATA_ENTRY_BYTES = 64 * 2**20
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


def read_model_card(path: str | Path) -> ModelCard:
    """The card stored in a ``.onnx`` file's metadata or a ``.pt`` checkpoint, without loading the weights.

    ONNX files are walked field by field (``read_onnx_metadata``), checkpoints are memory-mapped, so a
    multi-GB model costs a few reads. Raises ``UnreadableInputError`` for a file that is not a model
    (empty, truncated, another format) and ``CardMismatchError`` for a model without a valid card.
    """
    path = Path(path)
    try:
        if path.suffix == ".onnx":
            metadata = read_onnx_metadata(path)
            if ONNX_METADATA_KEY not in metadata:
                raise CardMismatchError(
                    f"{path.name} has no LandFuse model card (metadata key {ONNX_METADATA_KEY!r}): "
                    "export it with 'landfuse export'"
                )
            return ModelCard.from_json(metadata[ONNX_METADATA_KEY])
        card = _checkpoint_card(path)
        if card is None:
            raise CardMismatchError(f"{path.name} holds no LandFuse model card: save checkpoints with LandFuse")
        return ModelCard.from_dict(card)
    except CardError as exc:
        raise CardMismatchError(f"the model card inside {path.name} is invalid: {exc}") from exc


def _checkpoint_card(path: Path) -> dict | None:
    """The ``card`` entry of a torch checkpoint (``None`` when it has none); tensors are mapped, not read."""
    import torch

    try:
        # torch.save's zip format can be memory-mapped: tensor data stays on disk, only the pickle is read
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except Exception as exc:  # torch raises many types for a bad file (EOFError, pickle and zip errors, ...)
        size = path.stat().st_size if path.is_file() else None
        if size == 0:
            found = "found an empty file"
        elif size is None:
            found = f"the file cannot be opened ({exc})"
        else:
            found = f"found {size} bytes that torch cannot load ({type(exc).__name__}: {exc})"
        raise UnreadableInputError(
            f"{path.name} is not a readable torch checkpoint: {found}; replace it with a checkpoint "
            "saved by LandFuse training, or remove it from the models folder"
        ) from exc
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("card"), dict):
        return None
    return checkpoint["card"]


def read_onnx_metadata(path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX model file as a dict, reading only the metadata.

    An ONNX file is one protobuf ``ModelProto`` message: a sequence of (field number, wire type)
    tagged fields in any order. Length-delimited fields other than ``metadata_props`` (14), above all
    the ``graph`` (7) holding every initializer, are skipped by seeking, so memory use does not grow
    with the file. Raises ``UnreadableInputError`` when the file is not a protobuf message with a graph
    (empty, truncated, another format).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as file:
            metadata, has_graph = {}, False
            for number, length in _protobuf_fields(file, size):
                if number == ONNX_METADATA_FIELD:
                    if length > MAX_METADATA_ENTRY_BYTES:
                        raise ValueError(f"a metadata entry of {length} bytes is larger than any model card")
                    key, value = _metadata_entry(file.read(length))
                    metadata[key] = value
                else:
                    has_graph |= number == ONNX_GRAPH_FIELD
                    file.seek(length, os.SEEK_CUR)
    except (OSError, ValueError) as exc:
        raise UnreadableInputError(
            f"{path.name} is not a readable ONNX model ({exc}); replace it with a model exported by "
            "'landfuse export', or remove it from the models folder"
        ) from exc
    if size == 0 or not has_graph:
        found = "an empty file" if size == 0 else "a file without a model graph"
        raise UnreadableInputError(
            f"{path.name} is not an ONNX model: found {found}; export the model again with 'landfuse export', "
            "or remove it from the models folder"
        )
    return metadata


def _protobuf_fields(file, end: int):
    """Yield ``(field number, length)`` of each length-delimited field of the message in ``file`` up to
    byte ``end``, positioned at the field's first byte; the caller reads or skips ``length`` bytes.
    Scalar fields are skipped here. Raises ``ValueError`` on bytes that are not a protobuf message."""
    while (tag := _varint(file, at_end_ok=True)) is not None:
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ValueError(f"field number 0 at byte {file.tell()}")
        if wire == _VARINT:
            _varint(file)
        elif wire in (_FIXED64, _FIXED32):
            file.seek(8 if wire == _FIXED64 else 4, os.SEEK_CUR)
        elif wire == _LENGTH_DELIMITED:
            length = _varint(file)
            if file.tell() + length > end:
                raise ValueError(f"a field of {length} bytes at byte {file.tell()} runs past the end of the file")
            yield number, length
        else:
            raise ValueError(f"wire type {wire} at byte {file.tell()} is not used by ONNX")
        if file.tell() > end:
            raise ValueError("the last field runs past the end of the file")


def _varint(file, at_end_ok: bool = False) -> int | None:
    """A protobuf base-128 varint; ``None`` at the end of the file when ``at_end_ok``."""
    value = shift = 0
    while True:
        byte = file.read(1)
        if not byte:
            if at_end_ok and shift == 0:
                return None
            raise ValueError("the file ends inside a field")
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7
        if shift >= 70:
            raise ValueError(f"a varint longer than 10 bytes at byte {file.tell()}")


def _metadata_entry(data: bytes) -> tuple[str, str]:
    """``(key, value)`` of a serialized ``StringStringEntryProto``."""
    stream = io.BytesIO(data)
    strings = {ENTRY_KEY_FIELD: b"", ENTRY_VALUE_FIELD: b""}
    for number, length in _protobuf_fields(stream, len(data)):
        chunk = stream.read(length)
        if number in strings:
            strings[number] = chunk
    return strings[ENTRY_KEY_FIELD].decode("utf-8"), strings[ENTRY_VALUE_FIELD].decode("utf-8")
