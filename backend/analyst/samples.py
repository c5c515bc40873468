"""Training and validation samples from reference features: windows of the rasters around each feature.

- **Holdout by feature.** Neighbouring pixels are not independent, so whole features are held out for
  validation, never pixels: per class, a share of its features (at least one when the class has two or
  more) goes to validation, drawn with the seed. A class with a single feature trains only.
- **Windows.** Every training feature gets windows of ``size + 2 * jitter`` pixels whose central
  ``size - 2 * jitter`` pixels (the *core*) cover it; a feature larger than the core is tiled by cores.
  Random ``size`` crops of a window (``training.batches.TrainingCrops``) always contain its core, so every
  crop holds labelled pixels (but for windows pushed against the raster's edge, where most crops do).
  Validation features get windows of ``size`` pixels tiling them.
- **Labels.** A window's label holds the class id of every feature of its own set (training or
  validation) under each pixel centre, 255 elsewhere, outside the processing area and where an input is
  nodata. The inputs are read on the optical grid exactly as the engine reads them (``RasterInput``:
  same band matching, SAR warped onto the optical grid).
- **Memory** is bounded by ``max_windows`` training windows (features take turns when there are more).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from ...common.bands import band_listing, match_bands
from ...common.card import BandSpec
from ..data.sample import Sample
from ..engine.grid import Grid
from ..engine.inputs import RasterInput, open_raster
from ..errors import BadParamsError, BandError, CancelledError
from .area import inside_mask
from .references import NO_LABEL, Reference, burn, burn_shape

STATS_PIXELS = 200_000  # pixels per band used for the percentiles of the normalisation


@dataclass(frozen=True)
class BandSelection:
    """The 1-based bands of a raster a model reads, and the names its card gives them."""

    indexes: tuple[int, ...]
    names: tuple[str, ...]


def select_bands(path: str, requested: Sequence[int | str] | None, what: str) -> BandSelection:
    """The bands of raster ``path`` chosen by 1-based index or by name (``None``: every band), with card names.

    A band is named by its description (``B4``, ``VV``) or, without one, ``band_<index>``.
    Raises ``BandError`` for an index that does not exist or a name no band has.
    """
    with open_raster(path, what) as dataset:
        descriptions = [d or "" for d in dataset.descriptions]
        count = dataset.count
    if not requested:
        indexes = list(range(1, count + 1))
    else:
        indexes = []
        for item in requested:
            if isinstance(item, str) and not item.strip().isdigit():
                (found,) = match_bands(descriptions, [item])
                if found is None:
                    raise BandError(
                        f"no band of the {what} raster is named {item!r}; its bands: {band_listing(descriptions)}. "
                        "Choose bands by 1-based index or by one of these names"
                    )
                indexes.append(found)
            else:
                index = int(item)
                if not 1 <= index <= count:
                    raise BandError(f"the {what} raster has bands 1..{count}; band {index} does not exist")
                indexes.append(index)
    names, seen = [], set()
    for index in indexes:
        name = descriptions[index - 1].strip() or f"band_{index}"
        name = name if name not in seen else f"{name}_{index}"
        seen.add(name)
        names.append(name)
    return BandSelection(tuple(indexes), tuple(names))


def holdout_split(classes: np.ndarray, share: float, seed: int) -> np.ndarray:
    """``bool [n]``: which features (with class ids ``classes`` [n]) are held out for validation.

    Per class ``round(share * n_c)`` features, at least one when ``n_c >= 2`` and never all of them.
    """
    if not 0.0 <= share < 1.0:
        raise BadParamsError(f"the validation share must be at least 0 and below 1, got {share}")
    rng = np.random.default_rng(seed)
    held_out = np.zeros(len(classes), bool)
    if share == 0.0:
        return held_out
    for class_id in np.unique(classes):
        members = np.flatnonzero(classes == class_id)
        if len(members) < 2:
            continue
        count = min(max(1, round(share * len(members))), len(members) - 1)
        held_out[rng.choice(members, count, replace=False)] = True
    return held_out


def pixel_box(reference: Reference, grid: Grid) -> tuple[int, int, int, int]:
    """(row0, row1, col0, col1): the pixels (end exclusive) the feature's bounds touch, not clipped."""
    xmin, ymin, xmax, ymax = reference.bounds
    col_a, row_a = ~grid.transform @ (xmin, ymax)
    col_b, row_b = ~grid.transform @ (xmax, ymin)
    row0, row1 = sorted((row_a, row_b))
    col0, col1 = sorted((col_a, col_b))
    return (
        math.floor(row0),
        max(math.ceil(row1), math.floor(row0) + 1),
        math.floor(col0),
        max(math.ceil(col1), math.floor(col0) + 1),
    )


def _starts(low: int, high: int, core: int, jitter: int, window: int, limit: int) -> list[int]:
    """Window starts along one axis whose cores cover ``low..high``, kept inside ``0..limit``."""
    if high - low <= core:
        starts = [(low + high) // 2 - window // 2]
    else:
        starts = [top - jitter for top in range(low, high, core)]
    last = max(limit - window, 0)
    return sorted({min(max(start, 0), last) for start in starts})


def feature_windows(box: tuple[int, int, int, int], size: int, jitter: int, shape: tuple[int, int]) -> list[tuple]:
    """(row, col) of the ``size + 2 jitter`` windows whose cores cover a feature's pixel ``box``."""
    window, core = size + 2 * jitter, size - 2 * jitter
    row0, row1, col0, col1 = box
    rows = _starts(max(row0, 0), min(row1, shape[0]), core, jitter, window, shape[0])
    cols = _starts(max(col0, 0), min(col1, shape[1]), core, jitter, window, shape[1])
    return [(row, col) for row in rows for col in cols]


def take_turns(per_feature: Sequence[Sequence[tuple]], limit: int) -> list[tuple]:
    """Unique windows taken one per feature in turn, until ``limit``."""
    chosen, seen = [], set()
    for rank in range(max((len(w) for w in per_feature), default=0)):
        for windows in per_feature:
            if rank < len(windows) and windows[rank] not in seen:
                seen.add(windows[rank])
                chosen.append(windows[rank])
                if len(chosen) == limit:
                    return chosen
    return chosen


@dataclass(frozen=True)
class LabelledWindow:
    """A window read for training: the sample (raw values, labels) and where both inputs are valid."""

    sample: Sample
    valid: np.ndarray


@dataclass
class WindowReader:
    """Reads optical + SAR windows on the optical grid with their validity, and burns labels into them."""

    optical: RasterInput
    sar: RasterInput
    grid: Grid
    area: Window
    mask: Sequence[Reference] = ()
    point_radius: int = 1
    _shapes: dict = field(default_factory=dict)

    def read(self, row: int, col: int, size: int, references: Sequence[Reference], ids: np.ndarray) -> LabelledWindow:
        """The window at (row, col), clipped to the raster: raw values, labels of ``references`` (ids ``ids``)."""
        height, width = min(size, self.grid.height - row), min(size, self.grid.width - col)
        window = Window(col, row, width, height)
        optical, optical_valid = self.optical.read(window)
        sar, sar_valid = self.sar.read(window)
        transform = window_transform(window, self.grid.transform)
        xmin, ymax = transform @ (0, 0)
        xmax, ymin = transform @ (width, height)
        shapes = [
            (self._shape(reference), int(class_id))
            for reference, class_id in zip(references, ids, strict=True)
            if reference.bounds[0] <= xmax
            and reference.bounds[2] >= xmin
            and reference.bounds[1] <= ymax
            and reference.bounds[3] >= ymin
        ]
        label = burn(shapes, (height, width), transform)
        valid = optical_valid & sar_valid
        usable = valid & self._in_area(row, col, height, width) & inside_mask(self.mask, (height, width), transform)
        label[~usable] = NO_LABEL
        return LabelledWindow(Sample(name=f"window_{row}_{col}", optical=optical, sar=sar, label=label), valid)

    def _shape(self, reference: Reference) -> dict:
        if reference.index not in self._shapes:
            self._shapes[reference.index] = burn_shape(reference, self.grid.pixel_size, self.point_radius)
        return self._shapes[reference.index]

    def _in_area(self, row: int, col: int, height: int, width: int) -> np.ndarray:
        area = self.area
        rows = np.arange(row, row + height)
        cols = np.arange(col, col + width)
        in_rows = (rows >= area.row_off) & (rows < area.row_off + area.height)
        in_cols = (cols >= area.col_off) & (cols < area.col_off + area.width)
        return in_rows[:, None] & in_cols[None, :]


def labelled_core(label: np.ndarray, jitter: int, at_edge: bool) -> bool:
    """Whether a window has a labelled pixel in its core (then every random crop of it has one); a window pushed
    against the raster's edge (``at_edge``) only needs a labelled pixel somewhere (most of its crops have one)."""
    core = label if at_edge or not jitter else label[jitter:-jitter, jitter:-jitter]
    return bool((core != NO_LABEL).any())


def read_windows(
    reader: WindowReader,
    references: Sequence[Reference],
    ids: np.ndarray,
    size: int,
    jitter: int,
    limit: int,
    is_cancelled: Callable[[], bool] | None = None,
) -> list[LabelledWindow]:
    """The windows around ``references`` (see the module docstring) that hold labelled pixels."""
    shape = (reader.grid.height, reader.grid.width)
    per_feature = [feature_windows(pixel_box(r, reader.grid), size, jitter, shape) for r in references]
    windows = []
    for row, col in take_turns(per_feature, limit):
        if is_cancelled is not None and is_cancelled():
            raise CancelledError("training was cancelled while reading the reference windows")
        extent = size + 2 * jitter
        window = reader.read(row, col, extent, references, ids)
        at_edge = min(row, col) == 0 or row + extent >= shape[0] or col + extent >= shape[1]
        if labelled_core(window.sample.label, jitter, at_edge):
            windows.append(window)
    return windows


def band_statistics(
    windows: Sequence[LabelledWindow], modality: str, low: float = 0.5, high: float = 99.5
) -> list[tuple[float, float, float, float]]:
    """Per band ``(clip_low, clip_high, mean, std)`` of the valid pixels of ``windows``: percentiles ``low`` and
    ``high`` (robust to speckle and saturated pixels), then the mean and standard deviation of the clipped values."""
    arrays = [getattr(w.sample, modality)[:, w.valid] for w in windows if w.valid.any()]
    if not arrays:
        raise BadParamsError("every window around the reference features is nodata in an input; check the rasters")
    values = np.concatenate(arrays, axis=1)
    if values.shape[1] > STATS_PIXELS:
        values = values[:, np.random.default_rng(0).choice(values.shape[1], STATS_PIXELS, replace=False)]
    statistics = []
    for band in values:
        lo, hi = (float(v) for v in np.percentile(band, [low, high]))
        hi = hi if hi > lo else lo + 1.0
        clipped = np.clip(band, lo, hi)
        statistics.append((lo, hi, float(clipped.mean()), float(max(clipped.std(), 1e-6))))
    return statistics


def band_specs(names: Sequence[str], unit: str, statistics: Sequence[tuple]) -> tuple[BandSpec, ...]:
    """Card bands from names, a unit and ``band_statistics``."""
    return tuple(
        BandSpec(name, unit, mean, std, (lo, hi)) for name, (lo, hi, mean, std) in zip(names, statistics, strict=True)
    )


def finished_samples(
    windows: Sequence[LabelledWindow], optical: tuple[BandSpec, ...], sar: tuple[BandSpec, ...]
) -> list[Sample]:
    """The samples with nodata input pixels replaced by the band means (0 once normalised)."""
    samples = []
    for window in windows:
        invalid = ~window.valid
        if invalid.any():
            for array, specs in ((window.sample.optical, optical), (window.sample.sar, sar)):
                array[:, invalid] = np.array([spec.mean for spec in specs], np.float32)[:, None]
        samples.append(window.sample)
    return samples
