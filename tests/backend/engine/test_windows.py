"""Window plans, blend weights and the streaming blender, checked as properties over sizes."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from landfuse.backend.engine.blend import StreamingBlender, normalise_blend
from landfuse.backend.engine.windows import WindowPlan, ramp_weights, window_starts


@st.composite
def plans(draw):
    tile = draw(st.sampled_from([16, 32, 48, 64]))
    overlap = draw(st.integers(0, tile - 1))
    return WindowPlan(draw(st.integers(1, 150)), draw(st.integers(1, 150)), tile, overlap)


@given(st.integers(1, 500), st.integers(1, 64), st.data())
def test_window_starts_cover_every_pixel_inside_the_raster(length, tile, data):
    stride = data.draw(st.integers(1, tile))
    starts = window_starts(length, tile, stride)
    covered = np.zeros(length, bool)
    for s in starts:
        assert s >= 0 and (s + min(tile, length) <= length)
        covered[s : s + tile] = True
    assert covered.all()
    assert starts == sorted(starts)
    assert all(b - a <= stride for a, b in zip(starts, starts[1:], strict=False))


@given(st.integers(1, 300), st.integers(0, 200))
def test_ramp_weights_are_positive_and_at_most_one(length, overlap):
    w = ramp_weights(length, overlap)
    assert w.shape == (length,) and (w > 0).all() and (w <= 1).all()


@settings(max_examples=60, deadline=None)
@given(plans(), st.integers(0, 2**31 - 1))
def test_streaming_blender_equals_full_weighted_average(plan, seed):
    rng = np.random.default_rng(seed)
    channels = 2
    valid_full = rng.random((plan.height, plan.width)) > 0.1
    valid_full[rng.random((plan.height, plan.width)) > 0.97] = False
    sums = np.zeros((channels, plan.height, plan.width), np.float32)
    weight = np.zeros((plan.height, plan.width), np.float32)
    blender = StreamingBlender(plan, channels)
    out = np.full((channels, plan.height, plan.width), np.nan, np.float32)
    out_valid = np.zeros((plan.height, plan.width), bool)
    th, tw = plan.window_height, plan.window_width
    assert (plan.weights > 0).all()
    for r, c, y0, x0 in plan:
        valid = valid_full[y0 : y0 + th, x0 : x0 + tw]
        values = rng.random((channels, th, tw), dtype=np.float32) if valid.any() else None
        if values is not None:
            sums[:, y0 : y0 + th, x0 : x0 + tw] += values * plan.weights
            weight[y0 : y0 + th, x0 : x0 + tw] += plan.weights
        piece = blender.add(r, c, values, valid)
        region = (slice(None), slice(piece.y0, piece.y1), slice(piece.x0, piece.x1))
        assert np.isnan(out[region]).all()
        out[region] = piece.values
        out_valid[region[1:]] = piece.valid
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out_valid, valid_full)
    assert (weight[valid_full] > 0).all(), "a valid pixel got no window"
    expected = normalise_blend(sums, weight)
    np.testing.assert_allclose(out[:, valid_full], expected[:, valid_full], atol=1e-6)
