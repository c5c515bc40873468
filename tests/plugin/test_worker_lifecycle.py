"""The shared worker's life: stopped after the idle time, never waited for when QGIS unloads the plugin."""

from __future__ import annotations

import threading
import time

import pytest
from qgis.core import QgsSettings

from landfuse.plugin import service
from tests.plugin.helpers import write_scene


@pytest.fixture
def idle_minutes():
    """Sets the idle time for one test and restores the user's value."""
    settings = QgsSettings()
    before = settings.value(service.KEY_IDLE_MINUTES)

    def set_minutes(minutes: float) -> None:
        settings.setValue(service.KEY_IDLE_MINUTES, minutes)

    yield set_minutes
    if before is None:
        settings.remove(service.KEY_IDLE_MINUTES)
    else:
        settings.setValue(service.KEY_IDLE_MINUTES, before)
    service.shutdown(wait=True)


def _worker_exited(client, timeout: float) -> bool:
    process = client._process
    return process is None or process.exited.wait(timeout)


def test_the_worker_stops_after_the_idle_time(shared_worker, idle_minutes, qtbot):
    idle_minutes(0.02)  # 1.2 s
    assert service.call("list_models", {})["models"]
    client = service._client
    process = client._process
    assert process is not None and process.alive
    qtbot.waitUntil(lambda: service._client is None, timeout=30_000)
    assert process.exited.wait(15), "the idle worker process is still running"
    assert service.call("list_models", {})["models"], "the next request starts a new worker"
    assert service._client is not client


def test_requests_in_flight_keep_the_worker(shared_worker, idle_minutes):
    idle_minutes(0)  # never stop on idle
    service.call("list_models", {})
    assert service._idle_timer is None and service._client is not None


def test_unload_with_a_job_running_returns_at_once_and_stops_the_worker(shared_worker, idle_minutes, tmp_path):
    from landfuse import classFactory

    idle_minutes(10)
    optical, sar = write_scene(tmp_path / "scene", size=1536)
    outcome: dict = {}

    def classify() -> None:
        try:
            params = {"optical": str(optical), "sar": str(sar), "model": "cloudseg-lite"}
            params["output"] = str(tmp_path / "out" / "landcover.tif")
            params["options"] = {"tile_size": 64, "batch_size": 1}  # a few thousand windows: seconds of work
            service.call("classify", params)
            outcome["result"] = "finished"
        except Exception as err:  # noqa: BLE001 (the job is expected to end with an error)
            outcome["result"] = str(err)

    plugin = classFactory(None)
    plugin.initProcessing()
    job = threading.Thread(target=classify)
    job.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "out").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    client = service._client
    assert client is not None and "result" not in outcome, "the job should still be running"
    started = time.monotonic()
    plugin.unload()
    assert time.monotonic() - started < 1.0, "unload waited for the worker"
    assert service._client is None
    assert _worker_exited(client, 30), "the worker kept running after unload"
    job.join(60)
    assert outcome["result"] != "finished"
    assert not (tmp_path / "out" / "landcover.tif").exists()
