"""The analyst algorithms in the real QGIS: train from a styled polygon layer, classify an area, sample, assess."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import processing
import pytest
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingUtils,
    QgsProject,
    QgsSettings,
    QgsVectorFileWriter,
    QgsVectorLayer,
)

from landfuse.backend.runners import read_model_card
from landfuse.plugin import service, settings
from tests.plugin.helpers import memory_layer, pixel_rect, styled_references


@pytest.fixture()
def reference_layer():
    """Six polygons, three per class, styled by a categorized renderer with legend labels and colours."""
    layer = styled_references()
    yield layer
    QgsProject.instance().removeMapLayer(layer.id())


@pytest.fixture()
def models_folder(tmp_path):
    """A models folder set in the LandFuse settings for one test."""
    folder = tmp_path / "models"
    folder.mkdir()
    previous = QgsSettings().value(settings.KEY_MODELS_FOLDER, "")
    QgsSettings().setValue(settings.KEY_MODELS_FOLDER, str(folder))
    yield folder
    QgsSettings().setValue(settings.KEY_MODELS_FOLDER, previous)


def read_band(path) -> np.ndarray:
    return gdal.Open(str(path)).ReadAsArray()


def test_vector_destinations_default_to_geopackage_even_where_the_user_prefers_shapefiles(landfuse_provider):
    """The backend writes GeoPackage only: a temporary or unnamed vector output gets ``.gpkg``, whatever
    Processing's own default vector format."""
    key = "Processing/Configuration/DefaultOutputVectorLayerExt"
    previous = QgsSettings().value(key, -1)
    QgsSettings().setValue(key, QgsVectorFileWriter.supportedFormatExtensions().index("shp"))
    try:
        assert QgsProcessingUtils.defaultVectorExtension() == "shp"  # QGIS's default for other providers
        registry = QgsApplication.processingRegistry()
        sample = registry.algorithmById("landfuse:stratified_sample").parameterDefinition("OUTPUT")
        polygons = registry.algorithmById("landfuse:classify").parameterDefinition("VECTOR")
        assert sample.defaultFileExtension() == "gpkg" and polygons.defaultFileExtension() == "gpkg"
    finally:
        QgsSettings().setValue(key, previous)


def test_train_from_a_styled_polygon_layer_gives_a_listed_model(inputs, reference_layer, models_folder, tmp_path):
    """Selected features only; classes, names and colours from the categorized renderer; the model lands in the
    models folder, where the dock's list (the worker's list_models) and the classify algorithm find it."""
    reference_layer.selectByIds([f.id() for f in reference_layer.getFeatures()][1:5])  # 2 water, 2 fields
    results = processing.run(
        "landfuse:train",
        {
            "OPTICAL": str(inputs["optical"]),
            "SAR": str(inputs["sar"]),
            "REFERENCE": QgsProcessingFeatureSourceDefinition(reference_layer.id(), True),
            "CLASS_FIELD": "landuse",
            "EPOCHS": 1,
            "MINUTES": 1.0,
            "WINDOW": 32,
            "THREADS": 1,
            "DEVICE": "cpu",
            "MODEL_NAME": "my fields",
            "REPORT": str(tmp_path / "training.json"),
            "CURVES": str(tmp_path / "curves.png"),
        },
    )
    model = models_folder / "my-fields.onnx"
    assert results["MODEL_FILE"] == str(model) and results["MODEL_CHOICE"] == "my-fields"
    card = read_model_card(model)
    assert [(c.name, c.color) for c in card.classes] == [("Open water", "#1f78b4"), ("Fields", "#ffdd00")]
    assert [b.name for b in card.optical_bands] == [f"band_{i}" for i in range(1, 10)]  # the scene has no band names
    report = json.loads((tmp_path / "training.json").read_text())
    counts = [(c["train_features"], c["validation_features"]) for c in report["classes"]]
    assert counts == [(1, 1), (1, 1)]  # four selected features, one per class held out whole
    assert 0.0 <= results["VALIDATION_OA"] <= 1.0 and (tmp_path / "curves.png").stat().st_size > 1000

    listed = service.call("list_models", {"folder": str(models_folder)})["models"]
    assert "my-fields" in [entry["name"] for entry in listed]
    classify = QgsApplication.processingRegistry().createAlgorithmById("landfuse:classify")
    assert "my-fields" in classify.parameterDefinition("MODEL").options()
    mapped = processing.run(
        "landfuse:classify",
        {
            "OPTICAL": str(inputs["optical"]),
            "SAR": str(inputs["sar"]),
            "MODEL": "my-fields",
            "DEVICE": "cpu",
            "OUTPUT": str(tmp_path / "fields.tif"),
            "REPORT": str(tmp_path / "fields.json"),
        },
    )
    report = json.loads(Path(mapped["REPORT"]).read_text())
    assert [c["name"] for c in report["classes"]] == ["Open water", "Fields"]
    assert sum(c["pixels"] for c in report["classes"]) == 64 * 64


def classify_params(inputs, out: Path, **extra) -> dict:
    return {
        "OPTICAL": str(inputs["optical"]),
        "SAR": str(inputs["sar"]),
        "MODEL_FILE": str(inputs["model"]),
        "DEVICE": "cpu",
        "OUTPUT": str(out / "landcover.tif"),
        "REPORT": str(out / "report.json"),
        "EXPLANATION": None,
        **extra,
    }


@pytest.fixture(scope="module")
def whole_map(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    results = processing.run("landfuse:classify", classify_params(inputs, out))
    return read_band(results["OUTPUT"]), results


def test_classify_with_a_polygon_mask_keeps_only_the_selected_polygons(inputs, whole_map, tmp_path):
    mask = memory_layer(
        "Polygon",
        "id",
        [
            (QgsGeometry.fromRect(pixel_rect(5, 5, 25, 35)), 1),
            (
                QgsGeometry.fromPolygonXY(
                    [[QgsPointXY(*p) for p in ((500300, 5099600), (500600, 5099600), (500600, 5099400))]]
                ),
                2,
            ),
        ],
        "mask",
    )
    try:
        mask.selectByIds([next(mask.getFeatures()).id()])
        params = classify_params(
            inputs,
            tmp_path,
            MASK=QgsProcessingFeatureSourceDefinition(mask.id(), True),
            VECTOR=str(tmp_path / "polygons.gpkg"),
            MMU=0.0,
        )
        results = processing.run("landfuse:classify", params)
    finally:
        QgsProject.instance().removeMapLayer(mask.id())
    masked = read_band(results["OUTPUT"])
    assert masked.shape == (20, 30)  # the map covers the selected polygon's box only
    assert np.array_equal(masked, whole_map[0][5:25, 5:35])  # a box: every pixel of it is inside
    report = json.loads(Path(results["REPORT"]).read_text())
    assert sum(c["pixels"] for c in report["classes"]) == 20 * 30
    polygons = QgsVectorLayer(results["VECTOR"], "polygons", "ogr")
    assert polygons.isValid() and polygons.renderer().type() == "categorizedSymbol"
    colours = {c.label(): c.symbol().color().name() for c in polygons.renderer().categories()}
    assert colours["water"] == "#419bdf"  # the model's class colour (Dynamic World water)
    area = sum(f["area_ha"] for f in polygons.getFeatures())
    assert area == pytest.approx(sum(c["hectares"] for c in report["classes"]))


def test_classify_a_triangle_mask_sets_pixels_outside_to_nodata(inputs, whole_map, tmp_path):
    triangle = [(500000, 5100000), (500640, 5100000), (500000, 5099360)]  # upper-left half of the scene
    mask = memory_layer("Polygon", "id", [(QgsGeometry.fromPolygonXY([[QgsPointXY(*p) for p in triangle]]), 1)], "t")
    try:
        results = processing.run("landfuse:classify", classify_params(inputs, tmp_path, MASK=mask.id()))
    finally:
        QgsProject.instance().removeMapLayer(mask.id())
    masked = read_band(results["OUTPUT"])
    rows, cols = np.mgrid[0:64, 0:64]
    inside = rows + cols < 63  # pixel centres strictly inside the triangle
    assert (masked[~inside & (rows + cols > 63)] == 255).all()
    assert np.array_equal(masked[inside], whole_map[0][inside])


def test_classify_a_drawn_extent_is_widened_to_whole_pixels(inputs, whole_map, tmp_path):
    extent = "500101.0,500389.0,5099611.0,5099899.0 [EPSG:32633]"  # as the canvas or a drawn extent gives it
    results = processing.run("landfuse:classify", classify_params(inputs, tmp_path, EXTENT=extent))
    part = gdal.Open(results["OUTPUT"])
    assert part.GetGeoTransform()[0] == 500100.0 and part.GetGeoTransform()[3] == 5099900.0
    assert np.array_equal(part.ReadAsArray(), whole_map[0][10:39, 10:39])


def test_a_stratified_sample_labelled_as_points_is_assessed(whole_map, tmp_path):
    class_map = whole_map[1]["OUTPUT"]
    sampled = processing.run(
        "landfuse:stratified_sample",
        {
            "CLASS_MAP": class_map,
            "TARGET_SE": 0.05,
            "MINIMUM": 5,
            "SEED": 1,
            "OUTPUT": str(tmp_path / "sample.gpkg"),
            "DESIGN": str(tmp_path / "design.json"),
        },
    )
    design = json.loads((tmp_path / "design.json").read_text())
    points = QgsVectorLayer(sampled["OUTPUT"], "sample", "ogr")
    assert points.featureCount() == sampled["POINTS"] == design["total"]
    assert points.renderer().type() == "categorizedSymbol"
    # The analyst labels the points: all as mapped but the first three, which are really water.
    reference = points.fields().indexOf("reference")
    points.startEditing()
    for index, feature in enumerate(points.getFeatures()):
        points.changeAttributeValue(feature.id(), reference, "Water" if index < 3 else feature["map_class"])
    assert points.commitChanges()
    results = processing.run(
        "landfuse:assess",
        {
            "CLASS_MAP": class_map,
            "REFERENCE": sampled["OUTPUT"],
            "CLASS_FIELD": "reference",
            "OUTPUT": str(tmp_path / "assessment.json"),
            "HTML": str(tmp_path / "assessment.html"),
            "PLOT": str(tmp_path / "assessment.png"),
        },
    )
    assessment = json.loads((tmp_path / "assessment.json").read_text())
    matrix = np.array(assessment["error_matrix"])
    assert matrix.sum() == design["total"] and np.trace(matrix) >= design["total"] - 3
    assert results["OA"] == pytest.approx(assessment["oa"]) and results["OA_SE"] > 0
    assert all(entry.get("hectares_interval") for entry in assessment["per_class"] if entry["mapped_units"] > 1)
    assert "Overall accuracy" in (tmp_path / "assessment.html").read_text()
    assert (tmp_path / "assessment.png").read_bytes()[:4] == b"\x89PNG"
