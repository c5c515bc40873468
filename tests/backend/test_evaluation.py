"""Scoring a class map raster against a reference raster, and a model over a dataset."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from torch import nn

from landfuse.backend.data import Sample
from landfuse.backend.errors import CancelledError, UnreadableInputError
from landfuse.backend.evaluation import classes_of_class_map, evaluate_model, evaluate_rasters
from landfuse.backend.runners import TorchRunner
from landfuse.common.card import BandSpec, ClassSpec, ModelCard
from tests.backend.data.tiffs import write_tif

PREDICTED = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 255, 1], [2, 2, 1, 1]], dtype=np.uint8)
CLASSES = [
    ClassSpec(0, "forest", "#006400"),
    ClassSpec(1, "rangeland", "#ffbb22"),
    ClassSpec(2, "agriculture", "#f096ff"),
]


def class_map(path):
    """A 4x4 class map at 10 m carrying its class table the way the engine writes it."""
    write_tif(path, PREDICTED, nodata=255)
    with rasterio.open(path, "r+") as dst:
        dst.update_tags(1, CLASS_NAMES=",".join(c.name for c in CLASSES))
        dst.write_colormap(1, {c.id: (*c.rgb, 255) for c in CLASSES})
    return path


def test_class_map_against_a_coarser_reference_by_hand(tmp_path):
    # Reference at 20 m: each value covers a 2x2 block of the class map.
    reference = write_tif(tmp_path / "reference.tif", np.array([[0, 1], [2, 0]], dtype=np.uint8), pixel=20.0)
    cloud = write_tif(tmp_path / "cloud.tif", np.array([[0, 1], [0, 1]], dtype=np.uint8), pixel=20.0)
    cmap = class_map(tmp_path / "map.tif")
    assert classes_of_class_map(cmap) == CLASSES
    m = evaluate_rasters(cmap, reference, cloud_mask=cloud, output=tmp_path / "m.json", plot=tmp_path / "cm.png")
    # Worked out: TL block 4x (0,0); TR 4x (1,1); BL 4x (2,2); BR (0, nodata) skipped and 3x (0,1).
    assert m["confusion_matrix"] == [[4, 3, 0], [0, 4, 0], [0, 0, 4]]
    assert m["oa"] == pytest.approx(12 / 15)
    assert [c["iou"] for c in m["per_class"]] == pytest.approx([4 / 7, 4 / 7, 1.0])
    assert m["clear"]["oa"] == 1.0 and m["cloudy"]["oa"] == pytest.approx(4 / 7)
    assert json.loads((tmp_path / "m.json").read_text())["miou"] == pytest.approx(m["miou"])
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"


def test_reference_in_source_codes_and_unknown_values(tmp_path):
    cmap = class_map(tmp_path / "map.tif")
    worldcover = write_tif(tmp_path / "wc.tif", np.array([[10, 20], [40, 10]], dtype=np.uint8), pixel=20.0)
    m = evaluate_rasters(cmap, worldcover, reference_codes="m3m_cr")
    assert m["confusion_matrix"] == [[4, 3, 0], [0, 4, 0], [0, 0, 4]]
    with pytest.raises(UnreadableInputError, match=r"values \[10, 20, 40\]"):
        evaluate_rasters(cmap, worldcover)


class Oracle(nn.Module):
    """Logits that peak at the class id stored in SAR band 1; reconstruction = optical + 0.01."""

    def forward(self, optical, sar):
        ids = torch.arange(3, dtype=torch.float32).view(1, 3, 1, 1)
        return {"logits": -((sar[:, :1] - ids) ** 2), "reconstruction": optical + 0.01}


def test_model_over_a_dataset_with_a_coarser_label_grid():
    card = ModelCard(
        architecture="oracle",
        variant="test",
        classes=tuple(CLASSES),
        tile_size=32,
        optical_bands=(BandSpec("B", "reflectance x 10000", 0.0, 10000.0, (0.0, 10000.0)),),
        sar_bands=(BandSpec("VV", "dB", 0.0, 1.0),),
        outputs=("logits", "reconstruction"),
    )
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(2):
        label = rng.integers(0, 3, (20, 20)).astype(np.uint8)
        label[0, 0] = 255
        sar = np.repeat(np.repeat(label, 2, 0), 2, 1)[None].astype(np.float32)  # 40x40 image, 20x20 label
        clear = rng.uniform(0, 9000, (1, 40, 40)).astype(np.float32)
        mask = np.zeros((40, 40), np.uint8)
        mask[:, :20] = 1
        samples.append(Sample("s", optical=clear, sar=sar, label=label, cloud_mask=mask, optical_clear=clear))
    m = evaluate_model(TorchRunner(Oracle(), card, "cpu"), samples)
    assert m["oa"] == 1.0 and m["pixels"] == 2 * 399
    assert m["cloudy"]["pixels"] == 2 * 199 and m["clear"]["pixels"] == 2 * 200  # label (0, 0) is nodata
    assert m["psnr"] == pytest.approx(40.0, abs=0.01)
    assert 0.9 < m["ssim"] < 1.0


def test_evaluate_command_on_rasters(tmp_path, capsys):
    from landfuse.backend.cli import main

    cmap = class_map(tmp_path / "map.tif")
    reference = write_tif(tmp_path / "reference.tif", np.array([[0, 1], [2, 0]], dtype=np.uint8), pixel=20.0)
    out = tmp_path / "metrics.json"
    code = main(
        [
            "evaluate",
            "--class-map",
            str(cmap),
            "--reference",
            str(reference),
            "--output",
            str(out),
            "--plot",
            str(tmp_path / "cm.png"),
        ]
    )
    assert code == 0 and json.loads(out.read_text())["oa"] == pytest.approx(0.8)
    assert "oa 0.8000" in capsys.readouterr().err
    assert main(["evaluate", "--reference", str(reference)]) == 2  # neither a class map nor a model


def nearest_on_class_map_grid(source: np.ndarray, pixel: float, origin: tuple[float, float], shape, nodata):
    """``source`` (pixel size ``pixel``, upper-left ``origin``) sampled at the centres of the 10 m class map
    grid at (600000, 5000000) by plain index arithmetic; 255 where nodata or outside."""
    rows = np.floor((origin[1] - (5000000.0 - (np.arange(shape[0]) + 0.5) * 10.0)) / pixel).astype(int)
    cols = np.floor(((600000.0 + (np.arange(shape[1]) + 0.5) * 10.0) - origin[0]) / pixel).astype(int)
    inside = ((rows >= 0) & (rows < source.shape[0]))[:, None] & ((cols >= 0) & (cols < source.shape[1]))[None, :]
    values = source[np.clip(rows, 0, source.shape[0] - 1)][:, np.clip(cols, 0, source.shape[1] - 1)]
    return np.where(inside & (values != nodata), values, 255)


def test_streamed_windows_match_an_independent_whole_array_count(tmp_path):
    rng = np.random.default_rng(3)
    shape = (50, 70)
    predicted = rng.integers(0, 3, shape).astype(np.uint8)
    predicted[rng.random(shape) < 0.05] = 255
    cmap = write_tif(tmp_path / "map.tif", predicted, nodata=255)
    with rasterio.open(cmap, "r+") as dst:
        dst.update_tags(1, CLASS_NAMES=",".join(c.name for c in CLASSES))
    # The reference: 30 m pixels, shifted, covering only part of the class map, with nodata 200.
    reference = rng.integers(0, 3, (15, 20)).astype(np.uint8)
    reference[rng.random(reference.shape) < 0.1] = 200
    origin = (600000.0 - 20.0, 5000000.0 + 10.0)
    ref_path = write_tif(tmp_path / "ref.tif", reference, pixel=30.0, origin=origin, nodata=200)
    clouds = (rng.random((15, 20)) < 0.4).astype(np.uint8)
    cloud_path = write_tif(tmp_path / "cloud.tif", clouds, pixel=30.0, origin=origin)

    truth = nearest_on_class_map_grid(reference, 30.0, origin, shape, nodata=200).astype(np.int64)
    cloudy = nearest_on_class_map_grid(clouds, 30.0, origin, shape, nodata=None) == 1
    valid = (truth < 3) & (predicted < 3)

    def count(where):
        cells = truth[valid & where] * 3 + predicted[valid & where]
        return np.bincount(cells, minlength=9).reshape(3, 3).tolist()

    windows = []
    streamed = evaluate_rasters(
        cmap, ref_path, cloud_mask=cloud_path, window_pixels=256, progress=lambda *w: windows.append(w)
    )
    assert len(windows) > 10 and windows[-1][0] == windows[-1][1] == len(windows)
    assert streamed["confusion_matrix"] == count(np.ones(shape, bool))
    assert streamed["cloudy"]["confusion_matrix"] == count(cloudy)
    assert streamed["clear"]["confusion_matrix"] == count(~cloudy)
    assert evaluate_rasters(cmap, ref_path, cloud_mask=cloud_path) == streamed  # one window: the same


def test_evaluation_stops_between_windows_when_cancelled(tmp_path):
    cmap = class_map(tmp_path / "map.tif")
    reference = write_tif(tmp_path / "reference.tif", np.array([[0, 1], [2, 0]], dtype=np.uint8), pixel=20.0)
    windows = []
    with pytest.raises(CancelledError):
        evaluate_rasters(
            cmap,
            reference,
            output=tmp_path / "m.json",
            window_pixels=4,
            progress=lambda done, total: windows.append((done, total)),
            is_cancelled=lambda: len(windows) == 2,
        )
    assert windows == [(1, 4), (2, 4)]
    assert not (tmp_path / "m.json").exists()
    for missing in ((tmp_path / "missing.tif", reference), (cmap, tmp_path / "missing.tif")):
        with pytest.raises(UnreadableInputError, match="missing.tif"):
            evaluate_rasters(*missing)


MEASURE_EVALUATION = """
import json, sys
from landfuse.backend.evaluation import evaluate_rasters


def kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


small, class_map, reference = sys.argv[1:4]
evaluate_rasters(small, small, cloud_mask=small)  # imports and first use
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak resident size starts again from the current one
before = kib("VmRSS")
metrics = evaluate_rasters(class_map, reference, cloud_mask=reference)
print(json.dumps({"growth_kib": kib("VmHWM") - before, "oa": metrics["oa"], "pixels": metrics["pixels"],
                  "cloudy_pixels": metrics["cloudy"]["pixels"]}))
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="measures peak memory with Linux's /proc")
def test_evaluating_a_large_raster_holds_bounded_memory(tmp_path):
    size = 8000  # 64 MB per uint8 raster; a whole-array read would hold both (and more as float32)
    class_map, reference = tmp_path / "map.tif", tmp_path / "reference.tif"
    clear = write_large_pair(class_map, reference, size)
    small = write_tif(tmp_path / "small.tif", np.array([[0, 1], [2, 0]], dtype=np.uint8))
    done = subprocess.run(
        [sys.executable, "-c", MEASURE_EVALUATION, str(small), str(class_map), str(reference)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["pixels"] == size * size and measured["oa"] == pytest.approx(0.5)
    assert measured["cloudy_pixels"] == size * size - clear  # the reference as a cloud mask: nonzero = cloud
    assert measured["growth_kib"] * 1024 < 64 * 2**20 / 2, measured


def write_large_pair(class_map: Path, reference: Path, size: int) -> int:
    """Compressed, tiled ``size`` x ``size`` uint8 rasters written band by band: class ids 0..8 in 50-pixel
    stripes, and a reference equal to them on half of the 100 x 100 blocks (a checkerboard) and off by
    one class on the other half, so overall accuracy is exactly 0.5. Returns the reference's zeros."""
    from affine import Affine
    from rasterio.windows import Window

    profile = dict(
        driver="GTiff", width=size, height=size, count=1, dtype="uint8", crs="EPSG:32633",
        transform=Affine(10.0, 0, 600000.0, 0, -10.0, 5000000.0), compress="packbits", tiled=True,
        blockxsize=512, blockysize=512,
    )  # fmt: skip
    zeros = 0
    stripes = (np.arange(size) // 50 % 9).astype(np.uint8)
    blocks = (np.arange(size) // 100 % 2).astype(np.uint8)
    with rasterio.open(class_map, "w", **profile) as labels_file, rasterio.open(reference, "w", **profile) as ref_file:
        for row in range(0, size, 512):
            rows = slice(row, row + 512)
            labels = (stripes[rows, None] + stripes[None, :]) % 9
            agree = (blocks[rows, None] ^ blocks[None, :]) == 0
            truth = np.where(agree, labels, (labels + 1) % 9).astype(np.uint8)
            window = Window(0, row, size, labels.shape[0])
            labels_file.write(labels, 1, window=window)
            ref_file.write(truth, 1, window=window)
            zeros += int(np.count_nonzero(truth == 0))
    return zeros
