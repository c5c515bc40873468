"""The plugin object QGIS holds: registers the Processing provider and, with a GUI, the dock."""

from __future__ import annotations

from qgis.core import QgsApplication

from .provider import LandFuseProvider


class LandFusePlugin:
    """Created by ``classFactory``; works with ``iface=None`` (qgis_process) and with a real iface."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider: LandFuseProvider | None = None

    def initProcessing(self) -> None:  # noqa: N802 (QGIS's name)
        if self.provider is None:
            self.provider = LandFuseProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 (QGIS's name)
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
