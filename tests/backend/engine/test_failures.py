"""Bad inputs fail early with stable codes; cancel and errors leave no output behind."""

import threading
import time

import numpy as np
import pytest
import rasterio

from landfuse.backend.engine import CancelToken, ClassifyOptions, classify
from landfuse.backend.errors import CancelledError, LandFuseError
from landfuse.backend.runners import OnnxRunner
from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module, write_optical, write_sar

OPTIONS = ClassifyOptions(tile_size=32, overlap=8, batch_size=2)


class SlowRunner:
    """Wraps a real runner; sleeps per batch and can fail on a given call (to test the pipeline's handling)."""

    def __init__(self, runner, delay: float = 0.0, fail_on_call: int | None = None):
        self.inner, self.delay, self.fail_on_call, self.calls = runner, delay, fail_on_call, 0
        self.card, self.device, self.provider = runner.card, runner.device, runner.provider

    def run(self, inputs):
        self.calls += 1
        time.sleep(self.delay)
        if self.calls == self.fail_on_call:
            raise RuntimeError("model crashed")
        return self.inner.run(inputs)


def names(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def out_dir(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def classify_code(*args, **kwargs) -> str:
    with pytest.raises(LandFuseError) as info:
        classify(*args, **kwargs)
    return info.value.code


def test_cancel_from_progress_leaves_nothing(scene, tiny_runner, out_dir):
    token = CancelToken()
    seen = []

    def progress(fraction, message):
        seen.append(fraction)
        if fraction > 0.1:
            token.cancel()

    with pytest.raises(CancelledError) as info:
        classify(
            *scene,
            tiny_runner,
            out_dir / "map.tif",
            confidence=out_dir / "c.tif",
            report=out_dir / "r.json",
            options=OPTIONS,
            progress=progress,
            cancel=token,
        )
    assert info.value.code == "CANCELLED"
    assert names(out_dir) == []
    assert max(seen) < 0.5, "the job must stop within one batch of the cancel"


def test_cancel_from_another_thread_keeps_previous_output(scene, tiny_runner, out_dir):
    (out_dir / "map.tif").write_bytes(b"previous result")
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    started = time.perf_counter()
    with pytest.raises(CancelledError):
        classify(*scene, SlowRunner(tiny_runner, delay=0.05), out_dir / "map.tif", options=OPTIONS, cancel=token)
    assert time.perf_counter() - started < 3.0
    assert names(out_dir) == ["map.tif"] and (out_dir / "map.tif").read_bytes() == b"previous result"


def test_model_error_mid_run_leaves_no_half_written_output(scene, tiny_runner, out_dir):
    runner = SlowRunner(tiny_runner, fail_on_call=4)
    with pytest.raises(RuntimeError, match="model crashed"):
        classify(
            *scene,
            runner,
            out_dir / "map.tif",
            confidence=out_dir / "c.tif",
            report=out_dir / "r.json",
            options=OPTIONS,
        )
    assert runner.calls == 4
    assert names(out_dir) == []


def test_output_that_is_a_folder(scene, tiny_runner, tmp_path):
    assert classify_code(*scene, tiny_runner, tmp_path, options=OPTIONS) == "NOT_WRITABLE"


def test_non_overlapping_extents(scene, tiny_runner, tmp_path):
    far = write_sar(tmp_path / "far.tif", 150, 170, shift_deg=2.0)
    assert classify_code(scene[0], far, tiny_runner, tmp_path / "map.tif", options=OPTIONS) == "NO_OVERLAP"
    assert names(tmp_path) == ["far.tif"]


def test_wrong_or_missing_bands(scene, tiny_runner, tmp_path):
    out = tmp_path / "map.tif"
    assert classify_code(*scene, tiny_runner, out, optical_bands=[1, 2, 9], options=OPTIONS) == "BAD_BANDS"
    assert classify_code(*scene, tiny_runner, out, optical_bands=[1, 2], options=OPTIONS) == "BAD_BANDS"
    assert classify_code(scene[0], None, tiny_runner, out, options=OPTIONS) == "BAD_BANDS"
    four = write_optical(tmp_path / "four.tif", 40, 40, bands=4)
    with pytest.raises(LandFuseError, match="(?i)choose the bands"):
        classify(four, scene[1], tiny_runner, out, options=OPTIONS)


def test_missing_crs(tmp_path, scene, tiny_runner):
    plain = tmp_path / "plain.tif"
    with rasterio.open(plain, "w", driver="GTiff", width=40, height=40, count=3, dtype="uint16") as dst:
        dst.write(np.full((3, 40, 40), 1000, np.uint16))
    assert classify_code(plain, scene[1], tiny_runner, tmp_path / "map.tif", options=OPTIONS) == "NO_CRS"


def test_all_nodata_input(tmp_path, scene, tiny_runner):
    empty = write_optical(tmp_path / "empty.tif", 60, 60)
    with rasterio.open(empty, "r+") as dst:
        dst.write(np.zeros((3, 60, 60), np.uint16))
    assert classify_code(empty, scene[1], tiny_runner, tmp_path / "map.tif", options=OPTIONS) == "ALL_NODATA"
    assert names(tmp_path) == ["empty.tif"]


def test_unreadable_files(tmp_path, scene, tiny_runner):
    corrupt = tmp_path / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00 this is not a raster" * 10)
    assert classify_code(corrupt, scene[1], tiny_runner, tmp_path / "map.tif", options=OPTIONS) == "UNREADABLE"
    assert (
        classify_code(tmp_path / "nope.tif", scene[1], tiny_runner, tmp_path / "m.tif", options=OPTIONS) == "UNREADABLE"
    )


def test_bad_options(scene, tiny_runner, tmp_path):
    out = tmp_path / "map.tif"
    assert classify_code(*scene, tiny_runner, out, options=ClassifyOptions(tile_size=40)) == "BAD_PARAMS"
    assert classify_code(*scene, tiny_runner, out, options=ClassifyOptions(tile_size=32, overlap=32)) == "BAD_PARAMS"
    assert classify_code(*scene, tiny_runner, out, options=ClassifyOptions(sar_unit="amplitude")) == "BAD_PARAMS"
    assert classify_code(*scene, tiny_runner, out, options=ClassifyOptions(target_crs="EPSG:999999")) == "BAD_GRID"


def test_model_card_class_count_mismatch(scene, tmp_path):
    card = tiny_card()
    lying = tiny_card(classes=4)
    path = export_onnx(tiny_module(card), card, tmp_path / "lying.onnx", card_json=lying.to_json())
    runner = OnnxRunner(path, "cpu")
    assert classify_code(*scene, runner, tmp_path / "map.tif", options=OPTIONS) == "CARD_MISMATCH"
    assert names(tmp_path) == ["lying.onnx"]
