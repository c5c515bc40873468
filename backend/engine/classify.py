"""``classify``: the engine's entry point (CLI, worker and plugin all call it)."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from pathlib import Path

import rasterio

from ..errors import AllNodataError, BadParamsError, BandError, CancelledError
from .grid import Grid, dataset_grid, reference_grid
from .inputs import RasterInput, open_raster
from .normalise import Normaliser, sar_input_unit
from .options import CancelToken, ClassifyOptions
from .outputs import RasterSink, StagedFiles
from .pipeline import run_pipeline
from .source import ModelInputSource
from .stats import ClassStats
from .style import category_aux_xml, qml_text
from .windows import WindowPlan

Progress = Callable[[float, str], None]
# GDAL's block cache defaults to 5% of RAM; a small fixed cache keeps the engine's memory flat.
GDAL_CACHE_BYTES = 32 * 2**20


def _with_small_gdal_cache(function: Callable) -> Callable:
    """Run ``function`` inside a ``rasterio.Env`` whose GDAL block cache is capped at GDAL_CACHE_BYTES."""

    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES):
            return function(*args, **kwargs)

    return wrapped


@_with_small_gdal_cache
def classify(
    optical: str | Path | None,
    sar: str | Path | None,
    model,
    output: str | Path,
    *,
    optical_bands: list[int] | None = None,
    sar_bands: list[int] | None = None,
    options: ClassifyOptions | None = None,
    confidence: str | Path | None = None,
    reconstruction: str | Path | None = None,
    report: str | Path | None = None,
    models_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> dict:
    """Classify an optical + SAR raster pair into a land-cover map; returns the report dict.

    optical, sar: GDAL-readable rasters (only those the model card uses are required).
    model: a runner (see ``backend.runners``; reused as is), a ``.onnx``/``.pt`` path or a model name.
    output: class map GeoTIFF (uint8, nodata = card.nodata) plus ``<output>.qml`` and ``.aux.xml``.
    optical_bands, sar_bands: 1-based band indexes in the card's band order (default: all bands when
        the count matches, else bands whose descriptions match the card's band names).
    confidence: optional uint8 GeoTIFF of the top class probability in percent (nodata 255).
    reconstruction: optional float32 GeoTIFF of the model's cloud-free optical estimate (when the card has one).
    report: optional JSON path for the report. progress(fraction 0..1, message) is called per batch;
    ``cancel.cancel()`` from any thread stops the job within one batch.
    Outputs appear only when the whole job succeeded; nothing is left behind on error or cancel.
    Raises ``LandFuseError`` subclasses (stable ``code``) for bad inputs.
    """
    options = options or ClassifyOptions()
    started = time.perf_counter()
    say = progress or (lambda fraction, message: None)
    runner = _runner(model, options.device, models_dir)
    card = runner.card
    paths = {"optical": optical, "sar": sar}
    say(0.0, "opening inputs")
    grid = build_grid(card, paths, options)
    plan = build_plan(grid, card, options)
    staged = StagedFiles()
    source = sink = None
    try:
        source = open_source(card, grid, paths, {"optical": optical_bands, "sar": sar_bands}, options.sar_unit)
        sar_units = source.sar_units
        targets = {"class_map": output, "confidence": confidence, "report": report}
        if card.has_reconstruction:
            targets["reconstruction"] = reconstruction
        temp = {k: staged.stage(v) if v else None for k, v in targets.items()}
        qml_temp = staged.stage(Path(output).with_suffix(".qml"))
        aux_temp = staged.stage(Path(f"{output}.aux.xml"))
        stats = ClassStats(card, options.low_confidence_threshold)
        sink = RasterSink(grid, plan, card, temp["class_map"], temp["confidence"], temp.get("reconstruction"), stats)
        timing = run_pipeline(
            plan,
            source,
            runner,
            sink.add,
            batch_size=options.batch_size,
            queue_size=options.queue_size,
            cancel=cancel,
            progress=lambda f, m: say(0.02 + 0.96 * f, m),
            reconstruction=temp.get("reconstruction") is not None,
        )
        sink.close()
        if stats.valid_pixels == 0:
            raise AllNodataError(
                "no pixel is valid in all inputs over the output area (nodata or NaN everywhere, or the valid parts "
                "do not overlap); check the nodata values, the bands and the extent"
            )
        if cancel is not None and cancel.cancelled:
            raise CancelledError("classification cancelled; no output was written")
        qml_temp.write_text(qml_text(card), encoding="utf-8")
        aux_temp.write_text(category_aux_xml(card), encoding="utf-8")
        outputs = {k: (str(Path(v).resolve()) if v else None) for k, v in targets.items()}
        outputs.setdefault("reconstruction", None)
        result = _report(card, runner, grid, stats, timing, outputs, sar_units, started)
        if temp["report"]:
            temp["report"].write_text(json.dumps(result, indent=2), encoding="utf-8")
        staged.commit()
        say(1.0, "done")
        return result
    except BaseException:
        if sink is not None:
            sink.close()
        staged.discard()
        raise
    finally:
        if source is not None:
            source.close()


def _runner(model, device: str, models_dir):
    if hasattr(model, "run") and hasattr(model, "card"):
        return model
    from ..runners import load_runner

    return load_runner(model, device, models_dir)


def build_grid(card, paths: dict, options: ClassifyOptions) -> Grid:
    """The reference grid: the first modality's raster grid (optical if the card has it) or the target."""
    for name in card.modalities:
        if paths.get(name) is None:
            specs = card.optical_bands if name == "optical" else card.sar_bands
            raise BandError(f"the model {card.name} needs a {name} raster ({len(specs)} bands); none was given")
    name = card.modalities[0]
    with open_raster(paths[name], name) as dataset:
        base = dataset_grid(dataset, name)
    return reference_grid(base, options.target_crs, options.resolution, options.extent)


def open_source(card, grid: Grid, paths: dict, bands: dict, sar_unit: str = "auto") -> ModelInputSource:
    """Open the card's modalities on ``grid`` (1-based ``bands`` per modality or None); the caller closes it."""
    specs = {"optical": card.optical_bands, "sar": card.sar_bands}
    inputs: dict[str, RasterInput] = {}
    try:
        for name in card.modalities:
            inputs[name] = RasterInput(paths[name], bands.get(name), specs[name], grid, name)
        sar_units = ("dB", "dB")
        if "sar" in inputs:
            card_unit = card.sar_bands[0].unit
            sar_units = (sar_input_unit(sar_unit, inputs["sar"].sample(), card_unit), card_unit)
    except BaseException:
        for raster in inputs.values():
            raster.close()
        raise
    return ModelInputSource(inputs, {n: Normaliser(specs[n]) for n in inputs}, sar_units)


def build_plan(grid: Grid, card, options: ClassifyOptions) -> WindowPlan:
    tile = options.tile_size or card.tile_size
    if tile <= 0 or tile % card.size_multiple:
        raise BadParamsError(
            f"tile size must be a positive multiple of {card.size_multiple} for {card.name}, got {tile}"
        )
    overlap = tile // 4 if options.overlap is None else options.overlap
    if not 0 <= overlap < tile:
        raise BadParamsError(f"overlap must be at least 0 and less than the tile size ({tile}), got {overlap}")
    if options.batch_size < 1:
        raise BadParamsError(f"batch size must be at least 1, got {options.batch_size}")
    return WindowPlan(grid.height, grid.width, tile, overlap)


def _report(card, runner, grid: Grid, stats: ClassStats, timing, outputs: dict, sar_units, started: float) -> dict:
    notes = []
    if grid.is_geographic:
        notes.append(
            "the output grid is geographic (degrees): areas use each row's true pixel area on the WGS84 ellipsoid"
        )
    if sar_units[0] != sar_units[1]:
        notes.append(f"SAR input in {sar_units[0]} was converted to {sar_units[1]} as the model expects")
    report = {
        "landfuse_report": 1,
        "model": card.to_dict(),
        "device": runner.device,
        "provider": getattr(runner, "provider", ""),
        "grid": grid.describe(),
        **stats.report_entries(),
        "cloud_share": None,
        "sar_unit": sar_units[0] if "sar" in card.modalities else None,
        "windows": {"total": timing.windows + timing.skipped, "skipped_nodata": timing.skipped},
        "timing_s": {**timing.as_dict(), "total": time.perf_counter() - started},
        "outputs": outputs,
        "notes": notes,
        "evaluation": None,
    }
    return json.loads(json.dumps(report))
