"""Lower-precision variants are named ``<stem>.<precision>.onnx`` and found beside their float model."""

from __future__ import annotations

from pathlib import Path

import pytest

from landfuse.common.precision import float_path, is_variant_of_listed_model, precision_of_name, variant_path, variants


def test_variant_names_go_beside_the_float_model():
    model = Path("models/edc-lite.onnx")
    assert variant_path(model, "int8") == Path("models/edc-lite.int8.onnx")
    assert variant_path(model, "fp16") == Path("models/edc-lite.fp16.onnx")
    assert variant_path(model, "float32") == model
    with pytest.raises(ValueError, match="float32, int8, fp16"):
        variant_path(model, "int4")


@pytest.mark.parametrize(
    ("name", "precision", "base"),
    [
        ("edc-lite.int8.onnx", "int8", "edc-lite.onnx"),
        ("edc-lite.fp16.onnx", "fp16", "edc-lite.onnx"),
        ("edc-lite.onnx", "float32", "edc-lite.onnx"),
        ("my.model.v2.onnx", "float32", "my.model.v2.onnx"),  # dots in a name are not a precision
        ("run.int8.pt", "int8", "run.pt"),
    ],
)
def test_the_precision_and_the_float_model_are_read_from_the_name(name, precision, base):
    assert precision_of_name(Path("m") / name) == precision
    assert float_path(Path("m") / name) == Path("m") / base


def test_variants_lists_only_the_files_present(tmp_path):
    model = tmp_path / "tiny.onnx"
    model.write_bytes(b"float")
    assert variants(model) == {"float32": model}
    (tmp_path / "tiny.fp16.onnx").write_bytes(b"half")
    (tmp_path / "tiny.int8.onnx").write_bytes(b"int8")
    found = variants(model)
    assert list(found) == ["float32", "int8", "fp16"]
    assert found["int8"] == tmp_path / "tiny.int8.onnx"


def test_a_variant_is_listed_under_its_model_only_when_the_float_model_exists(tmp_path):
    orphan = tmp_path / "alone.int8.onnx"
    orphan.write_bytes(b"int8")
    assert not is_variant_of_listed_model(orphan)  # nothing to list it under: it stays a model of its own
    (tmp_path / "alone.onnx").write_bytes(b"float")
    assert is_variant_of_listed_model(orphan)
    assert not is_variant_of_listed_model(tmp_path / "alone.onnx")
