"""ONNX export of any registered model, with its model card in the file's metadata.

The file follows the LandFuse ONNX contract: inputs ``optical`` ``[B, Co, H, W]`` and ``sar``
``[B, Cs, H, W]`` (only those the card has, float32, normalised), outputs ``logits``
``[B, K, H, W]`` then ``reconstruction`` ``[B, Co, H, W]`` when the card lists it; batch, height and
width dynamic; opset 18; one self-contained file (weights inside, no external data); the card as
JSON under ``metadata_props["landfuse_card"]`` with ``parameters`` filled in.

The TorchScript-based exporter is used: it handles the dynamic window padding and pooling of
the models in seconds, where the ``torch.export`` route needs minutes and fails on the
size-dependent guards of the carrier-token stage. The exporter writes to a temporary file beside
the output; the card is appended to it as one more ``metadata_props`` field (a protobuf message
takes fields in any order, and repeated fields appended to it add entries), so a paper-size model
of 0.8 GB is never parsed and written a second time; the file is then renamed into place.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ...common.card import ONNX_METADATA_KEY, ModelCard
from ..errors import CardMismatchError, NotWritableError
from .profiling import count_parameters

OPSET = 18
# ModelProto.metadata_props and StringStringEntryProto.key / .value (onnx/onnx.proto field numbers).
METADATA_FIELD, ENTRY_KEY_FIELD, ENTRY_VALUE_FIELD = 14, 1, 2


class OnnxContract(nn.Module):
    """Positional inputs in card order -> tuple of the card's outputs (the exported graph's interface)."""

    def __init__(self, model: nn.Module, card: ModelCard) -> None:
        super().__init__()
        self.model = model
        self.modalities = card.modalities
        self.outputs = card.outputs

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        named = dict(zip(self.modalities, inputs, strict=True))
        result = self.model(named.get("optical"), named.get("sar"))
        missing = [name for name in self.outputs if name not in result]
        if missing:
            raise CardMismatchError(f"the model gives {sorted(result)}, its card lists outputs {self.outputs}")
        return tuple(result[name] for name in self.outputs)


def example_inputs(card: ModelCard, batch: int = 1, height: int = 64, width: int = 64, seed: int = 0) -> dict:
    """Random normalised inputs ``{"optical": [B, Co, H, W], "sar": [B, Cs, H, W]}`` (only the card's)."""
    generator = torch.Generator().manual_seed(seed)
    counts = {"optical": len(card.optical_bands), "sar": len(card.sar_bands)}
    return {m: torch.randn(batch, counts[m], height, width, generator=generator) for m in card.modalities}


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def append_metadata(path: str | Path, key: str, value: str) -> None:
    """Add the ``metadata_props`` entry ``key: value`` to the ONNX file at ``path`` without parsing it."""
    entry = _length_delimited(ENTRY_KEY_FIELD, key.encode("utf-8"))
    entry += _length_delimited(ENTRY_VALUE_FIELD, value.encode("utf-8"))
    with open(path, "ab") as handle:
        handle.write(_length_delimited(METADATA_FIELD, entry))


def export_onnx(model: nn.Module, card: ModelCard, path: str | Path, opset: int = OPSET) -> Path:
    """Write ``model`` (built from ``card``) to ``path`` as one ONNX file with the card inside."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NotWritableError(f"cannot create the folder of {path}: {exc}; choose a writable output path") from exc
    card = dataclasses.replace(card, parameters=count_parameters(model))
    wrapper = OnnxContract(model, card).eval()
    size = 2 * card.size_multiple
    device = next(model.parameters()).device
    inputs = {k: v.to(device) for k, v in example_inputs(card, batch=2, height=size, width=size).items()}
    dynamic = {"0": "batch", "2": "height", "3": "width"}
    axes = {name: {int(k): v for k, v in dynamic.items()} for name in (*card.modalities, *card.outputs)}
    partial = path.with_name(f".{path.name}.partial")
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                tuple(inputs.values()),
                str(partial),
                dynamo=False,
                input_names=list(card.modalities),
                output_names=list(card.outputs),
                dynamic_axes=axes,
                opset_version=opset,
            )
        append_metadata(partial, ONNX_METADATA_KEY, card.to_json())
        os.replace(partial, path)
    except OSError as exc:
        raise NotWritableError(f"cannot write {path}: {exc}; choose a writable output path") from exc
    finally:
        partial.unlink(missing_ok=True)
    return path


def read_card(path: str | Path) -> ModelCard:
    """The model card stored in an exported ONNX file (read without loading the graph)."""
    from ..runners import read_model_card

    return read_model_card(path)


def onnx_parity(
    model: nn.Module,
    card: ModelCard,
    path: str | Path,
    batch: int = 1,
    height: int = 64,
    width: int = 96,
    seed: int = 1,
) -> dict[str, float]:
    """Max absolute difference per output between torch and ONNX Runtime (CPU) on random inputs."""
    import onnxruntime as ort

    inputs = example_inputs(card, batch, height, width, seed)
    wrapper = OnnxContract(model, card).eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        expected = [t.cpu() for t in wrapper(*(v.to(device) for v in inputs.values()))]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(list(card.outputs), {k: v.numpy() for k, v in inputs.items()})
    return {name: float(np.abs(g - e.numpy()).max()) for name, g, e in zip(card.outputs, got, expected, strict=True)}
