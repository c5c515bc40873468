"""Setting up the backend environment from inside QGIS.

The environment is a virtual environment in the QGIS profile's data folder (the plugin manager
deletes the plugin folder on every upgrade, so it never lives there), made with a Python the user
has (the one QGIS runs on by default), filled by pip (or ``uv`` when present) from the pinned
requirement files of the chosen profiles, and checked with the backend's own diagnostics:

- ``inference``: ONNX Runtime (CPU or CUDA build), rasterio and numpy; enough to classify with any
  ``.onnx`` model;
- ``training``: adds torch and the ONNX exporter;
- ``explanations``: llama-cpp-python, built from source where no wheel exists (needs a compiler).

Running it again on an existing environment repairs or upgrades it in place. The work runs in a
background task: :func:`run_setup` reports each output line and honours cancel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qgis.core import QgsApplication

from .paths import DEFAULT_VENV_PYTHON, PLUGIN_ROOT
from .worker_client import worker_command, worker_environment

REQUIREMENTS = PLUGIN_ROOT / "requirements"
PROFILES = ("inference", "training", "explanations")
PROFILE_LABELS = {
    "inference": "Classification (ONNX Runtime, rasterio): about 300 MB",
    "training": "Training and export (PyTorch): about 1 GB on the CPU, several GB with CUDA",
    "explanations": "Explanations (llama.cpp and the Gemma 3 270M model): compiled where no wheel exists",
}
MINIMUM_PYTHON = (3, 11)
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
LANDFUSE_PYTHON_ENV = "LANDFUSE_PYTHON"
# What the diagnostics report must show for each profile: distribution names in its "versions".
PROFILE_CHECKS = {
    "inference": ("rasterio", "numpy"),
    "training": ("torch", "onnx"),
    "explanations": ("llama_cpp_python",),
}

Log = Callable[[str], None]


class SetupError(Exception):
    """The backend could not be set up; the message says which step failed and what to do."""


class SetupCancelledError(SetupError):
    """The user cancelled the setup; the environment may be incomplete and a new run repairs it."""


def backend_home() -> Path:
    """Where the set-up environment lives: ``landfuse/backend`` in the QGIS profile folder."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "landfuse" / "backend"


def discover_interpreter(configured: str = "") -> Path:
    """The backend Python to use, first found of: ``LANDFUSE_PYTHON`` (headless runs such as
    ``qgis_process``), the interpreter set in the options, the environment set up in this profile,
    and the ``.venv`` of a developer checkout (``make setup``). Falls back to the profile's path,
    which the "Set up the backend" action creates."""
    for candidate in (os.environ.get(LANDFUSE_PYTHON_ENV, ""), configured):
        if candidate:
            return Path(candidate)
    for candidate in (venv_python(backend_home()), DEFAULT_VENV_PYTHON):
        if candidate.is_file():
            return candidate
    return venv_python(backend_home())


def venv_python(venv: Path) -> Path:
    """The interpreter inside a virtual environment, on Windows and elsewhere."""
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"


def base_interpreter_candidates() -> list[Path]:
    """Pythons that can create the environment, best first: the one QGIS runs on, then one on PATH.

    Inside QGIS ``sys.executable`` is often the QGIS program itself, so the interpreter is looked up
    from ``sys.prefix`` in the layouts of Linux (``bin/python3``), macOS app bundles (the framework's
    ``bin/python3.X``) and Windows/OSGeo4W (``python.exe`` beside ``sys.prefix``).
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    prefix = Path(sys.base_prefix)
    found = [Path(sys.executable)] if Path(sys.executable).stem.lower().startswith("python") else []
    found += [prefix / "bin" / f"python{version}", prefix / "bin" / "python3", prefix / "python.exe"]
    found += [Path(p) for p in (shutil.which("python3"), shutil.which("python")) if p]
    unique: list[Path] = []
    for path in found:
        if path.is_file() and path not in unique:
            unique.append(path)
    return unique


def python_version(python: Path) -> tuple[int, int] | None:
    """``(major, minor)`` of an interpreter, or ``None`` when it does not run."""
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True,
            text=True,
            timeout=30,
            env=worker_environment(os.environ),
        )
        major, minor = done.stdout.split()
        return int(major), int(minor)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def nvidia_gpu_present() -> bool:
    """Whether ``nvidia-smi`` lists a GPU (the CUDA builds are then the default)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        done = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and "GPU" in done.stdout


def compiler_present() -> bool:
    """Whether a C/C++ compiler is on PATH (llama-cpp-python builds from source without a wheel)."""
    return any(shutil.which(name) for name in ("cc", "gcc", "clang", "cl"))


def requirement_files(profiles: tuple[str, ...], gpu: bool) -> list[Path]:
    """The pinned requirement files of ``profiles``; ``inference`` is always included."""
    unknown = [p for p in profiles if p not in PROFILES]
    if unknown:
        raise SetupError(f"unknown backend profile(s) {unknown}; choose from {list(PROFILES)}")
    files = [REQUIREMENTS / "inference.txt", REQUIREMENTS / ("onnxruntime-gpu.txt" if gpu else "onnxruntime-cpu.txt")]
    files += [REQUIREMENTS / f"{profile}.txt" for profile in PROFILES[1:] if profile in profiles]
    return files


@dataclass(frozen=True)
class SetupPlan:
    """What a setup run does: the base Python, where the environment goes, profiles and build.

    ``commands()`` gives each step as (description, argv); the pip step reads the requirement files
    shipped with the plugin and their constraints, and otherwise the user's pip configuration.
    """

    base_python: Path
    venv: Path
    profiles: tuple[str, ...] = ("inference",)
    gpu: bool = False
    uv: str | None = field(default_factory=lambda: shutil.which("uv"))

    def commands(self) -> list[tuple[str, list[str]]]:
        python = venv_python(self.venv)
        steps = []
        if not python.is_file():
            steps.append(
                (f"creating the environment in {self.venv}", [str(self.base_python), "-m", "venv", str(self.venv)])
            )
        constraints = ["-c", str(REQUIREMENTS / "constraints.txt")]
        requirements = [arg for path in requirement_files(self.profiles, self.gpu) for arg in ("-r", str(path))]
        if "training" in self.profiles and not self.gpu and sys.platform.startswith("linux"):
            requirements += ["--extra-index-url", TORCH_CPU_INDEX]  # PyPI's Linux torch is the multi-GB CUDA build
        if self.uv:
            install = [self.uv, "pip", "install", "--python", str(python), *constraints, *requirements]
        else:
            install = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *constraints, *requirements]
        steps.append((f"installing {', '.join(self.profiles)} ({'CUDA' if self.gpu else 'CPU'} build)", install))
        return steps


def run_setup(
    plan: SetupPlan,
    log: Log,
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict:
    """Run ``plan``, then the backend's diagnostics in the new environment; returns its report.

    Every output line goes to ``log``. Raises ``SetupError`` naming the failed step (with the last
    lines of its output) or ``SetupCancelledError``.
    """
    version = python_version(plan.base_python)
    if version is None:
        raise SetupError(f"{plan.base_python} does not run as a Python interpreter; choose another one")
    if version < MINIMUM_PYTHON:
        wanted = ".".join(map(str, MINIMUM_PYTHON))
        raise SetupError(
            f"{plan.base_python} is Python {version[0]}.{version[1]}; the LandFuse backend needs Python {wanted} "
            "or newer: install one (python.org, your package manager) and choose it"
        )
    if "explanations" in plan.profiles and not compiler_present():
        log("note: no C/C++ compiler found; llama-cpp-python installs only where pip finds a wheel for it")
    steps = plan.commands()
    say = progress or (lambda fraction, message: None)
    for number, (description, argv) in enumerate(steps):
        say(number / (len(steps) + 1), description)
        log(f"$ {' '.join(argv)}")
        _run_logged(argv, log, cancelled, description)
    say(len(steps) / (len(steps) + 1), "checking the environment")
    report = check_backend(venv_python(plan.venv), plan.profiles)
    say(1.0, "the backend is ready")
    return report


def check_backend(python: Path, profiles: tuple[str, ...] = ("inference",)) -> dict:
    """The backend's diagnostics report run with ``python``; ``SetupError`` when a profile is missing."""
    argv = [*worker_command(python, PLUGIN_ROOT), "diagnostics", "--json"]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=300,
            env=worker_environment(os.environ),
            cwd=str(python.parent),
        )
        report = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        raise SetupError(f"the backend's diagnostics did not run with {python}: {exc}") from exc
    versions = report.get("versions") or {}
    missing = [name for profile in profiles for name in PROFILE_CHECKS.get(profile, ()) if not versions.get(name)]
    if not (versions.get("onnxruntime") or versions.get("onnxruntime-gpu")):
        missing.append("onnxruntime")
    if missing:
        raise SetupError(f"the environment of {python} lacks {', '.join(missing)}; run the setup again to repair it")
    return report


def _run_logged(argv: list[str], log: Log, cancelled: Callable[[], bool] | None, description: str) -> None:
    """Run ``argv``, sending each output line to ``log``; stop it (and its children) on cancel."""
    options: dict = {"start_new_session": True} if os.name == "posix" else {}
    if os.name == "nt":
        options["creationflags"] = subprocess.CREATE_NO_WINDOW | subprocess.CREATE_NEW_PROCESS_GROUP
    env = {**worker_environment(os.environ), "PYTHONUNBUFFERED": "1"}
    try:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", env=env, **options
        )
    except OSError as exc:
        raise SetupError(f"{description} failed to start: {exc}") from exc
    tail: list[str] = []
    reader = _LineReader(process, log, tail)
    while process.poll() is None:
        if cancelled is not None and cancelled():
            _stop(process)
            reader.join()
            raise SetupCancelledError(f"setup cancelled while {description}; run it again to complete the environment")
        time.sleep(0.1)
    reader.join()
    if process.returncode:
        raise SetupError(f"{description} failed (exit status {process.returncode}):\n" + "\n".join(tail[-15:]))


class _LineReader:
    """Reads a process's output on a thread, forwarding lines and keeping the last ones."""

    def __init__(self, process: subprocess.Popen, log: Log, tail: list[str]) -> None:
        def read() -> None:
            for line in process.stdout:
                line = line.rstrip()
                tail.append(line)
                del tail[:-50]
                log(line)

        self.thread = threading.Thread(target=read, name="landfuse-setup-output", daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(timeout=10)


def _stop(process: subprocess.Popen) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, 15)
        else:
            process.terminate()
        process.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        process.kill()
        process.wait()
