"""Processing algorithm ``landfuse:explain``: a classification report -> a plain-language explanation."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputBoolean,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
)

from .. import service, settings
from ..i18n import tr
from .base import LandFuseAlgorithm, read_text

HELP = """Writes a short plain-language explanation of a LandFuse classification report: what the map shows, \
how much of it the model was sure about, and what to check.

<b>Report</b>: the JSON report written by "Classify land cover".
<b>Metrics</b> (optional): the metrics JSON written by "Evaluate a land-cover map", to explain the accuracy too.
<b>Language model</b>: a GGUF file (e.g. Phi-3 mini); empty = the one set in the LandFuse settings, else the \
small built-in model.

The explanation reads only the report's numbers and the model's class names. Every number it states is \
checked against the report; when the language model gets one wrong, a template explanation replaces it \
and says so.

Outputs: the <b>explanation</b> text file, the same text as a string output, and whether every number was \
checked against the report and whether the template replaced the language model's text."""


class ExplainAlgorithm(LandFuseAlgorithm):
    NAME = "explain"
    DISPLAY_NAME = "Explain a land-cover report"
    HELP = HELP

    REPORT = "REPORT"
    METRICS = "METRICS"
    LLM_PATH = "LLM_PATH"
    OUTPUT = "OUTPUT"
    TEXT = "TEXT"
    GROUNDED = "GROUNDED"
    FALLBACK = "FALLBACK_USED"

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 (QGIS's name)
        self.addParameter(
            QgsProcessingParameterFile(self.REPORT, tr("Report"), QgsProcessingParameterFile.File, "json")
        )
        self.addParameter(
            QgsProcessingParameterFile(self.METRICS, tr("Metrics"), QgsProcessingParameterFile.File, "json", None, True)
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.LLM_PATH,
                tr("Language model (GGUF)"),
                QgsProcessingParameterFile.File,
                optional=True,
                fileFilter=tr("GGUF models (*.gguf)"),
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(self.OUTPUT, tr("Explanation"), tr("Text files (*.md *.txt)"))
        )
        self.addOutput(QgsProcessingOutputString(self.TEXT, tr("Explanation text")))
        self.addOutput(QgsProcessingOutputBoolean(self.GROUNDED, tr("Every number checked against the report")))
        self.addOutput(QgsProcessingOutputBoolean(self.FALLBACK, tr("Template used instead of the language model")))

    def processAlgorithm(self, parameters, context, feedback) -> dict:  # noqa: N802 (QGIS's name)
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        request = {
            "report": self.parameterAsFile(parameters, self.REPORT, context),
            "metrics": self.parameterAsFile(parameters, self.METRICS, context) or None,
            "output": output,
            "llm_path": self.parameterAsFile(parameters, self.LLM_PATH, context) or settings.load().llm_path or None,
        }
        result = service.call("explain", request, feedback)
        record = result.get("record") or {}
        return {
            self.OUTPUT: output,
            self.TEXT: result.get("markdown") or read_text(output),
            self.GROUNDED: bool(record.get("grounded")),
            self.FALLBACK: bool(record.get("fallback_used")),
        }
