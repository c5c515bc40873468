"""Small hand-made inputs for the analyst tests: class maps, optical + SAR pairs and GeoJSON features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from landfuse.backend.engine.style import class_name_tags
from landfuse.common.card import BandSpec, ClassSpec, ModelCard

UTM = "EPSG:32633"
ORIGIN = (500000.0, 5100000.0)
PIXEL = 10.0  # metres: one pixel is 0.01 ha


def write_class_map(path: Path, ids: np.ndarray, names: list[str], colours: list[str], nodata: int = 255) -> Path:
    """A LandFuse-style class map: uint8 ids, class names in the band tags, a colour table, UTM 10 m."""
    card = ModelCard(
        "test",
        "x",
        (BandSpec("B1", "x", 0.0, 1.0),),
        (),
        tuple(ClassSpec(i, n, c) for i, (n, c) in enumerate(zip(names, colours, strict=True))),
    )
    profile = {
        "driver": "GTiff",
        "width": ids.shape[1],
        "height": ids.shape[0],
        "count": 1,
        "dtype": "uint8",
        "nodata": nodata,
        "crs": UTM,
        "transform": from_origin(*ORIGIN, PIXEL, PIXEL),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(ids.astype(np.uint8), 1)
        dst.update_tags(1, **class_name_tags(card))
        dst.write_colormap(1, {i: tuple(int(c[k : k + 2], 16) for k in (1, 3, 5)) for i, c in enumerate(colours)})
    return path


def pixel_centre(row: float, col: float) -> tuple[float, float]:
    return ORIGIN[0] + (col + 0.5) * PIXEL, ORIGIN[1] - (row + 0.5) * PIXEL


def box(row0: int, col0: int, row1: int, col1: int) -> dict:
    """A polygon covering pixels rows row0..row1-1, cols col0..col1-1 (edges on pixel edges)."""
    x0, y0 = ORIGIN[0] + col0 * PIXEL, ORIGIN[1] - row0 * PIXEL
    x1, y1 = ORIGIN[0] + col1 * PIXEL, ORIGIN[1] - row1 * PIXEL
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def point(row: float, col: float) -> dict:
    return {"type": "Point", "coordinates": list(pixel_centre(row, col))}


def write_features(path: Path, features: list[tuple[dict, object]]) -> Path:
    """GeoJSON FeatureCollection of ``(geometry, class value)`` pairs (value None: no ``class`` property)."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {} if value is None else {"class": value}, "geometry": geometry}
            for geometry, value in features
        ],
    }
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def water_scene(folder: Path, size: int = 96, seed: int = 0) -> tuple[Path, Path, np.ndarray]:
    """Optical (4 bands named B2, B3, B4, B8; reflectance x 10000, uint16, nodata 0) and SAR (VV, VH in dB)
    of a scene with water ponds (dark SAR, low NIR) in land, on one UTM grid. Returns paths and the truth
    (1 = water, 0 = land)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    truth = np.zeros((size, size), np.uint8)
    for centre_row, centre_col, radius in ((20, 20, 10), (60, 30, 14), (30, 70, 12), (75, 75, 9)):
        truth[(rows - centre_row) ** 2 + (cols - centre_col) ** 2 < radius**2] = 1
    water = truth == 1
    optical = np.stack(
        [np.where(water, v_water, v_land) for v_water, v_land in ((600, 900), (500, 1100), (400, 1200), (200, 3000))]
    ).astype(np.float64)
    optical += rng.normal(0, 60, optical.shape)
    sar = np.stack([np.where(water, -22.0, -9.0), np.where(water, -28.0, -16.0)]) + rng.normal(0, 1.0, (2, size, size))
    transform = from_origin(*ORIGIN, PIXEL, PIXEL)
    common = {"driver": "GTiff", "width": size, "height": size, "crs": UTM, "transform": transform}
    optical_path, sar_path = folder / "optical.tif", folder / "sar.tif"
    with rasterio.open(optical_path, "w", count=4, dtype="uint16", nodata=0, **common) as dst:
        dst.write(np.clip(optical, 1, 10000).astype(np.uint16))
        dst.descriptions = ("B2", "B3", "B4", "B8")
    with rasterio.open(sar_path, "w", count=2, dtype="float32", **common) as dst:
        dst.write(sar.astype(np.float32))
        dst.descriptions = ("VV", "VH")
    return optical_path, sar_path, truth


def pixel_model(path: Path) -> Path:
    """A per-pixel (1 x 1 convolution) ONNX model for ``water_scene``: water where the NIR band (B8) is low
    or VH is dark. Per pixel, so a map of part of the scene equals the same part of the whole scene's map."""
    import torch
    from torch import nn

    from landfuse.backend.models.export import export_onnx

    card = ModelCard(
        architecture="pixel",
        variant="test",
        optical_bands=tuple(BandSpec(name, "reflectance x 10000", 1500.0, 1000.0) for name in ("B2", "B3", "B4", "B8")),
        sar_bands=(BandSpec("VV", "dB", -14.0, 5.0), BandSpec("VH", "dB", -20.0, 5.0)),
        classes=(ClassSpec(0, "land", "#d9d9d9"), ClassSpec(1, "water", "#1f78b4")),
        tile_size=32,
    )

    class Pixel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = nn.Conv2d(6, 2, 1)
            with torch.no_grad():
                self.head.weight.zero_()
                self.head.weight[1, 3] = -2.0  # low NIR -> water
                self.head.weight[1, 5] = -1.0  # dark VH -> water
                self.head.bias.copy_(torch.tensor([0.0, -1.0]))

        def forward(self, optical, sar):
            return {"logits": self.head(torch.cat([optical, sar], dim=1))}

    return export_onnx(Pixel().eval(), card, path)
