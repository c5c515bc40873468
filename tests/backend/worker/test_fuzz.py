"""Random request lines never stop the worker: each gets error events or results, and it keeps serving."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landfuse.common.protocol import EVENTS, OPS
from tests.backend.worker.helpers import RawWorker

PARAM_NAMES = ["model", "output", "report", "target", "folder", "options", "optical", "class_map", "tile_size"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
requests = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(min_size=1, max_size=12), st.integers(), st.none()),
        "op": st.one_of(st.sampled_from([op for op in OPS if op != "shutdown"]), st.text(max_size=12), st.integers()),
    },
    optional={
        "params": st.one_of(
            st.dictionaries(st.sampled_from(PARAM_NAMES) | st.text(max_size=8), json_values, max_size=4), json_values
        )
    },
)
lines = st.one_of(
    st.binary(max_size=200).map(lambda raw: raw.replace(b"\n", b" ")),
    st.text(max_size=200).map(lambda text: text.replace("\n", " ").encode("utf-8", "surrogatepass")),
    json_values.map(lambda value: json.dumps(value).encode()),
    requests.map(lambda request: json.dumps(request).encode()),
)


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    process = RawWorker(debug_ops=False, cwd=tmp_path_factory.mktemp("fuzz-cwd"))
    yield process
    process.close()


pings = itertools.count()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=lines)
def test_random_lines_get_answers_and_the_worker_keeps_serving(worker, line):
    worker.send_line(line)
    ping_id = f"fuzz-ping-{next(pings)}"
    worker.send(ping_id, "ping")
    assert worker.final(ping_id, timeout=20)["data"]["pong"] is True
    request_id = _routable_id(line)
    if request_id is not None:  # exactly the request's own final event
        final = worker.final(request_id, timeout=20)
        assert final["event"] == "result" or final["code"] and final["message"]
    elif _text(line) is None or _text(line).strip():  # an unroutable line: an error without id
        assert worker.next_event(lambda e: e["event"] == "error" and e["id"] is None, timeout=20)["code"]
    assert worker.process.poll() is None
    worker.backlog.clear()
    assert all(json.loads(raw)["event"] in EVENTS for raw in worker.raw_lines)


def _routable_id(line: bytes) -> str | None:
    """The id the worker must answer for ``line``, or ``None`` when the line cannot be routed."""
    try:
        message = json.loads(_text(line), parse_constant=_refuse)  # NaN/Infinity: refused like the worker
    except (TypeError, ValueError, RecursionError):
        return None
    request_id = message.get("id") if isinstance(message, dict) else None
    return request_id if isinstance(request_id, str) and 0 < len(request_id) <= 200 else None


def _text(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _refuse(constant: str) -> None:
    raise ValueError(constant)
