"""Processing algorithm ``landfuse:train``: optical + SAR layers and reference features -> a trained model."""

from __future__ import annotations

import re
from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingUtils,
)

from ...common.bands import parse_band_list
from .. import service, settings
from ..vector_io import renderer_classes, source_layer, write_geojson
from .base import LandFuseAlgorithm, optional_output, raster_file
from .classify import DEVICES

ARCHITECTURES = ("claire", "specsar_former", "cloudseg", "edc")
VARIANTS = ("lite", "paper")
DEFAULT_MINUTES = 5.0

HELP = """Trains a LandFuse fusion model on your own reference data: points or polygons of your classes drawn over \
an optical and a SAR layer. Training runs in the LandFuse backend (GPU when available, else CPU).

<b>Optical layer</b>, <b>SAR layer</b>: rasters GDAL opens; the SAR layer is resampled onto the optical grid. \
<b>Bands</b> (1-based indexes) or <b>band names</b> (comma-separated): the bands to learn from; empty = all bands. \
The model remembers the band names (the layers' band descriptions), so classifying another scene finds them by name.
<b>Reference features</b>: a point or polygon layer; tick <i>Selected features only</i> to use the selection. \
<b>Class field</b>: text or numbers. When the layer has a categorized style on that field, its categories give \
the classes' order, names (legend labels) and colours.
<b>Architecture</b> and <b>variant</b>: one of the four fusion models; lite trains in minutes on a CPU, paper \
sizes want a GPU and, for their encoders, an ImageNet <b>encoder file</b> (advanced).
<b>Time budget</b> (minutes) and <b>epochs</b>: training stops at whichever ends first (epochs 0 = time only).
<b>Processing area</b>: an extent and/or a polygon mask; only reference features inside it are used.
Advanced: the share of each class's features held out for validation (whole features, not pixels), the training \
window, how many pixels around a point are labelled, the seed and the number of CPU threads.

Outputs: the <b>model file</b> (ONNX with its card: bands, normalisation measured on your data, classes and \
colours, validation scores); by default it is saved in the models folder of the LandFuse settings as <b>model \
name</b>.onnx, where the dock and "Classify land cover" list it. The <b>training report</b> (JSON: per-class \
validation accuracy, losses, budget) and the <b>curves</b> (PNG: loss and validation per epoch)."""


class TrainAlgorithm(LandFuseAlgorithm):
    NAME = "train"
    DISPLAY_NAME = "Train from reference data"
    HELP = HELP

    OPTICAL = "OPTICAL"
    OPTICAL_BANDS = "OPTICAL_BANDS"
    OPTICAL_BAND_NAMES = "OPTICAL_BAND_NAMES"
    SAR = "SAR"
    SAR_BANDS = "SAR_BANDS"
    SAR_BAND_NAMES = "SAR_BAND_NAMES"
    REFERENCE = "REFERENCE"
    CLASS_FIELD = "CLASS_FIELD"
    ARCHITECTURE = "ARCHITECTURE"
    VARIANT = "VARIANT"
    ENCODER = "ENCODER"
    MINUTES = "MINUTES"
    EPOCHS = "EPOCHS"
    DEVICE = "DEVICE"
    EXTENT = "EXTENT"
    MASK = "MASK"
    HOLDOUT = "HOLDOUT"
    WINDOW = "WINDOW"
    POINT_RADIUS = "POINT_RADIUS"
    SEED = "SEED"
    THREADS = "THREADS"
    MODEL_NAME = "MODEL_NAME"
    OUTPUT_MODEL = "OUTPUT_MODEL"
    REPORT = "REPORT"
    CURVES = "CURVES"
    MODEL_FILE = "MODEL_FILE"
    VALIDATION_OA = "VALIDATION_OA"
    VALIDATION_MIOU = "VALIDATION_MIOU"
    MODEL_CHOICE = "MODEL_CHOICE"

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 (QGIS's name)
        prefs = settings.load()
        self.add_input_parameters("bands (empty: all)")
        self.add_reference_parameters()
        self.addParameter(
            QgsProcessingParameterEnum(
                self.ARCHITECTURE, "Architecture", list(ARCHITECTURES), False, ARCHITECTURES[0], False, True
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.VARIANT, "Variant", list(VARIANTS), False, "lite", False, True)
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.MINUTES, "Time budget (minutes)", QgsProcessingParameterNumber.Double, DEFAULT_MINUTES, False, 0.05
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.EPOCHS, "Epochs (0: until the time budget ends)", QgsProcessingParameterNumber.Integer, 0, True, 0
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.DEVICE, "Device", list(DEVICES), False, prefs.device, False, True)
        )
        self.addParameter(
            QgsProcessingParameterExtent(self.EXTENT, "Processing extent (empty: whole layer)", None, True)
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.MASK, "Processing area mask (polygons)", [QgsProcessing.TypeVectorPolygon], None, True
            )
        )
        for param in (
            QgsProcessingParameterFile(
                self.ENCODER,
                "ImageNet encoder weights (paper variants)",
                QgsProcessingParameterFile.File,
                optional=True,
            ),
            _number(self.HOLDOUT, "Validation share of each class's features (%)", 25.0, 0.0, 90.0, double=True),
            _number(self.WINDOW, "Training window (pixels, multiple of 32)", 64, 32, 1024),
            _number(self.POINT_RADIUS, "Pixels labelled around a point (radius)", 1, 0, 50),
            _number(self.SEED, "Random seed", 0, 0, 2**31 - 1),
            _number(self.THREADS, "CPU threads (0: all)", 0, 0, 256),
        ):
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(param)
        self.addParameter(QgsProcessingParameterString(self.MODEL_NAME, "Model name", "my-landcover"))
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_MODEL,
                "Model file (empty: <models folder>/<model name>.onnx)",
                "ONNX models (*.onnx)",
                None,
                True,
                False,
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(self.REPORT, "Training report", "JSON files (*.json)", None, True)
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(self.CURVES, "Training curves", "PNG images (*.png)", None, True)
        )
        self.addOutput(QgsProcessingOutputFile(self.MODEL_FILE, "Trained model file"))
        self.addOutput(QgsProcessingOutputString(self.MODEL_CHOICE, "Model name in the model lists"))
        self.addOutput(QgsProcessingOutputNumber(self.VALIDATION_OA, "Validation overall accuracy"))
        self.addOutput(QgsProcessingOutputNumber(self.VALIDATION_MIOU, "Validation mean IoU"))

    def processAlgorithm(self, parameters, context, feedback) -> dict:  # noqa: N802 (QGIS's name)
        optical_layer = self.parameterAsRasterLayer(parameters, self.OPTICAL, context)
        optical = raster_file(optical_layer, "optical")
        sar = raster_file(self.parameterAsRasterLayer(parameters, self.SAR, context), "SAR")
        crs = optical_layer.crs()
        field = self.parameterAsString(parameters, self.CLASS_FIELD, context)
        source = self.parameterAsSource(parameters, self.REFERENCE, context)
        if source is None:
            raise QgsProcessingException("The reference layer is missing or invalid: choose a point or polygon layer.")
        folder = Path(QgsProcessingUtils.tempFolder())
        references = folder / f"references-{id(self)}.geojson"
        count = write_geojson(source, references, crs, context, field)
        classes = renderer_classes(source_layer(parameters.get(self.REFERENCE), context), field)
        feedback.pushInfo(
            f"{count} reference features; classes from "
            + ("the layer's categorized style" if classes else f"the values of {field}")
        )
        output = self._model_path(parameters, context)
        request = {
            "optical": optical,
            "sar": sar,
            "optical_bands": _bands(self, parameters, self.OPTICAL_BANDS, self.OPTICAL_BAND_NAMES, context),
            "sar_bands": _bands(self, parameters, self.SAR_BANDS, self.SAR_BAND_NAMES, context),
            "references": str(references),
            "classes": classes or None,
            "architecture": self.parameterAsEnumString(parameters, self.ARCHITECTURE, context),
            "variant": self.parameterAsEnumString(parameters, self.VARIANT, context),
            "time_budget_s": 60.0 * self.parameterAsDouble(parameters, self.MINUTES, context),
            "epochs": self.parameterAsInt(parameters, self.EPOCHS, context) or None,
            "device": self.parameterAsEnumString(parameters, self.DEVICE, context),
            "holdout": self.parameterAsDouble(parameters, self.HOLDOUT, context) / 100.0,
            "window": self.parameterAsInt(parameters, self.WINDOW, context),
            "point_radius": self.parameterAsInt(parameters, self.POINT_RADIUS, context),
            "seed": self.parameterAsInt(parameters, self.SEED, context),
            "threads": self.parameterAsInt(parameters, self.THREADS, context),
            "init_encoder": self.parameterAsFile(parameters, self.ENCODER, context) or None,
            "output": output,
            "report": optional_output(self.parameterAsFileOutput(parameters, self.REPORT, context)),
            "plot": optional_output(self.parameterAsFileOutput(parameters, self.CURVES, context)),
        }
        request.update(_area(self, parameters, context, crs, folder))
        feedback.pushInfo(f"Training {request['architecture']}-{request['variant']} on {request['device']}")
        result = service.call("train_reference", request, feedback)
        validation = result["training"].get("validation") or {}
        for entry in result["training"]["classes"]:
            accuracy = entry.get("validation_accuracy")
            shown = f"{100 * accuracy:.1f} %" if accuracy is not None else "no validation features"
            feedback.pushInfo(f"{entry['name']}: {entry['train_features']} training features, validation {shown}")
        return {
            self.MODEL_FILE: result["output"],
            self.MODEL_CHOICE: Path(result["output"]).stem,
            self.OUTPUT_MODEL: result["output"],
            self.REPORT: result["report"],
            self.CURVES: result["plot"],
            self.VALIDATION_OA: validation.get("oa"),
            self.VALIDATION_MIOU: validation.get("miou"),
        }

    def _model_path(self, parameters, context) -> str:
        """The model file asked for, else ``<models folder>/<model name>.onnx``."""
        given = self.parameterAsFileOutput(parameters, self.OUTPUT_MODEL, context)
        if given:
            return given if given.lower().endswith(".onnx") else f"{given}.onnx"
        name = re.sub(r"[^\w.-]+", "-", self.parameterAsString(parameters, self.MODEL_NAME, context)).strip("-.")
        folder = settings.load().models_folder
        if not folder or not name:
            raise QgsProcessingException(
                "Give a model file, or set a models folder in Settings > Options > LandFuse and a model name: the "
                "model is saved there so the dock and 'Classify land cover' list it."
            )
        return str(Path(folder) / f"{name}.onnx")


def _number(name, description, default, minimum, maximum, double=False) -> QgsProcessingParameterNumber:
    kind = QgsProcessingParameterNumber.Double if double else QgsProcessingParameterNumber.Integer
    return QgsProcessingParameterNumber(name, description, kind, default, False, minimum, maximum)


def _bands(algorithm, parameters, indexes: str, names: str, context) -> list | None:
    """Bands by index or by name (``None``: all bands)."""
    chosen = algorithm.parameterAsInts(parameters, indexes, context)
    named = parse_band_list(algorithm.parameterAsString(parameters, names, context))
    if chosen and named:
        raise QgsProcessingException(f"Give the bands either by index ({indexes}) or by name ({names}), not both.")
    return chosen or named or None


def _area(algorithm, parameters, context, crs, folder: Path) -> dict:
    """The processing area for the worker: ``extent`` in ``crs`` and ``mask`` (a GeoJSON file), when given."""
    area = {}
    if parameters.get(algorithm.EXTENT):
        extent = algorithm.parameterAsExtent(parameters, algorithm.EXTENT, context, crs)
        if extent.isEmpty():
            raise QgsProcessingException("The processing extent is empty: draw or type an extent with an area.")
        area["extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
    mask = algorithm.parameterAsSource(parameters, algorithm.MASK, context)
    if mask is not None:
        path = folder / f"mask-{id(algorithm)}.geojson"
        write_geojson(mask, path, crs, context, what="mask")
        area["mask"] = str(path)
    return area
