"""The estimators of Olofsson et al. (2014) against the paper's own numerical example (section 5).

Table 8 of the paper: a stratified random sample of 640 points in four map classes (rows = map, columns
= reference) over 10,000,000 Landsat pixels of 30 m (0.09 ha). The published results (section 5.2, Table 9):
area proportions to 4 decimals; areas 21,158 / 11,686 / 285,770 / 581,386 ha with 95 % half-widths of
6,158 / 3,756 / 15,510 / 16,282 ha; user's accuracies 0.88 / 0.73 / 0.93 / 0.96 (+- 0.07 / 0.10 / 0.04 /
0.02); producer's accuracies 0.75 / 0.85 / 0.93 / 0.96; overall accuracy 0.95 +- 0.02. The producer's
half-widths the paper prints for forest gain (0.23) and stable non-forest (0.01) disagree with its own
equation 7 (0.254 and 0.018, recomputed here by hand below); the two others (0.21, 0.03) are checked.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from landfuse.backend.analyst.estimators import Z95, area_estimates, scores, top_confusions
from landfuse.backend.errors import BadParamsError

COUNTS = np.array([[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]])
MAPPED_HA = np.array([200_000, 150_000, 3_200_000, 6_450_000]) * 0.09
TABLE_9 = [
    [0.0176, 0.0, 0.0013, 0.0011],
    [0.0, 0.0110, 0.0016, 0.0024],
    [0.0019, 0.0, 0.2967, 0.0213],
    [0.0040, 0.0020, 0.0179, 0.6212],
]


@pytest.fixture(scope="module")
def example():
    return area_estimates(COUNTS, MAPPED_HA)


def test_area_proportions_are_table_9(example):
    assert np.round(example["proportions"], 4).tolist() == TABLE_9


def test_areas_and_their_confidence_intervals_are_the_published_ones(example):
    assert np.round(example["area"]).tolist() == [21158, 11686, 285770, 581386]
    half_widths = [Z95 * se for se in example["area_se"]]
    assert np.round(half_widths).tolist() == [6158, 3756, 15510, 16282]
    low, high = example["area_interval"][0]
    assert (low, high) == pytest.approx((21158 - 6158, 21158 + 6158), abs=1)


def test_accuracies_and_their_standard_errors_are_the_published_ones(example):
    assert np.round(example["users_accuracy"], 2).tolist() == [0.88, 0.73, 0.93, 0.96]
    assert np.round([Z95 * se for se in example["users_accuracy_se"]], 2).tolist() == [0.07, 0.10, 0.04, 0.02]
    assert np.round(example["producers_accuracy"], 2).tolist() == [0.75, 0.85, 0.93, 0.96]
    producers_hw = [Z95 * se for se in example["producers_accuracy_se"]]
    assert (round(producers_hw[0], 2), round(producers_hw[2], 2)) == (0.21, 0.03)
    assert (round(example["overall_accuracy"], 2), round(Z95 * example["overall_accuracy_se"], 2)) == (0.95, 0.02)


def test_producers_accuracy_variance_follows_equation_7_by_hand(example):
    """Forest gain (j = 1): N_i = mapped pixels, n_ij / n_i. from Table 8, equation 7 written out."""
    n, pixels = COUNTS.astype(float), np.array([200_000, 150_000, 3_200_000, 6_450_000], float)
    rows = n.sum(axis=1)
    totals = (pixels[:, None] * n / rows[:, None]).sum(axis=0)
    users = 55 / 75
    producers = pixels[1] * users / totals[1]
    first = pixels[1] ** 2 * (1 - producers) ** 2 * users * (1 - users) / (75 - 1)
    second = producers**2 * sum(
        pixels[i] ** 2 * (n[i, 1] / rows[i]) * (1 - n[i, 1] / rows[i]) / (rows[i] - 1) for i in (0, 2, 3)
    )
    assert example["producers_accuracy_se"][1] == pytest.approx(math.sqrt((first + second) / totals[1] ** 2))
    assert round(Z95 * example["producers_accuracy_se"][1], 3) == 0.254


def test_scores_of_the_area_proportions_match_the_estimates(example):
    result = scores(np.array(example["proportions"]), ["deforestation", "gain", "forest", "non_forest"])
    assert result["oa"] == pytest.approx(example["overall_accuracy"])
    assert [c["recall"] for c in result["per_class"]] == pytest.approx(example["producers_accuracy"])
    assert [c["precision"] for c in result["per_class"]] == pytest.approx(example["users_accuracy"])
    confusions = top_confusions(np.array(example["proportions"]), ["deforestation", "gain", "forest", "non_forest"])
    largest = confusions[0]
    assert (largest["reference"], largest["predicted"]) == ("deforestation", "non_forest")
    assert largest["share_of_reference"] == pytest.approx(0.0040 / 0.0235, abs=0.002)


def test_a_mapped_class_without_sample_points_is_refused_with_its_id():
    counts = COUNTS.copy()
    counts[1] = 0
    with pytest.raises(BadParamsError, match=r"\[1\].*no sample point"):
        area_estimates(counts, MAPPED_HA)


def test_a_stratum_of_one_point_has_no_standard_error():
    counts = np.array([[1, 0], [3, 40]])
    result = area_estimates(counts, [100.0, 900.0])
    assert result["users_accuracy_se"][0] is None and result["overall_accuracy_se"] is None
    assert result["area"] == pytest.approx([100 + 900 * 3 / 43, 900 * 40 / 43])
