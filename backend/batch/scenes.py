"""The scenes of a batch: optical + SAR raster pairs from a CSV table, a folder of scene folders or one pair.

CSV table (UTF-8, comma-separated, header row): ``name,optical,sar`` and optionally
``optical_bands,sar_bands`` (1-based indexes separated by spaces or semicolons, e.g. ``2 3 4 8``).
``name`` may be empty (the optical file's stem is used, else the SAR file's); relative paths are
relative to the table's folder; an empty ``optical`` or ``sar`` cell means the model does not use it.

Folder convention: one sub-folder per scene, named after it, holding ``optical.<ext>`` and/or
``sar.<ext>`` (``.tif``, ``.tiff``, ``.vrt``, ``.jp2``, ``.img``).

Scene names become folder names in the output folder, so they must be unique, must not start with a
dot and must not contain path separators.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadParamsError

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".jp2", ".img")
TABLE_COLUMNS = ("name", "optical", "sar", "optical_bands", "sar_bands")
_BAND_SEPARATORS = re.compile(r"[\s;]+")


@dataclass(frozen=True)
class Scene:
    """One optical + SAR pair: GDAL dataset names (None when absent) and optional 1-based band indexes."""

    name: str
    optical: str | None
    sar: str | None
    optical_bands: tuple[int, ...] | None = None
    sar_bands: tuple[int, ...] | None = None

    def describe(self) -> dict:
        """The scene's inputs as JSON-ready values (what the manifest records)."""
        return {
            "optical": self.optical,
            "sar": self.sar,
            "optical_bands": list(self.optical_bands) if self.optical_bands else None,
            "sar_bands": list(self.sar_bands) if self.sar_bands else None,
        }


def read_scene_table(path: str | Path) -> list[Scene]:
    """The scenes listed in a CSV table (see the module docstring); raises ``BadParamsError`` for a bad table."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            columns = [c.strip().lower() for c in reader.fieldnames or []]
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadParamsError(f"the scene table {str(path)!r} could not be read ({exc}); give a UTF-8 CSV file") from exc
    unknown = [c for c in columns if c not in TABLE_COLUMNS]
    if unknown or not {"optical", "sar"} & set(columns):
        raise BadParamsError(
            f"the scene table {str(path)!r} has the columns {columns}; expected a header with "
            f"{', '.join(TABLE_COLUMNS)} (optical and/or sar required, the others optional)"
        )
    scenes = []
    for line, row in enumerate(rows, start=2):
        cells = {key.strip().lower(): (value or "").strip() for key, value in row.items() if key}
        optical, sar = (_table_path(path.parent, cells.get(role, "")) for role in ("optical", "sar"))
        if optical is None and sar is None:
            raise BadParamsError(f"line {line} of the scene table {str(path)!r} names no optical and no SAR raster")
        scenes.append(
            Scene(
                name=cells.get("name") or Path(optical or sar).stem,
                optical=optical,
                sar=sar,
                optical_bands=_band_list(cells.get("optical_bands", ""), line, path),
                sar_bands=_band_list(cells.get("sar_bands", ""), line, path),
            )
        )
    return checked_scenes(scenes, f"the scene table {str(path)!r}")


def scenes_in_folder(folder: str | Path) -> list[Scene]:
    """One scene per sub-folder holding ``optical.<ext>`` and/or ``sar.<ext>``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadParamsError(f"the scene folder {str(folder)!r} does not exist; give a folder of scene folders")
    scenes = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found = {role: _raster_named(sub, role) for role in ("optical", "sar")}
        if found["optical"] or found["sar"]:
            scenes.append(Scene(sub.name, found["optical"], found["sar"]))
    return checked_scenes(scenes, f"the scene folder {str(folder)!r}")


def checked_scenes(scenes: list[Scene], source: str) -> list[Scene]:
    """``scenes`` after checking that there is at least one and that their names are usable folder names."""
    if not scenes:
        raise BadParamsError(
            f"{source} lists no scene; give a CSV with name,optical,sar columns or a folder of scene folders "
            "each holding optical.tif and/or sar.tif"
        )
    seen = set()
    for scene in scenes:
        if not scene.name or scene.name.startswith(".") or re.search(r"[/\\:]", scene.name):
            raise BadParamsError(
                f"{source}: the scene name {scene.name!r} cannot be a folder name; use letters, digits, '-', '_' "
                "or '.', not starting with a dot"
            )
        if scene.name in seen:
            raise BadParamsError(f"{source}: the scene name {scene.name!r} appears twice; give each scene its own name")
        seen.add(scene.name)
    return scenes


def _table_path(base: Path, cell: str) -> str | None:
    """An input of the table: GDAL names (``/vsi...``, ``DRIVER:...``) kept, relative paths joined to ``base``."""
    if not cell:
        return None
    if cell.startswith("/vsi") or re.match(r"^[A-Za-z][A-Za-z0-9_]+:", cell) or Path(cell).is_absolute():
        return cell
    return str((base / cell).resolve())


def _band_list(cell: str, line: int, path: Path) -> tuple[int, ...] | None:
    if not cell:
        return None
    try:
        bands = tuple(int(item) for item in _BAND_SEPARATORS.split(cell) if item)
    except ValueError:
        bands = ()
    if not bands or min(bands) < 1:
        raise BadParamsError(
            f"line {line} of the scene table {str(path)!r}: band list {cell!r} must be 1-based indexes separated by "
            "spaces or semicolons, e.g. '2 3 4 8'"
        )
    return bands


def _raster_named(folder: Path, stem: str) -> str | None:
    for suffix in RASTER_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return str(candidate.resolve())
    return None
