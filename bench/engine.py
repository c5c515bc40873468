"""Engine benchmark: pipeline efficiency, memory growth with raster size, ONNX Runtime vs torch.

Writes ``bench/results/engine.json``:

- ``efficiency``: time of the model alone on the same number of windows of the same shape / end-to-end
  ``classify`` time, for a lite model on a 4096 x 4096 optical + SAR pair (goal >= 0.90); median of
  three end-to-end runs, each against the mean of the model-alone runs just before and after it.
- ``memory``: peak RSS of ``classify`` at 2048 x 2048 and 16384 x 16384 with a tiny model, each in a
  fresh process, on tiled GeoTIFFs written strip by strip (goal: growth <= 1.2x).
- ``onnx_vs_torch``: seconds per window for the same model and windows on both runners.
- ``tile_512``: the engine around a model that uses every core (a 1.9 M-parameter U-Net at 512 px, 15 %
  overlap): its overhead in ms per window (goal <= 15) and CPU ms per window, the cost of resampling a
  20 m SAR raster, and peak memory at batch 1 and 4 (goal: batch 4 adds no more than the pipeline's
  own buffers of the larger batch).

Run: ``python -m landfuse.bench engine`` (or ``python -m landfuse.bench.engine [SECTION ...]`` to run some
sections and keep the others from the previous file).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "engine.json"
EFFICIENCY_SIZE = 4096
EFFICIENCY_REPEATS = 3
MEMORY_SIZES = (2048, 16384)
LITE = ("cloudseg", "lite")
TILE_512 = {"size": 4096, "tile": 512, "overlap": 76, "batch_size": 4}  # 15 % overlap


def _machine() -> dict:
    import onnxruntime
    import rasterio
    import torch

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "rasterio": rasterio.__version__,
        "gdal": rasterio.__gdal_version__,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory (MiB) since it started, from the kernel's ``VmHWM``.

    Not ``getrusage``: its ``ru_maxrss`` survives ``exec``, so a fresh child process would report at least
    the peak of the parent it was forked from.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory is measured on Linux only")


def _write_pair(folder: Path, size: int, optical_bands: int, seed: int = 0, sar_pixel_m: int = 20) -> tuple[Path, Path]:
    """Optical uint16 (UTM 10 m) and SAR float32 dB (same CRS, ``sar_pixel_m``: 20 m is resampled to the
    optical grid, 10 m is on it), tiled GeoTIFFs written in strips."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    rng = np.random.default_rng(seed)
    common = {"driver": "GTiff", "crs": "EPSG:32633", "tiled": True, "blockxsize": 256, "blockysize": 256}
    optical, sar = folder / f"optical_{size}.tif", folder / f"sar_{size}_{sar_pixel_m}m.tif"
    with rasterio.open(
        optical,
        "w",
        width=size,
        height=size,
        count=optical_bands,
        dtype="uint16",
        nodata=0,
        transform=from_origin(400000, 5000000, 10, 10),
        **common,
    ) as dst:
        for y in range(0, size, 256):
            strip = rng.integers(200, 6000, (optical_bands, 256, size), dtype=np.uint16)
            dst.write(strip, window=Window(0, y, size, 256))
    side = size * 10 // sar_pixel_m
    with rasterio.open(
        sar,
        "w",
        width=side,
        height=side,
        count=2,
        dtype="float32",
        nodata=np.nan,
        transform=from_origin(400000, 5000000, sar_pixel_m, sar_pixel_m),
        **common,
    ) as dst:
        for y in range(0, side, 256):
            dst.write(rng.normal(-14, 4, (2, 256, side)).astype(np.float32), window=Window(0, y, side, 256))
    return optical, sar


def _lite_runner(folder: Path):
    """The bundled lite demo model (else the same architecture exported with random weights) and a torch
    module of the same architecture for the runner comparison (speed does not depend on the weights)."""
    from landfuse.backend.models.registry import build_model, default_card
    from landfuse.backend.runners import BUNDLED_MODELS, OnnxRunner

    bundled = BUNDLED_MODELS / f"{LITE[0]}-{LITE[1]}.onnx"
    if bundled.is_file():
        runner = OnnxRunner(bundled, "cpu")
        return runner, build_model(runner.card).eval()
    from landfuse.tests.backend.engine.helpers import export_onnx

    card = default_card(*LITE)
    module = build_model(card).eval()
    return OnnxRunner(export_onnx(module, card, folder / "lite.onnx"), "cpu"), module


def _model_alone(runner, windows: int, batch_size: int, tile: int) -> float:
    """Seconds for ``runner`` on ``windows`` windows of tile x tile in batches, nothing else."""
    card = runner.card
    rng = np.random.default_rng(0)
    batch = {
        name: rng.normal(size=(batch_size, len(bands), tile, tile)).astype(np.float32)
        for name, bands in (("optical", card.optical_bands), ("sar", card.sar_bands))
        if bands
    }
    runner.run(batch)  # warm-up at the measured shape (torch/oneDNN builds kernels on first use)
    started = time.perf_counter()
    for first in range(0, windows, batch_size):
        runner.run({k: v[: min(batch_size, windows - first)] for k, v in batch.items()})
    return time.perf_counter() - started


def _alternating(runner, classify_once, windows: int, batch_size: int, tile: int) -> dict:
    """Model-alone and end-to-end runs, alternated: the machine's speed drifts (other load), so each
    end-to-end run is compared with the mean of the model-alone runs just before and after it.

    classify_once() -> the engine's report. Returns the runs, the median run's efficiency and engine
    overhead (wall ms per window beyond the model) and the engine's CPU ms per window (reader and writer).
    """
    alone = [_model_alone(runner, windows, batch_size, tile)]
    end_to_end, ratios, engine_cpu, reports = [], [], [], []
    for _ in range(EFFICIENCY_REPEATS):
        report = classify_once()
        assert report["windows"]["total"] == windows
        reports.append(report)
        end_to_end.append(report["timing_s"]["total"])
        engine_cpu.append(1000 * report["timing_s"]["engine_cpu"] / windows)
        alone.append(_model_alone(runner, windows, batch_size, tile))
        ratios.append((alone[-2] + alone[-1]) / 2 / end_to_end[-1])
    median = int(np.argsort(ratios)[len(ratios) // 2])
    return {
        "windows": windows,
        "model_alone_s_runs": alone,
        "end_to_end_s_runs": end_to_end,
        "efficiency_runs": ratios,
        "efficiency": ratios[median],
        "engine_overhead_ms_per_window": 1000 * end_to_end[median] * (1 - ratios[median]) / windows,
        "engine_cpu_ms_per_window_runs": engine_cpu,
        "model_s_per_window": min(alone) / windows,
        "stage_seconds": reports[median]["timing_s"],
    }


def efficiency(folder: Path) -> dict:
    from landfuse.backend.engine import ClassifyOptions, classify
    from landfuse.backend.engine.windows import WindowPlan

    runner, module = _lite_runner(folder)
    card = runner.card
    optical, sar = _write_pair(folder, EFFICIENCY_SIZE, len(card.optical_bands))
    options = ClassifyOptions(batch_size=4)
    windows = WindowPlan(EFFICIENCY_SIZE, EFFICIENCY_SIZE, card.tile_size, card.tile_size // 4).count
    runs = _alternating(
        runner,
        lambda: classify(optical, sar, runner, folder / "map.tif", confidence=folder / "conf.tif", options=options),
        windows,
        options.batch_size,
        card.tile_size,
    )
    result = {
        "model": card.name,
        "raster": f"{EFFICIENCY_SIZE}x{EFFICIENCY_SIZE}",
        "tile": card.tile_size,
        "overlap": card.tile_size // 4,
        "batch_size": options.batch_size,
        **runs,
        "goal": ">= 0.90",
    }
    result["onnx_vs_torch"] = onnx_vs_torch(runner, module, card.tile_size)
    return result


def tile_512(folder: Path) -> dict:
    """The engine around a model that uses every core: a 1.9 M-parameter U-Net at 512 px, 15 % overlap,
    on a 4096 x 4096 pair on one 10 m grid (overhead goal <= 15 ms per window), the same with the SAR
    at 20 m (resampled by the engine), and peak memory at batch 1 and 4, each in a fresh process."""
    from landfuse.backend.engine import ClassifyOptions, classify
    from landfuse.backend.engine.windows import WindowPlan
    from landfuse.backend.runners import OnnxRunner

    from .unet import export_unet

    size, tile, overlap = TILE_512["size"], TILE_512["tile"], TILE_512["overlap"]
    model = export_unet(folder / "unet.onnx", tile=tile)
    runner = OnnxRunner(model, "cpu")
    optical, sar = _write_pair(folder, size, len(runner.card.optical_bands), sar_pixel_m=10)
    _, sar_20m = _write_pair(folder, size, len(runner.card.optical_bands), sar_pixel_m=20)
    windows = WindowPlan(size, size, tile, overlap).count

    def classify_once(sar_path: Path, batch_size: int = TILE_512["batch_size"]) -> dict:
        options = ClassifyOptions(batch_size=batch_size, tile_size=tile, overlap=overlap)
        return classify(optical, sar_path, runner, folder / "map.tif", confidence=folder / "conf.tif", options=options)

    runs = _alternating(runner, lambda: classify_once(sar), windows, TILE_512["batch_size"], tile)
    resampled = classify_once(sar_20m)["timing_s"]
    memory = {
        f"batch_{batch}": _in_fresh_process(
            "--tile-512-memory-child", {"model": str(model), "optical": str(optical), "sar": str(sar), "batch": batch}
        )
        for batch in (1, 4)
    }
    buffers = {batch: pipeline_buffers_mib(batch, tile, bands=6, classes=5) for batch in (1, 4)}
    return {
        "model": "U-Net, 1.9 M parameters (bench/unet.py), random weights, ONNX Runtime on every core",
        "raster": f"{size}x{size}, optical 4 bands and SAR 2 bands on one 10 m grid",
        "tile": tile,
        "overlap": overlap,
        "batch_size": TILE_512["batch_size"],
        **runs,
        "goal_ms_per_window": 15,
        "sar_at_20m": {
            "engine_cpu_ms_per_window": 1000 * resampled["engine_cpu"] / windows,
            "stage_seconds": resampled,
        },
        "peak_memory": {
            **memory,
            "batch_4_minus_batch_1_mib": memory["batch_4"]["peak_rss_mib"] - memory["batch_1"]["peak_rss_mib"],
            "pipeline_buffers_mib": {f"batch_{batch}": mib for batch, mib in buffers.items()},
            "goal": "batch 4 <= batch 1 + (pipeline buffers at batch 4 - at batch 1)",
        },
    }


def pipeline_buffers_mib(batch: int, tile: int, bands: int, classes: int, queue_size: int = 2) -> float:
    """The most memory (MiB) the pipeline's own window buffers hold at ``batch``: model inputs queued for the
    model (``queue_size`` batches), the batch being gathered and its stacked copy; model outputs of the batch
    run, the ``queue_size`` batches waiting for the blender and the one it blends (float32, tile x tile)."""
    window = 4 * tile * tile / 2**20
    inputs = (queue_size * batch + 2 * batch) * bands * window
    outputs = (batch + queue_size * batch + batch) * classes * window
    return inputs + outputs


def _tile_512_memory_child(spec: dict) -> dict:
    """Runs in a fresh process: classify the 512 px case at ``spec["batch"]``, report RSS (MiB)."""
    import psutil

    from landfuse.backend.engine import ClassifyOptions, classify
    from landfuse.backend.runners import OnnxRunner

    runner = OnnxRunner(spec["model"], "cpu")
    before = psutil.Process().memory_info().rss / 2**20
    options = ClassifyOptions(batch_size=spec["batch"], tile_size=TILE_512["tile"], overlap=TILE_512["overlap"])
    output = Path(spec["optical"]).with_name(f"map_batch{spec['batch']}.tif")
    report = classify(
        spec["optical"], spec["sar"], runner, output, confidence=output.with_suffix(".conf.tif"), options=options
    )
    return {
        "rss_before_classify_mib": before,
        "peak_rss_mib": peak_rss_mib(),
        "seconds": report["timing_s"]["total"],
    }


def _in_fresh_process(flag: str, spec: dict) -> dict:
    """Run this module with ``flag`` and the JSON ``spec`` in a new interpreter; its last output line, parsed."""
    child = subprocess.run(
        [sys.executable, "-m", "landfuse.bench.engine", flag, json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


def onnx_vs_torch(runner, module, tile: int, windows: int = 8, batch_size: int = 4) -> dict:
    """Seconds per window for ONNX Runtime and torch on the same model, windows and batches."""
    from landfuse.backend.runners import TorchRunner

    torch_runner = TorchRunner(module, runner.card, "cpu")
    ort_s = _model_alone(runner, windows, batch_size, tile)
    torch_s = _model_alone(torch_runner, windows, batch_size, tile)
    return {
        "model": runner.card.name,
        "windows": windows,
        "tile": tile,
        "batch_size": batch_size,
        "onnxruntime_s_per_window": ort_s / windows,
        "torch_s_per_window": torch_s / windows,
        "torch_over_onnxruntime": torch_s / ort_s,
        "torch_threads": __import__("torch").get_num_threads(),
    }


def _memory_child(spec: dict) -> dict:
    """Runs in a fresh process: classify a size x size pair with the tiny model, report RSS (MiB)."""
    import psutil

    from landfuse.backend.engine import ClassifyOptions, classify
    from landfuse.backend.runners import OnnxRunner

    size, folder = spec["size"], Path(spec["folder"])
    runner = OnnxRunner(folder / "tiny.onnx", "cpu")
    optical, sar = folder / f"optical_{size}.tif", folder / f"sar_{size}_20m.tif"
    before = psutil.Process().memory_info().rss / 2**20
    started = time.perf_counter()
    report = classify(optical, sar, runner, folder / f"map_{size}.tif", options=ClassifyOptions(batch_size=4))
    peak = peak_rss_mib()
    return {
        "size": f"{size}x{size}",
        "pixels": size * size,
        "rss_before_classify_mib": before,
        "peak_rss_mib": peak,
        "seconds": time.perf_counter() - started,
        "windows": report["windows"]["total"],
    }


def memory(folder: Path) -> dict:
    from landfuse.tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module

    card = tiny_card(tile=256)
    export_onnx(tiny_module(card), card, folder / "tiny.onnx")
    runs = []
    for size in MEMORY_SIZES:
        _write_pair(folder, size, len(card.optical_bands), seed=1)
        runs.append(_in_fresh_process("--memory-child", {"size": size, "folder": str(folder)}))
        for path in folder.glob(f"*_{size}.tif"):
            path.unlink()
    small, large = runs
    return {
        "model": "tiny two-input conv net (3 optical + 2 SAR bands, 3 classes, tile 256, overlap 64)",
        "runs": runs,
        "growth": large["peak_rss_mib"] / small["peak_rss_mib"],
        "pixel_ratio": large["pixels"] / small["pixels"],
        "goal": "<= 1.2",
    }


SECTIONS = {"memory": memory, "efficiency": efficiency, "tile_512": tile_512}


def main(sections: list[str] | None = None) -> dict:
    """Run the engine measurements (all, or the ``sections`` named) and write ``bench/results/engine.json``,
    keeping the sections not run from the file's previous contents."""
    unknown = set(sections or ()) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section {', '.join(sorted(unknown))}: expected some of {', '.join(SECTIONS)}")
    result = json.loads(RESULTS.read_text()) if sections and RESULTS.is_file() else {}
    result["machine"] = _machine()
    with tempfile.TemporaryDirectory(prefix="landfuse-bench-") as tmp:
        for name in sections or SECTIONS:
            (Path(tmp) / name).mkdir()
            result[name] = SECTIONS[name](Path(tmp) / name)
    if "onnx_vs_torch" in result.get("efficiency", {}):
        result["onnx_vs_torch"] = result["efficiency"].pop("onnx_vs_torch")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


CHILDREN = {"--memory-child": _memory_child, "--tile-512-memory-child": _tile_512_memory_child}

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in CHILDREN:
        print(json.dumps(CHILDREN[sys.argv[1]](json.loads(sys.argv[2]))))
    else:
        print(json.dumps(main(sys.argv[1:]), indent=2))
