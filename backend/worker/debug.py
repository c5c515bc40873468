"""The ``debug`` operation: a diagnostics and testing aid, refused unless ``LANDFUSE_WORKER_DEBUG_OPS=1``.

``{"op": "debug", "params": {"action": "sleep", "steps": 20, "step_seconds": 0.1, "output": "x.txt"}}``
is a heavy job that behaves like a real one without needing a model: it writes its output under a
temporary name, grows it step by step with progress events, stops at once when cancelled (deleting
the temporary file) and renames it onto ``output`` when done. With ``"ignore_cancel": true`` it
behaves like a job stuck in native code that never checks for cancellation. With ``"load_seconds": s``
it first loads a warm-cache entry the way jobs load models, the load taking ``s`` seconds that no
cancel interrupts (as ONNX Runtime or torch loading a large model). (Action ``stall_heartbeats`` is
handled by the server itself: see ``server.STALL_PARAMS``.)
"""

from __future__ import annotations

import logging
import os
import time

from ..errors import BadParamsError
from .jobs import JobContext, Operation
from .params import Param
from .staging import staged

log = logging.getLogger(__name__)
SLEEP_PARAMS = {
    "action": Param(str, required=True),
    "steps": Param(int, default=10),
    "step_seconds": Param(float, default=0.1),
    "output": Param(str),
    "ignore_cancel": Param(bool, default=False),
    "load_seconds": Param(float, default=0.0),
}


def sleep_job(ctx: JobContext) -> dict:
    """Sleep ``steps`` x ``step_seconds`` s with progress, writing one line per step to ``output``."""
    params = ctx.params
    if params["action"] != "sleep":
        raise BadParamsError(f"debug: action must be 'sleep' or 'stall_heartbeats', got {params['action']!r}")
    if not 0 < params["steps"] <= 100_000 or not 0 <= params["step_seconds"] <= 60:
        raise BadParamsError("debug: steps must be 1..100000 and step_seconds 0..60")
    if not 0 <= params["load_seconds"] <= 600:
        raise BadParamsError("debug: load_seconds must be 0..600")
    if params["load_seconds"]:
        ctx.load_warm(("debug load", ctx.id), lambda: _uninterruptible_load(params["load_seconds"]), 0)
    log.info("debug sleep: %d steps of %.2f s", params["steps"], params["step_seconds"])
    with staged({"output": params["output"]}) as temporary:
        if temporary["output"] is not None:
            temporary["output"].write_bytes(b"")
        for step in range(params["steps"]):
            if params["ignore_cancel"]:
                time.sleep(params["step_seconds"])
            else:
                ctx.wait(params["step_seconds"])
            if temporary["output"] is not None:
                with open(temporary["output"], "ab") as file:
                    file.write(f"step {step + 1}\n".encode())
            ctx.progress((step + 1) / params["steps"], f"step {step + 1} of {params['steps']}")
    return {"steps": params["steps"], "pid": os.getpid(), "output": params["output"]}


def _uninterruptible_load(seconds: float) -> str:
    log.info("debug load: %.1f s that no cancel interrupts", seconds)
    time.sleep(seconds)
    return "loaded"


DEBUG_OPERATION = Operation(SLEEP_PARAMS, sleep_job, "heavy")
