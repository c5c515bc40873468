"""Generic optical/SAR/label folders and the public layouts built on them (WHU-OPT-SAR, PIE-RGB-SAR, OEM-SAR)."""

import numpy as np
import pytest

from landfuse.backend.data import FolderDataset, OpenEarthMapSar, PieRgbSar, WhuOptSar, open_dataset
from landfuse.backend.errors import UnreadableInputError
from tests.backend.data.tiffs import write_tif
from tests.paths import SHARED_DATA

RNG = np.random.default_rng(0)


def test_generic_layout_aligns_a_coarser_sar_onto_the_optical_grid(tmp_path):
    optical = RNG.integers(0, 10000, (3, 8, 8)).astype(np.uint16)
    sar = np.arange(16, dtype=np.float32).reshape(1, 4, 4)  # 20 m pixels over the same footprint
    label = np.array([[1, 2] * 4] * 8, dtype=np.uint8)
    for name in ("a", "b"):
        write_tif(tmp_path / "optical" / f"{name}.tif", optical)
        write_tif(tmp_path / "sar" / f"{name}.tif", sar, pixel=20.0)
        write_tif(tmp_path / "label" / f"{name}.tif", label)
    write_tif(tmp_path / "cloud_mask" / "a.tif", np.eye(8, dtype=np.uint8))
    (tmp_path / "val.txt").write_text("b.tif\n")
    data = FolderDataset(tmp_path, code_map={1: 0, 2: 1})
    assert data.names == ["a", "b"]
    sample = data[0]
    assert sample.optical.shape == (3, 8, 8) and sample.optical.dtype == np.float32
    np.testing.assert_array_equal(sample.optical, optical)
    assert sample.sar.shape == (1, 8, 8)
    assert sample.sar[0, 0, 0] == pytest.approx(0.0) and sample.sar[0, 7, 7] == pytest.approx(15.0)
    np.testing.assert_array_equal(sample.label, label - 1)
    np.testing.assert_array_equal(sample.cloud_mask, np.eye(8))
    assert data[1].cloud_mask is None
    assert open_dataset("folders", tmp_path, split="val", code_map={1: 0, 2: 1}).names == ["b"]


def test_missing_label_folder_says_what_layout_is_expected(tmp_path):
    with pytest.raises(UnreadableInputError, match="optical, sar, label"):
        FolderDataset(tmp_path)


def test_whu_opt_sar_divides_codes_by_ten_and_drops_background(tmp_path):
    codes = np.array([[0, 10, 20, 30], [40, 50, 60, 70]], dtype=np.uint8)
    for name in ("NH49E001013", "NH49E004021"):
        write_tif(tmp_path / "optical" / f"{name}.tif", RNG.integers(0, 255, (4, 2, 4)).astype(np.uint8))
        write_tif(tmp_path / "sar" / f"{name}.tif", RNG.integers(0, 255, (1, 2, 4)).astype(np.uint8))
        write_tif(tmp_path / "lbl" / f"{name}.tif", codes)
    (tmp_path / "test_list.txt").write_text("NH49E004021.tif\n")
    data = WhuOptSar(tmp_path, split="test")
    assert data.names == ["NH49E004021"] and len(data.classes) == 7
    sample = data[0]
    assert sample.optical.shape == (4, 2, 4) and sample.sar.shape == (1, 2, 4)
    assert sample.label.tolist() == [[255, 0, 1, 2], [3, 4, 5, 6]]
    write_tif(tmp_path / "lbl" / "NH49E004021.tif", codes // 10)  # tiles already divided by 10
    assert data[0].label.tolist() == [[255, 0, 1, 2], [3, 4, 5, 6]]


def test_pie_rgb_sar_keeps_background_and_one_sar_channel(tmp_path):
    write_tif(tmp_path / "rgb" / "tile_1.tif", RNG.integers(0, 255, (3, 4, 4)).astype(np.uint8))
    write_tif(tmp_path / "sar" / "tile_1.tif", np.repeat(RNG.integers(0, 255, (1, 4, 4)), 3, 0).astype(np.uint8))
    write_tif(tmp_path / "label" / "tile_1.tif", np.array([[0, 1, 2, 3], [4, 5, 0, 1]] * 2, dtype=np.uint8))
    (tmp_path / "train.txt").write_text("tile_1\n")
    sample = PieRgbSar(tmp_path, split="train")[0]
    assert sample.sar.shape == (1, 4, 4)
    assert sample.label[0].tolist() == [0, 1, 2, 3]


def test_openearthmap_sar_split_folders_and_void(tmp_path):
    root = tmp_path / "train"
    write_tif(root / "rgb_images" / "aachen_1.tif", RNG.integers(0, 255, (3, 2, 5)).astype(np.uint8))
    write_tif(root / "sar_images" / "aachen_1.tif", RNG.integers(0, 255, (1, 2, 5)).astype(np.uint8))
    write_tif(root / "labels" / "aachen_1.tif", np.array([[0, 1, 2, 3, 4], [5, 6, 7, 8, 0]], dtype=np.uint8))
    sample = OpenEarthMapSar(tmp_path, split="train")[0]
    assert sample.label.tolist() == [[255, 0, 1, 2, 3], [4, 5, 6, 7, 255]]
    assert sample.optical.shape == (3, 2, 5)


SEN1FLOODS11 = SHARED_DATA / "sen1floods11"


@pytest.mark.skipif(not SEN1FLOODS11.is_dir(), reason="shared real data not present")
def test_real_sen1floods11_chip_through_the_generic_reader():
    data = FolderDataset(
        SEN1FLOODS11,
        scheme="sen1floods11",
        label_codes="sen1floods11",
        folders={"optical": ".", "sar": ".", "label": "."},
        suffixes={"optical": "_S2Hand", "sar": "_S1Hand", "label": "_LabelHand"},
    )
    assert data.names == ["Spain_7370579"]
    sample = data[0]
    assert sample.optical.shape == (13, 512, 512) and sample.sar.shape == (2, 512, 512)
    counts = np.bincount(sample.label.ravel(), minlength=256)
    assert (counts[0], counts[1], counts[255]) == (192010, 70035, 99)
    # Water is darker in VH than dry land, as the event's -25 dB threshold says.
    assert sample.sar[1][sample.label == 1].mean() < sample.sar[1][sample.label == 0].mean() - 3


def test_large_scenes_are_read_as_edge_aligned_tiles(tmp_path):
    codes = (np.arange(48).reshape(6, 8) % 8 * 10).astype(np.uint8)
    optical = np.arange(4 * 48, dtype=np.uint16).reshape(4, 6, 8)
    write_tif(tmp_path / "optical" / "NH49E001013.tif", optical)
    write_tif(tmp_path / "sar" / "NH49E001013.tif", np.ones((1, 6, 8), np.uint8))
    write_tif(tmp_path / "lbl" / "NH49E001013.tif", codes)
    data = WhuOptSar(tmp_path, tile_size=4)
    assert data.names == [f"NH49E001013_{i:03d}" for i in range(4)]
    last = data[3]  # rows 2..5, cols 4..7: the last window shifted inward
    np.testing.assert_array_equal(last.optical, optical[:, 2:6, 4:8])
    assert last.label.shape == (4, 4) and last.label[0, 0] == (codes[2, 4] // 10) - 1
    write_tif(tmp_path / "sar" / "NH49E001013.tif", np.ones((1, 3, 4), np.uint8), pixel=20.0)
    with pytest.raises(UnreadableInputError, match="one grid"):
        WhuOptSar(tmp_path, tile_size=4)
