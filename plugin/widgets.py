"""Small widgets of the dock: band mapping, class-area bar chart, and the model card as HTML."""

from __future__ import annotations

import html

from qgis.core import QgsRasterBandStats, QgsRasterLayer, QgsRectangle
from qgis.PyQt.QtCore import QRectF, QSize, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QPainter
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..common.bands import band_key, level_1c_warning, match_bands, reflectance_scale_warning, sar_unit_warning
from .i18n import tr
from .styling import class_label

WARNING_STYLE = "color: #b35900;"
HINT_STYLE = "color: palette(mid);"
STATISTICS_SAMPLE = 4096  # pixels per band read for the product checks
REMOTE_PREFIXES = ("/vsicurl", "/vsis3", "/vsigs", "/vsiaz", "/vsiadls", "/vsioss", "/vsiswift", "/vsihdfs", "http")
COMBO_MINIMUM_CHARACTERS = 10  # band names are elided below this: the dock stays narrow


def automatic_label() -> str:
    """The first entry of each band row: the card band is sent by name and matched by the backend."""
    return tr("automatic (match by name)")


def unsupported_reason(layer: QgsRasterLayer | None) -> str | None:
    """Why LandFuse cannot read ``layer`` (not a raster GDAL opens), with what to do; None when it can."""
    if layer is None or layer.providerType() == "gdal":
        return None
    return tr(
        "'{layer}' comes from the '{provider}' provider (a web service or database): LandFuse reads rasters GDAL "
        "opens. Export it first (right-click the layer > Export > Save As...) and choose the saved layer."
    ).format(layer=layer.name(), provider=layer.providerType())


class BandMapping(QWidget):
    """Which band of a raster layer feeds each band of the model card: one row per card band.

    :meth:`selection` is what the classify algorithm receives: per card band, a 1-based band index of the
    layer (int) or a band name (str) that the backend matches against the raster's band descriptions.
    ``edited`` is emitted when the user changes the mapping.
    """

    edited = pyqtSignal()

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        """``kind``: ``"optical"`` or ``"sar"``, which product checks apply."""
        super().__init__(parent)
        self.kind = kind
        self.layer: QgsRasterLayer | None = None
        self.specs: list[dict] = []
        self.card_text = ""
        self.by_name: list[int | None] = []
        self.combos: list[QComboBox] = []
        self._data_warnings: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.automatic_check = QCheckBox(tr("Match the bands by name"))
        self.automatic_check.setToolTip(
            tr(
                "Send the model card's band names: the backend finds the bands so named (band descriptions) in the "
                "raster, in any order (B02 = B2, Sigma0_VV_db = VV). Untick to choose each band yourself."
            )
        )
        self.automatic_check.clicked.connect(self._on_automatic_clicked)
        self.rows = QFormLayout()
        self.rows.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.hint_label = _plain_label(style=HINT_STYLE)
        self.warning_label = _plain_label(style=WARNING_STYLE)
        self.warning_label.setToolTip(tr("What may be wrong with this input for the chosen model."))
        for widget in (self.hint_label, self.automatic_check):
            layout.addWidget(widget)
        layout.addLayout(self.rows)
        layout.addWidget(self.warning_label)
        self.set_inputs(None, [])

    def set_inputs(self, layer: QgsRasterLayer | None, specs: list[dict], card_text: str = "", saved=None) -> None:
        """Rows for the card bands ``specs`` (``{"name", "unit"}``), prefilled from ``layer``'s band names.

        ``saved``: a former :meth:`state` for this layer and model, restored when it still fits.
        """
        self.layer, self.specs, self.card_text = layer, list(specs), card_text
        while self.rows.rowCount():
            self.rows.removeRow(0)
        self.combos, self.by_name, self._data_warnings = [], [], []
        reason = unsupported_reason(layer)
        ready = layer is not None and reason is None and bool(self.specs)
        self.automatic_check.setVisible(ready)
        hint = (
            "" if ready or reason or layer is None else tr("The bands to choose appear once the model's card is read.")
        )
        self.hint_label.setText(hint)
        self.hint_label.setVisible(bool(hint))
        if not ready:
            self._show_warnings([reason] if reason else [])
            return
        names = [layer.bandName(band) for band in range(1, layer.bandCount() + 1)]
        self.by_name = match_bands(names, [spec["name"] for spec in self.specs])
        by_position = not any(self.by_name)
        automatic = automatic_label()
        for row, spec in enumerate(self.specs):
            combo = QComboBox()
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(COMBO_MINIMUM_CHARACTERS)
            combo.addItem(automatic, None)
            for band, name in enumerate(names, start=1):
                combo.addItem(name, band)
            combo.setToolTip(
                plain_tooltip(
                    tr(
                        "The band of '{layer}' that feeds the model's band {band} ({unit}). '{automatic}' sends the "
                        "name {band}: the backend finds the band so named."
                    ).format(layer=layer.name(), band=spec["name"], unit=spec["unit"], automatic=automatic)
                )
            )
            combo.activated.connect(self._on_row_activated)
            label = _plain_label(f"{spec['name']} ({spec['unit']})")
            label.setToolTip(
                plain_tooltip(
                    tr("Band {row} of the model card: {band}, in {unit}.").format(
                        row=row + 1, band=spec["name"], unit=spec["unit"]
                    )
                )
            )
            self.rows.addRow(label, combo)
            self.combos.append(combo)
            guess = row + 1 if by_position and row < len(names) else self.by_name[row]
            self._show_band(combo, guess)
        automatic = all(self.by_name)
        if saved and self._fits(saved):
            automatic = bool(saved["automatic"])
            for row, band in enumerate(saved["bands"]):
                self._show_band(self.combos[row], band)
        self._set_automatic(automatic)
        self._data_warnings = self._check_data()
        self._update_warnings()

    def selection(self) -> list[int | str] | None:
        """Per card band, a 1-based band index or a band name; None when there are no rows."""
        if not self.combos:
            return None
        if self.automatic_check.isChecked():
            return [spec["name"] for spec in self.specs]
        chosen = self.indexes()
        return [self.specs[row]["name"] if band is None else band for row, band in enumerate(chosen)]

    def indexes(self) -> list[int | None]:
        """The layer band shown for each card band (1-based), None where none is."""
        return [combo.currentData() for combo in self.combos]

    def state(self) -> dict:
        """What :meth:`set_inputs` restores: ``{"automatic": bool, "bands": [index or None per card band]}``."""
        return {"automatic": self.automatic_check.isChecked(), "bands": self.indexes()}

    # ----------------------------------------------------------------- internals
    def _fits(self, saved) -> bool:
        bands = saved.get("bands") if isinstance(saved, dict) else None
        count = self.layer.bandCount()
        return (
            isinstance(bands, list)
            and len(bands) == len(self.specs)
            and all(b is None or (isinstance(b, int) and 1 <= b <= count) for b in bands)
        )

    @staticmethod
    def _show_band(combo: QComboBox, band: int | None) -> None:
        combo.setCurrentIndex(max(0, combo.findData(band)) if band is not None else 0)

    def _set_automatic(self, automatic: bool) -> None:
        self.automatic_check.setChecked(automatic)
        for row, combo in enumerate(self.combos):
            if automatic:
                self._show_band(combo, self.by_name[row])
            combo.setEnabled(not automatic)

    def _on_automatic_clicked(self, checked: bool) -> None:
        self._set_automatic(checked)
        self._update_warnings()
        self.edited.emit()

    def _on_row_activated(self, _index: int) -> None:
        self._update_warnings()
        self.edited.emit()

    def _update_warnings(self) -> None:
        self._show_warnings(self._mapping_warnings() + self._data_warnings)

    def _show_warnings(self, lines: list[str]) -> None:
        self.warning_label.setText("\n".join(lines))
        self.warning_label.setVisible(bool(lines))

    def _mapping_warnings(self) -> list[str]:
        """What looks wrong in the mapping: missing bands, bands named otherwise, unnamed or repeated bands."""
        layer, lines = self.layer.name(), []
        count = self.layer.bandCount()
        wanted = [spec["name"] for spec in self.specs]
        if count < len(wanted):
            lines.append(
                tr("'{layer}' has {count} band(s); the model needs {needed} ({bands}).").format(
                    layer=layer, count=count, needed=len(wanted), bands=", ".join(wanted)
                )
            )
        missing, renamed, unnamed = [], [], []
        chosen = self.indexes()
        for row, band in enumerate(chosen):
            spec_name = wanted[row]
            if band is None:
                missing.append(spec_name)
                continue
            key = band_key(self.layer.bandName(band))
            if not key:
                unnamed.append(spec_name)
            elif key != band_key(spec_name):
                renamed.append(f"{spec_name} <- {self.layer.bandName(band)}")
        if missing:
            lines.append(
                tr(
                    "No band of '{layer}' is named {bands}: untick Automatic and choose a band in each of these rows, "
                    "or the run stops."
                ).format(layer=layer, bands=", ".join(missing))
            )
        if unnamed:
            lines.append(
                tr(
                    "The bands of '{layer}' for {bands} have no names: they were chosen by position. Check them "
                    "against the model card."
                ).format(layer=layer, bands=", ".join(unnamed))
            )
        if renamed:
            lines.append(
                tr("Bands named differently from the model's: {bands}. Check them.").format(bands="; ".join(renamed))
            )
        repeated = sorted({b for b in chosen if b is not None and chosen.count(b) > 1})
        if repeated:
            lines.append(tr("Band(s) {bands} feed several model bands.").format(bands=", ".join(map(str, repeated))))
        return lines

    def _check_data(self) -> list[str]:
        """Whether the layer looks like the product the card expects (scale, processing level, SAR unit)."""
        layer = self.layer
        if not layer.isValid():
            return []
        lines = []
        if self.kind == "optical":
            names = [layer.bandName(band) for band in range(1, layer.bandCount() + 1)]
            lines.append(level_1c_warning(names, layer.source(), self.card_text))
        stats = self._statistics()
        unit = self.specs[0]["unit"]
        if stats and self.kind == "optical":
            lines.append(reflectance_scale_warning(unit, max(s.maximumValue for s in stats)))
        elif stats:
            mean = sum(s.mean for s in stats) / len(stats)
            lines.append(sar_unit_warning(unit, min(s.minimumValue for s in stats), mean))
        return [f"'{layer.name()}': {line}." for line in lines if line]

    def _statistics(self) -> list[QgsRasterBandStats]:
        """Minimum, maximum and mean of each chosen band from a small sample; none for remote layers."""
        provider = self.layer.dataProvider()
        if self.layer.source().lower().startswith(REMOTE_PREFIXES):
            return []
        wanted = QgsRasterBandStats.Min | QgsRasterBandStats.Max | QgsRasterBandStats.Mean
        bands = sorted({band for band in self.indexes() if band is not None})
        stats = [provider.bandStatistics(band, wanted, QgsRectangle(), STATISTICS_SAMPLE) for band in bands]
        return [s for s in stats if s.minimumValue <= s.maximumValue]  # a band with no valid pixel has max < min


def _plain_label(text: str = "", style: str = "") -> QLabel:
    """A word-wrapped label that never interprets its text as HTML."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(style)
    return label


def plain_tooltip(text: str) -> str:
    """A tooltip showing ``text`` literally (Qt renders tooltips that look like HTML), wrapped to the screen."""
    return f"<p>{html.escape(text)}</p>"


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
    optical = ", ".join(esc(b["name"]) for b in card.get("optical_bands", [])) or esc(tr("none"))
    sar = ", ".join(f"{esc(b['name'])} ({esc(b['unit'])})" for b in card.get("sar_bands", [])) or esc(tr("none"))
    swatches = " ".join(
        f'<span style="background:{esc(c["color"])}">&nbsp;&nbsp;&nbsp;</span>&nbsp;{esc(class_label(c))}'
        for c in card.get("classes", [])
    )
    rows = [
        f"<b>{esc(card.get('architecture', '?'))}</b> ({esc(card.get('variant', ''))})",
        esc(tr("Optical bands: {bands}")).format(bands=optical),
        esc(tr("SAR bands: {bands}")).format(bands=sar),
        esc(tr("Classes: {classes}")).format(classes=swatches),
        esc(tr("Training data: {data}")).format(data=esc(card.get("training_data") or tr("not stated"))),
    ]
    if card.get("licence"):
        rows.append(esc(tr("Licence: {licence}")).format(licence=esc(card["licence"])))
    if "reconstruction" in card.get("outputs", []):
        rows.append(esc(tr("Also reconstructs a cloud-free optical image.")))
    return "<br>".join(rows)
