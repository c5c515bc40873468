"""A worker process driven line by line, for protocol tests (the plugin's client is tested separately)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from landfuse.common.protocol import DEBUG_OPS_ENV
from tests.paths import REPO_ROOT

WORKER_ARGV = [sys.executable, "-m", "landfuse.backend", "worker", "--heartbeat", "0.2", "--no-log-file"]


class RawWorker:
    """``python -m landfuse.backend worker`` with pipes; ``events`` receives every stdout line parsed."""

    def __init__(self, debug_ops: bool = True, cwd: Path = REPO_ROOT) -> None:
        env = dict(os.environ)
        if debug_ops:
            env[DEBUG_OPS_ENV] = "1"
        self.process = subprocess.Popen(
            WORKER_ARGV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
        self.events: queue.Queue = queue.Queue()
        self.raw_lines: list[bytes] = []
        self.backlog: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self.next_event(lambda e: e["event"] == "hello", timeout=60)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.raw_lines.append(line)
            self.events.put(json.loads(line))  # a line that is not JSON fails the reading thread: caught by tests
        self.events.put(None)

    def send_line(self, line: bytes) -> None:
        self.process.stdin.write(line if line.endswith(b"\n") else line + b"\n")
        self.process.stdin.flush()

    def send(self, request_id: str, op: str, **params) -> None:
        self.send_line(json.dumps({"id": request_id, "op": op, "params": params}).encode())

    def next_event(self, accept, timeout: float = 30) -> dict:
        """The first not yet taken event for which ``accept(event)`` is true (others stay for later calls)."""
        for index, event in enumerate(self.backlog):
            if accept(event):
                return self.backlog.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event is None:
                raise EOFError(f"the worker exited with status {self.process.wait()}")
            if accept(event):
                return event
            if event["event"] != "heartbeat":
                self.backlog.append(event)

    def final(self, request_id: str, timeout: float = 30) -> dict:
        """The result or error event ending request ``request_id``."""
        return self.next_event(lambda e: e["id"] == request_id and e["event"] in ("result", "error"), timeout)

    def request(self, request_id: str, op: str, **params) -> dict:
        self.send(request_id, op, **params)
        return self.final(request_id)

    def close(self) -> int:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                return self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()
