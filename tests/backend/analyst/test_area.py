"""Processing areas: an extent widened to whole pixels, a polygon mask; pixels outside are nodata in the map."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from landfuse.backend.analyst.area import area_window, write_masked_copy
from landfuse.backend.analyst.references import read_references
from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.engine.grid import dataset_grid
from landfuse.backend.errors import BadParamsError, NoOverlapError
from tests.backend.analyst.helpers import ORIGIN, PIXEL, box, pixel_model, point, water_scene, write_features


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("area")
    optical, sar, truth = water_scene(folder)
    model = pixel_model(folder / "pixel.onnx")
    whole = classify(optical, sar, model, folder / "whole.tif", options=ClassifyOptions(device="cpu"))
    assert whole["valid_share"] == 1.0
    with rasterio.open(folder / "whole.tif") as src:
        whole_map = src.read(1)
    assert (whole_map == truth).mean() > 0.99  # the model reads the scene right
    return {"folder": folder, "optical": optical, "sar": sar, "model": model, "map": whole_map}


def test_an_extent_is_widened_to_whole_pixels_and_cut_to_the_raster(scene):
    with rasterio.open(scene["optical"]) as src:
        grid = dataset_grid(src, "optical")
    x0, y0 = ORIGIN
    window = area_window(grid, (x0 + 25.0, y0 - 405.0, x0 + 301.0, y0 - 100.0))
    assert (window.col_off, window.row_off, window.width, window.height) == (2, 10, 29, 31)
    window = area_window(grid, (x0 - 500.0, y0 - 200.0, x0 + 100.0, y0 + 500.0))
    assert (window.col_off, window.row_off, window.width, window.height) == (0, 0, 10, 20)
    with pytest.raises(NoOverlapError, match="does not overlap"):
        area_window(grid, (x0 - 500.0, y0, x0 - 100.0, y0 + 100.0))


def test_a_map_of_an_extent_is_that_part_of_the_whole_map(scene):
    with rasterio.open(scene["optical"]) as src:
        grid = dataset_grid(src, "optical")
    window = area_window(grid, (ORIGIN[0] + 103.0, ORIGIN[1] - 700.0, ORIGIN[0] + 640.0, ORIGIN[1] - 211.0))
    west, north = grid.transform @ (window.col_off, window.row_off)
    east, south = grid.transform @ (window.col_off + window.width, window.row_off + window.height)
    out = scene["folder"] / "extent.tif"
    classify(
        scene["optical"],
        scene["sar"],
        scene["model"],
        out,
        options=ClassifyOptions(extent=(west, south, east, north), device="cpu"),
    )
    with rasterio.open(out) as src:
        part = src.read(1)
        assert src.transform.c == west and src.transform.f == north
    rows, cols = (
        slice(window.row_off, window.row_off + window.height),
        slice(window.col_off, window.col_off + window.width),
    )
    assert np.array_equal(part, scene["map"][rows, cols])


def test_pixels_outside_the_mask_are_nodata_in_the_copy_and_in_the_map(scene):
    folder = scene["folder"]
    mask_path = write_features(folder / "mask.geojson", [(box(10, 10, 40, 50), None), (box(50, 60, 90, 90), None)])
    mask = read_references(mask_path, "mask", with_class=False)
    copy = folder / "masked.tif"
    result = write_masked_copy(scene["optical"], copy, mask=mask)
    assert result["window"] == [10, 10, 80, 80] and result["pixels_inside"] == 30 * 40 + 40 * 30
    with rasterio.open(scene["optical"]) as src, rasterio.open(copy) as cut:
        original = src.read(window=((10, 90), (10, 90)))
        values = cut.read()
        assert cut.descriptions == src.descriptions and cut.nodata == 0 and cut.dtypes[0] == "uint16"
    inside = np.zeros((80, 80), bool)
    inside[0:30, 0:40] = inside[40:80, 50:80] = True
    assert np.array_equal(values[:, inside], original[:, inside]) and (values[:, ~inside] == 0).all()

    out = folder / "masked-map.tif"
    report = classify(copy, scene["sar"], scene["model"], out, options=ClassifyOptions(device="cpu"))
    with rasterio.open(out) as src:
        masked_map = src.read(1)
    assert (masked_map[~inside] == 255).all()
    assert np.array_equal(masked_map[inside], scene["map"][10:90, 10:90][inside])
    assert sum(c["pixels"] for c in report["classes"]) == inside.sum()
    assert sum(c["hectares"] for c in report["classes"]) == pytest.approx(inside.sum() * PIXEL**2 / 1e4)


def test_an_extent_and_a_mask_intersect_and_a_raster_without_nodata_becomes_float(scene):
    folder = scene["folder"]
    mask = read_references(
        write_features(folder / "mask2.geojson", [(box(0, 0, 60, 60), None)]), "mask", with_class=False
    )
    extent = (ORIGIN[0] + 200.0, ORIGIN[1] - 900.0, ORIGIN[0] + 900.0, ORIGIN[1] - 300.0)
    result = write_masked_copy(scene["sar"], folder / "sar-cut.tif", extent=extent, mask=mask)
    assert result["window"] == [20, 30, 40, 30]
    with rasterio.open(folder / "sar-cut.tif") as cut:
        assert cut.dtypes[0] == "float32" and np.isnan(cut.nodata) and not np.isnan(cut.read()).any()
    with pytest.raises(BadParamsError, match="must be polygons"):
        write_masked_copy(
            scene["sar"],
            folder / "x.tif",
            mask=read_references(write_features(folder / "p.geojson", [(point(3, 3), None)]), "mask", with_class=False),
        )
