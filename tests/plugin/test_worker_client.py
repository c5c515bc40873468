"""The plugin's worker client against real worker processes: jobs, crashes, time-outs, cancel, queueing."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.shutil

from landfuse.backend.engine.paths import input_file
from landfuse.common.gdal_names import SUBDATASET_NAME
from landfuse.common.protocol import PROTOCOL_VERSION, ErrorCode, temporary_path, user_cache_dir
from landfuse.plugin.worker_client import (
    WorkerClient,
    WorkerError,
    absolute_paths,
    worker_environment,
)
from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module, write_optical, write_sar
from tests.backend.worker.helpers import write_tiny_llama
from tests.paths import REPO_ROOT

DEBUG_ENV = {"LANDFUSE_WORKER_DEBUG_OPS": "1"}


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory):
    """A private user cache folder (import link, worker log) for this module's clients."""
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("cache")
        patch.setenv("XDG_CACHE_HOME", str(folder))
        yield folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A tiny ONNX model (3 optical + 2 SAR bands, 3 classes, tile 64), a tiny language model, two raster pairs."""
    folder = tmp_path_factory.mktemp("inputs")
    card = tiny_card()
    model = export_onnx(tiny_module(card), card, folder / "tiny-test.onnx")
    small = write_optical(folder / "optical.tif", 150, 170), write_sar(folder / "sar.tif", 150, 170)
    large = write_optical(folder / "optical-large.tif", 384, 384, seed=5), write_sar(folder / "sar-large.tif", 384, 384)
    llm = write_tiny_llama(folder / "tiny-llama.gguf")
    return {"model": str(model), "small": small, "large": large, "llm": str(llm)}


@pytest.fixture(scope="module")
def client(cache_home):
    worker = WorkerClient(sys.executable, heartbeat_s=0.2, heartbeat_timeout=20, extra_env=DEBUG_ENV)
    yield worker
    worker.shutdown()


def classify_params(inputs, pair: str, folder: Path, **options) -> dict:
    optical, sar = inputs[pair]
    return {
        "optical": str(optical),
        "sar": str(sar),
        "model": inputs["model"],
        "output": str(folder / "landcover.tif"),
        "confidence": str(folder / "confidence.tif"),
        "report": str(folder / "report.json"),
        "options": {"device": "cpu", **options},
    }


def read_band(path: str) -> np.ndarray:
    with rasterio.open(path) as dataset:
        return dataset.read(1)


def test_handshake_and_classify_report_progress_and_write_outputs(client, inputs, tmp_path):
    hello = client.start()
    assert hello["protocol"] == PROTOCOL_VERSION
    assert hello["devices"]["preferred"] == "CPU" or hello["devices"]["torch"]["gpus"]
    progress = []
    params = classify_params(inputs, "small", tmp_path)
    result = client.call("classify", params, progress=lambda fraction, message: progress.append(fraction))
    assert result["device"] == "cpu"
    for name in ("output", "confidence", "report"):
        assert Path(result["outputs"][name]).is_file()
    assert (tmp_path / "landcover.qml").is_file()
    assert result["outputs"]["explanation"] is None
    assert len(progress) >= 3 and progress == sorted(progress) and progress[-1] == 1.0
    assert read_band(result["outputs"]["output"]).shape == (150, 170)


def test_classify_with_explanation_then_evaluate_keeps_models_warm(client, inputs, tmp_path):
    params = classify_params(inputs, "small", tmp_path)
    params.update(explanation=str(tmp_path / "explanation.md"), llm_path=inputs["llm"], explanation_attempts=1)
    result = client.call("classify", params)
    text = (tmp_path / "explanation.md").read_text(encoding="utf-8")
    dominant = max(result["report"]["classes"], key=lambda entry: entry["share"])["name"]
    assert dominant in result["explanation"] and result["explanation"] in text
    assert result["outputs"]["explanation"] == str((tmp_path / "explanation.md").resolve())
    warm = client.call("ping")["cache"]["entries"]
    assert any("tiny-llama.gguf" in entry for entry in warm) and any("tiny-test.onnx" in entry for entry in warm)
    output, plot = tmp_path / "metrics.json", tmp_path / "confusion.png"
    request = {"class_map": result["outputs"]["output"], "reference": result["outputs"]["output"]}
    evaluated = client.call("evaluate", {**request, "output": str(output), "plot": str(plot)})
    assert evaluated["metrics"]["oa"] == 1.0 and output.is_file() and plot.stat().st_size > 0
    assert client.call("ping")["cache"]["entries"] == warm
    assert client.call("clear_cache")["dropped"] == warm and client.call("ping")["cache"]["entries"] == []


def test_models_and_cards_through_the_client(client, inputs):
    folder = str(Path(inputs["model"]).parent)
    listed = client.call("list_models", {"folder": folder})
    assert "tiny-test" in [model["name"] for model in listed["models"]]
    card = client.call("model_card", {"model": "tiny-test", "folder": folder})["card"]
    assert [c["name"] for c in card["classes"]] == ["water", "trees", "built"]
    with pytest.raises(WorkerError) as error:
        client.call("model_card", {"model": "no-such-model", "folder": folder})
    assert error.value.code == ErrorCode.MODEL_NOT_FOUND and "tiny-test" in str(error.value)


def test_two_jobs_submitted_at_once_run_one_after_the_other_with_correct_outputs(client, inputs, tmp_path):
    slow = {"tile_size": 64, "overlap": 16, "batch_size": 1}  # many batches: the first job runs a while
    alone = {}
    for pair in ("small", "large"):
        (tmp_path / f"alone-{pair}").mkdir()
        alone[pair] = client.call("classify", classify_params(inputs, pair, tmp_path / f"alone-{pair}", **slow))
    results: dict[str, dict] = {}

    def run(pair: str) -> None:
        (tmp_path / pair).mkdir()
        results[pair] = client.call("classify", classify_params(inputs, pair, tmp_path / pair, **slow))

    threads = [threading.Thread(target=run, args=(pair,)) for pair in ("large", "small")]
    for thread in threads:
        thread.start()
    states = []  # what the worker runs and holds back while both jobs are in
    while any(thread.is_alive() for thread in threads):
        pong = client.call("ping")
        states.append((pong["busy"], tuple(pong["queued"])))
        time.sleep(0.01)
    for thread in threads:
        thread.join()
    assert set(results) == {"small", "large"}
    # while one job ran, the other waited in the worker's queue
    assert any(busy and len(queued) == 1 and queued[0] != busy for busy, queued in states), states
    for pair in ("small", "large"):
        together, reference = results[pair]["outputs"]["output"], alone[pair]["outputs"]["output"]
        assert np.array_equal(read_band(together), read_band(reference))


def test_cancel_mid_job_stops_within_a_batch_and_leaves_nothing(client, inputs, tmp_path):
    progress, cancelled_at = [], []

    def on_progress(fraction: float, message: str) -> None:
        progress.append(fraction)
        if fraction > 0.1 and not cancelled_at:
            cancelled_at.append(len(progress))
            assert any(".partial" in p.name or "landfuse-tmp" in p.name for p in tmp_path.iterdir())

    params = classify_params(inputs, "large", tmp_path, tile_size=64, overlap=16, batch_size=1)
    with pytest.raises(WorkerError) as error:
        client.call("classify", params, progress=on_progress, is_cancelled=lambda: bool(cancelled_at))
    assert error.value.code == ErrorCode.CANCELLED
    # The engine's own test bounds the work done after a cancel to one batch; here the events the worker
    # sent before it read the cancel may still be queued at the client, so only an early stop is checked.
    assert progress[-1] < 0.9
    assert list(tmp_path.iterdir()) == []
    assert client.call("ping")["pong"] is True  # the same worker goes on


def test_worker_killed_mid_job_is_reported_cleaned_up_and_replaced(client, inputs, tmp_path):
    killed = []

    def kill_worker(fraction: float, message: str) -> None:
        if fraction > 0.1 and not killed:
            killed.append(sorted(p.name for p in tmp_path.iterdir()))
            os.kill(client.pid, signal.SIGKILL)

    first_pid = client.pid
    params = classify_params(inputs, "large", tmp_path, tile_size=64, overlap=16, batch_size=1)
    with pytest.raises(WorkerError) as error:
        client.call("classify", params, progress=kill_worker)
    assert error.value.code == ErrorCode.WORKER_DIED
    assert "SIGKILL" in str(error.value) and "new worker" in str(error.value)
    assert killed[0], "the job had written temporary files before it was killed"
    assert list(tmp_path.iterdir()) == []
    result = client.call("classify", classify_params(inputs, "small", tmp_path))
    assert client.pid != first_pid
    assert Path(result["outputs"]["output"]).is_file()


def test_a_worker_without_heartbeats_is_killed_after_the_time_out(cache_home, tmp_path):
    client = WorkerClient(sys.executable, heartbeat_s=0.2, heartbeat_timeout=1.5, extra_env=DEBUG_ENV)
    try:
        client.call("debug", {"action": "stall_heartbeats", "seconds": 120})
        stalled_pid = client.pid
        output = tmp_path / "slow.txt"
        with pytest.raises(WorkerError) as error:
            client.call("debug", {"action": "sleep", "steps": 1, "step_seconds": 60, "output": str(output)})
        assert error.value.code == ErrorCode.TIMEOUT and "no heartbeat" in str(error.value)
        assert not temporary_path(output, stalled_pid).exists() and list(tmp_path.iterdir()) == []
        with pytest.raises(ProcessLookupError):
            os.kill(stalled_pid, 0)
        assert client.call("ping")["pong"] is True and client.pid != stalled_pid
    finally:
        client.shutdown()


def test_a_job_ignoring_cancel_is_killed_after_the_grace_period(cache_home, tmp_path):
    client = WorkerClient(sys.executable, heartbeat_s=0.2, cancel_grace=1.0, extra_env=DEBUG_ENV)
    try:
        params = {"action": "sleep", "steps": 100, "step_seconds": 0.2, "ignore_cancel": True}
        with pytest.raises(WorkerError) as error:
            client.call("debug", {**params, "output": str(tmp_path / "x.txt")}, is_cancelled=lambda: True)
        assert error.value.code == ErrorCode.CANCELLED and "did not stop" in str(error.value)
        assert list(tmp_path.iterdir()) == []
        assert client.pid is None  # killed; the next call starts a new worker
    finally:
        client.shutdown()


def test_the_worker_environment_is_clean(cache_home, monkeypatch):
    for name, value in {
        "PYTHONPATH": "/qgis/python",
        "PYTHONHOME": "/qgis",
        "PROJ_LIB": "/qgis/proj",
        "GDAL_DATA": "/qgis/gdal",
        "QGIS_PREFIX_PATH": "/qgis",
    }.items():
        monkeypatch.setenv(name, value)
    client = WorkerClient(sys.executable)
    try:
        report = client.diagnostics()
        with pytest.raises(WorkerError) as error:  # the testing aid is off without its variable
            client.call("debug", {"action": "sleep"})
        assert error.value.code == ErrorCode.UNKNOWN_OP
    finally:
        client.shutdown()
    worker = report["worker"]
    assert "error" not in worker, worker
    assert not {"PYTHONPATH", "PYTHONHOME", "PROJ_LIB", "GDAL_DATA"} & set(worker["environment"])
    assert worker["paths"]["cwd"] == str(user_cache_dir()) and worker["paths"]["landfuse"] == str(REPO_ROOT)
    assert report["client"]["python"] == sys.executable
    env = worker_environment(os.environ)
    assert not any(key.startswith(("QGIS_", "PROJ_", "GDAL_", "PYTHON")) for key in env)


SHADOWED = ("numpy", "onnx", "onnxruntime", "rasterio", "torch", "landfuse")


def shadowing_folder(folder: Path) -> Path:
    """A folder of modules and packages named like the worker's libraries that fail when imported."""
    folder.mkdir(parents=True)
    for name in SHADOWED:
        (folder / f"{name}.py").write_text(f"raise ImportError('the worker imported {folder}/{name}.py')\n")
    return folder


def test_modules_named_like_libraries_cannot_shadow_the_workers_imports(cache_home, inputs, tmp_path, monkeypatch):
    # The user's working folder and PYTHONPATH hold numpy.py, onnx.py, ...; the plugin folder sits in a
    # plugins folder next to another plugin named like a library, as in QGIS's profile.
    monkeypatch.chdir(shadowing_folder(tmp_path / "cwd"))
    monkeypatch.setenv("PYTHONPATH", str(shadowing_folder(tmp_path / "pythonpath")))
    plugins = tmp_path / "plugins"
    (plugins / "numpy").mkdir(parents=True)
    (plugins / "numpy" / "__init__.py").write_text("raise ImportError('a QGIS plugin named numpy was imported')\n")
    (plugins / "landfuse").symlink_to(REPO_ROOT, target_is_directory=True)
    client = WorkerClient(sys.executable, heartbeat_s=0.2, plugin_folder=plugins / "landfuse")
    try:
        result = client.call("classify", classify_params(inputs, "small", tmp_path))
        assert read_band(result["outputs"]["output"]).shape == (150, 170)
        report = client.diagnostics()["worker"]
        assert report["versions"]["numpy"] and report["paths"]["cwd"] != str(tmp_path / "cwd")
    finally:
        client.shutdown()


def test_relative_paths_resolve_against_the_callers_folder(client, inputs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inputs").mkdir()
    for name in ("optical.tif", "sar.tif"):
        (tmp_path / "inputs" / name).symlink_to(Path(inputs["small"][0]).with_name(name))
    Path("models").mkdir()
    Path("models", "mine.onnx").symlink_to(inputs["model"])
    params = {
        "optical": "inputs/optical.tif",
        "sar": "inputs/sar.tif",
        "model": "models/mine.onnx",
        "output": "out/landcover.tif",
        "report": "out/report.json",
        "options": {"device": "cpu"},
    }
    Path("out").mkdir()
    result = client.call("classify", params)
    assert result["outputs"]["output"] == str(tmp_path / "out" / "landcover.tif")
    assert (tmp_path / "out" / "report.json").is_file()
    evaluated = client.call("evaluate", {"class_map": "out/landcover.tif", "reference": "out/landcover.tif"})
    assert evaluated["metrics"]["oa"] == 1.0
    listed = client.call("list_models", {"folder": "models"})
    assert listed["folders"][0] == str(tmp_path / "models") and "mine" in [m["name"] for m in listed["models"]]
    # a model name stays a name; absolute paths and other parameters stay as they are
    sent = absolute_paths("classify", {"model": "edc-lite", "output": "/abs/x.tif", "options": {"tile_size": 64}})
    assert sent == {"model": "edc-lite", "output": "/abs/x.tif", "options": {"tile_size": 64}}
    assert absolute_paths("model_card", {"model": "m.pt"}, cwd="/data") == {"model": "/data/m.pt"}


CHOICES = {"architecture": "claire", "variant": "lite", "device": "cpu", "layer": "land_cover", "keep": "last"}  # text


def test_the_analyst_operations_file_parameters_are_made_absolute():
    """Every text parameter of train_reference, area_input, vectorise, assess and stratified_sample names a file,
    but the few choices; each is resolved against the caller's folder, the choices are sent as they are."""
    from landfuse.backend.worker.analyst_ops import analyst_operations

    for op, operation in analyst_operations().items():
        texts = {name for name, param in operation.params.items() if param.kind is str}
        files = {name: f"in/{name}.file" for name in texts - set(CHOICES)}
        choices = {name: CHOICES[name] for name in texts & set(CHOICES)}
        sent = absolute_paths(op, {**files, **choices, "extent": [0.0, 0.0, 1.0, 1.0]}, cwd="/data")
        expected = {name: f"/data/in/{name}.file" for name in files}
        assert sent == {**expected, **choices, "extent": [0.0, 0.0, 1.0, 1.0]}, op
        assert len(files) >= 2, op  # at least an input and an output


def test_gdal_names_keep_their_form_and_only_their_relative_file_is_made_absolute(tmp_path):
    """Subdatasets and /vsi names are not joined whole to the caller's folder: only the local file inside them is
    (when it is there), so the worker's GDAL opens what the caller meant from its own folder, and the backend finds
    the same input file; remote, in-memory and absolute names and files it cannot find are sent as they are."""
    tif = write_optical(tmp_path / "scene.tif", 16, 16, bands=1)
    rasterio.shutil.copy(tif, tmp_path / "scene.gpkg", driver="GPKG", RASTER_TABLE="OPTICAL")
    rasterio.shutil.copy(tif, tmp_path / "scene.nc", driver="netCDF")
    with zipfile.ZipFile(tmp_path / "scenes.zip", "w") as archive:
        archive.write(tif, "s2/scene.tif")
    (tmp_path / "ab:c.tif").write_bytes(tif.read_bytes())  # a file whose name looks like a subdataset
    (tmp_path / "S2").mkdir()
    (tmp_path / "S2" / "MTD_MSIL2A.xml").write_text("<Level-2A_User_Product/>")
    folder = str(tmp_path)
    opened = {  # sent -> (resolved, the local file GDAL reads)
        'NETCDF:"scene.nc":Band1': (f'NETCDF:"{folder}/scene.nc":Band1', "scene.nc"),
        "GPKG:scene.gpkg:OPTICAL": (f"GPKG:{folder}/scene.gpkg:OPTICAL", "scene.gpkg"),
        "/vsizip/scenes.zip/s2/scene.tif": (f"/vsizip/{folder}/scenes.zip/s2/scene.tif", "scenes.zip"),
        "/vsizip/{scenes.zip}/s2/scene.tif": (f"/vsizip/{{{folder}/scenes.zip}}/s2/scene.tif", "scenes.zip"),
        "ab:c.tif": (f"{folder}/ab:c.tif", "ab:c.tif"),
    }
    named = {
        "SENTINEL2_L2A:S2/MTD_MSIL2A.xml:10m:EPSG_32633": f"SENTINEL2_L2A:{folder}/S2/MTD_MSIL2A.xml:10m:EPSG_32633",
        f"GPKG:{folder}/scene.gpkg:OPTICAL": f"GPKG:{folder}/scene.gpkg:OPTICAL",
        'HDF5:"missing.h5"://reflectance': 'HDF5:"missing.h5"://reflectance',
        "/vsicurl/https://example.org/scene.tif": "/vsicurl/https://example.org/scene.tif",
        "/vsimem/scene.tif": "/vsimem/scene.tif",
        "/vsizip//vsicurl/https://example.org/scenes.zip/scene.tif": (
            "/vsizip//vsicurl/https://example.org/scenes.zip/scene.tif"
        ),
        "scene.tif": f"{folder}/scene.tif",
    }
    expected = {name: resolved for name, (resolved, _) in opened.items()} | named
    for name, resolved in expected.items():
        assert absolute_paths("area_input", {"raster": name}, cwd=folder) == {"raster": resolved}, name
    assert os.getcwd() != folder  # the resolved names open from another folder, like the worker's
    for resolved, file in opened.values():
        with rasterio.open(resolved) as dataset:
            assert dataset.read(1).shape == (16, 16), resolved
        assert input_file(resolved) == tmp_path / file, resolved
    assert SUBDATASET_NAME.match("C:/data/scene.tif") is None  # a Windows drive, not a driver


def test_a_backend_that_cannot_start_is_reported(cache_home, tmp_path):
    with pytest.raises(WorkerError) as error:
        WorkerClient(tmp_path / "no-python").call("ping")
    assert error.value.code == ErrorCode.WORKER_START and "Set up the backend" in str(error.value)
    broken = WorkerClient("/bin/false", start_timeout=20)
    with pytest.raises(WorkerError) as error:
        broken.call("ping")
    assert error.value.code == ErrorCode.WORKER_START and "exited with status 1" in str(error.value)
    assert broken.diagnostics()["worker"]["error"]["code"] == ErrorCode.WORKER_START


def test_call_deadline_and_parameters_that_are_not_json(client, tmp_path):
    with pytest.raises(WorkerError) as error:
        client.call(
            "debug", {"action": "sleep", "steps": 100, "step_seconds": 0.1, "output": tmp_path / "x.txt"}, timeout=0.5
        )
    assert error.value.code == ErrorCode.TIMEOUT and "0.5 s limit" in str(error.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(WorkerError) as error:
        client.call("ping", {"when": object()})
    assert error.value.code == ErrorCode.BAD_PARAMS


def test_a_backend_of_another_protocol_version_is_refused(cache_home, tmp_path):
    impostor = tmp_path / "python"
    impostor.write_text('#!/bin/sh\necho \'{"event": "hello", "id": null, "protocol": 99}\'\nsleep 30\n')
    impostor.chmod(0o755)
    with pytest.raises(WorkerError) as error:
        WorkerClient(impostor).call("ping")
    assert error.value.code == ErrorCode.PROTOCOL and "protocol 99" in str(error.value)


def test_cleanup_after_a_death_mid_commit_restores_the_replaced_output(tmp_path):
    """A worker that dies while committing leaves the previous output moved aside: it is put back."""
    from landfuse.common.protocol import folder_listing, replaced_original
    from landfuse.plugin.worker_client import _remove_partial_outputs

    output = tmp_path / "landcover.tif"
    output.write_bytes(b"the previous map")
    before = {output: folder_listing(output)}
    aside = tmp_path / ".landcover.tif.4242-139872.replaced"
    assert replaced_original(aside) == output and replaced_original(output) is None
    output.replace(aside)
    output.write_bytes(b"the new map, renamed into place before the worker died")
    (tmp_path / "landcover.qml").write_text("<qgis/>")
    (tmp_path / ".confidence.tif.4242-139872.partial").write_bytes(b"half")
    _remove_partial_outputs(before)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".confidence.tif.4242-139872.partial", "landcover.tif"]
    assert output.read_bytes() == b"the previous map"
