"""Model precision benchmark: float32 against int8 on the CPU, what it costs in accuracy, float16 parity.

Writes ``bench/results/speed.json``:

- ``cpu``: for the four bundled lite models and for EDC and CloudSeg at paper size (exported here with
  untrained weights: speed does not depend on them), seconds per 256 x 256 window at batch 1 through
  the engine's ONNX Runtime runner, float32 against int8 (``landfuse quantize``, calibrated on the
  synthetic cloudy benchmark): median, minimum and maximum of alternating runs, CPU seconds per
  window, and the speed-up as the median of the per-pair ratios (goal >= 1.8x at paper size).
- ``accuracy`` (lite models, trained): mIoU difference on the synthetic cloudy benchmark's test split
  (the scenes of ``bench/synthetic.py``; goal <= 0.5 points) and class-map agreement through the
  engine on the real BigEarthNet sample pairs and the Sen1Floods11 chip (goal >= 0.98).
- ``float_layers``: the measurement behind the layers int8 keeps in float, per lite model: nothing
  kept, first and last convolutions kept, and attention products kept as well (the default).
- ``fp16``: parity of the float16 copies of the lite models on the CPU (and their CPU speed, for
  the record: float16 is meant for GPUs).
- ``gpu``: kept from ``python -m landfuse.bench.speed_gpu`` when it ran on a GPU; otherwise a note
  that none was available.

Run: ``python -m landfuse.bench speed`` (about 40 minutes on 2 busy CPU cores, most of it the paper
models' export and calibration).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from . import RESULTS_DIR, machine_info, write_result

LITE = ("claire", "specsar_former", "cloudseg", "edc")
PAPER = ("edc", "cloudseg")
WINDOW = 256
RUNS = 7
CALIBRATION_WINDOWS = 16
PAPER_CALIBRATION_WINDOWS = 4  # untrained weights: only speed is measured, the ranges do not matter
SPEEDUP_GOAL, MIOU_GOAL_POINTS, AGREEMENT_GOAL = 1.8, 0.5, 0.98
TEST_SCENES, TEST_SIZE, TEST_CLOUD_COVER = 8, 128, (0.3, 0.6)  # as bench/synthetic.py
SEN1FLOODS11 = RESULTS_DIR.parents[2] / "shared" / "data" / "real" / "sen1floods11"
SEN1FLOODS11_BANDS = {"optical_bands": [2, 3, 4, 5, 6, 7, 8, 12, 13], "sar_bands": [1, 2]}
FLOAT_LAYER_CHOICES = {
    "nothing_kept_float": {"keep_edges_float": False, "keep_attention_float": False},
    "first_last_convolutions_float": {"keep_attention_float": False},
    "first_last_convolutions_and_attention_float": {},  # the default
}
GPU_NOTE = (
    "no GPU machine was available on this run: no GPU figures. `python -m landfuse.bench.speed_gpu` measures "
    "fp32 against fp16 and I/O binding on and off on a CUDA GPU and writes its figures here; it refuses to report "
    "GPU numbers when ONNX Runtime runs on the CPU instead."
)


def seconds_per_window(float_runner, other_runner, window: dict, runs: int = RUNS, other: str = "int8") -> dict:
    """Alternating batch-1 runs of both runners on ``window``: wall and CPU seconds, speed-up of ``other``."""
    timings = {"float32": [], other: []}
    cpu = {"float32": [], other: []}
    for runner in (float_runner, other_runner):
        runner.run(window)  # warm-up: kernels and buffers for this shape
    for _ in range(runs):
        for name, runner in (("float32", float_runner), (other, other_runner)):
            started_cpu, started = time.process_time(), time.perf_counter()
            runner.run(window)
            timings[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    ratios = [f / q for f, q in zip(timings["float32"], timings[other], strict=True)]
    result = {
        name: {
            "s_per_window_median": float(np.median(values)),
            "s_per_window_min": float(np.min(values)),
            "s_per_window_max": float(np.max(values)),
            "cpu_s_per_window_median": float(np.median(cpu[name])),
        }
        for name, values in timings.items()
    }
    result["speedup"] = float(np.median(ratios))
    result["speedup_runs"] = ratios
    result["cpu_speedup"] = float(np.median(cpu["float32"]) / np.median(cpu[other]))
    return result


def _timing_window(card) -> dict:
    """One normalised 256 x 256 window of a synthetic test scene in the card's bands."""
    from landfuse.backend.models.calibration import synthetic_windows

    return synthetic_windows(card, 0, WINDOW, 1).check[0]


def _quantize(source: Path, output: Path, **options) -> dict:
    from landfuse.backend.models.quantize import quantize_model

    result = quantize_model(source, output, "int8", log=lambda message: None, **options)
    return {"seconds": result.seconds, "size_mb": output.stat().st_size / 1e6, "card_entry": result.precision}


def _test_split():
    from landfuse.backend.data import open_dataset

    return open_dataset("synthetic", split="test", count=TEST_SCENES, size=TEST_SIZE, cloud_cover=TEST_CLOUD_COVER)


def _real_pairs(folder: Path) -> tuple[list, str]:
    """BigEarthNet sample pairs (stacked GeoTIFFs) and the Sen1Floods11 note."""
    from landfuse.backend.samples import bigearthnet_samples

    pairs = bigearthnet_samples(folder / "cache", folder / "bigearthnet")
    return pairs, "" if SEN1FLOODS11.is_dir() else f"skipped: the Sen1Floods11 chip is not at {SEN1FLOODS11}"


def _pooled(results: list[dict]) -> dict:
    pixels = sum(r["pixels"] for r in results)
    agreement = sum(r["agreement"] * r["pixels"] for r in results) / pixels if pixels else None
    return {"agreement": agreement, "pixels": pixels}


def accuracy(float_path: Path, int8_path: Path, test_set, pairs: list) -> dict:
    """mIoU difference on the synthetic test split and class-map agreement on the real samples."""
    from landfuse.backend.models.compare import compare_on_dataset, compare_on_rasters
    from landfuse.backend.runners import OnnxRunner

    synthetic = compare_on_dataset(OnnxRunner(float_path, "cpu"), OnnxRunner(int8_path, "cpu"), test_set)
    per_pair = [{"pair": p.name, **compare_on_rasters(float_path, int8_path, p.optical, p.sar)} for p in pairs]
    result = {
        "synthetic_test": synthetic,
        "bigearthnet": {**_pooled(per_pair), "pairs": per_pair},
        "goals_met": {"miou_difference": abs(synthetic["miou_difference_points"]) <= MIOU_GOAL_POINTS},
    }
    if SEN1FLOODS11.is_dir():
        chip = SEN1FLOODS11 / "Spain_7370579_S2Hand.tif", SEN1FLOODS11 / "Spain_7370579_S1Hand.tif"
        result["sen1floods11"] = compare_on_rasters(float_path, int8_path, *chip, **SEN1FLOODS11_BANDS)
    for name in ("bigearthnet", "sen1floods11"):
        if result.get(name, {}).get("agreement") is not None:
            result["goals_met"][f"{name}_agreement"] = result[name]["agreement"] >= AGREEMENT_GOAL
    return result


def lite_model(architecture: str, folder: Path, test_set, pairs: list) -> dict:
    """Speed, accuracy, float-layer choices and fp16 parity of one bundled lite model."""
    from landfuse.backend.models.compare import compare_on_dataset
    from landfuse.backend.models.quantize import quantize_model
    from landfuse.backend.runners import BUNDLED_MODELS, OnnxRunner

    source = BUNDLED_MODELS / f"{architecture}-lite.onnx"
    int8 = folder / f"{architecture}-lite.int8.onnx"
    quantized = _quantize(source, int8, windows=CALIBRATION_WINDOWS)
    float_runner, int8_runner = OnnxRunner(source, "cpu"), OnnxRunner(int8, "cpu")
    result = {
        "model": float_runner.card.name,
        "parameters": float_runner.card.parameters,
        "quantize": quantized,
        "speed": seconds_per_window(float_runner, int8_runner, _timing_window(float_runner.card)),
        "accuracy": accuracy(source, int8, test_set, pairs),
    }
    choices = {}
    for name, options in FLOAT_LAYER_CHOICES.items():
        path = int8 if not options else folder / f"{architecture}-lite.{name}.onnx"
        entry = quantized if not options else _quantize(source, path, windows=CALIBRATION_WINDOWS, **options)
        runner = OnnxRunner(path, "cpu")
        choices[name] = {
            "synthetic_test": compare_on_dataset(float_runner, runner, test_set),
            "speed": seconds_per_window(float_runner, runner, _timing_window(float_runner.card), runs=3),
            "kept_float": entry["card_entry"]["kept_float"],
        }
    result["float_layers"] = choices
    fp16 = folder / f"{architecture}-lite.fp16.onnx"
    half = quantize_model(source, fp16, "fp16", log=lambda message: None)
    half_runner = OnnxRunner(fp16, "cpu")
    result["fp16"] = {
        "size_mb": fp16.stat().st_size / 1e6,
        "held_out_check": half.precision["check"],
        "synthetic_test": compare_on_dataset(float_runner, half_runner, test_set),
        "cpu_speed": seconds_per_window(float_runner, half_runner, _timing_window(half.card), runs=3, other="fp16"),
    }
    return result


def paper_model(architecture: str, folder: Path) -> dict:
    """Export the untrained paper-size model, quantize it and time both."""
    import torch

    from landfuse.backend.models.export import export_onnx
    from landfuse.backend.models.registry import build_model, default_card
    from landfuse.backend.runners import OnnxRunner

    torch.manual_seed(0)
    card = default_card(architecture, "paper")
    started = time.perf_counter()
    source = export_onnx(build_model(card).eval(), card, folder / f"{card.name}.onnx")
    export_s = time.perf_counter() - started
    int8 = folder / f"{card.name}.int8.onnx"
    quantized = _quantize(source, int8, windows=PAPER_CALIBRATION_WINDOWS, check_windows=0)
    float_runner, int8_runner = OnnxRunner(source, "cpu"), OnnxRunner(int8, "cpu")
    speed = seconds_per_window(float_runner, int8_runner, _timing_window(card))
    result = {
        "model": card.name,
        "parameters": float_runner.card.parameters,
        "export_s": export_s,
        "float_size_mb": source.stat().st_size / 1e6,
        "quantize": quantized,
        "speed": speed,
        "goal_met": speed["speedup"] >= SPEEDUP_GOAL,
        "accuracy": "not measured: untrained paper-size weights (no trained paper checkpoint is bundled)",
    }
    for path in (source, int8):
        path.unlink()
    return result


def _gpu_section() -> dict:
    """The GPU figures of an earlier ``speed_gpu`` run on a GPU, else the note that none was available."""
    path = RESULTS_DIR / "speed.json"
    if path.is_file():
        previous = json.loads(path.read_text(encoding="utf-8")).get("gpu", {})
        if previous.get("available"):
            return previous
    return {"available": False, "note": GPU_NOTE}


def main() -> dict:
    started = time.perf_counter()
    result = {
        "machine": machine_info(),
        "window": f"{WINDOW}x{WINDOW}, batch 1, the engine's ONNX Runtime runner on the CPU",
        "runs": RUNS,
        "goals": {
            "speedup_paper": f">= {SPEEDUP_GOAL}",
            "miou_difference_points": f"<= {MIOU_GOAL_POINTS}",
            "agreement_real_samples": f">= {AGREEMENT_GOAL}",
        },
        "synthetic_test_split": f"{TEST_SCENES} scenes of {TEST_SIZE} px, {TEST_CLOUD_COVER} cloud cover",
    }
    with tempfile.TemporaryDirectory(prefix="landfuse-bench-speed-") as work:
        folder = Path(work)
        test_set = _test_split()
        pairs, floods_note = _real_pairs(folder)
        if floods_note:
            result["sen1floods11"] = floods_note
        result["lite"] = {a: lite_model(a, folder, test_set, pairs) for a in LITE}
        result["paper"] = {a: paper_model(a, folder) for a in PAPER}
    result["gpu"] = _gpu_section()
    result["seconds"] = time.perf_counter() - started
    write_result("speed", result)
    return result


if __name__ == "__main__":
    main()
