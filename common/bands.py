"""Band names: one matcher for the backend and the plugin, and cheap checks of what the data look like.

Raster band descriptions name the same band in many ways: ``B2``, ``B02``, ``b2``, ``B02_10m``,
``Band 2: B2`` (QGIS's band name), ``B8A`` / ``B08A``, ``VV``, ``vv``, ``Sigma0_VV_db``, ``VV_dB``.
:func:`band_key` reduces each to one key (``B2``, ``B8A``, ``VV``) so that ``B2`` never matches
``B12`` or ``B1`` and ``B8`` never matches ``B8A``; :func:`match_bands` finds a card's bands in a raster.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

POLARISATIONS = ("VV", "VH", "HH", "HV")
_QGIS_BAND_PREFIX = re.compile(r"^\s*band\s+\d+\s*(?::\s*|$)", re.IGNORECASE)
_SENTINEL2_BAND = re.compile(r"B0*(\d{1,2})(A?)")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
SCALED_REFLECTANCE_MAX = 1.5  # reflectance x 10000 never stays this low over a scene
UNSCALED_REFLECTANCE_MAX = 10.0  # reflectance 0-1 never reaches this


def _tokens(text: str) -> list[str]:
    return [token.upper() for token in _SEPARATORS.split(text) if token]


def _known_band(token: str) -> str | None:
    """``"B02"`` -> ``"B2"``, ``"B08A"`` -> ``"B8A"``, ``"VV"`` -> ``"VV"``; None for other tokens."""
    match = _SENTINEL2_BAND.fullmatch(token)
    if match:
        return f"B{int(match.group(1))}{match.group(2)}"
    return token if token in POLARISATIONS else None


def band_key(name: str | None) -> str:
    """The canonical key of a band name or description; ``""`` for an unnamed band.

    A name holding exactly one Sentinel-2 band or polarisation token gives that token (``"Sigma0_VV_db"``
    -> ``"VV"``, ``"Band 2: B02"`` -> ``"B2"``); any other name gives its letters and digits upper-cased
    (``"Red edge 1"`` -> ``"REDEDGE1"``). QGIS's ``"Band N"`` alone names no band.
    """
    text = _QGIS_BAND_PREFIX.sub("", name or "", count=1)
    known = {band for band in map(_known_band, _tokens(text)) if band}
    if len(known) == 1:
        return known.pop()
    return "".join(_tokens(text))


def match_bands(descriptions: Sequence[str | None], wanted: Sequence[str]) -> list[int | None]:
    """For each ``wanted`` band name, the 1-based index of the band whose description names it, or None.

    An equal key (:func:`band_key`) wins, the first such band when several have it; otherwise a band whose
    description holds the wanted name as one word (``"red"`` in ``"red_10m"``) when exactly one does.
    """
    keys = [band_key(d) for d in descriptions]
    words = [set(_tokens(_QGIS_BAND_PREFIX.sub("", d or "", count=1))) for d in descriptions]
    found: list[int | None] = []
    for name in wanted:
        key = band_key(name)
        if not key:
            found.append(None)
        elif key in keys:
            found.append(keys.index(key) + 1)
        else:
            holding = [index for index, tokens in enumerate(words, start=1) if key in tokens]
            found.append(holding[0] if len(holding) == 1 else None)
    return found


def parse_band_list(text: str | None) -> list[int | str]:
    """``"B2, B3,4"`` -> ``["B2", "B3", 4]``: comma-separated band names; numbers are 1-based indexes."""
    items = [item.strip() for item in (text or "").split(",")]
    return [int(item) if item.isdigit() else item for item in items if item]


def band_listing(descriptions: Sequence[str | None], limit: int = 20) -> str:
    """``"1 'B1', 2 'B2', 3 (no name)"``: a raster's bands for messages (the first ``limit`` of them)."""
    shown = [f"{i} {d!r}" if d else f"{i} (no name)" for i, d in enumerate(descriptions[:limit], start=1)]
    if len(descriptions) > limit:
        shown.append(f"... {len(descriptions)} bands in all")
    return ", ".join(shown)


# -- does the data look like the product the model expects? ----------------------------------------


def reflectance_scale_warning(card_unit: str, maximum: float) -> str | None:
    """A warning when optical values (``maximum`` over a sample) are scaled unlike the card's ``card_unit``.

    Cards say ``"reflectance x 10000"`` (Sentinel-2 L2A digital numbers) or ``"reflectance"`` (0-1).
    """
    unit = card_unit.lower()
    if "reflectance" not in unit:
        return None
    if "10000" in unit and maximum <= SCALED_REFLECTANCE_MAX:
        return (
            f"the values stay below {maximum:.3g}: they look like reflectance scaled 0-1, but the model expects "
            "reflectance x 10000. Multiply the bands by 10000 (Raster Calculator) first"
        )
    if "10000" not in unit and maximum > UNSCALED_REFLECTANCE_MAX:
        return (
            f"the values reach {maximum:.6g}: they look like reflectance x 10000, but the model expects "
            "reflectance 0-1. Divide the bands by 10000 (Raster Calculator) first"
        )
    return None


def sar_unit_warning(card_unit: str, minimum: float, mean: float) -> str | None:
    """A note when SAR values (``minimum``, ``mean`` over a sample) are not in the card's unit (dB or linear).

    Linear power is never negative and mostly below 1; backscatter in dB is mostly negative.
    """
    if minimum < 0:
        found = "dB"
    elif mean < 1:
        found = "linear"
    else:
        return (
            f"the values (mean {mean:.3g}, none negative) look like neither backscatter in dB nor linear power "
            "(amplitude or digital numbers?): calibrate the SAR layer to sigma0 first"
        )
    if found == card_unit:
        return None
    return f"the values look like {found} backscatter; the model expects {card_unit}: they are converted when it runs"


def level_1c_warning(descriptions: Sequence[str | None], source: str, card_text: str) -> str | None:
    """A warning when a Sentinel-2 layer looks like Level-1C and the card does not mention Level-1C.

    Level-1C (top-of-atmosphere) stacks carry the cirrus band B10, which Level-2A products drop; product
    names and GDAL subdataset names say ``L1C`` / ``MSIL1C``.
    """
    if re.search(r"L(?:EVEL)?[-_ ]?1C", card_text, re.IGNORECASE):
        return None
    has_b10 = "B10" in (band_key(d) for d in descriptions)
    named_l1c = bool(re.search(r"(?<![A-Za-z0-9])(?:MSIL1C|L1C)(?![A-Za-z0-9])", source, re.IGNORECASE))
    if not (has_b10 or named_l1c):
        return None
    why = "it has the cirrus band B10" if has_b10 else "its name says L1C"
    return (
        f"it looks like Sentinel-2 Level-1C, top-of-atmosphere reflectance ({why}); the model card does not "
        "mention Level-1C, and models trained on Level-2A surface reflectance are biased on it"
    )
