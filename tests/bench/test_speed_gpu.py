"""The GPU benchmark reports the device truthfully: no CUDA session, no GPU figures."""

import numpy as np
import onnxruntime as ort
import pytest

from landfuse.bench import speed_gpu
from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module

NO_CUDA = "CUDAExecutionProvider" not in ort.get_available_providers()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    card = tiny_card()
    return export_onnx(tiny_module(card), card, tmp_path_factory.mktemp("gpu") / "tiny.onnx"), card


@pytest.mark.skipif(not NO_CUDA, reason="this machine has a CUDA provider: the benchmark would run for real")
def test_without_a_cuda_provider_the_benchmark_refuses_and_writes_nothing(capsys):
    results = speed_gpu.RESULTS_DIR / "speed.json"
    before = results.read_bytes() if results.exists() else None
    assert speed_gpu.run() == 2
    assert "no GPU figures" in capsys.readouterr().err
    assert (results.read_bytes() if results.exists() else None) == before


@pytest.mark.skipif(not NO_CUDA, reason="this machine has a CUDA provider")
def test_a_session_that_falls_back_to_the_cpu_is_refused(tiny_model):
    with pytest.raises(speed_gpu.NoGpuError, match="not on CUDA"):
        speed_gpu.cuda_session(tiny_model[0])


def test_measure_times_plain_runs_and_io_binding(tiny_model):
    path, _ = tiny_model
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = {"optical": np.zeros((1, 3, 64, 64), np.float32), "sar": np.zeros((1, 2, 64, 64), np.float32)}
    timings = speed_gpu.measure(session, inputs, device="cpu", runs=3)
    for mode in ("io_binding_off", "io_binding_on"):
        assert timings[mode]["s_per_window"] > 0
        assert timings[mode]["fps"] == pytest.approx(1 / timings[mode]["s_per_window"])
        assert timings[mode]["min_s"] <= timings[mode]["s_per_window"] <= timings[mode]["max_s"]
