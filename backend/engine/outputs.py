"""Output files: written under temporary names, renamed into place only when the whole job succeeded."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError
from rasterio.windows import Window

from ...common.card import ModelCard
from ..errors import NotWritableError
from .blend import Piece
from .grid import Grid
from .normalise import Normaliser
from .stats import ClassStats
from .windows import WindowPlan

BLOCK = 256
CONFIDENCE_NODATA = 255


class StagedFiles:
    """Temporary paths for final outputs; ``commit()`` renames them, ``discard()`` deletes them."""

    def __init__(self) -> None:
        self._pairs: list[tuple[Path, Path]] = []

    def stage(self, final: str | Path) -> Path:
        """A temporary path beside ``final`` (hidden, unique to this process)."""
        final = Path(final)
        check_writable(final)
        temp = final.with_name(f".{final.name}.{os.getpid()}-{id(self)}.partial")
        self._pairs.append((temp, final))
        return temp

    def commit(self) -> None:
        for temp, final in self._pairs:
            if temp.exists():
                os.replace(temp, final)
        self._pairs.clear()

    def discard(self) -> None:
        for temp, _ in self._pairs:
            temp.unlink(missing_ok=True)
        self._pairs.clear()


def check_writable(path: Path) -> None:
    """Raise ``NotWritableError`` unless a file can be created at ``path``."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise NotWritableError(f"the output folder {str(folder)!r} does not exist; create it or choose another output")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NotWritableError(f"the output folder {str(folder)!r} is not writable; choose another output location")
    if path.is_dir():
        raise NotWritableError(f"the output {str(path)!r} is a folder; give a file name such as landcover.tif")


def _profile(grid: Grid, count: int, dtype: str, nodata) -> dict:
    return {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": count,
        "dtype": dtype,
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": BLOCK,
        "blockysize": BLOCK,
        "compress": "deflate",
        "BIGTIFF": "IF_SAFER",
    }


class RasterSink:
    """Receives finished pieces in raster order, writes class map / confidence / reconstruction.

    Rows are buffered until whole 256-row blocks are complete, so each compressed block is written
    once; the buffer holds at most one block row plus one tile row.
    """

    def __init__(
        self,
        grid: Grid,
        plan: WindowPlan,
        card: ModelCard,
        class_map: Path,
        confidence: Path | None,
        reconstruction: Path | None,
        stats: ClassStats,
    ):
        self.grid, self.card, self.stats = grid, card, stats
        self.datasets: list = []
        try:
            self.class_ds = self._open(class_map, _profile(grid, 1, "uint8", card.nodata))
            self.class_ds.write_colormap(1, _colormap(card))
            self.class_ds.set_band_description(1, f"land cover class ({card.name})")
            self.class_ds.update_tags(1, CLASS_NAMES=",".join(c.name for c in card.classes))
            self.conf_ds = self._open(confidence, _profile(grid, 1, "uint8", CONFIDENCE_NODATA)) if confidence else None
            self.recon_ds = None
            if reconstruction and card.has_reconstruction:
                bands = len(card.optical_bands)
                self.recon_ds = self._open(reconstruction, _profile(grid, bands, "float32", np.nan))
                for i, band in enumerate(card.optical_bands, start=1):
                    self.recon_ds.set_band_description(i, band.name)
                self.inverse = Normaliser(card.optical_bands).inverse
        except BaseException:
            self.close()
            raise
        rows = BLOCK + max(plan.window_height, 1)
        recon_bands = len(card.optical_bands) if self.recon_ds else 0
        self.pending_start = 0
        self.classes = np.full((rows, grid.width), card.nodata, np.uint8)
        self.conf = np.full((rows, grid.width), CONFIDENCE_NODATA, np.uint8) if self.conf_ds else None
        self.recon = np.full((recon_bands, rows, grid.width), np.nan, np.float32) if recon_bands else None

    def _open(self, path: Path, profile: dict):
        try:
            dataset = rasterio.open(path, "w", **profile)
        except RasterioError as exc:
            message = f"cannot create the output file {path.name!r} ({exc}); choose another location"
            raise NotWritableError(message) from exc
        self.datasets.append(dataset)
        return dataset

    def add(self, piece: Piece, probs: np.ndarray, recon: np.ndarray | None) -> None:
        """Store a finished piece: probabilities float32 [K, h, w], reconstruction (normalised) or None."""
        rows = slice(piece.y0 - self.pending_start, piece.y1 - self.pending_start)
        cols = slice(piece.x0, piece.x1)
        top = probs.max(axis=0)
        labels = probs.argmax(axis=0).astype(np.uint8)
        labels[~piece.valid] = self.card.nodata
        self.classes[rows, cols] = labels
        if self.conf is not None:
            confidence = np.rint(top * 100).astype(np.uint8)
            confidence[~piece.valid] = CONFIDENCE_NODATA
            self.conf[rows, cols] = confidence
        if self.recon is not None:
            restored = self.inverse(recon)
            restored[:, ~piece.valid] = np.nan
            self.recon[:, rows, cols] = restored
        self.stats.add(labels, top, piece.valid, self.grid.row_pixel_areas(piece.y0, piece.y1))
        if piece.row_done:
            self._flush(piece.y1)

    def _flush(self, filled_to: int) -> None:
        """Write complete block rows (all rows at the end of the raster) and keep the rest."""
        filled = filled_to - self.pending_start
        ready = filled if filled_to == self.grid.height else (filled // BLOCK) * BLOCK
        if not ready:
            return
        window = Window(0, self.pending_start, self.grid.width, ready)
        try:
            self.class_ds.write(self.classes[:ready], 1, window=window)
            if self.conf is not None:
                self.conf_ds.write(self.conf[:ready], 1, window=window)
            if self.recon is not None:
                self.recon_ds.write(self.recon[:, :ready], window=window)
        except RasterioError as exc:
            raise NotWritableError(f"writing the output failed ({exc}); check free disk space") from exc
        rest = filled - ready
        for buffer in (self.classes, self.conf, self.recon):
            if buffer is not None:
                buffer[..., :rest, :] = buffer[..., ready:filled, :]
        self.pending_start += ready

    def close(self) -> None:
        for dataset in self.datasets:
            dataset.close()
        self.datasets.clear()


def _colormap(card: ModelCard) -> dict[int, tuple[int, int, int, int]]:
    colours = {c.id: (*c.rgb, 255) for c in card.classes}
    colours[card.nodata] = (0, 0, 0, 0)
    return colours
