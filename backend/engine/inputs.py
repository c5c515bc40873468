"""Reading an input raster on the reference grid, window by window.

A raster already on the grid is read directly. Any other raster is warped on the fly by a
``WarpedVRT`` (bilinear) with a near-exact coordinate transformer (``tolerance=1e-9`` pixels):
GDAL's default approximate transformer works per request, so windowed reads would differ from a
whole-raster warp by up to a pixel's worth of interpolation and leave seams at tile edges. With
the exact transformer a window equals the same part of a full warp (tested). A raster placed by
ground control points only (Sentinel-1 GRD as delivered) is sampled by ``GcpSampler``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from ...common.card import BandSpec
from ..errors import UnreadableInputError
from .bands import resolve_bands
from .gcps import GcpSampler
from .grid import Grid, check_overlap, dataset_grid, gcp_georeferencing

EXACT_TRANSFORMER_TOLERANCE = 1e-9
SUBDATASETS_LISTED = 10


def open_raster(path: str | Path, name: str):
    """Open any raster GDAL opens: a file, a VRT, ``/vsizip/...``, ``/vsicurl/...``, a subdataset
    (``GPKG:file.gpkg:table``, ``NETCDF:"file.nc":var``, ``HDF5:...``, ``SENTINEL2_L2A:...``).

    Whether it exists is learnt by opening it; ``UnreadableInputError`` carries GDAL's own message.
    A container of subdatasets (a NetCDF, HDF5 or GeoPackage file with several rasters) is refused
    with the names of its subdatasets to choose from.
    """
    text = os.fspath(path)
    try:
        with warnings.catch_warnings():  # rasters placed by ground control points only are handled by the grid
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            dataset = rasterio.open(text)
    except RasterioError as exc:
        raise UnreadableInputError(
            f"the {name} raster {text!r} could not be opened; GDAL says: {exc}. Check the path, or give a "
            "GeoTIFF, VRT or another raster GDAL reads"
        ) from exc
    if dataset.count == 0:
        subdatasets = _subdataset_names(dataset)
        dataset.close()
        listed = ", ".join(subdatasets[:SUBDATASETS_LISTED])
        listed += ", ..." if len(subdatasets) > SUBDATASETS_LISTED else ""
        raise UnreadableInputError(
            f"the {name} raster {text!r} holds no raster itself but {len(subdatasets)} subdataset(s); give one of "
            f"them instead: {listed}"
        )
    return dataset


def _subdataset_names(dataset) -> list[str]:
    """GDAL's own names of a container's subdatasets (``NETCDF:"file.nc":var``), in order."""
    tags = dataset.tags(ns="SUBDATASETS")
    count = sum(key.endswith("_NAME") for key in tags)
    return [tags[f"SUBDATASET_{i}_NAME"] for i in range(1, count + 1) if f"SUBDATASET_{i}_NAME" in tags]


def _valid(values: np.ndarray, nodata: list[float | None], stored_as_integers: bool = False) -> np.ndarray:
    """Pixels (along axis 1..) where every band is finite and differs from its nodata value.

    stored_as_integers: the values were read from integer bands, so they are finite without checking."""
    valid = np.ones(values.shape[1:], bool) if stored_as_integers else np.isfinite(values).all(axis=0)
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
            self.integers = all(np.issubdtype(np.dtype(self.dataset.dtypes[i - 1]), np.integer) for i in self.bands)
            by_gcps = gcp_georeferencing(self.dataset) is not None
            self.gcps = GcpSampler(self.dataset, self.bands, self.nodata, grid) if by_gcps else None
            self.vrt = None
            if source_grid != grid and not by_gcps:
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
            if self.gcps is not None:
                values = self.gcps.read(window)
                return values, np.isfinite(values).all(axis=0)
            if self.vrt is not None:
                values = self.vrt.read(self.bands, window=window)
                return values, np.isfinite(values).all(axis=0)
            values = self.dataset.read(self.bands, window=window, out_dtype="float32")
        except RasterioError as exc:
            message = f"reading the {self.name} raster failed ({exc}); the file may be corrupt"
            raise UnreadableInputError(message) from exc
        return values, _valid(values, self.nodata, self.integers)

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
