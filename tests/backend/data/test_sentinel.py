"""Dynamic World tiles with S1/S2 (tiny files and real BigEarthNet patches) and SEN12MS (real S1 + label)."""

import os

import numpy as np
import pytest

from landfuse.backend.data import DynamicWorld, Sen12ms
from landfuse.backend.data.rasters import DEMO_S2_BANDS, S2_L2A_BANDS
from landfuse.backend.errors import BandError
from tests.backend.data.tiffs import write_tif
from tests.paths import SHARED_DATA

BIGEARTHNET = SHARED_DATA / "bigearthnet-mm"
SEN12MS = SHARED_DATA / "sen12ms"


def test_dynamic_world_tile_selects_demo_bands_and_maps_codes(tmp_path):
    s2 = np.stack([np.full((6, 6), 100 * (i + 1), dtype=np.uint16) for i in range(12)])  # L2A order, no descriptions
    write_tif(tmp_path / "s2" / "tile_a.tif", s2)
    write_tif(tmp_path / "s1" / "tile_a.tif", np.full((2, 3, 3), -10.0, dtype=np.float32), pixel=20.0)
    labels = np.arange(12, dtype=np.uint8).reshape(2, 6).repeat(3, axis=0) % 11
    write_tif(tmp_path / "labels" / "tile_a.tif", labels)
    write_tif(tmp_path / "labels" / "tile_without_images.tif", labels)
    data = DynamicWorld(tmp_path)
    assert data.names == ["tile_a"]
    sample = data[0]
    wanted = [S2_L2A_BANDS.index(b) for b in DEMO_S2_BANDS]
    assert sample.optical[:, 0, 0].tolist() == [100.0 * (i + 1) for i in wanted]
    assert sample.sar.shape == (2, 6, 6) and np.allclose(sample.sar, -10.0)
    # 0 no data and 10 cloud -> 255; 1 water .. 9 snow -> 0 .. 8.
    assert sample.label[0].tolist() == [255, 0, 1, 2, 3, 4]
    assert sample.label[3].tolist() == [5, 6, 7, 8, 255, 255]


def test_dynamic_world_rejects_an_s2_tile_with_unknown_bands(tmp_path):
    write_tif(tmp_path / "s2" / "t.tif", np.zeros((5, 4, 4), dtype=np.uint16))
    write_tif(tmp_path / "labels" / "t.tif", np.ones((4, 4), dtype=np.uint8))
    with pytest.raises(BandError, match="B2, B3, B4"):
        DynamicWorld(tmp_path)[0]


@pytest.mark.skipif(not BIGEARTHNET.is_dir(), reason="shared real data not present")
def test_real_bigearthnet_band_folders_as_dynamic_world_tiles(tmp_path):
    s1_patch = "S1A_IW_GRDH_1SDV_20170613T165043_33UUP_87_48"
    s2_patch = "S2A_MSIL2A_20170613T101031_87_48"
    for folder, source in (
        ("s1", BIGEARTHNET / "BigEarthNet-S1-Example" / s1_patch),
        ("s2", BIGEARTHNET / "BigEarthNet-S2-Example" / s2_patch),
    ):
        (tmp_path / folder).mkdir()
        os.symlink(source, tmp_path / folder / "87_48")
    # A label tile on the patch grid (the patch has no pixel labels): crops left, trees right.
    labels = np.full((120, 120), 5, dtype=np.uint8)
    labels[:, 60:] = 2
    write_tif(tmp_path / "labels" / "87_48.tif", labels, origin=(404400.0, 5342400.0))
    sample = DynamicWorld(tmp_path)[0]
    assert sample.optical.shape == (9, 120, 120) and sample.sar.shape == (2, 120, 120)
    assert 0 < sample.optical.mean() < 10000
    red, nir = sample.optical[DEMO_S2_BANDS.index("B4")], sample.optical[DEMO_S2_BANDS.index("B8")]
    assert (nir > red).mean() > 0.9  # vegetated agricultural patch in June
    assert -25 < sample.sar[0].mean() < -5 and sample.sar[1].mean() < sample.sar[0].mean()
    assert np.bincount(sample.label.ravel()).tolist()[:5] == [0, 7200, 0, 0, 7200]


@pytest.mark.skipif(not SEN12MS.is_dir(), reason="shared real data not present")
def test_real_sen12ms_s1_and_land_cover(tmp_path):
    for modality in ("s1", "lc"):
        folder = tmp_path / "ROIs1158_spring" / f"{modality}_1"
        folder.mkdir(parents=True)
        name = f"ROIs1158_spring_{modality}_1_p30.tif"
        os.symlink(SEN12MS / name, folder / name)
    data = Sen12ms(tmp_path)
    assert data.names == ["ROIs1158_spring_1_p30"]
    sample = data[0]
    assert sample.optical is None and sample.sar.shape == (2, 256, 256)
    assert sample.sar[0].mean() == pytest.approx(-10.0, abs=0.2)
    counts = np.bincount(sample.label.ravel(), minlength=10)
    assert counts[0] == 45615 and counts[2] == 19921  # forest (IGBP 4, 5), savanna (IGBP 8, 9)
