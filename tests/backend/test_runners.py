"""ONNX Runtime and torch runners: device actually used, card checks, model name resolution, cards read
without loading the weights."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from landfuse.backend.errors import LandFuseError
from landfuse.backend.runners import (
    BUNDLED_MODELS,
    OnnxRunner,
    TorchRunner,
    load_runner,
    read_model_card,
    read_onnx_metadata,
)
from landfuse.common.card import ONNX_METADATA_KEY, ModelCard
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


# --- model cards read without loading the weights ---------------------------------------------

BUNDLED_ONNX = sorted(BUNDLED_MODELS.glob("*.onnx"))


@pytest.mark.parametrize("path", BUNDLED_ONNX, ids=lambda path: path.name)
def test_onnx_metadata_streamed_equals_onnx_load(path):
    import onnx

    expected = {prop.key: prop.value for prop in onnx.load(str(path), load_external_data=False).metadata_props}
    assert ONNX_METADATA_KEY in expected
    assert read_onnx_metadata(path) == expected
    assert read_model_card(path) == ModelCard.from_json(expected[ONNX_METADATA_KEY])


def padded_onnx(source: Path, path: Path, padding: int) -> Path:
    """``source`` with a second ``graph`` field (protobuf merges it into the first) holding one float
    initializer of ``padding`` zero bytes, written *before* the model's fields so a reader must skip it.
    The zeros are a hole in a sparse file: a GB-sized model costs no disk and no time to write."""

    def varint(value: int) -> bytes:
        out = bytearray()
        while value >= 0x80:
            out.append(value & 0x7F | 0x80)
            value >>= 7
        return bytes(out + bytes([value]))

    def field(number: int, payload_length: int) -> bytes:  # tag and length of a length-delimited field
        return varint(number << 3 | 2) + varint(payload_length)

    name = b"landfuse_padding"
    # TensorProto: dims (1) = padding / 4, data_type (2) = FLOAT, name (8), raw_data (9)
    tensor_head = varint(1 << 3) + varint(padding // 4) + varint(2 << 3) + varint(1) + field(8, len(name)) + name
    tensor_head += field(9, padding)
    graph_head = field(5, len(tensor_head) + padding) + tensor_head  # GraphProto.initializer = 5
    model_head = field(7, len(graph_head) + padding) + graph_head
    with open(path, "wb") as file:
        file.write(model_head)
        file.seek(padding, os.SEEK_CUR)
        file.write(source.read_bytes())
    return path


def test_padded_model_is_valid_onnx_and_its_metadata_is_read(tiny, tmp_path):
    import onnx

    card, _, path = tiny
    padded = padded_onnx(path, tmp_path / "padded.onnx", 4096)
    loaded = onnx.load(str(padded))
    padding = [t for t in loaded.graph.initializer if t.name == "landfuse_padding"]
    assert len(padding) == 1 and len(padding[0].raw_data) == 4096 and list(padding[0].dims) == [1024]
    assert read_onnx_metadata(padded) == {prop.key: prop.value for prop in loaded.metadata_props}
    assert read_model_card(padded) == card


MEASURE_CARD_READ = """
import json, sys
from landfuse.backend.runners import read_model_card


def kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


read_model_card(sys.argv[1])  # imports and first use
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak resident size starts again from the current one
before = kib("VmRSS")
card = read_model_card(sys.argv[2])
print(json.dumps({"name": card.name, "growth_kib": kib("VmHWM") - before}))
"""
LINUX_PROC = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="measures peak memory with Linux's /proc"
)


def peak_growth_reading(warm_up: Path, path: Path) -> dict:
    """Peak resident memory growth (KiB) of a fresh process reading ``path``'s card, after ``warm_up``'s."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE_CARD_READ, str(warm_up), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@LINUX_PROC
def test_card_of_a_large_onnx_model_is_read_without_loading_it(tiny, tmp_path):
    card, _, path = tiny
    size = 2**30
    padded = padded_onnx(path, tmp_path / "large.onnx", size)
    assert padded.stat().st_size > size
    measured = peak_growth_reading(path, padded)
    assert measured["name"] == card.name
    assert measured["growth_kib"] * 1024 < size / 100, measured  # under 10 MB for a 1 GB model


def proc_status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


@LINUX_PROC
def test_card_of_a_large_checkpoint_is_read_without_loading_its_weights(tmp_path):
    torch = pytest.importorskip("torch")
    card = tiny_card()
    small, large = tmp_path / "small.pt", tmp_path / "large.pt"
    torch.save({"card": card.to_dict(), "state_dict": {}}, small)
    weights = torch.zeros(32 * 2**20)  # 128 MB of float32
    torch.save({"card": card.to_dict(), "state_dict": {"weight": weights}}, large)
    del weights
    assert read_model_card(small) == card  # torch is imported in this process already: measure here
    Path("/proc/self/clear_refs").write_text("5")  # the peak resident size starts again from the current one
    before = proc_status_kib("VmRSS")
    assert read_model_card(large) == card
    growth = proc_status_kib("VmHWM") - before
    assert growth * 1024 < large.stat().st_size / 10, growth


@pytest.mark.parametrize(
    ("name", "content", "code", "words"),
    [
        ("empty.onnx", b"", "UNREADABLE", "found an empty file"),
        ("garbage.onnx", bytes(range(256)) * 8, "UNREADABLE", "not a readable ONNX model"),
        ("text.onnx", b"this is not a model\n", "UNREADABLE", "not a readable ONNX model"),
        ("empty.pt", b"", "UNREADABLE", "found an empty file"),
        ("garbage.pt", b"PK\x03\x04 not really a zip", "UNREADABLE", "not a readable torch checkpoint"),
    ],
)
def test_files_that_are_not_models_are_unreadable(tmp_path, name, content, code, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LandFuseError) as info:
        read_model_card(path)
    assert info.value.code == code and name in str(info.value) and words in str(info.value)


def test_truncated_onnx_and_models_without_cards(tiny, tmp_path):
    torch = pytest.importorskip("torch")
    card, module, path = tiny
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(LandFuseError, match="runs past the end of the file") as info:
        read_model_card(truncated)
    assert info.value.code == "UNREADABLE"
    bare = export_onnx(module, card, tmp_path / "bare.onnx", card_json="")
    assert read_onnx_metadata(bare) == {ONNX_METADATA_KEY: ""}
    assert error_code(read_model_card, bare) == "CARD_MISMATCH"
    torch.save({"weights": torch.zeros(3)}, tmp_path / "weights-only.pt")
    with pytest.raises(LandFuseError, match="weights-only.pt holds no LandFuse model card") as info:
        read_model_card(tmp_path / "weights-only.pt")
    assert info.value.code == "CARD_MISMATCH"
