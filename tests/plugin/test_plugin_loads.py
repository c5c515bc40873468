"""The plugin loads through QGIS's own loader and from qgis_process, registers its provider and unloads cleanly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer

from tests.paths import REPO_ROOT
from tests.plugin.host import HostInterface

QGIS_PROCESS = "/usr/bin/qgis_process.bin"


@pytest.fixture()
def plugins_dir(tmp_path):
    """A temporary QGIS plugins folder holding the repository as the plugin ``landfuse``."""
    (tmp_path / "landfuse").symlink_to(REPO_ROOT, target_is_directory=True)
    return tmp_path


def test_qgis_plugin_loader_loads_and_unloads(plugins_dir):
    import qgis.utils

    saved_paths = list(qgis.utils.plugin_paths)
    # unloadPlugin drops the plugin's modules from sys.modules: later tests must keep the ones they imported
    # (e.g. the shared worker's service module), not get fresh copies.
    saved_modules = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "landfuse"}
    qgis.utils.plugin_paths[:] = [str(plugins_dir)]
    try:
        qgis.utils.updateAvailablePlugins()
        assert "landfuse" in qgis.utils.available_plugins
        assert qgis.utils.pluginMetadata("landfuse", "name") == "LandFuse"
        assert qgis.utils.loadPlugin("landfuse")
        assert qgis.utils.startPlugin("landfuse")
        registry = QgsApplication.processingRegistry()
        assert registry.providerById("landfuse") is not None
        assert qgis.utils.unloadPlugin("landfuse")
        assert registry.providerById("landfuse") is None
    finally:
        qgis.utils.plugin_paths[:] = saved_paths
        sys.modules.update(saved_modules)


def test_class_factory_without_iface_registers_and_removes_provider():
    from landfuse import classFactory

    registry = QgsApplication.processingRegistry()
    before = {p.id() for p in registry.providers()}
    plugin = classFactory(None)
    plugin.initProcessing()
    assert registry.providerById("landfuse") is not None
    plugin.unload()
    assert {p.id() for p in registry.providers()} == before


def test_loading_the_plugin_starts_no_worker_until_the_dock_is_shown(qtbot, shared_worker):
    from landfuse import classFactory

    service = shared_worker
    service.shutdown()
    host = HostInterface()
    qtbot.addWidget(host.window)
    host.window.show()
    plugin = classFactory(host)
    plugin.initGui()
    try:
        settled = []
        QTimer.singleShot(0, lambda: settled.append(True))  # runs after every zero-delay timer the plugin started
        qtbot.waitUntil(lambda: bool(settled))
        toggle = plugin.actions[0]
        assert host.toolbar.actions() == [toggle] and not plugin.dock.isVisible()
        assert service._client is None and not plugin.dock.backend_started
        assert QgsApplication.taskManager().countActiveTasks() == 0

        toggle.trigger()  # the user opens the dock: now the worker starts
        assert plugin.dock.isVisible()
        qtbot.waitUntil(lambda: service._client is not None and service._client.pid is not None, timeout=60_000)
        qtbot.waitUntil(lambda: plugin.dock.model_panel.device_label.text() == "Device: CPU", timeout=60_000)
        assert not plugin.dock.banner.isVisible()
    finally:
        plugin.unload()
    assert service._client is None and host.toolbar.actions() == [] and host.options_factories == []
    assert host.raster_menus["&LandFuse"].actions() == []


def _qgis_process(args, plugins_dir, profile):
    env = dict(
        os.environ, QGIS_PLUGINPATH=str(plugins_dir), QGIS_CUSTOM_CONFIG_PATH=str(profile), QT_QPA_PLATFORM="offscreen"
    )
    return subprocess.run([QGIS_PROCESS, *args], env=env, capture_output=True, text=True, timeout=120)


def test_qgis_process_lists_landfuse_as_loaded(plugins_dir, tmp_path):
    profile = tmp_path / "profile"
    enabled = _qgis_process(["plugins", "enable", "landfuse"], plugins_dir, profile)
    assert enabled.returncode == 0, enabled.stderr
    listed = _qgis_process(["plugins"], plugins_dir, profile)
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "landfuse" in line]
    assert rows and rows[0].lstrip().startswith("*"), listed.stdout
    providers = _qgis_process(["list"], plugins_dir, profile)
    assert "LandFuse" in providers.stdout, providers.stdout[-2000:]
