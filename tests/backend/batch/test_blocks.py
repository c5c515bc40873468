"""Blocks run the scene plan's own windows over their cores, so assembled blocks equal a single run (no Ray here)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio

from landfuse.backend.batch.blocks import assemble_blocks, block_files, block_region, classify_block, split_blocks
from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.engine.classify import build_grid, build_plan
from landfuse.backend.engine.windows import WindowPlan
from landfuse.backend.errors import BadParamsError
from landfuse.backend.runners import OnnxRunner
from tests.backend.engine.helpers import write_optical, write_sar


@pytest.mark.parametrize(
    ("height", "width", "tile", "overlap", "size"),
    [(700, 1000, 64, 16, 256), (300, 257, 96, 24, 256), (50, 600, 64, 16, 256), (1024, 512, 256, 64, 512)],
)
def test_block_regions_hold_exactly_the_scene_windows_over_their_cores(height, width, tile, overlap, size):
    plan = WindowPlan(height, width, tile, overlap)
    row_sum, col_sum = plan.weight_sums()
    covered = np.zeros((height, width), int)
    for block in split_blocks(height, width, size):
        top, left, region = block_region(plan, block)
        windows = {(y0 + top, x0 + left) for _, _, y0, x0 in region}
        expected = {
            (y0, x0)
            for _, _, y0, x0 in plan
            if y0 < block.y0 + block.height
            and y0 + plan.window_height > block.y0
            and x0 < block.x0 + block.width
            and x0 + plan.window_width > block.x0
        }
        assert windows == expected
        assert (region.window_height, region.window_width) == (plan.window_height, plan.window_width)
        np.testing.assert_array_equal(region.weights, plan.weights)
        region_rows, region_cols = region.weight_sums()
        core_rows = slice(block.y0 - top, block.y0 - top + block.height)
        core_cols = slice(block.x0 - left, block.x0 - left + block.width)
        np.testing.assert_array_equal(region_rows[core_rows], row_sum[block.y0 : block.y0 + block.height])
        np.testing.assert_array_equal(region_cols[core_cols], col_sum[block.x0 : block.x0 + block.width])
        covered[block.y0 : block.y0 + block.height, block.x0 : block.x0 + block.width] += 1
    assert (covered == 1).all(), "the cores tile the grid once"


def test_block_size_must_be_a_multiple_of_the_output_tile():
    with pytest.raises(BadParamsError, match="multiple of 256"):
        split_blocks(1000, 1000, 300)


def test_assembled_blocks_equal_a_single_run_with_warped_sar_and_nodata(conv_model, tmp_path):
    optical = write_optical(tmp_path / "optical.tif", 300, 333)
    sar = write_sar(tmp_path / "sar.tif", 300, 333)
    runner = OnnxRunner(conv_model, "cpu", threads=1)
    options = ClassifyOptions(batch_size=3)
    single = tmp_path / "single"
    classify(optical, sar, runner, single / "landcover.tif", confidence=single / "confidence.tif", options=options)

    paths = {"optical": str(optical), "sar": str(sar)}
    grid = build_grid(runner.card, paths, options)
    plan = build_plan(grid, runner.card, options)
    blocks = split_blocks(grid.height, grid.width, 256)
    assert len(blocks) == 4
    folder = tmp_path / "blocks"
    for block in blocks:
        files = block_files(folder, block, confidence=True)
        result = classify_block(
            str(optical), str(sar), runner, block, files, bands={"optical": None, "sar": None}, options=options
        )
        assert sum(result["pixels"]) <= block.height * block.width == result["total_pixels"]
    outputs = {
        "class_map": str(tmp_path / "split" / "landcover.tif"),
        "confidence": str(tmp_path / "split" / "confidence.tif"),
        "report": str(tmp_path / "split" / "report.json"),
    }
    report = assemble_blocks(runner.card, grid, plan, blocks, folder, outputs, options)

    for name in ("landcover.tif", "confidence.tif"):
        with rasterio.open(single / name) as expected, rasterio.open(tmp_path / "split" / name) as assembled:
            assert assembled.crs == expected.crs
            assert (assembled.transform, assembled.shape) == (expected.transform, expected.shape)
            assert assembled.profile["tiled"] and assembled.nodata == expected.nodata
            np.testing.assert_array_equal(assembled.read(1), expected.read(1))
            if name == "landcover.tif":
                assert assembled.colormap(1) == expected.colormap(1)
                assert assembled.tags(1) == expected.tags(1)
    assert (tmp_path / "split" / "landcover.qml").read_text() == (single / "landcover.qml").read_text()
    with rasterio.open(single / "landcover.tif") as expected:
        labels = expected.read(1)
    assert [c["pixels"] for c in report["classes"]] == [int((labels == c).sum()) for c in range(3)]
    assert json.loads((tmp_path / "split" / "report.json").read_text()) == report
    assert report["blocks"]["windows_run"] > report["blocks"]["windows_single_run"] == plan.count
    assert not list((tmp_path / "split").glob(".*partial"))
