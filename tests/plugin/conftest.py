"""One real QgsApplication (offscreen) for the whole test session, with Processing initialised."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
PROCESSING_PLUGINS = "/usr/share/qgis/python/plugins"


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
