"""Dataset readers (public benchmark layouts, generic folders, synthetic scenes) yielding aligned ``Sample``s."""

from __future__ import annotations

from pathlib import Path

from ..errors import BadParamsError
from .base import SampleDataset
from .folders import FolderDataset, OpenEarthMapSar, PieRgbSar, WhuOptSar
from .m3m_cr import M3mCr
from .sample import NODATA, Sample, map_codes
from .sentinel import DynamicWorld, Sen12ms
from .synthetic import SyntheticDataset, generate_scene

DATASETS: dict[str, type[SampleDataset]] = {
    "whu_opt_sar": WhuOptSar,
    "m3m_cr": M3mCr,
    "pie_rgb_sar": PieRgbSar,
    "openearthmap_sar": OpenEarthMapSar,
    "dynamic_world": DynamicWorld,
    "sen12ms": Sen12ms,
    "folders": FolderDataset,
}


def open_dataset(kind: str, root: str | Path, split: str | None = None, **options) -> SampleDataset:
    """Open the dataset layout ``kind`` (a key of ``DATASETS``) at ``root``, optionally one split."""
    if kind not in DATASETS:
        raise BadParamsError(f"unknown dataset layout {kind!r}: expected one of {', '.join(DATASETS)} (or 'synthetic')")
    return DATASETS[kind](root, split, **options)


__all__ = [
    "DATASETS",
    "NODATA",
    "DynamicWorld",
    "FolderDataset",
    "M3mCr",
    "OpenEarthMapSar",
    "PieRgbSar",
    "Sample",
    "SampleDataset",
    "Sen12ms",
    "SyntheticDataset",
    "WhuOptSar",
    "generate_scene",
    "map_codes",
    "open_dataset",
]
