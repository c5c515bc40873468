"""The shipped graphical-modeler workflows, run headless through qgis_process with the plugin installed."""

from __future__ import annotations

import json
import os
import subprocess

from tests.paths import REPO_ROOT

QGIS_PROCESS = "/usr/bin/qgis_process.bin"
MODELS = REPO_ROOT / "resources" / "models"


def run_workflow(name: str, args: dict, tmp_path) -> dict:
    """Run a shipped .model3 through qgis_process with the plugin enabled in a temporary profile."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "landfuse").symlink_to(REPO_ROOT, target_is_directory=True)
    env = dict(os.environ, QGIS_PLUGINPATH=str(plugins), QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "profile"))
    env["QT_QPA_PLATFORM"] = "offscreen"
    enabled = subprocess.run([QGIS_PROCESS, "plugins", "enable", "landfuse"], env=env, capture_output=True, text=True)
    assert enabled.returncode == 0, enabled.stderr
    command = [QGIS_PROCESS, "--json", "run", str(MODELS / name), "--"]
    command += [f"{key}={value}" for key, value in args.items()]
    ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    return json.loads(ran.stdout[ran.stdout.index("{") :])["results"]


def test_classify_and_evaluate_model_runs_in_qgis_process(inputs, tmp_path):
    args = {
        "optical": inputs["optical"],
        "sar": inputs["sar"],
        "model": "claire-lite",  # a shipped demo model, by name
        "reference": inputs["labels"],
        "classify:Land cover": tmp_path / "landcover.tif",
        "classify:Confidence": tmp_path / "confidence.tif",
        "classify:Report": tmp_path / "report.json",
        "evaluate:Metrics": tmp_path / "metrics.json",
        "evaluate:Confusion matrix": tmp_path / "confusion.png",
    }
    results = run_workflow("classify_and_evaluate.model3", args, tmp_path)
    assert results["evaluate:Metrics"] == str(tmp_path / "metrics.json")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    report = json.loads((tmp_path / "report.json").read_text())
    assert 0.0 <= metrics["oa"] <= 1.0 and report["outputs"]["class_map"] == str(tmp_path / "landcover.tif")
    assert (report["model"]["architecture"], report["model"]["variant"]) == ("claire", "lite")
    assert (tmp_path / "landcover.qml").is_file() and (tmp_path / "confusion.png").stat().st_size > 1000


def test_classify_and_explain_model_runs_in_qgis_process(inputs, tmp_path):
    args = {
        "optical": inputs["optical"],
        "sar": inputs["sar"],
        "model": "edc-lite",
        "classify:Land cover": tmp_path / "landcover.tif",
        "classify:Confidence": tmp_path / "confidence.tif",
        "classify:Report": tmp_path / "report.json",
        "explain:Explanation": tmp_path / "explanation.md",
    }
    run_workflow("classify_and_explain.model3", args, tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    text = (tmp_path / "explanation.md").read_text()
    dominant = max(report["classes"], key=lambda c: c["share"])
    assert dominant["name"].replace("_", " ") in text.lower()
    assert f"{100 * dominant['share']:.1f}%" in text


def test_classify_and_explain_model_chains_the_report_into_explain(inputs):
    """The explain workflow's wiring (running it costs a language-model call, done in the algorithm tests)."""
    from qgis.core import QgsProcessingContext, QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODELS / "classify_and_explain.model3"))
    steps = model.childAlgorithms()
    assert {step.algorithmId() for step in steps.values()} == {"landfuse:classify", "landfuse:explain"}
    report_source = steps["explain"].parameterSources()["REPORT"][0]
    assert (report_source.outputChildId(), report_source.outputName()) == ("classify", "REPORT")
    assert steps["classify"].parameterSources()["EXPLANATION"][0].staticValue() is None
    assert {o.name() for o in model.outputDefinitions()} >= {"classify:Land cover", "explain:Explanation"}
    params = {"optical": str(inputs["optical"]), "sar": str(inputs["sar"]), "model_file": str(inputs["model"])}
    params.update({output.name(): "TEMPORARY_OUTPUT" for output in model.destinationParameterDefinitions()})
    ok, message = model.checkParameterValues(params, QgsProcessingContext())
    assert ok, message


def write_vector(path, kind: str, field: str, features: list) -> str:
    """A GeoPackage layer in the test scene's CRS with one text field: ``features`` are (QgsGeometry, value)."""
    from qgis.core import QgsCoordinateTransformContext, QgsFeature, QgsVectorFileWriter, QgsVectorLayer

    layer = QgsVectorLayer(f"{kind}?crs=EPSG:32633&field={field}:string(20)", "layer", "memory")
    items = []
    for geometry, value in features:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(geometry)
        feature.setAttribute(field, value)
        items.append(feature)
    layer.dataProvider().addFeatures(items)
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    error = QgsVectorFileWriter.writeAsVectorFormatV3(layer, str(path), QgsCoordinateTransformContext(), options)
    assert error[0] == QgsVectorFileWriter.NoError, error
    return str(path)


def test_train_classify_assess_explain_model_runs_in_qgis_process(inputs, tmp_path):
    """The whole analyst workflow: polygons to train on, a mask, a polygon output, points to assess, explanation."""
    from qgis.core import QgsGeometry, QgsPointXY, QgsRectangle

    def square(row: int, col: int, size: int = 8) -> QgsGeometry:
        x, y = 500000 + 10 * col, 5100000 - 10 * row
        return QgsGeometry.fromRect(QgsRectangle(x, y - 10 * size, x + 10 * size, y))

    references = write_vector(
        tmp_path / "references.gpkg",
        "Polygon",
        "landuse",
        [(square(2, 2), "wet"), (square(40, 4), "wet"), (square(10, 44), "dry"), (square(50, 50), "dry")],
    )
    mask = write_vector(tmp_path / "mask.gpkg", "Polygon", "name", [(square(0, 0, 48), "area")])
    points = [(QgsGeometry.fromPointXY(QgsPointXY(500005 + 40 * i, 5099995 - 40 * i)), "wet") for i in range(12)]
    assessment = write_vector(tmp_path / "points.gpkg", "Point", "reference", points)
    args = {
        "optical": inputs["optical"],
        "sar": inputs["sar"],
        "reference": references,
        "class_field": "landuse",
        "architecture": "claire",
        "variant": "lite",
        "minutes": 1,
        "epochs": 1,
        "device": "cpu",
        "mask": mask,
        "mmu": 0.05,
        "assessment": assessment,
        "assessment_field": "reference",
        "stratified": "false",
        "train:Model file": tmp_path / "model.onnx",
        "classify:Land cover": tmp_path / "landcover.tif",
        "classify:Report": tmp_path / "report.json",
        "classify:Land cover polygons": tmp_path / "polygons.gpkg",
        "assess:Assessment": tmp_path / "assessment.json",
        "explain:Explanation": tmp_path / "explanation.md",
    }
    results = run_workflow("train_classify_assess_explain.model3", args, tmp_path)
    assert results["train:Model file"] == str(tmp_path / "model.onnx")
    report = json.loads((tmp_path / "report.json").read_text())
    assert [c["name"] for c in report["model"]["classes"]] == ["dry", "wet"]
    assert report["grid"]["width"] == report["grid"]["height"] == 48  # the mask's box
    assessment_json = json.loads((tmp_path / "assessment.json").read_text())
    assert sum(map(sum, assessment_json["error_matrix"])) == 12 - sum(1 for i in range(12) if 40 * i >= 480)
    assert (tmp_path / "polygons.gpkg").stat().st_size > 0
    text = (tmp_path / "explanation.md").read_text()
    assert f"{100 * assessment_json['oa']:.1f}%" in text  # the explanation states the assessed accuracy


def test_the_analyst_workflow_exposes_every_input_and_chains_its_steps():
    from qgis.core import QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODELS / "train_classify_assess_explain.model3"))
    steps = model.childAlgorithms()
    assert {step.algorithmId() for step in steps.values()} == {
        "landfuse:train",
        "landfuse:classify",
        "landfuse:assess",
        "landfuse:explain",
    }
    sources = {name: step.parameterSources() for name, step in steps.items()}
    model_file = sources["classify"]["MODEL_FILE"][0]
    assert (model_file.outputChildId(), model_file.outputName()) == ("train", "MODEL_FILE")
    metrics = sources["explain"]["METRICS"][0]
    assert (metrics.outputChildId(), metrics.outputName()) == ("assess", "OUTPUT")
    for band_input in ("optical_band_names", "sar_band_names"):
        assert sources["train"][band_input.upper()][0].parameterName() == band_input
        assert sources["classify"][band_input.upper()][0].parameterName() == band_input
    names = {definition.name() for definition in model.parameterDefinitions()}
    assert {"optical", "sar", "reference", "class_field", "mask", "extent", "assessment", "mmu"} <= names
