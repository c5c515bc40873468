"""Small real inputs for the plugin tests: GeoTIFFs written with QGIS's GDAL, a tiny ONNX fusion model, reference
layers over the test scene, and a shown dock.

The model follows the LandFuse ONNX contract (inputs ``optical`` [B,9,H,W] and ``sar`` [B,2,H,W], output
``logits`` [B,9,H,W], optionally ``reconstruction``; the card in ``metadata_props``), so the real worker
runs it exactly like a shipped model.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from osgeo import gdal, osr
from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsFeature,
    QgsFillSymbol,
    QgsGeometry,
    QgsProject,
    QgsRectangle,
    QgsRendererCategory,
    QgsVectorLayer,
)

from landfuse.common.card import ONNX_METADATA_KEY, BandSpec, ModelCard
from landfuse.common.classes import load_scheme
from landfuse.plugin import settings
from landfuse.plugin.dock import LandFuseDock

OPTICAL_BANDS = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B12")
SAR_BANDS = ("VV", "VH")
EPSG = 32633
ORIGIN = (500000.0, 5100000.0)
PIXEL = 10.0  # metres, the scene's pixel size
CLASS_COLOURS = {"water": "#1f78b4", "fields": "#ffdd00"}  # the reference classes' style, in legend order
CLASS_LABELS = ("Open water", "Fields")
REFERENCE_BOXES = (  # (row, column) of each 8 x 8 pixel polygon of the 64 x 64 scene, and its class
    ((2, 2), "water"),
    ((2, 20), "water"),
    ((40, 4), "water"),
    ((10, 44), "fields"),
    ((30, 30), "fields"),
    ((50, 50), "fields"),
)


def tiny_card(reconstruction: bool = False, name: str = "tiny") -> ModelCard:
    """A card with the demo inputs (S2 9 bands, S1 VV/VH in dB) and the 9 Dynamic World classes."""
    return ModelCard(
        architecture=name,
        variant="test",
        optical_bands=tuple(BandSpec(b, "reflectance x 10000", 1500.0, 1000.0, (0.0, 10000.0)) for b in OPTICAL_BANDS),
        sar_bands=(BandSpec("VV", "dB", -12.0, 5.0, (-40.0, 10.0)), BandSpec("VH", "dB", -19.0, 5.5, (-45.0, 5.0))),
        classes=tuple(load_scheme("dynamic_world")),
        tile_size=64,
        outputs=("logits", "reconstruction") if reconstruction else ("logits",),
        training_data="random weights: plugin tests only",
        licence="GPL-2.0-or-later",
    )


def write_tiny_model(path: Path, reconstruction: bool = False, depth: int = 0, name: str = "tiny") -> Path:
    """A 1x1-convolution classifier over the stacked inputs; ``depth`` 3x3 convolutions of 32 channels make it slow."""
    rng = np.random.default_rng(7)
    card = tiny_card(reconstruction, name)
    channels = len(OPTICAL_BANDS) + len(SAR_BANDS)
    nodes = [helper.make_node("Concat", ["optical", "sar"], ["stacked"], axis=1)]
    initializers = []
    features = "stacked"
    for layer in range(depth):
        weight = (rng.standard_normal((32, channels, 3, 3)) / (3 * channels**0.5)).astype(np.float32)
        initializers.append(numpy_helper.from_array(weight, f"w{layer}"))
        nodes.append(helper.make_node("Conv", [features, f"w{layer}"], [f"f{layer}"], pads=[1, 1, 1, 1]))
        features, channels = f"f{layer}", 32
    head = numpy_helper.from_array(rng.standard_normal((card.num_classes, channels, 1, 1)).astype(np.float32), "head")
    bias = numpy_helper.from_array(rng.standard_normal(card.num_classes).astype(np.float32), "bias")
    initializers += [head, bias]
    nodes.append(helper.make_node("Conv", [features, "head", "bias"], ["logits"]))
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["B", card.num_classes, "H", "W"])]
    if reconstruction:
        nodes.append(helper.make_node("Identity", ["optical"], ["reconstruction"]))
        outputs.append(helper.make_tensor_value_info("reconstruction", TensorProto.FLOAT, ["B", 9, "H", "W"]))
    graph = helper.make_graph(
        nodes,
        "tiny_fusion",
        [
            helper.make_tensor_value_info("optical", TensorProto.FLOAT, ["B", 9, "H", "W"]),
            helper.make_tensor_value_info("sar", TensorProto.FLOAT, ["B", 2, "H", "W"]),
        ],
        outputs,
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {ONNX_METADATA_KEY: json.dumps(card.to_dict())})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def write_raster(
    path: Path, data: np.ndarray, gdal_type: int, pixel: float = 10.0, epsg: int = EPSG, nodata=None
) -> Path:
    """A north-up GeoTIFF of ``data`` [bands, height, width] at ``pixel`` metres."""
    bands, height, width = data.shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), width, height, bands, gdal_type)
    dataset.SetGeoTransform((ORIGIN[0], pixel, 0.0, ORIGIN[1], 0.0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    dataset.SetProjection(srs.ExportToWkt())
    for index in range(bands):
        band = dataset.GetRasterBand(index + 1)
        band.WriteArray(data[index])
        if nodata is not None:
            band.SetNoDataValue(nodata)
    dataset.FlushCache()
    del dataset
    return path


def write_scene(folder: Path, size: int = 64, seed: int = 0) -> tuple[Path, Path]:
    """A synthetic optical (uint16 reflectance x 10000, 9 bands) + SAR (float32 dB, VV/VH) pair, same grid."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    pattern = np.sin(6 * xx + seed) + np.cos(5 * yy - seed)
    optical = np.stack([1500 + 800 * pattern * np.cos(b) + 100 * rng.standard_normal((size, size)) for b in range(9)])
    sar = np.stack([-12 + 3 * pattern + rng.standard_normal((size, size)), -19 - 2 * pattern])
    return (
        write_raster(folder / "optical.tif", np.clip(optical, 0, 10000).astype(np.uint16), gdal.GDT_UInt16),
        write_raster(folder / "sar.tif", sar.astype(np.float32), gdal.GDT_Float32),
    )


def write_labels(path: Path, size: int = 64, seed: int = 0) -> Path:
    """Reference labels (uint8 class ids 0..8, nodata 255) on the scene grid."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 9, (1, size, size)).astype(np.uint8)
    labels[0, :4, :4] = 255
    return write_raster(path, labels, gdal.GDT_Byte, nodata=255)


def pixel_rect(row0: int, col0: int, row1: int, col1: int) -> QgsRectangle:
    """The rectangle of pixels rows row0..row1-1, cols col0..col1-1 of the 64 x 64 test scene."""
    return QgsRectangle(
        ORIGIN[0] + col0 * PIXEL, ORIGIN[1] - row1 * PIXEL, ORIGIN[0] + col1 * PIXEL, ORIGIN[1] - row0 * PIXEL
    )


def memory_layer(kind: str, field: str, features: list[tuple[QgsGeometry, object]], name: str) -> QgsVectorLayer:
    """A memory layer in the scene's CRS with one attribute, added to the project (for selections by id)."""
    field_type = "string(20)" if any(isinstance(v, str) for _, v in features) else "integer"
    layer = QgsVectorLayer(f"{kind}?crs=EPSG:{EPSG}&field={field}:{field_type}", name, "memory")
    items = []
    for geometry, value in features:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(geometry)
        feature.setAttribute(field, value)
        items.append(feature)
    layer.dataProvider().addFeatures(items)
    QgsProject.instance().addMapLayer(layer)
    return layer


def styled_references(boxes=REFERENCE_BOXES, name: str = "refs") -> QgsVectorLayer:
    """Polygons of 8 x 8 pixels with their class in ``landuse``, styled by a categorized renderer (legend labels
    ``CLASS_LABELS`` and colours ``CLASS_COLOURS``), added to the project."""
    layer = memory_layer(
        "Polygon", "landuse", [(QgsGeometry.fromRect(pixel_rect(r, c, r + 8, c + 8)), v) for (r, c), v in boxes], name
    )
    categories = [
        QgsRendererCategory(value, QgsFillSymbol.createSimple({"color": colour}), label)
        for (value, colour), label in zip(CLASS_COLOURS.items(), CLASS_LABELS, strict=True)
    ]
    layer.setRenderer(QgsCategorizedSymbolRenderer("landuse", categories))
    return layer


@contextmanager
def shown_dock(qtbot, models_folder: str, output_folder: str, stop_timeout_ms: int) -> Iterator[LandFuseDock]:
    """A shown dock with the backend started, ``models_folder`` and ``output_folder`` (``""``: beside the project)
    in the settings, on the CPU. On leaving, its run and training are cancelled and waited for (up to
    ``stop_timeout_ms``), the project is cleared and the settings are restored."""
    before = settings.load()
    settings.save(dataclasses.replace(before, models_folder=models_folder, output_folder=output_folder, use_gpu=False))
    widget = LandFuseDock()
    qtbot.addWidget(widget)
    widget.show()
    try:
        qtbot.waitUntil(lambda: widget.backend_started)
        yield widget
        widget.cancel_run()
        widget.cancel_training()
        qtbot.waitUntil(
            lambda: widget.state != "running" and widget.training_panel.current is None, timeout=stop_timeout_ms
        )
    finally:
        QgsProject.instance().removeAllMapLayers()
        QgsProject.instance().clear()
        settings.save(before)
