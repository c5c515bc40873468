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
from .outputs import RasterSink, StagedFiles, write_text
from .paths import check_job_paths, class_map_sidecars, confidence_sidecars, raster_sidecars
from .pipeline import run_pipeline
from .regions import RegionStats
from .source import ModelInputSource
from .stats import ClassStats
from .style import category_aux_xml, confidence_qml_text, qml_text
from .windows import WindowPlan

Progress = Callable[[float, str], None]
# GDAL's block cache defaults to 5% of RAM; a small fixed cache keeps the engine's memory flat.
GDAL_CACHE_BYTES = 32 * 2**20
# Outputs that are rasters: their stale sidecars (.ovr, .msk, .aux.xml, .qml) go when they are replaced.
RASTER_OUTPUTS = ("class map", "confidence map", "reconstruction")


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
    staged_files: StagedFiles | None = None,
) -> dict:
    """Classify an optical + SAR raster pair into a land-cover map; returns the report dict.

    optical, sar: any raster GDAL opens (file, VRT, ``/vsizip/...``, ``GPKG:file.gpkg:table``,
        ``NETCDF:"file.nc":var`` ...; only those the model card uses are required).
    model: a runner (see ``backend.runners``; reused as is), a ``.onnx``/``.pt`` path or a model name.
    output: class map GeoTIFF (uint8, nodata = card.nodata) plus ``<output>.qml`` and ``.aux.xml``.
    optical_bands, sar_bands: 1-based band indexes or band names in the card's band order (default:
        the bands whose descriptions name the card's bands; all bands in order when none is named and
        the count matches).
    confidence: optional uint8 GeoTIFF of the top class probability in percent (nodata 255).
    reconstruction: optional float32 GeoTIFF of the model's cloud-free optical estimate (when the card has one).
    report: optional JSON path for the report. progress(fraction 0..1, message) is called per batch;
    ``cancel.cancel()`` from any thread stops the job within one batch.
    staged_files: the caller's ``StagedFiles`` when it writes files of its own in the same job: the
        outputs are staged there and left for the caller to commit with its files (on error they are
        all discarded); by default they are committed here.
    Before any work, the output paths are checked (``BadParamsError`` when an output is another
    output, an input or a sidecar of either) and missing output folders are created. Outputs appear
    only when the whole job succeeded; nothing is left behind on error or cancel. An output that
    replaces a file also removes that file's stale sidecars (``.ovr``, ``.msk``, ``.aux.xml``, ``.qml``).
    Raises ``LandFuseError`` subclasses (stable ``code``) for bad inputs.
    """
    options = options or ClassifyOptions()
    started = time.perf_counter()
    say = progress or (lambda fraction, message: None)
    files = staged_files if staged_files is not None else StagedFiles()
    targets = {"class map": output, "confidence map": confidence, "reconstruction": reconstruction, "report": report}
    check_classify_paths(optical, sar, _model_file(model, models_dir), targets, also_writes=files.planned())
    source = sink = None
    try:
        temp = {
            role: files.stage(path, role, raster_sidecars(path) if role in RASTER_OUTPUTS else ()) if path else None
            for role, path in targets.items()
        }
        sidecars = {role: files.stage(path, role) for role, path in _sidecars(output, confidence).items()}
        runner = _runner(model, options.device, models_dir)
        card = runner.card
        paths = {"optical": optical, "sar": sar}
        _stop_if_cancelled(cancel)
        say(0.0, "opening inputs")
        grid = build_grid(card, paths, options)
        plan = build_plan(grid, card, options)
        source = open_source(card, grid, paths, {"optical": optical_bands, "sar": sar_bands}, options.sar_unit)
        _stop_if_cancelled(cancel)
        stats = ClassStats(card, options.low_confidence_threshold)
        regions = RegionStats(grid.height, grid.width, card.num_classes, options.low_confidence_threshold)
        recon_temp = temp["reconstruction"] if card.has_reconstruction else None
        sink = RasterSink(grid, plan, card, temp["class map"], temp["confidence map"], recon_temp, stats, regions)
        timing = run_pipeline(
            plan,
            source,
            runner,
            sink.add,
            batch_size=options.batch_size,
            queue_size=options.queue_size,
            cancel=cancel,
            progress=lambda f, m: say(0.02 + 0.96 * f, m),
            reconstruction=recon_temp is not None,
        )
        sink.finish()
        if stats.valid_pixels == 0:
            raise AllNodataError(
                "no pixel is valid in all inputs over the output area (nodata or NaN everywhere, or the valid parts "
                "do not overlap); check the nodata values, the bands and the extent"
            )
        _stop_if_cancelled(cancel)
        write_text(sidecars["class map style"], qml_text(card), "class map style")
        write_text(sidecars["class map categories"], category_aux_xml(card), "class map categories")
        if confidence:
            write_text(sidecars["confidence map style"], confidence_qml_text(), "confidence map style")
        written = {"class_map": output, "confidence": confidence, "report": report}
        written["reconstruction"] = reconstruction if recon_temp is not None else None
        outputs = {key: (str(Path(path).resolve()) if path else None) for key, path in written.items()}
        result = _report(card, runner, grid, stats, timing, outputs, source.sar_units, started)
        result["regions"] = regions.to_report()
        if temp["report"]:
            write_text(temp["report"], json.dumps(result, indent=2), "report")
        if staged_files is None:
            files.commit()
        say(1.0, "done")
        return result
    except BaseException:
        if sink is not None:
            sink.close()
        files.discard()
        raise
    finally:
        if source is not None:
            source.close()


def check_classify_paths(
    optical: str | Path | None,
    sar: str | Path | None,
    model_file: str | Path | None,
    outputs: dict[str, str | Path | None],
    also_reads: dict[str, str | Path | None] | None = None,
    also_writes: dict[str, str | Path | None] | None = None,
) -> None:
    """Refuse (``BadParamsError``) a classification whose outputs collide with each other or its inputs.

    outputs: role -> path ("class map", "confidence map", "reconstruction", "report"); the class
    map's style and category files are added. also_reads / also_writes: the caller's other files.
    """
    writes = {**outputs, **_sidecars(outputs["class map"], outputs.get("confidence map"))}
    writes.update(also_writes or {})
    reads = {"optical": optical, "sar": sar, "model": model_file, **(also_reads or {})}
    stale = [sidecar for role in RASTER_OUTPUTS if outputs.get(role) for sidecar in raster_sidecars(outputs[role])]
    check_job_paths(reads, writes, stale)


def _sidecars(class_map: str | Path | None, confidence: str | Path | None) -> dict[str, Path]:
    """Role -> path of the style and category files written beside the class map and confidence map."""
    sidecars = class_map_sidecars(class_map) if class_map else {}
    return {**sidecars, **(confidence_sidecars(confidence) if confidence else {})}


def _model_file(model, models_dir) -> str | Path | None:
    """The file a model is read from (a runner's own path, or the resolved name or path)."""
    if hasattr(model, "run") and hasattr(model, "card"):
        return getattr(model, "path", None)
    from ..runners import resolve_model_path

    return resolve_model_path(model, models_dir)


def _stop_if_cancelled(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise CancelledError("classification cancelled; no output was written")


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
