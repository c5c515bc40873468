"""The worker's job operations: parameter tables and the functions that run them.

Backend modules (engine, explanations, evaluation) are imported inside each function, so the
worker starts fast and an operation whose dependencies are broken fails alone with a clear error.
Band indexes are 1-based, as everywhere users see them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ...common.protocol import ErrorCode
from ..errors import BadParamsError, LandFuseError
from ..jsonfile import read_json_object
from .jobs import JobContext, Operation
from .params import Param
from .staging import staged

log = logging.getLogger(__name__)
DEVICES = ("auto", "cpu", "cuda")
# Share of a classify job's progress bar given to the engine when an explanation follows it.
CLASSIFY_SHARE_WITH_EXPLANATION = 0.9

# -- models --------------------------------------------------------------------------------------


def list_models(ctx: JobContext) -> dict:
    """Model files in the user's folder and the bundled folder, each with a short card summary.

    A file that is not a readable model (empty, truncated, another format, no card) and a folder that
    cannot be listed become ``problems`` entries (``path``, ``code``, ``error``); they never fail the list.
    Only each file's card is read, never its weights.
    """
    from ..runners import model_search_dirs, read_model_card

    folders = model_search_dirs(ctx.params["folder"])
    models, problems = [], []
    for folder in folders:
        for path in _model_files(folder, problems):
            try:
                card = read_model_card(path)
            except LandFuseError as exc:
                problems.append({"path": str(path), "code": exc.code, "error": str(exc)})
                continue
            except Exception as exc:  # a bug or an unforeseen file must cost one entry, not the list
                log.exception("could not read the model card of %s", path)
                message = f"{path.name} could not be read as a model file ({type(exc).__name__}: {exc})"
                problems.append({"path": str(path), "code": ErrorCode.UNREADABLE, "error": message})
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


def _model_files(folder: Path, problems: list[dict]) -> list[Path]:
    """The ``.onnx`` and ``.pt`` files in ``folder``, by name; a folder that cannot be listed is a problem."""
    from ..runners import MODEL_SUFFIXES

    try:
        return sorted(path for path in folder.iterdir() if path.suffix in MODEL_SUFFIXES and not path.is_dir())
    except OSError as exc:
        message = f"the models folder {folder} cannot be listed ({exc.strerror or exc}): choose an existing folder"
        problems.append({"path": str(folder), "code": ErrorCode.UNREADABLE, "error": message})
        return []


def model_card(ctx: JobContext) -> dict:
    """The full card of a model given by name or path (read without loading the weights)."""
    from ..runners import read_model_card, resolve_model_path

    path = resolve_model_path(ctx.params["model"], ctx.params["folder"])
    return {"path": str(path), "card": read_model_card(path).to_dict()}


def warm_runner(ctx: JobContext, model: str, folder: str | None, device: str):
    """The runner for ``model`` on ``device``, kept warm in the worker's cache between jobs.

    Loading runs in the job's thread; a job cancelled while its model loads stops when the load returns.
    """
    from ..runners import load_runner, resolve_model_path

    path = resolve_model_path(model, folder).resolve()

    def load():
        ctx.progress(0.0, f"loading the model {path.name}")
        return load_runner(path, device)

    return ctx.load_warm(("runner", str(path), device), load, path.stat().st_size)


def warm_language_model(ctx: JobContext, path: str | None):
    """The language model (``None``: the default Gemma 3 270M), kept warm in the worker's cache.

    The model is returned wrapped so that the job's cancel is honoured before each generation.
    """
    from ..explain import LanguageModel, default_model_path

    model_path = Path(path) if path else default_model_path()
    size = model_path.stat().st_size if model_path.is_file() else 0
    model = ctx.load_warm(("language_model", str(model_path)), lambda: LanguageModel.load(model_path), size)
    return CancellableLanguageModel(model, ctx)


class CancellableLanguageModel:
    """A warm language model as one job sees it: every call into it (rendering a prompt, one attempt's
    generation, describing it for the record) first checks the job's cancel, so a cancelled explanation
    stops as soon as the generation in flight returns, before anything is written."""

    def __init__(self, model, ctx: JobContext) -> None:
        self._model = model
        self._ctx = ctx

    def __getattr__(self, name: str):
        value = getattr(self._model, name)
        if not callable(value):
            return value

        def checked(*args, **kwargs):
            self._ctx.check_cancelled()
            return value(*args, **kwargs)

        return checked


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
    "optical_bands": Param(list, items=(int, str)),
    "sar_bands": Param(list, items=(int, str)),
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

    All or nothing: every path (the explanation's included) is checked and a configured language
    model is loaded before any classification work, and the engine's outputs and the explanation are
    committed together, or none of them on an error or a cancel.
    Result: ``{"outputs": {param name: absolute path or null}, "device": str, "report": report dict,
    "explanation": text or null}``.
    """
    from ..engine import CancelToken, classify
    from ..engine.classify import check_classify_paths
    from ..engine.outputs import StagedFiles, write_text
    from ..runners import resolve_model_path

    params = ctx.params
    options = _classify_options(params["options"])
    explanation_path = params["explanation"]
    engine_outputs = {
        "class map": params["output"],
        "confidence map": params["confidence"],
        "reconstruction": params["reconstruction"],
        "report": params["report"],
    }
    check_classify_paths(
        params["optical"],
        params["sar"],
        resolve_model_path(params["model"], params["folder"]),
        engine_outputs,
        also_reads={"language model": params["llm_path"]},
        also_writes={"explanation": explanation_path},
    )
    files = StagedFiles()
    try:
        explanation_temp = files.stage(explanation_path, "explanation") if explanation_path else None
        if explanation_path and params["llm_path"]:
            warm_language_model(ctx, params["llm_path"])  # a configured model that cannot load fails the job now
        runner = warm_runner(ctx, params["model"], params["folder"], options.device)
        token = CancelToken()
        ctx.on_cancel(token.cancel)
        share = CLASSIFY_SHARE_WITH_EXPLANATION if explanation_path else 1.0
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
            staged_files=files,
        )
        outputs = {name: report["outputs"].get(key) for name, key in ENGINE_OUTPUT_KEYS.items()}
        outputs["explanation"] = text = None
        if explanation_path:
            ctx.check_cancelled()
            ctx.progress(share, "writing the explanation")
            attempts = params["explanation_attempts"]
            explained = _write_explanation(ctx, report, None, None, params["llm_path"], attempts)
            write_text(explanation_temp, explained["markdown"], "explanation")
            text = explained["text"]
            outputs["explanation"] = str(Path(explanation_path).resolve())
        ctx.check_cancelled()
        files.commit()
    except BaseException:
        files.discard()
        raise
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
    from ..explain.regions import with_regions

    try:
        llm = warm_language_model(ctx, llm_path)
    except LanguageModelError:
        if llm_path:  # a model the user configured must load; the default may be absent (template text)
            raise
        llm = None
    explanation = explain_report(with_regions(report), metrics=metrics, llm=llm, max_attempts=attempts)
    ctx.check_cancelled()
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


# Share of an evaluate job's progress bar given to reading the rasters (the rest: metrics and plot).
EVALUATE_READING_SHARE = 0.95


def evaluate(ctx: JobContext) -> dict:
    """Score a class map against reference labels. Result: ``{"output", "plot", "metrics"}``."""
    from ..evaluation import evaluate_rasters

    params = ctx.params
    ctx.progress(0.0, "reading the class map and the reference")

    def progress(done: int, total: int) -> None:
        ctx.progress(EVALUATE_READING_SHARE * done / total, f"scored window {done} of {total}")

    with staged({"output": params["output"], "plot": params["plot"]}) as temporary:
        metrics = evaluate_rasters(
            params["class_map"],
            params["reference"],
            classes=params["classes"],
            reference_codes=params["reference_codes"],
            cloud_mask=params["cloud_mask"],
            output=temporary["output"],
            plot=temporary["plot"],
            progress=progress,
            is_cancelled=lambda: ctx.cancelled,
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
    from .analyst_ops import analyst_operations

    operations.update(analyst_operations())
    if debug_ops:
        from .debug import DEBUG_OPERATION

        operations["debug"] = DEBUG_OPERATION
    return operations
