"""Vector layers handed to the backend worker: features written as GeoJSON in a raster's CRS, class colours.

The backend reads vectors with the standard ``json`` module only, so QGIS (which reads every vector
format) transforms the features into the raster's CRS and writes them as a plain GeoJSON
``FeatureCollection`` with one property, ``class`` (the class field's value, or none for a mask).
Curved geometries are written as straight segments. A feature source from Processing honours
*Selected features only*.
"""

from __future__ import annotations

import json
from pathlib import Path

from qgis.core import (
    NULL,
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsFeatureRequest,
    QgsFeatureSource,
    QgsGeometry,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingUtils,
    QgsVectorLayer,
    QgsWkbTypes,
)

CLASS_PROPERTY = "class"


def json_value(value):
    """A field value as JSON: numbers and text as they are, NULL as ``None``, anything else as text."""
    if value is None or value == NULL:
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def write_geojson(
    source: QgsFeatureSource,
    path: str | Path,
    crs: QgsCoordinateReferenceSystem,
    context: QgsProcessingContext,
    class_field: str | None = None,
    what: str = "reference",
) -> int:
    """Write ``source``'s features to ``path`` as GeoJSON in ``crs``, with the ``class`` property from
    ``class_field``; returns how many were written. Features without a geometry are skipped.
    Raises ``QgsProcessingException`` when a geometry cannot be transformed or nothing is left."""
    transform = QgsCoordinateTransform(source.sourceCrs(), crs, context.transformContext())
    request = QgsFeatureRequest()
    if class_field:
        index = source.fields().lookupField(class_field)
        if index < 0:
            raise QgsProcessingException(f"The {what} layer has no field named {class_field!r}.")
        request.setSubsetOfAttributes([index])
    else:
        request.setNoAttributes()
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for feature in source.getFeatures(request):
            geometry = feature.geometry()
            if geometry.isNull() or geometry.isEmpty():
                continue
            geometry = QgsGeometry(geometry)
            try:
                geometry.transform(transform)
            except QgsCsException as exc:
                target = crs.authid() or "the raster's CRS"
                raise QgsProcessingException(
                    f"A {what} feature (id {feature.id()}) cannot be transformed to {target}: {exc}. Check its CRS."
                ) from exc
            if QgsWkbTypes.isCurvedType(geometry.wkbType()):
                geometry.convertToStraightSegment()
            properties = {CLASS_PROPERTY: json_value(feature.attribute(class_field))} if class_field else {}
            record = {"type": "Feature", "properties": properties, "geometry": json.loads(geometry.asJson(12))}
            out.write(("" if count == 0 else ",\n") + json.dumps(record))
            count += 1
        out.write("\n]}\n")
    if count == 0:
        raise QgsProcessingException(
            f"The {what} layer has no feature with a geometry (with 'Selected features only', select some first)."
        )
    return count


def source_layer(value, context: QgsProcessingContext) -> QgsVectorLayer | None:
    """The vector layer behind a feature-source parameter value (a layer, its id or source, or a
    ``QgsProcessingFeatureSourceDefinition`` such as "selected features only"), when there is one."""
    if isinstance(value, QgsProcessingFeatureSourceDefinition):
        value = value.source.staticValue()
    if isinstance(value, QgsVectorLayer):
        return value
    if isinstance(value, str) and value:
        layer = QgsProcessingUtils.mapLayerFromString(value, context)
        return layer if isinstance(layer, QgsVectorLayer) else None
    return None


def renderer_classes(layer: QgsVectorLayer | None, class_field: str) -> list[dict]:
    """The classes of the layer's categorized renderer on ``class_field``, in its order: ``value``, ``name``
    (the category's legend label) and ``color`` (``#rrggbb``); empty for any other renderer."""
    renderer = layer.renderer() if layer is not None else None
    if not isinstance(renderer, QgsCategorizedSymbolRenderer) or renderer.classAttribute() != class_field:
        return []
    classes = []
    for category in renderer.categories():
        value = json_value(category.value())
        if value is None or value == "" or category.symbol() is None:
            continue
        classes.append(
            {"value": value, "name": category.label() or str(value), "color": category.symbol().color().name()}
        )
    return classes
