"""Tiny GeoTIFFs for reader tests."""

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine


def write_tif(
    path, array, *, pixel=10.0, origin=(600000.0, 5000000.0), crs="EPSG:32633", descriptions=None, nodata=None
):
    """Write ``array`` ([C, H, W] or [H, W]) as an uncompressed GeoTIFF; returns the path."""
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[None]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = dict(
        driver="GTiff",
        width=array.shape[2],
        height=array.shape[1],
        count=array.shape[0],
        dtype=array.dtype.name,
        crs=crs,
        transform=Affine(pixel, 0, origin[0], 0, -pixel, origin[1]),
        nodata=nodata,
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array)
        for i, name in enumerate(descriptions or (), start=1):
            dst.set_band_description(i, name)
    return path
