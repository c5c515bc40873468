"""The reference grid every input is read on, and its true pixel areas.

The grid is the optical raster's (the SAR raster's for a SAR-only model) unless the user gives a
target CRS, resolution or extent. Geographic grids (degrees) are kept as they are, so the output
matches the input pixel for pixel; their hectares come from per-row pixel areas on the WGS84
ellipsoid, never from "degrees x degrees". ``target_crs="utm"`` picks the local UTM zone instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.transform import Affine, array_bounds
from rasterio.warp import calculate_default_transform, transform_bounds

from ..errors import GridError, MissingCrsError, NoOverlapError

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
MAX_PIXELS = 2**34


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: CRS, affine transform and size in pixels."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in grid CRS units."""
        west, south, east, north = array_bounds(self.height, self.width, self.transform)
        return west, south, east, north

    @property
    def pixel_size(self) -> tuple[float, float]:
        return abs(self.transform.a), abs(self.transform.e)

    @property
    def is_geographic(self) -> bool:
        return bool(self.crs.is_geographic)

    def row_pixel_areas(self, row_start: int, row_stop: int) -> np.ndarray:
        """True area of one pixel in each row ``row_start..row_stop-1``, float64 [rows], square metres."""
        rows = row_stop - row_start
        if not self.is_geographic:
            units = self.crs.linear_units_factor[1] if self.crs.is_projected else 1.0
            return np.full(rows, abs(self.transform.a * self.transform.e) * units**2)
        top = self.transform.f + self.transform.e * np.arange(row_start, row_stop + 1, dtype=np.float64)
        band = _ellipsoid_band_area_per_radian(np.radians(top))
        return np.abs(np.diff(band)) * math.radians(abs(self.transform.a))

    def mean_pixel_area(self) -> float:
        return float(self.row_pixel_areas(0, self.height).mean())

    def describe(self) -> dict:
        """The report's ``grid`` entry."""
        return {
            "crs": self.crs.to_string(),
            "width": self.width,
            "height": self.height,
            "pixel_size": list(self.pixel_size),
            "pixel_area_m2": self.mean_pixel_area(),
            "geographic": self.is_geographic,
        }


def _ellipsoid_band_area_per_radian(latitude: np.ndarray) -> np.ndarray:
    """Area (m2) between the equator and ``latitude`` per radian of longitude on WGS84."""
    e2 = WGS84_F * (2 - WGS84_F)
    e = math.sqrt(e2)
    b2 = (WGS84_A * (1 - WGS84_F)) ** 2
    s = np.sin(latitude)
    q = s / (1 - e2 * s * s) + np.log((1 + e * s) / (1 - e * s)) / (2 * e)
    return b2 / 2 * q


def gcp_georeferencing(dataset) -> tuple[list, CRS | None] | None:
    """(ground control points, their CRS) of a raster placed by GCPs only (no geotransform), else None."""
    points, crs = dataset.gcps
    if points and dataset.transform.is_identity:
        return points, crs
    return None


def dataset_grid(dataset, name: str) -> Grid:
    """The grid of an open rasterio dataset; refuses rasters without CRS or with rotation.

    A raster placed by ground control points only gets the north-up grid GDAL suggests for it in
    the GCPs' CRS (what ``gdalwarp`` would produce), so it can also be the reference raster.
    """
    by_gcps = gcp_georeferencing(dataset)
    if by_gcps is not None:
        points, crs = by_gcps
        if crs is None:
            raise MissingCrsError(
                f"the {name} raster is placed by ground control points that have no coordinate reference system; "
                "assign one to them (gdal_translate -a_srs) or warp the raster first (gdalwarp -tps -t_srs ...)"
            )
        transform, width, height = calculate_default_transform(crs, crs, dataset.width, dataset.height, gcps=points)
        return Grid(crs, transform, width, height)
    if dataset.crs is None:
        raise MissingCrsError(
            f"the {name} raster has no coordinate reference system, so it cannot be placed on the map; "
            "assign one (QGIS: Raster > Projections > Assign Projection, or gdal_edit.py -a_srs) and retry"
        )
    transform = dataset.transform
    if transform.b or transform.d:
        raise GridError(f"the {name} raster is rotated; warp it to a north-up grid first (gdalwarp)")
    return Grid(dataset.crs, transform, dataset.width, dataset.height)


def utm_crs_for(grid: Grid) -> CRS:
    """The WGS84 UTM zone of the grid's centre."""
    west, south, east, north = transform_bounds(grid.crs, "EPSG:4326", *grid.bounds)
    lon, lat = (west + east) / 2, (south + north) / 2
    zone = min(int((lon + 180) // 6) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _parse_crs(text: str) -> CRS:
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise GridError(f"target CRS {text!r} is not understood ({exc}); give e.g. 'EPSG:32633' or 'utm'") from exc


def _pair(resolution: float | tuple[float, float]) -> tuple[float, float]:
    rx, ry = (resolution, resolution) if isinstance(resolution, int | float) else tuple(resolution)
    if not (rx > 0 and ry > 0 and math.isfinite(rx) and math.isfinite(ry)):
        raise GridError(f"resolution must be positive pixel sizes, got {resolution}")
    return float(rx), float(ry)


def reference_grid(base: Grid, target_crs=None, resolution=None, extent=None) -> Grid:
    """The grid outputs are written on: ``base`` (the optical grid) or the user's target.

    target_crs: CRS text or "utm"; resolution: pixel size in target units; extent: (xmin, ymin,
    xmax, ymax) in the target CRS. Raises ``GridError`` for unusable values.
    """
    crs = base.crs
    if target_crs:
        crs = utm_crs_for(base) if str(target_crs).lower() == "utm" else _parse_crs(str(target_crs))
    if crs == base.crs and resolution is None and extent is None:
        return base
    if crs == base.crs:
        rx, ry = _pair(resolution) if resolution is not None else base.pixel_size
        bounds = extent or base.bounds
    else:
        res = _pair(resolution) if resolution is not None else None
        transform, width, height = calculate_default_transform(
            base.crs, crs, base.width, base.height, *base.bounds, resolution=res
        )
        rx, ry = (abs(transform.a), abs(transform.e)) if res is None else res
        bounds = extent or array_bounds(height, width, transform)[:4]
    xmin, ymin, xmax, ymax = bounds
    if not (xmax > xmin and ymax > ymin):
        raise GridError(f"extent must be (xmin, ymin, xmax, ymax) with xmin < xmax and ymin < ymax, got {bounds}")
    width, height = math.ceil((xmax - xmin) / rx - 1e-6), math.ceil((ymax - ymin) / ry - 1e-6)
    if width * height > MAX_PIXELS:
        raise GridError(
            f"the output grid would be {width} x {height} pixels at {rx} x {ry} {crs.to_string()} units; "
            "check the resolution (it is in target CRS units: degrees for a geographic CRS)"
        )
    return Grid(crs, Affine.translation(xmin, ymax) @ Affine.scale(rx, -ry), width, height)


def check_overlap(grid: Grid, source: Grid, name: str) -> None:
    """Raise ``NoOverlapError`` when ``source`` does not intersect ``grid``."""
    west, south, east, north = transform_bounds(source.crs, grid.crs, *source.bounds, densify_pts=21)
    gw, gs, ge, gn = grid.bounds
    if west >= ge or east <= gw or south >= gn or north <= gs:
        raise NoOverlapError(
            f"the {name} raster does not overlap the output area: it covers {_fmt((west, south, east, north))}, "
            f"the output covers {_fmt(grid.bounds)} (in {grid.crs.to_string()}); choose rasters of the same place "
            "or an extent inside both"
        )


def _fmt(bounds) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in bounds) + ")"
