"""The LandFuse dock: pick an optical and a SAR layer and a model, run, and read the styled result.

A run is the Processing algorithm ``landfuse:classify`` in a ``QgsProcessingAlgRunnerTask`` (the same code
path as the toolbox, batch and the modeler); the UI only reacts to the task's signals, so it never blocks.
"""

from __future__ import annotations

import hashlib
import html
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsMapLayerProxyModel,
    QgsMessageLog,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
)
from qgis.gui import QgsDockWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QTextDocument
from qgis.PyQt.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from . import service, settings, tasks
from .algorithms.classify import DEMO_MODELS, ClassifyAlgorithm
from .provider import MODELS_FOLDER as DEMO_MODELS_FOLDER
from .provider import PROVIDER_ID
from .styling import apply_class_style, apply_confidence_style, apply_true_colour_style
from .widgets import BandMapping, ClassAreaChart, card_html, plain_tooltip, unsupported_reason

ALGORITHM_ID = f"{PROVIDER_ID}:{ClassifyAlgorithm.NAME}"
OTHER_MODEL = "Model file…"
LOG_TAG = "LandFuse"
PROJECT_SCOPE = "landfuse"  # the project entries keeping each layer's band mapping per model
MARKDOWN = QTextDocument.MarkdownFeatures(QTextDocument.MarkdownDialectGitHub | QTextDocument.MarkdownNoHTML)


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
    """One classification in flight: everything the task needs kept alive, and where its files go."""

    task: QgsProcessingAlgRunnerTask
    algorithm: object
    context: QgsProcessingContext
    feedback: RunFeedback
    folder: Path
    model: str
    cancelled: bool = False


class LandFuseDock(QgsDockWidget):
    """The dock panel. ``state`` is ``idle``, ``running``, ``done``, ``failed`` or ``cancelled``."""

    run_finished = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("LandFuse", parent)
        self.setObjectName("LandFuseDock")
        self.project = QgsProject.instance()
        self.state = "idle"
        self.card: dict | None = None
        self.report: dict = {}
        self.explanation = ""
        self.result_layers: list[QgsRasterLayer] = []
        self._run: Run | None = None
        self._card_requests = 0
        self._build()
        self.refresh_models()
        self.refresh_device()

    # ----------------------------------------------------------------- layout
    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)

        inputs = QGroupBox("Inputs")
        form = QFormLayout(inputs)
        self.optical_combo, self.optical_bands = self._layer_picker("optical")
        self.sar_combo, self.sar_bands = self._layer_picker("sar")
        form.addRow("Optical layer", self.optical_combo)
        form.addRow("Optical bands", self.optical_bands)
        form.addRow("SAR layer", self.sar_combo)
        form.addRow("SAR bands", self.sar_bands)
        self.optical_combo.setToolTip(
            "The optical raster (e.g. Sentinel-2): any raster GDAL opens. Web and database layers are listed but "
            "must be exported first."
        )
        self.sar_combo.setToolTip(
            "The SAR raster (e.g. Sentinel-1 VV/VH): any raster GDAL opens. It is resampled onto the optical grid."
        )
        layout.addWidget(inputs)

        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        self.model_combo = QComboBox()
        self.model_combo.activated.connect(self._on_model_activated)
        self.model_combo.currentIndexChanged.connect(self._request_card)
        self.card_view = QTextBrowser()
        self.card_view.setMaximumHeight(130)
        self.reconstruction_check = QCheckBox("Also write the cloud-free reconstruction")
        self.reconstruction_check.setEnabled(False)
        self.explain_check = QCheckBox("Explain the result (local language model)")
        self.explain_check.setChecked(True)
        self.device_label = QLabel("Device: checking…")
        self.device_label.setTextFormat(Qt.TextFormat.PlainText)
        model_layout.addWidget(self.model_combo)
        model_layout.addWidget(self.card_view)
        model_layout.addWidget(self.reconstruction_check)
        model_layout.addWidget(self.explain_check)
        model_layout.addWidget(self.device_label)
        layout.addWidget(model_box)

        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.start_run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_run)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)

        self.results_box = QGroupBox("Explanation")
        results_layout = QVBoxLayout(self.results_box)
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.chart = ClassAreaChart()
        self.explanation_view = QTextBrowser()
        self.explanation_view.setPlaceholderText("Run a classification to read what the map shows.")
        save_copy = QHBoxLayout()
        self.save_button = QPushButton("Save…")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy_explanation)
        for button in (self.save_button, self.copy_button):
            button.setEnabled(False)
            save_copy.addWidget(button)
        results_layout.addWidget(self.summary_label)
        results_layout.addWidget(self.chart)
        results_layout.addWidget(self.explanation_view)
        results_layout.addLayout(save_copy)
        layout.addWidget(self.results_box, 1)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(body)
        self.setWidget(self.scroll)

    def _layer_picker(self, kind: str) -> tuple[QgsMapLayerComboBox, BandMapping]:
        """A raster layer combo (every raster; the mapping explains the ones GDAL cannot read) and its band mapping."""
        combo = QgsMapLayerComboBox()
        combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        combo.setAllowEmptyLayer(True)
        combo.setLayer(None)
        mapping = BandMapping(kind)
        combo.layerChanged.connect(self._on_layer_changed)  # bound methods: Qt drops them with the dock
        mapping.edited.connect(self._on_mapping_edited)
        return combo, mapping

    # ----------------------------------------------------------------- band mapping
    def _on_layer_changed(self, layer: QgsRasterLayer | None) -> None:
        mapping = self.optical_bands if self.sender() is self.optical_combo else self.sar_bands
        self._refresh_mapping(mapping, layer)

    def _on_mapping_edited(self) -> None:
        self._save_mapping(self.sender())

    def _refresh_mapping(self, mapping: BandMapping, layer: QgsRasterLayer | None) -> None:
        """Rows for the card's bands of ``mapping``'s kind, restored from the project when chosen before."""
        card = self.card or {}
        specs = card.get(f"{mapping.kind}_bands") or []
        card_text = " ".join([str(card.get(key) or "") for key in ("training_data", "description")])
        card_text += " " + " ".join(spec["unit"] for spec in specs)
        saved = self._saved_mapping(mapping.kind, layer) if specs else None
        mapping.set_inputs(layer, specs, card_text, saved)

    def _mapping_key(self, kind: str, layer: QgsRasterLayer | None) -> str | None:
        """The project entry of ``layer``'s band mapping for the current model (a valid XML name)."""
        spec = self.model_spec()
        if layer is None or not spec:
            return None
        digest = hashlib.sha1(f"{kind}\n{layer.id()}\n{spec}".encode()).hexdigest()[:20]
        return f"band_mapping/m{digest}"

    def _saved_mapping(self, kind: str, layer: QgsRasterLayer | None) -> dict | None:
        key = self._mapping_key(kind, layer)
        if key is None:
            return None
        text, found = self.project.readEntry(PROJECT_SCOPE, key, "")
        try:
            return json.loads(text) if found and text else None
        except ValueError:
            return None

    def _save_mapping(self, mapping: BandMapping) -> None:
        key = self._mapping_key(mapping.kind, mapping.layer)
        if key is not None and mapping.specs:
            self.project.writeEntry(PROJECT_SCOPE, key, json.dumps(mapping.state()))

    def _refresh_mappings(self) -> None:
        self._refresh_mapping(self.optical_bands, self.optical_combo.currentLayer())
        self._refresh_mapping(self.sar_bands, self.sar_combo.currentLayer())

    # ----------------------------------------------------------------- models and device
    def refresh_models(self) -> None:
        """List the shipped demo models at once, then the models the worker finds (demo and models folder)."""
        self._fill_models([(name, name, "") for name in DEMO_MODELS])
        self._request_card()
        params = {"folder": settings.load().models_folder or None}
        tasks.start("LandFuse: models", lambda: service.call("list_models", params), self._on_models, self)

    def _on_models(self, result: dict | None, error: str) -> None:
        if result is None:
            return  # the device label already says why the backend is not available
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
        self.model_combo.addItem(OTHER_MODEL, "")
        self.model_combo.blockSignals(False)

    def set_model(self, spec: str) -> None:
        """Select a model by demo name or file path (a new file is added to the list)."""
        index = self.model_combo.findData(spec)
        if index < 0:
            self.model_combo.insertItem(self.model_combo.count() - 1, Path(spec).stem, spec)
            index = self.model_combo.count() - 2
        self.model_combo.setCurrentIndex(index)

    def model_spec(self) -> str:
        return self.model_combo.currentData() or ""

    def _on_model_activated(self, index: int) -> None:
        if self.model_combo.itemData(index) == "":
            path, _ = QFileDialog.getOpenFileName(self, "LandFuse model", "", "LandFuse models (*.onnx *.pt)")
            if path:
                self.set_model(path)

    def _request_card(self) -> None:
        spec = self.model_spec()
        self.card = None
        self.reconstruction_check.setEnabled(False)
        self._refresh_mappings()
        if not spec:
            self.card_view.setHtml("Choose a model file.")
            return
        self.card_view.setHtml(f"Reading the card of {html.escape(spec)}…")
        self._card_requests += 1
        ticket = self._card_requests
        params = {"model": spec, "folder": settings.load().models_folder or None}
        tasks.start(
            "LandFuse: model card",
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
        self._refresh_mappings()

    def refresh_device(self) -> None:
        """Ask the worker which device it can use (starts the worker in the background)."""
        self.device_label.setText("Device: checking…")
        tasks.start("LandFuse: device", service.hello, self._on_device, self)

    def _on_device(self, handshake: dict | None, error: str) -> None:
        if handshake is None:
            self.device_label.setText(f"Device: backend not available ({error})")
            return
        self.device_label.setText(f"Device: {service.device_label(handshake)}")

    # ----------------------------------------------------------------- run and cancel
    def start_run(self) -> None:
        """Start ``landfuse:classify`` on the chosen layers in a background task."""
        optical, sar = self.optical_combo.currentLayer(), self.sar_combo.currentLayer()
        if optical is None or sar is None:
            self._set_status("Choose an optical and a SAR layer first.", error=True)
            return
        reason = unsupported_reason(optical) or unsupported_reason(sar)
        if reason:
            self._set_status(reason, error=True)
            return
        spec = self.model_spec()
        if not spec:
            self._set_status("Choose a model.", error=True)
            return
        prefs = settings.load()
        folder = _new_run_folder(prefs.resolved_output_folder(), Path(spec).stem)
        params = {
            ClassifyAlgorithm.OPTICAL: optical.id(),  # a project layer: Processing then reads any GDAL source
            **band_parameters(
                self.optical_bands.selection(), ClassifyAlgorithm.OPTICAL_BANDS, ClassifyAlgorithm.OPTICAL_BAND_NAMES
            ),
            ClassifyAlgorithm.SAR: sar.id(),
            **band_parameters(
                self.sar_bands.selection(), ClassifyAlgorithm.SAR_BANDS, ClassifyAlgorithm.SAR_BAND_NAMES
            ),
            ClassifyAlgorithm.DEVICE: prefs.device,
            ClassifyAlgorithm.OUTPUT: str(folder / "landcover.tif"),
            ClassifyAlgorithm.CONFIDENCE: str(folder / "confidence.tif"),
            ClassifyAlgorithm.REPORT: str(folder / "report.json"),
            ClassifyAlgorithm.EXPLANATION: str(folder / "explanation.md") if self.explain_check.isChecked() else None,
        }
        if spec in DEMO_MODELS:
            params[ClassifyAlgorithm.MODEL] = spec
        else:
            params[ClassifyAlgorithm.MODEL_FILE] = spec
        if self.reconstruction_check.isEnabled() and self.reconstruction_check.isChecked():
            params[ClassifyAlgorithm.RECONSTRUCTION] = str(folder / "reconstruction.tif")
        if prefs.tile_size:
            params[ClassifyAlgorithm.TILE_SIZE] = prefs.tile_size

        algorithm = QgsApplication.processingRegistry().createAlgorithmById(ALGORITHM_ID)
        context = QgsProcessingContext()
        context.setProject(self.project)
        feedback = RunFeedback()
        feedback.progressChanged.connect(self._on_progress)
        feedback.message.connect(self._on_message)
        task = QgsProcessingAlgRunnerTask(algorithm, params, context, feedback)
        self._run = Run(task, algorithm, context, feedback, folder, Path(spec).stem)
        task.executed.connect(self._on_executed)
        self._set_running(True)
        self._set_status(f"Classifying with {Path(spec).stem}…")
        QgsApplication.taskManager().addTask(task)

    def cancel_run(self) -> None:
        """Stop the run: the worker job is cancelled and the run's files are removed."""
        if self._run is not None:
            self._run.cancelled = True
            self._set_status("Cancelling…")
            self._run.feedback.cancel()
            self._run.task.cancel()

    def _on_progress(self, value: float) -> None:
        self.progress.setValue(int(value))

    def _on_message(self, text: str) -> None:
        self.status_label.setText(text)

    def _on_executed(self, successful: bool, results: dict) -> None:
        run, self._run = self._run, None
        self._set_running(False)
        if run is None:
            return
        if successful and not run.cancelled:
            self._show_results(run, results)
            self.state = "done"
        else:
            shutil.rmtree(run.folder, ignore_errors=True)
            if run.cancelled or run.feedback.isCanceled():
                self.state = "cancelled"
                self._set_status("Cancelled: nothing was written.")
            else:
                self.state = "failed"
                message = run.feedback.errors[-1] if run.feedback.errors else "the classification failed"
                self._set_status(message, error=True)
                QgsMessageLog.logMessage(message, LOG_TAG)
        self.run_finished.emit(self.state)

    def _set_running(self, running: bool) -> None:
        self.state = "running" if running else self.state
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress.setValue(0)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setStyleSheet("color: #b00;" if error else "")
        self.status_label.setText(text)

    # ----------------------------------------------------------------- results
    def _show_results(self, run: Run, results: dict) -> None:
        self.report = json.loads(Path(results[ClassifyAlgorithm.REPORT]).read_text(encoding="utf-8"))
        classes = self.report.get("classes", [])
        optical_names = [band["name"] for band in (self.report.get("model") or {}).get("optical_bands", [])]
        group = self.project.layerTreeRoot().insertGroup(0, f"LandFuse {run.model} {time.strftime('%H:%M:%S')}")
        self.result_layers = []
        outputs = (
            (ClassifyAlgorithm.OUTPUT, f"Land cover ({run.model})", lambda layer: apply_class_style(layer, classes)),
            (ClassifyAlgorithm.CONFIDENCE, "Confidence (%)", apply_confidence_style),
            (
                ClassifyAlgorithm.RECONSTRUCTION,
                "Cloud-free reconstruction",
                lambda layer: apply_true_colour_style(layer, optical_names),
            ),
        )
        for key, name, style in outputs:
            path = results.get(key)
            if not path or not Path(path).is_file():
                continue
            layer = QgsRasterLayer(path, name)
            if style is not None:
                style(layer)
            self.project.addMapLayer(layer, False)
            group.addLayer(layer)
            self.result_layers.append(layer)
        self.set_explanation(results.get(ClassifyAlgorithm.EXPLANATION_TEXT) or "")
        self.chart.set_classes(classes)
        self.summary_label.setText(report_summary(self.report))
        seconds = (self.report.get("timing_s") or {}).get("total")
        self._set_status(f"Done in {seconds:.1f} s: results in {run.folder}" if seconds else f"Done: {run.folder}")
        self.progress.setValue(100)
        self.scroll.ensureWidgetVisible(self.results_box)

    def set_explanation(self, text: str) -> None:
        """Show the explanation's Markdown; HTML in it is shown as text, never rendered."""
        self.explanation = text
        self.explanation_view.document().setMarkdown(text, MARKDOWN)
        self.save_button.setEnabled(bool(text))
        self.copy_button.setEnabled(bool(text))

    def _on_save_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save explanation", "explanation.md", "Markdown (*.md *.txt)")
        if path:
            self.save_explanation(path)

    def save_explanation(self, path: str) -> None:
        """Write the explanation and the report's summary line to ``path``."""
        Path(path).write_text(f"{self.explanation}\n\n{report_summary(self.report)}\n", encoding="utf-8")

    def copy_explanation(self) -> None:
        QApplication.clipboard().setText(self.explanation)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.cancel_run()
        super().closeEvent(event)


def band_parameters(selection: list[int | str] | None, indexes: str, names: str) -> dict:
    """The classify parameters for a band mapping: ``indexes`` when every band is an index, else ``names``."""
    if selection is None:
        return {}
    if all(isinstance(band, int) for band in selection):
        return {indexes: selection}
    return {names: ",".join(str(band) for band in selection)}


def report_summary(report: dict) -> str:
    """One line of the report's trust numbers: device, valid, low-confidence and cloud shares."""
    parts = [f"Device: {report.get('device', '?')}"]
    for key, label in (
        ("valid_share", "valid"),
        ("mean_confidence", "mean confidence"),
        ("low_confidence_share", "low confidence"),
        ("cloud_share", "cloud in the optical input"),
    ):
        value = report.get(key)
        if value is not None:
            parts.append(f"{label} {100 * float(value):.1f} %")
    return " · ".join(parts)


def _new_run_folder(root: Path, model: str) -> Path:
    """A fresh folder ``<root>/<date-time>-<model>`` (suffixed when several runs start in one second)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        folder = root / (f"{stamp}-{model}" + (f"-{attempt}" if attempt else ""))
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a run folder under {root}")
