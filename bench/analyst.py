"""Analyst workflow benchmark on a real Sen1Floods11 chip: train from reference polygons, classify, assess.

The chip ``Spain_7370579`` (Sentinel-1 + Sentinel-2 L1C, 512 x 512 px of about 10 m, a hand-labelled flood
near Orihuela, September 2019; CC BY 4.0, see ``../shared/data/real/sen1floods11/SOURCE.md``) is split in
two halves:

1. **References, left half.** Polygons drawn as an analyst would: inside water bodies and inside dry
   land, a pixel away from their edges. Made from the hand label: its water patches and, in blocks of 32
   pixels, the largest dry-land patch, both shrunk by one pixel; ``WATER_POLYGONS`` and ``LAND_POLYGONS``
   of them drawn at random (seeded).
2. **Training** a lite model of each architecture (the ``landfuse:train`` backend, its default options: the
   full-resolution refinement of the logits, the weights at the end of the budget kept) on the CPU, one
   thread, for ``EPOCHS`` epochs (a few minutes each), on the Sentinel-2 bands an analyst maps water with
   (``OPTICAL_BANDS``: visible, NIR and SWIR; the atmospheric bands B1, B9 and B10 left out) and both
   Sentinel-1 bands.
3. **Map of the right half** (the engine with the half as processing extent) and its water IoU against
   the hand label of the right half (label no-data left out).
4. **Assessment** as an analyst would: a stratified random sample of the map (``stratified_sample``,
   target standard error ``TARGET_SE``, at least ``MINIMUM`` points per class), each point labelled with
   the hand label, then ``assess``: the area-adjusted water area with its 95 % interval, against the
   water area of the hand label.
5. The map as polygons after a 0.5 ha minimum mapping unit (``vectorise``).

Writes ``bench/results/analyst.json`` and the assessment figure of the first architecture (CLAIRE)
``docs/analyst-assessment.png``. Run: ``python -m landfuse.bench analyst`` (``python -m landfuse.bench.analyst
claire`` for one architecture).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "analyst.json"
FIGURE = ROOT / "docs" / "analyst-assessment.png"
CHIP = ROOT.parent / "shared" / "data" / "real" / "sen1floods11"
OPTICAL, SAR, LABEL = (CHIP / f"Spain_7370579_{part}.tif" for part in ("S2Hand", "S1Hand", "LabelHand"))
WATER_POLYGONS = LAND_POLYGONS = 30
LAND_BLOCK = 32
MIN_WATER_PIXELS = 20
EPOCHS = 60
ARCHITECTURES = ("claire", "specsar_former", "cloudseg", "edc")
OPTICAL_BANDS = ["B2", "B3", "B4", "B8", "B11", "B12"]
TARGET_SE, MINIMUM, EXPECTED_ACCURACY = 0.02, 50, 0.8
MMU_HECTARES = 0.5
GOAL_IOU = 0.80
CLASSES = [
    {"value": "not_water", "name": "not_water", "color": "#d9d9d9"},
    {"value": "water", "name": "water", "color": "#1f78b4"},
]


def read_label() -> tuple[np.ndarray, object]:
    """The hand label (-1 no data, 0 not water, 1 water) and its transform."""
    import rasterio

    with rasterio.open(LABEL) as src:
        return src.read(1), src.transform


def shrink(mask: np.ndarray, pixels: int = 1) -> np.ndarray:
    """``mask`` eroded by ``pixels`` (4-neighbourhood): a pixel stays when its neighbours are in the mask."""
    for _ in range(pixels):
        inner = mask.copy()
        inner[1:] &= mask[:-1]
        inner[:-1] &= mask[1:]
        inner[:, 1:] &= mask[:, :-1]
        inner[:, :-1] &= mask[:, 1:]
        mask = inner
    return mask


def _pixels(geometry: dict, shape, transform) -> int:
    from rasterio import features

    return int(features.rasterize([(geometry, 1)], out_shape=shape, transform=transform).sum())


def draw_reference_polygons(
    label: np.ndarray, transform, columns: slice, seed: int = 0, water: int = WATER_POLYGONS, land: int = LAND_POLYGONS
) -> list[tuple[dict, str]]:
    """Reference polygons in the ``columns`` of the label, as an analyst would draw them (module docstring):
    ``(GeoJSON geometry, class)`` pairs, ``water`` water polygons then ``land`` not-water ones."""
    from rasterio import features

    rng = np.random.default_rng(seed)
    area = np.zeros(label.shape, bool)
    area[:, columns] = True
    water_mask = shrink((label == 1) & area)
    patches = [g for g, _ in features.shapes(water_mask.astype(np.uint8), mask=water_mask, transform=transform)]
    patches = [g for g in patches if _pixels(g, label.shape, transform) >= MIN_WATER_PIXELS]
    chosen = [(patches[i], "water") for i in rng.permutation(len(patches))[:water]]
    land_mask = shrink((label == 0) & area)
    blocks = []
    for row in range(0, label.shape[0], LAND_BLOCK):
        for col in range(0, label.shape[1], LAND_BLOCK):
            cells = (slice(row, row + LAND_BLOCK), slice(col, col + LAND_BLOCK))
            block = np.zeros(label.shape, bool)
            block[cells] = land_mask[cells]
            if block.sum() < 2 * MIN_WATER_PIXELS:
                continue
            pieces = [g for g, _ in features.shapes(block.astype(np.uint8), mask=block, transform=transform)]
            blocks.append(max(pieces, key=lambda g: _pixels(g, label.shape, transform)))
    chosen += [(blocks[i], "not_water") for i in rng.permutation(len(blocks))[:land]]
    return chosen


def write_geojson(path: Path, features: list[tuple[dict, str]]) -> Path:
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"class": c}, "geometry": g} for g, c in features],
    }
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def half_extent(transform, width: int, height: int, right: bool) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of the left or right half of the chip."""
    col0, col1 = (width // 2, width) if right else (0, width // 2)
    west, north = transform @ (col0, 0)
    east, south = transform @ (col1, height)
    return west, south, east, north


def water_iou(mapped: np.ndarray, truth: np.ndarray) -> float:
    """IoU of water (class 1) over the pixels the label knows (not -1) and the map covers."""
    known = (truth >= 0) & (mapped != 255)
    predicted, actual = (mapped == 1) & known, (truth == 1) & known
    return float((predicted & actual).sum() / (predicted | actual).sum())


def label_points(points, label: np.ndarray, transform, out: Path) -> tuple[Path, int]:
    """The sample points labelled with the hand label, as an analyst would label them (points on the label's
    no-data dropped), written as GeoJSON; and how many were dropped."""
    features, dropped = [], 0
    for point in points:
        col, row = ~transform @ (point.x, point.y)
        value = int(label[int(row), int(col)])
        if value < 0:
            dropped += 1
            continue
        features.append(({"type": "Point", "coordinates": [point.x, point.y]}, "water" if value == 1 else "not_water"))
    return write_geojson(out, features), dropped


def run_architecture(architecture: str, folder: Path, references: Path, label, transform, figure: bool) -> dict:
    """Train ``architecture`` (lite) on the references, map the right half and assess it; the result entry."""
    import rasterio

    from landfuse.backend.analyst.assess import assess
    from landfuse.backend.analyst.classmap import open_class_map
    from landfuse.backend.analyst.report import assessment_figure
    from landfuse.backend.analyst.sampling import draw_points, plan_sample
    from landfuse.backend.analyst.train import TrainOptions, train_from_references
    from landfuse.backend.analyst.vectorise import vectorise
    from landfuse.backend.engine import ClassifyOptions, classify

    model = folder / f"{architecture}-flood.onnx"
    started = time.perf_counter()
    training = train_from_references(
        str(OPTICAL),
        str(SAR),
        str(references),
        model,
        optical_bands=OPTICAL_BANDS,
        classes=CLASSES,
        options=TrainOptions(architecture=architecture, epochs=EPOCHS, device="cpu", threads=1),
    )
    train_seconds = time.perf_counter() - started
    height, width = label.shape
    class_map = folder / f"{architecture}-right.tif"
    started = time.perf_counter()
    report = classify(
        str(OPTICAL),
        str(SAR),
        model,
        class_map,
        options=ClassifyOptions(extent=half_extent(transform, width, height, right=True), device="cpu"),
    )
    classify_seconds = time.perf_counter() - started
    with rasterio.open(class_map) as src:
        mapped = src.read(1)
    truth = label[:, width // 2 :]
    opened = open_class_map(str(class_map), with_areas=True)
    design = plan_sample(opened, TARGET_SE, EXPECTED_ACCURACY, MINIMUM)
    points = draw_points(opened, [entry["points"] for entry in design["classes"]], seed=0)
    labelled, dropped = label_points(points, label, transform, folder / f"{architecture}-labelled.geojson")
    assessment = assess(str(class_map), str(labelled))
    water = assessment["per_class"][1]
    pixel_areas = opened.grid.row_pixel_areas(0, height)
    true_water_ha = float((pixel_areas[:, None] * (truth == 1)).sum() / 1e4)
    polygons = vectorise(str(class_map), str(folder / f"{architecture}-polygons.gpkg"), mmu_hectares=MMU_HECTARES)
    entry = {
        "architecture": architecture,
        "variant": "lite",
        "train_seconds": round(train_seconds, 1),
        "epochs": training["epochs"],
        "iterations": training["iterations"],
        "weights_kept": training["keep"],
        "exported_epoch": training["exported_epoch"],
        "best_validation_epoch": training["best_epoch"],
        "refined": training["refined"],
        "validation_on_held_out_polygons": {
            "oa": training["validation"]["oa"] if training["validation"] else None,
            "miou": training["validation"]["miou"] if training["validation"] else None,
        },
        "classify_seconds_right_half": round(classify_seconds, 2),
        "water_iou_right_half": water_iou(mapped, truth),
        "goal_water_iou": GOAL_IOU,
        "oa_right_half_all_pixels": float((mapped[truth >= 0] == truth[truth >= 0]).mean()),
        "assessment": {
            "sample_points": assessment["sample"]["used"],
            "points_on_label_nodata_dropped": dropped,
            "points_per_map_class": [c["mapped_units"] for c in assessment["per_class"]],
            "overall_accuracy": assessment["oa"],
            "overall_accuracy_interval_95": assessment.get("oa_interval"),
            "kappa": assessment["kappa"],
            "water_users_accuracy": water["users_accuracy"],
            "water_producers_accuracy": water["producers_accuracy"],
            "water_mapped_ha": water["mapped_hectares"],
            "water_area_estimate_ha": water.get("hectares_estimate"),
            "water_area_interval_95_ha": water.get("hectares_interval"),
            "water_area_hand_label_ha": true_water_ha,
            "hand_label_area_inside_interval": bool(
                water.get("hectares_interval")
                and water["hectares_interval"][0] <= true_water_ha <= water["hectares_interval"][1]
            ),
        },
        "polygons_mmu_0_5_ha": polygons["features"],
        "report_valid_share": report["valid_share"],
    }
    if figure:
        assessment_figure(assessment, FIGURE)
    return entry


def demo_model_baseline(folder: Path, label: np.ndarray, transform) -> dict:
    """Water IoU of the right half mapped by the shipped demo model (synthetic training, Dynamic World classes):
    the starting point a new user has."""
    import rasterio

    from landfuse.backend.engine import ClassifyOptions, classify

    height, width = label.shape
    report = classify(
        str(OPTICAL),
        str(SAR),
        "edc-lite",
        folder / "demo.tif",
        optical_bands=["B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B12"],
        options=ClassifyOptions(extent=half_extent(transform, width, height, right=True), device="cpu"),
    )
    water = next(c["id"] for c in report["classes"] if c["name"] == "water")
    with rasterio.open(folder / "demo.tif") as src:
        mapped = src.read(1)
    as_water = np.where(mapped == 255, 255, (mapped == water).astype(np.uint8))
    return {
        "model": "edc-lite (demo weights, synthetic training)",
        "water_iou_right_half": water_iou(as_water, label[:, width // 2 :]),
    }


def main(architectures: list[str] | None = None) -> dict:
    import onnxruntime
    import rasterio
    import torch

    if not OPTICAL.is_file():
        raise SystemExit(f"the Sen1Floods11 chip is not in {CHIP}; see its SOURCE.md")
    architectures = list(architectures or ARCHITECTURES)
    label, transform = read_label()
    results = {
        "what": "train from reference polygons drawn on the left half, map and assess the right half (module doc)",
        "data": "Sen1Floods11 Spain_7370579 (S1 + S2 L1C, 512 x 512, hand label), CC BY 4.0",
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": 1,
            "platform": platform.platform(),
            "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__,
            "rasterio": rasterio.__version__,
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        },
    }
    with tempfile.TemporaryDirectory(prefix="landfuse-analyst-") as tmp:
        folder = Path(tmp)
        polygons = draw_reference_polygons(label, transform, slice(0, label.shape[1] // 2))
        references = write_geojson(folder / "references.geojson", polygons)
        results["references"] = {
            "water_polygons": sum(c == "water" for _, c in polygons),
            "not_water_polygons": sum(c == "not_water" for _, c in polygons),
            "labelled_pixels": int(sum(_pixels(g, label.shape, transform) for g, _ in polygons)),
            "half": "left (columns 0-255)",
            "optical_bands": OPTICAL_BANDS,
            "sar_bands": ["VV", "VH"],
        }
        results["hand_label_water_share_right_half"] = float((label[:, 256:] == 1).sum() / (label[:, 256:] >= 0).sum())
        results["demo_model_baseline"] = demo_model_baseline(folder, label, transform)
        results["runs"] = [
            run_architecture(a, folder, references, label, transform, a == architectures[0]) for a in architectures
        ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for run in results["runs"]:
        estimate = run["assessment"]
        print(
            f"{run['architecture']}: water IoU {run['water_iou_right_half']:.3f} (goal {GOAL_IOU}); water area "
            f"{estimate['water_area_estimate_ha']:.1f} ha, 95 % {estimate['water_area_interval_95_ha']}, hand label "
            f"{estimate['water_area_hand_label_ha']:.1f} ha"
        )
    return results


if __name__ == "__main__":
    main(sys.argv[1:] or None)
