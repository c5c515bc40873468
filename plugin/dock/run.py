"""The dock's run panel: the results folder, Run and Cancel, the run's progress and status.

A run is the Processing algorithm ``landfuse:classify`` in a ``QgsProcessingAlgRunnerTask`` (the same code path as
the toolbox, batch and the modeler); the panel only reacts to the task's signals, so it never blocks. Until the
worker reports on the job (it runs heavy jobs one at a time, and may still be starting), the status says that the
run waits for the backend.
"""

from __future__ import annotations

import shutil
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
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ..algorithms.classify import ClassifyAlgorithm
from ..i18n import tr
from ..provider import PROVIDER_ID

ALGORITHM_ID = f"{PROVIDER_ID}:{ClassifyAlgorithm.NAME}"
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


class RunPanel(QWidget):
    """Results folder, Run/Cancel, progress and status.

    ``state`` is ``idle``, ``running``, ``done``, ``failed`` or ``cancelled``; ``waiting`` is true while a
    running job has had no word from the worker yet. ``finished(state, run, results)`` is emitted when a run
    ends; a failed or cancelled run's folder is already removed then. ``folder_chosen(path)``: the user picked
    a results folder (``""``: back to the default).
    """

    run_requested = pyqtSignal()
    cancel_requested = pyqtSignal()
    finished = pyqtSignal(str, object, object)
    folder_chosen = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = "idle"
        self.waiting = False
        self.current: Run | None = None

        self.folder_widget = QgsFileWidget()
        self.folder_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.folder_widget.setDialogTitle(tr("Folder for LandFuse results"))
        self.folder_widget.setToolTip(
            tr(
                "Each run writes its class map, confidence map, report and explanation into a new sub-folder of "
                "this folder. Kept in the project; empty: the default shown."
            )
        )
        self.folder_widget.fileChanged.connect(self.folder_chosen)
        self.run_button = QPushButton(tr("Run"))
        self.run_button.setToolTip(tr("Classify the two layers with the model, in the background."))
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setToolTip(tr("Stop the run; its files are removed."))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setToolTip(tr("How far the run is."))
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(tr("Results folder"), self.folder_widget)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)

    def show_folder(self, chosen: Path | None, default: Path | None) -> None:
        """Show the folder chosen for the project, or the default in grey (``None``: asked at the first run)."""
        self.folder_widget.blockSignals(True)
        self.folder_widget.setFilePath(str(chosen) if chosen else "")
        self.folder_widget.blockSignals(False)
        placeholder = str(default) if default else tr("asked at the first run (the project is not saved yet)")
        self.folder_widget.lineEdit().setPlaceholderText(placeholder)

    def start(self, params: dict, folder: Path, model: str, project: QgsProject) -> None:
        """Run ``landfuse:classify`` with ``params`` in a background task; its files go to ``folder``."""
        self.current = prepare_run(ALGORITHM_ID, params, project, folder, model)
        self.current.feedback.progressChanged.connect(self._on_progress)
        self.current.feedback.message.connect(self._on_message)
        self.current.task.executed.connect(self._on_executed)
        self.state = "running"
        self.waiting = True
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)  # busy: no word from the worker yet
        self.set_status(tr("Waiting for the backend… (it runs one classification at a time)"))
        self.current.start()

    def cancel(self) -> None:
        """Stop the run: the worker job is cancelled and the run's files are removed."""
        if self.current is not None:
            self.set_status(tr("Cancelling…"))
            self.current.cancel()

    def set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")
        self.status_label.setText(text)

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
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        if run is None:
            return
        self.state = run.outcome(successful)
        if self.state == "done":
            self.progress.setValue(100)
        else:
            shutil.rmtree(run.folder, ignore_errors=True)
            if self.state == "cancelled":
                self.set_status(tr("Cancelled: nothing was written."))
            else:
                message = run.feedback.errors[-1] if run.feedback.errors else tr("the classification failed")
                self.set_status(message, error=True)
                QgsMessageLog.logMessage(message, LOG_TAG)
        self.finished.emit(self.state, run, results)
