"""Stratified sample design (Olofsson et al. 2014, section 5.1) and drawing points from a class map."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from landfuse.backend.analyst.classmap import open_class_map
from landfuse.backend.analyst.sampling import allocate, draw_points, largest_remainder, plan_sample, sample_size
from landfuse.backend.errors import BadParamsError
from tests.backend.analyst.helpers import write_class_map

# Section 5.1.1 of the paper: mapped shares and conjectured user's accuracies of its four classes.
WEIGHTS = [0.020, 0.015, 0.320, 0.645]
EXPECTED_UA = [0.70, 0.60, 0.90, 0.95]


def test_sample_size_is_equation_13_of_the_paper():
    """The paper finds n = 641 for a standard error of 0.01 of the overall accuracy."""
    assert sample_size(WEIGHTS, EXPECTED_UA, 0.01) == 641
    assert sample_size(WEIGHTS, EXPECTED_UA, 0.02) == 161  # (25.308 / 2)^2 = 160.1 -> 161
    with pytest.raises(BadParamsError, match="between 0 and 1"):
        sample_size(WEIGHTS, EXPECTED_UA, 0.0)


def test_proportional_and_equal_allocations_are_the_papers():
    """Table 5: proportional allocation of 641 points is 13 / 10 / 205 / 413; equal allocation 160 each (a minimum
    of a quarter of the points makes every class equal)."""
    assert allocate(WEIGHTS, 641, minimum=0).tolist() == [13, 10, 205, 413]
    assert allocate(WEIGHTS, 640, minimum=160).tolist() == [160, 160, 160, 160]


def test_a_minimum_per_class_shares_the_rest_proportionally():
    """75 points for each rare class, then 641 - 150 = 491 in proportion 0.320 : 0.645 -> 162.8 and 328.2."""
    assert allocate(WEIGHTS, 641, minimum=75).tolist() == [75, 75, 163, 328]
    # A class raised to the minimum can push another below it: both end at the minimum.
    assert allocate([0.01, 0.09, 0.9], 100, minimum=20).tolist() == [20, 20, 60]
    # No class gets more points than it has pixels; a class without pixels gets none.
    assert allocate([0.5, 0.5, 0.0], 100, minimum=10, available=[30, 1000, 0]).tolist() == [30, 70, 0]


def test_largest_remainder_keeps_the_total():
    shares = np.array([1.5, 1.5, 1.0])
    assert largest_remainder(shares, 4).tolist() == [2, 1, 1]
    assert largest_remainder(np.array([0.2, 0.3, 0.5]) * 7, 7).sum() == 7


@pytest.fixture()
def class_map(tmp_path):
    """Three classes in bands of 60 x 100 pixels: 600 / 2400 / 3000 pixels (10 m: 6 / 24 / 30 ha), nodata band."""
    ids = np.full((70, 100), 255, np.uint8)
    ids[:6], ids[6:30], ids[30:60] = 0, 1, 2
    return write_class_map(tmp_path / "map.tif", ids, ["water", "crops", "trees"], ["#1f78b4", "#ffdd00", "#33a02c"])


def test_plan_uses_the_mapped_areas(class_map):
    design = plan_sample(open_class_map(str(class_map), with_areas=True), 0.02, 0.8, minimum=30)
    assert [c["mapped_hectares"] for c in design["classes"]] == pytest.approx([6.0, 24.0, 30.0])
    assert [c["weight"] for c in design["classes"]] == pytest.approx([0.1, 0.4, 0.5])
    assert design["planned_total"] == sample_size([0.1, 0.4, 0.5], [0.8] * 3, 0.02) == 400
    assert [c["points"] for c in design["classes"]] == [40, 160, 200]


def test_points_are_distinct_pixels_of_their_stratum_and_repeatable(class_map):
    opened = open_class_map(str(class_map), with_areas=True)
    points = draw_points(opened, [25, 50, 60], seed=3)
    assert [sum(p.stratum == k for p in points) for k in range(3)] == [25, 50, 60]
    with rasterio.open(class_map) as src:
        values = [int(v[0]) for v in src.sample([(p.x, p.y) for p in points])]
        cells = {src.index(p.x, p.y) for p in points}
    assert values == [p.stratum for p in points]
    assert len(cells) == len(points)
    assert draw_points(opened, [25, 50, 60], seed=3) == points
    assert draw_points(opened, [25, 50, 60], seed=4) != points


def test_a_stratum_smaller_than_its_allocation_gives_all_its_pixels(class_map, monkeypatch):
    import landfuse.backend.analyst.sampling as sampling

    monkeypatch.setattr(sampling, "STRIP_PIXELS", 700)  # several strips: picks cross strip edges
    opened = open_class_map(str(class_map), with_areas=True)
    points = draw_points(opened, [1000, 10, 0], seed=0)
    assert sum(p.stratum == 0 for p in points) == 600 and sum(p.stratum == 1 for p in points) == 10
