"""SIGTERM and SIGINT stop ``python -m landfuse.backend classify`` with a message, a non-zero status and no files."""

import signal
import subprocess
import sys
import time

import pytest

from tests.backend.engine.cli_process import child_env, cli_argv
from tests.backend.engine.helpers import write_optical, write_sar
from tests.paths import REPO_ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture(scope="module")
def large_scene(tmp_path_factory):
    """512 x 512 pixels: with 32-pixel windows every 16 pixels, one at a time, the job runs for seconds."""
    folder = tmp_path_factory.mktemp("large")
    return write_optical(folder / "optical.tif", 512, 512), write_sar(folder / "sar.tif", 512, 512)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_run_leaves_no_file(large_scene, tiny_onnx, tmp_path, signum):
    out = tmp_path / "out"
    out.mkdir()
    argv = cli_argv(*large_scene, tiny_onnx, out / "map.tif", "--confidence", str(out / "confidence.tif"))
    argv += ["--report", str(out / "report.json"), "--tile-size", "32", "--overlap", "16", "--batch-size", "1"]
    process = subprocess.Popen(
        [*argv, "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT.parent,
        env=child_env(),
    )
    try:
        while not any(path.name.endswith(".partial") for path in out.iterdir()):  # the outputs are being written
            assert process.poll() is None, f"the job ended before it could be stopped: {process.communicate()}"
            time.sleep(0.01)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signum, stderr
    assert f"stopped by {signal.Signals(signum).name}; no output was written" in stderr
    assert stdout == ""
    assert list(out.iterdir()) == []
