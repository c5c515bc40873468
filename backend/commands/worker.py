"""``landfuse worker``: serve the JSON-lines worker protocol on stdin/stdout (``docs/protocol.md``).

Started by the QGIS plugin; useful by hand for debugging:
``echo '{"id":"1","op":"ping","params":{}}' | python -m landfuse.backend worker``.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from ..diagnostics import worker_log_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--heartbeat", type=float, default=2.0, help="seconds between heartbeat events (default 2)")
    parser.add_argument(
        "--cache-mb", type=int, default=2048, help="memory limit of warm models (ONNX sessions, language model), MB"
    )
    parser.add_argument(
        "--log-file", type=Path, default=worker_log_path(), help="log file (default: the user cache folder)"
    )
    parser.add_argument("--no-log-file", action="store_true", help="log to stderr only")


def run(args: argparse.Namespace) -> int:
    from ..worker import serve

    if args.heartbeat <= 0 or args.cache_mb < 0:
        raise SystemExit("landfuse worker: --heartbeat must be > 0 and --cache-mb >= 0")
    status = serve(args.heartbeat, args.cache_mb, None if args.no_log_file else args.log_file)
    logging.shutdown()
    # Skip interpreter teardown: native libraries (CUDA, llama.cpp) may hold threads that never end.
    os._exit(status)
