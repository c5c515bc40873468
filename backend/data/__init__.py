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


SYNTHETIC_SPLIT_SEEDS = {None: 0, "train": 0, "val": 1_000_000, "test": 2_000_000}


def open_dataset(kind: str, root: str | Path | None = None, split: str | None = None, **options) -> SampleDataset:
    """Open the dataset layout ``kind`` (a key of ``DATASETS``, or ``synthetic``) at ``root``, optionally one split.

    ``synthetic`` needs no root: options ``count``, ``size``, ``seed``, ``cloud_cover``; the splits
    ``train``, ``val`` and ``test`` draw disjoint scene seeds (``seed`` + 0, + 1e6, + 2e6).
    """
    if kind == "synthetic":
        if split not in SYNTHETIC_SPLIT_SEEDS:
            raise BadParamsError(f"synthetic splits are train, val and test, got {split!r}")
        seed = options.pop("seed", 0) + SYNTHETIC_SPLIT_SEEDS[split]
        return SyntheticDataset(options.pop("count", 64), seed=seed, **options)
    if kind not in DATASETS:
        raise BadParamsError(f"unknown dataset layout {kind!r}: expected one of {', '.join(DATASETS)} or synthetic")
    if root is None:
        raise BadParamsError(f"dataset layout {kind!r} needs the dataset's root folder")
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
