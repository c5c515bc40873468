"""The dock in a 1280 x 800 QGIS-like window: every field explained by a tooltip, nothing clipped, messages wrap."""

from __future__ import annotations

import dataclasses

import pytest
from qgis.core import QgsProject, QgsRasterLayer
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QAbstractButton, QApplication, QComboBox, QLabel, QLineEdit, QSpinBox

from landfuse.plugin import settings
from landfuse.plugin.dock import LandFuseDock
from tests.plugin.helpers import write_scene
from tests.plugin.host import HostInterface

LONG_MESSAGE = " ".join(["The backend reported a long error message that must wrap inside the dock."] * 8)


@pytest.fixture()
def dock(qtbot, tmp_path, shared_worker):
    """A dock in a 1280 x 800 main window, with two layers and a demo model whose card is read (band rows shown)."""
    before = settings.load()
    settings.save(dataclasses.replace(before, output_folder=str(tmp_path / "runs"), use_gpu=False))
    host = HostInterface()
    qtbot.addWidget(host.window)
    widget = LandFuseDock(host.window)
    host.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, widget)
    host.window.show()
    optical, sar = write_scene(tmp_path / "scene")
    layers = [
        QgsRasterLayer(str(optical), "A Sentinel-2 scene with a long layer name, 2017-06-13"),
        QgsRasterLayer(str(sar), "S1"),
    ]
    QgsProject.instance().addMapLayers(layers)
    widget.inputs_panel.optical_combo.setLayer(layers[0])
    widget.inputs_panel.sar_combo.setLayer(layers[1])
    widget.set_model("claire-lite")
    qtbot.waitUntil(lambda: widget.model_panel.card is not None, timeout=60_000)
    yield widget
    QgsProject.instance().removeAllMapLayers()
    QgsProject.instance().clear()
    settings.save(before)


def _settle() -> None:
    """Let Qt finish the layout the last change asked for."""
    for _ in range(3):
        QApplication.processEvents()


def test_every_dock_field_has_a_tooltip(dock):
    dock.banner.show_problem("No backend.")  # its button counts too
    fields = [
        widget
        for widget in dock.widget().findChildren((QComboBox, QAbstractButton, QLineEdit, QSpinBox, QgsFileWidget))
        if not isinstance(widget.parent(), (QgsFileWidget, QComboBox))  # parts of a field
    ]
    assert len(fields) > 20  # the band rows are there
    missing = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}" for w in fields if not w.toolTip()]
    assert not missing


def test_the_dock_is_readable_in_a_1280_px_window(dock):
    dock.banner.show_problem(LONG_MESSAGE)
    dock.run_panel.set_status(LONG_MESSAGE)
    _settle()
    body, viewport = dock.scroll.widget(), dock.scroll.viewport()
    assert dock.width() <= 0.4 * 1280  # the map keeps most of the window
    assert body.minimumSizeHint().width() <= viewport.width()
    assert dock.scroll.horizontalScrollBar().maximum() == 0  # nothing cut off on the right
    labels = [label for label in body.findChildren(QLabel) if label.isVisible() and label.text()]
    clipped = [label.text()[:40] for label in labels if label.width() < label.minimumSizeHint().width()]
    assert not clipped
    too_wide = [
        label.text()[:40]
        for label in labels
        if label.fontMetrics().horizontalAdvance(label.text()) > viewport.width() and not label.wordWrap()
    ]
    assert not too_wide
    line = dock.run_panel.status_label.fontMetrics().height()
    assert dock.run_panel.status_label.height() >= 4 * line  # the long message wrapped onto lines
    assert all(mapping.warning_label.wordWrap() for mapping in (dock.inputs_panel.optical_bands,))


def test_the_dock_takes_no_more_width_for_long_messages(dock):
    _settle()
    width = dock.width()
    dock.run_panel.set_status(LONG_MESSAGE)
    dock.banner.show_problem(LONG_MESSAGE)
    _settle()
    assert dock.width() == width
