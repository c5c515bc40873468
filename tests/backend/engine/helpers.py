"""Tiny models and synthetic rasters for the engine tests and benchmark."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from landfuse.common.card import ONNX_METADATA_KEY, BandSpec, ClassSpec, ModelCard

OPTICAL_CRS = "EPSG:32633"
OPTICAL_ORIGIN = (400000.0, 5000000.0)


def tiny_card(optical: int = 3, sar: int = 2, classes: int = 3, tile: int = 64, **overrides) -> ModelCard:
    """A card for ``TinyFusion``: reflectance x 10000 optical bands and SAR in dB."""
    names = ["B4", "B3", "B8", "B11", "B12", "B2", "B5", "B6", "B7"]
    fields = dict(
        architecture="tiny",
        variant="test",
        optical_bands=tuple(
            BandSpec(names[i], "reflectance x 10000", 1500.0, 1000.0, (0.0, 10000.0)) for i in range(optical)
        ),
        sar_bands=tuple(BandSpec(n, "dB", -14.0, 5.0, (-40.0, 10.0)) for n in ("VV", "VH")[:sar]),
        classes=tuple(
            ClassSpec(i, name, color)
            for i, (name, color) in enumerate(
                [
                    ("water", "#419bdf"),
                    ("trees", "#397d49"),
                    ("built", "#c4281b"),
                    ("crops", "#e49635"),
                    ("bare", "#a59b8f"),
                    ("grass", "#88b053"),
                    ("snow", "#b39fe1"),
                    ("shrub", "#dfc35a"),
                    ("flooded", "#7a87c6"),
                ][:classes]
            )
        ),
        tile_size=tile,
        size_multiple=16,
        outputs=("logits",),
    )
    fields.update(overrides)
    return ModelCard(**fields)


def tiny_module(card: ModelCard, width: int = 8, seed: int = 0):
    """A two-input conv net ``(optical, sar) -> {"logits"}`` (5 x 5 receptive field), random weights."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    class TinyFusion(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            channels = len(card.optical_bands) + len(card.sar_bands)
            self.body = nn.Sequential(
                nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, card.num_classes, 3, padding=1)
            )
            self.recon = nn.Conv2d(channels, len(card.optical_bands), 1) if card.has_reconstruction else None

        def forward(self, optical, sar):
            x = torch.cat([t for t in (optical, sar) if t is not None], dim=1)
            out = {"logits": 3.0 * self.body(x)}
            if self.recon is not None:
                out["reconstruction"] = self.recon(x)
            return out

    return TinyFusion().eval()


def export_onnx(
    module, card: ModelCard, path: Path, card_json: str | None = None, static_channels: bool = False
) -> Path:
    """Export ``module`` with the LandFuse I/O contract and the card in ``metadata_props``."""
    import onnx
    import torch

    names = list(card.modalities)
    example = tuple(
        torch.zeros(1, len(card.optical_bands if n == "optical" else card.sar_bands), 32, 32) for n in names
    )

    class Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, *tensors):
            given = dict(zip(names, tensors, strict=True))
            out = self.inner(given.get("optical"), given.get("sar"))
            return tuple(out[k] for k in card.outputs)

    axes = {n: {0: "batch", 2: "height", 3: "width"} for n in [*names, *card.outputs]}
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Wrapper(),
            example,
            buffer,
            input_names=names,
            output_names=list(card.outputs),
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    model = onnx.load_from_string(buffer.getvalue())
    entry = model.metadata_props.add()
    entry.key, entry.value = ONNX_METADATA_KEY, card_json if card_json is not None else card.to_json()
    onnx.save(model, str(path))
    return path


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], scale: int = 16) -> np.ndarray:
    """A smooth random field in [0, 1], float32 [h, w]."""
    coarse = rng.random((shape[0] // scale + 2, shape[1] // scale + 2))
    ys = np.linspace(0, coarse.shape[0] - 1.001, shape[0])
    xs = np.linspace(0, coarse.shape[1] - 1.001, shape[1])
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    c = coarse
    top = c[y0][:, x0] * (1 - fx) + c[y0][:, x0 + 1] * fx
    bottom = c[y0 + 1][:, x0] * (1 - fx) + c[y0 + 1][:, x0 + 1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def write_optical(
    path: Path, height: int, width: int, bands: int = 3, seed: int = 1, nodata_patch: bool = True
) -> Path:
    """UTM 33N, 10 m, uint16 reflectance x 10000, nodata 0 (a 10 x 12 patch of nodata when asked)."""
    rng = np.random.default_rng(seed)
    data = np.stack([300 + 5000 * smooth_field(rng, (height, width)) for _ in range(bands)]).astype(np.uint16)
    if nodata_patch:
        data[:, 5:15, 7:19] = 0
    profile = dict(
        driver="GTiff",
        width=width,
        height=height,
        count=bands,
        dtype="uint16",
        crs=OPTICAL_CRS,
        transform=from_origin(*OPTICAL_ORIGIN, 10, 10),
        nodata=0,
        tiled=True,
        blockxsize=64,
        blockysize=64,
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def write_sar(
    path: Path,
    like_height: int,
    like_width: int,
    seed: int = 2,
    linear: bool = False,
    nan_patch: bool = True,
    crs: str = "EPSG:4326",
    shift_deg: float = 0.0,
) -> Path:
    """SAR (VV, VH) in EPSG:4326 at about 20 m covering the optical area of ``write_optical``, with a NaN patch."""
    from rasterio.warp import transform_bounds

    west, south, east, north = transform_bounds(
        OPTICAL_CRS,
        crs,
        OPTICAL_ORIGIN[0],
        OPTICAL_ORIGIN[1] - 10 * like_height,
        OPTICAL_ORIGIN[0] + 10 * like_width,
        OPTICAL_ORIGIN[1],
    )
    rx, ry = 0.00025, 0.00018
    west, north = west - 4 * rx + shift_deg, north + 4 * ry
    width, height = int((east + 4 * rx + shift_deg - west) / rx) + 1, int((north - south + 4 * ry) / ry) + 1
    rng = np.random.default_rng(seed)
    db = np.stack([-20 + 15 * smooth_field(rng, (height, width), 8), -26 + 12 * smooth_field(rng, (height, width), 8)])
    if nan_patch:
        db[:, height // 2 : height // 2 + 4, width // 3 : width // 3 + 5] = np.nan
    data = np.power(10.0, db / 10.0) if linear else db
    profile = dict(
        driver="GTiff",
        width=width,
        height=height,
        count=2,
        dtype="float32",
        crs=crs,
        transform=from_origin(west, north, rx, ry),
        nodata=np.nan,
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(np.float32))
        dst.descriptions = ("VV", "VH")
    return path


class ArraySource:
    """Model inputs held in memory (same interface as ``ModelInputSource``), for property tests."""

    def __init__(self, arrays: dict[str, np.ndarray], valid: np.ndarray):
        self.arrays, self.valid = arrays, valid

    def read(self, y0: int, x0: int, height: int, width: int):
        rows, cols = slice(y0, y0 + height), slice(x0, x0 + width)
        return {k: v[:, rows, cols].copy() for k, v in self.arrays.items()}, self.valid[rows, cols].copy()


def collect_pipeline(plan, source, runner, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Run the streaming pipeline and assemble probabilities float32 [K, H, W] (0 where invalid) and validity."""
    from landfuse.backend.engine.pipeline import run_pipeline

    k = runner.card.num_classes
    probs = np.full((k, plan.height, plan.width), np.nan, np.float32)
    valid = np.zeros((plan.height, plan.width), bool)

    def on_piece(piece, p, recon):
        assert np.isnan(probs[:, piece.y0 : piece.y1, piece.x0 : piece.x1]).all(), "pixel emitted twice"
        probs[:, piece.y0 : piece.y1, piece.x0 : piece.x1] = p
        valid[piece.y0 : piece.y1, piece.x0 : piece.x1] = piece.valid

    run_pipeline(plan, source, runner, on_piece, **kwargs)
    assert not np.isnan(probs).any(), "pixel never emitted"
    probs[:, ~valid] = 0.0
    return probs, valid


def reference(runner, optical, sar, options, bands: dict | None = None, sar_unit: str = "dB", strict_bilinear=False):
    """(expected probabilities, validity, streamed probabilities, streamed validity) for a raster pair.

    The expectation is the independent implementation of ``independent.py`` (no engine code); the
    streamed result comes from the engine's grid, readers and streaming pipeline. With a target CRS,
    resolution or extent the expectation is computed on the engine's grid (checked on its own).
    """
    from landfuse.backend.engine.classify import build_grid, build_plan, open_source
    from tests.backend.engine.independent import OutputGrid, expected_outputs

    paths = {"optical": optical, "sar": sar}
    grid = build_grid(runner.card, paths, options)
    plan = build_plan(grid, runner.card, options)
    source = open_source(runner.card, grid, paths, bands or {}, options.sar_unit)
    try:
        streamed, streamed_valid = collect_pipeline(plan, source, runner, batch_size=options.batch_size)
    finally:
        source.close()
    targeted = options.target_crs or options.resolution or options.extent
    expected = expected_outputs(
        runner.path,
        runner.card,
        optical,
        sar,
        plan.tile,
        plan.overlap,
        bands,
        OutputGrid(grid.crs, grid.transform, grid.width, grid.height) if targeted else None,
        sar_unit,
        strict_bilinear,
    )
    return expected.probabilities, expected.valid, streamed, streamed_valid
