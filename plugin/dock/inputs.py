"""The dock's inputs panel: the optical and the SAR layer, and which of their bands feed the model.

The band mapping chosen for a layer and a model is kept in the project and comes back when the same layer and
model are picked again.
"""

from __future__ import annotations

import hashlib
import json

from qgis.core import QgsMapLayerProxyModel, QgsProject, QgsRasterLayer
from qgis.gui import QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import QComboBox, QFormLayout, QGroupBox, QWidget

from ..algorithms.classify import ClassifyAlgorithm
from ..i18n import tr
from ..widgets import BandMapping, unsupported_reason
from .project import read_entry, write_entry

COMBO_MINIMUM_CHARACTERS = 12  # layer names are elided below this: the dock stays narrow


class InputsPanel(QGroupBox):
    """Two layer pickers, each with its band mapping; :meth:`set_model` gives them the model's card bands."""

    def __init__(self, project: QgsProject, parent: QWidget | None = None) -> None:
        super().__init__(tr("Inputs"), parent)
        self.project = project
        self.card: dict | None = None
        self.model_spec = ""
        self.optical_combo, self.optical_bands = self._layer_picker("optical")
        self.sar_combo, self.sar_bands = self._layer_picker("sar")
        self.optical_combo.setToolTip(
            tr(
                "The optical raster (e.g. Sentinel-2): any raster GDAL opens. Web and database layers are listed "
                "but must be exported first."
            )
        )
        self.sar_combo.setToolTip(
            tr("The SAR raster (e.g. Sentinel-1 VV/VH): any raster GDAL opens. It is resampled onto the optical grid.")
        )
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(tr("Optical layer"), self.optical_combo)
        form.addRow(tr("Optical bands"), self.optical_bands)
        form.addRow(tr("SAR layer"), self.sar_combo)
        form.addRow(tr("SAR bands"), self.sar_bands)

    def _layer_picker(self, kind: str) -> tuple[QgsMapLayerComboBox, BandMapping]:
        """A raster layer combo (every raster; the mapping explains the ones GDAL cannot read) and its band mapping."""
        combo = QgsMapLayerComboBox()
        combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        combo.setAllowEmptyLayer(True)
        combo.setLayer(None)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(COMBO_MINIMUM_CHARACTERS)
        mapping = BandMapping(kind)
        combo.layerChanged.connect(self._on_layer_changed)  # bound methods: Qt drops them with the panel
        mapping.edited.connect(self._on_mapping_edited)
        return combo, mapping

    # ----------------------------------------------------------------- what a run needs
    def set_model(self, card: dict | None, spec: str) -> None:
        """The model's card (``None`` while it is read) and its demo name or file: the rows follow its bands."""
        self.card, self.model_spec = card, spec
        self._refresh_mapping(self.optical_bands, self.optical_combo.currentLayer())
        self._refresh_mapping(self.sar_bands, self.sar_combo.currentLayer())

    def problem(self) -> str | None:
        """Why a run cannot start with these inputs, with what to do; ``None`` when it can."""
        optical, sar = self.optical_combo.currentLayer(), self.sar_combo.currentLayer()
        if optical is None or sar is None:
            return tr("Choose an optical and a SAR layer first.")
        return unsupported_reason(optical) or unsupported_reason(sar)

    def parameters(self) -> dict:
        """The classify parameters of the two layers and their bands."""
        return {
            ClassifyAlgorithm.OPTICAL: self.optical_combo.currentLayer().id(),  # Processing reads any GDAL source
            **band_parameters(
                self.optical_bands.selection(), ClassifyAlgorithm.OPTICAL_BANDS, ClassifyAlgorithm.OPTICAL_BAND_NAMES
            ),
            ClassifyAlgorithm.SAR: self.sar_combo.currentLayer().id(),
            **band_parameters(
                self.sar_bands.selection(), ClassifyAlgorithm.SAR_BANDS, ClassifyAlgorithm.SAR_BAND_NAMES
            ),
        }

    # ----------------------------------------------------------------- band mapping, kept in the project
    def _on_layer_changed(self, layer: QgsRasterLayer | None) -> None:
        mapping = self.optical_bands if self.sender() is self.optical_combo else self.sar_bands
        self._refresh_mapping(mapping, layer)

    def _on_mapping_edited(self) -> None:
        mapping = self.sender()
        key = self._mapping_key(mapping.kind, mapping.layer)
        if key is not None and mapping.specs:
            write_entry(self.project, key, json.dumps(mapping.state()))

    def _refresh_mapping(self, mapping: BandMapping, layer: QgsRasterLayer | None) -> None:
        """Rows for the card's bands of ``mapping``'s kind, restored from the project when chosen before."""
        card = self.card or {}
        specs = card.get(f"{mapping.kind}_bands") or []
        card_text = " ".join([str(card.get(key) or "") for key in ("training_data", "description")])
        card_text += " " + " ".join(spec["unit"] for spec in specs)
        saved = self._saved_mapping(mapping.kind, layer) if specs else None
        mapping.set_inputs(layer, specs, card_text, saved)

    def _mapping_key(self, kind: str, layer: QgsRasterLayer | None) -> str | None:
        """The project entry of ``layer``'s band mapping for the current model (a valid XML name)."""
        if layer is None or not self.model_spec:
            return None
        digest = hashlib.sha1(f"{kind}\n{layer.id()}\n{self.model_spec}".encode()).hexdigest()[:20]
        return f"band_mapping/m{digest}"

    def _saved_mapping(self, kind: str, layer: QgsRasterLayer | None) -> dict | None:
        key = self._mapping_key(kind, layer)
        text = read_entry(self.project, key) if key else ""
        try:
            return json.loads(text) if text else None
        except ValueError:
            return None


def band_parameters(selection: list[int | str] | None, indexes: str, names: str) -> dict:
    """The classify parameters for a band mapping: ``indexes`` when every band is an index, else ``names``."""
    if selection is None:
        return {}
    if all(isinstance(band, int) for band in selection):
        return {indexes: selection}
    return {names: ",".join(str(band) for band in selection)}
