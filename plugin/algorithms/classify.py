"""Processing algorithm ``landfuse:classify``: an optical + SAR raster pair -> land-cover map and report.

The processing area is the whole optical layer, an extent (widened to whole pixels of the optical grid, so
the map's pixels are the layer's own) and/or polygons used as a mask: the worker cuts a masked copy of the
raster that sets the grid (``area_input``, pixels outside the polygons set to nodata) and the engine
classifies that copy, so pixels outside the mask are nodata in the map and left out of its areas. The
optional polygon output is the class map sieved to a minimum mapping unit and polygonized (``vectorise``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsProcessingOutputString,
    QgsProcessingParameterCrs,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterVectorDestination,
    QgsProcessingUtils,
    QgsRectangle,
)

from ...common.bands import parse_band_list
from ...common.precision import (
    FLOAT,
    PRECISIONS,
    float_path,
    is_variant_of_listed_model,
    precision_of_name,
    variant_path,
)
from .. import service, settings
from ..styling import OutputStyler, keep_alive
from ..vector_io import write_geojson
from .base import LandFuseAlgorithm, optional_output, raster_file, read_json, read_text, will_load

DEMO_MODELS = ("claire-lite", "specsar_former-lite", "cloudseg-lite", "edc-lite")
MODEL_SUFFIXES = (".onnx", ".pt")
DEFAULT_MMU_HECTARES = 0.5
DEVICES = ("auto", "cpu", "cuda")
SAR_UNITS = ("auto", "dB", "linear")

HELP = """Classifies land cover from an optical raster (e.g. Sentinel-2) and a SAR raster (e.g. Sentinel-1) with a \
LandFuse fusion model, in the LandFuse backend process (GPU when available, else CPU).

<b>Optical layer</b>, <b>SAR layer</b>: rasters GDAL opens (files, zip archives, cloud storage, GeoPackage \
tables, NetCDF/HDF5 subdatasets, VRT); web services and databases must be exported first. They may differ in CRS \
and resolution: the SAR raster is resampled onto the optical grid (or onto the target grid below).
<b>Optical bands</b>, <b>SAR bands</b>: the bands to feed the model, in the order of the model card (1-based). \
Leave empty to use the bands whose names (band descriptions) match the model card's, or all bands when they have \
no names and their number matches the model.
<b>Optical band names</b>, <b>SAR band names</b>: the same bands given by name instead, comma-separated in the \
model card's order, e.g. B2,B3,B4,B5,B6,B7,B8,B11,B12 or VV,VH. Names are matched loosely (B02 = B2, \
Sigma0_VV_db = VV; B2 never matches B12); a number is a 1-based index. Give indexes or names, not both.
<b>Model</b>: a shipped demonstration model (trained on synthetic data: demonstration only, not for mapping) or a \
model in the models folder of the LandFuse settings (e.g. one made by "Train from reference data").
<b>Model file</b>: a LandFuse model (.onnx with an embedded model card, or a .pt checkpoint); overrides Model.
<b>Device</b>: auto (the GPU when usable), cpu or cuda.
<b>Precision</b>: float32 runs the model as exported; int8 (smaller, can be faster on CPUs) or fp16 (for GPUs) \
runs the lower-precision copy written beside the model file by "landfuse quantize" or "landfuse export --precision" \
(e.g. edc-lite.int8.onnx beside edc-lite.onnx); its card records its agreement with the float32 model.
<b>Processing extent</b>: classify only this extent (the map canvas extent, a drawn one, or a layer's), widened to \
whole pixels of the optical layer; empty = the whole layer. <b>Processing area mask</b>: polygons (tick <i>Selected \
features only</i> to use the selection); pixels outside them are nodata in the map and left out of its areas.
Advanced: <b>tile size</b>, <b>overlap</b> (pixels) and <b>batch size</b> of the sliding-window inference \
(empty = the model card's); <b>target CRS</b> and <b>resolution</b> (in target CRS units) of the output grid \
(empty = the optical layer's; the extent is then in the target CRS); <b>SAR unit</b> of the SAR layer (auto = \
detected from its values; converted to the unit the model expects).

Outputs: <b>class map</b> (Byte GeoTIFF, styled with the model's class names), optional <b>confidence</b> \
(0-100 % probability of the chosen class), optional <b>cloud-free reconstruction</b> (CloudSeg and EDC \
models only), the <b>report</b> (JSON: class areas, confidence, cloud share, timing, model card) and an \
<b>explanation</b> in plain language written from the report's numbers, and optional <b>polygons</b> (GeoPackage: \
class_id, class_name, area_ha, styled by class) of the map after a <b>minimum mapping unit</b> in hectares \
(smaller patches join their largest neighbour; the raster map is not changed)."""


class ClassifyAlgorithm(LandFuseAlgorithm):
    NAME = "classify"
    DISPLAY_NAME = "Classify land cover (SAR + optical)"
    HELP = HELP

    OPTICAL = "OPTICAL"
    OPTICAL_BANDS = "OPTICAL_BANDS"
    SAR = "SAR"
    SAR_BANDS = "SAR_BANDS"
    OPTICAL_BAND_NAMES = "OPTICAL_BAND_NAMES"
    SAR_BAND_NAMES = "SAR_BAND_NAMES"
    MODEL = "MODEL"
    MODEL_FILE = "MODEL_FILE"
    DEVICE = "DEVICE"
    PRECISION = "PRECISION"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    BATCH_SIZE = "BATCH_SIZE"
    TARGET_CRS = "TARGET_CRS"
    RESOLUTION = "RESOLUTION"
    EXTENT = "EXTENT"
    MASK = "MASK"
    SAR_UNIT = "SAR_UNIT"
    OUTPUT = "OUTPUT"
    CONFIDENCE = "CONFIDENCE"
    RECONSTRUCTION = "RECONSTRUCTION"
    REPORT = "REPORT"
    EXPLANATION = "EXPLANATION"
    EXPLANATION_TEXT = "EXPLANATION_TEXT"
    VECTOR = "VECTOR"
    MMU = "MMU"

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 (QGIS's name)
        prefs = settings.load()
        self.add_input_parameters()
        self.addParameter(
            QgsProcessingParameterEnum(
                self.MODEL, "Model", model_choices(prefs.models_folder), False, DEMO_MODELS[0], False, True
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.MODEL_FILE,
                "Model file (overrides Model)",
                QgsProcessingParameterFile.File,
                optional=True,
                fileFilter="LandFuse models (*.onnx *.pt)",
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.DEVICE, "Device", list(DEVICES), False, prefs.device, False, True)
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.PRECISION,
                "Precision (int8, fp16: the copy beside the model)",
                list(PRECISIONS),
                False,
                FLOAT,
                False,
                True,
            )
        )
        self.addParameter(
            QgsProcessingParameterExtent(self.EXTENT, "Processing extent (empty: whole layer)", None, True)
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.MASK, "Processing area mask (polygons)", [QgsProcessing.TypeVectorPolygon], None, True
            )
        )
        tile_default = prefs.tile_size or None
        for param in (
            _integer(self.TILE_SIZE, "Tile size (pixels)", tile_default, 32),
            _integer(self.OVERLAP, "Tile overlap (pixels)", None, 0),
            _integer(self.BATCH_SIZE, "Batch size (tiles)", None, 1),
            QgsProcessingParameterCrs(self.TARGET_CRS, "Target CRS", None, True),
            QgsProcessingParameterNumber(
                self.RESOLUTION, "Target resolution", QgsProcessingParameterNumber.Double, None, True, 0.0
            ),
            QgsProcessingParameterEnum(self.SAR_UNIT, "SAR unit", list(SAR_UNITS), False, "auto", False, True),
        ):
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(param)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Land cover"))
        self.addParameter(QgsProcessingParameterRasterDestination(self.CONFIDENCE, "Confidence", None, True, True))
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.RECONSTRUCTION, "Cloud-free reconstruction", None, True, False)
        )
        self.addParameter(QgsProcessingParameterFileDestination(self.REPORT, "Report", "JSON files (*.json)"))
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.EXPLANATION, "Explanation", "Text files (*.md *.txt)", None, True, True
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                self.VECTOR, "Land cover polygons", QgsProcessing.TypeVectorPolygon, None, True, False
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.MMU,
                "Minimum mapping unit of the polygons (hectares)",
                QgsProcessingParameterNumber.Double,
                DEFAULT_MMU_HECTARES,
                False,
                0.0,
            )
        )
        self.addOutput(QgsProcessingOutputString(self.EXPLANATION_TEXT, "Explanation text"))

    def processAlgorithm(self, parameters, context, feedback) -> dict:  # noqa: N802 (QGIS's name)
        prefs = settings.load()
        model_file = self.parameterAsFile(parameters, self.MODEL_FILE, context)
        model = model_file or self.parameterAsEnumString(parameters, self.MODEL, context)
        precision = self.parameterAsEnumString(parameters, self.PRECISION, context) or FLOAT
        if precision != FLOAT:
            model = self._copy_of(model, precision, prefs.models_folder or None)
        optical_layer = self.parameterAsRasterLayer(parameters, self.OPTICAL, context)
        outputs = {
            "output": self.parameterAsOutputLayer(parameters, self.OUTPUT, context),
            "confidence": optional_output(self.parameterAsOutputLayer(parameters, self.CONFIDENCE, context)),
            "reconstruction": optional_output(self.parameterAsOutputLayer(parameters, self.RECONSTRUCTION, context)),
            "report": self.parameterAsFileOutput(parameters, self.REPORT, context),
            "explanation": optional_output(self.parameterAsFileOutput(parameters, self.EXPLANATION, context)),
        }
        sar_layer = self.parameterAsRasterLayer(parameters, self.SAR, context)
        request = {
            "optical": raster_file(optical_layer, "optical"),
            "optical_bands": self._bands(parameters, self.OPTICAL_BANDS, self.OPTICAL_BAND_NAMES, context),
            "sar": raster_file(sar_layer, "SAR"),
            "sar_bands": self._bands(parameters, self.SAR_BANDS, self.SAR_BAND_NAMES, context),
            "model": model,
            "folder": prefs.models_folder or None,
            **outputs,
            "options": self._options(parameters, context, optical_layer),
        }
        if prefs.llm_path and outputs["explanation"]:
            request["llm_path"] = prefs.llm_path
        vector = self._vector_output(parameters, context)
        mask = self.parameterAsSource(parameters, self.MASK, context)
        steps = QgsProcessingMultiStepFeedback(1 + (mask is not None) + bool(vector), feedback)
        masked = None
        try:
            if mask is not None:
                masked = self._cut_to_mask(
                    parameters, context, request, mask, {"optical": optical_layer, "sar": sar_layer}, steps
                )
                steps.setCurrentStep(1)
            feedback.pushInfo(f"Classifying with model {model} on device preference {request['options']['device']}")
            result = service.call("classify", request, steps)
        finally:
            if masked:
                Path(masked).unlink(missing_ok=True)
        paths = {**outputs, **{k: v for k, v in result["outputs"].items() if k in outputs}}
        report = result.get("report") or read_json(paths["report"])
        self._style_outputs(context, paths, report)
        if report.get("device"):
            feedback.pushInfo(f"Ran on {report['device']}")
        if vector:
            steps.setCurrentStep(1 + (mask is not None))
            mmu = self.parameterAsDouble(parameters, self.MMU, context)
            polygons = service.call(
                "vectorise", {"class_map": paths["output"], "output": vector, "mmu_hectares": mmu}, steps
            )
            feedback.pushInfo(
                f"{polygons['features']} polygons of at least {mmu:g} ha ({polygons['mmu_pixels']} pixels)"
            )
        return {
            self.VECTOR: vector or None,
            self.OUTPUT: paths["output"],
            self.CONFIDENCE: paths["confidence"],
            self.RECONSTRUCTION: paths["reconstruction"],
            self.REPORT: paths["report"],
            self.EXPLANATION: paths["explanation"],
            self.EXPLANATION_TEXT: read_text(paths["explanation"]) or result.get("explanation") or "",
        }

    def _copy_of(self, model: str, precision: str, folder: str | None) -> str:
        """The file of ``model``'s ``precision`` copy (``<stem>.<precision>.onnx`` beside the model file)."""
        path = Path(service.call("model_card", {"model": model, "folder": folder})["path"])
        if precision_of_name(path) == precision:
            return str(path)
        if path.suffix != ".onnx":
            raise QgsProcessingException(
                f"Only exported .onnx models have {precision} copies, and {path.name} is a checkpoint: export it "
                f"with 'python -m landfuse.backend export {path} OUTPUT.onnx --precision {precision}', "
                f"or choose the precision {FLOAT}."
            )
        copy = variant_path(float_path(path), precision)
        if not copy.is_file():
            raise QgsProcessingException(
                f"The model {model} has no {precision} copy: there is no {copy.name} beside {path}. Write it with "
                f"'python -m landfuse.backend quantize {float_path(path)} --precision {precision}', "
                f"or choose the precision {FLOAT}."
            )
        return str(copy)

    def _bands(self, parameters, indexes: str, names: str, context) -> list[int | str] | None:
        """The bands chosen by index or by name (``None``: the backend finds them), one per model band."""
        chosen = self.parameterAsInts(parameters, indexes, context)
        named = parse_band_list(self.parameterAsString(parameters, names, context))
        if chosen and named:
            raise QgsProcessingException(
                f"Give the bands either by index ({indexes}: {chosen}) or by name ({names}: {named}), not both."
            )
        return chosen or named or None

    def _options(self, parameters, context, optical_layer) -> dict:
        crs = self.parameterAsCrs(parameters, self.TARGET_CRS, context)
        grid_crs = crs if crs.isValid() else optical_layer.crs()
        options = {
            "device": self.parameterAsEnumString(parameters, self.DEVICE, context),
            "sar_unit": self.parameterAsEnumString(parameters, self.SAR_UNIT, context),
            "tile_size": _optional_int(self, parameters, self.TILE_SIZE, context),
            "overlap": _optional_int(self, parameters, self.OVERLAP, context),
            "batch_size": _optional_int(self, parameters, self.BATCH_SIZE, context),
            "target_crs": (crs.authid() or crs.toWkt()) if crs.isValid() else None,
            "resolution": self.parameterAsDouble(parameters, self.RESOLUTION, context) or None,
            "extent": None,
        }
        if parameters.get(self.EXTENT):
            extent = self.parameterAsExtent(parameters, self.EXTENT, context, grid_crs)
            if extent.isEmpty():
                raise QgsProcessingException("The processing extent is empty: draw or type an extent with an area.")
            if options["target_crs"] is None and options["resolution"] is None:
                extent = snapped_extent(extent, optical_layer)
            options["extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
        return {key: value for key, value in options.items() if value is not None}

    def _vector_output(self, parameters, context) -> str:
        """The GeoPackage asked for as polygon output, or ``""``."""
        path = self.parameterAsOutputLayer(parameters, self.VECTOR, context) if parameters.get(self.VECTOR) else ""
        if path and Path(path.split("|")[0]).suffix.lower() != ".gpkg":
            raise QgsProcessingException(
                f"LandFuse writes the polygons as a GeoPackage: give a .gpkg file for '{self.VECTOR}' (got {path})."
            )
        return path.split("|")[0] if path else ""

    def _cut_to_mask(self, parameters, context, request: dict, mask, layers: dict, feedback) -> str:
        """Give the worker a masked copy of the raster that sets the model's grid (nodata outside ``mask``);
        the processing extent, when given, is applied to the copy. Returns the copy's path (to delete)."""
        card = service.call("model_card", {"model": request["model"], "folder": request["folder"]})["card"]
        modality = "optical" if card.get("optical_bands") else "sar"
        layer = layers[modality]
        folder = Path(QgsProcessingUtils.tempFolder())
        mask_file = folder / f"mask-{id(self)}-{os.getpid()}.geojson"
        write_geojson(mask, mask_file, layer.crs(), context, what="mask")
        cut = {"raster": request[modality], "mask": str(mask_file), "output": str(folder / f"area-{id(self)}.tif")}
        if parameters.get(self.EXTENT):
            extent = self.parameterAsExtent(parameters, self.EXTENT, context, layer.crs())
            cut["extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
        area = service.call("area_input", cut, feedback)
        feedback.pushInfo(f"Processing area: {area['pixels_inside']} pixels inside the mask")
        request[modality] = area["output"]
        request["options"].pop("extent", None)
        return area["output"]

    def _style_outputs(self, context, paths: dict, report: dict) -> None:
        """Style the outputs QGIS loads (the toolbox, the modeler, batch): classes, confidence, true colour."""
        model = report.get("model") or {}
        if will_load(context, paths["output"]):
            name = f"Land cover ({model.get('architecture', '')}-{model.get('variant', '')})" if model else None
            styler = keep_alive(OutputStyler("classes", report.get("classes", []), name))
            context.layerToLoadOnCompletionDetails(paths["output"]).setPostProcessor(styler)
        if will_load(context, paths["confidence"]):
            styler = keep_alive(OutputStyler("confidence"))
            context.layerToLoadOnCompletionDetails(paths["confidence"]).setPostProcessor(styler)
        if will_load(context, paths["reconstruction"]):
            bands = [band["name"] for band in model.get("optical_bands", [])]
            styler = keep_alive(OutputStyler("reconstruction", bands=bands))
            context.layerToLoadOnCompletionDetails(paths["reconstruction"]).setPostProcessor(styler)


def model_choices(models_folder: str | None) -> list[str]:
    """The demo models, then the model files (``.onnx``, ``.pt``) of the user's models folder by name.

    Lower-precision copies of a listed model (``X.int8.onnx`` beside ``X.onnx``) are its ``PRECISION``, not models.
    """
    names = list(DEMO_MODELS)
    folder = Path(models_folder) if models_folder else None
    if folder is not None and folder.is_dir():
        found = sorted(
            {
                path.stem
                for path in folder.iterdir()
                if path.suffix in MODEL_SUFFIXES and path.is_file() and not is_variant_of_listed_model(path)
            }
        )
        names += [name for name in found if name not in names]
    return names


def snapped_extent(extent: QgsRectangle, layer) -> QgsRectangle:
    """``extent`` widened to whole pixels of ``layer``'s grid and cut to the layer (in the layer's CRS)."""
    bounds = layer.extent()
    width, height = layer.rasterUnitsPerPixelX(), layer.rasterUnitsPerPixelY()
    left = bounds.xMinimum() + math.floor((extent.xMinimum() - bounds.xMinimum()) / width + 1e-6) * width
    right = bounds.xMinimum() + math.ceil((extent.xMaximum() - bounds.xMinimum()) / width - 1e-6) * width
    top = bounds.yMaximum() - math.floor((bounds.yMaximum() - extent.yMaximum()) / height + 1e-6) * height
    bottom = bounds.yMaximum() - math.ceil((bounds.yMaximum() - extent.yMinimum()) / height - 1e-6) * height
    snapped = QgsRectangle(left, bottom, right, top).intersect(bounds)
    if snapped.isEmpty():
        raise QgsProcessingException("The processing extent does not overlap the optical layer.")
    return snapped


def _integer(name: str, description: str, default: int | None, minimum: int) -> QgsProcessingParameterNumber:
    return QgsProcessingParameterNumber(name, description, QgsProcessingParameterNumber.Integer, default, True, minimum)


def _optional_int(algorithm, parameters, name, context) -> int | None:
    """An optional integer parameter: ``None`` when not given (the model card's value applies)."""
    value = parameters.get(name, algorithm.parameterDefinition(name).defaultValue())
    if value is None or value == "":
        return None
    return algorithm.parameterAsInt(parameters, name, context)
