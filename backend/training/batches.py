"""Training batches: random crops and flips of dataset samples, normalised by the model card.

Each item is a dict of tensors: ``optical`` / ``sar`` ``float32 [C, c, c]`` (only the card's
modalities, normalised), ``optical_clear`` (the cloud-free optical image, or the optical input when
the dataset has none), ``cloud_mask`` ``float32 [c, c]`` (zeros without a mask), ``has_cloud_mask``
``float32 []`` (1 when the sample has a real mask) and ``label`` ``int64 [h, w]`` (255 = no label).
When the label grid is coarser than the images (M3M-CR: 90 px label for 300 px optical), crops are
placed on offsets where both grids line up, so a 160 px crop has a 48 px label as in CloudSeg
(random offsets on a 10 px grid, ``crop_sample``; the validation centre crop of the official
``ValDataset``, ``centre_crop_sample``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

from ...common.card import ModelCard
from ..data.sample import NODATA, Sample
from ..engine.normalise import Normaliser
from ..errors import BadParamsError
from ..evaluation import model_inputs

IMAGE_LAYERS = ("optical", "sar", "optical_clear", "cloud_mask")


def label_ratio(sample: Sample) -> Fraction:
    """Label pixels per image pixel (1 when both share the grid, 3/10 for M3M-CR)."""
    height, width = sample.image_shape
    ratio = Fraction(sample.label.shape[0], height)
    if Fraction(sample.label.shape[1], width) != ratio:
        raise BadParamsError(
            f"sample {sample.name}: label {sample.label.shape} and image {(height, width)} grids differ in aspect"
        )
    return ratio


def _pad(array: np.ndarray | None, height: int, width: int, value: float) -> np.ndarray | None:
    if array is None or array.shape[-2:] == (height, width):
        return array
    pad = [(0, 0)] * (array.ndim - 2) + [(0, height - array.shape[-2]), (0, width - array.shape[-1])]
    return np.pad(array, pad, constant_values=value)


def _label_step(sample: Sample, size: int) -> int:
    """Pixels between crop offsets on which the image and label grids line up (10 for M3M-CR)."""
    step = label_ratio(sample).denominator
    if size % step:
        raise BadParamsError(
            f"crop size {size} must be a multiple of {step} so the {label_ratio(sample)} label grid lines up"
        )
    return step


def crop_window(sample: Sample, size: int, top: int, left: int, flip_x: bool = False, flip_y: bool = False) -> Sample:
    """The ``size`` x ``size`` window at image pixel ``(top, left)``, optionally flipped.

    Images smaller than ``size`` are padded (images with 0, labels with 255).
    """
    ratio = label_ratio(sample)
    height, width = sample.image_shape
    full_h, full_w = max(height, size), max(width, size)

    def cut(array: np.ndarray | None, scale: Fraction, fill: float) -> np.ndarray | None:
        if array is None:
            return None
        array = _pad(array, int(full_h * scale), int(full_w * scale), fill)
        y0, x0, extent = int(top * scale), int(left * scale), int(size * scale)
        piece = array[..., y0 : y0 + extent, x0 : x0 + extent]
        if flip_x:
            piece = piece[..., :, ::-1]
        if flip_y:
            piece = piece[..., ::-1, :]
        return np.ascontiguousarray(piece)

    return Sample(
        name=sample.name,
        optical=cut(sample.optical, Fraction(1), 0.0),
        sar=cut(sample.sar, Fraction(1), 0.0),
        label=cut(sample.label, ratio, NODATA),
        cloud_mask=cut(sample.cloud_mask, Fraction(1), 0),
        optical_clear=cut(sample.optical_clear, Fraction(1), 0.0),
    )


def crop_sample(sample: Sample, size: int, rng: np.random.Generator, flips: bool = True) -> Sample:
    """A random ``size`` x ``size`` crop (label grid aligned) with random horizontal/vertical flips."""
    step = _label_step(sample, size)
    height, width = sample.image_shape
    y0 = int(rng.integers(0, (max(height, size) - size) // step + 1)) * step
    x0 = int(rng.integers(0, (max(width, size) - size) // step + 1)) * step
    flip_x, flip_y = flips and rng.random() < 0.5, flips and rng.random() < 0.5
    return crop_window(sample, size, y0, x0, flip_x, flip_y)


def centre_crop_sample(sample: Sample, size: int) -> Sample:
    """The centre ``size`` x ``size`` crop on the label grid: offset ``((H - size) // step) // 2 * step``."""
    step = _label_step(sample, size)
    height, width = sample.image_shape
    y0 = (max(height - size, 0) // step) // 2 * step
    x0 = (max(width - size, 0) // step) // 2 * step
    return crop_window(sample, size, y0, x0)


class CentreCrops:
    """A view of a dataset whose samples are their centre ``size`` x ``size`` crops (validation)."""

    def __init__(self, dataset, size: int) -> None:
        self.dataset, self.size = dataset, size

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Sample:
        return centre_crop_sample(self.dataset[index], self.size)


def to_tensors(sample: Sample, card: ModelCard) -> dict[str, torch.Tensor]:
    """Normalised model inputs and training targets of one (cropped) sample as tensors."""
    inputs = model_inputs(sample, card)
    item = {name: torch.from_numpy(array) for name, array in inputs.items()}
    if card.optical_bands:
        clear = inputs["optical"]
        if sample.optical_clear is not None:
            clear = Normaliser(card.optical_bands)(sample.optical_clear.astype(np.float32))
        item["optical_clear"] = torch.from_numpy(np.ascontiguousarray(clear))
    height, width = sample.image_shape
    mask = sample.cloud_mask if sample.cloud_mask is not None else np.zeros((height, width), np.uint8)
    item["cloud_mask"] = torch.from_numpy(mask.astype(np.float32))
    item["has_cloud_mask"] = torch.tensor(float(sample.cloud_mask is not None))
    item["label"] = torch.from_numpy(sample.label.astype(np.int64))
    return item


class TrainingCrops(torch.utils.data.Dataset):
    """``crops_per_sample`` random crops of every sample, reproducible from ``(seed, epoch, index)``.

    Call ``set_epoch(e)`` before each epoch to draw new crops; the same seed and epoch always give
    the same crops, which makes resumed runs repeat an uninterrupted one.
    """

    def __init__(
        self, dataset, card: ModelCard, crop_size: int, seed: int = 0, crops_per_sample: int = 1, flips: bool = True
    ) -> None:
        self.dataset, self.card, self.crop_size = dataset, card, crop_size
        self.seed, self.crops_per_sample, self.flips = seed, crops_per_sample, flips
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.dataset) * self.crops_per_sample

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        sample = self.dataset[index // self.crops_per_sample]
        return to_tensors(crop_sample(sample, self.crop_size, rng, self.flips), self.card)
