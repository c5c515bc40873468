"""The one backend worker QGIS talks to, shared by every algorithm run, the dock and the settings page.

The worker is started on first use with the interpreter from the settings and replaced when that setting
changes. Everything here blocks: call it from a Processing algorithm or a ``QgsTask``, never from the main
thread.
"""

from __future__ import annotations

import threading

from qgis.core import QgsProcessingException, QgsProcessingFeedback

from . import settings

_lock = threading.Lock()
_client = None


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


def shutdown() -> None:
    """Stop the worker (plugin unload); the next call starts a new one."""
    global _client
    with _lock:
        if _client is not None:
            _client.shutdown()
            _client = None


def hello() -> dict:
    """The worker's handshake (versions and devices), starting the worker if needed."""
    return _translated(lambda: client().start())


def device_label(handshake: dict) -> str:
    """The device the worker computes on, e.g. ``NVIDIA H200 (139.8 GiB)`` or ``CPU``."""
    return (handshake.get("devices") or {}).get("preferred") or "CPU"


def diagnostics() -> dict:
    """The client's and the worker's diagnostics (a report even when the worker cannot start)."""
    return client().diagnostics()


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
    return _translated(lambda: client().call(op, params, **options))


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
