"""The plugin loads through QGIS's own loader and from qgis_process, registers its provider and unloads cleanly."""

from __future__ import annotations

import os
import subprocess

import pytest
from qgis.core import QgsApplication

from tests.paths import REPO_ROOT

QGIS_PROCESS = "/usr/bin/qgis_process.bin"


@pytest.fixture()
def plugins_dir(tmp_path):
    """A temporary QGIS plugins folder holding the repository as the plugin ``landfuse``."""
    (tmp_path / "landfuse").symlink_to(REPO_ROOT, target_is_directory=True)
    return tmp_path


def test_qgis_plugin_loader_loads_and_unloads(plugins_dir):
    import qgis.utils

    saved_paths = list(qgis.utils.plugin_paths)
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


def test_class_factory_without_iface_registers_and_removes_provider():
    from landfuse import classFactory

    registry = QgsApplication.processingRegistry()
    before = {p.id() for p in registry.providers()}
    plugin = classFactory(None)
    plugin.initProcessing()
    assert registry.providerById("landfuse") is not None
    plugin.unload()
    assert {p.id() for p in registry.providers()} == before


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
