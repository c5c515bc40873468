"""The worker protocol: JSON lines between the QGIS plugin (client) and the backend worker.

Documented for users and integrators in ``docs/protocol.md``. One JSON object per line, UTF-8.

Requests (client -> worker, stdin)::

    {"id": "7", "op": "classify", "params": {...}}

Events (worker -> client, stdout), each carrying the ``id`` of the request it belongs to
(``null`` for worker-level events)::

    {"event": "hello", "id": null, "protocol": 1, "versions": {...}, "devices": {...}}
    {"event": "progress", "id": "7", "fraction": 0.42, "message": "tile row 3 of 8"}
    {"event": "log", "id": "7", "level": "info", "message": "..."}
    {"event": "result", "id": "7", "data": {...}}
    {"event": "error", "id": "7", "code": "NO_OVERLAP", "message": "..."}
    {"event": "heartbeat", "id": null, "time": 1700000000.0, "busy": "7", "queued": 0}

Every request ends with exactly one ``result`` or ``error`` event.

Files a job writes are named by its output parameters (``OUTPUT_PARAMS``). While a job runs they
exist only under temporary names (``temporary_path``: ``<stem>.landfuse-tmp-<pid><suffix>`` beside
the output, or the engine's hidden ``.<name>.<pid>-<n>.partial``) and are renamed when the job
succeeds. A client that sees a job fail because the worker died deletes the files that appeared
during the job beside its outputs (``partial_files``).

Standard library only: both the plugin and the backend import this module.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

PROTOCOL_VERSION = 1

OPS = (
    "ping",
    "list_models",
    "model_card",
    "classify",
    "explain",
    "evaluate",
    "train_reference",
    "area_input",
    "vectorise",
    "assess",
    "stratified_sample",
    "diagnostics",
    "clear_cache",
    "cancel",
    "shutdown",
)
# Run one at a time, in arrival order.
HEAVY_OPS = (
    "classify",
    "explain",
    "evaluate",
    "train_reference",
    "area_input",
    "vectorise",
    "assess",
    "stratified_sample",
)
# The parameters naming files a job writes (paths; null or absent when not wanted).
OUTPUT_PARAMS = {
    "classify": ("output", "confidence", "reconstruction", "report", "explanation"),
    "explain": ("output",),
    "evaluate": ("output", "plot"),
    "train_reference": ("output", "report", "plot"),
    "area_input": ("output",),
    "vectorise": ("output",),
    "assess": ("output", "html", "plot"),
    "stratified_sample": ("output", "allocation"),
    "debug": ("output",),
}
EVENTS = ("hello", "progress", "log", "result", "error", "heartbeat")

# A diagnostics and testing aid, refused unless the worker runs with this variable set to "1":
# op "debug" with action "sleep" (a cancellable heavy job that writes its outputs like the engine does)
# or "stall_heartbeats" (the worker stops sending heartbeats for a while, as a hung worker would).
DEBUG_OPS_ENV = "LANDFUSE_WORKER_DEBUG_OPS"
DEBUG_OP = "debug"

TEMP_MARKER = ".landfuse-tmp-"
WORKER_LOG_NAME = "worker.log"


class ErrorCode:
    """Stable error codes: the plugin and scripts may branch on them; messages may change."""

    BAD_REQUEST = "BAD_REQUEST"  # line is not a JSON object with id/op/params
    UNKNOWN_OP = "UNKNOWN_OP"
    BAD_PARAMS = "BAD_PARAMS"  # missing or wrongly typed parameter
    UNREADABLE = "UNREADABLE"  # input file missing, corrupt or not a raster
    NO_CRS = "NO_CRS"
    NO_OVERLAP = "NO_OVERLAP"
    BAD_BANDS = "BAD_BANDS"  # band missing, wrong count for the model
    BAD_GRID = "BAD_GRID"  # absurd resolution/extent/target CRS
    ALL_NODATA = "ALL_NODATA"
    NOT_WRITABLE = "NOT_WRITABLE"
    MODEL_NOT_FOUND = "MODEL_NOT_FOUND"
    MISSING_WEIGHTS = "MISSING_WEIGHTS"
    CARD_MISMATCH = "CARD_MISMATCH"  # model file and its card disagree
    LLM_UNAVAILABLE = "LLM_UNAVAILABLE"
    CANCELLED = "CANCELLED"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"  # host or GPU memory ran out during a job
    TIMEOUT = "TIMEOUT"  # no heartbeat within the limit, or the call's deadline passed (raised by the client)
    WORKER_DIED = "WORKER_DIED"  # the worker process exited during a job (raised by the client)
    WORKER_START = "WORKER_START"  # the worker could not be started (raised by the client)
    PROTOCOL = "PROTOCOL"  # version mismatch or garbage on the protocol stream
    INTERNAL = "INTERNAL"


def encode(message: dict) -> bytes:
    """One protocol line: compact JSON plus ``\\n``."""
    return (json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")


def request(request_id: str, op: str, **params) -> dict:
    return {"id": request_id, "op": op, "params": params}


def event(name: str, request_id: str | None, **fields) -> dict:
    return {"event": name, "id": request_id, **fields}


def error_event(request_id: str | None, code: str, message: str) -> dict:
    return event("error", request_id, code=code, message=message)


def declared_outputs(op: str, params: dict) -> list[Path]:
    """The output files a request declares: the non-empty string values of its ``OUTPUT_PARAMS``."""
    if not isinstance(params, dict):
        return []
    return [
        Path(params[name]) for name in OUTPUT_PARAMS.get(op, ()) if isinstance(params.get(name), str) and params[name]
    ]


def temporary_path(output: str | os.PathLike, pid: int | None = None) -> Path:
    """Where a worker writes ``output`` until its job succeeds: ``<stem>.landfuse-tmp-<pid><suffix>``.

    The suffix stays last so that writers picking a format from the name (matplotlib, GDAL) still do.
    """
    output = Path(output)
    return output.with_name(f"{output.stem}{TEMP_MARKER}{os.getpid() if pid is None else pid}{output.suffix}")


def partial_files(output: str | os.PathLike, before: set[str]) -> list[Path]:
    """Files beside ``output`` that are not in ``before`` (names listed before the job) and belong to it.

    A file belongs to the output when its name is the output's stem followed by a dot, optionally
    hidden (a leading dot): the output itself, its ``.qml`` and ``.aux.xml`` sidecars, every
    temporary name above and a previous output moved aside by a commit (``replaced_original``).
    """
    output = Path(output)
    if not output.parent.is_dir():
        return []
    prefixes = (f"{output.stem}.", f".{output.stem}.")
    return sorted(
        path
        for path in output.parent.iterdir()
        if path.name not in before and path.name.startswith(prefixes) and path.is_file()
    )


def replaced_original(path: str | os.PathLike) -> Path | None:
    """The output a ``.<name>.<pid>-<n>.replaced`` file belongs to, or ``None`` for any other file.

    While a job commits, an output it replaces is moved aside under that name for a few milliseconds;
    a worker that dies then leaves it behind, and putting it back restores the previous output.
    """
    path = Path(path)
    match = re.match(r"^\.(.+)\.\d+-\d+\.replaced$", path.name)
    return path.with_name(match.group(1)) if match else None


def folder_listing(output: str | os.PathLike) -> set[str]:
    """The names in ``output``'s folder now (to compare with ``partial_files`` after a failed job)."""
    folder = Path(output).parent
    return {path.name for path in folder.iterdir()} if folder.is_dir() else set()


def user_cache_dir() -> Path:
    """LandFuse's per-user cache folder (worker log, the worker's working folder); created on demand by its users."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or base
    return Path(base) / "landfuse"
