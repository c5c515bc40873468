"""The engine against an independent implementation (``independent.py``: its own whole-raster reading,
normalisation, padding, windows, blend weights and ONNX Runtime session; no engine code)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.engine.windows import WindowPlan
from tests.backend.engine.helpers import ArraySource, collect_pipeline
from tests.backend.engine.independent import (
    PROBABILITY_TOLERANCE,
    crop_starts,
    expected_outputs,
    ramp,
    slide_inference,
)


def test_independent_windows_and_weights_follow_mmsegmentation():
    assert crop_starts(150, 64, 48) == [0, 48, 86]
    assert crop_starts(40, 64, 48) == [0]
    assert crop_starts(64, 64, 48) == [0]
    np.testing.assert_allclose(ramp(6, 2), [1 / 3, 2 / 3, 1, 1, 2 / 3, 1 / 3])
    np.testing.assert_allclose(ramp(4, 0), [1, 1, 1, 1])


@settings(max_examples=20, deadline=None)
@given(
    height=st.integers(1, 140),
    width=st.integers(1, 140),
    tile=st.sampled_from([32, 48, 64]),
    overlap_fraction=st.floats(0, 0.9),
    batch=st.integers(1, 5),
    seed=st.integers(0, 1000),
)
def test_pipeline_equals_independent_slide_inference(
    tiny_runner, tiny_onnx, height, width, tile, overlap_fraction, batch, seed
):
    rng = np.random.default_rng(seed)
    overlap = int(overlap_fraction * (tile - 1))
    valid = rng.random((height, width)) > 0.05
    arrays = {
        "optical": rng.normal(size=(3, height, width)).astype(np.float32),
        "sar": rng.normal(size=(2, height, width)).astype(np.float32),
    }
    for array in arrays.values():
        array[:, ~valid] = 0.0  # as the engine's reader hands them over
    expected, _ = slide_inference(tiny_onnx, tiny_runner.card, arrays, valid, tile, overlap)
    plan = WindowPlan(height, width, tile, overlap)
    probs, got_valid = collect_pipeline(plan, ArraySource(arrays, valid), tiny_runner, batch_size=batch, queue_size=1)
    np.testing.assert_array_equal(got_valid, valid)
    assert np.abs(probs - expected).max() <= PROBABILITY_TOLERANCE
    np.testing.assert_allclose(probs[:, valid].sum(axis=0), 1.0, atol=1e-5)


@pytest.mark.parametrize(("tile", "overlap", "batch"), [(64, 16, 3), (48, 40, 1), (32, 0, 5), (256, 64, 2)])
def test_written_outputs_equal_the_independent_expectation(
    scene, tiny_runner, tiny_onnx, tmp_path, tile, overlap, batch
):
    optical, sar = scene
    report = classify(
        optical,
        sar,
        tiny_runner,
        tmp_path / "map.tif",
        confidence=tmp_path / "confidence.tif",
        report=tmp_path / "report.json",
        options=ClassifyOptions(tile_size=tile, overlap=overlap, batch_size=batch),
    )
    expected = expected_outputs(tiny_onnx, tiny_runner.card, optical, sar, tile, overlap)
    expected.check_written(tmp_path / "map.tif", tmp_path / "confidence.tif")
    undecided = int((expected.valid & ~expected.decided).sum())
    counts = [int((expected.classes[expected.decided] == k).sum()) for k in range(tiny_runner.card.num_classes)]
    reported = [c["pixels"] for c in report["classes"]]
    assert sum(reported) == int(expected.valid.sum())
    assert all(c <= r <= c + undecided for r, c in zip(reported, counts, strict=True))
    assert report["valid_share"] == pytest.approx(expected.valid.mean(), abs=1e-12)
    top = expected.probabilities.max(axis=0)[expected.valid]
    assert report["mean_confidence"] == pytest.approx(top.mean(), abs=PROBABILITY_TOLERANCE)
    assert json.loads((tmp_path / "report.json").read_text()) == report
