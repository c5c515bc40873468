"""The ``explain`` command in a real subprocess."""

import json
import subprocess
import sys

from tests.backend.explain.reports import CITY_SCENE, make_report
from tests.paths import REPO_ROOT


def test_cli_writes_markdown_and_record(tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps(make_report(CITY_SCENE)))
    md, record = tmp_path / "x.md", tmp_path / "x.json"
    command = [
        sys.executable,
        "-m",
        "landfuse.backend",
        "explain",
        str(report),
        "--out",
        str(md),
        "--json",
        str(record),
    ]
    done = subprocess.run(
        [*command, "--attempts", "0"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT.parent,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(record.read_text())
    assert data["grounded"] and data["text"] in md.read_text()
    assert data["text"].startswith("The scene is dominated by built")
    assert data["source"] == "template" and data["model"] is None and "no language model attempt" in md.read_text()
    missing = subprocess.run(
        [*command, "--model", str(tmp_path / "none.gguf")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT.parent,
        timeout=60,
    )
    assert missing.returncode == 2 and "LLM_UNAVAILABLE" in missing.stderr
