"""The dock's training panel: train a model from reference points or polygons over the inputs panel's layers.

Training is the Processing algorithm ``landfuse:train``, started and followed like a classification
(``jobs.prepare_run`` and ``jobs.JobPanel``). The panel holds the reference layer and its class field, the
architecture, variant and budget, Train/Cancel, progress, and the training report once done; the dock adds the
layers and bands of the inputs panel and the model file in the models folder, and selects the new model.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from qgis.core import (
    NULL,
    QgsCoordinateTransform,
    QgsCsException,
    QgsFeatureRequest,
    QgsMapLayerProxyModel,
    QgsProcessingFeatureSourceDefinition,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.gui import QgsCollapsibleGroupBox, QgsFieldComboBox, QgsMapLayerComboBox
from qgis.PyQt.QtCore import Qt, QUrl, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..algorithms.train import ARCHITECTURES, DEFAULT_MINUTES, VARIANTS, TrainAlgorithm
from ..i18n import tr
from ..provider import PROVIDER_ID
from .jobs import JobPanel, JobTexts, Run, prepare_run

ALGORITHM_ID = f"{PROVIDER_ID}:{TrainAlgorithm.NAME}"
ARCHITECTURE_NAMES = {"claire": "CLAIRE", "specsar_former": "SpecSAR-Former", "cloudseg": "CloudSeg", "edc": "EDC"}
COMBO_MINIMUM_CHARACTERS = 12  # layer and field names are elided below this: the dock stays narrow
MINIMUM_MINUTES = 0.05  # the algorithm's minimum time budget
UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w.-]+")


class TrainingPanel(JobPanel, QgsCollapsibleGroupBox):
    """Reference layer, class field, architecture, variant and budget; Train/Cancel, progress, status and report
    (the job controls of :class:`~.jobs.JobPanel`).

    ``train_requested`` and ``cancel_requested`` come from the buttons; ``finished(state, run, results)`` is
    emitted when a training ends (``results``: the algorithm's outputs, with ``MODEL_FILE``, ``REPORT`` and
    ``CURVES`` when done).
    """

    train_requested = pyqtSignal()
    cancel_requested = pyqtSignal()
    finished = pyqtSignal(str, object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Train from reference data"), parent)
        self.setObjectName("LandFuseTrainingPanel")  # the collapsed state is kept under this name
        self._build_fields()
        self._build_controls()
        self._layout()
        self.setCollapsed(True)  # an occasional task: the classification stays in view

    # ----------------------------------------------------------------- widgets
    def _build_fields(self) -> None:
        self.reference_combo = QgsMapLayerComboBox()
        self.reference_combo.setFilters(QgsMapLayerProxyModel.PointLayer | QgsMapLayerProxyModel.PolygonLayer)
        self.reference_combo.setAllowEmptyLayer(True)
        self.reference_combo.setLayer(None)
        self.reference_combo.setToolTip(
            tr(
                "Points or polygons drawn over the optical and SAR layers, each with its class in the class field. "
                "A categorized style on that field gives the classes' order, names and colours."
            )
        )
        self.selected_check = QCheckBox(tr("Selected features only"))
        self.selected_check.setToolTip(tr("Train on the selected reference features only."))
        self.field_combo = QgsFieldComboBox()
        self.field_combo.setToolTip(tr("The field that holds each feature's class (text or numbers)."))
        self.reference_combo.layerChanged.connect(self._on_reference_changed)
        self.architecture_combo = QComboBox()
        for architecture in ARCHITECTURES:
            self.architecture_combo.addItem(ARCHITECTURE_NAMES.get(architecture, architecture), architecture)
        self.architecture_combo.setToolTip(tr("The fusion model to train (see the LandFuse documentation)."))
        self.variant_combo = QComboBox()
        labels = {"lite": tr("lite: trains in minutes on a CPU"), "paper": tr("paper: the published size, wants a GPU")}
        for variant in VARIANTS:
            self.variant_combo.addItem(labels.get(variant, variant), variant)
        self.variant_combo.setToolTip(tr("The model's size: lite trains in minutes on a CPU, paper wants a GPU."))
        for combo in (self.reference_combo, self.field_combo, self.architecture_combo, self.variant_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(COMBO_MINIMUM_CHARACTERS)
        self.minutes_spin = QDoubleSpinBox()
        self.minutes_spin.setRange(MINIMUM_MINUTES, 24 * 60)
        self.minutes_spin.setDecimals(2)
        self.minutes_spin.setValue(DEFAULT_MINUTES)
        self.minutes_spin.setSuffix(tr(" min"))
        self.minutes_spin.setToolTip(tr("Training stops when this time is up, or after the epochs, whichever first."))
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(0, 100000)
        self.epochs_spin.setSpecialValueText(tr("until the time is up"))
        self.epochs_spin.setToolTip(tr("Passes over the reference data; 0: as many as the time budget allows."))
        for spin in (self.minutes_spin, self.epochs_spin):
            spin.lineEdit().setToolTip(spin.toolTip())  # the text field inside shows it too
        self.name_edit = QLineEdit()
        self.name_edit.setToolTip(
            tr(
                "The new model's name: it is saved as <name>.onnx in your models folder, with its training report "
                "and curves beside it. Empty: the name shown in grey."
            )
        )
        for changed in (
            self.reference_combo.layerChanged,
            self.architecture_combo.currentIndexChanged,
            self.variant_combo.currentIndexChanged,
        ):
            changed.connect(self._show_default_name)
        self._show_default_name()

    def _build_controls(self) -> None:
        self.train_button = QPushButton(tr("Train"))
        self.train_button.setToolTip(
            tr("Train a model on the reference features over the inputs' layers and bands, in the background.")
        )
        self.train_button.clicked.connect(self.train_requested)
        self._build_job_controls(
            self.train_button,
            JobTexts(
                waiting=tr("Waiting for the backend… (it runs one job at a time)"),
                cancelled=tr("Cancelled: no model was written."),
                failed=tr("the training failed"),
            ),
            cancel_tooltip=tr("Stop the training; no model is written."),
            progress_tooltip=tr("How far the training is."),
        )
        self.report_label = QLabel("")
        self.report_label.setWordWrap(True)
        self.report_label.setTextFormat(Qt.TextFormat.PlainText)
        self.report_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report_label.setToolTip(
            tr("Accuracy on the reference features held out from training (whole features, not pixels).")
        )
        self.links_label = QLabel("")
        self.links_label.setWordWrap(True)
        self.links_label.setTextFormat(Qt.TextFormat.RichText)
        self.links_label.setOpenExternalLinks(True)
        self.links_label.setToolTip(tr("Open the training curves (PNG) or the full training report (JSON)."))
        collapse = self.findChild(QToolButton, "collapseButton")
        if collapse is not None:
            collapse.setToolTip(tr("Show or hide the training panel."))

    def _layout(self) -> None:
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(tr("Reference layer"), self.reference_combo)
        form.addRow("", self.selected_check)
        form.addRow(tr("Class field"), self.field_combo)
        form.addRow(tr("Architecture"), self.architecture_combo)
        form.addRow(tr("Variant"), self.variant_combo)
        form.addRow(tr("Time budget"), self.minutes_spin)
        form.addRow(tr("Epochs"), self.epochs_spin)
        form.addRow(tr("Model name"), self.name_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        for widget in (self.progress, self.status_label, self.report_label, self.links_label):
            layout.addWidget(widget)

    def _on_reference_changed(self, layer: QgsVectorLayer | None) -> None:
        """Bind the field list to the layer; a categorized style's field is chosen first."""
        self.field_combo.setLayer(layer)
        renderer = layer.renderer() if isinstance(layer, QgsVectorLayer) else None
        if renderer is not None and renderer.type() == "categorizedSymbol":
            self.field_combo.setField(renderer.classAttribute())

    def _show_default_name(self, *_args) -> None:
        self.name_edit.setPlaceholderText(self.default_model_name())

    # ----------------------------------------------------------------- what a training needs
    def reference_layer(self) -> QgsVectorLayer | None:
        layer = self.reference_combo.currentLayer()
        return layer if isinstance(layer, QgsVectorLayer) else None

    def default_model_name(self) -> str:
        """``<reference layer>-<architecture>-<variant>``, as a file name."""
        layer = self.reference_layer()
        stem = layer.name() if layer is not None else tr("my-landcover")
        return safe_name(f"{stem}-{self.architecture_combo.currentData()}-{self.variant_combo.currentData()}")

    def model_name(self) -> str:
        """The name the new model file gets (without ``.onnx``): the one typed, else the default."""
        return safe_name(self.name_edit.text()) or self.default_model_name()

    def problem(self, optical: QgsRasterLayer | None, project: QgsProject) -> str | None:
        """Why a training cannot start with this reference layer and field over ``optical``, with what to do;
        ``None`` when it can (the backend checks the rest, e.g. at least two classes)."""
        layer, field = self.reference_layer(), self.field_combo.currentField()
        if layer is None or not layer.isValid():
            return tr("Choose a reference layer: points or polygons of your classes over the optical layer.")
        if not field:
            return tr("Choose the class field of {layer}: the field that holds each feature's class.").format(
                layer=layer.name()
            )
        selected = self.selected_check.isChecked()
        if selected and layer.selectedFeatureCount() == 0:
            return tr("No feature of {layer} is selected: select reference features, or untick {option}.").format(
                layer=layer.name(), option=tr("Selected features only")
            )
        if not class_values(layer, field, selected):
            return tr(
                "The class field {field} of {layer} is empty: fill it in for the reference features, or choose the "
                "field that holds the classes."
            ).format(field=field, layer=layer.name())
        if optical is not None and not features_over(layer, optical, selected, project):
            return tr(
                "No reference feature of {layer} lies over the optical layer {optical}: draw the features over the "
                "scene, or choose the reference layer of this area."
            ).format(layer=layer.name(), optical=optical.name())
        return None

    def parameters(self) -> dict:
        """The ``landfuse:train`` parameters of this panel: reference features, class field, model and budget."""
        layer = self.reference_layer()
        return {
            TrainAlgorithm.REFERENCE: QgsProcessingFeatureSourceDefinition(layer.id(), self.selected_check.isChecked()),
            TrainAlgorithm.CLASS_FIELD: self.field_combo.currentField(),
            TrainAlgorithm.ARCHITECTURE: self.architecture_combo.currentData(),
            TrainAlgorithm.VARIANT: self.variant_combo.currentData(),
            TrainAlgorithm.MINUTES: self.minutes_spin.value(),
            TrainAlgorithm.EPOCHS: self.epochs_spin.value(),
        }

    # ----------------------------------------------------------------- running
    def start(self, params: dict, model: Path, project: QgsProject) -> None:
        """Run ``landfuse:train`` with ``params`` in a background task; the model is written to ``model``."""
        self.report_label.setText("")
        self.links_label.setText("")
        self._start_job(prepare_run(ALGORITHM_ID, params, project, model.parent, model.stem))

    def _job_done(self, run: Run, results: dict) -> None:
        self.show_report(results)

    def show_report(self, results: dict) -> None:
        """Show a finished training: where the model is, its validation scores, links to its report and curves."""
        outputs = (TrainAlgorithm.MODEL_FILE, TrainAlgorithm.REPORT, TrainAlgorithm.CURVES)
        model, report_path, curves = (results.get(key) for key in outputs)
        report = read_report(report_path)
        self.set_status(
            tr("Done in {seconds:.0f} s: {model}, now selected in the model list.").format(
                seconds=report.get("seconds") or 0, model=model
            )
        )
        self.report_label.setText(report_summary(report))
        links = [
            f"<a href='{html.escape(QUrl.fromLocalFile(path).toString())}'>{html.escape(label)}</a>"
            for path, label in ((curves, tr("Loss and validation curves")), (report_path, tr("Training report")))
            if path and Path(path).is_file()
        ]
        self.links_label.setText(" · ".join(links))


def safe_name(text: str) -> str:
    """``text`` as a file name: runs of characters other than letters, digits, ``.``, ``-`` and ``_`` become ``-``."""
    return UNSAFE_NAME_CHARACTERS.sub("-", text.strip()).strip("-.")


def class_values(layer: QgsVectorLayer, field: str, selected: bool) -> set:
    """The class values of ``layer``'s reference features (the selected ones when ``selected``), empty ones left out."""
    index = layer.fields().lookupField(field)
    if index < 0:
        return set()
    if selected:
        request = QgsFeatureRequest().setSubsetOfAttributes([index]).setFlags(QgsFeatureRequest.NoGeometry)
        values = {feature.attribute(index) for feature in layer.getSelectedFeatures(request)}
    else:
        values = layer.uniqueValues(index)
    return {value for value in values if value is not None and value != NULL and str(value).strip()}


def features_over(layer: QgsVectorLayer, raster: QgsRasterLayer, selected: bool, project: QgsProject) -> bool:
    """Whether a reference feature's bounding box meets ``raster``'s extent (``True`` when it cannot be told)."""
    try:
        transform = QgsCoordinateTransform(raster.crs(), layer.crs(), project.transformContext())
        extent = transform.transformBoundingBox(raster.extent())
    except QgsCsException:
        return True
    request = QgsFeatureRequest().setFilterRect(extent).setNoAttributes().setLimit(1)
    features = layer.getSelectedFeatures(request) if selected else layer.getFeatures(request)
    return next(iter(features), None) is not None


def read_report(path: str | None) -> dict:
    """The training report JSON, or ``{}`` when there is none."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}


def report_summary(report: dict) -> str:
    """The validation scores of a training report: overall accuracy and mean IoU, then each class's accuracy."""
    validation = report.get("validation") or {}
    lines = []
    if validation.get("oa") is not None:
        lines.append(
            tr("Validation: overall accuracy {oa:.1f} %, mean IoU {miou:.2f}").format(
                oa=100 * validation["oa"], miou=validation.get("miou") or 0.0
            )
        )
    else:
        lines.append(tr("No validation: no reference feature was held out."))
    for entry in report.get("classes", []):
        accuracy = entry.get("validation_accuracy")
        counts = tr("{train} training, {validation} validation features").format(
            train=entry.get("train_features", 0), validation=entry.get("validation_features", 0)
        )
        if accuracy is None:
            lines.append(tr("{name}: not validated ({counts})").format(name=entry.get("name", "?"), counts=counts))
        else:
            lines.append(
                tr("{name}: {accuracy:.1f} % ({counts})").format(
                    name=entry.get("name", "?"), accuracy=100 * accuracy, counts=counts
                )
            )
    return "\n".join(lines)
