"""Scoring a class map raster against a reference raster, and a model over a dataset."""

import json

import numpy as np
import pytest
import rasterio
import torch
from torch import nn

from landfuse.backend.data import Sample
from landfuse.backend.errors import UnreadableInputError
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
