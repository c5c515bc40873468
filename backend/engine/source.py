"""Model inputs for a region of the grid: read, unit-converted, normalised, masked and padded."""

from __future__ import annotations

import numpy as np
from rasterio.windows import Window

from .inputs import RasterInput
from .normalise import Normaliser, convert_sar


def pad_to(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Zero-pad the last two axes of ``array`` at the bottom/right to ``height`` x ``width``."""
    pad_h, pad_w = height - array.shape[-2], width - array.shape[-1]
    if not pad_h and not pad_w:
        return array
    return np.pad(array, [(0, 0)] * (array.ndim - 2) + [(0, pad_h), (0, pad_w)])


class ModelInputSource:
    """Reads the model's modalities on the reference grid.

    inputs: {"optical": RasterInput, "sar": RasterInput} (only the card's modalities);
    normalisers: the card's per-band normalisation per modality; sar_units: (raster unit, card unit).
    """

    def __init__(self, inputs: dict[str, RasterInput], normalisers: dict[str, Normaliser], sar_units: tuple[str, str]):
        self.inputs = inputs
        self.normalisers = normalisers
        self.sar_units = sar_units

    def read(self, y0: int, x0: int, height: int, width: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Normalised float32 [bands, h, w] per modality (0 where invalid) and validity bool [h, w]."""
        window = Window(x0, y0, width, height)
        arrays, valid = {}, np.ones((height, width), bool)
        for name, raster in self.inputs.items():
            values, ok = raster.read(window)
            if name == "sar":
                values = convert_sar(values, *self.sar_units)
            arrays[name] = self.normalisers[name](values)
            valid &= ok
        for array in arrays.values():
            array[:, ~valid] = 0.0
        return arrays, valid

    def close(self) -> None:
        for raster in self.inputs.values():
            raster.close()
