"""Embedded sample scenes: real BigEarthNet Sentinel-1/2 patch pairs shipped in a registry package.

The ``bigearthnet-common`` package carries six real, co-registered S1/S2 patch pairs (1.2 km x 1.2 km,
CDLA-Permissive-1.0, modified Copernicus Sentinel data). LandFuse reads the archives from the installed
package (no network) and stacks each pair into one optical and one SAR GeoTIFF on the 10 m grid.
"""

from __future__ import annotations

import importlib.util
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling

from .errors import UnreadableInputError

# Sentinel-2 bands of the demo models (Dynamic World inputs) and Sentinel-1 polarisations, in order.
DEMO_OPTICAL_BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B11", "B12")
DEMO_SAR_BANDS = ("VV", "VH")
ARCHIVES = ("BigEarthNet-S1-Example.tar.bz2", "BigEarthNet-S2-Example.tar.bz2")


@dataclass(frozen=True)
class SamplePair:
    """One stacked sample: optical (uint16 reflectance x 10000, 9 bands) and SAR (float32 dB, VV/VH)."""

    name: str
    optical: Path
    sar: Path


def bigearthnet_archive_folder() -> Path:
    """Folder of the installed ``bigearthnet_common`` package holding the example archives."""
    spec = importlib.util.find_spec("bigearthnet_common")
    if spec is None or not spec.submodule_search_locations:
        raise UnreadableInputError(
            "the sample scenes come from the package bigearthnet-common, which is not installed: run 'make setup'"
        )
    return Path(spec.submodule_search_locations[0])


def extract_bigearthnet(cache: Path) -> Path:
    """Extract the S1 and S2 example archives into ``cache`` once; returns ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    source = bigearthnet_archive_folder()
    for archive in ARCHIVES:
        target = cache / archive.removesuffix(".tar.bz2")
        if target.is_dir():
            continue
        with tarfile.open(source / archive) as tar:
            _safe_extract(tar, cache)
    return cache


def stack_pair(s1_dir: Path, s2_dir: Path, optical_out: Path, sar_out: Path) -> SamplePair:
    """Stack one BigEarthNet pair onto the 10 m grid of band B02.

    20 m bands are resampled bilinearly to 10 m. Optical: ``9 x H x W`` uint16; SAR: ``2 x H x W``
    float32 dB. Band descriptions name the bands.
    """
    with rasterio.open(_band_file(s2_dir, "B02")) as ref:
        profile = ref.profile.copy()
        height, width = ref.height, ref.width
    optical = np.stack([_read_resampled(_band_file(s2_dir, b), height, width) for b in DEMO_OPTICAL_BANDS])
    sar = np.stack([_read_resampled(_band_file(s1_dir, b), height, width) for b in DEMO_SAR_BANDS])
    profile.update(driver="GTiff", count=len(DEMO_OPTICAL_BANDS), dtype="uint16", nodata=0, compress="deflate")
    _write(optical_out, optical.astype("uint16"), profile, DEMO_OPTICAL_BANDS)
    profile.update(count=len(DEMO_SAR_BANDS), dtype="float32", nodata=None)
    _write(sar_out, sar.astype("float32"), profile, DEMO_SAR_BANDS)
    return SamplePair(s2_dir.name, optical_out, sar_out)


def bigearthnet_samples(cache: Path, out_dir: Path) -> list[SamplePair]:
    """All six embedded pairs, stacked into ``out_dir`` (skipped when already there)."""
    root = extract_bigearthnet(cache)
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs = []
    for s1_dir in sorted((root / "BigEarthNet-S1-Example").iterdir()):
        meta = json.loads(next(s1_dir.glob("*_labels_metadata.json")).read_text())
        s2_dir = root / "BigEarthNet-S2-Example" / meta["corresponding_s2_patch"]
        optical, sar = out_dir / f"{s2_dir.name}_optical.tif", out_dir / f"{s2_dir.name}_sar.tif"
        if optical.exists() and sar.exists():
            pairs.append(SamplePair(s2_dir.name, optical, sar))
        else:
            pairs.append(stack_pair(s1_dir, s2_dir, optical, sar))
    return pairs


def _safe_extract(tar: tarfile.TarFile, target: Path) -> None:
    """Extract regular files and folders only, refusing paths that leave ``target``."""
    root = target.resolve()
    members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
    for member in members:
        if not (root / member.name).resolve().is_relative_to(root):
            raise UnreadableInputError(f"sample archive entry {member.name!r} points outside the cache folder")
    tar.extractall(target, members=members)


def _band_file(folder: Path, band: str) -> Path:
    matches = sorted(folder.glob(f"*_{band}.tif"))
    if not matches:
        raise UnreadableInputError(f"band {band} not found in the sample folder {folder.name}")
    return matches[0]


def _read_resampled(path: Path, height: int, width: int) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1, out_shape=(height, width), resampling=Resampling.bilinear)


def _write(path: Path, data: np.ndarray, profile: dict, names: tuple[str, ...]) -> None:
    tmp = path.with_name(path.name + ".partial")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data)
        for index, name in enumerate(names, start=1):
            dst.set_band_description(index, name)
    tmp.replace(path)
