"""Scoring land-cover maps: a class map raster against reference labels, or a model over a dataset.

Both return the LandFuse metrics dict of ``backend.metrics`` (one confusion matrix over everything
scored; ``clear``/``cloudy`` sub-dicts when a cloud mask exists; ``psnr``/``ssim`` of the
reconstruction when the model makes one and the dataset has the cloud-free optical image).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.warp import reproject
from rasterio.windows import Window

from ..common.card import ClassSpec, ModelCard
from ..common.classes import load_code_map, load_scheme
from .data.base import SampleDataset
from .data.rasters import resize_nearest
from .data.sample import Sample, map_codes
from .engine.blend import normalise_blend, softmax
from .engine.normalise import Normaliser
from .engine.source import pad_to
from .engine.style import class_names_from_tags
from .engine.windows import WindowPlan
from .errors import BandError, CancelledError, UnreadableInputError
from .metrics import ConfusionAccumulator, plot_confusion_matrix, psnr, ssim

Progress = Callable[[int, int], None]
NODATA_ID = 255
WINDOW_PIXELS = 2**18  # pixels read per window when scoring a class map: bounds memory
MAX_WINDOW_WIDTH = 8192
GDAL_CACHE_BYTES = 16 * 2**20  # GDAL's block cache defaults to 5% of RAM; a window row of blocks fits
HISTOGRAM_ROWS, HISTOGRAM_COLUMNS = 257, 256  # reference values 0..255 and "other"; predicted ids 0..255
HISTOGRAM_CELLS = HISTOGRAM_ROWS * HISTOGRAM_COLUMNS
MAX_REPORTED_VALUES = 10
PSNR_CAP_DB = 100.0  # an exact reconstruction has infinite PSNR; the mean over samples caps it here


# --- class map raster against reference raster -------------------------------------------------


def classes_of_class_map(path: str | Path) -> list[ClassSpec] | None:
    """The class table a LandFuse class map carries (class-name tags + colour table), or ``None``."""
    with rasterio.open(path) as src:
        names = class_names_from_tags(src.tags(1))
        if not names:
            return None
        try:
            colormap = src.colormap(1)
        except ValueError:
            colormap = {}
    specs = []
    for class_id, name in enumerate(names):
        r, g, b, *_ = colormap.get(class_id, (128, 128, 128, 255))
        specs.append(ClassSpec(class_id, name, f"#{r:02x}{g:02x}{b:02x}"))
    return specs


def _generic_classes(count: int) -> list[ClassSpec]:
    return [ClassSpec(i, f"class_{i}", "#808080") for i in range(count)]


def evaluate_rasters(
    class_map: str | Path,
    reference: str | Path,
    *,
    classes: str | Sequence[ClassSpec] | None = None,
    reference_codes: str | None = None,
    cloud_mask: str | Path | None = None,
    output: str | Path | None = None,
    plot: str | Path | None = None,
    progress: Progress | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    window_pixels: int = WINDOW_PIXELS,
) -> dict:
    """Metrics of ``class_map`` (class ids, nodata skipped) against ``reference`` on the class map's grid.

    The reference (and the optional ``cloud_mask``, nonzero = cloud; its nodata and the area outside
    it count as clear) is resampled onto the class map grid with nearest neighbour. ``classes``: a
    scheme name or class list; by default the class table stored in the class map, else ``class_0..``
    up to the largest id found. ``reference_codes``: a scheme whose label-file codes the reference
    holds (e.g. ``"m3m_cr"`` for raw WorldCover codes); by default the reference holds class ids.
    Writes the metrics JSON to ``output`` and a confusion-matrix PNG to ``plot`` when given.

    The rasters are read window by window (about ``window_pixels`` pixels each) into a running joint
    histogram of (reference value, predicted id), so memory stays bounded whatever their size.
    ``progress(done, total)`` is called after each window; ``is_cancelled()`` is checked before each
    one and raises ``CancelledError`` when true.
    """
    code_map = load_code_map(reference_codes) if reference_codes else None
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES), _open(class_map) as predicted_src:
        if isinstance(classes, str):
            classes = load_scheme(classes)
        classes = list(classes or classes_of_class_map(class_map) or [])
        counts = _JointCounts(cloud_mask is not None)
        with _GridReader(reference, predicted_src) as truth_reader, _GridReader(cloud_mask, predicted_src) as masks:
            windows = list(_windows(predicted_src.height, predicted_src.width, window_pixels))
            for done, window in enumerate(windows, start=1):
                if is_cancelled is not None and is_cancelled():
                    raise CancelledError("the evaluation was cancelled")
                try:
                    predicted = _class_ids(predicted_src.read(1, window=window))
                    truth = _reference_ids(*truth_reader.read(window), code_map)
                    cloudy = None if cloud_mask is None else _cloudy(*masks.read(window))
                except rasterio.errors.RasterioError as exc:
                    raise UnreadableInputError(
                        f"cannot read rows {window.row_off}-{window.row_off + window.height} of the class map, the "
                        f"reference or the cloud mask: {exc}. Check that the files are complete GeoTIFFs."
                    ) from exc
                counts.add(truth, predicted, cloudy)
                if progress is not None:
                    progress(done, len(windows))
    if not classes:
        classes = _generic_classes(max(counts.largest_id(), 0) + 1)
    found = counts.values_outside(len(classes))
    if found:
        raise UnreadableInputError(
            f"reference {Path(reference).name} holds values {found} that are not class ids 0..{len(classes) - 1}: "
            "give the scheme its codes belong to (reference codes) or a reference of class ids"
        )
    accumulator = ConfusionAccumulator(len(classes))
    accumulator.add_counts(*counts.confusion(len(classes)))
    return finish(accumulator.metrics(classes), classes, output, plot)


def _open(path: str | Path):
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise UnreadableInputError(
            f"cannot read raster {path}: {exc}. Check that the file exists and is a GeoTIFF."
        ) from exc


def _windows(height: int, width: int, pixels: int) -> Iterator[Window]:
    """Windows of about ``pixels`` pixels covering a ``height`` x ``width`` grid, row by row."""
    columns = min(width, MAX_WINDOW_WIDTH)
    rows = max(1, pixels // columns)
    for row in range(0, height, rows):
        for column in range(0, width, columns):
            yield Window(column, row, min(columns, width - column), min(rows, height - row))


class _GridReader:
    """Band 1 of a raster read window by window on another raster's grid, with its validity (``read``).

    Rasters on the same grid (or both without georeferencing, then of the same size) are read
    directly; others are warped with nearest neighbour, reading only the source pixels each window
    needs. ``path=None`` gives a reader that is never read.
    """

    def __init__(self, path: str | Path | None, like) -> None:
        self._like = like
        self._src = None if path is None else _open(path)
        if self._src is None:
            return
        src = self._src
        self._direct = (src.crs, src.transform, src.shape) == (like.crs, like.transform, like.shape)
        if not self._direct and (src.crs is None or like.crs is None):
            if src.shape != like.shape:
                src.close()
                raise UnreadableInputError(
                    f"cannot align a {src.shape} raster with a {like.shape} one without georeferencing: "
                    "give both files a CRS and transform, or the same size"
                )
            self._direct = True

    def __enter__(self) -> _GridReader:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._src is not None:
            self._src.close()

    def read(self, window: Window) -> tuple[np.ndarray, np.ndarray | None]:
        """``(values [h, w], valid [h, w] or None when all are)`` of the window of the other raster's grid;
        not valid: nodata, NaN or infinite, outside this raster. Values keep the file's type when read
        directly (where they are not valid they are meaningless) and are float32 when warped."""
        src = self._src
        if self._direct:
            values = src.read(1, window=window)
            valid = np.isfinite(values) if values.dtype.kind == "f" else None
            if src.nodata is not None and not np.isnan(src.nodata):
                valid = values != src.nodata if valid is None else valid & (values != src.nodata)
            return values, valid
        values = np.full((int(window.height), int(window.width)), np.nan, dtype=np.float32)
        reproject(
            rasterio.band(src, 1),
            values,
            src_crs=src.crs,
            src_transform=src.transform,
            src_nodata=src.nodata,
            dst_crs=self._like.crs,
            dst_transform=self._like.transform @ Affine.translation(window.col_off, window.row_off),
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
        return values, np.isfinite(values)


def _class_ids(values: np.ndarray) -> np.ndarray:
    """Class ids of class map values: ``0..254`` as they are, anything else (NaN, negative, 255+) 255."""
    if values.dtype == np.uint8:  # what LandFuse writes: already ids with nodata 255
        return values
    return np.where((values >= 0) & (values < NODATA_ID), values, NODATA_ID).astype(np.int64)


def _reference_ids(values: np.ndarray, valid: np.ndarray | None, code_map: dict[int, int] | None) -> np.ndarray:
    """Reference values of one window, through ``code_map`` when given; 255 where not valid.

    Values that are neither class ids nor 255 are kept, to be reported by ``_JointCounts``.
    """
    if values.dtype.kind == "f":  # fractional values truncate, as class ids are integers
        values = (values if valid is None else np.where(valid, values, 0)).astype(np.int64)
    truth = values if code_map is None else map_codes(values, code_map)
    return truth if valid is None else np.where(valid, truth, NODATA_ID)


def _cloudy(values: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """Cloud mask values of one window as bool: nonzero and valid (nodata and outside count as clear)."""
    cloudy = values > 0
    return cloudy if valid is None else cloudy & valid


class _JointCounts:
    """A running histogram of (reference value, predicted id) pairs, split into clear and cloudy pixels.

    Rows 0..255 count reference values 0..255 (255: nodata), row 256 every other value; columns
    count predicted ids 0..255. The first ``MAX_REPORTED_VALUES`` reference values outside 0..255
    are remembered to name them in an error.
    """

    def __init__(self, with_cloud_mask: bool) -> None:
        self._parts = 2 if with_cloud_mask else 1  # [clear or all, cloudy]
        self._counts = np.zeros((self._parts, HISTOGRAM_ROWS, HISTOGRAM_COLUMNS), np.int64)
        self._outside: list[int] = []

    def add(self, truth: np.ndarray, predicted: np.ndarray, cloudy: np.ndarray | None) -> None:
        """Count one window: ``truth`` integer reference values, ``predicted`` ids 0..255, ``cloudy`` bool."""
        if truth.dtype != np.uint8:
            inside = (truth >= 0) & (truth <= NODATA_ID)
            if not inside.all():
                outside = np.unique(truth[~inside])[:MAX_REPORTED_VALUES].tolist()
                self._outside = sorted(set(self._outside) | set(outside))[:MAX_REPORTED_VALUES]
                truth = np.where(inside, truth, HISTOGRAM_ROWS - 1)
        cells = np.multiply(truth, HISTOGRAM_COLUMNS, dtype=np.intp)
        cells += predicted
        if cloudy is not None:
            np.add(cells, HISTOGRAM_CELLS, out=cells, where=cloudy)
        counts = np.bincount(cells.ravel(), minlength=self._parts * HISTOGRAM_CELLS)
        self._counts += counts.reshape(self._counts.shape)

    @property
    def _all(self) -> np.ndarray:
        return self._counts.sum(axis=0)

    def largest_id(self) -> int:
        """The largest class id (below 255) seen in the reference or the prediction; -1 if none."""
        counts = self._all
        rows = np.flatnonzero(counts[:NODATA_ID].any(axis=1))
        columns = np.flatnonzero(counts[:, :NODATA_ID].any(axis=0))
        return int(max(rows.max(initial=-1), columns.max(initial=-1)))

    def values_outside(self, num_classes: int) -> list[int]:
        """Reference values that are neither class ids ``0..num_classes-1`` nor nodata, smallest first."""
        ids_above = np.flatnonzero(self._all[num_classes:NODATA_ID].any(axis=1)) + num_classes
        return sorted(set(ids_above.tolist()) | set(self._outside))[:MAX_REPORTED_VALUES]

    def confusion(self, num_classes: int) -> tuple[np.ndarray, np.ndarray | None]:
        """``[K, K]`` counts of all pixels and of cloudy ones (``None`` without a mask); rows = reference."""
        cloudy = self._counts[1, :num_classes, :num_classes] if self._parts == 2 else None
        return self._all[:num_classes, :num_classes], cloudy


def finish(metrics: dict, classes: Sequence[ClassSpec], output=None, plot=None) -> dict:
    """Write ``metrics`` as JSON to ``output`` and its confusion matrix to ``plot`` when given; return it."""
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(json.dumps(metrics, indent=2, allow_nan=False), encoding="utf-8")
    if plot:
        plot_confusion_matrix(np.array(metrics["confusion_matrix"]), classes, plot)
    return metrics


# --- a model over a dataset --------------------------------------------------------------------


def model_inputs(sample: Sample, card: ModelCard) -> dict[str, np.ndarray]:
    """The card's modalities of ``sample``, normalised, float32 ``[C, H, W]`` each."""
    inputs = {}
    for modality, specs in (("optical", card.optical_bands), ("sar", card.sar_bands)):
        if not specs:
            continue
        array = getattr(sample, modality)
        if array is None or array.shape[0] != len(specs):
            found = "no" if array is None else str(array.shape[0])
            raise BandError(
                f"{card.name} needs {len(specs)} {modality} bands ({', '.join(b.name for b in specs)}); sample "
                f"{sample.name} has {found}: use a dataset with the model's band set or train a model on this one"
            )
        inputs[modality] = Normaliser(specs)(array.astype(np.float32))
    return inputs


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def predict(runner, inputs: dict[str, np.ndarray], tile: int | None = None, overlap: int | None = None):
    """Slide-window inference over whole arrays: (probabilities ``[K, H, W]``, reconstruction ``[Co, H, W]`` or None).

    ``runner.run`` takes normalised ``[1, C, t, t]`` windows; windows overlap by ``overlap`` pixels
    (default a quarter tile) and are blended with the engine's ramp weights. Images smaller than the
    tile run as one window padded to the card's size multiple.
    """
    card = runner.card
    height, width = next(iter(inputs.values())).shape[-2:]
    tile = min(tile or card.tile_size, _round_up(max(height, width), card.size_multiple))
    plan = WindowPlan(height, width, tile, tile // 4 if overlap is None else min(overlap, tile - 1))
    th, tw = plan.window_height, plan.window_width
    probs = np.zeros((card.num_classes, height, width), np.float32)
    recon = np.zeros((len(card.optical_bands), height, width), np.float32) if card.has_reconstruction else None
    weight = np.zeros((height, width), np.float32)
    for _, _, y0, x0 in plan:
        rows, cols = slice(y0, y0 + th), slice(x0, x0 + tw)
        window = {k: pad_to(v[:, rows, cols], plan.tile, plan.tile)[None] for k, v in inputs.items()}
        outputs = runner.run(window)
        probs[:, rows, cols] += softmax(outputs["logits"][:, :, :th, :tw].astype(np.float32))[0] * plan.weights
        if recon is not None:
            recon[:, rows, cols] += outputs["reconstruction"][0, :, :th, :tw] * plan.weights
        weight[rows, cols] += plan.weights
    return normalise_blend(probs, weight), None if recon is None else normalise_blend(recon, weight)


def resize_probabilities(probs: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize (``align_corners=False``) of ``[K, H, W]`` to ``shape``, as CloudSeg maps 3 m to 10 m."""
    if probs.shape[-2:] == tuple(shape):
        return probs
    import torch
    import torch.nn.functional as F

    tensor = torch.from_numpy(np.ascontiguousarray(probs))[None]
    return F.interpolate(tensor, size=tuple(shape), mode="bilinear", align_corners=False)[0].numpy()


def unit_range(optical: np.ndarray, card: ModelCard) -> np.ndarray:
    """Optical values scaled to ``[0, 1]`` by each band's clip range (reflectance x 10000 -> 0..1)."""
    low = np.array([b.clip[0] if b.clip else 0.0 for b in card.optical_bands], np.float32)[:, None, None]
    high = np.array([b.clip[1] if b.clip else 10000.0 for b in card.optical_bands], np.float32)[:, None, None]
    return np.clip((optical - low) / (high - low), 0.0, 1.0)


def evaluate_model(
    runner,
    dataset: SampleDataset | Sequence[Sample],
    *,
    tile: int | None = None,
    overlap: int | None = None,
    progress: Progress | None = None,
) -> dict:
    """Metrics of ``runner`` (``backend.runners`` interface) over every sample of ``dataset``.

    Predictions are made on the image grid and, when the label grid is coarser (M3M-CR), the class
    probabilities are resized bilinearly onto it before the argmax. PSNR and SSIM (mean over
    samples, images scaled to [0, 1] by the card's clip ranges) are added when the model outputs a
    reconstruction and the samples carry the cloud-free optical image (PSNR capped at 100 dB).
    """
    card = runner.card
    accumulator = ConfusionAccumulator(card.num_classes)
    psnrs, ssims = [], []
    for index in range(len(dataset)):
        sample = dataset[index]
        probs, recon = predict(runner, model_inputs(sample, card), tile, overlap)
        predicted = resize_probabilities(probs, sample.label.shape).argmax(axis=0)
        mask = sample.cloud_mask
        if mask is not None and mask.shape != sample.label.shape:
            mask = resize_nearest(mask, sample.label.shape)
        accumulator.update(sample.label, predicted, mask)
        if recon is not None and sample.optical_clear is not None:
            restored = unit_range(Normaliser(card.optical_bands).inverse(recon), card)
            truth = unit_range(sample.optical_clear, card)
            psnrs.append(psnr(restored, truth))
            ssims.append(ssim(restored, truth))
        if progress:
            progress(index + 1, len(dataset))
    metrics = accumulator.metrics(card.classes)
    if psnrs:
        metrics["psnr"] = float(np.mean(np.minimum(psnrs, PSNR_CAP_DB)))
        metrics["ssim"] = float(np.mean(ssims))
    return metrics
