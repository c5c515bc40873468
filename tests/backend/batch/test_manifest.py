"""The manifest keeps what is done with unchanged settings, and only that; one batch per folder at a time."""

from __future__ import annotations

import json

import pytest

from landfuse.backend.batch.manifest import DONE, MANIFEST_NAME, PENDING, Manifest, folder_lock
from landfuse.backend.batch.scenes import Scene
from landfuse.backend.errors import BadParamsError

SCENE = Scene("north", "/data/s2.tif", "/data/s1.tif")
SETTINGS = {"model": {"path": "/models/m.onnx", "bytes": 10, "modified_ns": 1}, "blocks": 256}


def finished(tmp_path, blocks=None):
    """A manifest in ``tmp_path`` whose scene ``north`` is done, its class map written."""
    class_map = tmp_path / "north" / "landcover.tif"
    class_map.parent.mkdir()
    class_map.write_bytes(b"map")
    manifest = Manifest(tmp_path)
    manifest.prepare(SCENE, SETTINGS, {"class_map": str(class_map), "confidence": None}, blocks)
    manifest.update("north", state=DONE)
    manifest.save()
    return class_map


def test_a_done_scene_is_kept_only_with_the_same_inputs_settings_and_files(tmp_path):
    class_map = finished(tmp_path)
    outputs = {"class_map": str(class_map), "confidence": None}
    assert Manifest(tmp_path).prepare(SCENE, SETTINGS, outputs, None)["state"] == DONE
    assert Manifest(tmp_path).prepare(SCENE, {**SETTINGS, "blocks": 512}, outputs, None)["state"] == PENDING
    moved = Scene("north", "/data/other.tif", "/data/s1.tif")
    assert Manifest(tmp_path).prepare(moved, SETTINGS, outputs, None)["state"] == PENDING
    class_map.unlink()
    assert Manifest(tmp_path).prepare(SCENE, SETTINGS, outputs, None)["state"] == PENDING


def test_finished_blocks_of_an_unfinished_scene_are_kept(tmp_path):
    manifest = Manifest(tmp_path)
    outputs = {"class_map": str(tmp_path / "north" / "landcover.tif"), "confidence": None}
    manifest.prepare(SCENE, SETTINGS, outputs, ["r0c0", "r0c1"])
    block_file = tmp_path / "r0c0.tif"
    block_file.write_bytes(b"block")
    manifest.update_block("north", "r0c0", state=DONE, files=[str(block_file)])
    manifest.save()
    entry = Manifest(tmp_path).prepare(SCENE, SETTINGS, outputs, ["r0c0", "r0c1"])
    assert {key: block["state"] for key, block in entry["blocks"].items()} == {"r0c0": DONE, "r0c1": PENDING}
    entry = Manifest(tmp_path).prepare(SCENE, {**SETTINGS, "confidence": True}, outputs, ["r0c0", "r0c1"])
    assert {block["state"] for block in entry["blocks"].values()} == {PENDING}


def test_a_corrupt_manifest_is_refused_with_what_to_do(tmp_path):
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"scenes": []}))
    with pytest.raises(BadParamsError, match="delete it to start the batch over"):
        Manifest(tmp_path)


def test_a_second_batch_cannot_write_into_the_same_folder(tmp_path):
    held = pytest.raises(BadParamsError, match="another batch is writing")
    with folder_lock(tmp_path), held, folder_lock(tmp_path):
        pass
    with folder_lock(tmp_path):  # released again
        pass
