"""Low confidence by part of the map: where an analyst should go and check.

The map is cut into ``rows x cols`` parts of (nearly) equal size, named by compass direction on the
north-up output grid: ``north-west``, ``north``, ``north-east``, ``west``, ``centre``, ... (3 x 3) or the
four quadrants (2 x 2). For each part the report's ``regions`` entry holds pixel counts only::

    "regions": {"rows": 3, "cols": 3, "threshold": 0.5, "parts": [
        {"name": "north-west", "row": 0, "col": 0, "valid_pixels": 29127, "low_confidence_pixels": 3120,
         "class_pixels": [...one count per card class...], "class_low_confidence_pixels": [...]}, ...]}

``RegionStats`` accumulates these counts piece by piece, as the engine's class statistics do, so the
engine can add them to its report; ``regions_from_rasters`` computes them afterwards from a written
class map and confidence map, and ``with_regions`` adds them to a report that lacks them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..engine.regions import RegionStats, part_name
from ..errors import BadParamsError
from .facts import RegionSummary

__all__ = ["RegionStats", "part_name", "regions_from_rasters", "with_regions", "region_summaries"]

MIN_PART_SHARE = 0.02  # parts with fewer valid pixels than this share of the map's are not discussed
CONFIDENCE_NODATA = 255
READ_ROWS = 512


def regions_from_rasters(
    class_map: str | Path, confidence: str | Path, threshold: float, num_classes: int, rows: int = 3, cols: int = 3
) -> dict:
    """The ``regions`` entry computed from a written class map and confidence map (0-100 %, uint8).

    Pixels that are nodata in either raster are skipped. The confidence map is rounded to whole
    percent, so a pixel exactly at the threshold may count differently from the engine's own count.
    """
    import rasterio

    with rasterio.open(class_map) as classes, rasterio.open(confidence) as conf:
        if (classes.height, classes.width) != (conf.height, conf.width):
            raise BadParamsError(
                f"class map ({classes.width} x {classes.height}) and confidence map ({conf.width} x {conf.height}) "
                "differ in size: expected the two rasters written by one classify run"
            )
        stats = RegionStats(classes.height, classes.width, num_classes, threshold, rows, cols)
        for y0 in range(0, classes.height, READ_ROWS):
            window = ((y0, min(y0 + READ_ROWS, classes.height)), (0, classes.width))
            labels = classes.read(1, window=window)
            percent = conf.read(1, window=window)
            valid = (labels < num_classes) & (percent != CONFIDENCE_NODATA)
            stats.add(y0, 0, labels, percent.astype(np.float32) / 100.0, valid)
    return stats.to_report()


def with_regions(report: dict) -> dict:
    """``report`` with a ``regions`` entry computed from its class map and confidence map on disk.

    Returns ``report`` unchanged when it already has regions or when either output file is missing.
    """
    outputs = report.get("outputs") or {}
    paths = [outputs.get("class_map"), outputs.get("confidence")]
    if report.get("regions") or not all(isinstance(p, str) and Path(p).is_file() for p in paths):
        return report
    classes = (report.get("model") or {}).get("classes") or []
    threshold = report.get("low_confidence_threshold")
    if not classes or not isinstance(threshold, int | float):
        return report
    return {**report, "regions": regions_from_rasters(paths[0], paths[1], float(threshold), len(classes))}


def region_summaries(regions: dict, names: dict[int, str], present: set[str]) -> list[RegionSummary]:
    """The parts of a report's ``regions`` entry worth discussing: those holding at least
    ``MIN_PART_SHARE`` of the valid pixels, with their low-confidence share (percent) and, per present
    class, their low-confidence pixel counts. A malformed entry gives no parts."""
    parts = regions.get("parts")
    if not isinstance(parts, list):
        return []
    try:
        total = sum(int(p["valid_pixels"]) for p in parts)
        summaries = []
        for part in parts:
            valid = int(part["valid_pixels"])
            if total <= 0 or valid < MIN_PART_SHARE * total:
                continue
            name = part_name(int(part["row"]), int(part["col"]), int(regions["rows"]), int(regions["cols"]))
            low = part.get("class_low_confidence_pixels") or []
            class_low = {names[i]: int(n) for i, n in enumerate(low) if i in names and names[i] in present}
            summaries.append(RegionSummary(name, 100.0 * int(part["low_confidence_pixels"]) / valid, class_low))
        return summaries
    except (KeyError, TypeError, ValueError, BadParamsError):
        return []
