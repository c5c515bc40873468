"""What the dock keeps in the QGIS project file, under the scope ``landfuse``: band mappings, the output folder."""

from __future__ import annotations

from qgis.core import QgsProject

PROJECT_SCOPE = "landfuse"


def read_entry(project: QgsProject, key: str) -> str:
    """The project's entry ``key`` (``""`` when it has none)."""
    text, found = project.readEntry(PROJECT_SCOPE, key, "")
    return text if found else ""


def write_entry(project: QgsProject, key: str, value: str) -> None:
    """Keep ``value`` in the project (saved with it; the project is marked as changed)."""
    project.writeEntry(PROJECT_SCOPE, key, value)
