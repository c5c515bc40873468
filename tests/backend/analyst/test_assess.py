"""Assessment of a class map against reference points and polygons; explanations take its numbers as facts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from landfuse.backend.analyst.assess import assess
from landfuse.backend.analyst.estimators import area_estimates
from landfuse.backend.analyst.report import assessment_figure, assessment_html
from landfuse.backend.errors import BadParamsError
from landfuse.backend.explain.facts import extract_facts
from tests.backend.analyst.helpers import box, point, write_class_map, write_features

NAMES, COLOURS = ["water", "crops", "trees"], ["#1f78b4", "#ffdd00", "#33a02c"]


@pytest.fixture()
def class_map(tmp_path):
    """100 x 100 pixels of 10 m: water rows 0-9 (10 ha), crops rows 10-59 (50 ha), trees rows 60-99 (40 ha)."""
    ids = np.zeros((100, 100), np.uint8)
    ids[10:60], ids[60:] = 1, 2
    return write_class_map(tmp_path / "map.tif", ids, NAMES, COLOURS)


def labelled_points(tmp_path, rows: dict, wrong: dict) -> str:
    """Points on pixel centres: ``rows[k]`` is the map row of stratum k; ``wrong[(k, j)]`` points of stratum k
    are labelled j, the rest k. 20 points per stratum (columns 0..19)."""
    features = []
    for k, row in rows.items():
        labels = [j for (stratum, j), n in wrong.items() if stratum == k for _ in range(n)]
        labels += [k] * (20 - len(labels))
        features += [(point(row, col), NAMES[label].upper()) for col, label in enumerate(labels)]
    return str(write_features(tmp_path / "points.geojson", features))


def test_points_give_the_area_adjusted_estimates_of_the_error_matrix(class_map, tmp_path):
    references = labelled_points(tmp_path, {0: 5, 1: 30, 2: 80}, {(1, 0): 2, (2, 1): 4, (0, 2): 1})
    result = assess(str(class_map), references)
    counts = np.array([[19, 0, 1], [2, 18, 0], [0, 4, 16]])
    assert result["error_matrix"] == counts.tolist() and result["confusion_matrix"] == counts.T.tolist()
    expected = area_estimates(counts, [10.0, 50.0, 40.0])
    assert result["oa"] == pytest.approx(expected["overall_accuracy"]) and result["oa_se"] > 0
    assert result["sample_oa"] == pytest.approx(53 / 60)
    water = result["per_class"][0]
    assert water["mapped_hectares"] == pytest.approx(10.0)
    assert water["hectares_estimate"] == pytest.approx(expected["area"][0])
    assert water["hectares_interval"] == pytest.approx(expected["area_interval"][0])
    assert water["users_accuracy"] == pytest.approx(19 / 20) and water["producers_accuracy"] == pytest.approx(
        expected["producers_accuracy"][0]
    )
    # 2 of the 20 crops points are water: 0.5 x 2/20 = 0.05 of the area, a third of the estimated water (0.145)
    largest = result["top_confusions"][0]
    assert (largest["reference"], largest["predicted"]) == ("water", "crops")
    assert largest["share_of_reference"] == pytest.approx(0.05 / 0.145)
    assert result["sample"] == {"points": 60, "off_map": 0, "on_nodata": 0, "used": 60}


def test_points_off_the_map_or_on_nodata_are_counted_apart(tmp_path):
    ids = np.zeros((20, 20), np.uint8)
    ids[:, 10:] = 1
    ids[:5, :5] = 255
    class_map = write_class_map(tmp_path / "map.tif", ids, NAMES[:2], COLOURS[:2])
    features = [(point(10, 2), "0"), (point(10, 15), "1"), (point(1, 1), "0"), (point(-3, 2), "0")]
    features += [(point(12, c), "water") for c in range(3)] + [(point(14, c), "crops") for c in range(12, 15)]
    result = assess(str(class_map), str(write_features(tmp_path / "p.geojson", features)))
    assert result["sample"] == {"points": 10, "off_map": 1, "on_nodata": 1, "used": 8}
    assert result["oa"] == 1.0


def test_polygons_are_scored_pixel_by_pixel_without_area_estimates(class_map, tmp_path):
    polygons = [(box(0, 0, 10, 10), "water"), (box(55, 0, 65, 10), "crops")]  # the second half crops, half trees
    result = assess(str(class_map), str(write_features(tmp_path / "polygons.geojson", polygons)))
    assert result["units"] == "pixels" and "area_proportions" not in result
    assert result["error_matrix"] == [[100, 0, 0], [0, 50, 0], [0, 50, 0]]
    assert result["oa"] == pytest.approx(0.75) and "hectares_interval" not in result["per_class"][0]
    assert "no area estimates" in result["design"]


def test_unknown_reference_classes_are_named(class_map, tmp_path):
    references = write_features(tmp_path / "bad.geojson", [(point(1, 1), "lake")])
    with pytest.raises(BadParamsError, match=r"\['lake'\].*0 water, 1 crops, 2 trees"):
        assess(str(class_map), str(references))


def test_a_map_class_without_points_gives_counts_and_a_note(class_map, tmp_path):
    references = labelled_points(tmp_path, {0: 5, 1: 30}, {})
    result = assess(str(class_map), references)
    assert "area_proportions" not in result and "no area estimates" in result["notes"][0]
    assert result["oa"] == 1.0


def test_explanations_take_the_assessment_as_facts(class_map, tmp_path):
    """The assessment JSON is a metrics file for explain: accuracy, kappa, the largest confusion, area intervals."""
    references = labelled_points(tmp_path, {0: 5, 1: 30, 2: 80}, {(1, 0): 2, (2, 1): 4, (0, 2): 1})
    result = json.loads(json.dumps(assess(str(class_map), references)))
    report = {
        "landfuse_report": 1,
        "model": {
            "classes": [{"id": i, "name": n, "color": c} for i, (n, c) in enumerate(zip(NAMES, COLOURS, strict=True))]
        },
        "classes": [
            {"id": 0, "name": "water", "share": 0.1, "hectares": 10.0},
            {"id": 1, "name": "crops", "share": 0.5, "hectares": 50.0},
            {"id": 2, "name": "trees", "share": 0.4, "hectares": 40.0},
        ],
    }
    facts = extract_facts(report, result)
    assert facts["oa"].value == pytest.approx(100 * result["oa"])
    assert facts["kappa"].value == pytest.approx(result["kappa"])
    assert "mix:water:crops" in facts
    low, high = result["per_class"][0]["hectares_interval"]
    assert facts["ha_low:water"].value == pytest.approx(low) and facts["ha_high:water"].value == pytest.approx(high)


def test_the_report_renders_as_html_and_png(class_map, tmp_path):
    references = labelled_points(tmp_path, {0: 5, 1: 30, 2: 80}, {(1, 0): 2})
    result = assess(str(class_map), references)
    png = assessment_figure(result, tmp_path / "figure.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "figure.png").stat().st_size == len(png)
    page = assessment_html(result, png)
    assert "Overall accuracy" in page and "data:image/png;base64," in page and "crops" in page
    assert page.count("<tr>") == 3 + 1 + 3 + 1  # per-class rows + header, matrix rows + header
