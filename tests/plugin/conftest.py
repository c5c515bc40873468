"""One real QgsApplication (offscreen) for the whole test session, with Processing initialised."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
PROCESSING_PLUGINS = "/usr/share/qgis/python/plugins"
if PROCESSING_PLUGINS not in sys.path:  # so test modules can `import processing` at the top
    sys.path.append(PROCESSING_PLUGINS)


@pytest.fixture(scope="session", autouse=True)
def qgis_app(tmp_path_factory):
    """The session's QgsApplication; a temporary profile keeps the user's settings untouched."""
    from qgis.core import QgsApplication

    os.environ.setdefault("QGIS_CUSTOM_CONFIG_PATH", str(tmp_path_factory.mktemp("qgis-profile")))
    if PROCESSING_PLUGINS not in sys.path:
        sys.path.append(PROCESSING_PLUGINS)
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], True)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    yield app
    # No exitQgis(): it segfaults while unowned raster layers are still alive (QGIS 3.22).


@pytest.fixture(scope="session")
def shared_worker(qgis_app):
    """Stops the plugin's shared backend worker at the end of the session (tests reuse one worker)."""
    from landfuse.plugin import service

    yield service
    service.shutdown(wait=True)


@pytest.fixture(scope="module")
def landfuse_provider(shared_worker):
    """The LandFuse provider registered for one test module (removed after it, so loader tests start clean)."""
    from qgis.core import QgsApplication

    from landfuse.plugin.provider import LandFuseProvider

    provider = LandFuseProvider()
    provider.register()
    yield provider
    QgsApplication.processingRegistry().removeProvider(provider)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, landfuse_provider):
    """A small optical + SAR scene, reference labels and a tiny ONNX model, written once per module."""
    from tests.plugin.helpers import write_labels, write_scene, write_tiny_model

    folder = tmp_path_factory.mktemp("plugin-inputs")
    optical, sar = write_scene(folder / "scene")
    return {
        "optical": optical,
        "sar": sar,
        "labels": write_labels(folder / "labels.tif"),
        "model": write_tiny_model(folder / "tiny.onnx"),
        "folder": folder,
    }
