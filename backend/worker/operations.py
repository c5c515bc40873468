"""The worker's job operations: parameter tables and the functions that run them.

Backend modules (engine, explanations, evaluation) are imported inside each function, so the
worker starts fast and an operation whose dependencies are broken fails alone with a clear error.
Band indexes are 1-based, as everywhere users see them.
"""

from __future__ import annotations

from pathlib import Path

from ...common.card import ONNX_METADATA_KEY, CardError, ModelCard
from ..errors import BadParamsError, CardMismatchError, UnreadableInputError
from ..jsonfile import read_json_object
from .jobs import JobContext, Operation
from .params import Param
from .staging import staged

DEVICES = ("auto", "cpu", "cuda")
# Share of a classify job's progress bar given to the engine when an explanation follows it.
CLASSIFY_SHARE_WITH_EXPLANATION = 0.9

# -- models --------------------------------------------------------------------------------------


def list_models(ctx: JobContext) -> dict:
    """Model files in the user's folder and the bundled folder, each with a short card summary."""
    from ..runners import MODEL_SUFFIXES, model_search_dirs

    folders = model_search_dirs(ctx.params["folder"])
    models, problems = [], []
    for folder in folders:
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            if path.suffix not in MODEL_SUFFIXES:
                continue
            try:
                card = read_card(path)
            except (CardMismatchError, UnreadableInputError) as exc:  # one broken file must not hide the others
                problems.append({"path": str(path), "error": str(exc)})
                continue
            models.append(
                {
                    "name": path.stem,
                    "path": str(path),
                    "architecture": card.architecture,
                    "variant": card.variant,
                    "modalities": list(card.modalities),
                    "classes": [spec.name for spec in card.classes],
                    "description": card.description,
                }
            )
    return {"models": models, "problems": problems, "folders": [str(folder) for folder in folders]}


def model_card(ctx: JobContext) -> dict:
    """The full card of a model given by name or path."""
    from ..runners import resolve_model_path

    path = resolve_model_path(ctx.params["model"], ctx.params["folder"])
    return {"path": str(path), "card": read_card(path).to_dict()}


def read_card(path: Path) -> ModelCard:
    """The card stored in a ``.onnx`` file's metadata or a ``.pt`` checkpoint, without building a session."""
    try:
        if path.suffix == ".onnx":
            import onnx

            metadata = {prop.key: prop.value for prop in onnx.load(str(path), load_external_data=False).metadata_props}
            if ONNX_METADATA_KEY not in metadata:
                raise CardMismatchError(f"{path.name} has no LandFuse model card (metadata key {ONNX_METADATA_KEY!r})")
            return ModelCard.from_json(metadata[ONNX_METADATA_KEY])
        import torch

        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(checkpoint, dict) or "card" not in checkpoint:
            raise CardMismatchError(f"{path.name} holds no LandFuse model card: save checkpoints with LandFuse")
        return ModelCard.from_dict(checkpoint["card"])
    except CardError as exc:
        raise CardMismatchError(f"the model card inside {path.name} is invalid: {exc}") from exc
    except (OSError, RuntimeError, ValueError) as exc:
        raise UnreadableInputError(f"{path.name} could not be read as a model file: {exc}") from exc


def warm_runner(ctx: JobContext, model: str, folder: str | None, device: str):
    """The runner for ``model`` on ``device``, kept warm in the worker's cache between jobs."""
    from ..runners import load_runner, resolve_model_path

    path = resolve_model_path(model, folder).resolve()
    return ctx.cache.get_or_load(("runner", str(path), device), lambda: load_runner(path, device), path.stat().st_size)


def warm_language_model(ctx: JobContext, path: str | None):
    """The language model (``None``: the default SmolLM2), kept warm in the worker's cache."""
    from ..explain import LanguageModel, default_model_path

    model_path = Path(path) if path else default_model_path()
    size = model_path.stat().st_size if model_path.is_file() else 0
    return ctx.cache.get_or_load(("language_model", str(model_path)), lambda: LanguageModel.load(model_path), size)


# -- classify ------------------------------------------------------------------------------------

CLASSIFY_OPTIONS = {
    "tile_size": Param(int),
    "overlap": Param(int),
    "batch_size": Param(int, default=4),
    "device": Param(str, default="auto"),
    "target_crs": Param(str),
    "resolution": Param((float, list), items=float),
    "extent": Param(list, items=float),
    "sar_unit": Param(str, default="auto"),
    "low_confidence_threshold": Param(float, default=0.5),
}
CLASSIFY_PARAMS = {
    "optical": Param(str),
    "sar": Param(str),
    "optical_bands": Param(list, items=int),
    "sar_bands": Param(list, items=int),
    "model": Param(str, required=True),
    "folder": Param(str),
    "output": Param(str, required=True),
    "confidence": Param(str),
    "reconstruction": Param(str),
    "report": Param(str),
    "explanation": Param(str),
    "llm_path": Param(str),
    "explanation_attempts": Param(int, default=3),
    "options": Param(dict, fields=CLASSIFY_OPTIONS),
}


# Request parameter -> key of the engine report's "outputs".
ENGINE_OUTPUT_KEYS = {
    "output": "class_map",
    "confidence": "confidence",
    "reconstruction": "reconstruction",
    "report": "report",
}


def classify(ctx: JobContext) -> dict:
    """Classify a raster pair (``backend.engine.classify``); optionally explain the result.

    Result: ``{"outputs": {param name: absolute path or null}, "device": str, "report": report dict,
    "explanation": text or null}``.
    """
    from ..engine import CancelToken, classify

    params = ctx.params
    options = _classify_options(params["options"])
    runner = warm_runner(ctx, params["model"], params["folder"], options.device)
    token = CancelToken()
    ctx.on_cancel(token.cancel)
    share = CLASSIFY_SHARE_WITH_EXPLANATION if params["explanation"] else 1.0
    report = classify(
        params["optical"],
        params["sar"],
        runner,
        params["output"],
        optical_bands=params["optical_bands"],
        sar_bands=params["sar_bands"],
        options=options,
        confidence=params["confidence"],
        reconstruction=params["reconstruction"],
        report=params["report"],
        progress=lambda fraction, message: ctx.progress(share * fraction, message),
        cancel=token,
    )
    outputs = {name: report["outputs"].get(key) for name, key in ENGINE_OUTPUT_KEYS.items()}
    outputs["explanation"] = text = None
    if params["explanation"]:
        ctx.check_cancelled()
        ctx.progress(share, "writing the explanation")
        attempts = params["explanation_attempts"]
        text = _write_explanation(ctx, report, None, params["explanation"], params["llm_path"], attempts)["text"]
        outputs["explanation"] = str(Path(params["explanation"]).resolve())
    return {"outputs": outputs, "device": report.get("device"), "report": report, "explanation": text}


def _classify_options(raw: dict):
    from ..engine import ClassifyOptions

    if raw["device"] not in DEVICES:
        raise BadParamsError(f"classify: options.device must be one of {list(DEVICES)}, got {raw['device']!r}")
    resolution = raw["resolution"]
    if isinstance(resolution, list):
        if len(resolution) != 2:
            raise BadParamsError(f"classify: options.resolution must be x or [x, y], got {resolution}")
        resolution = tuple(resolution)
    if raw["extent"] is not None and len(raw["extent"]) != 4:
        raise BadParamsError(f"classify: options.extent must be [xmin, ymin, xmax, ymax], got {raw['extent']}")
    return ClassifyOptions(
        tile_size=raw["tile_size"],
        overlap=raw["overlap"],
        batch_size=raw["batch_size"],
        device=raw["device"],
        target_crs=raw["target_crs"],
        resolution=resolution,
        extent=tuple(raw["extent"]) if raw["extent"] else None,
        sar_unit=raw["sar_unit"],
        low_confidence_threshold=raw["low_confidence_threshold"],
    )


# -- explain -------------------------------------------------------------------------------------

EXPLAIN_PARAMS = {
    "report": Param(str, required=True),
    "metrics": Param(str),
    "output": Param(str),
    "llm_path": Param(str),
    "attempts": Param(int, default=3),
}


def explain(ctx: JobContext) -> dict:
    """Explain a report JSON file. Result: ``{"output", "text", "markdown", "record"}``."""
    params = ctx.params
    ctx.progress(0.0, "reading the report")
    report = read_json_object(params["report"], "report")
    metrics = read_json_object(params["metrics"], "metrics") if params["metrics"] else None
    ctx.check_cancelled()
    explanation = _write_explanation(ctx, report, metrics, params["output"], params["llm_path"], params["attempts"])
    ctx.progress(1.0, "done")
    return {"output": params["output"], **explanation}


def _write_explanation(
    ctx: JobContext, report: dict, metrics: dict | None, output: str | None, llm_path: str | None, attempts: int
) -> dict:
    """Explain ``report`` with the warm language model (up to ``attempts`` tries before the template)."""
    from ..explain import LanguageModelError, explain_report

    try:
        llm = warm_language_model(ctx, llm_path)
    except LanguageModelError:
        if llm_path:  # a model the user configured must load; the default may be absent (template text)
            raise
        llm = None
    explanation = explain_report(report, metrics=metrics, llm=llm, max_attempts=attempts)
    with staged({"output": output}) as temporary:
        explanation.save(md_path=temporary["output"])
    return {"text": explanation.text, "markdown": explanation.markdown, "record": explanation.record}


# -- evaluate ------------------------------------------------------------------------------------

EVALUATE_PARAMS = {
    "class_map": Param(str, required=True),
    "reference": Param(str, required=True),
    "classes": Param(str),
    "reference_codes": Param(str),
    "cloud_mask": Param(str),
    "output": Param(str),
    "plot": Param(str),
}


def evaluate(ctx: JobContext) -> dict:
    """Score a class map against reference labels. Result: ``{"output", "plot", "metrics"}``."""
    from ..evaluation import evaluate_rasters

    params = ctx.params
    ctx.progress(0.0, "reading the class map and the reference")
    with staged({"output": params["output"], "plot": params["plot"]}) as temporary:
        metrics = evaluate_rasters(
            params["class_map"],
            params["reference"],
            classes=params["classes"],
            reference_codes=params["reference_codes"],
            cloud_mask=params["cloud_mask"],
            output=temporary["output"],
            plot=temporary["plot"],
        )
        ctx.check_cancelled()
    ctx.progress(1.0, "done")
    return {"output": params["output"], "plot": params["plot"], "metrics": metrics}


def build_operations(debug_ops: bool) -> dict[str, Operation]:
    """The operation table the server routes job requests to."""
    operations = {
        "list_models": Operation({"folder": Param(str)}, list_models, "light"),
        "model_card": Operation({"model": Param(str, required=True), "folder": Param(str)}, model_card, "light"),
        "classify": Operation(CLASSIFY_PARAMS, classify, "heavy"),
        "explain": Operation(EXPLAIN_PARAMS, explain, "heavy"),
        "evaluate": Operation(EVALUATE_PARAMS, evaluate, "heavy"),
    }
    if debug_ops:
        from .debug import DEBUG_OPERATION

        operations["debug"] = DEBUG_OPERATION
    return operations
