"""A class map as the analyst tools see it: its classes (names, colours), grid, nodata and mapped areas."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import rasterio
from rasterio.windows import Window

from ...common.card import ClassSpec
from ..engine.grid import Grid, dataset_grid
from ..engine.inputs import open_raster
from ..engine.style import class_names_from_tags
from ..errors import BadParamsError

NODATA = 255
ROWS_PIXELS = 2**22  # pixels per strip when a whole map is read


@dataclass
class ClassMap:
    """A class-id raster (uint8, ids 0..K-1). ``pixels`` and ``hectares`` are per class (true areas for
    geographic grids, from each row's pixel area), filled by ``open_class_map(..., with_areas=True)``."""

    path: str
    classes: list[ClassSpec]
    nodata: int
    grid: Grid
    pixels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    hectares: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.classes]


def strips(height: int, width: int) -> Iterator[Window]:
    """Full-width windows of about ``ROWS_PIXELS`` pixels, top to bottom."""
    rows = max(1, ROWS_PIXELS // max(width, 1))
    for row in range(0, height, rows):
        yield Window(0, row, width, min(rows, height - row))


def open_class_map(path: str, with_areas: bool = False) -> ClassMap:
    """The class map at ``path``: classes from its ``CLASS_NAMES_JSON`` / ``CLASS_NAMES`` tags and colour table
    (LandFuse class maps), else ``class_0 ..`` up to the largest id found; nodata from the file (else 255).

    Raises ``BadParamsError`` for a raster that is not one band of integer class ids.
    """
    with open_raster(path, "class map") as src:
        if src.count != 1 or np.dtype(src.dtypes[0]).kind not in "ui":
            raise BadParamsError(
                f"the class map {path!r} must be one band of integer class ids (LandFuse writes Byte class maps); "
                f"it has {src.count} band(s) of {src.dtypes[0]}"
            )
        grid = dataset_grid(src, "class map")
        nodata = int(src.nodata) if src.nodata is not None else NODATA
        names = class_names_from_tags(src.tags(1))
        try:
            colours = src.colormap(1)
        except ValueError:
            colours = {}
        class_map = ClassMap(str(path), [], nodata, grid)
        if with_areas or names is None:
            counts, areas = _class_areas(src, grid, nodata)
            largest = int(np.flatnonzero(counts).max(initial=-1))
            names = names or [f"class_{i}" for i in range(largest + 1)]
            if largest >= len(names):
                raise BadParamsError(
                    f"the class map holds class id {largest} but names only {len(names)} classes; give a LandFuse "
                    "class map or one whose ids match its class names"
                )
            class_map.pixels, class_map.hectares = counts[: len(names)], areas[: len(names)] / 1e4
    class_map.classes = [
        ClassSpec(i, name, "#{:02x}{:02x}{:02x}".format(*colours.get(i, (128, 128, 128, 255))[:3]))
        for i, name in enumerate(names)
    ]
    return class_map


def _class_areas(src, grid: Grid, nodata: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels and square metres per value 0..254 (nodata left out), read strip by strip."""
    counts = np.zeros(NODATA, np.int64)
    areas = np.zeros(NODATA, np.float64)
    for window in strips(src.height, src.width):
        values = src.read(1, window=window).astype(np.int64)
        row_areas = grid.row_pixel_areas(window.row_off, window.row_off + window.height)
        keep = (values != nodata) & (values >= 0) & (values < NODATA)
        rows = np.broadcast_to(np.arange(window.height)[:, None], values.shape)[keep]
        ids = values[keep]
        counts += np.bincount(ids, minlength=NODATA)
        areas += np.bincount(ids, weights=row_areas[rows], minlength=NODATA)
    return counts, areas


def read_window(class_map: ClassMap, window: Window) -> np.ndarray:
    """Class ids of ``window`` (``int64``), nodata and values outside 0..K-1 as -1."""
    with rasterio.open(class_map.path) as src:
        values = src.read(1, window=window, boundless=True, fill_value=class_map.nodata).astype(np.int64)
    values[(values == class_map.nodata) | (values < 0) | (values >= len(class_map.classes))] = -1
    return values
