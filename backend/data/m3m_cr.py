"""M3M-CR: cloudy + cloud-free PlanetScope (3 m), Sentinel-1 and ESA WorldCover (10 m), cloud masks.

Layout as distributed (one quintet per patch)::

    <root>/<split>/planet_cloudy_<season>/planet_cloudy_<season>_<aoi>/planet_cloudy_<season>_<aoi>_p_<n>.tif
    <root>/<split>/planet_cloudfree_<season>/...                        (same pattern)
    <root>/<split>/S1_<season>/S1_<season>_<aoi>/S1_<season>_<aoi>_p_<n>.tif
    <root>/<split>/landcover_<season>/landcover_<season>_<aoi>/landcover_<season>_<aoi>_p_<n>.tif
    <root>/<split>/cloudmask_<season>/cloudmask_<season>_<aoi>/cloudmask_<season>_<aoi>_p_<n>.npy

Optical: 4 bands (B, G, R, NIR) uint16 reflectance x 10000, 300x300. S1: VV, VH in dB, 90x90, read
nearest-upsampled to the optical grid as CloudSeg does. Label: WorldCover codes kept at 10 m
(90x90), mapped to the 6-class ``m3m_cr`` scheme (unknown codes -> 255) or to the 11-class
``worldcover`` scheme. Patches without the Planet files (e.g. the openly licensed S1 + WorldCover
part alone) load with ``optical = None`` and SAR on its own 10 m grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import SampleDataset, no_samples
from .rasters import fill_nan, read_raster, resize_nearest
from .sample import Sample, map_codes

LAYOUT = (
    "<root>/<split>/S1_<season>/S1_<season>_<aoi>/S1_<season>_<aoi>_p_<n>.tif and the matching "
    "landcover_, planet_cloudy_, planet_cloudfree_, cloudmask_ files"
)
PREFIXES = {
    "optical": ("planet_cloudy_", ".tif"),
    "optical_clear": ("planet_cloudfree_", ".tif"),
    "label": ("landcover_", ".tif"),
    "cloud_mask": ("cloudmask_", ".npy"),
}


def _sibling(s1_path: Path, prefix: str, extension: str) -> Path:
    """The file of another modality for the patch of ``s1_path`` (``S1_`` replaced at every level)."""
    patch, aoi, season = s1_path, s1_path.parent, s1_path.parent.parent
    return (
        season.parent
        / (prefix + season.name.removeprefix("S1_"))
        / (prefix + aoi.name.removeprefix("S1_"))
        / (prefix + patch.stem.removeprefix("S1_") + extension)
    )


class M3mCr(SampleDataset):
    """M3M-CR reader; ``scheme`` is ``"m3m_cr"`` (6 classes, CloudSeg level 1) or ``"worldcover"`` (11)."""

    optical_bands = ("B", "G", "R", "NIR")
    sar_bands = ("VV", "VH")

    def __init__(self, root: str | Path, split: str | None = None, *, scheme: str = "m3m_cr") -> None:
        self.root = Path(root) / split if split else Path(root)
        self.scheme = scheme
        items = []
        for s1_path in sorted(self.root.glob("S1_*/S1_*/S1_*.tif")):
            item = {"name": s1_path.stem.removeprefix("S1_"), "sar": s1_path}
            for layer, (prefix, extension) in PREFIXES.items():
                path = _sibling(s1_path, prefix, extension)
                if path.is_file():
                    item[layer] = path
            if "label" in item:
                items.append(item)
        if not items:
            raise no_samples(self.root, LAYOUT)
        super().__init__(items)

    def load(self, item: dict) -> Sample:
        sar = fill_nan(read_raster(item["sar"]).array)
        label_codes = np.nan_to_num(read_raster(item["label"]).array[0]).astype(np.int64)
        sample = Sample(name=item["name"], sar=sar, label=map_codes(label_codes, self.code_map))
        if "optical" in item:
            sample.optical = fill_nan(np.clip(read_raster(item["optical"]).array, 0, None))
            sample.sar = resize_nearest(sar, sample.optical.shape[-2:])
        if "optical_clear" in item:
            sample.optical_clear = fill_nan(np.clip(read_raster(item["optical_clear"]).array, 0, None))
        if "cloud_mask" in item:
            sample.cloud_mask = np.load(item["cloud_mask"]).astype(np.uint8)
        return sample
