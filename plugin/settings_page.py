"""The LandFuse page of QGIS's options dialog (Settings > Options > LandFuse)."""

from __future__ import annotations

import json

from qgis.gui import QgsFileWidget, QgsOptionsPageWidget, QgsOptionsWidgetFactory
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout

from . import service, settings, tasks
from .installer import discover_interpreter
from .paths import ICON_PATH


class LandFuseOptionsFactory(QgsOptionsWidgetFactory):
    """Adds the LandFuse page to the options dialog (registered by the plugin's ``initGui``)."""

    def __init__(self) -> None:
        super().__init__("LandFuse", QIcon(str(ICON_PATH)))

    def createWidget(self, parent):  # noqa: N802 (QGIS's name)
        return LandFuseOptionsPage(parent)


class LandFuseOptionsPage(QgsOptionsPageWidget):
    """Backend interpreter, models folder, Phi-3 GGUF, GPU, tile size; "Check backend" shows diagnostics."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        current = settings.load()
        self.interpreter = _file_widget(QgsFileWidget.GetFile, current.interpreter, "Python interpreter (python*)")
        self.interpreter.lineEdit().setPlaceholderText(str(discover_interpreter()))
        self.interpreter.setToolTip(
            "The Python of the backend environment. Empty: LANDFUSE_PYTHON, the environment set up from here, "
            "or a developer checkout's .venv."
        )
        self.models_folder = _file_widget(QgsFileWidget.GetDirectory, current.models_folder)
        self.llm_path = _file_widget(QgsFileWidget.GetFile, current.llm_path, "GGUF models (*.gguf)")
        self.llm_path.lineEdit().setPlaceholderText("embedded SmolLM2-135M")
        self.output_folder = _file_widget(QgsFileWidget.GetDirectory, current.output_folder)
        self.output_folder.lineEdit().setPlaceholderText(str(current.resolved_output_folder()))
        self.use_gpu = QCheckBox("Use the GPU when one is usable")
        self.use_gpu.setChecked(current.use_gpu)
        self.tile_size = QSpinBox()
        self.tile_size.setRange(0, 4096)
        self.tile_size.setSingleStep(32)
        self.tile_size.setSpecialValueText("model card's")
        self.tile_size.setValue(current.tile_size)
        self.check_button = QPushButton("Check backend")
        self.check_button.clicked.connect(self.check_backend)
        self.setup_button = QPushButton("Set up the backend…")
        self.setup_button.setToolTip("Create or repair the backend environment in this QGIS profile.")
        self.setup_button.clicked.connect(self.open_setup)
        self.diagnostics = QPlainTextEdit()
        self.diagnostics.setReadOnly(True)
        self.diagnostics.setPlaceholderText("Check backend shows the interpreter, versions, devices and paths here.")

        form = QFormLayout()
        form.addRow("Backend interpreter", self.interpreter)
        form.addRow("Models folder", self.models_folder)
        form.addRow("Phi-3 GGUF", self.llm_path)
        form.addRow("Dock output folder", self.output_folder)
        form.addRow("", self.use_gpu)
        form.addRow("Default tile size", self.tile_size)
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

    def check_backend(self) -> None:
        """Save the settings, then ask the (re)started worker for its diagnostics, in the background."""
        self.apply()
        self.check_button.setEnabled(False)
        self.diagnostics.setPlainText("Starting the backend…")
        tasks.start("LandFuse: diagnostics", service.diagnostics, self._show_diagnostics, self)

    def _show_diagnostics(self, result: dict | None, error: str) -> None:
        self.check_button.setEnabled(True)
        if result is None:
            self.diagnostics.setPlainText(f"The backend did not answer:\n{error}")
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
