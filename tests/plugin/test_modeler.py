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
