"""Scale benchmark: the batch command on a local Ray instance of this machine (``backend/batch``).

Writes ``bench/results/scale.json``:

- ``scenes``: ``SCENES`` synthetic Sentinel-2/1 pairs of ``SCENE_SIZE`` x ``SCENE_SIZE`` pixels (9 optical
  bands at 10 m, VV/VH at 20 m resampled on the fly), ``edc-lite``, tile 256, overlap 64, batch 4.
  ``sequential``: ``classify`` on each scene in turn in one process with every CPU thread (the
  single-machine way); ``workers``: the batch with 1 and 2 Ray workers of one CPU each. For each:
  wall seconds (the batch's includes starting the actors and loading the model in each), scenes per
  minute, and the mean seconds one scene takes inside a worker.
- ``blocks``: one ``MOSAIC_SIZE`` x ``MOSAIC_SIZE`` pair classified in one run and split into blocks of
  each ``BLOCK_SIZES`` on 2 workers: windows run, wall seconds, their ratios to the single run, the
  seconds the driver spent assembling the blocks, and whether the class maps are identical.
- ``ray_start_s``: starting the local instance, paid once per run of the command.
- ``load_average``: the machine's 1-minute load average before and after, to judge the numbers: other
  work on the same cores slows every configuration and hides the gain of more workers.

Run: ``python -m landfuse.bench scale`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from . import machine_info, write_result

MODEL = "edc-lite"
SCENES = 8
SCENE_SIZE = 1024
MOSAIC_SIZE = 4096
BLOCK_SIZES = (2048, 1024)
WORKER_COUNTS = (1, 2)


def write_pair(folder: Path, size: int, seed: int) -> tuple[str, str]:
    """Optical uint16 (9 bands, UTM 10 m) and SAR float32 dB (VV, VH, 20 m), tiled GeoTIFFs written in strips."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    common = {"driver": "GTiff", "crs": "EPSG:32633", "tiled": True, "blockxsize": 256, "blockysize": 256}
    origin = (400000 + 10 * size * seed, 5000000)
    optical, sar = folder / "optical.tif", folder / "sar.tif"
    layers = (
        (optical, size, 9, "uint16", 0, 10, lambda: rng.integers(200, 6000, (9, 256, size), dtype=np.uint16)),
        (sar, size // 2, 2, "float32", np.nan, 20, lambda: rng.normal(-14, 4, (2, 256, size // 2)).astype(np.float32)),
    )
    for path, width, count, dtype, nodata, pixel, strip in layers:
        transform = from_origin(*origin, pixel, pixel)
        profile = {**common, "width": width, "height": width, "count": count, "dtype": dtype, "nodata": nodata}
        with rasterio.open(path, "w", transform=transform, **profile) as dst:
            for y in range(0, width, 256):
                dst.write(strip(), window=Window(0, y, width, 256))
    return str(optical), str(sar)


def sequential(scenes, folder: Path, options) -> dict:
    """Each scene in turn with ``classify`` in this process, the model loaded once, every CPU thread."""
    from landfuse.backend.engine import classify
    from landfuse.backend.runners import load_runner

    runner = load_runner(MODEL, "cpu")
    started = time.perf_counter()
    seconds = []
    for scene in scenes:
        t0 = time.perf_counter()
        classify(scene.optical, scene.sar, runner, folder / scene.name / "landcover.tif", options=options)
        seconds.append(time.perf_counter() - t0)
    wall = time.perf_counter() - started
    return {"threads": os.cpu_count(), "wall_s": wall, "scenes_per_minute": 60 * len(scenes) / wall, "scene_s": seconds}


def batch(scenes, folder: Path, options, workers: int, blocks: int | None = None) -> dict:
    """One batch run on the Ray instance this process started; wall seconds and per-scene seconds in workers."""
    from landfuse.backend.batch import BatchRequest, run_batch

    request = BatchRequest(model=MODEL, output_folder=folder, options=options, workers=workers, blocks=blocks)
    started = time.perf_counter()
    result = run_batch(scenes, request)
    wall = time.perf_counter() - started
    if result.done != len(scenes):
        raise RuntimeError(f"the batch finished {result.done} of {len(scenes)} scenes: see {folder}")
    manifest = json.loads((folder / "landfuse-batch.json").read_text())["scenes"]
    return {"wall_s": wall, "entries": manifest}


def scenes_section(folder: Path, options) -> dict:
    from landfuse.backend.batch import Scene

    scenes = [Scene(f"s{i:02d}", *write_pair(folder / "in" / f"s{i:02d}", SCENE_SIZE, i)) for i in range(SCENES)]
    section = {
        "count": SCENES,
        "size": f"{SCENE_SIZE}x{SCENE_SIZE}",
        "model": MODEL,
        "sequential": sequential(scenes, folder / "sequential", options),
        "workers": {},
    }
    for count in WORKER_COUNTS:
        run = batch(scenes, folder / f"workers-{count}", options, count)
        scene_s = [entry["seconds"] for entry in run["entries"].values()]
        section["workers"][str(count)] = {
            "cpus_per_worker": 1,
            "wall_s": run["wall_s"],
            "scenes_per_minute": 60 * SCENES / run["wall_s"],
            "mean_scene_s": float(np.mean(scene_s)),
            "steady_scenes_per_minute": 60 * count / float(np.mean(scene_s)),
        }
    one, two = (section["workers"][str(c)]["scenes_per_minute"] for c in WORKER_COUNTS)
    section["speedup_2_vs_1_workers"] = two / one
    return section


def blocks_section(folder: Path, options) -> dict:
    import rasterio

    from landfuse.backend.batch import Scene
    from landfuse.backend.engine import classify
    from landfuse.backend.runners import load_runner

    optical, sar = write_pair(folder / "in", MOSAIC_SIZE, 99)
    runner = load_runner(MODEL, "cpu")
    started = time.perf_counter()
    single = classify(optical, sar, runner, folder / "single" / "landcover.tif", options=options)
    single_s = time.perf_counter() - started
    with rasterio.open(folder / "single" / "landcover.tif") as dataset:
        expected = dataset.read(1)
    section = {
        "size": f"{MOSAIC_SIZE}x{MOSAIC_SIZE}",
        "single": {"threads": os.cpu_count(), "wall_s": single_s, "windows": single["windows"]["total"]},
        "split": {},
    }
    for size in BLOCK_SIZES:
        out = folder / f"blocks-{size}"
        run = batch([Scene("mosaic", optical, sar)], out, options, workers=2, blocks=size)
        report = json.loads((out / "mosaic" / "report.json").read_text())
        with rasterio.open(out / "mosaic" / "landcover.tif") as dataset:
            identical = bool(np.array_equal(dataset.read(1), expected))
        section["split"][str(size)] = {
            "workers": 2,
            "blocks": report["blocks"]["count"],
            "windows": report["blocks"]["windows_run"],
            "windows_ratio": report["blocks"]["windows_run"] / single["windows"]["total"],
            "wall_s": run["wall_s"],
            "wall_ratio_vs_single": run["wall_s"] / single_s,
            "assemble_s": report["timing_s"]["assemble"],
            "class_map_identical": identical,
        }
    return section


def main() -> dict:
    import ray

    from landfuse.backend.engine import ClassifyOptions

    options = ClassifyOptions(tile_size=256, overlap=64, batch_size=4)
    folder = Path(tempfile.mkdtemp(prefix="lf-scale-"))
    ray_folder = tempfile.mkdtemp(prefix="lf-ray-", dir="/tmp")
    try:
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, _temp_dir=ray_folder, log_to_driver=False)
        ray_start = time.perf_counter() - started
        try:
            data = {
                "machine": {**machine_info(), "ray": ray.__version__},
                "ray_start_s": ray_start,
                "scenes": scenes_section(folder / "scenes", options),
                "blocks": blocks_section(folder / "blocks", options),
            }
            data["load_average"] = {"before": load_before, "after": os.getloadavg()[0], "cpu_count": os.cpu_count()}
        finally:
            ray.shutdown()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(ray_folder, ignore_errors=True)
    write_result("scale", data)
    return data


if __name__ == "__main__":
    main()
