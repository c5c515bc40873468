"""The dock's model panel: which model classifies, its card, the device, and model files added on demand.

The panel asks the backend nothing until :meth:`ModelPanel.activate` (the dock calls it when first shown): the
shipped demo models are listed at once, the models folder's, the cards and the device once the backend runs.
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path

from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .. import service, settings, tasks
from ..algorithms.classify import DEMO_MODELS
from ..downloads import FetchProgress, FetchTask, is_url, model_file_name, profile_models_folder
from ..i18n import tr
from ..provider import MODELS_FOLDER as DEMO_MODELS_FOLDER
from ..widgets import card_html, plain_tooltip

COMBO_MINIMUM_CHARACTERS = 12


class ModelPanel(QGroupBox):
    """Model choice, card, device line and output options.

    ``card`` is the chosen model's card once read (``None`` meanwhile); ``card_changed`` is emitted whenever it
    changes, ``backend_failed(message)`` when the backend does not answer the device question.
    """

    card_changed = pyqtSignal()
    backend_failed = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Model"), parent)
        self.card: dict | None = None
        self.active = False
        self._card_requests = 0
        self.add_dialog: AddModelDialog | None = None

        self.model_combo = QComboBox()
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(COMBO_MINIMUM_CHARACTERS)
        self.model_combo.setToolTip(
            tr(
                "The model that classifies: a shipped demonstration model, one of your models folder, or any "
                "model file ('Model file…')."
            )
        )
        self.model_combo.activated.connect(self._on_model_activated)
        self.model_combo.currentIndexChanged.connect(self._request_card)
        self.add_button = QPushButton(tr("Add model from URL or file…"))
        self.add_button.setToolTip(
            tr("Copy a .onnx or .pt model file into your models folder, or download one from a URL.")
        )
        self.add_button.clicked.connect(self.open_add_dialog)
        self.fetch = FetchProgress()
        self.fetch.finished.connect(self._on_fetched)
        self.card_view = QTextBrowser()
        self.card_view.setMaximumHeight(130)
        self.card_view.setToolTip(tr("The model card: the bands the model expects, its classes and training data."))
        self.reconstruction_check = QCheckBox(tr("Write the cloud-free image"))
        self.reconstruction_check.setToolTip(
            tr("CloudSeg and EDC models also reconstruct the optical image without clouds; tick to write it.")
        )
        self.reconstruction_check.setEnabled(False)
        self.explain_check = QCheckBox(tr("Explain the result"))
        self.explain_check.setToolTip(
            tr(
                "Write a short explanation of the map with a local language model; every number in it is checked "
                "against the report. Phi-3 can be set up in Settings > Options > LandFuse."
            )
        )
        self.explain_check.setChecked(True)
        self.device_label = QLabel(tr("Device: checked when the backend starts"))
        self.device_label.setWordWrap(True)
        self.device_label.setTextFormat(Qt.TextFormat.PlainText)
        self.device_label.setToolTip(tr("Where the backend computes: the GPU it can use, or the CPU."))

        layout = QVBoxLayout(self)
        for widget in (
            self.model_combo,
            self.add_button,
            self.fetch,
            self.card_view,
            self.reconstruction_check,
            self.explain_check,
            self.device_label,
        ):
            layout.addWidget(widget)
        self._fill_models([(name, name, "") for name in DEMO_MODELS])
        self._request_card()

    # ----------------------------------------------------------------- the backend's answers
    def activate(self) -> None:
        """Start asking the backend: the models it finds, the chosen model's card, the device."""
        self.active = True
        self.refresh_models()
        self._request_card()
        self.refresh_device()

    def refresh_models(self) -> None:
        """Ask the worker for its models (the demo models and the models folder's), in the background."""
        if not self.active:
            return
        params = {"folder": settings.load().models_folder or None}
        tasks.start(tr("LandFuse: models"), lambda: service.call("list_models", params), self._on_models, self)

    def _on_models(self, result: dict | None, error: str) -> None:
        if result is None:
            return  # the device line and the banner say why the backend is not available
        entries = [
            (m["name"], m["name"] if Path(m["path"]).parent == DEMO_MODELS_FOLDER else m["path"], m["description"])
            for m in result["models"]
        ]
        current = self.model_spec()
        self._fill_models(entries)
        if current:
            self.set_model(current)
        if self.model_spec() != current:
            self._request_card()

    def _fill_models(self, entries: list[tuple[str, str, str]]) -> None:
        """``entries``: (label, demo name or file path, description) per model; "Model file…" comes last."""
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for label, spec, description in entries:
            self.model_combo.addItem(label, spec)
            tooltip = plain_tooltip(description) if description else ""
            self.model_combo.setItemData(self.model_combo.count() - 1, tooltip, Qt.ItemDataRole.ToolTipRole)
        self.model_combo.addItem(tr("Model file…"), "")
        self.model_combo.blockSignals(False)

    def set_model(self, spec: str) -> None:
        """Select a model by demo name or file path (a new file is added to the list)."""
        index = self.model_combo.findData(spec)
        if index < 0:
            self.model_combo.insertItem(self.model_combo.count() - 1, Path(spec).stem, spec)
            index = self.model_combo.count() - 2
        self.model_combo.setCurrentIndex(index)

    def model_spec(self) -> str:
        """The chosen model: a demo model's name or a model file's path (``""``: none chosen)."""
        return self.model_combo.currentData() or ""

    def _on_model_activated(self, index: int) -> None:
        if self.model_combo.itemData(index) == "":
            path, _ = QFileDialog.getOpenFileName(self, tr("LandFuse model"), "", tr("LandFuse models (*.onnx *.pt)"))
            if path:
                self.set_model(path)

    def _request_card(self) -> None:
        spec = self.model_spec()
        self.card = None
        self.reconstruction_check.setEnabled(False)
        self.card_changed.emit()
        if not spec:
            self.card_view.setPlainText(tr("Choose a model file."))
            return
        if not self.active:
            self.card_view.setPlainText(tr("The card of {model} is read when the backend starts.").format(model=spec))
            return
        self.card_view.setPlainText(tr("Reading the card of {model}…").format(model=spec))
        self._card_requests += 1
        ticket = self._card_requests
        params = {"model": spec, "folder": settings.load().models_folder or None}
        tasks.start(
            tr("LandFuse: model card"),
            lambda: service.call("model_card", params),
            lambda result, error: self._on_card(ticket, result, error),
            self,
        )

    def _on_card(self, ticket: int, result: dict | None, error: str) -> None:
        if ticket != self._card_requests:
            return  # the user picked another model meanwhile
        if result is None:
            self.card_view.setHtml(f"<span style='color:#b00'>{html.escape(error)}</span>")
            return
        self.card = result.get("card", result)
        self.card_view.setHtml(card_html(self.card))
        self.reconstruction_check.setEnabled("reconstruction" in self.card.get("outputs", []))
        self.card_changed.emit()

    def refresh_device(self) -> None:
        """Ask the worker which device it can use (this starts the worker), in the background."""
        self.device_label.setText(tr("Device: checking…"))
        tasks.start(tr("LandFuse: device"), service.hello, self._on_device, self)

    def _on_device(self, handshake: dict | None, error: str) -> None:
        if handshake is None:
            self.device_label.setText(tr("Device: backend not available ({error})").format(error=error))
            self.backend_failed.emit(error)
            return
        self.device_label.setText(tr("Device: {device}").format(device=service.device_label(handshake)))

    # ----------------------------------------------------------------- model files on demand
    def open_add_dialog(self) -> None:
        """Ask for a model file or URL (non-blocking); OK adds it with :meth:`add_model`."""
        self.add_dialog = AddModelDialog(self)
        self.add_dialog.accepted.connect(lambda: self.add_model(self.add_dialog.source()))
        self.add_dialog.open()

    def add_model(self, source: str) -> None:
        """Copy a model file into the models folder, or download a URL there, in the background; when done
        the model list refreshes with the new model selected. Nothing is fetched when something is wrong."""
        source = source.strip()
        try:
            name = model_file_name(source)
        except ValueError as err:
            self.fetch.show_message(str(err), error=True)
            return
        if not is_url(source) and not Path(source).is_file():
            self.fetch.show_message(tr("There is no file {path}.").format(path=source), error=True)
            return
        if self.fetch.running:
            self.fetch.show_message(tr("Another model is being fetched: wait for it or cancel it."), error=True)
            return
        folder = self._models_folder()
        if folder is None:
            return
        dest = folder / name
        if not is_url(source) and Path(source).resolve() == dest.resolve():
            self._on_fetched("done", str(dest))  # already in the models folder
            return
        if dest.exists():
            self.fetch.show_message(
                tr("{path} already exists: remove it, or rename the new model file first.").format(path=dest),
                error=True,
            )
            return
        self.fetch.start(FetchTask(source, dest))

    def _models_folder(self) -> Path | None:
        """The models folder from the settings; when none is set, asked once (offering the profile's) and saved."""
        current = settings.load()
        if current.models_folder:
            return Path(current.models_folder)
        offered = profile_models_folder()
        offered.mkdir(parents=True, exist_ok=True)
        chosen = QFileDialog.getExistingDirectory(self, tr("Folder for your LandFuse models"), str(offered))
        if not chosen:
            return None
        settings.save(replace(settings.load(), models_folder=chosen))
        return Path(chosen)

    def _on_fetched(self, state: str, path: str) -> None:
        if state == "done":
            self.set_model(path)
            self.refresh_models()


class AddModelDialog(QDialog):
    """Asks for a model: a URL or a file path typed or pasted, or a file picked with Browse…."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Add a LandFuse model"))
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText(tr("https://…/model.onnx or a file path"))
        self.source_edit.setToolTip(
            tr("A .onnx or .pt model file, or a URL to one: it is copied or downloaded into your models folder.")
        )
        browse = QPushButton(tr("Browse…"))
        browse.setToolTip(tr("Pick a model file on this computer."))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.source_edit, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        note = QLabel(tr("Nothing is downloaded until you press OK."))
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def source(self) -> str:
        return self.source_edit.text().strip()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("LandFuse model"), "", tr("LandFuse models (*.onnx *.pt)"))
        if path:
            self.source_edit.setText(path)
