"""Running ``python -m landfuse.backend classify`` in a child process: limited, unprivileged or signalled."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.paths import REPO_ROOT

UNPRIVILEGED_ID = 65534  # "nobody" / "nogroup" on Debian


def cli_argv(optical, sar, model, output, *extra: str) -> list[str]:
    argv = [sys.executable, "-m", "landfuse.backend", "classify", "--optical", str(optical), "--sar", str(sar)]
    return [*argv, "--model", str(model), "--output", str(output), *extra]


def child_env() -> dict:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def limit_file_size(size: int):
    """A ``preexec_fn``: files may not grow past ``size`` bytes, and writing past it fails with EFBIG
    (SIGXFSZ ignored) as on a full disk."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


def run_cli(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, capture_output=True, text=True, cwd=REPO_ROOT.parent, env=child_env(), timeout=180, **kwargs
    )


def run_unprivileged(argv: list[str]) -> subprocess.CompletedProcess:
    """Run ``argv`` without the right to write into other users' folders: as user nobody when the tests
    run as root (root writes anywhere), else as the current user."""
    extra = {}
    if os.geteuid() == 0:
        extra = {"user": UNPRIVILEGED_ID, "group": UNPRIVILEGED_ID, "extra_groups": []}
    return run_cli(argv, **extra)


class SharedFolder:
    """A folder every user can read (the pytest folders are private to their owner)."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="landfuse-test-"))
        self.path.chmod(0o755)

    def put(self, *files: Path) -> list[Path]:
        """Copies of ``files`` in this folder, readable by all."""
        copies = []
        for file in files:
            copy = self.path / Path(file).name
            shutil.copy(file, copy)
            copy.chmod(0o644)
            copies.append(copy)
        return copies

    def folder(self, name: str, mode: int) -> Path:
        folder = self.path / name
        folder.mkdir()
        folder.chmod(mode)
        return folder

    def remove(self) -> None:
        for root, folders, _ in os.walk(self.path):
            for name in folders:
                Path(root, name).chmod(0o755)
        shutil.rmtree(self.path)
