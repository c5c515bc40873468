"""Processing algorithm ``landfuse:batch``: many optical + SAR scenes -> per-scene maps, merged report, mosaic.

A batch is not one worker job: it runs the backend's own driver, ``python -m landfuse.backend batch``,
which starts (or joins) a Ray cluster. The algorithm starts that command with the backend interpreter,
isolated like the worker (``worker_client.worker_command``), reads its JSON progress lines into the
Processing feedback, and on Cancel sends it SIGTERM: running scenes stop within one batch of tiles,
finished scenes stay, and the next run resumes from the manifest in the output folder.
"""

from __future__ import annotations

import csv
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputRasterLayer,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
    QgsProcessingUtils,
)

from .. import settings
from ..paths import PLUGIN_ROOT
from ..worker_client import worker_command, worker_environment, worker_folder
from .base import LandFuseAlgorithm, read_text
from .classify import DEMO_MODELS, DEVICES

STOP_GRACE_S = 120.0  # after Cancel, how long running scenes may take to stop before the batch is killed
POLL_S = 0.2
STDERR_LINES = 40

HELP = """Classifies many optical + SAR scene pairs with one model, on a Ray cluster: by default a local one \
started for the run (one worker per GPU, else one per CPU core), or an existing cluster given by its address. \
Each worker keeps the model loaded and classifies one scene at a time.

<b>Scenes</b>, give one of: a <b>scene table</b> (CSV with columns name, optical, sar and optionally \
optical_bands, sar_bands; relative paths are relative to the table), a <b>scene folder</b> (one sub-folder per \
scene holding optical.tif and/or sar.tif) or a <b>footprint layer</b> whose features carry the file paths in \
the chosen fields.
<b>Model</b>, <b>Model file</b>, <b>Device</b>, tile size, overlap and batch size: as for Classify land cover.
<b>Confidence maps</b>: also write each scene's confidence map.
<b>Block size</b> (advanced): split every scene into blocks of this many pixels (a multiple of 256) that the \
workers classify in parallel; the assembled map equals an unsplit run. For mosaics too large for one machine.
<b>Cluster address</b> (advanced): e.g. ray://head:10001; every node needs the LandFuse backend environment and \
must reach the input and output paths. <b>Workers</b> (advanced): how many to start.

Results in the <b>output folder</b>: one sub-folder per scene (landcover.tif with its style, confidence.tif, \
report.json), batch-report.json (class areas summed over the scenes and one row per scene with its state and \
error code), mosaic.vrt (the class maps with the class style) and, when asked, explanation.md. A scene that \
fails is reported with its error code and does not stop the others. Running the algorithm again with the same \
output folder skips the finished scenes and retries the others; Cancel keeps the finished scenes."""


class BatchAlgorithm(LandFuseAlgorithm):
    NAME = "batch"
    DISPLAY_NAME = "Classify many scenes"
    HELP = HELP

    SCENES = "SCENES"
    FOLDER = "FOLDER"
    FOOTPRINTS = "FOOTPRINTS"
    NAME_FIELD = "NAME_FIELD"
    OPTICAL_FIELD = "OPTICAL_FIELD"
    SAR_FIELD = "SAR_FIELD"
    MODEL = "MODEL"
    MODEL_FILE = "MODEL_FILE"
    DEVICE = "DEVICE"
    CONFIDENCE = "CONFIDENCE"
    EXPLAIN = "EXPLAIN"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    BATCH_SIZE = "BATCH_SIZE"
    BLOCKS = "BLOCKS"
    ADDRESS = "ADDRESS"
    WORKERS = "WORKERS"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    REPORT = "REPORT"
    MOSAIC = "MOSAIC"
    DONE = "DONE"
    FAILED = "FAILED"
    PENDING = "PENDING"
    EXPLANATION_TEXT = "EXPLANATION_TEXT"

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 (QGIS's name)
        prefs = settings.load()
        self.addParameter(
            QgsProcessingParameterFile(
                self.SCENES, "Scene table (CSV)", QgsProcessingParameterFile.File, "csv", None, True, "CSV (*.csv)"
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(self.FOLDER, "Scene folder", QgsProcessingParameterFile.Folder, optional=True)
        )
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                self.FOOTPRINTS, "Footprint layer (file paths in its fields)", [QgsProcessing.TypeVector], None, True
            )
        )
        for name, description, default in (
            (self.NAME_FIELD, "Scene name field", "name"),
            (self.OPTICAL_FIELD, "Optical file field", "optical"),
            (self.SAR_FIELD, "SAR file field", "sar"),
        ):
            self.addParameter(QgsProcessingParameterField(name, description, default, self.FOOTPRINTS, optional=True))
        self.addParameter(
            QgsProcessingParameterEnum(self.MODEL, "Model", list(DEMO_MODELS), False, DEMO_MODELS[0], False, True)
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.MODEL_FILE,
                "Model file (overrides Model)",
                QgsProcessingParameterFile.File,
                optional=True,
                fileFilter="LandFuse models (*.onnx *.pt)",
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.DEVICE, "Device", list(DEVICES), False, prefs.device, False, True)
        )
        self.addParameter(QgsProcessingParameterBoolean(self.CONFIDENCE, "Confidence maps", False))
        self.addParameter(QgsProcessingParameterBoolean(self.EXPLAIN, "Explain the merged report", False))
        for param in (
            _integer(self.TILE_SIZE, "Tile size (pixels)", prefs.tile_size or None, 32),
            _integer(self.OVERLAP, "Tile overlap (pixels)", None, 0),
            _integer(self.BATCH_SIZE, "Batch size (tiles)", None, 1),
            _integer(self.BLOCKS, "Block size (pixels, multiple of 256)", None, 256),
            QgsProcessingParameterString(self.ADDRESS, "Cluster address (empty: a local cluster)", None, False, True),
            _integer(self.WORKERS, "Workers", None, 1),
        ):
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(param)
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, "Output folder"))
        self.addOutput(QgsProcessingOutputFile(self.REPORT, "Batch report"))
        self.addOutput(QgsProcessingOutputRasterLayer(self.MOSAIC, "Land cover mosaic"))
        self.addOutput(QgsProcessingOutputNumber(self.DONE, "Scenes done"))
        self.addOutput(QgsProcessingOutputNumber(self.FAILED, "Scenes failed"))
        self.addOutput(QgsProcessingOutputNumber(self.PENDING, "Scenes left for the next run"))
        self.addOutput(QgsProcessingOutputString(self.EXPLANATION_TEXT, "Explanation text"))

    def processAlgorithm(self, parameters, context, feedback) -> dict:  # noqa: N802 (QGIS's name)
        folder = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        argv = ["batch", *self._scene_arguments(parameters, context), "--out", folder, "--progress", "json"]
        argv += self._options(parameters, context)
        python = Path(settings.load().resolved_interpreter())
        feedback.pushInfo(f"Running: {python} -m landfuse.backend {' '.join(argv)}")
        result = _run_batch_command(worker_command(python, PLUGIN_ROOT) + argv, feedback)
        for failure in result["failures"]:
            feedback.reportError(f"Scene {failure['name']} failed [{failure['code']}]: {failure['message']}")
        if result["cancelled"]:
            feedback.pushWarning(
                f"Cancelled: {result['done']} scenes are done and kept, {result['pending']} are left for the next run "
                "with the same output folder."
            )
        outputs = result["outputs"]
        if outputs.get("mosaic"):
            details = QgsProcessingContext.LayerDetails("Land cover mosaic", context.project(), self.MOSAIC)
            context.addLayerToLoadOnCompletion(outputs["mosaic"], details)
        return {
            self.OUTPUT_FOLDER: folder,
            self.REPORT: outputs["report"],
            self.MOSAIC: outputs.get("mosaic"),
            self.DONE: result["done"],
            self.FAILED: result["failed"],
            self.PENDING: result["pending"],
            self.EXPLANATION_TEXT: read_text(outputs.get("explanation")),
        }

    def _scene_arguments(self, parameters, context) -> list[str]:
        """The command-line arguments naming the scenes: exactly one of the table, the folder or the layer."""
        table = self.parameterAsFile(parameters, self.SCENES, context)
        scene_folder = self.parameterAsFile(parameters, self.FOLDER, context)
        layer = self.parameterAsVectorLayer(parameters, self.FOOTPRINTS, context)
        given = [what for what, value in (("table", table), ("folder", scene_folder), ("layer", layer)) if value]
        if len(given) != 1:
            raise QgsProcessingException(
                "Give the scenes in exactly one way: a scene table, a scene folder or a footprint layer "
                f"(given: {', '.join(given) or 'none'})."
            )
        if table:
            return ["--scenes", table]
        if scene_folder:
            return ["--folder", scene_folder]
        fields = {
            role: self.parameterAsString(parameters, name, context)
            for role, name in (("name", self.NAME_FIELD), ("optical", self.OPTICAL_FIELD), ("sar", self.SAR_FIELD))
        }
        return ["--scenes", write_scene_table(layer, fields)]

    def _options(self, parameters, context) -> list[str]:
        model_file = self.parameterAsFile(parameters, self.MODEL_FILE, context)
        arguments = [
            "--model",
            model_file or self.parameterAsEnumString(parameters, self.MODEL, context),
            "--device",
            self.parameterAsEnumString(parameters, self.DEVICE, context),
        ]
        models_folder = settings.load().models_folder
        if models_folder and not model_file:
            arguments += ["--models-dir", models_folder]
        for flag, name in (("--confidence", self.CONFIDENCE), ("--explain", self.EXPLAIN)):
            if self.parameterAsBoolean(parameters, name, context):
                arguments.append(flag)
        for flag, name in (
            ("--tile-size", self.TILE_SIZE),
            ("--overlap", self.OVERLAP),
            ("--batch-size", self.BATCH_SIZE),
            ("--blocks", self.BLOCKS),
            ("--workers", self.WORKERS),
        ):
            value = parameters.get(name, self.parameterDefinition(name).defaultValue())
            if value is not None and value != "":
                arguments += [flag, str(self.parameterAsInt(parameters, name, context))]
        address = self.parameterAsString(parameters, self.ADDRESS, context).strip()
        if address:
            arguments += ["--address", address]
        return arguments


def write_scene_table(layer, fields: dict[str, str]) -> str:
    """A scene table (CSV) from the features of a footprint layer; relative paths are taken relative to the
    layer's file, a feature without a name is named ``scene-<feature id>``. fields: role ("name", "optical",
    "sar") -> field name; fields the layer does not have are left out (a model may use one modality only)."""
    names = set(layer.fields().names())
    present = {role: field for role, field in fields.items() if field and field in names}
    if not {"optical", "sar"} & set(present):
        raise QgsProcessingException(
            f"The footprint layer has the fields {sorted(names)}, none of them the optical ({fields['optical']!r}) "
            f"or SAR ({fields['sar']!r}) file field; choose the fields holding the file paths."
        )
    source_file = Path(layer.source().split("|")[0])
    base = source_file.parent if source_file.is_file() else Path.cwd()
    path = QgsProcessingUtils.generateTempFilename("scenes.csv")
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["name", "optical", "sar"])
        for feature in layer.getFeatures():
            row = [_attribute(feature, present.get("name")) or f"scene-{feature.id()}"]
            for role in ("optical", "sar"):
                value = _attribute(feature, present.get(role))
                row.append(str(base / value) if value and not _is_dataset_name(value) else value)
            writer.writerow(row)
    return path


def _attribute(feature, field: str | None) -> str:
    value = feature[field] if field else None
    return "" if value is None or str(value) == "NULL" else str(value).strip()


def _is_dataset_name(value: str) -> bool:
    """Absolute paths and GDAL dataset names (``/vsi...``, ``DRIVER:...``) are kept as they are."""
    return Path(value).is_absolute() or value.startswith("/vsi") or (":" in value and len(value.split(":")[0]) > 1)


def _run_batch_command(argv: list[str], feedback) -> dict:
    """Run the backend's batch command, relaying its JSON progress lines to ``feedback`` and Cancel to it as
    SIGTERM; returns its final ``result`` line. Raises ``QgsProcessingException`` when it ends without one."""
    options: dict = {"start_new_session": True} if os.name == "posix" else {}
    if os.name == "nt":
        options["creationflags"] = subprocess.CREATE_NO_WINDOW
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=worker_environment(os.environ),
        cwd=str(worker_folder()),
        encoding="utf-8",
        errors="replace",
        **options,
    ) as process:
        result, errors, status = _follow(process, feedback)
    if result is None:
        message = next((line for line in reversed(errors) if "error [" in line), None) or "\n".join(errors)
        raise QgsProcessingException(
            f"The batch stopped (exit status {status}) without a result: {message.strip() or 'no message'}"
        )
    return result


def _follow(process, feedback) -> tuple[dict | None, list[str], int]:
    """Relay the running command's progress lines until it exits: (its result line or None, the last lines
    of its stderr, its exit status). Cancel sends SIGTERM, then kills it after ``STOP_GRACE_S``."""
    lines: queue.Queue = queue.Queue()
    errors: deque[str] = deque(maxlen=STDERR_LINES)
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, lines.put), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, errors.append), daemon=True),
    ]
    for reader in readers:
        reader.start()
    result, stop_sent = None, None
    while process.poll() is None or readers[0].is_alive() or not lines.empty():
        if feedback.isCanceled() and stop_sent is None:
            stop_sent = _stop(process)
        if stop_sent is not None and process.poll() is None and time.monotonic() - stop_sent > STOP_GRACE_S:
            process.kill()
        try:
            line = lines.get(timeout=POLL_S)
        except queue.Empty:
            continue
        event = _event(line)
        if event.get("event") == "progress":
            feedback.setProgress(100.0 * float(event.get("fraction", 0.0)))
            feedback.setProgressText(str(event.get("message", "")))
        elif event.get("event") == "result":
            result = event
        elif line.strip():
            feedback.pushDebugInfo(line.rstrip())
    status = process.wait()
    readers[1].join(timeout=5)
    return result, list(errors), status


def _pump(stream, put) -> None:
    for line in stream:
        put(line)


def _event(line: str) -> dict:
    try:
        event = json.loads(line)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _stop(process) -> float:
    """Ask the batch to stop (SIGTERM: finished scenes stay, running ones stop within a batch of tiles)."""
    if os.name == "posix":
        process.send_signal(signal.SIGTERM)
    else:
        process.terminate()
    return time.monotonic()


def _integer(name: str, description: str, default: int | None, minimum: int) -> QgsProcessingParameterNumber:
    return QgsProcessingParameterNumber(name, description, QgsProcessingParameterNumber.Integer, default, True, minimum)
