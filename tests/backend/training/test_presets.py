"""``train --preset``: each paper's protocol and schedule, option precedence, and runs with the new options."""

import json

import numpy as np
import pytest
import torch

from landfuse.backend.cli import main
from landfuse.backend.data import Sample
from landfuse.backend.errors import BadParamsError
from landfuse.backend.models.registry import build_model, default_card
from landfuse.backend.training import TrainConfig, load_checkpoint
from landfuse.backend.training.batches import centre_crop_sample, to_tensors
from landfuse.backend.training.recipes import PRESETS, training_settings
from landfuse.backend.training.schedules import lr_factor, make_optimiser, parameter_groups, set_rates
from tests.backend.models.mit_layouts import random_tensors, segformer_layout


def _config(preset: str, **given) -> TrainConfig:
    return TrainConfig(**training_settings(preset, None, given))


def _rates_per_epoch(config: TrainConfig, per_epoch: int = 4) -> list[float]:
    settings = config.optimiser_settings()
    total = per_epoch * config.epochs
    return [settings.lr * lr_factor(settings.schedule, e * per_epoch, per_epoch, total) for e in range(config.epochs)]


@pytest.mark.parametrize("preset", ["cloudseg-official", "edc-paper"])
def test_cloudseg_protocol_adam_1e4_halved_from_epoch_10_for_30_epochs(preset):
    config = _config(preset)
    assert (config.architecture, config.variant) == (PRESETS[preset].architecture, "paper")
    assert (config.batch_size, config.crop_size, config.flips) == (32, 160, False)
    assert (config.validate_every, config.val_crop, config.distill) == (2, 160, True)
    settings = config.optimiser_settings()
    assert (settings.optimiser, settings.lr, settings.weight_decay, settings.schedule) == ("adam", 1e-4, 0.0, "step")
    rates = _rates_per_epoch(config)
    assert len(rates) == 30 and rates[:10] == [1e-4] * 10
    assert rates[10:15] == [5e-5] * 5 and rates[15] == 2.5e-5 and rates[20] == 1.25e-5 and rates[29] == 6.25e-6


def test_edc_paper_carrier_windows_divide_its_160_px_tile():
    card = default_card("edc", "paper")
    with torch.device("meta"):
        stage = build_model(card).optical_encoder.stages[2]
    assert card.tile_size == _config("edc-paper").crop_size == 160
    assert (160 // 16) % stage.window_size == 0  # the stage-3 map needs no padding


@pytest.mark.parametrize("preset", ["claire-paper", "specsar_former-paper"])
def test_segformer_recipe_poly_schedule_with_a_10x_head_and_no_decay_on_norms(preset):
    config = _config(preset)
    settings = config.optimiser_settings()
    assert (settings.optimiser, settings.lr, settings.weight_decay, settings.schedule) == ("adamw", 6e-5, 0.01, "poly")
    assert (config.batch_size, config.crop_size, config.flips) == (16, 512, True)
    with torch.device("meta"):
        model = build_model(default_card(config.architecture, config.variant))
    optimiser = make_optimiser(parameter_groups(model, settings), settings)
    total = 160_000
    for iteration, factor in ((0, 1 / 1500), (1499, 1.0 - 1499 / total), (80_000, 0.5), (159_999, 1 / total)):
        assert lr_factor("poly", iteration, 1000, total) == pytest.approx(factor, rel=1e-6)
    set_rates(optimiser, 6e-5)
    names = {id(p): n for n, p in model.named_parameters()}
    for group in optimiser.param_groups:
        group_names = [names[id(p)] for p in group["params"]]
        head = all(n.startswith("decoder.") for n in group_names)
        assert group["lr"] == pytest.approx(6e-4 if head else 6e-5)
        assert group["weight_decay"] == (0.0 if all("norm" in n for n in group_names) else 0.01)
    assert {g["lr_mult"] for g in optimiser.param_groups} == {1.0, 10.0}


def test_options_given_win_over_the_preset_which_wins_over_the_defaults():
    settings = training_settings("cloudseg-official", "cloudseg", {"variant": "lite", "batch_size": 4, "lr": None})
    assert (settings["variant"], settings["batch_size"], settings["lr"], settings["flips"]) == ("lite", 4, 1e-4, False)
    assert training_settings(None, "claire", {})["crop_size"] == 128 and training_settings(None, "claire", {})["flips"]
    with pytest.raises(BadParamsError, match="preset cloudseg-official trains cloudseg, not edc"):
        training_settings("cloudseg-official", "edc", {})
    with pytest.raises(BadParamsError, match="give --model"):
        training_settings(None, None, {})


def test_validation_centre_crop_is_the_official_one():
    """M3M-CR: 300 px optical, 90 px label; the official ValDataset takes rows 70..229 (label 21..68)."""
    optical = np.broadcast_to(np.arange(300, dtype=np.float32)[:, None], (4, 300, 300)).copy()
    label = np.broadcast_to(np.arange(90, dtype=np.uint8)[:, None], (90, 90)).copy()
    sar = np.zeros((2, 300, 300), np.float32)
    crop = centre_crop_sample(Sample("s", optical=optical, sar=sar, label=label), 160)
    assert crop.optical.shape == (4, 160, 160) and crop.optical[0, 0, 0] == 70 and crop.optical[0, -1, 0] == 229
    assert crop.label.shape == (48, 48) and crop.label[0, 0] == 21
    item = to_tensors(crop, default_card("cloudseg", "paper"))
    assert float(item["has_cloud_mask"]) == 0.0


TRAIN = "train --epochs 1 --batch-size 2 --crop-size 32 --synthetic-count 2 --synthetic-size 32 --device cpu --quiet"


def _train(tmp_path, capsys, *options: str) -> tuple[dict, str]:
    assert main([*TRAIN.split(), *options, "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1])
    return load_checkpoint(summary["checkpoint"]), err


def test_preset_run_with_imagenet_encoders(tmp_path, capsys):
    """The official protocol on a lite CloudSeg, its MiT streams started from a SegFormer-layout file."""
    lite = default_card("cloudseg", "lite")
    weights = tmp_path / "mit_lite.pth"
    torch.save(random_tensors(segformer_layout((16, 32, 64, 128), (1, 1, 2, 1))), weights)
    checkpoint, log = _train(
        tmp_path,
        capsys,
        *("--preset", "cloudseg-official", "--variant", "lite", "--no-distill", "--val-crop", "32"),
        *("--init-encoder", str(weights)),
    )
    config = checkpoint["config"]
    assert (config["preset"], config["optimiser"], config["lr"]) == ("cloudseg-official", "adam", 1e-4)
    assert not config["flips"]
    assert (config["validate_every"], config["val_crop"], config["init_encoder"]) == (2, 32, str(weights))
    bands = len(lite.optical_bands)
    assert "model: mit_lite.pth (segformer layout)" in log
    assert f"optical_stream.encoder: 120 entries loaded; first convolution widened from 3 to {bands} bands" in log
    assert "cross_stream.encoder: 120 entries loaded\n" in log and "head.weight" in log
    assert checkpoint["history"][-1]["val"]["miou"] is not None  # the only epoch is always validated


def test_class_weights_from_the_dataset_weight_the_rift_loss(tmp_path, capsys):
    checkpoint, log = _train(tmp_path, capsys, "--model", "claire", "--class-weights", "dataset")
    weights = json.loads(log.split("labelled pixels): ")[1].splitlines()[0].replace("(", "[").replace(")", "]"))
    assert len(weights) == 9 and max(weights) > 1.0 and checkpoint["config"]["class_weights"] == "dataset"
    assert main([*TRAIN.split(), "--model", "edc", "--class-weights", "1,2", "--out", str(tmp_path)]) == 2
    assert "--class-weights weight the RIFT (claire) and focal (specsar_former) losses" in capsys.readouterr().err


def test_edc_student_learns_its_discrepancy_from_the_cloud_mask(tmp_path, capsys):
    checkpoint, _ = _train(tmp_path, capsys, "--model", "edc", "--no-distill")
    loss = checkpoint["history"][-1]["loss"]
    assert loss["discrepancy"] > 0 and {"ce", "cr", "discrepancy", "total"} <= set(loss)
