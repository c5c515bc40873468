"""The one backend worker QGIS talks to, shared by every algorithm run, the dock and the settings page.

The worker is started on first use with the interpreter from the settings, replaced when that setting
changes, and stopped after an idle time (``landfuse/worker_idle_minutes``, default 10) so that it gives
back its memory, GPU memory included. Everything here blocks: call it from a Processing algorithm or a
``QgsTask``, never from the main thread; :func:`shutdown` alone returns at once.
"""

from __future__ import annotations

import threading

from qgis.core import QgsProcessingException, QgsProcessingFeedback, QgsSettings

from . import settings

KEY_IDLE_MINUTES = settings.PREFIX + "worker_idle_minutes"
DEFAULT_IDLE_MINUTES = 10.0

_lock = threading.Lock()
_client = None
_active = 0  # requests in flight
_idle_timer: threading.Timer | None = None


def idle_seconds() -> float:
    """How long the worker may sit idle before it is stopped (0 = never)."""
    value = QgsSettings().value(KEY_IDLE_MINUTES, DEFAULT_IDLE_MINUTES)
    try:
        return max(0.0, float(value) * 60.0)
    except (TypeError, ValueError):
        return DEFAULT_IDLE_MINUTES * 60.0


def client():
    """The shared ``WorkerClient`` for the configured interpreter (its worker starts on the first call)."""
    from .worker_client import WorkerClient

    global _client
    interpreter = settings.load().resolved_interpreter()
    with _lock:
        if _client is not None and str(_client.python) != interpreter:
            _client.shutdown()
            _client = None
        if _client is None:
            _client = WorkerClient(interpreter)
        return _client


def shutdown(wait: bool = False) -> None:
    """Stop the worker (plugin unload, a new interpreter); the next call starts a new one.

    Returns at once: the worker is asked to exit (its jobs are cancelled) and killed after a grace
    period on a background thread, so QGIS never waits for it; ``wait=True`` waits for that.
    """
    global _client
    with _lock:
        client_to_stop, _client = _client, None
        _cancel_idle_timer()
    if client_to_stop is None:
        return
    stopper = threading.Thread(target=client_to_stop.shutdown, name="landfuse-worker-shutdown", daemon=True)
    stopper.start()
    if wait:
        stopper.join()


def _cancel_idle_timer() -> None:
    global _idle_timer
    if _idle_timer is not None:
        _idle_timer.cancel()
        _idle_timer = None


def _stop_if_idle() -> None:
    global _client
    with _lock:
        if _active or _client is None:
            return
        idle, _client = _client, None
    idle.shutdown()


def _in_flight(action):
    """Run ``action`` as one request: the idle countdown pauses while any request is in flight."""
    global _active, _idle_timer
    with _lock:
        _active += 1
        _cancel_idle_timer()
    try:
        return action()
    finally:
        with _lock:
            _active -= 1
            seconds = idle_seconds()
            if not _active and _client is not None and seconds:
                _idle_timer = threading.Timer(seconds, _stop_if_idle)
                _idle_timer.daemon = True
                _idle_timer.start()


def hello() -> dict:
    """The worker's handshake (versions and devices), starting the worker if needed."""
    return _translated(lambda: _in_flight(lambda: client().start()))


def device_label(handshake: dict) -> str:
    """The device the worker computes on, e.g. ``NVIDIA H200 (139.8 GiB)`` or ``CPU``."""
    return (handshake.get("devices") or {}).get("preferred") or "CPU"


def diagnostics() -> dict:
    """The client's and the worker's diagnostics (a report even when the worker cannot start)."""
    return _in_flight(lambda: client().diagnostics())


def call(op: str, params: dict, feedback: QgsProcessingFeedback | None = None, timeout: float | None = None) -> dict:
    """Run ``op`` on the worker and return its result.

    Progress goes to ``feedback`` (0..100 and the worker's message), worker log lines to its log;
    ``feedback.isCanceled()`` is polled and cancels the job on the worker. Worker errors become
    ``QgsProcessingException`` with the worker's message and its stable code.
    """
    options = {"timeout": timeout}
    if feedback is not None:
        options.update(
            progress=_progress_reporter(feedback),
            is_cancelled=feedback.isCanceled,
            log_message=lambda level, message: feedback.pushDebugInfo(f"backend {level}: {message}"),
        )
    return _translated(lambda: _in_flight(lambda: client().call(op, params, **options)))


def _translated(action):
    from .worker_client import WorkerError

    try:
        return action()
    except WorkerError as err:
        raise QgsProcessingException(f"{err} [{err.code}]") from err


def _progress_reporter(feedback: QgsProcessingFeedback):
    last_message = [""]

    def report(fraction: float, message: str = "") -> None:
        feedback.setProgress(max(0.0, min(100.0, 100.0 * float(fraction))))
        if message and message != last_message[0]:
            last_message[0] = message
            feedback.setProgressText(message)

    return report
