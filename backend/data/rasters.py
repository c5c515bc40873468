"""Reading dataset rasters with rasterio: whole files, band stacks and alignment onto one grid."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.warp import reproject
from rasterio.windows import Window

from ..errors import BandError, UnreadableInputError

# Sentinel-2 band order of a full L1C product (13 bands) and of L2A products without the cirrus band.
S2_L1C_BANDS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
S2_L2A_BANDS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12")
DEMO_S2_BANDS = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B12")
S1_BANDS = ("VV", "VH")


@dataclass
class Raster:
    """A raster read whole: ``array`` float32 ``[C, H, W]`` and the grid it lies on."""

    array: np.ndarray
    crs: object
    transform: object
    descriptions: tuple[str | None, ...] = ()

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.array.shape[-2:])


def read_raster(path: str | Path, window: tuple[int, int, int, int] | None = None, dtype=np.float32) -> Raster:
    """Read every band of ``path``, or only ``window`` = ``(row, col, height, width)``; NaN stays NaN."""
    try:
        with rasterio.open(path) as src:
            box = None if window is None else Window(window[1], window[0], window[3], window[2])
            transform = src.transform if box is None else src.window_transform(box)
            return Raster(src.read(window=box).astype(dtype, copy=False), src.crs, transform, tuple(src.descriptions))
    except rasterio.errors.RasterioIOError as exc:
        raise UnreadableInputError(
            f"cannot read raster {path}: {exc}. Check that the file exists and is a GeoTIFF."
        ) from exc


def raster_shape(path: str | Path) -> tuple[int, int]:
    """``(height, width)`` of a raster, read from its header only."""
    with rasterio.open(path) as src:
        return src.height, src.width


def fill_nan(array: np.ndarray) -> np.ndarray:
    """Replace NaN in each band of ``[C, H, W]`` by that band's mean (0 for an all-NaN band), in place."""
    for band in array:
        bad = ~np.isfinite(band)
        if bad.any():
            good = band[~bad]
            band[bad] = good.mean() if good.size else 0.0
    return array


def warp_to(raster: Raster, like: Raster, resampling: Resampling = Resampling.bilinear) -> np.ndarray:
    """``raster`` resampled onto the grid of ``like``: float32 ``[C, H_like, W_like]``.

    Rasters already on the same grid are returned unchanged; without a CRS on either side the
    arrays must have the same shape.
    """
    same_grid = raster.shape == like.shape and raster.transform == like.transform and raster.crs == like.crs
    if same_grid or raster.crs is None or like.crs is None:
        if raster.shape != like.shape:
            raise UnreadableInputError(
                f"cannot align a {raster.shape} raster with a {like.shape} one without georeferencing: "
                "give both files a CRS and transform, or the same size"
            )
        return raster.array
    out = np.full((raster.array.shape[0], *like.shape), np.nan, dtype=np.float32)
    reproject(
        raster.array,
        out,
        src_transform=raster.transform,
        src_crs=raster.crs,
        dst_transform=like.transform,
        dst_crs=like.crs,
        resampling=resampling,
        src_nodata=np.nan,
        dst_nodata=np.nan,
    )
    return out


def resize_nearest(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of the last two axes to ``shape`` (pixel-centre sampling)."""
    rows = np.minimum(((np.arange(shape[0]) + 0.5) * array.shape[-2] / shape[0]).astype(int), array.shape[-2] - 1)
    cols = np.minimum(((np.arange(shape[1]) + 0.5) * array.shape[-1] / shape[1]).astype(int), array.shape[-1] - 1)
    return array[..., rows[:, None], cols[None, :]]


def _band_key(name: str) -> str:
    """``"B02"``, ``"b2"``, ``"B8A"`` -> ``"B2"``, ``"B2"``, ``"B8A"``; other names upper-cased."""
    match = re.fullmatch(r"[Bb]0*(\d+)([Aa]?)", name.strip())
    return f"B{match.group(1)}{match.group(2).upper()}" if match else name.strip().upper()


def select_bands(raster: Raster, wanted: tuple[str, ...], conventions: tuple[tuple[str, ...], ...]) -> np.ndarray:
    """Bands ``wanted`` (e.g. ``DEMO_S2_BANDS``) of ``raster``, found by band description or else by band count.

    ``conventions`` are the known band orders for files without descriptions; one whose length equals
    the file's band count is used. Raises ``BandError`` when neither way finds every band.
    """
    count = raster.array.shape[0]
    names = [_band_key(d) if d else None for d in raster.descriptions]
    if all(names) and all(_band_key(w) in names for w in wanted):
        return raster.array[[names.index(_band_key(w)) for w in wanted]]
    if count == len(wanted):
        return raster.array
    for order in conventions:
        if len(order) == count:
            return raster.array[[order.index(w) for w in wanted]]
    raise BandError(
        f"expected a raster with bands {', '.join(wanted)} (by description, or {len(wanted)} bands, or one of the "
        f"standard orders of {', '.join(str(len(o)) for o in conventions)} bands), found {count} bands "
        f"described as {raster.descriptions}: write band descriptions or reorder the file"
    )


def read_band_folder(folder: Path, wanted: tuple[str, ...]) -> Raster:
    """Stack single-band files ``<folder>/*_<band>.tif`` (BigEarthNet layout) on the finest band's grid.

    Coarser bands (Sentinel-2 20 m) are resampled bilinearly onto the finest (10 m) grid.
    Returns ``[len(wanted), H, W]`` in ``wanted`` order.
    """
    files = {_band_key(p.stem.rsplit("_", 1)[-1]): p for p in folder.glob("*.tif") if "_" in p.stem}
    missing = [w for w in wanted if _band_key(w) not in files]
    if missing:
        raise BandError(f"folder {folder} lacks band files for {', '.join(missing)}: expected files named *_<band>.tif")
    rasters = [read_raster(files[_band_key(w)]) for w in wanted]
    like = max(rasters, key=lambda r: r.shape[0] * r.shape[1])
    stacked = np.concatenate([warp_to(r, like) for r in rasters], axis=0)
    return Raster(stacked, like.crs, like.transform, tuple(wanted))


def read_modality(path: Path, wanted: tuple[str, ...], conventions: tuple[tuple[str, ...], ...] = ()) -> Raster:
    """One modality from a multi-band file or a folder of single-band files, reduced to ``wanted`` bands."""
    if path.is_dir():
        return read_band_folder(path, wanted)
    raster = read_raster(path)
    return Raster(select_bands(raster, wanted, conventions), raster.crs, raster.transform, tuple(wanted))
