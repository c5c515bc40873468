"""Class map -> polygons: a minimum mapping unit (sieve in hectares), then polygonize into a GeoPackage.

Bounded memory: the map is processed in square blocks (``block`` pixels a side). Each block is read
with a margin of ``S`` pixels on every side, ``S`` being the minimum mapping unit in pixels, sieved
there (GDAL's sieve filter through ``rasterio.features.sieve``: a region of fewer than ``S`` pixels,
4-connected by default, joins its largest neighbouring region; nodata is never a neighbour), and only
the block itself is kept. A region of fewer than ``S`` pixels spans fewer than ``S`` rows and columns,
so every small region touching the block lies whole inside the margin, and a region reaching the
margin's edge has at least ``S`` pixels inside it: which regions are removed is decided exactly as on
the whole map. Which neighbour a removed region joins can differ from a whole-map sieve only when its
largest neighbours extend beyond the margin, where their sizes are cut. The kept block is then
polygonized (``rasterio.features.shapes``) and written; memory holds one block with its margin and
its polygons, whatever the map's size.

Polygons are cut along block edges (every ``block`` pixels; a map smaller than one block is never
cut); QGIS's *Dissolve* on ``class_id`` joins them when whole regions are needed. Areas are true
areas: from the grid's pixel area, or on geographic grids from each row's area on the WGS84
ellipsoid (a polygon's edges follow pixel edges, so its area is exact row by row).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import rasterio
from rasterio import features
from rasterio.windows import Window

from ..errors import BadParamsError, CancelledError
from .classmap import open_class_map
from .gpkg import GeoPackageWriter, categorized_qml

BLOCK = 2048
SIEVE_TYPES = ("uint8", "uint16", "int16", "int32")
FIELDS = (("class_id", "INTEGER"), ("class_name", "TEXT"), ("area_ha", "REAL"))


def mmu_pixels(mmu_hectares: float, mean_pixel_area_m2: float) -> int:
    """Pixels of the smallest region kept: ``ceil(mmu / pixel area)``; 0 (no sieve) for an MMU of 0."""
    if mmu_hectares < 0:
        raise BadParamsError(f"the minimum mapping unit must be 0 or more hectares, got {mmu_hectares}")
    if mmu_hectares == 0:
        return 0
    return max(1, math.ceil(mmu_hectares * 1e4 / mean_pixel_area_m2 - 1e-9))


def ring_area(ring: np.ndarray, cumulative_row_area: np.ndarray) -> float:
    """Signed area (m2) of a ring in pixel coordinates (vertices on pixel corners) as the sum over its
    horizontal edges of ``dx * C[y]``, with ``C[y]`` the area of one pixel column from the top to row edge ``y``."""
    x, y = ring[:, 0], np.rint(ring[:, 1]).astype(np.int64)
    dx = np.diff(x)
    return float((dx * cumulative_row_area[y[:-1]]).sum())


def polygon_area(rings: list[np.ndarray], cumulative_row_area: np.ndarray) -> float:
    """Area (m2) of a polygon given as pixel-coordinate rings: the outer ring less its holes."""
    outer, *holes = (abs(ring_area(ring, cumulative_row_area)) for ring in rings)
    return outer - sum(holes)


def vectorise(
    class_map_path: str,
    output: str,
    *,
    mmu_hectares: float = 0.0,
    layer: str = "land_cover",
    block: int = BLOCK,
    connectivity: int = 4,
    progress: Callable[[float, str], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> dict:
    """Sieve ``class_map_path`` to ``mmu_hectares`` and write its polygons to the GeoPackage ``output``.

    Fields: ``class_id``, ``class_name``, ``area_ha``; the layer's default style colours each class as
    the map does. Returns ``{"features", "mmu_pixels", "blocks", "classes": [{id, name, polygons, hectares}]}``.
    """
    if connectivity not in (4, 8):
        raise BadParamsError(f"connectivity must be 4 or 8, got {connectivity}")
    if block < 64:
        raise BadParamsError(f"the block size must be at least 64 pixels, got {block}")
    class_map = open_class_map(class_map_path)
    grid = class_map.grid
    names = class_map.names
    threshold = mmu_pixels(mmu_hectares, grid.mean_pixel_area())
    margin = threshold if threshold > 1 else 0
    polygons = np.zeros(len(names), np.int64)
    hectares = np.zeros(len(names))
    blocks = [(row, col) for row in range(0, grid.height, block) for col in range(0, grid.width, block)]
    with rasterio.open(class_map_path) as src, GeoPackageWriter(output, layer, grid.crs, "POLYGON", FIELDS) as out:
        out.set_style(categorized_qml("class_id", class_map.classes, "POLYGON"), "classes")
        for done, (row, col) in enumerate(blocks, start=1):
            if is_cancelled is not None and is_cancelled():
                raise CancelledError("vectorising was cancelled; no file was written")
            kept = _sieved_block(src, row, col, block, margin, threshold, class_map.nodata, len(names), connectivity)
            cumulative = np.concatenate([[0.0], np.cumsum(grid.row_pixel_areas(row, row + kept.shape[0]))])
            block_transform = grid.transform @ rasterio.Affine.translation(col, row)
            valid = (kept != class_map.nodata) & (kept >= 0) & (kept < len(names))
            for geometry, value in features.shapes(kept, mask=valid, connectivity=connectivity):
                rings = [np.asarray(ring, dtype=np.float64) for ring in geometry["coordinates"]]
                area = polygon_area(rings, cumulative) / 1e4
                class_id = int(value)
                out.add([_to_map(ring, block_transform) for ring in rings], (class_id, names[class_id], area))
                polygons[class_id] += 1
                hectares[class_id] += area
            if progress is not None:
                progress(done / len(blocks), f"vectorised block {done} of {len(blocks)}")
        count = out.count
    return {
        "output": str(output),
        "features": count,
        "mmu_hectares": mmu_hectares,
        "mmu_pixels": threshold,
        "blocks": len(blocks),
        "classes": [
            {"id": spec.id, "name": spec.name, "polygons": int(polygons[spec.id]), "hectares": float(hectares[spec.id])}
            for spec in class_map.classes
        ],
    }


def _sieved_block(src, row, col, block, margin, threshold, nodata, classes, connectivity) -> np.ndarray:
    """The block at (row, col), sieved with ``margin`` pixels of context around it (module docstring)."""
    top, left = max(row - margin, 0), max(col - margin, 0)
    bottom, right = min(row + block + margin, src.height), min(col + block + margin, src.width)
    data = src.read(1, window=Window(left, top, right - left, bottom - top))
    if data.dtype.name not in SIEVE_TYPES:
        data = data.astype(np.int32)
    if threshold > 1:
        valid = (data != nodata) & (data >= 0) & (data < classes)
        data = features.sieve(data, threshold, mask=valid, connectivity=connectivity)
    height, width = min(block, src.height - row), min(block, src.width - col)
    return np.ascontiguousarray(data[row - top : row - top + height, col - left : col - left + width])


def _to_map(ring: np.ndarray, transform) -> list[list[float]]:
    """Pixel-coordinate ring -> map coordinates through the block's affine transform."""
    xs = transform.a * ring[:, 0] + transform.b * ring[:, 1] + transform.c
    ys = transform.d * ring[:, 0] + transform.e * ring[:, 1] + transform.f
    return np.column_stack([xs, ys]).tolist()
