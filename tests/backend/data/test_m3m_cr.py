"""M3M-CR: a tiny quintet in the distributed layout, and the real S1 + WorldCover samples."""

import shutil

import numpy as np
import pytest

from landfuse.backend.data import M3mCr, open_dataset
from tests.backend.data.tiffs import write_tif
from tests.paths import SHARED_DATA

REAL = SHARED_DATA / "m3m-cr-s1-worldcover"


def patch_path(root, modality, season, aoi, n, extension=".tif"):
    return root / f"{modality}_{season}" / f"{modality}_{season}_{aoi}" / f"{modality}_{season}_{aoi}_p_{n}{extension}"


def test_quintet_aligns_sar_to_3m_and_keeps_labels_at_10m(tmp_path):
    root = tmp_path / "test"
    rng = np.random.default_rng(1)
    cloudy = rng.integers(0, 12000, (4, 30, 30)).astype(np.uint16)
    write_tif(patch_path(root, "planet_cloudy", "summer", 33, 1), cloudy, pixel=3.0)
    write_tif(patch_path(root, "planet_cloudfree", "summer", 33, 1), cloudy // 2, pixel=3.0)
    sar = rng.normal(-12, 3, (2, 9, 9))
    write_tif(patch_path(root, "S1", "summer", 33, 1), sar)
    codes = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90] * 9, dtype=np.uint8).reshape(9, 9)
    codes[0, 0] = 95
    write_tif(patch_path(root, "landcover", "summer", 33, 1), codes)
    mask = np.zeros((30, 30), dtype=bool)
    mask[:10] = True
    patch_path(root, "cloudmask", "summer", 33, 1, ".npy").parent.mkdir(parents=True)
    np.save(patch_path(root, "cloudmask", "summer", 33, 1, ".npy"), mask)

    data = open_dataset("m3m_cr", tmp_path, split="test")
    assert data.names == ["summer_33_p_1"]
    sample = data[0]
    assert sample.optical.shape == (4, 30, 30) and sample.optical_clear.shape == (4, 30, 30)
    assert sample.optical.max() <= 12000 and np.array_equal(sample.optical_clear, cloudy // 2)
    assert sample.sar.shape == (2, 30, 30)  # nearest-upsampled 90 -> 300 as in CloudSeg, here 9 -> 30
    np.testing.assert_allclose(sample.sar[:, 0, 0], sar[:, 0, 0])
    np.testing.assert_allclose(sample.sar[:, 29, 29], sar[:, 8, 8])
    assert sample.label.shape == (9, 9)
    assert sample.label[0].tolist() == [255, 1, 1, 2, 3, 4, 255, 5, 5]  # 95 and 70 are unknown -> 255
    assert sample.cloud_mask.dtype == np.uint8 and sample.cloud_mask.sum() == 300
    assert M3mCr(tmp_path, "test", scheme="worldcover")[0].label[1].tolist() == list(range(9))


@pytest.mark.skipif(not REAL.is_dir(), reason="shared real data not present")
def test_real_s1_and_worldcover_samples(tmp_path):
    for split, season, aoi, n in (("train", "fall", 1, 457), ("test", "summer", 33, 1)):
        for modality in ("S1", "landcover"):
            target = patch_path(tmp_path / split, modality, season, aoi, n)
            target.parent.mkdir(parents=True)
            shutil.copy(REAL / target.name, target)
    test = M3mCr(tmp_path, "test")
    sample = test[0]
    assert sample.optical is None and sample.sar.shape == (2, 90, 90)
    assert -12.5 < sample.sar[0].mean() < -10 and sample.sar[1].mean() < sample.sar[0].mean()
    counts = np.bincount(sample.label.ravel(), minlength=256)
    assert counts[0] == 4726 and counts[1] == 637 + 2737  # forest; shrubland + grassland = rangeland
    train = M3mCr(tmp_path, "train")[0]
    counts = np.bincount(train.label.ravel(), minlength=256)
    assert (counts[0], counts[1], counts[2], counts[3], counts[4]) == (1756, 6, 6130, 147, 61)
