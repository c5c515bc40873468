"""Reference grids and true pixel areas."""

import numpy as np
import pytest
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import calculate_default_transform

from landfuse.backend.engine.grid import Grid, reference_grid, utm_crs_for
from landfuse.backend.errors import LandFuseError

WGS84_SURFACE_KM2 = 510_065_621.724


def test_geographic_pixel_areas_add_up_to_the_earth_surface():
    globe = Grid(CRS.from_epsg(4326), Affine(1.0, 0, -180, 0, -1.0, 90), 360, 180)
    rows = globe.row_pixel_areas(0, 180)
    assert rows.sum() * 360 / 1e6 == pytest.approx(WGS84_SURFACE_KM2, rel=1e-6)
    assert rows[89] > rows[0] * 50, "equator pixels are much larger than polar ones"
    np.testing.assert_allclose(rows[:90], rows[::-1][:90])


def test_projected_pixel_area_uses_linear_units():
    metres = Grid(CRS.from_epsg(32633), Affine(10, 0, 0, 0, -10, 0), 5, 5)
    feet = Grid(CRS.from_epsg(2263), Affine(10, 0, 0, 0, -10, 0), 5, 5)
    assert metres.mean_pixel_area() == pytest.approx(100.0)
    assert feet.mean_pixel_area() == pytest.approx(100 * 0.3048006096**2, rel=1e-6)


def test_target_grids():
    base = Grid(CRS.from_epsg(4326), Affine(0.0001, 0, 13.7, 0, -0.0001, 48.2), 500, 400)
    assert reference_grid(base) is base
    assert utm_crs_for(base) == CRS.from_epsg(32633)
    utm = reference_grid(base, "utm", 10.0)
    transform, width, height = calculate_default_transform(
        base.crs, "EPSG:32633", base.width, base.height, *base.bounds, resolution=(10.0, 10.0)
    )
    assert utm.crs == CRS.from_epsg(32633) and utm.pixel_size == (10.0, 10.0)
    assert (utm.width, utm.height) == (width, height) and utm.transform.almost_equals(transform, 1e-9)
    cropped = reference_grid(base, extent=(13.71, 48.17, 13.72, 48.18))
    assert (cropped.width, cropped.height) == (100, 100) and cropped.transform.c == 13.71
    with pytest.raises(LandFuseError) as info:
        reference_grid(base, resolution=-5)
    assert info.value.code == "BAD_GRID"
    with pytest.raises(LandFuseError, match="degrees"):
        reference_grid(base, resolution=1e-9)
