"""Lower-precision copies of an exported LandFuse ONNX model: int8 for CPUs, float16 for GPUs.

Both keep the LandFuse ONNX contract (inputs ``optical``/``sar`` and outputs float32, dynamic batch,
height and width, the card in the metadata), so the engine runs them like any other ``.onnx`` file.

- ``int8``: ONNX Runtime static quantization in QDQ form. Convolutions and matrix products get int8
  weights (per output channel, 7-bit range: no overflow in the u8 x s8 products of CPUs without
  VNNI) and uint8 activations whose ranges come from calibration windows
  (``backend.models.calibration``). Kept in float: the first convolutions (reading the raw bands)
  and the last ones (writing logits and reconstruction), and every op that is not a convolution or a
  matrix product (softmax, layer norm, GELU, resize, ...), which run in float32 between the int8
  products, and by default the attention matrix products (activation x activation: quantizing
  them costs as much in quantize/dequantize steps as it saves and only adds error).
  docs/speed.md gives the measurements behind these choices.
- ``fp16``: weights and arithmetic in float16 (``onnxruntime.transformers.float16``) with float32
  inputs and outputs; the few ops the converter keeps out of float16 stay float32.

The card keeps every field and gains ``metrics["precision"]``: the precision, what stayed in float,
the calibration source and the held-out check (class-map agreement with the float model, and mIoU
of both where the check windows have labels). The description says the precision in words.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from ...common.card import ONNX_METADATA_KEY, ModelCard
from ...common.precision import variant_path
from ..errors import BadParamsError, NotWritableError
from .calibration import SYNTHETIC, WindowSet, raster_windows, synthetic_windows, window_size

PRECISIONS = ("int8", "fp16")
FLOAT = "float32"
QUANTIZED_OPS = ("Conv", "MatMul")
# Ops that only move or select data: a convolution reached through them still reads the raw input
# or writes the output itself.
DATA_ONLY_OPS = {"Identity", "Cast", "Pad", "Slice", "Concat", "Reshape", "Transpose", "Resize", "Squeeze", "Unsqueeze"}
DEFAULT_WINDOWS = 16
CHECK_WINDOWS = 4


@dataclasses.dataclass(frozen=True)
class QuantizeResult:
    """What ``quantize_model`` wrote: the file, its card and the seconds it took."""

    path: Path
    card: ModelCard
    seconds: float

    @property
    def precision(self) -> dict:
        return self.card.metrics["precision"]


def precision_of(card: ModelCard) -> str:
    """``"int8"``, ``"fp16"`` or ``"float32"`` (cards without a precision entry)."""
    entry = card.metrics.get("precision")
    return entry.get("precision", FLOAT) if isinstance(entry, dict) else FLOAT


def quantized_path(path: str | Path, precision: str) -> Path:
    """Where a lower-precision copy of ``path`` goes beside it: ``edc-lite.onnx`` -> ``edc-lite.int8.onnx``."""
    return variant_path(path, precision)


# --- graph preparation ---------------------------------------------------------------------------


def load_float_graph(path: str | Path) -> onnx.ModelProto:
    """The model at ``path`` with every weight as a float32 initializer the quantizer can see.

    Exported files may hand weights to their ops through an ``Identity`` (initializers shared by the
    exporter) or a ``Cast`` from float16 storage (the bundled demo models); each such node becomes
    an initializer of its own under the node's output name.
    """
    model = onnx.load(str(path))
    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    kept, folded = [], []
    for node in graph.node:
        source = initializers.get(node.input[0]) if len(node.input) == 1 else None
        to_float = node.op_type == "Cast" and _attribute(node, "to") == onnx.TensorProto.FLOAT
        if source is not None and (node.op_type == "Identity" or to_float):
            values = numpy_helper.to_array(source)
            folded.append(numpy_helper.from_array(values.astype(np.float32) if to_float else values, node.output[0]))
        else:
            kept.append(node)
    used = {name for node in kept for name in node.input} | {o.name for o in graph.output}
    remaining = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(remaining + folded)
    return model


def _attribute(node: onnx.NodeProto, name: str):
    return next((onnx.helper.get_attribute_value(a) for a in node.attribute if a.name == name), None)


def edge_convolutions(graph: onnx.GraphProto) -> tuple[list[str], list[str]]:
    """Names of the first convolutions (reading a model input) and the last (writing a model output).

    Data-only ops (``DATA_ONLY_OPS``: slicing, padding, concatenation, resizing ...) in between do
    not count: a convolution on the concatenated inputs is a first one, a convolution whose map is
    resized to the output is a last one.
    """
    producers = {output: node for node in graph.node for output in node.output}
    inputs = {i.name for i in graph.input}
    first = []
    for node in graph.node:
        if node.op_type == "Conv" and _reaches(node.input[0], inputs, producers):
            first.append(node.name)
    last = []
    for output in graph.output:
        node = producers.get(output.name)
        while node is not None and node.op_type in DATA_ONLY_OPS:
            node = producers.get(node.input[0])
        if node is not None and node.op_type == "Conv":
            last.append(node.name)
    return first, last


def _reaches(name: str, inputs: set[str], producers: dict) -> bool:
    """Whether tensor ``name`` is a graph input or made from one by data-only ops alone."""
    pending, seen = [name], set()
    while pending:
        name = pending.pop()
        if name in inputs:
            return True
        node = producers.get(name)
        if node is None or name in seen or node.op_type not in DATA_ONLY_OPS:
            continue
        seen.add(name)
        pending.extend(node.input[:1] if node.op_type != "Concat" else node.input)
    return False


def attention_products(graph: onnx.GraphProto) -> list[str]:
    """Names of the ``MatMul`` nodes whose both operands are activations (attention scores and mixing)."""
    constants = {i.name for i in graph.initializer}
    constants |= {o for node in graph.node if node.op_type == "Constant" for o in node.output}
    return [n.name for n in graph.node if n.op_type == "MatMul" and not any(i in constants for i in n.input)]


# --- quantization --------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_onnxruntime_tools():
    """ONNX Runtime's quantization tools log advice on the root logger: keep the command's output readable."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


class _Windows:
    """An ONNX Runtime calibration data reader (``get_next``) over prepared batch-1 windows."""

    def __init__(self, windows: list[dict[str, np.ndarray]]):
        self.windows = iter(windows)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.windows, None)


def prepare_float_graph(source: str | Path, path: Path) -> Path:
    """Write ``source`` ready for quantization to ``path``: weights as initializers (``load_float_graph``),
    shapes inferred and constants folded by ONNX Runtime's basic optimisations (standard ONNX ops only), and
    every node named (``name_unnamed_nodes``), so the nodes kept in float can be told apart by name."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    # Handed over as a file: from a ModelProto, ONNX Runtime's optimiser gets the initializers as external data
    # and cannot read the shapes that ``Reshape`` (and the like) take from one.
    folded = path.with_name(f"{path.stem}.folded{path.suffix}")
    onnx.save(load_float_graph(source), str(folded))
    try:
        with _quiet_onnxruntime_tools():
            quant_pre_process(str(folded), str(path), skip_symbolic_shape=True)
    finally:
        folded.unlink(missing_ok=True)
    model = onnx.load(str(path))
    if name_unnamed_nodes(model.graph):
        onnx.save(model, str(path))
    return path


def name_unnamed_nodes(graph: onnx.GraphProto) -> int:
    """Give each node without a name a unique one (``<op type>_<n>``, e.g. ``Conv_3``); returns how many.

    Quantization leaves nodes in float by name: an empty name would stand for every unnamed node."""
    taken = {node.name for node in graph.node}
    numbers = itertools.count()
    named = 0
    for node in graph.node:
        if node.name:
            continue
        node.name = next(name for n in numbers if (name := f"{node.op_type}_{n}") not in taken)
        taken.add(node.name)
        named += 1
    return named


def quantize_int8(
    prepared: Path,
    output: Path,
    windows: list[dict[str, np.ndarray]],
    keep_attention_float: bool = True,
    keep_edges_float: bool = True,
) -> dict:
    """Quantize the model at ``prepared`` (``prepare_float_graph``) to ``output`` in QDQ form.

    ``keep_edges_float``: leave the first and last convolutions in float (``edge_convolutions``);
    ``keep_attention_float``: leave the attention products in float (``attention_products``).
    Returns the card entry: what was quantized and what stayed float.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    model = onnx.load(str(prepared))
    first, last = edge_convolutions(model.graph) if keep_edges_float else ([], [])
    attention = attention_products(model.graph) if keep_attention_float else []
    counts = Counter(n.op_type for n in model.graph.node if n.op_type in QUANTIZED_OPS)
    del model
    with _quiet_onnxruntime_tools():
        quantize_static(
            str(prepared),
            str(output),
            _Windows(windows),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(QUANTIZED_OPS),
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=first + last + attention,
            calibrate_method=CalibrationMethod.MinMax,
        )
    kept = len(first) + len(last) + len(attention)
    return {
        "quantized_ops": {op: counts[op] for op in QUANTIZED_OPS},
        "kept_float": {
            "first_convolutions": first,
            "last_convolutions": last,
            "attention_products": len(attention),
            "other_ops": "every op that is not a convolution or a matrix product",
        },
        "quantized_share": 1 - kept / max(sum(counts.values()), 1),
        "weights": "int8 per output channel, 7-bit range",
        "activations": "uint8 per tensor, MinMax ranges",
    }


def convert_fp16(prepared: Path, output: Path) -> dict:
    """Convert the model at ``prepared`` (``prepare_float_graph``) to float16 arithmetic, float32 inputs and outputs.

    Ops outside the converter's float16 list (its default block list) stay float32 behind casts.
    Returns the card entry.
    """
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    model = onnx.load(str(prepared))
    kept = sorted({n.op_type for n in model.graph.node} & set(DEFAULT_OP_BLOCK_LIST))
    with _quiet_onnxruntime_tools():
        half = convert_float_to_float16(model, keep_io_types=True, op_block_list=DEFAULT_OP_BLOCK_LIST)
    onnx.save_model(half, str(output))
    return {"kept_float": {"inputs_and_outputs": True, "ops": kept}, "weights": "float16"}


def _with_card(path: Path, card: ModelCard) -> None:
    """Replace the card stored in the ONNX file at ``path``."""
    model = onnx.load(str(path))
    entries = [e for e in model.metadata_props if e.key != ONNX_METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(entries)
    stored = model.metadata_props.add()
    stored.key, stored.value = ONNX_METADATA_KEY, card.to_json()
    onnx.save_model(model, str(path))


def precision_card(card: ModelCard, precision: str, entry: dict) -> ModelCard:
    """``card`` with ``metrics["precision"] = entry`` and the precision said in the description."""
    words = {"int8": "int8 weights and activations (ONNX Runtime static quantization)", "fp16": "float16 arithmetic"}
    description = f"{card.description.rstrip()} Precision: {words[precision]}.".strip()
    metrics = {**card.metrics, "precision": {"precision": precision, **entry}}
    return dataclasses.replace(card, metrics=metrics, description=description)


def quantize_model(
    source: str | Path,
    output: str | Path,
    precision: str = "int8",
    *,
    calibration: str | tuple[str | Path | None, str | Path | None] = SYNTHETIC,
    windows: int = DEFAULT_WINDOWS,
    size: int | None = None,
    check_windows: int = CHECK_WINDOWS,
    keep_attention_float: bool = True,
    keep_edges_float: bool = True,
    optical_bands: list[int | str] | None = None,
    sar_bands: list[int | str] | None = None,
    sar_unit: str = "auto",
    log=print,
) -> QuantizeResult:
    """Write an ``int8`` or ``fp16`` copy of the float LandFuse model ``source`` to ``output``.

    calibration: ``"synthetic"`` (the synthetic cloudy benchmark) or ``(optical, sar)`` raster paths
        (``optical_bands``/``sar_bands``: band names or 1-based indexes as for ``classify``). ``windows``
        windows of ``size`` px (default the card's tile size) calibrate int8 activations; up to
        ``check_windows`` more, never used for calibration, compare the result with the float model
        (fp16 uses only those). ``keep_attention_float`` / ``keep_edges_float``: see ``quantize_int8``.
    Raises ``BadParamsError`` for an unknown precision or a source that is not float32,
    ``CardMismatchError`` for a file without a LandFuse card, ``BandError`` when the calibration
    source lacks the card's bands.
    """
    from ..runners import read_model_card

    started = time.perf_counter()
    if precision not in PRECISIONS:
        raise BadParamsError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if windows < 1:
        raise BadParamsError(f"the number of calibration windows must be at least 1, got {windows}")
    source, output = Path(source), Path(output)
    if source.suffix != ".onnx":
        raise BadParamsError(f"{source.name}: quantize takes an exported .onnx model; export checkpoints first")
    if output.resolve() == source.resolve():
        raise BadParamsError(f"the output {output} is the input model: write the {precision} copy to another file")
    card = read_model_card(source)
    if precision_of(card) != FLOAT:
        raise BadParamsError(
            f"{source.name} is already {precision_of(card)}: quantize the float32 model it was made from"
        )
    size = window_size(card, size)
    count = windows if precision == "int8" else 0
    data = _windows(card, calibration, count, size, check_windows, optical_bands, sar_bands, sar_unit)
    log(f"{precision}: {data.source if count else 'no calibration'}; check on {data.check_source}")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NotWritableError(f"cannot create the folder of {output}: {exc}; choose a writable output path") from exc
    partial = output.with_name(f".{output.name}.partial")
    try:
        with tempfile.TemporaryDirectory(prefix="landfuse-quantize-") as work:
            prepared = prepare_float_graph(source, Path(work) / "float.onnx")
            if precision == "int8":
                entry = quantize_int8(prepared, partial, data.calibration, keep_attention_float, keep_edges_float)
                calibrated = {"source": data.source, "windows": len(data.calibration), "window_px": data.size}
                entry["calibration"] = calibrated
            else:
                entry = convert_fp16(prepared, partial)
        _with_card(partial, precision_card(card, precision, entry))
        entry["check"] = _check(source, partial, data)
        final = precision_card(card, precision, entry)
        _with_card(partial, final)
        os.replace(partial, output)
    except OSError as exc:
        raise NotWritableError(f"cannot write {output}: {exc}; choose a writable output path") from exc
    finally:
        partial.unlink(missing_ok=True)
    return QuantizeResult(output, final, time.perf_counter() - started)


def _windows(card, calibration, count, size, check_count, optical_bands, sar_bands, sar_unit) -> WindowSet:
    if isinstance(calibration, str):
        if calibration != SYNTHETIC:
            raise BadParamsError(
                f"calibration must be {SYNTHETIC!r} or an (optical, sar) raster pair, got {calibration!r}"
            )
        return synthetic_windows(card, count, size, check_count)
    optical, sar = calibration
    return raster_windows(
        card,
        optical,
        sar,
        count,
        size,
        check_count,
        optical_bands=optical_bands,
        sar_bands=sar_bands,
        sar_unit=sar_unit,
    )


def _check(source: Path, candidate: Path, data: WindowSet) -> dict:
    """Agreement (and mIoU where labelled) of ``candidate`` with ``source`` on the held-out windows."""
    from ..runners import OnnxRunner
    from .compare import compare_on_windows

    if not data.check:
        return {"skipped": "no held-out window: none asked for, or none left in the raster pair after calibration"}
    result = compare_on_windows(OnnxRunner(source, "cpu"), OnnxRunner(candidate, "cpu"), data)
    return {"on": data.check_source, **result}
