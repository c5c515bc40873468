"""Parameter checking and the warm cache's memory limit."""

from __future__ import annotations

import pytest

from landfuse.backend.errors import BadParamsError
from landfuse.backend.worker.cache import WarmCache
from landfuse.backend.worker.operations import CLASSIFY_PARAMS
from landfuse.backend.worker.params import Param, validate

TABLE = {
    "name": Param(str, required=True),
    "count": Param(int, default=3),
    "scale": Param(float),
    "bands": Param(list, items=int),
    "resolution": Param((float, list), items=float),
    "options": Param(dict, fields={"device": Param(str, default="auto")}),
}


def test_defaults_are_filled_and_integers_count_as_numbers():
    checked = validate("op", {"name": "a", "scale": 2, "resolution": [10, 20.5]}, TABLE)
    assert checked == {
        "name": "a",
        "count": 3,
        "scale": 2.0,
        "bands": None,
        "resolution": [10, 20.5],
        "options": {"device": "auto"},
    }
    assert isinstance(checked["scale"], float)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({}, "'name' is required (a string)"),
        ({"name": "a", "count": True}, "'count' must be an integer, got a boolean"),
        ({"name": "a", "count": 2.5}, "'count' must be an integer, got a number"),
        ({"name": "a", "bands": [1, "2"]}, "'bands' must be a list of integers"),
        ({"name": "a", "resolution": "10"}, "'resolution' must be a number or a list of numbers, got a string"),
        ({"name": "a", "options": {"device": 1}}, "op options: parameter 'device' must be a string"),
        ({"name": "a", "options": {"gpu": True}}, "op options: unknown parameter(s) ['gpu']"),
        ({"name": "a", "colour": "red"}, "unknown parameter(s) ['colour']"),
        (["name"], "'params' must be a JSON object, got list"),
    ],
)
def test_wrong_parameters_are_named_in_the_error(params, words):
    with pytest.raises(BadParamsError) as error:
        validate("op", params, TABLE)
    assert words in str(error.value)


def test_classify_table_accepts_what_the_plugin_sends():
    request = {
        "optical": "o.tif",
        "optical_bands": [1, 2, 3],
        "sar": "s.tif",
        "sar_bands": None,
        "model": "cloudseg-lite",
        "output": "lc.tif",
        "confidence": None,
        "report": "r.json",
        "options": {"device": "auto", "tile_size": 256, "resolution": 10.0, "extent": [0, 0, 100, 100]},
    }
    checked = validate("classify", request, CLASSIFY_PARAMS)
    assert checked["options"]["batch_size"] == 4 and checked["options"]["extent"] == [0, 0, 100, 100]


def test_cache_keeps_recent_entries_under_its_limit():
    cache = WarmCache(limit_bytes=100)
    loads = []

    def loader(name):
        return lambda: loads.append(name) or name

    assert cache.get_or_load("a", loader("a"), 60) == "a"
    assert cache.get_or_load("a", loader("a"), 60) == "a"  # warm: not loaded again
    cache.get_or_load("b", loader("b"), 30)
    cache.get_or_load("a", loader("a"), 60)  # a becomes the most recent
    cache.get_or_load("c", loader("c"), 40)  # 130 > 100: b, the least recent, goes
    assert cache.summary()["entries"] == ["a", "c"] and cache.used_bytes == 100
    assert cache.get_or_load("huge", loader("huge"), 1000) == "huge"  # used once, not kept
    assert "huge" not in cache.summary()["entries"]
    assert loads == ["a", "b", "c", "huge"]
    assert cache.clear() == ["a", "c"] and cache.used_bytes == 0
