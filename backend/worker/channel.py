"""The worker's protocol streams: requests in on stdin, events out on the *real* stdout only.

``claim_stdio()`` duplicates file descriptor 1 for the protocol and then points fd 1 (and
``sys.stdout``) at stderr, so a ``print`` in any library, or a native library writing to fd 1,
lands in the log instead of corrupting the JSON lines.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from typing import BinaryIO

from ...common.protocol import encode

MAX_LINE_BYTES = 16 * 2**20


class EventWriter:
    """Writes protocol events, one JSON line each, from any thread."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.closed = False

    def send(self, message: dict) -> None:
        """Write one event; a closed stream (client gone) is remembered, not raised."""
        try:
            line = encode(message)
        except ValueError:  # NaN or infinity somewhere in the data: JSON has no spelling for them
            line = encode(_finite(message))
        except TypeError:  # a value JSON cannot hold (a path, a numpy scalar): send its text
            line = encode(json.loads(json.dumps(_finite(message), default=_plain)))
        with self._lock:
            if self.closed:
                return
            try:
                self._stream.write(line)
                self._stream.flush()
            except (BrokenPipeError, OSError, ValueError):
                self.closed = True


def claim_stdio() -> tuple[BinaryIO, EventWriter]:
    """Take the process's stdin and stdout for the protocol; return (request stream, event writer)."""
    protocol_fd = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return sys.stdin.buffer, EventWriter(os.fdopen(protocol_fd, "wb", buffering=0))


def _finite(value):
    """``value`` with every NaN or infinite float replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _plain(value):
    """JSON stand-in for values ``json`` does not know: numpy scalars and arrays as numbers, the rest as text."""
    if hasattr(value, "tolist"):
        return _finite(value.tolist())
    return str(value)


def read_line(stream: BinaryIO) -> bytes | None:
    """The next request line (without ``\\n``), or ``None`` at end of input.

    Lines longer than ``MAX_LINE_BYTES`` are consumed and returned truncated; they fail JSON parsing.
    """
    line = stream.readline(MAX_LINE_BYTES)
    if not line:
        return None
    if not line.endswith(b"\n") and len(line) >= MAX_LINE_BYTES:
        while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
            pass
    return line.rstrip(b"\r\n")
