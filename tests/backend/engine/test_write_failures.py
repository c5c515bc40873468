"""A full disk or a read-only folder fails the job with NOT_WRITABLE and leaves nothing behind."""

import sys

import pytest

from tests.backend.engine.cli_process import (
    SharedFolder,
    cli_argv,
    limit_file_size,
    run_cli,
    run_unprivileged,
)
from tests.backend.engine.helpers import write_optical, write_sar

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits and users")


@pytest.fixture
def shared():
    folder = SharedFolder()
    yield folder
    folder.remove()


def test_full_disk_is_not_writable_and_leaves_nothing(tiny_onnx, tmp_path):
    """With a file size limit, writes fail with EFBIG exactly as on a full disk. GDAL keeps the blocks
    in its cache and writes them when the file is closed, where rasterio does not report failures:
    the engine notices by reading the file back."""
    optical = write_optical(tmp_path / "optical.tif", 600, 170)  # three block rows of output
    sar = write_sar(tmp_path / "sar.tif", 600, 170)
    out = tmp_path / "out"
    argv = cli_argv(optical, sar, tiny_onnx, out / "map.tif", "--confidence", str(out / "confidence.tif"))
    result = run_cli([*argv, "--tile-size", "64", "--quiet"], preexec_fn=limit_file_size(6_000))
    assert result.returncode == 2, result.stderr
    assert "[NOT_WRITABLE]" in result.stderr and "could not be completed" in result.stderr
    assert "disk may be full" in result.stderr
    assert not out.exists(), "the folder the job created is removed again, with everything in it"


def test_read_only_output_folder(scene, tiny_onnx, shared):
    optical, sar, model = shared.put(*scene, tiny_onnx)
    locked = shared.folder("locked", 0o555)
    result = run_unprivileged([*cli_argv(optical, sar, model, locked / "map.tif"), "--quiet"])
    assert result.returncode == 2, result.stderr
    assert "[NOT_WRITABLE]" in result.stderr and "is not writable" in result.stderr and str(locked) in result.stderr
    assert list(locked.iterdir()) == []


COMMIT_SCRIPT = """
import sys
from pathlib import Path
from landfuse.backend.engine.outputs import StagedFiles
from landfuse.backend.errors import NotWritableError

base = Path(sys.argv[1])
first, second = base / "first", base / "second"
first.mkdir()
second.mkdir()
(first / "map.tif").write_text("previous map")
files = StagedFiles()
files.stage(first / "map.tif", "class map").write_text("new map")
files.stage(second / "report.json", "report").write_text("new report")
second.chmod(0o555)  # the report cannot be renamed into place any more
try:
    files.commit()
except NotWritableError as error:
    print("refused:", error)
print(sorted(p.name for p in first.iterdir()), (first / "map.tif").read_text())
"""


def test_commit_is_all_or_nothing(shared):
    """When one output cannot be put in place, the outputs already moved are taken back and the
    files they replaced restored."""
    work = shared.folder("work", 0o777)
    result = run_unprivileged([sys.executable, "-c", COMMIT_SCRIPT, str(work)])
    assert result.returncode == 0, result.stderr
    refused, state = result.stdout.strip().splitlines()
    assert refused.startswith("refused: the outputs could not be put in place")
    assert state == "['map.tif'] previous map"
    assert not (work / "second" / "report.json").exists()
