"""Jobs in the worker: what an operation sees (``JobContext``) and the lanes that run jobs in order."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from ...common.protocol import event
from ..errors import CancelledError
from .cache import WarmCache
from .params import Param


class JobContext:
    """What an operation sees of the worker: its parameters, progress and log events, cancel and cache."""

    def __init__(self, request_id: str, params: dict, send: Callable[[dict], None], cache: WarmCache) -> None:
        self.id = request_id
        self.params = params
        self.cache = cache
        self._send = send
        self._cancelled = threading.Event()
        self._on_cancel: list[Callable[[], Any]] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
            callbacks = list(self._on_cancel)
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` when the job is cancelled (at once if it already is), e.g. ``token.cancel``."""
        with self._lock:
            self._on_cancel.append(callback)
            already = self._cancelled.is_set()
        if already:
            callback()

    def check_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise CancelledError("the job was cancelled")

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``, raising ``CancelledError`` as soon as the job is cancelled."""
        if self._cancelled.wait(seconds):
            raise CancelledError("the job was cancelled")

    def load_warm(self, key: Hashable, load: Callable[[], Any], size_bytes: int) -> Any:
        """``cache.get_or_load`` for this job: nothing is loaded once the job is cancelled, and a job
        cancelled during a load (native code that cannot be interrupted) stops as soon as it returns.
        The loaded value stays warm for the next job either way."""
        self.check_cancelled()
        value = self.cache.get_or_load(key, load, size_bytes)
        self.check_cancelled()
        return value

    def progress(self, fraction: float, message: str = "") -> None:
        """Send a progress event; ``fraction`` is clamped to 0..1."""
        fraction = min(1.0, max(0.0, float(fraction)))
        self._send(event("progress", self.id, fraction=round(fraction, 4), message=str(message)))

    def log(self, message: str, level: str = "info") -> None:
        self._send(event("log", self.id, level=level, message=str(message)))


@dataclass(frozen=True)
class Operation:
    """A job-running operation: its parameter table, its function and the lane it runs in."""

    params: dict[str, Param]
    run: Callable[[JobContext], dict]
    lane: str  # "light" or "heavy"


@dataclass
class Job:
    id: str
    op: str
    operation: Operation
    context: JobContext
    queued_at: float = field(default_factory=time.monotonic)


class Lane:
    """One worker thread running jobs from a first-in, first-out queue."""

    def __init__(self, name: str, run_job: Callable[[Job], Callable[[], None]]) -> None:
        """``run_job(job)`` runs a job and returns the action sending its final event, called once the
        lane has marked the job finished (so a ``ping`` answered after that event never shows it busy)."""
        self.name = name
        self._run_job = run_job
        self._queue: deque[Job] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.current: Job | None = None
        self._thread = threading.Thread(target=self._loop, name=f"landfuse-{name}", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        with self._cond:
            self._queue.append(job)
            self._cond.notify()

    def cancel(self, request_id: str) -> tuple[str, Job] | None:
        """Cancel a running or queued job: ``("running", job)``, ``("queued", job)`` or ``None``."""
        with self._cond:
            if self.current is not None and self.current.id == request_id:
                job = self.current
                state = "running"
            else:
                job = next((queued for queued in self._queue if queued.id == request_id), None)
                if job is None:
                    return None
                self._queue.remove(job)
                state = "queued"
        if state == "running":
            job.context.cancel()
        return state, job

    def state(self) -> tuple[str | None, list[str]]:
        with self._cond:
            return (self.current.id if self.current else None), [job.id for job in self._queue]

    def close(self) -> list[Job]:
        """Stop taking jobs; cancel the running one; return the queued ones (not run)."""
        with self._cond:
            self._closed = True
            queued = list(self._queue)
            self._queue.clear()
            running = self.current
            self._cond.notify()
        if running is not None:
            running.context.cancel()
        return queued

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                self.current = self._queue.popleft()
            send_final = self._run_job(self.current)
            with self._cond:
                self.current = None
            send_final()
