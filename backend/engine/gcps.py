"""Rasters placed by ground control points only (Sentinel-1 GRD as delivered), sampled on the grid.

rasterio's ``WarpedVRT`` ignores GCPs once it is given a target grid, and ``reproject`` approximates
the transformation (so windows would not match a whole-raster warp). Here each grid pixel centre is
transformed exactly: from the grid CRS to the GCPs' CRS with PROJ, then to a position in the
raster with GDAL's GCP transformer (the polynomial ``gdalwarp`` fits by default). Values are
interpolated bilinearly from the four source pixels around that position; the pixel is invalid
when one of them is nodata, NaN or outside the raster. Over relief, a raster warped beforehand
with ``gdalwarp -tps`` (or terrain-corrected) is placed more precisely.
"""

from __future__ import annotations

import numpy as np
from rasterio.transform import GCPTransformer
from rasterio.warp import transform as transform_points
from rasterio.windows import Window

from .grid import Grid


class GcpSampler:
    """Reads ``bands`` of a GCP-placed ``dataset`` on ``grid``, window by window."""

    def __init__(self, dataset, bands: list[int], nodata: list[float | None], grid: Grid):
        points, self.crs = dataset.gcps
        self.transformer = GCPTransformer(points)
        self.dataset, self.bands, self.nodata, self.grid = dataset, bands, nodata, grid

    def read(self, window: Window) -> np.ndarray:
        """Values float32 [bands, h, w] of ``window`` of the grid, NaN where invalid."""
        height, width = int(window.height), int(window.width)
        rows, cols = np.mgrid[0:height, 0:width]
        xs, ys = self.grid.transform @ (cols.ravel() + window.col_off + 0.5, rows.ravel() + window.row_off + 0.5)
        if self.crs != self.grid.crs:
            xs, ys = transform_points(self.grid.crs, self.crs, xs, ys)
        lines, pixels = self.transformer.rowcol(np.asarray(xs), np.asarray(ys), op=np.positive)
        fy, fx = lines - 0.5, pixels - 0.5  # GDAL pixel/line are corner-based: centres sit at .5
        y0, x0 = np.floor(fy), np.floor(fx)
        inside = (y0 >= 0) & (x0 >= 0) & (y0 + 1 < self.dataset.height) & (x0 + 1 < self.dataset.width)
        out = np.full((len(self.bands), height * width), np.nan, np.float32)
        if inside.any():
            top, left = int(y0[inside].min()), int(x0[inside].min())
            bottom, right = int(y0[inside].max()) + 2, int(x0[inside].max()) + 2
            source = self._source(Window(left, top, right - left, bottom - top))
            iy, ix = (y0[inside] - top).astype(np.intp), (x0[inside] - left).astype(np.intp)
            dy, dx = (fy - y0)[inside].astype(np.float32), (fx - x0)[inside].astype(np.float32)
            out[:, inside] = (
                source[:, iy, ix] * (1 - dy) * (1 - dx)
                + source[:, iy, ix + 1] * (1 - dy) * dx
                + source[:, iy + 1, ix] * dy * (1 - dx)
                + source[:, iy + 1, ix + 1] * dy * dx
            )
        return out.reshape(len(self.bands), height, width)

    def _source(self, window: Window) -> np.ndarray:
        """Source pixels float32 [bands, h, w] with nodata as NaN."""
        values = self.dataset.read(self.bands, window=window, out_dtype="float32")
        for band, value in enumerate(self.nodata):
            if value is not None and not np.isnan(value):
                values[band][values[band] == np.float32(value)] = np.nan
        return values
