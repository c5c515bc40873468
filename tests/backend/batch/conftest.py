"""Fixtures of the batch tests: the convolutional test model, written once per session."""

from __future__ import annotations

import pytest

from tests.backend.batch.helpers import write_conv_model


@pytest.fixture(scope="session")
def conv_model(tmp_path_factory):
    """Path of the small convolutional ONNX model (3 optical + 2 SAR bands, 3 classes, tile 64)."""
    return write_conv_model(tmp_path_factory.mktemp("models") / "conv-test.onnx")
