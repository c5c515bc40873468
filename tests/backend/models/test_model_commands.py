"""The ``models`` and ``export`` commands and the MAC counter."""

import json

import pytest
import torch
from torch import nn

from landfuse.backend.cli import main
from landfuse.backend.models.export import onnx_parity, read_card
from landfuse.backend.models.profiling import count_macs
from landfuse.backend.models.quantize import precision_of
from landfuse.backend.models.registry import build_model, default_card


def test_mac_counter_counts_convolutions_linears_and_matrix_products():
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 4, 3, padding=1)
            self.linear = nn.Linear(4, 3)

        def forward(self, x):
            tokens = self.conv(x).flatten(2).transpose(1, 2)  # [1, 64, 4]
            attn = tokens @ tokens.transpose(1, 2)  # [1, 64, 64]: 64 * 64 * 4 MACs
            return self.linear(tokens), attn

    report = count_macs(Tiny(), (torch.randn(1, 2, 8, 8),))
    conv, linear, matmul = 64 * 4 * 2 * 9, 64 * 3 * 4, 64 * 64 * 4
    assert report.total == conv + linear + matmul
    assert report.attention == matmul
    assert report.per_component == {"conv": conv, "linear": linear, "(top)": matmul}


def test_models_lists_every_registered_model(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "cloudseg" in out and "edc" in out and "lite_teacher" in out


def test_models_prints_parameters_and_macs_of_cloudseg_paper(capsys):
    assert main(["models", "cloudseg", "--variant", "paper", "--size", "64", "96", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert abs(report["parameters"] - 203.2e6) / 203.2e6 < 0.005
    components = {c["name"]: c for c in report["components"]}
    assert components["fuse_blocks"]["parameters"] == 10_831_760
    assert report["macs"] == sum(c["macs"] for c in report["components"]) > 0
    assert "attention included" in report["mac_convention"]


def test_models_rejects_sizes_that_are_not_multiples_of_32(capsys):
    assert main(["models", "edc", "--size", "100", "96"]) == 2
    assert "multiples of 32" in capsys.readouterr().err


def test_export_turns_a_checkpoint_into_onnx_with_its_card(tmp_path, capsys):
    card = default_card("mit_unet", "lite")
    model = build_model(card)
    checkpoint = tmp_path / "mit_unet-lite.pt"
    torch.save({"card": card.to_dict(), "state_dict": model.state_dict()}, checkpoint)
    output = tmp_path / "out" / "mit_unet-lite.onnx"
    assert main(["export", str(checkpoint), str(output), "--check"]) == 0
    assert "max |onnx - torch|" in capsys.readouterr().out
    stored = read_card(output)
    assert stored.name == "mit_unet-lite" and stored.parameters == sum(p.numel() for p in model.parameters())
    assert onnx_parity(model, card, output)["logits"] <= 1e-4


def test_export_without_output_path_is_a_clear_error(capsys):
    assert main(["export", "only-one.pt"]) == 2
    assert "CHECKPOINT OUTPUT" in capsys.readouterr().err


@pytest.mark.parametrize("opset", ["16"])
def test_export_refuses_old_opsets(tmp_path, opset, capsys):
    assert main(["export", "--model", "mit_unet", str(tmp_path / "x.onnx"), "--opset", opset]) == 2
    assert "17" in capsys.readouterr().err


def test_export_with_a_precision_writes_the_float_model_and_its_checked_copy(tmp_path, capsys):
    output = tmp_path / "mit_unet-lite.onnx"
    small = ["--windows", "1", "--window-size", "64", "--check-windows", "1"]
    assert main(["export", "--model", "mit_unet", str(output), "--precision", "int8", *small]) == 0
    copy = tmp_path / "mit_unet-lite.int8.onnx"
    assert output.is_file() and copy.is_file()
    assert precision_of(read_card(output)) == "float32"
    precision = read_card(copy).metrics["precision"]
    assert precision["precision"] == "int8" and precision["calibration"]["windows"] == 1
    assert precision["check"]["pixels"] == 64 * 64 and 0.0 <= precision["check"]["agreement"] <= 1.0
    out = capsys.readouterr().out
    assert f"wrote {output}" in out and f"wrote {copy}" in out and "class maps agree with the float model" in out


def test_export_checks_the_calibration_options_before_exporting(tmp_path, capsys):
    output = tmp_path / "x.onnx"
    args = ["export", "--model", "mit_unet", str(output), "--precision", "int8", "--calibration", "a.tif"]
    assert main(args) == 2
    assert "two rasters OPTICAL SAR" in capsys.readouterr().err and not output.exists()
