"""Class names survive the GeoTIFF round trip whatever they contain, commas included."""

import dataclasses
import json
import xml.etree.ElementTree as ET

import rasterio

from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.engine.style import class_names_from_tags
from landfuse.backend.runners import OnnxRunner
from landfuse.common.card import ClassSpec
from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module

NAMES = ["trees, shrubs and hedges", 'water "open"', "built-up <urban> & roads"]


def test_names_with_commas_quotes_and_markup(scene, tmp_path):
    classes = tuple(ClassSpec(i, name, f"#10203{i}") for i, name in enumerate(NAMES))
    card = dataclasses.replace(tiny_card(), classes=classes)
    runner = OnnxRunner(export_onnx(tiny_module(card), card, tmp_path / "commas.onnx"), "cpu")
    out = tmp_path / "map.tif"
    classify(*scene, runner, out, options=ClassifyOptions(tile_size=64))
    with rasterio.open(out) as src:
        tags = src.tags(1)
    assert json.loads(tags["CLASS_NAMES_JSON"]) == NAMES
    assert "CLASS_NAMES" not in tags, "the comma-separated tag would split 'trees, shrubs and hedges'"
    assert class_names_from_tags(tags) == NAMES
    categories = ET.parse(f"{out}.aux.xml").getroot().iter("Category")
    assert [category.text for category in categories] == NAMES
    palette = ET.parse(out.with_suffix(".qml")).getroot().iter("paletteEntry")
    assert [entry.get("label") for entry in palette] == NAMES


def test_plain_names_keep_the_comma_separated_tag_too(scene, tiny_runner, tmp_path):
    classify(*scene, tiny_runner, tmp_path / "map.tif", options=ClassifyOptions(tile_size=64))
    with rasterio.open(tmp_path / "map.tif") as src:
        tags = src.tags(1)
    names = [c.name for c in tiny_runner.card.classes]
    assert tags["CLASS_NAMES"] == ",".join(names) and json.loads(tags["CLASS_NAMES_JSON"]) == names
    assert class_names_from_tags({"CLASS_NAMES": "a,b"}) == ["a", "b"]
    assert class_names_from_tags({}) is None
