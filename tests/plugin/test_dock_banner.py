"""The dock without a usable backend: a banner says what is missing and opens the setup; a setup makes it go."""

from __future__ import annotations

import dataclasses

import pytest

from landfuse.plugin import settings
from landfuse.plugin.dock import LandFuseDock
from landfuse.plugin.installer import LANDFUSE_PYTHON_ENV
from landfuse.plugin.setup_dialog import BackendSetupDialog


@pytest.fixture()
def use_interpreter(monkeypatch, shared_worker):
    """Sets the backend interpreter option for one test, with no worker running; restores both after."""
    monkeypatch.delenv(LANDFUSE_PYTHON_ENV, raising=False)
    before = settings.load()
    shared_worker.shutdown()

    def use(path: str) -> None:
        settings.save(dataclasses.replace(settings.load(), interpreter=path, use_gpu=False))

    yield use
    shared_worker.shutdown()
    settings.save(before)


@pytest.fixture()
def dock(qtbot):
    widget = LandFuseDock()
    qtbot.addWidget(widget)
    return widget


def test_without_a_backend_the_banner_opens_the_setup_and_goes_after_it(use_interpreter, dock, qtbot, tmp_path):
    from landfuse.plugin import service

    missing = tmp_path / "no-env" / "bin" / "python"
    use_interpreter(str(missing))
    dock.show()
    qtbot.waitUntil(dock.banner.isVisible)
    assert str(missing) in dock.banner.message_label.text() and dock.banner.setup_button.isVisible()
    assert service._client is None and not dock.backend_started  # nothing was started
    dock.start_run()
    assert dock.state == "idle"

    dock.banner.setup_button.click()
    dialog = dock.banner.setup_dialog
    assert isinstance(dialog, BackendSetupDialog) and dialog.isVisible()
    use_interpreter("")  # what a successful setup leaves: a backend the discovery finds
    dialog.finished_setup.emit("done")
    dialog.close()
    assert not dock.banner.isVisible() and dock.backend_started
    qtbot.waitUntil(lambda: dock.model_panel.device_label.text() == "Device: CPU", timeout=60_000)
    qtbot.waitUntil(lambda: dock.model_panel.card is not None, timeout=60_000)


def test_a_failed_setup_keeps_the_banner(use_interpreter, dock, qtbot, tmp_path):
    use_interpreter(str(tmp_path / "missing-python"))
    dock.show()
    qtbot.waitUntil(dock.banner.isVisible)
    dock.banner.setup_button.click()
    dock.banner.setup_dialog.finished_setup.emit("failed")
    dock.banner.setup_dialog.close()
    assert dock.banner.isVisible() and not dock.backend_started


def test_a_backend_that_does_not_start_shows_the_banner(use_interpreter, dock, qtbot, tmp_path):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'this is not a LandFuse backend' >&2\nexit 3\n")
    broken.chmod(0o755)
    use_interpreter(str(broken))
    dock.show()
    qtbot.waitUntil(dock.banner.isVisible, timeout=60_000)
    text = dock.banner.message_label.text()
    assert "did not start" in text and "WORKER_START" in text and "exited with status 3" in text
    assert not dock.backend_started and "backend not available" in dock.model_panel.device_label.text()
