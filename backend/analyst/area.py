"""The processing area of a job: the whole raster, an extent, or polygons used as a mask.

An extent is widened to whole pixels of the raster's grid, so the area's pixels are the raster's own
(no resampling). A polygon mask keeps the pixels whose centre lies in a polygon.

For classification the engine is given a *masked copy* of the raster that sets its grid (the optical
raster for the fusion models): the part of it under the area, with every pixel outside the polygons
set to nodata. The engine then treats those pixels like any nodata pixel: the nodata class in the map,
left out of the report's areas, and windows lying wholly outside are never run through the model. The
copy is written strip by strip, so memory does not grow with the raster.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from ..engine.grid import Grid, dataset_grid, gcp_georeferencing
from ..engine.inputs import open_raster
from ..errors import BadParamsError, CancelledError, NoOverlapError
from .references import Reference, burn

STRIP_ROWS = 256
EDGE = 1e-6  # pixels: an extent edge this close to a pixel edge is on it (text extents round coordinates)
Extent = tuple[float, float, float, float]


def area_window(grid: Grid, extent: Extent | None = None, mask: Sequence[Reference] = ()) -> Window:
    """The pixels of ``grid`` under the processing area: ``extent`` (xmin, ymin, xmax, ymax in the grid's
    CRS, widened to whole pixels) intersected with the bounding box of the ``mask`` polygons; the whole
    grid when neither is given. Raises ``NoOverlapError`` when the area misses the raster."""
    row0, col0, row1, col1 = 0, 0, grid.height, grid.width
    boxes = [extent] if extent is not None else []
    if mask:
        boxes.append(
            (
                min(r.bounds[0] for r in mask),
                min(r.bounds[1] for r in mask),
                max(r.bounds[2] for r in mask),
                max(r.bounds[3] for r in mask),
            )
        )
    for xmin, ymin, xmax, ymax in boxes:
        if not (xmax > xmin and ymax > ymin):
            raise BadParamsError(f"the processing extent must have xmin < xmax and ymin < ymax, got {boxes[0]}")
        col_a, row_a = ~grid.transform @ (xmin, ymax)
        col_b, row_b = ~grid.transform @ (xmax, ymin)
        (col_lo, col_hi), (row_lo, row_hi) = sorted((col_a, col_b)), sorted((row_a, row_b))
        row0, row1 = max(row0, math.floor(row_lo + EDGE)), min(row1, math.ceil(row_hi - EDGE))
        col0, col1 = max(col0, math.floor(col_lo + EDGE)), min(col1, math.ceil(col_hi - EDGE))
    if row1 <= row0 or col1 <= col0:
        raise NoOverlapError(
            f"the processing area does not overlap the raster (it covers {_bounds_text(grid)} in "
            f"{grid.crs.to_string()}); draw the extent or the mask polygons over the raster"
        )
    return Window(col0, row0, col1 - col0, row1 - row0)


def _bounds_text(grid: Grid) -> str:
    return "(" + ", ".join(f"{value:.6g}" for value in grid.bounds) + ")"


def inside_mask(mask: Sequence[Reference], shape: tuple[int, int], transform) -> np.ndarray:
    """``bool [h, w]``: pixels whose centre lies in one of the ``mask`` polygons (all True without a mask)."""
    if not mask:
        return np.ones(shape, bool)
    return burn(((reference.geometry, 1) for reference in mask), shape, transform, fill=0) == 1


def check_mask(mask: Sequence[Reference]) -> None:
    """Refuse a mask that is not polygons."""
    if any(reference.is_point for reference in mask):
        raise BadParamsError("the processing-area mask must be polygons; the layer given holds points")


def write_masked_copy(
    raster: str | Path,
    output: str | Path,
    extent: Extent | None = None,
    mask: Sequence[Reference] = (),
    progress: Callable[[float, str], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> dict:
    """Write the part of ``raster`` under the processing area to ``output`` (GeoTIFF), nodata outside the mask.

    Every band is copied with its description (band names still match). The copy keeps the raster's type
    and nodata value when it has one; otherwise it is float32 with NaN as nodata. Returns ``{"window":
    [col, row, width, height], "bounds": [...], "pixels_inside": n}``.
    """
    check_mask(mask)
    with open_raster(raster, "input") as src:
        if gcp_georeferencing(src) is not None:
            raise BadParamsError(
                "a raster placed by ground control points only cannot be cut to a processing area; warp it to a "
                "map grid first (gdalwarp -tps -t_srs ...)"
            )
        grid = dataset_grid(src, "input")
        window = area_window(grid, extent, mask)
        dtype, nodata = _copy_type(src)
        transform = window_transform(window, src.transform)
        profile = {
            "driver": "GTiff",
            "width": int(window.width),
            "height": int(window.height),
            "count": src.count,
            "dtype": dtype,
            "nodata": nodata,
            "crs": src.crs,
            "transform": transform,
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
            "compress": "deflate",
            "BIGTIFF": "IF_SAFER",
        }
        inside_total = 0
        with rasterio.open(output, "w", **profile) as dst:
            dst.descriptions = src.descriptions
            for row in range(0, int(window.height), STRIP_ROWS):
                if is_cancelled is not None and is_cancelled():
                    raise CancelledError("cutting the processing area was cancelled")
                rows = min(STRIP_ROWS, int(window.height) - row)
                strip = Window(window.col_off, window.row_off + row, window.width, rows)
                values = src.read(window=strip, out_dtype=dtype)
                inside = inside_mask(mask, (rows, int(window.width)), window_transform(strip, src.transform))
                values[:, ~inside] = nodata
                inside_total += int(inside.sum())
                dst.write(values, window=Window(0, row, window.width, rows))
                if progress is not None:
                    progress((row + rows) / window.height, "cutting the processing area")
    if inside_total == 0:
        raise NoOverlapError("no pixel centre of the raster lies inside the mask polygons; check the mask layer")
    west, north = transform @ (0, 0)
    east, south = transform @ (window.width, window.height)
    return {
        "window": [int(window.col_off), int(window.row_off), int(window.width), int(window.height)],
        "bounds": [west, south, east, north],
        "pixels_inside": inside_total,
    }


def _copy_type(src) -> tuple[str, float]:
    """(dtype, nodata) of the masked copy: the raster's own when it has one nodata value, else float32 + NaN."""
    values = set(src.nodatavals)
    if len(values) == 1 and None not in values:
        return src.dtypes[0], next(iter(values))
    if np.dtype(src.dtypes[0]).kind == "f" and len(set(src.dtypes)) == 1:
        return src.dtypes[0], float("nan")
    return "float32", float("nan")
