"""The diagnostics report: the CLI command and the last errors quoted from the worker log."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from landfuse.backend.diagnostics import format_report, last_logged_errors
from landfuse.common.protocol import PROTOCOL_VERSION

ERROR_LINE = (
    "2026-01-01 10:00:{:02d},000 1 landfuse-heavy ERROR x: request {} (classify) failed [NO_OVERLAP]: no overlap\n"
)


def test_cli_report_names_interpreter_versions_devices_and_last_errors(tmp_path):
    log = tmp_path / "landfuse" / "worker.log"
    log.parent.mkdir()
    log.write_text("2026-01-01 10:00:00,000 1 MainThread INFO x: started\n" + ERROR_LINE.format(1, 3))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "landfuse.backend", "diagnostics", "--json"]
    report = json.loads(subprocess.run(command, capture_output=True, env=env, check=True).stdout)
    assert report["protocol"] == PROTOCOL_VERSION and report["interpreter"] == sys.executable
    assert report["versions"]["onnxruntime"] and report["versions"]["numpy"].startswith("1.")
    devices = report["devices"]
    assert devices["preferred"] and "CPUExecutionProvider" in devices["onnxruntime"]["providers_listed"]
    assert report["paths"]["worker_log"] == str(log)
    assert [line.split(" failed ")[1] for line in report["last_errors"]] == ["[NO_OVERLAP]: no overlap"]
    text = format_report(report)
    assert f"interpreter: {sys.executable}" in text and "  preferred: " in text and "[NO_OVERLAP]" in text


def test_last_errors_keep_the_latest_ones(tmp_path):
    log = tmp_path / "worker.log"
    assert last_logged_errors(log) == []
    log.write_text("".join(ERROR_LINE.format(second, second) for second in range(15)))
    errors = last_logged_errors(log, limit=10)
    assert len(errors) == 10 and "request 14 " in errors[-1] and "request 5 " in errors[0]
    assert format_report({"a": 1, "b": {"c": [1, 2]}, "d": ["x"]}) == "a: 1\nb:\n  c: [1, 2]\nd:\n  - x"
