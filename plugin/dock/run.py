"""The dock's run panel: the results folder, Run and Cancel, the run's progress and status.

A run is the Processing algorithm ``landfuse:classify`` in a background task (``jobs.prepare_run``); the panel's
controls follow it as a :class:`~.jobs.JobPanel`, so the dock never blocks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from qgis.core import QgsProject
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QFormLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ..algorithms.classify import ClassifyAlgorithm
from ..i18n import tr
from ..provider import PROVIDER_ID
from .jobs import JobPanel, JobTexts, Run, prepare_run

ALGORITHM_ID = f"{PROVIDER_ID}:{ClassifyAlgorithm.NAME}"


class RunPanel(JobPanel, QWidget):
    """Results folder, Run/Cancel, progress and status (the job controls of :class:`~.jobs.JobPanel`).

    ``finished(state, run, results)`` is emitted when a run ends; a failed or cancelled run's folder is already
    removed then. ``folder_chosen(path)``: the user picked a results folder (``""``: back to the default).
    """

    run_requested = pyqtSignal()
    cancel_requested = pyqtSignal()
    finished = pyqtSignal(str, object, object)
    folder_chosen = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        self._build_job_controls(
            self.run_button,
            JobTexts(
                waiting=tr("Waiting for the backend… (it runs one classification at a time)"),
                cancelled=tr("Cancelled: nothing was written."),
                failed=tr("the classification failed"),
            ),
            cancel_tooltip=tr("Stop the run; its files are removed."),
            progress_tooltip=tr("How far the run is."),
        )

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
        self._start_job(prepare_run(ALGORITHM_ID, params, project, folder, model))

    def _job_stopped(self, run: Run) -> None:
        """A cancelled or failed run leaves no files: its folder is removed."""
        shutil.rmtree(run.folder, ignore_errors=True)
