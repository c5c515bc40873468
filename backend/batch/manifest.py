"""The batch manifest: the state of every scene, kept in the output folder so that a re-run resumes.

``<output folder>/landfuse-batch.json`` holds one entry per scene: its inputs, the settings that
shape its result (model file, tiling, grid, outputs), its state (``pending``, ``running``, ``done``,
``failed``), attempts, error code and message, seconds, the worker that ran it and, for a scene split
into blocks, the state of each block. The driver rewrites it atomically (a new file renamed over the
old one) at most once a second while jobs finish, and at the end: it is always whole, and a driver
killed in between loses at most the last second of records, whose jobs then run again (their outputs
are replaced whole). A re-run keeps the scenes (and blocks) that are done with the same inputs and
settings and whose files are still there, and runs every other one again.
Only one batch at a time may write into a folder (an advisory lock, ``.landfuse-batch.lock``).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from ..errors import BadParamsError, NotWritableError
from .scenes import Scene

MANIFEST_NAME = "landfuse-batch.json"
LOCK_NAME = ".landfuse-batch.lock"
MANIFEST_VERSION = 1
PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
SAVE_INTERVAL_S = 1.0


class Manifest:
    """The manifest of the batch writing into ``folder`` (read when it exists)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / MANIFEST_NAME
        self.scenes: dict[str, dict] = {}
        self._saved_at = float("-inf")
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("landfuse_batch") != MANIFEST_VERSION or not isinstance(data.get("scenes"), dict):
                    raise ValueError(f"expected 'landfuse_batch': {MANIFEST_VERSION} and a 'scenes' object")
            except (OSError, ValueError, AttributeError) as exc:
                raise BadParamsError(
                    f"the batch manifest {str(self.path)!r} is not readable ({exc}); delete it to start the batch "
                    "over, or choose another output folder"
                ) from exc
            self.scenes = data["scenes"]

    def prepare(self, scene: Scene, settings: dict, outputs: dict[str, str], blocks: list[str] | None) -> dict:
        """The entry of ``scene`` for this run: kept as done when nothing changed and its outputs exist, else
        reset to pending (block entries are kept the same way, block by block). ``outputs``: role -> path;
        ``blocks``: the keys of the scene's blocks, or None when it is classified whole."""
        old = self.scenes.get(scene.name) or {}
        same = old.get("inputs") == scene.describe() and old.get("settings") == settings
        if same and old.get("state") == DONE and all(Path(p).exists() for p in old.get("outputs", {}).values() if p):
            return old
        entry = {
            "inputs": scene.describe(),
            "settings": settings,
            "state": PENDING,
            "attempts": 0,
            "error": None,
            "outputs": outputs,
            "seconds": None,
            "worker": None,
        }
        if blocks is not None:
            kept = old.get("blocks", {}) if same else {}
            entry["blocks"] = {key: kept[key] if _block_done(kept.get(key)) else {"state": PENDING} for key in blocks}
        self.scenes[scene.name] = entry
        return entry

    def update(self, name: str, **fields) -> None:
        """Change fields of a scene's entry (saved within ``SAVE_INTERVAL_S``)."""
        self.scenes[name].update(fields)
        self._save_soon()

    def update_block(self, name: str, key: str, **fields) -> None:
        """Change fields of one block of a scene (saved within ``SAVE_INTERVAL_S``)."""
        self.scenes[name]["blocks"][key].update(fields)
        self._save_soon()

    def _save_soon(self) -> None:
        """Save unless the last save is less than ``SAVE_INTERVAL_S`` old (the driver saves at the end)."""
        if time.monotonic() - self._saved_at >= SAVE_INTERVAL_S:
            self.save()

    def save(self) -> None:
        """Write the manifest atomically (a temporary file renamed over the old one)."""
        temporary = self.path.with_name(f".{MANIFEST_NAME}.{os.getpid()}.tmp")
        text = json.dumps({"landfuse_batch": MANIFEST_VERSION, "scenes": self.scenes}, indent=2)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_text(text + "\n", encoding="utf-8")
            os.replace(temporary, self.path)
            self._saved_at = time.monotonic()
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise NotWritableError(
                f"the batch manifest {str(self.path)!r} could not be written ({exc.strerror or exc}); check free disk "
                "space and the folder's permissions"
            ) from exc

    def counts(self, names: list[str]) -> dict[str, int]:
        """How many of ``names`` are in each state."""
        counts = {PENDING: 0, RUNNING: 0, DONE: 0, FAILED: 0}
        for name in names:
            counts[self.scenes[name]["state"]] += 1
        return counts


def _block_done(entry: dict | None) -> bool:
    return bool(entry) and entry.get("state") == DONE and all(Path(p).exists() for p in entry.get("files", []))


@contextlib.contextmanager
def folder_lock(folder: Path):
    """Hold the output folder's batch lock for the duration of the block; ``BadParamsError`` when another
    batch holds it. Advisory (``fcntl``); on systems without it the block runs unlocked."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks in the standard library
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise BadParamsError(
                f"another batch is writing into {str(folder)!r}; wait for it to finish or choose another output folder"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
