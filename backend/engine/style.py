"""How a class map names its classes: band tags, a QGIS ``.qml`` paletted renderer and GDAL category names.

Class names may contain any character, commas included. The band tag ``CLASS_NAMES_JSON`` holds
them as a JSON list (index = class id); the older comma-separated ``CLASS_NAMES`` tag is written
too when no name contains a comma, for readers that know only that one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from xml.sax.saxutils import quoteattr

from ...common.card import ModelCard
from ...common.classes import CONFIDENCE_RAMP

_QML = """<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="AllStyleCategories"
      hasScaleBasedVisibilityFlag="0" minScale="1e+08" maxScale="0">
  <flags>
    <Identifiable>1</Identifiable>
    <Removable>1</Removable>
    <Searchable>1</Searchable>
    <Private>0</Private>
  </flags>
  <customproperties/>
  <pipe-data-defined-properties>
    <Option type="Map">
      <Option type="QString" name="name" value=""/>
      <Option name="properties"/>
      <Option type="QString" name="type" value="collection"/>
    </Option>
  </pipe-data-defined-properties>
  <pipe>
    <provider>
      <resampling enabled="false" maxOversampling="2"
                  zoomedInResamplingMethod="nearestNeighbour" zoomedOutResamplingMethod="nearestNeighbour"/>
    </provider>
{renderer_open}
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
{renderer_body}
    </rasterrenderer>
    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" colorizeOn="0" colorizeRed="255" colorizeGreen="128" colorizeBlue="128"
                   colorizeStrength="100" grayscaleMode="0" invertColors="0"/>
    <rasterresampler maxOversampling="2"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
"""


CLASS_NAMES_TAG = "CLASS_NAMES_JSON"
LEGACY_CLASS_NAMES_TAG = "CLASS_NAMES"


def class_name_tags(card: ModelCard) -> dict[str, str]:
    """Band-1 tags of a class map naming its classes (see the module docstring)."""
    names = [c.name for c in card.classes]
    tags = {CLASS_NAMES_TAG: json.dumps(names, ensure_ascii=False)}
    if not any("," in name for name in names):
        tags[LEGACY_CLASS_NAMES_TAG] = ",".join(names)
    return tags


def class_names_from_tags(tags: Mapping[str, str]) -> list[str] | None:
    """Class names (index = class id) from a class map's band-1 tags, or ``None`` when it has none."""
    if CLASS_NAMES_TAG in tags:
        try:
            names = json.loads(tags[CLASS_NAMES_TAG])
        except ValueError:
            names = None
        if isinstance(names, list) and all(isinstance(name, str) for name in names):
            return names
    legacy = tags.get(LEGACY_CLASS_NAMES_TAG)
    return legacy.split(",") if legacy else None


def qml_text(card: ModelCard) -> str:
    """QGIS 3.22 style: paletted renderer on band 1 with the card's class ids, colours and names."""
    entries = "\n".join(
        f'        <paletteEntry value="{c.id}" color="{c.color.lower()}" alpha="255" label={quoteattr(c.name)}/>'
        for c in card.classes
    )
    renderer_open = '    <rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">\n'
    renderer_open += "      <rasterTransparency/>"
    body = f"      <colorPalette>\n{entries}\n      </colorPalette>"
    return _QML.format(renderer_open=renderer_open, renderer_body=body)


def confidence_qml_text() -> str:
    """QGIS 3.22 style of a confidence map: a red-to-green pseudocolour ramp over 0..100 %."""
    renderer_open = (
        '    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1" nodataColor=""\n'
        '                    classificationMin="0" classificationMax="100">\n'
        "      <rasterTransparency/>"
    )
    items = "\n".join(
        f'            <item alpha="255" value="{value}" label={quoteattr(label)} color="{colour}"/>'
        for value, colour, label in CONFIDENCE_RAMP
    )
    body = (
        "      <rastershader>\n"
        '        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0"\n'
        '                         minimumValue="0" maximumValue="100" labelPrecision="0">\n'
        f"{items}\n"
        "        </colorrampshader>\n"
        "      </rastershader>"
    )
    return _QML.format(renderer_open=renderer_open, renderer_body=body)


def category_aux_xml(card: ModelCard) -> str:
    """GDAL PAM sidecar (``<file>.aux.xml``) naming the categories (class ids 0..K-1) of band 1."""
    categories = "\n".join(f"      <Category>{_escape(c.name)}</Category>" for c in card.classes)
    return (
        '<PAMDataset>\n  <PAMRasterBand band="1">\n    <CategoryNames>\n'
        f"{categories}\n    </CategoryNames>\n  </PAMRasterBand>\n</PAMDataset>\n"
    )


def _escape(text: str) -> str:
    return quoteattr(text)[1:-1]
