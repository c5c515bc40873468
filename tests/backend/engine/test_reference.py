"""The streaming pipeline equals the in-memory slide reference (real ONNX Runtime model)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from landfuse.backend.engine.reference import slide_inference
from landfuse.backend.engine.windows import WindowPlan
from tests.backend.engine.helpers import ArraySource, collect_pipeline


@settings(max_examples=20, deadline=None)
@given(
    height=st.integers(1, 140),
    width=st.integers(1, 140),
    tile=st.sampled_from([32, 48, 64]),
    overlap_fraction=st.floats(0, 0.9),
    batch=st.integers(1, 5),
    seed=st.integers(0, 1000),
)
def test_pipeline_equals_reference_over_sizes(tiny_runner, height, width, tile, overlap_fraction, batch, seed):
    rng = np.random.default_rng(seed)
    plan = WindowPlan(height, width, tile, int(overlap_fraction * (tile - 1)))
    valid = rng.random((height, width)) > 0.05
    arrays = {
        "optical": rng.normal(size=(3, height, width)).astype(np.float32),
        "sar": rng.normal(size=(2, height, width)).astype(np.float32),
    }
    source = ArraySource(arrays, valid)
    expected, expected_valid = slide_inference(plan, source, tiny_runner)
    probs, got_valid = collect_pipeline(plan, source, tiny_runner, batch_size=batch, queue_size=1)
    np.testing.assert_array_equal(got_valid, valid)
    assert np.abs(probs - expected).max() <= 1e-5
    np.testing.assert_allclose(probs[:, valid].sum(axis=0), 1.0, atol=1e-5)
