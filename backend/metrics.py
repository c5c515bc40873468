"""Segmentation and reconstruction metrics, with the conventions of the CloudSeg evaluation code.

One confusion matrix is accumulated over the whole test set (rows = reference, columns =
predicted); every score is derived from it:

- OA = trace / total; IoU_c = TP / (TP + FP + FN); mIoU = mean of IoU over the classes where it is
  defined (a class absent from both reference and prediction has no IoU and is left out, the
  ``nanmean`` convention); F1_c = 2 TP / (2 TP + FP + FN), mean F1 likewise; Cohen's kappa =
  (p_o - p_e) / (1 - p_e).
- Pixels whose reference or prediction is not a class id (e.g. nodata 255) are not counted.
- Undefined values are ``None`` in the metrics dict, so it is valid JSON.

Reconstruction: PSNR and SSIM (Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03) on images scaled
to ``[0, data_range]``, averaged over bands.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..common.card import ClassSpec

TOP_CONFUSIONS = 5


def confusion_matrix(reference: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """``int64 [K, K]`` counts, rows = reference class, columns = predicted class.

    Pixels where either array holds a value outside ``0..K-1`` (nodata) are skipped.
    """
    reference = np.asarray(reference).ravel().astype(np.int64)
    predicted = np.asarray(predicted).ravel().astype(np.int64)
    if reference.shape != predicted.shape:
        raise ValueError(f"reference and prediction differ in size: {reference.size} vs {predicted.size}")
    valid = (reference >= 0) & (reference < num_classes) & (predicted >= 0) & (predicted < num_classes)
    flat = reference[valid] * num_classes + predicted[valid]
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


class ConfusionAccumulator:
    """Sums confusion matrices over a data set, for all pixels and, with a cloud mask, clear and cloudy ones."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.all = np.zeros((num_classes, num_classes), dtype=np.int64)
        self.clear = np.zeros_like(self.all)
        self.cloudy = np.zeros_like(self.all)
        self.has_cloud_mask = False

    def update(self, reference: np.ndarray, predicted: np.ndarray, cloud_mask: np.ndarray | None = None) -> None:
        """Add one ``[H, W]`` pair; ``cloud_mask`` (same grid, nonzero = cloud) splits clear from cloudy."""
        self.all += confusion_matrix(reference, predicted, self.num_classes)
        if cloud_mask is not None:
            self.has_cloud_mask = True
            cloudy = np.asarray(cloud_mask) > 0
            self.cloudy += confusion_matrix(reference[cloudy], predicted[cloudy], self.num_classes)
            self.clear += confusion_matrix(reference[~cloudy], predicted[~cloudy], self.num_classes)

    def add_counts(self, matrix: np.ndarray, cloudy: np.ndarray | None = None) -> None:
        """Add ``[K, K]`` counts accumulated elsewhere (rows = reference); ``cloudy``: the part of them
        under clouds, when a cloud mask split them (the rest is clear)."""
        self.all += matrix
        if cloudy is not None:
            self.has_cloud_mask = True
            self.cloudy += cloudy
            self.clear += matrix - cloudy

    def metrics(self, classes: Sequence[ClassSpec]) -> dict:
        """The metrics dict of all pixels, with ``clear`` and ``cloudy`` sub-dicts when a mask was given."""
        result = metrics_from_confusion(self.all, classes)
        if self.has_cloud_mask:
            result["clear"] = metrics_from_confusion(self.clear, classes)
            result["cloudy"] = metrics_from_confusion(self.cloudy, classes)
        return result


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _nanmean(values: Sequence[float]) -> float:
    defined = [v for v in values if not math.isnan(v)]
    return sum(defined) / len(defined) if defined else math.nan


def metrics_from_confusion(matrix: np.ndarray, classes: Sequence[ClassSpec]) -> dict:
    """The LandFuse metrics dict from a ``[K, K]`` confusion matrix (rows = reference).

    Keys: ``oa``, ``miou``, ``mean_f1``, ``kappa``, ``pixels``, ``per_class`` (``id``, ``name``,
    ``iou``, ``f1``, ``precision``, ``recall``, ``support``), ``confusion_matrix`` and
    ``top_confusions`` (largest off-diagonal cells: ``reference``, ``predicted`` names, ``pixels``,
    ``share_of_reference``).
    """
    matrix = np.asarray(matrix, dtype=np.int64)
    if matrix.shape != (len(classes), len(classes)):
        raise ValueError(f"confusion matrix {matrix.shape} does not match {len(classes)} classes")
    total = int(matrix.sum())
    true_positive = np.diag(matrix).astype(float)
    reference_totals = matrix.sum(axis=1).astype(float)
    predicted_totals = matrix.sum(axis=0).astype(float)
    per_class, ious, f1s = [], [], []
    for spec, tp, ref, pred in zip(classes, true_positive, reference_totals, predicted_totals, strict=True):
        fp, fn = pred - tp, ref - tp
        iou, f1 = _ratio(tp, tp + fp + fn), _ratio(2 * tp, 2 * tp + fp + fn)
        ious.append(iou)
        f1s.append(f1)
        per_class.append(
            {
                "id": spec.id,
                "name": spec.name,
                "iou": _json_float(iou),
                "f1": _json_float(f1),
                "precision": _json_float(_ratio(tp, pred)),
                "recall": _json_float(_ratio(tp, ref)),
                "support": int(ref),
            }
        )
    observed = _ratio(true_positive.sum(), total)
    expected = _ratio(float((reference_totals * predicted_totals).sum()), float(total) ** 2)
    kappa = _ratio(observed - expected, 1.0 - expected) if total else math.nan
    if total and expected == 1.0:
        kappa = 1.0 if observed == 1.0 else 0.0
    return {
        "oa": _json_float(observed),
        "miou": _json_float(_nanmean(ious)),
        "mean_f1": _json_float(_nanmean(f1s)),
        "kappa": _json_float(kappa),
        "pixels": total,
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
        "top_confusions": top_confusions(matrix, classes),
    }


def top_confusions(matrix: np.ndarray, classes: Sequence[ClassSpec], count: int = TOP_CONFUSIONS) -> list[dict]:
    """The ``count`` largest off-diagonal cells, largest first (ties by reference then predicted id)."""
    cells = [
        (int(matrix[r, p]), r, p) for r in range(len(classes)) for p in range(len(classes)) if r != p and matrix[r, p]
    ]
    cells.sort(key=lambda cell: (-cell[0], cell[1], cell[2]))
    return [
        {
            "reference": classes[r].name,
            "predicted": classes[p].name,
            "pixels": pixels,
            "share_of_reference": pixels / float(matrix[r].sum()),
        }
        for pixels, r, p in cells[:count]
    ]


def psnr(prediction: np.ndarray, target: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB of two images of equal shape (``inf`` when identical)."""
    mse = float(np.mean((np.asarray(prediction, np.float64) - np.asarray(target, np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(data_range**2 / mse)


def _gaussian_filter(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Valid-mode separable filtering of the last two axes with the 1-D ``window``."""
    size = window.size
    rows = np.lib.stride_tricks.sliding_window_view(image, size, axis=-1) @ window
    return np.lib.stride_tricks.sliding_window_view(rows, size, axis=-2) @ window


def ssim(
    prediction: np.ndarray, target: np.ndarray, data_range: float = 1.0, window_size: int = 11, sigma: float = 1.5
) -> float:
    """Structural similarity of ``[C, H, W]`` (or ``[H, W]``) images, mean over bands and valid windows."""
    x = np.asarray(prediction, np.float64)
    y = np.asarray(target, np.float64)
    if x.shape != y.shape:
        raise ValueError(f"images differ in shape: {x.shape} vs {y.shape}")
    if min(x.shape[-2:]) < window_size:
        raise ValueError(f"SSIM needs images of at least {window_size}x{window_size} pixels, got {x.shape[-2:]}")
    offsets = np.arange(window_size) - (window_size - 1) / 2
    window = np.exp(-(offsets**2) / (2 * sigma**2))
    window /= window.sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = _gaussian_filter(x, window), _gaussian_filter(y, window)
    var_x = _gaussian_filter(x * x, window) - mu_x**2
    var_y = _gaussian_filter(y * y, window) - mu_y**2
    cov = _gaussian_filter(x * y, window) - mu_x * mu_y
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(index.mean())


def plot_confusion_matrix(matrix: np.ndarray, classes: Sequence[ClassSpec], path: str | Path, title: str = "") -> Path:
    """Write a row-normalised confusion-matrix heat map (PNG, matplotlib Agg) with pixel counts; returns ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix, dtype=np.int64)
    rows = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype=float), where=rows > 0)
    names = [spec.name for spec in classes]
    size = 2.5 + 0.6 * len(names)
    figure, axes = plt.subplots(figsize=(size + 1.5, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("reference")
    axes.set_title(title or "confusion matrix (share of each reference class)")
    for r in range(len(names)):
        for p in range(len(names)):
            if matrix[r, p]:
                colour = "white" if shares[r, p] > 0.5 else "black"
                axes.text(
                    p, r, f"{shares[r, p]:.2f}\n{matrix[r, p]}", ha="center", va="center", fontsize=7, color=colour
                )
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
