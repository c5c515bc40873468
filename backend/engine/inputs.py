"""Reading an input raster on the reference grid, window by window.

A raster already on the grid is read directly. Any other raster is warped on the fly by a
``WarpedVRT`` (bilinear) with a near-exact coordinate transformer (``tolerance=1e-9`` pixels):
GDAL's default approximate transformer works per request, so windowed reads would differ from a
whole-raster warp by up to a pixel's worth of interpolation and leave seams at tile edges. With
the exact transformer a window equals the same part of a full warp (tested).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from ...common.card import BandSpec
from ..errors import BandError, UnreadableInputError
from .grid import Grid, check_overlap, dataset_grid

EXACT_TRANSFORMER_TOLERANCE = 1e-9


def open_raster(path: str | Path, name: str):
    """Open ``path`` with rasterio, raising ``UnreadableInputError`` with an actionable message."""
    path = Path(path)
    if not path.exists():
        raise UnreadableInputError(f"the {name} raster {path.name!r} does not exist; check the path")
    try:
        return rasterio.open(path)
    except RasterioError as exc:
        raise UnreadableInputError(
            f"the {name} raster {path.name!r} could not be read as a raster ({exc}); "
            "give a GeoTIFF, VRT or another GDAL-readable file"
        ) from exc


def _canonical(name: str) -> str:
    """'B02' -> 'B2', 'vv' -> 'VV': band names compared loosely."""
    return re.sub(r"^([A-Za-z]+)0+(\d)", r"\1\2", name.strip()).upper()


def resolve_bands(dataset, requested: list[int] | None, specs: tuple[BandSpec, ...], name: str) -> list[int]:
    """1-based band indexes of ``dataset`` feeding the model's ``specs`` bands, in card order.

    Without ``requested``: all bands when the count matches, else bands whose descriptions match the
    card's band names. Raises ``BandError`` when neither works or a requested band is missing.
    """
    wanted = [b.name for b in specs]
    if requested is not None:
        requested = [int(i) for i in requested]
        if len(requested) != len(specs):
            raise BandError(
                f"the model needs {len(specs)} {name} bands ({', '.join(wanted)}), but {len(requested)} band "
                f"indexes were given ({requested}); give one 1-based index per model band"
            )
        missing = [i for i in requested if not 1 <= i <= dataset.count]
        if missing:
            raise BandError(
                f"the {name} raster has bands 1..{dataset.count}; band(s) {missing} do not exist. "
                "Band indexes are 1-based like in QGIS"
            )
        return requested
    if dataset.count == len(specs):
        return list(range(1, dataset.count + 1))
    described = {_canonical(d): i for i, d in enumerate(dataset.descriptions, start=1) if d}
    if all(_canonical(n) in described for n in wanted):
        return [described[_canonical(n)] for n in wanted]
    raise BandError(
        f"the model needs {len(specs)} {name} bands ({', '.join(wanted)}); the {name} raster has "
        f"{dataset.count} band(s) whose names do not match. Choose the bands explicitly "
        "(1-based indexes, in this order)"
    )


def _valid(values: np.ndarray, nodata: list[float | None]) -> np.ndarray:
    """Pixels (along axis 1..) where every band is finite and differs from its nodata value."""
    valid = np.isfinite(values).all(axis=0)
    for band, value in enumerate(nodata):
        if value is not None and not np.isnan(value):
            valid &= values[band] != np.float32(value)
    return valid


class RasterInput:
    """One input raster read on ``grid``: ``read(window)`` gives float32 values and a validity mask."""

    def __init__(self, path: str | Path, bands: list[int] | None, specs: tuple[BandSpec, ...], grid: Grid, name: str):
        self.name = name
        self.dataset = open_raster(path, name)
        try:
            self.bands = resolve_bands(self.dataset, bands, specs, name)
            source_grid = dataset_grid(self.dataset, name)
            check_overlap(grid, source_grid, name)
            self.nodata = [self.dataset.nodatavals[i - 1] for i in self.bands]
            self.warped = source_grid != grid
            self.vrt = None
            if self.warped:
                self.vrt = WarpedVRT(
                    self.dataset,
                    crs=grid.crs,
                    transform=grid.transform,
                    width=grid.width,
                    height=grid.height,
                    resampling=Resampling.bilinear,
                    tolerance=EXACT_TRANSFORMER_TOLERANCE,
                    dtype="float32",
                    nodata=np.nan,
                )
        except Exception:
            self.dataset.close()
            raise

    def read(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Values float32 [bands, h, w] (physical units as stored) and validity bool [h, w]."""
        try:
            if self.vrt is not None:
                values = self.vrt.read(self.bands, window=window)
                return values, np.isfinite(values).all(axis=0)
            values = self.dataset.read(self.bands, window=window, out_dtype="float32")
        except RasterioError as exc:
            message = f"reading the {self.name} raster failed ({exc}); the file may be corrupt"
            raise UnreadableInputError(message) from exc
        return values, _valid(values, self.nodata)

    def sample(self, size: int = 64, spread: int = 3) -> np.ndarray:
        """Valid values, float32 [n, bands], from a few small windows spread over the raster."""
        ds = self.dataset
        h, w = min(size, ds.height), min(size, ds.width)
        chunks = []
        for fy in np.linspace(0, ds.height - h, spread).astype(int):
            for fx in np.linspace(0, ds.width - w, spread).astype(int):
                values = ds.read(self.bands, window=Window(fx, fy, w, h), out_dtype="float32")
                values = values.reshape(len(self.bands), -1)
                chunks.append(values[:, _valid(values, self.nodata)].T)
        return np.concatenate(chunks)

    def close(self) -> None:
        if self.vrt is not None:
            self.vrt.close()
        self.dataset.close()
