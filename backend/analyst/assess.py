"""Accuracy assessment of a class map against reference points or polygons, with area estimates.

- **Reference classes** are matched to the map's classes by name (``Water`` = ``water``, spaces and
  dashes as underscores) or, for whole numbers, by class id.
- **Points** are sample units: each counts the map class of the pixel it falls in (points on nodata or
  off the map are counted apart and left out). For a stratified random sample of the map classes (the
  default, e.g. from ``sampling``) the error matrix is turned into area proportions and the estimates of
  Olofsson et al. (2014) (``estimators.area_estimates``): overall, user's and producer's accuracy with
  standard errors, and each class's area with its 95 % confidence interval. The headline scores
  (``oa``, ``kappa``, ``miou``, per-class ``iou``, ``f1``, ``precision`` = user's, ``recall`` =
  producer's accuracy, ``top_confusions``) are then computed from the area proportions.
- **Polygons** count every pixel whose centre they cover; pixels of one polygon are not independent, so
  no area estimates are made and the scores are those of the pixel counts.

The result has the keys of LandFuse's evaluation metrics (``oa``, ``kappa``, ``miou``, ``mean_f1``,
``per_class`` with ``id``, ``name``, ``iou``, ``f1``, ``hectares_interval``; ``top_confusions``), so
``explain`` takes it as its metrics file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import rasterio
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from ..errors import BadParamsError, CancelledError
from .classmap import ClassMap, open_class_map, read_window
from .estimators import Z95, area_estimates, scores, top_confusions
from .references import Reference, burn, read_references

CHUNK = 1024  # pixels per side of the windows a reference polygon is read in


def class_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def reference_ids(references: Sequence[Reference], class_map: ClassMap) -> np.ndarray:
    """The map class id of every reference's value (by name, or by id for whole numbers)."""
    by_name = {class_key(spec.name): spec.id for spec in class_map.classes}
    ids, unknown = [], set()
    for reference in references:
        key = class_key(reference.value)
        if key in by_name:
            ids.append(by_name[key])
        elif key.isdigit() and int(key) < len(class_map.classes):
            ids.append(int(key))
        else:
            unknown.add(reference.value)
    if unknown:
        listing = ", ".join(f"{spec.id} {spec.name}" for spec in class_map.classes)
        raise BadParamsError(
            f"reference class value(s) {sorted(unknown)[:10]} are not classes of the map; give the map's class names "
            f"or ids ({listing})"
        )
    return np.array(ids, dtype=np.int64)


def count_points(class_map: ClassMap, references: Sequence[Reference], ids: np.ndarray) -> tuple[np.ndarray, dict]:
    """Error matrix ``[K, K]`` (rows = map, columns = reference) of the points, and how many were left out."""
    k = len(class_map.classes)
    counts = np.zeros((k, k), np.int64)
    positions, reference_classes = [], []
    for reference, class_id in zip(references, ids, strict=True):
        points = reference.geometry["coordinates"]
        for x, y in [points] if reference.geometry["type"] == "Point" else points:
            positions.append((x, y))
            reference_classes.append(class_id)
    grid = class_map.grid
    outside = nodata = 0
    inside_positions, inside_classes = [], []
    for (x, y), class_id in zip(positions, reference_classes, strict=True):
        col, row = ~grid.transform @ (x, y)
        if 0 <= row < grid.height and 0 <= col < grid.width:
            inside_positions.append((x, y))
            inside_classes.append(class_id)
        else:
            outside += 1
    with rasterio.open(class_map.path) as src:
        for value, class_id in zip(src.sample(inside_positions, indexes=1), inside_classes, strict=True):
            mapped = int(value[0])
            if mapped == class_map.nodata or not 0 <= mapped < k:
                nodata += 1
            else:
                counts[mapped, class_id] += 1
    return counts, {"points": len(positions), "off_map": outside, "on_nodata": nodata}


def count_polygon_pixels(
    class_map: ClassMap,
    references: Sequence[Reference],
    ids: np.ndarray,
    is_cancelled: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, dict]:
    """Error matrix ``[K, K]`` (rows = map, columns = reference) of the pixels under the polygons."""
    k = len(class_map.classes)
    counts = np.zeros((k, k), np.int64)
    grid = class_map.grid
    nodata = 0
    for reference, class_id in zip(references, ids, strict=True):
        if is_cancelled is not None and is_cancelled():
            raise CancelledError("the assessment was cancelled")
        xmin, ymin, xmax, ymax = reference.bounds
        col0, row0 = ~grid.transform @ (xmin, ymax)
        col1, row1 = ~grid.transform @ (xmax, ymin)
        row0, col0 = max(int(np.floor(row0)), 0), max(int(np.floor(col0)), 0)
        row1, col1 = min(int(np.ceil(row1)), grid.height), min(int(np.ceil(col1)), grid.width)
        for top in range(row0, row1, CHUNK):
            for left in range(col0, col1, CHUNK):
                window = Window(left, top, min(CHUNK, col1 - left), min(CHUNK, row1 - top))
                shape = (int(window.height), int(window.width))
                covered = burn([(reference.geometry, 1)], shape, window_transform(window, grid.transform), 0) == 1
                mapped = read_window(class_map, window)[covered]
                nodata += int((mapped < 0).sum())
                counts[:, class_id] += np.bincount(mapped[mapped >= 0], minlength=k)[:k]
    return counts, {"polygons": len(references), "on_nodata": nodata}


def assess(
    class_map_path: str,
    references_path: str,
    *,
    stratified: bool = True,
    is_cancelled: Callable[[], bool] | None = None,
) -> dict:
    """Assess the class map against the reference features (GeoJSON, ``class`` property, in the map's CRS).

    ``stratified``: the points are a stratified random sample with the map classes as strata, so the
    area-adjusted estimates apply. Returns the assessment dict (module docstring; JSON-ready).
    """
    class_map = open_class_map(class_map_path, with_areas=True)
    references = read_references(references_path)
    ids = reference_ids(references, class_map)
    points = references[0].is_point
    if points:
        counts, left_out = count_points(class_map, references, ids)
    else:
        counts, left_out = count_polygon_pixels(class_map, references, ids, is_cancelled)
    if counts.sum() == 0:
        raise BadParamsError(
            "no reference feature falls on a mapped pixel; check that the references cover the map (same CRS)"
        )
    names = class_map.names
    result = {
        "landfuse_assessment": 1,
        "class_map": str(class_map_path),
        "units": "points" if points else "pixels",
        "sample": {**left_out, "used": int(counts.sum())},
        "total_hectares": float(class_map.hectares.sum()),
        "error_matrix": counts.tolist(),
        "confusion_matrix": counts.T.tolist(),
        "pixels": int(counts.sum()),
        "notes": [],
    }
    estimates = None
    if points and stratified:
        try:
            estimates = area_estimates(counts, class_map.hectares)
        except BadParamsError as exc:  # a map class without sample points: report the counts and say why
            result["notes"].append(f"no area estimates: {exc}")
    if estimates is not None:
        result["design"] = "stratified random sample, strata = map classes: area-adjusted estimates"
        matrix = np.array(estimates["proportions"])
    else:
        result["design"] = (
            "points, not taken as a stratified random sample: sample counts, no area estimates"
            if points
            else "pixels under reference polygons (not independent): pixel counts, no area estimates"
        )
        matrix = counts
    result.update(scores(matrix, names))
    result["top_confusions"] = top_confusions(matrix, names)
    result["sample_oa"] = float(np.trace(counts) / counts.sum())
    if estimates is not None:
        result["oa_se"] = estimates["overall_accuracy_se"]
        result["oa_interval"] = _interval(result["oa"], estimates["overall_accuracy_se"])
        result["area_proportions"] = estimates["proportions"]
    _add_class_entries(result, class_map, counts, estimates)
    return result


def _interval(value: float | None, se: float | None) -> list[float] | None:
    if value is None or se is None:
        return None
    return [max(0.0, value - Z95 * se), min(1.0, value + Z95 * se)]


def _add_class_entries(result: dict, class_map: ClassMap, counts: np.ndarray, estimates: dict | None) -> None:
    for entry, spec in zip(result["per_class"], class_map.classes, strict=True):
        k = spec.id
        entry.update(
            color=spec.color,
            support=int(counts[:, k].sum()),
            mapped_units=int(counts[k].sum()),
            mapped_hectares=float(class_map.hectares[k]),
            users_accuracy=entry["precision"],
            producers_accuracy=entry["recall"],
        )
        if estimates is None:
            continue
        se_users, se_producers = estimates["users_accuracy_se"][k], estimates["producers_accuracy_se"][k]
        entry.update(
            users_accuracy_se=se_users,
            users_accuracy_interval=_interval(entry["users_accuracy"], se_users),
            producers_accuracy_se=se_producers,
            producers_accuracy_interval=_interval(entry["producers_accuracy"], se_producers),
            hectares_estimate=estimates["area"][k],
            hectares_se=estimates["area_se"][k],
            hectares_interval=estimates["area_interval"][k],
        )
        if se_users is None:
            result["notes"].append(f"map class {spec.name} has fewer than 2 sample points: no standard errors for it")
