"""The dock's model panel: which model classifies, its card, its precision, the device, and model files added on
demand.

The panel asks the backend nothing until :meth:`ModelPanel.activate` (the dock calls it when first shown): the
shipped demo models are listed at once, the models folder's, the cards and the device once the backend runs.
A model's lower-precision copies beside it (``<stem>.int8.onnx``, ``<stem>.fp16.onnx``) are not models of their
own in the list: they are offered as its precisions, with what their cards say they cost in accuracy.
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

from ...common.precision import FLOAT, float_path, is_variant_of_listed_model, precision_of_name, variants
from .. import service, settings, tasks
from ..algorithms.classify import DEMO_MODELS
from ..downloads import FetchProgress, FetchTask, is_url, model_file_name, profile_models_folder
from ..i18n import tr
from ..provider import MODELS_FOLDER as DEMO_MODELS_FOLDER
from ..widgets import card_html, plain_tooltip

COMBO_MINIMUM_CHARACTERS = 12


class ModelPanel(QGroupBox):
    """Model choice, card, precision, device line and output options.

    ``card`` is the chosen model's card once read (``None`` meanwhile); ``card_changed`` is emitted whenever it
    changes, ``backend_failed(message)`` when the backend does not answer the device question.
    :meth:`model_spec` is the file of the chosen precision (the model itself for float32).
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
        self.precision_choice = PrecisionChoice()
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
            self.precision_choice,
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
            if not is_variant_of_listed_model(m["path"])  # offered as a precision of its model
        ]
        current = self._chosen_model()
        self._fill_models(entries)
        if current:
            self.set_model(current)
        if self._chosen_model() != current:
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
        """Select a model by demo name or file path (a new file is added to the list); a lower-precision copy
        (``X.int8.onnx`` beside ``X.onnx``) selects ``X.onnx`` at that precision."""
        if is_variant_of_listed_model(spec):
            self.precision_choice.wanted = precision_of_name(spec)
            spec = str(float_path(spec))
        index = self.model_combo.findData(spec)
        if index < 0:
            self.model_combo.insertItem(self.model_combo.count() - 1, Path(spec).stem, spec)
            index = self.model_combo.count() - 2
        self.model_combo.setCurrentIndex(index)
        if self.precision_choice.paths:  # the same model as before: its copies are known already
            self.precision_choice.choose(self.precision_choice.wanted)

    def model_spec(self) -> str:
        """What runs: a demo model's name or a model file's path, the chosen precision's copy when it is not
        float32 (``""``: none chosen)."""
        copy = self.precision_choice.path()
        return str(copy) if copy is not None and self.precision_choice.precision() != FLOAT else self._chosen_model()

    def _chosen_model(self) -> str:
        """The model chosen in the list (its float32 file or demo name), whatever the precision."""
        return self.model_combo.currentData() or ""

    def _on_model_activated(self, index: int) -> None:
        if self.model_combo.itemData(index) == "":
            path, _ = QFileDialog.getOpenFileName(self, tr("LandFuse model"), "", tr("LandFuse models (*.onnx *.pt)"))
            if path:
                self.set_model(path)

    def _request_card(self) -> None:
        spec = self._chosen_model()
        self.card = None
        self.reconstruction_check.setEnabled(False)
        self.precision_choice.set_variants({})
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
        self.card_changed.emit()  # before the precision is offered: the band mapping stays the model's own
        self._offer_precisions(ticket, result.get("path"))

    def _offer_precisions(self, ticket: int, path: str | None) -> None:
        """Offer the lower-precision copies beside the model file at ``path`` and ask for their cards."""
        is_copy = "precision" in (self.card or {}).get("metrics", {})
        found = variants(path) if path and not is_copy else {}
        self.precision_choice.set_variants(found)
        folder = settings.load().models_folder or None
        for precision, copy in found.items():
            if precision == FLOAT:
                continue
            params = {"model": str(copy), "folder": folder}
            tasks.start(
                tr("LandFuse: model card"),
                lambda params=params: service.call("model_card", params),
                lambda result, error, precision=precision: self._on_copy_card(ticket, precision, result, error),
                self,
            )

    def _on_copy_card(self, ticket: int, precision: str, result: dict | None, error: str) -> None:
        if ticket == self._card_requests:
            self.precision_choice.set_card(precision, result["card"] if result is not None else error)

    def refresh_device(self) -> None:
        """Ask the worker which device it can use (this starts the worker), in the background."""
        self.device_label.setText(tr("Device: checking…"))
        tasks.start(tr("LandFuse: device"), service.hello, self._on_device, self)

    def _on_device(self, handshake: dict | None, error: str) -> None:
        if handshake is None:
            self.device_label.setText(tr("Device: backend not available ({error})").format(error=error))
            self.backend_failed.emit(error)
            return
        device = service.device_label(handshake)
        self.device_label.setText(tr("Device: {device}").format(device=device))
        self.precision_choice.set_gpu(device != "CPU" and settings.load().use_gpu)

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
        folder = self.models_folder()
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

    def models_folder(self) -> Path | None:
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


class PrecisionChoice(QWidget):
    """The precision a model runs at: float32, or a lower-precision copy found beside the model file, with the
    accuracy cost its card records (the check against float32 made when the copy was written) and its file size.

    Hidden while the model has no copy. Until the user picks one, the copy suggested for the device is chosen when
    present: int8 on the CPU, fp16 on a GPU.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths: dict[str, Path] = {}
        self.cards: dict[str, dict | str] = {}  # precision -> the copy's card, or why it could not be read
        self.gpu = False
        self.user_chose = False
        self.wanted: str | None = None  # a precision asked for by file name before the copies were found
        self.combo = QComboBox()
        self.combo.setToolTip(
            tr(
                "Run the model as exported (float32) or a lower-precision copy written beside it with 'landfuse "
                "quantize': int8 is smaller and can be faster on CPUs, fp16 is for GPUs."
            )
        )
        self.combo.currentIndexChanged.connect(self._show_cost)
        self.combo.activated.connect(self._on_user_choice)
        self.cost_label = QLabel()
        self.cost_label.setWordWrap(True)
        self.cost_label.setTextFormat(Qt.TextFormat.PlainText)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Precision")))
        row.addWidget(self.combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.cost_label)
        self.set_variants({})

    def set_variants(self, paths: dict[str, Path]) -> None:
        """Offer ``paths`` (precision -> file, float32 first: ``common.precision.variants``); their cards follow
        through :meth:`set_card`."""
        self.paths, self.cards, self.user_chose = dict(paths), {}, False
        self._fill(self.suggested())
        if self.paths:
            self.choose(self.wanted)

    def choose(self, precision: str | None) -> None:
        """Select ``precision`` as the user's choice when the model has it (``None``: nothing to do)."""
        if precision in self.paths:
            self.user_chose = True
            self._fill(precision)
        self.wanted = None

    def set_card(self, precision: str, card: dict | str) -> None:
        """The card of the ``precision`` copy, or the message saying why it could not be read."""
        self.cards[precision] = card
        self._show_cost()

    def set_gpu(self, gpu: bool) -> None:
        """Whether the backend computes on a GPU (fp16 is then suggested instead of int8)."""
        self.gpu = gpu
        self._fill(self.precision() if self.user_chose else self.suggested())

    def suggested(self) -> str:
        return "fp16" if self.gpu else "int8"

    def precision(self) -> str:
        return self.combo.currentData() or FLOAT

    def path(self) -> Path | None:
        """The file of the chosen precision (``None`` before a model's copies are known)."""
        return self.paths.get(self.precision())

    def _on_user_choice(self, _index: int) -> None:
        self.user_chose = True

    def _fill(self, chosen: str) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        for precision in self.paths:
            if precision != self.suggested():
                text = precision
            elif self.gpu:
                text = tr("{precision} (suggested on a GPU)").format(precision=precision)
            else:
                text = tr("{precision} (suggested on the CPU)").format(precision=precision)
            self.combo.addItem(text, precision)
        self.combo.setCurrentIndex(max(self.combo.findData(chosen), 0))
        self.combo.blockSignals(False)
        self.setVisible(len(self.paths) > 1)
        self._show_cost()

    def _show_cost(self) -> None:
        self.cost_label.setText(self.cost(self.precision()))

    def cost(self, precision: str) -> str:
        """What the ``precision`` copy costs, in the numbers its card and its file hold."""
        if precision == FLOAT or precision not in self.paths:
            return tr("float32: the model as exported, full precision.")
        card = self.cards.get(precision)
        if card is None:
            return tr("{precision}: reading the card of {file}…").format(
                precision=precision, file=self.paths[precision].name
            )
        if isinstance(card, str):
            return tr("{precision}: the card of the copy could not be read ({error}).").format(
                precision=precision, error=card
            )
        entry = card.get("metrics", {}).get("precision")
        check = entry.get("check", {}) if isinstance(entry, dict) else {}
        if "agreement" in check:
            numbers = {
                "precision": precision,
                "agreement": f"{100 * check['agreement']:.2f}",
                "pixels": check.get("pixels", "?"),
                "on": check.get("on", "?"),
            }
            if "miou_difference_points" in check:
                text = tr(
                    "{precision}: class maps agree with float32 on {agreement} % of {pixels} check pixels, "
                    "mIoU {difference} points, measured when the copy was written on {on}."
                ).format(difference=f"{check['miou_difference_points']:+.2f}", **numbers)
            else:
                text = tr(
                    "{precision}: class maps agree with float32 on {agreement} % of {pixels} check pixels, "
                    "measured when the copy was written on {on}."
                ).format(**numbers)
        elif isinstance(entry, dict):
            reason = check.get("skipped") or tr("none recorded")
            text = tr("{precision}: not checked against float32 ({reason}).").format(precision=precision, reason=reason)
        else:
            text = tr("{precision}: its card records no precision: it may not be a copy of this model.").format(
                precision=precision
            )
        sizes = self._megabytes(precision), self._megabytes(FLOAT)
        if None not in sizes:
            text += " " + tr("File: {size} MB instead of {float_size} MB.").format(size=sizes[0], float_size=sizes[1])
        return text

    def _megabytes(self, precision: str) -> str | None:
        try:
            return f"{self.paths[precision].stat().st_size / 1e6:.1f}"
        except OSError:
            return None


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
