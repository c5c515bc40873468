"""Reference features drawn by the analyst: read from GeoJSON, given class ids, burnt into label windows.

The plugin writes the reference layer as a GeoJSON ``FeatureCollection`` in the raster's CRS, each
feature with the property ``class`` (text or number). Points, multi-points, polygons and
multi-polygons are read; their coordinates are reduced to x, y. A point stands for the pixel it falls
in, or a square of ``2 r + 1`` pixels around it (``point_radius`` r). Class values are compared as
text (``1``, ``1.0`` and ``"1"`` are the same class).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio import features

from ..errors import BadParamsError, UnreadableInputError

CLASS_PROPERTY = "class"
NO_LABEL = 255
POINT_TYPES = ("Point", "MultiPoint")
POLYGON_TYPES = ("Polygon", "MultiPolygon")
# Qualitative colours for classes the reference layer gives no colour for (ColorBrewer Paired / Set1).
PALETTE = (
    "#1f78b4",
    "#33a02c",
    "#e31a1c",
    "#ff7f00",
    "#6a3d9a",
    "#b15928",
    "#a6cee3",
    "#b2df8a",
    "#fb9a99",
    "#fdbf6f",
    "#cab2d6",
    "#ffff99",
)


@dataclass(frozen=True)
class Reference:
    """One reference feature: 2-D GeoJSON geometry in the raster CRS, class value as text, bounds."""

    index: int
    geometry: dict
    value: str
    bounds: tuple[float, float, float, float]

    @property
    def is_point(self) -> bool:
        return self.geometry["type"] in POINT_TYPES


@dataclass(frozen=True)
class ReferenceClass:
    """A class of the reference data: its value in the class field, display name and ``#rrggbb`` colour."""

    value: str
    name: str
    color: str


def value_text(value) -> str | None:
    """A class field value as text: ``3``, ``3.0`` and ``"3"`` give ``"3"``; empty and null give ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def read_references(path: str | Path, what: str = "reference", with_class: bool = True) -> list[Reference]:
    """The point or polygon features of a GeoJSON file with a ``class`` property (features without one are skipped;
    ``with_class=False``, for a mask: every feature, with the value ``""``).

    Raises ``UnreadableInputError`` for a file that is not a GeoJSON FeatureCollection, and
    ``BadParamsError`` for lines or a mix of points and polygons.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        message = f"the {what} features {Path(path).name!r} could not be read as GeoJSON: {exc}"
        raise UnreadableInputError(message) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise UnreadableInputError(f"the {what} features {Path(path).name!r} are not a GeoJSON FeatureCollection")
    references, kinds = [], set()
    for feature in data.get("features") or []:
        geometry = (feature or {}).get("geometry")
        value = value_text(((feature or {}).get("properties") or {}).get(CLASS_PROPERTY)) if with_class else ""
        if not geometry or value is None:
            continue
        kind = geometry.get("type")
        if kind not in POINT_TYPES + POLYGON_TYPES:
            raise BadParamsError(
                f"the {what} layer holds {kind} geometries; give points or polygons (buffer lines into polygons first)"
            )
        kinds.add("points" if kind in POINT_TYPES else "polygons")
        flat = {"type": kind, "coordinates": _two_d(geometry["coordinates"])}
        bounds = _bounds(flat["coordinates"])
        if bounds is not None:
            references.append(Reference(len(references), flat, value, bounds))
    if len(kinds) > 1:
        raise BadParamsError(f"the {what} layer mixes points and polygons; give one layer of either")
    if not references:
        raise BadParamsError(
            f"the {what} layer has no feature with a geometry{' and a class value' if with_class else ''}; check the "
            "layer, the class field and, when only selected features are used, the selection"
        )
    return references


def _two_d(coordinates):
    """GeoJSON coordinates with every position cut to (x, y)."""
    if coordinates and isinstance(coordinates[0], int | float):
        return [float(coordinates[0]), float(coordinates[1])]
    return [_two_d(part) for part in coordinates]


def _bounds(coordinates) -> tuple[float, float, float, float] | None:
    points = np.array(list(_positions(coordinates)), dtype=np.float64).reshape(-1, 2)
    if not len(points):
        return None
    return (*points.min(axis=0), *points.max(axis=0))


def _positions(coordinates) -> Iterable[list[float]]:
    if coordinates and isinstance(coordinates[0], float):
        yield coordinates
        return
    for part in coordinates:
        yield from _positions(part)


def class_table(references: Sequence[Reference], given: Sequence[dict] | None = None) -> list[ReferenceClass]:
    """The classes of ``references``, in the order of ``given`` (``value``, ``name``, ``color`` entries, e.g.
    from the layer's categorized renderer) and then the other values (numerically when all are numbers).

    Classes without a reference feature are left out; names default to the value and colours to ``PALETTE``.
    """
    present = {reference.value for reference in references}
    table: list[ReferenceClass] = []
    for entry in given or []:
        value = value_text(entry.get("value"))
        if value in present and value not in {c.value for c in table}:
            color = str(entry.get("color") or "")
            color = color if len(color) == 7 and color.startswith("#") else PALETTE[len(table) % len(PALETTE)]
            table.append(ReferenceClass(value, str(entry.get("name") or value).strip() or value, color.lower()))
    rest = sorted(present - {c.value for c in table}, key=_value_order(present))
    for value in rest:
        table.append(ReferenceClass(value, value, PALETTE[len(table) % len(PALETTE)]))
    if len(table) > NO_LABEL:
        raise BadParamsError(f"the reference layer has {len(table)} classes; at most {NO_LABEL} are possible")
    return table


def _value_order(values: set[str]):
    def number(text: str) -> float | None:
        try:
            return float(text)
        except ValueError:
            return None

    if all(number(v) is not None for v in values):
        return lambda text: (number(text), text)
    return lambda text: (text.lower(), text)


def class_ids(references: Sequence[Reference], table: Sequence[ReferenceClass]) -> np.ndarray:
    """The class id (index in ``table``) of every reference, int64 [n]."""
    ids = {entry.value: index for index, entry in enumerate(table)}
    return np.array([ids[reference.value] for reference in references], dtype=np.int64)


def burn_shape(reference: Reference, pixel_size: tuple[float, float], point_radius: int = 0) -> dict:
    """The geometry burnt for a reference: polygons as they are, points as squares of ``2 r + 1`` pixels."""
    if not reference.is_point:
        return reference.geometry
    points = reference.geometry["coordinates"]
    points = [points] if reference.geometry["type"] == "Point" else points
    half_x, half_y = (point_radius + 0.5) * pixel_size[0], (point_radius + 0.5) * pixel_size[1]
    squares = [
        [
            [
                [x - half_x, y - half_y],
                [x + half_x, y - half_y],
                [x + half_x, y + half_y],
                [x - half_x, y + half_y],
                [x - half_x, y - half_y],
            ]
        ]
        for x, y in points
    ]
    return {"type": "MultiPolygon", "coordinates": squares}


def burn(
    shapes: Iterable[tuple[dict, int]], shape: tuple[int, int], transform: Affine, fill: int = NO_LABEL
) -> np.ndarray:
    """``uint8 [h, w]`` with each ``(geometry, value)`` burnt at the pixels whose centre it covers (later wins)."""
    shapes = list(shapes)
    if not shapes:
        return np.full(shape, fill, np.uint8)
    return features.rasterize(shapes, out_shape=shape, transform=transform, fill=fill, dtype="uint8")
