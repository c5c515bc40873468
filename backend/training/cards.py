"""Model cards fitted to a dataset: its class scheme and, when they differ from the default card's, its bands.

The demo and M3M-CR cards already match the synthetic/Dynamic World/SEN12MS and M3M-CR data. For
any other band set (WHU-OPT-SAR GF-1/GF-3, PIE-RGB-SAR, generic folders) the normalisation of each
band is measured on the training data: mean and standard deviation over up to ``sample_count``
samples, no clipping.
"""

from __future__ import annotations

import numpy as np

from ...common.card import BandSpec
from ..data.base import SampleDataset
from ..models.presets import classes
from ..models.registry import default_card

MODALITIES = (("optical", "optical_bands", "optical_unit"), ("sar", "sar_bands", "sar_unit"))


def measured_bands(
    dataset: SampleDataset, modality: str, names: tuple[str, ...], unit: str, sample_count: int = 16
) -> tuple[BandSpec, ...]:
    """Band specs with mean/std measured on the first ``sample_count`` samples (NaN ignored)."""
    arrays = [getattr(dataset[i], modality) for i in range(min(len(dataset), sample_count))]
    arrays = [a for a in arrays if a is not None]
    if not arrays:
        return ()
    values = np.concatenate([a.reshape(a.shape[0], -1) for a in arrays], axis=1)
    names = names if len(names) == values.shape[0] else tuple(f"band_{i + 1}" for i in range(values.shape[0]))
    means, stds = np.nanmean(values, axis=1), np.nanstd(values, axis=1)
    return tuple(BandSpec(n, unit, float(m), float(max(s, 1e-6))) for n, m, s in zip(names, means, stds, strict=True))


def card_overrides_for(architecture: str, variant: str, dataset: SampleDataset) -> dict:
    """Card fields to change so ``architecture``/``variant`` fits ``dataset`` (empty when it already does)."""
    card = default_card(architecture, variant)
    overrides = {}
    scheme = classes(dataset.scheme)
    if scheme != card.classes:
        overrides["classes"] = scheme
        overrides["training_data"] = f"{type(dataset).__name__} ({dataset.scheme} classes)"
    for modality, field, unit_field in MODALITIES:
        names = getattr(dataset, field)
        current = getattr(card, field)
        if names and tuple(b.name for b in current) == tuple(names):
            continue
        overrides[field] = measured_bands(dataset, modality, names, getattr(dataset, unit_field))
    return overrides
