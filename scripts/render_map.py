"""Render a styled class map over its optical image, with a legend, to a PNG using QGIS's own renderer.

Usage: python scripts/render_map.py OPTICAL.tif CLASS_MAP.tif OUT.png [--title TEXT]
The class map is styled by its sidecar ``.qml`` (written by the backend); the optical image is shown
as a true-colour composite (bands 3, 2, 1 = B04, B03, B02 for the demo band set).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsContrastEnhancement,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsMapLayerLegendUtils,
    QgsMultiBandColorRenderer,
    QgsPrintLayout,
    QgsProject,
    QgsRasterLayer,
    QgsRasterMinMaxOrigin,
    QgsUnitTypes,
)
from qgis.PyQt.QtGui import QFont  # noqa: E402


def true_colour(layer: QgsRasterLayer, bands: tuple[int, int, int]) -> None:
    """Red/green/blue from ``bands`` with a 2-98 % cumulative-cut stretch."""
    renderer = QgsMultiBandColorRenderer(layer.dataProvider(), *bands)
    layer.setRenderer(renderer)
    layer.setContrastEnhancement(
        QgsContrastEnhancement.StretchToMinimumMaximum,
        QgsRasterMinMaxOrigin.CumulativeCut,
    )


def render(optical: str, class_map: str, out_png: str, title: str, opacity: float = 0.75) -> None:
    project = QgsProject.instance()
    base = QgsRasterLayer(optical, "Optical (true colour)")
    classes = QgsRasterLayer(class_map, "Land cover")
    if not base.isValid() or not classes.isValid():
        raise SystemExit(f"cannot open {optical if not base.isValid() else class_map}")
    true_colour(base, (3, 2, 1) if base.bandCount() >= 3 else (1, 1, 1))
    message, ok = classes.loadDefaultStyle()
    if not ok:
        raise SystemExit(f"class map has no usable .qml style: {message}")
    classes.setOpacity(opacity)
    project.addMapLayers([base, classes])

    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    page = layout.pageCollection().page(0)
    page.setPageSize(QgsLayoutSize(260, 180, QgsUnitTypes.LayoutMillimeters))
    map_item = QgsLayoutItemMap(layout)
    map_item.setLayers([classes, base])
    map_item.attemptMove(QgsLayoutPoint(5, 15, QgsUnitTypes.LayoutMillimeters))
    map_item.attemptResize(QgsLayoutSize(165, 160, QgsUnitTypes.LayoutMillimeters))
    map_item.setExtent(classes.extent())
    map_item.setFrameEnabled(True)
    layout.addLayoutItem(map_item)

    label = QgsLayoutItemLabel(layout)
    label.setText(title)
    label.setFont(QFont("DejaVu Sans", 14, QFont.Bold))
    label.attemptMove(QgsLayoutPoint(5, 3, QgsUnitTypes.LayoutMillimeters))
    label.attemptResize(QgsLayoutSize(250, 10, QgsUnitTypes.LayoutMillimeters))
    layout.addLayoutItem(label)

    legend = QgsLayoutItemLegend(layout)
    legend.setTitle("Legend")
    legend.setLinkedMap(map_item)
    legend.setAutoUpdateModel(False)
    root = legend.model().rootGroup()
    root.removeLayer(base)
    classes_node = root.findLayer(classes.id())
    # Keep the class entries only: the first legend node is the band's title.
    entries = len(legend.model().layerLegendNodes(classes_node, True))
    QgsMapLayerLegendUtils.setLegendNodeOrder(classes_node, list(range(1, entries)))
    legend.model().refreshLayerLegend(classes_node)
    legend.attemptMove(QgsLayoutPoint(175, 15, QgsUnitTypes.LayoutMillimeters))
    layout.addLayoutItem(legend)

    settings = QgsLayoutExporter.ImageExportSettings()
    settings.dpi = 110
    settings.generateWorldFile = False
    settings.exportMetadata = False
    result = QgsLayoutExporter(layout).exportToImage(out_png, settings)
    project.removeAllMapLayers()
    if result != QgsLayoutExporter.Success:
        raise SystemExit(f"rendering {out_png} failed (QgsLayoutExporter code {result})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("optical")
    parser.add_argument("class_map")
    parser.add_argument("out_png")
    parser.add_argument("--title", default="LandFuse land-cover map")
    args = parser.parse_args(argv)
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    render(args.optical, args.class_map, args.out_png, args.title)
    print(f"rendered {args.out_png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
