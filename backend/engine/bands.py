"""Which bands of an input raster feed the model: by 1-based index or by band name."""

from __future__ import annotations

from ...common.bands import band_listing, match_bands
from ...common.card import BandSpec
from ..errors import BandError


def resolve_bands(dataset, requested: list[int | str] | None, specs: tuple[BandSpec, ...], name: str) -> list[int]:
    """1-based band indexes of ``dataset`` feeding the model's ``specs`` bands, in card order.

    ``requested``: one item per card band, a 1-based index (int) or a band name (str) matched against the
    raster's band descriptions (``"B02"`` finds ``B2``, ``"VV"`` finds ``Sigma0_VV_db``).
    Without ``requested``: the bands whose descriptions name the card's bands; when none does (unnamed
    bands) and the band count equals the card's, all bands in file order.
    Raises ``BandError`` naming the card band that could not be found and listing the raster's bands.
    """
    wanted = [b.name for b in specs]
    descriptions = list(dataset.descriptions)
    if requested is not None:
        if len(requested) != len(specs):
            raise BandError(
                f"the model needs {len(specs)} {name} bands ({', '.join(wanted)}), but {len(requested)} bands "
                f"were given ({requested}); give one 1-based index or band name per model band"
            )
        pairs = zip(requested, wanted, strict=True)
        return [_requested_band(item, card_band, descriptions, name) for item, card_band in pairs]
    found = match_bands(descriptions, wanted)
    if all(index is not None for index in found):
        return found
    if all(index is None for index in found) and dataset.count == len(specs):
        return list(range(1, dataset.count + 1))
    missing = [band for band, index in zip(wanted, found, strict=True) if index is None]
    raise BandError(
        f"the model needs the {name} bands {', '.join(wanted)}; the {name} raster has {dataset.count} band(s) "
        f"({band_listing(descriptions)}) and none is named {', '.join(missing)}. Set the band descriptions, or "
        "choose the bands by 1-based index or by name, in the model's order"
    )


def _requested_band(item: int | str, card_band: str, descriptions: list[str | None], name: str) -> int:
    """The 1-based index ``item`` stands for: itself, or the band whose description matches the name ``item``."""
    if isinstance(item, str):
        (index,) = match_bands(descriptions, [item])
        if index is None:
            raise BandError(
                f"no band of the {name} raster is named {item!r} (asked for the model's band {card_band}); its "
                f"bands: {band_listing(descriptions)}. Choose the band by 1-based index or by one of these names"
            )
        return index
    if isinstance(item, bool) or not 1 <= int(item) <= len(descriptions):
        raise BandError(
            f"the {name} raster has bands 1..{len(descriptions)}; band {item!r} (for the model's band "
            f"{card_band}) does not exist. Band indexes are 1-based like in QGIS"
        )
    return int(item)
