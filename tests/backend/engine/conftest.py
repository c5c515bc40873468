"""Fixtures of the engine tests: a tiny two-input model exported to ONNX and a synthetic raster pair."""

from __future__ import annotations

import pytest

from landfuse.backend.runners import OnnxRunner
from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module, write_optical, write_sar


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory):
    """Path of the tiny fusion model (3 optical + 2 SAR bands, 3 classes, tile 64) as ONNX."""
    card = tiny_card()
    return export_onnx(tiny_module(card), card, tmp_path_factory.mktemp("models") / "tiny-test.onnx")


@pytest.fixture(scope="session")
def tiny_runner(tiny_onnx):
    return OnnxRunner(tiny_onnx, device="cpu", threads=1)


@pytest.fixture(scope="session")
def scene(tmp_path_factory):
    """(optical, sar) paths: optical UTM 10 m 150 x 170 with a nodata patch, SAR EPSG:4326 ~20 m with NaNs."""
    folder = tmp_path_factory.mktemp("scene")
    return write_optical(folder / "optical.tif", 150, 170), write_sar(folder / "sar.tif", 150, 170)
