"""Reading the JSON files users hand to the backend (reports, metrics), with errors they can act on."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import UnreadableInputError


def read_json_object(path: str | Path, what: str) -> dict:
    """The JSON object in ``path``; ``what`` names it in the error (e.g. "report")."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnreadableInputError(f"the {what} {Path(path).name!r} could not be read as JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UnreadableInputError(f"the {what} {Path(path).name!r} is not a JSON object")
    return data
