"""An independent yardstick for the engine, written from scratch with plain rasterio, numpy and ONNX Runtime.

Whole rasters are read (warped with one ``rasterio.warp.reproject`` call when they are not on the
output grid), normalised as the model card says, and classified by an mmsegmentation-style
``slide_inference``: crops of ``tile`` pixels every ``tile - overlap`` pixels, the last one moved
back inside the raster, zero-padded at the bottom/right to the tile, their softmax probabilities
accumulated with separable linear-ramp weights and divided by the accumulated weight. Nothing here
imports the engine, so a bug in the engine's reading, warping, padding, windows, blending or model
runner cannot also be in the expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform as transform_points

NODATA_CLASS = 255
CONFIDENCE_NODATA = 255
# Probabilities from the engine and from this implementation (both float32 models) agree to well within this.
PROBABILITY_TOLERANCE = 1e-5


@dataclass(frozen=True)
class OutputGrid:
    crs: object
    transform: object
    width: int
    height: int

    @classmethod
    def of(cls, path) -> OutputGrid:
        """The grid of a raster file."""
        with rasterio.open(path) as src:
            return cls(src.crs, src.transform, src.width, src.height)


def read_on_grid(
    path, bands: list[int] | None, grid: OutputGrid, strict_bilinear: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The whole raster on ``grid``: values float32 [bands, H, W] (NaN where invalid) and validity [H, W].

    A raster on another grid is warped in one piece: by GDAL (bilinear, exact transformer), or with
    ``strict_bilinear`` by ``strict_bilinear_on_grid``.
    """
    with rasterio.open(path) as src:
        bands = bands or list(range(1, src.count + 1))
        values = src.read(bands).astype(np.float32)
        for band, nodata in enumerate(src.nodatavals[b - 1] for b in bands):
            if nodata is not None:
                values[band][values[band] == np.float32(nodata)] = np.nan
        if (src.crs, src.transform, src.width, src.height) == (grid.crs, grid.transform, grid.width, grid.height):
            pass
        elif strict_bilinear:
            values = strict_bilinear_on_grid(values, src.crs, src.transform, grid)
        else:
            with WarpedVRT(
                src,
                crs=grid.crs,
                transform=grid.transform,
                width=grid.width,
                height=grid.height,
                resampling=Resampling.bilinear,
                tolerance=1e-12,
                dtype="float32",
                nodata=np.nan,
            ) as vrt:
                values = vrt.read(bands)
    return values, np.isfinite(values).all(axis=0)


def strict_bilinear_on_grid(values: np.ndarray, crs, transform, grid: OutputGrid) -> np.ndarray:
    """``values`` [bands, h, w] (NaN = invalid) placed by ``crs`` + affine ``transform``, sampled bilinearly
    at the centres of ``grid``'s pixels; NaN where one of the four neighbours is invalid or missing."""
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width]
    xs, ys = grid.transform @ (cols.ravel() + 0.5, rows.ravel() + 0.5)
    xs, ys = transform_points(grid.crs, crs, xs, ys)
    col, row = ~transform @ (np.asarray(xs), np.asarray(ys))
    fy, fx = row - 0.5, col - 0.5
    y0, x0 = np.floor(fy).astype(int), np.floor(fx).astype(int)
    dy, dx = fy - y0, fx - x0
    height, width = values.shape[1:]
    out = np.full((values.shape[0], fy.size), np.nan, np.float32)
    for i in np.flatnonzero((y0 >= 0) & (x0 >= 0) & (y0 < height - 1) & (x0 < width - 1)):
        a, b = y0[i], x0[i]
        patch = values[:, a : a + 2, b : b + 2]
        weights = np.array([[(1 - dy[i]) * (1 - dx[i]), (1 - dy[i]) * dx[i]], [dy[i] * (1 - dx[i]), dy[i] * dx[i]]])
        out[:, i] = (patch * weights).sum(axis=(1, 2))
    return out.reshape(values.shape[0], grid.height, grid.width)


def normalised(values: np.ndarray, specs) -> np.ndarray:
    """``(clip(x, lo, hi) - mean) / std`` per band of the card."""
    out = np.empty_like(values)
    for band, spec in enumerate(specs):
        x = values[band]
        if spec.clip:
            x = np.clip(x, spec.clip[0], spec.clip[1])
        out[band] = (x - np.float32(spec.mean)) / np.float32(spec.std)
    return out


def ramp(length: int, overlap: int) -> np.ndarray:
    """Blend weight of each position of a crop: rises linearly over ``overlap + 1`` pixels from each edge."""
    return np.array(
        [min(1.0, (i + 1) / (overlap + 1), (length - i) / (overlap + 1)) for i in range(length)], np.float32
    )


def crop_starts(length: int, tile: int, stride: int) -> list[int]:
    """mmsegmentation's slide positions along one axis."""
    grids = max(length - tile + stride - 1, 0) // stride + 1
    return [max(min(i * stride + tile, length) - tile, 0) for i in range(grids)]


@cache
def _session(model_path: str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])


def slide_inference(
    model_path, card, inputs: dict[str, np.ndarray], valid: np.ndarray, tile: int, overlap: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Blended probabilities float32 [K, H, W] and normalised reconstruction [C, H, W] (or None), 0 where invalid.

    inputs: normalised float32 [bands, H, W] per modality, already 0 where invalid.
    """
    session = _session(str(model_path))
    height, width = valid.shape
    classes = card.num_classes
    recon_bands = len(card.optical_bands) if card.has_reconstruction else 0
    sums = np.zeros((classes + recon_bands, height, width), np.float64)
    weight = np.zeros((height, width), np.float64)
    stride = tile - overlap
    for y1 in crop_starts(height, tile, stride):
        for x1 in crop_starts(width, tile, stride):
            y2, x2 = min(y1 + tile, height), min(x1 + tile, width)
            if not valid[y1:y2, x1:x2].any():
                continue
            feed = {}
            for name, array in inputs.items():
                crop = np.zeros((1, array.shape[0], tile, tile), np.float32)
                crop[0, :, : y2 - y1, : x2 - x1] = array[:, y1:y2, x1:x2]
                feed[name] = crop
            outputs = dict(zip(card.outputs, session.run(list(card.outputs), feed), strict=True))
            logits = outputs["logits"][0, :, : y2 - y1, : x2 - x1].astype(np.float64)
            exp = np.exp(logits - logits.max(axis=0))
            values = [exp / exp.sum(axis=0)]
            if recon_bands:
                values.append(outputs["reconstruction"][0, :, : y2 - y1, : x2 - x1])
            w = np.outer(ramp(y2 - y1, overlap), ramp(x2 - x1, overlap))
            sums[:, y1:y2, x1:x2] += np.concatenate(values) * w
            weight[y1:y2, x1:x2] += w
    blended = np.where(weight > 0, sums / np.where(weight > 0, weight, 1), 0).astype(np.float32)
    blended[:, ~valid] = 0.0
    return blended[:classes], (blended[classes:] if recon_bands else None)


@dataclass
class Expected:
    """What the engine must produce for a raster pair."""

    probabilities: np.ndarray  # float32 [K, H, W], 0 where invalid
    valid: np.ndarray  # bool [H, W]
    reconstruction: np.ndarray | None  # float32 [C, H, W] in the card's optical units, NaN where invalid

    @property
    def decided(self) -> np.ndarray:
        """Valid pixels whose two best classes differ by more than two float32 implementations can
        disagree (elsewhere either class may win)."""
        top2 = np.sort(self.probabilities, axis=0)[-2:]
        return self.valid & (top2[1] - top2[0] > 2 * PROBABILITY_TOLERANCE)

    @property
    def off_rounding_edge(self) -> np.ndarray:
        """Valid pixels whose top probability in percent is not within the tolerance of a .5."""
        percent = self.probabilities.max(axis=0) * 100
        return self.valid & (np.abs(percent - np.floor(percent) - 0.5) > 100 * PROBABILITY_TOLERANCE)

    def check_written(self, class_map, confidence=None) -> None:
        """Assert that written class map / confidence files hold these outputs (ties and rounding edges aside)."""
        with rasterio.open(class_map) as src:
            classes = src.read(1)
        np.testing.assert_array_equal(classes == NODATA_CLASS, ~self.valid)
        assert self.decided.sum() > 0.99 * self.valid.sum(), "the scene must not be made of ties"
        np.testing.assert_array_equal(classes[self.decided], self.classes[self.decided])
        if confidence is not None:
            with rasterio.open(confidence) as src:
                top = src.read(1)
            np.testing.assert_array_equal(top[~self.valid], CONFIDENCE_NODATA)
            np.testing.assert_array_equal(top[self.off_rounding_edge], self.confidence[self.off_rounding_edge])

    @property
    def classes(self) -> np.ndarray:
        labels = self.probabilities.argmax(axis=0).astype(np.uint8)
        labels[~self.valid] = NODATA_CLASS
        return labels

    @property
    def confidence(self) -> np.ndarray:
        top = np.rint(self.probabilities.max(axis=0) * 100).astype(np.uint8)
        top[~self.valid] = CONFIDENCE_NODATA
        return top


def expected_outputs(
    model_path: str | Path,
    card,
    optical,
    sar,
    tile: int,
    overlap: int,
    bands: dict | None = None,
    grid: OutputGrid | None = None,
    sar_unit: str = "dB",
    strict_bilinear: bool = False,
) -> Expected:
    """The independent expectation for classifying ``optical`` + ``sar`` with the ONNX model at ``model_path``.

    grid: the output grid (default: the grid of the card's first modality raster); sar_unit: the
    unit the SAR raster holds ("dB" or "linear" power; converted to the card's unit);
    strict_bilinear: warp the SAR raster with ``strict_bilinear_on_grid`` (how rasters placed by
    ground control points are sampled).
    """
    bands = bands or {}
    paths = {"optical": optical, "sar": sar}
    specs = {"optical": card.optical_bands, "sar": card.sar_bands}
    grid = grid or OutputGrid.of(paths[card.modalities[0]])
    inputs, valid = {}, np.ones((grid.height, grid.width), bool)
    for name in card.modalities:
        values, ok = read_on_grid(paths[name], bands.get(name), grid, strict_bilinear and name == "sar")
        if name == "sar" and sar_unit != specs["sar"][0].unit:
            values = 10 * np.log10(np.maximum(values, 1e-10), dtype=np.float32)
        inputs[name] = normalised(values, specs[name])
        valid &= ok
    for array in inputs.values():
        array[:, ~valid] = 0.0
    probabilities, reconstruction = slide_inference(model_path, card, inputs, valid, tile, overlap)
    if reconstruction is not None:
        means = np.array([b.mean for b in card.optical_bands], np.float32)[:, None, None]
        stds = np.array([b.std for b in card.optical_bands], np.float32)[:, None, None]
        reconstruction = reconstruction * stds + means
        reconstruction[:, ~valid] = np.nan
    return Expected(probabilities, valid, reconstruction)
