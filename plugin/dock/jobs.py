"""Processing algorithms run from the dock in the background, and the controls that follow them.

A job (a classification, a training) is a Processing algorithm in a ``QgsProcessingAlgRunnerTask`` (the same code
path as the toolbox, batch and the modeler): ``prepare_run`` builds it, a :class:`Run` keeps it alive. A panel that
runs jobs mixes in :class:`JobPanel`: its start and Cancel buttons, progress bar and status follow the job through
the task's signals, so the dock never blocks. Until the worker reports on the job (it runs heavy jobs one at a time,
and may still be starting), the progress bar is busy and the status says that the job waits for the backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsMessageLog,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
)
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import QLabel, QProgressBar, QPushButton

from ..i18n import tr

LOG_TAG = "LandFuse"
ERROR_STYLE = "color: #b00;"


class RunFeedback(QgsProcessingFeedback):
    """Processing feedback that also forwards progress text and errors as signals (queued to the dock)."""

    message = pyqtSignal(str)

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def setProgressText(self, text: str) -> None:  # noqa: N802 (QGIS's name)
        super().setProgressText(text)
        self.message.emit(text)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803 (QGIS's names)
        super().reportError(error, fatalError)
        self.errors.append(error)


@dataclass
class Run:
    """One algorithm in flight (a classification, a training): everything its task needs kept alive, and where
    its files go."""

    task: QgsProcessingAlgRunnerTask
    algorithm: object
    context: QgsProcessingContext
    feedback: RunFeedback
    folder: Path
    model: str
    cancelled: bool = False

    def start(self) -> None:
        """Hand the task to QGIS's task manager (connect the feedback's and the task's signals first)."""
        QgsApplication.taskManager().addTask(self.task)

    def cancel(self) -> None:
        """Stop the algorithm: its worker job is cancelled."""
        self.cancelled = True
        self.feedback.cancel()
        self.task.cancel()

    def outcome(self, successful: bool) -> str:
        """How the run ended, from the task's ``executed(successful, …)``: ``done``, ``cancelled`` or ``failed``."""
        if successful and not self.cancelled:
            return "done"
        return "cancelled" if self.cancelled or self.feedback.isCanceled() else "failed"


def prepare_run(algorithm_id: str, params: dict, project: QgsProject, folder: Path, model: str) -> Run:
    """The Processing algorithm ``algorithm_id`` with ``params`` in a ``QgsProcessingAlgRunnerTask`` (the same code
    path as the toolbox), not started yet: connect ``run.feedback`` and ``run.task.executed``, then ``run.start()``."""
    algorithm = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
    context = QgsProcessingContext()
    context.setProject(project)
    feedback = RunFeedback()
    task = QgsProcessingAlgRunnerTask(algorithm, params, context, feedback)
    return Run(task, algorithm, context, feedback, folder, model)


@dataclass(frozen=True)
class JobTexts:
    """What a panel's status says of its job: while it waits for the backend, once cancelled, and when it failed
    without a message of its own."""

    waiting: str
    cancelled: str
    failed: str


class JobPanel:
    """The job side of a dock panel that runs one algorithm at a time (mixed in before the panel's Qt class).

    The panel declares ``cancel_requested = pyqtSignal()`` and ``finished = pyqtSignal(str, object, object)``,
    calls :meth:`_build_job_controls` with its start button, and starts jobs with :meth:`_start_job`. ``state`` is
    ``idle``, ``running``, ``done``, ``failed`` or ``cancelled``; ``waiting`` is true while a running job has had no
    word from the worker yet; ``current`` is the job in flight. ``finished(state, run, results)`` is emitted when a
    job ends, after the panel's :meth:`_job_done` or :meth:`_job_stopped`.
    """

    def _build_job_controls(
        self, start_button: QPushButton, texts: JobTexts, cancel_tooltip: str, progress_tooltip: str
    ) -> None:
        """Set up the job's controls: ``start_button`` (the panel's), Cancel, the progress bar and the status."""
        self.state = "idle"
        self.waiting = False
        self.current: Run | None = None
        self.job_texts = texts
        self.start_button = start_button
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setToolTip(cancel_tooltip)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setToolTip(progress_tooltip)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _start_job(self, run: Run) -> None:
        """Follow ``run`` in the controls and start it; the progress bar is busy until the worker reports."""
        self.current = run
        run.feedback.progressChanged.connect(self._on_progress)
        run.feedback.message.connect(self._on_message)
        run.task.executed.connect(self._on_executed)
        self.state = "running"
        self.waiting = True
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)  # busy: no word from the worker yet
        self.set_status(self.job_texts.waiting)
        run.start()

    def cancel(self) -> None:
        """Stop the job in flight, if any: its worker job is cancelled."""
        if self.current is not None:
            self.set_status(tr("Cancelling…"))
            self.current.cancel()

    def set_status(self, text: str, error: bool = False) -> None:
        """Show ``text`` under the progress bar (in red when ``error``)."""
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")
        self.status_label.setText(text)

    def _job_done(self, run: Run, results: dict) -> None:
        """The job succeeded with ``results`` (the algorithm's outputs): show them. Nothing by default."""

    def _job_stopped(self, run: Run) -> None:
        """The job was cancelled or failed (``state`` says which): clean up after it. Nothing by default."""

    def _started(self) -> None:
        """The worker reported on the job: it runs."""
        if self.waiting:
            self.waiting = False
            self.progress.setRange(0, 100)

    def _on_progress(self, value: float) -> None:
        self._started()
        self.progress.setValue(int(value))

    def _on_message(self, text: str) -> None:
        self._started()
        if self.current is not None and not self.current.cancelled:
            self.set_status(tr("{model}: {message}").format(model=self.current.model, message=text))

    def _on_executed(self, successful: bool, results: dict) -> None:
        run, self.current = self.current, None
        self.waiting = False
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        if run is None:
            return
        self.state = run.outcome(successful)
        if self.state == "done":
            self.progress.setValue(100)
            self._job_done(run, results)
        else:
            self._job_stopped(run)
            if self.state == "cancelled":
                self.set_status(self.job_texts.cancelled)
            else:
                message = run.feedback.errors[-1] if run.feedback.errors else self.job_texts.failed
                self.set_status(message, error=True)
                QgsMessageLog.logMessage(message, LOG_TAG)
        self.finished.emit(self.state, run, results)
