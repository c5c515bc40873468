"""Class schemes of the public datasets, shipped as JSON in ``resources/classes/<name>.json``.

Each file holds ``name``, ``title``, ``source``, ``nodata``, ``classes`` (``id``, ``name``, ``color``
as ``#rrggbb``, ids 0..K-1) and ``source_codes``: the value stored in the dataset's label files ->
class id (or ``nodata``). Standard library only.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from .card import CardError, ClassSpec

CLASSES_DIR = Path(__file__).resolve().parent.parent / "resources" / "classes"
# How a confidence map (percent) is drawn, by the plugin and in the style file the backend writes:
# (value, colour, legend label), red for uncertain to green for certain.
CONFIDENCE_RAMP = ((0, "#d7191c", "0 % (uncertain)"), (50, "#fdae61", "50 %"), (100, "#1a9641", "100 % (certain)"))


def scheme_names() -> list[str]:
    """Names of the shipped class schemes, sorted (``dynamic_world``, ``m3m_cr``, ...)."""
    return sorted(path.stem for path in CLASSES_DIR.glob("*.json"))


@cache
def _read(name: str) -> dict:
    path = CLASSES_DIR / f"{name}.json"
    if not path.is_file():
        raise CardError(f"unknown class scheme {name!r}: expected one of {', '.join(scheme_names())}")
    return json.loads(path.read_text(encoding="utf-8"))


def load_scheme(name: str) -> list[ClassSpec]:
    """The classes of scheme ``name`` in id order, e.g. ``load_scheme("dynamic_world")[0].name == "water"``."""
    classes = [ClassSpec(**entry) for entry in _read(name)["classes"]]
    ids = [spec.id for spec in classes]
    if ids != list(range(len(classes))):
        raise CardError(f"class scheme {name!r}: ids must be 0..K-1 in order, got {ids}")
    return classes


def load_code_map(name: str) -> dict[int, int]:
    """Label-file value -> class id (or the scheme's nodata value) for scheme ``name``."""
    return {int(code): int(class_id) for code, class_id in _read(name).get("source_codes", {}).items()}


def scheme_nodata(name: str) -> int:
    """The label value that marks pixels without a class (255 for every shipped scheme)."""
    return int(_read(name).get("nodata", 255))
