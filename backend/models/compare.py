"""How far a lower-precision model strays from its float original: class-map agreement and mIoU.

Three ways to compare, all returning one dict:

- ``compare_on_windows``: prepared model-input windows (``backend.models.calibration.WindowSet``),
  e.g. the held-out windows ``quantize`` checks on.
- ``compare_on_dataset``: every scene of a dataset (the synthetic cloudy benchmark's test split),
  slide-window inference as ``evaluate`` does, mIoU of both models against the labels.
- ``compare_on_rasters``: a raster pair through the real engine (``classify`` with each model), the
  two class maps compared pixel by pixel, and scored against a reference label raster when given.

Keys: ``agreement`` (share of pixels valid in both maps where the classes are equal), ``pixels``
(how many were compared), and with labels ``reference_miou`` (the float model), ``miou`` (the other)
and ``miou_difference_points`` (other - float, in mIoU points, negative = worse).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..metrics import ConfusionAccumulator

Agreement = tuple[int, int]  # (equal pixels, compared pixels)


def summary(equal: int, compared: int, reference_miou: float | None = None, miou: float | None = None) -> dict:
    """The comparison dict from agreement counts and, where labels exist, both mIoUs (0..1)."""
    result = {"agreement": equal / compared if compared else None, "pixels": int(compared)}
    if reference_miou is not None and miou is not None:
        result.update(miou_difference(reference_miou, miou))
    return result


def miou_difference(reference_miou: float, miou: float) -> dict:
    """Both mIoUs (0..1) and their difference in points (other - float)."""
    return {"reference_miou": reference_miou, "miou": miou, "miou_difference_points": 100.0 * (miou - reference_miou)}


def compare_on_windows(reference, runner, windows) -> dict:
    """Compare ``runner`` with ``reference`` (runners, ``backend.runners``) on ``windows.check``.

    ``windows``: a ``WindowSet``; its ``check_valid`` masks select the compared pixels and its
    ``check_labels`` (when present) give the mIoU of both. Adds ``max_abs_logit_difference``.
    """
    classes = reference.card.classes
    scores = [ConfusionAccumulator(len(classes)), ConfusionAccumulator(len(classes))]
    equal = compared = 0
    largest = 0.0
    for index, window in enumerate(windows.check):
        logits = [r.run(window)["logits"][0] for r in (reference, runner)]
        valid = windows.check_valid[index]
        maps = [values.argmax(axis=0) for values in logits]
        equal += int((maps[0] == maps[1])[valid].sum())
        compared += int(valid.sum())
        largest = max(largest, float(np.abs(logits[0] - logits[1])[:, valid].max(initial=0.0)))
        if windows.check_labels is not None:
            label = np.where(valid, windows.check_labels[index], 255)
            for accumulator, class_map in zip(scores, maps, strict=True):
                accumulator.update(label, class_map)
    mious = [a.metrics(classes)["miou"] for a in scores] if windows.check_labels is not None else [None, None]
    return {**summary(equal, compared, *mious), "max_abs_logit_difference": largest}


def compare_on_dataset(reference, runner, dataset, tile: int | None = None, overlap: int | None = None) -> dict:
    """Compare ``runner`` with ``reference`` on every sample of ``dataset`` (with labels), as ``evaluate`` runs.

    Adds ``cloudy`` with the same keys over cloud and shadow pixels when the samples have a cloud mask.
    """
    from ..evaluation import model_inputs, predict, resize_probabilities

    card = reference.card
    scores = [ConfusionAccumulator(card.num_classes), ConfusionAccumulator(card.num_classes)]
    equal = compared = cloudy_equal = cloudy_compared = 0
    for index in range(len(dataset)):
        sample = dataset[index]
        inputs = model_inputs(sample, card)
        maps = []
        for model, accumulator in zip((reference, runner), scores, strict=True):
            probs, _ = predict(model, inputs, tile, overlap)
            maps.append(resize_probabilities(probs, sample.label.shape).argmax(axis=0))
            accumulator.update(sample.label, maps[-1], sample.cloud_mask)
        same = maps[0] == maps[1]
        equal, compared = equal + int(same.sum()), compared + same.size
        if sample.cloud_mask is not None:
            cloudy = sample.cloud_mask > 0
            cloudy_equal, cloudy_compared = cloudy_equal + int(same[cloudy].sum()), cloudy_compared + int(cloudy.sum())
    metrics = [a.metrics(card.classes) for a in scores]
    result = summary(equal, compared, metrics[0]["miou"], metrics[1]["miou"])
    if all("cloudy" in m for m in metrics):
        result["cloudy"] = summary(
            cloudy_equal, cloudy_compared, metrics[0]["cloudy"]["miou"], metrics[1]["cloudy"]["miou"]
        )
    return result


def class_map_agreement(first: str | Path, second: str | Path, nodata: int) -> dict:
    """Pixel agreement of two class maps on the same grid, read block row by block row.

    Also counts ``valid_in_one_only``: pixels that are ``nodata`` in exactly one map.
    """
    import rasterio

    equal = compared = one_only = 0
    with rasterio.open(first) as a, rasterio.open(second) as b:
        if (a.width, a.height, a.transform) != (b.width, b.height, b.transform):
            raise ValueError(f"{Path(first).name} and {Path(second).name} are not on the same grid")
        for _, window in a.block_windows(1):
            x, y = a.read(1, window=window), b.read(1, window=window)
            valid_x, valid_y = x != nodata, y != nodata
            both = valid_x & valid_y
            equal += int((x == y)[both].sum())
            compared += int(both.sum())
            one_only += int((valid_x ^ valid_y).sum())
    return {**summary(equal, compared), "valid_in_one_only": one_only}


def compare_on_rasters(
    reference_model,
    model,
    optical: str | Path | None,
    sar: str | Path | None,
    *,
    labels: str | Path | None = None,
    reference_codes: str | None = None,
    optical_bands: list[int | str] | None = None,
    sar_bands: list[int | str] | None = None,
    options=None,
) -> dict:
    """Classify the pair with both models (``.onnx`` paths or runners) through the engine and compare the maps.

    ``labels``: optional reference raster (class ids, or codes of the scheme ``reference_codes``)
    scored against both maps with ``evaluate_rasters``. ``options``: the engine's ``ClassifyOptions``.
    """
    from ..engine import ClassifyOptions, classify
    from ..evaluation import evaluate_rasters

    options = options or ClassifyOptions(device="cpu")
    with tempfile.TemporaryDirectory(prefix="landfuse-compare-") as folder:
        maps, names = [Path(folder) / "reference.tif", Path(folder) / "other.tif"], []
        for candidate, class_map in zip((reference_model, model), maps, strict=True):
            report = classify(
                optical, sar, candidate, class_map, optical_bands=optical_bands, sar_bands=sar_bands, options=options
            )
            names.append(report["model"]["architecture"] + "-" + report["model"]["variant"])
            nodata = report["model"]["nodata"]
        result = class_map_agreement(*maps, nodata=nodata)
        if labels is not None:
            scores = [evaluate_rasters(m, labels, reference_codes=reference_codes)["miou"] for m in maps]
            result.update(miou_difference(*scores))
    return {**result, "models": names}
