"""A background task for one worker request (model card, device, diagnostics), so the UI never waits."""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import QgsApplication, QgsTask
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QObject


class WorkerCallTask(QgsTask):
    """Runs the blocking ``request()`` off the main thread; ``on_done(result, error)`` runs on the main thread.

    ``error`` is the message of a failed request (``result`` is then ``None``). ``on_done`` is skipped when
    ``owner`` (the widget that asked) has been deleted meanwhile.
    """

    def __init__(
        self,
        description: str,
        request: Callable[[], dict],
        on_done: Callable[[dict | None, str], None],
        owner: QObject | None = None,
    ) -> None:
        super().__init__(description, QgsTask.CanCancel)
        self.request = request
        self.on_done = on_done
        self.owner = owner
        self.result: dict | None = None
        self.error = ""

    def run(self) -> bool:
        try:
            self.result = self.request()
        except Exception as err:  # noqa: BLE001 (a task must never raise; finished() reports the error)
            self.error = str(err)
            return False
        return True

    def finished(self, result: bool) -> None:
        try:
            if self.owner is None or not sip.isdeleted(self.owner):
                self.on_done(self.result, self.error or ("" if result else "cancelled"))
        finally:
            _running.discard(self)


_running: set[WorkerCallTask] = set()


def start(
    description: str,
    request: Callable[[], dict],
    on_done: Callable[[dict | None, str], None],
    owner: QObject | None = None,
) -> WorkerCallTask:
    """Run ``request`` on QGIS's task manager; a Python reference is kept until it has finished."""
    task = WorkerCallTask(description, request, on_done, owner)
    _running.add(task)
    QgsApplication.taskManager().addTask(task)
    return task
