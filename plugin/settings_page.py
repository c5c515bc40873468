"""The LandFuse page of QGIS's options dialog (Settings > Options > LandFuse)."""

from __future__ import annotations

import json
from dataclasses import replace

from qgis.gui import QgsFileWidget, QgsOptionsPageWidget, QgsOptionsWidgetFactory
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from . import service, settings, tasks
from .downloads import PHI3_ARCHITECTURES, PHI3_FILE, PHI3_URL, FetchProgress, FetchTask, is_phi3, profile_models_folder
from .i18n import tr
from .installer import discover_interpreter
from .paths import ICON_PATH


class LandFuseOptionsFactory(QgsOptionsWidgetFactory):
    """Adds the LandFuse page to the options dialog (registered by the plugin's ``initGui``)."""

    def __init__(self) -> None:
        super().__init__("LandFuse", QIcon(str(ICON_PATH)))

    def createWidget(self, parent):  # noqa: N802 (QGIS's name)
        return LandFuseOptionsPage(parent)


class LandFuseOptionsPage(QgsOptionsPageWidget):
    """Backend interpreter, models folder, Phi-3 GGUF ("Get Phi-3…"), output folder, GPU, tile size; "Set up the
    backend…" and "Check backend". ``phi3_url`` is where "Get Phi-3…" downloads from."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.phi3_url = PHI3_URL
        self.phi3_confirmation: QMessageBox | None = None
        self.setup_dialog = None
        current = settings.load()
        self.interpreter = _file_widget(QgsFileWidget.GetFile, current.interpreter, tr("Python interpreter (python*)"))
        self.interpreter.lineEdit().setPlaceholderText(str(discover_interpreter()))
        self.interpreter.setToolTip(
            tr(
                "The Python of the backend environment. Empty: LANDFUSE_PYTHON, the environment set up from here, "
                "or a developer checkout's .venv."
            )
        )
        self.models_folder = _file_widget(QgsFileWidget.GetDirectory, current.models_folder)
        self.models_folder.lineEdit().setPlaceholderText(tr("asked when you first add a model"))
        self.models_folder.setToolTip(tr("Where your own .onnx and .pt model files live; the dock lists them."))
        self.llm_path = _file_widget(QgsFileWidget.GetFile, current.llm_path, tr("GGUF models (*.gguf)"))
        self.llm_path.lineEdit().setPlaceholderText(tr("embedded Gemma 3 270M"))
        self.llm_path.setToolTip(
            tr("A Phi-3-mini-4k-instruct GGUF (Q4) for explanations; empty: the backend's default language model.")
        )
        self.phi3_button = QPushButton(tr("Get Phi-3…"))
        self.phi3_button.setToolTip(
            tr("Download Phi-3-mini-4k-instruct Q4 (about 2.4 GB) from its publisher and use it for explanations.")
        )
        self.phi3_button.clicked.connect(self.get_phi3)
        self.phi3_fetch = FetchProgress()
        self.phi3_fetch.finished.connect(self._on_phi3_fetched)
        self.output_folder = _file_widget(QgsFileWidget.GetDirectory, current.output_folder)
        self.output_folder.lineEdit().setPlaceholderText(tr("beside each project file: <project folder>/landfuse"))
        self.output_folder.setToolTip(
            tr(
                "Where the dock writes its runs for every project; empty: beside the project file (asked once for "
                "an unsaved project). A folder chosen in the dock for a project comes first."
            )
        )
        self.use_gpu = QCheckBox(tr("Use the GPU when one is usable"))
        self.use_gpu.setToolTip(tr("Untick to compute on the CPU even when a GPU is usable."))
        self.use_gpu.setChecked(current.use_gpu)
        self.tile_size = QSpinBox()
        self.tile_size.setRange(0, 4096)
        self.tile_size.setSingleStep(32)
        self.tile_size.setSpecialValueText(tr("model card's"))
        self.tile_size.setToolTip(tr("Pixels per side of the tiles the model sees; 0: the model card's."))
        self.tile_size.setValue(current.tile_size)
        self.check_button = QPushButton(tr("Check backend"))
        self.check_button.setToolTip(tr("Start the backend with these settings and show its diagnostics."))
        self.check_button.clicked.connect(self.check_backend)
        self.setup_button = QPushButton(tr("Set up the backend…"))
        self.setup_button.setToolTip(tr("Create or repair the backend environment in this QGIS profile."))
        self.setup_button.clicked.connect(self.open_setup)
        self.diagnostics = QPlainTextEdit()
        self.diagnostics.setReadOnly(True)
        self.diagnostics.setPlaceholderText(
            tr("Check backend shows the interpreter, versions, devices and paths here.")
        )

        llm_row = QHBoxLayout()
        llm_row.addWidget(self.llm_path, 1)
        llm_row.addWidget(self.phi3_button)
        form = QFormLayout()
        form.addRow(tr("Backend interpreter"), self.interpreter)
        form.addRow(tr("Models folder"), self.models_folder)
        form.addRow(tr("Phi-3 GGUF"), llm_row)
        form.addRow("", self.phi3_fetch)
        form.addRow(tr("Dock output folder"), self.output_folder)
        form.addRow("", self.use_gpu)
        form.addRow(tr("Default tile size"), self.tile_size)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.setup_button)
        buttons.addWidget(self.check_button)
        layout.addLayout(buttons)
        layout.addWidget(self.diagnostics, 1)

    def values(self) -> settings.Settings:
        return settings.Settings(
            interpreter=self.interpreter.filePath().strip(),
            models_folder=self.models_folder.filePath().strip(),
            llm_path=self.llm_path.filePath().strip(),
            use_gpu=self.use_gpu.isChecked(),
            tile_size=self.tile_size.value(),
            output_folder=self.output_folder.filePath().strip(),
        )

    def apply(self) -> None:
        settings.save(self.values())

    def open_setup(self) -> None:
        """The "Set up the backend…" dialog; on success the interpreter field shows the new environment."""
        from .setup_dialog import BackendSetupDialog

        self.apply()
        dialog = BackendSetupDialog(self)
        dialog.finished_setup.connect(
            lambda state: state == "done" and self.interpreter.setFilePath(settings.load().interpreter)
        )
        dialog.show()
        self.setup_dialog = dialog

    # ----------------------------------------------------------------- Phi-3 on demand
    def get_phi3(self) -> None:
        """Use Phi-3 for explanations: the file in the profile's models folder, downloaded first when missing,
        after the user confirmed the size (nothing is downloaded otherwise)."""
        dest = profile_models_folder() / PHI3_FILE
        if is_phi3(dest):
            self._use_phi3(str(dest))
            self.phi3_fetch.show_message(tr("Phi-3 is already downloaded: {path}").format(path=dest))
            return
        if self.phi3_fetch.running:
            return
        self.phi3_confirmation = QMessageBox(
            QMessageBox.Icon.Question,
            tr("Get Phi-3"),
            tr(
                "Download Phi-3-mini-4k-instruct (Q4 GGUF, about 2.4 GB) from Microsoft's page on Hugging Face into "
                "{folder}, and use it for explanations? It runs on your computer; the download can be cancelled "
                "and resumed."
            ).format(folder=dest.parent),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        self.phi3_confirmation.setDefaultButton(QMessageBox.StandardButton.No)
        self.phi3_confirmation.finished.connect(self._on_phi3_answer)
        self.phi3_confirmation.open()

    def _on_phi3_answer(self, answer: int) -> None:
        if answer == QMessageBox.StandardButton.Yes and not self.phi3_fetch.running:
            self.phi3_fetch.start(FetchTask(self.phi3_url, profile_models_folder() / PHI3_FILE, PHI3_ARCHITECTURES))

    def _on_phi3_fetched(self, state: str, path: str) -> None:
        if state == "done":
            self._use_phi3(path)

    def _use_phi3(self, path: str) -> None:
        """Show ``path`` in the Phi-3 field and save it as the explanations model at once."""
        self.llm_path.setFilePath(path)
        settings.save(replace(settings.load(), llm_path=path))

    # ----------------------------------------------------------------- diagnostics
    def check_backend(self) -> None:
        """Save the settings, then ask the (re)started worker for its diagnostics, in the background."""
        self.apply()
        self.check_button.setEnabled(False)
        self.diagnostics.setPlainText(tr("Starting the backend…"))
        tasks.start(tr("LandFuse: diagnostics"), service.diagnostics, self._show_diagnostics, self)

    def _show_diagnostics(self, result: dict | None, error: str) -> None:
        self.check_button.setEnabled(True)
        if result is None:
            self.diagnostics.setPlainText(tr("The backend did not answer:\n{error}").format(error=error))
            return
        self.diagnostics.setPlainText(diagnostics_text(result))


def diagnostics_text(report: dict, indent: str = "") -> str:
    """The diagnostics report as indented ``key: value`` lines, to paste into a bug report."""
    lines = []
    for key, value in report.items():
        if isinstance(value, dict) and value:
            lines.append(f"{indent}{key}:")
            lines.append(diagnostics_text(value, indent + "  "))
        else:
            lines.append(f"{indent}{key}: {json.dumps(value) if isinstance(value, (list, dict)) else value}")
    return "\n".join(lines)


def _file_widget(mode, value: str, file_filter: str = "") -> QgsFileWidget:
    widget = QgsFileWidget()
    widget.setStorageMode(mode)
    if file_filter:
        widget.setFilter(file_filter)
    widget.setFilePath(value)
    return widget
