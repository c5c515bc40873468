"""Processing algorithm ``landfuse:evaluate``: a class map against reference labels -> metrics and a plot."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
)

from .. import service
from .base import LandFuseAlgorithm, raster_file, read_json

HELP = """Scores a land-cover map against reference labels on the same class scheme.

<b>Class map</b>: a LandFuse class map (or any Byte raster of class ids).
<b>Reference labels</b>: a raster of the true class ids; it is resampled (nearest neighbour) onto the class \
map's grid. Pixels that are nodata in either raster are left out.

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
    OUTPUT = "OUTPUT"
    PLOT = "PLOT"
    OA = "OA"
    MIOU = "MIOU"
    KAPPA = "KAPPA"

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 (QGIS's name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.CLASS_MAP, "Class map"))
        self.addParameter(QgsProcessingParameterRasterLayer(self.REFERENCE, "Reference labels"))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, "Metrics", "JSON files (*.json)"))
        self.addParameter(
            QgsProcessingParameterFileDestination(self.PLOT, "Confusion matrix", "PNG images (*.png)", None, True, True)
        )
        self.addOutput(QgsProcessingOutputNumber(self.OA, "Overall accuracy"))
        self.addOutput(QgsProcessingOutputNumber(self.MIOU, "Mean IoU"))
        self.addOutput(QgsProcessingOutputNumber(self.KAPPA, "Cohen's kappa"))

    def processAlgorithm(self, parameters, context, feedback) -> dict:  # noqa: N802 (QGIS's name)
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        plot = self.parameterAsFileOutput(parameters, self.PLOT, context) or None
        request = {
            "class_map": raster_file(self.parameterAsRasterLayer(parameters, self.CLASS_MAP, context), "class map"),
            "reference": raster_file(self.parameterAsRasterLayer(parameters, self.REFERENCE, context), "reference"),
            "output": output,
            "plot": plot,
        }
        result = service.call("evaluate", request, feedback)
        metrics = read_json(result.get("output") or output)
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
