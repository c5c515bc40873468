"""The banner at the top of the dock while no backend is found: what is missing, and "Set up the backend…"."""

from __future__ import annotations

from pathlib import Path

from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from .. import settings
from ..i18n import tr

BANNER_STYLE = "QFrame#LandFuseBanner { background: #fff4d6; border: 1px solid #e0b84c; border-radius: 3px; }"
BANNER_TEXT_STYLE = "color: #4d3800;"


def missing_backend() -> str | None:
    """Why there is no backend to start (its interpreter does not exist), with what to do; ``None`` when there is."""
    interpreter = settings.load().resolved_interpreter()
    if Path(interpreter).is_file():
        return None
    return tr(
        "No LandFuse backend was found: the interpreter {path} does not exist. Set up the backend once: it installs "
        "ONNX Runtime and rasterio (about 300 MB) into your QGIS profile."
    ).format(path=interpreter)


class BackendBanner(QFrame):
    """Hidden until :meth:`show_problem`. "Set up the backend…" opens the setup dialog; a successful setup
    hides the banner and emits ``backend_ready``."""

    backend_ready = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LandFuseBanner")
        self.setStyleSheet(BANNER_STYLE)
        self.setup_dialog = None
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setStyleSheet(BANNER_TEXT_STYLE)
        self.setup_button = QPushButton(tr("Set up the backend…"))
        self.setup_button.setToolTip(
            tr("Create or repair the backend environment in this QGIS profile, with pip; shows progress and the log.")
        )
        self.setup_button.clicked.connect(self.open_setup)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message_label)
        layout.addWidget(self.setup_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.hide()

    def show_problem(self, text: str) -> None:
        """Show the banner with ``text`` (what is wrong and what to do)."""
        self.message_label.setText(text)
        self.show()

    def open_setup(self) -> None:
        """The setup dialog (not modal: QGIS stays usable while pip works)."""
        from ..setup_dialog import BackendSetupDialog

        self.setup_dialog = BackendSetupDialog(self.window())
        self.setup_dialog.finished_setup.connect(self._on_setup_finished)
        self.setup_dialog.show()

    def _on_setup_finished(self, state: str) -> None:
        if state == "done":
            self.hide()
            self.backend_ready.emit()
