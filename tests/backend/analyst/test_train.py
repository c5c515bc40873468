"""Training from reference features: the card fitted to the data, a feature-level holdout, an ONNX model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
import torch

from landfuse.backend.analyst.refine import Refined
from landfuse.backend.analyst.train import (
    TrainOptions,
    labelled_pixels,
    load_training_data,
    train_from_references,
)
from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.errors import BadParamsError
from landfuse.backend.runners import read_model_card
from tests.backend.analyst.helpers import box, point, water_scene, write_features

CLASSES = [
    {"value": "land", "name": "Dry land", "color": "#D9D9D9"},
    {"value": "water", "name": "Water", "color": "#1F78B4"},
]
# Boxes inside the ponds of water_scene (centres (20, 20), (60, 30), (30, 70), (75, 75)) and on land.
WATER = [box(16, 16, 24, 24), box(55, 25, 65, 35), box(26, 66, 34, 74), box(72, 72, 78, 78)]
LAND = [box(2, 40, 10, 60), box(40, 5, 48, 15), box(85, 5, 93, 40), box(50, 50, 60, 62), box(5, 85, 15, 93)]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    optical, sar, truth = water_scene(folder)
    features = [(g, "water") for g in WATER] + [(g, "land") for g in LAND]
    return {
        "folder": folder,
        "optical": str(optical),
        "sar": str(sar),
        "truth": truth,
        "references": str(write_features(folder / "refs.geojson", features)),
    }


def test_the_card_gets_band_names_statistics_classes_and_colours_from_the_data(scene):
    data = load_training_data(
        scene["optical"], scene["sar"], scene["references"], TrainOptions(window=32), classes=CLASSES
    )
    card = data.card
    assert [b.name for b in card.optical_bands] == ["B2", "B3", "B4", "B8"]
    assert [b.name for b in card.sar_bands] == ["VV", "VH"] and card.sar_bands[0].unit == "dB"
    assert [(c.name, c.color) for c in card.classes] == [("Dry land", "#d9d9d9"), ("Water", "#1f78b4")]
    nir = card.optical_bands[3]
    assert 200 < nir.mean < 3000 and nir.clip[0] < nir.mean < nir.clip[1]  # between the water and land levels
    assert card.gsd_m == 10.0 and "reference polygons" in card.training_data
    # 4 water + 5 land features: one of each class held out, whole
    assert data.train_features.tolist() == [4, 3] and data.validation_features.tolist() == [1, 1]
    for sample in data.train:
        assert set(np.unique(sample.label)) <= {0, 1, 255} and sample.optical.shape[1:] == (48, 48)


def test_a_single_class_or_a_bad_window_is_refused(scene):
    one = write_features(scene["folder"] / "one.geojson", [(g, "water") for g in WATER])
    with pytest.raises(BadParamsError, match="at least two classes"):
        load_training_data(scene["optical"], scene["sar"], str(one), TrainOptions())
    with pytest.raises(BadParamsError, match="multiple of 32"):
        load_training_data(scene["optical"], scene["sar"], scene["references"], TrainOptions(window=48))


def test_a_short_run_exports_a_model_that_maps_the_water(scene):
    folder = scene["folder"]
    report = train_from_references(
        scene["optical"],
        scene["sar"],
        scene["references"],
        folder / "ponds.onnx",
        classes=CLASSES,
        options=TrainOptions(epochs=4, window=32, device="cpu", threads=1),
        report=folder / "training.json",
        plot=folder / "curves.png",
    )
    assert report["epochs"] == 4 and report["budget"]["stopped_by"] == "epochs"
    assert json.loads((folder / "training.json").read_text())["iterations"] == report["iterations"]
    assert (folder / "curves.png").read_bytes()[:4] == b"\x89PNG"
    card = read_model_card(folder / "ponds.onnx")
    assert card.metrics["validation_on_held_out_features"]["epoch"] == report["exported_epoch"] == report["epochs"]
    assert report["keep"] == "last" and report["refined"] and "refined at full resolution" in card.description
    assert [c["name"] for c in report["classes"]] == ["Dry land", "Water"]
    assert all(c["validation_accuracy"] is not None for c in report["classes"])
    classify(
        scene["optical"], scene["sar"], folder / "ponds.onnx", folder / "map.tif", options=ClassifyOptions(device="cpu")
    )
    with rasterio.open(folder / "map.tif") as src:
        mapped = src.read(1)
    water, truth = mapped == 1, scene["truth"] == 1
    assert (water & truth).sum() / (water | truth).sum() > 0.5  # clearly above the 0.17 of mapping all as water


def test_points_and_a_mask_limit_what_is_learnt(scene):
    folder = scene["folder"]
    points = [(point(20, 20), "water"), (point(60, 30), "water"), (point(5, 50), "land"), (point(45, 10), "land")]
    path = write_features(folder / "points.geojson", points)
    mask = write_features(folder / "mask.geojson", [(box(0, 0, 40, 96), None)])  # rows 0-39 only
    data = load_training_data(
        scene["optical"], scene["sar"], str(path), TrainOptions(window=32, holdout=0.0, point_radius=1), mask=str(mask)
    )
    assert data.kind == "points" and data.train_features.tolist() == [1, 1] and data.outside_area == 2
    labelled = sum(int((s.label != 255).sum()) for s in data.train)
    assert labelled == 2 * 9  # two 3 x 3 squares, each in its own window


def test_labelled_pixels_count_each_class_and_skip_the_unlabelled(scene):
    data = load_training_data(scene["optical"], scene["sar"], scene["references"], TrainOptions(window=32))
    counts = labelled_pixels(data.train, 2)
    every = np.concatenate([s.label.ravel() for s in data.train])
    assert counts.tolist() == [int((every == 0).sum()), int((every == 1).sum())] and counts.min() > 0


def test_keep_best_exports_the_epoch_of_the_best_validation(scene):
    folder = scene["folder"]
    report = train_from_references(
        scene["optical"],
        scene["sar"],
        scene["references"],
        folder / "best.onnx",
        classes=CLASSES,
        options=TrainOptions(epochs=3, window=32, device="cpu", threads=1, keep="best"),
    )
    best = max(report["history"], key=lambda record: record["validation"]["miou"])["validation"]["miou"]
    validation = read_model_card(folder / "best.onnx").metrics["validation_on_held_out_features"]
    assert validation["epoch"] == report["exported_epoch"] == report["best_epoch"]
    assert validation["miou"] == pytest.approx(best)
    with pytest.raises(BadParamsError, match="keep must be one of last, best"):
        train_from_references(
            scene["optical"],
            scene["sar"],
            scene["references"],
            folder / "never.onnx",
            options=TrainOptions(epochs=1, window=32, device="cpu", keep="first"),
        )


def test_the_refinement_starts_from_the_model_logits_and_passes_other_outputs_through():
    class Constant(torch.nn.Module):
        def forward(self, optical, sar):
            logits = torch.arange(2.0).view(1, 2, 1, 1).expand(optical.shape[0], 2, *optical.shape[2:])
            return {"logits": logits, "reconstruction": optical}

    refined = Refined(Constant(), channels=3, classes=2)
    optical, sar = torch.randn(2, 2, 8, 8), torch.randn(2, 1, 8, 8)
    outputs = refined(optical, sar)
    assert torch.equal(outputs["logits"], Constant()(optical, sar)["logits"])  # the last convolution starts at 0
    assert outputs["reconstruction"] is optical
    torch.nn.init.ones_(refined.refine[2].bias)
    assert torch.allclose(refined(optical, sar)["logits"] - 1.0, Constant()(optical, sar)["logits"])


def test_the_command_line_passes_keep_and_refinement(scene, capsys):
    from landfuse.backend.cli import main

    folder = scene["folder"]
    args = ["train-reference", "--optical", scene["optical"], "--sar", scene["sar"], "--references"]
    args += [scene["references"], "--out", str(folder / "cli.onnx"), "--report", str(folder / "cli.json")]
    args += ["--epochs", "1", "--window", "32", "--device", "cpu", "--threads", "1", "--keep", "best", "--no-refine"]
    assert main(args) == 0
    report = json.loads((folder / "cli.json").read_text())
    assert report["keep"] == "best" and report["refined"] is False
    assert "refined at full resolution" not in read_model_card(folder / "cli.onnx").description
