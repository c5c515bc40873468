"""Sentinel-1 + Sentinel-2 tile datasets: Dynamic World labels and SEN12MS.

Both yield the demo band set: optical Sentinel-2 B2, B3, B4, B5, B6, B7, B8, B11, B12 (reflectance
x 10000) and SAR Sentinel-1 VV, VH (dB). A Sentinel-2 tile may be one multi-band GeoTIFF (bands found
by description, else by the 13-band L1C or 12-band L2A order, else exactly the 9 bands) or a folder of
single-band files ``*_B02.tif`` ... (BigEarthNet layout; 20 m bands resampled to 10 m). A Sentinel-1
tile is a 2-band GeoTIFF (VV, VH) or a folder with ``*_VV.tif`` and ``*_VH.tif``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rasterio.enums import Resampling

from .base import SampleDataset, find_split_file, no_samples, read_name_list
from .rasters import DEMO_S2_BANDS, S1_BANDS, S2_L1C_BANDS, S2_L2A_BANDS, fill_nan, read_modality, read_raster, warp_to
from .sample import Sample, map_codes

S2_CONVENTIONS = (S2_L1C_BANDS, S2_L2A_BANDS)


def _tile(folder: Path, name: str) -> Path | None:
    """``folder/<name>.tif`` or the band folder ``folder/<name>/``, whichever exists."""
    for path in (folder / f"{name}.tif", folder / name):
        if path.exists():
            return path
    return None


def _load_pair(name: str, s2: Path | None, s1: Path | None, label_path: Path, label_band: int, code_map) -> Sample:
    """Read S2 and S1 on the S2 grid (the S1 grid without S2) and the label resampled onto it (nearest)."""
    optical = read_modality(s2, DEMO_S2_BANDS, S2_CONVENTIONS) if s2 else None
    sar = read_modality(s1, S1_BANDS) if s1 else None
    grid = optical if optical is not None else sar
    label_raster = read_raster(label_path)
    label_raster.array = label_raster.array[label_band - 1 : label_band]
    codes = np.nan_to_num(warp_to(label_raster, grid, Resampling.nearest)[0], nan=0).astype(np.int64)
    return Sample(
        name=name,
        optical=fill_nan(optical.array) if optical is not None else None,
        sar=fill_nan(warp_to(sar, grid)) if sar is not None else None,
        label=map_codes(codes, code_map),
    )


class DynamicWorld(SampleDataset):
    """Dynamic World label tiles with the Sentinel-2 and Sentinel-1 tiles pulled for them.

    Layout::

        <root>/labels/<tile>.tif      Dynamic World label codes: 0 no data, 1 water ... 9 snow/ice, 10 cloud
        <root>/s2/<tile>.tif | <tile>/ Sentinel-2 tile (see module docstring)
        <root>/s1/<tile>.tif | <tile>/ Sentinel-1 tile, VV and VH in dB
        <root>/<split>.txt            optional list of tile names

    S1 and labels are resampled onto the S2 grid. Tiles lacking S2 or S1 load with that layer ``None``.
    """

    scheme = "dynamic_world"
    optical_bands = DEMO_S2_BANDS
    sar_bands = S1_BANDS
    layout = "<root>/labels/<tile>.tif, <root>/s2/<tile>(.tif|/), <root>/s1/<tile>(.tif|/), optional <root>/<split>.txt"

    def __init__(self, root: str | Path, split: str | None = None) -> None:
        self.root = Path(root)
        labels = {p.stem: p for p in sorted((self.root / "labels").glob("*.tif"))}
        split_file = find_split_file(self.root, split, ("{split}.txt", "splits/{split}.txt"))
        names = read_name_list(split_file) if split_file else sorted(labels)
        items = []
        for name in names:
            s2, s1 = _tile(self.root / "s2", name), _tile(self.root / "s1", name)
            if name in labels and (s2 or s1):
                items.append({"name": name, "label": labels[name], "s2": s2, "s1": s1})
        if not items:
            raise no_samples(self.root, self.layout)
        super().__init__(items)

    def load(self, item: dict) -> Sample:
        return _load_pair(item["name"], item["s2"], item["s1"], item["label"], 1, self.code_map)


class Sen12ms(SampleDataset):
    """SEN12MS patches with the DFC2020 simplified IGBP classes (first band of the land-cover patch).

    Layout as distributed::

        <root>/<ROI>_<season>/lc_<scene>/<ROI>_<season>_lc_<scene>_p<n>.tif
        <root>/<ROI>_<season>/s1_<scene>/<ROI>_<season>_s1_<scene>_p<n>.tif
        <root>/<ROI>_<season>/s2_<scene>/<ROI>_<season>_s2_<scene>_p<n>.tif   (13 bands, L1C order)
    """

    scheme = "dfc2020"
    optical_bands = DEMO_S2_BANDS
    sar_bands = S1_BANDS
    layout = "<root>/<ROI>_<season>/{lc,s1,s2}_<scene>/<ROI>_<season>_{lc,s1,s2}_<scene>_p<n>.tif"

    def __init__(self, root: str | Path, split: str | None = None) -> None:
        self.root = Path(root) / split if split else Path(root)
        items = []
        for label in sorted(self.root.glob("*/lc_*/*_lc_*.tif")):
            paths = {}
            for modality in ("s1", "s2"):
                path = (
                    label.parent.parent
                    / label.parent.name.replace("lc_", f"{modality}_", 1)
                    / label.name.replace("_lc_", f"_{modality}_")
                )
                paths[modality] = path if path.is_file() else None
            if paths["s1"] or paths["s2"]:
                items.append({"name": label.stem.replace("_lc_", "_"), "label": label, **paths})
        if not items:
            raise no_samples(self.root, self.layout)
        super().__init__(items)

    def load(self, item: dict) -> Sample:
        return _load_pair(item["name"], item["s2"], item["s1"], item["label"], 1, self.code_map)
