"""The Processing provider ``landfuse``: the algorithms and the shipped graphical-modeler models.

The models' steps are LandFuse algorithms, which a model can only resolve once the provider is in the
registry: :meth:`LandFuseProvider.register` adds the provider, then loads again with the models.
"""

from __future__ import annotations

from qgis.core import QgsApplication, QgsProcessingModelAlgorithm, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .paths import ICON_PATH, RESOURCES

PROVIDER_ID = "landfuse"
MODELS_FOLDER = RESOURCES / "models"


class LandFuseProvider(QgsProcessingProvider):
    def id(self) -> str:
        return PROVIDER_ID

    def name(self) -> str:
        return "LandFuse"

    def longName(self) -> str:  # noqa: N802 (QGIS's name)
        return "LandFuse: SAR + optical land-cover fusion"

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def supportedOutputRasterLayerExtensions(self) -> list[str]:  # noqa: N802 (QGIS's name)
        """The backend writes GeoTIFF only, so destinations offer (and default to) ``.tif``."""
        return ["tif"]

    def defaultRasterFileExtension(self) -> str:  # noqa: N802 (QGIS's name)
        return "tif"

    def supportedOutputVectorLayerExtensions(self) -> list[str]:  # noqa: N802 (QGIS's name)
        """The backend writes GeoPackage only (polygons, samples), so vector destinations default to ``.gpkg``."""
        return ["gpkg"]

    def loadAlgorithms(self) -> None:  # noqa: N802 (QGIS's name)
        from .algorithms import all_algorithms

        for algorithm in all_algorithms():
            self.addAlgorithm(algorithm)
        if QgsApplication.processingRegistry().providerById(PROVIDER_ID) is not None:
            for model in shipped_models():
                self.addAlgorithm(model)

    def register(self) -> None:
        """Add the provider to QGIS's registry, then reload so the models find their child algorithms."""
        QgsApplication.processingRegistry().addProvider(self)
        self.refreshAlgorithms()


def shipped_models() -> list[QgsProcessingModelAlgorithm]:
    """The ``.model3`` workflows in ``resources/models`` (classify then explain, classify then evaluate)."""
    models = []
    for path in sorted(MODELS_FOLDER.glob("*.model3")):
        model = QgsProcessingModelAlgorithm()
        if model.fromFile(str(path)) and model.name():
            model.setSourceFilePath(str(path))
            models.append(model)
    return models
