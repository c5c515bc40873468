"""The worker with real inputs: broken model files, slow model loads, cancel during an explanation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from landfuse.common.protocol import ErrorCode
from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module
from tests.backend.explain.reports import FOREST_SCENE, make_report
from tests.backend.worker.helpers import RawWorker


@pytest.fixture(scope="module")
def worker():
    process = RawWorker()
    yield process
    process.close()


def test_broken_model_files_are_listed_as_problems_next_to_the_good_model(worker, tmp_path):
    torch = pytest.importorskip("torch")
    card = tiny_card()
    good = export_onnx(tiny_module(card), card, tmp_path / "good.onnx")
    (tmp_path / "truncated.onnx").write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    (tmp_path / "garbage.onnx").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "empty.pt").write_bytes(b"")
    torch.save({"state_dict": {"weight": torch.zeros(4)}}, tmp_path / "no-card.pt")
    (tmp_path / "notes.txt").write_text("not a model file name: ignored")
    data = worker.request("models", "list_models", folder=str(tmp_path))["data"]
    names = [model["name"] for model in data["models"]]
    assert "good" in names and "edc-lite" in names  # the user's model and the bundled ones
    assert not {"truncated", "garbage", "empty", "no-card"} & set(names)
    problems = {Path(problem["path"]).name: problem for problem in data["problems"]}
    assert sorted(problems) == ["empty.pt", "garbage.onnx", "no-card.pt", "truncated.onnx"]
    assert problems["empty.pt"]["code"] == ErrorCode.UNREADABLE and "empty file" in problems["empty.pt"]["error"]
    assert problems["no-card.pt"]["code"] == ErrorCode.CARD_MISMATCH
    assert "runs past the end of the file" in problems["truncated.onnx"]["error"]
    assert all(name in problem["error"] for name, problem in problems.items())
    missing = worker.request("missing", "list_models", folder=str(tmp_path / "no-such-folder"))["data"]
    assert [problem["path"] for problem in missing["problems"]] == [str(tmp_path / "no-such-folder")]
    assert "edc-lite" in [model["name"] for model in missing["models"]]


def test_ping_list_models_and_cancel_are_answered_while_a_model_loads(worker, tmp_path):
    output = tmp_path / "after-load.txt"
    worker.send("slow", "debug", action="sleep", steps=5, step_seconds=0.01, load_seconds=5, output=str(output))
    started = worker.next_event(lambda e: e["id"] == "slow" and e["event"] == "log" and "debug load" in e["message"])
    assert started["level"] == "info"
    order = []  # final events in the order they arrive
    for request_id, op, params in (("p", "ping", {}), ("m", "list_models", {}), ("c", "cancel", {"target": "slow"})):
        worker.send(request_id, op, **params)
        ends = (request_id, "slow")
        final = worker.next_event(lambda e, ends=ends: e["id"] in ends and e["event"] in ("result", "error"))
        order.append(final["id"])
        if final["id"] == "p":
            assert final["data"]["busy"] == "slow" and final["data"]["cache"]["entries"] == []
        if final["id"] == "c":
            assert final["data"]["state"] == "running"
    assert order == ["p", "m", "c"]  # all answered before the load ended
    final = worker.final("slow")
    assert final["code"] == ErrorCode.CANCELLED
    progress = [e for e in worker.backlog if e["id"] == "slow" and e["event"] == "progress"]
    assert progress == []  # the job stopped when the load returned, before its first step
    assert list(tmp_path.iterdir()) == []


def test_cancel_during_an_explanation_by_the_real_language_model(worker, tmp_path):
    from landfuse.backend.explain.model import smollm2_model_path

    llm = str(smollm2_model_path())  # the real SmolLM2-135M-Instruct GGUF
    report = tmp_path / "report.json"
    report.write_text(json.dumps(make_report(FOREST_SCENE)))
    output = tmp_path / "explanation.md"
    worker.send("explain", "explain", report=str(report), output=str(output), llm_path=llm, attempts=3)
    generating = False
    while not generating:  # the model is warm (loaded) and the job still runs: it is generating
        pong = worker.request("poll", "ping")["data"]
        assert "explain" in [pong["busy"], *pong["queued"]], "the explanation ended before it could be cancelled"
        generating = any(llm in entry for entry in pong["cache"]["entries"])
    assert worker.request("cancel-explain", "cancel", target="explain")["data"]["state"] == "running"
    final = worker.final("explain", timeout=60)
    assert final["event"] == "error" and final["code"] == ErrorCode.CANCELLED
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.json"]
    assert worker.request("alive", "ping")["data"]["busy"] is None
