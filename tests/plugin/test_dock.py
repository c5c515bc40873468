"""The dock in the real QGIS (offscreen), clicked like an analyst would, with the real backend worker."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import (
    QgsLayerTreeGroup,
    QgsPalettedRasterRenderer,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QApplication, QFileDialog

from landfuse.plugin import service, settings
from landfuse.plugin.dock import PROJECT_SCOPE, LandFuseDock
from landfuse.plugin.dock.outputs import chosen_folder
from landfuse.plugin.styling import class_label, legend_labels
from tests.paths import SHARED_DATA
from tests.plugin.helpers import shown_dock, write_raster, write_scene, write_tiny_model

RUN_TIMEOUT_MS = 90_000
DEMO_MODEL = "claire-lite"  # shipped in resources/models
SENTINEL2 = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
DEMO_OPTICAL = ["B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B12"]
SEN1FLOODS11 = SHARED_DATA / "sen1floods11"
REAL_MODEL = "edc-lite"


@pytest.fixture(scope="module")
def scenes(tmp_path_factory, landfuse_provider):
    folder = tmp_path_factory.mktemp("dock-inputs")
    return {
        "small": write_scene(folder / "small"),
        "large": write_scene(folder / "large", size=512),
        "tiny": write_tiny_model(folder / "tiny.onnx"),
        "slow": write_tiny_model(folder / "slow.onnx", depth=24, name="slow"),
    }


def write_named(path: Path, data: np.ndarray, gdal_type: int, names) -> Path:
    """A GeoTIFF of ``data`` [bands, h, w] whose band descriptions are ``names``."""
    write_raster(path, data, gdal_type)
    dataset = gdal.Open(str(path), gdal.GA_Update)
    for index, name in enumerate(names, start=1):
        dataset.GetRasterBand(index).SetDescription(name)
    dataset = None
    return path


@pytest.fixture(scope="module")
def stacks(tmp_path_factory, landfuse_provider):
    """A 13-band Sentinel-2 stack and a VV/VH pair with band descriptions, a 4-band unnamed stack, 0-1 data."""
    folder = tmp_path_factory.mktemp("dock-stacks")
    rng = np.random.default_rng(3)
    optical = 500 + 2500 * rng.random((13, 32, 32))
    sar = np.stack([-12 + rng.standard_normal((32, 32)), -19 + rng.standard_normal((32, 32))])
    return {
        "s2": write_named(folder / "s2.tif", optical.astype(np.uint16), gdal.GDT_UInt16, SENTINEL2),
        "s1": write_named(folder / "s1.tif", sar.astype(np.float32), gdal.GDT_Float32, ("VV", "VH")),
        "unnamed": write_raster(folder / "unnamed.tif", optical[:4].astype(np.uint16), gdal.GDT_UInt16),
        "scaled": write_named(
            folder / "scaled.tif", (optical[1:9] / 10000).astype(np.float32), gdal.GDT_Float32, DEMO_OPTICAL[:8]
        ),
        "linear": write_named(
            folder / "linear.tif", (10 ** (sar / 10)).astype(np.float32), gdal.GDT_Float32, ("VV", "VH")
        ),
    }


@pytest.fixture()
def output_folder(tmp_path) -> str:
    """The options' *Dock output folder* for the ``dock`` fixture; ``""`` (via parametrize): beside the project."""
    return str(tmp_path / "runs")


@pytest.fixture()
def dock(qtbot, scenes, output_folder):
    """A shown dock writing its runs into ``output_folder``, with the test models' folder as models folder."""
    with shown_dock(qtbot, str(scenes["tiny"].parent), output_folder, RUN_TIMEOUT_MS) as widget:
        yield widget


def choose(dock: LandFuseDock, qtbot, optical: Path, sar: Path, model: str) -> None:
    """Pick the two layers and a model (demo name or file) in the dock; wait for the model's card."""
    optical_layer, sar_layer = QgsRasterLayer(str(optical), "S2"), QgsRasterLayer(str(sar), "S1")
    QgsProject.instance().addMapLayers([optical_layer, sar_layer])
    dock.inputs_panel.optical_combo.setLayer(optical_layer)
    dock.inputs_panel.sar_combo.setLayer(sar_layer)
    dock.set_model(model)
    stem = Path(model).stem
    panel = dock.model_panel
    qtbot.waitUntil(
        lambda: panel.card is not None and stem in (panel.card["architecture"], f"{panel.card['architecture']}-lite"),
        timeout=30_000,
    )


def test_run_with_a_demo_model_adds_styled_layers_in_a_group_and_explains(dock, scenes, qtbot, tmp_path):
    model, run, results = dock.model_panel, dock.run_panel, dock.results_panel
    qtbot.waitUntil(lambda: model.model_combo.findData(str(scenes["slow"])) >= 0, timeout=30_000)  # from list_models
    assert model.model_combo.findData(DEMO_MODEL) >= 0
    assert model.model_combo.itemText(model.model_combo.count() - 1) == "Model file…"
    choose(dock, qtbot, *scenes["small"], DEMO_MODEL)
    card_labels = {c["id"]: class_label(c) for c in model.card["classes"]}
    assert "Flooded vegetation" in model.card_view.toPlainText() and "synthetic" in model.card_view.toPlainText()
    inputs = dock.inputs_panel
    assert inputs.optical_bands.indexes() == list(range(1, 10)) and inputs.sar_bands.indexes() == [1, 2]
    assert inputs.optical_bands.selection() == list(range(1, 10))  # unnamed bands: by position
    qtbot.waitUntil(lambda: "checking" not in model.device_label.text(), timeout=30_000)
    assert model.device_label.text() == "Device: CPU"
    assert run.folder_widget.lineEdit().placeholderText() == str(tmp_path / "runs")  # the options' folder

    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        qtbot.mouseClick(run.run_button, Qt.MouseButton.LeftButton)
        assert not run.run_button.isEnabled() and run.cancel_button.isEnabled()
    assert finished.args == ["done"], run.status_label.text()

    group = QgsProject.instance().layerTreeRoot().children()[0]
    assert isinstance(group, QgsLayerTreeGroup) and group.name().startswith(f"LandFuse {DEMO_MODEL}")
    class_map, confidence = (node.layer() for node in group.findLayers())
    assert isinstance(class_map.renderer(), QgsPalettedRasterRenderer)
    assert legend_labels(class_map) == card_labels and len(card_labels) == 9
    assert confidence.renderer().type() == "singlebandpseudocolor"
    run_folder = Path(class_map.source()).parent
    assert run_folder.parent == tmp_path / "runs" and str(run_folder) in run.status_label.text()
    reopened = QgsRasterLayer(str(run_folder / "confidence.tif"), "reopened")  # styled by the saved confidence.qml
    assert (run_folder / "confidence.qml").is_file() and reopened.renderer().type() == "singlebandpseudocolor"
    assert run.progress.value() == 100 and run.run_button.isEnabled()

    text = results.explanation
    assert len(text.split()) > 10 and "Explanation" in results.explanation_view.toPlainText()
    assert results.chart.classes and {class_label(c) for c in results.chart.classes} <= set(card_labels.values())
    assert "mean confidence" in results.summary_label.text()
    results.copy_explanation()
    assert QApplication.clipboard().text() == text
    results.save_explanation(str(tmp_path / "saved.txt"))
    assert (tmp_path / "saved.txt").read_text().startswith(text)


def test_a_cloud_removal_model_adds_its_reconstruction_and_can_skip_the_explanation(dock, scenes, qtbot):
    choose(dock, qtbot, *scenes["small"], "edc-lite")
    assert dock.model_panel.reconstruction_check.isEnabled()
    dock.model_panel.reconstruction_check.setChecked(True)
    dock.model_panel.explain_check.setChecked(False)
    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        dock.run_panel.run_button.click()
    assert finished.args == ["done"], dock.run_panel.status_label.text()
    names = [layer.name() for layer in dock.result_layers]
    assert names == ["Land cover (edc-lite)", "Confidence (%)", "Cloud-free reconstruction"]
    reconstruction = dock.result_layers[2].renderer()
    assert dock.result_layers[2].bandCount() == 9 and reconstruction.type() == "multibandcolor"
    assert (reconstruction.redBand(), reconstruction.greenBand(), reconstruction.blueBand()) == (3, 2, 1)
    assert dock.results_panel.explanation == "" and not dock.results_panel.copy_button.isEnabled()
    assert not list(Path(dock.result_layers[0].source()).parent.glob("explanation*"))


def test_cancel_stops_the_run_and_leaves_nothing(dock, scenes, qtbot, tmp_path):
    choose(dock, qtbot, *scenes["large"], str(scenes["slow"]))
    layers_before = set(QgsProject.instance().mapLayers())
    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        dock.run_panel.run_button.click()
        qtbot.waitUntil(lambda: dock.run_panel.progress.value() > 5, timeout=RUN_TIMEOUT_MS)
        qtbot.mouseClick(dock.run_panel.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["cancelled"]
    assert set(QgsProject.instance().mapLayers()) == layers_before
    assert not [path for path in (tmp_path / "runs").rglob("*") if path.is_file()]
    assert "Cancelled" in dock.run_panel.status_label.text() and dock.run_panel.run_button.isEnabled()


def test_a_failed_run_shows_the_worker_message_and_leaves_nothing(dock, scenes, qtbot, tmp_path):
    choose(dock, qtbot, *scenes["small"], str(scenes["tiny"]))
    dock.inputs_panel.optical_bands.automatic_check.click()  # match by name, but the scene's bands have no names
    assert dock.inputs_panel.optical_bands.selection() == DEMO_OPTICAL
    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        dock.run_panel.run_button.click()
    assert finished.args == ["failed"]
    assert "BAD_BANDS" in dock.run_panel.status_label.text() and "'B2'" in dock.run_panel.status_label.text()
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    assert not dock.result_layers and dock.run_panel.run_button.isEnabled()


def test_run_without_layers_says_what_to_do(dock):
    dock.start_run()
    assert dock.state == "idle" and "Choose an optical and a SAR layer" in dock.run_panel.status_label.text()


def test_a_sentinel2_stack_is_mapped_by_name(dock, stacks, qtbot):
    choose(dock, qtbot, stacks["s2"], stacks["s1"], DEMO_MODEL)
    optical, sar = dock.inputs_panel.optical_bands, dock.inputs_panel.sar_bands
    assert optical.indexes() == [2, 3, 4, 5, 6, 7, 8, 12, 13] and optical.automatic_check.isChecked()
    assert optical.selection() == DEMO_OPTICAL  # names: the backend matches them
    assert sar.indexes() == [1, 2] and sar.selection() == ["VV", "VH"]
    assert [combo.currentText() for combo in sar.combos] == ["Band 1: VV", "Band 2: VH"]
    assert not any(combo.isEnabled() for combo in optical.combos)
    assert optical.warning_label.isVisible() and "Level-1C" in optical.warning_label.text()  # it has B10
    assert not sar.warning_label.isVisible()
    optical.automatic_check.click()
    assert optical.selection() == [2, 3, 4, 5, 6, 7, 8, 12, 13] and all(c.isEnabled() for c in optical.combos)


def test_unnamed_bands_of_another_count_are_chosen_by_position_with_a_visible_warning(dock, stacks, qtbot):
    choose(dock, qtbot, stacks["unnamed"], stacks["s1"], DEMO_MODEL)
    mapping = dock.inputs_panel.optical_bands
    assert mapping.indexes() == [1, 2, 3, 4, None, None, None, None, None]
    assert not mapping.automatic_check.isChecked()
    text = mapping.warning_label.text()
    assert mapping.warning_label.isVisible() and "has 4 band(s); the model needs 9" in text
    assert "no names" in text and "B6, B7, B8, B11, B12" in text
    assert mapping.selection()[3:5] == [4, "B6"]  # a card band without a layer band is sent by name


def test_data_of_another_product_level_are_warned_about(dock, stacks, qtbot):
    choose(dock, qtbot, stacks["scaled"], stacks["linear"], DEMO_MODEL)
    optical, sar = dock.inputs_panel.optical_bands.warning_label, dock.inputs_panel.sar_bands.warning_label
    assert optical.isVisible() and "scaled 0-1" in optical.text() and "No band of 'S2' is named B12" in optical.text()
    assert sar.isVisible() and "linear backscatter; the model expects dB" in sar.text()


def test_the_band_mapping_is_kept_per_layer_and_model_in_the_project(dock, stacks, qtbot):
    choose(dock, qtbot, stacks["s2"], stacks["s1"], DEMO_MODEL)
    mapping = dock.inputs_panel.optical_bands
    mapping.automatic_check.click()
    first = mapping.combos[0]
    first.setCurrentIndex(first.findData(1))
    first.activated.emit(first.currentIndex())  # as when the user picks "Band 01: B1" for B2
    assert "B2 <- Band 01: B1" in mapping.warning_label.text()
    assert "band_mapping" in QgsProject.instance().subkeyList(PROJECT_SCOPE, "") + QgsProject.instance().entryList(
        PROJECT_SCOPE, ""
    )
    dock.set_model("edc-lite")
    qtbot.waitUntil(
        lambda: dock.model_panel.card is not None and dock.model_panel.card["architecture"] == "edc", timeout=30_000
    )
    assert mapping.indexes()[0] == 2 and mapping.automatic_check.isChecked()  # nothing saved for this model
    dock.set_model(DEMO_MODEL)
    qtbot.waitUntil(
        lambda: dock.model_panel.card is not None and dock.model_panel.card["architecture"] == "claire", timeout=30_000
    )
    assert mapping.indexes() == [1, 3, 4, 5, 6, 7, 8, 12, 13] and not mapping.automatic_check.isChecked()
    assert mapping.selection()[0] == 1


def test_web_layers_are_listed_with_a_hint_to_export_them(dock, stacks, qtbot):
    tiles = QgsRasterLayer("type=xyz&url=http://127.0.0.1:9/{z}/{x}/{y}.png&zmax=19&zmin=0", "Tiles", "wms")
    sar = QgsRasterLayer(str(stacks["s1"]), "S1")
    QgsProject.instance().addMapLayers([tiles, sar])
    dock.inputs_panel.optical_combo.setLayer(tiles)
    dock.inputs_panel.sar_combo.setLayer(sar)
    assert dock.inputs_panel.optical_combo.currentLayer() is tiles
    warning = dock.inputs_panel.optical_bands.warning_label
    assert warning.isVisible() and "Export it first" in warning.text() and not dock.inputs_panel.optical_bands.combos
    dock.start_run()
    assert dock.state == "idle" and "Export it first" in dock.run_panel.status_label.text()


def test_card_errors_and_explanations_are_shown_as_text_never_as_html(dock):
    dock.model_panel._on_card(dock.model_panel._card_requests, None, "<b>model.onnx</b> is not a model")
    assert "<b>model.onnx</b> is not a model" in dock.model_panel.card_view.toPlainText()
    dock.results_panel.set_explanation("Water covers **12 %** of the area. <img src='x.png'> <b>bold</b>")
    text = dock.results_panel.explanation_view.toPlainText()
    assert "<b>bold</b>" in text and "<img src='x.png'>" in text and "**" not in text
    assert dock.run_panel.status_label.textFormat() == Qt.TextFormat.PlainText


@pytest.mark.skipif(not SEN1FLOODS11.is_dir(), reason="needs the shared Sen1Floods11 sample")
def test_a_real_sentinel_pair_is_classified_with_its_bands_found_by_name(dock, qtbot, tmp_path):
    """Sen1Floods11 Spain_7370579 (13-band L1C stack, VV/VH in dB) during a flood: water share near the label's."""
    for name in ("S2Hand", "S1Hand"):  # copies: QGIS writes .aux.xml statistics beside the rasters it opens
        shutil.copy(SEN1FLOODS11 / f"Spain_7370579_{name}.tif", tmp_path)
    choose(dock, qtbot, tmp_path / "Spain_7370579_S2Hand.tif", tmp_path / "Spain_7370579_S1Hand.tif", REAL_MODEL)
    assert dock.inputs_panel.optical_bands.indexes() == [2, 3, 4, 5, 6, 7, 8, 12, 13]
    assert dock.inputs_panel.sar_bands.selection() == ["VV", "VH"]
    assert "Level-1C" in dock.inputs_panel.optical_bands.warning_label.text()
    dock.model_panel.explain_check.setChecked(False)
    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        dock.run_panel.run_button.click()
    assert finished.args == ["done"], dock.run_panel.status_label.text()
    labels = gdal.Open(str(SEN1FLOODS11 / "Spain_7370579_LabelHand.tif")).ReadAsArray()  # -1 nodata, 1 water
    labelled, label_water = labels >= 0, labels == 1
    water = gdal.Open(dock.result_layers[0].source()).ReadAsArray() == 0  # class 0: water
    share = next(c["share"] for c in dock.report["classes"] if c["name"] == "water")
    iou = (water & label_water).sum() / ((water | label_water) & labelled).sum()
    assert abs(share - label_water[labelled].mean()) < 0.05 and iou > 0.45, (share, iou)


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


@pytest.mark.parametrize("output_folder", [""])
def test_results_go_beside_the_saved_project_file(dock, scenes, qtbot, tmp_path):
    (tmp_path / "site").mkdir()
    assert QgsProject.instance().write(str(tmp_path / "site" / "survey.qgz"))
    assert dock.run_panel.folder_widget.lineEdit().placeholderText() == str(tmp_path / "site" / "landfuse")
    choose(dock, qtbot, *scenes["small"], str(scenes["tiny"]))
    dock.model_panel.explain_check.setChecked(False)
    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        dock.run_panel.run_button.click()
    assert finished.args == ["done"], dock.run_panel.status_label.text()
    run_folder = Path(dock.result_layers[0].source()).parent
    assert run_folder.parent == tmp_path / "site" / "landfuse" and run_folder.name.endswith("-tiny")
    assert {"landcover.tif", "landcover.qml", "confidence.tif", "confidence.qml", "report.json"} <= {
        path.name for path in run_folder.iterdir()
    }


@pytest.mark.parametrize("output_folder", [""])
def test_an_unsaved_project_asks_for_the_folder_once_and_keeps_it(dock, scenes, qtbot, tmp_path, monkeypatch):
    asked = []

    def answer(parent, title, start):  # the user picks a folder in the folder dialog
        asked.append(title)
        return str(tmp_path / "chosen")

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", answer)
    assert not QgsProject.instance().fileName()
    assert "asked at the first run" in dock.run_panel.folder_widget.lineEdit().placeholderText()
    choose(dock, qtbot, *scenes["small"], str(scenes["tiny"]))
    dock.model_panel.explain_check.setChecked(False)
    for _ in range(2):
        with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
            dock.run_panel.run_button.click()
        assert finished.args == ["done"], dock.run_panel.status_label.text()
        assert Path(dock.result_layers[0].source()).parent.parent == tmp_path / "chosen"
    assert len(asked) == 1
    assert chosen_folder(QgsProject.instance()) == tmp_path / "chosen"  # kept in the project
    assert dock.run_panel.folder_widget.filePath() == str(tmp_path / "chosen")


@pytest.fixture()
def debug_worker(monkeypatch):
    """The shared worker restarted with the worker's debug operations enabled (and stopped again after)."""
    service.shutdown()
    monkeypatch.setenv("LANDFUSE_WORKER_DEBUG_OPS", "1")
    yield
    service.shutdown()


def test_a_run_queued_behind_another_job_says_it_waits_for_the_backend(debug_worker, dock, scenes, qtbot):
    choose(dock, qtbot, *scenes["small"], str(scenes["tiny"]))
    dock.model_panel.explain_check.setChecked(False)
    blocker, outcome = QgsProcessingFeedback(), []

    def blocking_job() -> None:  # a heavy job holding the worker until it is cancelled
        try:
            service.call("debug", {"action": "sleep", "steps": 600}, blocker)
            outcome.append("finished")
        except QgsProcessingException as err:
            outcome.append(str(err))

    thread = threading.Thread(target=blocking_job)
    thread.start()
    qtbot.waitUntil(lambda: service.call("ping", {})["busy"] is not None, timeout=30_000)
    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        dock.run_panel.run_button.click()
        qtbot.waitUntil(lambda: len(service.call("ping", {})["queued"]) == 1, timeout=30_000)
        assert dock.run_panel.waiting and dock.run_panel.progress.maximum() == 0  # a busy bar
        assert "Waiting for the backend" in dock.run_panel.status_label.text()
        blocker.cancel()
    thread.join()
    assert "CANCELLED" in outcome[0]  # the run went on only once the other job had stopped
    assert finished.args == ["done"], dock.run_panel.status_label.text()
    assert not dock.run_panel.waiting and dock.run_panel.progress.value() == 100
    assert dock.run_panel.status_label.text().startswith("Done")
