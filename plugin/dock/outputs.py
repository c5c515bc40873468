"""Where the dock writes its runs, and how their layers arrive in the project.

Results must outlive a reboot, so they never go to the temporary folder. The folder of a project is, first
found: the folder chosen for this project (kept in the project file), the options' *Dock output folder*, or
``<project folder>/landfuse`` beside the saved project file. For an unsaved project with neither, the dock
asks once and keeps the answer in the project. Each run gets its own sub-folder.
"""

from __future__ import annotations

import time
from pathlib import Path

from qgis.core import QgsProject, QgsRasterLayer

from .. import settings
from ..algorithms.classify import ClassifyAlgorithm
from ..i18n import tr
from ..styling import apply_class_style, apply_true_colour_style, style_confidence_output
from .project import read_entry, write_entry

OUTPUT_FOLDER_KEY = "output_folder"
BESIDE_PROJECT = "landfuse"


def chosen_folder(project: QgsProject) -> Path | None:
    """The folder chosen for ``project`` in the dock (kept in the project), if any."""
    text = read_entry(project, OUTPUT_FOLDER_KEY)
    return Path(text) if text else None


def remember_folder(project: QgsProject, folder: Path | None) -> None:
    """Keep ``folder`` as ``project``'s output folder (``None``: back to the default)."""
    write_entry(project, OUTPUT_FOLDER_KEY, str(folder) if folder else "")


def default_folder(project: QgsProject) -> Path | None:
    """Where runs go when nothing was chosen for ``project``: the options' folder, else beside the project file;
    ``None`` for an unsaved project (the dock then asks)."""
    configured = settings.load().resolved_output_folder()
    if configured is not None:
        return configured
    if project.fileName():
        return Path(project.absolutePath()) / BESIDE_PROJECT
    return None


def output_root(project: QgsProject) -> Path | None:
    """The folder ``project``'s runs go into; ``None`` when it must be asked."""
    return chosen_folder(project) or default_folder(project)


def new_run_folder(root: Path, model: str) -> Path:
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


def add_result_layers(project: QgsProject, results: dict, report: dict, model: str) -> list[QgsRasterLayer]:
    """Add a run's rasters to ``project`` in a new top group, styled: class map, confidence, reconstruction.

    The confidence map's style is also saved beside it (``confidence.qml``), so that it opens styled anywhere
    (the class map's ``.qml`` comes from the backend). Returns the layers added, in that order.
    """
    classes = report.get("classes", [])
    optical_names = [band["name"] for band in (report.get("model") or {}).get("optical_bands", [])]
    outputs = (
        (ClassifyAlgorithm.OUTPUT, tr("Land cover ({model})"), lambda layer: apply_class_style(layer, classes)),
        (ClassifyAlgorithm.CONFIDENCE, tr("Confidence (%)"), style_confidence_output),
        (
            ClassifyAlgorithm.RECONSTRUCTION,
            tr("Cloud-free reconstruction"),
            lambda layer: apply_true_colour_style(layer, optical_names),
        ),
    )
    group = project.layerTreeRoot().insertGroup(
        0, tr("LandFuse {model} {time}").format(model=model, time=time.strftime("%H:%M:%S"))
    )
    layers = []
    for key, name, style in outputs:
        path = results.get(key)
        if not path or not Path(path).is_file():
            continue
        layer = QgsRasterLayer(path, name.format(model=model))
        style(layer)
        project.addMapLayer(layer, False)
        group.addLayer(layer)
        layers.append(layer)
    return layers
