"""Outputs never replace inputs or each other, missing folders are created, stale sidecars go away."""

import os
import shutil
import zipfile

import numpy as np
import pytest
import rasterio

from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.engine.paths import check_job_paths, input_file
from landfuse.backend.errors import LandFuseError

OPTIONS = ClassifyOptions(tile_size=64, overlap=16)


@pytest.fixture
def inputs(scene, tmp_path):
    """A private copy of the scene (these tests try to overwrite it) and a file that is not a model."""
    folder = tmp_path / "in"
    folder.mkdir()
    for path in scene:
        shutil.copy(path, folder / path.name)
    broken_model = folder / "broken.onnx"
    broken_model.write_bytes(b"not a model")
    return folder / "optical.tif", folder / "sar.tif", broken_model


def refusal(*args, **kwargs) -> LandFuseError:
    with pytest.raises(LandFuseError) as info:
        classify(*args, **kwargs)
    return info.value


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_output_equal_to_an_input_is_refused_before_the_model_loads(inputs, tmp_path):
    optical, sar, broken_model = inputs
    before = optical.read_bytes()
    # the model file is broken: getting BAD_PARAMS, not a model error, shows the check came first
    error = refusal(optical, sar, broken_model, optical, options=OPTIONS)
    assert error.code == "BAD_PARAMS" and "optical input" in str(error)
    assert refusal(optical, sar, broken_model, tmp_path / "map.tif", confidence=sar).code == "BAD_PARAMS"
    assert refusal(optical, sar, broken_model, tmp_path / "map.tif", report=broken_model).code == "BAD_PARAMS"
    assert optical.read_bytes() == before
    assert listing(tmp_path) == ["in"] and listing(optical.parent) == ["broken.onnx", "optical.tif", "sar.tif"]


def test_outputs_equal_to_each_other_or_to_a_sidecar_are_refused(inputs, tmp_path):
    optical, sar, broken_model = inputs
    out = tmp_path / "map.tif"
    cases = {
        "confidence map": dict(confidence=out),
        "report": dict(report=tmp_path / "map.qml"),  # the class map's style
        "class map categories": dict(confidence=tmp_path / "map.tif.aux.xml"),
        "reconstruction": dict(reconstruction=tmp_path / "." / "map.tif"),
    }
    for role, kwargs in cases.items():
        error = refusal(optical, sar, broken_model, out, options=OPTIONS, **kwargs)
        assert error.code == "BAD_PARAMS" and "same file" in str(error) and role in str(error)
    assert listing(tmp_path) == ["in"]


def test_links_archives_containers_and_input_sidecars_are_recognised(inputs, tmp_path):
    optical, sar, broken_model = inputs
    (tmp_path / "link.tif").symlink_to(optical)
    os.link(optical, tmp_path / "hard.tif")
    with zipfile.ZipFile(tmp_path / "scene.zip", "w") as archive:
        archive.write(optical, "sub/optical.tif")
    zipped = f"/vsizip/{tmp_path / 'scene.zip'}/sub/optical.tif"
    collisions = [
        (optical, tmp_path / "link.tif"),  # a symbolic link to the input
        (optical, tmp_path / "hard.tif"),  # a hard link to the input
        (optical, optical.parent / ".." / "in" / "optical.tif"),
        (zipped, tmp_path / "scene.zip"),  # the archive the input is in
        (optical, optical.with_name("optical.tif.aux.xml")),  # the input's statistics
        (optical, optical.with_name("optical.tif.ovr")),
        (optical, optical.with_name("optical.tiff")),  # its style optical.qml is the input's style
    ]
    for optical_name, output in collisions:
        error = refusal(optical_name, sar, broken_model, output, options=OPTIONS)
        assert error.code == "BAD_PARAMS", output
    assert listing(tmp_path) == ["hard.tif", "in", "link.tif", "scene.zip"]


def test_local_files_behind_gdal_names(tmp_path):
    (tmp_path / "a.zip").write_bytes(b"zip")
    (tmp_path / "b.gpkg").write_bytes(b"gpkg")
    (tmp_path / "c:d.nc").write_bytes(b"netcdf")
    (tmp_path / "e.tif").write_bytes(b"tiff")
    assert input_file(f"/vsizip/{tmp_path}/a.zip/x/y.tif") == tmp_path / "a.zip"
    assert input_file(f"/vsizip/{{{tmp_path}/a.zip}}/y.tif") == tmp_path / "a.zip"
    assert input_file(f"GPKG:{tmp_path}/b.gpkg:SCENE") == tmp_path / "b.gpkg"
    assert input_file(f'NETCDF:"{tmp_path}/c:d.nc":backscatter') == tmp_path / "c:d.nc"
    assert input_file(f"GTIFF_DIR:2:{tmp_path}/e.tif") == tmp_path / "e.tif"
    assert input_file("/vsicurl/https://example.com/x.tif") is None
    assert input_file(f"GPKG:{tmp_path}/missing.gpkg:SCENE") is None
    assert input_file(tmp_path / "new.tif") == tmp_path / "new.tif"


def test_removing_a_stale_sidecar_that_is_an_input_is_refused(tmp_path):
    overview = tmp_path / "map.tif.ovr"
    overview.write_bytes(b"an overview file opened as an input")
    with pytest.raises(LandFuseError) as info:
        check_job_paths({"sar": overview}, {"class map": tmp_path / "map.tif"}, [overview])
    assert info.value.code == "BAD_PARAMS" and "stale sidecar" in str(info.value)


def test_a_model_file_named_like_the_output_has_no_protected_sidecars(tmp_path):
    """A model ``landcover.onnx`` beside ``landcover.tif``: the class map's ``landcover.qml`` is no model file."""
    model = tmp_path / "landcover.onnx"
    model.write_bytes(b"model")
    optical = tmp_path / "optical.tif"
    optical.write_bytes(b"raster")
    check_job_paths({"optical": optical, "model": model}, {"class map style": tmp_path / "landcover.qml"})
    with pytest.raises(LandFuseError, match="sidecar file of the optical input"):
        check_job_paths({"optical": optical, "model": model}, {"class map style": tmp_path / "optical.qml"})


def test_missing_output_folders_are_created_and_removed_again_on_failure(scene, tiny_runner, tmp_path):
    nested = tmp_path / "new" / "deeper" / "map.tif"
    report = classify(*scene, tiny_runner, nested, confidence=tmp_path / "other" / "c.tif", options=OPTIONS)
    assert listing(nested.parent) == ["map.qml", "map.tif", "map.tif.aux.xml"]
    assert report["outputs"]["confidence"] == str(tmp_path / "other" / "c.tif")
    empty = tmp_path / "empty.tif"
    with rasterio.open(scene[0]) as src:
        profile = src.profile
    with rasterio.open(empty, "w", **profile) as dst:
        dst.write(np.zeros((profile["count"], profile["height"], profile["width"]), profile["dtype"]))
    error = refusal(empty, scene[1], tiny_runner, tmp_path / "gone" / "again" / "map.tif", options=OPTIONS)
    assert error.code == "ALL_NODATA"
    assert listing(tmp_path) == ["empty.tif", "new", "other"]


def test_output_below_a_file_is_not_writable(scene, tiny_runner, tmp_path):
    (tmp_path / "file.tif").write_bytes(b"a file, not a folder")
    error = refusal(*scene, tiny_runner, tmp_path / "file.tif" / "map.tif", options=OPTIONS)
    assert error.code == "NOT_WRITABLE" and "not a folder" in str(error)
    assert refusal(*scene, tiny_runner, tmp_path, options=OPTIONS).code == "NOT_WRITABLE"


def test_replacing_an_output_removes_its_stale_sidecars(scene, tiny_runner, tmp_path):
    stale = {
        "map.tif": b"previous map",
        "map.tif.ovr": b"old overviews",
        "map.tif.msk": b"old mask",
        "map.tif.aux.xml": b"<PAMDataset>old statistics</PAMDataset>",
        "map.qml": b"old style",
        "confidence.tif.aux.xml": b"<PAMDataset>old statistics</PAMDataset>",
        "confidence.qml": b"a style of the old confidence map",
        "keep.tif.ovr": b"not ours",
    }
    for name, content in stale.items():
        (tmp_path / name).write_bytes(content)
    classify(*scene, tiny_runner, tmp_path / "map.tif", confidence=tmp_path / "confidence.tif", options=OPTIONS)
    assert listing(tmp_path) == [
        "confidence.qml",
        "confidence.tif",
        "keep.tif.ovr",
        "map.qml",
        "map.tif",
        "map.tif.aux.xml",
    ]
    assert b"paletted" in (tmp_path / "map.qml").read_bytes()
    assert b"singlebandpseudocolor" in (tmp_path / "confidence.qml").read_bytes()
    assert b"<CategoryNames>" in (tmp_path / "map.tif.aux.xml").read_bytes()


def test_a_failed_job_keeps_the_previous_outputs_and_their_sidecars(scene, tiny_runner, tmp_path):
    for name in ("map.tif", "map.tif.ovr", "map.qml"):
        (tmp_path / name).write_bytes(b"previous " + name.encode())
    far = tmp_path / "far" / "sar.tif"
    from tests.backend.engine.helpers import write_sar

    far.parent.mkdir()
    write_sar(far, 150, 170, shift_deg=2.0)
    assert refusal(scene[0], far, tiny_runner, tmp_path / "map.tif", options=OPTIONS).code == "NO_OVERLAP"
    assert listing(tmp_path) == ["far", "map.qml", "map.tif", "map.tif.ovr"]
    assert (tmp_path / "map.tif.ovr").read_bytes() == b"previous map.tif.ovr"
