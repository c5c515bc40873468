"""ONNX Runtime and torch runners: device actually used, card checks, model name resolution."""

import shutil

import numpy as np
import pytest

from landfuse.backend.errors import LandFuseError
from landfuse.backend.runners import OnnxRunner, TorchRunner, load_runner
from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    card = tiny_card()
    module = tiny_module(card)
    return card, module, export_onnx(module, card, tmp_path_factory.mktemp("models") / "tiny-test.onnx")


def inputs(card, size=40, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "optical": rng.normal(size=(2, len(card.optical_bands), size, size)).astype(np.float32),
        "sar": rng.normal(size=(2, len(card.sar_bands), size, size)).astype(np.float32),
    }


def error_code(call, *args, **kwargs) -> str:
    with pytest.raises(LandFuseError) as info:
        call(*args, **kwargs)
    return info.value.code


def test_onnx_runner_reports_the_provider_it_really_uses(tiny):
    card, _, path = tiny
    runner = OnnxRunner(path, device="auto")
    used = runner.session.get_providers()[0]
    assert runner.provider == f"onnxruntime:{used}"
    assert runner.device.startswith("cuda:0") == (used == "CUDAExecutionProvider")
    assert runner.card == card
    assert OnnxRunner(path, device="cpu").device == "cpu"
    out = runner.run(inputs(card))
    assert out["logits"].shape == (2, card.num_classes, 40, 40)


def test_torch_and_onnx_runners_agree(tiny):
    card, module, path = tiny
    onnx_out = OnnxRunner(path, "cpu").run(inputs(card))["logits"]
    torch_runner = TorchRunner(module, card, "cpu")
    assert torch_runner.device == "cpu" and torch_runner.provider == "torch"
    np.testing.assert_allclose(torch_runner.run(inputs(card))["logits"], onnx_out, atol=1e-4)


def test_cuda_request_falls_back_to_cpu_and_says_so(tiny):
    card, module, path = tiny
    torch = pytest.importorskip("torch")
    runner = TorchRunner(module, card, "cuda")
    if torch.cuda.is_available():
        assert runner.device.startswith("cuda:0 (")
    else:
        assert runner.device == "cpu" and "CUDA" in runner.note


def test_model_names_resolve_in_a_models_folder(tiny, tmp_path):
    _, _, path = tiny
    shutil.copy(path, tmp_path / "tiny-test.onnx")
    runner = load_runner("tiny-test", device="cpu", models_dir=tmp_path)
    assert runner.card.name == "tiny-test"
    with pytest.raises(LandFuseError, match="tiny-test") as info:
        load_runner("no-such-model", models_dir=tmp_path)
    assert info.value.code == "MODEL_NOT_FOUND"
    assert error_code(load_runner, tmp_path / "missing.onnx") == "MODEL_NOT_FOUND"


def test_onnx_without_card_or_with_wrong_band_count(tiny, tmp_path):
    card, module, _ = tiny
    bare = export_onnx(module, card, tmp_path / "bare.onnx", card_json="")
    assert error_code(OnnxRunner, bare) == "CARD_MISMATCH"
    lying = export_onnx(module, card, tmp_path / "lying.onnx", card_json=tiny_card(optical=4).to_json())
    with pytest.raises(LandFuseError, match="3 optical bands, its card lists 4") as info:
        OnnxRunner(lying)
    assert info.value.code == "CARD_MISMATCH"


def test_checkpoint_is_built_through_the_registry(tmp_path):
    torch = pytest.importorskip("torch")
    from landfuse.backend.models.registry import build_model, default_card, list_models

    if ("cloudseg", "lite") not in list_models():
        pytest.skip("cloudseg-lite is not registered")
    card = default_card("cloudseg", "lite")
    module = build_model(card).eval()
    torch.save({"card": card.to_dict(), "state_dict": module.state_dict()}, tmp_path / "cloudseg.pt")
    runner = load_runner(tmp_path / "cloudseg.pt", device="cpu")
    assert runner.card == card and runner.device == "cpu"
    batch = {k: v[:1] for k, v in inputs(card, size=32).items()}
    out = runner.run(batch)
    with torch.inference_mode():
        direct = module(*(torch.from_numpy(batch[k]) for k in ("optical", "sar")))
    np.testing.assert_allclose(out["logits"], direct["logits"].numpy(), atol=1e-5)
    assert out["reconstruction"].shape == (1, len(card.optical_bands), 32, 32)


def test_checkpoint_errors(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"card": {**tiny_card().to_dict(), "architecture": "nonexistent"}, "state_dict": {}}, tmp_path / "x.pt")
    assert error_code(load_runner, tmp_path / "x.pt") == "MODEL_NOT_FOUND"
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert error_code(load_runner, tmp_path / "junk.pt") == "MISSING_WEIGHTS"
