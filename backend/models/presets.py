"""Input band sets and class schemes that the default model cards are made of.

Normalisation of every band is ``(clip(x, lo, hi) - mean) / std`` (see ``common.card.BandSpec``).

- Demo set (the Dynamic World inputs): Sentinel-2 L2A B2, B3, B4, B5, B6, B7, B8, B11, B12 as
  surface reflectance x 10000 (uint16), Sentinel-1 VV, VH backscatter in dB. Means and standard
  deviations are rounded typical values of global L2A land scenes and of S1 GRD land backscatter;
  they only need to bring inputs to about zero mean and unit variance.
- M3M-CR set (CloudSeg): PlanetScope B, G, R, NIR x 10000 clipped to [0, 10000] and divided by
  10000; S1 VV clipped to [-25, 0] dB -> (x + 25) / 25 and VH clipped to [-32.5, 0] -> (x + 32.5) / 32.5,
  exactly the official CloudSeg data loader.
"""

from __future__ import annotations

from ...common.card import BandSpec, ClassSpec, ModelCard
from ...common.classes import load_scheme

_REFLECTANCE_CLIP = (0.0, 10000.0)
_S2_L2A_STATS = {
    "B2": (1100.0, 900.0),
    "B3": (1250.0, 900.0),
    "B4": (1300.0, 1050.0),
    "B5": (1650.0, 1000.0),
    "B6": (2250.0, 1000.0),
    "B7": (2500.0, 1050.0),
    "B8": (2600.0, 1100.0),
    "B11": (2200.0, 1100.0),
    "B12": (1600.0, 1000.0),
}

DEMO_OPTICAL_BANDS: tuple[BandSpec, ...] = tuple(
    BandSpec(name, "reflectance x 10000", mean, std, _REFLECTANCE_CLIP) for name, (mean, std) in _S2_L2A_STATS.items()
)
DEMO_SAR_BANDS: tuple[BandSpec, ...] = (
    BandSpec("VV", "dB", -12.0, 5.0, (-40.0, 10.0)),
    BandSpec("VH", "dB", -19.0, 5.5, (-45.0, 5.0)),
)

PLANETSCOPE_BANDS: tuple[BandSpec, ...] = tuple(
    BandSpec(name, "reflectance x 10000", 0.0, 10000.0, _REFLECTANCE_CLIP) for name in ("B", "G", "R", "NIR")
)
M3M_CR_SAR_BANDS: tuple[BandSpec, ...] = (
    BandSpec("VV", "dB", -25.0, 25.0, (-25.0, 0.0)),
    BandSpec("VH", "dB", -32.5, 32.5, (-32.5, 0.0)),
)

DEMO_TRAINING_DATA = "synthetic training data: demonstration only, not for mapping"


def classes(scheme: str) -> tuple[ClassSpec, ...]:
    """The classes of a shipped scheme (``resources/classes/<scheme>.json``)."""
    return tuple(load_scheme(scheme))


def _card(architecture: str, variant: str, base: dict, fields: dict) -> ModelCard:
    return ModelCard(architecture=architecture, variant=variant, **{**base, **fields})


def demo_card(architecture: str, variant: str, **fields) -> ModelCard:
    """Card with the demo inputs (S2 9 bands + S1 VV/VH dB) and the 9 Dynamic World classes."""
    base = dict(
        optical_bands=DEMO_OPTICAL_BANDS,
        sar_bands=DEMO_SAR_BANDS,
        classes=classes("dynamic_world"),
        gsd_m=10.0,
        training_data=DEMO_TRAINING_DATA,
    )
    return _card(architecture, variant, base, fields)


def m3m_cr_card(architecture: str, variant: str, **fields) -> ModelCard:
    """Card with the M3M-CR inputs (PlanetScope 4 bands + S1 VV/VH dB) and its 6 classes, 3 m pixels."""
    base = dict(
        optical_bands=PLANETSCOPE_BANDS,
        sar_bands=M3M_CR_SAR_BANDS,
        classes=classes("m3m_cr"),
        gsd_m=3.0,
        tile_size=160,
        training_data="M3M-CR (Xu et al. 2024): PlanetScope + Sentinel-1 + ESA WorldCover labels",
    )
    return _card(architecture, variant, base, fields)


def teacher_split(variant: str) -> tuple[str, bool]:
    """``"lite_teacher"`` -> ``("lite", True)``; ``"paper"`` -> ``("paper", False)``."""
    return variant.removesuffix("_teacher"), variant.endswith("_teacher")


def cloud_model_card(architecture: str, variant: str, **fields) -> ModelCard:
    """Card of a cloud-aware model (CloudSeg, EDC): ``paper*`` on M3M-CR inputs, ``lite*`` on the demo set;
    students output ``logits`` and ``reconstruction``, teachers (``*_teacher``) only ``logits``."""
    size, teacher = teacher_split(variant)
    outputs = ("logits",) if teacher else ("logits", "reconstruction")
    make = m3m_cr_card if size == "paper" else demo_card
    return make(architecture, variant, outputs=outputs, **fields)
