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

    ``kind`` is ``str``, ``int``, ``float`` (integers accepted), ``bool``, ``dict`` or ``list``.
    ``paths`` marks a dict of role -> file path (string or null); ``keys`` restricts its roles.
    """

    kind: type
    required: bool = False
    default: Any = None
    items: type | None = None
    paths: bool = False
    keys: tuple[str, ...] | None = None


def _is(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _describe(kind: type, items: type | None = None) -> str:
    if kind is list:
        return f"a list of {_describe(items).split(' ', 1)[1]}s" if items else "a list"
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
            checked[name] = spec.default
            continue
        if not _is(value, spec.kind):
            raise BadParamsError(
                f"{op}: parameter '{name}' must be {_describe(spec.kind, spec.items)}, got {_json_type(value)}"
            )
        if spec.kind is list and spec.items and not all(_is(item, spec.items) for item in value):
            raise BadParamsError(f"{op}: parameter '{name}' must be {_describe(list, spec.items)}, got {value!r:.200}")
        if spec.paths:
            _check_paths(op, name, value, spec.keys)
        checked[name] = float(value) if spec.kind is float else value
    return checked


def _check_paths(op: str, name: str, value: dict, keys: tuple[str, ...] | None) -> None:
    unknown = sorted(set(value) - set(keys)) if keys is not None else []
    if unknown:
        raise BadParamsError(f"{op}: '{name}' has unknown key(s) {unknown}; valid: {list(keys)}")
    for key, item in value.items():
        if item is not None and not isinstance(item, str):
            raise BadParamsError(f"{op}: '{name}.{key}' must be a file path (string) or null, got {_json_type(item)}")


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
