"""The dock offers a model's int8 copy beside it as a precision, with its card's accuracy check, and runs it."""

from __future__ import annotations

import pytest
from qgis.core import QgsProject, QgsRasterLayer

from landfuse.backend.models.quantize import quantize_model
from landfuse.common.precision import variant_path
from landfuse.plugin.dock import LandFuseDock
from landfuse.plugin.dock.model import PrecisionChoice
from tests.plugin.helpers import shown_dock, write_scene, write_tiny_model

RUN_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def models(tmp_path_factory, landfuse_provider):
    """A models folder with ``tiny.onnx`` and its int8 copy ``tiny.int8.onnx`` (one small calibration window)."""
    folder = tmp_path_factory.mktemp("precision-models")
    model = write_tiny_model(folder / "tiny.onnx", depth=2)
    copy = quantize_model(model, variant_path(model, "int8"), "int8", windows=1, size=64, check_windows=1, log=print)
    return {"float32": model, "int8": copy.path, "check": copy.precision["check"], "scene": write_scene(folder)}


@pytest.fixture()
def dock(qtbot, models, tmp_path):
    """A shown dock with the models' folder as models folder, writing its runs into ``tmp_path``."""
    with shown_dock(qtbot, str(models["float32"].parent), str(tmp_path), RUN_TIMEOUT_MS) as widget:
        yield widget


def wait_for_copies(qtbot, dock: LandFuseDock, model: str) -> None:
    """Select ``model`` and wait until its card, the device and its copies' cards are known."""
    panel = dock.model_panel
    dock.set_model(model)
    qtbot.waitUntil(lambda: panel.card is not None and panel.card["architecture"] == "tiny", timeout=30_000)
    qtbot.waitUntil(lambda: "checking" not in panel.device_label.text(), timeout=30_000)
    qtbot.waitUntil(lambda: set(panel.precision_choice.cards) == {"int8"}, timeout=30_000)


def test_the_int8_copy_is_offered_with_its_check_suggested_on_the_cpu_and_runs(dock, models, qtbot, tmp_path):
    panel = dock.model_panel
    qtbot.waitUntil(lambda: panel.model_combo.findData(str(models["float32"])) >= 0, timeout=30_000)
    assert panel.model_combo.findData(str(models["int8"])) < 0  # a precision of tiny, not a model of its own
    optical, sar = QgsRasterLayer(str(models["scene"][0]), "S2"), QgsRasterLayer(str(models["scene"][1]), "S1")
    QgsProject.instance().addMapLayers([optical, sar])
    dock.inputs_panel.optical_combo.setLayer(optical)
    dock.inputs_panel.sar_combo.setLayer(sar)
    wait_for_copies(qtbot, dock, str(models["float32"]))

    choice = panel.precision_choice
    assert not choice.isHidden() and panel.device_label.text() == "Device: CPU"
    assert [choice.combo.itemData(i) for i in range(choice.combo.count())] == ["float32", "int8"]
    assert choice.combo.currentText() == "int8 (suggested on the CPU)"
    check = models["check"]
    cost = choice.cost_label.text()
    assert cost.startswith(f"int8: class maps agree with float32 on {100 * check['agreement']:.2f} % of 4096")
    assert f"mIoU {check['miou_difference_points']:+.2f} points" in cost and check["on"] in cost
    assert panel.model_spec() == str(models["int8"])

    with qtbot.waitSignal(dock.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        dock.run_panel.run_button.click()
    assert finished.args == ["done"], dock.run_panel.status_label.text()
    assert dock.report["model"]["metrics"]["precision"]["precision"] == "int8"

    choice.combo.setCurrentIndex(choice.combo.findData("float32"))
    assert panel.model_spec() == str(models["float32"]) and choice.cost_label.text().startswith("float32")


def test_a_copy_picked_as_a_file_selects_its_model_at_that_precision(dock, models, qtbot):
    dock.set_model("claire-lite")
    qtbot.waitUntil(lambda: dock.model_panel.card is not None, timeout=30_000)
    assert dock.model_panel.precision_choice.isHidden()  # no copy beside the demo model
    wait_for_copies(qtbot, dock, str(models["int8"]))
    panel = dock.model_panel
    assert panel.model_combo.currentData() == str(models["float32"])
    assert panel.precision_choice.precision() == "int8" and panel.model_spec() == str(models["int8"])


def test_fp16_is_suggested_on_a_gpu_until_the_user_picks_a_precision(qtbot, tmp_path):
    paths = {"float32": tmp_path / "m.onnx", "int8": tmp_path / "m.int8.onnx", "fp16": tmp_path / "m.fp16.onnx"}
    choice = PrecisionChoice()
    qtbot.addWidget(choice)
    choice.set_variants(paths)
    assert choice.precision() == "int8"  # the CPU until the backend says otherwise
    choice.set_gpu(True)
    assert choice.precision() == "fp16" and choice.combo.currentText() == "fp16 (suggested on a GPU)"
    assert choice.cost_label.text() == "fp16: reading the card of m.fp16.onnx…"
    choice.set_card("fp16", {"metrics": {"precision": {"precision": "fp16", "check": {"skipped": "none asked for"}}}})
    assert choice.cost_label.text() == "fp16: not checked against float32 (none asked for)."  # no file sizes: no files
    choice.combo.setCurrentIndex(0)
    choice.combo.activated.emit(0)  # as when the user picks float32
    choice.set_gpu(False)
    assert choice.path() == paths["float32"] and choice.cost_label.text().startswith("float32")
