"""``landfuse train`` then ``landfuse evaluate --model`` on the synthetic benchmark, in process."""

import json

from landfuse.backend.cli import main
from landfuse.backend.training import load_checkpoint
from landfuse.common.card import ModelCard

TRAIN = "train --model pixel_fusion --epochs 1 --batch-size 2 --crop-size 32 --synthetic-count 2 --synthetic-size 32"
EVALUATE = "evaluate --synthetic-count 1 --synthetic-size 32 --device cpu --quiet"


def test_train_then_evaluate_a_checkpoint(pixel_fusion, tmp_path, capsys):
    assert main([*TRAIN.split(), "--lr", "1e-3", "--device", "cpu", "--out", str(tmp_path), "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    checkpoint = load_checkpoint(summary["checkpoint"])
    assert ModelCard.from_dict(checkpoint["card"]).name == "pixel_fusion-lite" and checkpoint["phase"] == "model"
    assert summary["last_epoch"]["val"]["miou"] is not None
    out = tmp_path / "metrics.json"
    assert main([*EVALUATE.split(), "--model", summary["checkpoint"], "--output", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["pixels"] == 32 * 32 and {"clear", "cloudy"} <= set(metrics)
