"""ImageNet MiT weights (``train --init-encoder``): both file layouts, every model's MiT encoders, the widening rule."""

import json
import re

import numpy as np
import pytest
import torch
from torch import nn

from landfuse.backend.errors import BadParamsError, MissingWeightsError
from landfuse.backend.models.blocks.mit import MIT_CONFIGS, MiTEncoder
from landfuse.backend.models.pretrained import (
    init_encoders,
    mit_weights,
    read_mit_weights,
    widen_first_convolution,
)
from landfuse.backend.models.registry import build_model, default_card
from tests.backend.models.mit_layouts import (
    huggingface_layout,
    meta_tensors,
    random_tensors,
    segformer_layout,
    transformers5_names,
)
from tests.backend.models.official_fixture import PREFIX, entries

B4 = ((64, 128, 320, 512), (3, 8, 27, 3))
B2 = ((64, 128, 320, 512), (3, 4, 6, 3))
B0 = ((32, 64, 160, 256), (2, 2, 2, 2))
LAYOUTS = {
    "segformer": segformer_layout,
    "huggingface": huggingface_layout,
    "transformers5": lambda *config: transformers5_names(huggingface_layout(*config)),
}


def _meta_model(name: str):
    with torch.device("meta"):
        return build_model(default_card(name, "paper"))


def _encoder_entries(model: nn.Module, prefix: str) -> int:
    return sum(1 for key in model.state_dict() if key.startswith(prefix))


def test_segformer_layout_is_the_official_cloudseg_mit_b4_encoder():
    """CloudSeg's cross stream is smp's MiT-B4 with 3 input channels: the key list of mit_b4.pth without its head."""
    stream = f"{PREFIX}cross_modality_stream.encoder."
    official = {key.removeprefix(stream): shape for key, shape, _ in entries("teacher") if key.startswith(stream)}
    layout = segformer_layout(*B4)
    assert {k: v for k, v in layout.items() if not k.startswith("head.")} == official


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_cloudseg_stream_takes_mit_b4_in_both_layouts(layout):
    model = _meta_model("cloudseg")
    report = init_encoders(model, mit_weights(meta_tensors(LAYOUTS[layout](*B4)), "mit_b4"), "mit_b4")
    assert report.layout == ("segformer" if layout == "segformer" else "huggingface")
    by_name = {e.name: e for e in report.encoders}
    assert list(by_name) == ["optical_stream.encoder", "sar_stream.encoder", "cross_stream.encoder"]
    for name, encoder in by_name.items():
        assert encoder.loaded == _encoder_entries(model, name + ".") == 832 and not encoder.kept
    assert by_name["optical_stream.encoder"].widened == "first convolution widened from 3 to 4 bands"
    assert by_name["sar_stream.encoder"].widened == "first convolution widened from 3 to 2 bands"
    assert by_name["cross_stream.encoder"].widened == ""
    assert sorted(report.unused) == (
        ["head.bias", "head.weight"] if layout == "segformer" else ["classifier.bias", "classifier.weight"]
    )
    assert report.loaded_parameters == 3 * 60_842_688  # MiT-B4 with 4, 2 and 3 input bands: 6 bands = 2 x 3


def test_edc_takes_its_mit_stages_and_keeps_its_carrier_blocks():
    model = _meta_model("edc")
    report = init_encoders(model, mit_weights(meta_tensors(segformer_layout(*B4)), "mit_b4"), "mit_b4")
    optical = next(e for e in report.encoders if e.name == "optical_encoder")
    stage3 = [k for k in model.state_dict() if k.startswith("optical_encoder.stages.2.")]
    carrier = [
        k
        for k in stage3
        if not k.startswith(("optical_encoder.stages.2.patch_embed.", "optical_encoder.stages.2.norm."))
    ]
    assert optical.loaded == _encoder_entries(model, "optical_encoder.") - len(carrier)
    assert len(optical.kept) == len(carrier) and all(k.endswith("(carrier-token block)") for k in optical.kept)
    cross = next(e for e in report.encoders if e.name == "cross_encoder")
    assert cross.loaded == _encoder_entries(model, "cross_encoder.") - len(carrier)  # no stage 1 to load
    assert "block1.2.attn.q.weight" in report.unused  # EDC has 2 stage-1 blocks, MiT-B4 has 3


def test_claire_takes_mit_b2_in_both_encoders():
    report = init_encoders(_meta_model("claire"), mit_weights(meta_tensors(huggingface_layout(*B2)), "b2"), "b2")
    assert [(e.name, e.loaded, e.widened) for e in report.encoders] == [
        ("optical_encoder", 332, "first convolution widened from 3 to 9 bands"),
        ("sar_encoder", 332, "first convolution widened from 3 to 2 bands"),
    ]


def test_specsar_former_takes_mit_b2_in_its_multispectral_branch_only():
    report = init_encoders(_meta_model("specsar_former"), mit_weights(meta_tensors(segformer_layout(*B2)), "b2"), "b2")
    optical, sar = report.encoders
    assert sar.skipped == "stage widths (32, 64, 160, 256) differ from the file's (64, 128, 320, 512)"
    assert (
        optical.loaded > 0
        and "stages.0.blocks.0.attn.sr.weight (file [64, 64, 8, 8], model [64, 64, 2, 2])" in optical.kept
    )
    assert "stages.0.blocks.3.norm1.weight (not in the file)" in optical.kept  # 4 stage-1 blocks, MiT-B2 has 3
    assert any("differ from the file's" in line for line in report.lines())


def test_a_model_without_a_fitting_encoder_is_a_clear_error():
    with torch.device("meta"):
        lite = build_model(default_card("claire", "lite"))
    with pytest.raises(BadParamsError, match="no encoder of the model takes the MiT weights in mit_b4.pth"):
        init_encoders(lite, mit_weights(meta_tensors(segformer_layout(*B4)), "mit_b4.pth"), "mit_b4.pth")


def test_a_file_of_another_network_is_a_clear_error():
    with pytest.raises(MissingWeightsError, match="is not a MiT .SegFormer. encoder: expected keys like"):
        mit_weights({"conv1.weight": torch.zeros(1)}, "resnet50.pth")


def test_official_widening_rule():
    weight = torch.arange(2 * 3 * 1 * 1, dtype=torch.float32).reshape(2, 3, 1, 1)
    four = widen_first_convolution(weight, 4)
    torch.testing.assert_close(four[:, :, 0, 0], torch.stack([weight[:, i % 3, 0, 0] * 0.75 for i in range(4)], 1))
    torch.testing.assert_close(widen_first_convolution(weight, 2), weight[:, :2] * 1.5)
    torch.testing.assert_close(widen_first_convolution(weight, 1), weight.sum(1, keepdim=True))


class _OneEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = MiTEncoder(4, MIT_CONFIGS["b0"])


_HUB_TO_SEGFORMER = (  # written from the two naming schemes, independently of backend.models.pretrained
    (r"^patch_embeddings\.(\d)\.layer_norm\.", "patch_embed{}.norm."),
    (r"^patch_embeddings\.(\d)\.", "patch_embed{}."),
    (r"^block\.(\d)\.", "block{}."),
    (r"^layer_norm\.(\d)\.", "norm{}."),
)
_HUB_BLOCK_PARTS = {
    "layer_norm_1": "norm1",
    "layer_norm_2": "norm2",
    "attention.self.query": "attn.q",
    "attention.self.sr": "attn.sr",
    "attention.self.layer_norm": "attn.norm",
    "attention.output.dense": "attn.proj",
    "mlp.dense1": "mlp.fc1",
    "mlp.dense2": "mlp.fc2",
}


def _segformer_from_hub(hub: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A hub file re-expressed in SegFormer names: stages 0..3 -> 1..4, key and value stacked into kv."""
    out, key_value = {}, {}
    for key, value in hub.items():
        name = key.removeprefix("segformer.encoder.")
        for pattern, template in _HUB_TO_SEGFORMER:
            match = re.match(pattern, name)
            if match:
                name = template.format(int(match[1]) + 1) + name[match.end() :]
                break
        for hub_part, segformer_part in _HUB_BLOCK_PARTS.items():
            name = name.replace(f".{hub_part}.", f".{segformer_part}.")
        kv = re.match(r"^(block\d\.\d+)\.attention\.self\.(key|value)\.(weight|bias)$", name)
        if kv:
            key_value.setdefault((kv[1], kv[3]), {})[kv[2]] = value
        else:
            out[name] = value
    for (block, kind), parts in key_value.items():
        out[f"{block}.attn.kv.{kind}"] = torch.cat([parts["key"], parts["value"]])
    return out


def test_huggingface_weights_land_where_the_segformer_names_put_them():
    """The same random B0 weights in both layouts (key and value stacked into kv) give identical encoders."""
    hub = random_tensors(huggingface_layout(*B0))
    segformer = _segformer_from_hub(hub)
    expected = set(segformer_layout(*B0)) - {"head.weight", "head.bias"}
    assert set(segformer) - {"classifier.weight", "classifier.bias"} == expected
    from_hub, from_segformer = _OneEncoder(), _OneEncoder()
    init_encoders(from_hub, mit_weights(hub, "hub"), "hub")
    init_encoders(from_segformer, mit_weights(segformer, "sf"), "sf")
    for (name, a), b in zip(from_hub.state_dict().items(), from_segformer.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    kv = from_hub.encoder.stages[1].blocks[0].attn.kv.weight
    assert torch.equal(kv[:64], hub["segformer.encoder.block.1.0.attention.self.key.weight"])
    assert torch.equal(kv[64:], hub["segformer.encoder.block.1.0.attention.self.value.weight"])
    first = hub["segformer.encoder.patch_embeddings.0.proj.weight"]
    torch.testing.assert_close(from_hub.encoder.stages[0].patch_embed.proj.weight[:, 3], first[:, 0] * 0.75)


def _write_safetensors(path, tensors: dict[str, torch.Tensor]) -> None:
    """The safetensors format: 8-byte little-endian header size, JSON header, then the raw data."""
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        data = tensor.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def test_safetensors_and_torch_files_are_read_in_either_layout(tmp_path):
    tensors = random_tensors(huggingface_layout(*B0), seed=3)
    _write_safetensors(tmp_path / "model.safetensors", tensors)
    original_file = {f"backbone.{k}": v for k, v in random_tensors(segformer_layout(*B0)).items()}
    torch.save({"state_dict": original_file}, tmp_path / "mit_b0.pth")
    hub = read_mit_weights(tmp_path / "model.safetensors")
    original = read_mit_weights(tmp_path / "mit_b0.pth")
    assert (hub.layout, original.layout) == ("huggingface", "segformer")
    assert set(hub.tensors) == set(original.tensors) and hub.widths == original.widths == B0[0]
    norm = hub.tensors["stages.3.norm.weight"]
    assert np.array_equal(norm.numpy(), tensors["segformer.encoder.layer_norm.3.weight"].numpy())
    with pytest.raises(MissingWeightsError, match="does not exist"):
        read_mit_weights(tmp_path / "missing.pth")
