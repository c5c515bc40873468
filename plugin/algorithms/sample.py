"""Processing algorithm ``landfuse:stratified_sample``: random points in each class of a map, to label for
an accuracy assessment (sample size and allocation after Olofsson et al. 2014)."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterVectorDestination,
)

from .. import service
from .base import LandFuseAlgorithm, optional_output, raster_file

HELP = """Draws a stratified random sample of points from a class map, for you to label and then score the map \
with "Assess accuracy and estimate areas". The strata are the map's classes.

<b>Sample size</b>: from the standard error you want for the overall accuracy (<b>target standard error</b>, \
e.g. 0.01) and the <b>expected user's accuracy</b> of the classes, by equation 13 of Olofsson et al. (2014); or \
give the <b>sample size</b> yourself. <b>Minimum per class</b>: rare classes get at least this many points \
(the paper suggests 50 to 100); the rest is shared in proportion to the mapped areas.

Output: a point layer (GeoPackage) with the fields stratum (class id), map_class (its name) and reference \
(empty: type the true class of each point there, then assess with the class field "reference"); and the \
<b>design</b> (JSON: mapped areas, weights, sample size and points per class)."""


class StratifiedSampleAlgorithm(LandFuseAlgorithm):
    NAME = "stratified_sample"
    DISPLAY_NAME = "Create a stratified random sample"
    HELP = HELP

    CLASS_MAP = "CLASS_MAP"
    TARGET_SE = "TARGET_SE"
    EXPECTED_ACCURACY = "EXPECTED_ACCURACY"
    MINIMUM = "MINIMUM"
    SAMPLE_SIZE = "SAMPLE_SIZE"
    SEED = "SEED"
    OUTPUT = "OUTPUT"
    DESIGN = "DESIGN"
    POINTS = "POINTS"

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 (QGIS's name)
        double, integer = QgsProcessingParameterNumber.Double, QgsProcessingParameterNumber.Integer
        self.addParameter(QgsProcessingParameterRasterLayer(self.CLASS_MAP, "Class map"))
        self.addParameter(
            QgsProcessingParameterNumber(
                self.TARGET_SE, "Target standard error of the overall accuracy", double, 0.01, False, 0.001, 0.5
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.EXPECTED_ACCURACY, "Expected user's accuracy of the classes", double, 0.8, False, 0.01, 1.0
            )
        )
        self.addParameter(QgsProcessingParameterNumber(self.MINIMUM, "Minimum per class", integer, 50, False, 0))
        self.addParameter(
            QgsProcessingParameterNumber(
                self.SAMPLE_SIZE, "Sample size (empty: from the target standard error)", integer, None, True, 1
            )
        )
        self.addParameter(QgsProcessingParameterNumber(self.SEED, "Random seed", integer, 0, False, 0))
        self.addParameter(
            QgsProcessingParameterVectorDestination(self.OUTPUT, "Sample points", QgsProcessing.TypeVectorPoint)
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(self.DESIGN, "Sample design", "JSON files (*.json)", None, True)
        )
        self.addOutput(QgsProcessingOutputNumber(self.POINTS, "Points drawn"))

    def processAlgorithm(self, parameters, context, feedback) -> dict:  # noqa: N802 (QGIS's name)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context).split("|")[0]
        if Path(output).suffix.lower() != ".gpkg":
            raise QgsProcessingException(f"LandFuse writes the sample as a GeoPackage: give a .gpkg file, not {output}")
        request = {
            "class_map": raster_file(self.parameterAsRasterLayer(parameters, self.CLASS_MAP, context), "class map"),
            "output": output,
            "allocation": optional_output(self.parameterAsFileOutput(parameters, self.DESIGN, context)),
            "target_se": self.parameterAsDouble(parameters, self.TARGET_SE, context),
            "expected_accuracy": self.parameterAsDouble(parameters, self.EXPECTED_ACCURACY, context),
            "minimum": self.parameterAsInt(parameters, self.MINIMUM, context),
            "seed": self.parameterAsInt(parameters, self.SEED, context),
        }
        if parameters.get(self.SAMPLE_SIZE) not in (None, ""):
            request["total"] = self.parameterAsInt(parameters, self.SAMPLE_SIZE, context)
        result = service.call("stratified_sample", request, feedback)
        design = result["design"]
        feedback.pushInfo(
            f"Sample size {design['total']} (equation 13 gives {design['sample_size_equation_13']}): "
            + ", ".join(f"{entry['name']} {entry['points']}" for entry in design["classes"])
        )
        return {self.OUTPUT: output, self.DESIGN: request["allocation"], self.POINTS: result["points"]}
