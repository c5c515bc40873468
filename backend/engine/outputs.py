"""Output files: written under temporary names, renamed into place only when the whole job succeeded."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
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
from .regions import RegionStats
from .stats import ClassStats
from .style import class_name_tags
from .windows import WindowPlan

BLOCK = 256
CONFIDENCE_NODATA = 255
# Deflate at its fastest level: the writer shares the cores with the model, and on a noisy map level 6
# costs twenty times as much CPU (about 30 ms per 512 px window) for a file about 10 % smaller.
DEFLATE_LEVEL = 1


@dataclass(frozen=True)
class _Staged:
    role: str
    temporary: Path
    final: Path
    stale: tuple[Path, ...]


class StagedFiles:
    """The files of one job, written under temporary names beside their final paths.

    ``stage`` reserves a temporary path and creates missing output folders (as QGIS Processing
    does); ``commit`` moves every staged file into place together, or none of them; ``discard``
    deletes the temporary files and the folders ``stage`` created. Callers discard on any error,
    cancel or interrupt, so a failed job leaves nothing behind.
    """

    def __init__(self) -> None:
        self._staged: list[_Staged] = []
        self._created_folders: list[Path] = []

    def stage(self, final: str | Path, role: str, stale: tuple[Path, ...] = ()) -> Path:
        """A hidden temporary path beside ``final``, unique to this job. ``role`` names the file in
        messages; ``stale``: sidecars of an earlier file at ``final`` deleted on commit unless staged too."""
        final = Path(final)
        self._created_folders += prepare_folder(final, role)
        temporary = final.with_name(f".{final.name}.{os.getpid()}-{id(self)}.partial")
        self._staged.append(_Staged(role, temporary, final, tuple(stale)))
        return temporary

    def planned(self) -> dict[str, Path]:
        """Role -> final path of every staged file."""
        return {staged.role: staged.final for staged in self._staged}

    def commit(self) -> None:
        """Rename every written temporary file onto its final path, all or none.

        Files being replaced are first moved aside; if any rename fails, the new files are removed,
        the old ones restored and ``NotWritableError`` raised. Then stale sidecars are deleted.
        """
        ready = [staged for staged in self._staged if staged.temporary.exists()]
        for staged in ready:
            if staged.final.is_dir():  # appeared while the job ran
                self.discard()
                raise NotWritableError(f"the {staged.role} {str(staged.final)!r} is a folder; choose a file name")
        moved_aside: list[tuple[Path, Path]] = []
        placed: list[Path] = []
        try:
            for staged in ready:
                if os.path.lexists(staged.final):
                    aside = staged.final.with_name(f".{staged.final.name}.{os.getpid()}-{id(self)}.replaced")
                    os.replace(staged.final, aside)
                    moved_aside.append((aside, staged.final))
            for staged in ready:
                os.replace(staged.temporary, staged.final)
                placed.append(staged.final)
        except OSError as exc:
            for final in placed:
                _remove(final)
            for aside, final in moved_aside:
                os.replace(aside, final)
            self.discard()
            raise NotWritableError(
                f"the outputs could not be put in place ({exc}); nothing was changed. Close them in other "
                "programs or choose another location"
            ) from exc
        for aside, _ in moved_aside:
            _remove(aside)
        finals = {staged.final for staged in self._staged}
        for staged in ready:
            for sidecar in staged.stale:
                if sidecar not in finals:
                    _remove(sidecar)
        self._staged.clear()
        self._created_folders.clear()

    def discard(self) -> None:
        """Delete every temporary file and the output folders this job created (when empty)."""
        for staged in self._staged:
            _remove(staged.temporary)
        for folder in reversed(self._created_folders):
            with contextlib.suppress(OSError):  # not empty: something else was put there meanwhile
                folder.rmdir()
        self._staged.clear()
        self._created_folders.clear()


def _remove(path: Path) -> None:
    """Delete ``path`` if it exists; cleanup never hides the error that caused it."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def prepare_folder(path: Path, role: str = "output") -> list[Path]:
    """Create the missing folders above ``path``; return them, outermost first.

    Raises ``NotWritableError`` when a folder cannot be created, the folder is not writable or
    ``path`` is a folder.
    """
    folder = path.parent
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    created: list[Path] = []
    for new_folder in reversed(missing):
        try:
            new_folder.mkdir()
        except OSError as exc:
            for done in reversed(created):
                done.rmdir()
            raise NotWritableError(
                f"the folder {str(folder)!r} for the {role} could not be created ({exc.strerror or exc}); "
                "choose another location"
            ) from exc
        created.append(new_folder)
    if not folder.is_dir():
        raise NotWritableError(f"{str(folder)!r} is a file, not a folder: choose another location for the {role}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NotWritableError(
            f"the folder {str(folder)!r} for the {role} is not writable (permission denied or read-only); "
            "choose another location"
        )
    if path.is_dir():
        raise NotWritableError(f"the {role} {str(path)!r} is a folder; give a file name such as landcover.tif")
    return created


def write_text(path: Path, text: str, role: str) -> None:
    """Write a UTF-8 text file, raising ``NotWritableError`` when the disk or folder refuses it."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise NotWritableError(
            f"writing the {role} failed ({exc.strerror or exc}); check free disk space and the folder's permissions"
        ) from exc


def check_complete(path: str | Path, role: str) -> None:
    """Raise ``NotWritableError`` unless every block of the raster at ``path`` reads back.

    GDAL writes a GeoTIFF's last blocks and its header when the dataset is closed, and a write that
    fails then (a full disk) is not reported by rasterio; reading the file back is what shows it.
    """
    try:
        with rasterio.open(path) as dataset:
            for _, window in dataset.block_windows(1):
                dataset.read(window=window)
    except RasterioError as exc:
        detail = exc.__cause__ or exc  # rasterio's own message only points at the GDAL error it wraps
        raise NotWritableError(
            f"the {role} could not be completed: it does not read back ({detail}); the disk may be full or the file "
            "too large for it: free some space or choose another location"
        ) from exc


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
        "zlevel": DEFLATE_LEVEL,
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
        regions: RegionStats | None = None,
    ):
        self.grid, self.card, self.stats, self.regions = grid, card, stats, regions
        self.datasets: list[tuple[str, object]] = []
        try:
            self.class_ds = self._open(class_map, _profile(grid, 1, "uint8", card.nodata), "class map")
            self.class_ds.write_colormap(1, _colormap(card))
            self.class_ds.set_band_description(1, f"land cover class ({card.name})")
            self.class_ds.update_tags(1, **class_name_tags(card))
            self.conf_ds = None
            if confidence:
                self.conf_ds = self._open(confidence, _profile(grid, 1, "uint8", CONFIDENCE_NODATA), "confidence map")
            self.recon_ds = None
            if reconstruction and card.has_reconstruction:
                bands = len(card.optical_bands)
                self.recon_ds = self._open(reconstruction, _profile(grid, bands, "float32", np.nan), "reconstruction")
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

    def _open(self, path: Path, profile: dict, role: str):
        try:
            dataset = rasterio.open(path, "w", **profile)
        except RasterioError as exc:
            raise NotWritableError(f"cannot create the {role} file ({exc}); choose another location") from exc
        self.datasets.append((role, dataset))
        return dataset

    def add(self, piece: Piece, probs: np.ndarray, recon: np.ndarray | None) -> None:
        """Store a finished piece: probabilities float32 [K, h, w], reconstruction (normalised) or None."""
        rows = slice(piece.y0 - self.pending_start, piece.y1 - self.pending_start)
        cols = slice(piece.x0, piece.x1)
        labels, top = top_class(probs)
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
        if self.regions is not None:
            self.regions.add(piece.y0, piece.x0, labels, top, piece.valid)
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
            raise NotWritableError(
                f"writing the outputs failed ({exc}); the disk may be full: free some space or choose another location"
            ) from exc
        rest = filled - ready
        for buffer in (self.classes, self.conf, self.recon):
            if buffer is not None:
                buffer[..., :rest, :] = buffer[..., ready:filled, :]
        self.pending_start += ready

    def finish(self) -> None:
        """Close the files and check that each reads back whole (``NotWritableError`` otherwise)."""
        written = [(role, dataset.name) for role, dataset in self.datasets]
        self.close()
        for role, path in written:
            check_complete(path, role)

    def close(self) -> None:
        """Close the files without checking them (after an error: they are discarded)."""
        while self.datasets:
            self.datasets.pop(0)[1].close()


def top_class(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index uint8 [h, w] and value float32 [h, w] of the largest of probs float32 [K, h, w] (the first on ties).

    Class by class with whole-array operations: several times faster than ``argmax(axis=0)``, which
    walks the class axis pixel by pixel.
    """
    labels = np.zeros(probs.shape[1:], np.uint8)
    top = probs[0].copy()
    for k in range(1, probs.shape[0]):
        np.copyto(labels, k, where=probs[k] > top)
        np.maximum(top, probs[k], out=top)
    return labels, top


def _colormap(card: ModelCard) -> dict[int, tuple[int, int, int, int]]:
    colours = {c.id: (*c.rgb, 255) for c in card.classes}
    colours[card.nodata] = (0, 0, 0, 0)
    return colours
