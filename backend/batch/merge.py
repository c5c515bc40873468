"""The batch's merged outputs: one report over every scene, a VRT mosaic of the class maps, an explanation.

- ``batch-report.json``: a LandFuse report (``landfuse_report: 1``, so ``explain`` reads it) whose class
  table sums the finished scenes (pixels, hectares; shares and mean confidences weighted by pixels),
  plus ``batch``: counts and one row per scene (state, error code and message, valid share,
  hectares, dominant class, seconds, worker, report path), and ``mosaic``.
- ``mosaic.vrt`` (+ ``mosaic.qml``): a GDAL virtual mosaic of the finished class maps with the model's
  colour table, category names and QGIS style. A VRT holds one grid, so it takes the scenes on the
  most common CRS and pixel size; the others are listed in the report with the reason (classify
  them with a common ``--target-crs`` and ``--resolution`` to mosaic them all).
- ``explanation.md`` (optional): the explanation of the merged report, grounded on its numbers.

The files are rewritten at the end of every run, together (staged, then renamed); those a run does
not write (no scene done, no explanation asked) are removed, so none describes an older state.
"""

from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import rasterio

from ..engine.outputs import StagedFiles, write_text
from ..engine.style import qml_text
from .manifest import DONE, FAILED, PENDING, RUNNING, Manifest

REPORT_NAME = "batch-report.json"
MOSAIC_NAME = "mosaic.vrt"
EXPLANATION_NAME = "explanation.md"


def write_batch_outputs(folder: Path, manifest: Manifest, names: list[str], card, *, explain: bool = False) -> dict:
    """Write the merged report, the mosaic (when a scene is done) and the explanation (when asked and a scene
    is done); returns their paths (None for those not written)."""
    reports = {name: _scene_report(manifest.scenes[name]) for name in names if manifest.scenes[name]["state"] == DONE}
    merged = merged_report(card, manifest, names, reports)
    staged = StagedFiles()
    paths = {"report": folder / REPORT_NAME, "mosaic": None, "explanation": None}
    try:
        if reports:
            paths["mosaic"] = folder / MOSAIC_NAME
            vrt, merged["mosaic"] = mosaic_vrt(folder, card, {name: manifest.scenes[name] for name in reports})
            write_text(staged.stage(paths["mosaic"], "mosaic"), vrt, "mosaic")
            style = staged.stage(paths["mosaic"].with_suffix(".qml"), "mosaic style")
            write_text(style, qml_text(card), "mosaic style")
        if explain and reports:
            from ..explain import explain_report

            paths["explanation"] = folder / EXPLANATION_NAME
            explanation = explain_report(merged)
            write_text(staged.stage(paths["explanation"], "explanation"), explanation.markdown, "explanation")
        merged["outputs"] = {key: str(path) if path else None for key, path in paths.items()}
        write_text(staged.stage(paths["report"], "batch report"), json.dumps(merged, indent=2), "batch report")
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    stale = [] if paths["mosaic"] else [folder / MOSAIC_NAME, (folder / MOSAIC_NAME).with_suffix(".qml")]
    stale += [] if paths["explanation"] else [folder / EXPLANATION_NAME]
    for path in stale:
        path.unlink(missing_ok=True)
    return merged["outputs"]


def _scene_report(entry: dict) -> dict:
    return json.loads(Path(entry["outputs"]["report"]).read_text(encoding="utf-8"))


def merged_report(card, manifest: Manifest, names: list[str], reports: dict[str, dict]) -> dict:
    """The batch report: class table summed over ``reports`` (finished scenes) and one row per scene."""
    k = card.num_classes
    pixels, hectares, confidence = [0] * k, [0.0] * k, [0.0] * k
    valid = total = low = 0.0
    for report in reports.values():
        for entry in report["classes"]:
            pixels[entry["id"]] += entry["pixels"]
            hectares[entry["id"]] += entry["hectares"]
            confidence[entry["id"]] += (entry["mean_confidence"] or 0.0) * entry["pixels"]
        scene_valid = sum(entry["pixels"] for entry in report["classes"])
        valid += scene_valid
        total += report["grid"]["width"] * report["grid"]["height"]
        low += report["low_confidence_share"] * scene_valid
    classes = [
        {
            "id": c.id,
            "name": c.name,
            "color": c.color,
            "pixels": pixels[c.id],
            "hectares": hectares[c.id],
            "share": pixels[c.id] / valid if valid else 0.0,
            "mean_confidence": confidence[c.id] / pixels[c.id] if pixels[c.id] else None,
        }
        for c in card.classes
    ]
    counts = manifest.counts(names)
    first = next(iter(reports.values()), {})
    report = {
        "landfuse_report": 1,
        "model": card.to_dict(),
        "device": ", ".join(sorted({report["device"] for report in reports.values()})),
        "classes": classes,
        "valid_share": valid / total if total else 0.0,
        "low_confidence_share": low / valid if valid else 0.0,
        "low_confidence_threshold": first.get("low_confidence_threshold"),
        "mean_confidence": sum(confidence) / valid if valid else None,
        "cloud_share": None,
        "notes": [f"class areas summed over the {len(reports)} classified scenes of the batch ({len(names)} scenes)"],
        "evaluation": None,
        "batch": {
            "total": len(names),
            "done": counts[DONE],
            "failed": counts[FAILED],
            "pending": counts[PENDING] + counts[RUNNING],
            "complete": counts[DONE] == len(names),
            "scenes": [_scene_row(name, manifest.scenes[name], reports.get(name)) for name in names],
        },
        "mosaic": None,
    }
    return json.loads(json.dumps(report))  # plain JSON types (the card holds tuples), as written and read back


def _scene_row(name: str, entry: dict, report: dict | None) -> dict:
    row = {
        "name": name,
        "state": entry["state"],
        "error": entry.get("error"),
        "attempts": entry.get("attempts"),
        "seconds": entry.get("seconds"),
        "worker": entry.get("worker"),
        "valid_share": None,
        "hectares": None,
        "dominant_class": None,
        "report": entry["outputs"]["report"] if report else None,
    }
    if report:
        top = max(report["classes"], key=lambda c: c["pixels"])
        row.update(
            valid_share=report["valid_share"],
            hectares=sum(c["hectares"] for c in report["classes"]),
            dominant_class=top["name"] if top["pixels"] else None,
        )
    return row


def mosaic_vrt(folder: Path, card, entries: dict[str, dict]) -> tuple[str, dict]:
    """The VRT text of the class maps of ``entries`` (scene name -> manifest entry) sharing the most common
    CRS and pixel size, and the report's ``mosaic`` entry (scenes in it, scenes left out and why)."""
    grids = {}
    for name, entry in entries.items():
        with rasterio.open(entry["outputs"]["class_map"]) as dataset:
            grids[name] = (dataset.crs, dataset.transform, dataset.width, dataset.height)
    keys = {name: (crs.to_wkt(), round(t.a, 9), round(t.e, 9)) for name, (crs, t, _, _) in grids.items()}
    chosen = Counter(keys.values()).most_common(1)[0][0]
    inside = [name for name in grids if keys[name] == chosen]
    left_out = []
    for name in (n for n in grids if keys[n] != chosen):
        reason = (
            f"its grid ({grids[name][0].to_string()}, pixel {grids[name][1].a:g}) differs from the mosaic's; classify "
            "the scenes with a common --target-crs and --resolution to mosaic them together"
        )
        left_out.append({"name": name, "reason": reason})
    crs, transform = grids[inside[0]][0], grids[inside[0]][1]
    xres, yres = transform.a, -transform.e
    west = min(grids[n][1].c for n in inside)
    north = max(grids[n][1].f for n in inside)
    east = max(grids[n][1].c + grids[n][2] * xres for n in inside)
    south = min(grids[n][1].f - grids[n][3] * yres for n in inside)
    width, height = math.ceil((east - west) / xres - 1e-6), math.ceil((north - south) / yres - 1e-6)
    root = ET.Element("VRTDataset", rasterXSize=str(width), rasterYSize=str(height))
    ET.SubElement(root, "SRS", dataAxisToSRSAxisMapping="1,2").text = crs.to_wkt()
    ET.SubElement(root, "GeoTransform").text = ", ".join(repr(v) for v in (west, xres, 0.0, north, 0.0, -yres))
    band = ET.SubElement(root, "VRTRasterBand", dataType="Byte", band="1")
    ET.SubElement(band, "NoDataValue").text = str(card.nodata)
    ET.SubElement(band, "ColorInterp").text = "Palette"
    categories = ET.SubElement(band, "CategoryNames")
    for spec in card.classes:
        ET.SubElement(categories, "Category").text = spec.name
    table = ET.SubElement(band, "ColorTable")
    colours = {spec.id: (*spec.rgb, 255) for spec in card.classes}
    for value in range(max(card.nodata, card.num_classes - 1) + 1):
        red, green, blue, alpha = colours.get(value, (0, 0, 0, 0))
        ET.SubElement(table, "Entry", c1=str(red), c2=str(green), c3=str(blue), c4=str(alpha))
    for name in inside:
        _, t, w, h = grids[name]
        source = ET.SubElement(band, "ComplexSource")
        relative = os.path.relpath(entries[name]["outputs"]["class_map"], folder)
        ET.SubElement(source, "SourceFilename", relativeToVRT="1").text = Path(relative).as_posix()
        ET.SubElement(source, "SourceBand").text = "1"
        ET.SubElement(source, "SrcRect", xOff="0", yOff="0", xSize=str(w), ySize=str(h))
        x_off, y_off = (t.c - west) / xres, (north - t.f) / yres
        ET.SubElement(source, "DstRect", xOff=_offset(x_off), yOff=_offset(y_off), xSize=str(w), ySize=str(h))
        ET.SubElement(source, "NODATA").text = str(card.nodata)
    ET.indent(root)
    info = {"path": str(folder / MOSAIC_NAME), "crs": crs.to_string(), "scenes": inside, "left_out": left_out}
    return ET.tostring(root, encoding="unicode") + "\n", info


def _offset(value: float) -> str:
    """A pixel offset: an integer when the grids are aligned (they usually are), else the exact fraction."""
    return str(round(value)) if abs(value - round(value)) < 1e-6 else repr(value)
