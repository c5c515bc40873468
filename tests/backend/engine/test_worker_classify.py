"""The worker's classify job is all or nothing: its checks run before any classification work, and the
engine's outputs and the explanation are committed together or not at all."""

import pytest

from landfuse.backend.errors import LandFuseError
from landfuse.backend.worker.cache import WarmCache
from landfuse.backend.worker.jobs import JobContext
from landfuse.backend.worker.operations import CLASSIFY_PARAMS
from landfuse.backend.worker.operations import classify as classify_job
from landfuse.backend.worker.params import validate
from tests.backend.worker.helpers import write_tiny_llama


@pytest.fixture(scope="module")
def tiny_llm(tmp_path_factory):
    return write_tiny_llama(tmp_path_factory.mktemp("llm") / "tiny.gguf")


class Job:
    """A classify job run in this process, with its events; ``cancel_on`` cancels it at that progress message."""

    def __init__(self, cancel_on: str | None = None, **params) -> None:
        self.events: list[dict] = []
        self.cancel_on = cancel_on
        checked = validate("classify", {"options": {"tile_size": 64}, **params}, CLASSIFY_PARAMS)
        self.context = JobContext("1", checked, self._send, WarmCache(2**30))

    def _send(self, event: dict) -> None:
        self.events.append(event)
        if self.cancel_on is not None and event.get("message") == self.cancel_on:
            self.context.cancel()

    def run(self) -> dict:
        return classify_job(self.context)

    def error(self) -> LandFuseError:
        with pytest.raises(LandFuseError) as info:
            self.run()
        return info.value

    @property
    def classified(self) -> bool:
        """Whether any window was classified."""
        return any(event.get("message", "").startswith("window") for event in self.events)


def params(scene, tiny_onnx, out, **extra) -> dict:
    return {
        "optical": str(scene[0]),
        "sar": str(scene[1]),
        "model": str(tiny_onnx),
        "output": str(out / "map.tif"),
        "confidence": str(out / "confidence.tif"),
        "report": str(out / "report.json"),
        **extra,
    }


def test_outputs_and_explanation_appear_together(scene, tiny_onnx, tiny_llm, tmp_path):
    explanation = tmp_path / "notes" / "explanation.md"  # its folder is created
    result = Job(**params(scene, tiny_onnx, tmp_path, explanation=str(explanation), llm_path=str(tiny_llm))).run()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "confidence.qml",
        "confidence.tif",
        "map.qml",
        "map.tif",
        "map.tif.aux.xml",
        "notes",
        "report.json",
    ]
    assert result["outputs"]["explanation"] == str(explanation) and explanation.read_text().strip()
    assert result["explanation"] and result["explanation"] in explanation.read_text()


def test_a_language_model_that_cannot_load_fails_before_classifying(scene, tiny_onnx, tmp_path):
    missing = tmp_path / "missing.gguf"
    job = Job(**params(scene, tiny_onnx, tmp_path, explanation=str(tmp_path / "e.md"), llm_path=str(missing)))
    assert job.error().code == "LLM_UNAVAILABLE"
    assert not job.classified and job.context.cache.summary()["entries"] == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("collides_with", ["class map", "class map style", "optical input"])
def test_an_explanation_path_that_collides_is_refused_first(scene, tiny_onnx, tmp_path, collides_with):
    target = {"class map": tmp_path / "map.tif", "class map style": tmp_path / "map.qml", "optical input": scene[0]}
    before = scene[0].read_bytes()
    job = Job(**params(scene, tiny_onnx, tmp_path, explanation=str(target[collides_with])))
    error = job.error()
    assert error.code == "BAD_PARAMS" and collides_with in str(error)
    assert not job.classified and job.context.cache.summary()["entries"] == []
    assert list(tmp_path.iterdir()) == [] and scene[0].read_bytes() == before


def test_a_cancel_between_classification_and_explanation_leaves_nothing(scene, tiny_onnx, tiny_llm, tmp_path):
    (tmp_path / "map.tif").write_bytes(b"previous map")
    job = Job(
        cancel_on="done",  # the engine's last progress message: its outputs are staged, not yet committed
        **params(scene, tiny_onnx, tmp_path, explanation=str(tmp_path / "e.md"), llm_path=str(tiny_llm)),
    )
    assert job.error().code == "CANCELLED"
    assert job.classified
    assert [p.name for p in tmp_path.iterdir()] == ["map.tif"]
    assert (tmp_path / "map.tif").read_bytes() == b"previous map"
