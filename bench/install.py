"""Install benchmark: time and disk size of a fresh backend environment per profile, as "Set up" makes it.

Writes ``bench/results/install.json`` with, per profile set (``inference``; ``inference+training``;
``inference+explanations``): ``seconds`` (venv creation, pip install from the package index and the
diagnostics check, through ``plugin.installer.run_setup``), ``megabytes`` (the environment folder on
disk) and whether torch is importable. pip's cache is left as it is on this machine; its size after the
runs is recorded.

Run: ``python -m landfuse.bench install``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from . import machine_info, write_result

BASE_PYTHON = Path("/usr/bin/python3")
PROFILE_SETS = (("inference",), ("inference", "training"), ("inference", "explanations"))
GOALS = {"inference": {"seconds": 120, "megabytes": 400}}


def _folder_megabytes(folder: Path) -> float:
    total = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())
    return round(total / 2**20, 1)


def _pip_cache_megabytes() -> float | None:
    done = subprocess.run(
        [str(BASE_PYTHON), "-m", "pip", "cache", "dir"], capture_output=True, text=True, env=os.environ.copy()
    )
    folder = Path(done.stdout.strip())
    return _folder_megabytes(folder) if done.returncode == 0 and folder.is_dir() else None


def main() -> dict:
    from landfuse.plugin import installer

    results = {}
    for profiles in PROFILE_SETS:
        name = "+".join(profiles)
        with tempfile.TemporaryDirectory() as tmp:
            venv = Path(tmp) / "backend"
            plan = installer.SetupPlan(BASE_PYTHON, venv, profiles, gpu=False, uv=None)
            start = time.perf_counter()
            report = installer.run_setup(plan, log=lambda line: None)
            seconds = time.perf_counter() - start
            torch = subprocess.run([str(installer.venv_python(venv)), "-c", "import torch"], capture_output=True)
            results[name] = {
                "seconds": round(seconds, 1),
                "megabytes": _folder_megabytes(venv),
                "torch_importable": torch.returncode == 0,
                "versions": {k: v for k, v in report["versions"].items() if v},
            }
        print(f"[bench] install {name}: {results[name]['seconds']} s, {results[name]['megabytes']} MB", flush=True)
    inference = results["inference"]
    summary = {
        "machine": machine_info(),
        "base_python": str(BASE_PYTHON),
        "pip_cache_megabytes": _pip_cache_megabytes(),
        "note": "times include the downloads from the configured package index; "
        "pip_cache_megabytes is the size of pip's cache after the runs",
        "profiles": results,
        "goals": GOALS,
        "inference_meets_goals": inference["seconds"] <= GOALS["inference"]["seconds"]
        and inference["megabytes"] <= GOALS["inference"]["megabytes"],
    }
    write_result("install", summary)
    return summary
