"""The Processing algorithms through Processing itself, with the real backend worker and a tiny ONNX model."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import processing
import pytest
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
)

from landfuse.backend.models.quantize import quantize_model
from landfuse.common.precision import variant_path
from landfuse.plugin.algorithms.base import raster_file
from landfuse.plugin.algorithms.classify import model_choices
from landfuse.plugin.styling import class_label, legend_labels
from tests.plugin.helpers import OPTICAL_BANDS, tiny_card, write_scene, write_tiny_model

CLASS_LABELS = {c.id: class_label({"name": c.name}) for c in tiny_card().classes}


def classify_params(inputs, out: Path, **extra) -> dict:
    return {
        "OPTICAL": str(inputs["optical"]),
        "SAR": str(inputs["sar"]),
        "MODEL_FILE": str(inputs["model"]),
        "DEVICE": "cpu",
        "OUTPUT": str(out / "landcover.tif"),
        "CONFIDENCE": str(out / "confidence.tif"),
        "REPORT": str(out / "report.json"),
        "EXPLANATION": None,
        **extra,
    }


def read_band(path: str) -> np.ndarray:
    """The first band of a raster as an array."""
    return gdal.Open(path).ReadAsArray()


def normalised(labels: dict[int, str]) -> dict[int, str]:
    return {key: value.replace("_", " ").lower() for key, value in labels.items()}


def test_classify_writes_a_styled_class_map_confidence_and_report(inputs, tmp_path):
    results = processing.run("landfuse:classify", classify_params(inputs, tmp_path, OPTICAL_BANDS=list(range(1, 10))))
    assert Path(results["OUTPUT"]) == tmp_path / "landcover.tif"
    assert results["RECONSTRUCTION"] is None and results["EXPLANATION_TEXT"] == ""
    report = json.loads(Path(results["REPORT"]).read_text())
    assert report["grid"]["width"] == report["grid"]["height"] == 64
    assert [c["name"] for c in report["classes"]] == [c.name for c in tiny_card().classes]
    assert sum(c["pixels"] for c in report["classes"]) == 64 * 64
    assert (report["model"]["architecture"], report["device"].lower()) == ("tiny", "cpu")
    class_map = QgsRasterLayer(results["OUTPUT"], "classes")  # loads the sidecar .qml as its default style
    assert class_map.isValid() and class_map.dataProvider().dataType(1) == 1  # Byte
    assert normalised(legend_labels(class_map)) == normalised(CLASS_LABELS)
    confidence = QgsRasterLayer(results["CONFIDENCE"], "confidence")  # styled by the backend's confidence.qml
    statistics = confidence.dataProvider().bandStatistics(1)
    assert 0 <= statistics.minimumValue <= statistics.maximumValue <= 100
    assert Path(results["CONFIDENCE"]).with_suffix(".qml").is_file()
    assert confidence.renderer().type() == "singlebandpseudocolor"
    items = confidence.renderer().shader().rasterShaderFunction().colorRampItemList()
    assert [(item.value, item.color.name()) for item in items] == [(0, "#d7191c"), (50, "#fdae61"), (100, "#1a9641")]


def test_classify_writes_the_reconstruction_of_a_model_that_has_one(inputs, tmp_path):
    model = write_tiny_model(tmp_path / "cloudfree.onnx", reconstruction=True, name="cloudfree")
    params = classify_params(inputs, tmp_path, MODEL_FILE=str(model), RECONSTRUCTION=str(tmp_path / "cloudfree.tif"))
    project = QgsProject.instance()
    before = set(project.mapLayers())
    results = processing.runAndLoadResults("landfuse:classify", params)
    added = {Path(project.mapLayer(i).source()).name: project.mapLayer(i) for i in set(project.mapLayers()) - before}
    try:
        reconstruction = added["cloudfree.tif"]
        assert Path(results["RECONSTRUCTION"]).name == "cloudfree.tif" and reconstruction.bandCount() == 9
        renderer = reconstruction.renderer()
        assert (renderer.redBand(), renderer.greenBand(), renderer.blueBand()) == (3, 2, 1)  # B4, B3, B2
    finally:
        project.removeMapLayers([layer.id() for layer in added.values()])


def test_outputs_loaded_by_processing_get_class_names_in_the_legend(inputs, tmp_path):
    project = QgsProject.instance()
    before = set(project.mapLayers())
    results = processing.runAndLoadResults("landfuse:classify", classify_params(inputs, tmp_path))
    added = [project.mapLayer(layer_id) for layer_id in set(project.mapLayers()) - before]
    try:
        by_source = {Path(layer.source()).name: layer for layer in added}
        assert set(by_source) >= {"landcover.tif", "confidence.tif"}
        assert legend_labels(by_source["landcover.tif"]) == CLASS_LABELS
        assert by_source["landcover.tif"].name() == "Land cover (tiny-test)"
        assert by_source["confidence.tif"].renderer().type() == "singlebandpseudocolor"
        assert Path(results["REPORT"]).is_file()
    finally:
        project.removeMapLayers([layer.id() for layer in added])


def test_a_wrong_band_selection_fails_with_the_worker_message(inputs, tmp_path):
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("landfuse:classify")
    context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
    params = classify_params(inputs, tmp_path, OPTICAL_BANDS=[1, 2, 3])
    ok, message = algorithm.checkParameterValues(params, context)
    assert ok, message
    with pytest.raises(QgsProcessingException, match="BAD_BANDS"):
        algorithm.processAlgorithm(params, context, feedback)
    assert not any(tmp_path.iterdir())


def test_explain_turns_a_report_into_text(inputs, tmp_path):
    classified = processing.run("landfuse:classify", classify_params(inputs, tmp_path))
    results = processing.run(
        "landfuse:explain", {"REPORT": classified["REPORT"], "OUTPUT": str(tmp_path / "explanation.txt")}
    )
    text = Path(results["OUTPUT"]).read_text()
    assert results["TEXT"] == text and len(text.split()) > 10
    # The final text is always checked; the verdict says whether the template had to replace the model's.
    assert results["GROUNDED"] is True
    assert ("Template explanation" in text) == results["FALLBACK_USED"]


def test_evaluate_scores_a_class_map_against_labels(inputs, tmp_path):
    classified = processing.run("landfuse:classify", classify_params(inputs, tmp_path))
    results = processing.run(
        "landfuse:evaluate",
        {
            "CLASS_MAP": classified["OUTPUT"],
            "REFERENCE": str(inputs["labels"]),
            "OUTPUT": str(tmp_path / "metrics.json"),
            "PLOT": str(tmp_path / "confusion.png"),
        },
    )
    metrics = json.loads(Path(results["OUTPUT"]).read_text())
    assert 0.0 <= results["OA"] <= 1.0 and results["OA"] == pytest.approx(metrics["oa"])
    assert results["KAPPA"] == pytest.approx(metrics["kappa"])
    matrix = metrics["confusion_matrix"]
    assert len(matrix) == 9 and sum(map(sum, matrix)) == 64 * 64 - 16  # labels have a 4 x 4 nodata corner
    assert Path(results["PLOT"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_batch_of_three_pairs_runs_through_one_worker(inputs, tmp_path, qtbot):
    """Three runs submitted at once, as the batch dialog does: each gets its own correct outputs."""
    jobs = []
    for index in range(3):
        optical, sar = write_scene(tmp_path / f"pair{index}", size=32 + 32 * index, seed=index)
        params = {**classify_params(inputs, tmp_path / f"out{index}"), "OPTICAL": str(optical), "SAR": str(sar)}
        (tmp_path / f"out{index}").mkdir()
        context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
        algorithm = QgsApplication.processingRegistry().createAlgorithmById("landfuse:classify")
        task = QgsProcessingAlgRunnerTask(algorithm, params, context, feedback)
        outcome = {}
        task.executed.connect(lambda ok, results, outcome=outcome: outcome.update(ok=ok, results=results))
        jobs.append((task, algorithm, context, feedback, outcome))
        QgsApplication.taskManager().addTask(task)
    qtbot.waitUntil(lambda: all("ok" in job[-1] for job in jobs), timeout=60_000)
    for index, (_, _, _, _, outcome) in enumerate(jobs):
        assert outcome["ok"], outcome
        report = json.loads(Path(outcome["results"]["REPORT"]).read_text())
        assert report["grid"]["width"] == 32 + 32 * index
        assert QgsRasterLayer(outcome["results"]["OUTPUT"], "c").width() == 32 + 32 * index


# -- rasters GDAL opens, whatever their container -------------------------------------------------


@pytest.fixture(scope="module")
def containers(inputs, tmp_path_factory):
    """The test scene inside a zip archive, a GeoPackage (one table per SAR band) and NetCDF files."""
    folder = tmp_path_factory.mktemp("containers")
    archive = folder / "scene.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(inputs["optical"], "scene/optical.tif")
        zf.write(inputs["sar"], "scene/sar.tif")
    geopackage = folder / "sar.gpkg"
    gdal.Translate(
        str(geopackage), str(inputs["sar"]), format="GPKG", bandList=[1], creationOptions=["RASTER_TABLE=vv"]
    )
    options = ["RASTER_TABLE=vh", "APPEND_SUBDATASET=YES"]
    gdal.Translate(str(geopackage), str(inputs["sar"]), format="GPKG", bandList=[2], creationOptions=options)
    netcdf = folder / "sar.nc"
    gdal.Translate(str(netcdf), str(inputs["sar"]), format="netCDF", creationOptions=["FORMAT=NC4"])
    return {"zip": archive, "gpkg": geopackage, "nc": netcdf}


def test_raster_file_gives_the_worker_the_whole_gdal_source(inputs, containers):
    """Archives, GeoPackage tables and subdatasets keep the part after the file name; QGIS options go."""
    vh_mean = gdal.Open(str(inputs["sar"])).ReadAsArray()[1].mean()
    cases = [  # (layer source, what GDAL must open, band count)
        (f"/vsizip/{containers['zip']}/scene/optical.tif", f"/vsizip/{containers['zip']}/scene/optical.tif", 9),
        (
            f"/vsizip/{containers['zip']}/scene/sar.tif|option:NUM_THREADS=2",
            f"/vsizip/{containers['zip']}/scene/sar.tif",
            2,
        ),
        (f"GPKG:{containers['gpkg']}:vh", f"GPKG:{containers['gpkg']}:vh", 1),
        (f'NETCDF:"{containers["nc"]}":Band2', f'NETCDF:"{containers["nc"]}":Band2', 1),
        (f'HDF5:"{containers["nc"]}"://Band2', f'HDF5:"{containers["nc"]}"://Band2', 1),
    ]
    for source, expected, bands in cases:
        layer = QgsRasterLayer(source, "input", "gdal")
        assert layer.isValid(), source
        opened = raster_file(layer, "SAR")
        assert opened == expected
        dataset = gdal.Open(opened)
        assert dataset.RasterCount == bands
        if bands == 1:  # the VH table or variable, not the first one in the file
            assert dataset.ReadAsArray().mean() == pytest.approx(vh_mean, abs=0.05)


def test_raster_file_asks_to_export_a_web_layer_first():
    tiles = QgsRasterLayer("type=xyz&url=http://127.0.0.1:9/{z}/{x}/{y}.png&zmax=19&zmin=0", "Tiles", "wms")
    assert tiles.isValid()
    with pytest.raises(QgsProcessingException, match=r"'wms' provider.*Export it first"):
        raster_file(tiles, "optical")


def test_classify_reads_layers_inside_a_zip_archive(inputs, containers, tmp_path):
    """Layers of the project (as the toolbox and the dock pass them) read from a zip archive."""
    archive = containers["zip"]
    optical = QgsRasterLayer(f"/vsizip/{archive}/scene/optical.tif", "optical (zip)")
    sar = QgsRasterLayer(f"/vsizip/{archive}/scene/sar.tif|option:NUM_THREADS=2", "SAR (zip)")
    assert optical.isValid() and sar.isValid()
    results = processing.run("landfuse:classify", classify_params(inputs, tmp_path, OPTICAL=optical, SAR=sar))
    report = json.loads(Path(results["REPORT"]).read_text())
    assert report["grid"]["width"] == 64 and sum(c["pixels"] for c in report["classes"]) == 64 * 64
    (tmp_path / "plain").mkdir()
    expected = processing.run("landfuse:classify", classify_params(inputs, tmp_path / "plain"))
    assert np.array_equal(read_band(results["OUTPUT"]), read_band(expected["OUTPUT"]))


# -- bands by name ----------------------------------------------------------------------------------


def test_bands_by_name_give_the_class_map_of_the_same_bands_by_index(inputs, tmp_path):
    """A 13-band Sentinel-2 stack: the card's bands by name, by index and through the defaults agree."""
    names = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
    source = gdal.Open(str(inputs["optical"]))
    stack = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "s2.tif"), 64, 64, len(names), gdal.GDT_UInt16)
    stack.SetGeoTransform(source.GetGeoTransform())
    stack.SetProjection(source.GetProjection())
    for index, name in enumerate(names, start=1):
        band = stack.GetRasterBand(index)
        band.SetDescription(name)
        if name in OPTICAL_BANDS:
            band.WriteArray(source.GetRasterBand(OPTICAL_BANDS.index(name) + 1).ReadAsArray())
        else:
            band.Fill(9000)  # bands the model must not read
    stack = None
    sar = gdal.Translate(str(tmp_path / "s1.tif"), str(inputs["sar"]))
    for index, name in enumerate(("Sigma0_VV_db", "Sigma0_VH_db"), start=1):
        sar.GetRasterBand(index).SetDescription(name)
    sar = None
    runs = {
        "names": {"OPTICAL_BAND_NAMES": "B02, B03,B04,B05,B06,B07,B08,B11,B12", "SAR_BAND_NAMES": "vv,vh"},
        "indexes": {"OPTICAL_BANDS": [2, 3, 4, 5, 6, 7, 8, 12, 13], "SAR_BANDS": [1, 2]},
        "defaults": {},
    }
    maps = {}
    for run, bands in runs.items():
        (tmp_path / run).mkdir()
        params = classify_params(
            inputs, tmp_path / run, OPTICAL=str(tmp_path / "s2.tif"), SAR=str(tmp_path / "s1.tif"), **bands
        )
        maps[run] = read_band(processing.run("landfuse:classify", params)["OUTPUT"])
    original = read_band(processing.run("landfuse:classify", classify_params(inputs, tmp_path))["OUTPUT"])
    assert len(np.unique(original)) > 1
    for run, class_map in maps.items():
        assert np.array_equal(class_map, original), run


def test_bands_given_both_by_index_and_by_name_are_refused(inputs, tmp_path):
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("landfuse:classify")
    params = classify_params(inputs, tmp_path, OPTICAL_BANDS=list(range(1, 10)), OPTICAL_BAND_NAMES="B2")
    with pytest.raises(QgsProcessingException, match="either by index"):
        algorithm.processAlgorithm(params, QgsProcessingContext(), QgsProcessingFeedback())


def test_raster_destinations_offer_geotiff_only(landfuse_provider):
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("landfuse:classify")
    for name in ("OUTPUT", "CONFIDENCE", "RECONSTRUCTION"):
        parameter = algorithm.parameterDefinition(name)
        assert parameter.supportedOutputRasterLayerExtensions() == ["tif"]
        assert parameter.defaultFileExtension() == "tif"


def test_classify_with_precision_int8_runs_the_copy_beside_the_model(inputs, tmp_path):
    (tmp_path / "models").mkdir()
    model = write_tiny_model(tmp_path / "models" / "tiny.onnx")
    quantize_model(model, variant_path(model, "int8"), "int8", windows=1, size=64, check_windows=1, log=print)
    choices = model_choices(str(model.parent))
    assert "tiny" in choices and "tiny.int8" not in choices  # the copy is a precision of tiny, not a model
    results = processing.run(
        "landfuse:classify", classify_params(inputs, tmp_path, MODEL_FILE=str(model), PRECISION="int8")
    )
    report = json.loads(Path(results["REPORT"]).read_text())
    assert report["model"]["metrics"]["precision"]["precision"] == "int8"
    assert sum(c["pixels"] for c in report["classes"]) == 64 * 64


def test_classify_with_a_precision_that_has_no_copy_says_how_to_make_one(inputs, tmp_path):
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("landfuse:classify")
    params = classify_params(inputs, tmp_path, PRECISION="fp16")
    with pytest.raises(
        QgsProcessingException,
        match=r"no fp16 copy: there is no tiny\.fp16\.onnx.*quantize .*tiny\.onnx --precision fp16",
    ):
        algorithm.processAlgorithm(params, QgsProcessingContext(), QgsProcessingFeedback())
    assert not any(tmp_path.iterdir())
