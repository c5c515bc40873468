"""Model files on demand, clicked in the real dock and options page, against a local HTTP server (never online)."""

from __future__ import annotations

import dataclasses
import shutil

import gguf
import numpy as np
import pytest
from qgis.PyQt.QtWidgets import QMessageBox

from landfuse.common.download import gguf_architecture, part_path
from landfuse.plugin import downloads, settings
from landfuse.plugin.dock import LandFuseDock
from tests.plugin.file_server import serve
from tests.plugin.helpers import write_tiny_model

FETCH_TIMEOUT_MS = 60_000


@pytest.fixture()
def server():
    httpd = serve()
    yield httpd
    httpd.release()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def models_folder(tmp_path):
    """An empty models folder set in the options (restored after)."""
    before = settings.load()
    folder = tmp_path / "models"
    folder.mkdir()
    settings.save(dataclasses.replace(before, models_folder=str(folder)))
    yield folder
    settings.save(before)


@pytest.fixture()
def dock(qtbot, shared_worker, models_folder):
    widget = LandFuseDock()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.backend_started)
    yield widget
    widget.model_panel.fetch.cancel()
    qtbot.waitUntil(lambda: not widget.model_panel.fetch.running, timeout=FETCH_TIMEOUT_MS)


def test_a_model_url_is_downloaded_into_the_models_folder_listed_and_selected(dock, server, models_folder, qtbot):
    model = write_tiny_model(models_folder.parent / "upload.onnx", name="remote")
    server.files["models/remote%20net.onnx"] = model.read_bytes()
    panel = dock.model_panel
    with qtbot.waitSignal(panel.fetch.finished, timeout=FETCH_TIMEOUT_MS) as fetched:
        panel.add_model(server.url("models/remote%20net.onnx"))
        assert panel.fetch.isVisible() and panel.fetch.running
    assert fetched.args[0] == "done", panel.fetch.label.text()
    dest = models_folder / "remote net.onnx"
    assert dest.read_bytes() == model.read_bytes() and not part_path(dest).exists()
    assert panel.model_spec() == str(dest)
    qtbot.waitUntil(lambda: panel.card is not None and panel.card["architecture"] == "remote", timeout=30_000)


def test_a_model_file_is_copied_through_the_add_dialog(dock, models_folder, tmp_path, qtbot):
    model = write_tiny_model(tmp_path / "mine.onnx", name="mine")
    panel = dock.model_panel
    panel.add_button.click()
    assert panel.add_dialog.isVisible() and panel.add_dialog.source_edit.toolTip()
    panel.add_dialog.source_edit.setText(str(model))
    with qtbot.waitSignal(panel.fetch.finished, timeout=FETCH_TIMEOUT_MS) as fetched:
        panel.add_dialog.accept()
    assert fetched.args == ["done", str(models_folder / "mine.onnx")]
    assert (models_folder / "mine.onnx").read_bytes() == model.read_bytes()
    qtbot.waitUntil(lambda: panel.card is not None and panel.card["architecture"] == "mine", timeout=30_000)


def test_what_is_not_a_model_is_refused_before_any_download(dock, server, models_folder, tmp_path):
    panel = dock.model_panel
    panel.add_model(server.url("weights.bin"))
    assert "not a LandFuse model file" in panel.fetch.label.text() and not panel.fetch.running
    panel.add_model(str(tmp_path / "missing.onnx"))
    assert "There is no file" in panel.fetch.label.text()
    (models_folder / "taken.onnx").write_bytes(b"the user's model")
    panel.add_model(server.url("taken.onnx"))
    assert "already exists" in panel.fetch.label.text()
    assert server.requests == [] and (models_folder / "taken.onnx").read_bytes() == b"the user's model"


def test_a_cancelled_download_saves_nothing_and_the_next_one_resumes(dock, server, models_folder, tmp_path, qtbot):
    model = write_tiny_model(tmp_path / "big.onnx", depth=100, name="big")  # 3.6 MB
    server.files["big.onnx"] = model.read_bytes()
    server.hold_after = 3 * 2**20 // 2
    panel = dock.model_panel
    dest = models_folder / "big.onnx"
    with qtbot.waitSignal(panel.fetch.finished, timeout=FETCH_TIMEOUT_MS) as fetched:
        panel.add_model(server.url("big.onnx"))
        qtbot.waitUntil(lambda: " of " in panel.fetch.label.text(), timeout=FETCH_TIMEOUT_MS)  # bytes arrived
        panel.fetch.cancel_button.click()
        server.release()
    assert fetched.args[0] == "cancelled" and "Cancelled" in panel.fetch.label.text()
    kept = part_path(dest).stat().st_size
    assert not dest.exists() and 2**20 <= kept < len(server.files["big.onnx"])
    with qtbot.waitSignal(panel.fetch.finished, timeout=FETCH_TIMEOUT_MS) as fetched:
        panel.add_model(server.url("big.onnx"))
    assert fetched.args[0] == "done" and dest.read_bytes() == model.read_bytes()
    assert server.requests == [("big.onnx", None), ("big.onnx", f"bytes={kept}-")]


# ----------------------------------------------------------------- Phi-3 from the options page
def _gguf(path, architecture: str, megabytes: int = 0) -> bytes:
    """A GGUF model file of ``architecture``, with a tensor of about ``megabytes`` MB."""
    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_context_length(4096)
    writer.add_tensor("token_embd.weight", np.zeros((megabytes * 2**18 or 4, 1), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


@pytest.fixture()
def page(qtbot, server):
    """The options page with "Get Phi-3…" pointed at the local server; the profile's Phi-3 file removed after."""
    from landfuse.plugin.settings_page import LandFuseOptionsPage

    before = settings.load()
    widget = LandFuseOptionsPage()
    qtbot.addWidget(widget)
    widget.phi3_url = server.url("phi3.gguf")
    yield widget
    widget.phi3_fetch.cancel()
    qtbot.waitUntil(lambda: not widget.phi3_fetch.running, timeout=FETCH_TIMEOUT_MS)
    shutil.rmtree(downloads.profile_models_folder(), ignore_errors=True)
    settings.save(before)


def answer(page, button) -> None:
    """Click ``button`` in the confirmation "Get Phi-3…" opened."""
    assert page.phi3_confirmation.isVisible() and "2.4 GB" in page.phi3_confirmation.text()
    page.phi3_confirmation.button(button).click()


def test_get_phi3_asks_first_then_downloads_it_and_uses_it_for_explanations(page, server, tmp_path, qtbot):
    server.files["phi3.gguf"] = _gguf(tmp_path / "phi3.gguf", "phi3")
    page.phi3_button.click()
    answer(page, QMessageBox.StandardButton.No)
    assert server.requests == [] and not page.phi3_fetch.running
    page.phi3_button.click()
    with qtbot.waitSignal(page.phi3_fetch.finished, timeout=FETCH_TIMEOUT_MS) as fetched:
        answer(page, QMessageBox.StandardButton.Yes)
    dest = downloads.profile_models_folder() / downloads.PHI3_FILE
    assert fetched.args == ["done", str(dest)] and gguf_architecture(dest) == "phi3"
    assert settings.load().llm_path == str(dest) and page.llm_path.filePath() == str(dest)
    page.phi3_button.click()  # already there: used at once, nothing asked or downloaded
    assert len(server.requests) == 1 and "already downloaded" in page.phi3_fetch.label.text()


def test_get_phi3_refuses_a_file_of_another_architecture(page, server, tmp_path, qtbot):
    server.files["phi3.gguf"] = _gguf(tmp_path / "llama.gguf", "llama")
    before = settings.load().llm_path
    page.phi3_button.click()
    with qtbot.waitSignal(page.phi3_fetch.finished, timeout=FETCH_TIMEOUT_MS) as fetched:
        answer(page, QMessageBox.StandardButton.Yes)
    assert fetched.args[0] == "failed" and "'llama', expected phi3" in page.phi3_fetch.label.text()
    assert not list(downloads.profile_models_folder().iterdir()) and settings.load().llm_path == before


def test_get_phi3_can_be_cancelled(page, server, tmp_path, qtbot):
    server.files["phi3.gguf"] = _gguf(tmp_path / "phi3.gguf", "phi3", megabytes=3)
    server.hold_after = 3 * 2**20 // 2
    before = settings.load().llm_path
    page.phi3_button.click()
    with qtbot.waitSignal(page.phi3_fetch.finished, timeout=FETCH_TIMEOUT_MS) as fetched:
        answer(page, QMessageBox.StandardButton.Yes)
        qtbot.waitUntil(lambda: " of " in page.phi3_fetch.label.text(), timeout=FETCH_TIMEOUT_MS)
        page.phi3_fetch.cancel_button.click()
        server.release()
    assert fetched.args[0] == "cancelled"
    assert not (downloads.profile_models_folder() / downloads.PHI3_FILE).exists()
    assert settings.load().llm_path == before and page.llm_path.filePath() == before
