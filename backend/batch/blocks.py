"""One scene split into blocks classified apart, then put back together: equal to a single-machine run.

The engine gives a pixel the weighted mean of the softmax outputs of every window of the scene's
window plan that covers it (``engine/windows.py``: windows every ``tile - overlap`` pixels, the last of
each row and column shifted inward; ``engine/blend.py``: separable linear-ramp weights). A block owns
a *core*, a rectangle of the output grid. It runs exactly the windows of the whole scene's plan that
overlap its core (so at most one tile of context on each side), with the same positions, padding and
weights, in the same raster order, through the engine's own pipeline and blender, and keeps only
the core. Every core pixel therefore gets the same windows and weights as in a single run: the class
map is the same, and probabilities equal up to float rounding. Windows that overlap two cores run
twice; that is the cost of splitting (``bench/scale.py`` measures it).

Block cores are multiples of 256 pixels (the output's tile size, except at the right and bottom
edges), so the assembled GeoTIFF is written tile by tile, each tile once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError
from rasterio.transform import Affine
from rasterio.windows import Window

from ..engine.blend import Piece
from ..engine.classify import GDAL_CACHE_BYTES, build_grid, build_plan, open_source
from ..engine.grid import Grid
from ..engine.options import CancelToken, ClassifyOptions
from ..engine.outputs import BLOCK, RasterSink, StagedFiles, check_complete, write_text
from ..engine.paths import raster_sidecars
from ..engine.pipeline import run_pipeline
from ..engine.stats import ClassStats
from ..engine.style import category_aux_xml, qml_text
from ..engine.windows import WindowPlan
from ..errors import AllNodataError, BadParamsError, NotWritableError


@dataclass(frozen=True)
class Block:
    """The core of one block: grid rows ``y0 .. y0 + height - 1``, columns ``x0 .. x0 + width - 1``."""

    row: int
    col: int
    y0: int
    x0: int
    height: int
    width: int

    @property
    def key(self) -> str:
        return f"r{self.row}c{self.col}"


def split_blocks(height: int, width: int, size: int) -> list[Block]:
    """Cores of ``size`` x ``size`` pixels (smaller at the right and bottom edges) tiling a height x width grid."""
    if size < BLOCK or size % BLOCK:
        raise BadParamsError(f"the block size must be a positive multiple of {BLOCK} pixels, got {size}")
    return [
        Block(r, c, y0, x0, min(size, height - y0), min(size, width - x0))
        for r, y0 in enumerate(range(0, height, size))
        for c, x0 in enumerate(range(0, width, size))
    ]


@dataclass(frozen=True)
class RegionPlan(WindowPlan):
    """The windows of a scene's plan that overlap one block, in the coordinates of the region they cover.

    ``height`` x ``width`` is the region (the union of those windows); ``rows`` and ``cols`` are their
    start offsets in the region. Window size, padding, weights and order are the scene plan's.
    """

    rows: tuple[int, ...] = ()
    cols: tuple[int, ...] = ()

    @cached_property
    def row_starts(self) -> list[int]:
        return list(self.rows)

    @cached_property
    def col_starts(self) -> list[int]:
        return list(self.cols)


def block_region(plan: WindowPlan, block: Block) -> tuple[int, int, RegionPlan]:
    """(top row, left column) of the region in grid pixels and its plan: the windows overlapping ``block``."""
    rows = [y for y in plan.row_starts if y < block.y0 + block.height and y + plan.window_height > block.y0]
    cols = [x for x in plan.col_starts if x < block.x0 + block.width and x + plan.window_width > block.x0]
    top, left = rows[0], cols[0]
    region = RegionPlan(
        rows[-1] + plan.window_height - top,
        cols[-1] + plan.window_width - left,
        plan.tile,
        plan.overlap,
        tuple(y - top for y in rows),
        tuple(x - left for x in cols),
    )
    return top, left, region


class _ShiftedSource:
    """A model input source read in region coordinates (offset by the region's top-left corner)."""

    def __init__(self, source, top: int, left: int):
        self.source, self.top, self.left = source, top, left

    def read(self, y0: int, x0: int, height: int, width: int):
        return self.source.read(y0 + self.top, x0 + self.left, height, width)


class _CoreSink:
    """Passes the core's part of each finished piece (region coordinates) to a sink on the core's grid."""

    def __init__(self, sink: RasterSink, top: int, left: int, height: int, width: int):
        self.sink, self.top, self.left, self.height, self.width = sink, top, left, height, width

    def add(self, piece: Piece, probs: np.ndarray, recon: np.ndarray | None) -> None:
        y0, y1 = max(piece.y0, self.top), min(piece.y1, self.top + self.height)
        x0, x1 = max(piece.x0, self.left), min(piece.x1, self.left + self.width)
        if y0 >= y1 or x0 >= x1:
            return
        rows, cols = slice(y0 - piece.y0, y1 - piece.y0), slice(x0 - piece.x0, x1 - piece.x0)
        core = Piece(
            y0 - self.top,
            y1 - self.top,
            x0 - self.left,
            x1 - self.left,
            probs[:, rows, cols],
            piece.valid[rows, cols],
            piece.row_done,
        )
        self.sink.add(core, core.values, None)


def block_files(folder: Path, block: Block, confidence: bool) -> dict[str, Path]:
    """Where a block's class map, confidence map (when wanted) and statistics are written."""
    files = {"class map": folder / f"{block.key}.tif", "statistics": folder / f"{block.key}.json"}
    if confidence:
        files["confidence map"] = folder / f"{block.key}.confidence.tif"
    return files


def classify_block(
    optical: str | None,
    sar: str | None,
    runner,
    block: Block,
    files: dict[str, Path],
    *,
    bands: dict[str, list[int] | None],
    options: ClassifyOptions,
    cancel: CancelToken | None = None,
    progress=None,
) -> dict:
    """Classify the core of ``block`` of the scene as the engine would in a single run; returns its statistics.

    files: ``block_files(...)`` (written under temporary names and put in place together). Returns
    ``block_statistics`` plus ``windows``, ``skipped``, ``sar_unit``, ``device``, ``provider`` and ``seconds``.
    """
    started = time.perf_counter()
    card = runner.card
    paths = {"optical": optical, "sar": sar}
    staged = StagedFiles()
    source = sink = None
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES):
        try:
            temp = {role: staged.stage(path, f"block {role}") for role, path in files.items()}
            grid = build_grid(card, paths, options)
            plan = build_plan(grid, card, options)
            top, left, region = block_region(plan, block)
            source = open_source(card, grid, paths, bands, options.sar_unit)
            core_transform = grid.transform @ Affine.translation(block.x0, block.y0)
            core_grid = Grid(grid.crs, core_transform, block.width, block.height)
            stats = ClassStats(card, options.low_confidence_threshold)
            sink = RasterSink(core_grid, region, card, temp["class map"], temp.get("confidence map"), None, stats)
            core = _CoreSink(sink, block.y0 - top, block.x0 - left, block.height, block.width)
            timing = run_pipeline(
                region,
                _ShiftedSource(source, top, left),
                runner,
                core.add,
                batch_size=options.batch_size,
                queue_size=options.queue_size,
                cancel=cancel,
                progress=progress,
                reconstruction=False,
            )
            sink.finish()
            result = {
                **block_statistics(stats),
                "windows": timing.windows,
                "skipped": timing.skipped,
                "sar_unit": source.sar_units[0] if "sar" in card.modalities else None,
                "sar_converted": source.sar_units[0] != source.sar_units[1],
                "device": runner.device,
                "provider": getattr(runner, "provider", ""),
                "seconds": time.perf_counter() - started,
            }
            write_text(temp["statistics"], json.dumps(result), "block statistics")
            staged.commit()
            return result
        except BaseException:
            if sink is not None:
                sink.close()
            staged.discard()
            raise
        finally:
            if source is not None:
                source.close()


def block_statistics(stats: ClassStats) -> dict:
    """The running totals of ``stats`` as JSON-ready lists (to be summed over blocks by ``add_statistics``)."""
    return {
        "pixels": stats.pixels.tolist(),
        "area_m2": stats.area_m2.tolist(),
        "confidence": stats.confidence.tolist(),
        "low_confidence": stats.low_confidence,
        "total_pixels": stats.total_pixels,
    }


def add_statistics(stats: ClassStats, block: dict) -> None:
    """Add one block's ``block_statistics`` to ``stats``."""
    stats.pixels += np.asarray(block["pixels"], np.int64)
    stats.area_m2 += np.asarray(block["area_m2"], np.float64)
    stats.confidence += np.asarray(block["confidence"], np.float64)
    stats.low_confidence += int(block["low_confidence"])
    stats.total_pixels += int(block["total_pixels"])


def assemble_blocks(
    card,
    grid: Grid,
    plan: WindowPlan,
    blocks: list[Block],
    folder: Path,
    outputs: dict[str, str | None],
    options: ClassifyOptions,
) -> dict:
    """Write the scene's class map (and confidence map) from its block files, with the class style, and its report.

    outputs: ``class_map``, ``confidence`` (or None), ``report`` paths. All files appear together or none
    (``StagedFiles``). Returns the report: the engine's report keys plus ``blocks``; ``timing_s`` has
    ``blocks`` (worker seconds summed over the blocks), ``assemble`` (this step) and their ``total``.
    """
    started = time.perf_counter()
    staged = StagedFiles()
    try:
        rasters = {"class map": outputs["class_map"], "confidence map": outputs["confidence"]}
        temp = {role: staged.stage(path, role, tuple(raster_sidecars(path))) for role, path in rasters.items() if path}
        style = staged.stage(Path(outputs["class_map"]).with_suffix(".qml"), "class map style")
        categories = staged.stage(Path(f"{outputs['class_map']}.aux.xml"), "class map categories")
        report_temp = staged.stage(outputs["report"], "report")
        stats = ClassStats(card, options.low_confidence_threshold)
        results = []
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES):
            for role, path in temp.items():
                files = [block_files(folder, block, True)[role] for block in blocks]
                _copy_cores(files, blocks, grid, path, role)
        for block in blocks:
            results.append(json.loads(block_files(folder, block, False)["statistics"].read_text(encoding="utf-8")))
            add_statistics(stats, results[-1])
        if stats.valid_pixels == 0:
            raise AllNodataError(
                "no pixel is valid in all inputs over the output area (nodata or NaN everywhere, or the valid parts "
                "do not overlap); check the nodata values, the bands and the extent"
            )
        write_text(style, qml_text(card), "class map style")
        write_text(categories, category_aux_xml(card), "class map categories")
        timing = {"blocks": sum(r["seconds"] for r in results), "assemble": time.perf_counter() - started}
        timing["total"] = timing["blocks"] + timing["assemble"]
        report = _report(card, grid, plan, blocks, stats, results, outputs, timing)
        write_text(report_temp, json.dumps(report, indent=2), "report")
        staged.commit()
        return report
    except BaseException:
        staged.discard()
        raise


def _copy_cores(files: list[Path], blocks: list[Block], grid: Grid, target: Path, role: str) -> None:
    """Write each block file's pixels at its core's place in a new GeoTIFF on ``grid``, laid out as the engine
    writes its outputs (tiles of 256, deflate), with the data type, nodata, colours and tags of the block files."""
    with rasterio.open(files[0]) as first:
        profile = {
            "driver": "GTiff",
            "width": grid.width,
            "height": grid.height,
            "count": 1,
            "dtype": first.dtypes[0],
            "nodata": first.nodata,
            "crs": grid.crs,
            "transform": grid.transform,
            "tiled": True,
            "blockxsize": BLOCK,
            "blockysize": BLOCK,
            "compress": "deflate",
            "BIGTIFF": "IF_SAFER",
        }
        colormap = first.colormap(1) if role == "class map" else None
        tags, description = first.tags(1), first.descriptions[0]
    try:
        target_ds = rasterio.open(target, "w", **profile)
    except RasterioError as exc:
        raise NotWritableError(f"cannot create the {role} file ({exc}); choose another location") from exc
    try:
        if colormap is not None:
            target_ds.write_colormap(1, colormap)
        target_ds.update_tags(1, **tags)
        if description:
            target_ds.set_band_description(1, description)
        for path, block in zip(files, blocks, strict=True):
            with rasterio.open(path) as src:
                target_ds.write(src.read(1), 1, window=Window(block.x0, block.y0, block.width, block.height))
    except RasterioError as exc:
        raise NotWritableError(
            f"writing the {role} failed ({exc}); the disk may be full: free some space or choose another location"
        ) from exc
    finally:
        target_ds.close()
    check_complete(target, role)


def _report(card, grid: Grid, plan: WindowPlan, blocks, stats: ClassStats, results, outputs, timing) -> dict:
    """The scene's report with the engine's keys, from the summed block statistics."""
    notes = []
    if grid.is_geographic:
        notes.append(
            "the output grid is geographic (degrees): areas use each row's true pixel area on the WGS84 ellipsoid"
        )
    sar_unit = results[0]["sar_unit"]
    if results[0]["sar_converted"]:
        notes.append(f"SAR input in {sar_unit} was converted to {card.sar_bands[0].unit} as the model expects")
    windows = sum(r["windows"] + r["skipped"] for r in results)
    report = {
        "landfuse_report": 1,
        "model": card.to_dict(),
        "device": ", ".join(sorted({r["device"] for r in results})),
        "provider": ", ".join(sorted({r["provider"] for r in results})),
        "grid": grid.describe(),
        **stats.report_entries(),
        "cloud_share": None,
        "sar_unit": sar_unit,
        "windows": {"total": windows, "skipped_nodata": sum(r["skipped"] for r in results)},
        "timing_s": timing,
        "outputs": {
            "class_map": str(Path(outputs["class_map"]).resolve()),
            "confidence": str(Path(outputs["confidence"]).resolve()) if outputs["confidence"] else None,
            "report": str(Path(outputs["report"]).resolve()),
            "reconstruction": None,
        },
        "notes": notes,
        "evaluation": None,
        "blocks": {"count": len(blocks), "windows_run": windows, "windows_single_run": plan.count},
    }
    return json.loads(json.dumps(report))
