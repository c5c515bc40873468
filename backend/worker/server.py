"""The worker's server loop: read requests, run jobs in lanes, send events and heartbeats.

Threads:
- the main thread reads request lines and answers control operations at once (ping, cancel,
  clear_cache, shutdown); it never runs a job nor loads a model, and the warm cache is not locked
  while a job loads one, so cancel and ping are answered while a job runs or loads a model;
- the ``light`` lane runs quick jobs (list_models, model_card, diagnostics) in arrival order;
- the ``heavy`` lane runs classify, explain and evaluate one at a time, in arrival order (further
  requests wait in its queue), so one GPU job runs at a time;
- the heartbeat thread sends a ``heartbeat`` event every ``heartbeat_s`` seconds.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, BinaryIO

from ...common.protocol import DEBUG_OP, OPS, ErrorCode, error_event, event
from .. import diagnostics
from ..errors import LandFuseError
from .cache import WarmCache
from .channel import EventWriter, read_line
from .jobs import Job, JobContext, Lane, Operation
from .params import Param, validate

log = logging.getLogger(__name__)
_current_job = threading.local()
SHUTDOWN_GRACE_S = 10.0
MAX_ID_LENGTH = 200


class BadRequestError(Exception):
    """A request line the worker cannot route: answered with BAD_REQUEST or UNKNOWN_OP."""

    def __init__(self, request_id: str | None, code: str, message: str) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.code = code


class EventLogHandler(logging.Handler):
    """Forwards log records emitted while a job runs (in its lane thread) as ``log`` events."""

    def __init__(self, send: Callable[[dict], None]) -> None:
        super().__init__(logging.INFO)
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        request_id = getattr(_current_job, "id", None)
        if request_id is not None:
            self._send(event("log", request_id, level=record.levelname.lower(), message=record.getMessage()))


def describe_error(exc: BaseException) -> tuple[str, str]:
    """The (code, message) an exception becomes in an ``error`` event."""
    if isinstance(exc, LandFuseError):
        return exc.code, str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return ErrorCode.OUT_OF_MEMORY, (
            f"ran out of memory ({type(exc).__name__}: {exc}); try a smaller tile or batch size, or the CPU"
        )
    return ErrorCode.INTERNAL, f"unexpected {type(exc).__name__}: {exc} (details in the worker log)"


CONTROL_PARAMS = {
    "ping": {},
    "cancel": {"target": Param(str, required=True)},
    "clear_cache": {},
    "shutdown": {},
}
STALL_PARAMS = {"action": Param(str, required=True), "seconds": Param(float, required=True)}


class WorkerServer:
    """Serves requests from ``requests`` and sends events through ``writer`` until shutdown or end of input."""

    def __init__(
        self,
        requests: BinaryIO,
        writer: EventWriter,
        operations: dict[str, Operation],
        hello: Callable[[], dict],
        heartbeat_s: float = 2.0,
        cache_bytes: int = 2 * 2**30,
        debug_ops: bool = False,
    ) -> None:
        self._requests = requests
        self._writer = writer
        self._operations = {**operations, "diagnostics": Operation({}, self._diagnostics, "light")}
        self._hello = hello
        self.heartbeat_s = heartbeat_s
        self.cache = WarmCache(cache_bytes)
        self.debug_ops = debug_ops
        self.last_errors: deque[dict] = deque(maxlen=10)
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()
        self._stall_until = 0.0
        self._stopping = threading.Event()
        self.lanes = {name: Lane(name, self._run_job) for name in ("light", "heavy")}
        logging.getLogger().addHandler(EventLogHandler(self.send))

    def send(self, message: dict) -> None:
        self._writer.send(message)

    # -- main loop -------------------------------------------------------------------------

    def serve(self) -> int:
        """Handshake, then serve until ``shutdown`` or end of input. Returns the exit status (0)."""
        self.send(event("hello", None, **self._hello()))
        heartbeat = threading.Thread(target=self._heartbeat_loop, name="landfuse-heartbeat", daemon=True)
        heartbeat.start()
        shutdown_id = None
        while (line := read_line(self._requests)) is not None:
            try:
                shutdown_id = self.handle_line(line)
            except BadRequestError as exc:
                self._error(exc.request_id, exc.code, str(exc))
            except Exception as exc:  # a bug must cost one request, not the worker
                log.exception("could not handle the request line %.200r", line)
                self._error(None, ErrorCode.INTERNAL, f"unexpected {type(exc).__name__} handling a request: {exc}")
            if shutdown_id is not None:
                break
        if shutdown_id is None:
            log.info("end of input: the client is gone; shutting down")
        self.stop()
        if shutdown_id is not None:
            self.send(event("result", shutdown_id, data={"bye": True}))
        return 0

    def handle_line(self, line: bytes) -> str | None:
        """Route one request line. Returns the request id when it asks for shutdown, else ``None``."""
        parsed = parse_request(line)
        if parsed is None:
            return None
        request_id, op, params = parsed
        with self._lock:
            if request_id in self._in_flight:
                raise BadRequestError(None, ErrorCode.BAD_REQUEST, f"request id {request_id!r} is already in use")
        try:
            return self._dispatch(request_id, op, params)
        except LandFuseError as exc:
            self._error(request_id, exc.code, str(exc))
        return None

    def _dispatch(self, request_id: str, op: str, params: Any) -> str | None:
        if op == DEBUG_OP and not self.debug_ops:
            raise BadRequestError(request_id, ErrorCode.UNKNOWN_OP, f"unknown operation {op!r}; valid: {list(OPS)}")
        if op == DEBUG_OP and isinstance(params, dict) and params.get("action") == "stall_heartbeats":
            seconds = validate(op, params, STALL_PARAMS)["seconds"]
            self._stall_until = time.monotonic() + seconds
            log.warning("heartbeats stalled for %.1f s on request (testing aid)", seconds)
            self.send(event("result", request_id, data={"stalled_s": seconds}))
            return None
        if op in CONTROL_PARAMS:
            checked = validate(op, params, CONTROL_PARAMS[op])
            if op == "shutdown":
                return request_id
            self.send(event("result", request_id, data=self._control(op, checked)))
            return None
        operation = self._operations.get(op)
        if operation is None:
            raise BadRequestError(request_id, ErrorCode.UNKNOWN_OP, f"unknown operation {op!r}; valid: {list(OPS)}")
        checked = validate(op, params, operation.params)
        job = Job(request_id, op, operation, JobContext(request_id, checked, self.send, self.cache))
        with self._lock:
            self._in_flight.add(request_id)
        self.lanes[operation.lane].submit(job)
        return None

    def _control(self, op: str, params: dict) -> dict:
        if op == "ping":
            busy, queued = self.lanes["heavy"].state()
            return {"pong": True, "time": time.time(), "busy": busy, "queued": queued, "cache": self.cache.summary()}
        if op == "clear_cache":
            return {"dropped": self.cache.clear()}
        return {"target": params["target"], "state": self.cancel(params["target"])}

    def _diagnostics(self, ctx: JobContext) -> dict:
        """The diagnostics report with this worker's own last errors and warm cache."""
        data = diagnostics.report(last_errors=list(self.last_errors))
        data["cache"] = self.cache.summary()
        return data

    def cancel(self, target: str) -> str:
        """Cancel job ``target``: ``"running"`` (it stops at its next check), ``"queued"`` or ``"unknown"``."""
        for lane in self.lanes.values():
            found = lane.cancel(target)
            if found is None:
                continue
            state, job = found
            if state == "queued":
                self._finish_failed(job, ErrorCode.CANCELLED, "the job was cancelled before it started")
            return state
        return "unknown"

    def stop(self) -> None:
        """Cancel queued and running jobs, wait for them to end (bounded), stop heartbeats."""
        for lane in self.lanes.values():
            for job in lane.close():
                self._finish_failed(job, ErrorCode.CANCELLED, "the worker is shutting down")
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        for lane in self.lanes.values():
            if not lane.join(max(0.0, deadline - time.monotonic())):
                log.error(
                    "job %s did not stop within %.0f s of shutdown", lane.current and lane.current.id, SHUTDOWN_GRACE_S
                )
        self._stopping.set()

    # -- jobs ------------------------------------------------------------------------------

    def _run_job(self, job: Job) -> Callable[[], None]:
        """Run ``job`` in this lane thread; returns the action that sends its final event."""
        _current_job.id = job.id
        try:
            job.context.check_cancelled()
            data = job.operation.run(job.context)
        except Exception as exc:
            code, message = describe_error(exc)
            if code == ErrorCode.INTERNAL:
                log.exception("job %s (%s) failed", job.id, job.op)
            return lambda: self._finish_failed(job, code, message)
        finally:
            _current_job.id = None
        return lambda: self._finish(job, event("result", job.id, data=data))

    def _finish(self, job: Job, final: dict) -> None:
        with self._lock:
            self._in_flight.discard(job.id)
        self.send(final)

    def _finish_failed(self, job: Job, code: str, message: str) -> None:
        with self._lock:
            self._in_flight.discard(job.id)
        self._error(job.id, code, message, op=job.op)

    def _error(self, request_id: str | None, code: str, message: str, op: str | None = None) -> None:
        if code not in (ErrorCode.CANCELLED,):
            log.error("request %s%s failed [%s]: %s", request_id, f" ({op})" if op else "", code, message)
            self.last_errors.append({"time": time.time(), "id": request_id, "op": op, "code": code, "message": message})
        self.send(error_event(request_id, code, message))

    def _heartbeat_loop(self) -> None:
        while not self._stopping.wait(self.heartbeat_s):
            if time.monotonic() < self._stall_until:
                continue
            busy, queued = self.lanes["heavy"].state()
            self.send(event("heartbeat", None, time=time.time(), busy=busy, queued=len(queued)))


def parse_request(line: bytes) -> tuple[str, str, Any] | None:
    """``(id, op, params)`` of a request line; ``None`` for a blank line. Raises ``BadRequestError``."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequestError(None, ErrorCode.BAD_REQUEST, f"request line is not UTF-8 text: {exc}") from None
    if not text.strip():
        return None
    try:
        message = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BadRequestError(None, ErrorCode.BAD_REQUEST, f"request line is not valid JSON: {exc!s:.200}") from None
    if not isinstance(message, dict):
        raise BadRequestError(
            None, ErrorCode.BAD_REQUEST, f"a request must be a JSON object, got {type(message).__name__}"
        )
    request_id = message.get("id")
    if not isinstance(request_id, str) or not request_id or len(request_id) > MAX_ID_LENGTH:
        raise BadRequestError(
            None,
            ErrorCode.BAD_REQUEST,
            f"a request needs an 'id': a string of 1-{MAX_ID_LENGTH} characters, got {request_id!r:.80}",
        )
    op = message.get("op")
    if not isinstance(op, str):
        raise BadRequestError(request_id, ErrorCode.BAD_REQUEST, f"a request needs an 'op' string; valid: {list(OPS)}")
    return request_id, op, message.get("params")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed (JSON has no NaN or infinity)")
