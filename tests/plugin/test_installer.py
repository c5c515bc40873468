"""The backend installer: a fresh `inference` environment from the package registry runs a real classification."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import rasterio

from landfuse.plugin import installer
from landfuse.plugin.worker_client import WorkerClient
from tests.plugin.helpers import write_scene

BASE_PYTHON = Path("/usr/bin/python3")


def test_profiles_map_to_pinned_requirement_files():
    files = installer.requirement_files(("inference",), gpu=False)
    assert [f.name for f in files] == ["inference.txt", "onnxruntime-cpu.txt"]
    gpu = installer.requirement_files(("inference", "training", "explanations"), gpu=True)
    assert [f.name for f in gpu] == ["inference.txt", "onnxruntime-gpu.txt", "training.txt", "explanations.txt"]
    for path in gpu:
        assert _pins(path) and all("==" in line for line in _pins(path)), path.name
    assert not [pin for pin in _pins(installer.REQUIREMENTS / "inference.txt") if pin.startswith("torch")]
    with pytest.raises(installer.SetupError, match="unknown backend profile"):
        installer.requirement_files(("everything",), gpu=False)


def test_the_cpu_training_profile_asks_for_the_cpu_build_of_torch(tmp_path):
    cpu = installer.SetupPlan(BASE_PYTHON, tmp_path / "env", ("inference", "training"), gpu=False, uv=None)
    gpu = installer.SetupPlan(BASE_PYTHON, tmp_path / "env", ("inference", "training"), gpu=True, uv=None)
    assert installer.TORCH_CPU_INDEX in cpu.commands()[-1][1]
    assert installer.TORCH_CPU_INDEX not in gpu.commands()[-1][1]
    assert any(arg.endswith("onnxruntime-gpu.txt") for arg in gpu.commands()[-1][1])


def _pins(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith(("#", "-r"))]


def test_interpreter_discovery_order(tmp_path, monkeypatch):
    monkeypatch.setenv(installer.LANDFUSE_PYTHON_ENV, "/opt/env/bin/python")
    assert installer.discover_interpreter("/configured/python") == Path("/opt/env/bin/python")
    monkeypatch.delenv(installer.LANDFUSE_PYTHON_ENV)
    assert installer.discover_interpreter("/configured/python") == Path("/configured/python")
    assert installer.backend_home().is_relative_to(Path(installer.QgsApplication.qgisSettingsDirPath()))
    assert not installer.backend_home().is_relative_to(installer.PLUGIN_ROOT)


def test_a_too_old_or_broken_python_is_refused_before_any_work(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 3 9\n")
    fake.chmod(0o755)
    plan = installer.SetupPlan(fake, tmp_path / "env", uv=None)
    with pytest.raises(installer.SetupError, match="needs Python 3.11"):
        installer.run_setup(plan, log=lambda line: None)
    with pytest.raises(installer.SetupError, match="does not run"):
        installer.run_setup(installer.SetupPlan(tmp_path / "missing", tmp_path / "env", uv=None), log=print)
    assert not (tmp_path / "env").exists()


def test_cancel_stops_the_running_step(tmp_path):
    plan = installer.SetupPlan(BASE_PYTHON, tmp_path / "env", uv=None)
    lines: list[str] = []
    with pytest.raises(installer.SetupCancelledError, match="run it again"):
        installer.run_setup(plan, log=lines.append, cancelled=lambda: bool(lines))
    assert lines[0].startswith("$ ")


@pytest.fixture(scope="module")
def inference_env(tmp_path_factory, qgis_app):
    """A real `inference` environment, installed once from the package registry for this module."""
    venv = tmp_path_factory.mktemp("profile") / "landfuse" / "backend"
    lines: list[str] = []
    steps: list[str] = []
    plan = installer.SetupPlan(BASE_PYTHON, venv, ("inference",), gpu=False, uv=None)
    report = installer.run_setup(plan, log=lines.append, progress=lambda fraction, message: steps.append(message))
    return venv, report, lines, steps


@pytest.mark.slow
def test_inference_profile_installs_and_classifies_without_torch(inference_env, tmp_path):
    """The real thing: a new environment, pip from the registry, diagnostics, then a classification."""
    venv, report, lines, steps = inference_env
    python = installer.venv_python(venv)
    assert report["versions"]["onnxruntime"] and report["versions"]["rasterio"]
    assert report["versions"]["torch"] is None
    assert steps[-1] == "the backend is ready" and any(line.startswith("$ ") for line in lines)
    no_torch = subprocess.run([str(python), "-c", "import torch"], capture_output=True)
    assert no_torch.returncode != 0

    optical, sar = write_scene(tmp_path / "scene", size=96)
    client = WorkerClient(python, log_file=tmp_path / "worker.log")
    try:
        result = client.call(
            "classify",
            {
                "optical": str(optical),
                "sar": str(sar),
                "model": "edc-lite",
                "output": str(tmp_path / "out" / "landcover.tif"),
                "report": str(tmp_path / "out" / "report.json"),
            },
        )
        modules = client.call("diagnostics", {})
    finally:
        client.shutdown()
    assert "CPU" in str(result["report"]["device"]).upper()
    with rasterio.open(result["outputs"]["output"]) as dataset:
        assert dataset.count == 1 and dataset.dtypes[0] == "uint8" and dataset.width == 96
    assert modules["interpreter"].startswith(str(venv))
    assert modules["versions"]["torch"] is None


@pytest.mark.slow
def test_the_dialog_repairs_the_environment_and_saves_the_interpreter(inference_env, qtbot):
    from landfuse.plugin import service, settings
    from landfuse.plugin.setup_dialog import BackendSetupDialog

    venv = inference_env[0]
    before = settings.load()
    dialog = BackendSetupDialog(venv=venv)
    qtbot.addWidget(dialog)
    try:
        dialog.python_combo.setCurrentText(str(tmp_python := Path("/nonexistent/python3")))
        dialog.start()
        qtbot.waitUntil(lambda: dialog.state != "running", timeout=30_000)
        assert dialog.state == "failed" and str(tmp_python) in dialog.status.text()

        dialog.python_combo.setCurrentText(str(BASE_PYTHON))
        dialog.start()
        qtbot.waitUntil(lambda: dialog.state != "running", timeout=300_000)
        assert dialog.state == "done", dialog.status.text()
        assert settings.load().interpreter == str(installer.venv_python(venv))
        assert "pip" in dialog.log_view.toPlainText()
        assert service.hello()["versions"]["rasterio"]
    finally:
        settings.save(before)
        service.shutdown()
