"""One aligned training or evaluation sample, and label-code mapping.

Arrays are numpy, ready for ``torch.from_numpy``: optical ``float32 [Co, H, W]`` in the dataset's
physical units (surface reflectance x 10000, or digital numbers), SAR ``float32 [Cs, H, W]`` (dB
for Sentinel-1), label ``uint8 [h, w]`` class ids with 255 = no label. The label may sit on a coarser
grid than the images (M3M-CR: 300x300 optical at 3 m, 90x90 label at 10 m); every other array shares
the optical grid. ``cloud_mask`` is ``uint8 [H, W]`` (1 = cloud or shadow) and ``optical_clear`` the
cloud-free twin of ``optical``, when the dataset has them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NODATA = 255


@dataclass
class Sample:
    """Aligned arrays of one scene or patch; ``None`` where the dataset has no such layer."""

    name: str
    optical: np.ndarray | None = None
    sar: np.ndarray | None = None
    label: np.ndarray | None = None
    cloud_mask: np.ndarray | None = None
    optical_clear: np.ndarray | None = None

    @property
    def image_shape(self) -> tuple[int, int]:
        """``(H, W)`` of the image grid (optical, else SAR, else label)."""
        for array in (self.optical, self.sar):
            if array is not None:
                return tuple(array.shape[-2:])
        return tuple(self.label.shape)


def map_codes(values: np.ndarray, code_map: dict[int, int], nodata: int = NODATA) -> np.ndarray:
    """Label-file values -> ``uint8`` class ids through ``code_map``; codes it does not list become ``nodata``."""
    values = np.asarray(values)
    out = np.full(values.shape, nodata, dtype=np.uint8)
    for code, class_id in code_map.items():
        out[values == code] = class_id
    return out
