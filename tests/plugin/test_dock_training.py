"""The dock's training panel in the real QGIS (offscreen) with the real backend worker: train from a styled
polygon layer in seconds, find the new model selected in the model panel, cancel, and read clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qgis.core import (
    QgsGeometry,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QApplication

from landfuse.plugin import settings
from landfuse.plugin.dock import LandFuseDock
from tests.plugin.helpers import memory_layer, pixel_rect, shown_dock, styled_references, write_scene
from tests.plugin.host import HostInterface

TRAIN_TIMEOUT_MS = 120_000


@pytest.fixture()
def dock(qtbot, tmp_path, landfuse_provider):
    """A shown dock with a 64 x 64 optical + SAR scene chosen, the demo model's card read, and an empty models
    folder; the training panel is expanded."""
    models = tmp_path / "models"
    models.mkdir()
    with shown_dock(qtbot, str(models), str(tmp_path / "runs"), TRAIN_TIMEOUT_MS) as widget:
        optical, sar = write_scene(tmp_path / "scene")
        layers = QgsRasterLayer(str(optical), "S2"), QgsRasterLayer(str(sar), "S1")
        QgsProject.instance().addMapLayers(layers)
        widget.inputs_panel.optical_combo.setLayer(layers[0])
        widget.inputs_panel.sar_combo.setLayer(layers[1])
        qtbot.waitUntil(lambda: widget.model_panel.card is not None, timeout=60_000)
        widget.training_panel.setCollapsed(False)
        yield widget


def choose_references(dock: LandFuseDock, layer) -> None:
    panel = dock.training_panel
    panel.reference_combo.setLayer(layer)
    panel.epochs_spin.setValue(1)
    panel.minutes_spin.setValue(panel.minutes_spin.minimum())  # 3 s at most


def test_training_from_a_styled_layer_selects_the_new_model_with_its_classes(dock, qtbot):
    panel, models = dock.training_panel, Path(settings.load().models_folder)
    choose_references(dock, styled_references())
    assert panel.field_combo.currentField() == "landuse"  # the categorized style's field
    assert panel.name_edit.placeholderText() == "refs-claire-lite"
    with qtbot.waitSignal(panel.finished, timeout=TRAIN_TIMEOUT_MS) as finished:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
        assert not panel.train_button.isEnabled() and panel.cancel_button.isEnabled()
    assert finished.args[0] == "done", panel.status_label.text()

    model = models / "refs-claire-lite.onnx"
    assert model.is_file() and str(model) in panel.status_label.text()
    model_panel = dock.model_panel
    qtbot.waitUntil(lambda: model_panel.model_spec() == str(model) and model_panel.card is not None, timeout=30_000)
    classes = [(entry["name"], entry["color"]) for entry in model_panel.card["classes"]]
    assert classes == [("Open water", "#1f78b4"), ("Fields", "#ffdd00")]  # from the layer's renderer
    qtbot.waitUntil(lambda: model_panel.model_combo.itemText(model_panel.model_combo.currentIndex()) == model.stem)

    report = json.loads(model.with_suffix(".training.json").read_text())
    assert [entry["name"] for entry in report["classes"]] == ["Open water", "Fields"]
    assert model.with_suffix(".training.png").read_bytes()[:4] == b"\x89PNG"
    summary = panel.report_label.text()
    assert summary.startswith("Validation:") and "Open water:" in summary and "Fields:" in summary
    assert "Loss and validation curves" in panel.links_label.text() and "refs-claire-lite.training.png" in (
        panel.links_label.text()
    )
    assert panel.progress.value() == 100 and panel.train_button.isEnabled()

    panel.train_button.click()  # the same name again: refused, the model is kept
    assert panel.current is None and "already exists" in panel.status_label.text() and model.is_file()


def test_cancel_stops_the_training_and_writes_no_model(dock, qtbot):
    panel, models = dock.training_panel, Path(settings.load().models_folder)
    choose_references(dock, styled_references())
    panel.epochs_spin.setValue(0)
    panel.minutes_spin.setValue(10.0)  # until cancelled
    with qtbot.waitSignal(panel.finished, timeout=TRAIN_TIMEOUT_MS) as finished:
        panel.train_button.click()
        qtbot.waitUntil(lambda: "epoch" in panel.status_label.text(), timeout=TRAIN_TIMEOUT_MS)  # it learns
        assert not panel.waiting and panel.progress.value() >= 10
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args[0] == "cancelled"
    assert "Cancelled" in panel.status_label.text() and panel.train_button.isEnabled()
    assert list(models.iterdir()) == []


def test_problems_with_the_reference_data_are_explained_before_training(dock):
    panel = dock.training_panel
    dock.start_training()
    assert "Choose a reference layer" in panel.status_label.text()

    unlabelled = memory_layer("Polygon", "landuse", [(QgsGeometry.fromRect(pixel_rect(2, 2, 10, 10)), None)], "empty")
    panel.reference_combo.setLayer(unlabelled)
    panel.field_combo.setField("landuse")
    dock.start_training()
    assert "The class field landuse of empty is empty" in panel.status_label.text()

    far = QgsRectangle(600000, 5000000, 600100, 5000100)  # 100 km from the scene
    elsewhere = memory_layer("Polygon", "landuse", [(QgsGeometry.fromRect(far), "water")], "elsewhere")
    panel.reference_combo.setLayer(elsewhere)
    panel.field_combo.setField("landuse")
    dock.start_training()
    assert "No reference feature of elsewhere lies over the optical layer S2" in panel.status_label.text()

    panel.reference_combo.setLayer(styled_references())
    panel.selected_check.setChecked(True)
    dock.start_training()
    assert "No feature of refs is selected" in panel.status_label.text()
    assert panel.current is None and panel.train_button.isEnabled()


def test_the_backends_message_is_shown_when_training_fails(dock, qtbot):
    panel = dock.training_panel
    choose_references(dock, styled_references([((2, 2), "water"), ((30, 30), "water")], "water only"))
    with qtbot.waitSignal(panel.finished, timeout=TRAIN_TIMEOUT_MS) as finished:
        panel.train_button.click()
    assert finished.args[0] == "failed"
    text = panel.status_label.text()
    assert "at least two classes" in text and "[BAD_PARAMS]" in text
    assert not list(Path(settings.load().models_folder).iterdir())


def test_the_expanded_training_panel_fits_beside_the_map_in_a_1280_px_window(qtbot, landfuse_provider):
    host = HostInterface()
    qtbot.addWidget(host.window)
    widget = LandFuseDock(host.window)
    host.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, widget)
    host.window.show()
    panel = widget.training_panel
    panel.setCollapsed(False)
    try:
        panel.reference_combo.setLayer(styled_references(name="Reference polygons of the 2017 field survey, Tyrol"))
        panel.set_status(" ".join(["The backend reported a long message that must wrap inside the dock."] * 8))
        panel.report_label.setText("\n".join(f"A class with a rather long name {n}: 87.5 %" for n in range(9)))
        for _ in range(3):
            QApplication.processEvents()
        body, viewport = widget.scroll.widget(), widget.scroll.viewport()
        assert panel.isVisible() and panel.field_combo.isVisible()
        assert widget.width() <= 0.4 * 1280 and body.minimumSizeHint().width() <= viewport.width()
        assert widget.scroll.horizontalScrollBar().maximum() == 0
    finally:
        QgsProject.instance().removeAllMapLayers()
