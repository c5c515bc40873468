"""Lower-precision variants of a model file: ``edc-lite.int8.onnx`` and ``edc-lite.fp16.onnx`` beside ``edc-lite.onnx``.

A variant is the same model with smaller numbers (``landfuse quantize`` or ``landfuse export --precision``
writes it); user interfaces offer it as a precision of its float32 model, not as a model of its own.
"""

from __future__ import annotations

from pathlib import Path

FLOAT = "float32"
QUANTIZED = ("int8", "fp16")
PRECISIONS = (FLOAT, *QUANTIZED)


def variant_path(path: str | Path, precision: str) -> Path:
    """The file of ``precision`` for the float model ``path``: ``edc-lite.onnx``, int8 -> ``edc-lite.int8.onnx``.

    ``float32`` is ``path`` itself. Raises ``ValueError`` for another precision.
    """
    path = Path(path)
    if precision == FLOAT:
        return path
    if precision not in QUANTIZED:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return path.with_name(f"{path.stem}.{precision}{path.suffix}")


def precision_of_name(path: str | Path) -> str:
    """The precision a file name says: ``edc-lite.int8.onnx`` -> ``int8``; ``float32`` for any other name."""
    suffix = Path(Path(path).stem).suffix
    return suffix[1:] if suffix[1:] in QUANTIZED else FLOAT


def float_path(path: str | Path) -> Path:
    """The float model a variant belongs to: ``edc-lite.int8.onnx`` -> ``edc-lite.onnx``; other names unchanged."""
    path = Path(path)
    if precision_of_name(path) == FLOAT:
        return path
    return path.with_name(f"{Path(path.stem).stem}{path.suffix}")


def is_variant_of_listed_model(path: str | Path) -> bool:
    """Whether ``path`` is a lower-precision variant whose float model exists beside it (listed under that model)."""
    base = float_path(path)
    return base != Path(path) and base.is_file()


def variants(path: str | Path) -> dict[str, Path]:
    """The precisions present for the float model ``path``: ``{"float32": path, "int8": ..., ...}`` in
    ``PRECISIONS`` order, each a file that exists beside it (``float32`` always listed)."""
    found = {FLOAT: Path(path)}
    for precision in QUANTIZED:
        candidate = variant_path(path, precision)
        if candidate.is_file():
            found[precision] = candidate
    return found
