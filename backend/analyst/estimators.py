"""Accuracy and area estimators of good practice (Olofsson et al. 2014), from an error matrix.

Notation of the paper: the error matrix ``n[i, j]`` counts sample units mapped as class ``i`` (rows,
the strata of a stratified random sample) whose reference class is ``j`` (columns); ``A[i]`` is the
mapped area of class ``i`` and ``W[i] = A[i] / sum(A)`` its weight. Then (equations 2-10 of the paper):

- area proportions ``p[i, j] = W[i] n[i, j] / n[i.]``;
- overall accuracy ``O = sum_j p[j, j]``, ``V(O) = sum_i W[i]^2 U[i] (1 - U[i]) / (n[i.] - 1)``;
- user's accuracy ``U[i] = n[i, i] / n[i.]``, ``V(U[i]) = U[i] (1 - U[i]) / (n[i.] - 1)``;
- producer's accuracy ``P[j] = p[j, j] / p[.j]`` with the variance of equation 7 (estimated reference
  totals ``N[.j] = sum_i A[i] n[i, j] / n[i.]``);
- area of reference class ``j``: ``A_hat[j] = sum(A) p[.j]``, standard error
  ``sum(A) sqrt(sum_i (W[i] p[i, j] - p[i, j]^2) / (n[i.] - 1))``; 95 % interval ``+- 1.96`` standard errors.

Standard errors need two sample units in a stratum; with fewer they are ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import BadParamsError

Z95 = 1.96  # the 95 % normal quantile as the paper rounds it


def _or_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def area_estimates(counts: np.ndarray, mapped_areas: Sequence[float], z: float = Z95) -> dict:
    """Stratified estimates from ``counts`` ``[K, K]`` (rows = map class = stratum, columns = reference class)
    and ``mapped_areas`` ``[K]`` (any unit: the areas come back in it).

    Returns ``weights``, ``proportions`` (``p[i, j]``), ``overall_accuracy`` / ``overall_accuracy_se``,
    ``users_accuracy`` / ``users_accuracy_se``, ``producers_accuracy`` / ``producers_accuracy_se``,
    ``area`` / ``area_se`` / ``area_interval`` (``[low, high]`` at ``z`` standard errors, low clipped at 0)
    and ``reference_proportions`` (``p[.j]``). Raises ``BadParamsError`` when a mapped class has no
    sample unit (its stratum was not sampled).
    """
    n = np.asarray(counts, dtype=np.float64)
    areas = np.asarray(mapped_areas, dtype=np.float64)
    if n.ndim != 2 or n.shape[0] != n.shape[1] or areas.shape != (n.shape[0],):
        raise BadParamsError(
            f"expected a square error matrix and one mapped area per class, got {n.shape}, {areas.shape}"
        )
    row_totals = n.sum(axis=1)
    unsampled = np.flatnonzero((areas > 0) & (row_totals == 0))
    if len(unsampled):
        raise BadParamsError(
            f"mapped class(es) {unsampled.tolist()} have no sample point: every map class must be sampled for the "
            "area estimates (draw the sample with the stratified sampler)"
        )
    total_area = areas.sum()
    weights = areas / total_area
    with np.errstate(divide="ignore", invalid="ignore"):
        within = np.where(row_totals[:, None] > 0, n / row_totals[:, None], 0.0)  # n[i, j] / n[i.]
        dof = np.where(row_totals > 1, row_totals - 1, np.nan)  # n[i.] - 1 (NaN: no variance)
        sampled = areas > 0
        p = weights[:, None] * within
        reference_p = p.sum(axis=0)
        users = np.diag(within).copy()
        users_var = users * (1 - users) / dof
        overall = float(np.trace(p))
        overall_var = float(np.sum(np.where(sampled, weights**2 * users_var, 0.0)))  # NaN if a stratum has 1 unit
        producers = np.diag(p) / reference_p
        estimated_totals = (areas[:, None] * within).sum(axis=0)  # N[.j]
        producers_var = np.full(len(areas), np.nan)
        for j in range(len(areas)):
            others = [i for i in range(len(areas)) if i != j and sampled[i]]
            first = areas[j] ** 2 * (1 - producers[j]) ** 2 * users[j] * (1 - users[j]) / dof[j] if sampled[j] else 0
            second = producers[j] ** 2 * sum(areas[i] ** 2 * within[i, j] * (1 - within[i, j]) / dof[i] for i in others)
            producers_var[j] = (first + second) / estimated_totals[j] ** 2
        proportion_var = np.where(sampled[:, None], (weights[:, None] * p - p**2) / dof[:, None], 0.0).sum(axis=0)
    area = total_area * reference_p
    area_se = total_area * np.sqrt(proportion_var)
    return {
        "weights": weights.tolist(),
        "proportions": p.tolist(),
        "reference_proportions": reference_p.tolist(),
        "overall_accuracy": overall,
        "overall_accuracy_se": _or_none(math.sqrt(overall_var)) if overall_var >= 0 else None,
        "users_accuracy": [_or_none(v) for v in users],
        "users_accuracy_se": [_or_none(math.sqrt(v)) if v >= 0 else None for v in users_var],
        "producers_accuracy": [_or_none(v) for v in producers],
        "producers_accuracy_se": [_or_none(math.sqrt(v)) if v >= 0 else None for v in producers_var],
        "area": area.tolist(),
        "area_se": [_or_none(v) for v in area_se],
        "area_interval": [
            [max(0.0, a - z * s), a + z * s] if math.isfinite(s) else None for a, s in zip(area, area_se, strict=True)
        ],
        "z": z,
    }


def scores(matrix: np.ndarray, names: Sequence[str]) -> dict:
    """Accuracy scores of an error matrix ``[K, K]`` (rows = map, columns = reference) of counts or of
    estimated area proportions: ``oa``, ``kappa``, ``miou``, ``mean_f1`` and per class ``precision``
    (user's accuracy), ``recall`` (producer's accuracy), ``iou``, ``f1``; undefined values are ``None``.
    The keys are those of LandFuse's evaluation metrics, which explanations read."""
    m = np.asarray(matrix, dtype=np.float64)
    total = m.sum()
    if total <= 0:
        raise BadParamsError("no reference sample falls on a mapped pixel: nothing to assess")
    m = m / total
    diagonal = np.diag(m)
    mapped, reference = m.sum(axis=1), m.sum(axis=0)
    per_class, ious, f1s = [], [], []
    for k, name in enumerate(names):
        iou = _ratio(diagonal[k], mapped[k] + reference[k] - diagonal[k])
        f1 = _ratio(2 * diagonal[k], mapped[k] + reference[k])
        ious.append(iou)
        f1s.append(f1)
        per_class.append(
            {
                "id": k,
                "name": name,
                "precision": _or_none(_ratio(diagonal[k], mapped[k])),
                "recall": _or_none(_ratio(diagonal[k], reference[k])),
                "iou": _or_none(iou),
                "f1": _or_none(f1),
            }
        )
    observed = float(diagonal.sum())
    expected = float((mapped * reference).sum())
    kappa = _ratio(observed - expected, 1 - expected) if expected < 1 else (1.0 if observed == 1 else 0.0)
    return {
        "oa": observed,
        "kappa": _or_none(kappa),
        "miou": _or_none(_nanmean(ious)),
        "mean_f1": _or_none(_nanmean(f1s)),
        "per_class": per_class,
    }


def top_confusions(matrix: np.ndarray, names: Sequence[str], count: int = 5) -> list[dict]:
    """The largest off-diagonal cells of ``matrix`` (rows = map, columns = reference) as shares of the
    reference class: ``reference``, ``predicted``, ``share_of_reference``; largest first."""
    m = np.asarray(matrix, dtype=np.float64)
    reference = m.sum(axis=0)
    cells = [(m[i, j], j, i) for i in range(len(names)) for j in range(len(names)) if i != j and m[i, j] > 0]
    cells.sort(key=lambda cell: (-cell[0] / reference[cell[1]], cell[1], cell[2]))
    return [
        {"reference": names[j], "predicted": names[i], "share_of_reference": float(value / reference[j])}
        for value, j, i in cells[:count]
    ]


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else math.nan


def _nanmean(values: Sequence[float]) -> float:
    defined = [v for v in values if math.isfinite(v)]
    return sum(defined) / len(defined) if defined else math.nan
