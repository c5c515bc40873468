"""The synthetic cloudy scene generator and its dataset."""

import numpy as np

from landfuse.backend.data import FolderDataset, SyntheticDataset, generate_scene
from landfuse.backend.data.synthetic import BUILT, WATER, write_scene


def test_same_seed_same_scene_and_any_size():
    a, b = generate_scene(64, 96, seed=3), generate_scene(64, 96, seed=3)
    assert a.optical.shape == (9, 64, 96) and a.sar.shape == (2, 64, 96) and a.label.shape == (64, 96)
    for name in ("optical", "sar", "label", "cloud_mask", "optical_clear"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.label, generate_scene(64, 96, seed=4).label)


def test_clouds_cover_the_asked_fraction_and_leave_clear_pixels_alone():
    for seed in range(3):
        scene = generate_scene(128, seed=seed, cloud_cover=0.4)
        cloud_share = scene.cloud_mask.mean()
        assert 0.3 < cloud_share < 0.6  # clouds (~40 %) plus their shadows
        clear = scene.cloud_mask == 0
        np.testing.assert_array_equal(scene.optical[:, clear], scene.optical_clear[:, clear])
        cloudy = ~clear
        assert scene.optical[:3, cloudy].mean() > scene.optical_clear[:3, cloudy].mean() + 1000  # bright in visible
    free = generate_scene(64, seed=1, cloud_cover=0.0)
    assert free.cloud_mask.sum() == 0 and np.array_equal(free.optical, free.optical_clear)


def test_classes_have_their_physical_signatures():
    scene = generate_scene(256, seed=9, cloud_cover=0.0)
    labels = scene.label
    assert len(np.unique(labels)) >= 6
    assert scene.optical.min() >= 0 and scene.optical.max() <= 12000
    water, built = labels == WATER, labels == BUILT
    assert water.any() and built.any()
    # Water: dark in NIR and SWIR, dark in SAR; built areas bright in SAR.
    assert scene.optical[6][water].mean() < 600 < scene.optical[6][~water].mean()
    assert scene.sar[0][water].mean() < -18 and scene.sar[0][built].mean() > -6
    # Speckle: neighbouring pixels of one class differ by about 5 dB (a few looks).
    assert 2 < np.abs(np.diff(scene.sar[0], axis=1))[built[:, 1:] & built[:, :-1]].mean() < 8


def test_dataset_and_geotiff_round_trip(tmp_path):
    data = SyntheticDataset(count=2, size=32, seed=5)
    assert len(data) == 2 and data.names == ["synthetic-5", "synthetic-6"]
    assert data[1] is data[1]  # cached
    write_scene(data[0], tmp_path)
    back = FolderDataset(tmp_path)[0]
    np.testing.assert_array_equal(back.label, data[0].label)
    np.testing.assert_array_equal(back.optical, data[0].optical)
    np.testing.assert_array_equal(back.cloud_mask, data[0].cloud_mask)
    np.testing.assert_allclose(back.sar, data[0].sar)


def test_synth_command_writes_the_generic_layout(tmp_path):
    from landfuse.backend.cli import main

    assert main(["synth", "--out", str(tmp_path), "--count", "2", "--size", "48", "--cloud-cover", "0.5"]) == 0
    data = FolderDataset(tmp_path)
    assert data.names == ["synthetic-0", "synthetic-1"]
    sample = data[1]
    assert sample.optical.shape == (9, 48, 48) and sample.cloud_mask.mean() > 0.4
    np.testing.assert_array_equal(sample.label, generate_scene(48, seed=1, cloud_cover=0.5).label)
