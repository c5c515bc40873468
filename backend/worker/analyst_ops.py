"""The worker operations of the analyst workflow: train from reference features, cut a processing area,
vectorise a class map, assess it, and draw a stratified sample.

Reference and mask features arrive as GeoJSON files in the raster's CRS (the plugin writes them with
QGIS). Every file a job writes is written under a temporary name and renamed only when the job
succeeded (``staging.staged``); a cancelled or failed job leaves nothing behind. Backend modules are
imported inside each function, so the worker starts fast.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import BadParamsError
from .jobs import JobContext, Operation
from .params import Param
from .staging import staged

DEVICES = ("auto", "cpu", "cuda")

TRAIN_REFERENCE_PARAMS = {
    "optical": Param(str, required=True),
    "sar": Param(str, required=True),
    "optical_bands": Param(list, items=(int, str)),
    "sar_bands": Param(list, items=(int, str)),
    "references": Param(str, required=True),
    "classes": Param(list, items=dict),
    "architecture": Param(str, default="claire"),
    "variant": Param(str, default="lite"),
    "epochs": Param(int),
    "time_budget_s": Param(float),
    "batch_size": Param(int, default=8),
    "window": Param(int, default=64),
    "holdout": Param(float, default=0.25),
    "point_radius": Param(int, default=1),
    "seed": Param(int, default=0),
    "device": Param(str, default="auto"),
    "lr": Param(float),
    "init_encoder": Param(str),
    "threads": Param(int, default=0),
    "keep": Param(str, default="last"),
    "refine": Param(bool, default=True),
    "extent": Param(list, items=float),
    "mask": Param(str),
    "output": Param(str, required=True),
    "report": Param(str),
    "plot": Param(str),
}


def _extent(op: str, values: list | None) -> tuple | None:
    if values is not None and len(values) != 4:
        raise BadParamsError(f"{op}: extent must be [xmin, ymin, xmax, ymax] in the raster's CRS, got {values}")
    return tuple(values) if values else None


def _prepare_folders(*paths: str | None) -> None:
    """Create the missing folders of output files, as QGIS Processing does."""
    for path in paths:
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def train_reference(ctx: JobContext) -> dict:
    """Train a model from reference features and export it to ONNX. Result: ``{"output", "report", "plot",
    "training": training report dict}``."""
    from ..analyst.train import TrainOptions, train_from_references

    params = ctx.params
    if params["device"] not in DEVICES:
        raise BadParamsError(f"train_reference: device must be one of {list(DEVICES)}, got {params['device']!r}")
    if Path(params["output"]).suffix.lower() != ".onnx":
        raise BadParamsError(f"train_reference: the model file must end in .onnx, got {params['output']!r}")
    options = TrainOptions(
        architecture=params["architecture"],
        variant=params["variant"],
        epochs=params["epochs"],
        time_budget_s=params["time_budget_s"],
        batch_size=params["batch_size"],
        window=params["window"],
        holdout=params["holdout"],
        point_radius=params["point_radius"],
        seed=params["seed"],
        device=params["device"],
        lr=params["lr"],
        init_encoder=params["init_encoder"],
        threads=params["threads"],
        keep=params["keep"],
        refine=params["refine"],
    )
    outputs = {"output": params["output"], "report": params["report"], "plot": params["plot"]}
    _prepare_folders(*outputs.values())
    with staged(outputs) as temporary:
        report = train_from_references(
            params["optical"],
            params["sar"],
            params["references"],
            temporary["output"],
            optical_bands=params["optical_bands"],
            sar_bands=params["sar_bands"],
            classes=params["classes"],
            options=options,
            extent=_extent("train_reference", params["extent"]),
            mask=params["mask"],
            report=temporary["report"],
            plot=temporary["plot"],
            progress=ctx.progress,
            is_cancelled=lambda: ctx.cancelled,
        )
        ctx.check_cancelled()
    return {
        **{key: str(Path(value).resolve()) if value else None for key, value in outputs.items()},
        "training": report,
    }


AREA_INPUT_PARAMS = {
    "raster": Param(str, required=True),
    "mask": Param(str),
    "extent": Param(list, items=float),
    "output": Param(str, required=True),
}


def area_input(ctx: JobContext) -> dict:
    """Write the part of a raster under a processing area, nodata outside the mask polygons (``analyst.area``).
    Result: ``{"output", "window", "bounds", "pixels_inside"}``."""
    from ..analyst.area import write_masked_copy
    from ..analyst.references import read_references

    params = ctx.params
    mask = read_references(params["mask"], "mask", with_class=False) if params["mask"] else []
    _prepare_folders(params["output"])
    with staged({"output": params["output"]}) as temporary:
        result = write_masked_copy(
            params["raster"],
            temporary["output"],
            _extent("area_input", params["extent"]),
            mask,
            progress=ctx.progress,
            is_cancelled=lambda: ctx.cancelled,
        )
        ctx.check_cancelled()
    return {"output": params["output"], **result}


VECTORISE_PARAMS = {
    "class_map": Param(str, required=True),
    "output": Param(str, required=True),
    "mmu_hectares": Param(float, default=0.0),
    "layer": Param(str, default="land_cover"),
    "block": Param(int, default=2048),
    "connectivity": Param(int, default=4),
}


def vectorise(ctx: JobContext) -> dict:
    """Sieve a class map to a minimum mapping unit and polygonize it into a GeoPackage (``analyst.vectorise``)."""
    from ..analyst.vectorise import vectorise as run

    params = ctx.params
    _prepare_folders(params["output"])
    with staged({"output": params["output"]}) as temporary:
        result = run(
            params["class_map"],
            str(temporary["output"]),
            mmu_hectares=params["mmu_hectares"],
            layer=params["layer"],
            block=params["block"],
            connectivity=params["connectivity"],
            progress=ctx.progress,
            is_cancelled=lambda: ctx.cancelled,
        )
        ctx.check_cancelled()
    return {**result, "output": params["output"]}


ASSESS_PARAMS = {
    "class_map": Param(str, required=True),
    "references": Param(str, required=True),
    "stratified": Param(bool, default=True),
    "output": Param(str),
    "html": Param(str),
    "plot": Param(str),
}


def assess(ctx: JobContext) -> dict:
    """Assess a class map against reference points or polygons (``analyst.assess``). Result: ``{"output",
    "html", "plot", "assessment"}``; the JSON output is a metrics file ``explain`` accepts."""
    from ..analyst.assess import assess as run
    from ..analyst.report import assessment_figure, assessment_html

    params = ctx.params
    ctx.progress(0.0, "reading the class map and the reference features")
    assessment = run(
        params["class_map"], params["references"], stratified=params["stratified"], is_cancelled=lambda: ctx.cancelled
    )
    ctx.check_cancelled()
    outputs = {"output": params["output"], "html": params["html"], "plot": params["plot"]}
    _prepare_folders(*outputs.values())
    with staged(outputs) as temporary:
        if temporary["output"]:
            temporary["output"].write_text(json.dumps(assessment, indent=2, allow_nan=False), encoding="utf-8")
        figure = assessment_figure(assessment, temporary["plot"]) if (params["plot"] or params["html"]) else None
        if temporary["html"]:
            temporary["html"].write_text(assessment_html(assessment, figure), encoding="utf-8")
    ctx.progress(1.0, "done")
    return {**outputs, "assessment": assessment}


SAMPLE_PARAMS = {
    "class_map": Param(str, required=True),
    "output": Param(str, required=True),
    "allocation": Param(str),
    "target_se": Param(float, default=0.01),
    "expected_accuracy": Param((float, list), items=float, default=0.8),
    "minimum": Param(int, default=50),
    "total": Param(int),
    "seed": Param(int, default=0),
    "layer": Param(str, default="sample"),
}


def stratified_sample(ctx: JobContext) -> dict:
    """Draw a stratified random sample of points from a class map (``analyst.sampling``) into a GeoPackage
    with the fields ``stratum``, ``map_class`` and an empty ``reference`` to label. Result: ``{"output",
    "allocation", "design": design dict}``."""
    from ..analyst.classmap import open_class_map
    from ..analyst.gpkg import GeoPackageWriter, categorized_qml
    from ..analyst.sampling import draw_points, plan_sample

    params = ctx.params
    ctx.progress(0.0, "measuring the mapped areas")
    class_map = open_class_map(params["class_map"], with_areas=True)
    accuracy = params["expected_accuracy"]
    if isinstance(accuracy, list) and len(accuracy) != len(class_map.classes):
        raise BadParamsError(
            f"stratified_sample: give one expected user's accuracy or one per class ({len(class_map.classes)}), "
            f"got {len(accuracy)}"
        )
    design = plan_sample(class_map, params["target_se"], accuracy, params["minimum"], params["total"])
    ctx.progress(0.3, f"drawing {design['total']} points")
    points = draw_points(
        class_map, [entry["points"] for entry in design["classes"]], params["seed"], lambda: ctx.cancelled
    )
    design["seed"] = params["seed"]
    outputs = {"output": params["output"], "allocation": params["allocation"]}
    _prepare_folders(*outputs.values())
    fields = (("stratum", "INTEGER"), ("map_class", "TEXT"), ("reference", "TEXT"))
    with staged(outputs) as temporary:
        with GeoPackageWriter(temporary["output"], params["layer"], class_map.grid.crs, "POINT", fields) as out:
            out.set_style(categorized_qml("stratum", class_map.classes, "POINT"), "strata")
            for point in points:
                out.add([point.x, point.y], (point.stratum, class_map.names[point.stratum], None))
        if temporary["allocation"]:
            temporary["allocation"].write_text(json.dumps(design, indent=2), encoding="utf-8")
        ctx.check_cancelled()
    ctx.progress(1.0, "done")
    return {**outputs, "points": len(points), "design": design}


def analyst_operations() -> dict[str, Operation]:
    """The analyst operations, all in the heavy lane (one at a time, in arrival order)."""
    return {
        "train_reference": Operation(TRAIN_REFERENCE_PARAMS, train_reference, "heavy"),
        "area_input": Operation(AREA_INPUT_PARAMS, area_input, "heavy"),
        "vectorise": Operation(VECTORISE_PARAMS, vectorise, "heavy"),
        "assess": Operation(ASSESS_PARAMS, assess, "heavy"),
        "stratified_sample": Operation(SAMPLE_PARAMS, stratified_sample, "heavy"),
    }
