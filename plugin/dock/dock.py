"""The LandFuse dock: pick an optical and a SAR layer and a model, run, and read the styled result.

The dock is a column of panels, each its own module: ``banner`` (no backend found), ``inputs`` (layers and band
mapping), ``model`` (model, card, device, model files on demand), ``run`` (results folder, Run/Cancel, progress),
``results`` (explanation, chart) and ``training`` (train a model from reference features). This module is the one
place that wires them: a further panel is built in ``__init__``, placed in ``_panels`` and connected in ``_wire``.

The backend worker is not started with QGIS: the dock asks it nothing until the dock is first shown or a run
starts.
"""

from __future__ import annotations

import json
from pathlib import Path

from qgis.core import QgsProject, QgsRasterLayer
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import QTimer, pyqtSignal
from qgis.PyQt.QtWidgets import QFileDialog, QScrollArea, QVBoxLayout, QWidget

from .. import settings
from ..algorithms.classify import DEMO_MODELS, ClassifyAlgorithm
from ..algorithms.train import TrainAlgorithm
from ..i18n import tr
from .banner import BackendBanner, missing_backend
from .inputs import InputsPanel
from .jobs import Run
from .model import ModelPanel
from .outputs import add_result_layers, chosen_folder, default_folder, new_run_folder, output_root, remember_folder
from .results import ResultsPanel
from .run import RunPanel
from .training import TrainingPanel

START_FAILURES = ("[WORKER_START]", "[PROTOCOL]")  # error codes of a backend that cannot run at all


class LandFuseDock(QgsDockWidget):
    """The dock. ``state`` is ``idle``, ``running``, ``done``, ``failed`` or ``cancelled``; ``run_finished(state)``
    is emitted when a run ends, after its layers were added."""

    run_finished = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("LandFuse"), parent)
        self.setObjectName("LandFuseDock")
        self.project = QgsProject.instance()
        self.state = "idle"
        self.report: dict = {}
        self.result_layers: list[QgsRasterLayer] = []
        self.backend_started = False
        self.banner = BackendBanner()
        self.inputs_panel = InputsPanel(self.project)
        self.model_panel = ModelPanel()
        self.run_panel = RunPanel()
        self.results_panel = ResultsPanel()
        self.training_panel = TrainingPanel()
        self._build()
        self._wire()
        self.refresh_output_folder()

    def _panels(self) -> list[QWidget]:
        return [
            self.banner,
            self.inputs_panel,
            self.model_panel,
            self.run_panel,
            self.results_panel,
            self.training_panel,
        ]

    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        for panel in self._panels():
            layout.addWidget(panel)
        layout.setStretchFactor(self.results_panel, 1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(body)
        self.setWidget(self.scroll)

    def _wire(self) -> None:
        self.banner.backend_ready.connect(self._on_backend_ready)
        self.model_panel.card_changed.connect(self._on_card_changed)
        self.model_panel.backend_failed.connect(self._on_backend_failed)
        self.run_panel.run_requested.connect(self.start_run)
        self.run_panel.cancel_requested.connect(self.cancel_run)
        self.run_panel.finished.connect(self._on_run_finished)
        self.run_panel.folder_chosen.connect(self._on_folder_chosen)
        self.training_panel.train_requested.connect(self.start_training)
        self.training_panel.cancel_requested.connect(self.cancel_training)
        self.training_panel.finished.connect(self._on_training_finished)
        project = self.project
        for changed in (project.fileNameChanged, project.projectSaved, project.cleared, project.readProject):
            changed.connect(self.refresh_output_folder)  # bound method: Qt drops it with the dock

    # ----------------------------------------------------------------- the backend, on first need
    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh_output_folder()  # the options may have changed meanwhile
        if not self.backend_started:
            QTimer.singleShot(0, self._on_shown)  # after the caller is done: QGIS shows docks it then hides

    def _on_shown(self) -> None:
        if self.isVisible() and not self.backend_started:
            self.start_backend()

    def start_backend(self) -> bool:
        """Find the backend and start asking it (models, card, device); the banner says when there is none."""
        problem = missing_backend()
        if problem:
            self.banner.show_problem(problem)
            return False
        self.banner.hide()
        if not self.backend_started:
            self.backend_started = True
            self.model_panel.activate()
        return True

    def _on_backend_failed(self, error: str) -> None:
        if any(code in error for code in START_FAILURES):
            self.backend_started = False  # asked again the next time the dock is shown
            self.banner.show_problem(
                tr(
                    "The LandFuse backend did not start. Set it up again to repair it, or choose another backend "
                    "interpreter in Settings > Options > LandFuse.\n{error}"
                ).format(error=error)
            )

    def _on_backend_ready(self) -> None:
        self.backend_started = False  # a new interpreter: ask again
        self.start_backend()

    def _on_card_changed(self) -> None:
        self.inputs_panel.set_model(self.model_panel.card, self.model_panel.model_spec())

    def set_model(self, spec: str) -> None:
        """Select a model by demo name or file path."""
        self.model_panel.set_model(spec)

    # ----------------------------------------------------------------- results folder
    def refresh_output_folder(self, *_args) -> None:
        """Show the current project's results folder (its own, or the default)."""
        self.run_panel.show_folder(chosen_folder(self.project), default_folder(self.project))

    def _on_folder_chosen(self, path: str) -> None:
        remember_folder(self.project, Path(path) if path.strip() else None)

    def _output_root(self) -> Path | None:
        """The project's results folder; for an unsaved project without one, asked once and kept in the project."""
        self.refresh_output_folder()
        root = output_root(self.project)
        if root is None:
            chosen = QFileDialog.getExistingDirectory(
                self, tr("Folder for LandFuse results (kept in this project)"), str(Path.home())
            )
            if not chosen:
                return None
            root = Path(chosen)
            remember_folder(self.project, root)
            self.refresh_output_folder()
        return root

    # ----------------------------------------------------------------- run and cancel
    def start_run(self) -> None:
        """Start ``landfuse:classify`` on the chosen layers in a background task."""
        if self.run_panel.current is not None:
            return
        problem = self.inputs_panel.problem()
        spec = self.model_panel.model_spec()
        if problem is None and not spec:
            problem = tr("Choose a model.")
        if problem is None and not self.start_backend():
            problem = tr("Set up the backend first: see the banner at the top of the dock.")
        if problem:
            self.run_panel.set_status(problem, error=True)
            return
        root = self._output_root()
        if root is None:
            self.run_panel.set_status(tr("Choose a folder for the results first."), error=True)
            return
        try:
            folder = new_run_folder(root, Path(spec).stem)
        except (OSError, RuntimeError) as err:
            self.run_panel.set_status(
                tr("Cannot create a folder for the results in {root} ({error}): choose another results folder.").format(
                    root=root, error=err
                ),
                error=True,
            )
            return
        self.state = "running"
        self.run_panel.start(self._parameters(spec, folder), folder, Path(spec).stem, self.project)

    def _parameters(self, spec: str, folder: Path) -> dict:
        prefs = settings.load()
        explain = self.model_panel.explain_check.isChecked()
        params = {
            **self.inputs_panel.parameters(),
            ClassifyAlgorithm.DEVICE: prefs.device,
            ClassifyAlgorithm.OUTPUT: str(folder / "landcover.tif"),
            ClassifyAlgorithm.CONFIDENCE: str(folder / "confidence.tif"),
            ClassifyAlgorithm.REPORT: str(folder / "report.json"),
            ClassifyAlgorithm.EXPLANATION: str(folder / "explanation.md") if explain else None,
        }
        params[ClassifyAlgorithm.MODEL if spec in DEMO_MODELS else ClassifyAlgorithm.MODEL_FILE] = spec
        reconstruction = self.model_panel.reconstruction_check
        if reconstruction.isEnabled() and reconstruction.isChecked():
            params[ClassifyAlgorithm.RECONSTRUCTION] = str(folder / "reconstruction.tif")
        if prefs.tile_size:
            params[ClassifyAlgorithm.TILE_SIZE] = prefs.tile_size
        return params

    def cancel_run(self) -> None:
        """Stop the run: the worker job is cancelled and the run's files are removed."""
        self.run_panel.cancel()

    def _on_run_finished(self, state: str, run: Run, results: dict) -> None:
        if state == "done":
            self._show_results(run, results)
        self.state = state
        self.run_finished.emit(state)

    def _show_results(self, run: Run, results: dict) -> None:
        self.report = json.loads(Path(results[ClassifyAlgorithm.REPORT]).read_text(encoding="utf-8"))
        self.result_layers = add_result_layers(self.project, results, self.report, run.model)
        self.results_panel.show_run(self.report, results.get(ClassifyAlgorithm.EXPLANATION_TEXT) or "")
        seconds = (self.report.get("timing_s") or {}).get("total")
        if seconds:
            status = tr("Done in {seconds:.1f} s: results in {folder}").format(seconds=seconds, folder=run.folder)
        else:
            status = tr("Done: results in {folder}").format(folder=run.folder)
        self.run_panel.set_status(status)
        self.scroll.ensureWidgetVisible(self.results_panel)

    # ----------------------------------------------------------------- training
    def start_training(self) -> None:
        """Start ``landfuse:train`` on the inputs' layers and bands and the training panel's reference features, in
        a background task; the model goes to the models folder."""
        panel = self.training_panel
        if panel.current is not None:
            return
        optical = self.inputs_panel.optical_combo.currentLayer()
        problem = self.inputs_panel.problem() or panel.problem(optical, self.project)
        if problem is None and not self.start_backend():
            problem = tr("Set up the backend first: see the banner at the top of the dock.")
        if problem:
            panel.set_status(problem, error=True)
            return
        folder = self.model_panel.models_folder()  # the settings' folder, asked once when none is set
        if folder is None:
            panel.set_status(tr("Choose a folder for your models first: the trained model is saved there."), error=True)
            return
        model = folder / f"{panel.model_name()}.onnx"
        if model.exists():
            panel.set_status(
                tr("{path} already exists: give the new model another name, or remove that file first.").format(
                    path=model
                ),
                error=True,
            )
            return
        panel.start(self._training_parameters(model), model, self.project)

    def _training_parameters(self, model: Path) -> dict:
        """The inputs panel's layers and bands (its parameter names are the same in ``landfuse:train``), the
        training panel's choices, the device, and the model with its report and curves beside it."""
        return {
            **self.inputs_panel.parameters(),
            **self.training_panel.parameters(),
            TrainAlgorithm.DEVICE: settings.load().device,
            TrainAlgorithm.OUTPUT_MODEL: str(model),
            TrainAlgorithm.REPORT: str(model.with_suffix(".training.json")),
            TrainAlgorithm.CURVES: str(model.with_suffix(".training.png")),
        }

    def cancel_training(self) -> None:
        """Stop the training: the worker job is cancelled and no model is written."""
        self.training_panel.cancel()

    def _on_training_finished(self, state: str, _run: Run, results: dict) -> None:
        if state == "done":
            self.model_panel.set_model(results[TrainAlgorithm.MODEL_FILE])
            self.model_panel.refresh_models()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.cancel_run()
        self.cancel_training()
        super().closeEvent(event)
