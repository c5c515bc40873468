"""``landfuse:batch`` through Processing: the real backend batch command on a local Ray instance, progress, Cancel."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import processing
import pytest
from qgis.core import QgsFeature, QgsProcessingException, QgsProcessingFeedback, QgsRasterLayer, QgsVectorLayer

from landfuse.plugin.algorithms.batch import write_scene_table
from landfuse.plugin.styling import legend_labels
from tests.plugin.helpers import tiny_card, write_scene, write_tiny_model


class RecordingFeedback(QgsProcessingFeedback):
    """Keeps the progress, texts and errors the algorithm reports; cancels once ``cancel_when`` holds for a text."""

    def __init__(self, cancel_when=None):
        super().__init__()
        self.progress, self.texts, self.errors, self.warnings = [], [], [], []
        self.cancel_when = cancel_when

    def setProgress(self, progress):  # noqa: N802 (QGIS's name)
        self.progress.append(progress)
        super().setProgress(progress)

    def setProgressText(self, text):  # noqa: N802 (QGIS's name)
        self.texts.append(text)
        if self.cancel_when is not None and self.cancel_when(text):
            self.cancel()

    def reportError(self, error, fatalError=False):  # noqa: N802, N803 (QGIS's names)
        self.errors.append(error)

    def pushWarning(self, warning):  # noqa: N802 (QGIS's name)
        self.warnings.append(warning)


def footprints(rows: list[tuple], fields=("name", "optical", "sar")) -> QgsVectorLayer:
    uri = "Polygon?crs=EPSG:32633" + "".join(f"&field={field}:string" for field in fields)
    layer = QgsVectorLayer(uri, "footprints", "memory")
    features = []
    for row in rows:
        feature = QgsFeature(layer.fields())
        feature.setAttributes(list(row))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


def test_a_footprint_layer_becomes_a_scene_table(qgis_app, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    layer = footprints([("s2/a.tif", "/vsizip/s1.zip/a.tif"), ("s2/b.tif", None)], fields=("optical", "sar"))
    table = write_scene_table(layer, {"name": "name", "optical": "optical", "sar": "sar"})
    with open(table, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    ids = [feature.id() for feature in layer.getFeatures()]
    assert rows == [
        {"name": f"scene-{ids[0]}", "optical": str(tmp_path / "s2" / "a.tif"), "sar": "/vsizip/s1.zip/a.tif"},
        {"name": f"scene-{ids[1]}", "optical": str(tmp_path / "s2" / "b.tif"), "sar": ""},
    ]
    with pytest.raises(QgsProcessingException, match="file field"):
        write_scene_table(layer, {"name": "", "optical": "s2_path", "sar": "s1_path"})


def test_batch_from_a_footprint_layer_reports_each_scene_and_loads_a_styled_mosaic(landfuse_provider, tmp_path):
    model = write_tiny_model(tmp_path / "tiny.onnx")
    rows = []
    for index, name in enumerate(["north", "south"]):
        optical, sar = write_scene(tmp_path / "scenes" / name, seed=index)
        rows.append((name, str(optical), str(sar)))
    rows.append(
        ("lost", str(tmp_path / "scenes" / "lost" / "optical.tif"), str(tmp_path / "scenes" / "north" / "sar.tif"))
    )
    feedback = RecordingFeedback()
    out = tmp_path / "out"
    params = {
        "FOOTPRINTS": footprints(rows),
        "MODEL_FILE": str(model),
        "DEVICE": "cpu",
        "CONFIDENCE": True,
        "WORKERS": 2,
        "OUTPUT_FOLDER": str(out),
    }
    results = processing.run("landfuse:batch", params, feedback=feedback)

    assert (results["DONE"], results["FAILED"], results["PENDING"]) == (2, 1, 0)
    assert [e for e in feedback.errors if "lost" in e and "[UNREADABLE]" in e], feedback.errors
    assert feedback.progress[-1] == 100.0 and any("running" in text for text in feedback.texts)
    report = json.loads(Path(results["REPORT"]).read_text())
    assert {row["name"]: row["state"] for row in report["batch"]["scenes"]} == {
        "north": "done",
        "south": "done",
        "lost": "failed",
    }
    assert sum(c["pixels"] for c in report["classes"]) == 2 * 64 * 64
    assert (out / "north" / "confidence.tif").is_file() and (out / "south" / "landcover.qml").is_file()
    mosaic = QgsRasterLayer(results["MOSAIC"], "mosaic")  # loads mosaic.qml as its default style
    assert mosaic.isValid() and Path(results["MOSAIC"]) == out / "mosaic.vrt"
    scene_map = QgsRasterLayer(str(out / "north" / "landcover.tif"), "north")
    assert legend_labels(mosaic) == legend_labels(scene_map)
    assert {key: label.lower() for key, label in legend_labels(mosaic).items()} == {
        c.id: c.name.lower() for c in tiny_card().classes
    }


def test_cancel_stops_the_batch_and_keeps_the_finished_scenes(landfuse_provider, tmp_path):
    model = write_tiny_model(tmp_path / "slow.onnx", depth=3)
    for index in range(6):
        write_scene(tmp_path / "scenes" / f"s{index}", size=256, seed=index)
    feedback = RecordingFeedback(cancel_when=lambda text: text.startswith("1 done"))
    out = tmp_path / "out"
    params = {
        "FOLDER": str(tmp_path / "scenes"),
        "MODEL_FILE": str(model),
        "DEVICE": "cpu",
        "WORKERS": 2,
        "OUTPUT_FOLDER": str(out),
    }
    results = processing.run("landfuse:batch", params, feedback=feedback)

    assert feedback.isCanceled() and results["DONE"] >= 1 and results["PENDING"] >= 1
    assert results["DONE"] + results["PENDING"] == 6 and results["FAILED"] == 0
    assert [w for w in feedback.warnings if w.startswith("Cancelled")]
    manifest = json.loads((out / "landfuse-batch.json").read_text())["scenes"]
    for name, entry in manifest.items():
        assert (out / name / "landcover.tif").exists() == (entry["state"] == "done")
    assert not list(out.rglob("*.partial"))
