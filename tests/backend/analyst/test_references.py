"""Reference features: reading GeoJSON, class tables, feature-level holdout and the windows around features."""

from __future__ import annotations

import numpy as np
import pytest

from landfuse.backend.analyst.references import class_table, read_references, value_text
from landfuse.backend.analyst.samples import feature_windows, holdout_split, labelled_core, take_turns
from landfuse.backend.errors import BadParamsError, UnreadableInputError
from tests.backend.analyst.helpers import box, point, write_features


def test_features_are_read_with_their_class_as_text(tmp_path):
    path = write_features(
        tmp_path / "refs.geojson",
        [(box(0, 0, 2, 2), 3), (box(5, 5, 6, 6), 3.0), (box(1, 1, 2, 2), " water "), (box(3, 3, 4, 4), None)],
    )
    references = read_references(path)
    assert [r.value for r in references] == ["3", "3", "water"]  # the feature without a class is skipped
    assert references[0].bounds == (500000.0, 5099980.0, 500020.0, 5100000.0)
    assert value_text(float("nan")) is None and value_text(True) is None and value_text(2.5) == "2.5"


def test_mixed_geometries_lines_and_other_files_are_refused(tmp_path):
    mixed = write_features(tmp_path / "mixed.geojson", [(box(0, 0, 1, 1), "a"), (point(3, 3), "b")])
    with pytest.raises(BadParamsError, match="mixes points and polygons"):
        read_references(mixed)
    line = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    with pytest.raises(BadParamsError, match="LineString"):
        read_references(write_features(tmp_path / "line.geojson", [(line, "a")]))
    (tmp_path / "list.geojson").write_text("[1, 2]")
    with pytest.raises(UnreadableInputError, match="not a GeoJSON FeatureCollection"):
        read_references(tmp_path / "list.geojson")


def test_the_class_table_follows_the_renderer_then_sorts_the_rest(tmp_path):
    features = [(point(i, i), value) for i, value in enumerate(["10", "2", "2", "7", "unknown-free"])]
    references = read_references(write_features(tmp_path / "refs.geojson", features[:4]))
    given = [{"value": 7, "name": "Trees", "color": "#00AA00"}, {"value": 99, "name": "Absent", "color": "#000000"}]
    table = class_table(references, given)
    assert [(c.value, c.name, c.color) for c in table] == [
        ("7", "Trees", "#00aa00"),
        ("2", "2", "#33a02c"),
        ("10", "10", "#e31a1c"),
    ]


def test_features_are_held_out_whole_per_class():
    classes = np.array([0] * 8 + [1] * 4 + [2])
    held_out = holdout_split(classes, 0.25, seed=1)
    assert held_out[:8].sum() == 2 and held_out[8:12].sum() == 1 and not held_out[12]
    assert np.array_equal(held_out, holdout_split(classes, 0.25, seed=1))
    assert holdout_split(np.array([0, 0]), 0.9, seed=0).sum() == 1  # never every feature of a class
    with pytest.raises(BadParamsError):
        holdout_split(classes, 1.0, seed=0)


def test_windows_cover_each_feature_with_their_cores():
    """Windows of 64 + 2 x 16 pixels; their 32-pixel cores tile a feature larger than one core."""
    small = feature_windows((100, 110, 200, 204), size=64, jitter=16, shape=(1000, 1000))
    assert small == [(105 - 48, 202 - 48)]
    large = feature_windows((0, 70, 0, 10), size=64, jitter=16, shape=(1000, 1000))
    assert [row for row, _ in large] == [0, 16, 48]  # cores at rows 16.., 32.., 64.. (first clamped to the edge)
    edge = feature_windows((990, 995, 5, 8), size=64, jitter=16, shape=(1000, 1000))
    assert edge == [(1000 - 96, 0)]
    assert take_turns([[1, 2, 3], [4], [5, 6]], 4) == [1, 4, 5, 2]


def test_a_window_needs_a_labelled_pixel_in_its_core():
    label = np.full((96, 96), 255, np.uint8)
    label[5, 5] = 1
    assert not labelled_core(label, 16, at_edge=False)
    assert labelled_core(label, 16, at_edge=True)
    label[40, 50] = 0
    assert labelled_core(label, 16, at_edge=False)
