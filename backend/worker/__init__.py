"""The backend worker: a persistent process serving the JSON-lines protocol (``docs/protocol.md``).

``python -m landfuse.backend worker`` runs ``serve()``. The plugin's ``plugin/worker_client.py``
starts it, sends requests on its stdin and reads events from its stdout.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from ...common.protocol import DEBUG_OPS_ENV, PROTOCOL_VERSION
from ..diagnostics import package_versions, probe_devices
from .channel import claim_stdio
from .server import WorkerServer

LOG_FORMAT = "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"


def serve(heartbeat_s: float = 2.0, cache_mb: int = 2048, log_file: Path | None = None) -> int:
    """Serve the protocol on this process's stdin/stdout until shutdown or end of input; returns 0."""
    requests, writer = claim_stdio()
    _configure_logging(log_file)
    from .operations import build_operations

    debug_ops = os.environ.get(DEBUG_OPS_ENV) == "1"
    server = WorkerServer(
        requests,
        writer,
        build_operations(debug_ops),
        hello=lambda: {
            "protocol": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "python": sys.executable,
            "heartbeat_s": heartbeat_s,
            "versions": package_versions(),
            "devices": probe_devices(),
        },
        heartbeat_s=heartbeat_s,
        cache_bytes=cache_mb * 2**20,
        debug_ops=debug_ops,
    )
    return server.serve()


def _configure_logging(log_file: Path | None) -> None:
    """Log to stderr and, when given, to a size-bounded file; never to the protocol stream."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    formatter = logging.Formatter(LOG_FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.handlers.RotatingFileHandler(log_file, maxBytes=2**20, backupCount=2))
        except OSError as exc:
            print(f"landfuse worker: cannot write the log file {log_file}: {exc}", file=sys.stderr)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
