"""What every LandFuse algorithm shares: provider group, icon, cloning, file-backed raster inputs, text files."""

from __future__ import annotations

import json
from pathlib import Path

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProviderRegistry,
    QgsRasterLayer,
)
from qgis.PyQt.QtGui import QIcon

from ..paths import ICON_PATH

HELP_URL = "https://github.com/landfuse/landfuse#readme"


class LandFuseAlgorithm(QgsProcessingAlgorithm):
    """Base class: subclasses define ``NAME``, ``DISPLAY_NAME``, ``HELP`` and the QGIS hooks."""

    NAME = ""
    DISPLAY_NAME = ""
    HELP = ""

    def createInstance(self):  # noqa: N802 (QGIS's name)
        return type(self)()

    def name(self) -> str:
        return self.NAME

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return self.DISPLAY_NAME

    def group(self) -> str:
        return "Land cover"

    def groupId(self) -> str:  # noqa: N802 (QGIS's name)
        return "landcover"

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS's name)
        return self.HELP

    def helpUrl(self) -> str:  # noqa: N802 (QGIS's name)
        return HELP_URL

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def flags(self):
        return super().flags() | QgsProcessingAlgorithm.FlagCanCancel


def raster_file(layer: QgsRasterLayer | None, what: str) -> str:
    """The file behind a raster layer, as the worker needs it (rasters cross the process boundary as paths).

    Raises ``QgsProcessingException`` for a missing layer or one not backed by a GDAL-readable file
    (web services, databases).
    """
    if layer is None or not layer.isValid():
        raise QgsProcessingException(f"The {what} layer is missing or invalid: choose a raster layer read from a file.")
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"The {what} layer comes from the '{layer.providerType()}' provider; LandFuse reads rasters from files. "
            "Save it as a GeoTIFF (Export > Save As) and use that layer."
        )
    parts = QgsProviderRegistry.instance().decodeUri("gdal", layer.source())
    path = parts.get("path") or layer.source()
    return f"{parts.get('vsiPrefix') or ''}{path}"


def optional_output(value: str | None) -> str | None:
    """A destination parameter's path, or ``None`` when the user skipped that output."""
    return value or None


def read_text(path: str | None) -> str:
    """The text of an output file, or ``""`` when there is none."""
    if path and Path(path).is_file():
        return Path(path).read_text(encoding="utf-8")
    return ""


def read_json(path: str | None) -> dict:
    """A JSON output file as a dict, or ``{}`` when there is none or it does not parse."""
    try:
        return json.loads(read_text(path) or "{}")
    except json.JSONDecodeError:
        return {}


def will_load(context: QgsProcessingContext, path: str | None) -> bool:
    return bool(path) and context.willLoadLayerOnCompletion(path)
