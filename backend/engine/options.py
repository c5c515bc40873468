"""Options and the cancellation token of a classification job."""

from __future__ import annotations

import threading
from dataclasses import dataclass

SAR_UNIT_CHOICES = ("auto", "dB", "linear")


class CancelToken:
    """Thread-safe cancellation flag: any thread calls ``cancel()``, the engine polls ``cancelled``."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class ClassifyOptions:
    """How a raster pair is tiled, aligned and run.

    tile_size: model window in pixels (default: the card's ``tile_size``); a multiple of
        ``card.size_multiple``.
    overlap: pixels shared by neighbouring windows (default: a quarter of the tile).
    batch_size: windows per model call.
    device: "auto", "cpu" or "cuda" (used when ``classify`` loads the model itself).
    target_crs: output CRS ("EPSG:32633", WKT, ...) or "utm" for the local UTM zone; default: the
        optical raster's CRS (the SAR raster's for a SAR-only model).
    resolution: output pixel size in target CRS units (one number or (x, y)); default: the
        reference raster's pixel size, or the card's ``gsd_m`` when the CRS changes.
    extent: (xmin, ymin, xmax, ymax) in the target CRS; default: the reference raster's extent.
    sar_unit: unit of the SAR input: "auto" (detected from its values), "dB" or "linear" power;
        converted to the unit the card expects.
    low_confidence_threshold: pixels whose top probability is below it count as low confidence.
    queue_size: batches buffered between the reader, the model and the writer.
    """

    tile_size: int | None = None
    overlap: int | None = None
    batch_size: int = 4
    device: str = "auto"
    target_crs: str | None = None
    resolution: float | tuple[float, float] | None = None
    extent: tuple[float, float, float, float] | None = None
    sar_unit: str = "auto"
    low_confidence_threshold: float = 0.5
    queue_size: int = 2
