"""Batches on a local Ray instance with two CPU workers: outputs, failures, resumption, lost actors, cancel, blocks."""

from __future__ import annotations

import json
import shutil
import tempfile

import numpy as np
import pytest
import rasterio
import ray

from landfuse.backend.batch import BatchRequest, Scene, run_batch, scenes_in_folder
from landfuse.backend.batch.manifest import MANIFEST_NAME
from landfuse.backend.engine import CancelToken, ClassifyOptions, classify
from landfuse.backend.explain import explain_report
from landfuse.backend.runners import OnnxRunner
from tests.backend.batch.helpers import write_pair

OPTIONS = ClassifyOptions(batch_size=4)
SCENE_FILES = {
    "landcover.tif",
    "landcover.qml",
    "landcover.tif.aux.xml",
    "confidence.tif",
    "confidence.qml",
    "report.json",
}


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray instance with 2 CPUs for the module (a short temporary folder: Ray puts sockets there)."""
    folder = tempfile.mkdtemp(prefix="lf-ray-", dir="/tmp")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _temp_dir=folder,
        object_store_memory=128 * 2**20,
        log_to_driver=False,
        logging_level="warning",
    )
    yield
    ray.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def four_scenes(tmp_path_factory):
    """A folder of four scenes side by side (200 x 240 pixels each); ``c-broken`` has an optical file that is
    not a raster."""
    folder = tmp_path_factory.mktemp("scenes")
    for index, name in enumerate(["a", "b", "c-broken", "d"]):
        write_pair(folder / name, 200, 240, seed=index, origin=(400000.0 + 2400 * index, 5000000.0))
    (folder / "c-broken" / "optical.tif").write_text("this is not a raster", encoding="utf-8")
    return scenes_in_folder(folder)


@pytest.fixture(scope="module")
def first_run(four_scenes, conv_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    statuses = []
    request = BatchRequest(model=str(conv_model), output_folder=out, options=OPTIONS, confidence=True)
    result = run_batch(four_scenes, request, progress=lambda status: statuses.append(status))
    return out, result, statuses


def test_scenes_are_classified_and_the_bad_one_fails_with_its_code(first_run, four_scenes, conv_model):
    out, result, statuses = first_run
    assert (result.total, result.done, result.failed, result.pending, result.cancelled) == (4, 3, 1, 0, False)
    manifest = json.loads((out / MANIFEST_NAME).read_text())["scenes"]
    assert manifest["c-broken"]["state"] == "failed"
    assert manifest["c-broken"]["error"]["code"] == "UNREADABLE"
    assert "could not be opened" in manifest["c-broken"]["error"]["message"]
    assert not (out / "c-broken" / "landcover.tif").exists()
    for name in ("a", "b", "d"):
        assert manifest[name]["state"] == "done" and manifest[name]["attempts"] == 1
        assert {p.name for p in (out / name).iterdir()} == SCENE_FILES
    runner = OnnxRunner(conv_model, "cpu", threads=1)
    scene = four_scenes[0]
    classify(scene.optical, scene.sar, runner, out.parent / "single-a.tif", options=OPTIONS)
    with rasterio.open(out.parent / "single-a.tif") as single, rasterio.open(out / "a" / "landcover.tif") as batch:
        np.testing.assert_array_equal(batch.read(1), single.read(1))
    last = statuses[-1]
    assert (last.done, last.failed, last.running, last.fraction) == (3, 1, {}, 1.0)
    assert any(status.running for status in statuses)


def test_merged_report_sums_the_scenes_and_lists_each_one(first_run):
    out, result, _ = first_run
    merged = json.loads((out / "batch-report.json").read_text())
    scenes = [json.loads((out / name / "report.json").read_text()) for name in ("a", "b", "d")]
    for index, entry in enumerate(merged["classes"]):
        assert entry["pixels"] == sum(s["classes"][index]["pixels"] for s in scenes)
        assert entry["hectares"] == pytest.approx(sum(s["classes"][index]["hectares"] for s in scenes))
    assert sum(c["pixels"] for c in merged["classes"]) == 3 * 200 * 240
    rows = {row["name"]: row for row in merged["batch"]["scenes"]}
    assert rows["c-broken"]["error"]["code"] == "UNREADABLE" and rows["a"]["state"] == "done"
    assert rows["a"]["hectares"] == pytest.approx(200 * 240 * 0.01)
    counts = {key: merged["batch"][key] for key in ("total", "done", "failed", "pending", "complete")}
    assert counts == {"total": 4, "done": 3, "failed": 1, "pending": 0, "complete": False}
    assert result.outputs["report"] == str(out / "batch-report.json")
    explanation = explain_report(merged, max_attempts=0)  # the merged report is a report explain reads
    largest = max(merged["classes"], key=lambda entry: entry["pixels"])["name"]
    assert explanation.record["grounded"] and largest in explanation.text.lower()


def test_mosaic_places_every_class_map_with_the_class_style(first_run):
    out, result, _ = first_run
    assert result.outputs["mosaic"] == str(out / "mosaic.vrt")
    assert (out / "mosaic.qml").read_text() == (out / "a" / "landcover.qml").read_text()
    with rasterio.open(out / "mosaic.vrt") as mosaic, rasterio.open(out / "a" / "landcover.tif") as first:
        assert mosaic.crs == first.crs and mosaic.transform == first.transform
        assert mosaic.shape == (200, 4 * 240) and mosaic.nodata == first.nodata
        assert mosaic.colormap(1)[2] == first.colormap(1)[2]
        pixels = mosaic.read(1)
    for index, name in enumerate(["a", "b", "c-broken", "d"]):
        part = pixels[:, 240 * index : 240 * (index + 1)]
        if name == "c-broken":
            assert (part == 255).all()
            continue
        with rasterio.open(out / name / "landcover.tif") as scene:
            np.testing.assert_array_equal(part, scene.read(1))


def test_a_rerun_leaves_finished_scenes_alone_and_retries_the_failed_one(first_run, four_scenes, conv_model):
    out, _, _ = first_run
    before = {name: (out / name / "landcover.tif").stat().st_mtime_ns for name in ("a", "b", "d")}
    statuses = []
    request = BatchRequest(model=str(conv_model), output_folder=out, options=OPTIONS, confidence=True)
    result = run_batch(four_scenes, request, progress=statuses.append)
    assert (result.done, result.failed) == (3, 1)
    assert statuses[0].skipped == 3 and set().union(*(s.running for s in statuses)) == {"c-broken"}
    assert {name: (out / name / "landcover.tif").stat().st_mtime_ns for name in ("a", "b", "d")} == before
    manifest = json.loads((out / MANIFEST_NAME).read_text())["scenes"]
    assert manifest["c-broken"]["state"] == "failed" and manifest["c-broken"]["attempts"] == 1


def test_a_killed_actor_s_scene_is_retried_and_every_scene_finishes(conv_model, tmp_path):
    scenes = []
    for index in range(3):  # large enough to be seen running between two progress polls (0.5 s)
        optical, sar = write_pair(tmp_path / "in" / f"s{index}", 1280, 1280, seed=index)
        scenes.append(Scene(f"s{index}", str(optical), str(sar)))
    killed = []

    def kill_once(status):
        started = [name for name, fraction in status.running.items() if fraction > 0]
        if not killed and started:
            killed.append(started[0])
            ray.kill(ray.get_actor(status.workers[started[0]]))

    request = BatchRequest(model=str(conv_model), output_folder=tmp_path / "out", options=OPTIONS)
    result = run_batch(scenes, request, progress=kill_once)
    assert killed and (result.done, result.failed) == (3, 0)
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text())["scenes"]
    assert manifest[killed[0]]["attempts"] == 2
    assert all(entry["state"] == "done" for entry in manifest.values())
    assert not list((tmp_path / "out").rglob("*.partial"))


def test_cancel_keeps_finished_scenes_and_the_next_run_does_the_rest(conv_model, tmp_path):
    scenes = []
    for index in range(4):
        optical, sar = write_pair(tmp_path / "in" / f"s{index}", 384, 384, seed=index)
        scenes.append(Scene(f"s{index}", str(optical), str(sar)))
    token = CancelToken()

    def cancel_after_one(status):
        if status.done:
            token.cancel()

    request = BatchRequest(model=str(conv_model), output_folder=tmp_path / "out", options=OPTIONS)
    result = run_batch(scenes, request, progress=cancel_after_one, cancel=token)
    assert result.cancelled and result.done >= 1 and result.pending >= 1 and result.failed == 0
    assert result.done + result.pending == 4
    assert not list((tmp_path / "out").rglob("*.partial"))
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text())["scenes"]
    done = {name for name, entry in manifest.items() if entry["state"] == "done"}
    assert all((tmp_path / "out" / name / "landcover.tif").is_file() for name in done)
    assert not any((tmp_path / "out" / name / "landcover.tif").exists() for name in set(manifest) - done)
    merged = json.loads((tmp_path / "out" / "batch-report.json").read_text())
    assert merged["batch"]["complete"] is False and merged["batch"]["done"] == len(done)

    statuses = []
    again = run_batch(scenes, request, progress=statuses.append)
    assert (again.done, again.failed, again.cancelled) == (4, 0, False)
    assert statuses[0].skipped == len(done)


def test_blocks_on_the_cluster_equal_the_single_machine_class_map(conv_model, tmp_path):
    optical, sar = write_pair(tmp_path / "big", 2048, 2048, seed=7)
    runner = OnnxRunner(conv_model, "cpu", threads=2)
    single = tmp_path / "single"
    outputs = {"confidence": single / "confidence.tif", "options": OPTIONS}
    report = classify(optical, sar, runner, single / "landcover.tif", **outputs)
    request = BatchRequest(
        model=str(conv_model), output_folder=tmp_path / "out", options=OPTIONS, confidence=True, blocks=1024
    )
    statuses = []
    result = run_batch([Scene("big", str(optical), str(sar))], request, progress=statuses.append)
    assert (result.done, result.failed) == (1, 0)
    split = tmp_path / "out" / "big"
    for name in ("landcover.tif", "confidence.tif"):
        with rasterio.open(single / name) as expected, rasterio.open(split / name) as assembled:
            assert (assembled.transform, assembled.shape) == (expected.transform, expected.shape)
            np.testing.assert_array_equal(assembled.read(1), expected.read(1))
    merged = json.loads((split / "report.json").read_text())
    assert [c["pixels"] for c in merged["classes"]] == [c["pixels"] for c in report["classes"]]
    assert merged["blocks"]["count"] == 4 and merged["blocks"]["windows_single_run"] == report["windows"]["total"]
    assert not (split / ".blocks").exists()
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text())["scenes"]["big"]
    assert {block["state"] for block in manifest["blocks"].values()} == {"done"}
    assert all(block["worker"].startswith("landfuse-") for block in manifest["blocks"].values())
    assert any(0 < status.fraction < 1 for status in statuses), "progress moves within the scene, block by block"
