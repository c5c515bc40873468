"""Styles for LandFuse outputs: a paletted class map with the model's class names, a confidence ramp.

The engine writes sidecars ``<class map>.qml`` and ``<confidence>.qml`` that QGIS loads as the default
style; these functions style a layer explicitly (from the report's class table) so the legend is right
even when a sidecar is missing, e.g. for layers loaded by the toolbox, the modeler or the dock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from qgis.core import (
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsRasterMinMaxOrigin,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
)
from qgis.PyQt.QtGui import QColor

from ..common.classes import CONFIDENCE_RAMP


def class_label(entry: dict) -> str:
    """A class entry's legend label: ``flooded_vegetation`` -> ``Flooded vegetation``."""
    name = str(entry["name"]).replace("_", " ").strip()
    return name[:1].upper() + name[1:]


def apply_class_style(layer: QgsRasterLayer, classes: Iterable[dict]) -> None:
    """Give ``layer`` (band 1 = class ids) a paletted renderer with one entry per class, nodata left out."""
    entries = [QgsPalettedRasterRenderer.Class(int(c["id"]), QColor(c["color"]), class_label(c)) for c in classes]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, entries))
    layer.triggerRepaint()


def apply_confidence_style(layer: QgsRasterLayer) -> None:
    """A red-to-green ramp over the confidence map's 0..100 (percent of the winning class probability)."""
    ramp = QgsColorRampShader(0, 100)
    ramp.setColorRampType(QgsColorRampShader.Interpolated)
    ramp.setColorRampItemList(
        [QgsColorRampShader.ColorRampItem(v, QColor(c), label) for v, c, label in CONFIDENCE_RAMP]
    )
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    renderer.setClassificationMin(0)
    renderer.setClassificationMax(100)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


def style_confidence_output(layer: QgsRasterLayer) -> None:
    """Style a confidence map written by a run and save the style beside it (``<name>.qml``), so that the file
    opens styled wherever it is loaded later (QGIS reads that file as the default style)."""
    apply_confidence_style(layer)
    layer.saveDefaultStyle()


def true_colour_bands(band_names: list[str]) -> tuple[int, int, int]:
    """1-based (red, green, blue) bands from the optical band names of a card (Sentinel-2 or R/G/B names).

    Falls back to bands 3, 2, 1 (the usual blue, green, red order) when the names say nothing.
    """
    names = [name.lower() for name in band_names]
    aliases = (("b4", "b04", "r", "red"), ("b3", "b03", "g", "green"), ("b2", "b02", "b", "blue"))
    found = [next((i + 1 for i, name in enumerate(names) if name in alias), None) for alias in aliases]
    if None in found:
        return (3, 2, 1) if len(names) >= 3 else (1, 1, 1)
    return tuple(found)


def apply_true_colour_style(layer: QgsRasterLayer, band_names: list[str]) -> None:
    """Red, green and blue from the named bands with a 2-98 % cumulative-cut stretch."""
    layer.setRenderer(QgsMultiBandColorRenderer(layer.dataProvider(), *true_colour_bands(band_names)))
    layer.setContrastEnhancement(QgsContrastEnhancement.StretchToMinimumMaximum, QgsRasterMinMaxOrigin.CumulativeCut)
    layer.triggerRepaint()


def legend_labels(layer: QgsRasterLayer) -> dict[int, str]:
    """``{class id: label}`` of a paletted layer (empty for any other renderer)."""
    renderer = layer.renderer()
    if not isinstance(renderer, QgsPalettedRasterRenderer):
        return {}
    return {int(c.value): c.label for c in renderer.classes()}


class OutputStyler(QgsProcessingLayerPostProcessorInterface):
    """Styles a Processing output layer when QGIS loads it (toolbox, modeler, batch).

    QGIS does not take ownership of post-processors: :func:`keep_alive` holds the recent ones.
    """

    def __init__(
        self, kind: str, classes: list[dict] | None = None, name: str | None = None, bands: list[str] | None = None
    ) -> None:
        """``kind``: ``classes`` (with the class table), ``confidence`` or ``reconstruction`` (with band names)."""
        super().__init__()
        self.kind = kind
        self.classes = classes or []
        self.name = name
        self.bands = bands or []

    def postProcessLayer(self, layer, context, feedback) -> None:  # noqa: N802 (QGIS's name)
        if not isinstance(layer, QgsRasterLayer) or not layer.isValid():
            return
        if self.name:
            layer.setName(self.name)
        if self.kind == "classes" and self.classes:
            apply_class_style(layer, self.classes)
        elif self.kind == "confidence":
            style_confidence_output(layer)
        elif self.kind == "reconstruction":
            apply_true_colour_style(layer, self.bands)


_ALIVE: deque[OutputStyler] = deque(maxlen=256)


def keep_alive(styler: OutputStyler) -> OutputStyler:
    """Hold a reference to ``styler`` while QGIS may call it (QGIS keeps only a raw pointer)."""
    _ALIVE.append(styler)
    return styler
