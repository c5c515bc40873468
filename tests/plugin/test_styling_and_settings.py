"""Styling of class and confidence maps, the settings round trip and the options page, in the real QGIS."""

from __future__ import annotations

import json

import pytest
from qgis.core import (
    QgsPalettedRasterRenderer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsRasterLayer,
    QgsSingleBandPseudoColorRenderer,
)

from landfuse.plugin import settings
from landfuse.plugin.styling import (
    OutputStyler,
    apply_class_style,
    apply_confidence_style,
    class_label,
    legend_labels,
    true_colour_bands,
)
from landfuse.plugin.widgets import ClassAreaChart, card_html
from tests.paths import REPO_ROOT
from tests.plugin.helpers import tiny_card, write_labels, write_scene

DYNAMIC_WORLD = json.loads((REPO_ROOT / "resources" / "classes" / "dynamic_world.json").read_text())["classes"]


@pytest.fixture()
def saved_settings():
    """Restores the LandFuse settings a test changes."""
    before = settings.load()
    yield
    settings.save(before)


def test_class_style_is_paletted_with_class_names_and_colours(tmp_path):
    layer = QgsRasterLayer(str(write_labels(tmp_path / "classes.tif")), "classes")
    assert layer.isValid()
    apply_class_style(layer, DYNAMIC_WORLD)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer)
    assert legend_labels(layer) == {c["id"]: class_label(c) for c in DYNAMIC_WORLD}
    assert legend_labels(layer)[3] == "Flooded vegetation"
    colours = {c.value: c.color.name() for c in renderer.classes()}
    assert colours[0] == "#419bdf" and 255 not in colours


def test_confidence_style_ramps_over_percent(tmp_path):
    optical, _ = write_scene(tmp_path)
    layer = QgsRasterLayer(str(optical), "confidence")
    apply_confidence_style(layer)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
    assert (renderer.classificationMin(), renderer.classificationMax()) == (0, 100)
    assert legend_labels(layer) == {}


def test_a_confidence_map_loaded_by_processing_gets_its_style_saved_beside_it(tmp_path):
    optical, _ = write_scene(tmp_path)
    layer = QgsRasterLayer(str(optical), "confidence")
    OutputStyler("confidence").postProcessLayer(layer, QgsProcessingContext(), QgsProcessingFeedback())
    assert isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer)
    reopened = QgsRasterLayer(str(optical), "reopened")  # QGIS applies optical.qml as the default style
    assert (tmp_path / "optical.qml").is_file() and isinstance(reopened.renderer(), QgsSingleBandPseudoColorRenderer)
    assert (reopened.renderer().classificationMin(), reopened.renderer().classificationMax()) == (0, 100)


def test_true_colour_bands_come_from_the_band_names():
    assert true_colour_bands(["B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B12"]) == (3, 2, 1)
    assert true_colour_bands(["NIR", "R", "G", "B"]) == (2, 3, 4)
    assert true_colour_bands(["VV", "VH", "ratio", "x"]) == (3, 2, 1)
    assert true_colour_bands(["pan"]) == (1, 1, 1)


def test_settings_round_trip_and_device(saved_settings, tmp_path):
    values = settings.Settings(
        interpreter="/opt/env/bin/python",
        models_folder=str(tmp_path),
        llm_path="/models/phi3.gguf",
        use_gpu=False,
        tile_size=256,
        output_folder="",
    )
    settings.save(values)
    loaded = settings.load()
    assert loaded == values
    assert loaded.device == "cpu"
    assert loaded.resolved_interpreter() == "/opt/env/bin/python"
    assert loaded.resolved_output_folder() is None  # beside each project file, never the temporary folder
    settings.save(settings.Settings("", "", "", True, 0, ""))
    assert settings.load().device == "auto"
    assert settings.load().resolved_interpreter().endswith(".venv/bin/python")


def test_options_page_applies_its_fields(saved_settings, qtbot, tmp_path):
    from landfuse.plugin.settings_page import LandFuseOptionsFactory, LandFuseOptionsPage

    page = LandFuseOptionsPage()
    qtbot.addWidget(page)
    page.models_folder.setFilePath(str(tmp_path))
    page.tile_size.setValue(320)
    page.use_gpu.setChecked(False)
    page.apply()
    loaded = settings.load()
    assert (loaded.models_folder, loaded.tile_size, loaded.use_gpu) == (str(tmp_path), 320, False)
    assert LandFuseOptionsFactory().title() == "LandFuse"


def test_chart_and_card_view(qtbot):
    chart = ClassAreaChart()
    qtbot.addWidget(chart)
    entries = [{**c, "pixels": 10, "hectares": 1.0 + c["id"], "share": (1.0 + c["id"]) / 45} for c in DYNAMIC_WORLD]
    chart.set_classes(entries)
    assert [c["name"] for c in chart.classes][0] == "snow_and_ice"
    image = chart.grab().toImage()
    assert image.height() == chart.height() > 9 * ClassAreaChart.ROW_HEIGHT
    assert len({image.pixel(x, y) for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)}) > 3

    html = card_html(tiny_card(reconstruction=True).to_dict())
    assert "B11" in html and "VH (dB)" in html and "Flooded vegetation" in html and "cloud-free" in html
