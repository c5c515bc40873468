"""Outputs as other tools see them: QGIS 3.22 loads the sidecar style, the CLI runs, reconstruction is written."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.runners import OnnxRunner
from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module
from tests.paths import REPO_ROOT

OPTIONS = ClassifyOptions(tile_size=64, overlap=16)

QGIS_SCRIPT = """
import json, os, sys
from qgis.core import QgsApplication, QgsRasterLayer
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
layer = QgsRasterLayer(sys.argv[1], "map")
renderer = layer.renderer()
print(json.dumps({"valid": layer.isValid(), "type": renderer.type(),
                  "classes": [[c.value, c.label, c.color.name()] for c in renderer.classes()]}))
sys.stdout.flush()
os._exit(0)
"""


def test_qgis_loads_the_sidecar_style_as_a_paletted_legend(scene, tiny_runner, tmp_path):
    probe = subprocess.run([sys.executable, "-c", "import qgis.core"], capture_output=True)
    if probe.returncode:
        pytest.skip("QGIS Python bindings are not installed")
    classify(*scene, tiny_runner, tmp_path / "map.tif", options=OPTIONS)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QGIS_CUSTOM_CONFIG_PATH": str(tmp_path / "profile")}
    result = subprocess.run(
        [sys.executable, "-c", QGIS_SCRIPT, str(tmp_path / "map.tif")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["valid"] and loaded["type"] == "paletted"
    assert loaded["classes"] == [[c.id, c.name, c.color.lower()] for c in tiny_runner.card.classes]


def test_cli_classify_writes_outputs_and_exits_with_error_codes(scene, tiny_onnx, tmp_path):
    optical, sar = scene
    base = [sys.executable, "-m", "landfuse.backend", "classify", "--optical", str(optical), "--sar", str(sar)]
    base += ["--model", str(tiny_onnx), "--tile-size", "64", "--quiet"]
    ok = subprocess.run(
        [*base, "--output", str(tmp_path / "map.tif"), "--report", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT.parent,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)
    assert Path(summary["outputs"]["class_map"]).is_file() and summary["device"] == "cpu"
    bad = subprocess.run(
        [*base, "--output", str(tmp_path / "bad.tif"), "--optical-bands", "1,2,7"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT.parent,
        timeout=120,
    )
    assert bad.returncode == 2 and "[BAD_BANDS]" in bad.stderr
    assert not (tmp_path / "bad.tif").exists()
    unnamed = subprocess.run(
        [*base, "--output", str(tmp_path / "bad.tif"), "--optical-bands", "B4,B3,NIR"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT.parent,
        timeout=120,
    )
    assert unnamed.returncode == 2 and "[BAD_BANDS]" in unnamed.stderr, unnamed.stderr


def test_reconstruction_is_written_in_physical_units(scene, tmp_path):
    from tests.backend.engine.independent import expected_outputs

    card = tiny_card(outputs=("logits", "reconstruction"))
    model = export_onnx(tiny_module(card), card, tmp_path / "recon.onnx")
    runner = OnnxRunner(model, "cpu")
    report = classify(*scene, runner, tmp_path / "map.tif", reconstruction=tmp_path / "clear.tif", options=OPTIONS)
    assert report["outputs"]["reconstruction"] == str(tmp_path / "clear.tif")
    with rasterio.open(tmp_path / "clear.tif") as clear, rasterio.open(tmp_path / "map.tif") as classes:
        values, labels = clear.read(), classes.read(1)
        assert clear.count == 3 and clear.dtypes[0] == "float32" and clear.descriptions == ("B4", "B3", "B8")
    expected = expected_outputs(model, card, *scene, tile=64, overlap=16)
    np.testing.assert_array_equal(np.isnan(values).all(axis=0), ~expected.valid)
    np.testing.assert_array_equal(labels == 255, ~expected.valid)
    # blended in the normalised space, then times the card's std (1000) plus its mean (1500)
    np.testing.assert_allclose(values[:, expected.valid], expected.reconstruction[:, expected.valid], atol=0.01)
    without = classify(*scene, runner, tmp_path / "only_classes.tif", options=OPTIONS)
    assert without["outputs"]["reconstruction"] is None
    assert without["classes"] == report["classes"]
