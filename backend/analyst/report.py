"""The assessment as people read it: a figure (error matrix and class areas) and a self-contained HTML page."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from .estimators import Z95


def assessment_figure(assessment: dict, path: str | Path | None = None) -> bytes:
    """A PNG: the error matrix (area proportions, or counts without area estimates; rows = map) and, per
    class, the mapped area beside the estimated area with its 95 % interval. Written to ``path`` when given."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    classes = assessment["per_class"]
    names = [entry["name"].replace("_", " ") for entry in classes]
    proportions = assessment.get("area_proportions")
    matrix = np.array(proportions if proportions is not None else assessment["error_matrix"], dtype=float)
    size = 3.0 + 0.5 * len(names)
    figure, (left, right) = plt.subplots(1, 2, figsize=(2 * size + 1.5, size))
    left.imshow(matrix / max(matrix.max(), 1e-12), cmap="Blues", vmin=0, vmax=1)
    left.set_xticks(range(len(names)), names, rotation=45, ha="right")
    left.set_yticks(range(len(names)), names)
    left.set(xlabel="reference", ylabel="map")
    left.set_title("error matrix, area proportions" if proportions is not None else "error matrix, sample counts")
    for i in range(len(names)):
        for j in range(len(names)):
            text = f"{matrix[i, j]:.3f}" if proportions is not None else f"{int(matrix[i, j])}"
            shade = "white" if matrix[i, j] > 0.5 * matrix.max() else "black"
            left.text(j, i, text, ha="center", va="center", fontsize=8, color=shade)
    positions = np.arange(len(names))
    mapped = [entry["mapped_hectares"] for entry in classes]
    right.barh(positions + 0.2, mapped, height=0.4, color="white", edgecolor="#555555", hatch="//", label="mapped")
    if proportions is not None:
        estimated = [entry["hectares_estimate"] for entry in classes]
        errors = np.array(
            [
                [e - entry["hectares_interval"][0], entry["hectares_interval"][1] - e]
                if entry.get("hectares_interval")
                else [0, 0]
                for e, entry in zip(estimated, classes, strict=True)
            ]
        ).T
        right.barh(
            positions - 0.2,
            estimated,
            height=0.4,
            xerr=errors,
            capsize=3,
            color=[entry["color"] for entry in classes],
            edgecolor="#333333",
            label="estimated (95 % interval)",
        )
    right.set_yticks(positions, names)
    right.invert_yaxis()
    right.set(xlabel="hectares", title="class areas")
    right.legend(loc="lower right", fontsize=8)
    headline = f"overall accuracy {100 * assessment['oa']:.1f} %"
    if assessment.get("oa_interval"):
        low, high = assessment["oa_interval"]
        headline += f" (95 % interval {100 * low:.1f}-{100 * high:.1f} %)"
    if assessment.get("kappa") is not None:
        headline += f", kappa {assessment['kappa']:.2f}"
    figure.suptitle(headline)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    data = buffer.getvalue()
    if path:
        Path(path).write_bytes(data)
    return data


def _number(value, digits: int = 3, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.{max(digits - 2, 1)}f} %" if percent else f"{value:,.{digits}f}"


def _plus_minus(value, se, z: float, percent: bool = True) -> str:
    if value is None:
        return "-"
    text = _number(value, 3, percent)
    if se is None:
        return text
    half = z * se
    return f"{text} &plusmn; {100 * half:.1f}" if percent else f"{text} &plusmn; {half:,.1f}"


def assessment_html(assessment: dict, figure_png: bytes | None = None) -> str:
    """A self-contained HTML report of an assessment (the figure embedded as a data URI)."""
    z = Z95
    classes = assessment["per_class"]
    names = [html.escape(entry["name"]) for entry in classes]
    stratified = assessment.get("area_proportions") is not None
    rows = []
    for entry, name in zip(classes, names, strict=True):
        cells = [
            f'<td><span class="swatch" style="background:{html.escape(entry["color"])}"></span>{name}</td>',
            f"<td>{entry['mapped_units']}</td>",
            f"<td>{_plus_minus(entry['users_accuracy'], entry.get('users_accuracy_se'), z)}</td>",
            f"<td>{_plus_minus(entry['producers_accuracy'], entry.get('producers_accuracy_se'), z)}</td>",
            f"<td>{_number(entry['iou'], 3, True)}</td>",
            f"<td>{_number(entry['mapped_hectares'], 1)}</td>",
        ]
        if stratified:
            cells.append(f"<td>{_plus_minus(entry['hectares_estimate'], entry['hectares_se'], z, percent=False)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    area_header = "<th>estimated ha &plusmn; 95 %</th>" if stratified else ""
    matrix_rows = "".join(
        f"<tr><th>{name}</th>" + "".join(f"<td>{value}</td>" for value in row) + f"<td>{sum(row)}</td></tr>"
        for name, row in zip(names, assessment["error_matrix"], strict=True)
    )
    headline = f"Overall accuracy {_plus_minus(assessment['oa'], assessment.get('oa_se'), z)}"
    kappa = assessment.get("kappa")
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in assessment.get("notes", []))
    image = ""
    if figure_png:
        image = f'<img alt="assessment figure" src="data:image/png;base64,{base64.b64encode(figure_png).decode()}">'
    sample = assessment["sample"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>LandFuse accuracy assessment</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.8em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}
th {{ background: #f2f2f2; }}
.swatch {{ display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.4em; border: 1px solid #555; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Accuracy assessment</h1>
<p><b>{headline}</b>{f", Cohen's kappa {kappa:.3f}" if kappa is not None else ""}.
Design: {html.escape(assessment["design"])}. {sample["used"]} {assessment["units"]} used
({sample.get("on_nodata", 0)} on nodata, {sample.get("off_map", 0)} off the map). Map:
{html.escape(Path(assessment["class_map"]).name)}, {assessment["total_hectares"]:,.1f} ha mapped.</p>
<h2>Per class</h2>
<table><tr><th>class</th><th>sample ({assessment["units"]})</th><th>user's accuracy</th>
<th>producer's accuracy</th><th>IoU</th><th>mapped ha</th>{area_header}</tr>
{"".join(rows)}</table>
<p>&plusmn; values are 95 % confidence half-widths (1.96 standard errors, Olofsson et al. 2014).</p>
<h2>Error matrix (sample counts; rows = map, columns = reference)</h2>
<table><tr><th></th>{"".join(f"<th>{name}</th>" for name in names)}<th>total</th></tr>{matrix_rows}</table>
{image}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</body></html>
"""
