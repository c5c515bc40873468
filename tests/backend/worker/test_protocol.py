"""The worker process speaks the protocol: handshake, control operations, bad input, queueing, cancel."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from landfuse.common.protocol import PROTOCOL_VERSION, ErrorCode, temporary_path
from tests.backend.worker.helpers import RawWorker


@pytest.fixture(scope="module")
def worker():
    process = RawWorker()
    yield process
    process.close()


def test_hello_reports_protocol_versions_and_devices(worker):
    hello = worker.hello
    assert hello["id"] is None
    assert hello["protocol"] == PROTOCOL_VERSION
    assert hello["versions"]["onnxruntime"] and hello["versions"]["torch"]
    devices = hello["devices"]
    assert "CPUExecutionProvider" in devices["onnxruntime"]["providers_listed"]
    assert devices["onnxruntime"]["cuda_usable"] is False or devices["preferred"] != "CPU"
    assert devices["preferred"] == "CPU" or devices["torch"]["gpus"] or devices["onnxruntime"]["cuda_usable"]


def test_ping_and_heartbeats(worker):
    pong = worker.request("p1", "ping")
    assert pong["event"] == "result" and pong["data"]["pong"] is True
    beat = worker.next_event(lambda e: e["event"] == "heartbeat", timeout=5)
    assert beat["id"] is None and beat["time"] > 0


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"not json at all", ErrorCode.BAD_REQUEST),
        (b"[1, 2, 3]", ErrorCode.BAD_REQUEST),
        (b'{"op": "ping"}', ErrorCode.BAD_REQUEST),
        (b"\xff\xfe\x00 binary", ErrorCode.BAD_REQUEST),
        (b'{"id": "x", "op": "ping", "params": {"n": NaN}}', ErrorCode.BAD_REQUEST),
        (b"[" * 100_000, ErrorCode.BAD_REQUEST),
    ],
)
def test_unroutable_lines_get_an_error_without_id(worker, line, code):
    worker.send_line(line)
    error = worker.next_event(lambda e: e["event"] == "error", timeout=10)
    assert (error["id"], error["code"]) == (None, code)
    assert worker.request("alive", "ping")["event"] == "result"


@pytest.mark.parametrize(
    ("request_line", "code", "words"),
    [
        ({"id": "u1", "op": "teleport"}, ErrorCode.UNKNOWN_OP, "classify"),
        ({"id": "u2", "op": 42}, ErrorCode.BAD_REQUEST, "op"),
        ({"id": "u3", "op": "cancel", "params": {"target": 5}}, ErrorCode.BAD_PARAMS, "must be a string"),
        ({"id": "u4", "op": "cancel", "params": {}}, ErrorCode.BAD_PARAMS, "required"),
        ({"id": "u5", "op": "ping", "params": {"colour": "red"}}, ErrorCode.BAD_PARAMS, "unknown parameter"),
        ({"id": "u6", "op": "model_card", "params": "cloudseg"}, ErrorCode.BAD_PARAMS, "JSON object"),
        ({"id": "u7", "op": "debug", "params": {"action": "sleep", "steps": True}}, ErrorCode.BAD_PARAMS, "integer"),
        ({"id": "u8", "op": "debug", "params": {"action": "sleep", "output": 3}}, ErrorCode.BAD_PARAMS, "string"),
        (
            {
                "id": "u10",
                "op": "classify",
                "params": {"model": "m", "output": "o.tif", "options": {"tile_size": "big"}},
            },
            ErrorCode.BAD_PARAMS,
            "options",
        ),
        ({"id": "u9", "op": "model_card", "params": {"model": "no-such"}}, ErrorCode.MODEL_NOT_FOUND, "known models"),
    ],
)
def test_bad_requests_get_a_coded_error_and_the_worker_keeps_serving(worker, request_line, code, words):
    worker.send_line(json.dumps(request_line).encode())
    error = worker.final(request_line["id"])
    assert error["event"] == "error" and error["code"] == code
    assert words in error["message"]
    assert worker.request("alive", "ping")["data"]["pong"] is True


def test_heavy_jobs_queue_and_run_one_after_the_other(worker, tmp_path):
    outputs = [tmp_path / f"job{i}.txt" for i in range(2)]
    for index, output in enumerate(outputs):
        worker.send(f"q{index}", "debug", action="sleep", steps=3, step_seconds=0.05, output=str(output))
    worker.next_event(lambda e: e["id"] == "q0" and e["event"] == "progress")
    pong = worker.request("q-ping", "ping")  # control requests are answered while jobs run
    assert pong["data"]["busy"] == "q0" and pong["data"]["queued"] == ["q1"]
    finals = [worker.final("q0"), worker.final("q1")]
    log = worker.next_event(lambda e: e["event"] == "log" and e["id"] == "q1")  # the job's log records
    assert log["level"] == "info" and "3 steps" in log["message"]
    assert [final["event"] for final in finals] == ["result", "result"]
    assert all(output.read_text().count("step") == 3 for output in outputs)


def test_cancel_running_and_queued_jobs_leaves_no_files(worker, tmp_path):
    running, queued = tmp_path / "running.txt", tmp_path / "queued.txt"
    worker.send("c1", "debug", action="sleep", steps=600, step_seconds=0.05, output=str(running))  # 30 s
    worker.send("c2", "debug", action="sleep", steps=2, output=str(queued))
    worker.next_event(lambda e: e["id"] == "c1" and e["event"] == "progress")
    assert temporary_path(running, worker.hello["pid"]).exists()
    assert worker.request("x2", "cancel", target="c2")["data"]["state"] == "queued"
    assert worker.final("c2")["code"] == ErrorCode.CANCELLED
    assert worker.request("x1", "cancel", target="c1")["data"]["state"] == "running"
    assert worker.final("c1")["code"] == ErrorCode.CANCELLED
    assert worker.request("x3", "cancel", target="c1")["data"]["state"] == "unknown"
    assert list(tmp_path.iterdir()) == []


def test_diagnostics_and_clear_cache(worker):
    report = worker.request("d1", "diagnostics")["data"]
    assert report["interpreter"] == sys.executable
    assert report["versions"]["numpy"] and "devices" in report and "paths" in report
    assert any(error["code"] == ErrorCode.UNKNOWN_OP for error in report["last_errors"])
    assert worker.request("d2", "clear_cache")["data"] == {"dropped": []}


def test_library_prints_cannot_corrupt_the_protocol_stream():
    script = (
        "import os, sys\n"
        "from landfuse.backend.worker.channel import claim_stdio\n"
        "requests, writer = claim_stdio()\n"
        "print('a library talking')\n"
        "os.write(1, b'native code talking\\n')\n"
        "writer.send({'event': 'result', 'id': '1', 'data': float('nan')})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60, check=True)
    assert done.stdout == b'{"event":"result","id":"1","data":null}\n'
    assert b"a library talking" in done.stderr and b"native code talking" in done.stderr


def test_shutdown_cancels_running_jobs_answers_then_exits(tmp_path):
    process = RawWorker()
    process.send("long", "debug", action="sleep", steps=600, step_seconds=0.05, output=str(tmp_path / "x.txt"))
    process.next_event(lambda e: e["id"] == "long" and e["event"] == "progress")
    process.send("bye", "shutdown")
    assert process.final("long")["code"] == ErrorCode.CANCELLED
    assert process.final("bye")["data"] == {"bye": True}
    assert process.process.wait(15) == 0
    assert list(tmp_path.iterdir()) == []
