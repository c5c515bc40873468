"""The band-mapping widget on its own: rows from a card, prefill, restore, what the algorithm receives."""

from __future__ import annotations

from qgis.core import QgsRasterLayer

from landfuse.plugin.algorithms.classify import ClassifyAlgorithm
from landfuse.plugin.dock import band_parameters
from landfuse.plugin.widgets import BandMapping, automatic_label
from tests.plugin.helpers import OPTICAL_BANDS, tiny_card, write_scene

SPECS = [{"name": band.name, "unit": band.unit} for band in tiny_card().optical_bands]


def mapping_for(qtbot, tmp_path, saved=None) -> tuple[BandMapping, QgsRasterLayer]:
    optical, _ = write_scene(tmp_path, size=16)
    layer = QgsRasterLayer(str(optical), "optical")
    mapping = BandMapping("optical")
    qtbot.addWidget(mapping)
    mapping.set_inputs(layer, SPECS, "", saved)
    mapping.show()
    return mapping, layer


def test_rows_follow_the_card_and_unnamed_bands_are_taken_by_position(qtbot, tmp_path):
    mapping, _ = mapping_for(qtbot, tmp_path)
    assert [mapping.rows.itemAt(row, mapping.rows.LabelRole).widget().text() for row in (0, 8)] == [
        "B2 (reflectance x 10000)",
        "B12 (reflectance x 10000)",
    ]
    assert mapping.indexes() == list(range(1, 10)) and not mapping.automatic_check.isChecked()
    assert [mapping.combos[0].itemText(i) for i in range(3)] == [automatic_label(), "Band 1", "Band 2"]
    assert mapping.warning_label.isVisible() and "have no names" in mapping.warning_label.text()
    mapping.combos[1].setCurrentIndex(0)  # B3: automatic, sent by name
    assert mapping.selection() == [1, "B3", 3, 4, 5, 6, 7, 8, 9]
    mapping.automatic_check.click()
    assert mapping.selection() == list(OPTICAL_BANDS) and mapping.indexes() == [None] * 9
    assert "No band of 'optical' is named B2, B3" in mapping.warning_label.text()


def test_a_saved_mapping_is_restored_only_when_it_fits_the_layer(qtbot, tmp_path):
    reversed_bands = {"automatic": False, "bands": list(range(9, 0, -1))}
    mapping, layer = mapping_for(qtbot, tmp_path / "fits", reversed_bands)
    assert mapping.indexes() == list(range(9, 0, -1)) and mapping.state() == reversed_bands
    mapping.set_inputs(layer, SPECS, "", {"automatic": False, "bands": [12] * 9})  # band 12 does not exist
    assert mapping.indexes() == list(range(1, 10))


def test_the_mapping_becomes_indexes_or_names_for_the_algorithm():
    indexes, names = ClassifyAlgorithm.OPTICAL_BANDS, ClassifyAlgorithm.OPTICAL_BAND_NAMES
    assert band_parameters([2, 3, 4], indexes, names) == {indexes: [2, 3, 4]}
    assert band_parameters(["B2", 3, "B4"], indexes, names) == {names: "B2,3,B4"}
    assert band_parameters(None, indexes, names) == {}
