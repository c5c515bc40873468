"""Per-band normalisation from the model card, and SAR unit handling (dB / linear power)."""

from __future__ import annotations

import numpy as np

from ...common.card import BandSpec
from ..errors import BadParamsError, BandError
from .options import SAR_UNIT_CHOICES

LINEAR_FLOOR = 1e-10  # linear power floor before log10 (-100 dB)


def detect_sar_unit(sample: np.ndarray) -> str | None:
    """ "dB" or "linear" from sample values float32 [n, bands]; None when there is nothing to look at.

    Backscatter in dB is mostly negative; linear power is never negative and mostly below 1.
    """
    if sample.size == 0:
        return None
    if (sample < 0).mean() > 0.05:
        return "dB"
    if np.median(sample) < 1.0:
        return "linear"
    raise BandError(
        f"the SAR values (median {float(np.median(sample)):.4g}, none negative) look like neither backscatter in dB "
        "nor linear power (amplitude or digital numbers?); calibrate the SAR raster or set the SAR unit explicitly"
    )


def sar_input_unit(option: str, sample: np.ndarray, card_unit: str) -> str:
    """The unit of the SAR raster: the user's choice, or detected for "auto" (card unit if unknown)."""
    if option not in SAR_UNIT_CHOICES:
        raise BadParamsError(f"sar_unit must be one of {SAR_UNIT_CHOICES}, got {option!r}")
    if option != "auto":
        return option
    return detect_sar_unit(sample) or card_unit


def convert_sar(values: np.ndarray, from_unit: str, to_unit: str) -> np.ndarray:
    """SAR power converted between "linear" and "dB" (in place when possible), float32."""
    if from_unit == to_unit:
        return values
    if to_unit == "dB":
        return 10.0 * np.log10(np.maximum(values, LINEAR_FLOOR), dtype=np.float32)
    return np.power(np.float32(10.0), values / np.float32(10.0), dtype=np.float32)


class Normaliser:
    """``(clip(x, lo, hi) - mean) / std`` per band, from the card, as float32 [bands, h, w]."""

    def __init__(self, specs: tuple[BandSpec, ...]):
        self.mean = np.array([b.mean for b in specs], np.float32)[:, None, None]
        self.std = np.array([b.std for b in specs], np.float32)[:, None, None]
        self.inverse_std = 1 / self.std
        inf = np.float32(np.inf)
        self.low = np.array([b.clip[0] if b.clip else -inf for b in specs], np.float32)[:, None, None]
        self.high = np.array([b.clip[1] if b.clip else inf for b in specs], np.float32)[:, None, None]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Normalised float32 [bands, h, w], computed in place in ``values`` (float32 [bands, h, w])."""
        np.maximum(values, self.low, out=values)  # np.clip is several times slower on these shapes
        np.minimum(values, self.high, out=values)
        values -= self.mean
        values *= self.inverse_std
        return values

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """Normalised values back to physical units (for the reconstruction output)."""
        return values * self.std + self.mean
