"""The dock in the real QGIS (offscreen), clicked like an analyst would, with the real backend worker."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from qgis.core import QgsLayerTreeGroup, QgsPalettedRasterRenderer, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QApplication

from landfuse.plugin import settings
from landfuse.plugin.dock import LandFuseDock
from landfuse.plugin.styling import class_label, legend_labels
from tests.plugin.helpers import write_scene, write_tiny_model

RUN_TIMEOUT_MS = 90_000
DEMO_MODEL = "claire-lite"  # shipped in resources/models


@pytest.fixture(scope="module")
def scenes(tmp_path_factory, landfuse_provider):
    folder = tmp_path_factory.mktemp("dock-inputs")
    return {
        "small": write_scene(folder / "small"),
        "large": write_scene(folder / "large", size=512),
        "tiny": write_tiny_model(folder / "tiny.onnx"),
        "slow": write_tiny_model(folder / "slow.onnx", depth=24, name="slow"),
    }


@pytest.fixture()
def dock(qtbot, tmp_path, scenes):
    """A dock writing its runs under ``tmp_path/runs``, with the test models' folder as models folder."""
    before = settings.load()
    prefs = dataclasses.replace(
        before, output_folder=str(tmp_path / "runs"), models_folder=str(scenes["tiny"].parent), use_gpu=False
    )
    settings.save(prefs)
    widget = LandFuseDock()
    qtbot.addWidget(widget)
    yield widget
    widget.cancel_run()
    qtbot.waitUntil(lambda: widget.state != "running", timeout=RUN_TIMEOUT_MS)
    project = QgsProject.instance()
    project.removeAllMapLayers()
    project.layerTreeRoot().removeAllChildren()
    settings.save(before)


def choose(dock: LandFuseDock, qtbot, optical: Path, sar: Path, model: str) -> None:
    """Pick the two layers and a model (demo name or file) in the dock; wait for the model's card."""
    optical_layer, sar_layer = QgsRasterLayer(str(optical), "S2"), QgsRasterLayer(str(sar), "S1")
    QgsProject.instance().addMapLayers([optical_layer, sar_layer])
    dock.optical_combo.setLayer(optical_layer)
    dock.sar_combo.setLayer(sar_layer)
    dock.set_model(model)
    stem = Path(model).stem
    qtbot.waitUntil(
        lambda: dock.card is not None and stem in (dock.card["architecture"], f"{dock.card['architecture']}-lite"),
        timeout=30_000,
    )


def test_run_with_a_demo_model_adds_styled_layers_in_a_group_and_explains(dock, scenes, qtbot, tmp_path):
    qtbot.waitUntil(lambda: dock.model_combo.findData(str(scenes["slow"])) >= 0, timeout=30_000)  # from list_models
    assert dock.model_combo.findData(DEMO_MODEL) >= 0
    assert dock.model_combo.itemText(dock.model_combo.count() - 1) == "Model file…"
    choose(dock, qtbot, *scenes["small"], DEMO_MODEL)
    card_labels = {c["id"]: class_label(c) for c in dock.card["classes"]}
    assert "Flooded vegetation" in dock.card_view.toPlainText() and "synthetic" in dock.card_view.toPlainText()
    assert dock.optical_bands.bands() == list(range(1, 10)) and dock.sar_bands.bands() == [1, 2]
    qtbot.waitUntil(lambda: "checking" not in dock.device_label.text(), timeout=30_000)
    assert dock.device_label.text() == "Device: CPU"

    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
        assert not dock.run_button.isEnabled() and dock.cancel_button.isEnabled()
    assert finished.args == ["done"], dock.status_label.text()

    group = QgsProject.instance().layerTreeRoot().children()[0]
    assert isinstance(group, QgsLayerTreeGroup) and group.name().startswith(f"LandFuse {DEMO_MODEL}")
    class_map, confidence = (node.layer() for node in group.findLayers())
    assert isinstance(class_map.renderer(), QgsPalettedRasterRenderer)
    assert legend_labels(class_map) == card_labels and len(card_labels) == 9
    assert confidence.renderer().type() == "singlebandpseudocolor"
    assert dock.progress.value() == 100 and dock.run_button.isEnabled()

    text = dock.explanation
    assert len(text.split()) > 10 and "Explanation" in dock.explanation_view.toPlainText()
    assert dock.chart.classes and {class_label(c) for c in dock.chart.classes} <= set(card_labels.values())
    assert "mean confidence" in dock.summary_label.text()
    dock.copy_explanation()
    assert QApplication.clipboard().text() == text
    dock.save_explanation(str(tmp_path / "saved.txt"))
    assert (tmp_path / "saved.txt").read_text().startswith(text)


def test_a_cloud_removal_model_adds_its_reconstruction_and_can_skip_the_explanation(dock, scenes, qtbot):
    choose(dock, qtbot, *scenes["small"], "edc-lite")
    assert dock.reconstruction_check.isEnabled()
    dock.reconstruction_check.setChecked(True)
    dock.explain_check.setChecked(False)
    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        dock.run_button.click()
    assert finished.args == ["done"], dock.status_label.text()
    names = [layer.name() for layer in dock.result_layers]
    assert names == ["Land cover (edc-lite)", "Confidence (%)", "Cloud-free reconstruction"]
    reconstruction = dock.result_layers[2].renderer()
    assert dock.result_layers[2].bandCount() == 9 and reconstruction.type() == "multibandcolor"
    assert (reconstruction.redBand(), reconstruction.greenBand(), reconstruction.blueBand()) == (3, 2, 1)
    assert dock.explanation == "" and not dock.copy_button.isEnabled()
    assert not list(Path(dock.result_layers[0].source()).parent.glob("explanation*"))


def test_cancel_stops_the_run_and_leaves_nothing(dock, scenes, qtbot, tmp_path):
    choose(dock, qtbot, *scenes["large"], str(scenes["slow"]))
    layers_before = set(QgsProject.instance().mapLayers())
    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        dock.run_button.click()
        qtbot.waitUntil(lambda: dock.progress.value() > 5, timeout=RUN_TIMEOUT_MS)
        qtbot.mouseClick(dock.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["cancelled"]
    assert set(QgsProject.instance().mapLayers()) == layers_before
    assert not [path for path in (tmp_path / "runs").rglob("*") if path.is_file()]
    assert "Cancelled" in dock.status_label.text() and dock.run_button.isEnabled()


def test_a_failed_run_shows_the_worker_message_and_leaves_nothing(dock, scenes, qtbot, tmp_path):
    choose(dock, qtbot, *scenes["small"], str(scenes["tiny"]))
    dock.optical_bands.check_first(3)  # the model needs 9 optical bands
    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        dock.run_button.click()
    assert finished.args == ["failed"]
    assert "BAD_BANDS" in dock.status_label.text() and "9" in dock.status_label.text()
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    assert not dock.result_layers and dock.run_button.isEnabled()


def test_run_without_layers_says_what_to_do(dock):
    dock.start_run()
    assert dock.state == "idle" and "Choose an optical and a SAR layer" in dock.status_label.text()


def test_options_page_check_backend_shows_the_worker_diagnostics(qtbot, landfuse_provider):
    from landfuse.plugin.settings_page import LandFuseOptionsPage

    before = settings.load()
    page = LandFuseOptionsPage()
    qtbot.addWidget(page)
    try:
        page.check_button.click()
        assert not page.check_button.isEnabled()
        qtbot.waitUntil(page.check_button.isEnabled, timeout=60_000)
    finally:
        settings.save(before)
    text = page.diagnostics.toPlainText()
    assert "\n    onnxruntime: " in text and "worker_pid: " in text and "did not answer" not in text
