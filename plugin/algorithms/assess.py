"""Processing algorithm ``landfuse:assess``: a class map against reference points or polygons -> accuracy
and area estimates (Olofsson et al. 2014), as JSON, an HTML report and a figure."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingUtils,
)

from .. import service
from ..vector_io import write_geojson
from .base import LandFuseAlgorithm, optional_output, raster_file

HELP = """Assesses a land-cover map against reference data you labelled, with the estimators of good practice \
(Olofsson et al. 2014, Remote Sensing of Environment 148: 42-57).

<b>Class map</b>: a LandFuse class map (its classes are named) or any raster of class ids.
<b>Reference features</b>: points (e.g. from "Create a stratified random sample", labelled by you) or polygons; \
tick <i>Selected features only</i> to use the selection. <b>Class field</b>: the true class, as the map's class \
name (Water = water; spaces as underscores) or class id.
<b>Stratified random sample</b>: the points were drawn at random within each map class (as the sampler does). \
The error matrix is then weighted by the mapped area of each class, which gives unbiased overall, user's and \
producer's accuracy with their standard errors, and each class's area with a 95 % confidence interval. Untick it \
for points drawn any other way. Polygons are scored pixel by pixel, without area estimates (pixels of one \
polygon are not independent).

Outputs: the <b>assessment</b> (JSON: confusion matrix, overall accuracy, kappa, per-class user's and producer's \
accuracy, IoU and F1, area estimates; "Explain a land-cover report" takes it as its metrics), an <b>HTML \
report</b>, a <b>figure</b> (PNG: error matrix and class areas) and, as numbers for the modeler, the overall \
accuracy with its standard error and kappa."""


class AssessAlgorithm(LandFuseAlgorithm):
    NAME = "assess"
    DISPLAY_NAME = "Assess accuracy and estimate areas"
    HELP = HELP

    CLASS_MAP = "CLASS_MAP"
    REFERENCE = "REFERENCE"
    CLASS_FIELD = "CLASS_FIELD"
    STRATIFIED = "STRATIFIED"
    OUTPUT = "OUTPUT"
    HTML = "HTML"
    PLOT = "PLOT"
    OA = "OA"
    OA_SE = "OA_SE"
    KAPPA = "KAPPA"

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 (QGIS's name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.CLASS_MAP, "Class map"))
        self.add_reference_parameters()
        self.addParameter(
            QgsProcessingParameterBoolean(self.STRATIFIED, "The points are a stratified random sample of the map", True)
        )
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, "Assessment", "JSON files (*.json)"))
        self.addParameter(
            QgsProcessingParameterFileDestination(self.HTML, "Assessment report", "HTML files (*.html)", None, True)
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.PLOT, "Assessment figure", "PNG images (*.png)", None, True, False
            )
        )
        self.addOutput(QgsProcessingOutputNumber(self.OA, "Overall accuracy"))
        self.addOutput(QgsProcessingOutputNumber(self.OA_SE, "Standard error of the overall accuracy"))
        self.addOutput(QgsProcessingOutputNumber(self.KAPPA, "Cohen's kappa"))

    def processAlgorithm(self, parameters, context, feedback) -> dict:  # noqa: N802 (QGIS's name)
        layer = self.parameterAsRasterLayer(parameters, self.CLASS_MAP, context)
        class_map = raster_file(layer, "class map")
        source = self.parameterAsSource(parameters, self.REFERENCE, context)
        if source is None:
            raise QgsProcessingException("The reference layer is missing or invalid: choose a point or polygon layer.")
        references = Path(QgsProcessingUtils.tempFolder()) / f"assessment-references-{id(self)}.geojson"
        field = self.parameterAsString(parameters, self.CLASS_FIELD, context)
        count = write_geojson(source, references, layer.crs(), context, field)
        feedback.pushInfo(f"{count} reference features")
        request = {
            "class_map": class_map,
            "references": str(references),
            "stratified": self.parameterAsBoolean(parameters, self.STRATIFIED, context),
            "output": self.parameterAsFileOutput(parameters, self.OUTPUT, context),
            "html": optional_output(self.parameterAsFileOutput(parameters, self.HTML, context)),
            "plot": optional_output(self.parameterAsFileOutput(parameters, self.PLOT, context)),
        }
        try:
            assessment = service.call("assess", request, feedback)["assessment"]
        finally:
            references.unlink(missing_ok=True)
        feedback.pushInfo(f"Design: {assessment['design']}")
        for entry in assessment["per_class"]:
            interval = entry.get("hectares_interval")
            area = f", area {interval[0]:.1f}-{interval[1]:.1f} ha (95 %)" if interval else ""
            feedback.pushInfo(
                f"{entry['name']}: user's accuracy {_percent(entry['users_accuracy'])}, producer's accuracy "
                f"{_percent(entry['producers_accuracy'])}{area}"
            )
        for note in assessment.get("notes", []):
            feedback.pushWarning(note)
        return {
            self.OUTPUT: request["output"],
            self.HTML: request["html"],
            self.PLOT: request["plot"],
            self.OA: assessment["oa"],
            self.OA_SE: assessment.get("oa_se"),
            self.KAPPA: assessment.get("kappa"),
        }


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"
