"""A stratified random sample of a class map for accuracy assessment (strata = map classes).

- **Sample size** (Olofsson et al. 2014, equation 13): ``n = (sum_i W[i] S[i] / S(O))^2`` with ``W[i]``
  the mapped share of class ``i``, ``S[i] = sqrt(U[i] (1 - U[i]))`` from the user's accuracy expected for
  it and ``S(O)`` the standard error wanted for the overall accuracy.
- **Allocation**: proportional to the mapped shares, but at least ``minimum`` points per class (the
  paper's advice for rare classes): classes whose proportional share is below the minimum get the
  minimum and the rest is shared out proportionally among the others, repeatedly; shares are rounded
  by largest remainder, so the total is kept unless the minimums alone exceed it. No class gets more
  points than it has pixels.
- **Drawing**: pixels of each class with equal probability, without replacement, in two passes over the
  map (count per strip, then pick): memory holds one strip of rows and the chosen points. Points are
  placed at pixel centres.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.windows import Window

from ..errors import BadParamsError, CancelledError
from .classmap import ClassMap, open_class_map

STRIP_PIXELS = 2**22


def sample_size(weights: Sequence[float], expected_users_accuracy: Sequence[float], target_se: float) -> int:
    """Equation 13 of Olofsson et al. (2014): points for a standard error ``target_se`` of the overall accuracy."""
    weights = np.asarray(weights, dtype=np.float64)
    accuracy = np.asarray(expected_users_accuracy, dtype=np.float64)
    if not 0 < target_se < 1:
        raise BadParamsError(f"the target standard error must be between 0 and 1, got {target_se}")
    if np.any((accuracy <= 0) | (accuracy > 1)):
        raise BadParamsError(f"expected user's accuracies must be in (0, 1], got {accuracy.tolist()}")
    spread = float((weights * np.sqrt(accuracy * (1 - accuracy))).sum())
    return max(1, math.ceil((spread / target_se) ** 2 - 1e-9))


def largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Integers summing to ``total`` closest to ``shares`` (which sum to ``total``): floors, then +1 to the
    largest remainders (ties to the lower index)."""
    floors = np.floor(shares + 1e-9).astype(np.int64)
    left = int(total - floors.sum())
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[: max(left, 0)]:
        floors[i] += 1
    return floors


def allocate(weights: Sequence[float], total: int, minimum: int, available: Sequence[int] | None = None) -> np.ndarray:
    """Points per class: proportional to ``weights`` with at least ``minimum`` each (see the module docstring).

    ``available``: pixels per class (caps each class; classes without pixels get none).
    """
    weights = np.asarray(weights, dtype=np.float64)
    caps = np.asarray(available if available is not None else np.full(len(weights), np.iinfo(np.int64).max))
    mapped = (weights > 0) & (caps > 0)
    points = np.zeros(len(weights), np.int64)
    fixed = ~mapped
    points[mapped] = np.minimum(minimum, caps[mapped])
    while True:
        free = ~fixed
        remaining = total - int(points[fixed].sum())
        if not free.any():
            return points
        shares = np.zeros(len(weights))
        shares[free] = max(remaining, 0) * weights[free] / weights[free].sum()
        below = free & ((shares < minimum) | (shares > caps))
        if below.any():
            points[below] = np.where(shares[below] > caps[below], caps[below], np.minimum(minimum, caps[below]))
            fixed |= below
            continue
        points[free] = largest_remainder(shares[free], max(remaining, 0))
        return points


@dataclass(frozen=True)
class SamplePoint:
    """One sample point: map coordinates of a pixel centre and the map class (stratum) there."""

    x: float
    y: float
    stratum: int


def _strips(height: int, width: int) -> Iterator[Window]:
    rows = max(1, STRIP_PIXELS // max(width, 1))
    for row in range(0, height, rows):
        yield Window(0, row, width, min(rows, height - row))


def draw_points(
    class_map: ClassMap,
    allocation: Sequence[int],
    seed: int = 0,
    is_cancelled: Callable[[], bool] | None = None,
) -> list[SamplePoint]:
    """``allocation[k]`` distinct random pixels of class ``k`` (all of them when it has fewer), as points."""
    stop = is_cancelled or (lambda: False)
    k = len(allocation)
    with rasterio.open(class_map.path) as src:
        strips = list(_strips(src.height, src.width))
        per_strip = np.zeros((len(strips), k), np.int64)
        for index, strip in enumerate(strips):
            if stop():
                raise CancelledError("drawing the sample was cancelled")
            values = src.read(1, window=strip)
            per_strip[index] = np.bincount(values[values < k].ravel(), minlength=k)[:k]
        totals = per_strip.sum(axis=0)
        rng = np.random.default_rng(seed)
        ranks = [
            np.sort(rng.choice(int(totals[c]), min(int(allocation[c]), int(totals[c])), replace=False))
            for c in range(k)
        ]
        starts = np.vstack([np.zeros((1, k), np.int64), np.cumsum(per_strip, axis=0)])
        points: list[SamplePoint] = []
        for index, strip in enumerate(strips):
            wanted = [
                ranks[c][np.searchsorted(ranks[c], starts[index, c]) : np.searchsorted(ranks[c], starts[index + 1, c])]
                - starts[index, c]
                for c in range(k)
            ]
            if not any(len(w) for w in wanted):
                continue
            values = src.read(1, window=strip).ravel()
            for c, offsets in enumerate(wanted):
                if len(offsets):
                    flat = np.flatnonzero(values == c)[offsets]
                    rows, cols = np.divmod(flat, int(strip.width))
                    xs, ys = src.transform @ (cols + 0.5, rows + strip.row_off + 0.5)
                    points += [SamplePoint(float(x), float(y), c) for x, y in zip(xs, ys, strict=True)]
    return points


def plan_sample(
    class_map: ClassMap,
    target_se: float = 0.01,
    expected_users_accuracy: float | Sequence[float] = 0.8,
    minimum: int = 50,
    total: int | None = None,
) -> dict:
    """The sample design of a class map: mapped areas and weights, the sample size (equation 13, or
    ``total``) and the points per class. Returns a JSON-ready dict with one entry per class."""
    weights = class_map.hectares / class_map.hectares.sum()
    accuracy = np.broadcast_to(np.asarray(expected_users_accuracy, dtype=np.float64), weights.shape)
    planned = sample_size(weights, accuracy, target_se) if total is None else int(total)
    points = allocate(weights, planned, minimum, class_map.pixels)
    return {
        "design": "stratified random sample, strata = map classes (Olofsson et al. 2014)",
        "target_se": target_se,
        "sample_size_equation_13": sample_size(weights, accuracy, target_se),
        "planned_total": planned,
        "minimum_per_class": minimum,
        "total": int(points.sum()),
        "classes": [
            {
                "id": spec.id,
                "name": spec.name,
                "color": spec.color,
                "mapped_pixels": int(class_map.pixels[spec.id]),
                "mapped_hectares": float(class_map.hectares[spec.id]),
                "weight": float(weights[spec.id]),
                "expected_users_accuracy": float(accuracy[spec.id]),
                "points": int(points[spec.id]),
            }
            for spec in class_map.classes
        ],
    }


def open_and_plan(path: str, **design) -> tuple[ClassMap, dict]:
    """The class map at ``path`` with its per-class areas, and ``plan_sample(class_map, **design)``."""
    class_map = open_class_map(path, with_areas=True)
    return class_map, plan_sample(class_map, **design)
