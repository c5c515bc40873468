"""Metrics against a confusion matrix worked out by hand."""

import json
import math

import numpy as np
import pytest

from landfuse.backend.metrics import (
    ConfusionAccumulator,
    confusion_matrix,
    metrics_from_confusion,
    plot_confusion_matrix,
    psnr,
    ssim,
)
from landfuse.common.card import ClassSpec

CLASSES = [
    ClassSpec(0, "water", "#0000ff"),
    ClassSpec(1, "trees", "#00ff00"),
    ClassSpec(2, "built", "#ff0000"),
    ClassSpec(3, "snow", "#ffffff"),
]
# Rows = reference, columns = predicted. Class 3 never occurs in reference or prediction.
HAND = np.array([[5, 1, 0, 0], [2, 3, 1, 0], [0, 0, 4, 0], [0, 0, 0, 0]])


def pixels_of(matrix):
    """Reference and predicted pixel arrays with exactly the counts of ``matrix``, plus two nodata pixels."""
    reference, predicted = [], []
    for r, p in np.argwhere(matrix):
        reference += [r] * matrix[r, p]
        predicted += [p] * matrix[r, p]
    return np.array(reference + [255, 0], dtype=np.uint8), np.array(predicted + [1, 255], dtype=np.uint8)


def test_confusion_matrix_counts_pixels_and_skips_nodata():
    reference, predicted = pixels_of(HAND)
    assert confusion_matrix(reference, predicted, 4).tolist() == HAND.tolist()


def test_scores_match_the_hand_computation():
    m = metrics_from_confusion(HAND, CLASSES)
    assert m["pixels"] == 16
    assert m["oa"] == pytest.approx(12 / 16)
    iou = [5 / 8, 3 / 7, 4 / 5]
    assert [c["iou"] for c in m["per_class"]][:3] == pytest.approx(iou)
    assert m["per_class"][3]["iou"] is None and m["per_class"][3]["f1"] is None
    assert m["miou"] == pytest.approx(sum(iou) / 3)  # the absent class is left out (nan-mean)
    f1 = [10 / 13, 6 / 10, 8 / 9]
    assert [c["f1"] for c in m["per_class"]][:3] == pytest.approx(f1)
    assert m["mean_f1"] == pytest.approx(sum(f1) / 3)
    assert m["per_class"][1]["precision"] == pytest.approx(3 / 4)
    assert m["per_class"][1]["recall"] == pytest.approx(3 / 6)
    assert [c["support"] for c in m["per_class"]] == [6, 6, 4, 0]
    expected = (6 * 7 + 6 * 4 + 4 * 5) / 16**2
    assert m["kappa"] == pytest.approx((0.75 - expected) / (1 - expected))
    assert m["top_confusions"][0] == {
        "reference": "trees",
        "predicted": "water",
        "pixels": 2,
        "share_of_reference": pytest.approx(2 / 6),
    }
    assert [(t["reference"], t["predicted"]) for t in m["top_confusions"]] == [
        ("trees", "water"),
        ("water", "trees"),
        ("trees", "built"),
    ]
    json.dumps(m, allow_nan=False)


def test_accumulator_splits_clear_and_cloudy_pixels():
    reference = np.array([[0, 0], [1, 1]])
    predicted = np.array([[0, 1], [1, 0]])
    cloud = np.array([[0, 1], [0, 1]])
    acc = ConfusionAccumulator(2)
    acc.update(reference, predicted, cloud)
    acc.update(reference, predicted, cloud)
    m = acc.metrics(CLASSES[:2])
    assert m["oa"] == 0.5 and m["pixels"] == 8
    assert m["clear"]["oa"] == 1.0 and m["clear"]["miou"] == 1.0
    assert m["cloudy"]["oa"] == 0.0 and m["cloudy"]["miou"] == 0.0
    assert m["cloudy"]["confusion_matrix"] == [[0, 2], [2, 0]]


def test_perfect_single_class_map_has_kappa_one():
    m = metrics_from_confusion(np.array([[9, 0], [0, 0]]), CLASSES[:2])
    assert m["oa"] == 1.0 and m["kappa"] == 1.0 and m["miou"] == 1.0


def test_psnr_and_ssim_of_known_images():
    rng = np.random.default_rng(0)
    target = rng.random((2, 32, 32))
    assert psnr(target + 0.1, target) == pytest.approx(20.0)
    assert math.isinf(psnr(target, target))
    assert ssim(target, target) == pytest.approx(1.0)
    assert ssim(target + 0.05, target) < 1.0
    assert ssim(rng.random((2, 32, 32)), target) < 0.2


def test_confusion_matrix_plot_is_a_png(tmp_path):
    path = plot_confusion_matrix(HAND, CLASSES, tmp_path / "cm.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
