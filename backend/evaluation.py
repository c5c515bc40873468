"""Scoring land-cover maps: a class map raster against reference labels, or a model over a dataset.

Both return the LandFuse metrics dict of ``backend.metrics`` (one confusion matrix over everything
scored; ``clear``/``cloudy`` sub-dicts when a cloud mask exists; ``psnr``/``ssim`` of the
reconstruction when the model makes one and the dataset has the cloud-free optical image).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling

from ..common.card import ClassSpec, ModelCard
from ..common.classes import load_code_map, load_scheme
from .data.base import SampleDataset
from .data.rasters import Raster, read_raster, resize_nearest, warp_to
from .data.sample import Sample, map_codes
from .engine.blend import normalise_blend, softmax
from .engine.normalise import Normaliser
from .engine.source import pad_to
from .engine.windows import WindowPlan
from .errors import BandError, UnreadableInputError
from .metrics import ConfusionAccumulator, plot_confusion_matrix, psnr, ssim

Progress = Callable[[int, int], None]
PSNR_CAP_DB = 100.0  # an exact reconstruction has infinite PSNR; the mean over samples caps it here


# --- class map raster against reference raster -------------------------------------------------


def classes_of_class_map(path: str | Path) -> list[ClassSpec] | None:
    """The class table a LandFuse class map carries (``CLASS_NAMES`` tag + colour table), or ``None``."""
    with rasterio.open(path) as src:
        names = src.tags(1).get("CLASS_NAMES")
        if not names:
            return None
        try:
            colormap = src.colormap(1)
        except ValueError:
            colormap = {}
    specs = []
    for class_id, name in enumerate(names.split(",")):
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
) -> dict:
    """Metrics of ``class_map`` (class ids, nodata skipped) against ``reference`` on the class map's grid.

    The reference (and the optional ``cloud_mask``, nonzero = cloud) is resampled onto the class map
    grid with nearest neighbour. ``classes``: a scheme name or class list; by default the class table
    stored in the class map, else ``class_0..`` up to the largest id found. ``reference_codes``: a scheme
    whose label-file codes the reference holds (e.g. ``"m3m_cr"`` for raw WorldCover codes); by
    default the reference holds class ids. Writes the metrics JSON to ``output`` and a
    confusion-matrix PNG to ``plot`` when given.
    """
    predicted_raster = read_raster(class_map)
    reference_raster = read_raster(reference)
    predicted = _class_ids(predicted_raster)
    aligned = warp_to(_nan_for_nodata(reference, reference_raster), predicted_raster, Resampling.nearest)[0]
    if reference_codes:
        truth = map_codes(np.nan_to_num(aligned, nan=-1).astype(np.int64), load_code_map(reference_codes))
    else:
        truth = np.where(np.isfinite(aligned), aligned, 255).astype(np.int64)
    if isinstance(classes, str):
        classes = load_scheme(classes)
    classes = list(classes or classes_of_class_map(class_map) or [])
    if not classes:
        known = np.concatenate([predicted[predicted < 255], truth[truth < 255]])
        classes = _generic_classes(int(known.max()) + 1 if known.size else 1)
    if not np.isin(truth, list(range(len(classes))) + [255]).all():
        found = sorted(set(np.unique(truth).tolist()) - set(range(len(classes))) - {255})[:10]
        raise UnreadableInputError(
            f"reference {Path(reference).name} holds values {found} that are not class ids 0..{len(classes) - 1}: "
            "give the scheme its codes belong to (reference codes) or a reference of class ids"
        )
    accumulator = ConfusionAccumulator(len(classes))
    mask = None
    if cloud_mask is not None:
        mask = warp_to(read_raster(cloud_mask), predicted_raster, Resampling.nearest)[0]
        mask = np.nan_to_num(mask) > 0
    accumulator.update(truth, predicted, mask)
    return finish(accumulator.metrics(classes), classes, output, plot)


def _nan_for_nodata(path: str | Path, raster: Raster) -> Raster:
    """The raster with its declared nodata value turned into NaN (so warping leaves it out)."""
    with rasterio.open(path) as src:
        nodata = src.nodata
    if nodata is not None and not np.isnan(nodata):
        raster.array[raster.array == nodata] = np.nan
    return raster


def _class_ids(raster: Raster) -> np.ndarray:
    values = np.nan_to_num(raster.array[0], nan=255)
    return np.where((values >= 0) & (values < 255), values, 255).astype(np.int64)


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
