"""The embedded BigEarthNet pairs are read from the installed package and stacked on the 10 m grid."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from landfuse.backend.samples import DEMO_OPTICAL_BANDS, DEMO_SAR_BANDS, bigearthnet_samples
from tests.paths import SHARED_DATA


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    return bigearthnet_samples(root / "cache", root / "stacked")


def test_six_pairs_stacked_on_one_grid(pairs):
    assert len(pairs) == 6
    for pair in pairs:
        with rasterio.open(pair.optical) as opt, rasterio.open(pair.sar) as sar:
            assert (opt.count, opt.dtypes[0]) == (len(DEMO_OPTICAL_BANDS), "uint16")
            assert (sar.count, sar.dtypes[0]) == (len(DEMO_SAR_BANDS), "float32")
            assert opt.crs == sar.crs and opt.crs.is_projected
            assert opt.transform == sar.transform and (opt.width, opt.height) == (120, 120)
            assert opt.descriptions == DEMO_OPTICAL_BANDS
            vv = sar.read(1)
            assert -40 < float(vv.mean()) < 5, "S1 backscatter should be in dB"


def test_stacked_bands_equal_the_source_files(pairs):
    pair = next(p for p in pairs if p.name == "S2A_MSIL2A_20170613T101031_87_48")
    source = SHARED_DATA / "bigearthnet-mm" / "BigEarthNet-S2-Example" / pair.name / f"{pair.name}_B04.tif"
    if not source.exists():
        pytest.skip("shared sample data not present")
    with rasterio.open(pair.optical) as opt, rasterio.open(source) as src:
        np.testing.assert_array_equal(opt.read(3), src.read(1))
        b11_10m = opt.read(8).astype(float)
    with rasterio.open(source.with_name(f"{pair.name}_B11.tif")) as src20:
        b11_20m = src20.read(1).astype(float)
    block_means = b11_10m.reshape(60, 2, 60, 2).mean(axis=(1, 3))
    assert np.corrcoef(block_means.ravel(), b11_20m.ravel())[0, 1] > 0.95
