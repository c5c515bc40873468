"""Checking a request's ``params`` against an operation's parameter table.

Every wrong name, missing value or wrong type becomes a ``BadParamsError`` (code ``BAD_PARAMS``)
that names the parameter, the expected type and what was received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadParamsError

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "an object"}


@dataclass(frozen=True)
class Param:
    """One parameter: JSON type, whether it is required, its default, and for lists the item type.

    ``kind`` is ``str``, ``int``, ``float`` (integers accepted), ``bool``, ``dict`` or ``list``, or a
    tuple of these when several are accepted (e.g. ``(float, list)`` for "x or [x, y]").
    ``fields`` is the parameter table of a dict parameter (checked the same way, recursively).
    """

    kind: type | tuple[type, ...]
    required: bool = False
    default: Any = None
    items: type | tuple[type, ...] | None = None
    fields: dict[str, Param] | None = None


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    if isinstance(kind, tuple):
        return any(_is(value, one) for one in kind)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _describe(kind: type | tuple[type, ...], items: type | tuple[type, ...] | None = None) -> str:
    if isinstance(kind, tuple):
        return " or ".join(_describe(one, items) for one in kind)
    if kind is list:
        if not items:
            return "a list"
        names = [_describe(one).split(" ", 1)[1] for one in (items if isinstance(items, tuple) else (items,))]
        return f"a list of {' or '.join(names)}s"
    return _TYPE_NAMES[kind]


def validate(op: str, params: Any, table: dict[str, Param]) -> dict[str, Any]:
    """``params`` checked against ``table``, with defaults filled in. Raises ``BadParamsError``."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise BadParamsError(f"{op}: 'params' must be a JSON object, got {type(params).__name__}")
    unknown = sorted(set(params) - set(table))
    if unknown:
        raise BadParamsError(f"{op}: unknown parameter(s) {unknown}; valid: {sorted(table)}")
    checked: dict[str, Any] = {}
    for name, spec in table.items():
        value = params.get(name)
        if value is None:
            if spec.required:
                raise BadParamsError(f"{op}: parameter '{name}' is required ({_describe(spec.kind, spec.items)})")
            checked[name] = validate(f"{op} {name}", {}, spec.fields) if spec.fields is not None else spec.default
            continue
        if not _is(value, spec.kind):
            raise BadParamsError(
                f"{op}: parameter '{name}' must be {_describe(spec.kind, spec.items)}, got {_json_type(value)}"
            )
        if isinstance(value, list) and spec.items and not all(_is(item, spec.items) for item in value):
            raise BadParamsError(f"{op}: parameter '{name}' must be {_describe(list, spec.items)}, got {value!r:.200}")
        if spec.fields is not None:
            value = validate(f"{op} {name}", value, spec.fields)
        checked[name] = float(value) if spec.kind is float else value
    return checked


def _json_type(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)
