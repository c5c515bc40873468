"""The worker's job operations: parameter tables and the functions that run them.

Backend modules (engine, explanations, evaluation) are imported inside each function, so the
worker starts fast and an operation whose dependencies are broken fails alone with a clear error.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelNotFoundError
from .jobs import JobContext, Operation
from .params import Param

MODELS_DIR = Path(__file__).resolve().parent.parent.parent / "resources" / "models"
MODEL_SUFFIXES = (".onnx", ".pt")


def list_models(ctx: JobContext) -> dict:
    """Model files in the demo folder and the user's folder, each with a short card summary."""
    folders = [MODELS_DIR] + ([Path(ctx.params["folder"])] if ctx.params["folder"] else [])
    models, problems = [], []
    for folder in folders:
        for path in sorted(folder.glob("*")) if folder.is_dir() else ():
            if path.suffix not in MODEL_SUFFIXES:
                continue
            try:
                card = _read_card(path)
            except Exception as exc:  # one broken file must not hide the others
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
    path = resolve_model_path(ctx.params["model"], ctx.params["folder"])
    return {"path": str(path), "card": _read_card(path).to_dict()}


def resolve_model_path(spec: str, folder: str | None = None) -> Path:
    """A model file from a path, or a name looked up in the user's folder then the demo folder."""
    path = Path(spec)
    if path.suffix in MODEL_SUFFIXES and path.is_file():
        return path
    folders = ([Path(folder)] if folder else []) + [MODELS_DIR]
    for candidate in (base / f"{spec}{suffix}" for base in folders for suffix in MODEL_SUFFIXES):
        if candidate.is_file():
            return candidate
    raise ModelNotFoundError(
        f"no model {spec!r}: expected a .onnx/.pt file or a model name in {[str(f) for f in folders]}; "
        "use list_models to see the installed ones"
    )


def _read_card(path: Path):
    from ..runners import read_card

    return read_card(path)


def build_operations(debug_ops: bool) -> dict[str, Operation]:
    """The operation table the server routes job requests to."""
    folder = Param(str)
    operations = {
        "list_models": Operation({"folder": folder}, list_models, "light"),
        "model_card": Operation({"model": Param(str, required=True), "folder": folder}, model_card, "light"),
    }
    if debug_ops:
        from .debug import DEBUG_OPERATION

        operations["debug"] = DEBUG_OPERATION
    return operations
