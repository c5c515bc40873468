"""What every LandFuse algorithm shares: provider group, icon, cloning, GDAL raster inputs, text files."""

from __future__ import annotations

import json
import re
from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingParameterBand,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsRasterLayer,
)
from qgis.PyQt.QtGui import QIcon

from ..i18n import tr
from ..paths import ICON_PATH

HELP_URL = "https://github.com/landfuse/landfuse#readme"


def algorithm_tags(name: str) -> list[str]:
    """The search tags of algorithm ``name`` (what the toolbox's search box matches besides the name)."""
    common = [tr("land cover"), tr("classification"), "LandFuse"]
    specific = {
        "classify": [
            tr("SAR"),
            tr("optical"),
            tr("fusion"),
            "Sentinel-1",
            "Sentinel-2",
            tr("segmentation"),
            tr("deep learning"),
            tr("cloud"),
            "ONNX",
            "GPU",
        ],
        "batch": [
            tr("SAR"),
            tr("optical"),
            tr("fusion"),
            tr("batch"),
            tr("many scenes"),
            "Sentinel-1",
            "Sentinel-2",
            tr("deep learning"),
        ],
        "explain": [tr("explanation"), tr("report"), tr("language model"), "LLM", "Phi-3", tr("summary")],
        "evaluate": [
            tr("accuracy"),
            tr("assessment"),
            tr("validation"),
            tr("confusion matrix"),
            "IoU",
            "mIoU",
            tr("kappa"),
            tr("reference labels"),
        ],
        "train": [tr("training"), tr("reference data"), tr("polygons"), tr("samples"), tr("deep learning"), "ONNX"],
        "assess": [
            tr("accuracy"),
            tr("assessment"),
            tr("area estimate"),
            tr("confidence interval"),
            "Olofsson",
            tr("confusion matrix"),
        ],
        "stratified_sample": [tr("sampling"), tr("stratified random sample"), tr("accuracy"), tr("points")],
    }
    return common + specific.get(name, [])


class LandFuseAlgorithm(QgsProcessingAlgorithm):
    """Base class: subclasses define ``NAME``, ``DISPLAY_NAME``, ``HELP`` and the QGIS hooks.

    The display name and help are translated (the translation template lists them); tags come from
    :func:`algorithm_tags`.
    """

    NAME = ""
    DISPLAY_NAME = ""
    HELP = ""

    def createInstance(self):  # noqa: N802 (QGIS's name)
        return type(self)()

    def name(self) -> str:
        return self.NAME

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return tr(self.DISPLAY_NAME)

    def tags(self) -> list[str]:
        return algorithm_tags(self.NAME)

    def group(self) -> str:
        return tr("Land cover")

    def groupId(self) -> str:  # noqa: N802 (QGIS's name)
        return "landcover"

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS's name)
        return tr(self.HELP)

    def helpUrl(self) -> str:  # noqa: N802 (QGIS's name)
        return HELP_URL

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def flags(self):
        return super().flags() | QgsProcessingAlgorithm.FlagCanCancel

    def add_input_parameters(self, bands_label: str = "bands") -> None:
        """The optical and the SAR layer, each with its bands by index or by name: the subclass's ``OPTICAL``,
        ``OPTICAL_BANDS``, ``OPTICAL_BAND_NAMES``, ``SAR``, ``SAR_BANDS`` and ``SAR_BAND_NAMES``."""
        for layer, bands, names, what in (
            (self.OPTICAL, self.OPTICAL_BANDS, self.OPTICAL_BAND_NAMES, "Optical"),
            (self.SAR, self.SAR_BANDS, self.SAR_BAND_NAMES, "SAR"),
        ):
            self.addParameter(QgsProcessingParameterRasterLayer(layer, f"{what} layer"))
            self.addParameter(QgsProcessingParameterBand(bands, f"{what} {bands_label}", None, layer, True, True))
            self.addParameter(
                QgsProcessingParameterString(
                    names, f"{what} band names (comma-separated, instead of bands)", None, False, True
                )
            )

    def add_reference_parameters(self) -> None:
        """Reference points or polygons and their class field: the subclass's ``REFERENCE`` and ``CLASS_FIELD``."""
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.REFERENCE,
                "Reference features (points or polygons)",
                [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon],
            )
        )
        self.addParameter(QgsProcessingParameterField(self.CLASS_FIELD, "Class field", None, self.REFERENCE))


# What QGIS adds to a GDAL source and GDAL itself does not accept: open options and authentication.
_QGIS_ONLY_PARTS = re.compile(r"\|(?:option|credential):[^|]*| authcfg='[^']*'")


def gdal_source(source: str) -> str:
    """The string GDAL opens for a QGIS ``gdal`` raster source.

    Kept whole: files, ``/vsizip/`` / ``/vsicurl/`` / ``/vsis3/`` paths, ``GPKG:file.gpkg:table``,
    subdatasets (``NETCDF:"f.nc":var``, ``HDF5:...``, ``SENTINEL2_L2A:...``) and VRTs; removed: QGIS's
    ``|option:KEY=VALUE`` open options and `` authcfg='...'``.
    """
    return _QGIS_ONLY_PARTS.sub("", source)


def raster_file(layer: QgsRasterLayer | None, what: str) -> str:
    """The GDAL source of a raster layer, as the worker opens it (rasters cross the process boundary as strings).

    Raises ``QgsProcessingException`` for a missing layer or one GDAL cannot open (web services, databases).
    """
    if layer is None or not layer.isValid():
        raise QgsProcessingException(f"The {what} layer is missing or invalid: choose a raster layer GDAL can read.")
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"The {what} layer comes from the '{layer.providerType()}' provider; LandFuse reads rasters that GDAL "
            "opens (files, archives, cloud storage, GeoPackage). Export it first (Export > Save As...) and use "
            "the saved layer."
        )
    return gdal_source(layer.source())


def optional_output(value: str | None) -> str | None:
    """A destination parameter's path, or ``None`` when the user skipped that output."""
    return value or None


def read_text(path: str | None) -> str:
    """The text of an output file, or ``""`` when there is none."""
    if path and Path(path).is_file():
        return Path(path).read_text(encoding="utf-8")
    return ""


def read_json(path: str | None) -> dict:
    """A JSON output file as a dict, or ``{}`` when there is none or it does not parse."""
    try:
        return json.loads(read_text(path) or "{}")
    except json.JSONDecodeError:
        return {}


def will_load(context: QgsProcessingContext, path: str | None) -> bool:
    return bool(path) and context.willLoadLayerOnCompletion(path)
