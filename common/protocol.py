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
    {"event": "heartbeat", "id": null, "time": 1700000000.0, "busy": "7"}

Every request ends with exactly one ``result`` or ``error`` event.
"""

from __future__ import annotations

import json

PROTOCOL_VERSION = 1

OPS = (
    "ping",
    "list_models",
    "model_card",
    "classify",
    "explain",
    "evaluate",
    "diagnostics",
    "clear_cache",
    "cancel",
    "shutdown",
)
EVENTS = ("hello", "progress", "log", "result", "error", "heartbeat")


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
    TIMEOUT = "TIMEOUT"  # no heartbeat within the limit (raised by the client)
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
