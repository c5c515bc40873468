"""The ``debug`` operation: a diagnostics and testing aid, refused unless ``LANDFUSE_WORKER_DEBUG_OPS=1``.

``{"op": "debug", "params": {"action": "sleep", "steps": 20, "step_seconds": 0.1, "outputs": {...}}}``
is a heavy job that behaves like a real one without needing a model: it writes each declared output
under its temporary name, grows it step by step with progress events, stops at once when cancelled
and renames the files onto their final names when done. (Action ``stall_heartbeats`` is handled by
the server itself: see ``server.STALL_PARAMS``.)
"""

from __future__ import annotations

import os
from pathlib import Path

from ...common.protocol import temporary_path
from ..errors import BadParamsError
from .jobs import JobContext, Operation
from .params import Param

SLEEP_PARAMS = {
    "action": Param(str, required=True),
    "steps": Param(int, default=10),
    "step_seconds": Param(float, default=0.1),
    "outputs": Param(dict, default={}, paths=True),
}


def sleep_job(ctx: JobContext) -> dict:
    """Sleep ``steps`` x ``step_seconds`` s with progress, writing the declared outputs as it goes."""
    params = ctx.params
    if params["action"] != "sleep":
        raise BadParamsError(f"debug: action must be 'sleep' or 'stall_heartbeats', got {params['action']!r}")
    if not 0 < params["steps"] <= 100_000 or not 0 <= params["step_seconds"] <= 60:
        raise BadParamsError("debug: steps must be 1..100000 and step_seconds 0..60")
    outputs = {role: Path(path) for role, path in params["outputs"].items() if path}
    temporaries = {role: temporary_path(path) for role, path in outputs.items()}
    for temporary in temporaries.values():
        temporary.write_bytes(b"")
    for step in range(params["steps"]):
        ctx.wait(params["step_seconds"])
        for temporary in temporaries.values():
            with open(temporary, "ab") as file:
                file.write(f"step {step + 1}\n".encode())
        ctx.progress((step + 1) / params["steps"], f"step {step + 1} of {params['steps']}")
    for role, temporary in temporaries.items():
        os.replace(temporary, outputs[role])
    return {
        "steps": params["steps"],
        "pid": os.getpid(),
        "outputs": {role: str(path) for role, path in outputs.items()},
    }


DEBUG_OPERATION = Operation(SLEEP_PARAMS, sleep_job, "heavy")
