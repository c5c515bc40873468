""" "Set up the backend…": a dialog that creates or repairs the backend environment in the background.

The user picks the Python to build it from (the one QGIS runs on by default), the profiles and the
CPU or CUDA build (CUDA preselected when ``nvidia-smi`` lists a GPU); the log and the progress show
as pip works, Cancel stops it, and on success the new interpreter is saved in the settings and the
worker restarts with it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from qgis.core import QgsApplication, QgsTask
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from . import installer, service, settings
from .i18n import tr


class SetupTask(QgsTask):
    """Runs :func:`installer.run_setup` off the main thread; output lines arrive through ``line``."""

    line = pyqtSignal(str)
    step = pyqtSignal(float, str)

    def __init__(self, plan: installer.SetupPlan) -> None:
        super().__init__(tr("LandFuse: set up the backend"), QgsTask.CanCancel)
        self.plan = plan
        self.report: dict | None = None
        self.error = ""

    def run(self) -> bool:
        try:
            self.report = installer.run_setup(
                self.plan, log=self.line.emit, progress=self.step.emit, cancelled=self.isCanceled
            )
        except installer.SetupError as err:
            self.error = str(err)
            return False
        return True


class BackendSetupDialog(QDialog):
    """The setup dialog. ``state`` is ``idle``, ``running``, ``done``, ``failed`` or ``cancelled``."""

    finished_setup = pyqtSignal(str)

    def __init__(self, parent=None, venv: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Set up the LandFuse backend"))
        self.venv = venv or installer.backend_home()
        self.state = "idle"
        self.task: SetupTask | None = None

        self.python_combo = QComboBox()
        self.python_combo.setEditable(True)
        self.python_combo.setToolTip(tr("The Python the environment is made from (3.11 or newer)."))
        for candidate in installer.base_interpreter_candidates():
            self.python_combo.addItem(str(candidate))
        browse = QPushButton(tr("Browse…"))
        browse.setToolTip(tr("Pick a Python interpreter on this computer."))
        browse.clicked.connect(self._browse)
        python_row = QHBoxLayout()
        python_row.addWidget(self.python_combo, 1)
        python_row.addWidget(browse)

        self.profile_checks = {}
        for profile in installer.PROFILES:
            check = QCheckBox(installer.PROFILE_LABELS[profile])
            check.setChecked(profile == "inference")
            check.setEnabled(profile != "inference")
            self.profile_checks[profile] = check
        if not installer.compiler_present():
            self.profile_checks["explanations"].setToolTip(
                tr("No C/C++ compiler was found: this works only where pip finds a ready-made llama-cpp-python wheel.")
            )
        self.build_combo = QComboBox()
        self.build_combo.addItems([tr("CPU"), tr("CUDA (NVIDIA GPU)")])
        self.build_combo.setCurrentIndex(1 if installer.nvidia_gpu_present() else 0)
        self.build_combo.setToolTip(tr("Preselected from what nvidia-smi reports; change it if you know better."))

        form = QFormLayout()
        form.addRow(tr("Python"), python_row)
        form.addRow(tr("Environment"), QLabel(str(self.venv)))
        for check in self.profile_checks.values():
            form.addRow("", check)
        form.addRow(tr("Build"), self.build_combo)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.status = QLabel(tr("Downloads the pinned packages from the package index (your pip settings apply)."))
        self.status.setWordWrap(True)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(5000)
        self.start_button = QPushButton(tr("Set up"))
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.cancel_button, close):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.log_view, 1)
        layout.addLayout(buttons)
        self.resize(720, 520)

    def plan(self) -> installer.SetupPlan:
        profiles = tuple(p for p, check in self.profile_checks.items() if check.isChecked())
        return installer.SetupPlan(
            Path(self.python_combo.currentText().strip()), self.venv, profiles, gpu=self.build_combo.currentIndex() == 1
        )

    def start(self) -> None:
        """Create or repair the environment in a background task."""
        self.task = SetupTask(self.plan())
        self.task.line.connect(self.log_view.appendPlainText)
        self.task.step.connect(self._on_step)
        self.task.taskCompleted.connect(self._on_completed)
        self.task.taskTerminated.connect(self._on_terminated)
        self.state = "running"
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(tr("Setting up…"))
        QgsApplication.taskManager().addTask(self.task)

    def cancel(self) -> None:
        if self.task is not None:
            self.status.setText(tr("Cancelling…"))
            self.task.cancel()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Python interpreter"), "", tr("Python (python* python*.exe)"))
        if path:
            self.python_combo.setCurrentText(path)

    def _on_step(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(100 * fraction))
        self.status.setText(message)

    def _on_completed(self) -> None:
        task, self.task = self.task, None
        python = installer.venv_python(task.plan.venv)
        settings.save(replace(settings.load(), interpreter=str(python)))
        service.shutdown()  # the next job starts a worker with the new interpreter
        devices = (task.report or {}).get("devices") or {}
        self._finish(
            "done",
            tr("The backend is ready ({device}): {python}").format(
                device=devices.get("preferred") or "CPU", python=python
            ),
        )
        self.progress.setValue(100)

    def _on_terminated(self) -> None:
        task, self.task = self.task, None
        if task.isCanceled():
            self._finish("cancelled", tr("Cancelled. Run the setup again to complete the environment."))
        else:
            self._finish("failed", task.error or tr("The setup failed; see the log."))

    def _finish(self, state: str, message: str) -> None:
        self.state = state
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setStyleSheet("color: #b00;" if state == "failed" else "")
        self.status.setText(message)
        self.finished_setup.emit(state)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.cancel()
        super().closeEvent(event)
