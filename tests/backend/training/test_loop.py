"""Training loop on small real data: the loss falls, resume repeats a straight run, checkpoints carry the card."""

import json

import pytest
import torch

from landfuse.backend.data import SyntheticDataset
from landfuse.backend.runners import TorchRunner
from landfuse.backend.training import TrainConfig, load_checkpoint, train
from landfuse.common.card import ModelCard


@pytest.fixture(scope="module")
def scenes():
    return SyntheticDataset(6, size=64, seed=0), SyntheticDataset(1, size=64, seed=500)


def config(**changes):
    base = dict(
        architecture="pixel_fusion",
        epochs=4,
        batch_size=4,
        crop_size=32,
        crops_per_sample=4,
        lr=1e-2,
        device="cpu",
        seed=7,
    )
    return TrainConfig(**{**base, **changes})


def test_short_run_lowers_the_loss_and_beats_chance(pixel_fusion, scenes, tmp_path):
    result = train(config(), scenes[0], tmp_path, scenes[1], progress=False, log=lambda line: None)
    losses = [h["loss"]["total"] for h in result.history]
    assert losses[-1] < 0.8 * losses[0]
    assert result.history[-1]["val"]["miou"] > 1 / 9  # well above a constant guess
    assert set(result.history[0]["loss"]) == {"ce", "total"}


def test_resume_repeats_the_uninterrupted_run_and_checkpoint_carries_card(pixel_fusion, scenes, tmp_path):
    straight = train(config(epochs=3), scenes[0], tmp_path / "a", progress=False, log=lambda line: None)

    def interrupt_after_epoch_two(line):
        if json.loads(line)["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config(epochs=3), scenes[0], tmp_path / "b", progress=False, log=interrupt_after_epoch_two)
    assert load_checkpoint(tmp_path / "b" / "pixel_fusion-lite.pt")["epoch"] == 2
    resumed = train(
        config(epochs=3),
        scenes[0],
        tmp_path / "b",
        resume=tmp_path / "b" / "pixel_fusion-lite.pt",
        progress=False,
        log=lambda line: None,
    )
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    a, b = load_checkpoint(straight.checkpoint), load_checkpoint(resumed.checkpoint)
    for key, tensor in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][key], tensor)
    assert b["epoch"] == 3 and b["config"]["architecture"] == "pixel_fusion"
    card = ModelCard.from_dict(b["card"])
    assert card.name == "pixel_fusion-lite" and card.num_classes == 9
    assert json.dumps(b["history"])
    runner = TorchRunner.from_checkpoint(resumed.checkpoint, device="cpu")  # the engine's loader reads it
    assert runner.card == card


def test_cloudseg_lite_trains_teacher_then_student(scenes, tmp_path):
    cfg = TrainConfig("cloudseg", "lite", epochs=1, batch_size=2, crop_size=32, lr=1e-3, device="cpu")
    result = train(
        cfg,
        SyntheticDataset(2, size=32, seed=3),
        tmp_path,
        SyntheticDataset(1, size=32, seed=9),
        progress=False,
        log=lambda line: None,
    )
    assert result.teacher_checkpoint.name == "cloudseg-lite_teacher.pt"
    teacher, student = load_checkpoint(result.teacher_checkpoint), load_checkpoint(result.checkpoint)
    assert teacher["phase"] == "teacher" and ModelCard.from_dict(teacher["card"]).variant == "lite_teacher"
    assert student["phase"] == "student" and student["teacher_checkpoint"] == str(result.teacher_checkpoint)
    assert set(result.history[0]["loss"]) == {"ce", "cr", "kd", "total"}
    validation = ModelCard.from_dict(student["card"]).metrics["validation"]
    assert {"miou", "cloudy_miou", "clear_miou", "psnr", "ssim"} <= set(validation)


def test_interrupted_student_resumes_with_its_trained_teacher(tmp_path):
    cfg = TrainConfig("cloudseg", "lite", epochs=2, teacher_epochs=1, batch_size=2, crop_size=32, lr=1e-3, device="cpu")
    scenes = SyntheticDataset(2, size=32, seed=3)

    def interrupt_in_student(line):
        record = json.loads(line)
        if record["phase"] == "student" and record["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, scenes, tmp_path, progress=False, log=interrupt_in_student)
    teacher = tmp_path / "cloudseg-lite_teacher.pt"
    written = teacher.stat().st_mtime_ns
    result = train(cfg, scenes, tmp_path, resume=tmp_path / "cloudseg-lite.pt", progress=False, log=lambda line: None)
    assert teacher.stat().st_mtime_ns == written  # the teacher is loaded, not trained again
    assert [(h["phase"], h["epoch"]) for h in result.history] == [("student", 1), ("student", 2)]
    assert set(result.history[-1]["loss"]) == {"ce", "cr", "kd", "total"}
