"""Small widgets of the dock: band picker, class-area bar chart, and the model card as HTML."""

from __future__ import annotations

import html

from qgis.core import QgsRasterLayer
from qgis.PyQt.QtCore import QRectF, QSize, Qt
from qgis.PyQt.QtGui import QColor, QPainter
from qgis.PyQt.QtWidgets import QListWidget, QListWidgetItem, QSizePolicy, QWidget

from .styling import class_label


class BandPicker(QListWidget):
    """A checkable list of a raster's bands; :meth:`bands` gives the checked ones, 1-based, in file order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMaximumHeight(90)
        self.setToolTip("Bands fed to the model, in file order; the model card lists the bands it expects.")

    def set_layer(self, layer: QgsRasterLayer | None, wanted: int | None = None) -> None:
        """List ``layer``'s bands; check the first ``wanted`` (all when ``None``)."""
        self.clear()
        if layer is None:
            return
        for band in range(1, layer.bandCount() + 1):
            item = QListWidgetItem(layer.bandName(band))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = wanted is None or band <= wanted
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.addItem(item)

    def check_first(self, wanted: int) -> None:
        for row in range(self.count()):
            self.item(row).setCheckState(Qt.CheckState.Checked if row < wanted else Qt.CheckState.Unchecked)

    def bands(self) -> list[int]:
        return [row + 1 for row in range(self.count()) if self.item(row).checkState() == Qt.CheckState.Checked]


class ClassAreaChart(QWidget):
    """Horizontal bars of class area (hectares and share of the valid area), largest first, in class colours."""

    ROW_HEIGHT = 18
    VALUE_WIDTH = 110

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.classes: list[dict] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_classes(self, classes: list[dict]) -> None:
        """``classes``: the report's class entries ``{"name", "color", "hectares", "share"}``."""
        self.classes = sorted((c for c in classes if c.get("pixels", 1)), key=lambda c: -float(c.get("share", 0)))
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(320, max(1, len(self.classes)) * self.ROW_HEIGHT + 6)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = self.fontMetrics()
        label_width = min(
            max((metrics.horizontalAdvance(class_label(c)) for c in self.classes), default=0) + 6, self.width() // 2
        )
        bar_width = max(10, self.width() - label_width - self.VALUE_WIDTH - 12)
        largest = max((float(c.get("share", 0)) for c in self.classes), default=0) or 1.0
        text_colour = self.palette().color(self.foregroundRole())
        for row, entry in enumerate(self.classes):
            top = 3 + row * self.ROW_HEIGHT
            share = float(entry.get("share", 0))
            painter.setPen(text_colour)
            painter.drawText(
                QRectF(0, top, label_width, self.ROW_HEIGHT), Qt.AlignmentFlag.AlignVCenter, class_label(entry)
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(entry.get("color", "#888888")))
            painter.drawRect(QRectF(label_width + 4, top + 3, bar_width * share / largest, self.ROW_HEIGHT - 6))
            painter.setPen(text_colour)
            value = f"{float(entry.get('hectares', 0)):,.1f} ha  {100 * share:.1f} %"
            painter.drawText(
                QRectF(label_width + 8 + bar_width, top, self.VALUE_WIDTH, self.ROW_HEIGHT),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                value,
            )
        painter.end()


def card_html(card: dict) -> str:
    """The parts of a model card an analyst needs before running it: inputs, classes, training data, licence."""
    esc = html.escape
    optical = ", ".join(esc(b["name"]) for b in card.get("optical_bands", [])) or "none"
    sar = ", ".join(f"{esc(b['name'])} ({esc(b['unit'])})" for b in card.get("sar_bands", [])) or "none"
    swatches = " ".join(
        f'<span style="background:{esc(c["color"])}">&nbsp;&nbsp;&nbsp;</span>&nbsp;{esc(class_label(c))}'
        for c in card.get("classes", [])
    )
    rows = [
        f"<b>{esc(card.get('architecture', '?'))}</b> ({esc(card.get('variant', ''))})",
        f"Optical bands: {optical}",
        f"SAR bands: {sar}",
        f"Classes: {swatches}",
        f"Training data: {esc(card.get('training_data') or 'not stated')}",
    ]
    if card.get("licence"):
        rows.append(f"Licence: {esc(card['licence'])}")
    if "reconstruction" in card.get("outputs", []):
        rows.append("Also reconstructs a cloud-free optical image.")
    return "<br>".join(rows)
