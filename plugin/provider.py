"""The Processing provider ``landfuse``."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .paths import ICON_PATH

PROVIDER_ID = "landfuse"


class LandFuseProvider(QgsProcessingProvider):
    def id(self) -> str:
        return PROVIDER_ID

    def name(self) -> str:
        return "LandFuse"

    def longName(self) -> str:  # noqa: N802 (QGIS's name)
        return "LandFuse: SAR + optical land-cover fusion"

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def loadAlgorithms(self) -> None:  # noqa: N802 (QGIS's name)
        from .algorithms import all_algorithms

        for algorithm in all_algorithms():
            self.addAlgorithm(algorithm)
