"""The engine's own work kept light: exp through ONNX Runtime, the top class without argmax, model calls
on the CPU split so that memory does not grow with the batch."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from landfuse.backend.engine.blend import softmax
from landfuse.backend.engine.exp import EXP_GRAPH, exp
from landfuse.backend.engine.outputs import top_class
from landfuse.backend.runners import CPU_PIXELS_PER_CALL, OnnxRunner, run_in_calls
from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "build_engine_graphs.py"


def test_the_shipped_exp_graph_is_the_one_the_script_writes():
    spec = importlib.util.spec_from_file_location("build_engine_graphs", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert EXP_GRAPH.read_bytes() == script.exp_graph()


@pytest.mark.parametrize("shape", [(7,), (3, 5, 9), (2, 4, 33, 17)])
def test_exp_equals_numpy_on_any_shape(shape):
    values = np.random.default_rng(0).uniform(-100, 80, size=shape).astype(np.float32)
    result = exp(values)
    assert result.dtype == np.float32 and result.shape == shape
    np.testing.assert_allclose(result, np.exp(values), rtol=1e-6, atol=0)


def test_exp_keeps_the_limits():
    values = np.array([-np.inf, -200.0, 0.0, 100.0, np.inf, np.nan], np.float32)
    result = exp(values)
    assert result[:3].tolist() == [0.0, 0.0, 1.0]
    assert np.isinf(result[3]) and np.isinf(result[4]) and np.isnan(result[5])


def test_softmax_sums_to_one_and_agrees_with_the_textbook_formula():
    logits = np.random.default_rng(1).normal(scale=30, size=(5, 16, 16)).astype(np.float32)
    probabilities = softmax(logits.copy(), axis=0)
    textbook = np.exp(logits.astype(np.float64) - logits.max(axis=0)) / np.exp(
        logits.astype(np.float64) - logits.max(axis=0)
    ).sum(axis=0)
    np.testing.assert_allclose(probabilities, textbook, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=0), 1.0, atol=1e-6)


def test_top_class_equals_argmax_and_max_and_keeps_the_first_on_ties():
    rng = np.random.default_rng(2)
    probs = rng.random((6, 40, 30)).astype(np.float32)
    probs[:, :5, :5] = 0.25  # ties everywhere: the first class wins, as with argmax
    probs[3, 10:20, 10:20] = probs[1, 10:20, 10:20]
    labels, top = top_class(probs)
    assert labels.dtype == np.uint8 and top.dtype == np.float32
    np.testing.assert_array_equal(labels, probs.argmax(axis=0))
    np.testing.assert_array_equal(top, probs.max(axis=0))
    assert (labels[:5, :5] == 0).all()


def test_cpu_batches_are_run_in_calls_of_one_large_window(tmp_path):
    card = tiny_card(tile=512)
    runner = OnnxRunner(export_onnx(tiny_module(card), card, tmp_path / "tiny.onnx"), "cpu")
    side = 512
    assert CPU_PIXELS_PER_CALL // (side * side) == 1
    rng = np.random.default_rng(3)
    batch = {
        "optical": rng.normal(size=(3, len(card.optical_bands), side, side)).astype(np.float32),
        "sar": rng.normal(size=(3, len(card.sar_bands), side, side)).astype(np.float32),
    }
    calls = []

    def counted(inputs):
        calls.append(next(iter(inputs.values())).shape[0])
        return runner._run_call(inputs)

    split = run_in_calls(counted, batch, on_cpu=True)
    assert calls == [1, 1, 1]
    whole = run_in_calls(counted, batch, on_cpu=False)
    assert calls[3:] == [3]
    np.testing.assert_allclose(split["logits"], whole["logits"], atol=1e-5)
    small = {k: v[:, :, :256, :256].copy() for k, v in batch.items()}
    run_in_calls(counted, small, on_cpu=True)
    assert calls[4:] == [3]  # three 256 px windows fit in one call


def test_the_engine_threads_yield_to_the_model():
    """Reader and writer run at a lower priority than the thread that runs the model (Linux: per thread)."""
    import os
    import threading

    from landfuse.backend.engine.pipeline import ENGINE_THREAD_NICENESS, yield_to_model

    seen = {}

    def engine_thread():
        before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        yield_to_model()
        seen["change"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) - before
        seen["before"] = before

    thread = threading.Thread(target=engine_thread)
    thread.start()
    thread.join()
    assert seen["change"] == min(ENGINE_THREAD_NICENESS, 19 - seen["before"]) > 0
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == seen["before"]  # the caller keeps its own
