"""Processing algorithm ``landfuse:evaluate``: a class map against reference labels -> metrics and a plot."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
)

from .. import service
from ..i18n import tr
from ..paths import RESOURCES
from .base import LandFuseAlgorithm, raster_file

HELP = """Scores a land-cover map against reference labels on the same class scheme.

<b>Class map</b>: a LandFuse class map (or any Byte raster of class ids).
<b>Reference labels</b>: a raster of the true class ids; it is resampled (nearest neighbour) onto the class \
map's grid. Pixels that are nodata in either raster are left out.
<b>Reference codes</b> (optional): the class scheme whose label-file codes the reference holds (e.g. \
dynamic_world for Dynamic World label tiles, 0 = no data, 1 = water ...); empty when it holds class ids.
<b>Cloud mask</b> (optional): a raster, nonzero = cloud; the metrics are then also given for clear and \
cloudy pixels apart.

Outputs: the <b>metrics</b> (JSON: overall accuracy, mean IoU, mean F1, Cohen's kappa, per-class IoU, F1, \
precision and recall, the confusion matrix with rows = reference and columns = predicted, the most \
frequent confusions), a <b>confusion-matrix plot</b> (PNG), and overall accuracy, mean IoU and kappa as \
numbers for the modeler."""


class EvaluateAlgorithm(LandFuseAlgorithm):
    NAME = "evaluate"
    DISPLAY_NAME = "Evaluate a land-cover map"
    HELP = HELP

    CLASS_MAP = "CLASS_MAP"
    REFERENCE = "REFERENCE"
    REFERENCE_CODES = "REFERENCE_CODES"
    CLOUD_MASK = "CLOUD_MASK"
    OUTPUT = "OUTPUT"
    PLOT = "PLOT"
    OA = "OA"
    MIOU = "MIOU"
    KAPPA = "KAPPA"

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 (QGIS's name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.CLASS_MAP, tr("Class map")))
        self.addParameter(QgsProcessingParameterRasterLayer(self.REFERENCE, tr("Reference labels")))
        schemes = sorted(path.stem for path in (RESOURCES / "classes").glob("*.json"))
        self.addParameter(
            QgsProcessingParameterEnum(self.REFERENCE_CODES, tr("Reference codes"), schemes, False, None, True, True)
        )
        self.addParameter(QgsProcessingParameterRasterLayer(self.CLOUD_MASK, tr("Cloud mask"), None, True))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, tr("Metrics"), tr("JSON files (*.json)")))
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.PLOT, tr("Confusion matrix"), tr("PNG images (*.png)"), None, True, True
            )
        )
        self.addOutput(QgsProcessingOutputNumber(self.OA, tr("Overall accuracy")))
        self.addOutput(QgsProcessingOutputNumber(self.MIOU, tr("Mean IoU")))
        self.addOutput(QgsProcessingOutputNumber(self.KAPPA, tr("Cohen's kappa")))

    def processAlgorithm(self, parameters, context, feedback) -> dict:  # noqa: N802 (QGIS's name)
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        plot = self.parameterAsFileOutput(parameters, self.PLOT, context) or None
        request = {
            "class_map": raster_file(self.parameterAsRasterLayer(parameters, self.CLASS_MAP, context), "class map"),
            "reference": raster_file(self.parameterAsRasterLayer(parameters, self.REFERENCE, context), "reference"),
            "reference_codes": self.parameterAsEnumString(parameters, self.REFERENCE_CODES, context) or None,
            "output": output,
            "plot": plot,
        }
        cloud_mask = self.parameterAsRasterLayer(parameters, self.CLOUD_MASK, context)
        if cloud_mask is not None:
            request["cloud_mask"] = raster_file(cloud_mask, "cloud mask")
        metrics = service.call("evaluate", request, feedback)["metrics"]
        for key, value in (("oa", metrics.get("oa")), ("miou", metrics.get("miou")), ("kappa", metrics.get("kappa"))):
            if value is not None:
                feedback.pushInfo(f"{key}: {value:.4f}")
        return {
            self.OUTPUT: output,
            self.PLOT: plot,
            self.OA: metrics.get("oa"),
            self.MIOU: metrics.get("miou"),
            self.KAPPA: metrics.get("kappa"),
        }
